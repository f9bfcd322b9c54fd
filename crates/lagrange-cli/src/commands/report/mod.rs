//! `lagrange report --out DIR [--quick]`: the findings report. Every question the project set
//! out to answer gets a section: the answer in a sentence or two, then the evidence, all from
//! runs this command makes (no number is typed by hand). It writes `DIR/README.md`, its
//! figures, and a short slide deck `DIR/slides.md` (Marp) from the same results.
//!
//! Each section is a file of this folder with `pub fn run(&mut Context) -> Result<Section>`.
//! `--quick` runs every section at toy size (CI runs it: the pipeline and the sections, not the
//! numbers); the full run is what `docs/findings` holds. The output is staged in a sibling
//! folder and swapped in at the end, so a failed run leaves the previous report intact.

mod architecture;
mod autodiff;
mod conservation;
mod exact;
mod fields;
mod landscape;
mod noise;
mod pending;
mod quantum;
mod speed;
mod symmetry;

use crate::output::PlotKind;
use anyhow::{Context as _, Result, bail};
use clap::Args;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Folder of the report (created or replaced): README.md, slides.md and the figures.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Every section at toy size (seconds to a minute in all): checks the pipeline, not the
    /// numbers.
    #[arg(long)]
    pub quick: bool,

    /// Only these sections (comma-separated ids: autodiff, exact, conservation, symmetries,
    /// noise, landscape, architecture, extrapolation, speed, fields, quantum, future); the
    /// others say they were not run.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub only: Vec<String>,

    /// Python of the benchmark peers (numpy, JAX, ...; default: bench/peers/.venv/bin/python
    /// when it exists, none otherwise; never with --quick).
    #[arg(long, value_name = "PYTHON")]
    pub peers: Option<PathBuf>,

    /// No progress lines on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// What every section gets: where to write, how big to run, and the command line that
/// regenerates the report (figure captions name it).
pub struct Context {
    /// The staging folder (becomes `--out`).
    pub dir: PathBuf,
    /// Toy sizes.
    pub quick: bool,
    /// Python of the peers, when they run.
    pub peers: Option<PathBuf>,
    /// `lagrange report --out DIR [--quick]`, as typed.
    pub command: String,
    /// Results other sections reuse (the benchmark table feeds the speed section).
    pub shared: Shared,
    quiet: bool,
}

/// Results one section makes and a later one reads.
#[derive(Default)]
pub struct Shared {
    /// Lines of the speed summary, from the sections that timed something.
    pub timings: Vec<String>,
    /// Future directions that a section's measurements suggest (section 12 lists them).
    pub directions: Vec<String>,
}

impl Context {
    /// A progress line on stderr.
    pub fn log(&self, line: &str) {
        if !self.quiet {
            eprintln!("report: {line}");
        }
    }

    /// Size `full` normally, `quick` with `--quick`.
    pub fn size<T>(&self, full: T, quick: T) -> T {
        if self.quick { quick } else { full }
    }

    /// The path of figure `name` (a PNG in the report folder) and its markdown: the image and
    /// a caption that says what it shows and which command made it (`made_by`: the user-level
    /// command when there is one, else the report's own).
    pub fn figure(&self, name: &str, caption: &str, made_by: Option<&str>) -> (PathBuf, String) {
        let path = self.dir.join(name);
        let command = made_by.unwrap_or(&self.command);
        let markdown = format!("![{caption}]({name})\n\n*{caption} Made by `{command}`.*\n");
        (path, markdown)
    }

    /// The kind of every figure.
    pub fn plot_kind(&self) -> PlotKind {
        PlotKind::Png
    }
}

/// One section of the report.
pub struct Section {
    /// Anchor id (also the `--only` name).
    pub id: &'static str,
    /// The question, as the heading.
    pub title: &'static str,
    /// The answer in one line (the summary table) .
    pub summary: String,
    /// The answer in a sentence or two, first in the section.
    pub answer: String,
    /// The evidence: markdown (tables, figures, method).
    pub body: String,
    /// A figure for the slide (file name in the report folder).
    pub slide_figure: Option<String>,
}

