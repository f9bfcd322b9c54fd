//! [`Accelerations`]: what the explicit integrators need from an equation-of-motion evaluator.
//!
//! The engine's own is [`EquationsOfMotion`] (dual numbers, any Lagrangian); other crates add
//! theirs (`lagrange-jit`'s compiled equations) without the integrators knowing about them.

use super::{EquationsOfMotion, MechanicsError};
use crate::lagrangian::LagrangianOver;

/// A stateful q̈ evaluator for one system.
pub trait Accelerations {
    /// Degrees of freedom.
    fn dof(&self) -> usize;

    /// Writes q̈ at `(t, q, q̇)` into `out`.
    fn accelerations_into(
        &mut self,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
        out: &mut [f64],
    ) -> Result<(), MechanicsError>;

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
