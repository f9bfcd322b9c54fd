//! [`CompiledEquations`]: q̈ = M⁻¹ [∂L/∂q − (∂²L/∂q̇∂q) q̇ − ∂²L/∂q̇∂t − ∂F/∂q̇ + Q] as machine
//! code, built once from a traced Lagrangian.

use crate::codegen::{CodegenError, CompiledFunction, Layout, RawFn};
use crate::diff::{euler_lagrange, gradient};
use crate::graph::{Graph, Id};
use crate::terms::{Mass, Splits, Terms};
use crate::trace::{TraceError, Traced, trace};
use lagrange::mechanics::linalg::{
    SINGULAR_RELATIVE_PIVOT, band_index, band_to_dense, factor_banded_in_place, invert,
    solve_banded_else_dense, solve_banded_factored, solve_dense,
};
use lagrange::mechanics::{AssemblyPath, Evaluator, EvaluatorInfo, MassSolve};
use lagrange::{Lagrangian, MechanicsError};
use std::sync::Arc;
use std::time::Instant;
use thiserror::Error;

/// Why a Lagrangian could not be compiled; the automatic-differentiation evaluator
/// ([`lagrange::mechanics::EquationsOfMotion`]) still works for it.
#[derive(Debug, Error)]
pub enum CompileError {
    /// Tracing failed (the Lagrangian's operations depend on values).
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// The code generator failed.
    #[error(transparent)]
    Codegen(#[from] CodegenError),
    /// The differentiated equations are larger than the compiler accepts.
    #[error(
        "the compiled equations would have {operations} operations, more than the limit of \
         {limit}; use the automatic-differentiation evaluator instead"
    )]
    TooLarge {
        /// Operations the code would have.
        operations: usize,
        /// The most accepted.
        limit: usize,
    },
}

/// How the compiled outputs become q̈.
#[derive(Debug, Clone)]
enum Solve {
    /// M is constant and its inverse is folded into the code: the outputs are q̈.
    Explicit,
    /// M is constant and singular: every evaluation is this error.
    SingularConstant { relative_pivot: f64 },
    /// The outputs are the force (n) then M (n × n, row-major); pivoted LU per call.
    Dense,
    /// The outputs are the force then M's band (`n × (2 bw + 1)`); banded LU per call.
    Banded { bandwidth: usize },
    /// M is constant and banded: its LU factors are kept; the outputs are the force.
    BandedConstant { bandwidth: usize, factors: Vec<f64> },
    /// M is constant, dense and large: its inverse is kept; the outputs are the force.
    DenseInverse { inverse: Vec<f64> },
    /// M is constant and diagonal: the reciprocals of its diagonal are kept.
    DiagonalConstant { inverse: Vec<f64> },
    /// Small n, M varies: the code eliminates without pivoting and writes q̈, then M's
    /// diagonal and the pivots to scratch; where a pivot is not clearly positive, `dense`
    /// (force and M) and the pivoted LU run instead.
    PositivePivots { dense: Arc<CompiledFunction> },
}

/// Up to this n a varying M is solved in the compiled code (see `Solve::PositivePivots`).
pub(crate) const SYMBOLIC_SOLVE: usize = 4;

/// The layout of the EOM code: t, q, q̇ read from the caller's arrays; the first n outputs
/// (force or q̈) written to the caller's `out`, the rest (M, pivots) to scratch.
fn state_layout(n: usize, num_outputs: usize, traced_nodes: usize) -> Layout {
    Layout {
        inputs: std::iter::once((0, 0))
            .chain((0..n).map(|i| (1, i as u32)))
            .chain((0..n).map(|i| (2, i as u32)))
            .collect(),
        outputs: (0..num_outputs)
            .map(|k| {
                if k < n {
                    (0, k as u32)
                } else {
                    (1, (k - n) as u32)
                }
            })
            .collect(),
        check_sum: true,
        defer_below: traced_nodes as Id,
    }
}

/// The right-hand side `f = ∂L/∂q − (∂p/∂q) q̇ − ∂p/∂t − ∂F/∂q̇ + Q` and the mass matrix
/// `M = ∂²L/∂q̇²` (row-major) of `M q̈ = f`, as graph nodes, from the traced L (`l`), Rayleigh
/// function (`dissipation`) and generalized forces (`forces`, one per coordinate) of a graph
/// whose inputs start with `[t, q (n), q̇ (n)]`.
pub(crate) fn force_and_mass(
    g: &mut Graph,
    l: Id,
    dissipation: Option<Id>,
    forces: &[Id],
    n: usize,
) -> (Vec<Id>, Vec<Id>) {
    let (lagrange_force, m) = euler_lagrange(g, l, n);
    let v: Vec<Id> = (0..n).map(|i| g.input(1 + n + i)).collect();
    let df_dv = dissipation.map(|f| gradient(g, f, &v));
    let mut force = Vec::with_capacity(n);
    for (i, &r) in lagrange_force.iter().enumerate() {
        let mut r = r;
        if let Some(df) = &df_dv {
            r = g.sub(r, df[i]);
        }
        if let Some(&q) = forces.get(i) {
            r = g.add(r, q);
        }
        force.push(r);
    }
    (force, m)
}

