//! End-to-end tests of the neural models through the binary: `train`, a model file as SYSTEM
//! (`eom`, `simulate`), `evaluate` and `extrapolate`. Small networks and a pendulum, so the whole
//! file runs in seconds; the reference values are the pendulum's own formulas
//! (q̈ = −(g/l) sin θ), not the code under test.
use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn lagrange() -> Command {
    Command::cargo_bin("lagrange").unwrap()
}

fn fails_with(cmd: &mut Command, needle: &str) {
    let out = cmd.output().unwrap();
    assert!(!out.status.success(), "expected failure");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("error: ") && err.trim_end().lines().count() == 1,
        "stderr: {err}"
    );
    assert!(err.contains(needle), "stderr: {err}");
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Pendulum data (m = l = 1, g = 9.81) in a box.
fn pendulum_data(dir: &Path) -> PathBuf {
    let data = dir.join("pendulum.csv");
    lagrange()
        .args(["generate", "pendulum", "--samples", "3000"])
        .args([
            "--box",
            "theta=-1.5:1.5,theta_dot=-2:2",
            "--seed",
            "3",
            "--out",
        ])
        .arg(&data)
        .assert()
        .success();
    data
}

fn train(data: &Path, model: &str, out: &Path, extra: &[&str]) {
    lagrange()
        .args(["train", "--data"])
        .arg(data)
        .args(["--model", model, "--angles", "theta", "--seed", "1", "-q"])
        .args(extra)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

#[test]
fn structured_model_learns_the_pendulum_and_is_a_system() {
    let dir = tempfile::tempdir().unwrap();
    let data = pendulum_data(dir.path());
    let model = dir.path().join("model.json");
    let plot = dir.path().join("loss.png");
    train(
        &data,
        "structured:16x2",
        &model,
        &[
            "--steps",
            "3000",
            "--lr",
            "3e-3",
            "--plot",
            plot.to_str().unwrap(),
        ],
    );
    assert!(std::fs::metadata(&plot).unwrap().len() > 1000);
    let m = json(&model);
    assert_eq!(m["format"], "lagrange-neural-model");
    assert_eq!(m["kind"], "structured");
    assert_eq!(m["coordinates"], serde_json::json!(["theta"]));
    assert_eq!(m["architecture"]["width"], 16);
    assert_eq!(m["architecture"]["depth"], 2);
    assert_eq!(m["input_scaling"]["angles"], serde_json::json!([true]));
    let t = &m["training"];
    assert!(t["steps"].as_u64().unwrap() > 0);
    assert!(t["seconds"].as_f64().unwrap() > 0.0);
    assert!(!t["history"].as_array().unwrap().is_empty());
    // q̈ spans ±9.81 sin(1.5) ≈ ±9.8 (variance ≈ 35): a learned model is far below that
    let validation = t["final_validation_loss"].as_f64().unwrap();
    assert!(validation < 0.05, "validation mse {validation}");

    // eom: q̈ = −g sin θ, with energy and momenta
    let out = lagrange()
        .arg("eom")
        .arg(&model)
        .args(["--state", "theta=0.5,theta_dot=0.3"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let qdd = v["q_ddot"][0].as_f64().unwrap();
    let want = -9.81 * 0.5_f64.sin();
    assert!((qdd - want).abs() < 0.05 * want.abs(), "{qdd} vs {want}");
    assert!(v["energy"].as_f64().unwrap().is_finite());
    assert!(v["momenta"][0].as_f64().unwrap().is_finite());

    // simulate: dopri5 and the variational integrator, energy column present
    for integrator in ["dopri5", "variational"] {
        let csv = dir.path().join(format!("{integrator}.csv"));
        lagrange()
            .arg("simulate")
            .arg(&model)
            .args([
                "--state",
                "theta=0.5,theta_dot=0",
                "--t-end",
                "2",
                "--dt",
                "0.01",
            ])
            .args(["--integrator", integrator, "--format", "csv", "--out"])
            .arg(&csv)
            .assert()
            .success();
        let text = std::fs::read_to_string(&csv).unwrap();
        assert_eq!(text.lines().next(), Some("t,theta,theta_dot,energy"));
        assert_eq!(text.lines().count(), 202);
    }

    // evaluate: against the true pendulum
    let eval = dir.path().join("eval.json");
    let eval_png = dir.path().join("eval.png");
    lagrange()
        .args(["evaluate", "--model"])
        .arg(&model)
        .args([
            "--truth",
            "pendulum",
            "--initial-conditions",
            "4",
            "--t-end",
            "5",
        ])
        .args(["--box", "theta=-1:1,theta_dot=-1:1", "--seed", "2", "--out"])
        .arg(&eval)
        .arg("--plot")
        .arg(&eval_png)
        .assert()
        .success();
    let e = json(&eval);
    assert_eq!(e["per_initial_condition"].as_array().unwrap().len(), 4);
    let mean = e["energy_error_mean"].as_f64().unwrap();
    assert!(e["energy_error_median"].as_f64().unwrap().is_finite());
    assert!(mean < 0.05, "energy error {mean}");
    assert!(std::fs::metadata(&eval_png).unwrap().len() > 1000);

    // extrapolate: a 11 × 11 map, header as documented
    let map = dir.path().join("map.csv");
    let map_png = dir.path().join("map.png");
    lagrange()
        .args(["extrapolate", "--model"])
        .arg(&model)
        .args([
            "--truth",
            "pendulum",
            "--slice",
            "theta=-3:3,theta_dot=-6:6",
            "--grid",
            "11",
        ])
        .arg("--out")
        .arg(&map)
        .arg("--plot")
        .arg(&map_png)
        .assert()
        .success();
    let text = std::fs::read_to_string(&map).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("theta,theta_dot,relative_error,theta_ddot_model,theta_ddot_true")
    );
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 121);
    for r in &rows {
        // the truth column is the pendulum's formula
        assert!((r[4] + 9.81 * r[0].sin()).abs() < 1e-9);
    }
}

#[test]
fn baseline_has_no_energy_and_no_variational() {
    let dir = tempfile::tempdir().unwrap();
    let data = pendulum_data(dir.path());
    let model = dir.path().join("baseline.json");
    train(&data, "baseline:16x2", &model, &["--steps", "300"]);
    assert_eq!(json(&model)["kind"], "baseline");
    let out = lagrange()
        .arg("eom")
        .arg(&model)
        .args(["--state", "theta=0.5,theta_dot=0.3"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["q_ddot"][0].as_f64().unwrap().is_finite());
    assert!(v.get("energy").is_none() && v.get("momenta").is_none());
    let csv = dir.path().join("traj.csv");
    lagrange()
        .arg("simulate")
        .arg(&model)
        .args([
            "--state",
            "theta=0.5,theta_dot=0",
            "--t-end",
            "1",
            "--dt",
            "0.1",
        ])
        .args(["--format", "csv", "--out"])
        .arg(&csv)
        .assert()
        .success();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().next(), Some("t,theta,theta_dot"));
    fails_with(
        lagrange()
            .arg("simulate")
            .arg(&model)
            .args([
                "--t-end",
                "1",
                "--dt",
                "0.1",
                "--integrator",
                "variational",
                "--out",
            ])
            .arg(dir.path().join("v.csv")),
        "needs a Lagrangian",
    );
}

#[test]
fn lnn_trains_and_reports_energy() {
    let dir = tempfile::tempdir().unwrap();
    let data = pendulum_data(dir.path());
    let model = dir.path().join("lnn.json");
    train(
        &data,
        "lnn:16x2",
        &model,
        &[
            "--steps",
            "400",
            "--precision",
            "f64",
            "--mass-penalty",
            "1:0.01",
        ],
    );
    let m = json(&model);
    assert_eq!(m["kind"], "lnn");
    assert_eq!(m["architecture"]["penalty"]["weight"], 1.0);
    let out = lagrange()
        .arg("eom")
        .arg(&model)
        .args(["--state", "theta=0.2,theta_dot=0.1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["energy"].as_f64().unwrap().is_finite());
}

#[test]
fn bad_input_is_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = pendulum_data(dir.path());
    let out = dir.path().join("m.json");
    let train_with = |args: &[&str]| {
        let mut c = lagrange();
        c.args(["train", "--data"])
            .arg(&data)
            .args(args)
            .arg("--out")
            .arg(&out);
        c
    };
    fails_with(
        &mut train_with(&["--model", "transformer"]),
        "unknown --model",
    );
    fails_with(&mut train_with(&["--model", "lnn:12"]), "WIDTHxDEPTH");
    fails_with(&mut train_with(&["--model", "lnn:0x2"]), "WIDTHxDEPTH");
    fails_with(
        &mut train_with(&["--model", "structured", "--mass-penalty", "1"]),
        "--mass-penalty applies to --model lnn only",
    );
    fails_with(
        &mut train_with(&["--model", "lnn", "--angles", "phi"]),
        "--angles",
    );
    fails_with(&mut train_with(&["--model", "lnn", "--lr", "-1"]), "--lr");
    fails_with(
        &mut train_with(&["--model", "lnn", "--schedule", "warm"]),
        "--schedule",
    );
    fails_with(
        &mut train_with(&["--model", "lnn", "--validation", "0.95"]),
        "--validation",
    );
    assert!(!out.exists(), "no output after a failed run");

    // a model file with the wrong number of weights
    let good = dir.path().join("good.json");
    train(&data, "structured:4x1", &good, &["--steps", "5"]);
    let mut v = json(&good);
    v["weights"].as_array_mut().unwrap().pop();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, v.to_string()).unwrap();
    fails_with(
        lagrange()
            .arg("eom")
            .arg(&bad)
            .args(["--state", "theta=0.1"]),
        "weights given",
    );
    std::fs::write(&bad, "{not json").unwrap();
    fails_with(
        lagrange()
            .arg("simulate")
            .arg(&bad)
            .args(["--t-end", "1", "--dt", "0.1", "--out"])
            .arg(dir.path().join("s.csv")),
        "not a model file",
    );
    fails_with(
        lagrange()
            .args(["evaluate", "--model"])
            .arg(&good)
            .args(["--truth", "double-pendulum", "--out"])
            .arg(dir.path().join("e.json")),
        "coordinates",
    );
    fails_with(
        lagrange()
            .args(["extrapolate", "--model"])
            .arg(&good)
            .args(["--truth", "pendulum", "--slice", "theta=-1:1", "--out"])
            .arg(dir.path().join("x.csv")),
        "exactly two",
    );
    fails_with(
        lagrange()
            .arg("noise-sweep")
            .arg(&good)
            .args(["--fit", "g", "--levels", "0", "--out"])
            .arg(dir.path().join("ns.csv")),
        "is a trained model",
    );
    fails_with(
        lagrange()
            .args(["learn", "--data"])
            .arg(&data)
            .arg("--model")
            .arg(&good)
            .arg("--out")
            .arg(dir.path().join("l.json")),
        "trained neural model",
    );
    fails_with(
        lagrange()
            .args(["simulate"])
            .arg(&good)
            .args(["--t-end", "1", "--dt", "0.1", "--eom", "compiled", "--out"])
            .arg(dir.path().join("c.csv")),
        "--eom compiled",
    );
}
