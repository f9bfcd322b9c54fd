//! The command-line grammar (clap derive). Values arrive as written; [`crate::options`] checks
//! them and turns them into validated options, so every problem is reported as one `error:` line.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Write a Lagrangian L(t, q, q̇) once; get exact equations of motion, momenta, energy,
/// trajectories and plots by automatic differentiation.
///
/// SYSTEM is either a TOML file describing L (see `examples/`) or the name of a built-in
/// system (`lagrange systems` lists them). An argument that names an existing file or ends in
/// `.toml` is read as a file.
#[derive(Debug, Parser)]
#[command(
    name = "lagrange",
    version,
    arg_required_else_help = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// One variant per command; each has its own file in `commands/`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the built-in systems with their Lagrangian, dissipation and parameters.
    Systems(SystemsArgs),
    /// Evaluate the equations of motion at one state: q̈, energy and momenta.
    Eom(EomArgs),
    /// Integrate the equations of motion from t = 0 and write the trajectory and/or a plot.
    Simulate(SimulateArgs),
    /// A looping GIF of the motion (SYSTEM, or a trajectory CSV with --system): a field's profile
    /// (1-D) or heatmap (2-D), the mechanism (rods, springs, bobs, trails) where the system
    /// declares its geometry, else a moving point on each phase portrait
    Animate(crate::commands::animate::AnimateArgs),
    /// Generate a dataset (q, q̇, q̈) from a system, with optional noise, as CSV for `learn`.
    Generate(crate::commands::generate::GenerateArgs),
    /// Learn the unknown parameters of a model Lagrangian from data (JSON result).
    Learn(crate::commands::learn::LearnArgs),
    /// The loss on a 2-D parameter grid (CSV and heatmap), optionally with the optimizer's path.
    Landscape(crate::commands::landscape::LandscapeArgs),
    /// Parameter error of naive and bias-aware fits against the noise level (table and plot).
    NoiseSweep(crate::commands::noise_sweep::NoiseSweepArgs),
    /// Combine the shard files of a run made with --shard K/N (landscape, noise-sweep, learn --starts, evaluate) into what the unsharded run writes
    Merge(crate::commands::merge::MergeArgs),
    /// Train a neural model (lnn, structured or baseline) on a dataset; writes model.json, a SYSTEM for every command
    Train(crate::commands::train::TrainArgs),
    /// Judge a trained model against the true system: rollouts from random initial conditions, energy and trajectory errors
    Evaluate(crate::commands::evaluate::EvaluateArgs),
    /// Map a trained model's relative q̈ error on a 2-D slice of phase space, beyond the training range
    Extrapolate(crate::commands::extrapolate::ExtrapolateArgs),
    /// Noether analysis: which translations, rotations, linear fields and time shifts leave L invariant, with their conserved charges
    Symmetries(crate::commands::symmetries::SymmetriesArgs),
    /// Path-integral Monte Carlo of L = ½ q̇ᵀ M q̇ − V(q): ground-state energy, ⟨q²⟩ and density (exact diagonalization in 1-D), or a maximum-likelihood fit of V to measured positions
    Quantum(crate::commands::quantum::QuantumArgs),
    /// The findings report: every question the project asks, answered with numbers and figures from runs it makes (README.md, slides.md, figures)
    Report(crate::commands::report::ReportArgs),
    /// Autodiff vs hand-derived vs finite-difference EOM: latency, throughput, RK4, error.
    Bench(crate::commands::bench::BenchArgs),
}

/// Options shared by every command that works on one system.
#[derive(Debug, Args)]
pub struct SystemArgs {
    /// A TOML file describing the system, or a built-in name (see `lagrange systems`).
    #[arg(value_name = "SYSTEM")]
    pub system: String,

    /// Initial state, e.g. `x=1,y=0.5,x_dot=0.1` (repeatable). Missing entries come from the
    /// system's [initial] table (or the built-in default), else 0.
    #[arg(long, value_name = "NAME=VALUE,...", allow_hyphen_values = true)]
    pub state: Vec<String>,

    /// Set a parameter, e.g. `k=2` or `k=2,m=0.5` (repeatable).
    #[arg(
        long = "param",
        short = 'p',
        value_name = "NAME=VALUE",
        allow_hyphen_values = true
    )]
    pub params: Vec<String>,
}

