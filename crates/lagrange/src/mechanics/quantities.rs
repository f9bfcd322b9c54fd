//! Quantities derived from L by automatic differentiation: momenta, Jacobi integral (energy),
//! ∂L/∂t, mass matrix, and the Hamiltonian by Legendre transform.

use super::eom::{check_dims, euler_lagrange_parts};
use super::error::MechanicsError;
use super::linalg::solve_in_place;
use crate::lagrangian::{LagrangianOver, Scalar};
use nalgebra::Const;
use num_dual::{Dual, DualSVec};

const BLOCK: usize = 8;

fn lift<S: Scalar>(x: &[S]) -> Vec<Dual<S>> {
    x.iter().map(|&v| Dual::from_re(v)).collect()
}

/// First-order dual numbers over a block of velocities.
pub(crate) type VelocityDual<S> = DualSVec<S, BLOCK>;

/// Calls `out(i, ∂f/∂q̇ᵢ)` for every i, evaluating `f` once per block of `BLOCK` velocities
/// (shared by the momenta ∂L/∂q̇ and the dissipation force ∂F/∂q̇).
pub(crate) fn velocity_gradient<S: Scalar>(
    t: S,
    q: &[S],
    q_dot: &[S],
    f: impl Fn(VelocityDual<S>, &[VelocityDual<S>], &[VelocityDual<S>]) -> VelocityDual<S>,
    mut out: impl FnMut(usize, S),
) {
    type Dv<S> = VelocityDual<S>;
    let n = q.len();
    let th = Dv::<S>::from_re(t);
    let qh: Vec<Dv<S>> = q.iter().map(|&x| Dv::<S>::from_re(x)).collect();
    for i0 in (0..n).step_by(BLOCK) {
        let qdh: Vec<Dv<S>> = q_dot
            .iter()
            .enumerate()
            .map(|(k, &x)| {
                let v = Dv::<S>::from_re(x);
                if k >= i0 && k < i0 + BLOCK {
                    v.derivative(k - i0)
                } else {
                    v
                }
            })
            .collect();
        let grad = f(th, &qh, &qdh)
            .eps
            .unwrap_generic(Const::<BLOCK>, Const::<1>);
        for i in 0..BLOCK.min(n - i0) {
            out(i0 + i, grad[i]);
        }
    }
}

/// The value `L(t, q, q̇)`.
pub fn lagrangian_value<S: Scalar, L: LagrangianOver<S> + ?Sized>(
    lagrangian: &L,
    t: S,
    q: &[S],
    q_dot: &[S],
) -> Result<S, MechanicsError> {
    check_dims(lagrangian, q, q_dot)?;
    Ok(lagrangian
        .lagrangian_over(Dual::from_re(t), &lift(q), &lift(q_dot))
        .re)
}

/// Canonical momenta `p = ∂L/∂q̇`.
pub fn momenta<S: Scalar, L: LagrangianOver<S> + ?Sized>(
    lagrangian: &L,
    t: S,
    q: &[S],
    q_dot: &[S],
) -> Result<Vec<S>, MechanicsError> {
    let n = check_dims(lagrangian, q, q_dot)?;
    let mut p = vec![S::zero(); n];
    if uses_terms(lagrangian, n) {
        super::structured::add_term_momenta(lagrangian, t, q, q_dot, &mut p);
        return Ok(p);
    }
    velocity_gradient(
        t,
        q,
        q_dot,
        |t, q, v| lagrangian.lagrangian_over(t, q, v),
        |i, d| p[i] = d,
    );
    Ok(p)
}

/// Whether the derived quantities go term by term: L declares local terms and `n` is past the
/// single-pass size (the same rule as the equations of motion).
fn uses_terms<S: Scalar, L: LagrangianOver<S> + ?Sized>(lagrangian: &L, n: usize) -> bool {
    n > super::eom::MAX_SINGLE_PASS && lagrangian.structure().local_terms > 0
}

/// The Jacobi integral `h = q̇·∂L/∂q̇ − L` (the energy for natural systems).
///
/// One dual pass: `q̇·∂L/∂q̇` is the derivative of `L(q, q̇ + ε q̇)` at ε = 0.
pub fn jacobi_integral<S: Scalar, L: LagrangianOver<S> + ?Sized>(
    lagrangian: &L,
    t: S,
    q: &[S],
    q_dot: &[S],
) -> Result<S, MechanicsError> {
    check_dims(lagrangian, q, q_dot)?;
    let qdh: Vec<Dual<S>> = q_dot.iter().map(|&v| Dual::new(v, v)).collect();
    let l = lagrangian.lagrangian_over(Dual::from_re(t), &lift(q), &qdh);
    Ok(l.eps - l.re)
}

