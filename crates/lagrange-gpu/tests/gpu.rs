//! The GPU engine against the CPU engine (itself checked against nested dual numbers in
//! `lagrange-learn`): loss, singular count and weight gradient on random models and states, in
//! f64 to 1e-10 and f32 to single-precision rounding, and a short training run.
//!
//! These need an NVIDIA GPU with CUDA 13 and are ignored by default (CI has no GPU):
//! `cargo test -p lagrange-gpu -- --ignored` on a GPU machine.

use lagrange::systems::DoublePendulum;
use lagrange_gpu::CudaEngine;
use lagrange_learn::Dataset;
use lagrange_learn::neural::{
    BatchScratch, GradientEngine, InputScaling, NeuralKind, NeuralModel, Precision, Samples,
    SmoothActivation, TrainOptions,
};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Double-pendulum samples with exact q̈ (the hand-derived oracle of the core).
fn data(count: usize, seed: u64) -> Dataset {
    let truth = DoublePendulum {
        g: 9.8,
        ..DoublePendulum::default()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut d = Dataset::new(vec!["theta1".into(), "theta2".into()]);
    for _ in 0..count {
        let q = vec![rng.random_range(-1.5..1.5), rng.random_range(-1.5..1.5)];
        let q_dot = vec![rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)];
        let q_ddot = truth.hand_accelerations(0.0, &q, &q_dot);
        d.push(q, q_dot, q_ddot);
    }
    d
}

fn model(kind: NeuralKind, activation: SmoothActivation, data: &Dataset, seed: u64) -> NeuralModel {
    // one angle coordinate and one normalized one, so both feature paths run
    let scaling = InputScaling::from_samples(&data.q, &data.q_dot, vec![true, false]);
    let mut m = NeuralModel::new(
        kind,
        data.coordinates.clone(),
        24,
        2,
        activation,
        scaling,
        seed,
    )
    .unwrap();
    // perturb the weights away from the initialization's structure (non-negative layers)
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
    for p in &mut m.parameters {
        *p += 0.05 * rng.random_range(-1.0..1.0);
    }
    m
}

fn cpu_loss(model: &NeuralModel, samples: &Samples, indices: &[usize]) -> (f64, usize, Vec<f64>) {
    let mut scratch = BatchScratch::<f64>::default();
    let mut grad = vec![0.0; model.parameters.len()];
    let loss = model.batch_loss(
        &model.parameters,
        samples,
        indices,
        indices.len(),
        &mut scratch,
        Some(&mut grad),
    );
    (loss.objective, loss.regular, grad)
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |a, &x| a.max(x.abs()))
}

#[test]
#[ignore = "needs an NVIDIA GPU (cargo test -p lagrange-gpu -- --ignored)"]
fn f64_loss_and_gradient_equal_the_cpu_engine() {
    let d = data(700, 1);
    let samples = Samples::from_dataset(&d);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let indices: Vec<usize> = (0..300).map(|_| rng.random_range(0..700)).collect();
    for kind in [NeuralKind::Lnn, NeuralKind::Baseline] {
        for activation in [
            SmoothActivation::Softplus,
            SmoothActivation::Tanh,
            SmoothActivation::Sigmoid,
        ] {
            for seed in 0..3 {
                let m = model(kind, activation, &d, seed);
                let (objective, regular, grad) = cpu_loss(&m, &samples, &indices);
                // a capacity below the index count: the engine evaluates in chunks and sums
                for capacity in [512, 128] {
                    let mut gpu = CudaEngine::<f64>::new(&m, &samples, capacity, 0).unwrap();
                    let mut g = vec![0.0; m.parameters.len()];
                    let loss = gpu
                        .evaluate(&m, &indices, indices.len(), Some(&mut g))
                        .unwrap();
                    let what = format!("{kind:?} {activation:?} seed {seed} capacity {capacity}");
                    assert_eq!(loss.regular, regular, "{what}");
                    // the same f64 operations in another order (cuBLAS sums, atomics): the
                    // differences are rounding, ~1e-15 relative per operation
                    assert!(
                        (loss.objective - objective).abs() <= 1e-10 * objective.abs(),
                        "{what}: loss {} vs {objective}",
                        loss.objective
                    );
                    let scale = max_abs(&grad);
                    let diff: Vec<f64> = g.iter().zip(&grad).map(|(a, b)| a - b).collect();
                    assert!(
                        max_abs(&diff) <= 1e-10 * scale,
                        "{what}: gradient differs by {} (largest entry {scale})",
                        max_abs(&diff)
                    );
                }
            }
        }
    }
}

