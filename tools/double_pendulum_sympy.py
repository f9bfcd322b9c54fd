#!/usr/bin/env python3
"""Independent SymPy derivation of the double pendulum's equations of motion.

The test oracle of the Python bindings (crates/lagrange-py/tests/test_sympy_double_pendulum.py):
nothing here calls lagrange. The Lagrangian is the built-in ``double-pendulum``'s, copied from
crates/lagrange/src/systems/double_pendulum.rs (and printed by ``lagrange systems``), with the
built-in's coordinate names (theta1, theta2; angles from the downward vertical) and parameter
names (m1, m2, l1, l2, g):

    L = ½(m1+m2) l1² θ̇1² + ½ m2 l2² θ̇2² + m2 l1 l2 θ̇1 θ̇2 cos(θ1−θ2)
        + (m1+m2) g l1 cos θ1 + m2 g l2 cos θ2

The Euler–Lagrange equations d/dt ∂L/∂q̇ − ∂L/∂q = 0 are formed symbolically, with
d/dt ∂L/∂q̇ᵢ = Σⱼ ∂²L/∂q̇ᵢ∂qⱼ q̇ⱼ + ∂²L/∂q̇ᵢ∂q̇ⱼ q̈ⱼ (L has no explicit t), solved for q̈ with
``sympy.solve`` and simplified; the solution is lambdified twice: for NumPy (float64, vectorised
over a batch) and for mpmath (any precision; the tests use 30 digits, so that the oracle's own
rounding is far below the 1e-12 they check).

    accelerations(params, q, q_dot, dps=None) -> np.ndarray   q̈, shape (2,) or (B, 2)
    mass_matrix(params, q, q_dot)  -> (2, 2) or (B, 2, 2)       ∂²L/∂q̇²
    momenta(params, q, q_dot)      -> (2,) or (B, 2)            ∂L/∂q̇
    energy(params, q, q_dot)       -> float or (B,)             q̇·∂L/∂q̇ − L

``params`` is a dict with any of m1, m2, l1, l2, g (missing ones take the built-in's defaults
1, 1, 1, 1, 9.81). Run ``python3 tools/double_pendulum_sympy.py`` to print the derivation and a
few values.
"""
from __future__ import annotations

import functools

import mpmath
import numpy as np
import sympy as sp

COORDINATES = ("theta1", "theta2")
PARAMETERS = ("m1", "m2", "l1", "l2", "g")
DEFAULTS = {"m1": 1.0, "m2": 1.0, "l1": 1.0, "l2": 1.0, "g": 9.81}

m1, m2, l1, l2, g = sp.symbols("m1 m2 l1 l2 g", positive=True)
th1, th2 = sp.symbols("theta1 theta2", real=True)
w1, w2 = sp.symbols("theta1_dot theta2_dot", real=True)
Q = (th1, th2)
QD = (w1, w2)
P = (m1, m2, l1, l2, g)

LAGRANGIAN = (sp.Rational(1, 2) * (m1 + m2) * l1**2 * w1**2
              + sp.Rational(1, 2) * m2 * l2**2 * w2**2
              + m2 * l1 * l2 * w1 * w2 * sp.cos(th1 - th2)
              + (m1 + m2) * g * l1 * sp.cos(th1)
              + m2 * g * l2 * sp.cos(th2))


@functools.lru_cache(maxsize=None)
def derivation():
    """Symbolic (q̈, M, p, E): q̈ solved from the Euler–Lagrange equations."""
    L = LAGRANGIAN
    n = len(Q)
    a = sp.symbols(f"a0:{n}")
    p = [sp.diff(L, QD[i]) for i in range(n)]
    eqs = []
    for i in range(n):
        dpdt = sum(sp.diff(p[i], Q[j]) * QD[j] + sp.diff(p[i], QD[j]) * a[j] for j in range(n))
        eqs.append(sp.Eq(dpdt - sp.diff(L, Q[i]), 0))
    sol = sp.solve(eqs, a, dict=True)
    assert len(sol) == 1, "the Euler–Lagrange equations are linear in q̈ with a regular M"
    qdd = [sp.simplify(sol[0][a[i]]) for i in range(n)]
    M = sp.Matrix(n, n, lambda i, j: sp.diff(L, QD[i], QD[j]))
    E = sp.expand(sum(QD[i] * p[i] for i in range(n)) - L)
    return qdd, M, p, E


@functools.lru_cache(maxsize=None)
def _lambdified(what: str, module: str):
    qdd, M, p, E = derivation()
    expr = {"qdd": qdd, "M": M.tolist(), "p": p, "E": E}[what]
    return sp.lambdify((*P, *Q, *QD), expr, modules=module)


