"""JAX peer: the LNN-style equations of motion of Cranmer et al. (2020), "Lagrangian Neural Networks".

    q̈ = (∇_q̇ ∇_q̇ᵀ L)⁻¹ [∇_q L − (∇_q ∇_q̇ᵀ L) q̇]          (∂²L/∂q̇∂t = 0 for every system here)

with ``jax.hessian`` (mass matrix), ``jax.grad`` (∇_q L) and ``jax.jacobian(jax.jacobian(L, 1), 0)``
(mixed block), exactly as in the LNN reference code, except that the linear system is solved with
``jnp.linalg.solve`` instead of ``jnp.linalg.pinv`` (faster, and the mass matrices here are regular).
Everything is float64 (``jax_enable_x64``) and ``jax.jit``-compiled; L is the generic
``System.lagrangian`` of systems.py written once with ``jax.numpy``.

Measures, per system:
  compile_eom        s to lower + compile the single-state EOM
  eom_latency        µs per call, one state, after compile, each call ``block_until_ready``
  compile_vmap       s to compile ``jit(vmap(eom))`` for one chunk
  vmap_throughput    states/s of ``jit(vmap(eom))`` over 10⁴ states (in chunks where the B·n² Hessians
                     would not fit in ~0.5 GB; capped to the time box for big systems, said in the note)
  compile_rk4        s to compile the RK4 loop (``lax.fori_loop``, the EOM inlined, step count traced)
  rk4_10k            s for 10⁴ RK4 steps, dt = 1e-3, excluding compile (capped + extrapolated for big systems)
  qdd_max_rel_err    max over states of ‖q̈_jax − q̈_hand‖∞ / ‖q̈_hand‖∞ vs the hand-derived numpy EOM

Usage: python jax_peer.py [--xla-single-thread] [system ...]      (default: all systems)
  --xla-single-thread  XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
                       results in results/jax-1thread.json (peer "jax-1thread")
"""
from __future__ import annotations

import statistics
import sys
import time
from types import SimpleNamespace

import os

import numpy as np

import systems as S

# --xla-single-thread: XLA's CPU backend on one thread (no Eigen intra-op pool). On a loaded 2-core
# machine the default pool's threads wait on descheduled siblings, which made some single calls
# ~100x slower (chain256: ~2 ms single-threaded vs ~200 ms pooled); results go to jax-1thread.json.
SINGLE_THREAD = "--xla-single-thread" in sys.argv
if SINGLE_THREAD:
    sys.argv.remove("--xla-single-thread")
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
                               " intra_op_parallelism_threads=1").strip()

try:
    import jax
    import jax.numpy as jnp
    from jax import lax
except ImportError:  # pragma: no cover
    print("jax is not installed: run bench/peers/setup.sh (skipping the JAX peer)")
    sys.exit(0)

jax.config.update("jax_enable_x64", True)

OPS = SimpleNamespace(cos=jnp.cos, sqrt=jnp.sqrt, sum=jnp.sum, index=jnp.asarray)
MEM_BUDGET = 512 << 20   # bytes of B·n² Hessian temporaries per vmap chunk


def lnn_eom(L):
    """The LNN equations of motion for a Lagrangian L(q, q̇)."""
    def eom(q, qd):
        M = jax.hessian(L, 1)(q, qd)                         # ∂²L/∂q̇∂q̇
        dLdq = jax.grad(L, 0)(q, qd)                         # ∂L/∂q
        C = jax.jacobian(jax.jacobian(L, 1), 0)(q, qd)       # ∂²L/∂q̇∂q   (C[i, j] = ∂²L/∂q̇ᵢ∂qⱼ)
        return jnp.linalg.solve(M, dLdq - C @ qd)
    return eom


