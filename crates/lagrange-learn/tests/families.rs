//! Model families, optimizers, landscapes, multi-start, generation and noise sweeps.
mod common;
use common::*;
use lagrange::expr::TextSystem;
use lagrange_learn::generate::{GenerateSpec, PhaseBox, generate};
use lagrange_learn::landscape::{GridAxis, landscape};
use lagrange_learn::model::{Activation, Network, Polynomial, PolynomialForm};
use lagrange_learn::multistart::{MultiStartOptions, multistart};
use lagrange_learn::noise::{SimexOptions, SweepOptions, noise_sweep};
use lagrange_learn::optim::{AdamOptions, LmOptions, Optimizer, Schedule};
use lagrange_learn::{AnyModel, LearnOptions, Model, Restricted, TextModel, learn};

fn fixed(list: &[(&str, f64)]) -> Vec<(String, f64)> {
    list.iter().map(|(n, v)| (n.to_string(), *v)).collect()
}

#[test]
fn separable_polynomial_recovers_the_oscillator() {
    let data = to_dataset("poly", &["x"], &oscillator(300, 2.5, 21), 0.0, 21);
    let poly = Polynomial::new(vec!["x".into()], PolynomialForm::Separable, 4, 4).unwrap();
    assert_eq!(
        poly.parameter_names(),
        ["a1_x", "a2_x", "a3_x", "a4_x", "b2_x", "b3_x", "b4_x"]
    );
    // fix the kinetic normalization: b2 = 1/2 (L → cL is a symmetry)
    let m = Restricted::new(poly, None, &fixed(&[("b2_x", 0.5)])).unwrap();
    let r = learn(&m, &data, &LearnOptions::default()).unwrap();
    // ½ẋ² + a2 x² ⇒ ẍ = 2 a2 x = −2.5 x
    assert!(
        rel(r.parameters["a2_x"], -1.25) < 1e-7,
        "{:?}",
        r.parameters
    );
    for p in ["a1_x", "a3_x", "a4_x", "b3_x", "b4_x"] {
        assert!(r.parameters[p].abs() < 1e-7, "{p} = {}", r.parameters[p]);
    }
    // without fixing b2 the overall scale is flagged
    let poly = Polynomial::new(vec!["x".into()], PolynomialForm::Separable, 2, 2).unwrap();
    let r = learn(&poly, &data, &LearnOptions::default()).unwrap();
    assert!(
        r.not_identifiable
            .iter()
            .any(|m| m.contains("a2_x") && m.contains("b2_x")),
        "{:?}",
        r.not_identifiable
    );
}

#[test]
fn product_polynomial_and_square_network_fit_exactly() {
    let data = to_dataset(
        "aniso-fam",
        &["x", "y"],
        &anisotropic(200, 1.5, 4.0, 22),
        0.0,
        22,
    );
    let poly =
        Polynomial::new(vec!["x".into(), "y".into()], PolynomialForm::Product, 2, 2).unwrap();
    let m = Restricted::new(poly, None, &fixed(&[("c0_2_x", 0.5), ("c0_2_y", 0.5)])).unwrap();
    let r = learn(&m, &data, &LearnOptions::default()).unwrap();
    assert!(rel(r.parameters["c2_0_x"], -0.75) < 1e-7 && rel(r.parameters["c2_0_y"], -2.0) < 1e-7);
    assert!(r.mean_loss < 1e-20);
    // a network with square activations represents quadratic Lagrangians exactly
    let osc = to_dataset("osc-net", &["x"], &oscillator(200, 2.5, 23), 0.0, 23);
    let net = Network::new(
        vec!["x".into()],
        2,
        Activation::Square,
        Activation::Identity,
        true,
        1,
    )
    .unwrap();
    let r = learn(&net, &osc, &LearnOptions::default()).unwrap();
    println!(
        "square network on the oscillator: mean loss {:.3e} after {} LM iterations",
        r.mean_loss, r.iterations
    );
    assert!(r.mean_loss < 1e-12);
    assert!(
        !r.not_identifiable.is_empty(),
        "the network has flat directions (c1, scale)"
    );
}

#[test]
fn adam_with_schedules_converges_on_the_oscillator() {
    let data = to_dataset("adam", &["x"], &oscillator(200, 2.5, 24), 0.0, 24);
    let m = Restricted::new(
        TextModel::from_toml_str(OSCILLATOR).unwrap(),
        None,
        &fixed(&[("m", 1.0)]),
    )
    .unwrap();
    for schedule in [
        Schedule::Constant,
        Schedule::Exponential { gamma: 0.999 },
        Schedule::Cosine { min_lr: 1e-4 },
    ] {
        let opt = Optimizer::Adam(AdamOptions {
            learning_rate: 0.05,
            schedule,
            iterations: 3000,
            ..AdamOptions::default()
        });
        let r = learn(
            &m,
            &data,
            &LearnOptions {
                optimizer: opt,
                ..LearnOptions::default()
            },
        )
        .unwrap();
        println!(
            "adam {schedule:?}: k = {:.8} after {} iterations ({})",
            r.parameters["k"], r.iterations, r.stop_reason
        );
        assert!(
            rel(r.parameters["k"], 2.5) < 1e-4,
            "{schedule:?}: {}",
            r.parameters["k"]
        );
        assert!(r.history.first().unwrap().loss > 100.0 * r.loss);
        assert_eq!(r.optimizer, "adam");
    }
    assert!(Schedule::parse("exponential:0.99").is_ok() && Schedule::parse("cosine").is_ok());
    assert!(Schedule::parse("linear").is_err());
}

