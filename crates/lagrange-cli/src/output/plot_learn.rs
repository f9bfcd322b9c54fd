//! Figures of the learning commands: the loss curve of a fit (`learn --plot`), the loss landscape
//! as a heatmap on a log colour scale with the optimizer's path (`landscape --plot`), and the
//! parameter error against the noise level (`noise-sweep --plot`). PNG or SVG by extension.

use super::PlotKind;
use super::style::{
    BAR_WIDTH, BLUE, CAPTION_SIZE, Chart, DrawError, FAMILY, HEATMAP, LINE, MARGIN, ORANGE, PAIR,
    PALETTE, SINGLE, TITLE_SIZE, VERMILLION, aligned, axes, colour_bar, emptiest_corner,
    emptiest_corner_count, fraction, headroom, legend, render, swatch, tick, viridis,
};
use anyhow::Result;
use lagrange_learn::landscape::Landscape;
use lagrange_learn::noise::SweepRow;
use lagrange_learn::optim::HistoryEntry;
use plotters::coord::Shift;
use plotters::coord::ranged1d::AsRangedCoord;
use plotters::prelude::*;
use std::path::Path;

/// The loss in axis titles: the sum over samples of the squared acceleration residual (written
/// d²q/dt²: DejaVu's combining diaeresis lands beside a q, not over it).
const LOSS: &str = "ε = Σ |d²q/dt² − Q|²";

/// A figure's single chart over `x` × `y`, titled `title`, with the margin and label areas the
/// figures share (`y_label_area` wide).
fn chart<'a, DB: DrawingBackend, X: AsRangedCoord, Y: AsRangedCoord>(
    root: &'a DrawingArea<DB, Shift>,
    (title, size): (&str, u32),
    y_label_area: u32,
    x: X,
    y: Y,
) -> Result<Chart<'a, DB, X::CoordDescType, Y::CoordDescType>, DrawError<DB>> {
    ChartBuilder::on(root)
        .caption(title, (FAMILY, size))
        .margin(MARGIN)
        .x_label_area_size(50)
        .y_label_area_size(y_label_area)
        .build_cartesian_2d(x, y)
}

/// The legend corner of a chart over `x` × `y` (log axes where said) holding `points`.
fn corner<'p>(
    points: impl IntoIterator<Item = &'p (f64, f64)>,
    (x, log_x): ((f64, f64), bool),
    (y, log_y): ((f64, f64), bool),
) -> SeriesLabelPosition {
    emptiest_corner(
        points
            .into_iter()
            .map(|&(a, b)| (fraction(a, x, log_x), fraction(b, y, log_y))),
    )
}

/// The loss per iteration on a log axis.
pub fn loss_curve(
    history: &[HistoryEntry],
    title: &str,
    path: &Path,
    kind: PlotKind,
) -> Result<()> {
    let positive: Vec<f64> = history
        .iter()
        .map(|h| h.loss)
        .filter(|l| *l > 0.0 && l.is_finite())
        .collect();
    let lo = positive.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = positive.iter().copied().fold(0.0_f64, f64::max);
    let (lo, hi) = if lo.is_finite() && hi > 0.0 {
        (lo, hi)
    } else {
        (1e-300, 1.0)
    };
    let floor = lo / 10.0;
    let (ylo, yhi) = if hi > lo * 1.01 {
        (floor, hi * 2.0)
    } else {
        (lo / 10.0, lo * 10.0)
    };
    let last = history.last().map_or(1, |h| h.iteration.max(1));
    let points: Vec<(f64, f64)> = history
        .iter()
        .map(|h| {
            (
                h.iteration as f64,
                if h.loss > 0.0 { h.loss } else { floor },
            )
        })
        .collect();
    render!(path, kind, SINGLE, |root| {
        let mut chart = chart(
            root,
            (title, TITLE_SIZE),
            90,
            0.0..last as f64,
            (ylo..yhi).log_scale(),
        )?;
        axes(&mut chart, "iteration", &format!("loss {LOSS}"))
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .x_label_formatter(&|v| tick(*v))
            .draw()?;
        chart.draw_series(LineSeries::new(
            points.iter().copied(),
            BLUE.stroke_width(LINE),
        ))?;
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, BLUE.filled())))?;
    })
}

