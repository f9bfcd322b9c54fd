//! Midpoint variational integrator: order 2, symplectic, momentum-preserving.
//!
//! The action over one step is approximated by the midpoint discrete Lagrangian
//!
//! ```text
//! L_d(q_k, q_{k+1}) = h · L(t_k + h/2, (q_k + q_{k+1})/2, (q_{k+1} − q_k)/h),
//! ```
//!
//! and the discrete Euler–Lagrange equations are used in position–momentum form,
//!
//! ```text
//! p_k + D₁L_d(q_k, q_{k+1}) + f⁻ = 0     (solved for q_{k+1}),
//! p_{k+1} = D₂L_d(q_k, q_{k+1}) + f⁺,
//! ```
//!
//! with `p_0 = ∂L/∂q̇(t_0, q_0, q̇_0)`. The implicit equation is solved by Newton's method with
//! the exact Jacobian `∂(D₁L_d)/∂q_{k+1}` from one hyper-dual evaluation of `L` per iteration
//! (ε₁ over `q_k`, ε₂ over `q_{k+1}`; stack-allocated up to 8 coordinates, blocks of 8 beyond),
//! starting from `q_k + h q̇_k`. It must reach a residual `≤ 1e-12` relative to the momenta
//! within [`MAX_ITERATIONS`] iterations (else [`IntegrationError::NewtonDidNotConverge`]) and
//! continues while it still gains, usually to roundoff, so that conserved momenta do not drift.
//!
//! **Properties.** For conservative systems the map `(q_k, p_k) → (q_{k+1}, p_{k+1})` is
//! symplectic: the energy error stays bounded (O(h²)) over exponentially long times instead of
//! drifting, and by the discrete Noether theorem every momentum conjugate to a cyclic coordinate
//! is conserved exactly (up to the Newton tolerance and roundoff). The reported velocities are
//! obtained by inverting `p_{k+1} = ∂L/∂q̇(t_{k+1}, q_{k+1}, q̇_{k+1})`, so they are second-order
//! accurate too. Each output interval is one step (the last one may be shorter).
//!
//! **Forces.** Rayleigh dissipation (when [`Structure::dissipation`](crate::Structure::dissipation) is declared) and extra generalized
//! forces are supported by the discrete Lagrange–d'Alembert principle with midpoint forces:
//! `f⁻ = f⁺ = (h/2)·Q(t_k + h/2, q_mid, v_mid)`, `Q = −∂F/∂q̇ + Q_extra`; their derivative with
//! respect to `q_{k+1}` enters the Newton Jacobian exactly. The map is then no longer symplectic
//! but remains second order.

use super::{IntegrationError, StepCounts, Stepper, all_finite, mechanics_error};
use crate::lagrangian::Lagrangian;
use crate::mechanics::linalg::{band_index, band_to_dense, solve_banded_in_place, solve_in_place};
use crate::mechanics::structured::{MAX_DENSE_FALLBACK, TermLayout};
use crate::mechanics::{AssemblyPath, Evaluator, EvaluatorInfo, MassSolve};
use crate::mechanics::{MechanicsError, accelerations, momenta, velocities_from_momenta_near};
use nalgebra::{Const, SMatrix, U1};
use num_dual::{Derivative, DualSVec, HyperDualVec};

/// Most Newton iterations per step.
pub const MAX_ITERATIONS: usize = 50;
/// Newton must reach `max|residual| ≤ TOLERANCE · max(|p_k|, |D₁L_d|, |D₂L_d|)`; below it,
/// iteration continues while it still gains, down to [`ROUNDOFF`].
pub const TOLERANCE: f64 = 1e-12;
/// Relative residual at which Newton stops in any case (roundoff level).
pub const ROUNDOFF: f64 = 16.0 * f64::EPSILON;
/// Largest system handled in a single stack-allocated dual pass (blocks of this size beyond).
const BLOCK: usize = 8;

/// Discrete Euler–Lagrange quantities at one `(q_k, q_{k+1})`.
struct Eval {
    /// `p_k + D₁L_d + f⁻` (the Newton residual).
    residual: Vec<f64>,
    /// `D₂L_d + f⁺` (the new momentum).
    p_new: Vec<f64>,
    /// `∂residual/∂q_{k+1}`, row-major.
    jacobian: Vec<f64>,
    /// Magnitude of the terms in the residual, for the relative test.
    scale: f64,
}

