//! Learning from measured positions only: a trajectory `t, q(t)`, without velocities or
//! accelerations, as an experiment records it.
//!
//! Two ways, compared in the findings report:
//!
//! - **Smoothing differentiation** ([`differentiate`]): at each sample a polynomial of degree
//!   [`DEGREE`] is fitted by least squares to the `2h + 1` nearest samples (a Savitzky–Golay
//!   filter that also accepts uneven time steps); its derivatives at the sample are q̇ and q̈.
//!   The half-width `h` is chosen from the data by leave-one-out cross-validation of the
//!   smoothed positions (the residual at the centre divided by `1 − H_ii`, the hat matrix's
//!   diagonal, summed over samples and coordinates), among a geometric ladder of widths. The
//!   estimated `(q, q̇, q̈)` then go to the usual fit ([`crate::learn`]). Cross-validation of
//!   the positions tends to pick a narrower window than the accelerations would want: q̈ stays
//!   noisier than q, and the noise biases the fit the way `noise-sweep` measures.
//! - **Shooting** ([`learn_by_shooting`]): the model is integrated (classic RK4 with a few
//!   substeps between samples) over consecutive segments of the trajectory, each from its own
//!   unknown initial state, and the parameters and those states are fitted together to the
//!   measured positions, with the exact Jacobian from dual numbers carried through the
//!   integrator (one direction per unknown). Segments keep the fit well-posed where one long
//!   shot would be chaotic or caught in local minima. Reported uncertainties and flat
//!   directions are those of the parameters with the initial states profiled out (the Schur
//!   complement, not the conditional ones).

use crate::data::{DataError, Dataset};
use crate::engine::{Engine, EngineReport, LossEngine};
use crate::error::LearnError;
use crate::loss::{Evaluation, LossValue};
use crate::model::{Bound, Model};
use crate::optim::{HistoryEntry, Outcome, Progress, optimize_with};
use crate::result::{LearnOptions, LearnResult, build_result};
use lagrange::num_dual::Dual64;
use lagrange::{MechanicsError, Scalar, accelerations};
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Degree of the local polynomials of [`differentiate`].
pub const DEGREE: usize = 4;
/// Half-widths tried by the cross-validation (a geometric ladder; capped at a quarter of the
/// samples).
const HALF_WIDTHS: [usize; 16] = [3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 32, 40, 50, 63, 80, 100];
/// Fewest samples a trajectory may have.
pub const MIN_SAMPLES: usize = 2 * 3 + 1;

/// A measured trajectory: times and positions.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionTrajectory {
    /// Coordinate names, in column order.
    pub coordinates: Vec<String>,
    /// Times, strictly increasing.
    pub t: Vec<f64>,
    /// Positions, one row per time.
    pub q: Vec<Vec<f64>>,
}

