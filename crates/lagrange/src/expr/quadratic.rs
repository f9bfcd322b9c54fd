//! Symbolic check that an expression is quadratic in the velocities with a constant
//! `q̇q̇` Hessian (a constant mass matrix, for a Lagrangian).
//!
//! Every value of the tape is classified as a polynomial in `q̇` of degree at most 2 whose
//! coefficients (functions of `t`, `q` and the parameters) are each known to be zero, constant
//! (parameters and literals only) or possibly state-dependent, or else as "not such a
//! polynomial". The classification is conservative: it never claims a zero or constant
//! coefficient that might not be one, but it may miss cancellations (`q*q_dot^2 - q*q_dot^2`
//! is reported as state-dependent).

use super::tape::{Expr, Inst, Operand, Val};

/// What is known about one coefficient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Coef {
    /// Identically zero.
    Zero,
    /// Independent of `t`, `q` and `q̇` (literals and parameters).
    Const,
    /// May depend on `t` or `q`.
    State,
}

impl Coef {
    fn add(self, other: Coef) -> Coef {
        match (self, other) {
            (Coef::Zero, c) | (c, Coef::Zero) => c,
            (Coef::Const, Coef::Const) => Coef::Const,
            _ => Coef::State,
        }
    }

    fn mul(self, other: Coef) -> Coef {
        match (self, other) {
            (Coef::Zero, _) | (_, Coef::Zero) => Coef::Zero,
            (Coef::Const, Coef::Const) => Coef::Const,
            _ => Coef::State,
        }
    }

    /// The coefficient of a literal.
    fn literal(c: f64) -> Coef {
        if c == 0.0 { Coef::Zero } else { Coef::Const }
    }
}

/// A value as a polynomial of degree ≤ 2 in `q̇` (`[degree 0, degree 1, degree 2]`), or `None`
/// when it is not known to be one.
type Poly = Option<[Coef; 3]>;

fn constant(c: Coef) -> Poly {
    Some([c, Coef::Zero, Coef::Zero])
}

/// Whether `p` is free of `q̇` (degree 0).
fn velocity_free(p: &[Coef; 3]) -> bool {
    p[1] == Coef::Zero && p[2] == Coef::Zero
}

/// A `q̇`-free function of `q̇`-free arguments: constant when they all are (a zero argument
/// counts as constant: `f(0)` is a number), otherwise state-dependent. `None` if any argument
/// depends on `q̇`.
fn function_of(args: &[Poly]) -> Poly {
    let mut c = Coef::Const;
    for a in args {
        let a = (*a)?;
        if !velocity_free(&a) {
            return None;
        }
        if a[0] == Coef::State {
            c = Coef::State;
        }
    }
    constant(c)
}

fn add(a: Poly, b: Poly) -> Poly {
    let (a, b) = (a?, b?);
    Some([a[0].add(b[0]), a[1].add(b[1]), a[2].add(b[2])])
}

fn mul(a: Poly, b: Poly) -> Poly {
    let (a, b) = (a?, b?);
    let mut out = [Coef::Zero; 5];
    for i in 0..3 {
        for j in 0..3 {
            out[i + j] = out[i + j].add(a[i].mul(b[j]));
        }
    }
    if out[3] != Coef::Zero || out[4] != Coef::Zero {
        return None;
    }
    Some([out[0], out[1], out[2]])
}

/// Every coefficient of `a` scaled by a `q̇`-free factor of kind `c` (for `a · c`, `a / c`).
fn scale(a: Poly, c: Coef) -> Poly {
    let a = a?;
    // Division by an identically zero value is still a (non-finite) constant factor.
    let c = if c == Coef::Zero { Coef::Const } else { c };
    Some(a.map(|x| x.mul(c)))
}

