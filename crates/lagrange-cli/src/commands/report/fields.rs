//! Report section 10: particles in given fields learned from data (the cyclotron's B, E × B),
//! lattice fields and particles coupled to them — the lattice dispersion
//! relation, the order of the kink's lattice error, energy conservation, a particle radiating
//! into a string (with its kymograph), and the cost per site of the compiled density.

use super::{Context, Section, log_slope, sci, table};
use crate::output::field_rows::FieldRows;
use crate::output::plot_learn::{LineAxes, Series, lines};
use anyhow::{Context as _, Result};
use lagrange::expr::TextSystem;
use lagrange::field::FieldSystem;
use lagrange::field::exact::{klein_gordon_omega, sine_gordon_kink};
use lagrange::integrators::{Method, NoObserver, simulate};
use lagrange::mechanics::EquationsOfMotion;
use lagrange::systems::System;
use lagrange::{Lagrangian, jacobi_integral};
use lagrange_jit::CompiledEquations;
use lagrange_learn::{GenerateSpec, LearnOptions, Restricted, TextModel, generate, learn};
use std::f64::consts::PI;
use std::time::Instant;

pub const TITLE: &str = "Can it capture interactions between particles and fields?";

fn field(toml: &str) -> Result<FieldSystem> {
    FieldSystem::from_toml_str(toml).map_err(|e| anyhow::anyhow!("{e}"))
}

fn klein_gordon(sites: usize, a: f64, k: f64) -> Result<FieldSystem> {
    field(&format!(
        "[field]\nnames = [\"phi\"]\nsites = [{sites}]\nspacing = {a:?}\nboundary = \"periodic\"\n\
         density = \"0.5*phi_t^2 - 0.5*phi_x^2 - 0.5*phi^2\"\n[parameters]\nk = {k:?}\n\
         [initial]\nphi = \"cos(k*x)\"\n"
    ))
}

fn sine_gordon(sites: usize, a: f64, v: f64, x0: f64, boundary: &str) -> Result<FieldSystem> {
    field(&format!(
        "name = \"sine-Gordon\"\n[field]\nnames = [\"phi\"]\nsites = [{sites}]\nspacing = {a:?}\n\
         boundary = \"{boundary}\"\ndensity = \"0.5*phi_t^2 - 0.5*phi_x^2 - (1 - cos(phi))\"\n\
         [parameters]\nv = {v:?}\nx0 = {x0:?}\n[initial]\n\
         phi = \"4*atan(exp((x - x0)/sqrt(1 - v^2)))\"\n\
         phi_t = \"-2*v/sqrt(1 - v^2)/cosh((x - x0)/sqrt(1 - v^2))\"\n"
    ))
}

const RADIATING: &str = include_str!("../../../../../examples/particle-string.toml");
const CYCLOTRON: &str = include_str!("../../../../../examples/cyclotron.toml");
const EXB: &str = include_str!("../../../../../examples/exb-drift.toml");

/// Best of a few timed batches, seconds per call.
fn per_call(mut f: impl FnMut()) -> f64 {
    f();
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let mut calls = 0u32;
        let start = Instant::now();
        while calls < 3 || start.elapsed().as_secs_f64() < 0.05 {
            f();
            calls += 1;
        }
        best = best.min(start.elapsed().as_secs_f64() / calls as f64);
    }
    best
}

