//! [`ParametricEquations`]: the compiled equations of motion of a Lagrangian with parameters
//! θ kept as runtime inputs, with their exact parameter derivatives compiled too.
//!
//! Learning evaluates q̈(θ; q, q̇) at thousands of samples for each of thousands of θ. Folding θ
//! into constants (as [`CompiledEquations`](crate::CompiledEquations) does for a fixed system)
//! would mean one compilation per θ; here θ are inputs of the traced graph, so one compilation
//! serves a whole optimizer run, landscape grid or noise sweep. Whatever does not depend on a
//! free parameter still folds (a mass matrix that depends on neither the state nor θ is
//! eliminated at compile time).
//!
//! **Parameter derivatives on the graph.** From `M(θ, q, q̇) q̈ = f(θ, q, q̇)`, at fixed state,
//! `∂q̈/∂θₖ = M⁻¹ (∂f/∂θₖ − (∂M/∂θₖ) q̈)`. The derivatives of `f` and `M` are taken on the graph,
//! forward (one sweep per parameter) or reverse (one sweep per entry of `f` and `M`), whichever
//! makes fewer sweeps. The gradient of a sample's loss `ε = Σᵢ (q̈ᵢ − q̈ᵢ_obs)²`, what Adam needs,
//! is one reverse sweep through the whole graph, the solve included, whatever the number of
//! parameters.
//!
//! **Solving with M.** Up to four coordinates, `M x = f` is eliminated in the code without
//! pivoting (one factorization shared by q̈ and all its derivatives, thanks to the graph's
//! common-subexpression elimination). The result is accepted only where every pivot is
//! positive with a margin of 1000 over the engine's singularity threshold (M is then positive
//! definite and the elimination stable). Otherwise (more coordinates, or a refused elimination:
//! learned models may well have an indefinite M) a second function writes `f`, `M` and their
//! derivatives, and the host solves with the engine's LU and singularity test, one
//! factorization per sample for q̈ and every column of its Jacobian. The host keeps M as a
//! band where it is narrow (half-bandwidth b, 4 b < n: LU without pivoting, dense with pivoting
//! where a pivot fails), dense otherwise. Where M depends on θ alone (not on t, q, q̇), M and
//! `∂M/∂θ` are evaluated and factorized once per [`set_parameters`](ParametricEquations::set_parameters)
//! and the per-sample code leaves them out.
//! **Every sample neither accepts** (a singular M, anything not finite) is left to the caller,
//! whose reference path (the automatic differentiation of the core) then decides between a
//! value, a singular mass matrix and a non-finite error: the classification of
//! samples is the reference's own.
//!
//! **Term kernels.** A model that declares local terms ([`ParametricLagrangian::num_terms`])
//! compiles, from [`MIN_TERM_COORDINATES`] on (see [`TermKernels`]), to one loop kernel per
//! class of alike terms instead of straight-line code (`parametric_terms.rs`): the kernels add
//! each term's local force, mass block and their θ-derivatives into the same arrays the host's
//! LU reads, so everything after them is shared.
//!
//! **Batches.** The in-code functions are loops over a block of samples, two per iteration in
//! `f64x2` lanes (`batch.rs`), with the acceptance test inside the loop: one call per
//! block ([`accelerations_batch`](ParametricEquations::accelerations_batch) and its siblings).
//! The single-sample methods run a batch of one.

use crate::batch::{Accept, BatchFunction, BatchInput, BatchLayout, LANES};
use crate::codegen::{CompiledFunction, Layout};
use crate::diff::{directional, gradient};
use crate::equations::{CompileError, SYMBOLIC_SOLVE, eliminate, force_and_mass};
use crate::graph::{Graph, Id};
use crate::parametric_terms::{self, Kind, TermCode, TermState};
use crate::trace::{Traced, trace};
use lagrange::mechanics::linalg::{
    SINGULAR_RELATIVE_PIVOT, band_index, band_to_dense, factor_banded_in_place, factor_in_place,
    solve_banded_factored, solve_factored,
};
use std::sync::Arc;
use std::time::Instant;

/// A Lagrangian `L(θ; t, q, q̇)` (and Rayleigh function `F(θ; t, q, q̇)`) written over the
/// recording scalar [`Traced`], for [`ParametricEquations`].
///
/// Implement it by calling generic code with `Traced` for both the parameter scalar and the
/// state scalar; lift the parameters into the state scalar with `DualNum::from_re` (for `Traced`
/// the identity) and fixed numbers with `From<f64>` (constants, which fold).
pub trait ParametricLagrangian {
    /// Number of generalized coordinates.
    fn dof(&self) -> usize;
    /// Number of parameters θ.
    fn num_parameters(&self) -> usize;
    /// Whether [`dissipation`](Self::dissipation) is not identically zero.
    fn has_dissipation(&self) -> bool {
        false
    }
    /// `L(θ; t, q, q̇)`.
    fn lagrangian(&self, theta: &[Traced], t: Traced, q: &[Traced], q_dot: &[Traced]) -> Traced;
    /// The Rayleigh function `F(θ; t, q, q̇)` (generalized force `−∂F/∂q̇`).
    fn dissipation(
        &self,
        _theta: &[Traced],
        _t: Traced,
        _q: &[Traced],
        _q_dot: &[Traced],
    ) -> Traced {
        Traced::from(0.0)
    }
    /// Number of local terms `L = Σₖ L_k`, each reading only its own coordinates (0: not
    /// declared). Declared terms let a large model compile to loop kernels (see
    /// [`TermKernels`]).
    fn num_terms(&self) -> usize {
        0
    }
    /// Appends the coordinates of term `k`, in the order [`term`](Self::term) takes them.
    fn term_coordinates(&self, _k: usize, _coordinates: &mut Vec<usize>) {}
    /// Term `L_k(θ; t, q, q̇)` on its own coordinates (`q` and `q_dot` have one value per
    /// coordinate of [`term_coordinates`](Self::term_coordinates)).
    fn term(
        &self,
        _k: usize,
        _theta: &[Traced],
        _t: Traced,
        _q: &[Traced],
        _q_dot: &[Traced],
    ) -> Traced {
        Traced::from(0.0)
    }
}

/// Whether a model declared as local terms ([`ParametricLagrangian::num_terms`]) compiles to
/// loop kernels, one per class of alike terms, or to straight-line code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermKernels {
    /// Kernels from [`MIN_TERM_COORDINATES`] coordinates on, straight-line code below.
    Auto,
    /// Straight-line code always.
    Never,
    /// Kernels wherever terms are declared (and there is no Rayleigh function).
    Always,
}

