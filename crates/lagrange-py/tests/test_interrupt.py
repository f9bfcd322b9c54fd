"""Ctrl-C reaches a long `simulate`: the run goes on without the GIL, and looks for signals
every 50 ms (taking the GIL back for that moment)."""
from __future__ import annotations

import _thread
import threading

import pytest

import lagrange


def test_keyboard_interrupt_stops_a_long_run():
    chain = lagrange.System.builtin("chain", n=8)
    q0, q_dot0 = chain.initial_state
    # ≈ 4·10⁵ rk4 steps by dual numbers: seconds of work, far longer than the 0.2 s wait
    timer = threading.Timer(0.2, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            chain.simulate(q0, q_dot0, t_end=400.0, dt=1e-3, integrator="rk4", evaluator="autodiff")
    finally:
        timer.cancel()
    # the system is still usable afterwards
    assert chain.eom(q0, q_dot0).shape == (8,)
