//! Cranelift code generation: an expression [`Graph`] compiled to a native, straight-line
//! function `outputs = F(inputs)`.
//!
//! The generated function has the C signature
//! `double f(const double *in0, const double *in1, const double *in2, double *out0, double *out1)`:
//! a [`Layout`] places each input slot and each output in one of those arrays (the plain
//! [`CompiledFunction::compile`] uses `in0` and `out0` only), and the result is an optional check
//! sum of everything read and written.
//! Its body is one basic block: the live nodes in id (= topological) order, one SSA value per
//! node, each output stored as soon as its node is computed. Arithmetic, `sqrt` and `abs` are machine instructions (IEEE
//! 754 correctly rounded, as Rust's operators and `f64::sqrt`); every other function is a call
//! to a small Rust wrapper around the very `f64` method that [`Graph::eval`] calls, so compiled
//! and interpreted results are bit-identical (up to the payload of a NaN).

use std::collections::HashMap;

use cranelift_codegen::Context;
use cranelift_codegen::ir::{
    AbiParam, FuncRef, InstBuilder, MemFlagsData, Signature, UserFuncName, Value, types,
};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module, default_libcall_names};

use crate::graph::{self, Fun, Graph, Id, Op};

/// Why a graph could not be compiled. Compilation is an optimization: on either error, evaluate
/// the graph with the interpreter ([`Graph::eval`]) or the equations of motion with the
/// autodiff evaluator of the core instead.
#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    /// Cranelift has no backend for this machine (or rejects its CPU features).
    #[error(
        "no native code generator for this host ({reason}); fall back to the graph interpreter \
         (Graph::eval) or the autodiff evaluator"
    )]
    UnsupportedHost { reason: String },
    /// Cranelift failed to compile, or to map into executable memory, the generated code.
    #[error(
        "native code generation failed ({reason}); fall back to the graph interpreter \
         (Graph::eval) or the autodiff evaluator"
    )]
    Codegen { reason: String },
}

pub(crate) fn codegen_error(e: impl std::fmt::Display) -> CodegenError {
    CodegenError::Codegen {
        reason: e.to_string(),
    }
}

/// The machine code's signature: three input arrays, two output arrays, and the check sum
/// (see [`Layout`]) as the result.
pub(crate) type RawFn =
    unsafe extern "C" fn(*const f64, *const f64, *const f64, *mut f64, *mut f64, *mut f64) -> f64;

/// Live operations per compiled chunk. Cranelift's register allocator grows faster than
/// linearly with the size of one function (N-body 64, 46 000 operations in one function: 10 s);
/// in chunks of this size it stays linear.
pub(crate) const CHUNK_OPERATIONS: usize = 4096;

/// Where the compiled function finds its inputs and puts its outputs: input slot `i` is element
/// `inputs[i].1` of input array `inputs[i].0` (0, 1 or 2), output `k` goes to element
/// `outputs[k].1` of output array `outputs[k].0` (0 or 1). So the equations of motion read
/// `t`, `q` and `q̇` where the caller has them and write q̈ straight into the caller's slice.
#[derive(Debug, Clone)]
pub struct Layout {
    /// (array, index) of each input slot.
    pub inputs: Vec<(u8, u32)>,
    /// (array, index) of each output.
    pub outputs: Vec<(u8, u32)>,
    /// Whether the function returns the sum of all inputs read and all outputs written (a
    /// finite sum proves every one of them finite, without a branch per value); otherwise 0.
    pub check_sum: bool,
    /// Nodes with smaller ids are computed where first needed rather than in id order (see
    /// [`schedule`]); 0 keeps id order.
    pub defer_below: Id,
}

impl Layout {
    /// One input array and one output array, in slot order, no check sum.
    #[cfg_attr(not(test), allow(dead_code))] // used by the unit tests
    pub fn contiguous(num_inputs: usize, num_outputs: usize) -> Self {
        Self {
            inputs: (0..num_inputs).map(|i| (0, i as u32)).collect(),
            outputs: (0..num_outputs).map(|k| (0, k as u32)).collect(),
            check_sum: false,
            defer_below: 0,
        }
    }

    /// Elements used of input array `a` (the length the caller's array must have at least).
    pub fn input_len(&self, a: u8) -> usize {
        self.inputs
            .iter()
            .filter(|(b, _)| *b == a)
            .map(|(_, i)| *i as usize + 1)
            .max()
            .unwrap_or(0)
    }

    /// Elements written of output array `a`.
    pub fn output_len(&self, a: u8) -> usize {
        self.outputs
            .iter()
            .filter(|(b, _)| *b == a)
            .map(|(_, i)| *i as usize + 1)
            .max()
            .unwrap_or(0)
    }
}

/// A compiled straight-line function `outputs = F(inputs)`.
///
/// Intermediates that do not fit in registers are spilled to the calling thread's stack, about
/// 8 bytes per value live at once: a random graph of 10^5 live nodes took a 250 KB frame. A
/// frame larger than the thread's stack is a stack overflow (caught by the guard page: stack
/// probes are on), so call very large functions from threads with ample stacks.
pub struct CompiledFunction {
    /// Owns the executable memory `funcs` point into.
    _module: JitMemory,
    /// The chunks of the function, called in order.
    funcs: Vec<RawFn>,
    num_inputs: usize,
    num_outputs: usize,
    /// Values passed from one chunk to a later one.
    temp_len: usize,
    /// Lengths the arrays must have: inputs 0..3, then outputs 0..2.
    #[cfg_attr(not(test), allow(dead_code))] // read by `call_split` (unit tests)
    lengths: [usize; 5],
}

/// The executable memory of compiled code (a straight-line function or a term kernel), freed
/// when dropped. Its owner keeps the code pointers private and calls them only while borrowed,
/// so no call is running, and none can follow, when this is dropped.
pub(crate) struct JitMemory(Option<JITModule>);

impl JitMemory {
    pub(crate) fn new(module: JITModule) -> Self {
        Self(Some(module))
    }
}

// SAFETY: after compilation the `JITModule` (which holds raw pointers and a `RefCell`, hence
// neither `Send` nor `Sync` by itself) is never touched again except by `drop`, which has
// exclusive ownership; freeing its memory is not tied to the thread that allocated it. The
// machine code is immutable (mapped read + execute) and pure: it reads only the arrays passed
// to it, writes only the output arrays passed to it (borrowed exclusively by the caller), keeps
// its intermediates in registers and on the caller's stack, and calls only the `extern "C"`
// wrappers below, which are pure Rust `f64` functions with no shared state. So sharing compiled
// code between threads, or moving it to another one, is sound.
unsafe impl Send for JitMemory {}
// SAFETY: as for `Send` above.
unsafe impl Sync for JitMemory {}

impl Drop for JitMemory {
    fn drop(&mut self) {
        if let Some(module) = self.0.take() {
            // SAFETY: see the type's documentation: nothing can call into the memory now.
            unsafe { module.free_memory() };
        }
    }
}

impl std::fmt::Debug for CompiledFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledFunction")
            .field("num_inputs", &self.num_inputs)
            .field("num_outputs", &self.num_outputs)
            .finish_non_exhaustive()
    }
}

impl CompiledFunction {
    /// Compiles `outputs = F(inputs)`: output `k` is the value of node `outputs[k]`, the inputs
    /// are the graph's input slots. Only the nodes the outputs depend on are compiled.
    ///
    /// # Panics
    ///
    /// If an output id is not a node of `graph` (as [`Graph::eval`]).
    #[cfg_attr(not(test), allow(dead_code))] // used by the unit tests
    pub fn compile(graph: &Graph, outputs: &[Id]) -> Result<Self, CodegenError> {
        let layout = Layout::contiguous(graph.num_inputs(), outputs.len());
        Self::compile_with_layout(graph, outputs, &layout)
    }

