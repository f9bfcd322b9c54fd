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

fn compare(system: &FieldSystem, what: &str) {
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
}

#[test]
fn compiled_fields_match_autodiff_on_every_boundary() {
    let sg = "0.5*phi_t^2 - 0.5*phi_x^2 - m^2*(1 - cos(phi)) + 0.1*x*phi";
    let wave = "0.5*u_t^2 - 0.5*(u_x^2 + 2*u_y^2) - 0.25*u^4 + 0.1*sin(x - y)*u";
    let two = "0.5*(a_t^2 + b_t^2) + 0.2*a_t*b_t - 0.5*(a_x^2 + b_x^2) - m*a^2*b^2";
    for boundary in ["periodic", "fixed", "free"] {
        compare(
            &field("[400]", boundary, "[\"phi\"]", sg, ""),
            &format!("1-D {boundary}"),
        );
        compare(
            &field("[20, 18]", boundary, "[\"u\"]", wave, ""),
            &format!("2-D {boundary}"),
        );
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
    compare(&coupled, "particles coupled to a field");
}

/// The kernels split across two threads give the sequential q̈ up to the order of additions.
#[test]
fn threaded_kernels_match_one_thread() {
    let sites = 2 * MIN_PARALLEL_ROWS + 17;
    for boundary in ["periodic", "fixed"] {
        let system = field(
            &format!("[{sites}]"),
            boundary,
            "[\"phi\"]",
            "0.5*phi_t^2 - 0.5*phi_x^2 - (1 - cos(phi))",
            "",
        );
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
        assert_eq!(threaded.set_threads(1), 0);
    }
}
