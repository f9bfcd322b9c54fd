//! `lagrange symmetries`: Noether analysis by automatic differentiation. Which translations,
//! rotations, linear fields `ξ(q) = A q` and time shifts leave L invariant (the null space of
//! the Lie derivative of L at sampled states, `lagrange::mechanics::symmetry`), each with its
//! conserved charge and that charge's drift along a rollout; and which directions of the
//! parameters (or of a trained network's output layer) the motion does not see.

use crate::cli::SystemArgs;
use crate::options::{self, Problem};
use crate::system::AnySystem;
use anyhow::{Context, Result, bail};
use clap::Args;
use lagrange::expr::TextSystem;
use lagrange::integrators::{Method, NoObserver, Trajectory, simulate};
use lagrange::mechanics::symmetry::{Symmetry, SymmetryKind, find_symmetries};
use lagrange::mechanics::{accelerations, energy, lagrangian_value, momenta};
use lagrange::systems::System;
use lagrange_learn::identify::{
    FLAT_THRESHOLD, acceleration_jacobian, classify_flat, flat_directions,
};
use lagrange_learn::neural::{NeuralKind, NeuralModel};
use lagrange_learn::{PhaseBox, TextModel};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use std::io::Write;

#[derive(Debug, Args)]
pub struct SymmetriesArgs {
    #[command(flatten)]
    pub system: SystemArgs,

    /// Phase-space box of the sampled states, e.g. `x=-2:2,x_dot=-1:1`; unnamed dimensions use
    /// [-1, 1] (a trained model: its training range).
    #[arg(
        long = "box",
        value_name = "NAME=LOW:HIGH,...",
        allow_hyphen_values = true
    )]
    pub phase_box: Option<String>,

    /// Sampled states (default: twice the number of candidate generators, at least 200).
    #[arg(long, value_name = "N")]
    pub samples: Option<usize>,

    /// A null vector counts as a symmetry when its singular value is at most this fraction of
    /// the largest.
    #[arg(long, value_name = "TOL", default_value = "1e-6")]
    pub tolerance: String,

    /// Times are sampled in [0, T], and the charges are followed along a rollout from the
    /// initial state to T.
    #[arg(long, value_name = "T", default_value = "10")]
    pub t_end: String,

    /// Seed of the sampled states.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Output format: `text` or `json`.
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub format: String,
}

/// The most coordinates: the candidates grow as n², the SVD as n⁶.
const MAX_DOF: usize = 32;
/// Rows of the rollout.
const ROLLOUT_ROWS: f64 = 400.0;

