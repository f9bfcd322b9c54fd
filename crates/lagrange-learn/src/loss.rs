//! The loss `ε(θ) = Σᵢ |q̈ᵢ − Q(L_θ; qᵢ, q̇ᵢ)|²` and its exact parameter Jacobian.
//!
//! `Q(L_θ; q, q̇)` are the accelerations the Euler–Lagrange equations of the model give at the
//! sample's state (at `t = 0`: the models are autonomous). The residuals are
//! `rᵢ = Q(L_θ; qᵢ, q̇ᵢ) − q̈ᵢ` (one per sample and coordinate) and `ε = Σ r²`.
//!
//! **Exact gradients by nesting duals.** The model's parameters are made dual numbers
//! `DualSVec<f64, 8>` (eight parameter directions at a time) and the model is handed to
//! [`lagrange::accelerations`] as a `LagrangianOver<DualSVec<f64, 8>>`: the engine differentiates
//! with respect to the state with its own (hyper-)duals built *on top of* those, so the q̈ it
//! returns carry `∂q̈/∂θ` for the eight seeded parameters, exactly. Models with more parameters
//! are processed in chunks of eight, so one monomorphization serves any parameter count. No
//! finite differences are involved (the tests check against them independently).
//!
//! **Singular samples.** Where the model's mass matrix `∂²L/∂q̇²` is singular the accelerations
//! are not defined; such samples are left out of the sum and *reported* (count and first indices
//! in [`LossValue`]); when every sample is singular the evaluation is an error.

use crate::data::{DataError, Dataset};
use crate::error::LearnError;
use crate::model::{Bound, Model};
use lagrange::num_dual::DualSVec;
use lagrange::{MechanicsError, accelerations};
use nalgebra::{Const, DMatrix};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Parameters differentiated per pass.
pub const CHUNK: usize = 8;
/// How many singular sample indices are kept for reporting.
pub const MAX_REPORTED_SINGULAR: usize = 10;

type Dp = DualSVec<f64, CHUNK>;
/// Residuals and Jacobian rows of one sample.
pub(crate) type Rows = (Vec<f64>, Vec<f64>);

/// The value of the loss and the bookkeeping of which samples counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossValue {
    /// `ε = Σ |r|²` over the samples where the model is regular.
    pub sum: f64,
    /// `ε / (number of residuals)`.
    pub mean: f64,
    /// Number of residuals (regular samples × coordinates).
    pub residuals: usize,
    /// Samples where the model's mass matrix is singular (left out of the sum).
    pub singular: usize,
    /// The first few (0-based) indices of singular samples.
    pub singular_first: Vec<usize>,
}

/// Loss, residuals, Jacobian and gradient at one parameter vector.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The loss.
    pub value: LossValue,
    /// Residuals `Q − q̈`, sample-major, regular samples only.
    pub residuals: Vec<f64>,
    /// `∂r/∂θ`, one row per residual.
    pub jacobian: DMatrix<f64>,
    /// `∂ε/∂θ = 2 Jᵀ r`.
    pub gradient: Vec<f64>,
}

pub(crate) fn check_coordinates<M: Model + ?Sized>(
    model: &M,
    data: &Dataset,
) -> Result<(), LearnError> {
    let coords = model.coordinates();
    if coords != data.coordinates {
        return Err(DataError::CoordinateMismatch {
            data: data.coordinates.join(", "),
            model: coords.join(", "),
        }
        .into());
    }
    Ok(())
}

fn classify(err: MechanicsError, sample: usize) -> Result<(), LearnError> {
    match err {
        MechanicsError::SingularMassMatrix { .. } => Ok(()),
        MechanicsError::NonFinite { .. } => Err(LearnError::NonFinite {
            sample,
            line: sample + 2,
        }),
        e => Err(e.into()),
    }
}

pub(crate) fn finish(
    data: &Dataset,
    per_sample: Vec<Option<f64>>,
) -> Result<LossValue, LearnError> {
    let mut sum = 0.0;
    let mut singular = Vec::new();
    for (i, s) in per_sample.iter().enumerate() {
        match s {
            Some(v) => sum += v,
            None => singular.push(i),
        }
    }
    finish_sparse(data, sum, &singular)
}

/// The [`LossValue`] from the sum over regular samples and the (0-based, increasing) indices
/// of the singular ones.
pub(crate) fn finish_sparse(
    data: &Dataset,
    sum: f64,
    singular: &[usize],
) -> Result<LossValue, LearnError> {
    if singular.len() == data.len() {
        return Err(LearnError::AllSingular {
            samples: data.len(),
        });
    }
    let residuals = (data.len() - singular.len()) * data.dof();
    Ok(LossValue {
        sum,
        mean: sum / residuals as f64,
        residuals,
        singular: singular.len(),
        singular_first: singular
            .iter()
            .take(MAX_REPORTED_SINGULAR)
            .copied()
            .collect(),
    })
}

/// The loss at `params` (plain `f64` evaluation, parallel over samples).
pub fn evaluate_loss<M: Model + Sync + ?Sized>(
    model: &M,
    data: &Dataset,
    params: &[f64],
) -> Result<LossValue, LearnError> {
    check_coordinates(model, data)?;
    let per_sample: Vec<Option<f64>> = (0..data.len())
        .into_par_iter()
        .map(|i| sample_loss(model, params, data, i))
        .collect::<Result<_, _>>()?;
    finish(data, per_sample)
}

