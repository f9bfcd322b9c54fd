"""Type stubs of the native module `lagrange._lagrange` (re-exported by `lagrange`)."""

import os
from typing import Any, Literal, Mapping, Optional, Sequence, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

__version__: str

ArrayLike = npt.ArrayLike
Evaluator = Literal["auto", "autodiff", "compiled"]
Integrator = Literal["euler", "rk4", "dopri5", "variational"]
PathLike = Union[str, "os.PathLike[str]"]

class SingularMassMatrixError(ArithmeticError):
    """The mass matrix ∂²L/∂q̇² is singular at the state: L is degenerate in the velocities there."""

class IntegrationError(RuntimeError):
    """A run failed numerically (blow-up, singular mass matrix, step-size underflow, no Newton
    convergence)."""

    t: float
    """The time at which it failed."""

class Trajectory:
    """States at the output times of `System.simulate`."""

    t: npt.NDArray[np.float64]
    """Output times, shape (T,)."""
    q: npt.NDArray[np.float64]
    """Positions, shape (T, n)."""
    q_dot: npt.NDArray[np.float64]
    """Velocities, shape (T, n)."""
    energy: npt.NDArray[np.float64]
    """Energy (Jacobi integral) at each row, shape (T,); NaN for a model without a Lagrangian."""
    coordinates: list[str]
    """The coordinates: the columns of `q` and `q_dot`."""
    integrator: str
    """The integrator that ran."""
    evaluator: str
    """Which code evaluated q̈ (autodiff, compiled or network) and, for "auto", why."""
    def __len__(self) -> int: ...

class System:
    """A mechanical system: its Lagrangian, its parameters, and everything derived from L by
    automatic differentiation. Immutable and picklable."""

    @staticmethod
    def builtin(name: str, **params: float) -> "System":
        """A built-in system by name (see `lagrange systems`), parameters overridden by keyword."""
    @staticmethod
    def from_toml(source: PathLike) -> "System":
        """A system from a TOML system file (path) or from TOML text (a str containing '=' or a newline)."""
    @staticmethod
    def from_lagrangian(
        coordinates: Sequence[str],
        lagrangian: str,
        dissipation: Optional[str] = None,
        parameters: Optional[Mapping[str, float]] = None,
        name: Optional[str] = None,
    ) -> "System":
        """A system from its Lagrangian as text (velocities are `<q>_dot`), with an optional
        Rayleigh dissipation function F(q, q̇)."""
    @staticmethod
    def load(path: PathLike) -> "System":
        """Any SYSTEM the CLI accepts: a TOML file (particles or a lattice field), a trained
        model (.json from `lagrange train`) or a built-in name."""
    @property
    def coordinates(self) -> list[str]:
        """The generalized coordinates, in order."""
    @property
    def parameters(self) -> dict[str, float]:
        """The parameters and their values."""
    @property
    def name(self) -> str:
        """The system's name."""
    @property
    def lagrangian(self) -> str:
        """The Lagrangian, as text."""
    @property
    def initial_state(self) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The default initial state (q, q_dot)."""
    def with_parameters(self, **params: float) -> "System":
        """A new system with some parameters changed."""
    def eom(
        self,
        q: ArrayLike,
        q_dot: ArrayLike,
        t: Union[float, ArrayLike] = 0.0,
        evaluator: Evaluator = "auto",
    ) -> npt.NDArray[np.float64]:
        """q̈ at (q, q_dot, t): shape (n,) for one state, (B, n) for a batch (t a number or (B,))."""
    @overload
    def energy(self, q: Sequence[float], q_dot: Sequence[float], t: float = 0.0) -> float: ...
    @overload
    def energy(
        self, q: ArrayLike, q_dot: ArrayLike, t: Union[float, ArrayLike] = 0.0
    ) -> Union[float, npt.NDArray[np.float64]]:
        """The Jacobi integral: a float for one state, shape (B,) for a batch."""
    def momenta(
        self, q: ArrayLike, q_dot: ArrayLike, t: Union[float, ArrayLike] = 0.0
    ) -> npt.NDArray[np.float64]:
        """The canonical momenta ∂L/∂q̇: shape (n,) or (B, n)."""
    def mass_matrix(
        self, q: ArrayLike, q_dot: ArrayLike, t: Union[float, ArrayLike] = 0.0
    ) -> npt.NDArray[np.float64]:
        """∂²L/∂q̇²: shape (n, n) or (B, n, n)."""
    def simulate(
        self,
        q0: ArrayLike,
        q_dot0: ArrayLike,
        t_end: float,
        dt: float,
        integrator: Integrator = "dopri5",
        rtol: float = 1e-9,
        atol: float = 1e-12,
        evaluator: Evaluator = "auto",
    ) -> Trajectory:
        """Integrates from t = 0 to t_end with a row every dt."""
    def __eq__(self, other: object) -> bool: ...

def generate(
    system: System,
    samples: int,
    box: Optional[Mapping[str, Tuple[float, float]]] = None,
    noise: float = 0.0,
    seed: int = 0,
    trajectories: Optional[int] = None,
    t_end: Optional[float] = None,
) -> dict[str, npt.NDArray[np.float64]]:
    """A synthetic dataset (q, q̇, q̈) as a dict of columns named like `lagrange generate`'s CSV."""

def learn(
    data: Union[Mapping[str, ArrayLike], PathLike],
    model: Union[System, str, "os.PathLike[str]"],
    fit: Optional[Sequence[str]] = None,
    fix: Optional[Mapping[str, float]] = None,
    init: Optional[Mapping[str, float]] = None,
    optimizer: Literal["lm", "adam"] = "lm",
    iterations: Optional[int] = None,
    learning_rate: Optional[float] = None,
    seed: int = 0,
    engine: Evaluator = "auto",
) -> dict[str, Any]:
    """Fits a model's parameters to data; returns the CLI's result.json as a dict."""
