#!/usr/bin/env python3
"""Loss landscape of a harmonic oscillator's (m, k), computed on a dask cluster.

Data: ``lagrange.generate`` from ½ m ẋ² − ½ k x² with m = 1, k = 2.5 (5 % noise). At each
(m, k) of a grid the learn loss Σᵢ (ẍᵢ − ẍ_model(m, k; xᵢ, ẋᵢ))² — what ``lagrange.learn``
minimises — is computed with ``System.with_parameters`` and one batched ``eom`` call. One task
per grid row (one m, every k) runs on a ``LocalCluster`` of 2 worker processes; the systems
travel to the workers by pickle. The result is checked to equal a one-process run exactly,
and the landscape shows the valley k/m = 2.5 (L and c·L give the same motion, so only k/m is
seen by the data).

    python examples/python/dask_landscape.py [--workers 2] [--m-points 7] [--k-points 21] [--plot land.png]

Needs ``pip install "dask[distributed]"`` next to the ``lagrange`` module. The test
crates/lagrange-py/tests/test_dask_landscape.py runs the same functions.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

import lagrange

LAGRANGIAN = "0.5*m*x_dot^2 - 0.5*k*x^2"
TRUE = {"m": 1.0, "k": 2.5}
# An explicit evaluator: "auto" chooses between compiled code and dual numbers by timing, and
# the two agree only to rounding, so a bit-for-bit comparison across processes needs one fixed.
EVALUATOR = "compiled"


def make_problem(samples: int = 400, noise: float = 0.05, seed: int = 1):
    """The model system and a noisy data set from its true parameters."""
    system = lagrange.System.from_lagrangian(coordinates=["x"], lagrangian=LAGRANGIAN,
                                             parameters={"m": 1.0, "k": 1.0})
    data = lagrange.generate(system.with_parameters(**TRUE), samples,
                             box={"x": (-2.0, 2.0), "x_dot": (-3.0, 3.0)}, noise=noise, seed=seed)
    return system, data


def landscape_row(system: lagrange.System, m: float, ks, data: dict) -> np.ndarray:
    """The learn loss Σ (ẍ_data − ẍ_model)² at (m, k) for every k of one grid row."""
    q = data["x"][:, None]
    q_dot = data["x_dot"][:, None]
    out = np.empty(len(ks))
    for j, k in enumerate(ks):
        a = system.with_parameters(m=float(m), k=float(k)).eom(q, q_dot, evaluator=EVALUATOR)
        out[j] = np.sum((data["x_ddot"] - a[:, 0]) ** 2)
    return out


def landscape_serial(system, ms, ks, data) -> np.ndarray:
    """The whole grid in this process: loss[i, j] at (ms[i], ks[j])."""
    return np.stack([landscape_row(system, m, ks, data) for m in ms])


def landscape_dask(client, system, ms, ks, data) -> np.ndarray:
    """The same grid with one task per row on a dask.distributed client."""
    import cloudpickle

    # Workers import functions by module name; this module need not be importable there
    # (an example script, or a test's helper), so ship its functions by value.
    module = sys.modules[__name__]
    if __name__ != "__main__":
        cloudpickle.register_pickle_by_value(module)
    data_f = client.scatter(data, broadcast=True)
    system_f = client.scatter(system, broadcast=True)
    futures = [client.submit(landscape_row, system_f, float(m), list(map(float, ks)), data_f, pure=False)
               for m in ms]
    return np.stack(client.gather(futures))


def main(argv=None) -> int:
    from dask.distributed import Client, LocalCluster

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--m-points", type=int, default=7)
    ap.add_argument("--k-points", type=int, default=21)
    ap.add_argument("--plot", help="write a contour plot (needs matplotlib)")
    args = ap.parse_args(argv)

    system, data = make_problem()
    ms = np.linspace(0.5, 2.0, args.m_points)
    ks = np.linspace(0.5, 5.5, args.k_points)
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        grid = landscape_dask(client, system, ms, ks, data)
    serial = landscape_serial(system, ms, ks, data)
    same = np.array_equal(grid, serial)
    print(f"{len(ms)} × {len(ks)} grid on {args.workers} workers; equal to the one-process run: {same}")
    fit = lagrange.learn(data, system, fit=["k"], fix={"m": 1.0})
    k_fit = fit["parameters"]["k"]
    print(f"lagrange.learn (m fixed at 1): k = {k_fit:.6f}, loss {fit['loss']:.6g}; "
          f"landscape at (1, {k_fit:.6f}): {landscape_row(system, 1.0, [k_fit], data)[0]:.6g}")
    print("row minima (the valley k/m ≈ 2.5):")
    for m, row in zip(ms, grid):
        j = int(np.argmin(row))
        print(f"  m = {m:5.3f}: min loss {row[j]:10.4g} at k = {ks[j]:5.3f} (k/m = {ks[j] / m:.3f})")
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 4))
        cs = ax.contourf(ks, ms, np.log10(grid), levels=30)
        fig.colorbar(cs, label="log10 loss")
        ax.plot(2.5 * ms, ms, "w--", lw=1, label="k/m = 2.5")
        ax.set_xlabel("k")
        ax.set_ylabel("m")
        ax.legend(loc="upper left")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"wrote {args.plot}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
