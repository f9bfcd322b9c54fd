"""Every error path of the contract: ValueError for bad input (with the CLI's message),
SingularMassMatrixError for a degenerate Lagrangian, IntegrationError (with .t) for a numerical
failure during simulate, ValueError naming the expected shape for wrong arrays; and no panic
ever reaching Python (pyo3's PanicException derives from BaseException, so `except Exception`
would not catch it: the adversarial test below would fail on one)."""
from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

import lagrange
from conftest import EXAMPLES, HO_L, cli_error, write_csv

# ---------------------------------------------------------------- shapes and dtypes

def shape_error(fn, *args, **kw):
    with pytest.raises(ValueError) as e:
        fn(*args, **kw)
    msg = str(e.value)
    assert "shape" in msg.lower(), msg
    return msg


@pytest.mark.parametrize("method", ["eom", "energy", "momenta", "mass_matrix"])
def test_wrong_shapes_are_value_errors_naming_the_shape(dp, method):
    f = getattr(dp, method)
    ok = np.zeros(2)
    assert "2" in shape_error(f, np.zeros(3), np.zeros(3))                # (n+1,)
    assert "2" in shape_error(f, ok, np.zeros(3))                         # q̇ of another size
    assert "2" in shape_error(f, np.zeros(1), np.zeros(1))
    shape_error(f, np.zeros((4, 2)), np.zeros((5, 2)))                    # (B, n) vs (B', n)
    assert "2" in shape_error(f, np.zeros((4, 3)), np.zeros((4, 3)))      # (B, n+1)
    shape_error(f, np.zeros((4, 2, 1)), np.zeros((4, 2, 1)))              # 3-D
    shape_error(f, np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))
    shape_error(f, np.float64(1.0), np.float64(1.0))                      # 0-D
    shape_error(f, np.zeros((4, 2)), np.zeros((4, 2)), t=np.zeros(5))     # t of the wrong length
    shape_error(f, np.zeros((4, 2)), np.zeros((4, 2)), t=np.zeros(3))
    shape_error(f, np.zeros((4, 2)), np.zeros((4, 2)), t=np.zeros((4, 1)))  # t 2-D
    with pytest.raises(ValueError) as e:                                  # one state, several times
        f(ok, ok, t=np.zeros(3))
    # "t must be a number for one state" names the expected shape too
    assert "t" in str(e.value) and ("shape" in str(e.value) or "number" in str(e.value)), str(e.value)


@pytest.mark.parametrize("bad", [
    np.array([1 + 2j, 0j]),                      # complex: no lossless conversion to float64
    np.array(["a", "b"]),
    ["a", "b"],
    np.array([None, None], dtype=object),
    [[0.1, 0.2], [0.3]],                         # ragged
])
def test_wrong_dtypes_are_value_errors(dp, bad):
    with pytest.raises(ValueError):
        dp.eom(bad, np.zeros(2))
    with pytest.raises(ValueError):
        dp.eom(np.zeros(2), bad)


def test_simulate_argument_errors(ho, cli):
    with pytest.raises(ValueError, match="shape"):
        ho.simulate([1.0, 2.0], [0.0, 0.0], 1.0, 0.1)
    with pytest.raises(ValueError, match="shape"):
        ho.simulate([1.0], [0.0, 1.0], 1.0, 0.1)
    with pytest.raises(ValueError) as e:
        ho.simulate([1.0], [0.0], 1.0, 0.1, integrator="foo")
    assert "foo" in str(e.value) and "rk4" in str(e.value)
    for dt in (0.0, -0.1, math.nan):
        with pytest.raises(ValueError, match="dt"):
            ho.simulate([1.0], [0.0], 1.0, dt)
    with pytest.raises(ValueError, match="t_end|t-end"):
        ho.simulate([1.0], [0.0], -1.0, 0.1)
    with pytest.raises(ValueError, match="rtol"):
        ho.simulate([1.0], [0.0], 1.0, 0.1, rtol=-1.0)
    with pytest.raises(ValueError, match="atol"):
        ho.simulate([1.0], [0.0], 1.0, 0.1, atol=-1.0)
    with pytest.raises(ValueError, match="jax"):
        ho.simulate([1.0], [0.0], 1.0, 0.1, evaluator="jax")
    with pytest.raises(ValueError):                           # NaN or inf in the initial state
        ho.simulate([math.nan], [0.0], 1.0, 0.1)
    with pytest.raises(ValueError):
        ho.simulate([0.0], [math.inf], 1.0, 0.1)
    assert "unknown integrator 'foo'" in cli_error(cli, "simulate", str(EXAMPLES / "harmonic-oscillator.toml"),
                                                   "--t-end", "1", "--dt", "0.1", "--integrator", "foo",
                                                   "--out", "/dev/null")


