//! The linearly damped harmonic oscillator, damping through a Rayleigh dissipation function.
//!
//! ```text
//! L = ½ m ẋ² − ½ k x²,   F = ½ c ẋ²   (generalized force −∂F/∂ẋ = −c ẋ)
//! EOM: m ẍ = −k x − c ẋ
//! exact (γ = c/(2m), Ω² = k/m − γ²):
//!   x(t) = e^{−γt} (x₀ C(t) + (ẋ₀ + γ x₀) S(t)),
//!   C, S = cos Ωt, sin(Ωt)/Ω (under-damped) | 1, t (critical) | cosh κt, sinh(κt)/κ (over-damped,
//!   κ² = −Ω²)
//! ```
//!
//! Reference: Goldstein, Poole & Safko, *Classical Mechanics*, 3rd ed., §1.5 (Rayleigh's
//! dissipation function); Taylor, *Classical Mechanics*, §5.4 (damped oscillations).

use super::{ParameterError, Range, System, check, cos_sinc, named, unknown};
use crate::lagrangian::{Lagrangian, Scalar, Structure};

/// Damped oscillator with Rayleigh dissipation `F = ½ c ẋ²` (see the [module docs](self)).
///
/// ```
/// use lagrange::systems::DampedOscillator;
/// let d = DampedOscillator { m: 1.0, k: 1.0, c: 2.0 }; // critically damped
/// // x(t) = (1 + t) e^{−t} from x₀ = 1 at rest
/// let (x, _) = d.exact_solution(2.0, &[1.0], &[0.0]).unwrap();
/// assert!((x[0] - 3.0 * (-2.0f64).exp()).abs() < 1e-15);
/// let a = lagrange::accelerations(&d, 0.0_f64, &[1.0], &[0.5]).unwrap();
/// assert!((a[0] - (-1.0 - 2.0 * 0.5)).abs() < 1e-14); // −(k x + c ẋ)/m
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DampedOscillator {
    /// Mass (> 0).
    pub m: f64,
    /// Spring constant.
    pub k: f64,
    /// Damping coefficient (>= 0).
    pub c: f64,
}

impl Default for DampedOscillator {
    fn default() -> Self {
        Self {
            m: 1.0,
            k: 1.0,
            c: 0.2,
        }
    }
}

impl DampedOscillator {
    /// Decay rate `γ = c/(2m)`.
    pub fn gamma(&self) -> f64 {
        0.5 * self.c / self.m
    }

    /// Hand-derived `ẍ = −(k x + c ẋ)/m`.
    ///
    /// Writes into `out` (at least `q.len()` long) without allocating.
    pub fn hand_accelerations_into(&self, _t: f64, q: &[f64], q_dot: &[f64], out: &mut [f64]) {
        out[0] = -(self.k * q[0] + self.c * q_dot[0]) / self.m;
    }

    /// [`Self::hand_accelerations_into`] into a new `Vec` (the test oracle's form).
    pub fn hand_accelerations(&self, t: f64, q: &[f64], q_dot: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; q.len()];
        self.hand_accelerations_into(t, q, q_dot, &mut out);
        out
    }

    /// Exact `(x(t), ẋ(t))` from `(x₀, ẋ₀)` at `t = 0` (all damping regimes).
    pub fn exact_solution(
        &self,
        t: f64,
        q0: &[f64],
        q_dot0: &[f64],
    ) -> Option<(Vec<f64>, Vec<f64>)> {
        let gamma = self.gamma();
        let w2 = self.k / self.m - gamma * gamma;
        let (c, s) = cos_sinc(w2, t);
        let (x0, b) = (q0[0], q_dot0[0] + gamma * q0[0]);
        let decay = (-gamma * t).exp();
        let x = decay * (x0 * c + b * s);
        let v = -gamma * x + decay * (-w2 * s * x0 + b * c);
        Some((vec![x], vec![v]))
    }
}

impl Lagrangian for DampedOscillator {
    fn dof(&self) -> usize {
        1
    }
    /// `M` is diagonal with the constant masses.
    fn structure(&self) -> Structure {
        let s = Structure::new().constant_mass_matrix();
        if self.c != 0.0 { s.dissipation() } else { s }
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
        q_dot[0] * q_dot[0] * (0.5 * self.m) - q[0] * q[0] * (0.5 * self.k)
    }
    fn dissipation<D: Scalar>(&self, _t: D, _q: &[D], q_dot: &[D]) -> D {
        q_dot[0] * q_dot[0] * (0.5 * self.c)
    }
}

impl System for DampedOscillator {
    fn title(&self) -> String {
        "Damped harmonic oscillator (Rayleigh dissipation)".into()
    }
    fn coordinates(&self) -> Vec<String> {
        vec!["x".into()]
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        named(&[("m", self.m), ("k", self.k), ("c", self.c)])
    }
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), ParameterError> {
        match name {
            "m" => self.m = check(name, value, Range::Positive)?,
            "k" => self.k = check(name, value, Range::Any)?,
            "c" => self.c = check(name, value, Range::NonNegative)?,
            _ => return Err(unknown(name, &self.parameters())),
        }
        Ok(())
    }
    fn initial_state(&self) -> (Vec<f64>, Vec<f64>) {
        (vec![1.0], vec![0.0])
    }
    fn lagrangian_text(&self) -> String {
        "0.5*m*x_dot^2 - 0.5*k*x^2".into()
    }
    fn dissipation_text(&self) -> Option<String> {
        Some("0.5*c*x_dot^2".into())
    }
}
