//! Lagrangians with unknown parameters.
//!
//! A [`Model`] writes `L(θ; t, q, q̇)` once, generically over two scalars: the parameters θ are of
//! an inner scalar `S` and the state of a dual number `D` built on `S`. The engine differentiates
//! `L` with respect to the state through `D` (to get the equations of motion); when `S` is itself a
//! dual number over the parameters (`num_dual::DualSVec<f64, P>`), the accelerations it returns
//! carry their exact parameter gradient. [`Bound`] binds a parameter vector to a model and makes it
//! a [`LagrangianOver<S>`] that [`lagrange::accelerations`] accepts.
//!
//! Families:
//! - [`TextModel`]: any text Lagrangian (a [`lagrange::expr::TextSystem`]) whose `[parameters]`
//!   are the unknowns (their values in the file are the initial guesses);
//! - [`Polynomial`]: separable or product polynomials in `(q, q̇)`, per coordinate;
//! - [`Network`]: a small one-hidden-layer network;
//! - [`Restricted`]: any model with some parameters fixed, fitting the rest.

use crate::error::LearnError;
use lagrange::expr::{TextSystem, WithParameters};
use lagrange::num_dual::DualNum;
use lagrange::{LagrangianOver, Scalar, Structure};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// A Lagrangian with unknown parameters.
pub trait Model {
    /// Number of generalized coordinates.
    fn dof(&self) -> usize;
    /// Coordinate names in the order the model expects them.
    fn coordinates(&self) -> Vec<String>;
    /// Names of the parameters (the ones an optimizer moves), in order.
    fn parameter_names(&self) -> Vec<String>;
    /// Initial guesses, same order as [`parameter_names`](Model::parameter_names).
    fn initial_parameters(&self) -> Vec<f64>;
    /// `L(θ; t, q, q̇)`; lift parameters into `D` with `D::from_re(params[i])`.
    fn lagrangian_over<S: Scalar, D: Scalar + DualNum<InnerDual = S>>(
        &self,
        params: &[S],
        t: D,
        q: &[D],
        q_dot: &[D],
    ) -> D;
    /// What the model declares (see [`lagrange::Structure`]): dissipation, a mass matrix that does
    /// not depend on `(t, q, q̇)` (it may depend on the parameters), local terms. Generalized
    /// forces are not part of a model.
    fn structure(&self) -> Structure {
        Structure::new()
    }
    /// Rayleigh dissipation `F(θ; t, q, q̇)` (generalized force `−∂F/∂q̇`).
    fn dissipation_over<S: Scalar, D: Scalar + DualNum<InnerDual = S>>(
        &self,
        _params: &[S],
        _t: D,
        _q: &[D],
        _q_dot: &[D],
    ) -> D {
        D::zero()
    }
    /// Appends the coordinates of local term `k` (see [`lagrange::Lagrangian::term_coordinates`]).
    fn term_coordinates(&self, _k: usize, _coordinates: &mut Vec<usize>) {}
    /// Local term `L_k(θ; t, q, q̇)` on its own coordinates (see [`lagrange::Lagrangian::term`]).
    fn term_over<S: Scalar, D: Scalar + DualNum<InnerDual = S>>(
        &self,
        _params: &[S],
        _k: usize,
        _t: D,
        _q: &[D],
        _q_dot: &[D],
    ) -> D {
        D::zero()
    }
    /// Parameters held fixed (name, value), reported with results.
    fn fixed_parameters(&self) -> Vec<(String, f64)> {
        Vec::new()
    }
    /// One-line description (family and shape).
    fn description(&self) -> String;
    /// A random initial guess for multi-start. The default multiplies each initial value by a
    /// log-uniform factor in `[1/10, 10]` (zero initial values become standard normal draws).
    fn random_parameters(&self, rng: &mut ChaCha8Rng) -> Vec<f64> {
        self.initial_parameters()
            .into_iter()
            .map(|p| {
                if p == 0.0 {
                    rng.sample::<f64, _>(StandardNormal)
                } else {
                    p * 10f64.powf(rng.random_range(-1.0..1.0))
                }
            })
            .collect()
    }
    /// A canonical representative of `params` modulo the model's exact symmetries (used to
    /// cluster multi-start minima). The default is the identity.
    fn canonical_parameters(&self, params: &[f64]) -> Vec<f64> {
        params.to_vec()
    }
}