/// The landscape as a heatmap of `log10(loss)`, with an optional optimizer path `(x, y)`.
pub fn heatmap(
    land: &Landscape,
    path_points: Option<&[(f64, f64)]>,
    title: &str,
    path: &Path,
    kind: PlotKind,
) -> Result<()> {
    let finite: Vec<f64> = land
        .loss
        .iter()
        .flatten()
        .copied()
        .filter(|l| l.is_finite() && *l >= 0.0)
        .collect();
    let positive_min = finite
        .iter()
        .copied()
        .filter(|l| *l > 0.0)
        .fold(f64::INFINITY, f64::min);
    let floor = if positive_min.is_finite() {
        positive_min
    } else {
        1e-300
    };
    let lmax = finite.iter().copied().fold(floor, f64::max);
    // dynamic range capped at 12 decades below the maximum, so that one exact zero does not
    // wash out the picture
    let (clo, chi) = ((floor.max(lmax * 1e-12)).log10(), lmax.log10());
    let (clo, chi) = if chi > clo {
        (clo, chi)
    } else {
        (clo - 1.0, chi + 1.0)
    };
    let level = |l: f64| ((l.max(1e-300).log10() - clo) / (chi - clo)).clamp(0.0, 1.0);
    let (xs, ys) = (&land.x.values, &land.y.values);
    let (nx, ny) = (xs.len(), ys.len());
    let dx = (xs[nx - 1] - xs[0]) / (nx - 1) as f64;
    let dy = (ys[ny - 1] - ys[0]) / (ny - 1) as f64;
    let xr = (xs[0] - dx / 2.0)..(xs[nx - 1] + dx / 2.0);
    let yr = (ys[0] - dy / 2.0)..(ys[ny - 1] + dy / 2.0);
    let best = land.minimum();
    let path_pts: Vec<(f64, f64)> = path_points.map(|p| p.to_vec()).unwrap_or_default();
    let (xname, yname) = (land.x.name.clone(), land.y.name.clone());
    render!(path, kind, HEATMAP, |root| {
        let root = super::style::titled(root, title)?;
        let (w, _) = root.dim_in_pixel();
        let (main, bar) = root.split_horizontally(w as i32 - BAR_WIDTH as i32);
        let mut chart = ChartBuilder::on(&main)
            .margin(MARGIN)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(xr.clone(), yr.clone())?;
        chart.draw_series((0..nx * ny).map(|k| {
            let (i, j) = (k % nx, k / nx);
            let l = land.loss[j][i];
            let c = if l.is_finite() {
                viridis(level(l))
            } else {
                RGBColor(200, 200, 200)
            };
            Rectangle::new(
                [
                    (xs[i] - dx / 2.0, ys[j] - dy / 2.0),
                    (xs[i] + dx / 2.0, ys[j] + dy / 2.0),
                ],
                c.filled(),
            )
        }))?;
        axes(&mut chart, &xname, &yname)
            .disable_mesh()
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .draw()?;
        if path_pts.len() > 1 {
            chart
                .draw_series(LineSeries::new(
                    path_pts.iter().copied(),
                    VERMILLION.stroke_width(3),
                ))?
                .label("optimizer path")
                .legend(swatch(VERMILLION));
            chart.draw_series(
                path_pts
                    .iter()
                    .map(|&p| Circle::new(p, 4, VERMILLION.filled())),
            )?;
            chart.draw_series(std::iter::once(Circle::new(
                path_pts[0],
                7,
                WHITE.stroke_width(3),
            )))?;
        }
        if let Some((bx, by, _)) = best {
            chart
                .draw_series(std::iter::once(Cross::new(
                    (bx, by),
                    8,
                    WHITE.stroke_width(3),
                )))?
                .label("grid minimum")
                .legend(|(x, y)| Cross::new((x + 10, y), 6, BLACK.stroke_width(LINE)));
        }
        let marks: Vec<(f64, f64)> = path_pts
            .iter()
            .copied()
            .chain(best.map(|b| (b.0, b.1)))
            .collect();
        let x_span = (xr.start, xr.end);
        let y_span = (yr.start, yr.end);
        legend(&mut chart, corner(&marks, (x_span, false), (y_span, false)))?;
        let (_, rows) = chart.plotting_area().get_pixel_range();
        colour_bar(
            &bar,
            (clo, chi),
            "log10 loss",
            aligned(rows, &bar),
            &|v| viridis((v - clo) / (chi - clo)),
            &|v| format!("{v:.1}"),
        )?;
    })
}

