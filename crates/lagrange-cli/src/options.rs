//! The validated-options layer: raw strings from [`crate::cli`] become checked values.
//!
//! Every check that can fail before any work starts is here, so a bad invocation never
//! computes anything nor creates a file.

use crate::app::warn;
use crate::cli::{SamplingArgs, SimulateArgs, SystemArgs};
use crate::output::atomic::{self, TargetKind};
use crate::output::{PlotKind, TrajectoryFormat};
use crate::system::{self, AnySystem};
use anyhow::{Context, Result, bail};
use lagrange::integrators::{MIN_RTOL, Method};
use lagrange::systems::System;
use lagrange::{accelerations, jacobi_integral, momenta};
use lagrange_learn::generate::PhaseBox;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Default relative tolerance of `dopri5`.
pub const DEFAULT_RTOL: f64 = 1e-9;
/// Default absolute tolerance of `dopri5`.
pub const DEFAULT_ATOL: f64 = 1e-12;
pub use lagrange_learn::limits::MAX_ROWS;

/// A finite number given for option `what`.
pub fn finite(text: &str, what: &str) -> Result<f64> {
    let value = number(text, what)?;
    if !value.is_finite() {
        bail!("{what} must be a finite number, got '{}'", text.trim());
    }
    Ok(value)
}

fn number(text: &str, what: &str) -> Result<f64> {
    let text = text.trim();
    if text.is_empty() {
        bail!("{what} needs a number, got nothing");
    }
    text.parse::<f64>()
        .map_err(|_| anyhow::anyhow!("{what} must be a number, got '{text}'"))
}

/// `NAME=VALUE` pairs from repeated, comma-separated `--state` / `--param` values, in order.
///
/// `flag` names the option in messages. Names must be unique and values finite.
pub fn assignments(values: &[String], flag: &str) -> Result<Vec<(String, f64)>> {
    let mut out: Vec<(String, f64)> = Vec::new();
    for value in values {
        for entry in value.split(',') {
            let entry = entry.trim();
            if entry.is_empty() {
                bail!("{flag} '{value}' has an empty entry (expected NAME=VALUE,...)");
            }
            let Some((name, text)) = entry.split_once('=') else {
                bail!("{flag} entry '{entry}' is not NAME=VALUE");
            };
            let (name, text) = (name.trim(), text.trim());
            if name.is_empty() {
                bail!("{flag} entry '{entry}' has no name (expected NAME=VALUE)");
            }
            if !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                bail!("{flag} entry '{entry}': '{name}' is not a valid name");
            }
            if text.is_empty() {
                bail!("{flag} entry '{entry}' has no value (expected {name}=NUMBER)");
            }
            let value: f64 = text
                .parse()
                .map_err(|_| anyhow::anyhow!("{flag} entry '{entry}': '{text}' is not a number"))?;
            if !value.is_finite() {
                bail!("{flag} entry '{entry}': {name} must be finite, got {value}");
            }
            if out.iter().any(|(n, _)| n == name) {
                bail!("{flag}: '{name}' is given more than once");
            }
            out.push((name.to_string(), value));
        }
    }
    Ok(out)
}

/// Loads SYSTEM and sets its `--param` values (for the commands that take no `--state`).
pub fn system_with_params(spec: &str, params: &[String]) -> Result<AnySystem> {
    let mut system = system::load(spec)?;
    for (name, value) in assignments(params, "--param")? {
        system
            .set_parameter(&name, value)
            .with_context(|| format!("--param {name}={value}"))?;
    }
    Ok(system)
}

/// `--trajectories K --t-end T` as `Some((K, T))`, or `None` when neither is given; one without
/// the other is an error, and `check(K, T)` judges the values.
pub fn trajectories(
    args: &SamplingArgs,
    check: impl FnOnce(usize, f64) -> Result<()>,
) -> Result<Option<(usize, f64)>> {
    match (args.trajectories, args.t_end) {
        (None, None) => Ok(None),
        (Some(k), Some(t)) => {
            check(k, t)?;
            Ok(Some((k, t)))
        }
        (Some(_), None) => bail!("--trajectories needs --t-end"),
        (None, Some(_)) => bail!("--t-end is only used with --trajectories"),
    }
}

/// The `--box` (without it, every dimension is [-1, 1]).
pub fn phase_box(args: &SamplingArgs) -> Result<PhaseBox> {
    PhaseBox::parse(args.phase_box.as_deref().unwrap_or("")).context("--box")
}

/// A loaded system with its parameters set, and the starting state.
pub struct Problem {
    pub system: AnySystem,
    pub coordinates: Vec<String>,
    pub q: Vec<f64>,
    pub q_dot: Vec<f64>,
}

