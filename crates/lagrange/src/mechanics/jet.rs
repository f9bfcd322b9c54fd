//! [`Jet`] ([`EomJet`], [`ForceJet`]): a second-order dual number carrying exactly what the Euler–Lagrange equations need.
//!
//! For `n` coordinates the equations of motion need `M = ∂²L/∂q̇²`, `∂L/∂q` and the single column
//! `∂_v(∂L/∂q̇)` along the direction of motion `v = (q̇ on q, 1 on t)`. A general hyper-dual
//! (num-dual's `HyperDualVec` with ε₁ over q̇ and ε₂ over (q̇, v, q)) also forms the unused
//! `∂²L/∂q̇∂q` block and wraps every block in an `Option`. This type keeps
//!
//! | part | meaning | size |
//! |---|---|---|
//! | `re` | value | 1 |
//! | `v`  | `∂/∂q̇` | n |
//! | `d`  | `∂/∂v` | 1 |
//! | `q`  | `∂/∂q` | n |
//! | `vv` | `∂²/∂q̇∂q̇`, upper triangle | n(n+1)/2 used |
//! | `vd` | `∂²/∂q̇∂v` | n |
//!
//! plus a flag that skips all velocity parts for quantities that do not depend on q̇ (potential
//! energies), which is where most operations of a typical L happen. Written by hand because no
//! crate offers this "gradient in all variables, Hessian in some" shape with fixed sizes.
//!
//! The inner scalar `T` may itself be a dual number (learning nests parameter duals through the
//! equations of motion), so everything is generic over [`Scalar`].
//!
//! ```
//! use lagrange::mechanics::jet::EomJet;
//! use num_dual::DualNum;
//! // L = q̇₀² q₁ at q = (0, 3), q̇ = (2, 0): ∂²L/∂q̇₀² = 2 q₁ = 6, ∂L/∂q₁ = q̇₀² = 4.
//! let q1 = EomJet::<f64, 2>::coordinate(3.0, 0.0, 1);
//! let qd0 = EomJet::<f64, 2>::velocity(2.0, 0);
//! let l = qd0 * qd0 * q1;
//! assert_eq!(l.re, 12.0);
//! assert_eq!(l.vv[0][0], 6.0);
//! assert_eq!(l.q[1], 4.0);
//! ```

use crate::lagrangian::Scalar;
use num_dual::{DualNum, DualStruct, Mappable};
use num_traits::{FloatConst, FromPrimitive, Inv, Num, One, Signed, Zero};
use std::fmt;
use std::iter::{Product, Sum};
use std::ops::{
    Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign, Sub, SubAssign,
};

/// Value, `∂/∂q̇`, `∂/∂v`, `∂/∂q`, `∂²/∂q̇²` (upper triangle) and `∂²/∂q̇∂v` of a quantity.
#[derive(Clone, Copy, Debug)]
pub struct Jet<T, const N: usize, const V: usize> {
    /// Value.
    pub re: T,
    /// `∂/∂q̇_i`.
    pub v: [T; N],
    /// Directional derivative along `v = (q̇ on q, 1 on t)`.
    pub d: T,
    /// `∂/∂q_i`.
    pub q: [T; N],
    /// `∂²/∂q̇_i∂q̇_j` for `j ≥ i`; the lower triangle stays zero. `V` is `N`, or `0` when the
    /// mass matrix is known (constant) and only the force is wanted.
    pub vv: [[T; V]; V],
    /// `∂²/∂q̇_i∂v`.
    pub vd: [T; N],
    /// Whether `v`, `vv`, `vd` may be non-zero (false: all three are exactly zero).
    pub has_velocity: bool,
}

/// The full jet of the equations of motion: `M`, `∂L/∂q` and the `v`-column.
pub type EomJet<T, const N: usize> = Jet<T, N, N>;

/// The jet without the `q̇q̇` block, for Lagrangians whose mass matrix is constant.
pub type ForceJet<T, const N: usize> = Jet<T, N, 0>;