/// Mean relative parameter error (± one standard deviation) against the noise level, for the
/// naive and the bias-aware fit.
pub fn noise_sweep(rows: &[SweepRow], title: &str, path: &Path, kind: PlotKind) -> Result<()> {
    let pct = |v: f64| 100.0 * v;
    let xmax = rows
        .iter()
        .map(|r| pct(r.level))
        .fold(0.0_f64, f64::max)
        .max(1e-3);
    let ymax = rows
        .iter()
        .flat_map(|r| [r.naive_mean + r.naive_std, r.aware_mean + r.aware_std])
        .filter(|v| v.is_finite())
        .map(pct)
        .fold(0.0_f64, f64::max)
        .max(1e-6);
    let series = [
        ("naive least squares", BLUE, true),
        ("bias-aware (SIMEX)", ORANGE, false),
    ];
    let pad = 0.04 * xmax;
    render!(path, kind, SINGLE, |root| {
        let mut chart = chart(
            root,
            (title, TITLE_SIZE),
            80,
            -pad..xmax + pad,
            0.0..ymax * 1.1,
        )?;
        axes(
            &mut chart,
            "noise level σ / RMS (%)",
            "relative parameter error (%)",
        )
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .draw()?;
        for (k, (name, color, naive)) in series.iter().enumerate() {
            let shift = if k == 0 { -0.2 * pad } else { 0.2 * pad };
            let pts: Vec<(f64, f64, f64)> = rows
                .iter()
                .map(|r| {
                    let (m, s) = if *naive {
                        (r.naive_mean, r.naive_std)
                    } else {
                        (r.aware_mean, r.aware_std)
                    };
                    (pct(r.level) + shift, pct(m), pct(s))
                })
                .filter(|p| p.1.is_finite())
                .collect();
            let c = *color;
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|p| (p.0, p.1)),
                    c.stroke_width(LINE),
                ))?
                .label(*name)
                .legend(swatch(c));
            chart.draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 5, c.filled())))?;
            for p in &pts {
                let s = if p.2.is_finite() { p.2 } else { 0.0 };
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(p.0, (p.1 - s).max(0.0)), (p.0, p.1 + s)],
                    c.stroke_width(LINE),
                )))?;
            }
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    })
}

/// How the starts of a multi-start run ended, for its figure's title and note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartsSummary {
    /// Distinct minima that at least one start converged to.
    pub minima: usize,
    /// Starts that converged.
    pub converged: usize,
    /// Starts stopped at the iteration cap.
    pub capped: usize,
}

impl StartsSummary {
    /// The summary of `minima` (failed starts are in none of them).
    pub fn of(minima: &[lagrange_learn::result::Minimum]) -> Self {
        Self {
            minima: minima.iter().filter(|m| m.is_converged()).count(),
            converged: minima.iter().map(|m| m.converged.min(m.count)).sum(),
            capped: minima
                .iter()
                .map(|m| m.count - m.converged.min(m.count))
                .sum(),
        }
    }
}

