//! A user-defined Lagrangian simulated with the compiled equations of motion and with the
//! dual-number evaluator: same trajectory, the compiled one faster.
//!
//! `cargo run --release -p lagrange-jit --example hoop`
use lagrange::integrators::{Method, NoObserver, simulate, simulate_with};
use lagrange::{Lagrangian, Scalar, jacobi_integral};
use lagrange_jit::CompiledEquations;
use std::time::Instant;

/// Bead on a rotating hoop: L = ½ m R² (θ̇² + Ω² sin²θ) + m g R cos θ
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
    let start = Instant::now();
    let eom = CompiledEquations::new(&hoop)?;
    println!("compiled in {:.2?}: {:?}", start.elapsed(), eom.stats());
    let run = |compiled: bool| -> Result<_, Box<dyn std::error::Error>> {
        let start = Instant::now();
        let (t0, q0, w0, t_end, dt) = (0.0, [0.3], [0.0], 50.0, 1e-3);
        let traj = if compiled {
            let eom = Box::new(eom.clone());
            simulate_with(
                &hoop,
                eom,
                &Method::Rk4,
                t0,
                &q0,
                &w0,
                t_end,
                dt,
                &mut NoObserver,
            )?
        } else {
            simulate(
                &hoop,
                &Method::Rk4,
                t0,
                &q0,
                &w0,
                t_end,
                dt,
                &mut NoObserver,
            )?
        };
        Ok((traj, start.elapsed()))
    };
    let (dual, t_dual) = run(false)?;
    let (compiled, t_compiled) = run(true)?;
    let last = dual.q.len() - 1;
    let h0 = jacobi_integral(&hoop, 0.0, &dual.q[0], &dual.q_dot[0])?;
    let h1 = jacobi_integral(&hoop, 50.0, &compiled.q[last], &compiled.q_dot[last])?;
    println!(
        "θ(50): dual numbers {:.15}, compiled {:.15}",
        dual.q[last][0], compiled.q[last][0]
    );
    println!(
        "Jacobi integral drift (compiled run): {:.1e}",
        (h1 - h0).abs()
    );
    println!("RK4, 5·10⁴ steps: dual numbers {t_dual:.2?}, compiled {t_compiled:.2?}");
    Ok(())
}
