//! Text Lagrangians declare a constant mass matrix exactly when the text provably has one.
//!
//! Oracles, independent of the symbolic analysis: the hand declarations of the built-in Rust
//! systems, the numerical mass matrix `∂²L/∂q̇²` at random states, and the stateless
//! `accelerations` (which never looks at the declaration).

use lagrange::expr::{Symbols, TextSystem, parse};
use lagrange::mechanics::EquationsOfMotion;
use lagrange::systems::{System, by_name, names};
use lagrange::{Lagrangian, LagrangianOver, accelerations, mass_matrix};

/// SplitMix64: a small deterministic generator for states and random expressions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// TOML for a text system.
fn toml(
    coordinates: &[String],
    lagrangian: &str,
    dissipation: Option<&str>,
    parameters: &[(String, f64)],
) -> String {
    let quoted: Vec<String> = coordinates.iter().map(|c| format!("\"{c}\"")).collect();
    let mut s = format!(
        "coordinates = [{}]\nlagrangian = \"{lagrangian}\"\n",
        quoted.join(", ")
    );
    if let Some(d) = dissipation {
        s.push_str(&format!("dissipation = \"{d}\"\n"));
    }
    s.push_str("[parameters]\n");
    for (p, v) in parameters {
        s.push_str(&format!("{p} = {v:?}\n"));
    }
    s
}

/// The text system of a built-in (its `lagrangian_text`, `dissipation_text` and parameters).
fn text_of(s: &impl System) -> TextSystem {
    TextSystem::from_toml_str(&toml(
        &s.coordinates(),
        &s.lagrangian_text(),
        s.dissipation_text().as_deref(),
        &s.parameters(),
    ))
    .unwrap_or_else(|e| panic!("{}: {e}", s.title()))
}

/// Three coordinates `x, y, z` and parameters `m, k`.
fn xyz(lagrangian: &str, dissipation: Option<&str>) -> TextSystem {
    let coordinates: Vec<String> = ["x", "y", "z"].iter().map(|c| c.to_string()).collect();
    let params = [("m".to_string(), 1.7), ("k".to_string(), 0.6)];
    TextSystem::from_toml_str(&toml(&coordinates, lagrangian, dissipation, &params)).unwrap()
}

fn detected(lagrangian: &str) -> bool {
    let symbols = Symbols::new(["q", "x", "y"], ["m", "b", "k"]);
    let expr = parse(lagrangian, &symbols).unwrap();
    expr.mass_matrix_is_constant()
}

/// A random state of `n` coordinates.
fn state(rng: &mut Rng, n: usize) -> (f64, Vec<f64>, Vec<f64>) {
    let t = rng.uniform(-2.0, 2.0);
    let q = (0..n).map(|_| rng.uniform(-1.5, 1.5)).collect();
    let q_dot = (0..n).map(|_| rng.uniform(-2.0, 2.0)).collect();
    (t, q, q_dot)
}

/// Whether `M` at `count` random states equals `M` at the first, to 1e-12 of its size.
fn numerically_constant(sys: &TextSystem, rng: &mut Rng, count: usize) -> Result<(), String> {
    let n = Lagrangian::dof(sys);
    let (t0, q0, qd0) = state(rng, n);
    let m0 = mass_matrix(sys, t0, &q0, &qd0).map_err(|e| e.to_string())?;
    let scale = 1.0 + m0.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
    for _ in 0..count {
        let (t, q, q_dot) = state(rng, n);
        let m = mass_matrix(sys, t, &q, &q_dot).map_err(|e| e.to_string())?;
        if m0
            .iter()
            .zip(&m)
            .any(|(a, b)| (a - b).abs() > 1e-12 * scale)
        {
            return Err(format!(
                "M {m0:?} at the first state, {m:?} at {q:?}, {q_dot:?}"
            ));
        }
    }
    Ok(())
}