def test_simulate_refuses_too_many_rows_with_the_cli_message(ho, cli):
    # refused up front (the CLI's limit: 2·10⁷ output rows), saying that there are too many
    assert "too many" in cli_error(cli, "simulate", str(EXAMPLES / "harmonic-oscillator.toml"),
                                   "--t-end", "1", "--dt", "1e-8", "--out", "/dev/null")
    for t_end, dt in ((1.0, 1e-8), (1.0, 1e-300), (1e300, 1.0)):
        with pytest.raises(ValueError, match="too many"):
            ho.simulate([1.0], [0.0], t_end, dt)


# ---------------------------------------------------------------- degenerate Lagrangians

def test_singular_mass_matrix_error_is_an_arithmetic_error():
    assert issubclass(lagrange.SingularMassMatrixError, ArithmeticError)
    assert issubclass(lagrange.SingularMassMatrixError, Exception)


@pytest.mark.parametrize("lagrangian", ["x_dot - x^2", "0.5*x^2", "x*x_dot", "sin(x) + 3*x_dot"])
def test_degenerate_lagrangian_raises_singular_mass_matrix(lagrangian):
    s = lagrange.System.from_lagrangian(coordinates=["x"], lagrangian=lagrangian)
    for evaluator in ("auto", "autodiff", "compiled"):
        with pytest.raises(lagrange.SingularMassMatrixError, match="singular mass matrix"):
            s.eom([1.0], [0.5], evaluator=evaluator)
        with pytest.raises(lagrange.SingularMassMatrixError):
            s.eom(np.ones((3, 1)), np.zeros((3, 1)), evaluator=evaluator)
    for integrator in ("dopri5", "rk4", "euler", "variational"):
        with pytest.raises(lagrange.SingularMassMatrixError):
            s.simulate([1.0], [0.5], 1.0, 0.1, integrator=integrator)
    # the mass matrix itself is a number like any other: zero here
    np.testing.assert_array_equal(s.mass_matrix([1.0], [0.5]), [[0.0]])
    # and the energy and momenta are defined
    assert math.isfinite(s.energy([1.0], [0.5]))
    assert np.all(np.isfinite(s.momenta([1.0], [0.5])))


def test_singular_at_one_state_of_a_batch():
    # M = 1 + x: singular at x = −1 only
    s = lagrange.System.from_lagrangian(coordinates=["x"], lagrangian="0.5*(1 + x)*x_dot^2 - 0.5*x^2")
    q = np.array([[0.0], [1.0], [-1.0], [2.0]])
    with pytest.raises(lagrange.SingularMassMatrixError):
        s.eom(q, np.zeros((4, 1)))
    assert np.all(np.isfinite(s.eom(q[[0, 1, 3]], np.zeros((3, 1)))))


def test_two_dimensional_degenerate_lagrangian():
    # rank 1: L depends on the velocities only through x_dot + y_dot
    s = lagrange.System.from_lagrangian(coordinates=["x", "y"], lagrangian="0.5*(x_dot + y_dot)^2 - 0.5*x^2")
    with pytest.raises(lagrange.SingularMassMatrixError):
        s.eom([1.0, 0.0], [0.0, 0.0])


# ---------------------------------------------------------------- integration failures

QUARTIC = "0.5*x_dot^2 + 0.25*x^4"


