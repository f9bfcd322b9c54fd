//! Noether analysis (`lagrange::mechanics::symmetry`) against the symmetries known by hand.
//!
//! Oracles (strict invariance δL = 0 under linear point transformations, derived from each L):
//! - Kepler `½|ṙ|² + μ/|r|`: rotations about the centre, and the time shift. No translation.
//! - Cyclotron in the symmetric gauge `½m|v|² + ½qB(xẏ − yẋ)`: translation along z, rotation
//!   about z, time. Translations across B change L by a total derivative only: not strict.
//! - Planar N-body `Σ ½mᵢ|ṙᵢ|² + Σ Gmᵢmⱼ/√(|rᵢ − rⱼ|² + ε²)`: the total translations along x and
//!   along y, the rotation of all bodies together, the rotation of the centre of mass alone
//!   (a free particle), time.
//! - Fixed-end chain: the springs to the walls break every translation and rotation: time only.
//! - Oscillators: isotropic 3-D has the three rotations; the anisotropic one has none.
//! - `½(ẋ² − ẏ²) − ½(x² − y²)`: the hyperbolic rotation ξ = (y, x), a symmetric A ("linear").
//! - The driven oscillator depends on t: no time shift.

use lagrange::Lagrangian;
use lagrange::expr::TextSystem;
use lagrange::mechanics::symmetry::{Symmetry, SymmetryError, SymmetryKind, find_symmetries};
use lagrange::systems::{System, by_name};

/// Exact symmetries come out at rounding level (≈ 1e-16); non-symmetries at ≳ 1e-3.
const TOLERANCE: f64 = 1e-8;

/// `count` states with q, q̇ uniform in [−1.5, 1.5] (a fixed linear congruential sequence;
/// `avoid_origin` shifts q away from 0 where L is singular there).
fn states(n: usize, count: usize, avoid_origin: bool) -> Vec<(f64, Vec<f64>, Vec<f64>)> {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 11) as f64 / (1u64 << 53) as f64) * 3.0 - 1.5
    };
    (0..count)
        .map(|_| {
            let t = next();
            let mut q: Vec<f64> = (0..n).map(|_| next()).collect();
            if avoid_origin {
                q[0] += if q[0] >= 0.0 { 0.5 } else { -0.5 };
            }
            let v = (0..n).map(|_| next()).collect();
            (t, q, v)
        })
        .collect()
}

fn analyse<L: Lagrangian + ?Sized>(l: &L, avoid_origin: bool) -> Vec<Symmetry> {
    let n = l.dof();
    let count = 2 * (n + n * n + 1) + 20;
    let found = find_symmetries(l, &states(n, count, avoid_origin), TOLERANCE).unwrap();
    for s in &found.symmetries {
        assert!(s.singular_value < TOLERANCE, "{s:?}");
        // an exact symmetry: the terms of δL cancel to rounding
        assert!(s.defect < 1e-10, "{s:?}");
    }
    found.symmetries
}

/// Generators are normalized by divisions (echelon form, largest entry 1): equal to the exact
/// ones to a few ulp.
fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-12, "{got:?} vs {want:?}");
    }
}

fn kinds(found: &[Symmetry]) -> Vec<SymmetryKind> {
    found.iter().map(|s| s.kind).collect()
}

fn builtin(name: &str, params: &[(&str, f64)]) -> lagrange::systems::BuiltinSystem {
    let mut s = by_name(name).unwrap();
    for &(p, v) in params {
        s.set_parameter(p, v).unwrap();
    }
    s
}

/// `A` (n × n) of a rotation taking coordinate a towards b: ξ_a = −q_b, ξ_b = q_a.
fn rotation(n: usize, a: usize, b: usize) -> Vec<f64> {
    let mut m = vec![0.0; n * n];
    m[a * n + b] = -1.0;
    m[b * n + a] = 1.0;
    m
}

#[test]
fn kepler_has_exactly_one_rotation_and_the_time_shift() {
    let found = analyse(&builtin("kepler", &[]), true);
    assert_eq!(kinds(&found), [SymmetryKind::Rotation, SymmetryKind::Time]);
    assert_close(&found[0].matrix, &rotation(2, 0, 1));
    assert_close(&found[0].translation, &[0.0, 0.0]);
    assert_eq!(found[1].time, 1.0);
}

#[test]
fn cyclotron_keeps_translation_along_the_field_and_rotation_about_it() {
    let found = analyse(&builtin("cyclotron", &[]), false);
    assert_eq!(
        kinds(&found),
        [
            SymmetryKind::Translation,
            SymmetryKind::Rotation,
            SymmetryKind::Time
        ]
    );
    assert_close(&found[0].translation, &[0.0, 0.0, 1.0]);
    assert_close(&found[1].matrix, &rotation(3, 0, 1));
}

/// `A` of rotating every body of a planar system (coordinates x1, y1, x2, y2, …) together.
fn together(bodies: usize) -> Vec<f64> {
    let n = 2 * bodies;
    let mut a = vec![0.0; n * n];
    for body in 0..bodies {
        for (e, x) in rotation(n, 2 * body, 2 * body + 1).iter().enumerate() {
            a[e] += x;
        }
    }
    a
}

/// `A` of rotating the centre of mass alone: every body moves by the rotation of
/// R = Σ mⱼ rⱼ / M, ξ(rᵢ) = (−R_y, R_x).
fn centre_of_mass(masses: &[f64]) -> Vec<f64> {
    let n = 2 * masses.len();
    let total: f64 = masses.iter().sum();
    let mut a = vec![0.0; n * n];
    for i in 0..masses.len() {
        for (j, m) in masses.iter().enumerate() {
            a[2 * i * n + 2 * j + 1] = -m / total;
            a[(2 * i + 1) * n + 2 * j] = m / total;
        }
    }
    a
}

