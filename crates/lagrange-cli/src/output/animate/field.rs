//! The pictures of a lattice field in `lagrange animate`: a 1-D field as its profile φ(x) at
//! each frame (every field in its own colour, with a legend), a 2-D field as a heatmap of its
//! first field. The profile's vertical range and the heatmap's colour scale are fixed over the
//! whole run, so what moves on the picture is the field, not the axes.
//!
//! A lattice can be far larger than the picture, so a frame keeps only sampled sites
//! ([`FieldView::sample`]): at most one per pixel of the plotting box along each side, and at
//! most [`MAX_VALUES`] values over all frames. Memory and drawing time are set by the picture,
//! not by the lattice. Particles coupled to the field are not drawn.

use super::{
    Area, BACKGROUND, DrawResult, FAINT, Frames, INK, MID, Settings, body_colour, font_size, range,
    title_band,
};
use crate::output::style::{FAMILY, viridis};
use lagrange::field::FieldSystem;
use plotters::prelude::*;
use plotters::style::RGBColor;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Sampled values kept over all frames at most (128 MiB of `f64`).
const MAX_VALUES: usize = 1 << 24;
/// Colours of the heatmap's scale: viridis in equal steps, each held exactly by the GIF's
/// palette (see [`levels`]), so a frame needs no colour quantization.
pub const LEVELS: usize = 32;
/// Non-finite values on the heatmap (a CSV may hold `NaN`).
const NOT_FINITE: RGBColor = MID;

/// The heatmap's colours, from the lowest level to the highest.
pub fn levels() -> Vec<RGBColor> {
    (0..LEVELS)
        .map(|l| viridis(l as f64 / (LEVELS - 1) as f64))
        .collect()
}

/// A rectangle in pixels: left, top, width, height.
#[derive(Debug, Clone, Copy)]
struct Rect {
    x: i32,
    y: i32,
    w: i32,
    h: i32,
}

/// Which sites a field picture keeps and where it draws them, set up once per run from the
/// lattice and the picture size.
#[derive(Debug, Clone)]
pub struct FieldView {
    /// The fields drawn: every field in 1-D, the first in 2-D.
    names: Vec<String>,
    dims: usize,
    /// Sites kept along x and y (y: 1 in 1-D).
    kept: (usize, usize),
    /// 1-D: the position x = site × spacing of every kept site.
    x: Vec<f64>,
    /// The coordinate index of every value a frame keeps, in the order of
    /// [`FieldView::sample`]: in 1-D field by field, each along x; in 2-D the kept (i, j)
    /// row-major (i slowest).
    coordinates: Vec<usize>,
    /// The plotting box: the profile's axes, or the heatmap without its colour bar.
    plot: Rect,
    /// The width of the heatmap's colour bar, right of the plotting box (0 for a profile).
    bar: i32,
}

/// Every `stride`-th of `0..n` with at most `cap` of them (at least 1), and the last index too
/// when `with_last` (so a profile spans the whole lattice).
fn sampled(n: usize, cap: usize, with_last: bool) -> Vec<usize> {
    let stride = n.div_ceil(cap.max(1)).max(1);
    let mut sites: Vec<usize> = (0..n).step_by(stride).collect();
    if with_last && sites.last() != Some(&(n - 1)) {
        sites.push(n - 1);
    }
    sites
}

impl FieldView {
    /// The view of `field` for `frames` frames of `settings`.
    pub fn new(field: &FieldSystem, settings: &Settings, frames: usize) -> Self {
        let lattice = field.lattice();
        let sides = lattice.sites();
        let per_frame = MAX_VALUES / frames.max(1);
        if lattice.dims() == 1 {
            let plot = profile_box(settings);
            let names = field.fields().to_vec();
            let cap = (plot.w as usize).min(per_frame / names.len()).max(2);
            let sites = sampled(sides[0], cap, true);
            let coordinates = (0..names.len())
                .flat_map(|f| sites.iter().map(move |&s| field.coordinate(s, f)))
                .collect();
            return Self {
                names,
                dims: 1,
                kept: (sites.len(), 1),
                x: sites
                    .iter()
                    .map(|&s| s as f64 * lattice.spacing())
                    .collect(),
                coordinates,
                plot,
                bar: 0,
            };
        }
        let plot = heatmap_box(settings, (sides[0], sides[1]));
        let (mut cx, mut cy) = (
            sides[0].min(plot.w as usize).max(1),
            sides[1].min(plot.h as usize).max(1),
        );
        if cx * cy > per_frame {
            // shrink both sides alike until the frames fit the budget
            let s = (per_frame as f64 / (cx * cy) as f64).sqrt();
            cx = ((cx as f64 * s) as usize).max(1);
            cy = ((cy as f64 * s) as usize).max(1);
        }
        let (is, js) = (sampled(sides[0], cx, false), sampled(sides[1], cy, false));
        let coordinates = is
            .iter()
            .flat_map(|&i| js.iter().map(move |&j| (i, j)))
            .map(|(i, j)| field.coordinate(lattice.site(i, j), 0))
            .collect();
        Self {
            names: field.fields()[..1].to_vec(),
            dims: 2,
            kept: (is.len(), js.len()),
            x: Vec::new(),
            coordinates,
            plot,
            bar: bar_widths(settings).0,
        }
    }

