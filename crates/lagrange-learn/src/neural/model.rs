//! The three neural model kinds, their Lagrangians over any scalar, and their batched loss with
//! its exact weight gradient.
//!
//! - **`lnn`** (Cranmer et al. 2020): `L_θ(q, q̇)` is an MLP of the features of `(q, q̇)`. The
//!   batched pass carries the first-order directions `q̇ᵢ`, `qⱼ` and `v = Σⱼ q̇ⱼ ∂/∂qⱼ`, and the
//!   second-order pairs `(q̇ᵢ, q̇ⱼ)` (the mass matrix `M`) and `(q̇ᵢ, v)` (the vector `C q̇` with
//!   `C = ∂²L/∂q̇∂q`): `n(n+1)/2 + n` second-order channels, never the full Hessian.
//!   `q̈ = M⁻¹ (∂L/∂q − C q̇)`.
//! - **`structured`** (DeLaN, Lutter et al. 2019): `L = ½ q̇ᵀ M_θ(q) q̇ − V_θ(q)` with
//!   `M_θ = C Cᵀ + εI`, `C` lower-triangular with a softplus diagonal: regular by construction.
//!   One MLP of the position features outputs the `n(n+1)/2` entries of `C` and `V`; the pass
//!   carries the first-order directions `qⱼ` only.
//! - **`baseline`**: an MLP `(q, q̇) ↦ q̈` (scaled by the data's q̈ spread), no Lagrangian.
//!
//! The loss of a batch `B` is `Σ_b Σᵢ (q̈ᵢ − q̈ᵢ,data)² / (B·n)`, plus, for `lnn` with a mass
//! penalty, `ρ Σ_b max(0, δ − λ_min(M))² / B`. Samples where `M` is singular (relative pivot
//! below the engine's [`SINGULAR_RELATIVE_PIVOT`](lagrange::mechanics::linalg::SINGULAR_RELATIVE_PIVOT),
//! through the same solver) are left out of the sum and counted, never
//! turned into NaN.

use super::activation::SmoothActivation;
use super::features::InputScaling;
use super::mlp::Mlp;
use super::taylor::{self, Channels, Real, Workspace};
use crate::error::LearnError;
use crate::model::Model;
use lagrange::mechanics::linalg::solve_in_place;
use lagrange::num_dual::{Dual64, DualNum};
use lagrange::{Lagrangian, Scalar};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Which neural model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NeuralKind {
    /// An MLP Lagrangian `L_θ(q, q̇)`.
    Lnn,
    /// `½ q̇ᵀ (CCᵀ + εI) q̇ − V`, both from one MLP of `q`.
    Structured,
    /// An MLP `(q, q̇) ↦ q̈` without a Lagrangian.
    Baseline,
}

impl NeuralKind {
    /// Parses `lnn`, `structured`, `baseline`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "lnn" => Some(Self::Lnn),
            "structured" => Some(Self::Structured),
            "baseline" => Some(Self::Baseline),
            _ => None,
        }
    }

    /// The name [`parse`](Self::parse) reads.
    pub fn name(self) -> &'static str {
        match self {
            Self::Lnn => "lnn",
            Self::Structured => "structured",
            Self::Baseline => "baseline",
        }
    }
}

/// The optional penalty that keeps an `lnn`'s mass matrix positive definite:
/// `weight · max(0, floor − λ_min(M))²` per sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MassPenalty {
    /// `ρ`.
    pub weight: f64,
    /// `δ`: the smallest eigenvalue the penalty accepts.
    pub floor: f64,
}

/// A neural model with its weights: trainable, and (for `lnn` and `structured`) a Lagrangian.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeuralModel {
    /// The kind.
    pub kind: NeuralKind,
    /// Coordinate names (velocities are `<name>_dot`).
    pub coordinates: Vec<String>,
    /// Hidden width.
    pub width: usize,
    /// Number of hidden layers.
    pub depth: usize,
    /// Hidden activation.
    pub activation: SmoothActivation,
    /// Input features.
    pub scaling: InputScaling,
    /// `ε` of the structured mass matrix `CCᵀ + εI`.
    pub epsilon: f64,
    /// The baseline's output scale per coordinate (q̈ = scale ⊙ network).
    pub output_scale: Vec<f64>,
    /// The `lnn` mass-matrix penalty, if any.
    pub penalty: Option<MassPenalty>,
    /// The weights, in the layout of [`Mlp`].
    pub parameters: Vec<f64>,
}

