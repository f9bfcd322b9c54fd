//! Exporters, one file per format, plus atomic file creation and progress reporting.
//!
//! Every trajectory exporter streams rows into any `io::Write` ([`stream::RowWriter`]);
//! [`atomic`] puts the bytes in place only once they are all written, so a failed run never
//! leaves a partial file.

pub mod animate;
pub mod antialias;
pub mod atomic;
pub mod csv;
pub mod field_rows;
pub mod json;
pub mod npy;
pub mod plot;
pub mod plot_field;
pub mod plot_learn;
pub mod progress;
pub mod stream;
pub mod style;

use anyhow::{Result, bail};
use std::path::Path;

/// A computed trajectory with its energy, ready for export. Row `i` is the state at `t[i]`.
pub struct Table<'a> {
    pub coordinates: &'a [String],
    pub t: &'a [f64],
    pub q: &'a [Vec<f64>],
    pub q_dot: &'a [Vec<f64>],
    pub energy: &'a [f64],
}

impl Table<'_> {
    pub fn len(&self) -> usize {
        self.t.len()
    }
}

/// The column names shared by CSV and NPY: `t, <q...>, <q>_dot..., energy`, without `energy`
/// for a system that has no Lagrangian (a `baseline` model).
pub fn columns_with(coordinates: &[String], energy: bool) -> Vec<String> {
    let mut columns = vec!["t".to_string()];
    columns.extend(coordinates.iter().cloned());
    columns.extend(coordinates.iter().map(|c| format!("{c}_dot")));
    if energy {
        columns.push("energy".to_string());
    }
    columns
}

/// Trajectory file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrajectoryFormat {
    Csv,
    Json,
    Npy,
}

impl TrajectoryFormat {
    pub fn from_name(name: &str) -> Result<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "json" => Ok(Self::Json),
            "npy" => Ok(Self::Npy),
            _ => bail!("unknown --format '{name}' (expected csv, json or npy)"),
        }
    }

    /// From the file extension; anything but `.json` / `.npy` is CSV.
    pub fn from_path(path: &Path) -> Self {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("json") => Self::Json,
            Some("npy") => Self::Npy,
            _ => Self::Csv,
        }
    }
}

/// Plot file formats, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotKind {
    Png,
    Svg,
}

impl PlotKind {
    pub fn from_path(path: &Path) -> Result<Self> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("png") => Ok(Self::Png),
            Some("svg") => Ok(Self::Svg),
            Some(other) => bail!(
                "unsupported plot format '.{other}' for '{}' (use .png or .svg)",
                path.display()
            ),
            None => bail!(
                "plot file '{}' needs a .png or .svg extension",
                path.display()
            ),
        }
    }
}
