//! Python bindings of `lagrange`: the module `lagrange._lagrange`, re-exported by the Python
//! package `lagrange` (crates/lagrange-py/python/lagrange).
//!
//! The bindings are thin: systems resolve through [`lagrange_learn::system`] and evaluators are
//! chosen by [`lagrange_learn::eom_choice`], exactly as in the CLI, so a name, a file or an
//! `evaluator=` means the same thing in both. Batches run on rayon's pool with the GIL
//! released. Every error becomes a Python exception ([`errors`]); a panic in Rust (a bug) becomes a
//! `RuntimeError` saying so ([`guarded`]), and never aborts Python.

mod arrays;
mod batch;
mod errors;
mod learn;
mod simulate;
mod system;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Runs `body`, turning a panic (a bug) into a `RuntimeError` that says so: PyO3 would raise
/// `PanicException`, a `BaseException` that `except Exception` does not catch.
pub(crate) fn guarded<T>(body: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".into());
        Err(PyRuntimeError::new_err(format!(
            "internal error in lagrange (a bug, please report it): {what}"
        )))
    })
}

/// Exact equations of motion, trajectories and learning from a Lagrangian written as text.
#[pymodule]
fn _lagrange(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "SingularMassMatrixError",
        py.get_type::<errors::SingularMassMatrixError>(),
    )?;
    m.add(
        "IntegrationError",
        py.get_type::<errors::IntegrationError>(),
    )?;
    m.add_class::<system::System>()?;
    m.add_class::<simulate::Trajectory>()?;
    m.add_function(wrap_pyfunction!(system::restore, m)?)?;
    m.add_function(wrap_pyfunction!(learn::generate, m)?)?;
    m.add_function(wrap_pyfunction!(learn::learn, m)?)?;
    Ok(())
}
