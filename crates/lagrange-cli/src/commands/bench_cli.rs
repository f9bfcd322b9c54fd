//! `lagrange bench --cli`: `lagrange simulate` timed as a user runs it (a child process on a
//! built-in name or a TOML file), against the library running the same integration in this
//! process, in the same run.
//!
//! Per case, RK4 with 10⁴ steps of dt = 10⁻³ and `--every 10000` (two rows: output costs
//! nothing). The CLI's cost per q̈ is `(T_run − T_start) / evaluations`, where `T_start` is the
//! same command with `--t-end 0` (process start, loading, checks) and `evaluations` comes from
//! its own `--stats`. The library's cost per q̈ is `simulate_streaming` with the evaluator the
//! CLI chose (built in the timed region too, as the CLI builds it), on the system taken
//! directly from the core (`systems::by_name`, `TextSystem`), not through the CLI's wrapper —
//! so a declaration the wrapper drops shows up as a ratio above 1. Every timing is the minimum
//! of `repeats` interleaved runs (the machine is shared).

use crate::output::atomic::AtomicFile;
use anyhow::{Context, Result, anyhow, bail};
use lagrange::Lagrangian;
use lagrange::expr::TextSystem;
use lagrange::integrators::{Method, NoObserver, simulate_streaming};
use lagrange::mechanics::{Accelerations, EquationsOfMotion};
use lagrange::systems::System;
use lagrange_jit::CompiledEquations;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const STEPS: usize = 10_000;
const DT: f64 = 1e-3;

