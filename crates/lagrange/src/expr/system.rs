//! Systems defined by a TOML file: coordinates, `L` and optional Rayleigh dissipation as text.

use super::geometry_table::GeometryTable;
use super::parser::{ErrorKind, parse_internal};
use super::{Expr, LocalTerm, Symbols};
use crate::lagrangian::{Lagrangian, LagrangianOver, Scalar, Structure};
use crate::systems::{Geometry, ParameterError, System};
use num_dual::DualNum;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

/// Top-level keys a system file may contain.
const KEYS: &[&str] = &[
    "name",
    "coordinates",
    "lagrangian",
    "dissipation",
    "parameters",
    "initial",
    "geometry",
];

/// Why a system file was rejected. Every variant displays as one line naming the problem.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SystemFileError {
    /// The file could not be read.
    #[error("cannot read `{}`: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's message.
        message: String,
    },
    /// An error in a file loaded with [`TextSystem::from_path`].
    #[error("{}: {error}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        error: Box<SystemFileError>,
    },
    /// Not valid TOML.
    #[error("malformed TOML at line {line}, column {column}: {message}")]
    Toml {
        /// 1-based line.
        line: usize,
        /// 1-based column (characters).
        column: usize,
        /// The TOML parser's message.
        message: String,
    },
    /// A top-level key that is not part of the format.
    #[error(
        "unknown top-level key `{key}` (allowed: name, coordinates, lagrangian, dissipation, parameters, initial, geometry)"
    )]
    UnknownKey {
        /// The key.
        key: String,
    },
    /// A key of `[geometry]` that is not part of the format.
    #[error("unknown key `geometry.{key}` (allowed: bobs, rods, springs, trail)")]
    UnknownGeometryKey {
        /// The key.
        key: String,
    },
    /// A required key is absent.
    #[error("missing required key `{key}`")]
    MissingKey {
        /// `coordinates` or `lagrangian`.
        key: &'static str,
    },
    /// A value has the wrong TOML type.
    #[error("`{key}` must be {expected}, found {found}")]
    WrongType {
        /// Dotted path of the value (`coordinates[1]`, `parameters.m`).
        key: String,
        /// What was expected.
        expected: &'static str,
        /// The TOML type found.
        found: &'static str,
    },
    /// `coordinates = []`.
    #[error("`coordinates` is empty: a system needs at least one coordinate")]
    NoCoordinates,
    /// The same coordinate twice.
    #[error("duplicate coordinate `{name}`")]
    DuplicateCoordinate {
        /// The repeated name.
        name: String,
    },
    /// A coordinate or parameter name that is not an identifier `[A-Za-z_][A-Za-z0-9_]*`.
    #[error(
        "invalid {what} name `{name}`: names are letters, digits and `_`, not starting with a digit"
    )]
    InvalidIdentifier {
        /// `coordinate` or `parameter`.
        what: &'static str,
        /// The rejected name.
        name: String,
    },
    /// A coordinate named `t`, `pi`, or `…_dot`.
    #[error("coordinate name `{name}` is reserved: {reason}")]
    ReservedCoordinate {
        /// The rejected name.
        name: String,
        /// Why it is reserved.
        reason: &'static str,
    },
    /// A parameter whose name is a coordinate, a velocity, `t` or `pi`.
    #[error("parameter `{name}` shadows {shadows}")]
    ParameterShadows {
        /// The parameter.
        name: String,
        /// What it would hide (`the coordinate `x``, `time `t``, ...).
        shadows: String,
    },
    /// An identifier in `lagrangian`/`dissipation` that is not declared.
    #[error(
        "in `{field}` at column {column}: unknown identifier `{name}` (declare it under [parameters])"
    )]
    UnknownIdentifier {
        /// `lagrangian` or `dissipation`.
        field: &'static str,
        /// The identifier.
        name: String,
        /// 1-based column in the expression.
        column: usize,
    },
    /// `w_dot` where `w` is not a coordinate.
    #[error(
        "in `{field}` at column {column}: unknown velocity `{coordinate}_dot`: `{coordinate}` is not a coordinate"
    )]
    UnknownVelocity {
        /// `lagrangian` or `dissipation`.
        field: &'static str,
        /// The undeclared coordinate (`w` for `w_dot`).
        coordinate: String,
        /// 1-based column in the expression.
        column: usize,
    },
    /// Any other syntax error in an expression.
    #[error("in `{field}` at column {column}: {message}")]
    Expression {
        /// `lagrangian` or `dissipation`.
        field: &'static str,
        /// 1-based column in the expression.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// An `[initial]` entry that is not a coordinate or velocity.
    #[error("`[initial]` entry `{name}` is not a state variable (expected one of: {known})")]
    UnknownInitial {
        /// The entry.
        name: String,
        /// Comma-separated list of coordinates and velocities.
        known: String,
    },
    /// A `[field]` file given to [`TextSystem`]: it is a [`FieldSystem`](crate::field::FieldSystem).
    #[error(
        "this file declares a `[field]`: read it as a field system (`FieldSystem::from_toml_str`)"
    )]
    FieldFile,
    /// A key of `[field]` that is not part of the format.
    #[error("unknown key `field.{key}` (allowed: names, sites, spacing, boundary, density)")]
    UnknownFieldKey {
        /// The key.
        key: String,
    },
    /// `field.sites` is not one or two integers, each at least 2.
    #[error("`field.sites` must be [N] or [Nx, Ny] with every N ≥ 2 (found {found})")]
    Sites {
        /// What was found, as written.
        found: String,
    },
    /// `field.spacing` ≤ 0 (or not finite).
    #[error("`field.spacing` must be a finite number > 0 (found {value})")]
    Spacing {
        /// The value.
        value: f64,
    },
    /// `field.boundary` is not one of the three.
    #[error("unknown boundary `{value}` (allowed: periodic, fixed, free)")]
    UnknownBoundary {
        /// The value.
        value: String,
    },
    /// The density's `∂²/∂φ_t²` is singular: the field has no (regular) kinetic term.
    #[error(
        "`density` is not regular in `{velocity}`: ∂²(density)/∂{velocity}² is {detail} at the initial state (a field needs a kinetic term such as `0.5*{velocity}^2`)"
    )]
    NotRegular {
        /// The field velocity (`phi_t`), or all of them for several fields.
        velocity: String,
        /// What was found (`0`, `singular`).
        detail: String,
    },
    /// The same name for two things (a field and a parameter, `phi_t` as a particle, ...).
    #[error("name `{name}` is used twice: {uses}")]
    NameClash {
        /// The name.
        name: String,
        /// Both meanings.
        uses: String,
    },
    /// A syntax or name error in an `[initial]` expression.
    #[error("in `initial.{name}` at column {column}: {message}")]
    InitialExpression {
        /// The entry.
        name: String,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// An `[initial]` expression that is not finite at some site.
    #[error("`initial.{name}` is {value} at {at}: initial values must be finite")]
    InitialNotFinite {
        /// The entry.
        name: String,
        /// The value.
        value: f64,
        /// Where (`x = 1.5`).
        at: String,
    },
    /// More coordinates than the engine indexes.
    #[error("the lattice has {coordinates} coordinates; at most {max} are supported")]
    TooLarge {
        /// Sites × fields (+ particles).
        coordinates: u128,
        /// The limit.
        max: u64,
    },
    /// NaN or infinity as a parameter or initial value.
    #[error("`{section}.{name}` is {value}: values must be finite")]
    NonFinite {
        /// `parameters` or `initial`.
        section: &'static str,
        /// The entry.
        name: String,
        /// The value.
        value: f64,
    },
}

