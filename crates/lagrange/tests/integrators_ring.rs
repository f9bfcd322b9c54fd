//! Many coordinates: a damped ring of coupled oscillators, whose Fourier modes are exact
//! solutions. Exercises the variational integrator's block kernels (n > 8 runs the multi-block
//! path), its Rayleigh and generalized-force terms, and the explicit methods on the same system.

use lagrange::integrators::{Method, NoObserver, simulate};
use lagrange::{Lagrangian, Scalar};
use std::f64::consts::PI;

/// L = ½Σq̇ᵢ² − ½Σ(qᵢ₊₁ − qᵢ)² − ½ω₀²Σqᵢ² (periodic), damping −c q̇ᵢ either as a Rayleigh
/// function F = ½cΣq̇ᵢ² or as an extra generalized force.
struct Ring {
    n: usize,
    omega0: f64,
    c: f64,
    rayleigh: bool,
}

impl Lagrangian for Ring {
    fn dof(&self) -> usize {
        self.n
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], v: &[D]) -> D {
        let mut l = D::zero();
        for i in 0..self.n {
            let d = q[(i + 1) % self.n] - q[i];
            l += (v[i] * v[i] - d * d - q[i] * q[i] * (self.omega0 * self.omega0)) * 0.5;
        }
        l
    }
    fn structure(&self) -> lagrange::Structure {
        lagrange::Structure {
            dissipation: self.rayleigh && self.c != 0.0,
            generalized_forces: !self.rayleigh && self.c != 0.0,
            ..lagrange::Structure::new()
        }
    }
    fn dissipation<D: Scalar>(&self, _t: D, _q: &[D], v: &[D]) -> D {
        v.iter().fold(D::zero(), |acc, &x| acc + x * x) * (0.5 * self.c)
    }
    fn add_generalized_forces<S: Scalar>(&self, _t: S, _q: &[S], v: &[S], forces: &mut [S]) {
        if !self.rayleigh {
            for (f, &x) in forces.iter_mut().zip(v) {
                *f -= x * self.c;
            }
        }
    }
}

const MODE: usize = 2;

impl Ring {
    /// The mode-`MODE` solution qᵢ = cos(2π·MODE·i/n)·a(t), ä + c ȧ + ω² a = 0, a(0) = 1,
    /// ȧ(0) = 0, with ω² = ω₀² + 4 sin²(π·MODE/n).
    fn exact(&self, t: f64) -> (Vec<f64>, Vec<f64>) {
        let w2 = self.omega0.powi(2) + 4.0 * (PI * MODE as f64 / self.n as f64).sin().powi(2);
        let g = 0.5 * self.c;
        let wd = (w2 - g * g).sqrt();
        let e = (-g * t).exp();
        let (c, s) = ((wd * t).cos(), (wd * t).sin());
        let a = e * (c + g / wd * s);
        let a_dot = -e * (w2 / wd) * s;
        let shape: Vec<f64> = (0..self.n)
            .map(|i| (2.0 * PI * (MODE * i) as f64 / self.n as f64).cos())
            .collect();
        (
            shape.iter().map(|x| x * a).collect(),
            shape.iter().map(|x| x * a_dot).collect(),
        )
    }

    fn final_error(&self, method: &Method, dt: f64) -> f64 {
        let t_end = 3.0;
        let (q0, v0) = self.exact(0.0);
        let traj = simulate(self, method, 0.0, &q0, &v0, t_end, dt, &mut NoObserver).unwrap();
        let (q, v) = self.exact(t_end);
        let (qn, vn) = (traj.q.last().unwrap(), traj.q_dot.last().unwrap());
        q.iter()
            .zip(qn)
            .chain(v.iter().zip(vn))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    }
}

fn slope(dts: &[f64], errors: &[f64]) -> f64 {
    let xs: Vec<f64> = dts.iter().map(|x| x.ln()).collect();
    let ys: Vec<f64> = errors.iter().map(|x| x.ln()).collect();
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    sxy / sxx
}

#[test]
fn ring_modes_converge_at_the_methods_orders() {
    // n = 6: single static pass of 6 (forces in one block of 8); n = 11: blocks of 8 with a
    // ragged last block, cross-block Jacobian entries from the ring's wrap-around coupling.
    for n in [6, 11] {
        for rayleigh in [true, false] {
            let ring = Ring {
                n,
                omega0: 1.0,
                c: 0.2,
                rayleigh,
            };
            for method in [Method::Variational, Method::Rk4] {
                let base = if method.order() == 2 { 0.04 } else { 0.1 };
                let dts: Vec<f64> = (0..4).map(|k| base / 2f64.powi(k)).collect();
                let errors: Vec<f64> = dts
                    .iter()
                    .map(|&dt| ring.final_error(&method, dt))
                    .collect();
                let p = slope(&dts, &errors);
                eprintln!(
                    "ring n={n} rayleigh={rayleigh} {}: errors {errors:?} slope {p:.3}",
                    method.name()
                );
                // same criterion as the oscillator tests: within 0.3 of the theoretical order
                assert!(
                    (p - method.order() as f64).abs() < 0.3,
                    "n={n} {}: slope {p}",
                    method.name()
                );
            }
        }
    }
}

#[test]
fn rayleigh_and_generalized_force_damping_agree() {
    // The two ways of writing the same damping force go through different code (hyper-dual
    // Rayleigh block vs. dual generalized-force block) but define the same discrete map.
    let (q0, v0) = Ring {
        n: 11,
        omega0: 1.0,
        c: 0.2,
        rayleigh: true,
    }
    .exact(0.0);
    let run = |rayleigh| {
        let ring = Ring {
            n: 11,
            omega0: 1.0,
            c: 0.2,
            rayleigh,
        };
        simulate(
            &ring,
            &Method::Variational,
            0.0,
            &q0,
            &v0,
            2.0,
            0.05,
            &mut NoObserver,
        )
        .unwrap()
    };
    let (a, b) = (run(true), run(false));
    let diff =
        a.q.iter()
            .flatten()
            .zip(b.q.iter().flatten())
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
    assert!(diff < 1e-12, "{diff}"); // identical equations, Newton converged to roundoff
}
