//! Training a [`NeuralModel`]: minibatch Adam with a learning-rate schedule, a seeded
//! train/validation split, early stopping on the validation loss, and threads over the batch.

use super::model::{BatchLoss, BatchScratch, NeuralModel, Samples};
use super::taylor::Real;
use crate::error::LearnError;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Learning-rate schedule over the training steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LrSchedule {
    /// `lr` throughout.
    Constant,
    /// `lr · (1 + cos(π t/T))/2`, down to `lr/1000`.
    Cosine,
    /// Linear warm-up from `lr/25` to `lr` over the first 30 %, then cosine down to `lr/10⁴`.
    OneCycle,
}

impl LrSchedule {
    /// Parses `constant`, `cosine`, `onecycle`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "constant" => Some(Self::Constant),
            "cosine" => Some(Self::Cosine),
            "onecycle" => Some(Self::OneCycle),
            _ => None,
        }
    }

    /// The learning rate at the fraction `x ∈ [0, 1]` of the run.
    pub fn rate(self, lr: f64, x: f64) -> f64 {
        let x = x.clamp(0.0, 1.0);
        let cosine =
            |x: f64, lo: f64| lo + (lr - lo) * 0.5 * (1.0 + (std::f64::consts::PI * x).cos());
        match self {
            Self::Constant => lr,
            Self::Cosine => cosine(x, lr * 1e-3),
            Self::OneCycle => {
                let warm = 0.3;
                if x < warm {
                    lr / 25.0 + (lr - lr / 25.0) * x / warm
                } else {
                    cosine((x - warm) / (1.0 - warm), lr * 1e-4)
                }
            }
        }
    }
}

/// Floating-point precision of the training passes (the optimizer state is always `f64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// Single precision: about twice the GEMM throughput.
    F32,
    /// Double precision.
    F64,
}

/// Options of [`train`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    /// Adam steps (upper bound: early stopping may end sooner).
    pub steps: usize,
    /// Samples per minibatch.
    pub batch: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Learning-rate schedule.
    pub schedule: LrSchedule,
    /// Fraction of the samples held out for validation (0 disables early stopping).
    pub validation: f64,
    /// Validation evaluations without improvement before stopping (0: never stop early).
    pub patience: usize,
    /// Steps between validation evaluations (0: about 200 evaluations per run, spread over the
    /// steps or, with a time limit, over the time, whichever ends the run first).
    pub eval_every: usize,
    /// Seed of the split and of the minibatches.
    pub seed: u64,
    /// Threads (0: all cores).
    pub threads: usize,
    /// Precision of the passes.
    pub precision: Precision,
    /// Stop after this many seconds of training (`None`: no limit). The schedule then runs
    /// over whichever of the steps and the time comes first.
    pub time_limit: Option<f64>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            steps: 2000,
            batch: 256,
            lr: 1e-3,
            schedule: LrSchedule::Cosine,
            validation: 0.1,
            patience: 20,
            eval_every: 0,
            seed: 0,
            threads: 0,
            precision: Precision::F32,
            time_limit: None,
        }
    }
}

/// One point of the loss history.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HistoryPoint {
    /// Step.
    pub step: usize,
    /// Mean squared q̈ error per residual over the minibatches since the previous point.
    pub train: f64,
    /// Mean squared q̈ error per residual on the validation set (`NaN` without one).
    pub validation: f64,
}

