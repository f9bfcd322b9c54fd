//! `lagrange bench --neural`: time per training step of the neural Lagrangian (lnn 2×128,
//! softplus, double pendulum) against the JAX reference (`bench/peers/lnn_train_jax.py`,
//! Cranmer et al.'s formulation) in the same run, f32 and f64, several batch sizes, with the
//! achieved GFLOP/s against an estimate of the machine's peak.

use anyhow::{Context, Result, bail};
use lagrange::systems::DoublePendulum;
use lagrange_learn::Dataset;
use lagrange_learn::neural::bench::{flops_per_step, seconds_per_step, seconds_per_step_with};
use lagrange_learn::neural::{InputScaling, NeuralKind, NeuralModel, Precision, SmoothActivation};
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Double-pendulum states (m = l = 1, g = 9.8, as in the JAX script) with the core's hand-derived
/// q̈ as targets.
fn data() -> Dataset {
    data_of(4096)
}

/// [`data`] with `count` states.
fn data_of(count: usize) -> Dataset {
    let truth = DoublePendulum {
        g: 9.8,
        ..DoublePendulum::default()
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut d = Dataset::new(vec!["theta1".into(), "theta2".into()]);
    let h = std::f64::consts::FRAC_PI_2;
    for _ in 0..count {
        let (t1, t2) = (rng.random_range(-h..h), rng.random_range(-h..h));
        let (w1, w2) = (rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0));
        let (q, q_dot) = (vec![t1, t2], vec![w1, w2]);
        let q_ddot = truth.hand_accelerations(0.0, &q, &q_dot);
        d.push(q, q_dot, q_ddot);
    }
    d
}

/// Peak GFLOP/s estimate: cores × clock × 2 FMA units × lanes of 256-bit AVX × 2.
fn peak_gflops() -> (f64, f64, String) {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let mhz = cpuinfo
        .lines()
        .find(|l| l.starts_with("cpu MHz"))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(2000.0);
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown CPU".to_string(), |s| s.trim().to_string());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let fma = cpuinfo.contains(" fma") && cpuinfo.contains(" avx2");
    let lanes32 = if fma { 8.0 } else { 4.0 };
    let per_cycle32 = if fma {
        2.0 * lanes32 * 2.0
    } else {
        lanes32 * 2.0
    };
    let f32_peak = cores * mhz / 1000.0 * per_cycle32;
    (
        f32_peak,
        f32_peak / 2.0,
        format!("{model}, {cores} cores at {mhz:.0} MHz (AVX2+FMA: {fma})"),
    )
}

fn run_jax(python: &Path, script: &Path, batches: &[usize], quick: bool) -> Result<Vec<Value>> {
    let steps = if quick { "20" } else { "100" };
    run_jax_with(python, script, batches, steps, "20")
}

fn run_jax_with(
    python: &Path,
    script: &Path,
    batches: &[usize],
    steps: &str,
    budget: &str,
) -> Result<Vec<Value>> {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("jax.json");
    let mut records = Vec::new();
    for dtype in ["f32", "f64"] {
        for &batch in batches {
            let status = Command::new(python)
                .arg(script)
                .args(["--width", "128", "--depth", "2", "--dtype", dtype])
                .args(["--batch", &batch.to_string()])
                .args(["--steps", steps])
                .args(["--check-steps", "20", "--budget-s", budget, "--json"])
                .arg(&out)
                .status()
                .with_context(|| format!("cannot run {}", python.display()))?;
            if !status.success() {
                bail!("the JAX script failed ({status})");
            }
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&out)?)?;
            match v {
                Value::Array(a) => records.extend(a),
                v => records.push(v),
            }
        }
    }
    Ok(records)
}

/// The benchmark model: lnn 2×128 softplus, no input scaling (as the JAX script).
fn bench_model(data: &Dataset) -> Result<NeuralModel> {
    Ok(NeuralModel::new(
        NeuralKind::Lnn,
        data.coordinates.clone(),
        128,
        2,
        SmoothActivation::Softplus,
        InputScaling::identity(2),
        0,
    )?)
}

