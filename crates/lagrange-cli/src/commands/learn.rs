//! `lagrange learn`: fit the unknown parameters of a model Lagrangian to a dataset and write the
//! result as JSON (parameters, loss, Gauss–Newton uncertainties, history, flat directions).
//!
//! MODEL is a TOML system file whose `[parameters]` are the initial guesses, or a built-in family
//! over the data's coordinates: `poly-separable[:K[:V]]` (alias `poly`), `poly-product[:K[:V]]`,
//! `network[:H[:f0[:f1]]]`, `network-nokinetic[:H[:f0[:f1]]]` (see `lagrange_learn::model`).
//! `--fit a,b` chooses the fitted parameters (default: all not fixed), `--fix m=1` holds others.
//! `--starts N` runs seeded multi-start and lists the distinct minima; `--noise LEVEL` applies the
//! errors-in-variables (SIMEX) bias correction for noise σ = LEVEL × RMS on the data.
//! `--starts S --shard K/N` runs the K-th part of the starts and writes a shard file (see
//! [`crate::shard`]).

use crate::limits;
use crate::options::assignments;
use crate::output::atomic::{AtomicFile, check_target};
use crate::output::plot_learn::{StartsSummary, capped_note};
use crate::output::style::figure_name;
use crate::output::{PlotKind, plot_learn};
use crate::shard::{self, ShardArgs};
use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lagrange_learn::model::{AnyModel, Model, Restricted};
use lagrange_learn::multistart::{MultiStartOptions, StartsRun, combine_starts, run_starts};
use lagrange_learn::noise::{NoiseModel, SimexOptions, learn_bias_corrected};
use lagrange_learn::optim::{AdamOptions, LmOptions, Optimizer, Schedule};
use lagrange_learn::positions::{
    PositionTrajectory, ShootingOptions, TrajectoryFit, differentiate, learn_by_shooting,
};
use lagrange_learn::{
    Dataset, Engine, EngineReport, LearnOptions, LearnResult, learn_with_progress,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct LearnArgs {
    /// Data file (CSV with columns <q>...,<q>_dot...,<q>_ddot...).
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,

    /// Measured positions only, instead of --data: CSV with columns t,<q>... (velocities,
    /// accelerations and an energy column, as `simulate` writes them, are ignored).
    #[arg(long, value_name = "FILE")]
    pub trajectory: Option<PathBuf>,

    /// How --trajectory is fitted: `smoothing` (q̇ and q̈ from local polynomial fits, then the
    /// usual fit; default) or `shooting` (the model integrated over segments, matched to the
    /// positions).
    #[arg(long, value_name = "METHOD")]
    pub from_positions: Option<String>,

    /// Half-width h of the smoothing window, 2h + 1 samples (default: chosen by
    /// cross-validation).
    #[arg(long, value_name = "H")]
    pub window: Option<usize>,

    /// Shooting: samples per segment of the first fit (default 20; later fits use longer
    /// segments while they still follow the data).
    #[arg(long, value_name = "K")]
    pub segment: Option<usize>,

    /// Shooting: RK4 steps between consecutive samples (default 4).
    #[arg(long, value_name = "S")]
    pub substeps: Option<usize>,

    /// Model: a TOML system file (its [parameters] are the initial guesses) or a family name:
    /// poly-separable[:K[:V]], poly-product[:K[:V]], network[:H[:f0[:f1]]].
    #[arg(long, value_name = "MODEL")]
    pub model: String,

    /// Parameters to fit, comma-separated (default: every parameter not fixed).
    #[arg(long, value_name = "A,B,...")]
    pub fit: Option<String>,

    /// Hold a parameter fixed, e.g. `m=1` (repeatable, or comma-separated).
    #[arg(long, value_name = "NAME=VALUE", allow_hyphen_values = true)]
    pub fix: Vec<String>,

    /// Override an initial guess, e.g. `k=2` (repeatable).
    #[arg(long, value_name = "NAME=VALUE", allow_hyphen_values = true)]
    pub init: Vec<String>,

    /// Optimizer: `lm` (Levenberg–Marquardt, default) or `adam`.
    #[arg(long, value_name = "NAME", default_value = "lm")]
    pub optimizer: String,

    /// Maximum iterations (default: 100 for lm, 2000 for adam).
    #[arg(long, value_name = "N")]
    pub iterations: Option<usize>,

    /// Adam learning rate (default 0.01).
    #[arg(long = "lr", value_name = "RATE")]
    pub learning_rate: Option<f64>,

    /// Adam schedule: constant, exponential[:GAMMA], cosine[:MIN_LR].
    #[arg(long, value_name = "SCHEDULE")]
    pub schedule: Option<String>,

    /// Convergence tolerance (relative loss decrease).
    #[arg(long, value_name = "TOL")]
    pub tolerance: Option<f64>,

    /// Multi-start: number of starts (start 0 is the model's own guess).
    #[arg(long, value_name = "N")]
    pub starts: Option<usize>,

    /// Seed of multi-start guesses, network initial weights and SIMEX noise.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,

    /// Bias-aware fit: the data carry noise σ = LEVEL × RMS on every column (SIMEX correction).
    #[arg(long, value_name = "LEVEL")]
    pub noise: Option<f64>,

    /// Result file (JSON; `-` for stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,

    /// Loss-curve plot (.png or .svg); with --starts, the distinct minima and their losses.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,

    #[command(flatten)]
    pub engine: EngineArgs,

    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    // with --starts only: the starts are the units of work
    #[command(flatten)]
    pub shard: ShardArgs,
}

/// What determines a multi-start fit, kept in its shard files (the shards of one run agree on
/// all of it), with what `merge` needs to write the output.
#[derive(Debug, Serialize, Deserialize)]
struct MultiStartRun {
    /// Fingerprint of the --data file, or of the --trajectory file.
    data: Option<String>,
    trajectory: Option<String>,
    from_positions: Option<String>,
    window: Option<usize>,
    model: String,
    /// Fingerprint of the model file (absent for a model family).
    model_file: Option<String>,
    fit: Option<String>,
    fix: Vec<String>,
    init: Vec<String>,
    optimizer: Optimizer,
    engine: String,
    starts: usize,
    seed: u64,
}

impl MultiStartRun {
    fn multistart(&self) -> MultiStartOptions {
        MultiStartOptions {
            starts: self.starts,
            seed: self.seed,
            ..MultiStartOptions::default()
        }
    }
}

/// `lagrange merge` of `learn --starts` shards: the result of all starts (the best start's fit,
/// the distinct minima), and the minima plot.
pub fn merge(
    run: Value,
    results: Vec<Value>,
    out: &Path,
    plot: &Option<(PathBuf, PlotKind)>,
    quiet: bool,
) -> Result<()> {
    let run: MultiStartRun = shard::decode(run, "learn settings")?;
    let pieces = results
        .into_iter()
        .map(|r| shard::decode::<StartsRun>(r, "learn results"))
        .collect::<Result<Vec<_>>>()?;
    let result = combine_starts(&run.multistart(), pieces)?;
    write_outputs(&result, &run.model, Some(run.starts), out, plot, quiet)
}

/// `--engine` and `--stats` of the commands that evaluate the loss (learn, landscape,
/// noise-sweep).
#[derive(Debug, Args)]
pub struct EngineArgs {
    /// How the loss and its parameter derivatives are evaluated: `auto` (default: compiled when
    /// the model can be traced, else nested dual numbers, with a note that says why),
    /// `autodiff` (nested dual numbers through the engine) or `compiled` (the model's equations
    /// of motion compiled once with its parameters as inputs, parameter derivatives on the
    /// graph; an error for a model that branches on values).
    #[arg(
        long,
        value_name = "ENGINE",
        default_value = "auto",
        value_parser = ["auto", "autodiff", "compiled"]
    )]
    pub engine: String,

    /// Report on stderr which engine evaluated the loss (and how long compiling took).
    #[arg(long)]
    pub stats: bool,
}

