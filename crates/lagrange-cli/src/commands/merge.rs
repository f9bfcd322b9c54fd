//! `lagrange merge SHARD... --out FILE`: combines the shard files of a run made with
//! `--shard K/N` (`landscape`, `noise-sweep`, `learn --starts`, `evaluate`) into exactly what
//! the unsharded run writes to `--out`.
//!
//! The files may come in any order. Merge refuses, with one line naming the files, anything
//! that is not the N shards of one run: a file that is not a shard file, shards of different
//! commands, settings, inputs or N, a shard given twice, missing shards. The summary over all
//! units (the noise sweep's statistics, the multi-start's minima and best start, the judgement's
//! means and medians) is computed here, from the shards' per-unit results, by the function the
//! unsharded run uses.

use super::learn::plot_kind;
use super::{evaluate, landscape, learn, noise_sweep};
use crate::output::atomic::check_target;
use crate::shard;
use anyhow::{Result, bail};
use clap::Args;
use serde_json::Value;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shard files of one run (the --out files of `--shard 1/N` ... `--shard N/N`), in any
    /// order.
    #[arg(value_name = "SHARD", required = true)]
    pub shards: Vec<PathBuf>,

    /// Where to write the combined output: what the unsharded run writes to --out (`-` for
    /// stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,

    /// Also draw the run's plot (.png or .svg), as the unsharded run's --plot (a landscape
    /// without --path's optimizer path).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,

    /// No summary on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

pub fn run(args: &MergeArgs) -> Result<()> {
    let plot = plot_kind(&args.plot)?;
    check_target(&args.out, "--out")?;
    let pieces = shard::read_all(&args.shards)?;
    let command = pieces[0].file.command.clone();
    let run = pieces[0].file.run.clone();
    let results: Vec<Value> = pieces.into_iter().map(|p| p.file.results).collect();
    let out = &args.out;
    match command.as_str() {
        "landscape" => landscape::merge(run, results, out, &plot),
        "noise-sweep" => noise_sweep::merge(run, results, out, &plot, args.quiet),
        "learn" => learn::merge(run, results, out, &plot, args.quiet),
        "evaluate" => evaluate::merge(run, results, out, &plot, args.quiet),
        other => bail!("the shards are of `{other}`, which this lagrange cannot merge"),
    }
}
