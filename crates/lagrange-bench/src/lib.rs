//! Autodiff vs traditional differentiation, measured side by side in one run.
//!
//! For each benchmark system the same states go through every method: the engine's autodiff
//! EOM (the integrators' stateful `EquationsOfMotion` evaluator, one per thread, and the stateless
//! free function), the dense autodiff path (for structured systems), the
//! hand-derived Rust EOM (the oracle), and central finite differences of L. Reported: single-state
//! latency, batched throughput over all cores, an RK4 trajectory of 10⁴ steps, the q̈ error
//! against a high-precision reference (SymPy at 40 digits, `tools/reference_qddot.py`) or, for
//! the large systems, against the hand-derived EOM, and the energy drift of that trajectory.
//! Ratios are what count: absolute times drift with the machine's load.
//!
//! With [`run_combined`] and a [`PeerConfig`], the Python peers of `bench/peers` (numpy, SymPy,
//! JAX, PyTorch) run right after the Rust methods of each system, on the same states, and the
//! report carries the autodiff-over-peer ratios of that one run.

pub mod cases;
pub mod fields;
pub mod finite_difference;
pub mod measure;
pub mod peers;

pub use cases::{Case, Eom, MakeEom, Method, all_cases, reference_states, sympy_reference_states};
pub use measure::{BenchOptions, Row, run, run_case, to_markdown};
pub use peers::{Combined, PeerConfig, PeerResult, parse_peer_output, run_combined};
