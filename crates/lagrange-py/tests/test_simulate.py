"""simulate: trajectories against closed forms and the exact discrete maps of the fixed-step
methods, the output grid, energy conservation, and the CLI's `simulate` on the same input.

Harmonic oscillator ẍ = −ω²x (m = 1, k = 4, ω = 2) from x = A, ẋ = 0: x = A cos ωt. With
z = x − i ẋ/ω the flow is z' = iωz, so a method whose stability function is R maps
z_k = R(iωh)^k A exactly (up to rounding): Euler R = 1 + z, RK4 R = Σ_{j≤4} z^j/j!, and the
variational midpoint integrator, which for a linear force is the implicit midpoint rule,
R = (1 + z/2)/(1 − z/2).
"""
from __future__ import annotations

import numpy as np
import pytest

import lagrange
from conftest import read_csv, rel_err, run_cli

OMEGA = 2.0
A = 0.7


def exact_map(R, h, count):
    z = A * R(1j * OMEGA * h) ** np.arange(count)
    return z.real, -OMEGA * z.imag


def test_trajectory_fields(ho):
    tr = ho.simulate([A], [0.0], 1.0, 0.25)
    assert tr.coordinates == ["x"]
    assert tr.t.shape == (5,) and tr.q.shape == (5, 1) and tr.q_dot.shape == (5, 1) and tr.energy.shape == (5,)
    for a in (tr.t, tr.q, tr.q_dot, tr.energy):
        assert isinstance(a, np.ndarray) and a.dtype == np.float64
    assert tr.q[0, 0] == A and tr.q_dot[0, 0] == 0.0 and tr.t[0] == 0.0
    two = lagrange.System.builtin("double-pendulum").simulate([0.1, 0.2], [0.0, 0.0], 0.5, 0.1)
    assert two.q.shape == (6, 2) and two.coordinates == ["theta1", "theta2"]


@pytest.mark.parametrize("integrator", ["dopri5", "rk4", "euler", "variational"])
def test_output_grid(ho, integrator):
    # rows at t = k·dt and exactly at t_end (README, `simulate`)
    tr = ho.simulate([A], [0.0], 1.0, 0.3, integrator=integrator)
    np.testing.assert_allclose(tr.t, [0.0, 0.3, 0.6, 0.9, 1.0], rtol=1e-15, atol=1e-15)
    assert tr.t[-1] == 1.0
    tr = ho.simulate([A], [0.0], 2.0, 0.01, integrator=integrator)
    assert len(tr.t) == 201 and tr.t[-1] == 2.0
    np.testing.assert_allclose(tr.t, np.arange(201) * 0.01, rtol=1e-14, atol=1e-15)
    # t_end = 0: the initial state alone
    tr = ho.simulate([A], [0.0], 0.0, 0.1, integrator=integrator)
    assert tr.t.tolist() == [0.0] and tr.q.tolist() == [[A]]


def test_dopri5_tight_tolerances_follow_the_closed_form(ho):
    tr = ho.simulate([A], [0.0], 10.0, 0.1, integrator="dopri5", rtol=1e-12, atol=1e-14)
    # global error ≲ (accepted steps, a few hundred) × the per-step tolerance 1e-12·|y|:
    # bound 1e-10·A (measured 1.7e-12)
    np.testing.assert_allclose(tr.q[:, 0], A * np.cos(OMEGA * tr.t), rtol=0, atol=1e-10 * A)
    np.testing.assert_allclose(tr.q_dot[:, 0], -A * OMEGA * np.sin(OMEGA * tr.t), rtol=0, atol=1e-10 * A * OMEGA)
    # the defaults (rtol 1e-9, atol 1e-12) give a proportionally larger error
    loose = ho.simulate([A], [0.0], 10.0, 0.1)
    err = np.max(np.abs(loose.q[:, 0] - A * np.cos(OMEGA * loose.t)))
    assert err < 1e-7 * A
    # and the tolerances are passed through: rtol 1e-4 is visibly worse than 1e-12
    rough = ho.simulate([A], [0.0], 10.0, 0.1, rtol=1e-4, atol=1e-6)
    assert np.max(np.abs(rough.q[:, 0] - A * np.cos(OMEGA * rough.t))) > 100 * np.max(
        np.abs(tr.q[:, 0] - A * np.cos(OMEGA * tr.t)))


