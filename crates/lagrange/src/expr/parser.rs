//! Lexer and iterative operator-precedence (shunting-yard) parser.
//!
//! The parser never recurses: operators and open parentheses live on an explicit stack, and
//! operands are emitted straight into a [`Builder`], so input nesting depth is bounded only by
//! memory and the work is linear in the input length.

use super::tape::{BinOp, Builder, Func1, Operand, Val};
use super::{Resolved, Symbols};
use std::f64::consts::PI;
use std::sync::Arc;

/// A syntax or name error, with the 1-based column (in characters) where it was detected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ParseError {
    /// 1-based column (counted in characters) of the offending token.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// Classification of a [`ParseError`] used to give system files structured errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// A name that is neither a coordinate, a velocity, `t`, `pi` nor a parameter.
    UnknownIdentifier(String),
    /// `w_dot` where `w` is not a coordinate (holds `w`).
    UnknownVelocity(String),
    /// Anything else.
    Syntax,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok<'s> {
    Num(f64),
    Ident(&'s str),
    Plus,
    Minus,
    Star,
    Slash,
    Pow,
    LParen,
    RParen,
    Comma,
    End,
}

#[derive(Debug, Clone, Copy)]
struct Token<'s> {
    tok: Tok<'s>,
    /// 1-based character column.
    col: usize,
    text: &'s str,
}

type Fail = (ParseError, ErrorKind);

fn fail(column: usize, message: impl Into<String>) -> Fail {
    (
        ParseError {
            column,
            message: message.into(),
        },
        ErrorKind::Syntax,
    )
}

fn lex(source: &str) -> Result<Vec<Token<'_>>, Fail> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0; // byte offset
    let mut col = 1; // character column of `i`
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let start_col = col;
        let tok = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                col += 1;
                continue;
            }
            b'0'..=b'9' | b'.' => {
                let digit = |j: usize| j < bytes.len() && bytes[j].is_ascii_digit();
                while digit(i) {
                    i += 1;
                }
                let int_digits = i - start;
                let mut frac_digits = 0;
                if i < bytes.len() && bytes[i] == b'.' {
                    i += 1;
                    while digit(i) {
                        i += 1;
                        frac_digits += 1;
                    }
                }
                if int_digits + frac_digits == 0 {
                    return Err(fail(
                        start_col,
                        "unexpected `.` (a number needs digits, e.g. `.5`)",
                    ));
                }
                // Exponent only when digits follow (`2e` + `xp(..)` is not a number).
                if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
                    let mut j = i + 1;
                    if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
                        j += 1;
                    }
                    if digit(j) {
                        i = j;
                        while digit(i) {
                            i += 1;
                        }
                    }
                }
                col += i - start;
                let text = &source[start..i];
                let value: f64 = text
                    .parse()
                    .map_err(|_| fail(start_col, format!("malformed number `{text}`")))?;
                if !value.is_finite() {
                    return Err(fail(start_col, format!("number `{text}` is out of range")));
                }
                Tok::Num(value)
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                col += i - start;
                Tok::Ident(&source[start..i])
            }
            _ => {
                let (tok, len) = match c {
                    b'+' => (Tok::Plus, 1),
                    b'-' => (Tok::Minus, 1),
                    b'*' if bytes.get(i + 1) == Some(&b'*') => (Tok::Pow, 2),
                    b'*' => (Tok::Star, 1),
                    b'/' => (Tok::Slash, 1),
                    b'^' => (Tok::Pow, 1),
                    b'(' => (Tok::LParen, 1),
                    b')' => (Tok::RParen, 1),
                    b',' => (Tok::Comma, 1),
                    _ => {
                        let ch = source[i..].chars().next().unwrap_or('?');
                        return Err(fail(
                            col,
                            format!("unexpected character `{}`", ch.escape_debug()),
                        ));
                    }
                };
                i += len;
                col += len;
                tok
            }
        };
        tokens.push(Token {
            tok,
            col: start_col,
            text: &source[start..i],
        });
    }
    tokens.push(Token {
        tok: Tok::End,
        col,
        text: "",
    });
    Ok(tokens)
}

