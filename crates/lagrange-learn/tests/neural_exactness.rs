//! The batched forward-Taylor pass of the neural models against the engine's own path.
//!
//! The reference is independent of the code under test: the model's Lagrangian is evaluated by
//! the generic [`Mlp::forward`] over the engine's nested dual numbers, and
//! [`lagrange_learn::evaluate`] gets q̈ from `lagrange::accelerations` and its exact weight
//! gradient by seeding the weights as dual numbers (eight at a time). The Taylor pass instead
//! propagates hand-derived value/Jacobian/Hessian channels through GEMMs and runs a hand-derived
//! reverse sweep. Agreement to ~1e-10 relative (both are exact up to rounding: ~10³ operations of
//! O(1) values in f64 leave ~1e-13; 1e-10 leaves room for ill-conditioned mass matrices).

#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

use lagrange_learn::neural::{
    BatchScratch, InputScaling, MassPenalty, NeuralKind, NeuralModel, Samples, SmoothActivation,
};
use lagrange_learn::{Dataset, evaluate};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn dataset(n: usize, count: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let names: Vec<String> = (0..n).map(|i| format!("x{i}")).collect();
    let mut data = Dataset::new(names);
    for _ in 0..count {
        let mut draw =
            |s: f64| -> Vec<f64> { (0..n).map(|_| s * rng.random_range(-1.0..1.0)).collect() };
        let (q, qd, qdd) = (draw(2.0), draw(1.5), draw(5.0));
        data.push(q, qd, qdd);
    }
    data
}

fn model(kind: NeuralKind, n: usize, activation: SmoothActivation, seed: u64) -> NeuralModel {
    let mut scaling = InputScaling::identity(n);
    // one angle feature and a non-trivial normalization, so both feature paths are checked
    scaling.angles[0] = true;
    for i in 0..n {
        scaling.q_mean[i] = 0.1 * i as f64;
        scaling.q_scale[i] = 1.3 + 0.2 * i as f64;
        scaling.q_dot_mean[i] = -0.05 * i as f64;
        scaling.q_dot_scale[i] = 0.8 + 0.1 * i as f64;
    }
    let names: Vec<String> = (0..n).map(|i| format!("x{i}")).collect();
    let mut m = NeuralModel::new(kind, names, 6, 2, activation, scaling, seed).unwrap();
    // biases are zero at initialization: randomize them too, so their gradient is exercised
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
    for p in &mut m.parameters {
        *p += 0.2 * rng.random_range(-1.0..1.0);
    }
    m
}

fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= 1e-10 * scale.max(1.0)
}

fn check(kind: NeuralKind, n: usize, activation: SmoothActivation, seed: u64) {
    let m = model(kind, n, activation, seed);
    let data = dataset(n, 7, seed);
    let samples = Samples::from_dataset(&data);
    let all: Vec<usize> = (0..data.len()).collect();
    let reference = evaluate(&m, &data, &m.parameters).unwrap();
    assert_eq!(reference.value.singular, 0, "test states must be regular");
    // q̈: residuals r = q̈ − data
    let mut scratch = BatchScratch::<f64>::default();
    let acc = m.accelerations_batch(&samples, &all, &mut scratch);
    for (s, a) in acc.iter().enumerate() {
        let a = a.as_ref().expect("regular sample");
        for i in 0..n {
            let want = reference.residuals[s * n + i] + data.q_ddot[s][i];
            assert!(
                close(a[i], want, want.abs()),
                "{kind:?} sample {s} q̈[{i}]: {} vs {want}",
                a[i]
            );
        }
    }
    // gradient: ours is of Σ r²/(B·n), the reference of Σ r²
    let mut grad = vec![0.0; m.parameters.len()];
    let loss = m.batch_loss(
        &m.parameters,
        &samples,
        &all,
        data.len(),
        &mut scratch,
        Some(&mut grad),
    );
    let bn = (data.len() * n) as f64;
    assert!(close(
        loss.objective * bn,
        reference.value.sum,
        reference.value.sum
    ));
    let gscale = reference
        .gradient
        .iter()
        .fold(0.0_f64, |a, g| a.max(g.abs()));
    for (i, (g, want)) in grad.iter().zip(&reference.gradient).enumerate() {
        assert!(
            close(g * bn, *want, gscale),
            "{kind:?} {activation:?} weight {i}: {} vs {want}",
            g * bn
        );
    }
}

#[test]
fn lnn_matches_nested_duals() {
    for (seed, act) in [
        (1, SmoothActivation::Softplus),
        (2, SmoothActivation::Tanh),
        (3, SmoothActivation::Sigmoid),
    ] {
        check(NeuralKind::Lnn, 2, act, seed);
    }
    check(NeuralKind::Lnn, 3, SmoothActivation::Tanh, 4);
}

#[test]
fn structured_matches_nested_duals() {
    check(NeuralKind::Structured, 2, SmoothActivation::Softplus, 5);
    check(NeuralKind::Structured, 3, SmoothActivation::Tanh, 6);
}

