#!/usr/bin/env bash
# Run every Python peer of the lagrange benchmarks; results land in bench/peers/results/.
# Standalone (seeded states, no Rust side): for the one-run table with ratios use
#   cargo run --release -- bench --peers
#
#   bash bench/peers/run_all.sh                 # all systems
#   bash bench/peers/run_all.sh dpend chain64   # some systems
#   WITH_TORCH=1 bash bench/peers/run_all.sh    # also install torch (multi-GB) if missing
#
# Environment: PEER_BUDGET_S (per-measurement time box, default 20 s),
# SYMPY_SETUP_LIMIT_S (default 60 s), RK4_TORCH_STEPS (default 200).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
PY="$HERE/.venv/bin/python"

need_setup=0
"$PY" -c "import numpy, sympy, jax" >/dev/null 2>&1 || need_setup=1
if [ "${WITH_TORCH:-0}" = "1" ]; then
    "$PY" -c "import torch" >/dev/null 2>&1 || need_setup=1
fi
if [ "$need_setup" = "1" ]; then
    bash "$HERE/setup.sh"
fi

mkdir -p results
"$PY" systems.py
"$PY" - <<'PY' > results/machine.json
import json, os, platform, subprocess, importlib
import systems as S
facts = {"nproc": os.cpu_count(), "cpu_model": S._cpu_model(), "python": platform.python_version(),
         "platform": platform.platform(), "loadavg": os.getloadavg(),
         "mem_total_kib": next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), None)}
for name in ("numpy", "sympy", "jax", "jaxlib", "torch"):
    try:
        facts[name] = importlib.import_module(name).__version__
    except Exception:
        facts[name] = None
print(json.dumps(facts, indent=1))
PY
cat results/machine.json

for peer in numpy sympy jax jax-1thread torch; do
    echo
    echo "=== $peer ==="
    case "$peer" in
        jax-1thread) "$PY" jax_peer.py --xla-single-thread "$@" 2>&1 | tee "results/${peer}.txt" ;;
        *) "$PY" "${peer}_peer.py" "$@" 2>&1 | tee "results/${peer}.txt" ;;
    esac
done
echo
"$PY" summarize.py | tee results/summary.md