/// Gaussian elimination of `M x = f` without pivoting, in the graph: `(x, pivots)`.
pub(crate) fn eliminate(g: &mut Graph, m: &[Id], f: &[Id], n: usize) -> (Vec<Id>, Vec<Id>) {
    let mut a = m.to_vec();
    let mut b = f.to_vec();
    let mut pivots = Vec::with_capacity(n);
    let mut inverse = Vec::with_capacity(n);
    for k in 0..n {
        let p = a[k * n + k];
        pivots.push(p);
        let r = g.recip(p);
        inverse.push(r);
        for i in k + 1..n {
            let l = g.mul(a[i * n + k], r);
            for j in k + 1..n {
                let t = g.mul(l, a[k * n + j]);
                a[i * n + j] = g.sub(a[i * n + j], t);
            }
            let t = g.mul(l, b[k]);
            b[i] = g.sub(b[i], t);
        }
    }
    let mut x = vec![0 as Id; n];
    for k in (0..n).rev() {
        let mut s = b[k];
        for j in k + 1..n {
            let t = g.mul(a[k * n + j], x[j]);
            s = g.sub(s, t);
        }
        x[k] = g.mul(s, inverse[k]);
    }
    (x, pivots)
}

/// Whether the pivots (after M's diagonal in `scratch`) are all above the singularity
/// threshold: then M is positive definite, its largest entry is on the diagonal, and the
/// elimination without pivoting was stable.
#[inline]
fn positive_pivots(scratch: &[f64], n: usize) -> bool {
    let (diagonal, pivots) = scratch[..2 * n].split_at(n);
    let scale = diagonal.iter().fold(0.0_f64, |a, &d| a.max(d));
    let floor = SINGULAR_RELATIVE_PIVOT * scale;
    scale.is_finite() && scale > 0.0 && pivots.iter().all(|&p| p > floor)
}

/// What compilation produced, for reports.
#[derive(Debug, Clone)]
pub struct CompileStats {
    /// Nodes recorded while tracing L (with the Rayleigh function and forces).
    pub traced_nodes: usize,
    /// Operations in the compiled code (inputs and constants not counted).
    pub compiled_operations: usize,
    /// How M is handled: `constant, inverse folded into the code`, `dense LU per call`, ...
    pub mass_matrix: &'static str,
    /// Half-bandwidth of M found from its symbolic zero pattern.
    pub bandwidth: usize,
    /// Wall time of tracing, differentiation and code generation.
    pub compile_seconds: f64,
    /// Loop kernels, one per class of alike local terms, when L is declared as a sum of
    /// terms (see [`Structure::local_terms`](lagrange::Structure::local_terms)) and `n` > 8; 0 for straight-line code.
    pub term_kernels: usize,
    /// Coordinates whose force a site kernel computes as a stencil (the interior of the
    /// largest class of terms that sit on a lattice, such as a field's sites or a chain's
    /// springs); 0 where there is none.
    pub site_kernel_sites: usize,
    /// Coordinates where that lattice wraps around (a periodic lattice's seams), whose force
    /// the site kernel's graph computes through a table of their neighbours.
    pub site_kernel_seams: usize,
}

/// The compiled code. (Made once and shared behind an `Arc`: the size difference of the
/// variants costs nothing, and boxing the straight-line function would add a pointer chase to
/// the smallest systems' calls.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Code {
    /// One straight-line function of t, q, q̇.
    Straight(CompiledFunction),
    /// Loop kernels over the declared terms.
    Terms(Terms),
}

#[derive(Debug)]
struct Shared {
    n: usize,
    code: Code,
    solve: Solve,
    stats: CompileStats,
}