pub fn run(args: &SymmetriesArgs) -> Result<()> {
    let format = args.format.trim().to_ascii_lowercase();
    if format != "json" && format != "text" {
        bail!(
            "unknown --format '{}' for symmetries (expected text or json)",
            args.format
        );
    }
    let tolerance = options::finite(&args.tolerance, "--tolerance")?;
    if !(tolerance > 0.0 && tolerance < 1.0) {
        bail!("--tolerance must be in (0, 1), got {tolerance}");
    }
    let t_end = options::finite(&args.t_end, "--t-end")?;
    if t_end <= 0.0 {
        bail!("--t-end must be > 0, got {t_end}");
    }
    let Problem {
        system,
        coordinates,
        q,
        q_dot,
    } = options::problem(&args.system)?;
    if !system.has_lagrangian() {
        bail!("a baseline model has no Lagrangian: it has no Noether symmetries to find");
    }
    let n = coordinates.len();
    if n > MAX_DOF {
        bail!(
            "symmetries tests n² linear generators: at most {MAX_DOF} coordinates, this system has {n}"
        );
    }
    let candidates = n + n * n + 1;
    let samples = args.samples.unwrap_or((2 * candidates).max(200));
    if samples < candidates {
        bail!(
            "--samples must be at least {candidates} (the number of candidate generators for {n} coordinates), got {samples}"
        );
    }
    if samples > 1_000_000 {
        bail!("--samples must be at most 1000000, got {samples}");
    }
    let bounds = sampling_box(&system, args.phase_box.as_deref(), &coordinates)?;
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let mut draw = |(lo, hi): (f64, f64)| {
        if hi > lo {
            rng.random_range(lo..hi)
        } else {
            lo
        }
    };
    let states: Vec<(f64, Vec<f64>, Vec<f64>)> = (0..samples)
        .map(|_| {
            let t = draw((0.0, t_end));
            let x: Vec<f64> = bounds.iter().map(|&b| draw(b)).collect();
            (t, x[..n].to_vec(), x[n..].to_vec())
        })
        .collect();

    let analysis = find_symmetries(&system, &states, tolerance)
        .with_context(|| format!("symmetries of '{}'", args.system.system))?;
    let method = Method::DormandPrince54 {
        rtol: 1e-10,
        atol: 1e-12,
    };
    let rollout = simulate(
        &system,
        &method,
        0.0,
        &q,
        &q_dot,
        t_end,
        t_end / ROLLOUT_ROWS,
        &mut NoObserver,
    );
    let rollout = match rollout {
        Ok(trajectory) => Some(trajectory),
        Err(e) => {
            eprintln!("note: the rollout failed ({e}); charge drifts are not measured");
            None
        }
    };

    let symmetries: Vec<Value> = analysis
        .symmetries
        .iter()
        .map(|s| {
            let drift = rollout.as_ref().and_then(|r| charge_drift(&system, s, r));
            let mut value = json!({
                "kind": s.kind.name(),
                "generator": generator(s, n),
                "singular_value": s.singular_value,
                "defect": s.defect,
                "charge": charge_text(s, &coordinates),
                "charge_drift": drift,
            });
            if s.kind == SymmetryKind::Linear {
                if s.translation.iter().any(|&b| b != 0.0) {
                    value["translation"] = json!(s.translation);
                }
                if s.time != 0.0 {
                    value["time"] = json!(s.time);
                }
            }
            value
        })
        .collect();
    let candidate_defects: Vec<Value> = analysis
        .candidates
        .iter()
        .map(|c| {
            let name = match c.kind {
                SymmetryKind::Translation => {
                    format!("translation {}", coordinates[c.coordinates[0]])
                }
                SymmetryKind::Rotation => format!(
                    "rotation {}-{}",
                    coordinates[c.coordinates[0]], coordinates[c.coordinates[1]]
                ),
                _ => "time".to_string(),
            };
            json!({"candidate": name, "kind": c.kind.name(), "defect": c.defect})
        })
        .collect();
    let (flat, flat_note) = flat(&system, &states);
    let value = json!({
        "system": system.title(),
        "coordinates": coordinates,
        "symmetries": symmetries,
        "candidates_tested": candidates,
        "flat_directions": flat,
        "samples": samples,
        "tolerance": tolerance,
        "t_end": t_end,
        "candidates": candidate_defects,
        "singular_values": analysis.singular_values,
    });
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if format == "json" {
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
    } else {
        write_text(&mut out, &system, &value, flat_note.as_deref())?;
    }
    out.flush()?;
    Ok(())
}

/// The ranges of `(q, q̇)`: `--box` over [-1, 1], or over a trained model's training range.
fn sampling_box(
    system: &AnySystem,
    spec: Option<&str>,
    coordinates: &[String],
) -> Result<Vec<(f64, f64)>> {
    let phase_box = PhaseBox::parse(spec.unwrap_or("")).context("--box")?;
    let mut bounds = phase_box.bounds(coordinates).context("--box")?;
    let trained = system.neural().and_then(|s| s.file.training_box.as_ref());
    if let Some(ranges) = trained {
        let given = |name: &str| phase_box.ranges.iter().any(|r| r.0 == name);
        let n = coordinates.len();
        for r in ranges.iter().filter(|r| !given(&r.name)) {
            let index = coordinates.iter().position(|c| *c == r.name).or_else(|| {
                coordinates
                    .iter()
                    .position(|c| format!("{c}_dot") == r.name)
                    .map(|i| n + i)
            });
            if let Some(i) = index {
                bounds[i] = (r.low, r.high);
            }
        }
    }
    Ok(bounds)
}

/// The generator as the contract writes it: the vector b of a translation, the n × n matrix A
/// of a rotation or linear field, the coefficient 1 of the time shift.
fn generator(s: &Symmetry, n: usize) -> Value {
    match s.kind {
        SymmetryKind::Translation => json!(s.translation),
        SymmetryKind::Time => json!(s.time),
        SymmetryKind::Rotation | SymmetryKind::Linear => {
            json!(s.matrix.chunks(n).collect::<Vec<_>>())
        }
    }
}

