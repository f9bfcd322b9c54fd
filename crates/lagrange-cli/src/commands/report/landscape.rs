//! Report section 6: how rough the loss landscape is, and what avoids its local minima. The
//! (m, k) landscape of the oscillator and its valley; per model family, the share of random
//! starts that reach the best minimum and the number of distinct minima; and the remedies side
//! by side (multi-start, Adam against Levenberg–Marquardt, learning-rate schedules, rescaled
//! inputs, log-parameters), all on the same starts.

use super::{Context, Section, sci, table};
use crate::output::plot_learn::heatmap;
use anyhow::Result;
use lagrange::expr::TextSystem;
use lagrange::systems::by_name;
use lagrange_learn::landscape::{GridAxis, landscape_with};
use lagrange_learn::optim::{AdamOptions, LmOptions, Optimizer, Schedule, optimize_with};
use lagrange_learn::result::prepare;
use lagrange_learn::{
    AnyModel, Dataset, Engine, GenerateSpec, LearnOptions, Model, TextModel, build_engine,
    generate, learn,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

pub const TITLE: &str = "How rough is the loss landscape, and how are local minima avoided?";

const OSCILLATOR: &str = include_str!("../../../../../examples/harmonic-oscillator.toml");

/// The oscillator with m and k unknown, guessed at m = 2, k = 2 (the truth is m = 1, k = 4).
const OSCILLATOR_MODEL: &str = "coordinates = [\"x\"]\n\
     lagrangian = \"0.5*m*x_dot^2 - 0.5*k*x^2\"\n[parameters]\nm = 2.0\nk = 2.0\n";

/// The same in log-parameters: m = exp(a), k = exp(b).
fn log_oscillator_model() -> String {
    format!(
        "coordinates = [\"x\"]\nlagrangian = \"0.5*exp(a)*x_dot^2 - 0.5*exp(b)*x^2\"\n\
         [parameters]\na = {:?}\nb = {:?}\n",
        2.0_f64.ln(),
        2.0_f64.ln()
    )
}

/// Loss within this relative amount of the best (plus [`FLOOR`] of Σ q̈²): the same minimum.
const LOSS_TOLERANCE: f64 = 1e-3;
/// Absolute part of the tolerance, relative to Σ q̈² (a relative q̈ error of 1e-6).
const FLOOR: f64 = 1e-12;

/// How one start ended.
#[derive(Clone)]
struct End {
    /// Loss ε over Σ q̈² (the squared relative q̈ error); NaN when the fit failed.
    loss: f64,
    iterations: usize,
    converged: bool,
}

/// The starts of multi-start (`lagrange learn --starts N --seed S`): start 0 is the model's
/// own guess, start s ≥ 1 its random guess from stream s of a ChaCha8 generator seeded with S.
fn starts<M: Model + ?Sized>(model: &M, count: usize, seed: u64) -> Vec<Vec<f64>> {
    (0..count)
        .map(|s| {
            if s == 0 {
                model.initial_parameters()
            } else {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(s as u64);
                model.random_parameters(&mut rng)
            }
        })
        .collect()
}

/// Σ q̈² of the data.
fn total(data: &Dataset) -> f64 {
    data.q_ddot.iter().flatten().map(|x| x * x).sum::<f64>()
}

/// Runs `optimizer` from every start (one engine for all) and returns how each ended.
fn run_starts<M: Model + Sync + ?Sized>(
    model: &M,
    data: &Dataset,
    optimizer: &Optimizer,
    inits: &[Vec<f64>],
) -> Result<Vec<End>> {
    let prepared = prepare(model, data)?;
    let engine = build_engine(model, Engine::Auto, true)?;
    let scale = total(&prepared).max(f64::MIN_POSITIVE);
    Ok(inits
        .iter()
        .map(
            |init| match optimize_with(engine.as_ref(), &prepared, init, optimizer, &mut |_| {}) {
                Ok(o) if o.evaluation.value.sum.is_finite() => End {
                    loss: o.evaluation.value.sum / scale,
                    iterations: o.iterations,
                    converged: o.converged,
                },
                _ => End {
                    loss: f64::NAN,
                    iterations: 0,
                    converged: false,
                },
            },
        )
        .collect())
}

/// Whether `loss` is the minimum `best`.
fn reaches(loss: f64, best: f64) -> bool {
    loss.is_finite() && loss <= best * (1.0 + LOSS_TOLERANCE) + FLOOR
}

/// Statistics of a set of ends against the best loss `best`.
struct Stats {
    reached: usize,
    finite: usize,
    total: usize,
    minima: usize,
    unconverged: usize,
    best_error: f64,
    median_error: f64,
    median_iterations: f64,
}

fn stats(ends: &[End], best: f64) -> Stats {
    let mut losses: Vec<f64> = ends
        .iter()
        .map(|e| e.loss)
        .filter(|l| l.is_finite())
        .collect();
    losses.sort_by(f64::total_cmp);
    // distinct minima: the converged ends clustered by loss level
    let mut levels: Vec<f64> = Vec::new();
    let mut converged: Vec<f64> = ends
        .iter()
        .filter(|e| e.converged && e.loss.is_finite())
        .map(|e| e.loss)
        .collect();
    converged.sort_by(f64::total_cmp);
    for l in converged {
        if levels.last().is_none_or(|&m| !reaches(l, m)) {
            levels.push(l);
        }
    }
    let mut iterations: Vec<f64> = ends.iter().map(|e| e.iterations as f64).collect();
    iterations.sort_by(f64::total_cmp);
    Stats {
        reached: ends.iter().filter(|e| reaches(e.loss, best)).count(),
        finite: losses.len(),
        total: ends.len(),
        minima: levels.len(),
        unconverged: ends
            .iter()
            .filter(|e| e.loss.is_finite() && !e.converged)
            .count(),
        best_error: losses.first().map_or(f64::NAN, |l| l.sqrt()),
        median_error: losses.get(losses.len() / 2).map_or(f64::NAN, |l| l.sqrt()),
        median_iterations: iterations
            .get(iterations.len() / 2)
            .copied()
            .unwrap_or(f64::NAN),
    }
}

fn best_of(ends: &[End]) -> f64 {
    ends.iter()
        .map(|e| e.loss)
        .filter(|l| l.is_finite())
        .fold(f64::INFINITY, f64::min)
}

fn share(s: &Stats) -> String {
    format!("{} of {}", s.reached, s.total)
}

fn minima_text(s: &Stats) -> String {
    if s.minima == 0 {
        "– (none converged)".into()
    } else {
        s.minima.to_string()
    }
}

fn lm(iterations: usize) -> Optimizer {
    Optimizer::LevenbergMarquardt(LmOptions {
        iterations,
        ..LmOptions::default()
    })
}

fn adam(iterations: usize, learning_rate: f64, schedule: Schedule) -> Optimizer {
    Optimizer::Adam(AdamOptions {
        iterations,
        learning_rate,
        schedule,
        ..AdamOptions::default()
    })
}

/// The data in other units: positions times `a`, time times `tau` (velocities times a/τ,
/// accelerations times a/τ²): the same motion, so the same model family fits it as well.
fn in_units(data: &Dataset, a: f64, tau: f64) -> Dataset {
    let mut d = data.clone();
    let scale = |rows: &mut Vec<Vec<f64>>, f: f64| {
        for x in rows.iter_mut().flatten() {
            *x *= f;
        }
    };
    scale(&mut d.q, a);
    scale(&mut d.q_dot, a / tau);
    scale(&mut d.q_ddot, a / (tau * tau));
    d
}

fn column_rms(rows: &[Vec<f64>]) -> f64 {
    let (s, c) = rows
        .iter()
        .flatten()
        .fold((0.0, 0usize), |(s, c), x| (s + x * x, c + 1));
    (s / c.max(1) as f64).sqrt()
}

pub fn run(ctx: &mut Context) -> Result<Section> {
    let started = Instant::now();
    let samples = ctx.size(500, 100);
    let lm_iterations = ctx.size(500, 15);
    let seed = 0;
    let oscillator = TextSystem::from_toml_str(OSCILLATOR)?;
    let oscillator_data = generate(
        &oscillator,
        &GenerateSpec {
            samples,
            seed: 1,
            ..GenerateSpec::default()
        },
    )?;
    let pendulum = by_name("pendulum").expect("a built-in");
    let pendulum_data = generate(
        &pendulum,
        &GenerateSpec {
            samples,
            seed: 1,
            ..GenerateSpec::default()
        },
    )?;
    let mut body = String::new();

    // 1. the (m, k) landscape of the oscillator and its valley
    ctx.log("landscape: the oscillator's (m, k) grid");
    let model = TextModel::from_toml_str(OSCILLATOR_MODEL)?;
    let n = ctx.size(101, 11);
    let x = GridAxis::parse(&format!("m=0.1:3:{n}"))?;
    let y = GridAxis::parse(&format!("k=0.2:12:{n}"))?;
    let engine = build_engine(&model, Engine::Auto, false)?;
    let names = model.parameter_names();
    let land = landscape_with(
        engine.as_ref(),
        &model,
        &oscillator_data,
        &model.initial_parameters(),
        &x,
        &y,
    )?;
    let start = [2.5, 1.0];
    let init: Vec<f64> = names
        .iter()
        .map(|p| if p == "m" { start[0] } else { start[1] })
        .collect();
    let fit = learn(
        &model,
        &oscillator_data,
        &LearnOptions {
            engine: Engine::Auto,
            initial: Some(init),
            ..LearnOptions::default()
        },
    );
    let path: Option<Vec<(f64, f64)>> = fit.as_ref().ok().map(|r| {
        let (im, ik) = (
            r.parameter_order.iter().position(|p| p == "m").unwrap_or(0),
            r.parameter_order.iter().position(|p| p == "k").unwrap_or(1),
        );
        r.history
            .iter()
            .map(|h| (h.parameters[im], h.parameters[ik]))
            .collect()
    });
    let (figure, markdown) = ctx.figure(
        "landscape-oscillator.png",
        "Loss of the harmonic oscillator's Lagrangian ½ m ẋ² − ½ k x² over (m, k), log colour scale, with the Levenberg–Marquardt path from (m, k) = (2.5, 1); the valley is the line k/m = 4.",
        Some(&format!(
            "lagrange generate examples/harmonic-oscillator.toml --samples {samples} --seed 1 -o osc.csv && lagrange landscape --data osc.csv --model examples/harmonic-oscillator.toml --grid m=0.1:3:{n} --grid k=0.2:12:{n} --init m=2.5 --init k=1 --path --plot landscape-oscillator.png"
        )),
    );
    heatmap(
        &land,
        path.as_deref(),
        "oscillator: loss over (m, k)",
        &figure,
        ctx.plot_kind(),
    )?;
    // the valley: the grid's lowest loss in each m column, and its k/m
    let scale = total(&oscillator_data);
    let mut valley_ratio = Vec::new();
    let mut valley_loss = Vec::new();
    let mut off_valley = Vec::new();
    for (i, m) in x.values.iter().enumerate() {
        let column: Vec<(f64, f64)> = land
            .loss
            .iter()
            .enumerate()
            .map(|(j, row)| (y.values[j], row[i]))
            .filter(|(_, l)| l.is_finite())
            .collect();
        if let Some(&(k, l)) = column.iter().min_by(|a, b| a.1.total_cmp(&b.1)) {
            valley_ratio.push(k / m);
            valley_loss.push(l / scale);
        }
        off_valley.extend(column.iter().map(|(_, l)| l / scale));
    }
    let ratio_lo = valley_ratio.iter().copied().fold(f64::INFINITY, f64::min);
    let ratio_hi = valley_ratio
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let off_max = off_valley.iter().copied().fold(0.0_f64, f64::max);
    let (fit_m, fit_k, fit_iterations, flat) = match &fit {
        Ok(r) => (
            r.parameters["m"],
            r.parameters["k"],
            r.iterations,
            r.flat_directions
                .first()
                .map_or("none reported".to_string(), |f| f.message.clone()),
        ),
        Err(e) => (f64::NAN, f64::NAN, 0, format!("the fit failed: {e}")),
    };
    body.push_str(&format!(
        "**The (m, k) landscape.** {samples} clean samples of the oscillator (m = 1, k = 4) in \
         [-1, 1]², the loss ε = Σ (q̈ − q̈_model)² on a {n}×{n} grid. The equations of motion \
         see only k/m, so the minimum is not a point but a valley along k = 4m: the lowest \
         grid point of each m column lies at k/m between {} and {} (the grid's resolution), \
         while the loss elsewhere on the grid rises to {} times Σ q̈². Levenberg–Marquardt \
         from (m, k) = (2.5, 1) walks into the valley in {fit_iterations} iterations and stops \
         where it meets it, at (m, k) = ({}, {}), k/m = {}; `lagrange learn` reports the flat \
         direction: *{flat}*. The valley is not a local-minimum problem (every point of it is \
         the global minimum) but an identifiability one: fix m (or learn k/m) and it becomes \
         a point.\n\n",
        sci(ratio_lo),
        sci(ratio_hi),
        sci(off_max),
        sci(fit_m),
        sci(fit_k),
        sci(fit_k / fit_m),
    ));
    body.push_str(&markdown);
    body.push('\n');
    let _ = valley_loss;

    // 2. roughness per model family: the same random starts, Levenberg–Marquardt
    let start_count = ctx.size(24, 4);
    let mut classes: Vec<(String, &'static str, Box<dyn ModelBox>, &Dataset)> = vec![(
        "oscillator L(m, k)".into(),
        "oscillator",
        Box::new(model.clone()),
        &oscillator_data,
    )];
    for family in [
        "poly-separable",
        "poly-product",
        ctx.size("network:4", "network:2"),
    ] {
        let m = AnyModel::load(family, pendulum_data.coordinates.clone(), seed)?;
        classes.push((
            format!("`{family}`"),
            "pendulum",
            Box::new(m),
            &pendulum_data,
        ));
    }
    let mut class_rows = Vec::new();
    let mut roughest: Option<(usize, f64)> = None;
    let mut class_ends: Vec<Vec<End>> = Vec::new();
    let mut class_facts = Vec::new();
    let lm_started = Instant::now();
    for (k, (label, data_name, m, data)) in classes.iter().enumerate() {
        ctx.log(&format!("landscape: {start_count} starts of {label}"));
        let inits = m.starts(start_count, seed);
        let ends = m.run(data, &lm(lm_iterations), &inits).unwrap_or_else(|_| {
            vec![
                End {
                    loss: f64::NAN,
                    iterations: 0,
                    converged: false
                };
                start_count
            ]
        });
        let best = best_of(&ends);
        let s = stats(&ends, best);
        let fraction = s.reached as f64 / s.total as f64;
        if k > 0 && s.finite > 0 && roughest.is_none_or(|(_, f)| fraction < f) {
            roughest = Some((k, fraction));
        }
        class_facts.push((label.clone(), s.reached, s.total, s.minima, s.unconverged));
        class_rows.push(vec![
            label.clone(),
            data_name.to_string(),
            m.parameter_count().to_string(),
            sci(s.best_error),
            share(&s),
            minima_text(&s),
            format!("{} / {}", s.unconverged, s.total - s.finite),
            sci(s.median_iterations),
        ]);
        class_ends.push(ends);
    }
    let lm_seconds = lm_started.elapsed().as_secs_f64();
    body.push_str(&format!(
        "**Roughness per model family.** {start_count} starts each, the ones `lagrange learn \
         --starts {start_count} --seed {seed}` makes (start 0: the model's own guess; the \
         others: text parameters multiplied by a log-uniform factor in [1/10, 10], polynomial \
         coefficients standard normal, network weights Xavier-normal), each run by \
         Levenberg–Marquardt for at most {lm_iterations} iterations on {samples} clean samples \
         of the oscillator or the pendulum (m = l = 1, g = 9.81) in [-1, 1]². Errors are \
         relative q̈ errors, √(ε / Σ q̈²). A start *reaches the best minimum* when its loss is \
         within {} of the best start's (plus {} of Σ q̈²); *distinct minima* are the loss levels \
         of the converged starts clustered with the same tolerance (by loss rather than by \
         parameters, since flat directions — the oscillator's k/m valley, the scale of every L \
         — spread one minimum over many parameter values).\n\n",
        sci(LOSS_TOLERANCE),
        sci(FLOOR)
    ));
    body.push_str(&table(
        &[
            "model",
            "data",
            "parameters",
            "best q̈ error",
            "starts reaching the best",
            "distinct minima",
            "not converged / failed",
            "median iterations",
        ],
        &class_rows,
    ));

    // 3. remedies, on the roughest family
    let mut remedy_facts: Vec<String> = Vec::new();
    let adam_starts = ctx.size(6, 2);
    let learning_rates = ctx.size(vec![0.01, 0.05], vec![0.01]);
    let rescale_starts = ctx.size(12, 3);
    let adam_iterations = ctx.size(2000, 20);
    let adam_started = Instant::now();
    if let Some((k, _)) = roughest {
        let (label, data_name, m, data) = &classes[k];
        let ends = &class_ends[k];
        let best = best_of(ends);
        let s = stats(ends, best);
        let p = s.reached as f64 / s.total as f64;
        body.push_str(&format!(
            "\n**Remedies**, on the roughest family above, {label} on the {data_name} (the best \
             minimum is its best start's, relative q̈ error {}).\n\n",
            sci(best.sqrt())
        ));
        // multi-start: the best of the first N starts
        let mut rows = Vec::new();
        let mut n_starts = 1;
        while n_starts <= ends.len() {
            let first = &ends[..n_starts];
            let b = best_of(first);
            rows.push(vec![
                n_starts.to_string(),
                sci(b.sqrt()),
                if reaches(b, best) { "yes" } else { "no" }.into(),
                format!("{}", sci(100.0 * (1.0 - (1.0 - p).powi(n_starts as i32)))),
            ]);
            if n_starts == ends.len() {
                break;
            }
            n_starts = (2 * n_starts).min(ends.len());
        }
        body.push_str(&format!(
            "*Multi-start* (`lagrange learn --starts N`): the best of the first N starts. One \
             start reaches the best minimum with probability p ≈ {} (measured above), so N \
             independent starts do with 1 − (1 − p)^N.\n\n",
            sci(p)
        ));
        body.push_str(&table(
            &[
                "starts N",
                "best q̈ error",
                "reaches the best minimum",
                "1 − (1 − p)^N (%)",
            ],
            &rows,
        ));
        // the smallest N whose best reaches the minimum
        let needed = (1..=ends.len()).find(|&n| reaches(best_of(&ends[..n]), best));
        remedy_facts.push(match needed {
            Some(n) => format!(
                "{label}, multi-start finds its best LM minimum (p = {} per start; the first {n} starts here)",
                sci(p)
            ),
            None => format!(
                "{label}, one LM start reaches its best minimum with p = {}",
                sci(p)
            ),
        });

        // optimizers and schedules on the first starts
        ctx.log(&format!(
            "landscape: Adam schedules on {adam_starts} starts of {label}"
        ));
        let inits: Vec<Vec<f64>> = m.starts(adam_starts, seed);
        let lm_first: Vec<End> = ends.iter().take(adam_starts).cloned().collect();
        // the exponential schedule decays to 1 % of the initial rate by the last iteration,
        // as the cosine one decays to 0
        let gamma = 0.01_f64.powf(1.0 / adam_iterations as f64);
        let mut results: Vec<(String, f64, Schedule, Vec<End>)> = Vec::new();
        for &lr in &learning_rates {
            for (name, schedule) in [
                ("constant", Schedule::Constant),
                ("exponential", Schedule::Exponential { gamma }),
                ("cosine", Schedule::Cosine { min_lr: 0.0 }),
            ] {
                let ends = m
                    .run(data, &adam(adam_iterations, lr, schedule), &inits)
                    .unwrap_or_default();
                results.push((format!("Adam, lr {lr}, {name}"), lr, schedule, ends));
            }
        }
        let overall = results
            .iter()
            .map(|r| best_of(&r.3))
            .fold(best_of(&lm_first).min(best), f64::min);
        let remedy_row = |name: &str, ends: &[End]| {
            let s = stats(ends, overall);
            let good = ends
                .iter()
                .filter(|e| e.loss.is_finite() && e.loss.sqrt() < 0.01)
                .count();
            vec![
                name.to_string(),
                sci(s.median_error),
                sci(s.best_error),
                share(&s),
                format!("{good} of {}", s.total),
                sci(s.median_iterations),
            ]
        };
        let header = [
            "optimizer",
            "median q̈ error",
            "best q̈ error",
            "reaching the best minimum",
            "q̈ error < 1 %",
            "median iterations",
        ];
        let mut optimizer_rows = vec![remedy_row(
            &format!("Levenberg–Marquardt (≤ {lm_iterations} iterations)"),
            &lm_first,
        )];
        optimizer_rows.extend(
            results
                .iter()
                .filter(|r| r.2 == Schedule::Constant)
                .map(|r| remedy_row(&r.0, &r.3)),
        );
        body.push_str(&format!(
            "\n*Adam against Levenberg–Marquardt*, from the first {adam_starts} of the same \
             starts: Adam (`--optimizer adam --lr RATE`, full batch, at most {adam_iterations} \
             iterations) against LM. *Reaching the best minimum* is against the best end of \
             every optimizer and schedule tried here, *q̈ error < 1 %* counts the starts \
             that end with a usable model.\n\n"
        ));
        body.push_str(&table(&header, &optimizer_rows));
        let schedule_rows: Vec<Vec<String>> =
            results.iter().map(|r| remedy_row(&r.0, &r.3)).collect();
        body.push_str(&format!(
            "\n*Learning-rate schedules* of Adam (`--schedule constant|exponential:{}|cosine`: \
             the exponential decays to 1 % of the initial rate by the last iteration, the cosine \
             to 0), the same starts.\n\n",
            sci(gamma)
        ));
        body.push_str(&table(&header, &schedule_rows));
        let lm_median = stats(&lm_first, overall).median_error;
        let best_adam = results
            .iter()
            .map(|r| (r.0.clone(), stats(&r.3, overall).median_error))
            .filter(|r| r.1.is_finite())
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((name, median)) = best_adam {
            remedy_facts.push(format!(
                "from the same starts the best Adam setting ({name}) ends {} than LM (median q̈ error {} against {})",
                if median < lm_median { "lower" } else { "higher" },
                sci(median),
                sci(lm_median)
            ));
        }

        // rescaled inputs: the same pendulum data in degrees, in radians, standardized
        if *data_name == "pendulum" {
            ctx.log(&format!("landscape: rescaled inputs, {label}"));
            let degrees = in_units(data, 180.0 / std::f64::consts::PI, 1.0);
            let (a, b) = (column_rms(&data.q), column_rms(&data.q_dot));
            let standard = in_units(data, 1.0 / a, a / b);
            let inits = m.starts(rescale_starts, seed);
            let mut runs = Vec::new();
            for (units, d, ends) in [
                ("degrees, seconds", &degrees, None),
                (
                    "radians, seconds (as above)",
                    *data,
                    Some(
                        ends.iter()
                            .take(rescale_starts)
                            .cloned()
                            .collect::<Vec<End>>(),
                    ),
                ),
                ("standardized: RMS(θ) = RMS(θ̇) = 1", &standard, None),
            ] {
                let ends = match ends {
                    Some(e) => e,
                    None => m.run(d, &lm(lm_iterations), &inits).unwrap_or_default(),
                };
                runs.push((units, column_rms(&d.q), ends));
            }
            let overall = runs
                .iter()
                .map(|r| best_of(&r.2))
                .fold(f64::INFINITY, f64::min);
            let mut rows = Vec::new();
            let mut shares = Vec::new();
            for (units, rms_q, ends) in &runs {
                let s = stats(ends, overall);
                shares.push((*units, s.reached, s.total, s.median_error));
                rows.push(vec![
                    units.to_string(),
                    sci(*rms_q),
                    sci(s.median_error),
                    sci(s.best_error),
                    share(&s),
                    minima_text(&s),
                    sci(s.median_iterations),
                ]);
            }
            body.push_str(&format!(
                "\n*Rescaled inputs.* The same pendulum samples in other units, {rescale_starts} \
                 starts of LM each (the family's own random guesses, which assume inputs of \
                 size 1). A change of angle and time unit is the same motion and the family \
                 absorbs it into its parameters, so every row can reach the same relative q̈ \
                 error: the differences are the optimizer's. *Reaching the best* is against \
                 the best end of all three rows.\n\n"
            ));
            body.push_str(&table(
                &[
                    "units",
                    "RMS(θ)",
                    "median q̈ error",
                    "best q̈ error",
                    "reaching the best minimum",
                    "distinct minima",
                    "median iterations",
                ],
                &rows,
            ));
            remedy_facts.push(format!(
                "with the angle in degrees / radians / standardized units {} LM starts reach the best",
                shares
                    .iter()
                    .map(|(_, r, _, _)| format!("{r}"))
                    .collect::<Vec<_>>()
                    .join(" / ")
                    + &format!(" of {rescale_starts}")
            ));
        } else {
            body.push_str("\n*Rescaled inputs*: not tried (the roughest family is not fitted to the pendulum).\n");
        }
    } else {
        body.push_str(
            "\n**Remedies**: not measured — every start of every family failed, so there is no \
             rough landscape to compare remedies on.\n",
        );
    }
    let adam_seconds = adam_started.elapsed().as_secs_f64();

    // log-parameters: the oscillator (m, k) against (ln m, ln k), Adam and LM
    ctx.log("landscape: log-parameters");
    let log_model = TextModel::from_toml_str(&log_oscillator_model())?;
    let direct_inits = starts(&model, ctx.size(8, 3), seed);
    let log_inits: Vec<Vec<f64>> = direct_inits
        .iter()
        .map(|p| {
            let by_name = |n: &str| names.iter().position(|x| x == n).map_or(f64::NAN, |i| p[i]);
            log_model
                .parameter_names()
                .iter()
                .map(|n| {
                    if n == "a" {
                        by_name("m").ln()
                    } else {
                        by_name("k").ln()
                    }
                })
                .collect()
        })
        .collect();
    let log_iterations = ctx.size(2000, 100);
    let mut rows = Vec::new();
    let mut log_facts = Vec::new();
    for (optimizer_name, optimizer) in [
        ("Levenberg–Marquardt", lm(lm_iterations)),
        (
            "Adam, constant, lr 0.01",
            adam(log_iterations, 1e-2, Schedule::Constant),
        ),
    ] {
        let direct = run_starts(&model, &oscillator_data, &optimizer, &direct_inits)?;
        let logged = run_starts(&log_model, &oscillator_data, &optimizer, &log_inits)?;
        let best = best_of(&direct).min(best_of(&logged));
        for (param, ends) in [("m, k", &direct), ("ln m, ln k", &logged)] {
            let s = stats(ends, best);
            log_facts.push((s.median_iterations, s.reached, s.total));
            rows.push(vec![
                optimizer_name.to_string(),
                param.to_string(),
                sci(s.median_error),
                share(&s),
                sci(s.median_iterations),
            ]);
        }
    }
    body.push_str(&format!(
        "\n*Fitting in log-parameters.* The oscillator L(m, k) against the same Lagrangian \
         written ½ e^a ẋ² − ½ e^b x² (a = ln m, b = ln k), from the same {} starts (m, k \
         spread over two decades around the guess (2, 2)), on the samples of the landscape \
         above; Adam at most {log_iterations} iterations.\n\n",
        direct_inits.len()
    ));
    body.push_str(&table(
        &[
            "optimizer",
            "parameters",
            "median q̈ error",
            "reaching the best minimum",
            "median iterations",
        ],
        &rows,
    ));
    let total_seconds = started.elapsed().as_secs_f64();
    ctx.shared.timings.push(format!(
        "landscape: {n}×{n} loss grid + {} families × {start_count} LM starts {:.1} s, Adam schedules and rescaling {:.1} s; section {:.1} s",
        classes.len(),
        lm_seconds,
        adam_seconds,
        total_seconds
    ));

    let (text_reached, text_total) = class_facts
        .first()
        .map_or((0, 0), |(_, r, t, _, _)| (*r, *t));
    let text_sentence = if text_total > 0 && text_reached == text_total {
        format!(
            "The oscillator's text Lagrangian L(m, k) shows no local minimum: all {text_total} \
             random Levenberg–Marquardt starts end at the same loss, on a flat valley along \
             k/m = 4 rather than at a point."
        )
    } else {
        format!(
            "{text_reached} of {text_total} random Levenberg–Marquardt starts of the oscillator's \
             text Lagrangian L(m, k) reach its minimum, a flat valley along k/m = 4."
        )
    };
    let class_text: Vec<String> = class_facts
        .iter()
        .skip(1)
        .map(|(l, r, t, m, u)| {
            format!(
                "{l} {r} of {t} ({}{})",
                match *m {
                    0 => "no start converged".to_string(),
                    1 => "1 distinct minimum".to_string(),
                    m => format!("{m} distinct minima"),
                },
                if *u > 0 {
                    format!(
                        ", {u} {} still moving at {lm_iterations} iterations",
                        if *u == 1 { "start" } else { "starts" }
                    )
                } else {
                    String::new()
                }
            )
        })
        .collect();
    let log_text = if log_facts.len() == 4 {
        format!(
            "fitting the oscillator in (ln m, ln k) changes the median iterations from {} to {} \
             for LM and from {} to {} for Adam",
            sci(log_facts[0].0),
            sci(log_facts[1].0),
            sci(log_facts[2].0),
            sci(log_facts[3].0)
        )
    } else {
        "log-parameters were not measured".to_string()
    };
    let summary = format!(
        "the text L(m, k) has one flat k/m valley ({text_reached} of {text_total} starts reach it); random LM starts reaching the best minimum: {}",
        class_text.join(", ")
    );
    let answer = format!(
        "{text_sentence} For the generic families on the pendulum, \
         of {start_count} random LM starts these end at the family's best minimum: {}. On the roughest, {}; \
         {} (tables below).",
        class_text.join(", "),
        remedy_facts.join("; "),
        log_text
    );
    Ok(Section {
        id: "landscape",
        title: TITLE,
        summary,
        answer,
        body,
        slide_figure: Some("landscape-oscillator.png".into()),
    })
}

/// A model family behind a box (the text model and the built-in families differ in type).
trait ModelBox {
    fn starts(&self, count: usize, seed: u64) -> Vec<Vec<f64>>;
    fn run(&self, data: &Dataset, optimizer: &Optimizer, inits: &[Vec<f64>]) -> Result<Vec<End>>;
    fn parameter_count(&self) -> usize;
}

impl<M: Model + Sync> ModelBox for M {
    fn starts(&self, count: usize, seed: u64) -> Vec<Vec<f64>> {
        starts(self, count, seed)
    }
    fn run(&self, data: &Dataset, optimizer: &Optimizer, inits: &[Vec<f64>]) -> Result<Vec<End>> {
        run_starts(self, data, optimizer, inits)
    }
    fn parameter_count(&self) -> usize {
        self.parameter_names().len()
    }
}