    /// Whether the picture is a heatmap (a 2-D lattice), whose colours the palette must hold.
    pub fn is_heatmap(&self) -> bool {
        self.dims == 2
    }

    /// What a frame keeps of the state `q`: the values at the kept sites (see
    /// [`FieldView::coordinates`]).
    pub fn sample(&self, q: &[f64]) -> Vec<f64> {
        self.coordinates.iter().map(|&c| q[c]).collect()
    }
}

/// Height of the x labels under the profile, in pixels.
fn label_band(height: u32) -> i32 {
    font_size(height) + 8
}

/// The profile's axes: room for the value labels on the left and the x labels below.
fn profile_box(settings: &Settings) -> Rect {
    let (width, height) = (settings.width as i32, settings.height as i32);
    let font = font_size(settings.height);
    let left = (4 * font).min(width / 3);
    let top = title_band(settings.height) + 4;
    let bottom = label_band(settings.height);
    Rect {
        x: left,
        y: top,
        w: (width - left - 8).max(2),
        h: (height - top - bottom).max(2),
    }
}

/// Width of the heatmap's colour bar and of the labels beside it, in pixels.
fn bar_widths(settings: &Settings) -> (i32, i32) {
    let bar = (settings.width as i32 / 32).max(4);
    let labels = (4 * font_size(settings.height)).min(settings.width as i32 / 3);
    (bar, labels)
}

/// The heatmap: the lattice's aspect ratio, as large as fits beside its colour bar.
fn heatmap_box(settings: &Settings, sides: (usize, usize)) -> Rect {
    let (width, height) = (settings.width as i32, settings.height as i32);
    let (bar, labels) = bar_widths(settings);
    let top = title_band(settings.height) + 4;
    let room = (
        (width - 8 - 6 - bar - labels - 4).max(2),
        (height - top - 8).max(2),
    );
    let (nx, ny) = (sides.0 as f64, sides.1 as f64);
    let scale = (room.0 as f64 / nx).min(room.1 as f64 / ny);
    let (w, h) = (
        ((nx * scale) as i32).clamp(2, room.0),
        ((ny * scale) as i32).clamp(2, room.1),
    );
    Rect {
        x: 8 + (room.0 - w) / 2,
        y: top + (room.1 - h) / 2,
        w,
        h,
    }
}

/// A value in at most about seven characters, for the axis and colour-bar labels.
fn label(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 || (1e-3..1e4).contains(&a) {
        let text = format!("{v:.3}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        if text == "-0" {
            "0".into()
        } else {
            text.into()
        }
    } else {
        format!("{v:.1e}")
    }
}

/// A field picture with its fixed scale, set up once from all the frames.
pub struct FieldScene {
    view: FieldView,
    /// The value range: the profile's vertical axis, the heatmap's colour scale.
    low: f64,
    high: f64,
    /// The heatmap's colours ([`levels`]).
    colours: Vec<RGBColor>,
}

impl FieldScene {
    pub fn new(view: &FieldView, frames: &Frames) -> Self {
        let (mut low, mut high) = range(frames.q.iter().flatten().copied());
        if view.dims == 1 {
            // a margin, so the profile's extremes do not sit on the frame
            let pad = 0.05 * (high - low);
            (low, high) = (low - pad, high + pad);
        }
        Self {
            view: view.clone(),
            low,
            high,
            colours: levels(),
        }
    }

    /// The heatmap colour of `v` on the run's fixed scale.
    fn colour(&self, v: f64) -> RGBColor {
        if !v.is_finite() {
            return NOT_FINITE;
        }
        let f = ((v - self.low) / (self.high - self.low)).clamp(0.0, 1.0);
        self.colours[(f * (LEVELS - 1) as f64).round() as usize]
    }

