"""The double pendulum's q̈ against an independent SymPy derivation (tools/double_pendulum_sympy.py).

The oracle is evaluated in 30-digit mpmath arithmetic, so its own error is far below the bound;
1e-12 relative (‖q̈ − q̈_ref‖∞ / ‖q̈_ref‖∞ per state) leaves room for the engine's rounding in a
well-conditioned 2 × 2 solve (measured ≈ 1e-15) and nothing for a wrong term.
"""
from __future__ import annotations

import numpy as np
import pytest

import double_pendulum_sympy as ref
import lagrange
from conftest import DP_NAMES, random_dp_states, rel_err

TOL = 1e-12


def random_params(rng):
    return {"m1": rng.uniform(0.2, 5.0), "m2": rng.uniform(0.2, 5.0), "l1": rng.uniform(0.3, 3.0),
            "l2": rng.uniform(0.3, 3.0), "g": rng.uniform(0.5, 25.0)}


def test_names_match_the_builtin():
    dp = lagrange.System.builtin("double-pendulum")
    assert tuple(dp.coordinates) == ref.COORDINATES == DP_NAMES
    assert tuple(dp.parameters) == ref.PARAMETERS
    assert dp.parameters == ref.DEFAULTS


def test_float64_oracle_agrees_with_its_30_digit_evaluation(rng):
    q, qd = random_dp_states(rng, 20)
    params = random_params(rng)
    assert rel_err(ref.accelerations(params, q, qd), ref.accelerations(params, q, qd, dps=30)) < 1e-13


@pytest.mark.parametrize("evaluator", ["auto", "autodiff", "compiled"])
@pytest.mark.parametrize("seed", range(6))
def test_qddot_against_sympy(seed, evaluator):
    rng = np.random.default_rng(1000 + seed)
    params = random_params(rng) if seed else dict(ref.DEFAULTS)
    s = lagrange.System.builtin("double-pendulum", **params)
    q, qd = random_dp_states(rng, 25)
    want = ref.accelerations(params, q, qd, dps=30)
    assert rel_err(s.eom(q, qd, evaluator=evaluator), want) < TOL
    for i in range(0, 25, 6):
        assert rel_err(s.eom(q[i], qd[i], evaluator=evaluator), want[i]) < TOL


def test_qddot_against_sympy_via_with_parameters_and_text(rng):
    base = lagrange.System.builtin("double-pendulum")
    text = lagrange.System.from_lagrangian(
        coordinates=list(ref.COORDINATES),
        lagrangian=("0.5*(m1 + m2)*l1^2*theta1_dot^2 + 0.5*m2*l2^2*theta2_dot^2"
                    " + m2*l1*l2*theta1_dot*theta2_dot*cos(theta1 - theta2)"
                    " + (m1 + m2)*g*l1*cos(theta1) + m2*g*l2*cos(theta2)"),
        parameters=dict(ref.DEFAULTS))
    for _ in range(4):
        params = random_params(rng)
        q, qd = random_dp_states(rng, 16)
        want = ref.accelerations(params, q, qd, dps=30)
        assert rel_err(base.with_parameters(**params).eom(q, qd), want) < TOL
        assert rel_err(text.with_parameters(**params).eom(q, qd), want) < TOL


def test_special_states(rng):
    s = lagrange.System.builtin("double-pendulum")
    params = dict(ref.DEFAULTS)
    # hanging at rest: exactly zero; inverted: an unstable equilibrium, zero too (sin π ≈ 1.2e-16)
    np.testing.assert_array_equal(s.eom([0.0, 0.0], [0.0, 0.0]), [0.0, 0.0])
    q = np.array([[np.pi / 2, np.pi / 2], [1e-8, -1e-8], [3.0, -3.0], [0.0, np.pi]])
    qd = np.array([[0.0, 0.0], [1e-6, 2e-6], [5.0, -5.0], [10.0, 0.0]])
    assert rel_err(s.eom(q, qd), ref.accelerations(params, q, qd, dps=30)) < TOL
