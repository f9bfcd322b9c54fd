//! Anti-aliased lines and circles for PNG figures: a [`DrawingBackend`] that wraps another
//! (the bitmap backend) and draws strokes by pixel coverage.
//!
//! **Why written here.** `plotters`' bitmap backend draws a line of width w ≥ 2 as a polygon
//! filled scanline by scanline, blended only at the two ends of each scanline, and a 1-px line
//! with Bresenham steps: nearly vertical or nearly horizontal curves come out as jagged steps,
//! and a dense, noisy curve (an energy error over 10⁴ steps) breaks into isolated pixels. No
//! other backend of plotters anti-aliases, and drawing at twice the size and downscaling would
//! mean scaling every pixel size of every figure. Here a stroke is the set of points within w/2
//! of its polyline; each pixel gets the coverage `clamp(w/2 + ½ − d, 0, 1)` of its centre at
//! distance d, the largest over the whole polyline (so joints are not painted twice), and is
//! blended once with that alpha. Circles (markers) likewise. Rectangles, polygons (heatmap
//! cells, bars, axis-aligned already) and text (anti-aliased by the font rasterizer) pass
//! through unchanged.

use plotters::prelude::DrawingBackend;
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};
use std::collections::HashMap;

/// The wrapped backend, drawing strokes and circles by coverage.
pub struct AntiAliased<B> {
    inner: B,
}

impl<B: DrawingBackend> AntiAliased<B> {
    /// Wraps `inner`.
    pub fn new(inner: B) -> Self {
        Self { inner }
    }

    /// Blends `colour` into every pixel with the coverage it has in `coverage`.
    fn paint(
        &mut self,
        coverage: HashMap<(i32, i32), f64>,
        colour: BackendColor,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        let (w, h) = self.inner.get_size();
        for ((x, y), c) in coverage {
            if c > 0.0 && x >= 0 && y >= 0 && (x as u32) < w && (y as u32) < h {
                self.inner.draw_pixel((x, y), colour.mix(c.min(1.0)))?;
            }
        }
        Ok(())
    }
}

/// Coverage of the pixel centred at distance `d` from the centre line of a stroke `width` wide.
fn cover(width: f64, d: f64) -> f64 {
    (0.5 * width + 0.5 - d).clamp(0.0, 1.0)
}

