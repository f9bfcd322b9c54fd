//! Longer studies that print numbers (run with `cargo test --release -- --ignored --nocapture`).
mod common;
use common::*;
use lagrange_learn::model::{Activation, Network};
use lagrange_learn::multistart::{MultiStartOptions, multistart};
use lagrange_learn::optim::{LmOptions, Optimizer};
use lagrange_learn::{LearnOptions, Model};

/// Does the starting point matter for the network family? Fit a small tanh network to pendulum
/// data from 16 seeded starts and list the distinct minima.
#[test]
#[ignore]
fn multistart_network_on_pendulum() {
    let data = to_dataset(
        "study-ms",
        &["theta"],
        &pendulum(400, 9.81, 2.0, 31),
        0.0,
        31,
    );
    for (hidden, f0) in [
        (2, Activation::Tanh),
        (4, Activation::Tanh),
        (4, Activation::Softplus),
    ] {
        let net = Network::new(
            vec!["theta".into()],
            hidden,
            f0,
            Activation::Identity,
            true,
            1,
        )
        .unwrap();
        let opts = LearnOptions {
            optimizer: Optimizer::LevenbergMarquardt(LmOptions {
                iterations: 300,
                ..LmOptions::default()
            }),
            ..LearnOptions::default()
        };
        let ms = MultiStartOptions {
            starts: 16,
            seed: 5,
            ..MultiStartOptions::default()
        };
        let t = std::time::Instant::now();
        let r = multistart(&net, &data, &opts, &ms).unwrap();
        println!(
            "{} ({} parameters): {} distinct minima from 16 starts ({} failed), {:.1} s",
            net.description(),
            net.parameter_names().len(),
            r.minima.as_ref().unwrap().len(),
            r.failed_starts.unwrap(),
            t.elapsed().as_secs_f64()
        );
        for m in r.minima.as_ref().unwrap() {
            println!("    mean loss {:.3e}  (starts {:?})", m.mean_loss, m.starts);
        }
    }
}
