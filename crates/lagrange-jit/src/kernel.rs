//! Loop kernels: one compiled loop for a whole class of local terms that differ only in their
//! coordinates and constants (the 1023 springs of a chain, the 2016 pairs of N-body 64).
//!
//! Straight-line code for such a Lagrangian repeats the same few instructions once per term:
//! 46 000 operations for N-body 64, far more than the instruction cache holds, so it runs at
//! the speed of instruction fetch. A kernel is the derivative code of *one* term, run in a loop
//! over a table; its code size does not grow with the number of terms.
//!
//! The kernel's graph has the inputs `[t, q_local (m), q̇_local (m), parameters (P)]`. Each row
//! of the index table holds the `m` global coordinate indices of one term, then one column per
//! output that goes to M: the kernel gathers `q` and `q̇` at the indices, reads the row's
//! parameters, computes the outputs and *adds* each to `force[coordinate index]` or to
//! `mass[column]`. With two lanes it runs two rows per iteration in `f64x2` vectors (two terms
//! per division or square root: these are what bound a pair potential's throughput), and the
//! odd last row alone; it still adds to the outputs one row after the other, so rows that share
//! coordinates are summed correctly.
//!
//! Set `LAGRANGE_JIT_DISASM=1` to print each kernel's Cranelift IR and machine code to stderr.

use std::collections::HashMap;

use cranelift_codegen::Context;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    AbiParam, BlockArg, InstBuilder, MemFlagsData, Signature, Type, UserFuncName, Value, types,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::JITModule;
use cranelift_module::{Linkage, Module};

use crate::codegen::{
    CodegenError, Imports, JitMemory, codegen_error, define, emit_operation, jit_builder, schedule,
    stores_by_node,
};
use crate::graph::{Graph, Id, Op};

/// `kernel(t, q, q̇, rows, parameters, force, mass, row_count)`.
type KernelFn = unsafe extern "C" fn(
    *const f64,
    *const f64,
    *const f64,
    *const u32,
    *const f64,
    *mut f64,
    *mut f64,
    usize,
);

/// Where a kernel output is added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `force[index of local coordinate i]`: the row's own coordinate index, no table column.
    Force(usize),
    /// `mass[row's next table column]`: the columns after the `m` coordinates, in output order.
    Mass,
}

/// A compiled loop over the rows of a term table (see the module documentation).
pub struct TermKernel {
    /// Owns the executable memory `func` points into.
    _module: JitMemory,
    func: KernelFn,
    m: usize,
    num_params: usize,
    mass_columns: usize,
    lanes: usize,
}

impl std::fmt::Debug for TermKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TermKernel")
            .field("m", &self.m)
            .field("num_params", &self.num_params)
            .field("mass_columns", &self.mass_columns)
            .field("lanes", &self.lanes)
            .finish_non_exhaustive()
    }
}

