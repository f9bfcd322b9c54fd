#!/usr/bin/env python3
"""Summary tables of a `lagrange bench --peers --json FILE` run, as pasted into README.md and
bench/README.md: Rust latencies per method, and each Rust method's ratios to the peers.

    python3 bench/summarize.py bench/table.json
"""
import json
import sys


def sig(x, digits=3):
    if x is None:
        return "—"
    if x >= 1e5:
        return f"{x:.1e}"
    if x >= 100:
        return f"{x:,.0f}".replace(",", " ")
    return f"{x:.{digits}g}"


def main(path):
    d = json.load(open(path))
    print(f"wall {d['wall_s']:.0f} s, machine {d['machine']}\n")
    cols = ["autodiff", "compiled", "hand", "text", "text-compiled", "finite-diff"]
    print("| system | n | " + " | ".join(cols) + " | autodiff × hand | compiled × hand | compiled q̈ error | finite-diff. q̈ error |")
    print("|---" * (len(cols) + 6) + "|")
    for s in d["systems"]:
        rows = {r["method"]: r for r in s["rows"]}
        lat = [sig(rows[c]["latency_ns"]) if c in rows else "—" for c in cols]
        ratio = lambda m: f"{rows[m]['ratio_to_hand']:.2f}" if m in rows else "—"
        err = lambda m: (f"{rows[m]['max_rel_error']:.1e}" if m in rows and rows[m]["max_rel_error"] is not None else "—")
        print(f"| {s['system']} | {s['n']} | " + " | ".join(lat) + f" | {ratio('autodiff')} | {ratio('compiled')} | {err('compiled')} | {err('finite-diff')} |")
    print()
    for key, name in [("ratios", "autodiff"), ("ratios_compiled", "compiled")]:
        print(f"{name}: | system | ÷ JAX latency | ÷ JAX RK4 loop | ÷ torch latency (× faster) | ÷ SymPy latency |")
        print("|---|---|---|---|---|")
        for s in d["systems"]:
            r = s.get(key)
            if not r:
                continue
            f = lambda k, fmt="{:.3f}": fmt.format(r[k]) if r.get(k) is not None else "—"
            torch = r.get("autodiff_over_torch_latency")
            faster = f"{1 / torch:,.0f}×".replace(",", " ") if torch else "—"
            print(f"| {s['system']} | {f('autodiff_over_jax_latency')} | {f('autodiff_over_jax_rk4')} | {f('autodiff_over_torch_latency', '{:.1e}')} ({faster}) | {f('autodiff_over_sympy_latency')} |")
        print()
    print("RK4 10^4 steps (s):")
    for s in d["systems"]:
        rows = {r["method"]: r for r in s["rows"]}
        jax = [p for p in s["peers"] if p["peer"] == "jax" and p.get("rk4_10k_s")]
        print(s["system"], {m: rows[m]["rk4_10k_s"] for m in ("autodiff", "compiled", "hand") if m in rows},
              "jax", jax[0]["rk4_10k_s"] if jax else None)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/table.json")
