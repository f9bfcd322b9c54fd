//! Path-integral Monte Carlo: sampling closed imaginary-time paths with weight `exp(−S_E/ħ)`.
//!
//! Two samplers of the same primitive action ([`EuclideanAction`]; Ceperley, Rev. Mod. Phys.
//! 67, 279 (1995)):
//!
//! * **Metropolis**: one sweep moves every slice `qₖ` in turn by a uniform step in a box of
//!   half-width `δ·sᵢ` per coordinate, `sᵢ = √(ħΔτ/Mᵢᵢ)` (the free particle's spread of a slice
//!   between fixed neighbours), accepted with `min(1, e^{−ΔS})` where `ΔS` needs only the two
//!   links and `V` at the moved slice; then one whole-path shift (all slices by the same
//!   vector, only `V` changes), which moves the centroid — the slowest mode for single-slice
//!   moves — and one reflection of the whole path through the origin (from one well of a
//!   symmetric double well to the other). Both step sizes are tuned during burn-in towards
//!   50 % acceptance.
//! * **Hybrid Monte Carlo** (Duane, Kennedy, Pendleton & Roweth, Phys. Lett. B 195, 216
//!   (1987)): Gaussian momenta for every `qₖ,ᵢ`, a leapfrog trajectory of `S_E/ħ + ½|p|²` with
//!   the exact `∇V` from dual numbers, accepted with `min(1, e^{−ΔH})`; the leapfrog step is
//!   tuned during burn-in towards 70 % acceptance and the number of steps is drawn uniformly in
//!   `[L/2, L]` per trajectory (no resonances).
//!
//! Every sweep (trajectory) after burn-in contributes one sample of the centroid-virial energy
//! ([`super::estimators`]), of `qᵢ²` averaged over slices, and all its slices to the position
//! histograms.

// Slices and coordinates are indexed as in the formulas (qₖ,ᵢ in a slice-major path).
#![allow(clippy::needless_range_loop)]

use super::action::{EuclideanAction, NaturalForm, Potential};
use super::error::QuantumError;
use super::estimators::{BinningResult, Histogram, binning};
use super::rng::Rng;
use crate::Lagrangian;

/// The sampler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PimcMethod {
    /// Single-slice Metropolis moves plus whole-path shifts.
    Metropolis,
    /// Hybrid Monte Carlo over the whole path.
    Hmc,
}

impl PimcMethod {
    /// `metropolis` or `hmc`.
    pub fn name(self) -> &'static str {
        match self {
            PimcMethod::Metropolis => "metropolis",
            PimcMethod::Hmc => "hmc",
        }
    }
}

/// Options of [`sample_paths`].
#[derive(Debug, Clone, PartialEq)]
pub struct PimcOptions {
    /// Inverse temperature `β = 1/(k_B T)`.
    pub beta: f64,
    /// Number of imaginary-time slices `P ≥ 2`.
    pub slices: usize,
    /// Measured sweeps (trajectories for HMC), `≥ 1`.
    pub sweeps: usize,
    /// Sweeps before measuring (step sizes are tuned during them).
    pub burn_in: usize,
    /// Planck's constant `ħ > 0`.
    pub hbar: f64,
    /// Seed of the random numbers.
    pub seed: u64,
    /// The sampler.
    pub method: PimcMethod,
    /// Whole-path shift moves after every Metropolis sweep.
    pub shift_moves: bool,
    /// Most leapfrog steps per HMC trajectory.
    pub leapfrog_steps: usize,
    /// Bins of each position histogram.
    pub bins: usize,
    /// Where every slice starts (default: the origin).
    pub start: Option<Vec<f64>>,
}

impl PimcOptions {
    /// Defaults: 20000 sweeps after 2000 of burn-in, `ħ = 1`, seed 0, Metropolis with shifts,
    /// 32 leapfrog steps, 60 bins.
    pub fn new(beta: f64, slices: usize) -> Self {
        Self {
            beta,
            slices,
            sweeps: 20_000,
            burn_in: 2_000,
            hbar: 1.0,
            seed: 0,
            method: PimcMethod::Metropolis,
            shift_moves: true,
            leapfrog_steps: 32,
            bins: 60,
            start: None,
        }
    }
}

