//! The simple (plane, rigid) pendulum.
//!
//! ```text
//! L = ½ m l² θ̇² + m g l cos θ
//! EOM: θ̈ = −(g/l) sin θ
//! exact (ω₀² = g/l, k² = sin²(θ₀/2) + θ̇₀²/(4ω₀²)):
//!   libration (k < 1): sin(θ/2) = k sn(ω₀t + u₀ | k²),  θ̇ = 2kω₀ cn(ω₀t + u₀ | k²)
//!   rotation  (k > 1): θ/2 = am(kω₀t + u₀ | 1/k²),      θ̇ = 2kω₀ dn(kω₀t + u₀ | 1/k²)
//! ```
//!
//! Reference: Landau & Lifshitz, *Mechanics*, 3rd ed., §11 problem 1 (the period is
//! `4 K(k²)/ω₀`). Elliptic functions: Abramowitz & Stegun §16.4
//! (AGM for sn/cn/dn), Carlson (1995) `R_F` for the incomplete integral `F(φ|m)`.

use super::geometry::{Geometry, LinkKind};
use super::{ParameterError, Range, System, check, named, unknown};
use crate::lagrangian::{Lagrangian, Scalar, Structure};
use std::f64::consts::PI;
use std::sync::Arc;

/// `L = ½ m l² θ̇² + m g l cos θ` (see the [module docs](self)).
///
/// ```
/// use lagrange::systems::Pendulum;
/// let p = Pendulum::default();
/// // small-angle period 2π sqrt(l/g) = 2.00607 s for l = 1 m, g = 9.81 m/s²; at θ₀ = 0.1 the
/// // exact (elliptic) period is longer by the factor ≈ 1 + θ₀²/16
/// let t = p.period(0.1, 0.0).unwrap();
/// assert!((t / (2.0 * std::f64::consts::PI * (1.0f64 / 9.81).sqrt()) - 1.000625).abs() < 1e-5);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Pendulum {
    /// Bob mass (> 0).
    pub m: f64,
    /// Rod length (> 0).
    pub l: f64,
    /// Gravitational acceleration.
    pub g: f64,
}

impl Default for Pendulum {
    fn default() -> Self {
        Self {
            m: 1.0,
            l: 1.0,
            g: 9.81,
        }
    }
}

impl Pendulum {
    /// Hand-derived `θ̈ = −(g/l) sin θ`.
    ///
    /// Writes into `out` (at least `q.len()` long) without allocating.
    pub fn hand_accelerations_into(&self, _t: f64, q: &[f64], _q_dot: &[f64], out: &mut [f64]) {
        out[0] = -self.g / self.l * q[0].sin();
    }

    /// [`Self::hand_accelerations_into`] into a new `Vec` (the test oracle's form).
    pub fn hand_accelerations(&self, t: f64, q: &[f64], q_dot: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; q.len()];
        self.hand_accelerations_into(t, q, q_dot, &mut out);
        out
    }

    /// The elliptic modulus squared `k² = sin²(θ/2) + θ̇²/(4ω₀²)` (`< 1`: libration, `> 1`:
    /// rotation); `None` unless `g/l > 0`.
    pub fn modulus_squared(&self, theta: f64, theta_dot: f64) -> Option<f64> {
        let w2 = self.g / self.l;
        (w2 > 0.0).then(|| (theta / 2.0).sin().powi(2) + theta_dot * theta_dot / (4.0 * w2))
    }

    /// Exact period of the motion through `(θ, θ̇)`: `4K(k²)/ω₀` for libration, the time per full
    /// turn `2K(1/k²)/(kω₀)` for rotation; `None` on the separatrix (`k = 1`) or when
    /// `g/l ≤ 0`.
    pub fn period(&self, theta: f64, theta_dot: f64) -> Option<f64> {
        let k2 = self.modulus_squared(theta, theta_dot)?;
        let w0 = (self.g / self.l).sqrt();
        if k2 < 1.0 {
            Some(4.0 * complete_k(k2) / w0)
        } else if k2 > 1.0 {
            Some(2.0 * complete_k(1.0 / k2) / (k2.sqrt() * w0))
        } else {
            None
        }
    }

    /// Exact `(θ(t), θ̇(t))` from `(θ₀, θ̇₀)` at `t = 0` by Jacobi elliptic functions; `None` on
    /// the separatrix or when `g/l ≤ 0`.
    pub fn exact_solution(
        &self,
        t: f64,
        q0: &[f64],
        q_dot0: &[f64],
    ) -> Option<(Vec<f64>, Vec<f64>)> {
        let (th0, v0) = (q0[0], q_dot0[0]);
        let k2 = self.modulus_squared(th0, v0)?;
        let w0 = (self.g / self.l).sqrt();
        if k2 == 0.0 {
            return Some((vec![th0], vec![0.0]));
        }
        let k = k2.sqrt();
        if k2 < 1.0 {
            // reduce θ₀ to (−π, π] and add the whole turns back
            let turns = ((th0 + PI) / (2.0 * PI)).floor();
            let th_r = th0 - 2.0 * PI * turns;
            let phi0 = ((th_r / 2.0).sin() / k).atan2(v0 / (2.0 * k * w0));
            let u = incomplete_f(phi0, k2) + w0 * t;
            let (sn, cn, _) = jacobi(u, k2);
            let theta = 2.0 * (k * sn).clamp(-1.0, 1.0).asin() + 2.0 * PI * turns;
            Some((vec![theta], vec![2.0 * k * w0 * cn]))
        } else if k2 > 1.0 {
            let m = 1.0 / k2;
            let dir = if v0 < 0.0 { -1.0 } else { 1.0 };
            let u = incomplete_f(dir * th0 / 2.0, m) + k * w0 * t;
            let (_, _, dn) = jacobi(u, m);
            Some((
                vec![dir * 2.0 * amplitude(u, m)],
                vec![dir * 2.0 * k * w0 * dn],
            ))
        } else {
            None
        }
    }
}

