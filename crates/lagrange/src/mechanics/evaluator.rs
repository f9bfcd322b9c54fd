//! [`Accelerations`]: what the explicit integrators need from an equation-of-motion evaluator.
//!
//! The engine's own is [`EquationsOfMotion`] (dual numbers, any Lagrangian); other crates add
//! theirs (`lagrange-jit`'s compiled equations) without the integrators knowing about them.

use super::{EquationsOfMotion, MechanicsError};
use crate::lagrangian::LagrangianOver;

/// Which code computes q̈ (what `lagrange simulate --stats` reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evaluator {
    /// Dual numbers through the Lagrangian ([`EquationsOfMotion`]).
    Autodiff,
    /// Machine code compiled from the traced Lagrangian (`lagrange-jit`).
    Compiled,
    /// A neural model's batched forward-Taylor pass (`lagrange-learn`'s `neural`).
    Network,
}

/// How the Euler–Lagrange equations are assembled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssemblyPath {
    /// The whole L at once (dense in the coordinates).
    Dense,
    /// Term by term over the declared local terms, sparse mass matrix.
    Structured,
    /// Compiled loop kernels over the declared local terms, one per class of alike terms.
    TermKernels {
        /// Number of kernels.
        kernels: usize,
        /// Coordinates whose force a compiled stencil computes (the interior of a lattice's
        /// terms); 0 where none does.
        stencil_sites: usize,
        /// Coordinates where the lattice wraps around (a periodic lattice's seams), whose force
        /// the stencil's graph computes through a table of their neighbours.
        stencil_seams: usize,
    },
}

/// How the mass matrix `M q̈ = force` is solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MassSolve {
    /// `M` is diagonal.
    Diagonal,
    /// Banded LU with this half-bandwidth.
    Banded {
        /// Half-bandwidth.
        bandwidth: usize,
    },
    /// Dense LU (or a dense inverse of a constant `M`).
    Dense,
}

/// What an evaluator does per call: which code, which assembly, which solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvaluatorInfo {
    /// Dual numbers or compiled code.
    pub evaluator: Evaluator,
    /// Dense, structured or term kernels.
    pub path: AssemblyPath,
    /// Whether `M` is constant (factored once) or varies (factored per call).
    pub constant_mass_matrix: bool,
    /// How `M` is solved.
    pub solve: MassSolve,
}

/// A stateful q̈ evaluator for one system.
pub trait Accelerations {
    /// Degrees of freedom.
    fn dof(&self) -> usize;

    /// Which code runs and how it assembles and solves; exact once the evaluator has been
    /// called (some choices are made on the first call), the planned path before.
    fn info(&self) -> EvaluatorInfo;

    /// Writes q̈ at `(t, q, q̇)` into `out`.
    fn accelerations_into(
        &mut self,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
        out: &mut [f64],
    ) -> Result<(), MechanicsError>;

    /// Threads of the current rayon pool the evaluator runs its work on (1: the calling
    /// thread alone). The explicit Runge–Kutta steps run their vector arithmetic on as many,
    /// for systems of at least [`PARALLEL_STATE_LEN`](crate::integrators::PARALLEL_STATE_LEN)
    /// state values.
    fn threads(&self) -> usize {
        1
    }

    /// The first-order system `y = (q, q̇) ↦ (q̇, q̈)` the integrators step.
    fn first_order_rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), MechanicsError> {
        let n = y.len() / 2;
        dy[..n].copy_from_slice(&y[n..]);
        self.accelerations_into(t, &y[..n], &y[n..], &mut dy[n..])
    }
}

impl<L: LagrangianOver<f64> + ?Sized> Accelerations for EquationsOfMotion<'_, L> {
    fn dof(&self) -> usize {
        self.lagrangian().dof()
    }

    fn info(&self) -> EvaluatorInfo {
        EquationsOfMotion::info(self)
    }

    fn accelerations_into(
        &mut self,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
        out: &mut [f64],
    ) -> Result<(), MechanicsError> {
        EquationsOfMotion::accelerations_into(self, t, q, q_dot, out)
    }
}
