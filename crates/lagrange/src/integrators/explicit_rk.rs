//! One generic explicit Runge–Kutta stepper for any [`ButcherTableau`].
//!
//! [`RkWorkspace::step`] advances a first-order system `y' = f(t, y)` by one step and optionally
//! returns the embedded error estimate; [`lagrangian_rhs`] turns a Lagrangian into that system
//! on `y = (q, q̇)`. A private fixed-step driver built on them runs `euler` and `rk4`.

use super::tableau::ButcherTableau;
use super::{IntegrationError, StepCounts, Stepper, all_finite, mechanics_error};
use crate::lagrangian::Lagrangian;
use crate::mechanics::{Accelerations, EquationsOfMotion, MechanicsError};

/// Stage storage for one tableau and one system size (reused across steps, no allocation).
#[derive(Debug, Clone)]
pub struct RkWorkspace {
    k: Vec<Vec<f64>>,
    stage_y: Vec<f64>,
    /// Whether the combinations run on the current rayon pool (see [`Self::set_threads`]).
    parallel: bool,
}

impl RkWorkspace {
    /// Storage for `tableau`'s stages on a system of dimension `dim`.
    pub fn new(tableau: &ButcherTableau, dim: usize) -> Self {
        RkWorkspace {
            k: vec![vec![0.0; dim]; tableau.stages()],
            stage_y: vec![0.0; dim],
            parallel: false,
        }
    }

    /// Runs the steps' vector arithmetic on the current rayon pool where `threads > 1` and
    /// the system has at least [`PARALLEL_STATE_LEN`](super::PARALLEL_STATE_LEN) values (a
    /// lattice field: the stage combinations, one pass over memory each, bound its steps as
    /// much as q̈ does). Every element's arithmetic is the same, so are the results, bit for
    /// bit.
    pub fn set_threads(&mut self, threads: usize) {
        self.parallel = threads > 1 && self.stage_y.len() >= super::PARALLEL_STATE_LEN;
    }

    /// Stage derivative `k_i` of the last step (`k_0` is `f(t, y)` at the step start).
    pub fn stage(&self, i: usize) -> &[f64] {
        &self.k[i]
    }

    /// Sets `k_0 = f(t, y)` for the next step (FSAL reuse, or a value computed elsewhere).
    pub fn set_first_stage(&mut self, k0: &[f64]) {
        self.k[0].copy_from_slice(k0);
    }

    /// After an accepted step of a FSAL tableau, moves the last stage to the first.
    pub fn reuse_last_stage(&mut self) {
        let s = self.k.len();
        self.k.swap(0, s - 1);
    }

    /// One step `y → y_new` of size `h` from `t`.
    ///
    /// When `first_stage_ready`, `k_0` must already hold `f(t, y)` (see
    /// [`set_first_stage`](Self::set_first_stage)); otherwise it is evaluated. When `error` is
    /// given and the tableau has embedded weights, it receives `h Σ (b_i − b̂_i) k_i`.
    #[allow(clippy::too_many_arguments)]
    pub fn step<E>(
        &mut self,
        tableau: &ButcherTableau,
        f: &mut impl FnMut(f64, &[f64], &mut [f64]) -> Result<(), E>,
        t: f64,
        h: f64,
        y: &[f64],
        first_stage_ready: bool,
        y_new: &mut [f64],
        error: Option<&mut [f64]>,
    ) -> Result<(), E> {
        let s = tableau.stages();
        if !first_stage_ready {
            f(t, y, &mut self.k[0])?;
        }
        // Every combination below runs block by block, each block through all the stages it
        // reads, so that a large system (a lattice field: 10⁶ coordinates and more) passes
        // over memory once per combination instead of once per stage; the arithmetic, and so
        // every bit of the result, is that of the element-by-element formulas in the comments.
        for i in 1..s {
            // stage_y = y + Σ_j (h a_ij) k_j
            let terms: Vec<(f64, &[f64])> = (tableau.a[i].iter().enumerate())
                .filter(|&(_, &a)| a != 0.0)
                .map(|(j, &a)| (h * a, &self.k[j][..]))
                .collect();
            for_blocks(&mut self.stage_y, self.parallel, |start, block| {
                let end = start + block.len();
                block.copy_from_slice(&y[start..end]);
                for &(ha, k) in &terms {
                    for (yi, kj) in block.iter_mut().zip(&k[start..end]) {
                        *yi += ha * kj;
                    }
                }
            });
            f(t + tableau.c[i] * h, &self.stage_y, &mut self.k[i])?;
        }
        // y_new = y + h Σ_j b_j k_j (the sum in stage order, from −0, as `Iterator::sum`)
        let k = &self.k;
        for_blocks(y_new, self.parallel, |start, block| {
            let end = start + block.len();
            let mut incr = [-0.0; BLOCK];
            let incr = &mut incr[..block.len()];
            for (b, k) in tableau.b.iter().zip(k) {
                for (x, kj) in incr.iter_mut().zip(&k[start..end]) {
                    *x += b * kj;
                }
            }
            for ((out, yi), x) in block.iter_mut().zip(&y[start..end]).zip(&*incr) {
                *out = yi + h * x;
            }
        });
        // err = h Σ_j (b_j − b̂_j) k_j
        if let (Some(err), Some(b_hat)) = (error, tableau.b_hat) {
            for_blocks(err, self.parallel, |start, block| {
                let end = start + block.len();
                let mut incr = [-0.0; BLOCK];
                let incr = &mut incr[..block.len()];
                for ((b, bh), k) in tableau.b.iter().zip(b_hat).zip(k) {
                    for (x, kj) in incr.iter_mut().zip(&k[start..end]) {
                        *x += (b - bh) * kj;
                    }
                }
                for (e, x) in block.iter_mut().zip(&*incr) {
                    *e = h * x;
                }
            });
        }
        Ok(())
    }
}

