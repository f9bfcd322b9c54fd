//! Explicit (forward) Euler: order 1, one evaluation of q̈ per step.
//!
//! On the first-order system `y = (q, q̇)`, `y' = (q̇, q̈(t, q, q̇))`:
//! `y_{k+1} = y_k + h·y'(t_k, y_k)`. The global error is O(h); the method is not symplectic,
//! and for oscillatory systems the energy grows steadily (for the harmonic oscillator by the
//! factor `1 + (ωh)²` per step). Useful as a baseline and in tests; run by the generic stepper
//! of [`explicit_rk`](super::explicit_rk).

use super::tableau::ButcherTableau;

/// Explicit Euler as a one-stage Butcher tableau.
pub const EULER: ButcherTableau = ButcherTableau {
    name: "euler",
    order: 1,
    c: &[0.0],
    a: &[&[]],
    b: &[1.0],
    b_hat: None,
    fsal: false,
};