impl<T: Scalar, const N: usize, const V: usize> Jet<T, N, V> {
    /// A constant.
    #[inline]
    pub fn constant(re: T) -> Self {
        Self {
            re,
            v: [T::zero(); N],
            d: T::zero(),
            q: [T::zero(); N],
            vv: [[T::zero(); V]; V],
            vd: [T::zero(); N],
            has_velocity: false,
        }
    }

    /// Coordinate `q_k` with value `q` moving with speed `q_dot` along `v`.
    #[inline]
    pub fn coordinate(q: T, q_dot: T, k: usize) -> Self {
        let mut x = Self::constant(q);
        x.d = q_dot;
        x.q[k] = T::one();
        x
    }

    /// Velocity `q̇_k` with value `q_dot`.
    #[inline]
    pub fn velocity(q_dot: T, k: usize) -> Self {
        let mut x = Self::constant(q_dot);
        x.v[k] = T::one();
        x.has_velocity = true;
        x
    }

    /// Time `t` (moves with unit speed along `v`).
    #[inline]
    pub fn time(t: T) -> Self {
        let mut x = Self::constant(t);
        x.d = T::one();
        x
    }

    /// `f(self)` given `f`, `f'` and `f''` at the value.
    #[inline]
    fn chain_rule(&self, f0: T, f1: T, f2: T) -> Self {
        let mut r = Self::constant(f0);
        r.d = self.d * f1;
        for i in 0..N {
            r.q[i] = self.q[i] * f1;
        }
        if self.has_velocity {
            r.has_velocity = true;
            for i in 0..N {
                r.v[i] = self.v[i] * f1;
                r.vd[i] = self.vd[i] * f1 + self.v[i] * self.d * f2;
                for j in i..V {
                    r.vv[i][j] = self.vv[i][j] * f1 + self.v[i] * self.v[j] * f2;
                }
            }
        }
        r
    }

    /// Every part multiplied by `f` (an inner scalar).
    #[inline]
    fn scaled(mut self, f: T) -> Self {
        self.re *= f;
        self.d *= f;
        for i in 0..N {
            self.q[i] *= f;
        }
        if self.has_velocity {
            for i in 0..N {
                self.v[i] *= f;
                self.vd[i] *= f;
                for j in i..V {
                    self.vv[i][j] *= f;
                }
            }
        }
        self
    }

    #[inline]
    fn product(&self, o: &Self) -> Self {
        let (a, b) = (self.re, o.re);
        let mut r = Self::constant(a * b);
        r.d = self.d * b + o.d * a;
        for i in 0..N {
            r.q[i] = self.q[i] * b + o.q[i] * a;
        }
        match (self.has_velocity, o.has_velocity) {
            (false, false) => {}
            (true, false) => {
                r.has_velocity = true;
                for i in 0..N {
                    r.v[i] = self.v[i] * b;
                    r.vd[i] = self.vd[i] * b + self.v[i] * o.d;
                    for j in i..V {
                        r.vv[i][j] = self.vv[i][j] * b;
                    }
                }
            }
            (false, true) => {
                r.has_velocity = true;
                for i in 0..N {
                    r.v[i] = o.v[i] * a;
                    r.vd[i] = o.vd[i] * a + o.v[i] * self.d;
                    for j in i..V {
                        r.vv[i][j] = o.vv[i][j] * a;
                    }
                }
            }
            (true, true) => {
                r.has_velocity = true;
                for i in 0..N {
                    r.v[i] = self.v[i] * b + o.v[i] * a;
                    r.vd[i] = self.vd[i] * b + o.vd[i] * a + self.v[i] * o.d + o.v[i] * self.d;
                    for j in i..V {
                        r.vv[i][j] = self.vv[i][j] * b
                            + o.vv[i][j] * a
                            + self.v[i] * o.v[j]
                            + o.v[i] * self.v[j];
                    }
                }
            }
        }
        r
    }

