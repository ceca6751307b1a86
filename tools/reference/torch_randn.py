"""Reference numbers for src/inference/random/torch-generator.ts from PyTorch's CPU generator.

Run with Debian's interpreter (it has python3-torch):
    /usr/bin/python3 tools/reference/torch_randn.py
Writes test/fixtures/torch-randn.json. Everything is drawn with
`torch.Generator("cpu").manual_seed(seed)` and `torch.randn(count, generator=g, dtype=...)`.

The float32 kernel for 16+ elements depends on the CPU build: the main cases use the default
dispatch (AVX2 on x86-64); the "libm_kernel" cases re-run this script in a child process with
ATEN_CPU_CAPABILITY=default, the kernel PyTorch runs on CPUs without AVX2.
"""

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

SEEDS = [0, 1, 42, 1234, 2**32 - 1, 2**32 + 5, 2**63 + 7]
FULL_COUNTS = [1, 3, 15, 16, 17, 31, 64, 100, 4 * 8 * 8]
LARGE_COUNTS = [4 * 64 * 64]
EDGE = 32  # values kept at each end of a large draw
STRIDE = 97  # every STRIDE-th value of a large draw is kept as well
SEQUENCES = [
    [(3, "float32"), (5, "float32"), (20, "float32"), (3, "float32")],
    [(256, "float32"), (256, "float32")],
    [(1, "float32"), (16, "float32"), (1, "float32")],
    [(3, "float16"), (64, "float16"), (5, "float32")],
]
DTYPES = {"float32": torch.float32, "float16": torch.float16}
OUT = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "torch-randn.json"


def generator(seed):
    return torch.Generator("cpu").manual_seed(seed)


def as_numbers(values):
    """float32-exact values, written with the shortest decimal that round-trips in float32."""
    return [float(np.format_float_positional(np.float32(v), unique=True)) for v in values]


def summarize(values):
    """A large draw: both ends, a strided sample, exact statistics and a hash of the bytes."""
    array = values.to(torch.float32).numpy()
    return {
        "head": as_numbers(array[:EDGE]),
        "tail": as_numbers(array[-EDGE:]),
        "stride": STRIDE,
        "strided": as_numbers(array[::STRIDE]),
        "sum": math.fsum(array.astype(np.float64)),
        "sumOfSquares": math.fsum(array.astype(np.float64) ** 2),
        "float32Sha256": hashlib.sha256(array.astype("<f4").tobytes()).hexdigest(),
    }


def draw(seed, count, dtype="float32"):
    values = torch.randn(count, generator=generator(seed), dtype=DTYPES[dtype])
    case = {"seed": str(seed), "count": count, "dtype": dtype}
    if count in LARGE_COUNTS:
        case["summary"] = summarize(values)
    else:
        case["values"] = as_numbers(values.to(torch.float32).numpy())
    return case


def sequence(seed, calls):
    g = generator(seed)
    draws = []
    for count, dtype in calls:
        values = torch.randn(count, generator=g, dtype=DTYPES[dtype])
        draws.append({"count": count, "dtype": dtype, "values": as_numbers(values.float().numpy())})
    return {"seed": str(seed), "draws": draws}


def mersenne_twister(seed):
    """Raw engine outputs, float and double uniforms (index 620.. crosses the first refill)."""
    # random_(0, 2^32 - 1) is random() % (2^32 - 1): the raw output unless it is 2^32 - 1.
    raw = torch.empty(8, dtype=torch.int64).random_(0, 2**32 - 1, generator=generator(seed))
    floats = torch.rand(700, generator=generator(seed))
    doubles = torch.rand(4, generator=generator(seed), dtype=torch.float64)
    return {
        "seed": str(seed),
        "uint32": raw.tolist(),
        "float32From": 620,
        "float32": as_numbers(floats[620:632].numpy()),
        "float64": doubles.tolist(),
    }


def cpu_capability():
    return torch.__config__.show().split("CPU capability usage:")[1].split()[0]


def main_cases():
    return {
        "draws": [draw(s, c) for s in SEEDS for c in FULL_COUNTS + LARGE_COUNTS],
        "float16Draws": [draw(s, c, "float16") for s in (0, 42) for c in (7, 17, 256, 16384)],
        "sequences": [sequence(s, calls) for s in (0, 42) for calls in SEQUENCES],
        "mersenneTwister": [mersenne_twister(s) for s in (0, 2**63 + 7)],
    }


def libm_cases():
    return {
        "cpuCapability": cpu_capability(),
        "draws": [draw(s, c) for s in (0, 42) for c in (16, 17, 100, 256, 16384)],
    }


def run_libm_child():
    env = dict(os.environ, ATEN_CPU_CAPABILITY="default")
    child = subprocess.run(
        [sys.executable, __file__, "--libm-cases"], env=env, check=True, capture_output=True, text=True
    )
    return json.loads(child.stdout)


def main():
    if sys.argv[1:] == ["--libm-cases"]:
        print(json.dumps(libm_cases()))
        return
    fixture = {
        "generatedBy": "tools/reference/torch_randn.py",
        "torchVersion": torch.__version__,
        "cpuCapability": cpu_capability(),
        **main_cases(),
        "libmKernel": run_libm_child(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes), torch {torch.__version__}, {cpu_capability()}")


if __name__ == "__main__":
    main()
