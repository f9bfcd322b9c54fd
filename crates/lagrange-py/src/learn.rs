//! `lagrange.generate` and `lagrange.learn`: datasets as dicts of NumPy columns, fits with the
//! result dict of the CLI's `result.json`.

use crate::errors::value_error;
use crate::system::System;
use lagrange::systems::System as _;
use lagrange_learn::model::{AnyModel, Model, Restricted, TextModel};
use lagrange_learn::optim::{AdamOptions, LmOptions, Optimizer};
use lagrange_learn::system::AnySystem;
use lagrange_learn::{Dataset, Engine, GenerateSpec, LearnOptions, PhaseBox};
use numpy::PyArray1;
use numpy::{AllowTypeChange, PyArrayLikeDyn};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::fmt::Write as _;

/// A synthetic dataset from `system`: `samples` states uniform in the phase-space `box`
/// (`{"x": (-2, 2), "x_dot": (-1, 1)}`; every coordinate or velocity not named is in
/// [-1, 1]), or along `trajectories` trajectories to `t_end`, with q̈ from the exact equations
/// of motion and Gaussian noise σ = `noise` × RMS on every column. Returns a dict of float64
/// arrays named like the CSV columns of `lagrange generate` (`x, …, x_dot, …, x_ddot, …`).
#[pyfunction]
#[pyo3(signature = (system, samples, r#box=None, noise=0.0, seed=0, trajectories=None, t_end=None))]
#[allow(clippy::too_many_arguments)]
pub fn generate<'py>(
    py: Python<'py>,
    system: &System,
    samples: i64,
    r#box: Option<&Bound<'py, PyDict>>,
    noise: f64,
    seed: u64,
    trajectories: Option<i64>,
    t_end: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    crate::guarded(|| {
        if samples < 2 {
            return Err(value_error(format!(
                "samples must be at least 2, got {samples}"
            )));
        }
        let samples = usize::try_from(samples).map_err(value_error)?;
        let n = system.any().coordinates().len();
        lagrange_learn::limits::generate(samples, n)
            .map_err(|e| value_error(format!("samples={samples} ({} columns) {e}", 3 * n)))?;
        let trajectories = match trajectories {
            Some(k) if k < 1 => {
                return Err(value_error(format!(
                    "trajectories must be between 1 and samples ({samples}), got {k}"
                )));
            }
            k => k.map(|k| k as usize),
        };
        if !(noise.is_finite() && noise >= 0.0) {
            return Err(value_error(format!(
                "noise must be a finite level ≥ 0, got {noise}"
            )));
        }
        let trajectories = match (trajectories, t_end) {
            (None, None) => None,
            (Some(k), t) => {
                let t = t.unwrap_or(10.0);
                if k == 0 || k > samples {
                    return Err(value_error(format!(
                        "trajectories must be between 1 and samples ({samples}), got {k}"
                    )));
                }
                if !(t.is_finite() && t > 0.0) {
                    return Err(value_error(format!(
                        "t_end must be a positive number, got {t}"
                    )));
                }
                Some((k, t))
            }
            (None, Some(_)) => return Err(value_error("t_end applies with trajectories only")),
        };
        let phase_box = match r#box {
            None => PhaseBox::parse("").map_err(value_error)?,
            Some(dict) => {
                let mut spec = String::new();
                for (k, v) in dict.iter() {
                    let name: String = k.extract()?;
                    let (lo, hi): (f64, f64) = v.extract().map_err(|_| {
                        value_error(format!(
                            "box[{name:?}] must be a pair (low, high) of numbers"
                        ))
                    })?;
                    let _ = write!(spec, "{name}={lo:?}:{hi:?},");
                }
                PhaseBox::parse(&spec).map_err(value_error)?
            }
        };
        let spec = GenerateSpec {
            samples,
            phase_box,
            trajectories,
            noise,
            seed,
        };
        let any = system.any();
        let data = py
            .detach(|| lagrange_learn::generate(any, &spec))
            .map_err(value_error)?;
        columns(py, &data)
    })
}