    #[inline]
    fn quotient(&self, o: &Self) -> Self {
        // c = a/b  ⇒  c' = (a' − c b')/b,  c'' = (a'' − c b'' − c'b'ᵀ − b'c'ᵀ)/b.
        let inv = o.re.recip();
        let c = self.re * inv;
        let mut r = Self::constant(c);
        r.d = (self.d - o.d * c) * inv;
        for i in 0..N {
            r.q[i] = (self.q[i] - o.q[i] * c) * inv;
        }
        if self.has_velocity || o.has_velocity {
            r.has_velocity = true;
            for i in 0..N {
                r.v[i] = (self.v[i] - o.v[i] * c) * inv;
            }
            for i in 0..N {
                r.vd[i] = (self.vd[i] - o.vd[i] * c - r.v[i] * o.d - o.v[i] * r.d) * inv;
                for j in i..V {
                    r.vv[i][j] =
                        (self.vv[i][j] - o.vv[i][j] * c - r.v[i] * o.v[j] - o.v[i] * r.v[j]) * inv;
                }
            }
        }
        r
    }

    #[inline]
    fn sum_with(&self, o: &Self, sign: f64) -> Self {
        let mut r = Self::constant(self.re + o.re * sign);
        r.d = self.d + o.d * sign;
        for i in 0..N {
            r.q[i] = self.q[i] + o.q[i] * sign;
        }
        match (self.has_velocity, o.has_velocity) {
            (false, false) => {}
            (true, false) => {
                r.has_velocity = true;
                r.v = self.v;
                r.vd = self.vd;
                r.vv = self.vv;
            }
            _ => {
                r.has_velocity = true;
                for i in 0..N {
                    r.v[i] = self.v[i] + o.v[i] * sign;
                    r.vd[i] = self.vd[i] + o.vd[i] * sign;
                    for j in i..V {
                        r.vv[i][j] = self.vv[i][j] + o.vv[i][j] * sign;
                    }
                }
            }
        }
        r
    }
}

/* arithmetic between jets, by value and by reference */
macro_rules! binop {
    ($trt:ident, $mth:ident, $assign_trt:ident, $assign_mth:ident, |$a:ident, $b:ident| $body:expr) => {
        impl<T: Scalar, const N: usize, const V: usize> $trt<&Jet<T, N, V>> for &Jet<T, N, V> {
            type Output = Jet<T, N, V>;
            #[inline]
            fn $mth(self, other: &Jet<T, N, V>) -> Jet<T, N, V> {
                let ($a, $b) = (self, other);
                $body
            }
        }
        impl<T: Scalar, const N: usize, const V: usize> $trt for Jet<T, N, V> {
            type Output = Self;
            #[inline]
            fn $mth(self, other: Self) -> Self {
                (&self).$mth(&other)
            }
        }
        impl<T: Scalar, const N: usize, const V: usize> $trt<&Jet<T, N, V>> for Jet<T, N, V> {
            type Output = Self;
            #[inline]
            fn $mth(self, other: &Self) -> Self {
                (&self).$mth(other)
            }
        }
        impl<T: Scalar, const N: usize, const V: usize> $trt<Jet<T, N, V>> for &Jet<T, N, V> {
            type Output = Jet<T, N, V>;
            #[inline]
            fn $mth(self, other: Jet<T, N, V>) -> Jet<T, N, V> {
                self.$mth(&other)
            }
        }
        impl<T: Scalar, const N: usize, const V: usize> $assign_trt for Jet<T, N, V> {
            #[inline]
            fn $assign_mth(&mut self, other: Self) {
                *self = (&*self).$mth(&other);
            }
        }
    };
}
binop!(Add, add, AddAssign, add_assign, |a, b| a.sum_with(b, 1.0));
binop!(Sub, sub, SubAssign, sub_assign, |a, b| a.sum_with(b, -1.0));
binop!(Mul, mul, MulAssign, mul_assign, |a, b| a.product(b));
binop!(Div, div, DivAssign, div_assign, |a, b| a.quotient(b));
binop!(Rem, rem, RemAssign, rem_assign, |a, b| {
    // a mod b = a − k b with k = trunc(a/b) locally constant.
    let k = (a.re.re() / b.re.re()).trunc();
    a.sum_with(&b.scaled(T::from(k)), -1.0)
});

