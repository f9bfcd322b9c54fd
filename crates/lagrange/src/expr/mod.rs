//! Lagrangians as text: parser → expression graph → evaluation generic over the dual scalar.
//!
//! # Expression language
//!
//! * numbers: `1`, `2.5`, `.5`, `1e-3`, `6.02E23`;
//! * names: the declared coordinates (`x`), their velocities (`x_dot`), time `t`, the declared
//!   parameters, and the constant `pi`; any other name is an error that names it;
//! * operators: `+ - * /`, power `^` (also written `**`), parentheses. Power is
//!   right-associative and binds tighter than unary minus: `-x^2` is `-(x^2)`, `2^3^2` is `2^9`;
//! * functions: `sin cos tan asin acos atan atan2(y, x) sinh cosh tanh exp log sqrt abs
//!   pow(a, b)` (`log` is the natural logarithm).
//!
//! [`parse`] compiles the text once into an [`Expr`]: a flat instruction tape with constants
//! folded, repeated subexpressions shared, integer powers as `powi`, and registers reused. It
//! evaluates generically over any [`Scalar`](crate::Scalar) (`f64` or nested dual numbers), so
//! the engine differentiates text Lagrangians exactly like Rust ones. Parsing and evaluation are
//! iterative and linear-time: deeply nested or very long input cannot overflow the stack.
//!
//! ```
//! use lagrange::expr::{Symbols, parse};
//!
//! let symbols = Symbols::new(["x"], ["k"]);
//! let e = parse("0.5*x_dot^2 - 0.5*k*x^2", &symbols).unwrap();
//! assert_eq!(e.eval_f64(0.0, &[2.0], &[3.0], &[0.5]), 4.5 - 1.0);
//! let err = parse("0.5*x_dot^2 - 0.5*k*y^2", &symbols).unwrap_err();
//! assert_eq!(err.to_string(), "column 21: unknown identifier `y`");
//! ```
//!
//! # Numerics
//!
//! The tape computes what the text says, operation for operation, except for rewrites that are
//! exact in IEEE arithmetic (constant folding, `x + -0 → x`, `x*1 → x`, `(−a)·b → −(a·b)`,
//! `x^2 → x*x`, `x - c → x + (−c)`); `0*x` is *not* folded (it is NaN for infinite `x`).
//! Integer constant powers use `powi`, `x^0.5` uses `sqrt`, `x^-1` is `1/x`. A variable
//! exponent `a^b` is `exp(b ln a)` for `a > 0` and `a.powi(b)` at integer `b` otherwise.
//! Over dual numbers, `atan2`, `tanh` and fractional powers avoid num-dual's singular formulas
//! (`atan(y/x)` at `x = 0`, `sinh/cosh` beyond |x| ≈ 710, `x^(n−3)·x³` at `x = 0`), so their
//! derivatives are finite wherever the mathematical ones are.
//!
//! [`TextSystem`] loads a whole system (coordinates, `L`, optional Rayleigh dissipation,
//! parameters, initial state) from a TOML file; see [`TextSystem::from_toml_str`]. It declares
//! `L` to the engine as a sum of local terms when that pays off ([`Expr::local_terms`],
//! [`TextSystem::local_terms`]), so large chains and lattices written as text take the
//! structured, linear-cost path, and declares a constant mass matrix when the text provably has
//! one ([`Expr::mass_matrix_is_constant`]).

mod display;
mod geometry_table;
mod parser;
mod quadratic;
mod system;
mod tape;

pub use parser::{ParseError, function_names};
pub use system::{SystemFileError, TextSystem, WithParameters};
pub(crate) use system::{
    compile, is_identifier, number, parse_table, string, sub_table, type_name,
};
pub use tape::{Expr, LocalTerm};

use std::collections::HashMap;
use std::sync::Arc;

/// How a declared name resolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolved {
    Q(u32),
    Qd(u32),
    P(u32),
}

/// The names an expression may use: coordinates (column order; each also provides its velocity
/// `<name>_dot`) and parameters (their order defines parameter indices in [`Expr::eval`]).
///
/// `t` (time) and `pi` are always available and cannot be redefined. When names collide, a
/// coordinate wins over a velocity, and a velocity over a parameter ([`TextSystem`] rejects such
/// files).
#[derive(Debug, Clone, PartialEq)]
pub struct Symbols {
    coordinates: Vec<String>,
    parameters: Vec<String>,
    pub(crate) lookup: HashMap<String, Resolved>,
}

impl Symbols {
    /// A symbol table from coordinate and parameter names.
    ///
    /// ```
    /// let s = lagrange::expr::Symbols::new(["theta"], ["g", "l"]);
    /// assert_eq!(s.parameter_index("l"), Some(1));
    /// ```
    pub fn new<C, P>(coordinates: C, parameters: P) -> Symbols
    where
        C: IntoIterator,
        C::Item: Into<String>,
        P: IntoIterator,
        P::Item: Into<String>,
    {
        let coordinates: Vec<String> = coordinates.into_iter().map(Into::into).collect();
        let parameters: Vec<String> = parameters.into_iter().map(Into::into).collect();
        assert!(
            coordinates.len() < u32::MAX as usize && parameters.len() < u32::MAX as usize,
            "too many symbols"
        );
        let mut lookup = HashMap::with_capacity(2 * coordinates.len() + parameters.len());
        // Later inserts win: parameters < velocities < coordinates; first declaration wins
        // among equals.
        for (j, p) in parameters.iter().enumerate().rev() {
            lookup.insert(p.clone(), Resolved::P(j as u32));
        }
        for (i, c) in coordinates.iter().enumerate().rev() {
            lookup.insert(format!("{c}_dot"), Resolved::Qd(i as u32));
        }
        for (i, c) in coordinates.iter().enumerate().rev() {
            lookup.insert(c.clone(), Resolved::Q(i as u32));
        }
        Symbols {
            coordinates,
            parameters,
            lookup,
        }
    }

    /// Coordinate names, in column order.
    pub fn coordinates(&self) -> &[String] {
        &self.coordinates
    }

    /// Parameter names, in index order.
    pub fn parameters(&self) -> &[String] {
        &self.parameters
    }

    /// Number of coordinates.
    pub fn num_coordinates(&self) -> usize {
        self.coordinates.len()
    }

    /// Number of parameters.
    pub fn num_parameters(&self) -> usize {
        self.parameters.len()
    }

    /// Index of a coordinate.
    pub fn coordinate_index(&self, name: &str) -> Option<usize> {
        self.coordinates.iter().position(|c| c == name)
    }

    /// Index of a parameter.
    pub fn parameter_index(&self, name: &str) -> Option<usize> {
        self.parameters.iter().position(|p| p == name)
    }
}

/// Parses `source` into a compiled expression over `symbols`.
///
/// Errors name the problem and the 1-based column (in characters) where it was found.
pub fn parse(source: &str, symbols: &Symbols) -> Result<Expr, ParseError> {
    parser::parse_internal(source, &Arc::new(symbols.clone())).map_err(|(e, _)| e)
}
