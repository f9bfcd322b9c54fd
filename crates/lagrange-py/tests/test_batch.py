"""Batched calls (B, n) against one call per state.

Tolerances: with one evaluator named explicitly, a batch runs the same code on the same numbers
as B single calls; only the loop around it differs, so results may differ at most by a different
operation order (e.g. a vectorised or multi-lane kernel): 1e-14 relative to the state's largest
component, a few ulp. With evaluator="auto" the engine may pick the compiled code for a batch
and dual numbers for one state (it picks by expected cost), so the bound is the one between the
two evaluators that the project's own tests use: 1e-12.
"""
from __future__ import annotations

import numpy as np
import pytest

import lagrange
from conftest import random_dp_states, rel_err

TOL = {"autodiff": 1e-14, "compiled": 1e-14, "auto": 1e-12}


def systems():
    return {
        "double-pendulum": lagrange.System.builtin("double-pendulum", m1=1.3, l2=0.7),
        "kepler": lagrange.System.builtin("kepler"),
        "spring-pendulum": lagrange.System.builtin("spring-pendulum"),
        "text-3d": lagrange.System.from_lagrangian(
            coordinates=["x", "y", "z"],
            lagrangian="0.5*(1 + 0.1*y^2)*x_dot^2 + 0.5*y_dot^2 + 0.5*z_dot^2*(2 + sin(x)) - cos(x)*y - 0.5*k*z^2 + x_dot*y*t",
            dissipation="0.5*c*(x_dot^2 + z_dot^2)",
            parameters={"k": 2.0, "c": 0.1}),
    }


def random_states(rng, n, count):
    q = rng.uniform(0.5, 1.5, size=(count, n)) * rng.choice([-1, 1], size=(count, n))
    return q, rng.uniform(-2, 2, size=(count, n)), rng.uniform(0, 5, size=count)


@pytest.mark.parametrize("evaluator", ["autodiff", "compiled", "auto"])
@pytest.mark.parametrize("name", list(systems()))
def test_batch_equals_single_calls(name, evaluator, rng):
    s = systems()[name]
    n = len(s.coordinates)
    q, qd, t = random_states(rng, n, 64)
    batch = s.eom(q, qd, t=t, evaluator=evaluator)
    single = np.array([s.eom(q[i], qd[i], t=t[i], evaluator=evaluator) for i in range(len(q))])
    assert batch.shape == (64, n)
    assert rel_err(batch, single) < TOL[evaluator]


@pytest.mark.parametrize("name", list(systems()))
def test_batched_energy_momenta_mass_matrix(name, rng):
    s = systems()[name]
    n = len(s.coordinates)
    q, qd, t = random_states(rng, n, 32)
    e = s.energy(q, qd, t=t)
    p = s.momenta(q, qd, t=t)
    m = s.mass_matrix(q, qd, t=t)
    assert e.shape == (32,) and p.shape == (32, n) and m.shape == (32, n, n)
    for i in range(32):
        # same dual-number code per state: a batch may only reorder operations (see module doc)
        assert s.energy(q[i], qd[i], t=t[i]) == pytest.approx(e[i], rel=1e-14, abs=1e-14)
        assert rel_err(s.momenta(q[i], qd[i], t=t[i]), p[i]) < 1e-14
        assert rel_err(s.mass_matrix(q[i], qd[i], t=t[i]), m[i]) < 1e-14
    np.testing.assert_allclose(m, np.swapaxes(m, 1, 2), rtol=0, atol=0)   # ∂²L/∂q̇ᵢ∂q̇ⱼ is symmetric


def test_scalar_t_applies_to_the_whole_batch(rng):
    s = systems()["text-3d"]
    q, qd, _ = random_states(rng, 3, 16)
    np.testing.assert_array_equal(s.eom(q, qd, t=1.25, evaluator="autodiff"),
                                  s.eom(q, qd, t=np.full(16, 1.25), evaluator="autodiff"))
    np.testing.assert_array_equal(s.eom(q, qd, evaluator="autodiff"),
                                  s.eom(q, qd, t=0.0, evaluator="autodiff"))


def test_large_batch_of_the_double_pendulum(rng):
    dp = lagrange.System.builtin("double-pendulum")
    q, qd = random_dp_states(rng, 100_000)
    a = dp.eom(q, qd)
    assert a.shape == (100_000, 2) and np.all(np.isfinite(a))
    idx = rng.integers(0, 100_000, size=20)
    for i in idx:
        assert rel_err(dp.eom(q[i], qd[i]), a[i]) < TOL["auto"]


def test_batch_of_one_and_of_none(dp):
    q = np.array([[0.3, -0.2]])
    qd = np.array([[0.5, 0.1]])
    assert dp.eom(q, qd).shape == (1, 2)
    assert dp.energy(q, qd).shape == (1,)
    # an empty batch is a batch: (0, n) in, (0, n) out
    empty = np.zeros((0, 2))
    assert dp.eom(empty, empty).shape == (0, 2)
    assert dp.energy(empty, empty).shape == (0,)
    assert dp.mass_matrix(empty, empty).shape == (0, 2, 2)
