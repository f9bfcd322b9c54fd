//! Which Lagrangians have a Euclidean action, and that action on a discretized closed path.
//!
//! A natural Lagrangian `L = ½ q̇ᵀ M q̇ − V(q)` with constant `M` continues to imaginary time
//! `t = −iτ` as `−L_E`, `L_E = ½ q'ᵀ M q' + V(q)`, real and bounded below when `M > 0` and `V`
//! is; a term linear in q̇ (a vector potential) picks up a factor `i` and makes the weight
//! `exp(−S_E/ħ)` complex (Feynman & Hibbs 1965, ch. 10; Ceperley 1995, sec. II).

use super::error::QuantumError;
use super::rng::Rng;
use crate::Lagrangian;
use crate::lagrangian::Scalar;
use crate::mechanics::{lagrangian_value, mass_matrix, momenta, partial_time};
use nalgebra::{DMatrix, SymmetricEigen};
use num_dual::Dual64;

/// States at which [`NaturalForm::detect`] probes L.
const PROBES: usize = 8;
/// Relative tolerance of the probes (the engine's derivatives are exact up to rounding).
const TOLERANCE: f64 = 1e-8;

/// `L = ½ q̇ᵀ M q̇ − V(q)` with a constant, positive definite `M`, as detected from L.
#[derive(Debug, Clone, PartialEq)]
pub struct NaturalForm {
    /// Number of coordinates `n`.
    pub dof: usize,
    /// The constant mass matrix `M = ∂²L/∂q̇²`, `n × n` row-major.
    pub mass: Vec<f64>,
    /// Smallest eigenvalue of `M` (> 0).
    pub smallest_mass: f64,
}

impl NaturalForm {
    /// Checks numerically, with the engine, that L has the natural form, at [`PROBES`] random
    /// states (`q, q̇ ∈ [−1, 1]ⁿ`, `t ∈ [0, 1]`, a fixed seed): no dissipation or extra forces
    /// declared, `∂L/∂t = 0`, `∂L/∂q̇ = 0` at `q̇ = 0` (no velocity-linear terms), the same
    /// `M = ∂²L/∂q̇²` everywhere, `L(q, q̇) − L(q, 0) = ½ q̇ᵀ M q̇`, and `M` positive definite.
    /// Returns the first requirement that fails.
    pub fn detect<L: Lagrangian + ?Sized>(lagrangian: &L) -> Result<Self, QuantumError> {
        let structure = lagrangian.structure();
        if structure.dissipation {
            return Err(QuantumError::Dissipation);
        }
        if structure.generalized_forces {
            return Err(QuantumError::GeneralizedForces);
        }
        let n = lagrangian.dof();
        if n == 0 {
            return Err(QuantumError::NoCoordinates);
        }
        let mut rng = Rng::new(0x005E_ED0F_9A7E);
        let zeros = vec![0.0; n];
        let mut reference: Option<Vec<f64>> = None;
        for _ in 0..PROBES {
            let t = rng.uniform();
            let q: Vec<f64> = (0..n).map(|_| rng.symmetric()).collect();
            let v: Vec<f64> = (0..n).map(|_| rng.symmetric()).collect();
            let l_full = lagrangian_value(lagrangian, t, &q, &v)?;
            let l_static = lagrangian_value(lagrangian, t, &q, &zeros)?;
            let m = mass_matrix(lagrangian, t, &q, &v)?;
            if !l_full.is_finite() || !l_static.is_finite() || m.iter().any(|x| !x.is_finite()) {
                return Err(QuantumError::NonFinite {
                    what: "L or its mass matrix at a sampled state",
                });
            }
            let m_scale = m.iter().fold(0.0_f64, |a, x| a.max(x.abs()));
            let scale = 1.0 + l_full.abs() + l_static.abs() + m_scale;
            let dldt = partial_time(lagrangian, t, &q, &v)?;
            if dldt.abs() > TOLERANCE * scale {
                return Err(QuantumError::TimeDependent { value: dldt });
            }
            let p0 = momenta(lagrangian, t, &q, &zeros)?;
            if let Some((i, &p)) = p0
                .iter()
                .enumerate()
                .find(|(_, p)| p.abs() > TOLERANCE * scale || p.is_nan())
            {
                return Err(QuantumError::VelocityLinear {
                    coordinate: i,
                    value: p,
                });
            }
            match &reference {
                None => reference = Some(m.clone()),
                Some(m0) => {
                    for (k, (&a, &b)) in m0.iter().zip(&m).enumerate() {
                        if (a - b).abs() > TOLERANCE * scale {
                            return Err(QuantumError::NonConstantMass {
                                row: k / n,
                                column: k % n,
                                first: a,
                                other: b,
                            });
                        }
                    }
                }
            }
            let kinetic = 0.5 * quadratic(&m, &v, &v);
            let residual = l_full - l_static - kinetic;
            if residual.abs() > TOLERANCE * scale {
                return Err(QuantumError::NotQuadratic { residual });
            }
        }
        let mut mass = reference.unwrap_or_default();
        // symmetrize the rounding away
        for i in 0..n {
            for j in 0..i {
                let s = 0.5 * (mass[i * n + j] + mass[j * n + i]);
                mass[i * n + j] = s;
                mass[j * n + i] = s;
            }
        }
        let smallest = SymmetricEigen::new(DMatrix::from_row_slice(n, n, &mass))
            .eigenvalues
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        if smallest.is_nan() || smallest <= 0.0 {
            return Err(QuantumError::NotPositiveDefinite { smallest });
        }
        Ok(Self {
            dof: n,
            mass,
            smallest_mass: smallest,
        })
    }

