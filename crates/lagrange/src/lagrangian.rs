//! The [`Lagrangian`] trait: a physical system written once, generic over the scalar.
//!
//! Every derived quantity (equations of motion, mass matrix, momenta, energy, Hamiltonian) is
//! obtained from [`Lagrangian::lagrangian`] by automatic differentiation: the engine calls it with
//! dual numbers from [`num_dual`] in place of `f64`.

use num_dual::DualNum;

/// The scalar bound every Lagrangian is written against.
///
/// `f64` and every (nested) dual number of `num_dual` over `f64` satisfy it. Constants are lifted
/// with `D::from(value)`.
pub trait Scalar: DualNum<Primitive = f64> + Copy {}
impl<D: DualNum<Primitive = f64> + Copy> Scalar for D {}

/// What a Lagrangian declares about itself beyond `L`: read by the engine to choose how to
/// differentiate and solve, and by every wrapper as **one value**, so that a wrapper which
/// forwards [`Lagrangian::structure`] cannot drop a single declaration.
///
/// Build it with the chained setters:
///
/// ```
/// use lagrange::Structure;
/// let s = Structure::new().constant_mass_matrix().local_terms(63);
/// assert!(s.constant_mass_matrix && !s.dissipation && s.local_terms == 63);
/// assert_eq!(Structure::default(), Structure::new()); // nothing declared
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Structure {
    /// `M = ∂²L/∂q̇²` is the same at every `(t, q, q̇)`, as for
    /// `L = ½ q̇ᵀ M q̇ + A(t, q)·q̇ − V(t, q)` with constant `M` (Cartesian particles, springs,
    /// charges in fields). The engine then factors `M` once and differentiates L without the
    /// `q̇q̇` block. A wrong `true` gives wrong accelerations: leave it out when unsure.
    pub constant_mass_matrix: bool,
    /// [`Lagrangian::dissipation`] is non-zero; without this flag it is never called.
    pub dissipation: bool,
    /// [`Lagrangian::add_generalized_forces`] adds something; without this flag it is never
    /// called.
    pub generalized_forces: bool,
    /// `L = Σ_k L_k` is declared as this many local terms ([`Lagrangian::term`]), each touching
    /// few coordinates (chains, lattices, pairwise interactions); `0` means "not declared". For
    /// large `n` the engine then differentiates term by term in O(#terms) and solves with a
    /// banded factorization, and the compiler builds one loop kernel per class of alike terms.
    pub local_terms: usize,
}

impl Structure {
    /// Nothing declared: a general dense Lagrangian without dissipation or extra forces.
    pub const fn new() -> Self {
        Self {
            constant_mass_matrix: false,
            dissipation: false,
            generalized_forces: false,
            local_terms: 0,
        }
    }
    /// Declares a constant mass matrix.
    pub const fn constant_mass_matrix(mut self) -> Self {
        self.constant_mass_matrix = true;
        self
    }
    /// Declares a Rayleigh dissipation function.
    pub const fn dissipation(mut self) -> Self {
        self.dissipation = true;
        self
    }
    /// Declares extra generalized forces.
    pub const fn generalized_forces(mut self) -> Self {
        self.generalized_forces = true;
        self
    }
    /// Declares `L` as a sum of `count` local terms.
    pub const fn local_terms(mut self, count: usize) -> Self {
        self.local_terms = count;
        self
    }
}

