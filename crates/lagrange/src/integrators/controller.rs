//! Step-size control for embedded Runge–Kutta pairs: the error norm and a PI controller.
//!
//! The error of a step is measured in the weighted RMS norm of Hairer–Nørsett–Wanner,
//!
//! ```text
//! err = sqrt( (1/N) Σ_i ( e_i / (atol + rtol·max(|y_i|, |y_new,i|)) )² ),
//! ```
//!
//! and a step is accepted when `err ≤ 1`. The next step is `h·fac` with the PI
//! (Gustafsson) factor `fac = safety · err^(−α) · err_prev^(β)`, `α = 1/5 − 0.75 β`,
//! `β = 0.04` (the defaults of Hairer's DOPRI5), limited to `[1/5, 10]`, and not allowed to grow
//! right after a rejection.

/// Weighted RMS norm of the local error estimate `err` for the step `y → y_new`.
pub fn error_norm(err: &[f64], y: &[f64], y_new: &[f64], rtol: f64, atol: f64) -> f64 {
    let sum: f64 = err
        .iter()
        .zip(y.iter().zip(y_new))
        .map(|(e, (a, b))| {
            let scale = atol + rtol * a.abs().max(b.abs());
            (e / scale).powi(2)
        })
        .sum();
    (sum / err.len().max(1) as f64).sqrt()
}

/// A PI step-size controller (state: the previous accepted error).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PiController {
    /// Safety factor on the optimal step (0.9).
    pub safety: f64,
    /// Exponent of the current error (`1/5 − 0.75 β`).
    pub alpha: f64,
    /// Exponent of the previous error (0.04).
    pub beta: f64,
    /// Smallest step-change factor (0.2).
    pub min_factor: f64,
    /// Largest step-change factor (10).
    pub max_factor: f64,
    err_prev: f64,
    rejected: bool,
}

impl Default for PiController {
    fn default() -> Self {
        Self::for_order(5)
    }
}

impl PiController {
    /// Hairer's defaults for a pair whose lower order is `order − 1` (`α = 1/order − 0.75β`).
    pub fn for_order(order: u32) -> Self {
        let beta = 0.04;
        PiController {
            safety: 0.9,
            alpha: 1.0 / order as f64 - 0.75 * beta,
            beta,
            min_factor: 0.2,
            max_factor: 10.0,
            err_prev: 1e-4,
            rejected: false,
        }
    }

    /// Whether a step with error norm `err` is accepted.
    pub fn accepts(&self, err: f64) -> bool {
        err <= 1.0
    }

    /// The next step after accepting a step of size `h` with error norm `err ≤ 1`.
    pub fn after_accept(&mut self, h: f64, err: f64) -> f64 {
        let fac = self.safety * err.max(1e-300).powf(-self.alpha) * self.err_prev.powf(self.beta);
        let max = if self.rejected { 1.0 } else { self.max_factor };
        self.err_prev = err.max(1e-4);
        self.rejected = false;
        h * fac.clamp(self.min_factor, max)
    }

    /// The retry step after rejecting a step of size `h` with error norm `err > 1`
    /// (`err` may be infinite or NaN: the step then shrinks by the minimal factor).
    pub fn after_reject(&mut self, h: f64, err: f64) -> f64 {
        self.rejected = true;
        if !err.is_finite() {
            return h * self.min_factor;
        }
        let fac = self.safety * err.powf(-self.alpha);
        h * fac.clamp(self.min_factor, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norm_and_factors() {
        // one component, error equal to its tolerance ⇒ norm 1
        assert!((error_norm(&[1.1e-6], &[1.0], &[0.0], 1e-6, 1e-7) - 1.0).abs() < 1e-12);
        let mut c = PiController::default();
        // tiny error ⇒ growth capped at 10×; after a rejection no growth at all
        assert_eq!(c.after_accept(1.0, 1e-20), 10.0);
        assert!(c.after_reject(1.0, 1e3) < 1.0);
        assert!(c.after_accept(1.0, 1e-20) <= 1.0);
        assert_eq!(c.after_reject(1.0, f64::NAN), 0.2);
    }
}