/// From this many coordinates on, `TermKernels::Auto` compiles declared terms to kernels.
/// Below, the straight-line code is faster per sample (it shares subexpressions between
/// neighbouring terms and stores each result once, where kernels add through index tables:
/// FPU-β chains of 16 and 64 masses ran an Adam step 1.8× and 2.0× faster straight); from 256
/// masses on the two run alike and the straight-line code's compile time and size keep growing
/// with the terms (0.12 s at 256 masses against 0.002 s). Measured with `lagrange bench
/// --learn` (`bench/README.md`).
pub const MIN_TERM_COORDINATES: usize = 256;

/// How the parameter derivatives of `f` and `M` are taken on the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DerivativeMode {
    /// Forward when there are no more parameters than entries of `f` and `M`'s upper triangle,
    /// reverse otherwise (fewer sweeps).
    Auto,
    /// One forward sweep per parameter.
    Forward,
    /// One reverse sweep per entry of `f` and of `M`'s upper triangle.
    Reverse,
}

/// What to compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParametricOptions {
    /// Compile the parameter Jacobian of q̈ and the loss gradient too (an optimizer needs them; a
    /// loss landscape does not).
    pub derivatives: bool,
    /// How the derivatives are taken (results agree to rounding; a choice for speed and tests).
    pub mode: DerivativeMode,
    /// Whether declared terms compile to loop kernels.
    pub term_kernels: TermKernels,
}

impl Default for ParametricOptions {
    fn default() -> Self {
        Self {
            derivatives: true,
            mode: DerivativeMode::Auto,
            term_kernels: TermKernels::Auto,
        }
    }
}

/// What compilation produced, for reports.
#[derive(Debug, Clone)]
pub struct ParametricStats {
    /// Number of parameters kept as inputs.
    pub parameters: usize,
    /// Nodes recorded while tracing L (and the Rayleigh function).
    pub traced_nodes: usize,
    /// Operations of the code for q̈ alone.
    pub compiled_operations: usize,
    /// Operations of the codes for q̈ with its parameter Jacobian and for the loss gradient (0
    /// when derivatives were not asked for).
    pub derivative_operations: usize,
    /// How M is handled.
    pub mass_matrix: String,
    /// Loop kernels compiled for declared terms (0: straight-line code).
    pub term_kernels: usize,
    /// `"forward"` or `"reverse"`: how the parameter derivatives were taken (`"none"` without;
    /// `"forward and reverse"` where term kernels took each class its own way).
    pub derivatives: &'static str,
    /// Wall time of tracing, differentiation and code generation.
    pub compile_seconds: f64,
}

/// The most operations accepted in one compiled function of a parametric model: beyond this,
/// Cranelift's compile time (linear in chunks, but large) outweighs a learning run.
pub const MAX_OPERATIONS: usize = 200_000;

/// In-code eliminations are accepted only with pivots this far above zero, relative to M's
/// largest diagonal entry: 1000 times the engine's singularity threshold, so that a sample the
/// pivoted LU of the reference would call singular never passes here.
const ACCEPT_PIVOT: f64 = 1e3 * SINGULAR_RELATIVE_PIVOT;

/// One compiled function and how many values it writes to each output array.
#[derive(Debug)]
struct Function {
    code: CompiledFunction,
    /// Values written to the caller's output array (array 0).
    out: usize,
    /// Values written to scratch (array 1).
    scratch: usize,
}

/// One in-code function: a [`BatchFunction`] whose output record is `[front (the results), M's
/// diagonal (n), the pivots (n), the check sum]`.
#[derive(Debug)]
struct InCodeFunction {
    code: BatchFunction,
    front: usize,
}

/// The in-code solve (n ≤ 4), as loops over pairs of samples in `f64x2` lanes: q̈, with its
/// Jacobian, with the loss gradient.
#[derive(Debug)]
struct InCode {
    values: InCodeFunction,
    jacobian: Option<InCodeFunction>,
    gradient: Option<InCodeFunction>,
}

/// How the host stores M (and each `∂M/∂θₖ`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Storage {
    /// `n × n`, row-major.
    Dense,
    /// The band `n × (2 bw + 1)` (see [`band_index`]); factorized without pivoting, dense with
    /// pivoting where a pivot fails.
    Banded { bandwidth: usize },
}

impl Storage {
    pub(crate) fn len(self, n: usize) -> usize {
        match self {
            Storage::Dense => n * n,
            Storage::Banded { bandwidth } => n * (2 * bandwidth + 1),
        }
    }

    /// `Σⱼ Mᵢⱼ xⱼ` for `M` in this storage.
    fn row_times(self, n: usize, m: &[f64], i: usize, x: &[f64]) -> f64 {
        match self {
            Storage::Dense => m[i * n..(i + 1) * n]
                .iter()
                .zip(x)
                .map(|(a, b)| a * b)
                .sum(),
            Storage::Banded { bandwidth } => (i.saturating_sub(bandwidth)
                ..(i + bandwidth + 1).min(n))
                .map(|j| m[band_index(bandwidth, i, j)] * x[j])
                .sum(),
        }
    }
}

/// How the host's last factorization came out (its factors are in `matrix`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Factored {
    Banded,
    Dense,
    /// Singular by the engine's test, or not finite: the sample is not decided here.
    Failed,
}

/// The host's solve with M (every n > 4, and the samples the in-code elimination refuses).
#[derive(Debug)]
struct Host {
    storage: Storage,
    /// Whether M depends on θ alone (not on t, q, q̇): then M and `∂M/∂θ` are evaluated and
    /// factorized once per [`set_parameters`](ParametricEquations::set_parameters), and the
    /// per-sample code leaves them out.
    mass_per_parameters: bool,
}

/// The code that writes `f`, M and their derivatives for the host's LU, into the work array
/// `[out (f, ∂f/∂θ) | scratch (M, ∂M/∂θ)]`.
#[derive(Debug)]
// one per compiled model, behind an `Arc`: the variants' sizes do not matter
#[allow(clippy::large_enum_variant)]
enum Code {
    /// Straight-line functions of the whole model.
    Straight {
        /// `f` (out) and, unless M depends on θ alone, `M` (scratch).
        values: Function,
        /// `f`, `∂f/∂θ` (out) and, unless M depends on θ alone, `M`, `∂M/∂θ` (scratch).
        jacobian: Option<Function>,
        /// Where M depends on θ alone: M and `∂M/∂θ` (out, in the host's storage).
        per_parameters: Option<Function>,
    },
    /// Loop kernels over the declared terms (`parametric_terms`).
    Terms(TermCode),
}

#[derive(Debug)]
struct Shared {
    n: usize,
    p: usize,
    /// Tried first where present (n ≤ 4, straight-line code).
    in_code: Option<InCode>,
    host: Host,
    code: Code,
    /// Where scratch starts in the work array.
    out_len: usize,
    stats: ParametricStats,
}

