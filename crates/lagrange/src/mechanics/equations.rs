//! [`EquationsOfMotion`]: q̈(t, q, q̇) of one Lagrangian, with what can be reused kept between calls.
//!
//! The free functions ([`accelerations_into`](super::accelerations_into) and friends) are
//! stateless. An integrator calls the equations of motion thousands of times for the same
//! system, so when the Lagrangian declares a constant mass matrix
//! ([`Structure::constant_mass_matrix`](crate::Structure::constant_mass_matrix)) this
//! evaluator inverts `M` once, on the first call, and afterwards differentiates L with the
//! smaller [`ForceJet`] (no `q̇q̇` block: O(n) per operation of L instead of O(n²)) and applies
//! the stored inverse.
//!
//! For Lagrangians declared as sums of local terms (`n > 8`) it also keeps the term structure and
//! the band of `M` between calls, and with a constant `M` its banded LU factors, so that each
//! call is one small [`ForceJet`] pass per term plus two banded triangular solves.
//!
//! ```
//! use lagrange::mechanics::EquationsOfMotion;
//! use lagrange::systems::Cyclotron;
//! let c = Cyclotron::default();
//! let mut eom = EquationsOfMotion::new(&c);
//! let mut a = [0.0; 3];
//! eom.accelerations_into(0.0, &[0.0; 3], &[1.0, 0.0, 0.0], &mut a).unwrap();
//! // q̈ = (q/m) q̇ × B with B along z: (0, −qB/m, 0) for q̇ = x̂
//! let w = c.q * c.b / c.m;
//! assert!((a[1] + w).abs() < 1e-14 && a[0].abs() < 1e-14 && a[2] == 0.0);
//! ```

use super::eom::{EomPath, accelerations_with, check_inputs, finish_force};
use super::error::MechanicsError;
use super::evaluator::{AssemblyPath, Evaluator, EvaluatorInfo, MassSolve};
use super::jet::{ForceJet, Jet};
use super::linalg::{factor_banded_in_place, solve_banded_factored, solve_in_place};
use super::quantities::mass_matrix;
use super::structured::{Term, TermLayout, structured_parts};
use crate::lagrangian::LagrangianOver;

/// Largest `n` for which a constant mass matrix is inverted once and reused.
const MAX_CACHED: usize = 8;

/// q̈ of one Lagrangian over `f64`, reusing the inverse of a constant mass matrix.
pub struct EquationsOfMotion<'a, L: ?Sized> {
    lagrangian: &'a L,
    path: EomPath,
    /// `M⁻¹` (row-major) once computed, for Lagrangians declaring a constant `M` with `n ≤ 8`.
    inverse_mass: Option<Vec<f64>>,
    /// Term structure and band storage of a Lagrangian declared as local terms (`n > 8`).
    structured: Option<StructuredCache>,
}

/// What the structured path keeps between calls.
struct StructuredCache {
    /// The terms' coordinates and the band they imply.
    layout: TermLayout,
    /// Half-bandwidth of `M` (from the terms; for a constant `M`, from its entries once known).
    bandwidth: usize,
    /// `n × (2 bw + 1)` band of `M` (its LU factors once factorized).
    band: Vec<f64>,
    /// Whether `band` holds the factors of the constant `M`.
    factored_constant: bool,
    /// The banded solve failed once (pivoting needed): use the general path from then on.
    unsuitable: bool,
}

impl<'a, L: LagrangianOver<f64> + ?Sized> EquationsOfMotion<'a, L> {
    /// Equations of motion of `lagrangian` with the automatic [`EomPath`].
    pub fn new(lagrangian: &'a L) -> Self {
        Self {
            lagrangian,
            path: EomPath::Auto,
            inverse_mass: None,
            structured: None,
        }
    }

    /// Forces an assembly path (the constant-mass shortcut applies only to [`EomPath::Auto`]).
    pub fn with_path(mut self, path: EomPath) -> Self {
        self.path = path;
        self
    }

