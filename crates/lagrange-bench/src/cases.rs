//! The benchmark systems and the methods evaluated on each.

use crate::finite_difference::accelerations_fd;
use lagrange::expr::TextSystem;
use lagrange::mechanics::EquationsOfMotion;
use lagrange::systems::{
    Chain, Cyclotron, DoublePendulum, HarmonicOscillator, Kepler, NBody, System,
};
use lagrange::{
    EomPath, Lagrangian, MechanicsError, accelerations_into, accelerations_with, jacobi_integral,
};
use lagrange_jit::CompiledEquations;
use std::sync::Arc;

/// An EOM evaluator: writes q̈ for `(t, q, q̇)` into the last argument; it may keep state
/// between calls (an [`EquationsOfMotion`]), so each thread and each measurement makes its own.
pub type Eom<'a> =
    Box<dyn FnMut(f64, &[f64], &[f64], &mut [f64]) -> Result<(), MechanicsError> + 'a>;

/// Makes [`Eom`] evaluators; shared by the threads, called outside the timed loops (what a
/// simulation does once before stepping).
pub trait MakeEom: Send + Sync {
    /// A fresh evaluator.
    fn make(&self) -> Eom<'_>;
}

/// A stateless EOM function as a [`MakeEom`].
struct Stateless<F>(F);

impl<F> MakeEom for Stateless<F>
where
    F: Fn(f64, &[f64], &[f64], &mut [f64]) -> Result<(), MechanicsError> + Send + Sync,
{
    fn make(&self) -> Eom<'_> {
        Box::new(|t, q, v, a| (self.0)(t, q, v, a))
    }
}

/// One [`EquationsOfMotion`] (automatic path) per evaluator: the integrators' evaluator, which
/// keeps the inverse of a declared-constant mass matrix and, for structured Lagrangians, the term
/// structure and banded LU between calls.
struct Evaluator<L>(Arc<L>);

impl<L: Lagrangian + Send + Sync> MakeEom for Evaluator<L> {
    fn make(&self) -> Eom<'_> {
        let mut eom = EquationsOfMotion::new(&*self.0);
        Box::new(move |t, q, v, a| eom.accelerations_into(t, q, v, a))
    }
}

/// The equations of motion compiled once (traced, differentiated symbolically, compiled with
/// Cranelift); each evaluator is a clone with its own scratch buffers.
struct Compiled(CompiledEquations);

impl MakeEom for Compiled {
    fn make(&self) -> Eom<'_> {
        let mut eom = self.0.clone();
        Box::new(move |t, q, v, a| eom.accelerations_into(t, q, v, a))
    }
}

/// `name` compiled from `lagrangian`, when it can be traced (every built-in can).
fn compiled<L: Lagrangian + ?Sized>(name: &'static str, lagrangian: &L) -> Option<Method> {
    match CompiledEquations::new(lagrangian) {
        Ok(eom) => Some(Method {
            name,
            eom: Arc::new(Compiled(eom)),
        }),
        Err(e) => {
            eprintln!("warning: {name} skipped: {e}");
            None
        }
    }
}

/// The hand-derived EOM, written into a slice (no allocation).
pub type HandFn<L> = fn(&L, f64, &[f64], &[f64], &mut [f64]);
/// The energy (Jacobi integral) of the system, for the drift column.
pub type EnergyFn = Arc<dyn Fn(&[f64], &[f64]) -> f64 + Send + Sync>;

/// One way of computing q̈.
#[derive(Clone)]
pub struct Method {
    /// `autodiff`, `compiled`, `autodiff-stateless`, `autodiff-dense`, `hand`, `text`,
    /// `text-compiled`, `finite-diff`
    pub name: &'static str,
    /// Makes the implementation's evaluators.
    pub eom: Arc<dyn MakeEom>,
}