/// One benchmark case: a label, the SYSTEM argument and its `--param`s.
struct Case {
    label: &'static str,
    system: String,
    params: Vec<(&'static str, f64)>,
}

/// What one case measured.
struct Row {
    label: &'static str,
    how: String,
    evaluations: u64,
    cli_start: f64,
    cli_run: f64,
    library: f64,
    latency: f64,
}

impl Row {
    fn cli_per_eval(&self) -> f64 {
        (self.cli_run - self.cli_start).max(0.0) / self.evaluations as f64
    }
    fn library_per_eval(&self) -> f64 {
        self.library / self.evaluations as f64
    }
}

/// A text chain of `n` unit masses and springs with fixed ends, as users write it.
fn text_chain(dir: &Path, n: usize) -> Result<String> {
    let coordinates: Vec<String> = (1..=n).map(|i| format!("\"x{i}\"")).collect();
    let kinetic: Vec<String> = (1..=n).map(|i| format!("x{i}_dot^2")).collect();
    let mut springs: Vec<String> = vec!["x1^2".into()];
    springs.extend((1..n).map(|i| format!("(x{} - x{i})^2", i + 1)));
    springs.push(format!("x{n}^2"));
    let toml = format!(
        "name = \"text chain {n}\"\ncoordinates = [{}]\nlagrangian = \"0.5*({}) - 0.5*({})\"\n[initial]\nx1 = 0.1\n",
        coordinates.join(", "),
        kinetic.join(" + "),
        springs.join(" + "),
    );
    let path = dir.join(format!("text-chain-{n}.toml"));
    std::fs::write(&path, toml)?;
    Ok(path.to_string_lossy().into_owned())
}

/// Runs the binary with `args`, returns (seconds, stdout); an error on failure.
fn timed(args: &[String]) -> Result<(f64, String)> {
    let exe = std::env::current_exe().context("cannot find the lagrange binary")?;
    let start = Instant::now();
    let out = Command::new(exe)
        .args(args)
        .output()
        .context("cannot run lagrange")?;
    let seconds = start.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "lagrange {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok((seconds, String::from_utf8_lossy(&out.stdout).into_owned()))
}

fn simulate_args(case: &Case, t_end: f64, out: &Path) -> Vec<String> {
    let mut args: Vec<String> = [
        "simulate",
        &case.system,
        "--integrator",
        "rk4",
        "--dt",
        &DT.to_string(),
        "--t-end",
        &t_end.to_string(),
        "--every",
        &STEPS.to_string(),
        "-q",
        "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(out.to_string_lossy().into_owned());
    for (name, value) in &case.params {
        args.push("--param".into());
        args.push(format!("{name}={value}"));
    }
    args
}

/// The system as the library user has it: the core's registry or a `TextSystem`.
enum Direct {
    Builtin(lagrange::systems::BuiltinSystem),
    Text(Box<TextSystem>),
}

fn direct(case: &Case) -> Result<Direct> {
    if case.system.ends_with(".toml") {
        return Ok(Direct::Text(Box::new(TextSystem::from_path(Path::new(
            &case.system,
        ))?)));
    }
    let mut system =
        lagrange::systems::by_name(&case.system).ok_or_else(|| anyhow!("no {}", case.system))?;
    for (name, value) in &case.params {
        system.set_parameter(name, *value)?;
    }
    Ok(Direct::Builtin(system))
}

/// Seconds of the library's RK4 run of `STEPS` steps with the chosen evaluator (built inside
/// the timed region), and the evaluator's bare latency per call at the initial state.
fn library<L: Lagrangian + System>(system: &L, compiled: bool) -> Result<(f64, f64)> {
    let (q0, v0) = system.initial_state();
    fn evaluator<L: Lagrangian>(system: &L, compiled: bool) -> Result<Box<dyn Accelerations + '_>> {
        Ok(if compiled {
            Box::new(CompiledEquations::new(system)?)
        } else {
            Box::new(EquationsOfMotion::new(system))
        })
    }
    let start = Instant::now();
    let eom = evaluator(system, compiled)?;
    let mut sink = |_: f64, _: &[f64], _: &[f64]| ControlFlow::Continue(());
    simulate_streaming(
        system,
        eom,
        &Method::Rk4,
        0.0,
        &q0,
        &v0,
        STEPS as f64 * DT,
        DT,
        STEPS,
        &mut sink,
        &mut NoObserver,
    )?;
    let run = start.elapsed().as_secs_f64();
    let mut eom = evaluator(system, compiled)?;
    let mut out = vec![0.0; q0.len()];
    eom.accelerations_into(0.0, &q0, &v0, &mut out)?;
    let calls = 2_000;
    let start = Instant::now();
    for _ in 0..calls {
        eom.accelerations_into(0.0, &q0, &v0, &mut out)?;
    }
    Ok((run, start.elapsed().as_secs_f64() / calls as f64))
}

fn measure(case: &Case, dir: &Path, repeats: usize) -> Result<Row> {
    let out = dir.join(format!("{}.csv", case.label));
    let run_args = {
        let mut a = simulate_args(case, STEPS as f64 * DT, &out);
        a.extend(["--stats".into(), "--format".into(), "json".into()]);
        a
    };
    let start_args = simulate_args(case, 0.0, &out);
    let system = direct(case)?;
    let (mut cli_start, mut cli_run, mut lib, mut latency) =
        (f64::INFINITY, f64::INFINITY, f64::INFINITY, f64::INFINITY);
    let mut stats = serde_json::Value::Null;
    for _ in 0..repeats {
        cli_start = cli_start.min(timed(&start_args)?.0);
        let (seconds, _) = timed(&run_args)?;
        cli_run = cli_run.min(seconds);
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&out)?)?;
        stats = json["stats"].clone();
        let compiled = stats["evaluator"] == "compiled";
        let (run, bare) = match &system {
            Direct::Builtin(s) => library(s, compiled)?,
            Direct::Text(s) => library(s.as_ref(), compiled)?,
        };
        lib = lib.min(run);
        latency = latency.min(bare);
    }
    let kernels = match stats["path"].as_str() {
        Some("term kernels") => format!(" ({})", stats["kernels"]),
        _ => String::new(),
    };
    Ok(Row {
        label: case.label,
        how: format!(
            "{}, {}{kernels}",
            stats["evaluator"].as_str().unwrap_or("?"),
            stats["path"].as_str().unwrap_or("?")
        ),
        evaluations: stats["evaluations"].as_u64().unwrap_or(1).max(1),
        cli_start,
        cli_run,
        library: lib,
        latency,
    })
}