/// Every built-in that declares a constant `M` by hand is detected from its text; a text
/// detected constant where the hand declaration is the conservative `false` (the pendulum's
/// `½ m l² θ̇²`, Kepler in Cartesian coordinates) is checked numerically instead.
#[test]
fn builtin_texts_agree_with_the_hand_declarations() {
    let mut rng = Rng(0xB1);
    let mut detected_names = Vec::new();
    let mut hand_names = Vec::new();
    for &name in names() {
        let mut sys = by_name(name).unwrap();
        for n in [None, Some(3.0), Some(10.0)] {
            if let Some(n) = n
                && sys.set_parameter("n", n).is_err()
            {
                continue;
            }
            let text = text_of(&sys);
            let detected = Lagrangian::structure(&text).constant_mass_matrix;
            let hand = Lagrangian::structure(&sys).constant_mass_matrix;
            assert_eq!(detected, text.lagrangian_expr().mass_matrix_is_constant());
            let label = format!("{name} (n = {n:?}): {}", sys.lagrangian_text());
            if hand {
                assert!(detected, "{label}: declared by hand, not detected");
            } else if detected {
                numerically_constant(&text, &mut rng, 8).unwrap_or_else(|e| panic!("{label}: {e}"));
            }
            if n.is_none() {
                if detected {
                    detected_names.push(name);
                }
                if hand {
                    hand_names.push(name);
                }
            }
        }
    }
    eprintln!("detected: {detected_names:?}; by hand: {hand_names:?}");
    // Keep the test meaningful: the hand declarations exist, and the non-constant texts
    // (double and spring pendulum) are not detected.
    assert!(!hand_names.is_empty(), "{hand_names:?}");
    assert!(
        detected_names.len() < names().len(),
        "every built-in detected: {detected_names:?}"
    );
    for name in ["double-pendulum", "spring-pendulum"] {
        if names().contains(&name) {
            assert!(!detected_names.contains(&name), "{name} detected constant");
        }
    }
}

#[test]
fn negative_cases() {
    for text in [
        "q*q_dot^2",
        "sin(q_dot)",
        "q_dot^3",
        "q_dot^2/q",
        "sqrt(1 + q_dot^2)",
        "exp(t)*q_dot^2",
        "abs(q_dot)",
        "cos(q)*x_dot*y_dot",
        "0.5*m*(x_dot^2 + x^2*y_dot^2)",
        "1/q_dot",
        "q_dot^-2",
        "q_dot^1.5",
        "q_dot^m",
        "m^q_dot",
        "atan2(q_dot, 1)",
        "tanh(x_dot)*x_dot",
        "x_dot*y_dot*q_dot",
        "(x_dot + 1)^2*(y_dot + 1)",
        "x_dot^2/(1 + x_dot)",
        "t*x_dot^2 + y_dot^2",
        "q*q_dot^2 - q*q_dot^2", // cancels, but the check is structural: conservative `false`
    ] {
        assert!(!detected(text), "{text} declared constant");
    }
}

#[test]
fn positive_cases() {
    for text in [
        "0.5*m*x_dot^2 + b*x*y_dot - k*x^2",
        "(x_dot + y_dot)^2",
        "q_dot*sin(q)",
        "0",
        "2.5",
        "m*k",
        "sin(q) + exp(t)*x^2",
        "0.5*(m/k)*(x_dot - 2*y_dot)^2 - cos(q)",
        "x_dot*y_dot/(b*k) + t*q*q_dot",
        "-(m*q_dot^2)/2 + (q_dot + sin(t))*(x + y)",
        "(x_dot + q)*(y_dot - t) + m^2*q_dot^2",
    ] {
        assert!(detected(text), "{text} not declared constant");
    }
}

/// A random additive term in `x, y, z`: a product of two or three factors, some of them
/// linear in the velocities, some functions of the state, some constant.
fn random_term(rng: &mut Rng) -> String {
    const VELOCITY: &[&str] = &[
        "x_dot",
        "y_dot",
        "z_dot",
        "(x_dot - 2*z_dot)",
        "(0.5*y_dot + x_dot + m)",
        "(y_dot + sin(x))",
        "(z_dot*k - t)",
    ];
    const STATE: &[&str] = &[
        "x",
        "y",
        "sin(z)",
        "cos(t)",
        "exp(0.3*x)",
        "(1 + y^2)",
        "t*z",
        "atan2(y, 2 + x^2)",
    ];
    const CONSTANT: &[&str] = &["m", "k", "0.5", "(m/k)", "(2 - k)", "sqrt(m)", "pi"];
    let factors = 2 + rng.below(2);
    let mut out = Vec::new();
    for _ in 0..factors {
        out.push(match rng.below(3) {
            0 => rng.pick(VELOCITY),
            1 => rng.pick(STATE),
            _ => rng.pick(CONSTANT),
        });
    }
    let mut term = out.join("*");
    match rng.below(6) {
        0 => term = format!("({term})/(m + k)"),
        1 => term = format!("({term})/(2 + cos(x))"),
        2 => term = format!("-({term})"),
        3 => term = format!("{}^2", rng.pick(VELOCITY)),
        _ => {}
    }
    term
}

#[test]
fn declared_constant_means_numerically_constant() {
    let mut rng = Rng(0x5EED_CAFE);
    let (mut declared, mut not_declared) = (0, 0);
    for _ in 0..400 {
        let terms = 1 + rng.below(4);
        let l: Vec<String> = (0..terms).map(|_| random_term(&mut rng)).collect();
        let l = l.join(" + ");
        let sys = xyz(&l, None);
        if !Lagrangian::structure(&sys).constant_mass_matrix {
            not_declared += 1;
            continue;
        }
        declared += 1;
        numerically_constant(&sys, &mut rng, 6).unwrap_or_else(|e| panic!("{l}: {e}"));
    }
    // Both kinds occur, so the check above is exercised.
    assert!(
        declared >= 50 && not_declared >= 50,
        "{declared} / {not_declared}"
    );
}

