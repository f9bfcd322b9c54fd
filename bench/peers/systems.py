"""Benchmark systems shared by every Python peer (numpy, SymPy, JAX, PyTorch).

The systems are the ones of lagrange's Rust benchmarks, with the same parameters:

  ho1        L = ½ m q̇² − ½ k q²                                   m = k = 1
  dpend      L = ½(m1+m2) l1² θ̇1² + ½ m2 l2² θ̇2² + m2 l1 l2 θ̇1 θ̇2 cos(θ1−θ2)
                 + (m1+m2) g l1 cos θ1 + m2 g l2 cos θ2             m = l = 1, g = 9.81
  cyclotron  L = ½ m |v|² + ½ qB (x ẏ − y ẋ)   (3-D)                m = 1, qB = 2
  chainN     L = Σ ½ q̇ᵢ² − ½ Σ_{i=0..N} (q_{i+1} − q_i)²,  q_0 = q_{N+1} = 0
                                                                    N ∈ {4, 16, 64, 256, 1024}
  nbodyN     L = Σ ½ |ṙᵢ|² + Σ_{i<j} G mᵢ mⱼ / sqrt(|rᵢ − rⱼ|² + ε²)  (2-D)
                 unit masses, G = 1, ε = 0.01, coordinates x1, y1, x2, y2, …   N ∈ {8, 64}

Each system provides
  * ``lagrangian(q, qd, ops)`` written once for array back-ends (JAX, PyTorch): ``ops`` supplies
    ``cos``, ``sqrt``, ``sum`` and ``index`` (turns a numpy index array into the back-end's kind);
  * ``sympy_lagrangian(q, qd)`` for SymPy (lists of symbols / dynamicsymbols);
  * ``hand(q, qd)``: the hand-derived q̈ for one state (1-D numpy arrays), vectorized numpy;
  * ``hand_batch(Q, QD)``: the same over a batch (arrays of shape (B, n));
  * deterministic states: ``states(system, count)`` (fixed seed per system), so every peer
    evaluates the same states; ``states(...)[0]`` is the single state of the latency and RK4 runs.

Run ``python systems.py`` for a self-check (hand EOMs vs bench/reference/qddot.json and vs a
finite-difference Euler–Lagrange residual).
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
import zlib
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# PEER_RESULTS: where <peer>.json goes (`lagrange bench --peers` points it at a scratch folder)
RESULTS = os.environ.get("PEER_RESULTS") or os.path.join(HERE, "results")
# PEER_STATES: a state file written by `lagrange bench --peers` ({system, n, params, reference,
# states: [{q, q_dot, q_ddot_ref}]}): the system's parameters and the exact states of the Rust run.
STATES_FILE = os.environ.get("PEER_STATES") or None

# --------------------------------------------------------------------------------------------
# benchmark settings shared by all peers
# --------------------------------------------------------------------------------------------
BATCH = 10_000          # states in the batched-throughput measurement
RK4_STEPS = 10_000      # RK4 steps
RK4_DT = 1e-3           # RK4 step
ERR_STATES = 100        # states in the accuracy check
# per-measurement time box in seconds: a measurement whose estimate exceeds it is capped
# (fewer states / steps, extrapolated and said so in the note) or skipped.
BUDGET_S = float(os.environ.get("PEER_BUDGET_S", "20"))
SEED = 20_240_917


@dataclass
class System:
    name: str
    family: str
    n: int                                   # degrees of freedom
    lagrangian: Callable                     # (q, qd, ops) -> scalar
    sympy_lagrangian: Callable               # (q list, qd list) -> sympy expr
    hand: Callable                           # (q, qd) -> q̈ (numpy, one state)
    hand_batch: Callable                     # (Q, QD) -> Q̈ (numpy, (B, n))
    gen: Callable                            # (rng, count) -> (Q, QD)
    params: dict = field(default_factory=dict)
    constant_mass: bool = True               # ∂²L/∂q̇² independent of the state


# --------------------------------------------------------------------------------------------
# ho1
# --------------------------------------------------------------------------------------------
def _ho1() -> System:
    m, k = 1.0, 1.0

    def lag(q, qd, ops):
        return ops.sum(0.5 * m * qd * qd - 0.5 * k * q * q)

    def slag(q, qd):
        return m * qd[0] ** 2 / 2 - k * q[0] ** 2 / 2

    def hand(q, qd):
        return (-k / m) * q

    def gen(rng, count):
        return rng.uniform(-1, 1, (count, 1)), rng.uniform(-1, 1, (count, 1))

    return System("ho1", "ho1", 1, lag, slag, hand, hand, gen, {"m": m, "k": k})


# --------------------------------------------------------------------------------------------
# dpend
# --------------------------------------------------------------------------------------------
def _dpend() -> System:
    m1 = m2 = l1 = l2 = 1.0
    g = 9.81

    def lag(q, qd, ops):
        t1, t2 = q[0], q[1]
        w1, w2 = qd[0], qd[1]
        return (0.5 * (m1 + m2) * l1 * l1 * w1 * w1 + 0.5 * m2 * l2 * l2 * w2 * w2
                + m2 * l1 * l2 * w1 * w2 * ops.cos(t1 - t2)
                + (m1 + m2) * g * l1 * ops.cos(t1) + m2 * g * l2 * ops.cos(t2))

    def slag(q, qd):
        import sympy as sp
        t1, t2 = q
        w1, w2 = qd
        M1, M2, L1, L2 = (sp.Integer(1),) * 4
        G = sp.Rational(981, 100)
        return (sp.Rational(1, 2) * (M1 + M2) * L1 ** 2 * w1 ** 2 + sp.Rational(1, 2) * M2 * L2 ** 2 * w2 ** 2
                + M2 * L1 * L2 * w1 * w2 * sp.cos(t1 - t2)
                + (M1 + M2) * G * L1 * sp.cos(t1) + M2 * G * L2 * sp.cos(t2))

    # Euler–Lagrange, solved by Cramer's rule:
    #  (m1+m2) l1² θ̈1 + m2 l1 l2 c θ̈2 = −m2 l1 l2 s θ̇2² − (m1+m2) g l1 sin θ1
    #  m2 l1 l2 c θ̈1 + m2 l2² θ̈2      =  m2 l1 l2 s θ̇1² − m2 g l2 sin θ2
    #  c = cos(θ1−θ2), s = sin(θ1−θ2);  det = m2 l1² l2² (m1 + m2 s²)
    def hand_batch(Q, QD):
        t1, t2 = Q[..., 0], Q[..., 1]
        w1, w2 = QD[..., 0], QD[..., 1]
        d = t1 - t2
        c, s = np.cos(d), np.sin(d)
        a11 = (m1 + m2) * l1 * l1
        a12 = m2 * l1 * l2 * c
        a22 = m2 * l2 * l2
        b1 = -m2 * l1 * l2 * s * w2 * w2 - (m1 + m2) * g * l1 * np.sin(t1)
        b2 = m2 * l1 * l2 * s * w1 * w1 - m2 * g * l2 * np.sin(t2)
        det = a11 * a22 - a12 * a12
        return np.stack([(b1 * a22 - a12 * b2) / det, (a11 * b2 - a12 * b1) / det], axis=-1)

    def gen(rng, count):
        return rng.uniform(-np.pi, np.pi, (count, 2)), rng.uniform(-1, 1, (count, 2))

    return System("dpend", "dpend", 2, lag, slag, hand_batch, hand_batch, gen,
                  {"m1": m1, "m2": m2, "l1": l1, "l2": l2, "g": g}, constant_mass=False)


# --------------------------------------------------------------------------------------------
# cyclotron
# --------------------------------------------------------------------------------------------
def _cyclotron() -> System:
    m, qB = 1.0, 2.0

    def lag(q, qd, ops):
        return 0.5 * m * ops.sum(qd * qd) + 0.5 * qB * (q[0] * qd[1] - q[1] * qd[0])

    def slag(q, qd):
        import sympy as sp
        return (sp.Rational(1, 2) * (qd[0] ** 2 + qd[1] ** 2 + qd[2] ** 2)
                + (q[0] * qd[1] - q[1] * qd[0]))   # ½ qB = 1

    # m ẍ = qB ẏ,  m ÿ = −qB ẋ,  z̈ = 0
    def hand_batch(Q, QD):
        out = np.zeros_like(QD)
        out[..., 0] = (qB / m) * QD[..., 1]
        out[..., 1] = (-qB / m) * QD[..., 0]
        return out

    def gen(rng, count):
        return rng.uniform(-1, 1, (count, 3)), rng.uniform(-1, 1, (count, 3))

    return System("cyclotron", "cyclotron", 3, lag, slag, hand_batch, hand_batch, gen,
                  {"m": m, "qB": qB})


# --------------------------------------------------------------------------------------------
# chainN
# --------------------------------------------------------------------------------------------
def _chain(N: int) -> System:
    def lag(q, qd, ops):
        d = q[1:] - q[:-1]
        return 0.5 * ops.sum(qd * qd) - 0.5 * (q[0] * q[0] + q[-1] * q[-1] + ops.sum(d * d))

    def slag(q, qd):
        import sympy as sp
        qq = [sp.Integer(0)] + list(q) + [sp.Integer(0)]
        kin = sum(v ** 2 for v in qd) / 2
        pot = sum((qq[i + 1] - qq[i]) ** 2 for i in range(N + 1)) / 2
        return kin - pot

    # q̈ᵢ = q_{i−1} − 2 qᵢ + q_{i+1}
    def hand_batch(Q, QD):
        a = -2.0 * Q
        a[..., 1:] += Q[..., :-1]
        a[..., :-1] += Q[..., 1:]
        return a

    def gen(rng, count):
        return rng.uniform(-1, 1, (count, N)), rng.uniform(-1, 1, (count, N))

    return System(f"chain{N}", "chain", N, lag, slag, hand_batch, hand_batch, gen, {"N": N})


# --------------------------------------------------------------------------------------------
# nbodyN
# --------------------------------------------------------------------------------------------
NBODY_CENTRAL_MASS, NBODY_PLANET_MASS = 1.0, 1e-3


def nbody_base_state(N: int) -> tuple[np.ndarray, np.ndarray]:
    """Same as `nbody_base_state` in crates/lagrange-bench/src/cases.rs: body 1 (mass 1) at the
    origin, bodies 2..N (mass 1e-3) on circular orbits of radii 1..4 at the golden angle."""
    golden = np.pi * (3.0 - np.sqrt(5.0))
    q, v = np.zeros(2 * N), np.zeros(2 * N)
    enclosed, px, py = NBODY_CENTRAL_MASS, 0.0, 0.0
    for k in range(1, N):
        r = 1.0 + 3.0 * (k - 1) / (N - 2) if N > 2 else 1.0
        s_, c = np.sin(k * golden), np.cos(k * golden)
        speed = np.sqrt(enclosed / r)
        q[2 * k], q[2 * k + 1] = r * c, r * s_
        v[2 * k], v[2 * k + 1] = -speed * s_, speed * c
        px += NBODY_PLANET_MASS * v[2 * k]
        py += NBODY_PLANET_MASS * v[2 * k + 1]
        enclosed += NBODY_PLANET_MASS
    v[0], v[1] = -px / NBODY_CENTRAL_MASS, -py / NBODY_CENTRAL_MASS
    return q, v


def _nbody(N: int, params: dict | None = None) -> System:
    """Planetary N-body (the Rust benchmark's): masses m1..mN, G, eps from `params` (the state
    file) or the defaults (central mass 1, the others 1e-3, G = 1, eps = 0.01)."""
    params = params or {}
    G, eps = float(params.get("G", 1.0)), float(params.get("eps", 0.01))
    masses = np.array([float(params.get(f"m{i + 1}", NBODY_CENTRAL_MASS if i == 0 else NBODY_PLANET_MASS))
                       for i in range(N)])
    eps2 = eps * eps
    I, J = np.triu_indices(N, 1)
    MM = np.repeat(masses, 2)            # per coordinate
    GMIJ = G * masses[I] * masses[J]     # per pair

    def lag(q, qd, ops):
        x, y = q[0::2], q[1::2]
        i, j = ops.index(I), ops.index(J)
        dx, dy = x[i] - x[j], y[i] - y[j]
        return (0.5 * ops.sum(ops.index(MM) * qd * qd)
                + ops.sum(ops.index(GMIJ) / ops.sqrt(dx * dx + dy * dy + eps2)))

    def slag(q, qd):
        import sympy as sp
        e2 = sp.Rational(repr(eps)) ** 2
        m = [sp.Rational(repr(float(x))) for x in masses]
        g = sp.Rational(repr(G))
        kin = sum(m[k // 2] * v ** 2 for k, v in enumerate(qd)) / 2
        pot = 0
        for a in range(N):
            for b in range(a + 1, N):
                dx = q[2 * a] - q[2 * b]
                dy = q[2 * a + 1] - q[2 * b + 1]
                pot += g * m[a] * m[b] / sp.sqrt(dx ** 2 + dy ** 2 + e2)
        return kin + pot

    # r̈ᵢ = Σ_j G mⱼ (rⱼ − rᵢ) / (|rⱼ − rᵢ|² + ε²)^{3/2}   (the j = i term is 0)
    def hand_batch(Q, QD):
        x, y = Q[..., 0::2], Q[..., 1::2]
        dx = x[..., None, :] - x[..., :, None]                # dx[.., i, j] = x_j − x_i
        dy = y[..., None, :] - y[..., :, None]
        d2 = dx * dx + dy * dy + eps2
        inv3 = G * masses / (d2 * np.sqrt(d2))                # × mⱼ (last axis)
        out = np.empty_like(Q)
        out[..., 0::2] = (inv3 * dx).sum(axis=-1)
        out[..., 1::2] = (inv3 * dy).sum(axis=-1)
        return out

    def gen(rng, count):
        # the planetary base state with ±0.01 perturbations (bounded over the RK4 run)
        q0, v0 = nbody_base_state(N)
        return (q0 + rng.uniform(-0.01, 0.01, (count, 2 * N)),
                v0 + rng.uniform(-0.01, 0.01, (count, 2 * N)))

    return System(f"nbody{N}", "nbody", 2 * N, lag, slag, hand_batch, hand_batch, gen,
                  {"N": N, "G": G, "eps": eps, "masses": masses.tolist()})


# --------------------------------------------------------------------------------------------
# state file (PEER_STATES)
# --------------------------------------------------------------------------------------------
def fnv1a64(data: bytes) -> int:
    """64-bit FNV-1a, as `lagrange_bench::peers::fnv1a64`."""
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


_STATE_DOC = None


def state_doc() -> dict | None:
    """The parsed PEER_STATES file (None without one); `_hash` holds its FNV-1a as hex."""
    global _STATE_DOC
    if _STATE_DOC is None and STATES_FILE:
        with open(STATES_FILE, "rb") as fh:
            raw = fh.read()
        _STATE_DOC = json.loads(raw)
        _STATE_DOC["_hash"] = f"{fnv1a64(raw):016x}"
    return _STATE_DOC


def _file_params(name: str) -> dict | None:
    doc = state_doc()
    return doc["params"] if doc is not None and doc["system"] == name else None


def make_system(name: str) -> System | None:
    """The system called `name` (chainN and nbodyN for any N), with the state file's parameters."""
    fixed = {"ho1": _ho1, "dpend": _dpend, "cyclotron": _cyclotron}
    if name in fixed:
        return fixed[name]()
    for prefix, make in (("chain", _chain), ("nbody", None)):
        rest = name[len(prefix):]
        if name.startswith(prefix) and rest.isdigit() and int(rest) > 0:
            n = int(rest)
            return _chain(n) if make else _nbody(n, _file_params(name))
    return None


