//! Property tests: random expression trees, printed to text with the language's precedence
//! rules (minimal parentheses) and parsed back, evaluate like the tree evaluated directly in
//! Rust; over dual numbers the tape's derivative equals the analytic (hand chain-rule)
//! derivative of the tree.
//!
//! Tolerances. The tape performs the same IEEE operations as the direct evaluation except for
//! exact rewrites (sign folding, `x^2 → x*x`, `c - x → -x + c`) and a few that round
//! differently (`x^-1 → 1/x`, `x^0.5 → sqrt`, constant folding of `pow`): values must agree to
//! 1e-12 relative to the largest intermediate magnitude of the evaluation. Derivatives are
//! compared with an independent implementation of the chain rule whose rounding differs
//! (`tan' = 1 + tan²` vs `1/cos²`, ...), so they agree to 1e-9 of that magnitude. Cases whose
//! intermediates exceed 1e6 (or are not finite) are discarded: there, rounding differences
//! are amplified beyond any fixed tolerance and say nothing about the parser.

use lagrange::Scalar;
use lagrange::expr::{Symbols, parse};
use lagrange::num_dual::Dual64;
use proptest::prelude::*;

/// Inputs: x, y, x_dot, y_dot, t, k (parameter).
const NAMES: [&str; 6] = ["x", "y", "x_dot", "y_dot", "t", "k"];

#[derive(Debug, Clone, Copy)]
enum Fun {
    Sin,
    Cos,
    Tan,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Exp,
    Abs,
    /// `sqrt(u^2 + 1)`
    Sqrt,
    /// `log(u^2 + 1)`
    Log,
    /// `asin(0.5*tanh(u))`
    Asin,
    /// `acos(0.5*tanh(u))`
    Acos,
}

#[derive(Debug, Clone)]
enum Tree {
    Num(f64),
    Pi,
    Var(usize),
    Neg(Box<Tree>),
    Add(Box<Tree>, Box<Tree>),
    Sub(Box<Tree>, Box<Tree>),
    Mul(Box<Tree>, Box<Tree>),
    Div(Box<Tree>, Box<Tree>),
    /// `a^n` (printed with `^` or `**`, or as `pow(a, n)`), `n` a small integer or 0.5/1.5.
    Pow(Box<Tree>, f64, u8),
    /// `pow(a^2 + 1, b)`: variable exponent on a positive base.
    PowVar(Box<Tree>, Box<Tree>),
    Fun(Fun, Box<Tree>),
    Atan2(Box<Tree>, Box<Tree>),
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        (-3.0..3.0f64).prop_map(|c| Tree::Num((c * 8.0).round() / 8.0)),
        (1e-3..1e3f64).prop_map(Tree::Num),
        Just(Tree::Pi),
        (0..NAMES.len()).prop_map(Tree::Var),
    ];
    let fun = prop_oneof![
        Just(Fun::Sin),
        Just(Fun::Cos),
        Just(Fun::Tan),
        Just(Fun::Atan),
        Just(Fun::Sinh),
        Just(Fun::Cosh),
        Just(Fun::Tanh),
        Just(Fun::Exp),
        Just(Fun::Abs),
        Just(Fun::Sqrt),
        Just(Fun::Log),
        Just(Fun::Asin),
        Just(Fun::Acos),
    ];
    leaf.prop_recursive(5, 48, 2, move |inner| {
        let b = || inner.clone().prop_map(Box::new);
        prop_oneof![
            b().prop_map(Tree::Neg),
            (b(), b()).prop_map(|(a, c)| Tree::Add(a, c)),
            (b(), b()).prop_map(|(a, c)| Tree::Sub(a, c)),
            (b(), b()).prop_map(|(a, c)| Tree::Mul(a, c)),
            (b(), b()).prop_map(|(a, c)| Tree::Div(a, c)),
            (
                b(),
                prop_oneof![(-3..=4i32).prop_map(f64::from), Just(0.5), Just(1.5)],
                0..3u8
            )
                .prop_map(|(a, n, s)| Tree::Pow(a, n, s)),
            (b(), b()).prop_map(|(a, c)| Tree::PowVar(a, c)),
            (fun.clone(), b()).prop_map(|(f, a)| Tree::Fun(f, a)),
            (b(), b()).prop_map(|(a, c)| Tree::Atan2(a, c)),
        ]
    })
}

