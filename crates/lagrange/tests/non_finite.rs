//! NaN and infinity reach the caller as `MechanicsError::NonFinite` on every way the engine
//! computes q̈ — dense single pass (n ≤ 8), dense blocks (n > 8), the cached constant M of
//! `EquationsOfMotion`, and the structured (local-terms) path — and as
//! `IntegrationError::NonFinite { t }` with the start of the failing step from the integrators.
//!
//! Oracle: where the test systems leave their domain is known in closed form (ln of a negative
//! coordinate, exp overflowing beyond ln(f64::MAX) ≈ 709.78, a free particle crossing q = 0 at
//! q₀ / |v|), so no value here comes from the code under test.

use lagrange::integrators::{IntegrationError, Method, NoObserver, simulate};
use lagrange::mechanics::EquationsOfMotion;
use lagrange::{EomPath, Lagrangian, MechanicsError, Scalar, accelerations, accelerations_with};

/// Where a coordinate's potential leaves the finite numbers.
#[derive(Clone, Copy)]
enum Potential {
    /// V(q) = ε q ln q: NaN for q < 0 (its force −ε (ln q + 1) too).
    Log,
    /// V(q) = exp(q): force −exp(q) overflows to −∞ for q > 709.78.
    Exp,
}

/// `n` uncoupled particles, L = Σᵢ ½ mᵢ q̇ᵢ² − V(qᵢ) with mᵢ = 1 (constant M) or
/// mᵢ = 1 + qᵢ²/10 (varying M); optionally declared as n local terms, one per particle.
struct Particles {
    n: usize,
    potential: Potential,
    eps: f64,
    varying_mass: bool,
    declare_constant: bool,
    declare_terms: bool,
}

impl Particles {
    fn new(n: usize, potential: Potential) -> Self {
        Self {
            n,
            potential,
            eps: 1.0,
            varying_mass: true,
            declare_constant: false,
            declare_terms: false,
        }
    }

    fn particle<D: Scalar>(&self, q: D, v: D) -> D {
        let mass = if self.varying_mass {
            q * q * 0.1 + 1.0
        } else {
            D::one()
        };
        let potential = match self.potential {
            Potential::Log => q * q.ln() * self.eps,
            Potential::Exp => q.exp() * self.eps,
        };
        mass * v * v * 0.5 - potential
    }
}

impl Lagrangian for Particles {
    fn dof(&self) -> usize {
        self.n
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], v: &[D]) -> D {
        q.iter()
            .zip(v)
            .fold(D::zero(), |l, (&q, &v)| l + self.particle(q, v))
    }
    fn structure(&self) -> lagrange::Structure {
        lagrange::Structure {
            constant_mass_matrix: self.declare_constant,
            local_terms: if self.declare_terms { self.n } else { 0 },
            ..lagrange::Structure::new()
        }
    }
    fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
        coordinates.push(k);
    }
    fn term<D: Scalar>(&self, _k: usize, _t: D, q: &[D], v: &[D]) -> D {
        self.particle(q[0], v[0])
    }
}

/// A state inside the domain (every q = 0.5) with coordinate `bad` set to `value`.
fn state(n: usize, bad: usize, value: f64) -> (Vec<f64>, Vec<f64>) {
    let mut q = vec![0.5; n];
    q[bad] = value;
    (q, vec![0.3; n])
}

fn assert_non_finite(what: &str, result: Result<(), MechanicsError>, t: f64) {
    match result {
        Err(MechanicsError::NonFinite { t: at, .. }) => assert_eq!(at, t, "{what}"),
        other => panic!("{what}: expected NonFinite at t = {t}, got {other:?}"),
    }
}

/// Every way of evaluating q̈ for `l`, each at a state inside the domain (must succeed) and at
/// one outside (must be `NonFinite` with the evaluation's time).
fn check_all_ways(what: &str, l: &Particles, bad_value: f64) {
    let n = l.dof();
    let t = 0.75;
    let (good_q, good_v) = state(n, n - 1, 0.5);
    let (bad_q, bad_v) = state(n, n - 1, bad_value);
    let mut out = vec![0.0; n];
    // the free function (Auto: dense or structured as the system declares)
    accelerations(l, t, &good_q, &good_v).unwrap_or_else(|e| panic!("{what}: {e}"));
    let r = accelerations(l, t, &bad_q, &bad_v).map(|_| ());
    assert_non_finite(&format!("{what}, accelerations"), r, t);
    // the dense path forced
    let r = accelerations_with(EomPath::Dense, l, t, &bad_q, &bad_v, &mut out);
    assert_non_finite(&format!("{what}, dense"), r, t);
    // the evaluator integrators use: a good call first (caches M or the term structure), then
    // the bad state
    let mut eom = EquationsOfMotion::new(l);
    eom.accelerations_into(t, &good_q, &good_v, &mut out)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let r = eom.accelerations_into(t, &bad_q, &bad_v, &mut out);
    assert_non_finite(&format!("{what}, EquationsOfMotion"), r, t);
    // and a fresh evaluator whose first call is the bad state
    let r = EquationsOfMotion::new(l).accelerations_into(t, &bad_q, &bad_v, &mut out);
    assert_non_finite(&format!("{what}, fresh EquationsOfMotion"), r, t);
}

