//! NPY (format version 1.0): a C-order 2-D little-endian float64 array of shape
//! `(rows, 2n + 2)` with the CSV's columns `t, <q...>, <q>_dot..., energy`.
//!
//! `numpy.load("out.npy")` reads it; the column names are not stored (see the CSV header).

use super::stream::RowWriter;
use std::io::{self, BufWriter, Write};

/// The NPY v1.0 header for a `rows × cols` float64 C-order array, padded to 64 bytes.
pub fn header(rows: usize, cols: usize) -> Vec<u8> {
    let dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // magic (6) + version (2) + header length (2) + dict + padding + '\n'
    let unpadded = 10 + dict.len() + 1;
    let padding = (64 - unpadded % 64) % 64;
    let len = dict.len() + padding + 1;
    let mut out = Vec::with_capacity(10 + len);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(len as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.extend(std::iter::repeat_n(b' ', padding));
    out.push(b'\n');
    out
}

/// Streams rows into an NPY array whose header (with the row count) is already written.
pub(super) struct Npy<'a> {
    pub(super) out: BufWriter<Box<dyn Write + 'a>>,
    pub(super) expected: u64,
    pub(super) written: u64,
}

impl RowWriter for Npy<'_> {
    fn row(&mut self, t: f64, q: &[f64], q_dot: &[f64], energy: Option<f64>) -> io::Result<()> {
        self.written += 1;
        for v in std::iter::once(&t)
            .chain(q)
            .chain(q_dot)
            .chain(energy.as_ref())
        {
            self.out.write_all(&v.to_le_bytes())?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>, _stats: Option<&serde_json::Value>) -> io::Result<()> {
        if self.written != self.expected {
            // The header promised another shape: never leave a file numpy misreads.
            return Err(io::Error::other(format!(
                "internal error: {} rows written for an NPY header of {}",
                self.written, self.expected
            )));
        }
        self.out.flush()
    }
}
