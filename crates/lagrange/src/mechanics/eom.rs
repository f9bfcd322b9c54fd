//! Euler–Lagrange equations solved for q̈, by forward-mode automatic differentiation.
//!
//! With `M = ∂²L/∂q̇²` and the direction `v = (q̇ on q, 0 on q̇, 1 on t)`,
//!
//! ```text
//! M q̈ = ∂L/∂q − ∂_v(∂L/∂q̇) − ∂F/∂q̇ + Q,   ∂_v(∂L/∂q̇) = (∂²L/∂q̇∂q) q̇ + ∂²L/∂q̇∂t.
//! ```
//!
//! One hyper-dual evaluation of `L` gives everything: ε₁ runs over q̇, ε₂ over (q̇, v, q), so the
//! ε₁ε₂ block holds `M` and the directional column, and the ε₂ part holds `∂L/∂q`. Taking the
//! mixed `∂²L/∂q̇∂q` block only along `v` saves forming it and multiplying by q̇.
//! Up to [`MAX_SINGLE_PASS`] coordinates this is one pass with stack-allocated duals; beyond, the
//! same kernel runs over blocks of coordinates (dense, O(n²) per operation of L).

use super::error::MechanicsError;
use super::jet::EomJet;
use super::linalg::{solve_in_place, solve_small};
use crate::lagrangian::{LagrangianOver, Scalar};
use nalgebra::{Const, SMatrix};
use num_dual::{Derivative, HyperDualVec};

/// Largest number of coordinates handled in a single stack-allocated pass.
pub const MAX_SINGLE_PASS: usize = 8;
/// Block size of the multi-pass kernel for larger systems.
const BLOCK: usize = 8;

/// The pieces of the Euler–Lagrange equations at one state: `M q̈ = force`.
#[derive(Debug, Clone, PartialEq)]
pub struct EulerLagrangeParts<S> {
    /// `n × n` mass matrix `∂²L/∂q̇²`, row-major.
    pub mass_matrix: Vec<S>,
    /// Right-hand side `∂L/∂q − (∂²L/∂q̇∂q) q̇ − ∂²L/∂q̇∂t − ∂F/∂q̇ + Q`.
    pub force: Vec<S>,
}

/// Generalized accelerations q̈ at `(t, q, q̇)`.
///
/// Works for any inner scalar `S` (`f64`, or a dual number over model parameters when learning).
pub fn accelerations<S: Scalar, L: LagrangianOver<S> + ?Sized>(
    lagrangian: &L,
    t: S,
    q: &[S],
    q_dot: &[S],
) -> Result<Vec<S>, MechanicsError> {
    let mut out = vec![S::zero(); q.len()];
    accelerations_into(lagrangian, t, q, q_dot, &mut out)?;
    Ok(out)
}

/// Which Euler–Lagrange assembly to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EomPath {
    /// Structured when L declares local terms and `n > MAX_SINGLE_PASS`, dense otherwise.
    #[default]
    Auto,
    /// One dense hyper-dual evaluation of the whole L (blocked beyond `MAX_SINGLE_PASS`).
    Dense,
    /// Term by term with a sparse (banded) solve; requires declared local terms ([`Structure::local_terms`](crate::Structure::local_terms)).
    Structured,
}

/// Like [`accelerations`], writing into `out` (no allocation on the dense path for `n ≤ 8`).
pub fn accelerations_into<S: Scalar, L: LagrangianOver<S> + ?Sized>(
    lagrangian: &L,
    t: S,
    q: &[S],
    q_dot: &[S],
    out: &mut [S],
) -> Result<(), MechanicsError> {
    accelerations_with(EomPath::Auto, lagrangian, t, q, q_dot, out)
}

