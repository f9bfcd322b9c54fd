//! Size limits: a request whose data would not fit in memory is refused before anything is
//! allocated, with an error that gives the size (the caller names the option: `--samples` in
//! the CLI, `samples=` in Python).
//!
//! The estimates count what the commands keep at once (datasets, Jacobians, results, the text
//! of the output); they are rough (within a small factor) but never wrap around: they are
//! computed in `f64`, so `--samples 100000000000` gives a size, not an overflow.

use thiserror::Error;

/// A request over [`MEMORY_BUDGET`]. `Display` reads after the request, e.g. `--samples N
/// (3 columns) would need about 9.1 TiB of memory, …`.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("would need about {} of memory, over the limit of {}: ask for less", size(*.bytes), size(MEMORY_BUDGET))]
pub struct TooLarge {
    /// Estimated bytes.
    pub bytes: f64,
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Most output rows a simulation may produce (each row holds the whole state).
pub const MAX_ROWS: f64 = 2e7;

/// The most memory one command may plan to use: 4 GiB.
pub const MEMORY_BUDGET: f64 = 4.0 * GIB;

/// Bytes of one `f64`.
const F64: f64 = 8.0;
/// Bytes of one number as CSV text: `-1.2345678901234567e-300,`.
const TEXT: f64 = 25.0;
/// Bytes a `Vec` costs beyond its elements (header and allocation).
const VEC: f64 = 40.0;

/// Bytes of one sample `(q, q̇, q̈)` of `n` coordinates in a dataset.
fn sample(n: f64) -> f64 {
    3.0 * (VEC + n * F64)
}

/// Bytes of a least-squares evaluation on `rows` samples of `n` coordinates with `p`
/// parameters: the residuals and the Jacobian.
fn evaluation(rows: f64, n: f64, p: f64) -> f64 {
    rows * n * (p + 1.0) * F64
}

/// `generate`: the dataset and its CSV text.
pub fn generate(samples: usize, coordinates: usize) -> Result<(), TooLarge> {
    let (rows, n) = (samples as f64, coordinates as f64);
    check(rows * (sample(n) + 3.0 * n * TEXT))
}

/// `learn --starts`: every start keeps its evaluation and its history until all are done.
pub fn starts(
    starts: usize,
    rows: usize,
    coordinates: usize,
    parameters: usize,
    iterations: usize,
) -> Result<(), TooLarge> {
    let p = parameters as f64;
    let per_start = evaluation(rows as f64, coordinates as f64, p)
        + iterations as f64 * (VEC + (p + 2.0) * F64);
    check(starts as f64 * per_start)
}

/// `landscape`: the loss at every grid point, and its CSV row.
pub fn landscape(x_count: usize, y_count: usize) -> Result<(), TooLarge> {
    let points = x_count as f64 * y_count as f64;
    check(points * (F64 + 3.0 * TEXT))
}

/// `noise-sweep`: each fit running at once holds a clean dataset, a noisy copy and an
/// evaluation; every (level, repeat) keeps its result.
pub fn noise_sweep(
    levels: usize,
    repeats: usize,
    simex_repeats: usize,
    samples: usize,
    coordinates: usize,
    parameters: usize,
) -> Result<(), TooLarge> {
    let (rows, n, p) = (samples as f64, coordinates as f64, parameters as f64);
    let parallel = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let fit = 2.0 * rows * sample(n) + evaluation(rows, n, p);
    // per (level, repeat): its job and result, and its SIMEX jobs' parameter vectors
    let jobs = levels as f64 * repeats as f64 * (VEC + 2.0 * p * F64);
    let simex = parallel * simex_repeats as f64 * 4.0 * (VEC + p * F64);
    check(parallel * fit + jobs + simex)
}

/// Fails when `bytes` is over [`MEMORY_BUDGET`].
fn check(bytes: f64) -> Result<(), TooLarge> {
    if bytes > MEMORY_BUDGET {
        return Err(TooLarge { bytes });
    }
    Ok(())
}

/// `bytes` in binary units, e.g. `4 GiB`, `9.1 TiB`.
pub fn size(bytes: f64) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value.fract() == 0.0 || value >= 100.0 {
        format!("{value:.0} {}", units[unit])
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(size(MEMORY_BUDGET), "4 GiB");
        assert_eq!(size(1.5 * 1024.0), "1.5 KiB");
        assert_eq!(size(1e300), format!("{:.0} EiB", 1e300 / 1024f64.powi(6)));
    }

    #[test]
    fn huge_requests_are_refused_small_ones_pass() {
        assert!(generate(100_000_000_000, 1).is_err());
        assert!(generate(1_000_000, 6).is_ok());
        assert!(starts(usize::MAX, 1000, 1, 2, 100).is_err());
        assert!(starts(50, 10_000, 2, 4, 2000).is_ok());
        assert!(landscape(10_000, 10_000).is_err());
        assert!(landscape(201, 201).is_ok());
        assert!(noise_sweep(5, 5, 8, usize::MAX, 1, 2).is_err());
        assert!(noise_sweep(5, usize::MAX / 4, 8, 100, 1, 2).is_err());
        assert!(noise_sweep(5, 5, 8, 1000, 1, 2).is_ok());
    }
}
