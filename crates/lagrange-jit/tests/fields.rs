//! Compiled lattice fields against the autodiff engine: every boundary, 1-D and 2-D, two
//! fields, particles coupled to a field; and the threaded kernels against one thread.

use lagrange::Lagrangian;
use lagrange::field::FieldSystem;
use lagrange_jit::{CompiledEquations, MIN_PARALLEL_ROWS};

/// A reproducible pseudo-random state in [-1, 1] (splitmix64).
fn state(n: usize, seed: u64) -> Vec<f64> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

fn field(sites: &str, boundary: &str, names: &str, density: &str, extra: &str) -> FieldSystem {
    FieldSystem::from_toml_str(&format!(
        "{extra}\n[field]\nnames = {names}\nsites = {sites}\nspacing = 0.3\nboundary = \"{boundary}\"\ndensity = \"{density}\"\n[parameters]\nm = 1.3\n"
    ))
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Compares the compiled q̈ with the autodiff engine's; returns the coordinates the site
/// kernel computed.
fn compare(system: &FieldSystem, what: &str) -> usize {
    let n = system.dof();
    let (q, q_dot) = (state(n, 1), state(n, 2));
    let reference = lagrange::accelerations(system, 0.7, &q, &q_dot).unwrap();
    let mut eom = CompiledEquations::new(system).unwrap();
    assert!(eom.stats().term_kernels > 0, "{what}: no term kernels");
    let mut out = vec![0.0; n];
    eom.accelerations_into(0.7, &q, &q_dot, &mut out).unwrap();
    let scale = reference.iter().fold(1.0_f64, |a, v| a.max(v.abs()));
    for i in 0..n {
        // both compute the same sums of a few terms: agreement to rounding
        assert!(
            (out[i] - reference[i]).abs() <= 1e-12 * scale,
            "{what}: q̈[{i}] {} vs {}",
            out[i],
            reference[i]
        );
    }
    eom.stats().site_kernel_sites
}

#[test]
fn compiled_fields_match_autodiff_on_every_boundary() {
    let sg = "0.5*phi_t^2 - 0.5*phi_x^2 - m^2*(1 - cos(phi)) + 0.1*x*phi";
    let wave = "0.5*u_t^2 - 0.5*(u_x^2 + 2*u_y^2) - 0.25*u^4 + 0.1*sin(x - y)*u";
    let two = "0.5*(a_t^2 + b_t^2) + 0.2*a_t*b_t - 0.5*(a_x^2 + b_x^2) - m*a^2*b^2";
    for boundary in ["periodic", "fixed", "free"] {
        // one field: the interior is a stencil (site kernel), the rest term kernels
        let sites = compare(
            &field("[400]", boundary, "[\"phi\"]", sg, ""),
            &format!("1-D {boundary}"),
        );
        assert!(
            sites >= 390,
            "1-D {boundary}: {sites} sites by the site kernel"
        );
        let sites = compare(
            &field("[20, 18]", boundary, "[\"u\"]", wave, ""),
            &format!("2-D {boundary}"),
        );
        assert!(
            sites >= 200,
            "2-D {boundary}: {sites} sites by the site kernel"
        );
        // two fields interleave their coordinates: term kernels only
        compare(
            &field("[200]", boundary, "[\"a\", \"b\"]", two, ""),
            &format!("two fields {boundary}"),
        );
    }
    let coupled = field(
        "[300]",
        "free",
        "[\"phi\"]",
        "0.5*phi_t^2 - 0.5*phi_x^2",
        "coordinates = [\"X\", \"Y\"]\nlagrangian = \"0.5*(X_dot^2 + Y_dot^2) - 0.5*X^2 - Y^4\"\ncoupling = \"-phi*exp(-(x - 4 - X)^2)*(1 + 0.1*Y) + 0.05*phi_t*X_dot\"",
    );
    // the field's sites on the site kernel, the coupling terms added after it
    assert!(compare(&coupled, "particles coupled to a field") > 0);
}

/// Every way the site kernel's loop can end (four sites per iteration, then two, then one),
/// with explicit time, per-site constants and a state-independent force.
#[test]
fn site_kernels_cover_every_run_length() {
    let density = "0.5*phi_t^2 - 0.5*phi_x^2 - (1 + 0.1*t)*(1 - cos(phi)) + 0.3*x + 0.05*x*phi";
    for sites in 70..78 {
        for boundary in ["periodic", "fixed"] {
            let system = field(&format!("[{sites}]"), boundary, "[\"phi\"]", density, "");
            let inside = compare(&system, &format!("{sites} sites, {boundary}"));
            assert!(inside >= sites - 4, "{sites} {boundary}: {inside}");
        }
    }
}

/// A non-finite value anywhere in the state, or a force that overflows, is the engine's error
/// on the site kernel's path too (its check sum, then the exact check).
#[test]
fn site_kernels_report_non_finite_states_and_forces() {
    use lagrange::mechanics::MechanicsError;
    let system = field(
        "[300]",
        "fixed",
        "[\"phi\"]",
        "0.5*phi_t^2 - 0.5*phi_x^2 - 0.5*phi^2",
        "",
    );
    let n = system.dof();
    let mut eom = CompiledEquations::new(&system).unwrap();
    assert!(eom.stats().site_kernel_sites > 200);
    let (q, v) = (state(n, 5), state(n, 6));
    let mut out = vec![0.0; n];
    eom.accelerations_into(0.0, &q, &v, &mut out).unwrap();
    // an interior coordinate, and the ends (outside the site kernel)
    for at in [150, 0, n - 1] {
        for (what, value) in [("q", f64::NAN), ("q", f64::INFINITY), ("q̇", f64::NAN)] {
            let (mut q, mut v) = (q.clone(), v.clone());
            if what == "q" {
                q[at] = value;
            } else {
                v[at] = value;
            }
            let err = eom.accelerations_into(0.5, &q, &v, &mut out).unwrap_err();
            assert!(
                matches!(
                    err,
                    MechanicsError::NonFinite {
                        t: 0.5,
                        what: "state"
                    }
                ),
                "{what}[{at}] = {value}: {err}"
            );
        }
    }
    // a periodic ring's seams (0 and n − 1: the wrap-around, read through the seams' table)
    let ring = field(
        "[300]",
        "periodic",
        "[\"phi\"]",
        "0.5*phi_t^2 - 0.5*phi_x^2 - 0.5*phi^2",
        "",
    );
    let mut ring_eom = CompiledEquations::new(&ring).unwrap();
    ring_eom.set_velocity_check(false);
    ring_eom.accelerations_into(0.0, &q, &v, &mut out).unwrap();
    for at in [0, 1, n - 2, n - 1] {
        for value in [f64::NAN, f64::INFINITY, -1e308] {
            let mut q = q.clone();
            q[at] = value;
            let err = ring_eom
                .accelerations_into(0.5, &q, &v, &mut out)
                .unwrap_err();
            assert!(
                matches!(err, MechanicsError::NonFinite { t: 0.5, .. }),
                "periodic q[{at}] = {value}: {err}"
            );
        }
    }
    let err = eom
        .accelerations_into(f64::NAN, &q, &v, &mut out)
        .unwrap_err();
    assert!(matches!(
        err,
        MechanicsError::NonFinite { what: "state", .. }
    ));
    // finite but huge neighbours: the force overflows
    let mut far = q.clone();
    far[150] = 1e308;
    far[151] = -1e308;
    let err = eom.accelerations_into(0.0, &far, &v, &mut out).unwrap_err();
    assert!(
        matches!(
            err,
            MechanicsError::NonFinite {
                what: "generalized force",
                ..
            }
        ),
        "{err}"
    );
    // without the velocity check (as the integrators run it), a q̇ that q̈ ignores is not
    // read: the same q̈ as with a finite q̇
    let mut unchecked = eom.clone();
    unchecked.set_velocity_check(false);
    let mut bad = v.clone();
    bad[150] = f64::NAN;
    let mut a = vec![0.0; n];
    unchecked.accelerations_into(0.0, &q, &bad, &mut a).unwrap();
    eom.accelerations_into(0.0, &q, &v, &mut out).unwrap();
    assert_eq!(a, out);
    // ... while a non-finite q still is an error
    let mut bad = q.clone();
    bad[150] = f64::NAN;
    assert!(unchecked.accelerations_into(0.0, &bad, &v, &mut a).is_err());
    // large finite values whose check sum (Σ q̈ + q = Σ 3q here) overflows are not an error
    let inverted = field(
        "[300]",
        "periodic",
        "[\"phi\"]",
        "0.5*phi_t^2 - 0.5*phi_x^2 + 0.5*phi^2",
        "",
    );
    let mut eom = CompiledEquations::new(&inverted).unwrap();
    assert!(eom.stats().site_kernel_sites > 200);
    let big = vec![1e306; n];
    eom.accelerations_into(0.0, &big, &big, &mut out).unwrap();
    // q̈ = φ (the Laplacian of a constant is 0), to the rounding of the density's constants
    assert!(
        out.iter().all(|&a| (a / 1e306 - 1.0).abs() <= 1e-14),
        "{:?}",
        &out[..3]
    );
}

/// Arguments of `sin` beyond the vector polynomial's range (±10⁶) go to the library, in the
/// interior and at a periodic lattice's seams, on one thread and on two.
#[test]
fn site_kernels_take_huge_angles_to_the_library() {
    let sites = 2 * MIN_PARALLEL_ROWS + 17;
    let system = field(
        &format!("[{sites}]"),
        "periodic",
        "[\"phi\"]",
        "0.5*phi_t^2 - 0.5*phi_x^2 - m^2*(1 - cos(phi))",
        "",
    );
    let n = system.dof();
    let mut eom = CompiledEquations::new(&system).unwrap();
    assert!(eom.stats().site_kernel_sites > n - 4);
    let v = vec![0.0; n];
    for at in [0, n / 2, n - 1] {
        let mut q = state(n, 9);
        q[at] = 3.0e7;
        let reference = lagrange::accelerations(&system, 0.0, &q, &v).unwrap();
        let scale = reference.iter().fold(1.0_f64, |a, v| a.max(v.abs()));
        for threads in [1, 2] {
            eom.set_threads(threads);
            let mut out = vec![0.0; n];
            eom.accelerations_into(0.0, &q, &v, &mut out).unwrap();
            for i in 0..n {
                // the same sums of a few terms, the library's sin at 3·10⁷: rounding only
                assert!(
                    (out[i] - reference[i]).abs() <= 1e-12 * scale,
                    "q[{at}] huge, {threads} thread(s): q̈[{i}] {} vs {}",
                    out[i],
                    reference[i]
                );
            }
        }
    }
}

/// The kernels split across two threads give the sequential q̈ up to the order of additions:
/// a 1-D lattice, a 2-D one whose seams fall into both threads' parts, and two fields (term
/// kernels split in phases).
#[test]
fn threaded_kernels_match_one_thread() {
    let sites = 2 * MIN_PARALLEL_ROWS + 17;
    let sine_gordon = "0.5*phi_t^2 - 0.5*phi_x^2 - (1 - cos(phi))";
    let wave = "0.5*phi_t^2 - 0.5*(phi_x^2 + phi_y^2) - 0.1*phi^4";
    let two = "0.5*(phi_t^2 + psi_t^2) - 0.5*(phi_x^2 + psi_x^2) - phi^2*psi^2";
    let cases = [
        (format!("[{sites}]"), "[\"phi\"]", sine_gordon),
        ("[301, 200]".to_string(), "[\"phi\"]", wave),
        (format!("[{sites}]"), "[\"phi\", \"psi\"]", two),
    ];
    for ((lattice, names, density), boundary) in cases
        .iter()
        .flat_map(|c| ["periodic", "fixed"].map(|b| (c, b)))
    {
        let system = field(lattice, boundary, names, density, "");
        let n = system.dof();
        let (q, q_dot) = (state(n, 3), state(n, 4));
        let mut single = CompiledEquations::new(&system).unwrap();
        let mut threaded = single.clone();
        assert!(threaded.set_threads(2) >= 1, "no kernel was split");
        let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
        single.accelerations_into(0.0, &q, &q_dot, &mut a).unwrap();
        threaded
            .accelerations_into(0.0, &q, &q_dot, &mut b)
            .unwrap();
        for i in 0..n {
            assert!(
                (a[i] - b[i]).abs() <= 1e-13 * a[i].abs().max(1.0),
                "{i}: {} vs {}",
                a[i],
                b[i]
            );
        }
        if names.matches('"').count() == 2 {
            // one field: a stencil, each site computed alike whichever thread computes it
            assert!(single.stats().site_kernel_sites > 0);
            assert_eq!(a, b, "{lattice} {boundary}");
        }
        assert_eq!(threaded.set_threads(1), 0);
    }
}
