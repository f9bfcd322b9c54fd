//! Time integrators: one method per file, one driver ([`simulate`]).
//!
//! | method | [`Method`] | order | properties |
//! |---|---|---|---|
//! | explicit Euler ([`euler`]) | `Euler` | 1 | fixed step; energy drifts; for teaching and tests |
//! | classic Runge–Kutta ([`rk4`]) | `Rk4` | 4 | fixed step; accurate, not symplectic (slow energy drift) |
//! | Dormand–Prince 5(4) ([`dopri5`]) | `DormandPrince54 { rtol, atol }` | 5 | adaptive step with error control, 4th-order dense output |
//! | midpoint variational ([`variational`]) | `Variational` | 2 | fixed step, implicit; symplectic and momentum-preserving: bounded energy error over very long runs |
//!
//! The Runge–Kutta methods are data ([`ButcherTableau`]) run by one generic explicit stepper
//! ([`explicit_rk`]); the adaptive step-size controller lives in [`controller`].
//!
//! **Output times.** [`simulate`] reports the state at `t0, t0 + dt, t0 + 2·dt, …` (computed as
//! `t0 + k·dt`, not accumulated) and last exactly at `t_end`; when `(t_end − t0)/dt` is not an
//! integer (up to a relative `1e-9`), the last interval is shorter. For the fixed-step methods
//! each output interval is one step. For `dopri5`, `dt` is only the output interval: the internal
//! steps are chosen by the error controller and the outputs are obtained from the method's dense
//! output (the last output, `t_end`, is stepped onto exactly).
//!
//! **Failure.** After every step the state is checked; NaN or infinity stops the run with
//! [`IntegrationError::NonFinite`] instead of returning a trajectory that contains NaN.
//!
//! ```
//! use lagrange::{Lagrangian, Scalar};
//! use lagrange::integrators::{Method, NoObserver, simulate};
//!
//! /// Harmonic oscillator L = ½q̇² − ½q² (ω = 1): q(t) = cos t for q(0) = 1, q̇(0) = 0.
//! struct Oscillator;
//! impl Lagrangian for Oscillator {
//!     fn dof(&self) -> usize { 1 }
//!     fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
//!         (q_dot[0] * q_dot[0] - q[0] * q[0]) * 0.5
//!     }
//! }
//!
//! let traj = simulate(&Oscillator, &Method::Rk4, 0.0, &[1.0], &[0.0], 1.0, 0.01, &mut NoObserver)
//!     .unwrap();
//! assert_eq!(traj.t.len(), 101);
//! assert_eq!(*traj.t.last().unwrap(), 1.0);
//! // RK4's global error with h = 0.01 is ~1e-10 here.
//! assert!((traj.q[100][0] - 1.0_f64.cos()).abs() < 1e-9);
//! ```

pub mod controller;
pub mod dopri5;
mod error;
pub mod euler;
pub mod explicit_rk;
pub mod rk4;
pub mod tableau;
pub mod variational;

pub use error::IntegrationError;

pub use tableau::ButcherTableau;

use crate::lagrangian::Lagrangian;
use crate::mechanics::MechanicsError;
use std::ops::ControlFlow;

/// Most output rows [`simulate`] will produce (beyond this, increase `dt`).
pub const MAX_OUTPUTS: usize = 100_000_000;

/// Smallest relative tolerance accepted by `dopri5` (below it roundoff dominates the error
/// estimate and the controller cannot succeed).
pub const MIN_RTOL: f64 = 100.0 * f64::EPSILON;

/// An integration method with its settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// Explicit Euler, order 1 (see [`euler`]).
    Euler,
    /// Classic fourth-order Runge–Kutta (see [`rk4`]).
    Rk4,
    /// Adaptive Dormand–Prince 5(4) with relative and absolute tolerances (see [`dopri5`]).
    DormandPrince54 {
        /// Relative tolerance (per component, `> 0`).
        rtol: f64,
        /// Absolute tolerance (per component, `> 0`).
        atol: f64,
    },
    /// Midpoint variational integrator, order 2, symplectic (see [`variational`]).
    Variational,
}

