//! The term kernels (a Lagrangian declared as a sum of local terms, compiled to one loop per
//! class of alike terms) against the straight-line code that ignores the terms, the
//! dual-number engine (`lagrange::accelerations`) and the hand-derived EOMs, at random states;
//! and each way M is handled on that path: constant diagonal, banded per call, dense per call.

use lagrange::mechanics::EquationsOfMotion;
use lagrange::systems::{Chain, HarmonicOscillator, NBody};
use lagrange::{Lagrangian, MechanicsError, Scalar, Structure, accelerations};
use lagrange_jit::CompiledEquations;

mod common;
use common::{Lcg, REL, assert_close};

/// Beads on a line with position-dependent inertia, coupled through their velocities, driven
/// in time:
///
/// ```text
/// L = Σᵢ [½ (aᵢ + qᵢ²) q̇ᵢ² + ε sin(t) qᵢ]
///   + Σᵢ [½ c q̇ᵢ q̇ᵢ₊₁ cos(qᵢ − qᵢ₊₁) − kᵢ cos(t/10) √sᵢ + sᵢ^0.75 / 100 + dᵢ⁵ / 1000]
///     with dᵢ = qᵢ₊₁ − qᵢ, sᵢ = 1 + dᵢ²
///   (+ ½ c q̇₀ q̇ₙ₋₁ cos(q₀ − qₙ₋₁) when `ring`, which makes M dense)
/// ```
///
/// M = diag(aᵢ + qᵢ²) + ½ c cos(·) off the diagonal: symmetric, and diagonally dominant for
/// aᵢ ≥ 1, c = 0.5, so positive definite. One term per site, per bond, and the ring bond.
struct Beads {
    a: Vec<f64>,
    k: Vec<f64>,
    ring: bool,
    damping: f64,
}

/// L as the sum of `l`'s declared local terms.
fn sum_of_terms<L: Lagrangian, D: Scalar>(l: &L, t: D, q: &[D], v: &[D]) -> D {
    let mut sum = D::zero();
    let mut c = Vec::new();
    for k in 0..l.structure().local_terms {
        c.clear();
        l.term_coordinates(k, &mut c);
        let ql: Vec<D> = c.iter().map(|&i| q[i]).collect();
        let vl: Vec<D> = c.iter().map(|&i| v[i]).collect();
        sum += l.term(k, t, &ql, &vl);
    }
    sum
}

const C: f64 = 0.5;
const EPS: f64 = 0.3;

impl Beads {
    fn new(n: usize, ring: bool, rng: &mut Lcg) -> Self {
        Self {
            a: rng.vec(n, 1.0, 2.0),
            k: rng.vec(n - 1, 0.5, 3.0),
            ring,
            damping: 0.0,
        }
    }
    fn bonds(&self) -> usize {
        self.k.len() + usize::from(self.ring)
    }
}

impl Lagrangian for Beads {
    fn dof(&self) -> usize {
        self.a.len()
    }
    fn lagrangian<D: Scalar>(&self, t: D, q: &[D], v: &[D]) -> D {
        // the sum of the declared terms, so that both paths see the same L
        sum_of_terms(self, t, q, v)
    }
    fn dissipation<D: Scalar>(&self, _t: D, _q: &[D], v: &[D]) -> D {
        v.iter().fold(D::zero(), |s, &x| s + x * x) * (0.5 * self.damping)
    }
    fn structure(&self) -> Structure {
        Structure {
            dissipation: self.damping != 0.0,
            local_terms: self.a.len() + self.bonds(),
            ..Structure::new()
        }
    }
    fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
        let n = self.a.len();
        match k {
            k if k < n => coordinates.push(k),
            k if k < 2 * n - 1 => coordinates.extend([k - n, k - n + 1]),
            _ => coordinates.extend([0, n - 1]),
        }
    }
    fn term<D: Scalar>(&self, k: usize, t: D, q: &[D], v: &[D]) -> D {
        let n = self.a.len();
        if k < n {
            return (q[0] * q[0] + self.a[k]) * v[0] * v[0] * 0.5 + t.sin() * q[0] * EPS;
        }
        let kinetic = v[0] * v[1] * (q[0] - q[1]).cos() * (0.5 * C);
        if k < 2 * n - 1 {
            // √ makes this a two-lane kernel; t, powf and powi go through it lane by lane
            let d = q[1] - q[0];
            let stretch = d * d + 1.0;
            kinetic - stretch.sqrt() * self.k[k - n] * (t * 0.1).cos()
                + stretch.powf(0.75) * 0.01
                + d.powi(5) * 0.001
        } else {
            kinetic
        }
    }
}

