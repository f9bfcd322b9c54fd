//! A library of classic systems, one per file, each with its hand-derived EOM and exact
//! solution where one exists (test oracles), and a registry by name.

use crate::lagrangian::Lagrangian;
use thiserror::Error;

/// A parameter name that a system does not have, or a value it cannot take.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ParameterError {
    /// No parameter of that name.
    #[error("unknown parameter `{name}` (known: {known})")]
    Unknown {
        /// The name asked for.
        name: String,
        /// Comma-separated list of the system's parameters.
        known: String,
    },
    /// The value is not acceptable (NaN, infinite, or out of the parameter's range).
    #[error("invalid value {value} for parameter `{name}`: {reason}")]
    Invalid {
        /// Parameter name.
        name: String,
        /// Rejected value.
        value: f64,
        /// Why.
        reason: String,
    },
}

/// A named physical system with metadata: what the CLI, examples and tests need besides `L`.
///
/// Implemented by every built-in system (Rust code) and by text systems loaded from TOML.
pub trait System: Lagrangian {
    /// Human-readable name.
    fn title(&self) -> String;
    /// Coordinate names, in column order (`x`, `theta1`, ...). Velocities are `<name>_dot`.
    fn coordinates(&self) -> Vec<String>;
    /// Parameters and their current values, in a stable order.
    fn parameters(&self) -> Vec<(String, f64)>;
    /// Sets one parameter.
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), ParameterError>;
    /// Default initial state `(q, q̇)` (used when the user gives none).
    fn initial_state(&self) -> (Vec<f64>, Vec<f64>);
    /// The Lagrangian (and dissipation, if any) as text in the expression language, e.g.
    /// `0.5*m*x_dot^2 - 0.5*k*x^2`.
    fn lagrangian_text(&self) -> String;
    /// Rayleigh dissipation function as text, if the system has one.
    fn dissipation_text(&self) -> Option<String> {
        None
    }
}