impl SystemFileError {
    /// The error without the [`InFile`](SystemFileError::InFile) wrapper.
    pub fn kind(&self) -> &SystemFileError {
        match self {
            SystemFileError::InFile { error, .. } => error.kind(),
            e => e,
        }
    }
}

/// A system read from a TOML file: coordinates, `L` (and optionally a Rayleigh dissipation
/// function) as text, parameter values and a default initial state.
///
/// The expressions are compiled once; the instance evaluates them with its parameters folded
/// in as constants (re-folded by [`set_parameter`](System::set_parameter)).
#[derive(Debug, Clone)]
pub struct TextSystem {
    name: Option<String>,
    symbols: Arc<Symbols>,
    lagrangian_source: String,
    dissipation_source: Option<String>,
    lagrangian: Expr,
    dissipation: Option<Expr>,
    params: Vec<f64>,
    /// `[initial]` entries as given (file order), for writing back.
    initial: Vec<(String, f64)>,
    q0: Vec<f64>,
    q_dot0: Vec<f64>,
    bound_lagrangian: Expr,
    bound_dissipation: Option<Expr>,
    /// Local terms of `lagrangian` (parameters as inputs), when declared; see
    /// [`TextSystem::local_terms`].
    terms: Arc<[LocalTerm]>,
    /// `terms` with the parameters bound.
    bound_terms: Vec<Expr>,
    /// Whether `lagrangian` provably has a constant mass matrix (structural, so independent of
    /// the parameter values); see [`Expr::mass_matrix_is_constant`].
    constant_mass: bool,
    /// The `[geometry]` table, if the file has one (see [`System::geometry`]).
    geometry: Option<GeometryTable>,
}

