//! The Kepler problem in the orbital plane, Cartesian coordinates (a test mass `m` about a fixed
//! centre of gravitational parameter `μ = GM`; equivalently the reduced two-body problem).
//!
//! ```text
//! L = ½ m (ẋ² + ẏ²) + m μ / √(x² + y²)
//! EOM: r̈ = −μ r / |r|³
//! exact (bound orbits, E = ½v² − μ/r < 0): a = −μ/(2E), n = √(μ/a³), period T = 2π √(a³/μ);
//!   Lagrange f, g coefficients in the eccentric-anomaly change ΔE, from Kepler's equation
//!   n t = ΔE − (1 − r₀/a) sin ΔE + (r₀·v₀)/√(μa) (1 − cos ΔE)
//! ```
//!
//! Reference: Goldstein, Poole & Safko, *Classical Mechanics*, 3rd ed., §3.7–3.8 (Kepler's
//! equation); Landau & Lifshitz, *Mechanics*, §15; Battin, *An Introduction to the Mathematics
//! and Methods of Astrodynamics*, ch. 4 (f and g functions).

use super::geometry::Geometry;
use super::{ParameterError, Range, System, check, half_m_v2, named, unknown};
use crate::lagrangian::{Lagrangian, Scalar, Structure};
use std::f64::consts::TAU;
use std::sync::Arc;

/// The planar Kepler problem (see the [module docs](self)).
///
/// ```
/// use lagrange::systems::Kepler;
/// let k = Kepler::default();
/// // circular orbit of radius 1 about μ = 1: period 2π
/// let t = k.period(&[1.0, 0.0], &[0.0, 1.0]).unwrap();
/// assert!((t - 2.0 * std::f64::consts::PI).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Kepler {
    /// Mass of the orbiting body (> 0); it scales L and drops out of the motion.
    pub m: f64,
    /// Gravitational parameter `μ = GM` of the centre (> 0; parameter name `mu`).
    pub mu: f64,
}

impl Default for Kepler {
    fn default() -> Self {
        Self { m: 1.0, mu: 1.0 }
    }
}

impl Kepler {
    /// Hand-derived `r̈ = −μ r/|r|³`.
    ///
    /// Writes into `out` (at least `q.len()` long) without allocating.
    pub fn hand_accelerations_into(&self, _t: f64, q: &[f64], _q_dot: &[f64], out: &mut [f64]) {
        let r2 = q[0] * q[0] + q[1] * q[1];
        let f = -self.mu / (r2 * r2.sqrt());
        let out = &mut out[..2];
        out[0] = f * q[0];
        out[1] = f * q[1];
    }