/// The dataset as a dict of columns named like its CSV header.
fn columns<'py>(py: Python<'py>, data: &Dataset) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    let n = data.dof();
    let header = data.header();
    for (block, rows) in [&data.q, &data.q_dot, &data.q_ddot].into_iter().enumerate() {
        for i in 0..n {
            let column: Vec<f64> = rows.iter().map(|r| r[i]).collect();
            dict.set_item(&header[block * n + i], PyArray1::from_vec(py, column))?;
        }
    }
    Ok(dict)
}

/// A dataset from a dict of columns (as `generate` returns) or a CSV file path, validated as
/// `lagrange learn --data` validates its file.
fn dataset(data: &Bound<'_, PyAny>) -> PyResult<Dataset> {
    if let Ok(dict) = data.cast::<PyDict>() {
        let mut names = Vec::new();
        let mut columns: Vec<Vec<f64>> = Vec::new();
        for (k, v) in dict.iter() {
            let name: String = k.extract()?;
            let array: PyArrayLikeDyn<'_, f64, AllowTypeChange> = v.extract().map_err(|_| {
                value_error(format!("data[{name:?}] must be a 1-D array of numbers"))
            })?;
            let view = array.as_array();
            if view.ndim() != 1 {
                return Err(value_error(format!(
                    "data[{name:?}] must be a 1-D array of shape (N,), got {} dimensions",
                    view.ndim()
                )));
            }
            names.push(name);
            columns.push(view.iter().copied().collect());
        }
        let rows = columns.first().map_or(0, Vec::len);
        if let Some((name, c)) = names.iter().zip(&columns).find(|(_, c)| c.len() != rows) {
            return Err(value_error(format!(
                "data[{name:?}] has {} values, the first column {rows}",
                c.len()
            )));
        }
        // through the CSV reader, so that the checks and messages are the CLI's
        let mut text = names.join(",");
        text.push('\n');
        for r in 0..rows {
            for (j, c) in columns.iter().enumerate() {
                if j > 0 {
                    text.push(',');
                }
                let _ = write!(text, "{:?}", c[r]);
            }
            text.push('\n');
        }
        return Dataset::from_csv_str(&text).map_err(value_error);
    }
    let os = data.py().import("os")?;
    let path: String = os
        .call_method1("fspath", (data,))
        .and_then(|p| p.extract())
        .map_err(|_| value_error("data must be a dict of columns or the path of a CSV file"))?;
    Dataset::read_csv(&path).map_err(|e| value_error(format!("data file '{path}': {e}")))
}

/// The model: a `System` (its parameters are the initial guesses), TOML text, a TOML file
/// path, or a family name (`poly-separable[:K[:V]]`, `poly-product[:K[:V]]`,
/// `network[:H[:f0[:f1]]]`).
fn model(value: &Bound<'_, PyAny>, data: &Dataset, seed: u64) -> PyResult<AnyModel> {
    if let Ok(system) = value.cast::<System>() {
        return match system.get().any() {
            AnySystem::Text(text) => Ok(AnyModel::Text(Box::new(TextModel::new((**text).clone())))),
            // (as for the CLI's --model: built-ins are Rust code over f64 parameters)
            _ => Err(value_error(
                "model: only a System from TOML or from_lagrangian has parameters that learn can differentiate; built-ins, lattice fields and trained models do not (write the model with System.from_lagrangian, or from_toml of e.g. examples/double-pendulum.toml)",
            )),
        };
    }
    let spec: String = match value.extract::<String>() {
        Ok(s) => s,
        Err(_) => value
            .py()
            .import("os")?
            .call_method1("fspath", (value,))
            .and_then(|p| p.extract())
            .map_err(|_| {
                value_error("model must be a System, TOML text, a TOML path or a family name")
            })?,
    };
    if spec.contains('=') || spec.contains('\n') {
        return TextModel::from_toml_str(&spec)
            .map(|m| AnyModel::Text(Box::new(m)))
            .map_err(|e| value_error(format!("model: {e}")));
    }
    AnyModel::load(&spec, data.coordinates.clone(), seed)
        .map_err(|e| value_error(format!("model '{spec}': {e}")))
}

