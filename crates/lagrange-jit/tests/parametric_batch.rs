//! The batch methods of `ParametricEquations` (two samples per iteration in vector lanes)
//! against analytic accelerations and against the same samples one at a time: every sample's
//! result is its own, whatever its lane partner, and the samples the in-code solve refuses
//! (singular M, values that are not finite) are exactly those left undecided.

use lagrange_jit::{ParametricEquations, ParametricLagrangian, ParametricOptions, Sample, Traced};

/// `L = ½ a x² ẋ² + ½ ẏ² − ½ k (x² + y²)`, θ = (a, k): M = diag(a x², 1), singular at x = 0.
/// By hand: `ẍ = −ẋ²/x − k/(a x)`, `ÿ = −k y`.
struct SingularAtZero;

impl ParametricLagrangian for SingularAtZero {
    fn dof(&self) -> usize {
        2
    }
    fn num_parameters(&self) -> usize {
        2
    }
    fn lagrangian(&self, th: &[Traced], _t: Traced, q: &[Traced], v: &[Traced]) -> Traced {
        let (x, y) = (q[0], q[1]);
        th[0] * x * x * v[0] * v[0] * 0.5 + v[1] * v[1] * 0.5 - th[1] * (x * x + y * y) * 0.5
    }
}

fn by_hand(theta: [f64; 2], q: [f64; 2], v: [f64; 2]) -> [f64; 2] {
    let [a, k] = theta;
    [-v[0] * v[0] / q[0] - k / (a * q[0]), -k * q[1]]
}

/// Seven states (an odd count, so the last pair is padded); sample 3 (lane 1 of pair 1) is
/// singular, sample 4 has a NaN velocity.
fn states() -> Vec<([f64; 2], [f64; 2], [f64; 2])> {
    (0..7)
        .map(|s| {
            let x = if s == 3 { 0.0 } else { 0.4 + 0.3 * s as f64 };
            let vx = if s == 4 {
                f64::NAN
            } else {
                0.2 * s as f64 - 0.5
            };
            ([x, 1.0 - 0.1 * s as f64], [vx, 0.3], [0.1 * s as f64, -0.2])
        })
        .collect()
}

#[test]
fn batches_agree_with_single_samples_and_the_hand_derivation() {
    let theta = [1.7, 2.3];
    let mut eom = ParametricEquations::new(&SingularAtZero, ParametricOptions::default()).unwrap();
    eom.set_parameters(&theta);
    let states = states();
    let samples: Vec<Sample> = states
        .iter()
        .map(|(q, v, obs)| Sample {
            t: 0.0,
            q,
            q_dot: v,
            observed: obs,
        })
        .collect();

    let mut batch = vec![None; samples.len()];
    eom.accelerations_batch(
        samples.len(),
        |s| samples[s],
        |s, acc| batch[s] = acc.map(<[f64]>::to_vec),
    );
    let mut gradients = vec![None; samples.len()];
    eom.loss_gradient_batch(
        samples.len(),
        |s| samples[s],
        |s, r| gradients[s] = r.map(|(e, g)| (e, g.to_vec())),
    );
    let mut jacobians = vec![None; samples.len()];
    eom.jacobian_batch(
        samples.len(),
        |s| samples[s],
        |s, r| jacobians[s] = r.map(|(a, j)| (a.to_vec(), j.to_vec())),
    );

    for (s, (q, v, obs)) in states.iter().enumerate() {
        let decided = s != 3 && s != 4;
        assert_eq!(batch[s].is_some(), decided, "sample {s}");
        assert_eq!(gradients[s].is_some(), decided, "sample {s}");
        assert_eq!(jacobians[s].is_some(), decided, "sample {s}");
        // one at a time: the same bits (the same code, whatever the lane partner)
        let mut single = [0.0; 2];
        assert_eq!(eom.accelerations_into(0.0, q, v, &mut single), decided);
        let mut grad = [0.0; 2];
        let loss = eom.loss_gradient_into(0.0, q, v, obs, &mut grad);
        if !decided {
            continue;
        }
        let acc = batch[s].as_ref().unwrap();
        assert_eq!(acc, &single.to_vec(), "sample {s}");
        let (e, g) = gradients[s].as_ref().unwrap();
        assert_eq!((Some(*e), g.as_slice()), (loss, &grad[..]), "sample {s}");
        // against the hand derivation; 1e-13 relative: a few roundings of O(1) terms
        let hand = by_hand(theta, *q, *v);
        for i in 0..2 {
            assert!(
                (acc[i] - hand[i]).abs() <= 1e-13 * hand[i].abs().max(1.0),
                "sample {s}: {} vs {}",
                acc[i],
                hand[i]
            );
        }
        // ε and ∂ε/∂θ = 2 Σ (q̈ − obs) ∂q̈/∂θ from the Jacobian (∂ẍ/∂a = k/(a² x),
        // ∂ẍ/∂k = −1/(a x), ∂ÿ/∂k = −y)
        let (a, k) = (theta[0], theta[1]);
        let r = [hand[0] - obs[0], hand[1] - obs[1]];
        let jac = [k / (a * a * q[0]), -1.0 / (a * q[0]), 0.0, -q[1]];
        let (jacobian_acc, jacobian) = jacobians[s].as_ref().unwrap();
        assert_eq!(jacobian_acc, acc);
        for (x, y) in jacobian.iter().zip(jac) {
            assert!((x - y).abs() <= 1e-13 * y.abs().max(1.0), "{x} vs {y}");
        }
        let expected_loss = r[0] * r[0] + r[1] * r[1];
        assert!((e - expected_loss).abs() <= 1e-13 * expected_loss.max(1.0));
        for kk in 0..2 {
            let expected = 2.0 * (r[0] * jac[kk] + r[1] * jac[2 + kk]);
            assert!((g[kk] - expected).abs() <= 1e-12 * expected.abs().max(1.0));
        }
    }
}

