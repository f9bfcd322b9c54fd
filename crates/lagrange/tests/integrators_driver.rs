//! The driver `simulate`: output times, observer calls, settings validation and failures.

use lagrange::MechanicsError;
use lagrange::integrators::{IntegrationError, Method, NoObserver, Observer, simulate};
use lagrange::{Lagrangian, Scalar};

/// L = ½q̇² − ½q²: q = cos t for q(0) = 1, q̇(0) = 0.
struct Oscillator;

impl Lagrangian for Oscillator {
    fn dof(&self) -> usize {
        1
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
        (q_dot[0] * q_dot[0] - q[0] * q[0]) * 0.5
    }
}

/// L = q̇ q − q²/2: linear in q̇, so ∂²L/∂q̇² = 0 (degenerate).
struct Degenerate;

impl Lagrangian for Degenerate {
    fn dof(&self) -> usize {
        1
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
        q_dot[0] * q[0] - q[0] * q[0] * 0.5
    }
}

/// L = ½q̇² + q⁴: q̈ = 4q³ blows up in finite time (at t ≈ 0.93 from q = 1, q̇ = 0).
struct Quartic;

impl Lagrangian for Quartic {
    fn dof(&self) -> usize {
        1
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
        q_dot[0] * q_dot[0] * 0.5 + q[0].powi(4)
    }
}

fn all_methods() -> [Method; 4] {
    [
        Method::Euler,
        Method::Rk4,
        Method::DormandPrince54 {
            rtol: 1e-8,
            atol: 1e-10,
        },
        Method::Variational,
    ]
}

#[derive(Default)]
struct Recorder {
    calls: Vec<(f64, f64, f64)>,
}

impl Observer for Recorder {
    fn on_output(&mut self, t: f64, t0: f64, t_end: f64) {
        self.calls.push((t, t0, t_end));
    }
}

#[test]
fn outputs_land_exactly_on_the_requested_times() {
    let (t0, t_end, dt) = (0.3, 1.25, 0.1); // 9.5 intervals: the last one is 0.05
    for method in all_methods() {
        let mut rec = Recorder::default();
        let traj = simulate(
            &Oscillator,
            &method,
            t0,
            &[1.0],
            &[0.0],
            t_end,
            dt,
            &mut rec,
        )
        .unwrap();
        let expected: Vec<f64> = (0..10).map(|k| t0 + k as f64 * dt).chain([t_end]).collect();
        assert_eq!(traj.t, expected, "{}", method.name()); // bitwise: t0 + k·dt, then t_end
        assert_eq!(traj.q.len(), 11);
        assert_eq!(traj.q_dot.len(), 11);
        assert_eq!((traj.q[0][0], traj.q_dot[0][0]), (1.0, 0.0));
        let observed: Vec<f64> = rec.calls.iter().map(|c| c.0).collect();
        assert_eq!(observed, expected);
        assert!(rec.calls.iter().all(|c| c.1 == t0 && c.2 == t_end));
    }
}

#[test]
fn dopri5_dense_outputs_are_accurate_between_steps() {
    // Outputs every 0.01 while the internal steps are much longer: the interpolated states
    // must still match cos(t − t0) to about the tolerance.
    let t0 = 0.3;
    let method = Method::DormandPrince54 {
        rtol: 1e-9,
        atol: 1e-12,
    };
    let traj = simulate(
        &Oscillator,
        &method,
        t0,
        &[1.0],
        &[0.0],
        5.0,
        0.01,
        &mut NoObserver,
    )
    .unwrap();
    assert_eq!(*traj.t.last().unwrap(), 5.0);
    let worst = traj
        .t
        .iter()
        .zip(traj.q.iter().zip(&traj.q_dot))
        .map(|(&t, (q, v))| {
            (q[0] - (t - t0).cos())
                .abs()
                .max((v[0] + (t - t0).sin()).abs())
        })
        .fold(0.0, f64::max);
    eprintln!("dopri5 dense output: worst error {worst:.3e}");
    assert!(worst < 1e-8, "{worst}"); // measured 4.2e-10 (~0.4 rtol); 1e-8 = 10 rtol
}

#[test]
fn zero_length_run_returns_the_initial_state() {
    let mut rec = Recorder::default();
    let traj = simulate(
        &Oscillator,
        &Method::Rk4,
        2.0,
        &[1.0],
        &[0.5],
        2.0,
        0.1,
        &mut rec,
    )
    .unwrap();
    assert_eq!(traj.t, [2.0]);
    assert_eq!(traj.q, [vec![1.0]]);
    assert_eq!(rec.calls.len(), 1);
}

