//! Site kernels: the compiled loop of a lattice's interior, written the way a stencil is
//! written by hand.
//!
//! A term kernel ([`crate::kernel`]) runs over the *terms* and adds each term's force into the
//! coordinates it touches: every term gathers its coordinates through an index table, and
//! every coordinate's force is read, added to and written back once per term that touches it.
//! Where the terms sit on a lattice (term `s` touches the coordinates `s + d_j` with the same
//! offsets `d_j` for every `s`), the force of coordinate `s` is instead the sum over the
//! outputs `k` of output `k` of the term at `s − d_k`: [`crate::lattice`] builds that sum as
//! one graph of the coordinates at fixed offsets from `s`, and this module compiles it into a
//! loop over `s` that loads its neighbours at constant offsets (no table), computes two sites
//! per iteration in `f64x2` vectors, and *stores* each site's force once (no read-modify-write
//! of the output, no zero-fill before it).
//!
//! The sites where the lattice wraps around (a periodic lattice's seams) have the same force
//! graph with other neighbours: [`SiteKernel::compile_table`] compiles it into a loop over a
//! table of those sites, each row the site and where each of its inputs is read.
//!
//! The loop also returns the sum of every force it stored and of `q[s]` at each of its sites:
//! one finiteness test of that sum covers q and the results (a non-finite value makes the sum
//! non-finite; a finite sum that overflows only sends the caller to the exact check), which
//! saves the separate passes over memory that bound a large lattice. It does not read `q̇`
//! unless the force does: whether to check it is the caller's choice
//! ([`CompiledEquations::set_velocity_check`](crate::CompiledEquations::set_velocity_check)).

use std::collections::HashMap;

use cranelift_codegen::Context;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    AbiParam, Block, BlockArg, InstBuilder, MemFlagsData, Signature, Type, UserFuncName, Value,
    types,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::JITModule;
use cranelift_module::{Linkage, Module};

use crate::codegen::{
    CodegenError, Imports, JitMemory, codegen_error, define, emit_operation, jit_builder, schedule,
};
use crate::graph::{Fun, Graph, Id, Op};
use crate::vector_math;

/// Where a site graph's input is read, relative to the site `s` (offsets in elements).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Source {
    /// The time.
    Time,
    /// `q[s + offset]`.
    Q(isize),
    /// `q̇[s + offset]`.
    QDot(isize),
    /// `params[s + offset]` (the caller lays each per-term parameter out as one array over the
    /// anchors, so that a parameter of the term at `s − d_k` sits at a constant offset).
    Param(isize),
    /// `base[s]`, the state-independent part of the force.
    Base,
}

/// `kernel(t, q, q̇, params, base, force, start, count) -> check sum`.
type SiteFn = unsafe extern "C" fn(
    *const f64,
    *const f64,
    *const f64,
    *const f64,
    *const f64,
    *mut f64,
    usize,
    usize,
) -> f64;

/// Where a site kernel reads its inputs.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Loads<'a> {
    /// At constant offsets from the site: the kernel runs over a range of sites.
    Offsets,
    /// Through a table of rows of `width` `u32`: the site, then the element index of each
    /// input that has a column (`columns[i]` for input `i`) in `q`, `q̇` or, for a parameter,
    /// the `params` array of the call; `Q(0)`, `QDot(0)` and `Base` are read at the site
    /// itself. The kernel runs over a range of rows.
    Table {
        columns: &'a [Option<u32>],
        width: usize,
    },
}

/// A compiled loop over lattice sites (see the module documentation).
pub(crate) struct SiteKernel {
    /// Owns the executable memory `func` points into.
    _module: JitMemory,
    func: SiteFn,
}

impl std::fmt::Debug for SiteKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteKernel").finish_non_exhaustive()
    }
}

