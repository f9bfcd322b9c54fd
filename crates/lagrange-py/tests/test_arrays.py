"""Array inputs: ints, float32, lists, non-contiguous views, Fortran order, negative strides,
read-only arrays. Every accepted input must give exactly what its float64 C-contiguous copy gives
(the conversion is exact: int and float32 values are float64 values)."""
from __future__ import annotations

import numpy as np
import pytest

import lagrange
from conftest import random_dp_states


def as_f64(x):
    return np.ascontiguousarray(np.asarray(x, dtype=np.float64))


def check_same(s, q, qd, t=0.0):
    ref_q, ref_qd = as_f64(q), as_f64(qd)
    ref_t = t if np.ndim(t) == 0 else as_f64(t)
    np.testing.assert_array_equal(s.eom(q, qd, t=t, evaluator="autodiff"),
                                  s.eom(ref_q, ref_qd, t=ref_t, evaluator="autodiff"))
    np.testing.assert_array_equal(s.energy(q, qd, t=t), s.energy(ref_q, ref_qd, t=ref_t))
    np.testing.assert_array_equal(s.momenta(q, qd, t=t), s.momenta(ref_q, ref_qd, t=ref_t))
    np.testing.assert_array_equal(s.mass_matrix(q, qd, t=t), s.mass_matrix(ref_q, ref_qd, t=ref_t))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8, np.uint16, np.float32])
def test_integer_and_narrow_float_dtypes(dp, dtype):
    signed = np.issubdtype(dtype, np.signedinteger) or np.issubdtype(dtype, np.floating)
    q = np.array([[1, -2], [0, 3]] if signed else [[1, 2], [0, 3]], dtype=dtype)
    qd = np.array([[2, 0], [-1, 1]] if signed else [[2, 0], [1, 1]], dtype=dtype)
    check_same(dp, q, qd)
    check_same(dp, q[0], qd[0])


def test_float32_random_states(dp, rng):
    q, qd = random_dp_states(rng, 50)
    q32, qd32 = q.astype(np.float32), qd.astype(np.float32)
    check_same(dp, q32, qd32)
    # the float32 values themselves, not a rounding to float32 of the result
    a = dp.eom(q32, qd32)
    assert a.dtype == np.float64


def test_python_lists_tuples_and_scalars(dp):
    check_same(dp, [0.3, -0.2], (0.5, 1))
    check_same(dp, [[0.3, -0.2], [1, 2]], [[0.5, 1.0], [0, 0]])
    ho = lagrange.System.from_lagrangian(coordinates=["x"], lagrangian="0.5*x_dot^2 - 2*x^2")
    np.testing.assert_array_equal(ho.eom([1], [0]), [-4.0])
    assert ho.eom([1.0], [0.0], t=1)[0] == -4.0          # an int time
    assert ho.eom([1.0], [0.0], t=np.float32(0.5))[0] == -4.0


def test_non_contiguous_views(dp, rng):
    big = rng.uniform(-2, 2, size=(40, 4))
    q, qd = big[:, ::2], big[:, 1::2]                  # (40, 2) views, stride 2 along the row
    assert not q.flags.c_contiguous and not qd.flags.c_contiguous
    check_same(dp, q, qd)
    check_same(dp, big[::3, :2], big[::3, 2:])          # every third row
    check_same(dp, big[::-1, :2], big[::-1, 2:])        # negative strides
    check_same(dp, big[5, ::2], big[6, 1::2])           # strided single states
    check_same(dp, big[5, ::-2], big[6, ::-2])
    t = rng.uniform(0, 1, size=80)[::2]                 # a strided time column
    check_same(dp, q, qd, t=t)


def test_fortran_order_and_transposes(dp, rng):
    q, qd = random_dp_states(rng, 30)
    qf, qdf = np.asfortranarray(q), np.asfortranarray(qd)
    assert qf.flags.f_contiguous and not qf.flags.c_contiguous
    check_same(dp, qf, qdf)
    check_same(dp, q.T.copy().T, qd.T.copy().T)         # another way to get F order


def test_read_only_and_broadcast_inputs(dp):
    q = np.array([[0.3, -0.2], [0.1, 0.4]])
    qd = np.array([[0.5, 0.1], [0.0, -1.0]])
    q.setflags(write=False)
    check_same(dp, q, qd)
    zero_stride = np.broadcast_to(np.array([0.3, -0.2]), (5, 2))   # stride 0 along the batch
    check_same(dp, zero_stride, np.zeros((5, 2)))


def test_simulate_accepts_ints_and_lists(ho):
    a = ho.simulate([1], [0], 1, 0.25, integrator="rk4")
    b = ho.simulate(np.array([1.0]), np.array([0.0]), 1.0, 0.25, integrator="rk4")
    np.testing.assert_array_equal(a.q, b.q)
    np.testing.assert_array_equal(a.t, b.t)
    c = ho.simulate(np.array([1.0], dtype=np.float32), np.array([0], dtype=np.int16), 1.0, 0.25, integrator="rk4")
    np.testing.assert_array_equal(c.q, b.q)


def test_generate_and_learn_accept_converted_columns(ho):
    data = lagrange.generate(ho, 64, seed=3)
    as32 = {k: v.astype(np.float32) for k, v in data.items()}
    r32 = lagrange.learn(as32, ho, fit=["k"], fix={"m": 1})
    # the data are the float32 values: the fitted k is close to 4 but need not be exact
    assert r32["parameters"]["k"] == pytest.approx(4.0, rel=1e-5)
    strided = {k: np.repeat(v, 2)[::2] for k, v in data.items()}
    assert strided["x"].strides == (16,) and not strided["x"].flags.c_contiguous
    r = lagrange.learn(strided, ho, fit=["k"], fix={"m": 1.0})
    r_ref = lagrange.learn(data, ho, fit=["k"], fix={"m": 1.0})
    assert r["parameters"] == r_ref["parameters"]