impl Section {
    /// A section whose question is not measured yet, saying what it waits for.
    pub fn not_measured(id: &'static str, title: &'static str, why: &str) -> Self {
        Section {
            id,
            title,
            summary: format!("not yet measured: {why}"),
            answer: format!("**Not yet measured.** {why}"),
            body: String::new(),
            slide_figure: None,
        }
    }
}

type SectionFn = fn(&mut Context) -> Result<Section>;

/// The sections in report order: id, heading, what computes it.
const SECTIONS: [(&str, &str, SectionFn); 12] = [
    ("autodiff", autodiff::TITLE, autodiff::run),
    ("exact", exact::TITLE, exact::run),
    ("conservation", conservation::TITLE, conservation::run),
    ("symmetries", symmetry::TITLE, symmetry::run),
    ("noise", noise::TITLE, noise::run),
    ("landscape", landscape::TITLE, landscape::run),
    ("architecture", architecture::TITLE, architecture::run),
    (
        "extrapolation",
        architecture::EXTRAPOLATION_TITLE,
        architecture::extrapolation,
    ),
    ("speed", speed::TITLE, speed::run),
    ("fields", fields::TITLE, fields::run),
    ("quantum", quantum::TITLE, quantum::run),
    ("future", pending::FUTURE_TITLE, pending::future),
];

pub fn run(args: &ReportArgs) -> Result<()> {
    for id in &args.only {
        if !SECTIONS.iter().any(|(s, _, _)| s == id) {
            let ids: Vec<&str> = SECTIONS.iter().map(|(s, _, _)| *s).collect();
            bail!(
                "--only: unknown section '{id}' (sections: {})",
                ids.join(", ")
            );
        }
    }
    let out = &args.out;
    if out.is_file() {
        bail!("--out '{}' is a file, not a folder", out.display());
    }
    if out.is_dir() && !is_report_dir(out) {
        bail!(
            "--out '{}' exists and is not a report folder (no README.md starting with `# Findings`): refusing to replace it",
            out.display()
        );
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        bail!("--out: the folder '{}' does not exist", parent.display());
    }
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "findings".into());
    let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir(&staging)
        .with_context(|| format!("cannot create '{}'", staging.display()))?;
    let result = build(args, &staging);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
        return result;
    }
    // swap the finished report in
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    if out.exists() {
        std::fs::rename(out, &old)
            .with_context(|| format!("cannot move the old '{}' aside", out.display()))?;
    }
    std::fs::rename(&staging, out)
        .with_context(|| format!("cannot move the report to '{}'", out.display()))?;
    if old.exists() {
        let _ = std::fs::remove_dir_all(&old);
    }
    if !args.quiet {
        eprintln!("report: wrote {}", out.join("README.md").display());
    }
    Ok(())
}

fn is_report_dir(dir: &Path) -> bool {
    let readme = dir.join("README.md");
    match std::fs::read_to_string(&readme) {
        Ok(text) => text.starts_with("# Findings"),
        // an empty folder may be used
        Err(_) => std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none()),
    }
}

