//! Datasets of samples `(q, q̇, q̈)` and their CSV form.
//!
//! The CSV header names the columns `<q>...,<q>_dot...,<q>_ddot...`: first every coordinate, then
//! every velocity, then every acceleration, each block in the system's coordinate order, e.g.
//! `x,y,x_dot,y_dot,x_ddot,y_ddot`. Reading accepts the columns in any order (the coordinate order
//! is the order in which the bare coordinate columns appear) but requires every coordinate to have
//! exactly its three columns; writing always uses the canonical order. Values are written with
//! Rust's shortest round-trip formatting, so a written file reads back bit for bit.

use std::fmt::Write as _;
use std::path::Path;
use thiserror::Error;

/// Why a dataset could not be read, written or used. `Display` is one line.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DataError {
    /// The file could not be read or written.
    #[error("cannot access {path}: {message}")]
    Io {
        /// Path of the file.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// The file has no header line.
    #[error("the data file is empty (expected a header like x,x_dot,x_ddot)")]
    Empty,
    /// A header field is empty.
    #[error("header column {column} is empty")]
    EmptyColumnName {
        /// 1-based column number.
        column: usize,
    },
    /// The same column name appears twice.
    #[error("header column {column}: duplicate column `{name}`")]
    DuplicateColumn {
        /// 1-based column number of the second occurrence.
        column: usize,
        /// Column name.
        name: String,
    },
    /// A `_dot`/`_ddot` column whose coordinate has no column, or an otherwise unknown name.
    #[error("header column {column}: unknown column `{name}` ({reason})")]
    UnknownColumn {
        /// 1-based column number.
        column: usize,
        /// Column name.
        name: String,
        /// Why it is not understood.
        reason: String,
    },
    /// A coordinate lacks one of its three columns.
    #[error("missing column `{name}` (each coordinate q needs columns q, q_dot and q_ddot)")]
    MissingColumn {
        /// The column that should be there.
        name: String,
    },
    /// A data row has a different number of fields than the header.
    #[error("line {line}: expected {expected} fields, found {found}")]
    RaggedRow {
        /// 1-based line number in the file (the header is line 1).
        line: usize,
        /// Fields in the header.
        expected: usize,
        /// Fields in this row.
        found: usize,
    },
    /// A field is not a number.
    #[error("line {line}, column `{column}`: `{value}` is not a number")]
    NotANumber {
        /// 1-based line number.
        line: usize,
        /// Column name.
        column: String,
        /// The offending text.
        value: String,
    },
    /// A field is NaN or infinite.
    #[error("line {line}, column `{column}`: non-finite value `{value}`")]
    NonFinite {
        /// 1-based line number.
        line: usize,
        /// Column name.
        column: String,
        /// The offending text.
        value: String,
    },
    /// Not enough samples for what is asked.
    #[error("too few data rows: {rows} (need at least {needed}{why})")]
    TooFewRows {
        /// Rows present.
        rows: usize,
        /// Rows needed.
        needed: usize,
        /// Context, e.g. " for 3 fitted parameters".
        why: String,
    },
    /// The dataset's coordinates are not the model's.
    #[error("the data's coordinates ({data}) do not match the model's ({model})")]
    CoordinateMismatch {
        /// Comma-separated data coordinates.
        data: String,
        /// Comma-separated model coordinates.
        model: String,
    },
    /// Inconsistent in-memory dataset (lengths disagree).
    #[error("inconsistent dataset: {0}")]
    Inconsistent(String),
}

/// Samples `(q, q̇, q̈)`, one row per sample.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dataset {
    /// Coordinate names, in column order.
    pub coordinates: Vec<String>,
    /// Positions, `q[i]` has one entry per coordinate.
    pub q: Vec<Vec<f64>>,
    /// Velocities.
    pub q_dot: Vec<Vec<f64>>,
    /// Accelerations.
    pub q_ddot: Vec<Vec<f64>>,
}

impl Dataset {
    /// An empty dataset with the given coordinates.
    pub fn new(coordinates: Vec<String>) -> Self {
        Self {
            coordinates,
            ..Self::default()
        }
    }

    /// Number of coordinates.
    pub fn dof(&self) -> usize {
        self.coordinates.len()
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.q.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.q.is_empty()
    }

    /// Appends one sample.
    pub fn push(&mut self, q: Vec<f64>, q_dot: Vec<f64>, q_ddot: Vec<f64>) {
        self.q.push(q);
        self.q_dot.push(q_dot);
        self.q_ddot.push(q_ddot);
    }

    /// The CSV header fields in canonical order.
    pub fn header(&self) -> Vec<String> {
        let c = &self.coordinates;
        c.iter()
            .cloned()
            .chain(c.iter().map(|n| format!("{n}_dot")))
            .chain(c.iter().map(|n| format!("{n}_ddot")))
            .collect()
    }

