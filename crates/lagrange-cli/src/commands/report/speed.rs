//! Report section 9: speed on this CPU, and the GPU question.

use super::{Context, Section, sci, table};
use anyhow::Result;
use lagrange::systems::by_name;
use lagrange_learn::neural::bench::{flops_per_step, seconds_per_step};
use lagrange_learn::neural::{InputScaling, NeuralKind, NeuralModel, Precision, SmoothActivation};
use lagrange_learn::{GenerateSpec, generate};

pub const TITLE: &str = "How fast is it, and does a GPU help?";

/// The committed GPU measurement (a machine with a GPU is not where the report usually runs).
const GPU_RECORD: &str = "bench/neural_gpu.json";

/// What the report quotes of the GPU measurement.
struct GpuRecord {
    gpu: String,
    cpu: String,
    /// The markdown table as the benchmark wrote it.
    table: String,
    best_speedup: f64,
    best_batch: u64,
    small_speedup: f64,
    small_batch: u64,
    /// GPU time ÷ JAX time, smallest and largest over the rows (`None` without JAX rows).
    jax_ratio: Option<(f64, f64)>,
}

impl GpuRecord {
    /// Reads the record (`None` if it is missing or not one).
    fn read(path: &std::path::Path) -> Option<Self> {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
        let rows = v["rows"].as_array()?;
        let f32_rows: Vec<(u64, f64)> = rows
            .iter()
            .filter(|r| r["precision"] == "f32")
            .filter_map(|r| {
                let speedup = r["cpu_ms_per_step"].as_f64()? / r["gpu_ms_per_step"].as_f64()?;
                Some((r["batch"].as_u64()?, speedup))
            })
            .collect();
        let (small_batch, small_speedup) = *f32_rows.iter().min_by_key(|r| r.0)?;
        let (best_batch, best_speedup) = *f32_rows.iter().max_by_key(|r| r.0)?;
        let ratios: Vec<f64> = rows
            .iter()
            .filter_map(|r| Some(r["gpu_ms_per_step"].as_f64()? / r["jax_ms_per_step"].as_f64()?))
            .collect();
        let jax_ratio = (!ratios.is_empty()).then(|| {
            let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = ratios.iter().copied().fold(0.0, f64::max);
            (lo, hi)
        });
        let markdown = v["markdown"].as_str()?;
        let table = markdown
            .lines()
            .filter(|l| l.starts_with('|'))
            .collect::<Vec<_>>()
            .join("\n");
        Some(Self {
            gpu: v["gpu"].as_str()?.to_string(),
            cpu: v["cpu"].as_str()?.to_string(),
            table,
            best_speedup,
            best_batch,
            small_speedup,
            small_batch,
            jax_ratio,
        })
    }
}

