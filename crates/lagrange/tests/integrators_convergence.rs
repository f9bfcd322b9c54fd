//! Orders of convergence of every method against exact solutions of linear oscillators.
//!
//! Oracles are closed-form solutions (harmonic, driven and damped oscillators), independent of
//! the engine. The observed order is the least-squares slope of log(error) against log(dt).

use lagrange::integrators::dopri5::DOPRI5;
use lagrange::integrators::explicit_rk::{RkWorkspace, lagrangian_rhs};
use lagrange::integrators::{Method, NoObserver, simulate};
use lagrange::{Lagrangian, Scalar};

/// L = ½q̇² − ½ω²q²: q(t) = q0 cos ωt + (v0/ω) sin ωt.
struct Harmonic {
    omega: f64,
}

impl Lagrangian for Harmonic {
    fn dof(&self) -> usize {
        1
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
        (q_dot[0] * q_dot[0] - q[0] * q[0] * (self.omega * self.omega)) * 0.5
    }
}

/// L = ½q̇² − ½q² + q·F cos Ωt (explicitly time dependent): q̈ + q = F cos Ωt.
struct Driven {
    force: f64,
    freq: f64,
}

impl Lagrangian for Driven {
    fn dof(&self) -> usize {
        1
    }
    fn lagrangian<D: Scalar>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
        (q_dot[0] * q_dot[0] - q[0] * q[0]) * 0.5 + q[0] * (t * self.freq).cos() * self.force
    }
}

/// L = ½q̇² − ½q², Rayleigh F = ½c q̇²: q̈ + c q̇ + q = 0.
struct Damped {
    c: f64,
}

impl Lagrangian for Damped {
    fn dof(&self) -> usize {
        1
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
        (q_dot[0] * q_dot[0] - q[0] * q[0]) * 0.5
    }
    fn structure(&self) -> lagrange::Structure {
        lagrange::Structure::new().dissipation()
    }
    fn dissipation<D: Scalar>(&self, _t: D, _q: &[D], q_dot: &[D]) -> D {
        q_dot[0] * q_dot[0] * (0.5 * self.c)
    }
}

const Q0: f64 = 1.0;
const V0: f64 = 0.5;
const T_END: f64 = 2.0;

fn harmonic_exact(t: f64) -> (f64, f64) {
    let w = 2.0;
    (
        Q0 * (w * t).cos() + V0 / w * (w * t).sin(),
        -Q0 * w * (w * t).sin() + V0 * (w * t).cos(),
    )
}

fn driven_exact(t: f64) -> (f64, f64) {
    // particular solution a cos Ωt with a = F/(1 − Ω²), plus the free oscillation
    let (f, w) = (0.7, 1.7);
    let a = f / (1.0 - w * w);
    let (ca, cb) = (Q0 - a, V0);
    (
        ca * t.cos() + cb * t.sin() + a * (w * t).cos(),
        -ca * t.sin() + cb * t.cos() - a * w * (w * t).sin(),
    )
}

fn damped_exact(t: f64) -> (f64, f64) {
    // underdamped: q = e^{−γt}(A cos ω_d t + B sin ω_d t), γ = c/2, ω_d = √(1 − γ²)
    let g: f64 = 0.15;
    let wd = (1.0 - g * g).sqrt();
    let (a, b) = (Q0, (V0 + g * Q0) / wd);
    let e = (-g * t).exp();
    let (c, s) = ((wd * t).cos(), (wd * t).sin());
    (
        e * (a * c + b * s),
        e * (-g * (a * c + b * s) + wd * (-a * s + b * c)),
    )
}

/// Max of the position and velocity errors at `T_END`.
fn final_error<L: Lagrangian>(
    lag: &L,
    method: &Method,
    dt: f64,
    exact: fn(f64) -> (f64, f64),
) -> f64 {
    let traj = simulate(lag, method, 0.0, &[Q0], &[V0], T_END, dt, &mut NoObserver).unwrap();
    assert_eq!(*traj.t.last().unwrap(), T_END);
    let (q, v) = exact(T_END);
    (traj.q.last().unwrap()[0] - q)
        .abs()
        .max((traj.q_dot.last().unwrap()[0] - v).abs())
}

