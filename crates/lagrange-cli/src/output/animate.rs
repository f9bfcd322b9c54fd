//! Animated GIF of a trajectory. What it shows is decided once per run ([`Picture::of`]): a
//! lattice field's profile or heatmap ([`field`]); the mechanism in the plane where the system
//! declares its [`Geometry`] (rods, springs, bobs, fading trails); else a moving point on each
//! phase portrait (q_i against q̇_i, up to [`MAX_PANELS`] coordinates).
//!
//! Frames are drawn with `plotters` into an RGB buffer and mapped onto a fixed palette of
//! [`PALETTE_LEN`] colours (a heatmap adds its [`field::LEVELS`] viridis steps), so no per-frame
//! colour quantization is needed and encoding with the pure-Rust `gif` crate stays fast (a few
//! hundred frames in well under a second at 480×480).

mod field;

use crate::system::AnySystem;
use anyhow::{Result, anyhow};
use field::{FieldScene, FieldView};
use lagrange::systems::{Geometry, LinkKind, System};
use plotters::prelude::*;
use plotters::style::RGBColor;
use std::collections::HashMap;
use std::io::Write;

/// Phase portraits drawn at most (the first coordinates) for a system without geometry.
pub const MAX_PANELS: usize = 6;

/// What the animation shows, decided once per run.
pub enum Picture {
    /// The mechanism in the plane, as the system's geometry declares it.
    Mechanism(Geometry),
    /// A lattice field: its profile (1-D) or the heatmap of its first field (2-D).
    Field(FieldView),
    /// A moving point on each phase portrait.
    Phase,
}

impl Picture {
    /// The picture of `system` for `frames` frames of `settings`: a lattice field draws its
    /// field, a system that declares its geometry its mechanism, any other its phase portraits.
    pub fn of(system: &AnySystem, settings: &Settings, frames: usize) -> Self {
        if let Some(field) = system.field() {
            return Picture::Field(FieldView::new(field, settings, frames));
        }
        system.geometry().map_or(Picture::Phase, Picture::Mechanism)
    }

    /// The GIF's global palette: [`palette`], plus the heatmap's colours for a 2-D field.
    fn palette(&self) -> Vec<RGBColor> {
        let mut colours = palette();
        if let Picture::Field(view) = self
            && view.is_heatmap()
        {
            colours.extend(field::levels());
        }
        colours
    }
}

/// The sampled states, one per frame, as the picture needs them.
pub struct Frames {
    pub coordinates: Vec<String>,
    pub t: Vec<f64>,
    /// The coordinates of each frame; for a field picture only the sampled sites
    /// ([`FieldView::sample`]), so a large lattice costs the picture's size, not its own.
    pub q: Vec<Vec<f64>>,
    /// The velocities of each frame (empty for a field picture, which does not draw them).
    pub q_dot: Vec<Vec<f64>>,
}

impl Frames {
    /// No frames yet, room for `count`.
    pub fn new(coordinates: Vec<String>, count: usize) -> Self {
        Self {
            coordinates,
            t: Vec::with_capacity(count),
            q: Vec::with_capacity(count),
            q_dot: Vec::with_capacity(count),
        }
    }

    /// The number of frames so far.
    pub fn len(&self) -> usize {
        self.t.len()
    }

    /// Keeps the state at `t` as `picture` needs it.
    pub fn push(&mut self, picture: &Picture, t: f64, q: &[f64], q_dot: &[f64]) {
        self.t.push(t);
        match picture {
            Picture::Field(view) => {
                self.q.push(view.sample(q));
                self.q_dot.push(Vec::new());
            }
            Picture::Mechanism(_) | Picture::Phase => {
                self.q.push(q.to_vec());
                self.q_dot.push(q_dot.to_vec());
            }
        }
    }

    /// Repeats the last frame until there are `count` (rounding at the end of a run can leave
    /// the last ones unfilled).
    pub fn fill_to(&mut self, count: usize) {
        let Some(k) = self.len().checked_sub(1) else {
            return;
        };
        while self.len() < count {
            self.t.push(self.t[k]);
            self.q.push(self.q[k].clone());
            self.q_dot.push(self.q_dot[k].clone());
        }
    }
}

