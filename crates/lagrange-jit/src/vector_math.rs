//! `sin` and `cos` of two lanes at once, as Cranelift IR.
//!
//! Cranelift has no instruction for either, and the scalar library call (one per lane, with the
//! lane moves around it) is what bounds a kernel like sine-Gordon's: ≈ 4.5 ns of its ≈ 5 ns per
//! site. No crate emits Cranelift IR for them, hence this file. The method is Cephes' `sin.c`
//! (S. L. Moshier, *Methods and Programs for Mathematical Functions*, 1989):
//!
//! 1. `k = round(x · 2/π)` by the add-and-subtract of 1.5 · 2⁵² (round to nearest, no
//!    rounding instruction needed), whose low bits are `k` as an integer;
//! 2. `r = x − k·π/2` with π/2 split into three parts whose products with `k` are exact for
//!    |k| < 2³⁰ (Cody–Waite), so `r ∈ [−π/4, π/4]` carries no cancellation error;
//! 3. Cephes' minimax polynomials for sin and cos on `[−π/4, π/4]`; the quadrant `k mod 4`
//!    (plus one for cos) picks one of them and the sign.
//!
//! Lanes with |x| > [`LIMIT`] or not finite take the library call instead (a branch that
//! ordinary arguments never take), or, in loops that must not call, come out NaN, for the
//! caller to redo with the library (see [`crate::site_kernel`]). Against the library the
//! result is within 2 ulp (the test `vector_sin_and_cos_match_the_library` measures it).

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};
use cranelift_frontend::FunctionBuilder;
use cranelift_jit::JITModule;

use crate::codegen::{CodegenError, Imports, Wrapper};
use crate::graph::Fun;

/// Largest |x| the polynomial path takes: `k` stays far below 2³⁰, where the split of π/2
/// stops being exact.
pub(crate) const LIMIT: f64 = 1.0e6;

// The constants as Cephes prints them (more digits than an f64 holds: the nearest f64 is
// meant).
/// Cephes `sincof`: sin r = r + r·z·S(z), z = r².
#[allow(clippy::excessive_precision)]
const SIN: [f64; 6] = [
    1.58962301576546568060E-10,
    -2.50507477628578072866E-8,
    2.75573136213857245213E-6,
    -1.98412698295895385996E-4,
    8.33333333332211858878E-3,
    -1.66666666666666307295E-1,
];
/// Cephes `coscof`: cos r = 1 − z/2 + z²·C(z).
#[allow(clippy::excessive_precision)]
const COS: [f64; 6] = [
    -1.13585365213876817300E-11,
    2.08757008419747316778E-9,
    -2.75573141792967388112E-7,
    2.48015872888517045348E-5,
    -1.38888888888730564116E-3,
    4.16666666666665929218E-2,
];
/// π/2 = `PIO2_1 + PIO2_2 + PIO2_3`; the first two have few enough significant bits that
/// `k · PIO2_i` is exact (Cephes' `DP1..DP3`, doubled).
#[allow(clippy::excessive_precision)]
const PIO2_1: f64 = 2.0 * 7.85398125648498535156E-1;
#[allow(clippy::excessive_precision)]
const PIO2_2: f64 = 2.0 * 3.77489470793079817668E-8;
#[allow(clippy::excessive_precision)]
const PIO2_3: f64 = 2.0 * 2.69515142907905952645E-15;
/// 1.5 · 2⁵²: `(v + M) − M` is `v` rounded to an integer, which sits in the low bits of
/// `v + M`.
const ROUND: f64 = 6_755_399_441_055_744.0;