/// Fits the unknown parameters of `model` to `data` (a dict of columns, as from `generate`, or
/// a CSV path) and returns the CLI's `result.json` as a dict (`parameters`, `loss`,
/// `uncertainty`, `history`, …). `fit` lists the parameters to fit (default: every one not in
/// `fix`), `fix` holds others at given values, `init` overrides initial guesses. `optimizer`
/// is `"lm"` (Levenberg–Marquardt) or `"adam"`; `engine` `"auto"`, `"autodiff"` or
/// `"compiled"`.
#[pyfunction]
#[pyo3(signature = (data, model, fit=None, fix=None, init=None, optimizer="lm", iterations=None, learning_rate=None, seed=0, engine="auto"))]
#[allow(clippy::too_many_arguments)]
pub fn learn<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    model: &Bound<'py, PyAny>,
    fit: Option<Vec<String>>,
    fix: Option<&Bound<'py, PyDict>>,
    init: Option<&Bound<'py, PyDict>>,
    optimizer: &str,
    iterations: Option<i64>,
    learning_rate: Option<f64>,
    seed: u64,
    engine: &str,
) -> PyResult<Bound<'py, PyAny>> {
    crate::guarded(|| {
        let iterations = match iterations {
            Some(k) if k < 1 => {
                return Err(value_error(format!(
                    "iterations must be at least 1, got {k}"
                )));
            }
            k => k.map(|k| k as usize),
        };
        let optimizer = optimizer_named(optimizer, iterations, learning_rate)?;
        let engine = Engine::parse(engine).map_err(value_error)?;
        let data = dataset(data)?;
        let base = self::model(model, &data, seed)?;
        let fixed = numbers(fix, "fix")?;
        let mut restricted = Restricted::new(base, fit.as_deref(), &fixed).map_err(value_error)?;
        for (name, value) in numbers(init, "init")? {
            if fixed.iter().any(|(n, _)| *n == name) {
                return Err(value_error(format!(
                    "init {name}: '{name}' is fixed with fix"
                )));
            }
            restricted.set_initial(&name, value).map_err(value_error)?;
        }
        let mut mine = restricted.coordinates();
        let mut theirs = data.coordinates.clone();
        mine.sort();
        theirs.sort();
        if mine != theirs {
            return Err(value_error(format!(
                "the data's coordinates ({}) do not match the model's ({})",
                data.coordinates.join(", "),
                restricted.coordinates().join(", ")
            )));
        }
        let options = LearnOptions {
            optimizer,
            engine,
            ..LearnOptions::default()
        };
        let result = py
            .detach(|| lagrange_learn::learn(&restricted, &data, &options))
            .map_err(value_error)?;
        py.import("json")?
            .call_method1("loads", (result.to_json(),))
    })
}

/// `{name: number}` as pairs.
fn numbers(dict: Option<&Bound<'_, PyDict>>, what: &str) -> PyResult<Vec<(String, f64)>> {
    let Some(dict) = dict else {
        return Ok(Vec::new());
    };
    dict.iter()
        .map(|(k, v)| {
            let name: String = k.extract()?;
            let value: f64 = v
                .extract()
                .map_err(|_| value_error(format!("{what}[{name:?}] must be a number")))?;
            Ok((name, value))
        })
        .collect()
}

fn optimizer_named(
    name: &str,
    iterations: Option<usize>,
    learning_rate: Option<f64>,
) -> PyResult<Optimizer> {
    if iterations == Some(0) {
        return Err(value_error("iterations must be at least 1"));
    }
    match name.trim() {
        "lm" | "levenberg-marquardt" => {
            if learning_rate.is_some() {
                return Err(value_error(
                    "learning_rate applies to optimizer=\"adam\" only",
                ));
            }
            let mut o = LmOptions::default();
            if let Some(n) = iterations {
                o.iterations = n;
            }
            Ok(Optimizer::LevenbergMarquardt(o))
        }
        "adam" => {
            let mut o = AdamOptions::default();
            if let Some(n) = iterations {
                o.iterations = n;
            }
            if let Some(lr) = learning_rate {
                if !(lr.is_finite() && lr > 0.0) {
                    return Err(value_error(format!(
                        "learning_rate must be a positive number, got {lr}"
                    )));
                }
                o.learning_rate = lr;
            }
            Ok(Optimizer::Adam(o))
        }
        other => Err(value_error(format!(
            "unknown optimizer '{other}' (expected lm or adam)"
        ))),
    }
}
