//! Which code evaluates the loss: the nested dual numbers of [`crate::loss`] (`autodiff`), or
//! the model's equations of motion compiled to machine code with its parameters as runtime
//! inputs and exact parameter derivatives on the graph (`compiled`, [`lagrange_jit`]).
//!
//! Everything that evaluates the loss many times (the optimizers, the landscape, multi-start,
//! the bias-aware fits, the noise sweep) takes a [`LossEngine`] built once per command by
//! [`build_engine`]: one compilation serves every parameter vector and every dataset.
//!
//! **Same numbers as the reference.** The compiled engine decides a sample only where its
//! solve with the mass matrix is clearly regular (see [`lagrange_jit::ParametricEquations`]);
//! every other sample (near-singular, not finite) is evaluated by the autodiff path itself, so
//! that which samples count as singular, and which errors are raised, are the reference's. The
//! values agree with it to rounding (the tests check 1e-12).
//!
//! **Auto.** `auto` compiles when it can and says why when it cannot: a model whose operations
//! depend on values (the `softplus` network branches on the sign of its input) cannot be traced
//! into one graph, and runs on the autodiff engine with that reason in the [`EngineReport`].

use crate::data::Dataset;
use crate::error::LearnError;
use crate::loss::{Evaluation, LossValue, evaluate, evaluate_loss};
use crate::model::Model;
use serde::{Deserialize, Serialize};

/// Which engine evaluates the loss (`--engine`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// Compiled where the model can be compiled, autodiff otherwise (with the reason).
    #[default]
    Auto,
    /// Nested dual numbers through the core engine.
    Autodiff,
    /// Compiled equations of motion; an error where the model cannot be compiled.
    Compiled,
}

impl Engine {
    /// Parses `auto`, `autodiff` or `compiled`.
    pub fn parse(s: &str) -> Result<Self, LearnError> {
        match s {
            "auto" => Ok(Self::Auto),
            "autodiff" => Ok(Self::Autodiff),
            "compiled" => Ok(Self::Compiled),
            _ => Err(LearnError::InvalidOption {
                option: "engine",
                value: s.to_string(),
                reason: "use auto, autodiff or compiled",
            }),
        }
    }

    /// The name `parse` reads.
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Autodiff => "autodiff",
            Self::Compiled => "compiled",
        }
    }
}

/// What a [`LossEngine`] is, for results and `--stats`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EngineReport {
    /// What was asked for.
    pub requested: Engine,
    /// `"compiled"` or `"autodiff"`.
    pub used: String,
    /// Why `auto` did not compile (absent when it did, or when autodiff was asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Seconds spent tracing, differentiating and compiling (0 for autodiff).
    pub compile_seconds: f64,
    /// How the compiled code solves with the mass matrix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mass_matrix: Option<String>,
    /// How the parameter derivatives were taken on the graph (`forward`, `reverse`, `forward and
    /// reverse` on term kernels, `none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derivatives: Option<String>,
    /// Operations of the compiled code for q̈, and for its parameter derivatives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<[usize; 2]>,
}

impl EngineReport {
    fn autodiff(requested: Engine, reason: Option<String>) -> Self {
        Self {
            requested,
            used: "autodiff".into(),
            reason,
            compile_seconds: 0.0,
            mass_matrix: None,
            derivatives: None,
            operations: None,
        }
    }

    /// One line for `--stats` and stderr: `engine: compiled (…)` or `engine: autodiff (…)`.
    pub fn summary(&self) -> String {
        match (&self.reason, self.mass_matrix.as_deref()) {
            (Some(reason), _) => format!("engine: autodiff ({reason})"),
            (None, Some(mass)) => format!(
                "engine: compiled in {:.3} s (mass matrix: {mass}; parameter derivatives: {})",
                self.compile_seconds,
                self.derivatives.as_deref().unwrap_or("none")
            ),
            (None, None) => format!("engine: {}", self.used),
        }
    }
}

/// The loss and its derivatives at a parameter vector, on some dataset.
pub trait LossEngine: Sync {
    /// The loss at `theta`.
    fn loss(&self, data: &Dataset, theta: &[f64]) -> Result<LossValue, LearnError>;
    /// Loss, residuals, Jacobian and gradient at `theta` (what Levenberg–Marquardt needs).
    fn evaluate(&self, data: &Dataset, theta: &[f64]) -> Result<Evaluation, LearnError>;
    /// The loss and its gradient `∂ε/∂θ` (what Adam needs).
    fn loss_and_gradient(
        &self,
        data: &Dataset,
        theta: &[f64],
    ) -> Result<(LossValue, Vec<f64>), LearnError> {
        self.evaluate(data, theta).map(|e| (e.value, e.gradient))
    }
    /// What this engine is.
    fn report(&self) -> &EngineReport;
    /// Sample evaluations the compiled code left to the autodiff reference so far (singular or
    /// nearly singular mass matrices, values that are not finite); 0 for the autodiff engine.
    fn reference_samples(&self) -> usize {
        0
    }
}