/// Elements per block of the combinations in [`RkWorkspace::step`] (a few kilobytes per
/// array: the block of every stage stays in the first-level cache).
const BLOCK: usize = 512;

/// Runs `body(start, block)` on each block of [`BLOCK`] elements of `x` (`start`: its first
/// index), in order, or on the current rayon pool where `parallel`.
fn for_blocks(x: &mut [f64], parallel: bool, body: impl Fn(usize, &mut [f64]) + Sync + Send) {
    if parallel {
        use rayon::prelude::*;
        x.par_chunks_mut(BLOCK)
            .enumerate()
            .for_each(|(b, c)| body(b * BLOCK, c));
    } else {
        x.chunks_mut(BLOCK)
            .enumerate()
            .for_each(|(b, c)| body(b * BLOCK, c));
    }
}

/// The first-order system of a Lagrangian on `y = (q, q̇)`: writes `(q̇, q̈(t, q, q̇))` to `dy`.
pub fn lagrangian_rhs<L: Lagrangian + ?Sized>(
    lagrangian: &L,
) -> impl FnMut(f64, &[f64], &mut [f64]) -> Result<(), MechanicsError> + '_ {
    let mut eom = EquationsOfMotion::new(lagrangian);
    move |t, y, dy| eom.first_order_rhs(t, y, dy)
}

/// Fixed-step explicit Runge–Kutta on a Lagrangian: one step per output interval.
pub(crate) struct FixedStepRk<'a> {
    eom: Box<dyn Accelerations + 'a>,
    tableau: &'static ButcherTableau,
    t: f64,
    y: Vec<f64>,
    y_new: Vec<f64>,
    work: RkWorkspace,
    first_stage_ready: bool,
    counts: StepCounts,
}

impl<'a> FixedStepRk<'a> {
    /// Starts at `(t0, q0, q̇0)`; evaluates q̈ there (a degenerate Lagrangian fails here).
    pub(crate) fn new(
        mut eom: Box<dyn Accelerations + 'a>,
        tableau: &'static ButcherTableau,
        t0: f64,
        q0: &[f64],
        q_dot0: &[f64],
    ) -> Result<Self, IntegrationError> {
        let y: Vec<f64> = q0.iter().chain(q_dot0).copied().collect();
        let mut work = RkWorkspace::new(tableau, y.len());
        work.set_threads(eom.threads());
        let mut k0 = vec![0.0; y.len()];
        eom.first_order_rhs(t0, &y, &mut k0)
            .map_err(|e| mechanics_error(t0, e))?;
        work.set_first_stage(&k0);
        Ok(FixedStepRk {
            eom,
            tableau,
            t: t0,
            y_new: y.clone(),
            y,
            work,
            first_stage_ready: true,
            counts: StepCounts {
                evaluations: 1,
                ..StepCounts::default()
            },
        })
    }
}

impl Stepper for FixedStepRk<'_> {
    fn advance_to(
        &mut self,
        t_next: f64,
        q: &mut [f64],
        q_dot: &mut [f64],
    ) -> Result<(), IntegrationError> {
        let (t, h) = (self.t, t_next - self.t);
        let (eom, evaluations) = (&mut self.eom, &mut self.counts.evaluations);
        let mut f = |t, y: &[f64], dy: &mut [f64]| {
            *evaluations += 1;
            eom.first_order_rhs(t, y, dy)
        };
        self.work
            .step(
                self.tableau,
                &mut f,
                t,
                h,
                &self.y,
                self.first_stage_ready,
                &mut self.y_new,
                None,
            )
            .map_err(|e| mechanics_error(t, e))?;
        if !all_finite(&self.y_new) {
            return Err(IntegrationError::NonFinite { t });
        }
        std::mem::swap(&mut self.y, &mut self.y_new);
        self.counts.steps += 1;
        self.t = t_next;
        self.first_stage_ready = self.tableau.fsal;
        if self.tableau.fsal {
            self.work.reuse_last_stage();
        }
        let n = q.len();
        q.copy_from_slice(&self.y[..n]);
        q_dot.copy_from_slice(&self.y[n..]);
        Ok(())
    }

    fn counts(&self) -> StepCounts {
        self.counts
    }

    fn evaluator(&self) -> crate::mechanics::EvaluatorInfo {
        self.eom.info()
    }
}

