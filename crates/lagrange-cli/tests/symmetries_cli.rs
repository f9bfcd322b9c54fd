//! `lagrange symmetries` through the binary: the JSON contract on built-in, text and trained
//! systems, and its errors. Expected symmetries are the hand-known ones (Noether): Kepler's
//! rotation, the cyclotron's translation along B and rotation about it, the total translations
//! and the rotation of free N-body, none for the fixed chain or the anisotropic oscillator.
use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

fn lagrange() -> Command {
    Command::cargo_bin("lagrange").unwrap()
}

fn symmetries(args: &[&str]) -> Value {
    let out = lagrange()
        .arg("symmetries")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn kinds(v: &Value) -> Vec<String> {
    v["symmetries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap().to_string())
        .collect()
}

fn numbers(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(a) => a.iter().flat_map(numbers).collect(),
        Value::Number(x) => vec![x.as_f64().unwrap()],
        other => panic!("not a number: {other}"),
    }
}

fn close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        // generators come out of an echelon form: exact to a few ulp
        assert!((g - w).abs() < 1e-9, "{got:?} vs {want:?}");
    }
}

fn fails_with(args: &[&str], needle: &str) {
    let out = lagrange().arg("symmetries").args(args).output().unwrap();
    assert!(!out.status.success(), "expected failure for {args:?}");
    assert!(out.stdout.is_empty(), "no output on failure");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("error: ") && err.trim_end().lines().count() == 1,
        "stderr: {err}"
    );
    assert!(err.contains(needle), "stderr: {err}");
}

#[test]
fn kepler_has_exactly_one_rotation_with_angular_momentum_conserved() {
    let v = symmetries(&["kepler"]);
    assert_eq!(v["coordinates"], serde_json::json!(["x", "y"]));
    // 2 translations + 4 linear fields + time
    assert_eq!(v["candidates_tested"], 7);
    assert_eq!(kinds(&v), ["rotation", "time"]);
    let rotation = &v["symmetries"][0];
    close(&numbers(&rotation["generator"]), &[0.0, -1.0, 1.0, 0.0]);
    assert!(rotation["singular_value"].as_f64().unwrap() < 1e-12);
    assert_eq!(rotation["charge"], "-y*p_x + x*p_y");
    // dopri5 at rtol 1e-10 over t ∈ [0, 10]: the angular momentum holds to ~1e-10
    assert!(rotation["charge_drift"].as_f64().unwrap() < 1e-7);
    // m scales L: the motion does not see it
    let flat = v["flat_directions"].as_array().unwrap();
    assert_eq!(flat.len(), 1, "{flat:?}");
    assert_eq!(flat[0]["kind"], "scale");
    assert!(flat[0]["direction"]["m"].as_f64().unwrap() > 0.99);
}

