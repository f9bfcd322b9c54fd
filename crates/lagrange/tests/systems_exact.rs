//! The closed-form solutions are validated against the hand-derived EOM, independently of the
//! engine: at `t = 0` they reproduce the initial state; a 4th-order central difference of `q(t)`
//! reproduces the returned `q̇(t)`; and a central difference of `q̇(t)` reproduces
//! `hand_accelerations(t, q(t), q̇(t))`. So each exact solution is a solution of the hand EOM
//! with the right initial data, and (by uniqueness) the trajectory oracle for integrators.

use lagrange::systems::*;
use proptest::prelude::*;
use std::f64::consts::{PI, TAU};

type Exact<'a> = &'a dyn Fn(f64) -> (Vec<f64>, Vec<f64>);
type Hand<'a> = &'a dyn Fn(f64, &[f64], &[f64]) -> Vec<f64>;

/// Step for the 5-point stencil, for motions whose fastest time scale τ is O(1): truncation
/// (h/τ)⁴/30 ≈ 3e-14 and round-off ≈ 1.5 ε/h ≈ 3e-13 (relative), so a relative tolerance of
/// 1e-8 is safe and still catches any wrong term. Faster systems pass h ≈ 1e-3 τ.
const H: f64 = 1e-3;
const TOL: f64 = 1e-8;

fn d5(f: &dyn Fn(f64) -> Vec<f64>, t: f64, h: f64) -> Vec<f64> {
    let (a, b, c, d) = (f(t - 2.0 * h), f(t - h), f(t + h), f(t + 2.0 * h));
    (0..a.len())
        .map(|i| (a[i] - 8.0 * b[i] + 8.0 * c[i] - d[i]) / (12.0 * h))
        .collect()
}

fn close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    let scale = 1.0 + want.iter().fold(0.0_f64, |a, x| a.max(x.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * scale,
            "{what}[{i}]: {g} vs {w} (tol {:e})",
            tol * scale
        );
    }
}

/// The three checks of the module docs at the times `ts`.
fn validate(name: &str, exact: Exact, hand: Hand, q0: &[f64], qd0: &[f64], ts: &[f64]) {
    validate_h(name, exact, hand, q0, qd0, ts, H)
}

fn validate_h(name: &str, exact: Exact, hand: Hand, q0: &[f64], qd0: &[f64], ts: &[f64], h: f64) {
    let (q, qd) = exact(0.0);
    // exact at t = 0 up to rounding in the closed form
    close(&format!("{name} q(0)"), &q, q0, 1e-14);
    close(&format!("{name} q̇(0)"), &qd, qd0, 1e-14);
    for &t in ts {
        let (q, qd) = exact(t);
        let fd_q = d5(&|s| exact(s).0, t, h);
        close(&format!("{name} dq/dt at t={t}"), &fd_q, &qd, TOL);
        let fd_qd = d5(&|s| exact(s).1, t, h);
        close(
            &format!("{name} dq̇/dt at t={t}"),
            &fd_qd,
            &hand(t, &q, &qd),
            TOL,
        );
    }
}