impl TermKernel {
    /// Compiles the loop for `graph` (inputs `t`, `m` coordinates, `m` velocities,
    /// `num_params` parameters) and its `outputs`. With `lanes == 2` it runs two rows per
    /// iteration in `f64x2` vectors, and a last odd row alone. Nodes below `defer_below` are
    /// computed where first needed (see [`schedule`]).
    ///
    /// # Panics
    ///
    /// If the graph's input count is not `1 + 2m + num_params`, an output is not a node, a
    /// [`Target::Force`] names no local coordinate, or `lanes` is not 1 or 2.
    pub fn compile(
        graph: &Graph,
        m: usize,
        num_params: usize,
        outputs: &[(Id, Target)],
        defer_below: Id,
        lanes: usize,
    ) -> Result<Self, CodegenError> {
        assert_eq!(graph.num_inputs(), 1 + 2 * m + num_params, "kernel inputs");
        assert!(lanes == 1 || lanes == 2, "1 or 2 lanes");
        let mut mass_columns = 0;
        let mut targets = Vec::with_capacity(outputs.len());
        for &(o, target) in outputs {
            assert!((o as usize) < graph.len(), "output {o} is not a node");
            targets.push(match target {
                Target::Force(i) => {
                    assert!(i < m, "force target {i} is not a local coordinate");
                    Place::Force(i)
                }
                Target::Mass => {
                    mass_columns += 1;
                    Place::Mass(m + mass_columns - 1)
                }
            });
        }
        let mut module = JITModule::new(jit_builder()?);
        let ptr = module.target_config().pointer_type();
        let call_conv = module.isa().default_call_conv();
        let mut sig = Signature::new(call_conv);
        for _ in 0..8 {
            sig.params.push(AbiParam::new(ptr));
        }
        let func_id = module
            .declare_function("lagrange_jit_term_kernel", Linkage::Local, &sig)
            .map_err(codegen_error)?;
        let mut ctx = Context::new();
        ctx.func.signature = sig;
        ctx.func.name = UserFuncName::user(0, func_id.as_u32());
        let mut fctx = FunctionBuilderContext::new();
        let ids: Vec<Id> = outputs.iter().map(|&(o, _)| o).collect();
        let emitter = Emitter {
            graph,
            m,
            num_params,
            row_len: m + mass_columns,
            outputs: &ids,
            targets: &targets,
            order: schedule(graph, &ids, defer_below),
            ptr,
        };
        emitter.emit(&mut module, &mut ctx, &mut fctx, lanes)?;
        define(&mut module, func_id, &mut ctx)?;
        module.finalize_definitions().map_err(codegen_error)?;
        let code = module.get_finalized_function(func_id);
        // SAFETY: `code` is the entry of the function just compiled with the host's C calling
        // convention and eight pointer-sized arguments, no result: `KernelFn`.
        let func = unsafe { std::mem::transmute::<*const u8, KernelFn>(code) };
        Ok(Self {
            _module: JitMemory::new(module),
            func,
            m,
            num_params,
            mass_columns,
            lanes,
        })
    }

    /// `u32`s per row of the index table: `m` coordinate indices, then one column per
    /// [`Target::Mass`] output.
    pub fn row_len(&self) -> usize {
        self.m + self.mass_columns
    }

    /// Runs the loop over every row of `rows`, adding each row's outputs into `force` and
    /// `mass`.
    ///
    /// # Safety
    ///
    /// `rows.len()` must be a multiple of `row_len()`, `params` must hold `num_params()`
    /// values per row, every coordinate index must be below the lengths of `q`, `q_dot` and
    /// `force`, and every mass column below the length of `mass`.
    #[allow(clippy::too_many_arguments)] // the machine code's arguments, one by one
    #[inline]
    pub(crate) unsafe fn run(
        &self,
        t: &f64,
        q: &[f64],
        q_dot: &[f64],
        rows: &[u32],
        params: &[f64],
        force: &mut [f64],
        mass: &mut [f64],
    ) {
        // SAFETY: the caller guarantees that every index the table holds is in bounds; the
        // code writes only `force` and `mass` at the table's indices, and `&mut` excludes any
        // other writer.
        unsafe {
            self.run_raw(
                t,
                q,
                q_dot,
                rows,
                params,
                force.as_mut_ptr(),
                mass.as_mut_ptr(),
            )
        }
    }
}

impl TermKernel {
    /// Coordinates per row.
    pub(crate) fn coordinates(&self) -> usize {
        self.m
    }

    /// Parameters per row.
    pub(crate) fn params_per_row(&self) -> usize {
        self.num_params
    }

    /// [`run`](Self::run) with the outputs as raw pointers, so that threads can run disjoint
    /// parts of one table into the same `force` and `mass`.
    ///
    /// # Safety
    /// As for `run`: every index in `rows` is in bounds of `q`, `q_dot`, `force` and `mass`,
    /// and no other thread writes the entries these rows add to while this runs.
    #[allow(clippy::too_many_arguments)]
    pub(crate) unsafe fn run_raw(
        &self,
        t: &f64,
        q: &[f64],
        q_dot: &[f64],
        rows: &[u32],
        params: &[f64],
        force: *mut f64,
        mass: *mut f64,
    ) {
        let count = rows.len() / self.row_len().max(1);
        debug_assert!(params.len() >= count * self.num_params);
        // SAFETY: see the function's contract.
        unsafe {
            (self.func)(
                t,
                q.as_ptr(),
                q_dot.as_ptr(),
                rows.as_ptr(),
                params.as_ptr(),
                force,
                mass,
                count,
            )
        }
    }
}

/// Where output k goes: `force[row[i]]`, or `mass[row[column]]`.
#[derive(Clone, Copy)]
enum Place {
    Force(usize),
    Mass(usize),
}

