//! Noether analysis by automatic differentiation: the continuous point symmetries of a
//! Lagrangian among the linear vector fields, found from sampled states.
//!
//! A vector field `ξ(q) = b + A q` (with a time shift `τ ∂ₜ`) is a symmetry of `L` when the
//! Lie derivative of `L` along its prolongation vanishes at every state:
//!
//! ```text
//! δL = Σᵢ ∂L/∂qᵢ (bᵢ + Σⱼ Aᵢⱼ qⱼ) + Σᵢ ∂L/∂q̇ᵢ Σⱼ Aᵢⱼ q̇ⱼ + τ ∂L/∂t = 0.
//! ```
//!
//! `δL` is linear in the generator's coefficients `(b, A, τ)`, so at sampled states it is a
//! matrix `W` (one row per state, one column per basis generator: `n` translations, `n²`
//! elementary linear fields `Eᵢⱼ`, the time shift) times the coefficient vector. The
//! symmetries are the null space of `W` (by SVD), combinations that no single candidate is
//! included. The null space is then split into translations, rotations (antisymmetric `A`), the
//! time shift and the remaining linear fields, each written in reduced row-echelon form so that
//! the basis is the simplest one (`x1 + x2 + …` for a total translation, `x ∂_y − y ∂_x` for a
//! rotation). Each symmetry's conserved charge is `Q = Σᵢ pᵢ ξᵢ(q)` (Noether), or the energy
//! `Σ q̇ᵢ pᵢ − L` for the time shift.
//!
//! This is strict invariance (`δL = 0`). Symmetries up to a total time derivative (the
//! cyclotron's translations across the field, Galilean boosts) are not found here: their charge
//! is not `p · ξ`.
//!
//! Reference: E. Noether, "Invariante Variationsprobleme" (1918); P. J. Olver, *Applications of
//! Lie Groups to Differential Equations*, 2nd ed., §4.2 (variational symmetries) and §5.1.

use super::error::MechanicsError;
use crate::lagrangian::Lagrangian;
use nalgebra::DMatrix;
use num_dual::Dual64;
use thiserror::Error;

/// Why [`find_symmetries`] could not run.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SymmetryError {
    /// Fewer sampled states than candidate generators: the null space is not determined.
    #[error(
        "{samples} samples cannot decide among {needed} candidate generators; give at least {needed} samples"
    )]
    NotEnoughSamples {
        /// States given.
        samples: usize,
        /// Candidate generators (`n + n² + 1`).
        needed: usize,
    },
    /// A derivative of L is not finite, or a state has the wrong length.
    #[error(transparent)]
    Mechanics(#[from] MechanicsError),
}

/// Where a generator's coefficients sit in the candidate vector `(b, A, τ)` of `n` coordinates:
/// `b` at `0..n`, `Aᵢⱼ` at `n + i n + j`, `τ` at `n + n²`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CandidateSpace {
    /// Coordinates.
    pub n: usize,
}

impl CandidateSpace {
    /// Number of basis generators: `n` translations, `n²` linear fields, the time shift.
    pub fn len(self) -> usize {
        self.n + self.n * self.n + 1
    }

    /// Never empty (the time shift is always a candidate).
    pub fn is_empty(self) -> bool {
        false
    }

    fn linear(self, i: usize, j: usize) -> usize {
        self.n + i * self.n + j
    }

    fn time(self) -> usize {
        self.n + self.n * self.n
    }
}

/// The derivatives of L at one state that every Lie derivative needs.
#[derive(Debug, Clone)]
struct Gradient {
    q: Vec<f64>,
    q_dot: Vec<f64>,
    dl_dq: Vec<f64>,
    dl_dv: Vec<f64>,
    dl_dt: f64,
}

impl Gradient {
    /// `∂L/∂q`, `∂L/∂q̇` and `∂L/∂t` at `(t, q, q̇)`: one dual-number evaluation per input.
    fn at<L: Lagrangian + ?Sized>(
        lagrangian: &L,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
    ) -> Result<Self, MechanicsError> {
        let n = lagrangian.dof();
        if q.len() != n || q_dot.len() != n {
            let got = if q.len() != n { q.len() } else { q_dot.len() };
            return Err(MechanicsError::DimensionMismatch { expected: n, got });
        }
        // input k: t (k = 0), qᵢ (1 + i), q̇ᵢ (1 + n + i)
        let derivative = |k: usize| {
            let seed = |x: f64, at: usize| {
                if at == k {
                    Dual64::new(x, 1.0)
                } else {
                    Dual64::from_re(x)
                }
            };
            let qd: Vec<Dual64> = q.iter().enumerate().map(|(i, &x)| seed(x, 1 + i)).collect();
            let vd: Vec<Dual64> = q_dot
                .iter()
                .enumerate()
                .map(|(i, &x)| seed(x, 1 + n + i))
                .collect();
            lagrangian.lagrangian(seed(t, 0), &qd, &vd).eps
        };
        Ok(Self {
            q: q.to_vec(),
            q_dot: q_dot.to_vec(),
            dl_dq: (0..n).map(|i| derivative(1 + i)).collect(),
            dl_dv: (0..n).map(|i| derivative(1 + n + i)).collect(),
            dl_dt: derivative(0),
        })
    }

