//! Where the CUDA libraries are missing (CI, most laptops), the GPU backend says which one and
//! what to do, and training returns that error: no panic, no partial result.

use lagrange_learn::Dataset;
use lagrange_learn::neural::{
    InputScaling, NeuralKind, NeuralModel, SmoothActivation, TrainOptions,
};

#[test]
fn missing_cuda_is_a_clear_error() {
    let Err(e) = lagrange_gpu::check_libraries() else {
        // a machine with CUDA: tests/gpu.rs (--ignored) covers it
        return;
    };
    let msg = e.to_string();
    assert!(msg.starts_with("GPU backend: "), "{msg}");
    assert!(
        msg.contains("was not found") && msg.contains("LD_LIBRARY_PATH"),
        "{msg}"
    );
    let mut d = Dataset::new(vec!["x".into()]);
    for i in 0..10 {
        let x = i as f64 / 10.0;
        d.push(vec![x], vec![1.0 - x], vec![-x]);
    }
    let mut model = NeuralModel::new(
        NeuralKind::Lnn,
        vec!["x".into()],
        8,
        1,
        SmoothActivation::Softplus,
        InputScaling::identity(1),
        0,
    )
    .unwrap();
    let before = model.parameters.clone();
    let err =
        lagrange_gpu::train(&mut model, &d, &TrainOptions::default(), 0, &mut |_| {}).unwrap_err();
    assert_eq!(err.to_string(), msg);
    assert_eq!(
        model.parameters, before,
        "a failed run leaves the weights as they were"
    );
}
