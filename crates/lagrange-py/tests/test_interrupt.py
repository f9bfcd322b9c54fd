"""Ctrl-C reaches a long `simulate`: the run goes on without the GIL, and looks for signals
every 50 ms (taking the GIL back for that moment)."""
from __future__ import annotations

import _thread
import signal
import threading

import pytest

import lagrange


def test_keyboard_interrupt_stops_a_long_run():
    chain = lagrange.System.builtin("chain", n=8)
    q0, q_dot0 = chain.initial_state
    # Python's own SIGINT handler (raising KeyboardInterrupt): a library imported by another test
    # (Dask's cluster) may have left its own, which `interrupt_main` would call instead
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    # 2·10⁶ rk4 steps by dual numbers: about 3 s of work, far longer than the 0.2 s wait
    timer = threading.Timer(0.2, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            chain.simulate(q0, q_dot0, t_end=2000.0, dt=1e-3, integrator="rk4", evaluator="autodiff")
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    # the system is still usable afterwards
    assert chain.eom(q0, q_dot0).shape == (8,)
