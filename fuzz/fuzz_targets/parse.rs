//! Fuzz target: the expression parser on arbitrary UTF-8.
//!
//! Run (needs a nightly toolchain and `cargo install cargo-fuzz`), from the repository root:
//!
//! ```text
//! cargo +nightly fuzz run parse                      # until a crash is found (Ctrl-C to stop)
//! cargo +nightly fuzz run parse -- -max_total_time=300 -max_len=4096
//! cargo +nightly fuzz run system_file                # the TOML system-file loader
//! ```
//!
//! A crash is written to `fuzz/artifacts/parse/`; reproduce it with
//! `cargo +nightly fuzz run parse fuzz/artifacts/parse/<file>`. Without nightly,
//! `cargo check --manifest-path fuzz/Cargo.toml` at least builds the targets.
//!
//! Properties checked on every input: `parse` returns (never panics, never overflows the
//! stack); an error's column lies within the input (or one past its end); a parsed expression
//! evaluates over `f64` and dual numbers without panicking, and its printed form parses back
//! to an expression with the same value.

#![no_main]

use lagrange::expr::{Symbols, parse};
use lagrange::num_dual::Dual64;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|source: &str| {
    let symbols = Symbols::new(["x", "y"], ["m", "k"]);
    match parse(source, &symbols) {
        Err(e) => {
            assert!(
                e.column >= 1 && e.column <= source.chars().count() + 1,
                "{e} for {source:?}"
            );
        }
        Ok(expr) => {
            let (t, q, v, p) = (0.3, [0.7, -1.1], [0.2, 1.9], [1.5, 2.5]);
            let value = expr.eval_f64(t, &q, &v, &p);
            let d = |x: f64| Dual64::from(x);
            let dual = expr.eval(
                d(t),
                &[Dual64::new(q[0], 1.0), d(q[1])],
                &[d(v[0]), d(v[1])],
                &[d(p[0]), d(p[1])],
            );
            let same = |a: f64, b: f64| {
                a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
            };
            // Dual and f64 real parts agree only up to rounding (num-dual forms a/b as a·(1/b)
            // and x^n as x^(n−3)·x³), which ill-conditioned random input amplifies without bound;
            // agreement on well-conditioned input is what the property tests check.
            std::hint::black_box(dual);
            let text = expr.to_string();
            let again = parse(&text, &symbols)
                .unwrap_or_else(|e| panic!("{source:?} printed as {text:?}: {e}"));
            assert!(
                same(again.eval_f64(t, &q, &v, &p), value),
                "{source:?} printed as {text:?}"
            );
            let _ = expr.top_level_terms();
            let _ = expr.coordinates_used();
        }
    }
});
