//! Report section 3: energy, angular momentum and linear momentum over long runs, per
//! integrator: Kepler over many orbits and the figure-eight orbit of three bodies.

use super::{Context, Section, log_slope, sci, table};
use crate::output::plot_learn::{LineAxes, Series, lines};
use anyhow::Result;
use lagrange::integrators::{Method, NoObserver, simulate_streaming};
use lagrange::mechanics::{EquationsOfMotion, energy, momenta};
use lagrange::systems::{BuiltinSystem, System, by_name};
use std::ops::ControlFlow;
use std::time::Instant;

pub const TITLE: &str = "Are conservation laws kept over long runs?";

/// A growth exponent below this counts as bounded.
const BOUNDED: f64 = 0.3;
/// A largest error below this counts as roundoff.
const ROUNDOFF: f64 = 1e-11;
/// A largest relative error above this means the motion itself is lost (an orbit destroyed):
/// its growth no longer says anything.
const LOST: f64 = 0.5;

/// What the errors of one quantity along one run do.
#[derive(Clone, Copy, PartialEq)]
enum Class {
    Roundoff,
    Bounded,
    Drifts,
    Lost,
    Unknown,
}
/// Quantities tracked: energy, angular momentum, linear momentum.
const QUANTITIES: usize = 3;

/// Energy, angular momentum `Σ x p_y − y p_x` and linear momentum `(Σ p_x, Σ p_y)` of a planar
/// system whose coordinates are `x1, y1, x2, y2, …`, and the scales their errors are relative
/// to (|E|, Σ |x p_y − y p_x|, Σ |p|).
fn charges(system: &BuiltinSystem, t: f64, q: &[f64], v: &[f64]) -> ([f64; 4], [f64; 3]) {
    let e = energy(system, t, q, v).unwrap_or(f64::NAN);
    let p = momenta(system, t, q, v).unwrap_or_else(|_| vec![f64::NAN; q.len()]);
    let (mut l, mut px, mut py, mut l_scale, mut p_scale) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (r, m) in q.chunks(2).zip(p.chunks(2)) {
        let li = r[0] * m[1] - r[1] * m[0];
        l += li;
        l_scale += li.abs();
        px += m[0];
        py += m[1];
        p_scale += m[0].hypot(m[1]);
    }
    ([e, l, px, py], [e.abs(), l_scale, p_scale])
}

/// One long run: the largest error of each quantity per time window, and totals.
struct Run {
    method: String,
    /// `(window end, [max error of each quantity in the window])`.
    windows: Vec<(f64, [f64; QUANTITIES])>,
    /// Errors at the last row.
    last: [f64; QUANTITIES],
    /// Largest errors of the run.
    max: [f64; QUANTITIES],
    evaluations: u64,
    steps: u64,
    seconds: f64,
    /// Why the run stopped early, if it did.
    failure: Option<String>,
    /// The last output time reached.
    t_last: f64,
}

impl Run {
    /// Slope of log(window max error) against log(window end time) of quantity `k`.
    fn growth(&self, k: usize) -> f64 {
        let pts: Vec<(f64, f64)> = self.windows.iter().map(|(t, e)| (*t, e[k])).collect();
        log_slope(&pts)
    }

    /// The class of quantity `k`'s errors, from the measured numbers.
    fn class(&self, k: usize) -> Class {
        let g = self.growth(k);
        if !self.max[k].is_finite() || self.max[k] >= LOST {
            Class::Lost
        } else if self.max[k] < ROUNDOFF {
            Class::Roundoff
        } else if !g.is_finite() {
            Class::Unknown
        } else if g < BOUNDED {
            Class::Bounded
        } else {
            Class::Drifts
        }
    }

    /// The class in words, with the growth exponent.
    fn verdict(&self, k: usize) -> String {
        let g = self.growth(k);
        match self.class(k) {
            Class::Roundoff => "roundoff".into(),
            Class::Bounded => format!("bounded (t^{g:.2})"),
            Class::Drifts => format!("drifts ∝ t^{g:.2}"),
            Class::Lost => format!("lost (error ≥ {LOST})"),
            Class::Unknown => "–".into(),
        }
    }