/// Equations of motion compiled to machine code: trace L once, differentiate the trace
/// symbolically, fold constants (a constant mass matrix is inverted at compile time), compile
/// with Cranelift.
///
/// Cloning is cheap (the code is shared); each clone has its own scratch buffers, so give each
/// thread its own clone.
///
/// ```
/// use lagrange::systems::DoublePendulum;
/// use lagrange_jit::CompiledEquations;
///
/// let pendulum = DoublePendulum::default();
/// let mut eom = CompiledEquations::new(&pendulum).unwrap();
/// let (q, q_dot) = ([0.3, -0.2], [0.1, 0.4]);
/// let mut compiled = [0.0; 2];
/// eom.accelerations_into(0.0, &q, &q_dot, &mut compiled).unwrap();
/// let mut hand = [0.0; 2];
/// pendulum.hand_accelerations_into(0.0, &q, &q_dot, &mut hand);
/// for (c, h) in compiled.iter().zip(hand) {
///     assert!((c - h).abs() < 1e-12 * h.abs().max(1.0));
/// }
/// ```
#[derive(Debug)]
pub struct CompiledEquations {
    /// Where the whole EOM is one straight-line function returning q̈ (M⁻¹ folded in, one
    /// chunk): its machine code and `n`, kept here so that a call needs no other memory.
    /// The code lives in `shared`, which this struct holds.
    /// With `true`, the code also writes M's diagonal and the pivots of its elimination to
    /// `scratch` (`Solve::PositivePivots`), which are checked after the call.
    fast: Option<(RawFn, usize, bool)>,
    shared: Arc<Shared>,
    /// What the code writes besides the force: M or its band.
    scratch: Vec<f64>,
    /// Values one chunk of the compiled code passes to the next.
    temp: Vec<f64>,
    matrix: Vec<f64>,
    /// The part of M the term kernels add to.
    work: Vec<f64>,
    /// How the term kernels' rows are split across threads (see [`Self::set_threads`]).
    splits: Option<Arc<Splits>>,
    /// Room for the lattice's remaining terms (see [`crate::lattice::Lattice::compute`]).
    lattice_scratch: Vec<f64>,
    /// Whether the term path checks every q̇ for finiteness (see
    /// [`Self::set_velocity_check`]).
    check_velocities: bool,
}

impl Clone for CompiledEquations {
    fn clone(&self) -> Self {
        Self {
            fast: self.fast,
            shared: Arc::clone(&self.shared),
            scratch: self.scratch.clone(),
            temp: self.temp.clone(),
            matrix: self.matrix.clone(),
            work: self.work.clone(),
            splits: self.splits.clone(),
            lattice_scratch: self.lattice_scratch.clone(),
            check_velocities: self.check_velocities,
        }
    }
}

/// Above this size a non-constant M is solved dense unless its band is narrow.
const SMALL: usize = 8;

impl CompiledEquations {
    /// Runs the term kernels on `threads` threads of the current rayon pool (the CLI's
    /// `--threads`). A lattice's site kernel is cut into `threads` contiguous parts, each
    /// with its share of the seams, when its estimated work per call (sites × cost per site)
    /// is at least 4·10⁴ additions (handing out work costs microseconds): each site's force is
    /// computed the same way whatever the split. Every other kernel with at least
    /// [`MIN_PARALLEL_ROWS`](crate::terms::MIN_PARALLEL_ROWS) rows is cut into `2 × threads`
    /// chunks along its table, run in two phases whose chunks touch disjoint coordinates, so
    /// the result is the same as on one thread up to the order of additions. Straight-line
    /// code and smaller kernels stay on the calling thread; `threads ≤ 1` turns it off.
    /// Returns the number of kernels that are split (a lattice's counts as one).
    pub fn set_threads(&mut self, threads: usize) -> usize {
        self.splits = match &self.shared.code {
            Code::Terms(terms) if threads > 1 => {
                let splits = terms.split(threads, self.shared.n);
                (splits.count() > 0).then(|| Arc::new(splits))
            }
            _ => None,
        };
        self.splits.as_ref().map_or(0, |s| s.count())
    }

    /// Whether [`accelerations_into`](Self::accelerations_into) checks that every q̇ is
    /// finite (the default) also where q̈ does not depend on it. Turning it off saves a pass
    /// over q̇ per call on the term-kernel path (a quarter of the time of a large lattice's
    /// stencil, whose memory traffic it adds to); the straight-line code is unaffected. q̈ is
    /// then still checked, with everything it reads: a non-finite q̇ it ignores goes
    /// unreported. The integrators may turn it off, since they check every state they make
    /// (and a q̇ that is not finite shows in the next state), and `lagrange simulate` does.
    pub fn set_velocity_check(&mut self, on: bool) {
        self.check_velocities = on;
    }

    /// Traces, differentiates and compiles the equations of motion of `lagrangian`.
    ///
    /// Where L is declared as a sum of local terms ([`Structure::local_terms`](lagrange::Structure::local_terms)) and `n` > 8,
    /// with no dissipation or generalized forces, each class of alike terms (same operations,
    /// other coordinates and constants) becomes one loop kernel over a table of its terms, so
    /// that code size stays constant and time grows linearly with the number of terms.
    /// Otherwise the whole of L becomes one straight-line function.
    pub fn new<L: Lagrangian + ?Sized>(lagrangian: &L) -> Result<Self, CompileError> {
        let start = Instant::now();
        let n = lagrangian.dof();
        if n > SMALL
            && let Some((terms, mass)) = crate::terms::build(lagrangian, n)?
        {
            return Ok(Self::from_terms(terms, mass, n, start));
        }
        Self::straight_line(lagrangian, start)
    }