fn sci(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| format!("{v:.2e}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Least-squares slope of log(error) against log(dt).
fn slope(dts: &[f64], errors: &[f64]) -> f64 {
    let xs: Vec<f64> = dts.iter().map(|x| x.ln()).collect();
    let ys: Vec<f64> = errors.iter().map(|x| x.ln()).collect();
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    sxy / sxx
}

/// Step sizes for each method: small enough to be asymptotic, large enough to stay far above
/// roundoff (the smallest errors are ≥ ~1e-11).
fn step_sizes(method: &Method) -> Vec<f64> {
    let base = match method.order() {
        1 => 4e-3,
        2 => 4e-2,
        _ => 1e-1,
    };
    (0..5).map(|k| base / 2f64.powi(k)).collect()
}

fn check_order<L: Lagrangian>(name: &str, lag: &L, exact: fn(f64) -> (f64, f64)) {
    for method in [Method::Euler, Method::Rk4, Method::Variational] {
        let dts = step_sizes(&method);
        let errors: Vec<f64> = dts
            .iter()
            .map(|&dt| final_error(lag, &method, dt, exact))
            .collect();
        let p = slope(&dts, &errors);
        eprintln!(
            "{name} {}: errors {} slope {p:.3}",
            method.name(),
            sci(&errors)
        );
        // asymptotic regime: the observed order is within 0.3 of the theoretical one
        assert!(
            (p - method.order() as f64).abs() < 0.3,
            "{name} {}: slope {p}",
            method.name()
        );
    }
}

#[test]
fn fixed_step_orders_on_the_harmonic_oscillator() {
    check_order("harmonic", &Harmonic { omega: 2.0 }, harmonic_exact);
}

#[test]
fn fixed_step_orders_with_explicit_time_dependence() {
    check_order(
        "driven",
        &Driven {
            force: 0.7,
            freq: 1.7,
        },
        driven_exact,
    );
}

#[test]
fn fixed_step_orders_with_rayleigh_dissipation() {
    check_order("damped", &Damped { c: 0.3 }, damped_exact);
}

#[test]
fn dopri5_tableau_is_fifth_order_as_a_fixed_step_method() {
    let lag = Harmonic { omega: 2.0 };
    let mut f = lagrangian_rhs(&lag);
    let dts: Vec<f64> = (0..5).map(|k| 0.2 / 2f64.powi(k)).collect();
    let errors: Vec<f64> = dts
        .iter()
        .map(|&dt| {
            let steps = (T_END / dt).round() as usize;
            let mut work = RkWorkspace::new(&DOPRI5, 2);
            let (mut y, mut y_new) = ([Q0, V0], [0.0; 2]);
            for k in 0..steps {
                work.step(
                    &DOPRI5,
                    &mut f,
                    k as f64 * dt,
                    dt,
                    &y,
                    false,
                    &mut y_new,
                    None,
                )
                .unwrap();
                y = y_new;
            }
            let (q, v) = harmonic_exact(T_END);
            (y[0] - q).abs().max((y[1] - v).abs())
        })
        .collect();
    let p = slope(&dts, &errors);
    eprintln!("dopri5 fixed: errors {} slope {p:.3}", sci(&errors));
    assert!((p - 5.0).abs() < 0.3, "slope {p}"); // same criterion as the other methods
}

#[test]
fn dopri5_error_follows_the_tolerance() {
    let lag = Harmonic { omega: 2.0 };
    let rtols = [1e-4, 1e-6, 1e-8, 1e-10];
    let mut errors = vec![];
    for &rtol in &rtols {
        let method = Method::DormandPrince54 { rtol, atol: rtol };
        // outputs every 0.05: the error is measured at every (mostly interpolated) output
        let traj = simulate(
            &lag,
            &method,
            0.0,
            &[Q0],
            &[V0],
            10.0,
            0.05,
            &mut NoObserver,
        )
        .unwrap();
        let err = traj
            .t
            .iter()
            .zip(&traj.q)
            .zip(&traj.q_dot)
            .map(|((&t, q), v)| {
                let (qe, ve) = harmonic_exact(t);
                (q[0] - qe).abs().max((v[0] - ve).abs())
            })
            .fold(0.0, f64::max);
        eprintln!("dopri5 rtol {rtol:.0e}: max error {err:.3e}");
        // the global error accumulates over 10 time units (~3 periods, |y| ≤ ~2.1): measured
        // 9–12 × rtol for every rtol here; 25× leaves margin without hiding a broken controller
        assert!(err < 25.0 * rtol, "rtol {rtol}: error {err}");
        errors.push(err);
    }
    // tolerance proportionality: 100× tighter rtol gave ~100–125× smaller errors; require ≥ 30×
    assert!(errors.windows(2).all(|w| w[1] < w[0] / 30.0), "{errors:?}");
}