/// `sin(x)` (or `cos(x)`, with `cos`) of an `f64x2` value. Lanes out of range call the
/// library through `imports`; without `imports` they are NaN instead, and the code has no
/// branch and no call (a call inside a loop makes the register allocator keep every vector
/// value of the loop on the stack, since calls clobber all vector registers).
pub(crate) fn sin_cos(
    module: &mut JITModule,
    b: &mut FunctionBuilder,
    imports: Option<&mut Imports>,
    x: Value,
    cos: bool,
) -> Result<Value, CodegenError> {
    let splat = |b: &mut FunctionBuilder, c: f64| {
        let c = b.ins().f64const(c);
        b.ins().splat(types::F64X2, c)
    };
    let bits = |b: &mut FunctionBuilder, to, v| b.ins().bitcast(to, MemFlagsData::new(), v);
    let two_over_pi = splat(b, std::f64::consts::FRAC_2_PI);
    let round = splat(b, ROUND);
    let scaled = b.ins().fmul(x, two_over_pi);
    let shifted = b.ins().fadd(scaled, round);
    let k = b.ins().fsub(shifted, round);
    let mut r = x;
    for part in [PIO2_1, PIO2_2, PIO2_3] {
        let p = splat(b, part);
        let kp = b.ins().fmul(k, p);
        r = b.ins().fsub(r, kp);
    }
    let z = b.ins().fmul(r, r);
    let horner = |b: &mut FunctionBuilder, coefficients: &[f64; 6]| {
        let mut p = splat(b, coefficients[0]);
        for &c in &coefficients[1..] {
            let c = splat(b, c);
            let pz = b.ins().fmul(p, z);
            p = b.ins().fadd(pz, c);
        }
        p
    };
    // sin r = r + r (z S(z))
    let s = horner(b, &SIN);
    let zs = b.ins().fmul(z, s);
    let rzs = b.ins().fmul(r, zs);
    let sin = b.ins().fadd(r, rzs);
    // cos r = (1 − z/2) + z² C(z)
    let c = horner(b, &COS);
    let half = splat(b, 0.5);
    let one = splat(b, 1.0);
    let hz = b.ins().fmul(half, z);
    let head = b.ins().fsub(one, hz);
    let z2 = b.ins().fmul(z, z);
    let tail = b.ins().fmul(z2, c);
    let cosine = b.ins().fadd(head, tail);
    // the quadrant: cos x = sin(x + π/2) is one quadrant on
    let mut quadrant = bits(b, types::I64X2, shifted);
    if cos {
        let one = b.ins().iconst(types::I64, 1);
        let ones = b.ins().splat(types::I64X2, one);
        quadrant = b.ins().iadd(quadrant, ones);
    }
    let mask = |b: &mut FunctionBuilder, bit: i64| {
        let m = b.ins().iconst(types::I64, bit);
        let m = b.ins().splat(types::I64X2, m);
        b.ins().band(quadrant, m)
    };
    let odd = mask(b, 1);
    let zero = b.ins().iconst(types::I64, 0);
    let zeros = b.ins().splat(types::I64X2, zero);
    let even = b.ins().icmp(IntCC::Equal, odd, zeros);
    let even = bits(b, types::F64X2, even);
    let value = b.ins().bitselect(even, sin, cosine);
    let negative = mask(b, 2);
    let sign = b.ins().ishl_imm_u(negative, 62);
    let value = bits(b, types::I64X2, value);
    let value = b.ins().bxor(value, sign);
    let fast = bits(b, types::F64X2, value);

    // lanes out of range (or NaN, which compares false) take the library call, or are NaN
    let magnitude = b.ins().fabs(x);
    let limit = splat(b, LIMIT);
    let inside = b.ins().fcmp(FloatCC::LessThanOrEqual, magnitude, limit);
    let Some(imports) = imports else {
        let nan = splat(b, f64::NAN);
        let inside = bits(b, types::F64X2, inside);
        return Ok(b.ins().bitselect(inside, fast, nan));
    };
    let all_inside = b.ins().vall_true(inside);
    let slow = b.create_block();
    let join = b.create_block();
    b.append_block_param(join, types::F64X2);
    b.ins().brif(all_inside, join, &[fast.into()], slow, &[]);
    b.switch_to_block(slow);
    let f = if cos { Fun::Cos } else { Fun::Sin };
    let mut vector = fast;
    for l in 0..2u8 {
        let lane = b.ins().extractlane(x, l);
        let y = imports.call(module, b, Wrapper::Fun(f), &[lane])?;
        vector = b.ins().insertlane(vector, y, l);
    }
    b.ins().jump(join, &[vector.into()]);
    b.switch_to_block(join);
    Ok(b.block_params(join)[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codegen::{JitMemory, define, jit_builder};
    use cranelift_codegen::Context;
    use cranelift_codegen::ir::{AbiParam, Signature, UserFuncName};
    use cranelift_frontend::FunctionBuilderContext;
    use cranelift_module::{Linkage, Module};

    type Fn2 = unsafe extern "C" fn(*const f64, *mut f64);

    /// `out[0..2] = sin|cos(x[0..2])`, compiled.
    fn compile(cos: bool, call: bool) -> (JitMemory, Fn2) {
        let mut module = JITModule::new(jit_builder().unwrap());
        let ptr = module.target_config().pointer_type();
        let call_conv = module.isa().default_call_conv();
        let mut sig = Signature::new(call_conv);
        sig.params.push(AbiParam::new(ptr));
        sig.params.push(AbiParam::new(ptr));
        let id = module.declare_function("f", Linkage::Local, &sig).unwrap();
        let mut ctx = Context::new();
        ctx.func.signature = sig;
        ctx.func.name = UserFuncName::user(0, id.as_u32());
        let mut fctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let (input, output) = (b.block_params(entry)[0], b.block_params(entry)[1]);
        let x = b
            .ins()
            .load(types::F64X2, MemFlagsData::new().with_notrap(), input, 0);
        let mut imports = Imports::new(call_conv);
        let imports = call.then_some(&mut imports);
        let y = sin_cos(&mut module, &mut b, imports, x, cos).unwrap();
        b.ins()
            .store(MemFlagsData::new().with_notrap(), y, output, 0);
        b.ins().return_(&[]);
        b.seal_all_blocks();
        b.finalize(module.target_config());
        define(&mut module, id, &mut ctx).unwrap();
        module.finalize_definitions().unwrap();
        let code = module.get_finalized_function(id);
        // SAFETY: the function just compiled: two pointers, no result.
        let f = unsafe { std::mem::transmute::<*const u8, Fn2>(code) };
        (JitMemory::new(module), f)
    }

    fn apply(f: Fn2, x: [f64; 2]) -> [f64; 2] {
        let mut y = [0.0; 2];
        // SAFETY: reads two values of `x`, writes two of `y`.
        unsafe { f(x.as_ptr(), y.as_mut_ptr()) };
        y
    }

    /// Distance in units in the last place of the library's value.
    fn ulps(a: f64, b: f64) -> f64 {
        let ulp = f64::from_bits(b.abs().max(f64::MIN_POSITIVE).to_bits() + 1) - b.abs();
        (a - b).abs() / ulp
    }

    #[test]
    fn vector_sin_and_cos_match_the_library() {
        let (_sin_code, sin) = compile(false, true);
        let (_cos_code, cos) = compile(true, true);
        let (_nan_code, sin_or_nan) = compile(false, false);
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut uniform = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        let mut worst: f64 = 0.0;
        for range in [1e-3, 1.0, 10.0, 1e3, LIMIT] {
            for _ in 0..20_000 {
                let x = [uniform() * range, uniform() * range];
                for (f, reference) in [(sin, f64::sin as fn(f64) -> f64), (cos, f64::cos)] {
                    let y = apply(f, x);
                    for l in 0..2 {
                        worst = worst.max(ulps(y[l], reference(x[l])));
                    }
                }
            }
        }
        // Cephes' polynomials and the exact reduction: measured ≤ 2 ulp (one rounding of
        // the polynomial plus one of the final addition, against a correctly rounded library)
        assert!(worst <= 2.0, "worst {worst} ulp");
        // multiples of π/2, where the reduction matters most, and the signs of each quadrant
        for k in -40..40 {
            let x = f64::from(k) * std::f64::consts::FRAC_PI_2;
            let (s, c) = (apply(sin, [x, -x]), apply(cos, [x, -x]));
            assert!((s[0] - x.sin()).abs() <= 1e-15 && (s[1] + x.sin()).abs() <= 1e-15);
            assert!((c[0] - x.cos()).abs() <= 1e-15 && (c[1] - x.cos()).abs() <= 1e-15);
        }
        // the library takes the lanes out of range, each on its own
        for x in [
            [f64::NAN, 0.5],
            [0.5, f64::INFINITY],
            [1e7, -3e12],
            [1e300, 0.25],
        ] {
            for (f, reference) in [(sin, f64::sin as fn(f64) -> f64), (cos, f64::cos)] {
                let y = apply(f, x);
                for l in 0..2 {
                    let r = reference(x[l]);
                    assert!(
                        y[l].to_bits() == r.to_bits() || (y[l].is_nan() && r.is_nan()),
                        "{x:?}: {y:?}"
                    );
                }
            }
        }
        // without the call, those lanes are NaN and the others the polynomial's
        let y = apply(sin_or_nan, [0.5, 1e7]);
        assert!(y[0] == apply(sin, [0.5, 0.5])[0] && y[1].is_nan());
        // tiny arguments: sin x = x
        assert_eq!(apply(sin, [1e-300, -5e-324]), [1e-300, -5e-324]);
    }
}
