"""Shared fixtures of the Python bindings' tests.

The tests check the `lagrange` module against the API contract, against independent oracles
(closed forms, the exact discrete maps of Euler and RK4, the SymPy derivation in
tools/double_pendulum_sympy.py) and against the `lagrange` CLI built from this workspace, which
the Python functions mirror (the `cli` fixture builds it with cargo, or takes LAGRANGE_CLI).
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
for extra in (ROOT / "tools", ROOT / "examples" / "python"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import lagrange  # noqa: E402

EXAMPLES = ROOT / "examples"
HO_L = "0.5*m*x_dot^2 - 0.5*k*x^2"
DP_NAMES = ("theta1", "theta2")


def rel_err(a, b) -> float:
    """max |a − b| / max |b| over the last axis, worst case over the batch (0 when both are 0)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    a2 = a.reshape(-1, a.shape[-1]) if a.ndim else a.reshape(1, 1)
    b2 = b.reshape(-1, b.shape[-1]) if b.ndim else b.reshape(1, 1)
    num = np.max(np.abs(a2 - b2), axis=-1)
    den = np.max(np.abs(b2), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > 0, num / np.where(den > 0, den, 1.0), num)
    return float(np.max(r)) if r.size else 0.0


def random_dp_states(rng, count):
    """Random double-pendulum states: angles in [−π, π], rates in [−3, 3] rad/s."""
    q = rng.uniform(-np.pi, np.pi, size=(count, 2))
    q_dot = rng.uniform(-3.0, 3.0, size=(count, 2))
    return q, q_dot


@pytest.fixture
def rng():
    return np.random.default_rng(20240614)


@pytest.fixture
def ho():
    """½ m ẋ² − ½ k x², m = 1, k = 4: ω = 2."""
    return lagrange.System.from_lagrangian(coordinates=["x"], lagrangian=HO_L,
                                           parameters={"m": 1.0, "k": 4.0})


@pytest.fixture
def dp():
    return lagrange.System.builtin("double-pendulum")


def _cargo_target_dir() -> pathlib.Path:
    meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                          cwd=ROOT, check=True, capture_output=True, text=True)
    return pathlib.Path(json.loads(meta.stdout)["target_directory"])


@pytest.fixture(scope="session")
def cli() -> str:
    """The `lagrange` CLI of this workspace (LAGRANGE_CLI, else built with `cargo --profile ci`)."""
    given = os.environ.get("LAGRANGE_CLI")
    if given:
        return given
    subprocess.run(["cargo", "build", "--profile", "ci", "-p", "lagrange-cli", "--quiet"],
                   cwd=ROOT, check=True)
    exe = _cargo_target_dir() / "ci" / "lagrange"
    assert exe.exists(), exe
    return str(exe)


def run_cli(cli_path: str, *args: str) -> str:
    """Runs the CLI, fails the test with its stderr if it exits non-zero, returns stdout."""
    done = subprocess.run([cli_path, *args], capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(args)}: {done.stderr}"
    return done.stdout


def cli_error(cli_path: str, *args: str) -> str:
    """Runs the CLI expecting an input error (exit 2) and returns its message without `error: `."""
    done = subprocess.run([cli_path, *args], capture_output=True, text=True)
    assert done.returncode == 2, (done.returncode, done.stderr)
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("error: "), line
    return line[len("error: "):]


def read_csv(path) -> dict[str, np.ndarray]:
    """A CSV with a header row as a dict of float64 columns (the order of the header)."""
    with open(path) as f:
        header = f.readline().strip().split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return {name: data[:, i].copy() for i, name in enumerate(header)}


def write_csv(path, columns: dict) -> None:
    """Writes a dict of 1-D columns as CSV with a header, every number in round-trip form."""
    names = list(columns)
    rows = np.column_stack([np.asarray(columns[k], dtype=np.float64) for k in names])
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for row in rows:
            f.write(",".join(repr(float(v)) for v in row) + "\n")
