//! Times (and lets a profiler see) one full-batch loss-and-gradient evaluation on the compiled
//! engine: `cargo run --release -p lagrange-learn --example engine_step -- [SYSTEM] [CALLS] [SAMPLES]`,
//! SYSTEM one of `cyclotron` (B free, default) or `double-pendulum` (m2, g free).
use lagrange_learn::generate::{GenerateSpec, generate};
use lagrange_learn::{Engine, Model, Restricted, TextModel, build_engine};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let system = args.next().unwrap_or_else(|| "cyclotron".into());
    let calls: usize = args.next().map_or(2000, |c| c.parse().expect("CALLS"));
    let samples: usize = args.next().map_or(2000, |c| c.parse().expect("SAMPLES"));
    let text = TextModel::from_path(format!(
        "{}/../../examples/{system}.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("an example system");
    let fit: Vec<String> = if system == "cyclotron" {
        vec!["B".into()]
    } else {
        vec!["m2".into(), "g".into()]
    };
    let model = Restricted::new(text.clone(), Some(&fit), &[]).expect("fit");
    let spec = GenerateSpec {
        samples,
        seed: 1,
        ..GenerateSpec::default()
    };
    let data = generate(text.system(), &spec).expect("data");
    let engine = build_engine(&model, Engine::Compiled, true).expect("compiled");
    let theta = model.initial_parameters();
    let start = Instant::now();
    for _ in 0..calls {
        engine.loss_and_gradient(&data, &theta).expect("loss");
    }
    let per = start.elapsed().as_secs_f64() / calls as f64;
    println!(
        "{system}: {:.1} µs per call, {:.1} ns per sample",
        1e6 * per,
        1e9 * per / data.len() as f64
    );
}
