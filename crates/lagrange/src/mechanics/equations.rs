//! [`EquationsOfMotion`]: q̈(t, q, q̇) of one Lagrangian, with what can be reused kept between calls.
//!
//! The free functions ([`accelerations_into`](super::accelerations_into) and friends) are
//! stateless. An integrator calls the equations of motion thousands of times for the same
//! system, so when the Lagrangian declares a constant mass matrix
//! ([`Lagrangian::mass_matrix_is_constant`](crate::Lagrangian::mass_matrix_is_constant)) this
//! evaluator inverts `M` once, on the first call, and afterwards differentiates L with the
//! smaller [`ForceJet`] (no `q̇q̇` block: O(n) per operation of L instead of O(n²)) and applies
//! the stored inverse.
//!
//! ```
//! use lagrange::mechanics::EquationsOfMotion;
//! use lagrange::systems::Cyclotron;
//! let c = Cyclotron::default();
//! let mut eom = EquationsOfMotion::new(&c);
//! let mut a = [0.0; 3];
//! eom.accelerations_into(0.0, &[0.0; 3], &[1.0, 0.0, 0.0], &mut a).unwrap();
//! // q̈ = (q/m) q̇ × B with B along z: (0, −qB/m, 0) for q̇ = x̂
//! let w = c.q * c.b / c.m;
//! assert!((a[1] + w).abs() < 1e-14 && a[0].abs() < 1e-14 && a[2] == 0.0);
//! ```

use super::eom::{
    EomPath, accelerations_with, check_dims, check_finite, subtract_dissipation_force,
};
use super::error::MechanicsError;
use super::jet::ForceJet;
use super::linalg::solve_in_place;
use super::quantities::mass_matrix;
use crate::lagrangian::LagrangianOver;

/// Largest `n` for which a constant mass matrix is inverted once and reused.
const MAX_CACHED: usize = 8;

/// q̈ of one Lagrangian over `f64`, reusing the inverse of a constant mass matrix.
pub struct EquationsOfMotion<'a, L: ?Sized> {
    lagrangian: &'a L,
    path: EomPath,
    /// `M⁻¹` (row-major) once computed, for Lagrangians declaring a constant `M` with `n ≤ 8`.
    inverse_mass: Option<Vec<f64>>,
}

impl<'a, L: LagrangianOver<f64> + ?Sized> EquationsOfMotion<'a, L> {
    /// Equations of motion of `lagrangian` with the automatic [`EomPath`].
    pub fn new(lagrangian: &'a L) -> Self {
        Self {
            lagrangian,
            path: EomPath::Auto,
            inverse_mass: None,
        }
    }

    /// Forces an assembly path (the constant-mass shortcut applies only to [`EomPath::Auto`]).
    pub fn with_path(mut self, path: EomPath) -> Self {
        self.path = path;
        self
    }

