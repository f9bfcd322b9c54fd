//! Identifiability: flat directions of the loss, and Gauss–Newton parameter uncertainties.
//!
//! `L` and `c·L + dΦ/dt` give the same motion, so not every parameter of a model can be learned:
//! for the oscillator `½ m ẋ² − ½ k x²` only `k/m` can. Near a minimum the loss is
//! `ε(θ + δ) ≈ ε(θ) + δᵀ JᵀJ δ`, so a direction `δ` with `J δ ≈ 0` leaves the fitted motion
//! unchanged. To make the test independent of units, the columns of `J` are first scaled to unit
//! length (scaling a parameter by a unit factor scales its column, which this undoes); the
//! eigenvalues of the scaled `JᵀJ` below `threshold × largest` (default `1e-10`) are the flat
//! directions. Each is reported in parameter space (`δθ`, unit length, in parameter names), with the
//! combination through which the parameters enter when it is a scaling symmetry
//! (`θ_a^α θ_b^β` constant along `δθ`, e.g. `k/m`), and a suggestion of which parameter to fix:
//! a mass-like one (`m`, `m1`, `mass`, ...) if involved, else the one with the largest component.

use crate::model::{Bound, Model};
use lagrange::num_dual::{Dual, Dual64};
use nalgebra::{DMatrix, DVector, SymmetricEigen};
use serde::{Deserialize, Serialize};

/// Default relative eigenvalue threshold for flat directions.
pub const FLAT_THRESHOLD: f64 = 1e-10;

/// A direction in parameter space along which the loss does not change (to first order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlatDirection {
    /// Eigenvalue of the column-scaled `JᵀJ` relative to the largest.
    pub relative_eigenvalue: f64,
    /// Unit vector `δθ` in parameter space, as (name, component) in the model's parameter order,
    /// components below 1e-3 omitted.
    pub direction: Vec<(String, f64)>,
    /// The parameters involved (scaled component above 0.05).
    pub involved: Vec<String>,
    /// The invariant combination when the direction is a scaling symmetry, e.g. `k/m`.
    pub combination: Option<String>,
    /// Which parameter to fix to remove the degeneracy.
    pub suggest_fix: String,
    /// A one-line human-readable summary.
    pub message: String,
}

/// Parameter-space directions, unit scaling of the Jacobian's columns.
struct Scaled {
    eigen: SymmetricEigen<f64, nalgebra::Dyn>,
    /// `1/‖J_i‖` (0 for zero columns).
    inv_norm: Vec<f64>,
    max_eigenvalue: f64,
}

fn scaled(jac: &DMatrix<f64>) -> Scaled {
    let np = jac.ncols();
    let inv_norm: Vec<f64> = (0..np)
        .map(|i| {
            let n = jac.column(i).norm();
            if n > 0.0 { 1.0 / n } else { 0.0 }
        })
        .collect();
    let mut js = jac.clone();
    for (i, s) in inv_norm.iter().enumerate() {
        js.column_mut(i).scale_mut(*s);
    }
    let a = js.transpose() * &js;
    let eigen = SymmetricEigen::new(a);
    let max_eigenvalue = eigen.eigenvalues.iter().copied().fold(0.0_f64, f64::max);
    Scaled {
        eigen,
        inv_norm,
        max_eigenvalue,
    }
}

fn is_mass_like(name: &str) -> bool {
    let lower = name.to_lowercase();
    lower == "m"
        || lower.contains("mass")
        || lower.starts_with("m_")
        || (lower.starts_with('m') && lower[1..].chars().all(|c| c.is_ascii_digit() || c == '_'))
}

fn fmt_coef(x: f64) -> String {
    format!("{:.3}", x)
}