    /// The Lagrangian.
    pub fn lagrangian(&self) -> &'a L {
        self.lagrangian
    }

    /// Writes q̈ at `(t, q, q̇)` into `out`.
    pub fn accelerations_into(
        &mut self,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
        out: &mut [f64],
    ) -> Result<(), MechanicsError> {
        let n = q.len();
        if self.path == EomPath::Auto
            && n > MAX_CACHED
            && self.lagrangian.structure().local_terms > 0
        {
            return self.structured_accelerations(t, q, q_dot, out);
        }
        if self.path != EomPath::Auto
            || n > MAX_CACHED
            || !self.lagrangian.structure().constant_mass_matrix
        {
            return accelerations_with(self.path, self.lagrangian, t, q, q_dot, out);
        }
        check_inputs(self.lagrangian, t, q, q_dot, out)?;
        if self.inverse_mass.is_none() {
            self.inverse_mass = Some(invert_mass_matrix(self.lagrangian, t, q, q_dot)?);
        }
        let inverse = self.inverse_mass.as_deref().unwrap_or_default();
        match n {
            1 => constant_mass_accelerations::<L, 1>(self.lagrangian, inverse, t, q, q_dot, out),
            2 => constant_mass_accelerations::<L, 2>(self.lagrangian, inverse, t, q, q_dot, out),
            3 => constant_mass_accelerations::<L, 3>(self.lagrangian, inverse, t, q, q_dot, out),
            4 => constant_mass_accelerations::<L, 4>(self.lagrangian, inverse, t, q, q_dot, out),
            5 => constant_mass_accelerations::<L, 5>(self.lagrangian, inverse, t, q, q_dot, out),
            6 => constant_mass_accelerations::<L, 6>(self.lagrangian, inverse, t, q, q_dot, out),
            7 => constant_mass_accelerations::<L, 7>(self.lagrangian, inverse, t, q, q_dot, out),
            _ => constant_mass_accelerations::<L, 8>(self.lagrangian, inverse, t, q, q_dot, out),
        }
    }

    /// Term by term into a band kept between calls; with a constant `M`, its banded LU is kept
    /// too and each call differentiates the terms with [`ForceJet`]s only.
    fn structured_accelerations(
        &mut self,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
        out: &mut [f64],
    ) -> Result<(), MechanicsError> {
        let lagrangian = self.lagrangian;
        let n = check_inputs(lagrangian, t, q, q_dot, out)?;
        let constant = lagrangian.structure().constant_mass_matrix;
        let cache = self
            .structured
            .get_or_insert_with(|| StructuredCache::new(lagrangian, n, constant));
        if cache.unsuitable {
            return accelerations_with(EomPath::Auto, lagrangian, t, q, q_dot, out);
        }
        if constant && !cache.factored_constant {
            // The band of a constant M comes from its actual entries, not from the terms'
            // coordinates: pairwise forces couple every coordinate, yet M is diagonal.
            let parts = structured_parts(lagrangian, t, q, q_dot);
            if parts.mass_triplets.iter().any(|(_, _, x)| !x.is_finite()) {
                return Err(MechanicsError::NonFinite {
                    t,
                    what: "mass matrix",
                });
            }
            let bw = parts.mass_bandwidth();
            let wide = bw > n / 8;
            let mut band = if wide {
                Vec::new()
            } else {
                parts.mass_band(bw)
            };
            if wide || factor_banded_in_place(&mut band, n, bw).is_err() {
                // Wide, singular, or needs pivoting: the general path decides, with its error.
                cache.unsuitable = true;
                return accelerations_with(EomPath::Auto, lagrangian, t, q, q_dot, out);
            }
            cache.bandwidth = bw;
            cache.band = band;
            cache.factored_constant = true;
        }
        let w = 2 * cache.bandwidth + 1;
        out.fill(0.0);
        if constant {
            cache.add_terms::<L, false>(lagrangian, t, q, q_dot, out);
        } else {
            cache.band.fill(0.0);
            cache.add_terms::<L, true>(lagrangian, t, q, q_dot, out);
        }
        finish_force(lagrangian, t, q, q_dot, out)?;
        if !constant
            && (cache.band.iter().any(|x| !x.is_finite())
                || factor_banded_in_place(&mut cache.band, n, cache.bandwidth).is_err())
        {
            return accelerations_with(EomPath::Auto, lagrangian, t, q, q_dot, out);
        }
        debug_assert_eq!(cache.band.len(), n * w);
        solve_banded_factored(&cache.band, n, cache.bandwidth, out);
        Ok(())
    }

    /// Which assembly and solve the calls take (exact after the first call; the planned path
    /// before it). See [`EvaluatorInfo`].
    pub fn info(&self) -> EvaluatorInfo {
        let n = self.lagrangian.dof();
        let structure = self.lagrangian.structure();
        let dense = |constant: bool, solve: MassSolve| EvaluatorInfo {
            evaluator: Evaluator::Autodiff,
            path: AssemblyPath::Dense,
            constant_mass_matrix: constant,
            solve,
        };
        let band_solve = |bandwidth: usize| {
            if bandwidth == 0 {
                MassSolve::Diagonal
            } else {
                MassSolve::Banded { bandwidth }
            }
        };
        let structured = structure.local_terms > 0
            && match self.path {
                EomPath::Auto => n > MAX_CACHED,
                EomPath::Structured => true,
                EomPath::Dense => false,
            };
        if structured {
            let constant = structure.constant_mass_matrix && self.path == EomPath::Auto;
            let (unsuitable, bandwidth) = match &self.structured {
                Some(cache) => (cache.unsuitable, cache.bandwidth),
                None => {
                    let layout = TermLayout::new(self.lagrangian, n);
                    (
                        StructuredCache::unsuitable(&layout, n, constant),
                        layout.bandwidth,
                    )
                }
            };
            if unsuitable {
                return dense(false, MassSolve::Dense);
            }
            return EvaluatorInfo {
                evaluator: Evaluator::Autodiff,
                path: AssemblyPath::Structured,
                constant_mass_matrix: constant,
                solve: band_solve(bandwidth),
            };
        }
        if self.path == EomPath::Auto && n <= MAX_CACHED && structure.constant_mass_matrix {
            let diagonal = self.inverse_mass.as_ref().is_some_and(|inverse| {
                (0..n).all(|i| (0..n).all(|j| i == j || inverse[i * n + j] == 0.0))
            });
            let solve = if diagonal {
                MassSolve::Diagonal
            } else {
                MassSolve::Dense
            };
            return dense(true, solve);
        }
        dense(false, MassSolve::Dense)
    }

    /// The first-order system `y = (q, q̇) ↦ (q̇, q̈)` integrators step.
    pub fn first_order_rhs(
        &mut self,
        t: f64,
        y: &[f64],
        dy: &mut [f64],
    ) -> Result<(), MechanicsError> {
        super::Accelerations::first_order_rhs(self, t, y, dy)
    }
}