    /// [`compile`](Self::compile) with the inputs and outputs placed by `layout`.
    ///
    /// # Panics
    ///
    /// If an output id is not a node of `graph`, or `layout` does not have one entry per input
    /// slot and per output, or names an array other than inputs 0–2 and outputs 0–1.
    pub fn compile_with_layout(
        graph: &Graph,
        outputs: &[Id],
        layout: &Layout,
    ) -> Result<Self, CodegenError> {
        assert_eq!(
            layout.inputs.len(),
            graph.num_inputs(),
            "one place per input"
        );
        assert_eq!(layout.outputs.len(), outputs.len(), "one place per output");
        assert!(
            layout.inputs.iter().all(|(a, _)| *a < 3),
            "input arrays are 0, 1, 2"
        );
        assert!(
            layout.outputs.iter().all(|(a, _)| *a < 2),
            "output arrays are 0, 1"
        );
        for &o in outputs {
            assert!(
                (o as usize) < graph.len(),
                "output node {o} is not in the graph ({} nodes)",
                graph.len()
            );
        }
        let num_inputs = graph.num_inputs();
        // loads address `inputs + 8 i` with a 32-bit signed offset
        let reach = (i32::MAX / 8) as usize;
        if layout
            .inputs
            .iter()
            .chain(&layout.outputs)
            .any(|(_, i)| *i as usize >= reach)
        {
            return Err(codegen_error(format!(
                "{num_inputs} inputs, {} outputs: more than the 2^28 slots a load or store \
                 offset reaches",
                outputs.len()
            )));
        }

        let mut module = JITModule::new(jit_builder()?);
        let ptr = module.target_config().pointer_type();
        let call_conv = module.isa().default_call_conv();
        let mut sig = Signature::new(call_conv);
        for _ in 0..6 {
            sig.params.push(AbiParam::new(ptr));
        }
        sig.returns.push(AbiParam::new(types::F64));

        let order = schedule(graph, outputs, layout.defer_below);
        let chunks = Chunks::new(graph, &order);
        // (node, output slot), by node: each output is stored as soon as it is computed,
        // so that it does not stay live (in a register or a stack slot) to the end
        let stores = stores_by_node(outputs);
        let live = graph.live(outputs);
        let code = ChunkCode {
            graph,
            layout,
            chunks: &chunks,
            stores: &stores,
        };
        let entries = compile_chunks(
            &mut module,
            &sig,
            "lagrange_jit_chunk",
            chunks.list.len(),
            |module, ctx, fctx, c| {
                // the check sum covers every input, also those no output depends on (a NaN
                // velocity is an error even where q̈ does not depend on q̇)
                let unused = checked_unused_inputs(graph, &live, c == 0 && layout.check_sum);
                code.emit(module, ctx, fctx, &unused, &chunks.list[c])
            },
        )?;
        let funcs = entries
            .into_iter()
            .map(|code| {
                // SAFETY: `code` is the entry of a function just compiled with the signature
                // `sig`: the host's C calling convention, six pointers in, one f64 out.
                unsafe { std::mem::transmute::<*const u8, RawFn>(code) }
            })
            .collect();
        Ok(Self {
            _module: JitMemory::new(module),
            funcs,
            num_inputs,
            num_outputs: outputs.len(),
            temp_len: chunks.temp_len,
            lengths: [
                layout.input_len(0),
                layout.input_len(1),
                layout.input_len(2),
                layout.output_len(0),
                layout.output_len(1),
            ],
        })
    }

    /// Number of inputs (the graph's input slots).
    #[cfg_attr(not(test), allow(dead_code))] // used by the unit tests
    pub fn num_inputs(&self) -> usize {
        self.num_inputs
    }

    /// Number of outputs.
    #[cfg_attr(not(test), allow(dead_code))] // used by the unit tests
    pub fn num_outputs(&self) -> usize {
        self.num_outputs
    }

    /// Evaluates the function: `outputs = F(inputs)`.
    ///
    /// # Panics
    ///
    /// If `inputs.len() != self.num_inputs()` or `outputs.len() != self.num_outputs()`.
    #[inline]
    #[cfg_attr(not(test), allow(dead_code))] // used by the unit tests
    pub fn call(&self, inputs: &[f64], outputs: &mut [f64]) {
        assert_eq!(inputs.len(), self.num_inputs, "wrong number of inputs");
        assert_eq!(outputs.len(), self.num_outputs, "wrong number of outputs");
        self.call_split([inputs, &[], &[]], [outputs, &mut []]);
    }

    /// The machine code itself when the function is one chunk (every small system), for
    /// callers that keep the pointer next to their data and call it without going through
    /// `self`. Valid as long as `self` lives.
    pub(crate) fn single_chunk(&self) -> Option<RawFn> {
        match self.funcs.as_slice() {
            [f] => Some(*f),
            _ => None,
        }
    }

    /// Length of the buffer [`call_split_unchecked`](Self::call_split_unchecked) needs for the
    /// values one chunk of the code passes to a later one (0 for a function of one chunk).
    pub fn temp_len(&self) -> usize {
        self.temp_len
    }

    /// Evaluates a function compiled with a [`Layout`]: reads `inputs[a]`, writes
    /// `outputs[a]`, returns the check sum (0 without one).
    ///
    /// # Panics
    ///
    /// If an array is shorter than the layout needs.
    #[inline]
    #[cfg_attr(not(test), allow(dead_code))] // used by the unit tests
    pub fn call_split(&self, inputs: [&[f64]; 3], outputs: [&mut [f64]; 2]) -> f64 {
        let l = &self.lengths;
        assert!(
            inputs[0].len() >= l[0]
                && inputs[1].len() >= l[1]
                && inputs[2].len() >= l[2]
                && outputs[0].len() >= l[3]
                && outputs[1].len() >= l[4],
            "arrays shorter than the layout"
        );
        let mut temp = vec![0.0; self.temp_len];
        // SAFETY: lengths checked above, `temp` made to measure.
        unsafe { self.call_split_unchecked(inputs, outputs, &mut temp) }
    }

    /// [`call_split`](Self::call_split) without the length checks, for callers that have
    /// checked them once against [`Layout::input_len`] / [`Layout::output_len`].
    ///
    /// # Safety
    ///
    /// Each array must be at least as long as the layout the function was compiled with needs,
    /// and `temp` at least [`temp_len`](Self::temp_len).
    #[inline]
    pub(crate) unsafe fn call_split_unchecked(
        &self,
        inputs: [&[f64]; 3],
        outputs: [&mut [f64]; 2],
        temp: &mut [f64],
    ) -> f64 {
        debug_assert!(temp.len() >= self.temp_len);
        let [o0, o1] = outputs;
        // SAFETY: the code reads only elements the layout names in the input arrays and writes
        // only those it names in the output arrays, all within the lengths the caller
        // guarantees (pointers of empty arrays are never dereferenced: the layout names no
        // element of them); the module holding the code lives as long as `self`.
        let (o0, o1, t) = (o0.as_mut_ptr(), o1.as_mut_ptr(), temp.as_mut_ptr());
        let (i0, i1, i2) = (inputs[0].as_ptr(), inputs[1].as_ptr(), inputs[2].as_ptr());
        if let [f] = self.funcs.as_slice() {
            // one chunk (every small system): one call, no loop
            // SAFETY: as stated above for every chunk.
            return unsafe { f(i0, i1, i2, o0, o1, t) };
        }
        let mut sum = 0.0;
        for f in &self.funcs {
            // SAFETY: as stated above; `temp` carries the values between chunks.
            sum += unsafe { f(i0, i1, i2, o0, o1, t) };
        }
        sum
    }
}