/// The variational stepper state `(t_k, q_k, p_k)` plus the reported velocity `q̇_k`.
pub(crate) struct Variational<'a, L: Lagrangian + ?Sized> {
    lagrangian: &'a L,
    t: f64,
    q: Vec<f64>,
    p: Vec<f64>,
    q_dot: Vec<f64>,
    eval: Eval,
    counts: StepCounts,
    /// Term structure when L is declared as local terms (then `eval.jacobian` is a band).
    terms: Option<TermBand>,
}

/// What the structured step keeps: the terms' coordinates, the Jacobian's half-bandwidth, and
/// scratch for one term (its local `q_k`, `q_{k+1}` and discrete Euler–Lagrange quantities).
struct TermBand {
    layout: TermLayout,
    bandwidth: usize,
    q0: Vec<f64>,
    q1: Vec<f64>,
    local: Eval,
}

impl TermBand {
    /// The terms of `lagrangian` when the structured step applies: terms declared, `n` beyond
    /// one block, no dissipation or extra forces (they are not split into terms), every term on
    /// at most [`BLOCK`] valid coordinates, and a band narrower than `n / 8`.
    fn new<L: Lagrangian + ?Sized>(lagrangian: &L, n: usize) -> Option<Self> {
        let structure = lagrangian.structure();
        if n <= BLOCK
            || structure.local_terms == 0
            || structure.dissipation
            || structure.generalized_forces
        {
            return None;
        }
        let layout = TermLayout::new::<f64, L>(lagrangian, n);
        let bandwidth = layout.bandwidth;
        if layout.widest > BLOCK || !layout.in_range {
            return None;
        }
        (bandwidth <= n / 8).then(|| Self {
            layout,
            bandwidth,
            q0: Vec::new(),
            q1: Vec::new(),
            local: Eval {
                residual: Vec::new(),
                p_new: Vec::new(),
                jacobian: Vec::new(),
                scale: 0.0,
            },
        })
    }
}

/// Term `k` of a Lagrangian as a Lagrangian of its own coordinates.
struct TermOf<'a, L: ?Sized> {
    lagrangian: &'a L,
    k: usize,
    dof: usize,
}

impl<L: Lagrangian + ?Sized> Lagrangian for TermOf<'_, L> {
    fn dof(&self) -> usize {
        self.dof
    }
    fn lagrangian<D: crate::Scalar>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
        self.lagrangian.term(self.k, t, q, q_dot)
    }
}

impl<'a, L: Lagrangian + ?Sized> Variational<'a, L> {
    /// Starts at `(t0, q0, q̇0)` with `p_0 = ∂L/∂q̇`; fails for a degenerate Lagrangian.
    pub(crate) fn new(
        lagrangian: &'a L,
        t0: f64,
        q0: &[f64],
        q_dot0: &[f64],
    ) -> Result<Self, IntegrationError> {
        // q̈ is not needed, but evaluating it rejects a singular mass matrix up front.
        accelerations(lagrangian, t0, q0, q_dot0).map_err(|e| mechanics_error(t0, e))?;
        let p = momenta(lagrangian, t0, q0, q_dot0).map_err(|e| mechanics_error(t0, e))?;
        let n = q0.len();
        let terms = TermBand::new(lagrangian, n);
        let jacobian = match &terms {
            Some(band) => vec![0.0; n * (2 * band.bandwidth + 1)],
            None => vec![0.0; n * n],
        };
        Ok(Variational {
            terms,
            lagrangian,
            t: t0,
            q: q0.to_vec(),
            p,
            q_dot: q_dot0.to_vec(),
            eval: Eval {
                residual: vec![0.0; n],
                p_new: vec![0.0; n],
                jacobian,
                scale: 0.0,
            },
            counts: StepCounts::default(),
        })
    }

