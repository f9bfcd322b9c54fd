//! Multi-start: run the optimizer from seeded random initial guesses (in parallel) and cluster
//! the distinct minima.
//!
//! Start 0 is the model's own initial guess; start `s ≥ 1` draws its guess with
//! [`Model::random_parameters`] from a ChaCha8 generator seeded with `seed` on stream `s`, so the
//! set of starts is reproducible and independent of the number of threads. Minima are clustered
//! on the model's canonical parameters ([`Model::canonical_parameters`], which removes the exact
//! symmetries it knows, e.g. permutations of a network's hidden units): two ends belong to one
//! minimum when their losses agree to `loss_tolerance` (relative, plus a tiny absolute floor) and
//! their canonical parameter vectors to `parameter_tolerance` (relative Euclidean distance).
//! Minima are reported best first.

use crate::data::Dataset;
use crate::engine::build_engine;
use crate::error::LearnError;
use crate::model::Model;
use crate::optim::{Outcome, optimize_with};
use crate::result::{LearnOptions, LearnResult, Minimum, build_result, prepare, to_map};
use crate::shard::{check_range, check_units};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Options of [`multistart`].
#[derive(Debug, Clone, PartialEq)]
pub struct MultiStartOptions {
    /// Number of starts (including the model's initial guess).
    pub starts: usize,
    /// Seed of the random initial guesses.
    pub seed: u64,
    /// Relative loss tolerance for "same minimum".
    pub loss_tolerance: f64,
    /// Relative parameter distance for "same minimum".
    pub parameter_tolerance: f64,
}

impl Default for MultiStartOptions {
    fn default() -> Self {
        Self {
            starts: 8,
            seed: 0,
            loss_tolerance: 1e-6,
            parameter_tolerance: 1e-3,
        }
    }
}

/// Fits from several starts; the result is the best start's full [`LearnResult`] with `minima`
/// (distinct minima, best first) and `failed_starts` filled in.
pub fn multistart<M: Model + Sync + ?Sized>(
    model: &M,
    data: &Dataset,
    options: &LearnOptions,
    ms: &MultiStartOptions,
) -> Result<LearnResult, LearnError> {
    if ms.starts == 0 {
        return Err(LearnError::InvalidOption {
            option: "number of starts",
            value: "0".into(),
            reason: "it must be at least 1",
        });
    }
    let all = run_starts(model, data, options, ms, 0..ms.starts)?;
    combine_starts(ms, vec![all])
}

/// Where one start ended: what clustering the minima needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartEnd {
    /// The start (0 = the model's initial guess).
    pub start: usize,
    /// Where the optimizer ended, or why it failed.
    #[serde(with = "crate::shard::outcome")]
    pub end: Result<StartMinimum, LearnError>,
}

/// The optimizer's end point of one start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartMinimum {
    /// Loss `ε` (a start whose loss is not finite counts as failed).
    #[serde(with = "crate::shard::floats")]
    pub loss: f64,
    /// Mean loss.
    #[serde(with = "crate::shard::floats")]
    pub mean_loss: f64,
    /// Final parameters, in the model's order.
    #[serde(with = "crate::shard::floats")]
    pub parameters: Vec<f64>,
    /// [`Model::canonical_parameters`] of them (what minima are compared on).
    #[serde(with = "crate::shard::floats")]
    pub canonical: Vec<f64>,
    /// Whether the optimizer met a convergence criterion (rather than the iteration cap); shard
    /// files written before this was recorded read as converged.
    #[serde(default = "converged_by_default")]
    pub converged: bool,
}

fn converged_by_default() -> bool {
    true
}

/// The starts one call of [`run_starts`] ran (all of them, or one shard's), and the full result
/// of the best of them: the whole run's best is the best of these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartsRun {
    /// Each start's end, in start order.
    pub ends: Vec<StartEnd>,
    /// The best start that succeeded (absent when none did).
    pub best: Option<BestStart>,
}

/// The best start of a [`StartsRun`] and its full result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestStart {
    /// The start.
    pub start: usize,
    /// Its result (flat directions, uncertainties, history; the engine's report).
    pub result: LearnResult,
}

/// The order of ends from best to worst: loss, then start (a stable sort of the starts in order
/// by loss), so that the best of the best of each shard is the best of all.
fn by_loss(a: &(usize, f64), b: &(usize, f64)) -> std::cmp::Ordering {
    a.1.total_cmp(&b.1).then(a.0.cmp(&b.0))
}