/// `Σₖ (Q − q̈)ₖ²` of sample `i` by automatic differentiation; `None` where the mass matrix is
/// singular. (Also the reference for the samples the compiled engine leaves undecided.)
pub(crate) fn sample_loss<M: Model + ?Sized>(
    model: &M,
    params: &[f64],
    data: &Dataset,
    i: usize,
) -> Result<Option<f64>, LearnError> {
    let lag = Bound { model, params };
    match accelerations(&lag, 0.0, &data.q[i], &data.q_dot[i]) {
        Ok(a) => {
            let s: f64 = a
                .iter()
                .zip(&data.q_ddot[i])
                .map(|(x, y)| (x - y) * (x - y))
                .sum();
            if s.is_finite() {
                Ok(Some(s))
            } else {
                Err(LearnError::NonFinite {
                    sample: i,
                    line: i + 2,
                })
            }
        }
        Err(e) => classify(e, i).map(|_| None),
    }
}

/// Model accelerations at every sample (`None` where the mass matrix is singular).
pub fn predict<M: Model + Sync + ?Sized>(
    model: &M,
    data: &Dataset,
    params: &[f64],
) -> Result<Vec<Option<Vec<f64>>>, LearnError> {
    check_coordinates(model, data)?;
    let lag = Bound { model, params };
    (0..data.len())
        .into_par_iter()
        .map(
            |i| match accelerations(&lag, 0.0, &data.q[i], &data.q_dot[i]) {
                Ok(a) => Ok(Some(a)),
                Err(e) => classify(e, i).map(|_| None),
            },
        )
        .collect()
}

/// Residuals and Jacobian rows of one sample; `None` when the mass matrix is singular.
fn sample_rows<M: Model + ?Sized>(
    model: &M,
    theta: &[f64],
    q: &[f64],
    q_dot: &[f64],
    q_ddot: &[f64],
) -> Result<Option<Rows>, MechanicsError> {
    let n = q.len();
    let np = theta.len();
    let mut r = vec![0.0; n];
    let mut j = vec![0.0; n * np];
    let qs: Vec<Dp> = q.iter().map(|&x| Dp::from_re(x)).collect();
    let qds: Vec<Dp> = q_dot.iter().map(|&x| Dp::from_re(x)).collect();
    for c0 in (0..np.max(1)).step_by(CHUNK) {
        let params: Vec<Dp> = theta
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let d = Dp::from_re(x);
                if i >= c0 && i < c0 + CHUNK {
                    d.derivative(i - c0)
                } else {
                    d
                }
            })
            .collect();
        let acc = match accelerations(
            &Bound {
                model,
                params: &params,
            },
            Dp::from_re(0.0),
            &qs,
            &qds,
        ) {
            Ok(a) => a,
            Err(MechanicsError::SingularMassMatrix { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        for k in 0..n {
            if c0 == 0 {
                r[k] = acc[k].re - q_ddot[k];
            }
            let eps = acc[k].eps.unwrap_generic(Const::<CHUNK>, Const::<1>);
            for i in c0..(c0 + CHUNK).min(np) {
                j[k * np + i] = eps[i - c0];
            }
        }
    }
    if r.iter().chain(&j).any(|x| !x.is_finite()) {
        return Err(MechanicsError::NonFinite {
            t: 0.0,
            what: "model accelerations",
        });
    }
    Ok(Some((r, j)))
}

/// Residuals and Jacobian rows of sample `i` by nested dual numbers, with the errors
/// classified as in the loss; `None` where the mass matrix is singular.
pub(crate) fn sample_rows_classified<M: Model + ?Sized>(
    model: &M,
    params: &[f64],
    data: &Dataset,
    i: usize,
) -> Result<Option<Rows>, LearnError> {
    sample_rows(model, params, &data.q[i], &data.q_dot[i], &data.q_ddot[i])
        .or_else(|e| classify(e, i).map(|_| None))
}

/// Loss, residuals, exact Jacobian and gradient at `params` (parallel over samples).
pub fn evaluate<M: Model + Sync + ?Sized>(
    model: &M,
    data: &Dataset,
    params: &[f64],
) -> Result<Evaluation, LearnError> {
    check_coordinates(model, data)?;
    let rows: Vec<Option<Rows>> = (0..data.len())
        .into_par_iter()
        .map(|i| sample_rows_classified(model, params, data, i))
        .collect::<Result<_, _>>()?;
    assemble(data, rows, params.len())
}

/// The [`Evaluation`] from each sample's residuals and Jacobian rows (`None`: singular).
pub(crate) fn assemble(
    data: &Dataset,
    rows: Vec<Option<Rows>>,
    np: usize,
) -> Result<Evaluation, LearnError> {
    let n = data.dof();
    let per_sample = rows
        .iter()
        .map(|r| r.as_ref().map(|(r, _)| r.iter().map(|x| x * x).sum()))
        .collect();
    let value = finish(data, per_sample)?;
    let m = value.residuals;
    let mut residuals = Vec::with_capacity(m);
    let mut jac = DMatrix::zeros(m, np);
    let mut row = 0;
    for (r, j) in rows.into_iter().flatten() {
        for k in 0..n {
            residuals.push(r[k]);
            for p in 0..np {
                jac[(row, p)] = j[k * np + p];
            }
            row += 1;
        }
    }
    let gradient = (0..np)
        .map(|p| 2.0 * (0..m).map(|i| jac[(i, p)] * residuals[i]).sum::<f64>())
        .collect();
    Ok(Evaluation {
        value,
        residuals,
        jacobian: jac,
        gradient,
    })
}
