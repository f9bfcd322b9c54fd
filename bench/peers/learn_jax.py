"""JAX reference for learning physical parameters of a Lagrangian (`lagrange bench --learn`).

The seed's experiment: fit some parameters of a known Lagrangian to samples (q, q̇, q̈) by full-batch
Adam on the loss  ε(θ) = Σ_samples Σ_i (q̈_data,i − q̈_θ,i)²  (mean over residuals for the step, as
`lagrange learn --optimizer adam`), in float64, with Cranmer et al.'s formulation of the equations of
motion (as bench/peers/lnn_train_jax.py and jax_peer.py):

    q̈_θ = (∂²L/∂q̇²)⁻¹ [∂L/∂q − (∂²L/∂q̇∂q) q̇]      jax.hessian, jax.grad, jax.jacobian; jnp.linalg.solve

vmapped over the samples, one jax.jit for a whole Adam step (jax.value_and_grad of the mean loss and a
hand-written Adam update: β1 0.9, β2 0.999, ε 1e-12, as lagrange's AdamOptions).

Systems (the example files' Lagrangians, the other parameters fixed at the files' values):
  double-pendulum  θ = (m2, g), m1 = l1 = l2 = 1     examples/double-pendulum.toml
  cyclotron        θ = (B,),    m = q = 1            examples/cyclotron.toml
  chain:N          θ = (k, b),  unit masses          FPU-β chain of N masses with fixed ends,
                   L = Σ ½ ẋᵢ² − Σ (½ k dⱼ² + ¼ b dⱼ⁴), dⱼ the N + 1 spring extensions
                   (`lagrange bench --learn` writes the same chain as a TOML file)

Measures:
  compile_s           jit(step).lower(...).compile()
  ms_per_step_median  median wall time of one step (block_until_ready), after 2 warm-up steps
  final               parameters after --steps steps from --init (all steps, timed or not)
  landscape_s         (--grid N) the loss on an N × N grid over the two parameters (vmap over one grid
                      row at a time, jit compiled once, compile time excluded), wall time

Usage:
  python learn_jax.py --system double-pendulum --data dp.csv --init 0.6,5 --lr 0.01 --steps 500
                      [--timed 50] [--grid 41 --grid-range 0.2:2,2:12] --json out.json
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np


def lagrangian(system):
    import jax.numpy as jnp

    if system == "double-pendulum":
        def L(theta, q, v):
            m2, g = theta
            m1 = l1 = l2 = 1.0
            t1, t2 = q
            w1, w2 = v
            return (0.5 * (m1 + m2) * l1**2 * w1**2 + 0.5 * m2 * l2**2 * w2**2
                    + m2 * l1 * l2 * w1 * w2 * jnp.cos(t1 - t2)
                    + (m1 + m2) * g * l1 * jnp.cos(t1) + m2 * g * l2 * jnp.cos(t2))
        return L, 2
    if system == "cyclotron":
        def L(theta, q, v):
            (b,) = theta
            m = charge = 1.0
            x, y, _ = q
            vx, vy, vz = v
            return 0.5 * m * (vx**2 + vy**2 + vz**2) + 0.5 * charge * b * (x * vy - y * vx)
        return L, 3
    if system.startswith("chain:"):
        n = int(system.split(":")[1])

        def L(theta, q, v):
            k, b = theta
            d = jnp.concatenate([q[:1], q[1:] - q[:-1], -q[-1:]])
            return 0.5 * jnp.sum(v**2) - jnp.sum(0.5 * k * d**2 + 0.25 * b * d**4)
        return L, n
    raise SystemExit(f"unknown system {system}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--system", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--init", required=True, help="comma-separated initial parameters")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--timed", type=int, default=50, help="steps timed one by one (of --steps)")
    p.add_argument("--grid", type=int, default=0)
    p.add_argument("--grid-range", default="0.2:2,2:12")
    p.add_argument("--json")
    args = p.parse_args(argv)

    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    L, n = lagrangian(args.system)
    data = np.loadtxt(args.data, delimiter=",", skiprows=1)
    q, v, a = (jnp.asarray(data[:, k * n:(k + 1) * n]) for k in range(3))

    def accel(theta, qi, vi):
        hess = jax.hessian(L, argnums=2)(theta, qi, vi)
        dl_dq = jax.grad(L, argnums=1)(theta, qi, vi)
        mixed = jax.jacobian(jax.grad(L, argnums=2), argnums=1)(theta, qi, vi)
        return jnp.linalg.solve(hess, dl_dq - mixed @ vi)

    def loss_sum(theta, q, v, a):
        pred = jax.vmap(accel, in_axes=(None, 0, 0))(theta, q, v)
        return jnp.sum((pred - a) ** 2)

    residuals = q.shape[0] * n

    def step(state, q, v, a):
        theta, m, s, t = state
        value, grad = jax.value_and_grad(loss_sum)(theta, q, v, a)
        g = grad / residuals
        t = t + 1
        m = 0.9 * m + 0.1 * g
        s = 0.999 * s + 0.001 * g * g
        mh = m / (1 - 0.9**t)
        sh = s / (1 - 0.999**t)
        theta = theta - args.lr * mh / (jnp.sqrt(sh) + 1e-12)
        return (theta, m, s, t), value

    theta0 = jnp.asarray([float(x) for x in args.init.split(",")])
    state = (theta0, jnp.zeros_like(theta0), jnp.zeros_like(theta0), jnp.asarray(0.0))
    t0 = time.perf_counter()
    compiled = jax.jit(step).lower(state, q, v, a).compile()
    compile_s = time.perf_counter() - t0

    times = []
    for k in range(args.steps):
        t0 = time.perf_counter()
        state, value = compiled(state, q, v, a)
        jax.block_until_ready(state)
        if k >= 2:
            times.append(time.perf_counter() - t0)
        if len(times) >= args.timed and k >= args.timed + 2:
            # the rest untimed, in one go
            t0 = time.perf_counter()
            for _ in range(k + 1, args.steps):
                state, value = compiled(state, q, v, a)
            jax.block_until_ready(state)
            rest = args.steps - k - 1
            if rest > 0:
                times.append((time.perf_counter() - t0) / rest)
            break
    record = {
        "system": args.system,
        "samples": int(q.shape[0]),
        "steps": args.steps,
        "compile_s": compile_s,
        "ms_per_step_median": 1e3 * statistics.median(times) if times else None,
        "final": [float(x) for x in state[0]],
        "jax": jax.__version__,
        "backend": jax.default_backend(),
    }
    if args.grid:
        (x0, x1), (y0, y1) = (tuple(float(c) for c in r.split(":")) for r in args.grid_range.split(","))
        xs = jnp.linspace(x0, x1, args.grid)
        ys = jnp.linspace(y0, y1, args.grid)
        row = jax.jit(jax.vmap(lambda x, y: loss_sum(jnp.stack([x, y]), q, v, a), in_axes=(0, None)))
        row = row.lower(xs, ys[0]).compile()
        jax.block_until_ready(row(xs, ys[0]))
        t0 = time.perf_counter()
        grid = [row(xs, y) for y in ys]
        jax.block_until_ready(grid)
        record["landscape_s"] = time.perf_counter() - t0
        record["landscape_min"] = float(jnp.min(jnp.stack(grid)))
    print(json.dumps(record))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(record, f, indent=1)


if __name__ == "__main__":
    main()
