//! `lagrange.System`: a system from a built-in, TOML (a file or its text), a Lagrangian written
//! as text, or a trained model file, with its per-state quantities as NumPy arrays.

use crate::arrays::{self, States};
use crate::batch;
use crate::errors::{self, value_error};
use crate::simulate;
use lagrange::MechanicsError;
use lagrange::field::is_field_file;
use lagrange::mechanics::{Accelerations, EquationsOfMotion};
use lagrange::systems::System as _;
use lagrange_jit::{CompiledEquations, ParametricEquations};
use lagrange_learn::eom_choice::{self, AUTO_COMPILE_ABOVE, EomChoice, EomChoiceError};
use lagrange_learn::neural::{ModelFile, NeuralAccelerations};
use lagrange_learn::system::{AnySystem, NeuralSystem, from_toml_str};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use rayon::prelude::*;
use std::sync::{Mutex, OnceLock};

/// Where a system came from: enough to rebuild it in another process (pickling).
#[derive(Clone, PartialEq)]
enum Source {
    Builtin(String),
    Toml(String),
    Model(String),
}

impl Source {
    fn kind(&self) -> &'static str {
        match self {
            Source::Builtin(_) => "builtin",
            Source::Toml(_) => "toml",
            Source::Model(_) => "model",
        }
    }

    fn text(&self) -> &str {
        match self {
            Source::Builtin(s) | Source::Toml(s) | Source::Model(s) => s,
        }
    }

    /// The system with its default parameters.
    fn build(&self) -> PyResult<AnySystem> {
        match self {
            Source::Builtin(name) => builtin_system(name),
            Source::Toml(text) => from_toml_str(text).map_err(value_error),
            Source::Model(json) => {
                let (file, model) = ModelFile::from_json(json, "<model>").map_err(value_error)?;
                Ok(AnySystem::Neural(Box::new(NeuralSystem { model, file })))
            }
        }
    }
}

fn builtin_system(name: &str) -> PyResult<AnySystem> {
    lagrange::systems::by_name(name)
        .map(AnySystem::Builtin)
        .ok_or_else(|| {
            value_error(format!(
                "unknown built-in system '{name}' (have: {})",
                lagrange::systems::names().join(", ")
            ))
        })
}

/// Reads a TOML system file, keeping its text (for pickling).
fn toml_file(path: &str) -> PyResult<(AnySystem, Source)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| value_error(format!("cannot read system file '{path}': {e}")))?;
    // parsed from the path, so that errors name the file
    let system = if is_field_file(&text) {
        AnySystem::Field(Box::new(
            lagrange::field::FieldSystem::from_path(path.as_ref()).map_err(value_error)?,
        ))
    } else {
        AnySystem::Text(Box::new(
            lagrange::expr::TextSystem::from_path(path.as_ref()).map_err(value_error)?,
        ))
    };
    Ok((system, Source::Toml(text)))
}

/// `os.fspath(value)` for str and path-like objects.
fn fspath(value: &Bound<'_, PyAny>) -> PyResult<String> {
    let os = value.py().import("os")?;
    os.call_method1("fspath", (value,))?
        .extract::<String>()
        .map_err(|_| value_error("expected a path (str or os.PathLike)"))
}

/// A mechanical system: its Lagrangian, its parameters, and everything derived from L
/// (equations of motion, energy, momenta, mass matrix, trajectories) by automatic
/// differentiation.
///
/// Construct one with `System.builtin`, `System.from_toml`, `System.from_lagrangian` or
/// `System.load`. Systems are immutable: `with_parameters` returns a new one. They pickle (their
/// text and parameters), so Dask, Ray or multiprocessing can ship them to other processes.
#[pyclass(module = "lagrange", name = "System", frozen)]
pub struct System {
    pub(crate) inner: AnySystem,
    source: Source,
    /// The compiled equations of motion, made on first need and kept (`Err`: cannot compile).
    compiled: Mutex<Option<Result<CompiledEquations, String>>>,
    /// Seconds one dual-number evaluation takes (`evaluator="auto"` weighs it).
    autodiff_seconds: OnceLock<f64>,
    /// The batch code of a small system (see [`batch`]), made with the compiled equations
    /// (`None` inside: it does not apply).
    batch: Mutex<Option<Option<ParametricEquations>>>,
}

impl System {
    fn new(inner: AnySystem, source: Source) -> Self {
        Self {
            inner,
            source,
            compiled: Mutex::new(None),
            autodiff_seconds: OnceLock::new(),
            batch: Mutex::new(None),
        }
    }