impl Method {
    fn stateless<F>(name: &'static str, f: F) -> Self
    where
        F: Fn(f64, &[f64], &[f64], &mut [f64]) -> Result<(), MechanicsError>
            + Send
            + Sync
            + 'static,
    {
        Self {
            name,
            eom: Arc::new(Stateless(f)),
        }
    }

    /// A fresh evaluator of this method (make it outside any timed loop).
    pub fn evaluator(&self) -> Eom<'_> {
        self.eom.make()
    }
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
    /// The system's parameters (name, value), as `System::parameters` lists them; written to the
    /// peers' state file so the Python systems use the same values (e.g. N-body masses).
    pub params: Vec<(String, f64)>,
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

/// The states `tools/reference_qddot.py` evaluated `system` at, as it wrote them.
pub fn sympy_reference_states(system: &str) -> Vec<(Vec<f64>, Vec<f64>)> {
    let numbers = |v: &serde_json::Value| -> Vec<f64> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|x| x.as_f64().expect("number"))
            .collect()
    };
    reference_json()[system]["states"]
        .as_array()
        .expect("system present in reference JSON")
        .iter()
        .map(|s| (numbers(&s["q"]), numbers(&s["q_dot"])))
        .collect()
}

fn reference_json() -> serde_json::Value {
    serde_json::from_str(include_str!("../../../bench/reference/qddot.json"))
        .expect("reference JSON is valid")
}