/// What a training run did (saved in the model file as `"training"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// Steps taken.
    pub steps: usize,
    /// Wall-clock seconds of the training loop (not the final loss evaluation).
    pub seconds: f64,
    /// Mean squared q̈ error on the training samples with the returned weights.
    pub final_train_loss: f64,
    /// The same on the validation samples (`null` without any).
    pub final_validation_loss: Option<f64>,
    /// The step whose weights are returned (the best validation loss).
    pub best_step: usize,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// Whether the time limit ended the run.
    pub stopped_by_time: bool,
    /// Samples whose learned mass matrix is singular, with the returned weights (train + validation).
    pub singular_samples: usize,
    /// Samples used for training and for validation.
    pub train_samples: usize,
    /// Validation samples.
    pub validation_samples: usize,
    /// The options.
    pub options: TrainOptions,
    /// Where the loss and gradient ran (`cpu (N threads)`, `cuda:0 (NVIDIA H200)`).
    #[serde(default)]
    pub engine: String,
    /// Loss history.
    pub history: Vec<HistoryPoint>,
}

/// Progress of a run, handed to the observer after every validation evaluation.
#[derive(Debug, Clone, Copy)]
pub struct TrainProgress {
    /// Steps done.
    pub step: usize,
    /// Steps planned.
    pub steps: usize,
    /// Latest history point.
    pub point: HistoryPoint,
    /// Singular samples met in the minibatches since the previous point.
    pub singular: usize,
}

/// Checks the options, and splits the samples (seeded) into training and validation indices.
#[allow(clippy::type_complexity)]
fn split(
    model: &NeuralModel,
    data: &crate::Dataset,
    options: &TrainOptions,
) -> Result<(Samples, Vec<usize>, Vec<usize>, ChaCha8Rng), LearnError> {
    let invalid = |option, value: String, reason| {
        Err(LearnError::InvalidOption {
            option,
            value,
            reason,
        })
    };
    if data.coordinates != model.coordinates {
        return Err(crate::DataError::CoordinateMismatch {
            data: data.coordinates.join(", "),
            model: model.coordinates.join(", "),
        }
        .into());
    }
    if options.steps == 0 {
        return invalid("steps", "0".into(), "it must be at least 1");
    }
    if options.batch == 0 {
        return invalid("batch", "0".into(), "it must be at least 1");
    }
    if !(options.lr.is_finite() && options.lr > 0.0) {
        return invalid("lr", options.lr.to_string(), "it must be a positive number");
    }
    if !(0.0..0.9).contains(&options.validation) {
        return invalid(
            "validation",
            options.validation.to_string(),
            "it must be a fraction in [0, 0.9)",
        );
    }
    let samples = Samples::from_dataset(data);
    let mut order: Vec<usize> = (0..samples.len()).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    order.shuffle(&mut rng);
    let held = ((samples.len() as f64) * options.validation).round() as usize;
    let held = if options.validation > 0.0 {
        held.clamp(1, samples.len().saturating_sub(1))
    } else {
        0
    };
    let (validation, training) = order.split_at(held);
    if training.is_empty() {
        return invalid(
            "data",
            samples.len().to_string(),
            "too few samples to train on",
        );
    }
    Ok((samples, training.to_vec(), validation.to_vec(), rng))
}

/// Trains `model` (its `parameters` are the starting point and receive the result) on `data`,
/// which must have the model's coordinates in order.
pub fn train(
    model: &mut NeuralModel,
    data: &crate::Dataset,
    options: &TrainOptions,
    observer: &mut dyn FnMut(&TrainProgress),
) -> Result<TrainReport, LearnError> {
    let (samples, training, validation, mut rng) = split(model, data, options)?;
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| LearnError::InvalidOption {
            option: "threads",
            value: threads.to_string(),
            reason: {
                drop(e);
                "the thread pool could not start"
            },
        })?;
    let run = Run {
        training,
        validation,
        options,
    };
    match options.precision {
        Precision::F32 => {
            let mut engine = CpuEngine::<f32>::new(&samples, threads, pool);
            run.go(model, &mut engine, &mut rng, observer)
        }
        Precision::F64 => {
            let mut engine = CpuEngine::<f64>::new(&samples, threads, pool);
            run.go(model, &mut engine, &mut rng, observer)
        }
    }
}