    /// Checks that every row has one entry per coordinate, all finite, and at least 2 rows.
    pub fn validate(&self) -> Result<(), DataError> {
        let n = self.dof();
        if n == 0 {
            return Err(DataError::Inconsistent("no coordinates".into()));
        }
        if self.q_dot.len() != self.q.len() || self.q_ddot.len() != self.q.len() {
            return Err(DataError::Inconsistent(
                "q, q_dot and q_ddot have different row counts".into(),
            ));
        }
        let header = self.header();
        for i in 0..self.len() {
            for (block, rows) in [&self.q, &self.q_dot, &self.q_ddot].into_iter().enumerate() {
                if rows[i].len() != n {
                    return Err(DataError::RaggedRow {
                        line: i + 2,
                        expected: n,
                        found: rows[i].len(),
                    });
                }
                for (j, v) in rows[i].iter().enumerate() {
                    if !v.is_finite() {
                        return Err(DataError::NonFinite {
                            line: i + 2,
                            column: header[block * n + j].clone(),
                            value: v.to_string(),
                        });
                    }
                }
            }
        }
        if self.len() < 2 {
            return Err(DataError::TooFewRows {
                rows: self.len(),
                needed: 2,
                why: String::new(),
            });
        }
        Ok(())
    }

    /// The dataset as CSV text (canonical column order, round-trip formatting).
    pub fn to_csv_string(&self) -> String {
        let mut s = self.header().join(",");
        s.push('\n');
        for i in 0..self.len() {
            let mut first = true;
            for v in self.q[i]
                .iter()
                .chain(&self.q_dot[i])
                .chain(&self.q_ddot[i])
            {
                if !first {
                    s.push(',');
                }
                first = false;
                let _ = write!(s, "{v:?}");
            }
            s.push('\n');
        }
        s
    }

    /// Writes the CSV file (plain write; callers wanting atomicity write [`to_csv_string`]
    /// through their own helper).
    ///
    /// [`to_csv_string`]: Dataset::to_csv_string
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<(), DataError> {
        let path = path.as_ref();
        std::fs::write(path, self.to_csv_string()).map_err(|e| DataError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// Reads and validates a CSV file.
    pub fn read_csv(path: impl AsRef<Path>) -> Result<Self, DataError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| DataError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_csv_str(&text)
    }

    /// Parses and validates CSV text (see the [module documentation](self) for the format).
    pub fn from_csv_str(text: &str) -> Result<Self, DataError> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let (_, header_line) = lines.next().ok_or(DataError::Empty)?;
        let names: Vec<String> = header_line
            .trim_start_matches('\u{feff}')
            .split(',')
            .map(|s| s.trim().to_string())
            .collect();
        // classify the header
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
        let base_of = |name: &str| -> (String, usize) {
            if let Some(b) = name.strip_suffix("_ddot") {
                (b.to_string(), 2)
            } else if let Some(b) = name.strip_suffix("_dot") {
                (b.to_string(), 1)
            } else {
                (name.to_string(), 0)
            }
        };
        let coordinates: Vec<String> = names
            .iter()
            .filter(|n| base_of(n).1 == 0)
            .cloned()
            .collect();
        for (j, name) in names.iter().enumerate() {
            let (base, kind) = base_of(name);
            if kind > 0 && !coordinates.contains(&base) {
                let reason = if base.is_empty() {
                    "no coordinate name before the suffix".to_string()
                } else {
                    format!("there is no coordinate column `{base}`")
                };
                return Err(DataError::UnknownColumn {
                    column: j + 1,
                    name: name.clone(),
                    reason,
                });
            }
            if kind == 0 && !is_identifier(name) {
                return Err(DataError::UnknownColumn {
                    column: j + 1,
                    name: name.clone(),
                    reason: "not a coordinate name (letters, digits and _ only)".to_string(),
                });
            }
        }
        if coordinates.is_empty() {
            return Err(DataError::MissingColumn {
                name: "a coordinate (e.g. x)".into(),
            });
        }
        let n = coordinates.len();
        // where each canonical column sits in the file
        let mut index = vec![0usize; 3 * n];
        for (block, suffix) in ["", "_dot", "_ddot"].into_iter().enumerate() {
            for (i, c) in coordinates.iter().enumerate() {
                let want = format!("{c}{suffix}");
                index[block * n + i] = names
                    .iter()
                    .position(|x| *x == want)
                    .ok_or(DataError::MissingColumn { name: want })?;
            }
        }
        let mut data = Dataset::new(coordinates);
        let mut row = vec![0.0; names.len()];
        for (lineno, line) in lines {
            let line_no = lineno + 1;
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() != names.len() {
                return Err(DataError::RaggedRow {
                    line: line_no,
                    expected: names.len(),
                    found: fields.len(),
                });
            }
            for (j, f) in fields.iter().enumerate() {
                let f = f.trim();
                let v: f64 = f.parse().map_err(|_| DataError::NotANumber {
                    line: line_no,
                    column: names[j].clone(),
                    value: f.to_string(),
                })?;
                if !v.is_finite() {
                    return Err(DataError::NonFinite {
                        line: line_no,
                        column: names[j].clone(),
                        value: f.to_string(),
                    });
                }
                row[j] = v;
            }
            let take = |block: usize| {
                (0..n)
                    .map(|i| row[index[block * n + i]])
                    .collect::<Vec<_>>()
            };
            data.push(take(0), take(1), take(2));
        }
        if data.len() < 2 {
            return Err(DataError::TooFewRows {
                rows: data.len(),
                needed: 2,
                why: String::new(),
            });
        }
        Ok(data)
    }

