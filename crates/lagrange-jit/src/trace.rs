//! Tracing: a Lagrangian written once, generic over the scalar, is run ONCE on [`Traced`], a
//! scalar whose arithmetic appends nodes to an expression [`Graph`] instead of computing numbers.
//!
//! [`trace`] installs a graph in a thread-local recorder, runs a closure that builds [`Traced`]
//! inputs ([`Traced::from_id`] of the graph's input nodes) and calls the Lagrangian on them, and
//! returns the graph with the recorded operations.
//!
//! A trace records operations, not values, so it is only faithful for code whose sequence of
//! operations does not depend on the values of the inputs. Everything that asks for a value (a
//! comparison, `re()`, `is_positive`, a remainder, …) cannot be answered: it is recorded as a
//! problem, answered with something harmless so that the closure runs to its end, and [`trace`]
//! then fails with [`TraceError::ValueDependent`] listing every such use. Questions about
//! *constant* nodes (whose value does not depend on the inputs) are answered exactly.
//!
//! [`Traced`] reports `NDERIV = 0`, like `f64`: generic code that special-cases derivatives
//! (e.g. the text systems' `powf`/`atan2` helpers) then takes its plain `f64` path, which is the
//! one the graph should contain; the graph is differentiated symbolically afterwards.

use crate::graph::{Fun, Graph, Id};
use lagrange::num_dual::{DualNum, DualStruct, Mappable};
use num_traits::{FloatConst, FromPrimitive, Inv, Num, One, Signed, Zero};
use std::cell::RefCell;
use std::cmp::Ordering;
use std::fmt;
use std::iter::{Product, Sum};
use std::ops::{
    Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign, Sub, SubAssign,
};

/// What a trace collects: the graph and the value-dependent uses found so far.
#[derive(Debug)]
struct TraceState {
    graph: Graph,
    problems: Vec<String>,
}

thread_local! {
    static STATE: RefCell<Option<TraceState>> = const { RefCell::new(None) };
}

/// Why a function could not be traced into a graph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    /// The function used the value of a traced number (a branch, `re()`, a remainder, …) or a
    /// function tracing does not support; the graph would be wrong for other inputs.
    #[error(
        "the Lagrangian {}: it cannot be compiled; use the automatic-differentiation evaluator \
         (`EquationsOfMotion`) instead",
        .reasons.join(", and ")
    )]
    ValueDependent {
        /// Each distinct problem, in the order first met (e.g. "branches on a value (comparison
        /// `<` on a traced number)").
        reasons: Vec<String>,
    },
    /// [`trace`] was called while another trace was active on this thread.
    #[error(
        "a trace is already active on this thread: traces do not nest; finish the running \
         trace before starting another"
    )]
    AlreadyTracing,
}

/// Clears the thread-local recorder when dropped, so that a panic inside the traced function
/// leaves the thread ready for the next trace.
struct ActiveTrace;

impl Drop for ActiveTrace {
    fn drop(&mut self) {
        // No trace was active before this one (nesting is refused), so "restore" is "clear".
        // `try_*`: never panic in a destructor (during unwinding that would abort).
        let _ = STATE.try_with(|s| {
            if let Ok(mut s) = s.try_borrow_mut() {
                s.take();
            }
        });
    }
}

/// Runs `f` with `graph` installed as this thread's recorder and returns the extended graph and
/// `f`'s result.
///
/// Inside `f`, make [`Traced`] values with [`Traced::from_id`] (input nodes of `graph`) and
/// [`Traced::from`] (constants) and compute with them; every operation is recorded in the graph.
///
/// # Errors
/// [`TraceError::ValueDependent`] when `f` used the value of a traced number (see the module
/// documentation), [`TraceError::AlreadyTracing`] when called inside another trace.
///
/// # Panics
/// Propagates panics of `f`; the recorder is cleared first, so later traces work.
pub fn trace<R>(graph: Graph, f: impl FnOnce() -> R) -> Result<(Graph, R), TraceError> {
    let installed = STATE.with(|s| match s.try_borrow_mut() {
        Ok(mut s) if s.is_none() => {
            *s = Some(TraceState {
                graph,
                problems: Vec::new(),
            });
            true
        }
        _ => false,
    });
    if !installed {
        return Err(TraceError::AlreadyTracing);
    }
    let guard = ActiveTrace;
    let result = f();
    let state = STATE
        .with(|s| s.borrow_mut().take())
        .expect("the trace recorder was removed while tracing");
    drop(guard);
    if state.problems.is_empty() {
        Ok((state.graph, result))
    } else {
        Err(TraceError::ValueDependent {
            reasons: state.problems,
        })
    }
}

