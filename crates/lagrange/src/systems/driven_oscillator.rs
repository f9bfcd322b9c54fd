//! The harmonically driven (undamped) oscillator: an explicitly time-dependent Lagrangian.
//!
//! ```text
//! L = ½ m ẋ² − ½ k x² + x F₀ cos(Ω t)
//! EOM: m ẍ = −k x + F₀ cos Ωt
//! exact (ω₀² = k/m > 0, σ = ω₀ + |Ω|, δ = ω₀ − |Ω|):
//!   x(t) = x₀ cos ω₀t + ẋ₀ sin(ω₀t)/ω₀ + (F₀/(m σ)) · 2 sin(σt/2) · sin(δt/2)/δ
//!   (= x₀ cos ω₀t + ẋ₀ sin ω₀t/ω₀ + F₀ (cos Ωt − cos ω₀t)/(m(ω₀² − Ω²)); at resonance δ → 0 the
//!   last term becomes F₀ t sin(ω₀t)/(2mω₀))
//! ```
//!
//! The Jacobi integral `h = ½mẋ² + ½kx² − xF₀cos Ωt` is not conserved: `dh/dt = −∂L/∂t`.
//! Reference: Landau & Lifshitz, *Mechanics*, 3rd ed., §22 (forced oscillations, eqs. 22.4–22.5
//! and the resonant limit); Taylor, *Classical Mechanics*, §5.5.

use super::{ParameterError, Range, System, check, named, unknown};
use crate::lagrangian::{Lagrangian, Scalar, Structure};

/// Driven oscillator `L = ½ m ẋ² − ½ k x² + x F₀ cos Ωt` (see the [module docs](self)).
///
/// ```
/// use lagrange::systems::DrivenOscillator;
/// let d = DrivenOscillator { m: 1.0, k: 1.0, f0: 2.0, omega: 1.0 }; // exactly at resonance
/// // from rest at the origin: x(t) = F₀ t sin(t) / 2
/// let t = 10.0;
/// let (x, _) = d.exact_solution(t, &[0.0], &[0.0]).unwrap();
/// assert!((x[0] - t * t.sin()).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DrivenOscillator {
    /// Mass (> 0).
    pub m: f64,
    /// Spring constant.
    pub k: f64,
    /// Drive amplitude (a force; parameter name `F0`).
    pub f0: f64,
    /// Drive angular frequency (parameter name `Omega`).
    pub omega: f64,
}

impl Default for DrivenOscillator {
    fn default() -> Self {
        Self {
            m: 1.0,
            k: 1.0,
            f0: 0.5,
            omega: 0.8,
        }
    }
}

/// `sin(δt/2)/δ` and its t-derivative `cos(δt/2)/2`, continuous through `δ = 0`.
fn half_sinc(delta: f64, t: f64) -> (f64, f64) {
    let x = 0.5 * delta * t;
    let (s, c) = x.sin_cos();
    (if x == 0.0 { 0.5 * t } else { s / delta }, 0.5 * c)
}

impl DrivenOscillator {
    /// Hand-derived `ẍ = (−k x + F₀ cos Ωt)/m`.
    ///
    /// Writes into `out` (at least `q.len()` long) without allocating.
    pub fn hand_accelerations_into(&self, t: f64, q: &[f64], _q_dot: &[f64], out: &mut [f64]) {
        out[0] = (self.f0 * (self.omega * t).cos() - self.k * q[0]) / self.m;
    }

    /// [`Self::hand_accelerations_into`] into a new `Vec` (the test oracle's form).
    pub fn hand_accelerations(&self, t: f64, q: &[f64], q_dot: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; q.len()];
        self.hand_accelerations_into(t, q, q_dot, &mut out);
        out
    }

    /// Exact `(x(t), ẋ(t))` from `(x₀, ẋ₀)` at `t = 0`, including resonance; `None` unless
    /// `k/m > 0`.
    pub fn exact_solution(
        &self,
        t: f64,
        q0: &[f64],
        q_dot0: &[f64],
    ) -> Option<(Vec<f64>, Vec<f64>)> {
        let w2 = self.k / self.m;
        if w2 <= 0.0 {
            return None;
        }
        let w0 = w2.sqrt();
        let (sw, cw) = (w0 * t).sin_cos();
        let (x0, v0) = (q0[0], q_dot0[0]);
        let free_x = x0 * cw + v0 * sw / w0;
        let free_v = -x0 * w0 * sw + v0 * cw;
        let drive = self.omega.abs();
        let (sigma, delta) = (w0 + drive, w0 - drive);
        let amp = self.f0 / (self.m * sigma);
        let (ss, cs) = (0.5 * sigma * t).sin_cos();
        let (h, h_dot) = half_sinc(delta, t);
        let forced_x = amp * 2.0 * ss * h;
        let forced_v = amp * (sigma * cs * h + 2.0 * ss * h_dot);
        Some((vec![free_x + forced_x], vec![free_v + forced_v]))
    }
}

impl Lagrangian for DrivenOscillator {
    fn dof(&self) -> usize {
        1
    }
    /// `M` is diagonal with the constant masses.
    fn structure(&self) -> Structure {
        Structure::new().constant_mass_matrix()
    }
    fn lagrangian<D: Scalar>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
        q_dot[0] * q_dot[0] * (0.5 * self.m) - q[0] * q[0] * (0.5 * self.k)
            + q[0] * (t * self.omega).cos() * self.f0
    }
}

impl System for DrivenOscillator {
    fn title(&self) -> String {
        "Harmonically driven oscillator".into()
    }
    fn coordinates(&self) -> Vec<String> {
        vec!["x".into()]
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        named(&[
            ("m", self.m),
            ("k", self.k),
            ("F0", self.f0),
            ("Omega", self.omega),
        ])
    }
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), ParameterError> {
        match name {
            "m" => self.m = check(name, value, Range::Positive)?,
            "k" => self.k = check(name, value, Range::Any)?,
            "F0" => self.f0 = check(name, value, Range::Any)?,
            "Omega" => self.omega = check(name, value, Range::Any)?,
            _ => return Err(unknown(name, &self.parameters())),
        }
        Ok(())
    }
    fn initial_state(&self) -> (Vec<f64>, Vec<f64>) {
        // from rest at the origin: beats between ω₀ and Ω
        (vec![0.0], vec![0.0])
    }
    fn lagrangian_text(&self) -> String {
        "0.5*m*x_dot^2 - 0.5*k*x^2 + x*F0*cos(Omega*t)".into()
    }
}
