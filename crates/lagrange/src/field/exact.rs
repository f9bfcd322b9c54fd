//! Exact solutions used as oracles by the tests, the benchmarks and the findings report.
//!
//! They are derived by hand (references in each item), never from the engine.

use std::f64::consts::PI;

/// Angular frequency of a Fourier mode `cos(k x)` of the lattice Klein–Gordon field
/// `½φ_t² − ½φ_x² − ½m²φ²` with spacing `a`: `ω² = m² + (4/a²) sin²(ka/2)`.
///
/// Derivation: the lattice equation `φ̈_i = (φ_{i+1} − 2φ_i + φ_{i−1})/a² − m²φ_i` applied to
/// `φ_i = cos(k x_i)` gives `(2 cos ka − 2)/a² = −(4/a²) sin²(ka/2)` times `φ_i`. It tends to
/// the continuum `ω² = m² + k²` as `a → 0`.
///
/// ```
/// let w = lagrange::field::exact::klein_gordon_omega(1.0, 2.0, 1e-4);
/// assert!((w - 5.0_f64.sqrt()).abs() < 1e-7);
/// ```
pub fn klein_gordon_omega(m: f64, k: f64, a: f64) -> f64 {
    (m * m + 4.0 / (a * a) * (k * a / 2.0).sin().powi(2)).sqrt()
}

/// The sine-Gordon kink `φ = 4 atan(exp(γ (x − x0 − v t)))`, `γ = 1/√(1 − v²)`, an exact
/// travelling solution of the continuum equation `φ_tt = φ_xx − sin φ` (Rajaraman, *Solitons
/// and Instantons*, 1982, §2.3). Returns `(φ, φ_t)`.
pub fn sine_gordon_kink(x: f64, t: f64, x0: f64, v: f64) -> (f64, f64) {
    let gamma = 1.0 / (1.0 - v * v).sqrt();
    let s = gamma * (x - x0 - v * t);
    // φ_t = −v γ · 4 e^s/(1 + e^{2s}) = −2 v γ / cosh s
    (4.0 * s.exp().atan(), -2.0 * v * gamma / s.cosh())
}

/// The Bessel function `J₀(z) = (1/π) ∫₀^π cos(z sin τ) dτ` (Abramowitz & Stegun 9.1.18),
/// by the trapezoidal rule, which converges geometrically for this periodic analytic
/// integrand: 128 points give machine precision for `|z| ≤ 60`.
///
/// ```
/// let j0 = lagrange::field::exact::bessel_j0;
/// assert!((j0(0.0) - 1.0).abs() < 1e-15);
/// assert!(j0(2.404825557695773).abs() < 1e-14); // its first zero
/// ```
pub fn bessel_j0(z: f64) -> f64 {
    const N: usize = 128;
    let h = PI / N as f64;
    // the integrand is even and 2π-periodic in τ: the midpoint sum over [0, π] is spectral
    (0..N)
        .map(|i| (z * ((i as f64 + 0.5) * h).sin()).cos())
        .sum::<f64>()
        / N as f64
}

/// The radial standing wave `J₀(k r) cos(c k t)` of the 2-D wave equation `φ_tt = c²∇²φ` (the
/// Bessel equation is the radial Laplacian's eigen-equation). Returns `(φ, φ_t)`.
pub fn radial_standing_wave(r: f64, t: f64, k: f64, c: f64) -> (f64, f64) {
    let j = bessel_j0(k * r);
    (j * (c * k * t).cos(), -c * k * j * (c * k * t).sin())
}
