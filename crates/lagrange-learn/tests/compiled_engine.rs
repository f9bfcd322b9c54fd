//! The compiled loss engine (parameters as inputs of machine code, parameter derivatives on the
//! graph) against the reference engine (nested dual numbers through the core): loss,
//! residuals, Jacobian and gradient at random models, states and parameters, to 1e-12.
//!
//! Tolerance: both compute the same exact derivatives with different roundings (the graph is
//! folded and reassociated, the duals are not), so each entry agrees to a few hundred ulp of
//! the largest entry of its column; 1e-12 relative to `max(1, max |column|)` leaves room for
//! the conditioning of M (moderate in every fixture) without hiding a wrong term (which would
//! be of the order of the entries themselves).
mod common;

use common::random_data;
use lagrange_learn::model::{Activation, Network, Polynomial, PolynomialForm};
use lagrange_learn::{
    Autodiff, Dataset, Engine, LearnError, LossEngine, Model, Restricted, TextModel, build_engine,
};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const TOL: f64 = 1e-12;

fn example(name: &str) -> TextModel {
    TextModel::from_path(format!(
        "{}/../../examples/{name}.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn text(source: &str) -> TextModel {
    TextModel::from_toml_str(source).unwrap()
}

/// Three parameter vectors: the model's initial values times factors in [0.6, 1.4] (standard
/// normal draws around 0 for zero initial values, scaled 0.3).
fn random_thetas<M: Model>(model: &M, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..3)
        .map(|_| {
            model
                .initial_parameters()
                .iter()
                .map(|&p| {
                    if p == 0.0 {
                        0.3 * rng.random_range(-1.0..1.0)
                    } else {
                        p * rng.random_range(0.6..1.4)
                    }
                })
                .collect()
        })
        .collect()
}

fn close(what: &str, got: f64, want: f64, scale: f64) {
    assert!(
        (got - want).abs() <= TOL * scale.max(1.0),
        "{what}: compiled {got:e} vs autodiff {want:e} (scale {scale:e})"
    );
}

/// Everything the engines compute, compiled against autodiff; returns how many sample
/// evaluations the compiled engine left to the reference.
fn compare<M: Model + Sync>(model: &M, data: &Dataset, seed: u64) -> usize {
    let reference = Autodiff::new(model);
    let compiled = build_engine(model, Engine::Compiled, true).unwrap();
    assert_eq!(compiled.report().used, "compiled");
    for theta in random_thetas(model, seed) {
        let want = reference.evaluate(data, &theta).unwrap();
        let got = compiled.evaluate(data, &theta).unwrap();
        assert_eq!(got.value.residuals, want.value.residuals);
        assert_eq!(got.value.singular, want.value.singular);
        assert_eq!(got.value.singular_first, want.value.singular_first);
        close("loss", got.value.sum, want.value.sum, want.value.sum);
        let r_scale = want.residuals.iter().fold(0.0_f64, |a, x| a.max(x.abs()));
        for (g, w) in got.residuals.iter().zip(&want.residuals) {
            close("residual", *g, *w, r_scale);
        }
        for p in 0..theta.len() {
            let column = want.jacobian.column(p);
            let scale = column.iter().fold(0.0_f64, |a, x| a.max(x.abs()));
            for (g, w) in got.jacobian.column(p).iter().zip(column.iter()) {
                close(&format!("∂r/∂θ{p}"), *g, *w, scale);
            }
        }
        let g_scale = want.gradient.iter().fold(0.0_f64, |a, x| a.max(x.abs()));
        let (value, gradient) = compiled.loss_and_gradient(data, &theta).unwrap();
        assert_eq!(value.singular_first, want.value.singular_first);
        close(
            "loss (gradient pass)",
            value.sum,
            want.value.sum,
            want.value.sum,
        );
        for (a, (g, w)) in gradient.iter().zip(&want.gradient).enumerate() {
            close(&format!("∂ε/∂θ{a} (reverse)"), *g, *w, g_scale);
        }
        for (a, (g, w)) in got.gradient.iter().zip(&want.gradient).enumerate() {
            close(&format!("∂ε/∂θ{a} (2 Jᵀ r)"), *g, *w, g_scale);
        }
        let loss = compiled.loss(data, &theta).unwrap();
        assert_eq!(loss.singular, want.value.singular);
        close(
            "loss (values only)",
            loss.sum,
            want.value.sum,
            want.value.sum,
        );
    }
    compiled.reference_samples()
}

#[test]
fn oscillator_with_the_mass_free() {
    let m = text(
        "coordinates = [\"x\"]\nlagrangian = \"0.5*m*x_dot^2 - 0.5*k*x^2\"\n\
         [parameters]\nm = 1.5\nk = 4.0\n",
    );
    assert_eq!(compare(&m, &random_data(&["x"], 60, 1), 1), 0);
    let engine = build_engine(&m, Engine::Compiled, true).unwrap();
    // M = m depends on a free parameter: it cannot be folded
    assert_ne!(
        engine.report().mass_matrix.as_deref(),
        Some("constant, eliminated at compile time")
    );
    drop(engine);
    // with m fixed, M is a constant and is eliminated at compile time
    let fixed = Restricted::new(m, None, &[("m".into(), 1.5)]).unwrap();
    let engine = build_engine(&fixed, Engine::Compiled, true).unwrap();
    assert_eq!(
        engine.report().mass_matrix.as_deref(),
        Some("constant, eliminated at compile time")
    );
    assert_eq!(compare(&fixed, &random_data(&["x"], 60, 2), 2), 0);
}

#[test]
fn damped_oscillator() {
    let left = compare(
        &example("damped-oscillator"),
        &random_data(&["x"], 60, 3),
        3,
    );
    assert_eq!(left, 0, "every sample is regular");
}

#[test]
fn double_pendulum_all_parameters_and_restricted() {
    let m = example("double-pendulum");
    let data = random_data(&["theta1", "theta2"], 80, 4);
    assert_eq!(compare(&m, &data, 4), 0);
    let fit = ["m2".to_string(), "g".to_string()];
    let restricted = Restricted::new(m, Some(&fit), &[("l1".into(), 1.2)]).unwrap();
    assert_eq!(compare(&restricted, &data, 5), 0);
}

#[test]
fn cyclotron_three_coordinates() {
    assert_eq!(
        compare(
            &example("cyclotron"),
            &random_data(&["x", "y", "z"], 60, 6),
            6
        ),
        0
    );
}

#[test]
fn polynomial_families() {
    let xy = vec!["x".to_string(), "y".to_string()];
    let sep = Polynomial::new(xy.clone(), PolynomialForm::Separable, 4, 2).unwrap();
    assert_eq!(compare(&sep, &random_data(&["x", "y"], 60, 7), 7), 0);
    let product = Polynomial::new(xy, PolynomialForm::Product, 3, 4).unwrap();
    assert_eq!(compare(&product, &random_data(&["x", "y"], 60, 8), 8), 0);
}

#[test]
fn tanh_network_takes_the_reverse_path() {
    let net = Network::new(
        vec!["x".into(), "y".into()],
        8,
        Activation::Tanh,
        Activation::Identity,
        true,
        9,
    )
    .unwrap();
    let engine = build_engine(&net, Engine::Compiled, true).unwrap();
    // 51 parameters, 5 entries of f and M's upper triangle: reverse sweeps
    assert_eq!(engine.report().derivatives.as_deref(), Some("reverse"));
    assert_eq!(compare(&net, &random_data(&["x", "y"], 60, 9), 9), 0);
}

#[test]
fn five_coordinates_solve_on_the_host() {
    let chain = text(
        "coordinates = [\"a\", \"b\", \"c\", \"d\", \"e\"]\n\
         lagrangian = \"0.5*(m + s*a^2)*a_dot^2 + 0.5*m*(b_dot^2 + c_dot^2 + d_dot^2 + e_dot^2) \
         + 0.1*m*b_dot*c_dot*cos(d) - 0.5*k*((b - a)^2 + (c - b)^2 + (d - c)^2 + (e - d)^2) \
         - 0.5*k*a^2\"\n[parameters]\nm = 1.0\ns = 0.3\nk = 2.0\n",
    );
    let engine = build_engine(&chain, Engine::Compiled, true).unwrap();
    // M couples b and c only (half-bandwidth 1, 4 × 1 < 5) and depends on the state (a, d)
    assert_eq!(
        engine.report().mass_matrix.as_deref(),
        Some("banded LU on the host")
    );
    assert_eq!(
        compare(&chain, &random_data(&["a", "b", "c", "d", "e"], 60, 10), 10),
        0
    );
}

/// A text model over `names` with kinetic energy `kinetic`, a spring chain fixed at one end.
fn chain_model(names: &[String], kinetic: &str) -> TextModel {
    let springs: Vec<String> = (0..names.len())
        .map(|i| match i {
            0 => format!("{}^2", names[0]),
            _ => format!("({} - {})^2", names[i], names[i - 1]),
        })
        .collect();
    let quoted: Vec<String> = names.iter().map(|c| format!("\"{c}\"")).collect();
    text(&format!(
        "coordinates = [{}]\nlagrangian = \"{kinetic} - 0.5*k*({})\"\n\
         [parameters]\nm = 1.0\ns = 0.2\nk = 2.0\n",
        quoted.join(", "),
        springs.join(" + ")
    ))
}

#[test]
fn mass_matrices_of_the_parameters_alone_are_factorized_once_per_parameter_set() {
    // 12 masses with neighbour coupling s ẋᵢ ẋᵢ₊₁: M = tridiag(s, m, s) depends on θ only
    let names: Vec<String> = (0..12).map(|i| format!("x{i}")).collect();
    let kinetic: Vec<String> = (0..12)
        .map(|i| match i {
            0 => format!("0.5*m*{}_dot^2", names[i]),
            _ => format!(
                "0.5*m*{}_dot^2 + s*{}_dot*{}_dot",
                names[i],
                names[i - 1],
                names[i]
            ),
        })
        .collect();
    let banded = chain_model(&names, &kinetic.join(" + "));
    let engine = build_engine(&banded, Engine::Compiled, true).unwrap();
    assert_eq!(
        engine.report().mass_matrix.as_deref(),
        Some("banded LU on the host, once per parameter set")
    );
    let coordinates: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(compare(&banded, &random_data(&coordinates, 40, 12), 12), 0);

    // 6 masses, every pair coupled: M = (m − s) I + s 𝟙𝟙ᵀ, dense
    let names: Vec<String> = (0..6).map(|i| format!("y{i}")).collect();
    let sum = names
        .iter()
        .map(|c| format!("{c}_dot"))
        .collect::<Vec<_>>()
        .join(" + ");
    let squares = names
        .iter()
        .map(|c| format!("{c}_dot^2"))
        .collect::<Vec<_>>()
        .join(" + ");
    let dense = chain_model(
        &names,
        &format!("0.5*(m - s)*({squares}) + 0.5*s*({sum})^2"),
    );
    let engine = build_engine(&dense, Engine::Compiled, true).unwrap();
    assert_eq!(
        engine.report().mass_matrix.as_deref(),
        Some("dense LU on the host, once per parameter set")
    );
    let coordinates: Vec<&str> = names.iter().map(String::as_str).collect();
    let data = random_data(&coordinates, 40, 13);
    assert_eq!(compare(&dense, &data, 13), 0);
    // M's eigenvalues are m − s (5 times) and m + 5 s: at s = −m/5 it is singular, for every
    // sample alike; the compiled engine leaves them all to the reference, which says so
    let theta = [1.0, -0.2, 2.0];
    let want = Autodiff::new(&dense).evaluate(&data, &theta);
    let got = engine.evaluate(&data, &theta);
    match (got, want) {
        (Err(got), Err(want)) => assert_eq!(got.to_string(), want.to_string()),
        (Ok(got), Ok(want)) => {
            assert_eq!(got.value.singular, want.value.singular);
            assert_eq!(got.value.singular, data.len());
        }
        (got, want) => panic!("compiled {:?} vs autodiff {:?}", got.is_ok(), want.is_ok()),
    }
    assert_eq!(engine.reference_samples(), data.len());
}

/// `L = ½ m x² ẋ² − ½ k x²`: its mass matrix m x² is singular at x = 0.
fn singular_at_origin() -> TextModel {
    text(
        "coordinates = [\"x\"]\nlagrangian = \"0.5*m*x^2*x_dot^2 - 0.5*k*x^2\"\n\
         [parameters]\nm = 1.0\nk = 2.0\n",
    )
}

#[test]
fn singular_and_indefinite_samples_are_classified_as_the_reference_does() {
    // M = m x², singular at x = 0: those samples must be left out at the same indices
    let m = singular_at_origin();
    let mut data = random_data(&["x"], 40, 11);
    for i in [3, 17, 18] {
        data.q[i][0] = 0.0;
    }
    // 3 singular samples × (evaluate, gradient pass, loss) × 3 parameter vectors
    assert_eq!(compare(&m, &data, 11), 27);
    assert_eq!(
        Autodiff::new(&m)
            .loss(&data, &[1.0, 2.0])
            .unwrap()
            .singular_first,
        vec![3, 17, 18]
    );
    // an indefinite M (b < 0): every in-code elimination is refused (a negative pivot), the
    // host's pivoted LU decides, and agrees with the reference
    let indefinite = text(
        "coordinates = [\"x\", \"y\"]\n\
         lagrangian = \"0.5*a*x_dot^2 + 0.5*b*y_dot^2 + 0.2*x_dot*y_dot - 0.5*k*(x^2 + y^2)\"\n\
         [parameters]\na = 1.0\nb = -2.0\nk = 1.0\n",
    );
    assert_eq!(
        compare(&indefinite, &random_data(&["x", "y"], 40, 12), 12),
        0
    );
}

#[test]
fn value_dependent_models_fall_back_with_the_reason() {
    let net = Network::new(
        vec!["x".into()],
        3,
        Activation::Softplus,
        Activation::Identity,
        true,
        1,
    )
    .unwrap();
    let auto = build_engine(&net, Engine::Auto, true).unwrap();
    assert_eq!(auto.report().used, "autodiff");
    let reason = auto.report().reason.clone().unwrap();
    assert!(reason.contains("re()"), "{reason}");
    assert!(auto.report().summary().starts_with("engine: autodiff ("));
    match build_engine(&net, Engine::Compiled, true) {
        Err(LearnError::EngineUnavailable { reason }) => assert!(reason.contains("re()")),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a softplus network compiled"),
    }
    // a compilable model under auto compiles
    let poly = Polynomial::new(vec!["x".into()], PolynomialForm::Separable, 2, 2).unwrap();
    assert_eq!(
        build_engine(&poly, Engine::Auto, true)
            .unwrap()
            .report()
            .used,
        "compiled"
    );
}

#[test]
fn errors_are_the_reference_errors() {
    let m = singular_at_origin();
    let mut data = random_data(&["x"], 5, 13);
    for row in &mut data.q {
        row[0] = 0.0;
    }
    let compiled = build_engine(&m, Engine::Compiled, true).unwrap();
    for result in [
        compiled.loss(&data, &[1.0, 2.0]).map(|_| ()),
        compiled.evaluate(&data, &[1.0, 2.0]).map(|_| ()),
        compiled.loss_and_gradient(&data, &[1.0, 2.0]).map(|_| ()),
    ] {
        assert!(matches!(
            result,
            Err(LearnError::AllSingular { samples: 5 })
        ));
    }
    // wrong coordinates: the same data error as the reference
    let other = random_data(&["y"], 5, 14);
    let want = Autodiff::new(&m).loss(&other, &[1.0, 2.0]).unwrap_err();
    let got = compiled.loss(&other, &[1.0, 2.0]).unwrap_err();
    assert_eq!(got.to_string(), want.to_string());
}

/// Double-pendulum data from the core's built-in system (m1 = m2 = l1 = l2 = 1, g = 9.81), with
/// 1 % noise so that the minimum is not an exact zero.
fn pendulum_data(samples: usize) -> Dataset {
    use lagrange_learn::{GenerateSpec, PhaseBox, generate};
    let spec = GenerateSpec {
        samples,
        phase_box: PhaseBox::parse("theta1=-1:1,theta2=-1:1,theta1_dot=-1:1,theta2_dot=-1:1")
            .unwrap(),
        noise: 0.01,
        seed: 21,
        ..GenerateSpec::default()
    };
    generate(example("double-pendulum").system(), &spec).unwrap()
}

/// The fitted parameters of two engines agree to `tol` relative.
fn same_parameters(a: &lagrange_learn::LearnResult, b: &lagrange_learn::LearnResult, tol: f64) {
    for (name, x) in &a.parameters {
        let y = b.parameters[name];
        assert!(
            (x - y).abs() <= tol * y.abs().max(1.0),
            "{name}: compiled {x} vs autodiff {y}"
        );
    }
}

fn with_engine(
    options: &lagrange_learn::LearnOptions,
    engine: Engine,
) -> lagrange_learn::LearnOptions {
    lagrange_learn::LearnOptions {
        engine,
        ..options.clone()
    }
}

/// LM and Adam reach the same parameters on either engine. The two engines round differently
/// (≈ 1e-15 per evaluation); LM converges quadratically and Adam's steps are smooth in the
/// gradient, so after hundreds of iterations the parameters still agree to 1e-10 (the issue's
/// target); a wrong derivative would move them by far more.
#[test]
fn optimizers_reach_the_same_parameters_on_both_engines() {
    use lagrange_learn::{AdamOptions, LearnOptions, Optimizer, learn};
    let data = pendulum_data(400);
    let fit = ["m2".to_string(), "g".to_string()];
    let model = Restricted::new(example("double-pendulum"), Some(&fit), &[]).unwrap();
    let mut start = model;
    start.set_initial("m2", 0.6).unwrap();
    start.set_initial("g", 5.0).unwrap();
    let lm = LearnOptions::default();
    let adam = LearnOptions {
        optimizer: Optimizer::Adam(AdamOptions {
            learning_rate: 0.01,
            iterations: 300,
            ..AdamOptions::default()
        }),
        ..LearnOptions::default()
    };
    for options in [lm, adam] {
        let reference = learn(&start, &data, &with_engine(&options, Engine::Autodiff)).unwrap();
        let compiled = learn(&start, &data, &with_engine(&options, Engine::Compiled)).unwrap();
        assert_eq!(compiled.engine.as_ref().unwrap().used, "compiled");
        assert_eq!(reference.engine.as_ref().unwrap().used, "autodiff");
        assert_eq!(compiled.iterations, reference.iterations);
        same_parameters(&compiled, &reference, 1e-10);
        assert!((compiled.loss - reference.loss).abs() <= 1e-10 * reference.loss);
    }
}

#[test]
fn landscape_multistart_and_bias_corrected_fit_agree() {
    use lagrange_learn::landscape::{GridAxis, landscape_with};
    use lagrange_learn::multistart::{MultiStartOptions, multistart};
    use lagrange_learn::noise::{NoiseModel, SimexOptions, learn_bias_corrected};
    use lagrange_learn::{LearnOptions, landscape::landscape};
    let data = pendulum_data(200);
    let fit = ["m2".to_string(), "g".to_string()];
    let model = Restricted::new(example("double-pendulum"), Some(&fit), &[]).unwrap();

    let (x, y) = (
        GridAxis::parse("m2=0.2:2:9").unwrap(),
        GridAxis::parse("g=2:12:7").unwrap(),
    );
    let engine = build_engine(&model, Engine::Compiled, false).unwrap();
    let got = landscape_with(engine.as_ref(), &model, &data, &[1.0, 9.81], &x, &y).unwrap();
    let want = landscape(&model, &data, &[1.0, 9.81], &x, &y).unwrap();
    for (g, w) in got.loss.iter().flatten().zip(want.loss.iter().flatten()) {
        assert!((g - w).abs() <= 1e-12 * w.abs(), "landscape {g} vs {w}");
    }

    let ms = MultiStartOptions {
        starts: 4,
        ..MultiStartOptions::default()
    };
    let options = LearnOptions::default();
    let a = multistart(&model, &data, &with_engine(&options, Engine::Compiled), &ms).unwrap();
    let b = multistart(&model, &data, &with_engine(&options, Engine::Autodiff), &ms).unwrap();
    let (ma, mb) = (a.minima.clone().unwrap(), b.minima.clone().unwrap());
    assert_eq!(ma.len(), mb.len());
    for (x, y) in ma.iter().zip(&mb) {
        assert!((x.loss - y.loss).abs() <= 1e-10 * y.loss);
    }
    same_parameters(&a, &b, 1e-10);

    let simex = SimexOptions {
        lambdas: vec![0.5, 1.0],
        repeats: 2,
        seed: 3,
    };
    let noise = NoiseModel::Relative(0.01);
    let a = learn_bias_corrected(
        &model,
        &data,
        &with_engine(&options, Engine::Compiled),
        &noise,
        &simex,
    )
    .unwrap();
    let b = learn_bias_corrected(
        &model,
        &data,
        &with_engine(&options, Engine::Autodiff),
        &noise,
        &simex,
    )
    .unwrap();
    same_parameters(&a, &b, 1e-8);
    assert_eq!(a.engine.unwrap().used, "compiled");
}

#[test]
fn declared_terms_run_as_kernels_and_agree_with_the_reference() {
    // 256 masses (lagrange_jit::MIN_TERM_COORDINATES): every spring, mass and on-site term is
    // a local term of the text's top-level sum, so the compiled engine runs term kernels; the
    // mass term (m + s xᵢ²) makes M depend on the state and on θ, the cos term gives alike
    // terms different constants
    let n = 256;
    let names: Vec<String> = (0..n).map(|i| format!("x{i}")).collect();
    let mut terms = vec![format!("-0.5*k*{}^2", names[0])];
    for i in 0..n {
        let x = &names[i];
        terms.push(format!("0.5*(m + s*{x}^2)*{x}_dot^2"));
        terms.push(format!("{}*k*cos({x})", 0.1 * (1 + i % 3) as f64));
        if i > 0 {
            terms.push(format!("-0.5*k*({x} - {})^2", names[i - 1]));
        }
    }
    let quoted: Vec<String> = names.iter().map(|c| format!("\"{c}\"")).collect();
    let chain = text(&format!(
        "coordinates = [{}]\nlagrangian = \"{}\"\n[parameters]\nm = 1.0\ns = 0.2\nk = 2.0\n",
        quoted.join(", "),
        terms.join(" + ")
    ));
    let engine = build_engine(&chain, Engine::Compiled, true).unwrap();
    assert_eq!(
        engine.report().mass_matrix.as_deref(),
        Some("banded LU on the host (term kernels)")
    );
    drop(engine);
    let coordinates: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(compare(&chain, &random_data(&coordinates, 40, 14), 14), 0);
}
