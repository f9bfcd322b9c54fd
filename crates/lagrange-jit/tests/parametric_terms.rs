//! Term kernels with free parameters (`TermKernels::Always`) against the straight-line code of
//! the same model (`TermKernels::Never`): q̈, its parameter Jacobian and the sample-loss
//! gradient, on random states and parameters.
//!
//! Tolerance: both are the exact derivatives of the same L, differentiated per term or whole,
//! so they differ by rounding only; the host's LU is the same code on both sides. 1e-12 relative
//! to the largest entry of the quantity (at least 1) leaves room for a few hundred ulp and M's
//! moderate conditioning, while a wrong term would be of the order of the entries.

use lagrange::num_dual::DualNum;
use lagrange_jit::{
    ParametricEquations, ParametricLagrangian, ParametricOptions, Sample, TermKernels, Traced,
};

const TOL: f64 = 1e-12;

/// Uniform draws in (−a, a) from a seeded SplitMix64 (the test needs no statistics, only
/// reproducible spread values).
struct Draws(u64);

impl Draws {
    fn next(&mut self, a: f64) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        a * (2.0 * (z >> 11) as f64 / (1u64 << 53) as f64 - 1.0)
    }
}

/// How the test chain's kinetic energy couples the masses.
#[derive(Clone, Copy, PartialEq)]
enum Kinetic {
    /// `½ (m + s qᵢ²) q̇ᵢ²` and `0.1 s cos(qᵢ) q̇ᵢ q̇ᵢ₊₁`: M tridiagonal, depends on q and θ.
    StateDependent,
    /// `½ m q̇ᵢ² + s q̇ᵢ q̇ᵢ₊₁`: M tridiagonal, depends on θ alone.
    ParametersOnly,
    /// `½ m q̇ᵢ²` and one term `½ s (Σ q̇ᵢ)²` over every coordinate: M dense.
    Dense,
}

/// A chain of `n` masses, θ = (m, k, s), with terms declared per mass and per spring:
/// - kinetic energy as in [`Kinetic`];
/// - springs `−½ k (qᵢ₊₁ − qᵢ)²` and `−½ k q₀²` (fixed at one end);
/// - an on-site potential `cᵢ k cos(qᵢ)` whose constant `cᵢ = 0.1 (1 + i mod 3)` differs between
///   alike terms (a per-term kernel parameter), and `t·qᵢ·0.01` (explicit time dependence).
struct Chain {
    n: usize,
    kinetic: Kinetic,
}

impl Chain {
    /// Terms: per mass (kinetic, on-site), per spring (with the coupling), the fixed end, and
    /// the dense kinetic term where there is one.
    fn terms(&self) -> Vec<Vec<usize>> {
        let mut terms: Vec<Vec<usize>> = (0..self.n).map(|i| vec![i]).collect();
        terms.extend((0..self.n - 1).map(|i| vec![i, i + 1]));
        terms.push(vec![0]);
        if self.kinetic == Kinetic::Dense {
            terms.push((0..self.n).collect());
        }
        terms
    }

    fn term_of(&self, k: usize, th: &[Traced], t: Traced, q: &[Traced], v: &[Traced]) -> Traced {
        let (m, kk, s) = (th[0], th[1], th[2]);
        let n = self.n;
        if k < n {
            // one mass: kinetic and on-site
            let c = 0.1 * (1 + k % 3) as f64;
            let kinetic = match self.kinetic {
                Kinetic::StateDependent => (m + s * q[0] * q[0]) * v[0] * v[0] * 0.5,
                _ => m * v[0] * v[0] * 0.5,
            };
            kinetic + kk * q[0].cos() * c + t * q[0] * 0.01
        } else if k < 2 * n - 1 {
            let d = q[1] - q[0];
            let coupling = match self.kinetic {
                Kinetic::StateDependent => s * q[0].cos() * v[0] * v[1] * 0.1,
                Kinetic::ParametersOnly => s * v[0] * v[1],
                Kinetic::Dense => Traced::from(0.0),
            };
            coupling - kk * d * d * 0.5
        } else if k == 2 * n - 1 {
            -(kk * q[0] * q[0] * 0.5)
        } else {
            let mut sum = v[0];
            for &x in &v[1..] {
                sum += x;
            }
            s * sum * sum * 0.5
        }
    }
}

impl ParametricLagrangian for Chain {
    fn dof(&self) -> usize {
        self.n
    }
    fn num_parameters(&self) -> usize {
        3
    }
    fn lagrangian(&self, th: &[Traced], t: Traced, q: &[Traced], v: &[Traced]) -> Traced {
        let mut l = Traced::from(0.0);
        for (k, c) in self.terms().iter().enumerate() {
            let ql: Vec<Traced> = c.iter().map(|&i| q[i]).collect();
            let vl: Vec<Traced> = c.iter().map(|&i| v[i]).collect();
            l += self.term_of(k, th, t, &ql, &vl);
        }
        l
    }
    fn num_terms(&self) -> usize {
        self.terms().len()
    }
    fn term_coordinates(&self, k: usize, coordinates: &mut Vec<usize>) {
        coordinates.extend_from_slice(&self.terms()[k]);
    }
    fn term(&self, k: usize, th: &[Traced], t: Traced, q: &[Traced], v: &[Traced]) -> Traced {
        self.term_of(k, th, t, q, v)
    }
}

fn compile(chain: &Chain, term_kernels: TermKernels) -> ParametricEquations {
    let options = ParametricOptions {
        term_kernels,
        ..ParametricOptions::default()
    };
    ParametricEquations::new(chain, options).unwrap()
}

fn close(what: &str, got: &[f64], want: &[f64]) {
    let scale = want.iter().fold(1.0_f64, |a, x| a.max(x.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= TOL * scale,
            "{what}[{i}]: kernels {g:e} vs straight line {w:e}"
        );
    }
}

