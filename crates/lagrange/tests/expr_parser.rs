//! Parser unit tests: number forms, precedence and associativity, functions, errors and their
//! 1-based columns, folding/sharing, term splitting.
//!
//! Values that the parser must reproduce exactly (literals, folded integer arithmetic) are
//! compared with `==`; values that go through libm functions are compared to the same f64
//! expression written in Rust, which the tape evaluates with the same operations, so they are
//! also exact unless stated otherwise.

use lagrange::expr::{Expr, ParseError, Symbols, parse};

fn symbols() -> Symbols {
    Symbols::new(["x", "y"], ["m", "k"])
}

/// Evaluation point: t = 0.25, q = (1.5, -0.75), q̇ = (0.5, 2.0), p = (2.0, 3.0).
const T: f64 = 0.25;
const Q: [f64; 2] = [1.5, -0.75];
const QD: [f64; 2] = [0.5, 2.0];
const P: [f64; 2] = [2.0, 3.0];

fn ev(src: &str) -> f64 {
    let e = parse(src, &symbols()).unwrap_or_else(|e| panic!("{src:?}: {e}"));
    e.eval_f64(T, &Q, &QD, &P)
}

fn err(src: &str) -> ParseError {
    match parse(src, &symbols()) {
        Ok(e) => panic!("{src:?} parsed as {e}"),
        Err(e) => e,
    }
}

#[test]
fn number_forms() {
    assert_eq!(ev("1"), 1.0);
    assert_eq!(ev("2.5"), 2.5);
    assert_eq!(ev(".5"), 0.5);
    assert_eq!(ev("1e-3"), 1e-3);
    assert_eq!(ev("6.02E23"), 6.02e23);
    assert_eq!(ev("1.5e+2"), 150.0);
    assert_eq!(ev("3."), 3.0);
    assert_eq!(ev("007"), 7.0);
    assert_eq!(ev("  42\t"), 42.0);
}

#[test]
fn precedence_and_associativity() {
    assert_eq!(ev("-x^2"), -(Q[0] * Q[0]));
    assert_eq!(ev("-2^2"), -4.0);
    assert_eq!(ev("(-2)^2"), 4.0);
    assert_eq!(ev("2^3^2"), 512.0);
    assert_eq!(ev("(2^3)^2"), 64.0);
    assert_eq!(ev("2**3"), 8.0);
    assert_eq!(ev("2**3**2"), 512.0);
    assert_eq!(ev("2^-1"), 0.5);
    assert_eq!(ev("2^-3^2"), 2f64.powi(-9));
    assert_eq!(ev("1 + 2 * 3"), 7.0);
    assert_eq!(ev("(1 + 2) * 3"), 9.0);
    assert_eq!(ev("10 - 4 - 3"), 3.0);
    assert_eq!(ev("64 / 4 / 2"), 8.0);
    assert_eq!(ev("2 * 3 ^ 2"), 18.0);
    assert_eq!(ev("-x * y"), -Q[0] * Q[1]);
    assert_eq!(ev("x * -y"), Q[0] * -Q[1]);
    assert_eq!(ev("x - -y"), Q[0] + Q[1]);
    assert_eq!(ev("--x"), Q[0]);
    assert_eq!(ev("+x"), Q[0]);
    assert_eq!(ev("-(x + y)"), -(Q[0] + Q[1]));
    assert_eq!(ev("((((x))))"), Q[0]);
    assert_eq!(ev("m*x_dot^2/2"), P[0] * QD[0] * QD[0] / 2.0);
}

#[test]
fn names() {
    assert_eq!(ev("t"), T);
    assert_eq!(ev("pi"), std::f64::consts::PI);
    assert_eq!(ev("x + y"), Q[0] + Q[1]);
    assert_eq!(ev("x_dot - y_dot"), QD[0] - QD[1]);
    assert_eq!(ev("m + k"), P[0] + P[1]);
}

#[test]
fn functions() {
    let (x, y) = (Q[0], Q[1]);
    let z = 0.3_f64;
    assert_eq!(ev("sin(x)"), x.sin());
    assert_eq!(ev("cos(x)"), x.cos());
    assert_eq!(ev("tan(x)"), x.tan());
    assert_eq!(ev("asin(0.3)"), z.asin());
    assert_eq!(ev("acos(0.3)"), z.acos());
    assert_eq!(ev("atan(x)"), x.atan());
    assert_eq!(ev("atan2(y, x)"), y.atan2(x));
    assert_eq!(ev("atan2(1, -1)"), 1f64.atan2(-1.0));
    assert_eq!(ev("sinh(x)"), x.sinh());
    assert_eq!(ev("cosh(x)"), x.cosh());
    assert_eq!(ev("tanh(x)"), x.tanh());
    assert_eq!(ev("exp(x)"), x.exp());
    assert_eq!(ev("log(x)"), x.ln());
    assert_eq!(ev("sqrt(x)"), x.sqrt());
    assert_eq!(ev("abs(y)"), y.abs());
    assert_eq!(ev("pow(x, 3)"), x.powi(3));
    assert_eq!(ev("pow(x, 1.5)"), x.powf(1.5));
    // Variable exponent at a positive base: exp(b ln a) in the dual arithmetic; within a few ulp
    // of powf.
    assert!((ev("pow(x, m)") - x.powf(P[0])).abs() < 1e-15 * x.powf(P[0]));
    // Integer variable exponent at a negative base is the real power.
    assert_eq!(ev("y^m"), y * y);
    assert_eq!(
        ev("sin(x)^2 + cos(x)^2"),
        x.sin() * x.sin() + x.cos() * x.cos()
    );
    assert_eq!(ev("sin (x)"), x.sin());
    assert_eq!(ev("exp(sin(cos(x)))"), x.cos().sin().exp());
}

