//! Symbolic differentiation of a [`Graph`]: reverse mode (all partials of one output) and forward
//! mode (one directional derivative of many outputs), both creating new nodes in the same graph,
//! where folding and deduplication simplify them as they are made.

use crate::graph::{Fun, Graph, Id, Op};

/// The partial derivatives of node `id` with respect to its operands, as new nodes.
fn local_partials(g: &mut Graph, id: Id) -> [(Id, Id); 2] {
    const NONE: (Id, Id) = (Id::MAX, Id::MAX);
    let one = g.constant(1.0);
    match g.op(id) {
        Op::Const(_) | Op::Input(_) => [NONE, NONE],
        Op::Add(a, b) => [(a, one), (b, one)],
        Op::Sub(a, b) => {
            let m = g.constant(-1.0);
            [(a, one), (b, m)]
        }
        Op::Mul(a, b) => [(a, b), (b, a)],
        Op::Div(a, b) => {
            // ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −(a/b)/b
            let r = g.recip(b);
            let q = g.div(id, b);
            let nq = g.neg(q);
            [(a, r), (b, nq)]
        }
        Op::Neg(a) => [(a, g.constant(-1.0)), NONE],
        Op::Powi(a, n) => {
            let p = g.powi(a, n - 1);
            let c = g.constant(f64::from(n));
            [(a, g.mul(c, p)), NONE]
        }
        Op::Powf(a, bits) => {
            let c = f64::from_bits(bits);
            let p = g.powf(a, c - 1.0);
            let k = g.constant(c);
            [(a, g.mul(k, p)), NONE]
        }
        Op::Pow(a, b) => {
            // ∂(a^b)/∂a = b a^(b−1), ∂(a^b)/∂b = a^b ln a
            let bm1 = g.sub(b, one);
            let p = g.pow(a, bm1);
            let da = g.mul(b, p);
            let ln = g.fun(Fun::Ln, a);
            let db = g.mul(id, ln);
            [(a, da), (b, db)]
        }
        Op::Atan2(y, x) => {
            // ∂/∂y = x/(x²+y²), ∂/∂x = −y/(x²+y²)
            let (xx, yy) = (g.mul(x, x), g.mul(y, y));
            let r2 = g.add(xx, yy);
            let dy = g.div(x, r2);
            let q = g.div(y, r2);
            let dx = g.neg(q);
            [(y, dy), (x, dx)]
        }
        Op::Fun(f, a) => [(a, fun_derivative(g, f, a, id)), NONE],
    }
}

/// `f'(a)` for `y = f(a)` (node `y`), reusing `y` where the derivative is a function of it.
fn fun_derivative(g: &mut Graph, f: Fun, a: Id, y: Id) -> Id {
    let one = g.constant(1.0);
    match f {
        Fun::Sqrt => {
            let h = g.constant(0.5);
            g.div(h, y)
        }
        Fun::Cbrt => {
            // y / (3a)
            let three = g.constant(3.0);
            let three_a = g.mul(three, a);
            g.div(y, three_a)
        }
        Fun::Exp => y,
        Fun::Exp2 => {
            let k = g.constant(std::f64::consts::LN_2);
            g.mul(k, y)
        }
        Fun::ExpM1 => g.add(y, one),
        Fun::Ln => g.recip(a),
        Fun::Log2 => {
            let r = g.recip(a);
            let k = g.constant(1.0 / std::f64::consts::LN_2);
            g.mul(k, r)
        }
        Fun::Log10 => {
            let r = g.recip(a);
            let k = g.constant(1.0 / std::f64::consts::LN_10);
            g.mul(k, r)
        }
        Fun::Ln1p => {
            let s = g.add(one, a);
            g.recip(s)
        }
        Fun::Sin => g.fun(Fun::Cos, a),
        Fun::Cos => {
            let s = g.fun(Fun::Sin, a);
            g.neg(s)
        }
        Fun::Tan => {
            let yy = g.mul(y, y);
            g.add(one, yy)
        }
        Fun::Asin | Fun::Acos => {
            let aa = g.mul(a, a);
            let s = g.sub(one, aa);
            let r = g.fun(Fun::Sqrt, s);
            let d = g.recip(r);
            if f == Fun::Asin { d } else { g.neg(d) }
        }
        Fun::Atan => {
            let aa = g.mul(a, a);
            let s = g.add(one, aa);
            g.recip(s)
        }
        Fun::Sinh => g.fun(Fun::Cosh, a),
        Fun::Cosh => g.fun(Fun::Sinh, a),
        Fun::Tanh => {
            let yy = g.mul(y, y);
            g.sub(one, yy)
        }
        Fun::Asinh | Fun::Acosh => {
            let aa = g.mul(a, a);
            let s = if f == Fun::Asinh {
                g.add(aa, one)
            } else {
                g.sub(aa, one)
            };
            let r = g.fun(Fun::Sqrt, s);
            g.recip(r)
        }
        Fun::Atanh => {
            let aa = g.mul(a, a);
            let s = g.sub(one, aa);
            g.recip(s)
        }
        Fun::Abs => g.fun(Fun::Sign, a),
        Fun::Sign => g.constant(0.0),
    }
}

