//! The README's library example: a user-defined Lagrangian, simulated, checked for energy.
//! `cargo run --release -p lagrange --example quickstart`

use lagrange::integrators::{Method, NoObserver, simulate};
use lagrange::{Lagrangian, Scalar, accelerations, jacobi_integral};

/// A bead on a rotating hoop (radius R, angular velocity Ω, gravity g):
/// L = ½ m R² (θ̇² + Ω² sin²θ) + m g R cos θ. Not a natural system: the conserved quantity is
/// the Jacobi integral h = ½ m R² (θ̇² − Ω² sin²θ) − m g R cos θ, not T + V.
struct BeadOnHoop {
    m: f64,
    r: f64,
    omega: f64,
    g: f64,
}

impl Lagrangian for BeadOnHoop {
    fn dof(&self) -> usize {
        1
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
        let (th, w) = (q[0], q_dot[0]);
        let s = th.sin();
        (w * w + s * s * self.omega.powi(2)) * (0.5 * self.m * self.r * self.r)
            + th.cos() * (self.m * self.g * self.r)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let hoop = BeadOnHoop {
        m: 1.0,
        r: 0.5,
        omega: 6.0,
        g: 9.81,
    };
    // exact EOM by autodiff: θ̈ = sin θ (Ω² cos θ − g/R)
    let a = accelerations(&hoop, 0.0_f64, &[0.3], &[0.0])?;
    let by_hand = 0.3_f64.sin() * (36.0 * 0.3_f64.cos() - 9.81 / 0.5);
    println!("theta_ddot = {:.12} (hand-derived {:.12})", a[0], by_hand);

    let traj = simulate(
        &hoop,
        &Method::Variational,
        0.0,
        &[0.3],
        &[0.0],
        50.0,
        1e-3,
        &mut NoObserver,
    )?;
    let h0 = jacobi_integral(&hoop, 0.0, &traj.q[0], &traj.q_dot[0])?;
    let drift = traj
        .q
        .iter()
        .zip(&traj.q_dot)
        .map(|(q, v)| (jacobi_integral(&hoop, 0.0, q, v).unwrap() - h0).abs() / h0.abs())
        .fold(0.0_f64, f64::max);
    println!(
        "{} steps, max relative Jacobi-integral error {drift:.1e}",
        traj.len() - 1
    );
    assert!((a[0] - by_hand).abs() < 1e-12 && drift < 1e-5);
    Ok(())
}