/// Implements every [`Model`] method by forwarding it to `$via!(self, m => m.method(..))`, where
/// `$via` is a macro that binds `m` to the model that does the work.
macro_rules! forward_model {
    ($via:ident) => {
        fn dof(&self) -> usize {
            $via!(self, m => m.dof())
        }
        fn coordinates(&self) -> Vec<String> {
            $via!(self, m => m.coordinates())
        }
        fn parameter_names(&self) -> Vec<String> {
            $via!(self, m => m.parameter_names())
        }
        fn initial_parameters(&self) -> Vec<f64> {
            $via!(self, m => m.initial_parameters())
        }
        fn lagrangian_over<S: Scalar, D: Scalar + DualNum<InnerDual = S>>(
            &self,
            params: &[S],
            t: D,
            q: &[D],
            q_dot: &[D],
        ) -> D {
            $via!(self, m => m.lagrangian_over(params, t, q, q_dot))
        }
        fn structure(&self) -> Structure {
            $via!(self, m => m.structure())
        }
        fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
            $via!(self, m => m.term_coordinates(k, coordinates))
        }
        fn term_over<S: Scalar, D: Scalar + DualNum<InnerDual = S>>(
            &self,
            params: &[S],
            k: usize,
            t: D,
            q: &[D],
            q_dot: &[D],
        ) -> D {
            $via!(self, m => m.term_over(params, k, t, q, q_dot))
        }
        fn dissipation_over<S: Scalar, D: Scalar + DualNum<InnerDual = S>>(
            &self,
            params: &[S],
            t: D,
            q: &[D],
            q_dot: &[D],
        ) -> D {
            $via!(self, m => m.dissipation_over(params, t, q, q_dot))
        }
        fn fixed_parameters(&self) -> Vec<(String, f64)> {
            $via!(self, m => m.fixed_parameters())
        }
        fn description(&self) -> String {
            $via!(self, m => m.description())
        }
        fn random_parameters(&self, rng: &mut ChaCha8Rng) -> Vec<f64> {
            $via!(self, m => m.random_parameters(rng))
        }
        fn canonical_parameters(&self, params: &[f64]) -> Vec<f64> {
            $via!(self, m => m.canonical_parameters(params))
        }
    };
}

/// Binds `$m` to the model behind a reference.
macro_rules! deref {
    ($self:ident, $m:ident => $e:expr) => {{
        let $m = &**$self;
        $e
    }};
}

impl<M: Model + ?Sized> Model for &M {
    forward_model!(deref);
}

/// A model with its parameters bound: a Lagrangian the engine can differentiate.
pub struct Bound<'a, M: ?Sized, S> {
    /// The model.
    pub model: &'a M,
    /// Its parameters.
    pub params: &'a [S],
}

impl<M: Model + ?Sized, S: Scalar> LagrangianOver<S> for Bound<'_, M, S> {
    fn dof(&self) -> usize {
        self.model.dof()
    }
    fn lagrangian_over<D: Scalar + DualNum<InnerDual = S>>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
        self.model.lagrangian_over(self.params, t, q, q_dot)
    }
    fn structure(&self) -> Structure {
        self.model.structure()
    }
    fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
        self.model.term_coordinates(k, coordinates)
    }
    fn term_over<D: Scalar + DualNum<InnerDual = S>>(
        &self,
        k: usize,
        t: D,
        q: &[D],
        q_dot: &[D],
    ) -> D {
        self.model.term_over(self.params, k, t, q, q_dot)
    }
    fn dissipation_over<D: Scalar + DualNum<InnerDual = S>>(
        &self,
        t: D,
        q: &[D],
        q_dot: &[D],
    ) -> D {
        self.model.dissipation_over(self.params, t, q, q_dot)
    }
}

fn unknown(name: &str, known: &[String]) -> LearnError {
    LearnError::UnknownParameter {
        name: name.to_string(),
        known: known.join(", "),
    }
}

/// A model with some parameters fixed: the optimizer sees only the fitted ones.
#[derive(Debug, Clone)]
pub struct Restricted<M> {
    inner: M,
    fit: Vec<usize>,
    values: Vec<f64>,
}

