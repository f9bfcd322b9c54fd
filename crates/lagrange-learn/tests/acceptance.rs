//! Acceptance: recover known parameters from data written from closed-form solutions.
mod common;
use common::*;
use lagrange_learn::noise::{NoiseModel, SimexOptions, learn_bias_corrected};
use lagrange_learn::{
    Dataset, LearnError, LearnOptions, LearnResult, Restricted, TextModel, learn,
};

fn model(src: &str, fixed: &[(&str, f64)]) -> Restricted<TextModel> {
    let fixed: Vec<(String, f64)> = fixed.iter().map(|(n, v)| (n.to_string(), *v)).collect();
    Restricted::new(TextModel::from_toml_str(src).unwrap(), None, &fixed).unwrap()
}

fn naive_and_aware(
    m: &Restricted<TextModel>,
    data: &Dataset,
    level: f64,
) -> (LearnResult, LearnResult) {
    let naive = learn(m, data, &LearnOptions::default()).unwrap();
    let simex = SimexOptions {
        repeats: 8,
        seed: 11,
        ..SimexOptions::default()
    };
    let aware = learn_bias_corrected(
        m,
        data,
        &LearnOptions::default(),
        &NoiseModel::Relative(level),
        &simex,
    )
    .unwrap();
    (naive, aware)
}

#[test]
fn oscillator_noise_free_is_exact_in_few_lm_iterations() {
    let data = to_dataset("osc0", &["x"], &oscillator(400, 2.5, 1), 0.0, 1);
    let r = learn(
        &model(OSCILLATOR, &[("m", 1.0)]),
        &data,
        &LearnOptions::default(),
    )
    .unwrap();
    let k = r.parameters["k"];
    println!(
        "oscillator, 0 % noise: k = {k:.15} (rel err {:.2e}), LM iterations {}",
        rel(k, 2.5),
        r.iterations
    );
    assert!(rel(k, 2.5) < 1e-8, "k = {k}");
    assert!(
        r.converged && r.iterations <= 8,
        "{} iterations ({})",
        r.iterations,
        r.stop_reason
    );
    assert!(r.not_identifiable.is_empty());
    assert_eq!(r.fixed["m"], 1.0);
    assert!(r.uncertainty["k"].unwrap() < 1e-8);
    assert_eq!(r.singular_samples, 0);
}

#[test]
fn oscillator_ten_percent_noise() {
    let data = to_dataset("osc10", &["x"], &oscillator(4000, 2.5, 2), 0.10, 2);
    let (naive, aware) = naive_and_aware(&model(OSCILLATOR, &[("m", 1.0)]), &data, 0.10);
    let (kn, ka) = (naive.parameters["k"], aware.parameters["k"]);
    println!(
        "oscillator, 10 % noise: naive k = {kn:.4} (rel err {:.3} %), bias-aware k = {ka:.4} (rel err {:.3} %), σ_k = {:.4}",
        100.0 * rel(kn, 2.5),
        100.0 * rel(ka, 2.5),
        naive.uncertainty["k"].unwrap()
    );
    assert!(rel(ka, 2.5) < 0.03 && rel(kn, 2.5) < 0.03);
    assert!(rel(ka, 2.5) < rel(kn, 2.5), "bias-aware should be closer");
    assert!(aware.bias_correction.is_some());
}

#[test]
fn pendulum_noise_free_and_noisy() {
    let fixed = [("m", 1.0), ("l", 1.0)];
    let m = model(PENDULUM, &fixed);
    let data = to_dataset("pend0", &["theta"], &pendulum(400, 9.81, 2.0, 3), 0.0, 3);
    let r = learn(&m, &data, &LearnOptions::default()).unwrap();
    let g = r.parameters["g"];
    println!(
        "pendulum, 0 % noise: g/l = {g:.15} (rel err {:.2e}), LM iterations {}",
        rel(g, 9.81),
        r.iterations
    );
    assert!(rel(g, 9.81) < 1e-8);
    let data = to_dataset(
        "pend10",
        &["theta"],
        &pendulum(10000, 9.81, 1.0, 4),
        0.10,
        4,
    );
    // small angles: the attenuation bias (≈ −0.7 %) is well above the statistical error
    let (naive, aware) = naive_and_aware(&m, &data, 0.10);
    let (gn, ga) = (naive.parameters["g"], aware.parameters["g"]);
    println!(
        "pendulum, 10 % noise: naive g/l = {gn:.4} (rel err {:.3} %), bias-aware g/l = {ga:.4} (rel err {:.3} %)",
        100.0 * rel(gn, 9.81),
        100.0 * rel(ga, 9.81)
    );
    assert!(rel(ga, 9.81) < 0.03 && rel(gn, 9.81) < 0.03);
    assert!(rel(ga, 9.81) < rel(gn, 9.81));
}