impl StructuredCache {
    /// Whether the term path cannot serve: a term too large for the stack kernels, a coordinate
    /// out of range, or (for a varying `M`) a band so wide that dense LU with pivoting is no
    /// more expensive. (A constant M gets its band from its entries on the first call instead.)
    fn unsuitable(layout: &TermLayout, n: usize, constant: bool) -> bool {
        layout.widest > MAX_CACHED || !layout.in_range || (!constant && layout.bandwidth > n / 8)
    }

    /// The term structure; for a non-constant `M` also its band (from the terms' coordinates).
    fn new<L: LagrangianOver<f64> + ?Sized>(lagrangian: &L, n: usize, constant: bool) -> Self {
        let layout = TermLayout::new(lagrangian, n);
        let unsuitable = Self::unsuitable(&layout, n, constant);
        let bandwidth = layout.bandwidth;
        let band = if unsuitable || constant {
            Vec::new()
        } else {
            vec![0.0; n * (2 * bandwidth + 1)]
        };
        Self {
            layout,
            bandwidth,
            band,
            factored_constant: false,
            unsuitable,
        }
    }

    /// Adds every term's `∂L/∂q − ∂_v(∂L/∂q̇)` to `force` and, when `MASS`, its `∂²L/∂q̇²` to the band.
    fn add_terms<L: LagrangianOver<f64> + ?Sized, const MASS: bool>(
        &mut self,
        lagrangian: &L,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
        force: &mut [f64],
    ) {
        for k in 0..self.layout.len() {
            let coords = self.layout.term(k);
            let term = Term {
                lagrangian,
                k,
                dof: coords.len(),
            };
            let band = &mut self.band;
            let bw = self.bandwidth;
            macro_rules! pass {
                ($($b:literal),*) => {
                    match coords.len() {
                        $($b => if MASS {
                            term_pass::<L, $b, $b>(&term, t, q, q_dot, coords, force, band, bw)
                        } else {
                            term_pass::<L, $b, 0>(&term, t, q, q_dot, coords, force, band, bw)
                        },)*
                        _ => {}
                    }
                };
            }
            pass!(1, 2, 3, 4, 5, 6, 7, 8);
        }
    }
}