impl EngineArgs {
    /// The engine asked for.
    pub fn engine(&self) -> Engine {
        Engine::parse(&self.engine).expect("clap accepts only the three names")
    }

    /// `stats: engine …` with `--stats`; otherwise, unless `quiet`, a note when `auto` fell
    /// back to the dual numbers.
    pub fn report(&self, report: &EngineReport, quiet: bool) {
        if self.stats {
            eprintln!("stats: {}", report.summary());
        } else if report.reason.is_some() && !quiet {
            eprintln!("note: {}", report.summary());
        }
    }
}

/// Reads and validates the data file.
pub fn read_data(path: &Path) -> Result<Dataset> {
    Dataset::read_csv(path).with_context(|| format!("data file '{}'", path.display()))
}

/// How `--trajectory` is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PositionsMethod {
    Smoothing,
    Shooting,
}

/// A `--trajectory` input: the positions, their smoothing, and how to fit them.
struct Positions {
    trajectory: PositionTrajectory,
    smoothing: TrajectoryFit,
    method: PositionsMethod,
    shooting: ShootingOptions,
}

/// The samples to fit: `--data`, or `--trajectory` differentiated by smoothing (with the
/// positions kept for shooting). Checks the options that belong to one or the other.
fn read_input(args: &LearnArgs) -> Result<(Dataset, Option<Positions>)> {
    let trajectory_only = [
        ("--from-positions", args.from_positions.is_some()),
        ("--window", args.window.is_some()),
        ("--segment", args.segment.is_some()),
        ("--substeps", args.substeps.is_some()),
    ];
    let path = match (&args.trajectory, &args.data) {
        (Some(_), Some(_)) => bail!("give either --data or --trajectory, not both"),
        (None, None) => bail!(
            "no data: give --data FILE (columns <q>,<q>_dot,<q>_ddot) or --trajectory FILE (columns t,<q>)"
        ),
        (None, Some(data)) => {
            if let Some((flag, _)) = trajectory_only.iter().find(|(_, given)| *given) {
                bail!("{flag} applies to --trajectory only");
            }
            return Ok((read_data(data)?, None));
        }
        (Some(path), None) => path,
    };
    let method = match args.from_positions.as_deref().map(str::trim) {
        None | Some("smoothing") => PositionsMethod::Smoothing,
        Some("shooting") => PositionsMethod::Shooting,
        Some(other) => {
            bail!("unknown --from-positions '{other}' (expected smoothing or shooting)")
        }
    };
    if method == PositionsMethod::Smoothing
        && let Some((flag, _)) = trajectory_only[2..].iter().find(|(_, given)| *given)
    {
        bail!("{flag} applies to --from-positions shooting only");
    }
    if method == PositionsMethod::Shooting {
        if args.starts.is_some() {
            bail!("--starts cannot be combined with --from-positions shooting");
        }
        if args.noise.is_some() {
            bail!(
                "--noise cannot be combined with --from-positions shooting (shooting fits the noisy positions themselves)"
            );
        }
    }
    let mut shooting = ShootingOptions {
        half_window: args.window,
        ..ShootingOptions::default()
    };
    if let Some(k) = args.segment {
        if k < 2 {
            bail!("--segment must be at least 2 samples, got {k}");
        }
        shooting.segment = k;
    }
    if let Some(s) = args.substeps {
        if !(1..=1000).contains(&s) {
            bail!("--substeps must be between 1 and 1000, got {s}");
        }
        shooting.substeps = s;
    }
    let trajectory = PositionTrajectory::read_csv(path)
        .with_context(|| format!("trajectory file '{}'", path.display()))?;
    if let Some(h) = args.window
        && (h < 2 || 2 * h + 1 > trajectory.len())
    {
        bail!(
            "--window must be at least 2 and 2·H + 1 at most the {} samples of the trajectory, got {h}",
            trajectory.len()
        );
    }
    let (data, smoothing) = differentiate(&trajectory, args.window)
        .with_context(|| format!("trajectory file '{}'", path.display()))?;
    Ok((
        data,
        Some(Positions {
            trajectory,
            smoothing,
            method,
            shooting,
        }),
    ))
}

