//! The planar double pendulum (two point masses on massless rigid rods).
//!
//! ```text
//! L = ½(m₁+m₂) l₁² θ̇₁² + ½ m₂ l₂² θ̇₂² + m₂ l₁ l₂ θ̇₁ θ̇₂ cos(θ₁−θ₂)
//!     + (m₁+m₂) g l₁ cos θ₁ + m₂ g l₂ cos θ₂
//! EOM (c = cos(θ₁−θ₂), s = sin(θ₁−θ₂)):
//!   (m₁+m₂) l₁² θ̈₁ + m₂ l₁ l₂ c θ̈₂ = −m₂ l₁ l₂ s θ̇₂² − (m₁+m₂) g l₁ sin θ₁
//!   m₂ l₁ l₂ c θ̈₁ + m₂ l₂² θ̈₂     =  m₂ l₁ l₂ s θ̇₁² − m₂ g l₂ sin θ₂
//! ```
//!
//! Angles from the downward vertical. Reference: Landau & Lifshitz, *Mechanics*, 3rd ed., §5
//! problem 1; Taylor, *Classical Mechanics*, §11.4. No closed-form solution (chaotic for large
//! amplitudes).

use super::geometry::{Geometry, LinkKind};
use super::{ParameterError, Range, System, check, named, unknown};
use crate::lagrangian::{Lagrangian, Scalar};
use std::sync::Arc;

/// The double pendulum (see the [module docs](self)).
///
/// ```
/// use lagrange::systems::DoublePendulum;
/// let dp = DoublePendulum::default();
/// // hanging straight down at rest: no acceleration
/// let a = lagrange::accelerations(&dp, 0.0_f64, &[0.0, 0.0], &[0.0, 0.0]).unwrap();
/// assert!(a[0].abs() < 1e-15 && a[1].abs() < 1e-15);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DoublePendulum {
    /// Upper mass (> 0).
    pub m1: f64,
    /// Lower mass (> 0).
    pub m2: f64,
    /// Upper rod length (> 0).
    pub l1: f64,
    /// Lower rod length (> 0).
    pub l2: f64,
    /// Gravitational acceleration.
    pub g: f64,
}

impl Default for DoublePendulum {
    fn default() -> Self {
        Self {
            m1: 1.0,
            m2: 1.0,
            l1: 1.0,
            l2: 1.0,
            g: 9.81,
        }
    }
}

impl DoublePendulum {
    /// Hand-derived q̈: the 2 × 2 system of the module docs solved by Cramer's rule.
    ///
    /// Writes into `out` (at least `q.len()` long) without allocating.
    pub fn hand_accelerations_into(&self, _t: f64, q: &[f64], q_dot: &[f64], out: &mut [f64]) {
        let (m1, m2, l1, l2, g) = (self.m1, self.m2, self.l1, self.l2, self.g);
        let (s, c) = (q[0] - q[1]).sin_cos();
        let mt = m1 + m2;
        let a11 = mt * l1 * l1;
        let a12 = m2 * l1 * l2 * c;
        let a22 = m2 * l2 * l2;
        let f1 = -m2 * l1 * l2 * s * q_dot[1] * q_dot[1] - mt * g * l1 * q[0].sin();
        let f2 = m2 * l1 * l2 * s * q_dot[0] * q_dot[0] - m2 * g * l2 * q[1].sin();
        let det = a11 * a22 - a12 * a12;
        let out = &mut out[..2];
        out[0] = (f1 * a22 - a12 * f2) / det;
        out[1] = (a11 * f2 - a12 * f1) / det;
    }

    /// [`Self::hand_accelerations_into`] into a new `Vec` (the test oracle's form).
    pub fn hand_accelerations(&self, t: f64, q: &[f64], q_dot: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; q.len()];
        self.hand_accelerations_into(t, q, q_dot, &mut out);
        out
    }
}

impl Lagrangian for DoublePendulum {
    fn dof(&self) -> usize {
        2
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
        let (m1, m2, l1, l2, g) = (self.m1, self.m2, self.l1, self.l2, self.g);
        let mt = m1 + m2;
        let (w1, w2) = (q_dot[0], q_dot[1]);
        w1 * w1 * (0.5 * mt * l1 * l1)
            + w2 * w2 * (0.5 * m2 * l2 * l2)
            + w1 * w2 * (q[0] - q[1]).cos() * (m2 * l1 * l2)
            + q[0].cos() * (mt * g * l1)
            + q[1].cos() * (m2 * g * l2)
    }
}

impl System for DoublePendulum {
    /// Two rods and two bobs: pivot → bob 1 → bob 2.
    fn geometry(&self) -> Option<Geometry> {
        let (l1, l2) = (self.l1, self.l2);
        Some(
            Geometry::new(
                2,
                Arc::new(move |q: &[f64]| {
                    let b1 = [l1 * q[0].sin(), -l1 * q[0].cos()];
                    vec![b1, [b1[0] + l2 * q[1].sin(), b1[1] - l2 * q[1].cos()]]
                }),
            )
            .link(None, Some(0), LinkKind::Rod)
            .link(Some(0), Some(1), LinkKind::Rod),
        )
    }
    fn title(&self) -> String {
        "Double pendulum".into()
    }
    fn coordinates(&self) -> Vec<String> {
        vec!["theta1".into(), "theta2".into()]
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        named(&[
            ("m1", self.m1),
            ("m2", self.m2),
            ("l1", self.l1),
            ("l2", self.l2),
            ("g", self.g),
        ])
    }
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), ParameterError> {
        match name {
            "m1" => self.m1 = check(name, value, Range::Positive)?,
            "m2" => self.m2 = check(name, value, Range::Positive)?,
            "l1" => self.l1 = check(name, value, Range::Positive)?,
            "l2" => self.l2 = check(name, value, Range::Positive)?,
            "g" => self.g = check(name, value, Range::Any)?,
            _ => return Err(unknown(name, &self.parameters())),
        }
        Ok(())
    }
    fn initial_state(&self) -> (Vec<f64>, Vec<f64>) {
        // both rods well above horizontal: the chaotic regime
        (vec![2.0, 2.5], vec![0.0, 0.0])
    }
    fn lagrangian_text(&self) -> String {
        "0.5*(m1 + m2)*l1^2*theta1_dot^2 + 0.5*m2*l2^2*theta2_dot^2 \
         + m2*l1*l2*theta1_dot*theta2_dot*cos(theta1 - theta2) \
         + (m1 + m2)*g*l1*cos(theta1) + m2*g*l2*cos(theta2)"
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bob 2 hangs from bob 1: (l1 sin θ1 + l2 sin θ2, −l1 cos θ1 − l2 cos θ2), rods pivot → 1 → 2.
    #[test]
    fn geometry_places_bob_two_at_the_end_of_both_rods() {
        let dp = DoublePendulum {
            l1: 1.3,
            l2: 0.7,
            ..Default::default()
        };
        let geometry = dp.geometry().unwrap();
        let (t1, t2) = (0.4_f64, -1.1_f64);
        let p = geometry.positions(&[t1, t2]);
        assert_eq!(p.len(), 2);
        let expected = [
            1.3 * t1.sin() + 0.7 * t2.sin(),
            -1.3 * t1.cos() - 0.7 * t2.cos(),
        ];
        assert!((p[1][0] - expected[0]).abs() < 1e-12 && (p[1][1] - expected[1]).abs() < 1e-12);
        assert_eq!(geometry.links.len(), 2);
        assert!(geometry.has_pivot());
    }
}