/// What [`sample_paths`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct PimcResult {
    /// The centroid-virial energy per sweep: mean, binning error, autocorrelation time. At
    /// large `β` it is the ground-state energy (plus the `O(Δτ²)` bias of the action).
    pub energy: BinningResult,
    /// `⟨qᵢ⟩` per coordinate.
    pub q_mean: Vec<f64>,
    /// `⟨qᵢ²⟩` per coordinate.
    pub q2_mean: Vec<f64>,
    /// Binning error of `⟨qᵢ²⟩`.
    pub q2_error: Vec<f64>,
    /// Acceptance of the single-slice moves (Metropolis) or of the trajectories (HMC) while
    /// measuring.
    pub acceptance: f64,
    /// Acceptance of the whole-path shifts (Metropolis with shifts).
    pub shift_acceptance: Option<f64>,
    /// The tuned step in units of `sᵢ = √(ħΔτ/Mᵢᵢ)`: `δ` of the slice moves (Metropolis) or the
    /// leapfrog step (HMC, in units of the smallest `sᵢ`).
    pub step: f64,
    /// `Δτ = βħ/P`.
    pub dtau: f64,
    /// The position density of every coordinate (all slices of the measured sweeps).
    pub densities: Vec<Histogram>,
    /// The detected kinetic form.
    pub form: NaturalForm,
}

/// Accepted and tried moves since the last reset (slice moves or trajectories; shifts).
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    acc: usize,
    tries: usize,
    shift_acc: usize,
    shift_tries: usize,
}

/// The most stored positions for the histograms (sweeps are thinned beyond).
const MAX_STORED: usize = 20_000_000;
/// Blocks for the histograms' errors.
const HISTOGRAM_BLOCKS: usize = 20;
/// Sweeps per tuning window during burn-in.
const TUNE_WINDOW: usize = 20;

/// Samples closed paths of `L`'s Euclidean action (module docs). Detects the natural form
/// first ([`NaturalForm::detect`]) and checks the options.
pub fn sample_paths<L: Lagrangian + ?Sized>(
    lagrangian: &L,
    options: &PimcOptions,
) -> Result<PimcResult, QuantumError> {
    let form = NaturalForm::detect(lagrangian)?;
    let action = EuclideanAction::new(form, options.beta, options.hbar, options.slices)?;
    if options.sweeps == 0 {
        return Err(QuantumError::InvalidOption {
            option: "sweeps",
            value: 0.0,
            requirement: "at least 1",
        });
    }
    let mut sampler = Sampler::new(lagrangian, action, options)?;
    sampler.run(options)
}

struct Sampler<'a, L: Lagrangian + ?Sized> {
    potential: Potential<'a, L>,
    action: EuclideanAction,
    n: usize,
    p: usize,
    /// `P × n`, slice-major.
    path: Vec<f64>,
    /// `V(qₖ)` of the current path.
    v: Vec<f64>,
    /// `sᵢ = √(ħΔτ/Mᵢᵢ)`.
    scale: Vec<f64>,
    rng: Rng,
    trial: Vec<f64>,
    gradient: Vec<f64>,
}

impl<'a, L: Lagrangian + ?Sized> Sampler<'a, L> {
    fn new(
        lagrangian: &'a L,
        action: EuclideanAction,
        options: &PimcOptions,
    ) -> Result<Self, QuantumError> {
        let n = action.form.dof;
        let p = action.slices;
        let start = options.start.clone().unwrap_or_else(|| vec![0.0; n]);
        if start.len() != n || start.iter().any(|x| !x.is_finite()) {
            return Err(QuantumError::NonFinite {
                what: "starting position",
            });
        }
        let path: Vec<f64> = (0..p).flat_map(|_| start.iter().copied()).collect();
        let potential = Potential::new(lagrangian);
        let v0 = potential.value(&start);
        if !v0.is_finite() {
            return Err(QuantumError::NonFinite {
                what: "V at the starting position",
            });
        }
        let dtau = action.dtau();
        let scale = (0..n)
            .map(|i| (action.hbar * dtau / action.form.mass_of(i)).sqrt())
            .collect();
        Ok(Self {
            potential,
            n,
            p,
            path,
            v: vec![v0; p],
            scale,
            rng: Rng::new(options.seed),
            trial: vec![0.0; n],
            gradient: vec![0.0; n],
            action,
        })
    }

