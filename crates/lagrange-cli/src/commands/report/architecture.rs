//! Report sections 7 and 8: what each model family can learn, and what happens outside the
//! sampled region. Also the training helper the symmetry section uses.

use super::{Context, Section, sci, table};
use crate::output::plot_learn::{LineAxes, Series, lines};
use crate::system::AnySystem;
use anyhow::Result;
use lagrange::expr::TextSystem;
use lagrange::systems::{System, by_name};
use lagrange_learn::neural::train::evaluate_mse;
use lagrange_learn::neural::{
    InputScaling, JudgeOptions, NeuralKind, NeuralModel, SmoothActivation, TrainOptions,
    TrainReport, judge, train,
};
use lagrange_learn::optim::{LmOptions, Optimizer};
use lagrange_learn::{
    AnyModel, Dataset, Engine, GenerateSpec, LearnOptions, PhaseBox, generate, learn,
};

pub const TITLE: &str = "What can a given architecture learn, and what is out of reach?";
pub const EXTRAPOLATION_TITLE: &str = "What happens outside the sampled region?";

/// The isotropic 2-D oscillator `½(ẋ² + ẏ²) − ½(x² + y²)` as a TOML system.
pub fn isotropic_oscillator() -> &'static str {
    "name = \"isotropic 2-D oscillator\"\ncoordinates = [\"x\", \"y\"]\n\
     lagrangian = \"0.5*(x_dot^2 + y_dot^2) - 0.5*(x^2 + y^2)\"\n\
     [initial]\nx = 1.0\ny = 0.0\nx_dot = 0.0\ny_dot = 0.5\n"
}

/// A neural model of `kind` (`width × depth`, softplus) trained with Adam for `steps` on
/// `samples` states of `system` uniform in `phase_box` (default: [-1, 1] per dimension).
pub fn train_model<S: System + ?Sized>(
    system: &S,
    kind: NeuralKind,
    width: usize,
    depth: usize,
    steps: usize,
    samples: usize,
    seed: u64,
) -> Result<(NeuralModel, TrainReport)> {
    train_in_box(
        system,
        kind,
        (width, depth),
        steps,
        samples,
        &PhaseBox::default(),
        seed,
    )
}

/// [`train_model`] in a given box.
pub fn train_in_box<S: System + ?Sized>(
    system: &S,
    kind: NeuralKind,
    (width, depth): (usize, usize),
    steps: usize,
    samples: usize,
    phase_box: &PhaseBox,
    seed: u64,
) -> Result<(NeuralModel, TrainReport)> {
    let spec = GenerateSpec {
        samples,
        phase_box: phase_box.clone(),
        seed,
        ..GenerateSpec::default()
    };
    let data = generate(system, &spec)?;
    let n = data.dof();
    let scaling = InputScaling::from_samples(&data.q, &data.q_dot, vec![false; n]);
    let mut model = NeuralModel::new(
        kind,
        data.coordinates.clone(),
        width,
        depth,
        SmoothActivation::Softplus,
        scaling,
        seed,
    )?;
    let options = TrainOptions {
        steps,
        seed,
        ..TrainOptions::default()
    };
    let report = train(&mut model, &data, &options, &mut |_| {})?;
    Ok((model, report))
}

/// Root-mean-square of every entry of `rows`.
fn rms(rows: &[Vec<f64>]) -> f64 {
    let (sum, count) = rows
        .iter()
        .flatten()
        .fold((0.0, 0usize), |(s, c), x| (s + x * x, c + 1));
    (sum / count.max(1) as f64).sqrt()
}

/// Relative q̈ error of a fitted model on `test`: RMS of the residuals over RMS of q̈ (NaN
/// where every sample is singular), and the number of singular samples.
fn relative_error(model: &AnyModel, params: &[f64], test: &Dataset) -> (f64, usize) {
    match lagrange_learn::evaluate(model, test, params) {
        Ok(e) => {
            let r = (e.residuals.iter().map(|x| x * x).sum::<f64>()
                / e.residuals.len().max(1) as f64)
                .sqrt();
            (r / rms(&test.q_ddot), e.value.singular)
        }
        Err(_) => (f64::NAN, test.len()),
    }
}

