//! Report section 9: speed on this CPU, and the GPU question.

use super::{Context, Section, sci, table};
use anyhow::Result;
use lagrange::systems::by_name;
use lagrange_learn::neural::bench::{flops_per_step, seconds_per_step};
use lagrange_learn::neural::{InputScaling, NeuralKind, NeuralModel, Precision, SmoothActivation};
use lagrange_learn::{GenerateSpec, generate};

pub const TITLE: &str = "How fast is it, and does a GPU help?";

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
    let summary = format!("{}; no GPU was available to measure", timings.join("; "));
    let answer = format!(
        "On this CPU: {}. **The GPU question is not answered by measurement:** no GPU was \
         available to this report, and the neural training runs on the CPU only. The CPU \
         reaches at most {best_rate:.1} GFLOP/s on the training step's matrix products (table); \
         a GPU would pay off where a step takes long enough to hide its launch and transfer \
         costs, i.e. at the larger batches and widths.",
        timings.join("; ")
    );
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
