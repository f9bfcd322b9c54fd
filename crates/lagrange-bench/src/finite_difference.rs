//! "Traditional" numerical differentiation: the Euler–Lagrange solve with every derivative of L
//! taken by central finite differences of `f64` evaluations (the baseline autodiff replaces).

use lagrange::mechanics::linalg::solve_in_place;
use lagrange::{Lagrangian, MechanicsError};

/// Step for first derivatives: ≈ ε^(1/3) balances O(h²) truncation against O(ε/h) rounding.
pub const STEP_FIRST: f64 = 6e-6;
/// Step for second derivatives: ≈ ε^(1/4) balances O(h²) truncation against O(ε/h²) rounding.
pub const STEP_SECOND: f64 = 1e-4;

/// q̈ from central differences of L: ∂L/∂q (first differences), M and the mixed q̇–(q, t)
/// derivative along v = (q̇, 0, 1) (second differences), then a dense LU solve.
///
/// Costs O(n²) evaluations of L per call.
pub fn accelerations_fd<L: Lagrangian + ?Sized>(
    lagrangian: &L,
    t: f64,
    q: &[f64],
    q_dot: &[f64],
) -> Result<Vec<f64>, MechanicsError> {
    let n = q.len();
    let l = |t: f64, q: &[f64], v: &[f64]| lagrangian.lagrangian(t, q, v);
    let (mut qp, mut vp) = (q.to_vec(), q_dot.to_vec());
    let mut force = vec![0.0; n];
    let mut m = vec![0.0; n * n];
    let h1 = STEP_FIRST;
    let h2 = STEP_SECOND;
    // ∂L/∂q_i (relative steps keep the balance for large |q|)
    for i in 0..n {
        let h = h1 * q[i].abs().max(1.0);
        qp[i] = q[i] + h;
        let up = l(t, &qp, q_dot);
        qp[i] = q[i] - h;
        let dn = l(t, &qp, q_dot);
        qp[i] = q[i];
        force[i] = (up - dn) / (2.0 * h);
    }
    // ∂²L/∂q̇_i∂q̇_j
    for i in 0..n {
        for j in 0..n {
            let (hi, hj) = (h2 * q_dot[i].abs().max(1.0), h2 * q_dot[j].abs().max(1.0));
            let mut f = |si: f64, sj: f64| {
                vp[i] += si * hi;
                vp[j] += sj * hj;
                let r = l(t, q, &vp);
                vp[i] = q_dot[i];
                vp[j] = q_dot[j];
                r
            };
            m[i * n + j] =
                (f(1.0, 1.0) - f(1.0, -1.0) - f(-1.0, 1.0) + f(-1.0, -1.0)) / (4.0 * hi * hj);
        }
    }
    // ∂_v ∂L/∂q̇_i with v = (q̇ on q, 1 on t): one mixed second difference per i
    for i in 0..n {
        let hi = h2 * q_dot[i].abs().max(1.0);
        let hv = h2;
        let mut f = |si: f64, sv: f64| {
            vp[i] += si * hi;
            for k in 0..n {
                qp[k] = q[k] + sv * hv * q_dot[k];
            }
            let r = l(t + sv * hv, &qp, &vp);
            vp[i] = q_dot[i];
            r
        };
        let mixed = (f(1.0, 1.0) - f(1.0, -1.0) - f(-1.0, 1.0) + f(-1.0, -1.0)) / (4.0 * hi * hv);
        force[i] -= mixed;
    }
    qp.copy_from_slice(q);
    solve_in_place(&mut m, n, &mut force)
        .map_err(|relative_pivot| MechanicsError::SingularMassMatrix { t, relative_pivot })?;
    Ok(force)
}
