"""Constructing systems: built-ins, TOML files and text, text Lagrangians, `load`; the metadata
(`coordinates`, `parameters`, `name`) and `with_parameters`."""
from __future__ import annotations

import os
import pathlib
import re

import numpy as np
import pytest

import lagrange
from conftest import DP_NAMES, EXAMPLES, HO_L, ROOT, cli_error, rel_err, run_cli

DP_DEFAULTS = {"m1": 1.0, "m2": 1.0, "l1": 1.0, "l2": 1.0, "g": 9.81}


def cli_systems(cli):
    """`lagrange systems` parsed: {name: (coordinates, parameters)}."""
    out = run_cli(cli, "systems")
    systems, name = {}, None
    for line in out.splitlines():
        head = re.match(r"^(\S+)\s+\(", line)
        if head:
            name = head.group(1)
            systems[name] = [None, None]
        elif line.strip().startswith("coordinates:"):
            systems[name][0] = [c.strip() for c in line.split(":", 1)[1].split(",")]
        elif line.strip().startswith("parameters:"):
            pairs = [p.strip().split("=") for p in line.split(":", 1)[1].split(",") if p.strip()]
            systems[name][1] = {k: float(v) for k, v in pairs}
    return systems


def test_builtin_double_pendulum_metadata(dp):
    assert dp.coordinates == list(DP_NAMES)
    assert dp.parameters == DP_DEFAULTS
    assert all(type(v) is float for v in dp.parameters.values())
    assert isinstance(dp.name, str) and dp.name in ("double-pendulum", "Double pendulum")


def test_builtin_keyword_parameters():
    s = lagrange.System.builtin("double-pendulum", m1=2.0, g=9.0)
    assert s.parameters == {**DP_DEFAULTS, "m1": 2.0, "g": 9.0}
    # ints are numbers too
    assert lagrange.System.builtin("double-pendulum", m2=3).parameters["m2"] == 3.0


def test_every_builtin_matches_the_cli_listing(cli):
    listed = cli_systems(cli)
    assert "double-pendulum" in listed and "harmonic-oscillator" in listed
    for name, (coordinates, parameters) in listed.items():
        s = lagrange.System.builtin(name)
        assert s.coordinates == coordinates, name
        assert s.parameters.keys() == parameters.keys(), name
        for k, v in parameters.items():  # the listing prints short forms (9.81, 0.05)
            assert s.parameters[k] == pytest.approx(v, rel=1e-12), (name, k)
        # and `load` resolves the same names
        assert lagrange.System.load(name).coordinates == coordinates


def test_builtin_size_parameter_sets_the_coordinates():
    chain = lagrange.System.builtin("chain", n=3)
    assert chain.coordinates == ["x1", "x2", "x3"] and chain.parameters["n"] == 3.0
    assert lagrange.System.builtin("chain").with_parameters(n=2).coordinates == ["x1", "x2"]
    with pytest.raises(ValueError, match="n"):
        lagrange.System.builtin("chain", n=1.5)


def test_builtin_unknown_name_is_value_error(cli):
    with pytest.raises(ValueError, match="no-such-system"):
        lagrange.System.builtin("no-such-system")
    # `load` resolves names like the CLI's SYSTEM argument, with the CLI's message
    with pytest.raises(ValueError) as e:
        lagrange.System.load("no-such-system")
    assert str(e.value) == cli_error(cli, "eom", "no-such-system")


def test_builtin_unknown_or_invalid_parameter_is_value_error(cli):
    with pytest.raises(ValueError, match="zz") as e:
        lagrange.System.builtin("double-pendulum", zz=1.0)
    # the CLI's message: unknown parameter `zz` (known: m1, m2, l1, l2, g)
    cli_msg = cli_error(cli, "eom", "double-pendulum", "--param", "zz=1")
    assert "unknown parameter `zz`" in cli_msg
    assert "unknown parameter `zz`" in str(e.value)
    with pytest.raises(ValueError, match="m1"):
        lagrange.System.builtin("double-pendulum", m1=-1.0)   # masses must be > 0
    with pytest.raises(ValueError, match="m1"):
        lagrange.System.builtin("double-pendulum", m1=float("nan"))