    /// [`new`](Self::new) ignoring any declared terms: one straight-line function for all of
    /// L (the reference the term kernels are tested against).
    pub fn new_without_terms<L: Lagrangian + ?Sized>(lagrangian: &L) -> Result<Self, CompileError> {
        Self::straight_line(lagrangian, Instant::now())
    }

    fn from_terms(terms: Terms, mass: Mass, n: usize, start: Instant) -> Self {
        let (solve, label, bandwidth) = match mass {
            Mass::Folded => (
                Solve::Explicit,
                "constant, equal masses folded into the code",
                0,
            ),
            Mass::Constant { entries, bandwidth } => {
                let (solve, label) = constant_mass_solve(&entries, n, bandwidth);
                (solve, label, bandwidth)
            }
            Mass::Banded { bandwidth } => {
                (Solve::Banded { bandwidth }, "banded LU per call", bandwidth)
            }
            Mass::Dense => (Solve::Dense, "dense LU per call", n),
        };
        let stats = CompileStats {
            traced_nodes: 0,
            compiled_operations: terms.operations,
            mass_matrix: label,
            bandwidth,
            compile_seconds: start.elapsed().as_secs_f64(),
            term_kernels: terms.num_kernels(),
            site_kernel_sites: terms.lattice.as_ref().map_or(0, |l| l.sites()),
            site_kernel_seams: terms.lattice.as_ref().map_or(0, |l| l.seams()),
        };
        let work = terms.base_mass.clone();
        let lattice_scratch = vec![0.0; terms.lattice.as_ref().map_or(0, |l| l.scratch_len())];
        Self {
            fast: None,
            shared: Arc::new(Shared {
                n,
                code: Code::Terms(terms),
                solve,
                stats,
            }),
            scratch: Vec::new(),
            temp: Vec::new(),
            matrix: Vec::new(),
            work,
            splits: None,
            lattice_scratch,
            check_velocities: true,
        }
    }

