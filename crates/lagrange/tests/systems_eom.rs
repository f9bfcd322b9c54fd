//! Autodiff q̈ (`lagrange::accelerations`) against each system's hand-derived EOM, on random
//! states and parameters.
//!
//! The oracle (`hand_accelerations`) is derived by hand from the L in each module's docs and
//! shares no code with the engine; a mismatch means either the generic `lagrangian` or the hand
//! derivation is wrong.

use lagrange::mechanics::EquationsOfMotion;
use lagrange::systems::*;
use lagrange::{EomPath, Lagrangian, accelerations, accelerations_with};
use proptest::prelude::*;

/// Both sides are a handful of flops from the same inputs; the engine adds one LU solve.
/// 1e-12 relative to the largest |q̈| (with an O(1) floor for states where q̈ ≈ 0) leaves
/// ~10⁴ ulps of headroom.
const REL: f64 = 1e-12;

fn assert_matches(name: &str, auto: &[f64], hand: &[f64], rel: f64) {
    assert_eq!(auto.len(), hand.len(), "{name}: lengths");
    let scale = 1.0 + hand.iter().fold(0.0_f64, |a, x| a.max(x.abs()));
    for (i, (a, h)) in auto.iter().zip(hand).enumerate() {
        assert!(
            (a - h).abs() <= rel * scale,
            "{name}: q̈[{i}] autodiff {a} vs hand {h} (diff {:e}, tol {:e})",
            (a - h).abs(),
            rel * scale
        );
    }
}

fn check<S: Lagrangian>(name: &str, sys: &S, hand: Vec<f64>, t: f64, q: &[f64], qd: &[f64]) {
    let auto = accelerations(sys, t, q, qd).unwrap();
    assert_matches(name, &auto, &hand, REL);
    // The integrators' evaluator: when the system declares a constant mass matrix it inverts M
    // on its first call — made here at another (t, q, q̇) — and reuses it, so a false
    // declaration shows up as a mismatch with the hand oracle.
    let mut eom = EquationsOfMotion::new(sys);
    let mut a = vec![0.0; q.len()];
    let q_other: Vec<f64> = q.iter().rev().map(|x| 0.5 * x + 0.25).collect();
    let qd_other: Vec<f64> = qd.iter().map(|x| -0.5 * x + 0.125).collect();
    let _ = eom.accelerations_into(t + 1.0, &q_other, &qd_other, &mut a);
    eom.accelerations_into(t, q, qd, &mut a).unwrap();
    assert_matches(&format!("{name} (EquationsOfMotion)"), &a, &hand, REL);
}

fn vec_in(len: usize, lo: f64, hi: f64) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(lo..hi, len)
}

