//! Estimators of PIMC averages and their statistical errors.
//!
//! **Energy.** The centroid-virial estimator (Herman, Bruskin & Berne, J. Chem. Phys. 76, 5150
//! (1982); Ceperley 1995, sec. III.D) for `n` coordinates,
//!
//! ```text
//! E = n/(2β) + (1/P) Σₖ [ V(qₖ) + ½ (qₖ − q̄)·∇V(qₖ) ],   q̄ = (1/P) Σₖ qₖ,
//! ```
//!
//! uses the virial theorem for the kinetic energy of the path's excursions about its centroid
//! (valid for any constant `M`, since `½ pᵀM⁻¹p` is homogeneous of degree 2 in `p`), so its
//! variance does not grow with `P` as that of the thermodynamic (primitive) estimator does; the
//! centroid's own kinetic energy is the classical `n k_B T/2`. Unlike the plain virial
//! estimator `⟨V + ½ q·∇V⟩` it does not depend on the origin of `q`. At large `β` it measures
//! the ground-state energy. Both carry the primitive action's `O(Δτ²)` bias:
//! [`extrapolate_quadratic`] removes it from runs at several `Δτ`.
//!
//! **Errors.** Successive sweeps are correlated. [`binning`] averages the series in blocks of
//! `2ˡ` sweeps (Flyvbjerg & Petersen, J. Chem. Phys. 91, 461 (1989)); the naive error of the
//! block means grows with `l` until the blocks are longer than the correlation time, and the
//! plateau is the error of the mean. The integrated autocorrelation time follows as
//! `τ_int = ½ (σ_binned/σ_naive)²`.

/// Smallest number of blocks a binning level may have to count towards the error.
const MIN_BLOCKS: usize = 32;

/// The mean of a correlated series with its binning error.
#[derive(Debug, Clone, PartialEq)]
pub struct BinningResult {
    /// Mean of the series.
    pub mean: f64,
    /// Error of the mean: the largest error over the binning levels with at least
    /// [`MIN_BLOCKS`] blocks (a conservative reading of the plateau).
    pub error: f64,
    /// Error of the mean if the samples were independent.
    pub naive_error: f64,
    /// Integrated autocorrelation time in samples, `½ (error/naive_error)²`.
    pub autocorrelation_time: f64,
    /// `(block length, error)` at every level.
    pub levels: Vec<(usize, f64)>,
}

/// Mean and binning error of a correlated series (module docs).
pub fn binning(series: &[f64]) -> BinningResult {
    let n = series.len();
    let mean = if n == 0 {
        f64::NAN
    } else {
        series.iter().sum::<f64>() / n as f64
    };
    let error_of = |x: &[f64]| -> f64 {
        let m = x.len();
        if m < 2 {
            return f64::NAN;
        }
        let mu = x.iter().sum::<f64>() / m as f64;
        let var = x.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() / (m - 1) as f64;
        (var / m as f64).sqrt()
    };
    let naive_error = error_of(series);
    let mut levels = Vec::new();
    let mut blocks = series.to_vec();
    let mut length = 1;
    while blocks.len() >= MIN_BLOCKS {
        levels.push((length, error_of(&blocks)));
        blocks = blocks
            .chunks_exact(2)
            .map(|p| 0.5 * (p[0] + p[1]))
            .collect();
        length *= 2;
    }
    let error = levels
        .iter()
        .map(|l| l.1)
        .fold(naive_error, |a, e| if e > a { e } else { a });
    let ratio = if naive_error > 0.0 {
        error / naive_error
    } else {
        1.0
    };
    BinningResult {
        mean,
        error,
        naive_error,
        autocorrelation_time: 0.5 * ratio * ratio,
        levels,
    }
}

/// A normalized histogram with a statistical error per bin.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// Lower edge of the first bin.
    pub lo: f64,
    /// Upper edge of the last bin.
    pub hi: f64,
    /// Bin centres.
    pub centres: Vec<f64>,
    /// Density per bin (count / (total · width)), integrating to the fraction of samples
    /// inside `[lo, hi]`.
    pub density: Vec<f64>,
    /// Standard error of each bin's density, from its spread over consecutive blocks of the
    /// (chronologically ordered) samples.
    pub error: Vec<f64>,
}

impl Histogram {
    /// The histogram of `values` (in the order they were sampled) on `bins` equal bins of
    /// `[lo, hi]`; the error of each bin is the standard error of its density over `blocks`
    /// consecutive blocks, each much longer than the correlation time of the sampler.
    pub fn from_series(values: &[f64], lo: f64, hi: f64, bins: usize, blocks: usize) -> Self {
        let bins = bins.max(1);
        let width = (hi - lo) / bins as f64;
        let blocks = blocks.clamp(2, values.len().max(2));
        let block_len = values.len().div_ceil(blocks).max(1);
        let mut per_block: Vec<Vec<f64>> = Vec::new();
        let mut total = vec![0.0; bins];
        for chunk in values.chunks(block_len) {
            let mut counts = vec![0.0; bins];
            for &x in chunk {
                let b = ((x - lo) / width).floor();
                if b >= 0.0 && (b as usize) < bins {
                    counts[b as usize] += 1.0;
                }
            }
            for (t, c) in total.iter_mut().zip(&counts) {
                *t += c;
            }
            let norm = chunk.len() as f64 * width;
            per_block.push(counts.iter().map(|c| c / norm).collect());
        }
        let norm = values.len().max(1) as f64 * width;
        let density: Vec<f64> = total.iter().map(|c| c / norm).collect();
        let m = per_block.len() as f64;
        let error = (0..bins)
            .map(|b| {
                if per_block.len() < 2 {
                    return f64::NAN;
                }
                let mu = per_block.iter().map(|d| d[b]).sum::<f64>() / m;
                let var = per_block.iter().map(|d| (d[b] - mu).powi(2)).sum::<f64>() / (m - 1.0);
                (var / m).sqrt()
            })
            .collect();
        let centres = (0..bins).map(|b| lo + (b as f64 + 0.5) * width).collect();
        Self {
            lo,
            hi,
            centres,
            density,
            error,
        }
    }

    /// Width of one bin.
    pub fn width(&self) -> f64 {
        (self.hi - self.lo) / self.centres.len() as f64
    }
}

/// The result of [`extrapolate_quadratic`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extrapolation {
    /// The intercept `E₀` (the value at `Δτ = 0`).
    pub value: f64,
    /// Its standard error, propagated from the points' errors.
    pub error: f64,
    /// The slope `c` of `E = E₀ + c Δτ²`.
    pub slope: f64,
    /// χ² of the fit (`points − 2` degrees of freedom).
    pub chi2: f64,
}

/// Weighted least-squares fit of `y = E₀ + c x²` to points `(x, y, σ_y)` (the `O(Δτ²)` bias of
/// the primitive action), with the error of `E₀` from the fit's covariance.
pub fn extrapolate_quadratic(points: &[(f64, f64, f64)]) -> Extrapolation {
    let (mut s, mut su, mut suu, mut sy, mut suy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(x, y, e) in points {
        let w = 1.0 / (e * e);
        let u = x * x;
        s += w;
        su += w * u;
        suu += w * u * u;
        sy += w * y;
        suy += w * u * y;
    }
    let det = s * suu - su * su;
    let value = (suu * sy - su * suy) / det;
    let slope = (s * suy - su * sy) / det;
    let chi2 = points
        .iter()
        .map(|&(x, y, e)| ((y - value - slope * x * x) / e).powi(2))
        .sum();
    Extrapolation {
        value,
        error: (suu / det).sqrt(),
        slope,
        chi2,
    }
}
