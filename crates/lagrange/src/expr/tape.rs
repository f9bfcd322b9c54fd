//! The compiled form of an expression: a flat SSA tape with constant folding and common
//! subexpression elimination, plus a register-allocated copy that [`Expr::eval`] runs.
//!
//! Everything here is iterative (no recursion over the expression), so arbitrarily deep
//! expressions cannot overflow the stack.

use crate::lagrangian::Scalar;
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use super::Symbols;

/// An `f64` compared and hashed by its bits (so that constants can key the CSE table).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cst(pub(crate) f64);

impl PartialEq for Cst {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}
impl Eq for Cst {}
impl Hash for Cst {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state)
    }
}

/// Where an instruction reads a value from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Operand {
    /// Time `t`.
    T,
    /// Coordinate `q[i]`.
    Q(u32),
    /// Velocity `q̇[i]`.
    Qd(u32),
    /// Parameter `p[j]`.
    P(u32),
    /// The result of an earlier instruction (SSA index in [`Expr::insts`], register in the
    /// executable copy).
    Reg(u32),
}

/// A value while building: a known constant or an operand.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Val {
    C(f64),
    Op(Operand),
}

/// Functions of one argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Func1 {
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Exp,
    Ln,
    Sqrt,
    Abs,
}

impl Func1 {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Func1::Sin => "sin",
            Func1::Cos => "cos",
            Func1::Tan => "tan",
            Func1::Asin => "asin",
            Func1::Acos => "acos",
            Func1::Atan => "atan",
            Func1::Sinh => "sinh",
            Func1::Cosh => "cosh",
            Func1::Tanh => "tanh",
            Func1::Exp => "exp",
            Func1::Ln => "log",
            Func1::Sqrt => "sqrt",
            Func1::Abs => "abs",
        }
    }

    #[inline(always)]
    pub(crate) fn apply<D: Scalar>(self, x: &D) -> D {
        match self {
            Func1::Sin => x.sin(),
            Func1::Cos => x.cos(),
            Func1::Tan => x.tan(),
            Func1::Asin => x.asin(),
            Func1::Acos => x.acos(),
            Func1::Atan => x.atan(),
            Func1::Sinh => x.sinh(),
            Func1::Cosh => x.cosh(),
            Func1::Tanh => tanh_value(x),
            Func1::Exp => x.exp(),
            Func1::Ln => x.ln(),
            Func1::Sqrt => x.sqrt(),
            Func1::Abs => x.abs(),
        }
    }
}

/// Binary arithmetic operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Atan2,
}

/// One SSA instruction; its result is referred to as `Operand::Reg(index)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Inst {
    /// A constant (only as an operand of `Pow`/`Atan2`; arithmetic uses the `*C` forms).
    Const(Cst),
    Neg(Operand),
    Add(Operand, Operand),
    Sub(Operand, Operand),
    Mul(Operand, Operand),
    Div(Operand, Operand),
    /// `a + c`
    AddC(Operand, Cst),
    /// `a * c`
    MulC(Operand, Cst),
    /// `c - a`
    CSub(Cst, Operand),
    /// `a / c`
    DivC(Operand, Cst),
    /// `c / a`
    CDiv(Cst, Operand),
    /// `a^n`, integer `n`
    PowI(Operand, i32),
    /// `a^c`, non-integer constant `c`
    PowF(Operand, Cst),
    /// `a^b`, both variable (see [`pow_value`])
    Pow(Operand, Operand),
    Un(Func1, Operand),
    /// `atan2(y, x)`
    Atan2(Operand, Operand),
}

impl Inst {
    /// The operands read, in order.
    pub(crate) fn operands(&self) -> ([Option<Operand>; 2], usize) {
        match *self {
            Inst::Const(_) => ([None, None], 0),
            Inst::Neg(a)
            | Inst::AddC(a, _)
            | Inst::MulC(a, _)
            | Inst::CSub(_, a)
            | Inst::DivC(a, _)
            | Inst::CDiv(_, a)
            | Inst::PowI(a, _)
            | Inst::PowF(a, _)
            | Inst::Un(_, a) => ([Some(a), None], 1),
            Inst::Add(a, b)
            | Inst::Sub(a, b)
            | Inst::Mul(a, b)
            | Inst::Div(a, b)
            | Inst::Pow(a, b)
            | Inst::Atan2(a, b) => ([Some(a), Some(b)], 2),
        }
    }

    /// The same instruction with every operand mapped through `f`.
    pub(crate) fn map_operands(self, mut f: impl FnMut(Operand) -> Operand) -> Inst {
        match self {
            Inst::Const(c) => Inst::Const(c),
            Inst::Neg(a) => Inst::Neg(f(a)),
            Inst::Add(a, b) => Inst::Add(f(a), f(b)),
            Inst::Sub(a, b) => Inst::Sub(f(a), f(b)),
            Inst::Mul(a, b) => Inst::Mul(f(a), f(b)),
            Inst::Div(a, b) => Inst::Div(f(a), f(b)),
            Inst::AddC(a, c) => Inst::AddC(f(a), c),
            Inst::MulC(a, c) => Inst::MulC(f(a), c),
            Inst::CSub(c, a) => Inst::CSub(c, f(a)),
            Inst::DivC(a, c) => Inst::DivC(f(a), c),
            Inst::CDiv(c, a) => Inst::CDiv(c, f(a)),
            Inst::PowI(a, n) => Inst::PowI(f(a), n),
            Inst::PowF(a, c) => Inst::PowF(f(a), c),
            Inst::Pow(a, b) => Inst::Pow(f(a), f(b)),
            Inst::Un(g, a) => Inst::Un(g, f(a)),
            Inst::Atan2(a, b) => Inst::Atan2(f(a), f(b)),
        }
    }
}

