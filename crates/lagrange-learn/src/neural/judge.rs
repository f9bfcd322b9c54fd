//! Judging a trained model against the true system: rollouts from the same random initial
//! conditions (energy error, trajectory error, departure time), and maps of the q̈ error on a
//! 2-D slice of phase space (extrapolation beyond the training box).
//!
//! **Energy error** (Cranmer et al. 2020's protocol): per initial condition,
//! `|E_true(x_model(t_end)) − E_true(x(0))| / scale`, where `E_true` is the true system's energy
//! (Jacobi integral) and `x_model` the model's rollout. `scale` is given (29.4 for the double
//! pendulum with m = l = 1, g = 9.8: its largest potential energy) or, by default, the largest
//! `|E_true(x(0))|` of the set.

use super::evaluator::NeuralAccelerations;
use super::model::{BatchScratch, NeuralModel, Samples};
use crate::error::LearnError;
use crate::shard::{check_range, check_units};
use lagrange::Lagrangian;
use lagrange::integrators::{Method, NoObserver, simulate_streaming};
use lagrange::mechanics::{EquationsOfMotion, accelerations, jacobi_integral};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::ops::{ControlFlow, Range};

/// Options of [`judge`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeOptions {
    /// Number of initial conditions.
    pub initial_conditions: usize,
    /// `(low, high)` of each `q` then each `q̇` (the initial conditions are uniform in it).
    pub bounds: Vec<(f64, f64)>,
    /// End time of the rollouts.
    pub t_end: f64,
    /// Output interval of the rollouts (the error curves' resolution).
    pub output_dt: f64,
    /// dopri5 relative tolerance.
    pub rtol: f64,
    /// dopri5 absolute tolerance.
    pub atol: f64,
    /// Energy scale (`None`: the largest `|E_true(x(0))|`).
    pub energy_scale: Option<f64>,
    /// Relative state error that counts as departing from the truth.
    pub departure: f64,
    /// Seed of the initial conditions.
    pub seed: u64,
}

/// One initial condition's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InitialConditionResult {
    /// Initial positions.
    pub q0: Vec<f64>,
    /// Initial velocities.
    pub q_dot0: Vec<f64>,
    /// `E_true(x(0))`.
    pub energy0: f64,
    /// `|E_true(x_model(t_end)) − E_true(x(0))| / scale` (`t_end`: the last time reached).
    pub energy_error: f64,
    /// The same for the true system's own rollout (the integrator's share).
    pub truth_energy_error: f64,
    /// `‖x_model − x_true‖ / ‖x_true‖` at the last time both reached (`x = (q, q̇)`).
    pub final_state_error: f64,
    /// First time the relative state error exceeds `departure` (`None`: never).
    pub departure_time: Option<f64>,
    /// Where and why the model's rollout stopped early, if it did.
    pub failure: Option<String>,
}

/// The outcome of [`judge`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// Mean of the energy errors.
    pub energy_error_mean: f64,
    /// Median of the energy errors.
    pub energy_error_median: f64,
    /// Largest energy error.
    pub energy_error_max: f64,
    /// Mean energy error of the true system's own rollouts (what the integrator contributes).
    pub truth_energy_error_mean: f64,
    /// The energy scale used.
    pub energy_scale: f64,
    /// Median departure time (`t_end` for those that never depart).
    pub departure_time_median: f64,
    /// Model rollouts that stopped early.
    pub failures: usize,
    /// Output times.
    pub times: Vec<f64>,
    /// Mean over initial conditions of the model's energy error at each output time.
    pub energy_error_vs_time: Vec<f64>,
    /// The same for the true rollouts.
    pub truth_energy_error_vs_time: Vec<f64>,
    /// Median over initial conditions of the relative state error at each output time.
    pub state_error_vs_time: Vec<f64>,
    /// Initial condition 0: positions of the model's and the truth's rollouts at each output time.
    pub example_model: Vec<Vec<f64>>,
    /// See `example_model`.
    pub example_truth: Vec<Vec<f64>>,
    /// Per initial condition.
    pub per_initial_condition: Vec<InitialConditionResult>,
}

/// One rollout's rows: `(t, q, q̇)` per output time, and the failure if it stopped early.
type Rollout = (Vec<(f64, Vec<f64>, Vec<f64>)>, Option<String>);