/// The emission order cut into chunks of at most [`CHUNK_OPERATIONS`] operations, and where the
/// values crossing a cut are kept.
pub(crate) struct Chunks {
    pub(crate) list: Vec<Vec<Id>>,
    /// Slot in the temp buffer of each node used by a later chunk than its own.
    pub(crate) temp_slot: Vec<Option<u32>>,
    pub(crate) temp_len: usize,
}

/// Constants and inputs are not operations: each chunk makes its own (a constant, a load).
pub(crate) fn is_leaf(op: Op) -> bool {
    matches!(op, Op::Const(_) | Op::Input(_))
}

impl Chunks {
    pub(crate) fn new(graph: &Graph, order: &[Id]) -> Self {
        let mut list: Vec<Vec<Id>> = vec![Vec::new()];
        let mut chunk_of = vec![u32::MAX; graph.len()];
        let mut work = 0;
        for &id in order {
            if !is_leaf(graph.op(id)) {
                if work == CHUNK_OPERATIONS {
                    list.push(Vec::new());
                    work = 0;
                }
                work += 1;
            }
            chunk_of[id as usize] = (list.len() - 1) as u32;
            list.last_mut().expect("one chunk at least").push(id);
        }
        let mut temp_slot = vec![None; graph.len()];
        let mut temp_len = 0;
        for &id in order {
            for a in graph.op(id).operands() {
                if !is_leaf(graph.op(a))
                    && chunk_of[a as usize] < chunk_of[id as usize]
                    && temp_slot[a as usize].is_none()
                {
                    temp_slot[a as usize] = Some(temp_len as u32);
                    temp_len += 1;
                }
            }
        }
        Self {
            list,
            temp_slot,
            temp_len,
        }
    }
}

/// What every chunk's code generation reads.
struct ChunkCode<'a> {
    graph: &'a Graph,
    layout: &'a Layout,
    chunks: &'a Chunks,
    stores: &'a [(Id, usize)],
}

/// The state of one chunk being emitted.
struct ChunkState {
    params: Vec<Value>,
    values: HashMap<Id, Value>,
    /// The check sum in 4 independent accumulators: one serial chain of 3n + 1 additions would
    /// be the critical path of a small function.
    check: [Option<Value>; 4],
    next_check: usize,
}

impl ChunkState {
    fn add_check(&mut self, b: &mut FunctionBuilder, on: bool, v: Value) {
        if on {
            let slot = &mut self.check[self.next_check % 4];
            *slot = Some(slot.map_or(v, |c| b.ins().fadd(c, v)));
            self.next_check += 1;
        }
    }
}

impl ChunkCode<'_> {
    /// The value of node `a` in this chunk: made here (a leaf), loaded from temp (computed by
    /// an earlier chunk), or already known.
    fn operand(&self, b: &mut FunctionBuilder, st: &mut ChunkState, a: Id) -> Value {
        if let Some(&v) = st.values.get(&a) {
            return v;
        }
        // the slices behind the pointers are valid, aligned, and never alias each other
        let mem = MemFlagsData::trusted();
        let v = match self.graph.op(a) {
            Op::Const(bits) => b.ins().f64const(f64::from_bits(bits)),
            Op::Input(i) => {
                let (arr, k) = self.layout.inputs[i as usize];
                let v = b
                    .ins()
                    .load(types::F64, mem, st.params[arr as usize], 8 * k as i32);
                st.add_check(b, self.layout.check_sum, v);
                v
            }
            _ => {
                let slot = self.chunks.temp_slot[a as usize]
                    .expect("values from earlier chunks are kept in temp");
                b.ins().load(types::F64, mem, st.params[5], 8 * slot as i32)
            }
        };
        st.values.insert(a, v);
        v
    }

    /// Emits `chunk` as a function of the six pointers (inputs 0–2, outputs 0–1, temp)
    /// returning its part of the check sum; the inputs `checked` are read into the check sum
    /// only.
    fn emit(
        &self,
        module: &mut JITModule,
        ctx: &mut Context,
        fctx: &mut FunctionBuilderContext,
        checked: &[Id],
        chunk: &[Id],
    ) -> Result<(), CodegenError> {
        let call_conv = module.isa().default_call_conv();
        let mut b = FunctionBuilder::new(&mut ctx.func, fctx);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        b.seal_block(block);
        let mem = MemFlagsData::trusted();
        let mut st = ChunkState {
            params: b.block_params(block).to_vec(),
            values: HashMap::with_capacity(2 * chunk.len()),
            check: [None; 4],
            next_check: 0,
        };
        let mut imports = Imports::new(call_conv);
        for &input in checked {
            self.operand(&mut b, &mut st, input);
        }
        for &id in chunk {
            let op = self.graph.op(id);
            let v = if is_leaf(op) {
                self.operand(&mut b, &mut st, id)
            } else {
                let x = |b: &mut FunctionBuilder, i: Id| self.operand(b, &mut st, i);
                emit_operation(module, &mut b, &mut imports, op, x)?
            };
            st.values.insert(id, v);
            if let (false, Some(slot)) = (is_leaf(op), self.chunks.temp_slot[id as usize]) {
                b.ins().store(mem, v, st.params[5], 8 * slot as i32);
            }
            let first = self.stores.partition_point(|&(o, _)| o < id);
            for &(_, k) in self.stores[first..].iter().take_while(|&&(o, _)| o == id) {
                let (arr, slot) = self.layout.outputs[k];
                b.ins()
                    .store(mem, v, st.params[3 + arr as usize], 8 * slot as i32);
                st.add_check(&mut b, self.layout.check_sum, v);
            }
        }
        let [c0, c1, c2, c3] = st.check;
        let mut pair = |p: Option<Value>, q: Option<Value>| match (p, q) {
            (Some(p), Some(q)) => Some(b.ins().fadd(p, q)),
            (p, q) => p.or(q),
        };
        let (low, high) = (pair(c0, c2), pair(c1, c3));
        let result = match pair(low, high) {
            Some(c) => c,
            None => b.ins().f64const(0.0),
        };
        b.ins().return_(&[result]);
        b.finalize(module.target_config());
        Ok(())
    }
}

/// Emits the operation `op` (not a constant or an input) on its operands, whose values `x`
/// gives: scalars (`f64`) or lane vectors (`f64x2`) alike. Arithmetic, `sqrt` and `abs` are
/// instructions on either; the functions without an instruction are calls to the wrappers, lane
/// by lane on vectors.
pub(crate) fn emit_operation(
    module: &mut JITModule,
    b: &mut FunctionBuilder,
    imports: &mut Imports,
    op: Op,
    mut x: impl FnMut(&mut FunctionBuilder, Id) -> Value,
) -> Result<Value, CodegenError> {
    Ok(match op {
        Op::Add(p, q) | Op::Sub(p, q) | Op::Mul(p, q) | Op::Div(p, q) => {
            let (p, q) = (x(b, p), x(b, q));
            match op {
                Op::Add(..) => b.ins().fadd(p, q),
                Op::Sub(..) => b.ins().fsub(p, q),
                Op::Mul(..) => b.ins().fmul(p, q),
                _ => b.ins().fdiv(p, q),
            }
        }
        Op::Neg(p) => {
            let p = x(b, p);
            b.ins().fneg(p)
        }
        Op::Fun(Fun::Sqrt, p) => {
            let p = x(b, p);
            b.ins().sqrt(p)
        }
        Op::Fun(Fun::Abs, p) => {
            let p = x(b, p);
            b.ins().fabs(p)
        }
        Op::Fun(f, p) => {
            let p = x(b, p);
            call_lanes(module, b, imports, Wrapper::Fun(f), &[p])?
        }
        Op::Powi(p, n) => {
            let p = x(b, p);
            let n = b.ins().iconst(types::I32, i64::from(n));
            call_lanes(module, b, imports, Wrapper::Powi, &[p, n])?
        }
        Op::Powf(p, c) => {
            let p = x(b, p);
            let c = b.ins().f64const(f64::from_bits(c));
            call_lanes(module, b, imports, Wrapper::Pow, &[p, c])?
        }
        Op::Pow(p, q) | Op::Atan2(p, q) => {
            let args = [x(b, p), x(b, q)];
            let w = if let Op::Pow(..) = op {
                Wrapper::Pow
            } else {
                Wrapper::Atan2
            };
            call_lanes(module, b, imports, w, &args)?
        }
        Op::Const(_) | Op::Input(_) => unreachable!("{op:?} is a leaf, not an operation"),
    })
}