/// Loads MODEL over the data's coordinates, with `--fit`, `--fix` and `--init` applied.
pub fn load_model(
    spec: &str,
    data: &Dataset,
    fit: Option<&str>,
    fix: &[String],
    init: &[String],
    seed: u64,
) -> Result<Restricted<AnyModel>> {
    if Path::new(spec)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        bail!(
            "model '{spec}' is a trained neural model: `learn` fits the parameters of a TOML system or a family (train neural models with `lagrange train`)"
        );
    }
    let base = AnyModel::load(spec, data.coordinates.clone(), seed)
        .with_context(|| format!("model '{spec}'"))?;
    let fixed = assignments(fix, "--fix")?;
    let fit: Option<Vec<String>> = match fit {
        None => None,
        Some(list) => {
            let names: Vec<String> = list.split(',').map(|s| s.trim().to_string()).collect();
            if names.iter().any(|n| n.is_empty()) {
                bail!("--fit '{list}' has an empty entry (expected NAME,NAME,...)");
            }
            Some(names)
        }
    };
    let mut model = Restricted::new(base, fit.as_deref(), &fixed)?;
    for (name, value) in assignments(init, "--init")? {
        if fixed.iter().any(|(n, _)| *n == name) {
            bail!("--init {name}: '{name}' is fixed with --fix");
        }
        model.set_initial(&name, value).context("--init")?;
    }
    let model_coords = model.coordinates();
    if model_coords != data.coordinates {
        let mut a = model_coords.clone();
        let mut b = data.coordinates.clone();
        a.sort();
        b.sort();
        if a != b {
            bail!(
                "the data's coordinates ({}) do not match the model's ({})",
                data.coordinates.join(", "),
                model_coords.join(", ")
            );
        }
    }
    Ok(model)
}

