//! Optimizers: Adam (first order, any number of parameters) and Levenberg–Marquardt
//! (Gauss–Newton with damping, for few parameters), both on the exact Jacobian of [`crate::loss`].

use crate::data::Dataset;
use crate::engine::{Autodiff, LossEngine};
use crate::error::LearnError;
use crate::loss::Evaluation;
use crate::model::Model;
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

/// Learning-rate schedule of Adam, as a function of the iteration `t = 0..T`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// `lr(t) = lr₀`.
    Constant,
    /// `lr(t) = lr₀ · γᵗ`.
    Exponential {
        /// Decay factor per iteration, in (0, 1].
        gamma: f64,
    },
    /// `lr(t) = lr_min + (lr₀ − lr_min)(1 + cos(π t / T)) / 2`.
    Cosine {
        /// Final learning rate.
        min_lr: f64,
    },
}

impl Schedule {
    /// Learning rate at iteration `t` of `total`.
    pub fn rate(&self, lr0: f64, t: usize, total: usize) -> f64 {
        match *self {
            Schedule::Constant => lr0,
            Schedule::Exponential { gamma } => lr0 * gamma.powi(t as i32),
            Schedule::Cosine { min_lr } => {
                let x = t as f64 / total.max(1) as f64;
                min_lr + (lr0 - min_lr) * 0.5 * (1.0 + (std::f64::consts::PI * x).cos())
            }
        }
    }

    /// Parses `constant`, `exponential[:GAMMA]` (default 0.999), `cosine[:MIN_LR]` (default 0).
    pub fn parse(s: &str) -> Result<Self, LearnError> {
        let (name, arg) = match s.split_once(':') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let num = |default: f64| -> Result<f64, LearnError> {
            match arg {
                None => Ok(default),
                Some(a) => a
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .ok_or_else(|| LearnError::InvalidOption {
                        option: "schedule",
                        value: s.to_string(),
                        reason: "the number after `:` must be finite and ≥ 0",
                    }),
            }
        };
        match name {
            "constant" => Ok(Schedule::Constant),
            "exponential" => {
                let gamma = num(0.999)?;
                if !(gamma > 0.0 && gamma <= 1.0) {
                    return Err(LearnError::InvalidOption {
                        option: "schedule",
                        value: s.to_string(),
                        reason: "the exponential decay factor must be in (0, 1]",
                    });
                }
                Ok(Schedule::Exponential { gamma })
            }
            "cosine" => Ok(Schedule::Cosine { min_lr: num(0.0)? }),
            _ => Err(LearnError::InvalidOption {
                option: "schedule",
                value: s.to_string(),
                reason: "unknown schedule (use constant, exponential[:GAMMA] or cosine[:MIN_LR])",
            }),
        }
    }
}

/// Options of Adam (full batch, on the mean loss `ε / #residuals`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamOptions {
    /// Initial learning rate.
    pub learning_rate: f64,
    /// Learning-rate schedule.
    pub schedule: Schedule,
    /// Maximum number of iterations.
    pub iterations: usize,
    /// Stop when the best loss has not improved by this relative amount for `patience` iterations,
    /// or when the gradient's largest component falls below `tolerance`.
    pub tolerance: f64,
    /// See `tolerance`.
    pub patience: usize,
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Denominator guard.
    pub epsilon: f64,
}

impl Default for AdamOptions {
    fn default() -> Self {
        Self {
            learning_rate: 1e-2,
            schedule: Schedule::Constant,
            iterations: 2000,
            tolerance: 1e-10,
            patience: 200,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-12,
        }
    }
}

/// Options of Levenberg–Marquardt.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LmOptions {
    /// Maximum number of (accepted) iterations.
    pub iterations: usize,
    /// Converged when the relative loss decrease of an accepted step is below this.
    pub tolerance: f64,
    /// Converged when an accepted step is smaller than this relative to the parameters' norm.
    pub step_tolerance: f64,
    /// Initial damping `λ` (relative to the diagonal of `JᵀJ`).
    pub initial_damping: f64,
}

impl Default for LmOptions {
    fn default() -> Self {
        Self {
            iterations: 100,
            tolerance: 1e-12,
            step_tolerance: 1e-10,
            initial_damping: 1e-3,
        }
    }
}

/// Which optimizer to run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Optimizer {
    /// Adam.
    Adam(AdamOptions),
    /// Levenberg–Marquardt.
    LevenbergMarquardt(LmOptions),
}

