//! CSV: header `t,<q...>,<q>_dot...,energy`, one row per output time.
//!
//! Numbers use Rust's `Display` for `f64`, the shortest text that parses back to the same value.

use super::Table;
use std::io::{self, Write};

pub fn write(table: &Table<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    writeln!(out, "{}", table.columns().join(","))?;
    for i in 0..table.len() {
        let mut first = true;
        for value in table.row(i) {
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            write!(out, "{value}")?;
        }
        out.write_all(b"\n")?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_exact_rows() {
        let coords = vec!["x".to_string(), "y".to_string()];
        let t = [0.0, 0.1];
        let q = [vec![1.0, 1.0 / 3.0], vec![0.5, -2e-300]];
        let qd = [vec![0.0, 1e300], vec![f64::MIN_POSITIVE, 7.0]];
        let e = [0.1 + 0.2, 2.0];
        let table = Table {
            coordinates: &coords,
            t: &t,
            q: &q,
            q_dot: &qd,
            energy: &e,
        };
        let mut buf = Vec::new();
        write(&table, &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("t,x,y,x_dot,y_dot,energy"));
        let row: Vec<f64> = lines
            .next()
            .unwrap()
            .split(',')
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(row, vec![0.0, 1.0, 1.0 / 3.0, 0.0, 1e300, 0.1 + 0.2]);
        let row: Vec<f64> = lines
            .next()
            .unwrap()
            .split(',')
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(row, vec![0.1, 0.5, -2e-300, f64::MIN_POSITIVE, 7.0, 2.0]);
    }
}