    /// Fills `self.eval` at `q1` for the step `t → t + h`.
    fn evaluate(&mut self, h: f64, q1: &[f64]) {
        if self.terms.is_some() {
            return self.evaluate_terms(h, q1);
        }
        let n = q1.len();
        let t_mid = self.t + 0.5 * h;
        let ev = &mut self.eval;
        let (q0, lag) = (&self.q[..], self.lagrangian);
        // residual ← D₁L_d, p_new ← D₂L_d, jacobian ← ∂D₁L_d/∂q1 (all still without h)
        ev.residual.fill(0.0);
        ev.p_new.fill(0.0);
        ev.jacobian.fill(0.0);
        macro_rules! dispatch {
            ($kernel:ident, $($b:literal),*) => {
                match n {
                    $($b => $kernel::<L, $b>(lag, t_mid, h, q0, q1, 0, 0, ev),)*
                    _ => {
                        for i0 in (0..n).step_by(BLOCK) {
                            for j0 in (0..n).step_by(BLOCK) {
                                $kernel::<L, BLOCK>(lag, t_mid, h, q0, q1, i0, j0, ev);
                            }
                        }
                    }
                }
            };
        }
        dispatch!(lagrangian_block, 1, 2, 3, 4, 5, 6, 7, 8);
        ev.scale = self
            .p
            .iter()
            .chain(&ev.residual)
            .chain(&ev.p_new)
            .fold(0.0_f64, |m, x| m.max(x.abs()));
        if lag.structure().dissipation {
            dispatch!(dissipation_block, 1, 2, 3, 4, 5, 6, 7, 8);
        }
        // extra generalized forces, where declared: one pass per column block
        if lag.structure().generalized_forces {
            add_forces(lag, ev, t_mid, h, q0, q1);
        }
        for (r, p) in ev.residual.iter_mut().zip(&self.p) {
            *r += p;
        }
    }

    /// [`evaluate`](Self::evaluate) term by term: each term's discrete Euler–Lagrange
    /// quantities on its own coordinates, scattered into the residual, the new momenta and the
    /// banded Jacobian. O(#terms) per Newton iteration.
    fn evaluate_terms(&mut self, h: f64, q1: &[f64]) {
        let t_mid = self.t + 0.5 * h;
        let (lag, q0) = (self.lagrangian, &self.q[..]);
        let ev = &mut self.eval;
        let Some(terms) = self.terms.as_mut() else {
            return;
        };
        ev.residual.fill(0.0);
        ev.p_new.fill(0.0);
        ev.jacobian.fill(0.0);
        let bw = terms.bandwidth;
        for k in 0..terms.layout.len() {
            let coords = terms.layout.term(k);
            let b = coords.len();
            let term = TermOf {
                lagrangian: lag,
                k,
                dof: b,
            };
            terms.q0.clear();
            terms.q0.extend(coords.iter().map(|&c| q0[c]));
            terms.q1.clear();
            terms.q1.extend(coords.iter().map(|&c| q1[c]));
            let local = &mut terms.local;
            local.residual.clear();
            local.residual.resize(b, 0.0);
            local.p_new.clear();
            local.p_new.resize(b, 0.0);
            local.jacobian.clear();
            local.jacobian.resize(b * b, 0.0);
            let (lq0, lq1) = (&terms.q0[..], &terms.q1[..]);
            macro_rules! local_block {
                ($($b:literal),*) => {
                    match b {
                        $($b => lagrangian_block::<TermOf<'_, L>, $b>(
                            &term, t_mid, h, lq0, lq1, 0, 0, local,
                        ),)*
                        _ => {}
                    }
                };
            }
            local_block!(1, 2, 3, 4, 5, 6, 7, 8);
            for (i, &ci) in coords.iter().enumerate() {
                ev.residual[ci] += local.residual[i];
                ev.p_new[ci] += local.p_new[i];
                for (j, &cj) in coords.iter().enumerate() {
                    ev.jacobian[band_index(bw, ci, cj)] += local.jacobian[i * b + j];
                }
            }
        }
        ev.scale = self
            .p
            .iter()
            .chain(&ev.residual)
            .chain(&ev.p_new)
            .fold(0.0_f64, |m, x| m.max(x.abs()));
        for (r, p) in ev.residual.iter_mut().zip(&self.p) {
            *r += p;
        }
    }

    /// Solves `J δ = −residual` with the Jacobian of the last evaluation (at `q1`, step `h`):
    /// banded without pivoting for the structured step, dense pivoted LU otherwise. Where the
    /// banded LU fails and `n` allows, the Jacobian is evaluated again and solved densely with
    /// pivoting (rare: for L = T − V it is ≈ −M/h, definite). The Jacobian is consumed.
    fn newton_update(&mut self, h: f64, q1: &[f64], delta: &mut [f64]) -> Result<(), f64> {
        let n = delta.len();
        let Some(bw) = self.terms.as_ref().map(|terms| terms.bandwidth) else {
            return solve_in_place(&mut self.eval.jacobian, n, delta);
        };
        match solve_banded_in_place(&mut self.eval.jacobian, n, bw, delta) {
            Ok(()) => Ok(()),
            Err(pivot) if n > MAX_DENSE_FALLBACK => Err(pivot),
            Err(_) => {
                self.evaluate_terms(h, q1);
                let mut dense = Vec::new();
                band_to_dense(&self.eval.jacobian, n, bw, &mut dense);
                for (d, r) in delta.iter_mut().zip(&self.eval.residual) {
                    *d = -r;
                }
                solve_in_place(&mut dense, n, delta)
            }
        }
    }

    /// Solves the implicit step `t → t + h` for `q_{k+1}`; leaves `p_{k+1}` in `eval.p_new`.
    fn solve(&mut self, h: f64) -> Result<Vec<f64>, IntegrationError> {
        let t = self.t;

        let mut q1: Vec<f64> = self
            .q
            .iter()
            .zip(&self.q_dot)
            .map(|(q, v)| q + h * v)
            .collect();
        let mut roundoff_step = false;
        let mut residual = f64::INFINITY;
        for iteration in 0..=MAX_ITERATIONS {
            self.evaluate(h, &q1);
            self.counts.evaluations += 1;
            let ev = &mut self.eval;
            if !all_finite(&ev.residual) || !all_finite(&ev.jacobian) || !all_finite(&ev.p_new) {
                return Err(IntegrationError::NonFinite { t });
            }
            let abs = ev.residual.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
            let previous = residual;
            residual = if ev.scale > 0.0 { abs / ev.scale } else { abs };
            // Below the tolerance, keep iterating while Newton still gains (quadratic
            // convergence usually reaches roundoff in one more step): residuals left in the
            // momentum equation accumulate as drift of conserved momenta over long runs.
            // A Newton update below the resolution of q_{k+1} means the residual is at its
            // roundoff floor (≈ ‖J‖·ε·|q|, which can exceed TOLERANCE·|p| near turning points).
            let stalled = residual > 0.1 * previous;
            if abs == 0.0
                || residual <= ROUNDOFF
                || roundoff_step
                || (residual <= TOLERANCE && stalled)
            {
                return Ok(q1);
            }
            if iteration == MAX_ITERATIONS {
                break;
            }
            let mut delta: Vec<f64> = ev.residual.iter().map(|r| -r).collect();
            self.newton_update(h, &q1, &mut delta)
                .map_err(|relative_pivot| IntegrationError::Mechanics {
                    t,
                    source: MechanicsError::SingularMassMatrix {
                        t: t + 0.5 * h,
                        relative_pivot,
                    },
                })?;
            let size = q1.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
            let step = delta.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
            for (x, d) in q1.iter_mut().zip(&delta) {
                *x += d;
            }
            if !all_finite(&q1) {
                return Err(IntegrationError::NonFinite { t });
            }
            // an update at the level of roundoff cannot improve the residual further
            roundoff_step = step <= 4.0 * f64::EPSILON * size;
        }
        Err(IntegrationError::NewtonDidNotConverge {
            t,
            iterations: MAX_ITERATIONS,
            residual,
        })
    }
}

