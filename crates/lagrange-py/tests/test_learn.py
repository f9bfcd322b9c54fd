"""generate and learn: columns and boxes, seeds, noise, parity with the CLI's `generate` and
`learn` on the same inputs, every form of `data` and `model`, fit/fix/optimizer, and the learn
loss against the residual of `eom` (learn's loss is Σ_samples ‖q̈_data − q̈_model‖²)."""
from __future__ import annotations

import json

import numpy as np
import pytest

import lagrange
from conftest import EXAMPLES, HO_L, read_csv, rel_err, run_cli, write_csv

HO_TOML = EXAMPLES / "harmonic-oscillator.toml"          # m = 1, k = 4 (the initial guesses)


def test_generate_columns_box_and_accelerations(ho):
    d = lagrange.generate(ho, 200, box={"x": (-2.0, 2.0), "x_dot": (-3.0, 3.0)}, seed=1)
    assert list(d) == ["x", "x_dot", "x_ddot"]
    for v in d.values():
        assert isinstance(v, np.ndarray) and v.dtype == np.float64 and v.shape == (200,)
    assert -2 <= d["x"].min() and d["x"].max() <= 2 and d["x"].max() - d["x"].min() > 3
    assert -3 <= d["x_dot"].min() and d["x_dot"].max() <= 3 and d["x_dot"].max() - d["x_dot"].min() > 5
    # noise-free accelerations are the system's q̈ (k = 4, m = 1)
    np.testing.assert_allclose(d["x_ddot"], -4.0 * d["x"], rtol=1e-15)
    # unnamed dimensions use [-1, 1]
    d = lagrange.generate(ho, 200, box={"x": (5.0, 6.0)}, seed=1)
    assert 5 <= d["x"].min() and d["x"].max() <= 6
    assert -1 <= d["x_dot"].min() and d["x_dot"].max() <= 1
    d = lagrange.generate(ho, 200)
    assert -1 <= d["x"].min() and d["x"].max() <= 1


def test_generate_column_order_for_two_coordinates(dp):
    d = lagrange.generate(dp, 30, seed=5)
    assert list(d) == ["theta1", "theta2", "theta1_dot", "theta2_dot", "theta1_ddot", "theta2_ddot"]
    q = np.column_stack([d["theta1"], d["theta2"]])
    qd = np.column_stack([d["theta1_dot"], d["theta2_dot"]])
    assert rel_err(np.column_stack([d["theta1_ddot"], d["theta2_ddot"]]), dp.eom(q, qd)) < 1e-12


def test_generate_seed_and_noise(ho):
    a = lagrange.generate(ho, 100, seed=7)
    b = lagrange.generate(ho, 100, seed=7)
    c = lagrange.generate(ho, 100, seed=8)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
        assert not np.array_equal(a[k], c[k])
    n = lagrange.generate(ho, 2000, noise=0.1, seed=7)
    # σ = 0.1 × RMS on every column: x_ddot no longer equals −4x, by about 0.1·RMS(x_ddot)·√2
    resid = n["x_ddot"] + 4.0 * n["x"]
    rms = np.sqrt(np.mean((4.0 * n["x"]) ** 2))
    assert 0.05 * rms < np.std(resid) < 0.3 * rms


def test_generate_matches_cli(ho, cli, tmp_path):
    out = tmp_path / "g.csv"
    run_cli(cli, "generate", str(HO_TOML), "--samples", "50", "--box", "x=-2:2,x_dot=-3:3",
            "--noise", "0.1", "--seed", "11", "--out", str(out))
    c = read_csv(out)
    d = lagrange.generate(lagrange.System.from_toml(HO_TOML), 50, box={"x": (-2, 2), "x_dot": (-3, 3)},
                          noise=0.1, seed=11)
    assert list(d) == list(c)
    for k in c:                                # the CSV holds round-trip numbers: bit for bit
        np.testing.assert_array_equal(d[k], c[k], err_msg=k)