#[test]
fn dense_single_pass_reports_non_finite() {
    // n ≤ 8, M varies: one stack-allocated pass and the unrolled solve
    for potential in [Potential::Log, Potential::Exp] {
        let l = Particles::new(3, potential);
        let bad = match potential {
            Potential::Log => -0.5,
            Potential::Exp => 800.0,
        };
        check_all_ways("dense n = 3", &l, bad);
    }
}

#[test]
fn dense_blocks_report_non_finite() {
    // n > 8 without declared terms: blocks of hyper-dual numbers and the general LU
    for potential in [Potential::Log, Potential::Exp] {
        let l = Particles::new(11, potential);
        let bad = match potential {
            Potential::Log => -0.5,
            Potential::Exp => 800.0,
        };
        check_all_ways("dense blocks n = 11", &l, bad);
    }
}

#[test]
fn cached_constant_mass_reports_non_finite() {
    // M = I declared constant: EquationsOfMotion inverts it once, then runs the force-only jet
    for potential in [Potential::Log, Potential::Exp] {
        let l = Particles {
            varying_mass: false,
            declare_constant: true,
            ..Particles::new(2, potential)
        };
        let bad = match potential {
            Potential::Log => -0.5,
            Potential::Exp => 800.0,
        };
        check_all_ways("cached M n = 2", &l, bad);
    }
}

#[test]
fn structured_terms_report_non_finite() {
    // n > 8 with declared local terms: term-by-term assembly and the banded solve, with a
    // varying M and with a declared constant one (its banded LU kept)
    for constant in [false, true] {
        for potential in [Potential::Log, Potential::Exp] {
            let l = Particles {
                varying_mass: !constant,
                declare_constant: constant,
                declare_terms: true,
                ..Particles::new(12, potential)
            };
            let bad = match potential {
                Potential::Log => -0.5,
                Potential::Exp => 800.0,
            };
            check_all_ways(
                &format!("structured n = 12, constant M {constant}"),
                &l,
                bad,
            );
            let (q, v) = state(12, 11, bad);
            let mut out = vec![0.0; 12];
            let r = accelerations_with(EomPath::Structured, &l, 0.75, &q, &v, &mut out);
            assert_non_finite("structured forced", r, 0.75);
        }
    }
}

/// A free particle (up to ε = 10⁻¹² of q ln q, which moves it by < 10⁻¹¹ here) from q₀ with
/// velocity −1 reaches q = 0 at t* = q₀; beyond, ln q is NaN. With step h = 0.01 and
/// q₀ = 1.0025, t* = 100.25 h: RK4's step from t = 1.00 evaluates q̈ at t + h/2, past t*, so it
/// stops with the last finite time 1.00; explicit Euler evaluates only at step starts and
/// stops in the step from 1.01 (q(1.01) = −0.0075 is the first state outside).
#[test]
fn integrators_stop_at_the_step_that_leaves_the_domain() {
    let h = 0.01;
    for (n, declare_terms) in [(1, false), (10, true), (10, false)] {
        let l = Particles {
            eps: 1e-12,
            varying_mass: false,
            declare_terms,
            ..Particles::new(n, Potential::Log)
        };
        let q0 = vec![1.0025; n];
        let v0 = vec![-1.0; n];
        for (method, expected) in [(Method::Rk4, 1.00), (Method::Euler, 1.01)] {
            let err = simulate(&l, &method, 0.0, &q0, &v0, 2.0, h, &mut NoObserver).unwrap_err();
            match err {
                IntegrationError::NonFinite { t } => assert!(
                    (t - expected).abs() < 1e-9,
                    "n = {n}, {method:?}: stopped at t = {t}, expected {expected}"
                ),
                other => panic!("n = {n}, {method:?}: expected NonFinite, got {other}"),
            }
        }
    }
}
