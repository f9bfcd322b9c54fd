//! Reading a field system from TOML: the `[field]` table, particles, coupling, `[initial]`.

use super::lattice::{Boundary, Lattice};
use super::system::{Bound, FieldSystem, Initial, MAX_FIELDS, MAX_PARTICLES};
use crate::expr::{
    Expr, Resolved, Symbols, SystemFileError, compile, is_identifier, number, parse_table, string,
    sub_table, type_name,
};
use crate::lagrangian::Lagrangian;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Top-level keys of a field file.
const KEYS: &[&str] = &[
    "name",
    "field",
    "coordinates",
    "lagrangian",
    "coupling",
    "parameters",
    "initial",
];
/// Keys of `[field]`.
const FIELD_KEYS: &[&str] = &["names", "sites", "spacing", "boundary", "density"];
/// Most coordinates a lattice may have (indices are 32-bit in the compiled kernels).
const MAX_COORDINATES: u64 = 1 << 31;

/// Whether TOML text declares a `[field]` table (then it is a [`FieldSystem`], not a
/// [`TextSystem`](crate::expr::TextSystem)). Text that is not valid TOML is not a field file.
pub fn is_field_file(source: &str) -> bool {
    parse_table(source).is_ok_and(|t| t.contains_key("field"))
}

fn strings(table: &toml::Table, key: &str) -> Result<Option<Vec<String>>, SystemFileError> {
    let Some(value) = table.get(key) else {
        return Ok(None);
    };
    let wrong = |found| SystemFileError::WrongType {
        key: key.to_string(),
        expected: "an array of strings",
        found,
    };
    let toml::Value::Array(items) = value else {
        return Err(wrong(type_name(value)));
    };
    items
        .iter()
        .map(|v| match v {
            toml::Value::String(s) => Ok(s.clone()),
            other => Err(wrong(type_name(other))),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Names and what they mean, to report clashes.
#[derive(Default)]
struct Names(HashMap<String, String>);

impl Names {
    fn add(&mut self, name: &str, meaning: String) -> Result<(), SystemFileError> {
        if let Some(first) = self.0.get(name) {
            return Err(SystemFileError::NameClash {
                name: name.to_string(),
                uses: format!("{first} and {meaning}"),
            });
        }
        self.0.insert(name.to_string(), meaning);
        Ok(())
    }
}

/// A symbol table whose coordinates are `coordinates` and whose velocities are exactly
/// `velocities` (`name`, coordinate index): `phi_t` for the field `phi`, `X_dot` for a
/// particle; every other `<name>_dot` is unknown.
fn symbols_with(
    coordinates: Vec<String>,
    velocities: &[(String, usize)],
    parameters: &[String],
) -> Arc<Symbols> {
    let mut symbols = Symbols::new(coordinates, parameters.to_vec());
    symbols.lookup.retain(|_, r| !matches!(r, Resolved::Qd(_)));
    for (name, i) in velocities {
        symbols.lookup.insert(name.clone(), Resolved::Qd(*i as u32));
    }
    // a parameter hidden by a removed velocity name comes back
    for (j, p) in parameters.iter().enumerate() {
        symbols
            .lookup
            .entry(p.clone())
            .or_insert(Resolved::P(j as u32));
    }
    Arc::new(symbols)
}

impl FieldSystem {
    /// Reads a field system from TOML text: a `[field]` table with `names`, `sites` (`[N]` or
    /// `[Nx, Ny]`), `spacing`, `boundary` (`periodic`, `fixed` or `free`) and `density`;
    /// optionally particles (`coordinates`, `lagrangian`) and their `coupling` density;
    /// `[parameters]`; `[initial]` values or expressions in `x` (`y`) and the parameters.
    ///
    /// ```
    /// use lagrange::field::FieldSystem;
    /// use lagrange::systems::System;
    ///
    /// let string = FieldSystem::from_toml_str(r#"
    ///     [field]
    ///     names = ["phi"]
    ///     sites = [64]
    ///     spacing = 0.1
    ///     boundary = "periodic"
    ///     density = "0.5*phi_t^2 - 0.5*phi_x^2 - 0.5*m^2*phi^2"
    ///     [parameters]
    ///     m = 1.0
    ///     [initial]
    ///     phi = "cos(2*pi*x/6.4)"
    /// "#).unwrap();
    /// assert_eq!(string.coordinates()[63], "phi_63");
    /// // a Fourier mode is an eigenvector of the lattice equations: φ̈ = −ω² φ with the lattice
    /// // dispersion ω² = m² + (4/a²) sin²(ka/2)
    /// let (q, q_dot) = string.initial_state();
    /// let a = lagrange::accelerations(&string, 0.0, &q, &q_dot).unwrap();
    /// let k = 2.0 * std::f64::consts::PI / 6.4;
    /// let omega2 = 1.0 + 4.0 / 0.01 * (k * 0.1 / 2.0).sin().powi(2);
    /// assert!((a[5] + omega2 * q[5]).abs() < 1e-10);
    /// ```
    pub fn from_toml_str(source: &str) -> Result<FieldSystem, SystemFileError> {
        let table = parse_table(source)?;
        for key in table.keys() {
            if !KEYS.contains(&key.as_str()) {
                return Err(SystemFileError::UnknownKey { key: key.clone() });
            }
        }
        let name = string(&table, "name")?.map(str::to_string);
        let Some(field) = sub_table(&table, "field")? else {
            return Err(SystemFileError::MissingKey { key: "field" });
        };
        for key in field.keys() {
            if !FIELD_KEYS.contains(&key.as_str()) {
                return Err(SystemFileError::UnknownFieldKey { key: key.clone() });
            }
        }
        let mut names = Names::default();
        for builtin in ["t", "pi"] {
            names.add(builtin, format!("the built-in `{builtin}`"))?;
        }

        // The lattice.
        let Some(sites_value) = field.get("sites") else {
            return Err(SystemFileError::MissingKey { key: "field.sites" });
        };
        let bad_sites = || SystemFileError::Sites {
            found: sites_value.to_string(),
        };
        let toml::Value::Array(dims) = sites_value else {
            return Err(bad_sites());
        };
        if !matches!(dims.len(), 1 | 2) {
            return Err(bad_sites());
        }
        let sites: Vec<usize> = dims
            .iter()
            .map(|v| match v {
                toml::Value::Integer(n) if *n >= 2 => Ok(*n as usize),
                _ => Err(bad_sites()),
            })
            .collect::<Result<_, _>>()?;
        let Some(spacing) = field.get("spacing") else {
            return Err(SystemFileError::MissingKey {
                key: "field.spacing",
            });
        };
        let spacing = number("field", "spacing", spacing)?;
        if spacing <= 0.0 {
            return Err(SystemFileError::Spacing { value: spacing });
        }
        let boundary = match string(field, "boundary")? {
            None => Boundary::Periodic,
            Some(b) => Boundary::from_name(b).ok_or_else(|| SystemFileError::UnknownBoundary {
                value: b.to_string(),
            })?,
        };
        let lattice = Lattice::new(sites, spacing, boundary);
        let dims = lattice.dims();
        let positions: &[&str] = if dims == 1 { &["x"] } else { &["x", "y"] };
        for p in positions {
            names.add(p, "the site position".into())?;
        }

        // Fields.
        let fields =
            strings(field, "names")?.ok_or(SystemFileError::MissingKey { key: "field.names" })?;
        if fields.is_empty() || fields.len() > MAX_FIELDS {
            return Err(SystemFileError::WrongType {
                key: "field.names".into(),
                expected: "1 to 4 field names",
                found: if fields.is_empty() {
                    "an empty array"
                } else {
                    "more than 4"
                },
            });
        }
        let differences: &[&str] = if dims == 1 { &["x"] } else { &["x", "y"] };
        for f in &fields {
            if !is_identifier(f) {
                return Err(SystemFileError::InvalidIdentifier {
                    what: "field",
                    name: f.clone(),
                });
            }
            names.add(f, format!("the field `{f}`"))?;
            names.add(&format!("{f}_t"), format!("the velocity of field `{f}`"))?;
            for d in differences {
                names.add(
                    &format!("{f}_{d}"),
                    format!("the forward difference of field `{f}`"),
                )?;
            }
        }

        // Particles.
        let particles = strings(&table, "coordinates")?.unwrap_or_default();
        if particles.len() > MAX_PARTICLES {
            return Err(SystemFileError::WrongType {
                key: "coordinates".into(),
                expected: "at most 16 particle coordinates",
                found: "more",
            });
        }
        for p in &particles {
            if !is_identifier(p) {
                return Err(SystemFileError::InvalidIdentifier {
                    what: "coordinate",
                    name: p.clone(),
                });
            }
            names.add(p, format!("the particle coordinate `{p}`"))?;
            names.add(&format!("{p}_dot"), format!("the velocity of `{p}`"))?;
        }
        let total = lattice.num_sites() as u128 * fields.len() as u128 + particles.len() as u128;
        if total > MAX_COORDINATES as u128 {
            return Err(SystemFileError::TooLarge {
                coordinates: total,
                max: MAX_COORDINATES,
            });
        }

        // Parameters.
        let (mut param_names, mut params) = (Vec::new(), Vec::new());
        if let Some(t) = sub_table(&table, "parameters")? {
            for (p, v) in t {
                if !is_identifier(p) {
                    return Err(SystemFileError::InvalidIdentifier {
                        what: "parameter",
                        name: p.clone(),
                    });
                }
                if let Some(meaning) = names.0.get(p) {
                    return Err(SystemFileError::ParameterShadows {
                        name: p.clone(),
                        shadows: meaning.clone(),
                    });
                }
                params.push(number("parameters", p, v)?);
                param_names.push(p.clone());
            }
        }

        // The density: inputs fields, differences, positions.
        let nf = fields.len();
        let mut density_coordinates = fields.clone();
        for d in differences {
            density_coordinates.extend(fields.iter().map(|f| format!("{f}_{d}")));
        }
        density_coordinates.extend(positions.iter().map(|p| p.to_string()));
        let field_velocities: Vec<(String, usize)> = fields
            .iter()
            .enumerate()
            .map(|(i, f)| (format!("{f}_t"), i))
            .collect();
        let Some(density_source) = string(field, "density")? else {
            return Err(SystemFileError::MissingKey {
                key: "field.density",
            });
        };
        let density_symbols = symbols_with(density_coordinates, &field_velocities, &param_names);
        let density = compile("density", density_source, &density_symbols)?;
        let position_use = |e: &Expr, first: usize| {
            let used = e.coordinates_used();
            [used.contains(&first), used.contains(&(first + 1))]
        };
        let density_uses_position = position_use(&density, nf * (1 + dims));

        // Particles and the coupling.
        let particle_source = string(&table, "lagrangian")?;
        let particle = match (particles.is_empty(), particle_source) {
            (true, None) => None,
            (true, Some(_)) => {
                return Err(SystemFileError::MissingKey { key: "coordinates" });
            }
            (false, None) => return Err(SystemFileError::MissingKey { key: "lagrangian" }),
            (false, Some(source)) => {
                let symbols = Arc::new(Symbols::new(particles.clone(), param_names.clone()));
                Some(Bound::new(
                    source,
                    compile("lagrangian", source, &symbols)?,
                    &params,
                ))
            }
        };
        let mut coupling_uses_position = [false; 2];
        let coupling = match string(&table, "coupling")? {
            None => None,
            Some(source) => {
                let mut coordinates = fields.clone();
                coordinates.extend(particles.iter().cloned());
                coordinates.extend(positions.iter().map(|p| p.to_string()));
                let mut velocities = field_velocities.clone();
                velocities.extend(
                    particles
                        .iter()
                        .enumerate()
                        .map(|(i, p)| (format!("{p}_dot"), nf + i)),
                );
                let symbols = symbols_with(coordinates, &velocities, &param_names);
                let expr = compile("coupling", source, &symbols)?;
                coupling_uses_position = position_use(&expr, nf + particles.len());
                Some(Bound::new(source, expr, &params))
            }
        };

        // Initial values.
        let position_symbols = symbols_with(
            positions.iter().map(|p| p.to_string()).collect(),
            &[],
            &param_names,
        );
        let parameter_symbols = symbols_with(Vec::new(), &[], &param_names);
        let mut initial_fields = vec![(Initial::Value(0.0), Initial::Value(0.0)); nf];
        let mut initial_particles =
            vec![(Initial::Value(0.0), Initial::Value(0.0)); particles.len()];
        if let Some(t) = sub_table(&table, "initial")? {
            for (entry, v) in t {
                let (slot, symbols) = if let Some(f) = fields.iter().position(|f| f == entry) {
                    (&mut initial_fields[f].0, &position_symbols)
                } else if let Some(f) = fields.iter().position(|f| format!("{f}_t") == *entry) {
                    (&mut initial_fields[f].1, &position_symbols)
                } else if let Some(p) = particles.iter().position(|p| p == entry) {
                    (&mut initial_particles[p].0, &parameter_symbols)
                } else if let Some(p) = particles.iter().position(|p| format!("{p}_dot") == *entry)
                {
                    (&mut initial_particles[p].1, &parameter_symbols)
                } else {
                    let mut known: Vec<String> = fields
                        .iter()
                        .flat_map(|f| [f.clone(), format!("{f}_t")])
                        .collect();
                    known.extend(
                        particles
                            .iter()
                            .flat_map(|p| [p.clone(), format!("{p}_dot")]),
                    );
                    return Err(SystemFileError::UnknownInitial {
                        name: entry.clone(),
                        known: known.join(", "),
                    });
                };
                *slot = match v {
                    toml::Value::String(text) => {
                        Initial::Expr(crate::expr::parse(text, symbols).map_err(|e| {
                            SystemFileError::InitialExpression {
                                name: entry.clone(),
                                column: e.column,
                                message: e.message,
                            }
                        })?)
                    }
                    v => Initial::Value(number("initial", entry, v)?),
                };
            }
        }

        let constant_mass = density.mass_matrix_is_constant()
            && coupling
                .as_ref()
                .is_none_or(|c| c.expr.mass_matrix_is_constant())
            && particle
                .as_ref()
                .is_none_or(|p| p.expr.mass_matrix_is_constant());
        let system = FieldSystem {
            name,
            fields,
            lattice,
            particles,
            density: Bound::new(density_source, density, &params),
            coupling,
            particle,
            param_names,
            params,
            density_uses_position,
            coupling_uses_position,
            initial_fields,
            initial_particles,
            constant_mass,
        };
        system.check_initial_state()?;
        Ok(system)
    }

    /// Reads a field system file; every error names the path.
    pub fn from_path(path: &Path) -> Result<FieldSystem, SystemFileError> {
        let text = std::fs::read_to_string(path).map_err(|e| SystemFileError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        FieldSystem::from_toml_str(&text).map_err(|e| SystemFileError::InFile {
            path: path.to_path_buf(),
            error: Box::new(e),
        })
    }

    /// The initial state is finite everywhere, and the density is regular in the field
    /// velocities there (at every site, or at the first when M is constant).
    fn check_initial_state(&self) -> Result<(), SystemFileError> {
        use crate::systems::System;
        let (q, q_dot) = self.initial_state();
        let nf = self.fields.len();
        let sites = self.lattice.num_sites();
        for (c, (&value, &velocity)) in q.iter().zip(&q_dot).enumerate() {
            for (v, suffix) in [(value, ""), (velocity, "_t")] {
                if !v.is_finite() {
                    let (entry, at) = if c < sites * nf {
                        let [x, y] = self.lattice.position(c / nf);
                        let at = if self.lattice.dims() == 1 {
                            format!("x = {x}")
                        } else {
                            format!("x = {x}, y = {y}")
                        };
                        (format!("{}{suffix}", self.fields[c % nf]), at)
                    } else {
                        let p = &self.particles[c - sites * nf];
                        let suffix = if suffix.is_empty() { "" } else { "_dot" };
                        (format!("{p}{suffix}"), "the start".into())
                    };
                    return Err(SystemFileError::InitialNotFinite {
                        name: entry,
                        value: v,
                        at,
                    });
                }
            }
        }
        let checked = if self.constant_mass { 1 } else { sites };
        let velocities: Vec<String> = self.fields.iter().map(|f| format!("{f}_t")).collect();
        for site in 0..checked {
            let mut coords = Vec::new();
            self.term_coordinates(site, &mut coords);
            let ql: Vec<f64> = coords.iter().map(|&c| q[c]).collect();
            let qdl: Vec<f64> = coords.iter().map(|&c| q_dot[c]).collect();
            let local = SiteVelocities {
                system: self,
                site,
                q: &ql,
                q_dot: &qdl,
            };
            let detail = match crate::mass_matrix(&local, 0.0, &ql[..nf], &qdl[..nf]) {
                Err(_) => Some("not finite".to_string()),
                Ok(m) => {
                    let m = nalgebra::DMatrix::from_row_slice(nf, nf, &m);
                    let scale = m.iter().fold(0.0_f64, |s, v| s.max(v.abs()));
                    let det = m.determinant();
                    if !det.is_finite() {
                        Some("not finite".into())
                    } else if scale == 0.0 {
                        Some("0".into())
                    } else if det.abs() <= 1e-12 * scale.powi(nf as i32) {
                        Some("singular".into())
                    } else {
                        None
                    }
                }
            };
            if let Some(detail) = detail {
                return Err(SystemFileError::NotRegular {
                    velocity: velocities.join(", "),
                    detail,
                });
            }
        }
        Ok(())
    }
}

/// The density at one site as a Lagrangian of that site's field values and velocities, the
/// neighbours held at the given state: its mass matrix is `a^d ∂²density/∂φ_t²`.
struct SiteVelocities<'a> {
    system: &'a FieldSystem,
    site: usize,
    q: &'a [f64],
    q_dot: &'a [f64],
}

impl Lagrangian for SiteVelocities<'_> {
    fn dof(&self) -> usize {
        self.system.fields.len()
    }

    fn lagrangian<D: crate::Scalar>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
        let nf = q.len();
        let mut ql: Vec<D> = self.q.iter().map(|&v| D::from(v)).collect();
        let mut qdl: Vec<D> = self.q_dot.iter().map(|&v| D::from(v)).collect();
        ql[..nf].copy_from_slice(q);
        qdl[..nf].copy_from_slice(q_dot);
        self.system.term(self.site, t, &ql, &qdl)
    }
}
