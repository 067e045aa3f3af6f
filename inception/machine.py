"""The machine a figure was measured on: CPU model, the instruction sets that decide speed, versions.

Every result file and benchmark records `describe()`, because the project's
machines change between sessions (an AVX-512 Xeon, an AVX2-only EPYC) and a
time or a kernel's rounding means nothing without them.
"""

from __future__ import annotations

import os
import platform
from typing import Dict, Tuple

# The CPU features that decide which kernels run: AVX-512 and AVX2 float
# kernels, VNNI for int8, AVX512-BF16 and AMX for bfloat16.
ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "avx512_bf16",
             "amx_bf16", "amx_int8")


def available_cores() -> int:
    """The cores this process may run on (its affinity), not the machine's total."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def cpu_model_and_flags() -> Tuple[str, set]:
    """The CPU's model name and its feature flags, from /proc/cpuinfo where there is one."""
    model, flags = platform.processor(), set()
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name") and not model.strip():
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    return model, flags


def describe() -> Dict[str, object]:
    """CPU, its instruction sets, cores, and the versions of Python, Keras and its backend."""
    import keras

    model, flags = cpu_model_and_flags()
    backend = keras.backend.backend()
    description = {
        "cpu": model,
        "cores": available_cores(),
        "isa": {flag: flag in flags for flag in ISA_FLAGS},
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": backend,
    }
    if backend == "tensorflow":
        import tensorflow as tf

        from inception import compat

        description.update(tensorflow=tf.__version__, onednn=compat.onednn_enabled())
    elif backend == "jax":
        import jax

        description.update(jax=jax.__version__, devices=[str(d) for d in jax.devices()])
    return description


def isa_summary(description: Dict[str, object]) -> str:
    """The instruction sets of a `describe()` that are present, in one line."""
    present = [flag for flag, on in description.get("isa", {}).items() if on]
    return ", ".join(present) or "none of " + ", ".join(ISA_FLAGS)