def blow_up_time() -> float:
    """ẍ = x³ from x = 1, ẋ = 1: E = ½ẋ² − ¼x⁴ = ¼, so ẋ = √((1 + x⁴)/2) and
    t* = √2 ∫₁^∞ dx/√(1+x⁴) = (√2/2) ∫₀^∞ dx/√(1+x⁴) (x → 1/x maps [1, ∞) onto (0, 1])
       = Γ(1/4)² / (4√(2π)) ≈ 1.3110287771."""
    closed = math.gamma(0.25) ** 2 / (4 * math.sqrt(2 * math.pi))
    numeric = float(mpmath.sqrt(2) * mpmath.quad(lambda x: 1 / mpmath.sqrt((1 + x**4) / 2) / mpmath.sqrt(2),
                                                 [1, mpmath.inf]))
    assert abs(closed - numeric) < 1e-12
    return closed


def test_blow_up_time_derivation():
    t_star = blow_up_time()
    assert t_star == pytest.approx(1.3110287771460603, rel=1e-14)


@pytest.mark.parametrize("integrator, dt, tol", [
    # RK4 with h = 1e-4 follows x ≈ √2/(t* − t) until x·h ~ 1, then overflows within a few steps
    ("rk4", 1e-4, 1e-3),
    # dopri5's step size collapses at the singularity itself (measured 2e-10 before it)
    ("dopri5", 1e-2, 1e-6),
    # explicit Euler lags the true solution: O(h)-late blow-up (measured 2.1e-3)
    ("euler", 1e-4, 1e-2),
    # variational: Newton stops converging one step before the singularity
    ("variational", 1e-4, 1e-3),
])
def test_integration_error_carries_the_time(integrator, dt, tol):
    s = lagrange.System.from_lagrangian(coordinates=["x"], lagrangian=QUARTIC)
    assert s.eom([1.0], [1.0])[0] == 1.0                                   # ẍ = x³
    assert s.energy([1.0], [1.0]) == 0.25
    with pytest.raises(lagrange.IntegrationError) as e:
        s.simulate([1.0], [1.0], 10.0, dt, integrator=integrator)
    assert isinstance(e.value, Exception)
    t = e.value.t
    assert isinstance(t, float)
    assert abs(t - blow_up_time()) < tol, t
    assert str(e.value)


def test_integration_error_is_not_raised_for_a_regular_run(ho):
    ho.simulate([1.0], [0.0], 5.0, 0.01, integrator="rk4")


# ---------------------------------------------------------------- generate and learn

def test_generate_errors(ho, cli):
    with pytest.raises(ValueError, match="samples"):
        lagrange.generate(ho, 0)
    with pytest.raises(ValueError, match="y"):
        lagrange.generate(ho, 10, box={"y": (-1, 1)})
    with pytest.raises(ValueError):
        lagrange.generate(ho, 10, box={"x": (2, -1)})
    with pytest.raises(ValueError):
        lagrange.generate(ho, 10, box={"x": (0, math.inf)})
    with pytest.raises(ValueError, match="noise"):
        lagrange.generate(ho, 10, noise=-1.0)
    msg = cli_error(cli, "generate", str(EXAMPLES / "harmonic-oscillator.toml"), "--samples", "10",
                    "--box", "y=-1:1", "--out", "/dev/null")
    with pytest.raises(ValueError) as e:
        lagrange.generate(ho, 10, box={"y": (-1, 1)})
    assert msg in str(e.value) or str(e.value) in msg


def test_generate_negative_sample_count_is_value_error(ho):
    with pytest.raises(ValueError, match="samples"):
        lagrange.generate(ho, -1)


