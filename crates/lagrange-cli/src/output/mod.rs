//! Exporters, one file per format, plus atomic file creation and progress reporting.
//!
//! Every exporter writes to any `io::Write`; [`atomic`] puts the bytes in place only once they
//! are all written, so a failed run never leaves a partial file.

pub mod atomic;
pub mod csv;
pub mod json;
pub mod npy;
pub mod plot;
pub mod plot_learn;
pub mod progress;

use anyhow::{Result, bail};
use std::io::Write;
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
    /// The column names shared by CSV and NPY: `t, <q...>, <q>_dot..., energy`.
    pub fn columns(&self) -> Vec<String> {
        let mut columns = vec!["t".to_string()];
        columns.extend(self.coordinates.iter().cloned());
        columns.extend(self.coordinates.iter().map(|c| format!("{c}_dot")));
        columns.push("energy".to_string());
        columns
    }

    /// Row `i` in column order.
    pub fn row(&self, i: usize) -> impl Iterator<Item = f64> + '_ {
        std::iter::once(self.t[i])
            .chain(self.q[i].iter().copied())
            .chain(self.q_dot[i].iter().copied())
            .chain(std::iter::once(self.energy[i]))
    }

    pub fn len(&self) -> usize {
        self.t.len()
    }
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

    pub fn write(self, table: &Table<'_>, out: &mut dyn Write) -> std::io::Result<()> {
        match self {
            Self::Csv => csv::write(table, out),
            Self::Json => json::write(table, out),
            Self::Npy => npy::write(table, out),
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