fn is_invalid(r: Result<impl std::fmt::Debug, IntegrationError>) -> String {
    match r {
        Err(e @ IntegrationError::InvalidSettings { .. }) => e.to_string(),
        other => panic!("expected InvalidSettings, got {other:?}"),
    }
}

#[test]
fn invalid_settings_are_rejected_before_integrating() {
    let sim = |m: Method, q0: f64, v0: f64, t_end: f64, dt: f64| {
        simulate(
            &Oscillator,
            &m,
            0.0,
            &[q0],
            &[v0],
            t_end,
            dt,
            &mut NoObserver,
        )
    };
    for method in all_methods() {
        let msg = is_invalid(sim(method, f64::NAN, 0.0, 1.0, 0.1));
        assert!(msg.contains("not finite"), "{msg}");
        is_invalid(sim(method, 1.0, f64::INFINITY, 1.0, 0.1));
        let msg = is_invalid(sim(method, 1.0, 0.0, 1.0, 0.0));
        // the library names its own argument, never a command-line flag
        assert!(msg.contains("time step dt") && !msg.contains("--"), "{msg}");
        is_invalid(sim(method, 1.0, 0.0, 1.0, -0.1));
        is_invalid(sim(method, 1.0, 0.0, 1.0, f64::NAN));
        let msg = is_invalid(sim(method, 1.0, 0.0, -1.0, 0.1));
        assert!(msg.contains("before the start time"), "{msg}");
    }
    is_invalid(sim(
        Method::DormandPrince54 {
            rtol: 0.0,
            atol: 1e-9,
        },
        1.0,
        0.0,
        1.0,
        0.1,
    ));
    is_invalid(sim(
        Method::DormandPrince54 {
            rtol: 1e-6,
            atol: -1.0,
        },
        1.0,
        0.0,
        1.0,
        0.1,
    ));
    is_invalid(simulate(
        &Oscillator,
        &Method::Rk4,
        0.0,
        &[1.0, 2.0],
        &[0.0],
        1.0,
        0.1,
        &mut NoObserver,
    ));
}

#[test]
fn degenerate_lagrangian_is_a_mechanics_error() {
    for method in all_methods() {
        let err = simulate(
            &Degenerate,
            &method,
            0.5,
            &[1.0],
            &[0.0],
            1.0,
            0.1,
            &mut NoObserver,
        )
        .unwrap_err();
        match &err {
            IntegrationError::Mechanics {
                t,
                source: MechanicsError::SingularMassMatrix { .. },
            } => {
                assert_eq!(*t, 0.5, "{}", method.name())
            }
            other => panic!("{}: {other:?}", method.name()),
        }
        let msg = err.to_string();
        assert!(msg.contains("t = 0.5") && !msg.contains('\n'), "{msg}");
    }
}

#[test]
fn blow_up_stops_with_the_time_instead_of_returning_nan() {
    for method in all_methods() {
        let r = simulate(
            &Quartic,
            &method,
            0.0,
            &[1.0],
            &[0.0],
            10.0,
            0.5,
            &mut NoObserver,
        );
        let err = r.expect_err(method.name());
        eprintln!("{}: {err}", method.name());
        let t = err.time().unwrap();
        // the exact solution blows up at t ≈ 0.93; every method must stop by t_end and report a
        // time before it
        assert!((0.0..10.0).contains(&t), "{}: {err:?}", method.name());
        assert!(
            matches!(
                err,
                IntegrationError::NonFinite { .. }
                    | IntegrationError::Mechanics { .. }
                    | IntegrationError::StepSizeTooSmall { .. }
                    | IntegrationError::NewtonDidNotConverge { .. }
            ),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("t = {t}")) && !msg.contains('\n'),
            "{msg}"
        );
        if method.is_adaptive() {
            // error control follows the solution up to the singularity
            assert!(t > 0.9 && t < 0.95, "{err:?}");
        }
    }
}

#[test]
fn fixed_step_blow_up_is_non_finite() {
    // Explicit methods with a huge step overflow to infinity within a few steps.
    for method in [Method::Euler, Method::Rk4] {
        let err = simulate(
            &Quartic,
            &method,
            0.0,
            &[1.0],
            &[0.0],
            100.0,
            0.5,
            &mut NoObserver,
        )
        .unwrap_err();
        assert!(
            matches!(err, IntegrationError::NonFinite { .. }),
            "{}: {err:?}",
            method.name()
        );
        assert!(err.to_string().contains("reduce the time step dt"));
    }
}
