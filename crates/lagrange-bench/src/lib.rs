//! Autodiff vs traditional differentiation, measured side by side in one run.
//!
//! For each benchmark system the same states go through every method: the engine's autodiff
//! EOM (automatic path choice), the dense autodiff path (for structured systems), the
//! hand-derived Rust EOM (the oracle), and central finite differences of L. Reported: single-state
//! latency, batched throughput over all cores, an RK4 trajectory of 10⁴ steps, the q̈ error
//! against a high-precision reference (SymPy at 40 digits, `tools/reference_qddot.py`) or, for
//! the large systems, against the hand-derived EOM, and the energy drift of that trajectory.
//! Ratios are what count: absolute times drift with the machine's load.

pub mod cases;
pub mod finite_difference;
pub mod measure;

pub use cases::{Case, Method, all_cases, reference_states};
pub use measure::{BenchOptions, Row, run, to_markdown};