/// The compiled equations of motion of a [`ParametricLagrangian`], with θ as runtime inputs.
///
/// Every per-sample method returns `true` when it wrote its results, and `false` when this
/// path does not decide the sample (see the module documentation): then the caller's reference
/// path must evaluate it. Cloning is cheap (the code is shared); give each thread its own clone.
///
/// ```
/// use lagrange_jit::{ParametricEquations, ParametricLagrangian, ParametricOptions, Traced};
///
/// /// L = ½ m ẋ² − ½ k x², θ = (m, k).
/// struct Oscillator;
/// impl ParametricLagrangian for Oscillator {
///     fn dof(&self) -> usize { 1 }
///     fn num_parameters(&self) -> usize { 2 }
///     fn lagrangian(&self, th: &[Traced], _t: Traced, q: &[Traced], v: &[Traced]) -> Traced {
///         th[0] * v[0] * v[0] * 0.5 - th[1] * q[0] * q[0] * 0.5
///     }
/// }
///
/// let mut eom = ParametricEquations::new(&Oscillator, ParametricOptions::default()).unwrap();
/// eom.set_parameters(&[2.0, 8.0]);
/// let (mut acc, mut jac) = ([0.0], [0.0; 2]);
/// assert!(eom.jacobian_into(0.0, &[0.5], &[0.0], &mut acc, &mut jac));
/// // ẍ = −(k/m) x, ∂ẍ/∂m = (k/m²) x, ∂ẍ/∂k = −x/m
/// assert!((acc[0] + 2.0).abs() < 1e-15);
/// assert!((jac[0] - 1.0).abs() < 1e-15 && (jac[1] + 0.25).abs() < 1e-15);
/// ```
#[derive(Debug)]
pub struct ParametricEquations {
    shared: Arc<Shared>,
    /// Input array 0: `[t, θ (P), observed q̈ (n)]`.
    uniform: Vec<f64>,
    /// `[out | scratch]`: what the straight-line functions or the term kernels write.
    work: Vec<f64>,
    temp: Vec<f64>,
    /// The term kernels' rows with θ, and their base at θ.
    terms: TermState,
    /// The host's factors of M (see `factored`), with the row swaps of a dense factorization.
    matrix: Vec<f64>,
    pivots: Vec<usize>,
    factored: Factored,
    /// Where M depends on θ alone: M and `∂M/∂θ` at the current θ (host storage).
    parameter_mass: Vec<f64>,
    /// Results of the host path of `loss_gradient_batch`: `[ε | gradient (P)]`.
    spare: Vec<f64>,
    /// Right-hand sides of the host's solves for the Jacobian.
    rhs: Vec<f64>,
    /// The batch functions' arrays: θ, the packed sample records, their output records, temp.
    theta: Vec<f64>,
    records: Vec<f64>,
    lane_out: Vec<f64>,
    lane_temp: Vec<f64>,
    /// One sample's results from the host path.
    sample_out: Vec<f64>,
}

/// One sample for the batch methods: `observed` (q̈ of the data) is read by
/// [`ParametricEquations::loss_gradient_batch`] only, and may be empty elsewhere.
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    /// Time.
    pub t: f64,
    /// Positions (n).
    pub q: &'a [f64],
    /// Velocities (n).
    pub q_dot: &'a [f64],
    /// Observed accelerations (n, or empty where not used).
    pub observed: &'a [f64],
}

impl Clone for ParametricEquations {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            uniform: self.uniform.clone(),
            work: self.work.clone(),
            temp: self.temp.clone(),
            terms: self.terms.clone(),
            matrix: self.matrix.clone(),
            pivots: self.pivots.clone(),
            factored: self.factored,
            parameter_mass: self.parameter_mass.clone(),
            spare: Vec::new(),
            rhs: Vec::new(),
            theta: self.theta.clone(),
            records: Vec::new(),
            lane_out: Vec::new(),
            lane_temp: Vec::new(),
            sample_out: Vec::new(),
        }
    }
}

/// Graph inputs `[t, q (n), q̇ (n), θ (P), obs (n)]` placed as: t and θ and obs in input array 0
/// (`[t, θ, obs]`), q in array 1, q̇ in array 2; the first `out` outputs to array 0, the rest
/// to array 1.
fn layout(n: usize, p: usize, out: usize, total: usize, traced_nodes: usize) -> Layout {
    Layout {
        inputs: std::iter::once((0, 0))
            .chain((0..n).map(|i| (1, i as u32)))
            .chain((0..n).map(|i| (2, i as u32)))
            .chain((0..p).map(|k| (0, (1 + k) as u32)))
            .chain((0..n).map(|i| (0, (1 + p + i) as u32)))
            .collect(),
        outputs: (0..total)
            .map(|k| {
                if k < out {
                    (0, k as u32)
                } else {
                    (1, (k - out) as u32)
                }
            })
            .collect(),
        check_sum: true,
        defer_below: traced_nodes as Id,
    }
}

/// The operations computing `outputs`, or [`CompileError::TooLarge`] beyond
/// [`MAX_OPERATIONS`].
fn operations_within_limit(g: &Graph, outputs: &[Id]) -> Result<usize, CompileError> {
    let operations = g.work(outputs);
    if operations > MAX_OPERATIONS {
        return Err(CompileError::TooLarge {
            operations,
            limit: MAX_OPERATIONS,
        });
    }
    Ok(operations)
}

fn compile(
    g: &Graph,
    outputs: &[Id],
    out: usize,
    n: usize,
    p: usize,
    traced_nodes: usize,
) -> Result<(Function, usize), CompileError> {
    let operations = operations_within_limit(g, outputs)?;
    let code = CompiledFunction::compile_with_layout(
        g,
        outputs,
        &layout(n, p, out, outputs.len(), traced_nodes),
    )?;
    Ok((
        Function {
            code,
            out,
            scratch: outputs.len() - out,
        },
        operations,
    ))
}

