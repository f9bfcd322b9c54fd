//! Any system a user can name: a built-in, a TOML system file (particles or a lattice field), or
//! a trained neural model file (`.json`, from `lagrange train`), behind one type.
//!
//! The CLI's SYSTEM argument and the Python bindings' `System.load` both resolve names here, so
//! the two accept exactly the same things with the same messages.

use crate::LearnError;
use crate::neural::{ModelFile, NeuralKind, NeuralModel};
use lagrange::Lagrangian;
use lagrange::expr::{SystemFileError, TextSystem};
use lagrange::field::{FieldSystem, is_field_file};
use lagrange::systems::{BuiltinSystem, ParameterError, System};
use std::path::Path;
use thiserror::Error;

/// Why a system could not be loaded. `Display` is one line.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LoadError {
    /// A TOML system file that cannot be read or is malformed (the message names the file).
    #[error(transparent)]
    File(#[from] SystemFileError),
    /// A neural model file that cannot be read or is inconsistent.
    #[error(transparent)]
    Model(#[from] LearnError),
    /// A directory where a file was expected.
    #[error("system '{spec}' is a directory, not {expected}")]
    Directory {
        /// The name as given.
        spec: String,
        /// What was expected instead.
        expected: &'static str,
    },
    /// Neither a file nor a built-in name.
    #[error("unknown system '{spec}' (try `lagrange systems`)")]
    Unknown {
        /// The name as given.
        spec: String,
    },
}

/// A system from either source. Implements [`Lagrangian`] (with the core's one forwarding
/// mechanism, so every declaration survives) and [`System`] by delegation, so the commands are
/// written once.
#[derive(Clone)]
pub enum AnySystem {
    Builtin(BuiltinSystem),
    Text(Box<TextSystem>),
    /// A lattice field (a TOML file with a `[field]` table).
    Field(Box<FieldSystem>),
    Neural(Box<NeuralSystem>),
}

/// A trained neural model as a system. Its Lagrangian is the network's (`lnn`, `structured`);
/// a `baseline` has none (its `lagrangian` is zero and every command checks
/// [`AnySystem::has_lagrangian`] before using it).
#[derive(Clone)]
pub struct NeuralSystem {
    pub model: NeuralModel,
    pub file: ModelFile,
}

impl NeuralSystem {
    /// Reads a model file written by `lagrange train`.
    pub fn read(path: &Path) -> Result<Self, LearnError> {
        let (file, model) = ModelFile::read(path)?;
        Ok(Self { model, file })
    }
}

macro_rules! via_model {
    ($self:expr, $s:ident => $body:expr) => {{
        let $s = &$self.model;
        $body
    }};
}

impl Lagrangian for NeuralSystem {
    lagrange::forward_lagrangian!(via_model);
}

impl System for NeuralSystem {
    fn title(&self) -> String {
        match &self.file.name {
            Some(name) => format!("{name} ({})", self.model.kind.name()),
            None => format!("{} model", self.model.kind.name()),
        }
    }
    fn coordinates(&self) -> Vec<String> {
        self.model.coordinates.clone()
    }
    fn parameters(&self) -> Vec<(String, f64)> {
        Vec::new()
    }
    fn set_parameter(&mut self, name: &str, _value: f64) -> Result<(), ParameterError> {
        Err(ParameterError::Unknown {
            name: name.to_string(),
            known: "none: a trained model has weights, not parameters".into(),
        })
    }
    fn initial_state(&self) -> (Vec<f64>, Vec<f64>) {
        // the centre of the training data (angles at 0)
        let s = &self.model.scaling;
        let q = (0..s.dof())
            .map(|i| if s.angles[i] { 0.0 } else { s.q_mean[i] })
            .collect();
        (q, s.q_dot_mean.clone())
    }
    fn lagrangian_text(&self) -> String {
        format!("neural network ({})", self.model.describe())
    }
}

/// Reads SYSTEM: a `.json` name is a trained model file; an existing file or anything ending in
/// `.toml` is a TOML system file (a `[field]` table makes it a lattice field); otherwise a
/// built-in name.
pub fn load(spec: &str) -> Result<AnySystem, LoadError> {
    let path = Path::new(spec);
    let directory = |expected| LoadError::Directory {
        spec: spec.to_string(),
        expected,
    };
    if path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("json"))
    {
        if path.is_dir() {
            return Err(directory("a model file"));
        }
        return Ok(AnySystem::Neural(Box::new(NeuralSystem::read(path)?)));
    }
    let is_toml = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("toml"));
    if path.is_file() || is_toml {
        // The error already names the file.
        if std::fs::read_to_string(path).is_ok_and(|text| is_field_file(&text)) {
            return Ok(AnySystem::Field(Box::new(FieldSystem::from_path(path)?)));
        }
        let system = TextSystem::from_path(path)?;
        return Ok(AnySystem::Text(Box::new(system)));
    }
    if path.is_dir() {
        return Err(directory("a TOML file or a built-in name"));
    }
    lagrange::systems::by_name(spec)
        .map(AnySystem::Builtin)
        .ok_or_else(|| LoadError::Unknown {
            spec: spec.to_string(),
        })
}

/// A system from the text of a TOML system file (particles, or a lattice field with a `[field]`
/// table).
pub fn from_toml_str(text: &str) -> Result<AnySystem, LoadError> {
    if is_field_file(text) {
        return Ok(AnySystem::Field(Box::new(FieldSystem::from_toml_str(
            text,
        )?)));
    }
    Ok(AnySystem::Text(Box::new(TextSystem::from_toml_str(text)?)))
}

macro_rules! delegate {
    ($self:expr, $s:ident => $body:expr) => {
        match $self {
            AnySystem::Builtin($s) => $body,
            AnySystem::Text($s) => $body,
            AnySystem::Field($s) => $body,
            AnySystem::Neural($s) => $body,
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
    fn geometry(&self) -> Option<lagrange::systems::Geometry> {
        delegate!(self, s => s.geometry())
    }
}

impl AnySystem {
    /// The trained model, when SYSTEM is a model file.
    pub fn neural(&self) -> Option<&NeuralSystem> {
        match self {
            AnySystem::Neural(s) => Some(s),
            _ => None,
        }
    }

    /// The lattice field, when SYSTEM is a field file.
    pub fn field(&self) -> Option<&FieldSystem> {
        match self {
            AnySystem::Field(s) => Some(s),
            _ => None,
        }
    }

    /// Whether there is a Lagrangian (everything but a `baseline` model): energy, momenta and
    /// the variational integrator need one.
    pub fn has_lagrangian(&self) -> bool {
        self.neural()
            .is_none_or(|s| s.model.kind != NeuralKind::Baseline)
    }
}
