//! Instruction-count probe: `probe SYSTEM[:SIZE] [ITERATIONS]` compiles a built-in system and
//! times its compiled EOM in a loop (run it under `valgrind --tool=callgrind` for counts).
//! `PROBE_HAND=1` times the hand-derived EOM instead, `PROBE_STRAIGHT=1` the straight-line
//! code that ignores declared terms.
use lagrange::systems::{self, Chain, NBody};
use lagrange_jit::CompiledEquations;

fn main() {
    let spec = std::env::args()
        .nth(1)
        .unwrap_or("harmonic-oscillator".into());
    let iters: usize = std::env::args().nth(2).map_or(1000, |s| s.parse().unwrap());
    let (name, size) = spec.split_once(':').unwrap_or((&spec, "0"));
    let size_text = size;
    let size: usize = size.parse().unwrap_or(0);
    let chain = Chain {
        n: size,
        m: 1.0,
        k: 1.0,
    };
    let bodies = NBody {
        masses: vec![1.0; size],
        g: 1.0,
        eps: 0.01,
    };
    let straight = std::env::var("PROBE_STRAIGHT").is_ok();
    macro_rules! build {
        ($l:expr) => {
            if straight {
                CompiledEquations::new_without_terms($l)
            } else {
                CompiledEquations::new($l)
            }
        };
    }
    let mut eom = match name {
        "chain" => build!(&chain),
        "n-body" => build!(&bodies),
        "text" => {
            build!(&lagrange::expr::TextSystem::from_path(std::path::Path::new(size_text)).unwrap())
        }
        _ => build!(&systems::by_name(name).unwrap()),
    }
    .unwrap();
    eprintln!("{:?}", eom.stats());
    let n = eom.dof();
    // PROBE_STATES=k cycles through k states (as the benchmark does, 16), else one
    let states: usize = std::env::var("PROBE_STATES").map_or(1, |s| s.parse().unwrap());
    let qs: Vec<Vec<f64>> = (0..states)
        .map(|s| {
            (0..n)
                .map(|i| 0.3 + 0.37 * i as f64 + 0.01 * s as f64)
                .collect()
        })
        .collect();
    let vs: Vec<Vec<f64>> = (0..states)
        .map(|s| vec![0.1 + 0.01 * s as f64; n])
        .collect();
    let mut a = vec![0.0; n];
    let t0 = std::time::Instant::now();
    let mut s = 0.0;
    type Eom<'a> = Box<
        dyn FnMut(f64, &[f64], &[f64], &mut [f64]) -> Result<(), lagrange::MechanicsError> + 'a,
    >;
    if std::env::var("PROBE_DYN").is_ok() {
        // through a boxed closure, as the benchmark calls every method
        let sys = systems::by_name(name).unwrap();
        let hand: fn(&systems::BuiltinSystem, f64, &[f64], &[f64], &mut [f64]) =
            systems::BuiltinSystem::hand_accelerations_into;
        let mut f: Eom = if std::env::var("PROBE_HAND").is_ok() {
            Box::new(move |t, q, v, a| {
                hand(&sys, t, q, v, a);
                Ok(())
            })
        } else {
            Box::new(move |t, q, v, a| eom.accelerations_into(t, q, v, a))
        };
        for i in 0..iters {
            let (q, v) = (&qs[i % states], &vs[i % states]);
            let _ = f(0.0, std::hint::black_box(q), v, &mut a);
            std::hint::black_box(&a);
        }
    } else if std::env::var("PROBE_HAND").is_ok() {
        // the hand-derived EOM of the same built-in, for instruction-count ratios
        let sys = systems::by_name(name).unwrap();
        for i in 0..iters {
            let t = i as f64 * 1e-9;
            let (q, v) = (&qs[i % states], &vs[i % states]);
            match name {
                "chain" => chain.hand_accelerations_into(t, q, v, &mut a),
                "n-body" => bodies.hand_accelerations_into(t, q, v, &mut a),
                _ => sys.hand_accelerations_into(t, q, v, &mut a),
            }
            s += a[0];
        }
    } else {
        for i in 0..iters {
            let (q, v) = (&qs[i % states], &vs[i % states]);
            eom.accelerations_into(i as f64 * 1e-9, q, v, &mut a)
                .unwrap();
            s += a[0];
        }
    }
    eprintln!(
        "{} ns/call {s}",
        t0.elapsed().as_nanos() as f64 / iters as f64
    );
}
