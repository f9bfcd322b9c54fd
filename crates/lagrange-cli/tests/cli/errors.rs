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
fn unknown_velocity_names_what_was_written() {
    let toml = OSCILLATOR.replace("0.5*m*x_dot^2", "0.5*m*x_dot^2 + w_dot");
    let line = simulate_fails(Some(&toml), "", &RUN);
    assert!(line.contains("`w_dot`") && line.contains("`w`"), "{line}");
    let dir = TempDir::new().unwrap();
    let path = write(dir.path(), "s.toml", &toml);
    let line = fails(lagrange().args(["eom", &path]));
    assert!(line.contains("`w_dot`") && line.contains("`w`"), "{line}");
    let toml = OSCILLATOR.replace("x = 1.0", "x = 1.0\nw_dot = 2.0");
    let line = simulate_fails(Some(&toml), "", &RUN);
    assert!(line.contains("w_dot"), "{line}");
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

/// `eom` at a state where the energy, q̈ or a momentum is NaN or infinite: exit 2, the quantity
/// and the state named, nothing on stdout.
#[test]
fn eom_refuses_non_finite_results() {
    let dir = TempDir::new().unwrap();
    // E = −log(x) is NaN at x = −1 while q̈ = 1/x = −1 is finite
    let log = write(
        dir.path(),
        "log.toml",
        "coordinates = [\"x\"]\nlagrangian = \"0.5*x_dot^2 + log(x)\"",
    );
    let out = lagrange()
        .args(["eom", &log, "--state", "x=-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let line = fails(lagrange().args(["eom", &log, "--state", "x=-1"]));
    assert!(
        line.contains("energy") && line.contains("x = -1") && line.contains("x_dot = 0"),
        "{line}"
    );
    // q̈ = −1/x² is infinite at x = 0
    let pole = write(
        dir.path(),
        "pole.toml",
        "coordinates = [\"x\"]\nlagrangian = \"0.5*x_dot^2 - 1/x\"\n[initial]\nx = 1",
    );
    let line = fails(lagrange().args(["eom", &pole, "--state", "x=0", "--format", "text"]));
    assert!(line.contains("q_ddot") && line.contains("x = 0"), "{line}");
    // the energy overflows although every input is finite
    let oscillator = write(
        dir.path(),
        "oscillator.toml",
        "coordinates = [\"x\"]\nlagrangian = \"0.5*x_dot^2 - 0.5*x^2\"",
    );
    let line = fails(lagrange().args(["eom", &oscillator, "--state", "x_dot=1e200"]));
    assert!(
        line.contains("energy") && line.contains("x_dot = 1e200"),
        "{line}"
    );
    // a finite state still works
    ok(lagrange().args(["eom", &log, "--state", "x=2"]));
}

#[test]
fn non_finite_start_is_an_input_error_naming_the_quantity() {
    for (toml, state, needle) in [
        // NaN energy at the start
        ("0.5*x_dot^2 + log(x)", "x=-1", "energy"),
        // infinite energy from finite numbers
        ("0.5*x_dot^2 - 0.5*x^2", "x_dot=1e200", "energy"),
        // infinite force at the start
        ("0.5*x_dot^2 - 1/x", "x=0", "q_ddot"),
    ] {
        let toml = format!("coordinates = [\"x\"]\nlagrangian = \"{toml}\"");
        let dir = TempDir::new().unwrap();
        let path = write(dir.path(), "s.toml", &toml);
        let mut cmd = lagrange();
        cmd.args([
            "simulate", &path, "--t-end", "1", "--dt", "0.1", "--state", state,
        ])
        .arg("--out")
        .arg(dir.path().join("out.csv"));
        let out = cmd.output().unwrap();
        let line = fails(&mut cmd);
        assert_eq!(out.status.code(), Some(2), "{line}");
        assert!(line.contains(needle), "{state}: {line}");
        assert!(!line.contains("blew up"), "{line}");
        assert_eq!(listing(&dir), ["s.toml"]);
    }
    // out-of-range numbers in the file: an input error pointing at them
    for (entry, text) in [("x = 1e999", "1e999"), ("x_dot = -1e400", "-1e400")] {
        let toml = OSCILLATOR.replace("x = 1.0", entry);
        let line = simulate_fails(Some(&toml), "", &RUN);
        assert!(line.contains(text) && line.contains("line 8"), "{line}");
    }
    for state in ["x=1e999", "x_dot=-1e400"] {
        let line = simulate_fails(Some(OSCILLATOR), "", &with_run(&["--state", state]));
        let name = state.split('=').next().unwrap();
        assert!(line.contains(name) && line.contains("finite"), "{line}");
    }
}

#[test]
fn negative_numbers_after_options_name_the_option() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("d.csv");
    ok(lagrange()
        .args(["generate", "pendulum", "--samples", "50", "--out"])
        .arg(&data));
    let data = data.to_string_lossy().into_owned();
    let model = write(
        dir.path(),
        "m.toml",
        "coordinates = [\"theta\"]\nlagrangian = \"0.5*m*theta_dot^2 + g*cos(theta)\"\n[parameters]\nm = 1.0\ng = 1.0\n",
    );
    let sim = [
        "simulate", "pendulum", "--t-end", "1", "--dt", "0.1", "--out", "x.csv",
    ];
    let learn = [
        "learn", "--data", &data, "--model", &model, "--out", "r.json",
    ];
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        ([&sim[..], &["--rtol", "-1e-6"]].concat(), "--rtol", "-1e-6"),
        (
            [&sim[..], &["--atol", "-1e-12"]].concat(),
            "--atol",
            "-1e-12",
        ),
        ([&sim[..], &["--rtol", "-.5"]].concat(), "--rtol", "-.5"),
        ([&sim[..], &["--atol", "-inf"]].concat(), "--atol", "-inf"),
        (
            vec![
                "simulate", "pendulum", "--t-end", "1", "--dt", "-1e-3", "--out", "x.csv",
            ],
            "--dt",
            "-1e-3",
        ),
        (
            vec![
                "simulate", "pendulum", "--t-end", "-1e3", "--dt", "0.1", "--out", "x.csv",
            ],
            "--t-end",
            "-1e3",
        ),
        (
            vec!["generate", "pendulum", "--samples", "-5", "--out", "d2.csv"],
            "--samples",
            "-5",
        ),
        (
            vec![
                "generate",
                "pendulum",
                "--samples",
                "9",
                "--noise",
                "-1e-2",
                "--out",
                "d2.csv",
            ],
            "--noise",
            "-0.01",
        ),
        (
            vec![
                "generate",
                "pendulum",
                "--samples",
                "9",
                "--trajectories",
                "3",
                "--t-end",
                "-1e1",
                "--out",
                "d2.csv",
            ],
            "--t-end",
            "-10",
        ),
        (
            [&learn[..], &["--optimizer", "adam", "--lr", "-1e-3"]].concat(),
            "--lr",
            "-0.001",
        ),
        (
            [&learn[..], &["--tolerance", "-1e-9"]].concat(),
            "--tolerance",
            "-0.000000001",
        ),
        (
            [&learn[..], &["--noise", "-1e-2"]].concat(),
            "--noise",
            "-0.01",
        ),
        (
            [&learn[..], &["--iterations", "-5"]].concat(),
            "--iterations",
            "-5",
        ),
        ([&learn[..], &["--starts", "-5"]].concat(), "--starts", "-5"),
        (
            vec![
                "noise-sweep",
                "pendulum",
                "--levels",
                "-1e-1",
                "--out",
                "s.csv",
            ],
            "--levels",
            "-1e-1",
        ),
        (
            vec![
                "noise-sweep",
                "pendulum",
                "--repeats",
                "-2",
                "--out",
                "s.csv",
            ],
            "--repeats",
            "-2",
        ),
        (
            vec![
                "landscape",
                "--data",
                &data,
                "--model",
                &model,
                "--grid",
                "m=0.1:2:5",
                "--grid",
                "g=1:2:5",
                "--seed",
                "-1",
                "--out",
                "l.csv",
            ],
            "--seed",
            "-1",
        ),
    ];
    for (args, option, value) in cases {
        let line = fails(lagrange().current_dir(dir.path()).args(&args));
        assert!(
            line.contains(option) && line.contains(value) && !line.contains("unexpected argument"),
            "{args:?}: {line}"
        );
    }
    assert_eq!(listing(&dir), ["d.csv", "m.toml"]);
    // a negative time is valid for eom
    let text = ok(lagrange().args(["eom", "driven-oscillator", "--time", "-1e-3"]));
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["t"].as_f64(), Some(-1e-3));
}