/// Alias of [`jacobi_integral`]: the energy function `E = q̇·∂L/∂q̇ − L`.
pub fn energy<S: Scalar, L: LagrangianOver<S> + ?Sized>(
    lagrangian: &L,
    t: S,
    q: &[S],
    q_dot: &[S],
) -> Result<S, MechanicsError> {
    jacobi_integral(lagrangian, t, q, q_dot)
}

/// Explicit time dependence `∂L/∂t` (equals `−dh/dt` along solutions without dissipation).
pub fn partial_time<S: Scalar, L: LagrangianOver<S> + ?Sized>(
    lagrangian: &L,
    t: S,
    q: &[S],
    q_dot: &[S],
) -> Result<S, MechanicsError> {
    check_dims(lagrangian, q, q_dot)?;
    Ok(lagrangian
        .lagrangian_over(Dual::new(t, S::one()), &lift(q), &lift(q_dot))
        .eps)
}

/// The mass matrix `∂²L/∂q̇²`, `n × n` row-major.
pub fn mass_matrix<S: Scalar, L: LagrangianOver<S> + ?Sized>(
    lagrangian: &L,
    t: S,
    q: &[S],
    q_dot: &[S],
) -> Result<Vec<S>, MechanicsError> {
    Ok(euler_lagrange_parts(lagrangian, t, q, q_dot)?.mass_matrix)
}

/// Inverts `p = ∂L/∂q̇(t, q, q̇)` for q̇ by Newton's method (exact in one step when L is
/// quadratic in q̇).
pub fn velocities_from_momenta<L: LagrangianOver<f64> + ?Sized>(
    lagrangian: &L,
    t: f64,
    q: &[f64],
    p: &[f64],
) -> Result<Vec<f64>, MechanicsError> {
    let n = check_dims(lagrangian, q, p)?;
    velocities_from_momenta_near(lagrangian, t, q, p, &vec![0.0; n])
}

/// [`velocities_from_momenta`] with Newton started from `guess` (an integrator's prediction
/// saves iterations when L is not quadratic in q̇).
pub fn velocities_from_momenta_near<L: LagrangianOver<f64> + ?Sized>(
    lagrangian: &L,
    t: f64,
    q: &[f64],
    p: &[f64],
    guess: &[f64],
) -> Result<Vec<f64>, MechanicsError> {
    check_dims(lagrangian, q, p)?;
    let n = check_dims(lagrangian, q, guess)?;
    let mut q_dot = guess.to_vec();
    let scale = p.iter().fold(1.0_f64, |a, x| a.max(x.abs()));
    let max_iter = 50;
    let mut residual = f64::INFINITY;
    let structured = uses_terms(lagrangian, n);
    for _ in 0..max_iter {
        let p_now = momenta(lagrangian, t, q, &q_dot)?;
        let mut delta: Vec<f64> = p.iter().zip(&p_now).map(|(a, b)| a - b).collect();
        residual = delta.iter().fold(0.0_f64, |a, x| a.max(x.abs()));
        if residual <= 1e-14 * scale {
            return Ok(q_dot);
        }
        if structured {
            // M from the terms, solved in its band: O(n) for chains, no n × n matrix
            let parts = super::structured::structured_parts(lagrangian, t, q, &q_dot);
            super::structured::solve_mass(t, &parts, &mut delta)?;
        } else {
            let mut m = mass_matrix(lagrangian, t, q, &q_dot)?;
            solve_in_place(&mut m, n, &mut delta).map_err(|relative_pivot| {
                MechanicsError::SingularMassMatrix { t, relative_pivot }
            })?;
        }
        for (v, d) in q_dot.iter_mut().zip(&delta) {
            *v += d;
        }
    }
    Err(MechanicsError::NoConvergence {
        t,
        iterations: max_iter,
        residual,
    })
}

/// The Hamiltonian `H(t, q, p) = p·q̇ − L` with q̇ from the Legendre transform.
pub fn hamiltonian<L: LagrangianOver<f64> + ?Sized>(
    lagrangian: &L,
    t: f64,
    q: &[f64],
    p: &[f64],
) -> Result<f64, MechanicsError> {
    let q_dot = velocities_from_momenta(lagrangian, t, q, p)?;
    let l = lagrangian_value(lagrangian, t, q, &q_dot)?;
    Ok(p.iter().zip(&q_dot).map(|(a, b)| a * b).sum::<f64>() - l)
}
