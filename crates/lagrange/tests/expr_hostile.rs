//! Hostile input must not crash the process: deep nesting and huge sums either work or give a
//! clean error, in linear time. The parser, the tape builder, printing and evaluation are all
//! iterative, so these run on the default 2 MiB test-thread stack.
//!
//! Time limits are generous (a few seconds in `--release`, several times that in debug builds)
//! and only catch quadratic blow-up: each case takes milliseconds when linear.

use lagrange::Lagrangian;
use lagrange::expr::{Symbols, TextSystem, parse};
use lagrange::num_dual::{Dual64, HyperDual64};
use std::time::{Duration, Instant};

fn symbols() -> Symbols {
    Symbols::new(["x"], ["k"])
}

fn budget() -> Duration {
    if cfg!(debug_assertions) {
        Duration::from_secs(30)
    } else {
        Duration::from_secs(3)
    }
}

#[test]
fn ten_thousand_nested_parentheses() {
    let start = Instant::now();
    let src = format!("{}x{}", "(".repeat(10_000), ")".repeat(10_000));
    let e = parse(&src, &symbols()).unwrap();
    assert_eq!(e.eval_f64(0.0, &[1.25], &[0.0], &[0.0]), 1.25);
    // Unbalanced: clean error with the column of the innermost unclosed `(`.
    let err = parse(&src[..src.len() - 1], &symbols()).unwrap_err();
    assert_eq!(err.column, 1);
    assert!(err.message.contains("unclosed"), "{err}");
    let deep_neg = format!("{}(-x){}", "(-".repeat(10_000), ")".repeat(10_000));
    let e = parse(&deep_neg, &symbols()).unwrap();
    assert_eq!(e.eval_f64(0.0, &[2.0], &[0.0], &[0.0]), -2.0); // 10 001 negations
    assert!(start.elapsed() < budget(), "{:?}", start.elapsed());
}

#[test]
fn five_thousand_nested_sines() {
    let start = Instant::now();
    let src = format!("{}x{}", "sin(".repeat(5_000), ")".repeat(5_000));
    let e = parse(&src, &symbols()).unwrap();
    assert_eq!(e.len(), 5_000);
    let mut expect = 0.5_f64;
    let mut d_expect = 1.0;
    for _ in 0..5_000 {
        d_expect *= expect.cos();
        expect = expect.sin();
    }
    assert_eq!(e.eval_f64(0.0, &[0.5], &[0.0], &[0.0]), expect);
    // Derivative through the whole chain (same operations as the loop above).
    let d = e.eval(
        Dual64::from(0.0),
        &[Dual64::from(0.5).derivative()],
        &[Dual64::from(0.0)],
        &[Dual64::from(0.0)],
    );
    assert!(
        (d.eps - d_expect).abs() <= 1e-12 * d_expect.abs(),
        "{} vs {d_expect}",
        d.eps
    );
    // Printing is iterative too.
    let text = e.to_string();
    assert_eq!(text.len(), src.len());
    // Constant argument folds to a constant without recursion.
    let folded = parse(
        &format!("{}0.5{}", "sin(".repeat(5_000), ")".repeat(5_000)),
        &symbols(),
    )
    .unwrap();
    assert_eq!(folded.as_constant(), Some(expect));
    assert!(start.elapsed() < budget(), "{:?}", start.elapsed());
}

