//! `lagrange animate`: a looping GIF of the motion, from a SYSTEM (simulated as `simulate`
//! does, keeping only the states the frames need) or from a trajectory CSV written by
//! `simulate --out`.
//!
//! The picture is the mechanism where the system declares its geometry
//! ([`lagrange::systems::System::geometry`]), else a moving point on each phase portrait; see
//! [`crate::output::animate`]. The file is written atomically: bad input or a failed run leaves
//! no file.

use crate::app::RunFailure;
use crate::cli::SystemArgs;
use crate::options::{self, Problem};
use crate::output::animate::{Frames, Settings, write_gif};
use crate::output::atomic::{AtomicFile, check_target};
use crate::output::progress;
use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use lagrange::integrators::{IntegrationError, simulate_streaming};
use lagrange::systems::System;
use lagrange_learn::eom_choice::{EomChoice, RunPlan, choose_evaluator};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// Longest default animation, in seconds (a long run is shown faster than real time).
const DEFAULT_MAX_SECONDS: f64 = 10.0;
/// Most frames an animation may have (fps × duration).
const MAX_FRAMES: usize = 3000;
/// Most simulation rows (t-end / dt), as `simulate` allows.
const MAX_ROWS: f64 = 1e8;

#[derive(Debug, Args)]
pub struct AnimateArgs {
    /// A TOML file, a built-in name (see `lagrange systems`), or a trajectory `.csv` written by
    /// `lagrange simulate --out`.
    #[command(flatten)]
    pub system: SystemArgs,

    /// The animation file: `.gif` (MP4 would need an encoder with system libraries).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,

    /// End time of the simulated run (the run starts at t = 0). Not used with a CSV.
    #[arg(
        long,
        value_name = "T",
        default_value = "10",
        allow_negative_numbers = true
    )]
    pub t_end: String,

    /// Output interval of the simulated run (the step of the fixed-step integrators).
    #[arg(
        long,
        value_name = "H",
        default_value = "0.01",
        allow_negative_numbers = true
    )]
    pub dt: String,

    /// Integrator: `dopri5` (default), `rk4`, `variational` or `euler` (as in `simulate`).
    #[arg(
        long,
        visible_alias = "method",
        value_name = "NAME",
        default_value = "dopri5"
    )]
    pub integrator: String,

    /// Frames per second.
    #[arg(
        long,
        value_name = "N",
        default_value = "30",
        allow_negative_numbers = true
    )]
    pub fps: String,

    /// Length of the animation in seconds (default: the run's time span at real speed, at most
    /// 10 s).
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub duration: Option<String>,

    /// Picture size in pixels, `WIDTHxHEIGHT`.
    #[arg(long, value_name = "WxH", default_value = "480x480")]
    pub size: String,

    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