/// Five coupled oscillators, `L = Σ ½ m ẋᵢ² − ½ k Σ (xᵢ₊₁ − xᵢ)² − ½ k x₀²`: more coordinates
/// than the in-code solve takes, so every sample goes through the host's LU, in the batch too.
struct Chain;

impl ParametricLagrangian for Chain {
    fn dof(&self) -> usize {
        5
    }
    fn num_parameters(&self) -> usize {
        2
    }
    fn lagrangian(&self, th: &[Traced], _t: Traced, q: &[Traced], v: &[Traced]) -> Traced {
        let mut l = th[1] * q[0] * q[0] * -0.5;
        for i in 0..5 {
            l += th[0] * v[i] * v[i] * 0.5;
            if i + 1 < 5 {
                let d = q[i + 1] - q[i];
                l -= th[1] * d * d * 0.5;
            }
        }
        l
    }
}

#[test]
fn more_than_four_coordinates_run_on_the_host_in_batches_too() {
    let (m, k) = (2.0, 3.0);
    let mut eom = ParametricEquations::new(&Chain, ParametricOptions::default()).unwrap();
    eom.set_parameters(&[m, k]);
    let qs: Vec<Vec<f64>> = (0..3)
        .map(|s| (0..5).map(|i| 0.1 * (i + s) as f64).collect())
        .collect();
    let v = vec![0.0; 5];
    let samples: Vec<Sample> = qs
        .iter()
        .map(|q| Sample {
            t: 0.0,
            q,
            q_dot: &v,
            observed: &[],
        })
        .collect();
    let mut seen = 0;
    eom.accelerations_batch(
        samples.len(),
        |s| samples[s],
        |s, acc| {
            let acc = acc.expect("M = m I is regular");
            let q = &qs[s];
            // m ẍᵢ = −∂V/∂xᵢ
            for i in 0..5 {
                let left = if i == 0 { q[0] } else { q[i] - q[i - 1] };
                let right = if i + 1 < 5 { q[i + 1] - q[i] } else { 0.0 };
                let expected = k * (right - left) / m;
                assert!(
                    (acc[i] - expected).abs() <= 1e-14,
                    "{} vs {expected}",
                    acc[i]
                );
            }
            seen += 1;
        },
    );
    assert_eq!(seen, 3);
}
