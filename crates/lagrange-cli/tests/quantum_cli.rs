//! `lagrange quantum` through the binary: the JSON contract, the plot, the fit from measured
//! positions, and every rejected input as one `error:` line with no output file. References are
//! analytic: the oscillator's `E₀ = ħω/2` (sum over axes for the built-in 2-D one) and its ground
//! density, a Gaussian of variance `ħ/(2mω)`.
use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

fn lagrange() -> Command {
    Command::cargo_bin("lagrange").unwrap()
}

const OSCILLATOR: &str = "coordinates = [\"x\"]\nlagrangian = \"0.5*m*x_dot^2 - 0.5*m*w^2*x^2\"\n\n[parameters]\nm = 1\nw = 1.5\n";

fn oscillator_file(dir: &Path) -> String {
    let path = dir.join("oscillator.toml");
    std::fs::write(&path, OSCILLATOR).unwrap();
    path.to_str().unwrap().to_string()
}

fn run_ok(args: &[&str]) -> Value {
    let out = lagrange().arg("quantum").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let i = args.iter().position(|a| *a == "--out").unwrap();
    serde_json::from_str(&std::fs::read_to_string(args[i + 1]).unwrap()).unwrap()
}

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {v}"))
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Every contract key, the density normalized, one entry per coordinate.
fn check_contract(v: &Value, n: usize, beta: f64, slices: u64) {
    for key in [
        "ground_state_energy",
        "ground_state_energy_error",
        "q2_mean",
        "beta",
        "slices",
        "acceptance",
        "density",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(num(v, "beta"), beta);
    assert_eq!(v["slices"].as_u64(), Some(slices));
    assert_eq!(numbers(&v["q2_mean"]).len(), n);
    let acceptance = num(v, "acceptance");
    assert!(acceptance > 0.2 && acceptance < 0.9, "{acceptance}");
    assert!(num(v, "ground_state_energy_error") > 0.0);
    let density = v["density"].as_array().unwrap();
    assert_eq!(density.len(), n);
    for d in density {
        let (q, p) = (numbers(&d["q"]), numbers(&d["p"]));
        assert_eq!(q.len(), p.len());
        // equal bins holding every sample: Σ p·width = 1 to rounding
        let width = q[1] - q[0];
        let total: f64 = p.iter().sum::<f64>() * width;
        assert!((total - 1.0).abs() < 1e-9, "{total}");
    }
}

#[test]
fn text_oscillator_gives_every_key_the_energy_and_a_png() {
    let dir = tempfile::tempdir().unwrap();
    let system = oscillator_file(dir.path());
    let out = dir.path().join("result.json");
    let plot = dir.path().join("density.png");
    let v = run_ok(&[
        &system,
        "--beta",
        "8",
        "--slices",
        "48",
        "--sweeps",
        "30000",
        "--out",
        out.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
    ]);
    check_contract(&v, 1, 8.0, 48);
    let w = 1.5;
    let e = num(&v, "ground_state_energy");
    let err = num(&v, "ground_state_energy_error");
    // Δτ = 1/6: the primitive action's bias is about −ω³Δτ²/12·(ħω/2)/ω ≈ −0.008 here; 4σ for
    // the statistics plus 0.02 for the bias.
    assert!((e - 0.5 * w).abs() < 4.0 * err + 0.02, "E = {e} ± {err}");
    // ⟨x²⟩ = ħ/(2mω) (thermal excess e^{−12}, negligible)
    let q2 = numbers(&v["q2_mean"])[0];
    assert!((q2 - 0.5 / w).abs() < 0.03, "⟨x²⟩ = {q2}");
    // exact diagonalization: ħω/2 to the grid's O(h²) accuracy
    assert!((num(&v, "exact_ground_state_energy") - 0.5 * w).abs() < 1e-6);
    assert!(v["exact_density"]["p_thermal"].is_array());
    let png = std::fs::read(&plot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
}

#[test]
fn builtin_two_dimensional_oscillator_with_hmc() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("result.json");
    let v = run_ok(&[
        "harmonic-oscillator",
        "--beta",
        "8",
        "--slices",
        "64",
        "--sweeps",
        "4000",
        "--method",
        "hmc",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    check_contract(&v, 2, 8.0, 64);
    assert_eq!(v["method"], "hmc");
    assert!(
        v.get("exact_ground_state_energy").is_none(),
        "ED is 1-D only"
    );
    // ω = 1 and 2 (k = 1, 4; m = 1): E₀ = 1.5; Δτ = 1/8 biases by ≈ −0.01; 4σ + 0.03
    let e = num(&v, "ground_state_energy");
    let err = num(&v, "ground_state_energy_error");
    assert!((e - 1.5).abs() < 4.0 * err + 0.03, "E = {e} ± {err}");
}

/// Fails with one `error:` line containing `needle`, and writes neither output.
fn fails_with(dir: &Path, args: &[&str], needle: &str) {
    let out = dir.join("bad.json");
    let plot = dir.join("bad.png");
    let output = lagrange()
        .arg("quantum")
        .args(args)
        .args([
            "--out",
            out.to_str().unwrap(),
            "--plot",
            plot.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!output.status.success(), "expected failure for {args:?}");
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(
        err.starts_with("error: ") && err.trim_end().lines().count() == 1,
        "stderr: {err}"
    );
    assert!(err.contains(needle), "{args:?}: {err}");
    assert!(!out.exists() && !plot.exists(), "no output on failure");
}

#[test]
fn bad_input_is_one_error_line_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let system = oscillator_file(dir.path());
    let d = dir.path();
    let s = system.as_str();
    fails_with(
        d,
        &[s, "--beta", "0", "--slices", "8"],
        "--beta must be > 0",
    );
    fails_with(
        d,
        &[s, "--beta", "-1", "--slices", "8"],
        "--beta must be > 0",
    );
    fails_with(d, &[s, "--beta", "inf", "--slices", "8"], "--beta");
    fails_with(
        d,
        &[s, "--beta", "1", "--slices", "1"],
        "--slices must be at least 2",
    );
    fails_with(
        d,
        &[s, "--beta", "1", "--slices", "8", "--sweeps", "0"],
        "--sweeps",
    );
    fails_with(
        d,
        &[s, "--beta", "1", "--slices", "8", "--hbar", "0"],
        "--hbar must be > 0",
    );
    fails_with(
        d,
        &[s, "--beta", "1", "--slices", "8", "--method", "gibbs"],
        "--method",
    );
    fails_with(d, &[s, "--slices", "8"], "--beta");
    fails_with(
        d,
        &["cyclotron", "--beta", "1", "--slices", "8"],
        "L has terms linear in q̇",
    );
    fails_with(
        d,
        &["spring-pendulum", "--beta", "1", "--slices", "8"],
        "depends on the state",
    );
    fails_with(
        d,
        &["damped-oscillator", "--beta", "1", "--slices", "8"],
        "dissipation",
    );
    let field = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/sine-gordon.toml"
    );
    fails_with(
        d,
        &[field, "--beta", "1", "--slices", "8"],
        "at most 64 coordinates; this system has 2048",
    );
}

#[test]
fn fit_recovers_the_frequency_from_ground_state_samples() {
    use lagrange::quantum::rng::Rng;
    let dir = tempfile::tempdir().unwrap();
    let system = oscillator_file(dir.path());
    // |ψ₀|² of ω = 1.2 (m = ħ = 1): Gaussian of variance 1/(2ω)
    let (w, n): (f64, usize) = (1.2, 4000);
    let mut rng = Rng::new(11);
    let mut csv = String::from("x\n");
    for _ in 0..n {
        csv += &format!("{}\n", (0.5 / w).sqrt() * rng.normal());
    }
    let data = dir.path().join("samples.csv");
    std::fs::write(&data, csv).unwrap();
    let out = dir.path().join("fit.json");
    let v = run_ok(&[
        &system,
        "--fit",
        "w",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let (value, se) = (num(&v, "value"), num(&v, "standard_error"));
    assert_eq!(v["parameter"], "w");
    assert!((value - w).abs() < 3.0 * se, "ω̂ = {value} ± {se}");
    // the Fisher error of this model is ω √(2/N)
    let expected = value * (2.0 / n as f64).sqrt();
    assert!(
        (se - expected).abs() < 0.03 * expected,
        "{se} vs {expected}"
    );
    // unknown parameter, missing data
    let bad = dir.path().join("bad.json");
    for (args, needle) in [
        (
            vec!["--fit", "k", "--data", data.to_str().unwrap()],
            "unknown parameter 'k'",
        ),
        (vec!["--fit", "w"], "needs --data"),
    ] {
        let output = lagrange()
            .arg("quantum")
            .arg(&system)
            .args(&args)
            .args(["--out", bad.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(!output.status.success());
        let err = String::from_utf8(output.stderr).unwrap();
        assert!(err.starts_with("error: ") && err.contains(needle), "{err}");
        assert!(!bad.exists());
    }
}