    fn with(&self, params: &[(String, f64)]) -> PyResult<Self> {
        let mut inner = self.inner.clone();
        for (name, value) in params {
            if !value.is_finite() {
                return Err(value_error(format!(
                    "parameter {name} must be finite, got {value}"
                )));
            }
            inner.set_parameter(name, *value).map_err(value_error)?;
        }
        Ok(Self::new(inner, self.source.clone()))
    }

    pub(crate) fn dof(&self) -> usize {
        self.inner.coordinates().len()
    }

    /// The compiled equations (compiled now if they have not been).
    fn compiled(&self) -> Result<CompiledEquations, String> {
        let mut slot = self.compiled.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert_with(|| {
            // batches run in parallel across states, so the term kernels stay on one thread
            eom_choice::compile(&self.inner, 1)
                .map(|(eom, _, _)| eom)
                .map_err(|e| match e {
                    EomChoiceError::CannotCompile { reason } => reason,
                    other => other.to_string(),
                })
        })
        .clone()
    }

    /// The batch code (compiled now if it has not been), where it applies.
    fn batch_code(&self) -> Option<ParametricEquations> {
        let mut slot = self.batch.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert_with(|| batch::compile(&self.inner))
            .clone()
    }

    /// q̈ of a batch in the batch code, blocks in parallel with the GIL released.
    fn batch_accelerations(
        &self,
        py: Python<'_>,
        code: &ParametricEquations,
        states: &States,
    ) -> PyResult<Vec<f64>> {
        let n = self.dof();
        let count = states.len();
        let mut out = vec![0.0; count * n];
        let system = &self.inner;
        let run = |out: &mut [f64]| -> Result<(), (usize, MechanicsError)> {
            let failures: Vec<(usize, MechanicsError)> = out
                .par_chunks_mut(batch::BLOCK * n)
                .enumerate()
                .filter_map(|(c, block)| {
                    let first = c * batch::BLOCK;
                    let mut code = code.clone();
                    batch::accelerations(
                        &mut code,
                        system,
                        block.len() / n,
                        |i| states.state(first + i),
                        block,
                    )
                    .err()
                    .map(|(i, e)| (first + i, e))
                })
                .collect();
            failures
                .into_iter()
                .min_by_key(|(i, _)| *i)
                .map_or(Ok(()), Err)
        };
        let result = if count <= batch::BLOCK {
            run(&mut out)
        } else {
            py.detach(|| run(&mut out))
        };
        result.map_err(|(i, e)| errors::mechanics(&e, &format!("state {i}: ")))?;
        Ok(out)
    }

    /// Whether compiled code (the equations, or a small system's batch code) is cached (`Some(true)`),
    /// failed to compile (`Some(false)`), or has not been tried (`None`).
    fn cached_code(&self) -> Option<bool> {
        let batch = self.batch.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(Some(_)) = batch.as_ref() {
            return Some(true);
        }
        drop(batch);
        let slot = self.compiled.lock().unwrap_or_else(|e| e.into_inner());
        slot.as_ref().map(|r| r.is_ok())
    }

    /// Which q̈ evaluator `evaluator` asks for, for `count` states starting with `(q, q_dot)`,
    /// decided before anything is compiled (so that a batch of a small system compiles only
    /// its batch code, not the per-state equations as well).
    fn plan(&self, evaluator: &str, count: usize, q: &[f64], q_dot: &[f64]) -> PyResult<Plan> {
        let choice = EomChoice::parse(evaluator).ok_or_else(|| {
            value_error(format!(
                "unknown evaluator '{evaluator}' (expected auto, autodiff or compiled)"
            ))
        })?;
        let refuse = |e: EomChoiceError| value_error(format!("evaluator=\"{evaluator}\": {e}"));
        if self.inner.neural().is_some() {
            return match choice {
                EomChoice::Compiled => Err(refuse(EomChoiceError::CompiledNeural)),
                EomChoice::Autodiff if !self.inner.has_lagrangian() => {
                    Err(refuse(EomChoiceError::AutodiffBaseline))
                }
                EomChoice::Autodiff => Ok(Plan::Dual),
                EomChoice::Auto => Ok(Plan::Neural),
            };
        }
        Ok(match choice {
            EomChoice::Autodiff => Plan::Dual,
            EomChoice::Compiled => Plan::Compiled { required: true },
            EomChoice::Auto => match self.cached_code() {
                Some(true) => Plan::Compiled { required: false },
                Some(false) => Plan::Dual,
                None => {
                    let each = *self
                        .autodiff_seconds
                        .get_or_init(|| eom_choice::autodiff_seconds(&self.inner, q, q_dot));
                    if each * count as f64 > AUTO_COMPILE_ABOVE.as_secs_f64() {
                        Plan::Compiled { required: false }
                    } else {
                        Plan::Dual
                    }
                }
            },
        })
    }