#[test]
fn sum_of_a_hundred_thousand_terms() {
    let start = Instant::now();
    let terms: Vec<String> = (0..100_000)
        .map(|i| format!("{}*x^{}", i % 7, i % 5))
        .collect();
    let src = terms.join(" + ");
    let e = parse(&src, &symbols()).unwrap();
    let x = 1.1_f64;
    let expect: f64 = (0..100_000).map(|i| f64::from(i % 7) * x.powi(i % 5)).sum();
    let got = e.eval_f64(0.0, &[x], &[0.0], &[0.0]);
    // Summation order is the same (left to right); powers of 1.1 are exact-ish but x^3 via powi
    // may differ from powi in the reference by an ulp, so allow relative rounding.
    assert!(
        (got - expect).abs() <= 1e-12 * expect.abs(),
        "{got} vs {expect}"
    );
    // Shared subexpressions: x², x³, x⁴ and the 30 distinct scaled powers are computed once,
    // then one addition per term (`0*x` is not folded: it is NaN for infinite x).
    assert!(e.len() <= 100_000 + 3 + 30, "{} instructions", e.len());
    assert_eq!(e.top_level_terms().len(), 100_000);
    let text = e.to_string();
    assert!(text.len() > 500_000);
    // Differences and a long chain of distinct variables' products too.
    let src = (0..100_000)
        .map(|i| format!("{}*k", i))
        .collect::<Vec<_>>()
        .join(" - ");
    let e = parse(&src, &symbols()).unwrap();
    let expect = -(1..100_000).map(f64::from).sum::<f64>();
    assert_eq!(e.eval_f64(0.0, &[0.0], &[0.0], &[1.0]), expect);
    assert!(start.elapsed() < budget(), "{:?}", start.elapsed());
}

#[test]
fn long_product_and_power_tower() {
    let start = Instant::now();
    let src = vec!["x"; 100_000].join("*");
    let e = parse(&src, &symbols()).unwrap();
    assert_eq!(e.eval_f64(0.0, &[1.0], &[0.0], &[0.0]), 1.0);
    // Right-associative power tower: the operator stack holds 50 000 entries.
    let src = vec!["1"; 50_000].join("^");
    assert_eq!(parse(&src, &symbols()).unwrap().as_constant(), Some(1.0));
    let src = format!("{}x", "-".repeat(100_000));
    assert_eq!(
        parse(&src, &symbols())
            .unwrap()
            .eval_f64(0.0, &[3.0], &[0.0], &[0.0]),
        3.0
    );
    assert!(start.elapsed() < budget(), "{:?}", start.elapsed());
}

#[test]
fn garbage_gives_clean_errors() {
    for src in [
        ")".repeat(10_000),
        "(".repeat(10_000),
        "sin(".repeat(5_000),
        "+".repeat(10_000),
        ",".repeat(1_000),
        "x".repeat(100_000),
        "1".repeat(400),
        "\0\u{feff}\u{202e}".to_string(),
        "e".repeat(1000) + "1",
        "9".repeat(10_000) + "e9999999999999999999",
    ] {
        let _ = parse(&src, &symbols()); // must not panic; result may be Ok or Err
    }
    assert!(parse(&"(".repeat(10_000), &symbols()).is_err());
    assert!(
        parse(&"1".repeat(400), &symbols()).is_err(),
        "1e399 overflows"
    );
}

#[test]
fn deep_text_system_evaluates_over_hyperduals() {
    // A system file whose L is deeply nested still goes through the engine.
    let l = format!(
        "0.5*x_dot^2 - {}0.5*k*x^2{}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let toml = format!("coordinates = [\"x\"]\nlagrangian = \"{l}\"\n[parameters]\nk = 4.0\n");
    let sys = TextSystem::from_toml_str(&toml).unwrap();
    let a = lagrange::accelerations(&sys, 0.0_f64, &[0.5], &[0.0]).unwrap();
    assert!((a[0] + 2.0).abs() < 1e-14);
    type H = HyperDual64;
    let x = H::from_re(0.5).derivative1().derivative2();
    let v = sys.lagrangian(H::from_re(0.0), &[x], &[H::from_re(1.0)]);
    // L = ½ − 2x² at x = ½: value 0, ∂²L/∂x² = −4k/… = −8·½ = −4.
    assert!(
        v.re.abs() < 1e-15 && (v.eps1eps2 + 4.0).abs() < 1e-14,
        "{v}"
    );
}