/// Runs `f` on the graph of the active trace.
///
/// # Panics
/// If no trace is active on this thread (a [`Traced`] number used outside [`trace`]), or if
/// called from inside another `with_graph` closure.
pub fn with_graph<R>(f: impl FnOnce(&mut Graph) -> R) -> R {
    STATE.with(|s| {
        let mut s = s.try_borrow_mut().expect(
            "lagrange-jit: the trace recorder is busy (with_graph called from inside with_graph)",
        );
        let state = s.as_mut().expect(
            "lagrange-jit: a traced number was used outside `trace` (no trace is active on this \
             thread)",
        );
        f(&mut state.graph)
    })
}

/// Records a value-dependent use (once per distinct message).
fn record(problem: impl FnOnce() -> String) {
    STATE.with(|s| {
        let mut s = s.try_borrow_mut().expect(
            "lagrange-jit: the trace recorder is busy (a traced number was used inside with_graph)",
        );
        let state = s.as_mut().expect(
            "lagrange-jit: a traced number was used outside `trace` (no trace is active on this \
             thread)",
        );
        let problem = problem();
        if !state.problems.contains(&problem) {
            state.problems.push(problem);
        }
    })
}

fn branch_problem(what: &str) -> String {
    format!("branches on a value ({what} on a traced number)")
}

/// A scalar that records the operations done on it into the graph of the active [`trace`].
///
/// It implements num-dual's [`DualNum`] (hence [`lagrange::Scalar`]), so any generic Lagrangian
/// accepts it. Using it outside a trace panics. A `Traced` from one trace must not be used in
/// another (its id would name an unrelated node).
#[derive(Clone, Copy, Debug)]
pub struct Traced {
    id: Id,
}

impl Traced {
    /// The graph node this number is.
    pub(crate) fn id(self) -> Id {
        self.id
    }

    /// The number that is node `id` of the active trace's graph (not checked: `id` must exist).
    pub(crate) fn from_id(id: Id) -> Self {
        Self { id }
    }

    /// A constant node.
    fn constant(c: f64) -> Self {
        Self::from_id(with_graph(|g| g.constant(c)))
    }

    /// The value if this is a constant node.
    fn value(self) -> Option<f64> {
        with_graph(|g| g.as_const(self.id))
    }

    fn unary(self, op: impl FnOnce(&mut Graph, Id) -> Id) -> Self {
        Self::from_id(with_graph(|g| op(g, self.id)))
    }

    fn binary(self, other: Self, op: impl FnOnce(&mut Graph, Id, Id) -> Id) -> Self {
        Self::from_id(with_graph(|g| op(g, self.id, other.id)))
    }

    fn fun(self, f: Fun) -> Self {
        self.unary(|g, a| g.fun(f, a))
    }

    fn op_add(self, o: Self) -> Self {
        self.binary(o, Graph::add)
    }

    fn op_sub(self, o: Self) -> Self {
        self.binary(o, Graph::sub)
    }

    fn op_mul(self, o: Self) -> Self {
        self.binary(o, Graph::mul)
    }

    fn op_div(self, o: Self) -> Self {
        self.binary(o, Graph::div)
    }

    /// `a % b`: `a − trunc(a/b)·b` depends on the value through `trunc`; exact for constants.
    fn op_rem(self, o: Self) -> Self {
        match (self.value(), o.value()) {
            (Some(a), Some(b)) => Self::constant(a % b),
            _ => {
                record(|| "uses the value of a traced number (remainder `%`)".to_string());
                Self::constant(f64::NAN)
            }
        }
    }

    /// A comparison with `other`: exact between constants, otherwise a problem and `false`.
    fn compare(self, other: Option<f64>, what: &str, test: impl FnOnce(f64, f64) -> bool) -> bool {
        match (self.value(), other) {
            (Some(a), Some(b)) => test(a, b),
            _ => {
                record(|| branch_problem(&format!("comparison `{what}`")));
                false
            }
        }
    }

    fn ordering(self, other: Option<f64>) -> Option<Ordering> {
        match (self.value(), other) {
            (Some(a), Some(b)) => a.partial_cmp(&b),
            _ => {
                record(|| branch_problem("comparison `partial_cmp`"));
                None
            }
        }
    }

    /// A yes/no question about the value: exact for constants, otherwise a problem and `false`.
    fn ask(self, what: &str, test: impl FnOnce(f64) -> bool) -> bool {
        match self.value() {
            Some(a) => test(a),
            None => {
                record(|| branch_problem(&format!("`{what}`")));
                false
            }
        }
    }

    /// A function tracing does not support: a problem and a NaN constant.
    fn unsupported(what: &str) -> Self {
        record(|| {
            format!("uses `{what}`, which tracing does not support (it has no compiled form)")
        });
        Self::constant(f64::NAN)
    }
}

