//! The Euler–Lagrange machinery: equations of motion and derived quantities, all by autodiff.

pub mod eom;
pub mod equations;
pub mod error;
pub mod evaluator;
pub mod jet;
pub mod linalg;
pub mod quantities;
pub mod structured;
pub mod symmetry;

pub use eom::{
    EomPath, EulerLagrangeParts, accelerations, accelerations_into, accelerations_with,
    euler_lagrange_parts,
};
pub use equations::EquationsOfMotion;
pub use error::MechanicsError;
pub use evaluator::{Accelerations, AssemblyPath, Evaluator, EvaluatorInfo, MassSolve};
pub use quantities::{
    energy, hamiltonian, jacobi_integral, lagrangian_value, mass_matrix, momenta, partial_time,
    velocities_from_momenta, velocities_from_momenta_near,
};
pub use structured::{SparseParts, structured_parts};