/// Whether `a` is a combination of `basis` (least squares on the normal equations of a tiny
/// system, residual below 1e-10).
fn in_span(a: &[f64], basis: &[Vec<f64>]) -> bool {
    let k = basis.len();
    let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>();
    let gram = nalgebra::DMatrix::from_fn(k, k, |i, j| dot(&basis[i], &basis[j]));
    let rhs = nalgebra::DVector::from_fn(k, |i, _| dot(&basis[i], a));
    let c = gram.lu().solve(&rhs).unwrap();
    let residual: f64 = (0..a.len())
        .map(|e| a[e] - (0..k).map(|i| c[i] * basis[i][e]).sum::<f64>())
        .map(|r| r * r)
        .sum();
    residual.sqrt() < 1e-10
}

#[test]
fn free_n_body_has_the_total_translations_and_the_rotations() {
    // L = ½M|Ṙ|² + L(relative coordinates): besides the rotation of all bodies together, the
    // centre of mass, a free particle, has its own rotation about the origin. With equal masses
    // its generator is antisymmetric (a second rotation); with unequal ones it is not.
    let found = analyse(&builtin("n-body", &[("n", 3.0)]), false);
    assert_eq!(
        kinds(&found),
        [
            SymmetryKind::Translation,
            SymmetryKind::Translation,
            SymmetryKind::Rotation,
            SymmetryKind::Rotation,
            SymmetryKind::Time
        ]
    );
    // coordinates x1, y1, x2, y2, x3, y3
    assert_close(&found[0].translation, &[1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
    assert_close(&found[1].translation, &[0.0, 1.0, 0.0, 1.0, 0.0, 1.0]);
    let expected = [together(3), centre_of_mass(&[1.0; 3])];
    for s in &found[2..4] {
        assert!(in_span(&s.matrix, &expected), "{:?}", s.matrix);
    }
    assert!(in_span(
        &expected[0],
        &[found[2].matrix.clone(), found[3].matrix.clone()]
    ));

    let masses = [1.0, 2.0, 3.0];
    let unequal = builtin(
        "n-body",
        &[
            ("n", 3.0),
            ("m1", masses[0]),
            ("m2", masses[1]),
            ("m3", masses[2]),
        ],
    );
    let found = analyse(&unequal, false);
    assert_eq!(
        kinds(&found),
        [
            SymmetryKind::Translation,
            SymmetryKind::Translation,
            SymmetryKind::Rotation,
            SymmetryKind::Time,
            SymmetryKind::Linear
        ]
    );
    assert!(in_span(&found[2].matrix, &[together(3)]));
    let both = [together(3), centre_of_mass(&masses)];
    assert!(in_span(&found[4].matrix, &both), "{:?}", found[4].matrix);
}

#[test]
fn the_fixed_chain_has_no_spatial_symmetry() {
    let found = analyse(&builtin("chain", &[("n", 5.0)]), false);
    assert_eq!(kinds(&found), [SymmetryKind::Time]);
}

#[test]
fn an_anisotropic_oscillator_loses_its_rotations() {
    let isotropic = builtin(
        "harmonic-oscillator",
        &[
            ("n", 3.0),
            ("m_x", 1.0),
            ("m_y", 1.0),
            ("m_z", 1.0),
            ("k_x", 2.0),
            ("k_y", 2.0),
            ("k_z", 2.0),
        ],
    );
    let coordinates = isotropic.coordinates();
    assert_eq!(coordinates, ["x", "y", "z"], "the parameter names above");
    let found = analyse(&isotropic, false);
    let rotations: Vec<&Symmetry> = found
        .iter()
        .filter(|s| s.kind == SymmetryKind::Rotation)
        .collect();
    assert_eq!(rotations.len(), 3, "so(3): {found:?}");
    assert_eq!(found.len(), 4, "and time: {found:?}");

    let anisotropic = TextSystem::from_toml_str(include_str!(
        "../../../examples/anisotropic-oscillator.toml"
    ))
    .unwrap();
    assert_eq!(kinds(&analyse(&anisotropic, false)), [SymmetryKind::Time]);
    // with equal stiffnesses the same file regains its rotation
    let mut equal = anisotropic.clone();
    equal.set_parameter("ky", 1.0).unwrap();
    assert_eq!(
        kinds(&analyse(&equal, false)),
        [SymmetryKind::Rotation, SymmetryKind::Time]
    );
}

#[test]
fn a_symmetric_generator_is_found_as_a_linear_symmetry() {
    let hyperbolic = TextSystem::from_toml_str(
        "coordinates = [\"x\", \"y\"]\nlagrangian = \"0.5*(x_dot^2 - y_dot^2) - 0.5*(x^2 - y^2)\"\n",
    )
    .unwrap();
    let found = analyse(&hyperbolic, false);
    assert_eq!(kinds(&found), [SymmetryKind::Time, SymmetryKind::Linear]);
    // ξ = (y, x): A = [[0, 1], [1, 0]]
    assert_close(&found[1].matrix, &[0.0, 1.0, 1.0, 0.0]);
}

#[test]
fn explicit_time_dependence_removes_the_time_shift() {
    let found = analyse(&builtin("driven-oscillator", &[]), false);
    assert!(
        found.iter().all(|s| s.kind != SymmetryKind::Time),
        "{found:?}"
    );
}

#[test]
fn too_few_samples_is_an_error_naming_the_count() {
    let kepler = builtin("kepler", &[]);
    let err = find_symmetries(&kepler, &states(2, 5, true), TOLERANCE).unwrap_err();
    assert_eq!(
        err,
        SymmetryError::NotEnoughSamples {
            samples: 5,
            needed: 7
        }
    );
}