/// Most coordinates one local term may touch for the structure to be declared.
pub const MAX_TERM_COORDINATES: usize = 8;

/// Fewest coordinates for which local terms are declared (smaller systems take the dense
/// single pass anyway).
pub const MIN_STRUCTURED_DOF: usize = 9;

/// The local-term structure of a text Lagrangian, when it pays off.
///
/// `L` is split into additive terms (distributing coordinate-free factors over sums, see
/// [`Expr::local_terms`]) and the terms are grouped by the coordinates they touch. The
/// structure is declared only if
/// * the system has at least [`MIN_STRUCTURED_DOF`] (9) coordinates,
/// * there are at least two groups, and
/// * every group touches at most [`MAX_TERM_COORDINATES`] (8) coordinates;
///
/// otherwise (a non-separable `L` such as `(q0 + … + q15)^2`, or a small system) nothing is
/// declared and the engine takes the dense path.
fn detect_terms(lagrangian: &Expr) -> Vec<LocalTerm> {
    if lagrangian.num_coordinates() < MIN_STRUCTURED_DOF {
        return Vec::new();
    }
    match lagrangian.local_terms(MAX_TERM_COORDINATES) {
        Some(terms) if terms.len() >= 2 => terms,
        _ => Vec::new(),
    }
}

pub(crate) fn type_name(v: &toml::Value) -> &'static str {
    match v {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a float",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a datetime",
        toml::Value::Array(_) => "an array",
        toml::Value::Table(_) => "a table",
    }
}

pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(crate) fn number(
    section: &'static str,
    name: &str,
    v: &toml::Value,
) -> Result<f64, SystemFileError> {
    let x = match v {
        toml::Value::Float(x) => *x,
        toml::Value::Integer(i) => *i as f64,
        other => {
            return Err(SystemFileError::WrongType {
                key: format!("{section}.{name}"),
                expected: "a number",
                found: type_name(other),
            });
        }
    };
    if !x.is_finite() {
        return Err(SystemFileError::NonFinite {
            section,
            name: name.to_string(),
            value: x,
        });
    }
    Ok(x)
}

pub(crate) fn string<'a>(
    table: &'a toml::Table,
    key: &str,
) -> Result<Option<&'a str>, SystemFileError> {
    match table.get(key) {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(SystemFileError::WrongType {
            key: key.to_string(),
            expected: "a string",
            found: type_name(other),
        }),
    }
}

pub(crate) fn sub_table<'a>(
    table: &'a toml::Table,
    key: &str,
) -> Result<Option<&'a toml::Table>, SystemFileError> {
    match table.get(key) {
        None => Ok(None),
        Some(toml::Value::Table(t)) => Ok(Some(t)),
        Some(other) => Err(SystemFileError::WrongType {
            key: key.to_string(),
            expected: "a table",
            found: type_name(other),
        }),
    }
}

