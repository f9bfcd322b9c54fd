//! Synthetic data from any [`System`]: states drawn in a phase-space box (or along trajectories
//! started in it), accelerations from the exact equations of motion, seeded Gaussian noise.
//!
//! **Box.** `x=-2:2,x_dot=-1:1` gives the range of each named coordinate or velocity; every
//! dimension not named uses the default range `[-1, 1]` (positions and velocities alike).
//!
//! **Sampling.** Either `samples` states uniform in the box (at `t = 0`), or `K` trajectories whose
//! initial states are uniform in the box, integrated with Dormand–Prince 5(4)
//! (`rtol = 1e-10`, `atol = 1e-12`) to `t_end` and sampled at evenly spaced times including both
//! ends; the samples are split as evenly as possible among the trajectories. Accelerations are
//! [`lagrange::accelerations`] of the system at each sampled `(t, q, q̇)`.
//!
//! **Noise.** With `noise = LEVEL`, every column `c` (positions, velocities and accelerations)
//! gets independent Gaussian noise of standard deviation `σ_c = LEVEL × RMS(c)`, the RMS taken over
//! the clean column.
//!
//! **Seeding.** One ChaCha8 stream (stream 0) draws the states and another (stream 1) the noise,
//! both from `seed`, so a seed reproduces the file exactly and, for a given seed, different noise
//! levels perturb the same clean samples.

use crate::data::Dataset;
use crate::error::LearnError;
use lagrange::accelerations;
use lagrange::integrators::{Method, NoObserver, simulate};
use lagrange::systems::System;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// Default range of a dimension that the box does not name.
pub const DEFAULT_RANGE: (f64, f64) = (-1.0, 1.0);

/// A phase-space box: ranges of named coordinates (`x`) and velocities (`x_dot`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhaseBox {
    /// `(name, low, high)` in the order given.
    pub ranges: Vec<(String, f64, f64)>,
}

