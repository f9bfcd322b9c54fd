//! Every class of bad input: non-zero exit, one `error:` line naming the problem, no panic,
//! and no output file (not even a temporary one) left behind.

use super::*;
use std::fs;
use tempfile::TempDir;

const OSCILLATOR: &str = r#"
coordinates = ["x"]
lagrangian = "0.5*m*x_dot^2 - 0.5*k*x^2"
[parameters]
m = 1.0
k = 1.0
[initial]
x = 1.0
"#;

/// Runs `simulate SYSTEM ARGS --out DIR/out.csv --plot DIR/out.png` in a fresh folder that holds
/// only the system file (if any), checks the clean failure and that no file was created, and
/// returns the error line.
fn simulate_fails(system_toml: Option<&str>, system: &str, args: &[&str]) -> String {
    let dir = TempDir::new().unwrap();
    let system = match system_toml {
        Some(text) => write(dir.path(), "system.toml", text),
        None => system.to_string(),
    };
    let before = listing(&dir);
    let mut cmd = lagrange();
    cmd.args(["simulate", &system])
        .args(args)
        .arg("--out")
        .arg(dir.path().join("out.csv"))
        .arg("--plot")
        .arg(dir.path().join("out.png"));
    let line = fails(&mut cmd);
    assert_eq!(listing(&dir), before, "files left behind after: {line}");
    line
}

fn listing(dir: &TempDir) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

const RUN: [&str; 4] = ["--t-end", "1", "--dt", "0.1"];

fn with_run<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    RUN.iter().copied().chain(extra.iter().copied()).collect()
}

#[test]
fn unknown_system() {
    let line = simulate_fails(None, "foo", &RUN);
    assert_eq!(line, "error: unknown system 'foo' (try `lagrange systems`)");
    let line = fails(lagrange().args(["eom", "no/such/file.toml"]));
    assert!(line.contains("file.toml"), "{line}");
}

#[test]
fn malformed_toml() {
    let line = simulate_fails(Some("coordinates = [\"x\"\nlagrangian = "), "", &RUN);
    assert!(line.contains("TOML"), "{line}");
}

#[test]
fn wrong_types() {
    let line = simulate_fails(
        Some("coordinates = \"x\"\nlagrangian = \"x_dot^2\""),
        "",
        &RUN,
    );
    assert!(line.contains("coordinates"), "{line}");
    let line = simulate_fails(Some("coordinates = [\"x\"]\nlagrangian = 3"), "", &RUN);
    assert!(line.contains("lagrangian"), "{line}");
    let toml = OSCILLATOR.replace("k = 1.0", "k = \"stiff\"");
    let line = simulate_fails(Some(&toml), "", &RUN);
    assert!(line.contains("parameters.k"), "{line}");
}

#[test]
fn unknown_names() {
    let toml = OSCILLATOR.replace("0.5*k*x^2", "0.5*kk*x^2");
    assert!(simulate_fails(Some(&toml), "", &RUN).contains("kk"));
    let line = simulate_fails(Some(OSCILLATOR), "", &with_run(&["--param", "zeta=1"]));
    assert!(line.contains("zeta"), "{line}");
    let line = simulate_fails(Some(OSCILLATOR), "", &with_run(&["--state", "y=1"]));
    assert!(line.contains("'y'"), "{line}");
    let line = simulate_fails(None, "pendulum", &with_run(&["--state", "x=1"]));
    assert!(line.contains("'x'") && line.contains("theta"), "{line}");
    let line = fails(lagrange().args(["eom", "pendulum", "--param", "k=1"]));
    assert!(line.contains("`k`"), "{line}");
}

