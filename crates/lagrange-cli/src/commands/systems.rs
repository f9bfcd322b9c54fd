//! `lagrange systems`: the built-in systems with their Lagrangian, dissipation and parameters.

use crate::cli::SystemsArgs;
use anyhow::{Result, bail};
use lagrange::systems::{self, System};
use serde_json::json;
use std::io::Write;

pub fn run(args: &SystemsArgs) -> Result<()> {
    let format = args.format.trim().to_ascii_lowercase();
    if format != "text" && format != "json" {
        bail!(
            "unknown --format '{}' for systems (expected text or json)",
            args.format
        );
    }
    let mut entries = Vec::new();
    for name in systems::names() {
        let Some(system) = systems::by_name(name) else {
            continue;
        };
        entries.push((name.to_string(), system));
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if format == "json" {
        let list: Vec<_> = entries
            .iter()
            .map(|(name, s)| {
                let (q, q_dot) = s.initial_state();
                json!({
                    "name": name,
                    "title": s.title(),
                    "coordinates": s.coordinates(),
                    "parameters": s.parameters().into_iter().map(|(k, v)| (k, json!(v))).collect::<serde_json::Map<_, _>>(),
                    "lagrangian": s.lagrangian_text(),
                    "dissipation": s.dissipation_text(),
                    "initial": { "q": q, "q_dot": q_dot },
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
        return Ok(());
    }
    for (k, (name, s)) in entries.iter().enumerate() {
        if k > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{name}  ({})", s.title())?;
        writeln!(out, "    coordinates: {}", s.coordinates().join(", "))?;
        let params: Vec<String> = s
            .parameters()
            .iter()
            .map(|(p, v)| format!("{p}={v}"))
            .collect();
        if !params.is_empty() {
            writeln!(out, "    parameters:  {}", params.join(", "))?;
        }
        writeln!(out, "    L = {}", s.lagrangian_text())?;
        if let Some(f) = s.dissipation_text() {
            writeln!(out, "    F = {f}    (Rayleigh dissipation)")?;
        }
    }
    out.flush()?;
    Ok(())
}
