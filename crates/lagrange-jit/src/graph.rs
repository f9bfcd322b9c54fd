//! A straight-line expression graph (SSA, hash-consed) with constant folding and algebraic
//! simplification: what tracing records, what symbolic differentiation extends, and what the
//! code generator compiles.
//!
//! Nodes are created in topological order (operands always have smaller ids), so a forward
//! sweep is a loop over ids and a reverse sweep a loop backwards.

// FxHash: interning hashes every traced node; SipHash's DoS resistance buys nothing here and
// cost a third of the tracing time of a 10⁶-site lattice.
use rustc_hash::FxHashMap as HashMap;

/// Index of a node in a [`Graph`].
pub type Id = u32;

/// Elementary functions of one argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fun {
    Sqrt,
    Cbrt,
    Exp,
    Exp2,
    ExpM1,
    Ln,
    Log2,
    Log10,
    Ln1p,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Asinh,
    Acosh,
    Atanh,
    Abs,
    /// `signum` with `signum(±0) = 0` (the derivative of `abs` away from its kink; at the kink
    /// 0 is the midpoint of the one-sided derivatives).
    Sign,
}

impl Fun {
    /// Every function.
    #[cfg_attr(not(test), allow(dead_code))] // used by the unit tests
    pub const ALL: [Fun; 23] = [
        Fun::Sqrt,
        Fun::Cbrt,
        Fun::Exp,
        Fun::Exp2,
        Fun::ExpM1,
        Fun::Ln,
        Fun::Log2,
        Fun::Log10,
        Fun::Ln1p,
        Fun::Sin,
        Fun::Cos,
        Fun::Tan,
        Fun::Asin,
        Fun::Acos,
        Fun::Atan,
        Fun::Sinh,
        Fun::Cosh,
        Fun::Tanh,
        Fun::Asinh,
        Fun::Acosh,
        Fun::Atanh,
        Fun::Abs,
        Fun::Sign,
    ];

    /// The function on `f64`.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Fun::Sqrt => x.sqrt(),
            Fun::Cbrt => x.cbrt(),
            Fun::Exp => x.exp(),
            Fun::Exp2 => x.exp2(),
            Fun::ExpM1 => x.exp_m1(),
            Fun::Ln => x.ln(),
            Fun::Log2 => x.log2(),
            Fun::Log10 => x.log10(),
            Fun::Ln1p => x.ln_1p(),
            Fun::Sin => x.sin(),
            Fun::Cos => x.cos(),
            Fun::Tan => x.tan(),
            Fun::Asin => x.asin(),
            Fun::Acos => x.acos(),
            Fun::Atan => x.atan(),
            Fun::Sinh => x.sinh(),
            Fun::Cosh => x.cosh(),
            Fun::Tanh => x.tanh(),
            Fun::Asinh => x.asinh(),
            Fun::Acosh => x.acosh(),
            Fun::Atanh => x.atanh(),
            Fun::Abs => x.abs(),
            Fun::Sign => sign(x),
        }
    }
}

/// `signum` that is 0 at ±0 (NaN stays NaN).
pub fn sign(x: f64) -> f64 {
    if x == 0.0 { 0.0 } else { x.signum() }
}

/// One node: an operation on earlier nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// A constant (its bits, so that the op can be hashed).
    Const(u64),
    /// Input slot `i` of the compiled function.
    Input(u32),
    Add(Id, Id),
    Sub(Id, Id),
    Mul(Id, Id),
    Div(Id, Id),
    Neg(Id),
    /// `x^n`, integer `n` (only |n| > 3 survives simplification).
    Powi(Id, i32),
    /// `x^c`, constant non-integer `c` (its bits).
    Powf(Id, u64),
    /// `a^b` with a variable exponent.
    Pow(Id, Id),
    Fun(Fun, Id),
    /// `atan2(y, x)`.
    Atan2(Id, Id),
}

impl Op {
    /// The operands of this op.
    pub fn operands(&self) -> impl Iterator<Item = Id> {
        let (a, b) = match *self {
            Op::Const(_) | Op::Input(_) => (None, None),
            Op::Neg(a) | Op::Powi(a, _) | Op::Powf(a, _) | Op::Fun(_, a) => (Some(a), None),
            Op::Add(a, b)
            | Op::Sub(a, b)
            | Op::Mul(a, b)
            | Op::Div(a, b)
            | Op::Pow(a, b)
            | Op::Atan2(a, b) => (Some(a), Some(b)),
        };
        a.into_iter().chain(b)
    }
}