#[test]
fn landscape_shows_the_valley_along_k_over_m() {
    let data = to_dataset("land", &["x"], &oscillator(200, 2.5, 25), 0.0, 25);
    let m = TextModel::from_toml_str(OSCILLATOR).unwrap();
    let (x, y) = (
        GridAxis::parse("m=0.5:2:31").unwrap(),
        GridAxis::parse("k=0.5:5:46").unwrap(),
    );
    let land = landscape(&m, &data, &m.initial_parameters(), &x, &y).unwrap();
    assert_eq!(land.loss.len(), 46);
    assert_eq!(land.loss[0].len(), 31);
    // every grid point with k/m = 2.5 exactly is a zero of the loss
    let (bm, bk, bl) = land.minimum().unwrap();
    assert!(rel(bk / bm, 2.5) < 1e-9 && bl < 1e-20, "{bm} {bk} {bl}");
    let csv = land.to_csv_string();
    assert!(csv.starts_with("m,k,loss\n") && csv.lines().count() == 1 + 31 * 46);
    assert!(
        GridAxis::parse("m=1:0:10").is_err()
            && GridAxis::parse("m=0:1:1").is_err()
            && GridAxis::parse("m").is_err()
    );
    assert!(
        landscape(
            &m,
            &data,
            &m.initial_parameters(),
            &GridAxis::parse("q=0:1:3").unwrap(),
            &y
        )
        .is_err()
    );
}

#[test]
fn multistart_clusters_minima() {
    let data = to_dataset("ms", &["theta"], &pendulum(150, 9.81, 2.0, 26), 0.0, 26);
    let net = Network::new(
        vec!["theta".into()],
        2,
        Activation::Tanh,
        Activation::Identity,
        true,
        2,
    )
    .unwrap();
    let opts = LearnOptions {
        optimizer: Optimizer::LevenbergMarquardt(LmOptions {
            iterations: 40,
            ..LmOptions::default()
        }),
        ..LearnOptions::default()
    };
    let ms = MultiStartOptions {
        starts: 6,
        seed: 3,
        ..MultiStartOptions::default()
    };
    let r = multistart(&net, &data, &opts, &ms).unwrap();
    let minima = r.minima.as_ref().unwrap();
    println!("network on pendulum, 6 starts:");
    for m in minima {
        println!("  loss {:.4e} ({} starts: {:?})", m.loss, m.count, m.starts);
    }
    assert!(!minima.is_empty());
    assert_eq!(
        minima.iter().map(|m| m.count).sum::<usize>() + r.failed_starts.unwrap(),
        6
    );
    assert!(minima.windows(2).all(|w| w[0].loss <= w[1].loss));
    assert!((r.loss - minima[0].loss).abs() <= 1e-6 * minima[0].loss.max(1e-300));
    // reproducible
    let again = multistart(&net, &data, &opts, &ms).unwrap();
    assert_eq!(again.minima, r.minima);
}