/// Picture size in pixels and frame rate.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

const BACKGROUND: RGBColor = RGBColor(255, 255, 255);
const INK: RGBColor = RGBColor(0, 0, 0);
const ROD: RGBColor = RGBColor(60, 60, 60);
const FAINT: RGBColor = RGBColor(205, 205, 205);
const MID: RGBColor = RGBColor(150, 150, 150);
/// Body colours: the Okabe–Ito colour-blind-safe set (without black).
const BODIES: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(240, 228, 66),
];
/// Colours in the GIF's global palette.
pub const PALETTE_LEN: usize = 32;

/// `c` mixed with white: `amount` 0 gives `c`, 1 gives white (older trail segments).
fn faded(c: RGBColor, amount: f64) -> RGBColor {
    let mix = |v: u8| (v as f64 + amount * (255.0 - v as f64)).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// The fixed palette: background, ink, rod and greys, each body colour and two faded shades
/// of it for trails, padded to [`PALETTE_LEN`] with greys (anti-aliased edges map onto them).
fn palette() -> Vec<RGBColor> {
    let mut colours = vec![BACKGROUND, INK, ROD, FAINT, MID];
    colours.extend(BODIES);
    colours.extend(BODIES.iter().map(|&c| faded(c, 0.35)));
    colours.extend(BODIES.iter().map(|&c| faded(c, 0.7)));
    let mut grey = 80u8;
    while colours.len() < PALETTE_LEN {
        colours.push(RGBColor(grey, grey, grey));
        grey += 24;
    }
    colours
}

/// The colour of body `i`, faded by `shade` (0 = full, 1 and 2 = trail shades).
fn body_colour(i: usize, shade: usize) -> RGBColor {
    let c = BODIES[i % BODIES.len()];
    match shade {
        0 => c,
        1 => faded(c, 0.35),
        _ => faded(c, 0.7),
    }
}

/// Maps RGB pixels onto the nearest palette entry, remembering each colour it has seen.
struct Quantizer {
    palette: Vec<RGBColor>,
    seen: HashMap<[u8; 3], u8>,
}

impl Quantizer {
    fn new(palette: Vec<RGBColor>) -> Self {
        let seen = palette
            .iter()
            .enumerate()
            .map(|(i, c)| ([c.0, c.1, c.2], i as u8))
            .collect();
        Self { palette, seen }
    }

    fn index(&mut self, rgb: [u8; 3]) -> u8 {
        if let Some(&i) = self.seen.get(&rgb) {
            return i;
        }
        let distance = |c: &RGBColor| {
            let d = |a: u8, b: u8| (a as i32 - b as i32).pow(2);
            d(c.0, rgb[0]) + d(c.1, rgb[1]) + d(c.2, rgb[2])
        };
        let (i, _) = self
            .palette
            .iter()
            .enumerate()
            .min_by_key(|(_, c)| distance(c))
            .expect("the palette is not empty");
        self.seen.insert(rgb, i as u8);
        i as u8
    }

    fn frame(&mut self, rgb: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(rgb.len() / 3);
        let mut last: Option<([u8; 3], u8)> = None;
        for pixel in rgb.chunks_exact(3) {
            let p = [pixel[0], pixel[1], pixel[2]];
            let i = match last {
                Some((q, i)) if q == p => i,
                _ => self.index(p),
            };
            last = Some((p, i));
            out.push(i);
        }
        out
    }
}

/// Writes the animation of `frames` as a looping GIF to `sink`.
pub fn write_gif(
    frames: &Frames,
    picture: &Picture,
    title: &str,
    settings: &Settings,
    sink: impl Write,
) -> Result<()> {
    let Settings { width, height, fps } = *settings;
    let w = u16::try_from(width).map_err(|_| anyhow!("width {width} is too large for a GIF"))?;
    let h = u16::try_from(height).map_err(|_| anyhow!("height {height} is too large for a GIF"))?;
    crate::output::style::register_fonts();
    let palette = picture.palette();
    let flat: Vec<u8> = palette.iter().flat_map(|c| [c.0, c.1, c.2]).collect();
    let mut encoder = gif::Encoder::new(sink, w, h, &flat)?;
    encoder.set_repeat(gif::Repeat::Infinite)?;
    let mut quantizer = Quantizer::new(palette);
    let delay = (100.0 / fps as f64).round().max(1.0) as u16;
    let scene = match picture {
        Picture::Mechanism(g) => Scene::mechanism(frames, g, width, height),
        Picture::Field(view) => Scene::Field(FieldScene::new(view, frames)),
        Picture::Phase => Scene::phase(frames, width, height),
    };
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    for k in 0..frames.t.len() {
        for pixel in rgb.chunks_exact_mut(3) {
            pixel.copy_from_slice(&[BACKGROUND.0, BACKGROUND.1, BACKGROUND.2]);
        }
        if let Scene::Field(field) = &scene {
            field.raster(&mut rgb, width, &frames.q[k]);
        }
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
            scene.draw(&root, frames, k, title).map_err(draw_error)?;
            root.present().map_err(draw_error)?;
        }
        let mut frame = gif::Frame {
            width: w,
            height: h,
            delay,
            buffer: quantizer.frame(&rgb).into(),
            ..gif::Frame::default()
        };
        frame.dispose = gif::DisposalMethod::Keep;
        encoder.write_frame(&frame)?;
    }
    Ok(())
}

