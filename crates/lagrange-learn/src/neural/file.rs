//! The model file (`model.json`): a trained neural model, self-describing.
//!
//! ```json
//! { "format": "lagrange-neural-model", "version": 1, "kind": "lnn",
//!   "coordinates": ["theta1", "theta2"],
//!   "architecture": { "width": 128, "depth": 2, "activation": "softplus",
//!                     "sizes": [6, 128, 128, 1], "epsilon": 0.001, "penalty": null },
//!   "input_scaling": { "angles": [true, true], "q_mean": [...], "q_scale": [...],
//!                      "q_dot_mean": [...], "q_dot_scale": [...] },
//!   "output_scale": [1.0, 1.0],
//!   "weights": [...],
//!   "training": { "steps": ..., "seconds": ..., "final_train_loss": ...,
//!                 "final_validation_loss": ..., "history": [...], ... } }
//! ```
//!
//! Reading checks everything a hand-edited file could break (sizes against the weight count,
//! finite weights and scales, lengths per coordinate) and names the problem.

use super::activation::SmoothActivation;
use super::features::InputScaling;
use super::model::{MassPenalty, NeuralKind, NeuralModel};
use super::train::TrainReport;
use crate::error::LearnError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The `"format"` tag.
pub const FORMAT: &str = "lagrange-neural-model";
/// The `"version"` written.
pub const VERSION: u32 = 1;

/// The architecture block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Architecture {
    /// Hidden width.
    pub width: usize,
    /// Hidden layers.
    pub depth: usize,
    /// Hidden activation.
    pub activation: SmoothActivation,
    /// Layer widths `[inputs, hidden…, outputs]` (derived; checked on reading).
    pub sizes: Vec<usize>,
    /// `ε` of the structured mass matrix.
    pub epsilon: f64,
    /// The `lnn` mass-matrix penalty used in training.
    pub penalty: Option<MassPenalty>,
}

/// A model file: the model, its name and its training summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// Name shown in titles (the data file's stem by default).
    #[serde(default)]
    pub name: Option<String>,
    /// `lnn`, `structured` or `baseline`.
    pub kind: NeuralKind,
    /// Coordinate names.
    pub coordinates: Vec<String>,
    /// Shape.
    pub architecture: Architecture,
    /// Input features.
    pub input_scaling: InputScaling,
    /// Baseline output scale (ones for the other kinds).
    pub output_scale: Vec<f64>,
    /// The weights.
    pub weights: Vec<f64>,
    /// The range of each training column (`<q>` and `<q>_dot`), for extrapolation maps.
    #[serde(default)]
    pub training_box: Option<Vec<BoxRange>>,
    /// What training did.
    #[serde(default)]
    pub training: Option<TrainReport>,
}

/// One column's range in the training data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoxRange {
    /// Column name (`theta1`, `theta1_dot`).
    pub name: String,
    /// Smallest value.
    pub low: f64,
    /// Largest value.
    pub high: f64,
}

/// The ranges of the `q` and `q̇` columns of a dataset.
pub fn training_box(data: &crate::Dataset) -> Vec<BoxRange> {
    let n = data.dof();
    let mut out = Vec::with_capacity(2 * n);
    for (rows, suffix) in [(&data.q, ""), (&data.q_dot, "_dot")] {
        for i in 0..n {
            let (lo, hi) = rows
                .iter()
                .map(|r| r[i])
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                    (a.min(x), b.max(x))
                });
            out.push(BoxRange {
                name: format!("{}{suffix}", data.coordinates[i]),
                low: lo,
                high: hi,
            });
        }
    }
    out
}