    fn straight_line<L: Lagrangian + ?Sized>(
        lagrangian: &L,
        start: Instant,
    ) -> Result<Self, CompileError> {
        let n = lagrangian.dof();
        let (mut g, (l, f, forces)) = trace(Graph::new(1 + 2 * n), || {
            let t = Traced::from_id(0);
            let q: Vec<Traced> = (0..n).map(|i| Traced::from_id((1 + i) as Id)).collect();
            let v: Vec<Traced> = (0..n).map(|i| Traced::from_id((1 + n + i) as Id)).collect();
            let l = lagrangian.lagrangian(t, &q, &v).id();
            let structure = lagrangian.structure();
            let f = structure
                .dissipation
                .then(|| lagrangian.dissipation(t, &q, &v).id());
            let mut forces = vec![Traced::from(0.0); n];
            if structure.generalized_forces {
                lagrangian.add_generalized_forces(t, &q, &v, &mut forces);
            }
            (l, f, forces.iter().map(|x| x.id()).collect::<Vec<_>>())
        })?;
        let traced_nodes = g.len();
        let (force, m) = force_and_mass(&mut g, l, f, &forces, n);

        let constant: Option<Vec<f64>> = m.iter().map(|&e| g.as_const(e)).collect();
        let bandwidth = (0..n)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .filter(|&(i, j)| g.as_const(m[i * n + j]) != Some(0.0))
            .map(|(i, j)| i.abs_diff(j))
            .max()
            .unwrap_or(0);
        let banded = n > SMALL && 4 * bandwidth < n;
        let (outputs, solve, label): (Vec<Id>, Solve, &'static str) = match constant {
            Some(mc) => {
                let diagonal = bandwidth == 0;
                if n <= SMALL || diagonal {
                    match invert(&mc, n) {
                        Ok(inverse) => {
                            let accel = (0..n)
                                .map(|i| {
                                    let mut acc = g.constant(0.0);
                                    for j in 0..n {
                                        let c = g.constant(inverse[i * n + j]);
                                        let term = g.mul(c, force[j]);
                                        acc = g.add(acc, term);
                                    }
                                    acc
                                })
                                .collect();
                            (
                                accel,
                                Solve::Explicit,
                                "constant, inverse folded into the code",
                            )
                        }
                        Err(relative_pivot) => (
                            force.clone(),
                            Solve::SingularConstant { relative_pivot },
                            "constant and singular",
                        ),
                    }
                } else {
                    let entries: Vec<(usize, usize, f64)> = (0..n * n)
                        .filter(|&e| mc[e] != 0.0)
                        .map(|e| (e / n, e % n, mc[e]))
                        .collect();
                    let (solve, label) = constant_mass_solve(&entries, n, bandwidth);
                    (force.clone(), solve, label)
                }
            }
            None if banded => {
                let w = 2 * bandwidth + 1;
                let zero = g.constant(0.0);
                let mut outputs = force.clone();
                for i in 0..n {
                    for jj in 0..w {
                        let j = (i + jj).checked_sub(bandwidth).filter(|&j| j < n);
                        outputs.push(j.map_or(zero, |j| m[i * n + j]));
                    }
                }
                (outputs, Solve::Banded { bandwidth }, "banded LU per call")
            }
            None if n <= SYMBOLIC_SOLVE => {
                // M = ∂²L/∂q̇² is symmetric; where its pivots without pivoting are positive it
                // is positive definite, and elimination without pivoting is stable: then q̈
                // comes straight out of the code. Otherwise the pivoted LU below takes over.
                let mut dense_outputs = force.clone();
                dense_outputs.extend_from_slice(&m);
                let dense = CompiledFunction::compile_with_layout(
                    &g,
                    &dense_outputs,
                    &state_layout(n, dense_outputs.len(), traced_nodes),
                )?;
                let (accel, pivots) = eliminate(&mut g, &m, &force, n);
                let mut outputs = accel;
                outputs.extend((0..n).map(|i| m[i * n + i]));
                outputs.extend(pivots);
                (
                    outputs,
                    Solve::PositivePivots {
                        dense: Arc::new(dense),
                    },
                    "solved in the code (positive pivots), else dense LU",
                )
            }
            None => {
                let mut outputs = force.clone();
                outputs.extend_from_slice(&m);
                (outputs, Solve::Dense, "dense LU per call")
            }
        };
        let compiled_operations = g.work(&outputs);
        let layout = state_layout(n, outputs.len(), traced_nodes);
        let function = CompiledFunction::compile_with_layout(&g, &outputs, &layout)?;
        let stats = CompileStats {
            traced_nodes,
            compiled_operations,
            mass_matrix: label,
            bandwidth,
            compile_seconds: start.elapsed().as_secs_f64(),
            term_kernels: 0,
            site_kernel_sites: 0,
            site_kernel_seams: 0,
        };
        let num_outputs = outputs.len();
        // the dense fallback of `PositivePivots` runs with the same buffer
        let temp_len = match &solve {
            Solve::PositivePivots { dense } => function.temp_len().max(dense.temp_len()),
            _ => function.temp_len(),
        };
        let fast = match (&solve, function.single_chunk()) {
            (Solve::Explicit, Some(f)) if num_outputs == n => Some((f, n, false)),
            (Solve::PositivePivots { .. }, Some(f)) => Some((f, n, true)),
            _ => None,
        };
        Ok(Self {
            fast,
            shared: Arc::new(Shared {
                n,
                code: Code::Straight(function),
                solve,
                stats,
            }),
            scratch: vec![0.0; num_outputs - n],
            temp: vec![0.0; temp_len],
            matrix: Vec::new(),
            work: Vec::new(),
            splits: None,
            lattice_scratch: Vec::new(),
            check_velocities: true,
        })
    }

    /// Degrees of freedom.
    pub fn dof(&self) -> usize {
        self.shared.n
    }

    /// What compilation produced.
    pub fn stats(&self) -> &CompileStats {
        &self.shared.stats
    }

    /// Writes q̈ at `(t, q, q̇)` into `out`, with the errors of
    /// [`lagrange::mechanics::EquationsOfMotion::accelerations_into`].
    ///
    /// The compiled code reads `t`, `q`, `q̇` in place and writes the force (or q̈, when M⁻¹ is
    /// folded in) straight into `out`; it also returns the sum of everything it read and wrote,
    /// so one finiteness test covers the state and the results (a finer diagnosis runs only
    /// when that sum is not finite).
    #[inline]
    pub fn accelerations_into(
        &mut self,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
        out: &mut [f64],
    ) -> Result<(), MechanicsError> {
        if let Some((f, n, pivots)) = self.fast
            && q.len() == n
            && q_dot.len() == n
            && out.len() == n
        {
            // SAFETY: the code (held alive by `self.shared`) reads t, n values of `q` and
            // `q̇`, writes n values of `out` (lengths checked) and, with pivots, 2n values of
            // `scratch` (sized so by `new`); no values between chunks (one chunk).
            let sum = unsafe {
                f(
                    &t,
                    q.as_ptr(),
                    q_dot.as_ptr(),
                    out.as_mut_ptr(),
                    self.scratch.as_mut_ptr(),
                    std::ptr::NonNull::dangling().as_ptr(),
                )
            };
            if sum.is_finite() && (!pivots || positive_pivots(&self.scratch, n)) {
                return Ok(());
            }
            return self.finish(t, q, q_dot, out, sum);
        }
        self.general(t, q, q_dot, out)
    }