/// The plot kind of an optional `--plot` target, checked (with its path) before any work.
pub fn plot_kind(plot: &Option<PathBuf>) -> Result<Option<(PathBuf, PlotKind)>> {
    match plot {
        None => Ok(None),
        Some(p) => {
            let kind = PlotKind::from_path(p)?;
            check_target(p, "--plot")?;
            Ok(Some((p.clone(), kind)))
        }
    }
}

/// Writes `text` to a temporary file that becomes `path` on commit.
pub fn pending_text(path: &Path, text: &str) -> Result<AtomicFile> {
    let file = AtomicFile::new(path)?;
    let mut handle = file.file()?;
    handle
        .write_all(text.as_bytes())
        .and_then(|()| handle.sync_all())
        .with_context(|| format!("cannot write '{}'", path.display()))?;
    Ok(file)
}

/// A bar on stderr when it is a terminal and not `quiet`.
pub fn bar(quiet: bool, len: Option<u64>) -> Option<ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = match len {
        Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
    };
    let template = if len.is_some() {
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}"
    } else {
        "{spinner} [{elapsed_precise}] {msg}"
    };
    bar.set_style(ProgressStyle::with_template(template).expect("valid template"));
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

/// The optimizer from the command-line options.
pub fn optimizer(
    name: &str,
    iterations: Option<usize>,
    learning_rate: Option<f64>,
    schedule: Option<&str>,
    tolerance: Option<f64>,
) -> Result<Optimizer> {
    if let Some(t) = tolerance.filter(|t| !(t.is_finite() && *t >= 0.0)) {
        bail!("--tolerance must be a finite number ≥ 0, got {t}");
    }
    if iterations == Some(0) {
        bail!("--iterations must be at least 1");
    }
    match name {
        "lm" | "levenberg-marquardt" => {
            if learning_rate.is_some() || schedule.is_some() {
                bail!("--lr and --schedule apply to --optimizer adam only");
            }
            let mut o = LmOptions::default();
            if let Some(n) = iterations {
                o.iterations = n;
            }
            if let Some(t) = tolerance {
                o.tolerance = t;
            }
            Ok(Optimizer::LevenbergMarquardt(o))
        }
        "adam" => {
            let mut o = AdamOptions::default();
            if let Some(n) = iterations {
                o.iterations = n;
            }
            if let Some(lr) = learning_rate {
                if !(lr.is_finite() && lr > 0.0) {
                    bail!("--lr must be a positive number, got {lr}");
                }
                o.learning_rate = lr;
            }
            if let Some(s) = schedule {
                o.schedule = Schedule::parse(s).context("--schedule")?;
            }
            if let Some(t) = tolerance {
                o.tolerance = t;
            }
            Ok(Optimizer::Adam(o))
        }
        _ => bail!("unknown --optimizer '{name}' (expected lm or adam)"),
    }
}

