//! Compiled equations of motion against independent results: every built-in system's
//! hand-derived EOM, and the dual-number engine (`lagrange::accelerations`, which shares no code
//! with tracing, symbolic differentiation or code generation) for Lagrangians that exercise each
//! way of solving with M.

use lagrange::expr::TextSystem;
use lagrange::systems::{self, Chain, HarmonicOscillator, NBody};
use lagrange::{Lagrangian, MechanicsError, Scalar, accelerations};
use lagrange_jit::{CompileError, CompiledEquations};

mod common;
use common::{Lcg, REL, assert_close};

/// Compiled q̈ against the dual-number engine at random states.
fn against_autodiff<L: Lagrangian>(
    what: &str,
    l: &L,
    states: usize,
    spread: f64,
) -> CompiledEquations {
    let n = l.dof();
    let mut eom = CompiledEquations::new(l).unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut rng = Lcg(n as u64 + 17);
    let mut a = vec![0.0; n];
    for _ in 0..states {
        let t = rng.next(-3.0, 3.0);
        let q = rng.vec(n, -spread, spread);
        let v = rng.vec(n, -spread, spread);
        eom.accelerations_into(t, &q, &v, &mut a).unwrap();
        let reference = accelerations(l, t, &q, &v).unwrap();
        assert_close(what, &a, &reference, REL);
    }
    eom
}

#[test]
fn every_builtin_system_matches_its_hand_derived_eom() {
    for name in systems::names() {
        let sys = systems::by_name(name).unwrap();
        let n = sys.dof();
        let mut eom = CompiledEquations::new(&sys).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut rng = Lcg(1);
        let (mut a, mut hand) = (vec![0.0; n], vec![0.0; n]);
        for _ in 0..200 {
            let t = rng.next(-10.0, 10.0);
            let mut q = rng.vec(n, -2.0, 2.0);
            if *name == "kepler" || name.contains("body") {
                // away from the (softened) collision
                q.iter_mut().enumerate().for_each(|(i, x)| *x += i as f64);
            }
            let v = rng.vec(n, -2.0, 2.0);
            eom.accelerations_into(t, &q, &v, &mut a).unwrap();
            sys.hand_accelerations_into(t, &q, &v, &mut hand);
            assert_close(name, &a, &hand, REL);
        }
    }
}

#[test]
fn oscillators_chains_and_bodies_of_many_coordinates() {
    let mut rng = Lcg(5);
    for n in [1, 3, 9, 10] {
        let s = HarmonicOscillator::new(rng.vec(n, 0.1, 10.0), rng.vec(n, -5.0, 20.0));
        let mut eom = CompiledEquations::new(&s).unwrap();
        let (q, v) = (rng.vec(n, -3.0, 3.0), rng.vec(n, -3.0, 3.0));
        let mut a = vec![0.0; n];
        eom.accelerations_into(0.5, &q, &v, &mut a).unwrap();
        assert_close("oscillator", &a, &s.hand_accelerations(0.5, &q, &v), REL);
        // one straight-line function with M⁻¹ folded in (as terms, 10 oscillators are too
        // few to pay for the loop kernels)
        let expected = ("constant, inverse folded into the code", 0);
        let stats = eom.stats();
        assert_eq!((stats.mass_matrix, stats.term_kernels), expected, "n = {n}");
    }
    for n in [16, 64, 300] {
        let s = Chain { n, m: 1.3, k: 0.7 };
        let mut eom = CompiledEquations::new(&s).unwrap();
        let (q, v) = (rng.vec(n, -1.0, 1.0), rng.vec(n, -1.0, 1.0));
        let mut a = vec![0.0; n];
        eom.accelerations_into(0.0, &q, &v, &mut a).unwrap();
        assert_close("chain", &a, &s.hand_accelerations(0.0, &q, &v), REL);
    }
    let bodies = NBody {
        masses: rng.vec(12, 0.5, 2.0),
        g: 1.0,
        eps: 0.05,
    };
    let mut eom = CompiledEquations::new(&bodies).unwrap();
    let q: Vec<f64> = (0..24)
        .map(|i| i as f64 * 0.37 + rng.next(0.0, 0.1))
        .collect();
    let v = rng.vec(24, -1.0, 1.0);
    let mut a = vec![0.0; 24];
    eom.accelerations_into(0.0, &q, &v, &mut a).unwrap();
    assert_close("n-body", &a, &bodies.hand_accelerations(0.0, &q, &v), REL);
}

