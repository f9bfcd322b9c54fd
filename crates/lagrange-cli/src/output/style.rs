//! The look every figure shares (`plot`, `plot_learn`, `plot_field`): the bundled font and its
//! sizes, margins, the colour-blind-safe palette and the colour map past it, the line width, the
//! legend (boxed, in the emptiest corner or in a column beside the chart), the colour bar, and
//! the PNG-or-SVG backend set-up ([`render!`]; PNG strokes are anti-aliased by
//! [`super::antialias`]).
//!
//! Text goes through `plotters`' pure-Rust `ab_glyph` path with a bundled DejaVu Sans, so no
//! system font libraries are needed; an SVG keeps its text as `<text>` elements.

use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::{FontStyle, RGBColor};
use std::path::Path;
use std::sync::Once;

/// DejaVu Sans (Bitstream Vera license, see `assets/DejaVuSans-LICENSE.txt`).
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
/// The font family of every figure's text.
pub const FAMILY: &str = "sans-serif";

/// Figure title.
pub const TITLE_SIZE: u32 = 26;
/// Panel caption (a figure of several panels).
pub const CAPTION_SIZE: u32 = 21;
/// Axis titles.
pub const DESC_SIZE: u32 = 18;
/// Tick labels.
pub const TICK_SIZE: u32 = 16;
/// Legend entries.
pub const LEGEND_SIZE: u32 = 16;
/// Margin around a chart.
pub const MARGIN: u32 = 18;
/// Width of every data line, in pixels (drawn by coverage in PNG, see [`super::antialias`]).
pub const LINE: u32 = 2;

/// A figure of one chart.
pub const SINGLE: (u32, u32) = (1000, 650);
/// `simulate`'s three panels.
pub const PANELS: (u32, u32) = (1500, 1100);
/// A heatmap with its colour bar.
pub const HEATMAP: (u32, u32) = (1100, 900);
/// Two charts side by side.
pub const PAIR: (u32, u32) = (1400, 620);
/// A kymograph.
pub const FIELD: (u32, u32) = (1200, 800);
/// Width of a colour-bar or legend column beside a chart.
pub const BAR_WIDTH: u32 = 150;

/// Okabe–Ito, told apart with every common colour-vision deficiency (Okabe & Ito 2008).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(240, 228, 66),  // yellow
    RGBColor(0, 0, 0),       // black
];
/// The first palette colour (the one series of a figure).
pub const BLUE: RGBColor = PALETTE[0];
/// The second.
pub const ORANGE: RGBColor = PALETTE[1];
/// Highlights (an optimizer's path, a count).
pub const VERMILLION: RGBColor = PALETTE[3];

/// Whether `n` series are coloured by the colour map (past the palette) rather than the palette.
pub fn uses_colour_map(n: usize) -> bool {
    n > PALETTE.len()
}

/// The colour of series `k` of `n`: the palette up to its size, otherwise viridis from the
/// first series to the last (stopping short of its palest yellow), so that every series has its
/// own colour and neighbours in order have neighbouring colours.
pub fn series_colour(k: usize, n: usize) -> RGBColor {
    if uses_colour_map(n) {
        viridis(map_position(k, n))
    } else {
        PALETTE[k % PALETTE.len()]
    }
}

/// Where series `k` of `n` sits on the colour map, in [0, 0.92].
fn map_position(k: usize, n: usize) -> f64 {
    0.92 * k as f64 / (n.max(2) - 1) as f64
}

/// Viridis, piecewise linear through 9 anchors; `x` in [0, 1].
pub fn viridis(x: f64) -> RGBColor {
    const A: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    piecewise_linear(&A, if x.is_finite() { x } else { 0.0 })
}