/// Default `ε` of the structured model.
pub const DEFAULT_EPSILON: f64 = 1e-3;
/// Largest number of coordinates a neural model accepts (the heads solve `n × n` systems per
/// sample, and the structured output grows as `n²`).
pub const MAX_DOF: usize = 32;
/// Largest hidden width and depth.
pub const MAX_WIDTH: usize = 4096;
/// Largest number of hidden layers.
pub const MAX_DEPTH: usize = 16;

impl NeuralModel {
    /// A new model with seeded initial weights.
    pub fn new(
        kind: NeuralKind,
        coordinates: Vec<String>,
        width: usize,
        depth: usize,
        activation: SmoothActivation,
        scaling: InputScaling,
        seed: u64,
    ) -> Result<Self, LearnError> {
        let n = coordinates.len();
        let invalid = |option, value: String, reason| {
            Err(LearnError::InvalidOption {
                option,
                value,
                reason,
            })
        };
        if n == 0 || n > MAX_DOF {
            return invalid("coordinates", n.to_string(), "a neural model needs 1..=32");
        }
        if width == 0 || width > MAX_WIDTH {
            return invalid("width", width.to_string(), "it must be in 1..=4096");
        }
        if depth == 0 || depth > MAX_DEPTH {
            return invalid("depth", depth.to_string(), "it must be in 1..=16");
        }
        if scaling.dof() != n {
            return invalid(
                "input scaling",
                scaling.dof().to_string(),
                "it must have one entry per coordinate",
            );
        }
        let mut model = Self {
            kind,
            coordinates,
            width,
            depth,
            activation,
            scaling,
            epsilon: DEFAULT_EPSILON,
            output_scale: vec![1.0; n],
            penalty: None,
            parameters: Vec::new(),
        };
        // a small output gain: the baseline starts near q̈ = 0, the Lagrangians near a simple L
        let gain = match kind {
            NeuralKind::Baseline => 0.1,
            _ => 1.0,
        };
        model.parameters = model
            .mlp()
            .initialize(&mut ChaCha8Rng::seed_from_u64(seed), gain);
        if kind == NeuralKind::Lnn {
            // A random L has an indefinite mass matrix almost everywhere, and training from
            // there diverges (measured: the loss stays above the data's variance). With every
            // weight after the first layer non-negative and softplus units (convex,
            // non-decreasing), L is convex in q̇ (an input-convex network), so M starts positive
            // semi-definite. Training may leave that cone; the optional mass penalty keeps M
            // positive definite.
            for slot in model.mlp().slots().iter().skip(1) {
                for w in &mut model.parameters[slot.weights..slot.bias] {
                    *w = w.abs();
                }
            }
        }
        Ok(model)
    }

    /// Number of coordinates.
    pub fn dof(&self) -> usize {
        self.coordinates.len()
    }

    /// Whether the model has a Lagrangian (not the baseline).
    pub fn has_lagrangian(&self) -> bool {
        self.kind != NeuralKind::Baseline
    }

    fn structured_outputs(&self) -> usize {
        let n = self.dof();
        n * (n + 1) / 2 + 1
    }

    /// The network's shape.
    pub fn mlp(&self) -> Mlp {
        let n = self.dof();
        let p = self.scaling.position_features();
        let (inputs, outputs) = match self.kind {
            NeuralKind::Lnn => (p + n, 1),
            NeuralKind::Structured => (p, self.structured_outputs()),
            NeuralKind::Baseline => (p + n, n),
        };
        Mlp::new(inputs, self.width, self.depth, outputs, self.activation)
    }

    /// The derivative channels the batched pass carries for this kind.
    pub fn channels(&self) -> Channels {
        let n = self.dof();
        match self.kind {
            NeuralKind::Lnn => {
                let mut pairs = Vec::with_capacity(n * (n + 1) / 2 + n);
                for i in 0..n {
                    for j in i..n {
                        pairs.push((i, j));
                    }
                }
                pairs.extend((0..n).map(|i| (i, 2 * n)));
                Channels {
                    first: 2 * n + 1,
                    pairs,
                }
            }
            NeuralKind::Structured => Channels {
                first: n,
                pairs: Vec::new(),
            },
            NeuralKind::Baseline => Channels {
                first: 0,
                pairs: Vec::new(),
            },
        }
    }

