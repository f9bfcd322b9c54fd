//! Site-kernel probe: `fields_probe sine-gordon|wave SITES [THREADS]` compiles a periodic
//! lattice (sine-Gordon in 1-D with SITES sites, the wave equation on SITES × SITES) and prints
//! ns per site per q̈ evaluation for the compiled density and the hand stencil of
//! [`lagrange_bench::fields`] on the same pool (best of 7 interleaved batches of ~0.1 s each),
//! with their ratio. For profiling the kernels (`perf record`) and quick checks of a change
//! without the release CLI; `lagrange bench --fields` is the benchmark.
use std::time::Instant;

use lagrange::Lagrangian;
use lagrange::field::FieldSystem;
use lagrange_bench::fields::{self, Task};
use lagrange_jit::CompiledEquations;

const SPACING: f64 = 0.05;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map_or("sine-gordon", |s| s.as_str());
    let size: usize = args.get(2).map_or(1_000_000, |s| s.parse().unwrap());
    let threads: usize = args.get(3).map_or(1, |s| s.parse().unwrap());
    let wave = which == "wave";
    let toml = if wave {
        fields::wave_2d_toml(size, size, SPACING)
    } else {
        fields::sine_gordon_toml(size, SPACING)
    };
    let system = FieldSystem::from_toml_str(&toml).unwrap();
    let n = system.dof();
    let mut eom = CompiledEquations::new(&system).unwrap();
    eprintln!("{:?}", eom.stats());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    eom.set_threads(threads);
    // as `lagrange simulate` runs it (PROBE_CHECK_VELOCITIES=1: the library's default)
    eom.set_velocity_check(std::env::var("PROBE_CHECK_VELOCITIES").is_ok());
    let q = fields::bench_state(n);
    let v = vec![0.0; n];
    let mut out = vec![0.0; n];
    let inv_a2 = SPACING.powi(-2);
    let join = |a: Task<'_>, b: Task<'_>| {
        rayon::join(a, b);
    };
    let mut hand = |out: &mut [f64]| match (wave, threads) {
        (true, 1) => fields::wave_2d(&q, size, size, inv_a2, out),
        (true, _) => fields::wave_2d_2t(&q, size, size, inv_a2, out, join),
        (false, 1) => fields::sine_gordon_1d(&q, inv_a2, out),
        (false, _) => fields::sine_gordon_1d_2t(&q, inv_a2, out, join),
    };
    pool.install(|| {
        let mut compiled = |out: &mut [f64]| {
            eom.accelerations_into(0.0, &q, &v, out).unwrap();
        };
        let iters = {
            let mut iters = 1;
            loop {
                let t0 = Instant::now();
                (0..iters).for_each(|_| compiled(&mut out));
                if t0.elapsed().as_secs_f64() > 0.1 {
                    break iters;
                }
                iters *= 2;
            }
        };
        let mut time = |f: &mut dyn FnMut(&mut [f64])| {
            let t0 = Instant::now();
            (0..iters).for_each(|_| f(&mut out));
            t0.elapsed().as_secs_f64() * 1e9 / (iters * n) as f64
        };
        let (mut best_c, mut best_h) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..7 {
            best_c = best_c.min(time(&mut compiled));
            best_h = best_h.min(time(&mut hand));
        }
        println!(
            "{which} {size}: compiled {best_c:.3}, hand {best_h:.3} ns/site, ratio {:.2} \
             ({threads} thread(s))",
            best_c / best_h
        );
    });
}
