//! A chain of `N` equal masses joined by equal springs, with both ends fixed (the discrete
//! string / monatomic lattice).
//!
//! ```text
//! L = Σᵢ₌₁ᴺ ½ m ẋᵢ² − Σᵢ₌₀ᴺ ½ k (xᵢ₊₁ − xᵢ)²,   x₀ = x_{N+1} = 0
//! EOM: ẍᵢ = (k/m)(xᵢ₊₁ − 2xᵢ + xᵢ₋₁)
//! exact (normal modes j = 1…N): ωⱼ = 2 √(k/m) sin(jπ / (2(N+1))),  shape sin(i j π/(N+1));
//!   xᵢ(t) = Σⱼ sin(i j π/(N+1)) (aⱼ cos ωⱼt + bⱼ sin(ωⱼt)/ωⱼ),
//!   aⱼ = 2/(N+1) Σᵢ sin(i j π/(N+1)) xᵢ(0),  bⱼ likewise from ẋᵢ(0)
//! ```
//!
//! Reference: Goldstein, Poole & Safko, *Classical Mechanics*, 3rd ed., §13.1 (the discrete
//! chain and its continuum limit); A. P. French, *Vibrations and Waves*, ch. 5 (normal modes of
//! N coupled oscillators).
//!
//! `L` is a sum of nearest-neighbour terms and the hand EOM is O(N); the exact solution is
//! O(N²) (a discrete sine transform written out).

use super::geometry::{Geometry, LinkKind};
use super::{ParameterError, Range, System, check, cos_sinc, indexed, named, unknown};
use crate::lagrangian::{Lagrangian, Scalar, Structure};
use std::f64::consts::PI;
use std::sync::Arc;

/// The fixed-end chain of `n` oscillators (see the [module docs](self)).
///
/// ```
/// use lagrange::systems::Chain;
/// let c = Chain { n: 3, m: 1.0, k: 1.0 };
/// // lowest mode: ω₁ = 2 sin(π/8) = 0.7653668647301796
/// assert!((c.mode_frequency(1) - 0.765_366_864_730_179_6).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    /// Number of moving masses (`1 ≤ n ≤ 65536`).
    pub n: usize,
    /// Mass of each particle (> 0).
    pub m: f64,
    /// Spring constant of each spring.
    pub k: f64,
}

impl Default for Chain {
    fn default() -> Self {
        Self {
            n: 8,
            m: 1.0,
            k: 1.0,
        }
    }
}

impl Chain {
    /// Largest chain accepted by `set_parameter("n", …)`.
    pub const MAX_N: usize = 1 << 16;

    /// Angular frequency of normal mode `j` (`1 ≤ j ≤ n`): `2 √(k/m) sin(jπ/(2(n+1)))`.
    pub fn mode_frequency(&self, j: usize) -> f64 {
        2.0 * (self.k / self.m).sqrt() * (j as f64 * PI / (2.0 * (self.n + 1) as f64)).sin()
    }

    /// Shape of normal mode `j` at mass `i` (both 1-based): `sin(i j π/(n+1))`.
    pub fn mode_shape(&self, j: usize, i: usize) -> f64 {
        ((i * j) as f64 * PI / (self.n + 1) as f64).sin()
    }

    /// Hand-derived `ẍᵢ = (k/m)(xᵢ₊₁ − 2xᵢ + xᵢ₋₁)`, O(N).
    ///
    /// Writes into `out` (at least `q.len()` long) without allocating.
    pub fn hand_accelerations_into(&self, _t: f64, q: &[f64], _q_dot: &[f64], out: &mut [f64]) {
        let n = q.len();
        let w2 = self.k / self.m;
        for (i, a) in out[..n].iter_mut().enumerate() {
            let left = if i > 0 { q[i - 1] } else { 0.0 };
            let right = if i + 1 < n { q[i + 1] } else { 0.0 };
            *a = w2 * (left - 2.0 * q[i] + right);
        }
    }