/// Gradient of `output` with respect to the nodes `wrt` (reverse mode): one new node per
/// partial, 0 where `output` does not depend on it.
pub fn gradient(g: &mut Graph, output: Id, wrt: &[Id]) -> Vec<Id> {
    let end = output as usize + 1;
    let mut adjoint: Vec<Option<Id>> = vec![None; end];
    adjoint[output as usize] = Some(g.constant(1.0));
    for id in (0..end).rev() {
        let Some(bar) = adjoint[id] else { continue };
        if g.as_const(bar) == Some(0.0) {
            continue;
        }
        for (operand, partial) in local_partials(g, id as Id) {
            if operand == Id::MAX {
                continue;
            }
            let contribution = g.mul(bar, partial);
            let slot = &mut adjoint[operand as usize];
            *slot = Some(match *slot {
                None => contribution,
                Some(sum) => g.add(sum, contribution),
            });
        }
    }
    wrt.iter()
        .map(|&w| match adjoint.get(w as usize).copied().flatten() {
            Some(d) => d,
            None => g.constant(0.0),
        })
        .collect()
}

/// Directional derivatives of `outputs` (forward mode): `seeds` gives the tangent of some
/// nodes (usually inputs); every other leaf has tangent 0.
pub fn directional(g: &mut Graph, seeds: &[(Id, Id)], outputs: &[Id]) -> Vec<Id> {
    let end = outputs.iter().map(|&o| o as usize + 1).max().unwrap_or(0);
    let mut tangent: Vec<Option<Id>> = vec![None; end];
    for &(node, t) in seeds {
        if (node as usize) < end && g.as_const(t) != Some(0.0) {
            tangent[node as usize] = Some(t);
        }
    }
    for id in 0..end {
        if matches!(g.op(id as Id), Op::Const(_) | Op::Input(_)) {
            continue;
        }
        let op = g.op(id as Id);
        if !op.operands().any(|a| tangent[a as usize].is_some()) {
            continue;
        }
        let mut sum: Option<Id> = None;
        for (operand, partial) in local_partials(g, id as Id) {
            if operand == Id::MAX {
                continue;
            }
            let Some(dt) = tangent[operand as usize] else {
                continue;
            };
            let term = g.mul(partial, dt);
            sum = Some(match sum {
                None => term,
                Some(s) => g.add(s, term),
            });
        }
        tangent[id] = sum.filter(|&s| g.as_const(s) != Some(0.0));
    }
    outputs
        .iter()
        .map(|&o| match tangent[o as usize] {
            Some(d) => d,
            None => g.constant(0.0),
        })
        .collect()
}