/// The neural model's relative q̈ error on `test`.
fn neural_error(model: &NeuralModel, test: &Dataset) -> f64 {
    let loss = evaluate_mse(model, test);
    loss.mse(test.dof()).sqrt() / rms(&test.q_ddot)
}

/// The systems of section 7, with a box each (angles within ±1 rad).
fn systems() -> Result<Vec<(&'static str, AnySystem, PhaseBox)>> {
    let builtin = |name: &str, params: &[(&str, f64)]| -> Result<AnySystem> {
        let mut s = by_name(name).expect("a built-in");
        for &(p, v) in params {
            s.set_parameter(p, v)?;
        }
        Ok(AnySystem::Builtin(s))
    };
    let oscillator = TextSystem::from_toml_str(include_str!(
        "../../../../../examples/harmonic-oscillator.toml"
    ))?;
    Ok(vec![
        (
            "oscillator",
            AnySystem::Text(Box::new(oscillator)),
            PhaseBox::default(),
        ),
        ("pendulum", builtin("pendulum", &[])?, PhaseBox::default()),
        (
            "double pendulum",
            builtin("double-pendulum", &[])?,
            PhaseBox::default(),
        ),
        (
            "chain of 3",
            builtin("chain", &[("n", 3.0)])?,
            PhaseBox::default(),
        ),
        ("cyclotron", builtin("cyclotron", &[])?, PhaseBox::default()),
    ])
}

/// The parametric families compared, as `AnyModel::load` specs.
const FAMILIES: [(&str, &str); 3] = [
    (
        "poly-separable",
        "separable polynomial (degree 4 in q, 2 in q̇)",
    ),
    ("poly-product", "polynomial with products q^k q̇^l"),
    ("network:4", "the proposal's small network (4 hidden units)"),
];

