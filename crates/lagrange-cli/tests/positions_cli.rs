//! `lagrange learn --trajectory` through the binary: positions written by `lagrange simulate`
//! (an oscillator, m = 1, k = 4, whose motion `simulate` integrates to ~1e-10) are learned back
//! by smoothing differentiation and by shooting; the reference is the k the data were made
//! with. Plus the errors of the options that belong to one method or the other.
use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn lagrange() -> Command {
    Command::cargo_bin("lagrange").unwrap()
}

fn example(name: &str) -> String {
    format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `simulate` output (columns t,x,x_dot,energy) every 0.02 for 20 time units.
fn positions(dir: &Path) -> PathBuf {
    let out = dir.join("traj.csv");
    lagrange()
        .args(["simulate", &example("harmonic-oscillator.toml")])
        .args(["--t-end", "20", "--dt", "0.02", "--out"])
        .arg(&out)
        .assert()
        .success();
    out
}

fn learn(trajectory: &Path, extra: &[&str]) -> Value {
    let out = lagrange()
        .arg("learn")
        .arg("--trajectory")
        .arg(trajectory)
        .args(["--model", &example("harmonic-oscillator.toml")])
        .args(["--fix", "m=1", "--init", "k=2", "--out", "-"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn fails_with(args: &[&str], needle: &str) {
    let out = lagrange().args(args).output().unwrap();
    assert!(!out.status.success(), "expected failure for {args:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("error: ") && err.trim_end().lines().count() == 1,
        "stderr: {err}"
    );
    assert!(err.contains(needle), "stderr: {err}");
}

#[test]
fn both_methods_learn_k_back_from_simulated_positions() {
    let dir = tempfile::tempdir().unwrap();
    let traj = positions(dir.path());
    let smoothing = learn(&traj, &[]);
    let k = smoothing["parameters"]["k"].as_f64().unwrap();
    // clean positions: a degree-4 fit over 7 samples, q̈ to ~1e-6 relative
    assert!((k - 4.0).abs() < 1e-5, "smoothing k = {k}");
    assert_eq!(smoothing["trajectory"]["method"], "smoothing");
    assert_eq!(smoothing["trajectory"]["samples"], 1001);
    assert_eq!(smoothing["trajectory"]["window_from_data"], true);

    let shooting = learn(&traj, &["--from-positions", "shooting"]);
    let k = shooting["parameters"]["k"].as_f64().unwrap();
    // RK4 with 4 substeps of 0.005 against simulate's dopri5: both ~1e-10
    assert!((k - 4.0).abs() < 1e-7, "shooting k = {k}");
    assert_eq!(shooting["trajectory"]["method"], "shooting");
    assert!(shooting["trajectory"]["position_rms"].as_f64().unwrap() < 1e-8);

    let fixed_window = learn(&traj, &["--window", "10"]);
    assert_eq!(fixed_window["trajectory"]["half_window"], 10);
    assert_eq!(fixed_window["trajectory"]["window_from_data"], false);
}

#[test]
fn trajectory_options_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let traj = positions(dir.path());
    let traj = traj.to_str().unwrap();
    let model = example("harmonic-oscillator.toml");
    let base = ["learn", "--model", model.as_str(), "--out", "-"];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let run = |extra: &[&str], needle: &str| {
        let args = with(extra);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        fails_with(&refs, needle);
    };
    run(&[], "no data");
    run(
        &["--trajectory", traj, "--data", traj],
        "either --data or --trajectory",
    );
    run(&["--trajectory", traj, "--segment", "5"], "shooting only");
    run(
        &["--trajectory", traj, "--from-positions", "magic"],
        "--from-positions",
    );
    run(&["--trajectory", traj, "--window", "100000"], "--window");
    run(
        &[
            "--trajectory",
            traj,
            "--from-positions",
            "shooting",
            "--starts",
            "3",
        ],
        "--starts",
    );
    run(&["--data", traj, "--window", "4"], "--trajectory only");

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "t,x\n0,1\n1,2\n0.5,3\n2,1\n3,1\n4,1\n5,1\n6,1\n").unwrap();
    run(
        &["--trajectory", bad.to_str().unwrap()],
        "does not increase",
    );
    let no_t = dir.path().join("no_t.csv");
    std::fs::write(&no_t, "x\n1\n2\n").unwrap();
    run(
        &["--trajectory", no_t.to_str().unwrap()],
        "missing column `t",
    );
}
