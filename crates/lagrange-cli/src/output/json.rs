//! JSON: `{"coordinates":[...],"t":[...],"q":[[...],...],"q_dot":[[...],...],"energy":[...]}`.
//!
//! `q[i]` and `q_dot[i]` are the state vectors at `t[i]`, in the order of `coordinates`.
//! Numbers are written in the shortest form that parses back exactly.

use super::Table;
use std::io::{self, Write};

pub fn write(table: &Table<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    out.write_all(b"{\"coordinates\":[")?;
    for (i, name) in table.coordinates.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write!(out, "{}", serde_json::Value::String(name.clone()))?;
    }
    out.write_all(b"],\n\"t\":")?;
    numbers(&mut out, table.t)?;
    out.write_all(b",\n\"q\":")?;
    rows(&mut out, table.q)?;
    out.write_all(b",\n\"q_dot\":")?;
    rows(&mut out, table.q_dot)?;
    out.write_all(b",\n\"energy\":")?;
    numbers(&mut out, table.energy)?;
    out.write_all(b"}\n")?;
    out.flush()
}

fn numbers(out: &mut impl Write, values: &[f64]) -> io::Result<()> {
    out.write_all(b"[")?;
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        number(out, *v)?;
    }
    out.write_all(b"]")
}

fn rows(out: &mut impl Write, rows: &[Vec<f64>]) -> io::Result<()> {
    out.write_all(b"[")?;
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        numbers(out, row)?;
    }
    out.write_all(b"]")
}

/// A finite `f64` as a JSON number (JSON has no NaN; the simulation never exports one).
pub fn number(out: &mut impl Write, v: f64) -> io::Result<()> {
    if v.is_finite() {
        write!(out, "{v}")
    } else {
        out.write_all(b"null")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_back() {
        let coords = vec!["x".to_string()];
        let t = [0.0, 0.5];
        let q = [vec![1.0], vec![0.1 + 0.2]];
        let qd = [vec![-1.0], vec![2.5e-10]];
        let e = [1.0, 1.0];
        let table = Table {
            coordinates: &coords,
            t: &t,
            q: &q,
            q_dot: &qd,
            energy: &e,
        };
        let mut buf = Vec::new();
        write(&table, &mut buf).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v["coordinates"][0], "x");
        assert_eq!(v["q"][1][0].as_f64().unwrap(), 0.1 + 0.2);
        assert_eq!(v["q_dot"][1][0].as_f64().unwrap(), 2.5e-10);
        assert_eq!(v["t"].as_array().unwrap().len(), 2);
    }
}
