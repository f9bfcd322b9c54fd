"""JAX reference for the speed of Lagrangian-neural-network (LNN) training (Cranmer et al. 2020).

    L_θ(q, q̇) = MLP(concat(q, q̇))          softplus hidden layers, scalar output, no output activation
    q̈_θ      = (∂²L/∂q̇∂q̇)⁻¹ [∂L/∂q − (∂²L/∂q̇∂q) q̇]

with ``jax.hessian`` (mass matrix), ``jax.grad`` (∂L/∂q) and ``jax.jacobian(jax.jacobian(L, q̇), q)``
(mixed block), as in the LNN reference code, ``jax.vmap``-ped over the minibatch; the linear system is
solved with ``jnp.linalg.solve`` (``--inverse pinv`` for Cranmer's ``pinv``), as in jax_peer.py.

    loss(θ)   = mean over the batch of Σᵢ (q̈_data,i − q̈_θ,i)²
    one step  = jax.value_and_grad(loss) w.r.t. θ + a hand-written Adam update (lr 1e-3, β1 0.9,
                β2 0.999, ε 1e-8), the minibatch drawn inside the step: B random indices into a fixed
                device-resident pool of 2000 samples (jax.random.randint on fold_in(key, step)),
                all in ONE jax.jit (parameters and Adam state donated)

Data: double pendulum, m1 = m2 = l1 = l2 = 1, g = 9.8; θ uniform in [−π/2, π/2]², θ̇ uniform in [−1, 1]²,
target q̈ from the hand-derived EOM (Cramer's rule, float64, cast to the run's dtype), fixed seed.
Weights: Glorot-normal (std = sqrt(2/(fan_in + fan_out))), biases zero, fixed seed.

Measures, per configuration (width, depth, batch, dtype):
  compile_s            s for jit(step).lower(...).compile()
  ms_per_step_median   median over the timed steps of the wall time of one step (each step ends in
  ms_per_step_min      block_until_ready), after --warmup untimed steps
  flops_per_step       XLA's cost_analysis() estimate of the compiled step (when available)
  loss_initial/final   loss over the whole pool before training and after the warm-up + timed steps

Loss check (--check-steps, default 300, at --batch, once per dtype): a fresh model trained for that many
steps; prints and records the pool loss before and after (it must decrease).

Usage:
  python lnn_train_jax.py [--width 128] [--depth 2] [--batch 256] [--dtype f32|f64] [--steps 200]
                          [--warmup 5] [--budget-s 20] [--xla-single-thread] [--inverse solve|pinv]
                          [--check-steps 300] [--sweep] [--json OUT]
  --sweep   dtype in (f32, f64) × batch in (256, 1024, 4096); prints a table, JSON is a list of records
  --budget-s  cap on the timed steps' total wall time per configuration: a configuration whose steps
              are slow runs fewer timed steps (at least 10); the record's "steps" is what ran
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

G = 9.8
M1 = M2 = L1 = L2 = 1.0
POOL = 2000
SEED = 20240917


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--width", type=int, default=128, help="hidden width (default 128)")
    p.add_argument("--depth", type=int, default=2, help="number of hidden layers (default 2)")
    p.add_argument("--batch", type=int, default=256, help="minibatch size (default 256)")
    p.add_argument("--dtype", choices=("f32", "f64"), default="f32")
    p.add_argument("--steps", type=int, default=200, help="timed steps (default 200)")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps after compile (default 5)")
    p.add_argument("--budget-s", type=float, default=20.0,
                   help="cap on the timed steps' wall time per configuration (default 20 s; 0: no cap)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--inverse", choices=("solve", "pinv"), default="solve")
    p.add_argument("--check-steps", type=int, default=300,
                   help="steps of the loss-decrease check (default 300; 0: skip)")
    p.add_argument("--xla-single-thread", "--threads1", dest="single_thread", action="store_true",
                   help="XLA_FLAGS=--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    p.add_argument("--sweep", action="store_true", help="dtype in (f32, f64) x batch in (256, 1024, 4096)")
    p.add_argument("--json", metavar="OUT", help="write the JSON here (default: stdout)")
    return p.parse_args(argv)


ARGS = parse_args()
if ARGS.single_thread:  # must be set before jax is imported
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
                               " intra_op_parallelism_threads=1").strip()

try:
    import jax
    import jax.numpy as jnp
except ImportError:  # pragma: no cover
    print("jax is not installed: run bench/peers/setup.sh", file=sys.stderr)
    sys.exit(0)

jax.config.update("jax_enable_x64", True)   # f64 runs need it; f32 runs keep every array float32
DTYPES = {"f32": jnp.float32, "f64": jnp.float64}


# ------------------------------------------------------------------------------------------------
# data: double pendulum
# ------------------------------------------------------------------------------------------------
def dpend_qddot(Q: np.ndarray, QD: np.ndarray) -> np.ndarray:
    """Hand-derived double-pendulum EOM (Euler–Lagrange solved by Cramer's rule), float64.

    (m1+m2) l1² θ̈1 + m2 l1 l2 c θ̈2 = −m2 l1 l2 s θ̇2² − (m1+m2) g l1 sin θ1
    m2 l1 l2 c θ̈1 + m2 l2² θ̈2      =  m2 l1 l2 s θ̇1² − m2 g l2 sin θ2,   c, s = cos, sin(θ1 − θ2)
    """
    t1, t2 = Q[:, 0], Q[:, 1]
    w1, w2 = QD[:, 0], QD[:, 1]
    c, s = np.cos(t1 - t2), np.sin(t1 - t2)
    a11, a12, a22 = (M1 + M2) * L1 * L1, M2 * L1 * L2 * c, M2 * L2 * L2
    b1 = -M2 * L1 * L2 * s * w2 * w2 - (M1 + M2) * G * L1 * np.sin(t1)
    b2 = M2 * L1 * L2 * s * w1 * w1 - M2 * G * L2 * np.sin(t2)
    det = a11 * a22 - a12 * a12
    return np.stack([(b1 * a22 - a12 * b2) / det, (a11 * b2 - a12 * b1) / det], axis=-1)


def make_pool(dtype):
    rng = np.random.default_rng(SEED)
    Q = rng.uniform(-np.pi / 2, np.pi / 2, (POOL, 2))
    QD = rng.uniform(-1.0, 1.0, (POOL, 2))
    QDD = dpend_qddot(Q, QD)
    return tuple(jax.device_put(jnp.asarray(a, dtype=dtype)) for a in (Q, QD, QDD))


# ------------------------------------------------------------------------------------------------
# model
# ------------------------------------------------------------------------------------------------
def init_params(width: int, depth: int, dtype, n: int = 2):
    sizes = [2 * n] + [width] * depth + [1]
    keys = jax.random.split(jax.random.PRNGKey(SEED), len(sizes) - 1)
    params = []
    for k, fi, fo in zip(keys, sizes[:-1], sizes[1:]):
        std = np.sqrt(2.0 / (fi + fo))                                   # Glorot normal
        params.append((std * jax.random.normal(k, (fi, fo), dtype=dtype), jnp.zeros((fo,), dtype=dtype)))
    return params


def lagrangian(params, q, qd):
    x = jnp.concatenate([q, qd])
    for W, b in params[:-1]:
        x = jax.nn.softplus(x @ W + b)
    W, b = params[-1]
    return (x @ W + b)[0]


def make_qddot(inverse: str):
    def qddot(params, q, qd):
        L = lambda q, qd: lagrangian(params, q, qd)               # noqa: E731
        M = jax.hessian(L, 1)(q, qd)                              # ∂²L/∂q̇∂q̇
        dLdq = jax.grad(L, 0)(q, qd)                              # ∂L/∂q
        C = jax.jacobian(jax.jacobian(L, 1), 0)(q, qd)            # ∂²L/∂q̇∂q  (C[i, j] = ∂²L/∂q̇ᵢ∂qⱼ)
        rhs = dLdq - C @ qd
        if inverse == "pinv":
            return jnp.linalg.pinv(M) @ rhs
        return jnp.linalg.solve(M, rhs)
    return qddot


def make_fns(batch: int, lr: float, inverse: str):
    qddot_b = jax.vmap(make_qddot(inverse), in_axes=(None, 0, 0))
    b1, b2, eps = 0.9, 0.999, 1e-8

    def loss(params, Q, QD, QDD):
        return jnp.mean(jnp.sum((QDD - qddot_b(params, Q, QD)) ** 2, axis=-1))

    def step(state, pool, key):
        params, m, v, t = state
        Q, QD, QDD = pool
        idx = jax.random.randint(jax.random.fold_in(key, t), (batch,), 0, Q.shape[0])
        val, g = jax.value_and_grad(loss)(params, Q[idx], QD[idx], QDD[idx])
        t = t + 1
        m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
        v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
        tf = t.astype(Q.dtype)
        lr_t = lr * jnp.sqrt(1 - b2 ** tf) / (1 - b1 ** tf)          # bias-corrected step size
        params = jax.tree_util.tree_map(lambda p, m, v: p - lr_t * m / (jnp.sqrt(v) + eps), params, m, v)
        return (params, m, v, t), val

    return jax.jit(step, donate_argnums=(0,)), jax.jit(loss)


def init_state(width, depth, dtype):
    params = init_params(width, depth, dtype)
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    return (params, zeros, jax.tree_util.tree_map(jnp.zeros_like, params), jnp.zeros((), jnp.int32))


def _flops(compiled):
    try:
        ca = compiled.cost_analysis()
        if isinstance(ca, (list, tuple)):
            ca = ca[0] if ca else {}
        f = ca.get("flops") if ca else None
        return float(f) if f is not None and f > 0 else None
    except Exception:  # noqa: BLE001
        return None


# ------------------------------------------------------------------------------------------------
# measurements
# ------------------------------------------------------------------------------------------------
def bench(width, depth, batch, dtype_name, steps, warmup, budget_s, lr, inverse):
    dtype = DTYPES[dtype_name]
    pool = make_pool(dtype)
    step, loss = make_fns(batch, lr, inverse)
    key = jax.random.PRNGKey(SEED + 1)
    state = init_state(width, depth, dtype)
    loss_initial = float(loss(state[0], *pool))

    t0 = time.perf_counter()
    compiled = step.lower(state, pool, key).compile()
    compile_s = time.perf_counter() - t0
    flops = _flops(compiled)

    for _ in range(max(1, warmup)):
        state, val = compiled(state, pool, key)
    jax.block_until_ready(state)

    times = []
    t_start = time.perf_counter()
    for i in range(steps):
        t0 = time.perf_counter()
        state, val = compiled(state, pool, key)
        jax.block_until_ready(state)
        times.append(time.perf_counter() - t0)
        if budget_s > 0 and i + 1 >= 10 and time.perf_counter() - t_start > budget_s:
            break
    loss_final = float(loss(state[0], *pool))
    med, mn = statistics.median(times) * 1e3, min(times) * 1e3
    rec = {"peer": "jax", "model": "lnn", "system": "dpend", "width": width, "depth": depth,
           "batch": batch, "dtype": dtype_name, "inverse": inverse,
           "ms_per_step_median": med, "ms_per_step_min": mn, "compile_s": compile_s,
           "steps": len(times), "steps_requested": steps, "warmup": warmup,
           "flops_per_step": flops, "gflops_at_median": (flops / med * 1e-6) if flops else None,
           "samples_per_s_at_median": batch / med * 1e3,
           "loss_initial": loss_initial, "loss_final": loss_final,
           "steps_trained": len(times) + max(1, warmup)}
    print(f"  {dtype_name} B={batch:5d} w={width} d={depth}: median {med:9.3f} ms/step, min {mn:9.3f}, "
          f"compile {compile_s:.2f} s, {len(times)} steps"
          + (f", {flops / 1e9:.3g} GFLOP/step ({flops / med * 1e-6:.2f} GFLOP/s)" if flops else "")
          + f"; pool loss {loss_initial:.4g} -> {loss_final:.4g}", file=sys.stderr, flush=True)
    return rec


def loss_check(width, depth, batch, dtype_name, nsteps, lr, inverse):
    dtype = DTYPES[dtype_name]
    pool = make_pool(dtype)
    step, loss = make_fns(batch, lr, inverse)
    key = jax.random.PRNGKey(SEED + 2)
    state = init_state(width, depth, dtype)
    l0 = float(loss(state[0], *pool))
    t0 = time.perf_counter()
    for _ in range(nsteps):
        state, _ = step(state, pool, key)
    l1 = float(loss(state[0], *pool))
    wall = time.perf_counter() - t0
    ok = bool(np.isfinite(l1) and l1 < l0)
    print(f"  loss check {dtype_name} B={batch} lr={lr:g}: pool loss {l0:.6g} -> {l1:.6g} after {nsteps} steps "
          f"({l1 / l0:.3g}x, {wall:.1f} s incl. compile) {'OK (decreased)' if ok else 'FAILED (did not decrease)'}",
          file=sys.stderr, flush=True)
    return {"steps": nsteps, "batch": batch, "lr": lr, "loss_initial": l0, "loss_final": l1, "decreased": ok}


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    a = ARGS
    import jaxlib
    machine = {"jax_version": jax.__version__, "jaxlib_version": jaxlib.__version__,
               "backend": jax.default_backend(), "device": str(jax.devices()[0]), "nproc": os.cpu_count(), "cpu": cpu_model(),
               "python": platform.python_version(),
               "threads": "xla-single-thread" if a.single_thread else "xla-default",
               "xla_flags": os.environ.get("XLA_FLAGS", "")}
    print(f"# lnn_train_jax — jax {jax.__version__} ({jax.default_backend()}), {machine['cpu']}, "
          f"nproc {machine['nproc']}, {machine['threads']}; load average {loadavg()}", file=sys.stderr)

    configs = ([(d, b) for d in ("f32", "f64") for b in (256, 1024, 4096)] if a.sweep
               else [(a.dtype, a.batch)])
    checks = {}
    if a.check_steps > 0:
        for d in dict.fromkeys(d for d, _ in configs):
            checks[d] = loss_check(a.width, a.depth, a.batch, d, a.check_steps, a.lr, a.inverse)

    records = []
    for d, b in configs:
        la0 = loadavg()
        t0 = time.perf_counter()
        rec = bench(a.width, a.depth, b, d, a.steps, a.warmup, a.budget_s, a.lr, a.inverse)
        rec.update(machine)
        rec["loadavg_start"], rec["loadavg_end"] = la0, loadavg()
        rec["wall_s"] = time.perf_counter() - t0
        if d in checks:
            rec["loss_check"] = checks[d]
        records.append(rec)

    if a.sweep:
        print(f"\n| dtype | batch | ms/step median | ms/step min | compile s | steps | GFLOP/step | GFLOP/s |",
              file=sys.stderr)
        print("|---|---|---|---|---|---|---|---|", file=sys.stderr)
        for r in records:
            f = r["flops_per_step"]
            print(f"| {r['dtype']} | {r['batch']} | {r['ms_per_step_median']:.3f} | {r['ms_per_step_min']:.3f} | "
                  f"{r['compile_s']:.2f} | {r['steps']} | {f / 1e9 if f else float('nan'):.3g} | "
                  f"{r['gflops_at_median'] if f else float('nan'):.3g} |", file=sys.stderr)
    out = json.dumps(records if a.sweep else records[0], indent=1)
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, "w") as fh:
            fh.write(out + "\n")
        print(f"wrote {a.json}", file=sys.stderr)
    else:
        print(out)
    return 0 if all(c["decreased"] for c in checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