impl ModelFile {
    /// The file of a model.
    pub fn new(model: &NeuralModel, name: Option<String>, training: Option<TrainReport>) -> Self {
        Self {
            format: FORMAT.into(),
            version: VERSION,
            name,
            kind: model.kind,
            coordinates: model.coordinates.clone(),
            architecture: Architecture {
                width: model.width,
                depth: model.depth,
                activation: model.activation,
                sizes: model.mlp().sizes,
                epsilon: model.epsilon,
                penalty: model.penalty,
            },
            input_scaling: model.scaling.clone(),
            output_scale: model.output_scale.clone(),
            weights: model.parameters.clone(),
            training_box: None,
            training,
        }
    }

    /// JSON text (pretty, weights in shortest round-trip form).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads and validates `text` (`path` names the file in errors).
    pub fn from_json(text: &str, path: &str) -> Result<(Self, NeuralModel), LearnError> {
        let bad = |reason: String| LearnError::ModelFile {
            path: path.to_string(),
            reason,
        };
        let file: ModelFile =
            serde_json::from_str(text).map_err(|e| bad(format!("not a model file ({e})")))?;
        if file.format != FORMAT {
            return Err(bad(format!(
                "\"format\" is \"{}\", expected \"{FORMAT}\"",
                file.format
            )));
        }
        if file.version != VERSION {
            return Err(bad(format!(
                "version {} is not supported (this build reads version {VERSION})",
                file.version
            )));
        }
        let n = file.coordinates.len();
        let s = &file.input_scaling;
        for (key, len) in [
            ("input_scaling.angles", s.angles.len()),
            ("input_scaling.q_mean", s.q_mean.len()),
            ("input_scaling.q_scale", s.q_scale.len()),
            ("input_scaling.q_dot_mean", s.q_dot_mean.len()),
            ("input_scaling.q_dot_scale", s.q_dot_scale.len()),
            ("output_scale", file.output_scale.len()),
        ] {
            if len != n {
                return Err(bad(format!(
                    "\"{key}\" has {len} entries for {n} coordinates"
                )));
            }
        }
        let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
        if !(finite(&s.q_mean) && finite(&s.q_dot_mean)) {
            return Err(bad("an input mean is not finite".into()));
        }
        if !s
            .q_scale
            .iter()
            .chain(&s.q_dot_scale)
            .chain(&file.output_scale)
            .all(|x| x.is_finite() && *x > 0.0)
        {
            return Err(bad("a scale is not a positive number".into()));
        }
        let a = &file.architecture;
        if !(a.epsilon.is_finite() && a.epsilon >= 0.0) {
            return Err(bad("\"architecture.epsilon\" must be ≥ 0".into()));
        }
        let mut seen = std::collections::HashSet::new();
        for c in &file.coordinates {
            if c.is_empty() || !seen.insert(c) {
                return Err(bad(format!("coordinate name \"{c}\" is empty or repeated")));
            }
        }
        let mut model = NeuralModel::new(
            file.kind,
            file.coordinates.clone(),
            a.width,
            a.depth,
            a.activation,
            file.input_scaling.clone(),
            0,
        )
        .map_err(|e| bad(e.to_string()))?;
        if model.mlp().sizes != a.sizes {
            return Err(bad(format!(
                "\"architecture.sizes\" is {:?} but a {} model of width {} and depth {} over these inputs has {:?}",
                a.sizes,
                file.kind.name(),
                a.width,
                a.depth,
                model.mlp().sizes
            )));
        }
        if file.weights.len() != model.parameters.len() {
            return Err(bad(format!(
                "{} weights given, the architecture needs {}",
                file.weights.len(),
                model.parameters.len()
            )));
        }
        if !finite(&file.weights) {
            return Err(bad("a weight is not finite".into()));
        }
        model.parameters = file.weights.clone();
        model.epsilon = a.epsilon;
        model.penalty = a.penalty;
        model.output_scale = file.output_scale.clone();
        Ok((file, model))
    }

    /// Reads a model file.
    pub fn read(path: impl AsRef<Path>) -> Result<(Self, NeuralModel), LearnError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| LearnError::ModelFile {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        Self::from_json(&text, &shown)
    }
}