const TIMES: [f64; 5] = [0.0, 0.37, 1.9, 7.3, 23.0];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn harmonic_oscillator(m in prop::collection::vec(0.2..5.0f64, 3),
                           k in prop::collection::vec(-0.5..5.0f64, 3),
                           q0 in prop::collection::vec(-2.0..2.0f64, 3),
                           qd0 in prop::collection::vec(-2.0..2.0f64, 3)) {
        let s = HarmonicOscillator::new(m, k);
        validate("oscillator", &|t| s.exact_solution(t, &q0, &qd0).unwrap(),
                 &|t, q, v| s.hand_accelerations(t, q, v), &q0, &qd0, &TIMES[..4]);
    }

    #[test]
    fn pendulum(l in 0.3..3.0f64, th0 in -3.0..3.0f64, thd0 in -12.0..12.0f64) {
        let s = Pendulum { m: 1.0, l, g: 9.81 };
        let k2 = s.modulus_squared(th0, thd0).unwrap();
        prop_assume!((k2 - 1.0).abs() > 0.02); // away from the separatrix (log-singular period)
        validate("pendulum", &|t| s.exact_solution(t, &[th0], &[thd0]).unwrap(),
                 &|t, q, v| s.hand_accelerations(t, q, v), &[th0], &[thd0], &TIMES);
    }

    #[test]
    fn cyclotron(m in 0.2..5.0f64, charge in -3.0..3.0f64, b in -3.0..3.0f64,
                 q0 in prop::collection::vec(-2.0..2.0f64, 3),
                 qd0 in prop::collection::vec(-2.0..2.0f64, 3)) {
        let s = Cyclotron { m, q: charge, b };
        // fastest time scale 1/ω with ω = |qB/m| up to 45 here: scale the stencil step with it
        let h = H / (charge * b / m).abs().max(1.0);
        validate_h("cyclotron", &|t| s.exact_solution(t, &q0, &qd0).unwrap(),
                 &|t, q, v| s.hand_accelerations(t, q, v), &q0, &qd0, &TIMES, h);
    }

    #[test]
    fn crossed_fields(m in 0.2..5.0f64, charge in -3.0..3.0f64, b in -3.0..3.0f64,
                      e in -3.0..3.0f64, zero_b in any::<bool>(),
                      q0 in prop::collection::vec(-2.0..2.0f64, 3),
                      qd0 in prop::collection::vec(-2.0..2.0f64, 3)) {
        // the parabola branch (B = 0) too; otherwise keep |E/B| moderate
        let b = if zero_b { 0.0 } else if b.abs() < 0.3 { 0.3 } else { b };
        let s = CrossedFields { m, q: charge, b, e };
        // fastest time scale 1/ω with ω = |qB/m| up to 45 here: scale the stencil step with it
        let h = H / (charge * b / m).abs().max(1.0);
        validate_h("crossed-fields", &|t| s.exact_solution(t, &q0, &qd0).unwrap(),
                 &|t, q, v| s.hand_accelerations(t, q, v), &q0, &qd0, &TIMES[..4], h);
    }

    #[test]
    fn kepler(mu in 0.5..3.0f64, r in 0.5..2.0f64, phi in 0.0..6.3f64,
              speed in 0.5..1.25f64, angle in -1.2..1.2f64) {
        let s = Kepler { m: 1.0, mu };
        // speed as a fraction of escape/√2 (= circular) speed: bound, e ≲ 0.6 for these ranges
        let v = speed * (mu / r).sqrt();
        let dir = phi + PI / 2.0 + angle;
        let q0 = [r * phi.cos(), r * phi.sin()];
        let qd0 = [v * dir.cos(), v * dir.sin()];
        let e = s.eccentricity(&q0, &qd0);
        prop_assume!(e < 0.8);
        // fastest time scale: pericentre r_p / v_p, r_p = a(1 − e), v_p = √(μ(1 + e)/r_p)
        let r_p = s.semi_major_axis(&q0, &qd0).unwrap() * (1.0 - e);
        let tau = r_p / (mu * (1.0 + e) / r_p).sqrt();
        validate_h("kepler", &|t| s.exact_solution(t, &q0, &qd0).unwrap(),
                   &|t, q, v| s.hand_accelerations(t, q, v), &q0, &qd0, &TIMES, 1e-3 * tau.min(1.0));
        // after one period the state returns (Kepler's third law T = 2π √(a³/μ))
        let period = s.period(&q0, &qd0).unwrap();
        let (q, qd) = s.exact_solution(period, &q0, &qd0).unwrap();
        close("kepler q(T)", &q, &q0, 1e-12);
        close("kepler q̇(T)", &qd, &qd0, 1e-12);
    }

    #[test]
    fn chain((q0, qd0) in (1usize..=10).prop_flat_map(|n| (
                 prop::collection::vec(-1.0..1.0f64, n), prop::collection::vec(-1.0..1.0f64, n))),
             m in 0.3..3.0f64, k in 0.3..3.0f64) {
        let s = Chain { n: q0.len(), m, k };
        validate("chain", &|t| s.exact_solution(t, &q0, &qd0).unwrap(),
                 &|t, q, v| s.hand_accelerations(t, q, v), &q0, &qd0, &TIMES[..4]);
    }

    #[test]
    fn damped_oscillator(m in 0.2..5.0f64, k in 0.0..5.0f64, c in 0.0..6.0f64,
                         critical in any::<bool>(), x0 in -2.0..2.0f64, v0 in -2.0..2.0f64) {
        // every regime, including exactly critical damping c² = 4mk
        let c = if critical { 2.0 * (m * k).sqrt() } else { c };
        let s = DampedOscillator { m, k, c };
        // fastest rate: c/m (up to 30 here) or √(k/m); scale the stencil step with it
        let h = H / (c / m).max((k / m).sqrt()).max(1.0);
        validate_h("damped", &|t| s.exact_solution(t, &[x0], &[v0]).unwrap(),
                 &|t, q, v| s.hand_accelerations(t, q, v), &[x0], &[v0], &TIMES[..4], h);
    }

    #[test]
    fn driven_oscillator(m in 0.2..5.0f64, k in 0.2..5.0f64, f0 in -2.0..2.0f64,
                         omega in -3.0..3.0f64, resonant in any::<bool>(),
                         x0 in -2.0..2.0f64, v0 in -2.0..2.0f64) {
        let omega = if resonant { (k / m).sqrt() } else { omega };
        let s = DrivenOscillator { m, k, f0, omega };
        validate("driven", &|t| s.exact_solution(t, &[x0], &[v0]).unwrap(),
                 &|t, q, v| s.hand_accelerations(t, q, v), &[x0], &[v0], &TIMES[..4]);
    }
}