#[test]
fn text_lagrangians_with_dissipation() {
    let pendulum = TextSystem::from_toml_str(
        r#"
coordinates = ["a", "b"]
lagrangian = "0.5*(m1+m2)*l1^2*a_dot^2 + 0.5*m2*l2^2*b_dot^2 + m2*l1*l2*a_dot*b_dot*cos(a-b) + (m1+m2)*g*l1*cos(a) + m2*g*l2*cos(b)"
[parameters]
m1 = 1.3
m2 = 0.7
l1 = 1.1
l2 = 0.9
g = 9.81
"#,
    )
    .unwrap();
    let eom = against_autodiff("text double pendulum", &pendulum, 50, 2.0);
    assert_eq!(
        eom.stats().mass_matrix,
        "solved in the code (positive pivots), else dense LU"
    );
    let damped = TextSystem::from_toml_str(
        r#"
coordinates = ["x", "y"]
lagrangian = "0.5*m*(x_dot^2 + y_dot^2) - 0.5*k*(x^2 + y^2) + sin(t)*x"
dissipation = "0.5*c*(x_dot^2 + x_dot*y_dot + y_dot^2)"
[parameters]
m = 2.0
k = 8.0
c = 0.3
"#,
    )
    .unwrap();
    against_autodiff("text damped and driven", &damped, 50, 2.0);
}

/// A banded, state-dependent mass matrix: M = diag(1 + q_i²) + 0.1 cos(q_i) on the first
/// off-diagonals (diagonally dominant).
struct BandedVarying(usize);
impl Lagrangian for BandedVarying {
    fn dof(&self) -> usize {
        self.0
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], v: &[D]) -> D {
        let mut l = D::zero();
        for i in 0..self.0 {
            l += (q[i] * q[i] + 1.0) * v[i] * v[i] * 0.5 - q[i].powi(4) * 0.25;
            if i + 1 < self.0 {
                l += v[i] * v[i + 1] * q[i].cos() * 0.1 - (q[i] - q[i + 1]).cosh();
            }
        }
        l
    }
}

/// A dense, state-dependent mass matrix: M = I + ε s sᵀ with s_i = sin q_i.
struct DenseVarying(usize);
impl Lagrangian for DenseVarying {
    fn dof(&self) -> usize {
        self.0
    }
    fn lagrangian<D: Scalar>(&self, t: D, q: &[D], v: &[D]) -> D {
        let kinetic: D = v.iter().map(|x| *x * *x * 0.5).sum();
        let s: D = q.iter().zip(v).map(|(x, y)| x.sin() * y).sum();
        let potential: D = q.iter().map(|x| (*x * t).cos()).sum();
        kinetic + s * s * 0.3 - potential
    }
}

/// A constant, non-diagonal mass matrix: tridiagonal (banded) or all-to-all (dense).
struct ConstantCoupled(usize, bool);
impl Lagrangian for ConstantCoupled {
    fn dof(&self) -> usize {
        self.0
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], v: &[D]) -> D {
        let n = self.0;
        let mut l = D::zero();
        for i in 0..n {
            l += v[i] * v[i] * 2.0 - q[i].sin() * q[(i + 1) % n];
            for j in i + 1..n {
                if self.1 || j == i + 1 {
                    l += v[i] * v[j] * (0.5 / (1 + j - i) as f64);
                }
            }
        }
        l
    }
}