#[test]
fn duplicate_names() {
    let toml = OSCILLATOR.replace("[\"x\"]", "[\"x\", \"x\"]");
    assert!(simulate_fails(Some(&toml), "", &RUN).contains("duplicate"));
    let line = simulate_fails(Some(OSCILLATOR), "", &with_run(&["--state", "x=1,x=2"]));
    assert!(
        line.contains("'x'") && line.contains("more than once"),
        "{line}"
    );
    let line = simulate_fails(
        Some(OSCILLATOR),
        "",
        &with_run(&["--param", "k=1", "--param", "k=2"]),
    );
    assert!(line.contains("'k'"), "{line}");
    let toml = OSCILLATOR.replace("k = 1.0", "k = 1.0\nk = 2.0");
    assert!(simulate_fails(Some(&toml), "", &RUN).contains("TOML"));
}

#[test]
fn parameter_shadowing_a_coordinate() {
    let toml = OSCILLATOR.replace("k = 1.0", "k = 1.0\nx = 2.0");
    let line = simulate_fails(Some(&toml), "", &RUN);
    assert!(line.contains("shadows") && line.contains("`x`"), "{line}");
    let line = simulate_fails(Some(OSCILLATOR), "", &with_run(&["--param", "x=2"]));
    assert!(line.contains("'x' is a coordinate"), "{line}");
}

#[test]
fn velocity_of_a_non_coordinate() {
    let toml = OSCILLATOR.replace("0.5*m*x_dot^2", "0.5*m*x_dot^2 + w_dot");
    let line = simulate_fails(Some(&toml), "", &RUN);
    assert!(line.contains("`w`"), "{line}");
    let line = simulate_fails(Some(OSCILLATOR), "", &with_run(&["--state", "w_dot=1"]));
    assert!(
        line.contains("w_dot") && line.contains("not a coordinate"),
        "{line}"
    );
}

#[test]
fn non_finite_parameters_and_state() {
    for (flag, value) in [
        ("--state", "x=nan"),
        ("--state", "x_dot=inf"),
        ("--param", "k=NaN"),
        ("--param", "m=-inf"),
    ] {
        let line = simulate_fails(Some(OSCILLATOR), "", &with_run(&[flag, value]));
        assert!(line.contains("finite"), "{line}");
        let line = fails(lagrange().args([
            "eom",
            "pendulum",
            flag,
            &value.replace('x', "theta").replace('k', "g"),
        ]));
        assert!(line.contains("finite"), "{line}");
    }
    let toml = OSCILLATOR.replace("k = 1.0", "k = nan");
    assert!(simulate_fails(Some(&toml), "", &RUN).contains("finite"));
    let toml = OSCILLATOR.replace("x = 1.0", "x = inf");
    assert!(simulate_fails(Some(&toml), "", &RUN).contains("finite"));
}

#[test]
fn bad_times() {
    for dt in ["0", "-0.1", "nan", "abc"] {
        let line = simulate_fails(None, "pendulum", &["--t-end", "1", "--dt", dt]);
        assert!(line.contains("--dt"), "{line}");
    }
    let line = simulate_fails(None, "pendulum", &["--t-end", "-1", "--dt", "0.1"]);
    assert!(
        line.contains("--t-end") && line.contains("negative"),
        "{line}"
    );
    let line = simulate_fails(None, "pendulum", &["--t-end", "inf", "--dt", "0.1"]);
    assert!(line.contains("--t-end"), "{line}");
    let line = fails(lagrange().args(["eom", "pendulum", "--time", "x"]));
    assert!(line.contains("--time"), "{line}");
}

#[test]
fn degenerate_lagrangian() {
    let toml = "coordinates = [\"x\", \"y\"]\nlagrangian = \"0.5*x_dot^2 + x*y_dot - y^2\"";
    let line = simulate_fails(Some(toml), "", &RUN);
    assert!(
        line.contains("singular") || line.contains("degenerate"),
        "{line}"
    );
    let dir = TempDir::new().unwrap();
    let path = write(dir.path(), "s.toml", toml);
    let line = fails(lagrange().args(["eom", &path]));
    assert!(
        line.contains("singular") || line.contains("degenerate"),
        "{line}"
    );
}

