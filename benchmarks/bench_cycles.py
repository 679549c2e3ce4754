"""Benchmark: GGGD cycle detection time on a 15-minute 50 Hz recording (one core).

Run: ``python benchmarks/bench_cycles.py`` (prints JSON). ``run()`` returns the entries.
"""

from __future__ import annotations

import json
import os
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core

import numpy as np  # noqa: E402

from gaitcnn.cycles import detect_cycle_starts, detect_peaks_baseline  # noqa: E402


def _recording(duration_s, rate_hz):
    try:
        from gaitcnn.simulate import simulate_walk
    except ImportError:  # a simple two-step gait pattern with noise
        t_s = np.arange(round(duration_s * rate_hz)) / rate_hz
        phase = (t_s * 0.95) % 0.5 / 0.5
        rng = np.random.default_rng(0)
        return 9.81 + 5 * np.exp(-0.5 * (phase / 0.07) ** 2) - 3 * np.exp(
            -0.5 * ((phase - 0.8) / 0.1) ** 2
        ) + 0.3 * rng.normal(size=t_s.size), "synthetic"
    walk = simulate_walk(duration_s, preset="pocket", seed=0, rate_hz=rate_hz)
    return np.linalg.norm(walk.acc, axis=1), "gaitcnn.simulate(pocket)"


def run(*, duration_s=900.0, rate_hz=50.0, repeats=5) -> list[dict]:
    """Median seconds of GGGD (and of the peak baseline) on one long recording."""
    magnitude, source = _recording(duration_s, rate_hz)
    entries = []
    for name, func in (
        ("cycles.detect_cycle_starts", detect_cycle_starts),
        ("cycles.detect_peaks_baseline", detect_peaks_baseline),
    ):
        func(magnitude, rate_hz)  # warm-up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            starts = func(magnitude, rate_hz)
            times.append(time.perf_counter() - start)
        entries.append(
            {
                "benchmark": name,
                "recording_s": duration_s,
                "sampling_rate_hz": rate_hz,
                "signal": source,
                "seconds_median": float(np.median(times)),
                "n_starts": int(starts.size),
                "threads": 1,
            }
        )
    return entries


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