/// The sentence that says how to let capped runs finish (`None` when none was capped): their
/// number, the cap `iterations`, and a larger `--iterations`.
pub fn capped_note(summary: &StartsSummary, iterations: usize) -> Option<String> {
    (summary.capped > 0).then(|| {
        format!(
            "{} of {} runs stopped at the iteration cap ({iterations}) before converging: \
             rerun with --iterations {} to let them finish",
            summary.capped,
            summary.capped + summary.converged,
            (iterations * 10).max(100)
        )
    })
}

/// Multi-start: where the starts ended, clustered and sorted by loss (log axis), each bar
/// labelled with how many starts ended there — shows at a glance whether the optimizer gets
/// trapped. A filled bar is a minimum (some start converged there); a hollow one is only where
/// runs stopped at the iteration cap. `note` (what to do about capped runs) goes under the chart.
pub fn minima(
    minima: &[lagrange_learn::result::Minimum],
    title: &str,
    note: Option<&str>,
    path: &Path,
    kind: PlotKind,
) -> Result<()> {
    let mut sorted: Vec<_> = minima.iter().filter(|m| m.loss.is_finite()).collect();
    sorted.sort_by(|a, b| a.loss.total_cmp(&b.loss));
    let floor = sorted
        .iter()
        .map(|m| m.loss)
        .filter(|l| *l > 0.0)
        .fold(f64::INFINITY, f64::min);
    let floor = if floor.is_finite() {
        floor / 10.0
    } else {
        1e-300
    };
    let hi = sorted.iter().map(|m| m.loss).fold(floor * 10.0, f64::max) * 10.0;
    // (position, loss, starts, converged starts)
    let bars: Vec<(f64, f64, usize, usize)> = sorted
        .iter()
        .enumerate()
        .map(|(i, m)| {
            (
                (i + 1) as f64,
                m.loss.max(floor),
                m.count,
                m.converged.min(m.count),
            )
        })
        .collect();
    let n = bars.len().max(1);
    let (x_span, y_span) = ((0.5, n as f64 + 0.5), (floor, hi));
    // the legend avoids the bars and their count labels
    let occupied: Vec<(f64, f64)> = bars
        .iter()
        .flat_map(|&(x, l, _, _)| {
            (0..=8).map(move |s| (x, floor * (l * 3.0 / floor).powf(s as f64 / 8.0)))
        })
        .collect();
    let where_ = corner(&occupied, (x_span, false), (y_span, true));
    let hollow = |c: RGBColor| c.stroke_width(LINE);
    render!(path, kind, SINGLE, |root| {
        let (w, h) = root.dim_in_pixel();
        let body = match note {
            Some(text) => {
                let (body, foot) = root.split_vertically(h as i32 - 40);
                let style = TextStyle::from((FAMILY, 17).into_font()).pos(
                    plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Center,
                        plotters::style::text_anchor::VPos::Center,
                    ),
                );
                foot.draw_text(text, &style, (w as i32 / 2, 16))?;
                body
            }
            None => root.clone(),
        };
        let mut chart = chart(
            &body,
            (title, TITLE_SIZE - 2),
            90,
            x_span.0..x_span.1,
            (floor..hi).log_scale(),
        )?;
        axes(
            &mut chart,
            "end point of the starts (sorted by loss)",
            &format!("final loss {LOSS}"),
        )
        .disable_x_mesh()
        .x_labels(n.min(20))
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .x_label_formatter(&|v| format!("{}", v.round() as i64))
        .draw()?;
        let rect = |x: f64, l: f64| [(x - 0.35, floor), (x + 0.35, l)];
        chart
            .draw_series(
                bars.iter()
                    .filter(|b| b.3 > 0)
                    .map(|&(x, l, _, _)| Rectangle::new(rect(x, l), BLUE.filled())),
            )?
            .label("converged: a minimum")
            .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], BLUE.filled()));
        if bars.iter().any(|b| b.3 == 0) {
            chart
                .draw_series(
                    bars.iter()
                        .filter(|b| b.3 == 0)
                        .map(|&(x, l, _, _)| Rectangle::new(rect(x, l), hollow(VERMILLION))),
                )?
                .label("stopped at the iteration cap: not a minimum")
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 20, y + 6)], hollow(VERMILLION))
                });
        }
        chart.draw_series(bars.iter().map(|&(x, l, count, converged)| {
            let label = if converged == count || converged == 0 {
                format!("{count}×")
            } else {
                format!("{count}× ({} capped)", count - converged)
            };
            Text::new(
                label,
                (x - 0.2, l * 1.6),
                (FAMILY, 15).into_font().color(&BLACK),
            )
        }))?;
        legend(&mut chart, where_)?;
    })
}

