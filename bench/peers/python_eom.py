#!/usr/bin/env python3
"""The Python bindings' EOM speed against JAX, in one process (issue 14).

(a) Batched q̈ of the double pendulum on 10⁵ random states held in NumPy arrays:
    ``lagrange.System.eom(q, q_dot, evaluator=...)`` for "compiled" and "auto", against
    ``jax.jit(jax.vmap(f))`` of Cranmer et al.'s LNN formulation (Lagrangian Neural Networks, 2020)

        q̈ = (∇_q̇ ∇_q̇ᵀ L)⁻¹ [∇_q L − (∇_q ∇_q̇ᵀ L) q̇]

    with the built-in's exact Lagrangian, in float64 (``jax_enable_x64``). Every timed call starts
    from the NumPy arrays and ends with a NumPy array (conversions included on both sides; JAX's
    result is ``block_until_ready`` and copied back with ``np.asarray``). After warm-up (and JAX's
    compile, reported apart), the best of N calls; the throughput ratio is lagrange ÷ JAX.
    The two q̈ are checked against each other (‖Δq̈‖∞/‖q̈‖∞ ≤ 1e-10 per state).
(b) Single-state call overhead: ``S.eom(q, q_dot)`` with (2,) NumPy arrays, the median over
    chunks of calls, in µs, next to two references measured the same way: the trivial pyo3
    getter ``S.coordinates`` and NumPy's ``np.add`` of two 2-arrays (and JAX's jitted single
    state, for context).

Results (and the machine) go to bench/python_eom.json. Without JAX the script still measures
lagrange and says that JAX was not found.

    bash bench/peers/setup.sh                                   # numpy, sympy, jax[cpu] in bench/peers/.venv
    bench/peers/.venv/bin/pip install ./crates/lagrange-py      # a release build (maturin's default for pip)
    bench/peers/.venv/bin/python bench/peers/python_eom.py      # ≈ 1 min; --quick for a smoke run

Options: --states N (default 100000), --repeats N (best of, default 15), --out FILE,
--xla-single-thread (XLA's CPU backend on one thread; lagrange's batch is timed as it is),
--inverse solve|inv|pinv (how JAX applies (∇_q̇∇_q̇ᵀL)⁻¹; default solve, the fastest; the LNN
reference code uses pinv), --quick (10⁴ states, fewer repeats).
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
PARAMS = {"m1": 1.0, "m2": 1.0, "l1": 1.0, "l2": 1.0, "g": 9.81}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--states", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--single-calls", type=int, default=200, help="chunks of the single-call timing")
    ap.add_argument("--chunk", type=int, default=200, help="calls per chunk")
    ap.add_argument("--inverse", choices=["solve", "inv", "pinv"], default="solve")
    ap.add_argument("--xla-single-thread", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "bench" / "python_eom.json"))
    args = ap.parse_args()
    if args.quick:
        args.states, args.repeats, args.single_calls, args.chunk = 10_000, 5, 50, 100
    return args


def machine_info() -> dict:
    cpu = platform.processor()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                check=False).stdout.strip() or None
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                                    capture_output=True, text=True, check=False).stdout.strip())
    except OSError:
        commit, dirty = None, None
    return {"cpu": cpu, "nproc": os.cpu_count(), "platform": platform.platform(),
            "python": sys.version.split()[0], "numpy": np.__version__,
            "loadavg_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
            "git_commit": commit, "git_dirty": dirty}


def per_call_us(fn, chunks: int, chunk: int) -> dict:
    """Median (and min) over `chunks` of the mean time of `chunk` back-to-back calls, µs."""
    for _ in range(chunk):            # warm-up
        fn()
    per = []
    for _ in range(chunks):
        t0 = time.perf_counter_ns()
        for _ in range(chunk):
            fn()
        per.append((time.perf_counter_ns() - t0) / chunk / 1e3)
    return {"median_us": statistics.median(per), "min_us": min(per), "calls": chunks * chunk}


def states(n: int, seed: int = 14):
    rng = np.random.default_rng(seed)
    q = rng.uniform(-np.pi, np.pi, size=(n, 2))
    q_dot = rng.uniform(-3.0, 3.0, size=(n, 2))
    return q, q_dot


def max_rel(a, b) -> float:
    num = np.max(np.abs(a - b), axis=-1)
    den = np.maximum(np.max(np.abs(b), axis=-1), np.finfo(float).tiny)
    return float(np.max(num / den))


def jax_eom(inverse: str):
    """Cranmer's LNN q̈ for the exact double-pendulum Lagrangian, or None without JAX."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None, None
    jax.config.update("jax_enable_x64", True)
    m1, m2, l1, l2, g = (PARAMS[k] for k in ("m1", "m2", "l1", "l2", "g"))

    def lagrangian(q, qd):
        mt = m1 + m2
        return (0.5 * mt * l1**2 * qd[0] ** 2 + 0.5 * m2 * l2**2 * qd[1] ** 2
                + m2 * l1 * l2 * qd[0] * qd[1] * jnp.cos(q[0] - q[1])
                + mt * g * l1 * jnp.cos(q[0]) + m2 * g * l2 * jnp.cos(q[1]))

    def f(q, qd):
        hess = jax.hessian(lagrangian, 1)(q, qd)                       # ∇_q̇ ∇_q̇ᵀ L
        grad_q = jax.grad(lagrangian, 0)(q, qd)                        # ∇_q L
        mixed = jax.jacobian(jax.grad(lagrangian, 1), 0)(q, qd)        # ∇_q ∇_q̇ᵀ L: [i, j] = ∂²L/∂q̇ᵢ∂qⱼ
        rhs = grad_q - mixed @ qd
        if inverse == "solve":
            return jnp.linalg.solve(hess, rhs)
        if inverse == "inv":
            return jnp.linalg.inv(hess) @ rhs
        return jnp.linalg.pinv(hess) @ rhs

    return jax, f


