//! `--engine auto|autodiff|compiled` of `learn`, `landscape` and `noise-sweep`, run as users run
//! them: the binary on the example TOML files, at a few thousand samples.
use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn lagrange() -> Command {
    Command::cargo_bin("lagrange").unwrap()
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../examples/{name}.toml"))
}

/// 2 000 double-pendulum samples from the example file (m1 = m2 = l1 = l2 = 1, g = 9.81).
fn pendulum_data(dir: &Path) -> PathBuf {
    let data = dir.join("dp.csv");
    lagrange()
        .arg("generate")
        .arg(example("double-pendulum"))
        .args(["--samples", "2000", "--seed", "1", "--out"])
        .arg(&data)
        .assert()
        .success();
    data
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The seed's experiment (m2 and g free, Adam from m2 = 0.6, g = 5): both engines give the same
/// parameters (the library tests check 1e-10; here 1e-9 after the JSON round trip of 17
/// digits), and the JSON says which engine ran.
#[test]
fn learn_gives_the_same_fit_on_both_engines_and_says_which_ran() {
    let dir = tempfile::tempdir().unwrap();
    let data = pendulum_data(dir.path());
    let mut results = Vec::new();
    for engine in ["autodiff", "compiled", "auto"] {
        let out = dir.path().join(format!("{engine}.json"));
        let run = lagrange()
            .args(["learn", "--data"])
            .arg(&data)
            .arg("--model")
            .arg(example("double-pendulum"))
            .args(["--fit", "m2,g", "--init", "m2=0.6", "--init", "g=5"])
            .args(["--optimizer", "adam", "--lr", "0.01", "--iterations", "200"])
            .args(["--engine", engine, "--stats", "-q", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(run.status.success());
        let stderr = String::from_utf8(run.stderr).unwrap();
        let used = if engine == "autodiff" {
            "autodiff"
        } else {
            "compiled"
        };
        assert!(
            stderr.contains(&format!("stats: engine: {used}")),
            "{stderr}"
        );
        let r = json(&out);
        assert_eq!(r["engine"]["requested"], engine);
        assert_eq!(r["engine"]["used"], used);
        results.push(r);
    }
    for r in &results[1..] {
        for name in ["m2", "g"] {
            let (a, b) = (
                r["parameters"][name].as_f64().unwrap(),
                results[0]["parameters"][name].as_f64().unwrap(),
            );
            assert!((a - b).abs() <= 1e-9 * b.abs(), "{name}: {a} vs {b}");
        }
    }
}

#[test]
fn a_model_that_branches_on_values_falls_back_or_fails_as_asked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("osc.csv");
    lagrange()
        .args([
            "generate",
            "harmonic-oscillator",
            "--samples",
            "200",
            "--out",
        ])
        .arg(&data)
        .assert()
        .success();
    let learn = |engine: &str| {
        let mut cmd = lagrange();
        cmd.args(["learn", "--data"])
            .arg(&data)
            .args([
                "--model",
                "network:3",
                "--iterations",
                "3",
                "--engine",
                engine,
            ])
            .arg("--out")
            .arg(dir.path().join(format!("{engine}.json")));
        cmd.output().unwrap()
    };
    // softplus branches on the sign of its input: auto runs on dual numbers and says why
    let auto = learn("auto");
    assert!(auto.status.success());
    let note = String::from_utf8(auto.stderr).unwrap();
    assert!(note.contains("note: engine: autodiff ("), "{note}");
    assert!(note.contains("re()"), "{note}");
    let r = json(&dir.path().join("auto.json"));
    assert_eq!(r["engine"]["used"], "autodiff");
    assert!(r["engine"]["reason"].as_str().unwrap().contains("re()"));
    // compiled: a one-line error with the reason, and no output file
    let compiled = learn("compiled");
    assert!(!compiled.status.success());
    let err = String::from_utf8(compiled.stderr).unwrap();
    assert!(
        err.starts_with("error: ") && err.trim_end().lines().count() == 1,
        "{err}"
    );
    assert!(err.contains("re()") && err.contains("--engine"), "{err}");
    assert!(!dir.path().join("compiled.json").exists());
    // an unknown engine is refused by the argument parser
    let bad = learn("fast");
    assert!(!bad.status.success());
    assert!(String::from_utf8(bad.stderr).unwrap().contains("--engine"));
}

#[test]
fn landscape_and_noise_sweep_agree_across_engines() {
    let dir = tempfile::tempdir().unwrap();
    let data = pendulum_data(dir.path());
    let grid = |engine: &str| {
        let out = dir.path().join(format!("grid-{engine}.csv"));
        let run = lagrange()
            .args(["landscape", "--data"])
            .arg(&data)
            .arg("--model")
            .arg(example("double-pendulum"))
            .args(["--grid", "m2=0.2:2:21", "--grid", "g=2:12:21"])
            .args([
                "--fix",
                "m1=1,l1=1,l2=1",
                "--engine",
                engine,
                "--stats",
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap();
        assert!(run.status.success());
        let stderr = String::from_utf8(run.stderr).unwrap();
        assert!(
            stderr.contains(&format!("stats: engine: {engine}")),
            "{stderr}"
        );
        std::fs::read_to_string(out).unwrap()
    };
    let (a, b) = (grid("compiled"), grid("autodiff"));
    let rows = |s: &str| -> Vec<Vec<f64>> {
        s.lines()
            .skip(1)
            .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
            .collect()
    };
    let (ra, rb) = (rows(&a), rows(&b));
    assert_eq!(ra.len(), 21 * 21);
    for (x, y) in ra.iter().zip(&rb) {
        assert_eq!(x[..2], y[..2]);
        // one loss over 2 000 samples: agreement to rounding
        assert!((x[2] - y[2]).abs() <= 1e-12 * y[2].abs(), "{x:?} vs {y:?}");
    }

    let sweep = |engine: &str| {
        let out = dir.path().join(format!("sweep-{engine}.csv"));
        lagrange()
            .arg("noise-sweep")
            .arg(example("harmonic-oscillator"))
            .args(["--param", "k=2.5", "--fix", "m=1", "--levels", "0,0.1"])
            .args(["--repeats", "2", "--samples", "300", "--simex-repeats", "2"])
            .args(["--engine", engine, "-q", "--out"])
            .arg(&out)
            .assert()
            .success();
        rows(&std::fs::read_to_string(out).unwrap())
    };
    let (a, b) = (sweep("compiled"), sweep("autodiff"));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        for (u, v) in x.iter().zip(y) {
            // errors of fitted parameters (LM to convergence): equal to 1e-8 of their size
            assert!((u - v).abs() <= 1e-8 * v.abs().max(1e-6), "{x:?} vs {y:?}");
        }
    }
}

/// A 256-mass FPU-β chain written as users write it (one top-level sum), k and b free: `learn`
/// runs the compiled engine on term kernels (the JSON says so), Levenberg–Marquardt recovers the
/// parameters of the noise-free data, and Adam gives the autodiff engine's parameters.
#[test]
fn a_chain_of_local_terms_learns_on_term_kernels() {
    let dir = tempfile::tempdir().unwrap();
    let n = 256;
    let x = |i: usize| format!("x{i}");
    let mut terms: Vec<String> = (1..=n).map(|i| format!("0.5*{}_dot^2", x(i))).collect();
    let mut springs: Vec<String> = vec![x(1)];
    springs.extend((2..=n).map(|i| format!("{} - {}", x(i), x(i - 1))));
    springs.push(x(n));
    for d in &springs {
        terms.push(format!("- 0.5*k*({d})^2 - 0.25*b*({d})^4"));
    }
    let coordinates: Vec<String> = (1..=n).map(|i| format!("\"{}\"", x(i))).collect();
    let model = dir.path().join("chain.toml");
    std::fs::write(
        &model,
        format!(
            "name = \"FPU chain\"\ncoordinates = [{}]\nlagrangian = \"{}\"\n\
             [parameters]\nk = 1.3\nb = 0.4\n",
            coordinates.join(", "),
            terms.join(" + ").replace("+ -", "-")
        ),
    )
    .unwrap();
    let data = dir.path().join("chain.csv");
    lagrange()
        .arg("generate")
        .arg(&model)
        .args(["--samples", "200", "--seed", "3", "--out"])
        .arg(&data)
        .assert()
        .success();
    let learn = |engine: &str, optimizer: &[&str], out: &Path| {
        lagrange()
            .args(["learn", "--data"])
            .arg(&data)
            .arg("--model")
            .arg(&model)
            .args(["--fit", "k,b", "--init", "k=1", "--init", "b=0.1"])
            .args(optimizer)
            .args(["--engine", engine, "-q", "--out"])
            .arg(out)
            .assert()
            .success();
        json(out)
    };
    let lm = learn("auto", &[], &dir.path().join("lm.json"));
    assert_eq!(lm["engine"]["used"], "compiled");
    let mass = lm["engine"]["mass_matrix"].as_str().unwrap();
    assert!(mass.ends_with("(term kernels)"), "{mass}");
    // the data are exact: the fit recovers the file's values (to the solver's tolerance)
    for (name, truth) in [("k", 1.3), ("b", 0.4)] {
        let got = lm["parameters"][name].as_f64().unwrap();
        assert!((got - truth).abs() <= 1e-6 * truth, "{name}: {got}");
    }
    let adam = ["--optimizer", "adam", "--lr", "0.01", "--iterations", "30"];
    let compiled = learn("compiled", &adam, &dir.path().join("compiled.json"));
    let reference = learn("autodiff", &adam, &dir.path().join("autodiff.json"));
    for name in ["k", "b"] {
        let (a, b) = (
            compiled["parameters"][name].as_f64().unwrap(),
            reference["parameters"][name].as_f64().unwrap(),
        );
        assert!((a - b).abs() <= 1e-9 * b.abs(), "{name}: {a} vs {b}");
    }
}
