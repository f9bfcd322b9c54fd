//! Lattice fields: the hand-written stencils the compiled density is measured against
//! (`lagrange bench --fields`).
//!
//! Two equations, each as a careful Rust programmer would write it without the engine:
//!
//! * sine-Gordon in 1-D, periodic: `q̈_i = (q_{i+1} − 2q_i + q_{i−1})/a² − sin q_i`, the
//!   Euler–Lagrange equation of `L = Σ_i a (½φ_t² − ½φ_x² − (1 − cos φ))` with
//!   `φ_x = (φ_{i+1} − φ_i)/a` ([`sine_gordon_toml`]);
//! * the wave equation in 2-D, periodic: the 5-point Laplacian `q̈ = (q_N + q_S + q_E + q_W −
//!   4q)/a²` of `½u_t² − ½(u_x² + u_y²)` ([`wave_2d_toml`]), site `(i, j)` at index `i·ny + j`
//!   (the lattice's order).
//!
//! Plain loops (the wrap-around ends peeled so that the interior is a bounds-check-free
//! `windows` loop the compiler may vectorize), no SIMD intrinsics; the two-thread versions cut the
//! sites (rows in 2-D) into two contiguous halves and run them through a `join` of the caller's
//! choice ([`scoped_join`]: `std::thread::scope`; or `rayon::join` on a persistent pool).
//! Each site's arithmetic is the same whatever the split, so the threaded results equal the
//! sequential ones bit for bit.
//!
//! [`interleaved_ns`] is the timing of the table: the median of batches, the methods' batches
//! interleaved (as [`crate::measure`] does for the EOM table).

use std::time::Instant;

/// One half of a two-thread job (see [`scoped_join`]).
pub type Task<'a> = Box<dyn FnOnce() + Send + 'a>;

/// Runs `a` on a new scoped thread and `b` on the calling one; returns when both are done.
pub fn scoped_join(a: Task<'_>, b: Task<'_>) {
    std::thread::scope(|s| {
        s.spawn(a);
        b();
    });
}

/// The system file of sine-Gordon on a periodic ring of `sites` sites, spacing `a`, with a kink
/// at `x = 20` as initial condition (the example of the field docs).
pub fn sine_gordon_toml(sites: usize, a: f64) -> String {
    format!(
        "name = \"sine-Gordon\"\n[field]\nnames = [\"phi\"]\nsites = [{sites}]\nspacing = {a:?}\n\
         boundary = \"periodic\"\ndensity = \"0.5*phi_t^2 - 0.5*phi_x^2 - (1 - cos(phi))\"\n\
         [initial]\nphi = \"4*atan(exp((x - 20)/sqrt(0.75)))\"\n"
    )
}

/// The system file of the wave equation on a periodic `nx × ny` torus, spacing `a`.
pub fn wave_2d_toml(nx: usize, ny: usize, a: f64) -> String {
    format!(
        "name = \"wave 2-D\"\n[field]\nnames = [\"u\"]\nsites = [{nx}, {ny}]\nspacing = {a:?}\n\
         boundary = \"periodic\"\ndensity = \"0.5*u_t^2 - 0.5*(u_x^2 + u_y^2)\"\n"
    )
}

/// sine-Gordon q̈ of the sites `start .. start + out.len()` of a periodic ring `q` into `out`.
///
/// # Panics
/// If the ring has fewer than 3 sites or the range goes past its end.
pub fn sine_gordon_1d_range(q: &[f64], inv_a2: f64, start: usize, out: &mut [f64]) {
    let n = q.len();
    let end = start + out.len();
    assert!(n >= 3 && end <= n, "{n} sites, range {start}..{end}");
    if out.is_empty() {
        return;
    }
    if start == 0 {
        out[0] = (q[1] - 2.0 * q[0] + q[n - 1]) * inv_a2 - q[0].sin();
    }
    let (lo, hi) = (start.max(1), end.min(n - 1));
    if lo < hi {
        for (a, w) in out[lo - start..hi - start]
            .iter_mut()
            .zip(q[lo - 1..hi + 1].windows(3))
        {
            *a = (w[2] - 2.0 * w[1] + w[0]) * inv_a2 - w[1].sin();
        }
    }
    if end == n {
        out[n - 1 - start] = (q[0] - 2.0 * q[n - 1] + q[n - 2]) * inv_a2 - q[n - 1].sin();
    }
}

/// sine-Gordon q̈ of a periodic ring, one thread.
pub fn sine_gordon_1d(q: &[f64], inv_a2: f64, acc: &mut [f64]) {
    assert_eq!(q.len(), acc.len());
    sine_gordon_1d_range(q, inv_a2, 0, acc);
}