/* arithmetic: traced and f64 operands, by value and by reference, on both sides */
macro_rules! binop {
    ($trt:ident, $mth:ident, $assign_trt:ident, $assign_mth:ident, $op:ident) => {
        impl $trt for Traced {
            type Output = Traced;
            #[inline]
            fn $mth(self, o: Traced) -> Traced {
                self.$op(o)
            }
        }
        impl $trt<&Traced> for Traced {
            type Output = Traced;
            #[inline]
            fn $mth(self, o: &Traced) -> Traced {
                self.$op(*o)
            }
        }
        impl $trt<Traced> for &Traced {
            type Output = Traced;
            #[inline]
            fn $mth(self, o: Traced) -> Traced {
                (*self).$op(o)
            }
        }
        impl $trt<&Traced> for &Traced {
            type Output = Traced;
            #[inline]
            fn $mth(self, o: &Traced) -> Traced {
                (*self).$op(*o)
            }
        }
        impl $trt<f64> for Traced {
            type Output = Traced;
            #[inline]
            fn $mth(self, o: f64) -> Traced {
                self.$op(Traced::constant(o))
            }
        }
        impl $trt<f64> for &Traced {
            type Output = Traced;
            #[inline]
            fn $mth(self, o: f64) -> Traced {
                (*self).$op(Traced::constant(o))
            }
        }
        impl $trt<Traced> for f64 {
            type Output = Traced;
            #[inline]
            fn $mth(self, o: Traced) -> Traced {
                Traced::constant(self).$op(o)
            }
        }
        impl $trt<&Traced> for f64 {
            type Output = Traced;
            #[inline]
            fn $mth(self, o: &Traced) -> Traced {
                Traced::constant(self).$op(*o)
            }
        }
        impl $assign_trt for Traced {
            #[inline]
            fn $assign_mth(&mut self, o: Traced) {
                *self = self.$op(o);
            }
        }
        impl $assign_trt<&Traced> for Traced {
            #[inline]
            fn $assign_mth(&mut self, o: &Traced) {
                *self = self.$op(*o);
            }
        }
        impl $assign_trt<f64> for Traced {
            #[inline]
            fn $assign_mth(&mut self, o: f64) {
                *self = self.$op(Traced::constant(o));
            }
        }
    };
}
binop!(Add, add, AddAssign, add_assign, op_add);
binop!(Sub, sub, SubAssign, sub_assign, op_sub);
binop!(Mul, mul, MulAssign, mul_assign, op_mul);
binop!(Div, div, DivAssign, div_assign, op_div);
binop!(Rem, rem, RemAssign, rem_assign, op_rem);

impl Neg for Traced {
    type Output = Traced;
    #[inline]
    fn neg(self) -> Traced {
        self.unary(Graph::neg)
    }
}
impl Neg for &Traced {
    type Output = Traced;
    #[inline]
    fn neg(self) -> Traced {
        -*self
    }
}

/* comparisons: depend on values */
impl PartialEq for Traced {
    fn eq(&self, other: &Self) -> bool {
        self.compare(other.value(), "==", |a, b| a == b)
    }
    #[expect(
        clippy::partialeq_ne_impl,
        reason = "records the operator actually used"
    )]
    fn ne(&self, other: &Self) -> bool {
        self.compare(other.value(), "!=", |a, b| a != b)
    }
}
impl PartialEq<f64> for Traced {
    fn eq(&self, other: &f64) -> bool {
        self.compare(Some(*other), "==", |a, b| a == b)
    }
    #[expect(
        clippy::partialeq_ne_impl,
        reason = "records the operator actually used"
    )]
    fn ne(&self, other: &f64) -> bool {
        self.compare(Some(*other), "!=", |a, b| a != b)
    }
}
macro_rules! partial_ord {
    ($rhs:ty, |$o:ident| $value:expr) => {
        impl PartialOrd<$rhs> for Traced {
            fn partial_cmp(&self, $o: &$rhs) -> Option<Ordering> {
                self.ordering($value)
            }
            fn lt(&self, $o: &$rhs) -> bool {
                self.compare($value, "<", |a, b| a < b)
            }
            fn le(&self, $o: &$rhs) -> bool {
                self.compare($value, "<=", |a, b| a <= b)
            }
            fn gt(&self, $o: &$rhs) -> bool {
                self.compare($value, ">", |a, b| a > b)
            }
            fn ge(&self, $o: &$rhs) -> bool {
                self.compare($value, ">=", |a, b| a >= b)
            }
        }
    };
}
partial_ord!(Traced, |o| o.value());
partial_ord!(f64, |o| Some(*o));