impl PositionTrajectory {
    /// Parses CSV with a header `t,<q>...`. Columns named `<q>_dot` or `<q>_ddot` and a column
    /// `energy` (a `lagrange simulate` file) are ignored: only the positions are used.
    pub fn from_csv_str(text: &str) -> Result<Self, DataError> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let (_, header) = lines.next().ok_or(DataError::Empty)?;
        let names: Vec<String> = header
            .trim_start_matches('\u{feff}')
            .split(',')
            .map(|s| s.trim().to_string())
            .collect();
        for (j, name) in names.iter().enumerate() {
            if name.is_empty() {
                return Err(DataError::EmptyColumnName { column: j + 1 });
            }
            if names[..j].contains(name) {
                return Err(DataError::DuplicateColumn {
                    column: j + 1,
                    name: name.clone(),
                });
            }
        }
        let time = names
            .iter()
            .position(|n| n == "t")
            .ok_or(DataError::MissingColumn {
                name: "t (a trajectory has columns t,<q>...)".into(),
            })?;
        let ignored = |n: &str| n == "t" || n == "energy" || n.ends_with("_dot");
        let columns: Vec<usize> = (0..names.len()).filter(|&j| !ignored(&names[j])).collect();
        if columns.is_empty() {
            return Err(DataError::MissingColumn {
                name: "a coordinate (e.g. x) besides t".into(),
            });
        }
        let mut trajectory = PositionTrajectory {
            coordinates: columns.iter().map(|&j| names[j].clone()).collect(),
            t: Vec::new(),
            q: Vec::new(),
        };
        for (index, line) in lines {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if fields.len() != names.len() {
                return Err(DataError::RaggedRow {
                    line: index + 1,
                    expected: names.len(),
                    found: fields.len(),
                });
            }
            let value = |j: usize| -> Result<f64, DataError> {
                let text = fields[j];
                let x: f64 = text.parse().map_err(|_| DataError::NotANumber {
                    line: index + 1,
                    column: names[j].clone(),
                    value: text.to_string(),
                })?;
                if x.is_finite() {
                    Ok(x)
                } else {
                    Err(DataError::NonFinite {
                        line: index + 1,
                        column: names[j].clone(),
                        value: text.to_string(),
                    })
                }
            };
            let t = value(time)?;
            if let Some(&last) = trajectory.t.last()
                && t <= last
            {
                return Err(DataError::Inconsistent(format!(
                    "line {}: t = {t} does not increase (the previous row has t = {last})",
                    index + 1
                )));
            }
            trajectory.t.push(t);
            trajectory.q.push(
                columns
                    .iter()
                    .map(|&j| value(j))
                    .collect::<Result<_, _>>()?,
            );
        }
        if trajectory.t.len() < MIN_SAMPLES {
            return Err(DataError::TooFewRows {
                rows: trajectory.t.len(),
                needed: MIN_SAMPLES,
                why: " for a trajectory".into(),
            });
        }
        Ok(trajectory)
    }

    /// Reads a trajectory CSV file.
    pub fn read_csv(path: impl AsRef<Path>) -> Result<Self, DataError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| DataError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_csv_str(&text)
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.t.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
    }

    /// The trajectory with its columns in `order` (the model's coordinates).
    fn reordered(&self, order: &[String]) -> Result<Self, DataError> {
        let mismatch = || DataError::CoordinateMismatch {
            data: self.coordinates.join(", "),
            model: order.join(", "),
        };
        if order.len() != self.coordinates.len() {
            return Err(mismatch());
        }
        let index: Vec<usize> = order
            .iter()
            .map(|c| {
                self.coordinates
                    .iter()
                    .position(|d| d == c)
                    .ok_or_else(mismatch)
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            coordinates: order.to_vec(),
            t: self.t.clone(),
            q: self
                .q
                .iter()
                .map(|row| index.iter().map(|&i| row[i]).collect())
                .collect(),
        })
    }
}

/// How the positions were turned into samples, or fitted: reported in the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrajectoryFit {
    /// `smoothing` or `shooting`.
    pub method: String,
    /// Samples in the trajectory.
    pub samples: usize,
    /// Degree of the local polynomials.
    pub degree: usize,
    /// Half-width h of the smoothing window (2h + 1 samples).
    pub half_window: usize,
    /// Whether h was chosen by cross-validation (else given).
    pub window_from_data: bool,
    /// Segments of the shooting fit (shooting only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<usize>,
    /// RK4 steps between consecutive samples (shooting only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substeps: Option<usize>,
    /// Root-mean-square distance between the measured positions and the model's (shooting) or
    /// the smoothed ones (smoothing).
    pub position_rms: f64,
}

