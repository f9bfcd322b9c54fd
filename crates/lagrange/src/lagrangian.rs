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

/// A mechanical system given by its Lagrangian `L(t, q, q̇)`.
///
/// Implement [`lagrangian`](Lagrangian::lagrangian) once, generically, and optionally a Rayleigh
/// dissipation function `F(t, q, q̇)` (generalized force `−∂F/∂q̇`) and extra generalized forces.
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
pub trait Lagrangian {
    /// Number of generalized coordinates `n`.
    fn dof(&self) -> usize;

    /// `L(t, q, q̇)`; `q` and `q_dot` have length [`dof`](Lagrangian::dof).
    fn lagrangian<D: Scalar>(&self, t: D, q: &[D], q_dot: &[D]) -> D;

    /// Whether [`dissipation`](Lagrangian::dissipation) is non-zero (skips a pass when not).
    fn has_dissipation(&self) -> bool {
        false
    }

    /// Rayleigh dissipation function `F(t, q, q̇)`; the generalized force is `−∂F/∂q̇`.
    fn dissipation<D: Scalar>(&self, _t: D, _q: &[D], _q_dot: &[D]) -> D {
        D::zero()
    }

    /// Adds extra (non-potential) generalized forces `Q(t, q, q̇)` to `forces`.
    ///
    /// The default adds nothing. Written over the scalar so that learning can nest duals through it.
    fn add_generalized_forces<S: Scalar>(&self, _t: S, _q: &[S], _q_dot: &[S], _forces: &mut [S]) {}

    /// Whether the mass matrix `∂²L/∂q̇²` is the same at every `(t, q, q̇)`, as for
    /// `L = ½ q̇ᵀ M q̇ + A(t, q)·q̇ − V(t, q)` with constant `M` (Cartesian particles, springs,
    /// charges in fields). Declaring it lets [`EquationsOfMotion`](crate::mechanics::EquationsOfMotion)
    /// (used by every integrator) invert `M` once and then differentiate L without the `q̇q̇`
    /// block. A wrong `true` gives wrong accelerations: keep the default `false` when unsure.
    fn mass_matrix_is_constant(&self) -> bool {
        false
    }

    /// Number of local terms when `L = Σ_k L_k` is declared as a sum of terms that each touch
    /// few coordinates (chains, lattices, pairwise interactions); `0` (the default) means "not
    /// declared". For large `n` the engine then differentiates term by term in O(#terms) and
    /// solves with a banded factorization instead of dense O(n²)-per-operation duals.
    fn num_terms(&self) -> usize {
        0
    }

    /// Appends to `coordinates` the (global) indices of the coordinates term `k` depends on.
    fn term_coordinates(&self, _k: usize, _coordinates: &mut Vec<usize>) {}

    /// Term `L_k`, evaluated on the *local* coordinates listed by
    /// [`term_coordinates`](Lagrangian::term_coordinates), in that order.
    fn term<D: Scalar>(&self, _k: usize, _t: D, _q: &[D], _q_dot: &[D]) -> D {
        D::zero()
    }
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
    /// Whether the Rayleigh dissipation function is non-zero.
    fn has_dissipation(&self) -> bool {
        false
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
    /// See [`Lagrangian::mass_matrix_is_constant`].
    fn mass_matrix_is_constant(&self) -> bool {
        false
    }
    /// See [`Lagrangian::num_terms`].
    fn num_terms(&self) -> usize {
        0
    }
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
    fn lagrangian_over<D: Scalar + DualNum<InnerDual = S>>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
        self.lagrangian(t, q, q_dot)
    }
    fn has_dissipation(&self) -> bool {
        Lagrangian::has_dissipation(self)
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
    fn mass_matrix_is_constant(&self) -> bool {
        Lagrangian::mass_matrix_is_constant(self)
    }
    fn num_terms(&self) -> usize {
        Lagrangian::num_terms(self)
    }
    fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
        Lagrangian::term_coordinates(self, k, coordinates)
    }
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

impl<L: Lagrangian + ?Sized> Lagrangian for &L {
    fn dof(&self) -> usize {
        (**self).dof()
    }
    fn lagrangian<D: Scalar>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
        (**self).lagrangian(t, q, q_dot)
    }
    fn has_dissipation(&self) -> bool {
        (**self).has_dissipation()
    }
    fn dissipation<D: Scalar>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
        (**self).dissipation(t, q, q_dot)
    }
    fn add_generalized_forces<S: Scalar>(&self, t: S, q: &[S], q_dot: &[S], forces: &mut [S]) {
        (**self).add_generalized_forces(t, q, q_dot, forces)
    }
    fn mass_matrix_is_constant(&self) -> bool {
        (**self).mass_matrix_is_constant()
    }
    fn num_terms(&self) -> usize {
        (**self).num_terms()
    }
    fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
        (**self).term_coordinates(k, coordinates)
    }
    fn term<D: Scalar>(&self, k: usize, t: D, q: &[D], q_dot: &[D]) -> D {
        (**self).term(k, t, q, q_dot)
    }
}