impl<M: Model> Restricted<M> {
    /// Fits the parameters named in `fit` (all not fixed when `None`), fixing `fixed` at the given
    /// values; the other parameters, neither fitted nor named in `fixed`, stay at the inner model's
    /// initial values. Errors on unknown names, a name both fitted and fixed, or nothing to fit.
    pub fn new(
        inner: M,
        fit: Option<&[String]>,
        fixed: &[(String, f64)],
    ) -> Result<Self, LearnError> {
        let names = inner.parameter_names();
        let mut values = inner.initial_parameters();
        let mut is_fixed = vec![false; names.len()];
        for (name, value) in fixed {
            let i = names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| unknown(name, &names))?;
            if !value.is_finite() {
                return Err(LearnError::FixedNotFinite { name: name.clone() });
            }
            values[i] = *value;
            is_fixed[i] = true;
        }
        let fit: Vec<usize> = match fit {
            None => (0..names.len()).filter(|&i| !is_fixed[i]).collect(),
            Some(list) => {
                let mut out = Vec::new();
                for name in list {
                    let i = names
                        .iter()
                        .position(|n| n == name)
                        .ok_or_else(|| unknown(name, &names))?;
                    if is_fixed[i] {
                        return Err(LearnError::BothFittedAndFixed { name: name.clone() });
                    }
                    if out.contains(&i) {
                        return Err(LearnError::ListedTwice { name: name.clone() });
                    }
                    out.push(i);
                }
                out
            }
        };
        if fit.is_empty() {
            return Err(LearnError::NothingToFit);
        }
        Ok(Self { inner, fit, values })
    }

    /// Sets the starting values of fitted parameters (by full name).
    pub fn set_initial(&mut self, name: &str, value: f64) -> Result<(), LearnError> {
        let names = self.inner.parameter_names();
        let i = names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| unknown(name, &names))?;
        self.values[i] = value;
        Ok(())
    }

    /// The inner model.
    pub fn inner(&self) -> &M {
        &self.inner
    }

    /// Indices (in the inner model) of the fitted parameters.
    pub fn fitted_indices(&self) -> &[usize] {
        &self.fit
    }

    /// The inner model's full parameter vector for the given fitted values.
    pub fn full_parameters(&self, fitted: &[f64]) -> Vec<f64> {
        self.full_over(fitted)
    }

    /// The inner model's full parameter vector, in any scalar: the fixed values lifted into `S`,
    /// the fitted ones taken from `fitted`.
    fn full_over<S: Scalar>(&self, fitted: &[S]) -> Vec<S> {
        let mut full: Vec<S> = self.values.iter().map(|&v| S::from(v)).collect();
        for (&i, &x) in self.fit.iter().zip(fitted) {
            full[i] = x;
        }
        full
    }
}

impl<M: Model> Model for Restricted<M> {
    fn dof(&self) -> usize {
        self.inner.dof()
    }
    fn coordinates(&self) -> Vec<String> {
        self.inner.coordinates()
    }
    fn parameter_names(&self) -> Vec<String> {
        let names = self.inner.parameter_names();
        self.fit.iter().map(|&i| names[i].clone()).collect()
    }
    fn initial_parameters(&self) -> Vec<f64> {
        self.fit.iter().map(|&i| self.values[i]).collect()
    }
    fn lagrangian_over<S: Scalar, D: Scalar + DualNum<InnerDual = S>>(
        &self,
        params: &[S],
        t: D,
        q: &[D],
        q_dot: &[D],
    ) -> D {
        self.inner
            .lagrangian_over(&self.full_over(params), t, q, q_dot)
    }
    fn structure(&self) -> Structure {
        self.inner.structure()
    }
    fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
        self.inner.term_coordinates(k, coordinates)
    }
    fn term_over<S: Scalar, D: Scalar + DualNum<InnerDual = S>>(
        &self,
        params: &[S],
        k: usize,
        t: D,
        q: &[D],
        q_dot: &[D],
    ) -> D {
        self.inner
            .term_over(&self.full_over(params), k, t, q, q_dot)
    }
    fn dissipation_over<S: Scalar, D: Scalar + DualNum<InnerDual = S>>(
        &self,
        params: &[S],
        t: D,
        q: &[D],
        q_dot: &[D],
    ) -> D {
        self.inner
            .dissipation_over(&self.full_over(params), t, q, q_dot)
    }
    fn fixed_parameters(&self) -> Vec<(String, f64)> {
        let names = self.inner.parameter_names();
        let mut out = self.inner.fixed_parameters();
        out.extend(
            (0..names.len())
                .filter(|i| !self.fit.contains(i))
                .map(|i| (names[i].clone(), self.values[i])),
        );
        out
    }
    fn description(&self) -> String {
        self.inner.description()
    }
    fn random_parameters(&self, rng: &mut ChaCha8Rng) -> Vec<f64> {
        let all = self.inner.random_parameters(rng);
        self.fit.iter().map(|&i| all[i]).collect()
    }
    fn canonical_parameters(&self, params: &[f64]) -> Vec<f64> {
        let full = self
            .inner
            .canonical_parameters(&self.full_parameters(params));
        self.fit.iter().map(|&i| full[i]).collect()
    }
}