/// q̈ of `l` by the term kernels, the straight-line code and the dual-number engine at
/// `states` random states; returns the term path's evaluator.
fn three_ways<L: Lagrangian>(what: &str, l: &L, states: usize, spread: f64) -> CompiledEquations {
    let n = l.dof();
    let mut terms = CompiledEquations::new(l).unwrap();
    let mut straight = CompiledEquations::new_without_terms(l).unwrap();
    assert_eq!(straight.stats().term_kernels, 0);
    let mut rng = Lcg(n as u64 + 3);
    let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
    for _ in 0..states {
        let t = rng.next(-3.0, 3.0);
        let q = rng.vec(n, -spread, spread);
        let v = rng.vec(n, -spread, spread);
        terms.accelerations_into(t, &q, &v, &mut a).unwrap();
        straight.accelerations_into(t, &q, &v, &mut b).unwrap();
        assert_close(&format!("{what}: terms vs straight line"), &a, &b, REL);
        let reference = accelerations(l, t, &q, &v).unwrap();
        assert_close(&format!("{what}: terms vs autodiff"), &a, &reference, REL);
    }
    terms
}

#[test]
fn a_banded_mass_matrix_that_changes_with_the_state() {
    // 41 bonds with a square root: two-lane kernel plus the odd last row alone
    let beads = Beads::new(42, false, &mut Lcg(1));
    let eom = three_ways("beads", &beads, 30, 1.5);
    let stats = eom.stats();
    assert_eq!(stats.mass_matrix, "banded LU per call");
    assert_eq!(stats.bandwidth, 1);
    assert_eq!(stats.term_kernels, 2, "sites and bonds");
}

#[test]
fn a_dense_mass_matrix_that_changes_with_the_state() {
    let beads = Beads::new(42, true, &mut Lcg(2));
    let eom = three_ways("ring of beads", &beads, 30, 1.5);
    let stats = eom.stats();
    assert_eq!(stats.mass_matrix, "dense LU per call");
    assert_eq!(stats.term_kernels, 3, "sites, bonds and the ring bond");
}

#[test]
fn dissipation_keeps_the_straight_line_code() {
    let mut beads = Beads::new(42, false, &mut Lcg(3));
    beads.damping = 0.7;
    let eom = three_ways("damped beads", &beads, 5, 1.0);
    assert_eq!(eom.stats().term_kernels, 0);
}

/// The term path of a built-in against its hand-derived EOM and the straight-line code, at
/// random states (q spread out by `offset · i` to keep bodies apart).
fn builtin<L: Lagrangian>(
    what: &str,
    l: &L,
    hand: impl Fn(&L, f64, &[f64], &[f64], &mut [f64]),
    offset: f64,
) -> CompiledEquations {
    let n = l.dof();
    let mut terms = CompiledEquations::new(l).unwrap();
    let mut straight = CompiledEquations::new_without_terms(l).unwrap();
    let mut rng = Lcg(n as u64);
    let (mut a, mut b, mut h) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    for _ in 0..10 {
        let t = rng.next(-3.0, 3.0);
        let mut q = rng.vec(n, -1.0, 1.0);
        q.iter_mut()
            .enumerate()
            .for_each(|(i, x)| *x += offset * (i / 2) as f64);
        let v = rng.vec(n, -1.0, 1.0);
        terms.accelerations_into(t, &q, &v, &mut a).unwrap();
        straight.accelerations_into(t, &q, &v, &mut b).unwrap();
        hand(l, t, &q, &v, &mut h);
        assert_close(&format!("{what}: terms vs hand"), &a, &h, REL);
        assert_close(&format!("{what}: terms vs straight line"), &a, &b, REL);
    }
    terms
}