/// The reference engine: nested dual numbers through [`lagrange::accelerations`]
/// ([`crate::loss`]).
pub struct Autodiff<'m, M: ?Sized> {
    model: &'m M,
    report: EngineReport,
}

impl<'m, M: Model + Sync + ?Sized> Autodiff<'m, M> {
    /// The autodiff engine of `model`.
    pub fn new(model: &'m M) -> Self {
        Self {
            model,
            report: EngineReport::autodiff(Engine::Autodiff, None),
        }
    }
}

impl<M: Model + Sync + ?Sized> LossEngine for Autodiff<'_, M> {
    fn loss(&self, data: &Dataset, theta: &[f64]) -> Result<LossValue, LearnError> {
        evaluate_loss(self.model, data, theta)
    }
    fn evaluate(&self, data: &Dataset, theta: &[f64]) -> Result<Evaluation, LearnError> {
        evaluate(self.model, data, theta)
    }
    fn report(&self) -> &EngineReport {
        &self.report
    }
}

/// Builds the engine `choice` for `model`. With `derivatives` false only [`LossEngine::loss`]
/// is fast on the compiled engine (the others then use the reference path): enough for a
/// landscape, and less to compile.
///
/// # Errors
/// [`LearnError::EngineUnavailable`] when `compiled` was asked for and the model cannot be
/// compiled (or the crate was built without the `compiled` feature).
pub fn build_engine<'m, M: Model + Sync + ?Sized>(
    model: &'m M,
    choice: Engine,
    derivatives: bool,
) -> Result<Box<dyn LossEngine + 'm>, LearnError> {
    build_engine_with(model, choice, derivatives, None)
}

/// [`build_engine`], choosing how a model declared as local terms compiles: `Some(true)` as
/// loop kernels per class of alike terms, `Some(false)` as straight-line code, `None` as the
/// compiler decides (kernels from `lagrange_jit::MIN_TERM_COORDINATES` coordinates on). The
/// results agree to rounding; this is for benchmarks and tests.
///
/// # Errors
/// As [`build_engine`].
pub fn build_engine_with<'m, M: Model + Sync + ?Sized>(
    model: &'m M,
    choice: Engine,
    derivatives: bool,
    term_kernels: Option<bool>,
) -> Result<Box<dyn LossEngine + 'm>, LearnError> {
    if choice == Engine::Autodiff {
        return Ok(Box::new(Autodiff::new(model)));
    }
    match compiled::Compiled::new(model, choice, derivatives, term_kernels) {
        Ok(engine) => Ok(Box::new(engine)),
        Err(reason) if choice == Engine::Auto => Ok(Box::new(Autodiff {
            model,
            report: EngineReport::autodiff(Engine::Auto, Some(reason)),
        })),
        Err(reason) => Err(LearnError::EngineUnavailable { reason }),
    }
}

#[cfg(feature = "compiled")]
mod compiled {
    use super::{Engine, EngineReport, LossEngine};
    use crate::data::Dataset;
    use crate::error::LearnError;
    use crate::loss::{
        Evaluation, LossValue, Rows, assemble, check_coordinates, finish, finish_sparse,
        sample_loss, sample_rows_classified,
    };
    use crate::model::Model;
    use lagrange_jit::{
        CompileError, ParametricEquations, ParametricLagrangian, ParametricOptions, Sample,
        TermKernels, TraceError, Traced,
    };
    use rayon::prelude::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Samples per parallel task (one call of the compiled batch loop): each task takes a warm
    /// copy of the compiled code's buffers from the pool, and the partial gradients are added
    /// in block order, so results do not depend on the threads.
    const BLOCK: usize = 1024;