def cli_learn(cli, tmp_path, data, *args):
    csv = tmp_path / "data.csv"
    write_csv(csv, data)
    return json.loads(run_cli(cli, "learn", "--data", str(csv), "--out", "-", "--quiet", *args))


def test_learn_result_has_the_cli_keys_and_values(cli, tmp_path):
    truth = lagrange.System.from_toml(HO_TOML).with_parameters(k=2.5)
    data = lagrange.generate(truth, 300, box={"x": (-2, 2), "x_dot": (-3, 3)}, noise=0.05, seed=3)
    r = lagrange.learn(data, str(HO_TOML), fit=["k"], fix={"m": 1.0})
    c = cli_learn(cli, tmp_path, data, "--model", str(HO_TOML), "--fit", "k", "--fix", "m=1")
    assert set(r) == set(c)
    for key in ("parameters", "loss", "mean_loss", "uncertainty"):
        assert r[key] == pytest.approx(c[key], rel=1e-12), key
    for key in ("parameter_order", "initial", "fixed", "optimizer", "iterations", "converged",
                "not_identifiable", "coordinates", "samples", "stop_reason"):
        assert r[key] == c[key], key
    assert r["fixed"] == {"m": 1.0} and r["initial"] == {"k": 4.0}
    assert r["parameters"]["k"] == pytest.approx(2.5, rel=0.02)
    assert isinstance(r["history"], list) and r["history"]


def test_learn_loss_is_the_eom_residual():
    truth = lagrange.System.from_toml(HO_TOML).with_parameters(k=2.5)
    data = lagrange.generate(truth, 300, box={"x": (-2, 2), "x_dot": (-3, 3)}, noise=0.05, seed=3)
    r = lagrange.learn(data, truth, fit=["k"], fix={"m": 1.0})
    fitted = truth.with_parameters(**r["parameters"])
    a = fitted.eom(data["x"][:, None], data["x_dot"][:, None])[:, 0]
    loss = float(np.sum((data["x_ddot"] - a) ** 2))
    assert r["loss"] == pytest.approx(loss, rel=1e-10)
    assert r["mean_loss"] == pytest.approx(loss / 300, rel=1e-10)
    # and the fit is a minimum of that residual along k
    for dk in (-1e-3, 1e-3):
        other = truth.with_parameters(k=r["parameters"]["k"] + dk)
        b = other.eom(data["x"][:, None], data["x_dot"][:, None])[:, 0]
        assert np.sum((data["x_ddot"] - b) ** 2) > loss


def model_forms():
    text = HO_TOML.read_text()
    return {
        "toml path str": str(HO_TOML),
        "toml pathlib": HO_TOML,
        "toml text": text,
        "system": lagrange.System.from_toml(HO_TOML),
        "text system": lagrange.System.from_lagrangian(coordinates=["x"], lagrangian=HO_L,
                                                       parameters={"m": 1.0, "k": 4.0}),
    }


@pytest.mark.parametrize("form", list(model_forms()))
def test_learn_model_forms_agree(form, tmp_path):
    truth = lagrange.System.from_toml(HO_TOML).with_parameters(k=2.5)
    data = lagrange.generate(truth, 200, box={"x": (-2, 2), "x_dot": (-3, 3)}, seed=1)
    r = lagrange.learn(data, model_forms()[form], fit=["k"], fix={"m": 1.0})
    assert r["parameters"]["k"] == pytest.approx(2.5, rel=1e-10)
    assert r["loss"] < 1e-18 * 200
    assert r["initial"] == {"k": 4.0}


def test_learn_from_csv_path_equals_from_dict(tmp_path):
    truth = lagrange.System.from_toml(HO_TOML).with_parameters(k=2.5)
    data = lagrange.generate(truth, 200, box={"x": (-2, 2), "x_dot": (-3, 3)}, noise=0.1, seed=2)
    csv = tmp_path / "d.csv"
    write_csv(csv, data)
    a = lagrange.learn(data, HO_TOML, fit=["k"], fix={"m": 1.0})
    b = lagrange.learn(str(csv), HO_TOML, fit=["k"], fix={"m": 1.0})
    c = lagrange.learn(csv, HO_TOML, fit=["k"], fix={"m": 1.0})          # os.PathLike too
    assert a["parameters"] == b["parameters"] == c["parameters"]
    assert a["loss"] == b["loss"] == c["loss"]