def test_learn_errors(ho, tmp_path):
    data = lagrange.generate(ho, 50, seed=1)
    with pytest.raises(ValueError, match="zz"):
        lagrange.learn(data, ho, fit=["zz"])
    with pytest.raises(ValueError, match="zz"):
        lagrange.learn(data, ho, fix={"zz": 1.0})
    with pytest.raises(ValueError, match="nofamily"):
        lagrange.learn(data, "nofamily")
    with pytest.raises(ValueError, match="foo"):
        lagrange.learn(data, ho, optimizer="foo")
    with pytest.raises(ValueError, match="x_ddot"):
        lagrange.learn({"x": data["x"], "x_dot": data["x_dot"]}, ho)
    with pytest.raises(ValueError):                                       # columns of different lengths
        lagrange.learn({"x": data["x"], "x_dot": data["x_dot"][:-1], "x_ddot": data["x_ddot"]}, ho)
    with pytest.raises(ValueError):
        lagrange.learn({**data, "x": np.where(np.arange(50) == 3, np.nan, data["x"])}, ho)
    with pytest.raises(ValueError, match="nofile.csv"):
        lagrange.learn(str(tmp_path / "nofile.csv"), ho)
    bad = tmp_path / "bad.csv"
    write_csv(bad, {"x": data["x"], "x_dot": data["x_dot"]})
    with pytest.raises(ValueError, match="x_ddot"):
        lagrange.learn(str(bad), ho)
    with pytest.raises(ValueError):
        lagrange.learn(data, "coordinates = [\"x\"\nlagrangian = ")          # bad TOML text


# ---------------------------------------------------------------- nothing panics

def adversarial_calls():
    S = lagrange.System
    ho = S.from_lagrangian(coordinates=["x"], lagrangian=HO_L, parameters={"m": 1.0, "k": 4.0})
    yield lambda: S.from_lagrangian(coordinates=[], lagrangian="1")
    yield lambda: S.from_lagrangian(coordinates=["x"], lagrangian="")
    yield lambda: S.from_lagrangian(coordinates=[""], lagrangian="1")
    yield lambda: S.from_lagrangian(coordinates=["x_dot"], lagrangian="x_dot_dot^2")
    yield lambda: S.from_lagrangian(coordinates=["t"], lagrangian="t_dot^2")
    yield lambda: S.from_lagrangian(coordinates=["pi"], lagrangian="pi_dot^2")
    yield lambda: S.from_lagrangian(coordinates=["x", "x"], lagrangian="x_dot^2")
    yield lambda: S.from_lagrangian(coordinates=["x"], lagrangian="0.5*x_dot^2", parameters={"x": 1.0})
    yield lambda: S.from_lagrangian(coordinates=["x"], lagrangian="0.5*x_dot^2", parameters={"x_dot": 1.0})
    yield lambda: S.from_lagrangian(coordinates=["x"], lagrangian="(" * 10_000 + "x_dot" + ")" * 10_000 + "^2")
    yield lambda: S.from_lagrangian(coordinates=["x"], lagrangian="0.5*x_dot^2 - 1/x").eom([0.0], [0.0])
    yield lambda: S.from_lagrangian(coordinates=["x"], lagrangian="0.5*x_dot^2 - log(x)").eom([-1.0], [0.0])
    yield lambda: S.from_lagrangian(coordinates=["x"], lagrangian="0.5*x_dot^2 - x^1e308").eom([2.0], [0.0])
    yield lambda: S.from_lagrangian(coordinates=["x"], lagrangian="0.5*x_dot^2 + exp(x)").simulate([800.0], [0.0], 1.0, 0.1)
    yield lambda: S.from_lagrangian(coordinates=["x"], lagrangian="0.5*x_dot^2 + x").simulate([1e308], [1e308], 1.0, 0.1)
    yield lambda: S.from_lagrangian(coordinates=["x"], lagrangian="0.5*x_dot^2 - sqrt(x)").simulate([1.0], [-5.0], 5.0, 0.01, integrator="rk4")
    yield lambda: S.from_lagrangian(coordinates=["x"], lagrangian="0.5*x_dot^2 - sqrt(x)").simulate([1.0], [-5.0], 5.0, 0.01, integrator="variational")
    yield lambda: S.from_toml("")
    yield lambda: S.from_toml("\x00")
    yield lambda: S.from_toml("coordinates = 3")
    yield lambda: S.builtin("")
    yield lambda: S.builtin("chain", n=0)
    yield lambda: S.builtin("chain", n=1.5)
    yield lambda: S.builtin("chain", n=-3)
    yield lambda: S.builtin("n-body", n=1e12)
    yield lambda: S.builtin("harmonic-oscillator", n=0)
    yield lambda: S.load("")
    yield lambda: ho.eom(np.zeros((0, 1)), np.zeros((0, 1)))
    yield lambda: ho.eom(np.zeros((3, 0)), np.zeros((3, 0)))
    yield lambda: ho.mass_matrix(np.full(1, np.nan), np.zeros(1))
    yield lambda: ho.eom([np.inf], [0.0])
    yield lambda: ho.simulate([1.0], [0.0], 1e300, 1.0)
    yield lambda: ho.simulate([1.0], [0.0], math.inf, 0.1)
    yield lambda: ho.simulate([1.0], [0.0], 1.0, math.inf)
    yield lambda: ho.simulate([1.0], [0.0], 1.0, 0.1, rtol=0.0, atol=0.0)
    yield lambda: ho.simulate([1.0], [0.0], 1.0, 0.1, rtol=1e-300)
    yield lambda: ho.with_parameters(k=1e308).simulate([1e10], [0.0], 1.0, 0.1, integrator="rk4")
    yield lambda: lagrange.generate(ho, 2, box={"x": (0.0, 0.0), "x_dot": (0.0, 0.0)})
    yield lambda: lagrange.generate(ho, 10, box={"x": (1e308, 1.7e308)})
    yield lambda: lagrange.generate(ho, 10, box={"x": "a"})
    yield lambda: lagrange.generate(ho, 10, seed=2**70)
    yield lambda: lagrange.learn({}, ho)
    yield lambda: lagrange.learn({"x": [], "x_dot": [], "x_ddot": []}, ho)
    yield lambda: lagrange.learn({"x": [1.0], "x_dot": [1.0], "x_ddot": [1.0]}, ho)
    yield lambda: lagrange.learn(lagrange.generate(ho, 20), "network:0")
    yield lambda: lagrange.learn(lagrange.generate(ho, 20), "poly-separable:0:0")
    yield lambda: lagrange.learn(lagrange.generate(ho, 20), "poly-separable:99999999999")
    yield lambda: lagrange.learn(lagrange.generate(ho, 20), ho, fit=[])
    yield lambda: lagrange.learn(lagrange.generate(ho, 20), ho, fix={"m": 0.0, "k": 0.0})
    yield lambda: lagrange.learn(lagrange.generate(ho, 20), ho, fix={"m": math.nan})
    yield lambda: lagrange.learn({k: v * 1e300 for k, v in lagrange.generate(ho, 20).items()}, ho)