#[test]
fn blow_up_during_the_run_names_the_time() {
    // ẍ = 4x³ from x = 1: x → ∞ in finite time (t ≈ 0.66).
    let toml = "coordinates = [\"x\"]\nlagrangian = \"0.5*x_dot^2 + x^4\"\n[initial]\nx = 1.0";
    let line = simulate_fails(Some(toml), "", &["--t-end", "5", "--dt", "0.01"]);
    assert!(line.contains("t = "), "{line}");
}

#[test]
fn unknown_integrator_and_bad_formats() {
    let line = simulate_fails(None, "pendulum", &with_run(&["--integrator", "leapfrog"]));
    assert!(line.contains("leapfrog") && line.contains("rk4"), "{line}");
    let line = simulate_fails(None, "pendulum", &with_run(&["--format", "xml"]));
    assert!(line.contains("xml"), "{line}");
    let line = fails(lagrange().args(["eom", "pendulum", "--format", "yaml"]));
    assert!(line.contains("yaml"), "{line}");
    let line = fails(lagrange().args(["systems", "--format", "yaml"]));
    assert!(line.contains("yaml"), "{line}");
    for bad in ["--rtol", "--atol"] {
        let line = simulate_fails(
            None,
            "pendulum",
            &with_run(&["--integrator", "dopri5", bad, "-1"]),
        );
        assert!(line.contains(bad), "{line}");
    }
}

#[test]
fn unwritable_or_unsupported_output_paths() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("no/such/dir/out.csv");
    let line = fails(
        lagrange()
            .args([
                "simulate", "pendulum", "--t-end", "1", "--dt", "0.1", "--out",
            ])
            .arg(&missing),
    );
    assert!(line.contains("out.csv"), "{line}");
    let line = fails(
        lagrange()
            .args([
                "simulate", "pendulum", "--t-end", "1", "--dt", "0.1", "--out",
            ])
            .arg(dir.path().join("ok.csv"))
            .arg("--plot")
            .arg(dir.path().join("plot.pdf")),
    );
    assert!(line.contains(".pdf"), "{line}");
    let line = fails(
        lagrange()
            .args([
                "simulate", "pendulum", "--t-end", "1", "--dt", "0.1", "--out",
            ])
            .arg(dir.path()),
    );
    assert!(line.contains("directory"), "{line}");
    let line = fails(lagrange().args(["simulate", "pendulum", "--t-end", "1", "--dt", "0.1"]));
    assert!(line.contains("--out") && line.contains("--plot"), "{line}");
    assert_eq!(listing(&dir), Vec::<String>::new());
}

#[cfg(unix)]
#[test]
fn read_only_folder() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let ro = dir.path().join("ro");
    fs::create_dir(&ro).unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    if fs::write(ro.join("probe"), b"").is_ok() {
        return; // running as root: permissions are not enforced
    }
    let line = fails(
        lagrange()
            .args([
                "simulate", "pendulum", "--t-end", "1", "--dt", "0.1", "--out",
            ])
            .arg(ro.join("out.csv")),
    );
    assert!(line.contains("out.csv"), "{line}");
}

#[test]
fn malformed_state_syntax() {
    for bad in ["x", "x=", "=1", "x=abc", "x=1,,y=2", "x=1=2"] {
        let line = simulate_fails(Some(OSCILLATOR), "", &with_run(&["--state", bad]));
        assert!(line.contains("--state"), "{bad}: {line}");
        let line = fails(lagrange().args(["eom", "pendulum", "--state", bad]));
        assert!(line.contains("--state"), "{bad}: {line}");
    }
    let line = fails(lagrange().args(["eom", "pendulum", "--param", "g"]));
    assert!(line.contains("--param"), "{line}");
}

#[test]
fn usage_errors_are_one_line_too() {
    let line = fails(lagrange().args(["simulate", "pendulum", "--dt", "0.1", "--out", "x.csv"]));
    assert!(line.contains("--t-end"), "{line}");
    fails(lagrange().args(["frobnicate"]));
    fails(lagrange().args(["eom", "pendulum", "--bogus"]));
}