    /// The per-state evaluator of a plan (compiling the equations if it asks for them; a
    /// required compilation that fails is an error naming the evaluator, an optional one falls
    /// back to dual numbers).
    fn kind(&self, plan: Plan, evaluator: &str) -> PyResult<Kind> {
        Ok(match plan {
            Plan::Dual => Kind::Dual,
            Plan::Neural => Kind::Neural,
            Plan::Compiled { required } => match self.compiled() {
                Ok(code) => Kind::Compiled(code),
                Err(_) if !required => Kind::Dual,
                Err(reason) => {
                    return Err(value_error(format!(
                        "evaluator=\"{evaluator}\": {}",
                        EomChoiceError::CannotCompile { reason }
                    )));
                }
            },
        })
    }

    /// A quantity of L at every state, by dual numbers: `width` values per state from `value`;
    /// the values and the batch size (`None` for one state).
    #[allow(clippy::too_many_arguments)]
    fn quantity(
        &self,
        py: Python<'_>,
        q: &Bound<'_, PyAny>,
        q_dot: &Bound<'_, PyAny>,
        t: Option<&Bound<'_, PyAny>>,
        what: &str,
        width: usize,
        value: impl Fn(&AnySystem, f64, &[f64], &[f64], &mut [f64]) -> Result<(), MechanicsError> + Sync,
    ) -> PyResult<(Vec<f64>, Option<usize>)> {
        self.needs_lagrangian(what)?;
        let states = read_states(py, q, q_dot, t, self.dof())?;
        let system = &self.inner;
        let out = self.map_states(
            py,
            &states,
            width,
            || (),
            |_, q, q_dot, t, out| value(system, t, q, q_dot, out),
        )?;
        Ok((out, states.batch))
    }

    fn needs_lagrangian(&self, what: &str) -> PyResult<()> {
        if self.inner.has_lagrangian() {
            Ok(())
        } else {
            Err(value_error(format!(
                "{what}: a baseline model has no Lagrangian"
            )))
        }
    }

    /// Runs `each(state, out)` on every state, `width` outputs per state, in parallel across
    /// states (with the GIL released) for batches; the first failing state's error, by index.
    fn map_states<E, M, F>(
        &self,
        py: Python<'_>,
        states: &States,
        width: usize,
        make: M,
        each: F,
    ) -> PyResult<Vec<f64>>
    where
        M: Fn() -> E + Sync,
        F: Fn(&mut E, &[f64], &[f64], f64, &mut [f64]) -> Result<(), MechanicsError> + Sync,
    {
        let count = states.len();
        let mut out = vec![0.0; count * width];
        let Some(batch) = states.batch else {
            let (q, q_dot, t) = states.state(0);
            each(&mut make(), q, q_dot, t, &mut out).map_err(|e| errors::mechanics(&e, ""))?;
            return Ok(out);
        };
        // chunks of ≥ 64 states, about 8 per thread so that threads stay busy
        let chunk = batch.div_ceil(8 * rayon::current_num_threads()).max(64);
        let run = |out: &mut [f64]| -> Result<(), (usize, MechanicsError)> {
            let failures: Vec<(usize, MechanicsError)> = out
                .par_chunks_mut(chunk * width.max(1))
                .enumerate()
                .filter_map(|(c, block)| {
                    let mut evaluator = make();
                    let first = c * chunk;
                    for k in 0..block.len() / width.max(1) {
                        let (q, q_dot, t) = states.state(first + k);
                        let slot = &mut block[k * width..(k + 1) * width];
                        if let Err(e) = each(&mut evaluator, q, q_dot, t, slot) {
                            return Some((first + k, e));
                        }
                    }
                    None
                })
                .collect();
            failures
                .into_iter()
                .min_by_key(|(i, _)| *i)
                .map_or(Ok(()), Err)
        };
        let result = if batch <= chunk {
            run(&mut out)
        } else {
            py.detach(|| run(&mut out))
        };
        result.map_err(|(i, e)| errors::mechanics(&e, &format!("state {i}: ")))?;
        Ok(out)
    }
}