    /// The Lie derivative along each basis generator (one row of `W`).
    fn row(&self, space: CandidateSpace, row: &mut [f64]) {
        let n = space.n;
        row[..n].copy_from_slice(&self.dl_dq);
        for i in 0..n {
            for j in 0..n {
                row[space.linear(i, j)] = self.dl_dq[i] * self.q[j] + self.dl_dv[i] * self.q_dot[j];
            }
        }
        row[space.time()] = self.dl_dt;
    }

    /// `δL` along `v` and the size of the terms that cancel in it (`Σ |each term|`).
    fn along(&self, space: CandidateSpace, v: &[f64]) -> (f64, f64) {
        let n = space.n;
        let (mut sum, mut size) = (0.0, 0.0);
        let mut add = |term: f64| {
            sum += term;
            size += term.abs();
        };
        for i in 0..n {
            let mut xi = v[i];
            let mut xi_dot = 0.0;
            for j in 0..n {
                let a = v[space.linear(i, j)];
                xi += a * self.q[j];
                xi_dot += a * self.q_dot[j];
            }
            add(self.dl_dq[i] * xi);
            add(self.dl_dv[i] * xi_dot);
        }
        add(self.dl_dt * v[space.time()]);
        (sum, size)
    }
}

/// What kind of generator a symmetry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymmetryKind {
    /// `ξ = b` (constant).
    Translation,
    /// `ξ = A q` with `A` antisymmetric.
    Rotation,
    /// `ξ = A q` with a general `A` (or a combination with translations and the time shift).
    Linear,
    /// The time shift `∂ₜ` (L does not depend on t explicitly).
    Time,
}

impl SymmetryKind {
    /// `translation`, `rotation`, `linear` or `time`.
    pub fn name(self) -> &'static str {
        match self {
            SymmetryKind::Translation => "translation",
            SymmetryKind::Rotation => "rotation",
            SymmetryKind::Linear => "linear",
            SymmetryKind::Time => "time",
        }
    }
}

/// One symmetry: its generator `ξ(q) = b + A q` (and time shift τ).
#[derive(Debug, Clone, PartialEq)]
pub struct Symmetry {
    /// The kind.
    pub kind: SymmetryKind,
    /// `b` (n).
    pub translation: Vec<f64>,
    /// `A` (`n × n`, row-major: `ξᵢ = Σⱼ Aᵢⱼ qⱼ`).
    pub matrix: Vec<f64>,
    /// The time shift's coefficient τ.
    pub time: f64,
    /// `‖W v‖ / (σ_max ‖v‖)`: how far from the null space, relative to the largest singular
    /// value of `W` (0 for an exact symmetry, up to rounding).
    pub singular_value: f64,
    /// `‖δL‖ / ‖Σ |terms of δL|‖` over the samples: 0 where the terms cancel exactly, about 1
    /// where they do not cancel at all (independent of the scale of L and of the generator).
    pub defect: f64,
}

/// One named candidate tested on its own (a translation of one coordinate, a rotation in one
/// pair, the time shift), with its [`Symmetry::defect`]: to what degree L has it.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateDefect {
    /// The kind (translation, rotation or time).
    pub kind: SymmetryKind,
    /// The coordinates involved: `[i]` for a translation, `[a, b]` for the rotation taking
    /// `q_a` towards `q_b`, `[]` for time.
    pub coordinates: Vec<usize>,
    /// Relative size of δL along it.
    pub defect: f64,
}

/// The result of [`find_symmetries`].
#[derive(Debug, Clone, PartialEq)]
pub struct SymmetryAnalysis {
    /// The candidate space.
    pub space: CandidateSpace,
    /// A basis of the symmetries: translations, rotations, the time shift, then the other
    /// linear fields.
    pub symmetries: Vec<Symmetry>,
    /// The singular values of `W` relative to the largest, ascending.
    pub singular_values: Vec<f64>,
    /// Each translation, rotation and the time shift on its own.
    pub candidates: Vec<CandidateDefect>,
}

