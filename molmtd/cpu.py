"""The CPU this process runs on: its model name and the instruction sets that decide speed.

Benchmarks print :func:`cpu_summary` beside every figure, and ``Featurizer(precision="auto")``
asks :func:`has_fast_bfloat16` whether bfloat16 pays off here.
"""

from __future__ import annotations

import functools
import platform
import sys
from pathlib import Path
from typing import Any

# Flags that change the student's forward-pass speed, in the order they are reported.
RELEVANT_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16")
# Any of these gives native bfloat16 dot products (AVX512-BF16 or Intel AMX).
BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "amx_tile"})


@functools.cache
def _cpuinfo() -> tuple[str, frozenset[str]]:
    """(model name, flags) from ``/proc/cpuinfo``; ("", empty) where there is none."""
    path = Path("/proc/cpuinfo")
    if not sys.platform.startswith("linux") or not path.is_file():
        return platform.processor() or platform.machine(), frozenset()
    model, flags = "", frozenset()
    for line in path.read_text(errors="replace").splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key in ("flags", "Features") and not flags:  # Features: ARM
            flags = frozenset(value.split())
        if model and flags:
            break
    return model or platform.machine(), flags


def cpu_model() -> str:
    """The CPU's model name, e.g. ``"AMD EPYC 7763 64-Core Processor"``."""
    return _cpuinfo()[0]


def cpu_flags() -> frozenset[str]:
    """The CPU's instruction-set flags (lower case, as in ``/proc/cpuinfo``)."""
    return _cpuinfo()[1]


def has_fast_bfloat16(flags: frozenset[str] | None = None) -> bool:
    """True if the CPU multiplies bfloat16 natively (AVX512-BF16 or AMX).

    Without these instructions torch emulates bfloat16 matrix products, several times
    slower than float32.
    """
    return bool(BF16_FLAGS & (cpu_flags() if flags is None else flags))


def cpu_summary() -> str:
    """Model name and the relevant flags it has, e.g. ``"Intel Xeon [avx2 avx512f]"``."""
    present = [f for f in RELEVANT_FLAGS if f in cpu_flags()]
    return f"{cpu_model()} [{' '.join(present) or 'none of ' + ' '.join(RELEVANT_FLAGS)}]"


def add_machine_columns(table: Any, loads: list[float]) -> Any:
    """Add the CPU model, its relevant flags, the median load average and the date to a
    benchmark's result table (a pandas DataFrame), in place; returns it."""
    import os
    import time

    import numpy as np

    table["cpu"] = cpu_model()
    for flag in ("avx2", "avx512f", "avx512_bf16", "amx_tile"):
        table[flag] = flag in cpu_flags()
    table["logical_cpus"] = os.cpu_count()
    table["load_avg_1m_median"] = float(np.median(loads)) if loads else float("nan")
    table["date"] = time.strftime("%Y-%m-%dT%H:%M%z")
    return table


def append_csv(table: Any, path: Path) -> None:
    """Append a result table to the CSV at ``path`` (created with its folder if absent)."""
    import pandas as pd

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file():
        table = pd.concat([pd.read_csv(path), table], ignore_index=True)
    table.to_csv(path, index=False, float_format="%.4g")


def usable_cores() -> int:
    """CPUs this process may run on (its affinity mask; ``os.cpu_count()`` elsewhere)."""
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _cpu_times() -> tuple[int, int] | None:
    """(idle + iowait, total) jiffies of all CPUs from ``/proc/stat``; None without it."""
    path = Path("/proc/stat")
    if not path.is_file():
        return None
    fields = [int(v) for v in path.read_text().split("\n", 1)[0].split()[1:]]
    return fields[3] + (fields[4] if len(fields) > 4 else 0), sum(fields[:8])


def idle_cores(sample_seconds: float = 0.1) -> float:
    """How many of :func:`usable_cores` are idle now (a ``sample_seconds`` look at
    ``/proc/stat``; the 1-minute load average where there is none)."""
    import os
    import time

    cores = usable_cores()
    first = _cpu_times()
    if first is None:
        return max(0.0, cores - os.getloadavg()[0])
    time.sleep(sample_seconds)
    second = _cpu_times()
    idle, total = second[0] - first[0], second[1] - first[1]
    return cores * idle / total if total > 0 else float(cores)


def auto_threads() -> int:
    """Threads that will not stall: one per idle core, at least one.

    OpenMP threads spin at every barrier; with more threads than free cores (another job
    running) each forward pass waits for a descheduled thread and runs several times slower
    than with one thread. On an idle machine this is every usable core.
    """
    return max(1, min(usable_cores(), round(idle_cores())))