TOML_TEXT = f'''
name = "Harmonic oscillator"
coordinates = ["x"]
lagrangian = "{HO_L}"
[parameters]
m = 1.0
k = 4.0
'''


class _PathLike:
    def __init__(self, p):
        self._p = p

    def __fspath__(self):
        return str(self._p)


@pytest.mark.parametrize("kind", ["str", "pathlib", "pathlike", "text"])
def test_from_toml_path_or_text(kind):
    path = EXAMPLES / "harmonic-oscillator.toml"
    arg = {"str": str(path), "pathlib": path, "pathlike": _PathLike(path), "text": TOML_TEXT}[kind]
    s = lagrange.System.from_toml(arg)
    assert s.coordinates == ["x"]
    assert s.parameters == {"m": 1.0, "k": 4.0}
    assert s.name == "Harmonic oscillator"
    np.testing.assert_allclose(s.eom([0.5], [0.0]), [-2.0], rtol=1e-15)


def test_from_toml_relative_path(tmp_path, monkeypatch):
    (tmp_path / "ho.toml").write_text(TOML_TEXT)
    monkeypatch.chdir(tmp_path)
    assert lagrange.System.from_toml("ho.toml").parameters == {"m": 1.0, "k": 4.0}


def test_toml_double_pendulum_equals_builtin(dp, rng):
    s = lagrange.System.from_toml(EXAMPLES / "double-pendulum.toml")
    assert s.coordinates == dp.coordinates and s.parameters == dp.parameters
    q = rng.uniform(-3, 3, size=(50, 2))
    qd = rng.uniform(-3, 3, size=(50, 2))
    # the same L written as text and in Rust: same EOM to rounding (different operation order)
    assert rel_err(s.eom(q, qd), dp.eom(q, qd)) < 1e-13


@pytest.mark.parametrize("text, fragment", [
    ("coordinates = [\"x\"\nlagrangian = \"x\"", "malformed TOML"),
    ("coordinates = [\"x\"]\nlagrangian = \"0.5*x_dot^2 - y\"", "y"),                  # unknown identifier
    ("coordinates = [\"x\"]", "lagrangian"),                                          # missing key
    ("coordinates = [\"x\", \"x\"]\nlagrangian = \"0.5*x_dot^2\"", "x"),               # duplicate coordinate
    ("coordinates = [\"x\"]\nlagrangian = \"0.5*x_dot^2\"\n[parameters]\nx = 1.0", "x"),  # parameter shadows a coordinate
    ("coordinates = [\"x\"]\nlagrangian = \"0.5*x_dot^2 - (x\"", "column 15"),           # parse error
    ("coordinates = [\"x\"]\nlagrangian = \"0.5*x_dot^2\"\n[parameters]\nk = \"a\"", "k"),  # wrong type
])
def test_bad_toml_text_is_value_error(text, fragment):
    with pytest.raises(ValueError, match=re.escape(fragment)):
        lagrange.System.from_toml(text)


def test_missing_toml_file_is_value_error(tmp_path):
    with pytest.raises(ValueError, match="nothere.toml"):
        lagrange.System.from_toml(tmp_path / "nothere.toml")


def test_from_lagrangian():
    s = lagrange.System.from_lagrangian(coordinates=["x"], lagrangian=HO_L, dissipation=None,
                                        parameters={"m": 2.0, "k": 8.0})
    assert s.coordinates == ["x"]
    assert s.parameters == {"m": 2.0, "k": 8.0}
    assert isinstance(s.name, str)
    np.testing.assert_allclose(s.eom([1.0], [0.0]), [-4.0], rtol=1e-15)
    free = lagrange.System.from_lagrangian(coordinates=["x", "y"], lagrangian="0.5*(x_dot^2 + y_dot^2)")
    assert free.parameters == {}
    np.testing.assert_array_equal(free.eom([1.0, 2.0], [3.0, 4.0]), [0.0, 0.0])


