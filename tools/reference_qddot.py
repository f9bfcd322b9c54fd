#!/usr/bin/env python3
"""High-precision reference accelerations for the benchmark's error column.

Derives the Euler–Lagrange equations symbolically with SymPy (independently of the Rust
engine), solves them for q̈, and evaluates at fixed states with 40 significant digits. For the
16-coordinate chain and N-body systems, M = ∂²L/∂q̇² and the force are derived symbolically and
M q̈ = force is solved numerically at each state in 50-digit arithmetic (mpmath) instead of
symbolically. Writes bench/reference/qddot.json. Run: python3 tools/reference_qddot.py
"""
import json
import math
import pathlib

import mpmath
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


def system_numeric(name, n, build, state_list):
    """Like `system`, for larger n: M and the force symbolically, the solve per state in
    50-digit arithmetic (the q̈ agree with `system` to 40 digits where both run)."""
    qs = sp.symbols(f"q0:{n}")
    qds = sp.symbols(f"v0:{n}")
    L = build(qs, qds)
    p = [sp.diff(L, v) for v in qds]
    mass = [[sp.diff(p[i], qds[j]) for j in range(n)] for i in range(n)]
    force = [sp.diff(L, qs[i]) - sum(sp.diff(p[i], qs[j]) * qds[j] for j in range(n))
             for i in range(n)]
    args = list(qs) + list(qds)
    f_mass = sp.lambdify(args, mass, "mpmath")
    f_force = sp.lambdify(args, force, "mpmath")
    mpmath.mp.dps = 50
    rows = []
    for q, qd in state_list:
        # the f64 state exactly (repr round-trips), as 50-digit numbers
        x = [mpmath.mpf(repr(v)) for v in list(q) + list(qd)]
        acc = mpmath.lu_solve(mpmath.matrix(f_mass(*x)), mpmath.matrix(f_force(*x)))
        rows.append({"q": q, "q_dot": qd,
                     "q_ddot": [mpmath.nstr(acc[i], 40, strip_zeros=False) for i in range(n)]})
    return name, {"lagrangian": str(L), "states": rows}


def chain(n):
    """Fixed-end chain, m = k = 1: L = ½ Σ ẋᵢ² − ½ Σ_{i=0}^{n} (x_{i+1} − x_i)², x_0 = x_{n+1} = 0."""
    def build(q, v):
        x = [0] + list(q) + [0]
        return (R(1, 2) * sum(vi ** 2 for vi in v)
                - R(1, 2) * sum((x[i + 1] - x[i]) ** 2 for i in range(n + 1)))
    return build


NBODY_PLANET = R(1, 1000)
NBODY_EPS2 = R(1, 10000)  # ε = 0.01


def nbody(b):
    """2-D softened gravity, G = 1, masses [1, 10⁻³, ...]: coordinates x1 y1 x2 y2 ...
    L = Σ ½ mᵢ |ṙᵢ|² + Σ_{i<j} mᵢ mⱼ / sqrt(|rⱼ − rᵢ|² + ε²)."""
    masses = [1] + [NBODY_PLANET] * (b - 1)

    def build(q, v):
        kinetic = sum(R(1, 2) * masses[i] * (v[2 * i] ** 2 + v[2 * i + 1] ** 2) for i in range(b))
        pairs = sum(masses[i] * masses[j]
                    / sp.sqrt((q[2 * j] - q[2 * i]) ** 2 + (q[2 * j + 1] - q[2 * i + 1]) ** 2
                              + NBODY_EPS2)
                    for i in range(b) for j in range(i + 1, b))
        return kinetic + pairs
    return build


def nbody_states(b, count=16):
    """The N-body benchmark states, as `nbody_base_state` and `nbody_states` in
    crates/lagrange-bench/src/cases.rs write them: a central body and b − 1 planets on circular
    orbits of radii 1..4 at the golden angle, each component perturbed by 0.01 × `states`."""
    golden = math.pi * (3.0 - math.sqrt(5.0))
    q0, v0 = [0.0] * (2 * b), [0.0] * (2 * b)
    enclosed, px, py = 1.0, 0.0, 0.0
    for k in range(1, b):
        r = 1.0 + 3.0 * (k - 1) / (b - 2) if b > 2 else 1.0
        s, c = math.sin(k * golden), math.cos(k * golden)
        speed = math.sqrt(enclosed / r)
        q0[2 * k], q0[2 * k + 1] = r * c, r * s
        v0[2 * k], v0[2 * k + 1] = -speed * s, speed * c
        px += 1e-3 * v0[2 * k]
        py += 1e-3 * v0[2 * k + 1]
        enclosed += 1e-3
    v0[0], v0[1] = -px / 1.0, -py / 1.0
    return [([a + 0.01 * d for a, d in zip(q0, dq)], [a + 0.01 * d for a, d in zip(v0, dv)])
            for dq, dv in states(2 * b, count)]


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
    # fixed-end chain of 16 masses, m = k = 1 (the structured benchmark case)
    system_numeric("chain16", 16, chain(16), states(16)),
    # 8-body softened gravity (a central mass and 7 planets), G = 1, ε = 0.01
    system_numeric("nbody8", 16, nbody(8), nbody_states(8)),
])

out = pathlib.Path(__file__).resolve().parent.parent / "bench" / "reference" / "qddot.json"
out.write_text(json.dumps(systems, indent=1) + "\n")
print(f"wrote {out}")