def _args(params, q, q_dot):
    unknown = set(params) - set(PARAMETERS)
    if unknown:
        raise ValueError(f"unknown parameters {sorted(unknown)} (known: {PARAMETERS})")
    pv = [float(params.get(k, DEFAULTS[k])) for k in PARAMETERS]
    q = np.asarray(q, dtype=np.float64)
    q_dot = np.asarray(q_dot, dtype=np.float64)
    if q.shape != q_dot.shape or q.shape[-1] != 2 or q.ndim > 2:
        raise ValueError(f"q and q_dot must both have shape (2,) or (B, 2), got {q.shape} and {q_dot.shape}")
    return pv, q, q_dot


def _broadcast(value, shape):
    return np.broadcast_to(np.asarray(value, dtype=np.float64), shape)


def accelerations(params: dict, q, q_dot, dps: int | None = None) -> np.ndarray:
    """q̈ of the double pendulum, shape (2,) for one state or (B, 2) for a batch.

    With ``dps`` (decimal digits), each state is evaluated in mpmath at that precision from the
    exact float64 inputs and rounded once to float64 at the end.
    """
    pv, q, q_dot = _args(params, q, q_dot)
    if dps is None:
        f = _lambdified("qdd", "numpy")
        out = f(*pv, q[..., 0], q[..., 1], q_dot[..., 0], q_dot[..., 1])
        return np.stack([_broadcast(v, q.shape[:-1]) for v in out], axis=-1)
    f = _lambdified("qdd", "mpmath")
    flat_q = q.reshape(-1, 2)
    flat_qd = q_dot.reshape(-1, 2)
    out = np.empty_like(flat_q)
    with mpmath.workdps(dps):
        mp_params = [mpmath.mpf(v) for v in pv]
        for k in range(flat_q.shape[0]):
            vals = f(*mp_params, *(mpmath.mpf(float(v)) for v in flat_q[k]),
                     *(mpmath.mpf(float(v)) for v in flat_qd[k]))
            out[k] = [float(v) for v in vals]
    return out.reshape(q.shape)


def mass_matrix(params: dict, q, q_dot) -> np.ndarray:
    """M = ∂²L/∂q̇², shape (2, 2) or (B, 2, 2)."""
    pv, q, q_dot = _args(params, q, q_dot)
    rows = _lambdified("M", "numpy")(*pv, q[..., 0], q[..., 1], q_dot[..., 0], q_dot[..., 1])
    batch = q.shape[:-1]
    return np.stack([np.stack([_broadcast(v, batch) for v in row], axis=-1) for row in rows], axis=-2)


def momenta(params: dict, q, q_dot) -> np.ndarray:
    """p = ∂L/∂q̇, shape (2,) or (B, 2)."""
    pv, q, q_dot = _args(params, q, q_dot)
    out = _lambdified("p", "numpy")(*pv, q[..., 0], q[..., 1], q_dot[..., 0], q_dot[..., 1])
    return np.stack([_broadcast(v, q.shape[:-1]) for v in out], axis=-1)


def energy(params: dict, q, q_dot):
    """The Jacobi integral q̇·∂L/∂q̇ − L: a float for one state, shape (B,) for a batch."""
    pv, q, q_dot = _args(params, q, q_dot)
    e = _lambdified("E", "numpy")(*pv, q[..., 0], q[..., 1], q_dot[..., 0], q_dot[..., 1])
    return float(e) if q.ndim == 1 else _broadcast(e, q.shape[:-1]).copy()


def main() -> None:
    qdd, M, p, E = derivation()
    print("L =", LAGRANGIAN)
    for name, e in zip(("theta1_ddot", "theta2_ddot"), qdd):
        print(f"{name} =", e)
    print("M =", M.tolist())
    print("E =", E)
    print()
    params = dict(DEFAULTS)
    states = [([0.0, 0.0], [0.0, 0.0]), ([2.0, 2.5], [0.0, 0.0]), ([0.3, -0.2], [0.5, 0.0]),
              ([1.0, -0.5], [0.7, -1.3])]
    print("parameters:", params)
    for q, qd in states:
        a = accelerations(params, q, qd)
        a30 = accelerations(params, q, qd, dps=30)
        print(f"q={q} q_dot={qd}  q_ddot={a.tolist()}  (30 digits: {a30.tolist()})  "
              f"E={energy(params, q, qd):.17g}")
    params = {"m1": 2.0}
    q, qd = [0.3, -0.2], [0.5, 0.0]
    print(f"m1=2: q={q} q_dot={qd}  q_ddot={accelerations(params, q, qd, dps=30).tolist()}  "
          f"(lagrange eom double-pendulum --state theta1=0.3,theta2=-0.2,theta1_dot=0.5 --param m1=2)")


if __name__ == "__main__":
    main()