/// Which code should evaluate q̈, before anything is compiled.
#[derive(Debug, Clone, Copy)]
enum Plan {
    Dual,
    /// Compiled code; `required`: `evaluator="compiled"` (a failure is an error).
    Compiled {
        required: bool,
    },
    Neural,
}

/// Which code evaluates q̈.
enum Kind {
    Dual,
    Compiled(CompiledEquations),
    Neural,
}

#[pymethods]
impl System {
    /// A built-in system by name (see `lagrange systems`), with parameters overridden by
    /// keyword, e.g. `System.builtin("double-pendulum", m2=2.0)`.
    #[staticmethod]
    #[pyo3(signature = (name, **params))]
    fn builtin(name: &str, params: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let system = Self::new(builtin_system(name)?, Source::Builtin(name.to_string()));
        system.with(&keyword_params(params)?)
    }

    /// A system from a TOML system file (a path, str or os.PathLike) or from TOML text
    /// (a str containing `=` or a newline).
    #[staticmethod]
    fn from_toml(source: &Bound<'_, PyAny>) -> PyResult<Self> {
        if let Ok(text) = source.extract::<String>()
            && (text.contains('=') || text.contains('\n'))
        {
            let system = from_toml_str(&text).map_err(value_error)?;
            return Ok(Self::new(system, Source::Toml(text)));
        }
        let (system, source) = toml_file(&fspath(source)?)?;
        Ok(Self::new(system, source))
    }

    /// A system from its Lagrangian written as text, e.g.
    /// `System.from_lagrangian(["x"], "0.5*m*x_dot^2 - 0.5*k*x^2", parameters={"m": 1, "k": 4})`.
    /// `dissipation` is an optional Rayleigh function F(q, q̇) (generalized force −∂F/∂q̇).
    #[staticmethod]
    #[pyo3(signature = (coordinates, lagrangian, dissipation=None, parameters=None, name=None))]
    fn from_lagrangian(
        coordinates: Vec<String>,
        lagrangian: String,
        dissipation: Option<String>,
        parameters: Option<&Bound<'_, PyDict>>,
        name: Option<String>,
    ) -> PyResult<Self> {
        let mut doc = toml::Table::new();
        if let Some(name) = name {
            doc.insert("name".into(), name.into());
        }
        doc.insert("coordinates".into(), coordinates.into());
        doc.insert("lagrangian".into(), lagrangian.into());
        if let Some(f) = dissipation {
            doc.insert("dissipation".into(), f.into());
        }
        let params = keyword_params(parameters)?;
        if !params.is_empty() {
            let mut table = toml::Table::new();
            for (k, v) in params {
                table.insert(k, v.into());
            }
            doc.insert("parameters".into(), table.into());
        }
        let text = toml::to_string(&doc).map_err(value_error)?;
        let system = from_toml_str(&text).map_err(value_error)?;
        Ok(Self::new(system, Source::Toml(text)))
    }

    /// Any SYSTEM the CLI accepts: a TOML system file (particles or a lattice field), a trained
    /// model file (`.json` from `lagrange train`), or a built-in name.
    #[staticmethod]
    fn load(path: &Bound<'_, PyAny>) -> PyResult<Self> {
        let spec = fspath(path)?;
        let system = lagrange_learn::system::load(&spec).map_err(value_error)?;
        let source = match &system {
            AnySystem::Builtin(_) => Source::Builtin(spec),
            AnySystem::Text(_) | AnySystem::Field(_) => {
                Source::Toml(std::fs::read_to_string(&spec).map_err(value_error)?)
            }
            AnySystem::Neural(_) => {
                Source::Model(std::fs::read_to_string(&spec).map_err(value_error)?)
            }
        };
        Ok(Self::new(system, source))
    }

    /// The generalized coordinates, in order.
    #[getter]
    fn coordinates(&self) -> Vec<String> {
        self.inner.coordinates()
    }