impl Method {
    /// The names accepted by [`from_name`](Method::from_name), in order of increasing
    /// sophistication.
    pub const NAMES: [&'static str; 4] = ["euler", "rk4", "dopri5", "variational"];

    /// The method called `name` (`"euler"`, `"rk4"`, `"dopri5"`, `"variational"`; ASCII case is
    /// ignored). `rtol` and `atol` are used only by `dopri5`. Returns `None` for unknown names.
    pub fn from_name(name: &str, rtol: f64, atol: f64) -> Option<Method> {
        match name.to_ascii_lowercase().as_str() {
            "euler" => Some(Method::Euler),
            "rk4" => Some(Method::Rk4),
            "dopri5" => Some(Method::DormandPrince54 { rtol, atol }),
            "variational" => Some(Method::Variational),
            _ => None,
        }
    }

    /// The method's name, as accepted by [`from_name`](Method::from_name).
    pub fn name(&self) -> &'static str {
        match self {
            Method::Euler => "euler",
            Method::Rk4 => "rk4",
            Method::DormandPrince54 { .. } => "dopri5",
            Method::Variational => "variational",
        }
    }

    /// Order of accuracy of the global error (1, 4, 5, 2).
    pub fn order(&self) -> u32 {
        match self {
            Method::Euler => 1,
            Method::Rk4 => 4,
            Method::DormandPrince54 { .. } => 5,
            Method::Variational => 2,
        }
    }

    /// Whether the method is symplectic (only the variational integrator).
    pub fn is_symplectic(&self) -> bool {
        matches!(self, Method::Variational)
    }

    /// Whether the method chooses its own internal steps (only `dopri5`).
    pub fn is_adaptive(&self) -> bool {
        matches!(self, Method::DormandPrince54 { .. })
    }
}

/// Receives a call at every output time of [`simulate`], e.g. to drive a progress bar.
pub trait Observer {
    /// Called after the state at output time `t` has been recorded (also once for `t = t0`).
    fn on_output(&mut self, _t: f64, _t0: f64, _t_end: f64) {}
}

/// An [`Observer`] that does nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl Observer for NoObserver {}

/// States at the output times: `q[k]` and `q_dot[k]` at `t[k]`; row 0 is the initial state.
#[derive(Debug, Clone)]
pub struct Trajectory {
    /// Output times, `t[0] = t0`, last `= t_end`.
    pub t: Vec<f64>,
    /// Generalized coordinates, one vector of length `n` per output time.
    pub q: Vec<Vec<f64>>,
    /// Generalized velocities, one vector of length `n` per output time.
    pub q_dot: Vec<Vec<f64>>,
}

impl Trajectory {
    /// Number of output rows.
    pub fn len(&self) -> usize {
        self.t.len()
    }

    /// Whether there are no rows (never the case for a trajectory returned by [`simulate`]).
    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
    }
}

/// What a stepper did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepCounts {
    /// Accepted steps.
    pub steps: u64,
    /// Rejected steps (adaptive methods only).
    pub rejected_steps: u64,
    /// q̈ evaluations (explicit methods) or evaluations of the discrete Euler–Lagrange
    /// equations with their Jacobian (the variational method: one per Newton iteration).
    pub evaluations: u64,
}

/// What one run did: the counts of its steps and how many rows it produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Steps, rejected steps and evaluations.
    pub counts: StepCounts,
    /// Output rows passed to the sink (the initial state included).
    pub rows: u64,
    /// Whether the sink stopped the run early (see [`simulate_streaming`]).
    pub stopped: bool,
    /// How the equations were evaluated, as the stepper reports it at the end of the run (the
    /// variational method reports its own assembly and solve); `None` when no step was taken.
    pub evaluator: Option<crate::mechanics::EvaluatorInfo>,
}

/// A method's state, advanced from one output time to the next.
pub(crate) trait Stepper {
    /// Advances to `t_next` (> the current output time) and writes the state there.
    fn advance_to(
        &mut self,
        t_next: f64,
        q: &mut [f64],
        q_dot: &mut [f64],
    ) -> Result<(), IntegrationError>;

