//! `lagrange bench --learn`: learning physical parameters on the compiled engine, against the
//! autodiff engine and against JAX (`bench/peers/learn_jax.py`) in the same run.
//!
//! The seed's experiment: the double pendulum of `examples/double-pendulum.toml` with m2 and g
//! free (from m2 = 0.6, g = 5), and the cyclotron of `examples/cyclotron.toml` with B free (from
//! B = 1), on samples from `generate` (2 000 and 10⁵). Measured: the time of one full-batch Adam
//! step (loss and gradient over every sample; median of repeated calls), the 41 × 41 loss
//! landscape over (m2, g) on 2 000 samples, Levenberg–Marquardt's time to converge (compile
//! included), and the parameters after 500 Adam steps (lr 0.01) on every engine.
//!
//! Then models declared as local terms: an FPU-β chain of 16 to 1024 masses written as one
//! top-level sum (k and b free), where the compiled engine runs term kernels; measured against
//! the straight-line code of the same model, the autodiff engine and JAX (64 masses).

use anyhow::{Context, Result, bail};
use lagrange_learn::generate::{GenerateSpec, generate};
use lagrange_learn::landscape::{GridAxis, landscape_with};
use lagrange_learn::optim::{AdamOptions, Optimizer, optimize_with};
use lagrange_learn::{
    Dataset, Engine, LearnOptions, Model, Restricted, TextModel, build_engine, build_engine_with,
    learn,
};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// One experiment: an example file, the fitted parameters and where they start.
struct Case {
    system: &'static str,
    fit: &'static [&'static str],
    init: &'static [f64],
}

const CASES: [Case; 2] = [
    Case {
        system: "double-pendulum",
        fit: &["m2", "g"],
        init: &[0.6, 5.0],
    },
    Case {
        system: "cyclotron",
        fit: &["B"],
        init: &[1.0],
    },
];

fn model(case: &Case) -> Result<(TextModel, Restricted<TextModel>)> {
    let path = PathBuf::from(format!("examples/{}.toml", case.system));
    let text = TextModel::from_path(&path)
        .with_context(|| format!("{} (run from the repository root)", path.display()))?;
    let fit: Vec<String> = case.fit.iter().map(|s| s.to_string()).collect();
    let mut model = Restricted::new(text.clone(), Some(&fit), &[])?;
    for (name, value) in case.fit.iter().zip(case.init) {
        model.set_initial(name, *value)?;
    }
    Ok((text, model))
}

fn data(text: &TextModel, samples: usize) -> Result<Dataset> {
    Ok(generate(
        text.system(),
        &GenerateSpec {
            samples,
            seed: 1,
            ..GenerateSpec::default()
        },
    )?)
}