/* arithmetic with the primitive f64 */
impl<T: Scalar, const N: usize, const V: usize> Mul<f64> for Jet<T, N, V> {
    type Output = Self;
    #[inline]
    fn mul(self, f: f64) -> Self {
        self.scaled(T::from(f))
    }
}
impl<T: Scalar, const N: usize, const V: usize> Div<f64> for Jet<T, N, V> {
    type Output = Self;
    #[inline]
    fn div(self, f: f64) -> Self {
        self.scaled(T::from(f.recip()))
    }
}
impl<T: Scalar, const N: usize, const V: usize> Add<f64> for Jet<T, N, V> {
    type Output = Self;
    #[inline]
    fn add(mut self, f: f64) -> Self {
        self.re += f;
        self
    }
}
impl<T: Scalar, const N: usize, const V: usize> Sub<f64> for Jet<T, N, V> {
    type Output = Self;
    #[inline]
    fn sub(mut self, f: f64) -> Self {
        self.re -= f;
        self
    }
}
impl<T: Scalar, const N: usize, const V: usize> Rem<f64> for Jet<T, N, V> {
    type Output = Self;
    #[inline]
    fn rem(mut self, f: f64) -> Self {
        // Derivatives of a − k f with k locally constant are those of a.
        let k = (self.re.re() / f).trunc();
        self.re -= f * k;
        self
    }
}
macro_rules! assign_f64 {
    ($trt:ident, $mth:ident, $op:tt) => {
        impl<T: Scalar, const N: usize, const V: usize> $trt<f64> for Jet<T, N, V> {
            #[inline]
            fn $mth(&mut self, f: f64) {
                *self = *self $op f;
            }
        }
    };
}
assign_f64!(MulAssign, mul_assign, *);
assign_f64!(DivAssign, div_assign, /);
assign_f64!(AddAssign, add_assign, +);
assign_f64!(SubAssign, sub_assign, -);
assign_f64!(RemAssign, rem_assign, %);

impl<T: Scalar, const N: usize, const V: usize> Neg for Jet<T, N, V> {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        self.scaled(-T::one())
    }
}
impl<T: Scalar, const N: usize, const V: usize> Neg for &Jet<T, N, V> {
    type Output = Jet<T, N, V>;
    #[inline]
    fn neg(self) -> Jet<T, N, V> {
        -*self
    }
}