/// A coefficient with ten significant digits (`0.3333333333`, `1`, `-2`).
fn number(x: f64) -> String {
    let rounded: f64 = format!("{x:.9e}").parse().unwrap_or(x);
    format!("{rounded}")
}

/// `Σ cᵢ termᵢ` as text, coefficients ±1 written as signs.
fn sum_text(terms: &[(f64, String)]) -> String {
    let mut text = String::new();
    for (k, (c, term)) in terms.iter().enumerate() {
        let sign = if *c < 0.0 { "-" } else { "+" };
        match k {
            0 if sign == "-" => text.push('-'),
            0 => {}
            _ => text.push_str(&format!(" {sign} ")),
        }
        let size = number(c.abs());
        if size != "1" {
            text.push_str(&size);
            text.push('*');
        }
        text.push_str(term);
    }
    if text.is_empty() { "0".into() } else { text }
}

/// Noether's charge `Q = Σᵢ pᵢ ξᵢ(q) − τ E` as text, with `p_<name>` = ∂L/∂<name>_dot and
/// `E = Σ q̇ᵢ pᵢ − L`.
pub(crate) fn charge_text(s: &Symmetry, coordinates: &[String]) -> String {
    let n = coordinates.len();
    let mut terms: Vec<(f64, String)> = Vec::new();
    for (i, c) in coordinates.iter().enumerate() {
        if s.translation[i] != 0.0 {
            terms.push((s.translation[i], format!("p_{c}")));
        }
        for (j, d) in coordinates.iter().enumerate() {
            let a = s.matrix[i * n + j];
            if a != 0.0 {
                terms.push((a, format!("{d}*p_{c}")));
            }
        }
    }
    let energy = || {
        let parts: Vec<String> = coordinates
            .iter()
            .map(|c| format!("{c}_dot*p_{c}"))
            .collect();
        format!("{} - L", parts.join(" + "))
    };
    if s.kind == SymmetryKind::Time {
        return format!("E = {}", energy());
    }
    if s.time != 0.0 {
        terms.push((-s.time, "E".to_string()));
        return format!("{} (E = {})", sum_text(&terms), energy());
    }
    sum_text(&terms)
}

/// The charge's largest change along the rollout, relative to its size: `max |Q(t) − Q(0)|`
/// over the larger of `|Q(0)|` and the rollout's mean of `Σ |pᵢ ξᵢ| + |τ| (Σ |q̇ᵢ pᵢ| + |L|)`
/// (the size of its terms, so that a charge that is zero is not divided by zero). `None` where p or E is not finite.
pub(crate) fn charge_drift(system: &AnySystem, s: &Symmetry, rollout: &Trajectory) -> Option<f64> {
    let n = s.translation.len();
    let mut values = Vec::with_capacity(rollout.len());
    let mut size = 0.0;
    for k in 0..rollout.len() {
        let (t, q, q_dot) = (rollout.t[k], &rollout.q[k], &rollout.q_dot[k]);
        let p = momenta(system, t, q, q_dot).ok()?;
        let (mut charge, mut terms) = (0.0, 0.0);
        for (i, (p, row)) in p.iter().zip(s.matrix.chunks(n)).enumerate() {
            let xi = s.translation[i] + row.iter().zip(q).map(|(a, x)| a * x).sum::<f64>();
            charge += p * xi;
            terms += (p * xi).abs();
        }
        if s.time != 0.0 {
            // E = Σ q̇ᵢ pᵢ − L: its size is that of its terms (E itself may be 0)
            let e = energy(system, t, q, q_dot).ok()?;
            let l = lagrangian_value(system, t, q, q_dot).ok()?;
            charge -= s.time * e;
            let size: f64 = q_dot
                .iter()
                .zip(&p)
                .map(|(v, p)| (v * p).abs())
                .sum::<f64>()
                + l.abs();
            terms += s.time.abs() * size;
        }
        if !charge.is_finite() {
            return None;
        }
        values.push(charge);
        size += terms;
    }
    let first = *values.first()?;
    let scale = first.abs().max(size / values.len() as f64);
    let change = values.iter().fold(0.0_f64, |a, v| a.max((v - first).abs()));
    Some(if scale > 0.0 { change / scale } else { 0.0 })
}