proptest! {
    #[test]
    fn harmonic_oscillator(
        (masses, stiffnesses, q, qd) in (1usize..=10).prop_flat_map(|n| (
            vec_in(n, 0.1, 10.0), vec_in(n, -5.0, 20.0), vec_in(n, -3.0, 3.0), vec_in(n, -3.0, 3.0),
        )),
        t in -10.0..10.0f64,
    ) {
        let s = HarmonicOscillator::new(masses, stiffnesses);
        check("harmonic-oscillator", &s, s.hand_accelerations(t, &q, &qd), t, &q, &qd);
    }

    #[test]
    fn pendulum(m in 0.1..10.0f64, l in 0.1..5.0f64, g in -20.0..20.0f64,
                th in -10.0..10.0f64, thd in -10.0..10.0f64) {
        let s = Pendulum { m, l, g };
        check("pendulum", &s, s.hand_accelerations(0.0, &[th], &[thd]), 0.0, &[th], &[thd]);
    }

    #[test]
    fn double_pendulum(m1 in 0.1..10.0f64, m2 in 0.1..10.0f64, l1 in 0.1..3.0f64,
                       l2 in 0.1..3.0f64, g in 0.0..20.0f64,
                       q in vec_in(2, -7.0, 7.0), qd in vec_in(2, -10.0, 10.0)) {
        let s = DoublePendulum { m1, m2, l1, l2, g };
        check("double-pendulum", &s, s.hand_accelerations(0.0, &q, &qd), 0.0, &q, &qd);
    }

    #[test]
    fn cyclotron(m in 0.1..10.0f64, charge in -5.0..5.0f64, b in -5.0..5.0f64,
                 q in vec_in(3, -5.0, 5.0), qd in vec_in(3, -5.0, 5.0)) {
        let s = Cyclotron { m, q: charge, b };
        check("cyclotron", &s, s.hand_accelerations(0.0, &q, &qd), 0.0, &q, &qd);
    }

    #[test]
    fn crossed_fields(m in 0.1..10.0f64, charge in -5.0..5.0f64, b in -5.0..5.0f64,
                      e in -5.0..5.0f64, q in vec_in(3, -5.0, 5.0), qd in vec_in(3, -5.0, 5.0)) {
        let s = CrossedFields { m, q: charge, b, e };
        check("crossed-fields", &s, s.hand_accelerations(0.0, &q, &qd), 0.0, &q, &qd);
    }

    #[test]
    fn kepler(m in 0.1..10.0f64, mu in 0.1..10.0f64, r in 0.3..3.0f64, phi in 0.0..6.3f64,
              qd in vec_in(2, -3.0, 3.0)) {
        let s = Kepler { m, mu };
        let q = [r * phi.cos(), r * phi.sin()];
        check("kepler", &s, s.hand_accelerations(0.0, &q, &qd), 0.0, &q, &qd);
    }

    #[test]
    fn spring_pendulum(m in 0.1..10.0f64, k in 0.0..100.0f64, l0 in 0.0..3.0f64,
                       g in -20.0..20.0f64, r in 0.3..3.0f64, th in -7.0..7.0f64,
                       qd in vec_in(2, -5.0, 5.0)) {
        let s = SpringPendulum { m, k, l0, g };
        let q = [r, th];
        check("spring-pendulum", &s, s.hand_accelerations(0.0, &q, &qd), 0.0, &q, &qd);
    }

    #[test]
    fn chain(
        (q, qd) in (1usize..=16).prop_flat_map(|n| (vec_in(n, -2.0, 2.0), vec_in(n, -2.0, 2.0))),
        m in 0.1..10.0f64, k in -5.0..20.0f64,
    ) {
        let s = Chain { n: q.len(), m, k };
        check("chain", &s, s.hand_accelerations(0.0, &q, &qd), 0.0, &q, &qd);
    }

    #[test]
    fn n_body(
        (masses, q, qd) in (1usize..=12).prop_flat_map(|n| (
            vec_in(n, 0.1, 5.0), vec_in(2 * n, -3.0, 3.0), vec_in(2 * n, -2.0, 2.0),
        )),
        g in 0.1..5.0f64, eps in 0.1..1.0f64,
    ) {
        let s = NBody { masses, g, eps };
        check("n-body", &s, s.hand_accelerations(0.0, &q, &qd), 0.0, &q, &qd);
    }

    #[test]
    fn damped_oscillator(m in 0.1..10.0f64, k in -5.0..20.0f64, c in 0.0..10.0f64,
                         x in -5.0..5.0f64, v in -5.0..5.0f64) {
        let s = DampedOscillator { m, k, c };
        check("damped-oscillator", &s, s.hand_accelerations(0.0, &[x], &[v]), 0.0, &[x], &[v]);
    }

    #[test]
    fn driven_oscillator(m in 0.1..10.0f64, k in -5.0..20.0f64, f0 in -5.0..5.0f64,
                         omega in -5.0..5.0f64, t in -50.0..50.0f64,
                         x in -5.0..5.0f64, v in -5.0..5.0f64) {
        let s = DrivenOscillator { m, k, f0, omega };
        check("driven-oscillator", &s, s.hand_accelerations(t, &[x], &[v]), t, &[x], &[v]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Beyond 8 coordinates the engine has a dense blocked path and a term-by-term path; both
    /// must reproduce the hand EOM of the systems that declare local terms.
    #[test]
    fn large_systems_both_paths(
        n in 9usize..=16, bodies in 5usize..=8, seed in vec_in(32, -1.0, 1.0),
    ) {
        let chain = Chain { n, m: 1.3, k: 2.1 };
        let q: Vec<f64> = (0..n).map(|i| seed[i % 32]).collect();
        let qd: Vec<f64> = (0..n).map(|i| seed[(i + 7) % 32]).collect();
        let nbody = NBody { masses: (0..bodies).map(|i| 1.0 + 0.1 * i as f64).collect(),
                            g: 1.0, eps: 0.1 };
        let qb: Vec<f64> = (0..2 * bodies).map(|i| 3.0 * seed[i % 32] + i as f64).collect();
        let qdb: Vec<f64> = (0..2 * bodies).map(|i| seed[(i + 3) % 32]).collect();
        for path in [EomPath::Dense, EomPath::Structured] {
            let mut out = vec![0.0; n];
            accelerations_with(path, &chain, 0.0, &q, &qd, &mut out).unwrap();
            assert_matches("chain", &out, &chain.hand_accelerations(0.0, &q, &qd), REL);
            let mut out = vec![0.0; 2 * bodies];
            accelerations_with(path, &nbody, 0.0, &qb, &qdb, &mut out).unwrap();
            assert_matches("n-body", &out, &nbody.hand_accelerations(0.0, &qb, &qdb), REL);
        }
    }
}

/// The registry enum dispatches to the same physics (default parameters, default states, and
/// a perturbed state).
#[test]
fn builtin_registry_matches_hand() {
    for &name in names() {
        let s = by_name(name).unwrap();
        let (q, qd) = s.initial_state();
        let q2: Vec<f64> = q
            .iter()
            .enumerate()
            .map(|(i, x)| x + 0.1 * (i as f64 + 1.0))
            .collect();
        for (q, qd) in [(&q, &qd), (&q2, &qd)] {
            let auto = accelerations(&s, 0.3, q, qd).unwrap();
            assert_matches(name, &auto, &s.hand_accelerations(0.3, q, qd), REL);
        }
    }
}

/// A large chain (N = 1024) through the engine's default path, against the O(N) hand EOM.
#[test]
fn chain_1024() {
    let s = Chain {
        n: 1024,
        m: 0.7,
        k: 3.0,
    };
    let q: Vec<f64> = (0..1024).map(|i| (0.37 * i as f64).sin()).collect();
    let qd: Vec<f64> = (0..1024).map(|i| (0.11 * i as f64).cos()).collect();
    let auto = accelerations(&s, 0.0, &q, &qd).unwrap();
    assert_matches(
        "chain-1024",
        &auto,
        &s.hand_accelerations(0.0, &q, &qd),
        REL,
    );
}