/// Where the loss of a set of samples and its weight gradient are computed: on the CPU's cores
/// ([`CpuEngine`]) or on an accelerator (the `lagrange-gpu` crate). [`train_with`] runs the same
/// loop, split, schedule and Adam over any of them.
pub trait GradientEngine {
    /// Where it runs, for the report (`cpu (2 threads)`, `cuda:0 (NVIDIA H200)`).
    fn name(&self) -> String;
    /// The loss of `indices` (into the samples the engine was made for) with the weights
    /// `model.parameters`, each residual weighted by `1/(normalizer·n)`. With `grad` (one entry
    /// per weight), the gradient of the objective is written into it (overwriting).
    fn evaluate(
        &mut self,
        model: &NeuralModel,
        indices: &[usize],
        normalizer: usize,
        grad: Option<&mut [f64]>,
    ) -> Result<BatchLoss, LearnError>;
}

/// [`train`] on another [`GradientEngine`]: `make` builds it for the training samples (all of
/// them, training and validation, in the data's row order).
pub fn train_with<'s>(
    model: &mut NeuralModel,
    data: &crate::Dataset,
    options: &TrainOptions,
    make: impl FnOnce(&NeuralModel, Samples) -> Result<Box<dyn GradientEngine + 's>, LearnError>,
    observer: &mut dyn FnMut(&TrainProgress),
) -> Result<TrainReport, LearnError> {
    let (samples, training, validation, mut rng) = split(model, data, options)?;
    let mut engine = make(model, samples)?;
    let run = Run {
        training,
        validation,
        options,
    };
    run.go(model, engine.as_mut(), &mut rng, observer)
}

/// The engine of [`train`]: the batch split over a rayon pool, one [`BatchScratch`] per thread.
pub struct CpuEngine<'a, T> {
    samples: &'a Samples,
    lanes: Vec<Lane<T>>,
    pool: rayon::ThreadPool,
    params: Vec<T>,
}

impl<'a, T: Real> CpuEngine<'a, T> {
    /// An engine over `samples` with `threads` lanes run on `pool`.
    pub fn new(samples: &'a Samples, threads: usize, pool: rayon::ThreadPool) -> Self {
        Self {
            samples,
            lanes: (0..threads.max(1))
                .map(|_| Lane {
                    scratch: BatchScratch::default(),
                    grad: Vec::new(),
                })
                .collect(),
            pool,
            params: Vec::new(),
        }
    }
}

impl<T: Real> GradientEngine for CpuEngine<'_, T> {
    fn name(&self) -> String {
        format!("cpu ({} threads)", self.lanes.len())
    }
    fn evaluate(
        &mut self,
        model: &NeuralModel,
        indices: &[usize],
        normalizer: usize,
        grad: Option<&mut [f64]>,
    ) -> Result<BatchLoss, LearnError> {
        self.params.clear();
        self.params
            .extend(model.parameters.iter().map(|&p| T::of(p)));
        let Some(grad) = grad else {
            let (params, samples) = (&self.params, self.samples);
            let lanes = &mut self.lanes;
            return Ok(self.pool.install(|| {
                evaluate_chunked(
                    model,
                    params,
                    samples,
                    indices,
                    normalizer,
                    lanes.iter_mut().map(|l| &mut l.scratch),
                )
            }));
        };
        let count = model.parameters.len();
        let per = indices.len().div_ceil(self.lanes.len());
        let (params, samples) = (&self.params, self.samples);
        let lanes = &mut self.lanes;
        let parts: Vec<BatchLoss> = self.pool.install(|| {
            lanes
                .par_iter_mut()
                .enumerate()
                .map(|(i, lane)| {
                    lane.grad.clear();
                    lane.grad.resize(count, T::zero());
                    let lo = (i * per).min(indices.len());
                    let hi = ((i + 1) * per).min(indices.len());
                    model.batch_loss(
                        params,
                        samples,
                        &indices[lo..hi],
                        normalizer,
                        &mut lane.scratch,
                        Some(&mut lane.grad),
                    )
                })
                .collect()
        });
        for (i, g) in grad.iter_mut().enumerate() {
            *g = lanes
                .iter()
                .map(|l| l.grad[i].to_f64().unwrap_or(f64::NAN))
                .sum();
        }
        let mut total = BatchLoss::default();
        parts.iter().for_each(|p| total.merge(p));
        Ok(total)
    }
}

