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
//! common-subexpression elimination). The host accepts the result only where every pivot is
//! positive with a margin of 1000 over the engine's singularity threshold (M is then positive
//! definite and the elimination stable). Otherwise (more coordinates, or a refused elimination:
//! learned models may well have an indefinite M) a second function writes `f`, `M` and their
//! derivatives, and the host solves with the engine's own pivoted LU and singularity test.
//! **Every sample neither accepts** (a singular M, anything not finite) is left to the caller,
//! whose reference path (the automatic differentiation of the core) then decides between a
//! value, a singular mass matrix and a non-finite error: the classification of
//! samples is the reference's own.

use crate::codegen::{CompiledFunction, Layout};
use crate::diff::{directional, gradient};
use crate::equations::{CompileError, SYMBOLIC_SOLVE, eliminate, force_and_mass};
use crate::graph::{Graph, Id};
use crate::trace::{Traced, trace};
use lagrange::mechanics::linalg::{SINGULAR_RELATIVE_PIVOT, solve_in_place};
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
}

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
}

impl Default for ParametricOptions {
    fn default() -> Self {
        Self {
            derivatives: true,
            mode: DerivativeMode::Auto,
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
    pub mass_matrix: &'static str,
    /// `"forward"` or `"reverse"`: how the parameter derivatives were taken (`"none"` without).
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

/// The in-code solve (n ≤ 4): q̈, with its Jacobian, with the loss gradient; each also
/// writes M's diagonal and the pivots to scratch.
#[derive(Debug)]
struct InCode {
    values: Function,
    jacobian: Option<Function>,
    gradient: Option<Function>,
}

#[derive(Debug)]
struct Shared {
    n: usize,
    p: usize,
    /// Tried first where present (n ≤ 4).
    in_code: Option<InCode>,
    /// `f` and `M` for the host's LU (out: f; scratch: M).
    dense_values: Function,
    /// `f`, `∂f/∂θ` (out) and `M`, `∂M/∂θ` (scratch).
    dense_jacobian: Option<Function>,
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
    out: Vec<f64>,
    scratch: Vec<f64>,
    temp: Vec<f64>,
    matrix: Vec<f64>,
    /// Results of the host path of `loss_gradient`.
    spare: Vec<f64>,
    /// Right-hand sides of the host's solves for the Jacobian.
    rhs: Vec<f64>,
}

impl Clone for ParametricEquations {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            uniform: self.uniform.clone(),
            out: self.out.clone(),
            scratch: self.scratch.clone(),
            temp: self.temp.clone(),
            matrix: self.matrix.clone(),
            spare: Vec::new(),
            rhs: Vec::new(),
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

fn compile(
    g: &Graph,
    outputs: &[Id],
    out: usize,
    n: usize,
    p: usize,
    traced_nodes: usize,
) -> Result<(Function, usize), CompileError> {
    let operations = g.work(outputs);
    if operations > MAX_OPERATIONS {
        return Err(CompileError::TooLarge {
            operations,
            limit: MAX_OPERATIONS,
        });
    }
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

/// `∂f/∂θ` (`n × P`, `i P + k`) and `∂M/∂θ` (`P × n × n`, `k n² + i n + j`) on the graph.
fn parameter_derivatives(
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

        let mut operations = [0, 0];
        // f and M for the host's pivoted LU: every n, and the second try where the in-code
        // elimination is not accepted
        let dense_outputs: Vec<Id> = force.iter().chain(&mass).copied().collect();
        let (dense_values, ops) = compile(&g, &dense_outputs, n, n, p, traced_nodes)?;
        operations[0] = ops;
        let mut how = "none";
        let derivatives = options
            .derivatives
            .then(|| parameter_derivatives(&mut g, &force, &mass, &theta, options.mode));
        let dense_jacobian = match &derivatives {
            Some((df, dm, label)) => {
                how = label;
                let outputs: Vec<Id> = force
                    .iter()
                    .chain(df)
                    .chain(&mass)
                    .chain(dm)
                    .copied()
                    .collect();
                let (function, ops) = compile(&g, &outputs, n + n * p, n, p, traced_nodes)?;
                operations[1] += ops;
                Some(function)
            }
            None => None,
        };

        let in_code = if in_code {
            let (acc, pivots) = eliminate(&mut g, &mass, &force, n);
            let checks: Vec<Id> = diagonal.iter().chain(&pivots).copied().collect();
            let with_checks =
                |front: &[Id]| -> Vec<Id> { front.iter().chain(&checks).copied().collect() };
            let (values, ops) = compile(&g, &with_checks(&acc), n, n, p, traced_nodes)?;
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
                    compile(&g, &with_checks(&front), n + n * p, n, p, traced_nodes)?;
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
                let front: Vec<Id> = acc.iter().chain(&grad).copied().collect();
                let (function, ops) = compile(&g, &with_checks(&front), n + p, n, p, traced_nodes)?;
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

        let mass_matrix = match (constant_mass, in_code.is_some()) {
            (true, true) => "constant, eliminated at compile time",
            (false, true) => "solved in the code (positive pivots), else dense LU on the host",
            (_, false) => "dense LU on the host",
        };
        let stats = ParametricStats {
            parameters: p,
            traced_nodes,
            compiled_operations: operations[0],
            derivative_operations: operations[1],
            mass_matrix,
            derivatives: how,
            compile_seconds: start.elapsed().as_secs_f64(),
        };
        let functions: Vec<&Function> = [Some(&dense_values), dense_jacobian.as_ref()]
            .into_iter()
            .chain(
                in_code
                    .iter()
                    .flat_map(|c| [Some(&c.values), c.jacobian.as_ref(), c.gradient.as_ref()]),
            )
            .flatten()
            .collect();
        let out_len = functions.iter().map(|f| f.out).max().unwrap_or(0);
        let scratch_len = functions.iter().map(|f| f.scratch).max().unwrap_or(0);
        let temp_len = functions
            .iter()
            .map(|f| f.code.temp_len())
            .max()
            .unwrap_or(0);
        Ok(Self {
            shared: Arc::new(Shared {
                n,
                p,
                in_code,
                dense_values,
                dense_jacobian,
                stats,
            }),
            uniform: vec![0.0; 1 + p + n],
            out: vec![0.0; out_len],
            scratch: vec![0.0; scratch_len],
            temp: vec![0.0; temp_len],
            matrix: vec![0.0; n * n],
            spare: Vec::new(),
            rhs: Vec::new(),
        })
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
        self.shared.dense_jacobian.is_some()
    }

    /// Sets θ for the following evaluations.
    ///
    /// # Panics
    /// If `theta` does not have [`num_parameters`](Self::num_parameters) values.
    pub fn set_parameters(&mut self, theta: &[f64]) {
        let p = self.shared.p;
        assert_eq!(theta.len(), p, "one value per parameter");
        self.uniform[1..1 + p].copy_from_slice(theta);
    }

    /// Runs `which` on `(t, q, q̇)` (and the observed q̈ already in `uniform`); `false` when
    /// something read or written is not finite.
    fn run(&mut self, which: Which, t: f64, q: &[f64], q_dot: &[f64]) -> bool {
        let shared = &*self.shared;
        let n = shared.n;
        assert!(
            q.len() == n && q_dot.len() == n,
            "q and q̇ must have {n} values"
        );
        let compiled_without = "compiled without derivatives";
        let in_code = || shared.in_code.as_ref().expect("n ≤ 4");
        let function = match which {
            Which::Values => &in_code().values,
            Which::Jacobian => in_code().jacobian.as_ref().expect(compiled_without),
            Which::Gradient => in_code().gradient.as_ref().expect(compiled_without),
            Which::DenseValues => &shared.dense_values,
            Which::DenseJacobian => shared.dense_jacobian.as_ref().expect(compiled_without),
        };
        self.uniform[0] = t;
        // SAFETY: the layout reads 1 + P + n values of `uniform` (its length), n of `q` and
        // `q̇` (checked above), writes `function.out` values of `out` and `function.scratch`
        // of `scratch` (both sized by `new` to the largest function), and `temp` is sized to
        // the largest function's.
        let sum = unsafe {
            function.code.call_split_unchecked(
                [&self.uniform, q, q_dot],
                [&mut self.out, &mut self.scratch],
                &mut self.temp,
            )
        };
        sum.is_finite()
    }

    /// Runs an in-code function (n ≤ 4) and checks its elimination: `true` when accepted.
    fn run_in_code(&mut self, which: Which, t: f64, q: &[f64], q_dot: &[f64]) -> bool {
        if self.shared.in_code.is_none() || !self.run(which, t, q, q_dot) {
            return false;
        }
        let n = self.shared.n;
        let (diagonal, pivots) = self.scratch[..2 * n].split_at(n);
        let scale = diagonal.iter().fold(0.0_f64, |a, &d| a.max(d));
        let floor = ACCEPT_PIVOT * scale;
        scale.is_finite() && scale > 0.0 && pivots.iter().all(|&p| p > floor)
    }

    /// Solves `M x = rhs` in place with a fresh copy of M (the first n² values of scratch),
    /// with the engine's pivoted LU and singularity test.
    fn host_solve(&mut self, rhs: &mut [f64]) -> bool {
        let n = self.shared.n;
        self.matrix.copy_from_slice(&self.scratch[..n * n]);
        solve_in_place(&mut self.matrix, n, rhs).is_ok() && rhs.iter().all(|x| x.is_finite())
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
        if self.run_in_code(Which::Values, t, q, q_dot) {
            acc.copy_from_slice(&self.out[..n]);
            return true;
        }
        if !self.run(Which::DenseValues, t, q, q_dot) {
            return false;
        }
        acc.copy_from_slice(&self.out[..n]);
        self.host_solve(acc)
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
        if self.run_in_code(Which::Jacobian, t, q, q_dot) {
            acc.copy_from_slice(&self.out[..n]);
            jac.copy_from_slice(&self.out[n..n + n * p]);
            return true;
        }
        if !self.run(Which::DenseJacobian, t, q, q_dot) {
            return false;
        }
        // out = [f, ∂f/∂θ (i P + k)], scratch = [M, ∂M/∂θ (k n² + i n + j)]
        acc.copy_from_slice(&self.out[..n]);
        if !self.host_solve(acc) {
            return false;
        }
        let mut rhs = std::mem::take(&mut self.rhs);
        rhs.resize(n, 0.0);
        let solved = self.host_columns(&mut rhs, acc, jac);
        self.rhs = rhs;
        solved
    }

    /// The columns `∂q̈/∂θₖ = M⁻¹ (∂f/∂θₖ − (∂M/∂θₖ) q̈)` on the host, after the dense function
    /// ran and `acc` holds q̈.
    fn host_columns(&mut self, rhs: &mut [f64], acc: &[f64], jac: &mut [f64]) -> bool {
        let (n, p) = (self.shared.n, self.shared.p);
        for k in 0..p {
            let dm = &self.scratch[n * n * (1 + k)..n * n * (2 + k)];
            for (i, r) in rhs.iter_mut().enumerate() {
                let row = &dm[i * n..(i + 1) * n];
                *r = self.out[n + i * p + k] - row.iter().zip(acc).map(|(a, b)| a * b).sum::<f64>();
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

    /// q̈ and the gradient of the sample loss `Σᵢ (q̈ᵢ − observedᵢ)²` with respect to θ, at
    /// `(t, q, q̇)`, as views of this evaluator's buffers (valid until its next use): `(q̈ (n),
    /// gradient (P))`. `None`: not decided here.
    ///
    /// # Panics
    /// If compiled without derivatives, or if `observed` does not have n values.
    #[inline]
    pub fn loss_gradient(
        &mut self,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
        observed: &[f64],
    ) -> Option<(&[f64], &[f64])> {
        let (n, p) = (self.shared.n, self.shared.p);
        assert_eq!(observed.len(), n, "observed must have {n} values");
        // element by element: a call to memcpy would cost more than these few values
        for (u, o) in self.uniform[1 + p..].iter_mut().zip(observed) {
            *u = *o;
        }
        if self.run_in_code(Which::Gradient, t, q, q_dot) {
            return Some((&self.out[..n], &self.out[n..n + p]));
        }
        self.host_loss_gradient(t, q, q_dot, observed)
    }

    /// The host's part of [`loss_gradient`](Self::loss_gradient): the Jacobian, then `2 Jᵀ r`.
    #[inline(never)]
    fn host_loss_gradient(
        &mut self,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
        observed: &[f64],
    ) -> Option<(&[f64], &[f64])> {
        let (n, p) = (self.shared.n, self.shared.p);
        // spare = [q̈ (n) | gradient (P) | Jacobian (n P)]
        let mut spare = std::mem::take(&mut self.spare);
        spare.resize(n + p + n * p, 0.0);
        let (acc, rest) = spare.split_at_mut(n);
        let (grad, jac) = rest.split_at_mut(p);
        let solved = self.jacobian_into(t, q, q_dot, acc, jac);
        if solved {
            for (k, g) in grad.iter_mut().enumerate() {
                *g = 2.0
                    * (0..n)
                        .map(|i| jac[i * p + k] * (acc[i] - observed[i]))
                        .sum::<f64>();
            }
        }
        self.spare = spare;
        solved.then(|| (&self.spare[..n], &self.spare[n..n + p]))
    }
}

/// Which compiled function to run.
#[derive(Clone, Copy)]
enum Which {
    Values,
    Jacobian,
    Gradient,
    DenseValues,
    DenseJacobian,
}