/// Loads SYSTEM, applies `--param`, and builds the state from `--state` over the defaults.
pub fn problem(args: &SystemArgs) -> Result<Problem> {
    let mut system = system::load(&args.system)?;
    let coordinates = system.coordinates();
    let params = assignments(&args.params, "--param")?;
    let state = assignments(&args.state, "--state")?;
    apply_params(&mut system, &coordinates, &params)?;
    // A size parameter (`n` of `chain`, `n-body`, ...) changes the coordinates.
    let coordinates = system.coordinates();
    let (q, q_dot) = initial_state(&system, &coordinates, &state)?;
    Ok(Problem {
        system,
        coordinates,
        q,
        q_dot,
    })
}

fn apply_params(
    system: &mut AnySystem,
    coordinates: &[String],
    params: &[(String, f64)],
) -> Result<()> {
    for (name, value) in params {
        if coordinates.contains(name) {
            bail!(
                "--param '{name}' is a coordinate, not a parameter (set it with --state {name}=...)"
            );
        }
        if let Some(coord) = name
            .strip_suffix("_dot")
            .filter(|c| coordinates.iter().any(|x| x == c))
        {
            bail!(
                "--param '{name}' is the velocity of coordinate '{coord}', not a parameter (set it with --state)"
            );
        }
        system
            .set_parameter(name, *value)
            .with_context(|| format!("--param {name}={value}"))?;
    }
    Ok(())
}

fn initial_state(
    system: &AnySystem,
    coordinates: &[String],
    state: &[(String, f64)],
) -> Result<(Vec<f64>, Vec<f64>)> {
    let n = coordinates.len();
    let (mut q, mut q_dot) = system.initial_state();
    q.resize(n, 0.0);
    q_dot.resize(n, 0.0);
    let parameters: HashSet<String> = system.parameters().into_iter().map(|(p, _)| p).collect();
    for (name, value) in state {
        if let Some(i) = coordinates.iter().position(|c| c == name) {
            q[i] = *value;
        } else if let Some(i) = name
            .strip_suffix("_dot")
            .and_then(|base| coordinates.iter().position(|c| c == base))
        {
            q_dot[i] = *value;
        } else if let Some(base) = name.strip_suffix("_dot") {
            bail!(
                "--state '{name}': '{base}' is not a coordinate, so it has no velocity (coordinates: {})",
                coordinates.join(", ")
            );
        } else if parameters.contains(name) {
            bail!(
                "--state '{name}' is a parameter, not a coordinate (set it with --param {name}=...)"
            );
        } else {
            bail!(
                "--state '{name}' is not a coordinate (coordinates: {}; velocities end in _dot)",
                coordinates.join(", ")
            );
        }
    }
    for (i, name) in coordinates.iter().enumerate() {
        if !q[i].is_finite() {
            bail!("initial state: {name} = {} is not finite", q[i]);
        }
        if !q_dot[i].is_finite() {
            bail!("initial state: {name}_dot = {} is not finite", q_dot[i]);
        }
    }
    Ok((q, q_dot))
}

/// Where and how the trajectory is written.
pub struct TrajectoryTarget {
    /// `None` for stdout (`--out -`).
    pub path: Option<PathBuf>,
    pub format: TrajectoryFormat,
}

/// A plot file and its kind.
pub struct PlotTarget {
    pub path: PathBuf,
    pub kind: PlotKind,
}

pub use lagrange_learn::eom_choice::EomChoice;

/// Everything `simulate` needs, checked.
pub struct SimulateOptions {
    pub problem: Problem,
    pub method: Method,
    pub integrator: &'static str,
    /// `--eom`.
    pub eom: EomChoice,
    pub t_end: f64,
    pub dt: f64,
    /// `--every K`: one row per K output intervals (steps of the fixed-step methods).
    pub every: usize,
    /// `--threads N` (default: all cores).
    pub threads: usize,
    /// `--stats`: report the evaluator, path, mass-matrix solve, counts and times.
    pub stats: bool,
    pub out: Option<TrajectoryTarget>,
    pub plot: Option<PlotTarget>,
    pub quiet: bool,
}

