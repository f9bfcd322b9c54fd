//! Dormand–Prince 5(4): adaptive explicit Runge–Kutta, order 5, with error control and dense
//! output.
//!
//! Seven stages (six new evaluations of q̈ per step thanks to FSAL), a fifth-order solution and
//! an embedded fourth-order one whose difference estimates the local error. Steps are accepted
//! when the weighted RMS error is ≤ 1 for the tolerances `rtol`, `atol`, and the next step is
//! chosen by the PI controller of [`controller`](super::controller) (rejected steps are retried
//! smaller; a stage that produces NaN/infinity counts as a rejection). The first step is chosen
//! by Hairer's `hinit` heuristic.
//!
//! **Output.** `dt` is only the output interval. Output times inside a step are filled by the
//! fourth-order continuous extension of Dormand and Prince (Hairer's `contd5`), so the output
//! interval does not constrain the steps; the last step is shortened to land exactly on
//! `t_end`. Not symplectic: energy errors stay at the tolerance level per unit time but drift.

use super::controller::{PiController, error_norm};
use super::explicit_rk::RkWorkspace;
use super::tableau::ButcherTableau;
use super::{IntegrationError, StepCounts, Stepper, all_finite, mechanics_error};
use crate::mechanics::Accelerations;
use crate::mechanics::MechanicsError;

/// The Dormand–Prince 5(4) tableau (`b` of order 5, `b̂` of order 4, FSAL).
pub const DOPRI5: ButcherTableau = ButcherTableau {
    name: "dopri5",
    order: 5,
    c: &[0.0, 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0, 1.0, 1.0],
    a: &[
        &[],
        &[1.0 / 5.0],
        &[3.0 / 40.0, 9.0 / 40.0],
        &[44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0],
        &[
            19372.0 / 6561.0,
            -25360.0 / 2187.0,
            64448.0 / 6561.0,
            -212.0 / 729.0,
        ],
        &[
            9017.0 / 3168.0,
            -355.0 / 33.0,
            46732.0 / 5247.0,
            49.0 / 176.0,
            -5103.0 / 18656.0,
        ],
        &[
            35.0 / 384.0,
            0.0,
            500.0 / 1113.0,
            125.0 / 192.0,
            -2187.0 / 6784.0,
            11.0 / 84.0,
        ],
    ],
    b: &[
        35.0 / 384.0,
        0.0,
        500.0 / 1113.0,
        125.0 / 192.0,
        -2187.0 / 6784.0,
        11.0 / 84.0,
        0.0,
    ],
    b_hat: Some(&[
        5179.0 / 57600.0,
        0.0,
        7571.0 / 16695.0,
        393.0 / 640.0,
        -92097.0 / 339200.0,
        187.0 / 2100.0,
        1.0 / 40.0,
    ]),
    fsal: true,
};

/// Coefficients `d_i` of the dense-output polynomial (Hairer's `contd5`).
pub const DENSE_D: [f64; 7] = [
    -12715105075.0 / 11282082432.0,
    0.0,
    87487479700.0 / 32700410799.0,
    -10690763975.0 / 1880347072.0,
    701980252875.0 / 199316789632.0,
    -1453857185.0 / 822651844.0,
    69997945.0 / 29380423.0,
];

/// The continuous extension of one accepted step `t → t + h`.
#[derive(Debug, Clone)]
pub struct DenseStep {
    /// Start of the step.
    pub t: f64,
    /// Step size.
    pub h: f64,
    r: [Vec<f64>; 5],
}

impl DenseStep {
    /// Builds the interpolant from the step's start `y`, end `y_new` and its seven stages.
    pub fn new(t: f64, h: f64, y: &[f64], y_new: &[f64], work: &RkWorkspace) -> Self {
        let dim = y.len();
        let mut r: [Vec<f64>; 5] = std::array::from_fn(|_| vec![0.0; dim]);
        for m in 0..dim {
            let ydiff = y_new[m] - y[m];
            let bspl = h * work.stage(0)[m] - ydiff;
            r[0][m] = y[m];
            r[1][m] = ydiff;
            r[2][m] = bspl;
            r[3][m] = ydiff - h * work.stage(6)[m] - bspl;
            r[4][m] = h * DENSE_D
                .iter()
                .enumerate()
                .map(|(i, d)| d * work.stage(i)[m])
                .sum::<f64>();
        }
        DenseStep { t, h, r }
    }