/// Precedence of a printed tree: 1 sums, 2 products, 3 prefix minus, 4 powers, 5 atoms.
fn prec(t: &Tree) -> u8 {
    match t {
        // -0.0 prints as "-0" too, a prefix minus that binds looser than `^`.
        Tree::Num(c) if c.is_sign_negative() => 3,
        Tree::Num(_)
        | Tree::Pi
        | Tree::Var(_)
        | Tree::Fun(..)
        | Tree::Atan2(..)
        | Tree::PowVar(..) => 5,
        Tree::Pow(_, _, 2) => 5,
        Tree::Neg(_) => 3,
        Tree::Add(..) | Tree::Sub(..) => 1,
        Tree::Mul(..) | Tree::Div(..) => 2,
        Tree::Pow(..) => 4,
    }
}

/// Prints with minimal parentheses under the documented rules (`-` binds looser than `^`,
/// `^` is right-associative, the rest left-associative).
fn print(t: &Tree, out: &mut String) {
    let sub = |t: &Tree, min: u8, out: &mut String| {
        if prec(t) < min {
            out.push('(');
            print(t, out);
            out.push(')');
        } else {
            print(t, out);
        }
    };
    match t {
        Tree::Num(c) => {
            // Alternate between plain and exponent notation.
            if c.fract() == 0.0 || c.abs() < 1.0 {
                out.push_str(&format!("{c}"));
            } else {
                out.push_str(&format!("{c:e}"));
            }
        }
        Tree::Pi => out.push_str("pi"),
        Tree::Var(i) => out.push_str(NAMES[*i]),
        Tree::Neg(a) => {
            out.push('-');
            sub(a, 4, out);
        }
        Tree::Add(a, b) | Tree::Sub(a, b) | Tree::Mul(a, b) | Tree::Div(a, b) => {
            let (op, p) = match t {
                Tree::Add(..) => (" + ", 1),
                Tree::Sub(..) => (" - ", 1),
                Tree::Mul(..) => ("*", 2),
                _ => (" / ", 2),
            };
            sub(a, p, out);
            out.push_str(op);
            sub(b, p + 1, out);
        }
        Tree::Pow(a, n, style) => {
            if *style == 2 {
                out.push_str("pow(");
                print(a, out);
                out.push_str(&format!(", {n})"));
            } else {
                sub(a, 5, out);
                out.push_str(if *style == 0 { "^" } else { "**" });
                if *n < 0.0 {
                    out.push_str(&format!("({n})"))
                } else {
                    out.push_str(&format!("{n}"))
                }
            }
        }
        Tree::PowVar(a, b) => {
            out.push_str("pow(");
            sub(a, 5, out);
            out.push_str("^2 + 1, ");
            print(b, out);
            out.push(')');
        }
        Tree::Fun(f, a) => {
            let (name, pre, post) = match f {
                Fun::Sin => ("sin", "", ""),
                Fun::Cos => ("cos", "", ""),
                Fun::Tan => ("tan", "", ""),
                Fun::Atan => ("atan", "", ""),
                Fun::Sinh => ("sinh", "", ""),
                Fun::Cosh => ("cosh", "", ""),
                Fun::Tanh => ("tanh", "", ""),
                Fun::Exp => ("exp", "", ""),
                Fun::Abs => ("abs", "", ""),
                Fun::Sqrt => ("sqrt", "(", ")^2 + 1"),
                Fun::Log => ("log", "(", ")^2 + 1"),
                Fun::Asin => ("asin", "0.5*tanh(", ")"),
                Fun::Acos => ("acos", "0.5*tanh(", ")"),
            };
            out.push_str(name);
            out.push('(');
            out.push_str(pre);
            print(a, out);
            out.push_str(post);
            out.push(')');
        }
        Tree::Atan2(a, b) => {
            out.push_str("atan2(");
            print(a, out);
            out.push_str(", ");
            print(b, out);
            out.push(')');
        }
    }
}

fn text(t: &Tree) -> String {
    let mut s = String::new();
    print(t, &mut s);
    s
}