/// What the emission of one kernel reads.
struct Emitter<'a> {
    graph: &'a Graph,
    m: usize,
    num_params: usize,
    row_len: usize,
    outputs: &'a [Id],
    targets: &'a [Place],
    order: Vec<Id>,
    ptr: Type,
}

/// The function's pointer arguments.
#[derive(Clone, Copy)]
struct Pointers {
    q: Value,
    q_dot: Value,
    force: Value,
    mass: Value,
}

/// The values of one loop body (`lanes` rows).
struct Body {
    lanes: usize,
    /// t, as a scalar or splat to both lanes.
    t: Option<Value>,
    p: Pointers,
    row: Value,
    params: Value,
    /// Address offset `8 * index` of local coordinate `i` in lane `l`, loaded on first use.
    offsets: HashMap<(usize, usize), Value>,
    values: HashMap<Id, Value>,
}

impl Body {
    /// One lane of a vector (or the scalar itself).
    fn lane(&self, b: &mut FunctionBuilder, v: Value, l: usize) -> Value {
        if self.lanes == 1 {
            v
        } else {
            b.ins().extractlane(v, l as u8)
        }
    }

    /// A constant in every lane.
    fn constant(&self, b: &mut FunctionBuilder, c: f64) -> Value {
        let c = b.ins().f64const(c);
        if self.lanes == 1 {
            c
        } else {
            b.ins().splat(types::F64X2, c)
        }
    }

    /// `8 * row[l][column]` as an address offset, loaded once per body.
    fn offset(
        &mut self,
        b: &mut FunctionBuilder,
        row_len: usize,
        column: usize,
        l: usize,
    ) -> Value {
        if let Some(&o) = self.offsets.get(&(column, l)) {
            return o;
        }
        let index = b.ins().uload32(
            MemFlagsData::trusted(),
            self.row,
            (4 * (l * row_len + column)) as i32,
        );
        let o = b.ins().ishl_imm_u(index, 3);
        self.offsets.insert((column, l), o);
        o
    }
}