/// An indefinite, state-dependent M = [[−1, 0.3 cos q₀], [0.3 cos q₀, 1]] (a negative pivot:
/// the code's elimination is not used, the pivoted LU is).
struct Indefinite;
impl Lagrangian for Indefinite {
    fn dof(&self) -> usize {
        2
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], v: &[D]) -> D {
        (v[1] * v[1] - v[0] * v[0]) * 0.5 + v[0] * v[1] * q[0].cos() * 0.3
            - q[0] * q[0]
            - q[1] * q[1] * q[0]
    }
}

#[test]
fn each_way_of_solving_with_the_mass_matrix() {
    let eom = against_autodiff("indefinite", &Indefinite, 50, 2.0);
    assert_eq!(
        eom.stats().mass_matrix,
        "solved in the code (positive pivots), else dense LU"
    );
    let eom = against_autodiff("banded varying", &BandedVarying(40), 20, 1.0);
    assert_eq!(eom.stats().mass_matrix, "banded LU per call");
    assert_eq!(eom.stats().bandwidth, 1);
    let eom = against_autodiff("dense varying", &DenseVarying(12), 20, 1.0);
    assert_eq!(eom.stats().mass_matrix, "dense LU per call");
    let eom = against_autodiff("small dense varying", &DenseVarying(3), 20, 1.0);
    assert_eq!(
        eom.stats().mass_matrix,
        "solved in the code (positive pivots), else dense LU"
    );
    let eom = against_autodiff("5 dense varying", &DenseVarying(5), 20, 1.0);
    assert_eq!(eom.stats().mass_matrix, "dense LU per call");
    let eom = against_autodiff("constant banded", &ConstantCoupled(30, false), 20, 1.0);
    assert_eq!(eom.stats().mass_matrix, "constant, banded LU kept");
    let eom = against_autodiff("constant dense", &ConstantCoupled(12, true), 20, 1.0);
    assert_eq!(eom.stats().mass_matrix, "constant, inverse kept");
    let eom = against_autodiff("constant small", &ConstantCoupled(5, true), 20, 1.0);
    assert_eq!(
        eom.stats().mass_matrix,
        "constant, inverse folded into the code"
    );
}

/// An indefinite M = [[−1, c(q)], [c(q), 1]] with c(q) = 0.3 Σₖ cos(k q₀)/k² and a potential of
/// `self.0` terms: large enough that both compiled functions (the in-code elimination and its
/// dense fallback, which runs at every state since the first pivot is −1) are cut into chunks
/// that pass values through the temp buffer.
struct LargeIndefinite(usize);
impl Lagrangian for LargeIndefinite {
    fn dof(&self) -> usize {
        2
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], v: &[D]) -> D {
        let mut c = D::zero();
        let mut potential = D::zero();
        for k in 1..=self.0 {
            let k = k as f64;
            c += (q[0] * k).cos() * (0.3 / (k * k));
            potential += (q[0] * k + q[1] / k).sin() * (1.0 / k) + (q[1] * q[0] * (0.5 / k)).cos();
        }
        (v[1] * v[1] - v[0] * v[0]) * 0.5 + v[0] * v[1] * c - potential
    }
}

/// Commit 59e8941: the dense fallback of the in-code solve runs with the main function's temp
/// buffer, which must be sized for both. Here both functions are cut into chunks that pass values
/// through it, and every call takes the fallback; `call_split_unchecked` checks the length with a
/// `debug_assert!`, which runs in the ci profile's jit tests. (This system does not fail on the
/// code before the fix: there the main function, scheduled as the fallback plus the elimination,
/// needs at least as much temp.)
#[test]
fn the_dense_fallback_of_a_large_system_has_its_temp_buffer() {
    let eom = against_autodiff("large indefinite", &LargeIndefinite(300), 5, 1.5);
    assert_eq!(
        eom.stats().mass_matrix,
        "solved in the code (positive pivots), else dense LU"
    );
    // above one chunk of 4096 operations (7207 measured)
    assert!(
        eom.stats().compiled_operations > 4096,
        "chunked code expected"
    );
}

/// L = q̇·q (linear in q̇) and L = ½ q² q̇² (singular at q = 0).
struct Degenerate(bool);
impl Lagrangian for Degenerate {
    fn dof(&self) -> usize {
        1
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], v: &[D]) -> D {
        if self.0 {
            v[0] * q[0]
        } else {
            q[0] * q[0] * v[0] * v[0] * 0.5
        }
    }
}