/// Direct evaluation of the tree, generic over the scalar (the "Rust-written" version).
fn eval<D: Scalar>(t: &Tree, v: &[D; 6]) -> D {
    match t {
        Tree::Num(c) => D::from(*c),
        Tree::Pi => D::from(std::f64::consts::PI),
        Tree::Var(i) => v[*i],
        Tree::Neg(a) => -eval(a, v),
        Tree::Add(a, b) => eval(a, v) + eval(b, v),
        Tree::Sub(a, b) => eval(a, v) - eval(b, v),
        Tree::Mul(a, b) => eval(a, v) * eval(b, v),
        Tree::Div(a, b) => eval(a, v) / eval(b, v),
        Tree::Pow(a, n, _) => {
            let a = eval(a, v);
            if n.fract() == 0.0 {
                a.powi(*n as i32)
            } else {
                a.powf(*n)
            }
        }
        Tree::PowVar(a, b) => {
            let a = eval(a, v);
            (a * a + 1.0).powd(eval(b, v))
        }
        Tree::Fun(f, a) => {
            let a = eval(a, v);
            match f {
                Fun::Sin => a.sin(),
                Fun::Cos => a.cos(),
                Fun::Tan => a.tan(),
                Fun::Atan => a.atan(),
                Fun::Sinh => a.sinh(),
                Fun::Cosh => a.cosh(),
                Fun::Tanh => a.tanh(),
                Fun::Exp => a.exp(),
                Fun::Abs => a.abs(),
                Fun::Sqrt => (a.powi(2) + 1.0).sqrt(),
                Fun::Log => (a.powi(2) + 1.0).ln(),
                Fun::Asin => (a.tanh() * 0.5).asin(),
                Fun::Acos => (a.tanh() * 0.5).acos(),
            }
        }
        Tree::Atan2(a, b) => eval(a, v).atan2(eval(b, v)),
    }
}

/// Value and directional derivative by hand-written chain rules (independent of num-dual),
/// recording the largest magnitude met.
fn deriv(t: &Tree, v: &[f64; 6], dv: &[f64; 6], mag: &mut f64) -> (f64, f64) {
    let (x, d) = match t {
        Tree::Num(c) => (*c, 0.0),
        Tree::Pi => (std::f64::consts::PI, 0.0),
        Tree::Var(i) => (v[*i], dv[*i]),
        Tree::Neg(a) => {
            let (a, da) = deriv(a, v, dv, mag);
            (-a, -da)
        }
        Tree::Add(a, b)
        | Tree::Sub(a, b)
        | Tree::Mul(a, b)
        | Tree::Div(a, b)
        | Tree::Atan2(a, b) => {
            let (a, da) = deriv(a, v, dv, mag);
            let (b, db) = deriv(b, v, dv, mag);
            match t {
                Tree::Add(..) => (a + b, da + db),
                Tree::Sub(..) => (a - b, da - db),
                Tree::Mul(..) => (a * b, da * b + a * db),
                Tree::Div(..) => (a / b, (da * b - a * db) / (b * b)),
                _ => (a.atan2(b), (b * da - a * db) / (a * a + b * b)),
            }
        }
        Tree::Pow(a, n, _) => {
            let (a, da) = deriv(a, v, dv, mag);
            (a.powf(*n), n * a.powf(n - 1.0) * da)
        }
        Tree::PowVar(a, b) => {
            let (a, da) = deriv(a, v, dv, mag);
            let (b, db) = deriv(b, v, dv, mag);
            let base = a * a + 1.0;
            let p = base.powf(b);
            (p, p * (db * base.ln() + b * 2.0 * a * da / base))
        }
        Tree::Fun(f, a) => {
            let (a, da) = deriv(a, v, dv, mag);
            let (y, dy) = match f {
                Fun::Sin => (a.sin(), a.cos()),
                Fun::Cos => (a.cos(), -a.sin()),
                Fun::Tan => (a.tan(), 1.0 / (a.cos() * a.cos())),
                Fun::Atan => (a.atan(), 1.0 / (1.0 + a * a)),
                Fun::Sinh => (a.sinh(), a.cosh()),
                Fun::Cosh => (a.cosh(), a.sinh()),
                Fun::Tanh => (a.tanh(), 1.0 / (a.cosh() * a.cosh())),
                Fun::Exp => (a.exp(), a.exp()),
                Fun::Abs => (a.abs(), a.signum()),
                Fun::Sqrt => ((a * a + 1.0).sqrt(), a / (a * a + 1.0).sqrt()),
                Fun::Log => ((a * a + 1.0).ln(), 2.0 * a / (a * a + 1.0)),
                Fun::Asin | Fun::Acos => {
                    let u = 0.5 * a.tanh();
                    let du = 0.5 / (a.cosh() * a.cosh());
                    let s = 1.0 / (1.0 - u * u).sqrt();
                    if matches!(f, Fun::Asin) {
                        (u.asin(), s * du)
                    } else {
                        (u.acos(), -s * du)
                    }
                }
            };
            (y, dy * da)
        }
    };
    // An underflowed intermediate (subnormal, or a positive power such as (a²+1)^b flushed to
    // 0) has lost its relative precision: the tape and num-dual may round it to 0 where this
    // reference keeps a subnormal, and then x^0.5 differentiates to ∞·0. Such cases say nothing
    // about the derivative rules, so they are rejected like overflow.
    let underflowed = (x != 0.0 && x.abs() < 1e-290) || matches!(t, Tree::PowVar(..)) && x == 0.0;
    *mag = if x.is_finite() && d.is_finite() && !underflowed {
        mag.max(x.abs()).max(d.abs())
    } else {
        f64::INFINITY
    };
    (x, d)
}