/// Runs the starts `starts` (of the `ms.starts` of the whole run) in parallel. Start `s` draws
/// its guess from stream `s` (start 0 is the model's own guess), so a start ends in the same
/// place however the starts are split.
pub fn run_starts<M: Model + Sync + ?Sized>(
    model: &M,
    data: &Dataset,
    options: &LearnOptions,
    ms: &MultiStartOptions,
    starts: Range<usize>,
) -> Result<StartsRun, LearnError> {
    check_range("multi-start starts", &starts, ms.starts)?;
    let prepared = prepare(model, data)?;
    // one compilation serves every start
    let engine = build_engine(model, options.engine, true)?;
    let runs: Vec<(usize, Result<Outcome, LearnError>)> = starts
        .into_par_iter()
        .map(|s| {
            let init = if s == 0 {
                options
                    .initial
                    .clone()
                    .unwrap_or_else(|| model.initial_parameters())
            } else {
                let mut rng = ChaCha8Rng::seed_from_u64(ms.seed);
                rng.set_stream(s as u64);
                model.random_parameters(&mut rng)
            };
            (
                s,
                optimize_with(
                    engine.as_ref(),
                    &prepared,
                    &init,
                    &options.optimizer,
                    &mut |_| {},
                ),
            )
        })
        .collect();
    let ends = runs
        .iter()
        .map(|(s, r)| StartEnd {
            start: *s,
            end: r.as_ref().map_err(Clone::clone).map(|o| StartMinimum {
                loss: o.evaluation.value.sum,
                mean_loss: o.evaluation.value.mean,
                parameters: o.parameters.clone(),
                canonical: model.canonical_parameters(&o.parameters),
                converged: o.converged,
            }),
        })
        .collect();
    let best = runs
        .into_iter()
        .filter_map(|(s, r)| r.ok().map(|o| (s, o)))
        .filter(|(_, o)| o.evaluation.value.sum.is_finite())
        .min_by(|a, b| {
            by_loss(
                &(a.0, a.1.evaluation.value.sum),
                &(b.0, b.1.evaluation.value.sum),
            )
        })
        .map(|(start, outcome)| {
            let init = outcome
                .history
                .first()
                .map(|h| h.parameters.clone())
                .unwrap_or_default();
            let mut result = build_result(model, &prepared, &init, outcome, options);
            result.engine = Some(engine.report().clone());
            BestStart { start, result }
        });
    Ok(StartsRun { ends, best })
}

/// The multi-start result from the runs of all `ms.starts` starts, in order (one for a whole run,
/// or a sharded run's pieces): the best start's result, with the distinct minima (clustered
/// best first) and the number of failed starts. Fails with the first start's error (or
/// [`LearnError::AllStartsFailed`]) when no start succeeded.
pub fn combine_starts(
    ms: &MultiStartOptions,
    runs: Vec<StartsRun>,
) -> Result<LearnResult, LearnError> {
    let ends: Vec<&StartEnd> = runs.iter().flat_map(|r| &r.ends).collect();
    check_units(
        "multi-start starts",
        ends.iter().map(|e| e.start),
        ms.starts,
    )?;
    let first_error = ends.iter().find_map(|e| e.end.as_ref().err().cloned());
    let mut ok: Vec<(usize, &StartMinimum)> = ends
        .iter()
        .filter_map(|e| e.end.as_ref().ok().map(|m| (e.start, m)))
        .filter(|(_, m)| m.loss.is_finite())
        .collect();
    let failed = ms.starts - ok.len();
    if ok.is_empty() {
        return Err(first_error.unwrap_or(LearnError::AllStartsFailed { starts: ms.starts }));
    }
    ok.sort_by(|a, b| by_loss(&(a.0, a.1.loss), &(b.0, b.1.loss)));
    // cluster
    struct Cluster<'a> {
        loss: f64,
        mean: f64,
        canon: &'a [f64],
        params: &'a [f64],
        starts: Vec<usize>,
        converged: usize,
    }
    let mut clusters: Vec<Cluster> = Vec::new();
    for &(s, m) in &ok {
        let loss = m.loss;
        let canon = &m.canonical;
        let found = clusters.iter_mut().find(|c| {
            let same_loss =
                (loss - c.loss).abs() <= ms.loss_tolerance * c.loss.abs().max(loss.abs()) + 1e-300;
            let dist = canon
                .iter()
                .zip(c.canon)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt();
            let size = c.canon.iter().map(|a| a * a).sum::<f64>().sqrt();
            same_loss && dist <= ms.parameter_tolerance * (size + 1e-12)
        });
        match found {
            Some(c) => {
                c.starts.push(s);
                c.converged += usize::from(m.converged);
            }
            None => clusters.push(Cluster {
                loss,
                mean: m.mean_loss,
                canon,
                params: &m.parameters,
                starts: vec![s],
                converged: usize::from(m.converged),
            }),
        }
    }
    let best_start = ok[0].0;
    let Some(mut result) = runs
        .iter()
        .filter_map(|r| r.best.as_ref())
        .find(|b| b.start == best_start)
        .map(|b| b.result.clone())
    else {
        return Err(LearnError::IncompleteUnits {
            what: "multi-start starts",
            reason: format!("the full result of the best start, {best_start}, is missing"),
        });
    };
    let names = result.parameter_order.clone();
    result.minima = Some(
        clusters
            .into_iter()
            .map(|c| Minimum {
                loss: c.loss,
                mean_loss: c.mean,
                parameters: to_map(&names, c.params),
                count: c.starts.len(),
                starts: c.starts,
                converged: c.converged,
            })
            .collect(),
    );
    result.failed_starts = Some(failed);
    Ok(result)
}
