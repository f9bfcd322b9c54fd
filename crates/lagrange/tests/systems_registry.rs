//! The registry: every name resolves, metadata is consistent, parameters validate, and the
//! Lagrangian text uses only the identifiers the text language allows.

use lagrange::systems::*;
use lagrange::{Lagrangian, accelerations};

#[test]
fn every_name_resolves_and_is_consistent() {
    assert_eq!(names().len(), 11);
    for &name in names() {
        let s = by_name(name).unwrap_or_else(|| panic!("{name} does not resolve"));
        assert_eq!(s.name(), name);
        assert!(!s.title().is_empty());
        let n = s.dof();
        assert_eq!(s.coordinates().len(), n, "{name}: coordinates");
        let (q, qd) = s.initial_state();
        assert_eq!((q.len(), qd.len()), (n, n), "{name}: initial state");
        // non-trivial: something moves from the default state
        let a = accelerations(&s, 0.0, &q, &qd).unwrap();
        assert!(
            a.iter().chain(&qd).any(|x| x.abs() > 1e-6),
            "{name}: default state at rest"
        );
        // unique coordinate and parameter names
        let mut coords = s.coordinates();
        coords.sort();
        coords.dedup();
        assert_eq!(coords.len(), n, "{name}: duplicate coordinates");
        let mut params: Vec<String> = s.parameters().into_iter().map(|(p, _)| p).collect();
        let count = params.len();
        params.sort();
        params.dedup();
        assert_eq!(params.len(), count, "{name}: duplicate parameters");
    }
    assert!(by_name("no-such-system").is_none());
}

#[test]
fn exact_solutions_where_promised() {
    for &name in names() {
        let s = by_name(name).unwrap();
        let (q, qd) = s.initial_state();
        let has = s.exact_solution(1.0, &q, &qd).is_some();
        let expected = !matches!(name, "double-pendulum" | "spring-pendulum" | "n-body");
        assert_eq!(has, expected, "{name}");
    }
}

#[test]
fn set_parameter_validates() {
    for &name in names() {
        let mut s = by_name(name).unwrap();
        assert!(
            matches!(
                s.set_parameter("no_such_parameter", 1.0),
                Err(ParameterError::Unknown { .. })
            ),
            "{name}"
        );
        for (p, value) in s.parameters() {
            for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                assert!(
                    matches!(
                        s.set_parameter(&p, bad),
                        Err(ParameterError::Invalid { .. })
                    ),
                    "{name}.{p} = {bad}"
                );
            }
            // setting the current value back is accepted and changes nothing
            s.set_parameter(&p, value).unwrap();
            assert_eq!(s, by_name(name).unwrap(), "{name}.{p}");
        }
        // every parameter can be changed and the change is reported back (counts excepted)
        for (p, value) in s.parameters() {
            if p == "n" {
                continue;
            }
            let new = value * 1.5 + 0.25;
            s.set_parameter(&p, new).unwrap();
            let got = s.parameters().into_iter().find(|(k, _)| *k == p).unwrap().1;
            assert_eq!(got, new, "{name}.{p}");
        }
    }
}

