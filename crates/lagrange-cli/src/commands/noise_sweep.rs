//! `lagrange noise-sweep`: how well are the parameters of SYSTEM recovered as the noise grows?
//!
//! For each `--levels` entry and each of `--repeats` seeds, a dataset is generated from SYSTEM
//! (as `lagrange generate` would, seeds `--seed`, `--seed + 1`, ...: the same clean samples at
//! every level) and fitted twice with Levenberg–Marquardt: the naive least-squares fit and the
//! bias-aware (SIMEX) fit. The relative parameter error `‖θ̂ − θ*‖/‖θ*‖` against the system's own
//! parameter values is summarized per level (mean and standard deviation) in a CSV table
//! `level,naive_mean,naive_std,aware_mean,aware_std,repeats,failures`, and plotted with `--plot`.
//!
//! The model is SYSTEM's own Lagrangian with its parameters unknown (initial guesses at half the
//! true values), or `--model FILE`. Without `--fit`/`--fix`, parameters that cannot be learned
//! separately (flat directions on clean data, e.g. `m` with `k`) are fixed at their true values.
//!
//! With `--shard K/N` it fits the K-th part of the (level, repeat) cells and writes a shard file
//! (see [`crate::shard`]).

use super::learn::{EngineArgs, pending_text, plot_kind};
use crate::cli::SamplingArgs;
use crate::limits;
use crate::options::{self, assignments};
use crate::output::atomic::{AtomicFile, check_target};
use crate::output::{PlotKind, plot_learn};
use crate::shard::{self, ShardArgs};
use anyhow::{Context, Result, bail};
use clap::Args;
use lagrange::systems::System;
use lagrange_learn::generate::{GenerateSpec, generate};
use lagrange_learn::model::{Model, Restricted, TextModel};
use lagrange_learn::noise::{
    SimexOptions, SweepCell, SweepOptions, SweepRow, sweep_cells, sweep_csv, sweep_rows,
};
use lagrange_learn::{LearnOptions, build_engine, learn};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Args)]
// the sampling options, with this command's own (shorter) help
#[command(
    mut_arg("phase_box", |a| a.help(
        "Phase-space box, e.g. `x=-2:2,x_dot=-1:1` (unnamed dimensions: [-1, 1])"
    )),
    mut_arg("trajectories", |a| a.help(
        "Sample along K trajectories instead of uniformly (needs --t-end)"
    ))
)]
pub struct NoiseSweepArgs {
    /// The system that generates the data: a TOML file or a built-in name.
    #[arg(value_name = "SYSTEM")]
    pub system: String,

    /// Set a system parameter (the truth), e.g. `k=2` (repeatable).
    #[arg(
        long = "param",
        short = 'p',
        value_name = "NAME=VALUE",
        allow_hyphen_values = true
    )]
    pub params: Vec<String>,

    /// Model TOML file (default: SYSTEM's own Lagrangian with unknown parameters).
    #[arg(long, value_name = "FILE")]
    pub model: Option<String>,

    /// Parameters to fit, comma-separated (default: all not fixed).
    #[arg(long, value_name = "A,B,...")]
    pub fit: Option<String>,

    /// Hold a model parameter fixed, e.g. `m=1` (repeatable).
    #[arg(long, value_name = "NAME=VALUE", allow_hyphen_values = true)]
    pub fix: Vec<String>,

    /// Noise levels, comma-separated (σ = LEVEL × RMS).
    #[arg(long, value_name = "L1,L2,...", default_value = "0,0.05,0.1,0.15,0.2")]
    pub levels: String,

    /// Datasets per level.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub repeats: usize,

    /// Samples per dataset.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub samples: usize,

    #[command(flatten)]
    pub sampling: SamplingArgs,

    /// Base seed.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,

    /// SIMEX refits per extra-noise level.
    #[arg(long, value_name = "B", default_value_t = 8)]
    pub simex_repeats: usize,

    /// Output table (CSV; `-` for stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,

    /// Plot of the error against the noise level (.png or .svg).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,

    #[command(flatten)]
    pub engine: EngineArgs,

    /// No progress bar or notes.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    #[command(flatten)]
    pub shard: ShardArgs,
}