def test_learn_uses_a_systems_parameters_as_initial_guesses():
    truth = lagrange.System.from_toml(HO_TOML).with_parameters(k=2.5)
    data = lagrange.generate(truth, 100, seed=4)
    r = lagrange.learn(data, truth.with_parameters(k=3.0), fit=["k"], fix={"m": 1.0})
    assert r["initial"] == {"k": 3.0}
    assert r["parameters"]["k"] == pytest.approx(2.5, rel=1e-10)


def test_learn_fit_none_fits_everything_not_fixed_and_reports_the_flat_direction():
    truth = lagrange.System.from_toml(HO_TOML).with_parameters(k=2.5)
    data = lagrange.generate(truth, 200, box={"x": (-2, 2), "x_dot": (-3, 3)}, seed=1)
    r = lagrange.learn(data, HO_TOML)
    assert set(r["parameters"]) == {"m", "k"}
    assert r["not_identifiable"]                    # only k/m is seen by the motion
    assert r["parameters"]["k"] / r["parameters"]["m"] == pytest.approx(2.5, rel=1e-8)


def test_learn_family_model(cli, tmp_path):
    truth = lagrange.System.from_toml(HO_TOML).with_parameters(k=2.5)
    data = lagrange.generate(truth, 200, box={"x": (-2, 2), "x_dot": (-3, 3)}, seed=1)
    r = lagrange.learn(data, "poly-separable")
    c = cli_learn(cli, tmp_path, data, "--model", "poly-separable")
    assert set(r["parameters"]) == set(c["parameters"])
    assert r["loss"] < 1e-12 * 200                   # the family holds ½ẋ² − ½kx² exactly
    assert set(r) == set(c)


def test_learn_adam(cli, tmp_path):
    truth = lagrange.System.from_toml(HO_TOML).with_parameters(k=2.5)
    data = lagrange.generate(truth, 200, box={"x": (-2, 2), "x_dot": (-3, 3)}, seed=1)
    r = lagrange.learn(data, HO_TOML, fit=["k"], fix={"m": 1.0}, optimizer="adam")
    c = cli_learn(cli, tmp_path, data, "--model", str(HO_TOML), "--fit", "k", "--fix", "m=1",
                  "--optimizer", "adam")
    assert r["optimizer"] == c["optimizer"]
    assert r["parameters"]["k"] == pytest.approx(2.5, rel=1e-6)
    assert r["parameters"]["k"] == pytest.approx(c["parameters"]["k"], rel=1e-12)


def test_learn_double_pendulum_g_and_m2():
    # The data come from the built-in (Rust code); the model is the same Lagrangian as text
    # (examples/double-pendulum.toml), whose parameters learn can differentiate.
    truth = lagrange.System.builtin("double-pendulum", m2=1.7, g=9.0)
    data = lagrange.generate(truth, 400, box={"theta1": (-1, 1), "theta2": (-1, 1)}, noise=0.0, seed=9)
    model = lagrange.System.from_toml(EXAMPLES / "double-pendulum.toml")  # m2 = 1, g = 9.81 as guesses
    r = lagrange.learn(data, model, fit=["m2", "g"])
    assert r["parameters"]["m2"] == pytest.approx(1.7, rel=1e-8)
    assert r["parameters"]["g"] == pytest.approx(9.0, rel=1e-8)
    assert r["fixed"] == {"m1": 1.0, "l1": 1.0, "l2": 1.0}


def test_builtin_is_not_a_model():
    # As with the CLI's --model: a built-in is Rust code over f64 parameters, not differentiable
    # with respect to them; the error says what to use instead.
    data = lagrange.generate(lagrange.System.builtin("double-pendulum"), 50, seed=1)
    with pytest.raises(ValueError, match="from_lagrangian"):
        lagrange.learn(data, lagrange.System.builtin("double-pendulum"), fit=["g"])
