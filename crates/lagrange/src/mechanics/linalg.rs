//! Dense LU solve over any scalar, with a relative-pivot singularity test.
//!
//! Written here rather than taken from `num_dual::linalg::LU` because that one only rejects an
//! exactly zero pivot and allocates; the engine needs a scale-invariant ill-conditioning test
//! (so that `L → c·L` changes nothing) and stack storage for small systems.

use crate::lagrangian::Scalar;

/// Pivots smaller than this fraction of the largest |entry| count as singular.
pub const SINGULAR_RELATIVE_PIVOT: f64 = 1e-12;

/// Solves `m x = b` in place (`m` is `n × n` row-major, overwritten; `b` becomes `x`).
///
/// Returns `Err(relative_pivot)` when the matrix is singular or ill-conditioned
/// (smallest pivot / largest |entry| below [`SINGULAR_RELATIVE_PIVOT`], or non-finite).
pub fn solve_in_place<S: Scalar>(m: &mut [S], n: usize, b: &mut [S]) -> Result<(), f64> {
    debug_assert_eq!(m.len(), n * n);
    debug_assert_eq!(b.len(), n);
    let scale = m.iter().map(|x| x.re().abs()).fold(0.0_f64, f64::max);
    if !(scale.is_finite() && scale > 0.0) {
        return Err(0.0);
    }
    for col in 0..n {
        // partial pivoting on the real part
        let (mut piv, mut best) = (col, m[col * n + col].re().abs());
        for row in col + 1..n {
            let v = m[row * n + col].re().abs();
            if v > best {
                piv = row;
                best = v;
            }
        }
        if !(best > SINGULAR_RELATIVE_PIVOT * scale) {
            return Err(best / scale);
        }
        if piv != col {
            for k in 0..n {
                m.swap(col * n + k, piv * n + k);
            }
            b.swap(col, piv);
        }
        let inv = m[col * n + col].recip();
        for row in col + 1..n {
            let f = m[row * n + col] * inv;
            if f.re() == 0.0 && f == S::zero() {
                continue;
            }
            for k in col + 1..n {
                let u = m[col * n + k];
                m[row * n + k] -= f * u;
            }
            let bc = b[col];
            b[row] -= f * bc;
        }
    }
    for row in (0..n).rev() {
        let mut acc = b[row];
        for k in row + 1..n {
            acc -= m[row * n + k] * b[k];
        }
        b[row] = acc / m[row * n + row];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_small_system() {
        // [[2,1],[1,3]] x = [3,5] → x = [4/5, 7/5] (by Cramer's rule)
        let mut m = [2.0_f64, 1.0, 1.0, 3.0];
        let mut b = [3.0_f64, 5.0];
        solve_in_place(&mut m, 2, &mut b).unwrap();
        assert!((b[0] - 0.8).abs() < 1e-15 && (b[1] - 1.4).abs() < 1e-15);
    }

    #[test]
    fn needs_pivoting() {
        // [[0,1],[1,0]] x = [2,3] → x = [3,2]
        let mut m = [0.0, 1.0, 1.0, 0.0];
        let mut b = [2.0, 3.0];
        solve_in_place(&mut m, 2, &mut b).unwrap();
        assert_eq!(b, [3.0, 2.0]);
    }

    #[test]
    fn rejects_singular_and_zero() {
        let mut m = [1.0, 2.0, 2.0, 4.0];
        let mut b = [1.0, 1.0];
        assert!(solve_in_place(&mut m, 2, &mut b).is_err());
        let mut z = [0.0; 4];
        assert_eq!(solve_in_place(&mut z, 2, &mut b), Err(0.0));
    }
}
