//! The input map of a neural model: normalization and angle features.
//!
//! Position `qᵢ` becomes `(sin qᵢ, cos qᵢ)` when it is an angle (so the model is 2π-periodic in
//! it by construction), else `(qᵢ − μᵢ)/σᵢ`; velocity `q̇ᵢ` becomes `(q̇ᵢ − μ̇ᵢ)/σ̇ᵢ`. The means
//! and scales come from the training data and are saved with the model.

use lagrange::Scalar;
use serde::{Deserialize, Serialize};

/// Input normalization and angle features, per coordinate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputScaling {
    /// Coordinates fed as `(sin q, cos q)`.
    pub angles: Vec<bool>,
    /// Mean of each position (unused for angles).
    pub q_mean: Vec<f64>,
    /// Scale of each position (unused for angles).
    pub q_scale: Vec<f64>,
    /// Mean of each velocity.
    pub q_dot_mean: Vec<f64>,
    /// Scale of each velocity.
    pub q_dot_scale: Vec<f64>,
}

impl InputScaling {
    /// No normalization (`μ = 0`, `σ = 1`), no angles.
    pub fn identity(n: usize) -> Self {
        Self {
            angles: vec![false; n],
            q_mean: vec![0.0; n],
            q_scale: vec![1.0; n],
            q_dot_mean: vec![0.0; n],
            q_dot_scale: vec![1.0; n],
        }
    }

    /// Means and standard deviations of the samples (a scale of 1 where a column is constant).
    pub fn from_samples(q: &[Vec<f64>], q_dot: &[Vec<f64>], angles: Vec<bool>) -> Self {
        fn moments(rows: &[Vec<f64>], n: usize) -> (Vec<f64>, Vec<f64>) {
            let count = rows.len().max(1) as f64;
            let mean: Vec<f64> = (0..n)
                .map(|i| rows.iter().map(|r| r[i]).sum::<f64>() / count)
                .collect();
            let scale = (0..n)
                .map(|i| {
                    let var = rows.iter().map(|r| (r[i] - mean[i]).powi(2)).sum::<f64>() / count;
                    let s = var.sqrt();
                    if s.is_finite() && s > 1e-12 { s } else { 1.0 }
                })
                .collect();
            (mean, scale)
        }
        let n = angles.len();
        let (q_mean, q_scale) = moments(q, n);
        let (q_dot_mean, q_dot_scale) = moments(q_dot, n);
        Self {
            angles,
            q_mean,
            q_scale,
            q_dot_mean,
            q_dot_scale,
        }
    }

    /// Number of coordinates.
    pub fn dof(&self) -> usize {
        self.angles.len()
    }

    /// Number of position features.
    pub fn position_features(&self) -> usize {
        self.angles.iter().map(|&a| if a { 2 } else { 1 }).sum()
    }

    /// Position features (and velocity features when `with_velocity`) over any scalar.
    pub fn features<D: Scalar>(&self, q: &[D], q_dot: &[D], with_velocity: bool) -> Vec<D> {
        let mut x = Vec::with_capacity(self.position_features() + q_dot.len());
        for (i, &qi) in q.iter().enumerate() {
            if self.angles[i] {
                x.push(qi.sin());
                x.push(qi.cos());
            } else {
                x.push((qi - self.q_mean[i]) / self.q_scale[i]);
            }
        }
        if with_velocity {
            for (i, &v) in q_dot.iter().enumerate() {
                x.push((v - self.q_dot_mean[i]) / self.q_dot_scale[i]);
            }
        }
        x
    }

    /// `∂(position features)/∂qⱼ`: the feature rows it touches and their values (one row for a
    /// plain coordinate, two for an angle).
    pub fn position_tangent(&self, j: usize, qj: f64) -> [(usize, f64); 2] {
        let row: usize = self.angles[..j]
            .iter()
            .map(|&a| if a { 2 } else { 1 })
            .sum();
        if self.angles[j] {
            [(row, qj.cos()), (row + 1, -qj.sin())]
        } else {
            [(row, 1.0 / self.q_scale[j]), (row, 0.0)]
        }
    }
}
