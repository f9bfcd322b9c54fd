//! End-to-end tests of the `lagrange` binary: one test binary, one module per area.

mod commands;
mod errors;
mod files;
mod outputs;
mod paths;

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The binary under test.
pub fn lagrange() -> Command {
    Command::cargo_bin("lagrange").expect("the lagrange binary is built")
}

/// `examples/` at the repository root.
pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

pub fn example(name: &str) -> String {
    examples().join(name).to_string_lossy().into_owned()
}

/// Runs `cmd`, asserts success, returns stdout.
pub fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "expected success, got {:?}; stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// Runs `cmd`, asserts a clean failure: non-zero exit, stderr one line starting `error:`, no
/// panic. Returns that line.
pub fn fails(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "expected failure; stderr: {stderr}");
    assert!(
        out.status.code().is_some_and(|c| c != 0 && c != 101),
        "exit {:?}",
        out.status
    );
    assert!(
        stderr.starts_with("error: "),
        "stderr must start with `error: `: {stderr:?}"
    );
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "one line expected: {stderr:?}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
    stderr.trim_end().to_string()
}

/// Writes `text` to `dir/name` and returns the path as a string.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// Parses CSV output into (header, rows).
pub fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let mut lines = text.lines();
    let header = lines
        .next()
        .expect("header")
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| {
            l.split(',')
                .map(|v| v.parse::<f64>().expect("number"))
                .collect()
        })
        .collect();
    (header, rows)
}