    /// One-line description: kind, shape, activation.
    pub fn describe(&self) -> String {
        format!(
            "{} {}x{} {} ({} weights)",
            self.kind.name(),
            self.width,
            self.depth,
            self.activation.name(),
            self.parameters.len()
        )
    }

    /// `L(q, q̇)` over any scalar, with weight `i` given by `weight(i)`; zero for the baseline.
    pub fn lagrangian_with<D: Scalar>(
        &self,
        weight: impl Fn(usize) -> D,
        q: &[D],
        q_dot: &[D],
    ) -> D {
        let mlp = self.mlp();
        match self.kind {
            NeuralKind::Lnn => {
                let x = self.scaling.features(q, q_dot, true);
                mlp.forward(weight, &x)[0]
            }
            NeuralKind::Structured => {
                let n = self.dof();
                let x = self.scaling.features(q, q_dot, false);
                let out = mlp.forward(weight, &x);
                let c = lower_factor(n, &out, |raw| SmoothActivation::Softplus.apply(raw));
                // L = ½ |Cᵀq̇|² + ½ ε |q̇|² − V
                let mut l = D::zero();
                for j in 0..n {
                    let mut u = D::zero();
                    for i in j..n {
                        u += c[i * n + j] * q_dot[i];
                    }
                    l += u * u * 0.5;
                }
                for &v in q_dot {
                    l += v * v * (0.5 * self.epsilon);
                }
                l - out[n * (n + 1) / 2]
            }
            NeuralKind::Baseline => D::zero(),
        }
    }

    /// The baseline's q̈ at one state (any kind: for the Lagrangian kinds use the engine).
    pub fn baseline_accelerations(&self, q: &[f64], q_dot: &[f64]) -> Vec<f64> {
        let x = self.scaling.features(q, q_dot, true);
        let out = self.mlp().forward(|i| self.parameters[i], &x);
        out.iter()
            .zip(&self.output_scale)
            .map(|(o, s)| o * s)
            .collect()
    }
}

/// Index of the pair `(min(i,j), max(i,j))` in the row-wise upper triangle of an `n × n` matrix:
/// where the `lnn` channels hold `M_ij` (the GPU backend lays out its head with it too).
pub fn upper_index(n: usize, i: usize, j: usize) -> usize {
    let (i, j) = if i <= j { (i, j) } else { (j, i) };
    i * n - i * (i + 1) / 2 + j
}

/// `C` (row-major `n × n`, lower-triangular) from the raw outputs: entry `(i, j ≤ i)` is output
/// `i(i+1)/2 + j`, the diagonal through `diagonal`.
fn lower_factor<D: Scalar>(n: usize, raw: &[D], diagonal: impl Fn(D) -> D) -> Vec<D> {
    let mut c = vec![D::zero(); n * n];
    for i in 0..n {
        for j in 0..=i {
            let r = raw[i * (i + 1) / 2 + j];
            c[i * n + j] = if i == j { diagonal(r) } else { r };
        }
    }
    c
}