    /// Steps, rejections and evaluations so far.
    fn counts(&self) -> StepCounts;

    /// How the stepper evaluates its equations (see [`RunStats::evaluator`]).
    fn evaluator(&self) -> crate::mechanics::EvaluatorInfo;
}

/// Integrates the Euler–Lagrange equations of `lagrangian` from `(t0, q0, q_dot0)` to `t_end`,
/// reporting the state every `dt` (and at `t_end`); see the [module docs](self) for the output
/// times and each method.
///
/// `observer` is called at every output time, `t0` included. Errors: invalid settings
/// ([`IntegrationError::InvalidSettings`], checked before any step), a degenerate Lagrangian
/// ([`IntegrationError::Mechanics`]), blow-up ([`IntegrationError::NonFinite`]), and the
/// method-specific failures of `dopri5` and the variational integrator.
#[allow(clippy::too_many_arguments)]
pub fn simulate<L: Lagrangian + ?Sized>(
    lagrangian: &L,
    method: &Method,
    t0: f64,
    q0: &[f64],
    q_dot0: &[f64],
    t_end: f64,
    dt: f64,
    observer: &mut dyn Observer,
) -> Result<Trajectory, IntegrationError> {
    let eom = Box::new(crate::mechanics::EquationsOfMotion::new(lagrangian));
    simulate_with(lagrangian, eom, method, t0, q0, q_dot0, t_end, dt, observer)
}

/// [`simulate`] with another q̈ evaluator for the explicit methods (Euler, RK4, DOPRI5), for
/// example `lagrange-jit`'s compiled equations. The variational integrator works on the
/// Lagrangian itself (Newton on the discrete Euler–Lagrange equations) and ignores `eom`.
#[allow(clippy::too_many_arguments)]
pub fn simulate_with<'a, L: Lagrangian + ?Sized>(
    lagrangian: &'a L,
    eom: Box<dyn crate::mechanics::Accelerations + 'a>,
    method: &Method,
    t0: f64,
    q0: &[f64],
    q_dot0: &[f64],
    t_end: f64,
    dt: f64,
    observer: &mut dyn Observer,
) -> Result<Trajectory, IntegrationError> {
    let rows = output_steps(t0, t_end, dt).map_or(0, |s| s + 1);
    let mut traj = Trajectory {
        t: Vec::with_capacity(rows),
        q: Vec::with_capacity(rows),
        q_dot: Vec::with_capacity(rows),
    };
    let mut collect = |t: f64, q: &[f64], q_dot: &[f64]| {
        traj.t.push(t);
        traj.q.push(q.to_vec());
        traj.q_dot.push(q_dot.to_vec());
        ControlFlow::Continue(())
    };
    simulate_streaming(
        lagrangian,
        eom,
        method,
        t0,
        q0,
        q_dot0,
        t_end,
        dt,
        1,
        &mut collect,
        observer,
    )?;
    Ok(traj)
}

/// What [`simulate_streaming`] hands each row to: `(t, q, q̇)`; [`ControlFlow::Break`] stops
/// the run.
pub type RowSink<'a> = dyn FnMut(f64, &[f64], &[f64]) -> ControlFlow<()> + 'a;

/// Number of rows [`simulate_streaming`] passes to its sink for these settings: the initial
/// state, every `every`-th output time and `t_end` (`None` for settings it rejects).
pub fn output_rows(t0: f64, t_end: f64, dt: f64, every: usize) -> Option<u64> {
    if every == 0 || !(dt.is_finite() && dt > 0.0) {
        return None;
    }
    let steps = output_steps(t0, t_end, dt).ok()? as u64;
    let every = every as u64;
    Some(1 + steps / every + u64::from(!steps.is_multiple_of(every)))
}

