//! The elastic (spring) pendulum: a mass on a spring of natural length `l0`, swinging in a
//! vertical plane; polar coordinates about the pivot, θ from the downward vertical.
//!
//! ```text
//! L = ½ m (ṙ² + r² θ̇²) + m g r cos θ − ½ k (r − l0)²
//! EOM: r̈ = r θ̇² + g cos θ − (k/m)(r − l0)
//!      θ̈ = −(g sin θ + 2 ṙ θ̇)/r
//! ```
//!
//! Reference: Taylor, *Classical Mechanics* (2005), ch. 7 (Lagrange's equations in polar
//! coordinates); P. Lynch, "Resonant motions of the three-dimensional elastic pendulum",
//! *Int. J. Non-Linear Mech.* 37 (2002). No closed-form solution (2:1 resonance between the
//! spring and swing modes when `k/m = 4g/l_eq`).

use super::geometry::{Geometry, LinkKind};
use super::{ParameterError, Range, System, check, named, unknown};
use crate::lagrangian::{Lagrangian, Scalar};
use std::sync::Arc;

/// The spring pendulum (see the [module docs](self)).
///
/// ```
/// use lagrange::systems::SpringPendulum;
/// let s = SpringPendulum::default();
/// // vertical equilibrium: r = l0 + m g / k
/// let r_eq = s.l0 + s.m * s.g / s.k;
/// let a = lagrange::accelerations(&s, 0.0_f64, &[r_eq, 0.0], &[0.0, 0.0]).unwrap();
/// assert!(a[0].abs() < 1e-13 && a[1].abs() < 1e-15);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SpringPendulum {
    /// Bob mass (> 0).
    pub m: f64,
    /// Spring constant.
    pub k: f64,
    /// Natural length of the spring (>= 0).
    pub l0: f64,
    /// Gravitational acceleration.
    pub g: f64,
}

impl Default for SpringPendulum {
    fn default() -> Self {
        Self {
            m: 1.0,
            k: 40.0,
            l0: 1.0,
            g: 9.81,
        }
    }
}

impl SpringPendulum {
    /// Hand-derived q̈ `(r̈, θ̈)` (module docs).
    ///
    /// Writes into `out` (at least `q.len()` long) without allocating.
    pub fn hand_accelerations_into(&self, _t: f64, q: &[f64], q_dot: &[f64], out: &mut [f64]) {
        let (r, th) = (q[0], q[1]);
        let (rd, thd) = (q_dot[0], q_dot[1]);
        let (s, c) = th.sin_cos();
        let out = &mut out[..2];
        out[0] = r * thd * thd + self.g * c - self.k / self.m * (r - self.l0);
        out[1] = -(self.g * s + 2.0 * rd * thd) / r;
    }

    /// [`Self::hand_accelerations_into`] into a new `Vec` (the test oracle's form).
    pub fn hand_accelerations(&self, t: f64, q: &[f64], q_dot: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; q.len()];
        self.hand_accelerations_into(t, q, q_dot, &mut out);
        out
    }
}

impl Lagrangian for SpringPendulum {
    fn dof(&self) -> usize {
        2
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
        let (r, th) = (q[0], q[1]);
        let (rd, thd) = (q_dot[0], q_dot[1]);
        let stretch = r - D::from(self.l0);
        (rd * rd + r * r * thd * thd) * (0.5 * self.m) + r * th.cos() * (self.m * self.g)
            - stretch * stretch * (0.5 * self.k)
    }
}

impl System for SpringPendulum {
    /// A spring of length r from the pivot to the bob.
    fn geometry(&self) -> Option<Geometry> {
        Some(
            Geometry::new(
                1,
                Arc::new(|q: &[f64]| vec![[q[0] * q[1].sin(), -q[0] * q[1].cos()]]),
            )
            .link(None, Some(0), LinkKind::Spring),
        )
    }
    fn title(&self) -> String {
        "Elastic (spring) pendulum".into()
    }
    fn coordinates(&self) -> Vec<String> {
        vec!["r".into(), "theta".into()]
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        named(&[("m", self.m), ("k", self.k), ("l0", self.l0), ("g", self.g)])
    }
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), ParameterError> {
        match name {
            "m" => self.m = check(name, value, Range::Positive)?,
            "k" => self.k = check(name, value, Range::Any)?,
            "l0" => self.l0 = check(name, value, Range::NonNegative)?,
            "g" => self.g = check(name, value, Range::Any)?,
            _ => return Err(unknown(name, &self.parameters())),
        }
        Ok(())
    }
    fn initial_state(&self) -> (Vec<f64>, Vec<f64>) {
        // stretched 20 % and swung out by 0.5 rad, at rest
        (vec![1.2 * self.l0.max(0.1), 0.5], vec![0.0, 0.0])
    }
    fn lagrangian_text(&self) -> String {
        "0.5*m*(r_dot^2 + r^2*theta_dot^2) + m*g*r*cos(theta) - 0.5*k*(r - l0)^2".into()
    }
}