impl Expr {
    /// Whether `∂²e/∂q̇²` is provably the same at every `(t, q, q̇)` (for every parameter value):
    /// the expression is `½ q̇ᵀ M q̇ + A(t, q)·q̇ + B(t, q)` with `M` built from literals and
    /// parameters only. For a Lagrangian this is a constant mass matrix
    /// ([`Lagrangian::mass_matrix_is_constant`](crate::Lagrangian::mass_matrix_is_constant)).
    ///
    /// The check is structural and conservative: `+ - *`, division by a `q̇`-free value and
    /// integer powers are followed through; any function (`sin`, `sqrt`, `abs`, …), power or
    /// `atan2` of a `q̇`-dependent argument, division by one, or a degree above 2 gives `false`,
    /// as does a `q̇q̇` coefficient involving `t` or a coordinate — even where terms would cancel.
    ///
    /// ```
    /// use lagrange::expr::{Symbols, parse};
    ///
    /// let s = Symbols::new(["x", "y"], ["m", "b", "k"]);
    /// let constant = |text: &str| parse(text, &s).unwrap().mass_matrix_is_constant();
    /// assert!(constant("0.5*m*x_dot^2 + b*x*y_dot - k*x^2"));
    /// assert!(constant("(x_dot + y_dot)^2 / m"));
    /// assert!(!constant("0.5*m*x^2*y_dot^2")); // M depends on x
    /// assert!(!constant("sqrt(1 + x_dot^2)")); // not quadratic in the velocities
    /// ```
    pub fn mass_matrix_is_constant(&self) -> bool {
        let mut polys: Vec<Poly> = Vec::with_capacity(self.insts.len());
        let operand = |o: Operand, polys: &[Poly]| -> Poly {
            match o {
                Operand::T | Operand::Q(_) => constant(Coef::State),
                Operand::P(_) => constant(Coef::Const),
                Operand::Qd(_) => Some([Coef::Zero, Coef::Const, Coef::Zero]),
                Operand::Reg(r) => polys[r as usize],
            }
        };
        for inst in &self.insts {
            let p = |o: Operand| operand(o, &polys);
            let poly = match *inst {
                Inst::Const(c) => constant(Coef::literal(c.0)),
                Inst::Neg(a) => p(a),
                Inst::Add(a, b) | Inst::Sub(a, b) => add(p(a), p(b)),
                Inst::Mul(a, b) => mul(p(a), p(b)),
                Inst::AddC(a, c) | Inst::CSub(c, a) => add(p(a), constant(Coef::literal(c.0))),
                Inst::MulC(a, c) => scale(p(a), Coef::literal(c.0)),
                Inst::DivC(a, c) => scale(p(a), Coef::literal(c.0)),
                Inst::Div(a, b) => match p(b) {
                    Some(d) if velocity_free(&d) => scale(p(a), d[0]),
                    _ => None,
                },
                // `n == 2` is emitted as a product; other powers of a `q̇`-dependent base
                // (`x^0`'s dual derivatives, negative or higher degrees) are not followed.
                Inst::PowI(a, n) => match p(a) {
                    Some(x) if velocity_free(&x) => function_of(&[Some(x)]),
                    Some(x) if n == 1 => Some(x),
                    Some(x) if n == 2 => mul(Some(x), Some(x)),
                    _ => None,
                },
                Inst::CDiv(_, a) | Inst::PowF(a, _) | Inst::Un(_, a) => function_of(&[p(a)]),
                Inst::Pow(a, b) | Inst::Atan2(a, b) => function_of(&[p(a), p(b)]),
            };
            polys.push(poly);
        }
        let result = match self.result {
            Val::C(c) => constant(Coef::literal(c)),
            Val::Op(o) => operand(o, &polys),
        };
        matches!(result, Some(r) if r[2] != Coef::State)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Symbols, parse};

    fn check(text: &str) -> bool {
        let s = Symbols::new(["q", "x", "y"], ["m", "k"]);
        parse(text, &s).unwrap().mass_matrix_is_constant()
    }

    #[test]
    fn classifies() {
        for text in [
            "0.5*m*x_dot^2 - k*x^2",
            "(x_dot + y_dot)^2",
            "q_dot*sin(q)",
            "3",
            "m",
            "x_dot*y_dot*m/k - cos(t)*x_dot",
            "(2*x_dot - t*q)*(y_dot + q^3)",
            "x_dot^2/(m*k)",
            "-(q_dot^2) + 0*q",
            "x_dot^1",
        ] {
            assert!(check(text), "{text}");
        }
        for text in [
            "q*q_dot^2",
            "sin(q_dot)",
            "q_dot^3",
            "q_dot^2/q",
            "sqrt(1 + q_dot^2)",
            "exp(t)*q_dot^2",
            "abs(q_dot)",
            "1/q_dot",
            "q_dot^-2",
            "q_dot^0.5",
            "m^q_dot",
            "q_dot^m",
            "atan2(q_dot, 1)",
            "(x_dot*y_dot)*(q_dot + 1)",
            "q_dot^2*t",
            "x_dot^2 / (1 + x_dot - x_dot)",
        ] {
            assert!(!check(text), "{text}");
        }
    }
}
