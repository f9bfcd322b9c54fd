//! `lagrange generate`: a synthetic dataset `(q, q̇, q̈)` from a system, as CSV
//! (`<q>...,<q>_dot...,<q>_ddot...`), for `lagrange learn`.
//!
//! States are uniform in a phase-space box (`--box x=-2:2,x_dot=-1:1`; every dimension not named
//! is `[-1, 1]`), or taken along `--trajectories K` started uniformly in the box and integrated
//! with Dormand–Prince to `--t-end`, sampled evenly. Accelerations come from the exact equations
//! of motion; `--noise LEVEL` adds Gaussian noise `σ = LEVEL × RMS` to every column. `--seed`
//! reproduces the file exactly.

use crate::cli::SamplingArgs;
use crate::limits;
use crate::options;
use crate::output::atomic::{AtomicFile, check_target};
use anyhow::{Context, Result, bail};
use clap::Args;
use lagrange::systems::System;
use lagrange_learn::generate::{GenerateSpec, generate};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// A TOML file describing the system, or a built-in name (see `lagrange systems`).
    #[arg(value_name = "SYSTEM")]
    pub system: String,

    /// Number of samples (rows).
    #[arg(long, value_name = "N")]
    pub samples: usize,

    #[command(flatten)]
    pub sampling: SamplingArgs,

    /// Relative noise level: Gaussian noise with σ = LEVEL × RMS on every column.
    #[arg(
        long,
        value_name = "LEVEL",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub noise: f64,

    /// Random seed (the same seed reproduces the file exactly).
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,

    /// Set a system parameter, e.g. `k=2` (repeatable).
    #[arg(
        long = "param",
        short = 'p',
        value_name = "NAME=VALUE",
        allow_hyphen_values = true
    )]
    pub params: Vec<String>,

    /// Output CSV file (`-` for stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,
}

pub fn run(args: &GenerateArgs) -> Result<()> {
    if args.samples < 2 {
        bail!("--samples must be at least 2, got {}", args.samples);
    }
    if !(args.noise.is_finite() && args.noise >= 0.0) {
        bail!("--noise must be a finite level ≥ 0, got {}", args.noise);
    }
    let trajectories = options::trajectories(&args.sampling, |k, t| {
        if k == 0 || k > args.samples {
            bail!(
                "--trajectories must be between 1 and --samples ({}), got {k}",
                args.samples
            );
        }
        if !(t.is_finite() && t > 0.0) {
            bail!("--t-end must be a positive number, got {t}");
        }
        Ok(())
    })?;
    check_target(&args.out, "--out")?;
    let sys = options::system_with_params(&args.system, &args.params)?;
    limits::generate(args.samples, sys.coordinates().len())?;
    let phase_box = options::phase_box(&args.sampling)?;
    let spec = GenerateSpec {
        samples: args.samples,
        phase_box,
        trajectories,
        noise: args.noise,
        seed: args.seed,
    };
    let data = generate(&sys, &spec)?;
    let file = AtomicFile::new(&args.out)?;
    let mut handle = file.file()?;
    handle
        .write_all(data.to_csv_string().as_bytes())
        .and_then(|()| handle.sync_all())
        .with_context(|| format!("cannot write '{}'", args.out.display()))?;
    file.commit()
}
