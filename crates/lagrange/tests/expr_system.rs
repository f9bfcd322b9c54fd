//! Text systems: equations of motion from a TOML file agree with hand-derived ones; dissipation;
//! parameters supplied from outside (learning); every validation error class.

use lagrange::expr::{SystemFileError, TextSystem};
use lagrange::num_dual::Dual64;
use lagrange::systems::{ParameterError, System};
use lagrange::{Lagrangian, accelerations, energy};

const DOUBLE_PENDULUM: &str = r#"
name = "Double pendulum"
coordinates = ["th1", "th2"]
lagrangian = """
    0.5*(m1 + m2)*l1^2*th1_dot^2 + 0.5*m2*l2^2*th2_dot^2
    + m2*l1*l2*th1_dot*th2_dot*cos(th1 - th2)
    + (m1 + m2)*g*l1*cos(th1) + m2*g*l2*cos(th2)
"""
[parameters]
m1 = 1.3
m2 = 0.7
l1 = 1.1
l2 = 0.9
g = 9.81
[initial]
th1 = 1.0
th2 = -0.5
"#;

/// Hand-derived double-pendulum EOM: M θ̈ = f with Δ = θ₁ − θ₂,
/// M = [[(m₁+m₂)l₁², m₂l₁l₂cosΔ], [m₂l₁l₂cosΔ, m₂l₂²]],
/// f₁ = −m₂l₁l₂θ̇₂² sinΔ − (m₁+m₂) g l₁ sinθ₁,  f₂ = m₂l₁l₂θ̇₁² sinΔ − m₂ g l₂ sinθ₂.
fn double_pendulum_eom(p: [f64; 5], th: [f64; 2], w: [f64; 2]) -> [f64; 2] {
    let [m1, m2, l1, l2, g] = p;
    let d = th[0] - th[1];
    let (a, b, c) = ((m1 + m2) * l1 * l1, m2 * l1 * l2 * d.cos(), m2 * l2 * l2);
    let f1 = -m2 * l1 * l2 * w[1] * w[1] * d.sin() - (m1 + m2) * g * l1 * th[0].sin();
    let f2 = m2 * l1 * l2 * w[0] * w[0] * d.sin() - m2 * g * l2 * th[1].sin();
    let det = a * c - b * b;
    [(c * f1 - b * f2) / det, (a * f2 - b * f1) / det]
}

#[test]
fn double_pendulum_matches_hand_derived_eom() {
    let sys = TextSystem::from_toml_str(DOUBLE_PENDULUM).unwrap();
    assert_eq!(sys.title(), "Double pendulum");
    assert_eq!(sys.coordinates(), ["th1", "th2"]);
    assert_eq!(sys.dof(), 2);
    let p = [1.3, 0.7, 1.1, 0.9, 9.81];
    assert_eq!(sys.parameter_values(), p);
    let (q0, w0) = sys.initial_state();
    assert_eq!((q0, w0), (vec![1.0, -0.5], vec![0.0, 0.0]));
    for (th, w) in [
        ([1.0, -0.5], [0.0, 0.0]),
        ([0.3, 2.9], [1.7, -2.2]),
        ([-2.0, 0.1], [-0.4, 3.0]),
    ] {
        let a = accelerations(&sys, 0.0_f64, &th, &w).unwrap();
        let expect = double_pendulum_eom(p, th, w);
        for i in 0..2 {
            // Both sides are a handful of flops on O(10) numbers; differences are rounding.
            assert!(
                (a[i] - expect[i]).abs() < 1e-12,
                "{th:?} {w:?}: {a:?} vs {expect:?}"
            );
        }
    }
    // A changed parameter takes effect.
    let mut sys = sys;
    sys.set_parameter("g", 1.62).unwrap();
    let a = accelerations(&sys, 0.0_f64, &[0.3, 2.9], &[1.7, -2.2]).unwrap();
    let expect = double_pendulum_eom([1.3, 0.7, 1.1, 0.9, 1.62], [0.3, 2.9], [1.7, -2.2]);
    assert!((a[0] - expect[0]).abs() < 1e-12 && (a[1] - expect[1]).abs() < 1e-12);
}

const DAMPED: &str = r#"
coordinates = ["x"]
lagrangian = "0.5*m*x_dot^2 - 0.5*k*x^2"
dissipation = "0.5*c*x_dot^2"
[parameters]
m = 2.0
k = 8.0
c = 0.6
[initial]
x = 1
"#;

