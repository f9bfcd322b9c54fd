"""Every kind of System pickles: the round trip gives an equal system with the same metadata and
bit-identical results, in this process and in another one."""
from __future__ import annotations

import copy
import pickle
import subprocess
import sys

import numpy as np
import pytest

import lagrange
from conftest import EXAMPLES, HO_L, ROOT, random_dp_states


def all_systems():
    S = lagrange.System
    out = {name: S.builtin(name) for name in ("double-pendulum", "harmonic-oscillator", "pendulum",
                                              "cyclotron", "kepler", "chain", "damped-oscillator",
                                              "driven-oscillator", "spring-pendulum", "n-body", "crossed-fields")}
    out["builtin with parameters"] = S.builtin("double-pendulum", m1=2.5, g=3.0).with_parameters(l2=0.5)
    out["chain n=3"] = S.builtin("chain", n=3)
    out["toml file"] = S.from_toml(EXAMPLES / "double-pendulum.toml")
    out["toml text"] = S.from_toml((EXAMPLES / "damped-oscillator.toml").read_text())
    out["text with dissipation"] = S.from_lagrangian(coordinates=["x"], lagrangian=HO_L, dissipation="0.5*c*x_dot^2",
                                                     parameters={"m": 1.0, "k": 4.0, "c": 0.2}).with_parameters(k=5.0)
    out["text, time-dependent"] = S.from_lagrangian(coordinates=["x", "y"],
                                                    lagrangian="0.5*(x_dot^2 + y_dot^2) - x*cos(t) - 0.5*y^2*x^2 - 0.25*y^4")
    out["loaded model"] = S.load(ROOT / "docs" / "neural" / "lnn-clean.json")
    out["loaded toml"] = S.load(EXAMPLES / "kepler.toml")
    out["lattice field"] = S.from_toml(EXAMPLES / "klein-gordon.toml").with_parameters(m=0.5)
    return out


def states(s, seed=0, count=8):
    rng = np.random.default_rng(seed)
    n = len(s.coordinates)
    q = rng.uniform(0.5, 1.5, size=(count, n)) * rng.choice([-1, 1], size=(count, n))
    return q, rng.uniform(-1, 1, size=(count, n)), rng.uniform(0, 3, size=count)


@pytest.mark.parametrize("name", list(all_systems()))
def test_round_trip_is_equal(name):
    s = all_systems()[name]
    back = pickle.loads(pickle.dumps(s))
    assert isinstance(back, lagrange.System)
    assert back == s
    assert back.name == s.name and back.coordinates == s.coordinates and back.parameters == s.parameters
    q, qd, t = states(s)
    for ev in ("autodiff", "auto"):
        np.testing.assert_array_equal(back.eom(q, qd, t=t, evaluator=ev), s.eom(q, qd, t=t, evaluator=ev))
    np.testing.assert_array_equal(back.energy(q, qd, t=t), s.energy(q, qd, t=t))
    np.testing.assert_array_equal(back.mass_matrix(q, qd, t=t), s.mass_matrix(q, qd, t=t))
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(s, protocol=protocol)) == s
    assert copy.deepcopy(s) == s and copy.copy(s) == s


def test_equality_distinguishes_parameters_and_systems(dp):
    assert dp == lagrange.System.builtin("double-pendulum")
    assert dp != dp.with_parameters(m1=2.0)
    assert dp.with_parameters(m1=2.0) == dp.with_parameters(m1=2.0)
    assert dp != lagrange.System.builtin("pendulum")
    assert dp != "double-pendulum"
    back = pickle.loads(pickle.dumps(dp.with_parameters(m1=2.0)))
    assert back.parameters["m1"] == 2.0 and back != dp


def test_unpickled_system_is_usable_further(dp, rng):
    back = pickle.loads(pickle.dumps(dp))
    q, qd = random_dp_states(rng, 4)
    np.testing.assert_array_equal(back.with_parameters(g=1.0).eom(q, qd), dp.with_parameters(g=1.0).eom(q, qd))
    a = back.simulate([0.3, 0.1], [0.0, 0.0], 1.0, 0.1)
    b = dp.simulate([0.3, 0.1], [0.0, 0.0], 1.0, 0.1)
    np.testing.assert_array_equal(a.q, b.q)


CHILD = r"""
import pickle, sys
import numpy as np
import lagrange
systems = pickle.load(sys.stdin.buffer)
out = {}
for name, (s, q, qd, t) in systems.items():
    out[name] = (s.coordinates, s.parameters, s.eom(q, qd, t=t, evaluator="autodiff"), s.energy(q, qd, t=t), pickle.dumps(s))
pickle.dump(out, sys.stdout.buffer)
"""


def test_unpickled_in_another_process():
    payload = {name: (s, *states(s, seed=i)) for i, (name, s) in enumerate(all_systems().items())}
    done = subprocess.run([sys.executable, "-c", CHILD], input=pickle.dumps(payload),
                          capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    out = pickle.loads(done.stdout)
    for name, (s, q, qd, t) in payload.items():
        coords, params, a, e, again = out[name]
        assert coords == s.coordinates and params == s.parameters, name
        np.testing.assert_array_equal(a, s.eom(q, qd, t=t, evaluator="autodiff"), err_msg=name)
        np.testing.assert_array_equal(e, s.energy(q, qd, t=t), err_msg=name)
        assert pickle.loads(again) == s, name        # and back again from the other process