#[test]
fn arity_errors() {
    let e = err("sin(x, y)");
    assert_eq!(e.column, 1);
    assert!(e.message.contains("`sin` takes 1 argument, got 2"), "{e}");
    let e = err("x + atan2(y)");
    assert_eq!(e.column, 5);
    assert!(
        e.message.contains("`atan2` takes 2 arguments, got 1"),
        "{e}"
    );
    let e = err("pow(x)");
    assert!(e.message.contains("`pow` takes 2 arguments, got 1"), "{e}");
    let e = err("cos()");
    assert!(e.message.contains("got 0"), "{e}");
    let e = err("pow(x, y, 2)");
    assert!(e.message.contains("got 3"), "{e}");
}

#[test]
fn unknown_names_are_named() {
    let e = err("0.5*m*x_dot^2 - g*x");
    assert_eq!(
        e,
        ParseError {
            column: 17,
            message: "unknown identifier `g`".into()
        }
    );
    assert_eq!(e.to_string(), "column 17: unknown identifier `g`");
    let e = err("w_dot^2");
    assert_eq!(e.column, 1);
    assert!(
        e.message.contains("velocity of unknown coordinate `w`"),
        "{e}"
    );
    let e = err("x + foo(y)");
    assert_eq!(e.column, 5);
    assert!(e.message.contains("unknown function `foo`"), "{e}");
    // `e` is not a constant; functions must be called.
    assert!(err("e^x").message.contains("unknown identifier `e`"));
    assert!(err("x*sin").message.contains("unknown identifier `sin`"));
}

#[test]
fn syntax_error_columns() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 1, "empty expression"),
        ("   ", 1, "empty expression"),
        ("x +", 4, "end of input"),
        ("x + * y", 5, "found `*`"),
        ("x y", 3, "expected an operator"),
        ("2x", 2, "expected an operator"),
        ("(x + y", 1, "unclosed `(`"),
        ("sin(x", 4, "unclosed `(`"),
        ("x + y)", 6, "unmatched `)`"),
        ("()", 2, "empty parentheses"),
        ("x, y", 2, "`,` outside"),
        ("x § y", 3, "unexpected character `§`"),
        ("θ + x", 1, "unexpected character `θ`"),
        ("x + θ", 5, "unexpected character `θ`"),
        ("1.2.3", 4, "expected an operator"),
        ("1e999", 1, "out of range"),
        ("x + .", 5, "unexpected `.`"),
        ("x ^^ 2", 4, "found `^`"),
        ("x\n+ q", 5, "unknown identifier `q`"),
    ];
    for &(src, column, needle) in cases {
        let e = err(src);
        assert_eq!(e.column, column, "{src:?}: {e}");
        assert!(e.message.contains(needle), "{src:?}: {e}");
        assert_eq!(e.to_string(), format!("column {column}: {}", e.message));
    }
}

#[test]
fn constants_fold_and_subexpressions_are_shared() {
    let s = symbols();
    let e = parse("2^3^2 + pi*0 + sqrt(16)", &s).unwrap();
    assert_eq!(e.as_constant(), Some(516.0));
    assert!(e.is_empty());
    // sin(x) computed once.
    let e = parse("sin(x)*sin(x) + sin(x)", &s).unwrap();
    assert_eq!(e.len(), 3, "{e:?}");
    // Parameters bound later fold too.
    let e = parse("0.5*m*x_dot^2 - 0.5*k*x^2", &s).unwrap();
    let b = e.bind_parameters(&P);
    // 0.5·m = 1 disappears: x_dot², x², ·1.5, −
    assert_eq!(b.len(), 4, "{b:?}");
    assert_eq!(b.eval_f64(T, &Q, &QD, &[]), e.eval_f64(T, &Q, &QD, &P));
}

#[test]
fn display_round_trips() {
    let s = symbols();
    for src in [
        "0.5*m*x_dot^2 - 0.5*k*x^2",
        "-x^2 + (-x)^2 - -y",
        "x^-2 + 2^-x + x^y^2",
        "atan2(y, x) * pow(x, 0.3) / (1 + y)",
        "1e-300 * x + 6.02e23 / y - 1/(x - y)",
        "t*x - (y - (x - (y - 1)))",
    ] {
        let e = parse(src, &s).unwrap();
        let text = e.to_string();
        let back = parse(&text, &s).unwrap_or_else(|err| panic!("{text:?}: {err}"));
        assert_eq!(back.to_string(), text);
        assert_eq!(
            back.eval_f64(T, &Q, &QD, &P),
            e.eval_f64(T, &Q, &QD, &P),
            "{src} vs {text}"
        );
    }
}