    /// The parameters and their values.
    #[getter]
    fn parameters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (k, v) in self.inner.parameters() {
            dict.set_item(k, v)?;
        }
        Ok(dict)
    }

    /// The system's name (its `name`, or the built-in's title).
    #[getter]
    fn name(&self) -> String {
        self.inner.title()
    }

    /// The Lagrangian, as text.
    #[getter]
    fn lagrangian(&self) -> String {
        self.inner.lagrangian_text()
    }

    /// The default initial state `(q, q_dot)` (the file's `[initial]`, or the built-in's).
    #[getter]
    fn initial_state<'py>(&self, py: Python<'py>) -> (Bound<'py, PyAny>, Bound<'py, PyAny>) {
        let (q, q_dot) = self.inner.initial_state();
        let n = q.len();
        (
            arrays::vectors(py, q, None, n),
            arrays::vectors(py, q_dot, None, n),
        )
    }

    /// A new system with some parameters changed, e.g. `S.with_parameters(k=2.0)`.
    #[pyo3(signature = (**params))]
    fn with_parameters(&self, params: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        self.with(&keyword_params(params)?)
    }

    /// The accelerations q̈ at `(q, q_dot, t)`: shape `(n,)` for one state, `(B, n)` for a batch
    /// `q`, `q_dot` of shape `(B, n)` (`t` a number or shape `(B,)`). `evaluator` is `"auto"`
    /// (compiled code when the batch is large enough to repay compiling, else dual numbers),
    /// `"autodiff"` or `"compiled"`.
    #[pyo3(signature = (q, q_dot, t=None, evaluator="auto"))]
    fn eom<'py>(
        &self,
        py: Python<'py>,
        q: &Bound<'py, PyAny>,
        q_dot: &Bound<'py, PyAny>,
        t: Option<&Bound<'py, PyAny>>,
        evaluator: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::guarded(|| {
            let n = self.dof();
            let states = read_states(py, q, q_dot, t, n)?;
            if states.len() == 0 {
                return Ok(arrays::vectors(py, Vec::new(), states.batch, n));
            }
            let (q0, q_dot0, _) = states.state(0);
            let plan = self.plan(evaluator, states.len(), q0, q_dot0)?;
            let system = &self.inner;
            if let Plan::Compiled { .. } = plan
                && states.batch.is_some()
                && let Some(code) = self.batch_code()
            {
                let out = self.batch_accelerations(py, &code, &states)?;
                return Ok(arrays::vectors(py, out, states.batch, n));
            }
            let kind = self.kind(plan, evaluator)?;
            let out = match &kind {
                Kind::Dual => self.map_states(
                    py,
                    &states,
                    n,
                    || EquationsOfMotion::new(system),
                    |e, q, q_dot, t, out| e.accelerations_into(t, q, q_dot, out),
                )?,
                Kind::Compiled(code) => self.map_states(
                    py,
                    &states,
                    n,
                    || code.clone(),
                    |e, q, q_dot, t, out| e.accelerations_into(t, q, q_dot, out),
                )?,
                Kind::Neural => {
                    let model = &system.neural().expect("a neural system").model;
                    self.map_states(
                        py,
                        &states,
                        n,
                        || NeuralAccelerations::new(model),
                        |e, q, q_dot, t, out| e.accelerations_into(t, q, q_dot, out),
                    )?
                }
            };
            Ok(arrays::vectors(py, out, states.batch, n))
        })
    }

    /// The energy (Jacobi integral h = Σ q̇ ∂L/∂q̇ − L) at `(q, q_dot, t)`: a float for one state,
    /// shape `(B,)` for a batch.
    #[pyo3(signature = (q, q_dot, t=None))]
    fn energy<'py>(
        &self,
        py: Python<'py>,
        q: &Bound<'py, PyAny>,
        q_dot: &Bound<'py, PyAny>,
        t: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::guarded(|| {
            let (out, batch) =
                self.quantity(py, q, q_dot, t, "energy", 1, |s, t, q, q_dot, out| {
                    out[0] = lagrange::jacobi_integral(s, t, q, q_dot)?;
                    Ok(())
                })?;
            arrays::scalars(py, out, batch)
        })
    }

    /// The canonical momenta p = ∂L/∂q̇: shape `(n,)` or `(B, n)`.
    #[pyo3(signature = (q, q_dot, t=None))]
    fn momenta<'py>(
        &self,
        py: Python<'py>,
        q: &Bound<'py, PyAny>,
        q_dot: &Bound<'py, PyAny>,
        t: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::guarded(|| {
            let n = self.dof();
            let (out, batch) =
                self.quantity(py, q, q_dot, t, "momenta", n, |s, t, q, q_dot, out| {
                    out.copy_from_slice(&lagrange::momenta(s, t, q, q_dot)?);
                    Ok(())
                })?;
            Ok(arrays::vectors(py, out, batch, n))
        })
    }

    /// The mass matrix M = ∂²L/∂q̇²: shape `(n, n)` or `(B, n, n)`.
    #[pyo3(signature = (q, q_dot, t=None))]
    fn mass_matrix<'py>(
        &self,
        py: Python<'py>,
        q: &Bound<'py, PyAny>,
        q_dot: &Bound<'py, PyAny>,
        t: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::guarded(|| {
            let n = self.dof();
            let (out, batch) = self.quantity(
                py,
                q,
                q_dot,
                t,
                "mass_matrix",
                n * n,
                |s, t, q, q_dot, out| {
                    out.copy_from_slice(&lagrange::mass_matrix(s, t, q, q_dot)?);
                    Ok(())
                },
            )?;
            Ok(arrays::matrices(py, out, batch, n))
        })
    }

    /// Integrates from t = 0 to `t_end` from `(q0, q_dot0)`, with a row every `dt`; returns a
    /// `Trajectory` (`.t`, `.q`, `.q_dot`, `.energy`). `integrator` is `euler`, `rk4`, `dopri5`
    /// (adaptive, with `rtol` and `atol`) or `variational` (symplectic); `evaluator` as for
    /// `eom`. Raises `IntegrationError` (with `.t`) when the run fails numerically.
    #[pyo3(signature = (q0, q_dot0, t_end, dt, integrator="dopri5", rtol=1e-9, atol=1e-12, evaluator="auto"))]
    #[allow(clippy::too_many_arguments)]
    fn simulate(
        &self,
        py: Python<'_>,
        q0: &Bound<'_, PyAny>,
        q_dot0: &Bound<'_, PyAny>,
        t_end: f64,
        dt: f64,
        integrator: &str,
        rtol: f64,
        atol: f64,
        evaluator: &str,
    ) -> PyResult<simulate::Trajectory> {
        crate::guarded(|| {
            let settings = simulate::Settings::check(integrator, t_end, dt, rtol, atol, evaluator)?;
            let n = self.dof();
            let zero = 0.0_f64.into_pyobject(py)?.into_any();
            let start = States::read(q0, q_dot0, &zero, n)?;
            if start.batch.is_some() {
                return Err(value_error(format!(
                    "q0 and q_dot0 must have shape ({n},) (one initial state)"
                )));
            }
            simulate::run(py, &self.inner, &settings, &start.q, &start.q_dot)
        })
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let restore = py.import("lagrange._lagrange")?.getattr("_restore")?;
        let args = (self.source.kind(), self.source.text(), self.parameters(py)?);
        (restore, args).into_pyobject(py)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<System>().is_ok_and(|o| {
            let o = o.get();
            o.source == self.source && o.inner.parameters() == self.inner.parameters()
        })
    }

    fn __repr__(&self) -> String {
        let params: Vec<String> = self
            .inner
            .parameters()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!(
            "System('{}', coordinates=[{}], parameters={{{}}})",
            self.inner.title(),
            self.inner.coordinates().join(", "),
            params.join(", ")
        )
    }
}