    /// The diagonal entry `M_ii`.
    pub fn mass_of(&self, i: usize) -> f64 {
        self.mass[i * self.dof + i]
    }
}

/// `aᵀ M b` for a row-major `n × n` matrix.
pub(crate) fn quadratic(m: &[f64], a: &[f64], b: &[f64]) -> f64 {
    let n = a.len();
    let mut s = 0.0;
    for i in 0..n {
        let mut row = 0.0;
        for j in 0..n {
            row += m[i * n + j] * b[j];
        }
        s += a[i] * row;
    }
    s
}

/// `V(q) = −L(0, q, 0)` over any scalar (for a natural Lagrangian, `L(t, q, 0) = −V(q)`).
pub fn potential<D: Scalar, L: Lagrangian + ?Sized>(lagrangian: &L, q: &[D]) -> D {
    let zeros = vec![D::zero(); q.len()];
    -lagrangian.lagrangian(D::zero(), q, &zeros)
}

/// `V` and its exact gradient with reusable buffers: the samplers call it once per slice.
pub struct Potential<'a, L: Lagrangian + ?Sized> {
    lagrangian: &'a L,
    zeros: Vec<f64>,
    dual_q: Vec<Dual64>,
    dual_zeros: Vec<Dual64>,
}

impl<'a, L: Lagrangian + ?Sized> Potential<'a, L> {
    /// The potential of `lagrangian`.
    pub fn new(lagrangian: &'a L) -> Self {
        let n = lagrangian.dof();
        Self {
            lagrangian,
            zeros: vec![0.0; n],
            dual_q: vec![Dual64::from_re(0.0); n],
            dual_zeros: vec![Dual64::from_re(0.0); n],
        }
    }

    /// `V(q)`.
    #[inline]
    pub fn value(&self, q: &[f64]) -> f64 {
        -self.lagrangian.lagrangian(0.0, q, &self.zeros)
    }

    /// `V(q)`, with `∇V(q)` written into `gradient` (one dual pass per coordinate; exact).
    pub fn gradient(&mut self, q: &[f64], gradient: &mut [f64]) -> f64 {
        let n = q.len();
        let mut value = 0.0;
        for (d, &x) in self.dual_q.iter_mut().zip(q) {
            *d = Dual64::from_re(x);
        }
        for (i, g) in gradient.iter_mut().enumerate().take(n) {
            self.dual_q[i].eps = 1.0;
            let l =
                self.lagrangian
                    .lagrangian(Dual64::from_re(0.0), &self.dual_q, &self.dual_zeros);
            self.dual_q[i].eps = 0.0;
            *g = -l.eps;
            value = -l.re;
        }
        value
    }
}

/// The primitive discretized Euclidean action `S_E/ħ` of a closed path of `P` slices (module
/// docs of [`crate::quantum`]).
#[derive(Debug, Clone, PartialEq)]
pub struct EuclideanAction {
    /// The detected kinetic form.
    pub form: NaturalForm,
    /// Inverse temperature `β = 1/(k_B T)`.
    pub beta: f64,
    /// Planck's constant `ħ`.
    pub hbar: f64,
    /// Number of imaginary-time slices `P`.
    pub slices: usize,
}

impl EuclideanAction {
    /// Checks `β > 0`, `ħ > 0` (finite) and `P ≥ 2`.
    pub fn new(
        form: NaturalForm,
        beta: f64,
        hbar: f64,
        slices: usize,
    ) -> Result<Self, QuantumError> {
        if !(beta > 0.0 && beta.is_finite()) {
            return Err(QuantumError::InvalidOption {
                option: "beta",
                value: beta,
                requirement: "finite and > 0",
            });
        }
        if !(hbar > 0.0 && hbar.is_finite()) {
            return Err(QuantumError::InvalidOption {
                option: "hbar",
                value: hbar,
                requirement: "finite and > 0",
            });
        }
        if slices < 2 {
            return Err(QuantumError::InvalidOption {
                option: "slices",
                value: slices as f64,
                requirement: "at least 2",
            });
        }
        Ok(Self {
            form,
            beta,
            hbar,
            slices,
        })
    }

    /// The imaginary-time step `Δτ = βħ/P`.
    pub fn dtau(&self) -> f64 {
        self.beta * self.hbar / self.slices as f64
    }

    /// The spring term `(b − a)ᵀ M (b − a)/(2ħΔτ)` of one link.
    #[inline]
    pub fn link(&self, a: &[f64], b: &[f64]) -> f64 {
        let n = a.len();
        let m = &self.form.mass;
        let mut s = 0.0;
        for i in 0..n {
            let di = b[i] - a[i];
            let mut row = 0.0;
            for j in 0..n {
                row += m[i * n + j] * (b[j] - a[j]);
            }
            s += di * row;
        }
        s / (2.0 * self.hbar * self.dtau())
    }

    /// The weight `Δτ/ħ = β/P` of `V` per slice.
    pub fn potential_weight(&self) -> f64 {
        self.beta / self.slices as f64
    }

    /// `S_E/ħ` of a closed path (`P × n`, slice-major).
    pub fn total<L: Lagrangian + ?Sized>(&self, lagrangian: &L, path: &[f64]) -> f64 {
        let n = self.form.dof;
        let p = self.slices;
        let v = Potential::new(lagrangian);
        let mut s = 0.0;
        for k in 0..p {
            let a = &path[k * n..(k + 1) * n];
            let kn = (k + 1) % p;
            let b = &path[kn * n..(kn + 1) * n];
            s += self.link(a, b) + self.potential_weight() * v.value(a);
        }
        s
    }
}