fn rollout<L: Lagrangian + ?Sized>(
    lagrangian: &L,
    eom: Box<dyn lagrange::mechanics::Accelerations + '_>,
    q0: &[f64],
    q_dot0: &[f64],
    o: &JudgeOptions,
) -> Rollout {
    let mut rows = Vec::new();
    let mut sink = |t: f64, q: &[f64], q_dot: &[f64]| -> ControlFlow<()> {
        if q.iter().chain(q_dot).any(|v| !v.is_finite()) {
            return ControlFlow::Break(());
        }
        rows.push((t, q.to_vec(), q_dot.to_vec()));
        ControlFlow::Continue(())
    };
    let method = Method::DormandPrince54 {
        rtol: o.rtol,
        atol: o.atol,
    };
    let result = simulate_streaming(
        lagrangian,
        eom,
        &method,
        0.0,
        q0,
        q_dot0,
        o.t_end,
        o.output_dt,
        1,
        &mut sink,
        &mut NoObserver,
    );
    let failure = match result {
        Ok(stats) if stats.stopped => Some("non-finite state".to_string()),
        Ok(_) => None,
        Err(e) => Some(e.to_string()),
    };
    (rows, failure)
}

fn relative_state_error(qm: &[f64], vm: &[f64], qt: &[f64], vt: &[f64]) -> f64 {
    let d: f64 = qm
        .iter()
        .zip(qt)
        .chain(vm.iter().zip(vt))
        .map(|(a, b)| (a - b).powi(2))
        .sum();
    let s: f64 = qt.iter().chain(vt).map(|b| b * b).sum();
    (d / s.max(1e-300)).sqrt()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| !x.is_nan());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

/// Rolls out `model` and `truth` from the same random initial conditions and compares them.
/// The truth is any Lagrangian with the model's coordinates in order.
pub fn judge<T: Lagrangian + Sync + ?Sized>(
    model: &NeuralModel,
    truth: &T,
    options: &JudgeOptions,
) -> Result<Judgement, LearnError> {
    let all = rollouts(model, truth, options, 0..options.initial_conditions)?;
    judgement(options, &all)
}

/// The rollouts of one initial condition, the model's and the truth's, reduced to what
/// [`judgement`] needs: the energy deviations are not yet divided by the energy scale, which
/// depends on every initial condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollouts {
    /// Which initial condition (0-based, in the order they are drawn).
    pub index: usize,
    /// The initial state: positions, then velocities.
    #[serde(with = "crate::shard::floats")]
    pub x0: Vec<f64>,
    /// `E_true(x(0))`.
    #[serde(with = "crate::shard::floats")]
    pub energy0: f64,
    /// Output times of the true rollout.
    #[serde(with = "crate::shard::floats")]
    pub times: Vec<f64>,
    /// `|E_true(x_model(t)) − E_true(x(0))|` at each output time the model's rollout reached.
    #[serde(with = "crate::shard::floats")]
    pub model_energy_deviation: Vec<f64>,
    /// The same for the true rollout.
    #[serde(with = "crate::shard::floats")]
    pub truth_energy_deviation: Vec<f64>,
    /// `‖x_model − x_true‖ / ‖x_true‖` at each output time both reached.
    #[serde(with = "crate::shard::floats")]
    pub state_error: Vec<f64>,
    /// First time the relative state error exceeds [`JudgeOptions::departure`] (`None`: never).
    #[serde(with = "crate::shard::floats")]
    pub departure_time: Option<f64>,
    /// Where and why the model's rollout stopped early, if it did.
    pub model_failure: Option<String>,
    /// Where and why the true rollout stopped early, if it did (an error of the judgement).
    pub truth_failure: Option<String>,
    /// Initial condition 0 only (the example plotted): the model's positions at each output time.
    #[serde(default, with = "crate::shard::floats")]
    pub example_model: Option<Vec<Vec<f64>>>,
    /// Initial condition 0 only: the truth's positions at each output time.
    #[serde(default, with = "crate::shard::floats")]
    pub example_truth: Option<Vec<Vec<f64>>>,
}

/// Every initial condition of a judgement, `q` then `q̇`, drawn one after the other from one
/// seeded generator (so condition `i` is the same however the judgement is split).
fn initial_conditions(o: &JudgeOptions) -> Vec<Vec<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
    (0..o.initial_conditions)
        .map(|_| {
            o.bounds
                .iter()
                .map(|&(lo, hi)| {
                    if hi > lo {
                        rng.random_range(lo..hi)
                    } else {
                        lo
                    }
                })
                .collect()
        })
        .collect()
}

