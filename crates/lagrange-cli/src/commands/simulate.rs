//! `lagrange simulate`: integrate from t = 0 to --t-end and write the trajectory and/or a plot.
//!
//! Rows are written as they are computed ([`simulate_streaming`]), so memory stays O(n) however
//! long the run; the plot keeps a decimated copy of at most [`PLOT_ROWS`] rows. Files are written
//! to temporary files and renamed into place only when every requested output has been
//! written, so a failure leaves no file behind.

use crate::app::RunFailure;
use crate::cli::SimulateArgs;
use crate::options::{Problem, SimulateOptions};
use crate::output::atomic::AtomicFile;
use crate::output::field_rows::FieldRows;
use crate::output::stream::{self, RowWriter};
use crate::output::{Table, plot, progress};
use crate::system::AnySystem;
use anyhow::{Context, Result, anyhow};
use lagrange::integrators::{IntegrationError, Method, RunStats, output_rows, simulate_streaming};
use lagrange::mechanics::{AssemblyPath, Evaluator, EvaluatorInfo, MassSolve};
use lagrange::systems::System;
use lagrange::{Lagrangian, jacobi_integral, partial_time};
use lagrange_learn::eom_choice::{ChosenEvaluator, EomChoice, RunPlan, choose_evaluator};
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::time::Instant;

/// Rows the plot keeps at most (it draws at most 5 000 points per series).
const PLOT_ROWS: usize = 10_000;

pub fn run(args: &SimulateArgs) -> Result<()> {
    let options = SimulateOptions::from_args(args)?;
    let Problem {
        system,
        coordinates,
        q,
        q_dot,
    } = &options.problem;

    // (A degenerate Lagrangian or a non-finite start is an input error caught by `from_args`.)
    let rows = output_rows(0.0, options.t_end, options.dt, options.every)
        .ok_or_else(|| anyhow!("--t-end / --dt / --every give no output rows"))?;

    let chosen = chosen_evaluator(system, &options, q, q_dot)?;
    let info = chosen.eom.info();

    let mut pending: Vec<AtomicFile> = Vec::new();
    let mut writer: Option<Box<dyn RowWriter>> = match &options.out {
        None => None,
        Some(target) => {
            let sink: Box<dyn Write> = match &target.path {
                None => Box::new(std::io::stdout().lock()),
                Some(path) => {
                    let file = AtomicFile::new(path)?;
                    let handle = file.file()?;
                    pending.push(file);
                    Box::new(handle)
                }
            };
            Some(
                stream::writer(
                    target.format,
                    coordinates,
                    rows,
                    system.has_lagrangian(),
                    sink,
                )
                .with_context(|| destination(&options))?,
            )
        }
    };

    // a field keeps a decimated space-time grid (kymograph / snapshots), not every coordinate
    let mut field_rows = match (&options.plot, system.field()) {
        (Some(_), Some(field)) => Some(FieldRows::new(field, rows)),
        _ => None,
    };
    let mut plot_rows = match (&options.plot, &field_rows) {
        (Some(_), None) => Some(PlotRows::new(coordinates)),
        _ => None,
    };
    let mut energy = EnergyWatch::new(rows);
    let mut failure: Option<anyhow::Error> = None;
    let started = Instant::now();
    let result = {
        let mut observer = progress::observer(options.quiet);
        let mut sink = |t: f64, q: &[f64], q_dot: &[f64]| -> ControlFlow<()> {
            let e = match energy.record(system, t, q, q_dot) {
                Ok(e) => e,
                Err(error) => {
                    failure = Some(error);
                    return ControlFlow::Break(());
                }
            };
            if let Some(w) = writer.as_mut()
                && let Err(error) = w.row(t, q, q_dot, e)
            {
                failure = Some(anyhow!(error).context(destination(&options)));
                return ControlFlow::Break(());
            }
            if let Some(p) = plot_rows.as_mut() {
                p.push(t, q, q_dot, e.unwrap_or(f64::NAN));
            }
            if let Some(f) = field_rows.as_mut() {
                f.push(t, q);
            }
            ControlFlow::Continue(())
        };
        simulate_streaming(
            system,
            chosen.eom,
            &options.method,
            0.0,
            q,
            q_dot,
            options.t_end,
            options.dt,
            options.every,
            &mut sink,
            observer.as_mut(),
        )
    };
    let run_seconds = started.elapsed().as_secs_f64();
    if let Some(error) = failure {
        return Err(error);
    }
    let run = result.map_err(|e| match e {
        // caught before any step: bad input, not a failed run
        IntegrationError::InvalidSettings { .. } => anyhow!(e),
        e => anyhow!(RunFailure(format!("integration failed: {e}"))),
    })?;

    let info = run.evaluator.unwrap_or(info);
    let stats = options.stats.then(|| {
        stats_json(
            &info,
            options.method,
            &run,
            chosen.compile_seconds,
            run_seconds,
            &chosen.note,
            chosen.threads,
        )
    });
    let json_stats = match &options.out {
        Some(target) if target.format == crate::output::TrajectoryFormat::Json => stats.as_ref(),
        _ => None,
    };
    if let Some(w) = writer {
        w.finish(json_stats)
            .with_context(|| destination(&options))?;
    }
    for file in &pending {
        file.sync().with_context(|| destination(&options))?;
    }

    if let (Some(target), Some(rows)) = (&options.plot, field_rows) {
        let file = AtomicFile::new(&target.path)?;
        let title = format!(
            "{} — {}, dt = {}",
            system.title(),
            options.integrator,
            options.dt
        );
        rows.render(&title, file.temp_path(), target.kind)
            .with_context(|| format!("cannot write plot '{}'", target.path.display()))?;
        pending.push(file);
    }
    if let (Some(target), Some(rows)) = (&options.plot, plot_rows.as_mut()) {
        rows.finish();
        let file = AtomicFile::new(&target.path)?;
        let table = rows.table();
        let labels = plot::Labels {
            title: &format!(
                "{} — {}, dt = {}",
                system.title(),
                options.integrator,
                options.dt
            ),
            conservative: !system.structure().dissipation && energy.conservative,
        };
        plot::render(&table, &labels, file.temp_path(), target.kind)
            .with_context(|| format!("cannot write plot '{}'", target.path.display()))?;
        pending.push(file);
    }
    for file in pending {
        file.commit()?;
    }
    if let Some(stats) = &stats {
        eprint!("{}", stats_text(stats));
    }
    if !options.quiet && std::io::stderr().is_terminal() {
        summary(&options, &run, &energy);
    }
    Ok(())
}