#[test]
fn dissipation_gives_damped_oscillator() {
    let sys = TextSystem::from_toml_str(DAMPED).unwrap();
    assert_eq!(sys.title(), "custom system");
    assert!(sys.structure().dissipation);
    assert_eq!(sys.dissipation_text().as_deref(), Some("0.5*c*x_dot^2"));
    assert_eq!(sys.initial_state(), (vec![1.0], vec![0.0]));
    for (x, v) in [(1.0, 0.0), (0.3, -1.7), (-2.0, 4.0)] {
        let a = accelerations(&sys, 0.0_f64, &[x], &[v]).unwrap()[0];
        let expect = -(8.0 * x + 0.6 * v) / 2.0;
        assert!((a - expect).abs() < 1e-14, "{a} vs {expect}");
    }
    // Energy is from L only.
    let e = energy(&sys, 0.0_f64, &[0.5], &[1.0]).unwrap();
    assert!((e - (0.5 * 2.0 * 1.0 + 0.5 * 8.0 * 0.25)).abs() < 1e-14);
}

#[test]
fn parameters_from_outside_carry_gradients() {
    let sys = TextSystem::from_toml_str(DAMPED).unwrap();
    // f64 parameters through WithParameters equal the system's own evaluation.
    let p = [2.0, 8.0, 0.6];
    let a = accelerations(&sys.with_parameters(&p), 0.0_f64, &[0.3], &[-1.7]).unwrap();
    let b = accelerations(&sys, 0.0_f64, &[0.3], &[-1.7]).unwrap();
    assert!((a[0] - b[0]).abs() < 1e-15);
    // Dual parameters: q̈ = −(k q + c q̇)/m ⇒ ∂q̈/∂k = −q/m, ∂q̈/∂m = (k q + c q̇)/m².
    let (q, v) = (0.3, -1.7);
    let k = Dual64::from(8.0).derivative();
    let params = [Dual64::from(2.0), k, Dual64::from(0.6)];
    let a = accelerations(
        &sys.with_parameters(&params),
        Dual64::from(0.0),
        &[Dual64::from(q)],
        &[Dual64::from(v)],
    )
    .unwrap();
    assert!((a[0].re - (-(8.0 * q + 0.6 * v) / 2.0)).abs() < 1e-14);
    assert!((a[0].eps - (-q / 2.0)).abs() < 1e-14, "{}", a[0].eps);
    let params = [
        Dual64::from(2.0).derivative(),
        Dual64::from(8.0),
        Dual64::from(0.6),
    ];
    let a = accelerations(
        &sys.with_parameters(&params),
        Dual64::from(0.0),
        &[Dual64::from(q)],
        &[Dual64::from(v)],
    )
    .unwrap();
    assert!(
        (a[0].eps - (8.0 * q + 0.6 * v) / 4.0).abs() < 1e-14,
        "{}",
        a[0].eps
    );
}

#[test]
fn system_trait_parameters() {
    let mut sys = TextSystem::from_toml_str(DAMPED).unwrap();
    assert_eq!(
        sys.parameters(),
        [
            ("m".to_string(), 2.0),
            ("k".to_string(), 8.0),
            ("c".to_string(), 0.6)
        ]
    );
    sys.set_parameter("k", 2.0).unwrap();
    assert_eq!(sys.parameter_values(), [2.0, 2.0, 0.6]);
    let a = accelerations(&sys, 0.0_f64, &[1.0], &[0.0]).unwrap()[0];
    assert!((a + 1.0).abs() < 1e-15);
    assert!(
        matches!(sys.set_parameter("q", 1.0), Err(ParameterError::Unknown { ref name, .. }) if name == "q")
    );
    assert!(matches!(
        sys.set_parameter("m", f64::NAN),
        Err(ParameterError::Invalid { .. })
    ));
    assert_eq!(sys.lagrangian_text(), "0.5*m*x_dot^2 - 0.5*k*x^2");
}

#[test]
fn toml_round_trip() {
    let mut sys = TextSystem::from_toml_str(DOUBLE_PENDULUM).unwrap();
    sys.set_parameter("m2", 0.1 + 0.2).unwrap();
    let text = sys.to_toml_string();
    let back = TextSystem::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(back.parameters(), sys.parameters());
    assert_eq!(back.initial_state(), sys.initial_state());
    assert_eq!(back.title(), sys.title());
    assert_eq!(back.lagrangian_text(), sys.lagrangian_text());
    assert_eq!(back.to_toml_string(), text);
    let d = TextSystem::from_toml_str(DAMPED).unwrap();
    let back = TextSystem::from_toml_str(&d.to_toml_string()).unwrap();
    assert_eq!(back.dissipation_text(), d.dissipation_text());
}

