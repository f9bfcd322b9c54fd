//! The classic fourth-order Runge–Kutta method: order 4, four evaluations of q̈ per step.
//!
//! Fixed step on `y = (q, q̇)`. Global error O(h⁴); not symplectic, so over very long runs the
//! energy drifts slowly (for conservative systems prefer the
//! [variational integrator](super::variational) when the run is long compared to the accuracy
//! wanted). Run by the generic stepper of [`explicit_rk`](super::explicit_rk).

use super::tableau::ButcherTableau;

/// Kutta's classic tableau (nodes 0, ½, ½, 1; weights 1/6, 1/3, 1/3, 1/6).
pub const RK4: ButcherTableau = ButcherTableau {
    name: "rk4",
    order: 4,
    c: &[0.0, 0.5, 0.5, 1.0],
    a: &[&[], &[0.5], &[0.0, 0.5], &[0.0, 0.0, 1.0]],
    b: &[1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0],
    b_hat: None,
    fsal: false,
};