    fn slice(&self, k: usize) -> &[f64] {
        &self.path[k * self.n..(k + 1) * self.n]
    }

    /// One Metropolis sweep over the slices; returns the accepted count.
    fn metropolis_sweep(&mut self, step: f64) -> usize {
        let (n, p) = (self.n, self.p);
        let w = self.action.potential_weight();
        let mut accepted = 0;
        for k in 0..p {
            let prev = (k + p - 1) % p;
            let next = (k + 1) % p;
            for i in 0..n {
                self.trial[i] = self.path[k * n + i] + step * self.scale[i] * self.rng.symmetric();
            }
            let v_new = self.potential.value(&self.trial);
            let (a, b, c) = (self.slice(prev), self.slice(k), self.slice(next));
            let old = self.action.link(a, b) + self.action.link(b, c);
            let new = self.action.link(a, &self.trial) + self.action.link(&self.trial, c);
            let ds = new - old + w * (v_new - self.v[k]);
            if ds <= 0.0 || self.rng.uniform() < (-ds).exp() {
                self.path[k * n..(k + 1) * n].copy_from_slice(&self.trial);
                self.v[k] = v_new;
                accepted += 1;
            }
        }
        accepted
    }

    /// One sweep (burn-in and measuring alike): an HMC trajectory, or a Metropolis sweep over
    /// the slices followed, with `shifts`, by a whole-path shift and a reflection.
    fn sweep(
        &mut self,
        hmc: bool,
        shifts: bool,
        step: f64,
        shift_step: f64,
        max_steps: usize,
        counts: &mut Counts,
    ) {
        if hmc {
            counts.acc += usize::from(self.hmc_trajectory(step, max_steps));
            counts.tries += 1;
        } else {
            counts.acc += self.metropolis_sweep(step);
            counts.tries += self.p;
            if shifts {
                counts.shift_acc += usize::from(self.shift(shift_step));
                counts.shift_tries += 1;
                self.reflect();
            }
        }
    }

    /// One whole-path shift; returns whether it was accepted.
    fn shift(&mut self, step: f64) -> bool {
        let shift: Vec<f64> = (0..self.n)
            .map(|i| step * self.scale[i] * self.rng.symmetric())
            .collect();
        self.whole_path_move(|i, x| x + shift[i])
    }

    /// The whole path reflected through the origin, `q → −q`: the links do not change, only
    /// `V`, and a reflection is its own inverse, so `min(1, e^{−ΔS})` keeps detailed balance.
    /// In a symmetric double well it carries the path from one well to the other in one move,
    /// which single-slice moves and small shifts do only by rare barrier crossings (without
    /// it, a barrier of 8 in units of the ground-state energy leaves the histogram lopsided);
    /// for an asymmetric V it is simply rejected. Returns whether it was accepted.
    fn reflect(&mut self) -> bool {
        self.whole_path_move(|_, x| -x)
    }

    /// Proposes `qₖ,ᵢ → f(i, qₖ,ᵢ)` for every slice at once, a move that leaves every link
    /// `qₖ₊₁ − qₖ` unchanged (a shift or a reflection), so that only `V` enters `ΔS`; accepts it
    /// with `min(1, e^{−ΔS})`. Returns whether it was accepted.
    fn whole_path_move(&mut self, f: impl Fn(usize, f64) -> f64) -> bool {
        let (n, p) = (self.n, self.p);
        let mut v_new = vec![0.0; p];
        let mut dv = 0.0;
        for k in 0..p {
            for i in 0..n {
                self.trial[i] = f(i, self.path[k * n + i]);
            }
            v_new[k] = self.potential.value(&self.trial);
            dv += v_new[k] - self.v[k];
        }
        let ds = self.action.potential_weight() * dv;
        if ds <= 0.0 || self.rng.uniform() < (-ds).exp() {
            for k in 0..p {
                for i in 0..n {
                    self.path[k * n + i] = f(i, self.path[k * n + i]);
                }
            }
            self.v = v_new;
            true
        } else {
            false
        }
    }