/// Names the invariant monomial when `δθ_i/θ_i` is (close to) a small-integer pattern.
fn combination(names: &[&str], params: &[f64], dtheta: &[f64]) -> Option<String> {
    if names.len() != 2 || params.iter().any(|p| p.abs() < 1e-12) {
        return None;
    }
    // d ln θ along δθ
    let w: Vec<f64> = dtheta.iter().zip(params).map(|(d, p)| d / p).collect();
    // θ_a^{e_a} θ_b^{e_b} invariant ⇔ e_a w_a + e_b w_b = 0 ⇒ e = (−w_b, w_a)
    let mut e = [-w[1], w[0]];
    if e[1] < 0.0 {
        e = [-e[0], -e[1]];
    }
    let small = e[0].abs().min(e[1].abs());
    if small < 1e-12 {
        return None;
    }
    let e = [e[0] / small, e[1] / small];
    let round = |x: f64| -> Option<i32> {
        let r = x.round();
        ((x - r).abs() < 0.02 * x.abs().max(1.0) && r.abs() <= 4.0).then_some(r as i32)
    };
    let (ea, eb) = (round(e[0])?, round(e[1])?);
    let pw = |n: &str, k: i32| {
        if k.abs() == 1 {
            n.to_string()
        } else {
            format!("{n}^{}", k.abs())
        }
    };
    // e_b > 0 always
    Some(if ea > 0 {
        format!("{}·{}", pw(names[1], eb), pw(names[0], ea))
    } else {
        format!("{}/{}", pw(names[1], eb), pw(names[0], ea))
    })
}

/// Flat directions of the loss at `params` from its Jacobian (see the [module docs](self)).
pub fn flat_directions(
    jac: &DMatrix<f64>,
    params: &[f64],
    names: &[String],
    threshold: f64,
) -> Vec<FlatDirection> {
    let np = params.len();
    if np == 0 || jac.nrows() == 0 {
        return Vec::new();
    }
    let s = scaled(jac);
    let mut out = Vec::new();
    let mut order: Vec<usize> = (0..np).collect();
    order.sort_by(|&a, &b| s.eigen.eigenvalues[a].total_cmp(&s.eigen.eigenvalues[b]));
    for k in order {
        let lam = s.eigen.eigenvalues[k];
        let rel = if s.max_eigenvalue > 0.0 {
            lam / s.max_eigenvalue
        } else {
            0.0
        };
        if rel >= threshold {
            continue;
        }
        let u: Vec<f64> = s.eigen.eigenvectors.column(k).iter().copied().collect();
        // zero columns: the parameter has no effect at all; treat it as its own direction
        let mut dtheta: Vec<f64> = (0..np)
            .map(|i| {
                if s.inv_norm[i] > 0.0 {
                    u[i] * s.inv_norm[i]
                } else {
                    u[i]
                }
            })
            .collect();
        let norm = dtheta.iter().map(|x| x * x).sum::<f64>().sqrt();
        let biggest = dtheta
            .iter()
            .copied()
            .fold(0.0_f64, |m, x| if x.abs() > m.abs() { x } else { m });
        let sign = if biggest < 0.0 { -1.0 } else { 1.0 };
        for x in &mut dtheta {
            *x *= sign / norm;
        }
        let involved: Vec<usize> = (0..np).filter(|&i| u[i].abs() > 0.05).collect();
        let comps: Vec<(String, f64)> = (0..np)
            .filter(|&i| dtheta[i].abs() >= 1e-3)
            .map(|i| (names[i].clone(), dtheta[i]))
            .collect();
        let suggest = involved
            .iter()
            .copied()
            .find(|&i| is_mass_like(&names[i]))
            .or_else(|| {
                involved
                    .iter()
                    .copied()
                    .max_by(|&a, &b| u[a].abs().total_cmp(&u[b].abs()))
            })
            .unwrap_or(0);
        let inv_names: Vec<&str> = involved.iter().map(|&i| names[i].as_str()).collect();
        let combo = combination(
            &inv_names,
            &involved.iter().map(|&i| params[i]).collect::<Vec<_>>(),
            &involved.iter().map(|&i| dtheta[i]).collect::<Vec<_>>(),
        );
        let mut by_size: Vec<&(String, f64)> = comps.iter().collect();
        by_size.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        let shown_names: Vec<&String> = by_size.iter().take(6).map(|(n, _)| n).collect();
        let shown: Vec<String> = comps
            .iter()
            .filter(|(n, _)| shown_names.contains(&n))
            .map(|(n, c)| format!("{}·{}", fmt_coef(*c), n))
            .collect();
        let mut dir = shown.join(" + ").replace("+ -", "− ");
        if comps.len() > 6 {
            dir.push_str(&format!(" + … ({} more)", comps.len() - 6));
        }
        let who = match inv_names.len() {
            0 => "the parameters".to_string(),
            1 => inv_names[0].to_string(),
            2 => format!("{} and {}", inv_names[0], inv_names[1]),
            n if n <= 6 => format!("{} and {}", inv_names[..n - 1].join(", "), inv_names[n - 1]),
            n => format!("{}, ... ({} parameters)", inv_names[..4].join(", "), n),
        };
        let message = match (&combo, inv_names.len()) {
            (_, 1) => format!(
                "{who} does not affect the motion: flat direction ({dir}); fix {}",
                names[suggest]
            ),
            (Some(c), _) => format!(
                "{who} enter only through {c}: flat direction ({dir}) leaves the motion unchanged; fix {}",
                names[suggest]
            ),
            (None, _) => format!(
                "{who} are not separately identifiable: flat direction ({dir}) leaves the motion unchanged; fix {}",
                names[suggest]
            ),
        };
        out.push(FlatDirection {
            relative_eigenvalue: rel.max(0.0),
            direction: comps,
            involved: inv_names.iter().map(|s| s.to_string()).collect(),
            combination: combo,
            suggest_fix: names[suggest].clone(),
            message,
        });
    }
    out
}

