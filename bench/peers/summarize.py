"""Print the markdown summary table of results/*.json (one row per system).

A value marked * was capped to the time box and extrapolated (or measured on fewer states);
'skip' means the measurement was skipped (see the note in the JSON); '–' means no record.
"""
from __future__ import annotations

import json
import os
import sys

import systems as S

PEERS = ("numpy", "sympy", "jax", "jax-1thread", "torch")


def load(results: str) -> dict:
    out = {}
    for p in PEERS:
        path = os.path.join(results, f"{p}.json")
        if os.path.exists(path):
            with open(path) as fh:
                out[p] = {(r["system"], r["metric"]): r for r in json.load(fh)}
    return out


def fmt(rec, digits=3) -> str:
    if rec is None:
        return "–"
    v = rec["value"]
    if not isinstance(v, (int, float)):
        return "skip"
    mark = "*" if "capped" in rec.get("note", "") else ""
    if v == 0:
        return "0"
    if abs(v) >= 1e5 or abs(v) < 1e-3:
        s = f"{v:.{digits - 1}e}"
    else:
        s = f"{v:.{digits}g}"
    s = s.replace("e+0", "e").replace("e-0", "e-").replace("e+", "e")
    return s + mark


def main() -> int:
    results = sys.argv[1] if len(sys.argv) > 1 else S.RESULTS
    d = load(results)
    g = lambda p, s, m: d.get(p, {}).get((s, m))  # noqa: E731
    cols = [
        ("numpy hand µs", "numpy", "eom_latency"),
        ("SymPy set-up s", "sympy", "setup_total"),
        ("SymPy µs", "sympy", "eom_latency"),
        ("SymPy batch st/s", "sympy", "batch_throughput"),
        ("SymPy RK4 s", "sympy", "rk4_10k"),
        ("JAX µs", "jax", "eom_latency"),
        ("JAX vmap st/s", "jax", "vmap_throughput"),
        ("JAX RK4 s", "jax", "rk4_10k"),
        ("JAX RK4 compile s", "jax", "compile_rk4"),
        ("JAX q̈ rel err", "jax", "qdd_max_rel_err"),
        ("JAX 1-thread µs", "jax-1thread", "eom_latency"),
        ("JAX 1-thread vmap st/s", "jax-1thread", "vmap_throughput"),
        ("JAX 1-thread RK4 s", "jax-1thread", "rk4_10k"),
        ("torch µs", "torch", "eom_latency"),
        ("torch RK4 s", "torch", "rk4_10k"),
    ]
    print("| system | " + " | ".join(c[0] for c in cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for s in S.all_systems():
        row = [fmt(g(p, s.name, m), 2 if m == "qdd_max_rel_err" else 3) for _, p, m in cols]
        print(f"| {s.name} | " + " | ".join(row) + " |")
    for p in PEERS:
        if p in d:
            la = d[p].get(("_machine", "loadavg_start"), {}).get("value", "?")
            le = d[p].get(("_machine", "loadavg_end"), {}).get("value", "?")
            wt = d[p].get(("_machine", "wall_time"), {}).get("value", "?")
            sk = d[p].get(("*", "skipped"))
            extra = f" — {sk['value']}" if sk else ""
            print(f"\n{p}: load average {la} at start, {le} at end; {wt} s wall{extra}", end="")
    print("\n\n\\* capped to the time box: fewer steps/states, extrapolated (see notes in the JSON).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