/// A basis (columns) of the null space of `w` (its right singular vectors whose singular value
/// is at most `tolerance × scale`).
fn null_space(w: &DMatrix<f64>, scale: f64, tolerance: f64) -> DMatrix<f64> {
    let cols = w.ncols();
    if cols == 0 {
        return DMatrix::zeros(0, 0);
    }
    // the thin SVD of a tall matrix gives all `cols` right singular vectors
    let svd = w.clone().svd(false, true);
    let v_t = svd.v_t.expect("requested");
    let keep: Vec<usize> = (0..svd.singular_values.len())
        .filter(|&k| svd.singular_values[k] <= tolerance * scale)
        .collect();
    DMatrix::from_fn(cols, keep.len(), |i, k| v_t[(keep[k], i)])
}

/// The reduced row-echelon form of the columns of `basis` (as rows): each vector has a leading
/// 1 where the others have 0. This is the simplest basis of the span (`(1, 1)` for a total
/// translation, not `(0.7071, 0.7071)`); entries below `1e-9` of the largest are cleared.
fn echelon(basis: &DMatrix<f64>) -> Vec<Vec<f64>> {
    let (len, k) = (basis.nrows(), basis.ncols());
    let mut rows: Vec<Vec<f64>> = (0..k)
        .map(|c| basis.column(c).iter().copied().collect())
        .collect();
    let mut lead = 0;
    for col in 0..len {
        if lead == k {
            break;
        }
        let (best, size) = (lead..k)
            .map(|r| (r, rows[r][col].abs()))
            .fold((lead, 0.0), |a, b| if b.1 > a.1 { b } else { a });
        if size < 1e-9 {
            continue;
        }
        rows.swap(lead, best);
        let pivot = rows[lead][col];
        rows[lead].iter_mut().for_each(|x| *x /= pivot);
        let pivot_row = rows[lead].clone();
        for (r, row) in rows.iter_mut().enumerate() {
            if r != lead {
                let f = row[col];
                row.iter_mut()
                    .zip(&pivot_row)
                    .for_each(|(x, p)| *x -= f * p);
            }
        }
        lead += 1;
    }
    for row in &mut rows {
        let largest = row.iter().fold(0.0_f64, |a, x| a.max(x.abs()));
        row.iter_mut()
            .filter(|x| x.abs() < 1e-9 * largest)
            .for_each(|x| *x = 0.0);
    }
    rows.truncate(lead);
    rows
}