/// `a^b` for a variable exponent.
///
/// For `a > 0` this is `exp(b ln a)` (differentiable in both). For `a ≤ 0` the real power is only
/// defined at integer `b`, where it is `a.powi(b)`: the derivative with respect to the exponent
/// does not exist there and is taken as 0. Otherwise `a.powf(b)` (NaN for `a < 0`).
#[inline]
pub(crate) fn pow_value<D: Scalar>(a: &D, b: &D) -> D {
    let e = b.re();
    if a.re() > 0.0 {
        a.powd(*b)
    } else if e.fract() == 0.0 && e.abs() <= i32::MAX as f64 {
        a.powi(e as i32)
    } else {
        powf_value(a, e)
    }
}

/// `x^n` for a non-integer constant `n`.
///
/// num-dual computes `x^(n−3)·x·x·x`, which overflows for tiny bases and is NaN at `x = 0`
/// (even the value). Here:
/// * at `x = 0` with `n` above the highest derivative order tracked: 0 with zero derivatives
///   (their true values);
/// * at `x = 0` otherwise: `exp(n ln x)`, whose value is right (0, or ∞ for n < 0) and whose
///   derivatives are NaN (some tracked derivative is infinite there);
/// * for positive `x` far from 1 in magnitude: `exp(n ln x)` (as `exp((n−1) ln x)·x` for
///   n > 1, so that the derivative survives when x^n underflows), shifted onto `powf`'s value;
/// * otherwise num-dual's formula.
#[inline]
pub(crate) fn powf_value<D: Scalar>(x: &D, n: f64) -> D {
    if D::NDERIV == 0 {
        return x.powf(n);
    }
    let re = x.re();
    if re == 0.0 {
        return if n > D::NDERIV as f64 {
            *x * 0.0
        } else {
            (x.ln() * n).exp()
        };
    }
    if re > 0.0 && !(1e-100..=1e100).contains(&re) {
        let r = if n > 1.0 {
            (x.ln() * (n - 1.0)).exp() * x
        } else {
            (x.ln() * n).exp()
        };
        let shift = re.powf(n) - r.re();
        return if shift == 0.0 || !shift.is_finite() {
            r
        } else {
            r + shift
        };
    }
    x.powf(n)
}

/// `tanh` that stays finite for large |x| (num-dual computes `sinh/cosh`, NaN beyond |x| ≈ 710):
/// `tanh(x) = −m/(m + 2)` with `m = expm1(−2x)` for x ≥ 0, and odd symmetry.
#[inline]
pub(crate) fn tanh_value<D: Scalar>(x: &D) -> D {
    if D::NDERIV == 0 || !x.re().is_finite() {
        return x.tanh();
    }
    if x.re() >= 0.0 {
        let m = (*x * -2.0).exp_m1();
        -m / (m + 2.0)
    } else {
        let m = (*x * 2.0).exp_m1();
        m / (m + 2.0)
    }
}

/// `atan2(y, x)` with derivatives that are regular everywhere except at the origin.
///
/// num-dual differentiates `atan(y/x)`, which is singular at `x = 0` (angle ±π/2). Here the
/// ratio is formed with the larger of |x|, |y| in the denominator (`atan(y/x)` or `-atan(x/y)`;
/// both differ from `atan2` by a constant), and the real part is moved onto `atan2(y, x)` by a
/// constant shift.
#[inline]
pub(crate) fn atan2_value<D: Scalar>(y: &D, x: &D) -> D {
    if D::NDERIV == 0 {
        return y.atan2(*x);
    }
    let (yr, xr) = (y.re(), x.re());
    let angle = yr.atan2(xr);
    if (xr == 0.0 && yr == 0.0) || !(xr.is_finite() && yr.is_finite()) {
        return y.atan2(*x);
    }
    let r = if xr.abs() >= yr.abs() {
        (*y / x).atan()
    } else {
        -(*x / y).atan()
    };
    let shift = angle - r.re();
    if shift == 0.0 { r } else { r + shift }
}

/// `i32` value of an integral constant exponent, if it is one.
fn as_i32(c: f64) -> Option<i32> {
    (c.fract() == 0.0 && c.abs() <= i32::MAX as f64).then_some(c as i32)
}

/// Builds SSA tapes with constant folding, algebraic simplification that is exact in IEEE
/// arithmetic, and common subexpression elimination.
#[derive(Default)]
pub(crate) struct Builder {
    pub(crate) insts: Vec<Inst>,
    memo: HashMap<Inst, u32>,
}

impl Builder {
    fn emit(&mut self, inst: Inst) -> Val {
        if let Some(&r) = self.memo.get(&inst) {
            return Val::Op(Operand::Reg(r));
        }
        let r = u32::try_from(self.insts.len()).expect("expression too large");
        self.insts.push(inst);
        self.memo.insert(inst, r);
        Val::Op(Operand::Reg(r))
    }

    /// The instruction producing `v`, if `v` is an instruction result.
    fn def(&self, v: Val) -> Option<Inst> {
        match v {
            Val::Op(Operand::Reg(r)) => Some(self.insts[r as usize]),
            _ => None,
        }
    }

    fn operand(&mut self, v: Val) -> Operand {
        match v {
            Val::Op(o) => o,
            Val::C(c) => match self.emit(Inst::Const(Cst(c))) {
                Val::Op(o) => o,
                Val::C(_) => unreachable!(),
            },
        }
    }

