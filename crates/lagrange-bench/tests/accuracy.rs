//! The benchmark's error column is honest: autodiff and the hand-derived EOM agree with the
//! independent 40-digit SymPy reference to rounding, finite differences only to ~1e-7.

use lagrange_bench::{BenchOptions, all_cases, run};

#[test]
fn errors_against_the_sympy_reference() {
    let cases: Vec<_> = all_cases(true)
        .into_iter()
        .filter(|c| c.reference_kind.starts_with("SymPy"))
        .collect();
    assert_eq!(
        cases.len(),
        4,
        "ho1, dpend, cyclotron, kepler have SymPy references"
    );
    let options = BenchOptions {
        batch_seconds: 0.001,
        batches: 1,
        throughput_seconds: 0.001,
        rk4_steps: 10,
        ..Default::default()
    };
    let rows = run(&cases, &options, |_| {});
    for r in &rows {
        let bound = match r.method.as_str() {
            // exact derivatives (dual numbers, or symbolic and compiled): only f64 rounding in
            // L's evaluation and the solve remains
            "autodiff" | "autodiff-stateless" | "compiled" | "hand" | "text" | "text-compiled" => {
                1e-13
            }
            // central differences: h² truncation vs ε/h² rounding, ≈ 1e-8 .. 1e-6 at h = 1e-4
            "finite-diff" => 1e-5,
            other => panic!("unexpected method {other}"),
        };
        assert!(
            r.max_rel_error < bound,
            "{} {}: {:e}",
            r.system,
            r.method,
            r.max_rel_error
        );
    }
    let fd_dp = rows
        .iter()
        .find(|r| r.system == "dpend" && r.method == "finite-diff")
        .unwrap();
    assert!(
        fd_dp.max_rel_error > 1e-12,
        "finite differences cannot be exact: {:e}",
        fd_dp.max_rel_error
    );
}

#[test]
fn structured_chain_matches_hand_derived() {
    let cases: Vec<_> = all_cases(true)
        .into_iter()
        .filter(|c| c.system == "chain16")
        .collect();
    let options = BenchOptions {
        batch_seconds: 0.001,
        batches: 1,
        throughput_seconds: 0.001,
        rk4_steps: 10,
        ..Default::default()
    };
    for r in run(&cases, &options, |_| {}) {
        let bound = if r.method == "finite-diff" {
            1e-5
        } else {
            1e-12
        };
        assert!(
            r.max_rel_error < bound,
            "{}: {:e}",
            r.method,
            r.max_rel_error
        );
    }
}

#[test]
fn nbody_states_stay_bounded_over_the_rk4_run() {
    // the planetary N-body states: 10⁴ RK4 steps conserve energy to far below the old
    // (unstable ring) drift of 5–10, for the hand-derived and the autodiff EOM alike
    let mut case = all_cases(true)
        .into_iter()
        .find(|c| c.system == "nbody8")
        .expect("nbody8 in the quick cases");
    case.methods
        .retain(|m| m.name == "hand" || m.name == "autodiff");
    let options = BenchOptions {
        batch_seconds: 0.001,
        batches: 1,
        throughput_seconds: 0.001,
        threads: 1,
        rk4_steps: 10_000,
        ..Default::default()
    };
    for r in run(&[case], &options, |_| {}) {
        assert!(
            r.energy_drift < 1e-8,
            "{} drift {:e}",
            r.method,
            r.energy_drift
        );
        assert!(
            r.max_rel_error < 1e-12,
            "{}: {:e}",
            r.method,
            r.max_rel_error
        );
    }
}
