//! Exact diagonalization of the one-dimensional grid Hamiltonian
//! `H = −ħ²/(2M) d²/dq² + V(q)`.
//!
//! Three-point finite differences on `N` interior points of `[lo, hi]` with `ψ = 0` at the ends
//! make `H` a symmetric tridiagonal matrix (diagonal `ħ²/(M h²) + V(qᵢ)`, off-diagonal
//! `−ħ²/(2M h²)`), whose eigenvalues converge as `O(h²)`. The lowest ones come from Sturm-
//! sequence bisection (the number of negative pivots of `H − λ` counts the eigenvalues below
//! `λ`), each eigenvector from inverse iteration with the converged eigenvalue (Wilkinson, *The
//! Algebraic Eigenvalue Problem*, 1965, ch. 5): `O(N)` per state, where a dense solver is
//! `O(N³)`. [`solve_potential`] chooses the grid from V: it widens it until the density at its
//! edges is negligible and refines it until the ground-state energy no longer moves.

use super::error::QuantumError;
use super::rng::Rng;

/// Eigenstates whose Boltzmann factor relative to the ground state is below `e^{−CUTOFF}` are
/// left out of the thermal density.
const CUTOFF: f64 = 40.0;
/// The most states the thermal density sums over.
const MAX_STATES: usize = 400;
/// Inverse-iteration sweeps per eigenvector (the eigenvalue is converged to rounding, so two
/// already give the vector to rounding; the third is for safety).
const INVERSE_ITERATIONS: usize = 3;

/// The lowest eigenpairs of a grid Hamiltonian.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrum {
    /// Interior grid points (the wavefunctions vanish one step beyond either end).
    pub x: Vec<f64>,
    /// Grid step `h`.
    pub step: f64,
    /// Eigenvalues, ascending.
    pub energies: Vec<f64>,
    /// Eigenvectors `ψₙ(xᵢ)`, normalized so that `Σᵢ ψₙ(xᵢ)² h = 1`; the ground state is
    /// positive.
    pub states: Vec<Vec<f64>>,
}

impl Spectrum {
    /// `|ψ₀(x)|²` on the grid.
    pub fn ground_density(&self) -> Vec<f64> {
        self.states[0].iter().map(|v| v * v).collect()
    }

    /// The thermal density `Σₙ e^{−βEₙ} |ψₙ(x)|² / Z` on the grid, over the computed states
    /// (all with `β(Eₙ − E₀) < 40` when built by [`solve_potential`] with this `β`).
    pub fn thermal_density(&self, beta: f64) -> Vec<f64> {
        let e0 = self.energies[0];
        let mut rho = vec![0.0; self.x.len()];
        let mut z = 0.0;
        for (e, psi) in self.energies.iter().zip(&self.states) {
            let w = (-beta * (e - e0)).exp();
            z += w;
            for (r, p) in rho.iter_mut().zip(psi) {
                *r += w * p * p;
            }
        }
        rho.iter().map(|r| r / z).collect()
    }

    /// The thermal energy `Σ Eₙ e^{−βEₙ} / Z` over the computed states.
    pub fn thermal_energy(&self, beta: f64) -> f64 {
        let e0 = self.energies[0];
        let (mut num, mut z) = (0.0, 0.0);
        for e in &self.energies {
            let w = (-beta * (e - e0)).exp();
            num += e * w;
            z += w;
        }
        num / z
    }

    /// A grid density at `x` by linear interpolation (0 outside the grid, where ψ vanishes).
    pub fn interpolate(&self, density: &[f64], x: f64) -> f64 {
        let n = self.x.len();
        let s = (x - self.x[0]) / self.step;
        if s < -1.0 || s > n as f64 {
            return 0.0;
        }
        let i = s.floor();
        let f = s - i;
        let at = |k: f64| {
            if k < 0.0 || k >= n as f64 {
                0.0
            } else {
                density[k as usize]
            }
        };
        (1.0 - f) * at(i) + f * at(i + 1.0)
    }

