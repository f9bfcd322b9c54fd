//! Smooth activations with their first three derivatives.
//!
//! The batched forward pass propagates second derivatives of the network with respect to its
//! inputs (see [`super::taylor`]), so it needs `σ'` and `σ''`; its backward pass differentiates
//! those once more with respect to the weights, so it needs `σ'''` as well. The same activation
//! is also evaluated over any dual number ([`SmoothActivation::apply`]) for the engine's
//! generic path.

use lagrange::Scalar;
use num_traits::Float;
use serde::{Deserialize, Serialize};

/// A smooth (C³) activation of the hidden layers of a neural Lagrangian.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmoothActivation {
    /// `ln(1 + eˣ)` (Cranmer et al. 2020 use it for LNNs).
    Softplus,
    /// `tanh x`.
    Tanh,
    /// `1 / (1 + e⁻ˣ)`.
    Sigmoid,
}

impl SmoothActivation {
    /// Parses `softplus`, `tanh`, `sigmoid`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "softplus" => Some(Self::Softplus),
            "tanh" => Some(Self::Tanh),
            "sigmoid" => Some(Self::Sigmoid),
            _ => None,
        }
    }

    /// The name `parse` reads.
    pub fn name(self) -> &'static str {
        match self {
            Self::Softplus => "softplus",
            Self::Tanh => "tanh",
            Self::Sigmoid => "sigmoid",
        }
    }

    /// `(σ(x), σ'(x), σ''(x), σ'''(x))`.
    #[inline]
    pub fn derivatives<T: Float>(self, x: T) -> [T; 4] {
        let one = T::one();
        let two = one + one;
        match self {
            Self::Softplus => {
                // one exp and one ln (glibc's log1pf alone took a sixth of a training step):
                // σ = max(x, 0) + ln(1 + e^−|x|), σ' = logistic(x) from the same e^−|x|. For
                // x ≪ 0 this rounds σ ≈ eˣ to 0: an absolute error below 1 ulp of 1.
                let e = (-x.abs()).exp();
                let f = x.max(T::zero()) + (one + e).ln();
                let s = if x >= T::zero() {
                    one / (one + e)
                } else {
                    e / (one + e)
                };
                let d = s * (one - s);
                [f, s, d, d * (one - two * s)]
            }
            Self::Tanh => {
                let t = x.tanh();
                let d1 = one - t * t;
                let six = two + two + two;
                [t, d1, -two * t * d1, d1 * (six * t * t - two)]
            }
            Self::Sigmoid => {
                let s = logistic(x);
                let d1 = s * (one - s);
                let u = one - two * s;
                [s, d1, d1 * u, d1 * u * u - two * d1 * d1]
            }
        }
    }

    /// `σ(x)` over any scalar of the engine (dual numbers included).
    #[inline]
    pub fn apply<D: Scalar>(self, x: D) -> D {
        match self {
            Self::Softplus => {
                if x.re() > 0.0 {
                    x + (-x).exp().ln_1p()
                } else {
                    x.exp().ln_1p()
                }
            }
            Self::Tanh => x.tanh(),
            Self::Sigmoid => ((-x).exp() + 1.0).recip(),
        }
    }
}

#[inline]
fn logistic<T: Float>(x: T) -> T {
    T::one() / (T::one() + (-x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lagrange::num_dual::Dual3_64;

    /// The hand-written derivatives agree with third-order dual numbers of `apply`.
    #[test]
    fn derivatives_match_third_order_duals() {
        for act in [
            SmoothActivation::Softplus,
            SmoothActivation::Tanh,
            SmoothActivation::Sigmoid,
        ] {
            for &x in &[-30.0, -3.0, -0.7, 0.0, 0.4, 2.5, 30.0] {
                let d = act.apply(Dual3_64::new(x, 1.0, 0.0, 0.0));
                let got = act.derivatives(x);
                let want = [d.re, d.v1, d.v2, d.v3];
                for k in 0..4 {
                    // both are evaluated in f64 from the same closed forms: 1e-12 relative
                    assert!(
                        (got[k] - want[k]).abs() <= 1e-12 * (1.0 + want[k].abs()),
                        "{} derivative {k} at {x}: {} vs {}",
                        act.name(),
                        got[k],
                        want[k]
                    );
                }
                let f32s = act.derivatives(x as f32);
                assert!((f32s[1] as f64 - want[1]).abs() < 1e-6);
                assert!(d.re.is_finite());
            }
        }
    }
}