/// Compiles an in-code function: per sample, `front` results followed by the checks (M's
/// diagonal and the pivots), then the check sum. Graph inputs `[t, q, q̇, θ, obs]`: θ uniform,
/// the rest from the sample's record `[t, q (n), q̇ (n), obs (n)]`.
fn compile_in_code(
    g: &Graph,
    outputs: &[Id],
    front: usize,
    n: usize,
    p: usize,
    traced_nodes: usize,
) -> Result<(InCodeFunction, usize), CompileError> {
    let operations = operations_within_limit(g, outputs)?;
    let sample = |k: usize| BatchInput::Sample(k as u32);
    let layout = BatchLayout {
        inputs: std::iter::once(sample(0))
            .chain((0..2 * n).map(|i| sample(1 + i)))
            .chain((0..p).map(|k| BatchInput::Uniform(k as u32)))
            .chain((0..n).map(|i| sample(1 + 2 * n + i)))
            .collect(),
        outputs: (0..outputs.len() as u32).collect(),
        check: Some(outputs.len() as u32),
        // the outputs after `front`: M's diagonal (n), then the pivots (n)
        accept: Some(Accept {
            diagonal: (front..front + n).map(|k| k as u32).collect(),
            pivots: (front + n..front + 2 * n).map(|k| k as u32).collect(),
            relative: ACCEPT_PIVOT,
        }),
        defer_below: traced_nodes as Id,
    };
    let code = BatchFunction::compile(g, outputs, &layout)?;
    Ok((InCodeFunction { code, front }, operations))
}

/// `∂f/∂θ` (`n × P`, `i P + k`) and `∂M/∂θ` (`P × n × n`, `k n² + i n + j`) on the graph.
pub(crate) fn parameter_derivatives(
    g: &mut Graph,
    force: &[Id],
    mass: &[Id],
    theta: &[Id],
    mode: DerivativeMode,
) -> (Vec<Id>, Vec<Id>, &'static str) {
    let (n, p) = (force.len(), theta.len());
    let upper: Vec<(usize, usize)> = (0..n).flat_map(|i| (i..n).map(move |j| (i, j))).collect();
    let outputs: Vec<Id> = force
        .iter()
        .copied()
        .chain(upper.iter().map(|&(i, j)| mass[i * n + j]))
        .collect();
    let forward = match mode {
        DerivativeMode::Auto => p <= outputs.len(),
        DerivativeMode::Forward => true,
        DerivativeMode::Reverse => false,
    };
    // d[o][k]: derivative of output o in parameter k
    let d: Vec<Vec<Id>> = if forward {
        let one = g.constant(1.0);
        let columns: Vec<Vec<Id>> = theta
            .iter()
            .map(|&th| directional(g, &[(th, one)], &outputs))
            .collect();
        (0..outputs.len())
            .map(|o| columns.iter().map(|c| c[o]).collect())
            .collect()
    } else {
        outputs.iter().map(|&o| gradient(g, o, theta)).collect()
    };
    let df = (0..n).flat_map(|i| d[i].clone()).collect();
    let mut dm = vec![0 as Id; p * n * n];
    for (u, &(i, j)) in upper.iter().enumerate() {
        for k in 0..p {
            dm[k * n * n + i * n + j] = d[n + u][k];
            dm[k * n * n + j * n + i] = d[n + u][k];
        }
    }
    (df, dm, if forward { "forward" } else { "reverse" })
}

