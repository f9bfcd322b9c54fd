//! The committed figures (PNG, SVG, GIF under `docs/` and `bench/`):
//! - carry no path of the machine that made them: searched, bytes and all (PNG text chunks,
//!   SVG text), for absolute paths;
//! - are each shown in a Markdown file of the repository whose caption names the command that
//!   regenerates them.

use std::path::{Path, PathBuf};

fn figures(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        // hidden folders (a virtual environment under bench/peers) hold no committed figures
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            figures(&path, found);
        } else if path.extension().is_some_and(|e| {
            ["png", "svg", "gif"]
                .iter()
                .any(|x| e.eq_ignore_ascii_case(x))
        }) {
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

/// Markdown files of the repository (the README and everything under `docs/`).
fn markdown(root: &Path) -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "md") {
                found.push(path);
            }
        }
    }
    let mut files = vec![root.join("README.md")];
    walk(&root.join("docs"), &mut files);
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect()
}

/// Whether `zone` (a figure's caption and the text before it) names a command that writes
/// `figure` (its path from the repository root is `rel`, `dir` its folder): a `lagrange` command
/// line that names the file, `lagrange report --out DIR`, or a script under `tools/` that names
/// the figure's folder.
fn names_its_command(root: &Path, zone: &[&str], rel: &str, dir: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let names_file = |command: &str| {
        command.contains("lagrange ") && (command.contains(rel) || command.contains(name))
    };
    // inline code may wrap over lines: its spans, from the zone's text joined up
    // (fences dropped, so that their backticks do not upset the pairing of the inline ones; the
    // lines of a fenced block are checked one by one below)
    let joined = zone.join(" ").replace("```", "");
    let spans = joined.split('`').skip(1).step_by(2);
    spans.clone().any(names_file)
        || zone.iter().any(|line| names_file(line))
        || zone
            .iter()
            .any(|line| line.contains(&format!("lagrange report --out {dir}")))
        || spans.flat_map(|span| span.split(' ')).any(|word| {
            word.starts_with("tools/")
                && std::fs::read_to_string(root.join(word)).is_ok_and(|script| script.contains(dir))
        })
}

#[test]
fn committed_figures_are_shown_with_the_command_that_makes_them() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().unwrap();
    let mut found = Vec::new();
    for dir in ["docs", "bench"] {
        figures(&root.join(dir), &mut found);
    }
    let docs = markdown(&root);
    let mut bad = Vec::new();
    for path in &found {
        let rel = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let dir = rel.rsplit_once('/').map_or("", |(d, _)| d).to_string();
        let mut shown = false;
        let mut captioned = false;
        for (md, text) in &docs {
            // the figure's path as this Markdown file links it
            let md_dir = md.parent().unwrap();
            let link = path
                .strip_prefix(md_dir)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_else(|_| rel.clone());
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                if !line.contains(&format!("]({link})")) {
                    continue;
                }
                shown = true;
                // the caption zone: back to the section's heading (at most 60 lines), and the
                // few lines after the figure
                let mut start = i.saturating_sub(60);
                if let Some(h) = (start..i).rev().find(|&k| lines[k].starts_with('#')) {
                    start = h;
                } else if let Some(blank) = (start..i).find(|&k| lines[k].trim().is_empty()) {
                    // start at a paragraph's beginning, not inside one's inline code
                    start = blank;
                }
                let end = (i + 4).min(lines.len());
                if names_its_command(&root, &lines[start..end], &rel, &dir) {
                    captioned = true;
                }
            }
        }
        if !shown {
            bad.push(format!("{rel} is shown in no Markdown file"));
        } else if !captioned {
            bad.push(format!(
                "{rel}: no caption near it names the command that regenerates it"
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
