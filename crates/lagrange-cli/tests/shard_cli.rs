//! End-to-end tests of `--shard K/N` and `lagrange merge`: for `landscape`, `noise-sweep`,
//! `learn --starts` and `evaluate`, the merged shards must be byte for byte what the unsharded
//! run writes (a multi-start result's `compile_seconds`, a timing, excluded), and every misuse
//! must end in one `error:` line with no output file. Small runs, so the file takes seconds.
use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

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

/// A folder with the oscillator's data and model.
struct Oscillator {
    dir: tempfile::TempDir,
    data: PathBuf,
    model: PathBuf,
}

fn oscillator() -> Oscillator {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("ho.csv");
    write_oscillator(&data, 120);
    let model = dir.path().join("osc.toml");
    std::fs::write(&model, OSC).unwrap();
    Oscillator { dir, data, model }
}

fn run_ok(args: &[&str]) {
    let out = lagrange().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "lagrange {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `args` unsharded with `--out whole`, then as `--shard K/N` for K = 1..=N, and merges the
/// shards (given in reverse order: merge must not care); returns the two outputs' texts.
fn whole_and_merged(args: &[&str], dir: &Path, name: &str, n: usize) -> (String, String) {
    let whole = dir.join(format!("{name}-whole"));
    let mut with_out = args.to_vec();
    with_out.extend(["--out", whole.to_str().unwrap()]);
    run_ok(&with_out);
    let mut shards = Vec::new();
    for k in 1..=n {
        let path = dir.join(format!("{name}-{k}of{n}.json"));
        let shard = format!("{k}/{n}");
        let mut sharded = args.to_vec();
        sharded.extend(["--shard", &shard, "--out", path.to_str().unwrap()]);
        run_ok(&sharded);
        shards.push(path);
    }
    let merged = dir.join(format!("{name}-merged"));
    let mut merge = lagrange();
    merge
        .arg("merge")
        .args(shards.iter().rev())
        .arg("-o")
        .arg(&merged);
    let out = merge.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        std::fs::read_to_string(&whole).unwrap(),
        std::fs::read_to_string(&merged).unwrap(),
    )
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A failure: non-zero exit, exactly one `error:` line containing `needle`, and no file at `out`.
fn fails_with(cmd: &mut Command, needle: &str, out: &Path) {
    let output = cmd.output().unwrap();
    assert!(!output.status.success(), "expected failure");
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(
        err.starts_with("error: ") && err.trim_end().lines().count() == 1,
        "stderr: {err}"
    );
    assert!(err.contains(needle), "expected '{needle}' in: {err}");
    assert!(!out.exists(), "{} was written", out.display());
}

fn landscape_args<'a>(o: &'a Oscillator, grid_m: &'a str) -> Vec<&'a str> {
    vec![
        "landscape",
        "--data",
        o.data.to_str().unwrap(),
        "--model",
        o.model.to_str().unwrap(),
        "--grid",
        grid_m,
        "--grid",
        "k=1:4:5",
    ]
}

#[test]
fn landscape_shards_merge_to_the_unsharded_csv() {
    let o = oscillator();
    // m = 0 makes the mass matrix singular at every sample: NaN losses travel through the shards
    let args = landscape_args(&o, "m=0:2:4");
    let (whole, merged) = whole_and_merged(&args, o.dir.path(), "land", 3);
    assert_eq!(whole.lines().count(), 1 + 4 * 5);
    assert!(whole.contains("NaN"), "{whole}");
    assert_eq!(whole, merged);

    // a shard file says what it is: command, run settings, K and N, its units
    let shard = json(&o.dir.path().join("land-2of3.json"));
    assert_eq!(shard["format"], "lagrange-shard");
    assert_eq!(shard["command"], "landscape");
    assert_eq!(shard["shard"], serde_json::json!({"index": 2, "count": 3}));
    assert_eq!(
        shard["units"],
        serde_json::json!({"total": 20, "first": 6, "count": 7})
    );
    assert!(
        shard["run"]["data"]
            .as_str()
            .unwrap()
            .starts_with("fnv1a64:")
    );
    assert_eq!(shard["results"]["loss"].as_array().unwrap().len(), 7);
}

#[test]
fn more_shards_than_grid_points_still_merge() {
    let o = oscillator();
    // 2 × 5 = 10 points in 13 shards: three of them are empty, and still valid shard files
    let args = landscape_args(&o, "m=0.5:2:2");
    let (whole, merged) = whole_and_merged(&args, o.dir.path(), "land", 13);
    assert_eq!(whole.lines().count(), 1 + 2 * 5);
    assert_eq!(whole, merged);
    let empty = json(&o.dir.path().join("land-1of13.json"));
    assert_eq!(empty["units"]["count"], 0);
    assert_eq!(empty["results"]["loss"], serde_json::json!([]));
}

#[test]
fn noise_sweep_shards_merge_to_the_unsharded_table() {
    let o = oscillator();
    let args = [
        "noise-sweep",
        o.model.to_str().unwrap(),
        "--param",
        "k=2.5",
        "--fit",
        "k",
        "--fix",
        "m=1",
        "--levels",
        "0,0.1",
        "--repeats",
        "2",
        "--samples",
        "100",
        "--simex-repeats",
        "2",
        "-q",
    ];
    let (whole, merged) = whole_and_merged(&args, o.dir.path(), "sweep", 3);
    assert!(
        whole.starts_with("level,naive_mean,naive_std,aware_mean,aware_std,repeats,failures\n")
    );
    assert_eq!(whole.lines().count(), 3);
    assert_eq!(whole, merged);
}

/// The result JSON without the `compile_seconds` line: the one timing in it.
fn without_timing(text: &str) -> String {
    text.lines()
        .filter(|line| !line.trim_start().starts_with("\"compile_seconds\""))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn multistart_shards_merge_to_the_unsharded_result() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("pendulum.csv");
    run_ok(&[
        "generate",
        "pendulum",
        "--samples",
        "100",
        "--box",
        "theta=-2:2,theta_dot=-2:2",
        "--seed",
        "3",
        "--out",
        data.to_str().unwrap(),
    ]);
    // a small network: the starts end in different minima, so the clustering has work to do
    let args = [
        "learn",
        "--data",
        data.to_str().unwrap(),
        "--model",
        "network:2",
        "--starts",
        "7",
        "--seed",
        "1",
        "--iterations",
        "30",
        "-q",
    ];
    let (whole, merged) = whole_and_merged(&args, dir.path(), "starts", 3);
    let result: Value = serde_json::from_str(&whole).unwrap();
    assert!(result["minima"].as_array().unwrap().len() > 1, "{whole}");
    assert_eq!(without_timing(&whole), without_timing(&merged));

    // the compiled engine (a timing in the result) and a start whose shard is not the first
    let o = oscillator();
    let args = [
        "learn",
        "--data",
        o.data.to_str().unwrap(),
        "--model",
        o.model.to_str().unwrap(),
        "--fix",
        "m=1",
        "--starts",
        "4",
        "--seed",
        "2",
        "--engine",
        "compiled",
        "-q",
    ];
    let (whole, merged) = whole_and_merged(&args, o.dir.path(), "osc", 3);
    assert!(whole.contains("\"compile_seconds\""));
    assert_eq!(without_timing(&whole), without_timing(&merged));
}

#[test]
fn evaluate_shards_merge_to_the_unsharded_judgement() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("pendulum.csv");
    run_ok(&[
        "generate",
        "pendulum",
        "--samples",
        "200",
        "--box",
        "theta=-1.5:1.5,theta_dot=-2:2",
        "--seed",
        "3",
        "--out",
        data.to_str().unwrap(),
    ]);
    let model = dir.path().join("model.json");
    run_ok(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--model",
        "structured:8x1",
        "--steps",
        "50",
        "--seed",
        "1",
        "-q",
        "--out",
        model.to_str().unwrap(),
    ]);
    let args = [
        "evaluate",
        "--model",
        model.to_str().unwrap(),
        "--truth",
        "pendulum",
        "--initial-conditions",
        "5",
        "--t-end",
        "2",
        "--dt",
        "0.05",
        "--box",
        "theta=-1:1,theta_dot=-1:1",
        "--seed",
        "2",
        "-q",
    ];
    let (whole, merged) = whole_and_merged(&args, dir.path(), "eval", 3);
    let judgement: Value = serde_json::from_str(&whole).unwrap();
    assert_eq!(
        judgement["per_initial_condition"].as_array().unwrap().len(),
        5
    );
    assert_eq!(whole, merged);

    // merge draws the plot the unsharded run would
    let png = dir.path().join("eval.png");
    let merged = dir.path().join("again.json");
    lagrange()
        .arg("merge")
        .args((1..=3).map(|k| dir.path().join(format!("eval-{k}of3.json"))))
        .arg("--out")
        .arg(&merged)
        .arg("--plot")
        .arg(&png)
        .assert()
        .success();
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);
    assert_eq!(std::fs::read_to_string(&merged).unwrap(), whole);
}