/// Where the trajectory goes, for error messages.
fn destination(options: &SimulateOptions) -> String {
    match options.out.as_ref().and_then(|o| o.path.as_ref()) {
        Some(path) => format!("cannot write '{}'", path.display()),
        None => "writing to stdout".to_string(),
    }
}

/// The evaluator `--eom` asks for (see [`choose_evaluator`]), with the option named in its
/// errors.
fn chosen_evaluator<'a>(
    system: &'a AnySystem,
    options: &SimulateOptions,
    q: &[f64],
    q_dot: &[f64],
) -> Result<ChosenEvaluator<'a>> {
    choose_evaluator(
        system,
        options.eom,
        &RunPlan {
            method: options.method,
            t_end: options.t_end,
            dt: options.dt,
            threads: options.threads,
        },
        q,
        q_dot,
    )
    .map_err(|e| {
        let name = match options.eom {
            EomChoice::Auto => "auto",
            EomChoice::Autodiff => "autodiff",
            EomChoice::Compiled => "compiled",
        };
        anyhow!("--eom {name}: {e}")
    })
}

/// The Jacobi integral at every row, its drift, and whether L depends on time explicitly; a
/// non-finite state or energy is a blow-up, reported with its time.
struct EnergyWatch {
    first: Option<f64>,
    worst_drift: f64,
    /// ∂L/∂t = 0 at every sampled row.
    conservative: bool,
    /// Test ∂L/∂t on every `sample`-th row (about 50 rows in all).
    sample: u64,
    seen: u64,
}

impl EnergyWatch {
    fn new(rows: u64) -> Self {
        Self {
            first: None,
            worst_drift: 0.0,
            conservative: true,
            sample: rows.div_ceil(50).max(1),
            seen: 0,
        }
    }

