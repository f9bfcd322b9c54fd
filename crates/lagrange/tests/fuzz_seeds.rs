//! The fuzz targets' seed corpus (`fuzz/seeds/<target>/`, checked in) replayed on the stable
//! toolchain through the same property functions the cargo-fuzz targets call
//! (`lagrange::fuzzing`). A crash found by fuzzing is added to its seed folder and stays tested.

use std::path::PathBuf;

/// Every file of `fuzz/seeds/<target>`, sorted; at least one.
fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no seeds in {}", dir.display());
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect()
}

/// Runs `check` on each seed, naming the seed that fails.
fn replay(target: &str, check: impl Fn(&[u8])) {
    for (path, bytes) in seeds(target) {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&bytes)));
        assert!(outcome.is_ok(), "seed {} fails", path.display());
    }
}

/// libFuzzer's `&str` targets skip inputs that are not UTF-8; so does the replay.
fn as_text(check: fn(&str)) -> impl Fn(&[u8]) {
    move |bytes| {
        if let Ok(text) = std::str::from_utf8(bytes) {
            check(text);
        }
    }
}

#[test]
fn parse_seeds() {
    replay("parse", as_text(lagrange::fuzzing::parse_expression));
}

#[test]
fn system_file_seeds() {
    replay("system_file", as_text(lagrange::fuzzing::system_file));
}

#[test]
fn structured_dense_seeds() {
    replay("structured_dense", lagrange::fuzzing::structured_dense);
}