/// Any text Lagrangian: the `[parameters]` of a [`TextSystem`] are the unknowns, their values in
/// the file the initial guesses. Combine with [`Restricted`] to fix some of them.
#[derive(Debug, Clone)]
pub struct TextModel {
    system: TextSystem,
    names: Vec<String>,
    initial: Vec<f64>,
    coordinates: Vec<String>,
}

impl TextModel {
    /// Wraps a text system.
    pub fn new(system: TextSystem) -> Self {
        use lagrange::systems::System;
        let (names, initial) = system.parameters().into_iter().unzip();
        let coordinates = system.coordinates();
        Self {
            system,
            names,
            initial,
            coordinates,
        }
    }

    /// Parses a TOML system (see [`TextSystem::from_toml_str`]).
    pub fn from_toml_str(source: &str) -> Result<Self, LearnError> {
        TextSystem::from_toml_str(source)
            .map(Self::new)
            .map_err(LearnError::Model)
    }

    /// Reads a TOML system file.
    pub fn from_path(path: impl AsRef<std::path::Path>) -> Result<Self, LearnError> {
        TextSystem::from_path(path.as_ref())
            .map(Self::new)
            .map_err(LearnError::Model)
    }

    /// The text system.
    pub fn system(&self) -> &TextSystem {
        &self.system
    }

    /// The text system with its parameters replaced by `params`.
    fn with<'a, S>(&'a self, params: &'a [S]) -> WithParameters<'a, S> {
        WithParameters {
            system: &self.system,
            params,
        }
    }
}

impl Model for TextModel {
    fn dof(&self) -> usize {
        self.coordinates.len()
    }
    fn coordinates(&self) -> Vec<String> {
        self.coordinates.clone()
    }
    fn parameter_names(&self) -> Vec<String> {
        self.names.clone()
    }
    fn initial_parameters(&self) -> Vec<f64> {
        self.initial.clone()
    }
    fn lagrangian_over<S: Scalar, D: Scalar + DualNum<InnerDual = S>>(
        &self,
        params: &[S],
        t: D,
        q: &[D],
        q_dot: &[D],
    ) -> D {
        self.with(params).lagrangian_over(t, q, q_dot)
    }
    fn structure(&self) -> Structure {
        LagrangianOver::<f64>::structure(&self.with::<f64>(&[]))
    }
    fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
        LagrangianOver::<f64>::term_coordinates(&self.with::<f64>(&[]), k, coordinates)
    }
    fn term_over<S: Scalar, D: Scalar + DualNum<InnerDual = S>>(
        &self,
        params: &[S],
        k: usize,
        t: D,
        q: &[D],
        q_dot: &[D],
    ) -> D {
        self.with(params).term_over(k, t, q, q_dot)
    }
    fn dissipation_over<S: Scalar, D: Scalar + DualNum<InnerDual = S>>(
        &self,
        params: &[S],
        t: D,
        q: &[D],
        q_dot: &[D],
    ) -> D {
        self.with(params).dissipation_over(t, q, q_dot)
    }
    fn description(&self) -> String {
        use lagrange::systems::System;
        match self.system.dissipation_text() {
            Some(f) => format!(
                "text Lagrangian L = {}, F = {}",
                self.system.lagrangian_text(),
                f
            ),
            None => format!("text Lagrangian L = {}", self.system.lagrangian_text()),
        }
    }
}

/// Shape of a [`Polynomial`] model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolynomialForm {
    /// `L = Σᵢ [ Σ_{k=1..K} a_{k,i} qᵢᵏ + Σ_{l=2..V} b_{l,i} q̇ᵢˡ ]`.
    Separable,
    /// `L = Σᵢ Σ_{k=0..K, l∈{0,2..V}, (k,l)≠(0,0)} c_{k,l,i} qᵢᵏ q̇ᵢˡ`.
    Product,
}

/// Polynomial Lagrangians, one independent polynomial per coordinate (no cross terms).
///
/// - [`Separable`](PolynomialForm::Separable): `L = Σᵢ [Σ_{k=1..K} a_{k,i} qᵢᵏ + Σ_{l=2..V} b_{l,i} q̇ᵢˡ]`,
///   parameters `a{k}_{q}` then `b{l}_{q}` per coordinate (e.g. `a2_x`, `b2_x`);
/// - [`Product`](PolynomialForm::Product): `L = Σᵢ Σ c_{k,l,i} qᵢᵏ q̇ᵢˡ` over `k = 0..K` and
///   `l ∈ {0, 2, 3, .., V}` except `(0, 0)`, parameters `c{k}_{l}_{q}` (e.g. `c2_0_x`, `c0_2_x`).
///
/// Terms that cannot affect the motion are left out: constants, and every term linear in q̇
/// (`f(q) q̇` is the total derivative of `∫f`). `K` is the position degree (default 4), `V` the
/// velocity degree (default 2, at least 2). The initial guess is the unit oscillator
/// `½ q̇² − ½ q²` per coordinate (coefficient of `q̇²` = 0.5, of `q²` = −0.5, others 0).
#[derive(Debug, Clone)]
pub struct Polynomial {
    coordinates: Vec<String>,
    form: PolynomialForm,
    q_degree: usize,
    v_degree: usize,
    /// (coordinate, k, l) per parameter.
    terms: Vec<(usize, u32, u32)>,
}