/// 1-based line and column of byte offset `at` in `s`.
pub(crate) fn line_column(s: &str, at: usize) -> (usize, usize) {
    let at = at.min(s.len());
    let before = s.get(..at).unwrap_or(s);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

pub(crate) fn compile(
    field: &'static str,
    source: &str,
    symbols: &Arc<Symbols>,
) -> Result<Expr, SystemFileError> {
    parse_internal(source, symbols).map_err(|(e, kind)| match kind {
        ErrorKind::UnknownIdentifier(name) => SystemFileError::UnknownIdentifier {
            field,
            name,
            column: e.column,
        },
        ErrorKind::UnknownVelocity(coordinate) => SystemFileError::UnknownVelocity {
            field,
            coordinate,
            column: e.column,
        },
        ErrorKind::Syntax => SystemFileError::Expression {
            field,
            column: e.column,
            message: e.message,
        },
    })
}

/// Parses TOML text; errors name the line, the column and the offending key.
pub(crate) fn parse_table(source: &str) -> Result<toml::Table, SystemFileError> {
    source.parse().map_err(|e: toml::de::Error| {
        let (line, column) = e.span().map_or((1, 1), |s| line_column(source, s.start));
        let mut message = e.message().trim().replace('\n', "; ");
        // Quote short offending text (toml says "duplicate key" without naming it).
        if let Some(snippet) = e.span().and_then(|s| source.get(s)) {
            let snippet = snippet.trim();
            if !snippet.is_empty() && snippet.chars().count() <= 40 && !snippet.contains('\n') {
                message = format!("{message} (at `{snippet}`)");
            }
        }
        // Name the key whose value is bad (`1e999` overflows: which quantity?).
        if let Some(key) = e.span().and_then(|s| key_before(source, s.start)) {
            message = format!("{message} (the value of `{key}`)");
        }
        SystemFileError::Toml {
            line,
            column,
            message,
        }
    })
}

/// Lifts `params` into `D` (on the stack when few) and calls `f`.
#[inline]
fn with_lifted<S: Scalar, D: Scalar + DualNum<InnerDual = S>, R>(
    params: &[S],
    f: impl FnOnce(&[D]) -> R,
) -> R {
    const N: usize = 16;
    if params.len() <= N {
        let mut lifted = [D::zero(); N];
        for (l, p) in lifted.iter_mut().zip(params) {
            *l = D::from_re(*p);
        }
        f(&lifted[..params.len()])
    } else {
        let lifted: Vec<D> = params.iter().map(|p| D::from_re(*p)).collect();
        f(&lifted)
    }
}

impl TextSystem {
    /// Reads a system from TOML text.
    ///
    /// ```
    /// use lagrange::expr::TextSystem;
    /// use lagrange::systems::System;
    ///
    /// let system = TextSystem::from_toml_str(r#"
    ///     name = "Charged particle in a uniform magnetic field"
    ///     coordinates = ["x", "y", "z"]
    ///     lagrangian = "0.5*m*(x_dot^2 + y_dot^2 + z_dot^2) + 0.5*qB*(x*y_dot - y*x_dot)"
    ///     [parameters]
    ///     m = 1.0
    ///     qB = 2.0
    ///     [initial]
    ///     x = 1.0
    ///     y_dot = 1.0
    /// "#).unwrap();
    /// let (q, q_dot) = system.initial_state();
    /// assert_eq!((q.as_slice(), q_dot.as_slice()), (&[1.0, 0.0, 0.0][..], &[0.0, 1.0, 0.0][..]));
    /// // Lorentz force: m ẍ = qB ẏ, m ÿ = −qB ẋ.
    /// let a = lagrange::accelerations(&system, 0.0, &q, &q_dot).unwrap();
    /// assert!((a[0] - 2.0).abs() < 1e-14 && a[1].abs() < 1e-14 && a[2] == 0.0);
    /// ```
    pub fn from_toml_str(source: &str) -> Result<TextSystem, SystemFileError> {
        let table = parse_table(source)?;
        if table.contains_key("field") {
            return Err(SystemFileError::FieldFile);
        }
        Self::from_table(&table)
    }

    fn from_table(table: &toml::Table) -> Result<TextSystem, SystemFileError> {
        let table = table.clone();
        for key in table.keys() {
            if !KEYS.contains(&key.as_str()) {
                return Err(SystemFileError::UnknownKey { key: key.clone() });
            }
        }
        let name = string(&table, "name")?.map(str::to_string);

        // Coordinates.
        let coordinates = match table.get("coordinates") {
            None => return Err(SystemFileError::MissingKey { key: "coordinates" }),
            Some(toml::Value::Array(a)) => a,
            Some(other) => {
                return Err(SystemFileError::WrongType {
                    key: "coordinates".into(),
                    expected: "an array of strings",
                    found: type_name(other),
                });
            }
        };
        if coordinates.is_empty() {
            return Err(SystemFileError::NoCoordinates);
        }
        let mut coords: Vec<String> = Vec::with_capacity(coordinates.len());
        for (i, c) in coordinates.iter().enumerate() {
            let toml::Value::String(c) = c else {
                return Err(SystemFileError::WrongType {
                    key: format!("coordinates[{i}]"),
                    expected: "a string",
                    found: type_name(c),
                });
            };
            if !is_identifier(c) {
                return Err(SystemFileError::InvalidIdentifier {
                    what: "coordinate",
                    name: c.clone(),
                });
            }
            let reason = match c.as_str() {
                "t" => Some("`t` is time"),
                "pi" => Some("`pi` is the constant π"),
                _ if c.ends_with("_dot") => Some("names ending in `_dot` denote velocities"),
                _ => None,
            };
            if let Some(reason) = reason {
                return Err(SystemFileError::ReservedCoordinate {
                    name: c.clone(),
                    reason,
                });
            }
            if coords.contains(c) {
                return Err(SystemFileError::DuplicateCoordinate { name: c.clone() });
            }
            coords.push(c.clone());
        }

        // Parameters.
        let mut param_names = Vec::new();
        let mut params = Vec::new();
        if let Some(t) = sub_table(&table, "parameters")? {
            for (p, v) in t {
                if !is_identifier(p) {
                    return Err(SystemFileError::InvalidIdentifier {
                        what: "parameter",
                        name: p.clone(),
                    });
                }
                let shadows = if p == "t" {
                    Some("time `t`".to_string())
                } else if p == "pi" {
                    Some("the constant `pi`".to_string())
                } else if coords.contains(p) {
                    Some(format!("the coordinate `{p}`"))
                } else {
                    p.strip_suffix("_dot")
                        .filter(|base| coords.iter().any(|c| c == base))
                        .map(|base| format!("the velocity of coordinate `{base}`"))
                };
                if let Some(shadows) = shadows {
                    return Err(SystemFileError::ParameterShadows {
                        name: p.clone(),
                        shadows,
                    });
                }
                params.push(number("parameters", p, v)?);
                param_names.push(p.clone());
            }
        }
        let symbols = Arc::new(Symbols::new(coords, param_names));

        // Expressions.
        let Some(lagrangian_source) = string(&table, "lagrangian")? else {
            return Err(SystemFileError::MissingKey { key: "lagrangian" });
        };
        let lagrangian = compile("lagrangian", lagrangian_source, &symbols)?;
        let dissipation_source = string(&table, "dissipation")?;
        let dissipation = dissipation_source
            .map(|s| compile("dissipation", s, &symbols))
            .transpose()?;

        let geometry = sub_table(&table, "geometry")?
            .map(|t| GeometryTable::parse(t, &symbols))
            .transpose()?;

        // Initial state.
        let n = symbols.num_coordinates();
        let (mut q0, mut q_dot0) = (vec![0.0; n], vec![0.0; n]);
        let mut initial = Vec::new();
        if let Some(t) = sub_table(&table, "initial")? {
            for (name, v) in t {
                let slot = if let Some(i) = symbols.coordinate_index(name) {
                    &mut q0[i]
                } else if let Some(i) = name
                    .strip_suffix("_dot")
                    .and_then(|b| symbols.coordinate_index(b))
                {
                    &mut q_dot0[i]
                } else {
                    let known: Vec<String> = symbols
                        .coordinates()
                        .iter()
                        .flat_map(|c| [c.clone(), format!("{c}_dot")])
                        .collect();
                    return Err(SystemFileError::UnknownInitial {
                        name: name.clone(),
                        known: known.join(", "),
                    });
                };
                *slot = number("initial", name, v)?;
                initial.push((name.clone(), *slot));
            }
        }

        let bound_lagrangian = lagrangian.bind_parameters(&params);
        let bound_dissipation = dissipation.as_ref().map(|d| d.bind_parameters(&params));
        let terms: Arc<[LocalTerm]> = detect_terms(&lagrangian).into();
        let constant_mass = lagrangian.mass_matrix_is_constant();
        let bound_terms = terms
            .iter()
            .map(|term| term.expr.bind_parameters(&params))
            .collect();
        Ok(TextSystem {
            name,
            symbols,
            lagrangian_source: lagrangian_source.to_string(),
            dissipation_source: dissipation_source.map(str::to_string),
            lagrangian,
            dissipation,
            params,
            initial,
            q0,
            q_dot0,
            bound_lagrangian,
            bound_dissipation,
            constant_mass,
            terms,
            bound_terms,
            geometry,
        })
    }

    /// Reads a system file; every error names the path.
    pub fn from_path(path: &Path) -> Result<TextSystem, SystemFileError> {
        let text = std::fs::read_to_string(path).map_err(|e| SystemFileError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        TextSystem::from_toml_str(&text).map_err(|e| SystemFileError::InFile {
            path: path.to_path_buf(),
            error: Box::new(e),
        })
    }

    /// The compiled Lagrangian, with parameters as inputs (in [`symbols`](Self::symbols) order).
    pub fn lagrangian_expr(&self) -> &Expr {
        &self.lagrangian
    }

    /// The compiled Rayleigh dissipation function, if any.
    pub fn dissipation_expr(&self) -> Option<&Expr> {
        self.dissipation.as_ref()
    }

    /// The local terms `L = Σ_k L_k` declared to the engine (empty when none are; see
    /// [`Structure::local_terms`] and the rule below). Each term's expression has the parameters
    /// as inputs and the term's coordinates renumbered `0..b`.
    ///
    /// The structure is detected when the file is read: `L` is split into additive terms
    /// (coordinate-free factors such as `0.5*m*(…)` are distributed over sums) and the terms are
    /// grouped by the coordinates they touch. It is declared only if the system has at least 9
    /// coordinates, there are at least two groups, and every group touches at most 8
    /// coordinates; otherwise (for example `(q0 + … + q15)^2`) the dense path is used.
    ///
    /// ```
    /// use lagrange::expr::TextSystem;
    /// use lagrange::Lagrangian;
    ///
    /// let n = 12;
    /// let coordinates: Vec<String> = (0..n).map(|i| format!("\"x{i}\"")).collect();
    /// let kinetic: Vec<String> = (0..n).map(|i| format!("x{i}_dot^2")).collect();
    /// let springs: Vec<String> = (1..n).map(|i| format!("(x{i} - x{})^2", i - 1)).collect();
    /// let system = TextSystem::from_toml_str(&format!(
    ///     "coordinates = [{}]\nlagrangian = \"0.5*m*({}) - 0.5*k*({})\"\n[parameters]\nm = 1\nk = 2",
    ///     coordinates.join(", "),
    ///     kinetic.join(" + "),
    ///     springs.join(" + "),
    /// )).unwrap();
    /// assert_eq!(system.structure().local_terms, n - 1); // one group per spring, kinetic terms folded in
    /// assert_eq!(system.local_terms()[0].coordinates, [0, 1]);
    /// ```
    pub fn local_terms(&self) -> &[LocalTerm] {
        &self.terms
    }

    /// Current parameter values, in [`Symbols`] order.
    pub fn parameter_values(&self) -> Vec<f64> {
        self.params.clone()
    }

    /// Coordinate and parameter names.
    pub fn symbols(&self) -> &Symbols {
        &self.symbols
    }

    /// The `name` of the file, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// This system with parameter values supplied from outside (for example dual numbers over
    /// the parameters, for learning).
    pub fn with_parameters<'a, S: Scalar>(&'a self, params: &'a [S]) -> WithParameters<'a, S> {
        WithParameters {
            system: self,
            params,
        }
    }

    /// Sets all parameters at once (in [`Symbols`] order).
    pub fn set_parameter_values(&mut self, values: &[f64]) -> Result<(), ParameterError> {
        if values.len() != self.params.len() {
            return Err(ParameterError::Invalid {
                name: "(all)".into(),
                value: values.len() as f64,
                reason: format!("expected {} parameter values", self.params.len()),
            });
        }
        for (name, &v) in self.symbols.parameters().iter().zip(values) {
            if !v.is_finite() {
                return Err(ParameterError::Invalid {
                    name: name.clone(),
                    value: v,
                    reason: "not finite".into(),
                });
            }
        }
        self.params.copy_from_slice(values);
        self.rebind();
        Ok(())
    }

    fn rebind(&mut self) {
        self.bound_lagrangian = self.lagrangian.bind_parameters(&self.params);
        self.bound_dissipation = self
            .dissipation
            .as_ref()
            .map(|d| d.bind_parameters(&self.params));
        self.bound_terms = self
            .terms
            .iter()
            .map(|term| term.expr.bind_parameters(&self.params))
            .collect();
    }

    /// The system as a TOML file (current parameter values; reads back to an equal system).
    pub fn to_toml_string(&self) -> String {
        use std::fmt::Write;
        let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
        let mut out = String::new();
        if let Some(name) = &self.name {
            let _ = writeln!(out, "name = {}", quote(name));
        }
        let coords: Vec<String> = self
            .symbols
            .coordinates()
            .iter()
            .map(|c| quote(c))
            .collect();
        let _ = writeln!(out, "coordinates = [{}]", coords.join(", "));
        let _ = writeln!(out, "lagrangian = {}", quote(&self.lagrangian_source));
        if let Some(d) = &self.dissipation_source {
            let _ = writeln!(out, "dissipation = {}", quote(d));
        }
        if !self.params.is_empty() {
            out.push_str("\n[parameters]\n");
            for (p, v) in self.symbols.parameters().iter().zip(&self.params) {
                let _ = writeln!(out, "{p} = {v:?}");
            }
        }
        if !self.initial.is_empty() {
            out.push_str("\n[initial]\n");
            for (k, v) in &self.initial {
                let _ = writeln!(out, "{k} = {v:?}");
            }
        }
        if let Some(geometry) = &self.geometry {
            out.push_str("\n[geometry]\n");
            out.push_str(&toml::to_string(&geometry.source).unwrap_or_default());
        }
        out
    }
}

impl Lagrangian for TextSystem {
    fn dof(&self) -> usize {
        self.symbols.num_coordinates()
    }

    #[inline]
    fn lagrangian<D: Scalar>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
        self.bound_lagrangian.eval(t, q, q_dot, &[])
    }

    /// The constant mass matrix is detected from the text when the file is read (see
    /// [`Expr::mass_matrix_is_constant`]); terms come from the top-level sum.
    fn structure(&self) -> Structure {
        Structure {
            constant_mass_matrix: self.constant_mass,
            dissipation: self.bound_dissipation.is_some(),
            generalized_forces: false,
            local_terms: self.bound_terms.len(),
        }
    }

    fn dissipation<D: Scalar>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
        match &self.bound_dissipation {
            Some(f) => f.eval(t, q, q_dot, &[]),
            None => D::zero(),
        }
    }

    fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
        coordinates.extend_from_slice(&self.terms[k].coordinates);
    }

    #[inline]
    fn term<D: Scalar>(&self, k: usize, t: D, q: &[D], q_dot: &[D]) -> D {
        self.bound_terms[k].eval(t, q, q_dot, &[])
    }
}

