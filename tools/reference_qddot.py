#!/usr/bin/env python3
"""High-precision reference accelerations for the benchmark's error column.

Derives the Euler–Lagrange equations symbolically with SymPy (independently of the Rust
engine), solves them for q̈, and evaluates at fixed states with 40 significant digits.
Writes bench/reference/qddot.json. Run: python3 tools/reference_qddot.py
"""
import json
import math
import pathlib

import sympy as sp

t = sp.Symbol("t")


def states(n, count=16):
    """Deterministic states, identical to `reference_states` in crates/lagrange-bench."""
    out = []
    for i in range(count):
        q = [0.9 * math.sin(1.3 * i + 0.7 * j + 0.1) for j in range(n)]
        qd = [0.8 * math.cos(0.9 * i + 1.1 * j) for j in range(n)]
        out.append((q, qd))
    return out


def lagrange_eom(L, qs, qds):
    """q̈ as explicit expressions from L(q, q̇) with symbols for q, q̇ (no explicit t here)."""
    n = len(qs)
    a = sp.symbols(f"a0:{n}")
    # d/dt ∂L/∂q̇ = Σ_j ∂²L/∂q̇∂q_j q̇_j + ∂²L/∂q̇∂q̇_j a_j
    eqs = []
    for i in range(n):
        p = sp.diff(L, qds[i])
        dpdt = sum(sp.diff(p, qs[j]) * qds[j] + sp.diff(p, qds[j]) * a[j] for j in range(n))
        eqs.append(sp.Eq(dpdt - sp.diff(L, qs[i]), 0))
    sol = sp.solve(eqs, a, dict=True)[0]
    return [sol[a[i]] for i in range(n)]


def system(name, n, build):
    qs = sp.symbols(f"q0:{n}")
    qds = sp.symbols(f"v0:{n}")
    L = build(qs, qds)
    acc = lagrange_eom(L, qs, qds)
    rows = []
    for q, qd in states(n):
        subs = {**{qs[i]: sp.Float(repr(q[i]), 40) for i in range(n)},
                **{qds[i]: sp.Float(repr(qd[i]), 40) for i in range(n)}}
        rows.append({"q": q, "q_dot": qd,
                     "q_ddot": [str(sp.N(e.subs(subs), 40)) for e in acc]})
    return name, {"lagrangian": str(L), "states": rows}


R = sp.Rational
g = R(981, 100)
systems = dict([
    # harmonic oscillator, m = 1, k = 1
    system("ho1", 1, lambda q, v: R(1, 2) * v[0] ** 2 - R(1, 2) * q[0] ** 2),
    # double pendulum, m1 = m2 = l1 = l2 = 1, g = 9.81
    system("dpend", 2, lambda q, v: v[0] ** 2 + R(1, 2) * v[1] ** 2
           + v[0] * v[1] * sp.cos(q[0] - q[1]) + 2 * g * sp.cos(q[0]) + g * sp.cos(q[1])),
    # charged particle, uniform B along z, symmetric gauge, m = 1, qB = 2
    system("cyclotron", 3, lambda q, v: R(1, 2) * (v[0] ** 2 + v[1] ** 2 + v[2] ** 2)
           + (q[0] * v[1] - q[1] * v[0])),
    # Kepler, m = 1, mu = 1 (states shifted away from the origin: r = (q0 + 1.5, q1))
    system("kepler", 2, lambda q, v: R(1, 2) * (v[0] ** 2 + v[1] ** 2)
           + 1 / sp.sqrt((q[0] + R(3, 2)) ** 2 + q[1] ** 2)),
    # spring pendulum, m = 1, k = 10, l0 = 1, g = 9.81, with r = q0 + 3/2 (kept away from r = 0)
    system("spring-pendulum", 2, lambda q, v: R(1, 2) * (v[0] ** 2 + (q[0] + R(3, 2)) ** 2 * v[1] ** 2)
           + (q[0] + R(3, 2)) * g * sp.cos(q[1]) - 5 * (q[0] + R(1, 2)) ** 2),
])

out = pathlib.Path(__file__).resolve().parent.parent / "bench" / "reference" / "qddot.json"
out.write_text(json.dumps(systems, indent=1) + "\n")
print(f"wrote {out}")