/// Runs `cmd`, asserts success, returns the lines of stderr.
fn stderr_lines(cmd: &mut assert_cmd::Command) -> Vec<String> {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr.lines().map(str::to_string).collect()
}

#[test]
fn tolerances_that_do_nothing_or_cannot_be_met_warn() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("x.csv");
    for integrator in ["rk4", "euler", "variational"] {
        let lines = stderr_lines(
            lagrange()
                .args(["simulate", "pendulum", "--t-end", "1", "--dt", "0.1"])
                .args(["--integrator", integrator, "--rtol", "1e-6", "--out"])
                .arg(&out),
        );
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with("warning: ") && lines[0].contains("--rtol"),
            "{lines:?}"
        );
        assert!(out.exists());
    }
    let lines = stderr_lines(
        lagrange()
            .args(["simulate", "pendulum", "--t-end", "1", "--dt", "0.1"])
            .args(["--integrator", "rk4", "--atol", "1e-9", "--out"])
            .arg(&out),
    );
    assert!(
        lines.len() == 1 && lines[0].starts_with("warning: ") && lines[0].contains("--atol"),
        "{lines:?}"
    );
    // below 100 ε the relative error cannot be met in double precision: raised, with a warning
    fs::remove_file(&out).unwrap();
    let lines = stderr_lines(
        lagrange()
            .args(["simulate", "pendulum", "--t-end", "1", "--dt", "0.1"])
            .args(["--rtol", "1e-17", "--out"])
            .arg(&out),
    );
    assert!(
        lines.len() == 1
            && lines[0].starts_with("warning: ")
            && lines[0].contains("--rtol")
            && lines[0].contains("1e-17"),
        "{lines:?}"
    );
    assert_eq!(parse_csv(&fs::read_to_string(&out).unwrap()).1.len(), 11);
    // no warning for the defaults or tolerances that can be met
    for extra in [&[][..], &["--rtol", "1e-12", "--atol", "1e-14"][..]] {
        let lines = stderr_lines(
            lagrange()
                .args([
                    "simulate", "pendulum", "--t-end", "1", "--dt", "0.1", "--out",
                ])
                .arg(&out)
                .args(extra),
        );
        assert_eq!(lines, Vec::<String>::new());
    }
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

