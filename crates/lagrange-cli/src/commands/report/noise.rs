//! Report section 5: how much noise learning tolerates. Parametric fits (naive least squares
//! against the bias-aware SIMEX fit) on samples `(q, q̇, q̈)` with noise on every column, the
//! two ways of learning from measured positions only (smoothing differentiation, multiple
//! shooting), and a neural Lagrangian trained on noisy samples.

use super::{Context, Section, log_slope, sci, table};
use crate::output::plot_learn::{LineAxes, Series, lines, noise_sweep as plot_sweep};
use anyhow::Result;
use lagrange::expr::TextSystem;
use lagrange::integrators::{Method, NoObserver, simulate};
use lagrange::systems::System;
use lagrange_learn::neural::train::evaluate_mse;
use lagrange_learn::neural::{
    InputScaling, NeuralKind, NeuralModel, SmoothActivation, TrainOptions, train,
};
use lagrange_learn::noise::{SimexOptions, SweepOptions, SweepRow, noise_sweep};
use lagrange_learn::positions::{
    PositionTrajectory, ShootingOptions, differentiate, learn_by_shooting,
};
use lagrange_learn::{Engine, GenerateSpec, LearnOptions, Restricted, TextModel, generate, learn};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

pub const TITLE: &str = "How much noise does learning tolerate?";

const OSCILLATOR: &str = include_str!("../../../../../examples/harmonic-oscillator.toml");
const PENDULUM: &str = include_str!("../../../../../examples/pendulum.toml");

/// A text system's model with only `fitted` unknown (from half its true value), the other
/// parameters fixed at their true values; and that true value.
fn one_parameter_model(toml: &str, fitted: &str) -> Result<(Restricted<TextModel>, f64)> {
    let system = TextSystem::from_toml_str(toml)?;
    let truth: Vec<(String, f64)> = system.parameters();
    let value = truth
        .iter()
        .find(|(n, _)| n == fitted)
        .map(|(_, v)| *v)
        .ok_or_else(|| anyhow::anyhow!("no parameter {fitted}"))?;
    let fixed: Vec<(String, f64)> = truth.into_iter().filter(|(n, _)| n != fitted).collect();
    let mut model = Restricted::new(
        TextModel::from_toml_str(toml)?,
        Some(&[fitted.to_string()]),
        &fixed,
    )?;
    model.set_initial(fitted, 0.5 * value)?;
    Ok((model, value))
}

/// One system's naive-vs-SIMEX sweep (or why it failed).
struct Sweep {
    label: &'static str,
    parameter: &'static str,
    truth: f64,
    rows: std::result::Result<Vec<SweepRow>, String>,
}

/// What the answer quotes of one sweep: the errors at the largest level and how the bias grows.
struct SweepFact {
    label: &'static str,
    parameter: &'static str,
    level: f64,
    naive: f64,
    aware: f64,
    naive_bias: f64,
    aware_bias: f64,
    slope: f64,
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        f64::NAN
    } else {
        x.iter().sum::<f64>() / x.len() as f64
    }
}

