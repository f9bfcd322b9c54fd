//! Structural checks on the systems through the engine: q̈ is invariant under `L → c·L` and
//! under adding a total time derivative; a degenerate L is rejected; momenta, the Jacobi
//! integral, ∂L/∂t and the mass matrix match closed forms written out here.

use lagrange::systems::*;
use lagrange::{
    Lagrangian, MechanicsError, Scalar, accelerations, jacobi_integral, mass_matrix, momenta,
    partial_time,
};
use proptest::prelude::*;

/// `c·L` (and `c·F` for the dissipation, so that the physics is the same).
struct Scaled<L> {
    inner: L,
    c: f64,
}

impl<L: Lagrangian> Lagrangian for Scaled<L> {
    fn dof(&self) -> usize {
        self.inner.dof()
    }
    fn lagrangian<D: Scalar>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
        self.inner.lagrangian(t, q, q_dot) * self.c
    }
    fn structure(&self) -> lagrange::Structure {
        // the terms are not forwarded (L changes), the other declarations survive
        lagrange::Structure {
            local_terms: 0,
            ..self.inner.structure()
        }
    }
    fn dissipation<D: Scalar>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
        self.inner.dissipation(t, q, q_dot) * self.c
    }
}

/// `L + dΦ/dt` with `Φ(q, t) = t Σᵢ sin qᵢ + q₀² q_{n−1}`, its total derivative written by hand:
/// `dΦ/dt = Σᵢ (t cos qᵢ) q̇ᵢ + 2 q₀ q_{n−1} q̇₀ + q₀² q̇_{n−1} + Σᵢ sin qᵢ`.
struct Gauged<L> {
    inner: L,
}

impl<L: Lagrangian> Lagrangian for Gauged<L> {
    fn dof(&self) -> usize {
        self.inner.dof()
    }
    fn lagrangian<D: Scalar>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
        let n = q.len();
        let mut dphi = D::zero();
        for i in 0..n {
            dphi += t * q[i].cos() * q_dot[i] + q[i].sin();
        }
        dphi += q[0] * q[n - 1] * q_dot[0] * 2.0 + q[0] * q[0] * q_dot[n - 1];
        self.inner.lagrangian(t, q, q_dot) + dphi
    }
    fn structure(&self) -> lagrange::Structure {
        // the terms are not forwarded (L changes), the other declarations survive
        lagrange::Structure {
            local_terms: 0,
            ..self.inner.structure()
        }
    }
    fn dissipation<D: Scalar>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
        self.inner.dissipation(t, q, q_dot)
    }
}

/// Random-looking but deterministic state of length `n` from a seed vector.
fn state(seed: &[f64], n: usize, offset: usize) -> Vec<f64> {
    (0..n).map(|i| seed[(i + offset) % seed.len()]).collect()
}

/// The variants compute the same q̈ along different dual paths: agreement to 1e-12 relative to
/// the largest |q̈| (floor 1) is ~10⁴ ulps of headroom.
fn same(name: &str, a: &[f64], b: &[f64]) {
    let scale = 1.0 + b.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= 1e-12 * scale, "{name}[{i}]: {x} vs {y}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn scaling_and_gauge_leave_eom_unchanged(
        seed in prop::collection::vec(-1.0..1.0f64, 16),
        c in prop_oneof![-1e3..-1e-3f64, 1e-3..1e3f64],
        t in -5.0..5.0f64,
    ) {
        for &name in names() {
            let sys = by_name(name).unwrap();
            let (q0, _) = sys.initial_state();
            let n = sys.dof();
            // keep away from the singular points of Kepler / spring pendulum (r = 0)
            let q: Vec<f64> = q0.iter().zip(state(&seed, n, 0)).map(|(a, b)| a + 0.2 * b).collect();
            let qd = state(&seed, n, 5);
            let base = accelerations(&sys, t, &q, &qd).unwrap();
            let scaled = accelerations(&Scaled { inner: &sys, c }, t, &q, &qd).unwrap();
            same(&format!("{name} c·L"), &scaled, &base);
            let gauged = accelerations(&Gauged { inner: &sys }, t, &q, &qd).unwrap();
            same(&format!("{name} L + dΦ/dt"), &gauged, &base);
        }
    }
}

/// L linear in the velocities has a zero mass matrix: q̈ is not determined.
struct Degenerate;

impl Lagrangian for Degenerate {
    fn dof(&self) -> usize {
        2
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
        // a first-order (guiding-centre-like) Lagrangian: ½(x ẏ − y ẋ) − ½(x² + y²)
        (q[0] * q_dot[1] - q[1] * q_dot[0]) * 0.5 - (q[0] * q[0] + q[1] * q[1]) * 0.5
    }
}

/// Only one of two coordinates has a kinetic term: M has rank 1.
struct HalfDegenerate;