def test_no_panic_reaches_python():
    import inspect
    src = [line.strip() for line in inspect.getsource(adversarial_calls).splitlines()
           if line.strip().startswith("yield lambda:")]
    bad = []
    for i, call in enumerate(adversarial_calls()):
        try:
            call()
        except BaseException as e:                   # noqa: B036 -- PanicException is a BaseException
            ok = (type(e).__module__ != "pyo3_runtime" and "panic" not in str(e).lower()
                  and isinstance(e, (ValueError, ArithmeticError, lagrange.IntegrationError, TypeError,
                                     OverflowError)))
            if not ok:
                bad.append(f"{src[i][len('yield lambda: '):]} -> {type(e).__module__}.{type(e).__name__}: {e}")
    assert not bad, "\n".join(bad)


HUGE = r"""
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))   # 3 GiB: a huge allocation fails fast
import lagrange
ho = lagrange.System.from_lagrangian(coordinates=["x"], lagrangian="0.5*x_dot^2 - 0.5*x^2")
for call in (lambda: lagrange.generate(ho, 10**12), lambda: lagrange.generate(ho, 2 * 10**9)):
    try:
        call()
        print("no error")
    except ValueError as e:
        print("ValueError:", e)
"""


def test_huge_requests_are_refused_up_front(cli):
    # the CLI estimates the memory and refuses over 4 GiB before any work; so must generate
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", HUGE], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("ValueError:") and "memory" in line for line in lines), lines
    assert "memory" in cli_error(cli, "generate", str(EXAMPLES / "harmonic-oscillator.toml"),
                                 "--samples", "1000000000000", "--out", "/dev/null")
