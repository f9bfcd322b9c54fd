//! NumPy in and out: one state `(n,)` or a batch `(B, n)` of states, checked and converted.
//!
//! Input is anything NumPy can turn into float64 (lists, integer and float32 arrays are
//! converted; non-contiguous views are copied in logical order). A float64 array is read
//! without conversion, which keeps a single-state call cheap.

use crate::errors::value_error;
use numpy::ndarray::{Array2, Array3};
use numpy::{
    AllowTypeChange, IntoPyArray, PyArray1, PyArrayDescrMethods, PyArrayLikeDyn, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::prelude::*;

/// States as the caller gave them, flattened row-major.
pub struct States {
    /// Coordinates per state.
    pub n: usize,
    /// `Some(B)` for a batch `(B, n)`, `None` for one state `(n,)`.
    pub batch: Option<usize>,
    pub q: Vec<f64>,
    pub q_dot: Vec<f64>,
    pub t: Times,
}

/// The time of each state: one for all, or one per state of a batch.
pub enum Times {
    One(f64),
    Each(Vec<f64>),
}

impl Times {
    pub fn at(&self, i: usize) -> f64 {
        match self {
            Times::One(t) => *t,
            Times::Each(t) => t[i],
        }
    }
}

impl States {
    /// Number of states (1 for a single state).
    pub fn len(&self) -> usize {
        self.batch.unwrap_or(1)
    }

    /// `(q, q_dot, t)` of state `i`.
    pub fn state(&self, i: usize) -> (&[f64], &[f64], f64) {
        let range = i * self.n..(i + 1) * self.n;
        (&self.q[range.clone()], &self.q_dot[range], self.t.at(i))
    }

    /// Reads `q`, `q_dot` and `t` for a system with `n` coordinates.
    pub fn read(
        q: &Bound<'_, PyAny>,
        q_dot: &Bound<'_, PyAny>,
        t: &Bound<'_, PyAny>,
        n: usize,
    ) -> PyResult<Self> {
        let (q_values, shape) = read_array(q, "q", n)?;
        let (q_dot_values, shape_dot) = read_array(q_dot, "q_dot", n)?;
        if shape != shape_dot {
            return Err(value_error(format!(
                "q_dot must have the shape of q, {}, got {}",
                show(&shape),
                show(&shape_dot)
            )));
        }
        let batch = (shape.len() == 2).then(|| shape[0]);
        let t = read_times(t, batch)?;
        Ok(Self {
            n,
            batch,
            q: q_values,
            q_dot: q_dot_values,
            t,
        })
    }
}

/// `(2, 3)` / `(2,)`, as NumPy prints shapes.
fn show(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A float64 copy of `value`, which must have shape `(n,)` or `(B, n)`, and its shape.
fn read_array(value: &Bound<'_, PyAny>, name: &str, n: usize) -> PyResult<(Vec<f64>, Vec<usize>)> {
    let expected = format!("shape ({n},) for one state or (B, {n}) for a batch");
    let converted;
    let value = if value.cast::<PyUntypedArray>().is_ok() {
        value
    } else {
        converted = value
            .py()
            .import("numpy")?
            .call_method1("asarray", (value,))
            .map_err(|e| {
                value_error(format!(
                    "{name} must be an array of numbers with {expected} ({e})"
                ))
            })?;
        &converted
    };
    let array = value
        .cast::<PyUntypedArray>()
        .map_err(|e| value_error(e.to_string()))?;
    let kind = array.dtype().kind();
    if !matches!(kind, b'b' | b'i' | b'u' | b'f') {
        return Err(value_error(format!(
            "{name} must hold real numbers (bool, integer or float), got dtype {}",
            array.dtype()
        )));
    }
    let array: PyArrayLikeDyn<'_, f64, AllowTypeChange> = value.extract().map_err(|e| {
        value_error(format!(
            "{name} must be an array of numbers with {expected} ({e})"
        ))
    })?;
    let view = array.as_array();
    let shape = view.shape().to_vec();
    let fits = match shape.as_slice() {
        [m] => *m == n,
        [_, m] => *m == n,
        _ => false,
    };
    if !fits {
        return Err(value_error(format!(
            "{name} must have {expected}, got {}",
            show(&shape)
        )));
    }
    let values: Vec<f64> = match view.as_slice() {
        Some(s) => s.to_vec(),
        None => view.iter().copied().collect(),
    };
    if let Some(k) = values.iter().position(|v| !v.is_finite()) {
        let at = if shape.len() == 2 {
            format!("[{}, {}]", k / n, k % n)
        } else {
            format!("[{k}]")
        };
        return Err(value_error(format!(
            "{name}{at} is not finite ({})",
            values[k]
        )));
    }
    Ok((values, shape))
}

/// `t`: a number, or for a batch of `B` states also an array of shape `(B,)`.
fn read_times(t: &Bound<'_, PyAny>, batch: Option<usize>) -> PyResult<Times> {
    if let Ok(value) = t.extract::<f64>() {
        return finite_time(value).map(Times::One);
    }
    let Some(b) = batch else {
        return Err(value_error(
            "t must be a number for one state (an array of times needs a batch of states)",
        ));
    };
    let (values, shape) = read_array(t, "t", b)
        .map_err(|_| value_error(format!("t must be a number or an array of shape ({b},)")))?;
    if shape.len() != 1 {
        return Err(value_error(format!(
            "t must be a number or an array of shape ({b},), got {}",
            show(&shape)
        )));
    }
    Ok(Times::Each(values))
}

fn finite_time(t: f64) -> PyResult<f64> {
    if t.is_finite() {
        Ok(t)
    } else {
        Err(value_error(format!("t must be finite, got {t}")))
    }
}

/// One vector `(n,)`, or a batch `(B, n)`, as a NumPy array.
pub fn vectors<'py>(
    py: Python<'py>,
    values: Vec<f64>,
    batch: Option<usize>,
    n: usize,
) -> Bound<'py, PyAny> {
    match batch {
        None => PyArray1::from_vec(py, values).into_any(),
        Some(b) => Array2::from_shape_vec((b, n), values)
            .expect("b·n values")
            .into_pyarray(py)
            .into_any(),
    }
}

/// One matrix `(n, n)`, or a batch `(B, n, n)`.
pub fn matrices<'py>(
    py: Python<'py>,
    values: Vec<f64>,
    batch: Option<usize>,
    n: usize,
) -> Bound<'py, PyAny> {
    match batch {
        None => Array2::from_shape_vec((n, n), values)
            .expect("n² values")
            .into_pyarray(py)
            .into_any(),
        Some(b) => Array3::from_shape_vec((b, n, n), values)
            .expect("b·n² values")
            .into_pyarray(py)
            .into_any(),
    }
}

/// One number, or a batch `(B,)`.
pub fn scalars<'py>(
    py: Python<'py>,
    values: Vec<f64>,
    batch: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    match batch {
        None => Ok(values[0].into_pyobject(py)?.into_any()),
        Some(_) => Ok(PyArray1::from_vec(py, values).into_any()),
    }
}
