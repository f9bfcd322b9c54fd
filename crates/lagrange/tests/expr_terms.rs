//! Local-term structure detected automatically in text Lagrangians.
//!
//! Oracles: the plain `L` (the terms must add up to it) and the dense Euler–Lagrange path (the
//! structured path must give the same accelerations), never the term split itself.

use lagrange::expr::TextSystem;
use lagrange::num_dual::Dual64;
use lagrange::systems::System;
use lagrange::{EomPath, Lagrangian, accelerations_with};
use proptest::prelude::*;

/// TOML for a text system with the given coordinates, Lagrangian and parameters.
fn toml(coordinates: &[String], lagrangian: &str, parameters: &[(&str, f64)]) -> String {
    let quoted: Vec<String> = coordinates.iter().map(|c| format!("\"{c}\"")).collect();
    let mut s = format!(
        "coordinates = [{}]\nlagrangian = \"{lagrangian}\"\n[parameters]\n",
        quoted.join(", ")
    );
    for (p, v) in parameters {
        s.push_str(&format!("{p} = {v:?}\n"));
    }
    s
}

/// A chain of `n` masses between two walls, written in the same factored form as the built-in
/// chain's `lagrangian_text`: `0.5*m*(Σ ẋᵢ²) - 0.5*k*(x₁² + Σ (xᵢ₊₁ − xᵢ)² + xₙ²)`.
fn text_chain(n: usize) -> TextSystem {
    let coordinates: Vec<String> = (1..=n).map(|i| format!("x{i}")).collect();
    let kinetic: Vec<String> = (1..=n).map(|i| format!("x{i}_dot^2")).collect();
    let mut springs = vec!["x1^2".to_string()];
    springs.extend((1..n).map(|i| format!("(x{} - x{i})^2", i + 1)));
    springs.push(format!("x{n}^2"));
    let l = format!(
        "0.5*m*({}) - 0.5*k*({})",
        kinetic.join(" + "),
        springs.join(" + ")
    );
    TextSystem::from_toml_str(&toml(&coordinates, &l, &[("m", 1.3), ("k", 2.7)])).unwrap()
}

/// A 3 × 4 lattice (12 coordinates): state-dependent masses, springs to the right and down
/// neighbours with a time-modulated stiffness, a q̇-dependent (magnetic-like) coupling and a
/// velocity–velocity coupling between right neighbours, plus coordinate-free terms.
fn text_lattice() -> TextSystem {
    let (rows, cols) = (3, 4);
    let name = |r: usize, c: usize| format!("u{r}_{c}");
    let mut coordinates = Vec::new();
    let mut kinetic = Vec::new();
    let mut springs = Vec::new();
    let mut coupling = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            let a = name(r, c);
            coordinates.push(a.clone());
            kinetic.push(format!("(1 + 0.1*{a}^2)*{a}_dot^2"));
            if c + 1 < cols {
                let b = name(r, c + 1);
                springs.push(format!("({b} - {a})^2"));
                coupling.push(format!("sin({a})*{b}_dot - 0.3*{a}_dot*{b}_dot"));
            }
            if r + 1 < rows {
                let b = name(r + 1, c);
                springs.push(format!("({b} - {a})^2 + 0.1*({b} - {a})^4/kq"));
            }
        }
    }
    let l = format!(
        "0.5*m*({}) - 0.5*k*cos(0.3*t)*({}) + b*({})/2 + t^2 - 3*k",
        kinetic.join(" + "),
        springs.join(" + "),
        coupling.join(" - "),
    );
    let params = [("m", 1.1), ("k", 1.7), ("b", 0.6), ("kq", 2.0)];
    TextSystem::from_toml_str(&toml(&coordinates, &l, &params)).unwrap()
}

/// Softened pairwise gravity between 5 bodies in 2-D (10 coordinates): terms of 4 coordinates.
fn text_pairs() -> TextSystem {
    let bodies = 5;
    let mut coordinates = Vec::new();
    let mut kinetic = Vec::new();
    for i in 0..bodies {
        for axis in ["x", "y"] {
            coordinates.push(format!("{axis}{i}"));
            kinetic.push(format!("{axis}{i}_dot^2"));
        }
    }
    let mut pairs = Vec::new();
    for i in 0..bodies {
        for j in i + 1..bodies {
            pairs.push(format!("1/sqrt((x{i} - x{j})^2 + (y{i} - y{j})^2 + eps)"));
        }
    }
    let l = format!(
        "(m/2)*({}) + G*m^2*({})",
        kinetic.join(" + "),
        pairs.join(" + ")
    );
    let params = [("m", 0.8), ("G", 1.2), ("eps", 0.01)];
    TextSystem::from_toml_str(&toml(&coordinates, &l, &params)).unwrap()
}