/// The flat directions of the parameters (text and built-in systems) or of a trained model's
/// output layer, as JSON, with a note where none could be computed.
fn flat(system: &AnySystem, states: &[(f64, Vec<f64>, Vec<f64>)]) -> (Vec<Value>, Option<String>) {
    match system {
        AnySystem::Neural(s) => (network_flat(&s.model, states), None),
        AnySystem::Text(text) => parameter_flat(text.as_ref().clone(), states),
        AnySystem::Field(_) => (
            Vec::new(),
            Some("flat directions of a field's parameters are not computed".into()),
        ),
        AnySystem::Builtin(b) => match as_text(b) {
            Ok(text) => parameter_flat(text, states),
            Err(e) => (
                Vec::new(),
                Some(format!("flat directions not computed ({e:#})")),
            ),
        },
    }
}

/// A built-in system as a text system (its L in the expression language, with the parameters
/// that L names), so that its parameters can be differentiated.
fn as_text(system: &lagrange::systems::BuiltinSystem) -> Result<TextSystem> {
    let lagrangian = system.lagrangian_text();
    let dissipation = system.dissipation_text();
    let words: Vec<&str> = lagrangian
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .chain(
            dissipation
                .iter()
                .flat_map(|d| d.split(|c: char| !(c.is_alphanumeric() || c == '_'))),
        )
        .collect();
    let quoted: Vec<String> = system
        .coordinates()
        .iter()
        .map(|c| format!("{c:?}"))
        .collect();
    let mut toml = format!(
        "coordinates = [{}]\nlagrangian = {lagrangian:?}\n",
        quoted.join(", ")
    );
    if let Some(d) = &dissipation {
        toml.push_str(&format!("dissipation = {d:?}\n"));
    }
    toml.push_str("[parameters]\n");
    for (name, value) in system.parameters() {
        if words.contains(&name.as_str()) {
            toml.push_str(&format!("{name} = {value:?}\n"));
        }
    }
    Ok(TextSystem::from_toml_str(&toml)?)
}

/// Null directions of `∂q̈/∂θ` at the sampled states (`lagrange_learn::identify`), each with
/// what it does to L.
fn parameter_flat(
    text: TextSystem,
    states: &[(f64, Vec<f64>, Vec<f64>)],
) -> (Vec<Value>, Option<String>) {
    let model = TextModel::new(text);
    let names = lagrange_learn::Model::parameter_names(&model);
    let theta = lagrange_learn::Model::initial_parameters(&model);
    if names.is_empty() {
        return (Vec::new(), None);
    }
    let jacobian = acceleration_jacobian(&model, &theta, states);
    let flats = flat_directions(&jacobian, &theta, &names, FLAT_THRESHOLD);
    let values = flats
        .into_iter()
        .map(|f| {
            let direction: Vec<f64> = names
                .iter()
                .map(|name| {
                    f.direction
                        .iter()
                        .find(|(m, _)| m == name)
                        .map_or(0.0, |(_, c)| *c)
                })
                .collect();
            let kind = classify_flat(&model, &theta, &direction, states);
            json!({
                "kind": kind.name(),
                "direction": f.direction.iter().map(|(m, c)| (m.clone(), json!(c))).collect::<serde_json::Map<_, _>>(),
                "combination": f.combination,
                "relative_eigenvalue": f.relative_eigenvalue,
                "message": f.message,
            })
        })
        .collect();
    (values, None)
}