    fn record(
        &mut self,
        system: &AnySystem,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
    ) -> Result<Option<f64>> {
        let finite = q.iter().chain(q_dot).all(|v| v.is_finite());
        if !system.has_lagrangian() {
            // a baseline model: no energy to record, only the blow-up check
            if !finite {
                return Err(anyhow!(RunFailure(format!(
                    "the solution blew up: non-finite state at t = {t} (try a smaller --dt or --integrator dopri5)"
                ))));
            }
            self.conservative = false;
            return Ok(None);
        }
        let e = if finite {
            jacobi_integral(system, t, q, q_dot).ok()
        } else {
            None
        };
        let Some(e) = e.filter(|e| e.is_finite()) else {
            return Err(anyhow!(RunFailure(format!(
                "the solution blew up: non-finite state or energy at t = {t} (try a smaller --dt or --integrator dopri5)"
            ))));
        };
        let e0 = *self.first.get_or_insert(e);
        self.worst_drift = self.worst_drift.max((e - e0).abs());
        if self.conservative && self.seen.is_multiple_of(self.sample) {
            self.conservative = partial_time(system, t, q, q_dot).is_ok_and(|d| d == 0.0);
        }
        self.seen += 1;
        Ok(Some(e))
    }
}

/// A decimated copy of the rows for the plot: when full, every other row is dropped and the
/// stride doubles, so at most [`PLOT_ROWS`] rows are kept, evenly spaced, plus the last one.
struct PlotRows {
    coordinates: Vec<String>,
    t: Vec<f64>,
    q: Vec<Vec<f64>>,
    q_dot: Vec<Vec<f64>>,
    energy: Vec<f64>,
    stride: u64,
    seen: u64,
    last: Option<(f64, Vec<f64>, Vec<f64>, f64)>,
}

impl PlotRows {
    fn new(coordinates: &[String]) -> Self {
        Self {
            coordinates: coordinates.to_vec(),
            t: Vec::new(),
            q: Vec::new(),
            q_dot: Vec::new(),
            energy: Vec::new(),
            stride: 1,
            seen: 0,
            last: None,
        }
    }

    fn push(&mut self, t: f64, q: &[f64], q_dot: &[f64], e: f64) {
        let index = self.seen;
        self.seen += 1;
        if index.is_multiple_of(self.stride) && self.t.len() == PLOT_ROWS {
            // kept rows are 0, s, 2s, ...: keeping every other leaves 0, 2s, 4s, ...
            fn halve<T>(v: &mut Vec<T>) {
                let mut i = 0;
                v.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
            }
            halve(&mut self.t);
            halve(&mut self.q);
            halve(&mut self.q_dot);
            halve(&mut self.energy);
            self.stride *= 2;
        }
        if index.is_multiple_of(self.stride) {
            self.t.push(t);
            self.q.push(q.to_vec());
            self.q_dot.push(q_dot.to_vec());
            self.energy.push(e);
            self.last = None;
            return;
        }
        match &mut self.last {
            Some(last) => {
                last.0 = t;
                last.1.copy_from_slice(q);
                last.2.copy_from_slice(q_dot);
                last.3 = e;
            }
            None => self.last = Some((t, q.to_vec(), q_dot.to_vec(), e)),
        }
    }

    /// The kept rows, the last row of the run included.
    fn table(&self) -> Table<'_> {
        Table {
            coordinates: &self.coordinates,
            t: &self.t,
            q: &self.q,
            q_dot: &self.q_dot,
            energy: &self.energy,
        }
    }

    /// Appends the last row when decimation skipped it (call once, after the run).
    fn finish(&mut self) {
        if let Some((t, q, q_dot, e)) = self.last.take() {
            self.t.push(t);
            self.q.push(q);
            self.q_dot.push(q_dot);
            self.energy.push(e);
        }
    }
}

