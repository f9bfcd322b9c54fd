//! The learning crate's wrappers — `TextModel`, `Restricted`, `&M` and `Bound` (a model with its
//! parameters bound, the Lagrangian the engine differentiates) — keep every declaration of the
//! text system: constant mass matrix, local terms, dissipation. So learning on a large chain
//! takes the structured path, and its q̈ is the hand-derived one.

use lagrange::expr::TextSystem;
use lagrange::mechanics::{AssemblyPath, EquationsOfMotion, MassSolve};
use lagrange::{Lagrangian, LagrangianOver, Structure};
use lagrange_learn::model::{Bound, Model, Restricted, TextModel};

const N: usize = 12;

/// L = Σ ½ m q̇ᵢ² − ½ k Σ (qᵢ₊₁ − qᵢ)² (fixed ends), F = ½ c Σ q̇ᵢ².
fn chain() -> TextSystem {
    let coords: Vec<String> = (1..=N).map(|i| format!("\"x{i}\"")).collect();
    let kinetic: Vec<String> = (1..=N).map(|i| format!("x{i}_dot^2")).collect();
    let mut springs = vec!["x1^2".to_string()];
    springs.extend((1..N).map(|i| format!("(x{} - x{i})^2", i + 1)));
    springs.push(format!("x{N}^2"));
    TextSystem::from_toml_str(&format!(
        "coordinates = [{}]\nlagrangian = \"0.5*m*({}) - 0.5*k*({})\"\ndissipation = \"0.5*c*({})\"\n[parameters]\nm = 2\nk = 3\nc = 0.5",
        coords.join(", "),
        kinetic.join(" + "),
        springs.join(" + "),
        kinetic.join(" + "),
    ))
    .unwrap()
}

fn check<M: Model>(what: &str, model: &M, params: &[f64], m: f64, k: f64, c: f64) {
    let system = chain();
    let expected = Lagrangian::structure(&system);
    assert!(expected.constant_mass_matrix && expected.dissipation && expected.local_terms > 0);
    assert_eq!(model.structure(), expected, "{what}: model");
    let bound = Bound { model, params };
    assert_eq!(
        LagrangianOver::<f64>::structure(&bound),
        expected,
        "{what}: bound"
    );
    let q: Vec<f64> = (0..N).map(|i| (0.4 * i as f64).cos()).collect();
    let v: Vec<f64> = (0..N).map(|i| 0.05 * i as f64).collect();
    let mut eom = EquationsOfMotion::new(&bound);
    let mut a = vec![0.0; N];
    eom.accelerations_into(0.0, &q, &v, &mut a).unwrap();
    for i in 0..N {
        // hand-derived: m q̈ᵢ = k (qᵢ₋₁ − 2qᵢ + qᵢ₊₁) − c q̇ᵢ
        let left = if i == 0 { 0.0 } else { q[i - 1] };
        let right = if i == N - 1 { 0.0 } else { q[i + 1] };
        let want = (k * (left - 2.0 * q[i] + right) - c * v[i]) / m;
        assert!((a[i] - want).abs() < 1e-12, "{what}: q̈[{i}]");
    }
    let info = eom.info();
    assert_eq!(info.path, AssemblyPath::Structured, "{what}");
    assert!(info.constant_mass_matrix, "{what}");
    assert_eq!(info.solve, MassSolve::Diagonal, "{what}");
}

#[test]
fn text_model_restricted_and_bound_keep_the_structure() {
    let model = TextModel::new(chain());
    assert_eq!(model.parameter_names(), ["m", "k", "c"]);
    check("TextModel", &model, &[2.0, 3.0, 0.5], 2.0, 3.0, 0.5);
    check("&TextModel", &&model, &[1.5, 4.0, 0.25], 1.5, 4.0, 0.25);
    let restricted = Restricted::new(TextModel::new(chain()), None, &[("c".into(), 0.5)]).unwrap();
    assert_eq!(restricted.parameter_names(), ["m", "k"]);
    check("Restricted", &restricted, &[1.0, 2.0], 1.0, 2.0, 0.5);
}

#[test]
fn models_without_declarations_declare_nothing() {
    use lagrange_learn::model::{Activation, Network};
    let network = Network::new(
        vec!["x".into()],
        3,
        Activation::Tanh,
        Activation::Square,
        true,
        1,
    )
    .unwrap();
    assert_eq!(network.structure(), Structure::new());
}