/// Like [`accelerations_into`] with an explicit choice of [`EomPath`].
pub fn accelerations_with<S: Scalar, L: LagrangianOver<S> + ?Sized>(
    path: EomPath,
    lagrangian: &L,
    t: S,
    q: &[S],
    q_dot: &[S],
    out: &mut [S],
) -> Result<(), MechanicsError> {
    let n = check_inputs(lagrangian, t, q, q_dot, out)?;
    let structured = match path {
        EomPath::Auto => lagrangian.structure().local_terms > 0 && n > MAX_SINGLE_PASS,
        EomPath::Dense => false,
        EomPath::Structured => lagrangian.structure().local_terms > 0,
    };
    if structured {
        let parts = super::structured::structured_parts(lagrangian, t, q, q_dot);
        return super::structured::solve_sparse(t, parts, out);
    }
    match n {
        1 => accelerations_small::<S, L, 1>(lagrangian, t, q, q_dot, out),
        2 => accelerations_small::<S, L, 2>(lagrangian, t, q, q_dot, out),
        3 => accelerations_small::<S, L, 3>(lagrangian, t, q, q_dot, out),
        4 => accelerations_small::<S, L, 4>(lagrangian, t, q, q_dot, out),
        5 => accelerations_small::<S, L, 5>(lagrangian, t, q, q_dot, out),
        6 => accelerations_small::<S, L, 6>(lagrangian, t, q, q_dot, out),
        7 => accelerations_small::<S, L, 7>(lagrangian, t, q, q_dot, out),
        8 => accelerations_small::<S, L, 8>(lagrangian, t, q, q_dot, out),
        _ => {
            out.fill(S::zero());
            let mut m = vec![S::zero(); n * n];
            euler_lagrange_parts_dense_into(lagrangian, t, q, q_dot, &mut m, out);
            solve(t, &mut m, n, out)
        }
    }
}

/// q̈ for `n == N ≤ MAX_SINGLE_PASS`: one [`EomJet`] pass and an unrolled solve, all on the stack.
#[inline(never)]
fn accelerations_small<S: Scalar, L: LagrangianOver<S> + ?Sized, const N: usize>(
    lagrangian: &L,
    t: S,
    q: &[S],
    q_dot: &[S],
    out: &mut [S],
) -> Result<(), MechanicsError> {
    let (mut m, mut force) = jet_parts::<S, L, N>(lagrangian, t, q, q_dot);
    finish_force(lagrangian, t, q, q_dot, &mut force)?;
    solve_small(&mut m, &mut force).map_err(|relative_pivot| {
        solve_failure(
            t,
            m.iter().flatten().all(|x| x.re().is_finite()),
            relative_pivot,
        )
    })?;
    out.copy_from_slice(&force);
    Ok(())
}

/// The mass matrix and generalized force at `(t, q, q̇)`, without solving.
pub fn euler_lagrange_parts<S: Scalar, L: LagrangianOver<S> + ?Sized>(
    lagrangian: &L,
    t: S,
    q: &[S],
    q_dot: &[S],
) -> Result<EulerLagrangeParts<S>, MechanicsError> {
    let n = check_dims(lagrangian, q, q_dot)?;
    let mut mass_matrix = vec![S::zero(); n * n];
    let mut force = vec![S::zero(); n];
    euler_lagrange_parts_dense_into(lagrangian, t, q, q_dot, &mut mass_matrix, &mut force);
    Ok(EulerLagrangeParts { mass_matrix, force })
}

fn solve<S: Scalar>(t: S, m: &mut [S], n: usize, rhs: &mut [S]) -> Result<(), MechanicsError> {
    if rhs.iter().any(|x| !x.re().is_finite()) {
        return Err(MechanicsError::NonFinite {
            t: t.re(),
            what: "generalized force",
        });
    }
    solve_in_place(m, n, rhs).map_err(|relative_pivot| {
        solve_failure(t, m.iter().all(|x| x.re().is_finite()), relative_pivot)
    })
}

/// The error for a failed solve: a non-finite mass matrix or a singular one.
fn solve_failure<S: Scalar>(t: S, mass_finite: bool, relative_pivot: f64) -> MechanicsError {
    MechanicsError::failed_solve(t.re(), mass_finite, relative_pivot)
}

pub(crate) fn check_dims<S: Scalar, L: LagrangianOver<S> + ?Sized>(
    lagrangian: &L,
    q: &[S],
    q_dot: &[S],
) -> Result<usize, MechanicsError> {
    let n = lagrangian.dof();
    for len in [q.len(), q_dot.len()] {
        if len != n {
            return Err(MechanicsError::DimensionMismatch {
                expected: n,
                got: len,
            });
        }
    }
    Ok(n)
}

/// Dimensions of `q`, `q̇` and `out` against `dof`, and a finite state; returns `n`.
pub(crate) fn check_inputs<S: Scalar, L: LagrangianOver<S> + ?Sized>(
    lagrangian: &L,
    t: S,
    q: &[S],
    q_dot: &[S],
    out: &[S],
) -> Result<usize, MechanicsError> {
    let n = check_dims(lagrangian, q, q_dot)?;
    if out.len() != n {
        return Err(MechanicsError::DimensionMismatch {
            expected: n,
            got: out.len(),
        });
    }
    check_finite(t, q, q_dot)?;
    Ok(n)
}

