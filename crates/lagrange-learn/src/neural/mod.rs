//! Neural-network Lagrangians (Cranmer et al. 2020, *Lagrangian Neural Networks*; DeLaN, Lutter
//! et al. 2019) and a black-box baseline, trained on `Σ |q̈_data − q̈_θ|²`.
//!
//! - [`activation`]: smooth activations with three derivatives;
//! - [`mlp`]: the network's shape, flat weight layout, and evaluation over any scalar (so a
//!   trained model is a [`lagrange::Lagrangian`] the whole engine can use);
//! - [`taylor`]: the batched forward-Taylor pass and its reverse pass over the weights;
//! - [`features`]: input normalization and angle features;
//! - [`model`]: the kinds `lnn`, `structured`, `baseline`, their heads and batched loss;
//! - [`train`]: minibatch Adam, schedules, validation split, early stopping;
//! - [`file`]: the self-describing model file (`model.json`);
//! - [`evaluator`]: q̈ of a trained model for the core integrators.

pub mod activation;
pub mod bench;
pub mod evaluator;
pub mod features;
pub mod file;
pub mod judge;
pub mod mlp;
pub mod model;
pub mod taylor;
pub mod train;

pub use activation::SmoothActivation;
pub use evaluator::NeuralAccelerations;
pub use features::InputScaling;
pub use file::ModelFile;
pub use judge::{ErrorMap, JudgeOptions, Judgement, error_map, judge};
pub use mlp::Mlp;
pub use model::{BatchLoss, BatchScratch, MassPenalty, NeuralKind, NeuralModel, Samples};
pub use train::{
    CpuEngine, GradientEngine, LrSchedule, Precision, TrainOptions, TrainProgress, TrainReport,
    train, train_with,
};