impl System for TextSystem {
    fn title(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| "custom system".to_string())
    }

    fn coordinates(&self) -> Vec<String> {
        self.symbols.coordinates().to_vec()
    }

    fn parameters(&self) -> Vec<(String, f64)> {
        self.symbols
            .parameters()
            .iter()
            .cloned()
            .zip(self.params.iter().copied())
            .collect()
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), ParameterError> {
        let Some(j) = self.symbols.parameter_index(name) else {
            return Err(ParameterError::Unknown {
                name: name.to_string(),
                known: self.symbols.parameters().join(", "),
            });
        };
        if !value.is_finite() {
            return Err(ParameterError::Invalid {
                name: name.to_string(),
                value,
                reason: "parameters must be finite".into(),
            });
        }
        self.params[j] = value;
        self.rebind();
        Ok(())
    }

    fn initial_state(&self) -> (Vec<f64>, Vec<f64>) {
        (self.q0.clone(), self.q_dot0.clone())
    }

    fn lagrangian_text(&self) -> String {
        self.lagrangian_source.clone()
    }

    fn dissipation_text(&self) -> Option<String> {
        self.dissipation_source.clone()
    }
    fn geometry(&self) -> Option<Geometry> {
        self.geometry.as_ref().map(|g| g.geometry(&self.params))
    }
}