    /// Writes the interpolated state at `t_out` (within the step) to `out`; fourth-order
    /// accurate, exact at both ends.
    pub fn eval(&self, t_out: f64, out: &mut [f64]) {
        let th = (t_out - self.t) / self.h;
        let th1 = 1.0 - th;
        let r = &self.r;
        for (m, o) in out.iter_mut().enumerate() {
            *o = r[0][m] + th * (r[1][m] + th1 * (r[2][m] + th * (r[3][m] + th1 * r[4][m])));
        }
    }
}

/// Adaptive Dormand–Prince stepping with dense output.
pub(crate) struct Dopri5<'a> {
    eom: Box<dyn Accelerations + 'a>,
    rtol: f64,
    atol: f64,
    t_end: f64,
    t: f64,
    y: Vec<f64>,
    h: f64,
    y_new: Vec<f64>,
    err: Vec<f64>,
    out: Vec<f64>,
    work: RkWorkspace,
    controller: PiController,
    dense: Option<DenseStep>,
    counts: StepCounts,
}

impl<'a> Dopri5<'a> {
    /// Starts at `(t0, q0, q̇0)` and chooses the first step; steps never pass `t_end`.
    pub(crate) fn new(
        mut eom: Box<dyn Accelerations + 'a>,
        t0: f64,
        q0: &[f64],
        q_dot0: &[f64],
        t_end: f64,
        rtol: f64,
        atol: f64,
    ) -> Result<Self, IntegrationError> {
        let y: Vec<f64> = q0.iter().chain(q_dot0).copied().collect();
        let dim = y.len();
        let mut work = RkWorkspace::new(&DOPRI5, dim);
        work.set_threads(eom.threads());
        let mut evaluations = 0;
        let mut f = |t, y: &[f64], dy: &mut [f64]| {
            evaluations += 1;
            eom.first_order_rhs(t, y, dy)
        };
        let mut f0 = vec![0.0; dim];
        f(t0, &y, &mut f0).map_err(|e| mechanics_error(t0, e))?;
        work.set_first_stage(&f0);
        let h = initial_step(&mut f, t0, &y, &f0, t_end - t0, rtol, atol);
        Ok(Dopri5 {
            counts: StepCounts {
                evaluations,
                ..StepCounts::default()
            },
            eom,
            rtol,
            atol,
            t_end,
            t: t0,
            h,
            y_new: y.clone(),
            err: vec![0.0; dim],
            out: vec![0.0; dim],
            y,
            work,
            controller: PiController::for_order(5),
            dense: None,
        })
    }

    /// One accepted step (retrying rejected ones).
    fn step(&mut self) -> Result<(), IntegrationError> {
        let (eom, evaluations) = (&mut self.eom, &mut self.counts.evaluations);
        let mut f = |t, y: &[f64], dy: &mut [f64]| {
            *evaluations += 1;
            eom.first_order_rhs(t, y, dy)
        };
        loop {
            let t = self.t;
            let mut h = self.h;
            if !(h > 10.0 * f64::EPSILON * t.abs() && h > f64::MIN_POSITIVE) {
                return Err(IntegrationError::StepSizeTooSmall { t, h });
            }
            let last = t + 1.01 * h >= self.t_end;
            if last {
                h = self.t_end - t;
            }
            let y_new = &mut self.y_new;
            let err = match self.work.step(
                &DOPRI5,
                &mut f,
                t,
                h,
                &self.y,
                true,
                y_new,
                Some(&mut self.err),
            ) {
                Ok(()) if all_finite(y_new) => {
                    error_norm(&self.err, &self.y, y_new, self.rtol, self.atol)
                }
                Ok(()) | Err(MechanicsError::NonFinite { .. }) => f64::INFINITY,
                Err(e) => return Err(mechanics_error(t, e)),
            };
            if self.controller.accepts(err) {
                self.counts.steps += 1;
                self.dense = Some(DenseStep::new(t, h, &self.y, &self.y_new, &self.work));
                std::mem::swap(&mut self.y, &mut self.y_new);
                self.t = if last { self.t_end } else { t + h };
                self.work.reuse_last_stage();
                self.h = self.controller.after_accept(h, err);
                return Ok(());
            }
            self.counts.rejected_steps += 1;
            self.h = self.controller.after_reject(h, err);
        }
    }
}

