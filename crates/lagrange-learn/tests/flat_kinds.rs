//! Flat directions of the parameters classified by what they do to L (`identify::classify_flat`),
//! on `L = ½ m ẋ² − ½ k x² + c + a x ẋ`: by hand, q̈ = −(k/m) x, so (m, k) ∝ (m, k) rescales L,
//! `c` adds a constant and `a x ẋ = d/dt(½ a x²)` a total time derivative; none of them moves
//! the motion. Scaling all of θ scales L.
use lagrange_learn::identify::{
    FLAT_THRESHOLD, FlatKind, acceleration_jacobian, classify_flat, flat_directions,
};
use lagrange_learn::{Model, TextModel};

#[test]
fn scale_constant_and_total_derivative_are_told_apart() {
    let model = TextModel::from_toml_str(
        "coordinates = [\"x\"]\nlagrangian = \"0.5*m*x_dot^2 - 0.5*k*x^2 + c + a*x*x_dot\"\n\
         [parameters]\nm = 2.0\nk = 3.0\nc = 0.5\na = 0.7\n",
    )
    .unwrap();
    let theta = model.initial_parameters();
    let states: Vec<(f64, Vec<f64>, Vec<f64>)> = (0..30)
        .map(|i| {
            let s = i as f64 * 0.37;
            (s, vec![s.sin() + 0.2], vec![(1.3 * s).cos()])
        })
        .collect();
    let jacobian = acceleration_jacobian(&model, &theta, &states);
    assert_eq!((jacobian.nrows(), jacobian.ncols()), (30, 4));
    // ∂ẍ/∂m = (k/m²) x at the first state, by hand
    let (m, k, x) = (2.0, 3.0, states[0].1[0]);
    assert!((jacobian[(0, 0)] - k / (m * m) * x).abs() < 1e-14);

    let names = model.parameter_names();
    let flats = flat_directions(&jacobian, &theta, &names, FLAT_THRESHOLD);
    assert_eq!(flats.len(), 3, "{flats:?}");
    let vector = |f: &lagrange_learn::identify::FlatDirection| -> Vec<f64> {
        names
            .iter()
            .map(|n| {
                f.direction
                    .iter()
                    .find(|(m, _)| m == n)
                    .map_or(0.0, |d| d.1)
            })
            .collect()
    };
    // the three directions span θ itself (L → (1 + ε) L), c and a; classify the pure ones
    let mut kinds: Vec<FlatKind> = [
        theta.clone(),
        vec![0.0, 0.0, 1.0, 0.0],
        vec![0.0, 0.0, 0.0, 1.0],
    ]
    .iter()
    .map(|d| classify_flat(&model, &theta, d, &states))
    .collect();
    assert_eq!(
        kinds,
        [
            FlatKind::Scale,
            FlatKind::Constant,
            FlatKind::TotalTimeDerivative
        ]
    );
    // and whatever basis the eigen-solver returns, each of its vectors is one of those or a mix
    kinds = flats
        .iter()
        .map(|f| classify_flat(&model, &theta, &vector(f), &states))
        .collect();
    assert!(kinds.iter().all(|k| *k != FlatKind::Unused), "{kinds:?}");
    // (m, k) alone rescales only part of L: a scale plus a constant and a total derivative
    assert_eq!(
        classify_flat(&model, &theta, &[2.0, 3.0, 0.0, 0.0], &states),
        FlatKind::TotalTimeDerivative
    );
    // a direction that changes the motion is not flat: k alone changes k/m
    assert!(jacobian.column(1).norm() > 0.1);
}
