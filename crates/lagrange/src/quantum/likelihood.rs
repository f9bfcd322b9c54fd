//! Maximum-likelihood fit of a parameter of `V` to measured ground-state positions.
//!
//! A position measurement on the ground state returns `q` with density `|ψ₀(q; θ)|²` (Born
//! rule). For independent samples `x₁ … x_N` the log-likelihood is
//! `ℓ(θ) = Σᵢ ln |ψ₀(xᵢ; θ)|²`, with `ψ₀` from exact diagonalization ([`super::diagonalize`]) at
//! every trial `θ` (so any `V(q; θ)` works, not only those with a closed-form `ψ₀`). The
//! estimate maximizes `ℓ` (bracketing, then golden-section search); its standard error is
//! `1/√(−ℓ''(θ̂))`, the observed Fisher information (Fisher 1925; Efron & Hinkley, Biometrika
//! 65, 457 (1978)), which shrinks as `1/√N`.

use super::diagonalize::Spectrum;
use super::error::QuantumError;

/// The result of [`fit_ground_state`].
#[derive(Debug, Clone, PartialEq)]
pub struct GroundStateFit {
    /// The maximum-likelihood estimate `θ̂`.
    pub value: f64,
    /// Its standard error `1/√(−ℓ''(θ̂))`.
    pub standard_error: f64,
    /// `ℓ(θ̂)`.
    pub log_likelihood: f64,
    /// Number of samples.
    pub samples: usize,
    /// Evaluations of the model (diagonalizations).
    pub evaluations: usize,
}

/// An interval for the diagonalization grid of a fit: the samples' median `± 3 ×` their largest
/// distance from it (the density is then negligible at the walls for every `θ` near `θ̂`).
pub fn fit_interval(samples: &[f64]) -> (f64, f64) {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let spread = sorted
        .iter()
        .map(|x| (x - median).abs())
        .fold(0.0_f64, f64::max)
        .max(1e-12 * median.abs().max(1.0));
    (median - 3.0 * spread, median + 3.0 * spread)
}

/// Fits `θ` by maximum likelihood, starting from `initial`; `model(θ)` diagonalizes `H(θ)`
/// (only its ground state is used). A `θ` where the model fails counts as `ℓ = −∞`.
pub fn fit_ground_state(
    samples: &[f64],
    initial: f64,
    mut model: impl FnMut(f64) -> Result<Spectrum, QuantumError>,
) -> Result<GroundStateFit, QuantumError> {
    if samples.is_empty() {
        return Err(QuantumError::FitFailed {
            reason: "no samples".into(),
        });
    }
    if let Some(x) = samples.iter().find(|x| !x.is_finite()) {
        return Err(QuantumError::FitFailed {
            reason: format!("a sample is not finite ({x})"),
        });
    }
    if !initial.is_finite() {
        return Err(QuantumError::FitFailed {
            reason: format!("the starting value {initial} is not finite"),
        });
    }
    let mut evaluations = 0;
    let mut ell = |theta: f64| -> f64 {
        evaluations += 1;
        match model(theta) {
            Ok(spectrum) => {
                let rho = spectrum.ground_density();
                let mut s = 0.0;
                for &x in samples {
                    let p = spectrum.interpolate(&rho, x);
                    if p.is_nan() || p <= 0.0 {
                        return f64::NEG_INFINITY;
                    }
                    s += p.ln();
                }
                s
            }
            Err(_) => f64::NEG_INFINITY,
        }
    };
    // bracket the maximum: walk uphill with growing steps
    let h = 0.05 * if initial != 0.0 { initial.abs() } else { 1.0 };
    let (mut a, mut b) = (initial, initial + h);
    let (mut fa, mut fb) = (ell(a), ell(b));
    if !fa.is_finite() && !fb.is_finite() {
        return Err(QuantumError::FitFailed {
            reason: format!("the likelihood is zero at the starting value {initial}"),
        });
    }
    if fb < fa {
        std::mem::swap(&mut a, &mut b);
        std::mem::swap(&mut fa, &mut fb);
    }
    let mut c = b + 2.0 * (b - a);
    let mut fc = ell(c);
    let mut expansions = 0;
    while fc > fb {
        (a, fa, b, fb) = (b, fb, c, fc);
        c = b + 2.0 * (b - a);
        fc = ell(c);
        expansions += 1;
        if expansions > 60 {
            return Err(QuantumError::FitFailed {
                reason: format!("the likelihood keeps growing towards {c:.6e}"),
            });
        }
    }
    let _ = fa;
    // golden-section search on [a, c] ∋ b
    let (mut lo, mut hi) = if a < c { (a, c) } else { (c, a) };
    let g = 0.5 * (5f64.sqrt() - 1.0);
    let mut x1 = hi - g * (hi - lo);
    let mut x2 = lo + g * (hi - lo);
    let (mut f1, mut f2) = (ell(x1), ell(x2));
    for _ in 0..200 {
        if (hi - lo) <= 1e-10 * (lo.abs() + hi.abs()).max(1e-300) {
            break;
        }
        if f1 > f2 {
            hi = x2;
            (x2, f2) = (x1, f1);
            x1 = hi - g * (hi - lo);
            f1 = ell(x1);
        } else {
            lo = x1;
            (x1, f1) = (x2, f2);
            x2 = lo + g * (hi - lo);
            f2 = ell(x2);
        }
    }
    let (value, best) = if f1 > f2 { (x1, f1) } else { (x2, f2) };
    let _ = fb;
    // observed Fisher information: a central second difference, first with a small step, then
    // with a step of one standard error (where ℓ is quadratic to the accuracy that matters)
    let curvature = |step: f64, ell: &mut dyn FnMut(f64) -> f64| {
        (ell(value + step) - 2.0 * best + ell(value - step)) / (step * step)
    };
    let mut step = 1e-3 * value.abs().max(1e-8);
    let mut d2 = curvature(step, &mut ell);
    if d2 < 0.0 && d2.is_finite() {
        step = (1.0 / (-d2).sqrt()).min(0.5 * value.abs().max(1e-8));
        d2 = curvature(step, &mut ell);
    }
    if !(d2 < 0.0 && d2.is_finite()) {
        return Err(QuantumError::FitFailed {
            reason: format!(
                "the log-likelihood is not curved downwards at θ = {value:.6e} (ℓ'' = {d2:.3e})"
            ),
        });
    }
    Ok(GroundStateFit {
        value,
        standard_error: 1.0 / (-d2).sqrt(),
        log_likelihood: best,
        samples: samples.len(),
        evaluations,
    })
}
