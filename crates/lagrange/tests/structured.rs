//! The term-by-term (structured) Euler–Lagrange path agrees with the dense path.

use lagrange::mechanics::EquationsOfMotion;
use lagrange::systems::Chain;
use lagrange::{EomPath, Lagrangian, Scalar, accelerations_with};
use proptest::prelude::*;

/// A nonlinear lattice with every kind of coupling the structured path must handle:
/// state-dependent diagonal mass ½(1 + 0.1 qᵢ²) q̇ᵢ², tridiagonal mass coupling ε q̇ᵢ q̇ᵢ₊₁,
/// velocity–position coupling (magnetic-like) b sin(qᵢ) q̇ᵢ₊₁, explicit time dependence,
/// and anharmonic springs between neighbours.
struct Lattice {
    n: usize,
}

impl Lattice {
    fn kinetic<D: Scalar>(q: D, qd: D) -> D {
        (q * q * 0.1 + 1.0) * qd * qd * 0.5
    }
    fn bond<D: Scalar>(t: D, qa: D, qb: D, qda: D, qdb: D) -> D {
        let d = qb - qa;
        qda * qdb * 0.2 + qa.sin() * qdb * 0.7 - d * d * 0.5 * (t * 0.3).cos() - d.powi(4) * 0.05
    }
}

impl Lagrangian for Lattice {
    fn dof(&self) -> usize {
        self.n
    }
    fn lagrangian<D: Scalar>(&self, t: D, q: &[D], q_dot: &[D]) -> D {
        let mut l = D::zero();
        for i in 0..self.n {
            l += Self::kinetic(q[i], q_dot[i]);
        }
        for i in 0..self.n - 1 {
            l += Self::bond(t, q[i], q[i + 1], q_dot[i], q_dot[i + 1]);
        }
        l
    }
    fn structure(&self) -> lagrange::Structure {
        lagrange::Structure::new().local_terms(2 * self.n - 1)
    }
    fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
        if k < self.n {
            coordinates.push(k);
        } else {
            let i = k - self.n;
            coordinates.extend([i, i + 1]);
        }
    }
    fn term<D: Scalar>(&self, k: usize, t: D, q: &[D], q_dot: &[D]) -> D {
        if k < self.n {
            Self::kinetic(q[0], q_dot[0])
        } else {
            Self::bond(t, q[0], q[1], q_dot[0], q_dot[1])
        }
    }
}

/// Softened pairwise gravity in 2-D: the mass matrix is diagonal, terms touch 4 coordinates.
struct Pairs {
    bodies: usize,
}

impl Pairs {
    fn pair<D: Scalar>(a: &[D], b: &[D]) -> D {
        let (dx, dy) = (a[0] - b[0], a[1] - b[1]);
        (dx * dx + dy * dy + 0.01).sqrt().recip()
    }
}

impl Lagrangian for Pairs {
    fn dof(&self) -> usize {
        2 * self.bodies
    }
    fn lagrangian<D: Scalar>(&self, _t: D, q: &[D], q_dot: &[D]) -> D {
        let mut l = q_dot.iter().map(|&v| v * v * 0.5).sum::<D>();
        for i in 0..self.bodies {
            for j in i + 1..self.bodies {
                l += Self::pair(&q[2 * i..2 * i + 2], &q[2 * j..2 * j + 2]);
            }
        }
        l
    }
    fn structure(&self) -> lagrange::Structure {
        lagrange::Structure::new()
            .local_terms(2 * self.bodies + self.bodies * (self.bodies - 1) / 2)
    }
    fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
        if k < 2 * self.bodies {
            return coordinates.push(k);
        }
        let mut k = k - 2 * self.bodies;
        for i in 0..self.bodies {
            let row = self.bodies - 1 - i;
            if k < row {
                let j = i + 1 + k;
                return coordinates.extend([2 * i, 2 * i + 1, 2 * j, 2 * j + 1]);
            }
            k -= row;
        }
    }
    fn term<D: Scalar>(&self, k: usize, _t: D, q: &[D], q_dot: &[D]) -> D {
        if k < 2 * self.bodies {
            q_dot[0] * q_dot[0] * 0.5
        } else {
            Self::pair(&q[..2], &q[2..])
        }
    }
}

fn both_paths<L: Lagrangian>(l: &L, t: f64, q: &[f64], qd: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = q.len();
    let (mut dense, mut sparse) = (vec![0.0; n], vec![0.0; n]);
    accelerations_with(EomPath::Dense, l, t, q, qd, &mut dense).unwrap();
    accelerations_with(EomPath::Structured, l, t, q, qd, &mut sparse).unwrap();
    // The integrators' evaluator keeps the term structure and band between calls (and the
    // banded LU of a declared-constant M): a first call elsewhere, then the state under test.
    let mut eom = EquationsOfMotion::new(l);
    let mut kept = vec![0.0; n];
    let other: Vec<f64> = q.iter().map(|x| 0.5 * x - 0.25).collect();
    eom.accelerations_into(t + 0.5, &other, qd, &mut kept)
        .unwrap();
    eom.accelerations_into(t, q, qd, &mut kept).unwrap();
    assert_close(&dense, &kept);
    (dense, sparse)
}

fn assert_close(a: &[f64], b: &[f64]) {
    // Same derivatives, different summation order and factorization: agreement to 1e-12
    // relative to the largest acceleration is what rounding allows at these conditionings.
    let scale = a.iter().fold(1.0_f64, |m, x| m.max(x.abs()));
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= 1e-12 * scale, "{x} vs {y}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn lattice_structured_equals_dense(
        n in 2usize..24,
        t in -3.0..3.0f64,
        seed in proptest::collection::vec(-1.5..1.5f64, 48),
    ) {
        let q = &seed[..n];
        let qd = &seed[24..24 + n];
        let (d, s) = both_paths(&Lattice { n }, t, q, qd);
        assert_close(&d, &s);
    }

    #[test]
    fn pairwise_structured_equals_dense(
        bodies in 2usize..9,
        seed in proptest::collection::vec(-2.0..2.0f64, 36),
    ) {
        let n = 2 * bodies;
        let (d, s) = both_paths(&Pairs { bodies }, 0.0, &seed[..n], &seed[18..18 + n]);
        assert_close(&d, &s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// A chain declares a constant (diagonal) M: the evaluator factorizes its band once.
    #[test]
    fn chain_with_kept_mass_factors_equals_dense(
        n in 9usize..80,
        m in 0.1..10.0f64,
        k in 0.1..10.0f64,
        seed in proptest::collection::vec(-1.5..1.5f64, 160),
    ) {
        let chain = Chain { n, m, k };
        let (d, s) = both_paths(&chain, 0.0, &seed[..n], &seed[80..80 + n]);
        assert_close(&d, &s);
    }
}

#[test]
fn auto_path_uses_structure_for_large_n_and_matches() {
    let n = 40;
    let q: Vec<f64> = (0..n).map(|i| (0.37 * i as f64).sin()).collect();
    let qd: Vec<f64> = (0..n).map(|i| (0.11 * i as f64).cos()).collect();
    let (d, s) = both_paths(&Lattice { n }, 0.5, &q, &qd);
    assert_close(&d, &s);
    let mut auto = vec![0.0; n];
    accelerations_with(EomPath::Auto, &Lattice { n }, 0.5, &q, &qd, &mut auto).unwrap();
    assert_close(&d, &auto);
}