/// The local fit of degree [`DEGREE`] around sample `i` over `2h + 1` samples (shifted inwards
/// at the ends): `(coefficients per coordinate in powers of (t − tᵢ)/s, s, hat value Hᵢᵢ)`.
fn local_fit(traj: &PositionTrajectory, i: usize, h: usize) -> Option<(Vec<Vec<f64>>, f64, f64)> {
    let count = traj.len();
    let width = (2 * h + 1).min(count);
    let start = i.saturating_sub(h).min(count - width);
    let window = start..start + width;
    let s = (traj.t[window.end - 1] - traj.t[start]).max(f64::MIN_POSITIVE) / 2.0;
    let d = DEGREE + 1;
    let x = DMatrix::from_fn(width, d, |r, k| {
        ((traj.t[start + r] - traj.t[i]) / s).powi(k as i32)
    });
    let normal = x.transpose() * &x;
    let inverse = normal.try_inverse()?;
    // the hat value at the centre, where (t − tᵢ)/s = 0: the fit's row there is (1, 0, …, 0)
    let hat = inverse[(0, 0)];
    let projector = &inverse * x.transpose();
    let coefficients = (0..traj.coordinates.len())
        .map(|c| {
            let y = DVector::from_fn(width, |r, _| traj.q[start + r][c]);
            (&projector * y).iter().copied().collect()
        })
        .collect();
    Some((coefficients, s, hat))
}

/// The leave-one-out score of half-width `h`: `Σ ((qᵢ − q̂ᵢ) / (1 − Hᵢᵢ))²`.
fn cross_validation(traj: &PositionTrajectory, h: usize) -> f64 {
    (0..traj.len())
        .into_par_iter()
        .map(|i| match local_fit(traj, i, h) {
            Some((c, _, hat)) if hat < 1.0 - 1e-9 => (0..traj.coordinates.len())
                .map(|k| ((traj.q[i][k] - c[k][0]) / (1.0 - hat)).powi(2))
                .sum(),
            _ => f64::INFINITY,
        })
        .sum()
}

/// The samples `(q, q̇, q̈)` of a measured trajectory by smoothing differentiation (see the
/// [module docs](self)): with `half_window = None` the width is chosen by cross-validation.
///
/// # Errors
/// [`LearnError::InvalidOption`] for a window wider than the trajectory, or one whose local
/// fits are singular (repeated times).
pub fn differentiate(
    traj: &PositionTrajectory,
    half_window: Option<usize>,
) -> Result<(Dataset, TrajectoryFit), LearnError> {
    let count = traj.len();
    let h = match half_window {
        Some(h) => {
            if h < DEGREE.div_ceil(2) || 2 * h + 1 > count {
                return Err(LearnError::InvalidOption {
                    option: "smoothing half-window",
                    value: h.to_string(),
                    reason: "it must be at least 2 (a degree-4 fit needs 5 samples) and 2h + 1 at most the number of samples",
                });
            }
            h
        }
        None => HALF_WIDTHS
            .iter()
            .copied()
            .filter(|&h| 2 * h < count / 2 || h == HALF_WIDTHS[0])
            .filter(|&h| 2 * h < count)
            .map(|h| (h, cross_validation(traj, h)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(h, _)| h)
            .ok_or(LearnError::InvalidOption {
                option: "trajectory",
                value: count.to_string(),
                reason: "too few samples for the smallest smoothing window",
            })?,
    };
    let n = traj.coordinates.len();
    let mut data = Dataset::new(traj.coordinates.clone());
    let mut squares = 0.0;
    for i in 0..count {
        let (c, s, _) = local_fit(traj, i, h).ok_or(LearnError::InvalidOption {
            option: "trajectory",
            value: format!("t = {}", traj.t[i]),
            reason: "the local polynomial fit is singular there (times too close together)",
        })?;
        let q: Vec<f64> = (0..n).map(|k| c[k][0]).collect();
        squares += (0..n).map(|k| (q[k] - traj.q[i][k]).powi(2)).sum::<f64>();
        data.push(
            q,
            (0..n).map(|k| c[k][1] / s).collect(),
            (0..n).map(|k| 2.0 * c[k][2] / (s * s)).collect(),
        );
    }
    let fit = TrajectoryFit {
        method: "smoothing".into(),
        samples: count,
        degree: DEGREE,
        half_window: h,
        window_from_data: half_window.is_none(),
        segments: None,
        substeps: None,
        position_rms: (squares / (count * n) as f64).sqrt(),
    };
    Ok((data, fit))
}

/// Options of [`learn_by_shooting`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShootingOptions {
    /// Samples per segment of the first fit (each segment is integrated from its own initial
    /// state).
    pub segment: usize,
    /// The longest segments tried (`None`: the whole trajectory).
    pub max_segment: Option<usize>,
    /// RK4 steps between consecutive samples.
    pub substeps: usize,
    /// Half-width of the smoothing that gives the segments' first guesses (None: chosen by
    /// cross-validation).
    pub half_window: Option<usize>,
}