/// Completes `∂L/∂q − ∂_v(∂L/∂q̇)` into the generalized force (Rayleigh `−∂F/∂q̇` and extra
/// `Q`) and rejects a non-finite result.
pub(crate) fn finish_force<S: Scalar, L: LagrangianOver<S> + ?Sized>(
    lagrangian: &L,
    t: S,
    q: &[S],
    q_dot: &[S],
    force: &mut [S],
) -> Result<(), MechanicsError> {
    add_declared_forces(lagrangian, t, q, q_dot, force);
    if force.iter().any(|x| !x.re().is_finite()) {
        return Err(MechanicsError::NonFinite {
            t: t.re(),
            what: "generalized force",
        });
    }
    Ok(())
}

pub(crate) fn check_finite<S: Scalar>(t: S, q: &[S], q_dot: &[S]) -> Result<(), MechanicsError> {
    if !t.re().is_finite() || q.iter().chain(q_dot).any(|x| !x.re().is_finite()) {
        return Err(MechanicsError::NonFinite {
            t: t.re(),
            what: "state",
        });
    }
    Ok(())
}

/// Fills `m` (n×n, zeroed) with `∂²L/∂q̇²` and adds the generalized force to `force` (zeroed).
pub(crate) fn euler_lagrange_parts_dense_into<S: Scalar, L: LagrangianOver<S> + ?Sized>(
    lagrangian: &L,
    t: S,
    q: &[S],
    q_dot: &[S],
    m: &mut [S],
    force: &mut [S],
) {
    let n = q.len();
    match n {
        1 => jet_pass::<S, L, 1>(lagrangian, t, q, q_dot, m, force),
        2 => jet_pass::<S, L, 2>(lagrangian, t, q, q_dot, m, force),
        3 => jet_pass::<S, L, 3>(lagrangian, t, q, q_dot, m, force),
        4 => jet_pass::<S, L, 4>(lagrangian, t, q, q_dot, m, force),
        5 => jet_pass::<S, L, 5>(lagrangian, t, q, q_dot, m, force),
        6 => jet_pass::<S, L, 6>(lagrangian, t, q, q_dot, m, force),
        7 => jet_pass::<S, L, 7>(lagrangian, t, q, q_dot, m, force),
        8 => jet_pass::<S, L, 8>(lagrangian, t, q, q_dot, m, force),
        _ => {
            for i0 in (0..n).step_by(BLOCK) {
                for j0 in (0..n).step_by(BLOCK) {
                    block_pass::<S, L, BLOCK, { 2 * BLOCK + 1 }>(
                        lagrangian, t, q, q_dot, i0, j0, m, force,
                    );
                }
            }
        }
    }
    add_declared_forces(lagrangian, t, q, q_dot, force);
}

/// One [`EomJet`] evaluation of the whole L (`n == N ≤ MAX_SINGLE_PASS`), written into slices.
///
/// Not inlined: merged into one caller, the eight sizes and the blocked kernel share a single
/// stack frame of tens of kilobytes whose page probes cost more than the whole small-n EOM.
#[inline(never)]
fn jet_pass<S: Scalar, L: LagrangianOver<S> + ?Sized, const N: usize>(
    lagrangian: &L,
    t: S,
    q: &[S],
    q_dot: &[S],
    m: &mut [S],
    force: &mut [S],
) {
    let (mj, fj) = jet_parts::<S, L, N>(lagrangian, t, q, q_dot);
    for i in 0..N {
        m[i * N..(i + 1) * N].copy_from_slice(&mj[i]);
        force[i] += fj[i];
    }
}

/// `M = ∂²L/∂q̇²` and `∂L/∂q − ∂_v(∂L/∂q̇)` from one [`EomJet`] evaluation of L.
#[inline(always)]
fn jet_parts<S: Scalar, L: LagrangianOver<S> + ?Sized, const N: usize>(
    lagrangian: &L,
    t: S,
    q: &[S],
    q_dot: &[S],
) -> ([[S; N]; N], [S; N]) {
    let mut qj = [EomJet::<S, N>::constant(S::zero()); N];
    let mut qdj = qj;
    for k in 0..N {
        qj[k] = EomJet::coordinate(q[k], q_dot[k], k);
        qdj[k] = EomJet::velocity(q_dot[k], k);
    }
    let l = lagrangian.lagrangian_over(EomJet::time(t), &qj, &qdj);
    // M from the upper triangle the jet keeps.
    let m = std::array::from_fn(|i| std::array::from_fn(|j| l.vv[i.min(j)][i.max(j)]));
    (m, std::array::from_fn(|i| l.q[i] - l.vd[i]))
}