/// Median seconds of `calls` calls of `f` (after one untimed call).
fn median_seconds(calls: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    f()?;
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

fn adam(steps: usize) -> Optimizer {
    Optimizer::Adam(AdamOptions {
        learning_rate: 0.01,
        iterations: steps,
        tolerance: 0.0,
        patience: usize::MAX,
        ..AdamOptions::default()
    })
}

fn run_jax(python: &Path, args: &[String]) -> Result<Value> {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("jax.json");
    let status = Command::new(python)
        .arg("bench/peers/learn_jax.py")
        .args(args)
        .arg("--json")
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .status()
        .with_context(|| format!("cannot run {}", python.display()))?;
    if !status.success() {
        bail!("the JAX script failed ({status})");
    }
    Ok(serde_json::from_str(&std::fs::read_to_string(&out)?)?)
}

/// An FPU-β chain of `n` unit masses with fixed ends as a user writes it, one top-level sum
/// (every mass and spring a local term): `L = Σ ½ ẋᵢ² − Σ (½ k dⱼ² + ¼ b dⱼ⁴)`, k = 1, b = 0.5.
fn fpu_chain(n: usize) -> String {
    let x = |i: usize| format!("x{i}");
    let mut terms: Vec<String> = (1..=n)
        .map(|i| format!("{}0.5*{}_dot^2", if i == 1 { "" } else { "+ " }, x(i)))
        .collect();
    let mut spring = |d: String| terms.push(format!("- 0.5*k*({d})^2 - 0.25*b*({d})^4"));
    spring(x(1));
    for i in 2..=n {
        spring(format!("{} - {}", x(i), x(i - 1)));
    }
    spring(x(n));
    let coordinates: Vec<String> = (1..=n).map(|i| format!("\"{}\"", x(i))).collect();
    format!(
        "name = \"FPU chain {n}\"\ncoordinates = [{}]\nlagrangian = \"{}\"\n[parameters]\nk = 1.0\nb = 0.5\n",
        coordinates.join(", "),
        terms.join(" ")
    )
}

/// The chain rows: one full-batch Adam step on the term kernels, the straight-line code (where
/// it compiles), autodiff and JAX; compile times; the parameters after a few Adam steps on each.
fn chains(
    quick: bool,
    dir: &Path,
    python: Option<&Path>,
    md: &mut String,
    rows: &mut Vec<Value>,
) -> Result<()> {
    let sizes: &[usize] = if quick { &[64] } else { &[16, 64, 256, 1024] };
    let samples = 2000;
    let steps = if quick { 3 } else { 20 };
    let _ = writeln!(
        md,
        "\nModels declared as local terms: an FPU-β chain written as one top-level sum (k, b free, from k = 1.5, b = 0.2), {samples} samples, one full-batch Adam step:\n\n\
         | chain (fitted) | term kernels ms/step | straight-line ms/step | autodiff ms/step | JAX ms/step | **kernels ÷ JAX** | kernels ÷ straight line | kernels ÷ autodiff | compile s (kernels / straight line) |\n|---|---|---|---|---|---|---|---|---|"
    );
    let mut notes = String::new();
    for &n in sizes {
        let text = TextModel::from_toml_str(&fpu_chain(n))?;
        let fit = vec!["k".to_string(), "b".to_string()];
        let mut model = Restricted::new(text.clone(), Some(&fit), &[])?;
        model.set_initial("k", 1.5)?;
        model.set_initial("b", 0.2)?;
        let init = model.initial_parameters();
        let data = data(&text, samples)?;
        let csv = dir.join(format!("chain-{n}.csv"));
        data.write_csv(&csv)?;
        // (ms per step, compile s, parameters after `steps` Adam steps) per engine
        let mut measured: Vec<Option<(f64, f64, Vec<f64>)>> = Vec::new();
        for (choice, kernels) in [
            (Engine::Compiled, Some(true)),
            (Engine::Compiled, Some(false)),
            (Engine::Autodiff, None),
        ] {
            if choice == Engine::Autodiff && n > 256 {
                // a second per step and more: the 256-mass row shows the ratio
                measured.push(None);
                continue;
            }
            let engine = match build_engine_with(&model, choice, true, kernels) {
                Ok(engine) => engine,
                Err(e) => {
                    eprintln!("chain {n}: straight-line code not built: {e}");
                    measured.push(None);
                    continue;
                }
            };
            let calls = match (choice, n) {
                (Engine::Autodiff, 256..) => 3,
                (Engine::Autodiff, _) => 5,
                _ => 20,
            };
            let s = median_seconds(calls, || {
                engine.loss_and_gradient(&data, &init)?;
                Ok(())
            })?;
            let finals =
                optimize_with(engine.as_ref(), &data, &init, &adam(steps), &mut |_| {})?.parameters;
            eprintln!(
                "chain {n}: {} {:.3} ms per Adam step",
                engine.report().summary(),
                1e3 * s
            );
            measured.push(Some((1e3 * s, engine.report().compile_seconds, finals)));
        }
        let jax = match python {
            Some(python) if n <= 64 => Some(run_jax(
                python,
                &[
                    "--system".into(),
                    format!("chain:{n}"),
                    "--data".into(),
                    csv.display().to_string(),
                    "--init".into(),
                    "1.5,0.2".into(),
                    "--steps".into(),
                    steps.max(12).to_string(),
                    "--timed".into(),
                    "10".into(),
                ],
            )?),
            _ => None,
        };
        let jax_ms = jax.as_ref().and_then(|j| j["ms_per_step_median"].as_f64());
        let ms = |k: usize| measured[k].as_ref().map(|m| m.0);
        let fmt = |x: Option<f64>| x.map_or("–".into(), |x| format!("{x:.3}"));
        let kernels = ms(0).context("the term kernels did not compile")?;
        let _ = writeln!(
            md,
            "| FPU-β {n} (k, b) | {kernels:.3} | {} | {} | {} | {} | {} | {} | {:.3} / {} |",
            fmt(ms(1)),
            fmt(ms(2)),
            fmt(jax_ms),
            ratio(kernels, jax_ms),
            fmt(ms(1).map(|s| kernels / s)),
            fmt(ms(2).map(|a| kernels / a)),
            measured[0].as_ref().map_or(0.0, |m| m.1),
            fmt(measured[1].as_ref().map(|m| m.1)),
        );
        let finals = |k: usize| measured[k].as_ref().map(|m| m.2.clone());
        let rel = |a: &[f64], b: &[f64]| {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs() / y.abs().max(1e-300))
                .fold(0.0_f64, f64::max)
        };
        let k = finals(0).unwrap_or_default();
        let _ = writeln!(
            notes,
            "- FPU-β {n}: after {steps} Adam steps the term kernels give {k:?}; largest relative difference to the straight-line code {}, to autodiff {}.",
            finals(1).map_or("– (not built)".into(), |s| format!("{:.1e}", rel(&k, &s))),
            finals(2).map_or("–".into(), |a| format!("{:.1e}", rel(&k, &a))),
        );
        rows.push(json!({
            "system": format!("fpu-chain-{n}"), "fit": ["k", "b"], "samples": samples,
            "kernels_ms_per_step": kernels, "straight_line_ms_per_step": ms(1),
            "autodiff_ms_per_step": ms(2), "jax_ms_per_step": jax_ms, "jax": jax,
            "compile_seconds": {"kernels": measured[0].as_ref().map(|m| m.1),
                                "straight_line": measured[1].as_ref().map(|m| m.1)},
            "adam_final": {"kernels": finals(0), "straight_line": finals(1), "autodiff": finals(2),
                           "steps": steps},
        }));
    }
    let _ = write!(md, "\n{notes}");
    Ok(())
}