    /// [`Self::hand_accelerations_into`] into a new `Vec` (the test oracle's form).
    pub fn hand_accelerations(&self, t: f64, q: &[f64], q_dot: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; q.len()];
        self.hand_accelerations_into(t, q, q_dot, &mut out);
        out
    }

    /// Exact `(q(t), q̇(t))` from `(q0, q̇0)` at `t = 0` by normal-mode decomposition, O(N²).
    pub fn exact_solution(
        &self,
        t: f64,
        q0: &[f64],
        q_dot0: &[f64],
    ) -> Option<(Vec<f64>, Vec<f64>)> {
        let n = self.n;
        let h = PI / (n + 1) as f64;
        // sin(p h) for p = 0 … 2n+1 (i·j reduced mod 2(n+1)): O(N) sines, exact symmetry
        let period = 2 * (n + 1);
        let sines: Vec<f64> = (0..period).map(|p| (p as f64 * h).sin()).collect();
        let shape = |i: usize, j: usize| sines[(i * j) % period];
        let norm = 2.0 / (n + 1) as f64;
        let kappa = self.k / self.m;
        let mut mode_pos = vec![0.0; n];
        let mut mode_vel = vec![0.0; n];
        for j in 1..=n {
            let (mut a, mut b) = (0.0, 0.0);
            for i in 1..=n {
                let s = shape(i, j);
                a += s * q0[i - 1];
                b += s * q_dot0[i - 1];
            }
            let (a, b) = (norm * a, norm * b);
            let w2 = 4.0 * kappa * (0.5 * j as f64 * h).sin().powi(2);
            let (c, s) = cos_sinc(w2, t);
            mode_pos[j - 1] = a * c + b * s;
            mode_vel[j - 1] = -w2 * s * a + c * b;
        }
        let mut q = vec![0.0; n];
        let mut v = vec![0.0; n];
        for i in 1..=n {
            for j in 1..=n {
                let s = shape(i, j);
                q[i - 1] += s * mode_pos[j - 1];
                v[i - 1] += s * mode_vel[j - 1];
            }
        }
        Some((q, v))
    }
}

impl Lagrangian for Chain {
    fn dof(&self) -> usize {
        self.n
    }
    /// `M` is diagonal with the constant masses.
    fn structure(&self) -> Structure {
        Structure::new()
            .constant_mass_matrix()
            .local_terms(2 * self.n - 1)
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
        let n = q.len();
        let mut kinetic = D::zero();
        for &v in q_dot {
            kinetic += v * v;
        }
        // springs: wall–x₁, xᵢ–xᵢ₊₁, xₙ–wall
        let mut stretch2 = q[0] * q[0] + q[n - 1] * q[n - 1];
        for i in 0..n - 1 {
            let d = q[i + 1] - q[i];
            stretch2 += d * d;
        }
        kinetic * (0.5 * self.m) - stretch2 * (0.5 * self.k)
    }
    /// Terms `0..n`: mass `i` (with the wall springs at the ends); terms `n..2n−1`: the spring
    /// between masses `i` and `i+1`.
    fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
        if k < self.n {
            coordinates.push(k);
        } else {
            let i = k - self.n;
            coordinates.extend([i, i + 1]);
        }
    }
    fn term<D: Scalar>(&self, k: usize, _t: D, q: &[D], q_dot: &[D]) -> D {
        if k < self.n {
            let walls = usize::from(k == 0) + usize::from(k + 1 == self.n);
            q_dot[0] * q_dot[0] * (0.5 * self.m) - q[0] * q[0] * (0.5 * self.k * walls as f64)
        } else {
            let d = q[1] - q[0];
            -d * d * (0.5 * self.k)
        }
    }
}

impl System for Chain {
    /// The masses on a line at their rest places 1 … n plus the displacements x_i, joined by
    /// springs (the fixed walls at 0 and n + 1 are the first and last anchors).
    fn geometry(&self) -> Option<Geometry> {
        let n = self.n;
        let mut geometry = Geometry::new(
            n + 2,
            Arc::new(move |q: &[f64]| {
                let mut points = vec![[0.0, 0.0]];
                points.extend((0..n).map(|i| [(i + 1) as f64 + q[i], 0.0]));
                points.push([(n + 1) as f64, 0.0]);
                points
            }),
        );
        for i in 0..=n {
            geometry = geometry.link(Some(i), Some(i + 1), LinkKind::Spring);
        }
        Some(geometry)
    }
    fn title(&self) -> String {
        format!("Chain of {} coupled oscillators with fixed ends", self.n)
    }
    fn coordinates(&self) -> Vec<String> {
        indexed("x", self.n)
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        named(&[("n", self.n as f64), ("m", self.m), ("k", self.k)])
    }
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), ParameterError> {
        match name {
            "n" => self.n = check(name, value, Range::Count(1, Self::MAX_N))? as usize,
            "m" => self.m = check(name, value, Range::Positive)?,
            "k" => self.k = check(name, value, Range::Any)?,
            _ => return Err(unknown(name, &self.parameters())),
        }
        Ok(())
    }
    fn initial_state(&self) -> (Vec<f64>, Vec<f64>) {
        // a mix of modes 1 and 3, at rest
        let q = (1..=self.n)
            .map(|i| 0.5 * self.mode_shape(1, i) + 0.2 * self.mode_shape(3, i))
            .collect();
        (q, vec![0.0; self.n])
    }
    fn lagrangian_text(&self) -> String {
        let n = self.n;
        let kinetic: Vec<String> = (1..=n).map(|i| format!("x{i}_dot^2")).collect();
        let mut springs = vec!["x1^2".to_string()];
        springs.extend((1..n).map(|i| format!("(x{} - x{i})^2", i + 1)));
        springs.push(format!("x{n}^2"));
        format!(
            "0.5*m*({}) - 0.5*k*({})",
            kinetic.join(" + "),
            springs.join(" + ")
        )
    }
}
