//! No committed figure carries a path of the machine that made it: every PNG and SVG under
//! `docs/` and `bench/` is searched, bytes and all (PNG text chunks, SVG text), for absolute paths.

use std::path::{Path, PathBuf};

fn figures(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            figures(&path, found);
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("png") || e.eq_ignore_ascii_case("svg"))
        {
            found.push(path);
        }
    }
}

/// The machine paths searched for.
const PATHS: [&[u8]; 6] = [
    b"/home/", b"/root/", b"/tmp/", b"/work/", b"/Users/", b"C:\\",
];

#[test]
fn committed_figures_carry_no_machine_paths() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut found = Vec::new();
    for dir in ["docs", "bench"] {
        figures(&root.join(dir), &mut found);
    }
    assert!(!found.is_empty(), "no figures found under docs/");
    let mut bad = Vec::new();
    for path in &found {
        let bytes = std::fs::read(path).unwrap();
        for needle in PATHS {
            if bytes.windows(needle.len()).any(|w| w == needle) {
                bad.push(format!(
                    "{} contains '{}'",
                    path.strip_prefix(&root).unwrap_or(path).display(),
                    String::from_utf8_lossy(needle)
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "figures with machine paths:\n{}",
        bad.join("\n")
    );
}
