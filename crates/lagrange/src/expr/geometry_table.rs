//! The optional `[geometry]` table of a system file: where the bodies are, as expressions in
//! the coordinates and parameters, and how they connect. It gives a text system the same
//! [`Geometry`] a built-in declares, so `lagrange animate` draws the mechanism, not a guess.
//!
//! ```toml
//! [geometry]
//! bobs = [["l1*sin(theta1)", "-l1*cos(theta1)"],
//!         ["l1*sin(theta1) + l2*sin(theta2)", "-l1*cos(theta1) - l2*cos(theta2)"]]
//! rods = [[-1, 0], [0, 1]]   # -1 is the fixed pivot at the origin
//! springs = []               # drawn as zigzags
//! trail = false
//! ```

use super::Expr;
use super::Symbols;
use super::system::{SystemFileError, compile, type_name};
use crate::systems::{Geometry, LinkKind};
use std::sync::Arc;

/// Keys `[geometry]` may contain.
const KEYS: &[&str] = &["bobs", "rods", "springs", "trail"];

/// A parsed `[geometry]` table (expressions compiled, links checked), with its source for
/// writing the file back.
#[derive(Debug, Clone)]
pub(crate) struct GeometryTable {
    bobs: Vec<[Expr; 2]>,
    links: Vec<(Option<usize>, Option<usize>, LinkKind)>,
    trail: bool,
    pub(crate) source: toml::Table,
}

fn wrong(key: &str, expected: &'static str, found: &toml::Value) -> SystemFileError {
    SystemFileError::WrongType {
        key: key.to_string(),
        expected,
        found: type_name(found),
    }
}

impl GeometryTable {
    /// Parses the table; expressions may use the coordinates and parameters of `symbols`.
    pub(crate) fn parse(
        table: &toml::Table,
        symbols: &Arc<Symbols>,
    ) -> Result<GeometryTable, SystemFileError> {
        if let Some(key) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(SystemFileError::UnknownGeometryKey { key: key.clone() });
        }
        let pair_of_strings = "an array of [x, y] expression pairs";
        let mut bobs = Vec::new();
        match table.get("bobs") {
            None => {
                return Err(SystemFileError::MissingKey {
                    key: "geometry.bobs",
                });
            }
            Some(toml::Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let key = format!("geometry.bobs[{i}]");
                    let toml::Value::Array(pair) = item else {
                        return Err(wrong(&key, pair_of_strings, item));
                    };
                    let [toml::Value::String(x), toml::Value::String(y)] = pair.as_slice() else {
                        return Err(wrong(&key, "a pair of expression strings", item));
                    };
                    bobs.push([
                        compile("geometry.bobs", x, symbols)?,
                        compile("geometry.bobs", y, symbols)?,
                    ]);
                }
            }
            Some(other) => return Err(wrong("geometry.bobs", pair_of_strings, other)),
        }
        let n = bobs.len() as i64;
        let mut links = Vec::new();
        for (name, kind) in [("rods", LinkKind::Rod), ("springs", LinkKind::Spring)] {
            let Some(value) = table.get(name) else {
                continue;
            };
            let expected = "an array of [from, to] bob indices (-1 = the pivot)";
            let toml::Value::Array(items) = value else {
                return Err(wrong(&format!("geometry.{name}"), expected, value));
            };
            for (i, item) in items.iter().enumerate() {
                let key = format!("geometry.{name}[{i}]");
                let anchor = |v: &toml::Value| match v {
                    toml::Value::Integer(-1) => Ok(None),
                    toml::Value::Integer(k) if (0..n).contains(k) => Ok(Some(*k as usize)),
                    _ => Err(wrong(
                        &key,
                        "a pair of indices from -1 to the number of bobs - 1",
                        item,
                    )),
                };
                let toml::Value::Array(pair) = item else {
                    return Err(wrong(&key, expected, item));
                };
                let [a, b] = pair.as_slice() else {
                    return Err(wrong(&key, expected, item));
                };
                links.push((anchor(a)?, anchor(b)?, kind));
            }
        }
        let trail = match table.get("trail") {
            None => false,
            Some(toml::Value::Boolean(b)) => *b,
            Some(other) => return Err(wrong("geometry.trail", "a boolean", other)),
        };
        Ok(GeometryTable {
            bobs,
            links,
            trail,
            source: table.clone(),
        })
    }

    /// The geometry with the parameters `params` bound.
    pub(crate) fn geometry(&self, params: &[f64]) -> Geometry {
        let bobs = self.bobs.clone();
        let params = params.to_vec();
        let positions = move |q: &[f64]| {
            let still = vec![0.0; q.len()];
            bobs.iter()
                .map(|[x, y]| {
                    [
                        x.eval_f64(0.0, q, &still, &params),
                        y.eval_f64(0.0, q, &still, &params),
                    ]
                })
                .collect()
        };
        let mut geometry =
            Geometry::new(self.bobs.len(), Arc::new(positions)).with_trail(self.trail);
        for &(from, to, kind) in &self.links {
            geometry = geometry.link(from, to, kind);
        }
        geometry
    }
}