struct Run<'a> {
    training: Vec<usize>,
    validation: Vec<usize>,
    options: &'a TrainOptions,
}

/// Per-thread buffers and gradient.
struct Lane<T> {
    scratch: BatchScratch<T>,
    grad: Vec<T>,
}

impl Run<'_> {
    fn go(
        &self,
        model: &mut NeuralModel,
        engine: &mut dyn GradientEngine,
        rng: &mut ChaCha8Rng,
        observer: &mut dyn FnMut(&TrainProgress),
    ) -> Result<TrainReport, LearnError> {
        let o = self.options;
        let start = Instant::now();
        let n = model.dof();
        let count = model.parameters.len();
        let mut grad = vec![0.0; count];
        let (mut m1, mut m2) = (vec![0.0; count], vec![0.0; count]);
        let (beta1, beta2, eps) = (0.9, 0.999, 1e-8);
        let eval_every = if o.eval_every == 0 {
            (o.steps / 200).max(1)
        } else {
            o.eval_every
        };
        let batch = o.batch.min(self.training.len());
        let mut pool = self.training.clone();
        let mut cursor = pool.len();
        let mut best = (f64::INFINITY, 0usize, model.parameters.clone());
        let mut since_best = 0usize;
        let mut history = Vec::new();
        let (mut window_se, mut window_res, mut window_singular) = (0.0, 0usize, 0usize);
        let (mut stopped_early, mut stopped_by_time) = (false, false);
        let mut step = 0;
        let mut next_time_check = 1.0;
        let mut last_check = 0;
        while step < o.steps {
            // next minibatch: epochs over a reshuffled training set
            if cursor + batch > pool.len() {
                pool.shuffle(rng);
                cursor = 0;
            }
            let indices = &pool[cursor..cursor + batch];
            cursor += batch;
            let loss = engine.evaluate(model, indices, indices.len(), Some(&mut grad))?;
            window_se += loss.squared_error;
            window_res += loss.regular * n;
            window_singular += loss.singular;
            // Adam, in f64
            // progress through the run: by steps, or by time when a time limit is nearer
            let mut progress = step as f64 / o.steps as f64;
            if let Some(limit) = o.time_limit {
                progress = progress.max(start.elapsed().as_secs_f64() / limit);
            }
            let lr = o.schedule.rate(o.lr, progress);
            let t = (step + 1) as i32;
            let (c1, c2) = (1.0 - f64::powi(beta1, t), 1.0 - f64::powi(beta2, t));
            for (i, p) in model.parameters.iter_mut().enumerate() {
                let g = grad[i];
                if !g.is_finite() {
                    continue;
                }
                m1[i] = beta1 * m1[i] + (1.0 - beta1) * g;
                m2[i] = beta2 * m2[i] + (1.0 - beta2) * g * g;
                *p -= lr * (m1[i] / c1) / ((m2[i] / c2).sqrt() + eps);
            }
            step += 1;
            let elapsed = start.elapsed().as_secs_f64();
            let out_of_time = o.time_limit.is_some_and(|s| elapsed >= s);
            // with a time limit and no explicit cadence, also check every 1/200 of the time
            let time_check = o.eval_every == 0
                && step >= last_check + 10
                && o.time_limit
                    .is_some_and(|s| elapsed >= next_time_check * s / 200.0);
            if time_check {
                next_time_check = (elapsed / o.time_limit.unwrap_or(1.0) * 200.0).floor() + 1.0;
            }
            if step % eval_every == 0 || step == o.steps || out_of_time || time_check {
                last_check = step;
                let validation = if self.validation.is_empty() {
                    f64::NAN
                } else {
                    // the periodic checks use at most 4096 validation samples (a fixed subset),
                    // so that they stay a small share of the time; the final loss uses all
                    let check = &self.validation[..self.validation.len().min(4096)];
                    engine.evaluate(model, check, check.len(), None)?.mse(n)
                };
                let point = HistoryPoint {
                    step,
                    train: if window_res > 0 {
                        window_se / window_res as f64
                    } else {
                        f64::NAN
                    },
                    validation,
                };
                history.push(point);
                observer(&TrainProgress {
                    step,
                    steps: o.steps,
                    point,
                    singular: window_singular,
                });
                (window_se, window_res, window_singular) = (0.0, 0, 0);
                let score = if self.validation.is_empty() {
                    point.train
                } else {
                    validation
                };
                if score < best.0 {
                    best = (score, step, model.parameters.clone());
                    since_best = 0;
                } else {
                    since_best += 1;
                    if o.patience > 0 && !self.validation.is_empty() && since_best >= o.patience {
                        stopped_early = true;
                        break;
                    }
                }
                if out_of_time {
                    stopped_by_time = true;
                    break;
                }
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        if best.0.is_finite() {
            model.parameters = best.2;
        }
        let train_loss = engine.evaluate(model, &self.training, self.training.len(), None)?;
        let validation_loss = if self.validation.is_empty() {
            None
        } else {
            Some(engine.evaluate(model, &self.validation, self.validation.len(), None)?)
        };
        if train_loss.regular == 0 {
            return Err(LearnError::AllSingular {
                samples: self.training.len(),
            });
        }
        Ok(TrainReport {
            steps: step,
            seconds,
            final_train_loss: train_loss.mse(n),
            final_validation_loss: validation_loss.map(|l| l.mse(n)),
            best_step: best.1,
            stopped_early,
            stopped_by_time,
            singular_samples: train_loss.singular + validation_loss.map_or(0, |l| l.singular),
            train_samples: self.training.len(),
            validation_samples: self.validation.len(),
            options: o.clone(),
            engine: engine.name(),
            history,
        })
    }
}

fn evaluate_chunked<'a, T: Real>(
    model: &NeuralModel,
    params: &[T],
    samples: &Samples,
    indices: &[usize],
    normalizer: usize,
    scratches: impl Iterator<Item = &'a mut BatchScratch<T>>,
) -> BatchLoss {
    let mut scratches: Vec<&mut BatchScratch<T>> = scratches.collect();
    let lanes = scratches.len().max(1);
    let per = indices.len().div_ceil(lanes).max(1);
    let parts: Vec<BatchLoss> = scratches
        .par_iter_mut()
        .enumerate()
        .map(|(i, scratch)| {
            let lo = (i * per).min(indices.len());
            let hi = ((i + 1) * per).min(indices.len());
            let mut total = BatchLoss::default();
            for chunk in indices[lo..hi].chunks(1024) {
                let part = model.batch_loss(params, samples, chunk, normalizer, scratch, None);
                total.merge(&part);
            }
            total
        })
        .collect();
    let mut total = BatchLoss::default();
    parts.iter().for_each(|p| total.merge(p));
    total
}

/// Mean squared q̈ error of `model` on every sample of `data` (f64), with the singular count.
pub fn evaluate_mse(model: &NeuralModel, data: &crate::Dataset) -> BatchLoss {
    let samples = Samples::from_dataset(data);
    let indices: Vec<usize> = (0..samples.len()).collect();
    let threads = rayon::current_num_threads().max(1);
    let mut scratches: Vec<BatchScratch<f64>> =
        (0..threads).map(|_| BatchScratch::default()).collect();
    evaluate_chunked(
        model,
        &model.parameters,
        &samples,
        &indices,
        indices.len(),
        scratches.iter_mut(),
    )
}
