//! End-to-end tests of `generate`, `learn`, `landscape` and `noise-sweep`.
use assert_cmd::Command;
use std::path::Path;

const OSC: &str = "coordinates = [\"x\"]\nlagrangian = \"0.5*m*x_dot^2 - 0.5*k*x^2\"\n[parameters]\nm = 1.0\nk = 1.0\n";

fn lagrange() -> Command {
    Command::cargo_bin("lagrange").unwrap()
}

/// Oscillator data written from the closed-form solution x = A cos(ωt + φ), ω² = 2.5.
fn write_oscillator(path: &Path, samples: usize) {
    let mut s = String::from("x,x_dot,x_ddot\n");
    let w = 2.5_f64.sqrt();
    for i in 0..samples {
        let (a, phi, t) = (0.5 + (i % 7) as f64 * 0.2, i as f64 * 0.7, i as f64 * 0.013);
        let x = a * (w * t + phi).cos();
        s.push_str(&format!(
            "{x:?},{:?},{:?}\n",
            -a * w * (w * t + phi).sin(),
            -2.5 * x
        ));
    }
    std::fs::write(path, s).unwrap();
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

#[test]
fn generate_is_reproducible_and_learn_recovers_k() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("osc.toml");
    std::fs::write(&model, OSC).unwrap();
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    for out in [&a, &b] {
        lagrange()
            .args([
                "generate",
                "pendulum",
                "--samples",
                "200",
                "--box",
                "theta=-1:1,theta_dot=-2:2",
            ])
            .args(["--noise", "0.05", "--seed", "9", "--out"])
            .arg(out)
            .assert()
            .success();
    }
    let text = std::fs::read_to_string(&a).unwrap();
    assert_eq!(text, std::fs::read_to_string(&b).unwrap());
    assert!(text.starts_with("theta,theta_dot,theta_ddot\n"));
    assert_eq!(text.lines().count(), 201);
    // trajectories
    let t = dir.path().join("t.csv");
    lagrange()
        .args([
            "generate",
            "pendulum",
            "--samples",
            "50",
            "--trajectories",
            "5",
            "--t-end",
            "3",
            "--out",
        ])
        .arg(&t)
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&t).unwrap().lines().count(), 51);

    let data = dir.path().join("osc.csv");
    write_oscillator(&data, 300);
    let out = dir.path().join("r.json");
    let plot = dir.path().join("loss.png");
    lagrange()
        .args(["learn", "--data"])
        .arg(&data)
        .arg("--model")
        .arg(&model)
        .args(["--fix", "m=1", "--optimizer", "lm", "--out"])
        .arg(&out)
        .arg("--plot")
        .arg(&plot)
        .assert()
        .success();
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let k = r["parameters"]["k"].as_f64().unwrap();
    assert!((k - 2.5).abs() < 1e-8, "k = {k}");
    for key in [
        "loss",
        "uncertainty",
        "history",
        "not_identifiable",
        "mean_loss",
        "fixed",
        "iterations",
    ] {
        assert!(r.get(key).is_some(), "missing {key}");
    }
    assert_eq!(r["fixed"]["m"].as_f64(), Some(1.0));
    assert!(std::fs::metadata(&plot).unwrap().len() > 1000);
    // both free: the flat direction is named
    lagrange()
        .args(["learn", "--data"])
        .arg(&data)
        .arg("--model")
        .arg(&model)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let msg = r["not_identifiable"][0].as_str().unwrap();
    assert!(msg.contains("m and k") && msg.contains("k/m"), "{msg}");
    // adam, multi-start
    lagrange()
        .args(["learn", "--data"])
        .arg(&data)
        .arg("--model")
        .arg(&model)
        .args([
            "--fit",
            "k",
            "--fix",
            "m=1",
            "--optimizer",
            "adam",
            "--lr",
            "0.05",
            "--schedule",
            "cosine",
            "--iterations",
            "3000",
        ])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert!((r["parameters"]["k"].as_f64().unwrap() - 2.5).abs() < 1e-4);
    lagrange()
        .args(["learn", "--data"])
        .arg(&data)
        .args([
            "--model",
            "network:2:tanh",
            "--optimizer",
            "lm",
            "--iterations",
            "20",
            "--starts",
            "3",
            "--seed",
            "1",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert!(!r["minima"].as_array().unwrap().is_empty());
}

#[test]
fn landscape_and_noise_sweep_write_tables_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("osc.toml");
    std::fs::write(&model, OSC).unwrap();
    let data = dir.path().join("osc.csv");
    write_oscillator(&data, 100);
    let (csv, png) = (dir.path().join("land.csv"), dir.path().join("land.png"));
    lagrange()
        .args(["landscape", "--data"])
        .arg(&data)
        .arg("--model")
        .arg(&model)
        .args([
            "--grid",
            "m=0.1:3:21",
            "--grid",
            "k=0.1:5:31",
            "--path",
            "--out",
        ])
        .arg(&csv)
        .arg("--plot")
        .arg(&png)
        .assert()
        .success();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("m,k,loss\n"));
    assert_eq!(text.lines().count(), 1 + 21 * 31);
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);
    let (table, plot) = (dir.path().join("sweep.csv"), dir.path().join("sweep.png"));
    lagrange()
        .args(["noise-sweep"])
        .arg(&model)
        .args([
            "--param",
            "k=2.5",
            "--fix",
            "m=1",
            "--levels",
            "0,0.1",
            "--repeats",
            "2",
            "--samples",
            "300",
        ])
        .args(["--simex-repeats", "2", "--out"])
        .arg(&table)
        .arg("--plot")
        .arg(&plot)
        .assert()
        .success();
    let text = std::fs::read_to_string(&table).unwrap();
    assert!(text.starts_with("level,naive_mean,naive_std,aware_mean,aware_std"));
    assert_eq!(text.lines().count(), 3);
    assert!(std::fs::metadata(&plot).unwrap().len() > 1000);
}

