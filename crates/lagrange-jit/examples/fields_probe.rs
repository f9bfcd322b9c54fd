//! Site-kernel probe: `fields_probe sine-gordon|wave SITES [THREADS]` compiles a periodic
//! lattice (sine-Gordon in 1-D with SITES sites, the wave equation on SITES × SITES) and prints
//! ns per site per q̈ evaluation (best of 5 batches of ~0.3 s). For profiling the kernels
//! (`perf record`) without the CLI; `lagrange bench --fields` is the benchmark.
use std::time::Instant;

use lagrange::Lagrangian;
use lagrange::field::FieldSystem;
use lagrange_jit::CompiledEquations;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map_or("sine-gordon", |s| s.as_str());
    let size: usize = args.get(2).map_or(1_000_000, |s| s.parse().unwrap());
    let threads: usize = args.get(3).map_or(1, |s| s.parse().unwrap());
    let toml = match which {
        "wave" => format!(
            "name = \"wave\"\n[field]\nnames = [\"u\"]\nsites = [{size}, {size}]\nspacing = 0.05\n\
             boundary = \"periodic\"\ndensity = \"0.5*u_t^2 - 0.5*(u_x^2 + u_y^2)\"\n"
        ),
        _ => format!(
            "name = \"sg\"\n[field]\nnames = [\"phi\"]\nsites = [{size}]\nspacing = 0.05\n\
             boundary = \"periodic\"\ndensity = \"0.5*phi_t^2 - 0.5*phi_x^2 - (1 - cos(phi))\"\n"
        ),
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
    let q: Vec<f64> = (0..n)
        .map(|k| (0.7 * k as f64).sin() + 0.3 * (0.013 * k as f64).cos())
        .collect();
    let v = vec![0.0; n];
    let mut out = vec![0.0; n];
    pool.install(|| {
        let mut iters = 1;
        loop {
            let t0 = Instant::now();
            for _ in 0..iters {
                eom.accelerations_into(0.0, &q, &v, &mut out).unwrap();
            }
            if t0.elapsed().as_secs_f64() > 0.1 {
                break;
            }
            iters *= 2;
        }
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let t0 = Instant::now();
            for _ in 0..iters * 3 {
                eom.accelerations_into(0.0, &q, &v, &mut out).unwrap();
            }
            best = best.min(t0.elapsed().as_secs_f64() * 1e9 / (iters * 3 * n) as f64);
        }
        println!("{which} {size}: {best:.3} ns/site ({threads} thread(s))");
    });
}