#[test]
fn bad_shard_values_are_refused_before_any_work() {
    let o = oscillator();
    let out = o.dir.path().join("shard.json");
    for (value, needle) in [
        ("0/4", "K must be between 1 and N"),
        ("5/4", "K must be between 1 and N"),
        ("1/0", "N must be at least 1"),
        ("x", "expected K/N"),
        ("1/", "expected K/N"),
    ] {
        let mut cmd = lagrange();
        cmd.args(landscape_args(&o, "m=0.5:2:3"))
            .args(["--shard", value, "--out"])
            .arg(&out);
        fails_with(&mut cmd, needle, &out);
    }
    // a shard draws no plot
    let plot = o.dir.path().join("land.png");
    let mut cmd = lagrange();
    cmd.args(landscape_args(&o, "m=0.5:2:3"))
        .args(["--shard", "1/2", "--out"])
        .arg(&out)
        .arg("--plot")
        .arg(&plot);
    fails_with(&mut cmd, "--plot cannot be combined with --shard", &out);
    assert!(!plot.exists());
    // a single fit is not split
    let mut cmd = lagrange();
    cmd.args(["learn", "--data"])
        .arg(&o.data)
        .arg("--model")
        .arg(&o.model)
        .args(["--fix", "m=1", "--shard", "1/2", "--out"])
        .arg(&out);
    fails_with(&mut cmd, "applies to --starts", &out);
}

