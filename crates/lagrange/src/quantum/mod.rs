//! Quantum statistical mechanics from the same Lagrangian: path-integral Monte Carlo (PIMC) in
//! imaginary time, exact diagonalization of the grid Hamiltonian in one dimension, and a
//! maximum-likelihood fit of a parameter of `V` to measured ground-state positions.
//!
//! **Physics.** For `L = ½ q̇ᵀ M q̇ − V(q)` with a constant, positive definite `M`, the quantum
//! partition function at inverse temperature `β = 1/(k_B T)` is a path integral over closed paths
//! in imaginary time `τ ∈ [0, βħ]` weighted by `exp(−S_E/ħ)`, with the Euclidean action
//! `S_E = ∫ dτ [½ q'ᵀ M q' + V(q)]` (Dirac 1933; Feynman & Hibbs, *Quantum Mechanics and Path
//! Integrals*, 1965). Cutting `βħ` into `P` slices of `Δτ = βħ/P` and using the primitive
//! (Trotter) factorization gives the discretized action of [`action::EuclideanAction`],
//!
//! ```text
//! S_E/ħ = Σₖ [ (qₖ₊₁ − qₖ)ᵀ M (qₖ₊₁ − qₖ) / (2ħΔτ) + (Δτ/ħ) V(qₖ) ],   q_P = q_0,
//! ```
//!
//! exact as `Δτ → 0` with an `O(Δτ²)` bias in every average. Sampling closed paths with weight
//! `exp(−S_E/ħ)` ([`pimc`]: Metropolis single-slice moves plus whole-path shifts, or Hybrid Monte
//! Carlo with exact `∇V` from dual numbers) gives thermal averages (Ceperley, Rev. Mod. Phys. 67,
//! 279 (1995)); at large `β` they are ground-state averages. The energy comes from the
//! centroid-virial estimator (Herman, Bruskin & Berne, J. Chem. Phys. 76, 5150 (1982)) of
//! [`estimators`], with its statistical error from a binning analysis.
//!
//! **Detection.** Only Lagrangians of that form have a real, bounded-below Euclidean action that
//! PIMC can sample; [`action::NaturalForm::detect`] checks it numerically with the engine (no
//! explicit `t`, no dissipation or extra forces, `∂L/∂q̇ = 0` at `q̇ = 0`, the same mass matrix
//! at random states, `L(q, q̇) − L(q, 0) = ½ q̇ᵀ M q̇` exactly, `M` positive definite) and says
//! which requirement fails otherwise. `V(q) = −L(0, q, 0)` is evaluated through
//! [`Lagrangian::lagrangian`](crate::Lagrangian::lagrangian) over any scalar, so `∇V` is exact.
//!
//! **What it cannot do.** Real-time quantum dynamics (the real-time path integral oscillates:
//! the sign problem), velocity-dependent potentials (a magnetic `A·q̇` makes `S_E` complex), a
//! position-dependent mass (the path measure then needs the metric's determinant and operator
//! ordering) and explicitly time-dependent or dissipative systems (no equilibrium state).
//!
//! Random numbers come from the crate's own small generator ([`rng::Rng`], xoshiro256**): the
//! core has no `rand` dependency, and a fixed algorithm keeps runs with the same seed identical
//! across dependency updates.

pub mod action;
pub mod diagonalize;
pub mod error;
pub mod estimators;
pub mod likelihood;
pub mod pimc;
pub mod rng;

pub use action::{EuclideanAction, NaturalForm};
pub use diagonalize::{Spectrum, solve_grid, solve_potential};
pub use error::QuantumError;
pub use estimators::{BinningResult, Extrapolation, Histogram, binning, extrapolate_quadratic};
pub use likelihood::{GroundStateFit, fit_ground_state, fit_interval};
pub use pimc::{PimcMethod, PimcOptions, PimcResult, sample_paths};