fn sympy_reference(system: &str) -> Vec<Vec<f64>> {
    reference_json()[system]["states"]
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

fn methods<L>(system: Arc<L>, hand: HandFn<L>, structured: bool, fd: bool) -> Vec<Method>
where
    L: Lagrangian + System + Send + Sync + 'static,
{
    let mut out = vec![Method {
        name: "autodiff",
        eom: Arc::new(Evaluator(system.clone())),
    }];
    out.extend(compiled("compiled", &*system));
    let s = system.clone();
    out.push(Method::stateless(
        "autodiff-stateless",
        move |t, q, v, a| accelerations_into(&*s, t, q, v, a),
    ));
    if structured {
        let s = system.clone();
        out.push(Method::stateless("autodiff-dense", move |t, q, v, a| {
            accelerations_with(EomPath::Dense, &*s, t, q, v, a)
        }));
    }
    let s = system.clone();
    out.push(Method::stateless("hand", move |t, q, v, a| {
        hand(&s, t, q, v, a);
        Ok(())
    }));
    // The text twin: always for n ≤ 8 (one stack pass); beyond, only when the text system
    // declares local terms (`structure().local_terms > 0`), as a text Lagrangian without them would take the
    // O(n³) dense path (minutes per trajectory at n = 64).
    let small = system.dof() <= lagrange::mechanics::eom::MAX_SINGLE_PASS;
    if fd || !small {
        let text = text_twin(&*system);
        out.extend(compiled("text-compiled", &text));
        if small || text.structure().local_terms > 0 {
            out.push(Method {
                name: "text",
                eom: Arc::new(Evaluator(Arc::new(text))),
            });
        }
    }
    if fd {
        let s = system.clone();
        out.push(Method::stateless("finite-diff", move |t, q, v, a| {
            a.copy_from_slice(&accelerations_fd(&*s, t, q, v)?);
            Ok(())
        }));
    }
    out
}

fn case<L>(
    label: &str,
    system: L,
    states: Vec<(Vec<f64>, Vec<f64>)>,
    reference: Option<Vec<Vec<f64>>>,
    hand: HandFn<L>,
    dense_and_fd: bool,
) -> Case
where
    L: Lagrangian + System + Send + Sync + 'static,
{
    let system = Arc::new(system);
    let n = system.dof();
    let structured = system.structure().local_terms > 0
        && n > lagrange::mechanics::eom::MAX_SINGLE_PASS
        && dense_and_fd;
    let (reference, reference_kind) = match reference {
        Some(r) => (r, "SymPy 40 digits"),
        None => (
            states
                .iter()
                .map(|(q, v)| {
                    let mut a = vec![0.0; n];
                    hand(&system, 0.0, q, v, &mut a);
                    a
                })
                .collect(),
            "hand-derived",
        ),
    };
    let e = system.clone();
    Case {
        system: label.to_string(),
        params: system.parameters(),
        n,
        methods: methods(system, hand, structured, dense_and_fd),
        states,
        reference,
        reference_kind,
        energy: Arc::new(move |q, v| jacobi_integral(&*e, 0.0, q, v).unwrap_or(f64::NAN)),
    }
}

/// Mass of the central body of the N-body benchmark.
pub const NBODY_CENTRAL_MASS: f64 = 1.0;
/// Mass of each orbiting body of the N-body benchmark.
pub const NBODY_PLANET_MASS: f64 = 1e-3;
/// Plummer softening of the N-body benchmark.
pub const NBODY_EPS: f64 = 0.01;

/// The N-body benchmark system: a central body (mass 1) and `b − 1` light bodies (mass 10⁻³),
/// G = 1, ε = 0.01.
pub fn nbody_system(b: usize) -> NBody {
    let mut masses = vec![NBODY_PLANET_MASS; b];
    masses[0] = NBODY_CENTRAL_MASS;
    NBody {
        masses,
        g: 1.0,
        eps: NBODY_EPS,
    }
}

/// The N-body base state: body 1 at the origin, body k = 2..b on a circular orbit of radius
/// 1 + 3 (k − 2)/(b − 2) (radii 1..4, ≥ 3/62 apart at b = 64, far above ε), at the golden angle
/// (k − 1)·2.39996… (neighbours in radius are far apart in angle), with the circular speed of the
/// mass inside its orbit; the central body gets the opposite total momentum. A planetary system
/// stays bounded and collision-free over the benchmark's RK4 run (t ≤ 10, below a third of the
/// inner orbital period's synodic time), so the energy column measures the integrator and EOM.
pub fn nbody_base_state(b: usize) -> (Vec<f64>, Vec<f64>) {
    let golden = std::f64::consts::PI * (3.0 - 5.0_f64.sqrt());
    let (mut q, mut v) = (vec![0.0; 2 * b], vec![0.0; 2 * b]);
    let mut enclosed = NBODY_CENTRAL_MASS;
    let (mut px, mut py) = (0.0, 0.0);
    for k in 1..b {
        let r = if b > 2 {
            1.0 + 3.0 * (k - 1) as f64 / (b - 2) as f64
        } else {
            1.0
        };
        let (s, c) = (k as f64 * golden).sin_cos();
        let speed = (enclosed / r).sqrt();
        q[2 * k] = r * c;
        q[2 * k + 1] = r * s;
        v[2 * k] = -speed * s;
        v[2 * k + 1] = speed * c;
        px += NBODY_PLANET_MASS * v[2 * k];
        py += NBODY_PLANET_MASS * v[2 * k + 1];
        enclosed += NBODY_PLANET_MASS;
    }
    v[0] = -px / NBODY_CENTRAL_MASS;
    v[1] = -py / NBODY_CENTRAL_MASS;
    (q, v)
}

/// `count` N-body states: the base state with deterministic perturbations of ±0.01 in every
/// position and velocity component (`reference_states` scaled); state 0 starts the RK4 run.
pub fn nbody_states(b: usize, count: usize) -> Vec<(Vec<f64>, Vec<f64>)> {
    let (q0, v0) = nbody_base_state(b);
    reference_states(2 * b, count)
        .into_iter()
        .map(|(dq, dv)| {
            let q = q0.iter().zip(&dq).map(|(a, d)| a + 0.01 * d).collect();
            let v = v0.iter().zip(&dv).map(|(a, d)| a + 0.01 * d).collect();
            (q, v)
        })
        .collect()
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
            HarmonicOscillator::hand_accelerations_into,
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
            DoublePendulum::hand_accelerations_into,
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
            Cyclotron::hand_accelerations_into,
            true,
        ),
        case(
            "kepler",
            Kepler { m: 1.0, mu: 1.0 },
            shifted(&reference_states(2, count), &[1.5, 0.0]),
            Some(sympy_reference("kepler")),
            Kepler::hand_accelerations_into,
            true,
        ),
    ];
    let chains: &[usize] = if quick {
        &[4, 16]
    } else {
        &[4, 16, 64, 256, 1024]
    };
    for &n in chains {
        // chain16 has a SymPy reference (the structured path's accuracy row); the others are
        // compared with the hand-derived EOM, itself checked against chain16's reference
        let reference = (n == 16).then(|| sympy_reference("chain16"));
        cases.push(case(
            &format!("chain{n}"),
            Chain { n, m: 1.0, k: 1.0 },
            reference_states(n, count),
            reference,
            Chain::hand_accelerations_into,
            n <= 64,
        ));
    }
    let bodies: &[usize] = if quick { &[8] } else { &[8, 64] };
    for &b in bodies {
        let reference = (b == 8).then(|| sympy_reference("nbody8"));
        cases.push(case(
            &format!("nbody{b}"),
            nbody_system(b),
            nbody_states(b, count),
            reference,
            NBody::hand_accelerations_into,
            b <= 8,
        ));
    }
    cases
}
