//! A library of classic systems, one per file, each with its hand-derived EOM and exact
//! solution where one exists (test oracles), and a registry by name.
//!
//! Every system is a struct with public parameter fields and a [`Default`] of sensible physical
//! values; it implements [`Lagrangian`] (written once, generic over the scalar) and [`System`]
//! (names, parameters, default state, the Lagrangian as text). Each also has an inherent
//! `hand_accelerations` (the Euler–Lagrange equations solved by hand: the test oracle and the
//! benchmark baseline; `hand_accelerations_into` writes into a slice without allocating) and, where a closed form exists, `exact_solution` (initial state at
//! `t = 0`).
//!
//! | name | coordinates | parameters | exact solution |
//! |---|---|---|---|
//! | `harmonic-oscillator` | `x, y` (n ≤ 3: `x y z`; else `x1 … xn`) | `n`, `m_<c>`, `k_<c>` | yes |
//! | `pendulum` | `theta` | `m l g` | yes (Jacobi elliptic) |
//! | `double-pendulum` | `theta1 theta2` | `m1 m2 l1 l2 g` | no |
//! | `cyclotron` | `x y z` | `m q B` | yes (helix) |
//! | `crossed-fields` | `x y z` | `m q B E` | yes (drifting cycloid) |
//! | `kepler` | `x y` | `m mu` | yes (bound orbits) |
//! | `spring-pendulum` | `r theta` | `m k l0 g` | no |
//! | `chain` | `x1 … xn` | `n m k` | yes (normal modes) |
//! | `n-body` | `x1 y1 … xn yn` | `n G eps m1 … mn` | no |
//! | `damped-oscillator` | `x` | `m k c` | yes |
//! | `driven-oscillator` | `x` | `m k F0 Omega` | yes |
//!
//! ```
//! use lagrange::systems::{System, by_name};
//!
//! let pendulum = by_name("pendulum").unwrap();
//! assert_eq!(pendulum.coordinates(), ["theta"]);
//! // θ̈ = −(g/l) sin θ at θ = π/2 with the default g = 9.81, l = 1
//! let theta = std::f64::consts::FRAC_PI_2;
//! let a = lagrange::accelerations(&pendulum, 0.0_f64, &[theta], &[0.0]).unwrap();
//! assert!((a[0] + 9.81).abs() < 1e-12);
//! ```

pub mod chain;
pub mod crossed_fields;
pub mod cyclotron;
pub mod damped_oscillator;
pub mod double_pendulum;
pub mod driven_oscillator;
pub mod geometry;
pub mod harmonic_oscillator;
pub mod kepler;
pub mod n_body;
pub mod pendulum;
pub mod spring_pendulum;

pub use chain::Chain;
pub use crossed_fields::CrossedFields;
pub use cyclotron::Cyclotron;
pub use damped_oscillator::DampedOscillator;
pub use double_pendulum::DoublePendulum;
pub use driven_oscillator::DrivenOscillator;
pub use geometry::{Geometry, Link, LinkKind, oblique};
pub use harmonic_oscillator::HarmonicOscillator;
pub use kepler::Kepler;
pub use n_body::NBody;
pub use pendulum::Pendulum;
pub use spring_pendulum::SpringPendulum;

use crate::lagrangian::{Lagrangian, Scalar};
use thiserror::Error;

/// A parameter name that a system does not have, or a value it cannot take.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ParameterError {
    /// No parameter of that name.
    #[error("unknown parameter `{name}` (known: {known})")]
    Unknown {
        /// The name asked for.
        name: String,
        /// Comma-separated list of the system's parameters.
        known: String,
    },
    /// The value is not acceptable (NaN, infinite, or out of the parameter's range).
    #[error("invalid value {value} for parameter `{name}`: {reason}")]
    Invalid {
        /// Parameter name.
        name: String,
        /// Rejected value.
        value: f64,
        /// Why.
        reason: String,
    },
}