/// `w(args)`; where an argument is a lane vector, one call per lane (scalar arguments, such as
/// `powi`'s exponent, go to every call), and the results gathered into a vector.
fn call_lanes(
    module: &mut JITModule,
    b: &mut FunctionBuilder,
    imports: &mut Imports,
    w: Wrapper,
    args: &[Value],
) -> Result<Value, CodegenError> {
    let Some(vector_type) = args
        .iter()
        .map(|&a| b.func.dfg.value_type(a))
        .find(|t| t.is_vector())
    else {
        return imports.call(module, b, w, args);
    };
    let mut vector = None;
    for l in 0..vector_type.lane_count() as u8 {
        let scalar: Vec<Value> = args
            .iter()
            .map(|&a| {
                if b.func.dfg.value_type(a).is_vector() {
                    b.ins().extractlane(a, l)
                } else {
                    a
                }
            })
            .collect();
        let r = imports.call(module, b, w, &scalar)?;
        vector = Some(match vector {
            None => b.ins().splat(vector_type, r),
            Some(v) => b.ins().insertlane(v, r, l),
        });
    }
    Ok(vector.expect("a vector has lanes"))
}

/// The order in which the live nodes are emitted.
///
/// Nodes from `defer_below` on come in id order, each preceded by the not yet emitted nodes
/// below `defer_below` it needs (depth first), and followed at once by every node from
/// `defer_below` on that it made ready (all operands emitted), recursively.
///
/// Why: in a differentiated graph the nodes below `defer_below` are the traced forward pass,
/// and the reverse sweep uses the values of term k only where it reaches term k; the nodes made
/// after the sweep (force, M⁻¹ times force) each need a few finished sums. In id order every
/// forward value would be live from the start to its use in the sweep, and every finished sum
/// to the end: for N-body 64 or chain 1024 ~10⁴ values live across the whole function, spilled,
/// and a register allocation that took seconds. Scheduled like this, values live for about one
/// term.
pub fn schedule(graph: &Graph, outputs: &[Id], defer_below: Id) -> Vec<Id> {
    let live = graph.live(outputs);
    let n = graph.len();
    // users of each live node among the live nodes from `defer_below` on (CSR), and how many
    // operands each of those still waits for
    let mut count = vec![0u32; n + 1];
    let mut waiting = vec![0u32; n];
    for id in (defer_below as usize..n).filter(|&id| live[id]) {
        for a in graph.op(id as Id).operands() {
            count[a as usize + 1] += 1;
            waiting[id] += 1;
        }
    }
    for i in 0..n {
        count[i + 1] += count[i];
    }
    let mut users = vec![0 as Id; count[n] as usize];
    let mut fill = count.clone();
    for id in (defer_below as usize..n).filter(|&id| live[id]) {
        for a in graph.op(id as Id).operands() {
            users[fill[a as usize] as usize] = id as Id;
            fill[a as usize] += 1;
        }
    }

    let mut done = vec![false; n];
    let mut order = Vec::with_capacity(live.iter().filter(|l| **l).count());
    let mut stack: Vec<(Id, bool)> = Vec::new();
    let mut ready: Vec<Id> = Vec::new();
    let roots = (defer_below as usize..n)
        .filter(|&id| live[id])
        .map(|id| id as Id)
        .chain(outputs.iter().copied());
    for root in roots {
        stack.push((root, false));
        while let Some((id, operands_done)) = stack.pop() {
            if done[id as usize] {
                continue;
            }
            if !operands_done {
                stack.push((id, true));
                for a in graph.op(id).operands() {
                    if !done[a as usize] {
                        stack.push((a, false));
                    }
                }
                continue;
            }
            // emit `id`, then whatever it made ready
            ready.push(id);
            while let Some(v) = ready.pop() {
                if done[v as usize] {
                    continue;
                }
                done[v as usize] = true;
                order.push(v);
                for &u in &users[count[v as usize] as usize..count[v as usize + 1] as usize] {
                    waiting[u as usize] -= 1;
                    if waiting[u as usize] == 0 {
                        ready.push(u);
                    }
                }
            }
        }
    }
    order
}

/// `(node, output index)` of every output, sorted by node: emitters store each output as soon
/// as its node is computed, so that it does not stay live to the end.
pub(crate) fn stores_by_node(outputs: &[Id]) -> Vec<(Id, usize)> {
    let mut stores: Vec<(Id, usize)> = outputs.iter().enumerate().map(|(k, &o)| (o, k)).collect();
    stores.sort_unstable();
    stores
}

/// The graph inputs no output depends on (`live` from [`Graph::live`]), where `checked`: a
/// function's check sum reads them too, so that a NaN anywhere in the inputs shows.
pub(crate) fn checked_unused_inputs(graph: &Graph, live: &[bool], checked: bool) -> Vec<Id> {
    if !checked {
        return Vec::new();
    }
    (0..graph.num_inputs() as Id)
        .filter(|&i| !live[i as usize])
        .collect()
}

/// Declares, emits (with `emit(module, ctx, fctx, c)`) and compiles the functions
/// `{prefix}_{c}` for `c` in `0..count`, all of signature `sig`, and returns their entry points
/// (valid as long as `module` lives).
pub(crate) fn compile_chunks(
    module: &mut JITModule,
    sig: &Signature,
    prefix: &str,
    count: usize,
    mut emit: impl FnMut(
        &mut JITModule,
        &mut Context,
        &mut FunctionBuilderContext,
        usize,
    ) -> Result<(), CodegenError>,
) -> Result<Vec<*const u8>, CodegenError> {
    let mut ids = Vec::with_capacity(count);
    let mut ctx = Context::new();
    let mut fctx = FunctionBuilderContext::new();
    for c in 0..count {
        let func_id = module
            .declare_function(&format!("{prefix}_{c}"), Linkage::Local, sig)
            .map_err(codegen_error)?;
        ctx.clear();
        ctx.func.signature = sig.clone();
        ctx.func.name = UserFuncName::user(0, func_id.as_u32());
        emit(module, &mut ctx, &mut fctx, c)?;
        define(module, func_id, &mut ctx)?;
        ids.push(func_id);
    }
    module.finalize_definitions().map_err(codegen_error)?;
    Ok(ids
        .into_iter()
        .map(|id| module.get_finalized_function(id))
        .collect())
}