#[test]
fn merge_refuses_anything_but_all_shards_of_one_run() {
    let o = oscillator();
    let dir = o.dir.path();
    let shard = |args: &[&str], k: usize, n: usize, name: &str| -> PathBuf {
        let path = dir.join(name);
        let value = format!("{k}/{n}");
        let mut all = args.to_vec();
        all.extend(["--shard", &value, "--out", path.to_str().unwrap()]);
        run_ok(&all);
        path
    };
    let args = landscape_args(&o, "m=0.5:2:3");
    let s: Vec<PathBuf> = (1..=4)
        .map(|k| shard(&args, k, 4, &format!("s{k}.json")))
        .collect();
    let out = dir.join("merged.csv");
    let merge = |files: &[&Path]| {
        let mut cmd = lagrange();
        cmd.arg("merge").args(files).arg("--out").arg(&out);
        cmd
    };
    // missing shards: which ones
    fails_with(
        &mut merge(&[&s[0], &s[2]]),
        "shards 2, 4 of 4 are missing",
        &out,
    );
    fails_with(
        &mut merge(&[&s[0], &s[1], &s[2]]),
        "shard 4 of 4 is missing",
        &out,
    );
    // a shard twice
    fails_with(
        &mut merge(&[&s[0], &s[1], &s[1], &s[2], &s[3]]),
        "shard 2/4 is given twice",
        &out,
    );
    // a shard of another run (other initial values), and one of another split
    let mut other = args.clone();
    other.extend(["--init", "m=0.7"]);
    let foreign = shard(&other, 3, 4, "other-run.json");
    fails_with(
        &mut merge(&[&s[0], &s[1], &foreign, &s[3]]),
        "different runs of `landscape` (they differ in: init)",
        &out,
    );
    let split = shard(&args, 3, 5, "other-split.json");
    fails_with(
        &mut merge(&[&s[0], &s[1], &split, &s[3]]),
        "are not shards of one run",
        &out,
    );
    // a shard of another command
    let sweep = shard(
        &[
            "noise-sweep",
            o.model.to_str().unwrap(),
            "--fit",
            "k",
            "--fix",
            "m=1",
            "--levels",
            "0",
            "--repeats",
            "1",
            "--samples",
            "50",
            "--simex-repeats",
            "1",
            "-q",
        ],
        1,
        4,
        "sweep.json",
    );
    fails_with(
        &mut merge(&[&s[0], &s[1], &s[2], &sweep]),
        "is a shard of `noise-sweep` but",
        &out,
    );
    // files that are not shard files: CSV, other JSON
    fails_with(
        &mut merge(&[&s[0], &o.data, &s[2], &s[3]]),
        "ho.csv' is not a shard file",
        &out,
    );
    let other_json = dir.join("model.json");
    std::fs::write(&other_json, "{\"format\": \"lagrange-neural-model\"}").unwrap();
    fails_with(
        &mut merge(&[&other_json]),
        "model.json' is not a shard file",
        &out,
    );
    // a missing file
    fails_with(
        &mut merge(&[&s[0], &dir.join("nope.json")]),
        "cannot read shard file",
        &out,
    );
    // and all four, in any order, merge
    let mut cmd = merge(&[&s[3], &s[1], &s[0], &s[2]]);
    cmd.assert().success();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap().lines().count(),
        1 + 3 * 5
    );
}