    /// The method's name without its settings.
    fn short(&self) -> &str {
        self.method.split(' ').next().unwrap_or("")
    }
}

/// Integrates `system` from `(q0, v0)` to `t_end` with output interval `dt`, following the
/// relative errors of the charges in windows of length `window`.
fn track(
    system: &BuiltinSystem,
    method: &Method,
    q0: &[f64],
    v0: &[f64],
    t_end: f64,
    dt: f64,
    window: f64,
) -> Run {
    let (c0, scales) = charges(system, 0.0, q0, v0);
    let mut windows = Vec::new();
    let mut current = [0.0_f64; QUANTITIES];
    let mut max = [0.0_f64; QUANTITIES];
    let mut last = [0.0_f64; QUANTITIES];
    let mut window_end = window;
    let mut t_last = 0.0;
    let mut sink = |t: f64, q: &[f64], v: &[f64]| {
        let (c, _) = charges(system, t, q, v);
        let errors = [
            (c[0] - c0[0]).abs() / scales[0],
            (c[1] - c0[1]).abs() / scales[1],
            (c[2] - c0[2]).hypot(c[3] - c0[3]) / scales[2],
        ];
        for k in 0..QUANTITIES {
            current[k] = current[k].max(errors[k]);
            max[k] = max[k].max(errors[k]);
        }
        last = errors;
        t_last = t;
        if t >= window_end * (1.0 - 1e-12) || t >= t_end {
            windows.push((t, current));
            current = [0.0; QUANTITIES];
            window_end += window;
        }
        ControlFlow::Continue(())
    };
    let start = Instant::now();
    let result = simulate_streaming(
        system,
        Box::new(EquationsOfMotion::new(system)),
        method,
        0.0,
        q0,
        v0,
        t_end,
        dt,
        1,
        &mut sink,
        &mut NoObserver,
    );
    let seconds = start.elapsed().as_secs_f64();
    let (stats, failure) = match result {
        Ok(s) => (Some(s), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Run {
        method: match method {
            Method::DormandPrince54 { rtol, .. } => format!("dopri5 (rtol {})", sci(*rtol)),
            m => m.name().to_string(),
        },
        windows,
        last,
        max,
        evaluations: stats.map_or(0, |s| s.counts.evaluations),
        steps: stats.map_or(0, |s| s.counts.steps),
        seconds,
        failure,
        t_last,
    }
}

/// The methods compared, dopri5 at `rtol` (atol 1e-3 rtol).
fn methods(rtol: f64) -> [Method; 4] {
    [
        Method::Euler,
        Method::Rk4,
        Method::DormandPrince54 {
            rtol,
            atol: 1e-3 * rtol,
        },
        Method::Variational,
    ]
}

/// Table rows of `runs` for quantities `ks` (max, last, verdict each).
fn rows(system: &str, runs: &[Run], ks: &[usize], unit: f64) -> Vec<Vec<String>> {
    runs.iter()
        .map(|r| {
            let mut row = vec![
                system.to_string(),
                r.method.clone(),
                format!("{} ({} s)", r.evaluations, sci(r.seconds)),
            ];
            for &k in ks {
                row.push(sci(r.max[k]));
                row.push(sci(r.last[k]));
                row.push(r.verdict(k));
            }
            row.push(match &r.failure {
                Some(f) => format!("stopped after {} periods: {f}", sci(r.t_last / unit)),
                None => "–".into(),
            });
            row
        })
        .collect()
}

/// A log-y figure of quantity `k` per run, time in `unit`s.
#[allow(clippy::too_many_arguments)]
fn figure(
    ctx: &Context,
    runs: &[Run],
    k: usize,
    unit: f64,
    name: &str,
    title: &str,
    x_label: &str,
    y_label: &str,
    caption: &str,
) -> Result<String> {
    let series: Vec<Series> = runs
        .iter()
        .map(|r| Series {
            name: r.method.clone(),
            points: r.windows.iter().map(|(t, e)| (t / unit, e[k])).collect(),
        })
        .collect();
    let zeros: usize = runs
        .iter()
        .map(|r| r.windows.iter().filter(|w| w.1[k] == 0.0).count())
        .sum();
    let caption = if zeros > 0 {
        format!(
            "{caption} ({zeros} windows with an error of exactly 0 are not drawn on the log axis.)"
        )
    } else {
        caption.to_string()
    };
    let (path, md) = ctx.figure(name, &caption, None);
    lines(
        &series,
        &LineAxes {
            title,
            x_label,
            y_label,
            log_x: false,
            log_y: true,
        },
        &path,
        ctx.plot_kind(),
    )?;
    Ok(md)
}

pub fn run(ctx: &mut Context) -> Result<Section> {
    // Kepler over many orbits
    let kepler = by_name("kepler").expect("a built-in system");
    let (q0, v0) = kepler.initial_state();
    let period = match &kepler {
        BuiltinSystem::Kepler(k) => k.period(&q0, &v0),
        _ => None,
    }
    .ok_or_else(|| anyhow::anyhow!("the default Kepler orbit is not bound"))?;
    let orbits = ctx.size(10000.0, 2.0);
    let steps_per_orbit = 100.0;
    let windows = ctx.size(100.0, 8.0);
    let rtol = 1e-8;
    let mut kepler_runs = Vec::new();
    for method in methods(rtol) {
        ctx.log(&format!("conservation: Kepler, {}", method.name()));
        kepler_runs.push(track(
            &kepler,
            &method,
            &q0,
            &v0,
            orbits * period,
            period / steps_per_orbit,
            orbits * period / windows,
        ));
    }

    // the figure-eight choreography of three equal masses (Chenciner & Montgomery 2000, initial
    // conditions of Simó), no softening
    let mut nbody = by_name("n-body").expect("a built-in system");
    nbody.set_parameter("n", 3.0)?;
    nbody.set_parameter("eps", 0.0)?;
    let (x1, y1) = (0.970_004_36, -0.243_087_53);
    let (vx3, vy3) = (-0.932_407_37, -0.864_731_46);
    let nq0 = vec![x1, y1, -x1, -y1, 0.0, 0.0];
    let nv0 = vec![-0.5 * vx3, -0.5 * vy3, -0.5 * vx3, -0.5 * vy3, vx3, vy3];
    let eight_period = 6.325_913_98;
    let periods = ctx.size(1000.0, 2.0);
    let steps_per_period = ctx.size(500.0, 200.0);
    let n_t_end = periods * eight_period;
    let n_dt = eight_period / steps_per_period;
    let mut nbody_runs = Vec::new();
    for method in methods(rtol) {
        ctx.log(&format!("conservation: 3 bodies, {}", method.name()));
        nbody_runs.push(track(
            &nbody,
            &method,
            &nq0,
            &nv0,
            n_t_end,
            n_dt,
            n_t_end / windows,
        ));
    }

    // what the numbers say
    let find = |runs: &[Run], name: &str| {
        runs.iter()
            .position(|r| r.method.starts_with(name))
            .unwrap_or(0)
    };
    let (ke, kr, kd, kv) = (
        find(&kepler_runs, "euler"),
        find(&kepler_runs, "rk4"),
        find(&kepler_runs, "dopri5"),
        find(&kepler_runs, "variational"),
    );
    let k = &kepler_runs;
    let of = |classes: &[Class]| -> Vec<&str> {
        k.iter()
            .filter(|r| classes.contains(&r.class(0)))
            .map(|r| r.short())
            .collect()
    };
    let bounded = of(&[Class::Roundoff, Class::Bounded]);
    let drifting = of(&[Class::Drifts]);
    let lost = of(&[Class::Lost]);
    let list = |v: &[&str]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    let lost_text = if lost.is_empty() {
        String::new()
    } else {
        format!(
            ", and {} {} the orbit itself (energy error ≥ {LOST})",
            list(&lost),
            if lost.len() == 1 { "loses" } else { "lose" }
        )
    };
    let worst_p = nbody_runs.iter().map(|r| r.max[2]).fold(0.0_f64, f64::max);
    let variational_l_nbody = nbody_runs[find(&nbody_runs, "variational")].max[1];
    let rk4_l_nbody = nbody_runs[find(&nbody_runs, "rk4")].max[1];

    let momentum = if worst_p < ROUNDOFF {
        format!(
            "stays at roundoff for every method (largest relative error {}), as it must: \
             Runge–Kutta and variational methods preserve linear invariants",
            sci(worst_p)
        )
    } else {
        let per: Vec<String> = nbody_runs
            .iter()
            .map(|r| format!("{} {}", r.method, sci(r.max[2])))
            .collect();
        format!("reaches a relative error of {}", per.join(", "))
    };
    let noether = if k[kv].max[1] < 0.1 * k[kr].max[1].min(k[kd].max[1]) {
        " (the discrete Noether theorem at work)"
    } else {
        ""
    };
    let summary = format!(
        "over {orbits} Kepler orbits ({steps_per_orbit} steps each) the energy error stays bounded for {} and drifts for {}{lost_text}: max relative energy error variational {}, rk4 {}, dopri5 {}, euler {}; angular momentum: variational {}, rk4 {}; 3-body total momentum error at most {}",
        list(&bounded),
        list(&drifting),
        sci(k[kv].max[0]),
        sci(k[kr].max[0]),
        sci(k[kd].max[0]),
        sci(k[ke].max[0]),
        sci(k[kv].max[1]),
        sci(k[kr].max[1]),
        sci(worst_p)
    );
    let answer = format!(
        "Over {orbits} Kepler orbits at {steps_per_orbit} steps per orbit, the energy error \
         stays bounded (growth exponent below {BOUNDED}) for {} and grows for {}{lost_text}: \
         the largest \
         relative energy error is {} for variational (growth t^{:.2}), {} for rk4 \
         (t^{:.2}), {} for dopri5 at rtol {} (t^{:.2}) and {} for euler. The largest angular \
         momentum error is {} for the variational integrator{noether}, against {} for rk4 and \
         {} for dopri5. On the 3-body figure-eight the total linear momentum {momentum}; the \
         angular momentum error there is {} for variational against {} for rk4.",
        list(&bounded),
        list(&drifting),
        sci(k[kv].max[0]),
        k[kv].growth(0),
        sci(k[kr].max[0]),
        k[kr].growth(0),
        sci(k[kd].max[0]),
        sci(rtol),
        k[kd].growth(0),
        sci(k[ke].max[0]),
        sci(k[kv].max[1]),
        sci(k[kr].max[1]),
        sci(k[kd].max[1]),
        sci(variational_l_nbody),
        sci(rk4_l_nbody)
    );

    let mut body = format!(
        "**Kepler** (μ = 1, e = 0.44, period T = {}) from perihelion for {orbits} orbits; \
         euler, rk4 and variational at dt = T/{steps_per_orbit}, dopri5 at rtol = {}, atol = {} \
         with output every T/{steps_per_orbit} (its dense output). **3 bodies** (G = 1, unit \
         masses, no softening): the figure-eight choreography (Chenciner–Montgomery; period \
         {}) for {periods} periods, at dt = period/{steps_per_period} (dopri5: output \
         interval). Errors are relative: |E − E₀|/|E₀|, |L − L₀| / Σᵢ|xᵢ p_yᵢ − yᵢ p_xᵢ| \
         (L = Σ x p_y − y p_x from the canonical momenta p = ∂L/∂q̇), |P − P₀| / Σᵢ|pᵢ| (P the \
         total momentum), checked at every output. *Growth*: the least-squares slope of \
         log(largest error in a window) against log(time) over {windows} equal windows; \
         *bounded* below {BOUNDED}, *roundoff* when the largest error stays below {}, *lost* \
         when it reaches {LOST} (the motion itself is wrong; its growth says nothing). \
         Evaluations: q̈ evaluations (Newton iterations for variational), with the run's wall \
         time.\n\n",
        sci(period),
        sci(rtol),
        sci(1e-3 * rtol),
        sci(eight_period),
        sci(ROUNDOFF),
    );
    body.push_str(&table(
        &[
            "system",
            "method",
            "evaluations (time)",
            "energy: max",
            "energy: final",
            "energy: growth",
            "angular momentum: max",
            "final",
            "growth",
            "failure",
        ],
        &rows(
            &format!("Kepler, {orbits} orbits"),
            &kepler_runs,
            &[0, 1],
            period,
        ),
    ));
    body.push('\n');
    body.push_str(&table(
        &[
            "system",
            "method",
            "evaluations (time)",
            "energy: max",
            "energy: final",
            "energy: growth",
            "angular momentum: max",
            "final",
            "growth",
            "linear momentum: max",
            "final",
            "growth",
            "failure",
        ],
        &rows(
            &format!("figure-eight, {periods} periods"),
            &nbody_runs,
            &[0, 1, 2],
            eight_period,
        ),
    ));
    let failures: Vec<String> = kepler_runs
        .iter()
        .map(|r| ("Kepler", r))
        .chain(nbody_runs.iter().map(|r| ("figure-eight", r)))
        .filter_map(|(s, r)| {
            r.failure
                .as_ref()
                .map(|f| format!("- {s}, {}: {f}\n", r.method))
        })
        .collect();
    if failures.is_empty() {
        body.push_str("\nEvery run reached its end time.\n");
    } else {
        body.push_str(
            "\nRuns that stopped early (their rows and curves cover the time before the failure):\n\n",
        );
        for f in &failures {
            body.push_str(f);
        }
    }
    let steps: Vec<String> = kepler_runs
        .iter()
        .map(|r| format!("{} {} steps", r.method, r.steps))
        .collect();
    body.push_str(&format!(
        "\nAccepted steps on Kepler: {}.\n\n",
        steps.join(", ")
    ));

    body.push_str(&figure(
        ctx,
        &kepler_runs,
        0,
        period,
        "conservation-kepler-energy.png",
        "Kepler: relative energy error",
        "time (orbits)",
        "max |E − E₀| / |E₀| per window",
        &format!(
            "Kepler (e = 0.44) over {orbits} orbits: the largest relative energy error in each \
             of {windows} windows, per integrator, log y."
        ),
    )?);
    body.push('\n');
    body.push_str(&figure(
        ctx,
        &kepler_runs,
        1,
        period,
        "conservation-kepler-angular-momentum.png",
        "Kepler: relative angular momentum error",
        "time (orbits)",
        "max |L − L₀| / |L₀| per window",
        &format!(
            "Kepler (e = 0.44) over {orbits} orbits: the largest relative angular momentum error \
             in each of {windows} windows, per integrator, log y."
        ),
    )?);
    body.push('\n');
    body.push_str(&figure(
        ctx,
        &nbody_runs,
        2,
        eight_period,
        "conservation-3-body-momentum.png",
        "3-body figure-eight: total linear momentum error",
        "time (periods)",
        "max |P − P₀| / Σ|pᵢ| per window",
        &format!(
            "Three-body figure-eight over {periods} periods: the largest error of the total linear \
             momentum in each of {windows} windows, relative to Σ|pᵢ|, per integrator, log y."
        ),
    )?);
    body.push('\n');
    body.push_str(&figure(
        ctx,
        &nbody_runs,
        0,
        eight_period,
        "conservation-3-body-energy.png",
        "3-body figure-eight: relative energy error",
        "time (periods)",
        "max |E − E₀| / |E₀| per window",
        &format!(
            "Three-body figure-eight over {periods} periods: the largest relative energy error in each \
             of {windows} windows, per integrator, log y."
        ),
    )?);

    let per_step = |r: &Run| 1e6 * r.seconds / r.steps.max(1) as f64;
    ctx.shared.timings.push(format!(
        "Kepler over {orbits} orbits at T/{steps_per_orbit}, energy and angular momentum checked at every step: rk4 {:.2} s ({:.2} µs/step), variational {:.2} s ({:.2} µs/step), dopri5 rtol {} {:.2} s",
        k[kr].seconds,
        per_step(&k[kr]),
        k[kv].seconds,
        per_step(&k[kv]),
        sci(rtol),
        k[kd].seconds
    ));

    Ok(Section {
        id: "conservation",
        title: TITLE,
        summary,
        answer,
        body,
        slide_figure: Some("conservation-kepler-energy.png".into()),
    })
}
