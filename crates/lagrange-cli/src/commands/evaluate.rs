//! `lagrange evaluate`: roll out a trained model and the true system from the same random initial
//! conditions (dopri5, tight tolerances) and report the energy error of the model's rollouts,
//! measured with the true energy, the trajectory error over time and the departure time. With
//! `--shard K/N` it rolls out the K-th part of the initial conditions and writes a shard file
//! (see [`crate::shard`]).

use crate::commands::learn::{bar, pending_text, plot_kind};
use crate::output::atomic::{AtomicFile, check_target};
use crate::output::{PlotKind, plot_learn};
use crate::shard::{self, ShardArgs};
use crate::system::{AnySystem, NeuralSystem};
use anyhow::{Context, Result, bail};
use clap::Args;
use lagrange::systems::System;
use lagrange_learn::PhaseBox;
use lagrange_learn::neural::JudgeOptions;
use lagrange_learn::neural::judge::{Rollouts, judgement, rollouts};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// The model and the true system it is judged against (`evaluate` and `extrapolate`).
#[derive(Debug, Args)]
pub struct ModelAndTruth {
    /// The trained model (model.json from `lagrange train`).
    #[arg(long, value_name = "MODEL.json")]
    pub model: PathBuf,

    /// The true system: a TOML file or a built-in name, with the model's coordinates.
    #[arg(long, value_name = "SYSTEM")]
    pub truth: String,

    /// Set a parameter of the true system, e.g. `g=9.8` (repeatable).
    #[arg(
        long = "param",
        short = 'p',
        value_name = "NAME=VALUE",
        allow_hyphen_values = true
    )]
    pub params: Vec<String>,
}

impl ModelAndTruth {
    /// Reads the model file and the true system, checking that their coordinates agree.
    pub fn load(&self) -> Result<(NeuralSystem, AnySystem)> {
        let model = read_model(&self.model)?;
        let truth = read_truth(&self.truth, &self.params, &model)?;
        Ok((model, truth))
    }
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub against: ModelAndTruth,

    /// Number of random initial conditions.
    #[arg(long, value_name = "N", default_value_t = 40)]
    pub initial_conditions: usize,

    /// Box of the initial conditions, e.g. `theta1=-1.57:1.57,theta1_dot=-1:1`; unnamed
    /// dimensions use [-1, 1].
    #[arg(
        long = "box",
        value_name = "NAME=LOW:HIGH,...",
        allow_hyphen_values = true
    )]
    pub phase_box: Option<String>,

    /// End time of the rollouts.
    #[arg(long, value_name = "T", default_value_t = 100.0)]
    pub t_end: f64,

    /// Output interval of the rollouts (resolution of the error curves).
    #[arg(long, value_name = "H")]
    pub dt: Option<f64>,

    /// dopri5 relative tolerance.
    #[arg(long, value_name = "R", default_value_t = 1e-10)]
    pub rtol: f64,

    /// dopri5 absolute tolerance.
    #[arg(long, value_name = "A", default_value_t = 1e-12)]
    pub atol: f64,

    /// Energy scale of the relative energy error (default: the largest |E_true(x(0))|).
    #[arg(long, value_name = "E")]
    pub energy_scale: Option<f64>,

    /// Seed of the initial conditions.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,

    /// Result file (JSON; `-` for stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,

    /// Figure (.png or .svg): energy error vs time, and one rollout against the truth.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,

    /// No progress and no summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    #[command(flatten)]
    pub shard: ShardArgs,
}

/// What determines an evaluation, kept in its shard files (the shards of one run agree on all
/// of it), with what `merge` needs to write the output.
#[derive(Debug, Serialize, Deserialize)]
struct EvaluateRun {
    /// --model as given (the output names it).
    model: String,
    /// Fingerprint of the model file.
    model_file: String,
    kind: String,
    model_title: String,
    truth: String,
    /// Fingerprint of the true system's file (absent for a built-in).
    truth_file: Option<String>,
    params: Vec<String>,
    truth_title: String,
    coordinates: Vec<String>,
    phase_box: Option<String>,
    options: JudgeOptions,
}

/// The judgement from the rollouts of every initial condition, written as JSON to `out` (and
/// drawn to `plot`): what a whole run and `merge` both write.
fn write_outputs(
    run: &EvaluateRun,
    rollouts: &[Rollouts],
    out: &Path,
    plot: &Option<(PathBuf, PlotKind)>,
    quiet: bool,
) -> Result<()> {
    let o = &run.options;
    let j = judgement(o, rollouts).context("evaluation failed")?;
    let value = json!({
        "model": run.model,
        "kind": run.kind,
        "truth": run.truth_title,
        "coordinates": run.coordinates,
        "initial_conditions": o.initial_conditions,
        "t_end": o.t_end,
        "rtol": o.rtol,
        "atol": o.atol,
        "seed": o.seed,
        "energy_scale": j.energy_scale,
        "energy_error_mean": j.energy_error_mean,
        "energy_error_median": j.energy_error_median,
        "energy_error_max": j.energy_error_max,
        "truth_energy_error_mean": j.truth_energy_error_mean,
        "departure_time_median": j.departure_time_median,
        "failures": j.failures,
        "per_initial_condition": j.per_initial_condition,
        "times": j.times,
        "energy_error_vs_time": j.energy_error_vs_time,
        "truth_energy_error_vs_time": j.truth_energy_error_vs_time,
        "state_error_vs_time": j.state_error_vs_time,
    });
    let mut pending = Vec::new();
    if let Some((path, kind)) = plot {
        let file = AtomicFile::new(path)?;
        let title = format!(
            "{} vs {}: mean energy error {:.2e} at t = {}",
            run.model_title, run.truth_title, j.energy_error_mean, o.t_end
        );
        plot_learn::evaluation(&j, &run.coordinates, &title, file.temp_path(), *kind)
            .with_context(|| format!("cannot write plot '{}'", path.display()))?;
        pending.push(file);
    }
    let text = serde_json::to_string_pretty(&value)? + "\n";
    pending.push(pending_text(out, &text)?);
    for f in pending {
        f.commit()?;
    }
    if !quiet && std::io::stderr().is_terminal() {
        eprintln!(
            "energy error: mean {:.3e}, median {:.3e} (true system's own rollouts: {:.1e}); median departure time {:.3}; {} failed rollouts",
            j.energy_error_mean,
            j.energy_error_median,
            j.truth_energy_error_mean,
            j.departure_time_median,
            j.failures
        );
    }
    Ok(())
}

