//! `lagrange bench`: the Rust side of the autodiff-vs-traditional benchmark table.
//!
//! Every method (autodiff, dense autodiff, hand-derived, text expression, finite differences)
//! runs on the same states in one process, so the ratios are comparable; absolute times depend
//! on the machine's load.

use crate::output::atomic::AtomicFile;
use anyhow::{Result, bail};
use clap::Args;
use lagrange_bench::{BenchOptions, all_cases, run as run_bench, to_markdown};
use std::io::Write;
use std::path::PathBuf;

/// Options of `lagrange bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Small systems and short timing batches only (a smoke run of a few seconds).
    #[arg(long)]
    pub quick: bool,
    /// Only systems whose label contains this text (`dpend`, `chain`, `nbody64`, ...).
    #[arg(long, default_value = "")]
    pub filter: String,
    /// Seconds per timing batch (the median of 5 batches is reported).
    #[arg(long, value_name = "S")]
    pub batch_seconds: Option<f64>,
    /// Also write the markdown table to this file.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// No per-row progress lines on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

pub fn run(args: &BenchArgs) -> Result<()> {
    let mut options = BenchOptions {
        filter: args.filter.clone(),
        ..Default::default()
    };
    if args.quick {
        options.batch_seconds = 0.005;
        options.batches = 3;
        options.throughput_states = 1_000;
        options.rk4_steps = 1_000;
    }
    if let Some(s) = args.batch_seconds {
        if !(s.is_finite() && s > 0.0 && s <= 60.0) {
            bail!("--batch-seconds must be in (0, 60], got {s}");
        }
        options.batch_seconds = s;
    }
    let cases = all_cases(args.quick);
    if !cases.iter().any(|c| c.system.contains(&args.filter)) {
        let names: Vec<_> = cases.iter().map(|c| c.system.as_str()).collect();
        bail!(
            "--filter '{}' matches no benchmark system (systems: {})",
            args.filter,
            names.join(", ")
        );
    }
    let atomic = args.out.as_deref().map(AtomicFile::new).transpose()?;
    let quiet = args.quiet;
    let rows = run_bench(&cases, &options, |r| {
        if !quiet {
            eprintln!(
                "{:>10} {:>15} {:>12.0} ns  ×{:.2} hand",
                r.system, r.method, r.latency_ns, r.ratio_to_hand
            );
        }
    });
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let table = format!(
        "{}\nthroughput uses {threads} threads; RK4 is 10⁴ steps of dt = 1e-3 ({} in --quick); errors are max ‖q̈ − q̈_ref‖∞/‖q̈_ref‖∞ over 16 states\n",
        to_markdown(&rows),
        options.rk4_steps
    );
    print!("{table}");
    if let Some(atomic) = atomic {
        atomic.file()?.write_all(table.as_bytes())?;
        atomic.commit()?;
    }
    Ok(())
}
