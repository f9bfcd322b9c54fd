//! `lagrange`: write a Lagrangian `L(t, q, q̇)` once, generic over the scalar, and get exact
//! equations of motion, momenta, energy and trajectories by automatic differentiation.
//!
//! Layers: [`lagrangian`] (the trait), [`mechanics`] (Euler–Lagrange solve and derived
//! quantities), [`integrators`] (time stepping), [`systems`] (a library of classic systems with
//! hand-derived oracles).

pub mod expr;
pub mod field;
#[doc(hidden)]
pub mod fuzzing;
pub mod integrators;
pub mod lagrangian;
pub mod mechanics;
pub mod quantum;
pub mod systems;

pub use lagrangian::{Lagrangian, LagrangianOver, Scalar, Structure};
pub use mechanics::{
    EomPath, MechanicsError, accelerations, accelerations_into, accelerations_with, energy,
    hamiltonian, jacobi_integral, lagrangian_value, mass_matrix, momenta, partial_time,
    velocities_from_momenta,
};
pub use num_dual;
