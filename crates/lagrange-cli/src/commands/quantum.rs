//! `lagrange quantum`: the quantum statistical mechanics of the same Lagrangian. Path-integral
//! Monte Carlo in imaginary time (`lagrange::quantum::pimc`) gives the ground-state energy
//! (centroid-virial estimator with a binning error), `⟨q²⟩` and the position density; for one
//! coordinate, exact diagonalization of the grid Hamiltonian gives the same quantities exactly.
//! With `--fit PARAM --data samples.csv` it instead fits a parameter of V to measured
//! ground-state positions by maximum likelihood (`lagrange::quantum::likelihood`).

use crate::cli::SystemArgs;
use crate::commands::learn::pending_text;
use crate::options::{self, Problem};
use crate::output::PlotKind;
use crate::output::atomic::{AtomicFile, check_target};
use crate::output::plot_learn::{self, LineAxes, Series};
use crate::system::AnySystem;
use anyhow::{Context, Result, bail};
use clap::Args;
use lagrange::quantum::{
    NaturalForm, PimcMethod, PimcOptions, QuantumError, fit_ground_state, fit_interval,
    sample_paths, solve_grid, solve_potential,
};
use lagrange::systems::System;
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct QuantumArgs {
    #[command(flatten)]
    pub system: SystemArgs,

    /// Inverse temperature β = 1/(k_B T); large β gives ground-state averages.
    #[arg(long, value_name = "B", allow_negative_numbers = true)]
    pub beta: Option<String>,

    /// Imaginary-time slices P (Δτ = βħ/P; the energy has an O(Δτ²) bias).
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub slices: Option<i64>,

    /// Measured sweeps (HMC: trajectories), after a burn-in of 10 % more.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 20_000,
        allow_negative_numbers = true
    )]
    pub sweeps: i64,

    /// Planck's constant ħ.
    #[arg(
        long,
        value_name = "H",
        default_value = "1",
        allow_negative_numbers = true
    )]
    pub hbar: String,

    /// Seed of the random numbers.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Sampler: `metropolis` (single-slice moves plus whole-path shifts) or `hmc` (Hybrid
    /// Monte Carlo with exact ∇V).
    #[arg(long, value_name = "NAME", default_value = "metropolis")]
    pub method: String,

    /// Bins of each position histogram.
    #[arg(long, value_name = "N", default_value_t = 60)]
    pub bins: usize,

    /// Fit this parameter of V to ground-state position samples (--data) by maximum likelihood
    /// instead of sampling paths.
    #[arg(long, value_name = "PARAM")]
    pub fit: Option<String>,

    /// Samples for --fit: a CSV file with a header; the column named after the coordinate, else
    /// the first.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,

    /// The JSON result.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// Plot of the position density (PIMC histogram and, for one coordinate, the exact thermal
    /// density from diagonalization); .png or .svg.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
}

/// Points of the diagonalization grid of a fit.
const FIT_POINTS: usize = 4001;
/// Points of the exact curves in the plot (the house line chart marks every point).
const CURVE_POINTS: usize = 90;
/// The most sweeps (each stores its slices for the histograms, thinned beyond 2·10⁷ values).
const MAX_SWEEPS: i64 = 100_000_000;

