//! `simulate --stats`: which evaluator, assembly path and mass-matrix solve a run really took,
//! asserted through the binary for the built-in chain and N-body and for a text chain — the
//! CLI's own system wrapper once dropped the declarations that make these paths possible.
//! Also `--every` and the streamed outputs at sizes beyond the unit tests.

use super::*;
use serde_json::Value;

/// A text chain of `n` unit masses with unit springs and fixed ends, written as a sum.
fn text_chain(dir: &std::path::Path, n: usize) -> String {
    let coords: Vec<String> = (1..=n).map(|i| format!("\"x{i}\"")).collect();
    let mut terms: Vec<String> = (1..=n)
        .map(|i| format!("{}0.5*x{i}_dot^2", if i > 1 { "+ " } else { "" }))
        .collect();
    terms.push("- 0.5*x1^2".into());
    for i in 1..n {
        terms.push(format!("- 0.5*(x{} - x{i})^2", i + 1));
    }
    terms.push(format!("- 0.5*x{n}^2"));
    let toml = format!(
        "name = \"text chain\"\ncoordinates = [{}]\nlagrangian = \"{}\"\n[initial]\nx1 = 0.1\n",
        coords.join(", "),
        terms.join(" ")
    );
    write(dir, "chain.toml", &toml)
}

/// Runs `simulate` with `--format json --out - --stats` and returns the `"stats"` object.
fn stats(system: &str, extra: &[&str]) -> Value {
    let mut cmd = lagrange();
    cmd.args([
        "simulate", system, "--out", "-", "--format", "json", "--stats", "-q",
    ])
    .args(extra);
    let out = ok(&mut cmd);
    let v: Value = serde_json::from_str(&out).expect("JSON output");
    v["stats"].clone()
}

fn path(s: &Value) -> (&str, &str, u64, &str, &str) {
    (
        s["evaluator"].as_str().unwrap(),
        s["path"].as_str().unwrap(),
        s["kernels"].as_u64().unwrap(),
        s["mass_matrix"].as_str().unwrap(),
        s["solve"].as_str().unwrap(),
    )
}

const RK4_100: [&str; 6] = ["--integrator", "rk4", "--t-end", "0.1", "--dt", "0.001"];

#[test]
fn builtin_chain_takes_the_structured_and_kernel_paths() {
    let args = [&RK4_100[..], &["--param", "n=1024"]].concat();
    let s = stats("chain", &[&args[..], &["--eom", "autodiff"]].concat());
    assert_eq!(
        path(&s),
        ("autodiff", "structured", 0, "constant", "diagonal")
    );
    assert_eq!(s["steps"], 100);
    assert_eq!(s["rejected_steps"], 0);
    // RK4: four evaluations per step (the first reuses the one at the initial state)
    assert_eq!(s["evaluations"], 400);
    assert_eq!(s["compile_seconds"], 0.0);
    let s = stats("chain", &[&args[..], &["--eom", "compiled"]].concat());
    assert_eq!(
        path(&s),
        ("compiled", "term kernels", 2, "constant", "diagonal")
    );
    assert!(s["compile_seconds"].as_f64().unwrap() > 0.0);
    assert!(s["run_seconds"].as_f64().unwrap() > 0.0);
    // auto compiles a run ten times as long (≈ 4000 × 50 µs of dual numbers, 10× the 20 ms
    // threshold: the 100-step run sits right at it, and the choice is made by timing)
    let long = [
        "--integrator",
        "rk4",
        "--t-end",
        "1",
        "--dt",
        "0.001",
        "--param",
        "n=1024",
    ];
    let s = stats("chain", &long);
    assert_eq!(s["evaluator"], "compiled");
    assert_eq!(s["path"], "term kernels");
}