impl ParametricEquations {
    /// Traces `L(θ; t, q, q̇)` with θ as graph inputs, differentiates it into the equations of
    /// motion (and, with `options.derivatives`, their parameter Jacobian and the loss gradient)
    /// and compiles them. The parameters start at 0: set them with
    /// [`set_parameters`](Self::set_parameters).
    ///
    /// # Errors
    /// [`CompileError::Trace`] when L's operations depend on values, [`CompileError::TooLarge`]
    /// beyond [`MAX_OPERATIONS`], [`CompileError::Codegen`] when the code generator fails.
    pub fn new<L: ParametricLagrangian + ?Sized>(
        lagrangian: &L,
        options: ParametricOptions,
    ) -> Result<Self, CompileError> {
        let start = Instant::now();
        let (n, p) = (lagrangian.dof(), lagrangian.num_parameters());
        let kernels = match options.term_kernels {
            TermKernels::Never => false,
            TermKernels::Always => true,
            TermKernels::Auto => n >= MIN_TERM_COORDINATES,
        };
        if kernels && let Some(code) = parametric_terms::build(lagrangian, options)? {
            return Ok(Self::with_terms(code, n, p, start));
        }
        let (mut g, (l, f)) = trace(Graph::new(1 + 3 * n + p), || {
            let t = Traced::from_id(0);
            let q: Vec<Traced> = (0..n).map(|i| Traced::from_id((1 + i) as Id)).collect();
            let v: Vec<Traced> = (0..n).map(|i| Traced::from_id((1 + n + i) as Id)).collect();
            let th: Vec<Traced> = (0..p)
                .map(|k| Traced::from_id((1 + 2 * n + k) as Id))
                .collect();
            let l = lagrangian.lagrangian(&th, t, &q, &v).id();
            let f = lagrangian
                .has_dissipation()
                .then(|| lagrangian.dissipation(&th, t, &q, &v).id());
            (l, f)
        })?;
        let traced_nodes = g.len();
        let (force, mass) = force_and_mass(&mut g, l, f, &[], n);
        let theta: Vec<Id> = (0..p).map(|k| g.input(1 + 2 * n + k)).collect();
        let in_code = n <= SYMBOLIC_SOLVE;
        let constant_mass = mass.iter().all(|&m| g.as_const(m).is_some());
        let diagonal: Vec<Id> = (0..n).map(|i| mass[i * n + i]).collect();

        // the host's storage of M: its band where that is narrow (as the simulation's
        // compiler decides), dense otherwise
        let bandwidth = (0..n * n)
            .filter(|&e| g.as_const(mass[e]) != Some(0.0))
            .map(|e| (e / n).abs_diff(e % n))
            .max()
            .unwrap_or(0);
        let storage = if 4 * bandwidth < n {
            Storage::Banded { bandwidth }
        } else {
            Storage::Dense
        };
        let zero = g.constant(0.0);
        // the entries of one matrix (n × n row-major nodes) in the host's storage
        let stored = |matrix: &[Id]| -> Vec<Id> {
            match storage {
                Storage::Dense => matrix.to_vec(),
                Storage::Banded { bandwidth } => (0..n)
                    .flat_map(|i| {
                        (0..=2 * bandwidth).map(move |d| (i, (i + d).checked_sub(bandwidth)))
                    })
                    .map(|(i, j)| match j {
                        Some(j) if j < n => matrix[i * n + j],
                        _ => zero,
                    })
                    .collect(),
            }
        };
        let state = g.depends_on_inputs_below(1 + 2 * n);
        let mass_per_parameters = !mass.iter().any(|&m| state[m as usize]);

        let mut operations = [0, 0];
        // f (and M unless it depends on θ alone) for the host's LU: every n, and the second
        // try where the in-code elimination is not accepted
        let per_sample_mass = |m: &[Id]| {
            if mass_per_parameters {
                Vec::new()
            } else {
                stored(m)
            }
        };
        let dense_outputs: Vec<Id> = force
            .iter()
            .copied()
            .chain(per_sample_mass(&mass))
            .collect();
        let (dense_values, ops) = compile(&g, &dense_outputs, n, n, p, traced_nodes)?;
        operations[0] = ops;
        let mut how = "none";
        let derivatives = options
            .derivatives
            .then(|| parameter_derivatives(&mut g, &force, &mass, &theta, options.mode));
        // M, then ∂M/∂θₖ for each k, in the host's storage
        let mut mass_and_derivatives = stored(&mass);
        if let Some((_, dm, _)) = &derivatives {
            for k in 0..p {
                mass_and_derivatives.extend(stored(&dm[k * n * n..(k + 1) * n * n]));
            }
        }
        let dense_jacobian = match &derivatives {
            Some((df, _, label)) => {
                how = label;
                let mut outputs: Vec<Id> = force.iter().chain(df).copied().collect();
                if !mass_per_parameters {
                    outputs.extend(&mass_and_derivatives);
                }
                let (function, ops) = compile(&g, &outputs, n + n * p, n, p, traced_nodes)?;
                operations[1] += ops;
                Some(function)
            }
            None => None,
        };
        let per_parameters = if mass_per_parameters {
            let outputs = &mass_and_derivatives;
            let (function, ops) = compile(&g, outputs, outputs.len(), n, p, traced_nodes)?;
            operations[0] += ops;
            Some(function)
        } else {
            None
        };
        let host = Host {
            storage,
            mass_per_parameters,
        };

        let in_code = if in_code {
            let (acc, pivots) = eliminate(&mut g, &mass, &force, n);
            let checks: Vec<Id> = diagonal.iter().chain(&pivots).copied().collect();
            let with_checks =
                |front: &[Id]| -> Vec<Id> { front.iter().chain(&checks).copied().collect() };
            let (values, ops) = compile_in_code(&g, &with_checks(&acc), n, n, p, traced_nodes)?;
            operations[0] = ops;
            let (mut jacobian, mut gradient_fn) = (None, None);
            if let Some((df, dm, _)) = &derivatives {
                // ∂q̈/∂θₖ = M⁻¹ (∂f/∂θₖ − (∂M/∂θₖ) q̈): the elimination's factors are shared
                let mut jac = vec![0 as Id; n * p];
                for k in 0..p {
                    let rhs: Vec<Id> = (0..n)
                        .map(|i| {
                            let mut r = df[i * p + k];
                            for j in 0..n {
                                let t = g.mul(dm[k * n * n + i * n + j], acc[j]);
                                r = g.sub(r, t);
                            }
                            r
                        })
                        .collect();
                    let (column, _) = eliminate(&mut g, &mass, &rhs, n);
                    for i in 0..n {
                        jac[i * p + k] = column[i];
                    }
                }
                let front: Vec<Id> = acc.iter().chain(&jac).copied().collect();
                let (function, ops) =
                    compile_in_code(&g, &with_checks(&front), n + n * p, n, p, traced_nodes)?;
                jacobian = Some(function);
                operations[1] += ops;

                // ε = Σ (q̈ᵢ − obsᵢ)², differentiated in reverse through the solve
                let mut loss = g.constant(0.0);
                for (i, &a) in acc.iter().enumerate() {
                    let obs = g.input(1 + 2 * n + p + i);
                    let r = g.sub(a, obs);
                    let r2 = g.mul(r, r);
                    loss = g.add(loss, r2);
                }
                let grad = gradient(&mut g, loss, &theta);
                // the sample's loss itself too: the caller need not read the data again
                let front: Vec<Id> = std::iter::once(loss).chain(grad).collect();
                let (function, ops) =
                    compile_in_code(&g, &with_checks(&front), 1 + p, n, p, traced_nodes)?;
                gradient_fn = Some(function);
                operations[1] += ops;
            }
            Some(InCode {
                values,
                jacobian,
                gradient: gradient_fn,
            })
        } else {
            None
        };

        let on_host = host_solve_label(mass_per_parameters, storage);
        let mass_matrix = match (constant_mass, in_code.is_some()) {
            (true, true) => "constant, eliminated at compile time".to_string(),
            (false, true) => {
                format!("solved in the code (positive pivots), else {on_host}")
            }
            (_, false) => on_host.to_string(),
        };
        let stats = ParametricStats {
            parameters: p,
            traced_nodes,
            compiled_operations: operations[0],
            derivative_operations: operations[1],
            mass_matrix,
            term_kernels: 0,
            derivatives: how,
            compile_seconds: start.elapsed().as_secs_f64(),
        };
        let functions: Vec<&Function> = [
            Some(&dense_values),
            dense_jacobian.as_ref(),
            per_parameters.as_ref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        let out_len = functions.iter().map(|f| f.out).max().unwrap_or(0);
        let scratch_len = functions.iter().map(|f| f.scratch).max().unwrap_or(0);
        let temp_len = functions
            .iter()
            .map(|f| f.code.temp_len())
            .max()
            .unwrap_or(0);
        Ok(Self::assemble(
            Shared {
                n,
                p,
                in_code,
                host,
                code: Code::Straight {
                    values: dense_values,
                    jacobian: dense_jacobian,
                    per_parameters,
                },
                out_len,
                stats,
            },
            scratch_len,
            temp_len,
        ))
    }

    /// The equations on term kernels (see `parametric_terms`).
    fn with_terms(code: TermCode, n: usize, p: usize, start: Instant) -> Self {
        let host = Host {
            storage: code.storage,
            mass_per_parameters: code.mass_per_parameters,
        };
        let mass_matrix = host_solve_label(code.mass_per_parameters, code.storage);
        let stats = ParametricStats {
            parameters: p,
            traced_nodes: 0,
            compiled_operations: code.operations[0],
            derivative_operations: code.operations[1],
            mass_matrix: format!("{mass_matrix} (term kernels)"),
            term_kernels: code.num_kernels(),
            derivatives: code.derivatives,
            compile_seconds: start.elapsed().as_secs_f64(),
        };
        let (out_len, scratch_len) = (code.out_len, code.scratch_len);
        let mut equations = Self::assemble(
            Shared {
                n,
                p,
                in_code: None,
                host,
                code: Code::Terms(code),
                out_len,
                stats,
            },
            scratch_len,
            0,
        );
        if let Code::Terms(code) = &equations.shared.code {
            equations.terms = code.state();
        }
        equations
    }

    /// The equations around compiled `shared`, with buffers for `scratch_len` scratch values
    /// and `temp_len` temporaries.
    fn assemble(shared: Shared, scratch_len: usize, temp_len: usize) -> Self {
        let (n, p) = (shared.n, shared.p);
        let out_len = shared.out_len;
        Self {
            shared: Arc::new(shared),
            uniform: vec![0.0; 1 + p + n],
            work: vec![0.0; out_len + scratch_len],
            temp: vec![0.0; temp_len],
            terms: TermState::default(),
            matrix: vec![0.0; n * n],
            pivots: vec![0; n],
            factored: Factored::Failed,
            parameter_mass: Vec::new(),
            spare: Vec::new(),
            rhs: Vec::new(),
            theta: vec![0.0; p],
            records: Vec::new(),
            lane_out: Vec::new(),
            lane_temp: Vec::new(),
            sample_out: Vec::new(),
        }
    }

    /// Degrees of freedom.
    pub fn dof(&self) -> usize {
        self.shared.n
    }

    /// Number of parameters.
    pub fn num_parameters(&self) -> usize {
        self.shared.p
    }

    /// What compilation produced.
    pub fn stats(&self) -> &ParametricStats {
        &self.shared.stats
    }

    /// Whether the Jacobian and gradient were compiled ([`ParametricOptions::derivatives`]).
    pub fn has_derivatives(&self) -> bool {
        self.shared.stats.derivatives != "none"
    }

    /// Sets θ for the following evaluations.
    ///
    /// # Panics
    /// If `theta` does not have [`num_parameters`](Self::num_parameters) values.
    pub fn set_parameters(&mut self, theta: &[f64]) {
        let p = self.shared.p;
        assert_eq!(theta.len(), p, "one value per parameter");
        self.uniform[1..1 + p].copy_from_slice(theta);
        self.theta.copy_from_slice(theta);
        let shared = Arc::clone(&self.shared);
        // M (and ∂M/∂θ) where they do not read the state: evaluated here, factorized once
        let finite = match &shared.code {
            Code::Straight {
                per_parameters: Some(function),
                ..
            } => {
                let origin = vec![0.0; shared.n];
                self.uniform[0] = 0.0;
                let (out, scratch) = self.work.split_at_mut(shared.out_len);
                // SAFETY: as in `run_dense`: `uniform` holds 1 + P + n values, `origin` n,
                // `out` and `temp` are sized to the largest function, this one writes only to
                // `out`.
                let sum = unsafe {
                    function.code.call_split_unchecked(
                        [&self.uniform, &origin, &origin],
                        [out, scratch],
                        &mut self.temp,
                    )
                };
                self.parameter_mass.clear();
                self.parameter_mass
                    .extend_from_slice(&self.work[..function.out]);
                sum.is_finite()
            }
            Code::Straight { .. } => return,
            Code::Terms(code) => {
                let finite = code.set_parameters(&mut self.terms, theta);
                if !code.mass_per_parameters {
                    return;
                }
                self.parameter_mass.clear();
                self.parameter_mass
                    .extend_from_slice(&self.terms.base[shared.out_len..]);
                finite
            }
        };
        let len = shared.host.storage.len(shared.n);
        self.factored = if finite {
            factor(
                shared.host.storage,
                shared.n,
                &self.parameter_mass[..len],
                &mut self.matrix,
                &mut self.pivots,
            )
        } else {
            Factored::Failed
        };
    }

    /// Runs a dense function (f, M and their derivatives, for the host's LU) on `(t, q, q̇)`;
    /// `false` when something read or written is not finite.
    fn run_dense(&mut self, which: Which, t: f64, q: &[f64], q_dot: &[f64]) -> bool {
        let shared = &*self.shared;
        let compiled_without = "compiled without derivatives";
        let function = match (&shared.code, which) {
            (_, Which::Gradient) => unreachable!("the host's gradient comes from the Jacobian"),
            (Code::Terms(code), which) => {
                let kind = match which {
                    Which::Values => Kind::Values,
                    _ if shared.stats.derivatives == "none" => panic!("{compiled_without}"),
                    _ => Kind::Jacobian,
                };
                return code.run(&self.terms, kind, t, q, q_dot, &mut self.work);
            }
            (Code::Straight { values, .. }, Which::Values) => values,
            (Code::Straight { jacobian, .. }, Which::Jacobian) => {
                jacobian.as_ref().expect(compiled_without)
            }
        };
        self.uniform[0] = t;
        let (out, scratch) = self.work.split_at_mut(shared.out_len);
        // SAFETY: the layout reads 1 + P + n values of `uniform` (its length), n of `q` and
        // `q̇` (checked by the callers), writes `function.out` values of `out` and
        // `function.scratch` of `scratch` (both sized by `new` to the largest function), and
        // `temp` is sized to the largest function's.
        let sum = unsafe {
            function.code.call_split_unchecked(
                [&self.uniform, q, q_dot],
                [out, scratch],
                &mut self.temp,
            )
        };
        sum.is_finite()
    }

    /// Runs the in-code function `which` over the samples `0..count` (`sample(s)` gives each),
    /// two per iteration; its results stay in `lane_out` for [`accepted`](Self::accepted).
    /// `None` where there is no in-code solve (n > 4).
    fn run_in_code<'s>(
        &mut self,
        which: Which,
        count: usize,
        sample: &impl Fn(usize) -> Sample<'s>,
    ) -> Option<(usize, usize)> {
        let shared = Arc::clone(&self.shared);
        let in_code = shared.in_code.as_ref()?;
        let compiled_without = "compiled without derivatives";
        let function = match which {
            Which::Values => &in_code.values,
            Which::Jacobian => in_code.jacobian.as_ref().expect(compiled_without),
            Which::Gradient => in_code.gradient.as_ref().expect(compiled_without),
        };
        let n = shared.n;
        let (record, output) = (function.code.record_len(), function.code.output_len());
        debug_assert_eq!(record, 1 + 3 * n);
        let pairs = count.div_ceil(LANES);
        self.records.resize(pairs * LANES * record, 0.0);
        // the output records: sample s's at s output, the odd last sample's twin after it
        self.lane_out.resize(pairs * LANES * output, 0.0);
        self.lane_temp
            .resize(pairs * LANES * function.code.temp_len(), 0.0);
        // pack: element k of lane l at 2 k + l of the pair's record; an odd last sample fills
        // both lanes
        for (pair, packed) in self.records.chunks_exact_mut(LANES * record).enumerate() {
            for l in 0..LANES {
                let x = sample((pair * LANES + l).min(count - 1));
                let (q, q_dot) = (x.q, x.q_dot);
                if q.len() != n || q_dot.len() != n {
                    panic!("q and q̇ must have {n} values");
                }
                packed[l] = x.t;
                let (qs, rest) = packed[LANES..].split_at_mut(LANES * n);
                let (vs, os) = rest.split_at_mut(LANES * n);
                for i in 0..n {
                    qs[LANES * i + l] = q[i];
                    vs[LANES * i + l] = q_dot[i];
                }
                if matches!(which, Which::Gradient) && x.observed.len() != n {
                    panic!("observed must have {n} values");
                }
                if x.observed.len() == n {
                    for i in 0..n {
                        os[LANES * i + l] = x.observed[i];
                    }
                } else {
                    for i in 0..n {
                        os[LANES * i + l] = 0.0;
                    }
                }
            }
        }
        function.code.run(
            &self.theta,
            &self.records,
            &mut self.lane_out,
            &mut self.lane_temp,
        );
        Some((function.front, output))
    }

