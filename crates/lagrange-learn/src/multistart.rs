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
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

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
    let prepared = prepare(model, data)?;
    let names = model.parameter_names();
    // one compilation serves every start
    let engine = build_engine(model, options.engine, true)?;
    let runs: Vec<(usize, Result<Outcome, LearnError>)> = (0..ms.starts)
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
    let first_error = runs.iter().find_map(|(_, r)| r.as_ref().err().cloned());
    let mut ok: Vec<(usize, Outcome)> = runs
        .into_iter()
        .filter_map(|(s, r)| r.ok().map(|o| (s, o)))
        .filter(|(_, o)| o.evaluation.value.sum.is_finite())
        .collect();
    let failed = ms.starts - ok.len();
    if ok.is_empty() {
        return Err(first_error.unwrap_or(LearnError::AllStartsFailed { starts: ms.starts }));
    }
    ok.sort_by(|a, b| {
        a.1.evaluation
            .value
            .sum
            .total_cmp(&b.1.evaluation.value.sum)
    });
    // cluster
    struct Cluster {
        loss: f64,
        mean: f64,
        canon: Vec<f64>,
        params: Vec<f64>,
        starts: Vec<usize>,
    }
    let mut clusters: Vec<Cluster> = Vec::new();
    for (s, o) in &ok {
        let loss = o.evaluation.value.sum;
        let canon = model.canonical_parameters(&o.parameters);
        let found = clusters.iter_mut().find(|c| {
            let same_loss =
                (loss - c.loss).abs() <= ms.loss_tolerance * c.loss.abs().max(loss.abs()) + 1e-300;
            let dist = canon
                .iter()
                .zip(&c.canon)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt();
            let size = c.canon.iter().map(|a| a * a).sum::<f64>().sqrt();
            same_loss && dist <= ms.parameter_tolerance * (size + 1e-12)
        });
        match found {
            Some(c) => c.starts.push(*s),
            None => clusters.push(Cluster {
                loss,
                mean: o.evaluation.value.mean,
                canon,
                params: o.parameters.clone(),
                starts: vec![*s],
            }),
        }
    }
    let (best_start, best) = ok.swap_remove(0);
    let init = best
        .history
        .first()
        .map(|h| h.parameters.clone())
        .unwrap_or_default();
    let _ = best_start;
    let mut result = build_result(model, &prepared, &init, best, options);
    result.engine = Some(engine.report().clone());
    result.minima = Some(
        clusters
            .into_iter()
            .map(|c| Minimum {
                loss: c.loss,
                mean_loss: c.mean,
                parameters: to_map(&names, &c.params),
                count: c.starts.len(),
                starts: c.starts,
            })
            .collect(),
    );
    result.failed_starts = Some(failed);
    Ok(result)
}
