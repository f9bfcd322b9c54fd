//! Time per training step of a neural model on random double-pendulum-sized data:
//! `cargo run --release -p lagrange-learn --example neural_step -- [lnn|structured|baseline] [f32|f64] [batch] [threads]`.
use lagrange_learn::Dataset;
use lagrange_learn::neural::*;
use rand::{RngExt, SeedableRng};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let kind = NeuralKind::parse(args.get(1).map_or("lnn", |s| s)).unwrap();
    let precision = if args.get(2).map_or("f32", |s| s) == "f64" {
        Precision::F64
    } else {
        Precision::F32
    };
    let batch: usize = args.get(3).map_or(256, |s| s.parse().unwrap());
    let threads: usize = args.get(4).map_or(0, |s| s.parse().unwrap());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut data = Dataset::new(vec!["theta1".into(), "theta2".into()]);
    for _ in 0..2000 {
        let mut r =
            |s: f64| -> Vec<f64> { (0..2).map(|_| s * rng.random_range(-1.0..1.0)).collect() };
        let (a, b, c) = (r(1.5), r(1.0), r(10.0));
        data.push(a, b, c);
    }
    let scaling = InputScaling::from_samples(&data.q, &data.q_dot, vec![true, true]);
    let mut model = NeuralModel::new(
        kind,
        data.coordinates.clone(),
        128,
        2,
        SmoothActivation::Softplus,
        scaling,
        0,
    )
    .unwrap();
    let options = TrainOptions {
        steps: 300,
        batch,
        validation: 0.0,
        eval_every: 300,
        precision,
        threads,
        ..TrainOptions::default()
    };
    let report = train(&mut model, &data, &options, &mut |_| {}).unwrap();
    println!(
        "{:?} {:?} batch {batch}: {:.3} ms/step over {} steps; final mse {:.3e}",
        kind,
        precision,
        1e3 * report.seconds / report.steps as f64,
        report.steps,
        report.final_train_loss
    );
}