    /// [`Self::hand_accelerations_into`] into a new `Vec` (the test oracle's form).
    pub fn hand_accelerations(&self, t: f64, q: &[f64], q_dot: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; q.len()];
        self.hand_accelerations_into(t, q, q_dot, &mut out);
        out
    }

    /// Semi-major axis `a = −μ/(2E)` of the orbit through a state; `None` unless bound.
    pub fn semi_major_axis(&self, q: &[f64], q_dot: &[f64]) -> Option<f64> {
        let r = q[0].hypot(q[1]);
        let energy = 0.5 * (q_dot[0] * q_dot[0] + q_dot[1] * q_dot[1]) - self.mu / r;
        (energy < 0.0).then(|| -self.mu / (2.0 * energy))
    }

    /// Orbital period `2π √(a³/μ)`; `None` unless the orbit is bound.
    pub fn period(&self, q: &[f64], q_dot: &[f64]) -> Option<f64> {
        let a = self.semi_major_axis(q, q_dot)?;
        Some(TAU * (a * a * a / self.mu).sqrt())
    }

    /// Eccentricity `|e|`, `e = ((v² − μ/r) r − (r·v) v)/μ`.
    pub fn eccentricity(&self, q: &[f64], q_dot: &[f64]) -> f64 {
        let r = q[0].hypot(q[1]);
        let v2 = q_dot[0] * q_dot[0] + q_dot[1] * q_dot[1];
        let rv = q[0] * q_dot[0] + q[1] * q_dot[1];
        let c = v2 - self.mu / r;
        ((c * q[0] - rv * q_dot[0]) / self.mu).hypot((c * q[1] - rv * q_dot[1]) / self.mu)
    }

    /// Exact `(q(t), q̇(t))` from `(q0, q̇0)` at `t = 0` for bound orbits (`None` otherwise, or
    /// for a radial orbit through the centre).
    pub fn exact_solution(
        &self,
        t: f64,
        q0: &[f64],
        q_dot0: &[f64],
    ) -> Option<(Vec<f64>, Vec<f64>)> {
        let mu = self.mu;
        let a = self.semi_major_axis(q0, q_dot0)?;
        let r0 = q0[0].hypot(q0[1]);
        let n = (mu / (a * a * a)).sqrt();
        let period = TAU / n;
        // whole periods change nothing: reduce t to [0, T)
        let dt = t - (t / period).floor() * period;
        let ecos = 1.0 - r0 / a; // e cos E₀
        let esin = (q0[0] * q_dot0[0] + q0[1] * q_dot0[1]) / (mu * a).sqrt(); // e sin E₀
        if ecos.hypot(esin) >= 1.0 {
            return None;
        }
        let mean = n * dt;
        let kepler = |de: f64| de - ecos * de.sin() + esin * (1.0 - de.cos()) - mean;
        // the root lies in [M − 2e, M + 2e] ⊂ [M − 2, M + 2]; safeguarded Newton
        let (mut lo, mut hi) = (mean - 2.0, mean + 2.0);
        let mut de = mean;
        for _ in 0..100 {
            let f = kepler(de);
            if f > 0.0 {
                hi = de
            } else {
                lo = de
            }
            let fp = 1.0 - ecos * de.cos() + esin * de.sin(); // = r/a > 0
            let mut next = de - f / fp;
            if !(next > lo && next < hi) {
                next = 0.5 * (lo + hi);
            }
            let done = (next - de).abs() <= 1e-15 * (1.0 + de.abs());
            de = next;
            if done {
                break;
            }
        }
        let (s, c) = de.sin_cos();
        let r = a + (r0 - a) * c + esin * a * s;
        let f = 1.0 - a / r0 * (1.0 - c);
        let g = dt - (de - s) / n;
        let fdot = -(mu * a).sqrt() * s / (r * r0);
        let gdot = 1.0 - a / r * (1.0 - c);
        Some((
            vec![f * q0[0] + g * q_dot0[0], f * q0[1] + g * q_dot0[1]],
            vec![
                fdot * q0[0] + gdot * q_dot0[0],
                fdot * q0[1] + gdot * q_dot0[1],
            ],
        ))
    }
}

impl Lagrangian for Kepler {
    fn dof(&self) -> usize {
        2
    }
    /// `M = m·I` in Cartesian coordinates.
    fn structure(&self) -> Structure {
        Structure::new().constant_mass_matrix()
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
        half_m_v2(self.m, q_dot) + (q[0] * q[0] + q[1] * q[1]).sqrt().recip() * (self.m * self.mu)
    }
}

impl System for Kepler {
    /// The orbiting body with its trail; the centre of force is the origin.
    fn geometry(&self) -> Option<Geometry> {
        Some(
            Geometry::new(2, Arc::new(|q: &[f64]| vec![[0.0, 0.0], [q[0], q[1]]])).with_trail(true),
        )
    }
    fn title(&self) -> String {
        "Kepler problem (planar, Cartesian)".into()
    }
    fn coordinates(&self) -> Vec<String> {
        vec!["x".into(), "y".into()]
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        named(&[("m", self.m), ("mu", self.mu)])
    }
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), ParameterError> {
        match name {
            "m" => self.m = check(name, value, Range::Positive)?,
            "mu" => self.mu = check(name, value, Range::Positive)?,
            _ => return Err(unknown(name, &self.parameters())),
        }
        Ok(())
    }
    fn initial_state(&self) -> (Vec<f64>, Vec<f64>) {
        // perihelion at r = 1 with 1.2× circular speed: e = 0.44, a = 1/(2 − 1.44)
        (vec![1.0, 0.0], vec![0.0, 1.2 * self.mu.sqrt()])
    }
    fn lagrangian_text(&self) -> String {
        "0.5*m*(x_dot^2 + y_dot^2) + m*mu/sqrt(x^2 + y^2)".into()
    }
}