/// sine-Gordon q̈ of a periodic ring, the two halves of the sites run by `join` (two threads).
pub fn sine_gordon_1d_2t(
    q: &[f64],
    inv_a2: f64,
    acc: &mut [f64],
    join: impl for<'a> FnOnce(Task<'a>, Task<'a>),
) {
    assert_eq!(q.len(), acc.len());
    let half = q.len() / 2;
    let (first, second) = acc.split_at_mut(half);
    join(
        Box::new(move || sine_gordon_1d_range(q, inv_a2, 0, first)),
        Box::new(move || sine_gordon_1d_range(q, inv_a2, half, second)),
    );
}

/// 2-D wave q̈ (5-point Laplacian / a²) of the rows `row0 ..` (`out.len() / ny` of them) of a
/// periodic `nx × ny` torus `q` (site `(i, j)` at `i·ny + j`) into `out`.
///
/// # Panics
/// If a side has fewer than 3 sites, or the sizes do not fit.
pub fn wave_2d_rows(q: &[f64], nx: usize, ny: usize, inv_a2: f64, row0: usize, out: &mut [f64]) {
    assert!(
        nx >= 3 && ny >= 3 && q.len() == nx * ny,
        "{nx} × {ny} sites"
    );
    assert!(out.len().is_multiple_of(ny) && row0 * ny + out.len() <= q.len());
    for (r, o) in out.chunks_exact_mut(ny).enumerate() {
        let i = row0 + r;
        let row = &q[i * ny..(i + 1) * ny];
        let up = &q[((i + nx - 1) % nx) * ny..][..ny];
        let down = &q[((i + 1) % nx) * ny..][..ny];
        o[0] = (up[0] + down[0] + row[1] + row[ny - 1] - 4.0 * row[0]) * inv_a2;
        for (((a, w), u), d) in o[1..ny - 1]
            .iter_mut()
            .zip(row.windows(3))
            .zip(&up[1..ny - 1])
            .zip(&down[1..ny - 1])
        {
            *a = (u + d + w[2] + w[0] - 4.0 * w[1]) * inv_a2;
        }
        o[ny - 1] = (up[ny - 1] + down[ny - 1] + row[0] + row[ny - 2] - 4.0 * row[ny - 1]) * inv_a2;
    }
}

/// 2-D wave q̈ of a periodic `nx × ny` torus, one thread.
pub fn wave_2d(q: &[f64], nx: usize, ny: usize, inv_a2: f64, acc: &mut [f64]) {
    assert_eq!(q.len(), acc.len());
    wave_2d_rows(q, nx, ny, inv_a2, 0, acc);
}

/// 2-D wave q̈ of a periodic torus, the two halves of the rows run by `join` (two threads).
pub fn wave_2d_2t(
    q: &[f64],
    nx: usize,
    ny: usize,
    inv_a2: f64,
    acc: &mut [f64],
    join: impl for<'a> FnOnce(Task<'a>, Task<'a>),
) {
    assert_eq!(q.len(), acc.len());
    let half = nx / 2;
    let (first, second) = acc.split_at_mut(half * ny);
    join(
        Box::new(move || wave_2d_rows(q, nx, ny, inv_a2, 0, first)),
        Box::new(move || wave_2d_rows(q, nx, ny, inv_a2, half, second)),
    );
}

/// The state every method of `lagrange bench --fields` (and `bench/peers/fields_jax.py`) times:
/// `q_k = sin(0.7 k) + 0.3 cos(0.013 k)` at site index `k`, smooth enough to keep sin on its
/// fast path and the same on both sides of the language boundary.
pub fn bench_state(n: usize) -> Vec<f64> {
    (0..n)
        .map(|k| {
            let k = k as f64;
            (0.7 * k).sin() + 0.3 * (0.013 * k).cos()
        })
        .collect()
}

/// A reproducible pseudo-random vector in [-1, 1] (splitmix64).
pub fn random_state(n: usize, seed: u64) -> Vec<f64> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

/// `max |a − b| / max |b|` (0 when both are 0).
pub fn max_rel_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
    let err = a
        .iter()
        .zip(b)
        .fold(0.0_f64, |m, (x, y)| m.max((x - y).abs()));
    if err == 0.0 { 0.0 } else { err / scale }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Seconds of one batch of `iters` calls.
fn batch(f: &mut dyn FnMut(), iters: usize) -> f64 {
    let t0 = Instant::now();
    for _ in 0..iters {
        f();
    }
    t0.elapsed().as_secs_f64()
}

/// Calls of `f` that take about `seconds` (at least 1).
fn calibrate(f: &mut dyn FnMut(), seconds: f64) -> usize {
    let mut iters = 1usize;
    loop {
        let el = batch(f, iters);
        if el > seconds / 4.0 || iters > 1 << 30 {
            return ((iters as f64) * seconds / el.max(1e-9)).max(1.0) as usize;
        }
        iters *= 4;
    }
}

