//! Resolving the SYSTEM argument: a TOML file or a built-in name, behind one type.

use anyhow::{Result, bail};
use lagrange::Lagrangian;
use lagrange::expr::TextSystem;
use lagrange::systems::{BuiltinSystem, ParameterError, System};
use std::path::Path;

/// A system from either source. Implements [`Lagrangian`] (with the core's one forwarding
/// mechanism, so every declaration survives) and [`System`] by delegation, so the commands are
/// written once.
pub enum AnySystem {
    Builtin(BuiltinSystem),
    Text(Box<TextSystem>),
}

/// Reads SYSTEM: an existing file or anything ending in `.toml` is a file; otherwise a built-in.
pub fn load(spec: &str) -> Result<AnySystem> {
    let path = Path::new(spec);
    let is_toml = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("toml"));
    if path.is_file() || is_toml {
        // The error already names the file.
        let system = TextSystem::from_path(path)?;
        return Ok(AnySystem::Text(Box::new(system)));
    }
    if path.is_dir() {
        bail!("system '{spec}' is a directory, not a TOML file or a built-in name");
    }
    match lagrange::systems::by_name(spec) {
        Some(system) => Ok(AnySystem::Builtin(system)),
        None => bail!("unknown system '{spec}' (try `lagrange systems`)"),
    }
}

macro_rules! delegate {
    ($self:expr, $s:ident => $body:expr) => {
        match $self {
            AnySystem::Builtin($s) => $body,
            AnySystem::Text($s) => $body,
        }
    };
}

impl Lagrangian for AnySystem {
    lagrange::forward_lagrangian!(delegate);
}

impl System for AnySystem {
    fn title(&self) -> String {
        delegate!(self, s => s.title())
    }
    fn coordinates(&self) -> Vec<String> {
        delegate!(self, s => s.coordinates())
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        delegate!(self, s => s.parameters())
    }
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), ParameterError> {
        delegate!(self, s => s.set_parameter(name, value))
    }
    fn initial_state(&self) -> (Vec<f64>, Vec<f64>) {
        delegate!(self, s => s.initial_state())
    }
    fn lagrangian_text(&self) -> String {
        delegate!(self, s => s.lagrangian_text())
    }
    fn dissipation_text(&self) -> Option<String> {
        delegate!(self, s => s.dissipation_text())
    }
}