impl Emitter<'_> {
    /// The value of node `a` in this body.
    fn operand(&self, b: &mut FunctionBuilder, body: &mut Body, a: Id) -> Value {
        if let Some(&v) = body.values.get(&a) {
            return v;
        }
        let mem = MemFlagsData::trusted();
        let v = match self.graph.op(a) {
            Op::Const(bits) => body.constant(b, f64::from_bits(bits)),
            Op::Input(0) => body.t.expect("t is loaded when the graph uses it"),
            Op::Input(i) => {
                let i = i as usize - 1;
                // each lane's load right before it goes into the vector, so that the code
                // generator can fold the loads into the lane moves
                let mut vector = None;
                for l in 0..body.lanes {
                    let x = if i < 2 * self.m {
                        let (base, local) = if i < self.m {
                            (body.p.q, i)
                        } else {
                            (body.p.q_dot, i - self.m)
                        };
                        let o = body.offset(b, self.row_len, local, l);
                        let address = b.ins().iadd(base, o);
                        b.ins().load(types::F64, mem, address, 0)
                    } else {
                        let p = i - 2 * self.m;
                        let at = 8 * (l * self.num_params + p);
                        b.ins().load(types::F64, mem, body.params, at as i32)
                    };
                    vector = Some(match (body.lanes, vector) {
                        (1, _) => x,
                        // a splat is one instruction (movddup), scalar_to_vector two
                        (_, None) => b.ins().splat(types::F64X2, x),
                        (_, Some(v)) => b.ins().insertlane(v, x, l as u8),
                    });
                }
                vector.expect("one lane at least")
            }
            op => unreachable!("{op:?} is computed, not an operand leaf"),
        };
        body.values.insert(a, v);
        v
    }

    /// Emits the computation of `body.lanes` rows into the current block.
    fn emit_body(
        &self,
        module: &mut JITModule,
        b: &mut FunctionBuilder,
        imports: &mut Imports,
        body: &mut Body,
    ) -> Result<(), CodegenError> {
        let mem = MemFlagsData::trusted();
        let stores = stores_by_node(self.outputs);
        for &id in &self.order {
            let op = self.graph.op(id);
            let v = match op {
                Op::Const(_) | Op::Input(_) => self.operand(b, body, id),
                _ => {
                    let x = |b: &mut FunctionBuilder, a: Id| self.operand(b, body, a);
                    emit_operation(module, b, imports, op, x)?
                }
            };
            body.values.insert(id, v);
            // add each output to its place as soon as it is computed, row (lane) by row
            let first = stores.partition_point(|&(o, _)| o < id);
            for &(_, k) in stores[first..].iter().take_while(|&&(o, _)| o == id) {
                for l in 0..body.lanes {
                    let x = body.lane(b, v, l);
                    let (base, column) = match self.targets[k] {
                        Place::Force(i) => (body.p.force, i),
                        Place::Mass(c) => (body.p.mass, c),
                    };
                    let offset = body.offset(b, self.row_len, column, l);
                    let address = b.ins().iadd(base, offset);
                    let old = b.ins().load(types::F64, mem, address, 0);
                    let new = b.ins().fadd(old, x);
                    b.ins().store(mem, new, address, 0);
                }
            }
        }
        Ok(())
    }

    /// The function: a loop of `lanes` rows per iteration, then (two lanes) the odd last row.
    fn emit(
        &self,
        module: &mut JITModule,
        ctx: &mut Context,
        fctx: &mut FunctionBuilderContext,
        lanes: usize,
    ) -> Result<(), CodegenError> {
        let call_conv = module.isa().default_call_conv();
        let mut b = FunctionBuilder::new(&mut ctx.func, fctx);
        let entry = b.create_block();
        let main = b.create_block();
        let after = b.create_block();
        let tail = b.create_block();
        let exit = b.create_block();
        b.append_block_params_for_function_params(entry);
        for block in [main, after, tail] {
            for _ in 0..3 {
                b.append_block_param(block, self.ptr);
            }
        }
        b.switch_to_block(entry);
        let a = b.block_params(entry).to_vec();
        let (t_ptr, rows, params, count) = (a[0], a[3], a[4], a[7]);
        let p = Pointers {
            q: a[1],
            q_dot: a[2],
            force: a[5],
            mass: a[6],
        };
        let mem = MemFlagsData::trusted();
        let uses_t = self.graph.live(self.outputs)[0];
        let t = uses_t.then(|| b.ins().load(types::F64, mem, t_ptr, 0));
        let t_splat = t.map(|t| b.ins().splat(types::F64X2, t));
        let lanes = lanes as i64;
        let enough = b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, count, lanes);
        let args: [BlockArg; 3] = [rows.into(), params.into(), count.into()];
        b.ins().brif(enough, main, &args, after, &args);

        let mut imports = Imports::new(call_conv);
        let new_body = |lanes: usize, row: Value, params: Value| Body {
            lanes,
            t: if lanes == 1 { t } else { t_splat },
            p,
            row,
            params,
            offsets: HashMap::new(),
            values: HashMap::new(),
        };
        // the main loop
        b.switch_to_block(main);
        let a = b.block_params(main).to_vec();
        let mut body = new_body(lanes as usize, a[0], a[1]);
        self.emit_body(module, &mut b, &mut imports, &mut body)?;
        let next_row = b.ins().iadd_imm_s(a[0], 4 * self.row_len as i64 * lanes);
        let next_params = b.ins().iadd_imm_s(a[1], 8 * self.num_params as i64 * lanes);
        let left = b.ins().iadd_imm_s(a[2], -lanes);
        let more = b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, left, lanes);
        let args: [BlockArg; 3] = [next_row.into(), next_params.into(), left.into()];
        b.ins().brif(more, main, &args, after, &args);

        // fewer than `lanes` rows left: with two lanes, one
        b.switch_to_block(after);
        let a = b.block_params(after).to_vec();
        let args: [BlockArg; 3] = [a[0].into(), a[1].into(), a[2].into()];
        b.ins().brif(a[2], tail, &args, exit, &[]);
        b.switch_to_block(tail);
        let a = b.block_params(tail).to_vec();
        if lanes == 2 {
            let mut body = new_body(1, a[0], a[1]);
            self.emit_body(module, &mut b, &mut imports, &mut body)?;
        }
        b.ins().jump(exit, &[]);

        b.switch_to_block(exit);
        b.ins().return_(&[]);
        b.seal_all_blocks();
        b.finalize(module.target_config());
        Ok(())
    }
}