/// The colour at `x` (clamped to [0, 1]) of a map linear between equally spaced `anchors`.
pub fn piecewise_linear(anchors: &[(u8, u8, u8)], x: f64) -> RGBColor {
    let f = x.clamp(0.0, 1.0) * (anchors.len() - 1) as f64;
    let i = (f.floor() as usize).min(anchors.len() - 2);
    let t = f - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + t * (b as f64 - a as f64)).round() as u8;
    let (a, b) = (anchors[i], anchors[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Registers the bundled font for every family name the figures use (once per process).
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

/// A drawing error on backend `DB`.
pub type DrawError<DB> = DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>;
/// What drawing on backend `DB` returns.
pub type DrawResult<DB> = Result<(), DrawError<DB>>;
/// A chart over `X` × `Y` (by default, numbers on both axes).
pub type Chart<'a, DB, X = RangedCoordf64, Y = RangedCoordf64> =
    ChartContext<'a, DB, Cartesian2d<X, Y>>;

/// Draws `$body` on a PNG or SVG backend at `$path` (per `$kind`, a [`PlotKind`]), `$size`
/// pixels, with `$root` naming the whole figure, filled white. The body is written once and
/// compiled for each backend; it may use `?`.
macro_rules! render {
    ($path:expr, $kind:expr, $size:expr, |$root:ident| $body:block) => {{
        $crate::output::style::register_fonts();
        match $kind {
            $crate::output::PlotKind::Png => {
                $crate::output::style::render_on!(
                    $crate::output::antialias::AntiAliased::new(
                        plotters::prelude::BitMapBackend::new($path, $size)
                    ),
                    $crate::output::antialias::AntiAliased<plotters::prelude::BitMapBackend<'_>>,
                    |$root| $body
                )
            }
            $crate::output::PlotKind::Svg => {
                $crate::output::style::render_on!(
                    plotters::prelude::SVGBackend::new($path, $size),
                    plotters::prelude::SVGBackend<'_>,
                    |$root| $body
                )
            }
        }
    }};
}

/// `render!` on one backend, `$backend` of type `$db`.
macro_rules! render_on {
    ($backend:expr, $db:ty, |$root:ident| $body:block) => {{
        let area = $backend.into_drawing_area();
        (|| -> $crate::output::style::DrawResult<$db> {
            let $root = &area;
            $root.fill(&plotters::prelude::WHITE)?;
            $body
            Ok(())
        })()
        .map_err(|e| anyhow::anyhow!("drawing the plot: {e}"))?;
        area.present()
            .map_err(|e| anyhow::anyhow!("drawing the plot: {e}"))
    }};
}
pub(crate) use render;
pub(crate) use render_on;

/// `root` with `title` across its top (a little below the edge, so that no glyph is cut off).
pub fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>, DrawError<DB>> {
    root.margin(8, 0, 0, 0)
        .titled(title, (FAMILY, TITLE_SIZE).into_font().color(&BLACK))
}

/// The axes of a chart, described, with the label fonts of every figure; the caller adds the
/// tick labels and draws them.
pub fn axes<'a, 'b, DB, X, Y>(
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
        .label_style((FAMILY, TICK_SIZE))
        .axis_desc_style((FAMILY, DESC_SIZE))
        .light_line_style(BLACK.mix(0.04))
        .bold_line_style(BLACK.mix(0.12));
    mesh
}

/// The boxed legend of a chart at `position`.
pub fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> DrawResult<DB> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FAMILY, LEGEND_SIZE))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .draw()
}

/// The legend entry of a line drawn in colour `c`: a short line as wide as the data's.
pub fn swatch(c: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(LINE + 1))
}

/// The corners in the order [`emptiest_corner`] prefers them on a tie.
const CORNERS: [SeriesLabelPosition; 4] = [
    SeriesLabelPosition::UpperRight,
    SeriesLabelPosition::UpperLeft,
    SeriesLabelPosition::LowerRight,
    SeriesLabelPosition::LowerLeft,
];

/// How many of `points` (fractions `(fx, fy)` of the axes, 0 at the left / bottom) fall in each
/// corner of [`CORNERS`]; points outside [0, 1]² are ignored.
fn corner_counts(points: impl IntoIterator<Item = (f64, f64)>) -> [usize; 4] {
    // each corner's box is 45 % of the width and 40 % of the height: about what a legend takes
    let mut counts = [0usize; 4];
    for (fx, fy) in points {
        if !(0.0..=1.0).contains(&fx) || !(0.0..=1.0).contains(&fy) {
            continue;
        }
        let (left, right) = (fx <= 0.45, fx >= 0.55);
        let (low, high) = (fy <= 0.4, fy >= 0.6);
        counts[0] += usize::from(right && high);
        counts[1] += usize::from(left && high);
        counts[2] += usize::from(right && low);
        counts[3] += usize::from(left && low);
    }
    counts
}

/// The corner of a chart with the fewest of `points` in it, each given as fractions `(fx, fy)`
/// of the axes (0 at the left / bottom); points outside [0, 1]² are ignored. Ties go to the
/// upper right, then upper left, lower right, lower left.
pub fn emptiest_corner(points: impl IntoIterator<Item = (f64, f64)>) -> SeriesLabelPosition {
    emptiest_corner_count(points).0
}

/// [`emptiest_corner`] and how many points it holds (0: the legend covers no data).
pub fn emptiest_corner_count(
    points: impl IntoIterator<Item = (f64, f64)>,
) -> (SeriesLabelPosition, usize) {
    let counts = corner_counts(points);
    let best = (0..4).min_by_key(|&i| (counts[i], i)).unwrap_or(0);
    (CORNERS[best].clone(), counts[best])
}