/// `lagrange merge` of evaluate shards: the judgement over every initial condition.
pub fn merge(
    run: Value,
    results: Vec<Value>,
    out: &Path,
    plot: &Option<(PathBuf, PlotKind)>,
    quiet: bool,
) -> Result<()> {
    let run: EvaluateRun = shard::decode(run, "evaluate settings")?;
    let mut all = Vec::new();
    for piece in results {
        all.extend(shard::decode::<Vec<Rollouts>>(piece, "evaluate results")?);
    }
    write_outputs(&run, &all, out, plot, quiet)
}

/// Reads a model file as a system (error if it is not one).
fn read_model(path: &Path) -> Result<NeuralSystem> {
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if !is_json {
        bail!(
            "--model '{}' is not a model file (expected the .json of `lagrange train`)",
            path.display()
        );
    }
    Ok(NeuralSystem::read(path)?)
}

/// Loads the true system with its parameters and checks its coordinates against the model's.
fn read_truth(spec: &str, params: &[String], model: &NeuralSystem) -> Result<AnySystem> {
    let truth = crate::options::system_with_params(spec, params)?;
    if truth.neural().is_some() {
        bail!(
            "--truth '{spec}' is a trained model; give the true system (a TOML file or a built-in)"
        );
    }
    let (tc, mc) = (truth.coordinates(), model.model.coordinates.clone());
    if tc != mc {
        bail!(
            "the true system's coordinates ({}) differ from the model's ({})",
            tc.join(", "),
            mc.join(", ")
        );
    }
    Ok(truth)
}

pub fn run(args: &EvaluateArgs) -> Result<()> {
    let sharded = args.shard.shard;
    shard::refuse_plot(sharded, &args.plot)?;
    if args.initial_conditions == 0 || args.initial_conditions > 100_000 {
        bail!(
            "--initial-conditions must be between 1 and 100000, got {}",
            args.initial_conditions
        );
    }
    if !(args.t_end.is_finite() && args.t_end > 0.0) {
        bail!("--t-end must be a positive number, got {}", args.t_end);
    }
    let dt = args.dt.unwrap_or(args.t_end / 1000.0);
    if !(dt.is_finite() && dt > 0.0 && dt <= args.t_end) {
        bail!("--dt must be a positive number no larger than --t-end, got {dt}");
    }
    if args.t_end / dt > 1e6 {
        bail!("--t-end / --dt gives more than 10^6 output times per rollout; use a larger --dt");
    }
    for (flag, v) in [("--rtol", args.rtol), ("--atol", args.atol)] {
        if !(v.is_finite() && v > 0.0) {
            bail!("{flag} must be a positive number, got {v}");
        }
    }
    if let Some(s) = args.energy_scale
        && !(s.is_finite() && s > 0.0)
    {
        bail!("--energy-scale must be a positive number, got {s}");
    }
    let plot = plot_kind(&args.plot)?;
    check_target(&args.out, "--out")?;
    let (model, truth) = args.against.load()?;
    let coordinates = truth.coordinates();
    let bounds = PhaseBox::parse(args.phase_box.as_deref().unwrap_or(""))
        .and_then(|b| b.bounds(&coordinates))
        .context("--box")?;
    let options = JudgeOptions {
        initial_conditions: args.initial_conditions,
        bounds,
        t_end: args.t_end,
        output_dt: dt,
        rtol: args.rtol,
        atol: args.atol,
        energy_scale: args.energy_scale,
        departure: 0.1,
        seed: args.seed,
    };
    let run = EvaluateRun {
        model: args.against.model.display().to_string(),
        model_file: shard::fingerprint(&args.against.model)?,
        kind: model.model.kind.name().to_string(),
        model_title: model.title(),
        truth: args.against.truth.clone(),
        truth_file: shard::fingerprint_if_file(&args.against.truth)?,
        params: args.against.params.clone(),
        truth_title: truth.title(),
        coordinates,
        phase_box: args.phase_box.clone(),
        options,
    };
    let total = args.initial_conditions;
    let conditions = sharded.map_or(0..total, |k| k.units(total));
    let progress = bar(args.quiet, None);
    if let Some(b) = &progress {
        b.set_message(format!(
            "rolling out {} initial conditions to t = {}",
            conditions.len(),
            args.t_end
        ));
    }
    let rolled =
        rollouts(&model.model, &truth, &run.options, conditions).context("evaluation failed")?;
    if let Some(b) = progress {
        b.finish_and_clear();
    }
    match sharded {
        Some(k) => shard::write(&args.out, "evaluate", k, total, &run, &rolled),
        None => write_outputs(&run, &rolled, &args.out, &plot, args.quiet),
    }
}