/// Branches on the value of q: cannot be traced.
struct Branching;
impl Lagrangian for Branching {
    fn dof(&self) -> usize {
        1
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], v: &[D]) -> D {
        let potential = if q[0] > D::zero() { q[0] } else { -q[0] };
        v[0] * v[0] * 0.5 - potential
    }
}

#[test]
fn errors_are_the_engines_errors() {
    let mut a = [0.0];
    let mut linear = CompiledEquations::new(&Degenerate(true)).unwrap();
    for t in [0.0, 2.5] {
        assert!(matches!(
            linear.accelerations_into(t, &[0.3], &[0.1], &mut a),
            Err(MechanicsError::SingularMassMatrix { t: got, .. }) if got == t
        ));
    }
    let mut vanishing = CompiledEquations::new(&Degenerate(false)).unwrap();
    vanishing
        .accelerations_into(1.0, &[0.5], &[0.2], &mut a)
        .unwrap();
    // L = ½ q² q̇²: q̈ = −q̇²/q
    assert!((a[0] + 0.2 * 0.2 / 0.5).abs() < 1e-15);
    assert!(matches!(
        vanishing.accelerations_into(1.5, &[0.0], &[0.2], &mut a),
        Err(MechanicsError::SingularMassMatrix { t, .. }) if t == 1.5
    ));
    assert!(matches!(
        vanishing.accelerations_into(0.0, &[f64::NAN], &[0.2], &mut a),
        Err(MechanicsError::NonFinite { what: "state", .. })
    ));
    assert!(matches!(
        vanishing.accelerations_into(0.0, &[1.0, 2.0], &[0.2], &mut a),
        Err(MechanicsError::DimensionMismatch {
            expected: 1,
            got: 2
        })
    ));
    let err = CompiledEquations::new(&Branching).unwrap_err();
    assert!(matches!(err, CompileError::Trace(_)), "{err}");
    assert!(err.to_string().contains("EquationsOfMotion"), "{err}");
}

#[test]
fn clones_on_threads_agree() {
    let sys = systems::by_name("double-pendulum").unwrap();
    let eom = CompiledEquations::new(&sys).unwrap();
    let results: Vec<Vec<f64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let mut mine = eom.clone();
                s.spawn(move || {
                    let mut a = vec![0.0; 2];
                    mine.accelerations_into(0.0, &[0.4, -1.1], &[0.3, 0.9], &mut a)
                        .unwrap();
                    a
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in &results {
        assert_eq!(r, &results[0]);
    }
}

/// L = ½ q̇² + 10³⁰⁸ q: q̈ = 10³⁰⁸, finite, although the sum of state and result overflows.
struct Huge;
impl Lagrangian for Huge {
    fn dof(&self) -> usize {
        1
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], v: &[D]) -> D {
        v[0] * v[0] * 0.5 + q[0] * 1e308
    }
}

#[test]
fn large_finite_values_are_not_mistaken_for_overflow() {
    let mut eom = CompiledEquations::new(&Huge).unwrap();
    let mut a = [0.0];
    eom.accelerations_into(0.0, &[1e308], &[0.0], &mut a)
        .unwrap();
    assert_eq!(a[0], 1e308);
}

#[test]
fn a_non_finite_velocity_is_an_error_even_where_the_eom_ignores_it() {
    // the chain's q̈ depends on q only; the state check still covers q̇ and t
    let mut eom = CompiledEquations::new(&Chain {
        n: 3,
        m: 1.0,
        k: 1.0,
    })
    .unwrap();
    let mut a = [0.0; 3];
    for (t, v) in [(0.0, [0.0, f64::NAN, 0.0]), (f64::INFINITY, [0.0; 3])] {
        assert!(matches!(
            eom.accelerations_into(t, &[0.1, 0.2, 0.3], &v, &mut a),
            Err(MechanicsError::NonFinite { what: "state", .. })
        ));
    }
}