def rk4_loop(eom, dt: float):
    """RK4 on (q, q̇); `steps` is a traced argument, so one compiled loop serves every step count."""
    h2, h6 = dt / 2, dt / 6

    def body(_, state):
        q, v = state
        a1 = eom(q, v)
        q2, v2 = q + h2 * v, v + h2 * a1
        a2 = eom(q2, v2)
        q3, v3 = q + h2 * v2, v + h2 * a2
        a3 = eom(q3, v3)
        q4, v4 = q + dt * v3, v + dt * a3
        a4 = eom(q4, v4)
        return (q + h6 * (v + 2 * v2 + 2 * v3 + v4), v + h6 * (a1 + 2 * a2 + 2 * a3 + a4))

    def run(q, v, steps):
        return lax.fori_loop(0, steps, body, (q, v))
    return run


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def bench_system(rep: S.Report, s: S.System):
    L = lambda q, qd: s.lagrangian(q, qd, OPS)  # noqa: E731
    eom = lnn_eom(L)
    Q, QD = S.states(s, S.BATCH)
    q, qd = jnp.asarray(Q[0]), jnp.asarray(QD[0])

    # --- single state ---------------------------------------------------------------------
    f1, tc = timed(lambda: jax.jit(eom).lower(q, qd).compile())
    rep.add(s.name, "compile_eom", tc, "s", "jit(eom).lower().compile()")
    t = S.time_per_call(lambda: f1(q, qd).block_until_ready())
    lat = t["median"]
    rep.add(s.name, "eom_latency", lat * 1e6, "us", S.spread(t))

    # --- batched: jit(vmap(eom)) ------------------------------------------------------------
    cmax = int(min(S.BATCH, max(1, MEM_BUDGET // (8 * 6 * s.n * s.n))))
    chunk = -(-S.BATCH // -(-S.BATCH // cmax))          # equal chunks of at most cmax
    Qc, QDc = jnp.asarray(Q[:chunk]), jnp.asarray(QD[:chunk])
    fb, tc = timed(lambda: jax.jit(jax.vmap(eom)).lower(Qc, QDc).compile())
    rep.add(s.name, "compile_vmap", tc, "s", f"jit(vmap(eom)) for chunks of {chunk}")
    _, tchunk = timed(lambda: fb(Qc, QDc).block_until_ready())
    nchunks_full = -(-S.BATCH // chunk)
    nchunks = nchunks_full
    if tchunk * nchunks_full > S.BUDGET_S / 3:
        nchunks = max(1, int(S.BUDGET_S / 3 / tchunk))
    # keep whole chunks only (one compiled shape), pad the tail chunk from the head of the batch
    Qd = [jnp.asarray(Q[i * chunk:(i + 1) * chunk]) for i in range(nchunks)]
    QDd = [jnp.asarray(QD[i * chunk:(i + 1) * chunk]) for i in range(nchunks)]
    Qd = [x if x.shape[0] == chunk else Qc for x in Qd]
    QDd = [x if x.shape[0] == chunk else QDc for x in QDd]
    nstates = chunk * nchunks

    def run_batch():
        outs = [fb(a, b) for a, b in zip(Qd, QDd)]
        for o in outs:
            o.block_until_ready()

    reps = 5 if tchunk * nchunks < 1 else (3 if tchunk * nchunks < 4 else 1)
    runs = [timed(run_batch)[1] for _ in range(reps)]
    note = f"jit(vmap) over {nstates} states"
    note += "" if nchunks == 1 else f" in {nchunks} chunks of {chunk}"
    if nstates < S.BATCH:
        note += f" (capped from {S.BATCH}: time box {S.BUDGET_S:g}/3 s)"
    note += f"; median of {reps}"
    rep.add(s.name, "vmap_throughput", nstates / statistics.median(runs), "states/s", note)

    # --- accuracy vs hand-derived numpy ------------------------------------------------------
    nerr = min(S.ERR_STATES, chunk * max(1, min(nchunks, -(-S.ERR_STATES // chunk))))
    got = np.concatenate([np.asarray(fb(Qd[i], QDd[i])) for i in range(-(-nerr // chunk))])[:nerr]
    ref = S.reference(s, Q[:nerr], QD[:nerr])
    rep.add(s.name, "qdd_max_rel_err", S.max_rel_err(got, ref), "", f"{nerr} states vs {S.reference_name(s)}")

    # --- RK4, jitted fori_loop --------------------------------------------------------------
    fr, tc = timed(lambda: jax.jit(rk4_loop(eom, S.RK4_DT)).lower(q, qd, 0).compile())
    rep.add(s.name, "compile_rk4", tc, "s", "jit(fori_loop) with the step count a traced argument")

    def run_rk4(n=S.RK4_STEPS):
        a, b = fr(q, qd, n)
        b.block_until_ready()
        return a, b
    # calibrate on a few steps, then cap the step count to the time box
    ncal = 10
    _, tcal = timed(lambda: run_rk4(ncal))
    steps = S.RK4_STEPS
    if tcal * S.RK4_STEPS / ncal > S.BUDGET_S:
        steps = max(ncal, int(ncal * S.BUDGET_S / tcal))
    _, t1 = timed(lambda: run_rk4(steps))
    reps = 5 if t1 < 0.5 else (3 if t1 < 3 else 1)
    runs = [t1] if reps == 1 else [timed(lambda: run_rk4(steps))[1] for _ in range(reps)]
    note = f"jitted lax.fori_loop, dt={S.RK4_DT}, compile excluded, median of {len(runs)}"
    if steps != S.RK4_STEPS:
        note += f"; capped: ran {steps} steps (time box {S.BUDGET_S:g} s), extrapolated x{S.RK4_STEPS / steps:.3g}"
    rep.add(s.name, "rk4_10k", statistics.median(runs) * S.RK4_STEPS / steps, "s", note)
    qf, vf = run_rk4()
    if not (np.all(np.isfinite(np.asarray(qf))) and np.all(np.isfinite(np.asarray(vf)))):
        rep.add(s.name, "rk4_warning", "non-finite final state", "", "")


def main() -> int:
    import jaxlib
    rep = S.Report("jax-1thread" if SINGLE_THREAD else "jax", {"jax": jax.__version__, "jaxlib": jaxlib.__version__, "numpy": np.__version__,
                           "backend": jax.default_backend(), "x64": bool(jax.config.jax_enable_x64)})
    for s in S.select(sys.argv[1:]):
        t0 = time.perf_counter()
        try:
            bench_system(rep, s)
        except Exception as e:  # noqa: BLE001  (e.g. out of memory for a huge system)
            rep.add(s.name, "error", f"{type(e).__name__}: {str(e)[:200]}", "", "skipped")
        rep.add(s.name, "wall", time.perf_counter() - t0, "s", "whole system, compile included")
    rep.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