#[cfg(test)]
mod tests {
    use super::super::rk4::RK4;
    use super::*;

    #[test]
    fn rk4_integrates_a_cubic_exactly() {
        // y' = 4t³ ⇒ y = t⁴; RK4 (Simpson's rule on y' = g(t)) is exact for cubic g.
        let mut f = |t: f64, _y: &[f64], dy: &mut [f64]| -> Result<(), ()> {
            dy[0] = 4.0 * t.powi(3);
            Ok(())
        };
        let mut w = RkWorkspace::new(&RK4, 1);
        let mut y = [0.0];
        w.step(&RK4, &mut f, 1.0, 0.5, &[1.0], false, &mut y, None)
            .unwrap();
        assert!((y[0] - 1.5_f64.powi(4)).abs() < 1e-14); // exact up to roundoff
    }

    /// The blocked combinations give the element-by-element formulas bit for bit, across
    /// block boundaries, with and without the embedded error.
    #[test]
    fn blocked_steps_equal_the_formulas_bit_for_bit() {
        use super::super::dopri5::DOPRI5;
        let dim = 2 * BLOCK + 77;
        let mut f = |t: f64, y: &[f64], dy: &mut [f64]| -> Result<(), ()> {
            for (i, (d, x)) in dy.iter_mut().zip(y).enumerate() {
                *d = (0.3 * i as f64 + t).sin() - x * x;
            }
            Ok(())
        };
        let y: Vec<f64> = (0..dim).map(|i| (0.01 * i as f64).cos()).collect();
        let (t, h) = (0.2, 0.05);
        for tableau in [&RK4, &DOPRI5] {
            let mut w = RkWorkspace::new(tableau, dim);
            let (mut y_new, mut err) = (vec![0.0; dim], vec![0.0; dim]);
            w.step(tableau, &mut f, t, h, &y, false, &mut y_new, Some(&mut err))
                .unwrap();
            // the stages again, element by element
            let s = tableau.stages();
            let mut k = vec![vec![0.0; dim]; s];
            f(t, &y, &mut k[0]).unwrap();
            for i in 1..s {
                let mut stage = y.clone();
                for (j, &a) in tableau.a[i].iter().enumerate() {
                    if a != 0.0 {
                        for (yi, kj) in stage.iter_mut().zip(&k[j]) {
                            *yi += h * a * kj;
                        }
                    }
                }
                f(t + tableau.c[i] * h, &stage, &mut k[i]).unwrap();
            }
            for m in 0..dim {
                let incr: f64 = tableau.b.iter().zip(&k).map(|(b, k)| b * k[m]).sum();
                assert_eq!(y_new[m].to_bits(), (y[m] + h * incr).to_bits(), "{m}");
                if let Some(b_hat) = tableau.b_hat {
                    let e: f64 = (tableau.b.iter().zip(b_hat).zip(&k))
                        .map(|((b, bh), k)| (b - bh) * k[m])
                        .sum();
                    assert_eq!(err[m].to_bits(), (h * e).to_bits(), "{m}");
                }
            }
        }
    }

    #[test]
    fn threaded_steps_equal_one_thread_bit_for_bit() {
        use super::super::PARALLEL_STATE_LEN;
        use super::super::dopri5::DOPRI5;
        let dim = PARALLEL_STATE_LEN + 77;
        let mut f = |t: f64, y: &[f64], dy: &mut [f64]| -> Result<(), ()> {
            for (i, (d, x)) in dy.iter_mut().zip(y).enumerate() {
                *d = (0.3 * i as f64 + t).sin() - x * x;
            }
            Ok(())
        };
        let y: Vec<f64> = (0..dim).map(|i| (0.01 * i as f64).cos()).collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        for tableau in [&RK4, &DOPRI5] {
            let mut results = Vec::new();
            for threads in [1, 2] {
                let mut w = RkWorkspace::new(tableau, dim);
                w.set_threads(threads);
                assert_eq!(w.parallel, threads == 2);
                let (mut y_new, mut err) = (vec![0.0; dim], vec![0.0; dim]);
                pool.install(|| {
                    w.step(
                        tableau,
                        &mut f,
                        0.2,
                        0.05,
                        &y,
                        false,
                        &mut y_new,
                        Some(&mut err),
                    )
                })
                .unwrap();
                let bits = |x: Vec<f64>| x.into_iter().map(f64::to_bits).collect::<Vec<_>>();
                results.push((bits(y_new), bits(err)));
            }
            assert!(results[0] == results[1], "{}: threads differ", tableau.name);
        }
        // below the size that pays, one thread whatever the evaluator's
        let mut small = RkWorkspace::new(&RK4, PARALLEL_STATE_LEN - 1);
        small.set_threads(8);
        assert!(!small.parallel);
    }
}