#[test]
fn large_builtin_systems_match_their_hand_derived_eom() {
    let mut rng = Lcg(9);
    let chain = Chain {
        n: 1024,
        m: 1.3,
        k: 0.7,
    };
    let eom = builtin("chain", &chain, Chain::hand_accelerations_into, 0.0);
    // springs, and the two end masses with their wall springs; the other masses only add to
    // the (constant, diagonal) M
    assert_eq!(
        (eom.stats().term_kernels, eom.stats().mass_matrix),
        (2, "constant, equal masses folded into the code")
    );
    // 39 bodies: 741 pairs, an odd number for the two-lane kernel
    let bodies = NBody {
        masses: rng.vec(39, 0.5, 2.0),
        g: 1.3,
        eps: 0.05,
    };
    let eom = builtin("n-body", &bodies, NBody::hand_accelerations_into, 0.7);
    assert_eq!(
        (eom.stats().term_kernels, eom.stats().mass_matrix),
        (1, "constant, diagonal"),
        "pairs; unequal masses"
    );
    let oscillators = HarmonicOscillator::new(rng.vec(700, 0.1, 10.0), rng.vec(700, -5.0, 20.0));
    let eom = builtin(
        "oscillators",
        &oscillators,
        HarmonicOscillator::hand_accelerations_into,
        0.0,
    );
    assert_eq!(
        (eom.stats().term_kernels, eom.stats().mass_matrix),
        (1, "constant, diagonal")
    );
}

/// A vertical chain of equal masses in gravity, springs between neighbours:
/// L = Σᵢ (½ m q̇ᵢ² − m g qᵢ) − Σᵢ ½ k (qᵢ₊₁ − qᵢ)². M = m·I is folded into the kernels, and
/// gravity is a force that does not depend on the state (added once, not per call).
struct HangingChain {
    n: usize,
}

impl Lagrangian for HangingChain {
    fn dof(&self) -> usize {
        self.n
    }
    fn lagrangian<D: Scalar>(&self, t: D, q: &[D], v: &[D]) -> D {
        let mut l = D::zero();
        for i in 0..self.n {
            l += self.term(i, t, &q[i..=i], &v[i..=i]);
        }
        for i in 0..self.n - 1 {
            l += self.term(self.n + i, t, &q[i..i + 2], &v[i..i + 2]);
        }
        l
    }
    fn structure(&self) -> Structure {
        Structure::new().local_terms(2 * self.n - 1)
    }
    fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
        if k < self.n {
            coordinates.push(k);
        } else {
            coordinates.extend([k - self.n, k - self.n + 1]);
        }
    }
    fn term<D: Scalar>(&self, k: usize, _t: D, q: &[D], v: &[D]) -> D {
        let (m, g, spring) = (1.7, 9.81, 3.0);
        if k < self.n {
            v[0] * v[0] * (0.5 * m) - q[0] * (m * g)
        } else {
            let d = q[1] - q[0];
            -d * d * (0.5 * spring)
        }
    }
}

#[test]
fn equal_masses_and_a_constant_force() {
    let eom = three_ways("hanging chain", &HangingChain { n: 300 }, 10, 2.0);
    assert_eq!(
        (eom.stats().term_kernels, eom.stats().mass_matrix),
        (1, "constant, equal masses folded into the code"),
        "springs only: the sites' force (gravity) is constant"
    );
}