impl Lagrangian for HalfDegenerate {
    fn dof(&self) -> usize {
        2
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
        q_dot[0] * q_dot[0] * 0.5 + q[1] * q_dot[0] - q[1] * q[1]
    }
}

#[test]
fn degenerate_lagrangians_are_rejected() {
    for result in [
        accelerations(&Degenerate, 0.0, &[0.3, 0.4], &[0.1, 0.2]),
        accelerations(&HalfDegenerate, 0.0, &[0.3, 0.4], &[0.1, 0.2]),
    ] {
        assert!(
            matches!(result, Err(MechanicsError::SingularMassMatrix { .. })),
            "{result:?}"
        );
    }
    // a cyclotron with zero mass is exactly such a Lagrangian (m is validated > 0 by
    // set_parameter; the pub field bypasses that on purpose here)
    let c = Cyclotron {
        m: 0.0,
        q: 1.0,
        b: 1.0,
    };
    assert!(matches!(
        accelerations(&c, 0.0, &[0.1, 0.2, 0.3], &[1.0, 0.0, 0.0]),
        Err(MechanicsError::SingularMassMatrix { .. })
    ));
    // The same through the integrators' evaluator, which inverts a declared-constant M once:
    // the error comes at the first call, with its time, and again on every later call.
    assert!(c.structure().constant_mass_matrix);
    let mut eom = lagrange::mechanics::EquationsOfMotion::new(&c);
    let mut a = [0.0; 3];
    for t in [2.5, 3.0] {
        let r = eom.accelerations_into(t, &[0.1, 0.2, 0.3], &[1.0, 0.0, 0.0], &mut a);
        assert!(
            matches!(r, Err(MechanicsError::SingularMassMatrix { t: at, .. }) if at == t),
            "{r:?}"
        );
    }
}

/// Equal to within a few ulps of the magnitudes involved (closed forms of a few flops).
fn near(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-13 * (1.0 + want.abs()),
        "{what}: {got} vs {want}"
    );
}

#[test]
fn momenta_and_energy_closed_forms() {
    // cyclotron: canonical p = m v + q A with A = ½ B (−y, x, 0); h = ½ m v² (A·v terms cancel)
    let c = Cyclotron {
        m: 1.7,
        q: -0.6,
        b: 2.3,
    };
    let (q, v) = ([0.4, -1.1, 0.3], [0.9, 0.25, -0.7]);
    let p = momenta(&c, 0.0, &q, &v).unwrap();
    near(
        "cyclotron p_x",
        p[0],
        1.7 * 0.9 - 0.5 * (-0.6) * 2.3 * (-1.1),
    );
    near("cyclotron p_y", p[1], 1.7 * 0.25 + 0.5 * (-0.6) * 2.3 * 0.4);
    near("cyclotron p_z", p[2], 1.7 * -0.7);
    let v2: f64 = v.iter().map(|x| x * x).sum();
    near(
        "cyclotron h",
        jacobi_integral(&c, 0.0, &q, &v).unwrap(),
        0.5 * 1.7 * v2,
    );

    // crossed fields: h = ½ m v² − q E y
    let s = CrossedFields {
        m: 1.7,
        q: -0.6,
        b: 2.3,
        e: 0.8,
    };
    let h = jacobi_integral(&s, 0.0, &q, &v).unwrap();
    near("crossed h", h, 0.5 * 1.7 * v2 - (-0.6) * 0.8 * (-1.1));

    // pendulum: p = m l² θ̇, h = ½ m l² θ̇² − m g l cos θ
    let p = Pendulum {
        m: 2.0,
        l: 1.5,
        g: 9.81,
    };
    near(
        "pendulum p",
        momenta(&p, 0.0, &[0.7], &[1.3]).unwrap()[0],
        2.0 * 2.25 * 1.3,
    );
    let h = jacobi_integral(&p, 0.0, &[0.7], &[1.3]).unwrap();
    near(
        "pendulum h",
        h,
        0.5 * 2.0 * 2.25 * 1.69 - 2.0 * 9.81 * 1.5 * 0.7f64.cos(),
    );

    // kepler: p = m v, h = ½ m v² − m μ / r
    let k = Kepler { m: 3.0, mu: 2.0 };
    let (q, v) = ([0.6, 0.8], [-0.5, 1.2]);
    let p = momenta(&k, 0.0, &q, &v).unwrap();
    near("kepler p_x", p[0], -1.5);
    near("kepler p_y", p[1], 3.6);
    near(
        "kepler h",
        jacobi_integral(&k, 0.0, &q, &v).unwrap(),
        0.5 * 3.0 * 1.69 - 6.0,
    );

    // double pendulum: mass matrix and energy
    let dp = DoublePendulum {
        m1: 1.5,
        m2: 0.5,
        l1: 1.2,
        l2: 0.8,
        g: 9.81,
    };
    let (q, v): ([f64; 2], [f64; 2]) = ([0.9, -0.4], [1.1, -2.0]);
    let cdiff = (q[0] - q[1]).cos();
    let m = mass_matrix(&dp, 0.0, &q, &v).unwrap();
    near("dp M11", m[0], 2.0 * 1.44);
    near("dp M12", m[1], 0.5 * 1.2 * 0.8 * cdiff);
    near("dp M21", m[2], 0.5 * 1.2 * 0.8 * cdiff);
    near("dp M22", m[3], 0.5 * 0.64);
    let kinetic = 0.5 * 2.0 * 1.44 * v[0] * v[0]
        + 0.5 * 0.5 * 0.64 * v[1] * v[1]
        + 0.5 * 1.2 * 0.8 * v[0] * v[1] * cdiff;
    let potential = -2.0 * 9.81 * 1.2 * q[0].cos() - 0.5 * 9.81 * 0.8 * q[1].cos();
    near(
        "dp h",
        jacobi_integral(&dp, 0.0, &q, &v).unwrap(),
        kinetic + potential,
    );

    // driven oscillator: h = ½ m ẋ² + ½ k x² − x F₀ cos Ωt, ∂L/∂t = −x F₀ Ω sin Ωt
    let d = DrivenOscillator {
        m: 2.0,
        k: 3.0,
        f0: 0.7,
        omega: 1.3,
    };
    let (t, x, xd) = (0.9, 0.4, -0.6);
    let h = jacobi_integral(&d, t, &[x], &[xd]).unwrap();
    near(
        "driven h",
        h,
        0.5 * 2.0 * 0.36 + 0.5 * 3.0 * 0.16 - x * 0.7 * (1.3 * t).cos(),
    );
    let dl = partial_time(&d, t, &[x], &[xd]).unwrap();
    near("driven ∂L/∂t", dl, -x * 0.7 * 1.3 * (1.3 * t).sin());

    // spring pendulum: p_r = m ṙ, p_θ = m r² θ̇
    let sp = SpringPendulum::default();
    let p = momenta(&sp, 0.0, &[1.3, 0.4], &[0.2, -0.7]).unwrap();
    near("spring p_r", p[0], 0.2);
    near("spring p_θ", p[1], 1.69 * -0.7);
}

