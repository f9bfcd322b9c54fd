//! `lagrange-jit`: equations of motion compiled to machine code.
//!
//! [`CompiledEquations`] (a fixed system) and [`ParametricEquations`] (a model whose parameters
//! stay runtime inputs, with exact parameter derivatives, for learning) are the public interface. Inside, `trace` runs a
//! [`lagrange::Lagrangian`] once on a recording scalar (`trace::Traced`), which turns L, the
//! Rayleigh function and the generalized forces into an expression `graph`. `diff`
//! differentiates that graph symbolically (reverse mode for ∂L/∂q and p = ∂L/∂q̇, forward mode
//! for ∂p/∂q̇ and dp/dt along the motion), with constant folding and common-subexpression
//! elimination, and `codegen` compiles the result with Cranelift.
//! This is automatic differentiation by source transformation (as JAX's `jit(hessian(...))`),
//! exact like the dual numbers of the core: no finite differences.
//!
//! It is a separate crate so that Cranelift never becomes a dependency of the physics core.

// The stages are internal: their functions take raw pointers and trust layouts (`unsafe`), so
// only the safe evaluator and its errors and statistics are exported.
pub(crate) mod batch;
pub(crate) mod codegen;
pub(crate) mod diff;
pub(crate) mod equations;
pub(crate) mod graph;
pub(crate) mod kernel;
pub(crate) mod lattice;
pub(crate) mod parametric;
pub(crate) mod parametric_terms;
pub(crate) mod site_kernel;
pub(crate) mod terms;
pub(crate) mod trace;
pub(crate) mod vector_math;

pub use codegen::CodegenError;
pub use equations::{CompileError, CompileStats, CompiledEquations};
pub use parametric::{
    DerivativeMode, MAX_OPERATIONS, MIN_TERM_COORDINATES, ParametricEquations,
    ParametricLagrangian, ParametricOptions, ParametricStats, Sample, TermKernels,
};
pub use terms::MIN_PARALLEL_ROWS;
pub use trace::{TraceError, Traced};