pub fn run(args: &LearnArgs) -> Result<()> {
    let sharded = args.shard.shard;
    if let Some(k) = sharded
        && args.starts.is_none()
    {
        bail!(
            "--shard {k} applies to --starts N only (it splits the starts; a single fit is one piece of work)"
        );
    }
    shard::refuse_plot(sharded, &args.plot)?;
    let plot = plot_kind(&args.plot)?;
    let optimizer = optimizer(
        &args.optimizer,
        args.iterations,
        args.learning_rate,
        args.schedule.as_deref(),
        args.tolerance,
    )?;
    if let Some(level) = args.noise {
        if !(level.is_finite() && level >= 0.0) {
            bail!("--noise must be a finite level ≥ 0, got {level}");
        }
        if args.starts.is_some() {
            bail!("--noise and --starts cannot be combined");
        }
    }
    if args.starts == Some(0) {
        bail!("--starts must be at least 1");
    }
    check_target(&args.out, "--out")?;
    let (data, positions) = read_input(args)?;
    let model = load_model(
        &args.model,
        &data,
        args.fit.as_deref(),
        &args.fix,
        &args.init,
        args.seed,
    )?;
    let options = LearnOptions {
        optimizer,
        engine: args.engine.engine(),
        ..LearnOptions::default()
    };
    let max = iteration_cap(&optimizer);
    if let Some(starts) = args.starts {
        limits::starts(
            starts,
            data.len(),
            data.dof(),
            model.parameter_names().len(),
            max,
        )?;
    }
    let shooting = positions
        .as_ref()
        .filter(|p| p.method == PositionsMethod::Shooting);
    let mut result = if let Some(positions) = shooting {
        let progress = bar(args.quiet, None);
        if let Some(b) = &progress {
            b.set_message("shooting fit");
        }
        let r = learn_by_shooting(
            &model,
            &positions.trajectory,
            &options,
            &positions.shooting,
            &mut |p| {
                if let Some(b) = &progress {
                    b.set_message(format!("shooting: loss {:.3e}", p.loss));
                }
            },
        )?;
        if let Some(b) = progress {
            b.finish_and_clear();
        }
        r
    } else if let Some(starts) = args.starts {
        let run = MultiStartRun {
            data: args.data.as_deref().map(shard::fingerprint).transpose()?,
            trajectory: args
                .trajectory
                .as_deref()
                .map(shard::fingerprint)
                .transpose()?,
            from_positions: args.from_positions.clone(),
            window: args.window,
            model: args.model.clone(),
            model_file: shard::fingerprint_if_file(&args.model)?,
            fit: args.fit.clone(),
            fix: args.fix.clone(),
            init: args.init.clone(),
            optimizer,
            engine: args.engine.engine.clone(),
            starts,
            seed: args.seed,
        };
        let ms = run.multistart();
        let range = sharded.map_or(0..starts, |k| k.units(starts));
        let progress = bar(args.quiet, None);
        if let Some(b) = &progress {
            b.set_message(format!("multi-start: {} starts", range.len()));
        }
        let mut part = run_starts(&model, &data, &options, &ms, range)?;
        if let Some(b) = progress {
            b.finish_and_clear();
        }
        if let (Some(positions), Some(best)) = (&positions, &mut part.best) {
            best.result.trajectory = Some(positions.smoothing.clone());
        }
        if let Some(k) = sharded {
            if let Some(report) = part.best.as_ref().and_then(|b| b.result.engine.as_ref()) {
                args.engine.report(report, args.quiet);
            }
            return shard::write(&args.out, "learn", k, starts, &run, &part);
        }
        combine_starts(&ms, vec![part])?
    } else if let Some(level) = args.noise {
        let progress = bar(args.quiet, None);
        if let Some(b) = &progress {
            b.set_message("bias-aware fit (SIMEX)");
        }
        let simex = SimexOptions {
            seed: args.seed,
            ..SimexOptions::default()
        };
        let r = learn_bias_corrected(
            &model,
            &data,
            &options,
            &NoiseModel::Relative(level),
            &simex,
        )?;
        if let Some(b) = progress {
            b.finish_and_clear();
        }
        r
    } else {
        let progress = bar(args.quiet, Some(max as u64));
        let r = learn_with_progress(&model, &data, &options, &mut |p| {
            if let Some(b) = &progress {
                b.set_position(p.iteration as u64);
                b.set_message(format!("loss {:.3e}", p.loss));
            }
        })?;
        if let Some(b) = progress {
            b.finish_and_clear();
        }
        r
    };

    if let Some(positions) = &positions
        && result.trajectory.is_none()
    {
        result.trajectory = Some(positions.smoothing.clone());
    }
    if let Some(report) = &result.engine {
        args.engine.report(report, args.quiet);
    }
    write_outputs(
        &result,
        &args.model,
        args.starts,
        &args.out,
        &plot,
        args.quiet,
    )
}