/// A text system whose parameters are supplied from outside: `S` may be a dual number over the
/// parameters, so that the equations of motion carry exact parameter gradients (learning).
///
/// The parameters are lifted into the engine's dual type with [`DualNum::from_re`].
///
/// # Panics
/// Evaluation panics if `params` has fewer entries than the system has parameters.
#[derive(Debug, Clone, Copy)]
pub struct WithParameters<'a, S> {
    /// The system (its own parameter values are ignored).
    pub system: &'a TextSystem,
    /// Parameter values in [`Symbols`] order.
    pub params: &'a [S],
}

impl<'a, S: Scalar> LagrangianOver<S> for WithParameters<'a, S> {
    fn dof(&self) -> usize {
        self.system.symbols.num_coordinates()
    }

    #[inline]
    fn lagrangian_over<D: Scalar + DualNum<InnerDual = S>>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
        with_lifted(self.params, |p| self.system.lagrangian.eval(t, q, q_dot, p))
    }

    /// The system's declarations (its mass matrix may depend on the parameters, never on
    /// `(t, q, q̇)`).
    fn structure(&self) -> Structure {
        Structure {
            constant_mass_matrix: self.system.constant_mass,
            dissipation: self.system.dissipation.is_some(),
            generalized_forces: false,
            local_terms: self.system.terms.len(),
        }
    }

    fn dissipation_over<D: Scalar + DualNum<InnerDual = S>>(
        &self,
        t: D,
        q: &[D],
        q_dot: &[D],
    ) -> D {
        match &self.system.dissipation {
            Some(f) => with_lifted(self.params, |p| f.eval(t, q, q_dot, p)),
            None => D::zero(),
        }
    }

    fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
        coordinates.extend_from_slice(&self.system.terms[k].coordinates);
    }

    fn term_over<D: Scalar + DualNum<InnerDual = S>>(
        &self,
        k: usize,
        t: D,
        q: &[D],
        q_dot: &[D],
    ) -> D {
        let term = &self.system.terms[k].expr;
        with_lifted(self.params, |p| term.eval(t, q, q_dot, p))
    }
}

/// The dotted key (`initial.x`) whose value starts before `offset` on its line, when the text
/// before `offset` is `key =` (or `key = ` plus part of a value); `None` elsewhere.
pub(crate) fn key_before(source: &str, offset: usize) -> Option<String> {
    let start = source.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let (key, _) = source[start..offset].split_once('=')?;
    let key = key.trim().trim_matches('"');
    let simple = |k: &str| {
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    };
    if !simple(key) {
        return None;
    }
    let section = source[..start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    Some(match section {
        Some(section) if simple(&section) => format!("{section}.{key}"),
        _ => key.to_string(),
    })
}
