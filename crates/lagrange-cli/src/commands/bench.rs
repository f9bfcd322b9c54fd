//! `lagrange bench`: the autodiff-vs-traditional benchmark table.
//!
//! Every method (autodiff, dense autodiff, hand-derived, text expression, finite differences)
//! runs on the same states in one process, so the ratios are comparable; absolute times depend
//! on the machine's load. With `--peers`, the Python peers of `bench/peers` (numpy, SymPy, JAX,
//! PyTorch) run right after the Rust methods of each system, on the same states, and the report
//! adds their rows and the autodiff-over-peer ratios of that one run.

use anyhow::Result;
#[cfg(feature = "bench")]
use anyhow::bail;
use clap::Args;
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
    /// Also write the markdown report to this file.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also write the report as JSON (every row, peer records, machine facts) to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Threads of the throughput column (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Minimum seconds each thread runs in one throughput measurement (default 0.05).
    #[arg(long, value_name = "S")]
    pub throughput_seconds: Option<f64>,
    /// Run the Python peers (bench/peers) after the Rust methods of each system, same states.
    /// PYTHON defaults to bench/peers/.venv/bin/python if it exists, else python3.
    #[arg(long, value_name = "PYTHON", num_args = 0..=1, default_missing_value = "")]
    pub peers: Option<String>,
    /// Peers to run, comma-separated: numpy, sympy, jax, jax-1thread, torch (default
    /// numpy,sympy,jax,torch; torch is skipped when not installed).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub peer_list: Vec<String>,
    /// Per-measurement time box of the peers in seconds (default 20, 3 with --quick).
    #[arg(long, value_name = "S")]
    pub peer_budget: Option<f64>,
    /// Folder of the peer scripts (default: bench/peers of this checkout).
    #[arg(long, value_name = "DIR")]
    pub peer_dir: Option<PathBuf>,
    /// No per-row progress lines on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Time `lagrange simulate` as a user runs it (a child process, RK4, 10⁴ steps) against
    /// the library in the same run, per q̈: ho1, dpend, chain64, chain1024 (built-in and text),
    /// nbody64. Only `--out`, `--repeats` and `--quiet` apply.
    #[arg(long)]
    pub cli: bool,
    /// With `--cli`: runs per measurement (the minimum is reported).
    #[arg(long, value_name = "N", default_value = "3")]
    pub repeats: usize,
    /// Time a training step of the neural Lagrangian (lnn 2×128, batch 256/1024/4096, f32 and
    /// f64) against JAX (bench/peers/lnn_train_jax.py) in the same run. `--out` takes the JSON
    /// report; `--quick` and `--peers PYTHON` apply.
    #[arg(long)]
    pub neural: bool,
    /// With `--neural`: `cuda[:N]` times the GPU backend (build with `--features cuda`) against
    /// the CPU's cores and JAX (on its default device) in the same run, batch 256 … 65 536.
    #[arg(long, value_name = "DEVICE", default_value = "cpu")]
    pub device: String,
    /// Time learning physical parameters (full-batch Adam step, 41 × 41 landscape,
    /// Levenberg–Marquardt) on the compiled and autodiff engines against JAX
    /// (bench/peers/learn_jax.py) in the same run: double pendulum (m2, g) and cyclotron (B),
    /// 2 000 and 10⁵ samples. `--out` takes the JSON report; `--quick` and `--peers PYTHON`
    /// apply.
    #[arg(long)]
    pub learn: bool,
    /// Time the compiled Lagrangian density of lattice fields against a hand-written Rust
    /// stencil (1 and 2 threads) and JAX (bench/peers/fields_jax.py, jitted `jnp.roll`) in the
    /// same run: sine-Gordon 1-D (10⁴, 10⁶ sites), wave 2-D (256², 1000²), ns per site per q̈.
    /// `--out` takes the JSON report; `--quick`, `--peers PYTHON` and `-q` apply.
    #[arg(long)]
    pub fields: bool,
}