    /// Writes the heatmap of `values` and its colour bar straight into the RGB pixels of a
    /// frame `width` pixels wide (nearest kept site per pixel: the cost is the box's pixels,
    /// not the lattice's sites). A profile has nothing to rasterise.
    pub fn raster(&self, rgb: &mut [u8], width: u32, values: &[f64]) {
        if self.view.dims != 2 {
            return;
        }
        let Rect { x, y, w, h } = self.view.plot;
        let (kx, ky) = self.view.kept;
        let height = (rgb.len() / 3 / width as usize) as i32;
        // on a tiny picture the colour bar may not fit: what falls outside is clipped
        let mut put = |px: i32, py: i32, c: RGBColor| {
            if (0..width as i32).contains(&px) && (0..height).contains(&py) {
                let at = 3 * (py as usize * width as usize + px as usize);
                rgb[at..at + 3].copy_from_slice(&[c.0, c.1, c.2]);
            }
        };
        for row in 0..h {
            // y grows upwards on the lattice, downwards in the pixels
            let j = (h - 1 - row) as usize * ky / h as usize;
            for col in 0..w {
                let i = col as usize * kx / w as usize;
                put(x + col, y + row, self.colour(values[i * ky + j]));
            }
        }
        let left = x + w + 6;
        for row in 0..h {
            let level = (h - 1 - row) as usize * LEVELS / h as usize;
            for col in 0..self.view.bar {
                put(left + col, y + row, self.colours[level]);
            }
        }
    }

