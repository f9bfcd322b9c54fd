//! The benchmark systems and the methods evaluated on each.

use crate::finite_difference::accelerations_fd;
use lagrange::expr::TextSystem;
use lagrange::systems::{
    Chain, Cyclotron, DoublePendulum, HarmonicOscillator, Kepler, NBody, System,
};
use lagrange::{EomPath, Lagrangian, MechanicsError, accelerations_with, jacobi_integral};
use std::sync::Arc;

/// An EOM implementation: writes q̈ for `(t, q, q̇)` into the last argument.
pub type EomFn =
    Arc<dyn Fn(f64, &[f64], &[f64], &mut [f64]) -> Result<(), MechanicsError> + Send + Sync>;
/// The energy (Jacobi integral) of the system, for the drift column.
pub type EnergyFn = Arc<dyn Fn(&[f64], &[f64]) -> f64 + Send + Sync>;

/// One way of computing q̈.
#[derive(Clone)]
pub struct Method {
    /// `autodiff`, `autodiff-dense`, `hand`, `finite-diff`, ...
    pub name: &'static str,
    /// The implementation.
    pub eom: EomFn,
}

/// A benchmark system with its states, methods and reference accelerations.
#[derive(Clone)]
pub struct Case {
    /// System label (`dpend`, `chain64`, ...).
    pub system: String,
    /// Degrees of freedom.
    pub n: usize,
    /// States `(q, q̇)` every method is evaluated on.
    pub states: Vec<(Vec<f64>, Vec<f64>)>,
    /// Reference q̈ per state.
    pub reference: Vec<Vec<f64>>,
    /// Where the reference comes from.
    pub reference_kind: &'static str,
    /// The methods compared.
    pub methods: Vec<Method>,
    /// Energy function (autodiff Jacobi integral of the Rust system).
    pub energy: EnergyFn,
}

/// Deterministic states, identical to `states()` in `tools/reference_qddot.py`.
pub fn reference_states(n: usize, count: usize) -> Vec<(Vec<f64>, Vec<f64>)> {
    (0..count)
        .map(|i| {
            let i = i as f64;
            let q = (0..n)
                .map(|j| 0.9 * (1.3 * i + 0.7 * j as f64 + 0.1).sin())
                .collect();
            let v = (0..n)
                .map(|j| 0.8 * (0.9 * i + 1.1 * j as f64).cos())
                .collect();
            (q, v)
        })
        .collect()
}

fn shifted(states: &[(Vec<f64>, Vec<f64>)], shift: &[f64]) -> Vec<(Vec<f64>, Vec<f64>)> {
    states
        .iter()
        .map(|(q, v)| (q.iter().zip(shift).map(|(a, b)| a + b).collect(), v.clone()))
        .collect()
}

fn sympy_reference(system: &str) -> Vec<Vec<f64>> {
    let json: serde_json::Value =
        serde_json::from_str(include_str!("../../../bench/reference/qddot.json"))
            .expect("reference JSON is valid");
    json[system]["states"]
        .as_array()
        .expect("system present in reference JSON")
        .iter()
        .map(|s| {
            s["q_ddot"]
                .as_array()
                .expect("q_ddot array")
                .iter()
                .map(|x| x.as_str().expect("string").parse::<f64>().expect("number"))
                .collect()
        })
        .collect()
}

/// The same system as a text Lagrangian (its `lagrangian_text` with its parameters), loaded
/// through the TOML system-file path a CLI user takes.
pub fn text_twin<L: System>(system: &L) -> TextSystem {
    let coords: Vec<String> = system
        .coordinates()
        .iter()
        .map(|c| format!("{c:?}"))
        .collect();
    let used = system.lagrangian_text();
    let mut toml = format!(
        "coordinates = [{}]\nlagrangian = {:?}\n[parameters]\n",
        coords.join(", "),
        used
    );
    // a text system declares exactly the parameters its expression uses (`n` of a chain does not
    // appear in L, for example)
    let identifiers: std::collections::HashSet<&str> = used
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .collect();
    for (name, value) in system.parameters() {
        if identifiers.contains(name.as_str()) {
            toml += &format!("{name} = {value:?}\n");
        }
    }
    TextSystem::from_toml_str(&toml)
        .unwrap_or_else(|e| panic!("text twin of {}: {e}\n{toml}", system.title()))
}

