"""Helpers shared by the benchmark modules: timing, machine facts, entry layout."""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np


def median_time(func, repeats: int, warmup: int = 1) -> tuple[float, list[float]]:
    """Run ``func`` ``warmup`` times untimed, then ``repeats`` times; return (median, times)."""
    for _ in range(warmup):
        func()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), times


def entry(name: str, figure: float, unit: str, *, repetitions: int, **details) -> dict:
    """One result: ``name``, ``figure`` (a median), ``unit``, ``repetitions`` and details.

    The load average at the time the entry is made is recorded, because the machine may be
    shared: a load above the number of cores means the figure is pessimistic.
    """
    return {
        "name": name,
        "figure": float(figure),
        "unit": unit,
        "statistic": "median",
        "repetitions": int(repetitions),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        **details,
    }


def machine() -> dict:
    """Cores, CPU model (from /proc/cpuinfo) and platform."""
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cores_available": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else None,
        "cpu_model": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def versions() -> dict:
    """Installed versions of the stack (the one definition: :func:`gaitcnn.provenance.versions`)."""
    from gaitcnn.provenance import versions as package_versions

    return {k: v for k, v in package_versions().items() if v is not None}


def run_measured(cmd: list[str], *, env: dict | None = None, timeout: float | None = None) -> dict:
    """Run ``cmd`` in a fresh wrapper process; return wall time and the peak RSS of the command.

    The wrapper process runs the command as its only child, so ``RUSAGE_CHILDREN.ru_maxrss`` is
    the largest resident set of the command or any process it waited for (worker processes
    included) - the peak of the single largest process, not the sum over workers.
    """
    code = (
        "import json, resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
        "wall = time.perf_counter() - t\n"
        "kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(json.dumps({'rc': rc, 'wall_s': wall, 'maxrss_mb': kb / 1024}))\n"
    )
    full_env = {**os.environ, **(env or {})}
    out = subprocess.run(
        [sys.executable, "-c", code, *cmd],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=True,
    )
    import json

    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {result['rc']}): {out.stderr[-2000:]}")
    return result


def self_maxrss_mb() -> float:
    """Peak resident set of this process, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
