//! `lagrange report --quick` through the binary: the pipeline runs, every section of the
//! issue is present with its answer, the summary links to each, the figures it cites exist,
//! and the slide deck is written. The numbers of a quick run are not checked (toy sizes).
use assert_cmd::Command;
use std::path::Path;

fn lagrange() -> Command {
    Command::cargo_bin("lagrange").unwrap()
}

/// The questions of the issue, as the report's headings.
const HEADINGS: [&str; 12] = [
    "How accurate and how fast is autodiff against traditional differentiation?",
    "How large is the error against exact solutions, per integrator?",
    "Are conservation laws kept over long runs?",
    "Which symmetries does a Lagrangian have, and which does a learned one keep?",
    "How much noise does learning tolerate?",
    "How rough is the loss landscape, and how are local minima avoided?",
    "What can a given architecture learn, and what is out of reach?",
    "What happens outside the sampled region?",
    "How fast is it, and does a GPU help?",
    "Can it capture interactions between particles and fields?",
    "Can it be extended to quantum dynamics?",
    "Future directions",
];

/// The file names of the images a markdown text cites (`![...](name)`).
fn images(markdown: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = markdown;
    while let Some(start) = rest.find("![") {
        rest = &rest[start + 2..];
        let Some(open) = rest.find("](") else { break };
        let after = &rest[open + 2..];
        let Some(close) = after.find(')') else { break };
        names.push(after[..close].to_string());
        rest = &after[close..];
    }
    names
}

fn check_report(dir: &Path) {
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(readme.starts_with("# Findings"), "{readme}");
    assert!(readme.contains("**Machine:**") && readme.contains("**Made:**"));
    for heading in HEADINGS {
        assert!(
            readme.contains(&format!("## {heading}\n")),
            "missing section: {heading}"
        );
        // the summary table links to it
        assert!(
            readme.contains(&format!("| [{heading}](#")),
            "not in the summary: {heading}"
        );
    }
    for name in images(&readme) {
        assert!(dir.join(&name).is_file(), "cited figure {name} is missing");
        // and its caption names the command that made it
        assert!(
            readme.contains(&format!("({name})\n\n*")),
            "no caption for {name}"
        );
    }
    let slides = std::fs::read_to_string(dir.join("slides.md")).unwrap();
    assert!(slides.starts_with("---\nmarp: true"));
    for heading in HEADINGS {
        assert!(
            slides.contains(&format!("## {heading}")),
            "no slide for {heading}"
        );
    }
    for name in images(&slides) {
        assert!(dir.join(&name).is_file(), "slide figure {name} is missing");
    }
}

#[test]
fn quick_report_has_every_section_and_its_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("findings");
    lagrange()
        .args(["report", "--quick", "-q", "--out"])
        .arg(&out)
        .assert()
        .success();
    check_report(&out);
    let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(readme.contains("--quick"), "a quick report says so");
    // a second run replaces the report (and leaves no staging folder behind)
    lagrange()
        .args(["report", "--quick", "-q", "--only", "symmetries", "--out"])
        .arg(&out)
        .assert()
        .success();
    check_report(&out);
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, ["findings"]);
}

#[test]
fn report_refuses_what_it_must_not_replace() {
    let tmp = tempfile::tempdir().unwrap();
    let fails = |args: &[&str], needle: &str| {
        let out = lagrange().args(args).output().unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.starts_with("error: ") && err.trim_end().lines().count() == 1,
            "{err}"
        );
        assert!(err.contains(needle), "{err}");
    };
    let other = tmp.path().join("notes");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("todo.txt"), "keep me").unwrap();
    fails(
        &["report", "--quick", "--out", other.to_str().unwrap()],
        "not a report folder",
    );
    assert!(other.join("todo.txt").is_file());
    let file = tmp.path().join("file.md");
    std::fs::write(&file, "x").unwrap();
    fails(
        &["report", "--quick", "--out", file.to_str().unwrap()],
        "is a file",
    );
    fails(
        &[
            "report",
            "--quick",
            "--only",
            "nonsense",
            "--out",
            tmp.path().join("r").to_str().unwrap(),
        ],
        "unknown section",
    );
}
