//! Figures of lattice fields: the space–time heatmap (kymograph) of a 1-D field and snapshots of
//! a 2-D field side by side. PNG or SVG by extension.
//!
//! The colour scale is diverging (blue–white–red, centred at 0) when the values take both signs
//! with comparable magnitude, otherwise viridis; non-finite values are grey. In a PNG the field is
//! rasterised straight into the pixels of the plotting area (nearest cell per pixel), so the cost
//! does not depend on the grid size; an SVG gets one rectangle per run of equal colour, on a grid
//! block-averaged down to at most [`SVG_CELLS`] cells.

use super::PlotKind;
use super::style::{
    self, BAR_WIDTH, Chart, DrawResult, FAMILY, FIELD, MARGIN, aligned, axes, piecewise_linear,
    render, tick, viridis,
};
use anyhow::{Result, bail};
use plotters::coord::{ReverseCoordTranslate, Shift};
use plotters::element::BitMapElement;
use plotters::prelude::*;
use std::collections::HashMap;
use std::path::Path;

/// Non-finite values.
const NAN_GREY: RGBColor = RGBColor(150, 150, 150);
/// Cells of an SVG raster at most (before runs of equal colour are merged).
const SVG_CELLS: usize = 60_000;
/// The smaller side's magnitude over the larger one's from which values of both signs get the
/// diverging map.
const COMPARABLE: f64 = 0.2;
/// Snapshots per figure at most.
const MAX_SNAPSHOTS: usize = 6;

/// A 1-D field's values on a (decimated) space-time grid: `values[r][c]` is the field at
/// position `x[c]` and time `t[r]` (rows in increasing t, columns in increasing x).
pub struct Kymograph<'a> {
    pub field: &'a str,
    pub x: &'a [f64],
    pub t: &'a [f64],
    pub values: &'a [Vec<f64>],
}

/// A 2-D field at one time: `values[i * ny + j]` at x = x0 + i*dx, y = y0 + j*dy.
pub struct Snapshot<'a> {
    pub t: f64,
    pub nx: usize,
    pub ny: usize,
    pub x0: f64,
    pub dx: f64,
    pub y0: f64,
    pub dy: f64,
    pub values: &'a [f64],
}

/// Value → colour.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scale {
    lo: f64,
    hi: f64,
    /// Blue–white–red around 0 (then `lo == -hi`); otherwise viridis.
    diverging: bool,
}

impl Scale {
    /// The scale of `values` (non-finite ones ignored): diverging over `[-m, m]` when both signs
    /// reach at least [`COMPARABLE`] of the largest magnitude `m`, otherwise viridis over
    /// `[min, max]`, widened when flat.
    fn of(values: impl IntoIterator<Item = f64>) -> Self {
        let (lo, hi) = values
            .into_iter()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        if !(lo.is_finite() && hi.is_finite()) {
            return Self {
                lo: 0.0,
                hi: 1.0,
                diverging: false,
            };
        }
        let big = lo.abs().max(hi.abs());
        if hi - lo <= 1e-12 * big {
            let pad = if big > 0.0 { 0.1 * big } else { 1.0 };
            return Self {
                lo: lo - pad,
                hi: hi + pad,
                diverging: false,
            };
        }
        if lo < 0.0 && hi > 0.0 && (-lo).min(hi) >= COMPARABLE * big {
            return Self {
                lo: -big,
                hi: big,
                diverging: true,
            };
        }
        Self {
            lo,
            hi,
            diverging: false,
        }
    }

    fn colour(&self, v: f64) -> RGBColor {
        if !v.is_finite() {
            return NAN_GREY;
        }
        let x = (v - self.lo) / (self.hi - self.lo);
        if self.diverging {
            diverging(x)
        } else {
            viridis(x)
        }
    }
}

/// ColorBrewer RdBu reversed (blue for negative, red for positive), piecewise linear through 11
/// anchors; `x` in [0, 1], 0.5 is white.
fn diverging(x: f64) -> RGBColor {
    const A: [(u8, u8, u8); 11] = [
        (5, 48, 97),
        (33, 102, 172),
        (67, 147, 195),
        (146, 197, 222),
        (209, 229, 240),
        (247, 247, 247),
        (253, 219, 199),
        (244, 165, 130),
        (214, 96, 77),
        (178, 24, 43),
        (103, 0, 31),
    ];
    piecewise_linear(&A, if x.is_finite() { x } else { 0.5 })
}

