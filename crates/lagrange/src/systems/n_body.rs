//! `N` point masses in the plane under softened Newtonian gravity (Plummer softening ε).
//!
//! ```text
//! L = Σᵢ ½ mᵢ |ṙᵢ|² + Σᵢ<ⱼ G mᵢ mⱼ / √(|rᵢ − rⱼ|² + ε²)
//! EOM: r̈ᵢ = Σⱼ≠ᵢ G mⱼ (rⱼ − rᵢ) / (|rⱼ − rᵢ|² + ε²)^{3/2}
//! ```
//!
//! No closed-form solution for `N ≥ 3`; total momentum `Σ mᵢ ṙᵢ`, angular momentum and energy
//! are conserved. Coordinates are `x1, y1, x2, y2, …`. Reference: Goldstein, Poole & Safko,
//! *Classical Mechanics*, 3rd ed., §1.2 (systems of particles, conservation theorems) and §3.12
//! (the three-body problem); S. J. Aarseth, *Gravitational N-Body Simulations* (2003), ch. 2
//! (softening); Binney & Tremaine, *Galactic Dynamics*, 2nd ed., §2.2 (the Plummer potential).
//!
//! `L` is a sum of pair terms (O(N²) per evaluation); the hand EOM is O(N²) using each pair once.

use super::geometry::Geometry;
use super::{ParameterError, Range, System, check, indexed, named, unknown};
use crate::lagrangian::{Lagrangian, Scalar, Structure};
use std::f64::consts::TAU;
use std::sync::Arc;

/// Softened planar N-body gravity (see the [module docs](self)).
///
/// ```
/// use lagrange::systems::NBody;
/// let s = NBody { masses: vec![1.0, 3.0], g: 2.0, eps: 0.0 };
/// // two bodies 2 apart: |r̈₁| = G m₂ / d² = 1.5, towards body 2
/// let a = s.hand_accelerations(0.0, &[0.0, 0.0, 2.0, 0.0], &[0.0; 4]);
/// assert!((a[0] - 1.5).abs() < 1e-15 && (a[2] + 0.5).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NBody {
    /// Body masses (each > 0); the length is the number of bodies `n`.
    pub masses: Vec<f64>,
    /// Gravitational constant (parameter name `G`).
    pub g: f64,
    /// Plummer softening length ε (>= 0).
    pub eps: f64,
}

impl Default for NBody {
    fn default() -> Self {
        Self {
            masses: vec![1.0; 8],
            g: 1.0,
            eps: 0.05,
        }
    }
}

impl NBody {
    /// Largest number of bodies accepted by `set_parameter("n", …)`.
    pub const MAX_BODIES: usize = 4096;

    /// Number of bodies.
    pub fn bodies(&self) -> usize {
        self.masses.len()
    }

    /// Hand-derived q̈, O(N²) with each pair evaluated once.
    ///
    /// Writes into `out` (at least `q.len()` long) without allocating.
    pub fn hand_accelerations_into(&self, _t: f64, q: &[f64], _q_dot: &[f64], out: &mut [f64]) {
        let n = self.masses.len();
        let eps2 = self.eps * self.eps;
        let a = &mut out[..2 * n];
        a.fill(0.0);
        for i in 0..n {
            let (xi, yi) = (q[2 * i], q[2 * i + 1]);
            let (mut axi, mut ayi) = (0.0, 0.0);
            for j in i + 1..n {
                let dx = q[2 * j] - xi;
                let dy = q[2 * j + 1] - yi;
                let d2 = dx * dx + dy * dy + eps2;
                let inv3 = self.g / (d2 * d2.sqrt());
                let (mi, mj) = (self.masses[i] * inv3, self.masses[j] * inv3);
                axi += mj * dx;
                ayi += mj * dy;
                a[2 * j] -= mi * dx;
                a[2 * j + 1] -= mi * dy;
            }
            a[2 * i] += axi;
            a[2 * i + 1] += ayi;
        }
    }

    /// [`Self::hand_accelerations_into`] into a new `Vec` (the test oracle's form).
    pub fn hand_accelerations(&self, t: f64, q: &[f64], q_dot: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; q.len()];
        self.hand_accelerations_into(t, q, q_dot, &mut out);
        out
    }

    /// The bodies of structured term `k`: `(i, None)` for a kinetic term, `(i, Some(j))` for
    /// a pair.
    fn term_bodies(&self, k: usize) -> (usize, Option<usize>) {
        let n = self.masses.len();
        if k < n {
            return (k, None);
        }
        let mut rest = k - n;
        for i in 0..n {
            let row = n - 1 - i;
            if rest < row {
                return (i, Some(i + 1 + rest));
            }
            rest -= row;
        }
        panic!("term index {k} out of range")
    }

    /// Total linear momentum `Σ mᵢ ṙᵢ`.
    pub fn momentum(&self, q_dot: &[f64]) -> [f64; 2] {
        let mut p = [0.0; 2];
        for (i, &m) in self.masses.iter().enumerate() {
            p[0] += m * q_dot[2 * i];
            p[1] += m * q_dot[2 * i + 1];
        }
        p
    }
}