/// Compiles the function built in `ctx` into `module` as `func_id`; with `LAGRANGE_JIT_DISASM`
/// set, prints its Cranelift IR and machine code to stderr.
pub(crate) fn define(
    module: &mut JITModule,
    func_id: cranelift_module::FuncId,
    ctx: &mut Context,
) -> Result<(), CodegenError> {
    let disasm = std::env::var("LAGRANGE_JIT_DISASM").is_ok();
    ctx.set_disasm(disasm);
    module
        .define_function(func_id, ctx)
        .map_err(codegen_error)?;
    if disasm && let Some(code) = ctx.compiled_code().and_then(|c| c.vcode.clone()) {
        eprintln!("{}\n{code}", ctx.func.display());
    }
    Ok(())
}

/// A JIT for the host: its native ISA, optimizing, with our wrappers as the only symbols the
/// code may call.
pub(crate) fn jit_builder() -> Result<JITBuilder, CodegenError> {
    let unsupported = |reason: String| CodegenError::UnsupportedHost { reason };
    let mut flags = settings::builder();
    for (name, value) in [
        ("opt_level", "speed"),
        // cranelift-jit requires both
        ("use_colocated_libcalls", "false"),
        ("is_pic", "false"),
        // Large graphs spill many values: a frame larger than a page must touch every page on
        // its way down, so that an overflow hits the guard page instead of jumping over it.
        ("enable_probestack", "true"),
        ("probestack_strategy", "inline"),
    ] {
        flags
            .set(name, value)
            .map_err(|e| unsupported(format!("setting {name}={value}: {e}")))?;
    }
    let isa = cranelift_native::builder()
        .map_err(|e| unsupported(e.to_string()))?
        .finish(settings::Flags::new(flags))
        .map_err(|e| unsupported(e.to_string()))?;
    let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
    for w in Wrapper::ALL {
        builder.symbol(w.name(), w.address());
    }
    Ok(builder)
}

/// The functions without a machine instruction, as calls to Rust.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum Wrapper {
    Fun(Fun),
    Powi,
    Pow,
    Atan2,
}

impl Wrapper {
    const ALL: [Wrapper; 24] = [
        Wrapper::Fun(Fun::Cbrt),
        Wrapper::Fun(Fun::Exp),
        Wrapper::Fun(Fun::Exp2),
        Wrapper::Fun(Fun::ExpM1),
        Wrapper::Fun(Fun::Ln),
        Wrapper::Fun(Fun::Log2),
        Wrapper::Fun(Fun::Log10),
        Wrapper::Fun(Fun::Ln1p),
        Wrapper::Fun(Fun::Sin),
        Wrapper::Fun(Fun::Cos),
        Wrapper::Fun(Fun::Tan),
        Wrapper::Fun(Fun::Asin),
        Wrapper::Fun(Fun::Acos),
        Wrapper::Fun(Fun::Atan),
        Wrapper::Fun(Fun::Sinh),
        Wrapper::Fun(Fun::Cosh),
        Wrapper::Fun(Fun::Tanh),
        Wrapper::Fun(Fun::Asinh),
        Wrapper::Fun(Fun::Acosh),
        Wrapper::Fun(Fun::Atanh),
        Wrapper::Fun(Fun::Sign),
        Wrapper::Powi,
        Wrapper::Pow,
        Wrapper::Atan2,
    ];

    /// The symbol the generated code imports.
    fn name(self) -> &'static str {
        match self {
            Wrapper::Fun(f) => match f {
                Fun::Sqrt => "lagrange_jit_sqrt",
                Fun::Cbrt => "lagrange_jit_cbrt",
                Fun::Exp => "lagrange_jit_exp",
                Fun::Exp2 => "lagrange_jit_exp2",
                Fun::ExpM1 => "lagrange_jit_exp_m1",
                Fun::Ln => "lagrange_jit_ln",
                Fun::Log2 => "lagrange_jit_log2",
                Fun::Log10 => "lagrange_jit_log10",
                Fun::Ln1p => "lagrange_jit_ln_1p",
                Fun::Sin => "lagrange_jit_sin",
                Fun::Cos => "lagrange_jit_cos",
                Fun::Tan => "lagrange_jit_tan",
                Fun::Asin => "lagrange_jit_asin",
                Fun::Acos => "lagrange_jit_acos",
                Fun::Atan => "lagrange_jit_atan",
                Fun::Sinh => "lagrange_jit_sinh",
                Fun::Cosh => "lagrange_jit_cosh",
                Fun::Tanh => "lagrange_jit_tanh",
                Fun::Asinh => "lagrange_jit_asinh",
                Fun::Acosh => "lagrange_jit_acosh",
                Fun::Atanh => "lagrange_jit_atanh",
                Fun::Abs => "lagrange_jit_abs",
                Fun::Sign => "lagrange_jit_sign",
            },
            Wrapper::Powi => "lagrange_jit_powi",
            Wrapper::Pow => "lagrange_jit_pow",
            Wrapper::Atan2 => "lagrange_jit_atan2",
        }
    }

    /// The wrapper's address.
    fn address(self) -> *const u8 {
        type F1 = extern "C" fn(f64) -> f64;
        let f1 = |f: F1| f as *const u8;
        match self {
            Wrapper::Fun(f) => f1(match f {
                Fun::Sqrt => lj_sqrt,
                Fun::Cbrt => lj_cbrt,
                Fun::Exp => lj_exp,
                Fun::Exp2 => lj_exp2,
                Fun::ExpM1 => lj_exp_m1,
                Fun::Ln => lj_ln,
                Fun::Log2 => lj_log2,
                Fun::Log10 => lj_log10,
                Fun::Ln1p => lj_ln_1p,
                Fun::Sin => lj_sin,
                Fun::Cos => lj_cos,
                Fun::Tan => lj_tan,
                Fun::Asin => lj_asin,
                Fun::Acos => lj_acos,
                Fun::Atan => lj_atan,
                Fun::Sinh => lj_sinh,
                Fun::Cosh => lj_cosh,
                Fun::Tanh => lj_tanh,
                Fun::Asinh => lj_asinh,
                Fun::Acosh => lj_acosh,
                Fun::Atanh => lj_atanh,
                Fun::Abs => lj_abs,
                Fun::Sign => lj_sign,
            }),
            Wrapper::Powi => lj_powi as extern "C" fn(f64, i32) -> f64 as *const u8,
            Wrapper::Pow => lj_pow as extern "C" fn(f64, f64) -> f64 as *const u8,
            Wrapper::Atan2 => lj_atan2 as extern "C" fn(f64, f64) -> f64 as *const u8,
        }
    }

    /// The wrapper's signature in Cranelift terms.
    fn signature(self, call_conv: cranelift_codegen::isa::CallConv) -> Signature {
        let mut sig = Signature::new(call_conv);
        sig.params.push(AbiParam::new(types::F64));
        match self {
            Wrapper::Fun(_) => {}
            Wrapper::Powi => sig.params.push(AbiParam::new(types::I32)),
            Wrapper::Pow | Wrapper::Atan2 => sig.params.push(AbiParam::new(types::F64)),
        }
        sig.returns.push(AbiParam::new(types::F64));
        sig
    }
}

/// The wrappers the function being built calls, each declared in the module and imported into
/// the function once, on first use.
pub(crate) struct Imports {
    call_conv: cranelift_codegen::isa::CallConv,
    declared: HashMap<Wrapper, FuncRef>,
}

impl Imports {
    pub(crate) fn new(call_conv: cranelift_codegen::isa::CallConv) -> Self {
        Self {
            call_conv,
            declared: HashMap::new(),
        }
    }