/// Functions callable in expressions: name, arity.
const FUNCTIONS: &[(&str, usize)] = &[
    ("sin", 1),
    ("cos", 1),
    ("tan", 1),
    ("asin", 1),
    ("acos", 1),
    ("atan", 1),
    ("atan2", 2),
    ("sinh", 1),
    ("cosh", 1),
    ("tanh", 1),
    ("exp", 1),
    ("log", 1),
    ("sqrt", 1),
    ("abs", 1),
    ("pow", 2),
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Func {
    One(Func1),
    Atan2,
    Pow,
}

fn function(name: &str) -> Option<(Func, usize)> {
    let f = match name {
        "sin" => Func::One(Func1::Sin),
        "cos" => Func::One(Func1::Cos),
        "tan" => Func::One(Func1::Tan),
        "asin" => Func::One(Func1::Asin),
        "acos" => Func::One(Func1::Acos),
        "atan" => Func::One(Func1::Atan),
        "atan2" => Func::Atan2,
        "sinh" => Func::One(Func1::Sinh),
        "cosh" => Func::One(Func1::Cosh),
        "tanh" => Func::One(Func1::Tanh),
        "exp" => Func::One(Func1::Exp),
        "log" => Func::One(Func1::Ln),
        "sqrt" => Func::One(Func1::Sqrt),
        "abs" => Func::One(Func1::Abs),
        "pow" => Func::Pow,
        _ => return None,
    };
    let arity = if matches!(f, Func::One(_)) { 1 } else { 2 };
    Some((f, arity))
}

/// Names of the functions the expression language knows.
pub fn function_names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS.iter().map(|&(n, _)| n)
}

#[derive(Debug, Clone, Copy)]
enum StackOp<'s> {
    /// Binary operator.
    Bin(BinOp),
    /// Prefix minus.
    Neg,
    /// `(` for grouping, with its column.
    Paren(usize),
    /// `name(`: function, arity, name, column of the name, column of `(`, arguments seen.
    Call {
        func: Func,
        arity: usize,
        name: &'s str,
        col: usize,
        paren: usize,
        args: usize,
    },
}

/// Binding power and right-associativity.
fn precedence(op: &StackOp<'_>) -> u8 {
    match op {
        StackOp::Bin(BinOp::Add | BinOp::Sub) => 1,
        StackOp::Bin(BinOp::Mul | BinOp::Div) => 2,
        StackOp::Neg => 3,
        StackOp::Bin(BinOp::Pow) => 4,
        _ => 0,
    }
}

fn describe(t: &Token<'_>) -> String {
    match t.tok {
        Tok::End => "end of input".into(),
        Tok::Num(_) => format!("number `{}`", t.text),
        Tok::Ident(s) => format!("`{s}`"),
        _ => format!("`{}`", t.text),
    }
}