impl Lagrangian for Pendulum {
    fn dof(&self) -> usize {
        1
    }
    /// `M = m l²`.
    fn structure(&self) -> Structure {
        Structure::new().constant_mass_matrix()
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
        let ml = self.m * self.l;
        q_dot[0] * q_dot[0] * (0.5 * ml * self.l) + q[0].cos() * (ml * self.g)
    }
}

impl System for Pendulum {
    /// A rod from the pivot to one bob.
    fn geometry(&self) -> Option<Geometry> {
        let l = self.l;
        Some(
            Geometry::new(
                1,
                Arc::new(move |q: &[f64]| vec![[l * q[0].sin(), -l * q[0].cos()]]),
            )
            .link(None, Some(0), LinkKind::Rod),
        )
    }
    fn title(&self) -> String {
        "Simple pendulum".into()
    }
    fn coordinates(&self) -> Vec<String> {
        vec!["theta".into()]
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        named(&[("m", self.m), ("l", self.l), ("g", self.g)])
    }
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), ParameterError> {
        match name {
            "m" => self.m = check(name, value, Range::Positive)?,
            "l" => self.l = check(name, value, Range::Positive)?,
            "g" => self.g = check(name, value, Range::Any)?,
            _ => return Err(unknown(name, &self.parameters())),
        }
        Ok(())
    }
    fn initial_state(&self) -> (Vec<f64>, Vec<f64>) {
        (vec![1.0], vec![0.0])
    }
    fn lagrangian_text(&self) -> String {
        "0.5*m*l^2*theta_dot^2 + m*g*l*cos(theta)".into()
    }
}

// ---------------------------------------------------------------------------------------------
// Elliptic functions (parameter m = k²), enough for the exact pendulum.

/// Carlson's symmetric integral `R_F(x, y, z)` (duplication algorithm, Carlson 1995).
fn carlson_rf(mut x: f64, mut y: f64, mut z: f64) -> f64 {
    loop {
        let (sx, sy, sz) = (x.sqrt(), y.sqrt(), z.sqrt());
        let lambda = sx * (sy + sz) + sy * sz;
        x = 0.25 * (x + lambda);
        y = 0.25 * (y + lambda);
        z = 0.25 * (z + lambda);
        let avg = (x + y + z) / 3.0;
        let (dx, dy, dz) = ((avg - x) / avg, (avg - y) / avg, (avg - z) / avg);
        if dx.abs().max(dy.abs()).max(dz.abs()) < 1e-4 {
            // truncation error O(δ⁶) ≈ 1e-24
            let e2 = dx * dy - dz * dz;
            let e3 = dx * dy * dz;
            return (1.0 + (e2 / 24.0 - 0.1 - 3.0 * e3 / 44.0) * e2 + e3 / 14.0) / avg.sqrt();
        }
    }
}

/// Complete elliptic integral of the first kind `K(m)`, `0 ≤ m < 1`.
fn complete_k(m: f64) -> f64 {
    carlson_rf(0.0, 1.0 - m, 1.0)
}

/// Incomplete elliptic integral of the first kind `F(φ | m)` for any real φ, `0 ≤ m < 1`
/// (`F(φ + jπ) = F(φ) + 2jK`).
fn incomplete_f(phi: f64, m: f64) -> f64 {
    let j = (phi / PI).round();
    let r = phi - j * PI;
    let (s, c) = r.sin_cos();
    s * carlson_rf(c * c, 1.0 - m * s * s, 1.0) + 2.0 * j * complete_k(m)
}

/// Jacobi amplitude `am(u | m)` by the AGM / descending Landen method (A&S 16.4), `0 ≤ m < 1`.
fn amplitude(u: f64, m: f64) -> f64 {
    if m == 0.0 {
        return u;
    }
    let mut a = [0.0; 16];
    let mut c = [0.0; 16];
    a[0] = 1.0;
    c[0] = m.sqrt();
    let mut b = (1.0 - m).sqrt();
    let mut n = 0;
    while c[n].abs() > f64::EPSILON && n < 15 {
        let an = a[n];
        a[n + 1] = 0.5 * (an + b);
        c[n + 1] = 0.5 * (an - b);
        b = (an * b).sqrt();
        n += 1;
    }
    let mut phi = (1u64 << n) as f64 * a[n] * u;
    for i in (1..=n).rev() {
        phi = 0.5 * (phi + (c[i] / a[i] * phi.sin()).asin());
    }
    phi
}

/// `(sn, cn, dn)(u | m)`, `0 ≤ m < 1`.
fn jacobi(u: f64, m: f64) -> (f64, f64, f64) {
    let (sn, cn) = amplitude(u, m).sin_cos();
    (sn, cn, (1.0 - m * sn * sn).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elliptic_reference_values() {
        // K(0) = π/2; K(0.5) = 1.8540746773013719 (A&S table 17.1); F(π/2 | m) = K(m)
        assert!((complete_k(0.0) - PI / 2.0).abs() < 1e-15);
        assert!((complete_k(0.5) - 1.854_074_677_301_371_9).abs() < 1e-14);
        assert!((incomplete_f(PI / 2.0, 0.7) - complete_k(0.7)).abs() < 1e-14);
        // am(F(φ|m) | m) = φ, including beyond one half-turn
        for &phi in &[0.3, 1.4, 2.9, -4.0, 7.5] {
            assert!(
                (amplitude(incomplete_f(phi, 0.8), 0.8) - phi).abs() < 1e-12,
                "{phi}"
            );
        }
    }
}