/// A field on a rectangular grid of cells: row `r` spans `y[r]..y[r + 1]`, column `c` spans
/// `x[c]..x[c + 1]` (edges non-decreasing).
struct Grid<'a> {
    x: Vec<f64>,
    y: Vec<f64>,
    value: Box<dyn Fn(usize, usize) -> f64 + 'a>,
}

impl Grid<'_> {
    fn cols(&self) -> usize {
        self.x.len() - 1
    }
    fn rows(&self) -> usize {
        self.y.len() - 1
    }
    fn x_range(&self) -> std::ops::Range<f64> {
        self.x[0]..self.x[self.cols()]
    }
    fn y_range(&self) -> std::ops::Range<f64> {
        self.y[0]..self.y[self.rows()]
    }
}

/// Cell edges around the centres `c` (finite, non-decreasing, not empty): midpoints between
/// neighbours, half a spacing beyond the ends; a lone centre or a flat run gets width `unit`.
fn edges(c: &[f64], what: &str, unit: f64) -> Result<Vec<f64>> {
    if c.is_empty() {
        bail!("nothing to plot: no {what} values");
    }
    if c.iter().any(|v| !v.is_finite()) || c.windows(2).any(|w| w[1] < w[0]) {
        bail!("the {what} values must be finite and increasing");
    }
    let n = c.len();
    if c[n - 1] == c[0] {
        return Ok(vec![c[0] - unit / 2.0, c[0] + unit / 2.0]);
    }
    let mut e = Vec::with_capacity(n + 1);
    e.push(c[0] - (c[1] - c[0]) / 2.0);
    e.extend(c.windows(2).map(|w| (w[0] + w[1]) / 2.0));
    e.push(c[n - 1] + (c[n - 1] - c[n - 2]) / 2.0);
    Ok(e)
}

/// The index of the cell of `edges` holding `v` (clamped to the grid).
fn cell(edges: &[f64], v: f64) -> usize {
    edges
        .partition_point(|e| *e <= v)
        .saturating_sub(1)
        .min(edges.len() - 2)
}

/// Draws `grid` in `scale` into the plotting area of `chart` (whose ranges are the grid's).
fn draw_grid<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    grid: &Grid<'_>,
    scale: &Scale,
    kind: PlotKind,
) -> DrawResult<DB> {
    match kind {
        PlotKind::Png => draw_pixels(chart, grid, scale),
        PlotKind::Svg => draw_runs(chart, grid, scale),
    }
}

/// Rasterises `grid` straight into the pixels of the plotting area: every pixel takes the colour
/// of the cell under its centre.
fn draw_pixels<DB: DrawingBackend>(
    chart: &Chart<'_, DB>,
    grid: &Grid<'_>,
    scale: &Scale,
) -> DrawResult<DB> {
    let area = chart.plotting_area();
    let (px, py) = area.get_pixel_range();
    let (w, h) = ((px.end - px.start).max(0), (py.end - py.start).max(0));
    if w == 0 || h == 0 {
        return Ok(());
    }
    let coord = chart.as_coord_spec();
    let at = |x: i32, y: i32| coord.reverse_translate((x, y));
    let columns: Vec<usize> = (px.start..px.end)
        .map(|x| at(x, py.start).map_or(0, |p| cell(&grid.x, p.0)))
        .collect();
    let rows: Vec<usize> = (py.start..py.end)
        .map(|y| at(px.start, y).map_or(0, |p| cell(&grid.y, p.1)))
        .collect();
    let mut buffer = Vec::with_capacity(w as usize * h as usize * 3);
    for &r in &rows {
        for &c in &columns {
            let RGBColor(red, green, blue) = scale.colour((grid.value)(r, c));
            buffer.extend_from_slice(&[red, green, blue]);
        }
    }
    let image = BitMapElement::with_owned_buffer((0, 0), (w as u32, h as u32), buffer)
        .expect("the buffer holds w × h RGB pixels");
    area.strip_coord_spec().draw(&image)
}

/// A run of equal colour along a row of cells: first column, end column, colour.
type Run = (usize, usize, (u8, u8, u8));