impl Polynomial {
    /// A polynomial family over the given coordinates.
    pub fn new(
        coordinates: Vec<String>,
        form: PolynomialForm,
        q_degree: usize,
        v_degree: usize,
    ) -> Result<Self, LearnError> {
        if v_degree < 2 {
            return Err(LearnError::InvalidOption {
                option: "velocity degree",
                value: v_degree.to_string(),
                reason: "it must be at least 2",
            });
        }
        if q_degree > 16 || v_degree > 16 {
            return Err(LearnError::InvalidOption {
                option: "polynomial degree",
                value: q_degree.max(v_degree).to_string(),
                reason: "degrees above 16 are not supported",
            });
        }
        let mut terms = Vec::new();
        for c in 0..coordinates.len() {
            match form {
                PolynomialForm::Separable => {
                    terms.extend((1..=q_degree as u32).map(|k| (c, k, 0)));
                    terms.extend((2..=v_degree as u32).map(|l| (c, 0, l)));
                }
                PolynomialForm::Product => {
                    for k in 0..=q_degree as u32 {
                        for l in std::iter::once(0).chain(2..=v_degree as u32) {
                            if (k, l) != (0, 0) {
                                terms.push((c, k, l));
                            }
                        }
                    }
                }
            }
        }
        Ok(Self {
            coordinates,
            form,
            q_degree,
            v_degree,
            terms,
        })
    }
}

fn power<D: Scalar>(x: D, k: u32) -> D {
    let mut r = D::one();
    for _ in 0..k {
        r *= x;
    }
    r
}

impl Model for Polynomial {
    fn dof(&self) -> usize {
        self.coordinates.len()
    }
    fn coordinates(&self) -> Vec<String> {
        self.coordinates.clone()
    }
    fn parameter_names(&self) -> Vec<String> {
        self.terms
            .iter()
            .map(|&(c, k, l)| {
                let q = &self.coordinates[c];
                match self.form {
                    PolynomialForm::Separable if l == 0 => format!("a{k}_{q}"),
                    PolynomialForm::Separable => format!("b{l}_{q}"),
                    PolynomialForm::Product => format!("c{k}_{l}_{q}"),
                }
            })
            .collect()
    }
    fn initial_parameters(&self) -> Vec<f64> {
        self.terms
            .iter()
            .map(|&(_, k, l)| match (k, l) {
                (0, 2) => 0.5,
                (2, 0) => -0.5,
                _ => 0.0,
            })
            .collect()
    }
    fn lagrangian_over<S: Scalar, D: Scalar + DualNum<InnerDual = S>>(
        &self,
        params: &[S],
        _t: D,
        q: &[D],
        q_dot: &[D],
    ) -> D {
        let mut l_value = D::zero();
        for (&(c, k, l), &p) in self.terms.iter().zip(params) {
            l_value += D::from_re(p) * power(q[c], k) * power(q_dot[c], l);
        }
        l_value
    }
    fn description(&self) -> String {
        format!(
            "{} polynomial, position degree {}, velocity degree {}",
            match self.form {
                PolynomialForm::Separable => "separable",
                PolynomialForm::Product => "product",
            },
            self.q_degree,
            self.v_degree
        )
    }
}

/// Activation function of a [`Network`] layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `f(x) = x`.
    Identity,
    /// `f(x) = tanh x`.
    Tanh,
    /// `f(x) = ln(1 + eˣ)`.
    Softplus,
    /// `f(x) = x²`.
    Square,
}

