//! Errors of the mechanics layer.

use thiserror::Error;

/// Why an equation of motion (or a quantity derived from it) could not be evaluated.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MechanicsError {
    /// `∂²L/∂q̇²` cannot be inverted: the Lagrangian is degenerate at this state (for example
    /// linear in q̇), so q̈ is not determined by the Euler–Lagrange equations.
    #[error(
        "singular mass matrix ∂²L/∂q̇² at t = {t} (relative pivot {relative_pivot:.3e}): the Lagrangian is degenerate here; it must be quadratic (convex) in the velocities"
    )]
    SingularMassMatrix {
        /// Time of the failing evaluation.
        t: f64,
        /// Smallest LU pivot divided by the largest |entry| of the mass matrix (0 when M = 0).
        relative_pivot: f64,
    },
    /// The state or the Lagrangian's derivatives contain NaN or infinity.
    #[error("non-finite value ({what}) at t = {t}")]
    NonFinite {
        /// Time of the failing evaluation.
        t: f64,
        /// What was not finite.
        what: &'static str,
    },
    /// Slices of the wrong length were passed.
    #[error("expected {expected} coordinates, got {got}")]
    DimensionMismatch {
        /// The Lagrangian's number of degrees of freedom.
        expected: usize,
        /// The length that was passed.
        got: usize,
    },
    /// Newton's method (Legendre transform, implicit step) did not converge.
    #[error(
        "Newton iteration did not converge at t = {t} after {iterations} iterations (residual {residual:.3e})"
    )]
    NoConvergence {
        /// Time of the failing evaluation.
        t: f64,
        /// Iterations performed.
        iterations: usize,
        /// Final residual norm.
        residual: f64,
    },
}

impl MechanicsError {
    /// The error for a failed solve with the mass matrix at time `t`: `NonFinite` when M has a
    /// NaN or infinite entry, otherwise `SingularMassMatrix` with the solver's relative pivot.
    pub fn failed_solve(t: f64, mass_finite: bool, relative_pivot: f64) -> Self {
        if mass_finite {
            MechanicsError::SingularMassMatrix { t, relative_pivot }
        } else {
            MechanicsError::NonFinite {
                t,
                what: "mass matrix",
            }
        }
    }
}
