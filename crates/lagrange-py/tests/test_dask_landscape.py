"""The (m, k) loss landscape of examples/python/dask_landscape.py across 2 dask worker processes:
every number equals the one-process run exactly, the learn loss at the fitted point is the
landscape's value there, and each row's minimum lies on the valley k/m = 2.5."""
from __future__ import annotations

import numpy as np
import pytest
from dask.distributed import Client, LocalCluster

import dask_landscape as ex
import lagrange


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as c:
        yield c


def test_landscape_on_two_workers_equals_one_process(client):
    system, data = ex.make_problem(samples=300)
    ms = np.linspace(0.5, 2.0, 7)
    ks = np.linspace(0.5, 5.5, 21)
    grid = ex.landscape_dask(client, system, ms, ks, data)
    serial = ex.landscape_serial(system, ms, ks, data)
    assert grid.shape == (7, 21)
    np.testing.assert_array_equal(grid, serial)
    # the rows really ran in both worker processes
    workers = client.run(lambda: __import__("os").getpid())
    assert len(set(workers.values())) == 2
    # the valley: each row's minimum sits at the grid k nearest to 2.5 m (noise moves the
    # exact minimum by far less than the grid step 0.25)
    for m, row in zip(ms, grid):
        assert abs(ks[np.argmin(row)] - 2.5 * m) <= 0.25 / 2 + 1e-12, (m, row)
    # the landscape is learn's loss: at learn's own fit it gives learn's number
    fit = lagrange.learn(data, system, fit=["k"], fix={"m": 1.0})
    at_fit = ex.landscape_row(system, 1.0, [fit["parameters"]["k"]], data)[0]
    assert at_fit == pytest.approx(fit["loss"], rel=1e-10)
    assert fit["loss"] <= grid[np.argmin(np.abs(ms - 1.0))].min()


def test_tasks_see_with_parameters_and_eom_like_this_process(client):
    dp = lagrange.System.builtin("double-pendulum")
    rng = np.random.default_rng(3)
    q = rng.uniform(-2, 2, size=(100, 2))
    qd = rng.uniform(-2, 2, size=(100, 2))

    def residual(system, g):
        a = system.with_parameters(g=g).eom(q, qd, evaluator="compiled")
        return float(np.mean(a ** 2))

    gs = [1.0, 3.7, 9.81, 24.8]
    remote = client.gather(client.map(residual, [dp] * len(gs), gs, pure=False))
    assert remote == [residual(dp, g) for g in gs]
