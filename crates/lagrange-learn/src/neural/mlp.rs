//! A multilayer perceptron: its shape, its flat parameter layout, its initialization, and its
//! evaluation over any scalar of the engine.
//!
//! Layout: for each layer `l` (inputs `nᵢₙ`, outputs `nₒᵤₜ`), the weights `W_l` row-major
//! (`nₒᵤₜ × nᵢₙ`) then the bias `b_l`. Hidden layers apply the activation; the output layer is
//! affine. The same flat vector is read by the batched Taylor pass ([`super::taylor`]) and by
//! [`Mlp::forward`], so the two cannot disagree on the layout.

use super::activation::SmoothActivation;
use lagrange::Scalar;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// The shape of a multilayer perceptron.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mlp {
    /// Layer widths `[inputs, hidden₁, …, hidden_D, outputs]`.
    pub sizes: Vec<usize>,
    /// Activation of the hidden layers.
    pub activation: SmoothActivation,
}

/// Where one layer's weights and bias sit in the flat parameter vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerSlot {
    /// Inputs of the layer.
    pub inputs: usize,
    /// Outputs of the layer.
    pub outputs: usize,
    /// Offset of `W` (row-major, `outputs × inputs`).
    pub weights: usize,
    /// Offset of `b` (`outputs`).
    pub bias: usize,
}

impl Mlp {
    /// A network `inputs → width × depth → outputs`.
    pub fn new(
        inputs: usize,
        width: usize,
        depth: usize,
        outputs: usize,
        activation: SmoothActivation,
    ) -> Self {
        let mut sizes = vec![inputs];
        sizes.extend(std::iter::repeat_n(width, depth));
        sizes.push(outputs);
        Self { sizes, activation }
    }

    /// Number of layers with weights (hidden layers + the output layer).
    pub fn layers(&self) -> usize {
        self.sizes.len() - 1
    }

    /// The slots of every layer, in order.
    pub fn slots(&self) -> Vec<LayerSlot> {
        let mut offset = 0;
        self.sizes
            .windows(2)
            .map(|w| {
                let slot = LayerSlot {
                    inputs: w[0],
                    outputs: w[1],
                    weights: offset,
                    bias: offset + w[0] * w[1],
                };
                offset += w[0] * w[1] + w[1];
                slot
            })
            .collect()
    }

    /// Length of the flat parameter vector.
    pub fn parameter_count(&self) -> usize {
        self.sizes.windows(2).map(|w| w[0] * w[1] + w[1]).sum()
    }

    /// Glorot-normal weights (`N(0, 2/(nᵢₙ+nₒᵤₜ))`), zero biases; the output layer's weights
    /// are scaled by `output_gain` (a small gain starts the model near a simple function).
    pub fn initialize(&self, rng: &mut ChaCha8Rng, output_gain: f64) -> Vec<f64> {
        let mut params = vec![0.0; self.parameter_count()];
        let slots = self.slots();
        for (l, slot) in slots.iter().enumerate() {
            let mut std = (2.0 / (slot.inputs + slot.outputs) as f64).sqrt();
            if l + 1 == slots.len() {
                std *= output_gain;
            }
            for w in &mut params[slot.weights..slot.bias] {
                *w = std * rng.sample::<f64, _>(StandardNormal);
            }
        }
        params
    }

    /// The network at `x` over any scalar, with parameter `i` given by `weight(i)` (so the
    /// parameters may be plain numbers lifted into `D`, or dual numbers of their own).
    pub fn forward<D: Scalar>(&self, weight: impl Fn(usize) -> D, x: &[D]) -> Vec<D> {
        debug_assert_eq!(x.len(), self.sizes[0]);
        let slots = self.slots();
        let mut input = x.to_vec();
        for (l, slot) in slots.iter().enumerate() {
            let last = l + 1 == slots.len();
            let output: Vec<D> = (0..slot.outputs)
                .map(|o| {
                    let row = slot.weights + o * slot.inputs;
                    let mut z = weight(slot.bias + o);
                    for (i, &xi) in input.iter().enumerate() {
                        z += weight(row + i) * xi;
                    }
                    if last { z } else { self.activation.apply(z) }
                })
                .collect();
            input = output;
        }
        input
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// The layout covers the flat vector exactly once, layer after layer.
    #[test]
    fn slots_tile_the_parameter_vector() {
        let mlp = Mlp::new(4, 5, 3, 2, SmoothActivation::Tanh);
        let slots = mlp.slots();
        assert_eq!(slots.len(), 4);
        let mut next = 0;
        for s in &slots {
            assert_eq!(s.weights, next);
            assert_eq!(s.bias, s.weights + s.inputs * s.outputs);
            next = s.bias + s.outputs;
        }
        assert_eq!(next, mlp.parameter_count());
        assert_eq!(next, 4 * 5 + 5 + 2 * (5 * 5 + 5) + 5 * 2 + 2);
    }

    /// A one-layer network is `W σ(V x + c) + b`, written out by hand.
    #[test]
    fn forward_matches_a_hand_evaluation() {
        let mlp = Mlp::new(2, 2, 1, 1, SmoothActivation::Tanh);
        let p = mlp.initialize(&mut ChaCha8Rng::seed_from_u64(3), 1.0);
        let x = [0.3, -1.2];
        let h0 = (p[0] * x[0] + p[1] * x[1] + p[4]).tanh();
        let h1 = (p[2] * x[0] + p[3] * x[1] + p[5]).tanh();
        let want = p[6] * h0 + p[7] * h1 + p[8];
        let got = mlp.forward(|i| p[i], &x)[0];
        // same operations in a different order: a few ulps
        assert!((got - want).abs() < 1e-14);
    }
}