fn median(x: &[f64]) -> f64 {
    let mut v: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Root-mean-square of every entry of `rows`.
fn rms(rows: &[Vec<f64>]) -> f64 {
    let (sum, count) = rows
        .iter()
        .flatten()
        .fold((0.0, 0usize), |(s, c), x| (s + x * x, c + 1));
    (sum / count.max(1) as f64).sqrt()
}

fn percent(x: f64) -> String {
    if x.is_finite() {
        format!("{} %", sci(100.0 * x))
    } else {
        "–".into()
    }
}

/// Results of the positions-only fits at one noise level (over the repeats).
struct PositionRow {
    level: f64,
    smoothing: Vec<f64>,
    windows: Vec<f64>,
    shooting: Vec<f64>,
    shooting_sigma: Vec<f64>,
    z: Vec<f64>,
    segments: Vec<f64>,
    failures: Vec<String>,
}

/// The oscillator's positions, simulated by dopri5 and measured every `dt` to `t_end` with
/// Gaussian noise σ = level × RMS(x); k fitted both ways.
fn positions_study(
    levels: &[f64],
    repeats: usize,
    t_end: f64,
    dt: f64,
) -> Result<(Vec<PositionRow>, usize)> {
    let system = TextSystem::from_toml_str(OSCILLATOR)?;
    let (model, truth) = one_parameter_model(OSCILLATOR, "k")?;
    let (q0, v0) = system.initial_state();
    let method = Method::DormandPrince54 {
        rtol: 1e-11,
        atol: 1e-13,
    };
    let clean = simulate(&system, &method, 0.0, &q0, &v0, t_end, dt, &mut NoObserver)?;
    let scale = rms(&clean.q);
    let options = LearnOptions {
        engine: Engine::Auto,
        ..LearnOptions::default()
    };
    let mut out = Vec::new();
    for (l, &level) in levels.iter().enumerate() {
        let mut row = PositionRow {
            level,
            smoothing: Vec::new(),
            windows: Vec::new(),
            shooting: Vec::new(),
            shooting_sigma: Vec::new(),
            z: Vec::new(),
            segments: Vec::new(),
            failures: Vec::new(),
        };
        for r in 0..repeats {
            let mut rng = ChaCha8Rng::seed_from_u64(1000 + r as u64);
            rng.set_stream(l as u64);
            let q: Vec<Vec<f64>> = clean
                .q
                .iter()
                .map(|x| {
                    x.iter()
                        .map(|v| v + level * scale * normal(&mut rng))
                        .collect()
                })
                .collect();
            let traj = PositionTrajectory {
                coordinates: system.coordinates(),
                t: clean.t.clone(),
                q,
            };
            match differentiate(&traj, None).and_then(|(data, fit)| {
                learn(&model, &data, &options).map(|r| (r.parameters["k"], fit.half_window))
            }) {
                Ok((k, h)) => {
                    row.smoothing.push((k - truth).abs() / truth);
                    row.windows.push(h as f64);
                }
                Err(e) => row.failures.push(format!("smoothing: {e}")),
            }
            match learn_by_shooting(
                &model,
                &traj,
                &LearnOptions::default(),
                &ShootingOptions::default(),
                &mut |_| {},
            ) {
                Ok(r) => {
                    let k = r.parameters["k"];
                    let sigma = r
                        .uncertainty
                        .get("k")
                        .copied()
                        .flatten()
                        .unwrap_or(f64::NAN);
                    row.shooting.push((k - truth).abs() / truth);
                    row.shooting_sigma.push(sigma / truth);
                    if level > 0.0 {
                        row.z.push((k - truth).abs() / sigma);
                    }
                    row.segments.push(
                        r.trajectory
                            .and_then(|t| t.segments)
                            .map_or(f64::NAN, |s| s as f64),
                    );
                }
                Err(e) => row.failures.push(format!("shooting: {e}")),
            }
        }
        out.push(row);
    }
    Ok((out, clean.t.len()))
}

/// Relative q̈ error, on clean held-out samples, of an `lnn` trained on samples with noise
/// `level` on every column.
fn neural_error(
    system: &TextSystem,
    level: f64,
    (width, depth): (usize, usize),
    steps: usize,
    samples: usize,
) -> Result<f64> {
    let spec = |noise, seed| GenerateSpec {
        samples,
        noise,
        seed,
        ..GenerateSpec::default()
    };
    let data = generate(system, &spec(level, 1))?;
    let test = generate(system, &spec(0.0, 2))?;
    let n = data.dof();
    let scaling = InputScaling::from_samples(&data.q, &data.q_dot, vec![false; n]);
    let mut model = NeuralModel::new(
        NeuralKind::Lnn,
        data.coordinates.clone(),
        width,
        depth,
        SmoothActivation::Softplus,
        scaling,
        1,
    )?;
    let options = TrainOptions {
        steps,
        seed: 1,
        ..TrainOptions::default()
    };
    train(&mut model, &data, &options, &mut |_| {})?;
    Ok(evaluate_mse(&model, &test).mse(n).sqrt() / rms(&test.q_ddot))
}

pub fn run(ctx: &mut Context) -> Result<Section> {
    let levels: Vec<f64> = ctx.size(vec![0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2], vec![0.0, 0.1]);
    let repeats = ctx.size(10, 2);
    let samples = ctx.size(1000, 200);
    let simex_repeats = ctx.size(8, 2);
    let levels_text = levels
        .iter()
        .map(|l| format!("{l}"))
        .collect::<Vec<_>>()
        .join(",");

    // 1. samples (q, q̇, q̈) with noise on every column: naive against SIMEX
    let started = Instant::now();
    let mut sweeps = Vec::new();
    for (label, toml, parameter) in [("oscillator", OSCILLATOR, "k"), ("pendulum", PENDULUM, "g")] {
        ctx.log(&format!(
            "noise: {label}, naive and SIMEX fits of {parameter}"
        ));
        let system = TextSystem::from_toml_str(toml)?;
        let (model, truth) = one_parameter_model(toml, parameter)?;
        let make = |level: f64, seed: u64| {
            generate(
                &system,
                &GenerateSpec {
                    samples,
                    noise: level,
                    seed,
                    ..GenerateSpec::default()
                },
            )
        };
        let sweep = SweepOptions {
            levels: levels.clone(),
            repeats,
            seed: 0,
            simex: SimexOptions {
                repeats: simex_repeats,
                ..SimexOptions::default()
            },
        };
        let options = LearnOptions {
            engine: Engine::Auto,
            ..LearnOptions::default()
        };
        let rows = noise_sweep(&model, &[truth], make, &options, &sweep, &|| {})
            .map_err(|e| e.to_string());
        sweeps.push(Sweep {
            label,
            parameter,
            truth,
            rows,
        });
    }
    let sweep_seconds = started.elapsed().as_secs_f64();

    let mut body = format!(
        "**Samples with noise on every column.** Datasets of {samples} states uniform in the box \
         [-1, 1]² (θ or x, and its velocity), with Gaussian noise σ = LEVEL × RMS added to every \
         column (q, q̇ and q̈), {repeats} datasets per level. One parameter is learned, the \
         others fixed at their true values (the oscillator's k with m = 1, the pendulum's g \
         with m = l = 1), by Levenberg–Marquardt from half the true value: the naive \
         least-squares fit, and the bias-aware fit (SIMEX: refits with {simex_repeats} extra-noise \
         copies at each of λ = 0.5, 1, 1.5, 2 times the noise variance, extrapolated to zero \
         noise). Relative parameter error |θ̂ − θ*| / θ*, mean ± standard deviation over the \
         datasets; *bias* is the mean signed error (θ̂ − θ*) / θ*.\n\n"
    );
    let mut sweep_rows = Vec::new();
    let mut facts = Vec::new();
    let mut oscillator_rows: Option<Vec<SweepRow>> = None;
    for s in &sweeps {
        let bias = |m: &std::collections::BTreeMap<String, f64>| {
            m.get(s.parameter).copied().unwrap_or(f64::NAN)
        };
        match &s.rows {
            Ok(rows) => {
                for r in rows {
                    // the oscillator's attenuation k / (1 + LEVEL²) (see the text)
                    let predicted = if s.label == "oscillator" {
                        percent(-r.level * r.level / (1.0 + r.level * r.level) + 0.0)
                    } else {
                        "–".into()
                    };
                    sweep_rows.push(vec![
                        format!("{} ({})", s.label, s.parameter),
                        format!("{}", r.level),
                        format!("{} ± {}", percent(r.naive_mean), percent(r.naive_std)),
                        percent(bias(&r.naive_bias)),
                        predicted,
                        format!("{} ± {}", percent(r.aware_mean), percent(r.aware_std)),
                        percent(bias(&r.aware_bias)),
                        if r.failures > 0 {
                            format!("{} of {}", r.failures, r.failures + r.repeats)
                        } else {
                            "0".into()
                        },
                    ]);
                }
                // how the naive bias grows, where it dominates the scatter (levels ≥ 0.05)
                let slope = log_slope(
                    &rows
                        .iter()
                        .filter(|r| r.level >= 0.05)
                        .map(|r| (r.level, bias(&r.naive_bias).abs()))
                        .collect::<Vec<_>>(),
                );
                if let Some(top) = rows.iter().max_by(|a, b| a.level.total_cmp(&b.level)) {
                    facts.push(SweepFact {
                        label: s.label,
                        parameter: s.parameter,
                        level: top.level,
                        naive: top.naive_mean,
                        aware: top.aware_mean,
                        naive_bias: bias(&top.naive_bias),
                        aware_bias: bias(&top.aware_bias),
                        slope,
                    });
                }
                if s.label == "oscillator" {
                    oscillator_rows = Some(rows.clone());
                }
            }
            Err(e) => {
                body.push_str(&format!(
                    "The {} sweep failed ({} = {} to learn): {e}.\n\n",
                    s.label, s.parameter, s.truth
                ));
            }
        }
    }
    body.push_str(&table(
        &[
            "system (learned)",
            "noise level",
            "naive error",
            "naive bias",
            "predicted naive bias",
            "SIMEX error",
            "SIMEX bias",
            "failed fits",
        ],
        &sweep_rows,
    ));
    body.push_str(
        "\nWhy the naive fit is biased: the loss compares q̈ with the model evaluated at the \
         *measured* q, q̇, so noise on those regressors attenuates the fit. For the oscillator \
         q̈ = −(k/m) x, least squares gives k̂ → k / (1 + LEVEL²) (the *predicted* column); \
         noise on q̈ only adds scatter. SIMEX trades a little scatter for most of the bias.\n\n",
    );
    if let Some(rows) = &oscillator_rows {
        let (path, markdown) = ctx.figure(
            "noise-sweep.png",
            "Relative error of the oscillator's k against the noise level, naive and SIMEX fits (mean ± standard deviation over the datasets).",
            Some(&format!(
                "lagrange noise-sweep examples/harmonic-oscillator.toml --fit k --fix m=1 --levels {levels_text} --repeats {repeats} --samples {samples} --simex-repeats {simex_repeats} -o sweep.csv --plot noise-sweep.png"
            )),
        );
        plot_sweep(
            rows,
            "harmonic oscillator: error of k vs noise",
            &path,
            ctx.plot_kind(),
        )?;
        body.push_str(&markdown);
        body.push('\n');
    }

    // 2. positions only: smoothing differentiation against multiple shooting
    let position_levels: Vec<f64> = ctx.size(vec![0.0, 0.01, 0.02, 0.05, 0.1, 0.2], vec![0.0, 0.1]);
    let position_repeats = ctx.size(5, 1);
    let (t_end, dt) = ctx.size((20.0, 0.02), (10.0, 0.05));
    ctx.log("noise: positions only, smoothing and shooting");
    let started = Instant::now();
    let (positions, count) = positions_study(&position_levels, position_repeats, t_end, dt)?;
    let position_seconds = started.elapsed().as_secs_f64();
    let mut position_rows = Vec::new();
    let mut failures = Vec::new();
    for p in &positions {
        position_rows.push(vec![
            format!("{}", p.level),
            percent(mean(&p.smoothing)),
            sci(median(&p.windows)),
            percent(mean(&p.shooting)),
            percent(mean(&p.shooting_sigma)),
            if p.z.is_empty() {
                "–".into()
            } else {
                sci(mean(&p.z))
            },
            sci(median(&p.segments)),
        ]);
        failures.extend(p.failures.iter().map(|f| format!("level {}: {f}", p.level)));
    }
    body.push_str(&format!(
        "**Positions only.** The oscillator (m = 1, k = 4) from x = 1, ẋ = 0, simulated by \
         dopri5 (rtol 1e-11) and measured every {dt} to t = {t_end} ({count} positions), with \
         Gaussian noise σ = LEVEL × RMS(x) on the positions alone; {position_repeats} noise \
         draw(s) per level. k is learned (m fixed) from half its true value in two ways \
         (`lagrange learn --trajectory FILE --from-positions smoothing|shooting`): *smoothing* \
         estimates q̇ and q̈ by local degree-4 polynomial fits whose window (2h + 1 samples) \
         cross-validation chooses, then fits them as samples; *shooting* integrates the model \
         (RK4) over segments of the trajectory from fitted initial states and matches the \
         positions, growing the segments while they still follow the data. Mean relative error \
         of k, shooting's Gauss–Newton standard error σ_k / k, and |k̂ − k| / σ_k (about 1 when \
         the uncertainty is honest).\n\n"
    ));
    body.push_str(&table(
        &[
            "noise level",
            "smoothing error",
            "window h",
            "shooting error",
            "shooting σ_k / k",
            "shooting error / σ_k",
            "segments",
        ],
        &position_rows,
    ));
    if !failures.is_empty() {
        body.push_str(&format!(
            "\nFits that failed (left out of the means): {}.\n",
            failures.join("; ")
        ));
    }

    // 3. a neural Lagrangian trained on noisy samples
    let (width, depth, steps) = ctx.size((64, 2, 3000), (8, 1, 40));
    let neural_samples = ctx.size(1000, 120);
    let oscillator = TextSystem::from_toml_str(OSCILLATOR)?;
    ctx.log("noise: neural lnn on noisy samples");
    let started = Instant::now();
    let mut neural = Vec::new();
    for &level in &levels {
        neural.push((
            level,
            neural_error(&oscillator, level, (width, depth), steps, neural_samples).ok(),
        ));
    }
    let neural_seconds = started.elapsed().as_secs_f64();
    let neural_rows: Vec<Vec<String>> = neural
        .iter()
        .map(|(l, e)| vec![format!("{l}"), e.map_or("training failed".into(), sci)])
        .collect();
    body.push_str(&format!(
        "\n**A neural Lagrangian.** An `lnn` ({width}×{depth} softplus, {steps} Adam steps, \
         `lagrange train`) trained on {neural_samples} oscillator samples with noise on every \
         column; its relative q̈ error (RMS of q̈_model − q̈_true over RMS of q̈_true) on \
         {neural_samples} clean held-out states.\n\n"
    ));
    body.push_str(&table(&["noise level", "relative q̈ error"], &neural_rows));

    // the figure: every method against the noise level
    let mut series = Vec::new();
    for s in &sweeps {
        if let Ok(rows) = &s.rows {
            if s.label != "oscillator" {
                continue;
            }
            series.push(Series {
                name: "samples, naive fit".into(),
                points: rows
                    .iter()
                    .filter(|r| r.level > 0.0)
                    .map(|r| (r.level, r.naive_mean))
                    .collect(),
            });
            series.push(Series {
                name: "samples, SIMEX".into(),
                points: rows
                    .iter()
                    .filter(|r| r.level > 0.0)
                    .map(|r| (r.level, r.aware_mean))
                    .collect(),
            });
        }
    }
    series.push(Series {
        name: "positions, smoothing".into(),
        points: positions
            .iter()
            .filter(|p| p.level > 0.0)
            .map(|p| (p.level, mean(&p.smoothing)))
            .collect(),
    });
    series.push(Series {
        name: "positions, shooting".into(),
        points: positions
            .iter()
            .filter(|p| p.level > 0.0)
            .map(|p| (p.level, mean(&p.shooting)))
            .collect(),
    });
    let (path, markdown) = ctx.figure(
        "noise-methods.png",
        "Relative error of the oscillator's k against the noise level: fits of samples (q, q̇, q̈) with noise on every column, naive and SIMEX, and fits of noisy positions alone, by smoothing differentiation and by shooting (the noisy levels; the clean ones are in the tables).",
        None,
    );
    lines(
        &series,
        &LineAxes {
            title: "oscillator: error of k vs noise level",
            x_label: "noise level (σ / RMS)",
            y_label: "relative error of k",
            log_x: true,
            log_y: true,
        },
        &path,
        ctx.plot_kind(),
    )?;
    body.push('\n');
    body.push_str(&markdown);

    ctx.shared.timings.push(format!(
        "noise: naive + SIMEX sweeps of 2 systems ({} levels × {repeats} datasets × {samples} samples) {:.1} s; positions-only fits ({} levels × {position_repeats}, {count} positions, smoothing + shooting) {:.1} s; {} lnn trainings {:.1} s",
        levels.len(),
        sweep_seconds,
        position_levels.len(),
        position_seconds,
        levels.len(),
        neural_seconds
    ));

    // the answer, from the measured numbers
    let top_level = levels.iter().copied().fold(0.0_f64, f64::max);
    let sample_text: Vec<String> = facts
        .iter()
        .map(|f| {
            format!(
                "the {}'s {} is off by {} naive (bias {}) and {} with SIMEX (bias {})",
                f.label,
                f.parameter,
                percent(f.naive),
                percent(f.naive_bias),
                percent(f.aware),
                percent(f.aware_bias)
            )
        })
        .collect();
    let sample_level = facts.first().map_or(f64::NAN, |f| f.level);
    let slopes: Vec<String> = facts
        .iter()
        .filter(|f| f.slope.is_finite())
        .map(|f| format!("LEVEL^{} ({} {})", sci(f.slope), f.label, f.parameter))
        .collect();
    let growth = if slopes.is_empty() {
        String::new()
    } else {
        format!("; the naive bias grows like {}", slopes.join(", "))
    };
    let top_position = positions.iter().max_by(|a, b| a.level.total_cmp(&b.level));
    let (pos_level, smoothing_top, shooting_top, sigma_top) =
        top_position.map_or((f64::NAN, f64::NAN, f64::NAN, f64::NAN), |p| {
            (
                p.level,
                mean(&p.smoothing),
                mean(&p.shooting),
                mean(&p.shooting_sigma),
            )
        });
    let neural_top = neural
        .iter()
        .filter(|(l, _)| *l == top_level)
        .find_map(|(_, e)| *e)
        .unwrap_or(f64::NAN);
    let neural_clean = neural
        .iter()
        .filter(|(l, _)| *l == 0.0)
        .find_map(|(_, e)| *e)
        .unwrap_or(f64::NAN);
    let summary = format!(
        "at {} % noise on every column, {}; from noisy positions alone at {} %: shooting {} off, smoothing {}",
        sci(100.0 * sample_level),
        sample_text.join(", "),
        sci(100.0 * pos_level),
        percent(shooting_top),
        percent(smoothing_top)
    );
    let answer = format!(
        "With Gaussian noise of {} % of each column's RMS on samples (q, q̇, q̈), {}{}. \
         From noisy positions alone ({} % noise), multiple shooting is off by {} (its own \
         standard error: {}) and smoothing differentiation by {}; a small neural `lnn` goes \
         from a relative q̈ error of {} on clean samples to {} at {} % noise.",
        sci(100.0 * sample_level),
        sample_text.join(", and "),
        growth,
        sci(100.0 * pos_level),
        percent(shooting_top),
        percent(sigma_top),
        percent(smoothing_top),
        sci(neural_clean),
        sci(neural_top),
        sci(100.0 * top_level)
    );
    Ok(Section {
        id: "noise",
        title: TITLE,
        summary,
        answer,
        body,
        slide_figure: Some("noise-methods.png".into()),
    })
}