pub fn run(ctx: &mut Context) -> Result<Section> {
    // one training step of the neural Lagrangian of the issue (2 × 128 lnn, double pendulum,
    // f32) at growing batches: the workload a GPU would take over
    let system = by_name("double-pendulum").expect("a built-in");
    let width = ctx.size(128, 16);
    let batches: Vec<usize> = ctx.size(vec![256, 1024, 4096], vec![64, 256]);
    let largest = *batches.last().expect("batches");
    let data = generate(
        &system,
        &GenerateSpec {
            samples: largest,
            seed: 1,
            ..GenerateSpec::default()
        },
    )?;
    let scaling = InputScaling::from_samples(&data.q, &data.q_dot, vec![false; 2]);
    let model = NeuralModel::new(
        NeuralKind::Lnn,
        data.coordinates.clone(),
        width,
        2,
        SmoothActivation::Softplus,
        scaling,
        1,
    )?;
    let mut rows = Vec::new();
    let mut rates = Vec::new();
    for &batch in &batches {
        let seconds = seconds_per_step(
            &model,
            &data,
            batch,
            Precision::F32,
            0,
            ctx.size(20, 3),
            ctx.size(3, 1),
        )?;
        let flops = flops_per_step(&model, batch);
        rates.push(flops / seconds / 1e9);
        rows.push(vec![
            batch.to_string(),
            format!("{:.2}", seconds * 1e3),
            sci(flops / 1e9),
            format!("{:.1}", flops / seconds / 1e9),
        ]);
    }
    let step_256 = rows.first().map(|r| r[1].clone()).unwrap_or_default();
    let best_rate = rates.iter().copied().fold(0.0_f64, f64::max);
    ctx.shared.timings.push(format!(
        "neural training step (lnn 2×{width}, f32): {step_256} ms at batch {}, {best_rate:.1} GFLOP/s at best",
        batches[0]
    ));
    let timings = ctx.shared.timings.clone();
    let gpu = GpuRecord::read(std::path::Path::new(GPU_RECORD));
    let (summary, answer) = match &gpu {
        Some(g) => (
            format!(
                "{}; on a GPU ({}), {:.0}× all CPU cores at batch {} (measured on that machine, {GPU_RECORD})",
                timings.join("; "),
                g.gpu,
                g.best_speedup,
                g.best_batch
            ),
            format!(
                "On this CPU: {}. **A GPU helps at large batches:** the GPU backend \
                 (`train --device cuda`) ran the same training step {:.0}× faster than all \
                 the cores of its machine's CPU at batch {} (f32) and {:.1}× at batch {}{} \
                 (table; measured with `lagrange bench --neural --device cuda` on {}, not in \
                 this run). This CPU reaches at most {best_rate:.1} GFLOP/s on the step's matrix \
                 products.",
                timings.join("; "),
                g.best_speedup,
                g.best_batch,
                g.small_speedup,
                g.small_batch,
                match g.jax_ratio {
                    Some((lo, hi)) =>
                        format!("; it took {lo:.2}–{hi:.2}× the time of JAX on the same GPU"),
                    None => String::new(),
                },
                g.gpu
            ),
        ),
        None => (
            format!("{}; no GPU measurement found", timings.join("; ")),
            format!(
                "On this CPU: {}. **The GPU question is not answered here:** {GPU_RECORD} (written \
                 by `lagrange bench --neural --device cuda` on a machine with an NVIDIA GPU) is \
                 missing. This CPU reaches at most {best_rate:.1} GFLOP/s on the training \
                 step's matrix products (table).",
                timings.join("; ")
            ),
        ),
    };
    let mut body = String::from("Timings gathered by the sections of this report, same run:\n\n");
    for t in &timings {
        body.push_str(&format!("- {t}\n"));
    }
    body.push_str(&format!(
        "\nOne Adam step of an `lnn` 2×{width} (softplus, f32) on double-pendulum samples, all \
         cores (`lagrange bench --neural` does the same against JAX): milliseconds per step, \
         the FLOPs of its matrix products (forward and reverse), and the rate.\n\n"
    ));
    body.push_str(&table(
        &["batch", "ms per step", "GFLOP per step", "GFLOP/s"],
        &rows,
    ));
    if let Some(g) = &gpu {
        body.push_str(&format!(
            "\nOn a GPU (from `{GPU_RECORD}`, written by `lagrange bench --neural --device cuda` \
             on {} with CPU {}; the same step, 2×128, in f32 and f64, against that machine's \
             CPU cores and JAX on the same GPU):\n\n{}\n",
            g.gpu, g.cpu, g.table
        ));
    }
    body.push_str(
        "\nThe learning benchmarks against JAX (`lagrange bench --learn`: full-batch Adam steps, \
         landscapes, Levenberg–Marquardt) need the Python peers and take minutes; their latest \
         tables are in `bench/README.md`.\n",
    );
    Ok(Section {
        id: "speed",
        title: TITLE,
        summary,
        answer,
        body,
        slide_figure: None,
    })
}