pub fn run(args: &QuantumArgs) -> Result<()> {
    let hbar = options::finite(&args.hbar, "--hbar")?;
    if hbar <= 0.0 {
        bail!("--hbar must be > 0, got {hbar}");
    }
    check_target(&args.out, "--out")?;
    let plot = match &args.plot {
        Some(path) => {
            check_target(path, "--plot")?;
            Some((path.clone(), PlotKind::from_path(path)?))
        }
        None => None,
    };
    if let Some(param) = &args.fit {
        if plot.is_some() {
            bail!("--plot draws the PIMC density; it does not go with --fit");
        }
        let Some(data) = &args.data else {
            bail!("--fit {param} needs --data FILE with the measured positions");
        };
        return fit(args, param, data, hbar);
    }
    if args.data.is_some() {
        bail!("--data goes with --fit PARAM");
    }
    let Some(beta) = &args.beta else {
        bail!("quantum needs --beta B (the inverse temperature) and --slices P");
    };
    let beta = options::finite(beta, "--beta")?;
    if beta <= 0.0 {
        bail!("--beta must be > 0, got {beta}");
    }
    let Some(slices) = args.slices else {
        bail!("quantum needs --slices P (the number of imaginary-time slices)");
    };
    if slices < 2 {
        bail!("--slices must be at least 2, got {slices}");
    }
    if args.sweeps < 1 || args.sweeps > MAX_SWEEPS {
        bail!("--sweeps must be in 1..={MAX_SWEEPS}, got {}", args.sweeps);
    }
    if args.bins < 2 || args.bins > 10_000 {
        bail!("--bins must be in 2..=10000, got {}", args.bins);
    }
    let method = match args.method.trim().to_ascii_lowercase().as_str() {
        "metropolis" => PimcMethod::Metropolis,
        "hmc" => PimcMethod::Hmc,
        _ => bail!(
            "unknown --method '{}' (expected metropolis or hmc)",
            args.method
        ),
    };
    let Problem {
        system,
        coordinates,
        q,
        ..
    } = problem(&args.system)?;
    let sweeps = args.sweeps as usize;
    let options = PimcOptions {
        sweeps,
        burn_in: (sweeps / 10).max(1),
        hbar,
        seed: args.seed,
        method,
        bins: args.bins,
        start: Some(q),
        ..PimcOptions::new(beta, slices as usize)
    };
    let result = sample_paths(&system, &options).map_err(explain)?;
    let one_d = coordinates.len() == 1;
    let mut json = json!({
        "system": system.title(),
        "coordinates": coordinates,
        "method": method.name(),
        "beta": beta,
        "slices": slices,
        "sweeps": sweeps,
        "burn_in": options.burn_in,
        "hbar": hbar,
        "seed": args.seed,
        "dtau": result.dtau,
        "energy_estimator": "centroid-virial",
        "ground_state_energy": result.energy.mean,
        "ground_state_energy_error": result.energy.error,
        "autocorrelation_time": result.energy.autocorrelation_time,
        "q_mean": result.q_mean,
        "q2_mean": result.q2_mean,
        "q2_error": result.q2_error,
        "acceptance": result.acceptance,
        "shift_acceptance": result.shift_acceptance,
        "step": result.step,
        "density": result.densities.iter().map(|h| json!({"q": h.centres, "p": h.density})).collect::<Vec<_>>(),
        "density_error": result.densities.iter().map(|h| h.error.clone()).collect::<Vec<_>>(),
    });
    let mut exact = None;
    if one_d {
        let mass = result.form.mass[0];
        let centre = result.q_mean[0];
        let potential = |x: f64| lagrange::quantum::action::potential(&system, &[x]);
        let thermal = solve_potential(potential, mass, hbar, Some(beta), centre)
            .map_err(explain)
            .context("exact diagonalization")?;
        let ground = solve_potential(potential, mass, hbar, None, centre)
            .map_err(explain)
            .context("exact diagonalization")?;
        let h = &result.densities[0];
        let bins = h.centres.len();
        let rho_t = thermal.thermal_density(beta);
        let rho_0 = ground.ground_density();
        let obj = json.as_object_mut().expect("an object");
        obj.insert(
            "exact_ground_state_energy".into(),
            json!(ground.energies[0]),
        );
        obj.insert(
            "exact_thermal_energy".into(),
            json!(thermal.thermal_energy(beta)),
        );
        obj.insert(
            "exact_density".into(),
            json!({
                "q": h.centres,
                "p_thermal": thermal.bin_average(&rho_t, h.lo, h.hi, bins),
                "p_ground": ground.bin_average(&rho_0, h.lo, h.hi, bins),
            }),
        );
        exact = Some((thermal, rho_t, ground, rho_0));
    }
    let mut pending: Vec<AtomicFile> = Vec::new();
    if let Some((path, kind)) = &plot {
        let file = AtomicFile::new(path)?;
        // the exact curves first, so that the histogram's markers are drawn on top
        let mut series: Vec<Series> = Vec::new();
        let histograms = result
            .densities
            .iter()
            .zip(&coordinates)
            .map(|(h, c)| Series {
                name: format!("PIMC histogram of {c} (β = {beta}, P = {slices})"),
                points: h
                    .centres
                    .iter()
                    .copied()
                    .zip(h.density.iter().copied())
                    .collect(),
            });
        if let Some((thermal, rho_t, ground, rho_0)) = &exact {
            let h = &result.densities[0];
            let fine = |s: &lagrange::quantum::Spectrum, rho: &[f64]| -> Vec<(f64, f64)> {
                (0..=CURVE_POINTS)
                    .map(|i| {
                        let x = h.lo + (h.hi - h.lo) * i as f64 / CURVE_POINTS as f64;
                        (x, s.interpolate(rho, x))
                    })
                    .collect()
            };
            series.push(Series {
                name: format!("exact diagonalization: thermal density at β = {beta}"),
                points: fine(thermal, rho_t),
            });
            series.push(Series {
                name: "exact diagonalization: |ψ₀|² (β → ∞)".into(),
                points: fine(ground, rho_0),
            });
        }
        series.extend(histograms);
        let title = format!("{}: position density", system.title());
        let axes = LineAxes {
            title: &title,
            x_label: "q",
            y_label: "probability density",
            log_x: false,
            log_y: false,
        };
        plot_learn::lines(&series, &axes, file.temp_path(), *kind)
            .with_context(|| format!("cannot write plot '{}'", path.display()))?;
        pending.push(file);
    }
    let text = serde_json::to_string_pretty(&json)? + "\n";
    pending.push(pending_text(&args.out, &text)?);
    for file in pending {
        file.commit()?;
    }
    Ok(())
}