impl Default for ShootingOptions {
    fn default() -> Self {
        Self {
            segment: 20,
            max_segment: None,
            substeps: 4,
            half_window: None,
        }
    }
}

/// Segments grow by this factor from one fit to the next.
const GROWTH: usize = 4;
/// A longer segmentation is kept only while its position RMS stays within this factor of the
/// shorter one's (plus 1e-8 of the positions' RMS) (beyond, the model no longer follows the data over a whole segment: chaos, a
/// wrong model, or a local minimum).
const RMS_GROWTH: f64 = 1.5;

/// The positions of one segment integrated from `(q0, v0)` with the model at `params`:
/// classic RK4, `substeps` steps between consecutive sample times.
fn integrate<S: Scalar, M: Model + ?Sized>(
    model: &M,
    params: &[S],
    times: &[f64],
    q0: Vec<S>,
    v0: Vec<S>,
    substeps: usize,
) -> Result<Vec<Vec<S>>, MechanicsError> {
    let bound = Bound { model, params };
    let n = q0.len();
    let (mut q, mut v) = (q0, v0);
    let mut out = Vec::with_capacity(times.len());
    out.push(q.clone());
    let shift = |x: &[S], k: &[S], c: f64| -> Vec<S> {
        x.iter().zip(k).map(|(&a, &b)| a + b * c).collect()
    };
    for w in times.windows(2) {
        let h = (w[1] - w[0]) / substeps as f64;
        for step in 0..substeps {
            let t = S::from(w[0] + step as f64 * h);
            let half = S::from(h / 2.0);
            let a1 = accelerations(&bound, t, &q, &v)?;
            let (q2, v2) = (shift(&q, &v, h / 2.0), shift(&v, &a1, h / 2.0));
            let a2 = accelerations(&bound, t + half, &q2, &v2)?;
            let (q3, v3) = (shift(&q, &v2, h / 2.0), shift(&v, &a2, h / 2.0));
            let a3 = accelerations(&bound, t + half, &q3, &v3)?;
            let (q4, v4) = (shift(&q, &v3, h), shift(&v, &a3, h));
            let a4 = accelerations(&bound, t + S::from(h), &q4, &v4)?;
            for i in 0..n {
                q[i] += (v[i] + (v2[i] + v3[i]) * 2.0 + v4[i]) * (h / 6.0);
                v[i] += (a1[i] + (a2[i] + a3[i]) * 2.0 + a4[i]) * (h / 6.0);
            }
        }
        if q.iter().chain(&v).any(|x| !x.re().is_finite()) {
            return Err(MechanicsError::NonFinite {
                t: w[1],
                what: "the model's trajectory (it blew up)",
            });
        }
        out.push(q.clone());
    }
    Ok(out)
}

/// The shooting residuals as a [`LossEngine`] over `x = (θ, (q0, q̇0) per segment)`.
struct Shooting<'a, M: ?Sized> {
    model: &'a M,
    traj: PositionTrajectory,
    /// Sample ranges of the segments.
    segments: Vec<std::ops::Range<usize>>,
    substeps: usize,
    report: EngineReport,
}