    /// Draws what is not rasterised: the profile's axes, curves and legend, or the heatmap's
    /// frame and colour-bar labels.
    pub fn draw<'a>(&self, root: &Area<'a>, values: &[f64]) -> DrawResult<'a> {
        let (_, height) = root.dim_in_pixel();
        let size = (font_size(height) * 4 / 5).max(8);
        let font = (FAMILY, size).into_font().color(&INK);
        let line = |c: RGBColor, w: u32| ShapeStyle {
            color: c.to_rgba(),
            filled: false,
            stroke_width: w,
        };
        let Rect { x, y, w, h } = self.view.plot;
        root.draw(&Rectangle::new([(x, y), (x + w, y + h)], line(MID, 1)))?;
        let right_middle = Pos::new(HPos::Right, VPos::Center);
        let left_middle = Pos::new(HPos::Left, VPos::Center);
        if self.view.dims == 2 {
            let (left, bar) = (x + w + 6, self.view.bar);
            root.draw(&Rectangle::new(
                [(left, y), (left + bar, y + h)],
                line(MID, 1),
            ))?;
            let at = left + bar + 4;
            for (text, row) in [
                (label(self.high), y + size / 2),
                (self.view.names[0].clone(), y + h / 2),
                (label(self.low), y + h - size / 2),
            ] {
                root.draw(&Text::new(text, (at, row), font.pos(left_middle)))?;
            }
            return Ok(());
        }
        let to_y = |v: f64| y + h - ((v - self.low) / (self.high - self.low) * h as f64) as i32;
        if self.low < 0.0 && self.high > 0.0 {
            root.draw(&PathElement::new(
                vec![(x, to_y(0.0)), (x + w, to_y(0.0))],
                line(FAINT, 1),
            ))?;
        }
        root.draw(&Text::new(
            label(self.high),
            (x - 4, y + size / 2),
            font.pos(right_middle),
        ))?;
        root.draw(&Text::new(
            label(self.low),
            (x - 4, y + h - size / 2),
            font.pos(right_middle),
        ))?;
        let below = y + h + 4;
        let x_end = self.view.x.last().copied().unwrap_or(0.0);
        root.draw(&Text::new("0", (x, below), font.clone()))?;
        root.draw(&Text::new(
            "x",
            (x + w / 2, below),
            font.pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        root.draw(&Text::new(
            label(x_end),
            (x + w, below),
            font.pos(Pos::new(HPos::Right, VPos::Top)),
        ))?;
        let to_x = |position: f64| x + (position / x_end.max(f64::MIN_POSITIVE) * w as f64) as i32;
        let n = self.view.kept.0;
        for (f, profile) in values.chunks_exact(n).enumerate() {
            // a non-finite value breaks the curve instead of drawing it off the frame
            let mut run = Vec::with_capacity(n);
            for (&position, &v) in self.view.x.iter().zip(profile) {
                if v.is_finite() {
                    run.push((to_x(position), to_y(v).clamp(y, y + h)));
                } else if !run.is_empty() {
                    root.draw(&PathElement::new(
                        std::mem::take(&mut run),
                        line(body_colour(f, 0), 2),
                    ))?;
                }
            }
            root.draw(&PathElement::new(run, line(body_colour(f, 0), 2)))?;
        }
        self.legend(root, size)
    }

    /// The profile's legend: a swatch and the name of every field, in the top right corner.
    fn legend<'a>(&self, root: &Area<'a>, size: i32) -> DrawResult<'a> {
        let Rect { x, y, w, .. } = self.view.plot;
        let longest = self.view.names.iter().map(|n| n.chars().count()).max();
        let inner = 18 + (longest.unwrap_or(1) as i32 * size * 3 / 5);
        let rows = self.view.names.len() as i32;
        let (right, top) = (x + w - 4, y + 4);
        let left = (right - inner - 8).max(x + 1);
        root.draw(&Rectangle::new(
            [(left, top), (right, top + rows * (size + 2) + 6)],
            ShapeStyle {
                color: BACKGROUND.to_rgba(),
                filled: true,
                stroke_width: 1,
            },
        ))?;
        root.draw(&Rectangle::new(
            [(left, top), (right, top + rows * (size + 2) + 6)],
            ShapeStyle {
                color: FAINT.to_rgba(),
                filled: false,
                stroke_width: 1,
            },
        ))?;
        let font = (FAMILY, size).into_font().color(&INK);
        for (f, name) in self.view.names.iter().enumerate() {
            let middle = top + 4 + f as i32 * (size + 2) + size / 2;
            root.draw(&PathElement::new(
                vec![(left + 4, middle), (left + 16, middle)],
                ShapeStyle {
                    color: body_colour(f, 0).to_rgba(),
                    filled: false,
                    stroke_width: 2,
                },
            ))?;
            root.draw(&Text::new(
                name.clone(),
                (left + 20, middle),
                font.pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_keeps_at_most_cap_sites_and_the_last_when_asked() {
        assert_eq!(sampled(10, 20, true), (0..10).collect::<Vec<_>>());
        let s = sampled(1000, 100, true);
        assert!(s.len() <= 101 && s[0] == 0 && *s.last().unwrap() == 999);
        assert_eq!(sampled(1000, 100, false).len(), 100);
    }

    #[test]
    fn labels_are_short() {
        assert_eq!(label(0.0), "0");
        assert_eq!(label(2.5), "2.5");
        assert_eq!(label(-0.0001), "-1.0e-4");
        assert_eq!(label(5.4321), "5.432");
    }

    /// Free fields `names` on a lattice of `sites`.
    fn field(sites: &str, names: &[&str]) -> FieldSystem {
        let density: Vec<String> = names
            .iter()
            .map(|f| format!("0.5*{f}_t^2 - 0.5*{f}_x^2"))
            .collect();
        let (names, density) = (format!("{names:?}"), density.join(" + "));
        FieldSystem::from_toml_str(&format!(
            "[field]\nnames = {names}\nsites = {sites}\nspacing = 0.1\nboundary = \"free\"\ndensity = \"{density}\"\n"
        ))
        .unwrap()
    }

    /// A long line keeps at most one site per pixel of the axes (and the last site), per field.
    #[test]
    fn a_large_1d_lattice_keeps_at_most_one_site_per_pixel() {
        let settings = Settings {
            width: 200,
            height: 150,
            fps: 10,
        };
        let view = FieldView::new(&field("[5000]", &["phi", "psi"]), &settings, 100);
        assert!(view.plot.w < 200);
        assert!(view.kept.0 <= view.plot.w as usize + 1, "{:?}", view.kept);
        assert_eq!(view.coordinates.len(), 2 * view.kept.0);
        // field by field, each along x; the last site is kept
        assert_eq!(view.coordinates[0], 0);
        assert_eq!(view.coordinates[view.kept.0 - 1], 2 * 4999);
        assert_eq!(view.coordinates[view.kept.0], 1);
        let q: Vec<f64> = (0..10_000).map(|c| c as f64).collect();
        assert_eq!(view.sample(&q)[1], view.coordinates[1] as f64);
    }

    /// A large plate over many frames stays within the memory budget, and within the pixels.
    #[test]
    fn a_large_2d_lattice_stays_within_the_budget() {
        let settings = Settings {
            width: 480,
            height: 480,
            fps: 30,
        };
        let plate = field("[300, 300]", &["phi"]);
        let few = FieldView::new(&plate, &settings, 10);
        assert!(few.kept.0 <= few.plot.w as usize && few.kept.1 <= few.plot.h as usize);
        let many = FieldView::new(&plate, &settings, 3000);
        assert!(many.coordinates.len() * 3000 <= MAX_VALUES);
        assert!(many.kept.0 > 30 && many.kept.1 > 30, "{:?}", many.kept);
    }

    #[test]
    fn heatmap_box_keeps_the_lattice_aspect() {
        let settings = Settings {
            width: 480,
            height: 480,
            fps: 10,
        };
        let r = heatmap_box(&settings, (40, 20));
        assert!((r.w as f64 / r.h as f64 - 2.0).abs() < 0.05, "{r:?}");
        assert!(r.x + r.w < 480 && r.y + r.h <= 480);
    }
}