def test_rk4_is_the_exact_rk4_map_and_within_its_truncation_bound(ho):
    h, t_end = 0.01, 10.0
    tr = ho.simulate([A], [0.0], t_end, h, integrator="rk4")
    x, v = exact_map(lambda z: 1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24, h, len(tr.t))
    # the same map evaluated two ways: rounding over 10³ steps, ~10³ ε A (measured 1.7e-14)
    np.testing.assert_allclose(tr.q[:, 0], x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(tr.q_dot[:, 0], v, rtol=0, atol=1e-12 * OMEGA)
    # against A cos ωt: RK4's phase error is (ωh)⁵/120 per step and its amplitude loss
    # (ωh)⁶/144 per step, so |x − A cos ωt| ≤ A·T·(ω⁵h⁴/120 + ω⁶h⁵/144) to leading order
    # (= 2.67e-8 · A here; measured 2.4e-8 · A); 5 % for the higher orders
    bound = 1.05 * A * t_end * (OMEGA**5 * h**4 / 120 + OMEGA**6 * h**5 / 144)
    err = np.max(np.abs(tr.q[:, 0] - A * np.cos(OMEGA * tr.t)))
    assert err <= bound
    assert err > 0.5 * bound               # and it is RK4, not something more accurate


def test_euler_is_the_exact_euler_map(ho):
    h = 0.01
    tr = ho.simulate([A], [0.0], 10.0, h, integrator="euler")
    x, v = exact_map(lambda z: 1 + z, h, len(tr.t))
    np.testing.assert_allclose(tr.q[:, 0], x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(tr.q_dot[:, 0], v, rtol=0, atol=1e-12 * OMEGA)


def test_variational_is_the_implicit_midpoint_map_and_conserves_energy(ho):
    h = 0.01
    tr = ho.simulate([A], [0.0], 10.0, h, integrator="variational")
    x, v = exact_map(lambda z: (1 + z / 2) / (1 - z / 2), h, len(tr.t))
    # Newton on a linear problem converges to rounding in one step (measured 3.5e-14)
    np.testing.assert_allclose(tr.q[:, 0], x, rtol=0, atol=1e-11)
    np.testing.assert_allclose(tr.q_dot[:, 0], v, rtol=0, atol=1e-11 * OMEGA)
    # the implicit midpoint rule conserves quadratic invariants: the energy, to rounding
    e0 = 0.5 * OMEGA**2 * A**2
    assert np.max(np.abs(tr.energy - e0)) < 1e-12 * e0


def test_energy_column_is_the_jacobi_integral(dp):
    tr = dp.simulate([2.0, 2.5], [0.0, 0.0], 3.0, 0.05)
    np.testing.assert_allclose(tr.energy, dp.energy(tr.q, tr.q_dot, tr.t), rtol=1e-14, atol=1e-14)


def test_double_pendulum_energy_conservation(dp):
    q0, qd0 = [2.0, 2.5], [0.0, 0.0]
    e0 = dp.energy(q0, qd0)
    tr = dp.simulate(q0, qd0, 10.0, 0.01, rtol=1e-10, atol=1e-12)
    assert tr.energy[0] == e0
    # dopri5 is not symplectic: the energy error is the accumulated local error, ≲ steps × rtol
    # ≈ 10³ × 1e-10 (measured 1.4e-9)
    assert np.max(np.abs(tr.energy / e0 - 1)) < 1e-7
    # variational, h = 1e-3 (README: 1.2e-4 over 100 s, bounded): bounded and no drift
    tv = dp.simulate(q0, qd0, 20.0, 1e-3, integrator="variational")
    dev = np.abs(tv.energy / e0 - 1)
    assert np.max(dev) < 5e-4
    half = len(dev) // 2
    assert np.max(dev[half:]) < 3 * np.max(dev[:half])
    # explicit Euler is visibly worse (README: 1.16 over 100 s)
    te = dp.simulate(q0, qd0, 20.0, 1e-3, integrator="euler")
    assert np.max(np.abs(te.energy / e0 - 1)) > 10 * np.max(dev)


def test_driven_oscillator_closed_form():
    s = lagrange.System.builtin("driven-oscillator")
    p = s.parameters
    w0 = np.sqrt(p["k"] / p["m"])
    om, c = p["Omega"], p["F0"] / (p["m"] * (p["k"] / p["m"] - p["Omega"] ** 2))
    x0, v0 = 0.3, -0.4
    tr = s.simulate([x0], [v0], 20.0, 0.1, rtol=1e-12, atol=1e-14)
    t = tr.t
    x = (x0 - c) * np.cos(w0 * t) + v0 / w0 * np.sin(w0 * t) + c * np.cos(om * t)
    np.testing.assert_allclose(tr.q[:, 0], x, rtol=0, atol=1e-9)


def test_damped_oscillator_closed_form():
    m, k, c = 1.0, 4.0, 0.3
    s = lagrange.System.from_lagrangian(coordinates=["x"], lagrangian="0.5*m*x_dot^2 - 0.5*k*x^2",
                                        dissipation="0.5*c*x_dot^2", parameters={"m": m, "k": k, "c": c})
    gamma = c / (2 * m)
    wd = np.sqrt(k / m - gamma**2)
    tr = s.simulate([1.0], [0.0], 10.0, 0.1, rtol=1e-12, atol=1e-14)
    t = tr.t
    x = np.exp(-gamma * t) * (np.cos(wd * t) + gamma / wd * np.sin(wd * t))
    np.testing.assert_allclose(tr.q[:, 0], x, rtol=0, atol=1e-10)
    assert np.all(np.diff(tr.energy[::10]) < 0)            # energy only decreases


@pytest.mark.parametrize("evaluator", ["auto", "autodiff", "compiled"])
def test_evaluators_give_the_same_trajectory(dp, evaluator):
    ref = dp.simulate([0.5, -0.3], [0.1, 0.0], 2.0, 0.01, integrator="rk4", evaluator="autodiff")
    tr = dp.simulate([0.5, -0.3], [0.1, 0.0], 2.0, 0.01, integrator="rk4", evaluator=evaluator)
    # 200 RK4 steps of a non-chaotic (small-angle) motion: rounding differences of 1e-16 per
    # evaluation stay below 1e-12
    assert rel_err(tr.q, ref.q) < 1e-12


@pytest.mark.parametrize("integrator, extra", [
    ("dopri5", []), ("rk4", ["--integrator", "rk4"]), ("variational", ["--integrator", "variational"]),
    ("euler", ["--integrator", "euler"])])
def test_matches_cli_simulate(dp, cli, tmp_path, integrator, extra):
    out = tmp_path / "dp.csv"
    run_cli(cli, "simulate", "double-pendulum", "--t-end", "3", "--dt", "0.01", "--state",
            "theta1=1.2,theta2=-0.4,theta1_dot=0.3,theta2_dot=0", "--param", "m2=1.5",
            "--eom", "autodiff", "--quiet", "--out", str(out), *extra)
    c = read_csv(out)
    tr = dp.with_parameters(m2=1.5).simulate([1.2, -0.4], [0.3, 0.0], 3.0, 0.01, integrator=integrator,
                                             evaluator="autodiff")
    # the same library call on the same numbers; the CSV holds every number in round-trip form,
    # so only a different build of the same code could differ (a few ulp, amplified over 300 steps)
    np.testing.assert_array_equal(tr.t, c["t"])
    assert rel_err(tr.q, np.column_stack([c["theta1"], c["theta2"]])) < 1e-12
    assert rel_err(tr.q_dot, np.column_stack([c["theta1_dot"], c["theta2_dot"]])) < 1e-12
    np.testing.assert_allclose(tr.energy, c["energy"], rtol=1e-12)