#[test]
#[ignore = "needs an NVIDIA GPU (cargo test -p lagrange-gpu -- --ignored)"]
fn f32_gradient_is_the_cpu_one_to_single_precision() {
    let d = data(2048, 2);
    let samples = Samples::from_dataset(&d);
    let indices: Vec<usize> = (0..1024).collect();
    let m = model(NeuralKind::Lnn, SmoothActivation::Softplus, &d, 4);
    let (objective, _, grad) = cpu_loss(&m, &samples, &indices);
    let mut gpu = CudaEngine::<f32>::new(&m, &samples, 1024, 0).unwrap();
    let mut g = vec![0.0; m.parameters.len()];
    let loss = gpu
        .evaluate(&m, &indices, indices.len(), Some(&mut g))
        .unwrap();
    // f32 through two hidden layers and a 2×2 solve: a few hundred ulps of 6e-8
    assert!((loss.objective - objective).abs() <= 1e-3 * objective);
    let diff: Vec<f64> = g.iter().zip(&grad).map(|(a, b)| a - b).collect();
    assert!(
        max_abs(&diff) <= 1e-3 * max_abs(&grad),
        "{}",
        max_abs(&diff)
    );
}

#[test]
#[ignore = "needs an NVIDIA GPU (cargo test -p lagrange-gpu -- --ignored)"]
fn training_on_the_gpu_follows_the_cpu_run() {
    let d = data(1000, 3);
    let m0 = model(NeuralKind::Lnn, SmoothActivation::Softplus, &d, 7);
    let options = TrainOptions {
        steps: 60,
        batch: 128,
        lr: 3e-3,
        validation: 0.1,
        patience: 0,
        eval_every: 20,
        threads: 1,
        precision: Precision::F64,
        ..TrainOptions::default()
    };
    let (mut cpu, mut gpu) = (m0.clone(), m0.clone());
    let a = lagrange_learn::neural::train(&mut cpu, &d, &options, &mut |_| {}).unwrap();
    let b = lagrange_gpu::train(&mut gpu, &d, &options, 0, &mut |_| {}).unwrap();
    assert_eq!(a.steps, b.steps);
    assert_eq!(a.best_step, b.best_step);
    assert!(b.final_train_loss < b.history[0].train);
    // same minibatches, same Adam in f64, gradients equal to ~1e-13. Adam divides by √v, so a
    // weight whose gradient is pure rounding noise may move differently by up to lr per step;
    // such weights barely touch the loss. Bound: 1e-5 on the weights (lr · steps = 0.18), 1e-6
    // relative on the loss.
    let diff = cpu
        .parameters
        .iter()
        .zip(&gpu.parameters)
        .fold(0.0_f64, |a, (x, y)| a.max((x - y).abs()));
    assert!(diff < 1e-5, "weights differ by {diff}");
    assert!((a.final_train_loss - b.final_train_loss).abs() <= 1e-6 * a.final_train_loss);
}

#[test]
#[ignore = "needs an NVIDIA GPU (cargo test -p lagrange-gpu -- --ignored)"]
fn unsupported_models_are_refused_with_a_reason() {
    let d = data(100, 4);
    let samples = Samples::from_dataset(&d);
    let m = model(NeuralKind::Structured, SmoothActivation::Softplus, &d, 0);
    let e = CudaEngine::<f64>::new(&m, &samples, 64, 0).err().unwrap();
    assert!(e.to_string().contains("structured"), "{e}");
}