    /// Sample `s`'s results (the first `front` values of its output record) if the in-code
    /// elimination is accepted for it: everything finite, every pivot clearly positive (tested
    /// in the compiled loop, which leaves the check NaN otherwise).
    #[inline]
    fn accepted(&self, (front, output): (usize, usize), s: usize) -> Option<&[f64]> {
        let record = &self.lane_out[s * output..(s + 1) * output];
        record[output - 1].is_finite().then(|| &record[..front])
    }

    /// Factorizes this sample's M (the start of scratch, after a dense function ran), unless
    /// M depends on θ alone (then `set_parameters` did); `false` where it is singular.
    fn host_factor(&mut self) -> bool {
        let host = &self.shared.host;
        if !host.mass_per_parameters {
            let n = self.shared.n;
            let scratch = &self.work[self.shared.out_len..];
            self.factored = factor(
                host.storage,
                n,
                &scratch[..host.storage.len(n)],
                &mut self.matrix,
                &mut self.pivots,
            );
        }
        self.factored != Factored::Failed
    }

    /// Solves `M x = rhs` in place with the factors of [`host_factor`](Self::host_factor);
    /// `false` where x is not finite.
    fn host_solve(&self, rhs: &mut [f64]) -> bool {
        let n = self.shared.n;
        match (self.factored, self.shared.host.storage) {
            (Factored::Banded, Storage::Banded { bandwidth }) => {
                solve_banded_factored(&self.matrix, n, bandwidth, rhs)
            }
            (Factored::Dense, _) => solve_factored(&self.matrix, n, &self.pivots, rhs),
            _ => return false,
        }
        rhs.iter().all(|x| x.is_finite())
    }

