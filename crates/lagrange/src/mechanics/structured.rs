//! The Euler–Lagrange solve for Lagrangians declared as a sum of local terms `L = Σ_k L_k`.
//!
//! Dense forward mode costs O(n²) per operation of L (every dual carries an n × (2n+1) block).
//! When each term touches only a few coordinates, differentiating term by term with duals sized
//! to the term gives the same `M` and force in O(#terms), and the mass matrix is sparse (for
//! chains and N bodies it is diagonal), so a banded solve finishes in O(n · bw²).

use super::eom::{EulerLagrangeParts, euler_lagrange_parts_dense_into};
use super::error::MechanicsError;
use super::linalg::{solve_banded_in_place, solve_in_place};
use crate::lagrangian::{LagrangianOver, Scalar};
use num_dual::DualNum;

/// One term of a structured Lagrangian, seen as a Lagrangian of its own local coordinates.
pub(crate) struct Term<'a, L: ?Sized> {
    pub(crate) lagrangian: &'a L,
    pub(crate) k: usize,
    pub(crate) dof: usize,
}

impl<S: Scalar, L: LagrangianOver<S> + ?Sized> LagrangianOver<S> for Term<'_, L> {
    fn dof(&self) -> usize {
        self.dof
    }
    fn lagrangian_over<D: Scalar + DualNum<InnerDual = S>>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
        self.lagrangian.term_over(self.k, t, q, q_dot)
    }
}

/// The declared terms' coordinates, gathered once by the evaluators that keep the structure
/// between calls: term `k` touches `coords[offsets[k]..offsets[k + 1]]`.
pub(crate) struct TermLayout {
    pub(crate) coords: Vec<usize>,
    pub(crate) offsets: Vec<usize>,
    /// Half-bandwidth the terms imply: the widest coordinate span of one term.
    pub(crate) bandwidth: usize,
    /// Most coordinates of one term.
    pub(crate) widest: usize,
    /// Every coordinate is below `n`.
    pub(crate) in_range: bool,
}

impl TermLayout {
    pub(crate) fn new<S: Scalar, L: LagrangianOver<S> + ?Sized>(lagrangian: &L, n: usize) -> Self {
        let mut layout = TermLayout {
            coords: Vec::new(),
            offsets: vec![0],
            bandwidth: 0,
            widest: 0,
            in_range: true,
        };
        for k in 0..lagrangian.structure().local_terms {
            let start = layout.coords.len();
            lagrangian.term_coordinates(k, &mut layout.coords);
            let local = &layout.coords[start..];
            layout.widest = layout.widest.max(local.len());
            layout.in_range &= local.iter().all(|&c| c < n);
            if let (Some(lo), Some(hi)) = (local.iter().min(), local.iter().max()) {
                layout.bandwidth = layout.bandwidth.max(hi - lo);
            }
            layout.offsets.push(layout.coords.len());
        }
        layout
    }

    /// Coordinates of term `k`.
    pub(crate) fn term(&self, k: usize) -> &[usize] {
        &self.coords[self.offsets[k]..self.offsets[k + 1]]
    }

    /// Number of terms.
    pub(crate) fn len(&self) -> usize {
        self.offsets.len() - 1
    }
}

/// The sparse mass matrix as `(row, col, value)` triplets (structural zeros dropped; duplicates
/// summed) and the dense generalized force.
#[derive(Debug, Clone)]
pub struct SparseParts<S> {
    /// Non-zero entries of `∂²L/∂q̇²`.
    pub mass_triplets: Vec<(usize, usize, S)>,
    /// `∂L/∂q − (∂²L/∂q̇∂q) q̇ − ∂²L/∂q̇∂t − ∂F/∂q̇ + Q`.
    pub force: Vec<S>,
}

/// Mass matrix and force of a structured Lagrangian, term by term.
///
/// Entries whose real part is exactly zero are dropped from the sparse pattern.
pub fn structured_parts<S: Scalar, L: LagrangianOver<S> + ?Sized>(
    lagrangian: &L,
    t: S,
    q: &[S],
    q_dot: &[S],
) -> SparseParts<S> {
    const LOCAL: usize = 8;
    let n = q.len();
    let mut force = vec![S::zero(); n];
    let mut mass_triplets = Vec::with_capacity(n);
    let mut coords = Vec::with_capacity(LOCAL);
    let (mut ql, mut qdl) = ([S::zero(); LOCAL], [S::zero(); LOCAL]);
    let (mut ml, mut fl) = ([S::zero(); LOCAL * LOCAL], [S::zero(); LOCAL]);
    let (mut qv, mut qdv, mut mv, mut fv) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for k in 0..lagrangian.structure().local_terms {
        coords.clear();
        lagrangian.term_coordinates(k, &mut coords);
        let b = coords.len();
        let term = Term {
            lagrangian,
            k,
            dof: b,
        };
        let (ql, qdl, ml, fl) = if b <= LOCAL {
            (&mut ql[..b], &mut qdl[..b], &mut ml[..b * b], &mut fl[..b])
        } else {
            qv.resize(b, S::zero());
            qdv.resize(b, S::zero());
            mv.resize(b * b, S::zero());
            fv.resize(b, S::zero());
            (&mut qv[..], &mut qdv[..], &mut mv[..], &mut fv[..])
        };
        for (i, &c) in coords.iter().enumerate() {
            ql[i] = q[c];
            qdl[i] = q_dot[c];
        }
        ml.fill(S::zero());
        fl.fill(S::zero());
        euler_lagrange_parts_dense_into(&term, t, ql, qdl, ml, fl);
        for (i, &ci) in coords.iter().enumerate() {
            force[ci] += fl[i];
            for (j, &cj) in coords.iter().enumerate() {
                let v = ml[i * b + j];
                if v.re() != 0.0 {
                    mass_triplets.push((ci, cj, v));
                }
            }
        }
    }
    super::eom::add_declared_forces(lagrangian, t, q, q_dot, &mut force);
    SparseParts {
        mass_triplets,
        force,
    }
}