impl<M: Model + Sync + ?Sized> Shooting<'_, M> {
    fn parameters(&self) -> usize {
        self.model.parameter_names().len()
    }

    /// Residuals of segment `k` (model − measured, sample-major) at `x`, with the derivative
    /// along direction `seed` (an index into x) when given.
    fn segment(
        &self,
        k: usize,
        x: &[f64],
        seed: Option<usize>,
    ) -> Result<Vec<(f64, f64)>, MechanicsError> {
        let (p, n) = (self.parameters(), self.traj.coordinates.len());
        let dual =
            |j: usize, value: f64| Dual64::new(value, if seed == Some(j) { 1.0 } else { 0.0 });
        let params: Vec<Dual64> = (0..p).map(|j| dual(j, x[j])).collect();
        let base = p + 2 * n * k;
        let q0: Vec<Dual64> = (0..n).map(|i| dual(base + i, x[base + i])).collect();
        let v0: Vec<Dual64> = (0..n)
            .map(|i| dual(base + n + i, x[base + n + i]))
            .collect();
        let range = self.segments[k].clone();
        let positions = integrate(
            self.model,
            &params,
            &self.traj.t[range.clone()],
            q0,
            v0,
            self.substeps,
        )?;
        Ok(positions
            .iter()
            .zip(range)
            .flat_map(|(q, s)| {
                q.iter()
                    .zip(&self.traj.q[s])
                    .map(|(m, d)| (m.re - d, m.eps))
                    .collect::<Vec<_>>()
            })
            .collect())
    }

    fn value(residuals: &[f64]) -> LossValue {
        let sum: f64 = residuals.iter().map(|r| r * r).sum();
        LossValue {
            sum,
            mean: sum / residuals.len().max(1) as f64,
            residuals: residuals.len(),
            singular: 0,
            singular_first: Vec::new(),
        }
    }

    /// Rows of each segment in the residual vector.
    fn row_ranges(&self) -> Vec<std::ops::Range<usize>> {
        let n = self.traj.coordinates.len();
        let mut start = 0;
        self.segments
            .iter()
            .map(|s| {
                let rows = start..start + s.len() * n;
                start = rows.end;
                rows
            })
            .collect()
    }
}

impl<M: Model + Sync + ?Sized> LossEngine for Shooting<'_, M> {
    fn loss(&self, _: &Dataset, x: &[f64]) -> Result<LossValue, LearnError> {
        let residuals: Vec<f64> = (0..self.segments.len())
            .into_par_iter()
            .map(|k| {
                self.segment(k, x, None)
                    .map(|r| r.into_iter().map(|(v, _)| v).collect::<Vec<_>>())
            })
            .collect::<Result<Vec<_>, _>>()?
            .concat();
        Ok(Self::value(&residuals))
    }

    fn evaluate(&self, _: &Dataset, x: &[f64]) -> Result<Evaluation, LearnError> {
        let (p, n) = (self.parameters(), self.traj.coordinates.len());
        let rows = self.row_ranges();
        let total = rows.last().map_or(0, |r| r.end);
        let mut jacobian = DMatrix::zeros(total, x.len());
        // per segment: its residuals, its columns for θ, and for its own initial state
        let blocks: Vec<(Vec<f64>, Vec<Vec<f64>>)> = (0..self.segments.len())
            .into_par_iter()
            .map(|k| {
                let residuals: Vec<f64> = self
                    .segment(k, x, None)?
                    .into_iter()
                    .map(|(v, _)| v)
                    .collect();
                let base = p + 2 * n * k;
                let columns = (0..p)
                    .chain(base..base + 2 * n)
                    .map(|j| {
                        Ok(self
                            .segment(k, x, Some(j))?
                            .into_iter()
                            .map(|(_, d)| d)
                            .collect())
                    })
                    .collect::<Result<Vec<Vec<f64>>, MechanicsError>>()?;
                Ok((residuals, columns))
            })
            .collect::<Result<Vec<_>, MechanicsError>>()?;
        let mut residuals = Vec::with_capacity(total);
        for (k, (r, columns)) in blocks.into_iter().enumerate() {
            let base = p + 2 * n * k;
            for (c, column) in columns.iter().enumerate() {
                let j = if c < p { c } else { base + c - p };
                for (row, value) in rows[k].clone().zip(column) {
                    jacobian[(row, j)] = *value;
                }
            }
            residuals.extend(r);
        }
        let gradient = (jacobian.transpose() * DVector::from_column_slice(&residuals) * 2.0)
            .iter()
            .copied()
            .collect();
        Ok(Evaluation {
            value: Self::value(&residuals),
            residuals,
            jacobian,
            gradient,
        })
    }

    fn report(&self) -> &EngineReport {
        &self.report
    }
}