    /// Every case the fast path in `accelerations_into` does not take.
    #[inline(never)]
    fn general(
        &mut self,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
        out: &mut [f64],
    ) -> Result<(), MechanicsError> {
        let shared = &*self.shared;
        let n = shared.n;
        if q.len() != n || q_dot.len() != n || out.len() != n {
            return Err(dimension_error(n, q, q_dot, out));
        }
        let function = match &shared.code {
            Code::Straight(function) => function,
            Code::Terms(terms) => {
                let (work, matrix) = (&mut self.work, &mut self.matrix);
                let splits = self.splits.as_deref();
                let scratch = &mut self.lattice_scratch;
                let check = self.check_velocities;
                return terms_accelerations(
                    shared, terms, splits, work, matrix, scratch, check, t, q, q_dot, out,
                );
            }
        };
        // SAFETY: the layout reads 1 element of the first input array, n of `q` and `q̇`
        // (lengths checked above), writes n to `out` (checked) and the rest to `scratch`,
        // which `new` sized to them.
        let sum = unsafe {
            function.call_split_unchecked(
                [std::slice::from_ref(&t), q, q_dot],
                [out, &mut self.scratch],
                &mut self.temp,
            )
        };
        // the common case stays small enough to inline into the caller; the rest is out of line
        if sum.is_finite() && matches!(shared.solve, Solve::Explicit) {
            return Ok(());
        }
        self.finish(t, q, q_dot, out, sum)
    }

    /// After the straight-line code: the diagnosis of a non-finite check sum, and the solve
    /// with M.
    #[inline(never)]
    fn finish(
        &mut self,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
        out: &mut [f64],
        sum: f64,
    ) -> Result<(), MechanicsError> {
        if let Solve::PositivePivots { dense } = &self.shared.solve {
            let n = self.shared.n;
            if sum.is_finite() && positive_pivots(&self.scratch, n) {
                return Ok(());
            }
            // not (clearly) positive definite, or something not finite: the force and M,
            // diagnosed and solved with the pivoted LU as everywhere else
            self.matrix.resize(n * n, 0.0);
            // SAFETY: `dense` reads t, n values of `q`, `q̇` (checked by the caller) and
            // writes n to `out` and n² to `matrix` (sized here); `new` sized `temp` for both
            // functions.
            let sum = unsafe {
                dense.call_split_unchecked(
                    [std::slice::from_ref(&t), q, q_dot],
                    [out, &mut self.matrix],
                    &mut self.temp,
                )
            };
            if !sum.is_finite() {
                diagnose(t, q, q_dot, out, &self.matrix)?;
            }
            return solve_dense(&mut self.matrix, n, out)
                .map_err(|rel| MechanicsError::failed_solve(t, true, rel));
        }
        if !sum.is_finite() {
            diagnose(t, q, q_dot, out, &self.scratch)?;
        }
        solve_with_mass_matrix(
            &self.shared.solve,
            self.shared.n,
            t,
            &mut self.scratch,
            &mut self.matrix,
            out,
        )
    }
}

/// [`CompiledEquations::accelerations_into`] by the term kernels (lengths checked).
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn terms_accelerations(
    shared: &Shared,
    terms: &Terms,
    splits: Option<&Splits>,
    work: &mut [f64],
    matrix: &mut Vec<f64>,
    scratch: &mut [f64],
    check_velocities: bool,
    t: f64,
    q: &[f64],
    q_dot: &[f64],
    out: &mut [f64],
) -> Result<(), MechanicsError> {
    let n = shared.n;
    // q enters every force the kernels compute, so a non-finite q shows in the force and is
    // diagnosed there; q̇ may not enter at all, so it is checked here (where asked to)
    if !(t.is_finite() && (!check_velocities || all_finite(q_dot))) {
        return Err(MechanicsError::NonFinite { t, what: "state" });
    }
    // Whether the force, q and q̇ are known finite without another pass over them: at 10⁶
    // sites the passes over memory cost as much as the kernels.
    let checked = match &terms.lattice {
        Some(lattice) => {
            let base = (!terms.base_force_zero).then_some(&terms.base_force[..]);
            let split = splits.and_then(|s| s.lattice.as_ref());
            // a finite sum: q and the lattice's force are finite (no pass over either)
            let sum = lattice.compute(t, q, q_dot, base, out, split, scratch);
            sum.is_finite() && terms.kernels_are_empty()
        }
        None => {
            if terms.base_force_zero {
                out.fill(0.0);
            } else {
                out.copy_from_slice(&terms.base_force);
            }
            false
        }
    };
    work.copy_from_slice(&terms.base_mass);
    match splits {
        Some(splits) => terms.add_into_parallel(t, q, q_dot, out, work, &splits.kernels),
        None => terms.add_into(t, q, q_dot, out, work),
    }
    if !checked {
        if !all_finite(out) {
            let what = if all_finite(q) {
                "generalized force"
            } else {
                "state"
            };
            return Err(MechanicsError::NonFinite { t, what });
        }
        // the lattice's check sum covers q also where its force does not read it
        if terms.lattice.is_some() && !all_finite(q) {
            return Err(MechanicsError::NonFinite { t, what: "state" });
        }
    }
    if !all_finite(work) {
        if !all_finite(q) {
            return Err(MechanicsError::NonFinite { t, what: "state" });
        }
        return Err(MechanicsError::failed_solve(t, false, 0.0));
    }
    solve_with_mass_matrix(&shared.solve, n, t, work, matrix, out)
}