impl<L: Lagrangian + ?Sized> Stepper for Variational<'_, L> {
    fn advance_to(
        &mut self,
        t_next: f64,
        q: &mut [f64],
        q_dot: &mut [f64],
    ) -> Result<(), IntegrationError> {
        let t = self.t;
        let h = t_next - t;
        let q1 = self.solve(h)?;
        // (q₁ − q₀)/h is q̇ at the midpoint to second order, so 2(q₁ − q₀)/h − q̇₀ predicts q̇₁:
        // Newton starts there. For L quadratic in q̇ one step is exact from anywhere; otherwise
        // the O(h²)-close start saves iterations.
        let guess: Vec<f64> = q1
            .iter()
            .zip(&self.q)
            .zip(&self.q_dot)
            .map(|((a, b), v)| 2.0 * (a - b) / h - v)
            .collect();
        let q_dot1 =
            velocities_from_momenta_near(self.lagrangian, t_next, &q1, &self.eval.p_new, &guess)
                .map_err(|e| mechanics_error(t, e))?;
        if !all_finite(&q_dot1) {
            return Err(IntegrationError::NonFinite { t });
        }
        self.q = q1;
        self.p.copy_from_slice(&self.eval.p_new);
        self.q_dot = q_dot1;
        self.t = t_next;
        self.counts.steps += 1;
        q.copy_from_slice(&self.q);
        q_dot.copy_from_slice(&self.q_dot);
        Ok(())
    }

    fn counts(&self) -> StepCounts {
        self.counts
    }

    /// Dual numbers through L; term by term with a banded Newton solve, or dense.
    fn evaluator(&self) -> EvaluatorInfo {
        let (path, solve) = match &self.terms {
            Some(terms) if terms.bandwidth == 0 => (AssemblyPath::Structured, MassSolve::Diagonal),
            Some(terms) => (
                AssemblyPath::Structured,
                MassSolve::Banded {
                    bandwidth: terms.bandwidth,
                },
            ),
            None => (AssemblyPath::Dense, MassSolve::Dense),
        };
        EvaluatorInfo {
            evaluator: Evaluator::Autodiff,
            path,
            // the Newton Jacobian ∂D₁L_d/∂q_{k+1} is formed and factored at every iteration
            constant_mass_matrix: false,
            solve,
        }
    }
}