/// The baseline has no Lagrangian: its q̈ is checked against the generic network evaluation,
/// its gradient against dual numbers seeded one weight at a time.
#[test]
fn baseline_matches_dual_numbers() {
    use lagrange::num_dual::Dual64;
    let n = 2;
    let mut m = model(NeuralKind::Baseline, n, SmoothActivation::Tanh, 7);
    m.output_scale = vec![2.0, 0.5];
    let data = dataset(n, 5, 7);
    let samples = Samples::from_dataset(&data);
    let all: Vec<usize> = (0..data.len()).collect();
    let mut grad = vec![0.0; m.parameters.len()];
    let mut scratch = BatchScratch::<f64>::default();
    let loss = m.batch_loss(
        &m.parameters,
        &samples,
        &all,
        data.len(),
        &mut scratch,
        Some(&mut grad),
    );
    let mlp = m.mlp();
    let objective = |seed: Option<usize>| -> Dual64 {
        let mut total = Dual64::from(0.0);
        for s in 0..data.len() {
            let q: Vec<Dual64> = data.q[s].iter().map(|&x| Dual64::from(x)).collect();
            let qd: Vec<Dual64> = data.q_dot[s].iter().map(|&x| Dual64::from(x)).collect();
            let x = m.scaling.features(&q, &qd, true);
            let out = mlp.forward(
                |i| {
                    let mut w = Dual64::from(m.parameters[i]);
                    if seed == Some(i) {
                        w.eps = 1.0;
                    }
                    w
                },
                &x,
            );
            for i in 0..n {
                let r = out[i] * m.output_scale[i] - data.q_ddot[s][i];
                total += r * r;
            }
        }
        total / (data.len() * n) as f64
    };
    assert!(close(loss.objective, objective(None).re, 1.0));
    for i in 0..m.parameters.len() {
        let want = objective(Some(i)).eps;
        assert!(
            close(grad[i], want, 1.0),
            "weight {i}: {} vs {want}",
            grad[i]
        );
    }
}

/// The mass-matrix penalty's gradient against central differences of its own objective (the
/// penalty is piecewise smooth; the states are chosen away from its kink).
#[test]
fn lnn_penalty_gradient_matches_differences() {
    let n = 2;
    let mut m = model(NeuralKind::Lnn, n, SmoothActivation::Softplus, 8);
    m.penalty = Some(MassPenalty {
        weight: 3.0,
        floor: 50.0,
    });
    let data = dataset(n, 4, 8);
    let samples = Samples::from_dataset(&data);
    let all: Vec<usize> = (0..data.len()).collect();
    let mut scratch = BatchScratch::<f64>::default();
    let mut grad = vec![0.0; m.parameters.len()];
    let loss = m.batch_loss(
        &m.parameters,
        &samples,
        &all,
        data.len(),
        &mut scratch,
        Some(&mut grad),
    );
    assert!(
        loss.penalty > 0.0,
        "the floor is set so the penalty is active"
    );
    for i in (0..m.parameters.len()).step_by(7) {
        let h = 1e-6;
        let mut p = m.parameters.clone();
        p[i] += h;
        let up = m
            .batch_loss(&p, &samples, &all, data.len(), &mut scratch, None)
            .objective;
        p[i] -= 2.0 * h;
        let down = m
            .batch_loss(&p, &samples, &all, data.len(), &mut scratch, None)
            .objective;
        let fd = (up - down) / (2.0 * h);
        // central differences: O(h²) truncation + O(ε/h) rounding ≈ 1e-8 relative
        assert!(
            (grad[i] - fd).abs() <= 1e-5 * (1.0 + fd.abs()),
            "weight {i}: {} vs {fd}",
            grad[i]
        );
    }
}

/// The f32 pass agrees with the f64 pass to single precision.
#[test]
fn f32_pass_agrees_with_f64() {
    let n = 2;
    let m = model(NeuralKind::Lnn, n, SmoothActivation::Softplus, 9);
    let data = dataset(n, 6, 9);
    let samples = Samples::from_dataset(&data);
    let all: Vec<usize> = (0..data.len()).collect();
    let mut g64 = vec![0.0; m.parameters.len()];
    let l64 = m.batch_loss(
        &m.parameters,
        &samples,
        &all,
        data.len(),
        &mut BatchScratch::default(),
        Some(&mut g64),
    );
    let p32: Vec<f32> = m.parameters.iter().map(|&p| p as f32).collect();
    let mut g32 = vec![0.0f32; m.parameters.len()];
    let l32 = m.batch_loss(
        &p32,
        &samples,
        &all,
        data.len(),
        &mut BatchScratch::default(),
        Some(&mut g32),
    );
    assert!((l32.objective - l64.objective).abs() < 1e-3 * l64.objective);
    let gmax = g64.iter().fold(0.0_f64, |a, g| a.max(g.abs()));
    for (a, b) in g32.iter().zip(&g64) {
        // rounding of ~10⁴ f32 operations on O(1) values: a few 1e-4 of the largest entry
        assert!((*a as f64 - b).abs() < 2e-3 * gmax);
    }
}