    /// The average of a grid density over each of `bins` equal bins of `[lo, hi]` (trapezoidal,
    /// 32 points per bin): what a histogram of exact samples would converge to.
    pub fn bin_average(&self, density: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<f64> {
        const SUB: usize = 32;
        let width = (hi - lo) / bins as f64;
        (0..bins)
            .map(|b| {
                let a = lo + b as f64 * width;
                let mut s = 0.0;
                for j in 0..=SUB {
                    let w = if j == 0 || j == SUB { 0.5 } else { 1.0 };
                    s += w * self.interpolate(density, a + width * j as f64 / SUB as f64);
                }
                s / SUB as f64
            })
            .collect()
    }
}

/// The lowest `states` eigenpairs of `H = −ħ²/(2M) d²/dq² + V(q)` on `points` interior points
/// of `[lo, hi]`.
pub fn solve_grid(
    potential: impl Fn(f64) -> f64,
    mass: f64,
    hbar: f64,
    (lo, hi): (f64, f64),
    points: usize,
    states: usize,
) -> Result<Spectrum, QuantumError> {
    solve_with(potential, mass, hbar, (lo, hi), points, |k, _| k < states)
}

/// [`solve_grid`] computing states while `more(k, E_k)` holds (`k ≥ 1`; the ground state is
/// always computed).
fn solve_with(
    potential: impl Fn(f64) -> f64,
    mass: f64,
    hbar: f64,
    (lo, hi): (f64, f64),
    points: usize,
    more: impl Fn(usize, f64) -> bool,
) -> Result<Spectrum, QuantumError> {
    let points = points.max(3);
    let step = (hi - lo) / (points + 1) as f64;
    let x: Vec<f64> = (1..=points).map(|i| lo + i as f64 * step).collect();
    let kinetic = hbar * hbar / (mass * step * step);
    let diagonal: Vec<f64> = x.iter().map(|&q| kinetic + potential(q)).collect();
    if diagonal.iter().any(|d| !d.is_finite()) {
        return Err(QuantumError::NonFinite {
            what: "V on the diagonalization grid",
        });
    }
    let off = -0.5 * kinetic;
    let t = Tridiagonal {
        diagonal: &diagonal,
        off,
    };
    let mut energies: Vec<f64> = Vec::new();
    let mut vectors: Vec<Vec<f64>> = Vec::new();
    let mut rng = Rng::new(0xD1A6);
    let (gmin, gmax) = diagonal
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &d| {
            (a.min(d), b.max(d))
        });
    let (gmin, gmax) = (gmin - 2.0 * off.abs(), gmax + 2.0 * off.abs());
    let mut k = 0;
    while k < points && (k == 0 || more(k, energies[k - 1])) {
        let lower = energies.last().copied().unwrap_or(gmin);
        let e = t.eigenvalue(k, lower, gmax);
        let mut v = t.eigenvector(e, &mut rng);
        // near-degenerate pairs: keep the vectors orthogonal
        let scale = 1.0 + e.abs();
        for (ej, vj) in energies.iter().zip(&vectors) {
            if (e - ej).abs() < 1e-8 * scale {
                let overlap: f64 = v.iter().zip(vj).map(|(a, b)| a * b).sum();
                for (a, b) in v.iter_mut().zip(vj) {
                    *a -= overlap * b;
                }
            }
        }
        let norm = (v.iter().map(|a| a * a).sum::<f64>() * step).sqrt();
        v.iter_mut().for_each(|a| *a /= norm);
        energies.push(e);
        vectors.push(v);
        k += 1;
    }
    // the ground state is nodeless: make it positive
    let peak = vectors[0]
        .iter()
        .copied()
        .fold(0.0_f64, |a, b| if b.abs() > a.abs() { b } else { a });
    if peak < 0.0 {
        vectors[0].iter_mut().for_each(|a| *a = -*a);
    }
    Ok(Spectrum {
        x,
        step,
        energies,
        states: vectors,
    })
}

/// A symmetric tridiagonal matrix with a constant off-diagonal.
struct Tridiagonal<'a> {
    diagonal: &'a [f64],
    off: f64,
}

