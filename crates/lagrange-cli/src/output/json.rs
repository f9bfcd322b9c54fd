//! JSON: `{"coordinates":[...],"t":[...],"q":[[...],...],"q_dot":[[...],...],"energy":[...]}`,
//! followed by `"stats":{...}` with `simulate --stats`.
//!
//! The layout is column-major: the `"t"` column streams into the output while `q`, `q̇` and the
//! energy are spilled to anonymous temporary files and copied in after the last row, so memory
//! stays O(n).
//!
//! `q[i]` and `q_dot[i]` are the state vectors at `t[i]`, in the order of `coordinates`.
//! Numbers are written in the shortest form that parses back exactly.

use super::stream::RowWriter;
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};

/// A finite `f64` as a JSON number (JSON has no NaN; the simulation never exports one).
pub fn number(out: &mut impl Write, v: f64) -> io::Result<()> {
    if v.is_finite() {
        write!(out, "{v}")
    } else {
        out.write_all(b"null")
    }
}

/// One spilled JSON column: `[` row `,` row ... in a temporary file.
struct Spill {
    file: BufWriter<File>,
    rows: u64,
}

impl Spill {
    fn new() -> io::Result<Self> {
        Ok(Self {
            file: BufWriter::with_capacity(1 << 16, tempfile::tempfile()?),
            rows: 0,
        })
    }

    fn vector(&mut self, values: &[f64]) -> io::Result<()> {
        self.separator()?;
        self.file.write_all(b"[")?;
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.file.write_all(b",")?;
            }
            number(&mut self.file, *v)?;
        }
        self.file.write_all(b"]")
    }

    fn number(&mut self, v: f64) -> io::Result<()> {
        self.separator()?;
        number(&mut self.file, v)
    }

    fn separator(&mut self) -> io::Result<()> {
        self.rows += 1;
        if self.rows > 1 {
            self.file.write_all(b",")?;
        }
        Ok(())
    }

    /// Copies the column, as a JSON array, into `out`.
    fn copy_into(self, out: &mut impl Write) -> io::Result<()> {
        let mut file = self.file.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        out.write_all(b"[")?;
        io::copy(&mut file, out)?;
        out.write_all(b"]")
    }
}

pub(super) struct Json<'a> {
    out: BufWriter<Box<dyn Write + 'a>>,
    rows: u64,
    q: Spill,
    q_dot: Spill,
    energy: Spill,
    with_energy: bool,
}

impl<'a> Json<'a> {
    pub(super) fn new(
        mut out: BufWriter<Box<dyn Write + 'a>>,
        coordinates: &[String],
        with_energy: bool,
    ) -> io::Result<Self> {
        out.write_all(b"{\"coordinates\":")?;
        serde_json::to_writer(&mut out, coordinates)?;
        out.write_all(b",\n\"t\":[")?;
        Ok(Self {
            out,
            rows: 0,
            q: Spill::new()?,
            q_dot: Spill::new()?,
            energy: Spill::new()?,
            with_energy,
        })
    }
}

impl RowWriter for Json<'_> {
    fn row(&mut self, t: f64, q: &[f64], q_dot: &[f64], energy: Option<f64>) -> io::Result<()> {
        self.rows += 1;
        if self.rows > 1 {
            self.out.write_all(b",")?;
        }
        number(&mut self.out, t)?;
        self.q.vector(q)?;
        self.q_dot.vector(q_dot)?;
        match energy {
            Some(e) => self.energy.number(e),
            None => Ok(()),
        }
    }

    fn finish(self: Box<Self>, stats: Option<&serde_json::Value>) -> io::Result<()> {
        let Json {
            mut out,
            q,
            q_dot,
            energy,
            with_energy,
            ..
        } = *self;
        out.write_all(b"],\n\"q\":")?;
        q.copy_into(&mut out)?;
        out.write_all(b",\n\"q_dot\":")?;
        q_dot.copy_into(&mut out)?;
        if with_energy {
            out.write_all(b",\n\"energy\":")?;
            energy.copy_into(&mut out)?;
        }
        if let Some(stats) = stats {
            out.write_all(b",\n\"stats\":")?;
            serde_json::to_writer(&mut out, stats)?;
        }
        out.write_all(b"}\n")?;
        out.flush()
    }
}