#[test]
fn builtin_n_body_takes_the_structured_and_kernel_paths() {
    let args = [&RK4_100[..], &["--param", "n=64"]].concat();
    let s = stats("n-body", &[&args[..], &["--eom", "autodiff"]].concat());
    // pairwise terms couple every coordinate, but M is diagonal
    assert_eq!(
        path(&s),
        ("autodiff", "structured", 0, "constant", "diagonal")
    );
    let s = stats("n-body", &[&args[..], &["--eom", "compiled"]].concat());
    assert_eq!(s["evaluator"], "compiled");
    assert_eq!(s["path"], "term kernels");
    assert!(s["kernels"].as_u64().unwrap() >= 1);
    assert_eq!(s["mass_matrix"], "constant");
}

#[test]
fn text_chain_takes_the_structured_and_kernel_paths() {
    let dir = tempfile::tempdir().unwrap();
    let chain = text_chain(dir.path(), 1024);
    let s = stats(&chain, &[&RK4_100[..], &["--eom", "autodiff"]].concat());
    assert_eq!(
        path(&s),
        ("autodiff", "structured", 0, "constant", "diagonal")
    );
    let s = stats(&chain, &[&RK4_100[..], &["--eom", "compiled"]].concat());
    assert_eq!(s["evaluator"], "compiled");
    assert_eq!(s["path"], "term kernels");
    assert_eq!(s["mass_matrix"], "constant");
    // the variational integrator goes term by term too, with a banded Newton Jacobian
    let s = stats(
        &chain,
        &[
            "--integrator",
            "variational",
            "--t-end",
            "0.01",
            "--dt",
            "0.001",
        ],
    );
    assert_eq!(s["evaluator"], "autodiff");
    assert_eq!(s["path"], "structured");
    assert_eq!(s["solve"], "banded");
    assert_eq!(s["bandwidth"], 1);
}

#[test]
fn small_systems_stay_dense_and_auto_keeps_dual_numbers_for_short_runs() {
    let s = stats(
        "double-pendulum",
        &["--integrator", "rk4", "--t-end", "0.1", "--dt", "0.01"],
    );
    // M depends on the angles; 40 evaluations cannot repay compiling
    assert_eq!(path(&s), ("autodiff", "dense", 0, "varying", "dense"));
    assert!(s["choice"].as_str().unwrap().contains("repay"));
    let s = stats(
        "cyclotron",
        &[
            "--integrator",
            "dopri5",
            "--t-end",
            "1",
            "--dt",
            "0.1",
            "--eom",
            "compiled",
        ],
    );
    assert_eq!(path(&s), ("compiled", "dense", 0, "constant", "diagonal"));
    // adaptive: rejected steps are counted, and every step costs at least 6 evaluations
    let steps = s["steps"].as_u64().unwrap();
    assert!(steps >= 1);
    assert!(s["evaluations"].as_u64().unwrap() >= 6 * steps);
}

