//! Learning from measured positions only (`lagrange_learn::positions`), on trajectories of the
//! oscillator `½ m ẋ² − ½ k x²` (m = 1, k = 4) written from its exact solution
//! x = A cos ωt + (v₀/ω) sin ωt, ω = √(k/m): smoothing differentiation against the exact
//! derivatives, and the learned k of both methods against the true one, clean and noisy.
use lagrange_learn::positions::{
    PositionTrajectory, ShootingOptions, differentiate, learn_by_shooting,
};
use lagrange_learn::{LearnOptions, Restricted, TextModel, learn};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

const OMEGA: f64 = 2.0;
const A: f64 = 1.0;
const V0: f64 = 0.6;

fn exact(t: f64) -> [f64; 3] {
    let (c, s) = ((OMEGA * t).cos(), (OMEGA * t).sin());
    let x = A * c + V0 / OMEGA * s;
    let v = -A * OMEGA * s + V0 * c;
    [x, v, -OMEGA * OMEGA * x]
}

/// `count` samples every `dt`, with Gaussian noise of standard deviation `sigma` on x.
fn trajectory(count: usize, dt: f64, sigma: f64, seed: u64) -> PositionTrajectory {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0, sigma.max(f64::MIN_POSITIVE)).unwrap();
    let mut csv = String::from("t,x\n");
    for i in 0..count {
        let t = i as f64 * dt;
        let e = if sigma > 0.0 {
            noise.sample(&mut rng)
        } else {
            0.0
        };
        csv.push_str(&format!("{t},{}\n", exact(t)[0] + e));
    }
    PositionTrajectory::from_csv_str(&csv).unwrap()
}

/// The oscillator with m fixed at 1 and k to learn from a guess of 3.
fn model() -> Restricted<TextModel> {
    let text = TextModel::from_toml_str(
        "coordinates = [\"x\"]\nlagrangian = \"0.5*m*x_dot^2 - 0.5*k*x^2\"\n\
         [parameters]\nm = 1.0\nk = 3.0\n",
    )
    .unwrap();
    Restricted::new(text, None, &[("m".into(), 1.0)]).unwrap()
}

#[test]
fn smoothing_recovers_the_exact_derivatives_of_clean_positions() {
    let traj = trajectory(400, 0.02, 0.0, 0);
    let (data, fit) = differentiate(&traj, None).unwrap();
    // clean data: cross-validation prefers the narrowest window
    assert_eq!(fit.half_window, 3);
    let mut worst = [[0.0_f64; 3]; 2];
    for i in 0..traj.len() {
        let exact = exact(traj.t[i]);
        let got = [data.q[i][0], data.q_dot[i][0], data.q_ddot[i][0]];
        let edge = usize::from(i < 3 || i + 3 >= traj.len());
        for k in 0..3 {
            worst[edge][k] = worst[edge][k].max((got[k] - exact[k]).abs());
        }
    }
    // a degree-4 fit over 7 samples 0.02 apart leaves a truncation error ∝ ω⁵ (3 dt)^(5 − k)
    // in the k-th derivative, up to a constant that is larger at the one-sided ends (measured:
    // 9e-11, 1.1e-6, 1.2e-6 inside; 2e-9, 1e-6, 1.4e-4 at the ends); a factor 4–10 of margin
    let limits = [[1e-9, 5e-6, 5e-6], [1e-8, 5e-6, 1e-3]];
    for (edge, (w, l)) in worst.iter().zip(limits).enumerate() {
        for k in 0..3 {
            assert!(w[k] < l[k], "derivative {k} (ends: {edge}): {w:?}");
        }
    }
    let k = learn(&model(), &data, &LearnOptions::default())
        .unwrap()
        .parameters["k"];
    assert!((k - 4.0).abs() < 1e-5, "k = {k}");
}

#[test]
fn shooting_recovers_k_from_clean_positions() {
    let traj = trajectory(400, 0.02, 0.0, 0);
    let result = learn_by_shooting(
        &model(),
        &traj,
        &LearnOptions::default(),
        &ShootingOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    let k = result.parameters["k"];
    // RK4 with 4 substeps of 0.005: global error ~ (ω h)⁴ ≈ 1e-8 relative
    assert!((k - 4.0).abs() < 1e-6, "k = {k}");
    let fit = result.trajectory.unwrap();
    // segments of 20, 80, 320 samples, then the whole trajectory in one shot
    assert_eq!((fit.method.as_str(), fit.segments), ("shooting", Some(1)));
    assert!(fit.position_rms < 1e-7, "{}", fit.position_rms);
}

#[test]
fn with_noisy_positions_shooting_beats_smoothing() {
    // σ = 1 % of the amplitude (≈ 1.04)
    let traj = trajectory(1000, 0.02, 0.01, 7);
    let (data, fit) = differentiate(&traj, None).unwrap();
    assert!(fit.half_window > 3, "noise widens the window: {fit:?}");
    let smoothing = learn(&model(), &data, &LearnOptions::default())
        .unwrap()
        .parameters["k"];
    let shooting = learn_by_shooting(
        &model(),
        &traj,
        &LearnOptions::default(),
        &ShootingOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    let k = shooting.parameters["k"];
    let sigma_k = shooting.uncertainty["k"].unwrap();
    // shooting is unbiased: within 4 of its own standard errors (measured: 4.000076 ± 0.00029,
    // the whole trajectory in one shot; smoothing: 3.9945 with h = 32)
    assert!((k - 4.0).abs() < 4.0 * sigma_k, "k = {k} ± {sigma_k}");
    assert!(sigma_k < 2e-3, "k = {k} ± {sigma_k}");
    assert!(
        (k - 4.0).abs() < (smoothing - 4.0).abs(),
        "shooting {k} vs smoothing {smoothing}"
    );
    // the profiled residual: the positions are fitted to about the noise level
    let rms = shooting.trajectory.unwrap().position_rms;
    assert!(rms > 0.007 && rms < 0.012, "{rms}");
}

#[test]
fn bad_trajectories_are_refused_with_the_reason() {
    let err = |csv: &str| {
        PositionTrajectory::from_csv_str(csv)
            .unwrap_err()
            .to_string()
    };
    assert!(err("x,y\n1,2\n").contains("missing column `t"));
    let mut rows = String::from("t,x\n");
    for i in 0..10 {
        rows.push_str(&format!("{},1\n", if i == 5 { 0 } else { i }));
    }
    assert!(err(&rows).contains("does not increase"), "{}", err(&rows));
    assert!(err("t,x\n0,1\n1,2\n").contains("too few data rows"));
    assert!(err("t,x\n0,1\n1\n").contains("expected 2 fields"));
    // a simulate file: velocities and energy are ignored
    let mut simulate = String::from("t,x,x_dot,energy\n");
    for i in 0..10 {
        simulate.push_str(&format!("{i},{},0,1\n", i * i));
    }
    let traj = PositionTrajectory::from_csv_str(&simulate).unwrap();
    assert_eq!(traj.coordinates, ["x"]);
}
