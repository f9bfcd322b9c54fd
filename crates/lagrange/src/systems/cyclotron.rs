//! A charged particle in a uniform magnetic field `B ẑ` (symmetric gauge `A = ½ B × r`).
//!
//! ```text
//! L = ½ m (ẋ² + ẏ² + ż²) + ½ q B (x ẏ − y ẋ)
//! EOM (ω = qB/m): ẍ = ω ẏ,  ÿ = −ω ẋ,  z̈ = 0
//! exact: v⊥ rotates clockwise at ω; x = x₀ + (ẋ₀ sin ωt + ẏ₀(1 − cos ωt))/ω,
//!        y = y₀ + (ẏ₀ sin ωt − ẋ₀(1 − cos ωt))/ω,  z = z₀ + ż₀ t   (a helix)
//! ```
//!
//! The canonical momentum is not the kinetic one: `p_x = m ẋ − ½ q B y`, `p_y = m ẏ + ½ q B x`.
//! Reference: Goldstein, Poole & Safko, *Classical Mechanics*, 3rd ed., §1.5 (velocity-dependent
//! potential `L = T − qφ + q A·v`); Landau & Lifshitz, *The Classical Theory of Fields*, §21.

use super::geometry::{Geometry, oblique};
use super::{ParameterError, Range, System, check, cos_sinc, half_m_v2, named, unknown};
use crate::lagrangian::{Lagrangian, Scalar, Structure};
use std::sync::Arc;

/// Charged particle in a uniform magnetic field along z (see the [module docs](self)).
///
/// ```
/// use lagrange::systems::Cyclotron;
/// let c = Cyclotron { m: 2.0, q: 1.0, b: 3.0 };
/// // ẍ = (qB/m) ẏ = 1.5 · 2
/// let a = lagrange::accelerations(&c, 0.0_f64, &[0.3, -0.2, 0.0], &[0.0, 2.0, 0.0]).unwrap();
/// assert!((a[0] - 3.0).abs() < 1e-14);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Cyclotron {
    /// Particle mass (> 0).
    pub m: f64,
    /// Charge (any sign).
    pub q: f64,
    /// Magnetic field strength along z (parameter name `B`).
    pub b: f64,
}

impl Default for Cyclotron {
    fn default() -> Self {
        Self {
            m: 1.0,
            q: 1.0,
            b: 1.0,
        }
    }
}

/// In-plane displacement and velocity after time `t` of a velocity rotating clockwise at
/// angular frequency `omega`: `(dx, dy, vx, vy)`. Accurate as `omega → 0` (straight line).
pub(crate) fn gyrate(omega: f64, t: f64, vx0: f64, vy0: f64) -> (f64, f64, f64, f64) {
    let w2 = omega * omega;
    let (c, s) = cos_sinc(w2, t); // cos ωt, sin(ωt)/ω
    let (_, h) = cos_sinc(w2, 0.5 * t); // sin(ωt/2)/ω
    let om = 2.0 * omega * h * h; // (1 − cos ωt)/ω
    let sn = omega * s; // sin ωt
    (
        vx0 * s + vy0 * om,
        vy0 * s - vx0 * om,
        vx0 * c + vy0 * sn,
        vy0 * c - vx0 * sn,
    )
}

impl Cyclotron {
    /// Cyclotron (signed) angular frequency `ω = qB/m`.
    pub fn omega(&self) -> f64 {
        self.q * self.b / self.m
    }

    /// Hand-derived `(ω ẏ, −ω ẋ, 0)`.
    ///
    /// Writes into `out` (at least `q.len()` long) without allocating.
    pub fn hand_accelerations_into(&self, _t: f64, _q: &[f64], q_dot: &[f64], out: &mut [f64]) {
        let w = self.omega();
        let out = &mut out[..3];
        out[0] = w * q_dot[1];
        out[1] = -w * q_dot[0];
        out[2] = 0.0;
    }