NAMES = ["ho1", "dpend", "cyclotron"] + [f"chain{n}" for n in (4, 16, 64, 256, 1024)] + ["nbody8", "nbody64"]


def all_systems() -> list[System]:
    return [make_system(n) for n in NAMES]


def select(argv: list[str] | None = None) -> list[System]:
    """Systems named on the command line (or in $PEER_SYSTEMS, comma-separated), else all."""
    names = [a for a in (argv or []) if not a.startswith("-")]
    if not names and os.environ.get("PEER_SYSTEMS"):
        names = os.environ["PEER_SYSTEMS"].split(",")
    if not names:
        return all_systems()
    missing = [n for n in names if make_system(n) is None]
    if missing:
        raise SystemExit(f"unknown system(s) {missing}; known: {NAMES} (chainN, nbodyN for any N)")
    return [make_system(n) for n in names]


def _file_rows(system: System, count: int, key: str) -> np.ndarray | None:
    """Rows `key` of the state file for `system`, tiled (cyclically) to `count`; None if no file."""
    doc = state_doc()
    if doc is None or doc["system"] != system.name:
        return None
    if int(doc["n"]) != system.n:
        raise SystemExit(f"state file {STATES_FILE}: n = {doc['n']}, {system.name} has n = {system.n}")
    rows = np.array([st[key] for st in doc["states"]], dtype=np.float64)
    return np.ascontiguousarray(rows[np.arange(count) % len(rows)])