pub(crate) fn parse_internal(source: &str, symbols: &Arc<Symbols>) -> Result<super::Expr, Fail> {
    let tokens = lex(source)?;
    if tokens.len() == 1 {
        return Err(fail(1, "empty expression"));
    }
    let mut b = Builder::default();
    let mut values: Vec<Val> = Vec::new();
    let mut ops: Vec<StackOp<'_>> = Vec::new();

    fn apply(b: &mut Builder, values: &mut Vec<Val>, op: StackOp<'_>) {
        match op {
            StackOp::Neg => {
                let a = values.pop().expect("operand");
                values.push(b.neg(a));
            }
            StackOp::Bin(op) => {
                let y = values.pop().expect("operand");
                let x = values.pop().expect("operand");
                values.push(b.binary(op, x, y));
            }
            _ => unreachable!("parentheses are not applied"),
        }
    }

    let mut expect_operand = true;
    let mut k = 0;
    while k < tokens.len() {
        let t = tokens[k];
        k += 1;
        if expect_operand {
            match t.tok {
                Tok::Num(v) => {
                    values.push(Val::C(v));
                    expect_operand = false;
                }
                Tok::Ident(name) => {
                    if tokens[k].tok == Tok::LParen {
                        let paren = tokens[k].col;
                        k += 1;
                        let Some((func, arity)) = function(name) else {
                            let known: Vec<_> = function_names().collect();
                            return Err(fail(
                                t.col,
                                format!("unknown function `{name}` (known: {})", known.join(", ")),
                            ));
                        };
                        if tokens[k].tok == Tok::RParen {
                            return Err(fail(t.col, arity_message(name, arity, 0)));
                        }
                        ops.push(StackOp::Call {
                            func,
                            arity,
                            name,
                            col: t.col,
                            paren,
                            args: 0,
                        });
                    } else {
                        values.push(resolve(name, t.col, symbols)?);
                        expect_operand = false;
                    }
                }
                Tok::LParen => {
                    if tokens[k].tok == Tok::RParen {
                        return Err(fail(
                            tokens[k].col,
                            "empty parentheses: expected an expression",
                        ));
                    }
                    ops.push(StackOp::Paren(t.col));
                }
                Tok::Minus => ops.push(StackOp::Neg),
                Tok::Plus => {} // unary plus
                _ => {
                    return Err(fail(
                        t.col,
                        format!("expected a number, a name or `(`, found {}", describe(&t)),
                    ));
                }
            }
            continue;
        }
        match t.tok {
            Tok::Plus | Tok::Minus | Tok::Star | Tok::Slash | Tok::Pow => {
                let (op, right_assoc) = match t.tok {
                    Tok::Plus => (BinOp::Add, false),
                    Tok::Minus => (BinOp::Sub, false),
                    Tok::Star => (BinOp::Mul, false),
                    Tok::Slash => (BinOp::Div, false),
                    _ => (BinOp::Pow, true),
                };
                let p = precedence(&StackOp::Bin(op));
                while let Some(top) = ops.last() {
                    let tp = precedence(top);
                    if tp > p || (tp == p && !right_assoc) {
                        let top = ops.pop().expect("nonempty");
                        apply(&mut b, &mut values, top);
                    } else {
                        break;
                    }
                }
                ops.push(StackOp::Bin(op));
                expect_operand = true;
            }
            Tok::RParen | Tok::Comma | Tok::End => {
                // Reduce to the innermost open parenthesis or call.
                loop {
                    match ops.last().copied() {
                        Some(StackOp::Bin(_) | StackOp::Neg) => {
                            let top = ops.pop().expect("nonempty");
                            apply(&mut b, &mut values, top);
                        }
                        Some(StackOp::Paren(col)) => match t.tok {
                            Tok::RParen => {
                                ops.pop();
                                break;
                            }
                            Tok::Comma => {
                                return Err(fail(t.col, "`,` outside of a function call"));
                            }
                            _ => return Err(fail(col, "unclosed `(`")),
                        },
                        Some(StackOp::Call {
                            func,
                            arity,
                            name,
                            col,
                            paren,
                            args,
                        }) => match t.tok {
                            Tok::RParen => {
                                ops.pop();
                                let args = args + 1;
                                if args != arity {
                                    return Err(fail(col, arity_message(name, arity, args)));
                                }
                                let v = match func {
                                    Func::One(f) => {
                                        let a = values.pop().expect("operand");
                                        b.unary(f, a)
                                    }
                                    Func::Atan2 | Func::Pow => {
                                        let y = values.pop().expect("operand");
                                        let x = values.pop().expect("operand");
                                        let op = if func == Func::Pow {
                                            BinOp::Pow
                                        } else {
                                            BinOp::Atan2
                                        };
                                        b.binary(op, x, y)
                                    }
                                };
                                values.push(v);
                                break;
                            }
                            Tok::Comma => {
                                if let Some(StackOp::Call { args, .. }) = ops.last_mut() {
                                    *args += 1;
                                }
                                expect_operand = true;
                                break;
                            }
                            _ => return Err(fail(paren, format!("unclosed `(` of `{name}(`"))),
                        },
                        None => match t.tok {
                            Tok::RParen => return Err(fail(t.col, "unmatched `)`")),
                            Tok::Comma => {
                                return Err(fail(t.col, "`,` outside of a function call"));
                            }
                            _ => {
                                debug_assert_eq!(values.len(), 1);
                                let result = values.pop().expect("result");
                                return Ok(b.finish(result, symbols));
                            }
                        },
                    }
                }
            }
            Tok::Num(_) | Tok::Ident(_) | Tok::LParen => {
                return Err(fail(
                    t.col,
                    format!(
                        "expected an operator, found {} (multiplication must be written with `*`)",
                        describe(&t)
                    ),
                ));
            }
        }
    }
    unreachable!("the token list ends with End")
}

fn arity_message(name: &str, arity: usize, got: usize) -> String {
    let s = if arity == 1 { "" } else { "s" };
    format!("function `{name}` takes {arity} argument{s}, got {got}")
}

fn resolve(name: &str, col: usize, symbols: &Symbols) -> Result<Val, Fail> {
    match name {
        "t" => return Ok(Val::Op(Operand::T)),
        "pi" => return Ok(Val::C(PI)),
        _ => {}
    }
    match symbols.lookup.get(name) {
        Some(Resolved::Q(i)) => Ok(Val::Op(Operand::Q(*i))),
        Some(Resolved::Qd(i)) => Ok(Val::Op(Operand::Qd(*i))),
        Some(Resolved::P(j)) => Ok(Val::Op(Operand::P(*j))),
        None => {
            if let Some(base) = name.strip_suffix("_dot") {
                let e = ParseError {
                    column: col,
                    message: format!("velocity of unknown coordinate `{base}` (in `{name}`)"),
                };
                return Err((e, ErrorKind::UnknownVelocity(base.to_string())));
            }
            let message = if function(name).is_some() {
                format!(
                    "unknown identifier `{name}` (the function `{name}` must be called: `{name}(...)`)"
                )
            } else {
                format!("unknown identifier `{name}`")
            };
            Err((
                ParseError {
                    column: col,
                    message,
                },
                ErrorKind::UnknownIdentifier(name.to_string()),
            ))
        }
    }
}