fn term_texts(e: &Expr) -> Vec<String> {
    e.top_level_terms()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn top_level_terms_split_sums_with_signs() {
    let s = symbols();
    let e = parse("x - (y - 3*x_dot) + 2 - -m*y_dot - sin(x)*y", &s).unwrap();
    assert_eq!(
        term_texts(&e),
        ["x", "-y", "3*x_dot", "2", "m*y_dot", "-(sin(x)*y)"]
    );
    let sum: f64 = e
        .top_level_terms()
        .iter()
        .map(|t| t.eval_f64(T, &Q, &QD, &P))
        .sum();
    assert!((sum - e.eval_f64(T, &Q, &QD, &P)).abs() < 1e-14);
    let used: Vec<Vec<usize>> = e
        .top_level_terms()
        .iter()
        .map(Expr::coordinates_used)
        .collect();
    assert_eq!(
        used,
        [vec![0], vec![1], vec![0], vec![], vec![1], vec![0, 1]]
    );
    // A product is one term.
    let e = parse("(x + y)*(x - y)", &s).unwrap();
    assert_eq!(e.top_level_terms().len(), 1);
    assert_eq!(e.coordinates_used(), [0, 1]);
    assert_eq!(
        parse("m*t", &s).unwrap().coordinates_used(),
        Vec::<usize>::new()
    );
    assert_eq!(parse("y_dot", &s).unwrap().coordinates_used(), [1]);
}

#[test]
fn dependence_queries() {
    let s = symbols();
    let e = parse("k*x + t", &s).unwrap();
    assert_eq!(e.parameters_used(), [1]);
    assert!(e.uses_time());
    assert!(!e.uses_velocities());
    assert!(parse("x_dot", &s).unwrap().uses_velocities());
}

/// Where num-dual's own formulas break down, the tape's derivatives stay regular.
#[test]
fn dual_edge_cases() {
    use lagrange::num_dual::{Dual64, HyperDual64};
    let s = Symbols::new(["x", "y"], Vec::<String>::new());
    let d = |src: &str, x: f64, y: f64| {
        let e = parse(src, &s).unwrap();
        e.eval(
            Dual64::from(0.0),
            &[Dual64::new(x, 1.0), Dual64::from(y)],
            &[Dual64::from(0.0); 2],
            &[],
        )
    };
    // atan2(y, x) at x = 0: ∂/∂x = −y/(x²+y²) = −1/y (num-dual's atan(y/x) gives NaN).
    let r = d("atan2(y, x)", 0.0, 2.0);
    assert_eq!(r.re, std::f64::consts::FRAC_PI_2);
    assert!((r.eps + 0.5).abs() < 1e-15, "{r}");
    // Far side of the branch cut: the real part is atan2's, derivative regular.
    let r = d("atan2(y, x)", -3.0, 1e-3);
    assert_eq!(r.re, 1e-3_f64.atan2(-3.0));
    assert!((r.eps - (-1e-3 / (9.0 + 1e-6))).abs() < 1e-15, "{r}");
    // tanh of a large argument: 1 with derivative 0 (num-dual's sinh/cosh gives NaN).
    let r = d("tanh(x)", 800.0, 0.0);
    assert_eq!((r.re, r.eps), (1.0, 0.0));
    let r = d("tanh(x)", -0.3, 0.0);
    assert!(
        (r.re - (-0.3_f64).tanh()).abs() < 1e-16
            && (r.eps - 1.0 / 0.3_f64.cosh().powi(2)).abs() < 1e-15
    );
    // Fractional power at a zero base: value 0, first derivative 0 for n > 1 (num-dual: NaN).
    let r = d("abs(x)^2.5", 0.0, 0.0);
    assert_eq!((r.re, r.eps), (0.0, 0.0));
    // Second derivatives: d²/dx² |x|^2.5 = 3.75 |x|^0.5 → 0 at 0; for n = 1.5 it is infinite.
    let e = parse("abs(x)^2.5", &s).unwrap();
    let x = HyperDual64::from_re(0.0).derivative1().derivative2();
    let z = HyperDual64::from(0.0);
    assert_eq!(e.eval(z, &[x, z], &[z, z], &[]).eps1eps2, 0.0);
    let e = parse("abs(x)^1.5", &s).unwrap();
    assert!(e.eval(z, &[x, z], &[z, z], &[]).eps1eps2.is_nan());
    // Tiny base: x^1.5 at 1e-250 is 1e-375 → 0, not inf/NaN; the derivative 1.5·x^0.5 goes
    // through exp(0.5·ln x), relative error ≲ |ln x|·ε ≈ 6e-14.
    let r = d("x^1.5", 1e-250, 0.0);
    assert_eq!(r.re, 0.0);
    assert!((r.eps / 1.5e-125 - 1.0).abs() < 1e-13, "{r}");
    // Variable exponent on a negative base at an integer exponent value is the real power.
    let r = d("x^y", -2.0, 3.0);
    assert_eq!((r.re, r.eps), (-8.0, 12.0));
}
