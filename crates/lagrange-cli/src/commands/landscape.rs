//! `lagrange landscape`: the loss on a 2-D grid over two parameters (the others at their initial
//! values or `--fix`ed), computed in parallel, as CSV `<p1>,<p2>,loss` and/or a heatmap with a log
//! colour scale; `--path` overlays the Levenberg–Marquardt path over the two parameters. With
//! `--shard K/N` it computes the K-th part of the grid points and writes a shard file (see
//! [`crate::shard`]).

use super::learn::{EngineArgs, load_model, pending_text, plot_kind, read_data};
use crate::limits;
use crate::output::atomic::{AtomicFile, check_target};
use crate::output::{PlotKind, plot_learn};
use crate::shard::{self, ShardArgs};
use anyhow::{Context, Result, bail};
use clap::Args;
use lagrange_learn::landscape::{GridAxis, GridLosses, Landscape, grid_losses};
use lagrange_learn::model::{Model, Restricted};
use lagrange_learn::{LearnOptions, build_engine, learn};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct LandscapeArgs {
    /// Data file (CSV with columns <q>...,<q>_dot...,<q>_ddot...).
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,

    /// Model: a TOML system file or a family name (as for `lagrange learn`).
    #[arg(long, value_name = "MODEL")]
    pub model: String,

    /// Grid axis NAME=LOW:HIGH:COUNT; give exactly two.
    #[arg(long, value_name = "NAME=LOW:HIGH:COUNT", allow_hyphen_values = true)]
    pub grid: Vec<String>,

    /// Hold a parameter fixed, e.g. `m=1` (repeatable).
    #[arg(long, value_name = "NAME=VALUE", allow_hyphen_values = true)]
    pub fix: Vec<String>,

    /// Override an initial value (the other parameters' value on the grid; the path's start).
    #[arg(long, value_name = "NAME=VALUE", allow_hyphen_values = true)]
    pub init: Vec<String>,

    /// Seed of network initial weights.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,

    /// Output CSV `<p1>,<p2>,loss` (`-` for stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Heatmap (.png or .svg), log colour scale.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,

    /// Overlay the optimizer's path (Levenberg–Marquardt over the two grid parameters).
    #[arg(long)]
    pub path: bool,

    #[command(flatten)]
    pub engine: EngineArgs,

    #[command(flatten)]
    pub shard: ShardArgs,
}

/// What determines a landscape, kept in its shard files (the shards of one run agree on all of
/// it), with what `merge` needs to write the output.
#[derive(Debug, Serialize, Deserialize)]
struct LandscapeRun {
    /// Fingerprint of the data file.
    data: String,
    model: String,
    /// Fingerprint of the model file (absent for a model family).
    model_file: Option<String>,
    fix: Vec<String>,
    init: Vec<String>,
    seed: u64,
    engine: String,
    x: GridAxis,
    y: GridAxis,
}

/// Writes the landscape to `out` (CSV) and/or `plot` (heatmap): what a whole run and `merge`
/// both write.
fn write_outputs(
    land: &Landscape,
    path_points: Option<&[(f64, f64)]>,
    model: &str,
    out: Option<&Path>,
    plot: &Option<(PathBuf, PlotKind)>,
) -> Result<()> {
    let mut pending: Vec<AtomicFile> = Vec::new();
    if let Some((path, kind)) = plot {
        let file = AtomicFile::new(path)?;
        let title = format!(
            "loss landscape of {} over ({}, {})",
            crate::output::style::figure_name(model),
            land.x.name,
            land.y.name
        );
        plot_learn::heatmap(land, path_points, &title, file.temp_path(), *kind)
            .with_context(|| format!("cannot write plot '{}'", path.display()))?;
        pending.push(file);
    }
    if let Some(out) = out {
        pending.push(pending_text(out, &land.to_csv_string())?);
    }
    for file in pending {
        file.commit()?;
    }
    Ok(())
}