/// A trained network's flat directions by construction: the output layer scaled (`L → c L`,
/// `lnn`) and its bias shifted (a constant in L, or in the potential of `structured`), each
/// checked by the largest relative change of q̈ at the sampled states when it is applied.
fn network_flat(model: &NeuralModel, states: &[(f64, Vec<f64>, Vec<f64>)]) -> Vec<Value> {
    let slots = model.mlp().slots();
    let Some(last) = slots.last().copied() else {
        return Vec::new();
    };
    let n = model.dof();
    let mut out = Vec::new();
    let change = |modify: &dyn Fn(&mut Vec<f64>)| -> Option<f64> {
        let mut other = model.clone();
        modify(&mut other.parameters);
        let mut worst = 0.0_f64;
        for (t, q, q_dot) in states {
            let a = accelerations(model, *t, q, q_dot).ok()?;
            let b = accelerations(&other, *t, q, q_dot).ok()?;
            let size = a
                .iter()
                .fold(0.0_f64, |m, x| m.max(x.abs()))
                .max(f64::MIN_POSITIVE);
            let diff = a
                .iter()
                .zip(&b)
                .fold(0.0_f64, |m, (x, y)| m.max((x - y).abs()));
            worst = worst.max(diff / size);
        }
        Some(worst)
    };
    let potential_bias = match model.kind {
        NeuralKind::Lnn => last.bias,
        NeuralKind::Structured => last.bias + n * (n + 1) / 2,
        NeuralKind::Baseline => return Vec::new(),
    };
    if model.kind == NeuralKind::Lnn {
        let scale = |w: &mut Vec<f64>| {
            for x in &mut w[last.weights..last.bias + last.outputs] {
                *x *= 1.7;
            }
        };
        out.push(json!({
            "kind": "scale",
            "direction": "output layer: weights and bias times c (L → c L)",
            "q_ddot_change": change(&scale),
        }));
    }
    let shift = |w: &mut Vec<f64>| w[potential_bias] += 1.0;
    out.push(json!({
        "kind": "constant",
        "direction": if model.kind == NeuralKind::Lnn {
            "output bias (L → L + c)"
        } else {
            "the potential's output bias (V → V + c)"
        },
        "q_ddot_change": change(&shift),
    }));
    out
}

fn write_text(
    out: &mut impl Write,
    system: &AnySystem,
    value: &Value,
    flat_note: Option<&str>,
) -> Result<()> {
    writeln!(out, "system: {}", system.title())?;
    writeln!(out, "L = {}", system.lagrangian_text())?;
    writeln!(
        out,
        "{} sampled states, {} candidate generators (translations, linear fields ξ = A q, time), tolerance {}",
        value["samples"], value["candidates_tested"], value["tolerance"]
    )?;
    let symmetries = value["symmetries"].as_array().expect("built above");
    writeln!(out, "symmetries ({}):", symmetries.len())?;
    for s in symmetries {
        let drift = match s["charge_drift"].as_f64() {
            Some(d) => format!("{d:.2e}"),
            None => "-".into(),
        };
        writeln!(
            out,
            "  {:<12} singular value {:.1e}   Q = {}   (drift over the rollout {drift})",
            s["kind"].as_str().unwrap_or(""),
            s["singular_value"].as_f64().unwrap_or(f64::NAN),
            s["charge"].as_str().unwrap_or(""),
        )?;
    }
    if symmetries.is_empty() {
        writeln!(out, "  none among the candidates")?;
    }
    writeln!(
        out,
        "  (p_<q> = ∂L/∂<q>_dot; drift: max |Q(t) − Q(0)| relative to Q's size, t ∈ [0, {}])",
        value["t_end"]
    )?;
    writeln!(
        out,
        "each candidate on its own (defect: 0 = symmetry, about 1 = none):"
    )?;
    for c in value["candidates"].as_array().expect("built above") {
        writeln!(
            out,
            "  {:<24} {:.2e}",
            c["candidate"].as_str().unwrap_or(""),
            c["defect"].as_f64().unwrap_or(f64::NAN)
        )?;
    }
    let flat = value["flat_directions"].as_array().expect("built above");
    writeln!(
        out,
        "flat directions the motion does not see ({}):",
        flat.len()
    )?;
    for f in flat {
        let what = match (&f["message"], &f["direction"]) {
            (Value::String(m), _) => m.clone(),
            (_, Value::String(d)) => format!(
                "{d}; q̈ changes by {:.1e}",
                f["q_ddot_change"].as_f64().unwrap_or(f64::NAN)
            ),
            _ => String::new(),
        };
        writeln!(out, "  {:<22} {what}", f["kind"].as_str().unwrap_or(""))?;
    }
    if let Some(note) = flat_note {
        writeln!(out, "  {note}")?;
    }
    Ok(())
}