/// Newton's third law in the n-body EOM: Σ mᵢ r̈ᵢ = 0 (total momentum conserved), and the
/// autodiff energy equals T + V written out.
#[test]
fn n_body_conservation() {
    let s = NBody {
        masses: vec![1.0, 2.0, 0.5, 3.0, 1.5],
        g: 1.3,
        eps: 0.2,
    };
    let q: Vec<f64> = (0..10).map(|i| (1.7 * i as f64).sin() * 2.0).collect();
    let v: Vec<f64> = (0..10).map(|i| (0.9 * i as f64).cos()).collect();
    let a = accelerations(&s, 0.0, &q, &v).unwrap();
    let mut force = [0.0, 0.0];
    let mut scale = 0.0_f64;
    for (i, m) in s.masses.iter().enumerate() {
        force[0] += m * a[2 * i];
        force[1] += m * a[2 * i + 1];
        scale = scale.max(m * a[2 * i].abs()).max(m * a[2 * i + 1].abs());
    }
    // a sum of O(N) pair forces that cancel exactly in exact arithmetic
    assert!(
        force[0].abs() < 1e-13 * scale && force[1].abs() < 1e-13 * scale,
        "{force:?}"
    );
    let mut energy = 0.0;
    for i in 0..5 {
        energy += 0.5 * s.masses[i] * (v[2 * i].powi(2) + v[2 * i + 1].powi(2));
        for j in i + 1..5 {
            let d2 = (q[2 * j] - q[2 * i]).powi(2) + (q[2 * j + 1] - q[2 * i + 1]).powi(2);
            energy -= 1.3 * s.masses[i] * s.masses[j] / (d2 + 0.04).sqrt();
        }
    }
    near(
        "n-body h",
        jacobi_integral(&s, 0.0, &q, &v).unwrap(),
        energy,
    );
    // the default ring starts with zero total momentum
    let (q0, v0) = NBody::default().initial_state();
    let p = NBody::default().momentum(&v0);
    assert!(p[0].abs() < 1e-14 && p[1].abs() < 1e-14);
    assert_eq!(q0.len(), 16);
}

/// Dissipation: the damped oscillator loses energy at the rate 2F = c ẋ² (Rayleigh).
#[test]
fn damped_energy_rate() {
    let d = DampedOscillator {
        m: 1.3,
        k: 2.0,
        c: 0.4,
    };
    let (x, v) = (0.5, -0.8);
    let a = accelerations(&d, 0.0, &[x], &[v]).unwrap()[0];
    // dh/dt = ∂h/∂x ẋ + ∂h/∂ẋ ẍ with h = ½ m ẋ² + ½ k x²
    let dh = 2.0 * x * v + 1.3 * v * a;
    near("dh/dt", dh, -0.4 * v * v);
}