/// A mechanical system given by its Lagrangian `L(t, q, q̇)`.
///
/// Implement [`lagrangian`](Lagrangian::lagrangian) once, generically. Everything else is
/// optional and declared in one place, [`structure`](Lagrangian::structure): a Rayleigh
/// dissipation function `F(t, q, q̇)` (generalized force `−∂F/∂q̇`), extra generalized forces,
/// a constant mass matrix, and L as a sum of local terms.
///
/// ```
/// use lagrange::{Lagrangian, Scalar, accelerations};
///
/// /// L = ½ m q̇² − ½ k q²
/// struct Spring { m: f64, k: f64 }
///
/// impl Lagrangian for Spring {
///     fn dof(&self) -> usize { 1 }
///     fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
///         q_dot[0] * q_dot[0] * (0.5 * self.m) - q[0] * q[0] * (0.5 * self.k)
///     }
/// }
///
/// let a = accelerations(&Spring { m: 2.0, k: 8.0 }, 0.0_f64, &[0.5], &[0.0]).unwrap();
/// assert!((a[0] - (-2.0)).abs() < 1e-14); // q̈ = −(k/m) q
/// ```
///
/// **Wrappers** (enums over systems, references, adapters) forward every method with
/// [`forward_lagrangian!`](crate::forward_lagrangian), the one forwarding mechanism of the
/// workspace: a method added to this trait is added there, so no wrapper can lose it.
pub trait Lagrangian {
    /// Number of generalized coordinates `n`.
    fn dof(&self) -> usize;

    /// `L(t, q, q̇)`; `q` and `q_dot` have length [`dof`](Lagrangian::dof).
    fn lagrangian<D: Scalar>(&self, t: D, q: &[D], q_dot: &[D]) -> D;

    /// Everything the Lagrangian declares about itself (see [`Structure`]); the default
    /// declares nothing.
    fn structure(&self) -> Structure {
        Structure::new()
    }

    /// Rayleigh dissipation function `F(t, q, q̇)`; the generalized force is `−∂F/∂q̇`. Called
    /// only when [`Structure::dissipation`] is declared.
    fn dissipation<D: Scalar>(&self, _t: D, _q: &[D], _q_dot: &[D]) -> D {
        D::zero()
    }

    /// Adds extra (non-potential) generalized forces `Q(t, q, q̇)` to `forces`. Called only when
    /// [`Structure::generalized_forces`] is declared.
    ///
    /// Written over the scalar so that learning can nest duals through it.
    fn add_generalized_forces<S: Scalar>(&self, _t: S, _q: &[S], _q_dot: &[S], _forces: &mut [S]) {}

    /// Appends to `coordinates` the (global) indices of the coordinates term `k` depends on
    /// (`k < Structure::local_terms`).
    fn term_coordinates(&self, _k: usize, _coordinates: &mut Vec<usize>) {}

    /// Term `L_k`, evaluated on the *local* coordinates listed by
    /// [`term_coordinates`](Lagrangian::term_coordinates), in that order.
    fn term<D: Scalar>(&self, _k: usize, _t: D, _q: &[D], _q_dot: &[D]) -> D {
        D::zero()
    }
}

/// Implements every method of [`Lagrangian`] by forwarding it to the Lagrangian that does the
/// work: `$via!(self, s => s.method(..))` must bind `s` to it (a `match` over an enum's variants,
/// a field, a dereference). This is the one forwarding mechanism of the workspace: every wrapper
/// uses it, so a declaration can never be dropped on the way.
///
/// ```
/// use lagrange::{Lagrangian, Scalar, forward_lagrangian};
/// use lagrange::systems::Chain;
///
/// /// A named wrapper around a chain.
/// struct Named { name: String, chain: Chain }
/// macro_rules! inner { ($self:ident, $s:ident => $e:expr) => {{ let $s = &$self.chain; $e }}; }
/// impl Lagrangian for Named { forward_lagrangian!(inner); }
///
/// let w = Named { name: "c".into(), chain: Chain::default() };
/// assert_eq!(w.structure(), w.chain.structure()); // constant M and the terms survive
/// ```
#[macro_export]
macro_rules! forward_lagrangian {
    ($via:ident) => {
        fn dof(&self) -> usize {
            $via!(self, s => $crate::Lagrangian::dof(s))
        }
        #[inline]
        fn lagrangian<D: $crate::Scalar>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
            $via!(self, s => $crate::Lagrangian::lagrangian(s, t, q, q_dot))
        }
        fn structure(&self) -> $crate::Structure {
            $via!(self, s => $crate::Lagrangian::structure(s))
        }
        fn dissipation<D: $crate::Scalar>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
            $via!(self, s => $crate::Lagrangian::dissipation(s, t, q, q_dot))
        }
        fn add_generalized_forces<S: $crate::Scalar>(
            &self,
            t: S,
            q: &[S],
            q_dot: &[S],
            forces: &mut [S],
        ) {
            $via!(self, s => $crate::Lagrangian::add_generalized_forces(s, t, q, q_dot, forces))
        }
        fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
            $via!(self, s => $crate::Lagrangian::term_coordinates(s, k, coordinates))
        }
        #[inline]
        fn term<D: $crate::Scalar>(&self, k: usize, t: D, q: &[D], q_dot: &[D]) -> D {
            $via!(self, s => $crate::Lagrangian::term(s, k, t, q, q_dot))
        }
    };
}