/// The graph: nodes in creation (= topological) order, deduplicated.
#[derive(Debug, Clone)]
pub struct Graph {
    ops: Vec<Op>,
    index: HashMap<Op, Id>,
    num_inputs: u32,
}

impl Graph {
    /// A graph with `num_inputs` input nodes, ids `0..num_inputs`.
    pub fn new(num_inputs: usize) -> Self {
        let mut g = Self {
            ops: Vec::new(),
            index: HashMap::default(),
            num_inputs: num_inputs as u32,
        };
        for i in 0..num_inputs {
            g.intern(Op::Input(i as u32));
        }
        g
    }

    /// Number of input slots.
    pub fn num_inputs(&self) -> usize {
        self.num_inputs as usize
    }

    /// The node of input `i`.
    pub fn input(&self, i: usize) -> Id {
        assert!(i < self.num_inputs as usize, "input {i} out of range");
        i as Id
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// The op of node `id`.
    pub fn op(&self, id: Id) -> Op {
        self.ops[id as usize]
    }

    /// The value of a constant node.
    pub fn as_const(&self, id: Id) -> Option<f64> {
        match self.ops[id as usize] {
            Op::Const(bits) => Some(f64::from_bits(bits)),
            _ => None,
        }
    }

    fn intern(&mut self, op: Op) -> Id {
        if let Some(&id) = self.index.get(&op) {
            return id;
        }
        let id = Id::try_from(self.ops.len()).expect("graph larger than 2^32 nodes");
        self.ops.push(op);
        self.index.insert(op, id);
        id
    }

    /// A constant node. NaN constants are kept (they make the result NaN, as they should).
    pub fn constant(&mut self, c: f64) -> Id {
        // one zero: -0.0 and 0.0 differ only where a division by them would be infinite
        let c = if c == 0.0 { 0.0 } else { c };
        self.intern(Op::Const(c.to_bits()))
    }

    /// `a + b`.
    pub fn add(&mut self, a: Id, b: Id) -> Id {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => self.constant(x + y),
            (Some(0.0), _) => b,
            (_, Some(0.0)) => a,
            _ => {
                if let Op::Neg(nb) = self.op(b) {
                    return self.sub(a, nb);
                }
                if let Op::Neg(na) = self.op(a) {
                    return self.sub(b, na);
                }
                if let Some(sum) = self.combine(a, b, 1.0) {
                    return sum;
                }
                let (a, b) = (a.min(b), a.max(b));
                self.intern(Op::Add(a, b))
            }
        }
    }

    /// `a` as `c · y`: `(c, y)` for a constant multiple, `(−1, y)` for `−y`, else `(1, a)`.
    fn as_multiple(&self, a: Id) -> (f64, Id) {
        match self.op(a) {
            Op::Mul(p, r) => match (self.as_const(p), self.as_const(r)) {
                (Some(c), _) => (c, r),
                (_, Some(c)) => (c, p),
                _ => (1.0, a),
            },
            Op::Neg(y) => (-1.0, y),
            _ => (1.0, a),
        }
    }

    /// `a + sign · b` as one multiple `(c_a ± c_b) · y` where both are multiples of the same
    /// `y` (or of `x − y` and `y − x`): like terms, which a reverse sweep makes often (the
    /// two partials of `d · d`, the two ends of a spring).
    fn combine(&mut self, a: Id, b: Id, sign: f64) -> Option<Id> {
        let (ca, ya) = self.as_multiple(a);
        let (cb, yb) = self.as_multiple(b);
        if ya == yb {
            return Some(self.scale(ca + sign * cb, ya));
        }
        match (self.op(ya), self.op(yb)) {
            (Op::Sub(p, r), Op::Sub(s, u)) if p == u && r == s => {
                Some(self.scale(ca - sign * cb, ya))
            }
            _ => None,
        }
    }