impl Optimizer {
    /// Short name: `adam` or `lm`.
    pub fn name(&self) -> &'static str {
        match self {
            Optimizer::Adam(_) => "adam",
            Optimizer::LevenbergMarquardt(_) => "lm",
        }
    }
}

/// One recorded iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Iteration number (0 = the initial guess).
    pub iteration: usize,
    /// `ε` at this iteration.
    pub loss: f64,
    /// Parameter values at this iteration.
    pub parameters: Vec<f64>,
}

/// Progress report passed to callbacks.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Current iteration.
    pub iteration: usize,
    /// Maximum number of iterations.
    pub max_iterations: usize,
    /// Current loss.
    pub loss: f64,
}

/// What an optimizer run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Final (best) parameters.
    pub parameters: Vec<f64>,
    /// Evaluation (loss, residuals, Jacobian) at the final parameters.
    pub evaluation: Evaluation,
    /// Recorded iterations.
    pub history: Vec<HistoryEntry>,
    /// Iterations performed.
    pub iterations: usize,
    /// Whether a convergence criterion was met (rather than the iteration limit).
    pub converged: bool,
    /// Why it stopped.
    pub stop_reason: String,
}

/// Runs `optimizer` from `init`, with the reference (autodiff) engine.
pub fn optimize<M: Model + Sync + ?Sized>(
    model: &M,
    data: &Dataset,
    init: &[f64],
    optimizer: &Optimizer,
    progress: &mut dyn FnMut(Progress),
) -> Result<Outcome, LearnError> {
    optimize_with(&Autodiff::new(model), data, init, optimizer, progress)
}

/// Runs `optimizer` from `init`, evaluating the loss with `engine`.
pub fn optimize_with(
    engine: &dyn LossEngine,
    data: &Dataset,
    init: &[f64],
    optimizer: &Optimizer,
    progress: &mut dyn FnMut(Progress),
) -> Result<Outcome, LearnError> {
    if let Some(index) = init.iter().position(|x| !x.is_finite()) {
        return Err(LearnError::NonFiniteInitial { index });
    }
    match optimizer {
        Optimizer::Adam(o) => adam(engine, data, init, o, progress),
        Optimizer::LevenbergMarquardt(o) => levenberg_marquardt(engine, data, init, o, progress),
    }
}