/// Draws `grid` as rectangles, block-averaged down to at most [`SVG_CELLS`] cells (and about one
/// per pixel), merging runs of equal colour along rows and identical runs across rows. A block
/// with a non-finite value is drawn grey, so that a blow-up stays visible.
fn draw_runs<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    grid: &Grid<'_>,
    scale: &Scale,
) -> DrawResult<DB> {
    let (nc, nr) = (grid.cols(), grid.rows());
    let (px, py) = chart.plotting_area().get_pixel_range();
    let mut fc = nc.div_ceil((px.end - px.start).max(1) as usize).max(1);
    let mut fr = nr.div_ceil((py.end - py.start).max(1) as usize).max(1);
    while nc.div_ceil(fc) * nr.div_ceil(fr) > SVG_CELLS {
        if nc.div_ceil(fc) >= nr.div_ceil(fr) {
            fc += 1;
        } else {
            fr += 1;
        }
    }
    let (bc, br) = (nc.div_ceil(fc), nr.div_ceil(fr));
    let block = |r: usize, c: usize| -> f64 {
        let (mut sum, mut n) = (0.0, 0usize);
        for i in r * fr..((r + 1) * fr).min(nr) {
            for j in c * fc..((c + 1) * fc).min(nc) {
                let v = (grid.value)(i, j);
                if !v.is_finite() {
                    return f64::NAN;
                }
                sum += v;
                n += 1;
            }
        }
        sum / n as f64
    };
    let x_edge = |c: usize| grid.x[(c * fc).min(nc)];
    let y_edge = |r: usize| grid.y[(r * fr).min(nr)];
    // open rectangles: (first column, end column, colour) → first row
    let mut open: HashMap<Run, usize> = HashMap::new();
    let mut done: Vec<(usize, usize, usize, usize, RGBColor)> = Vec::new();
    for r in 0..=br {
        let mut runs = Vec::new();
        if r < br {
            let mut start = 0;
            let mut colour = scale.colour(block(r, 0));
            for c in 1..=bc {
                let next = if c < bc {
                    Some(scale.colour(block(r, c)))
                } else {
                    None
                };
                if next != Some(colour) {
                    runs.push((start, c, (colour.0, colour.1, colour.2)));
                    if let Some(n) = next {
                        (start, colour) = (c, n);
                    }
                }
            }
        }
        let mut next_open = HashMap::with_capacity(runs.len());
        for key in runs {
            let first = open.remove(&key).unwrap_or(r);
            next_open.insert(key, first);
        }
        for ((c0, c1, (red, green, blue)), r0) in open.drain() {
            done.push((c0, c1, r0, r, RGBColor(red, green, blue)));
        }
        open = next_open;
    }
    chart.draw_series(done.into_iter().map(|(c0, c1, r0, r1, colour)| {
        Rectangle::new(
            [(x_edge(c0), y_edge(r0)), (x_edge(c1), y_edge(r1))],
            colour.filled(),
        )
    }))?;
    Ok(())
}

/// Tick labels for an axis over `[lo, hi]`: [`tick`] for axes of ordinary magnitude, otherwise
/// all in scientific notation (so that one axis does not mix `0.0015` with `5.0e-4`); values that
/// are zero up to the rounding of the tick positions print as "0".
fn ticks(lo: f64, hi: f64) -> impl Fn(&f64) -> String {
    let scale = lo.abs().max(hi.abs());
    let scientific = !(1e-2..1e4).contains(&scale);
    move |v: &f64| {
        if v.abs() <= 1e-9 * scale {
            "0".to_string()
        } else if scientific {
            let s = format!("{v:.2e}");
            let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
            let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
            format!("{mantissa}e{exponent}")
        } else {
            tick(*v)
        }
    }
}

/// A vertical colour bar of `scale` with its axis titled `label`, `insets` (top, bottom) pixels
/// short of the area's edges (to line up with the plotting area of the figure).
fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    scale: &Scale,
    label: &str,
    insets: (u32, u32),
) -> DrawResult<DB> {
    let f = ticks(scale.lo, scale.hi);
    style::colour_bar(
        area,
        (scale.lo, scale.hi),
        label,
        insets,
        &|v| scale.colour(v),
        &f,
    )
}