#[test]
fn small_declared_systems_keep_the_straight_line_code() {
    let chain = Chain {
        n: 64,
        m: 1.0,
        k: 1.0,
    };
    assert_eq!(
        CompiledEquations::new(&chain).unwrap().stats().term_kernels,
        0
    );
    let bodies = NBody {
        masses: vec![1.0; 8],
        g: 1.0,
        eps: 0.01,
    };
    assert_eq!(
        CompiledEquations::new(&bodies)
            .unwrap()
            .stats()
            .term_kernels,
        0
    );
}

#[test]
fn errors_are_the_engines_errors() {
    let chain = Chain {
        n: 1024,
        m: 1.0,
        k: 1.0,
    };
    let mut eom = CompiledEquations::new(&chain).unwrap();
    assert!(eom.stats().term_kernels > 0);
    let (q, v) = (vec![0.1; 1024], vec![0.0; 1024]);
    let mut a = vec![0.0; 1024];
    // q̇ does not enter the chain's q̈; a NaN in it is still a non-finite state
    let mut bad = v.clone();
    bad[700] = f64::NAN;
    let err = eom.accelerations_into(1.5, &q, &bad, &mut a).unwrap_err();
    assert!(
        matches!(err, MechanicsError::NonFinite { t, what: "state" } if t == 1.5),
        "{err}"
    );
    let mut bad = q.clone();
    bad[3] = f64::INFINITY;
    let err = eom.accelerations_into(0.0, &bad, &v, &mut a).unwrap_err();
    assert!(
        matches!(err, MechanicsError::NonFinite { what: "state", .. }),
        "{err}"
    );
    let err = eom
        .accelerations_into(0.0, &q[1..], &v, &mut a)
        .unwrap_err();
    assert!(matches!(
        err,
        MechanicsError::DimensionMismatch {
            expected: 1024,
            got: 1023
        }
    ));
    // a force that overflows
    let mut far = q.clone();
    far[10] = 1e308;
    far[11] = -1e308;
    let err = eom.accelerations_into(2.0, &far, &v, &mut a).unwrap_err();
    assert!(
        matches!(err, MechanicsError::NonFinite { t, what: "generalized force" } if t == 2.0),
        "{err}"
    );
    // massless beads: M is singular, at every call, with the call's t (as the engine says)
    let massless = Chain {
        n: 1024,
        m: 0.0,
        k: 1.0,
    };
    let mut eom = CompiledEquations::new(&massless).unwrap();
    let err = eom.accelerations_into(4.0, &q, &v, &mut a).unwrap_err();
    assert!(
        matches!(err, MechanicsError::SingularMassMatrix { t, .. } if t == 4.0),
        "{err}"
    );
    let engine = EquationsOfMotion::new(&massless).accelerations_into(4.0, &q, &v, &mut a);
    assert!(
        matches!(engine, Err(MechanicsError::SingularMassMatrix { .. })),
        "{engine:?}"
    );
}