#[test]
fn stats_go_to_stderr_for_csv() {
    let out = lagrange()
        .args([
            "simulate", "chain", "--param", "n=16", "--t-end", "0.1", "--dt", "0.01", "--out", "-",
            "--stats", "-q",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("stats: evaluator "), "{stderr}");
    assert!(stderr.contains("path structured"), "{stderr}");
    // the CSV itself is untouched
    let (header, rows) = parse_csv(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(header.len(), 2 * 16 + 2);
    assert_eq!(rows.len(), 11);
}

#[test]
fn every_writes_one_row_per_k_steps_and_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.csv");
    let sparse = dir.path().join("sparse.csv");
    for (path, every) in [(&full, "1"), (&sparse, "7")] {
        ok(lagrange().args([
            "simulate",
            "harmonic-oscillator",
            "--integrator",
            "rk4",
            "--t-end",
            "1",
            "--dt",
            "0.01",
            "--every",
            every,
            "-q",
            "--out",
            path.to_str().unwrap(),
        ]));
    }
    let (_, full) = parse_csv(&std::fs::read_to_string(&full).unwrap());
    let (_, sparse) = parse_csv(&std::fs::read_to_string(&sparse).unwrap());
    assert_eq!(full.len(), 101);
    // rows 0, 7, 14, ..., 98 and the last (100): 15 + 1
    assert_eq!(sparse.len(), 16);
    for (i, row) in sparse.iter().enumerate() {
        let k = if i == 15 { 100 } else { 7 * i };
        assert_eq!(row, &full[k], "row {i} is step {k}, bit for bit");
    }
    for bad in ["0", "-3", "1.5", "x"] {
        let line = fails(lagrange().args([
            "simulate",
            "harmonic-oscillator",
            "--t-end",
            "1",
            "--dt",
            "0.1",
            "--every",
            bad,
            "--out",
            "-",
        ]));
        assert!(line.contains("--every"), "{line}");
    }
}

#[test]
fn streamed_json_and_npy_match_the_csv_at_scale() {
    // 64 coordinates × 2001 rows: every format is streamed, JSON through spill files
    let dir = tempfile::tempdir().unwrap();
    let base = [
        "simulate",
        "chain",
        "--param",
        "n=64",
        "--integrator",
        "rk4",
        "--t-end",
        "2",
        "--dt",
        "0.001",
        "-q",
    ];
    let csv = dir.path().join("c.csv");
    let json = dir.path().join("c.json");
    let npy = dir.path().join("c.npy");
    for p in [&csv, &json, &npy] {
        ok(lagrange().args(base).args(["--out", p.to_str().unwrap()]));
    }
    let (_, rows) = parse_csv(&std::fs::read_to_string(&csv).unwrap());
    assert_eq!(rows.len(), 2001);
    let v: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["t"].as_array().unwrap().len(), 2001);
    assert_eq!(v["q"].as_array().unwrap().len(), 2001);
    assert!(v.get("stats").is_none(), "stats only with --stats");
    for (i, row) in rows.iter().enumerate().step_by(250) {
        assert_eq!(v["t"][i].as_f64().unwrap(), row[0]);
        assert_eq!(v["q"][i][63].as_f64().unwrap(), row[64]);
        assert_eq!(v["q_dot"][i][0].as_f64().unwrap(), row[65]);
        assert_eq!(v["energy"][i].as_f64().unwrap(), row[129]);
    }
    let bytes = std::fs::read(&npy).unwrap();
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize + 10;
    let header = String::from_utf8_lossy(&bytes[10..header_len]);
    assert!(header.contains("'shape': (2001, 130)"), "{header}");
    let value = |r: usize, c: usize| {
        let at = header_len + 8 * (r * 130 + c);
        f64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
    };
    assert_eq!(bytes.len(), header_len + 2001 * 130 * 8);
    assert_eq!(value(2000, 64), rows[2000][64]);
    assert_eq!(value(1234, 129), rows[1234][129]);
}

#[test]
fn eom_of_a_huge_chain_needs_no_dense_matrix() {
    // n = 65 536: an n × n matrix would be 34 GB; the structured path is O(n)
    let out = ok(lagrange().args(["eom", "chain", "--param", "n=65536"]));
    let v: Value = serde_json::from_str(&out).unwrap();
    let q = v["q"].as_array().unwrap();
    let a = v["q_ddot"].as_array().unwrap();
    assert_eq!(a.len(), 65536);
    assert_eq!(v["momenta"].as_array().unwrap().len(), 65536);
    // hand-derived: unit masses and springs, fixed ends: q̈ᵢ = qᵢ₋₁ − 2qᵢ + qᵢ₊₁ (k = m = 1)
    let x = |i: usize| q[i].as_f64().unwrap();
    for i in [1, 777, 40_000, 65_534] {
        let want = x(i - 1) - 2.0 * x(i) + x(i + 1);
        assert!((a[i].as_f64().unwrap() - want).abs() < 1e-12, "q̈[{i}]");
    }
}