    pub(crate) fn neg(&mut self, a: Val) -> Val {
        match a {
            Val::C(c) => Val::C(-c),
            // Negation is exact, so it can be pushed into products and quotients without changing
            // any value, signed zeros included (unlike `-(a - b) → b - a`).
            Val::Op(o) => match self.def(a) {
                Some(Inst::Neg(x)) => Val::Op(x),
                Some(Inst::Const(c)) => Val::C(-c.0),
                Some(Inst::MulC(x, c)) => self.emit(Inst::MulC(x, Cst(-c.0))),
                Some(Inst::DivC(x, c)) => self.emit(Inst::DivC(x, Cst(-c.0))),
                Some(Inst::CDiv(c, x)) => self.emit(Inst::CDiv(Cst(-c.0), x)),
                _ => self.emit(Inst::Neg(o)),
            },
        }
    }

    fn neg_arg(&self, v: Val) -> Option<Operand> {
        match self.def(v) {
            Some(Inst::Neg(x)) => Some(x),
            _ => None,
        }
    }

    pub(crate) fn unary(&mut self, f: Func1, a: Val) -> Val {
        match a {
            Val::C(c) => Val::C(f.apply(&c)),
            Val::Op(o) => self.emit(Inst::Un(f, o)),
        }
    }

    pub(crate) fn binary(&mut self, op: BinOp, a: Val, b: Val) -> Val {
        // Constants that reached the tape as `Const` (via atan2/pow) fold like literals.
        let a = match self.def(a) {
            Some(Inst::Const(c)) => Val::C(c.0),
            _ => a,
        };
        let b = match self.def(b) {
            Some(Inst::Const(c)) => Val::C(c.0),
            _ => b,
        };
        if let (Val::C(x), Val::C(y)) = (a, b) {
            return Val::C(fold(op, x, y));
        }
        match op {
            BinOp::Add => match (a, b) {
                (Val::C(c), Val::Op(x)) | (Val::Op(x), Val::C(c)) => {
                    // x + (−0) is x for every x; x + (+0) is not for x = −0.
                    if c == 0.0 && c.is_sign_negative() {
                        Val::Op(x)
                    } else {
                        self.emit(Inst::AddC(x, Cst(c)))
                    }
                }
                (Val::Op(x), Val::Op(y)) => {
                    if let Some(ny) = self.neg_arg(b) {
                        self.emit(Inst::Sub(x, ny))
                    } else if let Some(nx) = self.neg_arg(a) {
                        self.emit(Inst::Sub(y, nx))
                    } else {
                        self.emit(Inst::Add(x, y))
                    }
                }
                _ => unreachable!(),
            },
            BinOp::Sub => match (a, b) {
                (Val::Op(x), Val::C(c)) => {
                    if c == 0.0 && c.is_sign_positive() {
                        Val::Op(x)
                    } else {
                        self.emit(Inst::AddC(x, Cst(-c)))
                    }
                }
                (Val::C(c), Val::Op(y)) => {
                    if let Some(ny) = self.neg_arg(b) {
                        // c − (−y) = y + c
                        self.emit(Inst::AddC(ny, Cst(c)))
                    } else {
                        self.emit(Inst::CSub(Cst(c), y))
                    }
                }
                (Val::Op(x), Val::Op(y)) => {
                    if let Some(ny) = self.neg_arg(b) {
                        self.emit(Inst::Add(x, ny))
                    } else {
                        self.emit(Inst::Sub(x, y))
                    }
                }
                _ => unreachable!(),
            },
            BinOp::Mul => match (a, b) {
                (Val::C(c), Val::Op(x)) | (Val::Op(x), Val::C(c)) => {
                    if c == 1.0 {
                        Val::Op(x)
                    } else if c == -1.0 {
                        self.neg(Val::Op(x))
                    } else if let Some(nx) = self.neg_arg(Val::Op(x)) {
                        self.emit(Inst::MulC(nx, Cst(-c)))
                    } else {
                        self.emit(Inst::MulC(x, Cst(c)))
                    }
                }
                // Signs move outward: (−a)·b = −(a·b) exactly, so they can cancel higher up.
                (Val::Op(x), Val::Op(y)) => match (self.neg_arg(a), self.neg_arg(b)) {
                    (Some(nx), Some(ny)) => self.emit(Inst::Mul(nx, ny)),
                    (Some(nx), None) => {
                        let p = self.emit(Inst::Mul(nx, y));
                        self.neg(p)
                    }
                    (None, Some(ny)) => {
                        let p = self.emit(Inst::Mul(x, ny));
                        self.neg(p)
                    }
                    (None, None) => self.emit(Inst::Mul(x, y)),
                },
                _ => unreachable!(),
            },
            BinOp::Div => match (a, b) {
                (Val::Op(x), Val::C(c)) => {
                    if c == 1.0 {
                        Val::Op(x)
                    } else {
                        self.emit(Inst::DivC(x, Cst(c)))
                    }
                }
                (Val::C(c), Val::Op(y)) => self.emit(Inst::CDiv(Cst(c), y)),
                (Val::Op(x), Val::Op(y)) => match (self.neg_arg(a), self.neg_arg(b)) {
                    (Some(nx), Some(ny)) => self.emit(Inst::Div(nx, ny)),
                    (Some(nx), None) => {
                        let p = self.emit(Inst::Div(nx, y));
                        self.neg(p)
                    }
                    (None, Some(ny)) => {
                        let p = self.emit(Inst::Div(x, ny));
                        self.neg(p)
                    }
                    (None, None) => self.emit(Inst::Div(x, y)),
                },
                _ => unreachable!(),
            },
            BinOp::Pow => match (a, b) {
                (Val::Op(x), Val::C(c)) => {
                    if c == 0.0 {
                        Val::C(1.0)
                    } else if c == 1.0 {
                        Val::Op(x)
                    } else if c == 2.0 {
                        self.emit(Inst::Mul(x, x))
                    } else if c == 0.5 {
                        self.emit(Inst::Un(Func1::Sqrt, x))
                    } else if c == -1.0 {
                        self.emit(Inst::CDiv(Cst(1.0), x))
                    } else if let Some(n) = as_i32(c) {
                        self.emit(Inst::PowI(x, n))
                    } else {
                        self.emit(Inst::PowF(x, Cst(c)))
                    }
                }
                _ => {
                    let x = self.operand(a);
                    let y = self.operand(b);
                    self.emit(Inst::Pow(x, y))
                }
            },
            BinOp::Atan2 => {
                let x = self.operand(a);
                let y = self.operand(b);
                self.emit(Inst::Atan2(x, y))
            }
        }
    }