#[test]
fn bad_input_fails_with_one_line_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("osc.toml");
    std::fs::write(&model, OSC).unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "x,x_dot,x_ddot\n1,2,3\n1,oops,3\n").unwrap();
    let good = dir.path().join("good.csv");
    write_oscillator(&good, 50);
    let out = dir.path().join("r.json");
    let learn = |data: &Path| {
        let mut c = lagrange();
        c.args(["learn", "--data"])
            .arg(data)
            .arg("--model")
            .arg(&model)
            .arg("--out")
            .arg(&out);
        c
    };
    fails_with(&mut learn(&bad), "line 3, column `x_dot`");
    fails_with(&mut learn(&dir.path().join("missing.csv")), "missing.csv");
    fails_with(learn(&good).args(["--fix", "q=1"]), "unknown parameter `q`");
    fails_with(
        learn(&good).args(["--fit", "m", "--fix", "m=1"]),
        "both fitted and fixed",
    );
    fails_with(
        learn(&good).args(["--optimizer", "sgd"]),
        "unknown --optimizer",
    );
    fails_with(learn(&good).args(["--plot", "x.gif"]), ".gif");
    let mut c = lagrange();
    c.args(["learn", "--data"])
        .arg(&good)
        .args(["--model", "spline", "--out"])
        .arg(&out);
    fails_with(&mut c, "unknown model family");
    assert!(!out.exists());
    let gen_out = dir.path().join("g.csv");
    let mut c = lagrange();
    c.args([
        "generate",
        "pendulum",
        "--samples",
        "10",
        "--box",
        "y=0:1",
        "--out",
    ])
    .arg(&gen_out);
    fails_with(&mut c, "`y`");
    let mut c = lagrange();
    c.args([
        "generate",
        "pendulum",
        "--samples",
        "10",
        "--trajectories",
        "2",
        "--out",
    ])
    .arg(&gen_out);
    fails_with(&mut c, "--t-end");
    let mut c = lagrange();
    c.args(["generate", "nosuchsystem", "--samples", "10", "--out"])
        .arg(&gen_out);
    fails_with(&mut c, "unknown system");
    assert!(!gen_out.exists());
    let land = dir.path().join("land.csv");
    let mut c = lagrange();
    c.args(["landscape", "--data"])
        .arg(&good)
        .arg("--model")
        .arg(&model)
        .args(["--grid", "m=0:1:5", "--out"])
        .arg(&land);
    fails_with(&mut c, "exactly two --grid");
    let mut c = lagrange();
    c.args(["landscape", "--data"])
        .arg(&good)
        .arg("--model")
        .arg(&model)
        .args(["--grid", "m=0.5:1:5", "--grid", "z=0:1:5", "--out"])
        .arg(&land);
    fails_with(&mut c, "z");
    assert!(!land.exists());
    // no stray temporary files
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
}
