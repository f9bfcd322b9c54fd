"""Exact equations of motion, trajectories and learning from a Lagrangian written as text.

The engine is Rust (the `lagrange` workspace); this package is its Python face::

    import lagrange
    S = lagrange.System.from_lagrangian(["x"], "0.5*m*x_dot^2 - 0.5*k*x^2",
                                        parameters={"m": 1.0, "k": 4.0})
    S.eom([1.0], [0.0])                      # array([-4.])
    tr = S.simulate([1.0], [0.0], t_end=10.0, dt=0.01)
    tr.q[:, 0]                               # cos(2 t)

See the README's Python section for the whole API.
"""

from ._lagrange import (
    IntegrationError,
    SingularMassMatrixError,
    System,
    Trajectory,
    __version__,
    generate,
    learn,
)

__all__ = [
    "IntegrationError",
    "SingularMassMatrixError",
    "System",
    "Trajectory",
    "__version__",
    "generate",
    "learn",
]