/// Neural training: train and validation mean squared q̈ error per step, log scale.
pub fn train_curve(
    history: &[lagrange_learn::neural::train::HistoryPoint],
    title: &str,
    path: &Path,
    kind: PlotKind,
) -> Result<()> {
    let values: Vec<f64> = history
        .iter()
        .flat_map(|h| [h.train, h.validation])
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(0.0_f64, f64::max);
    let (lo, hi) = if lo.is_finite() && hi > 0.0 {
        (lo / 2.0, hi * 2.0)
    } else {
        (1e-6, 1.0)
    };
    let last = history.last().map_or(1, |h| h.step.max(1));
    let series = |f: fn(&lagrange_learn::neural::train::HistoryPoint) -> f64| -> Vec<(f64, f64)> {
        history
            .iter()
            .map(|h| (h.step as f64, f(h)))
            .filter(|p| p.1.is_finite() && p.1 > 0.0)
            .collect()
    };
    let train = series(|h| h.train);
    let validation = series(|h| h.validation);
    render!(path, kind, SINGLE, |root| {
        let mut chart = chart(
            root,
            (title, TITLE_SIZE),
            90,
            0.0..last as f64,
            (lo..hi).log_scale(),
        )?;
        axes(&mut chart, "step", "mean squared error of d²q/dt²")
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .x_label_formatter(&|v| tick(*v))
            .draw()?;
        chart
            .draw_series(LineSeries::new(
                train.iter().copied(),
                BLUE.stroke_width(LINE),
            ))?
            .label("train (minibatches)")
            .legend(swatch(BLUE));
        if !validation.is_empty() {
            chart
                .draw_series(LineSeries::new(
                    validation.iter().copied(),
                    ORANGE.stroke_width(LINE),
                ))?
                .label("validation")
                .legend(swatch(ORANGE));
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    })
}

/// `lagrange evaluate`: the energy error against time (model vs the true system's own rollout,
/// mean over the initial conditions, log scale) and one rollout of the model against the truth.
pub fn evaluation(
    judgement: &lagrange_learn::neural::Judgement,
    coordinates: &[String],
    title: &str,
    path: &Path,
    kind: PlotKind,
) -> Result<()> {
    let j = judgement;
    let t_end = j.times.last().copied().unwrap_or(1.0).max(1e-12);
    let positive: Vec<f64> = j
        .energy_error_vs_time
        .iter()
        .chain(&j.truth_energy_error_vs_time)
        .copied()
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    let hi = positive.iter().copied().fold(1e-300_f64, f64::max) * 3.0;
    let lo = positive
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .max(hi * 1e-14)
        .min(hi / 10.0);
    let curve = |v: &[f64]| -> Vec<(f64, f64)> {
        j.times
            .iter()
            .zip(v)
            .filter(|(_, e)| e.is_finite())
            .map(|(t, e)| (*t, e.max(lo)))
            .collect()
    };
    let model_curve = curve(&j.energy_error_vs_time);
    let truth_curve = curve(&j.truth_energy_error_vs_time);
    // the rollout panel shows the first tenth of the run (at least 10 time units): over the
    // whole run the oscillations fill the panel
    let window = (t_end / 10.0).max(10.0_f64.min(t_end));
    let shown = j.times.iter().take_while(|t| **t <= window).count();
    let qs: Vec<f64> = j.example_model[..shown.min(j.example_model.len())]
        .iter()
        .chain(&j.example_truth[..shown.min(j.example_truth.len())])
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let qlo = qs.iter().copied().fold(f64::INFINITY, f64::min);
    let qhi = qs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (qlo, qhi) = if qlo.is_finite() && qhi > qlo {
        let pad = 0.05 * (qhi - qlo);
        (qlo - pad, qhi + pad)
    } else {
        (-1.0, 1.0)
    };
    const PALETTE: [RGBColor; 4] = [BLUE, ORANGE, VERMILLION, RGBColor(44, 160, 44)];
    render!(path, kind, PAIR, |root| {
        let root = super::style::titled(root, title)?;
        let (left, right) = root.split_horizontally(700);
        let mut energy = chart(
            &left,
            ("energy error |E(t) − E(0)| / scale", CAPTION_SIZE),
            90,
            0.0..t_end,
            (lo..hi).log_scale(),
        )?;
        axes(&mut energy, "t", "mean over initial conditions")
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .x_label_formatter(&|v| tick(*v))
            .draw()?;
        energy
            .draw_series(LineSeries::new(
                model_curve.iter().copied(),
                BLUE.stroke_width(LINE),
            ))?
            .label("learned model")
            .legend(swatch(BLUE));
        energy
            .draw_series(LineSeries::new(
                truth_curve.iter().copied(),
                ORANGE.stroke_width(LINE),
            ))?
            .label("true system (integrator only)")
            .legend(swatch(ORANGE));
        legend(&mut energy, SeriesLabelPosition::LowerRight)?;
        let mut rollout = chart(
            &right,
            (
                &format!(
                    "initial condition 0, t ≤ {}: model (dashed), truth (solid)",
                    tick(window)
                ),
                CAPTION_SIZE,
            ),
            70,
            0.0..window,
            qlo..qhi,
        )?;
        // ticks within rounding of 0 print as 0, not 2.2e-16
        let snap = |v: f64| if v.abs() < 1e-9 * (qhi - qlo) { 0.0 } else { v };
        axes(&mut rollout, "t", "q")
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(snap(*v)))
            .draw()?;
        for (i, name) in coordinates.iter().enumerate() {
            let c = PALETTE[i % PALETTE.len()];
            let truth: Vec<(f64, f64)> = j.times[..shown]
                .iter()
                .zip(&j.example_truth)
                .map(|(t, q)| (*t, q[i]))
                .collect();
            rollout
                .draw_series(LineSeries::new(truth, c.stroke_width(LINE)))?
                .label(name.as_str())
                .legend(swatch(c));
            let model: Vec<(f64, f64)> = j.times[..shown]
                .iter()
                .zip(&j.example_model)
                .map(|(t, q)| (*t, q[i]))
                .collect();
            // dashes: every other short segment
            for seg in model.chunks(4).step_by(2) {
                rollout.draw_series(LineSeries::new(seg.iter().copied(), c.stroke_width(LINE)))?;
            }
        }
        legend(&mut rollout, SeriesLabelPosition::UpperRight)?;
    })
}