/// `lagrange merge` of landscape shards: the CSV (and the heatmap, without the path) of the
/// whole grid.
pub fn merge(
    run: Value,
    results: Vec<Value>,
    out: &Path,
    plot: &Option<(PathBuf, PlotKind)>,
) -> Result<()> {
    let run: LandscapeRun = shard::decode(run, "landscape settings")?;
    let pieces = results
        .into_iter()
        .map(|r| shard::decode::<GridLosses>(r, "landscape results"))
        .collect::<Result<Vec<_>>>()?;
    let land = Landscape::from_pieces(run.x, run.y, &pieces)?;
    write_outputs(&land, None, &run.model, Some(out), plot)
}

pub fn run(args: &LandscapeArgs) -> Result<()> {
    let sharded = args.shard.shard;
    shard::refuse_plot(sharded, &args.plot)?;
    if sharded.is_some() && args.out.is_none() {
        bail!("--shard needs --out: the file the shard's results go to");
    }
    if args.out.is_none() && args.plot.is_none() {
        bail!("nothing to write: give --out and/or --plot");
    }
    if args.path && args.plot.is_none() {
        bail!("--path needs --plot");
    }
    let plot = plot_kind(&args.plot)?;
    if args.grid.len() != 2 {
        bail!(
            "give exactly two --grid axes (NAME=LOW:HIGH:COUNT), got {}",
            args.grid.len()
        );
    }
    let x = GridAxis::parse(&args.grid[0]).context("--grid")?;
    let y = GridAxis::parse(&args.grid[1]).context("--grid")?;
    if x.name == y.name {
        bail!("the two --grid axes name the same parameter '{}'", x.name);
    }
    limits::landscape(x.values.len(), y.values.len())?;
    if let Some(out) = &args.out {
        check_target(out, "--out")?;
    }
    let data = read_data(&args.data)?;
    let model = load_model(&args.model, &data, None, &args.fix, &args.init, args.seed)?;
    let names = model.parameter_names();
    for axis in [&x, &y] {
        if !names.contains(&axis.name) {
            if model
                .fixed_parameters()
                .iter()
                .any(|(n, _)| *n == axis.name)
            {
                bail!("--grid {}: the parameter is fixed with --fix", axis.name);
            }
            bail!(
                "--grid {}: unknown parameter (the model has: {})",
                axis.name,
                names.join(", ")
            );
        }
    }
    let base = model.initial_parameters();
    // one compilation for the whole grid (values only: the grid needs no derivatives)
    let engine = build_engine(&model, args.engine.engine(), false)?;
    args.engine.report(engine.report(), false);
    let total = x.values.len() * y.values.len();
    let points = sharded.map_or(0..total, |k| k.units(total));
    let losses = grid_losses(engine.as_ref(), &model, &data, &base, &x, &y, points)?;
    if let (Some(k), Some(out)) = (sharded, &args.out) {
        let run = LandscapeRun {
            data: shard::fingerprint(&args.data)?,
            model: args.model.clone(),
            model_file: shard::fingerprint_if_file(&args.model)?,
            fix: args.fix.clone(),
            init: args.init.clone(),
            seed: args.seed,
            engine: args.engine.engine.clone(),
            x,
            y,
        };
        return shard::write(out, "landscape", k, total, &run, &losses);
    }
    let land = Landscape::from_pieces(x.clone(), y.clone(), &[losses])?;
    let path_points = if args.path {
        let fit = vec![x.name.clone(), y.name.clone()];
        let others: Vec<(String, f64)> = names
            .iter()
            .zip(&base)
            .filter(|(n, _)| **n != x.name && **n != y.name)
            .map(|(n, v)| (n.clone(), *v))
            .collect();
        let two = Restricted::new(&model, Some(&fit), &others)?;
        let options = LearnOptions {
            engine: args.engine.engine(),
            ..LearnOptions::default()
        };
        let r = learn(&two, &data, &options)?;
        Some(
            r.history
                .iter()
                .map(|h| (h.parameters[0], h.parameters[1]))
                .collect::<Vec<(f64, f64)>>(),
        )
    } else {
        None
    };
    write_outputs(
        &land,
        path_points.as_deref(),
        &args.model,
        args.out.as_deref(),
        &plot,
    )
}