def test_from_lagrangian_errors_name_the_problem():
    with pytest.raises(ValueError, match="column") as e:
        lagrange.System.from_lagrangian(coordinates=["x"], lagrangian="0.5*x_dot^2 - y")
    assert "y" in str(e.value)
    with pytest.raises(ValueError, match="k"):   # an identifier without a value
        lagrange.System.from_lagrangian(coordinates=["x"], lagrangian=HO_L, parameters={"m": 1.0})
    with pytest.raises(ValueError, match="c"):
        lagrange.System.from_lagrangian(coordinates=["x"], lagrangian=HO_L, dissipation="0.5*c*x_dot^2",
                                        parameters={"m": 1.0, "k": 1.0})
    with pytest.raises(ValueError, match="k"):
        lagrange.System.from_lagrangian(coordinates=["x"], lagrangian=HO_L,
                                        parameters={"m": 1.0, "k": float("inf")})


def test_load_every_kind_of_system(tmp_path):
    toml = lagrange.System.load(str(EXAMPLES / "damped-oscillator.toml"))
    assert toml.coordinates == ["x"] and toml.parameters == {"m": 1.0, "k": 4.0, "c": 0.3}
    assert lagrange.System.load(EXAMPLES / "damped-oscillator.toml").parameters == toml.parameters
    builtin = lagrange.System.load("double-pendulum")
    assert builtin.coordinates == list(DP_NAMES)
    model = lagrange.System.load(ROOT / "docs" / "neural" / "lnn-clean.json")
    assert model.coordinates == list(DP_NAMES)
    a = model.eom([0.1, -0.2], [0.3, 0.0])
    assert a.shape == (2,) and np.all(np.isfinite(a))
    with pytest.raises(ValueError, match="no-such-system"):
        lagrange.System.load("no-such-system")
    with pytest.raises(ValueError):
        lagrange.System.load(tmp_path)                      # a directory
    with pytest.raises(ValueError, match="missing.json"):
        lagrange.System.load(tmp_path / "missing.json")


def test_load_model_matches_cli_eom(cli):
    path = ROOT / "docs" / "neural" / "lnn-clean.json"
    out = run_cli(cli, "eom", str(path), "--state", "theta1=0.1,theta2=-0.2,theta1_dot=0.3,theta2_dot=0.4")
    import json
    ref = json.loads(out)
    a = lagrange.System.load(path).eom([0.1, -0.2], [0.3, 0.4])
    np.testing.assert_allclose(a, ref["q_ddot"], rtol=1e-12, atol=1e-14)


def test_with_parameters_returns_a_new_system(dp, rng):
    q, qd = rng.uniform(-2, 2, 2), rng.uniform(-2, 2, 2)
    before = dp.eom(q, qd)
    heavier = dp.with_parameters(m1=3.0, g=1.62)
    assert isinstance(heavier, lagrange.System)
    assert heavier.parameters == {**DP_DEFAULTS, "m1": 3.0, "g": 1.62}
    assert dp.parameters == DP_DEFAULTS                       # unchanged
    np.testing.assert_array_equal(dp.eom(q, qd), before)
    assert not np.allclose(heavier.eom(q, qd), before)
    assert heavier.coordinates == dp.coordinates
    assert dp.with_parameters().parameters == DP_DEFAULTS
    text = lagrange.System.from_lagrangian(coordinates=["x"], lagrangian=HO_L, parameters={"m": 1.0, "k": 4.0})
    np.testing.assert_allclose(text.with_parameters(k=9.0).eom([1.0], [0.0]), [-9.0], rtol=1e-15)


def test_with_parameters_errors(dp):
    with pytest.raises(ValueError, match="zz"):
        dp.with_parameters(zz=1.0)
    with pytest.raises(ValueError, match="l2"):
        dp.with_parameters(l2=0.0)
    with pytest.raises(ValueError, match="g"):
        dp.with_parameters(g=float("nan"))
    assert dp.parameters == DP_DEFAULTS


def test_returned_lists_and_dicts_are_copies(dp):
    dp.parameters["m1"] = 100.0
    dp.coordinates.append("z")
    assert dp.parameters == DP_DEFAULTS and dp.coordinates == list(DP_NAMES)


def test_repr_is_a_string(dp):
    assert isinstance(repr(dp), str) and isinstance(str(dp), str)


def test_pathlike_is_not_text(tmp_path):
    # os.PathLike is always a path: a missing file is reported as such, not parsed as TOML text
    with pytest.raises(ValueError, match="missing"):
        lagrange.System.from_toml(pathlib.Path(tmp_path, "missing"))
    assert os.fspath(_PathLike("a")) == "a"