    /// Re-emits `inst` (whose operands are already mapped to this builder) through the folding
    /// constructors, with `leaf` mapping inputs (used to bind parameters to constants).
    fn replay(&mut self, inst: Inst, map: &dyn Fn(Operand) -> Val) -> Val {
        match inst {
            Inst::Const(c) => Val::C(c.0),
            Inst::Neg(a) => {
                let a = map(a);
                self.neg(a)
            }
            Inst::Add(a, b) => self.binary(BinOp::Add, map(a), map(b)),
            Inst::Sub(a, b) => self.binary(BinOp::Sub, map(a), map(b)),
            Inst::Mul(a, b) => self.binary(BinOp::Mul, map(a), map(b)),
            Inst::Div(a, b) => self.binary(BinOp::Div, map(a), map(b)),
            Inst::AddC(a, c) => self.binary(BinOp::Add, map(a), Val::C(c.0)),
            Inst::MulC(a, c) => self.binary(BinOp::Mul, map(a), Val::C(c.0)),
            Inst::CSub(c, a) => self.binary(BinOp::Sub, Val::C(c.0), map(a)),
            Inst::DivC(a, c) => self.binary(BinOp::Div, map(a), Val::C(c.0)),
            Inst::CDiv(c, a) => self.binary(BinOp::Div, Val::C(c.0), map(a)),
            Inst::PowI(a, n) => self.binary(BinOp::Pow, map(a), Val::C(n as f64)),
            Inst::PowF(a, c) => self.binary(BinOp::Pow, map(a), Val::C(c.0)),
            Inst::Pow(a, b) => self.binary(BinOp::Pow, map(a), map(b)),
            Inst::Un(f, a) => self.unary(f, map(a)),
            Inst::Atan2(a, b) => self.binary(BinOp::Atan2, map(a), map(b)),
        }
    }

    /// Removes dead instructions and produces the executable form.
    pub(crate) fn finish(self, result: Val, symbols: &Arc<Symbols>) -> Expr {
        let Builder { insts, .. } = self;
        let root = match result {
            Val::Op(Operand::Reg(r)) => Some(r as usize),
            _ => None,
        };
        // Live set: everything reachable from the root (indices only decrease along edges).
        let mut live = vec![false; insts.len()];
        if let Some(r) = root {
            live[r] = true;
            for i in (0..=r).rev() {
                if !live[i] {
                    continue;
                }
                let (ops, k) = insts[i].operands();
                for o in ops.iter().take(k).flatten() {
                    if let Operand::Reg(j) = *o {
                        live[j as usize] = true;
                    }
                }
            }
        }
        let mut new_index = vec![u32::MAX; insts.len()];
        let mut kept = Vec::with_capacity(insts.len());
        for (i, inst) in insts.into_iter().enumerate() {
            if live[i] {
                new_index[i] = kept.len() as u32;
                kept.push(inst.map_operands(|o| match o {
                    Operand::Reg(j) => Operand::Reg(new_index[j as usize]),
                    o => o,
                }));
            }
        }
        let result = match result {
            Val::Op(Operand::Reg(r)) => Val::Op(Operand::Reg(new_index[r as usize])),
            v => v,
        };
        Expr::from_ssa(kept, result, symbols.clone())
    }
}

fn fold(op: BinOp, x: f64, y: f64) -> f64 {
    match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => x / y,
        BinOp::Pow => pow_value(&x, &y),
        BinOp::Atan2 => x.atan2(y),
    }
}

/// One instruction of the executable tape: `regs[dest] = op(...)`.
#[derive(Clone, Copy, Debug)]
struct Step {
    op: Inst,
    dest: u32,
}

/// A compiled expression: a flat instruction tape evaluated generically over the scalar.
///
/// Built by [`parse`](super::parse). Evaluation is iterative, allocation-free for tapes that
/// need at most 16 registers, and shares every repeated subexpression.
#[derive(Clone)]
pub struct Expr {
    /// SSA form (operand `Reg(i)` = result of instruction `i`); used for analysis and display.
    pub(crate) insts: Vec<Inst>,
    pub(crate) result: Val,
    /// Register-allocated copy of `insts`.
    steps: Vec<Step>,
    /// Register holding the result after `steps` ran (when `result` is an instruction).
    result_exec: Val,
    n_regs: usize,
    pub(crate) symbols: Arc<Symbols>,
}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Expr")
            .field("text", &self.to_string())
            .field("instructions", &self.insts.len())
            .field("registers", &self.n_regs)
            .finish()
    }
}

/// Scratch sizes evaluated without heap allocation.
const STACK_REGS: usize = 16;