    /// Emits `w(args)` and returns its result.
    pub(crate) fn call(
        &mut self,
        module: &mut JITModule,
        b: &mut FunctionBuilder,
        w: Wrapper,
        args: &[Value],
    ) -> Result<Value, CodegenError> {
        let func_ref = match self.declared.get(&w) {
            Some(&r) => r,
            None => {
                let sig = w.signature(self.call_conv);
                let id = module
                    .declare_function(w.name(), Linkage::Import, &sig)
                    .map_err(codegen_error)?;
                let r = module.declare_func_in_func(id, b.func);
                self.declared.insert(w, r);
                r
            }
        };
        let inst = b.ins().call(func_ref, args);
        Ok(b.inst_results(inst)[0])
    }
}

// The wrappers: the same `f64` methods `Graph::eval` (through `Fun::apply`) calls.

macro_rules! wrappers {
    ($($name:ident => $f:expr;)*) => {
        $(
            extern "C" fn $name(x: f64) -> f64 {
                $f(x)
            }
        )*
    };
}

wrappers! {
    lj_sqrt => f64::sqrt;
    lj_cbrt => f64::cbrt;
    lj_exp => f64::exp;
    lj_exp2 => f64::exp2;
    lj_exp_m1 => f64::exp_m1;
    lj_ln => f64::ln;
    lj_log2 => f64::log2;
    lj_log10 => f64::log10;
    lj_ln_1p => f64::ln_1p;
    lj_sin => f64::sin;
    lj_cos => f64::cos;
    lj_tan => f64::tan;
    lj_asin => f64::asin;
    lj_acos => f64::acos;
    lj_atan => f64::atan;
    lj_sinh => f64::sinh;
    lj_cosh => f64::cosh;
    lj_tanh => f64::tanh;
    lj_asinh => f64::asinh;
    lj_acosh => f64::acosh;
    lj_atanh => f64::atanh;
    lj_abs => f64::abs;
    lj_sign => graph::sign;
}

extern "C" fn lj_powi(x: f64, n: i32) -> f64 {
    x.powi(n)
}

extern "C" fn lj_pow(x: f64, y: f64) -> f64 {
    x.powf(y)
}