    /// The Lagrangian.
    pub fn lagrangian(&self) -> &'a L {
        self.lagrangian
    }

    /// Writes q̈ at `(t, q, q̇)` into `out`.
    pub fn accelerations_into(
        &mut self,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
        out: &mut [f64],
    ) -> Result<(), MechanicsError> {
        let n = q.len();
        if self.path != EomPath::Auto
            || n > MAX_CACHED
            || !self.lagrangian.mass_matrix_is_constant()
        {
            return accelerations_with(self.path, self.lagrangian, t, q, q_dot, out);
        }
        check_dims(self.lagrangian, q, q_dot)?;
        if out.len() != n {
            return Err(MechanicsError::DimensionMismatch {
                expected: n,
                got: out.len(),
            });
        }
        check_finite(t, q, q_dot)?;
        if self.inverse_mass.is_none() {
            self.inverse_mass = Some(invert_mass_matrix(self.lagrangian, t, q, q_dot)?);
        }
        let inverse = self.inverse_mass.as_deref().unwrap_or_default();
        match n {
            1 => constant_mass_accelerations::<L, 1>(self.lagrangian, inverse, t, q, q_dot, out),
            2 => constant_mass_accelerations::<L, 2>(self.lagrangian, inverse, t, q, q_dot, out),
            3 => constant_mass_accelerations::<L, 3>(self.lagrangian, inverse, t, q, q_dot, out),
            4 => constant_mass_accelerations::<L, 4>(self.lagrangian, inverse, t, q, q_dot, out),
            5 => constant_mass_accelerations::<L, 5>(self.lagrangian, inverse, t, q, q_dot, out),
            6 => constant_mass_accelerations::<L, 6>(self.lagrangian, inverse, t, q, q_dot, out),
            7 => constant_mass_accelerations::<L, 7>(self.lagrangian, inverse, t, q, q_dot, out),
            _ => constant_mass_accelerations::<L, 8>(self.lagrangian, inverse, t, q, q_dot, out),
        }
    }

    /// The first-order system `y = (q, q̇) ↦ (q̇, q̈)` integrators step.
    pub fn first_order_rhs(
        &mut self,
        t: f64,
        y: &[f64],
        dy: &mut [f64],
    ) -> Result<(), MechanicsError> {
        let n = y.len() / 2;
        dy[..n].copy_from_slice(&y[n..]);
        self.accelerations_into(t, &y[..n], &y[n..], &mut dy[n..])
    }
}

/// `M⁻¹` from `M` at one state, with the engine's singularity test.
fn invert_mass_matrix<L: LagrangianOver<f64> + ?Sized>(
    lagrangian: &L,
    t: f64,
    q: &[f64],
    q_dot: &[f64],
) -> Result<Vec<f64>, MechanicsError> {
    let n = q.len();
    let m = mass_matrix(lagrangian, t, q, q_dot)?;
    let mut inverse = vec![0.0; n * n];
    let mut column = vec![0.0; n];
    for j in 0..n {
        column.fill(0.0);
        column[j] = 1.0;
        let mut lu = m.clone();
        solve_in_place(&mut lu, n, &mut column).map_err(|relative_pivot| {
            if m.iter().all(|x| x.is_finite()) {
                MechanicsError::SingularMassMatrix { t, relative_pivot }
            } else {
                MechanicsError::NonFinite {
                    t,
                    what: "mass matrix",
                }
            }
        })?;
        for i in 0..n {
            inverse[i * n + j] = column[i];
        }
    }
    Ok(inverse)
}

/// q̈ = M⁻¹ (∂L/∂q − ∂_v(∂L/∂q̇) − ∂F/∂q̇ + Q) with one [`ForceJet`] pass.
#[inline(never)]
fn constant_mass_accelerations<L: LagrangianOver<f64> + ?Sized, const N: usize>(
    lagrangian: &L,
    inverse_mass: &[f64],
    t: f64,
    q: &[f64],
    q_dot: &[f64],
    out: &mut [f64],
) -> Result<(), MechanicsError> {
    let mut qj = [ForceJet::<f64, N>::constant(0.0); N];
    let mut qdj = qj;
    for k in 0..N {
        qj[k] = ForceJet::coordinate(q[k], q_dot[k], k);
        qdj[k] = ForceJet::velocity(q_dot[k], k);
    }
    let l = lagrangian.lagrangian_over(ForceJet::time(t), &qj, &qdj);
    let mut force = [0.0; N];
    for i in 0..N {
        force[i] = l.q[i] - l.vd[i];
    }
    if lagrangian.has_dissipation() {
        subtract_dissipation_force(lagrangian, t, q, q_dot, &mut force);
    }
    lagrangian.add_generalized_forces_over(t, q, q_dot, &mut force);
    if force.iter().any(|x| !x.is_finite()) {
        return Err(MechanicsError::NonFinite {
            t,
            what: "generalized force",
        });
    }
    for (i, o) in out.iter_mut().enumerate().take(N) {
        let row = &inverse_mass[i * N..(i + 1) * N];
        *o = row.iter().zip(&force).map(|(a, f)| a * f).sum();
    }
    Ok(())
}