impl SiteKernel {
    /// Compiles the loop that stores `output` (a node of `graph`, whose input `i` is read from
    /// `sources[i]`) at every site of a range.
    ///
    /// # Panics
    /// If `sources` does not have one entry per graph input, or `output` is not a node.
    pub(crate) fn compile(
        graph: &Graph,
        output: Id,
        sources: &[Source],
        functions: Functions,
    ) -> Result<Self, CodegenError> {
        Self::compile_with(graph, output, sources, functions, Loads::Offsets)
    }

    /// The loop over the rows of a table (see [`Loads::Table`]) that stores `output` at each
    /// row's site.
    ///
    /// # Panics
    /// As [`SiteKernel::compile`], and if `columns` does not have one entry per input, one is
    /// not in `1 .. width`, or an input `output` reads other than the time, the base force,
    /// `Q(0)` and `QDot(0)` has none.
    pub(crate) fn compile_table(
        graph: &Graph,
        output: Id,
        sources: &[Source],
        functions: Functions,
        columns: &[Option<u32>],
        width: usize,
    ) -> Result<Self, CodegenError> {
        assert_eq!(columns.len(), sources.len(), "one column entry per input");
        assert!(
            columns
                .iter()
                .flatten()
                .all(|&c| (c as usize) < width && c > 0)
        );
        let live = graph.live(&[output]);
        assert!(
            sources
                .iter()
                .zip(columns)
                .zip(&live)
                .all(|((&s, c), &live)| !live
                    || c.is_some()
                    || matches!(
                        s,
                        Source::Time | Source::Base | Source::Q(0) | Source::QDot(0)
                    )),
            "every input away from the site that the output reads has a column"
        );
        Self::compile_with(
            graph,
            output,
            sources,
            functions,
            Loads::Table { columns, width },
        )
    }

    fn compile_with(
        graph: &Graph,
        output: Id,
        sources: &[Source],
        functions: Functions,
        loads: Loads<'_>,
    ) -> Result<Self, CodegenError> {
        assert_eq!(graph.num_inputs(), sources.len(), "one source per input");
        assert!(
            (output as usize) < graph.len(),
            "output {output} is not a node"
        );
        let mut module = JITModule::new(jit_builder()?);
        let ptr = module.target_config().pointer_type();
        let call_conv = module.isa().default_call_conv();
        let mut sig = Signature::new(call_conv);
        for _ in 0..8 {
            sig.params.push(AbiParam::new(ptr));
        }
        sig.returns.push(AbiParam::new(types::F64));
        let func_id = module
            .declare_function("lagrange_jit_site_kernel", Linkage::Local, &sig)
            .map_err(codegen_error)?;
        let mut ctx = Context::new();
        ctx.func.signature = sig;
        ctx.func.name = UserFuncName::user(0, func_id.as_u32());
        let mut fctx = FunctionBuilderContext::new();
        let emitter = Emitter {
            graph,
            output,
            sources,
            functions,
            order: schedule(graph, &[output], 0),
            ptr,
            loads,
        };
        match loads {
            Loads::Offsets => emitter.emit(&mut module, &mut ctx, &mut fctx)?,
            Loads::Table { width, .. } => {
                emitter.emit_table(&mut module, &mut ctx, &mut fctx, width)?;
            }
        }
        define(&mut module, func_id, &mut ctx)?;
        module.finalize_definitions().map_err(codegen_error)?;
        let code = module.get_finalized_function(func_id);
        // SAFETY: `code` is the entry of the function just compiled with the host's C calling
        // convention, eight pointer-sized arguments and an f64 result: `SiteFn`.
        let func = unsafe { std::mem::transmute::<*const u8, SiteFn>(code) };
        Ok(Self {
            _module: JitMemory::new(module),
            func,
        })
    }