/// Wall seconds of `simulate` on the text chain of `n`, 200 RK4 steps, as a user runs it.
fn text_chain_seconds(dir: &Path, n: usize, repeats: usize) -> Result<f64> {
    let system = text_chain(dir, n)?;
    let out = dir.join(format!("text-{n}.csv"));
    let args: Vec<String> = [
        "simulate",
        &system,
        "--integrator",
        "rk4",
        "--t-end",
        "0.2",
        "--dt",
        "0.001",
        "-q",
        "--out",
        &out.to_string_lossy(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        best = best.min(timed(&args)?.0);
    }
    Ok(best)
}

pub fn run(repeats: usize, out: Option<&Path>, quiet: bool) -> Result<()> {
    if repeats == 0 {
        bail!("--repeats must be at least 1");
    }
    let atomic = out.map(AtomicFile::new).transpose()?;
    let dir = tempfile::tempdir()?;
    let text1024 = text_chain(dir.path(), 1024)?;
    let case = |label, system: &str, params: Vec<(&'static str, f64)>| Case {
        label,
        system: system.to_string(),
        params,
    };
    let cases = [
        case("ho1", "harmonic-oscillator", vec![]),
        case("dpend", "double-pendulum", vec![]),
        case("chain64", "chain", vec![("n", 64.0)]),
        case("chain1024", "chain", vec![("n", 1024.0)]),
        case("chain1024-text", &text1024, vec![]),
        case("nbody64", "n-body", vec![("n", 64.0)]),
    ];
    let mut rows = Vec::new();
    for case in &cases {
        let row = measure(case, dir.path(), repeats)?;
        if !quiet {
            eprintln!(
                "{}: CLI {:.3} µs/q̈, library {:.3} µs/q̈",
                row.label,
                1e6 * row.cli_per_eval(),
                1e6 * row.library_per_eval()
            );
        }
        rows.push(row);
    }
    let text64 = text_chain_seconds(dir.path(), 64, repeats)?;
    let text1024 = text_chain_seconds(dir.path(), 1024, repeats)?;

    let mut table = String::new();
    table.push_str(&format!(
        "`lagrange simulate` (child process, RK4, {STEPS} steps of dt = {DT}, `--every {STEPS}`) vs the library in the same run; minimum of {repeats} interleaved runs; load average {}.\n\n",
        load_average()
    ));
    table.push_str("| system | CLI evaluator, path | q̈ evaluations | CLI start (s) | CLI run (s) | CLI µs/q̈ | library µs/q̈ | **CLI ÷ library** | bare evaluator µs/q̈ |\n|---|---|---|---|---|---|---|---|---|\n");
    for r in &rows {
        table.push_str(&format!(
            "| {} | {} | {} | {:.3} | {:.3} | {:.4} | {:.4} | **{:.2}** | {:.4} |\n",
            r.label,
            r.how,
            r.evaluations,
            r.cli_start,
            r.cli_run,
            1e6 * r.cli_per_eval(),
            1e6 * r.library_per_eval(),
            r.cli_per_eval() / r.library_per_eval(),
            1e6 * r.latency,
        ));
    }
    table.push_str(&format!(
        "\nText chain, 200 RK4 steps, whole process: 64 coordinates {text64:.3} s, 1024 coordinates {text1024:.3} s (ratio {:.1}; linear would be 16).\n",
        text1024 / text64
    ));
    print!("{table}");
    if let Some(atomic) = atomic {
        atomic.file()?.write_all(table.as_bytes())?;
        atomic.commit()?;
    }
    Ok(())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}
