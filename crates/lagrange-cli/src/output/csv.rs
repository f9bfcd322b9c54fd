//! CSV: header `t,<q...>,<q>_dot...,energy`, one row per output time (no `energy` column for a
//! system without a Lagrangian: a `baseline` model).
//!
//! Numbers use Rust's `Display` for `f64`, the shortest text that parses back to the same value.

use super::stream::RowWriter;
use std::io::{self, BufWriter, Write};

/// Streams rows as CSV (the header is written by [`super::stream::writer`]).
pub(super) struct Csv<'a> {
    pub(super) out: BufWriter<Box<dyn Write + 'a>>,
}

impl RowWriter for Csv<'_> {
    fn row(&mut self, t: f64, q: &[f64], q_dot: &[f64], energy: Option<f64>) -> io::Result<()> {
        write!(self.out, "{t}")?;
        for v in q.iter().chain(q_dot).chain(energy.as_ref()) {
            write!(self.out, ",{v}")?;
        }
        self.out.write_all(b"\n")
    }

    fn finish(mut self: Box<Self>, _stats: Option<&serde_json::Value>) -> io::Result<()> {
        self.out.flush()
    }
}
