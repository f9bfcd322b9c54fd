//! NPY (format version 1.0): a C-order 2-D little-endian float64 array of shape
//! `(rows, 2n + 2)` with the CSV's columns `t, <q...>, <q>_dot..., energy`.
//!
//! `numpy.load("out.npy")` reads it; the column names are not stored (see the CSV header).

use super::Table;
use std::io::{self, Write};

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

pub fn write(table: &Table<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    let cols = 2 * table.coordinates.len() + 2;
    out.write_all(&header(table.len(), cols))?;
    for i in 0..table.len() {
        for value in table.row(i) {
            out.write_all(&value.to_le_bytes())?;
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_aligned() {
        let h = header(1001, 6);
        assert_eq!(h.len() % 64, 0);
        assert_eq!(&h[..8], b"\x93NUMPY\x01\x00");
        let len = u16::from_le_bytes([h[8], h[9]]) as usize;
        assert_eq!(len + 10, h.len());
        let text = std::str::from_utf8(&h[10..]).unwrap();
        assert!(text.contains("'shape': (1001, 6)") && text.ends_with('\n'));
    }
}