#[test]
fn cyclotron_keeps_z_translation_and_rotation_about_z() {
    let v = symmetries(&["cyclotron", "--samples", "100"]);
    assert_eq!(kinds(&v), ["translation", "rotation", "time"]);
    close(&numbers(&v["symmetries"][0]["generator"]), &[0.0, 0.0, 1.0]);
    close(
        &numbers(&v["symmetries"][1]["generator"]),
        &[0.0, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    );
    assert_eq!(v["symmetries"][0]["charge"], "p_z");
    assert_eq!(v["samples"], 100);
    for s in v["symmetries"].as_array().unwrap() {
        assert!(s["charge_drift"].as_f64().unwrap() < 1e-7, "{s}");
    }
}

#[test]
fn free_n_body_has_total_translations_and_rotation_and_the_chain_has_none() {
    let v = symmetries(&["n-body", "--param", "n=3"]);
    let k = kinds(&v);
    assert_eq!(k.iter().filter(|k| *k == "translation").count(), 2, "{k:?}");
    assert!(k.contains(&"rotation".to_string()), "{k:?}");
    // the total momenta p_x1 + p_x2 + p_x3 and p_y1 + p_y2 + p_y3
    assert_eq!(v["symmetries"][0]["charge"], "p_x1 + p_x2 + p_x3");
    close(
        &numbers(&v["symmetries"][1]["generator"]),
        &[0.0, 1.0, 0.0, 1.0, 0.0, 1.0],
    );
    assert!(v["symmetries"][0]["charge_drift"].as_f64().unwrap() < 1e-9);

    let chain = symmetries(&["chain", "--param", "n=6"]);
    assert_eq!(kinds(&chain), ["time"]);
}

#[test]
fn the_anisotropic_oscillator_loses_its_rotation() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/anisotropic-oscillator.toml"
    );
    let v = symmetries(&[file]);
    assert_eq!(kinds(&v), ["time"]);
    // the rotation on its own: its terms do not cancel
    let rotation = v["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "rotation")
        .unwrap();
    assert!(rotation["defect"].as_f64().unwrap() > 0.1, "{rotation}");
    let isotropic = symmetries(&[file, "--param", "ky=1"]);
    assert_eq!(kinds(&isotropic), ["rotation", "time"]);
}

#[test]
fn text_output_names_the_charges() {
    let out = lagrange().args(["symmetries", "kepler"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("rotation") && text.contains("Q = -y*p_x + x*p_y"),
        "{text}"
    );
}

#[test]
fn bad_input_is_one_error_line() {
    fails_with(
        &["kepler", "--samples", "3"],
        "--samples must be at least 7",
    );
    fails_with(&["kepler", "--format", "xml"], "--format");
    fails_with(&["kepler", "--box", "z=0:1"], "--box");
    fails_with(&["kepler", "--tolerance", "0"], "--tolerance");
    fails_with(&["kepler", "--t-end", "-1"], "--t-end");
    fails_with(&["no-such-system"], "unknown system");
}

fn train(data: &Path, model: &str, out: &Path) {
    lagrange()
        .args(["train", "--data"])
        .arg(data)
        .args([
            "--model", model, "--steps", "60", "--seed", "1", "-q", "--out",
        ])
        .arg(out)
        .assert()
        .success();
}

#[test]
fn trained_models_report_their_flat_directions() {
    let dir = tempfile::tempdir().unwrap();
    let system = dir.path().join("iso.toml");
    std::fs::write(
        &system,
        "coordinates = [\"x\", \"y\"]\nlagrangian = \"0.5*(x_dot^2 + y_dot^2) - 0.5*(x^2 + y^2)\"\n",
    )
    .unwrap();
    let data = dir.path().join("iso.csv");
    lagrange()
        .arg("generate")
        .arg(&system)
        .args(["--samples", "400", "--seed", "2", "--out"])
        .arg(&data)
        .assert()
        .success();
    let lnn = dir.path().join("lnn.json");
    train(&data, "lnn:8x1", &lnn);
    let v = symmetries(&[lnn.to_str().unwrap(), "--samples", "40", "--t-end", "1"]);
    // the network has no t: the time shift is exact
    assert!(kinds(&v).contains(&"time".to_string()), "{v}");
    let flat: Vec<&Value> = v["flat_directions"].as_array().unwrap().iter().collect();
    let kinds_flat: Vec<&str> = flat.iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds_flat, ["scale", "constant"]);
    for f in &flat {
        // L → c L and L → L + c leave q̈ unchanged up to rounding
        assert!(f["q_ddot_change"].as_f64().unwrap() < 1e-9, "{f}");
    }
    // how far the learned L is from each candidate is reported for every candidate
    assert_eq!(v["candidates"].as_array().unwrap().len(), 4);

    let baseline = dir.path().join("baseline.json");
    train(&data, "baseline:8x1", &baseline);
    fails_with(
        &[baseline.to_str().unwrap()],
        "baseline model has no Lagrangian",
    );
}