pub fn run(ctx: &mut Context) -> Result<Section> {
    let samples = ctx.size(1000, 120);
    let iterations = ctx.size(100, 8);
    let (width, depth, steps) = ctx.size((64, 2, 3000), (8, 1, 40));
    let mut rows = Vec::new();
    let mut cyclotron_separable = f64::NAN;
    let mut best: Vec<(String, &str, f64)> = Vec::new();
    let mut fits: Vec<(String, Vec<(&str, f64)>)> = Vec::new();
    for (label, system, phase_box) in systems()? {
        ctx.log(&format!("architecture: {label}"));
        let spec = |seed| GenerateSpec {
            samples,
            phase_box: phase_box.clone(),
            seed,
            ..GenerateSpec::default()
        };
        let train_data = generate(&system, &spec(1))?;
        let test = generate(&system, &spec(2))?;
        let mut row = vec![label.to_string()];
        let mut errors = Vec::new();
        for (family, _) in FAMILIES {
            let model = AnyModel::load(family, train_data.coordinates.clone(), 1)?;
            let options = LearnOptions {
                engine: Engine::Auto,
                optimizer: Optimizer::LevenbergMarquardt(LmOptions {
                    iterations,
                    ..LmOptions::default()
                }),
                ..LearnOptions::default()
            };
            let (error, singular) = match learn(&model, &train_data, &options) {
                Ok(result) => relative_error(&model, &result.values(), &test),
                Err(_) => (f64::NAN, test.len()),
            };
            if label == "cyclotron" && family == "poly-separable" {
                cyclotron_separable = error;
            }
            errors.push((family, error));
            row.push(if singular > 0 {
                format!("{} ({singular} singular)", sci(error))
            } else {
                sci(error)
            });
        }
        for kind in [NeuralKind::Lnn, NeuralKind::Structured] {
            let error =
                match train_in_box(&system, kind, (width, depth), steps, samples, &phase_box, 1) {
                    Ok((model, _)) => neural_error(&model, &test),
                    Err(_) => f64::NAN,
                };
            errors.push((kind.name(), error));
            row.push(sci(error));
        }
        let winner = errors
            .iter()
            .filter(|e| e.1.is_finite())
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(("none", f64::NAN), |&(f, e)| (f, e));
        best.push((label.to_string(), winner.0, winner.1));
        fits.push((label.to_string(), errors.clone()));
        rows.push(row);
    }
    let best_text: Vec<String> = best
        .iter()
        .map(|(s, f, e)| format!("{s}: {f} ({})", sci(*e)))
        .collect();
    // which families fit each system (relative q̈ error below 1 %), which fail (above 10 %)
    let verdict = |pick: &dyn Fn(f64) -> bool| -> String {
        fits.iter()
            .map(|(system, errors)| {
                let names: Vec<&str> = errors.iter().filter(|e| pick(e.1)).map(|e| e.0).collect();
                format!(
                    "{system}: {}",
                    if names.is_empty() {
                        "none".into()
                    } else {
                        names.join(", ")
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let fit_text = verdict(&|e| e < 0.01);
    let fail_text = verdict(&|e| e.is_nan() || e >= 0.1);
    let summary = format!(
        "fits below 1 % q̈ error — {fit_text}; the separable polynomial, which has no cross terms, errs by {} on the cyclotron",
        sci(cyclotron_separable)
    );
    let answer = format!(
        "Families that fit (relative q̈ error on held-out states below 1 %): {fit_text}. \
         Families that fail (above 10 %): {fail_text}. The separable polynomial (one \
         polynomial per coordinate, no cross terms) cannot represent the cyclotron's magnetic \
         coupling x ẏ − y ẋ: its error there is {}. Best family per system: {}.",
        sci(cyclotron_separable),
        best_text.join("; ")
    );
    let mut body = format!(
        "Relative q̈ error (RMS of q̈_model − q̈_true over RMS of q̈_true) on {samples} held-out \
         states, after fitting {samples} states in the same box ([-1, 1] per dimension). \
         Parametric families: Levenberg–Marquardt, {iterations} iterations at most \
         (`lagrange learn --model FAMILY`). Neural: {width}×{depth} softplus, {steps} Adam \
         steps (`lagrange train`).\n\n"
    );
    let mut header = vec!["system"];
    header.extend(FAMILIES.iter().map(|f| f.0));
    header.extend(["lnn", "structured"]);
    body.push_str(&table(&header, &rows));
    body.push_str("\nFamilies: ");
    body.push_str(
        &FAMILIES
            .iter()
            .map(|(f, d)| format!("`{f}`: {d}"))
            .collect::<Vec<_>>()
            .join("; "),
    );
    body.push_str(
        "; `lnn`: an MLP L(q, q̇); `structured`: ½ q̇ᵀ(CCᵀ + εI)q̇ − V(q) with networks C(q), V(q).\n\n\
         **Symmetries inside a network.** A network's weights are not identifiable one by one: \
         permuting the hidden units of a layer (with their weights) or flipping the sign of a \
         unit of an odd activation gives the same function, and the Lagrangian adds the scale \
         and total-derivative freedom (section 4: the output layer's scale and bias are flat \
         directions of every trained `lnn`). Learned weights are therefore compared through \
         what they compute (q̈, symmetries), never entry by entry.\n",
    );
    Ok(Section {
        id: "architecture",
        title: TITLE,
        summary,
        answer,
        body,
        slide_figure: None,
    })
}

pub fn extrapolation(ctx: &mut Context) -> Result<Section> {
    // the pendulum trained in [-1, 1]² (θ, θ̇), judged in shells up to 4× that box
    let samples = ctx.size(1000, 120);
    let (width, depth, steps) = ctx.size((64, 2, 3000), (8, 1, 40));
    let system = AnySystem::Builtin(by_name("pendulum").expect("a built-in"));
    let train_data = generate(
        &system,
        &GenerateSpec {
            samples,
            seed: 1,
            ..GenerateSpec::default()
        },
    )?;
    let factors = [1.0, 1.5, 2.0, 3.0, 4.0];
    // states in the shell between factors[k-1] and factors[k] times the box (max-norm)
    let shell = |k: usize, seed: u64| -> Result<Dataset> {
        let outer = factors[k];
        let inner = if k == 0 { 0.0 } else { factors[k - 1] };
        let wide = PhaseBox::parse(&format!(
            "theta=-{outer}:{outer},theta_dot=-{outer}:{outer}"
        ))?;
        let spec = GenerateSpec {
            samples: samples * 4,
            phase_box: wide,
            seed,
            ..GenerateSpec::default()
        };
        let mut all = generate(&system, &spec)?;
        let keep: Vec<usize> = (0..all.len())
            .filter(|&i| all.q[i][0].abs().max(all.q_dot[i][0].abs()) >= inner)
            .take(samples)
            .collect();
        all.q = keep.iter().map(|&i| all.q[i].clone()).collect();
        all.q_dot = keep.iter().map(|&i| all.q_dot[i].clone()).collect();
        all.q_ddot = keep.iter().map(|&i| all.q_ddot[i].clone()).collect();
        Ok(all)
    };
    let shells: Vec<Dataset> = (0..factors.len())
        .map(|k| shell(k, 10 + k as u64))
        .collect::<Result<_>>()?;
    let mut series = Vec::new();
    let mut rows = Vec::new();
    let mut growth = Vec::new();
    for (family, _) in FAMILIES.iter().skip(1) {
        let model = AnyModel::load(family, train_data.coordinates.clone(), 1)?;
        let options = LearnOptions {
            engine: Engine::Auto,
            optimizer: Optimizer::LevenbergMarquardt(LmOptions {
                iterations: ctx.size(100, 8),
                ..LmOptions::default()
            }),
            ..LearnOptions::default()
        };
        let Ok(result) = learn(&model, &train_data, &options) else {
            continue;
        };
        let errors: Vec<f64> = shells
            .iter()
            .map(|d| relative_error(&model, &result.values(), d).0)
            .collect();
        growth.push((
            family.to_string(),
            errors[0],
            *errors.last().expect("shells"),
        ));
        rows.push(
            std::iter::once(family.to_string())
                .chain(errors.iter().map(|e| sci(*e)))
                .collect(),
        );
        series.push(Series {
            name: family.to_string(),
            points: factors.iter().copied().zip(errors).collect(),
        });
    }
    let mut judged = Vec::new();
    let mut judged_counts = Vec::new();
    for kind in [NeuralKind::Lnn, NeuralKind::Structured] {
        let Ok((model, _)) = train_in_box(
            &system,
            kind,
            (width, depth),
            steps,
            samples,
            &PhaseBox::default(),
            1,
        ) else {
            continue;
        };
        let errors: Vec<f64> = shells.iter().map(|d| neural_error(&model, d)).collect();
        growth.push((
            kind.name().to_string(),
            errors[0],
            *errors.last().expect("shells"),
        ));
        rows.push(
            std::iter::once(kind.name().to_string())
                .chain(errors.iter().map(|e| sci(*e)))
                .collect(),
        );
        series.push(Series {
            name: kind.name().to_string(),
            points: factors.iter().copied().zip(errors).collect(),
        });
        // rollouts started outside the box: do they fail with an error, or run on wrongly?
        let t_end = ctx.size(10.0, 1.0);
        let options = JudgeOptions {
            initial_conditions: ctx.size(20, 3),
            bounds: vec![(-2.5, 2.5), (-2.5, 2.5)],
            t_end,
            output_dt: t_end / 100.0,
            rtol: 1e-8,
            atol: 1e-10,
            energy_scale: None,
            departure: 0.1,
            seed: 5,
        };
        if let Ok(j) = judge(&model, &system, &options) {
            let finals: Vec<f64> = j
                .per_initial_condition
                .iter()
                .map(|r| r.final_state_error)
                .collect();
            let median = {
                let mut f: Vec<f64> = finals.iter().copied().filter(|x| x.is_finite()).collect();
                f.sort_by(f64::total_cmp);
                f.get(f.len() / 2).copied().unwrap_or(f64::NAN)
            };
            judged_counts.push((j.failures, options.initial_conditions));
            judged.push(vec![
                kind.name().to_string(),
                format!("{} of {}", j.failures, options.initial_conditions),
                sci(median),
                sci(j.energy_error_mean),
            ]);
        }
    }
    let (figure, markdown) = ctx.figure(
        "extrapolation.png",
        "Relative q̈ error of models fitted to the pendulum in the box |θ|, |θ̇| ≤ 1, against the distance from that box (states in shells up to the given multiple of it).",
        None,
    );
    lines(
        &series,
        &LineAxes {
            title: "pendulum: error outside the training box",
            x_label: "distance from the box (multiple of its half-width)",
            y_label: "relative error of the accelerations",
            log_x: false,
            log_y: true,
        },
        &figure,
        ctx.plot_kind(),
    )?;
    let growth_text: Vec<String> = growth
        .iter()
        .map(|(f, inside, far)| format!("{f} {}→{}", sci(*inside), sci(*far)))
        .collect();
    let summary = format!(
        "q̈ error inside the box → at 4× the box: {}",
        growth_text.join(", ")
    );
    let stopped: usize = judged_counts.iter().map(|c| c.0).sum();
    let rollouts: usize = judged_counts.iter().map(|c| c.1).sum();
    let answer = format!(
        "Outside the sampled region the relative q̈ error goes from its in-box value to {} at \
         four times the box's half-width ({}). Of {rollouts} rollouts of the neural models \
         started outside the box, {stopped} stopped early with an error naming the time and the \
         cause (a singular mass matrix or a blow-up: the graceful failure); the others ran to \
         the end, with the state errors in the table.",
        growth
            .iter()
            .map(|g| sci(g.2))
            .collect::<Vec<_>>()
            .join(" / "),
        growth
            .iter()
            .map(|g| g.0.as_str())
            .collect::<Vec<_>>()
            .join(" / ")
    );
    let mut body = format!(
        "Pendulum, {samples} training states uniform in |θ|, |θ̇| ≤ 1; test states in the \
         shells between successive multiples of that box (max-norm). Parametric families: \
         Levenberg–Marquardt; neural: {width}×{depth} softplus, {steps} Adam steps. The \
         single-model version of this map is `lagrange extrapolate`.\n\n"
    );
    let mut header = vec!["model".to_string()];
    header.extend(factors.iter().enumerate().map(|(k, f)| {
        if k == 0 {
            "inside (≤ 1×)".to_string()
        } else {
            format!("{}–{f}×", factors[k - 1])
        }
    }));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    body.push_str(&table(&header, &rows));
    body.push('\n');
    body.push_str(&markdown);
    body.push_str(
        "\nRollouts of the neural models from initial states uniform in |θ|, |θ̇| ≤ 2.5 \
         (dopri5 against the true pendulum, `lagrange evaluate` does the same inside the box): \
         how many stopped early with an error, the median final state error ‖x_model − \
         x_true‖ / ‖x_true‖, and the mean energy error relative to the largest initial energy.\n\n",
    );
    body.push_str(&table(
        &[
            "model",
            "stopped with an error",
            "median final state error",
            "mean energy error",
        ],
        &judged,
    ));
    Ok(Section {
        id: "extrapolation",
        title: EXTRAPOLATION_TITLE,
        summary,
        answer,
        body,
        slide_figure: Some("extrapolation.png".into()),
    })
}