impl Expr {
    pub(crate) fn from_ssa(insts: Vec<Inst>, result: Val, symbols: Arc<Symbols>) -> Expr {
        // Linear-scan register allocation over the SSA tape: a value's register is released
        // after its last use, so the scratch holds only simultaneously live values.
        let mut last_use = vec![0usize; insts.len()];
        for (i, inst) in insts.iter().enumerate() {
            let (ops, k) = inst.operands();
            for o in ops.iter().take(k).flatten() {
                if let Operand::Reg(j) = *o {
                    last_use[j as usize] = i;
                }
            }
        }
        let result_reg = match result {
            Val::Op(Operand::Reg(r)) => Some(r as usize),
            _ => None,
        };
        if let Some(r) = result_reg {
            last_use[r] = usize::MAX;
        }
        let mut reg_of = vec![0u32; insts.len()];
        let mut free: Vec<u32> = Vec::new();
        let mut n_regs = 0u32;
        let mut steps = Vec::with_capacity(insts.len());
        for (i, inst) in insts.iter().enumerate() {
            let op = inst.map_operands(|o| match o {
                Operand::Reg(j) => Operand::Reg(reg_of[j as usize]),
                o => o,
            });
            let (ops, k) = inst.operands();
            for (n, o) in ops.iter().take(k).enumerate() {
                if let Some(Operand::Reg(j)) = *o {
                    // Release once (an instruction may read the same value twice).
                    let dup = n == 1 && ops[0] == *o;
                    if last_use[j as usize] == i && !dup {
                        free.push(reg_of[j as usize]);
                    }
                }
            }
            let dest = free.pop().unwrap_or_else(|| {
                n_regs += 1;
                n_regs - 1
            });
            reg_of[i] = dest;
            if last_use[i] == 0 && result_reg != Some(i) {
                // Unused (cannot happen after dead-code elimination, but stay safe).
                free.push(dest);
            }
            steps.push(Step { op, dest });
        }
        let result_exec = match result {
            Val::Op(Operand::Reg(r)) => Val::Op(Operand::Reg(reg_of[r as usize])),
            v => v,
        };
        Expr {
            insts,
            result,
            steps,
            result_exec,
            n_regs: n_regs as usize,
            symbols,
        }
    }

    /// A constant expression over the symbol table `symbols`.
    pub fn constant(value: f64, symbols: &Symbols) -> Expr {
        Expr::from_ssa(Vec::new(), Val::C(value), Arc::new(symbols.clone()))
    }

    /// The symbol table the expression was parsed with.
    pub fn symbols(&self) -> &Symbols {
        &self.symbols
    }

    /// Evaluates the expression at `(t, q, q̇)` with parameter values `params` (in
    /// [`Symbols`](super::Symbols) order, already lifted to the scalar `D`).
    ///
    /// # Panics
    /// If `q`, `q_dot` or `params` are shorter than the symbol table the expression was parsed
    /// with.
    #[inline]
    pub fn eval<D: Scalar>(&self, t: D, q: &[D], q_dot: &[D], params: &[D]) -> D {
        assert!(
            q.len() >= self.symbols.num_coordinates()
                && q_dot.len() >= self.symbols.num_coordinates(),
            "Expr::eval: expected {} coordinates and velocities, got {} and {}",
            self.symbols.num_coordinates(),
            q.len(),
            q_dot.len()
        );
        assert!(
            params.len() >= self.symbols.num_parameters(),
            "Expr::eval: expected {} parameters, got {}",
            self.symbols.num_parameters(),
            params.len()
        );
        let inputs = Inputs {
            t: &t,
            q,
            q_dot,
            params,
        };
        // Scratch on the stack, sized to the tape (initializing it costs one write per register).
        if self.n_regs <= 4 {
            let mut regs = [D::zero(); 4];
            self.run(&mut regs, &inputs)
        } else if self.n_regs <= 8 {
            let mut regs = [D::zero(); 8];
            self.run(&mut regs, &inputs)
        } else if self.n_regs <= STACK_REGS {
            let mut regs = [D::zero(); STACK_REGS];
            self.run(&mut regs, &inputs)
        } else {
            let mut regs = vec![D::zero(); self.n_regs];
            self.run(&mut regs, &inputs)
        }
    }

    /// [`eval`](Expr::eval) over `f64`.
    pub fn eval_f64(&self, t: f64, q: &[f64], q_dot: &[f64], params: &[f64]) -> f64 {
        self.eval(t, q, q_dot, params)
    }

    #[inline(always)]
    fn run<D: Scalar>(&self, regs: &mut [D], inputs: &Inputs<'_, D>) -> D {
        for step in &self.steps {
            let v = {
                let regs = &*regs;
                let g = |o: Operand| -> &D { inputs.get(o, regs) };
                match step.op {
                    Inst::Const(c) => D::from(c.0),
                    Inst::Neg(a) => -*g(a),
                    Inst::Add(a, b) => *g(a) + g(b),
                    Inst::Sub(a, b) => *g(a) - g(b),
                    Inst::Mul(a, b) => *g(a) * g(b),
                    Inst::Div(a, b) => *g(a) / g(b),
                    Inst::AddC(a, c) => *g(a) + c.0,
                    Inst::MulC(a, c) => *g(a) * c.0,
                    Inst::CSub(c, a) => -*g(a) + c.0,
                    Inst::DivC(a, c) => *g(a) / c.0,
                    Inst::CDiv(c, a) => D::from(c.0) / g(a),
                    Inst::PowI(a, n) => g(a).powi(n),
                    Inst::PowF(a, c) => powf_value(g(a), c.0),
                    Inst::Pow(a, b) => pow_value(g(a), g(b)),
                    Inst::Un(f, a) => f.apply(g(a)),
                    Inst::Atan2(a, b) => atan2_value(g(a), g(b)),
                }
            };
            regs[step.dest as usize] = v;
        }
        match self.result_exec {
            Val::C(c) => D::from(c),
            Val::Op(o) => *inputs.get(o, regs),
        }
    }

    /// Number of instructions on the tape (after folding and sharing).
    pub fn len(&self) -> usize {
        self.insts.len()
    }

    /// Whether the expression is a constant (no instructions).
    pub fn is_empty(&self) -> bool {
        self.insts.is_empty()
    }

    /// The value if the expression is a constant.
    pub fn as_constant(&self) -> Option<f64> {
        match self.result {
            Val::C(c) => Some(c),
            Val::Op(_) => None,
        }
    }

