"""PyTorch peer: the LNN-style EOM with ``torch.func`` (float64), eager mode.

    q̈ = (∇_q̇ ∇_q̇ᵀ L)⁻¹ [∇_q L − (∇_q ∇_q̇ᵀ L) q̇]

with ``torch.func.hessian`` (mass matrix), ``torch.func.grad`` (∇_q L) and
``torch.func.jacrev(jacrev(L, 1), 0)`` (mixed block), ``torch.linalg.solve``; L is the generic
``System.lagrangian`` of systems.py written once, here with torch ops.

Measures, per system:
  eom_latency       µs per call, one state (eager; no torch.compile), M by torch.func.hessian
  eom_latency_jacrev2  the same with M by jacrev(jacrev(L, 1), 1): torch.func.hessian is
                    forward-over-reverse, whose forward mode runs through Python decompositions
                    (torch._refs) and is several times slower here; vmap and RK4 use the faster one
  vmap_throughput   states/s of ``torch.func.vmap(eom)`` over up to 10⁴ states (capped to the time box)
  rk4_10k           s for 10⁴ RK4 steps (dt = 1e-3) with a Python loop — run for a reduced step
                    count (RK4_TORCH_STEPS, default 200) and extrapolated linearly; the note says so
  qdd_max_rel_err   vs the hand-derived numpy EOM, 100 states

Skips cleanly (exit 0, a message, results/torch.json with a "skipped" record) when torch is missing:
PyPI's Linux torch wheel pulls multi-GB CUDA dependencies, so setup.sh installs it only with WITH_TORCH=1.

Usage: python torch_peer.py [system ...]      (default: all systems)
"""
from __future__ import annotations

import json
import os
import sys
import time
from types import SimpleNamespace

import numpy as np

import systems as S

RK4_TORCH_STEPS = int(os.environ.get("RK4_TORCH_STEPS", "200"))

import warnings

warnings.filterwarnings("ignore", category=FutureWarning)   # torch.jit.script deprecation at import

try:
    import torch
    from torch.func import grad, hessian, jacrev, vmap
except ImportError as e:
    msg = (f"torch is not installed ({e}): skipping the PyTorch peer. "
           "Install it with: WITH_TORCH=1 bash bench/peers/setup.sh (multi-GB CUDA wheels from PyPI)")
    print(msg)
    os.makedirs(S.RESULTS, exist_ok=True)
    out = os.path.join(S.RESULTS, "torch.json")
    if not os.path.exists(out) or os.environ.get("TORCH_OVERWRITE_SKIP") == "1":
        with open(out, "w") as fh:
            json.dump([{"peer": "torch", "system": "*", "metric": "skipped", "value": "torch not installed",
                        "unit": "", "note": msg}], fh, indent=1)
            fh.write("\n")
    sys.exit(0)

torch.set_default_dtype(torch.float64)
OPS = SimpleNamespace(cos=torch.cos, sqrt=torch.sqrt, sum=torch.sum, index=lambda a: torch.as_tensor(a))


def lnn_eom(L, mass="hessian"):
    """LNN EOM; the mass matrix by torch.func.hessian (forward-over-reverse) or jacrev(jacrev)."""
    Mfun = hessian(L, 1) if mass == "hessian" else jacrev(jacrev(L, 1), 1)

    def eom(q, qd):
        M = Mfun(q, qd)
        dLdq = grad(L, 0)(q, qd)
        C = jacrev(jacrev(L, 1), 0)(q, qd)
        return torch.linalg.solve(M, dLdq - C @ qd)
    return eom


def bench_system(rep: S.Report, s: S.System):
    L = lambda q, qd: s.lagrangian(q, qd, OPS)  # noqa: E731
    Q, QD = S.states(s, S.BATCH)
    Qt, QDt = torch.from_numpy(Q), torch.from_numpy(QD)
    q, qd = Qt[0].clone(), QDt[0].clone()

    eom_h, eom_r = lnn_eom(L, "hessian"), lnn_eom(L, "jacrev")
    th = S.time_per_call(lambda: eom_h(q, qd))
    rep.add(s.name, "eom_latency", th["median"] * 1e6, "us",
            "eager, M by torch.func.hessian (jacfwd∘jacrev); " + S.spread(th))
    tr = S.time_per_call(lambda: eom_r(q, qd))
    rep.add(s.name, "eom_latency_jacrev2", tr["median"] * 1e6, "us",
            "eager, M by torch.func.jacrev∘jacrev; " + S.spread(tr))
    eom, which = (eom_h, "hessian") if th["median"] <= tr["median"] else (eom_r, "jacrev∘jacrev")
    lat = min(th["median"], tr["median"])

    veom = vmap(eom)
    chunk = int(min(S.BATCH, max(1, (512 << 20) // (8 * 6 * s.n * s.n))))
    t0 = time.perf_counter()
    got = veom(Qt[:min(chunk, S.ERR_STATES)], QDt[:min(chunk, S.ERR_STATES)])
    tfirst = time.perf_counter() - t0
    nerr = got.shape[0]
    ref = S.reference(s, Q[:nerr], QD[:nerr])
    rep.add(s.name, "qdd_max_rel_err", S.max_rel_err(got.numpy(), ref), "", f"{nerr} states vs {S.reference_name(s)}")

    try:
        per_state = tfirst / nerr
        nstates = S.BATCH if per_state * S.BATCH < S.BUDGET_S / 3 else max(min(chunk, nerr),
                                                                           int(S.BUDGET_S / 3 / per_state))
        nstates = min(nstates, S.BATCH)
        t0 = time.perf_counter()
        for i in range(0, nstates, chunk):
            veom(Qt[i:min(i + chunk, nstates)], QDt[i:min(i + chunk, nstates)])
        tv = time.perf_counter() - t0
        note = f"torch.func.vmap over {nstates} states" + (f" in chunks of {chunk}" if chunk < nstates else "")
        if nstates < S.BATCH:
            note += f" (capped from {S.BATCH}: time box)"
        rep.add(s.name, "vmap_throughput", nstates / tv, "states/s", note + f"; M by {which} (the faster)")
    except RuntimeError as e:   # e.g. vmap of the n=1024 Hessians asks for tens of GB
        rep.add(s.name, "vmap_throughput", "skipped", "states/s", f"{type(e).__name__}: {str(e)[:160]}")

    steps = min(S.RK4_STEPS, RK4_TORCH_STEPS)
    if 4 * steps * lat > S.BUDGET_S:
        steps = max(1, int(S.BUDGET_S / (4 * lat)))
    t0 = time.perf_counter()
    S.rk4_numpy(eom, q, qd, steps, S.RK4_DT)
    tr = time.perf_counter() - t0
    rep.add(s.name, "rk4_10k", tr * S.RK4_STEPS / steps, "s",
            f"Python loop, M by {which} (the faster), dt={S.RK4_DT}: ran {steps} steps, "
            f"extrapolated x{S.RK4_STEPS / steps:.3g}")


def main() -> int:
    rep = S.Report("torch", {"torch": torch.__version__, "numpy": np.__version__,
                             "threads": torch.get_num_threads()})
    for s in S.select(sys.argv[1:]):
        t0 = time.perf_counter()
        try:
            bench_system(rep, s)
        except Exception as e:  # noqa: BLE001
            rep.add(s.name, "error", f"{type(e).__name__}: {str(e)[:200]}", "", "skipped")
        rep.add(s.name, "wall", time.perf_counter() - t0, "s", "whole system")
    rep.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