/// `lagrange extrapolate`: `log10` of the relative q̈ error on a grid, with the training box
/// outlined.
#[allow(clippy::too_many_arguments)]
pub fn error_map(
    xs: &[f64],
    ys: &[f64],
    error: &[f64],
    names: (&str, &str),
    training_box: Option<((f64, f64), (f64, f64))>,
    title: &str,
    path: &Path,
    kind: PlotKind,
) -> Result<()> {
    let (nx, ny) = (xs.len(), ys.len());
    let logs: Vec<f64> = error
        .iter()
        .map(|e| {
            if e.is_finite() && *e > 0.0 {
                e.log10()
            } else {
                f64::NAN
            }
        })
        .collect();
    let finite: Vec<f64> = logs.iter().copied().filter(|v| v.is_finite()).collect();
    let chi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let clo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let (clo, chi) = if chi.is_finite() && chi > clo {
        (clo.max(chi - 12.0), chi)
    } else {
        (-1.0, 1.0)
    };
    let dx = (xs[nx - 1] - xs[0]) / (nx - 1).max(1) as f64;
    let dy = (ys[ny - 1] - ys[0]) / (ny - 1).max(1) as f64;
    let xr = (xs[0] - dx / 2.0)..(xs[nx - 1] + dx / 2.0);
    let yr = (ys[0] - dy / 2.0)..(ys[ny - 1] + dy / 2.0);
    render!(path, kind, HEATMAP, |root| {
        let root = super::style::titled(root, title)?;
        let (w, _) = root.dim_in_pixel();
        let (main, bar) = root.split_horizontally(w as i32 - BAR_WIDTH as i32);
        let mut chart = ChartBuilder::on(&main)
            .margin(MARGIN)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(xr.clone(), yr.clone())?;
        chart.draw_series((0..nx * ny).map(|k| {
            let (i, j) = (k % nx, k / nx);
            let l = logs[j * nx + i];
            let c = if l.is_finite() {
                viridis((l - clo) / (chi - clo))
            } else {
                RGBColor(200, 200, 200)
            };
            Rectangle::new(
                [
                    (xs[i] - dx / 2.0, ys[j] - dy / 2.0),
                    (xs[i] + dx / 2.0, ys[j] + dy / 2.0),
                ],
                c.filled(),
            )
        }))?;
        axes(&mut chart, names.0, names.1)
            .disable_mesh()
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .draw()?;
        if let Some(((x0, x1), (y0, y1))) = training_box {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)],
                    WHITE.stroke_width(3),
                )))?
                .label("training data range")
                .legend(swatch(BLACK));
            let corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)];
            let x_span = (xr.start, xr.end);
            let y_span = (yr.start, yr.end);
            legend(
                &mut chart,
                corner(&corners, (x_span, false), (y_span, false)),
            )?;
        }
        let (_, rows) = chart.plotting_area().get_pixel_range();
        colour_bar(
            &bar,
            (clo, chi),
            "log10 relative error of d²q/dt²",
            aligned(rows, &bar),
            &|v| viridis((v - clo) / (chi - clo)),
            &|v| format!("{v:.1}"),
        )?;
    })
}