/// `lagrange bench --neural --device cuda`: seconds per training step on the GPU, on all the
/// CPU's cores, and in JAX (on its default device: the GPU where jaxlib has CUDA), in one run,
/// batch 256 … 65 536, f32 and f64.
pub fn run_device(
    device: crate::device::Device,
    out: Option<&Path>,
    quick: bool,
    python: Option<PathBuf>,
) -> Result<()> {
    let data = data();
    let model = bench_model(&data)?;
    let batches: &[usize] = if quick {
        &[256, 4096]
    } else {
        &[256, 1024, 4096, 16384, 65536]
    };
    // the data set must hold a whole batch (the minibatches are drawn without replacement)
    let big = data_of(*batches.last().unwrap_or(&4096));
    let (_, _, machine) = peak_gflops();
    let gpu_trainer =
        |m: &mut NeuralModel, d: &Dataset, o: &lagrange_learn::neural::TrainOptions| {
            device.train(m, d, o, &mut |_| {})
        };
    let mut rows = Vec::new();
    let mut gpu_name = String::new();
    for (precision, name) in [(Precision::F32, "f32"), (Precision::F64, "f64")] {
        for &batch in batches {
            // a few seconds per measurement: fewer steps where a step is slow
            let cpu_steps = (65536 / batch).clamp(3, 40);
            let cpu = seconds_per_step(&model, &big, batch, precision, 0, cpu_steps, 1)?;
            let gpu =
                seconds_per_step_with(&gpu_trainer, &model, &big, batch, precision, 0, 50, 3)?;
            if gpu_name.is_empty() {
                let mut m = model.clone();
                let o = lagrange_learn::neural::TrainOptions {
                    steps: 1,
                    batch: 8,
                    validation: 0.0,
                    ..Default::default()
                };
                gpu_name = device.train(&mut m, &data, &o, &mut |_| {})?.engine;
            }
            let flops = flops_per_step(&model, batch);
            eprintln!(
                "{name} batch {batch}: cpu {:.3} ms, gpu {:.3} ms ({:.0} GFLOP/s)",
                1e3 * cpu,
                1e3 * gpu,
                flops / gpu / 1e9
            );
            rows.push((name, batch, cpu, gpu, flops));
        }
    }
    let script = Path::new("bench/peers/lnn_train_jax.py");
    let python = python.unwrap_or_else(|| PathBuf::from("python3"));
    let jax = if script.exists() {
        run_jax_with(&python, script, batches, "50", "5").unwrap_or_else(|e| {
            eprintln!("JAX reference skipped: {e:#}");
            Vec::new()
        })
    } else {
        Vec::new()
    };
    let jax_device = jax
        .first()
        .and_then(|r| r["device"].as_str().or(r["platform"].as_str()))
        .unwrap_or("its default device")
        .to_string();
    let mut md = String::new();
    let _ = writeln!(
        md,
        "Training step of an LNN (2×128 softplus, double pendulum, Adam), `lagrange bench --neural --device cuda`: GPU {gpu_name}; CPU {machine}; JAX on {jax_device}.\n"
    );
    let _ = writeln!(
        md,
        "| precision | batch | CPU ms/step (all cores) | GPU ms/step | GPU GFLOP/s | **CPU ÷ GPU** | JAX ms/step | **GPU ÷ JAX** |\n|---|---|---|---|---|---|---|---|"
    );
    let mut json_rows = Vec::new();
    for &(name, batch, cpu, gpu, flops) in &rows {
        let jms = jax
            .iter()
            .find(|r| {
                r["dtype"].as_str() == Some(name) && r["batch"].as_u64() == Some(batch as u64)
            })
            .and_then(|r| r["ms_per_step_median"].as_f64());
        let _ = writeln!(
            md,
            "| {name} | {batch} | {:.2} | {:.3} | {:.0} | **{:.1}×** | {} | {} |",
            1e3 * cpu,
            1e3 * gpu,
            flops / gpu / 1e9,
            cpu / gpu,
            jms.map_or("–".into(), |j| format!("{j:.3}")),
            jms.map_or("–".into(), |j| format!("**{:.2}**", 1e3 * gpu / j))
        );
        json_rows.push(json!({
            "precision": name, "batch": batch, "cpu_ms_per_step": 1e3 * cpu,
            "gpu_ms_per_step": 1e3 * gpu, "gpu_gflops": flops / gpu / 1e9,
            "flops_per_step": flops, "jax_ms_per_step": jms,
        }));
    }
    print!("{md}");
    if let Some(path) = out {
        let report = json!({ "gpu": gpu_name, "cpu": machine, "rows": json_rows, "jax": jax, "markdown": md });
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("cannot write '{}'", path.display()))?;
    }
    Ok(())
}

