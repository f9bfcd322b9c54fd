//! Size limits of the commands ([`lagrange_learn::limits`]), with the options named.

use anyhow::{Result, anyhow};
use lagrange_learn::limits;

/// `generate`: the dataset and its CSV text.
pub fn generate(samples: usize, coordinates: usize) -> Result<()> {
    limits::generate(samples, coordinates)
        .map_err(|e| anyhow!("--samples {samples} ({} columns) {e}", 3 * coordinates))
}

/// `learn --starts`: every start keeps its evaluation and its history until all are done.
pub fn starts(
    starts: usize,
    rows: usize,
    coordinates: usize,
    parameters: usize,
    iterations: usize,
) -> Result<()> {
    limits::starts(starts, rows, coordinates, parameters, iterations).map_err(|e| {
        anyhow!("--starts {starts} (on {rows} samples with {parameters} parameters) {e}")
    })
}

/// `landscape`: the loss at every grid point, and its CSV row.
pub fn landscape(x_count: usize, y_count: usize) -> Result<()> {
    limits::landscape(x_count, y_count)
        .map_err(|e| anyhow!("--grid {x_count} × {y_count} points {e}"))
}

/// `noise-sweep`: the clean and noisy datasets and evaluations of the fits running at once.
pub fn noise_sweep(
    levels: usize,
    repeats: usize,
    simex_repeats: usize,
    samples: usize,
    coordinates: usize,
    parameters: usize,
) -> Result<()> {
    limits::noise_sweep(levels, repeats, simex_repeats, samples, coordinates, parameters).map_err(
        |e| {
            anyhow!(
                "--samples {samples} × --repeats {repeats} × {levels} levels (--simex-repeats {simex_repeats}) {e}"
            )
        },
    )
}
