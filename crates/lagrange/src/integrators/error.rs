//! Errors of the integrators.

use crate::mechanics::MechanicsError;
use thiserror::Error;

/// Why a simulation stopped. Every message is one line naming the time, the cause and a remedy.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum IntegrationError {
    /// The equations of motion could not be evaluated in the step starting at `t` (for example a
    /// singular mass matrix: the Lagrangian is degenerate there).
    #[error("integration stopped in the step starting at t = {t}: {source}; {}", mechanics_hint(.source))]
    Mechanics {
        /// Start of the failing step (the source carries the time of the failing evaluation).
        t: f64,
        /// What the mechanics layer reported.
        source: MechanicsError,
    },
    /// The state became NaN or infinite in the step starting at `t` (the last finite state).
    #[error(
        "the state became non-finite (NaN or infinity) in the step starting at t = {t}: the motion blew up or the step is too large; reduce the time step dt (or use the adaptive dopri5 method)"
    )]
    NonFinite {
        /// Time of the last finite state.
        t: f64,
    },
    /// The adaptive controller needed a step below what floating point resolves at `t`.
    #[error(
        "the adaptive step size fell to h = {h:.3e} at t = {t}: the solution is singular or extremely stiff here; check the model near this time or loosen the tolerances rtol and atol"
    )]
    StepSizeTooSmall {
        /// Time reached.
        t: f64,
        /// The rejected step size.
        h: f64,
    },
    /// The implicit variational step from `t` did not converge.
    #[error(
        "the variational integrator's Newton iteration did not converge in the step starting at t = {t} after {iterations} iterations (relative residual {residual:.3e}); reduce the time step dt"
    )]
    NewtonDidNotConverge {
        /// Start of the failing step.
        t: f64,
        /// Iterations performed.
        iterations: usize,
        /// Final residual, relative to the size of the momenta.
        residual: f64,
    },
    /// The settings or the initial state are unusable; nothing was integrated.
    #[error("invalid integration settings: {message}")]
    InvalidSettings {
        /// What is wrong and how to fix it.
        message: String,
    },
}

impl IntegrationError {
    /// The time the error refers to (`None` for invalid settings).
    pub fn time(&self) -> Option<f64> {
        match *self {
            IntegrationError::Mechanics { t, .. }
            | IntegrationError::NonFinite { t }
            | IntegrationError::StepSizeTooSmall { t, .. }
            | IntegrationError::NewtonDidNotConverge { t, .. } => Some(t),
            IntegrationError::InvalidSettings { .. } => None,
        }
    }
}

fn mechanics_hint(source: &MechanicsError) -> &'static str {
    match source {
        MechanicsError::SingularMassMatrix { .. } => {
            "make the Lagrangian non-degenerate in the velocities or start away from the singular configuration"
        }
        MechanicsError::NoConvergence { .. } => "reduce the time step dt",
        MechanicsError::NonFinite { .. } => "reduce the time step dt",
        MechanicsError::DimensionMismatch { .. } => "check the number of initial values",
        #[allow(unreachable_patterns)]
        _ => "check the model and the initial state",
    }
}