fn ratio(ours: f64, theirs: Option<f64>) -> String {
    theirs.map_or("–".into(), |t| format!("**{:.3}**", ours / t))
}

pub fn run(out: Option<&Path>, quick: bool, python: Option<PathBuf>) -> Result<()> {
    let python = python.unwrap_or_else(|| PathBuf::from("bench/peers/.venv/bin/python"));
    let jax_available = python.exists() && Path::new("bench/peers/learn_jax.py").exists();
    if !jax_available {
        eprintln!(
            "JAX reference skipped: {} or bench/peers/learn_jax.py missing (bash bench/peers/setup.sh)",
            python.display()
        );
    }
    let dir = tempfile::tempdir()?;
    let sizes: &[usize] = if quick { &[2000] } else { &[2000, 100_000] };
    let adam_steps = if quick { 50 } else { 500 };
    let mut md = String::new();
    let mut rows = Vec::new();
    let _ = writeln!(
        md,
        "Full-batch Adam step (loss and gradient over every sample, f64), `lagrange bench --learn`:\n\n\
         | system (fitted) | samples | compiled ms/step | autodiff ms/step | JAX ms/step | **compiled ÷ JAX** | compiled ÷ autodiff |\n|---|---|---|---|---|---|---|"
    );
    let mut extra = String::new();
    for case in &CASES {
        let (text, model) = model(case)?;
        for &samples in sizes {
            let data = data(&text, samples)?;
            let csv = dir.path().join(format!("{}-{samples}.csv", case.system));
            data.write_csv(&csv)?;
            let init = model.initial_parameters();
            let calls = if samples > 10_000 { 5 } else { 30 };
            let mut per_engine = Vec::new();
            for choice in [Engine::Compiled, Engine::Autodiff] {
                let engine = build_engine(&model, choice, true)?;
                let s = median_seconds(calls, || {
                    engine.loss_and_gradient(&data, &init)?;
                    Ok(())
                })?;
                eprintln!(
                    "{} {samples}: {} {:.3} ms per Adam step",
                    case.system,
                    choice.name(),
                    1e3 * s
                );
                per_engine.push(s);
            }
            let jax_steps = if samples > 10_000 { 20 } else { adam_steps };
            let jax = if jax_available {
                let init_list: Vec<String> = case.init.iter().map(|x| x.to_string()).collect();
                let mut a = vec![
                    "--system".into(),
                    case.system.into(),
                    "--data".into(),
                    csv.display().to_string(),
                    "--init".into(),
                    init_list.join(","),
                    "--steps".into(),
                    jax_steps.to_string(),
                ];
                let landscape = case.system == "double-pendulum" && samples == 2000;
                if landscape {
                    a.extend(["--grid".into(), "41".into()]);
                }
                Some(run_jax(&python, &a)?)
            } else {
                None
            };
            let jax_ms = jax.as_ref().and_then(|j| j["ms_per_step_median"].as_f64());
            let _ = writeln!(
                md,
                "| {} ({}) | {samples} | {:.3} | {:.3} | {} | {} | {:.3} |",
                case.system,
                case.fit.join(", "),
                1e3 * per_engine[0],
                1e3 * per_engine[1],
                jax_ms.map_or("–".into(), |j| format!("{j:.3}")),
                ratio(1e3 * per_engine[0], jax_ms),
                per_engine[0] / per_engine[1],
            );
            let mut row = json!({
                "system": case.system, "fit": case.fit, "samples": samples,
                "compiled_ms_per_step": 1e3 * per_engine[0],
                "autodiff_ms_per_step": 1e3 * per_engine[1],
                "jax_ms_per_step": jax_ms, "jax": jax,
            });
            if samples == 2000 {
                // the parameters after the same Adam run, and LM's time to converge
                let mut finals = Vec::new();
                let mut lm = Vec::new();
                for choice in [Engine::Compiled, Engine::Autodiff] {
                    let engine = build_engine(&model, choice, true)?;
                    let o = optimize_with(
                        engine.as_ref(),
                        &data,
                        &init,
                        &adam(adam_steps),
                        &mut |_| {},
                    )?;
                    finals.push(o.parameters);
                    let t = Instant::now();
                    let r = learn(
                        &model,
                        &data,
                        &LearnOptions {
                            engine: choice,
                            ..LearnOptions::default()
                        },
                    )?;
                    lm.push((t.elapsed().as_secs_f64(), r.iterations));
                }
                let jax_final: Option<Vec<f64>> = jax.as_ref().and_then(|j| {
                    (jax_steps == adam_steps)
                        .then(|| serde_json::from_value(j["final"].clone()).ok())
                        .flatten()
                });
                let rel = |a: &[f64], b: &[f64]| {
                    a.iter()
                        .zip(b)
                        .map(|(x, y)| (x - y).abs() / y.abs().max(1e-300))
                        .fold(0.0_f64, f64::max)
                };
                let _ = writeln!(
                    extra,
                    "- {} ({}), 2 000 samples: after {adam_steps} Adam steps (lr 0.01) compiled {:?}; largest relative difference to autodiff {:.1e}{}. Levenberg–Marquardt to convergence: compiled {:.3} s ({} iterations, compile included), autodiff {:.3} s ({} iterations).",
                    case.system,
                    case.fit.join(", "),
                    finals[0],
                    rel(&finals[0], &finals[1]),
                    jax_final.as_ref().map_or(String::new(), |j| format!(
                        ", to JAX {:.1e}",
                        rel(&finals[0], j)
                    )),
                    lm[0].0,
                    lm[0].1,
                    lm[1].0,
                    lm[1].1,
                );
                row["adam_final"] =
                    json!({"compiled": finals[0], "autodiff": finals[1], "jax": jax_final});
                row["lm_seconds"] = json!({"compiled": lm[0].0, "autodiff": lm[1].0});
                if case.system == "double-pendulum" {
                    let x = GridAxis::parse("m2=0.2:2:41")?;
                    let y = GridAxis::parse("g=2:12:41")?;
                    let mut times = Vec::new();
                    for choice in [Engine::Compiled, Engine::Autodiff] {
                        let t = Instant::now();
                        let engine = build_engine(&model, choice, false)?;
                        landscape_with(engine.as_ref(), &model, &data, &init, &x, &y)?;
                        times.push(t.elapsed().as_secs_f64());
                    }
                    let jax_s = jax.as_ref().and_then(|j| j["landscape_s"].as_f64());
                    let _ = writeln!(
                        extra,
                        "- Loss landscape, 41 × 41 grid over (m2, g) × 2 000 samples: compiled {:.3} s (compile included), autodiff {:.3} s, JAX {} → compiled ÷ JAX {}.",
                        times[0],
                        times[1],
                        jax_s.map_or("–".into(), |j| format!("{j:.3} s (compile excluded)")),
                        ratio(times[0], jax_s),
                    );
                    row["landscape_seconds"] =
                        json!({"compiled": times[0], "autodiff": times[1], "jax": jax_s});
                }
            }
            rows.push(row);
        }
    }
    let _ = write!(md, "\n{extra}");
    chains(
        quick,
        dir.path(),
        jax_available.then_some(python.as_path()),
        &mut md,
        &mut rows,
    )?;
    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown CPU".to_string(), |s| s.trim().to_string());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let _ = write!(md, "\nMachine: {machine}, {cores} cores.\n");
    print!("{md}");
    if let Some(path) = out {
        let report = json!({ "machine": machine, "cores": cores, "rows": rows, "markdown": md });
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("cannot write '{}'", path.display()))?;
    }
    Ok(())
}
