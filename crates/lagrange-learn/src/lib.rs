//! Learning Lagrangians from (noisy) data: datasets, models, losses, optimizers, landscapes.
//!
//! The pipeline:
//!
//! 1. **Data** ([`data`], [`generate`]): samples `(q, q̇, q̈)` in a CSV file whose header is
//!    `<q>...,<q>_dot...,<q>_ddot...`, read with validation, or generated from any
//!    [`lagrange::systems::System`] (uniformly in a phase-space box or along trajectories), with
//!    seeded Gaussian noise.
//! 2. **Models** ([`model`]): Lagrangians with unknown parameters, written once generically over
//!    the scalar so that the parameters can be dual numbers. Families: text Lagrangians
//!    ([`model::TextModel`]), polynomials ([`model::Polynomial`]) and a small network
//!    ([`model::Network`]); any of them restricted to a subset of fitted parameters with the
//!    others fixed ([`model::Restricted`]).
//! 3. **Loss** ([`loss`]): `ε = Σᵢ |q̈ᵢ − Q(L; qᵢ, q̇ᵢ)|²`, with the exact parameter Jacobian of the
//!    residuals obtained by nesting dual numbers through [`lagrange::accelerations`].
//! 4. **Optimizers** ([`optim`]): Adam with learning-rate schedules, Levenberg–Marquardt, and
//!    Gauss–Newton uncertainties.
//! 5. **Identifiability** ([`identify`]): flat directions of the loss (e.g. `m` and `k` of an
//!    oscillator entering only through `k/m`).
//! 6. **Neural Lagrangians** ([`neural`]): `lnn`, `structured` and `baseline` networks with a
//!    batched forward-Taylor pass and exact weight gradients, trained with minibatch Adam.
//! 7. **Positions only** ([`positions`]): a measured trajectory `t, q(t)` turned into samples by
//!    smoothing differentiation, or fitted by multiple shooting.
//! 8. **Landscapes** ([`landscape`]), **noise tolerance** and bias correction ([`noise`]),
//!    **multi-start** ([`multistart`]), and a JSON-serializable [`LearnResult`] ([`result`]).
//! 9. **Sharding** ([`shard`]): landscapes, sweeps, multi-start and judgements run in units of
//!    work whose results can be computed in pieces and summarized together.

pub mod data;
pub mod engine;
#[cfg(feature = "compiled")]
pub mod eom_choice;
pub mod error;
pub mod generate;
pub mod identify;
pub mod landscape;
pub mod limits;
pub mod loss;
pub mod model;
pub mod multistart;
pub mod neural;
pub mod noise;
pub mod optim;
pub mod positions;
pub mod result;
pub mod shard;
pub mod system;

pub use data::{DataError, Dataset};
pub use engine::{Autodiff, Engine, EngineReport, LossEngine, build_engine, build_engine_with};
pub use error::LearnError;
pub use generate::{GenerateSpec, PhaseBox, generate};
pub use loss::{Evaluation, LossValue, evaluate, evaluate_loss};
pub use model::{
    Activation, AnyModel, Bound, Model, Network, Polynomial, PolynomialForm, Restricted, TextModel,
};
pub use optim::{AdamOptions, LmOptions, Optimizer, Schedule};
pub use result::{LearnOptions, LearnResult, learn, learn_with_progress};