/* num-traits plumbing */
impl<T: Scalar, const N: usize, const V: usize> From<f64> for Jet<T, N, V> {
    #[inline]
    fn from(f: f64) -> Self {
        Self::constant(T::from(f))
    }
}
impl<T: Scalar, const N: usize, const V: usize> Zero for Jet<T, N, V> {
    #[inline]
    fn zero() -> Self {
        Self::constant(T::zero())
    }
    fn is_zero(&self) -> bool {
        self.re.is_zero()
            && self.d.is_zero()
            && self.q.iter().all(|x| x.is_zero())
            && !self.has_velocity
    }
}
impl<T: Scalar, const N: usize, const V: usize> One for Jet<T, N, V> {
    #[inline]
    fn one() -> Self {
        Self::constant(T::one())
    }
}
impl<T: Scalar, const N: usize, const V: usize> PartialEq for Jet<T, N, V> {
    /// Compares values only, so that code branches as it would on `f64`.
    fn eq(&self, other: &Self) -> bool {
        self.re == other.re
    }
}
impl<T: Scalar, const N: usize, const V: usize> PartialEq<f64> for Jet<T, N, V> {
    fn eq(&self, other: &f64) -> bool {
        self.re == *other
    }
}
impl<T: Scalar, const N: usize, const V: usize> PartialOrd for Jet<T, N, V> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.re.partial_cmp(&other.re)
    }
}
impl<T: Scalar, const N: usize, const V: usize> PartialOrd<f64> for Jet<T, N, V> {
    fn partial_cmp(&self, other: &f64) -> Option<std::cmp::Ordering> {
        self.re.partial_cmp(other)
    }
}
impl<T: Scalar, const N: usize, const V: usize> Num for Jet<T, N, V> {
    type FromStrRadixErr = <f64 as Num>::FromStrRadixErr;
    fn from_str_radix(s: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
        f64::from_str_radix(s, radix).map(Self::from)
    }
}
impl<T: Scalar, const N: usize, const V: usize> Signed for Jet<T, N, V> {
    fn abs(&self) -> Self {
        if self.re.re() < 0.0 { -*self } else { *self }
    }
    fn abs_sub(&self, other: &Self) -> Self {
        if self.re.re() > other.re.re() {
            *self - *other
        } else {
            Self::zero()
        }
    }
    fn signum(&self) -> Self {
        Self::constant(self.re.signum())
    }
    fn is_positive(&self) -> bool {
        self.re.re() > 0.0
    }
    fn is_negative(&self) -> bool {
        self.re.re() < 0.0
    }
}
impl<T: Scalar, const N: usize, const V: usize> Inv for Jet<T, N, V> {
    type Output = Self;
    fn inv(self) -> Self {
        self.recip()
    }
}
impl<T: Scalar, const N: usize, const V: usize> Sum for Jet<T, N, V> {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::zero(), |a, b| a + b)
    }
}
impl<'a, T: Scalar, const N: usize, const V: usize> Sum<&'a Jet<T, N, V>> for Jet<T, N, V> {
    fn sum<I: Iterator<Item = &'a Self>>(iter: I) -> Self {
        iter.fold(Self::zero(), |a, b| a + b)
    }
}
impl<T: Scalar, const N: usize, const V: usize> Product for Jet<T, N, V> {
    fn product<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::one(), |a, b| a * b)
    }
}
impl<'a, T: Scalar, const N: usize, const V: usize> Product<&'a Jet<T, N, V>> for Jet<T, N, V> {
    fn product<I: Iterator<Item = &'a Self>>(iter: I) -> Self {
        iter.fold(Self::one(), |a, b| a * b)
    }
}
impl<T: Scalar, const N: usize, const V: usize> FromPrimitive for Jet<T, N, V> {
    fn from_i64(n: i64) -> Option<Self> {
        f64::from_i64(n).map(Self::from)
    }
    fn from_u64(n: u64) -> Option<Self> {
        f64::from_u64(n).map(Self::from)
    }
    fn from_f64(n: f64) -> Option<Self> {
        Some(Self::from(n))
    }
}
macro_rules! float_consts {
    ($($name:ident),*) => {
        impl<T: Scalar, const N: usize, const V: usize> FloatConst for Jet<T, N, V> {
            $(
                #[allow(non_snake_case)]
                fn $name() -> Self {
                    Self::from(f64::$name())
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
impl<T: Scalar, const N: usize, const V: usize> fmt::Display for Jet<T, N, V> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "{} + {:?}εq̇ + {}εv + {:?}εq",
            self.re, self.v, self.d, self.q
        )?;
        if self.has_velocity {
            write!(f, " + {:?}εq̇εq̇ + {:?}εq̇εv", self.vv, self.vd)?;
        }
        Ok(())
    }
}
impl<T: Scalar, const N: usize, const V: usize> DualStruct for Jet<T, N, V> {
    type Real = f64;
    type Inner = T;
    fn re(&self) -> f64 {
        self.re.re()
    }
    fn from_inner(inner: &T) -> Self {
        Self::constant(*inner)
    }
}
impl<T: Scalar, const N: usize, const V: usize> Mappable<Self> for Jet<T, N, V> {
    type Output<O> = O;
    fn map_dual<G: Fn(Self) -> O, O>(self, g: G) -> O {
        g(self)
    }
}

impl<T: Scalar, const N: usize, const V: usize> DualNum for Jet<T, N, V> {
    type Primitive = f64;
    const NDERIV: usize = T::NDERIV + 2;
    type InnerDual = T;

    #[inline]
    fn from_re(re: T) -> Self {
        Self::constant(re)
    }
    #[inline]
    fn scale(self, factor: &T) -> Self {
        self.scaled(*factor)
    }
    #[inline]
    fn recip(&self) -> Self {
        let f0 = self.re.recip();
        let f1 = -f0 * f0;
        let f2 = f1 * f0 * -2.0;
        self.chain_rule(f0, f1, f2)
    }
    #[inline]
    fn powi(&self, n: i32) -> Self {
        match n {
            0 => Self::one(),
            1 => *self,
            2 => self * self,
            _ => {
                let p = self.re.powi(n - 2);
                let f2 = p * f64::from(n * (n - 1));
                let f1 = p * self.re * f64::from(n);
                let f0 = p * self.re * self.re;
                self.chain_rule(f0, f1, f2)
            }
        }
    }
    #[inline]
    fn powf(&self, n: f64) -> Self {
        if n == 0.0 {
            Self::one()
        } else if n == 1.0 {
            *self
        } else if n == 2.0 {
            self * self
        } else {
            let p = self.re.powf(n - 2.0);
            let f2 = p * (n * (n - 1.0));
            let f1 = p * self.re * n;
            let f0 = p * self.re * self.re;
            self.chain_rule(f0, f1, f2)
        }
    }
    #[inline]
    fn sqrt(&self) -> Self {
        let f0 = self.re.sqrt();
        let rec = self.re.recip();
        let f1 = f0 * rec * 0.5;
        let f2 = -f1 * rec * 0.5;
        self.chain_rule(f0, f1, f2)
    }
    #[inline]
    fn cbrt(&self) -> Self {
        let f0 = self.re.cbrt();
        let rec = self.re.recip();
        let f1 = f0 * rec * (1.0 / 3.0);
        let f2 = f1 * rec * (-2.0 / 3.0);
        self.chain_rule(f0, f1, f2)
    }
    #[inline]
    fn exp(&self) -> Self {
        let f = self.re.exp();
        self.chain_rule(f, f, f)
    }
    #[inline]
    fn exp2(&self) -> Self {
        let ln2 = std::f64::consts::LN_2;
        let f0 = self.re.exp2();
        self.chain_rule(f0, f0 * ln2, f0 * (ln2 * ln2))
    }
    #[inline]
    fn exp_m1(&self) -> Self {
        let f1 = self.re.exp();
        self.chain_rule(self.re.exp_m1(), f1, f1)
    }
    #[inline]
    fn ln(&self) -> Self {
        let rec = self.re.recip();
        self.chain_rule(self.re.ln(), rec, -rec * rec)
    }
    #[inline]
    fn log(&self, base: f64) -> Self {
        let rec = self.re.recip();
        let f1 = rec / base.ln();
        self.chain_rule(self.re.log(base), f1, -f1 * rec)
    }
    #[inline]
    fn log2(&self) -> Self {
        self.log(2.0)
    }
    #[inline]
    fn log10(&self) -> Self {
        self.log(10.0)
    }
    #[inline]
    fn ln_1p(&self) -> Self {
        let rec = (self.re + 1.0).recip();
        self.chain_rule(self.re.ln_1p(), rec, -rec * rec)
    }
    #[inline]
    fn sin(&self) -> Self {
        let (s, c) = self.re.sin_cos();
        self.chain_rule(s, c, -s)
    }
    #[inline]
    fn cos(&self) -> Self {
        let (s, c) = self.re.sin_cos();
        self.chain_rule(c, -s, -c)
    }
    #[inline]
    fn sin_cos(&self) -> (Self, Self) {
        let (s, c) = self.re.sin_cos();
        (self.chain_rule(s, c, -s), self.chain_rule(c, -s, -c))
    }
    #[inline]
    fn tan(&self) -> Self {
        let (s, c) = self.sin_cos();
        s / c
    }
    #[inline]
    fn asin(&self) -> Self {
        let rec = (T::one() - self.re * self.re).recip();
        let f1 = rec.sqrt();
        self.chain_rule(self.re.asin(), f1, self.re * f1 * rec)
    }
    #[inline]
    fn acos(&self) -> Self {
        let rec = (T::one() - self.re * self.re).recip();
        let f1 = -rec.sqrt();
        self.chain_rule(self.re.acos(), f1, self.re * f1 * rec)
    }
    #[inline]
    fn atan(&self) -> Self {
        let rec = (T::one() + self.re * self.re).recip();
        self.chain_rule(self.re.atan(), rec, -self.re * rec * rec * 2.0)
    }
    #[inline]
    fn atan2(&self, other: Self) -> Self {
        let mut r = (*self / other).atan();
        r.re = self.re.atan2(other.re);
        r
    }
    #[inline]
    fn sinh(&self) -> Self {
        let (s, c) = (self.re.sinh(), self.re.cosh());
        self.chain_rule(s, c, s)
    }
    #[inline]
    fn cosh(&self) -> Self {
        let (s, c) = (self.re.sinh(), self.re.cosh());
        self.chain_rule(c, s, c)
    }
    #[inline]
    fn tanh(&self) -> Self {
        let f0 = self.re.tanh();
        let f1 = T::one() - f0 * f0;
        self.chain_rule(f0, f1, f1 * f0 * -2.0)
    }
    #[inline]
    fn asinh(&self) -> Self {
        let rec = (T::one() + self.re * self.re).recip();
        let f1 = rec.sqrt();
        self.chain_rule(self.re.asinh(), f1, -self.re * f1 * rec)
    }
    #[inline]
    fn acosh(&self) -> Self {
        let rec = (self.re * self.re - 1.0).recip();
        let f1 = rec.sqrt();
        self.chain_rule(self.re.acosh(), f1, -self.re * f1 * rec)
    }
    #[inline]
    fn atanh(&self) -> Self {
        let rec = (T::one() - self.re * self.re).recip();
        self.chain_rule(self.re.atanh(), rec, self.re * rec * rec * 2.0)
    }
    fn sph_j0(&self) -> Self {
        if self.re.re().abs() < f64::EPSILON {
            Self::one() - self * self / 6.0
        } else {
            self.sin() / self
        }
    }
    fn sph_j1(&self) -> Self {
        if self.re.re().abs() < f64::EPSILON {
            *self / 3.0
        } else {
            let (s, c) = self.sin_cos();
            (s - self * c) / (self * self)
        }
    }
    fn sph_j2(&self) -> Self {
        if self.re.re().abs() < f64::EPSILON {
            self * self / 15.0
        } else {
            let (s, c) = self.sin_cos();
            let s2 = self * self;
            ((s - self * c) * 3.0 - s2 * s) / (s2 * self)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{Const, SMatrix};
    use num_dual::{Derivative, HyperDualVec};

    type Hd = HyperDualVec<f64, Const<2>, Const<5>>;

    /// The same seeds in num-dual's general hyper-dual (ε₁ over q̇, ε₂ over (q̇, v, q)).
    fn reference(f: impl Fn(&[Hd], &[Hd], Hd) -> Hd, q: [f64; 2], qd: [f64; 2], t: f64) -> Hd {
        let qs: Vec<Hd> = (0..2)
            .map(|k| {
                let mut e2 = SMatrix::<f64, 1, 5>::zeros();
                e2[2] = qd[k];
                e2[3 + k] = 1.0;
                Hd::new(
                    q[k],
                    Derivative::none(),
                    Derivative::some(e2),
                    Derivative::none(),
                )
            })
            .collect();
        let qds: Vec<Hd> = (0..2)
            .map(|k| Hd::from_re(qd[k]).derivative1(k).derivative2(k))
            .collect();
        f(&qs, &qds, Hd::from_re(t).derivative2(2))
    }

    fn jet(
        f: impl Fn(&[EomJet<f64, 2>], &[EomJet<f64, 2>], EomJet<f64, 2>) -> EomJet<f64, 2>,
        q: [f64; 2],
        qd: [f64; 2],
        t: f64,
    ) -> EomJet<f64, 2> {
        let qs: Vec<_> = (0..2).map(|k| EomJet::coordinate(q[k], qd[k], k)).collect();
        let qds: Vec<_> = (0..2).map(|k| EomJet::velocity(qd[k], k)).collect();
        f(&qs, &qds, EomJet::time(t))
    }

    /// Exercises every operation and function of the jet; compares with `HyperDualVec`, an
    /// independent implementation of the same derivatives.
    fn check<F, G>(f: F, g: G)
    where
        F: Fn(&[Hd], &[Hd], Hd) -> Hd,
        G: Fn(&[EomJet<f64, 2>], &[EomJet<f64, 2>], EomJet<f64, 2>) -> EomJet<f64, 2>,
    {
        let (q, qd, t) = ([0.3, -0.4], [0.7, 0.2], 0.25);
        let r = reference(f, q, qd, t);
        let j = jet(g, q, qd, t);
        let e2 = r.eps2.unwrap_generic(Const::<1>, Const::<5>);
        let e12 = r.eps1eps2.unwrap_generic(Const::<2>, Const::<5>);
        let e1 = r.eps1.unwrap_generic(Const::<2>, Const::<1>);
        let close = |a: f64, b: f64, what: &str| {
            // Same formulas up to rounding: 1e-13 relative to the magnitude.
            assert!(
                (a - b).abs() <= 1e-13 * (1.0 + b.abs()),
                "{what}: {a} vs {b}"
            );
        };
        close(j.re, r.re, "value");
        close(j.d, e2[2], "d");
        for i in 0..2 {
            close(j.v[i], e1[i], "v");
            close(j.q[i], e2[3 + i], "q");
            close(j.vd[i], e12[(i, 2)], "vd");
            for k in i..2 {
                close(j.vv[i][k], e12[(i, k)], "vv");
            }
        }
    }

    macro_rules! same {
        ($name:ident, |$q:ident, $v:ident, $t:ident| $body:expr) => {
            #[test]
            fn $name() {
                check(|$q, $v, $t| $body, |$q, $v, $t| $body);
            }
        };
    }

    same!(products, |q, v, t| v[0] * v[1] * q[0]
        + v[0] * v[0] * q[1] * t);
    same!(quotient, |q, v, t| (v[0] * q[1] + t)
        / (v[1] * v[0] + q[0] + 2.0));
    same!(trig, |q, v, t| (v[0] * q[1]).sin()
        * (q[0] - q[1]).cos()
        * v[1]
        + (v[1] * t).tan());
    same!(exp_log, |q, v, t| (v[0] * q[0]).exp()
        + (v[1] * v[1] + 1.0 + t).ln()
        - (v[0] + 2.0).log(3.0) * q[1].exp2());
    same!(powers, |q, v, _t| v[0].powi(3) * q[0].powi(-2)
        + (v[1] + 2.0).powf(1.7)
        + (v[0] * v[0] + q[1] * q[1]).sqrt()
        + (v[1] + 3.0).cbrt());
    same!(inverse_trig, |q, v, _t| (v[0] * 0.5).asin()
        + (v[1] * q[0]).acos()
        + (v[0] * q[1]).atan()
        + v[1].atan2(q[0] + v[0]));
    same!(hyperbolic, |q, v, _t| (v[0] * q[1]).sinh()
        + (v[1]).cosh() * q[0]
        + (v[0] - v[1]).tanh()
        + (v[1] * 2.0).asinh()
        + (v[0] + 2.0).acosh()
        + (v[1] * q[0]).atanh());
    same!(scalars, |q, v, _t| (v[0] * 2.0 + 1.0 - q[0] / 4.0)
        * (v[1] - 0.5)
        + (-v[0]).recip() * q[1]
        + (v[0] * q[0]).exp_m1()
        + (v[1] * q[1]).ln_1p());
    same!(potential_only, |q, v, _t| (q[0] * q[1]).cos()
        + v[0] * v[0] * 0.5);

    #[test]
    fn force_jet_carries_the_same_first_order_and_v_column() {
        let f = |q: &[ForceJet<f64, 2>], v: &[ForceJet<f64, 2>], t: ForceJet<f64, 2>| {
            (v[0] * q[1]).sin() * v[1] / (q[0] + 2.0) + (t * v[0]).exp()
        };
        let g = |q: &[EomJet<f64, 2>], v: &[EomJet<f64, 2>], t: EomJet<f64, 2>| {
            (v[0] * q[1]).sin() * v[1] / (q[0] + 2.0) + (t * v[0]).exp()
        };
        let (q, qd, t) = ([0.3, -0.4], [0.7, 0.2], 0.25);
        let fq: Vec<_> = (0..2)
            .map(|k| ForceJet::coordinate(q[k], qd[k], k))
            .collect();
        let fv: Vec<_> = (0..2).map(|k| ForceJet::velocity(qd[k], k)).collect();
        let a = f(&fq, &fv, ForceJet::time(t));
        let b = jet(g, q, qd, t);
        // Identical operations on the shared parts: bitwise equal.
        assert_eq!((a.re, a.v, a.d, a.q, a.vd), (b.re, b.v, b.d, b.q, b.vd));
    }
}
