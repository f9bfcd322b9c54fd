//! `System.simulate` and its result, `lagrange.Trajectory`.

use crate::errors::{self, value_error};
use lagrange::integrators::{Method, NoObserver, output_rows, simulate_streaming};
use lagrange::mechanics::{EquationsOfMotion, Evaluator};

use lagrange::systems::System as _;
use lagrange_learn::eom_choice::{EomChoice, RunPlan, choose_evaluator};
use lagrange_learn::limits::MAX_ROWS;
use lagrange_learn::system::AnySystem;
use numpy::IntoPyArray;
use numpy::PyArray1;
use numpy::ndarray::Array2;
use pyo3::prelude::*;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

/// Values a trajectory may hold at most (4 GiB of float64, the CLI's memory limit): a run is
/// refused up front with what to change, instead of exhausting memory (with up to
/// [`MAX_ROWS`] rows, the CLI's row limit, a large system can still ask for too much).
const MAX_VALUES: u64 = 1 << 29;

/// The checked settings of a run.
pub struct Settings {
    method: Method,
    t_end: f64,
    dt: f64,
    choice: EomChoice,
    evaluator: String,
}

impl Settings {
    pub fn check(
        integrator: &str,
        t_end: f64,
        dt: f64,
        rtol: f64,
        atol: f64,
        evaluator: &str,
    ) -> PyResult<Self> {
        if !(t_end.is_finite() && t_end >= 0.0) {
            return Err(value_error(format!(
                "t_end must be a finite time ≥ 0 (the run starts at t = 0), got {t_end}"
            )));
        }
        if !(dt.is_finite() && dt > 0.0) {
            return Err(value_error(format!(
                "dt must be a positive number, got {dt}"
            )));
        }
        if t_end / dt > MAX_ROWS {
            return Err(value_error(format!(
                "t_end / dt = {:.3e} output rows is too many (at most {MAX_ROWS:.0e}); use a larger dt",
                t_end / dt
            )));
        }
        for (name, value) in [("rtol", rtol), ("atol", atol)] {
            if !(value.is_finite() && value > 0.0) {
                return Err(value_error(format!(
                    "{name} must be a positive number, got {value:e}"
                )));
            }
        }
        let method = Method::from_name(integrator.trim(), rtol, atol).ok_or_else(|| {
            value_error(format!(
                "unknown integrator '{integrator}' (expected {})",
                Method::NAMES.join(", ")
            ))
        })?;
        let choice = EomChoice::parse(evaluator).ok_or_else(|| {
            value_error(format!(
                "unknown evaluator '{evaluator}' (expected auto, autodiff or compiled)"
            ))
        })?;
        Ok(Self {
            method,
            t_end,
            dt,
            choice,
            evaluator: evaluator.to_string(),
        })
    }
}

/// A trajectory: the states at the output times, as NumPy arrays.
#[pyclass(module = "lagrange", name = "Trajectory", frozen)]
pub struct Trajectory {
    /// Output times, shape `(T,)`.
    #[pyo3(get)]
    t: Py<PyAny>,
    /// Positions, shape `(T, n)`.
    #[pyo3(get)]
    q: Py<PyAny>,
    /// Velocities, shape `(T, n)`.
    #[pyo3(get)]
    q_dot: Py<PyAny>,
    /// Energy (Jacobi integral) at each row, shape `(T,)`; NaN for a model without a
    /// Lagrangian.
    #[pyo3(get)]
    energy: Py<PyAny>,
    /// The coordinates (columns of `q` and `q_dot`).
    #[pyo3(get)]
    coordinates: Vec<String>,
    /// The integrator that ran.
    #[pyo3(get)]
    integrator: String,
    /// Which code evaluated q̈ (`autodiff`, `compiled`, `neural`) and why.
    #[pyo3(get)]
    evaluator: String,
    rows: usize,
}

#[pymethods]
impl Trajectory {
    fn __len__(&self) -> usize {
        self.rows
    }

    fn __repr__(&self) -> String {
        format!(
            "Trajectory({} rows, coordinates=[{}], integrator={})",
            self.rows,
            self.coordinates.join(", "),
            self.integrator
        )
    }
}

/// Rows of a run, as they come.
struct Rows {
    t: Vec<f64>,
    q: Vec<f64>,
    q_dot: Vec<f64>,
    energy: Vec<f64>,
}

/// Why the sink stopped a run.
enum Stop {
    BlowUp(f64),
    Energy(f64, lagrange::MechanicsError),
    /// Ctrl-C (or another signal handler that raised) while the run went on without the GIL.
    Interrupted(PyErr),
}

/// How often a run looks for Ctrl-C (it takes the GIL back for that moment).
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