/// The `"stats"` object of `--stats`.
fn stats_json(
    info: &EvaluatorInfo,
    method: Method,
    run: &RunStats,
    compile_seconds: f64,
    run_seconds: f64,
    note: &str,
    threads: usize,
) -> serde_json::Value {
    let evaluator = match info.evaluator {
        Evaluator::Autodiff => "autodiff",
        Evaluator::Compiled => "compiled",
        Evaluator::Network => "network",
    };
    let (path, kernels, stencil_sites, stencil_seams) = match info.path {
        AssemblyPath::Dense => ("dense", 0, 0, 0),
        AssemblyPath::Structured => ("structured", 0, 0, 0),
        AssemblyPath::TermKernels {
            kernels,
            stencil_sites,
            stencil_seams,
        } => ("term kernels", kernels, stencil_sites, stencil_seams),
    };
    let (solve, bandwidth) = match info.solve {
        MassSolve::Diagonal => ("diagonal", 0),
        MassSolve::Banded { bandwidth } => ("banded", bandwidth),
        MassSolve::Dense => ("dense", 0),
    };
    json!({
        "evaluator": evaluator,
        "path": path,
        "kernels": kernels,
        "stencil_sites": stencil_sites,
        "stencil_seams": stencil_seams,
        "mass_matrix": if info.constant_mass_matrix { "constant" } else { "varying" },
        "solve": solve,
        "bandwidth": bandwidth,
        "integrator": method.name(),
        "steps": run.counts.steps,
        "rejected_steps": run.counts.rejected_steps,
        "evaluations": run.counts.evaluations,
        "rows": run.rows,
        "compile_seconds": compile_seconds,
        "run_seconds": run_seconds,
        "threads": threads,
        "choice": note,
    })
}

/// The `--stats` report for stderr.
fn stats_text(stats: &serde_json::Value) -> String {
    let s = |key: &str| stats[key].as_str().unwrap_or("").to_string();
    let u = |key: &str| stats[key].as_u64().unwrap_or(0);
    let f = |key: &str| stats[key].as_f64().unwrap_or(0.0);
    let path = match s("path").as_str() {
        "term kernels" if u("stencil_seams") > 0 => format!(
            "term kernels ({} kernels; a stencil over {} sites and {} seams)",
            u("kernels"),
            u("stencil_sites"),
            u("stencil_seams")
        ),
        "term kernels" if u("stencil_sites") > 0 => format!(
            "term kernels ({} kernels; a stencil over {} sites)",
            u("kernels"),
            u("stencil_sites")
        ),
        "term kernels" => format!("term kernels ({} kernels)", u("kernels")),
        other => other.to_string(),
    };
    let solve = match s("solve").as_str() {
        "banded" => format!("banded solve, bandwidth {}", u("bandwidth")),
        other => format!("{other} solve"),
    };
    let evaluations = if s("integrator") == "variational" {
        "Newton evaluations"
    } else {
        "q̈ evaluations"
    };
    let mut text = format!(
        "stats: evaluator {}, path {path}, mass matrix {} ({solve}), {} steps ({} rejected), {} {evaluations}, {} thread{}, compile {:.3} s, run {:.3} s",
        s("evaluator"),
        s("mass_matrix"),
        u("steps"),
        u("rejected_steps"),
        u("evaluations"),
        u("threads"),
        if u("threads") == 1 { "" } else { "s" },
        f("compile_seconds"),
        f("run_seconds"),
    );
    let note = s("choice");
    if !note.is_empty() {
        text.push_str(&format!(" [--eom auto: {note}]"));
    }
    text.push('\n');
    text
}

fn summary(options: &SimulateOptions, run: &RunStats, energy: &EnergyWatch) {
    let e0 = energy.first.unwrap_or(0.0);
    let drift = if e0 != 0.0 {
        format!("max |E-E0|/|E0| = {:.2e}", energy.worst_drift / e0.abs())
    } else {
        format!("max |E-E0| = {:.2e}", energy.worst_drift)
    };
    let mut written: Vec<String> = Vec::new();
    if let Some(out) = &options.out {
        written.push(
            out.path
                .as_ref()
                .map_or("stdout".into(), |p| p.display().to_string()),
        );
    }
    if let Some(plot) = &options.plot {
        written.push(plot.path.display().to_string());
    }
    eprintln!(
        "{} rows, t = 0..{} ({}), {drift} -> {}",
        run.rows,
        options.t_end,
        options.integrator,
        written.join(", ")
    );
}