    /// Scratch registers the evaluation needs.
    pub fn registers(&self) -> usize {
        self.n_regs
    }

    /// Number of coordinates of the symbol table it was parsed with.
    pub fn num_coordinates(&self) -> usize {
        self.symbols.num_coordinates()
    }

    /// Number of parameters of the symbol table it was parsed with.
    pub fn num_parameters(&self) -> usize {
        self.symbols.num_parameters()
    }

    fn inputs_used(&self) -> impl Iterator<Item = Operand> + '_ {
        let root = match self.result {
            Val::Op(o) => Some(o),
            Val::C(_) => None,
        };
        self.insts
            .iter()
            .flat_map(|inst| {
                let (ops, k) = inst.operands();
                ops.into_iter().take(k).flatten()
            })
            .chain(root)
            .filter(|o| !matches!(o, Operand::Reg(_)))
    }

    /// Sorted indices of the coordinates whose `q` or `q̇` appears in the expression.
    pub fn coordinates_used(&self) -> Vec<usize> {
        let mut used = vec![false; self.symbols.num_coordinates()];
        for o in self.inputs_used() {
            if let Operand::Q(i) | Operand::Qd(i) = o {
                used[i as usize] = true;
            }
        }
        (0..self.symbols.num_coordinates())
            .filter(|&i| used[i])
            .collect()
    }

    /// Sorted indices of the parameters that appear in the expression.
    pub fn parameters_used(&self) -> Vec<usize> {
        let mut used = vec![false; self.symbols.num_parameters()];
        for o in self.inputs_used() {
            if let Operand::P(j) = o {
                used[j as usize] = true;
            }
        }
        (0..self.symbols.num_parameters())
            .filter(|&j| used[j])
            .collect()
    }

    /// Whether `t` appears explicitly.
    pub fn uses_time(&self) -> bool {
        self.inputs_used().any(|o| o == Operand::T)
    }

    /// Whether any velocity `q̇` appears.
    pub fn uses_velocities(&self) -> bool {
        self.inputs_used().any(|o| matches!(o, Operand::Qd(_)))
    }

    /// Copies the sub-expression rooted at `root` (a value of this expression) into `b`,
    /// mapping inputs through `leaf`. `memo` maps already-copied instructions of `self` to their
    /// values in `b`, so several roots copied with the same `leaf` share their common parts.
    fn copy_into(
        &self,
        b: &mut Builder,
        root: Val,
        leaf: &dyn Fn(Operand) -> Val,
        memo: &mut HashMap<u32, Val>,
    ) -> Val {
        match root {
            Val::C(c) => Val::C(c),
            Val::Op(Operand::Reg(r)) => {
                if let Some(&v) = memo.get(&r) {
                    return v;
                }
                // Collect the not-yet-copied instructions reachable from `r` (explicit stack).
                let mut seen = std::collections::HashSet::new();
                let mut stack = vec![r];
                let mut order = Vec::new();
                while let Some(i) = stack.pop() {
                    if memo.contains_key(&i) || !seen.insert(i) {
                        continue;
                    }
                    order.push(i);
                    let (ops, k) = self.insts[i as usize].operands();
                    for o in ops.iter().take(k).flatten() {
                        if let Operand::Reg(j) = *o {
                            stack.push(j);
                        }
                    }
                }
                order.sort_unstable();
                for &i in &order {
                    let inst = self.insts[i as usize];
                    let v = {
                        let map = |o: Operand| match o {
                            Operand::Reg(j) => memo[&j],
                            o => leaf(o),
                        };
                        b.replay(inst, &map)
                    };
                    memo.insert(i, v);
                }
                memo[&r]
            }
            Val::Op(o) => leaf(o),
        }
    }

    /// Rebuilds the sub-expression rooted at `root` (an operand of this expression), mapping
    /// inputs through `leaf`, then negating if `negate`.
    fn extract(
        &self,
        root: Val,
        negate: bool,
        leaf: &dyn Fn(Operand) -> Val,
        symbols: &Arc<Symbols>,
    ) -> Expr {
        let mut b = Builder::default();
        let value = self.copy_into(&mut b, root, leaf, &mut HashMap::new());
        let value = if negate { b.neg(value) } else { value };
        b.finish(value, symbols)
    }

    /// The same expression with the parameters replaced by `values` and constants re-folded;
    /// the result has no parameters (evaluate it with `params = &[]`)
    /// (this is what a [`TextSystem`](super::TextSystem) evaluates: `0.5*m*x_dot^2` becomes a single
    /// multiply-by-constant of `x_dot²`).
    ///
    /// # Panics
    /// If `values` is shorter than the number of parameters.
    pub fn bind_parameters(&self, values: &[f64]) -> Expr {
        assert!(
            values.len() >= self.symbols.num_parameters(),
            "bind_parameters: expected {} values",
            self.symbols.num_parameters()
        );
        let leaf = |o: Operand| match o {
            Operand::P(j) => Val::C(values[j as usize]),
            o => Val::Op(o),
        };
        let symbols = Arc::new(Symbols::new(
            self.symbols.coordinates(),
            Vec::<String>::new(),
        ));
        self.extract(self.result, false, &leaf, &symbols)
    }

    /// Splits a top-level sum/difference into its terms, signs folded into the terms:
    /// `a - (b - c) + 2` gives `[a, -b, c, 2]`. The terms add up to the expression. An
    /// expression that is not a sum is its own single term.
    pub fn top_level_terms(&self) -> Vec<Expr> {
        let identity = |o: Operand| Val::Op(o);
        let mut terms = Vec::new();
        // (value, negated), processed left to right.
        let mut stack = vec![(self.result, false)];
        while let Some((v, neg)) = stack.pop() {
            let inst = match v {
                Val::Op(Operand::Reg(r)) => Some(self.insts[r as usize]),
                _ => None,
            };
            let reg = |o: Operand| Val::Op(o);
            match inst {
                Some(Inst::Add(a, b)) => {
                    stack.push((reg(b), neg));
                    stack.push((reg(a), neg));
                }
                Some(Inst::Sub(a, b)) => {
                    stack.push((reg(b), !neg));
                    stack.push((reg(a), neg));
                }
                Some(Inst::Neg(a)) => stack.push((reg(a), !neg)),
                Some(Inst::AddC(a, c)) => {
                    stack.push((Val::C(c.0), neg));
                    stack.push((reg(a), neg));
                }
                Some(Inst::CSub(c, a)) => {
                    stack.push((reg(a), !neg));
                    stack.push((Val::C(c.0), neg));
                }
                _ => terms.push(self.extract(v, neg, &identity, &self.symbols)),
            }
        }
        terms
    }
}

