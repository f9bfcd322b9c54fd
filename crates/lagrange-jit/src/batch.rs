//! Batch functions: one compiled loop that evaluates a graph at a whole block of samples, two
//! samples per iteration in `f64x2` lanes.
//!
//! Learning evaluates the same q̈(θ; q, q̇) (and its parameter derivatives) at thousands of
//! samples. Called once per sample, a small compiled function spends about as long in the call,
//! the copies around it and the checks after it as in its arithmetic: the cyclotron's loss
//! gradient is a few dozen instructions. A batch function runs a block in one call, and every
//! instruction works on two samples (the pair kernels of [`crate::kernel`] do the same for
//! terms).
//!
//! **Memory.** Graph inputs are *uniform* (θ: the same for every sample, read from one array)
//! or *per sample*. The caller packs each sample's inputs into a record of
//! [`record_len`](BatchFunction::record_len) values, and the records two by two, interleaved:
//! element `k` of the pair's lane `l` at `2k + l`, so that one vector load reads it for both
//! samples. Outputs come back one record of [`output_len`](BatchFunction::output_len) values per
//! sample, one after the other (not interleaved), so that the caller reads each sample's results
//! as a slice. An odd last sample is the caller's to pad (copy it into both lanes).
//!
//! **Checks.** With [`BatchLayout::check`], each sample's record gets the sum of everything it
//! read (the uniform inputs included) and everything it wrote: finite exactly when all of them
//! are (as the check sum of [`CompiledFunction`](crate::codegen::CompiledFunction)), so a caller
//! learns per sample, without a branch in the loop, which results it may use.
//!
//! **Size.** The loop body is cut into chunks as straight-line code is (a chunk per
//! [`CHUNK_OPERATIONS`](crate::codegen::CHUNK_OPERATIONS)); each chunk is its own loop over the
//! block, and values crossing a cut are kept in a per-sample temp record.

use std::collections::HashMap;

use cranelift_codegen::Context;
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{
    AbiParam, BlockArg, InstBuilder, MemFlagsData, Signature, Type, Value, types,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::JITModule;
use cranelift_module::Module;

use crate::codegen::{
    Chunks, CodegenError, Imports, JitMemory, checked_unused_inputs, codegen_error, compile_chunks,
    emit_operation, is_leaf, jit_builder, schedule, stores_by_node,
};
use crate::graph::{Graph, Id, Op};

/// Samples per loop iteration: `f64x2`, which every x86-64 and aarch64 host has.
pub(crate) const LANES: usize = 2;

/// `batch(uniform, records, outputs, temp, pairs)`.
type BatchFn = unsafe extern "C" fn(*const f64, *const f64, *mut f64, *mut f64, usize);

/// Where a graph input is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BatchInput {
    /// Element of the uniform array (the same for every sample).
    Uniform(u32),
    /// Element of the sample's record.
    Sample(u32),
}

/// Where a [`BatchFunction`] reads its inputs and writes its outputs (see the module
/// documentation).
#[derive(Debug, Clone)]
pub(crate) struct BatchLayout {
    /// Where each graph input slot is read.
    pub inputs: Vec<BatchInput>,
    /// Element of the output record each output goes to.
    pub outputs: Vec<u32>,
    /// Element of the output record that receives the sample's check sum, if any.
    pub check: Option<u32>,
    /// A test of the sample's own results, folded into the check (which must be present):
    /// where it fails, the check is NaN.
    pub accept: Option<Accept>,
    /// Nodes below this are computed where first needed (see [`schedule`]).
    pub defer_below: Id,
}

/// Accept a sample's results only where every `pivots` output exceeds `relative` times the
/// largest `diagonal` output, and that is positive (an elimination without pivoting is then
/// safe: see `ParametricEquations`). Tested in the loop, so that the caller reads one number per
/// sample.
#[derive(Debug, Clone)]
pub(crate) struct Accept {
    /// Output record elements holding M's diagonal.
    pub diagonal: Vec<u32>,
    /// Output record elements holding the pivots.
    pub pivots: Vec<u32>,
    /// The smallest pivot accepted, relative to the largest diagonal entry.
    pub relative: f64,
}

