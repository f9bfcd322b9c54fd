//! Trajectory writers that take one row at a time, so that `simulate` writes rows as they are
//! computed and its memory stays O(n) however many rows a run produces.
//!
//! CSV and NPY are row-major and stream directly (NPY's header needs the row count, which the
//! integrator knows in advance). The JSON layout is column-major (`"t"`, then `"q"`, ...): its
//! `"t"` column streams into the output while `q`, `q̇` and the energy are spilled to
//! anonymous temporary files and copied in after the last row.

use super::TrajectoryFormat;
use std::io::{self, BufWriter, Write};

/// One trajectory being written.
pub trait RowWriter {
    /// Appends the row at `t`.
    fn row(&mut self, t: f64, q: &[f64], q_dot: &[f64], energy: Option<f64>) -> io::Result<()>;

    /// Writes what follows the last row (for JSON, the spilled columns and, when given, the
    /// `"stats"` object) and flushes.
    fn finish(self: Box<Self>, stats: Option<&serde_json::Value>) -> io::Result<()>;
}

/// The writer of `format` over `out`, for a table with these coordinates and `rows` rows, with
/// an energy column when `with_energy` (rows then carry `Some(energy)`).
pub fn writer<'a>(
    format: TrajectoryFormat,
    coordinates: &[String],
    rows: u64,
    with_energy: bool,
    out: Box<dyn Write + 'a>,
) -> io::Result<Box<dyn RowWriter + 'a>> {
    let mut out = BufWriter::with_capacity(1 << 16, out);
    Ok(match format {
        TrajectoryFormat::Csv => {
            writeln!(
                out,
                "{}",
                super::columns_with(coordinates, with_energy).join(",")
            )?;
            Box::new(super::csv::Csv { out })
        }
        TrajectoryFormat::Npy => {
            let cols = 2 * coordinates.len() + 1 + usize::from(with_energy);
            out.write_all(&super::npy::header(rows as usize, cols))?;
            Box::new(super::npy::Npy {
                out,
                expected: rows,
                written: 0,
            })
        }
        TrajectoryFormat::Json => Box::new(super::json::Json::new(out, coordinates, with_energy)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(format: TrajectoryFormat, stats: Option<&serde_json::Value>) -> Vec<u8> {
        let mut buf = Vec::new();
        {
            let coords = vec!["x".to_string(), "y".to_string()];
            let mut w = writer(format, &coords, 2, true, Box::new(&mut buf)).unwrap();
            w.row(0.0, &[1.0, 1.0 / 3.0], &[0.0, 1e300], Some(0.1 + 0.2))
                .unwrap();
            w.row(0.1, &[0.5, -2e-300], &[f64::MIN_POSITIVE, 7.0], Some(2.0))
                .unwrap();
            w.finish(stats).unwrap();
        }
        buf
    }

    #[test]
    fn csv_rows_parse_back_exactly() {
        let text = String::from_utf8(written(TrajectoryFormat::Csv, None)).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("t,x,y,x_dot,y_dot,energy"));
        let row: Vec<f64> = lines
            .nth(1)
            .unwrap()
            .split(',')
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(row, vec![0.1, 0.5, -2e-300, f64::MIN_POSITIVE, 7.0, 2.0]);
    }

    #[test]
    fn json_columns_and_stats() {
        let stats = serde_json::json!({"evaluator": "compiled"});
        let v: serde_json::Value =
            serde_json::from_slice(&written(TrajectoryFormat::Json, Some(&stats))).unwrap();
        assert_eq!(v["coordinates"][1], "y");
        assert_eq!(v["t"].as_array().unwrap().len(), 2);
        assert_eq!(v["q"][0][1].as_f64().unwrap(), 1.0 / 3.0);
        assert_eq!(v["q_dot"][0][1].as_f64().unwrap(), 1e300);
        assert_eq!(v["energy"][0].as_f64().unwrap(), 0.1 + 0.2);
        assert_eq!(v["stats"]["evaluator"], "compiled");
    }

    #[test]
    fn npy_header_matches_rows() {
        let bytes = written(TrajectoryFormat::Npy, None);
        let header = super::super::npy::header(2, 6);
        assert_eq!(&bytes[..header.len()], &header[..]);
        assert_eq!(bytes.len(), header.len() + 2 * 6 * 8);
        let mut buf = Vec::new();
        let coords = vec!["x".to_string()];
        let mut w = writer(TrajectoryFormat::Npy, &coords, 3, true, Box::new(&mut buf)).unwrap();
        w.row(0.0, &[1.0], &[0.0], Some(0.5)).unwrap();
        assert!(w.finish(None).is_err(), "fewer rows than the header says");
    }

    /// Without a Lagrangian (a baseline model) no format has an energy column.
    #[test]
    fn no_energy_column_without_a_lagrangian() {
        let coords = vec!["x".to_string()];
        let run = |format| {
            let mut buf = Vec::new();
            {
                let mut w = writer(format, &coords, 1, false, Box::new(&mut buf)).unwrap();
                w.row(0.0, &[1.0], &[2.0], None).unwrap();
                w.finish(None).unwrap();
            }
            buf
        };
        let csv = String::from_utf8(run(TrajectoryFormat::Csv)).unwrap();
        assert_eq!(csv, "t,x,x_dot\n0,1,2\n");
        let npy = run(TrajectoryFormat::Npy);
        let header = super::super::npy::header(1, 3);
        assert_eq!(&npy[..header.len()], &header[..]);
        assert_eq!(npy.len(), header.len() + 3 * 8);
        let json: serde_json::Value = serde_json::from_slice(&run(TrajectoryFormat::Json)).unwrap();
        assert!(json.get("energy").is_none());
        assert_eq!(json["q_dot"][0][0].as_f64(), Some(2.0));
    }
}