impl Lagrangian for NBody {
    fn dof(&self) -> usize {
        2 * self.masses.len()
    }
    /// `M = diag(mᵢ, mᵢ)` in Cartesian coordinates.
    fn structure(&self) -> Structure {
        let n = self.masses.len();
        Structure::new()
            .constant_mass_matrix()
            .local_terms(n + n * (n - 1) / 2)
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
        let n = self.masses.len();
        let eps2 = D::from(self.eps * self.eps);
        let mut kinetic = D::zero();
        let mut potential = D::zero();
        for i in 0..n {
            let (vx, vy) = (q_dot[2 * i], q_dot[2 * i + 1]);
            kinetic += (vx * vx + vy * vy) * (0.5 * self.masses[i]);
            let mut pairs = D::zero();
            for j in i + 1..n {
                let dx = q[2 * j] - q[2 * i];
                let dy = q[2 * j + 1] - q[2 * i + 1];
                pairs += (dx * dx + dy * dy + eps2).sqrt().recip() * self.masses[j];
            }
            potential += pairs * self.masses[i];
        }
        kinetic + potential * self.g
    }
    /// Terms `0..n`: kinetic energy of body `i`; then one term per pair `i < j` (row-major).
    fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
        match self.term_bodies(k) {
            (i, None) => coordinates.extend([2 * i, 2 * i + 1]),
            (i, Some(j)) => coordinates.extend([2 * i, 2 * i + 1, 2 * j, 2 * j + 1]),
        }
    }
    fn term<D: Scalar>(&self, k: usize, _t: D, q: &[D], q_dot: &[D]) -> D {
        match self.term_bodies(k) {
            (i, None) => (q_dot[0] * q_dot[0] + q_dot[1] * q_dot[1]) * (0.5 * self.masses[i]),
            (i, Some(j)) => {
                let (dx, dy) = (q[2] - q[0], q[3] - q[1]);
                (dx * dx + dy * dy + D::from(self.eps * self.eps))
                    .sqrt()
                    .recip()
                    * (self.g * self.masses[i] * self.masses[j])
            }
        }
    }
}

impl System for NBody {
    /// Free particles in the plane, with fading trails.
    fn geometry(&self) -> Option<Geometry> {
        let n = self.masses.len();
        Some(
            Geometry::new(
                n,
                Arc::new(move |q: &[f64]| (0..n).map(|i| [q[2 * i], q[2 * i + 1]]).collect()),
            )
            .with_trail(true),
        )
    }
    fn title(&self) -> String {
        format!("{}-body softened gravity (2-D)", self.masses.len())
    }
    fn coordinates(&self) -> Vec<String> {
        (1..=self.masses.len())
            .flat_map(|i| [format!("x{i}"), format!("y{i}")])
            .collect()
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        let mut p = named(&[
            ("n", self.masses.len() as f64),
            ("G", self.g),
            ("eps", self.eps),
        ]);
        p.extend(
            indexed("m", self.masses.len())
                .into_iter()
                .zip(self.masses.iter().copied()),
        );
        p
    }
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), ParameterError> {
        match name {
            "n" => {
                let n = check(name, value, Range::Count(1, Self::MAX_BODIES))? as usize;
                self.masses.resize(n, 1.0);
            }
            "G" => self.g = check(name, value, Range::Any)?,
            "eps" => self.eps = check(name, value, Range::NonNegative)?,
            _ => {
                let index = name
                    .strip_prefix('m')
                    .filter(|s| !s.starts_with('0'))
                    .and_then(|s| s.parse::<usize>().ok())
                    .filter(|&i| (1..=self.masses.len()).contains(&i));
                match index {
                    Some(i) => self.masses[i - 1] = check(name, value, Range::Positive)?,
                    None => return Err(unknown(name, &self.parameters())),
                }
            }
        }
        Ok(())
    }
    /// Bodies on the unit circle, each moving tangentially at the speed that balances the
    /// (softened) inward pull of the others, with the centre-of-mass velocity removed.
    fn initial_state(&self) -> (Vec<f64>, Vec<f64>) {
        let n = self.masses.len();
        let mut q = vec![0.0; 2 * n];
        for i in 0..n {
            let (s, c) = (TAU * i as f64 / n as f64).sin_cos();
            q[2 * i] = c;
            q[2 * i + 1] = s;
        }
        let a = self.hand_accelerations(0.0, &q, &q);
        let mut v = vec![0.0; 2 * n];
        for i in 0..n {
            let inward = -(a[2 * i] * q[2 * i] + a[2 * i + 1] * q[2 * i + 1]);
            let speed = inward.max(0.0).sqrt(); // v²/R = inward pull, R = 1
            v[2 * i] = -speed * q[2 * i + 1];
            v[2 * i + 1] = speed * q[2 * i];
        }
        let total: f64 = self.masses.iter().sum();
        let p = self.momentum(&v);
        for i in 0..n {
            v[2 * i] -= p[0] / total;
            v[2 * i + 1] -= p[1] / total;
        }
        (q, v)
    }
    fn lagrangian_text(&self) -> String {
        let n = self.masses.len();
        let kinetic: Vec<String> = (1..=n)
            .map(|i| format!("m{i}*(x{i}_dot^2 + y{i}_dot^2)"))
            .collect();
        let mut pairs = Vec::new();
        for i in 1..=n {
            for j in i + 1..=n {
                pairs.push(format!(
                    "m{i}*m{j}/sqrt((x{j} - x{i})^2 + (y{j} - y{i})^2 + eps^2)"
                ));
            }
        }
        if pairs.is_empty() {
            format!("0.5*({})", kinetic.join(" + "))
        } else {
            format!("0.5*({}) + G*({})", kinetic.join(" + "), pairs.join(" + "))
        }
    }
}