/// Rolls out `model` and `truth` from the initial conditions `conditions` (of the
/// `initial_conditions` of `options`) in parallel.
pub fn rollouts<T: Lagrangian + Sync + ?Sized>(
    model: &NeuralModel,
    truth: &T,
    options: &JudgeOptions,
    conditions: Range<usize>,
) -> Result<Vec<Rollouts>, LearnError> {
    let n = model.dof();
    let o = options;
    let invalid = |option, value: String, reason| LearnError::InvalidOption {
        option,
        value,
        reason,
    };
    if truth.dof() != n {
        return Err(invalid(
            "truth",
            truth.dof().to_string(),
            "the true system must have the model's coordinates",
        ));
    }
    if o.bounds.len() != 2 * n {
        return Err(invalid(
            "box",
            o.bounds.len().to_string(),
            "give one range per coordinate and velocity",
        ));
    }
    if o.initial_conditions == 0 {
        return Err(invalid("initial conditions", "0".into(), "at least 1"));
    }
    check_range("initial conditions", &conditions, o.initial_conditions)?;
    let starts = initial_conditions(o);
    let energy = |q: &[f64], v: &[f64]| jacobi_integral(truth, 0.0, q, v).unwrap_or(f64::NAN);
    Ok(conditions
        .into_par_iter()
        .map(|i| {
            let x0 = &starts[i];
            let (q0, v0) = x0.split_at(n);
            let (mrows, mfail) =
                rollout(model, Box::new(NeuralAccelerations::new(model)), q0, v0, o);
            let (trows, tfail) = rollout(truth, Box::new(EquationsOfMotion::new(truth)), q0, v0, o);
            let e0 = energy(q0, v0);
            let deviation = |rows: &[(f64, Vec<f64>, Vec<f64>)]| {
                rows.iter()
                    .map(|r| (energy(&r.1, &r.2) - e0).abs())
                    .collect()
            };
            let both = mrows.len().min(trows.len());
            let state_error: Vec<f64> = (0..both)
                .map(|k| relative_state_error(&mrows[k].1, &mrows[k].2, &trows[k].1, &trows[k].2))
                .collect();
            let departure_time = state_error
                .iter()
                .position(|err| *err > o.departure)
                .map(|k| mrows[k].0);
            let example = |rows: &[(f64, Vec<f64>, Vec<f64>)]| {
                (i == 0).then(|| rows.iter().map(|r| r.1.clone()).collect())
            };
            Rollouts {
                index: i,
                x0: x0.clone(),
                energy0: e0,
                times: trows.iter().map(|r| r.0).collect(),
                model_energy_deviation: deviation(&mrows),
                truth_energy_deviation: deviation(&trows),
                state_error,
                departure_time,
                model_failure: mfail,
                truth_failure: tfail,
                example_model: example(&mrows),
                example_truth: example(&trows),
            }
        })
        .collect())
}

