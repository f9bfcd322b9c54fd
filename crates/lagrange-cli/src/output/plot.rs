//! One figure, three panels: coordinates vs time (top), phase portraits q vs dq/dt (bottom left),
//! and the energy error |E − E₀|/|E₀| on a log scale (bottom right; the absolute error
//! |E − E₀| when E₀ = 0, as its axis label then says).
//!
//! Drawn with `plotters` through its pure-Rust `ab_glyph` text path and a bundled DejaVu Sans,
//! so no system font libraries are needed. PNG or SVG by the file extension.

use super::{PlotKind, Table};
use anyhow::{Result, anyhow};
use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::{FontStyle, RGBColor};
use std::ops::Range;
use std::path::Path;
use std::sync::Once;

/// DejaVu Sans (Bitstream Vera license, see `assets/DejaVuSans-LICENSE.txt`).
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
/// The font family of every figure's text.
pub(super) const FAMILY: &str = "sans-serif";

const WIDTH: u32 = 1500;
const HEIGHT: u32 = 1100;
/// Points drawn per series at most (the data are strided down to this).
const MAX_POINTS: usize = 5000;
/// Series named in a legend at most.
const MAX_LEGEND: usize = 12;

/// Tableau 10.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Registers the bundled font for every family name the figure uses (once per process).
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for family in [FAMILY, "serif", "monospace"] {
            for style in [FontStyle::Normal, FontStyle::Bold] {
                // The font is compiled in and known to parse; a failure only loses text.
                let _ = plotters::style::register_font(family, style, FONT);
            }
        }
    });
}

/// What the figure says about the run.
pub struct Labels<'a> {
    /// Figure title (system and integrator).
    pub title: &'a str,
    /// Whether energy is expected to be conserved (no dissipation, no explicit time
    /// dependence); otherwise the last panel is titled "energy change".
    pub conservative: bool,
}

/// Draws the figure for `table` into `path` (a PNG or SVG file, per `kind`).
pub fn render(table: &Table<'_>, labels: &Labels<'_>, path: &Path, kind: PlotKind) -> Result<()> {
    register_fonts();
    let size = (WIDTH, HEIGHT);
    let result = match kind {
        PlotKind::Png => {
            let root = BitMapBackend::new(path, size).into_drawing_area();
            draw(&root, table, labels).map_err(|e| anyhow!("{e}"))?;
            root.present().map_err(|e| anyhow!("{e}"))
        }
        PlotKind::Svg => {
            let root = SVGBackend::new(path, size).into_drawing_area();
            draw(&root, table, labels).map_err(|e| anyhow!("{e}"))?;
            root.present().map_err(|e| anyhow!("{e}"))
        }
    };
    result.map_err(|e| e.context("drawing the plot"))
}

/// A drawing error on backend `DB`.
pub(super) type DrawError<DB> = DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>;
/// What drawing on backend `DB` returns.
pub(super) type DrawResult<DB> = Result<(), DrawError<DB>>;

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    table: &Table<'_>,
    labels: &Labels<'_>,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let root = root.margin(14, 6, 6, 18);
    let root = root.titled(labels.title, (FAMILY, 30).into_font().color(&BLACK))?;
    let (w, h) = root.dim_in_pixel();
    let (top, bottom) = root.split_vertically(h as i32 * 47 / 100);
    let (left, right) = bottom.split_horizontally(w as i32 / 2);
    let step = table.len().div_ceil(MAX_POINTS).max(1);
    let rows: Vec<usize> = (0..table.len())
        .step_by(step)
        .chain(last(table.len(), step))
        .collect();
    coordinates_panel(&top, table, &rows)?;
    phase_panel(&left, table, &rows)?;
    energy_panel(&right, table, &rows, labels.conservative)?;
    Ok(())
}

/// The last row, when striding skipped it.
fn last(len: usize, step: usize) -> Option<usize> {
    let end = len.checked_sub(1)?;
    (end / step * step != end).then_some(end)
}

fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// `[lo, hi]` of the finite values, widened by 5 % (or to a unit interval when flat).
fn span(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !(lo.is_finite() && hi.is_finite()) {
        return (-1.0, 1.0);
    }
    let width = hi - lo;
    if width <= 1e-12 * lo.abs().max(hi.abs()).max(1e-300) {
        let pad = if lo == 0.0 { 1.0 } else { 0.1 * lo.abs() };
        return (lo - pad, hi + pad);
    }
    (lo - 0.05 * width, hi + 0.05 * width)
}

fn time_span(table: &Table<'_>) -> (f64, f64) {
    let t0 = table.t.first().copied().unwrap_or(0.0);
    let t1 = table.t.last().copied().unwrap_or(1.0);
    if t1 > t0 { (t0, t1) } else { (t0, t0 + 1.0) }
}

/// Tick labels for an axis spanning `[lo, hi]`: compact, and exactly "0" for values that are
/// zero up to the rounding of the tick positions.
fn ticks(lo: f64, hi: f64) -> impl Fn(&f64) -> String {
    let scale = lo.abs().max(hi.abs());
    move |v: &f64| {
        let a = v.abs();
        if a <= 1e-9 * scale || a == 0.0 {
            "0".to_string()
        } else if !(1e-3..1e5).contains(&a) {
            format!("{v:.1e}")
        } else {
            let s = format!("{v:.4}");
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        }
    }
}

fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> DrawResult<DB> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FAMILY, 17))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
}

/// A chart over `X` × `Y` (by default, numbers on both axes).
pub(super) type Chart<'a, DB, X = RangedCoordf64, Y = RangedCoordf64> =
    ChartContext<'a, DB, Cartesian2d<X, Y>>;

/// A panel's chart over `x` × `y`, with its caption and the margin and label areas every panel
/// has.
fn panel<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: &str,
    x: Range<f64>,
    y: Range<f64>,
) -> Result<Chart<'a, DB>, DrawError<DB>> {
    ChartBuilder::on(area)
        .caption(caption, (FAMILY, 22))
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(85)
        .build_cartesian_2d(x, y)
}

/// The axes of a chart, described and with the label fonts of every figure (here and in
/// `plot_learn`); the caller adds the tick labels and draws them.
pub(super) fn axes<'a, 'b, DB, X, Y>(
    chart: &'b mut Chart<'a, DB, X, Y>,
    x_desc: &str,
    y_desc: &str,
) -> MeshStyle<'a, 'b, X, Y, DB>
where
    DB: DrawingBackend,
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
{
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(x_desc)
        .y_desc(y_desc)
        .label_style((FAMILY, 16))
        .axis_desc_style((FAMILY, 18));
    mesh
}

/// The axes of a panel: [`axes`] with a faint grid.
fn mesh<'a, 'b, DB: DrawingBackend>(
    chart: &'b mut Chart<'a, DB>,
    x_desc: &str,
    y_desc: &str,
) -> MeshStyle<'a, 'b, RangedCoordf64, RangedCoordf64, DB> {
    let mut mesh = axes(chart, x_desc, y_desc);
    mesh.light_line_style(BLACK.mix(0.04))
        .bold_line_style(BLACK.mix(0.12));
    mesh
}

/// The legend entry of a series drawn in colour `c`: a short thick line.
fn swatch(c: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3))
}