    /// `S_E/ħ` of `path` and its gradient into `grad`.
    fn action_gradient(&mut self, path: &[f64], grad: &mut [f64], v: &mut [f64]) -> f64 {
        let (n, p) = (self.n, self.p);
        let w = self.action.potential_weight();
        let k_coef = 1.0 / (self.action.hbar * self.action.dtau());
        let m = &self.action.form.mass;
        let mut s = 0.0;
        for k in 0..p {
            let prev = (k + p - 1) % p;
            let next = (k + 1) % p;
            let q = &path[k * n..(k + 1) * n];
            v[k] = self.potential.gradient(q, &mut self.gradient);
            s += w * v[k] + self.action.link(q, &path[next * n..(next + 1) * n]);
            for i in 0..n {
                let mut g = 0.0;
                for j in 0..n {
                    let lap = 2.0 * path[k * n + j] - path[prev * n + j] - path[next * n + j];
                    g += m[i * n + j] * lap;
                }
                grad[k * n + i] = k_coef * g + w * self.gradient[i];
            }
        }
        s
    }

    /// One HMC trajectory; returns whether it was accepted.
    fn hmc_trajectory(&mut self, step: f64, max_steps: usize) -> bool {
        let len = self.path.len();
        let steps = max_steps / 2 + self.rng.index(max_steps - max_steps / 2 + 1);
        let steps = steps.max(1);
        let step = step * self.scale.iter().copied().fold(f64::INFINITY, f64::min);
        let mut x = self.path.clone();
        let mut mom: Vec<f64> = (0..len).map(|_| self.rng.normal()).collect();
        let mut grad = vec![0.0; len];
        let mut v = vec![0.0; self.p];
        let h0 = {
            let path = self.path.clone();
            self.action_gradient(&path, &mut grad, &mut v)
        } + 0.5 * mom.iter().map(|a| a * a).sum::<f64>();
        let mut s = 0.0;
        for _ in 0..steps {
            for (pm, g) in mom.iter_mut().zip(&grad) {
                *pm -= 0.5 * step * g;
            }
            for (xi, pm) in x.iter_mut().zip(&mom) {
                *xi += step * pm;
            }
            s = self.action_gradient(&x, &mut grad, &mut v);
            for (pm, g) in mom.iter_mut().zip(&grad) {
                *pm -= 0.5 * step * g;
            }
        }
        let h1 = s + 0.5 * mom.iter().map(|a| a * a).sum::<f64>();
        let dh = h1 - h0;
        if dh <= 0.0 || self.rng.uniform() < (-dh).exp() {
            self.path = x;
            self.v = v;
            true
        } else {
            false
        }
    }

    /// The centroid-virial energy of the current path.
    fn virial_energy(&mut self) -> f64 {
        let (n, p) = (self.n, self.p);
        let mut centroid = vec![0.0; n];
        for k in 0..p {
            for i in 0..n {
                centroid[i] += self.path[k * n + i] / p as f64;
            }
        }
        let mut sum = 0.0;
        for k in 0..p {
            let q = self.path[k * n..(k + 1) * n].to_vec();
            let v = self.potential.gradient(&q, &mut self.gradient);
            let mut virial = 0.0;
            for i in 0..n {
                virial += (q[i] - centroid[i]) * self.gradient[i];
            }
            sum += v + 0.5 * virial;
        }
        n as f64 / (2.0 * self.action.beta) + sum / p as f64
    }

