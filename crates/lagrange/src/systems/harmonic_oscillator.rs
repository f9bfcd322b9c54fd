//! n-dimensional anisotropic harmonic oscillator.
//!
//! ```text
//! L = Σᵢ ½ mᵢ q̇ᵢ² − ½ kᵢ qᵢ²
//! EOM: q̈ᵢ = −(kᵢ/mᵢ) qᵢ
//! exact: qᵢ(t) = qᵢ(0) cos ωᵢt + q̇ᵢ(0) sin(ωᵢt)/ωᵢ,  ωᵢ² = kᵢ/mᵢ
//! ```
//!
//! Reference: Goldstein, Poole & Safko, *Classical Mechanics*, 3rd ed., §6.1–6.2; Taylor,
//! *Classical Mechanics*, §5.3 (the 2-D anisotropic oscillator and its Lissajous figures).
//!
//! The default is 2-D (coordinates `x, y`) with `k_y = 4 k_x`: a 1:2 Lissajous figure. The
//! dimension is the parameter `n`; coordinates are `x, y, z` for `n ≤ 3` and `x1 … xn` beyond,
//! and the per-axis parameters are `m_<coordinate>` and `k_<coordinate>`.

use super::{ParameterError, Range, System, check, cos_sinc, unknown};
use crate::lagrangian::{Lagrangian, Scalar, Structure};

/// `L = Σ ½ mᵢ q̇ᵢ² − ½ kᵢ qᵢ²` (see the [module docs](self)).
///
/// ```
/// use lagrange::systems::HarmonicOscillator;
/// let osc = HarmonicOscillator::default();
/// // ÿ = −(k_y/m_y) y = −4 · 0.5
/// let a = lagrange::accelerations(&osc, 0.0_f64, &[0.0, 0.5], &[0.0, 0.0]).unwrap();
/// assert!((a[1] + 2.0).abs() < 1e-14);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct HarmonicOscillator {
    /// Mass per axis (> 0); its length is the dimension and must equal `stiffnesses.len()`.
    pub masses: Vec<f64>,
    /// Spring constant per axis (any sign; negative is an inverted, unstable axis).
    pub stiffnesses: Vec<f64>,
}

impl Default for HarmonicOscillator {
    fn default() -> Self {
        Self {
            masses: vec![1.0, 1.0],
            stiffnesses: vec![1.0, 4.0],
        }
    }
}

impl HarmonicOscillator {
    /// Largest dimension accepted by `set_parameter("n", …)`.
    pub const MAX_DIM: usize = 1024;

    /// An `n`-D oscillator with the given per-axis masses and spring constants.
    pub fn new(masses: Vec<f64>, stiffnesses: Vec<f64>) -> Self {
        assert_eq!(
            masses.len(),
            stiffnesses.len(),
            "one mass and one stiffness per axis"
        );
        Self {
            masses,
            stiffnesses,
        }
    }

    /// Coordinate names for dimension `n`: `x, y, z` up to 3, `x1 … xn` beyond.
    pub fn coordinate_names(n: usize) -> Vec<String> {
        if n <= 3 {
            ["x", "y", "z"][..n].iter().map(|s| s.to_string()).collect()
        } else {
            super::indexed("x", n)
        }
    }

    /// Hand-derived `q̈ᵢ = −(kᵢ/mᵢ) qᵢ`.
    ///
    /// Writes into `out` (at least `q.len()` long) without allocating.
    pub fn hand_accelerations_into(&self, _t: f64, q: &[f64], _q_dot: &[f64], out: &mut [f64]) {
        let n = q.len();
        for ((a, &x), (&m, &k)) in out[..n]
            .iter_mut()
            .zip(q)
            .zip(self.masses.iter().zip(&self.stiffnesses))
        {
            *a = -k / m * x;
        }
    }