    /// q̈ of every sample with the current θ: `each(index, Some(q̈))`, or `each(index, None)`
    /// where this path does not decide the sample (see the type's documentation). Samples run
    /// two at a time in vector lanes (n ≤ 4), in index order.
    ///
    /// # Panics
    /// If a sample's `q` or `q_dot` does not have [`dof`](Self::dof) values.
    pub fn accelerations_batch<'s>(
        &mut self,
        count: usize,
        sample: impl Fn(usize) -> Sample<'s>,
        mut each: impl FnMut(usize, Option<&[f64]>),
    ) {
        let n = self.shared.n;
        let run = self.run_in_code(Which::Values, count, &sample);
        for s in 0..count {
            if let Some(acc) = run.and_then(|shape| self.accepted(shape, s)) {
                each(s, Some(acc));
            } else if self.host_accelerations(&sample(s)) {
                each(s, Some(&self.sample_out[..n]));
            } else {
                each(s, None);
            }
        }
    }

    /// The host's q̈ (dense function, pivoted LU) into `sample_out`.
    fn host_accelerations(&mut self, sample: &Sample) -> bool {
        let n = self.shared.n;
        assert!(sample.q.len() == n && sample.q_dot.len() == n);
        if !self.run_dense(Which::Values, sample.t, sample.q, sample.q_dot) {
            return false;
        }
        let mut acc = std::mem::take(&mut self.sample_out);
        acc.clear();
        acc.extend_from_slice(&self.work[..n]);
        let solved = self.host_factor() && self.host_solve(&mut acc);
        self.sample_out = acc;
        solved
    }

    /// q̈ and its parameter Jacobian (row-major, `i P + k`) of every sample: `each(index,
    /// Some((q̈, Jacobian)))`, or `each(index, None)` where not decided here.
    ///
    /// # Panics
    /// If compiled without derivatives, or a sample's `q` or `q_dot` does not have n values.
    pub fn jacobian_batch<'s>(
        &mut self,
        count: usize,
        sample: impl Fn(usize) -> Sample<'s>,
        mut each: impl FnMut(usize, Option<(&[f64], &[f64])>),
    ) {
        let (n, p) = (self.shared.n, self.shared.p);
        let run = self.run_in_code(Which::Jacobian, count, &sample);
        for s in 0..count {
            if let Some(results) = run.and_then(|shape| self.accepted(shape, s)) {
                each(s, Some(results.split_at(n)));
            } else if self.host_jacobian(&sample(s)) {
                each(s, Some(self.sample_out[..n + n * p].split_at(n)));
            } else {
                each(s, None);
            }
        }
    }

    /// The host's q̈ and Jacobian into `sample_out` (`[q̈ (n) | Jacobian (n P)]`).
    fn host_jacobian(&mut self, sample: &Sample) -> bool {
        let (n, p) = (self.shared.n, self.shared.p);
        assert!(sample.q.len() == n && sample.q_dot.len() == n);
        if !self.run_dense(Which::Jacobian, sample.t, sample.q, sample.q_dot) {
            return false;
        }
        // out = [f, ∂f/∂θ (i P + k)], scratch = [M, ∂M/∂θ (k n² + i n + j)]
        let mut result = std::mem::take(&mut self.sample_out);
        result.resize(n + n * p, 0.0);
        let mut rhs = std::mem::take(&mut self.rhs);
        rhs.resize(n, 0.0);
        let (acc, jac) = result.split_at_mut(n);
        acc.copy_from_slice(&self.work[..n]);
        let solved =
            self.host_factor() && self.host_solve(acc) && self.host_columns(&mut rhs, acc, jac);
        self.rhs = rhs;
        self.sample_out = result;
        solved
    }

    /// The columns `∂q̈/∂θₖ = M⁻¹ (∂f/∂θₖ − (∂M/∂θₖ) q̈)` on the host, after the dense function
    /// ran, M was factorized and `acc` holds q̈: one factorization serves every column.
    fn host_columns(&self, rhs: &mut [f64], acc: &[f64], jac: &mut [f64]) -> bool {
        let (n, p) = (self.shared.n, self.shared.p);
        let storage = self.shared.host.storage;
        let len = storage.len(n);
        // [M, ∂M/∂θ₀, …] in the host's storage: per sample in scratch, or per parameter set
        let masses = if self.shared.host.mass_per_parameters {
            &self.parameter_mass
        } else {
            &self.work[self.shared.out_len..]
        };
        for k in 0..p {
            let dm = &masses[len * (1 + k)..len * (2 + k)];
            for (i, r) in rhs.iter_mut().enumerate() {
                *r = self.work[n + i * p + k] - storage.row_times(n, dm, i, acc);
            }
            if !self.host_solve(rhs) {
                return false;
            }
            for i in 0..n {
                jac[i * p + k] = rhs[i];
            }
        }
        true
    }

    /// The sample loss `ε = Σᵢ (q̈ᵢ − observedᵢ)²` and its gradient with respect to θ, for every
    /// sample: `each(index, Some((ε, gradient (P))))`, or `each(index, None)` where not decided
    /// here.
    ///
    /// # Panics
    /// If compiled without derivatives, or a sample's `q`, `q_dot` or `observed` does not have
    /// n values.
    pub fn loss_gradient_batch<'s>(
        &mut self,
        count: usize,
        sample: impl Fn(usize) -> Sample<'s>,
        mut each: impl FnMut(usize, Option<(f64, &[f64])>),
    ) {
        let p = self.shared.p;
        // (the lengths of `observed` are checked where the samples are read: packing, host)
        let run = self.run_in_code(Which::Gradient, count, &sample);
        for s in 0..count {
            if let Some(results) = run.and_then(|shape| self.accepted(shape, s)) {
                each(s, Some((results[0], &results[1..])));
            } else if self.host_loss_gradient(&sample(s)) {
                // spare = [ε | gradient (P)]
                each(s, Some((self.spare[0], &self.spare[1..1 + p])));
            } else {
                each(s, None);
            }
        }
    }

    /// The host's part of [`loss_gradient_batch`](Self::loss_gradient_batch): the Jacobian,
    /// then `ε` and `2 Jᵀ r`, into `spare`.
    #[inline(never)]
    fn host_loss_gradient(&mut self, sample: &Sample) -> bool {
        let (n, p) = (self.shared.n, self.shared.p);
        assert_eq!(sample.observed.len(), n, "observed must have {n} values");
        // the dense function's check sum reads the observed values too
        self.uniform[1 + p..].copy_from_slice(sample.observed);
        if !self.host_jacobian(sample) {
            return false;
        }
        let mut spare = std::mem::take(&mut self.spare);
        spare.resize(1 + p, 0.0);
        let (acc, jac) = self.sample_out.split_at(n);
        let residual = |i: usize| acc[i] - sample.observed[i];
        spare[0] = (0..n).map(|i| residual(i) * residual(i)).sum();
        for k in 0..p {
            spare[1 + k] = 2.0 * (0..n).map(|i| jac[i * p + k] * residual(i)).sum::<f64>();
        }
        self.spare = spare;
        true
    }

    /// q̈ at `(t, q, q̇)` with the current θ, into `acc`. `false`: not decided here (see the
    /// type's documentation).
    ///
    /// # Panics
    /// If `q`, `q_dot` or `acc` do not have [`dof`](Self::dof) values.
    pub fn accelerations_into(
        &mut self,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
        acc: &mut [f64],
    ) -> bool {
        let n = self.shared.n;
        assert_eq!(acc.len(), n, "acc must have {n} values");
        let sample = Sample {
            t,
            q,
            q_dot,
            observed: &[],
        };
        let mut decided = false;
        self.accelerations_batch(
            1,
            |_| sample,
            |_, result| {
                if let Some(a) = result {
                    acc.copy_from_slice(a);
                    decided = true;
                }
            },
        );
        decided
    }

    /// q̈ and its parameter Jacobian `∂q̈ᵢ/∂θₖ` (row-major, `i P + k`) at `(t, q, q̇)`.
    /// `false`: not decided here.
    ///
    /// # Panics
    /// If compiled without derivatives, or on wrong lengths (`acc`: n, `jac`: n P).
    pub fn jacobian_into(
        &mut self,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
        acc: &mut [f64],
        jac: &mut [f64],
    ) -> bool {
        let (n, p) = (self.shared.n, self.shared.p);
        assert!(
            acc.len() == n && jac.len() == n * p,
            "acc: n, jac: n P values"
        );
        let sample = Sample {
            t,
            q,
            q_dot,
            observed: &[],
        };
        let mut decided = false;
        self.jacobian_batch(
            1,
            |_| sample,
            |_, result| {
                if let Some((a, j)) = result {
                    acc.copy_from_slice(a);
                    jac.copy_from_slice(j);
                    decided = true;
                }
            },
        );
        decided
    }

    /// The sample loss `Σᵢ (q̈ᵢ − observedᵢ)²` at `(t, q, q̇)` and its gradient with respect to
    /// θ, written to `grad` (P). `None`: not decided here.
    ///
    /// # Panics
    /// If compiled without derivatives, or on wrong lengths.
    pub fn loss_gradient_into(
        &mut self,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
        observed: &[f64],
        grad: &mut [f64],
    ) -> Option<f64> {
        let sample = Sample {
            t,
            q,
            q_dot,
            observed,
        };
        let mut loss = None;
        self.loss_gradient_batch(
            1,
            |_| sample,
            |_, result| {
                if let Some((e, g)) = result {
                    grad.copy_from_slice(g);
                    loss = Some(e);
                }
            },
        );
        loss
    }
}

