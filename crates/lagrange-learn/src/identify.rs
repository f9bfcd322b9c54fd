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
