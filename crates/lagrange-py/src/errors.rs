//! Rust errors as Python exceptions: bad input is `ValueError` (with the CLI's message), a
//! degenerate Lagrangian `SingularMassMatrixError` (an `ArithmeticError`), a failed run
//! `IntegrationError` carrying the time `t`.

use lagrange::MechanicsError;
use lagrange::integrators::IntegrationError as RunError;
use pyo3::create_exception;
use pyo3::exceptions::{PyArithmeticError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

create_exception!(
    lagrange,
    SingularMassMatrixError,
    PyArithmeticError,
    "The mass matrix ∂²L/∂q̇² is singular at the state: the Lagrangian is degenerate in the velocities there."
);
create_exception!(
    lagrange,
    IntegrationError,
    PyRuntimeError,
    "A run failed numerically (blow-up, singular mass matrix, step size underflow, no Newton convergence); `t` is the time."
);

/// `ValueError` with `message`.
pub fn value_error(message: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(message.to_string())
}

/// A failure of the mechanics at one state: a singular mass matrix is a
/// `SingularMassMatrixError`, anything else (a dimension mismatch, a non-finite value) bad
/// input. `context` says which state (empty for a single one).
pub fn mechanics(error: &MechanicsError, context: &str) -> PyErr {
    let message = format!("{context}{error}");
    match error {
        MechanicsError::SingularMassMatrix { .. } => SingularMassMatrixError::new_err(message),
        _ => PyValueError::new_err(message),
    }
}

/// A failed run: settings rejected before any step are bad input; everything else an
/// `IntegrationError` whose `t` is the time it happened.
pub fn run(py: Python<'_>, error: &RunError) -> PyErr {
    match error.time() {
        None => PyValueError::new_err(error.to_string()),
        Some(t) => integration(py, error.to_string(), t),
    }
}

/// An `IntegrationError` with `message` and attribute `t`.
pub fn integration(py: Python<'_>, message: String, t: f64) -> PyErr {
    let error = IntegrationError::new_err(message);
    // setting an attribute on a fresh exception instance cannot fail short of memory
    let _ = error.value(py).setattr("t", t);
    error
}