    /// A [`Model`] seen by the tracer: parameters and state both [`Traced`].
    pub(crate) struct Traceable<'a, M: ?Sized>(pub(crate) &'a M);

    impl<M: Model + ?Sized> ParametricLagrangian for Traceable<'_, M> {
        fn dof(&self) -> usize {
            self.0.dof()
        }
        fn num_parameters(&self) -> usize {
            self.0.initial_parameters().len()
        }
        fn has_dissipation(&self) -> bool {
            self.0.structure().dissipation
        }
        fn lagrangian(&self, theta: &[Traced], t: Traced, q: &[Traced], v: &[Traced]) -> Traced {
            self.0.lagrangian_over::<Traced, Traced>(theta, t, q, v)
        }
        fn dissipation(&self, theta: &[Traced], t: Traced, q: &[Traced], v: &[Traced]) -> Traced {
            self.0.dissipation_over::<Traced, Traced>(theta, t, q, v)
        }
        fn num_terms(&self) -> usize {
            self.0.structure().local_terms
        }
        fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
            self.0.term_coordinates(k, coordinates);
        }
        fn term(
            &self,
            k: usize,
            theta: &[Traced],
            t: Traced,
            q: &[Traced],
            v: &[Traced],
        ) -> Traced {
            self.0.term_over::<Traced, Traced>(theta, k, t, q, v)
        }
    }

    /// Why a model could not be compiled, in words for a report.
    fn reason(e: &CompileError) -> String {
        match e {
            CompileError::Trace(TraceError::ValueDependent { reasons }) => {
                format!("the model {}", reasons.join(", and "))
            }
            CompileError::TooLarge { operations, limit } => {
                format!("the compiled equations would have {operations} operations (limit {limit})")
            }
            e => e.to_string(),
        }
    }

    /// The compiled engine; samples it does not decide go to the model's autodiff path.
    pub(crate) struct Compiled<'m, M: ?Sized> {
        model: &'m M,
        equations: ParametricEquations,
        report: EngineReport,
        fallbacks: AtomicUsize,
        /// Copies of `equations` whose buffers are warm, reused from call to call: a fresh
        /// copy per block would allocate (and page-fault in) its buffers on every call.
        pool: Mutex<Vec<ParametricEquations>>,
    }

    impl<'m, M: Model + Sync + ?Sized> Compiled<'m, M> {
        pub(crate) fn new(
            model: &'m M,
            choice: Engine,
            derivatives: bool,
            term_kernels: Option<bool>,
        ) -> Result<Self, String> {
            if model.structure().generalized_forces {
                return Err("the model declares generalized forces".into());
            }
            let options = ParametricOptions {
                derivatives,
                term_kernels: match term_kernels {
                    None => TermKernels::Auto,
                    Some(true) => TermKernels::Always,
                    Some(false) => TermKernels::Never,
                },
                ..ParametricOptions::default()
            };
            let equations =
                ParametricEquations::new(&Traceable(model), options).map_err(|e| reason(&e))?;
            let stats = equations.stats();
            let report = EngineReport {
                requested: choice,
                used: "compiled".into(),
                reason: None,
                compile_seconds: stats.compile_seconds,
                mass_matrix: Some(stats.mass_matrix.clone()),
                derivatives: Some(stats.derivatives.into()),
                operations: Some([stats.compiled_operations, stats.derivative_operations]),
            };
            Ok(Self {
                model,
                equations,
                report,
                fallbacks: AtomicUsize::new(0),
                pool: Mutex::new(Vec::new()),
            })
        }

        /// The blocks of sample indices, each run by `f` on its own copy of the code (with θ
        /// set), in parallel; the results in block order.
        fn blocks<R: Send>(
            &self,
            data: &Dataset,
            theta: &[f64],
            f: impl Fn(&mut ParametricEquations, std::ops::Range<usize>) -> Result<R, LearnError> + Sync,
        ) -> Result<Vec<R>, LearnError> {
            check_coordinates(self.model, data)?;
            if theta.len() != self.equations.num_parameters() {
                return Err(LearnError::ParameterCount {
                    what: "parameter vector",
                    given: theta.len(),
                    expected: self.equations.num_parameters(),
                });
            }
            let len = data.len();
            (0..len.div_ceil(BLOCK))
                .into_par_iter()
                .map(|b| {
                    let pool = || self.pool.lock().unwrap_or_else(|e| e.into_inner());
                    let mut eq = pool().pop().unwrap_or_else(|| self.equations.clone());
                    eq.set_parameters(theta);
                    let result = f(&mut eq, b * BLOCK..((b + 1) * BLOCK).min(len));
                    pool().push(eq);
                    result
                })
                .collect()
        }
    }

    /// Sample `start + j` for the batch methods (t = 0: the data are autonomous states).
    fn sample<'d>(data: &'d Dataset, start: usize) -> impl Fn(usize) -> Sample<'d> {
        move |j| {
            let i = start + j;
            Sample {
                t: 0.0,
                q: &data.q[i],
                q_dot: &data.q_dot[i],
                observed: &data.q_ddot[i],
            }
        }
    }

    impl<M: Model + Sync + ?Sized> LossEngine for Compiled<'_, M> {
        fn loss(&self, data: &Dataset, theta: &[f64]) -> Result<LossValue, LearnError> {
            let blocks = self.blocks(data, theta, |eq, range| {
                let start = range.start;
                let mut losses = vec![None; range.len()];
                let mut undecided = Vec::new();
                eq.accelerations_batch(range.len(), sample(data, start), |j, acc| match acc {
                    Some(acc) => {
                        let obs = &data.q_ddot[start + j];
                        losses[j] = Some(acc.iter().zip(obs).map(|(x, y)| (x - y) * (x - y)).sum());
                    }
                    None => undecided.push(j),
                });
                self.fallbacks.fetch_add(undecided.len(), Ordering::Relaxed);
                for j in undecided {
                    losses[j] = sample_loss(self.model, theta, data, start + j)?;
                }
                Ok(losses)
            })?;
            finish(data, blocks.concat())
        }

        fn evaluate(&self, data: &Dataset, theta: &[f64]) -> Result<Evaluation, LearnError> {
            if !self.equations.has_derivatives() {
                return crate::loss::evaluate(self.model, data, theta);
            }
            let blocks = self.blocks(data, theta, |eq, range| {
                let start = range.start;
                let mut rows: Vec<Option<Rows>> = vec![None; range.len()];
                let mut undecided = Vec::new();
                eq.jacobian_batch(range.len(), sample(data, start), |j, result| match result {
                    Some((acc, jac)) => {
                        let obs = &data.q_ddot[start + j];
                        let residual = acc.iter().zip(obs).map(|(a, y)| a - y).collect();
                        rows[j] = Some((residual, jac.to_vec()));
                    }
                    None => undecided.push(j),
                });
                self.fallbacks.fetch_add(undecided.len(), Ordering::Relaxed);
                for j in undecided {
                    rows[j] = sample_rows_classified(self.model, theta, data, start + j)?;
                }
                Ok(rows)
            })?;
            assemble(data, blocks.concat(), theta.len())
        }

        fn loss_and_gradient(
            &self,
            data: &Dataset,
            theta: &[f64],
        ) -> Result<(LossValue, Vec<f64>), LearnError> {
            if !self.equations.has_derivatives() {
                return self.evaluate(data, theta).map(|e| (e.value, e.gradient));
            }
            let (n, np) = (data.dof(), theta.len());
            // per block: the loss over its regular samples, their gradient, the singular ones
            let blocks =
                self.blocks(data, theta, |eq, range| {
                    let start = range.start;
                    let (mut sum, mut total, mut undecided) = (0.0, vec![0.0; np], Vec::new());
                    eq.loss_gradient_batch(range.len(), sample(data, start), |j, result| {
                        match result {
                            Some((loss, grad)) => {
                                for (t, g) in total.iter_mut().zip(grad) {
                                    *t += g;
                                }
                                sum += loss;
                            }
                            None => undecided.push(start + j),
                        }
                    });
                    self.fallbacks.fetch_add(undecided.len(), Ordering::Relaxed);
                    let mut singular = Vec::new();
                    for i in undecided {
                        match sample_rows_classified(self.model, theta, data, i)? {
                            Some((r, j)) => {
                                for (k, t) in total.iter_mut().enumerate() {
                                    *t += 2.0 * (0..n).map(|a| j[a * np + k] * r[a]).sum::<f64>();
                                }
                                sum += r.iter().map(|x| x * x).sum::<f64>();
                            }
                            None => singular.push(i),
                        }
                    }
                    Ok((sum, total, singular))
                })?;
            let mut gradient = vec![0.0; np];
            let (mut sum, mut singular) = (0.0, Vec::new());
            for (s, g, z) in blocks {
                sum += s;
                singular.extend(z);
                for (a, b) in gradient.iter_mut().zip(&g) {
                    *a += b;
                }
            }
            Ok((finish_sparse(data, sum, &singular)?, gradient))
        }

        fn report(&self) -> &EngineReport {
            &self.report
        }

        fn reference_samples(&self) -> usize {
            self.fallbacks.load(Ordering::Relaxed)
        }
    }
}

#[cfg(not(feature = "compiled"))]
mod compiled {
    use super::{Engine, EngineReport, LossEngine};
    use crate::data::Dataset;
    use crate::error::LearnError;
    use crate::loss::{Evaluation, LossValue};
    use crate::model::Model;

    /// Stands in for the compiled engine in a build without the `compiled` feature.
    pub(crate) enum Compiled {}

    impl Compiled {
        pub(crate) fn new<M: Model + Sync + ?Sized>(
            _model: &M,
            _choice: Engine,
            _derivatives: bool,
            _term_kernels: Option<bool>,
        ) -> Result<Self, String> {
            Err("lagrange-learn was built without the `compiled` feature".into())
        }
    }

    impl LossEngine for Compiled {
        fn loss(&self, _: &Dataset, _: &[f64]) -> Result<LossValue, LearnError> {
            match *self {}
        }
        fn evaluate(&self, _: &Dataset, _: &[f64]) -> Result<Evaluation, LearnError> {
            match *self {}
        }
        fn report(&self) -> &EngineReport {
            match *self {}
        }
    }
}