/// Median nanoseconds per call of each of `methods`: each is calibrated to batches of about
/// `batch_seconds`, then `batches` rounds run one batch of every method in turn (batch 1 of
/// every method, then batch 2, ...), so that a change of the machine's load within the run falls
/// on every method alike. The methods should `black_box` their results.
pub fn interleaved_ns(
    methods: &mut [&mut dyn FnMut()],
    batch_seconds: f64,
    batches: usize,
) -> Vec<f64> {
    let iters: Vec<usize> = methods
        .iter_mut()
        .map(|f| {
            f(); // warm up: page in the output, fault in the code
            calibrate(&mut **f, batch_seconds)
        })
        .collect();
    let mut samples = vec![Vec::with_capacity(batches); methods.len()];
    for _ in 0..batches.max(1) {
        for ((f, &n), out) in methods.iter_mut().zip(&iters).zip(&mut samples) {
            out.push(batch(&mut **f, n) * 1e9 / n as f64);
        }
    }
    samples.into_iter().map(median).collect()
}

/// The process's peak resident set (`VmHWM` of `/proc/self/status`) in bytes; `None` where
/// there is no such file.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Resets the peak resident set to the current one (Linux: `5` into `/proc/self/clear_refs`);
/// whether that worked.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lagrange::Lagrangian;
    use lagrange::field::FieldSystem;
    use lagrange_jit::CompiledEquations;

    /// The compiled FieldSystem's q̈ and the autodiff engine's against the stencil, on a random
    /// state: the benchmark compares like with like.
    fn check(system: &FieldSystem, hand: &dyn Fn(&[f64], &mut [f64])) {
        let n = system.dof();
        let (q, q_dot) = (random_state(n, 7), random_state(n, 8));
        let mut expected = vec![0.0; n];
        hand(&q, &mut expected);
        let mut eom = CompiledEquations::new(system).unwrap();
        if n > 100 {
            // the path the benchmark times (tiny lattices compile to straight-line code)
            assert!(eom.stats().term_kernels > 0, "{n} sites: no term kernels");
        }
        let mut compiled = vec![0.0; n];
        eom.accelerations_into(0.0, &q, &q_dot, &mut compiled)
            .unwrap();
        let autodiff = lagrange::accelerations(system, 0.0, &q, &q_dot).unwrap();
        let (c, d) = (
            max_rel_diff(&compiled, &expected),
            max_rel_diff(&autodiff, &expected),
        );
        assert!(c <= 1e-12, "compiled vs hand: {c:e}");
        assert!(d <= 1e-12, "autodiff vs hand: {d:e}");
    }

    #[test]
    fn sine_gordon_stencil_matches_the_compiled_density() {
        for (sites, a) in [(3, 0.7), (4, 0.3), (257, 0.05)] {
            let system = FieldSystem::from_toml_str(&sine_gordon_toml(sites, a)).unwrap();
            let inv_a2 = (a * a).recip();
            check(&system, &|q, out| sine_gordon_1d(q, inv_a2, out));
        }
    }

    #[test]
    fn wave_stencil_matches_the_compiled_density() {
        // not square, so that a swapped i and j would show
        for (nx, ny, a) in [(3, 3, 0.5), (17, 11, 0.05), (6, 9, 0.2)] {
            let system = FieldSystem::from_toml_str(&wave_2d_toml(nx, ny, a)).unwrap();
            let inv_a2 = (a * a).recip();
            check(&system, &|q, out| wave_2d(q, nx, ny, inv_a2, out));
        }
    }

    #[test]
    fn two_threads_equal_one_bit_for_bit() {
        for sites in [3, 4, 5, 1001] {
            let q = random_state(sites, 3);
            let (mut one, mut two) = (vec![0.0; sites], vec![1.0; sites]);
            sine_gordon_1d(&q, 400.0, &mut one);
            sine_gordon_1d_2t(&q, 400.0, &mut two, scoped_join);
            assert_eq!(one, two, "{sites} sites");
        }
        for (nx, ny) in [(3, 3), (4, 7), (31, 20)] {
            let q = random_state(nx * ny, 4);
            let (mut one, mut two) = (vec![0.0; nx * ny], vec![1.0; nx * ny]);
            wave_2d(&q, nx, ny, 400.0, &mut one);
            wave_2d_2t(&q, nx, ny, 400.0, &mut two, scoped_join);
            assert_eq!(one, two, "{nx} × {ny}");
        }
    }

    #[test]
    fn timing_and_memory_helpers() {
        let mut calls = [0usize; 2];
        let [a, b] = &mut calls;
        let mut fa = || *a += 1;
        let mut fb = || {
            *b += 1;
            std::hint::black_box(random_state(64, 1));
        };
        let ns = interleaved_ns(&mut [&mut fa, &mut fb], 1e-4, 3);
        assert!(ns.len() == 2 && ns.iter().all(|t| t.is_finite() && *t >= 0.0));
        assert!(calls.iter().all(|&c| c >= 4));
        if let Some(peak) = peak_rss_bytes() {
            assert!(peak > 0);
        }
        assert_eq!(bench_state(3)[0], 0.3);
        assert_eq!(max_rel_diff(&[1.0, 2.0], &[1.0, 4.0]), 0.5);
    }
}