/// A group of additive terms of an expression that depend on the same few coordinates; see
/// [`Expr::local_terms`].
#[derive(Debug, Clone)]
pub struct LocalTerm {
    /// The (global) coordinates the group depends on, ascending.
    pub coordinates: Vec<usize>,
    /// The sum of the group's terms over the *local* coordinates: coordinate `coordinates[i]`
    /// (and its velocity) is coordinate `i` here. Time and parameters are unchanged.
    pub expr: Expr,
}

/// A coordinate-free operation applied to an additive term after distribution.
#[derive(Clone, Copy, Debug)]
enum Wrap {
    Neg,
    /// `c · x` with `c` a value of the original expression.
    MulLeft(Val),
    /// `x · c`.
    MulRight(Val),
    /// `x / c`.
    Div(Val),
}

impl Expr {
    /// Splits the expression into groups of additive terms that each touch few coordinates.
    ///
    /// The expression is read as a sum: `+`, `-` and unary minus split it, and products and
    /// quotients by *coordinate-free* factors (constants, parameters, `t`) are distributed over
    /// sums — `c*(a + b)` → `c*a + c*b`, likewise `(a + b)*c`, `(a + b)/c`. Nothing else is
    /// expanded (`(q0 + q1)^2` is one term). Terms are grouped by the set of coordinates (`q` or
    /// `q̇`) they depend on: a term joins a group whose set contains its own (largest sets form
    /// groups first), so a chain `Σ q̇ᵢ² + Σ (qᵢ₊₁ − qᵢ)²` gives one group per spring plus the
    /// kinetic terms folded into them. Coordinate-free terms join the first group. The groups
    /// add up to the expression (up to rounding: distribution re-associates).
    ///
    /// Returns `None` when some term depends on more than `max_coordinates` coordinates, when
    /// every term is coordinate-free, or when the expression splits into unreasonably many terms.
    pub fn local_terms(&self, max_coordinates: usize) -> Option<Vec<LocalTerm>> {
        let n_insts = self.insts.len();
        // Which instructions depend on a coordinate or velocity (SSA order: inputs come first).
        let mut coordinate_dependent = vec![false; n_insts];
        for i in 0..n_insts {
            let (ops, k) = self.insts[i].operands();
            coordinate_dependent[i] = ops.iter().take(k).flatten().any(|o| match *o {
                Operand::Q(_) | Operand::Qd(_) => true,
                Operand::Reg(j) => coordinate_dependent[j as usize],
                Operand::T | Operand::P(_) => false,
            });
        }
        let depends = |o: Operand| match o {
            Operand::Q(_) | Operand::Qd(_) => true,
            Operand::Reg(j) => coordinate_dependent[j as usize],
            Operand::T | Operand::P(_) => false,
        };

        // Distribute coordinate-free factors over sums. Wrappers form a tree (arena) so that
        // each term keeps a pointer to its innermost wrapper; parents are outer wrappers.
        let max_terms = 4 * n_insts + 16;
        let mut wraps: Vec<(Wrap, Option<usize>)> = Vec::new();
        let mut terms: Vec<(Val, Option<usize>)> = Vec::new();
        let mut stack = vec![(self.result, None::<usize>)];
        while let Some((v, w)) = stack.pop() {
            if terms.len() > max_terms {
                return None;
            }
            let Val::Op(Operand::Reg(r)) = v else {
                terms.push((v, w));
                continue;
            };
            let reg = |o: Operand| Val::Op(o);
            let mut wrap = |stack: &mut Vec<_>, x: Operand, kind: Wrap| {
                wraps.push((kind, w));
                stack.push((reg(x), Some(wraps.len() - 1)));
            };
            match self.insts[r as usize] {
                Inst::Add(a, b) => {
                    stack.push((reg(b), w));
                    stack.push((reg(a), w));
                }
                Inst::Sub(a, b) => {
                    wrap(&mut stack, b, Wrap::Neg);
                    stack.push((reg(a), w));
                }
                Inst::Neg(a) => wrap(&mut stack, a, Wrap::Neg),
                Inst::AddC(a, c) => {
                    stack.push((Val::C(c.0), w));
                    stack.push((reg(a), w));
                }
                Inst::CSub(c, a) => {
                    wrap(&mut stack, a, Wrap::Neg);
                    stack.push((Val::C(c.0), w));
                }
                Inst::MulC(a, c) => wrap(&mut stack, a, Wrap::MulRight(Val::C(c.0))),
                Inst::DivC(a, c) => wrap(&mut stack, a, Wrap::Div(Val::C(c.0))),
                Inst::Mul(a, b) if depends(a) && !depends(b) => {
                    wrap(&mut stack, a, Wrap::MulRight(reg(b)))
                }
                Inst::Mul(a, b) if !depends(a) && depends(b) => {
                    wrap(&mut stack, b, Wrap::MulLeft(reg(a)))
                }
                Inst::Div(a, b) if depends(a) && !depends(b) => {
                    wrap(&mut stack, a, Wrap::Div(reg(b)))
                }
                _ => terms.push((v, w)),
            }
        }

        // The coordinates each term touches (bounded search; `stamp` marks visited
        // instructions per term).
        let mut stamp = vec![u32::MAX; n_insts];
        let mut sets: Vec<Vec<usize>> = Vec::with_capacity(terms.len());
        let mut walk = Vec::new();
        for (k, &(v, _)) in terms.iter().enumerate() {
            let mut set: Vec<usize> = Vec::new();
            let add = |o: Operand, set: &mut Vec<usize>| {
                if let Operand::Q(i) | Operand::Qd(i) = o
                    && !set.contains(&(i as usize))
                {
                    set.push(i as usize);
                }
            };
            if let Val::Op(o) = v {
                walk.clear();
                walk.push(o);
                while let Some(o) = walk.pop() {
                    let Operand::Reg(j) = o else {
                        add(o, &mut set);
                        continue;
                    };
                    let j = j as usize;
                    if stamp[j] == k as u32 || !coordinate_dependent[j] {
                        continue;
                    }
                    stamp[j] = k as u32;
                    let (ops, m) = self.insts[j].operands();
                    walk.extend(ops.into_iter().take(m).flatten());
                }
                if set.len() > max_coordinates {
                    return None;
                }
            }
            set.sort_unstable();
            sets.push(set);
        }

        // Group: largest sets first, each term joins a group whose set contains its own.
        let mut order: Vec<usize> = (0..terms.len()).filter(|&k| !sets[k].is_empty()).collect();
        if order.is_empty() {
            return None;
        }
        order.sort_by(|&a, &b| {
            sets[b]
                .len()
                .cmp(&sets[a].len())
                .then_with(|| sets[a].cmp(&sets[b]))
        });
        let mut group_sets: Vec<Vec<usize>> = Vec::new();
        let mut members: Vec<Vec<usize>> = Vec::new();
        let mut groups_with: HashMap<usize, Vec<usize>> = HashMap::new();
        for &k in &order {
            let set = &sets[k];
            let found = groups_with.get(&set[0]).and_then(|candidates| {
                candidates
                    .iter()
                    .copied()
                    .find(|&g| set.iter().all(|c| group_sets[g].binary_search(c).is_ok()))
            });
            match found {
                Some(g) => members[g].push(k),
                None => {
                    let g = group_sets.len();
                    for &c in set {
                        groups_with.entry(c).or_default().push(g);
                    }
                    group_sets.push(set.clone());
                    members.push(vec![k]);
                }
            }
        }
        // Coordinate-free terms go to the first group.
        members[0].extend((0..terms.len()).filter(|&k| sets[k].is_empty()));

        // Build each group in coordinate order; terms within a group in source order.
        let mut by_position: Vec<usize> = (0..group_sets.len()).collect();
        by_position.sort_by(|&a, &b| group_sets[a].cmp(&group_sets[b]));
        let parameters = self.symbols.parameters();
        let coordinates = self.symbols.coordinates();
        let mut local = vec![u32::MAX; coordinates.len()];
        let mut out = Vec::with_capacity(group_sets.len());
        for g in by_position {
            let set = &group_sets[g];
            for (l, &c) in set.iter().enumerate() {
                local[c] = l as u32;
            }
            let leaf = |o: Operand| {
                Val::Op(match o {
                    Operand::Q(i) => Operand::Q(local[i as usize]),
                    Operand::Qd(i) => Operand::Qd(local[i as usize]),
                    o => o,
                })
            };
            let mut b = Builder::default();
            let mut memo = HashMap::new();
            let mut list = members[g].clone();
            list.sort_unstable();
            let mut sum: Option<Val> = None;
            for k in list {
                let (root, mut w) = terms[k];
                let mut v = self.copy_into(&mut b, root, &leaf, &mut memo);
                while let Some(i) = w {
                    let (kind, outer) = wraps[i];
                    v = match kind {
                        Wrap::Neg => b.neg(v),
                        Wrap::MulLeft(c) => {
                            let c = self.copy_into(&mut b, c, &leaf, &mut memo);
                            b.binary(BinOp::Mul, c, v)
                        }
                        Wrap::MulRight(c) => {
                            let c = self.copy_into(&mut b, c, &leaf, &mut memo);
                            b.binary(BinOp::Mul, v, c)
                        }
                        Wrap::Div(c) => {
                            let c = self.copy_into(&mut b, c, &leaf, &mut memo);
                            b.binary(BinOp::Div, v, c)
                        }
                    };
                    w = outer;
                }
                sum = Some(match sum {
                    None => v,
                    Some(s) => b.binary(BinOp::Add, s, v),
                });
            }
            let symbols = Arc::new(Symbols::new(
                set.iter().map(|&c| coordinates[c].as_str()),
                parameters.iter().map(String::as_str),
            ));
            out.push(LocalTerm {
                coordinates: set.clone(),
                expr: b.finish(sum.unwrap_or(Val::C(0.0)), &symbols),
            });
        }
        Some(out)
    }
}

struct Inputs<'a, D> {
    t: &'a D,
    q: &'a [D],
    q_dot: &'a [D],
    params: &'a [D],
}

impl<'a, D> Inputs<'a, D> {
    #[inline(always)]
    fn get<'b>(&'b self, o: Operand, regs: &'b [D]) -> &'b D
    where
        'a: 'b,
    {
        match o {
            Operand::Reg(r) => &regs[r as usize],
            Operand::Q(i) => &self.q[i as usize],
            Operand::Qd(i) => &self.q_dot[i as usize],
            Operand::T => self.t,
            Operand::P(j) => &self.params[j as usize],
        }
    }
}