/// A compiled loop over pairs of samples (see the module documentation).
pub(crate) struct BatchFunction {
    /// Owns the executable memory `funcs` point into.
    _module: JitMemory,
    /// The chunks, each a loop over the whole block, run in order.
    funcs: Vec<BatchFn>,
    uniform_len: usize,
    record_len: usize,
    output_len: usize,
    /// Values per sample passed from one chunk to a later one.
    temp_len: usize,
}

impl std::fmt::Debug for BatchFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchFunction")
            .field("chunks", &self.funcs.len())
            .field("record_len", &self.record_len)
            .field("output_len", &self.output_len)
            .field("temp_len", &self.temp_len)
            .finish_non_exhaustive()
    }
}

impl BatchFunction {
    /// Compiles the loop computing `outputs` (nodes of `graph`) per sample.
    ///
    /// # Panics
    ///
    /// If `layout` does not have one entry per input slot and per output, or an output is not a
    /// node of `graph`.
    pub(crate) fn compile(
        graph: &Graph,
        outputs: &[Id],
        layout: &BatchLayout,
    ) -> Result<Self, CodegenError> {
        assert_eq!(
            layout.inputs.len(),
            graph.num_inputs(),
            "one place per input"
        );
        assert_eq!(layout.outputs.len(), outputs.len(), "one place per output");
        assert!(
            layout.accept.is_none() || layout.check.is_some(),
            "the acceptance test writes to the check"
        );
        assert!(
            outputs.iter().all(|&o| (o as usize) < graph.len()),
            "outputs are nodes"
        );
        let max = |it: &mut dyn Iterator<Item = u32>| it.map(|k| k as usize + 1).max().unwrap_or(0);
        let uniform_len = max(&mut layout.inputs.iter().filter_map(|i| match i {
            BatchInput::Uniform(k) => Some(*k),
            BatchInput::Sample(_) => None,
        }));
        let record_len = max(&mut layout.inputs.iter().filter_map(|i| match i {
            BatchInput::Sample(k) => Some(*k),
            BatchInput::Uniform(_) => None,
        }));
        let output_len = max(&mut layout.outputs.iter().chain(&layout.check).copied());
        // vector loads and stores address `base + 16 k` with a 32-bit signed offset
        if [uniform_len, record_len, output_len]
            .iter()
            .any(|&len| len >= (i32::MAX / 16) as usize)
        {
            return Err(codegen_error(
                "records longer than a load or store offset reaches",
            ));
        }

        let mut module = JITModule::new(jit_builder()?);
        let ptr = module.target_config().pointer_type();
        let call_conv = module.isa().default_call_conv();
        let mut sig = Signature::new(call_conv);
        for _ in 0..5 {
            sig.params.push(AbiParam::new(ptr));
        }
        let order = schedule(graph, outputs, layout.defer_below);
        let chunks = Chunks::new(graph, &order);
        let stores = stores_by_node(outputs);
        let live = graph.live(outputs);
        let entries = compile_chunks(
            &mut module,
            &sig,
            "lagrange_jit_batch",
            chunks.list.len(),
            |module, ctx, fctx, c| {
                let unused = checked_unused_inputs(graph, &live, c == 0 && layout.check.is_some());
                let emitter = Emitter {
                    graph,
                    layout,
                    chunks: &chunks,
                    stores: &stores,
                    record_len,
                    output_len,
                    first_chunk: c == 0,
                    last_chunk: c + 1 == chunks.list.len(),
                    ptr,
                };
                emitter.emit(module, ctx, fctx, &unused, &chunks.list[c])
            },
        )?;
        let funcs = entries
            .into_iter()
            .map(|code| {
                // SAFETY: `code` is the entry of a function just compiled with the signature
                // `sig`: the host's C calling convention, five pointer-sized arguments, no
                // result: `BatchFn`.
                unsafe { std::mem::transmute::<*const u8, BatchFn>(code) }
            })
            .collect();
        Ok(Self {
            _module: JitMemory::new(module),
            funcs,
            uniform_len,
            record_len,
            output_len,
            temp_len: chunks.temp_len,
        })
    }

    /// Values per sample record.
    pub(crate) fn record_len(&self) -> usize {
        self.record_len
    }

    /// Values per output record.
    pub(crate) fn output_len(&self) -> usize {
        self.output_len
    }