impl SimulateOptions {
    pub fn from_args(args: &SimulateArgs) -> Result<Self> {
        // Cheap checks on the options first, then the system.
        let t_end = finite(&args.t_end, "--t-end")?;
        if t_end < 0.0 {
            bail!(
                "--t-end must not be negative (the run starts at t = 0), got {}",
                args.t_end.trim()
            );
        }
        let dt = finite(&args.dt, "--dt")?;
        if dt <= 0.0 {
            bail!("--dt must be positive, got {}", args.dt.trim());
        }
        if t_end / dt > MAX_ROWS {
            bail!(
                "--t-end / --dt = {:.3e} output rows is too many (at most {MAX_ROWS:.0e}); use a larger --dt",
                t_end / dt
            );
        }
        let tolerance = |text: &Option<String>, flag: &str, default: f64| -> Result<f64> {
            let Some(text) = text else { return Ok(default) };
            let value = finite(text, flag)?;
            if value <= 0.0 {
                bail!("{flag} must be positive, got {}", text.trim());
            }
            Ok(value)
        };
        let rtol = tolerance(&args.rtol, "--rtol", DEFAULT_RTOL)?;
        let atol = tolerance(&args.atol, "--atol", DEFAULT_ATOL)?;
        let (_, integrator) = method(&args.integrator, rtol, atol)?;
        let rtol = tolerance_warnings(args, integrator, rtol);
        let (method, integrator) = method(&args.integrator, rtol, atol)?;
        let eom = match args.eom.trim().to_ascii_lowercase().as_str() {
            "auto" => EomChoice::Auto,
            "autodiff" => EomChoice::Autodiff,
            "compiled" => EomChoice::Compiled,
            _ => bail!(
                "unknown --eom '{}' (expected auto, autodiff or compiled)",
                args.eom
            ),
        };
        let every = match &args.every {
            None => 1,
            Some(text) => match text.trim().parse::<usize>() {
                Ok(k) if k >= 1 => k,
                _ => bail!(
                    "--every must be a whole number of steps ≥ 1, got '{}'",
                    text.trim()
                ),
            },
        };
        let threads = match &args.threads {
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
            Some(text) => match text.trim().parse::<usize>() {
                Ok(n) if (1..=1024).contains(&n) => n,
                _ => bail!(
                    "--threads must be a whole number from 1 to 1024, got '{}'",
                    text.trim()
                ),
            },
        };
        if args.out.is_none() && args.plot.is_none() {
            bail!(
                "nothing to write: give --out FILE (.csv, .json, .npy or - for stdout) and/or --plot FILE (.png or .svg)"
            );
        }
        let out = match &args.out {
            Some(path) => Some(trajectory_target(path, args.format.as_deref())?),
            None => {
                if let Some(format) = &args.format {
                    TrajectoryFormat::from_name(format)?;
                    bail!("--format {format} needs --out FILE");
                }
                None
            }
        };
        let plot = match &args.plot {
            Some(path) => {
                let kind = PlotKind::from_path(path)?;
                check_writable_parent(path, "--plot")?;
                Some(PlotTarget {
                    path: path.clone(),
                    kind,
                })
            }
            None => None,
        };
        let same = match (&out, &plot) {
            (
                Some(TrajectoryTarget {
                    path: Some(out), ..
                }),
                Some(plot),
            ) => out == &plot.path || same_file(out, &plot.path),
            _ => false,
        };
        if same {
            bail!("--out and --plot name the same file");
        }
        let problem = problem(&args.system)?;
        let mut out = out;
        // Fields write NPY unless the format is asked for (by --format or a .csv/.json name).
        if let Some(target) = out.as_mut()
            && problem.system.field().is_some()
            && args.format.is_none()
            && !target.path.as_deref().is_some_and(|p| {
                p.extension().is_some_and(|e| {
                    e.eq_ignore_ascii_case("csv") || e.eq_ignore_ascii_case("json")
                })
            })
        {
            target.format = TrajectoryFormat::Npy;
        }
        // A start at which q̈, the energy or the momenta are not finite is bad input, not a run
        // that "blew up at t = 0".
        let Problem {
            system,
            coordinates,
            q,
            q_dot,
        } = &problem;
        state_values(system, coordinates, 0.0, q, q_dot)?;
        Ok(Self {
            problem,
            method,
            integrator,
            eom,
            t_end,
            dt,
            every,
            threads,
            stats: args.stats,
            out,
            plot,
            quiet: args.quiet,
        })
    }
}

/// `warning:` lines for tolerances that have no effect or cannot be met; returns the relative
/// tolerance to use. Below [`MIN_RTOL`] the error estimate of `dopri5` is rounding noise, so,
/// as SciPy's `solve_ivp` does, the tolerance is raised to it (rather than failing the run).
fn tolerance_warnings(args: &SimulateArgs, integrator: &str, rtol: f64) -> f64 {
    if integrator != "dopri5" {
        for (flag, given) in [("--rtol", &args.rtol), ("--atol", &args.atol)] {
            if given.is_some() {
                warn(&format!(
                    "{flag} is ignored: --integrator {integrator} takes fixed steps of --dt (only dopri5 uses tolerances)"
                ));
            }
        }
        return rtol;
    }
    if rtol < MIN_RTOL {
        warn(&format!(
            "--rtol {} cannot be met in double precision; using the smallest that can, 100 × machine epsilon = {MIN_RTOL:.1e}",
            args.rtol.as_deref().unwrap_or_default().trim()
        ));
        return MIN_RTOL;
    }
    rtol
}