/// One hyper-dual evaluation for the row block `i0..i0+B` and the column block `j0..j0+B`.
///
/// ε₁ (size B) seeds `q̇_I`; ε₂ (size K = 2B+1) seeds `q̇_J` (0..B), the direction v (B) and
/// `q_I` (B+1..2B+1). Writes `M[I, J]`; when `j0 == 0` also adds `∂L/∂q_I − ∂_v(∂L/∂q̇_I)`.
#[allow(clippy::too_many_arguments)]
#[inline]
fn block_pass<S: Scalar, L: LagrangianOver<S> + ?Sized, const B: usize, const K: usize>(
    lagrangian: &L,
    t: S,
    q: &[S],
    q_dot: &[S],
    i0: usize,
    j0: usize,
    m: &mut [S],
    force: &mut [S],
) {
    debug_assert_eq!(K, 2 * B + 1);
    type Hd<S, const B: usize, const K: usize> = HyperDualVec<S, Const<B>, Const<K>>;
    let n = q.len();
    let in_i = |k: usize| k >= i0 && k < i0 + B;
    let in_j = |k: usize| k >= j0 && k < j0 + B;
    let seed_q = |k: usize| {
        // q_k moves along v with speed q̇_k; within the row block it is also a free variable.
        let mut e2 = SMatrix::<S, 1, K>::zeros();
        e2[B] = q_dot[k];
        if in_i(k) {
            e2[B + 1 + (k - i0)] = S::one();
        }
        Hd::new(
            q[k],
            Derivative::none(),
            Derivative::some(e2),
            Derivative::none(),
        )
    };
    let seed_q_dot = |k: usize| {
        let mut v = Hd::<S, B, K>::from_re(q_dot[k]);
        if in_i(k) {
            v = v.derivative1(k - i0);
        }
        if in_j(k) {
            v = v.derivative2(k - j0);
        }
        v
    };
    let th = Hd::<S, B, K>::from_re(t).derivative2(B);
    // Exactly-sized stack arrays in the single-pass case (n == B): copying oversized arrays of
    // large duals showed up as the top cost in instruction profiles.
    let l = if n == B {
        let mut qh = [Hd::<S, B, K>::from_re(S::zero()); B];
        let mut qdh = [Hd::<S, B, K>::from_re(S::zero()); B];
        for k in 0..B {
            qh[k] = seed_q(k);
            qdh[k] = seed_q_dot(k);
        }
        lagrangian.lagrangian_over(th, &qh, &qdh)
    } else {
        let qh: Vec<Hd<S, B, K>> = (0..n).map(seed_q).collect();
        let qdh: Vec<Hd<S, B, K>> = (0..n).map(seed_q_dot).collect();
        lagrangian.lagrangian_over(th, &qh, &qdh)
    };
    let eps2 = l.eps2.unwrap_generic(Const::<1>, Const::<K>);
    let eps12 = l.eps1eps2.unwrap_generic(Const::<B>, Const::<K>);
    for i in 0..B.min(n - i0) {
        for j in 0..B.min(n - j0) {
            m[(i0 + i) * n + (j0 + j)] = eps12[(i, j)];
        }
        if j0 == 0 {
            force[i0 + i] += eps2[B + 1 + i] - eps12[(i, B)];
        }
    }
}

/// Adds the forces `lagrangian` declares besides L: Rayleigh `−∂F/∂q̇` and extra `Q`.
pub(crate) fn add_declared_forces<S: Scalar, L: LagrangianOver<S> + ?Sized>(
    lagrangian: &L,
    t: S,
    q: &[S],
    q_dot: &[S],
    force: &mut [S],
) {
    let structure = lagrangian.structure();
    if structure.dissipation {
        subtract_dissipation_force(lagrangian, t, q, q_dot, force);
    }
    if structure.generalized_forces {
        lagrangian.add_generalized_forces_over(t, q, q_dot, force);
    }
}

/// Subtracts `∂F/∂q̇` (Rayleigh dissipation) from `force`, in blocks of first-order duals.
pub(crate) fn subtract_dissipation_force<S: Scalar, L: LagrangianOver<S> + ?Sized>(
    lagrangian: &L,
    t: S,
    q: &[S],
    q_dot: &[S],
    force: &mut [S],
) {
    super::quantities::velocity_gradient(
        t,
        q,
        q_dot,
        |t, q, v| lagrangian.dissipation_over(t, q, v),
        |i, d| force[i] -= d,
    );
}
