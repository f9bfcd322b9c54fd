//! What `simulate --plot` keeps of a field run: a decimated space–time grid of the first field
//! (1-D, for the kymograph) or a few decimated snapshots (2-D). Memory is bounded by the
//! figure's size, not by the lattice's or the run's.

use super::PlotKind;
use super::plot_field::{self, Kymograph, Snapshot};
use anyhow::Result;
use lagrange::field::FieldSystem;
use std::path::Path;

/// Columns of the kymograph at most (sites are sampled with a stride above it).
const MAX_COLUMNS: usize = 1200;
/// Rows of the kymograph at most (halved, like the line plots, when full).
const MAX_ROWS: usize = 600;
/// Sites per side of a 2-D snapshot at most.
const MAX_SIDE: usize = 400;
/// Snapshots of a 2-D field.
const SNAPSHOTS: u64 = 4;

/// The decimated rows of a field run.
pub struct FieldRows {
    field: String,
    dims: usize,
    /// Site indices kept (1-D: every `stride`-th; 2-D: a sub-grid `nx_kept × ny_kept`).
    sites: Vec<usize>,
    /// Coordinate of the first field at site `s`: `s * fields`.
    fields: usize,
    kept_shape: (usize, usize),
    positions: (f64, f64, f64, f64),
    t: Vec<f64>,
    values: Vec<Vec<f64>>,
    stride: u64,
    seen: u64,
    last: Option<(f64, Vec<f64>)>,
    /// 2-D: the row indices to keep.
    snapshot_rows: Vec<u64>,
}

impl FieldRows {
    /// A collector for `rows` output rows of `system`.
    pub fn new(system: &FieldSystem, rows: u64) -> Self {
        let lattice = system.lattice();
        let a = lattice.spacing();
        let sides = lattice.sites();
        let (sites, kept_shape, positions) = if lattice.dims() == 1 {
            let step = sides[0].div_ceil(MAX_COLUMNS);
            let sites: Vec<usize> = (0..sides[0]).step_by(step).collect();
            let n = sites.len();
            (sites, (n, 1), (0.0, step as f64 * a, 0.0, 0.0))
        } else {
            let (sx, sy) = (sides[0].div_ceil(MAX_SIDE), sides[1].div_ceil(MAX_SIDE));
            let is: Vec<usize> = (0..sides[0]).step_by(sx).collect();
            let js: Vec<usize> = (0..sides[1]).step_by(sy).collect();
            let sites = is
                .iter()
                .flat_map(|&i| js.iter().map(move |&j| (i, j)))
                .map(|(i, j)| lattice.site(i, j))
                .collect();
            (
                sites,
                (is.len(), js.len()),
                (0.0, sx as f64 * a, 0.0, sy as f64 * a),
            )
        };
        let snapshot_rows = if lattice.dims() == 2 {
            let mut r: Vec<u64> = (0..SNAPSHOTS)
                .map(|k| k * rows.saturating_sub(1) / (SNAPSHOTS - 1))
                .collect();
            r.dedup();
            r
        } else {
            Vec::new()
        };
        Self {
            field: system.fields()[0].clone(),
            dims: lattice.dims(),
            sites,
            fields: system.fields().len(),
            kept_shape,
            positions,
            t: Vec::new(),
            values: Vec::new(),
            stride: 1,
            seen: 0,
            last: None,
            snapshot_rows,
        }
    }

    fn sample(&self, q: &[f64]) -> Vec<f64> {
        self.sites.iter().map(|&s| q[s * self.fields]).collect()
    }

    /// Records the row at `t`.
    pub fn push(&mut self, t: f64, q: &[f64]) {
        let index = self.seen;
        self.seen += 1;
        if self.dims == 2 {
            if self.snapshot_rows.contains(&index) {
                self.t.push(t);
                self.values.push(self.sample(q));
            }
            return;
        }
        if index.is_multiple_of(self.stride) && self.t.len() == MAX_ROWS {
            let mut i = 0;
            self.t.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            let mut i = 0;
            self.values.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            self.stride *= 2;
        }
        if index.is_multiple_of(self.stride) {
            self.t.push(t);
            self.values.push(self.sample(q));
            self.last = None;
        } else {
            self.last = Some((t, self.sample(q)));
        }
    }

    /// Draws the kymograph (1-D) or the snapshots (2-D).
    pub fn render(mut self, title: &str, path: &Path, kind: PlotKind) -> Result<()> {
        if let Some((t, v)) = self.last.take() {
            self.t.push(t);
            self.values.push(v);
        }
        let (x0, dx, y0, dy) = self.positions;
        if self.dims == 1 {
            let x: Vec<f64> = (0..self.kept_shape.0).map(|c| x0 + c as f64 * dx).collect();
            let k = Kymograph {
                field: &self.field,
                x: &x,
                t: &self.t,
                values: &self.values,
            };
            return plot_field::kymograph(&k, title, path, kind);
        }
        let (nx, ny) = self.kept_shape;
        let shots: Vec<Snapshot<'_>> = self
            .t
            .iter()
            .zip(&self.values)
            .map(|(&t, values)| Snapshot {
                t,
                nx,
                ny,
                x0,
                dx,
                y0,
                dy,
                values,
            })
            .collect();
        plot_field::snapshots(&self.field, &shots, title, path, kind)
    }
}