/// A named physical system with metadata: what the CLI, examples and tests need besides `L`.
///
/// Implemented by every built-in system (Rust code) and by text systems loaded from TOML.
pub trait System: Lagrangian {
    /// Human-readable name.
    fn title(&self) -> String;
    /// Coordinate names, in column order (`x`, `theta1`, ...). Velocities are `<name>_dot`.
    fn coordinates(&self) -> Vec<String>;
    /// Parameters and their current values, in a stable order.
    fn parameters(&self) -> Vec<(String, f64)>;
    /// Sets one parameter.
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), ParameterError>;
    /// Default initial state `(q, q̇)` (used when the user gives none).
    fn initial_state(&self) -> (Vec<f64>, Vec<f64>);
    /// The Lagrangian (and dissipation, if any) as text in the expression language, e.g.
    /// `0.5*m*x_dot^2 - 0.5*k*x^2`.
    fn lagrangian_text(&self) -> String;
    /// Rayleigh dissipation function as text, if the system has one.
    fn dissipation_text(&self) -> Option<String> {
        None
    }
    /// The planar picture of the system for animations, where it has a natural one (rods and
    /// bobs, springs, particles); `None` animates as moving points on the phase portraits.
    fn geometry(&self) -> Option<Geometry> {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the system files.

/// What values a parameter accepts (beyond being finite, which all require).
#[derive(Clone, Copy)]
pub(crate) enum Range {
    /// Any finite value.
    Any,
    /// Finite and `> 0`.
    Positive,
    /// Finite and `>= 0`.
    NonNegative,
    /// An integer count in `min..=max`.
    Count(usize, usize),
}

/// Checks `value` for parameter `name` against `range`.
pub(crate) fn check(name: &str, value: f64, range: Range) -> Result<f64, ParameterError> {
    let invalid = |reason: String| ParameterError::Invalid {
        name: name.to_string(),
        value,
        reason,
    };
    if !value.is_finite() {
        return Err(invalid("must be finite".into()));
    }
    match range {
        Range::Any => {}
        Range::Positive if value <= 0.0 => return Err(invalid("must be > 0".into())),
        Range::NonNegative if value < 0.0 => return Err(invalid("must be >= 0".into())),
        Range::Count(min, max)
            if value.fract() != 0.0 || value < min as f64 || value > max as f64 =>
        {
            return Err(invalid(format!("must be an integer in {min}..={max}")));
        }
        _ => {}
    }
    Ok(value)
}

/// The error for a parameter `name` not among `params`.
pub(crate) fn unknown(name: &str, params: &[(String, f64)]) -> ParameterError {
    ParameterError::Unknown {
        name: name.to_string(),
        known: params
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// `(name, value)` pairs from string literals.
pub(crate) fn named(pairs: &[(&str, f64)]) -> Vec<(String, f64)> {
    pairs.iter().map(|&(n, v)| (n.to_string(), v)).collect()
}

/// Indexed names `prefix1 … prefixN`.
pub(crate) fn indexed(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}{i}")).collect()
}

/// The pair `(C, S)` of solutions of `u'' = −w2·u` with `C(0) = 1, C'(0) = 0` and
/// `S(0) = 0, S'(0) = 1`, for any sign of `w2` (cos/sin, cosh/sinh, or `1, t`).
///
/// Their derivatives are `C' = −w2·S` and `S' = C`. Accurate for small |w2| (no cancellation).
pub(crate) fn cos_sinc(w2: f64, t: f64) -> (f64, f64) {
    if w2 > 0.0 {
        let w = w2.sqrt();
        let (s, c) = (w * t).sin_cos();
        (c, if w * t == 0.0 { t } else { s / w })
    } else if w2 < 0.0 {
        let w = (-w2).sqrt();
        (
            (w * t).cosh(),
            if w * t == 0.0 { t } else { (w * t).sinh() / w },
        )
    } else {
        (1.0, t)
    }
}

/// `½ m |v|²` for a velocity slice, over any scalar.
#[inline]
pub(crate) fn half_m_v2<D: Scalar>(m: f64, v: &[D]) -> D {
    let mut s = D::zero();
    for &x in v {
        s += x * x;
    }
    s * (0.5 * m)
}

// ---------------------------------------------------------------------------------------------
// Registry.

/// Every built-in system, by value: the registry's item type.
///
/// Implements [`Lagrangian`] and [`System`] by delegation, so a `BuiltinSystem` can be handed to
/// the engine directly.
#[derive(Debug, Clone, PartialEq)]
pub enum BuiltinSystem {
    /// `harmonic-oscillator`
    HarmonicOscillator(HarmonicOscillator),
    /// `pendulum`
    Pendulum(Pendulum),
    /// `double-pendulum`
    DoublePendulum(DoublePendulum),
    /// `cyclotron`
    Cyclotron(Cyclotron),
    /// `crossed-fields`
    CrossedFields(CrossedFields),
    /// `kepler`
    Kepler(Kepler),
    /// `spring-pendulum`
    SpringPendulum(SpringPendulum),
    /// `chain`
    Chain(Chain),
    /// `n-body`
    NBody(NBody),
    /// `damped-oscillator`
    DampedOscillator(DampedOscillator),
    /// `driven-oscillator`
    DrivenOscillator(DrivenOscillator),
}

const NAMES: &[&str] = &[
    "harmonic-oscillator",
    "pendulum",
    "double-pendulum",
    "cyclotron",
    "crossed-fields",
    "kepler",
    "spring-pendulum",
    "chain",
    "n-body",
    "damped-oscillator",
    "driven-oscillator",
];

/// The registry names of all built-in systems (kebab-case), in a stable order.
pub fn names() -> &'static [&'static str] {
    NAMES
}

/// The built-in system called `name`, with default parameters; `None` if there is none.
pub fn by_name(name: &str) -> Option<BuiltinSystem> {
    use BuiltinSystem as B;
    Some(match name {
        "harmonic-oscillator" => B::HarmonicOscillator(Default::default()),
        "pendulum" => B::Pendulum(Default::default()),
        "double-pendulum" => B::DoublePendulum(Default::default()),
        "cyclotron" => B::Cyclotron(Default::default()),
        "crossed-fields" => B::CrossedFields(Default::default()),
        "kepler" => B::Kepler(Default::default()),
        "spring-pendulum" => B::SpringPendulum(Default::default()),
        "chain" => B::Chain(Default::default()),
        "n-body" => B::NBody(Default::default()),
        "damped-oscillator" => B::DampedOscillator(Default::default()),
        "driven-oscillator" => B::DrivenOscillator(Default::default()),
        _ => return None,
    })
}

macro_rules! dispatch {
    ($value:expr, $s:ident => $body:expr) => {
        match $value {
            BuiltinSystem::HarmonicOscillator($s) => $body,
            BuiltinSystem::Pendulum($s) => $body,
            BuiltinSystem::DoublePendulum($s) => $body,
            BuiltinSystem::Cyclotron($s) => $body,
            BuiltinSystem::CrossedFields($s) => $body,
            BuiltinSystem::Kepler($s) => $body,
            BuiltinSystem::SpringPendulum($s) => $body,
            BuiltinSystem::Chain($s) => $body,
            BuiltinSystem::NBody($s) => $body,
            BuiltinSystem::DampedOscillator($s) => $body,
            BuiltinSystem::DrivenOscillator($s) => $body,
        }
    };
}

impl BuiltinSystem {
    /// The registry name (`by_name(s.name())` gives this system back with default parameters).
    pub fn name(&self) -> &'static str {
        use BuiltinSystem as B;
        match self {
            B::HarmonicOscillator(_) => "harmonic-oscillator",
            B::Pendulum(_) => "pendulum",
            B::DoublePendulum(_) => "double-pendulum",
            B::Cyclotron(_) => "cyclotron",
            B::CrossedFields(_) => "crossed-fields",
            B::Kepler(_) => "kepler",
            B::SpringPendulum(_) => "spring-pendulum",
            B::Chain(_) => "chain",
            B::NBody(_) => "n-body",
            B::DampedOscillator(_) => "damped-oscillator",
            B::DrivenOscillator(_) => "driven-oscillator",
        }
    }

    /// The hand-derived q̈ of the wrapped system (see each system's `hand_accelerations`).
    pub fn hand_accelerations(&self, t: f64, q: &[f64], q_dot: &[f64]) -> Vec<f64> {
        dispatch!(self, s => s.hand_accelerations(t, q, q_dot))
    }

    /// [`Self::hand_accelerations`] written into `out` (at least `q.len()` long), without
    /// allocating.
    pub fn hand_accelerations_into(&self, t: f64, q: &[f64], q_dot: &[f64], out: &mut [f64]) {
        dispatch!(self, s => s.hand_accelerations_into(t, q, q_dot, out))
    }

    /// The closed-form state `(q(t), q̇(t))` from `(q0, q̇0)` at time 0, where the system has one
    /// (and the state/parameters admit it); `None` otherwise.
    pub fn exact_solution(
        &self,
        t: f64,
        q0: &[f64],
        q_dot0: &[f64],
    ) -> Option<(Vec<f64>, Vec<f64>)> {
        use BuiltinSystem as B;
        match self {
            B::HarmonicOscillator(s) => s.exact_solution(t, q0, q_dot0),
            B::Pendulum(s) => s.exact_solution(t, q0, q_dot0),
            B::Cyclotron(s) => s.exact_solution(t, q0, q_dot0),
            B::CrossedFields(s) => s.exact_solution(t, q0, q_dot0),
            B::Kepler(s) => s.exact_solution(t, q0, q_dot0),
            B::Chain(s) => s.exact_solution(t, q0, q_dot0),
            B::DampedOscillator(s) => s.exact_solution(t, q0, q_dot0),
            B::DrivenOscillator(s) => s.exact_solution(t, q0, q_dot0),
            B::DoublePendulum(_) | B::SpringPendulum(_) | B::NBody(_) => None,
        }
    }
}

impl Lagrangian for BuiltinSystem {
    crate::forward_lagrangian!(dispatch);
}

impl System for BuiltinSystem {
    fn title(&self) -> String {
        dispatch!(self, s => s.title())
    }
    fn coordinates(&self) -> Vec<String> {
        dispatch!(self, s => s.coordinates())
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        dispatch!(self, s => s.parameters())
    }
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), ParameterError> {
        dispatch!(self, s => s.set_parameter(name, value))
    }
    fn initial_state(&self) -> (Vec<f64>, Vec<f64>) {
        dispatch!(self, s => s.initial_state())
    }
    fn lagrangian_text(&self) -> String {
        dispatch!(self, s => s.lagrangian_text())
    }
    fn dissipation_text(&self) -> Option<String> {
        dispatch!(self, s => s.dissipation_text())
    }
    fn geometry(&self) -> Option<Geometry> {
        dispatch!(self, s => s.geometry())
    }
}