def states(system: System, count: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` deterministic states (Q, QD), each of shape (count, n): same for every peer.

    With a state file (PEER_STATES) for this system: its states (those of the Rust run), repeated
    cyclically up to `count`; otherwise drawn from a fixed seed per system."""
    Q = _file_rows(system, count, "q")
    if Q is not None:
        return Q, _file_rows(system, count, "q_dot")
    rng = np.random.default_rng([SEED, zlib.crc32(system.name.encode())])
    Q, QD = system.gen(rng, count)
    return np.ascontiguousarray(Q, dtype=np.float64), np.ascontiguousarray(QD, dtype=np.float64)


def reference(system: System, Q: np.ndarray, QD: np.ndarray) -> np.ndarray:
    """Reference q̈ for the first len(Q) states of `states()`: the state file's q_ddot_ref (the Rust
    run's reference: SymPy at 40 digits or the hand-derived Rust EOM) when there is one, else the
    hand-derived numpy EOM."""
    ref = _file_rows(system, len(Q), "q_ddot_ref")
    return ref if ref is not None else system.hand_batch(Q, QD)


def reference_name(system: System) -> str:
    doc = state_doc()
    if doc is not None and doc["system"] == system.name:
        return f"the Rust run's reference ({doc.get('reference', '?')})"
    return "hand-derived numpy"


def max_rel_err(got: np.ndarray, ref: np.ndarray) -> float:
    """max over states of ‖Δq̈‖∞ / ‖q̈_ref‖∞ (normwise, so zero components do not blow it up)."""
    got = np.asarray(got, dtype=np.float64).reshape(ref.shape)
    ref2 = ref.reshape(-1, ref.shape[-1])
    diff = np.abs(got.reshape(ref2.shape) - ref2).max(axis=1)
    scale = np.maximum(np.abs(ref2).max(axis=1), np.finfo(float).tiny)
    return float((diff / scale).max())


# --------------------------------------------------------------------------------------------
# timing and reporting helpers
# --------------------------------------------------------------------------------------------
def time_per_call(fn: Callable[[], object], min_time: float = 0.1, repeats: int = 7) -> dict:
    """Median (and min/max) seconds per call of `fn` over `repeats` rounds of ≥ `min_time` s."""
    fn()  # warm-up
    one = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        fn()
        one = min(one, max(time.perf_counter() - t0, 1e-7))
    k = max(1, int(min_time / one))
    if k < 5:              # slow calls: more rounds, so the median is not one straggler
        repeats = max(repeats, 15) if one < 0.2 else (7 if one < 1 else 3)
    rounds = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(k):
            fn()
        rounds.append((time.perf_counter() - t0) / k)
    return {"median": statistics.median(rounds), "min": min(rounds), "max": max(rounds),
            "calls": k, "repeats": repeats}


def spread(t: dict) -> str:
    return f"median of {t['repeats']} rounds x {t['calls']} calls, min {t['min']:.3g} max {t['max']:.3g} s"


def rk4_numpy(f: Callable, q0: np.ndarray, qd0: np.ndarray, steps: int, dt: float):
    """Classic RK4 on (q, q̇) with a Python loop; f(q, qd) -> q̈ (numpy)."""
    q, v = q0 * 1, qd0 * 1          # copies (numpy arrays or torch tensors)
    h2, h6 = dt / 2, dt / 6
    for _ in range(steps):
        a1 = f(q, v)
        q2, v2 = q + h2 * v, v + h2 * a1
        a2 = f(q2, v2)
        q3, v3 = q + h2 * v2, v + h2 * a2
        a3 = f(q3, v3)
        q4, v4 = q + dt * v3, v + dt * a3
        a4 = f(q4, v4)
        q = q + h6 * (v + 2 * v2 + 2 * v3 + v4)
        v = v + h6 * (a1 + 2 * a2 + 2 * a3 + a4)
    return q, v


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_records(peer: str, versions: dict) -> list[dict]:
    recs = [
        ("nproc", os.cpu_count(), ""),
        ("cpu_model", _cpu_model(), "/proc/cpuinfo"),
        ("python", platform.python_version(), sys.executable),
        ("platform", platform.platform(), ""),
    ]
    recs += [(f"{k}_version", v, "") for k, v in versions.items()]
    try:
        aff = len(os.sched_getaffinity(0))
        recs.append(("cpus_usable", aff, "sched_getaffinity"))
    except AttributeError:
        pass
    env = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS",
                                       "XLA_FLAGS") if k in os.environ}
    recs.append(("env", json.dumps(env), "relevant environment variables"))
    doc = state_doc()
    if doc is not None:
        recs.append(("states_fnv1a64", doc["_hash"], f"FNV-1a of the state file {STATES_FILE}"))
    recs.append(("loadavg_start", " ".join(f"{x:.2f}" for x in os.getloadavg()),
                 "1/5/15-min load average when the peer started (2-core machine, shared)"))
    return [{"peer": peer, "system": "_machine", "metric": m, "value": v, "unit": "", "note": n}
            for m, v, n in recs]


class Report:
    """Collects records, prints a table, writes results/<peer>.json."""

    def __init__(self, peer: str, versions: dict):
        self.peer = peer
        self.records = machine_records(peer, versions)
        self.t0 = time.perf_counter()
        print(f"# {peer} peer — {_cpu_model()}, nproc {os.cpu_count()}, python {platform.python_version()}, "
              + ", ".join(f"{k} {v}" for k, v in versions.items()))
        print(f"# load average at start: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
        print(f"# per-measurement time box: {BUDGET_S:g} s (PEER_BUDGET_S)")
        print(f"{'system':<10} {'metric':<22} {'value':>12} {'unit':<9} note")

    def add(self, system: str, metric: str, value, unit: str, note: str = ""):
        rec = {"peer": self.peer, "system": system, "metric": metric, "value": value,
               "unit": unit, "note": note}
        self.records.append(rec)
        if isinstance(value, float):
            sval = f"{value:.4g}"
        else:
            sval = str(value)
        print(f"{system:<10} {metric:<22} {sval:>12} {unit:<9} {note}", flush=True)

    def write(self):
        self.records.append({"peer": self.peer, "system": "_machine", "metric": "loadavg_end",
                             "value": " ".join(f"{x:.2f}" for x in os.getloadavg()), "unit": "",
                             "note": "1/5/15-min load average when the peer finished"})
        self.records.append({"peer": self.peer, "system": "_machine", "metric": "wall_time",
                             "value": round(time.perf_counter() - self.t0, 1), "unit": "s",
                             "note": "whole peer script"})
        os.makedirs(RESULTS, exist_ok=True)
        path = os.path.join(RESULTS, f"{self.peer}.json")
        with open(path, "w") as fh:
            json.dump(self.records, fh, indent=1, ensure_ascii=False)
            fh.write("\n")
        print(f"# wrote {os.path.relpath(path)} ({time.perf_counter() - self.t0:.0f} s)")


NUMPY_OPS = SimpleNamespace(cos=np.cos, sqrt=np.sqrt, sum=np.sum, index=lambda a: a)


# --------------------------------------------------------------------------------------------
# self-check
# --------------------------------------------------------------------------------------------
def _el_residual(system: System, q: np.ndarray, qd: np.ndarray, h: float = 1e-5) -> float:
    """‖M q̈ + (∂²L/∂q̇∂q) q̇ − ∂L/∂q‖∞ with q̈ from `hand`, by central differences of L."""
    L = lambda a, b: float(system.lagrangian(a, b, NUMPY_OPS))  # noqa: E731
    n = system.n
    qdd = system.hand(q, qd)

    def grad(fun, x):
        g = np.empty(n)
        for i in range(n):
            e = np.zeros(n)
            e[i] = h
            g[i] = (fun(x + e) - fun(x - e)) / (2 * h)
        return g

    dLdq = grad(lambda x: L(x, qd), q)
    p = lambda a, b: grad(lambda y: L(a, y), b)  # noqa: E731  ∂L/∂q̇
    # d/dt ∂L/∂q̇ along (q̇, q̈) = directional derivative of p
    ddt = (p(q + h * qd, qd + h * qdd) - p(q - h * qd, qd - h * qdd)) / (2 * h)
    return float(np.abs(ddt - dLdq).max() / max(np.abs(dLdq).max(), np.abs(ddt).max(), 1.0))


def self_check() -> int:
    ok = True
    ref_path = os.path.join(HERE, "..", "reference", "qddot.json")
    by = {s.name: s for s in all_systems()}
    if os.path.exists(ref_path):
        with open(ref_path) as fh:
            ref = json.load(fh)
        for name in ("ho1", "dpend", "cyclotron"):
            if name not in ref:
                continue
            s = by[name]
            err = 0.0
            for st in ref[name]["states"]:
                got = s.hand(np.array(st["q"]), np.array(st["q_dot"]))
                want = np.array([float(x) for x in st["q_ddot"]])
                err = max(err, max_rel_err(got[None], want[None]))
            good = err < 1e-13
            ok &= good
            print(f"{name:<10} hand vs bench/reference/qddot.json: max rel err {err:.2e} {'ok' if good else 'FAIL'}")
    for s in all_systems():
        if s.n > 64:
            continue
        Q, QD = states(s, 3)
        res = max(_el_residual(s, Q[i], QD[i]) for i in range(3))
        bat = s.hand_batch(Q, QD)
        one = np.stack([s.hand(Q[i], QD[i]) for i in range(3)])
        good = res < 1e-5 and np.allclose(bat, one, rtol=1e-14, atol=0)
        ok &= good
        print(f"{s.name:<10} finite-difference Euler-Lagrange residual {res:.1e}, batch==single: "
              f"{np.allclose(bat, one, rtol=1e-14, atol=0)} {'ok' if good else 'FAIL'}")
    print("self-check", "passed" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(self_check())