#[test]
fn charged_particle_example_from_the_issue() {
    let sys = TextSystem::from_toml_str(
        r#"
name = "Charged particle in a uniform magnetic field"   # optional
coordinates = ["x", "y", "z"]
lagrangian = "0.5*m*(x_dot^2 + y_dot^2 + z_dot^2) + 0.5*qB*(x*y_dot - y*x_dot)"
[parameters]
m = 1.0
qB = 2.0
[initial]
x = 1.0
y_dot = 1.0
"#,
    )
    .unwrap();
    let (q, v) = sys.initial_state();
    let a = accelerations(&sys, 0.0_f64, &q, &v).unwrap();
    // m ẍ = qB ẏ, m ÿ = −qB ẋ, z̈ = 0.
    assert!(
        (a[0] - 2.0).abs() < 1e-14 && a[1].abs() < 1e-14 && a[2].abs() < 1e-14,
        "{a:?}"
    );
}

fn error(src: &str) -> SystemFileError {
    match TextSystem::from_toml_str(src) {
        Ok(_) => panic!("accepted:\n{src}"),
        Err(e) => {
            let text = e.to_string();
            assert!(!text.contains('\n'), "multi-line message: {text}");
            e
        }
    }
}

const L: &str = "lagrangian = \"0.5*x_dot^2\"\n";

#[test]
fn validation_errors() {
    use SystemFileError as E;
    let e = error("coordinates = [\"x\"\nlagrangian = \"x\"");
    assert!(matches!(e, E::Toml { line: 2, .. }), "{e}");
    let e = error("coordinates = [\"x\"]\nlagrangian = \"x\"\nlagrangian = \"y\"");
    assert!(matches!(e, E::Toml { line: 3, .. }), "{e}");

    assert_eq!(error(L), E::MissingKey { key: "coordinates" });
    assert_eq!(
        error("coordinates = [\"x\"]"),
        E::MissingKey { key: "lagrangian" }
    );
    assert_eq!(error(&format!("coordinates = []\n{L}")), E::NoCoordinates);
    assert_eq!(
        error(&format!("coordinates = [\"x\", \"x\"]\n{L}")),
        E::DuplicateCoordinate { name: "x".into() }
    );
    let e = error(&format!("coordinates = \"x\"\n{L}"));
    assert!(
        matches!(e, E::WrongType { ref key, found: "a string", .. } if key == "coordinates"),
        "{e}"
    );
    let e = error(&format!("coordinates = [\"x\", 3]\n{L}"));
    assert!(
        matches!(e, E::WrongType { ref key, .. } if key == "coordinates[1]"),
        "{e}"
    );
    let e = error("coordinates = [\"x\"]\nlagrangian = 3");
    assert!(
        matches!(e, E::WrongType { ref key, found: "an integer", .. } if key == "lagrangian"),
        "{e}"
    );
    let e = error(&format!("name = 1\ncoordinates = [\"x\"]\n{L}"));
    assert!(
        matches!(e, E::WrongType { ref key, .. } if key == "name"),
        "{e}"
    );
    let e = error(&format!("coordinates = [\"x\"]\n{L}parameters = 3"));
    assert!(
        matches!(e, E::WrongType { ref key, found: "an integer", .. } if key == "parameters"),
        "{e}"
    );
    let e = error(&format!(
        "coordinates = [\"x\"]\n{L}[parameters]\nm = \"heavy\""
    ));
    assert!(
        matches!(e, E::WrongType { ref key, found: "a string", .. } if key == "parameters.m"),
        "{e}"
    );
    let e = error(&format!("coordinates = [\"x\"]\n{L}[initial]\nx = true"));
    assert!(
        matches!(e, E::WrongType { ref key, found: "a boolean", .. } if key == "initial.x"),
        "{e}"
    );

    for bad in ["", "1x", "x y", "θ", "x-1"] {
        let e = error(&format!("coordinates = [\"{bad}\"]\n{L}"));
        assert_eq!(
            e,
            E::InvalidIdentifier {
                what: "coordinate",
                name: bad.into()
            }
        );
    }
    let e = error(&format!(
        "coordinates = [\"x\"]\n{L}[parameters]\n\"m m\" = 1"
    ));
    assert_eq!(
        e,
        E::InvalidIdentifier {
            what: "parameter",
            name: "m m".into()
        }
    );
    for reserved in ["t", "pi", "x_dot"] {
        let e = error(&format!("coordinates = [\"{reserved}\"]\n{L}"));
        assert!(
            matches!(e, E::ReservedCoordinate { ref name, .. } if name == reserved),
            "{e}"
        );
    }
    for (p, what) in [
        ("x", "the coordinate `x`"),
        ("x_dot", "the velocity of coordinate `x`"),
        ("t", "time `t`"),
        ("pi", "the constant `pi`"),
    ] {
        let e = error(&format!(
            "coordinates = [\"x\"]\n{L}[parameters]\n{p} = 1.0"
        ));
        assert_eq!(
            e,
            E::ParameterShadows {
                name: p.into(),
                shadows: what.into()
            }
        );
        assert!(e.to_string().contains(what), "{e}");
    }

    let e = error("coordinates = [\"x\"]\nlagrangian = \"0.5*m*x_dot^2\"");
    assert_eq!(
        e,
        E::UnknownIdentifier {
            field: "lagrangian",
            name: "m".into(),
            column: 5
        }
    );
    assert!(e.to_string().contains("unknown identifier `m`"), "{e}");
    let e = error("coordinates = [\"x\"]\nlagrangian = \"0.5*x_dot^2 + w_dot\"");
    assert_eq!(
        e,
        E::UnknownVelocity {
            field: "lagrangian",
            coordinate: "w".into(),
            column: 15
        }
    );
    assert!(
        e.to_string()
            .contains("unknown velocity `w_dot`: `w` is not a coordinate"),
        "{e}"
    );
    let e = error(&format!(
        "coordinates = [\"x\"]\n{L}dissipation = \"c*x_dot^2\""
    ));
    assert_eq!(
        e,
        E::UnknownIdentifier {
            field: "dissipation",
            name: "c".into(),
            column: 1
        }
    );
    let e = error("coordinates = [\"x\"]\nlagrangian = \"0.5*x_dot^^2\"");
    assert!(
        matches!(
            e,
            E::Expression {
                field: "lagrangian",
                column: 11,
                ..
            }
        ),
        "{e}"
    );
    let e = error("coordinates = [\"x\"]\nlagrangian = \"\"");
    assert!(
        matches!(
            e,
            E::Expression {
                field: "lagrangian",
                column: 1,
                ..
            }
        ),
        "{e}"
    );

    let e = error(&format!("coordinates = [\"x\"]\n{L}[initial]\ny = 1.0"));
    assert!(
        matches!(e, E::UnknownInitial { ref name, .. } if name == "y"),
        "{e}"
    );
    let e = error(&format!("coordinates = [\"x\"]\n{L}[initial]\nw_dot = 1.0"));
    assert!(
        matches!(e, E::UnknownInitial { ref name, .. } if name == "w_dot"),
        "{e}"
    );

    for v in ["nan", "inf", "-inf"] {
        let e = error(&format!("coordinates = [\"x\"]\n{L}[parameters]\nm = {v}"));
        assert!(
            matches!(e, E::NonFinite { section: "parameters", ref name, .. } if name == "m"),
            "{e}"
        );
        let e = error(&format!("coordinates = [\"x\"]\n{L}[initial]\nx_dot = {v}"));
        assert!(
            matches!(e, E::NonFinite { section: "initial", ref name, .. } if name == "x_dot"),
            "{e}"
        );
    }

    let e = error(&format!("coordinates = [\"x\"]\n{L}potential = \"x^2\""));
    assert_eq!(
        e,
        E::UnknownKey {
            key: "potential".into()
        }
    );
    assert!(e.to_string().contains("`potential`"));
}

