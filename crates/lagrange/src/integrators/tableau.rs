//! Butcher tableaux: explicit Runge–Kutta methods as data.
//!
//! A method with `s` stages advances `y' = f(t, y)` by
//!
//! ```text
//! k_i = f(t + c_i h, y + h Σ_{j<i} a_ij k_j),   y_1 = y + h Σ_i b_i k_i,
//! ```
//!
//! and, when embedded weights `b̂` are given, estimates the local error by
//! `h Σ_i (b_i − b̂_i) k_i`. The tableaux themselves live next to their methods
//! ([`EULER`](super::euler::EULER), [`RK4`](super::rk4::RK4),
//! [`DOPRI5`](super::dopri5::DOPRI5)); [`explicit_rk`](super::explicit_rk) runs any of them.

/// An explicit Runge–Kutta method.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ButcherTableau {
    /// Short name, for messages.
    pub name: &'static str,
    /// Order of the solution weights `b`.
    pub order: u32,
    /// Nodes `c_i`, one per stage.
    pub c: &'static [f64],
    /// Strictly lower-triangular coefficients: row `i` holds `a_i0 … a_i(i−1)` (row 0 is empty).
    pub a: &'static [&'static [f64]],
    /// Solution weights `b_i`.
    pub b: &'static [f64],
    /// Embedded weights `b̂_i` of a lower-order solution, for error estimation.
    pub b_hat: Option<&'static [f64]>,
    /// First same as last: the last stage is evaluated at the new solution (`a_{s−1} = b`,
    /// `c_{s−1} = 1`), so it can serve as the first stage of the next step.
    pub fsal: bool,
}

impl ButcherTableau {
    /// Number of stages `s`.
    pub fn stages(&self) -> usize {
        self.c.len()
    }

    /// Checks the shapes and the row-sum condition `c_i = Σ_j a_ij`; returns what is wrong.
    pub fn check(&self) -> Result<(), String> {
        let s = self.stages();
        if self.a.len() != s || self.b.len() != s || self.b_hat.is_some_and(|b| b.len() != s) {
            return Err(format!("{}: inconsistent number of stages", self.name));
        }
        for (i, row) in self.a.iter().enumerate() {
            if row.len() != i {
                return Err(format!("{}: row {i} of a must have {i} entries", self.name));
            }
            let sum: f64 = row.iter().sum();
            if (sum - self.c[i]).abs() > 1e-14 {
                return Err(format!(
                    "{}: c[{i}] differs from the row sum of a",
                    self.name
                ));
            }
        }
        if self.fsal && (self.c[s - 1] != 1.0 || self.a[s - 1] != &self.b[..s - 1]) {
            return Err(format!(
                "{}: marked FSAL but the last row of a is not b",
                self.name
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! The classical order conditions (one per rooted tree, `Σ b Φ(τ) = 1/γ(τ)`), checked on the
    //! tableau data: an oracle independent of the stepper.
    use super::super::{dopri5::DOPRI5, euler::EULER, rk4::RK4};
    use super::ButcherTableau;

    fn a(t: &ButcherTableau, i: usize, j: usize) -> f64 {
        if j < i { t.a[i][j] } else { 0.0 }
    }

    /// Residuals of the order conditions for trees of order `1..=p` with weights `b`.
    fn conditions(t: &ButcherTableau, b: &[f64], p: u32) -> Vec<f64> {
        let s = t.stages();
        let c = t.c;
        let sum = |f: &dyn Fn(usize) -> f64| (0..s).map(f).sum::<f64>();
        let ac = |i: usize| sum(&|j| a(t, i, j) * c[j]);
        let ac2 = |i: usize| sum(&|j| a(t, i, j) * c[j] * c[j]);
        let aac = |i: usize| sum(&|j| a(t, i, j) * ac(j));
        let mut r = vec![sum(&|i| b[i]) - 1.0];
        if p >= 2 {
            r.push(sum(&|i| b[i] * c[i]) - 1.0 / 2.0);
        }
        if p >= 3 {
            r.push(sum(&|i| b[i] * c[i] * c[i]) - 1.0 / 3.0);
            r.push(sum(&|i| b[i] * ac(i)) - 1.0 / 6.0);
        }
        if p >= 4 {
            r.push(sum(&|i| b[i] * c[i].powi(3)) - 1.0 / 4.0);
            r.push(sum(&|i| b[i] * c[i] * ac(i)) - 1.0 / 8.0);
            r.push(sum(&|i| b[i] * ac2(i)) - 1.0 / 12.0);
            r.push(sum(&|i| b[i] * aac(i)) - 1.0 / 24.0);
        }
        if p >= 5 {
            let ac3 = |i: usize| sum(&|j| a(t, i, j) * c[j].powi(3));
            let acac = |i: usize| sum(&|j| a(t, i, j) * c[j] * ac(j));
            let aac2 = |i: usize| sum(&|j| a(t, i, j) * ac2(j));
            let aaac = |i: usize| sum(&|j| a(t, i, j) * aac(j));
            r.push(sum(&|i| b[i] * c[i].powi(4)) - 1.0 / 5.0);
            r.push(sum(&|i| b[i] * c[i] * c[i] * ac(i)) - 1.0 / 10.0);
            r.push(sum(&|i| b[i] * c[i] * ac2(i)) - 1.0 / 15.0);
            r.push(sum(&|i| b[i] * c[i] * aac(i)) - 1.0 / 30.0);
            r.push(sum(&|i| b[i] * ac(i) * ac(i)) - 1.0 / 20.0);
            r.push(sum(&|i| b[i] * ac3(i)) - 1.0 / 20.0);
            r.push(sum(&|i| b[i] * acac(i)) - 1.0 / 40.0);
            r.push(sum(&|i| b[i] * aac2(i)) - 1.0 / 60.0);
            r.push(sum(&|i| b[i] * aaac(i)) - 1.0 / 120.0);
        }
        r
    }

    fn max_abs(v: &[f64]) -> f64 {
        v.iter().fold(0.0, |m, x| m.max(x.abs()))
    }

    #[test]
    fn tableaux_are_consistent() {
        for t in [EULER, RK4, DOPRI5] {
            t.check().unwrap();
        }
    }

    #[test]
    fn order_conditions_hold_and_the_next_order_fails() {
        // Rational coefficients in binary: residuals are roundoff, far below 1e-14.
        for t in [EULER, RK4, DOPRI5] {
            assert!(max_abs(&conditions(&t, t.b, t.order)) < 1e-14, "{}", t.name);
            if t.order < 5 {
                assert!(
                    max_abs(&conditions(&t, t.b, t.order + 1)) > 1e-3,
                    "{}",
                    t.name
                );
            }
        }
        // Dormand–Prince's embedded solution is of order 4, not 5.
        let b_hat = DOPRI5.b_hat.unwrap();
        assert!(max_abs(&conditions(&DOPRI5, b_hat, 4)) < 1e-14);
        assert!(max_abs(&conditions(&DOPRI5, b_hat, 5)) > 1e-5);
    }
}
