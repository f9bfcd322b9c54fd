//! Every wrapper of a Lagrangian keeps every declaration of its [`Structure`]: the constant mass
//! matrix, the local terms, the dissipation and the generalized forces — and the engine then
//! takes the path those declarations allow (visible through `EvaluatorInfo`).
//!
//! The probe below declares all four; its q̈ is known in closed form, so the tests also check
//! that the forwarded methods (not only the flags) arrive.

use lagrange::mechanics::{
    Accelerations, AssemblyPath, EquationsOfMotion, Evaluator, EvaluatorInfo, MassSolve,
};
use lagrange::systems::{BuiltinSystem, Chain, DampedOscillator, NBody, by_name};
use lagrange::{Lagrangian, Scalar, Structure, forward_lagrangian};

const N: usize = 12;
const C: f64 = 0.3; // Rayleigh damping
const F: f64 = 0.7; // constant generalized force on every coordinate

/// A fixed-end chain of unit masses and springs, damped (F = ½cΣq̇²) and pushed (Q = f):
/// L = Σ ½q̇ᵢ² − ½Σ(qᵢ₊₁ − qᵢ)² − ½q₁² − ½q_n², declared as terms (one per mass, one per bond).
/// q̈ᵢ = qᵢ₋₁ − 2qᵢ + qᵢ₊₁ − c q̇ᵢ + f (q₀ = q_{n+1} = 0).
struct Probe;

impl Lagrangian for Probe {
    fn dof(&self) -> usize {
        N
    }
    fn lagrangian<D: Scalar>(&self, t: D, q: &[D], v: &[D]) -> D {
        let mut l = D::zero();
        let mut c = Vec::new();
        for k in 0..self.structure().local_terms {
            c.clear();
            self.term_coordinates(k, &mut c);
            let lq: Vec<D> = c.iter().map(|&i| q[i]).collect();
            let lv: Vec<D> = c.iter().map(|&i| v[i]).collect();
            l += self.term(k, t, &lq, &lv);
        }
        l
    }
    fn structure(&self) -> Structure {
        Structure::new()
            .constant_mass_matrix()
            .dissipation()
            .generalized_forces()
            .local_terms(2 * N + 1)
    }
    fn dissipation<D: Scalar>(&self, _t: D, _q: &[D], v: &[D]) -> D {
        v.iter().fold(D::zero(), |s, &x| s + x * x) * (0.5 * C)
    }
    fn add_generalized_forces<S: Scalar>(&self, _t: S, _q: &[S], _v: &[S], forces: &mut [S]) {
        for f in forces {
            *f += S::from(F);
        }
    }
    fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
        match k {
            k if k < N => coordinates.push(k),           // kinetic ½q̇ₖ²
            N => coordinates.push(0),                    // wall spring ½q₁²
            k if k == 2 * N => coordinates.push(N - 1),  // wall spring ½q_n²
            k => coordinates.extend([k - N - 1, k - N]), // bond ½(qᵢ₊₁ − qᵢ)²
        }
    }
    fn term<D: Scalar>(&self, k: usize, _t: D, q: &[D], v: &[D]) -> D {
        if k < N {
            v[0] * v[0] * 0.5
        } else if k == N || k == 2 * N {
            -q[0] * q[0] * 0.5
        } else {
            let d = q[1] - q[0];
            -d * d * 0.5
        }
    }
}

fn state() -> (Vec<f64>, Vec<f64>) {
    let q = (0..N).map(|i| (0.3 * i as f64).sin()).collect();
    let v = (0..N).map(|i| 0.1 * i as f64 - 0.4).collect();
    (q, v)
}

/// The hand-derived q̈ of [`Probe`] (independent of the engine).
fn probe_accelerations(q: &[f64], v: &[f64]) -> Vec<f64> {
    (0..N)
        .map(|i| {
            let left = if i == 0 { 0.0 } else { q[i - 1] };
            let right = if i == N - 1 { 0.0 } else { q[i + 1] };
            left - 2.0 * q[i] + right - C * v[i] + F
        })
        .collect()
}

/// The wrapper declares what the probe declares, forwards the methods behind the flags, and
/// the engine takes the structured path with a constant, diagonal mass matrix.
fn check_wrapper<W: lagrange::LagrangianOver<f64> + ?Sized>(what: &str, wrapper: &W) {
    assert_eq!(wrapper.structure(), Probe.structure(), "{what}: structure");
    let (q, v) = state();
    let want = probe_accelerations(&q, &v);
    let mut eom = EquationsOfMotion::new(wrapper);
    let mut got = vec![0.0; N];
    eom.accelerations_into(0.0, &q, &v, &mut got).unwrap();
    for i in 0..N {
        // a dozen flops per entry: roundoff only
        assert!((got[i] - want[i]).abs() < 1e-12, "{what}: q̈[{i}]");
    }
    assert_eq!(
        Accelerations::info(&eom),
        EvaluatorInfo {
            evaluator: Evaluator::Autodiff,
            path: AssemblyPath::Structured,
            constant_mass_matrix: true,
            solve: MassSolve::Diagonal,
        },
        "{what}: path"
    );
}