/// Gauss–Newton standard errors `σ_θ = sqrt(diag(s² (JᵀJ)⁻¹))` with `s² = RSS / (N_res − P)`.
///
/// Flat directions (as in [`flat_directions`] with `threshold`) are removed from the inverse
/// (pseudo-inverse); a parameter with a component above 0.05 in a flat direction has no finite
/// uncertainty and gets `None`, as do all parameters when `N_res ≤ P`.
pub fn uncertainties(jac: &DMatrix<f64>, residuals: &[f64], threshold: f64) -> Vec<Option<f64>> {
    let (m, np) = (jac.nrows(), jac.ncols());
    if m <= np || np == 0 {
        return vec![None; np];
    }
    let rss: f64 = residuals.iter().map(|r| r * r).sum();
    let s2 = rss / (m - np) as f64;
    let s = scaled(jac);
    let mut undefined = vec![false; np];
    let mut pinv = DMatrix::<f64>::zeros(np, np);
    for k in 0..np {
        let lam = s.eigen.eigenvalues[k];
        let v: DVector<f64> = s.eigen.eigenvectors.column(k).into_owned();
        if s.max_eigenvalue <= 0.0 || lam < threshold * s.max_eigenvalue {
            for i in 0..np {
                if v[i].abs() > 0.05 {
                    undefined[i] = true;
                }
            }
        } else {
            pinv += &v * v.transpose() / lam;
        }
    }
    (0..np)
        .map(|i| {
            if undefined[i] || s.inv_norm[i] == 0.0 {
                None
            } else {
                Some((s2 * pinv[(i, i)]).max(0.0).sqrt() * s.inv_norm[i])
            }
        })
        .collect()
}

/// What a flat direction does to L itself (see [`classify_flat`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlatKind {
    /// L changes by a multiple of itself (`L → c L`): the motion is that of L.
    Scale,
    /// L changes by a constant.
    Constant,
    /// L changes by something else that the equations of motion do not see: a total time
    /// derivative `dΦ/dt` (possibly with a scale and a constant).
    TotalTimeDerivative,
    /// L does not change at all (the parameters do not enter it).
    Unused,
}

impl FlatKind {
    /// `scale`, `constant`, `total time derivative` or `unused`.
    pub fn name(self) -> &'static str {
        match self {
            FlatKind::Scale => "scale",
            FlatKind::Constant => "constant",
            FlatKind::TotalTimeDerivative => "total time derivative",
            FlatKind::Unused => "unused",
        }
    }
}

