//! `lagrange bench --fields --quick` through the binary: the markdown table and the JSON report
//! have their shape (every column, every case, every number present and finite), with and
//! without JAX. The numbers themselves are not checked (toy sizes, a shared machine).
#![cfg(feature = "bench")]

use assert_cmd::Command;
use serde_json::Value;

fn lagrange() -> Command {
    Command::cargo_bin("lagrange").unwrap()
}

const HEADER: &str = "| system | sites | hand 1t | compiled 1t | **compiled ÷ hand** | hand 2t | compiled 2t | **compiled ÷ hand (2t)** | JAX | **compiled 1t ÷ JAX** | **compiled 2t ÷ JAX** | compiled 1t, q̇ checked | compile (s) | peak RSS (MB) |";

/// Runs the quick benchmark with `extra` arguments: (stdout, JSON report).
fn run(extra: &[&str]) -> (String, Value) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("fields.json");
    let out = lagrange()
        .args(["bench", "--fields", "--quick", "-q", "--out"])
        .arg(&json)
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // -q: no progress lines
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    (stdout, report)
}

/// The table's rows (after the header and the separator), split into cells.
fn table_rows(stdout: &str) -> Vec<Vec<String>> {
    let mut lines = stdout.lines().skip_while(|l| *l != HEADER);
    assert_eq!(lines.next(), Some(HEADER), "no table header in:\n{stdout}");
    assert!(lines.next().unwrap().starts_with("|---|"));
    lines
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().trim_matches('*').to_string())
                .collect()
        })
        .collect()
}

fn check_shape(stdout: &str, report: &Value, jax: bool) {
    let rows = table_rows(stdout);
    assert_eq!(rows.len(), 2, "{stdout}");
    assert_eq!(rows[0][..2], ["sine-Gordon 1-D", "2000"]);
    assert_eq!(rows[1][..2], ["wave 2-D", "48 × 40"]);
    for row in &rows {
        assert_eq!(row.len(), 14, "{row:?}");
        for (k, cell) in row.iter().enumerate().skip(2) {
            if (8..=10).contains(&k) && !jax {
                assert_eq!(cell, "–");
                continue;
            }
            let x: f64 = cell
                .parse()
                .unwrap_or_else(|_| panic!("cell {k}: '{cell}'"));
            assert!(x.is_finite() && x >= 0.0, "cell {k}: {x}");
        }
    }
    assert_eq!(
        stdout.contains("JAX: not available ("),
        !jax,
        "JAX line in:\n{stdout}"
    );

    assert_eq!(report["quick"], true);
    assert!(report["command"].as_str().unwrap().contains("--fields"));
    assert_eq!(report["threads"], 2);
    assert!(report["machine"]["nproc"].as_u64().unwrap() >= 1);
    assert!(report["machine"]["cpu_model"].is_string());
    assert_eq!(report["jax"]["available"], jax);
    assert_eq!(report["markdown"].as_str().unwrap(), stdout);
    let json_rows = report["rows"].as_array().unwrap();
    assert_eq!(json_rows.len(), 2);
    for (row, n) in json_rows.iter().zip([2000, 48 * 40]) {
        assert_eq!(row["n"], n);
        for key in [
            "hand_1t",
            "compiled_1t",
            "hand_2t",
            "compiled_2t",
            "compiled_1t_velocity_checked",
        ] {
            assert!(row["ns_per_site"][key].as_f64().unwrap() > 0.0, "{key}");
        }
        for key in ["compiled_over_hand_1t", "compiled_over_hand_2t"] {
            assert!(row["ratio"][key].as_f64().unwrap() > 0.0, "{key}");
        }
        assert_eq!(row["ns_per_site"]["jax"].is_f64(), jax);
        assert_eq!(row["ratio"]["compiled_1t_over_jax"].is_f64(), jax);
        assert_eq!(row["ratio"]["compiled_2t_over_jax"].is_f64(), jax);
        assert!(row["compile_seconds"].as_f64().unwrap() >= 0.0);
        assert!(row["term_kernels"].as_u64().unwrap() >= 1);
        // like is compared with like: the methods' q̈ agree before anything is timed
        for key in ["compiled_1t", "hand_2t", "compiled_2t"] {
            assert!(row["max_rel_diff_to_hand"][key].as_f64().unwrap() <= 1e-12);
        }
        if jax {
            assert!(row["max_rel_diff_to_hand"]["jax"].as_f64().unwrap() <= 1e-9);
        }
    }
}

#[test]
fn quick_fields_bench_without_jax_keeps_the_rust_columns() {
    let (stdout, report) = run(&["--peers", "/nonexistent/python"]);
    check_shape(&stdout, &report, false);
    assert!(
        report["jax"]["reason"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/python"),
        "{report}"
    );
}

/// With bench/peers' Python when it is installed (`bash bench/peers/setup.sh`), else the same
/// "not available" shape.
#[test]
fn quick_fields_bench_with_the_default_peers() {
    let (stdout, report) = run(&[]);
    let jax = report["jax"]["available"] == true;
    check_shape(&stdout, &report, jax);
}
