//! Runs in pieces: a landscape, a multi-start fit and a noise sweep computed in shards, their
//! per-unit results sent through JSON, and summarized, equal the whole run bit for bit.
mod common;
use common::*;
use lagrange::expr::TextSystem;
use lagrange::systems::System;
use lagrange_learn::generate::{GenerateSpec, PhaseBox, generate};
use lagrange_learn::landscape::{GridAxis, GridLosses, Landscape, grid_losses, landscape};
use lagrange_learn::model::{Activation, Network};
use lagrange_learn::multistart::{
    MultiStartOptions, StartsRun, combine_starts, multistart, run_starts,
};
use lagrange_learn::noise::{
    SimexOptions, SweepCell, SweepOptions, noise_sweep, sweep_cells, sweep_csv, sweep_rows,
};
use lagrange_learn::optim::{LmOptions, Optimizer};
use lagrange_learn::{Autodiff, LearnError, LearnOptions, Model, Restricted, TextModel};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Through JSON and back, as a shard file carries it.
fn through_json<T: Serialize + DeserializeOwned>(value: &T) -> T {
    serde_json::from_str(&serde_json::to_string(value).unwrap()).unwrap()
}

/// `0..total` in `n` contiguous pieces (some empty when `n > total`).
fn pieces(total: usize, n: usize) -> Vec<std::ops::Range<usize>> {
    (0..n).map(|k| total * k / n..total * (k + 1) / n).collect()
}

#[test]
fn landscape_in_pieces_is_the_landscape() {
    let data = to_dataset("land-shards", &["x"], &oscillator(80, 2.5, 31), 0.0, 31);
    let model = TextModel::from_toml_str(OSCILLATOR).unwrap();
    let base = model.initial_parameters();
    // m = 0: singular everywhere, NaN losses
    let (x, y) = (
        GridAxis::parse("m=0:2:4").unwrap(),
        GridAxis::parse("k=1:4:3").unwrap(),
    );
    let whole = landscape(&model, &data, &base, &x, &y).unwrap();
    let engine = Autodiff::new(&model);
    let parts: Vec<GridLosses> = pieces(12, 5)
        .into_iter()
        .map(|r| through_json(&grid_losses(&engine, &model, &data, &base, &x, &y, r).unwrap()))
        .collect();
    let merged = Landscape::from_pieces(x.clone(), y.clone(), &parts).unwrap();
    assert!(whole.to_csv_string().contains("NaN"));
    assert_eq!(merged.to_csv_string(), whole.to_csv_string());
    // a missing piece is an error, not a shorter landscape
    let e = Landscape::from_pieces(x, y, &[parts[0].clone(), parts[2].clone()]).unwrap_err();
    assert!(matches!(e, LearnError::IncompleteUnits { .. }), "{e}");
}

#[test]
fn multistart_in_pieces_is_the_multistart() {
    let data = to_dataset(
        "ms-shards",
        &["theta"],
        &pendulum(100, 9.81, 2.0, 32),
        0.0,
        32,
    );
    let net = Network::new(
        vec!["theta".into()],
        2,
        Activation::Tanh,
        Activation::Identity,
        true,
        2,
    )
    .unwrap();
    let options = LearnOptions {
        optimizer: Optimizer::LevenbergMarquardt(LmOptions {
            iterations: 4,
            ..LmOptions::default()
        }),
        ..LearnOptions::default()
    };
    let ms = MultiStartOptions {
        starts: 6,
        seed: 4,
        ..MultiStartOptions::default()
    };
    let whole = multistart(&net, &data, &options, &ms).unwrap();
    // capped at 4 iterations, the starts end in different places: clusters to merge
    assert!(
        whole.minima.as_ref().unwrap().len() > 1,
        "{:?}",
        whole.minima
    );
    for n in [2, 4, 8] {
        let parts: Vec<StartsRun> = pieces(6, n)
            .into_iter()
            .map(|r| through_json(&run_starts(&net, &data, &options, &ms, r).unwrap()))
            .collect();
        let merged = combine_starts(&ms, parts).unwrap();
        assert_eq!(merged.to_json(), whole.to_json(), "{n} pieces");
    }
    let one = run_starts(&net, &data, &options, &ms, 0..3).unwrap();
    assert!(combine_starts(&ms, vec![one]).is_err());
}

#[test]
fn noise_sweep_in_pieces_is_the_sweep() {
    let mut sys = TextSystem::from_toml_str(OSCILLATOR).unwrap();
    sys.set_parameter("k", 2.5).unwrap();
    let fixed = vec![("m".to_string(), 1.0)];
    let model =
        Restricted::new(TextModel::from_toml_str(OSCILLATOR).unwrap(), None, &fixed).unwrap();
    let make = |level: f64, seed: u64| {
        let spec = GenerateSpec {
            samples: 150,
            phase_box: PhaseBox::parse("x=-2:2,x_dot=-2:2").unwrap(),
            noise: level,
            seed,
            ..GenerateSpec::default()
        };
        generate(&sys, &spec)
    };
    let sweep = SweepOptions {
        levels: vec![0.0, 0.1],
        repeats: 3,
        seed: 5,
        simex: SimexOptions {
            repeats: 2,
            ..SimexOptions::default()
        },
    };
    let options = LearnOptions::default();
    let truth = [2.5];
    let whole = noise_sweep(&model, &truth, make, &options, &sweep, &|| {}).unwrap();
    let engine = Autodiff::new(&model);
    let mut cells: Vec<SweepCell> = Vec::new();
    for r in pieces(6, 4) {
        let part = sweep_cells(&engine, &model, make, &options, &sweep, r, &|| {}).unwrap();
        cells.extend(through_json(&part));
    }
    let names = model.parameter_names();
    let merged = sweep_rows(&names, &truth, &sweep, &cells).unwrap();
    assert_eq!(sweep_csv(&merged), sweep_csv(&whole));
    assert_eq!(merged, whole);
    // cells out of order are refused
    cells.swap(0, 1);
    assert!(sweep_rows(&names, &truth, &sweep, &cells).is_err());
}
