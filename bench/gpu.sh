#!/usr/bin/env bash
# Stable Diffusion 1.5 (full size, random weights, fp16) on an NVIDIA GPU with onnxruntime's CUDA
# provider: s/image for 512×512 × 50 Euler steps (CFG 7.5) at batch 1 and 4, and the pixel
# difference between CUDA and CPU on a 2-step job. Run from anywhere: bench/gpu.sh [work dir]
#
# Needs: an NVIDIA driver with CUDA 12 and cuDNN 9 libraries on the loader path (onnxruntime's CUDA
# provider links against them; nothing here installs them), Node 20, and this checkout. Installs only
# from the npm registry: `npm ci` when node_modules is missing. `npm run setup:cuda` fetches the
# CUDA provider libraries of onnxruntime-node (a NuGet package, not npm); it is skipped when they
# are already in node_modules. Budget: under 10 minutes (model generation about 1-2, the CUDA runs
# under 2, the CPU comparison 1-3 depending on cores).
set -euo pipefail

cd "$(dirname "$0")/.."
work="${1:-.atelier/gpu-bench}"
started=$(date +%s)
step() { echo "[$(( $(date +%s) - started )) s] $*" >&2; }

step "GPU"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

[ -d node_modules ] || { step "npm ci"; npm ci --no-audit --no-fund; }

provider_dir=$(echo node_modules/onnxruntime-node/bin/napi-v*/linux/x64)
if [ ! -e "$provider_dir/libonnxruntime_providers_cuda.so" ]; then
  step "npm run setup:cuda"
  if ! npm run setup:cuda; then
    echo "setup:cuda could not fetch onnxruntime's CUDA provider (its install script downloads it from NuGet, outside the npm registry)." >&2
    echo "Copy libonnxruntime_providers_{cuda,shared}.so of the same onnxruntime version into $provider_dir and rerun." >&2
    exit 1
  fi
fi
for lib in libcudart.so.12 libcublas.so.12 libcudnn.so.9; do
  ldconfig -p | grep -q "$lib" || echo "warning: $lib is not on the loader path; the CUDA provider may fail to load" >&2
done

model="$work/demo-sd-sd15-optimum-1.23-float16"
if [ ! -d "$model" ]; then
  step "making the fp16 sd15 preset (2.1 GB)"
  node bin/atelier.js models make-demo --preset sd15 --dtype float16 --out "$work"
fi

step "timing"
npx tsx bench/gpu-timing.ts "$model"
step "done"