/// How the host solves with M, for [`ParametricStats::mass_matrix`].
fn host_solve_label(mass_per_parameters: bool, storage: Storage) -> &'static str {
    match (mass_per_parameters, storage) {
        (true, Storage::Banded { .. }) => "banded LU on the host, once per parameter set",
        (true, Storage::Dense) => "dense LU on the host, once per parameter set",
        (false, Storage::Banded { .. }) => "banded LU on the host",
        (false, Storage::Dense) => "dense LU on the host",
    }
}

/// Factorizes `mass` (in `storage`) into `matrix` (and `pivots`): banded without pivoting
/// where every pivot passes the engine's test, else dense with partial pivoting.
fn factor(
    storage: Storage,
    n: usize,
    mass: &[f64],
    matrix: &mut Vec<f64>,
    pivots: &mut [usize],
) -> Factored {
    if let Storage::Banded { bandwidth } = storage {
        matrix.clear();
        matrix.extend_from_slice(mass);
        if factor_banded_in_place(matrix, n, bandwidth).is_ok() {
            return Factored::Banded;
        }
        band_to_dense(mass, n, bandwidth, matrix);
    } else {
        matrix.clear();
        matrix.extend_from_slice(mass);
    }
    match factor_in_place(matrix, n, pivots) {
        Ok(()) => Factored::Dense,
        Err(_) => Factored::Failed,
    }
}

/// Which compiled function to run.
#[derive(Clone, Copy)]
enum Which {
    Values,
    Jacobian,
    Gradient,
}
