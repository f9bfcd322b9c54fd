//! `lagrangian_text` / `dissipation_text` say the same thing as the Rust `lagrangian` /
//! `dissipation`: parsed by `lagrange::expr`, they give the same value of L and F and the same
//! q̈ at random states, for every built-in system (default parameters and perturbed ones).

use lagrange::expr::{Expr, Symbols, parse};
use lagrange::systems::*;
use lagrange::{Lagrangian, Scalar, accelerations, lagrangian_value};
use proptest::prelude::*;

/// The parsed text as a Lagrangian.
struct FromText {
    n: usize,
    lagrangian: Expr,
    dissipation: Option<Expr>,
    params: Vec<f64>,
}

impl FromText {
    fn new(s: &BuiltinSystem) -> Self {
        let params = s.parameters();
        let symbols = Symbols::new(s.coordinates(), params.iter().map(|(p, _)| p.clone()));
        let parse_ok = |text: String| {
            parse(&text, &symbols).unwrap_or_else(|e| panic!("{}: {e}: {text}", s.name()))
        };
        FromText {
            n: s.dof(),
            lagrangian: parse_ok(s.lagrangian_text()),
            dissipation: s.dissipation_text().map(parse_ok),
            params: params.iter().map(|(_, v)| *v).collect(),
        }
    }
    fn lifted<D: Scalar>(&self) -> Vec<D> {
        self.params.iter().map(|&p| D::from(p)).collect()
    }
}

impl Lagrangian for FromText {
    fn dof(&self) -> usize {
        self.n
    }
    fn lagrangian<D: Scalar>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
        self.lagrangian.eval(t, q, q_dot, &self.lifted::<D>())
    }
    fn structure(&self) -> lagrange::Structure {
        lagrange::Structure {
            dissipation: self.dissipation.is_some(),
            ..lagrange::Structure::new()
        }
    }
    fn dissipation<D: Scalar>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
        match &self.dissipation {
            Some(f) => f.eval(t, q, q_dot, &self.lifted::<D>()),
            None => D::zero(),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn text_and_code_agree(
        seed in prop::collection::vec(-1.0..1.0f64, 16),
        scale in 0.5..2.0f64,
        t in -3.0..3.0f64,
    ) {
        for &name in names() {
            let mut sys = by_name(name).unwrap();
            if name == "chain" || name == "n-body" {
                sys.set_parameter("n", 4.0).unwrap();
            }
            // perturb every (non-count) parameter
            for (i, (p, v)) in sys.parameters().into_iter().enumerate() {
                if p != "n" {
                    sys.set_parameter(&p, v * (scale + 0.1 * seed[i % 16])).unwrap();
                }
            }
            let text = FromText::new(&sys);
            let (q0, _) = sys.initial_state();
            let n = sys.dof();
            let q: Vec<f64> = (0..n).map(|i| q0[i] + 0.2 * seed[i % 16]).collect();
            let qd: Vec<f64> = (0..n).map(|i| seed[(i + 7) % 16]).collect();
            // the same arithmetic in a different order: ~1e-15 relative to the size of the
            // terms; 1e-12 of the value (+1) is generous yet catches any wrong coefficient
            let a = lagrangian_value(&sys, t, &q, &qd).unwrap();
            let b = lagrangian_value(&text, t, &q, &qd).unwrap();
            prop_assert!((a - b).abs() <= 1e-12 * (1.0 + a.abs()), "{}: L {} vs {}", name, a, b);
            let fa = sys.dissipation(t, &q, &qd);
            let fb = text.dissipation(t, &q, &qd);
            prop_assert!((fa - fb).abs() <= 1e-12 * (1.0 + fa.abs()), "{}: F {} vs {}", name, fa, fb);
            let aa = accelerations(&sys, t, &q, &qd).unwrap();
            let ab = accelerations(&text, t, &q, &qd).unwrap();
            let sc = 1.0 + aa.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
            for i in 0..n {
                prop_assert!((aa[i] - ab[i]).abs() <= 1e-11 * sc, "{}: q̈[{}] {} vs {}", name, i, aa[i], ab[i]);
            }
        }
    }
}
