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
    debug_assert_eq!(b.len(), n);
    let mut pivots = vec![0; n];
    factor_in_place(m, n, &mut pivots)?;
    solve_factored(m, n, &pivots, b);
    Ok(())
}

/// The LU factorization with partial pivoting behind [`solve_in_place`], in place: `U` on and
/// above the diagonal, the multipliers of `L` below, and in `pivots[c]` the row swapped with
/// row `c` at step `c`. Kept apart so that one matrix serves several right-hand sides.
///
/// Returns `Err(relative_pivot)` as [`solve_in_place`] does.
pub fn factor_in_place<S: Scalar>(m: &mut [S], n: usize, pivots: &mut [usize]) -> Result<(), f64> {
    debug_assert_eq!(m.len(), n * n);
    debug_assert_eq!(pivots.len(), n);
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
        // NaN pivots count as singular too
        if best.is_nan() || best <= SINGULAR_RELATIVE_PIVOT * scale {
            return Err(best / scale);
        }
        pivots[col] = piv;
        if piv != col {
            for k in 0..n {
                m.swap(col * n + k, piv * n + k);
            }
        }
        let inv = m[col * n + col].recip();
        for row in col + 1..n {
            let f = m[row * n + col] * inv;
            m[row * n + col] = f;
            if f.re() == 0.0 && f == S::zero() {
                continue;
            }
            for k in col + 1..n {
                let u = m[col * n + k];
                m[row * n + k] -= f * u;
            }
        }
    }
    Ok(())
}

/// Solves with the factors and pivots from [`factor_in_place`]; `b` becomes `x`.
pub fn solve_factored<S: Scalar>(m: &[S], n: usize, pivots: &[usize], b: &mut [S]) {
    for (col, &piv) in pivots.iter().enumerate() {
        b.swap(col, piv);
    }
    for row in 1..n {
        let mut acc = b[row];
        for k in 0..row {
            acc -= m[row * n + k] * b[k];
        }
        b[row] = acc;
    }
    for row in (0..n).rev() {
        let mut acc = b[row];
        for k in row + 1..n {
            acc -= m[row * n + k] * b[k];
        }
        b[row] = acc / m[row * n + row];
    }
}

/// [`solve_in_place`] for a fixed small size: the same pivoting and singularity test, on arrays
/// the compiler can unroll (the generic loop cost more than the autodiff for n = 2).
#[inline]
pub fn solve_small<S: Scalar, const N: usize>(
    m: &mut [[S; N]; N],
    b: &mut [S; N],
) -> Result<(), f64> {
    let scale = m
        .iter()
        .flatten()
        .map(|x| x.re().abs())
        .fold(0.0_f64, f64::max);
    if !(scale.is_finite() && scale > 0.0) {
        return Err(0.0);
    }
    for col in 0..N {
        let (mut piv, mut best) = (col, m[col][col].re().abs());
        for (row, m_row) in m.iter().enumerate().skip(col + 1) {
            let v = m_row[col].re().abs();
            if v > best {
                piv = row;
                best = v;
            }
        }
        if best.is_nan() || best <= SINGULAR_RELATIVE_PIVOT * scale {
            return Err(best / scale);
        }
        if piv != col {
            m.swap(col, piv);
            b.swap(col, piv);
        }
        let inv = m[col][col].recip();
        let pivot_row = m[col];
        let bc = b[col];
        for row in col + 1..N {
            let f = m[row][col] * inv;
            for k in col + 1..N {
                m[row][k] -= f * pivot_row[k];
            }
            b[row] -= f * bc;
        }
    }
    for row in (0..N).rev() {
        let mut acc = b[row];
        for k in row + 1..N {
            acc -= m[row][k] * b[k];
        }
        b[row] = acc / m[row][row];
    }
    Ok(())
}

