//! Python bindings of `lagrange`: the module `lagrange._lagrange`, re-exported by the Python
//! package `lagrange` (crates/lagrange-py/python/lagrange).
//!
//! The bindings are thin: systems resolve through [`lagrange_learn::system`] and evaluators are
//! chosen by [`lagrange_learn::eom_choice`], exactly as in the CLI, so a name, a file or an
//! `evaluator=` means the same thing in both. Batches run on rayon's pool with the GIL
//! released. Every error becomes a Python exception ([`errors`]); a panic in Rust becomes
//! `pyo3_runtime.PanicException` (PyO3 catches it at the boundary) and never aborts Python.

mod arrays;
mod batch;
mod errors;
mod learn;
mod simulate;
mod system;

use pyo3::prelude::*;

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