/// Runs the sections into `dir` and writes README.md and slides.md.
fn build(args: &ReportArgs, dir: &Path) -> Result<()> {
    let start = Instant::now();
    let mut command = format!("lagrange report --out {}", args.out.display());
    if args.quick {
        command.push_str(" --quick");
    }
    let peers = match (&args.peers, args.quick) {
        (_, true) => None,
        (Some(p), false) => Some(p.clone()),
        (None, false) => {
            let default = PathBuf::from("bench/peers/.venv/bin/python");
            default.exists().then_some(default)
        }
    };
    let mut ctx = Context {
        dir: dir.to_path_buf(),
        quick: args.quick,
        peers,
        command,
        shared: Shared::default(),
        quiet: args.quiet,
    };
    let machine = machine();
    let started = date();
    let mut sections = Vec::new();
    for (id, title, section) in SECTIONS {
        if !args.only.is_empty() && !args.only.iter().any(|o| o == id) {
            sections.push(Section::not_measured(
                id,
                title,
                "This section was not run (`--only`).",
            ));
            continue;
        }
        ctx.log(&format!("{id}: {title}"));
        let t = Instant::now();
        let mut s = section(&mut ctx).with_context(|| format!("report section '{id}'"))?;
        s.id = id;
        s.title = title;
        ctx.log(&format!("{id}: done in {:.1} s", t.elapsed().as_secs_f64()));
        sections.push(s);
    }
    let seconds = start.elapsed().as_secs_f64();

    let mut md = String::new();
    writeln!(md, "# Findings\n")?;
    writeln!(
        md,
        "What `lagrange` measured about the questions it set out to answer. Every number and \
         figure below comes from runs made by `{}`{}; nothing is typed by hand.\n",
        ctx.command,
        if args.quick {
            " at **toy size** (`--quick`: it checks the pipeline; the numbers are not the findings)"
        } else {
            ""
        }
    )?;
    writeln!(
        md,
        "- **Made:** {started}, in {seconds:.0} s.\n- **Machine:** {machine}.\n- **Version:** \
         lagrange {}.\n",
        env!("CARGO_PKG_VERSION")
    )?;
    writeln!(md, "## Summary\n")?;
    writeln!(md, "| question | answer |\n|---|---|")?;
    for s in &sections {
        writeln!(
            md,
            "| [{}](#{}) | {} |",
            s.title,
            anchor(s.title),
            s.summary.replace('|', "\\|")
        )?;
    }
    writeln!(md)?;
    for (k, s) in sections.iter().enumerate() {
        writeln!(md, "## {}\n", s.title)?;
        let _ = k;
        writeln!(md, "{}\n", s.answer)?;
        if !s.body.is_empty() {
            writeln!(md, "{}", s.body)?;
        }
    }
    std::fs::write(dir.join("README.md"), md)?;

    let mut slides = String::from("---\nmarp: true\npaginate: true\n---\n\n");
    writeln!(
        slides,
        "# lagrange: findings\n\nExact equations of motion by autodiff, learning Lagrangians \
         from data.\n\n{started} · {machine}\n"
    )?;
    for s in &sections {
        writeln!(slides, "---\n\n## {}\n\n{}\n", s.title, s.summary)?;
        if let Some(f) = &s.slide_figure {
            writeln!(slides, "![h:380]({f})\n")?;
        }
    }
    writeln!(
        slides,
        "---\n\n## More\n\nThe whole report: `README.md` next to these slides, made by `{}`.\n",
        ctx.command
    )?;
    std::fs::write(dir.join("slides.md"), slides)?;
    Ok(())
}

/// GitHub's anchor of a heading: lower case, spaces to `-`, punctuation dropped.
fn anchor(title: &str) -> String {
    title
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// CPU model, cores and memory, from `/proc` (Linux), else what Rust knows.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU".to_string(), |(_, v)| v.trim().to_string());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(String::new(), |kb| {
            format!(", {:.0} GiB memory", kb / 1048576.0)
        });
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .map_or(String::new(), |l| {
            format!(", load average {l} at the start")
        });
    format!(
        "{model}, {cores} cores available{memory}{load}; {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// The current UTC date and time, `YYYY-MM-DD HH:MM UTC` (civil date from the Unix time).
fn date() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let (h, m) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    // Howard Hinnant's days-to-civil algorithm
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{d:02} {h:02}:{m:02} UTC")
}

/// A markdown table from a header and rows.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut md = format!(
        "| {} |\n|{}\n",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for row in rows {
        md.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    md
}

/// A number in 3 significant digits (`1.23e-9`, `0.0456`, `12.3`).
pub fn sci(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e4).contains(&a) {
        format!("{x:.2e}")
    } else {
        let s = format!("{x:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The slope of the least-squares line through `(ln x, ln y)` (an order of convergence).
pub fn log_slope(points: &[(f64, f64)]) -> f64 {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .filter(|(x, y)| *x > 0.0 && *y > 0.0 && y.is_finite())
        .map(|(x, y)| (x.ln(), y.ln()))
        .collect();
    let k = pts.len() as f64;
    if pts.len() < 2 {
        return f64::NAN;
    }
    let (mx, my) = (
        pts.iter().map(|p| p.0).sum::<f64>() / k,
        pts.iter().map(|p| p.1).sum::<f64>() / k,
    );
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    sxy / sxx
}
