//! The loss on a 2-D grid over two parameters, the others held at given values.

use crate::data::Dataset;
use crate::engine::{Autodiff, LossEngine};
use crate::error::LearnError;
use crate::model::Model;
use crate::result::prepare;
use crate::shard::{check_range, check_units};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// One axis of a grid: a parameter and its values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridAxis {
    /// Parameter name.
    pub name: String,
    /// Values, evenly spaced from low to high.
    pub values: Vec<f64>,
}

impl GridAxis {
    /// Parses `NAME=LOW:HIGH:COUNT` (COUNT ≥ 2, LOW < HIGH), e.g. `m=0.1:3:101`.
    pub fn parse(spec: &str) -> Result<Self, LearnError> {
        let invalid = |reason| LearnError::InvalidOption {
            option: "grid",
            value: spec.to_string(),
            reason,
        };
        let bad = || invalid("expected NAME=LOW:HIGH:COUNT (e.g. m=0.1:3:101)");
        let (name, rest) = spec.split_once('=').ok_or_else(bad)?;
        let parts: Vec<&str> = rest.split(':').map(str::trim).collect();
        if parts.len() != 3 || name.trim().is_empty() {
            return Err(bad());
        }
        let lo: f64 = parts[0].parse().map_err(|_| bad())?;
        let hi: f64 = parts[1].parse().map_err(|_| bad())?;
        let count: usize = parts[2].parse().map_err(|_| bad())?;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(invalid("LOW and HIGH must be finite with LOW < HIGH"));
        }
        if !(2..=10_000).contains(&count) {
            return Err(invalid("COUNT must be between 2 and 10000"));
        }
        let values = (0..count)
            .map(|i| lo + (hi - lo) * i as f64 / (count - 1) as f64)
            .collect();
        Ok(Self {
            name: name.trim().to_string(),
            values,
        })
    }
}

/// Loss values on a grid: `loss[j][i]` at `(x.values[i], y.values[j])`; `NaN` where the model
/// cannot be evaluated (mass matrix singular at every sample, or non-finite).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Landscape {
    /// First axis.
    pub x: GridAxis,
    /// Second axis.
    pub y: GridAxis,
    /// Loss `ε`, row `j` for `y.values[j]`.
    pub loss: Vec<Vec<f64>>,
}

impl Landscape {
    /// The landscape on `x × y` from the losses at all its points, in order: one piece for a
    /// whole run, or the pieces of a sharded one.
    pub fn from_pieces(
        x: GridAxis,
        y: GridAxis,
        pieces: &[GridLosses],
    ) -> Result<Self, LearnError> {
        let nx = x.values.len();
        let indices = pieces.iter().flat_map(|p| p.first..p.first + p.loss.len());
        check_units("grid points", indices, nx * y.values.len())?;
        let flat: Vec<f64> = pieces.iter().flat_map(|p| p.loss.iter().copied()).collect();
        let loss = flat.chunks(nx).map(|c| c.to_vec()).collect();
        Ok(Self { x, y, loss })
    }

    /// CSV text `<x>,<y>,loss`, x varying fastest.
    pub fn to_csv_string(&self) -> String {
        let mut s = format!("{},{},loss\n", self.x.name, self.y.name);
        for (j, row) in self.loss.iter().enumerate() {
            for (i, l) in row.iter().enumerate() {
                s.push_str(&format!(
                    "{:?},{:?},{:?}\n",
                    self.x.values[i], self.y.values[j], l
                ));
            }
        }
        s
    }

    /// The smallest finite loss and where: `(x, y, loss)`.
    pub fn minimum(&self) -> Option<(f64, f64, f64)> {
        let mut best: Option<(f64, f64, f64)> = None;
        for (j, row) in self.loss.iter().enumerate() {
            for (i, &l) in row.iter().enumerate() {
                if l.is_finite() && best.is_none_or(|b| l < b.2) {
                    best = Some((self.x.values[i], self.y.values[j], l));
                }
            }
        }
        best
    }
}

/// Evaluates the loss of `model` on the grid `x × y` in parallel; the other parameters are held
/// at `base` (the model's parameter order). Uses the reference (autodiff) engine.
pub fn landscape<M: Model + Sync + ?Sized>(
    model: &M,
    data: &Dataset,
    base: &[f64],
    x: &GridAxis,
    y: &GridAxis,
) -> Result<Landscape, LearnError> {
    landscape_with(&Autodiff::new(model), model, data, base, x, y)
}

/// [`landscape`] with the loss evaluated by `engine` (built for `model`: one compilation
/// serves the whole grid).
pub fn landscape_with<M: Model + Sync + ?Sized>(
    engine: &dyn LossEngine,
    model: &M,
    data: &Dataset,
    base: &[f64],
    x: &GridAxis,
    y: &GridAxis,
) -> Result<Landscape, LearnError> {
    let points = 0..x.values.len() * y.values.len();
    let losses = grid_losses(engine, model, data, base, x, y, points)?;
    Landscape::from_pieces(x.clone(), y.clone(), &[losses])
}

/// The losses at consecutive points of a grid: the whole grid, or one shard of it. Points are
/// numbered row by row, x fastest: point `k` is `(x.values[k % nx], y.values[k / nx])`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridLosses {
    /// Number of the first point.
    pub first: usize,
    /// `ε` at points `first, first + 1, ...` (`NaN` where the model cannot be evaluated).
    #[serde(with = "crate::shard::floats")]
    pub loss: Vec<f64>,
}

/// The loss at the grid points `points` (numbered as in [`GridLosses`]), in parallel, by
/// `engine`; the other parameters are held at `base`. Each point's loss depends on that point
/// alone, so any split of the grid gives the same numbers.
pub fn grid_losses<M: Model + Sync + ?Sized>(
    engine: &dyn LossEngine,
    model: &M,
    data: &Dataset,
    base: &[f64],
    x: &GridAxis,
    y: &GridAxis,
    points: Range<usize>,
) -> Result<GridLosses, LearnError> {
    let data = prepare(model, data)?;
    let names = model.parameter_names();
    let index = |name: &str| {
        names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| LearnError::UnknownParameter {
                name: name.to_string(),
                known: names.join(", "),
            })
    };
    let (ix, iy) = (index(&x.name)?, index(&y.name)?);
    if ix == iy {
        return Err(LearnError::SameGridAxes {
            name: x.name.clone(),
        });
    }
    if base.len() != names.len() {
        return Err(LearnError::ParameterCount {
            what: "base parameters",
            given: base.len(),
            expected: names.len(),
        });
    }
    let (nx, ny) = (x.values.len(), y.values.len());
    check_range("grid points", &points, nx * ny)?;
    let first = points.start;
    let loss = points
        .into_par_iter()
        .map(|k| {
            let mut p = base.to_vec();
            p[ix] = x.values[k % nx];
            p[iy] = y.values[k / nx];
            engine.loss(&data, &p).map(|v| v.sum).unwrap_or(f64::NAN)
        })
        .collect();
    Ok(GridLosses { first, loss })
}