def main() -> int:
    args = parse_args()
    if args.xla_single_thread:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
                                   " intra_op_parallelism_threads=1").strip()
    try:
        import lagrange
    except ImportError:
        print("the lagrange module is not installed in this Python: pip install ./crates/lagrange-py",
              file=sys.stderr)
        return 1

    result = {"benchmark": "python_eom", "system": "double-pendulum", "parameters": PARAMS,
              "states": args.states, "repeats": args.repeats, "machine": machine_info(),
              "lagrange": {"version": getattr(lagrange, "__version__", None), "file": lagrange.__file__}}
    S = lagrange.System.builtin("double-pendulum", **PARAMS)
    q, qd = states(args.states)
    print(f"double pendulum, {args.states} states (NumPy float64), best of {args.repeats}; "
          f"{result['machine']['cpu']}, {result['machine']['nproc']} cores")

    # ---------------------------------------------------------------- (a) batched
    # Every method is warmed up first, then the methods take turns, one call each per round, so
    # that a change of the machine's load during the run falls on all of them alike.
    methods, first_s, outputs = {}, {}, {}
    for ev in ("compiled", "auto", "autodiff"):
        methods[f"lagrange_{ev}"] = (lambda ev=ev: S.eom(q, qd, evaluator=ev))
    jax, f = jax_eom(args.inverse)
    if jax is not None:
        import jax.numpy as jnp

        vf = jax.jit(jax.vmap(f))
        methods["jax_jit_vmap"] = lambda: np.asarray(vf(jnp.asarray(q), jnp.asarray(qd)).block_until_ready())
    for name, fn in methods.items():
        t0 = time.perf_counter()
        outputs[name] = fn()                 # compiles (lagrange "compiled", JAX's trace + XLA)
        first_s[name] = time.perf_counter() - t0
        fn()                                 # warm-up
    times = {name: [] for name in methods}
    for _ in range(args.repeats):
        for name, fn in methods.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    batched = {}
    ref = outputs["lagrange_autodiff"]
    for name in methods:
        best, med = min(times[name]), statistics.median(times[name])
        batched[name] = {"best_s": best, "median_s": med, "first_call_s": first_s[name],
                         "states_per_s": args.states / best, "all_s": times[name]}
        label = f"lagrange eom evaluator={name[9:]}" if name.startswith("lagrange_") else f"JAX jit(vmap) LNN ({args.inverse})"
        print(f"  {label:32s} {best * 1e3:8.2f} ms  {args.states / best:10.3e} states/s"
              f"  (median {med * 1e3:.2f} ms, first call {first_s[name] * 1e3:.1f} ms)")
    for ev in ("compiled", "auto"):
        batched[f"lagrange_{ev}"]["max_rel_diff_vs_autodiff"] = max_rel(outputs[f"lagrange_{ev}"], ref)
    if jax is None:
        print("  JAX was not found (run bash bench/peers/setup.sh and use bench/peers/.venv/bin/python): "
              "lagrange's numbers only")
        result["jax"] = None
    else:
        rel = max_rel(outputs["lagrange_compiled"], outputs["jax_jit_vmap"])
        batched["jax_jit_vmap"].update(inverse=args.inverse, max_rel_diff_vs_lagrange_compiled=rel)
        print(f"  q̈ lagrange vs JAX: max ‖Δq̈‖∞/‖q̈‖∞ = {rel:.2e} (check ≤ 1e-10: {'ok' if rel <= 1e-10 else 'FAILED'})")
        for ev in ("compiled", "auto"):
            ratio = batched[f"lagrange_{ev}"]["states_per_s"] / batched["jax_jit_vmap"]["states_per_s"]
            batched[f"throughput_ratio_{ev}_over_jax"] = ratio
            batched[f"throughput_ratio_{ev}_over_jax_median"] = (batched["jax_jit_vmap"]["median_s"]
                                                                 / batched[f"lagrange_{ev}"]["median_s"])
            print(f"  throughput lagrange {ev} ÷ JAX = {ratio:.2f}× (best of {args.repeats}; "
                  f"{batched[f'throughput_ratio_{ev}_over_jax_median']:.2f}× by medians)")
        result["jax"] = {"version": jax.__version__, "backend": jax.default_backend(),
                         "xla_flags": os.environ.get("XLA_FLAGS", ""), "q_ddot_agree_1e-10": rel <= 1e-10}
    result["batched"] = batched

    # ---------------------------------------------------------------- (b) single state
    q1, qd1 = q[0].copy(), qd[0].copy()
    a2, b2 = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    single = {}
    cases = [("S.eom(q, qd)", lambda: S.eom(q1, qd1)),
             ("S.eom(q, qd, evaluator='compiled')", lambda: S.eom(q1, qd1, evaluator="compiled")),
             ("S.eom(q, qd, evaluator='autodiff')", lambda: S.eom(q1, qd1, evaluator="autodiff")),
             ("S.energy(q, qd)", lambda: S.energy(q1, qd1)),
             ("S.coordinates (pyo3 getter)", lambda: S.coordinates),
             ("np.add(a, b), 2-arrays", lambda: np.add(a2, b2))]
    if jax is not None:
        jf = jax.jit(f)
        jq, jqd = jnp.asarray(q1), jnp.asarray(qd1)
        jf(jq, jqd).block_until_ready()
        cases.append(("JAX jit(f)(q, qd).block_until_ready()", lambda: jf(jq, jqd).block_until_ready()))
    print(f"single-state calls: median over {args.single_calls} chunks of {args.chunk} calls")
    for name, fn in cases:
        single[name] = per_call_us(fn, args.single_calls, args.chunk)
        print(f"  {name:40s} {single[name]['median_us']:8.3f} µs  (min {single[name]['min_us']:.3f})")
    result["single_call"] = single
    result["single_call_overhead_us"] = {
        "eom": single["S.eom(q, qd)"]["median_us"],
        "eom_minus_getter": single["S.eom(q, qd)"]["median_us"] - single["S.coordinates (pyo3 getter)"]["median_us"],
        "np_add": single["np.add(a, b), 2-arrays"]["median_us"],
    }
    result["machine"]["loadavg_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None

    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    if jax is not None and not result["jax"]["q_ddot_agree_1e-10"]:
        print("error: lagrange and JAX disagree on q̈", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
