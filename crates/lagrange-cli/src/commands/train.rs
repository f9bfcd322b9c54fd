//! `lagrange train`: train a neural model (`lnn`, `structured` or `baseline`) on a dataset of
//! `lagrange generate` and write the self-describing model file, which every command that takes
//! SYSTEM then accepts.

use crate::commands::learn::{bar, pending_text, plot_kind, read_data};
use crate::device::Device;
use crate::output::atomic::{AtomicFile, check_target};
use crate::output::plot_learn;
use anyhow::{Context, Result, bail};
use clap::Args;
use lagrange_learn::neural::model::{MAX_DEPTH, MAX_WIDTH};
use lagrange_learn::neural::{
    InputScaling, LrSchedule, MassPenalty, ModelFile, NeuralKind, NeuralModel, Precision,
    SmoothActivation, TrainOptions,
};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Data file (CSV of `lagrange generate`: <q>...,<q>_dot...,<q>_ddot...).
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,

    /// Model: lnn[:WIDTHxDEPTH], structured[:WIDTHxDEPTH] or baseline[:WIDTHxDEPTH] (default
    /// 128x2).
    #[arg(long, value_name = "KIND[:WxD]")]
    pub model: String,

    /// Hidden activation: softplus, tanh or sigmoid.
    #[arg(long, value_name = "NAME", default_value = "softplus")]
    pub activation: String,

    /// Adam steps (an upper bound: early stopping may end sooner).
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub steps: usize,

    /// Samples per minibatch.
    #[arg(long, value_name = "B", default_value_t = 256)]
    pub batch: usize,

    /// Peak learning rate.
    #[arg(
        long,
        value_name = "LR",
        default_value_t = 1e-3,
        allow_negative_numbers = true
    )]
    pub lr: f64,

    /// Learning-rate schedule: cosine, onecycle or constant.
    #[arg(long, value_name = "NAME", default_value = "cosine")]
    pub schedule: String,

    /// Fraction of the samples held out for validation and early stopping (0 disables both).
    #[arg(
        long,
        value_name = "FRACTION",
        default_value_t = 0.1,
        allow_negative_numbers = true
    )]
    pub validation: f64,

    /// Validation checks without improvement before stopping early (0: never).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub patience: usize,

    /// Coordinates fed to the network as (sin, cos), comma-separated (e.g. theta1,theta2).
    #[arg(long, value_name = "A,B,...")]
    pub angles: Option<String>,

    /// Feed the raw inputs instead of normalizing them by the data's mean and spread.
    #[arg(long)]
    pub no_normalize: bool,

    /// lnn only: penalize a mass matrix whose smallest eigenvalue is below FLOOR, with weight
    /// WEIGHT (`--mass-penalty 1` means weight 1, floor 0.01).
    #[arg(long, value_name = "WEIGHT[:FLOOR]")]
    pub mass_penalty: Option<String>,

    /// structured only: ε of the mass matrix C Cᵀ + εI.
    #[arg(long, value_name = "EPS", allow_negative_numbers = true)]
    pub epsilon: Option<f64>,

    /// Precision of the training passes: f32 (faster) or f64.
    #[arg(long, value_name = "P", default_value = "f32")]
    pub precision: String,

    /// Stop after this many seconds of training.
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub time_limit: Option<f64>,

    /// Seed of the initial weights, the split and the minibatches.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,

    /// Threads (default: all cores).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// Where the loss and gradient run: cpu, or cuda[:N] (an NVIDIA GPU; needs a build with
    /// `--features cuda`; lnn and baseline models).
    #[arg(long, value_name = "DEVICE", default_value = "cpu")]
    pub device: String,

    /// Name of the model in titles (default: the data file's stem).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Model file to write (JSON; `-` for stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,

    /// Loss-curve plot (.png or .svg): train and validation loss per step.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,

    /// No progress bar and no summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// `kind[:WIDTHxDEPTH]`.