#[test]
fn from_path_names_the_file() {
    let dir = std::env::temp_dir().join(format!("lagrange-expr-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("damped.toml");
    std::fs::write(&good, DAMPED).unwrap();
    let sys = TextSystem::from_path(&good).unwrap();
    assert_eq!(sys.parameter_values(), [2.0, 8.0, 0.6]);

    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "coordinates = [\"x\"]\nlagrangian = \"0.5*x_dot^2 - k*x^2\"",
    )
    .unwrap();
    let e = TextSystem::from_path(&bad).unwrap_err();
    assert!(e.to_string().contains("bad.toml"), "{e}");
    assert!(e.to_string().contains("unknown identifier `k`"), "{e}");
    assert!(matches!(
        e.kind(),
        SystemFileError::UnknownIdentifier { .. }
    ));

    let missing = dir.join("missing.toml");
    let e = TextSystem::from_path(&missing).unwrap_err();
    assert!(matches!(e, SystemFileError::Io { .. }), "{e}");
    assert!(e.to_string().contains("missing.toml"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_overflowing_number_names_its_key() {
    let toml = "coordinates = [\"x\"]\nlagrangian = \"0.5*x_dot^2\"\n[initial]\nx_dot = 1e999\n";
    let e = TextSystem::from_toml_str(toml).unwrap_err().to_string();
    assert!(e.contains("line 4"), "{e}");
    assert!(e.contains("the value of `initial.x_dot`"), "{e}");
    let toml = "coordinates = [\"x\"]\nlagrangian = \"0.5*x_dot^2\"\n[parameters]\nk = 1e999\n";
    let e = TextSystem::from_toml_str(toml).unwrap_err().to_string();
    assert!(e.contains("the value of `parameters.k`"), "{e}");
}