fn draw_error(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("cannot draw the animation: {e}")
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;
type DrawResult<'a> =
    Result<(), DrawingAreaErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>>;

/// What is drawn on every frame, set up once from all the frames (fixed axes).
enum Scene {
    Mechanism {
        geometry: Geometry,
        /// Body positions per frame, in pixels.
        pixels: Vec<Vec<(i32, i32)>>,
        pivot: (i32, i32),
        radius: i32,
        trail: usize,
    },
    Phase {
        panels: Vec<Panel>,
        radius: i32,
    },
    /// A lattice field; its heatmap pixels are written before the drawing (`raster`).
    Field(FieldScene),
}

/// One phase portrait: coordinate `index`, drawn in the pixel box `origin` + `size`.
struct Panel {
    index: usize,
    origin: (i32, i32),
    size: (i32, i32),
    /// (q, q̇) of every frame, in pixels.
    pixels: Vec<(i32, i32)>,
}

/// Height of the title band, in pixels.
fn title_band(height: u32) -> i32 {
    (height as i32 / 14).clamp(12, 40)
}

fn font_size(height: u32) -> i32 {
    (height as i32 / 24).clamp(9, 26)
}

/// `[low, high]` of `values`, widened to a non-empty range.
fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        low = low.min(v);
        high = high.max(v);
    }
    if !low.is_finite() {
        return (-1.0, 1.0);
    }
    if high - low < 1e-12 * (1.0 + low.abs()) {
        return (low - 0.5, high + 0.5);
    }
    (low, high)
}

impl Scene {
    fn mechanism(frames: &Frames, geometry: &Geometry, width: u32, height: u32) -> Self {
        let world: Vec<Vec<[f64; 2]>> = frames.q.iter().map(|q| geometry.positions(q)).collect();
        let pivot = geometry.has_pivot().then_some([0.0, 0.0]);
        let all = || world.iter().flatten().chain(pivot.iter());
        let (x0, x1) = range(all().map(|p| p[0]));
        let (y0, y1) = range(all().map(|p| p[1]));
        let radius = (width.min(height) as i32 / 40).max(3);
        let margin = 2 * radius + 4;
        let top = title_band(height);
        let (wide, high) = (
            (width as i32 - 2 * margin).max(1) as f64,
            (height as i32 - 2 * margin - top).max(1) as f64,
        );
        // one scale for both axes: lengths and angles look right
        let scale = (wide / (x1 - x0)).min(high / (y1 - y0));
        let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let (px, py) = (width as f64 / 2.0, top as f64 + margin as f64 + high / 2.0);
        let to_pixel = |p: [f64; 2]| {
            (
                (px + (p[0] - cx) * scale).round() as i32,
                (py - (p[1] - cy) * scale).round() as i32,
            )
        };
        let pixels = world
            .iter()
            .map(|points| points.iter().map(|&p| to_pixel(p)).collect())
            .collect();
        Scene::Mechanism {
            geometry: geometry.clone(),
            pixels,
            pivot: to_pixel([0.0, 0.0]),
            radius,
            trail: (frames.t.len() / 3).max(10),
        }
    }

