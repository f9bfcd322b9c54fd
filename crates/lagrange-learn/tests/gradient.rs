//! The exact parameter Jacobian (nested duals) against central finite differences.
use lagrange_learn::loss::{evaluate, predict};
use lagrange_learn::model::{Activation, Network, Polynomial, PolynomialForm};
mod common;

use common::random_data;
use lagrange_learn::{Dataset, Model, TextModel};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn check<M: Model + Sync>(model: &M, data: &Dataset, params: &[f64], tol: f64) {
    let ev = evaluate(model, data, params).unwrap();
    let np = params.len();
    let mut worst: f64 = 0.0;
    for p in 0..np {
        let h = 1e-6 * params[p].abs().max(1e-2);
        let mut up = params.to_vec();
        let mut dn = params.to_vec();
        up[p] += h;
        dn[p] -= h;
        let (a, b) = (
            predict(model, data, &up).unwrap(),
            predict(model, data, &dn).unwrap(),
        );
        let mut row = 0;
        for (x, y) in a.iter().zip(&b) {
            let (x, y) = (x.as_ref().unwrap(), y.as_ref().unwrap());
            for k in 0..x.len() {
                let fd = (x[k] - y[k]) / (2.0 * h);
                let exact = ev.jacobian[(row, p)];
                let err = (fd - exact).abs() / exact.abs().max(1.0);
                worst = worst.max(err);
                assert!(
                    err < tol,
                    "parameter {p}, residual {row}: exact {exact}, finite difference {fd}"
                );
                row += 1;
            }
        }
    }
    // the gradient is 2 Jᵀ r
    for p in 0..np {
        let g: f64 = (0..ev.residuals.len())
            .map(|i| 2.0 * ev.jacobian[(i, p)] * ev.residuals[i])
            .sum();
        assert!((g - ev.gradient[p]).abs() <= 1e-12 * g.abs().max(1.0));
    }
    println!(
        "{}: {np} parameters, worst relative difference {worst:.2e}",
        model.description()
    );
}

#[test]
fn text_model_jacobian_matches_finite_differences() {
    let m = TextModel::from_toml_str(
        r#"
coordinates = ["theta", "phi"]
lagrangian = "0.5*m1*l1^2*theta_dot^2 + 0.5*m2*(l1^2*theta_dot^2 + l2^2*phi_dot^2 + 2*l1*l2*theta_dot*phi_dot*cos(theta-phi)) + (m1+m2)*g*l1*cos(theta) + m2*g*l2*cos(phi)"
[parameters]
m1 = 1.3
m2 = 0.7
l1 = 1.1
l2 = 0.9
g = 9.81
"#,
    )
    .unwrap();
    let data = random_data(&["theta", "phi"], 30, 1);
    check(&m, &data, &m.initial_parameters(), 1e-5);
}

#[test]
fn polynomial_jacobian_matches_finite_differences() {
    let m = Polynomial::new(vec!["x".into(), "y".into()], PolynomialForm::Product, 3, 4).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let p: Vec<f64> = m
        .initial_parameters()
        .iter()
        .map(|v| v + 0.05 * rng.random_range(-1.0..1.0))
        .collect();
    let data = random_data(&["x", "y"], 20, 2);
    check(&m, &data, &p, 1e-5);
}

#[test]
fn network_jacobian_matches_finite_differences_across_chunks() {
    // 8 hidden units on 2 coordinates: 8·4 + 8 + 8 + 1 + 2 = 51 parameters = 7 chunks of 8
    let m = Network::new(
        vec!["x".into(), "y".into()],
        8,
        Activation::Tanh,
        Activation::Identity,
        true,
        5,
    )
    .unwrap();
    assert_eq!(m.initial_parameters().len(), 51);
    let data = random_data(&["x", "y"], 10, 4);
    check(&m, &data, &m.initial_parameters(), 1e-5);
    let sq = Network::new(
        vec!["x".into()],
        3,
        Activation::Softplus,
        Activation::Square,
        false,
        6,
    )
    .unwrap();
    let data = random_data(&["x"], 10, 5);
    check(&sq, &data, &sq.initial_parameters(), 1e-5);
}
