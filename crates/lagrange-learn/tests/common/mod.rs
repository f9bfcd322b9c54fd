//! Test data written from closed-form solutions (not by the learning code), with seeded noise
//! `σ = LEVEL × RMS` on every column, as CSV files that the tests then read.
#![allow(dead_code)]

use lagrange_learn::Dataset;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use std::f64::consts::PI;
use std::path::PathBuf;

/// Rows `(q, q̇, q̈)` of clean samples.
pub type Rows = Vec<(Vec<f64>, Vec<f64>, Vec<f64>)>;

/// Writes the rows with noise to a CSV file under the test target dir and reads it back.
pub fn to_dataset(name: &str, coords: &[&str], rows: &Rows, level: f64, seed: u64) -> Dataset {
    let n = coords.len();
    // column RMS of the clean data
    let mut rms = vec![0.0; 3 * n];
    for (q, qd, qdd) in rows {
        for (j, v) in q.iter().chain(qd).chain(qdd).enumerate() {
            rms[j] += v * v / rows.len() as f64;
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let mut text = String::new();
    let header: Vec<String> = coords
        .iter()
        .map(|c| c.to_string())
        .chain(coords.iter().map(|c| format!("{c}_dot")))
        .chain(coords.iter().map(|c| format!("{c}_ddot")))
        .collect();
    text.push_str(&header.join(","));
    text.push('\n');
    for (q, qd, qdd) in rows {
        let fields: Vec<String> = q
            .iter()
            .chain(qd)
            .chain(qdd)
            .enumerate()
            .map(|(j, v)| {
                let e: f64 = rng.sample(StandardNormal);
                format!("{:?}", v + level * rms[j].sqrt() * e)
            })
            .collect();
        text.push_str(&fields.join(","));
        text.push('\n');
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lagrange-learn-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}-{}-{seed}-{level}.csv", std::process::id()));
    std::fs::write(&path, text).unwrap();
    let d = Dataset::read_csv(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    d
}

/// Oscillator `ẍ = −ω² x`: samples of `x = A cos(ωt + φ)` at random `A ∈ [0.5, 2]`, `φ`, `t ∈ [0, 10]`.
pub fn oscillator(samples: usize, omega2: f64, seed: u64) -> Rows {
    let w = omega2.sqrt();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..samples)
        .map(|_| {
            let a = rng.random_range(0.5..2.0);
            let phi = rng.random_range(0.0..2.0 * PI);
            let t = rng.random_range(0.0..10.0);
            let x = a * (w * t + phi).cos();
            let v = -a * w * (w * t + phi).sin();
            (vec![x], vec![v], vec![-omega2 * x])
        })
        .collect()
}

/// Pendulum `θ̈ = −(g/l) sin θ` at states uniform in `θ ∈ [−a, a]`, `θ̇ ∈ [−a, a]`.
pub fn pendulum(samples: usize, g_over_l: f64, a: f64, seed: u64) -> Rows {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..samples)
        .map(|_| {
            let th: f64 = rng.random_range(-a..a);
            let w = rng.random_range(-a..a);
            (vec![th], vec![w], vec![-g_over_l * th.sin()])
        })
        .collect()
}

/// 2-D anisotropic oscillator `x = A cos(ω₁t + φ₁)`, `y = B cos(ω₂t + φ₂)` (unit mass).
pub fn anisotropic(samples: usize, kx: f64, ky: f64, seed: u64) -> Rows {
    let (wx, wy) = (kx.sqrt(), ky.sqrt());
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..samples)
        .map(|_| {
            let (a, b) = (rng.random_range(0.5..2.0), rng.random_range(0.5..2.0));
            let (p1, p2) = (
                rng.random_range(0.0..2.0 * PI),
                rng.random_range(0.0..2.0 * PI),
            );
            let t = rng.random_range(0.0..10.0);
            let (x, y) = (a * (wx * t + p1).cos(), b * (wy * t + p2).cos());
            let (vx, vy) = (-a * wx * (wx * t + p1).sin(), -b * wy * (wy * t + p2).sin());
            (vec![x, y], vec![vx, vy], vec![-kx * x, -ky * y])
        })
        .collect()
}

pub const OSCILLATOR: &str = r#"
name = "oscillator with unknown mass and stiffness"
coordinates = ["x"]
lagrangian = "0.5*m*x_dot^2 - 0.5*k*x^2"
[parameters]
m = 1.0
k = 1.0
"#;

pub const PENDULUM: &str = r#"
name = "pendulum"
coordinates = ["theta"]
lagrangian = "0.5*m*l^2*theta_dot^2 + m*g*l*cos(theta)"
[parameters]
m = 1.0
l = 1.0
g = 5.0
"#;

pub const ANISOTROPIC: &str = r#"
name = "2-D anisotropic oscillator"
coordinates = ["x", "y"]
lagrangian = "0.5*m*(x_dot^2 + y_dot^2) - 0.5*kx*x^2 - 0.5*ky*y^2"
[parameters]
m = 1.0
kx = 1.0
ky = 1.0
"#;

pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

/// Samples with every q, q̇ and q̈ uniform in [−1, 1] (no physics: for comparing two
/// evaluations of the same loss).
pub fn random_data(coords: &[&str], samples: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = coords.len();
    let mut d = Dataset::new(coords.iter().map(|s| s.to_string()).collect());
    for _ in 0..samples {
        let mut v = || {
            (0..n)
                .map(|_| rng.random_range(-1.0..1.0))
                .collect::<Vec<f64>>()
        };
        let (q, qd, qdd) = (v(), v(), v());
        d.push(q, qd, qdd);
    }
    d
}