impl<S: Scalar> SparseParts<S> {
    /// Half-bandwidth of the mass matrix: the largest `|i − j|` of a non-zero entry.
    pub fn mass_bandwidth(&self) -> usize {
        self.mass_triplets
            .iter()
            .map(|&(i, j, _)| i.abs_diff(j))
            .max()
            .unwrap_or(0)
    }

    /// The mass matrix in the `n × (2 bw + 1)` layout of
    /// [`solve_banded_in_place`](super::linalg::solve_banded_in_place); `bw ≥ mass_bandwidth()`.
    pub fn mass_band(&self, bw: usize) -> Vec<S> {
        let n = self.force.len();
        let mut band = vec![S::zero(); n * (2 * bw + 1)];
        for &(i, j, v) in &self.mass_triplets {
            band[super::linalg::band_index(bw, i, j)] += v;
        }
        band
    }

    /// The dense form (for tests and small systems).
    pub fn to_dense(&self) -> EulerLagrangeParts<S> {
        let n = self.force.len();
        let mut mass_matrix = vec![S::zero(); n * n];
        for &(i, j, v) in &self.mass_triplets {
            mass_matrix[i * n + j] += v;
        }
        EulerLagrangeParts {
            mass_matrix,
            force: self.force.clone(),
        }
    }
}

/// Most coordinates for which a sparse mass matrix whose band is too wide (or needs pivoting)
/// falls back to a dense `n × n` LU; beyond, that would take gigabytes, and it is an error.
pub const MAX_DENSE_FALLBACK: usize = 4096;

/// Solves `M q̈ = force` for the sparse parts: diagonal, banded (no pivoting) or, when the band
/// is wide or a pivot is poor, dense LU with pivoting. Writes q̈ into `out`.
pub(crate) fn solve_sparse<S: Scalar>(
    t: S,
    parts: SparseParts<S>,
    out: &mut [S],
) -> Result<(), MechanicsError> {
    if parts.force.iter().any(|x| !x.re().is_finite()) {
        return Err(MechanicsError::NonFinite {
            t: t.re(),
            what: "generalized force",
        });
    }
    out.copy_from_slice(&parts.force);
    solve_mass(t, &parts, out)
}

/// Solves `M x = b` in place with the mass matrix of `parts` (see [`solve_sparse`]).
pub(crate) fn solve_mass<S: Scalar>(
    t: S,
    parts: &SparseParts<S>,
    b: &mut [S],
) -> Result<(), MechanicsError> {
    let n = parts.force.len();
    let singular = |relative_pivot| MechanicsError::SingularMassMatrix {
        t: t.re(),
        relative_pivot,
    };
    if parts
        .mass_triplets
        .iter()
        .any(|(_, _, v)| !v.re().is_finite())
    {
        return Err(MechanicsError::NonFinite {
            t: t.re(),
            what: "mass matrix",
        });
    }
    let bw = parts.mass_bandwidth();
    let rhs = b.to_vec();
    let mut pivot = 0.0;
    if bw <= n / 8 || n > MAX_DENSE_FALLBACK {
        let mut band = parts.mass_band(bw);
        match solve_banded_in_place(&mut band, n, bw, b) {
            Ok(()) => return Ok(()),
            Err(relative_pivot) => pivot = relative_pivot,
        }
        b.copy_from_slice(&rhs);
    }
    if n > MAX_DENSE_FALLBACK {
        // the banded LU does not pivot: a pivot of 0 here may be a pivoting need, not a
        // singular M, but a dense fallback would need n² memory
        return Err(singular(pivot));
    }
    let mut dense = parts.to_dense();
    solve_in_place(&mut dense.mass_matrix, n, b).map_err(singular)
}

/// Adds every term's momenta `∂L_k/∂q̇` to `p` (scattered to the global coordinates).
pub(crate) fn add_term_momenta<S: Scalar, L: LagrangianOver<S> + ?Sized>(
    lagrangian: &L,
    t: S,
    q: &[S],
    q_dot: &[S],
    p: &mut [S],
) {
    let mut coords = Vec::new();
    let (mut ql, mut qdl) = (Vec::new(), Vec::new());
    for k in 0..lagrangian.structure().local_terms {
        coords.clear();
        lagrangian.term_coordinates(k, &mut coords);
        ql.clear();
        qdl.clear();
        ql.extend(coords.iter().map(|&c| q[c]));
        qdl.extend(coords.iter().map(|&c| q_dot[c]));
        super::quantities::velocity_gradient(
            t,
            &ql,
            &qdl,
            |t, q, v| lagrangian.term_over(k, t, q, v),
            |i, d| p[coords[i]] += d,
        );
    }
}
