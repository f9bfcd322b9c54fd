"""eom, energy, momenta and mass_matrix: values against closed forms and the CLI's `eom`,
return types and shapes, the three evaluators, explicit time and dissipation."""
from __future__ import annotations

import json

import numpy as np
import pytest

import double_pendulum_sympy as ref
import lagrange
from conftest import EXAMPLES, HO_L, random_dp_states, rel_err, run_cli

EVALUATORS = ("auto", "autodiff", "compiled")


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_harmonic_oscillator_closed_forms(evaluator):
    m, k = 1.5, 6.0
    s = lagrange.System.from_lagrangian(coordinates=["x"], lagrangian=HO_L, parameters={"m": m, "k": k})
    x, v = 0.7, -1.3
    a = s.eom([x], [v], evaluator=evaluator)
    assert isinstance(a, np.ndarray) and a.shape == (1,) and a.dtype == np.float64
    assert a[0] == pytest.approx(-k / m * x, rel=1e-15)
    e = s.energy([x], [v])
    assert type(e) is float                       # one state: a Python float
    assert e == pytest.approx(0.5 * m * v**2 + 0.5 * k * x**2, rel=1e-15)
    p = s.momenta([x], [v])
    assert p.shape == (1,) and p[0] == pytest.approx(m * v, rel=1e-15)
    mm = s.mass_matrix([x], [v])
    assert mm.shape == (1, 1) and mm[0, 0] == pytest.approx(m, rel=1e-15)


def test_two_dimensional_quantities_shapes(dp):
    q, qd = np.array([0.3, -0.2]), np.array([0.5, 0.1])
    assert dp.eom(q, qd).shape == (2,)
    assert dp.momenta(q, qd).shape == (2,)
    assert dp.mass_matrix(q, qd).shape == (2, 2)
    assert type(dp.energy(q, qd)) is float
    qb, qdb = np.tile(q, (5, 1)), np.tile(qd, (5, 1))
    assert dp.eom(qb, qdb).shape == (5, 2)
    assert dp.momenta(qb, qdb).shape == (5, 2)
    assert dp.mass_matrix(qb, qdb).shape == (5, 2, 2)
    e = dp.energy(qb, qdb)
    assert isinstance(e, np.ndarray) and e.shape == (5,) and e.dtype == np.float64


def test_double_pendulum_mass_matrix_momenta_energy_against_sympy(dp, rng):
    for _ in range(5):
        params = {"m1": rng.uniform(0.5, 3), "m2": rng.uniform(0.5, 3), "l1": rng.uniform(0.5, 2),
                  "l2": rng.uniform(0.5, 2), "g": rng.uniform(1, 20)}
        s = dp.with_parameters(**params)
        q, qd = random_dp_states(rng, 20)
        # closed-form entries: each computed in a handful of roundings
        assert rel_err(s.mass_matrix(q, qd), ref.mass_matrix(params, q, qd)) < 1e-14
        assert rel_err(s.momenta(q, qd), ref.momenta(params, q, qd)) < 1e-14
        # the energy is a sum of terms of either sign: compare to the size of the largest term
        e, e_ref = s.energy(q, qd), ref.energy(params, q, qd)
        scale = (params["m1"] + params["m2"]) * params["g"] * (params["l1"] + params["l2"]) \
            + (params["m1"] + params["m2"]) * (params["l1"] + params["l2"]) ** 2 * 9.0
        assert np.max(np.abs(e - e_ref)) < 1e-14 * scale


def test_matches_cli_eom(dp, cli):
    out = run_cli(cli, "eom", "double-pendulum", "--state", "theta1=0.3,theta2=-0.2,theta1_dot=0.5,theta2_dot=-0.7",
                  "--param", "m1=2,l2=0.8", "--format", "json")
    r = json.loads(out)
    s = dp.with_parameters(m1=2.0, l2=0.8)
    q, qd = np.array(r["q"]), np.array(r["q_dot"])
    # the same library code on the same inputs; allow a few ulp for a different evaluator choice
    assert rel_err(s.eom(q, qd), r["q_ddot"]) < 1e-14
    assert s.energy(q, qd) == pytest.approx(r["energy"], rel=1e-14)
    assert rel_err(s.momenta(q, qd), r["momenta"]) < 1e-14


def test_evaluators_agree(dp, rng):
    q, qd = random_dp_states(rng, 200)
    a = {ev: dp.eom(q, qd, evaluator=ev) for ev in EVALUATORS}
    # compiled code and dual numbers evaluate the same derivatives in different orders; the
    # project's own compiled-vs-dual tests use 1e-12 relative
    assert rel_err(a["compiled"], a["autodiff"]) < 1e-12
    assert rel_err(a["auto"], a["autodiff"]) < 1e-12
    for i in range(0, 200, 37):
        for ev in EVALUATORS:
            assert rel_err(dp.eom(q[i], qd[i], evaluator=ev), a["autodiff"][i]) < 1e-12


def test_unknown_evaluator_is_value_error(dp):
    with pytest.raises(ValueError, match="jax"):
        dp.eom([0.1, 0.2], [0.0, 0.0], evaluator="jax")