/// Rebuilds a pickled system (see `System.__reduce__`).
#[pyfunction]
#[pyo3(name = "_restore")]
pub fn restore(kind: &str, text: String, parameters: &Bound<'_, PyDict>) -> PyResult<System> {
    let source = match kind {
        "builtin" => Source::Builtin(text),
        "toml" => Source::Toml(text),
        "model" => Source::Model(text),
        other => {
            return Err(value_error(format!(
                "cannot restore a system of kind '{other}'"
            )));
        }
    };
    let system = System::new(source.build()?, source);
    system.with(&keyword_params(Some(parameters))?)
}

/// `name=value` keywords as parameters.
fn keyword_params(params: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<(String, f64)>> {
    let Some(params) = params else {
        return Ok(Vec::new());
    };
    params
        .iter()
        .map(|(k, v)| {
            let name: String = k.extract()?;
            let value: f64 = v
                .extract()
                .map_err(|_| value_error(format!("parameter {name} must be a number, got {v}")))?;
            Ok((name, value))
        })
        .collect()
}

/// The states of a per-state call (`t` defaults to 0).
fn read_states(
    py: Python<'_>,
    q: &Bound<'_, PyAny>,
    q_dot: &Bound<'_, PyAny>,
    t: Option<&Bound<'_, PyAny>>,
    n: usize,
) -> PyResult<States> {
    match t {
        Some(t) => States::read(q, q_dot, t, n),
        None => States::read(q, q_dot, &0.0_f64.into_pyobject(py)?.into_any(), n),
    }
}

/// Used by the module's `generate` and `learn`.
impl System {
    pub(crate) fn any(&self) -> &AnySystem {
        &self.inner
    }
}
