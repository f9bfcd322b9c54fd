//! Printing a compiled expression back to the expression language (iteratively).

use super::tape::{Expr, Inst, Operand, Val};
use std::fmt::{self, Write};

/// Precedence of a printed node: 1 sums, 2 products, 3 prefix minus, 4 powers, 5 atoms.
fn node_prec(expr: &Expr, v: Val) -> u8 {
    match v {
        Val::C(c) => const_prec(c),
        Val::Op(Operand::Reg(r)) => match expr.insts[r as usize] {
            Inst::Const(c) => const_prec(c.0),
            Inst::Add(..) | Inst::Sub(..) | Inst::AddC(..) | Inst::CSub(..) => 1,
            Inst::Mul(a, b) if a == b => 4,
            Inst::Mul(..) | Inst::Div(..) | Inst::MulC(..) | Inst::DivC(..) | Inst::CDiv(..) => 2,
            Inst::Neg(_) => 3,
            Inst::PowI(..) | Inst::PowF(..) | Inst::Pow(..) => 4,
            Inst::Un(..) | Inst::Atan2(..) => 5,
        },
        Val::Op(_) => 5,
    }
}

fn const_prec(c: f64) -> u8 {
    if c.is_sign_negative() || !c.is_finite() {
        3
    } else {
        5
    }
}

fn write_const(out: &mut String, c: f64) {
    if c.is_nan() {
        out.push_str("(0/0)");
    } else if c.is_infinite() {
        out.push_str(if c > 0.0 { "(1/0)" } else { "(-1/0)" });
    } else {
        // Both forms are the shortest that round-trip; `{:?}` switches to an exponent for very
        // large or small magnitudes (`1e-7`), `{}` prints integers without `.0`.
        let plain = format!("{c}");
        if plain.len() <= 18 {
            out.push_str(&plain);
        } else {
            let _ = write!(out, "{c:?}");
        }
    }
}

enum Work {
    Text(&'static str),
    Owned(String),
    /// Print a value; parenthesize if its precedence is below the minimum.
    Node(Val, u8),
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let symbols = &self.symbols;
        let mut out = String::new();
        let mut stack = vec![Work::Node(self.result, 0)];
        while let Some(w) = stack.pop() {
            let (v, min) = match w {
                Work::Text(s) => {
                    out.push_str(s);
                    continue;
                }
                Work::Owned(s) => {
                    out.push_str(&s);
                    continue;
                }
                Work::Node(v, min) => (v, min),
            };
            let prec = node_prec(self, v);
            let paren = prec < min;
            if paren {
                out.push('(');
                stack.push(Work::Text(")"));
            }
            let node = |o: Operand, min: u8| Work::Node(Val::Op(o), min);
            let cnode = |c: f64, min: u8| Work::Node(Val::C(c), min);
            // Children are pushed in reverse print order.
            let mut seq = |items: Vec<Work>| stack.extend(items.into_iter().rev());
            match v {
                Val::C(c) => write_const(&mut out, c),
                Val::Op(Operand::T) => out.push('t'),
                Val::Op(Operand::Q(i)) => out.push_str(&symbols.coordinates()[i as usize]),
                Val::Op(Operand::Qd(i)) => {
                    out.push_str(&symbols.coordinates()[i as usize]);
                    out.push_str("_dot");
                }
                Val::Op(Operand::P(j)) => out.push_str(&symbols.parameters()[j as usize]),
                Val::Op(Operand::Reg(r)) => match self.insts[r as usize] {
                    Inst::Const(c) => write_const(&mut out, c.0),
                    Inst::Neg(a) => seq(vec![Work::Text("-"), node(a, 4)]),
                    Inst::Add(a, b) => seq(vec![node(a, 1), Work::Text(" + "), node(b, 2)]),
                    Inst::Sub(a, b) => seq(vec![node(a, 1), Work::Text(" - "), node(b, 2)]),
                    Inst::Mul(a, b) if a == b => seq(vec![node(a, 5), Work::Text("^2")]),
                    Inst::Mul(a, b) => seq(vec![node(a, 2), Work::Text("*"), node(b, 3)]),
                    Inst::Div(a, b) => seq(vec![node(a, 2), Work::Text("/"), node(b, 3)]),
                    Inst::AddC(a, c) => {
                        if c.0 < 0.0 {
                            seq(vec![node(a, 1), Work::Text(" - "), cnode(-c.0, 2)])
                        } else {
                            seq(vec![node(a, 1), Work::Text(" + "), cnode(c.0, 2)])
                        }
                    }
                    Inst::CSub(c, a) => seq(vec![cnode(c.0, 1), Work::Text(" - "), node(a, 2)]),
                    Inst::MulC(a, c) => seq(vec![cnode(c.0, 2), Work::Text("*"), node(a, 3)]),
                    Inst::DivC(a, c) => seq(vec![node(a, 2), Work::Text("/"), cnode(c.0, 3)]),
                    Inst::CDiv(c, a) => seq(vec![cnode(c.0, 2), Work::Text("/"), node(a, 3)]),
                    Inst::PowI(a, n) => seq(vec![node(a, 5), Work::Text("^"), cnode(n as f64, 4)]),
                    Inst::PowF(a, c) => seq(vec![node(a, 5), Work::Text("^"), cnode(c.0, 4)]),
                    Inst::Pow(a, b) => seq(vec![node(a, 5), Work::Text("^"), node(b, 4)]),
                    Inst::Un(g, a) => seq(vec![
                        Work::Owned(format!("{}(", g.name())),
                        node(a, 0),
                        Work::Text(")"),
                    ]),
                    Inst::Atan2(a, b) => seq(vec![
                        Work::Text("atan2("),
                        node(a, 0),
                        Work::Text(", "),
                        node(b, 0),
                        Work::Text(")"),
                    ]),
                },
            }
        }
        f.write_str(&out)
    }
}