/// Space–time heatmap (kymograph): x horizontal, t vertical (upwards), colour = field value,
/// a colour bar labelled with the field name. A diverging map centred at 0 when the values take
/// both signs with comparable magnitude, otherwise viridis. Title `title`.
pub fn kymograph(k: &Kymograph<'_>, title: &str, path: &Path, kind: PlotKind) -> Result<()> {
    if k.values.len() != k.t.len() {
        bail!(
            "kymograph: {} rows of values for {} times",
            k.values.len(),
            k.t.len()
        );
    }
    if let Some(row) = k.values.iter().find(|row| row.len() != k.x.len()) {
        bail!(
            "kymograph: a row of {} values for {} positions",
            row.len(),
            k.x.len()
        );
    }
    let grid = Grid {
        x: edges(k.x, "position", 1.0)?,
        y: edges(k.t, "time", 1.0)?,
        value: Box::new(|r, c| k.values[r][c]),
    };
    let scale = Scale::of(k.values.iter().flatten().copied());
    let (xr, yr) = (grid.x_range(), grid.y_range());
    let (fx, fy) = (ticks(xr.start, xr.end), ticks(yr.start, yr.end));
    const X_LABELS: u32 = 55;
    render!(path, kind, FIELD, |root| {
        let root = style::titled(root, title)?;
        let (w, _) = root.dim_in_pixel();
        let (main, bar) = root.split_horizontally(w as i32 - BAR_WIDTH as i32);
        let mut chart = ChartBuilder::on(&main)
            .margin(MARGIN)
            .margin_right(6)
            .x_label_area_size(X_LABELS)
            .y_label_area_size(75)
            .build_cartesian_2d(xr.clone(), yr.clone())?;
        draw_grid(&mut chart, &grid, &scale, kind)?;
        axes(&mut chart, "x", "t")
            .disable_mesh()
            .x_labels(10)
            .y_labels(10)
            .x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .draw()?;
        let (_, rows) = chart.plotting_area().get_pixel_range();
        colour_bar(&bar, &scale, k.field, aligned(rows, &bar))?;
    })
}

/// The layout of one snapshot panel: the margins (top, bottom, left, right) that centre its
/// plotting area, of the domain's aspect, in its cell of the figure.
struct Panel {
    margins: (u32, u32, u32, u32),
}

/// Caption height above each panel.
const CAPTION: u32 = 36;
/// Tick-label areas of a panel.
const PANEL_X_LABELS: u32 = 45;
const PANEL_Y_LABELS: u32 = 70;
/// Least margin around a panel.
const PANEL_MARGIN: u32 = 12;

impl Panel {
    /// The panel of a domain `lx × ly` in a cell `w × h` (caption included), plotting area of
    /// aspect `ly / lx`, as large as fits, centred.
    fn fit(lx: f64, ly: f64, (w, h): (u32, u32)) -> Self {
        let aw = w.saturating_sub(PANEL_Y_LABELS + 2 * PANEL_MARGIN).max(1) as f64;
        let ah = h
            .saturating_sub(CAPTION + PANEL_X_LABELS + 2 * PANEL_MARGIN)
            .max(1) as f64;
        let aspect = if lx > 0.0 && ly > 0.0 { ly / lx } else { 1.0 };
        let (pw, ph) = if aw * aspect <= ah {
            (aw, aw * aspect)
        } else {
            (ah / aspect, ah)
        };
        let (sx, sy) = ((aw - pw).max(0.0) as u32, (ah - ph).max(0.0) as u32);
        Self {
            margins: (
                PANEL_MARGIN + sy / 2,
                PANEL_MARGIN + sy - sy / 2,
                PANEL_MARGIN + sx / 2,
                PANEL_MARGIN + sx - sx / 2,
            ),
        }
    }
}

/// The figure size and grid `(columns, rows)` of `n` snapshots of a domain `lx × ly`.
fn snapshot_layout(n: usize, lx: f64, ly: f64) -> ((u32, u32), (usize, usize)) {
    let (cols, rows) = if n <= 3 { (n, 1) } else { (n.div_ceil(2), 2) };
    let cell_w: u32 = match cols {
        1 => 700,
        2 => 560,
        _ => 460,
    };
    let overhead_w = PANEL_Y_LABELS + 2 * PANEL_MARGIN;
    let aspect = if lx > 0.0 && ly > 0.0 { ly / lx } else { 1.0 };
    let mut plot_w = (cell_w - overhead_w) as f64;
    let mut plot_h = plot_w * aspect;
    if plot_h > 650.0 {
        // a tall domain: narrower panels, not wide empty margins
        plot_h = 650.0;
        plot_w = (plot_h / aspect).max(160.0);
    }
    let plot_h = plot_h.max(150.0);
    let cell_w = plot_w.ceil() as u32 + overhead_w;
    let cell_h = plot_h.ceil() as u32 + CAPTION + PANEL_X_LABELS + 2 * PANEL_MARGIN;
    let width = cols as u32 * cell_w + BAR_WIDTH;
    let height = rows as u32 * cell_h + 50;
    ((width, height), (cols, rows))
}