/// One curve of [`lines`].
pub struct Series {
    /// Legend entry.
    pub name: String,
    /// Points `(x, y)`; non-finite ones (and non-positive ones on a log axis) are skipped.
    pub points: Vec<(f64, f64)>,
}

/// Axes of [`lines`].
pub struct LineAxes<'a> {
    /// Title of the figure.
    pub title: &'a str,
    /// X axis label.
    pub x_label: &'a str,
    /// Y axis label.
    pub y_label: &'a str,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// Logarithmic y axis.
    pub log_y: bool,
}

/// Curves with markers on linear or logarithmic axes (the report's convergence, work–precision
/// and drift figures). Colours cycle through Okabe–Ito; past 8 curves the marker alternates
/// between circles and triangles so that no two curves look alike. The legend sits in the
/// quarter of the chart with the fewest points.
pub fn lines(series: &[Series], axes_spec: &LineAxes, path: &Path, kind: PlotKind) -> Result<()> {
    let keep = |x: f64, y: f64| {
        x.is_finite()
            && y.is_finite()
            && (!axes_spec.log_x || x > 0.0)
            && (!axes_spec.log_y || y > 0.0)
    };
    let points: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(|&(x, y)| keep(x, y))
        .collect();
    let bounds = |values: Vec<f64>, log: bool| -> (f64, f64) {
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        match (lo.is_finite(), log) {
            (false, true) => (0.1, 10.0),
            (false, false) => (0.0, 1.0),
            (true, true) => (lo / 1.5, hi * 1.5),
            (true, false) => {
                let pad = 0.05 * (hi - lo).max(1e-12 * hi.abs().max(1.0));
                (lo - pad, hi + pad)
            }
        }
    };
    let (x0, x1) = bounds(points.iter().map(|p| p.0).collect(), axes_spec.log_x);
    let (y0, mut y1) = bounds(points.iter().map(|p| p.1).collect(), axes_spec.log_y);
    // the legend goes in the corner with the fewest points; where every corner has some
    // (peaks at both sides, tails along the bottom), the top is raised to make room
    let fractions = |y1: f64| {
        points.iter().map(move |&(a, b)| {
            (
                fraction(a, (x0, x1), axes_spec.log_x),
                fraction(b, (y0, y1), axes_spec.log_y),
            )
        })
    };
    let (mut corner, covered) = emptiest_corner_count(fractions(y1));
    if covered > 0 {
        y1 = headroom((y0, y1), axes_spec.log_y);
        corner = emptiest_corner_count(fractions(y1)).0;
    }
    macro_rules! draw {
        ($x:expr, $y:expr) => {
            render!(path, kind, SINGLE, |root| {
                let mut chart = chart(root, (axes_spec.title, TITLE_SIZE), 90, $x, $y)?;
                axes(&mut chart, axes_spec.x_label, axes_spec.y_label)
                    .x_label_formatter(&|v| tick(*v))
                    .y_label_formatter(&|v| tick(*v))
                    .draw()?;
                for (k, s) in series.iter().enumerate() {
                    let color = PALETTE[k % PALETTE.len()];
                    let pts: Vec<(f64, f64)> = s
                        .points
                        .iter()
                        .copied()
                        .filter(|&(x, y)| keep(x, y))
                        .collect();
                    chart
                        .draw_series(LineSeries::new(
                            pts.iter().copied(),
                            color.stroke_width(LINE),
                        ))?
                        .label(s.name.as_str())
                        .legend(swatch(color));
                    if k / PALETTE.len() % 2 == 0 {
                        chart
                            .draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
                    } else {
                        chart.draw_series(
                            pts.iter()
                                .map(|&p| TriangleMarker::new(p, 5, color.filled())),
                        )?;
                    }
                }
                legend(&mut chart, corner)?;
            })
        };
    }
    match (axes_spec.log_x, axes_spec.log_y) {
        (true, true) => draw!((x0..x1).log_scale(), (y0..y1).log_scale()),
        (true, false) => draw!((x0..x1).log_scale(), y0..y1),
        (false, true) => draw!(x0..x1, (y0..y1).log_scale()),
        (false, false) => draw!(x0..x1, y0..y1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lagrange_learn::result::Minimum;

    fn minimum(loss: f64, count: usize, converged: usize) -> Minimum {
        Minimum {
            loss,
            mean_loss: loss,
            parameters: Default::default(),
            count,
            starts: (0..count).collect(),
            converged,
        }
    }

    #[test]
    fn capped_runs_are_no_minima() {
        let minima = [minimum(1.0, 3, 3), minimum(2.0, 2, 1), minimum(5.0, 4, 0)];
        let s = StartsSummary::of(&minima);
        assert_eq!(
            s,
            StartsSummary {
                minima: 2,
                converged: 4,
                capped: 5
            }
        );
        let note = capped_note(&s, 200).unwrap();
        assert!(note.contains("--iterations 2000"), "{note}");
        let all = StartsSummary::of(&[minimum(1.0, 2, 2)]);
        assert_eq!(capped_note(&all, 100), None);
    }

    #[test]
    fn the_minima_figure_renders_as_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let minima = [minimum(1.0, 3, 3), minimum(5.0, 4, 0)];
        for (name, kind) in [("m.png", PlotKind::Png), ("m.svg", PlotKind::Svg)] {
            let path = dir.path().join(name);
            minima_plot(&minima, "t", Some("note"), &path, kind).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            match kind {
                PlotKind::Png => assert!(bytes.starts_with(b"\x89PNG")),
                PlotKind::Svg => {
                    let text = String::from_utf8_lossy(&bytes);
                    assert!(
                        text.contains("<text") && text.contains("stopped at the iteration cap")
                    );
                }
            }
        }
    }

    use super::minima as minima_plot;
}