extern "C" fn lj_atan2(y: f64, x: f64) -> f64 {
    y.atan2(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    const ALL_FUNS: [Fun; 23] = Fun::ALL;

    /// A deterministic generator (SplitMix64).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        /// Uniform in [0, 1).
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }

        /// An input: mostly ordinary numbers of all scales and signs, often a special value
        /// (zeros, infinities, NaN, subnormals, the domain edges of the functions), sometimes
        /// arbitrary bits.
        fn input(&mut self) -> f64 {
            const SPECIAL: [f64; 20] = [
                0.0,
                -0.0,
                1.0,
                -1.0,
                0.5,
                -0.5,
                2.0,
                -2.0,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NAN,
                f64::MIN_POSITIVE,
                -f64::MIN_POSITIVE,
                5e-324,
                -5e-324,
                f64::MAX,
                f64::MIN,
                f64::EPSILON,
                std::f64::consts::PI,
                710.0,
            ];
            match self.below(8) {
                0 => f64::from_bits(self.next()),
                1 => SPECIAL[self.below(SPECIAL.len())],
                2 | 3 => 4.0 * self.unit() - 2.0,
                _ => {
                    let sign = if self.next() & 1 == 0 { 1.0 } else { -1.0 };
                    sign * 10f64.powf(12.0 * self.unit() - 6.0)
                }
            }
        }
    }

    /// Equal bits, or both NaN (the payload of a NaN is not specified across instructions).
    fn same(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    /// Compiles `outputs` and checks the compiled function against the interpreter at `inputs`.
    fn check(g: &Graph, outputs: &[Id], inputs: &[Vec<f64>]) -> CompiledFunction {
        let f = CompiledFunction::compile(g, outputs).expect("compiles");
        assert_eq!(f.num_inputs(), g.num_inputs());
        assert_eq!(f.num_outputs(), outputs.len());
        let mut got = vec![f64::NAN; outputs.len()];
        for x in inputs {
            let want = g.eval(x, outputs);
            f.call(x, &mut got);
            for (k, (&w, &v)) in want.iter().zip(&got).enumerate() {
                assert!(
                    same(w, v),
                    "output {k} (node {}: {:?}) at {x:?}: compiled {v:e} ({:#x}), interpreted \
                     {w:e} ({:#x})",
                    outputs[k],
                    g.op(outputs[k]),
                    v.to_bits(),
                    w.to_bits()
                );
            }
        }
        f
    }

    /// A graph with every op and every function, applied to inputs and to compound
    /// expressions; its outputs are all its nodes.
    fn every_op_graph() -> (Graph, Vec<Id>) {
        let mut g = Graph::new(3);
        let (x, y, z) = (g.input(0), g.input(1), g.input(2));
        let s = g.add(x, y);
        let d = g.sub(x, z);
        let m = g.mul(y, z);
        let q = g.div(x, y);
        let n = g.neg(z);
        let c = g.constant(0.75);
        let xc = g.mul(x, c);
        let mut nodes = vec![s, d, m, q, n, xc];
        nodes.push(g.powi(x, 5));
        nodes.push(g.powi(y, -7));
        nodes.push(g.powi(z, i32::MAX));
        nodes.push(g.powi(x, i32::MIN));
        nodes.push(g.powf(x, 0.3));
        nodes.push(g.powf(y, -1.7));
        nodes.push(g.powf(z, 100.0));
        nodes.push(g.pow(x, y));
        nodes.push(g.pow(s, z));
        nodes.push(g.atan2(y, x));
        nodes.push(g.atan2(m, d));
        for f in ALL_FUNS {
            for a in [x, y, s, q] {
                nodes.push(g.fun(f, a));
            }
        }
        let sin = g.fun(Fun::Sin, m);
        let e = g.fun(Fun::Exp, sin);
        let r = g.fun(Fun::Sqrt, e);
        nodes.push(g.sub(r, q));
        // the outputs: every node, inputs and constants included
        let outputs: Vec<Id> = (0..g.len() as Id).collect();

        // the graph does contain every op (simplification did not remove any)
        let ops: Vec<Op> = outputs.iter().map(|&i| g.op(i)).collect();
        let has = |p: &dyn Fn(&Op) -> bool| ops.iter().any(p);
        assert!(has(&|o| matches!(o, Op::Const(_))));
        assert!(has(&|o| matches!(o, Op::Input(_))));
        assert!(has(&|o| matches!(o, Op::Add(..))));
        assert!(has(&|o| matches!(o, Op::Sub(..))));
        assert!(has(&|o| matches!(o, Op::Mul(..))));
        assert!(has(&|o| matches!(o, Op::Div(..))));
        assert!(has(&|o| matches!(o, Op::Neg(_))));
        assert!(has(&|o| matches!(o, Op::Powi(..))));
        assert!(has(&|o| matches!(o, Op::Powf(..))));
        assert!(has(&|o| matches!(o, Op::Pow(..))));
        assert!(has(&|o| matches!(o, Op::Atan2(..))));
        for f in ALL_FUNS {
            assert!(has(&|o| *o == Op::Fun(f, x)), "{f:?} missing");
        }
        (g, outputs)
    }

    fn random_inputs(rng: &mut Rng, n: usize, count: usize) -> Vec<Vec<f64>> {
        (0..count)
            .map(|_| (0..n).map(|_| rng.input()).collect())
            .collect()
    }

    #[test]
    fn every_op_matches_the_interpreter_bit_for_bit() {
        let (g, outputs) = every_op_graph();
        let mut rng = Rng(1);
        let inputs = random_inputs(&mut rng, 3, 20_000);
        check(&g, &outputs, &inputs);
    }

    #[test]
    fn every_op_matches_pinned_f64_formulas() {
        // an independent check of the interpreter itself on a few ops
        let (g, _) = every_op_graph();
        let (x, y, z) = (g.input(0), g.input(1), g.input(2));
        let mut h = g.clone();
        let outs = [
            h.div(x, y),
            h.powi(x, 5),
            h.powf(x, 0.3),
            h.pow(x, y),
            h.atan2(y, x),
            h.fun(Fun::Sign, z),
            h.fun(Fun::Cbrt, x),
        ];
        let f = CompiledFunction::compile(&h, &outs).unwrap();
        let mut got = [0.0; 7];
        for (a, b, c) in [(1.3, -0.4, -0.0), (2.5, 3.0, 7.0), (-0.7, 0.1, -2.0)] {
            f.call(&[a, b, c], &mut got);
            // Opaque to the optimizer: with a known exponent, LLVM expands `powi` into
            // multiplications, which round differently from the runtime `__powidf2` that a
            // variable exponent calls (1.3^5 differs in the last bit).
            let (a, b, c) = std::hint::black_box((a, b, c));
            let five = std::hint::black_box(5);
            let want = [
                // the graph divides once per denominator: a · (1/b)
                a * (1.0 / b),
                a.powi(five),
                a.powf(0.3),
                a.powf(b),
                b.atan2(a),
                if c == 0.0 { 0.0 } else { c.signum() },
                a.cbrt(),
            ];
            for (w, v) in want.iter().zip(&got) {
                assert!(same(*w, *v), "{w} vs {v}");
            }
        }
    }

    #[test]
    fn outputs_that_are_inputs_or_constants() {
        let mut g = Graph::new(2);
        let (x, y) = (g.input(0), g.input(1));
        let c = g.constant(-3.25);
        let nan = g.constant(f64::NAN);
        let inf = g.constant(f64::NEG_INFINITY);
        let outputs = [y, c, x, x, nan, inf, c, y];
        let f = check(&g, &outputs, &random_inputs(&mut Rng(2), 2, 100));
        let mut out = [0.0; 8];
        f.call(&[1.5, -0.0], &mut out);
        assert_eq!(
            out[..4].iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            [
                (-0.0f64).to_bits(),
                (-3.25f64).to_bits(),
                1.5f64.to_bits(),
                1.5f64.to_bits()
            ]
        );
        assert!(out[4].is_nan());
        assert_eq!(out[5], f64::NEG_INFINITY);
        assert_eq!(out[6], -3.25);
        assert_eq!(out[7].to_bits(), (-0.0f64).to_bits());
    }

    #[test]
    fn zero_outputs_and_zero_inputs() {
        let mut g = Graph::new(2);
        let (x, y) = (g.input(0), g.input(1));
        let _ = g.mul(x, y);
        let f = CompiledFunction::compile(&g, &[]).unwrap();
        assert_eq!((f.num_inputs(), f.num_outputs()), (2, 0));
        f.call(&[1.0, 2.0], &mut []);

        let mut g = Graph::new(0);
        let c = g.constant(2.0);
        let s = g.fun(Fun::Sin, c); // folded
        let f = CompiledFunction::compile(&g, &[s, c]).unwrap();
        let mut out = [0.0; 2];
        f.call(&[], &mut out);
        assert_eq!(out, [2f64.sin(), 2.0]);
        let f = CompiledFunction::compile(&g, &[]).unwrap();
        f.call(&[], &mut []);
    }

    #[test]
    fn unused_inputs_are_not_read() {
        let mut g = Graph::new(4);
        let (x, z) = (g.input(1), g.input(3));
        let s = g.fun(Fun::Sin, x);
        let p = g.mul(s, z);
        let f = check(&g, &[p, s], &random_inputs(&mut Rng(3), 4, 200));
        assert_eq!(f.num_inputs(), 4);
        let mut a = [0.0; 2];
        let mut b = [0.0; 2];
        f.call(&[f64::NAN, 0.3, f64::NAN, 2.0], &mut a);
        f.call(&[1e300, 0.3, -7.0, 2.0], &mut b);
        assert_eq!(a, b);
        assert_eq!(a, [0.3f64.sin() * 2.0, 0.3f64.sin()]);
    }

    #[test]
    #[should_panic(expected = "wrong number of inputs")]
    fn wrong_input_length_panics() {
        let mut g = Graph::new(2);
        let (x, y) = (g.input(0), g.input(1));
        let s = g.add(x, y);
        let f = CompiledFunction::compile(&g, &[s]).unwrap();
        f.call(&[1.0], &mut [0.0]);
    }

    #[test]
    #[should_panic(expected = "wrong number of outputs")]
    fn wrong_output_length_panics() {
        let mut g = Graph::new(2);
        let (x, y) = (g.input(0), g.input(1));
        let s = g.add(x, y);
        let f = CompiledFunction::compile(&g, &[s]).unwrap();
        f.call(&[1.0, 2.0], &mut [0.0, 0.0]);
    }

    #[test]
    fn errors_say_what_to_do() {
        for e in [
            CodegenError::UnsupportedHost {
                reason: "riscv32".into(),
            },
            CodegenError::Codegen {
                reason: "verifier".into(),
            },
        ] {
            let msg = e.to_string();
            assert!(
                msg.contains("Graph::eval") && msg.contains("autodiff"),
                "{msg}"
            );
        }
    }

    /// A random graph of about `size` nodes over `num_inputs` inputs. Operands are mostly
    /// recent nodes (as in traced code) and sometimes any earlier node (long live ranges, which
    /// stress the register allocator). Arguments are kept in the functions' domains and half
    /// the nodes are squashed by a bounded function, so that most values stay finite for
    /// inputs in [-2, 2] (a NaN or infinity would spread and make the comparison weak).
    /// Returns the graph and its outputs: every 97th node and the last 32.
    fn random_graph(rng: &mut Rng, num_inputs: usize, size: usize) -> (Graph, Vec<Id>) {
        const SQUASH: [Fun; 4] = [Fun::Sin, Fun::Cos, Fun::Tanh, Fun::Atan];
        let mut g = Graph::new(num_inputs);
        let half = g.constant(0.5);
        let one = g.constant(1.0);
        let three = g.constant(3.0);
        let point9 = g.constant(0.9);
        while g.len() < size {
            let n = g.len();
            let pick = |rng: &mut Rng| -> Id {
                if rng.below(4) == 0 {
                    rng.below(n) as Id
                } else {
                    (n - 1 - rng.below(16.min(n))) as Id
                }
            };
            let (a, b) = (pick(rng), pick(rng));
            let r = match rng.below(100) {
                0..=19 => g.add(a, b),
                20..=29 => g.sub(a, b),
                30..=44 => g.mul(a, b),
                45..=49 => {
                    let ab = g.fun(Fun::Abs, b);
                    let d = g.add(ab, one);
                    g.div(a, d)
                }
                50..=54 => g.neg(a),
                55..=74 => g.fun(SQUASH[rng.below(SQUASH.len())], a),
                75..=89 => {
                    let f = ALL_FUNS[rng.below(ALL_FUNS.len())];
                    let arg = match f {
                        Fun::Sqrt | Fun::Cbrt | Fun::Ln | Fun::Log2 | Fun::Log10 | Fun::Acosh => {
                            let aa = g.fun(Fun::Abs, a);
                            g.add(aa, one)
                        }
                        Fun::Ln1p => g.fun(Fun::Abs, a),
                        Fun::Asin | Fun::Acos | Fun::Atanh => {
                            let t = g.fun(Fun::Tanh, a);
                            g.mul(t, point9)
                        }
                        Fun::Exp | Fun::Exp2 | Fun::ExpM1 | Fun::Sinh | Fun::Cosh => {
                            let t = g.fun(Fun::Tanh, a);
                            g.mul(t, three)
                        }
                        Fun::Tan => g.fun(Fun::Atan, a),
                        _ => a,
                    };
                    g.fun(f, arg)
                }
                90..=92 => {
                    let t = g.fun(Fun::Tanh, a);
                    let base = g.add(t, three);
                    g.powi(base, [5, -6, 9][rng.below(3)])
                }
                93..=95 => {
                    let aa = g.fun(Fun::Abs, a);
                    let base = g.add(aa, half);
                    g.powf(base, [0.3, -1.25, 2.2][rng.below(3)])
                }
                96..=97 => {
                    let aa = g.fun(Fun::Abs, a);
                    let base = g.add(aa, half);
                    let e = g.fun(Fun::Tanh, b);
                    g.pow(base, e)
                }
                _ => g.atan2(a, b),
            };
            if rng.below(2) == 0 {
                g.fun(SQUASH[rng.below(SQUASH.len())], r);
            }
        }
        let last = g.len() as Id;
        let mut outputs: Vec<Id> = (0..last).step_by(97).collect();
        outputs.extend(last.saturating_sub(32)..last);
        (g, outputs)
    }

    fn moderate_inputs(rng: &mut Rng, n: usize, count: usize) -> Vec<Vec<f64>> {
        (0..count)
            .map(|_| (0..n).map(|_| 4.0 * rng.unit() - 2.0).collect())
            .collect()
    }

    #[test]
    fn values_cross_chunk_boundaries() {
        // a recurrence 3 chunks long whose every step also reads the first values: values made
        // in one chunk are read in later ones (through temp), outputs come from every chunk
        let mut g = Graph::new(2);
        let (x, y) = (g.input(0), g.input(1));
        let first = g.mul(x, y);
        let mut v = first;
        let mut outputs = vec![first];
        for k in 0..(5 * CHUNK_OPERATIONS / 2) {
            let s = g.fun(Fun::Sin, v);
            let c = g.constant(0.5 + k as f64 * 1e-6);
            let scaled = g.mul(c, s);
            v = g.add(scaled, first);
            if k % 1000 == 0 {
                outputs.push(v);
            }
        }
        outputs.push(v);
        let f = check(&g, &outputs, &moderate_inputs(&mut Rng(9), 2, 20));
        assert!(f.temp_len() > 0, "more than one chunk");
    }

    #[test]
    fn large_random_graph_compiles_and_matches() {
        let mut rng = Rng(4);
        let (g, _) = random_graph(&mut rng, 16, 100_000);
        let inputs = moderate_inputs(&mut rng, 16, 3);
        // the nodes nothing uses: as outputs, they make every node live
        let mut used = vec![false; g.len()];
        for id in 0..g.len() as Id {
            for a in g.op(id).operands() {
                used[a as usize] = true;
            }
        }
        let sinks: Vec<Id> = (0..g.len() as Id).filter(|&i| !used[i as usize]).collect();
        // every node an output: every value stays live to the end (the most stack)
        let all: Vec<Id> = (0..g.len() as Id).collect();
        for (name, outputs) in [("sinks", &sinks), ("every node", &all)] {
            let t = Instant::now();
            let f = CompiledFunction::compile(&g, outputs).expect("compiles");
            let compile = t.elapsed();
            let mut out = vec![0.0; outputs.len()];
            let t = Instant::now();
            for x in &inputs {
                f.call(x, &mut out);
            }
            let call = t.elapsed() / inputs.len() as u32;
            let t = Instant::now();
            let want: Vec<Vec<f64>> = inputs.iter().map(|x| g.eval(x, outputs)).collect();
            let eval = t.elapsed() / inputs.len() as u32;
            for (x, w) in inputs.iter().zip(&want) {
                f.call(x, &mut out);
                let bad = w.iter().zip(&out).filter(|(w, v)| !same(**w, **v)).count();
                assert_eq!(bad, 0, "{bad} outputs differ from the interpreter");
            }
            let finite = want.iter().flatten().filter(|v| v.is_finite()).count();
            println!(
                "large graph, outputs = {name}: {} nodes, {} live non-trivial (work), {} \
                 outputs; compile {compile:.2?}; call {call:.2?}, interpreter {eval:.2?}; \
                 {finite}/{} outputs finite",
                g.len(),
                g.work(outputs),
                outputs.len(),
                want.len() * outputs.len()
            );
            assert!(
                finite * 2 > want.len() * outputs.len(),
                "test too weak: most outputs are not finite"
            );
        }
    }

    #[test]
    fn many_random_graphs_match() {
        let mut rng = Rng(5);
        for _ in 0..30 {
            let n = 1 + rng.below(6);
            let size = 20 + rng.below(600);
            let (g, outputs) = random_graph(&mut rng, n, size);
            let mut inputs = moderate_inputs(&mut rng, n, 20);
            inputs.extend(random_inputs(&mut rng, n, 20));
            check(&g, &outputs, &inputs);
        }
    }

    #[test]
    fn independent_functions_drop_in_any_order() {
        let mut rng = Rng(6);
        let (g1, o1) = random_graph(&mut rng, 3, 300);
        let (g2, o2) = every_op_graph();
        let x1 = moderate_inputs(&mut rng, 3, 10);
        let x2 = random_inputs(&mut rng, 3, 100);
        for first in [true, false] {
            let f1 = check(&g1, &o1, &x1);
            let f2 = check(&g2, &o2, &x2);
            // the same graph twice, with other outputs: a third module
            let f3 = check(&g2, &o2[o2.len() / 2..], &x2);
            if first {
                drop(f1);
                check_again(&f2, &g2, &o2, &x2);
                drop(f2);
            } else {
                drop(f2);
                check_again(&f1, &g1, &o1, &x1);
                drop(f1);
            }
            check_again(&f3, &g2, &o2[o2.len() / 2..], &x2);
        }
    }

    fn check_again(f: &CompiledFunction, g: &Graph, outputs: &[Id], inputs: &[Vec<f64>]) {
        let mut got = vec![0.0; outputs.len()];
        for x in inputs {
            f.call(x, &mut got);
            let want = g.eval(x, outputs);
            assert!(want.iter().zip(&got).all(|(w, v)| same(*w, *v)));
        }
    }

    #[test]
    fn threads_share_and_move_compiled_functions() {
        let mut rng = Rng(7);
        let (g, outputs) = random_graph(&mut rng, 5, 3000);
        let f = CompiledFunction::compile(&g, &outputs).unwrap();
        let per_thread: Vec<Vec<Vec<f64>>> =
            (0..8).map(|_| moderate_inputs(&mut rng, 5, 50)).collect();
        let want: Vec<Vec<Vec<f64>>> = per_thread
            .iter()
            .map(|xs| xs.iter().map(|x| g.eval(x, &outputs)).collect())
            .collect();
        std::thread::scope(|s| {
            for (xs, ws) in per_thread.iter().zip(&want) {
                let f = &f;
                s.spawn(move || {
                    let mut got = vec![0.0; f.num_outputs()];
                    for _ in 0..20 {
                        for (x, w) in xs.iter().zip(ws) {
                            f.call(x, &mut got);
                            assert!(w.iter().zip(&got).all(|(w, v)| same(*w, *v)));
                        }
                    }
                });
            }
        });
        // moved to, called on and dropped by another thread
        let x = per_thread[0][0].clone();
        let got = std::thread::spawn(move || {
            let mut got = vec![0.0; f.num_outputs()];
            f.call(&x, &mut got);
            got
        })
        .join()
        .unwrap();
        assert!(want[0][0].iter().zip(&got).all(|(w, v)| same(*w, *v)));
    }
}
