use lagrange::systems;
use lagrange_jit::CompiledEquations;
fn main() {
    let name = std::env::args()
        .nth(1)
        .unwrap_or("harmonic-oscillator".into());
    let iters: usize = std::env::args().nth(2).map_or(1000, |s| s.parse().unwrap());
    let sys = systems::by_name(&name).unwrap();
    let n = lagrange::Lagrangian::dof(&sys);
    let mut eom = CompiledEquations::new(&sys).unwrap();
    eprintln!("{:?}", eom.stats());
    let q = vec![0.3; n];
    let v = vec![0.1; n];
    let mut a = vec![0.0; n];
    let t0 = std::time::Instant::now();
    let mut s = 0.0;
    for i in 0..iters {
        eom.accelerations_into(i as f64 * 1e-9, &q, &v, &mut a)
            .unwrap();
        s += a[0];
    }
    eprintln!(
        "{} ns/call {s}",
        t0.elapsed().as_nanos() as f64 / iters as f64
    );
}