    /// [`Self::hand_accelerations_into`] into a new `Vec` (the test oracle's form).
    pub fn hand_accelerations(&self, t: f64, q: &[f64], q_dot: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; q.len()];
        self.hand_accelerations_into(t, q, q_dot, &mut out);
        out
    }

    /// Exact helix `(q(t), q̇(t))` from `(q0, q̇0)` at `t = 0`.
    pub fn exact_solution(
        &self,
        t: f64,
        q0: &[f64],
        q_dot0: &[f64],
    ) -> Option<(Vec<f64>, Vec<f64>)> {
        let (dx, dy, vx, vy) = gyrate(self.omega(), t, q_dot0[0], q_dot0[1]);
        Some((
            vec![q0[0] + dx, q0[1] + dy, q0[2] + q_dot0[2] * t],
            vec![vx, vy, q_dot0[2]],
        ))
    }

    /// Radius `|v⊥|/|ω|` and centre `(x + ẏ/ω, y − ẋ/ω)` of the circle through a state.
    pub fn circle(&self, q: &[f64], q_dot: &[f64]) -> (f64, [f64; 2]) {
        let w = self.omega();
        (
            q_dot[0].hypot(q_dot[1]) / w.abs(),
            [q[0] + q_dot[1] / w, q[1] - q_dot[0] / w],
        )
    }
}

impl Lagrangian for Cyclotron {
    fn dof(&self) -> usize {
        3
    }
    /// `M = m·I` in Cartesian coordinates.
    fn structure(&self) -> Structure {
        Structure::new().constant_mass_matrix()
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
        half_m_v2(self.m, q_dot) + (q[0] * q_dot[1] - q[1] * q_dot[0]) * (0.5 * self.q * self.b)
    }
}

impl System for Cyclotron {
    /// The helix in the oblique projection [`oblique`] (x-y face on, z receding at 30°), with a
    /// trail: the circles about B and the drift along B both show.
    fn geometry(&self) -> Option<Geometry> {
        Some(
            Geometry::new(1, Arc::new(|q: &[f64]| vec![oblique(q[0], q[1], q[2])]))
                .with_trail(true),
        )
    }
    fn title(&self) -> String {
        "Charged particle in a uniform magnetic field (cyclotron)".into()
    }
    fn coordinates(&self) -> Vec<String> {
        vec!["x".into(), "y".into(), "z".into()]
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        named(&[("m", self.m), ("q", self.q), ("B", self.b)])
    }
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), ParameterError> {
        match name {
            "m" => self.m = check(name, value, Range::Positive)?,
            "q" => self.q = check(name, value, Range::Any)?,
            "B" => self.b = check(name, value, Range::Any)?,
            _ => return Err(unknown(name, &self.parameters())),
        }
        Ok(())
    }
    fn initial_state(&self) -> (Vec<f64>, Vec<f64>) {
        // unit circle about the origin (for ω = 1) with a slow drift along B: a helix
        (vec![1.0, 0.0, 0.0], vec![0.0, -1.0, 0.1])
    }
    fn lagrangian_text(&self) -> String {
        "0.5*m*(x_dot^2 + y_dot^2 + z_dot^2) + 0.5*q*B*(x*y_dot - y*x_dot)".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (x, y, z) = (0.3, −0.7, 2) projects to (x + ½·z·cos 30°, y + ½·z·sin 30°) =
    /// (0.3 + √3/2, −0.2): the helix's climb along B moves the body up and to the right.
    #[test]
    fn geometry_projects_the_helix_obliquely() {
        let geometry = Cyclotron::default().geometry().unwrap();
        let p = geometry.positions(&[0.3, -0.7, 2.0]);
        assert_eq!(p.len(), 1);
        let expected = [0.3 + 3f64.sqrt() / 2.0, -0.2];
        assert!((p[0][0] - expected[0]).abs() < 1e-12, "{p:?}");
        assert!((p[0][1] - expected[1]).abs() < 1e-12, "{p:?}");
        assert!(geometry.trail && geometry.links.is_empty());
    }
}