/// Independent closed forms, not derived from the code's formulas.
#[test]
fn known_values() {
    // cyclotron: after half a period (π/ω) the in-plane velocity is reversed and the particle
    // is a diameter 2|v|/|ω| away
    let c = Cyclotron {
        m: 2.0,
        q: 1.0,
        b: 4.0,
    }; // ω = 2
    let (q, v) = c
        .exact_solution(PI / 2.0, &[0.0, 0.0, 0.0], &[0.0, 3.0, 1.0])
        .unwrap();
    close("cyclotron half turn q", &q, &[3.0, 0.0, PI / 2.0], 1e-14);
    close("cyclotron half turn v", &v, &[0.0, -3.0, 1.0], 1e-14);
    let (r, centre) = c.circle(&[0.0, 0.0, 0.0], &[0.0, 3.0, 1.0]);
    assert!((r - 1.5).abs() < 1e-15 && (centre[0] - 1.5).abs() < 1e-15);

    // crossed fields from rest: a cycloid; after one cyclotron period the particle is at rest
    // again, displaced by v_d · 2π/ω along x
    let s = CrossedFields {
        m: 1.0,
        q: 2.0,
        b: 0.5,
        e: 0.25,
    }; // ω = 1, v_d = 0.5
    let (q, v) = s.exact_solution(TAU, &[0.0; 3], &[0.0; 3]).unwrap();
    close("cycloid q", &q, &[0.5 * TAU, 0.0, 0.0], 1e-14);
    close("cycloid v", &v, &[0.0, 0.0, 0.0], 1e-14);

    // pendulum: period 4K(k²)/ω₀; K(sin²(π/4)) = K(1/2) = 1.8540746773013719 (A&S 17.1)
    let p = Pendulum {
        m: 1.0,
        l: 1.0,
        g: 1.0,
    };
    let t = p.period(PI / 2.0, 0.0).unwrap();
    assert!((t - 4.0 * 1.854_074_677_301_371_9).abs() < 1e-13);
    // released from θ₀ = π/2: back at θ₀ after one period, at θ = 0 after a quarter
    let (q, v) = p.exact_solution(t, &[PI / 2.0], &[0.0]).unwrap();
    assert!((q[0] - PI / 2.0).abs() < 1e-12 && v[0].abs() < 1e-12);
    let (q, v) = p.exact_solution(t / 4.0, &[PI / 2.0], &[0.0]).unwrap();
    // energy: θ̇² = 2 (g/l)(1 − cos θ₀) at the bottom
    assert!(q[0].abs() < 1e-12 && (v[0] + 2.0f64.sqrt()).abs() < 1e-12);
    // rotation: with k² > 1 the angle advances by 2π per period
    let t = p.period(0.0, 3.0).unwrap();
    let (q, v) = p.exact_solution(t, &[0.0], &[3.0]).unwrap();
    assert!((q[0] - TAU).abs() < 1e-11 && (v[0] - 3.0).abs() < 1e-11);

    // kepler: circular orbit of radius 4 about μ = 2: period 2π √(64/2), quarter turn
    let k = Kepler { m: 1.0, mu: 2.0 };
    let vc = (2.0f64 / 4.0).sqrt();
    let period = k.period(&[4.0, 0.0], &[0.0, vc]).unwrap();
    assert!((period - TAU * 32.0f64.sqrt()).abs() < 1e-12);
    let (q, v) = k
        .exact_solution(period / 4.0, &[4.0, 0.0], &[0.0, vc])
        .unwrap();
    close("kepler quarter", &q, &[0.0, 4.0], 1e-13);
    close("kepler quarter v", &v, &[-vc, 0.0], 1e-13);
    // unbound: no closed form offered
    assert!(k.exact_solution(1.0, &[1.0, 0.0], &[0.0, 2.5]).is_none());

    // chain with one mass: a single oscillator of stiffness 2k
    let ch = Chain {
        n: 1,
        m: 1.0,
        k: 2.0,
    };
    let (q, _) = ch.exact_solution(1.0, &[1.0], &[0.0]).unwrap();
    assert!((q[0] - 2.0f64.cos()).abs() < 1e-15);
    // a pure normal mode stays a normal mode: x(t) = x(0) cos ωⱼt
    let ch = Chain {
        n: 5,
        m: 1.0,
        k: 1.0,
    };
    let mode: Vec<f64> = (1..=5).map(|i| ch.mode_shape(2, i)).collect();
    let w = ch.mode_frequency(2);
    let (q, _) = ch.exact_solution(3.0, &mode, &[0.0; 5]).unwrap();
    let want: Vec<f64> = mode.iter().map(|x| x * (w * 3.0).cos()).collect();
    close("chain mode", &q, &want, 1e-14);

    // damped, under-damped: x(t) = e^{−γt} cos ω_d t + (γ/ω_d) e^{−γt} sin ω_d t from (1, 0)
    let d = DampedOscillator {
        m: 1.0,
        k: 5.0,
        c: 2.0,
    }; // γ = 1, ω_d = 2
    let (x, _) = d.exact_solution(0.8, &[1.0], &[0.0]).unwrap();
    let want = (-0.8f64).exp() * ((1.6f64).cos() + 0.5 * (1.6f64).sin());
    assert!((x[0] - want).abs() < 1e-15);
    // over-damped: γ = 2.5, κ = 1.5 → roots −1, −4: x = (4e^{−t} − e^{−4t})/3 from (1, 0)
    let d = DampedOscillator {
        m: 1.0,
        k: 4.0,
        c: 5.0,
    };
    let (x, _) = d.exact_solution(0.8, &[1.0], &[0.0]).unwrap();
    let want = (4.0 * (-0.8f64).exp() - (-3.2f64).exp()) / 3.0;
    assert!((x[0] - want).abs() < 1e-15);

    // driven off resonance from rest: x = F₀(cos Ωt − cos ω₀t)/(m(ω₀² − Ω²))
    let dr = DrivenOscillator {
        m: 2.0,
        k: 8.0,
        f0: 3.0,
        omega: 1.0,
    }; // ω₀ = 2
    let (x, _) = dr.exact_solution(1.3, &[0.0], &[0.0]).unwrap();
    let want = 3.0 * ((1.3f64).cos() - (2.6f64).cos()) / (2.0 * 3.0);
    assert!((x[0] - want).abs() < 1e-15);
}