pub fn run(args: &AnimateArgs) -> Result<()> {
    check_out(&args.out)?;
    let (width, height) = size(&args.size)?;
    let fps = match args.fps.trim().parse::<u32>() {
        Ok(n) if (1..=100).contains(&n) => n,
        _ => bail!(
            "--fps must be a whole number from 1 to 100, got '{}'",
            args.fps.trim()
        ),
    };
    let settings = Settings { width, height, fps };
    if is_csv(&args.system.system) {
        if !args.system.params.is_empty() || !args.system.state.is_empty() {
            bail!("--param and --state need a SYSTEM, not a trajectory CSV");
        }
        let path = Path::new(&args.system.system);
        let rows = read_csv(path)?;
        let span = rows.t.last().copied().unwrap_or(0.0) - rows.t.first().copied().unwrap_or(0.0);
        let count = frame_count(args, fps, span)?;
        let frames = rows.sample(count);
        let title = path
            .file_stem()
            .map_or("trajectory".into(), |s| s.to_string_lossy().into_owned());
        return write(&args.out, &frames, None, &title, &settings);
    }

    let t_end = options::finite(&args.t_end, "--t-end")?;
    if t_end <= 0.0 {
        bail!("--t-end must be positive, got {}", args.t_end.trim());
    }
    let dt = options::finite(&args.dt, "--dt")?;
    if dt <= 0.0 {
        bail!("--dt must be positive, got {}", args.dt.trim());
    }
    if t_end / dt > MAX_ROWS {
        bail!(
            "--t-end / --dt = {:.3e} steps is too many (at most {MAX_ROWS:.0e}); use a larger --dt",
            t_end / dt
        );
    }
    let (method, _) = options::method(
        &args.integrator,
        options::DEFAULT_RTOL,
        options::DEFAULT_ATOL,
    )?;
    let count = frame_count(args, fps, t_end)?;
    let Problem {
        system,
        coordinates,
        q,
        q_dot,
    } = options::problem(&args.system)?;
    options::state_values(&system, &coordinates, 0.0, &q, &q_dot)?;
    let chosen = choose_evaluator(
        &system,
        EomChoice::Auto,
        &RunPlan {
            method,
            t_end,
            dt,
            threads: 1,
        },
        &q,
        &q_dot,
    )
    .map_err(|e| anyhow!("{e}"))?;

    // frame k shows the first row at or after t_k = k·t_end/(count − 1), less half a step
    let at = |k: usize| t_end * k as f64 / (count.max(2) - 1) as f64 - 0.5 * dt;
    let mut frames = Frames {
        coordinates: coordinates.clone(),
        t: Vec::with_capacity(count),
        q: Vec::with_capacity(count),
        q_dot: Vec::with_capacity(count),
    };
    let mut blown_up = None;
    let result = {
        let mut observer = progress::observer(args.quiet);
        let mut sink = |t: f64, q: &[f64], q_dot: &[f64]| -> ControlFlow<()> {
            if !q.iter().chain(q_dot).all(|v| v.is_finite()) {
                blown_up = Some(t);
                return ControlFlow::Break(());
            }
            while frames.t.len() < count && t >= at(frames.t.len()) {
                frames.t.push(t);
                frames.q.push(q.to_vec());
                frames.q_dot.push(q_dot.to_vec());
            }
            ControlFlow::Continue(())
        };
        simulate_streaming(
            &system,
            chosen.eom,
            &method,
            0.0,
            &q,
            &q_dot,
            t_end,
            dt,
            1,
            &mut sink,
            observer.as_mut(),
        )
    };
    if let Some(t) = blown_up {
        return Err(anyhow!(RunFailure(format!(
            "the solution blew up: non-finite state at t = {t} (try a smaller --dt or --integrator dopri5)"
        ))));
    }
    result.map_err(|e| match e {
        IntegrationError::InvalidSettings { .. } => anyhow!(e),
        e => anyhow!(RunFailure(format!("integration failed: {e}"))),
    })?;
    // rounding at the very end can leave the last frame unfilled: repeat the last state
    while frames.t.len() < count {
        let k = frames.t.len() - 1;
        frames.t.push(frames.t[k]);
        frames.q.push(frames.q[k].clone());
        frames.q_dot.push(frames.q_dot[k].clone());
    }
    let geometry = system.geometry();
    write(
        &args.out,
        &frames,
        geometry.as_ref(),
        &system.title(),
        &settings,
    )
}

/// Encodes the GIF into a temporary file and puts it in place only when complete.
fn write(
    out: &Path,
    frames: &Frames,
    geometry: Option<&lagrange::systems::Geometry>,
    title: &str,
    settings: &Settings,
) -> Result<()> {
    let file = AtomicFile::new(out)?;
    let context = || format!("cannot write '{}'", out.display());
    let handle = std::io::BufWriter::new(file.file()?);
    write_gif(frames, geometry, title, settings, handle).with_context(context)?;
    file.sync().with_context(context)?;
    file.commit()
}

/// `--out` must be a writable `.gif`.
fn check_out(out: &Path) -> Result<()> {
    let ext = out
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("gif") => {}
        Some("mp4" | "m4v" | "mov" | "webm" | "mkv" | "avi") => {
            bail!("MP4 needs an encoder with system libraries; use .gif")
        }
        Some(other) => bail!(
            "unsupported animation format '.{other}' for '{}' (use .gif)",
            out.display()
        ),
        None => bail!("animation file '{}' needs a .gif extension", out.display()),
    }
    check_target(out, "--out")?;
    Ok(())
}

