#!/usr/bin/env bash
# The neural-Lagrangian study of the README (issue "Neural-network Lagrangians"): the double
# pendulum (m = l = 1, g = 9.8), trained on `lagrange generate` data only, judged with
# Cranmer et al.'s protocol. Regenerates docs/neural/*:
#
#   tools/neural_study.sh                 # full run (~45 min on a 2-core machine)
#   QUICK=1 tools/neural_study.sh         # toy sizes, a minute, for checking the pipeline
#
# LAGRANGE picks the binary (default target/release/lagrange, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-docs/neural}
L=${LAGRANGE:-target/release/lagrange}
if [ ! -x "$L" ]; then cargo build --release -p lagrange-cli; fi
mkdir -p "$OUT"
if [ "${QUICK:-0}" = "1" ]; then
    SAMPLES=5000; TRAJ=20; TEND=20; S_TIME=20; L_TIME=20; B_TIME=10; ICS=4; EVAL_T=10
    S_SHAPE=32x2; L_SHAPE=16x2; B_SHAPE=32x2; NOISY_BATCH=256
else
    SAMPLES=100000; TRAJ=200; TEND=50; S_TIME=300; L_TIME=600; B_TIME=300; ICS=40; EVAL_T=100
    # lnn: 32x3 learned fastest per second of the shapes tried (32x2, 32x3, 64x2, 128x2; 150 s each)
    S_SHAPE=128x2; L_SHAPE=32x3; B_SHAPE=128x2
    # noisy lnn: minibatches of 4096. At 256 it fits the label noise (validation rises after
    # ~2·10⁵ steps); measured on this data, 600 s each: energy error 1.66e-2 at batch 256,
    # 1.47e-2 with 16x3, 1.14e-2 at 2048, 6.3e-3 at 4096
    NOISY_BATCH=4096
fi
BOX="theta1=-1.5708:1.5708,theta2=-1.5708:1.5708,theta1_dot=-1:1,theta2_dot=-1:1"
GEN=(generate double-pendulum -p g=9.8 --samples "$SAMPLES" --trajectories "$TRAJ" --t-end "$TEND" --box "$BOX" --seed 1)
"$L" "${GEN[@]}" -o "$OUT/train-clean.csv"
"$L" "${GEN[@]}" --noise 0.05 -o "$OUT/train-noisy.csv"

train() { # name data kind:shape time lr schedule [more train options]
    "$L" train --data "$OUT/$2.csv" --model "$3" --angles theta1,theta2 \
        --steps 10000000 --time-limit "$4" --lr "$5" --schedule "$6" --patience 0 "${@:7}" \
        --name "$1" --seed 0 -q --out "$OUT/$1.json" --plot "$OUT/$1-loss.png"
}
evaluate() { # name
    "$L" evaluate --model "$OUT/$1.json" --truth double-pendulum -p g=9.8 \
        --initial-conditions "$ICS" --box "$BOX" --t-end "$EVAL_T" --energy-scale 29.4 \
        --seed 0 -q --out "$OUT/$1-eval.json" --plot "$OUT/$1-eval.png"
}
train structured-clean train-clean "structured:$S_SHAPE" "$S_TIME" 1e-3 cosine
train lnn-clean train-clean "lnn:$L_SHAPE" "$L_TIME" 3e-3 onecycle
train baseline-clean train-clean "baseline:$B_SHAPE" "$B_TIME" 1e-3 cosine
train structured-noisy train-noisy "structured:$S_SHAPE" "$S_TIME" 1e-3 cosine
train lnn-noisy train-noisy "lnn:$L_SHAPE" "$L_TIME" 3e-3 onecycle --batch "$NOISY_BATCH"
for m in structured-clean lnn-clean baseline-clean structured-noisy lnn-noisy; do evaluate "$m"; done
"$L" extrapolate --model "$OUT/structured-clean.json" --truth double-pendulum -p g=9.8 \
    --slice theta1=-6:6,theta1_dot=-20:20 --grid 101 -q \
    --out "$OUT/structured-extrapolate.csv" --plot "$OUT/structured-extrapolate.png"
"$L" extrapolate --model "$OUT/lnn-clean.json" --truth double-pendulum -p g=9.8 \
    --slice theta1=-6:6,theta1_dot=-20:20 --grid 101 -q \
    --out "$OUT/lnn-extrapolate.csv" --plot "$OUT/lnn-extrapolate.png"
rm -f "$OUT/train-clean.csv" "$OUT/train-noisy.csv" "$OUT"/*-extrapolate.csv

# the summary table (every number read from the files just written)
python3 - "$OUT" <<'PY'
import json, sys, os, platform, datetime
out = sys.argv[1]
rows = []
for m in ["structured-clean", "lnn-clean", "baseline-clean", "structured-noisy", "lnn-noisy"]:
    model = json.load(open(f"{out}/{m}.json"))
    ev = json.load(open(f"{out}/{m}-eval.json"))
    t = model["training"]
    rows.append(f"| {m} | {model['kind']} {model['architecture']['width']}x{model['architecture']['depth']} "
                f"| {t['steps']} | {t['seconds']:.0f} | {t['final_validation_loss']:.3g} "
                f"| **{ev['energy_error_mean']:.3g}** | {ev['energy_error_median']:.3g} "
                f"| {ev['departure_time_median']:.3g} | {ev['failures']} |")
cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), platform.processor())
head = ("| model | network | steps | train s | validation mse of q̈ | energy error mean | median | median departure time | failed rollouts |\n"
        "|---|---|---|---|---|---|---|---|---|")
text = (f"Made by `tools/neural_study.sh` on {datetime.date.today()}, {os.cpu_count()} cores ({cpu}).\n\n"
        + head + "\n" + "\n".join(rows) + "\n")
open(f"{out}/summary.md", "w").write(text)
print(text)
PY