/// `EquationsOfMotion` (which reuses `M⁻¹` of a declared-constant `M`) against the stateless
/// `accelerations`, reusing one evaluator over many random states.
fn check_equations_of_motion(sys: &TextSystem, rng: &mut Rng, label: &str) {
    assert!(Lagrangian::structure(sys).constant_mass_matrix, "{label}");
    let n = Lagrangian::dof(sys);
    let mut eom = EquationsOfMotion::new(sys);
    let mut a = vec![0.0; n];
    for _ in 0..20 {
        let (t, q, q_dot) = state(rng, n);
        eom.accelerations_into(t, &q, &q_dot, &mut a)
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        let b = accelerations(sys, t, &q, &q_dot).unwrap_or_else(|e| panic!("{label}: {e}"));
        let scale = 1.0 + b.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
        for i in 0..n {
            assert!(
                (a[i] - b[i]).abs() <= 1e-12 * scale,
                "{label}: q̈[{i}] {} vs {}",
                a[i],
                b[i]
            );
        }
    }
}

#[test]
fn equations_of_motion_match_stateless_accelerations() {
    let mut rng = Rng(0xACCE1);
    // Built-ins whose text is detected constant (chain and n-body also as local terms, n > 8).
    for &name in names() {
        let mut sys = by_name(name).unwrap();
        for n in [None, Some(10.0)] {
            if let Some(n) = n
                && sys.set_parameter("n", n).is_err()
            {
                continue;
            }
            let text = text_of(&sys);
            if Lagrangian::structure(&text).constant_mass_matrix {
                check_equations_of_motion(&text, &mut rng, name);
            }
        }
    }
    // Hand-picked texts: a magnetic-like linear term, time-dependent forces, dissipation.
    for (l, d) in [
        (
            "0.5*m*(x_dot^2 + y_dot^2 + z_dot^2) + k*(x*y_dot - y*x_dot) - cos(t)*z^2",
            None,
        ),
        (
            "0.5*(x_dot + y_dot)^2 + y_dot^2 + m*z_dot^2 + x_dot*sin(t*y) - exp(0.2*x)*y^2",
            Some("0.5*k*(x_dot^2 + z_dot^2)"),
        ),
        (
            "(x_dot - 2*z_dot)*(y_dot + m) + x_dot^2 + 4*y_dot^2 + 3*z_dot^2 + x*y*z",
            None,
        ),
    ] {
        check_equations_of_motion(&xyz(l, d), &mut rng, l);
    }
    // Random texts declared constant (those with a non-singular M).
    let mut checked = 0;
    while checked < 30 {
        let terms = 2 + rng.below(4);
        let mut l: Vec<String> = (0..terms).map(|_| random_term(&mut rng)).collect();
        l.push("m*(x_dot^2 + y_dot^2 + z_dot^2)".into());
        let l = l.join(" + ");
        let sys = xyz(&l, None);
        if !Lagrangian::structure(&sys).constant_mass_matrix {
            continue;
        }
        let (t, q, q_dot) = state(&mut rng, 3);
        if accelerations(&sys, t, &q, &q_dot).is_err() {
            continue; // singular M
        }
        check_equations_of_motion(&sys, &mut rng, &l);
        checked += 1;
    }
}

#[test]
fn with_parameters_forwards_the_declaration() {
    let constant = xyz("0.5*m*x_dot^2 + k*y_dot^2 + z_dot^2 - k*x*y", None);
    let varying = xyz("0.5*m*x^2*x_dot^2 + y_dot^2 + z_dot^2", None);
    let params = [2.0, 0.3];
    assert!(
        LagrangianOver::<f64>::structure(&constant.with_parameters(&params)).constant_mass_matrix
    );
    assert!(
        !LagrangianOver::<f64>::structure(&varying.with_parameters(&params)).constant_mass_matrix
    );
    // And the evaluator then agrees with the stateless path with the supplied parameters.
    let lifted = constant.with_parameters(&params);
    let mut eom = EquationsOfMotion::new(&lifted);
    let mut rng = Rng(7);
    let mut a = [0.0; 3];
    for _ in 0..10 {
        let (t, q, q_dot) = state(&mut rng, 3);
        eom.accelerations_into(t, &q, &q_dot, &mut a).unwrap();
        let b = accelerations(&lifted, t, &q, &q_dot).unwrap();
        for i in 0..3 {
            assert!((a[i] - b[i]).abs() <= 1e-12 * (1.0 + b[i].abs()));
        }
    }
}
