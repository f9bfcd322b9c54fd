"""JAX peer of `lagrange bench --fields`: the lattice field equations as a `jnp.roll` stencil.

What a JAX user writes for the Euler–Lagrange equation of a lattice field (periodic boundary),
float64 (`jax_enable_x64`), `jax.jit`-compiled once:

  sine-gordon-1d   q̈ = (roll(q, -1) − 2q + roll(q, 1)) / a² − sin q
  wave-2d          q̈ = (roll(u, ±1, axis 0) + roll(u, ±1, axis 1) − 4u) / a²,  u = q.reshape(nx, ny)

on the state of the Rust side, `q_k = sin(0.7 k) + 0.3 cos(0.013 k)` at site index k (2-D: k = i·ny + j).

Measures (the timing of `lagrange bench`: median of batches):
  compile_s          jit(f).lower(q).compile()
  seconds_per_eval   median over `batches` batches of ~`batch_seconds` each of calls
                     `f(q).block_until_ready()`, after warm-up
  check              sum |q̈| and the first 4 values of q̈ (the Rust side compares them to its stencil)
  peak_rss_bytes     this process's peak resident set (ru_maxrss)

Input: a JSON object as the first argument or on stdin:
  {"kind": "sine-gordon-1d" | "wave-2d", "sites": [N] | [NX, NY], "spacing": 0.05,
   "batch_seconds": 0.2, "batches": 5, "xla_single_thread": false}
Output: one JSON object on stdout. Without JAX: {"available": false, "reason": "..."}, exit 0.

  bench/peers/.venv/bin/python bench/peers/fields_jax.py '{"kind": "sine-gordon-1d", "sites": [10000]}'
"""
from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import sys
import time


def read_params():
    text = sys.argv[1] if len(sys.argv) > 1 else sys.stdin.read()
    params = json.loads(text)
    params.setdefault("spacing", 0.05)
    params.setdefault("batch_seconds", 0.2)
    params.setdefault("batches", 5)
    params.setdefault("xla_single_thread", False)
    return params


def calibrate(f, seconds):
    iters = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(iters):
            f()
        el = time.perf_counter() - t0
        if el > seconds / 4 or iters > 1 << 24:
            return max(1, int(iters * seconds / max(el, 1e-9)))
        iters *= 4


def main():
    params = read_params()
    if params["xla_single_thread"]:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                                   + " --xla_cpu_multi_thread_eigen=false"
                                   " intra_op_parallelism_threads=1").strip()
    try:
        import jax
        import jax.numpy as jnp
        import numpy as np
    except ImportError as e:
        print(json.dumps({"available": False, "reason": f"{type(e).__name__}: {e}"}))
        return
    jax.config.update("jax_enable_x64", True)

    kind, sites, a = params["kind"], params["sites"], float(params["spacing"])
    inv_a2 = 1.0 / (a * a)
    n = 1
    for s in sites:
        n *= s
    k = np.arange(n, dtype=np.float64)
    q_host = np.sin(0.7 * k) + 0.3 * np.cos(0.013 * k)

    if kind == "sine-gordon-1d":
        if len(sites) != 1:
            raise SystemExit("sine-gordon-1d takes one size")

        def f(q):
            return (jnp.roll(q, -1) - 2.0 * q + jnp.roll(q, 1)) * inv_a2 - jnp.sin(q)
    elif kind == "wave-2d":
        if len(sites) != 2:
            raise SystemExit("wave-2d takes two sizes")
        nx, ny = sites

        def f(q):
            u = q.reshape(nx, ny)
            lap = (jnp.roll(u, -1, 0) + jnp.roll(u, 1, 0) + jnp.roll(u, -1, 1)
                   + jnp.roll(u, 1, 1) - 4.0 * u)
            return (lap * inv_a2).reshape(n)
    else:
        raise SystemExit(f"unknown kind {kind!r}")

    q = jnp.asarray(q_host)
    t0 = time.perf_counter()
    compiled = jax.jit(f).lower(q).compile()
    compile_s = time.perf_counter() - t0

    def call():
        compiled(q).block_until_ready()

    for _ in range(3):
        call()
    iters = calibrate(call, params["batch_seconds"])
    samples = []
    for _ in range(max(1, params["batches"])):
        t0 = time.perf_counter()
        for _ in range(iters):
            call()
        samples.append((time.perf_counter() - t0) / iters)
    seconds = statistics.median(samples)

    acc = np.asarray(compiled(q))
    # ru_maxrss is KiB on Linux, bytes on macOS
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_bytes = rss if sys.platform == "darwin" else rss * 1024
    print(json.dumps({
        "available": True,
        "peer": "jax",
        "kind": kind,
        "sites": sites,
        "spacing": a,
        "compile_s": compile_s,
        "seconds_per_eval": seconds,
        "samples": samples,
        "iters_per_batch": iters,
        "ns_per_site": seconds * 1e9 / n,
        "check": {"abs_sum": float(np.abs(acc).sum()), "head": [float(x) for x in acc[:4]]},
        "peak_rss_bytes": rss_bytes,
        "jax_version": jax.__version__,
        "backend": jax.default_backend(),
        "xla_single_thread": bool(params["xla_single_thread"]),
        "python": platform.python_version(),
    }))


if __name__ == "__main__":
    main()