/// Classifies the flat direction `direction` (in θ) of `model` at `theta` by how L changes
/// along it, `g = ∂L/∂θ · δθ` (exact, by dual numbers in the parameters), at the sampled
/// `states` `(t, q, q̇)`: g is fitted by `c L + e` in least squares; an exact fit (relative
/// residual below `1e-8`) with `c ≠ 0` is a [scale](FlatKind::Scale), with `c = 0` a
/// [constant](FlatKind::Constant); anything else, being invisible to the motion, is a
/// [total time derivative](FlatKind::TotalTimeDerivative).
pub fn classify_flat<M: Model + ?Sized>(
    model: &M,
    theta: &[f64],
    direction: &[f64],
    states: &[(f64, Vec<f64>, Vec<f64>)],
) -> FlatKind {
    let params: Vec<Dual64> = theta
        .iter()
        .zip(direction)
        .map(|(&p, &d)| Dual64::new(p, d))
        .collect();
    type D = Dual<Dual64>;
    let lift =
        |x: &[f64]| -> Vec<D> { x.iter().map(|&v| D::from_re(Dual64::from_re(v))).collect() };
    let (mut l, mut g) = (Vec::new(), Vec::new());
    for (t, q, q_dot) in states {
        let value = model.lagrangian_over::<Dual64, D>(
            &params,
            D::from_re(Dual64::from_re(*t)),
            &lift(q),
            &lift(q_dot),
        );
        l.push(value.re.re);
        g.push(value.re.eps);
    }
    let norm = |x: &[f64]| x.iter().map(|v| v * v).sum::<f64>().sqrt();
    let g_norm = norm(&g);
    if g_norm == 0.0 {
        return FlatKind::Unused;
    }
    // least squares g ≈ c L + e
    let a = DMatrix::from_fn(states.len(), 2, |i, k| if k == 0 { l[i] } else { 1.0 });
    let Some(solution) = a
        .clone()
        .svd(true, true)
        .solve(&DVector::from_vec(g.clone()), 1e-14)
        .ok()
    else {
        return FlatKind::TotalTimeDerivative;
    };
    let fitted = &a * &solution;
    let residual: Vec<f64> = g.iter().zip(fitted.iter()).map(|(x, y)| x - y).collect();
    if norm(&residual) > 1e-8 * g_norm {
        return FlatKind::TotalTimeDerivative;
    }
    if solution[0].abs() * norm(&l) > 1e-8 * g_norm {
        FlatKind::Scale
    } else {
        FlatKind::Constant
    }
}

/// `∂q̈/∂θ` of `model` at `theta`, one row per (state, coordinate), at the sampled `states`
/// `(t, q, q̇)` (the time included, unlike a [`crate::Dataset`]): exact, one dual-number pass
/// through the core's equations of motion per parameter. States where the mass matrix is
/// singular are left out.
pub fn acceleration_jacobian<M: Model + ?Sized>(
    model: &M,
    theta: &[f64],
    states: &[(f64, Vec<f64>, Vec<f64>)],
) -> DMatrix<f64> {
    let (n, p) = (model.dof(), theta.len());
    let lift = |x: &[f64]| -> Vec<Dual64> { x.iter().map(|&v| Dual64::from_re(v)).collect() };
    let mut rows: Vec<f64> = Vec::new();
    let mut count = 0;
    let mut column = vec![0.0; n * p];
    'states: for (t, q, q_dot) in states {
        for k in 0..p {
            let params: Vec<Dual64> = theta
                .iter()
                .enumerate()
                .map(|(j, &x)| Dual64::new(x, if j == k { 1.0 } else { 0.0 }))
                .collect();
            let bound = Bound {
                model,
                params: &params,
            };
            let Ok(a) =
                lagrange::accelerations(&bound, Dual64::from_re(*t), &lift(q), &lift(q_dot))
            else {
                continue 'states;
            };
            for i in 0..n {
                column[i * p + k] = a[i].eps;
            }
        }
        rows.extend_from_slice(&column);
        count += n;
    }
    DMatrix::from_row_slice(count, p, &rows)
}