#[test]
fn anisotropic_oscillator_two_stiffnesses() {
    let m = model(ANISOTROPIC, &[("m", 1.0)]);
    let data = to_dataset(
        "aniso0",
        &["x", "y"],
        &anisotropic(400, 1.5, 4.0, 5),
        0.0,
        5,
    );
    let r = learn(&m, &data, &LearnOptions::default()).unwrap();
    let (kx, ky) = (r.parameters["kx"], r.parameters["ky"]);
    println!(
        "anisotropic, 0 % noise: kx = {kx:.15}, ky = {ky:.15} (rel errs {:.2e}, {:.2e}), LM iterations {}",
        rel(kx, 1.5),
        rel(ky, 4.0),
        r.iterations
    );
    assert!(rel(kx, 1.5) < 1e-8 && rel(ky, 4.0) < 1e-8);
    let data = to_dataset(
        "aniso10",
        &["x", "y"],
        &anisotropic(4000, 1.5, 4.0, 6),
        0.10,
        6,
    );
    let (naive, aware) = naive_and_aware(&m, &data, 0.10);
    let err = |r: &LearnResult| rel(r.parameters["kx"], 1.5).max(rel(r.parameters["ky"], 4.0));
    println!(
        "anisotropic, 10 % noise: naive kx = {:.4}, ky = {:.4} (max rel err {:.3} %); bias-aware kx = {:.4}, ky = {:.4} (max rel err {:.3} %)",
        naive.parameters["kx"],
        naive.parameters["ky"],
        100.0 * err(&naive),
        aware.parameters["kx"],
        aware.parameters["ky"],
        100.0 * err(&aware)
    );
    assert!(err(&aware) < 0.03 && err(&naive) < 0.03);
    assert!(err(&aware) < err(&naive));
}

#[test]
fn mass_and_stiffness_together_are_flagged() {
    let data = to_dataset("oscflat", &["x"], &oscillator(400, 2.5, 7), 0.0, 7);
    let mut m = model(OSCILLATOR, &[]);
    m.set_initial("k", 2.0).unwrap();
    let r = learn(&m, &data, &LearnOptions::default()).unwrap();
    println!("not_identifiable: {:?}", r.not_identifiable);
    assert_eq!(r.not_identifiable.len(), 1);
    let msg = &r.not_identifiable[0];
    assert!(
        msg.contains("m and k") && msg.contains("k/m") && msg.contains("fix m"),
        "{msg}"
    );
    let f = &r.flat_directions[0];
    assert_eq!(f.suggest_fix, "m");
    assert_eq!(f.combination.as_deref(), Some("k/m"));
    // the direction is (m, k)/|(m, k)| at the optimum
    let (mv, kv) = (r.parameters["m"], r.parameters["k"]);
    let norm = (mv * mv + kv * kv).sqrt();
    let comp = |name: &str| f.direction.iter().find(|(n, _)| n == name).unwrap().1;
    assert!((comp("m") - mv / norm).abs() < 1e-6 && (comp("k") - kv / norm).abs() < 1e-6);
    // the learnable combination is still exact, the separate values have no finite uncertainty
    assert!(rel(kv / mv, 2.5) < 1e-8);
    assert!(r.uncertainty["m"].is_none() && r.uncertainty["k"].is_none());
    let json = r.to_json();
    assert!(json.contains("\"not_identifiable\"") && json.contains("k/m"));
}