/// The system, with the checks every quantum run needs: a Lagrangian (not a baseline model, not
/// a field file).
fn problem(args: &SystemArgs) -> Result<Problem> {
    let problem = options::problem(args)?;
    if !problem.system.has_lagrangian() {
        bail!("a baseline model has no Lagrangian: it has no Euclidean action");
    }
    // every move evaluates V of the whole configuration and the form is checked with dense
    // mass matrices: built for a few particles, not for lattice fields (a field's path integral
    // would need moves local in space as well)
    let n = problem.coordinates.len();
    if n > MAX_COORDINATES {
        bail!(
            "quantum samples paths of at most {MAX_COORDINATES} coordinates; this system has {n} (lattice fields are not supported)"
        );
    }
    Ok(problem)
}

/// Most coordinates `quantum` takes.
const MAX_COORDINATES: usize = 64;

/// A library error as the one-line message of the CLI.
fn explain(e: QuantumError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// `--fit PARAM --data FILE`: the maximum-likelihood value of PARAM from ground-state samples.
fn fit(args: &QuantumArgs, param: &str, data: &Path, hbar: f64) -> Result<()> {
    let Problem {
        mut system,
        coordinates,
        ..
    } = problem(&args.system)?;
    if coordinates.len() != 1 {
        bail!(
            "--fit needs one coordinate (the likelihood uses exact diagonalization), the system has {}",
            coordinates.len()
        );
    }
    let Some(initial) = system
        .parameters()
        .iter()
        .find(|(name, _)| name == param)
        .map(|p| p.1)
    else {
        let known: Vec<String> = system.parameters().into_iter().map(|p| p.0).collect();
        bail!(
            "--fit: unknown parameter '{param}' (known: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        );
    };
    // the form must hold at the starting value
    NaturalForm::detect(&system).map_err(explain)?;
    let samples = read_samples(data, &coordinates[0])?;
    let interval = fit_interval(&samples);
    let model = |theta: f64| -> Result<_, QuantumError> {
        spectrum_at(&mut system, param, theta, hbar, interval)
    };
    let fit = fit_ground_state(&samples, initial, model).map_err(explain)?;
    let ground = spectrum_at(&mut system, param, fit.value, hbar, interval).map_err(explain)?;
    let json = json!({
        "system": system.title(),
        "coordinate": coordinates[0],
        "parameter": param,
        "value": fit.value,
        "standard_error": fit.standard_error,
        "initial": initial,
        "log_likelihood": fit.log_likelihood,
        "samples": fit.samples,
        "hbar": hbar,
        "method": "maximum likelihood with |ψ₀(q; θ)|² from exact diagonalization; error from the observed Fisher information",
        "grid": {"lo": interval.0, "hi": interval.1, "points": FIT_POINTS},
        "ground_state_energy": ground.energies[0],
        "evaluations": fit.evaluations,
    });
    let text = serde_json::to_string_pretty(&json)? + "\n";
    pending_text(&args.out, &text)?.commit()
}

/// The ground state of the system with `param = theta` on the fit's grid.
fn spectrum_at(
    system: &mut AnySystem,
    param: &str,
    theta: f64,
    hbar: f64,
    interval: (f64, f64),
) -> Result<lagrange::quantum::Spectrum, QuantumError> {
    system
        .set_parameter(param, theta)
        .map_err(|e| QuantumError::FitFailed {
            reason: e.to_string(),
        })?;
    let form = NaturalForm::detect(&*system)?;
    let system = &*system;
    solve_grid(
        |x| lagrange::quantum::action::potential(system, &[x]),
        form.mass[0],
        hbar,
        interval,
        FIT_POINTS,
        1,
    )
}

/// The samples of `coordinate` from a CSV file with a header line (its column, else the first).
fn read_samples(path: &Path, coordinate: &str) -> Result<Vec<f64>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read --data '{}'", path.display()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        bail!("--data '{}' is empty", path.display());
    };
    let names: Vec<&str> = header
        .split(',')
        .map(|s| s.trim().trim_matches('"'))
        .collect();
    let column = names.iter().position(|n| *n == coordinate).unwrap_or(0);
    let mut samples = Vec::new();
    for (i, line) in lines.enumerate() {
        let cell = line.split(',').nth(column).unwrap_or("").trim();
        let x: f64 = cell.parse().map_err(|_| {
            anyhow::anyhow!(
                "--data '{}' line {}: '{cell}' is not a number",
                path.display(),
                i + 2
            )
        })?;
        if !x.is_finite() {
            bail!(
                "--data '{}' line {}: '{cell}' is not finite",
                path.display(),
                i + 2
            );
        }
        samples.push(x);
    }
    if samples.len() < 2 {
        bail!(
            "--data '{}' needs at least 2 samples, has {}",
            path.display(),
            samples.len()
        );
    }
    Ok(samples)
}