fn symbols() -> Symbols {
    Symbols::new(["x", "y"], ["k"])
}

fn inputs() -> impl Strategy<Value = ([f64; 6], [f64; 6])> {
    (
        prop::array::uniform6(-2.0..2.0f64),
        prop::array::uniform6(-1.0..1.0f64),
    )
}

fn tape_eval<D: Scalar>(e: &lagrange::expr::Expr, v: &[D; 6]) -> D {
    e.eval(v[4], &v[0..2], &v[2..4], &v[5..6])
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= tol
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        max_global_rejects: 100_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn printed_tree_parses_and_evaluates_like_rust(t in tree(), (v, _dv) in inputs()) {
        let src = text(&t);
        let e = parse(&src, &symbols()).map_err(|e| TestCaseError::fail(format!("{src:?}: {e}")))?;
        let mut mag = 0.0;
        let (reference, _) = deriv(&t, &v, &[0.0; 6], &mut mag);
        prop_assume!(mag.is_finite() && mag < 1e6);
        let direct = eval::<f64>(&t, &v);
        let got = tape_eval(&e, &v);
        let tol = 1e-12 * (1.0 + mag);
        prop_assert!(close(got, direct, tol), "{src}: tape {got} vs direct {direct}");
        prop_assert!(close(got, reference, tol), "{src}: tape {got} vs reference {reference}");
        // Printing the compiled expression and parsing it again gives the same values.
        let again = parse(&e.to_string(), &symbols())
            .map_err(|err| TestCaseError::fail(format!("{e}: {err}")))?;
        prop_assert!(close(tape_eval(&again, &v), got, tol), "{src} → {e}");
        // The top-level terms add up to the whole.
        let sum: f64 = e.top_level_terms().iter().map(|term| tape_eval(term, &v)).sum();
        prop_assert!(close(sum, got, 1e-10 * (1.0 + mag)), "{src}: terms sum {sum} vs {got}");
        // Binding the parameter gives the same values.
        let bound = e.bind_parameters(&v[5..6]);
        let b = bound.eval_f64(v[4], &v[0..2], &v[2..4], &[]);
        prop_assert!(close(b, got, tol), "{src}: bound {b} vs {got}");
    }

    #[test]
    fn dual_evaluation_matches_f64_and_the_analytic_derivative(t in tree(), (v, dv) in inputs()) {
        let src = text(&t);
        let e = parse(&src, &symbols()).map_err(|e| TestCaseError::fail(format!("{src:?}: {e}")))?;
        let mut mag = 0.0;
        let (value, derivative) = deriv(&t, &v, &dv, &mut mag);
        prop_assume!(mag.is_finite() && mag < 1e6);
        let duals: [Dual64; 6] = std::array::from_fn(|i| Dual64::new(v[i], dv[i]));
        let d = tape_eval(&e, &duals);
        let f = tape_eval(&e, &v);
        // The real part of a dual evaluation is the f64 evaluation up to rounding (num-dual
        // computes `powi` of a dual as x^(n−3)·x·x·x).
        prop_assert!(close(d.re, f, 1e-13 * (1.0 + mag)), "{src}: dual re {} vs f64 {f}", d.re);
        prop_assert!(close(d.re, value, 1e-12 * (1.0 + mag)), "{src}: {} vs {value}", d.re);
        prop_assert!(
            close(d.eps, derivative, 1e-9 * (1.0 + mag)),
            "{src}: derivative {} vs analytic {derivative}", d.eps
        );
        // Same as the tree evaluated directly over duals, where that is regular (the direct
        // evaluation differentiates constant subtrees such as `0^0.5` into NaN, the tape folds
        // them; num-dual's `atan2` is singular at x = 0, the tape's is not).
        let direct = eval(&t, &duals);
        if direct.eps.is_finite() {
            prop_assert!(
                close(d.eps, direct.eps, 1e-9 * (1.0 + mag)),
                "{src}: {} vs direct {}", d.eps, direct.eps
            );
        }
    }
}