def test_compiled_refuses_an_untraceable_lagrangian_but_auto_works():
    # a power with a variable exponent cannot be traced (README, "Compiled equations of motion")
    s = lagrange.System.from_lagrangian(coordinates=["x"], lagrangian="0.5*x_dot^2 - pow(2, x)")
    a = s.eom([1.0], [0.0], evaluator="auto")
    assert a[0] == pytest.approx(-2.0 * np.log(2.0), rel=1e-14)         # ẍ = −2^x ln 2
    assert s.eom([1.0], [0.0], evaluator="autodiff")[0] == pytest.approx(a[0], rel=1e-15)
    with pytest.raises(ValueError, match="compiled"):
        s.eom([1.0], [0.0], evaluator="compiled")


def test_explicit_time_dependence():
    s = lagrange.System.builtin("driven-oscillator")
    p = s.parameters
    m, k, f0, om = p["m"], p["k"], p["F0"], p["Omega"]
    x, v = np.array([0.4, -0.3, 1.1]), np.array([0.2, 0.5, -0.9])
    t = np.array([0.0, 1.3, 7.5])
    want = (-k * x + f0 * np.cos(om * t)) / m
    got = s.eom(x[:, None], v[:, None], t=t)
    assert got.shape == (3, 1)
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-14, atol=1e-15)
    for i in range(3):
        assert s.eom([x[i]], [v[i]], t=float(t[i]))[0] == pytest.approx(want[i], rel=1e-14, abs=1e-15)
        # Jacobi integral of L = ½mv² − ½kx² + x F0 cos Ωt: ½mv² + ½kx² − x F0 cos Ωt
        h = 0.5 * m * v[i] ** 2 + 0.5 * k * x[i] ** 2 - x[i] * f0 * np.cos(om * t[i])
        assert s.energy([x[i]], [v[i]], t=t[i]) == pytest.approx(h, rel=1e-14)
    # a scalar t applies to every state of a batch
    t0 = 2.0
    np.testing.assert_allclose(s.eom(x[:, None], v[:, None], t=t0)[:, 0],
                               (-k * x + f0 * np.cos(om * t0)) / m, rtol=1e-14)
    np.testing.assert_allclose(s.energy(x[:, None], v[:, None], t=t),
                               0.5 * m * v**2 + 0.5 * k * x**2 - x * f0 * np.cos(om * t), rtol=1e-14)


def test_dissipation():
    s = lagrange.System.from_lagrangian(coordinates=["x"], lagrangian=HO_L, dissipation="0.5*c*x_dot^2",
                                        parameters={"m": 2.0, "k": 3.0, "c": 0.4})
    x, v = 0.8, -1.5
    assert s.eom([x], [v])[0] == pytest.approx((-3.0 * x - 0.4 * v) / 2.0, rel=1e-15)
    # the Jacobi integral is L's alone: dissipation does not enter it
    assert s.energy([x], [v]) == pytest.approx(0.5 * 2.0 * v**2 + 0.5 * 3.0 * x**2, rel=1e-15)
    assert s.momenta([x], [v])[0] == pytest.approx(2.0 * v, rel=1e-15)


def test_builtin_damped_oscillator_has_its_dissipation():
    s = lagrange.System.builtin("damped-oscillator")
    p = s.parameters
    assert s.eom([1.0], [2.0])[0] == pytest.approx((-p["k"] * 1.0 - p["c"] * 2.0) / p["m"], rel=1e-15)


def test_results_do_not_alias_inputs(dp):
    q = np.array([0.3, -0.2])
    qd = np.array([0.5, 0.1])
    a = dp.eom(q, qd)
    a[:] = 99.0
    np.testing.assert_array_equal(q, [0.3, -0.2])
    np.testing.assert_array_equal(qd, [0.5, 0.1])
    assert not np.array_equal(dp.eom(q, qd), a)


def test_lattice_field_from_toml_is_the_discrete_klein_gordon_equation(rng):
    # examples/klein-gordon.toml: 256 sites, spacing a = 0.1, periodic; its dispersion relation
    # ω² = m² + (4/a²) sin²(ka/2) is that of φ̈ᵢ = (φᵢ₊₁ − 2φᵢ + φᵢ₋₁)/a² − m² φᵢ
    s = lagrange.System.from_toml(EXAMPLES / "klein-gordon.toml")
    assert lagrange.System.load(EXAMPLES / "klein-gordon.toml") == s
    n, a, m = 256, 0.1, s.parameters["m"]
    assert len(s.coordinates) == n
    phi = rng.normal(size=(3, n))
    phi_t = rng.normal(size=(3, n))
    want = (np.roll(phi, -1, axis=1) - 2 * phi + np.roll(phi, 1, axis=1)) / a**2 - m**2 * phi
    assert rel_err(s.eom(phi, phi_t), want) < 1e-12
    assert rel_err(s.with_parameters(m=2.0).eom(phi, phi_t), want - 3.0 * phi) < 1e-12