/// Consecutive segments of `length` samples over `count`; a remainder shorter than 2 samples
/// joins the last segment.
fn split(count: usize, length: usize) -> Vec<std::ops::Range<usize>> {
    let mut segments: Vec<std::ops::Range<usize>> = (0..count)
        .step_by(length)
        .map(|s| s..(s + length).min(count))
        .collect();
    if segments.len() > 1 && segments.last().is_some_and(|s| s.len() < 2) {
        let last = segments.pop().expect("more than one");
        segments.last_mut().expect("more than one").end = last.end;
    }
    segments
}

/// Fits `model` to the measured positions by multiple shooting (see the [module docs](self)).
/// The optimizer of `options` moves the parameters and the segments' initial states together.
/// The first fit uses segments of `shooting.segment` samples, its initial states from the
/// smoothing estimates and the parameters from the model's guesses (or `options.initial`).
/// Each following fit uses segments [`GROWTH`] times longer, warm-started from the previous
/// one (its segments start where earlier ones did). Longer shots carry more information about
/// the parameters (the initial states absorb less), but their loss is rougher: the growth
/// stops at `max_segment`, at the whole trajectory, or when the position RMS exceeds
/// [`RMS_GROWTH`] times the previous fit's, which is then the result.
///
/// # Errors
/// Invalid options, and an integration that fails at the starting point (a singular mass
/// matrix, a blow-up).
pub fn learn_by_shooting<M: Model + Sync + ?Sized>(
    model: &M,
    traj: &PositionTrajectory,
    options: &LearnOptions,
    shooting: &ShootingOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<LearnResult, LearnError> {
    if shooting.segment < 2 || shooting.substeps == 0 {
        return Err(LearnError::InvalidOption {
            option: "shooting",
            value: format!(
                "segment {}, substeps {}",
                shooting.segment, shooting.substeps
            ),
            reason: "segments need at least 2 samples and at least 1 substep",
        });
    }
    let traj = traj.reordered(&model.coordinates())?;
    let (smoothed, smoothing) = differentiate(&traj, shooting.half_window)?;
    let (p, n, count) = (
        model.parameter_names().len(),
        traj.coordinates.len(),
        traj.len(),
    );
    let longest = shooting.max_segment.unwrap_or(count).clamp(2, count);
    let init = crate::result::starting_point(model, options)?;
    let report = EngineReport {
        requested: options.engine,
        used: "autodiff".into(),
        reason: (options.engine != Engine::Autodiff)
            .then(|| "shooting integrates the model with dual numbers".to_string()),
        compile_seconds: 0.0,
        mass_matrix: None,
        derivatives: None,
        operations: None,
    };

    let scale = (traj.q.iter().flatten().map(|x| x * x).sum::<f64>() / (count * n) as f64).sqrt();
    let mut length = shooting.segment.min(longest);
    let mut x = init.clone();
    for s in split(count, length) {
        x.extend_from_slice(&smoothed.q[s.start]);
        x.extend_from_slice(&smoothed.q_dot[s.start]);
    }
    let mut best: Option<(Shooting<M>, Outcome, f64)> = None;
    loop {
        let engine = Shooting {
            model,
            traj: traj.clone(),
            segments: split(count, length),
            substeps: shooting.substeps,
            report: report.clone(),
        };
        let fitted = match optimize_with(&engine, &smoothed, &x, &options.optimizer, progress) {
            Ok(outcome) => outcome,
            // a longer shot that cannot even be integrated: keep the shorter fit
            Err(_) if best.is_some() => break,
            Err(e) => return Err(e),
        };
        let rms =
            (fitted.evaluation.value.sum / fitted.evaluation.residuals.len().max(1) as f64).sqrt();
        // below 1e-8 of the positions' size, differences are integration error and rounding
        if let Some((_, _, previous)) = &best
            && (rms.is_nan() || rms > RMS_GROWTH * previous + 1e-8 * scale)
        {
            break;
        }
        // the next, longer segments start where some of these did (a multiple of this length,
        // or the whole trajectory): keep their states
        let next = if length * GROWTH < longest {
            length * GROWTH
        } else if longest == count {
            count
        } else {
            longest / length * length
        };
        let done = next <= length;
        let starts: Vec<usize> = engine.segments.iter().map(|s| s.start).collect();
        x = fitted.parameters[..p].to_vec();
        for s in split(count, next.max(length)) {
            let k = starts
                .iter()
                .position(|&a| a == s.start)
                .expect("segment starts nest");
            x.extend_from_slice(&fitted.parameters[p + 2 * n * k..p + 2 * n * (k + 1)]);
        }
        best = Some((engine, fitted, rms));
        if done {
            break;
        }
        length = next;
    }
    let (engine, outcome, position_rms) = best.expect("the first fit either succeeds or returns");

    // the parameters' Jacobian with the initial states profiled out, segment by segment:
    // J_θ − J_s J_s⁺ J_θ
    let rows = engine.row_ranges();
    let full = &outcome.evaluation.jacobian;
    let mut profiled = DMatrix::zeros(full.nrows(), p);
    for (k, range) in rows.iter().enumerate() {
        let base = p + 2 * n * k;
        let j_theta = full.view((range.start, 0), (range.len(), p)).into_owned();
        let j_state = full
            .view((range.start, base), (range.len(), 2 * n))
            .into_owned();
        let svd = j_state.svd(true, true);
        let tolerance = 1e-12 * svd.singular_values.max().max(f64::MIN_POSITIVE);
        let coefficients = svd
            .solve(&j_theta, tolerance)
            .unwrap_or_else(|_| DMatrix::zeros(2 * n, p));
        let projected =
            &j_theta - full.view((range.start, base), (range.len(), 2 * n)) * coefficients;
        profiled
            .view_mut((range.start, 0), (range.len(), p))
            .copy_from(&projected);
    }
    let residuals = outcome.evaluation.residuals.clone();
    let gradient = (profiled.transpose() * DVector::from_column_slice(&residuals) * 2.0)
        .iter()
        .copied()
        .collect();
    let theta_only = Outcome {
        parameters: outcome.parameters[..p].to_vec(),
        evaluation: Evaluation {
            value: outcome.evaluation.value.clone(),
            residuals,
            jacobian: profiled,
            gradient,
        },
        history: outcome
            .history
            .into_iter()
            .map(|h| HistoryEntry {
                iteration: h.iteration,
                loss: h.loss,
                parameters: h.parameters[..p].to_vec(),
            })
            .collect(),
        iterations: outcome.iterations,
        converged: outcome.converged,
        stop_reason: outcome.stop_reason,
    };
    let mut result = build_result(model, &smoothed, &init, theta_only, options);
    result.engine = Some(engine.report.clone());
    result.trajectory = Some(TrajectoryFit {
        method: "shooting".into(),
        segments: Some(engine.segments.len()),
        substeps: Some(shooting.substeps),
        position_rms,
        ..smoothing
    });
    Ok(result)
}