/// Whether every value is finite. `x · 0` is 0 for finite `x` and NaN otherwise; eight
/// independent sums of it vectorize (one serial sum would be the latency chain of n
/// additions).
#[inline]
fn all_finite(x: &[f64]) -> bool {
    let mut sums = [0.0; 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (s, v) in sums.iter_mut().zip(chunk) {
            *s += v * 0.0;
        }
    }
    for (s, v) in sums.iter_mut().zip(rest) {
        *s += v * 0.0;
    }
    sums.iter().sum::<f64>() == 0.0
}

/// Turns the force in `out` into q̈ (every way but the folded inverse); `scratch` holds what
/// the code wrote of M, `matrix` is room for a factorization.
#[inline(never)]
fn solve_with_mass_matrix(
    solve: &Solve,
    n: usize,
    t: f64,
    scratch: &mut [f64],
    matrix: &mut Vec<f64>,
    out: &mut [f64],
) -> Result<(), MechanicsError> {
    match solve {
        // q̈ is what the code wrote (PositivePivots: `finish` handles the rest)
        Solve::Explicit | Solve::PositivePivots { .. } => {}
        Solve::SingularConstant { relative_pivot } => {
            return Err(MechanicsError::SingularMassMatrix {
                t,
                relative_pivot: *relative_pivot,
            });
        }
        Solve::DiagonalConstant { inverse } => {
            for (o, d) in out.iter_mut().zip(inverse) {
                *o *= d;
            }
        }
        Solve::DenseInverse { inverse } => {
            matrix.clear();
            matrix.extend_from_slice(out);
            for (i, o) in out.iter_mut().enumerate() {
                *o = inverse[i * n..(i + 1) * n]
                    .iter()
                    .zip(&*matrix)
                    .map(|(a, b)| a * b)
                    .sum();
            }
        }
        Solve::BandedConstant { bandwidth, factors } => {
            solve_banded_factored(factors, n, *bandwidth, out);
        }
        Solve::Dense => {
            solve_dense(scratch, n, out)
                .map_err(|rel| MechanicsError::failed_solve(t, true, rel))?;
        }
        Solve::Banded { bandwidth } => {
            solve_banded_else_dense(scratch, n, *bandwidth, matrix, out)
                .map_err(|rel| MechanicsError::failed_solve(t, true, rel))?;
        }
    }
    Ok(())
}

/// How a constant M given by its entries (repeated positions add up) is solved with when its
/// inverse is not folded into the code: diagonal reciprocals, banded LU factors, or the dense
/// inverse (each with the core's singularity test).
fn constant_mass_solve(
    entries: &[(usize, usize, f64)],
    n: usize,
    bandwidth: usize,
) -> (Solve, &'static str) {
    if bandwidth == 0 {
        let mut diagonal = vec![0.0; n];
        for &(i, _, v) in entries {
            diagonal[i] += v;
        }
        let scale = diagonal.iter().fold(0.0_f64, |a, x| a.max(x.abs()));
        let worst = diagonal
            .iter()
            .map(|d| d.abs())
            .fold(f64::INFINITY, |a, d| if d.is_nan() { d } else { a.min(d) });
        let regular = scale.is_finite() && scale > 0.0 && worst > SINGULAR_RELATIVE_PIVOT * scale;
        if !regular {
            let relative_pivot = if scale > 0.0 && scale.is_finite() && !worst.is_nan() {
                worst / scale
            } else {
                0.0
            };
            return (
                Solve::SingularConstant { relative_pivot },
                "constant and singular",
            );
        }
        let inverse = diagonal.iter().map(|d| 1.0 / d).collect();
        return (Solve::DiagonalConstant { inverse }, "constant, diagonal");
    }
    if 4 * bandwidth < n {
        let mut factors = vec![0.0; n * (2 * bandwidth + 1)];
        for &(i, j, v) in entries {
            factors[band_index(bandwidth, i, j)] += v;
        }
        let band = factors.clone();
        if factor_banded_in_place(&mut factors, n, bandwidth).is_ok() {
            return (
                Solve::BandedConstant { bandwidth, factors },
                "constant, banded LU kept",
            );
        }
        // no pivoting in the band: the inverse, with pivoting
        let mut dense = Vec::new();
        band_to_dense(&band, n, bandwidth, &mut dense);
        return inverse_kept(&dense, n);
    }
    let mut dense = vec![0.0; n * n];
    for &(i, j, v) in entries {
        dense[i * n + j] += v;
    }
    inverse_kept(&dense, n)
}