/// The Euler–Lagrange parts of `l`, a function of the graph's inputs `[t, q (n), q̇ (n), …]`:
/// the force `∂L/∂q − (∂p/∂q) q̇ − ∂p/∂t` (dissipation and generalized forces not included) and
/// the mass matrix `M = ∂p/∂q̇` (n × n, row-major), with `p = ∂L/∂q̇`. One reverse sweep gives
/// ∂L/∂q and p, one forward sweep p along the motion (q̇ on q, 1 on t), n forward sweeps M.
pub fn euler_lagrange(g: &mut Graph, l: Id, n: usize) -> (Vec<Id>, Vec<Id>) {
    let t = g.input(0);
    let q: Vec<Id> = (0..n).map(|i| g.input(1 + i)).collect();
    let v: Vec<Id> = (0..n).map(|i| g.input(1 + n + i)).collect();
    let one = g.constant(1.0);
    let wrt: Vec<Id> = q.iter().chain(&v).copied().collect();
    let grad = gradient(g, l, &wrt);
    let (dl_dq, p) = grad.split_at(n);
    let along: Vec<(Id, Id)> = std::iter::once((t, one))
        .chain(q.iter().zip(&v).map(|(&qi, &vi)| (qi, vi)))
        .collect();
    let dp = directional(g, &along, p);
    let mut mass = vec![0 as Id; n * n];
    for j in 0..n {
        let column = directional(g, &[(v[j], one)], p);
        for i in 0..n {
            mass[i * n + j] = column[i];
        }
    }
    let force = (0..n).map(|i| g.sub(dl_dq[i], dp[i])).collect();
    (force, mass)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central difference of `f` in input `k` (step 1e-5 relative: error O(h²) ≈ 1e-10 times
    /// the third derivative, so the tests compare at 1e-7).
    fn central(g: &Graph, out: Id, x: &[f64], k: usize) -> f64 {
        let h = 1e-5 * x[k].abs().max(1.0);
        let (mut xp, mut xm) = (x.to_vec(), x.to_vec());
        xp[k] += h;
        xm[k] -= h;
        (g.eval(&xp, &[out])[0] - g.eval(&xm, &[out])[0]) / (2.0 * h)
    }

    fn every_op(g: &mut Graph) -> Id {
        let (x, y) = (g.input(0), g.input(1));
        let mut acc = g.mul(x, y);
        let half = g.constant(0.5);
        let xs = g.mul(half, x); // in (0.15, 0.45) for the test points: inside every domain
        // every function defined on (0.15, 0.45) (acosh is tested on x + 2, sign has derivative 0)
        for f in Fun::ALL
            .into_iter()
            .filter(|f| !matches!(f, Fun::Acosh | Fun::Sign))
        {
            let v = g.fun(f, xs);
            let w = g.mul(v, y);
            acc = g.add(acc, w);
        }
        let two = g.constant(2.0);
        let big = g.add(x, two);
        let ach = g.fun(Fun::Acosh, big);
        let p = g.pow(x, y);
        let pf = g.powf(x, 0.3);
        let pi = g.powi(y, 7);
        let pn = g.powi(x, -5);
        let at = g.atan2(y, x);
        let d = g.div(x, y);
        let s = g.sub(d, at);
        for v in [ach, p, pf, pi, pn, s] {
            acc = g.add(acc, v);
        }
        acc
    }

    #[test]
    fn gradient_and_directional_match_central_differences() {
        let mut g = Graph::new(2);
        let out = every_op(&mut g);
        let (x, y) = (g.input(0), g.input(1));
        let grad = gradient(&mut g, out, &[x, y]);
        let one = g.constant(1.0);
        let dx = directional(&mut g, &[(x, one)], &[out])[0];
        let dy = directional(&mut g, &[(y, one)], &[out])[0];
        for point in [[0.3, 0.7], [0.9, 1.3], [0.5, 2.1]] {
            let got = g.eval(&point, &[grad[0], grad[1], dx, dy]);
            for k in 0..2 {
                let fd = central(&g, out, &point, k);
                let tol = 1e-7 * fd.abs().max(1.0);
                assert!(
                    (got[k] - fd).abs() < tol,
                    "reverse ∂/∂x{k} {} vs {fd}",
                    got[k]
                );
                assert!(
                    (got[2 + k] - fd).abs() < tol,
                    "forward ∂/∂x{k} {} vs {fd}",
                    got[2 + k]
                );
            }
        }
    }

    #[test]
    fn derivatives_of_polynomials_fold_to_constants() {
        // L = ½·3·v² − ½·2·x²: ∂²L/∂v² folds to the constant 3
        let mut g = Graph::new(2);
        let (x, v) = (g.input(0), g.input(1));
        let vv = g.powi(v, 2);
        let xx = g.powi(x, 2);
        let k = g.constant(1.5);
        let c = g.constant(1.0);
        let t = g.mul(k, vv);
        let u = g.mul(c, xx);
        let l = g.sub(t, u);
        let p = gradient(&mut g, l, &[v])[0];
        let one = g.constant(1.0);
        let m = directional(&mut g, &[(v, one)], &[p])[0];
        assert_eq!(g.as_const(m), Some(3.0));
        let f = gradient(&mut g, l, &[x])[0];
        assert_eq!(g.eval(&[0.25, 0.0], &[f])[0], -0.5);
    }
}