/// The judgement from the rollouts of all initial conditions, in order (one piece for a whole
/// run, or a sharded run's pieces, concatenated): the energy scale, the per-condition errors,
/// and their means and medians over the conditions and over time.
pub fn judgement(options: &JudgeOptions, rollouts: &[Rollouts]) -> Result<Judgement, LearnError> {
    let o = options;
    check_units(
        "initial conditions",
        rollouts.iter().map(|r| r.index),
        o.initial_conditions,
    )?;
    if let Some(r) = rollouts.iter().find(|r| !r.energy0.is_finite()) {
        return Err(LearnError::InvalidOption {
            option: "initial condition",
            value: format!("{:?}", r.x0),
            reason: "the true system's energy is not finite there",
        });
    }
    let scale = match o.energy_scale {
        Some(s) => s,
        None => rollouts
            .iter()
            .fold(0.0_f64, |a, r| a.max(r.energy0.abs()))
            .max(1e-300),
    };
    let times: Vec<f64> = rollouts
        .iter()
        .map(|r| &r.times)
        .max_by_key(|t| t.len())
        .cloned()
        .unwrap_or_default();
    let steps = times.len();
    let mut per = Vec::with_capacity(rollouts.len());
    let mut e_curve = vec![Vec::new(); steps];
    let mut t_curve = vec![Vec::new(); steps];
    let mut s_curve = vec![Vec::new(); steps];
    for r in rollouts {
        for k in 0..steps {
            if let Some(d) = r.model_energy_deviation.get(k) {
                e_curve[k].push(d / scale);
            }
            if let Some(d) = r.truth_energy_deviation.get(k) {
                t_curve[k].push(d / scale);
            }
            if let Some(err) = r.state_error.get(k) {
                s_curve[k].push(*err);
            }
        }
        let last = |deviation: &[f64]| deviation.last().map_or(f64::NAN, |d| d / scale);
        if let Some(f) = &r.truth_failure {
            return Err(LearnError::InvalidOption {
                option: "truth rollout",
                value: format!("from initial condition {} ({f})", r.index),
                reason: "the true system's own rollout failed (try a smaller box or t_end)",
            });
        }
        let n = r.x0.len() / 2;
        per.push(InitialConditionResult {
            q0: r.x0[..n].to_vec(),
            q_dot0: r.x0[n..].to_vec(),
            energy0: r.energy0,
            energy_error: last(&r.model_energy_deviation),
            truth_energy_error: last(&r.truth_energy_deviation),
            final_state_error: r.state_error.last().copied().unwrap_or(f64::NAN),
            departure_time: r.departure_time,
            failure: r.model_failure.clone(),
        });
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let errors: Vec<f64> = per.iter().map(|r| r.energy_error).collect();
    let example = |pick: fn(&Rollouts) -> &Option<Vec<Vec<f64>>>| {
        rollouts
            .first()
            .and_then(|r| pick(r).clone())
            .unwrap_or_default()
    };
    Ok(Judgement {
        energy_error_mean: mean(&errors),
        energy_error_median: median(errors.clone()),
        energy_error_max: errors.iter().copied().fold(f64::NAN, f64::max),
        truth_energy_error_mean: mean(
            &per.iter().map(|r| r.truth_energy_error).collect::<Vec<_>>(),
        ),
        energy_scale: scale,
        departure_time_median: median(
            per.iter()
                .map(|r| r.departure_time.unwrap_or(o.t_end))
                .collect(),
        ),
        failures: per.iter().filter(|r| r.failure.is_some()).count(),
        energy_error_vs_time: e_curve.iter().map(|v| mean(v)).collect(),
        truth_energy_error_vs_time: t_curve.iter().map(|v| mean(v)).collect(),
        state_error_vs_time: s_curve.into_iter().map(median).collect(),
        example_model: example(|r| &r.example_model),
        example_truth: example(|r| &r.example_truth),
        times,
        per_initial_condition: per,
    })
}

/// The q̈ error on a grid: for each state, the model's and the truth's q̈ and
/// `‖q̈_model − q̈_true‖ / max(‖q̈_true‖, floor)`, where `floor` is 10⁻³ of the RMS of
/// `‖q̈_true‖` over the grid (so that points where the true q̈ vanishes do not divide by zero).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorMap {
    /// Model q̈ per state (`None` where its mass matrix is singular).
    pub model: Vec<Option<Vec<f64>>>,
    /// True q̈ per state (`None` where it is not defined).
    pub truth: Vec<Option<Vec<f64>>>,
    /// Relative error per state (`NaN` where either is undefined).
    pub relative_error: Vec<f64>,
}

/// q̈ of the model and of the truth at each state `(q, q̇)`, and their relative error.
pub fn error_map<T: Lagrangian + Sync + ?Sized>(
    model: &NeuralModel,
    truth: &T,
    states: &[(Vec<f64>, Vec<f64>)],
) -> ErrorMap {
    let n = model.dof();
    let samples = Samples {
        n,
        q: states.iter().flat_map(|s| s.0.clone()).collect(),
        q_dot: states.iter().flat_map(|s| s.1.clone()).collect(),
        q_ddot: vec![0.0; states.len() * n],
    };
    let indices: Vec<usize> = (0..states.len()).collect();
    let model_acc: Vec<Option<Vec<f64>>> = indices
        .par_chunks(1024)
        .flat_map_iter(|chunk| {
            let mut scratch = BatchScratch::<f64>::default();
            model.accelerations_batch(&samples, chunk, &mut scratch)
        })
        .collect();
    let truth_acc: Vec<Option<Vec<f64>>> = states
        .par_iter()
        .map(|(q, v)| {
            accelerations(truth, 0.0, q, v)
                .ok()
                .filter(|a| a.iter().all(|x| x.is_finite()))
        })
        .collect();
    let norm = |a: &[f64]| a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let norms: Vec<f64> = truth_acc.iter().flatten().map(|a| norm(a)).collect();
    let rms = (norms.iter().map(|x| x * x).sum::<f64>() / norms.len().max(1) as f64).sqrt();
    let floor = (1e-3 * rms).max(1e-300);
    let relative_error = model_acc
        .iter()
        .zip(&truth_acc)
        .map(|(m, t)| match (m, t) {
            (Some(m), Some(t)) => {
                let d: Vec<f64> = m.iter().zip(t).map(|(a, b)| a - b).collect();
                norm(&d) / norm(t).max(floor)
            }
            _ => f64::NAN,
        })
        .collect();
    ErrorMap {
        model: model_acc,
        truth: truth_acc,
        relative_error,
    }
}