/// Position of entry `(i, j)`, |i − j| ≤ `bw`, in the `n × (2 bw + 1)` row-major band layout of
/// [`solve_banded_in_place`].
#[inline]
pub fn band_index(bw: usize, i: usize, j: usize) -> usize {
    i * (2 * bw + 1) + (j + bw - i)
}

/// Solves `m x = b` in place for a banded `m` with half-bandwidth `bw`, without pivoting.
///
/// `band` is `n × (2 bw + 1)` row-major: entry `(i, j)` sits at `i * (2 bw + 1) + (j + bw − i)`.
/// No pivoting keeps the band (fine for the symmetric definite mass matrices of mechanics);
/// a pivot failing the relative test returns `Err(relative_pivot)` so the caller can fall back
/// to [`solve_in_place`] with pivoting. Cost O(n · bw²).
pub fn solve_banded_in_place<S: Scalar>(
    band: &mut [S],
    n: usize,
    bw: usize,
    b: &mut [S],
) -> Result<(), f64> {
    factor_banded_in_place(band, n, bw)?;
    solve_banded_factored(band, n, bw, b);
    Ok(())
}

/// The LU factorization behind [`solve_banded_in_place`], in place: `U` on and above the
/// diagonal, the multipliers of `L` below. Kept apart so a constant matrix is factorized once.
pub fn factor_banded_in_place<S: Scalar>(band: &mut [S], n: usize, bw: usize) -> Result<(), f64> {
    debug_assert_eq!(band.len(), n * (2 * bw + 1));
    let scale = band.iter().map(|x| x.re().abs()).fold(0.0_f64, f64::max);
    if !(scale.is_finite() && scale > 0.0) {
        return Err(0.0);
    }
    let at = |i: usize, j: usize| band_index(bw, i, j);
    for col in 0..n {
        let pivot = band[at(col, col)];
        let rel = pivot.re().abs() / scale;
        if rel.is_nan() || rel <= SINGULAR_RELATIVE_PIVOT {
            return Err(rel);
        }
        let inv = pivot.recip();
        for row in col + 1..(col + bw + 1).min(n) {
            let f = band[at(row, col)] * inv;
            band[at(row, col)] = f;
            for k in col + 1..(col + bw + 1).min(n) {
                let u = band[at(col, k)];
                band[at(row, k)] -= f * u;
            }
        }
    }
    Ok(())
}

/// Solves with the factors from [`factor_banded_in_place`]; `b` becomes `x`.
pub fn solve_banded_factored<S: Scalar>(band: &[S], n: usize, bw: usize, b: &mut [S]) {
    let at = |i: usize, j: usize| band_index(bw, i, j);
    for row in 1..n {
        let mut acc = b[row];
        for k in row.saturating_sub(bw)..row {
            acc -= band[at(row, k)] * b[k];
        }
        b[row] = acc;
    }
    for row in (0..n).rev() {
        let mut acc = b[row];
        for k in row + 1..(row + bw + 1).min(n) {
            acc -= band[at(row, k)] * b[k];
        }
        b[row] = acc / band[at(row, row)];
    }
}

/// [`solve_in_place`] dispatching to the unrolled [`solve_small`] for `n ≤ 8` (same pivoting,
/// test and errors); `m` is only read when `n ≤ 8`, overwritten otherwise.
pub fn solve_dense<S: Scalar>(m: &mut [S], n: usize, b: &mut [S]) -> Result<(), f64> {
    macro_rules! small {
        ($($k:literal)*) => {
            match n {
                $($k => {
                    let mut a = [[S::zero(); $k]; $k];
                    for (i, row) in a.iter_mut().enumerate() {
                        row.copy_from_slice(&m[i * $k..(i + 1) * $k]);
                    }
                    let mut x: [S; $k] = b.try_into().expect("b has n entries");
                    solve_small(&mut a, &mut x)?;
                    b.copy_from_slice(&x);
                    Ok(())
                })*
                _ => solve_in_place(m, n, b),
            }
        };
    }
    small!(1 2 3 4 5 6 7 8)
}