/// The top of a y axis `[lo, hi]` (log scale when `log`) raised so that data up to `hi` fill
/// only the lower 55 %: the upper corners are then empty for a legend that found no empty
/// corner.
pub fn headroom((lo, hi): (f64, f64), log: bool) -> f64 {
    if log {
        lo * (hi / lo).powf(1.0 / 0.55)
    } else {
        lo + (hi - lo) / 0.55
    }
}

/// Fractions of `[lo, hi]` (on a log scale when `log`) for [`emptiest_corner`].
pub fn fraction(v: f64, (lo, hi): (f64, f64), log: bool) -> f64 {
    if log {
        (v.ln() - lo.ln()) / (hi.ln() - lo.ln())
    } else {
        (v - lo) / (hi - lo)
    }
}

/// Compact tick label.
pub fn tick(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if (1e-3..1e4).contains(&a) {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    } else {
        format!("{v:.1e}")
    }
}

/// A vertical colour bar over `[lo, hi]` coloured by `colour` (of the value), its axis titled
/// `label` and ticked by `format`, `top` and `bottom` pixels short of the area's edges (to line
/// up with the plotting area beside it).
pub fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (lo, hi): (f64, f64),
    label: &str,
    (top, bottom): (u32, u32),
    colour: &dyn Fn(f64) -> RGBColor,
    format: &dyn Fn(&f64) -> String,
) -> DrawResult<DB> {
    let mut cb = ChartBuilder::on(area)
        .margin_top(top)
        .margin_bottom(bottom)
        .margin_right(14)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..1.0, lo..hi)?;
    let steps = 256;
    cb.draw_series((0..steps).map(|s| {
        let a = lo + (hi - lo) * s as f64 / steps as f64;
        let b = lo + (hi - lo) * (s + 1) as f64 / steps as f64;
        Rectangle::new([(0.0, a), (1.0, b)], colour((a + b) / 2.0).filled())
    }))?;
    cb.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(label)
        .y_labels(9)
        .y_label_formatter(format)
        .label_style((FAMILY, TICK_SIZE - 1))
        .axis_desc_style((FAMILY, DESC_SIZE))
        .draw()?;
    // a frame, so that a white end still reads as part of the bar
    cb.draw_series(std::iter::once(Rectangle::new(
        [(0.0, lo), (1.0, hi)],
        BLACK.stroke_width(1),
    )))?;
    Ok(())
}

/// The `(top, bottom)` insets of `area` (a column beside a chart) that line it up with the
/// chart's plotting area, whose pixel rows are `rows`.
pub fn aligned<DB: DrawingBackend>(
    rows: std::ops::Range<i32>,
    area: &DrawingArea<DB, Shift>,
) -> (u32, u32) {
    let (_, y) = area.get_base_pixel();
    let (_, h) = area.dim_in_pixel();
    (
        (rows.start - y).max(0) as u32,
        (y + h as i32 - rows.end).max(0) as u32,
    )
}

/// A key of `names` in a column beside a chart, `top` pixels down: up to the palette's size a
/// list of line swatches; past it a discrete colour bar, first series at the top, with every
/// name that fits beside its cell (always the first and the last) and "x1 … x24" above it.
pub fn series_key<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    names: &[String],
    (top, bottom): (u32, u32),
) -> DrawResult<DB> {
    let n = names.len();
    if n == 0 {
        return Ok(());
    }
    let font = (FAMILY, LEGEND_SIZE).into_font().color(&BLACK);
    let (_, h) = area.dim_in_pixel();
    if !uses_colour_map(n) {
        for (k, name) in names.iter().enumerate() {
            let y = top as i32 + 12 + 26 * k as i32;
            let c = series_colour(k, n);
            area.draw(&PathElement::new(
                vec![(6, y), (32, y)],
                c.stroke_width(LINE + 1),
            ))?;
            area.draw(&Text::new(name.clone(), (40, y - 9), font.clone()))?;
        }
        return Ok(());
    }
    let heading = format!("{} … {}", names[0], names[n - 1]);
    area.draw(&Text::new(heading, (6, top as i32), font.clone()))?;
    let y0 = top as i32 + 28;
    let height = (h as i32 - bottom as i32 - y0).max(n as i32);
    let cell = height as f64 / n as f64;
    let small = (FAMILY, (LEGEND_SIZE - 3).min(cell as u32 + 2).max(10))
        .into_font()
        .color(&BLACK);
    // label every `every`-th cell, and the last
    let every = (14.0 / cell).ceil().max(1.0) as usize;
    for (k, name) in names.iter().enumerate() {
        let a = y0 + (k as f64 * cell).round() as i32;
        let b = y0 + ((k + 1) as f64 * cell).round() as i32;
        area.draw(&Rectangle::new(
            [(6, a), (30, b)],
            series_colour(k, n).filled(),
        ))?;
        let labelled = k + 1 == n || k % every == 0 && k + every < n;
        if labelled {
            let mid = (a + b) / 2 - (cell as i32 + 2).min(LEGEND_SIZE as i32 - 3) / 2;
            area.draw(&Text::new(name.clone(), (36, mid), small.clone()))?;
        }
    }
    area.draw(&Rectangle::new(
        [(6, y0), (30, y0 + height)],
        BLACK.stroke_width(1),
    ))?;
    Ok(())
}