/// The linear point symmetries of `lagrangian` found at the sampled `states` `(t, q, q̇)` (see
/// the [module docs](self)): null vectors of the Lie-derivative matrix whose singular value is
/// at most `tolerance` times the largest.
///
/// # Errors
/// [`SymmetryError::NotEnoughSamples`] with fewer states than candidates (the null space would
/// not be determined); [`MechanicsError::DimensionMismatch`] for a state of the wrong length and
/// [`MechanicsError::NonFinite`] where a derivative of L is not finite at a sample.
///
/// ```
/// use lagrange::mechanics::symmetry::{SymmetryKind, find_symmetries};
/// use lagrange::systems::Kepler;
/// // Kepler: rotations about the centre and the time shift, nothing else
/// let states: Vec<(f64, Vec<f64>, Vec<f64>)> = (0..40)
///     .map(|k| {
///         let a = 0.37 * k as f64;
///         (0.0, vec![1.0 + a.cos(), 0.5 + a.sin()], vec![(2.0 * a).sin(), a.cos()])
///     })
///     .collect();
/// let found = find_symmetries(&Kepler::default(), &states, 1e-8).unwrap();
/// let kinds: Vec<_> = found.symmetries.iter().map(|s| s.kind).collect();
/// assert_eq!(kinds, [SymmetryKind::Rotation, SymmetryKind::Time]);
/// ```
pub fn find_symmetries<L: Lagrangian + ?Sized>(
    lagrangian: &L,
    states: &[(f64, Vec<f64>, Vec<f64>)],
    tolerance: f64,
) -> Result<SymmetryAnalysis, SymmetryError> {
    let n = lagrangian.dof();
    let space = CandidateSpace { n };
    let len = space.len();
    if states.len() < len {
        return Err(SymmetryError::NotEnoughSamples {
            samples: states.len(),
            needed: len,
        });
    }
    let gradients = states
        .iter()
        .map(|(t, q, q_dot)| {
            let g = Gradient::at(lagrangian, *t, q, q_dot)?;
            let finite =
                g.dl_dq.iter().chain(&g.dl_dv).all(|x| x.is_finite()) && g.dl_dt.is_finite();
            if finite {
                Ok(g)
            } else {
                Err(MechanicsError::NonFinite {
                    t: *t,
                    what: "a derivative of L at a sampled state",
                })
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut w = DMatrix::zeros(states.len(), len);
    let mut row = vec![0.0; len];
    for (s, g) in gradients.iter().enumerate() {
        g.row(space, &mut row);
        for (c, &x) in row.iter().enumerate() {
            w[(s, c)] = x;
        }
    }
    let mut singular_values: Vec<f64> = w.clone().singular_values().iter().copied().collect();
    let scale = singular_values.iter().fold(0.0_f64, |a, &x| a.max(x));
    if scale > 0.0 {
        singular_values.iter_mut().for_each(|x| *x /= scale);
    }
    singular_values.sort_by(f64::total_cmp);

    // how well a generator v (length `len`) satisfies δL = 0
    let singular_value = |v: &[f64]| {
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let wv = &w * nalgebra::DVector::from_column_slice(v);
        if scale > 0.0 {
            wv.norm() / (scale * norm)
        } else {
            0.0
        }
    };
    let defect = |v: &[f64]| {
        let (mut sum, mut size) = (0.0, 0.0);
        for g in &gradients {
            let (d, s) = g.along(space, v);
            sum += d * d;
            size += s * s;
        }
        if size > 0.0 { (sum / size).sqrt() } else { 0.0 }
    };

    // sub-spaces of the candidates, each as (coefficient vectors of its basis, in `len`)
    let unit = |c: usize| {
        let mut v = vec![0.0; len];
        v[c] = 1.0;
        v
    };
    // the rotation taking q_a towards q_b: ξ_a = −q_b, ξ_b = q_a
    let rotation = |a: usize, b: usize| {
        let mut v = vec![0.0; len];
        v[space.linear(a, b)] = -1.0;
        v[space.linear(b, a)] = 1.0;
        v
    };
    let translations: Vec<Vec<f64>> = (0..n).map(unit).collect();
    let pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
        .collect();
    let rotations: Vec<Vec<f64>> = pairs.iter().map(|&(a, b)| rotation(a, b)).collect();

    let mut symmetries = Vec::new();
    let mut found: Vec<Vec<f64>> = Vec::new();
    // null vectors within the span of `generators`, in echelon form over their coefficients
    let within = |generators: &[Vec<f64>]| -> Vec<Vec<f64>> {
        if generators.is_empty() {
            return Vec::new();
        }
        let g = DMatrix::from_fn(len, generators.len(), |i, k| generators[k][i]);
        let sub = &w * &g;
        echelon(&null_space(&sub, scale, tolerance))
            .into_iter()
            .map(|c| {
                let mut v = vec![0.0; len];
                for (k, gk) in generators.iter().enumerate() {
                    v.iter_mut().zip(gk).for_each(|(x, y)| *x += c[k] * y);
                }
                v
            })
            .collect()
    };
    for (kind, generators) in [
        (SymmetryKind::Translation, translations),
        (SymmetryKind::Rotation, rotations),
        (SymmetryKind::Time, vec![unit(space.time())]),
    ] {
        for v in within(&generators) {
            found.push(v.clone());
            symmetries.push((kind, v));
        }
    }
    // what the whole null space holds beyond those: general linear fields and combinations
    let all = null_space(&w, scale, tolerance);
    if all.ncols() > found.len() {
        let f = DMatrix::from_fn(len, found.len(), |i, k| found[k][i]);
        let projected = if found.is_empty() {
            all.clone()
        } else {
            // remove the components along the span of the found ones (least squares)
            let q = f.clone().qr().q();
            &all - &q * (q.transpose() * &all)
        };
        let svd = projected.svd(true, false);
        let u = svd.u.expect("requested");
        let extra: Vec<usize> = (0..svd.singular_values.len())
            .filter(|&k| svd.singular_values[k] > 0.5)
            .collect();
        let basis = DMatrix::from_fn(len, extra.len(), |i, k| u[(i, extra[k])]);
        for v in echelon(&basis) {
            symmetries.push((SymmetryKind::Linear, v));
        }
    }

    let symmetries = symmetries
        .into_iter()
        .map(|(kind, v)| {
            let largest = v.iter().fold(0.0_f64, |a, x| a.max(x.abs()));
            let v: Vec<f64> = v.iter().map(|x| x / largest).collect();
            Symmetry {
                kind,
                translation: v[..n].to_vec(),
                matrix: v[n..n + n * n].to_vec(),
                time: v[space.time()],
                singular_value: singular_value(&v),
                defect: defect(&v),
            }
        })
        .collect();

    let mut candidates: Vec<CandidateDefect> = (0..n)
        .map(|i| CandidateDefect {
            kind: SymmetryKind::Translation,
            coordinates: vec![i],
            defect: defect(&unit(i)),
        })
        .collect();
    candidates.extend(pairs.iter().map(|&(a, b)| CandidateDefect {
        kind: SymmetryKind::Rotation,
        coordinates: vec![a, b],
        defect: defect(&rotation(a, b)),
    }));
    candidates.push(CandidateDefect {
        kind: SymmetryKind::Time,
        coordinates: Vec::new(),
        defect: defect(&unit(space.time())),
    });
    Ok(SymmetryAnalysis {
        space,
        symmetries,
        singular_values,
        candidates,
    })
}