#[test]
fn ranges_and_sizes() {
    let mut chain = by_name("chain").unwrap();
    for bad in [0.0, -3.0, 2.5, 1e9] {
        assert!(matches!(
            chain.set_parameter("n", bad),
            Err(ParameterError::Invalid { .. })
        ));
    }
    chain.set_parameter("n", 32.0).unwrap();
    assert_eq!(chain.dof(), 32);
    assert_eq!(chain.coordinates()[31], "x32");
    assert!(chain.set_parameter("m", 0.0).is_err());
    assert!(chain.set_parameter("m", -1.0).is_err());
    assert!(chain.set_parameter("k", -1.0).is_ok()); // an unstable chain is still a chain

    let mut nb = by_name("n-body").unwrap();
    assert_eq!(nb.dof(), 16);
    nb.set_parameter("n", 3.0).unwrap();
    assert_eq!(nb.coordinates(), ["x1", "y1", "x2", "y2", "x3", "y3"]);
    nb.set_parameter("m3", 2.5).unwrap();
    assert!(matches!(
        nb.set_parameter("m4", 1.0),
        Err(ParameterError::Unknown { .. })
    ));
    assert!(matches!(
        nb.set_parameter("m0", 1.0),
        Err(ParameterError::Unknown { .. })
    ));
    assert!(nb.set_parameter("eps", -0.1).is_err());

    let mut osc = by_name("harmonic-oscillator").unwrap();
    assert_eq!(osc.coordinates(), ["x", "y"]);
    osc.set_parameter("n", 3.0).unwrap();
    osc.set_parameter("k_z", 9.0).unwrap();
    assert_eq!(osc.coordinates(), ["x", "y", "z"]);
    osc.set_parameter("n", 5.0).unwrap();
    assert_eq!(osc.coordinates()[4], "x5");
    osc.set_parameter("m_x5", 2.0).unwrap();
    assert!(osc.set_parameter("m_x", 2.0).is_err()); // renamed to x1 beyond 3-D
}

/// Built-in function names of the text language.
const FUNCTIONS: &[&str] = &[
    "sin", "cos", "tan", "exp", "log", "sqrt", "abs", "atan2", "sinh", "cosh", "tanh", "asin",
    "acos", "atan",
];

/// Every identifier in the Lagrangian / dissipation text is a coordinate, a velocity
/// `<coord>_dot`, `t`, a parameter, `pi`, or a function; and every coordinate appears.
#[test]
fn text_uses_only_known_identifiers() {
    for &name in names() {
        let mut s = by_name(name).unwrap();
        if name == "n-body" {
            s.set_parameter("n", 3.0).unwrap(); // keep the pair list short
        }
        let coords = s.coordinates();
        let params: Vec<String> = s.parameters().into_iter().map(|(p, _)| p).collect();
        let mut texts = vec![s.lagrangian_text()];
        texts.extend(s.dissipation_text());
        assert_eq!(
            texts.len() == 2,
            s.structure().dissipation,
            "{name}: dissipation text"
        );
        let mut seen = std::collections::HashSet::new();
        for text in &texts {
            assert!(
                text.chars()
                    .all(|c| c.is_ascii_alphanumeric() || " _.+-*/^(),".contains(c)),
                "{name}: unexpected character in {text}"
            );
            let mut depth = 0i32;
            for c in text.chars() {
                depth += (c == '(') as i32 - (c == ')') as i32;
                assert!(depth >= 0, "{name}: unbalanced parentheses");
            }
            assert_eq!(depth, 0, "{name}: unbalanced parentheses");
            for ident in text
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .filter(|w| w.starts_with(|c: char| c.is_ascii_alphabetic()))
            {
                let base = ident.strip_suffix("_dot").unwrap_or(ident);
                let known = coords.iter().any(|c| c == base)
                    || (ident == base
                        && (ident == "t"
                            || ident == "pi"
                            || params.iter().any(|p| p == ident)
                            || FUNCTIONS.contains(&ident)));
                assert!(known, "{name}: unknown identifier `{ident}` in {text}");
                seen.insert(base.to_string());
            }
        }
        for c in &coords {
            assert!(
                seen.contains(c),
                "{name}: coordinate {c} missing from the text"
            );
        }
    }
}

#[test]
fn oscillator_accepts_isotropic_m_and_k() {
    use lagrange::systems::System;
    let mut s = lagrange::systems::by_name("harmonic-oscillator").unwrap();
    s.set_parameter("k", 2.0).unwrap();
    s.set_parameter("m", 0.5).unwrap();
    // every axis now has k/m = 4: q̈ = −4 q on each (closed form of the isotropic oscillator)
    let a = lagrange::accelerations(&s, 0.0_f64, &[1.0, -0.5], &[0.0, 0.0]).unwrap();
    assert!(
        (a[0] + 4.0).abs() < 1e-14 && (a[1] - 2.0).abs() < 1e-14,
        "{a:?}"
    );
    assert!(s.set_parameter("m", 0.0).is_err());
}