impl Activation {
    /// Parses `identity`, `tanh`, `softplus`, `square`.
    pub fn parse(s: &str) -> Result<Self, LearnError> {
        Ok(match s {
            "identity" | "linear" => Self::Identity,
            "tanh" => Self::Tanh,
            "softplus" => Self::Softplus,
            "square" => Self::Square,
            _ => {
                return Err(LearnError::InvalidOption {
                    option: "activation",
                    value: s.to_string(),
                    reason: "use identity, tanh, softplus or square",
                });
            }
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Tanh => "tanh",
            Self::Softplus => "softplus",
            Self::Square => "square",
        }
    }

    fn apply<D: Scalar>(self, x: D) -> D {
        match self {
            Self::Identity => x,
            Self::Tanh => x.tanh(),
            Self::Softplus => {
                if x.re() > 0.0 {
                    x + (-x).exp().ln_1p()
                } else {
                    x.exp().ln_1p()
                }
            }
            Self::Square => x * x,
        }
    }
}

/// The small parametric network `L = f₁(σ₁ · f₀(σ₀ · z + c₀) + c₁) [+ Σᵢ ½ μᵢ q̇ᵢ²]`.
///
/// Reading of the seed's formula: the input is `z = (q, q̇)` (length `2n`); `σ₀` is an `H × 2n`
/// weight matrix (parameters `W0_{h}_{j}`), `c₀` a bias vector of length `H` (`c0_{h}`), `f₀` an
/// element-wise activation, `σ₁` a weight row of length `H` (`W1_{h}`), `c₁` a scalar bias
/// (`c1`), `f₁` the output activation (identity by default). Parameters are laid out in that
/// order, `W0` row-major.
///
/// Representing a *regular* L (invertible `∂²L/∂q̇²`): with `f₀ = square` the network is a sum of
/// squares of affine forms, so every quadratic Lagrangian (oscillators, coupled oscillators) is
/// exactly representable with `H ≥ 2n`; with `kinetic = true` (the default) a learnable kinetic
/// term `Σᵢ ½ μᵢ q̇ᵢ²` (`mu_{q}`, initial 1) is added, which keeps the mass matrix regular from the
/// start for any activation. Note the exact symmetries: hidden units can be permuted, `tanh`
/// units flipped in sign (`σ₀,c₀,σ₁ → −`), `square` units flipped (`σ₀,c₀ → −`); `c₁` never
/// affects the motion, and `L → c·L` is a flat direction.
#[derive(Debug, Clone)]
pub struct Network {
    coordinates: Vec<String>,
    hidden: usize,
    f0: Activation,
    f1: Activation,
    kinetic: bool,
    initial: Vec<f64>,
}

impl Network {
    /// A network with `hidden` units, seeded initial weights (Xavier-normal: `σ₀ ~ N(0, 1/2n)`,
    /// `σ₁ ~ N(0, 1/H)`, `c₀ ~ N(0, 0.1²)`, `c₁ = 0`, `μ = 1`).
    pub fn new(
        coordinates: Vec<String>,
        hidden: usize,
        f0: Activation,
        f1: Activation,
        kinetic: bool,
        seed: u64,
    ) -> Result<Self, LearnError> {
        if hidden == 0 || hidden > 256 {
            return Err(LearnError::InvalidOption {
                option: "number of hidden units",
                value: hidden.to_string(),
                reason: "it must be in 1..=256",
            });
        }
        let mut net = Self {
            coordinates,
            hidden,
            f0,
            f1,
            kinetic,
            initial: Vec::new(),
        };
        net.initial = net.xavier(&mut ChaCha8Rng::seed_from_u64(seed));
        Ok(net)
    }

    fn inputs(&self) -> usize {
        2 * self.coordinates.len()
    }

    fn xavier(&self, rng: &mut ChaCha8Rng) -> Vec<f64> {
        let (h, f) = (self.hidden, self.inputs());
        let mut p = Vec::with_capacity(self.count());
        let mut normal = |s: f64| s * rng.sample::<f64, _>(StandardNormal);
        for _ in 0..h * f {
            p.push(normal((1.0 / f as f64).sqrt()));
        }
        for _ in 0..h {
            p.push(normal(0.1));
        }
        for _ in 0..h {
            p.push(normal((1.0 / h as f64).sqrt()));
        }
        p.push(0.0);
        if self.kinetic {
            p.extend(std::iter::repeat_n(1.0, self.coordinates.len()));
        }
        p
    }