    /// Temp values per sample.
    pub(crate) fn temp_len(&self) -> usize {
        self.temp_len
    }

    /// Runs the loop over the pairs in `records` (`2 record_len` values each), writing
    /// `output_len` values per sample to `outputs` (sample `s`'s record at `s output_len`).
    ///
    /// # Panics
    ///
    /// If `records` is not a whole number of pairs, or an array is too short: `uniform` for the
    /// layout, `outputs` for the pairs' outputs, `temp` for `2 temp_len` values per pair.
    pub(crate) fn run(
        &self,
        uniform: &[f64],
        records: &[f64],
        outputs: &mut [f64],
        temp: &mut [f64],
    ) {
        let pair = LANES * self.record_len;
        assert!(
            pair > 0 && records.len().is_multiple_of(pair),
            "whole pairs of records"
        );
        let pairs = records.len() / pair;
        assert!(
            uniform.len() >= self.uniform_len
                && outputs.len() >= pairs * LANES * self.output_len
                && temp.len() >= pairs * LANES * self.temp_len,
            "arrays shorter than the layout"
        );
        for f in &self.funcs {
            // SAFETY: the code reads `uniform` at the layout's elements (checked above), each
            // pair's record and temp values within the pair's `2 record_len` and `2 temp_len`,
            // writes each pair's outputs within its `2 output_len` and temp values (all within
            // the lengths checked above, for `pairs` pairs); unaligned vector accesses are
            // allowed (no alignment flag), and the module holding the code lives as long as
            // `self`.
            unsafe {
                f(
                    uniform.as_ptr(),
                    records.as_ptr(),
                    outputs.as_mut_ptr(),
                    temp.as_mut_ptr(),
                    pairs,
                )
            }
        }
    }
}

/// What the emission of one chunk reads.
struct Emitter<'a> {
    graph: &'a Graph,
    layout: &'a BatchLayout,
    chunks: &'a Chunks,
    stores: &'a [(Id, usize)],
    record_len: usize,
    output_len: usize,
    first_chunk: bool,
    last_chunk: bool,
    ptr: Type,
}

/// The values of the loop body being emitted.
struct Body {
    uniform: Value,
    record: Value,
    out: Value,
    temp: Value,
    values: HashMap<Id, Value>,
    /// The check sum in 4 independent accumulators (short dependency chains).
    check: [Option<Value>; 4],
    next_check: usize,
}

impl Body {
    fn add_check(&mut self, b: &mut FunctionBuilder, on: bool, v: Value) {
        if on {
            let slot = &mut self.check[self.next_check % 4];
            *slot = Some(slot.map_or(v, |c| b.ins().fadd(c, v)));
            self.next_check += 1;
        }
    }
}

/// Vector loads and stores: never trapping, but with no alignment promise (records are
/// `f64` arrays, 8-byte aligned), so that the code generator never folds them into an SSE
/// instruction that needs 16.
fn vector_memory() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

