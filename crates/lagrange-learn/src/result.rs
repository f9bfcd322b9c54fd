//! The top-level fit and its JSON-serializable result.

use crate::data::{DataError, Dataset};
use crate::engine::{Engine, EngineReport, LossEngine, build_engine};
use crate::error::LearnError;
use crate::identify::{FLAT_THRESHOLD, FlatDirection, flat_directions, uncertainties};
use crate::model::Model;
use crate::optim::{HistoryEntry, LmOptions, Optimizer, Outcome, Progress, optimize_with};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Options of [`learn`].
#[derive(Debug, Clone, PartialEq)]
pub struct LearnOptions {
    /// The optimizer (default Levenberg–Marquardt).
    pub optimizer: Optimizer,
    /// Relative eigenvalue threshold for flat directions (default `1e-10`).
    pub flat_threshold: f64,
    /// Starting parameters (default: the model's initial guesses).
    pub initial: Option<Vec<f64>>,
    /// Which engine evaluates the loss. The library's default is the reference,
    /// [`Engine::Autodiff`] (results reproducible bit for bit); the CLI's is [`Engine::Auto`].
    pub engine: Engine,
}

impl Default for LearnOptions {
    fn default() -> Self {
        Self {
            optimizer: Optimizer::LevenbergMarquardt(LmOptions::default()),
            flat_threshold: FLAT_THRESHOLD,
            initial: None,
            engine: Engine::Autodiff,
        }
    }
}

/// One distinct minimum found by multi-start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Minimum {
    /// Loss `ε` at the minimum.
    pub loss: f64,
    /// Mean loss.
    pub mean_loss: f64,
    /// Parameters of the best start in this cluster.
    pub parameters: BTreeMap<String, f64>,
    /// How many starts ended here.
    pub count: usize,
    /// Which starts (0 = the model's initial guess).
    pub starts: Vec<usize>,
    /// How many of those starts converged; the others stopped at the iteration cap, on their
    /// way to a minimum that is not yet reached (0 for every start capped: then this is no
    /// minimum, only where the capped runs stopped).
    #[serde(default)]
    pub converged: usize,
}

impl Minimum {
    /// Whether any start converged here (a minimum, not only where capped runs stopped).
    pub fn is_converged(&self) -> bool {
        self.converged > 0
    }
}

/// The bias correction applied to the estimate (errors-in-variables aware fit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BiasCorrection {
    /// Method description.
    pub method: String,
    /// Noise standard deviation assumed for each position/velocity column.
    pub sigma: BTreeMap<String, f64>,
    /// Extra-noise multipliers `λ` (variance `λσ²` added), 0 being the data itself.
    pub lambdas: Vec<f64>,
    /// Mean estimate at each `λ` (same order as `lambdas`), per parameter.
    pub estimates: BTreeMap<String, Vec<f64>>,
    /// The naive least-squares estimate.
    pub naive: BTreeMap<String, f64>,
}

/// Everything a fit produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnResult {
    /// Fitted parameter values (bias-corrected when `bias_correction` is present).
    pub parameters: BTreeMap<String, f64>,
    /// Loss `ε = Σ |q̈ − Q|²` at the optimizer's final parameters.
    pub loss: f64,
    /// `ε` divided by the number of residuals.
    pub mean_loss: f64,
    /// Gauss–Newton standard errors `σ_θ` (`null` where undefined: flat directions, N ≤ P).
    pub uncertainty: BTreeMap<String, Option<f64>>,
    /// Loss and parameters per recorded iteration.
    pub history: Vec<HistoryEntry>,
    /// One message per flat direction (parameters that cannot be learned separately).
    pub not_identifiable: Vec<String>,
    /// Flat directions in detail.
    pub flat_directions: Vec<FlatDirection>,
    /// Fitted parameter names in the model's order (the order of `history[i].parameters`).
    pub parameter_order: Vec<String>,
    /// Starting values.
    pub initial: BTreeMap<String, f64>,
    /// Parameters held fixed.
    pub fixed: BTreeMap<String, f64>,
    /// `adam` or `lm`.
    pub optimizer: String,
    /// Optimizer settings.
    pub optimizer_options: Optimizer,
    /// Iterations performed.
    pub iterations: usize,
    /// Whether a convergence criterion was met.
    pub converged: bool,
    /// Why the optimizer stopped.
    pub stop_reason: String,
    /// Model description.
    pub model: String,
    /// Coordinates, in the model's order.
    pub coordinates: Vec<String>,
    /// Number of samples in the data.
    pub samples: usize,
    /// Number of residuals used (regular samples × coordinates).
    pub residuals: usize,
    /// Samples where the model's mass matrix is singular at the final parameters (excluded).
    pub singular_samples: usize,
    /// First few 0-based indices of those samples.
    pub singular_sample_indices: Vec<usize>,
    /// Distinct minima from multi-start (absent for a single start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minima: Option<Vec<Minimum>>,
    /// Number of starts that failed (multi-start only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_starts: Option<usize>,
    /// Errors-in-variables bias correction (absent for a plain fit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias_correction: Option<BiasCorrection>,
    /// Which engine evaluated the loss (and why, when `auto` did not compile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<EngineReport>,
    /// How a trajectory of positions became the fit (absent for `(q, q̇, q̈)` data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trajectory: Option<crate::positions::TrajectoryFit>,
}