/// The driver behind [`simulate`] and [`simulate_with`], streaming: each output row goes to
/// `sink` as soon as it is computed, so memory stays O(n) however long the run.
///
/// The output times are those of [`simulate`] (every `dt`, and `t_end`); with `every = K` only
/// the initial state, every K-th output time and `t_end` reach the sink (for the fixed-step
/// methods one output interval is one step, so this is one row per K steps). The sink returns
/// [`ControlFlow::Break`] to stop the run early (for example after a write error that it keeps
/// for its caller); the returned [`RunStats`] then say `stopped`. `observer` is called at every
/// output time, written or not.
#[allow(clippy::too_many_arguments)]
pub fn simulate_streaming<'a, L: Lagrangian + ?Sized>(
    lagrangian: &'a L,
    eom: Box<dyn crate::mechanics::Accelerations + 'a>,
    method: &Method,
    t0: f64,
    q0: &[f64],
    q_dot0: &[f64],
    t_end: f64,
    dt: f64,
    every: usize,
    sink: &mut RowSink<'_>,
    observer: &mut dyn Observer,
) -> Result<RunStats, IntegrationError> {
    if eom.dof() != lagrangian.dof() {
        return Err(IntegrationError::Mechanics {
            t: t0,
            source: crate::mechanics::MechanicsError::DimensionMismatch {
                expected: lagrangian.dof(),
                got: eom.dof(),
            },
        });
    }
    validate(lagrangian.dof(), method, t0, q0, q_dot0, t_end, dt)?;
    if every == 0 {
        return Err(IntegrationError::InvalidSettings {
            message: "the row interval `every` must be at least 1".to_string(),
        });
    }
    let steps = output_steps(t0, t_end, dt)?;
    let time = |k: usize| {
        if k == steps {
            t_end
        } else {
            t0 + k as f64 * dt
        }
    };

    let mut stats = RunStats::default();
    let mut emit = |stats: &mut RunStats, t: f64, q: &[f64], q_dot: &[f64]| {
        stats.rows += 1;
        if sink(t, q, q_dot).is_break() {
            stats.stopped = true;
        }
    };
    emit(&mut stats, t0, q0, q_dot0);
    if steps == 0 || stats.stopped {
        observer.on_output(t0, t0, t_end);
        return Ok(stats);
    }

    let mut stepper: Box<dyn Stepper + '_> = match *method {
        Method::Euler => Box::new(explicit_rk::FixedStepRk::new(
            eom,
            &euler::EULER,
            t0,
            q0,
            q_dot0,
        )?),
        Method::Rk4 => Box::new(explicit_rk::FixedStepRk::new(
            eom,
            &rk4::RK4,
            t0,
            q0,
            q_dot0,
        )?),
        Method::DormandPrince54 { rtol, atol } => {
            Box::new(dopri5::Dopri5::new(eom, t0, q0, q_dot0, t_end, rtol, atol)?)
        }
        Method::Variational => Box::new(variational::Variational::new(lagrangian, t0, q0, q_dot0)?),
    };
    observer.on_output(t0, t0, t_end);

    let n = q0.len();
    let (mut q, mut q_dot) = (vec![0.0; n], vec![0.0; n]);
    for k in 1..=steps {
        let t = time(k);
        stepper.advance_to(t, &mut q, &mut q_dot)?;
        if k % every == 0 || k == steps {
            emit(&mut stats, t, &q, &q_dot);
        }
        observer.on_output(t, t0, t_end);
        if stats.stopped {
            break;
        }
    }
    stats.counts = stepper.counts();
    stats.evaluator = Some(stepper.evaluator());
    Ok(stats)
}

/// Number of output intervals: `t_k = t0 + k·dt` for `k < steps`, `t_steps = t_end`.
fn output_steps(t0: f64, t_end: f64, dt: f64) -> Result<usize, IntegrationError> {
    if t_end == t0 {
        return Ok(0);
    }
    let ratio = (t_end - t0) / dt;
    let nearest = ratio.round();
    let steps = if (ratio - nearest).abs() <= 1e-9 * nearest.max(1.0) {
        nearest
    } else {
        ratio.ceil()
    }
    .max(1.0);
    if steps.is_nan() || steps >= MAX_OUTPUTS as f64 {
        return Err(IntegrationError::InvalidSettings {
            message: format!(
                "(t_end − t0)/dt = {ratio:.3e} output steps is more than the limit {MAX_OUTPUTS}; increase dt or shorten the run"
            ),
        });
    }
    Ok(steps as usize)
}

