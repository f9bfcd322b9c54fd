//! Errors of the quantum layer.

use crate::mechanics::MechanicsError;
use thiserror::Error;

/// The common start of every "this Lagrangian has the wrong form" message.
const FORM: &str = "quantum needs L = ½ q̇ᵀ M q̇ − V(q) with constant M";

/// Why a path integral, a diagonalization or a fit could not be done.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum QuantumError {
    /// A Rayleigh dissipation function is declared.
    #[error(
        "{FORM}: the system declares dissipation, which has no Euclidean action (no equilibrium state)"
    )]
    Dissipation,
    /// Extra generalized forces are declared.
    #[error(
        "{FORM}: the system declares extra generalized forces, which do not derive from a potential"
    )]
    GeneralizedForces,
    /// `∂L/∂t ≠ 0`.
    #[error(
        "{FORM}: L depends explicitly on t (∂L/∂t = {value:.3e} at a sampled state), so there is no thermal equilibrium"
    )]
    TimeDependent {
        /// `∂L/∂t` at the failing state.
        value: f64,
    },
    /// `∂L/∂q̇ ≠ 0` at `q̇ = 0`.
    #[error(
        "{FORM}: L has terms linear in q̇ (∂L/∂q̇ of coordinate {coordinate} is {value:.3e} at q̇ = 0: a velocity-dependent potential), whose Euclidean action is complex"
    )]
    VelocityLinear {
        /// Index of the coordinate.
        coordinate: usize,
        /// `∂L/∂q̇ᵢ` at `q̇ = 0`.
        value: f64,
    },
    /// The mass matrix differs between sampled states.
    #[error(
        "{FORM}: the mass matrix ∂²L/∂q̇² depends on the state (entry ({row}, {column}) is {first:.6e} at one sampled state and {other:.6e} at another)"
    )]
    NonConstantMass {
        /// Row of the differing entry.
        row: usize,
        /// Column of the differing entry.
        column: usize,
        /// Its value at the first state.
        first: f64,
        /// Its value at another state.
        other: f64,
    },
    /// `L(q, q̇) − L(q, 0) − ½ q̇ᵀ M q̇ ≠ 0`.
    #[error(
        "{FORM}: L is not quadratic in q̇ (L(q, q̇) − L(q, 0) − ½ q̇ᵀ M q̇ = {residual:.3e} at a sampled state)"
    )]
    NotQuadratic {
        /// The residual at the failing state.
        residual: f64,
    },
    /// `M` is not positive definite.
    #[error("{FORM}: M must be positive definite, its smallest eigenvalue is {smallest:.3e}")]
    NotPositiveDefinite {
        /// Smallest eigenvalue of `M`.
        smallest: f64,
    },
    /// The system has no coordinates.
    #[error("{FORM}: the system has no coordinates")]
    NoCoordinates,
    /// A value was NaN or infinite.
    #[error("non-finite value ({what})")]
    NonFinite {
        /// What was not finite.
        what: &'static str,
    },
    /// An option is out of range.
    #[error("{option} must be {requirement}, got {value}")]
    InvalidOption {
        /// The option's name.
        option: &'static str,
        /// The value given.
        value: f64,
        /// What it must be.
        requirement: &'static str,
    },
    /// The potential does not confine the particle: the density reaches the edge of the
    /// widest grid tried.
    #[error(
        "the potential does not confine the particle: the density is still {edge:.3e} (relative to its peak) at q = {centre} ± {half_width:.3e}"
    )]
    NotConfining {
        /// Centre of the grid.
        centre: f64,
        /// Half-width of the widest grid.
        half_width: f64,
        /// Density at its edge relative to the peak.
        edge: f64,
    },
    /// Exact diagonalization is implemented for one coordinate only.
    #[error("exact diagonalization needs one coordinate, the system has {dof}")]
    NotOneDimensional {
        /// The number of coordinates.
        dof: usize,
    },
    /// The path became non-finite while sampling.
    #[error(
        "the path diverged while sampling (a non-finite action after {sweeps} sweeps): the potential may be unbounded below"
    )]
    Diverged {
        /// Sweeps done.
        sweeps: usize,
    },
    /// The maximum-likelihood fit failed.
    #[error("maximum-likelihood fit failed: {reason}")]
    FitFailed {
        /// Why.
        reason: String,
    },
    /// An engine evaluation failed.
    #[error(transparent)]
    Mechanics(#[from] MechanicsError),
}