/// A Lagrangian evaluated over dual numbers whose inner scalar is `S`.
///
/// This is the form the engine differentiates. Every [`Lagrangian`] is a `LagrangianOver<S>` for
/// every scalar `S`. Learning implements it directly for models whose *parameters* are dual
/// numbers of type `S` (lifted into `D` with [`DualNum::from_re`]), so that the same equations of
/// motion yield exact parameter gradients of q̈.
pub trait LagrangianOver<S: Scalar> {
    /// Number of generalized coordinates `n`.
    fn dof(&self) -> usize;
    /// `L(t, q, q̇)` over a dual number built on `S`.
    fn lagrangian_over<D: Scalar + DualNum<InnerDual = S>>(&self, t: D, q: &[D], q_dot: &[D]) -> D;
    /// See [`Lagrangian::structure`].
    fn structure(&self) -> Structure {
        Structure::new()
    }
    /// Rayleigh dissipation function `F(t, q, q̇)`.
    fn dissipation_over<D: Scalar + DualNum<InnerDual = S>>(
        &self,
        _t: D,
        _q: &[D],
        _q_dot: &[D],
    ) -> D {
        D::zero()
    }
    /// Adds extra generalized forces `Q(t, q, q̇)` to `forces`.
    fn add_generalized_forces_over(&self, _t: S, _q: &[S], _q_dot: &[S], _forces: &mut [S]) {}
    /// See [`Lagrangian::term_coordinates`].
    fn term_coordinates(&self, _k: usize, _coordinates: &mut Vec<usize>) {}
    /// See [`Lagrangian::term`].
    fn term_over<D: Scalar + DualNum<InnerDual = S>>(
        &self,
        _k: usize,
        _t: D,
        _q: &[D],
        _q_dot: &[D],
    ) -> D {
        D::zero()
    }
}

impl<S: Scalar, L: Lagrangian + ?Sized> LagrangianOver<S> for L {
    fn dof(&self) -> usize {
        Lagrangian::dof(self)
    }
    #[inline]
    fn lagrangian_over<D: Scalar + DualNum<InnerDual = S>>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
        self.lagrangian(t, q, q_dot)
    }
    fn structure(&self) -> Structure {
        Lagrangian::structure(self)
    }
    fn dissipation_over<D: Scalar + DualNum<InnerDual = S>>(
        &self,
        t: D,
        q: &[D],
        q_dot: &[D],
    ) -> D {
        self.dissipation(t, q, q_dot)
    }
    fn add_generalized_forces_over(&self, t: S, q: &[S], q_dot: &[S], forces: &mut [S]) {
        self.add_generalized_forces(t, q, q_dot, forces)
    }
    fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
        Lagrangian::term_coordinates(self, k, coordinates)
    }
    #[inline]
    fn term_over<D: Scalar + DualNum<InnerDual = S>>(
        &self,
        k: usize,
        t: D,
        q: &[D],
        q_dot: &[D],
    ) -> D {
        self.term(k, t, q, q_dot)
    }
}

/// Binds `$s` to the Lagrangian behind a reference or box.
macro_rules! deref_lagrangian {
    ($self:ident, $s:ident => $e:expr) => {{
        let $s = &**$self;
        $e
    }};
}

impl<L: Lagrangian + ?Sized> Lagrangian for &L {
    forward_lagrangian!(deref_lagrangian);
}

impl<L: Lagrangian + ?Sized> Lagrangian for Box<L> {
    forward_lagrangian!(deref_lagrangian);
}
