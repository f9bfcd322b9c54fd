"""numpy peer: the hand-derived, vectorized EOMs of systems.py (the baseline every peer is checked against).

Measures, per system:
  eom_latency      µs per call of hand(q, q̇) on one state (1-D float64 arrays), median of rounds
  batch_throughput states/s of hand_batch over 10⁴ states at once (arrays (10⁴, n))
  rk4_10k          s for 10⁴ RK4 steps (dt = 1e-3) with a Python loop around hand(q, q̇)

Usage: python numpy_peer.py [system ...]      (default: all systems)
"""
from __future__ import annotations

import sys
import time

import numpy as np

import systems as S


def main() -> int:
    rep = S.Report("numpy", {"numpy": np.__version__})
    for s in S.select(sys.argv[1:]):
        Q, QD = S.states(s, S.BATCH)
        q, qd = Q[0].copy(), QD[0].copy()

        t = S.time_per_call(lambda: s.hand(q, qd))
        rep.add(s.name, "eom_latency", t["median"] * 1e6, "us", spread(t))

        # chunks keep the O(B·N²) n-body temporaries within ~8 MB (cache-friendly)
        chunk = min(S.BATCH, max(1, (8 << 20) // (8 * 3 * s.n * (s.n if s.family == "nbody" else 1))))

        def batch():
            for i in range(0, S.BATCH, chunk):
                s.hand_batch(Q[i:i + chunk], QD[i:i + chunk])

        tb = S.time_per_call(batch, min_time=0.2, repeats=5)
        how = "one vectorized call" if chunk >= S.BATCH else f"vectorized calls of {chunk}"
        rep.add(s.name, "batch_throughput", S.BATCH / tb["median"], "states/s",
                f"{S.BATCH} states in {how}; " + spread(tb))

        est = 4 * S.RK4_STEPS * t["median"] * 1.5
        steps = S.RK4_STEPS if est < S.BUDGET_S else max(100, int(S.RK4_STEPS * S.BUDGET_S / est))
        runs = []
        for _ in range(3 if est < 5 else 1):
            t0 = time.perf_counter()
            S.rk4_numpy(s.hand, q, qd, steps, S.RK4_DT)
            runs.append(time.perf_counter() - t0)
        val = float(np.median(runs)) * S.RK4_STEPS / steps
        note = f"Python loop, dt={S.RK4_DT}, median of {len(runs)}"
        if steps != S.RK4_STEPS:
            note += f"; capped: ran {steps} steps, extrapolated to {S.RK4_STEPS}"
        rep.add(s.name, "rk4_10k", val, "s", note)
    rep.write()
    return 0


def spread(t):
    return S.spread(t)


if __name__ == "__main__":
    sys.exit(main())