/// Σ_k L_k evaluated on each term's local coordinates.
fn sum_of_terms<L: Lagrangian>(l: &L, t: f64, q: &[f64], qd: &[f64]) -> f64 {
    let mut coords = Vec::new();
    let mut sum = 0.0;
    for k in 0..l.structure().local_terms {
        coords.clear();
        l.term_coordinates(k, &mut coords);
        let ql: Vec<f64> = coords.iter().map(|&c| q[c]).collect();
        let qdl: Vec<f64> = coords.iter().map(|&c| qd[c]).collect();
        sum += l.term(k, t, &ql, &qdl);
    }
    sum
}

fn assert_terms_add_up<L: Lagrangian>(l: &L, t: f64, q: &[f64], qd: &[f64]) {
    let whole = l.lagrangian(t, q, qd);
    let parts = sum_of_terms(l, t, q, qd);
    let scale = whole.abs().max(1.0);
    assert!(
        (whole - parts).abs() <= 1e-12 * scale,
        "L = {whole}, Σ L_k = {parts}"
    );
}

fn both_paths<S, L>(l: &L, t: S, q: &[S], qd: &[S]) -> (Vec<S>, Vec<S>)
where
    S: lagrange::Scalar,
    L: lagrange::LagrangianOver<S> + ?Sized,
{
    let n = q.len();
    let (mut dense, mut sparse) = (vec![S::zero(); n], vec![S::zero(); n]);
    accelerations_with(EomPath::Dense, l, t, q, qd, &mut dense).unwrap();
    accelerations_with(EomPath::Structured, l, t, q, qd, &mut sparse).unwrap();
    (dense, sparse)
}

fn assert_close(a: &[f64], b: &[f64]) {
    // Same derivatives, different summation order and factorization (as in tests/structured.rs).
    let scale = a.iter().fold(1.0_f64, |m, x| m.max(x.abs()));
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= 1e-12 * scale, "{x} vs {y}");
    }
}

/// Structured equals dense and the terms add up to `L` at one state.
fn check<L: Lagrangian>(l: &L, t: f64, q: &[f64], qd: &[f64]) {
    assert!(l.structure().local_terms > 0, "no structure declared");
    assert_terms_add_up(l, t, q, qd);
    let (d, s) = both_paths(l, t, q, qd);
    assert_close(&d, &s);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn text_chain_structured_equals_dense(
        big in any::<bool>(),
        t in -3.0..3.0f64,
        seed in proptest::collection::vec(-1.5..1.5f64, 128),
    ) {
        let n = if big { 64 } else { 16 };
        let chain = text_chain(n);
        check(&chain, t, &seed[..n], &seed[64..64 + n]);
    }

    #[test]
    fn text_lattice_structured_equals_dense(
        t in -3.0..3.0f64,
        seed in proptest::collection::vec(-1.5..1.5f64, 24),
    ) {
        check(&text_lattice(), t, &seed[..12], &seed[12..]);
    }

    #[test]
    fn text_pairwise_structured_equals_dense(
        seed in proptest::collection::vec(-2.0..2.0f64, 20),
    ) {
        check(&text_pairs(), 0.0, &seed[..10], &seed[10..]);
    }
}

#[test]
fn text_chain_groups_one_term_per_spring() {
    for n in [16, 64] {
        let chain = text_chain(n);
        // n − 1 springs; the walls and the kinetic terms fold into the spring groups.
        assert_eq!(chain.structure().local_terms, n - 1);
        let mut coords = Vec::new();
        for k in 0..chain.structure().local_terms {
            coords.clear();
            chain.term_coordinates(k, &mut coords);
            assert_eq!(coords, [k, k + 1]);
        }
    }
}

#[test]
fn text_lattice_and_pairs_declare_small_terms() {
    for system in [text_lattice(), text_pairs()] {
        assert!(system.structure().local_terms >= 2);
        let mut coords = Vec::new();
        for k in 0..system.structure().local_terms {
            coords.clear();
            system.term_coordinates(k, &mut coords);
            assert!(!coords.is_empty() && coords.len() <= 4, "{coords:?}");
        }
    }
}

