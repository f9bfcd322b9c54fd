//! Batches of small systems in the compiled batch loop of `lagrange-jit`: two states per
//! iteration in `f64x2` lanes, one call per block of states.
//!
//! Called once per state, the compiled equations of a double pendulum spend most of their time
//! around the arithmetic (the call, the checks, the generic solve). The parametric batch
//! functions that learning uses run a whole block in one call with the 2×2 to 4×4 solve
//! eliminated in the code; here they serve with no free parameter (θ empty). States the batch
//! code does not decide (a singular or nearly singular M, anything non-finite) go to the dual
//! numbers, whose verdict (a value or an error) is the reference's own.

use lagrange::Lagrangian;
use lagrange::MechanicsError;
use lagrange::mechanics::EquationsOfMotion;
use lagrange_jit::{ParametricEquations, ParametricLagrangian, ParametricOptions, Sample, Traced};
use lagrange_learn::system::AnySystem;

/// The batch code handles up to this many coordinates in code (larger systems solve on the
/// host per state, where the per-state compiled equations with their banded and term-kernel
/// paths do better).
pub const MAX_DOF: usize = 4;

/// States per call of the batch loop (and per parallel task).
pub const BLOCK: usize = 1024;

/// A system seen by the tracer, with no free parameter.
struct Fixed<'a>(&'a AnySystem);

impl ParametricLagrangian for Fixed<'_> {
    fn dof(&self) -> usize {
        self.0.dof()
    }
    fn num_parameters(&self) -> usize {
        0
    }
    fn has_dissipation(&self) -> bool {
        self.0.structure().dissipation
    }
    fn lagrangian(&self, _: &[Traced], t: Traced, q: &[Traced], v: &[Traced]) -> Traced {
        self.0.lagrangian(t, q, v)
    }
    fn dissipation(&self, _: &[Traced], t: Traced, q: &[Traced], v: &[Traced]) -> Traced {
        self.0.dissipation(t, q, v)
    }
}

/// The batch equations of `system`, where they apply: at most [`MAX_DOF`] coordinates, no
/// generalized forces beyond a Rayleigh function, not a trained model, and L traceable.
pub fn compile(system: &AnySystem) -> Option<ParametricEquations> {
    let structure = system.structure();
    if system.dof() > MAX_DOF || structure.generalized_forces || system.neural().is_some() {
        return None;
    }
    let options = ParametricOptions {
        derivatives: false,
        ..ParametricOptions::default()
    };
    let mut equations = ParametricEquations::new(&Fixed(system), options).ok()?;
    equations.set_parameters(&[]);
    Some(equations)
}

/// q̈ of `count` states (`state(i)` gives `(q, q_dot, t)`) into `out` (`count × n`); the first
/// state neither the batch code nor the dual numbers can evaluate is an error, with its index.
pub fn accelerations<'s>(
    equations: &mut ParametricEquations,
    system: &AnySystem,
    count: usize,
    state: impl Fn(usize) -> (&'s [f64], &'s [f64], f64),
    out: &mut [f64],
) -> Result<(), (usize, MechanicsError)> {
    let n = equations.dof();
    let mut undecided = Vec::new();
    equations.accelerations_batch(
        count,
        |i| {
            let (q, q_dot, t) = state(i);
            Sample {
                t,
                q,
                q_dot,
                observed: &[],
            }
        },
        |i, acc| match acc {
            Some(acc) => out[i * n..(i + 1) * n].copy_from_slice(acc),
            None => undecided.push(i),
        },
    );
    if undecided.is_empty() {
        return Ok(());
    }
    let mut reference = EquationsOfMotion::new(system);
    for i in undecided {
        let (q, q_dot, t) = state(i);
        reference
            .accelerations_into(t, q, q_dot, &mut out[i * n..(i + 1) * n])
            .map_err(|e| (i, e))?;
    }
    Ok(())
}