/* num-traits plumbing */
impl From<f64> for Traced {
    #[inline]
    fn from(c: f64) -> Self {
        Self::constant(c)
    }
}
impl Zero for Traced {
    #[inline]
    fn zero() -> Self {
        Self::constant(0.0)
    }
    /// Exact for constant nodes; a problem otherwise.
    fn is_zero(&self) -> bool {
        self.ask("is_zero", |a| a == 0.0)
    }
}
impl One for Traced {
    #[inline]
    fn one() -> Self {
        Self::constant(1.0)
    }
    /// Exact for constant nodes; a problem otherwise.
    fn is_one(&self) -> bool {
        self.ask("is_one", |a| a == 1.0)
    }
}
impl Num for Traced {
    type FromStrRadixErr = <f64 as Num>::FromStrRadixErr;
    fn from_str_radix(s: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
        f64::from_str_radix(s, radix).map(Self::constant)
    }
}
impl Signed for Traced {
    fn abs(&self) -> Self {
        self.fun(Fun::Abs)
    }
    fn abs_sub(&self, other: &Self) -> Self {
        match (self.value(), other.value()) {
            (Some(a), Some(b)) => Self::constant(Signed::abs_sub(&a, &b)),
            _ => {
                record(|| branch_problem("`abs_sub`"));
                Self::constant(f64::NAN)
            }
        }
    }
    fn signum(&self) -> Self {
        self.fun(Fun::Sign)
    }
    fn is_positive(&self) -> bool {
        self.ask("is_positive", |a| Signed::is_positive(&a))
    }
    fn is_negative(&self) -> bool {
        self.ask("is_negative", |a| Signed::is_negative(&a))
    }
}
impl Inv for Traced {
    type Output = Self;
    fn inv(self) -> Self {
        DualNum::recip(&self)
    }
}
impl Sum for Traced {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::zero(), |a, b| a + b)
    }
}
impl<'a> Sum<&'a Traced> for Traced {
    fn sum<I: Iterator<Item = &'a Self>>(iter: I) -> Self {
        iter.fold(Self::zero(), |a, b| a + b)
    }
}
impl Product for Traced {
    fn product<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::one(), |a, b| a * b)
    }
}
impl<'a> Product<&'a Traced> for Traced {
    fn product<I: Iterator<Item = &'a Self>>(iter: I) -> Self {
        iter.fold(Self::one(), |a, b| a * b)
    }
}
impl FromPrimitive for Traced {
    fn from_i64(n: i64) -> Option<Self> {
        f64::from_i64(n).map(Self::constant)
    }
    fn from_u64(n: u64) -> Option<Self> {
        f64::from_u64(n).map(Self::constant)
    }
    fn from_f64(n: f64) -> Option<Self> {
        Some(Self::constant(n))
    }
}
macro_rules! float_consts {
    ($($name:ident),*) => {
        impl FloatConst for Traced {
            $(
                #[allow(non_snake_case)]
                fn $name() -> Self {
                    Self::constant(f64::$name())
                }
            )*
        }
    };
}
float_consts!(
    E,
    FRAC_1_PI,
    FRAC_1_SQRT_2,
    FRAC_2_PI,
    FRAC_2_SQRT_PI,
    FRAC_PI_2,
    FRAC_PI_3,
    FRAC_PI_4,
    FRAC_PI_6,
    FRAC_PI_8,
    LN_10,
    LN_2,
    LOG10_E,
    LOG2_E,
    PI,
    SQRT_2
);
impl fmt::Display for Traced {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "t{}", self.id)
    }
}

/* num-dual */
impl DualStruct for Traced {
    type Real = f64;
    type Inner = f64;
    /// The value of a constant node; for anything else a problem and NaN.
    fn re(&self) -> f64 {
        match self.value() {
            Some(c) => c,
            None => {
                record(|| "reads the value of a traced number (`re()`)".to_string());
                f64::NAN
            }
        }
    }
    fn from_inner(inner: &f64) -> Self {
        Self::constant(*inner)
    }
}
impl Mappable<Self> for Traced {
    type Output<O> = O;
    fn map_dual<G: Fn(Self) -> O, O>(self, g: G) -> O {
        g(self)
    }
}

impl DualNum for Traced {
    type Primitive = f64;
    /// 0, as for `f64`: generic code that special-cases derivatives takes its plain path.
    const NDERIV: usize = 0;
    /// `Traced` itself, so that a model generic over a parameter scalar `S` and a state scalar
    /// `D: DualNum<InnerDual = S>` can be traced with both `Traced`: its parameters then become
    /// graph inputs instead of constants (see [`crate::ParametricEquations`]).
    type InnerDual = Traced;