pub fn run(args: &BenchArgs) -> Result<()> {
    if args.cli {
        return super::bench_cli::run(args.repeats, args.out.as_deref(), args.quiet);
    }
    let python = args
        .peers
        .as_ref()
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);
    if args.neural {
        let device = crate::device::Device::parse(&args.device)?;
        if device != crate::device::Device::Cpu {
            return super::bench_neural::run_device(
                device,
                args.out.as_deref(),
                args.quick,
                python,
            );
        }
        return super::bench_neural::run(args.out.as_deref(), args.quick, python);
    }
    if args.learn {
        return super::bench_learn::run(args.out.as_deref(), args.quick, python);
    }
    if args.fields {
        return super::bench_fields::run(args.out.as_deref(), args.quick, python, args.quiet);
    }
    table(args)
}

#[cfg(not(feature = "bench"))]
fn table(_args: &BenchArgs) -> Result<()> {
    anyhow::bail!(
        "this lagrange was built without the `bench` feature, which makes the benchmark table: rebuild with `--features bench` (or use `lagrange bench --cli`)"
    )
}

/// The benchmark table (`lagrange-bench`).
#[cfg(feature = "bench")]
fn table(args: &BenchArgs) -> Result<()> {
    use crate::output::atomic::AtomicFile;
    use lagrange_bench::{BenchOptions, all_cases, run_combined};
    use std::io::Write;
    let mut options = BenchOptions {
        filter: args.filter.clone(),
        ..Default::default()
    };
    if args.quick {
        options.batch_seconds = 0.005;
        options.batches = 3;
        options.throughput_seconds = 0.02;
        options.rk4_steps = 1_000;
    }
    if let Some(n) = args.threads {
        if n == 0 {
            bail!("--threads must be at least 1");
        }
        options.threads = n;
    }
    if let Some(s) = args.throughput_seconds {
        if !(s.is_finite() && s > 0.0 && s <= 60.0) {
            bail!("--throughput-seconds must be in (0, 60], got {s}");
        }
        options.throughput_seconds = s;
    }
    let peers = peer_config(args)?;
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
    let atomic_json = args.json.as_deref().map(AtomicFile::new).transpose()?;
    let quiet = args.quiet;
    let combined = run_combined(&cases, &options, peers.as_ref(), |line| {
        if !quiet {
            eprintln!("{line}");
        }
    });
    if let Some(cfg) = &peers {
        let _ = std::fs::remove_dir_all(&cfg.work_dir);
    }
    let table = combined.to_markdown();
    print!("{table}");
    if let Some(atomic) = atomic {
        atomic.file()?.write_all(table.as_bytes())?;
        atomic.commit()?;
    }
    if let Some(atomic) = atomic_json {
        let mut text = serde_json::to_string_pretty(&combined.to_json())?;
        text.push('\n');
        atomic.file()?.write_all(text.as_bytes())?;
        atomic.commit()?;
    }
    Ok(())
}

/// The peer set-up of `--peers` (None without it).
#[cfg(feature = "bench")]
fn peer_config(args: &BenchArgs) -> Result<Option<lagrange_bench::peers::PeerConfig>> {
    use lagrange_bench::peers::{ALL_PEERS, PeerConfig, default_peer_dir};
    let Some(python) = &args.peers else {
        if !args.peer_list.is_empty() || args.peer_budget.is_some() || args.peer_dir.is_some() {
            bail!("--peer-list, --peer-budget and --peer-dir need --peers");
        }
        return Ok(None);
    };
    let dir = args.peer_dir.clone().unwrap_or_else(default_peer_dir);
    if !dir.join("systems.py").exists() {
        bail!(
            "peer scripts not found in {} (give --peer-dir)",
            dir.display()
        );
    }
    let python = (!python.is_empty()).then(|| PathBuf::from(python));
    let mut cfg = PeerConfig::new(dir, python);
    if !args.peer_list.is_empty() {
        for p in &args.peer_list {
            if !ALL_PEERS.contains(&p.as_str()) {
                bail!(
                    "--peer-list: unknown peer '{p}' (peers: {})",
                    ALL_PEERS.join(", ")
                );
            }
        }
        cfg.peers = args.peer_list.clone();
    }
    if args.quick {
        cfg.budget_s = 3.0;
        cfg.sympy_setup_limit_s = 20.0;
        cfg.torch_rk4_steps = 50;
    }
    if let Some(b) = args.peer_budget {
        if !(b.is_finite() && b > 0.0 && b <= 600.0) {
            bail!("--peer-budget must be in (0, 600], got {b}");
        }
        cfg.budget_s = b;
    }
    cfg.echo = !args.quiet;
    Ok(Some(cfg))
}