fn adam(
    engine: &dyn LossEngine,
    data: &Dataset,
    init: &[f64],
    o: &AdamOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Outcome, LearnError> {
    if !(o.learning_rate > 0.0 && o.learning_rate.is_finite()) {
        return Err(LearnError::InvalidOption {
            option: "learning rate",
            value: o.learning_rate.to_string(),
            reason: "it must be positive and finite",
        });
    }
    let np = init.len();
    let stride = (o.iterations / 2000).max(1);
    let mut theta = init.to_vec();
    let (mut m, mut v) = (vec![0.0; np], vec![0.0; np]);
    let mut history = Vec::new();
    let mut best = (f64::INFINITY, theta.clone());
    let mut since_improvement = 0;
    let mut stop_reason = format!("reached the iteration limit ({})", o.iterations);
    let mut converged = false;
    let mut iterations = 0;
    for t in 0..=o.iterations {
        let (value, gradient) = engine.loss_and_gradient(data, &theta)?;
        let loss = value.sum;
        if t % stride == 0 || t == o.iterations {
            history.push(HistoryEntry {
                iteration: t,
                loss,
                parameters: theta.clone(),
            });
        }
        progress(Progress {
            iteration: t,
            max_iterations: o.iterations,
            loss,
        });
        iterations = t;
        if loss < best.0 * (1.0 - o.tolerance) {
            since_improvement = 0;
        } else {
            since_improvement += 1;
        }
        if loss < best.0 {
            best = (loss, theta.clone());
        }
        let scale = 1.0 / value.residuals as f64;
        let g: Vec<f64> = gradient.iter().map(|x| x * scale).collect();
        if g.iter().fold(0.0_f64, |a, x| a.max(x.abs())) <= o.tolerance {
            stop_reason = "gradient below tolerance".into();
            converged = true;
            break;
        }
        if since_improvement >= o.patience {
            stop_reason = format!(
                "no relative improvement above {:e} in {} iterations",
                o.tolerance, o.patience
            );
            converged = true;
            break;
        }
        if t == o.iterations {
            break;
        }
        let lr = o.schedule.rate(o.learning_rate, t, o.iterations);
        let k = (t + 1) as i32;
        for i in 0..np {
            m[i] = o.beta1 * m[i] + (1.0 - o.beta1) * g[i];
            v[i] = o.beta2 * v[i] + (1.0 - o.beta2) * g[i] * g[i];
            let mh = m[i] / (1.0 - o.beta1.powi(k));
            let vh = v[i] / (1.0 - o.beta2.powi(k));
            theta[i] -= lr * mh / (vh.sqrt() + o.epsilon);
        }
    }
    let evaluation = engine.evaluate(data, &best.1)?;
    Ok(Outcome {
        parameters: best.1,
        evaluation,
        history,
        iterations,
        converged,
        stop_reason,
    })
}

/// Solves `(A + λ D) δ = b` robustly (Cholesky, else SVD pseudo-inverse).
fn damped_solve(a: &DMatrix<f64>, b: &DVector<f64>, lambda: f64) -> DVector<f64> {
    let np = a.nrows();
    let max_diag = (0..np)
        .map(|i| a[(i, i)])
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let mut m = a.clone();
    for i in 0..np {
        m[(i, i)] += lambda * a[(i, i)].max(1e-12 * max_diag);
    }
    if let Some(ch) = m.clone().cholesky() {
        let x = ch.solve(b);
        if x.iter().all(|v| v.is_finite()) {
            return x;
        }
    }
    let svd = m.svd(true, true);
    let tol = 1e-14 * svd.singular_values.max();
    svd.solve(b, tol).unwrap_or_else(|_| DVector::zeros(np))
}

fn levenberg_marquardt(
    engine: &dyn LossEngine,
    data: &Dataset,
    init: &[f64],
    o: &LmOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Outcome, LearnError> {
    let mut theta = init.to_vec();
    let mut ev = engine.evaluate(data, &theta)?;
    let mut history = vec![HistoryEntry {
        iteration: 0,
        loss: ev.value.sum,
        parameters: theta.clone(),
    }];
    progress(Progress {
        iteration: 0,
        max_iterations: o.iterations,
        loss: ev.value.sum,
    });
    let mut lambda = o.initial_damping;
    let mut stop_reason = format!("reached the iteration limit ({})", o.iterations);
    let mut converged = false;
    let mut iterations = 0;
    if ev.value.sum == 0.0 {
        return Ok(Outcome {
            parameters: theta,
            evaluation: ev,
            history,
            iterations: 0,
            converged: true,
            stop_reason: "zero loss at the initial guess".into(),
        });
    }
    'outer: for it in 1..=o.iterations {
        iterations = it;
        let j = &ev.jacobian;
        let r = DVector::from_column_slice(&ev.residuals);
        let a = j.transpose() * j;
        let b = -(j.transpose() * &r);
        let loss = ev.value.sum;
        loop {
            let delta = damped_solve(&a, &b, lambda);
            let trial: Vec<f64> = theta.iter().zip(delta.iter()).map(|(x, d)| x + d).collect();
            let trial_loss = match engine.loss(data, &trial) {
                Ok(v) if v.sum.is_finite() => v.sum,
                _ => f64::INFINITY,
            };
            if trial_loss < loss {
                let step = delta.norm();
                let size = theta.iter().map(|x| x * x).sum::<f64>().sqrt();
                theta = trial;
                ev = engine.evaluate(data, &theta)?;
                lambda = (lambda / 10.0).max(1e-15);
                history.push(HistoryEntry {
                    iteration: it,
                    loss: ev.value.sum,
                    parameters: theta.clone(),
                });
                progress(Progress {
                    iteration: it,
                    max_iterations: o.iterations,
                    loss: ev.value.sum,
                });
                if ev.value.sum == 0.0 {
                    stop_reason = "zero loss".into();
                    converged = true;
                    break 'outer;
                }
                if (loss - ev.value.sum) <= o.tolerance * loss {
                    stop_reason = "relative loss decrease below tolerance".into();
                    converged = true;
                    break 'outer;
                }
                if step <= o.step_tolerance * (size + o.step_tolerance) {
                    stop_reason = "relative step below tolerance".into();
                    converged = true;
                    break 'outer;
                }
                break;
            }
            lambda *= 10.0;
            if lambda > 1e16 {
                stop_reason = "no further decrease possible (damping exhausted)".into();
                converged = true;
                break 'outer;
            }
        }
    }
    Ok(Outcome {
        parameters: theta,
        evaluation: ev,
        history,
        iterations,
        converged,
        stop_reason,
    })
}