#[test]
fn generation_is_seeded_and_exact() {
    let sys = TextSystem::from_toml_str(OSCILLATOR).unwrap();
    let mut sys = sys;
    use lagrange::systems::System;
    sys.set_parameter("k", 2.5).unwrap();
    let spec = GenerateSpec {
        samples: 50,
        phase_box: PhaseBox::parse("x=-2:2,x_dot=-1:1").unwrap(),
        ..GenerateSpec::default()
    };
    let a = generate(&sys, &spec).unwrap();
    assert_eq!(a.len(), 50);
    for i in 0..50 {
        assert!(a.q[i][0].abs() <= 2.0 && a.q_dot[i][0].abs() <= 1.0);
        assert!((a.q_ddot[i][0] + 2.5 * a.q[i][0]).abs() < 1e-12);
    }
    assert_eq!(
        generate(&sys, &spec).unwrap().to_csv_string(),
        a.to_csv_string()
    );
    let other = generate(
        &sys,
        &GenerateSpec {
            seed: 1,
            ..spec.clone()
        },
    )
    .unwrap();
    assert_ne!(other.q, a.q);
    // noise: same clean samples, σ = level × RMS
    let big = GenerateSpec {
        samples: 4000,
        ..spec.clone()
    };
    let clean = generate(&sys, &big).unwrap();
    let noisy = generate(
        &sys,
        &GenerateSpec {
            noise: 0.1,
            ..big.clone()
        },
    )
    .unwrap();
    let rms = clean.column_rms();
    for (col, (c, n)) in [
        (&clean.q, &noisy.q),
        (&clean.q_dot, &noisy.q_dot),
        (&clean.q_ddot, &noisy.q_ddot),
    ]
    .iter()
    .enumerate()
    {
        let var = c
            .iter()
            .zip(n.iter())
            .map(|(a, b)| (a[0] - b[0]).powi(2))
            .sum::<f64>()
            / 4000.0;
        assert!(rel(var.sqrt(), 0.1 * rms[col]) < 0.05, "column {col}");
    }
    // trajectories: q̈ consistent with the EOM, states evolve along the exact solution
    let traj = generate(
        &sys,
        &GenerateSpec {
            samples: 41,
            trajectories: Some((2, 4.0)),
            ..spec.clone()
        },
    )
    .unwrap();
    assert_eq!(traj.len(), 41);
    let w = 2.5_f64.sqrt();
    let (x0, v0) = (traj.q[0][0], traj.q_dot[0][0]);
    for r in 0..21 {
        let t = 4.0 * r as f64 / 20.0;
        let exact = x0 * (w * t).cos() + v0 / w * (w * t).sin();
        assert!((traj.q[r][0] - exact).abs() < 1e-7, "row {r}");
    }
    // box errors
    assert!(PhaseBox::parse("x=2:-2").is_err() && PhaseBox::parse("x").is_err());
    let e = generate(
        &sys,
        &GenerateSpec {
            phase_box: PhaseBox::parse("y=0:1").unwrap(),
            ..spec
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("`y`"), "{e}");
}

#[test]
fn noise_sweep_naive_bias_grows_and_simex_removes_it() {
    let mut sys = TextSystem::from_toml_str(OSCILLATOR).unwrap();
    use lagrange::systems::System;
    sys.set_parameter("k", 2.5).unwrap();
    let model = Restricted::new(
        TextModel::from_toml_str(OSCILLATOR).unwrap(),
        None,
        &fixed(&[("m", 1.0)]),
    )
    .unwrap();
    let make = |level: f64, seed: u64| {
        let spec = GenerateSpec {
            samples: 2000,
            phase_box: PhaseBox::parse("x=-2:2,x_dot=-2:2").unwrap(),
            noise: level,
            seed,
            ..GenerateSpec::default()
        };
        generate(&sys, &spec)
    };
    let sweep = SweepOptions {
        levels: vec![0.0, 0.1, 0.2],
        repeats: 3,
        seed: 7,
        simex: SimexOptions {
            repeats: 4,
            ..SimexOptions::default()
        },
    };
    let rows = noise_sweep(
        &model,
        &[2.5],
        make,
        &LearnOptions::default(),
        &sweep,
        &|| {},
    )
    .unwrap();
    for r in &rows {
        println!(
            "level {:.2}: naive {:.3} % ± {:.3} (bias {:+.3} %), SIMEX {:.3} % ± {:.3} (bias {:+.3} %)",
            r.level,
            100.0 * r.naive_mean,
            100.0 * r.naive_std,
            100.0 * r.naive_bias["k"],
            100.0 * r.aware_mean,
            100.0 * r.aware_std,
            100.0 * r.aware_bias["k"]
        );
    }
    assert!(rows[0].naive_mean < 1e-10 && rows[0].aware_mean < 1e-10);
    // attenuation ≈ 1/(1 + LEVEL²): −1 % at 10 %, −3.8 % at 20 %
    assert!(rows[1].naive_bias["k"] < -0.005 && rows[2].naive_bias["k"] < -0.025);
    assert!(rows[2].aware_bias["k"].abs() < 0.3 * rows[2].naive_bias["k"].abs());
    assert!(rows[1].aware_mean < rows[1].naive_mean && rows[2].aware_mean < rows[2].naive_mean);
    let csv = lagrange_learn::noise::sweep_csv(&rows);
    assert!(csv.starts_with("level,naive_mean,naive_std,aware_mean,aware_std"));
}

#[test]
fn any_model_families_parse() {
    let c = || vec!["x".to_string()];
    assert!(matches!(
        AnyModel::family("poly-separable:3:2", c(), 0).unwrap(),
        AnyModel::Polynomial(_)
    ));
    assert!(matches!(
        AnyModel::family("network:4:tanh", c(), 0).unwrap(),
        AnyModel::Network(_)
    ));
    assert_eq!(
        AnyModel::family("poly-product:1:2", c(), 0)
            .unwrap()
            .parameter_names(),
        ["c0_2_x", "c1_0_x", "c1_2_x"]
    );
    for bad in ["poly:x", "network:4:relu", "spline", "poly-separable:2:1"] {
        assert!(AnyModel::family(bad, c(), 0).is_err(), "{bad}");
    }
}
