//! A charged particle in crossed uniform fields `E ŷ` and `B ẑ` (E × B drift).
//!
//! ```text
//! L = ½ m (ẋ² + ẏ² + ż²) + ½ q B (x ẏ − y ẋ) + q E y
//! EOM (ω = qB/m): ẍ = ω ẏ,  ÿ = −ω ẋ + qE/m,  z̈ = 0
//! exact: drift v_d = E/B along x; u = v − v_d x̂ gyrates as in the cyclotron:
//!   x = x₀ + v_d t + Δx_cyc(u₀),  y = y₀ + Δy_cyc(u₀)  (a trochoid; a cycloid from rest)
//!   (ω = 0: uniform acceleration qE/m along y)
//! ```
//!
//! Reference: Goldstein, Poole & Safko, *Classical Mechanics*, 3rd ed., §1.5; Jackson,
//! *Classical Electrodynamics*, 3rd ed., §12.3; Landau & Lifshitz, *The Classical Theory of
//! Fields*, §22.

use super::cyclotron::gyrate;
use super::geometry::{Geometry, oblique};
use super::{ParameterError, Range, System, check, half_m_v2, named, unknown};
use crate::lagrangian::{Lagrangian, Scalar, Structure};
use std::sync::Arc;

/// Charged particle in crossed electric (y) and magnetic (z) fields (see the
/// [module docs](self)).
///
/// ```
/// use lagrange::systems::CrossedFields;
/// let s = CrossedFields::default();
/// assert!((s.drift_velocity() - 0.5).abs() < 1e-15); // E/B
/// // starting at the drift velocity the particle moves uniformly (no gyration)
/// let (q, _) = s.exact_solution(3.0, &[0.0; 3], &[0.5, 0.0, 0.0]).unwrap();
/// assert!((q[0] - 1.5).abs() < 1e-14 && q[1].abs() < 1e-14);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CrossedFields {
    /// Particle mass (> 0).
    pub m: f64,
    /// Charge (any sign).
    pub q: f64,
    /// Magnetic field along z (parameter name `B`).
    pub b: f64,
    /// Electric field along y (parameter name `E`).
    pub e: f64,
}

impl Default for CrossedFields {
    fn default() -> Self {
        Self {
            m: 1.0,
            q: 1.0,
            b: 1.0,
            e: 0.5,
        }
    }
}

impl CrossedFields {
    /// Cyclotron (signed) angular frequency `ω = qB/m`.
    pub fn omega(&self) -> f64 {
        self.q * self.b / self.m
    }

    /// The E × B drift speed along x, `E/B` (independent of charge and mass).
    pub fn drift_velocity(&self) -> f64 {
        self.e / self.b
    }

    /// Hand-derived `(ω ẏ, −ω ẋ + qE/m, 0)`.
    ///
    /// Writes into `out` (at least `q.len()` long) without allocating.
    pub fn hand_accelerations_into(&self, _t: f64, _q: &[f64], q_dot: &[f64], out: &mut [f64]) {
        let w = self.omega();
        let out = &mut out[..3];
        out[0] = w * q_dot[1];
        out[1] = -w * q_dot[0] + self.q * self.e / self.m;
        out[2] = 0.0;
    }

    /// [`Self::hand_accelerations_into`] into a new `Vec` (the test oracle's form).
    pub fn hand_accelerations(&self, t: f64, q: &[f64], q_dot: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; q.len()];
        self.hand_accelerations_into(t, q, q_dot, &mut out);
        out
    }

    /// Exact `(q(t), q̇(t))` from `(q0, q̇0)` at `t = 0`.
    pub fn exact_solution(
        &self,
        t: f64,
        q0: &[f64],
        q_dot0: &[f64],
    ) -> Option<(Vec<f64>, Vec<f64>)> {
        let w = self.omega();
        let z = q0[2] + q_dot0[2] * t;
        if w == 0.0 {
            let a = self.q * self.e / self.m;
            return Some((
                vec![
                    q0[0] + q_dot0[0] * t,
                    q0[1] + q_dot0[1] * t + 0.5 * a * t * t,
                    z,
                ],
                vec![q_dot0[0], q_dot0[1] + a * t, q_dot0[2]],
            ));
        }
        let vd = self.drift_velocity();
        let (dx, dy, ux, uy) = gyrate(w, t, q_dot0[0] - vd, q_dot0[1]);
        Some((
            vec![q0[0] + vd * t + dx, q0[1] + dy, z],
            vec![ux + vd, uy, q_dot0[2]],
        ))
    }
}

impl Lagrangian for CrossedFields {
    fn dof(&self) -> usize {
        3
    }
    /// `M = m·I` in Cartesian coordinates.
    fn structure(&self) -> Structure {
        Structure::new().constant_mass_matrix()
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
        half_m_v2(self.m, q_dot)
            + (q[0] * q_dot[1] - q[1] * q_dot[0]) * (0.5 * self.q * self.b)
            + q[1] * (self.q * self.e)
    }
}

impl System for CrossedFields {
    /// The drifting cycloid in the oblique projection [`oblique`] (x-y face on, z receding at
    /// 30°), with a trail: motion along B (z) shows as well as the E×B drift.
    fn geometry(&self) -> Option<Geometry> {
        Some(
            Geometry::new(1, Arc::new(|q: &[f64]| vec![oblique(q[0], q[1], q[2])]))
                .with_trail(true),
        )
    }
    fn title(&self) -> String {
        "Charged particle in crossed electric and magnetic fields (E×B drift)".into()
    }
    fn coordinates(&self) -> Vec<String> {
        vec!["x".into(), "y".into(), "z".into()]
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        named(&[("m", self.m), ("q", self.q), ("B", self.b), ("E", self.e)])
    }
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), ParameterError> {
        match name {
            "m" => self.m = check(name, value, Range::Positive)?,
            "q" => self.q = check(name, value, Range::Any)?,
            "B" => self.b = check(name, value, Range::Any)?,
            "E" => self.e = check(name, value, Range::Any)?,
            _ => return Err(unknown(name, &self.parameters())),
        }
        Ok(())
    }
    fn initial_state(&self) -> (Vec<f64>, Vec<f64>) {
        // from rest at the origin: a cycloid drifting along +x
        (vec![0.0, 0.0, 0.0], vec![0.0, 0.0, 0.0])
    }
    fn lagrangian_text(&self) -> String {
        "0.5*m*(x_dot^2 + y_dot^2 + z_dot^2) + 0.5*q*B*(x*y_dot - y*x_dot) + q*E*y".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (x, y, z) = (−1.5, 0.4, −0.8) projects to (x + ½·z·cos 30°, y + ½·z·sin 30°) =
    /// (−1.5 − 0.2√3, 0.2): motion along B (here −z) shows as a shift down and to the left.
    #[test]
    fn geometry_projects_the_drift_obliquely() {
        let geometry = CrossedFields::default().geometry().unwrap();
        let p = geometry.positions(&[-1.5, 0.4, -0.8]);
        assert_eq!(p.len(), 1);
        let expected = [-1.5 - 0.2 * 3f64.sqrt(), 0.2];
        assert!((p[0][0] - expected[0]).abs() < 1e-12, "{p:?}");
        assert!((p[0][1] - expected[1]).abs() < 1e-12, "{p:?}");
        assert!(geometry.trail && geometry.links.is_empty());
    }
}