/// q̈ of the structured model from the network's outputs `raw` and their derivatives
/// `draw[k·(m+1) + o] = ∂raw_o/∂q_k` (`m = n(n+1)/2`), at velocity `q_dot`.
fn structured_accelerations<D: Scalar>(
    n: usize,
    epsilon: f64,
    raw: &[D],
    draw: &[D],
    q_dot: &[f64],
) -> Result<Vec<D>, f64> {
    let outputs = n * (n + 1) / 2 + 1;
    let c = lower_factor(n, raw, |r| SmoothActivation::Softplus.apply(r));
    // ∂C/∂q_k: the diagonal through softplus' = logistic
    let dc: Vec<Vec<D>> = (0..n)
        .map(|k| {
            let d = &draw[k * outputs..(k + 1) * outputs];
            let mut out = vec![D::zero(); n * n];
            for i in 0..n {
                for j in 0..=i {
                    let o = i * (i + 1) / 2 + j;
                    out[i * n + j] = if i == j {
                        d[o] * SmoothActivation::Sigmoid.apply(raw[o])
                    } else {
                        d[o]
                    };
                }
            }
            out
        })
        .collect();
    let trans_times = |m: &[D]| -> Vec<D> {
        (0..n)
            .map(|j| {
                let mut s = D::zero();
                for i in 0..n {
                    s += m[i * n + j] * q_dot[i];
                }
                s
            })
            .collect()
    };
    let u = trans_times(&c);
    let mut rhs = vec![D::zero(); n];
    for k in 0..n {
        let uk = trans_times(&dc[k]);
        // g_k = ½ q̇ᵀ ∂ₖM q̇ − ∂ₖV = (Cₖᵀq̇)·(Cᵀq̇) − ∂ₖV
        let mut g = -draw[k * outputs + outputs - 1];
        for j in 0..n {
            g += uk[j] * u[j];
        }
        rhs[k] += g;
        // − q̇ₖ ∂ₖM q̇ = − q̇ₖ (Cₖ u + C uₖ)
        for i in 0..n {
            let mut s = D::zero();
            for j in 0..n {
                s += dc[k][i * n + j] * u[j] + c[i * n + j] * uk[j];
            }
            rhs[i] -= s * q_dot[k];
        }
    }
    let mut m = vec![D::zero(); n * n];
    for i in 0..n {
        for j in 0..n {
            let mut s = if i == j { D::from(epsilon) } else { D::zero() };
            for k in 0..n {
                s += c[i * n + k] * c[j * n + k];
            }
            m[i * n + j] = s;
        }
    }
    solve_in_place(&mut m, n, &mut rhs)?;
    Ok(rhs)
}

/// The training samples as flat arrays (`N × n`, row-major).
#[derive(Debug, Clone, Default)]
pub struct Samples {
    /// Coordinates per sample.
    pub n: usize,
    /// Positions.
    pub q: Vec<f64>,
    /// Velocities.
    pub q_dot: Vec<f64>,
    /// Accelerations (the targets).
    pub q_ddot: Vec<f64>,
}

impl Samples {
    /// From a dataset (already in the model's coordinate order).
    pub fn from_dataset(data: &crate::Dataset) -> Self {
        let flat = |rows: &[Vec<f64>]| rows.iter().flatten().copied().collect::<Vec<f64>>();
        Self {
            n: data.dof(),
            q: flat(&data.q),
            q_dot: flat(&data.q_dot),
            q_ddot: flat(&data.q_ddot),
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.q.len().checked_div(self.n).unwrap_or(0)
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn row<'a>(&self, v: &'a [f64], s: usize) -> &'a [f64] {
        &v[s * self.n..(s + 1) * self.n]
    }
}

/// The loss of one batch (see the module documentation) and its bookkeeping.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BatchLoss {
    /// The objective: `Σ r² / (B·n)` plus the penalty.
    pub objective: f64,
    /// `Σ r²` over the regular samples.
    pub squared_error: f64,
    /// Regular samples.
    pub regular: usize,
    /// Samples with a singular mass matrix (left out).
    pub singular: usize,
    /// The penalty's share of the objective.
    pub penalty: f64,
}

impl BatchLoss {
    /// Adds another part of the same batch.
    pub fn merge(&mut self, other: &BatchLoss) {
        self.objective += other.objective;
        self.squared_error += other.squared_error;
        self.regular += other.regular;
        self.singular += other.singular;
        self.penalty += other.penalty;
    }

    /// Mean squared error per residual over the regular samples.
    pub fn mse(&self, n: usize) -> f64 {
        if self.regular == 0 {
            f64::NAN
        } else {
            self.squared_error / (self.regular * n) as f64
        }
    }
}

/// Buffers for [`NeuralModel::batch_loss`].
#[derive(Debug, Default, Clone)]
pub struct BatchScratch<T> {
    ws: Workspace<T>,
    out_bar: Vec<T>,
}