    /// The same samples with the coordinates in the order `order` (an error when the sets differ).
    pub fn reordered(&self, order: &[String]) -> Result<Self, DataError> {
        if order == self.coordinates.as_slice() {
            return Ok(self.clone());
        }
        let mismatch = || DataError::CoordinateMismatch {
            data: self.coordinates.join(", "),
            model: order.join(", "),
        };
        if order.len() != self.dof() {
            return Err(mismatch());
        }
        let perm: Vec<usize> = order
            .iter()
            .map(|c| {
                self.coordinates
                    .iter()
                    .position(|x| x == c)
                    .ok_or_else(mismatch)
            })
            .collect::<Result<_, _>>()?;
        let pick = |rows: &Vec<Vec<f64>>| -> Vec<Vec<f64>> {
            rows.iter()
                .map(|r| perm.iter().map(|&p| r[p]).collect())
                .collect()
        };
        Ok(Dataset {
            coordinates: order.to_vec(),
            q: pick(&self.q),
            q_dot: pick(&self.q_dot),
            q_ddot: pick(&self.q_ddot),
        })
    }

    /// Root mean square of every column, in canonical order (`q`, then `q̇`, then `q̈`).
    pub fn column_rms(&self) -> Vec<f64> {
        let n = self.dof();
        let m = self.len().max(1) as f64;
        let mut out = vec![0.0; 3 * n];
        for (block, rows) in [&self.q, &self.q_dot, &self.q_ddot].into_iter().enumerate() {
            for i in 0..n {
                out[block * n + i] = (rows.iter().map(|r| r[i] * r[i]).sum::<f64>() / m).sqrt();
            }
        }
        out
    }

    /// The rows `indices` (in that order) as a new dataset.
    pub fn subset(&self, indices: &[usize]) -> Self {
        Dataset {
            coordinates: self.coordinates.clone(),
            q: indices.iter().map(|&i| self.q[i].clone()).collect(),
            q_dot: indices.iter().map(|&i| self.q_dot[i].clone()).collect(),
            q_ddot: indices.iter().map(|&i| self.q_ddot[i].clone()).collect(),
        }
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_exact() {
        let mut d = Dataset::new(vec!["x".into(), "y".into()]);
        d.push(vec![0.1, 1.0 / 3.0], vec![-2.5e-17, 7.0], vec![1e300, -0.0]);
        d.push(vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, 6.0]);
        let s = d.to_csv_string();
        assert!(s.starts_with("x,y,x_dot,y_dot,x_ddot,y_ddot\n"));
        assert_eq!(Dataset::from_csv_str(&s).unwrap(), d);
    }

    #[test]
    fn columns_in_any_order() {
        let d = Dataset::from_csv_str("x_ddot,x,x_dot\n1,2,3\n4,5,6\n").unwrap();
        assert_eq!(d.q, vec![vec![2.0], vec![5.0]]);
        assert_eq!(d.q_ddot, vec![vec![1.0], vec![4.0]]);
    }

    #[test]
    fn errors_name_the_problem() {
        let e = |s: &str| Dataset::from_csv_str(s).unwrap_err().to_string();
        assert!(e("").contains("empty"));
        assert!(e("x,x_dot\n1,2\n3,4\n").contains("missing column `x_ddot`"));
        assert!(e("x,x_dot,x_ddot,y_dot\n1,2,3,4\n1,2,3,4\n").contains("`y_dot`"));
        assert!(e("x,x_dot,x_ddot\n1,2,3\n1,2\n").contains("line 3"));
        let s = e("x,x_dot,x_ddot\n1,2,3\n1,abc,3\n");
        assert!(
            s.contains("line 3") && s.contains("x_dot") && s.contains("abc"),
            "{s}"
        );
        assert!(e("x,x_dot,x_ddot\n1,2,NaN\n1,2,3\n").contains("non-finite"));
        assert!(e("x,x_dot,x_ddot\n1,2,inf\n1,2,3\n").contains("x_ddot"));
        assert!(e("x,x_dot,x_ddot\n1,2,3\n").contains("too few"));
        assert!(e("x,x,x_dot,x_ddot\n1,1,2,3\n").contains("duplicate"));
        assert!(e("x,x_dot,x_ddot,\n1,2,3,4\n").contains("empty"));
        assert!(e("x y,x y_dot,x y_ddot\n1,2,3\n4,5,6\n").contains("unknown column"));
    }
}