impl LearnResult {
    /// Fitted values in the model's parameter order.
    pub fn values(&self) -> Vec<f64> {
        self.parameter_order
            .iter()
            .map(|n| self.parameters[n])
            .collect()
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("serializable")
    }
}

pub(crate) fn to_map(names: &[String], values: &[f64]) -> BTreeMap<String, f64> {
    names.iter().cloned().zip(values.iter().copied()).collect()
}

/// The data with its coordinates in the model's order, checked to be large enough.
pub fn prepare<M: Model + ?Sized>(model: &M, data: &Dataset) -> Result<Dataset, LearnError> {
    data.validate()?;
    let data = data.reordered(&model.coordinates())?;
    let np = model.parameter_names().len();
    if data.len() < np.max(2) {
        return Err(DataError::TooFewRows {
            rows: data.len(),
            needed: np.max(2),
            why: format!(" for {np} fitted parameters"),
        }
        .into());
    }
    Ok(data)
}

/// Fits `model` to `data`.
pub fn learn<M: Model + Sync + ?Sized>(
    model: &M,
    data: &Dataset,
    options: &LearnOptions,
) -> Result<LearnResult, LearnError> {
    learn_with_progress(model, data, options, &mut |_| {})
}

/// [`learn`] with a progress callback (called once per iteration).
pub fn learn_with_progress<M: Model + Sync + ?Sized>(
    model: &M,
    data: &Dataset,
    options: &LearnOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<LearnResult, LearnError> {
    let data = prepare(model, data)?;
    let init = starting_point(model, options)?;
    let engine = build_engine(model, options.engine, true)?;
    fit_prepared(engine.as_ref(), model, &data, &init, options, progress)
}

/// `options.initial`, or the model's initial guesses, checked to have one value per parameter.
pub(crate) fn starting_point<M: Model + ?Sized>(
    model: &M,
    options: &LearnOptions,
) -> Result<Vec<f64>, LearnError> {
    let expected = model.parameter_names().len();
    let init = options
        .initial
        .clone()
        .unwrap_or_else(|| model.initial_parameters());
    if init.len() != expected {
        return Err(LearnError::ParameterCount {
            what: "initial values",
            given: init.len(),
            expected,
        });
    }
    Ok(init)
}

/// The fit of [`learn_with_progress`] on prepared data, from `init`, with a given engine.
pub(crate) fn fit_prepared<M: Model + Sync + ?Sized>(
    engine: &dyn LossEngine,
    model: &M,
    data: &Dataset,
    init: &[f64],
    options: &LearnOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<LearnResult, LearnError> {
    let out = optimize_with(engine, data, init, &options.optimizer, progress)?;
    let mut result = build_result(model, data, init, out, options);
    result.engine = Some(engine.report().clone());
    Ok(result)
}

/// Assembles the [`LearnResult`] of an optimizer run (flat directions, uncertainties, ...).
pub(crate) fn build_result<M: Model + ?Sized>(
    model: &M,
    data: &Dataset,
    init: &[f64],
    out: Outcome,
    options: &LearnOptions,
) -> LearnResult {
    let names = model.parameter_names();
    let ev = &out.evaluation;
    let flats = flat_directions(
        &ev.jacobian,
        &out.parameters,
        &names,
        options.flat_threshold,
    );
    let sig = uncertainties(&ev.jacobian, &ev.residuals, options.flat_threshold);
    LearnResult {
        parameters: to_map(&names, &out.parameters),
        loss: ev.value.sum,
        mean_loss: ev.value.mean,
        uncertainty: names.iter().cloned().zip(sig).collect(),
        history: out.history,
        not_identifiable: flats.iter().map(|f| f.message.clone()).collect(),
        flat_directions: flats,
        parameter_order: names.clone(),
        initial: to_map(&names, init),
        fixed: model.fixed_parameters().into_iter().collect(),
        optimizer: options.optimizer.name().to_string(),
        optimizer_options: options.optimizer,
        iterations: out.iterations,
        converged: out.converged,
        stop_reason: out.stop_reason,
        model: model.description(),
        coordinates: data.coordinates.clone(),
        samples: data.len(),
        residuals: ev.value.residuals,
        singular_samples: ev.value.singular,
        singular_sample_indices: ev.value.singular_first.clone(),
        minima: None,
        failed_starts: None,
        bias_correction: None,
        engine: None,
        trajectory: None,
    }
}
