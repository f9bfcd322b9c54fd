//! The error type of learning.

use crate::data::DataError;
use lagrange::MechanicsError;
use lagrange::expr::SystemFileError;
use lagrange::integrators::IntegrationError;
use thiserror::Error;

/// Why learning (or a step of it) failed. `Display` is one line.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LearnError {
    /// Bad or unusable data.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A parameter name that the model does not have.
    #[error("unknown parameter `{name}` (the model has: {known})")]
    UnknownParameter {
        /// The name asked for.
        name: String,
        /// Comma-separated list of the model's parameters.
        known: String,
    },
    /// A fixed parameter value that is NaN or infinite.
    #[error(
        "invalid parameter selection: the fixed value of `{name}` is not finite (fix it to a finite number)"
    )]
    FixedNotFinite {
        /// The parameter.
        name: String,
    },
    /// A parameter both fitted and fixed.
    #[error(
        "invalid parameter selection: `{name}` is both fitted and fixed (fit it or fix it, not both)"
    )]
    BothFittedAndFixed {
        /// The parameter.
        name: String,
    },
    /// A parameter listed twice among the fitted ones.
    #[error("invalid parameter selection: `{name}` is listed twice (list each parameter once)")]
    ListedTwice {
        /// The parameter.
        name: String,
    },
    /// Every parameter is fixed.
    #[error("invalid parameter selection: no parameter left to fit (fit at least one parameter)")]
    NothingToFit,
    /// The model could not be loaded (e.g. a malformed TOML system file).
    #[error(transparent)]
    Model(#[from] SystemFileError),
    /// A model family that does not exist.
    #[error(
        "unknown model family `{spec}` (use a TOML file, poly-separable[:K[:V]], poly-product[:K[:V]] or network[:H[:f0[:f1]]])"
    )]
    UnknownModel {
        /// The model as given.
        spec: String,
    },
    /// A bad option value (grid, schedule, box, model size, ...).
    #[error("model file {path}: {reason}")]
    /// A neural model file that cannot be read or is inconsistent.
    ModelFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The accelerator backend (the `lagrange-gpu` crate) failed or cannot run this model.
    #[error("GPU backend: {reason}")]
    Device {
        /// What failed, and what to do.
        reason: String,
    },
    #[error("invalid {option} `{value}`: {reason}")]
    InvalidOption {
        /// Which option (`schedule`, `grid`, `box entry`, ...).
        option: &'static str,
        /// The value given, as text.
        value: String,
        /// What is wrong and what is expected.
        reason: &'static str,
    },
    /// A phase-space box names something that is not a coordinate or velocity.
    #[error(
        "box names `{name}`, which is not a coordinate or velocity of the system (have: {known})"
    )]
    UnknownBoxName {
        /// The name in the box.
        name: String,
        /// Comma-separated list of the system's coordinates and velocities.
        known: String,
    },
    /// A parameter vector of the wrong length.
    #[error("{what}: {given} values given for {expected} parameters (give one per parameter)")]
    ParameterCount {
        /// Which vector (`initial values`, `truth`, ...).
        what: &'static str,
        /// Its length.
        given: usize,
        /// The model's number of parameters.
        expected: usize,
    },
    /// An initial parameter value that is NaN or infinite.
    #[error("initial value {index} of the parameters is not finite (start from finite values)")]
    NonFiniteInitial {
        /// 0-based position in the parameter vector.
        index: usize,
    },
    /// Both landscape axes are the same parameter.
    #[error("both grid axes are `{name}` (give two different parameters)")]
    SameGridAxes {
        /// The parameter.
        name: String,
    },
    /// Every start of a multi-start run failed without an error of its own.
    #[error("every one of the {starts} starts failed (try other starting values)")]
    AllStartsFailed {
        /// Number of starts.
        starts: usize,
    },
    /// An error that one unit of a run met (a start, a sweep cell), read back as text from a
    /// file of per-unit results: a shard of a sharded run (see [`crate::shard`]).
    #[error("{message}")]
    Recorded {
        /// The original error's message.
        message: String,
    },
    /// Per-unit results that do not make up the whole run: some missing, repeated or out of
    /// order (the pieces of a sharded run, combined).
    #[error("the {what} do not cover the whole run: {reason}")]
    IncompleteUnits {
        /// Which results (`grid points`, `noise-sweep cells`, ...).
        what: &'static str,
        /// What is missing or wrong.
        reason: String,
    },
    /// The model's mass matrix is singular at every sample.
    #[error(
        "the model's mass matrix ∂²L/∂q̇² is singular at all {samples} samples: the Lagrangian is degenerate for these parameters (it must be quadratic/convex in the velocities)"
    )]
    AllSingular {
        /// Number of samples.
        samples: usize,
    },
    /// The model produced NaN or infinity.
    #[error(
        "the model evaluates to a non-finite value at sample {sample} (row {line} of the data)"
    )]
    NonFinite {
        /// 0-based sample index.
        sample: usize,
        /// 1-based line in the CSV file (header is line 1).
        line: usize,
    },
    /// `--engine compiled` for a model that cannot be compiled.
    #[error(
        "the compiled engine cannot evaluate this model: {reason} (use --engine auto or autodiff)"
    )]
    EngineUnavailable {
        /// Why the model could not be compiled.
        reason: String,
    },
    /// The core engine failed (other than a singular mass matrix).
    #[error("equations of motion failed: {0}")]
    Mechanics(#[from] MechanicsError),
    /// Sampling a box failed at too many states.
    #[error(
        "data generation failed: too many failing states in the box (last: {last}); narrow the box"
    )]
    TooManyFailingStates {
        /// The error at the last failing state.
        #[source]
        last: MechanicsError,
    },
    /// A trajectory for the data could not be integrated.
    #[error("data generation failed: trajectory {trajectory}: {source}")]
    Trajectory {
        /// 1-based trajectory number.
        trajectory: usize,
        /// Why the integration stopped.
        source: IntegrationError,
    },
    /// The accelerations at a state of a trajectory could not be evaluated.
    #[error("data generation failed: trajectory {trajectory}: {source}")]
    TrajectoryState {
        /// 1-based trajectory number.
        trajectory: usize,
        /// Why the equations of motion failed.
        source: MechanicsError,
    },
}
