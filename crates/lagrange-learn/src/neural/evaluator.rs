//! q̈ of a trained neural model at one state, through the batched Taylor pass (batch 1, f64):
//! an [`Accelerations`] for the core integrators. It serves all three kinds; for the baseline it
//! is the only way to get q̈ (there is no Lagrangian).

use super::model::{BatchScratch, NeuralKind, NeuralModel, Samples};
use lagrange::mechanics::{Accelerations, AssemblyPath, EvaluatorInfo, MassSolve, MechanicsError};

/// The neural evaluator (see the module documentation).
#[derive(Debug)]
pub struct NeuralAccelerations<'a> {
    model: &'a NeuralModel,
    samples: Samples,
    scratch: BatchScratch<f64>,
}

impl<'a> NeuralAccelerations<'a> {
    /// An evaluator over `model`'s own weights.
    pub fn new(model: &'a NeuralModel) -> Self {
        let n = model.dof();
        Self {
            model,
            samples: Samples {
                n,
                q: vec![0.0; n],
                q_dot: vec![0.0; n],
                q_ddot: vec![0.0; n],
            },
            scratch: BatchScratch::default(),
        }
    }
}

impl Accelerations for NeuralAccelerations<'_> {
    fn dof(&self) -> usize {
        self.model.dof()
    }

    fn info(&self) -> EvaluatorInfo {
        EvaluatorInfo {
            evaluator: lagrange::mechanics::Evaluator::Network,
            path: AssemblyPath::Dense,
            constant_mass_matrix: false,
            solve: MassSolve::Dense,
        }
    }

    fn accelerations_into(
        &mut self,
        t: f64,
        q: &[f64],
        q_dot: &[f64],
        out: &mut [f64],
    ) -> Result<(), MechanicsError> {
        if self.model.kind == NeuralKind::Baseline {
            out.copy_from_slice(&self.model.baseline_accelerations(q, q_dot));
        } else {
            self.samples.q.copy_from_slice(q);
            self.samples.q_dot.copy_from_slice(q_dot);
            let acc = self
                .model
                .accelerations_batch(&self.samples, &[0], &mut self.scratch);
            match acc.into_iter().next().flatten() {
                Some(a) => out.copy_from_slice(&a),
                None => {
                    return Err(MechanicsError::SingularMassMatrix {
                        t,
                        relative_pivot: 0.0,
                    });
                }
            }
        }
        if out.iter().any(|a| !a.is_finite()) {
            return Err(MechanicsError::NonFinite {
                t,
                what: "accelerations",
            });
        }
        Ok(())
    }
}