/// Where `generate` and `noise-sweep` sample states: uniformly in a phase-space box, or along
/// trajectories started in it. Checked by [`crate::options::trajectories`] and
/// [`crate::options::phase_box`].
#[derive(Debug, Args)]
pub struct SamplingArgs {
    /// Phase-space box, e.g. `x=-2:2,x_dot=-1:1`; unnamed dimensions use [-1, 1].
    #[arg(
        long = "box",
        value_name = "NAME=LOW:HIGH,...",
        allow_hyphen_values = true
    )]
    pub phase_box: Option<String>,

    /// Sample along K trajectories (initial states in the box) instead of uniformly; needs --t-end.
    #[arg(long, value_name = "K")]
    pub trajectories: Option<usize>,

    /// End time of the trajectories.
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    pub t_end: Option<f64>,
}

#[derive(Debug, Args)]
pub struct SystemsArgs {
    /// Output format: `text` or `json`.
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct EomArgs {
    #[command(flatten)]
    pub system: SystemArgs,

    /// Time t at which to evaluate (matters for time-dependent Lagrangians).
    #[arg(
        long,
        value_name = "T",
        default_value = "0",
        allow_negative_numbers = true
    )]
    pub time: String,

    /// Output format: `json` or `text`.
    #[arg(long, value_name = "FORMAT", default_value = "json")]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub system: SystemArgs,

    /// End time (the run starts at t = 0).
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    pub t_end: String,

    /// Output interval: one row every H (and one at --t-end). For the fixed-step integrators it
    /// is also the step; `dopri5` chooses its own steps (to --rtol/--atol) and interpolates.
    #[arg(long, value_name = "H", allow_negative_numbers = true)]
    pub dt: String,

    /// Integrator: `dopri5` (adaptive Dormand–Prince 5(4), default), `rk4` (classic
    /// Runge–Kutta, fixed step --dt), `variational` (symplectic midpoint, fixed step; bounded
    /// energy error) or `euler` (explicit, fixed step).
    #[arg(
        long,
        visible_alias = "method",
        value_name = "NAME",
        default_value = "dopri5"
    )]
    pub integrator: String,

    /// Relative tolerance of `dopri5` (default 1e-9).
    #[arg(long, value_name = "R", allow_negative_numbers = true)]
    pub rtol: Option<String>,

    /// Absolute tolerance of `dopri5` (default 1e-12).
    #[arg(long, value_name = "A", allow_negative_numbers = true)]
    pub atol: Option<String>,

    /// How the explicit integrators evaluate q̈: `auto` (default: compiled when L can be traced
    /// and the run is long enough to repay compiling it, else dual numbers), `autodiff` (dual
    /// numbers) or `compiled` (L traced once, differentiated symbolically and compiled to
    /// machine code; an error for an L that branches on values). `variational` always works on
    /// L itself.
    #[arg(long, value_name = "EVALUATOR", default_value = "auto")]
    pub eom: String,

    /// Write one row every K steps (output intervals) instead of every one; the first and the
    /// last row are always written.
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    pub every: Option<String>,

    /// Threads for the compiled term kernels (default: all cores). A lattice's stencil is split
    /// across them once its work repays handing it out (about 6·10³ sites of the wave equation,
    /// 900 of sine-Gordon), other term kernels from 32 768 terms on (a chain of that many
    /// springs); smaller ones, straight-line code and dual numbers run on one thread. Where
    /// kernels are split, the explicit Runge–Kutta steps of a state of at least 2¹⁷ values run
    /// on the same threads (the results are the same on any number).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub threads: Option<String>,

    /// Report how q̈ was computed (evaluator, path, mass-matrix solve), steps, rejected steps, q̈
    /// evaluations, compile and run time: on stderr, and under "stats" in `--format json`.
    #[arg(long)]
    pub stats: bool,

    /// Trajectory file (`-` for stdout). At least one of --out and --plot is required.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Trajectory format: `csv`, `json` or `npy` (default: from the --out extension, else csv).
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,

    /// Plot file, `.png` or `.svg`: coordinates vs time, phase portrait, energy error.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,

    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}