    fn count(&self) -> usize {
        let (h, f) = (self.hidden, self.inputs());
        h * f
            + 2 * h
            + 1
            + if self.kinetic {
                self.coordinates.len()
            } else {
                0
            }
    }
}

impl Model for Network {
    fn dof(&self) -> usize {
        self.coordinates.len()
    }
    fn coordinates(&self) -> Vec<String> {
        self.coordinates.clone()
    }
    fn parameter_names(&self) -> Vec<String> {
        let (h, f) = (self.hidden, self.inputs());
        let mut names = Vec::with_capacity(self.count());
        for a in 0..h {
            for b in 0..f {
                names.push(format!("W0_{a}_{b}"));
            }
        }
        names.extend((0..h).map(|a| format!("c0_{a}")));
        names.extend((0..h).map(|a| format!("W1_{a}")));
        names.push("c1".to_string());
        if self.kinetic {
            names.extend(self.coordinates.iter().map(|c| format!("mu_{c}")));
        }
        names
    }
    fn initial_parameters(&self) -> Vec<f64> {
        self.initial.clone()
    }
    fn lagrangian_over<S: Scalar, D: Scalar + DualNum<InnerDual = S>>(
        &self,
        params: &[S],
        _t: D,
        q: &[D],
        q_dot: &[D],
    ) -> D {
        let (h, f, n) = (self.hidden, self.inputs(), self.coordinates.len());
        let w0 = &params[..h * f];
        let c0 = &params[h * f..h * f + h];
        let w1 = &params[h * f + h..h * f + 2 * h];
        let c1 = params[h * f + 2 * h];
        let mut out = D::from_re(c1);
        for a in 0..h {
            let mut pre = D::from_re(c0[a]);
            for i in 0..n {
                pre += D::from_re(w0[a * f + i]) * q[i] + D::from_re(w0[a * f + n + i]) * q_dot[i];
            }
            out += D::from_re(w1[a]) * self.f0.apply(pre);
        }
        let mut l_value = self.f1.apply(out);
        if self.kinetic {
            let mu = &params[h * f + 2 * h + 1..];
            for i in 0..n {
                l_value += D::from_re(mu[i]) * q_dot[i] * q_dot[i] * 0.5;
            }
        }
        l_value
    }
    fn description(&self) -> String {
        format!(
            "network: {} hidden units, f0 = {}, f1 = {}{}",
            self.hidden,
            self.f0.name(),
            self.f1.name(),
            if self.kinetic {
                ", plus kinetic term ½ μ q̇²"
            } else {
                ""
            }
        )
    }
    fn random_parameters(&self, rng: &mut ChaCha8Rng) -> Vec<f64> {
        self.xavier(rng)
    }
    fn canonical_parameters(&self, params: &[f64]) -> Vec<f64> {
        let (h, f) = (self.hidden, self.inputs());
        // unit a = (W0 row, c0, W1)
        let mut units: Vec<Vec<f64>> = (0..h)
            .map(|a| {
                let mut u: Vec<f64> = params[a * f..(a + 1) * f].to_vec();
                u.push(params[h * f + a]);
                u.push(params[h * f + h + a]);
                let flip = match self.f0 {
                    // tanh is odd: (σ₀, c₀, σ₁) → −(σ₀, c₀, σ₁) is exact; make σ₁ ≥ 0
                    Activation::Tanh => u[f + 1] < 0.0,
                    // square is even: (σ₀, c₀) → −(σ₀, c₀); make the largest |input weight| positive
                    Activation::Square => {
                        let big = u[..=f]
                            .iter()
                            .copied()
                            .fold(0.0_f64, |m, x| if x.abs() > m.abs() { x } else { m });
                        big < 0.0
                    }
                    _ => false,
                };
                if flip {
                    let upto = if self.f0 == Activation::Tanh {
                        f + 2
                    } else {
                        f + 1
                    };
                    for x in &mut u[..upto] {
                        *x = -*x;
                    }
                }
                u
            })
            .collect();
        units.sort_by(|x, y| {
            y[f + 1]
                .partial_cmp(&x[f + 1])
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let mut out = params.to_vec();
        for (a, u) in units.iter().enumerate() {
            out[a * f..(a + 1) * f].copy_from_slice(&u[..f]);
            out[h * f + a] = u[f];
            out[h * f + h + a] = u[f + 1];
        }
        out
    }
}

/// Any of the families, for callers that choose at run time (the CLI).
#[derive(Debug, Clone)]
pub enum AnyModel {
    /// A text Lagrangian.
    Text(Box<TextModel>),
    /// A polynomial family.
    Polynomial(Polynomial),
    /// The network family.
    Network(Network),
}

impl AnyModel {
    /// A model from a command-line style specification: a path to a TOML system file (any
    /// `spec` ending in `.toml` or naming an existing file), else a family name as in
    /// [`family`](AnyModel::family) over `coordinates`.
    pub fn load(spec: &str, coordinates: Vec<String>, seed: u64) -> Result<Self, LearnError> {
        let path = std::path::Path::new(spec);
        if spec.ends_with(".toml") || path.is_file() {
            return TextModel::from_path(path).map(|m| Self::Text(Box::new(m)));
        }
        Self::family(spec, coordinates, seed)
    }

    /// A built-in family by name over the given coordinates:
    /// - `poly` / `poly-separable[:K[:V]]`: [`Polynomial`] separable, degrees K (default 4), V (default 2);
    /// - `poly-product[:K[:V]]`: [`Polynomial`] product form;
    /// - `network[:H[:f0[:f1]]]`: [`Network`] with H hidden units (default 8), activations
    ///   (default `softplus`, `identity`), kinetic term on, weights seeded by `seed`;
    /// - `network-nokinetic[:H[:f0[:f1]]]`: the same without the kinetic term.
    pub fn family(spec: &str, coordinates: Vec<String>, seed: u64) -> Result<Self, LearnError> {
        let mut parts = spec.split(':');
        let name = parts.next().unwrap_or_default();
        let rest: Vec<&str> = parts.collect();
        let invalid = |reason| LearnError::InvalidOption {
            option: "model",
            value: spec.to_string(),
            reason,
        };
        let num = |i: usize, default: usize| -> Result<usize, LearnError> {
            match rest.get(i) {
                None => Ok(default),
                Some(s) => s
                    .parse()
                    .map_err(|_| invalid("the sizes K, V and H must be whole numbers")),
            }
        };
        match name {
            "poly" | "poly-separable" | "poly-product" => {
                if rest.len() > 2 {
                    return Err(invalid(
                        "expected poly-separable[:K[:V]] or poly-product[:K[:V]]",
                    ));
                }
                let form = if name == "poly-product" {
                    PolynomialForm::Product
                } else {
                    PolynomialForm::Separable
                };
                Ok(Self::Polynomial(Polynomial::new(
                    coordinates,
                    form,
                    num(0, 4)?,
                    num(1, 2)?,
                )?))
            }
            "network" | "network-nokinetic" => {
                if rest.len() > 3 {
                    return Err(invalid("expected network[:H[:f0[:f1]]]"));
                }
                let f0 = Activation::parse(rest.get(1).copied().unwrap_or("softplus"))?;
                let f1 = Activation::parse(rest.get(2).copied().unwrap_or("identity"))?;
                Ok(Self::Network(Network::new(
                    coordinates,
                    num(0, 8)?,
                    f0,
                    f1,
                    name == "network",
                    seed,
                )?))
            }
            _ => Err(LearnError::UnknownModel {
                spec: spec.to_string(),
            }),
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $m:ident => $e:expr) => {
        match $self {
            AnyModel::Text($m) => $e,
            AnyModel::Polynomial($m) => $e,
            AnyModel::Network($m) => $e,
        }
    };
}

impl Model for AnyModel {
    forward_model!(dispatch);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every method through `&M` and `AnyModel` (the forwarding impls) answers as the model does.
    #[test]
    fn forwarding_impls_agree() {
        fn same<A: Model, B: Model>(a: A, b: B) {
            assert_eq!(a.dof(), b.dof());
            assert_eq!(a.coordinates(), b.coordinates());
            assert_eq!(a.parameter_names(), b.parameter_names());
            assert_eq!(a.initial_parameters(), b.initial_parameters());
            assert_eq!(a.structure(), b.structure());
            assert_eq!(a.fixed_parameters(), b.fixed_parameters());
            assert_eq!(a.description(), b.description());
            let p = a.initial_parameters();
            assert_eq!(a.canonical_parameters(&p), b.canonical_parameters(&p));
            let (mut ra, mut rb) = (ChaCha8Rng::seed_from_u64(1), ChaCha8Rng::seed_from_u64(1));
            assert_eq!(a.random_parameters(&mut ra), b.random_parameters(&mut rb));
        }
        let coordinates = vec!["x".to_string(), "y".to_string()];
        let network = Network::new(
            coordinates.clone(),
            3,
            Activation::Tanh,
            Activation::Identity,
            true,
            7,
        )
        .unwrap();
        same(&network, network.clone());
        same(AnyModel::Network(network.clone()), network);
        let poly = AnyModel::family("poly-product:2:2", coordinates, 0).unwrap();
        same(&poly, poly.clone());
        let fixed = [("a2_x".to_string(), 1.5)];
        let restricted = Restricted::new(
            AnyModel::family("poly:2", vec!["x".into()], 0).unwrap(),
            None,
            &fixed,
        )
        .unwrap();
        same(&restricted, restricted.clone());
        assert_eq!(
            restricted.full_parameters(&[0.25, 0.5]),
            vec![0.25, 1.5, 0.5]
        );
    }
}