pub fn parse_model(spec: &str) -> Result<(NeuralKind, usize, usize)> {
    let (name, shape) = match spec.split_once(':') {
        Some((a, b)) => (a, Some(b)),
        None => (spec, None),
    };
    let Some(kind) = NeuralKind::parse(name) else {
        bail!(
            "unknown --model '{spec}' (expected lnn, structured or baseline, optionally with :WIDTHxDEPTH, e.g. lnn:128x2)"
        );
    };
    let (width, depth) = match shape {
        None => (128, 2),
        Some(s) => {
            let parsed = s
                .split_once(['x', 'X'])
                .and_then(|(w, d)| Some((w.parse::<usize>().ok()?, d.parse::<usize>().ok()?)));
            match parsed {
                Some((w, d)) if (1..=MAX_WIDTH).contains(&w) && (1..=MAX_DEPTH).contains(&d) => {
                    (w, d)
                }
                _ => bail!(
                    "invalid --model shape '{s}' in '{spec}' (expected WIDTHxDEPTH with width 1..={MAX_WIDTH} and depth 1..={MAX_DEPTH}, e.g. 128x2)"
                ),
            }
        }
    };
    Ok((kind, width, depth))
}

fn options(args: &TrainArgs) -> Result<TrainOptions> {
    if args.steps == 0 {
        bail!("--steps must be at least 1");
    }
    if args.batch == 0 {
        bail!("--batch must be at least 1");
    }
    if !(args.lr.is_finite() && args.lr > 0.0) {
        bail!("--lr must be a positive number, got {}", args.lr);
    }
    if !(args.validation.is_finite() && (0.0..0.9).contains(&args.validation)) {
        bail!(
            "--validation must be a fraction in [0, 0.9), got {}",
            args.validation
        );
    }
    let Some(schedule) = LrSchedule::parse(&args.schedule) else {
        bail!(
            "unknown --schedule '{}' (expected cosine, onecycle or constant)",
            args.schedule
        );
    };
    let precision = match args.precision.as_str() {
        "f32" => Precision::F32,
        "f64" => Precision::F64,
        p => bail!("unknown --precision '{p}' (expected f32 or f64)"),
    };
    if let Some(t) = args.time_limit
        && !(t.is_finite() && t > 0.0)
    {
        bail!("--time-limit must be a positive number of seconds, got {t}");
    }
    if args.threads > 1024 {
        bail!("--threads {} is more than 1024", args.threads);
    }
    Ok(TrainOptions {
        steps: args.steps,
        batch: args.batch,
        lr: args.lr,
        schedule,
        validation: args.validation,
        patience: args.patience,
        eval_every: 0,
        seed: args.seed,
        threads: args.threads,
        precision,
        time_limit: args.time_limit,
    })
}

fn penalty(spec: &str) -> Result<MassPenalty> {
    let (w, f) = match spec.split_once(':') {
        Some((w, f)) => (w, Some(f)),
        None => (spec, None),
    };
    let num = |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x > 0.0)
    };
    let Some(weight) = num(w) else {
        bail!("--mass-penalty '{spec}': the weight must be a positive number");
    };
    let floor = match f {
        None => 0.01,
        Some(f) => match num(f) {
            Some(x) => x,
            None => bail!("--mass-penalty '{spec}': the floor must be a positive number"),
        },
    };
    Ok(MassPenalty { weight, floor })
}