    fn run(&mut self, options: &PimcOptions) -> Result<PimcResult, QuantumError> {
        let (n, p) = (self.n, self.p);
        let hmc = options.method == PimcMethod::Hmc;
        let max_steps = options.leapfrog_steps.max(1);
        let shifts = options.shift_moves && !hmc;
        // step sizes in units of sᵢ = √(ħΔτ/Mᵢᵢ): δ of the slice moves (Metropolis), the
        // leapfrog step (HMC: the stiffest free mode of the path has period ~π sᵢ, so the
        // leapfrog is stable below ~1)
        let mut step = if hmc { 0.25 } else { 1.0 };
        let mut shift_step = 1.0;
        let mut counts = Counts::default();
        let target = if hmc { 0.7 } else { 0.5 };
        for sweep in 0..options.burn_in {
            self.sweep(hmc, shifts, step, shift_step, max_steps, &mut counts);
            if (sweep + 1) % TUNE_WINDOW == 0 {
                let rate = counts.acc as f64 / counts.tries as f64;
                let (lo, hi) = if hmc { (0.7, 1.3) } else { (0.5, 2.0) };
                step *= (rate / target).clamp(lo, hi);
                step = step.clamp(1e-6, 1e6);
                if shifts {
                    let rate = counts.shift_acc as f64 / counts.shift_tries as f64;
                    shift_step = (shift_step * (rate / 0.5).clamp(0.5, 2.0)).clamp(1e-6, 1e6);
                }
                counts = Counts::default();
            }
            if !self.v.iter().all(|v| v.is_finite()) {
                return Err(QuantumError::Diverged { sweeps: sweep });
            }
        }
        counts = Counts::default();
        let thin = (options.sweeps * p * n).div_ceil(MAX_STORED).max(1);
        let mut stored: Vec<Vec<f64>> = vec![Vec::new(); n];
        let mut energies = Vec::with_capacity(options.sweeps);
        let mut q1: Vec<f64> = vec![0.0; n];
        let mut q2: Vec<Vec<f64>> = vec![Vec::with_capacity(options.sweeps); n];
        for sweep in 0..options.sweeps {
            self.sweep(hmc, shifts, step, shift_step, max_steps, &mut counts);
            let e = self.virial_energy();
            if !e.is_finite() || self.path.iter().any(|x| x.is_nan() || x.abs() >= 1e150) {
                return Err(QuantumError::Diverged {
                    sweeps: options.burn_in + sweep,
                });
            }
            energies.push(e);
            for i in 0..n {
                let mut s1 = 0.0;
                let mut s2 = 0.0;
                for k in 0..p {
                    let x = self.path[k * n + i];
                    s1 += x;
                    s2 += x * x;
                }
                q1[i] += s1 / p as f64;
                q2[i].push(s2 / p as f64);
            }
            if sweep % thin == 0 {
                for k in 0..p {
                    for (i, st) in stored.iter_mut().enumerate() {
                        st.push(self.path[k * n + i]);
                    }
                }
            }
        }
        let energy = binning(&energies);
        let q2_stats: Vec<BinningResult> = q2.iter().map(|s| binning(s)).collect();
        let densities = stored
            .iter()
            .map(|values| {
                let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let pad = 1e-9 * (hi - lo).max(1e-300) + 1e-12 * lo.abs().max(hi.abs());
                Histogram::from_series(values, lo - pad, hi + pad, options.bins, HISTOGRAM_BLOCKS)
            })
            .collect();
        Ok(PimcResult {
            energy,
            q_mean: q1.iter().map(|s| s / options.sweeps as f64).collect(),
            q2_mean: q2_stats.iter().map(|b| b.mean).collect(),
            q2_error: q2_stats.iter().map(|b| b.error).collect(),
            acceptance: counts.acc as f64 / counts.tries.max(1) as f64,
            shift_acceptance: shifts
                .then(|| counts.shift_acc as f64 / counts.shift_tries.max(1) as f64),
            step,
            dtau: self.action.dtau(),
            densities,
            form: self.action.form.clone(),
        })
    }
}