#[cold]
#[inline(never)]
fn dimension_error(n: usize, q: &[f64], q_dot: &[f64], out: &[f64]) -> MechanicsError {
    let got = [q.len(), q_dot.len(), out.len()]
        .into_iter()
        .find(|&len| len != n)
        .unwrap_or(n);
    MechanicsError::DimensionMismatch { expected: n, got }
}

/// A constant M whose inverse the engine keeps (dense, large), or the singular case.
fn inverse_kept(m: &[f64], n: usize) -> (Solve, &'static str) {
    match invert(m, n) {
        Ok(inverse) => (Solve::DenseInverse { inverse }, "constant, inverse kept"),
        Err(relative_pivot) => (
            Solve::SingularConstant { relative_pivot },
            "constant and singular",
        ),
    }
}

/// Which value was not finite: the state, the force (or q̈) in `out`, or M in `scratch`. A
/// non-finite check sum of finite values (overflow of the sum) is not an error.
#[cold]
#[inline(never)]
fn diagnose(
    t: f64,
    q: &[f64],
    q_dot: &[f64],
    out: &[f64],
    scratch: &[f64],
) -> Result<(), MechanicsError> {
    let finite = |x: &[f64]| x.iter().all(|v| v.is_finite());
    if !t.is_finite() || !finite(q) || !finite(q_dot) {
        return Err(MechanicsError::NonFinite { t, what: "state" });
    }
    if !finite(out) {
        return Err(MechanicsError::NonFinite {
            t,
            what: "generalized force",
        });
    }
    if !finite(scratch) {
        return Err(MechanicsError::failed_solve(t, false, 0.0));
    }
    Ok(())
}

impl CompiledEquations {
    /// Which code runs and how M is solved (what `lagrange simulate --stats` reports).
    pub fn info(&self) -> EvaluatorInfo {
        let shared = &self.shared;
        let band = |bandwidth: usize| {
            if bandwidth == 0 {
                MassSolve::Diagonal
            } else {
                MassSolve::Banded { bandwidth }
            }
        };
        let (constant_mass_matrix, solve) = match &shared.solve {
            // the inverse is folded into the code: a diagonal M stays a diagonal scaling
            Solve::Explicit if shared.stats.bandwidth == 0 => (true, MassSolve::Diagonal),
            Solve::Explicit | Solve::SingularConstant { .. } | Solve::DenseInverse { .. } => {
                (true, MassSolve::Dense)
            }
            Solve::DiagonalConstant { .. } => (true, MassSolve::Diagonal),
            Solve::BandedConstant { bandwidth, .. } => (true, band(*bandwidth)),
            Solve::Banded { bandwidth } => (false, band(*bandwidth)),
            Solve::Dense | Solve::PositivePivots { .. } => (false, MassSolve::Dense),
        };
        let path = match shared.code {
            Code::Straight(_) => AssemblyPath::Dense,
            Code::Terms(_) => AssemblyPath::TermKernels {
                kernels: shared.stats.term_kernels,
                stencil_sites: shared.stats.site_kernel_sites,
                stencil_seams: shared.stats.site_kernel_seams,
            },
        };
        EvaluatorInfo {
            evaluator: Evaluator::Compiled,
            path,
            constant_mass_matrix,
            solve,
        }
    }
}

impl lagrange::mechanics::Accelerations for CompiledEquations {
    fn dof(&self) -> usize {
        self.shared.n
    }

    fn info(&self) -> EvaluatorInfo {
        CompiledEquations::info(self)
    }

    fn threads(&self) -> usize {
        self.splits.as_ref().map_or(1, |s| s.threads)
    }

    fn accelerations_into(
        &mut self,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
        out: &mut [f64],
    ) -> Result<(), MechanicsError> {
        CompiledEquations::accelerations_into(self, t, q, q_dot, out)
    }
}
