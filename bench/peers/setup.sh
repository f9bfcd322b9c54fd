#!/usr/bin/env bash
# Create bench/peers/.venv and install the Python peers of the lagrange benchmarks.
#
#   bash bench/peers/setup.sh              # numpy, sympy, jax[cpu]
#   WITH_TORCH=1 bash bench/peers/setup.sh # ... plus torch (see below)
#
# torch: PyPI's Linux x86-64 torch wheel is the CUDA build (~540 MB) and depends on
# ~3-4 GB of NVIDIA CUDA wheels (cuda-toolkit, cudnn, nccl, nvshmem, triton); it does not even
# import without them (`_preload_cuda_deps` fails on libcublasLt). The CPU-only wheels live on
# PyTorch's own index, which is not a PyPI registry, so torch is opt-in here: WITH_TORCH=1.
# torch_peer.py skips cleanly when torch is missing.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
PY="${PYTHON:-python3}"

NUMPY_SPEC="numpy>=2.2,<2.5"
SYMPY_SPEC="sympy==1.14.0"
JAX_SPEC="jax[cpu]==0.10.2"
TORCH_SPEC="torch==2.15.0"

if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV"
    "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip)
"${PIP[@]}" install --quiet --upgrade pip
"${PIP[@]}" install --quiet "$NUMPY_SPEC" "$SYMPY_SPEC" "$JAX_SPEC"

if [ "${WITH_TORCH:-0}" = "1" ]; then
    echo "installing $TORCH_SPEC (multi-GB: CUDA dependencies come with the PyPI wheel)"
    "${PIP[@]}" install --quiet "$TORCH_SPEC"
else
    echo "torch not installed (set WITH_TORCH=1 to install it; torch_peer.py will skip)"
fi

"$VENV/bin/python" - <<'PY'
import importlib
for name in ("numpy", "sympy", "jax", "jaxlib", "torch"):
    try:
        m = importlib.import_module(name)
        print(f"  {name:7s} {m.__version__}")
    except Exception as e:  # noqa: BLE001
        print(f"  {name:7s} not available ({type(e).__name__})")
PY