/// Binds `s` to the probe inside a named wrapper.
macro_rules! inner {
    ($self:ident, $s:ident => $e:expr) => {{
        let $s = &$self.0;
        $e
    }};
}

/// A user's wrapper built with the forwarding macro.
struct Wrapped(Probe);

impl Lagrangian for Wrapped {
    forward_lagrangian!(inner);
}

#[test]
fn references_boxes_and_user_wrappers_keep_every_declaration() {
    check_wrapper("probe", &Probe);
    check_wrapper("&probe", &&Probe);
    check_wrapper("&&probe", &&&Probe);
    check_wrapper("Box<probe>", &Box::new(Probe));
    check_wrapper("forward_lagrangian!", &Wrapped(Probe));
}

#[test]
fn an_undeclared_force_is_not_applied() {
    // The declaration is the switch: without it the engine never calls the method. This is
    // what makes forwarding `structure()` necessary, and the tests above meaningful.
    struct Undeclared;
    impl Lagrangian for Undeclared {
        fn dof(&self) -> usize {
            N
        }
        fn lagrangian<D: Scalar>(&self, t: D, q: &[D], v: &[D]) -> D {
            Probe.lagrangian(t, q, v)
        }
        fn dissipation<D: Scalar>(&self, t: D, q: &[D], v: &[D]) -> D {
            Probe.dissipation(t, q, v)
        }
        fn add_generalized_forces<S: Scalar>(&self, t: S, q: &[S], v: &[S], f: &mut [S]) {
            Probe.add_generalized_forces(t, q, v, f)
        }
    }
    let (q, v) = state();
    let a = lagrange::accelerations(&Undeclared, 0.0, &q, &v).unwrap();
    let want = probe_accelerations(&q, &v);
    // without the damping and the force, q̈ differs by c q̇ − f in every entry
    for i in 0..N {
        assert!((a[i] - (want[i] + C * v[i] - F)).abs() < 1e-12);
    }
    let info = EquationsOfMotion::new(&Undeclared).info();
    assert_eq!(info.path, AssemblyPath::Dense);
    assert!(!info.constant_mass_matrix);
}

#[test]
fn the_builtin_registry_forwards_every_systems_structure() {
    for name in lagrange::systems::names() {
        let builtin = by_name(name).unwrap();
        let inner = match &builtin {
            BuiltinSystem::Chain(s) => s.structure(),
            BuiltinSystem::NBody(s) => s.structure(),
            BuiltinSystem::DampedOscillator(s) => s.structure(),
            BuiltinSystem::HarmonicOscillator(s) => s.structure(),
            BuiltinSystem::Pendulum(s) => s.structure(),
            BuiltinSystem::DoublePendulum(s) => s.structure(),
            BuiltinSystem::Cyclotron(s) => s.structure(),
            BuiltinSystem::CrossedFields(s) => s.structure(),
            BuiltinSystem::Kepler(s) => s.structure(),
            BuiltinSystem::SpringPendulum(s) => s.structure(),
            BuiltinSystem::DrivenOscillator(s) => s.structure(),
        };
        assert_eq!(builtin.structure(), inner, "{name}");
    }
    // and the declarations are the ones the systems make
    let chain = Chain::default();
    assert_eq!(
        BuiltinSystem::Chain(chain.clone()).structure(),
        Structure::new()
            .constant_mass_matrix()
            .local_terms(2 * chain.dof() - 1)
    );
    assert!(
        BuiltinSystem::DampedOscillator(DampedOscillator::default())
            .structure()
            .dissipation
    );
}

#[test]
fn large_builtins_take_the_structured_path_through_the_registry() {
    use lagrange::systems::System;
    let mut chain = by_name("chain").unwrap();
    chain.set_parameter("n", 64.0).unwrap();
    let mut nbody = by_name("n-body").unwrap();
    nbody.set_parameter("n", 16.0).unwrap();
    for (system, solve) in [(&chain, MassSolve::Diagonal), (&nbody, MassSolve::Diagonal)] {
        let (q, v) = system.initial_state();
        let mut eom = EquationsOfMotion::new(system);
        let mut a = vec![0.0; q.len()];
        eom.accelerations_into(0.0, &q, &v, &mut a).unwrap();
        let hand = system.hand_accelerations(0.0, &q, &v);
        for (x, y) in a.iter().zip(&hand) {
            // forces of a few terms each: roundoff relative to the largest
            assert!((x - y).abs() <= 1e-10 * (1.0 + y.abs()));
        }
        let info = eom.info();
        assert_eq!(info.path, AssemblyPath::Structured, "{}", system.name());
        assert!(info.constant_mass_matrix, "{}", system.name());
        assert_eq!(info.solve, solve, "{}", system.name());
    }
    let _ = NBody::default();
}