/// Whether two paths name the same existing file (through links or `..`).
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// `name = value` for every coordinate and velocity, for messages.
pub fn describe_state(coordinates: &[String], q: &[f64], q_dot: &[f64]) -> String {
    // `{:?}`: 1e200 as `1e200`, not 201 digits
    let q = coordinates
        .iter()
        .zip(q)
        .map(|(c, v)| format!("{c} = {v:?}"));
    let q_dot = coordinates
        .iter()
        .zip(q_dot)
        .map(|(c, v)| format!("{c}_dot = {v:?}"));
    q.chain(q_dot).collect::<Vec<_>>().join(", ")
}

/// q̈, energy (Jacobi integral) and momenta at one state.
pub struct StateValues {
    pub q_ddot: Vec<f64>,
    /// `None` for a system without a Lagrangian (a `baseline` model).
    pub energy: Option<f64>,
    /// `None` for a system without a Lagrangian.
    pub momenta: Option<Vec<f64>>,
}

/// q̈, energy and momenta at a state, or an error naming the quantity that is not finite and
/// the state: a state at which they are not finite is bad input (exit 2).
pub fn state_values(
    system: &AnySystem,
    coordinates: &[String],
    t: f64,
    q: &[f64],
    q_dot: &[f64],
) -> Result<StateValues> {
    let at = || format!("at {} (t = {t})", describe_state(coordinates, q, q_dot));
    if let Some(neural) = system.neural()
        && !system.has_lagrangian()
    {
        let q_ddot = neural.model.baseline_accelerations(q, q_dot);
        if let Some(i) = q_ddot.iter().position(|v| !v.is_finite()) {
            bail!(
                "{}_ddot is not finite ({}) {}",
                coordinates[i],
                q_ddot[i],
                at()
            );
        }
        return Ok(StateValues {
            q_ddot,
            energy: None,
            momenta: None,
        });
    }
    let q_ddot = accelerations(system, t, q, q_dot).with_context(|| format!("q_ddot {}", at()))?;
    if let Some(i) = q_ddot.iter().position(|v| !v.is_finite()) {
        bail!(
            "{}_ddot is not finite ({}) {}",
            coordinates[i],
            q_ddot[i],
            at()
        );
    }
    let energy =
        jacobi_integral(system, t, q, q_dot).with_context(|| format!("energy {}", at()))?;
    if !energy.is_finite() {
        bail!("the energy is not finite ({energy}) {}", at());
    }
    let momenta = momenta(system, t, q, q_dot).with_context(|| format!("momenta {}", at()))?;
    if let Some(i) = momenta.iter().position(|v| !v.is_finite()) {
        bail!(
            "the momentum of '{}' is not finite ({}) {}",
            coordinates[i],
            momenta[i],
            at()
        );
    }
    Ok(StateValues {
        q_ddot,
        energy: Some(energy),
        momenta: Some(momenta),
    })
}

/// The integrator called `name`, and its canonical name.
pub fn method(name: &str, rtol: f64, atol: f64) -> Result<(Method, &'static str)> {
    let key = name.trim().to_ascii_lowercase();
    let (canonical, method) = match key.as_str() {
        "euler" => ("euler", Method::Euler),
        "rk4" | "runge-kutta" => ("rk4", Method::Rk4),
        "dopri5" | "dopri" | "dp54" | "dormand-prince" | "rk45" => {
            ("dopri5", Method::DormandPrince54 { rtol, atol })
        }
        "variational" | "verlet" | "stormer-verlet" => ("variational", Method::Variational),
        _ => bail!("unknown integrator '{name}' (expected euler, rk4, dopri5 or variational)"),
    };
    Ok((method, canonical))
}

fn trajectory_target(path: &Path, format: Option<&str>) -> Result<TrajectoryTarget> {
    let format = match format {
        Some(name) => TrajectoryFormat::from_name(name)?,
        None => TrajectoryFormat::from_path(path),
    };
    if path == Path::new("-") {
        return Ok(TrajectoryTarget { path: None, format });
    }
    check_writable_parent(path, "--out")?;
    Ok(TrajectoryTarget {
        path: Some(path.to_path_buf()),
        format,
    })
}

/// Fails early when `path` cannot be written (see [`atomic::check_target`]).
fn check_writable_parent(path: &Path, flag: &str) -> Result<TargetKind> {
    atomic::check_target(path, flag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn parses_lists_and_repeats() {
        let a = assignments(&s(&["x=1,y=0.5", "x_dot=-0.1"]), "--state").unwrap();
        assert_eq!(
            a,
            vec![("x".into(), 1.0), ("y".into(), 0.5), ("x_dot".into(), -0.1)]
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "x", "x=", "=1", "x=abc", "x=nan", "x=inf", "x=1,", "x=1,x=2", "a b=1",
        ] {
            assert!(assignments(&s(&[bad]), "--state").is_err(), "{bad}");
        }
    }
}