/// Compares both codes on random states and θ around (1, 2, 0.2); returns the mass-matrix
/// description of the kernels' code.
fn compare(chain: &Chain, seed: u64) -> String {
    let n = chain.n;
    let mut kernels = compile(chain, TermKernels::Always);
    let mut straight = compile(chain, TermKernels::Never);
    assert!(
        kernels.stats().term_kernels > 0,
        "the kernels were not used"
    );
    assert_eq!(straight.stats().term_kernels, 0);
    let mut draws = Draws(seed);
    let mut u = |a: f64| draws.next(a);
    for _ in 0..3 {
        let theta = [1.0 + u(0.3), 2.0 + u(0.5), 0.2 + u(0.1)];
        kernels.set_parameters(&theta);
        straight.set_parameters(&theta);
        // (t, q, q̇, observed q̈)
        type State = (f64, Vec<f64>, Vec<f64>, Vec<f64>);
        let states: Vec<State> = (0..9)
            .map(|_| {
                (
                    u(2.0),
                    (0..n).map(|_| u(1.0)).collect(),
                    (0..n).map(|_| u(1.0)).collect(),
                    (0..n).map(|_| u(3.0)).collect(),
                )
            })
            .collect();
        let sample = |s: usize| Sample {
            t: states[s].0,
            q: &states[s].1,
            q_dot: &states[s].2,
            observed: &states[s].3,
        };
        type Results = Vec<(Vec<f64>, Vec<f64>, f64, Vec<f64>)>;
        let run = |eom: &mut ParametricEquations| -> Results {
            let mut results: Results = vec![Default::default(); states.len()];
            eom.accelerations_batch(states.len(), sample, |s, acc| {
                results[s].0 = acc.expect("regular M").to_vec();
            });
            eom.jacobian_batch(states.len(), sample, |s, r| {
                let (acc, jac) = r.expect("regular M");
                assert_eq!(acc, &results[s].0[..], "q̈ of both batch methods");
                results[s].1 = jac.to_vec();
            });
            eom.loss_gradient_batch(states.len(), sample, |s, r| {
                let (e, g) = r.expect("regular M");
                results[s].2 = e;
                results[s].3 = g.to_vec();
            });
            results
        };
        let (got, want) = (run(&mut kernels), run(&mut straight));
        for (g, w) in got.iter().zip(&want) {
            close("q̈", &g.0, &w.0);
            close("∂q̈/∂θ", &g.1, &w.1);
            close("ε", &[g.2], &[w.2]);
            close("∂ε/∂θ", &g.3, &w.3);
        }
    }
    kernels.stats().mass_matrix.clone()
}

#[test]
fn state_dependent_banded_mass_matrix() {
    let mass = compare(
        &Chain {
            n: 20,
            kinetic: Kinetic::StateDependent,
        },
        1,
    );
    assert_eq!(mass, "banded LU on the host (term kernels)");
}

#[test]
fn mass_matrix_of_the_parameters_alone_is_factorized_once_per_parameter_set() {
    let mass = compare(
        &Chain {
            n: 20,
            kinetic: Kinetic::ParametersOnly,
        },
        2,
    );
    assert_eq!(
        mass,
        "banded LU on the host, once per parameter set (term kernels)"
    );
}

#[test]
fn dense_mass_matrix_and_few_coordinates() {
    let mass = compare(
        &Chain {
            n: 6,
            kinetic: Kinetic::Dense,
        },
        3,
    );
    assert_eq!(
        mass,
        "dense LU on the host, once per parameter set (term kernels)"
    );
    let mass = compare(
        &Chain {
            n: 3,
            kinetic: Kinetic::StateDependent,
        },
        4,
    );
    // 4 × bandwidth 1 ≥ 3 coordinates: dense storage
    assert_eq!(mass, "dense LU on the host (term kernels)");
}

#[test]
fn auto_uses_kernels_from_the_documented_size_on() {
    let chain = |n| Chain {
        n,
        kinetic: Kinetic::StateDependent,
    };
    let small = compile(
        &chain(lagrange_jit::MIN_TERM_COORDINATES - 1),
        TermKernels::Auto,
    );
    assert_eq!(small.stats().term_kernels, 0);
    let large = compile(
        &chain(lagrange_jit::MIN_TERM_COORDINATES),
        TermKernels::Auto,
    );
    // per class (mass, spring, fixed end): q̈, Jacobian, and the part that reads θ alone
    assert!(large.stats().term_kernels >= 3, "{:?}", large.stats());
    // θ has 3 entries: the springs' 5 outputs (force 2, M's upper triangle 3) take forward
    // sweeps, the one-coordinate terms' 2 outputs reverse ones
    assert_eq!(large.stats().derivatives, "forward and reverse");
}

#[test]
fn a_singular_mass_matrix_is_left_to_the_caller() {
    // m = s = 0: M = 0, singular; the host's test says so and the sample is not decided
    let chain = Chain {
        n: 20,
        kinetic: Kinetic::StateDependent,
    };
    let mut kernels = compile(&chain, TermKernels::Always);
    kernels.set_parameters(&[0.0, 1.0, 0.0]);
    let (q, v) = (vec![0.3; 20], vec![0.1; 20]);
    let mut acc = vec![0.0; 20];
    assert!(!kernels.accelerations_into(0.0, &q, &v, &mut acc));
    // a NaN in the state: not decided either
    kernels.set_parameters(&[1.0, 2.0, 0.2]);
    let mut q = q;
    q[7] = f64::NAN;
    assert!(!kernels.accelerations_into(0.0, &q, &v, &mut acc));
    q[7] = 0.3;
    assert!(kernels.accelerations_into(0.0, &q, &v, &mut acc));
}