    fn phase(frames: &Frames, width: u32, height: u32) -> Self {
        let n = frames.coordinates.len().min(MAX_PANELS);
        let columns = (n as f64).sqrt().ceil().max(1.0) as i32;
        let rows = (n as i32 + columns - 1) / columns.max(1);
        let top = title_band(height);
        let cell = (
            width as i32 / columns.max(1),
            (height as i32 - top) / rows.max(1),
        );
        let pad = font_size(height) + 6;
        let panels = (0..n)
            .map(|index| {
                let (c, r) = (index as i32 % columns, index as i32 / columns);
                let origin = (c * cell.0 + 6, top + r * cell.1 + pad);
                let size = ((cell.0 - 12).max(4), (cell.1 - pad - 6).max(4));
                let (q0, q1) = range(frames.q.iter().map(|q| q[index]));
                let (v0, v1) = range(frames.q_dot.iter().map(|v| v[index]));
                let inner = |value: f64, low: f64, high: f64, extent: i32| {
                    let f = ((value - low) / (high - low)).clamp(0.0, 1.0);
                    (8.0 + f * (extent - 16).max(1) as f64).round() as i32
                };
                let pixels = frames
                    .q
                    .iter()
                    .zip(&frames.q_dot)
                    .map(|(q, v)| {
                        (
                            origin.0 + inner(q[index], q0, q1, size.0),
                            origin.1 + size.1 - inner(v[index], v0, v1, size.1),
                        )
                    })
                    .collect();
                Panel {
                    index,
                    origin,
                    size,
                    pixels,
                }
            })
            .collect();
        Scene::Phase {
            panels,
            radius: (width.min(height) as i32 / 60).max(3),
        }
    }