    /// `a − b`.
    pub fn sub(&mut self, a: Id, b: Id) -> Id {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => self.constant(x - y),
            (Some(0.0), _) => self.neg(b),
            (_, Some(0.0)) => a,
            _ if a == b => self.constant(0.0),
            _ => {
                if let Op::Neg(nb) = self.op(b) {
                    return self.add(a, nb);
                }
                if let Some(difference) = self.combine(a, b, -1.0) {
                    return difference;
                }
                self.intern(Op::Sub(a, b))
            }
        }
    }

    /// `a · b`.
    pub fn mul(&mut self, a: Id, b: Id) -> Id {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => self.constant(x * y),
            (Some(x), _) => self.scale(x, b),
            (_, Some(y)) => self.scale(y, a),
            _ => {
                // pull signs out so that −a·b and a·(−b) are one node
                match (self.op(a), self.op(b)) {
                    (Op::Neg(na), Op::Neg(nb)) => self.mul(na, nb),
                    (Op::Neg(na), _) => {
                        let m = self.mul(na, b);
                        self.neg(m)
                    }
                    (_, Op::Neg(nb)) => {
                        let m = self.mul(a, nb);
                        self.neg(m)
                    }
                    _ => {
                        let (a, b) = (a.min(b), a.max(b));
                        self.intern(Op::Mul(a, b))
                    }
                }
            }
        }
    }

    /// `c · x` for a constant `c`.
    fn scale(&mut self, c: f64, x: Id) -> Id {
        if c == 0.0 {
            // symbolic zero: exact unless x is infinite or NaN
            return self.constant(0.0);
        }
        if c == 1.0 {
            return x;
        }
        if c == -1.0 {
            return self.neg(x);
        }
        // negative factors stay in the constant (c·x is one multiplication, −(|c|·x) two)
        match self.op(x) {
            // c·(d·y) → (c d)·y
            Op::Mul(p, r) if self.as_const(p).or(self.as_const(r)).is_some() => {
                let (d, y) = match self.as_const(p) {
                    Some(d) => (d, r),
                    None => (self.as_const(r).unwrap(), p),
                };
                self.scale(c * d, y)
            }
            Op::Neg(y) => self.scale(-c, y),
            _ => {
                let k = self.constant(c);
                self.intern(Op::Mul(k.min(x), k.max(x)))
            }
        }
    }

    /// `a / b`.
    pub fn div(&mut self, a: Id, b: Id) -> Id {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => self.constant(x / y),
            (Some(0.0), _) => self.constant(0.0),
            // a multiplication is several times cheaper than a division
            (_, Some(y)) => self.scale(1.0 / y, a),
            _ if a == b => self.constant(1.0),
            // One division per distinct denominator: a/b = a·(1/b), with 1/b shared by every
            // quotient over b (derivatives of 1/r, √r, ... divide by the same r many times).
            // A division costs several multiplications; the product differs from the quotient
            // by at most an ulp or so.
            (Some(1.0), _) => match self.op(b) {
                Op::Neg(nb) => {
                    let r = self.recip(nb);
                    self.neg(r)
                }
                _ => self.intern(Op::Div(a, b)),
            },
            _ => {
                let r = self.recip(b);
                self.mul(a, r)
            }
        }
    }

    /// `−a`.
    pub fn neg(&mut self, a: Id) -> Id {
        match self.op(a) {
            Op::Const(bits) => self.constant(-f64::from_bits(bits)),
            Op::Neg(x) => x,
            Op::Mul(p, r) if self.as_const(p).or(self.as_const(r)).is_some() => {
                let (d, y) = match self.as_const(p) {
                    Some(d) => (d, r),
                    None => (self.as_const(r).unwrap(), p),
                };
                self.scale(-d, y)
            }
            Op::Sub(x, y) => self.intern(Op::Sub(y, x)),
            _ => self.intern(Op::Neg(a)),
        }
    }

    /// `1 / a`.
    pub fn recip(&mut self, a: Id) -> Id {
        let one = self.constant(1.0);
        self.div(one, a)
    }

    /// `a^n`, integer `n`; small powers become multiplications.
    pub fn powi(&mut self, a: Id, n: i32) -> Id {
        if let Some(x) = self.as_const(a) {
            return self.constant(x.powi(n));
        }
        match n {
            0 => self.constant(1.0),
            1 => a,
            2 => self.mul(a, a),
            3 => {
                let s = self.mul(a, a);
                self.mul(s, a)
            }
            4 => {
                let s = self.mul(a, a);
                self.mul(s, s)
            }
            n if n < 0 && n > i32::MIN => {
                let p = self.powi(a, -n);
                self.recip(p)
            }
            n => self.intern(Op::Powi(a, n)),
        }
    }

    /// `a^c`, constant `c`; integer and half-integer powers become multiplications and `sqrt`.
    pub fn powf(&mut self, a: Id, c: f64) -> Id {
        if let Some(x) = self.as_const(a) {
            return self.constant(x.powf(c));
        }
        if c.fract() == 0.0 && c.abs() <= 64.0 {
            return self.powi(a, c as i32);
        }
        if c == 0.5 {
            return self.fun(Fun::Sqrt, a);
        }
        if c == -0.5 {
            let s = self.fun(Fun::Sqrt, a);
            return self.recip(s);
        }
        if (2.0 * c).fract() == 0.0 && c.abs() <= 8.5 {
            // x^(k + 1/2) = x^k · √x (k ≥ 0), 1 / x^|c| for c < 0
            if c < 0.0 {
                let p = self.powf(a, -c);
                return self.recip(p);
            }
            let s = self.fun(Fun::Sqrt, a);
            let p = self.powi(a, c.floor() as i32);
            return self.mul(p, s);
        }
        self.intern(Op::Powf(a, c.to_bits()))
    }

    /// `a^b`, variable exponent.
    pub fn pow(&mut self, a: Id, b: Id) -> Id {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => self.constant(x.powf(y)),
            (_, Some(y)) => self.powf(a, y),
            _ => self.intern(Op::Pow(a, b)),
        }
    }

    /// `f(a)`.
    pub fn fun(&mut self, f: Fun, a: Id) -> Id {
        if let Some(x) = self.as_const(a) {
            return self.constant(f.apply(x));
        }
        match (f, self.op(a)) {
            // even and odd functions: f(−x) = ±f(x)
            (Fun::Cos | Fun::Cosh | Fun::Abs, Op::Neg(x)) => self.fun(f, x),
            (
                Fun::Sin
                | Fun::Tan
                | Fun::Asin
                | Fun::Atan
                | Fun::Sinh
                | Fun::Tanh
                | Fun::Asinh
                | Fun::Atanh
                | Fun::Sign,
                Op::Neg(x),
            ) => {
                let y = self.fun(f, x);
                self.neg(y)
            }
            _ => self.intern(Op::Fun(f, a)),
        }
    }

    /// `atan2(y, x)`.
    pub fn atan2(&mut self, y: Id, x: Id) -> Id {
        match (self.as_const(y), self.as_const(x)) {
            (Some(a), Some(b)) => self.constant(a.atan2(b)),
            _ => self.intern(Op::Atan2(y, x)),
        }
    }

    /// Adds `op` (its operands already nodes of this graph) through the simplifying
    /// constructors: the same node [`Graph::add`], [`Graph::mul`], ... would make. Used to
    /// copy a graph into another with some nodes replaced.
    pub fn apply(&mut self, op: Op) -> Id {
        match op {
            Op::Const(bits) => self.constant(f64::from_bits(bits)),
            Op::Input(i) => self.input(i as usize),
            Op::Add(a, b) => self.add(a, b),
            Op::Sub(a, b) => self.sub(a, b),
            Op::Mul(a, b) => self.mul(a, b),
            Op::Div(a, b) => self.div(a, b),
            Op::Neg(a) => self.neg(a),
            Op::Powi(a, n) => self.powi(a, n),
            Op::Powf(a, c) => self.powf(a, f64::from_bits(c)),
            Op::Pow(a, b) => self.pow(a, b),
            Op::Fun(f, a) => self.fun(f, a),
            Op::Atan2(y, x) => self.atan2(y, x),
        }
    }

    /// Which nodes the `outputs` depend on.
    pub fn live(&self, outputs: &[Id]) -> Vec<bool> {
        let mut live = vec![false; self.ops.len()];
        for &o in outputs {
            live[o as usize] = true;
        }
        for id in (0..self.ops.len()).rev() {
            if live[id] {
                for a in self.ops[id].operands() {
                    live[a as usize] = true;
                }
            }
        }
        live
    }

    /// Which nodes depend on an input numbered below `inputs` (for the equations of motion, the
    /// state `t, q, q̇`: what does not can be evaluated once per parameter set, or at compile
    /// time).
    pub fn depends_on_inputs_below(&self, inputs: usize) -> Vec<bool> {
        let mut depends = vec![false; self.ops.len()];
        for id in 0..self.ops.len() {
            depends[id] = match self.ops[id] {
                Op::Input(i) => (i as usize) < inputs,
                op => op.operands().any(|a| depends[a as usize]),
            };
        }
        depends
    }

    /// Number of nodes the `outputs` need, not counting inputs and constants (the size of the
    /// compiled code).
    pub fn work(&self, outputs: &[Id]) -> usize {
        self.live(outputs)
            .iter()
            .zip(&self.ops)
            .filter(|(l, op)| **l && !matches!(op, Op::Const(_) | Op::Input(_)))
            .count()
    }

    /// Evaluates the `outputs` at `inputs` by interpretation (the reference for the compiled
    /// code, and the fallback where no code generator is available).
    pub fn eval(&self, inputs: &[f64], outputs: &[Id]) -> Vec<f64> {
        assert_eq!(
            inputs.len(),
            self.num_inputs as usize,
            "wrong number of inputs"
        );
        let live = self.live(outputs);
        let mut v = vec![0.0; self.ops.len()];
        for (id, op) in self.ops.iter().enumerate() {
            if !live[id] {
                continue;
            }
            let x = |i: Id| v[i as usize];
            v[id] = match *op {
                Op::Const(bits) => f64::from_bits(bits),
                Op::Input(i) => inputs[i as usize],
                Op::Add(a, b) => x(a) + x(b),
                Op::Sub(a, b) => x(a) - x(b),
                Op::Mul(a, b) => x(a) * x(b),
                Op::Div(a, b) => x(a) / x(b),
                Op::Neg(a) => -x(a),
                Op::Powi(a, n) => x(a).powi(n),
                Op::Powf(a, c) => x(a).powf(f64::from_bits(c)),
                Op::Pow(a, b) => x(a).powf(x(b)),
                Op::Fun(f, a) => f.apply(x(a)),
                Op::Atan2(a, b) => x(a).atan2(x(b)),
            };
        }
        outputs.iter().map(|&o| v[o as usize]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_and_deduplicates() {
        let mut g = Graph::new(2);
        let (x, y) = (g.input(0), g.input(1));
        let a = g.add(x, y);
        let b = g.add(y, x);
        assert_eq!(a, b, "commutative ops are one node");
        let two = g.constant(2.0);
        let three = g.constant(3.0);
        let six = g.mul(two, three);
        assert_eq!(g.as_const(six), Some(6.0));
        let zero = g.constant(0.0);
        assert_eq!(g.mul(zero, x), zero);
        let one = g.constant(1.0);
        assert_eq!(g.mul(one, x), x);
        let nx = g.neg(x);
        assert_eq!(g.neg(nx), x);
        assert_eq!(g.sub(x, x), zero);
        // −x · −y = x · y
        let ny = g.neg(y);
        let (p, q) = (g.mul(nx, ny), g.mul(x, y));
        assert_eq!(p, q);
    }

    #[test]
    fn like_terms_combine() {
        let mut g = Graph::new(2);
        let (x, y) = (g.input(0), g.input(1));
        let two = g.constant(2.0);
        let twice = g.mul(two, x);
        assert_eq!(g.add(x, x), twice, "x + x = 2x");
        let three = g.constant(3.0);
        let (a, b) = (g.mul(three, x), g.mul(two, x));
        let five = g.constant(5.0);
        let five_x = g.mul(five, x);
        assert_eq!(g.add(a, b), five_x, "3x + 2x = 5x");
        assert_eq!(g.sub(a, b), x, "3x − 2x = x");
        // 3(x − y) + 2(y − x) = (x − y)
        let (d, e) = (g.sub(x, y), g.sub(y, x));
        let (p, r) = (g.mul(three, d), g.mul(two, e));
        assert_eq!(g.add(p, r), d);
        // a − (−a) = 2a
        let n = g.neg(a);
        let six = g.constant(6.0);
        let six_x = g.mul(six, x);
        assert_eq!(g.sub(a, n), six_x);
        let sum = g.add(p, r);
        for (vx, vy) in [(0.7, -1.3), (2.5, 4.0)] {
            let got = g.eval(&[vx, vy], &[sum]);
            assert!((got[0] - (3.0 * (vx - vy) + 2.0 * (vy - vx))).abs() < 1e-15);
        }
    }

    #[test]
    fn powers_become_products_and_roots() {
        let mut g = Graph::new(1);
        let x = g.input(0);
        let p = g.powf(x, 2.5);
        let q = g.powi(x, -3);
        let r = g.powf(x, 0.3);
        for v in [0.3, 1.7, 4.0] {
            let got = g.eval(&[v], &[p, q, r]);
            assert!((got[0] - v.powf(2.5)).abs() <= 1e-15 * v.powf(2.5));
            assert!((got[1] - v.powi(-3)).abs() <= 1e-15 * v.powi(-3));
            assert_eq!(got[2], v.powf(0.3));
        }
        assert!(!matches!(g.op(p), Op::Powf(..)), "x^2.5 is x²·√x");
    }
}