#[test]
fn clones_on_threads_agree() {
    let chain = Chain {
        n: 1024,
        m: 1.0,
        k: 2.0,
    };
    let eom = CompiledEquations::new(&chain).unwrap();
    let q: Vec<f64> = (0..1024).map(|i| (i as f64 * 0.37).sin()).collect();
    let results: Vec<Vec<f64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let mut mine = eom.clone();
                let q = &q;
                s.spawn(move || {
                    let mut a = vec![0.0; 1024];
                    mine.accelerations_into(0.0, q, &[0.0; 1024], &mut a)
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
    assert_close(
        "threads",
        &results[0],
        &chain.hand_accelerations(0.0, &q, &[0.0; 1024]),
        REL,
    );
}

/// A ring of masses with three-body bends `[s, s+1, s+2]` (mod n) and per-bend stiffness, some
/// bends rewired to far sites:
///
/// ```text
/// L = Σᵢ ½ q̇ᵢ² − Σ_b k_b (q_{b₀} − 2q_{b₁} + q_{b₂})² / 2 − Σ_b ε cos(q_{b₁}) q_{b₂}
/// ```
///
/// One class of alike bend terms: on a lattice with offsets (0, 1, 2), its wrap-around seams,
/// and the rewired bends' sites left to the term kernel.
struct BentRing {
    k: Vec<f64>,
    /// bend `b` → its coordinates
    bends: Vec<[usize; 3]>,
}

/// Bends given other coordinates: (bend, its coordinates).
type Rewired = Vec<(usize, [usize; 3])>;

impl BentRing {
    fn new(n: usize, rewired: &[(usize, [usize; 3])], rng: &mut Lcg) -> Self {
        let mut bends: Vec<[usize; 3]> = (0..n).map(|s| [s, (s + 1) % n, (s + 2) % n]).collect();
        for &(b, c) in rewired {
            bends[b] = c;
        }
        Self {
            k: rng.vec(n, 0.5, 2.0),
            bends,
        }
    }
}

impl Lagrangian for BentRing {
    fn dof(&self) -> usize {
        self.k.len()
    }
    fn lagrangian<D: Scalar>(&self, t: D, q: &[D], v: &[D]) -> D {
        sum_of_terms(self, t, q, v)
    }
    fn structure(&self) -> Structure {
        Structure {
            local_terms: 2 * self.k.len(),
            ..Structure::new()
        }
    }
    fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
        let n = self.k.len();
        if k < n {
            coordinates.push(k);
        } else {
            coordinates.extend(self.bends[k - n]);
        }
    }
    fn term<D: Scalar>(&self, k: usize, _t: D, q: &[D], v: &[D]) -> D {
        let n = self.k.len();
        if k < n {
            return v[0] * v[0] * 0.5;
        }
        let curvature = q[0] - q[1] * 2.0 + q[2];
        -(curvature * curvature) * (0.5 * self.k[k - n]) - q[1].cos() * q[2] * EPS
    }
}

/// The lattice path end to end on a class that is not a field: a ring's wrap-around is seams,
/// rewired bends break exactly their sites, and one and two threads give the same q̈ as the
/// dual-number engine.
#[test]
fn a_rewired_ring_matches_the_engine_on_its_seams() {
    let n = 2 * lagrange_jit::MIN_PARALLEL_ROWS + 9;
    let mut rng = Lcg(11);
    let cases: [(&str, Rewired); 3] = [
        ("ring", vec![]),
        // the last bend's third site moved: site 0 reads two coordinates for one input
        ("rewired wrap", vec![(n - 1, [n - 1, 0, 5])]),
        // a bend in the middle of the ring skips a site, one at a seam is reversed
        (
            "rewired inside",
            vec![
                (n / 2, [n / 2, n / 2 + 1, n / 2 + 3]),
                (n - 2, [0, n - 1, n - 2]),
            ],
        ),
    ];
    for (what, rewired) in cases {
        let ring = BentRing::new(n, &rewired, &mut rng);
        let mut eom = CompiledEquations::new(&ring).unwrap();
        let stats = eom.stats().clone();
        assert!(stats.site_kernel_sites > n - 20, "{what}: {stats:?}");
        assert!(stats.site_kernel_seams > 0, "{what}: {stats:?}");
        let mut threaded = eom.clone();
        assert!(threaded.set_threads(2) >= 1, "{what}: not split");
        for _ in 0..3 {
            let t = rng.next(-1.0, 1.0);
            let q = rng.vec(n, -1.5, 1.5);
            let v = rng.vec(n, -1.0, 1.0);
            let reference = accelerations(&ring, t, &q, &v).unwrap();
            let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
            eom.accelerations_into(t, &q, &v, &mut a).unwrap();
            assert_close(
                &format!("{what}: compiled vs autodiff"),
                &a,
                &reference,
                REL,
            );
            threaded.accelerations_into(t, &q, &v, &mut b).unwrap();
            assert_eq!(a, b, "{what}: two threads");
        }
    }
}
