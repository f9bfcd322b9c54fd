//! `lagrange animate`: a looping GIF of the motion, from a SYSTEM (simulated as `simulate`
//! does, keeping only the states the frames need) or from a trajectory CSV written by
//! `simulate --out` (drawn as `--system SYSTEM` is, or as phase portraits without it).
//!
//! The picture is decided once, from the system ([`Picture::of`]): a lattice field's profile or
//! heatmap, the mechanism where the system declares its geometry
//! ([`lagrange::systems::System::geometry`]), else a moving point on each phase portrait; see
//! [`crate::output::animate`]. The file is written atomically: bad input or a failed run leaves
//! no file.

use crate::app::RunFailure;
use crate::cli::SystemArgs;
use crate::options::{self, Problem};
use crate::output::animate::{Frames, Picture, Settings, write_gif};
use crate::output::atomic::{AtomicFile, check_target};
use crate::output::progress;
use crate::system::AnySystem;
use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use lagrange::integrators::{IntegrationError, simulate_streaming};
use lagrange::systems::System;
use lagrange_learn::eom_choice::{EomChoice, RunPlan, choose_evaluator};
use std::io::BufRead;
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

    /// With a trajectory CSV: the system it was simulated from (a TOML file or a built-in name),
    /// drawn as that system is (its mechanism, or its field's profile or heatmap); `--param`
    /// sets its parameters (sizes such as `n` included). The CSV's coordinate columns must be
    /// the system's. Without it a CSV animates as phase portraits.
    #[arg(long = "system", value_name = "SYSTEM")]
    pub with_system: Option<String>,

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
        return animate_csv(args, &settings);
    }
    if let Some(name) = &args.with_system {
        bail!(
            "--system '{name}' goes with a trajectory CSV; SYSTEM '{}' is simulated and drawn as itself",
            args.system.system
        );
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

    let picture = Picture::of(&system, &settings, count);
    // frame k shows the first row at or after t_k = k·t_end/(count − 1), less half a step
    let at = |k: usize| t_end * k as f64 / (count.max(2) - 1) as f64 - 0.5 * dt;
    let mut frames = Frames::new(coordinates.clone(), count);
    let mut blown_up = None;
    let result = {
        let mut observer = progress::observer(args.quiet);
        let mut sink = |t: f64, q: &[f64], q_dot: &[f64]| -> ControlFlow<()> {
            if !q.iter().chain(q_dot).all(|v| v.is_finite()) {
                blown_up = Some(t);
                return ControlFlow::Break(());
            }
            while frames.len() < count && t >= at(frames.len()) {
                frames.push(&picture, t, q, q_dot);
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
    frames.fill_to(count);
    write(&args.out, &frames, &picture, &system.title(), &settings)
}

/// Encodes the GIF into a temporary file and puts it in place only when complete.
fn write(
    out: &Path,
    frames: &Frames,
    picture: &Picture,
    title: &str,
    settings: &Settings,
) -> Result<()> {
    let file = AtomicFile::new(out)?;
    let context = || format!("cannot write '{}'", out.display());
    let handle = std::io::BufWriter::new(file.file()?);
    write_gif(frames, picture, title, settings, handle).with_context(context)?;
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

/// Animates a trajectory CSV, drawn as `--system` is (phase portraits without it).
fn animate_csv(args: &AnimateArgs, settings: &Settings) -> Result<()> {
    if !args.system.state.is_empty() {
        bail!("--state does not apply to a trajectory CSV (its rows are the states)");
    }
    let path = Path::new(&args.system.system);
    let system = match &args.with_system {
        Some(name) => Some(csv_system(name, &args.system.params)?),
        None if !args.system.params.is_empty() => {
            bail!("--param needs --system SYSTEM with a trajectory CSV")
        }
        None => None,
    };
    let csv = Trajectory::scan(path)?;
    if let (Some(system), Some(name)) = (&system, &args.with_system) {
        csv.check_coordinates(system, name)?;
    }
    let count = frame_count(args, settings.fps, csv.span())?;
    let picture = match &system {
        Some(system) => Picture::of(system, settings, count),
        None => Picture::Phase,
    };
    let frames = csv.frames(count, &picture)?;
    let title = match &system {
        Some(system) => system.title(),
        None => path
            .file_stem()
            .map_or("trajectory".into(), |s| s.to_string_lossy().into_owned()),
    };
    write(&args.out, &frames, &picture, &title, settings)
}

/// The system named by `--system`, with the `--param` values (its state is the CSV's).
fn csv_system(name: &str, params: &[String]) -> Result<AnySystem> {
    let Problem { system, .. } = options::problem(&SystemArgs {
        system: name.to_string(),
        state: Vec::new(),
        params: params.to_vec(),
    })?;
    Ok(system)
}

/// A short list of names: all of them up to five, else the first four and the count.
fn list(names: &[String]) -> String {
    if names.len() <= 5 {
        return names.join(", ");
    }
    format!("{}, ... ({} in all)", names[..4].join(", "), names.len())
}

/// The columns of a trajectory CSV of `simulate --out` (`t, <q...>, <q>_dot..., [energy]`) and
/// the time of every row. Rows are checked as they are scanned, but only their times are
/// kept; [`Trajectory::frames`] reads the file again for the rows the frames show, so a CSV of
/// a large lattice costs the frames' memory, not the file's.
struct Trajectory {
    path: PathBuf,
    coordinates: Vec<String>,
    t: Vec<f64>,
}

/// The lines of `path` with their 1-based numbers, blank ones skipped.
fn numbered_lines(path: &Path) -> Result<impl Iterator<Item = Result<(usize, String)>>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read '{}'", path.display()))?;
    let shown = path.display().to_string();
    Ok(std::io::BufReader::new(file)
        .lines()
        .enumerate()
        .map(move |(i, line)| {
            line.map(|l| (i + 1, l))
                .with_context(|| format!("cannot read '{shown}'"))
        })
        .filter(|line| !matches!(line, Ok((_, l)) if l.trim().is_empty())))
}

/// The numbers of data line `number` of `path`, at least `columns` of them.
fn parse_row(path: &Path, number: usize, line: &str, columns: usize) -> Result<Vec<f64>> {
    let values: Vec<f64> = line
        .split(',')
        .map(|v| v.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| anyhow!("'{}' line {number}: not a row of numbers", path.display()))?;
    if values.len() < columns {
        bail!("'{}' line {number}: too few columns", path.display());
    }
    Ok(values)
}

impl Trajectory {
    /// Reads the header and checks every row, keeping the times.
    fn scan(path: &Path) -> Result<Self> {
        let mut lines = numbered_lines(path)?;
        let header_line = lines
            .next()
            .transpose()?
            .ok_or_else(|| anyhow!("'{}' is empty", path.display()))?
            .1;
        let header: Vec<&str> = header_line.split(',').map(str::trim).collect();
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
        let mut t = Vec::new();
        for line in lines {
            let (number, line) = line?;
            t.push(parse_row(path, number, &line, 1 + 2 * n)?[0]);
        }
        if t.is_empty() {
            bail!("'{}' has no rows", path.display());
        }
        Ok(Self {
            path: path.to_path_buf(),
            coordinates,
            t,
        })
    }

    /// The time the rows span.
    fn span(&self) -> f64 {
        self.t[self.t.len() - 1] - self.t[0]
    }

    /// The CSV's coordinate columns must be `system`'s, in order: a CSV of another system (or
    /// of another size: `--param n=...`) would be drawn wrongly or not at all.
    fn check_coordinates(&self, system: &AnySystem, name: &str) -> Result<()> {
        let expected = system.coordinates();
        if self.coordinates != expected {
            bail!(
                "'{}' has the coordinates {} but --system '{name}' has {}; name the system the CSV was simulated from, with the same --param sizes",
                self.path.display(),
                list(&self.coordinates),
                list(&expected)
            );
        }
        Ok(())
    }

    /// The data row each of `count` frames evenly spaced in time shows (the nearest row at or
    /// after its time).
    fn rows(&self, count: usize) -> Vec<usize> {
        let (t0, t1) = (self.t[0], self.t[self.t.len() - 1]);
        let mut row = 0;
        (0..count)
            .map(|k| {
                let target = t0 + (t1 - t0) * k as f64 / (count.max(2) - 1) as f64;
                while row + 1 < self.t.len() && self.t[row] < target {
                    row += 1;
                }
                row
            })
            .collect()
    }

    /// `count` frames evenly spaced in time, kept as `picture` needs them.
    fn frames(&self, count: usize, picture: &Picture) -> Result<Frames> {
        let n = self.coordinates.len();
        let wanted = self.rows(count);
        let mut frames = Frames::new(self.coordinates.clone(), count);
        let mut next = wanted.iter().peekable();
        for (row, line) in numbered_lines(&self.path)?.skip(1).enumerate() {
            if next.peek().is_none() {
                break;
            }
            let (number, line) = line?;
            if next.peek() != Some(&&row) {
                continue;
            }
            let values = parse_row(&self.path, number, &line, 1 + 2 * n)?;
            while next.next_if(|&&r| r == row).is_some() {
                frames.push(
                    picture,
                    values[0],
                    &values[1..1 + n],
                    &values[1 + n..1 + 2 * n],
                );
            }
        }
        if frames.len() < count {
            bail!("'{}' changed while it was read", self.path.display());
        }
        Ok(frames)
    }
}
