//! `systems` and `eom`: listings and values against closed forms.

use super::*;
use serde_json::Value;

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("valid JSON")
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + b.abs())
}

#[test]
fn systems_lists_every_builtin_with_its_lagrangian() {
    let text = ok(lagrange().arg("systems"));
    for name in [
        "harmonic-oscillator",
        "pendulum",
        "double-pendulum",
        "cyclotron",
        "crossed-fields",
        "kepler",
        "spring-pendulum",
        "chain",
        "n-body",
        "damped-oscillator",
        "driven-oscillator",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(name)),
            "{name} missing:\n{text}"
        );
    }
    assert!(text.contains("L = "));
    assert!(
        text.contains("F = "),
        "the damped oscillator shows its dissipation"
    );
    let list = json(&ok(lagrange().args(["systems", "--format", "json"])));
    let list = list.as_array().unwrap();
    assert!(list.len() >= 11);
    assert!(
        list.iter()
            .all(|s| s["lagrangian"].is_string() && s["coordinates"].is_array())
    );
}

#[test]
fn eom_oscillator_matches_closed_form() {
    // m = 1, k = 2 (overriding the file's 4): q̈ = −k x / m, E = ½ m v² + ½ k x², p = m v.
    let v = json(&ok(lagrange().args([
        "eom",
        &example("harmonic-oscillator.toml"),
        "--state",
        "x=0.5,x_dot=0.3",
        "--param",
        "k=2",
    ])));
    assert_eq!(v["coordinates"], serde_json::json!(["x"]));
    assert_eq!(f(&v["t"]), 0.0);
    assert_eq!(f(&v["q"][0]), 0.5);
    assert_eq!(f(&v["q_dot"][0]), 0.3);
    assert!(close(f(&v["q_ddot"][0]), -1.0));
    assert!(close(f(&v["energy"]), 0.5 * 0.09 + 0.5 * 2.0 * 0.25));
    assert!(close(f(&v["momenta"][0]), 0.3));
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "coordinates",
            "t",
            "q",
            "q_dot",
            "q_ddot",
            "energy",
            "momenta"
        ]
    );
}

#[test]
fn eom_cyclotron_builtin_lorentz_force() {
    // L = ½ m v² + ½ q B (x ẏ − y ẋ): m ẍ = qB ẏ, m ÿ = −qB ẋ; p_x = m ẋ − ½qB y, p_y = m ẏ + ½qB x.
    let v = json(&ok(lagrange().args([
        "eom",
        "cyclotron",
        "--state",
        "x=0.5,y=0.25,x_dot=1,y_dot=0.5,z_dot=0",
        "--param",
        "m=1,q=1",
        "--param",
        "B=2",
    ])));
    assert_eq!(v["coordinates"], serde_json::json!(["x", "y", "z"]));
    let a: Vec<f64> = v["q_ddot"].as_array().unwrap().iter().map(f).collect();
    assert!(
        close(a[0], 2.0 * 0.5) && close(a[1], -2.0 * 1.0) && a[2] == 0.0,
        "{a:?}"
    );
    let p: Vec<f64> = v["momenta"].as_array().unwrap().iter().map(f).collect();
    assert!(close(p[0], 1.0 - 0.25) && close(p[1], 0.5 + 0.5), "{p:?}");
    assert!(close(f(&v["energy"]), 0.5 * (1.0 + 0.25)));
}

#[test]
fn eom_state_falls_back_to_initial_then_zero() {
    // harmonic-oscillator.toml has [initial] x = 1, x_dot = 0 and k = 4, m = 1.
    let v = json(&ok(
        lagrange().args(["eom", &example("harmonic-oscillator.toml")])
    ));
    assert_eq!(f(&v["q"][0]), 1.0);
    assert_eq!(f(&v["q_dot"][0]), 0.0);
    assert!(close(f(&v["q_ddot"][0]), -4.0));
    // Only the velocity given: x keeps the file's value.
    let v = json(&ok(lagrange().args([
        "eom",
        &example("harmonic-oscillator.toml"),
        "--state",
        "x_dot=2",
    ])));
    assert_eq!((f(&v["q"][0]), f(&v["q_dot"][0])), (1.0, 2.0));
    // exb-drift.toml sets no velocities: they are 0.
    let v = json(&ok(lagrange().args(["eom", &example("exb-drift.toml")])));
    assert_eq!(v["q_dot"], serde_json::json!([0.0, 0.0]));
}

#[test]
fn eom_time_dependent_and_text_format() {
    // Driven: m ẍ = −k x + F0 cos(Ω t).
    let t = 1.3_f64;
    let v = json(&ok(lagrange().args([
        "eom",
        &example("driven-oscillator.toml"),
        "--state",
        "x=0.4",
        "--time",
        "1.3",
    ])));
    assert_eq!(f(&v["t"]), t);
    assert!(close(f(&v["q_ddot"][0]), -0.4 + 0.2 * (0.9 * t).cos()));
    let text = ok(lagrange().args([
        "eom",
        "pendulum",
        "--state",
        "theta=0.5",
        "--format",
        "text",
    ]));
    assert!(text.contains("theta") && text.contains("energy"), "{text}");
}

#[test]
fn eom_every_builtin() {
    let list: Value = json(&ok(lagrange().args(["systems", "--format", "json"])));
    for s in list.as_array().unwrap() {
        let name = s["name"].as_str().unwrap();
        let v = json(&ok(lagrange().args(["eom", name])));
        assert_eq!(
            v["q_ddot"].as_array().unwrap().len(),
            s["coordinates"].as_array().unwrap().len()
        );
    }
}

#[test]
fn help_and_version() {
    let text = ok(lagrange().arg("--help"));
    assert!(text.contains("simulate") && text.contains("eom") && text.contains("systems"));
    assert!(ok(lagrange().args(["simulate", "--help"])).contains("--integrator"));
    assert!(ok(lagrange().arg("--version")).starts_with("lagrange "));
}

#[test]
fn size_parameter_changes_the_coordinates() {
    let v =
        json(&ok(lagrange().args([
            "eom", "chain", "--param", "n=3", "--state", "x3=0.5",
        ])));
    assert_eq!(v["coordinates"], serde_json::json!(["x1", "x2", "x3"]));
    assert_eq!(v["q"][2], 0.5);
}
