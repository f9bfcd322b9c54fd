#!/usr/bin/env bash
# The GPU checks of the neural-training backend (crates/lagrange-gpu), on a machine with an
# NVIDIA GPU, from binaries built on any x86-64 Linux machine (no CUDA needed to build):
#
#   cargo build --release -p lagrange-cli --features cuda
#   cargo test --release -p lagrange-gpu --no-run        # prints the test binary's path
#   mkdir -p .gpu && cp target/release/lagrange .gpu/ && cp <test binary> .gpu/gpu-tests
#   OUT=results tools/gpu_check.sh .gpu                   # on the GPU machine, in the checkout
#
# It runs the ignored GPU tests (GPU vs CPU loss and gradient, f64 to 1e-10, a training run),
# `lagrange train --device cuda` end to end against the CPU, and `lagrange bench --neural
# --device cuda` (GPU vs all CPU cores vs JAX, batch 256 … 65 536), writing everything to $OUT.
set -u
BIN=${1:-.gpu}
OUT=${OUT:-gpu-results}
mkdir -p "$OUT"
# cuBLAS and NVRTC: the CUDA toolkit's, or those of the NVIDIA pip wheels
# (not the toolkit's stubs/ folder: its libcuda.so is a link-time stub that fails at run time)
libs=$( (find /usr /opt -name 'libcublas.so*' -o -name 'libnvrtc.so*') 2>/dev/null | grep -v /stubs/ | xargs -r -n1 dirname | sort -u | tr '\n' ':')
export LD_LIBRARY_PATH="/usr/local/nvidia/lib64:/usr/local/nvidia/lib:${libs}/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
nvidia-smi -L
nproc

echo "== GPU tests"
timeout 300 "$BIN/gpu-tests" --ignored --test-threads=1 2>&1 | tee "$OUT/gpu_tests.txt"

echo "== lagrange train, cpu vs cuda"
L="$BIN/lagrange"
"$L" generate double-pendulum -p g=9.8 --samples 20000 --trajectories 50 --t-end 20 --seed 1 --out /tmp/dp.csv
for dev in cpu cuda; do
  /usr/bin/time -f "$dev: %e s wall" "$L" train --data /tmp/dp.csv --model lnn:128x2 --angles theta1,theta2 \
      --steps 300 --batch 4096 --precision f64 --device $dev --seed 3 -q --out "$OUT/model_$dev.json" 2>&1
done
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
a, b = (json.load(open(f"{out}/model_{d}.json")) for d in ("cpu", "cuda"))
ta, tb = a["training"], b["training"]
wa, wb = a["weights"], b["weights"]
print("engines:", ta.get("engine"), "|", tb.get("engine"))
print("seconds:", ta["seconds"], tb["seconds"], "final train mse:", ta["final_train_loss"], tb["final_train_loss"])
print("max weight difference:", max(abs(x - y) for x, y in zip(wa, wb)))
PY

echo "== lagrange bench --neural --device cuda"
timeout 500 "$L" bench --neural --device cuda --peers python3 --out "$OUT/neural_gpu.json" 2>&1 | tee "$OUT/bench.txt"