impl NeuralModel {
    /// Fills the input channels for `samples[indices]` and runs the network.
    fn run_network<T: Real>(
        &self,
        mlp: &Mlp,
        ch: &Channels,
        params: &[T],
        samples: &Samples,
        indices: &[usize],
        ws: &mut Workspace<T>,
    ) {
        let n = self.dof();
        let k = ch.width();
        let batch = indices.len();
        let pf = self.scaling.position_features();
        // 1. inputs: features and their tangents
        {
            let x = ws.prepare(mlp, ch, batch);
            let cols = batch * k;
            for (b, &s) in indices.iter().enumerate() {
                let q = samples.row(&samples.q, s);
                let qd = samples.row(&samples.q_dot, s);
                let c0 = b * k;
                let with_velocity = self.kind != NeuralKind::Structured;
                let phi = self.scaling.features(q, qd, with_velocity);
                for (f, v) in phi.iter().enumerate() {
                    x[f * cols + c0] = T::of(*v);
                }
                let (q_dirs, v_dir) = match self.kind {
                    NeuralKind::Lnn => {
                        for i in 0..n {
                            x[(pf + i) * cols + c0 + 1 + i] =
                                T::of(1.0 / self.scaling.q_dot_scale[i]);
                        }
                        (Some(1 + n), Some(1 + 2 * n))
                    }
                    NeuralKind::Structured => (Some(1), None),
                    NeuralKind::Baseline => (None, None),
                };
                if let Some(first) = q_dirs {
                    for j in 0..n {
                        for (row, val) in self.scaling.position_tangent(j, q[j]) {
                            x[row * cols + c0 + first + j] += T::of(val);
                            if let Some(v) = v_dir {
                                x[row * cols + c0 + v] += T::of(val * qd[j]);
                            }
                        }
                    }
                }
            }
        }
        taylor::forward(mlp, params, ch, ws);
    }

    /// q̈ of `samples[indices]` (f64), `None` where the mass matrix is singular or q̈ is not
    /// finite.
    pub fn accelerations_batch(
        &self,
        samples: &Samples,
        indices: &[usize],
        scratch: &mut BatchScratch<f64>,
    ) -> Vec<Option<Vec<f64>>> {
        let mlp = self.mlp();
        let ch = self.channels();
        if indices.is_empty() {
            return Vec::new();
        }
        self.run_network(
            &mlp,
            &ch,
            &self.parameters,
            samples,
            indices,
            &mut scratch.ws,
        );
        let cols = scratch.ws.cols();
        let out = scratch.ws.output();
        let k = ch.width();
        indices
            .iter()
            .enumerate()
            .map(|(b, &s)| {
                let qd = samples.row(&samples.q_dot, s);
                self.head_accelerations(out, cols, b * k, qd)
                    .map(|(acc, _)| acc)
            })
            .collect()
    }

    /// q̈ of the sample whose channels start at column `c0` of the output, and (for `lnn`) the
    /// mass matrix.
    fn head_accelerations<T: Real>(
        &self,
        out: &[T],
        cols: usize,
        c0: usize,
        qd: &[f64],
    ) -> Option<(Vec<f64>, Vec<f64>)> {
        let n = self.dof();
        let y = |o: usize, c: usize| out[o * cols + c].to_f64().unwrap_or(f64::NAN);
        let acc = match self.kind {
            NeuralKind::Lnn => {
                let first = 2 * n + 1;
                let np = n * (n + 1) / 2;
                let mut m = vec![0.0; n * n];
                for i in 0..n {
                    for j in 0..n {
                        m[i * n + j] = y(0, c0 + 1 + first + upper_index(n, i, j));
                    }
                }
                let mut acc: Vec<f64> = (0..n)
                    .map(|i| y(0, c0 + 1 + n + i) - y(0, c0 + 1 + first + np + i))
                    .collect();
                let mut lu = m.clone();
                solve_in_place(&mut lu, n, &mut acc).ok()?;
                return acc.iter().all(|a| a.is_finite()).then_some((acc, m));
            }
            NeuralKind::Structured => {
                let outputs = self.structured_outputs();
                let raw: Vec<f64> = (0..outputs).map(|o| y(o, c0)).collect();
                let draw: Vec<f64> = (0..n)
                    .flat_map(|kd| (0..outputs).map(move |o| (o, kd)))
                    .map(|(o, kd)| y(o, c0 + 1 + kd))
                    .collect();
                structured_accelerations(n, self.epsilon, &raw, &draw, qd).ok()?
            }
            NeuralKind::Baseline => (0..n).map(|i| y(i, c0) * self.output_scale[i]).collect(),
        };
        acc.iter()
            .all(|a| a.is_finite())
            .then_some((acc, Vec::new()))
    }