impl Tridiagonal<'_> {
    /// The number of eigenvalues below `lambda` (negative pivots of the LDLᵀ factorization of
    /// `T − λ`, Sylvester's law of inertia).
    fn count_below(&self, lambda: f64) -> usize {
        let e2 = self.off * self.off;
        let mut count = 0;
        let mut q = 1.0;
        for (i, &d) in self.diagonal.iter().enumerate() {
            q = if i == 0 {
                d - lambda
            } else {
                d - lambda - e2 / q
            };
            if q == 0.0 {
                q = -f64::MIN_POSITIVE;
            }
            if q < 0.0 {
                count += 1;
            }
        }
        count
    }

    /// The `k`-th smallest eigenvalue (0-based) in `[lo, hi]` by bisection, to rounding.
    fn eigenvalue(&self, k: usize, mut lo: f64, mut hi: f64) -> f64 {
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if self.count_below(mid) > k {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        0.5 * (lo + hi)
    }

    /// The eigenvector of the (converged) eigenvalue `lambda` by inverse iteration: solves
    /// `(T − λ) x = b` with the Thomas algorithm (a pivot that vanishes is replaced by a tiny
    /// one, which only makes the growth towards the eigenvector faster).
    fn eigenvector(&self, lambda: f64, rng: &mut Rng) -> Vec<f64> {
        let n = self.diagonal.len();
        let tiny = f64::EPSILON * (lambda.abs() + self.off.abs()).max(f64::MIN_POSITIVE);
        let mut pivots = vec![0.0; n];
        for i in 0..n {
            let mut p = self.diagonal[i] - lambda;
            if i > 0 {
                p -= self.off * self.off / pivots[i - 1];
            }
            if p.abs() < tiny {
                p = if p < 0.0 { -tiny } else { tiny };
            }
            pivots[i] = p;
        }
        let mut x: Vec<f64> = (0..n).map(|_| rng.symmetric()).collect();
        for _ in 0..INVERSE_ITERATIONS {
            // forward elimination (L y = b), then back substitution (U x = y)
            for i in 1..n {
                x[i] -= self.off / pivots[i - 1] * x[i - 1];
            }
            x[n - 1] /= pivots[n - 1];
            for i in (0..n - 1).rev() {
                x[i] = (x[i] - self.off * x[i + 1]) / pivots[i];
            }
            let norm = x.iter().map(|a| a * a).sum::<f64>().sqrt();
            x.iter_mut().for_each(|a| *a /= norm);
        }
        x
    }
}

/// The smallest number of interior points [`solve_potential`] uses.
const MIN_POINTS: usize = 2001;
/// The most interior points [`solve_potential`] uses.
const MAX_POINTS: usize = 32001;
/// The most times [`solve_potential`] doubles the grid's half-width (from 1 to 4096).
const MAX_WIDENINGS: usize = 12;
/// Density at the grid's edges (relative to its peak) below which the grid is wide enough.
const EDGE: f64 = 1e-12;

/// Diagonalizes `H` on a grid chosen from V: centred on `centre`, widened (doubling from a
/// half-width of 1) until the density — thermal at `beta`, else the ground state's — at either
/// edge is below 10⁻¹² of its peak, then refined (doubling the points, 2001 to 32001) until the
/// ground-state energy changes by less than `10⁻⁹ (1 + |E₀|)`. With `beta`, it keeps every
/// state with `β(Eₙ − E₀) < 40` (at most 400).
pub fn solve_potential(
    potential: impl Fn(f64) -> f64,
    mass: f64,
    hbar: f64,
    beta: Option<f64>,
    centre: f64,
) -> Result<Spectrum, QuantumError> {
    let more = |k: usize, e: f64, e0: f64| match beta {
        None => false,
        Some(b) => k < MAX_STATES && b * (e - e0) < CUTOFF,
    };
    let solve = |half: f64, points: usize| {
        // e0 is known once the ground state is; `more` sees E_{k−1}
        let e0 = std::cell::Cell::new(f64::NAN);
        solve_with(
            &potential,
            mass,
            hbar,
            (centre - half, centre + half),
            points,
            |k, e| {
                if k == 1 {
                    e0.set(e);
                }
                more(k, e, e0.get())
            },
        )
    };
    let density = |s: &Spectrum| match beta {
        Some(b) => s.thermal_density(b),
        None => s.ground_density(),
    };
    let mut half = 1.0;
    let mut points = MIN_POINTS;
    let mut spectrum;
    let mut edge;
    let mut widenings = 0;
    loop {
        spectrum = solve(half, points)?;
        let rho = density(&spectrum);
        let peak = rho.iter().copied().fold(0.0_f64, f64::max);
        let margin = (rho.len() / 50).max(1);
        let outer = rho[..margin]
            .iter()
            .chain(&rho[rho.len() - margin..])
            .copied()
            .fold(0.0_f64, f64::max);
        edge = outer / peak;
        if edge < EDGE {
            break;
        }
        widenings += 1;
        if widenings > MAX_WIDENINGS || !edge.is_finite() {
            return Err(QuantumError::NotConfining {
                centre,
                half_width: half,
                edge,
            });
        }
        half *= 2.0;
        points = (2 * points - 1).min(MAX_POINTS);
    }
    while points < MAX_POINTS {
        let finer = solve(half, 2 * points + 1)?;
        let change = (finer.energies[0] - spectrum.energies[0]).abs();
        spectrum = finer;
        points = 2 * points + 1;
        if change < 1e-9 * (1.0 + spectrum.energies[0].abs()) {
            break;
        }
    }
    Ok(spectrum)
}