fn methods<L>(
    system: Arc<L>,
    hand: fn(&L, f64, &[f64], &[f64]) -> Vec<f64>,
    structured: bool,
    fd: bool,
) -> Vec<Method>
where
    L: Lagrangian + System + Send + Sync + 'static,
{
    let mut out = Vec::new();
    let s = system.clone();
    out.push(Method {
        name: "autodiff",
        eom: Arc::new(move |t, q, v, a| accelerations_with(EomPath::Auto, &*s, t, q, v, a)),
    });
    if structured {
        let s = system.clone();
        out.push(Method {
            name: "autodiff-dense",
            eom: Arc::new(move |t, q, v, a| accelerations_with(EomPath::Dense, &*s, t, q, v, a)),
        });
    }
    let s = system.clone();
    out.push(Method {
        name: "hand",
        eom: Arc::new(move |t, q, v, a| {
            a.copy_from_slice(&hand(&s, t, q, v));
            Ok(())
        }),
    });
    // text Lagrangians are not yet split into local terms, so at n > 8 they take the dense path
    if fd && system.dof() <= lagrange::mechanics::eom::MAX_SINGLE_PASS {
        let text = Arc::new(text_twin(&*system));
        out.push(Method {
            name: "text",
            eom: Arc::new(move |t, q, v, a| accelerations_with(EomPath::Auto, &*text, t, q, v, a)),
        });
    }
    if fd {
        let s = system.clone();
        out.push(Method {
            name: "finite-diff",
            eom: Arc::new(move |t, q, v, a| {
                a.copy_from_slice(&accelerations_fd(&*s, t, q, v)?);
                Ok(())
            }),
        });
    }
    out
}

fn case<L>(
    label: &str,
    system: L,
    states: Vec<(Vec<f64>, Vec<f64>)>,
    reference: Option<Vec<Vec<f64>>>,
    hand: fn(&L, f64, &[f64], &[f64]) -> Vec<f64>,
    dense_and_fd: bool,
) -> Case
where
    L: Lagrangian + System + Send + Sync + 'static,
{
    let system = Arc::new(system);
    let n = system.dof();
    let structured =
        system.num_terms() > 0 && n > lagrange::mechanics::eom::MAX_SINGLE_PASS && dense_and_fd;
    let (reference, reference_kind) = match reference {
        Some(r) => (r, "SymPy 40 digits"),
        None => (
            states
                .iter()
                .map(|(q, v)| hand(&system, 0.0, q, v))
                .collect(),
            "hand-derived",
        ),
    };
    let e = system.clone();
    Case {
        system: label.to_string(),
        n,
        methods: methods(system, hand, structured, dense_and_fd),
        states,
        reference,
        reference_kind,
        energy: Arc::new(move |q, v| jacobi_integral(&*e, 0.0, q, v).unwrap_or(f64::NAN)),
    }
}

/// All benchmark cases: oscillator, double pendulum, cyclotron, Kepler, chains and N bodies.
///
/// `quick` keeps the sizes small (for tests and smoke runs).
pub fn all_cases(quick: bool) -> Vec<Case> {
    let count = 16;
    let mut cases = vec![
        case(
            "ho1",
            HarmonicOscillator::new(vec![1.0], vec![1.0]),
            reference_states(1, count),
            Some(sympy_reference("ho1")),
            HarmonicOscillator::hand_accelerations,
            true,
        ),
        case(
            "dpend",
            DoublePendulum {
                m1: 1.0,
                m2: 1.0,
                l1: 1.0,
                l2: 1.0,
                g: 9.81,
            },
            reference_states(2, count),
            Some(sympy_reference("dpend")),
            DoublePendulum::hand_accelerations,
            true,
        ),
        case(
            "cyclotron",
            Cyclotron {
                m: 1.0,
                q: 1.0,
                b: 2.0,
            },
            reference_states(3, count),
            Some(sympy_reference("cyclotron")),
            Cyclotron::hand_accelerations,
            true,
        ),
        case(
            "kepler",
            Kepler { m: 1.0, mu: 1.0 },
            shifted(&reference_states(2, count), &[1.5, 0.0]),
            Some(sympy_reference("kepler")),
            Kepler::hand_accelerations,
            true,
        ),
    ];
    let chains: &[usize] = if quick {
        &[4, 16]
    } else {
        &[4, 16, 64, 256, 1024]
    };
    for &n in chains {
        cases.push(case(
            &format!("chain{n}"),
            Chain { n, m: 1.0, k: 1.0 },
            reference_states(n, count),
            None,
            Chain::hand_accelerations,
            n <= 64,
        ));
    }
    let bodies: &[usize] = if quick { &[3] } else { &[8, 64] };
    for &b in bodies {
        let nbody = NBody {
            masses: vec![1.0; b],
            g: 1.0,
            eps: 0.01,
        };
        // the built-in ring (circular velocities) with small perturbations of positions and
        // velocities: bound motion, so the RK4 energy column measures the method, not a collision
        let (q0, v0) = lagrange::systems::System::initial_state(&nbody);
        let states = reference_states(2 * b, count)
            .into_iter()
            .map(|(dq, dv)| {
                let q = q0.iter().zip(&dq).map(|(a, d)| a + 0.02 * d).collect();
                let v = v0.iter().zip(&dv).map(|(a, d)| a + 0.02 * d).collect();
                (q, v)
            })
            .collect();
        cases.push(case(
            &format!("nbody{b}"),
            nbody,
            states,
            None,
            NBody::hand_accelerations,
            b <= 8,
        ));
    }
    cases
}