    /// Stores the force of the sites `start .. start + count` into `force` and returns the
    /// check sum (see the module documentation).
    ///
    /// # Safety
    /// For every site `s` of the range and every source `Q(e)`, `QDot(e)` or `Param(e)` the
    /// graph reads, `s + e` is in bounds of `q`, `q_dot` or `params`; `s` is in bounds of `q`,
    /// `q_dot`, `force` and (where read) `base`; and no other thread accesses
    /// `force[start .. start + count]`.
    #[allow(clippy::too_many_arguments)] // the machine code's arguments, one by one
    pub(crate) unsafe fn run_raw(
        &self,
        t: &f64,
        q: *const f64,
        q_dot: *const f64,
        params: *const f64,
        base: *const f64,
        force: *mut f64,
        start: usize,
        count: usize,
    ) -> f64 {
        // SAFETY: see the function's contract.
        unsafe { (self.func)(t, q, q_dot, params, base, force, start, count) }
    }

    /// A table kernel's ([`SiteKernel::compile_table`]) [`SiteKernel::run_raw`]: stores the
    /// force of each row's site of `rows` (whole rows of the table's width) into `force` and
    /// returns the check sum.
    ///
    /// # Safety
    /// Every row's site is in bounds of `q`, `q_dot`, `force` and (where read) `base`, every
    /// column's index in bounds of the array it indexes (`params` for parameters); no other
    /// thread accesses the rows' sites of `force`; `rows.len()` is a multiple of the width.
    #[allow(clippy::too_many_arguments)] // the machine code's arguments, one by one
    pub(crate) unsafe fn run_table(
        &self,
        t: &f64,
        q: *const f64,
        q_dot: *const f64,
        params: *const f64,
        base: *const f64,
        force: *mut f64,
        rows: &[u32],
        width: usize,
    ) -> f64 {
        debug_assert!(rows.len().is_multiple_of(width));
        let table = rows.as_ptr() as usize;
        // SAFETY: the function's contract; a table kernel takes the table where a range
        // kernel takes its first site, and the rows where it takes the count
        unsafe { self.run_raw(t, q, q_dot, params, base, force, table, rows.len() / width) }
    }
}

/// How a site kernel computes `sin` and `cos`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Functions {
    /// Two lanes at once ([`vector_math`]); a lane out of its range is NaN (so is the check
    /// sum, and the caller runs the [`Functions::Library`] kernel instead).
    Vector,
    /// The library's, one lane at a time (exact for every argument, slower).
    Library,
}

/// Whether `output` needs `sin` or `cos` (then the [`Functions`] matter).
pub(crate) fn uses_sin_or_cos(graph: &Graph, output: Id) -> bool {
    let live = graph.live(&[output]);
    (0..graph.len())
        .any(|id| live[id] && matches!(graph.op(id as Id), Op::Fun(Fun::Sin | Fun::Cos, _)))
}

/// What the emission of one site kernel reads.
struct Emitter<'a> {
    graph: &'a Graph,
    output: Id,
    sources: &'a [Source],
    functions: Functions,
    order: Vec<Id>,
    ptr: Type,
    loads: Loads<'a>,
}

/// The function's pointer arguments and the time.
#[derive(Clone, Copy)]
struct Pointers {
    q: Value,
    q_dot: Value,
    params: Value,
    base: Value,
    force: Value,
}

/// One loop body: `lanes` consecutive sites at byte offset `offset + shift` (= 8 s) from each
/// array.
struct Body {
    lanes: usize,
    t: Option<Value>,
    p: Pointers,
    offset: Value,
    shift: i32,
    /// The table row of a [`Loads::Table`] kernel's site.
    row: Option<Value>,
    values: HashMap<Id, Value>,
}

/// Loads and stores of vectors may be unaligned (site `s` is any index); none traps (the
/// caller checked the bounds).
fn unaligned() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

impl Body {
    fn value_type(&self) -> Type {
        if self.lanes == 1 {
            types::F64
        } else {
            types::F64X2
        }
    }

    /// `array[s + element]` for this body's sites.
    fn load(&self, b: &mut FunctionBuilder, array: Value, element: isize) -> Value {
        let address = b.ins().iadd(array, self.offset);
        let bytes = 8 * element as i64 + i64::from(self.shift);
        match i32::try_from(bytes) {
            Ok(at) => b.ins().load(self.value_type(), unaligned(), address, at),
            Err(_) => {
                let address = b.ins().iadd_imm_s(address, bytes);
                b.ins().load(self.value_type(), unaligned(), address, 0)
            }
        }
    }
}