impl Emitter<'_> {
    /// Byte offset of element `k` of lane `l`'s output record from the pair's.
    fn output_offset(&self, l: usize, k: u32) -> i32 {
        (8 * (l * self.output_len + k as usize)) as i32
    }

    /// Stores each lane of `v` as element `k` of its sample's output record.
    fn store_lanes(&self, b: &mut FunctionBuilder, out: Value, v: Value, k: u32) {
        for l in 0..LANES {
            let x = b.ins().extractlane(v, l as u8);
            let at = self.output_offset(l, k);
            b.ins().store(MemFlagsData::trusted(), x, out, at);
        }
    }

    /// `check` where lane `l`'s results pass `accept`, NaN where not (reading the outputs back
    /// from the lane's record, where this chunk or an earlier one stored them).
    fn accept(
        &self,
        b: &mut FunctionBuilder,
        accept: &Accept,
        out: Value,
        l: usize,
        check: Value,
    ) -> Value {
        let mem = MemFlagsData::trusted();
        let load = |b: &mut FunctionBuilder, k: u32| {
            b.ins().load(types::F64, mem, out, self.output_offset(l, k))
        };
        let mut scale = b.ins().f64const(0.0);
        for &k in &accept.diagonal {
            let d = load(b, k);
            // NaN-propagating: a NaN on the diagonal fails the test below
            scale = b.ins().fmax(scale, d);
        }
        let zero = b.ins().f64const(0.0);
        let mut ok = b.ins().fcmp(FloatCC::GreaterThan, scale, zero);
        let relative = b.ins().f64const(accept.relative);
        let floor = b.ins().fmul(scale, relative);
        for &k in &accept.pivots {
            let p = load(b, k);
            let above = b.ins().fcmp(FloatCC::GreaterThan, p, floor);
            ok = b.ins().band(ok, above);
        }
        let nan = b.ins().f64const(f64::NAN);
        b.ins().select(ok, check, nan)
    }

    fn operand(&self, b: &mut FunctionBuilder, body: &mut Body, a: Id) -> Value {
        if let Some(&v) = body.values.get(&a) {
            return v;
        }
        let check = self.layout.check.is_some();
        let v = match self.graph.op(a) {
            Op::Const(bits) => {
                let c = b.ins().f64const(f64::from_bits(bits));
                b.ins().splat(types::F64X2, c)
            }
            Op::Input(i) => {
                let v = match self.layout.inputs[i as usize] {
                    BatchInput::Uniform(k) => {
                        let x = b.ins().load(
                            types::F64,
                            MemFlagsData::trusted(),
                            body.uniform,
                            8 * k as i32,
                        );
                        b.ins().splat(types::F64X2, x)
                    }
                    BatchInput::Sample(k) => {
                        b.ins()
                            .load(types::F64X2, vector_memory(), body.record, 16 * k as i32)
                    }
                };
                body.add_check(b, check, v);
                v
            }
            _ => {
                let slot = self.chunks.temp_slot[a as usize]
                    .expect("values from earlier chunks are kept in temp");
                b.ins()
                    .load(types::F64X2, vector_memory(), body.temp, 16 * slot as i32)
            }
        };
        body.values.insert(a, v);
        v
    }

    /// Emits the chunk as a loop over the pairs; the inputs `checked` are read into the check
    /// sum only.
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
        let entry = b.create_block();
        let body_block = b.create_block();
        let exit = b.create_block();
        b.append_block_params_for_function_params(entry);
        for _ in 0..4 {
            b.append_block_param(body_block, self.ptr);
        }
        b.switch_to_block(entry);
        let a = b.block_params(entry).to_vec();
        let uniform = a[0];
        let args: [BlockArg; 4] = [a[1].into(), a[2].into(), a[3].into(), a[4].into()];
        b.ins().brif(a[4], body_block, &args, exit, &[]);

        b.switch_to_block(body_block);
        let a = b.block_params(body_block).to_vec();
        let mut body = Body {
            uniform,
            record: a[0],
            out: a[1],
            temp: a[2],
            values: HashMap::with_capacity(2 * chunk.len()),
            check: [None; 4],
            next_check: 0,
        };
        let mut imports = Imports::new(call_conv);
        let check = self.layout.check.is_some();
        for &input in checked {
            self.operand(&mut b, &mut body, input);
        }
        for &id in chunk {
            let op = self.graph.op(id);
            let v = if is_leaf(op) {
                self.operand(&mut b, &mut body, id)
            } else {
                let x = |b: &mut FunctionBuilder, i: Id| self.operand(b, &mut body, i);
                emit_operation(module, &mut b, &mut imports, op, x)?
            };
            body.values.insert(id, v);
            if let (false, Some(slot)) = (is_leaf(op), self.chunks.temp_slot[id as usize]) {
                b.ins()
                    .store(vector_memory(), v, body.temp, 16 * slot as i32);
            }
            let first = self.stores.partition_point(|&(o, _)| o < id);
            for &(_, k) in self.stores[first..].iter().take_while(|&&(o, _)| o == id) {
                self.store_lanes(&mut b, body.out, v, self.layout.outputs[k]);
                body.add_check(&mut b, check, v);
            }
        }
        if let Some(slot) = self.layout.check {
            let [c0, c1, c2, c3] = body.check;
            let mut pair = |p: Option<Value>, q: Option<Value>| match (p, q) {
                (Some(p), Some(q)) => Some(b.ins().fadd(p, q)),
                (p, q) => p.or(q),
            };
            let (low, high) = (pair(c0, c2), pair(c1, c3));
            let sum = pair(low, high);
            // the first chunk starts the sample's check sum, later chunks add to it
            let total = match sum {
                Some(s) => s,
                None => {
                    let z = b.ins().f64const(0.0);
                    b.ins().splat(types::F64X2, z)
                }
            };
            let mem = MemFlagsData::trusted();
            for l in 0..LANES {
                let at = self.output_offset(l, slot);
                let mut x = b.ins().extractlane(total, l as u8);
                if !self.first_chunk {
                    let old = b.ins().load(types::F64, mem, body.out, at);
                    x = b.ins().fadd(old, x);
                }
                if let (true, Some(accept)) = (self.last_chunk, &self.layout.accept) {
                    x = self.accept(&mut b, accept, body.out, l, x);
                }
                b.ins().store(mem, x, body.out, at);
            }
        }
        let lanes = LANES as i64;
        let next_record = b.ins().iadd_imm_s(a[0], 8 * lanes * self.record_len as i64);
        let next_out = b.ins().iadd_imm_s(a[1], 8 * lanes * self.output_len as i64);
        let next_temp = b
            .ins()
            .iadd_imm_s(a[2], 8 * lanes * self.chunks.temp_len as i64);
        let left = b.ins().iadd_imm_s(a[3], -1);
        let args: [BlockArg; 4] = [
            next_record.into(),
            next_out.into(),
            next_temp.into(),
            left.into(),
        ];
        b.ins().brif(left, body_block, &args, exit, &[]);

        b.switch_to_block(exit);
        b.ins().return_(&[]);
        b.seal_all_blocks();
        b.finalize(module.target_config());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A graph with inputs `[a (uniform), x (sample), y (sample)]` and outputs
    /// `[a x + y, sin(x) / y]`, with checks.
    fn small() -> (Graph, Vec<Id>, BatchLayout) {
        let mut g = Graph::new(3);
        let (a, x, y) = (g.input(0), g.input(1), g.input(2));
        let ax = g.mul(a, x);
        let first = g.add(ax, y);
        let s = g.fun(crate::graph::Fun::Sin, x);
        let second = g.div(s, y);
        let layout = BatchLayout {
            inputs: vec![
                BatchInput::Uniform(0),
                BatchInput::Sample(0),
                BatchInput::Sample(1),
            ],
            outputs: vec![0, 1],
            check: Some(2),
            accept: None,
            defer_below: 0,
        };
        (g, vec![first, second], layout)
    }

    /// Packs `samples` (each `[x, y]`) into interleaved pairs, the odd last one padded.
    fn pack(samples: &[[f64; 2]]) -> Vec<f64> {
        let mut records = Vec::new();
        for pair in samples.chunks(2) {
            let second = pair.get(1).unwrap_or(&pair[0]);
            for k in 0..2 {
                records.push(pair[0][k]);
                records.push(second[k]);
            }
        }
        records
    }

    #[test]
    fn every_sample_matches_the_interpreter_bit_for_bit() {
        let (g, outputs, layout) = small();
        let f = BatchFunction::compile(&g, &outputs, &layout).unwrap();
        assert_eq!((f.record_len(), f.output_len()), (2, 3));
        let samples: Vec<[f64; 2]> = (0..7)
            .map(|i| [0.3 * i as f64 - 1.0, 1.5 + 0.25 * i as f64])
            .collect();
        let records = pack(&samples);
        let pairs = samples.len().div_ceil(2);
        let mut out = vec![f64::NAN; pairs * 2 * f.output_len()];
        let mut temp = vec![0.0; pairs * 2 * f.temp_len()];
        f.run(&[0.7], &records, &mut out, &mut temp);
        for (s, &[x, y]) in samples.iter().enumerate() {
            let at = |k: usize| out[s * f.output_len() + k];
            let expected = g.eval(&[0.7, x, y], &outputs);
            // the same operations in the same order as the interpreter: equal bits
            assert_eq!(at(0).to_bits(), expected[0].to_bits(), "sample {s}");
            assert_eq!(at(1).to_bits(), expected[1].to_bits(), "sample {s}");
            // the check: every input read and every output written, summed
            let sum = 0.7 + x + y + expected[0] + expected[1];
            assert!(
                (at(2) - sum).abs() <= 1e-14 * sum.abs().max(1.0),
                "check {s}"
            );
        }
    }

    #[test]
    fn the_check_marks_only_the_sample_that_is_not_finite() {
        let (g, outputs, layout) = small();
        let f = BatchFunction::compile(&g, &outputs, &layout).unwrap();
        // y = 0 in sample 1 only: sin(x)/0 is infinite there
        let records = pack(&[[1.0, 2.0], [1.0, 0.0]]);
        let mut out = vec![0.0; 2 * f.output_len()];
        f.run(&[1.0], &records, &mut out, &mut []);
        assert!(out[2].is_finite(), "sample 0 is finite");
        assert!(!out[3 + 2].is_finite(), "sample 1 is not");
    }

    #[test]
    fn the_acceptance_test_leaves_the_check_nan_where_a_pivot_is_too_small() {
        // outputs [x, d, x]: the result, a diagonal entry d, a pivot x; accepted where x > 1e-3 d
        let g = Graph::new(2);
        let (x, d) = (g.input(0), g.input(1));
        let layout = BatchLayout {
            inputs: vec![BatchInput::Sample(0), BatchInput::Sample(1)],
            outputs: vec![0, 1, 2],
            check: Some(3),
            accept: Some(Accept {
                diagonal: vec![1],
                pivots: vec![2],
                relative: 1e-3,
            }),
            defer_below: 0,
        };
        let f = BatchFunction::compile(&g, &[x, d, x], &layout).unwrap();
        // (x, d): accepted, negative pivot, too small a pivot, zero diagonal, NaN diagonal
        let cases = [(0.5, 1.0, true), (-0.5, 1.0, false), (1e-4, 1.0, false)];
        let cases = [
            &cases[..],
            &[(0.5, 0.0, false), (0.5, f64::NAN, false), (2e-3, 1.0, true)],
        ]
        .concat();
        let samples: Vec<[f64; 2]> = cases.iter().map(|&(x, d, _)| [x, d]).collect();
        let mut out = vec![0.0; cases.len() * f.output_len()];
        f.run(&[], &pack(&samples), &mut out, &mut []);
        for (s, &(x, d, accepted)) in cases.iter().enumerate() {
            let check = out[s * f.output_len() + 3];
            assert_eq!(
                check.is_finite(),
                accepted,
                "x = {x}, d = {d}: check {check}"
            );
            if accepted {
                // inputs and outputs summed (in 4 accumulators: rounding differs by an ulp)
                let sum = 3.0 * x + 2.0 * d;
                assert!((check - sum).abs() <= 1e-15 * sum, "{check} vs {sum}");
            }
        }
    }

    #[test]
    fn a_loop_body_cut_into_chunks_passes_values_through_temp() {
        // a recurrence longer than one chunk, whose every step also reads x: values made in
        // one chunk are read in later ones
        let mut g = Graph::new(1);
        let x = g.input(0);
        let mut v = x;
        let c = g.constant(1e-4);
        for _ in 0..(crate::codegen::CHUNK_OPERATIONS * 2 + 10) / 3 {
            let a = g.mul(v, c);
            let b = g.add(a, x);
            v = g.fun(crate::graph::Fun::Sin, b);
        }
        let layout = BatchLayout {
            inputs: vec![BatchInput::Sample(0)],
            outputs: vec![0],
            check: None,
            accept: None,
            defer_below: 0,
        };
        let f = BatchFunction::compile(&g, &[v], &layout).unwrap();
        assert!(f.funcs.len() > 1 && f.temp_len() > 0, "more than one chunk");
        let xs = [0.1, -0.4, 2.0, 0.9];
        let records: Vec<f64> = vec![xs[0], xs[1], xs[2], xs[3]];
        let mut out = vec![0.0; 4];
        let mut temp = vec![0.0; 4 * f.temp_len()];
        f.run(&[], &records, &mut out, &mut temp);
        for (s, &x) in xs.iter().enumerate() {
            assert_eq!(
                out[s].to_bits(),
                g.eval(&[x], &[v])[0].to_bits(),
                "sample {s}"
            );
        }
    }
}