fn coordinates_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    table: &Table<'_>,
    rows: &[usize],
) -> DrawResult<DB> {
    let (t0, t1) = time_span(table);
    let (lo, hi) = span(rows.iter().flat_map(|&i| table.q[i].iter().copied()));
    let (fx, fy) = (ticks(t0, t1), ticks(lo, hi));
    let mut chart = panel(area, "Coordinates q(t)", t0..t1, lo..hi)?;
    mesh(&mut chart, "time t", "q")
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .draw()?;
    for (k, name) in table.coordinates.iter().enumerate() {
        let c = color(k);
        let series = chart.draw_series(LineSeries::new(
            rows.iter().map(|&i| (table.t[i], table.q[i][k])),
            c.stroke_width(1),
        ))?;
        if k < MAX_LEGEND {
            series.label(name.as_str()).legend(swatch(c));
        }
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

fn phase_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    table: &Table<'_>,
    rows: &[usize],
) -> DrawResult<DB> {
    let (xlo, xhi) = span(rows.iter().flat_map(|&i| table.q[i].iter().copied()));
    let (ylo, yhi) = span(rows.iter().flat_map(|&i| table.q_dot[i].iter().copied()));
    let (fx, fy) = (ticks(xlo, xhi), ticks(ylo, yhi));
    let mut chart = panel(area, "Phase portrait", xlo..xhi, ylo..yhi)?;
    mesh(&mut chart, "q", "dq/dt")
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .x_labels(7)
        .draw()?;
    for (k, name) in table.coordinates.iter().enumerate() {
        let c = color(k);
        // mark the start
        if let Some(&i) = rows.first() {
            chart.draw_series(std::iter::once(Circle::new(
                (table.q[i][k], table.q_dot[i][k]),
                5,
                c.filled(),
            )))?;
        }
        let series = chart.draw_series(LineSeries::new(
            rows.iter().map(|&i| (table.q[i][k], table.q_dot[i][k])),
            c.stroke_width(1),
        ))?;
        if k < MAX_LEGEND {
            series
                .label(format!("{name}_dot vs {name}"))
                .legend(swatch(c));
        }
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

fn energy_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    table: &Table<'_>,
    rows: &[usize],
    conservative: bool,
) -> DrawResult<DB> {
    let (t0, t1) = time_span(table);
    if table.energy.iter().all(|e| e.is_nan()) {
        // no Lagrangian (a `baseline` model): say so instead of an empty panel
        area.draw(&Text::new(
            "no energy: this model has no Lagrangian",
            (30, 40),
            (FAMILY, 22).into_font().color(&BLACK),
        ))?;
        return Ok(());
    }
    let e0 = table.energy.first().copied().unwrap_or(0.0);
    let relative = e0 != 0.0 && e0.is_finite();
    let error = |i: usize| {
        let d = (table.energy[i] - e0).abs();
        if relative { d / e0.abs() } else { d }
    };
    let points: Vec<(f64, f64)> = rows
        .iter()
        .map(|&i| (table.t[i], error(i)))
        .filter(|(_, e)| e.is_finite() && *e > 0.0)
        .collect();
    // Drawn as log10 on a linear axis with a tick per decade: plotters' own log axis labels
    // few decades and does not clip lines to the panel.
    let (mut lo, mut hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(_, e)| {
            (lo.min(e.log10()), hi.max(e.log10()))
        });
    if points.is_empty() {
        (lo, hi) = (-17.0, -15.0);
    }
    hi = hi.ceil();
    // At most 12 decades: errors far below the largest are rounding noise; clamp them.
    lo = lo.floor().max(hi - 12.0);
    if hi <= lo {
        hi = lo + 1.0;
    }
    let points: Vec<(f64, f64)> = points
        .into_iter()
        .map(|(t, e)| (t, e.log10().clamp(lo, hi)))
        .collect();
    let decades = (hi - lo).round() as usize;
    let fx = ticks(t0, t1);
    let what = if conservative {
        "Energy error"
    } else {
        "Energy change (E not conserved)"
    };
    let y_desc = if relative {
        "|E − E₀| / |E₀|"
    } else {
        "|E − E₀|  (absolute: E₀ = 0)"
    };
    let mut chart = panel(area, what, t0..t1, lo..hi)?;
    mesh(&mut chart, "time t", y_desc)
        .x_label_formatter(&fx)
        .y_labels(decades + 1)
        .y_label_formatter(&|v| format!("1e{}", v.round()))
        .draw()?;
    if points.is_empty() {
        let grey = BLACK.mix(0.7);
        let style = TextStyle::from((FAMILY, 18).into_font()).color(&grey);
        let (w, h) = area.dim_in_pixel();
        area.draw_text(
            "E is constant to the last bit (error exactly 0)",
            &style,
            (w as i32 / 4, h as i32 / 2),
        )?;
    } else {
        let c = PALETTE[3];
        chart
            .draw_series(LineSeries::new(points, c.stroke_width(1)))?
            .label(match (relative, conservative) {
                (true, true) => "relative error",
                (false, true) => "absolute error",
                (true, false) => "relative change",
                (false, false) => "absolute change",
            })
            .legend(swatch(c));
        legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    }
    Ok(())
}