/// `WIDTHxHEIGHT`, each from 16 to 4096 pixels.
fn size(text: &str) -> Result<(u32, u32)> {
    let bad = || {
        anyhow!(
            "--size must be WIDTHxHEIGHT in pixels (16 to 4096 each, e.g. 480x480), got '{}'",
            text.trim()
        )
    };
    let (w, h) = text.trim().split_once(['x', 'X']).ok_or_else(bad)?;
    let parse = |s: &str| match s.trim().parse::<u32>() {
        Ok(n) if (16..=4096).contains(&n) => Ok(n),
        _ => Err(bad()),
    };
    Ok((parse(w)?, parse(h)?))
}

/// fps × duration frames, the duration defaulting to the run's span at real speed (≤ 10 s).
fn frame_count(args: &AnimateArgs, fps: u32, span: f64) -> Result<usize> {
    let duration = match &args.duration {
        Some(text) => {
            let d = options::finite(text, "--duration")?;
            if d <= 0.0 {
                bail!("--duration must be positive, got {}", text.trim());
            }
            d
        }
        None => span.clamp(1.0 / fps as f64, DEFAULT_MAX_SECONDS),
    };
    let count = (fps as f64 * duration).round().max(1.0);
    if count > MAX_FRAMES as f64 {
        bail!(
            "--fps × --duration = {count} frames is too many (at most {MAX_FRAMES}); lower --fps or --duration"
        );
    }
    Ok(count as usize)
}

fn is_csv(system: &str) -> bool {
    system.to_ascii_lowercase().ends_with(".csv")
}

/// A trajectory read back from CSV: every row.
struct Rows {
    coordinates: Vec<String>,
    t: Vec<f64>,
    q: Vec<Vec<f64>>,
    q_dot: Vec<Vec<f64>>,
}

impl Rows {
    /// `count` frames evenly spaced in time (the nearest row at or after each).
    fn sample(&self, count: usize) -> Frames {
        let (t0, t1) = (self.t[0], self.t[self.t.len() - 1]);
        let mut frames = Frames {
            coordinates: self.coordinates.clone(),
            t: Vec::new(),
            q: Vec::new(),
            q_dot: Vec::new(),
        };
        let mut row = 0;
        for k in 0..count {
            let target = t0 + (t1 - t0) * k as f64 / (count.max(2) - 1) as f64;
            while row + 1 < self.t.len() && self.t[row] < target {
                row += 1;
            }
            frames.t.push(self.t[row]);
            frames.q.push(self.q[row].clone());
            frames.q_dot.push(self.q_dot[row].clone());
        }
        frames
    }
}

/// Reads a CSV with the columns of `simulate --out`: `t, <q...>, <q>_dot..., [energy]`.
fn read_csv(path: &Path) -> Result<Rows> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read '{}'", path.display()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .ok_or_else(|| anyhow!("'{}' is empty", path.display()))?
        .split(',')
        .map(str::trim)
        .collect();
    let coordinates: Vec<String> = header
        .iter()
        .skip(1)
        .take_while(|c| !c.ends_with("_dot") && **c != "energy")
        .map(|c| c.to_string())
        .collect();
    let n = coordinates.len();
    let velocities_match = header.len() > 2 * n
        && coordinates
            .iter()
            .zip(&header[1 + n..1 + 2 * n])
            .all(|(c, v)| *v == format!("{c}_dot"));
    if header.first() != Some(&"t") || n == 0 || !velocities_match {
        bail!(
            "'{}' is not a trajectory CSV (expected the columns t, <q...>, <q>_dot... of `lagrange simulate --out`)",
            path.display()
        );
    }
    let mut rows = Rows {
        coordinates,
        t: Vec::new(),
        q: Vec::new(),
        q_dot: Vec::new(),
    };
    for (i, line) in lines.enumerate() {
        let values: Vec<f64> = line
            .split(',')
            .map(|v| v.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| anyhow!("'{}' line {}: not a row of numbers", path.display(), i + 2))?;
        if values.len() < 1 + 2 * n {
            bail!("'{}' line {}: too few columns", path.display(), i + 2);
        }
        rows.t.push(values[0]);
        rows.q.push(values[1..1 + n].to_vec());
        rows.q_dot.push(values[1 + n..1 + 2 * n].to_vec());
    }
    if rows.t.is_empty() {
        bail!("'{}' has no rows", path.display());
    }
    Ok(rows)
}
