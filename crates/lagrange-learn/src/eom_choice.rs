//! Which code evaluates q̈ for a run: dual numbers through the engine, compiled machine code, or
//! a trained network's batched Taylor pass, chosen as the user asks (`auto`, `autodiff`,
//! `compiled`).
//!
//! The CLI's `simulate --eom` and the Python bindings' `evaluator=` both choose here, so that
//! `auto` makes the same decision in both.

use crate::neural::NeuralAccelerations;
use crate::system::AnySystem;
use lagrange::integrators::Method;
use lagrange::mechanics::{Accelerations, EquationsOfMotion};
use lagrange_jit::CompiledEquations;
use std::time::{Duration, Instant};
use thiserror::Error;

/// `auto` compiles only when dual numbers would take longer than this in total: below it,
/// compiling (0.5–20 ms for the built-ins) cannot pay for itself.
pub const AUTO_COMPILE_ABOVE: Duration = Duration::from_millis(20);

/// How q̈ is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EomChoice {
    /// Compile when tracing succeeds and the work repays it, else dual numbers (default).
    Auto,
    /// Dual numbers.
    Autodiff,
    /// Compiled code; an error when L cannot be traced.
    Compiled,
}

impl EomChoice {
    /// The names accepted by [`parse`](Self::parse).
    pub const NAMES: [&'static str; 3] = ["auto", "autodiff", "compiled"];

    /// `auto`, `autodiff` or `compiled` (ASCII case and surrounding blanks ignored).
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Self::Auto),
            "autodiff" => Some(Self::Autodiff),
            "compiled" => Some(Self::Compiled),
            _ => None,
        }
    }
}

/// Why the evaluator asked for cannot serve. `Display` is one line, without the option's name
/// (the caller says `--eom compiled` or `evaluator="compiled"`).
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EomChoiceError {
    /// The variational integrator on a `baseline` model.
    #[error(
        "the variational integrator needs a Lagrangian, and a baseline model has none (use the dopri5 or rk4 integrator)"
    )]
    VariationalWithoutLagrangian,
    /// `compiled` for a trained model.
    #[error(
        "a trained model runs as its network's batched Taylor pass, not as compiled code (use auto)"
    )]
    CompiledNeural,
    /// `autodiff` for a `baseline` model.
    #[error("a baseline model has no Lagrangian to differentiate (use auto)")]
    AutodiffBaseline,
    /// `compiled` for a Lagrangian that cannot be traced.
    #[error("{reason} (use auto or autodiff)")]
    CannotCompile {
        /// Why tracing or compiling failed.
        reason: String,
    },
}

/// The q̈ evaluator chosen and why.
pub struct ChosenEvaluator<'a> {
    pub eom: Box<dyn Accelerations + Send + 'a>,
    /// Seconds spent compiling (0 when nothing was compiled).
    pub compile_seconds: f64,
    /// Why `auto` chose what it chose (empty when the user chose).
    pub note: String,
    /// Threads the term kernels run on (1 unless some are split).
    pub threads: usize,
}

/// Compiles the equations of motion of `system`, with its term kernels split over `threads`
/// threads of rayon's global pool when they are large enough. Returns the code, the seconds it
/// took and the threads used.
pub fn compile(
    system: &AnySystem,
    threads: usize,
) -> Result<(CompiledEquations, f64, usize), EomChoiceError> {
    let start = Instant::now();
    let mut eom = CompiledEquations::new(system).map_err(|e| EomChoiceError::CannotCompile {
        reason: e.to_string(),
    })?;
    let split = eom.set_threads(threads);
    if split > 0 {
        // the kernels run on rayon's global pool: size it once (a second call fails harmlessly
        // when it already exists)
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global();
    }
    let threads = if split > 0 { threads } else { 1 };
    Ok((eom, start.elapsed().as_secs_f64(), threads))
}

/// The run an evaluator is chosen for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunPlan {
    pub method: Method,
    /// The run goes from 0 to `t_end` …
    pub t_end: f64,
    /// … with output every `dt`.
    pub dt: f64,
    /// Threads the term kernels of compiled code may use.
    pub threads: usize,
}