/// The name of a system or model in a figure's title: the TOML file's top-level `name`, or else
/// the file's stem; a name that is no file (a built-in system, a model family) as given. Never a
/// path of the machine.
pub fn figure_name(spec: &str) -> String {
    let path = Path::new(spec);
    let is_file = path.is_file();
    if is_file
        && let Ok(text) = std::fs::read_to_string(path)
        && let Some(name) = toml_name(&text)
    {
        return name;
    }
    if (is_file || spec.contains('/') || spec.contains('\\'))
        && let Some(stem) = path.file_stem()
    {
        return stem.to_string_lossy().into_owned();
    }
    spec.to_string()
}

/// The top-level `name = "..."` of a TOML text (before its first table), if any.
fn toml_name(text: &str) -> Option<String> {
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            return None;
        }
        let Some(rest) = line.strip_prefix("name") else {
            continue;
        };
        let Some(value) = rest.trim_start().strip_prefix('=') else {
            continue;
        };
        let value = value.trim();
        let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let inner = &value[1..];
        let end = inner.find(quote)?;
        let name = inner[..end].trim();
        return (!name.is_empty()).then(|| name.to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_four_series_get_twenty_four_colours() {
        for n in [1, 2, 8, 9, 12, 24, 100] {
            let colours: std::collections::HashSet<(u8, u8, u8)> = (0..n)
                .map(|k| {
                    let c = series_colour(k, n);
                    (c.0, c.1, c.2)
                })
                .collect();
            assert_eq!(colours.len(), n, "{n} series");
        }
        assert!(!uses_colour_map(8));
        assert!(uses_colour_map(9));
        assert_eq!(series_colour(3, 8), PALETTE[3]);
        assert_eq!(series_colour(0, 24), viridis(0.0));
    }

    #[test]
    fn the_legend_goes_to_the_emptiest_corner() {
        let upper_right: Vec<(f64, f64)> = (0..50).map(|i| (0.6 + i as f64 / 200.0, 0.9)).collect();
        let pos = emptiest_corner(upper_right.iter().copied());
        assert!(!matches!(pos, SeriesLabelPosition::UpperRight));
        assert!(matches!(
            emptiest_corner(std::iter::empty()),
            SeriesLabelPosition::UpperRight
        ));
    }

    /// Two peaks and tails along the bottom leave no corner empty; raising the top by
    /// [`headroom`] empties the upper corners, on linear and log axes.
    #[test]
    fn headroom_frees_the_upper_corners() {
        let curve: Vec<(f64, f64)> = (0..=100)
            .map(|i| {
                let x = i as f64 / 100.0;
                let peak = |c: f64| (-((x - c) / 0.08).powi(2)).exp();
                (x, 0.01 + peak(0.2) + peak(0.8))
            })
            .collect();
        for log in [false, true] {
            let (lo, hi) = (0.01, 1.02);
            let at = |top: f64| {
                curve
                    .iter()
                    .map(move |&(x, y)| (x, fraction(y, (lo, top), log)))
                    .collect::<Vec<_>>()
            };
            assert!(emptiest_corner_count(at(hi)).1 > 0, "log {log}");
            let (pos, count) = emptiest_corner_count(at(headroom((lo, hi), log)));
            assert_eq!(count, 0, "log {log}");
            assert!(matches!(pos, SeriesLabelPosition::UpperRight));
        }
    }

    #[test]
    fn names_in_titles_are_no_paths() {
        let dir = tempfile::tempdir().unwrap();
        let named = dir.path().join("model.toml");
        std::fs::write(
            &named,
            "# a model\nname = \"Kepler problem\"\n[parameters]\nname = 'x'\n",
        )
        .unwrap();
        assert_eq!(figure_name(named.to_str().unwrap()), "Kepler problem");
        let unnamed = dir.path().join("spring.toml");
        std::fs::write(&unnamed, "[parameters]\nname = 1\n").unwrap();
        assert_eq!(figure_name(unnamed.to_str().unwrap()), "spring");
        assert_eq!(figure_name("/no/such/dir/orbit.toml"), "orbit");
        assert_eq!(figure_name("pendulum"), "pendulum");
    }
}