type Hd<const B: usize> = HyperDualVec<f64, Const<B>, Const<B>>;

fn unit_col<const B: usize>(i: usize, v: f64) -> Derivative<f64, Const<B>, U1> {
    Derivative::some(SMatrix::<f64, B, 1>::from_fn(
        |r, _| if r == i { v } else { 0.0 },
    ))
}

fn unit_row<const B: usize>(j: usize, v: f64) -> Derivative<f64, U1, Const<B>> {
    Derivative::some(SMatrix::<f64, 1, B>::from_fn(
        |_, c| if c == j { v } else { 0.0 },
    ))
}

/// Runs `body` on scratch slices of `n` hyper-duals (on the stack when `n ≤ BLOCK`).
fn with_scratch<const B: usize, R>(
    n: usize,
    body: impl FnOnce(&mut [Hd<B>], &mut [Hd<B>]) -> R,
) -> R {
    let zero = Hd::<B>::from_re(0.0);
    if n <= BLOCK {
        let (mut a, mut b) = ([zero; BLOCK], [zero; BLOCK]);
        body(&mut a[..n], &mut b[..n])
    } else {
        body(&mut vec![zero; n], &mut vec![zero; n])
    }
}

/// One hyper-dual evaluation of `L_d` for rows `i0..i0+B` (ε₁ over `q0`) and columns
/// `j0..j0+B` (ε₂ over `q1`): adds `D₁L_d` (rows, when `j0 = 0`), `D₂L_d` (columns, when
/// `i0 = 0`) and `∂²L_d/∂q0∂q1` (the block) to `ev`.
#[allow(clippy::too_many_arguments)]
fn lagrangian_block<L: Lagrangian + ?Sized, const B: usize>(
    lag: &L,
    t_mid: f64,
    h: f64,
    q0: &[f64],
    q1: &[f64],
    i0: usize,
    j0: usize,
    ev: &mut Eval,
) {
    let n = q0.len();
    let l = with_scratch::<B, _>(n, |qm, v| {
        for k in 0..n {
            let (in_i, in_j) = (k >= i0 && k < i0 + B, k >= j0 && k < j0 + B);
            let mut m = Hd::<B>::from_re(0.5 * (q0[k] + q1[k]));
            let mut d = Hd::<B>::from_re((q1[k] - q0[k]) / h);
            if in_i {
                m.eps1 = unit_col(k - i0, 0.5);
                d.eps1 = unit_col(k - i0, -1.0 / h);
            }
            if in_j {
                m.eps2 = unit_row(k - j0, 0.5);
                d.eps2 = unit_row(k - j0, 1.0 / h);
            }
            qm[k] = m;
            v[k] = d;
        }
        lag.lagrangian(Hd::<B>::from_re(t_mid), qm, v)
    });
    let e1 = l.eps1.unwrap_generic(Const::<B>, U1);
    let e2 = l.eps2.unwrap_generic(U1, Const::<B>);
    let e12 = l.eps1eps2.unwrap_generic(Const::<B>, Const::<B>);
    for i in 0..B.min(n - i0) {
        if j0 == 0 {
            ev.residual[i0 + i] += h * e1[i];
        }
        for j in 0..B.min(n - j0) {
            ev.jacobian[(i0 + i) * n + j0 + j] += h * e12[(i, j)];
        }
    }
    if i0 == 0 {
        for j in 0..B.min(n - j0) {
            ev.p_new[j0 + j] += h * e2[j];
        }
    }
}