/// What determines a sweep, kept in its shard files (the shards of one run agree on all of it),
/// with what `merge` needs to write the output.
#[derive(Debug, Serialize, Deserialize)]
struct NoiseSweepRun {
    system: String,
    /// Fingerprint of the system file (absent for a built-in).
    system_file: Option<String>,
    params: Vec<String>,
    model: Option<String>,
    model_file: Option<String>,
    fit: Option<String>,
    fix: Vec<String>,
    samples: usize,
    phase_box: Option<String>,
    trajectories: Option<usize>,
    t_end: Option<f64>,
    seed: u64,
    simex_repeats: usize,
    engine: String,
    levels: Vec<f64>,
    repeats: usize,
    /// The fitted parameters (after fixing the flat directions) and their true values.
    parameters: Vec<String>,
    truth: Vec<f64>,
    /// The plot's title.
    title: String,
}

impl NoiseSweepRun {
    /// The options `sweep_rows` summarizes with.
    fn sweep(&self) -> SweepOptions {
        SweepOptions {
            levels: self.levels.clone(),
            repeats: self.repeats,
            seed: self.seed,
            simex: SimexOptions {
                repeats: self.simex_repeats,
                seed: self.seed,
                ..SimexOptions::default()
            },
        }
    }
}

/// The table (and plot) from the results of every cell: what a whole run and `merge` both
/// write.
fn write_outputs(
    run: &NoiseSweepRun,
    cells: &[SweepCell],
    out: &Path,
    plot: &Option<(PathBuf, PlotKind)>,
    quiet: bool,
) -> Result<()> {
    let rows = sweep_rows(&run.parameters, &run.truth, &run.sweep(), cells)?;
    let mut pending: Vec<AtomicFile> = Vec::new();
    if let Some((path, kind)) = plot {
        let file = AtomicFile::new(path)?;
        plot_learn::noise_sweep(&rows, &run.title, file.temp_path(), *kind)
            .with_context(|| format!("cannot write plot '{}'", path.display()))?;
        pending.push(file);
    }
    pending.push(pending_text(out, &sweep_csv(&rows))?);
    for file in pending {
        file.commit()?;
    }
    if !quiet && std::io::stderr().is_terminal() {
        print_summary(&rows);
    }
    Ok(())
}

fn print_summary(rows: &[SweepRow]) {
    for r in rows {
        eprintln!(
            "level {:.3}: naive {:.3} % ± {:.3}, bias-aware {:.3} % ± {:.3}",
            r.level,
            100.0 * r.naive_mean,
            100.0 * r.naive_std,
            100.0 * r.aware_mean,
            100.0 * r.aware_std
        );
    }
}