pub fn run(args: &TrainArgs) -> Result<()> {
    let (kind, width, depth) = parse_model(&args.model)?;
    let Some(activation) = SmoothActivation::parse(&args.activation) else {
        bail!(
            "unknown --activation '{}' (expected softplus, tanh or sigmoid)",
            args.activation
        );
    };
    let options = options(args)?;
    let device = Device::parse(&args.device)?;
    let penalty = match &args.mass_penalty {
        None => None,
        Some(_) if kind != NeuralKind::Lnn => {
            bail!(
                "--mass-penalty applies to --model lnn only (structured is regular by construction)"
            )
        }
        Some(spec) => Some(penalty(spec)?),
    };
    if let Some(eps) = args.epsilon {
        if kind != NeuralKind::Structured {
            bail!("--epsilon applies to --model structured only");
        }
        if !(eps.is_finite() && eps >= 0.0) {
            bail!("--epsilon must be a finite number ≥ 0, got {eps}");
        }
    }
    let plot = plot_kind(&args.plot)?;
    check_target(&args.out, "--out")?;
    let data = read_data(&args.data)?;
    let n = data.dof();
    let mut angles = vec![false; n];
    if let Some(list) = &args.angles {
        for name in list.split(',').map(str::trim) {
            match data.coordinates.iter().position(|c| c == name) {
                Some(i) => angles[i] = true,
                None => bail!(
                    "--angles: '{name}' is not a coordinate of the data ({})",
                    data.coordinates.join(", ")
                ),
            }
        }
    }
    let scaling = if args.no_normalize {
        let mut s = InputScaling::identity(n);
        s.angles = angles;
        s
    } else {
        InputScaling::from_samples(&data.q, &data.q_dot, angles)
    };
    let mut model = NeuralModel::new(
        kind,
        data.coordinates.clone(),
        width,
        depth,
        activation,
        scaling,
        args.seed,
    )?;
    model.penalty = penalty;
    if let Some(eps) = args.epsilon {
        model.epsilon = eps;
    }
    if kind == NeuralKind::Baseline {
        // q̈ = spread ⊙ network: the network's outputs are then O(1)
        let rms = data.column_rms();
        model.output_scale = (0..n)
            .map(|i| {
                let s = rms[2 * n + i];
                if s.is_finite() && s > 0.0 { s } else { 1.0 }
            })
            .collect();
    }

    let progress = bar(args.quiet, Some(options.steps as u64));
    let report = device
        .train(&mut model, &data, &options, &mut |p| {
            if let Some(b) = &progress {
                b.set_position(p.step as u64);
                let validation = if p.point.validation.is_finite() {
                    format!(", validation {:.3e}", p.point.validation)
                } else {
                    String::new()
                };
                let singular = if p.singular > 0 {
                    format!(", {} singular", p.singular)
                } else {
                    String::new()
                };
                b.set_message(format!("loss {:.3e}{validation}{singular}", p.point.train));
            }
        })
        .context("training failed")?;
    if let Some(b) = progress {
        b.finish_and_clear();
    }

    let name = args.name.clone().or_else(|| {
        args.data
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
    });
    let mut file = ModelFile::new(&model, name.clone(), Some(report.clone()));
    file.training_box = Some(lagrange_learn::neural::file::training_box(&data));
    let mut pending = Vec::new();
    if let Some((path, plot_kind)) = &plot {
        let target = AtomicFile::new(path)?;
        let title = format!(
            "{} — {}, {} steps",
            name.as_deref().unwrap_or("model"),
            model.describe(),
            report.steps
        );
        plot_learn::train_curve(&report.history, &title, target.temp_path(), *plot_kind)
            .with_context(|| format!("cannot write plot '{}'", path.display()))?;
        pending.push(target);
    }
    pending.push(pending_text(&args.out, &(file.to_json() + "\n"))?);
    for f in pending {
        f.commit()?;
    }
    if !args.quiet && std::io::stderr().is_terminal() {
        eprintln!(
            "{}: {} steps in {:.1} s, train mse {:.3e}{}{}{}",
            model.describe(),
            report.steps,
            report.seconds,
            report.final_train_loss,
            report
                .final_validation_loss
                .map(|v| format!(", validation mse {v:.3e}"))
                .unwrap_or_default(),
            if report.stopped_early {
                " (stopped early)"
            } else {
                ""
            },
            if report.singular_samples > 0 {
                format!(
                    ", {} samples with a singular mass matrix",
                    report.singular_samples
                )
            } else {
                String::new()
            }
        );
    }
    Ok(())
}