    fn draw<'a>(&self, root: &Area<'a>, frames: &Frames, k: usize, title: &str) -> DrawResult<'a> {
        let (width, height) = root.dim_in_pixel();
        let text = format!("{title}   t = {:.2}", frames.t[k]);
        // a long title on a small picture gets a smaller font rather than being cut off
        let mut size = font_size(height);
        while size > 9
            && root
                .estimate_text_size(
                    &text,
                    &TextStyle::from((crate::output::style::FAMILY, size).into_font()),
                )
                .is_ok_and(|(w, _)| w + 16 > width)
        {
            size -= 1;
        }
        let font = (crate::output::style::FAMILY, size).into_font().color(&INK);
        root.draw(&Text::new(
            text,
            (8, (title_band(height) - size) / 2),
            font.clone(),
        ))?;
        let line = |c: RGBColor, width: u32| ShapeStyle {
            color: c.to_rgba(),
            filled: false,
            stroke_width: width,
        };
        let fill = |c: RGBColor| ShapeStyle {
            color: c.to_rgba(),
            filled: true,
            stroke_width: 1,
        };
        match self {
            Scene::Mechanism {
                geometry,
                pixels,
                pivot,
                radius,
                trail,
            } => {
                if geometry.trail {
                    let window = &pixels[k.saturating_sub(*trail)..=k];
                    let older = (window.len() - 1) / 2;
                    for (j, pair) in window.windows(2).enumerate() {
                        // older half lighter: the trail fades behind the body
                        let shade = if j < older { 2 } else { 1 };
                        for (body, (&a, &b)) in pair[0].iter().zip(&pair[1]).enumerate() {
                            root.draw(&PathElement::new(
                                vec![a, b],
                                line(body_colour(body, shade), 2),
                            ))?;
                        }
                    }
                }
                let at = |anchor: Option<usize>| anchor.map_or(*pivot, |i| pixels[k][i]);
                for link in &geometry.links {
                    let (a, b) = (at(link.from), at(link.to));
                    let path = match link.kind {
                        LinkKind::Rod => vec![a, b],
                        LinkKind::Spring => zigzag(a, b, (*radius).max(4)),
                    };
                    root.draw(&PathElement::new(path, line(ROD, 3)))?;
                }
                if geometry.has_pivot() {
                    let r = (*radius / 2).max(2);
                    root.draw(&Rectangle::new(
                        [(pivot.0 - r, pivot.1 - r), (pivot.0 + r, pivot.1 + r)],
                        fill(INK),
                    ))?;
                }
                for (body, &p) in pixels[k].iter().enumerate() {
                    root.draw(&Circle::new(p, *radius, fill(body_colour(body, 0))))?;
                }
            }
            Scene::Field(field) => field.draw(root, &frames.q[k])?,
            Scene::Phase { panels, radius } => {
                let label = (crate::output::style::FAMILY, (size * 4 / 5).max(8))
                    .into_font()
                    .color(&INK);
                for panel in panels {
                    let (x, y) = panel.origin;
                    let (w, h) = panel.size;
                    let name = &frames.coordinates[panel.index];
                    root.draw(&Text::new(
                        format!("{name} vs {name}_dot"),
                        (x, y - size),
                        label.clone(),
                    ))?;
                    root.draw(&Rectangle::new([(x, y), (x + w, y + h)], line(MID, 1)))?;
                    root.draw(&PathElement::new(panel.pixels.clone(), line(FAINT, 2)))?;
                    let start = k.saturating_sub(frames.t.len() / 10 + 2);
                    root.draw(&PathElement::new(
                        panel.pixels[start..=k].to_vec(),
                        line(body_colour(panel.index, 1), 2),
                    ))?;
                    root.draw(&Circle::new(
                        panel.pixels[k],
                        *radius,
                        fill(body_colour(panel.index, 0)),
                    ))?;
                }
            }
        }
        Ok(())
    }
}

/// A spring from `a` to `b` as a zigzag of `amplitude` pixels, with straight ends.
fn zigzag(a: (i32, i32), b: (i32, i32), amplitude: i32) -> Vec<(i32, i32)> {
    const TEETH: usize = 10;
    let (dx, dy) = ((b.0 - a.0) as f64, (b.1 - a.1) as f64);
    let length = dx.hypot(dy);
    if length < 1.0 {
        return vec![a, b];
    }
    let (nx, ny) = (-dy / length, dx / length);
    let point = |f: f64, side: f64| {
        (
            (a.0 as f64 + f * dx + side * amplitude as f64 * nx).round() as i32,
            (a.1 as f64 + f * dy + side * amplitude as f64 * ny).round() as i32,
        )
    };
    let mut path = vec![a, point(0.1, 0.0)];
    for i in 0..TEETH {
        let f = 0.1 + 0.8 * (i as f64 + 0.5) / TEETH as f64;
        path.push(point(f, if i % 2 == 0 { 1.0 } else { -1.0 }));
    }
    path.push(point(0.9, 0.0));
    path.push(b);
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_has_the_advertised_size_and_maps_its_own_colours_to_themselves() {
        let colours = palette();
        assert_eq!(colours.len(), PALETTE_LEN);
        let mut q = Quantizer::new(colours.clone());
        assert_eq!(q.index([255, 255, 255]), 0);
        assert_eq!(q.index([1, 1, 1]), 1);
    }

    #[test]
    fn zigzag_starts_and_ends_at_the_anchors() {
        let path = zigzag((0, 0), (100, 0), 5);
        assert_eq!(path.first(), Some(&(0, 0)));
        assert_eq!(path.last(), Some(&(100, 0)));
    }
}