/// Midpoint dissipation force `−(h/2) ∂F/∂q̇` for rows `i0..` (ε₁ over the midpoint velocity)
/// and its derivative w.r.t. `q1` for columns `j0..` (ε₂); added to both momenta equations.
#[allow(clippy::too_many_arguments)]
fn dissipation_block<L: Lagrangian + ?Sized, const B: usize>(
    lag: &L,
    t_mid: f64,
    h: f64,
    q0: &[f64],
    q1: &[f64],
    i0: usize,
    j0: usize,
    ev: &mut Eval,
) {
    let n = q0.len();
    let f = with_scratch::<B, _>(n, |qm, v| {
        for k in 0..n {
            let (in_i, in_j) = (k >= i0 && k < i0 + B, k >= j0 && k < j0 + B);
            let mut m = Hd::<B>::from_re(0.5 * (q0[k] + q1[k]));
            let mut d = Hd::<B>::from_re((q1[k] - q0[k]) / h);
            if in_i {
                d.eps1 = unit_col(k - i0, 1.0);
            }
            if in_j {
                m.eps2 = unit_row(k - j0, 0.5);
                d.eps2 = unit_row(k - j0, 1.0 / h);
            }
            qm[k] = m;
            v[k] = d;
        }
        lag.dissipation(Hd::<B>::from_re(t_mid), qm, v)
    });
    let e1 = f.eps1.unwrap_generic(Const::<B>, U1);
    let e12 = f.eps1eps2.unwrap_generic(Const::<B>, Const::<B>);
    for i in 0..B.min(n - i0) {
        if j0 == 0 {
            ev.residual[i0 + i] -= 0.5 * h * e1[i];
            ev.p_new[i0 + i] -= 0.5 * h * e1[i];
        }
        for j in 0..B.min(n - j0) {
            ev.jacobian[(i0 + i) * n + j0 + j] -= 0.5 * h * e12[(i, j)];
        }
    }
}

/// Midpoint extra generalized forces `(h/2) Q` and their derivative w.r.t. `q1` for columns
/// `j0..j0+B`.
#[allow(clippy::too_many_arguments)]
fn forces_block<L: Lagrangian + ?Sized, const B: usize>(
    lag: &L,
    t_mid: f64,
    h: f64,
    q0: &[f64],
    q1: &[f64],
    j0: usize,
    ev: &mut Eval,
) {
    type Dv<const B: usize> = DualSVec<f64, B>;
    let n = q0.len();
    let seed = |k: usize, x: f64, s: f64| {
        if k >= j0 && k < j0 + B {
            Dv::<B>::new(x, unit_col(k - j0, s))
        } else {
            Dv::<B>::from_re(x)
        }
    };
    let qm: Vec<Dv<B>> = (0..n)
        .map(|k| seed(k, 0.5 * (q0[k] + q1[k]), 0.5))
        .collect();
    let v: Vec<Dv<B>> = (0..n)
        .map(|k| seed(k, (q1[k] - q0[k]) / h, 1.0 / h))
        .collect();
    let mut forces = vec![Dv::<B>::from_re(0.0); n];
    lag.add_generalized_forces(Dv::<B>::from_re(t_mid), &qm, &v, &mut forces);
    for (i, f) in forces.iter().enumerate() {
        if j0 == 0 {
            ev.residual[i] += 0.5 * h * f.re;
            ev.p_new[i] += 0.5 * h * f.re;
        }
        let d = f.eps.unwrap_generic(Const::<B>, U1);
        for j in 0..B.min(n - j0) {
            ev.jacobian[i * n + j0 + j] += 0.5 * h * d[j];
        }
    }
}

/// Adds the declared generalized forces to the discrete Euler–Lagrange residual.
fn add_forces<L: Lagrangian + ?Sized>(
    lag: &L,
    ev: &mut Eval,
    t_mid: f64,
    h: f64,
    q0: &[f64],
    q1: &[f64],
) {
    let n = q0.len();
    match n {
        1 => forces_block::<L, 1>(lag, t_mid, h, q0, q1, 0, ev),
        2 => forces_block::<L, 2>(lag, t_mid, h, q0, q1, 0, ev),
        3 => forces_block::<L, 3>(lag, t_mid, h, q0, q1, 0, ev),
        4 => forces_block::<L, 4>(lag, t_mid, h, q0, q1, 0, ev),
        // 5..=8 coordinates: one block of 8; more: one pass per block of columns
        _ => {
            for j0 in (0..n).step_by(BLOCK) {
                forces_block::<L, BLOCK>(lag, t_mid, h, q0, q1, j0, ev);
            }
        }
    }
}