/// The `n × n` row-major matrix of a band (layout of [`band_index`]) into `dense`.
pub fn band_to_dense<S: Scalar>(band: &[S], n: usize, bw: usize, dense: &mut Vec<S>) {
    dense.clear();
    dense.resize(n * n, S::zero());
    for i in 0..n {
        for j in i.saturating_sub(bw)..(i + bw + 1).min(n) {
            dense[i * n + j] = band[band_index(bw, i, j)];
        }
    }
}

/// Solves `m x = b` for a banded `m` (read from `band`, kept) with the banded LU; where a pivot
/// fails the relative test (no pivoting in the band), retries dense with pivoting. `work` is
/// scratch (n · (2 bw + 1), or n² on the fallback). `Err(relative_pivot)` from the dense solve.
pub fn solve_banded_else_dense<S: Scalar>(
    band: &[S],
    n: usize,
    bw: usize,
    work: &mut Vec<S>,
    b: &mut [S],
) -> Result<(), f64> {
    work.clear();
    work.extend_from_slice(band);
    if factor_banded_in_place(work, n, bw).is_ok() {
        solve_banded_factored(work, n, bw, b);
        return Ok(());
    }
    band_to_dense(band, n, bw, work);
    solve_in_place(work, n, b)
}

/// Inverse of an `n × n` row-major matrix, or `Err(relative_pivot)` where it is singular by
/// the test of [`solve_in_place`] (pivot / largest |entry| ≤ [`SINGULAR_RELATIVE_PIVOT`], or
/// non-finite). A diagonal matrix: reciprocals; otherwise Gauss–Jordan with partial pivoting,
/// O(n³) (for matrices inverted once and applied many times).
pub fn invert(m: &[f64], n: usize) -> Result<Vec<f64>, f64> {
    debug_assert_eq!(m.len(), n * n);
    let scale = m.iter().fold(0.0_f64, |a, x| a.max(x.abs()));
    if !(scale.is_finite() && scale > 0.0) {
        return Err(0.0);
    }
    let singular = |pivot: f64| pivot.is_nan() || pivot.abs() <= SINGULAR_RELATIVE_PIVOT * scale;
    let diagonal = (0..n).all(|i| (0..n).all(|j| i == j || m[i * n + j] == 0.0));
    if diagonal {
        let mut inverse = vec![0.0; n * n];
        for i in 0..n {
            let d = m[i * n + i];
            if singular(d) {
                return Err(d.abs() / scale);
            }
            inverse[i * n + i] = 1.0 / d;
        }
        return Ok(inverse);
    }
    let mut a = m.to_vec();
    let mut inverse = vec![0.0; n * n];
    for i in 0..n {
        inverse[i * n + i] = 1.0;
    }
    for col in 0..n {
        let pivot_row = (col..n)
            .max_by(|&r, &s| a[r * n + col].abs().total_cmp(&a[s * n + col].abs()))
            .expect("col < n");
        let pivot = a[pivot_row * n + col];
        if singular(pivot) {
            return Err(pivot.abs() / scale);
        }
        if pivot_row != col {
            for k in 0..n {
                a.swap(col * n + k, pivot_row * n + k);
                inverse.swap(col * n + k, pivot_row * n + k);
            }
        }
        let inv = 1.0 / pivot;
        for k in 0..n {
            a[col * n + k] *= inv;
            inverse[col * n + k] *= inv;
        }
        for row in (0..n).filter(|&r| r != col) {
            let f = a[row * n + col];
            if f != 0.0 {
                for k in 0..n {
                    a[row * n + k] -= f * a[col * n + k];
                    inverse[row * n + k] -= f * inverse[col * n + k];
                }
            }
        }
    }
    Ok(inverse)
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
    fn one_factorization_serves_several_right_hand_sides() {
        // a permutation-heavy 4 × 4 matrix (every column needs a swap); x checked by the residual
        let n = 4;
        let m = [
            0.0, 2.0, 1.0, 3.0, //
            1.0, 0.0, 4.0, 1.0, //
            5.0, 1.0, 0.0, 2.0, //
            2.0, 6.0, 1.0, 0.0,
        ];
        let mut lu = m;
        let mut pivots = [0; 4];
        factor_in_place(&mut lu, n, &mut pivots).unwrap();
        for b in [[1.0, 2.0, 3.0, 4.0], [-1.0, 0.5, 0.0, 7.0]] {
            let mut x = b;
            solve_factored(&lu, n, &pivots, &mut x);
            for i in 0..n {
                let r: f64 = (0..n).map(|j| m[i * n + j] * x[j]).sum();
                // entries O(1), κ small: a backward-stable solve leaves residuals near ε
                assert!((r - b[i]).abs() < 1e-13, "row {i}: {r} vs {}", b[i]);
            }
        }
    }

    #[test]
    fn banded_matches_dense_on_a_tridiagonal_system() {
        // tridiag(-1, 4, -1) x = 1: compare with the pivoting dense solver (independent code path)
        let n = 6;
        let mut dense = vec![0.0_f64; n * n];
        let mut band = vec![0.0_f64; n * 3];
        for i in 0..n {
            dense[i * n + i] = 4.0;
            band[i * 3 + 1] = 4.0;
            if i + 1 < n {
                dense[i * n + i + 1] = -1.0;
                dense[(i + 1) * n + i] = -1.0;
                band[i * 3 + 2] = -1.0;
                band[(i + 1) * 3] = -1.0;
            }
        }
        let (mut x1, mut x2) = (vec![1.0; n], vec![1.0; n]);
        solve_in_place(&mut dense, n, &mut x1).unwrap();
        solve_banded_in_place(&mut band, n, 1, &mut x2).unwrap();
        for (a, b) in x1.iter().zip(&x2) {
            assert!((a - b).abs() < 1e-14, "{a} vs {b}"); // both are backward stable at κ ≈ 3
        }
    }

    #[test]
    fn inverse_of_a_small_matrix() {
        // [[2,1],[1,3]]⁻¹ = [[3,-1],[-1,2]] / 5 (adjugate over the determinant)
        let inv = invert(&[2.0, 1.0, 1.0, 3.0], 2).unwrap();
        let exact = [0.6, -0.2, -0.2, 0.4];
        for (a, b) in inv.iter().zip(exact) {
            assert!((a - b).abs() < 1e-15, "{inv:?}");
        }
        assert_eq!(
            invert(&[4.0, 0.0, 0.0, 0.5], 2).unwrap(),
            [0.25, 0.0, 0.0, 2.0]
        );
        assert!(invert(&[1.0, 2.0, 2.0, 4.0], 2).is_err());
        assert_eq!(invert(&[0.0; 4], 2), Err(0.0));
    }

    #[test]
    fn banded_else_dense_falls_back_to_pivoting() {
        // [[0,1],[1,0]] (half-bandwidth 1) has a zero first pivot without pivoting: x = [3, 2]
        let band = [0.0, 0.0, 1.0, 1.0, 0.0, 0.0];
        let mut b = [2.0, 3.0];
        solve_banded_else_dense(&band, 2, 1, &mut Vec::new(), &mut b).unwrap();
        assert_eq!(b, [3.0, 2.0]);
        // the dense dispatch solves m x = 1 for n = 3 (unrolled) and 9 (loop): residual check
        for n in [3, 9] {
            let m: Vec<f64> = (0..n * n)
                .map(|e| {
                    if e / n == e % n {
                        4.0
                    } else {
                        1.0 / (1 + e) as f64
                    }
                })
                .collect();
            let mut x = vec![1.0; n];
            solve_dense(&mut m.clone(), n, &mut x).unwrap();
            for i in 0..n {
                let r: f64 = (0..n).map(|j| m[i * n + j] * x[j]).sum();
                assert!((r - 1.0).abs() < 1e-14, "row {i}: {r}");
            }
        }
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
