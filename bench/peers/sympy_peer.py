"""SymPy peer: ``sympy.physics.mechanics.LagrangesMethod`` + ``lambdify`` (numpy backend).

What a physicist writes: the Lagrangian in dynamicsymbols, ``LagrangesMethod(L, q)``,
``form_lagranges_equations()``, ``rhs()`` (SymPy solves M(q, q̇) [q̇; q̈] = F symbolically, by LU),
then the q̈ half of rhs() is lambdified (numpy module) into f(q, q̇) -> [q̈₁, …, q̈ₙ].

Measures, per system:
  setup_total        s of symbolic set-up: form_lagranges_equations + rhs() + lambdify
                     (the parts are in setup_eqs, setup_rhs, setup_lambdify); time-boxed to
                     SYMPY_SETUP_LIMIT_S (60 s): past it the system is "skipped: set-up > 60 s"
                     and the larger sizes of the same family are skipped too
  eom_latency        µs per call of f(q, q̇) on one state (1-D numpy arrays; returns a list of n floats)
  batch_throughput   states/s of the *same* lambdified f called once on arrays of shape (n, 10⁴)
                     (vectorized lambdify: numpy broadcasting; constant entries are broadcast after)
  rk4_10k            s for 10⁴ RK4 steps (dt = 1e-3), Python loop around np.asarray(f(q, q̇))
  qdd_max_rel_err    vs the hand-derived numpy EOM, 100 states

Usage: python sympy_peer.py [system ...]      (default: all systems)
"""
from __future__ import annotations

import os
import signal
import statistics
import sys
import time

import numpy as np

import systems as S

try:
    import sympy as sp
    from sympy.physics.mechanics import LagrangesMethod, dynamicsymbols
except ImportError:  # pragma: no cover
    print("sympy is not installed: run bench/peers/setup.sh (skipping the SymPy peer)")
    sys.exit(0)

SETUP_LIMIT_S = float(os.environ.get("SYMPY_SETUP_LIMIT_S", "60"))


class SetupTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise SetupTimeout()


def symbolic_setup(s: S.System, parts: dict):
    """LagrangesMethod -> rhs() -> lambdify; fills `parts` with the stage times as it goes."""
    n = s.n
    t = dynamicsymbols._t
    qs = dynamicsymbols(f"q0:{n}")
    qds = [sp.diff(x, t) for x in qs]
    L = s.sympy_lagrangian(qs, qds)

    t0 = time.perf_counter()
    lm = LagrangesMethod(L, qs)
    lm.form_lagranges_equations()
    parts["setup_eqs"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    rhs = lm.rhs()                      # [q̇; q̈], 2n × 1
    parts["setup_rhs"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    X = sp.symbols(f"x0:{n}")
    V = sp.symbols(f"v0:{n}")
    sub = {**dict(zip(qds, V)), **dict(zip(qs, X))}     # Derivative(q(t), t) nodes first (top-down)
    exprs = [rhs[n + i].xreplace(sub) for i in range(n)]
    f = sp.lambdify([X, V], exprs, modules="numpy")
    parts["setup_lambdify"] = time.perf_counter() - t0
    return f


def bench_system(rep: S.Report, s: S.System) -> bool:
    """Returns False when the set-up timed out (so larger sizes of the family are skipped)."""
    parts: dict = {}
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, SETUP_LIMIT_S)
    t0 = time.perf_counter()
    try:
        f = symbolic_setup(s, parts)
    except SetupTimeout:
        stage = next((n for n in ("setup_eqs", "setup_rhs", "setup_lambdify") if n not in parts), "?")
        where = {"setup_eqs": "form_lagranges_equations", "setup_rhs": "rhs()",
                 "setup_lambdify": "lambdify"}.get(stage, stage)
        done = ", ".join(f"{k} {v:.1f} s" for k, v in parts.items())
        rep.add(s.name, "setup_total", "skipped", "s",
                f"skipped: set-up > {SETUP_LIMIT_S:g} s (interrupted in {where}"
                + (f"; done: {done}" if done else "") + ")")
        return False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    total = time.perf_counter() - t0
    rep.add(s.name, "setup_total", total, "s",
            "LagrangesMethod + form_lagranges_equations + rhs() + lambdify")
    for k, v in parts.items():
        rep.add(s.name, k, v, "s", "")

    Q, QD = S.states(s, S.BATCH)
    q, qd = Q[0].copy(), QD[0].copy()

    tl = S.time_per_call(lambda: f(q, qd))
    rep.add(s.name, "eom_latency", tl["median"] * 1e6, "us", "f(q, qd) -> list; " + S.spread(tl))

    QT, QDT = np.ascontiguousarray(Q.T), np.ascontiguousarray(QD.T)

    def batch():
        out = f(QT, QDT)
        return np.stack([np.broadcast_to(np.asarray(o, dtype=np.float64), (S.BATCH,)) for o in out], axis=1)

    try:
        got = batch()
        tb = S.time_per_call(batch, min_time=0.2, repeats=5)
        rep.add(s.name, "batch_throughput", S.BATCH / tb["median"], "states/s",
                f"vectorized lambdify, one call on arrays (n, {S.BATCH}); " + S.spread(tb))
        err_got = got[:S.ERR_STATES]
    except Exception as e:  # noqa: BLE001  fall back to a loop
        def loop():
            return np.array([f(Q[i], QD[i]) for i in range(S.BATCH)], dtype=np.float64)
        tb = S.time_per_call(loop, min_time=0.2, repeats=3)
        rep.add(s.name, "batch_throughput", S.BATCH / tb["median"], "states/s",
                f"Python loop over states (vectorized call failed: {type(e).__name__}); " + S.spread(tb))
        err_got = loop()[:S.ERR_STATES]
    ref = S.reference(s, Q[:S.ERR_STATES], QD[:S.ERR_STATES])
    rep.add(s.name, "qdd_max_rel_err", S.max_rel_err(err_got, ref), "", f"{S.ERR_STATES} states vs {S.reference_name(s)}")

    eom = lambda a, b: np.asarray(f(a, b), dtype=np.float64)  # noqa: E731
    est = 4 * S.RK4_STEPS * tl["median"] * 1.5
    steps = S.RK4_STEPS if est < S.BUDGET_S else max(100, int(S.RK4_STEPS * S.BUDGET_S / est))
    runs = []
    for _ in range(3 if est < 5 else 1):
        t0 = time.perf_counter()
        S.rk4_numpy(eom, q, qd, steps, S.RK4_DT)
        runs.append(time.perf_counter() - t0)
    note = f"Python loop around np.asarray(f(q, qd)), dt={S.RK4_DT}, median of {len(runs)}"
    if steps != S.RK4_STEPS:
        note += f"; capped: ran {steps} steps, extrapolated to {S.RK4_STEPS}"
    rep.add(s.name, "rk4_10k", statistics.median(runs) * S.RK4_STEPS / steps, "s", note)
    return True


def main() -> int:
    rep = S.Report("sympy", {"sympy": sp.__version__, "numpy": np.__version__})
    print(f"# symbolic set-up time box: {SETUP_LIMIT_S:g} s (SYMPY_SETUP_LIMIT_S)")
    timed_out: set[str] = set()
    for s in S.select(sys.argv[1:]):
        if s.family in timed_out:
            rep.add(s.name, "setup_total", "skipped", "s",
                    f"skipped: a smaller {s.family} already took > {SETUP_LIMIT_S:g} s to set up")
            continue
        t0 = time.perf_counter()
        if not bench_system(rep, s):
            timed_out.add(s.family)
        rep.add(s.name, "wall", time.perf_counter() - t0, "s", "whole system")
    rep.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