impl Emitter<'_> {
    fn operand(&self, b: &mut FunctionBuilder, body: &mut Body, a: Id) -> Value {
        if let Some(&v) = body.values.get(&a) {
            return v;
        }
        if let (Op::Input(i), Loads::Table { columns, .. }, Some(row)) =
            (self.graph.op(a), self.loads, body.row)
            && let Some(column) = columns[i as usize]
        {
            let array = match self.sources[i as usize] {
                Source::Q(_) => body.p.q,
                Source::QDot(_) => body.p.q_dot,
                Source::Param(_) => body.p.params,
                s => unreachable!("{s:?} is read at the site"),
            };
            let index = b
                .ins()
                .uload32(MemFlagsData::trusted(), row, 4 * column as i32);
            let bytes = b.ins().ishl_imm_u(index, 3);
            let address = b.ins().iadd(array, bytes);
            let v = b
                .ins()
                .load(types::F64, MemFlagsData::trusted(), address, 0);
            body.values.insert(a, v);
            return v;
        }
        let v = match self.graph.op(a) {
            Op::Const(bits) => {
                let c = b.ins().f64const(f64::from_bits(bits));
                if body.lanes == 1 {
                    c
                } else {
                    b.ins().splat(types::F64X2, c)
                }
            }
            Op::Input(i) => match self.sources[i as usize] {
                Source::Time => body.t.expect("t is loaded when the graph uses it"),
                Source::Q(e) => body.load(b, body.p.q, e),
                Source::QDot(e) => body.load(b, body.p.q_dot, e),
                Source::Param(e) => body.load(b, body.p.params, e),
                Source::Base => body.load(b, body.p.base, 0),
            },
            op => unreachable!("{op:?} is computed, not an operand leaf"),
        };
        body.values.insert(a, v);
        v
    }

    /// Emits one body: computes the site graph, stores the force at `force + 8 s` and returns
    /// the value to add to the check sum (force + q[s]).
    fn emit_body(
        &self,
        module: &mut JITModule,
        b: &mut FunctionBuilder,
        imports: &mut Imports,
        body: &mut Body,
    ) -> Result<Value, CodegenError> {
        for &id in &self.order {
            let op = self.graph.op(id);
            let v = match op {
                Op::Const(_) | Op::Input(_) => self.operand(b, body, id),
                // both lanes in one polynomial; the last odd site too (as lane 0 of a
                // splat), so that every site gets the same bits whichever body computes it
                Op::Fun(f @ (Fun::Sin | Fun::Cos), a) if self.functions == Functions::Vector => {
                    let x = self.operand(b, body, a);
                    let cos = f == Fun::Cos;
                    if body.lanes == 2 {
                        vector_math::sin_cos(module, b, None, x, cos)?
                    } else {
                        let v = b.ins().splat(types::F64X2, x);
                        let y = vector_math::sin_cos(module, b, None, v, cos)?;
                        b.ins().extractlane(y, 0)
                    }
                }
                _ => {
                    let x = |b: &mut FunctionBuilder, a: Id| self.operand(b, body, a);
                    emit_operation(module, b, imports, op, x)?
                }
            };
            body.values.insert(id, v);
        }
        let force = self.operand(b, body, self.output);
        let address = b.ins().iadd(body.p.force, body.offset);
        b.ins().store(unaligned(), force, address, body.shift);
        // q at the site, whether or not its force reads it (q̇ is the caller's to check: a
        // stream of its own, which a lattice's memory traffic cannot afford on every call)
        let q = self.own_q(b, body);
        Ok(b.ins().fadd(force, q))
    }

    /// `q[s]`: the value the graph loaded, or a new load.
    fn own_q(&self, b: &mut FunctionBuilder, body: &mut Body) -> Value {
        let input = self
            .sources
            .iter()
            .position(|&s| s == Source::Q(0))
            .map(|i| i as Id);
        match input.and_then(|i| body.values.get(&i)) {
            Some(&v) => v,
            None => body.load(b, body.p.q, 0),
        }
    }

    /// The entry block's arguments (the caller has switched to it): the array pointers, the
    /// last two arguments (first site and count, or table and rows) and the time, loaded where
    /// the output reads it.
    fn arguments(
        &self,
        b: &mut FunctionBuilder,
        entry: Block,
    ) -> (Pointers, Value, Value, Option<Value>) {
        let a = b.block_params(entry).to_vec();
        let p = Pointers {
            q: a[1],
            q_dot: a[2],
            params: a[3],
            base: a[4],
            force: a[5],
        };
        let live = self.graph.live(&[self.output]);
        let uses_t = self
            .sources
            .iter()
            .enumerate()
            .any(|(i, &s)| s == Source::Time && live[i]);
        let t = uses_t.then(|| b.ins().load(types::F64, MemFlagsData::trusted(), a[0], 0));
        (p, a[6], a[7], t)
    }

    /// The function: four sites per iteration (two vector bodies with their own check sums,
    /// so that the sum's addition is not one chain through the loop), then two, then the odd
    /// last site alone; returns the check sum.
    fn emit(
        &self,
        module: &mut JITModule,
        ctx: &mut Context,
        fctx: &mut FunctionBuilderContext,
    ) -> Result<(), CodegenError> {
        let call_conv = module.isa().default_call_conv();
        let mut b = FunctionBuilder::new(&mut ctx.func, fctx);
        let entry = b.create_block();
        let main = b.create_block();
        let middle = b.create_block();
        let pair = b.create_block();
        let after = b.create_block();
        let tail = b.create_block();
        let exit = b.create_block();
        b.append_block_params_for_function_params(entry);
        // (byte offset, sites left, vector check sums)
        for (block, sums) in [(main, 2), (middle, 2), (pair, 1), (after, 1)] {
            b.append_block_param(block, self.ptr);
            b.append_block_param(block, self.ptr);
            for _ in 0..sums {
                b.append_block_param(block, types::F64X2);
            }
        }
        b.append_block_param(tail, self.ptr);
        b.append_block_param(tail, types::F64);
        b.append_block_param(exit, types::F64);

        b.switch_to_block(entry);
        let (p, start, count, t) = self.arguments(&mut b, entry);
        let t_splat = t.map(|t| b.ins().splat(types::F64X2, t));
        let offset = b.ins().ishl_imm_u(start, 3);
        let zero = b.ins().f64const(0.0);
        let zeros = b.ins().splat(types::F64X2, zero);
        let enough = b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, count, 4);
        let args: [BlockArg; 4] = [offset.into(), count.into(), zeros.into(), zeros.into()];
        b.ins().brif(enough, main, &args, middle, &args);

        let mut imports = Imports::new(call_conv);
        let body = |lanes: usize, offset: Value, shift: i32| Body {
            lanes,
            t: if lanes == 1 { t } else { t_splat },
            p,
            offset,
            shift,
            row: None,
            values: HashMap::new(),
        };
        // four sites per iteration
        b.switch_to_block(main);
        let a = b.block_params(main).to_vec();
        let first = self.emit_body(module, &mut b, &mut imports, &mut body(2, a[0], 0))?;
        let second = self.emit_body(module, &mut b, &mut imports, &mut body(2, a[0], 16))?;
        let sum0 = b.ins().fadd(a[2], first);
        let sum1 = b.ins().fadd(a[3], second);
        let next = b.ins().iadd_imm_s(a[0], 32);
        let left = b.ins().iadd_imm_s(a[1], -4);
        let more = b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, left, 4);
        let args: [BlockArg; 4] = [next.into(), left.into(), sum0.into(), sum1.into()];
        b.ins().brif(more, main, &args, middle, &args);

        // fewer than four left: two more if there are
        b.switch_to_block(middle);
        let a = b.block_params(middle).to_vec();
        let sum = b.ins().fadd(a[2], a[3]);
        let two = b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, a[1], 2);
        let args: [BlockArg; 3] = [a[0].into(), a[1].into(), sum.into()];
        b.ins().brif(two, pair, &args, after, &args);
        b.switch_to_block(pair);
        let a = b.block_params(pair).to_vec();
        let check = self.emit_body(module, &mut b, &mut imports, &mut body(2, a[0], 0))?;
        let sum = b.ins().fadd(a[2], check);
        let next = b.ins().iadd_imm_s(a[0], 16);
        let left = b.ins().iadd_imm_s(a[1], -2);
        b.ins().jump(after, &[next.into(), left.into(), sum.into()]);

        // fewer than two left: the lanes' sums, then the last site if there is one
        b.switch_to_block(after);
        let a = b.block_params(after).to_vec();
        let (l0, l1) = (b.ins().extractlane(a[2], 0), b.ins().extractlane(a[2], 1));
        let sum = b.ins().fadd(l0, l1);
        b.ins()
            .brif(a[1], tail, &[a[0].into(), sum.into()], exit, &[sum.into()]);
        b.switch_to_block(tail);
        let a = b.block_params(tail).to_vec();
        let check = self.emit_body(module, &mut b, &mut imports, &mut body(1, a[0], 0))?;
        let sum = b.ins().fadd(a[1], check);
        b.ins().jump(exit, &[sum.into()]);

        return_from(b, exit, module);
        Ok(())
    }

    /// The function of a [`Loads::Table`] kernel: one site per row, one row after the other
    /// (the seams are few and scattered: no vectors); returns the check sum.
    fn emit_table(
        &self,
        module: &mut JITModule,
        ctx: &mut Context,
        fctx: &mut FunctionBuilderContext,
        width: usize,
    ) -> Result<(), CodegenError> {
        let call_conv = module.isa().default_call_conv();
        let mut b = FunctionBuilder::new(&mut ctx.func, fctx);
        let entry = b.create_block();
        let row_block = b.create_block();
        let exit = b.create_block();
        b.append_block_params_for_function_params(entry);
        // (row pointer, rows left, check sum)
        b.append_block_param(row_block, self.ptr);
        b.append_block_param(row_block, self.ptr);
        b.append_block_param(row_block, types::F64);
        b.append_block_param(exit, types::F64);

        b.switch_to_block(entry);
        let (p, table, count, t) = self.arguments(&mut b, entry);
        let zero = b.ins().f64const(0.0);
        b.ins().brif(
            count,
            row_block,
            &[table.into(), count.into(), zero.into()],
            exit,
            &[zero.into()],
        );

        let mut imports = Imports::new(call_conv);
        b.switch_to_block(row_block);
        let a = b.block_params(row_block).to_vec();
        let site = b.ins().uload32(MemFlagsData::trusted(), a[0], 0);
        let offset = b.ins().ishl_imm_u(site, 3);
        let mut body = Body {
            lanes: 1,
            t,
            p,
            offset,
            shift: 0,
            row: Some(a[0]),
            values: HashMap::new(),
        };
        let check = self.emit_body(module, &mut b, &mut imports, &mut body)?;
        let sum = b.ins().fadd(a[2], check);
        let next = b.ins().iadd_imm_s(a[0], 4 * width as i64);
        let left = b.ins().iadd_imm_s(a[1], -1);
        b.ins().brif(
            left,
            row_block,
            &[next.into(), left.into(), sum.into()],
            exit,
            &[sum.into()],
        );

        return_from(b, exit, module);
        Ok(())
    }
}

/// The exit block (whose one parameter is the check sum) returns it; the function is done.
fn return_from(mut b: FunctionBuilder, exit: Block, module: &JITModule) {
    b.switch_to_block(exit);
    let sum = b.block_params(exit)[0];
    b.ins().return_(&[sum]);
    b.seal_all_blocks();
    b.finalize(module.target_config());
}
