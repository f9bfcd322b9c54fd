//! `lagrange eom`: q̈, energy (Jacobi integral) and momenta at one state.

use crate::cli::EomArgs;
use crate::options::{self, Problem, StateValues};
use anyhow::{Context, Result, bail};
use lagrange::systems::System;
use serde_json::json;
use std::io::Write;

pub fn run(args: &EomArgs) -> Result<()> {
    let format = args.format.trim().to_ascii_lowercase();
    if format != "json" && format != "text" {
        bail!(
            "unknown --format '{}' for eom (expected json or text)",
            args.format
        );
    }
    let t = options::finite(&args.time, "--time")?;
    let Problem {
        system,
        coordinates,
        q,
        q_dot,
    } = options::problem(&args.system)?;
    // Nothing is printed unless q̈, the energy and the momenta are all finite.
    let StateValues {
        q_ddot,
        energy,
        momenta: p,
    } = options::state_values(&system, &coordinates, t, &q, &q_dot)
        .with_context(|| format!("equations of motion of '{}'", args.system.system))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if format == "json" {
        let mut value = json!({
            "coordinates": coordinates,
            "t": t,
            "q": q,
            "q_dot": q_dot,
            "q_ddot": q_ddot,
        });
        // a baseline model has no Lagrangian: no energy, no momenta
        if let (Some(energy), Some(p)) = (energy, &p) {
            value["energy"] = json!(energy);
            value["momenta"] = json!(p);
        }
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
    } else {
        writeln!(out, "system: {}", system.title())?;
        writeln!(out, "L = {}", system.lagrangian_text())?;
        if let Some(f) = system.dissipation_text() {
            writeln!(out, "F = {f}")?;
        }
        writeln!(out, "t = {t}")?;
        let width = coordinates
            .iter()
            .map(|c| c.len())
            .max()
            .unwrap_or(1)
            .max(10);
        writeln!(
            out,
            "{:<width$} {:>24} {:>24} {:>24} {:>24}",
            "coordinate", "q", "q_dot", "q_ddot", "momentum p"
        )?;
        for (i, c) in coordinates.iter().enumerate() {
            let momentum = p.as_ref().map_or("-".to_string(), |p| p[i].to_string());
            writeln!(
                out,
                "{c:<width$} {:>24} {:>24} {:>24} {:>24}",
                q[i], q_dot[i], q_ddot[i], momentum
            )?;
        }
        match energy {
            Some(energy) => writeln!(out, "energy (Jacobi integral) = {energy}")?,
            None => writeln!(out, "energy: none (this model has no Lagrangian)")?,
        }
    }
    out.flush()?;
    Ok(())
}