pub fn run(
    py: Python<'_>,
    system: &AnySystem,
    settings: &Settings,
    q0: &[f64],
    q_dot0: &[f64],
) -> PyResult<Trajectory> {
    let n = q0.len();
    let rows = output_rows(0.0, settings.t_end, settings.dt, 1)
        .ok_or_else(|| value_error("t_end and dt give no output rows"))?;
    if rows.saturating_mul(2 * n as u64 + 2) > MAX_VALUES {
        return Err(value_error(format!(
            "t_end / dt = {rows} rows of {n} coordinates would need more than 4 GiB: use a larger dt"
        )));
    }
    // A degenerate Lagrangian at the start is bad input, not a failed run.
    if system.has_lagrangian() {
        let mut eom = EquationsOfMotion::new(system);
        let mut out = vec![0.0; n];
        eom.accelerations_into(0.0, q0, q_dot0, &mut out)
            .map_err(|e| errors::mechanics(&e, "at the initial state: "))?;
    }
    let chosen = choose_evaluator(
        system,
        settings.choice,
        &RunPlan {
            method: settings.method,
            t_end: settings.t_end,
            dt: settings.dt,
            threads: rayon::current_num_threads(),
        },
        q0,
        q_dot0,
    )
    .map_err(|e| value_error(format!("evaluator=\"{}\": {e}", settings.evaluator)))?;
    let info = chosen.eom.info();
    let name = match info.evaluator {
        Evaluator::Autodiff => "autodiff",
        Evaluator::Compiled => "compiled",
        Evaluator::Network => "network",
    };
    let evaluator = if chosen.note.is_empty() {
        name.to_string()
    } else {
        format!("{name} ({})", chosen.note)
    };
    let capacity = rows as usize;
    let mut collected = Rows {
        t: Vec::with_capacity(capacity),
        q: Vec::with_capacity(capacity * n),
        q_dot: Vec::with_capacity(capacity * n),
        energy: Vec::with_capacity(capacity),
    };
    let lagrangian = system.has_lagrangian();
    let mut stop: Option<Stop> = None;
    let mut checked = Instant::now();
    let result = py.detach(|| {
        let mut sink = |t: f64, q: &[f64], q_dot: &[f64]| -> ControlFlow<()> {
            if checked.elapsed() > SIGNAL_CHECK {
                checked = Instant::now();
                if let Err(e) = Python::attach(|py| py.check_signals()) {
                    stop = Some(Stop::Interrupted(e));
                    return ControlFlow::Break(());
                }
            }
            if !q.iter().chain(q_dot).all(|v| v.is_finite()) {
                stop = Some(Stop::BlowUp(t));
                return ControlFlow::Break(());
            }
            let e = if lagrangian {
                match lagrange::jacobi_integral(system, t, q, q_dot) {
                    Ok(e) if e.is_finite() => e,
                    Ok(_) => {
                        stop = Some(Stop::BlowUp(t));
                        return ControlFlow::Break(());
                    }
                    Err(error) => {
                        stop = Some(Stop::Energy(t, error));
                        return ControlFlow::Break(());
                    }
                }
            } else {
                f64::NAN
            };
            collected.t.push(t);
            collected.q.extend_from_slice(q);
            collected.q_dot.extend_from_slice(q_dot);
            collected.energy.push(e);
            ControlFlow::Continue(())
        };
        simulate_streaming(
            system,
            chosen.eom,
            &settings.method,
            0.0,
            q0,
            q_dot0,
            settings.t_end,
            settings.dt,
            1,
            &mut sink,
            &mut NoObserver,
        )
    });
    match stop {
        Some(Stop::Interrupted(e)) => return Err(e),
        Some(Stop::BlowUp(t)) => {
            return Err(errors::integration(
                py,
                format!(
                    "the solution blew up: non-finite state or energy at t = {t} (use a smaller dt or the dopri5 integrator)"
                ),
                t,
            ));
        }
        Some(Stop::Energy(t, error)) => {
            return Err(errors::integration(
                py,
                format!("the energy cannot be evaluated at t = {t}: {error}"),
                t,
            ));
        }
        None => {}
    }
    result.map_err(|e| errors::run(py, &e))?;
    let count = collected.t.len();
    let matrix = |values: Vec<f64>| -> Py<PyAny> {
        Array2::from_shape_vec((count, n), values)
            .expect("count·n values")
            .into_pyarray(py)
            .into_any()
            .unbind()
    };
    Ok(Trajectory {
        t: PyArray1::from_vec(py, collected.t).into_any().unbind(),
        q: matrix(collected.q),
        q_dot: matrix(collected.q_dot),
        energy: PyArray1::from_vec(py, collected.energy).into_any().unbind(),
        coordinates: system.coordinates(),
        integrator: settings.method.name().to_string(),
        evaluator,
        rows: count,
    })
}
