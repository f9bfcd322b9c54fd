//! The error type of learning.

use crate::data::DataError;
use lagrange::MechanicsError;
use thiserror::Error;

/// Why learning (or a step of it) failed. `Display` is one line.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LearnError {
    /// Bad or unusable data.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A parameter name that the model does not have.
    #[error("unknown parameter `{name}` (the model has: {known})")]
    UnknownParameter {
        /// The name asked for.
        name: String,
        /// Comma-separated list of the model's parameters.
        known: String,
    },
    /// A parameter both fitted and fixed, or other inconsistent parameter choices.
    #[error("invalid parameter selection: {0}")]
    Selection(String),
    /// The model could not be loaded (e.g. a malformed TOML system file).
    #[error("{0}")]
    Model(String),
    /// Bad option values (grid, schedule, box, ...).
    #[error("invalid option: {0}")]
    Option(String),
    /// The model's mass matrix is singular at every sample.
    #[error(
        "the model's mass matrix ∂²L/∂q̇² is singular at all {samples} samples: the Lagrangian is degenerate for these parameters (it must be quadratic/convex in the velocities)"
    )]
    AllSingular {
        /// Number of samples.
        samples: usize,
    },
    /// The model produced NaN or infinity.
    #[error(
        "the model evaluates to a non-finite value at sample {sample} (row {line} of the data)"
    )]
    NonFinite {
        /// 0-based sample index.
        sample: usize,
        /// 1-based line in the CSV file (header is line 1).
        line: usize,
    },
    /// The engine failed in a way that is not a singular mass matrix.
    #[error("equations of motion failed: {0}")]
    Mechanics(#[from] MechanicsError),
    /// Generating data failed.
    #[error("data generation failed: {0}")]
    Generate(String),
}