pub fn run(ctx: &mut Context) -> Result<Section> {
    let precise = Method::DormandPrince54 {
        rtol: 1e-11,
        atol: 1e-13,
    };
    let mut body = String::new();

    // 0. Particles in given fields, learned from data.
    ctx.log("fields: B and E learned from data");
    let mut rows = Vec::new();
    let mut worst_learned: f64 = 0.0;
    let samples = ctx.size(2_000, 300);
    for (label, toml, fitted) in [
        ("cyclotron", CYCLOTRON, &["B"][..]),
        ("E × B drift", EXB, &["E", "B"][..]),
    ] {
        let system = TextSystem::from_toml_str(toml)?;
        let truth = system.parameters();
        let fixed: Vec<(String, f64)> = truth
            .iter()
            .filter(|(n, _)| !fitted.contains(&n.as_str()))
            .cloned()
            .collect();
        let fit_names: Vec<String> = fitted.iter().map(|s| s.to_string()).collect();
        let mut model = Restricted::new(TextModel::from_toml_str(toml)?, Some(&fit_names), &fixed)?;
        for (name, value) in &truth {
            if fitted.contains(&name.as_str()) {
                model.set_initial(name, 0.5 * value)?;
            }
        }
        for noise in [0.0, 0.05] {
            let data = generate(
                &system,
                &GenerateSpec {
                    samples,
                    noise,
                    seed: 7,
                    ..GenerateSpec::default()
                },
            )?;
            let result = learn(&model, &data, &LearnOptions::default())?;
            let cells: Vec<String> = fitted
                .iter()
                .map(|name| {
                    let truth = truth
                        .iter()
                        .find(|(n, _)| n == name)
                        .map_or(f64::NAN, |p| p.1);
                    let value = result.parameters[*name];
                    if noise > 0.0 {
                        worst_learned = worst_learned.max((value - truth).abs() / truth);
                    }
                    let sigma = result.uncertainty.get(*name).copied().flatten();
                    format!(
                        "{name} = {value:.5}{} (true {truth})",
                        sigma.map_or(String::new(), |s| format!(" ± {}", sci(s)))
                    )
                })
                .collect();
            rows.push(vec![
                label.to_string(),
                format!("{:.0} %", 100.0 * noise),
                cells.join(", "),
            ]);
        }
    }
    body.push_str(&format!(
        "**Particles in given fields, learned from data.** The magnetic field of the cyclotron \
         and the crossed E and B of the E × B drift enter L as a velocity-dependent potential \
         (`½qB(x ẏ − y ẋ)`) and a potential (`qEy`). Learned from {samples} samples (q, q̇, q̈ \
         uniform in [-1, 1]ⁿ, noise σ = level × RMS on every column) by Levenberg–Marquardt from \
         half the true values, m and q fixed (only qB and qE are identifiable):\n\n"
    ));
    body.push_str(&table(
        &["system", "noise", "learned (± Gauss–Newton σ)"],
        &rows,
    ));
    body.push('\n');

    // 1. The lattice dispersion relation.
    ctx.log("fields: Klein–Gordon dispersion");
    let (sites, a) = (32, 0.25);
    let mut rows = Vec::new();
    let mut worst_dispersion: f64 = 0.0;
    for mode in [1, 5, 14] {
        let k = 2.0 * PI * mode as f64 / (sites as f64 * a);
        let system = klein_gordon(sites, a, k)?;
        let omega = klein_gordon_omega(1.0, k, a);
        let t_end = ctx.size(20.0, 3.0) * 2.0 * PI / omega;
        let (q, q_dot) = system.initial_state();
        let run = simulate(
            &system,
            &precise,
            0.0,
            &q,
            &q_dot,
            t_end,
            t_end,
            &mut NoObserver,
        )?;
        let (phi, phi_t) = (run.q[1][0], run.q_dot[1][0]);
        let phase = (-phi_t / omega).atan2(phi);
        let turns = ((omega * t_end - phase) / (2.0 * PI)).round();
        let measured = (phase + 2.0 * PI * turns) / t_end;
        let error = (measured - omega).abs() / omega;
        worst_dispersion = worst_dispersion.max(error);
        let continuum = (1.0 + k * k).sqrt();
        rows.push(vec![
            format!("{mode}"),
            format!("{:.3}", k * a),
            format!("{measured:.10}"),
            format!("{omega:.10}"),
            sci(error),
            format!("{:.1} %", 100.0 * (continuum - omega) / omega),
        ]);
    }
    body.push_str(&format!(
        "**Lattice dispersion.** The Klein–Gordon density `½φ_t² − ½φ_x² − ½m²φ²` (m = 1) on a ring \
         of {sites} sites, a = {a}, started as a single Fourier mode `cos kx`: its frequency, read \
         from the phase of φ₀ after {} periods (dopri5, rtol 1e-11), against the exact lattice \
         dispersion relation ω² = m² + (4/a²) sin²(ka/2) and the continuum ω² = m² + k².\n\n",
        ctx.size(20, 3)
    ));
    body.push_str(&table(
        &[
            "mode",
            "ka",
            "ω measured",
            "ω lattice (exact)",
            "relative error",
            "continuum ω off by",
        ],
        &rows,
    ));

    // 2. The kink's lattice error and its order.
    ctx.log("fields: sine-Gordon kink at three spacings");
    let (v, x0, length): (f64, f64, f64) = (0.5, 10.0, 34.0);
    let width = (1.0 - v * v).sqrt();
    let t_end = ctx.size(10.0, 2.0) * width / v;
    let spacings: Vec<f64> = ctx.size(vec![0.2, 0.1, 0.05], vec![0.4, 0.2]);
    let mut points = Vec::new();
    let mut rows = Vec::new();
    let kink_method = Method::DormandPrince54 {
        rtol: 1e-10,
        atol: 1e-12,
    };
    for &a in &spacings {
        let n = (length / a).round() as usize;
        let system = sine_gordon(n, a, v, x0, "free")?;
        let (q, q_dot) = system.initial_state();
        let run = simulate(
            &system,
            &kink_method,
            0.0,
            &q,
            &q_dot,
            t_end,
            t_end,
            &mut NoObserver,
        )?;
        let error = run.q[1]
            .iter()
            .enumerate()
            .map(|(i, &phi)| (phi - sine_gordon_kink(i as f64 * a, t_end, x0, v).0).abs())
            .fold(0.0, f64::max);
        points.push((a, error));
        rows.push(vec![format!("{a}"), format!("{n}"), sci(error)]);
    }
    let order = log_slope(&points);
    body.push_str(&format!(
        "\n**Kink on the lattice.** A sine-Gordon kink (`½φ_t² − ½φ_x² − (1 − cos φ)`, free ends) \
         started as the exact continuum kink at v = {v} and run for {:.1} time units ({} kink \
         widths): the largest difference from the continuum kink 4 atan(exp(γ(x − x0 − vt))) \
         shrinks as a^{order:.2} (fitted over the spacings below) — the O(a²) of the lattice \
         Laplacian the forward differences produce.\n\n",
        t_end,
        ctx.size(10, 2)
    ));
    body.push_str(&table(&["a", "sites", "max |φ − φ_kink|"], &rows));

    // 3. Energy of the variational integrator.
    ctx.log("fields: variational energy of the kink");
    let system = sine_gordon(ctx.size(240, 60), 0.1, v, ctx.size(8.0, 3.0), "free")?;
    let (q, q_dot) = system.initial_state();
    let t_var = ctx.size(8.0, 1.0);
    let run = simulate(
        &system,
        &Method::Variational,
        0.0,
        &q,
        &q_dot,
        t_var,
        0.01,
        &mut NoObserver,
    )?;
    let e0 = jacobi_integral(&system, 0.0, &q, &q_dot)?;
    let mut drift: f64 = 0.0;
    for ((q, q_dot), &t) in run.q.iter().zip(&run.q_dot).zip(&run.t) {
        drift = drift.max((jacobi_integral(&system, t, q, q_dot)? - e0).abs() / e0);
    }
    body.push_str(&format!(
        "\nThe same kink (a = 0.1) with the variational integrator, dt = 0.01 over t = {t_var}: \
         lattice energy {e0:.6} (continuum 8γ = {:.6}), largest relative change {}.\n",
        8.0 / width,
        sci(drift)
    ));

    // 4. A particle radiating into a string.
    ctx.log("fields: a particle radiating into a string");
    let system = field(RADIATING)?;
    let (q, q_dot) = system.initial_state();
    let (t_rad, dt) = (ctx.size(15.0, 4.0), 0.05);
    let run = simulate(
        &system,
        &Method::DormandPrince54 {
            rtol: 1e-10,
            atol: 1e-12,
        },
        0.0,
        &q,
        &q_dot,
        t_rad,
        dt,
        &mut NoObserver,
    )?;
    let x = system.particle_coordinate(0);
    let particle = |q: &[f64], q_dot: &[f64]| 0.5 * q_dot[x].powi(2) + 2.0 * q[x].powi(2);
    let mut own = Vec::new();
    let mut string = Vec::new();
    let mut total = Vec::new();
    let mut kymo = FieldRows::new(&system, run.t.len() as u64);
    for ((q, q_dot), &t) in run.q.iter().zip(&run.q_dot).zip(&run.t) {
        let (field_part, rest) = system.energy_parts(t, q, q_dot);
        own.push((t, particle(q, q_dot)));
        string.push((t, field_part));
        total.push((t, field_part + rest));
        kymo.push(t, q);
    }
    let e_total0 = total[0].1;
    let total_drift = total
        .iter()
        .map(|&(_, e)| (e - e_total0).abs())
        .fold(0.0, f64::max)
        / e_total0.abs();
    let lost = 1.0 - own.last().map_or(0.0, |p| p.1) / own[0].1;
    let command = "lagrange simulate examples/particle-string.toml --t-end 15 --dt 0.05 --plot fields-radiation.png";
    let (kymo_path, kymo_md) = ctx.figure(
        "fields-radiation.png",
        "The string's displacement φ(x, t) while the trapped particle (at x = 20) radiates into it: wave packets leave on both sides, a cloud of field stays bound to the particle.",
        Some(command),
    );
    kymo.render(
        "a particle radiating into a string",
        &kymo_path,
        ctx.plot_kind(),
    )
    .context("kymograph")?;
    let (energy_path, energy_md) = ctx.figure(
        "fields-radiation-energy.png",
        "Energies of the particle (½MẊ² + ½KX²), of the string (Σ a(φ_t ∂density/∂φ_t − density)) and of the whole system, particle–string coupling included.",
        None,
    );
    lines(
        &[
            Series {
                name: "particle".into(),
                points: own.clone(),
            },
            Series {
                name: "string".into(),
                points: string,
            },
            Series {
                name: "total".into(),
                points: total,
            },
        ],
        &LineAxes {
            title: "a particle radiating into a string: energies",
            x_label: "t",
            y_label: "energy",
            log_x: false,
            log_y: false,
        },
        &energy_path,
        ctx.plot_kind(),
    )?;
    body.push_str(&format!(
        "\n**A particle radiating into a string.** [`examples/particle-string.toml`](../../examples/particle-string.toml): \
         a particle in a harmonic trap (M = 1, K = 4: frequency 2) carries a charge smeared over \
         w = 0.5, coupled to a string of mass 1 (400 sites, so it radiates at frequencies above 1) (`coupling = \"-g*phi*exp(-(x - 20 - X)^2/(2*w^2))\"`). \
         Over t = {t_rad} it loses {:.0} % of its energy to waves in the string, while the total \
         energy of particle, string and coupling changes by {} (dopri5, rtol 1e-10).\n\n{kymo_md}\n{energy_md}",
        100.0 * lost,
        sci(total_drift)
    ));

    // 5. Cost per site.
    ctx.log("fields: cost per site of the compiled density");
    let n = ctx.size(100_000, 2_000);
    let system = sine_gordon(n, 0.01, v, 0.3 * n as f64 * 0.01, "periodic")?;
    let (q, q_dot) = system.initial_state();
    let mut out = vec![0.0; system.dof()];
    let mut compiled = CompiledEquations::new(&system)?;
    let mut autodiff = EquationsOfMotion::new(&system);
    let t_compiled = per_call(|| {
        let _ = compiled.accelerations_into(0.0, &q, &q_dot, &mut out);
    });
    let t_autodiff = per_call(|| {
        let _ = autodiff.accelerations_into(0.0, &q, &q_dot, &mut out);
    });
    let ns = |s: f64| 1e9 * s / n as f64;
    body.push_str(&format!(
        "\n**Cost.** q̈ of the sine-Gordon density on {n} sites: compiled term kernels {:.1} ns per \
         site, dual numbers {:.1} ns per site ({:.0}× slower), both linear in the sites. The \
         comparison with a hand-written stencil and with JAX is `lagrange bench --fields` \
         ([bench/README.md](../../bench/README.md)).\n",
        ns(t_compiled),
        ns(t_autodiff),
        t_autodiff / t_compiled
    ));
    ctx.shared.timings.push(format!(
        "fields: compiled density {:.1} ns/site per q̈ ({:.0}× dual numbers)",
        ns(t_compiled),
        t_autodiff / t_compiled
    ));

    Ok(Section {
        id: "fields",
        title: TITLE,
        summary: format!(
            "yes: lattice densities and particles coupled to them; dispersion to {}, kink error order {order:.2}, radiating particle's total energy to {}",
            sci(worst_dispersion),
            sci(total_drift)
        ),
        answer: format!(
            "**Yes.** Given fields are learned from a particle's motion (the cyclotron's B and \
             the E × B drift's E and B, to {:.1} % at 5 % noise). A field is a Lagrangian \
             density on a lattice (`[field]` in a system file), particles couple to it through a \
             coupling density, and the engine derives the lattice field equations exactly: a Fourier mode follows the lattice dispersion \
             relation to {}, a sine-Gordon kink matches the continuum one to O(a^{order:.2}), \
             and a particle radiating into a string loses {:.0} % of its energy to it with the \
             total conserved to {}.",
            100.0 * worst_learned,
            sci(worst_dispersion),
            100.0 * lost,
            sci(total_drift)
        ),
        body,
        slide_figure: Some("fields-radiation.png".into()),
    })
}