#[test]
fn bad_inputs_give_clear_errors() {
    let osc = model(OSCILLATOR, &[("m", 1.0)]);
    // data of another system
    let pend = to_dataset("pendbad", &["theta"], &pendulum(10, 9.81, 2.0, 8), 0.0, 8);
    let e = learn(&osc, &pend, &LearnOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("coordinates") && e.contains("theta") && e.contains('x'),
        "{e}"
    );
    // fewer rows than fitted parameters
    let aniso = model(ANISOTROPIC, &[]);
    let two = to_dataset("two", &["x", "y"], &anisotropic(2, 1.5, 4.0, 9), 0.0, 9);
    let e = learn(&aniso, &two, &LearnOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("too few data rows: 2") && e.contains("3 fitted"),
        "{e}"
    );
    // a degenerate model: no kinetic term, the mass matrix is singular everywhere
    let degenerate = TextModel::from_toml_str(
        "coordinates = [\"x\"]\nlagrangian = \"x*x_dot - 0.5*k*x^2\"\n[parameters]\nk = 1.0\n",
    )
    .unwrap();
    let data = to_dataset("degen", &["x"], &oscillator(20, 2.5, 10), 0.0, 10);
    let e = learn(&degenerate, &data, &LearnOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("singular at all 20 samples"), "{e}");
    // fit/fix mistakes
    let base = || TextModel::from_toml_str(OSCILLATOR).unwrap();
    let e = Restricted::new(base(), Some(&["q".to_string()]), &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unknown parameter `q`") && e.contains("m, k"),
        "{e}"
    );
    let e = Restricted::new(base(), Some(&["m".to_string()]), &[("m".into(), 1.0)]).unwrap_err();
    assert_eq!(e, LearnError::BothFittedAndFixed { name: "m".into() });
    assert!(e.to_string().contains("both fitted and fixed"), "{e}");
    let e = Restricted::new(base(), Some(&["k".into(), "k".into()]), &[]).unwrap_err();
    assert_eq!(e, LearnError::ListedTwice { name: "k".into() });
    let e = Restricted::new(base(), None, &[("m".into(), f64::NAN)]).unwrap_err();
    assert_eq!(e, LearnError::FixedNotFinite { name: "m".into() });
    let e = Restricted::new(base(), None, &[("m".into(), 1.0), ("k".into(), 1.0)]).unwrap_err();
    assert_eq!(e, LearnError::NothingToFit);
    assert!(e.to_string().contains("no parameter left"), "{e}");
    // malformed options name the option and the value given
    let e = lagrange_learn::optim::Schedule::parse("exponential:2").unwrap_err();
    assert!(
        matches!(&e, LearnError::InvalidOption { option: "schedule", value, .. } if value == "exponential:2"),
        "{e:?}"
    );
    let e = lagrange_learn::landscape::GridAxis::parse("m=3:1:10").unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid grid `m=3:1:10`: LOW and HIGH must be finite with LOW < HIGH"
    );
    assert!(matches!(
        TextModel::from_toml_str("coordinates = 1"),
        Err(LearnError::Model(_))
    ));
    // malformed CSVs, one line each
    for (csv, needle) in [
        ("x,x_dot\n1,2\n3,4\n", "missing column `x_ddot`"),
        (
            "x,x_dot,x_ddot,z_ddot\n1,2,3,4\n1,2,3,4\n",
            "unknown column `z_ddot`",
        ),
        (
            "x,x_dot,x_ddot\n1,2,3\n1,2,nan\n",
            "line 3, column `x_ddot`: non-finite",
        ),
        (
            "x,x_dot,x_ddot\n1,2,3\n1,two,3\n",
            "line 3, column `x_dot`: `two` is not a number",
        ),
        (
            "x,x_dot,x_ddot\n1,2,3\n1,2\n",
            "line 3: expected 3 fields, found 2",
        ),
        ("x,x_dot,x_ddot\n1,2,3\n", "too few data rows: 1"),
    ] {
        let e = Dataset::from_csv_str(csv).unwrap_err().to_string();
        assert!(e.contains(needle), "{e}");
        assert!(!e.contains('\n'));
    }
}

#[test]
fn singular_samples_are_reported_not_dropped_silently() {
    // L = x_dot^4/12 − k x²/2 has M = x_dot², singular at x_dot = 0
    let model = TextModel::from_toml_str(
        "coordinates = [\"x\"]\nlagrangian = \"x_dot^4/12 - 0.5*k*x^2\"\n[parameters]\nk = 1.0\n",
    )
    .unwrap();
    let csv = "x,x_dot,x_ddot\n1,0,-1\n0.5,1,-0.5\n0.2,0,0.3\n-1,2,0.25\n";
    let data = Dataset::from_csv_str(csv).unwrap();
    let r = learn(&model, &data, &LearnOptions::default()).unwrap();
    assert_eq!(r.singular_samples, 2);
    assert_eq!(r.singular_sample_indices, vec![0, 2]);
    assert_eq!(r.residuals, 2);
}
