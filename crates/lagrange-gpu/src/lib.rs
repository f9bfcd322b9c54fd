//! NVIDIA GPU backend of neural-Lagrangian training: the loss and weight gradient of
//! `lagrange_learn::neural` models (`lnn` and `baseline`) on a CUDA device, behind the same
//! training loop, split, schedule and Adam as the CPU ([`lagrange_learn::neural::train_with`]).
//!
//! - [`kernels`]: the CUDA C++ source, generated per model shape and compiled by NVRTC;
//! - [`engine`]: [`CudaEngine`], the device buffers, cuBLAS GEMMs and launches.
//!
//! The CUDA libraries (driver, cuBLAS, NVRTC) are opened at run time, so this crate builds
//! offline on any machine, and CI never needs a GPU; `lagrange-cli` takes it behind its `cuda`
//! feature (`lagrange train --device cuda`, `lagrange bench --neural --device cuda`). Where no
//! GPU or library is found, every entry point returns [`LearnError::Device`] naming what is
//! missing.
//!
//! Not on the GPU (a clear error, train on the CPU): the `structured` kind (its head is
//! differentiated by dual numbers per sample) and the `lnn` mass penalty (an eigenvalue per
//! sample).

pub mod engine;
pub mod kernels;

pub use engine::{CudaEngine, GpuReal, check_libraries};

use lagrange_learn::neural::{
    GradientEngine, NeuralModel, Precision, TrainOptions, TrainProgress, TrainReport, train_with,
};
use lagrange_learn::{Dataset, LearnError};

/// Batch capacity of the engine for `options`: the minibatch, and at least the 4096 samples of
/// the periodic validation checks (larger sets are evaluated in chunks of this size).
fn capacity(options: &TrainOptions) -> usize {
    options.batch.max(4096)
}

/// [`lagrange_learn::neural::train`] with the loss and gradient on CUDA device `device`.
pub fn train(
    model: &mut NeuralModel,
    data: &Dataset,
    options: &TrainOptions,
    device: usize,
    observer: &mut dyn FnMut(&TrainProgress),
) -> Result<TrainReport, LearnError> {
    train_with(
        model,
        data,
        options,
        |model, samples| -> Result<Box<dyn GradientEngine>, LearnError> {
            let cap = capacity(options);
            Ok(match options.precision {
                Precision::F32 => Box::new(CudaEngine::<f32>::new(model, &samples, cap, device)?),
                Precision::F64 => Box::new(CudaEngine::<f64>::new(model, &samples, cap, device)?),
            })
        },
        observer,
    )
}
