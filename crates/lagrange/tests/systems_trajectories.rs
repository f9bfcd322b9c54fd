//! Integrated trajectories of the built-in systems against their exact solutions (themselves
//! validated against the hand EOM in `systems_exact.rs`), and conservation laws where no exact
//! solution exists.

use lagrange::integrators::{Method, NoObserver, Trajectory, simulate};
use lagrange::systems::*;
use lagrange::{Lagrangian, jacobi_integral};

const DOPRI: Method = Method::DormandPrince54 {
    rtol: 1e-11,
    atol: 1e-13,
};

fn run<S: Lagrangian>(
    s: &S,
    method: &Method,
    q0: &[f64],
    qd0: &[f64],
    t_end: f64,
    dt: f64,
) -> Trajectory {
    simulate(s, method, 0.0, q0, qd0, t_end, dt, &mut NoObserver).unwrap()
}

/// Max over the trajectory of |numeric − exact| (positions and velocities), relative to
/// `1 + max |exact|`.
fn worst(traj: &Trajectory, exact: &dyn Fn(f64) -> (Vec<f64>, Vec<f64>)) -> f64 {
    let mut err = 0.0_f64;
    for k in 0..traj.len() {
        let (q, v) = exact(traj.t[k]);
        let scale = 1.0 + q.iter().chain(&v).fold(0.0_f64, |a, x| a.max(x.abs()));
        for (a, b) in traj.q[k].iter().zip(&q).chain(traj.q_dot[k].iter().zip(&v)) {
            err = err.max((a - b).abs() / scale);
        }
    }
    err
}

/// RK4 with step h over time T on a motion of top frequency ω has global error ~ (ωh)⁴·ωT: with
/// ωh ≤ 0.02 and ωT ≤ 40 that is ≲ 1e-6 (measured: ≤ 3e-8, the 2:1 oscillator). dopri5 at
/// rtol 1e-11 keeps the global error near 1e-10 over these spans (measured ≤ 5e-10); we allow
/// 1e-8.
fn check_both(name: &str, s: &BuiltinSystem, q0: &[f64], qd0: &[f64], t_end: f64, dt: f64) {
    let exact = |t: f64| s.exact_solution(t, q0, qd0).unwrap();
    let e_rk4 = worst(&run(s, &Method::Rk4, q0, qd0, t_end, dt), &exact);
    assert!(e_rk4 < 1e-6, "{name}: rk4 error {e_rk4:e}");
    let e_dp = worst(&run(s, &DOPRI, q0, qd0, t_end, 0.1), &exact);
    assert!(e_dp < 1e-8, "{name}: dopri5 error {e_dp:e}");
}

#[test]
fn exact_systems_from_default_states() {
    for name in [
        "harmonic-oscillator",
        "pendulum",
        "cyclotron",
        "crossed-fields",
        "chain",
        "damped-oscillator",
        "driven-oscillator",
    ] {
        let s = by_name(name).unwrap();
        let (q0, qd0) = s.initial_state();
        // the pendulum's ω₀ = √9.81 ≈ 3.1: smaller step for the same ωh
        let dt = if name == "pendulum" { 0.002 } else { 0.01 };
        check_both(name, &s, &q0, &qd0, 20.0, dt);
    }
}

#[test]
fn cyclotron_stays_on_its_circle() {
    let c = Cyclotron {
        m: 1.0,
        q: 2.0,
        b: 1.5,
    }; // ω = 3
    let (q0, qd0) = ([0.5, -0.2, 0.0], [1.0, 0.4, 0.0]);
    let (r, centre) = c.circle(&q0, &qd0);
    let traj = run(&c, &DOPRI, &q0, &qd0, 10.0, 0.05);
    for q in &traj.q {
        let d = (q[0] - centre[0]).hypot(q[1] - centre[1]);
        // dopri5 at rtol 1e-11 over 5 turns: radius drifts ≪ 1e-8
        assert!((d - r).abs() < 1e-8 * r, "radius {d} vs {r}");
    }
}

#[test]
fn kepler_period() {
    let k = Kepler::default();
    let (q0, qd0) = k.initial_state();
    let period = k.period(&q0, &qd0).unwrap();
    // after exactly one period the orbit closes (e = 0.44: pericentre passage is the hard part)
    let traj = run(&k, &DOPRI, &q0, &qd0, period, period / 50.0);
    let (q, v) = (traj.q.last().unwrap(), traj.q_dot.last().unwrap());
    for (a, b) in q.iter().chain(v).zip(q0.iter().chain(&qd0)) {
        assert!((a - b).abs() < 1e-8, "{a} vs {b}");
    }
    let exact = |t: f64| k.exact_solution(t, &q0, &qd0).unwrap();
    let e = worst(&traj, &exact);
    assert!(e < 1e-8, "kepler dopri5 vs exact {e:e}");
    // RK4 with 2000 steps per orbit, two orbits (measured error ≈ 1.2e-9)
    let traj = run(&k, &Method::Rk4, &q0, &qd0, 2.0 * period, period / 2000.0);
    let e = worst(&traj, &exact);
    assert!(e < 1e-7, "kepler rk4 vs exact {e:e}");
}

/// No closed form: energy (Jacobi integral) and, for n-body, total momentum are conserved.
#[test]
fn conservation_without_exact_solution() {
    for name in ["double-pendulum", "spring-pendulum", "n-body"] {
        let s = by_name(name).unwrap();
        let (q0, qd0) = s.initial_state();
        let t_end = if name == "n-body" { 2.0 } else { 5.0 };
        let traj = run(&s, &DOPRI, &q0, &qd0, t_end, 0.05);
        let h0 = jacobi_integral(&s, 0.0, &q0, &qd0).unwrap();
        for k in 0..traj.len() {
            let h = jacobi_integral(&s, traj.t[k], &traj.q[k], &traj.q_dot[k]).unwrap();
            // dopri5 at rtol 1e-11: relative energy error stays ≲ 1e-9 over a few periods
            assert!(
                (h - h0).abs() < 1e-7 * (1.0 + h0.abs()),
                "{name}: h {h} vs {h0}"
            );
        }
        if let BuiltinSystem::NBody(nb) = &s {
            let p0 = nb.momentum(&qd0);
            let p = nb.momentum(traj.q_dot.last().unwrap());
            // every stage's forces sum to zero up to rounding: momentum is kept to ~1e-14
            assert!(
                (p[0] - p0[0]).abs() < 1e-11 && (p[1] - p0[1]).abs() < 1e-11,
                "{p:?}"
            );
        }
    }
}