/// The iteration cap of `optimizer`.
fn iteration_cap(optimizer: &Optimizer) -> usize {
    match optimizer {
        Optimizer::Adam(o) => o.iterations,
        Optimizer::LevenbergMarquardt(o) => o.iterations,
    }
}

/// Writes the result JSON to `out` and the plot (the loss curve, or with `starts` the distinct
/// minima), and sums it up on a terminal: what a whole run and `merge` both write.
fn write_outputs(
    result: &LearnResult,
    model: &str,
    starts: Option<usize>,
    out: &Path,
    plot: &Option<(PathBuf, PlotKind)>,
    quiet: bool,
) -> Result<()> {
    // multi-start runs stopped at the iteration cap are no minima: say how to let them finish
    let note = result
        .minima
        .as_deref()
        .map(StartsSummary::of)
        .and_then(|s| capped_note(&s, iteration_cap(&result.optimizer_options)));
    if let Some(note) = &note
        && !quiet
    {
        eprintln!("note: {note}");
    }
    let mut pending = Vec::new();
    if let Some((path, kind)) = plot {
        let file = AtomicFile::new(path)?;
        let name = figure_name(model);
        let title = format!(
            "{name} — {} ({} iterations)",
            result.optimizer, result.iterations
        );
        let drawn = match &result.minima {
            // multi-start: the distinct minima and how many starts reached each
            Some(minima) => {
                let summary = StartsSummary::of(minima);
                let mut title = format!(
                    "{name} — {} starts, {} distinct {}",
                    starts.unwrap_or(0),
                    summary.minima,
                    if summary.minima == 1 {
                        "minimum"
                    } else {
                        "minima"
                    }
                );
                if summary.capped > 0 {
                    title += &format!(" ({} runs capped)", summary.capped);
                }
                plot_learn::minima(minima, &title, note.as_deref(), file.temp_path(), *kind)
            }
            None => plot_learn::loss_curve(&result.history, &title, file.temp_path(), *kind),
        };
        drawn.with_context(|| format!("cannot write plot '{}'", path.display()))?;
        pending.push(file);
    }
    pending.push(pending_text(out, &(result.to_json() + "\n"))?);
    for file in pending {
        file.commit()?;
    }
    if !quiet && std::io::stderr().is_terminal() {
        let params: Vec<String> = result
            .parameter_order
            .iter()
            .map(|n| match result.uncertainty.get(n).copied().flatten() {
                Some(s) => format!("{n} = {:.6} ± {:.2e}", result.parameters[n], s),
                None => format!("{n} = {:.6}", result.parameters[n]),
            })
            .collect();
        eprintln!(
            "{} (loss {:.3e}, {} iterations)",
            params.join(", "),
            result.loss,
            result.iterations
        );
        for line in &result.not_identifiable {
            eprintln!("not identifiable: {line}");
        }
    }
    Ok(())
}