    /// The loss over `samples[indices]` and, if `grad` is given, adds its gradient with respect
    /// to `params` (the weights in `T`). `normalizer` is the `B` of `1/(B·n)` (the whole batch,
    /// when `indices` is one thread's share of it).
    pub fn batch_loss<T: Real>(
        &self,
        params: &[T],
        samples: &Samples,
        indices: &[usize],
        normalizer: usize,
        scratch: &mut BatchScratch<T>,
        grad: Option<&mut [T]>,
    ) -> BatchLoss {
        let mlp = self.mlp();
        let ch = self.channels();
        let k = ch.width();
        let n = self.dof();
        let batch = indices.len();
        let mut loss = BatchLoss::default();
        if batch == 0 {
            return loss;
        }
        let weight = 1.0 / (normalizer * n) as f64;
        self.run_network(&mlp, &ch, params, samples, indices, &mut scratch.ws);
        // the head: q̈, residuals, and the adjoint of the outputs
        let cols = scratch.ws.cols();
        let out = scratch.ws.output();
        let bar = &mut scratch.out_bar;
        bar.clear();
        bar.resize(out.len(), T::zero());
        let y = |o: usize, c: usize| out[o * cols + c].to_f64().unwrap_or(f64::NAN);
        for (b, &s) in indices.iter().enumerate() {
            let c0 = b * k;
            let target = samples.row(&samples.q_ddot, s);
            let qd = samples.row(&samples.q_dot, s);
            if self.kind == NeuralKind::Lnn
                && let Some(pen) = self.penalty
            {
                let mut m = vec![0.0; n * n];
                for i in 0..n {
                    for j in 0..n {
                        m[i * n + j] = y(0, c0 + 1 + ch.first + upper_index(n, i, j));
                    }
                }
                let (value, dm) = eigen_floor_penalty(&m, n, pen);
                if value > 0.0 {
                    let w = 1.0 / normalizer as f64;
                    loss.penalty += w * value;
                    loss.objective += w * value;
                    for i in 0..n {
                        for j in i..n {
                            let g = if i == j {
                                dm[i * n + i]
                            } else {
                                dm[i * n + j] + dm[j * n + i]
                            };
                            bar[c0 + 1 + ch.first + upper_index(n, i, j)] += T::of(w * g);
                        }
                    }
                }
            }
            let Some((acc, m)) = self.head_accelerations(out, cols, c0, qd) else {
                loss.singular += 1;
                continue;
            };
            record(&mut loss, &acc, target, weight);
            match self.kind {
                NeuralKind::Lnn => {
                    // λ = M⁻¹ ∂ℓ/∂q̈; ∂ℓ/∂(∂L/∂q) = λ, ∂ℓ/∂(Cq̇) = −λ, ∂ℓ/∂M = −λ q̈ᵀ (symmetrized)
                    let np = n * (n + 1) / 2;
                    let mut lambda: Vec<f64> = (0..n)
                        .map(|i| 2.0 * weight * (acc[i] - target[i]))
                        .collect();
                    let mut lu = m;
                    if solve_in_place(&mut lu, n, &mut lambda).is_err() {
                        continue;
                    }
                    for i in 0..n {
                        bar[c0 + 1 + n + i] += T::of(lambda[i]);
                        bar[c0 + 1 + ch.first + np + i] += T::of(-lambda[i]);
                        for j in i..n {
                            let g = if i == j {
                                -lambda[i] * acc[i]
                            } else {
                                -(lambda[i] * acc[j] + lambda[j] * acc[i])
                            };
                            bar[c0 + 1 + ch.first + upper_index(n, i, j)] += T::of(g);
                        }
                    }
                }
                NeuralKind::Structured => {
                    let outputs = self.structured_outputs();
                    let mut inputs = Vec::with_capacity(outputs * (n + 1));
                    inputs.extend((0..outputs).map(|o| y(o, c0)));
                    for kd in 0..n {
                        inputs.extend((0..outputs).map(|o| y(o, c0 + 1 + kd)));
                    }
                    // ∂ℓ/∂(each head input), one forward-mode direction at a time: the head is
                    // a few dozen operations, next to the network's thousands
                    let mut lifted: Vec<Dual64> = inputs.iter().map(|&v| Dual64::from(v)).collect();
                    for p in 0..inputs.len() {
                        lifted[p].eps = 1.0;
                        let (raw, draw) = lifted.split_at(outputs);
                        if let Ok(a) = structured_accelerations(n, self.epsilon, raw, draw, qd) {
                            let mut d = 0.0;
                            for i in 0..n {
                                d += 2.0 * weight * (a[i].re - target[i]) * a[i].eps;
                            }
                            let (o, c) = if p < outputs {
                                (p, c0)
                            } else {
                                ((p - outputs) % outputs, c0 + 1 + (p - outputs) / outputs)
                            };
                            bar[o * cols + c] += T::of(d);
                        }
                        lifted[p].eps = 0.0;
                    }
                }
                NeuralKind::Baseline => {
                    for i in 0..n {
                        bar[i * cols + c0] +=
                            T::of(2.0 * weight * (acc[i] - target[i]) * self.output_scale[i]);
                    }
                }
            }
        }
        if let Some(grad) = grad {
            taylor::backward(&mlp, params, &ch, &mut scratch.ws, &scratch.out_bar, grad);
        }
        loss
    }
}

