//! Timing of training steps and their FLOP count, for `lagrange bench --neural`.

use super::model::NeuralModel;
use super::train::{Precision, TrainOptions, TrainReport, train};
use crate::{Dataset, LearnError};

/// A training run: [`train`] on the CPU, or another engine through
/// [`train_with`](super::train_with).
pub type Trainer<'a> =
    dyn Fn(&mut NeuralModel, &Dataset, &TrainOptions) -> Result<TrainReport, LearnError> + 'a;

/// Floating-point operations of one training step (forward and reverse pass of the GEMMs, the
/// part that scales; the elementwise work and the heads are not counted) at this batch size.
pub fn flops_per_step(model: &NeuralModel, batch: usize) -> f64 {
    let cols = (batch * model.channels().width()) as f64;
    model
        .mlp()
        .slots()
        .iter()
        .enumerate()
        .map(|(l, s)| {
            let gemm = 2.0 * (s.inputs * s.outputs) as f64 * cols;
            // forward Z = W X; reverse W̄ = Z̄ Xᵀ and (but for the first layer) X̄ = Wᵀ Z̄
            gemm * if l == 0 { 2.0 } else { 3.0 }
        })
        .sum()
}

/// Seconds per training step (Adam included) on the CPU over `steps` steps after 3 warm-up
/// steps, the median of `repeats` measurements.
pub fn seconds_per_step(
    model: &NeuralModel,
    data: &Dataset,
    batch: usize,
    precision: Precision,
    threads: usize,
    steps: usize,
    repeats: usize,
) -> Result<f64, LearnError> {
    let cpu = |m: &mut NeuralModel, d: &Dataset, o: &TrainOptions| train(m, d, o, &mut |_| {});
    seconds_per_step_with(&cpu, model, data, batch, precision, threads, steps, repeats)
}

/// [`seconds_per_step`] with any trainer (for the GPU engine).
#[allow(clippy::too_many_arguments)]
pub fn seconds_per_step_with(
    trainer: &Trainer<'_>,
    model: &NeuralModel,
    data: &Dataset,
    batch: usize,
    precision: Precision,
    threads: usize,
    steps: usize,
    repeats: usize,
) -> Result<f64, LearnError> {
    let options = |steps| TrainOptions {
        steps,
        batch,
        lr: 1e-4,
        validation: 0.0,
        patience: 0,
        eval_every: steps,
        threads,
        precision,
        ..TrainOptions::default()
    };
    let mut m = model.clone();
    trainer(&mut m, data, &options(3))?;
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats.max(1) {
        let mut m = model.clone();
        let report = trainer(&mut m, data, &options(steps))?;
        times.push(report.seconds / steps as f64);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    Ok(times[times.len() / 2])
}