/// The evaluator `choice` asks for, for the run `plan` from `(q, q_dot)`; `auto` compiles when
/// L can be traced and dual numbers would take longer than [`AUTO_COMPILE_ABOVE`] over the
/// whole run.
pub fn choose_evaluator<'a>(
    system: &'a AnySystem,
    choice: EomChoice,
    plan: &RunPlan,
    q: &[f64],
    q_dot: &[f64],
) -> Result<ChosenEvaluator<'a>, EomChoiceError> {
    let RunPlan {
        method,
        t_end,
        dt,
        threads,
    } = *plan;
    let autodiff = |note: String| ChosenEvaluator {
        eom: Box::new(EquationsOfMotion::new(system)),
        compile_seconds: 0.0,
        note,
        threads: 1,
    };
    if let Some(neural) = system.neural() {
        let lagrangian = system.has_lagrangian();
        if method == Method::Variational {
            if !lagrangian {
                return Err(EomChoiceError::VariationalWithoutLagrangian);
            }
            return Ok(autodiff(
                "the variational integrator differentiates the network's L itself".into(),
            ));
        }
        match choice {
            EomChoice::Compiled => return Err(EomChoiceError::CompiledNeural),
            EomChoice::Autodiff if !lagrangian => return Err(EomChoiceError::AutodiffBaseline),
            EomChoice::Autodiff => return Ok(autodiff(String::new())),
            EomChoice::Auto => {}
        }
        return Ok(ChosenEvaluator {
            eom: Box::new(NeuralAccelerations::new(&neural.model)),
            compile_seconds: 0.0,
            threads: 1,
            note: "a trained model: the network's batched Taylor pass".into(),
        });
    }
    let compiled = |(mut eom, compile_seconds, threads): (CompiledEquations, f64, usize), note| {
        // the integrators check every state they make, and a q̇ that is not finite shows in
        // the next one: q̈ need not re-read q̇ where it does not depend on it
        eom.set_velocity_check(false);
        ChosenEvaluator {
            eom: Box::new(eom),
            compile_seconds,
            note,
            threads,
        }
    };
    match choice {
        EomChoice::Autodiff => Ok(autodiff(String::new())),
        EomChoice::Compiled if method == Method::Variational => Ok(autodiff(
            "the variational integrator differentiates L itself".into(),
        )),
        EomChoice::Compiled => Ok(compiled(compile(system, threads)?, String::new())),
        EomChoice::Auto => {
            if method == Method::Variational {
                return Ok(autodiff(
                    "the variational integrator differentiates L itself".into(),
                ));
            }
            let estimate = autodiff_seconds(system, q, q_dot) * evaluations(method, t_end, dt);
            if estimate < AUTO_COMPILE_ABOVE.as_secs_f64() {
                return Ok(autodiff(format!(
                    "dual numbers need ≈ {estimate:.1e} s in all, too little to repay compiling"
                )));
            }
            match compile(system, threads) {
                Ok(code) => Ok(compiled(
                    code,
                    format!("dual numbers would need ≈ {estimate:.1e} s: compiled"),
                )),
                Err(e) => Ok(autodiff(format!("cannot compile ({e}): dual numbers"))),
            }
        }
    }
}

/// Evaluations of q̈ a run of `method` is expected to make.
fn evaluations(method: Method, t_end: f64, dt: f64) -> f64 {
    let steps = (t_end / dt).ceil().max(1.0);
    match method {
        Method::Euler => steps,
        Method::Rk4 => 4.0 * steps,
        // adaptive: at least six stages per output interval, usually more
        Method::DormandPrince54 { .. } => 6.0 * steps.max(10.0),
        Method::Variational => 0.0,
    }
}

/// Seconds one dual-number evaluation of q̈ takes at `(q, q_dot)`: the best of a few timed
/// calls.
pub fn autodiff_seconds(system: &AnySystem, q: &[f64], q_dot: &[f64]) -> f64 {
    let mut eom = EquationsOfMotion::new(system);
    let mut out = vec![0.0; q.len()];
    // the first call may factor a constant mass matrix: time the calls after it
    let _ = eom.accelerations_into(0.0, q, q_dot, &mut out);
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let start = Instant::now();
        let _ = eom.accelerations_into(0.0, q, q_dot, &mut out);
        best = best.min(start.elapsed().as_secs_f64());
    }
    best
}