fn record(loss: &mut BatchLoss, acc: &[f64], target: &[f64], weight: f64) {
    let se: f64 = acc.iter().zip(target).map(|(a, t)| (a - t).powi(2)).sum();
    loss.squared_error += se;
    loss.objective += weight * se;
    loss.regular += 1;
}

/// `max(0, δ − λ_min(M))²·ρ` and its derivative with respect to each entry of `M` (as if the
/// entries were independent): `−2ρ max(0, δ − λ_min) v vᵀ` for the unit eigenvector `v`.
fn eigen_floor_penalty(m: &[f64], n: usize, pen: MassPenalty) -> (f64, Vec<f64>) {
    let mat = nalgebra::DMatrix::from_row_slice(n, n, m);
    if !mat.iter().all(|x| x.is_finite()) {
        return (0.0, vec![0.0; n * n]);
    }
    let eig = nalgebra::SymmetricEigen::new(mat);
    let (imin, lmin) =
        eig.eigenvalues
            .iter()
            .copied()
            .enumerate()
            .fold(
                (0, f64::INFINITY),
                |a, (i, l)| if l < a.1 { (i, l) } else { a },
            );
    let gap = pen.floor - lmin;
    if gap <= 0.0 {
        return (0.0, vec![0.0; n * n]);
    }
    let v = eig.eigenvectors.column(imin);
    let mut d = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            d[i * n + j] = -2.0 * pen.weight * gap * v[i] * v[j];
        }
    }
    (pen.weight * gap * gap, d)
}

impl Model for NeuralModel {
    fn dof(&self) -> usize {
        self.coordinates.len()
    }
    fn coordinates(&self) -> Vec<String> {
        self.coordinates.clone()
    }
    fn parameter_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.parameters.len());
        for (l, slot) in self.mlp().slots().iter().enumerate() {
            for o in 0..slot.outputs {
                for i in 0..slot.inputs {
                    names.push(format!("W{l}_{o}_{i}"));
                }
            }
            names.extend((0..slot.outputs).map(|o| format!("b{l}_{o}")));
        }
        names
    }
    fn initial_parameters(&self) -> Vec<f64> {
        self.parameters.clone()
    }
    fn lagrangian_over<S: Scalar, D: Scalar + DualNum<InnerDual = S>>(
        &self,
        params: &[S],
        _t: D,
        q: &[D],
        q_dot: &[D],
    ) -> D {
        self.lagrangian_with(|i| D::from_re(params[i]), q, q_dot)
    }
    fn description(&self) -> String {
        self.describe()
    }
}

/// The model with its own weights is a Lagrangian of the engine (zero for the baseline, whose
/// users must check [`NeuralModel::has_lagrangian`]).
impl Lagrangian for NeuralModel {
    fn dof(&self) -> usize {
        self.coordinates.len()
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
        self.lagrangian_with(|i| D::from(self.parameters[i]), q, q_dot)
    }
}
