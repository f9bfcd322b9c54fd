//! One figure, three panels: coordinates vs time (top), phase portraits q vs dq/dt (bottom left),
//! and the energy error |E − E₀|/|E₀| on a log scale (bottom right; the absolute error
//! |E − E₀| when E₀ = 0, as its axis label then says).
//!
//! Drawn with `plotters` through its pure-Rust `ab_glyph` text path and a bundled DejaVu Sans,
//! so no system font libraries are needed. PNG or SVG by the file extension.

use super::style::{
    self, CAPTION_SIZE, Chart, DrawError, DrawResult, FAMILY, LINE, PANELS, VERMILLION, aligned,
    axes, emptiest_corner, fraction, legend, render, series_colour, series_key, swatch,
    uses_colour_map,
};
use super::{PlotKind, Table};
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::ops::Range;
use std::path::Path;

/// Points drawn per series at most (the data are strided down to this).
const MAX_POINTS: usize = 5000;
/// Width of the key column beside the coordinates panel.
const KEY_WIDTH: u32 = 170;

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
    render!(path, kind, PANELS, |root| {
        draw(root, table, labels)?;
    })
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    table: &Table<'_>,
    labels: &Labels<'_>,
) -> DrawResult<DB> {
    let root = root.margin(6, 6, 6, 18);
    let root = style::titled(&root, labels.title)?;
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

/// A panel's chart over `x` × `y`, with its caption and the margin and label areas every panel
/// has.
fn panel<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: &str,
    x: Range<f64>,
    y: Range<f64>,
) -> Result<Chart<'a, DB>, DrawError<DB>> {
    ChartBuilder::on(area)
        .caption(caption, (FAMILY, CAPTION_SIZE))
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(85)
        .build_cartesian_2d(x, y)
}

/// The legend corner of a chart over `x` × `y` holding `points`.
fn corner(
    points: impl Iterator<Item = (f64, f64)>,
    x: (f64, f64),
    y: (f64, f64),
) -> SeriesLabelPosition {
    emptiest_corner(points.map(|(a, b)| (fraction(a, x, false), fraction(b, y, false))))
}

/// q(t) of every coordinate, with the key of the coordinates' colours in a column to its right
/// (outside the data).
fn coordinates_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    table: &Table<'_>,
    rows: &[usize],
) -> DrawResult<DB> {
    let (w, _) = area.dim_in_pixel();
    let (main, key) = area.split_horizontally(w as i32 - KEY_WIDTH as i32);
    let (t0, t1) = time_span(table);
    let (lo, hi) = span(rows.iter().flat_map(|&i| table.q[i].iter().copied()));
    let (fx, fy) = (ticks(t0, t1), ticks(lo, hi));
    let mut chart = panel(&main, "Coordinates q(t)", t0..t1, lo..hi)?;
    axes(&mut chart, "time t", "q")
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .draw()?;
    let n = table.coordinates.len();
    for k in 0..n {
        chart.draw_series(LineSeries::new(
            rows.iter().map(|&i| (table.t[i], table.q[i][k])),
            series_colour(k, n).stroke_width(LINE),
        ))?;
    }
    // the key spans the plotting area's height
    let (_, rows_px) = chart.plotting_area().get_pixel_range();
    series_key(&key, table.coordinates, aligned(rows_px, &key))
}

/// dq/dt against q of every coordinate, a dot at the start; a legend in the emptiest corner
/// (up to the palette's size; past it the colours are those of the key above).
fn phase_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    table: &Table<'_>,
    rows: &[usize],
) -> DrawResult<DB> {
    let n = table.coordinates.len();
    let (xlo, xhi) = span(rows.iter().flat_map(|&i| table.q[i].iter().copied()));
    let (ylo, yhi) = span(rows.iter().flat_map(|&i| table.q_dot[i].iter().copied()));
    let (fx, fy) = (ticks(xlo, xhi), ticks(ylo, yhi));
    let caption = if uses_colour_map(n) {
        "Phase portrait (colours as in the key above)"
    } else {
        "Phase portrait"
    };
    let mut chart = panel(area, caption, xlo..xhi, ylo..yhi)?;
    axes(&mut chart, "q", "dq/dt")
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .x_labels(7)
        .draw()?;
    for (k, name) in table.coordinates.iter().enumerate() {
        let c = series_colour(k, n);
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
            c.stroke_width(LINE),
        ))?;
        if !uses_colour_map(n) {
            series
                .label(format!("{name}_dot vs {name}"))
                .legend(swatch(c));
        }
    }
    if !uses_colour_map(n) {
        let points = rows.iter().flat_map(|&i| {
            table.q[i]
                .iter()
                .copied()
                .zip(table.q_dot[i].iter().copied())
        });
        legend(&mut chart, corner(points, (xlo, xhi), (ylo, yhi)))?;
    }
    Ok(())
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
            (FAMILY, CAPTION_SIZE).into_font().color(&BLACK),
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
    axes(&mut chart, "time t", y_desc)
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
        let c = VERMILLION;
        let where_ = corner(points.iter().copied(), (t0, t1), (lo, hi));
        chart
            .draw_series(LineSeries::new(points, c.stroke_width(LINE)))?
            .label(match (relative, conservative) {
                (true, true) => "relative error",
                (false, true) => "absolute error",
                (true, false) => "relative change",
                (false, false) => "absolute change",
            })
            .legend(swatch(c));
        legend(&mut chart, where_)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 24 coordinates: every one named in the SVG's key (as text), and both formats render.
    #[test]
    fn twenty_four_coordinates_are_all_labelled() {
        let n = 24;
        let names: Vec<String> = (1..=n).map(|k| format!("x{k}")).collect();
        let t: Vec<f64> = (0..200).map(|i| i as f64 * 0.05).collect();
        let q: Vec<Vec<f64>> = t
            .iter()
            .map(|t| (0..n).map(|k| (t + k as f64).sin()).collect())
            .collect();
        let q_dot: Vec<Vec<f64>> = t
            .iter()
            .map(|t| (0..n).map(|k| (t + k as f64).cos()).collect())
            .collect();
        let energy = vec![1.0; t.len()];
        let table = Table {
            coordinates: &names,
            t: &t,
            q: &q,
            q_dot: &q_dot,
            energy: &energy,
        };
        let labels = Labels {
            title: "chain",
            conservative: true,
        };
        let dir = tempfile::tempdir().unwrap();
        let svg = dir.path().join("c.svg");
        render(&table, &labels, &svg, PlotKind::Svg).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        // the contents of the <text> elements
        let texts: Vec<&str> = text
            .split("<text")
            .skip(1)
            .filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim()))
            .collect();
        assert!(texts.contains(&"x1 … x24"), "{texts:?}");
        for name in &names {
            assert!(texts.contains(&name.as_str()), "{name} is labelled");
        }
        let png = dir.path().join("c.png");
        render(&table, &labels, &png, PlotKind::Png).unwrap();
        assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    }
}