/// Adds to `coverage` (keeping the larger value per pixel) the stroke of the segment `a`–`b`.
fn segment(coverage: &mut HashMap<(i32, i32), f64>, a: (f64, f64), b: (f64, f64), width: f64) {
    let reach = 0.5 * width + 1.0;
    let (x0, x1) = (a.0.min(b.0) - reach, a.0.max(b.0) + reach);
    let (y0, y1) = (a.1.min(b.1) - reach, a.1.max(b.1) + reach);
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    for y in y0.floor() as i32..=y1.ceil() as i32 {
        for x in x0.floor() as i32..=x1.ceil() as i32 {
            let (px, py) = (x as f64, y as f64);
            // the nearest point of the segment (its start when it is a point)
            let t = if len2 > 0.0 {
                (((px - a.0) * dx + (py - a.1) * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let d = (px - a.0 - t * dx).hypot(py - a.1 - t * dy);
            let c = cover(width, d);
            if c > 0.0 {
                let e = coverage.entry((x, y)).or_insert(0.0);
                *e = e.max(c);
            }
        }
    }
}

fn point(p: BackendCoord) -> (f64, f64) {
    (p.0 as f64, p.1 as f64)
}

impl<B: DrawingBackend> DrawingBackend for AntiAliased<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        // grid lines and ticks are axis-aligned 1-px lines: crisp as they are
        if style.stroke_width() <= 1 && (from.0 == to.0 || from.1 == to.1) {
            return self.inner.draw_line(from, to, style);
        }
        self.draw_path([from, to], style)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let colour = style.color();
        if colour.alpha == 0.0 || style.stroke_width() == 0 {
            return Ok(());
        }
        let width = style.stroke_width() as f64;
        let mut coverage = HashMap::new();
        let mut previous: Option<BackendCoord> = None;
        for p in path {
            // consecutive duplicates (common where many samples share a pixel) add nothing
            if previous != Some(p) {
                let a = previous.map_or(point(p), point);
                segment(&mut coverage, a, point(p), width);
                previous = Some(p);
            }
        }
        self.paint(coverage, colour)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let colour = style.color();
        if colour.alpha == 0.0 {
            return Ok(());
        }
        let r = radius as f64;
        let width = style.stroke_width().max(1) as f64;
        let reach = (r + 0.5 * width + 1.0).ceil() as i32;
        let mut coverage = HashMap::new();
        for y in -reach..=reach {
            for x in -reach..=reach {
                let d = (x as f64).hypot(y as f64);
                let c = if fill {
                    (r + 0.5 - d).clamp(0.0, 1.0)
                } else {
                    cover(width, (d - r).abs())
                };
                if c > 0.0 {
                    coverage.insert((center.0 + x, center.1 + y), c);
                }
            }
        }
        self.paint(coverage, colour)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_text(text, style, pos)
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        self.inner.estimate_text_size(text, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;

    /// Draws with `draw` on a white 100 × 60 canvas and returns, per pixel, how dark it is
    /// (0 white … 1 black).
    fn ink(draw: impl FnOnce(&mut AntiAliased<BitMapBackend<'_>>)) -> Vec<f64> {
        let mut rgb = vec![255u8; 100 * 60 * 3];
        {
            let mut b = AntiAliased::new(BitMapBackend::with_buffer(&mut rgb, (100, 60)));
            draw(&mut b);
            b.present().unwrap();
        }
        rgb.chunks(3).map(|p| 1.0 - p[0] as f64 / 255.0).collect()
    }

    /// A slanted 2-px line has partly covered pixels along its edges, and its ink is its area
    /// (2 × length, plus the round caps' π·1²) to within a few percent: no pixel is painted
    /// twice at the joints, none is lost.
    #[test]
    fn a_slanted_line_is_anti_aliased_and_has_its_area() {
        let style = ShapeStyle::from(&BLACK).stroke_width(2);
        let pts = [(10, 10), (50, 30), (90, 50)];
        let ink = ink(|b| b.draw_path(pts, &style).unwrap());
        let partial = ink.iter().filter(|&&v| v > 0.02 && v < 0.98).count();
        assert!(partial > 40, "{partial} partly covered pixels");
        let length = 2.0 * 40f64.hypot(20.0);
        let area = 2.0 * length + std::f64::consts::PI;
        let total: f64 = ink.iter().sum();
        // pixel-centre sampling of the coverage: a few percent from the exact area
        assert!((total - area).abs() < 0.05 * area, "{total} vs {area}");
    }

    /// A horizontal 2-px line centred on a pixel row covers that row fully and the rows beside
    /// it by half: exactly a band 2 px wide.
    #[test]
    fn a_horizontal_line_is_exactly_two_pixels_of_ink_wide() {
        let style = ShapeStyle::from(&BLACK).stroke_width(2);
        let ink = ink(|b| b.draw_path([(20, 30), (80, 30)], &style).unwrap());
        let at = |x: usize, y: usize| ink[y * 100 + x];
        assert!((at(50, 30) - 1.0).abs() < 0.01);
        assert!((at(50, 29) - 0.5).abs() < 0.01 && (at(50, 31) - 0.5).abs() < 0.01);
        assert!(at(50, 28) < 0.01 && at(50, 32) < 0.01);
    }

    /// A filled marker has the area of its disc.
    #[test]
    fn a_filled_circle_has_its_area() {
        let style = ShapeStyle::from(&BLACK).filled();
        let ink = ink(|b| b.draw_circle((50, 30), 6, &style, true).unwrap());
        let total: f64 = ink.iter().sum();
        let area = std::f64::consts::PI * 36.0;
        assert!((total - area).abs() < 0.03 * area, "{total} vs {area}");
    }
}