    fn from_re(re: Traced) -> Self {
        re
    }
    fn scale(self, factor: &Traced) -> Self {
        self * *factor
    }
    fn recip(&self) -> Self {
        self.unary(Graph::recip)
    }
    fn powi(&self, n: i32) -> Self {
        self.unary(|g, a| g.powi(a, n))
    }
    fn powf(&self, n: f64) -> Self {
        self.unary(|g, a| g.powf(a, n))
    }
    fn powd(&self, exp: Self) -> Self {
        self.binary(exp, Graph::pow)
    }
    fn mul_add(&self, a: Self, b: Self) -> Self {
        *self * a + b
    }
    fn sqrt(&self) -> Self {
        self.fun(Fun::Sqrt)
    }
    fn cbrt(&self) -> Self {
        self.fun(Fun::Cbrt)
    }
    fn exp(&self) -> Self {
        self.fun(Fun::Exp)
    }
    fn exp2(&self) -> Self {
        self.fun(Fun::Exp2)
    }
    fn exp_m1(&self) -> Self {
        self.fun(Fun::ExpM1)
    }
    fn ln(&self) -> Self {
        self.fun(Fun::Ln)
    }
    fn log(&self, base: f64) -> Self {
        self.ln() * base.ln().recip()
    }
    fn log2(&self) -> Self {
        self.fun(Fun::Log2)
    }
    fn log10(&self) -> Self {
        self.fun(Fun::Log10)
    }
    fn ln_1p(&self) -> Self {
        self.fun(Fun::Ln1p)
    }
    fn sin(&self) -> Self {
        self.fun(Fun::Sin)
    }
    fn cos(&self) -> Self {
        self.fun(Fun::Cos)
    }
    fn tan(&self) -> Self {
        self.fun(Fun::Tan)
    }
    fn sin_cos(&self) -> (Self, Self) {
        (self.sin(), self.cos())
    }
    fn asin(&self) -> Self {
        self.fun(Fun::Asin)
    }
    fn acos(&self) -> Self {
        self.fun(Fun::Acos)
    }
    fn atan(&self) -> Self {
        self.fun(Fun::Atan)
    }
    fn atan2(&self, other: Self) -> Self {
        self.binary(other, Graph::atan2)
    }
    fn sinh(&self) -> Self {
        self.fun(Fun::Sinh)
    }
    fn cosh(&self) -> Self {
        self.fun(Fun::Cosh)
    }
    fn tanh(&self) -> Self {
        self.fun(Fun::Tanh)
    }
    fn asinh(&self) -> Self {
        self.fun(Fun::Asinh)
    }
    fn acosh(&self) -> Self {
        self.fun(Fun::Acosh)
    }
    fn atanh(&self) -> Self {
        self.fun(Fun::Atanh)
    }
    fn sph_j0(&self) -> Self {
        Self::unsupported("sph_j0")
    }
    fn sph_j1(&self) -> Self {
        Self::unsupported("sph_j1")
    }
    fn sph_j2(&self) -> Self {
        Self::unsupported("sph_j2")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lagrange::expr::TextSystem;
    use lagrange::systems::{
        Chain, CrossedFields, Cyclotron, DampedOscillator, DoublePendulum, DrivenOscillator,
        HarmonicOscillator, Kepler, NBody, Pendulum, SpringPendulum,
    };
    use lagrange::{Lagrangian, Scalar};

    fn f<D: Scalar>(x: D, y: D) -> D {
        x * y.sin() + (x / 2.0).powi(3) - y.sqrt() * 3.0
    }

    /// Traces `f(x, y)` on a two-input graph.
    fn trace2<D>(g: impl FnOnce(Traced, Traced) -> D) -> Result<(Graph, D), TraceError> {
        let graph = Graph::new(2);
        let (x, y) = (graph.input(0), graph.input(1));
        trace(graph, || g(Traced::from_id(x), Traced::from_id(y)))
    }

    /// Small deterministic generator (xorshift64*) for "random" states, in [-1.5, 1.5).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let u = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
            (u as f64 / (1u64 << 53) as f64) * 3.0 - 1.5
        }
    }

    #[test]
    fn traced_function_evaluates_like_f64() {
        let (graph, out) = trace2(f).unwrap();
        for (x, y) in [(1.3, 0.7), (-2.1, 2.5), (0.4, 3.9), (5.0, 0.01)] {
            let got = graph.eval(&[x, y], &[out.id()])[0];
            let want = f(x, y);
            // The graph does the same few operations on O(1) numbers, up to exact rewrites
            // (x/2 → 0.5·x, 3·√y) and a different association of x³ (x·x·x vs powi's): a few
            // roundings, no cancellation at these points, so agreement to ~10 ulp.
            assert!(
                (got - want).abs() <= 1e-14 * want.abs(),
                "f({x}, {y}): graph {got} vs f64 {want}"
            );
        }
    }

    #[test]
    fn every_operation_is_recorded() {
        fn g<D: Scalar>(x: D, y: D) -> D
        where
            D::InnerDual: From<f64>,
        {
            let (s, c) = x.sin_cos();
            let a = (x * x + 1.0).log(3.0) + (y * 0.1).exp2() - x.exp_m1() * 0.3
                + (y + 2.0).ln_1p()
                + (x * x + 2.0).log2()
                + (y * y + 1.0).log10()
                + (y + 2.0).cbrt()
                + (x * 0.3).tan()
                + (x * 0.2).asin()
                + (y * 0.2).acos()
                + x.atan()
                + y.atan2(x)
                + x.sinh() * y.cosh()
                + x.tanh()
                + y.asinh()
                + (y * y + 2.0).acosh()
                + (x * 0.3).atanh()
                + x.abs() * y.signum()
                + (y * y + 1.0).powf(0.3)
                + (y * y + 1.0).powd(x)
                + x.mul_add(y, s)
                + x.scale(&D::InnerDual::from(2.5))
                + (y * y + 1.0).recip()
                + (x * x + 0.5).inv()
                + c / (x * x + 1.0).powi(-5);
            let mut b = a;
            b += x;
            b -= 1.5;
            b *= y;
            b /= 2.0;
            b = -b + x * 2.0 - D::one() / (y * y + 1.0) + D::from(0.25) * D::one() - D::zero()
                + D::from_re(D::InnerDual::from(0.5))
                + D::from_f64(0.1).unwrap()
                + D::from_i64(-3).unwrap();
            [b, x, y].into_iter().sum::<D>() + [x, y].into_iter().product::<D>()
        }
        let (graph, out) = trace2(g).unwrap();
        for (x, y) in [(0.3, 0.7), (-0.9, 1.4), (1.1, -0.6)] {
            let got = graph.eval(&[x, y], &[out.id()])[0];
            let want = g(x, y);
            // Dozens of elementary functions, each within an ulp or two, and exact-in-value
            // rewrites (log base as a product, divisions by constants as products): agreement
            // to a few hundred ulp of the magnitude.
            assert!(
                (got - want).abs() <= 1e-13 * (1.0 + want.abs()),
                "g({x}, {y}): graph {got} vs f64 {want}"
            );
        }
    }

    /// The same expression body as an `f64` function and a `Traced` function (`T` is the type).
    macro_rules! on_both {
        (|$x:ident, $y:ident| $body:expr) => {{
            fn plain($x: f64, $y: f64) -> f64 {
                type T = f64;
                $body
            }
            fn traced($x: Traced, $y: Traced) -> Traced {
                type T = Traced;
                $body
            }
            (plain, traced)
        }};
    }

    #[test]
    #[expect(
        clippy::op_ref,
        reason = "the by-reference operator impls are under test"
    )]
    fn references_and_f64_operands_on_either_side() {
        let (plain, traced) = on_both!(|x, y| {
            let mut a = &x * &y + 2.0 * x - 1.0 / (y * y + 1.0)
                + (3.0 - x) / 4.0
                + (&x - 0.5) * (&y / 2.0)
                + (-&x)
                + &x * 1.5
                + 0.5 * &y
                + (x + &y) * (&x - y)
                + 2.0 / &x
                - 1.0 * &y;
            a += &y;
            a -= y;
            a *= &x;
            a /= &(y * y + 1.0);
            a *= 1.5;
            a += 0.25;
            a -= 0.125;
            a /= 4.0;
            a + [x, y].iter().sum::<T>() + [x, y].iter().product::<T>() + T::from(0.5)
        });
        let (graph, out) = trace2(traced).unwrap();
        for (x, y) in [(1.3, 0.7), (-2.1, 2.5), (0.4, -3.9)] {
            let got = graph.eval(&[x, y], &[out.id()])[0];
            let want = plain(x, y);
            // Rational arithmetic on O(1) numbers, divisions by constants turned into exact or
            // once-rounded products: a few ulp of the largest term.
            assert!(
                (got - want).abs() <= 1e-14 * (1.0 + want.abs()),
                "({x}, {y}): graph {got} vs f64 {want}"
            );
        }
    }

    #[test]
    fn branching_on_a_value_is_rejected() {
        fn h<D: Scalar>(x: D, y: D) -> D {
            if x > D::zero() { x * y } else { -x * y }
        }
        let err = trace2(h).unwrap_err();
        let TraceError::ValueDependent { reasons } = &err else {
            panic!("expected ValueDependent, got {err:?}");
        };
        assert_eq!(
            reasons,
            &["branches on a value (comparison `>` on a traced number)"]
        );
        let msg = err.to_string();
        assert!(
            msg.contains("comparison `>`") && msg.contains("EquationsOfMotion"),
            "{msg}"
        );
    }

    #[test]
    fn every_value_query_is_a_problem_listed_once() {
        let err = trace2(|x, y| {
            let mut r = x;
            for _ in 0..3 {
                let _ = x < y;
            }
            let _ = x == y;
            let _ = x != 1.0;
            let _ = x.partial_cmp(&y);
            let _ = x >= 2.0;
            let _ = x.re();
            let _ = x.is_positive() || y.is_negative();
            let _ = x.is_zero() || y.is_one();
            r += x % y + x.abs_sub(&y) + x.sph_j0();
            r
        })
        .unwrap_err();
        let TraceError::ValueDependent { reasons } = err else {
            panic!("expected ValueDependent");
        };
        let expected = [
            "comparison `<`",
            "comparison `==`",
            "comparison `!=`",
            "`partial_cmp`",
            "comparison `>=`",
            "`re()`",
            "`is_positive`",
            "`is_negative`",
            "`is_zero`",
            "`is_one`",
            "remainder `%`",
            "`abs_sub`",
            "`sph_j0`",
        ];
        assert_eq!(reasons.len(), expected.len(), "{reasons:#?}");
        for (r, e) in reasons.iter().zip(expected) {
            assert!(r.contains(e), "{r:?} should mention {e}");
        }
    }

    #[test]
    fn questions_about_constants_are_answered_exactly() {
        let (graph, (out, answers)) = trace2(|x, _| {
            let two = Traced::from(2.0);
            let zero = x * 0.0;
            let answers = [
                two > Traced::one(),
                two == 2.0,
                two.is_positive(),
                zero.is_zero(),
                !Traced::one().is_zero(),
                Traced::one().is_one(),
                two.re() == 2.0,
                (two % 1.5).re() == 0.5,
                two.partial_cmp(&3.0) == Some(Ordering::Less),
            ];
            (x * two, answers)
        })
        .unwrap();
        assert!(answers.iter().all(|&a| a), "{answers:?}");
        assert_eq!(graph.eval(&[1.5, 0.0], &[out.id()]), [3.0]);
        assert_eq!(format!("{out}"), format!("t{}", out.id()));
    }

    #[test]
    fn a_panic_inside_a_trace_leaves_the_thread_ready() {
        let caught = std::panic::catch_unwind(|| {
            let graph = Graph::new(1);
            let _ = trace(graph, || -> Traced {
                let x = Traced::from_id(0);
                let _ = x.sin();
                panic!("boom inside the traced function");
            });
        });
        assert!(caught.is_err());
        let (graph, out) = trace2(f).unwrap();
        let got = graph.eval(&[1.3, 0.7], &[out.id()])[0];
        assert!((got - f(1.3, 0.7)).abs() <= 1e-14 * f(1.3_f64, 0.7).abs());
        // An error result also clears the recorder.
        assert!(trace2(|x, y| x < y).is_err());
        assert!(trace2(f).is_ok());
    }

    #[test]
    fn nested_traces_are_refused_without_harm() {
        let (graph, (out, inner)) = trace2(|x, y| {
            let a = x * y;
            let inner = trace(Graph::new(1), || ()).map(|_| ());
            (a + x, inner)
        })
        .unwrap();
        assert_eq!(inner, Err(TraceError::AlreadyTracing));
        assert_eq!(graph.eval(&[2.0, 3.0], &[out.id()]), [8.0]);
    }

    #[test]
    #[should_panic(expected = "outside `trace`")]
    fn traced_numbers_need_a_trace() {
        let _ = Traced::from(1.0);
    }

    /// Traces L (and F, Q, the local terms where declared) of `sys` and compares the graph with
    /// the `f64` evaluation at random states.
    fn check_system<L: Lagrangian>(name: &str, sys: &L, seed: u64) {
        let n = sys.dof();
        let graph = Graph::new(1 + 2 * n);
        let ids: Vec<Id> = (0..1 + 2 * n).map(|i| graph.input(i)).collect();
        let mut term_coords = Vec::new();
        for k in 0..sys.structure().local_terms {
            let mut c = Vec::new();
            sys.term_coordinates(k, &mut c);
            term_coords.push(c);
        }
        let (g, outputs) = trace(graph, || {
            let v: Vec<Traced> = ids.iter().map(|&i| Traced::from_id(i)).collect();
            let (t, q, qd) = (v[0], &v[1..=n], &v[n + 1..]);
            let mut out = vec![sys.lagrangian(t, q, qd)];
            if sys.structure().dissipation {
                out.push(sys.dissipation(t, q, qd));
            }
            let mut forces = vec![Traced::zero(); n];
            sys.add_generalized_forces(t, q, qd, &mut forces);
            out.extend(forces);
            for (k, c) in term_coords.iter().enumerate() {
                let lq: Vec<Traced> = c.iter().map(|&j| q[j]).collect();
                let lv: Vec<Traced> = c.iter().map(|&j| qd[j]).collect();
                out.push(sys.term(k, t, &lq, &lv));
            }
            out.iter().map(|o| o.id()).collect::<Vec<_>>()
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut rng = Rng(seed);
        for _ in 0..5 {
            let x: Vec<f64> = (0..1 + 2 * n).map(|_| rng.next()).collect();
            let (t, q, qd) = (x[0], &x[1..=n], &x[n + 1..]);
            let mut want = vec![sys.lagrangian(t, q, qd)];
            if sys.structure().dissipation {
                want.push(sys.dissipation(t, q, qd));
            }
            let mut forces = vec![0.0; n];
            sys.add_generalized_forces(t, q, qd, &mut forces);
            want.extend(forces);
            for (k, c) in term_coords.iter().enumerate() {
                let lq: Vec<f64> = c.iter().map(|&j| q[j]).collect();
                let lv: Vec<f64> = c.iter().map(|&j| qd[j]).collect();
                want.push(sys.term(k, t, &lq, &lv));
            }
            let got = g.eval(&x, &outputs);
            for (i, (a, b)) in got.iter().zip(&want).enumerate() {
                // Same operations up to exact rewrites and reassociated constant products: a few
                // roundings per term, relative to the size of the result (or 1 where L = T − V
                // nearly cancels).
                assert!(
                    (a - b).abs() <= 1e-13 * (1.0 + b.abs()),
                    "{name} output {i} at {x:?}: graph {a} vs f64 {b}"
                );
            }
        }
    }

    #[test]
    fn double_pendulum_traces() {
        check_system("double pendulum", &DoublePendulum::default(), 1);
    }

    #[test]
    fn every_library_system_traces() {
        check_system("harmonic oscillator", &HarmonicOscillator::default(), 2);
        check_system("pendulum", &Pendulum::default(), 3);
        check_system("cyclotron", &Cyclotron::default(), 4);
        check_system("crossed fields", &CrossedFields::default(), 5);
        check_system("kepler", &Kepler::default(), 6);
        check_system("spring pendulum", &SpringPendulum::default(), 7);
        check_system("chain", &Chain::default(), 8);
        check_system("n-body", &NBody::default(), 9);
        check_system("damped oscillator", &DampedOscillator::default(), 10);
        check_system("driven oscillator", &DrivenOscillator::default(), 11);
    }

    const TEXT: &str = r#"
coordinates = ["x", "y"]
lagrangian = """
    0.5*m*(x_dot^2 + y_dot^2) - k*(x^2 + y^2 + 1)^1.5 + c*atan2(y, x + 3)*x_dot
    + tanh(x*y) - abs(x - y)/3 + sqrt(1 + x^2)*cos(t) + exp(-y^2)*log(2 + x_dot^2)
"""
dissipation = "0.5*c*(x_dot^2 + y_dot^2)"
[parameters]
m = 1.2
k = 0.8
c = 0.3
"#;

    #[test]
    fn text_systems_trace() {
        let sys = TextSystem::from_toml_str(TEXT).unwrap();
        check_system("text system", &sys, 12);
        let dp = TextSystem::from_toml_str(
            r#"
coordinates = ["th1", "th2"]
lagrangian = """
    0.5*(m1 + m2)*l1^2*th1_dot^2 + 0.5*m2*l2^2*th2_dot^2
    + m2*l1*l2*th1_dot*th2_dot*cos(th1 - th2)
    + (m1 + m2)*g*l1*cos(th1) + m2*g*l2*cos(th2)
"""
[parameters]
m1 = 1.3
m2 = 0.7
l1 = 1.1
l2 = 0.9
g = 9.81
"#,
        )
        .unwrap();
        check_system("text double pendulum", &dp, 13);
    }

    #[test]
    fn a_variable_exponent_in_text_is_value_dependent() {
        // `a^b` picks exp(b ln a), powi or powf by the values of a and b.
        let sys = TextSystem::from_toml_str(
            "coordinates = [\"x\"]\nlagrangian = \"0.5*x_dot^2 - (x^2 + 1)^x\"\n",
        )
        .unwrap();
        let graph = Graph::new(3);
        let err = trace(graph, || {
            let v: Vec<Traced> = (0..3).map(Traced::from_id).collect();
            sys.lagrangian(v[0], &v[1..2], &v[2..3])
        })
        .unwrap_err();
        assert!(err.to_string().contains("`re()`"), "{err}");
    }
}