/// `lagrange merge` of noise-sweep shards: the table (and plot) of the whole sweep.
pub fn merge(
    run: Value,
    results: Vec<Value>,
    out: &Path,
    plot: &Option<(PathBuf, PlotKind)>,
    quiet: bool,
) -> Result<()> {
    let run: NoiseSweepRun = shard::decode(run, "noise-sweep settings")?;
    let mut cells = Vec::new();
    for piece in results {
        cells.extend(shard::decode::<Vec<SweepCell>>(
            piece,
            "noise-sweep results",
        )?);
    }
    write_outputs(&run, &cells, out, plot, quiet)
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

pub fn run(args: &NoiseSweepArgs) -> Result<()> {
    let sharded = args.shard.shard;
    shard::refuse_plot(sharded, &args.plot)?;
    let plot = plot_kind(&args.plot)?;
    let levels: Vec<f64> = args
        .levels
        .split(',')
        .map(|s| {
            let s = s.trim();
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .with_context(|| format!("--levels: '{s}' is not a noise level ≥ 0"))
        })
        .collect::<Result<_>>()?;
    if args.repeats == 0 || args.simex_repeats == 0 {
        bail!("--repeats and --simex-repeats must be at least 1");
    }
    if args.samples < 2 {
        bail!("--samples must be at least 2, got {}", args.samples);
    }
    let trajectories = options::trajectories(&args.sampling, |k, t| {
        if !((1..=args.samples).contains(&k) && t.is_finite() && t > 0.0) {
            bail!("--trajectories must be in 1..=--samples and --t-end positive");
        }
        Ok(())
    })?;
    check_target(&args.out, "--out")?;
    let sys = options::system_with_params(&args.system, &args.params)?;
    if sys.neural().is_some() {
        bail!(
            "noise-sweep needs a system with parameters (a TOML file or a built-in); '{}' is a trained model",
            args.system
        );
    }
    let truth_of: BTreeMap<String, f64> = sys.parameters().into_iter().collect();
    let phase_box = options::phase_box(&args.sampling)?;
    // the model
    let base = match &args.model {
        Some(path) => TextModel::from_path(path).with_context(|| format!("model '{path}'"))?,
        None => {
            let mut toml = format!(
                "coordinates = [{}]\nlagrangian = {}\n",
                sys.coordinates()
                    .iter()
                    .map(|c| toml_string(c))
                    .collect::<Vec<_>>()
                    .join(", "),
                toml_string(&sys.lagrangian_text())
            );
            if let Some(d) = sys.dissipation_text() {
                toml.push_str(&format!("dissipation = {}\n", toml_string(&d)));
            }
            toml.push_str("[parameters]\n");
            for (p, v) in sys.parameters() {
                toml.push_str(&format!("{p} = {:?}\n", 0.5 * v));
            }
            TextModel::from_toml_str(&toml).context("the system's Lagrangian as a model")?
        }
    };
    let mut fixed = assignments(&args.fix, "--fix")?;
    let fit: Option<Vec<String>> = args
        .fit
        .as_ref()
        .map(|list| list.split(',').map(|s| s.trim().to_string()).collect());
    let make = |level: f64, seed: u64| {
        let spec = GenerateSpec {
            samples: args.samples,
            phase_box: phase_box.clone(),
            trajectories,
            noise: level,
            seed,
        };
        generate(&sys, &spec)
    };
    let truth_for = |names: &[String]| -> Result<Vec<f64>> {
        names
            .iter()
            .map(|n| {
                truth_of.get(n).copied().with_context(|| {
                    format!("model parameter '{n}' is not a parameter of the system, so there is no true value to compare with (fix it with --fix)")
                })
            })
            .collect()
    };
    let mut model = Restricted::new(base.clone(), fit.as_deref(), &fixed)?;
    limits::noise_sweep(
        levels.len(),
        args.repeats,
        args.simex_repeats,
        args.samples,
        sys.coordinates().len(),
        model.parameter_names().len(),
    )?;
    let options = LearnOptions {
        engine: args.engine.engine(),
        ..LearnOptions::default()
    };
    if fit.is_none() && fixed.is_empty() {
        // fix what cannot be learned separately, at the true values
        let clean = make(0.0, args.seed)?;
        for _ in 0..model.parameter_names().len() {
            let r = learn(&model, &clean, &options)?;
            let Some(flat) = r.flat_directions.first() else {
                break;
            };
            let name = flat.suggest_fix.clone();
            let value = truth_for(std::slice::from_ref(&name))?[0];
            if !args.quiet {
                eprintln!("note: fixing {name} = {value} ({})", flat.message);
            }
            fixed.push((name, value));
            model = Restricted::new(base.clone(), None, &fixed)?;
        }
    }
    let truth = truth_for(&model.parameter_names())?;
    let names = model.parameter_names();
    let run = NoiseSweepRun {
        system: args.system.clone(),
        system_file: shard::fingerprint_if_file(&args.system)?,
        params: args.params.clone(),
        model: args.model.clone(),
        model_file: match &args.model {
            Some(path) => shard::fingerprint_if_file(path)?,
            None => None,
        },
        fit: args.fit.clone(),
        fix: args.fix.clone(),
        samples: args.samples,
        phase_box: args.sampling.phase_box.clone(),
        trajectories: args.sampling.trajectories,
        t_end: args.sampling.t_end,
        seed: args.seed,
        simex_repeats: args.simex_repeats,
        engine: args.engine.engine.clone(),
        levels: levels.clone(),
        repeats: args.repeats,
        title: format!(
            "{}: error of {} vs noise ({} × {} samples)",
            sys.title(),
            names.join(", "),
            args.repeats,
            args.samples
        ),
        parameters: names,
        truth,
    };
    let total = levels.len() * args.repeats;
    let cells = sharded.map_or(0..total, |k| k.units(total));
    let bar = super::learn::bar(args.quiet, Some(cells.len() as u64));
    let done = AtomicU64::new(0);
    let tick = || {
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(b) = &bar {
            b.set_position(n);
        }
    };
    let engine = build_engine(&model, options.engine, true)?;
    args.engine.report(engine.report(), args.quiet);
    let cells = sweep_cells(
        engine.as_ref(),
        &model,
        make,
        &options,
        &run.sweep(),
        cells,
        &tick,
    )?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    match sharded {
        Some(k) => shard::write(&args.out, "noise-sweep", k, total, &run, &cells),
        None => write_outputs(&run, &cells, &args.out, &plot, args.quiet),
    }
}