fn validate(
    dof: usize,
    method: &Method,
    t0: f64,
    q0: &[f64],
    q_dot0: &[f64],
    t_end: f64,
    dt: f64,
) -> Result<(), IntegrationError> {
    let invalid = |message: String| Err(IntegrationError::InvalidSettings { message });
    if !(dt.is_finite() && dt > 0.0) {
        return invalid(format!(
            "the time step dt must be positive and finite (got {dt}); pass a positive dt"
        ));
    }
    if !t0.is_finite() || !t_end.is_finite() {
        return invalid(format!(
            "the start and end times must be finite (got t0 = {t0}, t_end = {t_end})"
        ));
    }
    if t_end < t0 {
        return invalid(format!(
            "the end time t_end = {t_end} is before the start time t0 = {t0}; integration runs forward, give a later end time"
        ));
    }
    for (what, v) in [("q0", q0), ("q_dot0", q_dot0)] {
        if v.len() != dof {
            return invalid(format!(
                "the initial {what} has {} entries but the system has {dof} degrees of freedom",
                v.len()
            ));
        }
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            return invalid(format!(
                "the initial state is not finite ({what}[{i}] = {}); give finite initial conditions",
                v[i]
            ));
        }
    }
    if let Method::DormandPrince54 { rtol, atol } = *method {
        if !(rtol.is_finite() && rtol >= MIN_RTOL) {
            return invalid(format!(
                "dopri5 needs a finite relative tolerance rtol >= {MIN_RTOL:.1e} (got {rtol})"
            ));
        }
        if !(atol.is_finite() && atol > 0.0) {
            return invalid(format!(
                "dopri5 needs a positive finite absolute tolerance atol (got {atol})"
            ));
        }
    }
    Ok(())
}

/// Maps a mechanics failure in the step starting at `t` to an integration error: non-finite
/// values become [`IntegrationError::NonFinite`], everything else [`IntegrationError::Mechanics`].
pub(crate) fn mechanics_error(t: f64, source: MechanicsError) -> IntegrationError {
    match source {
        MechanicsError::NonFinite { .. } => IntegrationError::NonFinite { t },
        source => IntegrationError::Mechanics { t, source },
    }
}

/// Whether every entry is finite.
/// Fewest state values `(q, q̇)` for which the explicit Runge–Kutta steps run their vector
/// arithmetic on the evaluator's threads ([`Accelerations::threads`](crate::mechanics::Accelerations::threads)):
/// below, handing out the blocks costs more than the passes over memory it shares.
pub const PARALLEL_STATE_LEN: usize = 1 << 17;

pub(crate) fn all_finite(x: &[f64]) -> bool {
    x.iter().all(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_grid() {
        assert_eq!(output_steps(0.0, 1.0, 0.1).unwrap(), 10); // 1/0.1 = 10 up to rounding
        assert_eq!(output_steps(0.0, 1.05, 0.1).unwrap(), 11); // last interval 0.05
        assert_eq!(output_steps(0.0, 0.05, 0.1).unwrap(), 1);
        assert_eq!(output_steps(2.0, 2.0, 0.1).unwrap(), 0);
        assert!(output_steps(0.0, 1.0, 1e-12).is_err());
    }

    #[test]
    fn names_round_trip() {
        for name in Method::NAMES {
            let m = Method::from_name(name, 1e-6, 1e-9).unwrap();
            assert_eq!(m.name(), name);
        }
        assert_eq!(Method::from_name("RK4", 0.0, 0.0), Some(Method::Rk4));
        assert_eq!(Method::from_name("leapfrog", 0.0, 0.0), None);
        let orders: Vec<u32> = Method::NAMES
            .iter()
            .map(|n| Method::from_name(n, 1e-6, 1e-9).unwrap().order())
            .collect();
        assert_eq!(orders, [1, 4, 5, 2]);
    }
}