impl PhaseBox {
    /// Parses `x=-2:2,x_dot=-1:1` (spaces allowed; an empty string is the default box).
    pub fn parse(spec: &str) -> Result<Self, LearnError> {
        let mut ranges: Vec<(String, f64, f64)> = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let invalid = |reason| LearnError::InvalidOption {
                option: "box entry",
                value: part.to_string(),
                reason,
            };
            let bad = || invalid("expected NAME=LOW:HIGH (e.g. x=-2:2)");
            let (name, range) = part.split_once('=').ok_or_else(bad)?;
            let (lo, hi) = range.split_once(':').ok_or_else(bad)?;
            let lo: f64 = lo.trim().parse().map_err(|_| bad())?;
            let hi: f64 = hi.trim().parse().map_err(|_| bad())?;
            let name = name.trim().to_string();
            if !(lo.is_finite() && hi.is_finite()) || lo > hi {
                return Err(invalid("LOW and HIGH must be finite with LOW ≤ HIGH"));
            }
            if ranges.iter().any(|r| r.0 == name) {
                return Err(invalid(
                    "the name is already in the box (give each name once)",
                ));
            }
            ranges.push((name, lo, hi));
        }
        Ok(Self { ranges })
    }

    /// Ranges of `(q, q̇)` for these coordinates (length `2n`), defaults filled in; errors on a
    /// name that is neither a coordinate nor a velocity.
    pub fn bounds(&self, coordinates: &[String]) -> Result<Vec<(f64, f64)>, LearnError> {
        let n = coordinates.len();
        let mut out = vec![DEFAULT_RANGE; 2 * n];
        for (name, lo, hi) in &self.ranges {
            let idx = coordinates
                .iter()
                .position(|c| c == name)
                .or_else(|| {
                    coordinates
                        .iter()
                        .position(|c| format!("{c}_dot") == *name)
                        .map(|i| n + i)
                })
                .ok_or_else(|| LearnError::UnknownBoxName {
                    name: name.clone(),
                    known: coordinates
                        .iter()
                        .flat_map(|c| [c.clone(), format!("{c}_dot")])
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            out[idx] = (*lo, *hi);
        }
        Ok(out)
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateSpec {
    /// Number of samples (rows).
    pub samples: usize,
    /// Phase-space box of the states (or of the initial states of trajectories).
    pub phase_box: PhaseBox,
    /// `Some((K, t_end))`: sample along `K` trajectories to `t_end` instead of uniformly.
    pub trajectories: Option<(usize, f64)>,
    /// Relative noise level (`σ = level × RMS` of each column).
    pub noise: f64,
    /// Seed.
    pub seed: u64,
}

impl Default for GenerateSpec {
    fn default() -> Self {
        Self {
            samples: 1000,
            phase_box: PhaseBox::default(),
            trajectories: None,
            noise: 0.0,
            seed: 0,
        }
    }
}

fn draw(rng: &mut ChaCha8Rng, (lo, hi): (f64, f64)) -> f64 {
    if hi > lo {
        rng.random_range(lo..hi)
    } else {
        lo
    }
}

/// Generates a dataset from `system` (see the [module docs](self)).
pub fn generate<S: System + ?Sized>(
    system: &S,
    spec: &GenerateSpec,
) -> Result<Dataset, LearnError> {
    if spec.samples < 2 {
        return Err(LearnError::InvalidOption {
            option: "number of samples",
            value: spec.samples.to_string(),
            reason: "at least 2 samples are needed",
        });
    }
    if !(spec.noise.is_finite() && spec.noise >= 0.0) {
        return Err(LearnError::InvalidOption {
            option: "noise level",
            value: spec.noise.to_string(),
            reason: "it must be finite and ≥ 0",
        });
    }
    let coordinates = system.coordinates();
    let n = coordinates.len();
    let bounds = spec.phase_box.bounds(&coordinates)?;
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let mut data = Dataset::new(coordinates);
    let draw_state = |rng: &mut ChaCha8Rng| -> (Vec<f64>, Vec<f64>) {
        let q = (0..n).map(|i| draw(rng, bounds[i])).collect();
        let qd = (0..n).map(|i| draw(rng, bounds[n + i])).collect();
        (q, qd)
    };
    match spec.trajectories {
        None => {
            let mut failures = 0;
            while data.len() < spec.samples {
                let (q, qd) = draw_state(&mut rng);
                match accelerations(system, 0.0, &q, &qd) {
                    Ok(a) => data.push(q, qd, a),
                    Err(e) => {
                        failures += 1;
                        if failures > 100 + spec.samples {
                            return Err(LearnError::TooManyFailingStates { last: e });
                        }
                    }
                }
            }
        }
        Some((k, t_end)) => {
            if k == 0 || k > spec.samples {
                return Err(LearnError::InvalidOption {
                    option: "number of trajectories",
                    value: k.to_string(),
                    reason: "it must be between 1 and the number of samples",
                });
            }
            if !(t_end.is_finite() && t_end > 0.0) {
                return Err(LearnError::InvalidOption {
                    option: "t_end",
                    value: t_end.to_string(),
                    reason: "it must be positive and finite",
                });
            }
            let method = Method::DormandPrince54 {
                rtol: 1e-10,
                atol: 1e-12,
            };
            for j in 0..k {
                let m = spec.samples / k + usize::from(j < spec.samples % k);
                let (q0, qd0) = draw_state(&mut rng);
                if m == 1 {
                    let a = accelerations(system, 0.0, &q0, &qd0).map_err(|source| {
                        LearnError::TrajectoryState {
                            trajectory: j + 1,
                            source,
                        }
                    })?;
                    data.push(q0, qd0, a);
                    continue;
                }
                let dt = t_end / (m - 1) as f64;
                let traj = simulate(system, &method, 0.0, &q0, &qd0, t_end, dt, &mut NoObserver)
                    .map_err(|source| LearnError::Trajectory {
                        trajectory: j + 1,
                        source,
                    })?;
                for r in 0..traj.len().min(m) {
                    let a = accelerations(system, traj.t[r], &traj.q[r], &traj.q_dot[r]).map_err(
                        |source| LearnError::TrajectoryState {
                            trajectory: j + 1,
                            source,
                        },
                    )?;
                    data.push(traj.q[r].clone(), traj.q_dot[r].clone(), a);
                }
            }
        }
    }
    if spec.noise > 0.0 {
        let mut noise_rng = ChaCha8Rng::seed_from_u64(spec.seed);
        noise_rng.set_stream(1);
        add_relative_noise(&mut data, spec.noise, &mut noise_rng);
    }
    Ok(data)
}

/// Adds Gaussian noise `σ_c = level × RMS(c)` to every column `c` (RMS of the data as given).
pub fn add_relative_noise(data: &mut Dataset, level: f64, rng: &mut ChaCha8Rng) {
    let n = data.dof();
    let sigma: Vec<f64> = data.column_rms().iter().map(|r| level * r).collect();
    for i in 0..data.len() {
        for (block, rows) in [&mut data.q, &mut data.q_dot, &mut data.q_ddot]
            .into_iter()
            .enumerate()
        {
            for j in 0..n {
                rows[i][j] += sigma[block * n + j] * rng.sample::<f64, _>(StandardNormal);
            }
        }
    }
}
