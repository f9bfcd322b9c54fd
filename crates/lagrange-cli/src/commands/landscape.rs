//! `lagrange landscape`: the loss on a 2-D grid over two parameters (the others at their initial
//! values or `--fix`ed), computed in parallel, as CSV `<p1>,<p2>,loss` and/or a heatmap with a log
//! colour scale; `--path` overlays the Levenberg–Marquardt path over the two parameters.

use super::learn::{EngineArgs, load_model, pending_text, plot_kind, read_data};
use crate::limits;
use crate::output::atomic::{AtomicFile, check_target};
use crate::output::plot_learn;
use anyhow::{Context, Result, bail};
use clap::Args;
use lagrange_learn::landscape::{GridAxis, landscape_with};
use lagrange_learn::model::{Model, Restricted};
use lagrange_learn::{LearnOptions, build_engine, learn};
use std::path::PathBuf;

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
}

pub fn run(args: &LandscapeArgs) -> Result<()> {
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
    let land = landscape_with(engine.as_ref(), &model, &data, &base, &x, &y)?;
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
    let mut pending: Vec<AtomicFile> = Vec::new();
    if let Some((path, kind)) = &plot {
        let file = AtomicFile::new(path)?;
        let title = format!(
            "loss landscape of {} over ({}, {})",
            args.model, x.name, y.name
        );
        plot_learn::heatmap(
            &land,
            path_points.as_deref(),
            &title,
            file.temp_path(),
            *kind,
        )
        .with_context(|| format!("cannot write plot '{}'", path.display()))?;
        pending.push(file);
    }
    if let Some(out) = &args.out {
        pending.push(pending_text(out, &land.to_csv_string())?);
    }
    for file in pending {
        file.commit()?;
    }
    Ok(())
}