#[test]
fn non_separable_text_lagrangian_declares_no_structure() {
    let n = 12;
    let coordinates: Vec<String> = (0..n).map(|i| format!("q{i}")).collect();
    let kinetic: Vec<String> = (0..n).map(|i| format!("q{i}_dot^2")).collect();
    let l = format!(
        "0.5*({}) - k*({})^2",
        kinetic.join(" + "),
        coordinates.join(" + ")
    );
    let system = TextSystem::from_toml_str(&toml(&coordinates, &l, &[("k", 0.5)])).unwrap();
    assert_eq!(system.structure().local_terms, 0);
    // A term touching 9 coordinates is too wide as well.
    let nine: Vec<String> = (0..9).map(|i| format!("q{i}")).collect();
    let l = format!("0.5*({}) - cos({})", kinetic.join(" + "), nine.join(" + "));
    let system = TextSystem::from_toml_str(&toml(&coordinates, &l, &[])).unwrap();
    assert_eq!(system.structure().local_terms, 0);
    // ...while 8 is accepted.
    let eight: Vec<String> = (0..8).map(|i| format!("q{i}")).collect();
    let l = format!("0.5*({}) - cos({})", kinetic.join(" + "), eight.join(" + "));
    let system = TextSystem::from_toml_str(&toml(&coordinates, &l, &[])).unwrap();
    assert!(system.structure().local_terms >= 2);
    let q: Vec<f64> = (0..n).map(|i| (0.3 * i as f64).sin()).collect();
    let qd: Vec<f64> = (0..n).map(|i| (0.7 * i as f64).cos()).collect();
    check(&system, 0.2, &q, &qd);
}

#[test]
fn small_text_systems_declare_no_structure() {
    for n in [1, 2, 8] {
        assert_eq!(text_chain(n).structure().local_terms, 0, "n = {n}");
    }
    assert!(text_chain(9).structure().local_terms > 0);
}

#[test]
fn single_group_declares_no_structure() {
    // Every term touches the same coordinates (or a subset): one group, nothing to gain.
    let n = 9;
    let coordinates: Vec<String> = (0..n).map(|i| format!("q{i}")).collect();
    let l = format!("cos({}) + q0^2 + 0.5*q1_dot^2", coordinates[..8].join("+"));
    let system = TextSystem::from_toml_str(&toml(&coordinates, &l, &[])).unwrap();
    assert_eq!(system.structure().local_terms, 0);
}

#[test]
fn parameters_and_explicit_time_in_terms() {
    let mut lattice = text_lattice();
    let q: Vec<f64> = (0..12).map(|i| (0.37 * i as f64).sin()).collect();
    let qd: Vec<f64> = (0..12).map(|i| (0.11 * i as f64).cos()).collect();
    for t in [0.0, 1.3, -2.1] {
        check(&lattice, t, &q, &qd);
    }
    // Changing a parameter re-binds the terms.
    lattice.set_parameter("k", 4.5).unwrap();
    lattice.set_parameter("b", -0.2).unwrap();
    check(&lattice, 0.7, &q, &qd);

    // Parameters supplied from outside (learning): values and parameter derivatives agree
    // between the structured and the dense path.
    let values = lattice.parameter_values();
    let params: Vec<Dual64> = values
        .iter()
        .enumerate()
        .map(|(j, &v)| {
            if j == 1 {
                Dual64::from_re(v).derivative()
            } else {
                Dual64::from_re(v)
            }
        })
        .collect();
    let with = lattice.with_parameters(&params);
    assert_eq!(
        lagrange::LagrangianOver::<Dual64>::structure(&with).local_terms,
        lattice.structure().local_terms
    );
    let lift = |x: &[f64]| x.iter().map(|&v| Dual64::from_re(v)).collect::<Vec<_>>();
    let (d, s) = both_paths(&with, Dual64::from_re(0.7), &lift(&q), &lift(&qd));
    let re = |x: &[Dual64]| x.iter().map(|v| v.re).collect::<Vec<_>>();
    let eps = |x: &[Dual64]| x.iter().map(|v| v.eps).collect::<Vec<_>>();
    assert_close(&re(&d), &re(&s));
    assert_close(&eps(&d), &eps(&s));
    let (bound, _) = both_paths(&lattice, 0.7, &q, &qd);
    assert_close(&bound, &re(&d));
}

#[test]
fn text_chain_1024_builds_and_evaluates() {
    let n = 1024;
    let chain = text_chain(n);
    assert_eq!(chain.structure().local_terms, n - 1);
    let q: Vec<f64> = (0..n).map(|i| (0.01 * i as f64).sin()).collect();
    let qd: Vec<f64> = (0..n).map(|i| (0.02 * i as f64).cos()).collect();
    assert_terms_add_up(&chain, 0.0, &q, &qd);
    let mut a = vec![0.0; n];
    accelerations_with(EomPath::Auto, &chain, 0.0, &q, &qd, &mut a).unwrap();
    // Harmonic chain: m q̈ᵢ = k (qᵢ₊₁ − 2qᵢ + qᵢ₋₁) with fixed walls.
    let (m, k) = (1.3, 2.7);
    for i in 0..n {
        let left = if i > 0 { q[i - 1] } else { 0.0 };
        let right = if i + 1 < n { q[i + 1] } else { 0.0 };
        let expected = k * (right - 2.0 * q[i] + left) / m;
        assert!((a[i] - expected).abs() <= 1e-12, "{} vs {expected}", a[i]);
    }
}