/// One term on its own coordinates: force into `force`, `M` entries (when `V > 0`) into `band`.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn term_pass<L: LagrangianOver<f64> + ?Sized, const N: usize, const V: usize>(
    term: &Term<'_, L>,
    t: f64,
    q: &[f64],
    q_dot: &[f64],
    coords: &[usize],
    force: &mut [f64],
    band: &mut [f64],
    bw: usize,
) {
    let mut qj = [Jet::<f64, N, V>::constant(0.0); N];
    let mut qdj = qj;
    for (i, &c) in coords.iter().enumerate().take(N) {
        qj[i] = Jet::coordinate(q[c], q_dot[c], i);
        qdj[i] = Jet::velocity(q_dot[c], i);
    }
    let l = term.lagrangian_over(Jet::time(t), &qj, &qdj);
    let w = 2 * bw + 1;
    for (i, &ci) in coords.iter().enumerate().take(N) {
        force[ci] += l.q[i] - l.vd[i];
        for (j, &cj) in coords.iter().enumerate().take(V) {
            let m = if j >= i { l.vv[i][j] } else { l.vv[j][i] };
            band[ci * w + (cj + bw - ci)] += m;
        }
    }
}

/// `M⁻¹` from `M` at one state, with the engine's singularity test.
fn invert_mass_matrix<L: LagrangianOver<f64> + ?Sized>(
    lagrangian: &L,
    t: f64,
    q: &[f64],
    q_dot: &[f64],
) -> Result<Vec<f64>, MechanicsError> {
    let n = q.len();
    let m = mass_matrix(lagrangian, t, q, q_dot)?;
    let mut inverse = vec![0.0; n * n];
    let mut column = vec![0.0; n];
    for j in 0..n {
        column.fill(0.0);
        column[j] = 1.0;
        let mut lu = m.clone();
        solve_in_place(&mut lu, n, &mut column).map_err(|relative_pivot| {
            if m.iter().all(|x| x.is_finite()) {
                MechanicsError::SingularMassMatrix { t, relative_pivot }
            } else {
                MechanicsError::NonFinite {
                    t,
                    what: "mass matrix",
                }
            }
        })?;
        for i in 0..n {
            inverse[i * n + j] = column[i];
        }
    }
    Ok(inverse)
}

/// q̈ = M⁻¹ (∂L/∂q − ∂_v(∂L/∂q̇) − ∂F/∂q̇ + Q) with one [`ForceJet`] pass.
#[inline(never)]
fn constant_mass_accelerations<L: LagrangianOver<f64> + ?Sized, const N: usize>(
    lagrangian: &L,
    inverse_mass: &[f64],
    t: f64,
    q: &[f64],
    q_dot: &[f64],
    out: &mut [f64],
) -> Result<(), MechanicsError> {
    let mut qj = [ForceJet::<f64, N>::constant(0.0); N];
    let mut qdj = qj;
    for k in 0..N {
        qj[k] = ForceJet::coordinate(q[k], q_dot[k], k);
        qdj[k] = ForceJet::velocity(q_dot[k], k);
    }
    let l = lagrangian.lagrangian_over(ForceJet::time(t), &qj, &qdj);
    let mut force: [f64; N] = std::array::from_fn(|i| l.q[i] - l.vd[i]);
    finish_force(lagrangian, t, q, q_dot, &mut force)?;
    for (i, o) in out.iter_mut().enumerate().take(N) {
        let row = &inverse_mass[i * N..(i + 1) * N];
        *o = row.iter().zip(&force).map(|(a, f)| a * f).sum();
    }
    Ok(())
}