    /// [`Self::hand_accelerations_into`] into a new `Vec` (the test oracle's form).
    pub fn hand_accelerations(&self, t: f64, q: &[f64], q_dot: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; q.len()];
        self.hand_accelerations_into(t, q, q_dot, &mut out);
        out
    }

    /// Exact `(q(t), q̇(t))` from `(q0, q̇0)` at `t = 0` (also for `kᵢ ≤ 0`: cosh/sinh or free).
    pub fn exact_solution(
        &self,
        t: f64,
        q0: &[f64],
        q_dot0: &[f64],
    ) -> Option<(Vec<f64>, Vec<f64>)> {
        let n = self.masses.len();
        let (mut q, mut v) = (vec![0.0; n], vec![0.0; n]);
        for i in 0..n {
            let w2 = self.stiffnesses[i] / self.masses[i];
            let (c, s) = cos_sinc(w2, t);
            q[i] = q0[i] * c + q_dot0[i] * s;
            v[i] = -w2 * s * q0[i] + q_dot0[i] * c;
        }
        Some((q, v))
    }
}

impl Lagrangian for HarmonicOscillator {
    fn dof(&self) -> usize {
        self.masses.len()
    }
    /// `M` is diagonal with the constant masses.
    fn structure(&self) -> Structure {
        Structure::new()
            .constant_mass_matrix()
            .local_terms(self.masses.len())
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
        let mut l = D::zero();
        for i in 0..self.masses.len() {
            l += q_dot[i] * q_dot[i] * (0.5 * self.masses[i])
                - q[i] * q[i] * (0.5 * self.stiffnesses[i]);
        }
        l
    }
    /// One term per axis (the mass matrix is diagonal).
    fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
        coordinates.push(k);
    }
    fn term<D: Scalar>(&self, k: usize, _t: D, q: &[D], q_dot: &[D]) -> D {
        q_dot[0] * q_dot[0] * (0.5 * self.masses[k]) - q[0] * q[0] * (0.5 * self.stiffnesses[k])
    }
}

impl System for HarmonicOscillator {
    fn title(&self) -> String {
        format!("{}-D anisotropic harmonic oscillator", self.masses.len())
    }
    fn coordinates(&self) -> Vec<String> {
        Self::coordinate_names(self.masses.len())
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        let mut p = vec![("n".to_string(), self.masses.len() as f64)];
        for (i, c) in self.coordinates().iter().enumerate() {
            p.push((format!("m_{c}"), self.masses[i]));
            p.push((format!("k_{c}"), self.stiffnesses[i]));
        }
        p
    }
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), ParameterError> {
        if name == "n" {
            let n = check(name, value, Range::Count(1, Self::MAX_DIM))? as usize;
            self.masses.resize(n, 1.0);
            self.stiffnesses.resize(n, 1.0);
            return Ok(());
        }
        let coords = self.coordinates();
        let axis = |prefix: &str| {
            name.strip_prefix(prefix)
                .and_then(|c| coords.iter().position(|x| x == c))
        };
        // `m` and `k` (no axis suffix) set every axis at once: the isotropic case, and what a user
        // of the 1-D oscillator types.
        if name == "m" {
            let m = check(name, value, Range::Positive)?;
            self.masses.iter_mut().for_each(|x| *x = m);
        } else if name == "k" {
            let k = check(name, value, Range::Any)?;
            self.stiffnesses.iter_mut().for_each(|x| *x = k);
        } else if let Some(i) = axis("m_") {
            self.masses[i] = check(name, value, Range::Positive)?;
        } else if let Some(i) = axis("k_") {
            self.stiffnesses[i] = check(name, value, Range::Any)?;
        } else {
            return Err(unknown(name, &self.parameters()));
        }
        Ok(())
    }
    fn initial_state(&self) -> (Vec<f64>, Vec<f64>) {
        // x = 1 at rest on the first axis, unit velocity on the others: a Lissajous figure.
        let n = self.masses.len();
        let q = (0..n).map(|i| if i == 0 { 1.0 } else { 0.0 }).collect();
        let v = (0..n).map(|i| if i == 0 { 0.0 } else { 1.0 }).collect();
        (q, v)
    }
    fn lagrangian_text(&self) -> String {
        let terms: Vec<String> = self
            .coordinates()
            .iter()
            .map(|c| format!("0.5*m_{c}*{c}_dot^2 - 0.5*k_{c}*{c}^2"))
            .collect();
        terms.join(" + ")
    }
}