/// Snapshots of a 2-D field side by side (1 to 6 panels, each titled "t = …"), one shared colour
/// scale and colour bar labelled with `field`; x horizontal, y vertical, equal aspect per panel.
/// Up to 3 panels sit in one row, 4 to 6 in two rows.
pub fn snapshots(
    field: &str,
    shots: &[Snapshot<'_>],
    title: &str,
    path: &Path,
    kind: PlotKind,
) -> Result<()> {
    if shots.is_empty() || shots.len() > MAX_SNAPSHOTS {
        bail!(
            "snapshots: {} panels (expected 1 to {MAX_SNAPSHOTS})",
            shots.len()
        );
    }
    for s in shots {
        if s.nx == 0 || s.ny == 0 || s.values.len() != s.nx * s.ny {
            bail!(
                "snapshot at t = {}: {} values for a {} × {} grid",
                s.t,
                s.values.len(),
                s.nx,
                s.ny
            );
        }
        let fine = |v: f64| v.is_finite() && v > 0.0;
        if !(fine(s.dx) && fine(s.dy) && s.x0.is_finite() && s.y0.is_finite()) {
            bail!("snapshot at t = {}: the grid needs dx, dy > 0", s.t);
        }
    }
    let scale = Scale::of(shots.iter().flat_map(|s| s.values.iter().copied()));
    let grids: Vec<Grid<'_>> = shots
        .iter()
        .map(|s| Grid {
            x: (0..=s.nx).map(|i| s.x0 + (i as f64 - 0.5) * s.dx).collect(),
            y: (0..=s.ny).map(|j| s.y0 + (j as f64 - 0.5) * s.dy).collect(),
            value: Box::new(|r, c| s.values[c * s.ny + r]),
        })
        .collect();
    let first = &shots[0];
    let (lx, ly) = (first.nx as f64 * first.dx, first.ny as f64 * first.dy);
    let (size, (cols, rows)) = snapshot_layout(shots.len(), lx, ly);
    render!(path, kind, size, |root| {
        let root = style::titled(root, title)?;
        let (w, _) = root.dim_in_pixel();
        let (main, bar) = root.split_horizontally(w as i32 - BAR_WIDTH as i32);
        let cells = main.split_evenly((rows, cols));
        let cell_size = cells[0].dim_in_pixel();
        for ((shot, grid), cell) in shots.iter().zip(&grids).zip(&cells) {
            let (xr, yr) = (grid.x_range(), grid.y_range());
            let panel = Panel::fit(xr.end - xr.start, yr.end - yr.start, cell.dim_in_pixel());
            let (caption, body) = cell.split_vertically(CAPTION as i32);
            let (top, bottom, left, right) = panel.margins;
            let (fx, fy) = (ticks(xr.start, xr.end), ticks(yr.start, yr.end));
            let mut chart = ChartBuilder::on(&body)
                .margin_top(top)
                .margin_bottom(bottom)
                .margin_left(left)
                .margin_right(right)
                .x_label_area_size(PANEL_X_LABELS)
                .y_label_area_size(PANEL_Y_LABELS)
                .build_cartesian_2d(xr.clone(), yr.clone())?;
            draw_grid(&mut chart, grid, &scale, kind)?;
            axes(&mut chart, "x", "y")
                .disable_mesh()
                .x_labels(5)
                .y_labels(6)
                .x_label_formatter(&fx)
                .y_label_formatter(&fy)
                .draw()?;
            // the caption centred over the plotting area
            let (px, _) = chart.plotting_area().get_pixel_range();
            let (cx, _) = caption.get_base_pixel();
            let centre = (px.start + px.end) / 2 - cx;
            let style = TextStyle::from((FAMILY, 20).into_font()).pos(
                plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Bottom,
                ),
            );
            caption.draw_text(
                &format!("t = {}", tick(shot.t)),
                &style,
                (
                    centre,
                    CAPTION as i32 - 4 + top as i32 - PANEL_MARGIN as i32,
                ),
            )?;
        }
        // the bar spans the plotting areas from the first row's top to the last row's bottom
        let first = Panel::fit(lx, ly, cell_size);
        let bar_top = CAPTION + first.margins.0;
        let bar_bottom = first.margins.1 + PANEL_X_LABELS;
        colour_bar(&bar, &scale, field, (bar_top, bar_bottom))?;
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn gaussian_kymograph(nx: usize, nt: usize) -> (Vec<f64>, Vec<f64>, Vec<Vec<f64>>) {
        let x: Vec<f64> = (0..nx).map(|i| i as f64 * 20.0 / nx as f64).collect();
        let t: Vec<f64> = (0..nt).map(|r| r as f64 * 10.0 / nt as f64).collect();
        let values = t
            .iter()
            .map(|t| {
                x.iter()
                    .map(|x| (-((x - 3.0 - 1.2 * t) / 1.0_f64).powi(2)).exp())
                    .collect()
            })
            .collect();
        (x, t, values)
    }

    fn check(path: &Path, kind: PlotKind) {
        let bytes = std::fs::read(path).expect("the figure is written");
        match kind {
            PlotKind::Png => assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n")),
            PlotKind::Svg => assert!(String::from_utf8_lossy(&bytes).contains("<svg")),
        }
    }

    /// Where the figures go: `$LAGRANGE_PLOT_FIELD_DIR` keeps them for a look, otherwise a
    /// temporary directory, removed when the guard drops.
    fn out_dir() -> (Option<tempfile::TempDir>, std::path::PathBuf) {
        match std::env::var_os("LAGRANGE_PLOT_FIELD_DIR") {
            Some(d) => {
                std::fs::create_dir_all(&d).unwrap();
                (None, d.into())
            }
            None => {
                let t = tempfile::tempdir().unwrap();
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        }
    }

    #[test]
    fn kymograph_of_a_travelling_gaussian() {
        let (_guard, dir) = out_dir();
        let (x, t, values) = gaussian_kymograph(200, 120);
        let k = Kymograph {
            field: "phi",
            x: &x,
            t: &t,
            values: &values,
        };
        for (name, kind) in [
            ("kymograph.png", PlotKind::Png),
            ("kymograph.svg", PlotKind::Svg),
        ] {
            let path = dir.join(name);
            kymograph(&k, "travelling Gaussian", &path, kind).unwrap();
            check(&path, kind);
        }
    }

    #[test]
    fn three_snapshots() {
        let (_guard, dir) = out_dir();
        let (nx, ny) = (80, 60);
        let (dx, dy) = (0.1, 0.1);
        let fields: Vec<Vec<f64>> = [0.0, 1.0, 2.0]
            .iter()
            .map(|t| {
                (0..nx * ny)
                    .map(|k| {
                        let (i, j) = (k / ny, k % ny);
                        let (x, y) = (i as f64 * dx - 4.0, j as f64 * dy - 3.0);
                        (x * 2.0 - t).sin() * (-(y * y) / 2.0).exp()
                    })
                    .collect()
            })
            .collect();
        let shots: Vec<Snapshot<'_>> = fields
            .iter()
            .zip([0.0, 1.0, 2.0])
            .map(|(values, t)| Snapshot {
                t,
                nx,
                ny,
                x0: -4.0,
                dx,
                y0: -3.0,
                dy,
                values,
            })
            .collect();
        for (name, kind) in [
            ("snapshots.png", PlotKind::Png),
            ("snapshots.svg", PlotKind::Svg),
        ] {
            let path = dir.join(name);
            snapshots("psi", &shots, "2-D wave", &path, kind).unwrap();
            check(&path, kind);
        }
    }

    #[test]
    fn five_snapshots_of_a_tall_domain() {
        let (_guard, dir) = out_dir();
        let (nx, ny) = (30, 90);
        let fields: Vec<Vec<f64>> = (0..5)
            .map(|k| {
                (0..nx * ny)
                    .map(|s| {
                        let (i, j) = ((s / ny) as f64, (s % ny) as f64);
                        1e-3 * ((i * 0.3 + j * 0.1 - k as f64).cos() + 0.5)
                    })
                    .collect()
            })
            .collect();
        let shots: Vec<Snapshot<'_>> = fields
            .iter()
            .enumerate()
            .map(|(k, values)| Snapshot {
                t: 0.25 * k as f64,
                nx,
                ny,
                x0: 0.0,
                dx: 0.5,
                y0: 0.0,
                dy: 0.5,
                values,
            })
            .collect();
        let path = dir.join("snapshots5.png");
        snapshots(
            "energy density",
            &shots,
            "five panels",
            &path,
            PlotKind::Png,
        )
        .unwrap();
        check(&path, PlotKind::Png);
    }

    #[test]
    fn diverging_only_for_comparable_signs() {
        assert!(Scale::of([-1.0, 0.3, 1.0]).diverging);
        assert_eq!(Scale::of([-0.5, 2.0]).lo, -2.0);
        assert!(!Scale::of([0.0, 0.5, 1.0]).diverging);
        assert!(!Scale::of([-0.01, 1.0]).diverging);
        assert!(!Scale::of([-5.0, -1.0]).diverging);
        assert!(!Scale::of([f64::NAN, 1.0, 2.0]).diverging);
        let s = Scale::of([-1.0, f64::INFINITY, 1.0]);
        assert!(s.diverging && s.hi == 1.0);
        assert_eq!(s.colour(f64::NAN), NAN_GREY);
        assert_eq!(s.colour(0.0), RGBColor(247, 247, 247));
    }

    #[test]
    fn tick_labels_are_compact_and_consistent() {
        let small = ticks(-1.5e-3, 1.5e-3);
        assert_eq!(small(&1.5e-3), "1.5e-3");
        assert_eq!(small(&5e-4), "5e-4");
        assert_eq!(small(&1e-3), "1e-3");
        assert_eq!(small(&2e-19), "0");
        let plain = ticks(0.0, 20.0);
        assert_eq!(plain(&2.5), "2.5");
        assert_eq!(plain(&18.0), "18");
    }

    #[test]
    fn degenerate_ranges_do_not_panic() {
        for v in [0.0, 3.5, f64::NAN] {
            let s = Scale::of([v, v]);
            assert!(s.hi > s.lo, "{s:?}");
        }
        let (_guard, dir) = out_dir();
        let x = [0.0, 1.0, 2.0];
        let t = [0.0];
        for (label, row) in [
            ("constant", vec![2.0, 2.0, 2.0]),
            ("nan", vec![f64::NAN, 1.0, f64::INFINITY]),
            ("all_nan", vec![f64::NAN; 3]),
        ] {
            let values = vec![row.clone()];
            let k = Kymograph {
                field: "u",
                x: &x,
                t: &t,
                values: &values,
            };
            let shot = [Snapshot {
                t: 0.0,
                nx: 3,
                ny: 1,
                x0: 0.0,
                dx: 1.0,
                y0: 0.0,
                dy: 1.0,
                values: &row,
            }];
            for (ext, kind) in [("png", PlotKind::Png), ("svg", PlotKind::Svg)] {
                let path = dir.join(format!("degenerate_{label}.{ext}"));
                kymograph(&k, label, &path, kind).unwrap();
                check(&path, kind);
                let path = dir.join(format!("degenerate_{label}_shot.{ext}"));
                snapshots("u", &shot, label, &path, kind).unwrap();
                check(&path, kind);
            }
        }
    }

    #[test]
    fn bad_shapes_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.png");
        let values = vec![vec![1.0, 2.0]];
        let k = Kymograph {
            field: "u",
            x: &[0.0, 1.0, 2.0],
            t: &[0.0],
            values: &values,
        };
        assert!(kymograph(&k, "", &path, PlotKind::Png).is_err());
        assert!(snapshots("u", &[], "", &path, PlotKind::Png).is_err());
    }

    #[test]
    fn a_large_kymograph_renders_quickly() {
        let (_guard, dir) = out_dir();
        let (x, t, values) = gaussian_kymograph(1000, 500);
        let k = Kymograph {
            field: "phi",
            x: &x,
            t: &t,
            values: &values,
        };
        for (name, kind) in [("large.png", PlotKind::Png), ("large.svg", PlotKind::Svg)] {
            let path = dir.join(name);
            let start = Instant::now();
            kymograph(&k, "1000 × 500", &path, kind).unwrap();
            let size = std::fs::metadata(&path).unwrap().len();
            eprintln!("{name}: {:?}, {size} bytes", start.elapsed());
            check(&path, kind);
        }
    }
}