#[test]
fn output_folder_that_cannot_be_written_even_by_root() {
    // A "folder" that is a regular file cannot hold a file, whoever runs the command.
    let dir = TempDir::new().unwrap();
    let file = write(dir.path(), "file.txt", "keep");
    for flag in ["--out", "--plot"] {
        let target = Path::new(&file).join("out.png");
        let line = fails(
            lagrange()
                .args(["simulate", "pendulum", "--t-end", "1", "--dt", "0.1", flag])
                .arg(&target),
        );
        assert!(
            line.contains(flag) && line.contains("file.txt") && line.contains("not a folder"),
            "{line}"
        );
    }
    let line = fails(
        lagrange()
            .args(["generate", "pendulum", "--samples", "10", "--out"])
            .arg(Path::new(&file).join("d.csv")),
    );
    assert!(line.contains("not a folder"), "{line}");
    assert_eq!(fs::read_to_string(&file).unwrap(), "keep");
    assert_eq!(listing(&dir), ["file.txt"]);
}

#[cfg(unix)]
#[test]
fn read_only_folder() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let ro = dir.path().join("ro");
    fs::create_dir(&ro).unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    // Root ignores the permission bits; /proc refuses new files to root too.
    let target = if fs::write(ro.join("probe"), b"").is_ok() {
        assert!(
            Path::new("/proc/self").exists(),
            "no read-only folder for root"
        );
        Path::new("/proc/lagrange-out.csv").to_path_buf()
    } else {
        ro.join("out.csv")
    };
    let line = fails(
        lagrange()
            .args([
                "simulate", "pendulum", "--t-end", "1", "--dt", "0.1", "--out",
            ])
            .arg(&target),
    );
    assert!(line.contains("out.csv"), "{line}");
    assert!(!target.exists());
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