pub fn run(out: Option<&Path>, quick: bool, python: Option<PathBuf>) -> Result<()> {
    let data = data();
    let model = bench_model(&data)?;
    let batches: &[usize] = if quick { &[256] } else { &[256, 1024, 4096] };
    let steps = if quick { 20 } else { 100 };
    let (peak32, peak64, machine) = peak_gflops();
    let script = Path::new("bench/peers/lnn_train_jax.py");
    let python = python.unwrap_or_else(|| PathBuf::from("bench/peers/.venv/bin/python"));
    let mut ours = Vec::new();
    for (precision, name) in [(Precision::F32, "f32"), (Precision::F64, "f64")] {
        for &batch in batches {
            let s = seconds_per_step(&model, &data, batch, precision, 0, steps, 3)?;
            let gflops = flops_per_step(&model, batch) / s / 1e9;
            eprintln!(
                "lagrange {name} batch {batch}: {:.3} ms/step, {gflops:.1} GFLOP/s",
                1e3 * s
            );
            ours.push((name, batch, s, gflops));
        }
    }
    let jax = if script.exists() && python.exists() {
        run_jax(&python, script, batches, quick)?
    } else {
        eprintln!(
            "JAX reference skipped: {} or {} missing (bash bench/peers/setup.sh)",
            script.display(),
            python.display()
        );
        Vec::new()
    };
    let mut md = String::new();
    let _ = writeln!(
        md,
        "Training step of an LNN (2×128 softplus, double pendulum, Adam), `lagrange bench --neural`, {machine}; peak estimate {peak32:.0} GFLOP/s f32, {peak64:.0} f64.\n"
    );
    let _ = writeln!(
        md,
        "| precision | batch | lagrange ms/step | GFLOP/s (share of peak) | JAX ms/step | **lagrange ÷ JAX** |\n|---|---|---|---|---|---|"
    );
    let mut rows = Vec::new();
    for &(name, batch, s, gflops) in &ours {
        let peak = if name == "f32" { peak32 } else { peak64 };
        let j = jax.iter().find(|r| {
            r["dtype"].as_str() == Some(name) && r["batch"].as_u64() == Some(batch as u64)
        });
        let jms = j.and_then(|r| r["ms_per_step_median"].as_f64());
        let ratio = jms.map(|j| 1e3 * s / j);
        let _ = writeln!(
            md,
            "| {name} | {batch} | {:.2} | {gflops:.1} ({:.0} %) | {} | {} |",
            1e3 * s,
            100.0 * gflops / peak,
            jms.map_or("–".into(), |j| format!("{j:.2}")),
            ratio.map_or("–".into(), |r| format!("**{r:.2}**"))
        );
        rows.push(json!({
            "precision": name, "batch": batch, "ms_per_step": 1e3 * s, "gflops": gflops,
            "peak_gflops": peak, "jax_ms_per_step": jms, "ratio": ratio,
            "flops_per_step": flops_per_step(&model, batch),
        }));
    }
    print!("{md}");
    if let Some(path) = out {
        let report = json!({ "machine": machine, "rows": rows, "jax": jax, "markdown": md });
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("cannot write '{}'", path.display()))?;
    }
    Ok(())
}
