//! Cost of a text Lagrangian relative to the same Lagrangian written in Rust, through the full
//! equations of motion (`accelerations`, hyper-dual evaluation of L). Timing-dependent, so
//! ignored by default; run with
//! `cargo test -p lagrange --release --test expr_perf -- --ignored --nocapture`.
//! The target is within 3× of Rust; measured ≈ 1.0–2.0× (best of 5 runs each).
use lagrange::expr::TextSystem;
use lagrange::{Lagrangian, Scalar, accelerations};
use std::hint::black_box;
use std::time::Instant;

struct DoublePendulum {
    m1: f64,
    m2: f64,
    l1: f64,
    l2: f64,
    g: f64,
}
impl Lagrangian for DoublePendulum {
    fn dof(&self) -> usize {
        2
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], v: &[D]) -> D {
        let (m1, m2, l1, l2, g) = (self.m1, self.m2, self.l1, self.l2, self.g);
        v[0] * v[0] * (0.5 * (m1 + m2) * l1 * l1)
            + v[1] * v[1] * (0.5 * m2 * l2 * l2)
            + v[0] * v[1] * (q[0] - q[1]).cos() * (m2 * l1 * l2)
            + q[0].cos() * ((m1 + m2) * g * l1)
            + q[1].cos() * (m2 * g * l2)
    }
}

/// Chain of n masses with nearest-neighbour springs and a quartic on-site potential.
struct Chain {
    n: usize,
}
impl Lagrangian for Chain {
    fn dof(&self) -> usize {
        self.n
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], v: &[D]) -> D {
        let mut l = D::zero();
        for i in 0..self.n {
            l += v[i] * v[i] * 0.5 - q[i].powi(4) * 0.25;
            if i + 1 < self.n {
                let d = q[i + 1] - q[i];
                l -= d * d * 0.5;
            }
        }
        l
    }
}

fn chain_text(n: usize) -> String {
    let names: Vec<String> = (0..n).map(|i| format!("q{i}")).collect();
    let mut terms = Vec::new();
    for i in 0..n {
        terms.push(format!("0.5*q{i}_dot^2 - 0.25*q{i}^4"));
        if i + 1 < n {
            terms.push(format!("- 0.5*(q{}-q{i})^2", i + 1));
        }
    }
    format!(
        "coordinates = [{}]\nlagrangian = \"{}\"\n",
        names
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", "),
        terms.join(" + ").replace("+ -", "-")
    )
}

fn time<L: Lagrangian>(l: &L, q: &[f64], v: &[f64]) -> f64 {
    let iters = 200_000 / q.len();
    for _ in 0..1000 {
        black_box(accelerations(l, 0.0, black_box(q), black_box(v)).unwrap());
    }
    let start = Instant::now();
    for _ in 0..iters {
        black_box(accelerations(l, 0.0, black_box(q), black_box(v)).unwrap());
    }
    start.elapsed().as_secs_f64() / iters as f64 * 1e9
}

#[test]
#[ignore]
fn text_vs_rust() {
    let text = TextSystem::from_toml_str(r#"
coordinates = ["th1", "th2"]
lagrangian = "0.5*(m1 + m2)*l1^2*th1_dot^2 + 0.5*m2*l2^2*th2_dot^2 + m2*l1*l2*th1_dot*th2_dot*cos(th1 - th2) + (m1 + m2)*g*l1*cos(th1) + m2*g*l2*cos(th2)"
[parameters]
m1 = 1.3
m2 = 0.7
l1 = 1.1
l2 = 0.9
g = 9.81
"#).unwrap();
    let rust = DoublePendulum {
        m1: 1.3,
        m2: 0.7,
        l1: 1.1,
        l2: 0.9,
        g: 9.81,
    };
    let (q, v) = ([0.3, 2.9], [1.7, -2.2]);
    let (a, b) = (time(&text, &q, &v), time(&rust, &q, &v));
    println!(
        "double pendulum: text {a:.0} ns, rust {b:.0} ns, ratio {:.2}",
        a / b
    );
    for n in [1, 4, 8, 16] {
        let text = TextSystem::from_toml_str(&chain_text(n)).unwrap();
        let rust = Chain { n };
        let q: Vec<f64> = (0..n).map(|i| 0.1 * i as f64).collect();
        let v: Vec<f64> = (0..n).map(|i| 0.05 * i as f64 - 0.2).collect();
        let x = accelerations(&text, 0.0, &q, &v).unwrap();
        let y = accelerations(&rust, 0.0, &q, &v).unwrap();
        for i in 0..n {
            assert!((x[i] - y[i]).abs() < 1e-12);
        }
        let (a, b) = (time(&text, &q, &v), time(&rust, &q, &v));
        println!(
            "chain n={n}: text {a:.0} ns, rust {b:.0} ns, ratio {:.2}",
            a / b
        );
    }
}
