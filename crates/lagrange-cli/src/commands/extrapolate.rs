//! `lagrange extrapolate`: the relative q̈ error of a trained model against the true system on a
//! 2-D slice of phase space that may reach beyond the training data, as CSV and a heatmap with
//! the training range outlined.

use crate::commands::evaluate::ModelAndTruth;
use crate::commands::learn::{pending_text, plot_kind};
use crate::options::assignments;
use crate::output::atomic::{AtomicFile, check_target};
use crate::output::plot_learn;
use anyhow::{Context, Result, bail};
use clap::Args;
use lagrange::systems::System;
use lagrange_learn::neural::error_map;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ExtrapolateArgs {
    #[command(flatten)]
    pub against: ModelAndTruth,

    /// The slice: two dimensions and their ranges, e.g. `theta1=-6:6,theta1_dot=-20:20`.
    #[arg(long, value_name = "X=LO:HI,Y=LO:HI", allow_hyphen_values = true)]
    pub slice: String,

    /// Values of the other dimensions, e.g. `theta2=0.3,theta2_dot=0` (default 0).
    #[arg(long, value_name = "NAME=VALUE,...", allow_hyphen_values = true)]
    pub at: Vec<String>,

    /// Grid points per axis.
    #[arg(long, value_name = "N", default_value_t = 101)]
    pub grid: usize,

    /// CSV file (`-` for stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,

    /// Heatmap (.png or .svg) of log10 of the relative error.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,

    /// No summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// One axis of the slice: the dimension's index in `(q, q̇)` and its range.
fn axis(entry: &str, columns: &[String]) -> Result<(usize, String, f64, f64)> {
    let Some((name, range)) = entry.split_once('=') else {
        bail!("--slice entry '{entry}' is not NAME=LOW:HIGH");
    };
    let name = name.trim();
    let Some(index) = columns.iter().position(|c| c == name) else {
        bail!(
            "--slice: '{name}' is not a coordinate or velocity of the model ({})",
            columns.join(", ")
        );
    };
    let parsed = range.split_once(':').and_then(|(a, b)| {
        let (a, b) = (a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?);
        (a.is_finite() && b.is_finite() && b > a).then_some((a, b))
    });
    let Some((lo, hi)) = parsed else {
        bail!(
            "--slice: the range of '{name}' must be LOW:HIGH with finite LOW < HIGH, got '{range}'"
        );
    };
    Ok((index, name.to_string(), lo, hi))
}

pub fn run(args: &ExtrapolateArgs) -> Result<()> {
    if !(2..=2001).contains(&args.grid) {
        bail!("--grid must be between 2 and 2001, got {}", args.grid);
    }
    let plot = plot_kind(&args.plot)?;
    check_target(&args.out, "--out")?;
    let (model, truth) = args.against.load()?;
    let coordinates = truth.coordinates();
    let n = coordinates.len();
    let columns: Vec<String> = coordinates
        .iter()
        .cloned()
        .chain(coordinates.iter().map(|c| format!("{c}_dot")))
        .collect();
    let entries: Vec<&str> = args
        .slice
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if entries.len() != 2 {
        bail!(
            "--slice must name exactly two dimensions (X=LO:HI,Y=LO:HI), got {}",
            entries.len()
        );
    }
    let x = axis(entries[0], &columns)?;
    let y = axis(entries[1], &columns)?;
    if x.0 == y.0 {
        bail!("--slice names '{}' twice", x.1);
    }
    let mut base = vec![0.0; 2 * n];
    for (name, value) in assignments(&args.at, "--at")? {
        let Some(i) = columns.iter().position(|c| *c == name) else {
            bail!(
                "--at: '{name}' is not a coordinate or velocity of the model ({})",
                columns.join(", ")
            );
        };
        if i == x.0 || i == y.0 {
            bail!("--at: '{name}' is an axis of the slice");
        }
        base[i] = value;
    }
    let g = args.grid;
    let ticks = |lo: f64, hi: f64| -> Vec<f64> {
        (0..g)
            .map(|k| lo + (hi - lo) * k as f64 / (g - 1) as f64)
            .collect()
    };
    let (xs, ys) = (ticks(x.2, x.3), ticks(y.2, y.3));
    let mut states = Vec::with_capacity(g * g);
    for &yv in &ys {
        for &xv in &xs {
            let mut s = base.clone();
            s[x.0] = xv;
            s[y.0] = yv;
            states.push((s[..n].to_vec(), s[n..].to_vec()));
        }
    }
    let map = error_map(&model.model, &truth, &states);
    let mut csv = String::new();
    let header: Vec<String> = [x.1.clone(), y.1.clone(), "relative_error".into()]
        .into_iter()
        .chain(coordinates.iter().map(|c| format!("{c}_ddot_model")))
        .chain(coordinates.iter().map(|c| format!("{c}_ddot_true")))
        .collect();
    csv.push_str(&header.join(","));
    csv.push('\n');
    let nan = vec![f64::NAN; n];
    for (k, state) in states.iter().enumerate() {
        let full: Vec<f64> = state.0.iter().chain(&state.1).copied().collect();
        let _ = write!(csv, "{},{},{}", full[x.0], full[y.0], map.relative_error[k]);
        for v in map.model[k].as_ref().unwrap_or(&nan) {
            let _ = write!(csv, ",{v}");
        }
        for v in map.truth[k].as_ref().unwrap_or(&nan) {
            let _ = write!(csv, ",{v}");
        }
        csv.push('\n');
    }
    let training_box = model.file.training_box.as_ref().and_then(|b| {
        let range = |name: &str| b.iter().find(|r| r.name == name).map(|r| (r.low, r.high));
        Some((range(&x.1)?, range(&y.1)?))
    });
    let mut pending = Vec::new();
    if let Some((path, kind)) = &plot {
        let file = AtomicFile::new(path)?;
        let title = format!(
            "{}: relative error of d²q/dt² against {}",
            model.title(),
            truth.title()
        );
        plot_learn::error_map(
            &xs,
            &ys,
            &map.relative_error,
            (&x.1, &y.1),
            training_box,
            &title,
            file.temp_path(),
            *kind,
        )
        .with_context(|| format!("cannot write plot '{}'", path.display()))?;
        pending.push(file);
    }
    pending.push(pending_text(&args.out, &csv)?);
    for f in pending {
        f.commit()?;
    }
    if !args.quiet && std::io::stderr().is_terminal() {
        let mut inside = Vec::new();
        let mut outside = Vec::new();
        for (k, e) in map.relative_error.iter().enumerate() {
            if !e.is_finite() {
                continue;
            }
            let (xv, yv) = (xs[k % g], ys[k / g]);
            let within = training_box.is_some_and(|((x0, x1), (y0, y1))| {
                (x0..=x1).contains(&xv) && (y0..=y1).contains(&yv)
            });
            if within {
                inside.push(*e)
            } else {
                outside.push(*e)
            }
        }
        let med = |mut v: Vec<f64>| {
            v.sort_by(|a, b| a.total_cmp(b));
            v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
        };
        eprintln!(
            "median relative q̈ error: {:.2e} inside the training range ({} points), {:.2e} outside ({} points)",
            med(inside.clone()),
            inside.len(),
            med(outside.clone()),
            outside.len()
        );
    }
    Ok(())
}