impl Stepper for Dopri5<'_> {
    fn advance_to(
        &mut self,
        t_next: f64,
        q: &mut [f64],
        q_dot: &mut [f64],
    ) -> Result<(), IntegrationError> {
        while self.t < t_next {
            self.step()?;
        }
        let n = q.len();
        if self.t == t_next {
            q.copy_from_slice(&self.y[..n]);
            q_dot.copy_from_slice(&self.y[n..]);
        } else {
            let dense = self.dense.as_ref().expect("a step was taken past t_next");
            dense.eval(t_next, &mut self.out);
            q.copy_from_slice(&self.out[..n]);
            q_dot.copy_from_slice(&self.out[n..]);
        }
        Ok(())
    }

    fn counts(&self) -> StepCounts {
        self.counts
    }

    fn evaluator(&self) -> crate::mechanics::EvaluatorInfo {
        self.eom.info()
    }
}

/// Hairer's initial step heuristic: `h ≈ 0.01·‖y‖/‖f‖`, refined by an estimate of the second
/// derivative so that the first step's error is roughly at the tolerance; at most `span`.
fn initial_step<E>(
    f: &mut impl FnMut(f64, &[f64], &mut [f64]) -> Result<(), E>,
    t0: f64,
    y0: &[f64],
    f0: &[f64],
    span: f64,
    rtol: f64,
    atol: f64,
) -> f64 {
    let order = 5.0;
    let sk = |y: f64| atol + rtol * y.abs();
    let dnf: f64 = f0.iter().zip(y0).map(|(f, y)| (f / sk(*y)).powi(2)).sum();
    let dny: f64 = y0.iter().map(|y| (y / sk(*y)).powi(2)).sum();
    let mut h = if dnf <= 1e-10 || dny <= 1e-10 {
        1e-6
    } else {
        0.01 * (dny / dnf).sqrt()
    };
    h = h.min(span);
    let y1: Vec<f64> = y0.iter().zip(f0).map(|(y, f)| y + h * f).collect();
    let mut f1 = vec![0.0; y0.len()];
    if f(t0 + h, &y1, &mut f1).is_err() {
        return h;
    }
    let der2 = f1
        .iter()
        .zip(f0)
        .zip(y0)
        .map(|((a, b), y)| ((a - b) / sk(*y)).powi(2))
        .sum::<f64>()
        .sqrt()
        / h;
    let der12 = der2.abs().max(dnf.sqrt());
    let h1 = if der12 <= 1e-15 {
        (h * 1e-3).max(1e-6)
    } else {
        (0.01 / der12).powf(1.0 / order)
    };
    let h = (100.0 * h).min(h1).min(span);
    if h.is_finite() && h > 0.0 {
        h
    } else {
        span.min(1e-6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes one DOPRI5 step of size `h` from `(t, y)` for a scalar `y' = g(t, y)`.
    fn one_step(g: fn(f64, f64) -> f64, t: f64, y: f64, h: f64) -> (DenseStep, f64) {
        let mut f = |t: f64, y: &[f64], dy: &mut [f64]| -> Result<(), ()> {
            dy[0] = g(t, y[0]);
            Ok(())
        };
        let mut w = RkWorkspace::new(&DOPRI5, 1);
        let mut y_new = [0.0];
        w.step(&DOPRI5, &mut f, t, h, &[y], false, &mut y_new, None)
            .unwrap();
        (DenseStep::new(t, h, &[y], &y_new, &w), y_new[0])
    }

    #[test]
    fn dense_output_is_exact_for_quartics() {
        // y' = 4t³ ⇒ y = t⁴: a continuous extension of order 4 reproduces it exactly.
        let (dense, y1) = one_step(|t, _| 4.0 * t.powi(3), 0.0, 0.0, 1.0);
        assert!((y1 - 1.0).abs() < 1e-14);
        for th in [0.1, 0.3, 0.5, 0.77, 1.0] {
            let mut y = [0.0];
            dense.eval(th, &mut y);
            assert!((y[0] - th.powi(4)).abs() < 1e-14, "θ = {th}: {}", y[0]); // roundoff only
        }
    }

    #[test]
    fn dense_output_error_is_fifth_order_per_step() {
        // y' = y, y(0) = 1: the interpolation error in one step scales like h⁵.
        let mid_err = |h: f64| {
            let (dense, _) = one_step(|_, y| y, 0.0, 1.0, h);
            let mut y = [0.0];
            dense.eval(0.4 * h, &mut y);
            (y[0] - (0.4 * h).exp()).abs()
        };
        let ratio = mid_err(0.2) / mid_err(0.1);
        // h⁵ scaling ⇒ ratio ≈ 32; allow the next-order term some room
        assert!((20.0..48.0).contains(&ratio), "ratio {ratio}");
    }
}
