"""Benchmark: AE-GDI and GDI images per second on one core, vectorised vs per-pixel reference.

Run: ``python benchmarks/bench_images.py`` (prints JSON). ``run()`` returns the entries.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_images import reference_ae_gdi, reference_gdi  # noqa: E402

from gaitcnn.images import ae_gdi, gdi  # noqa: E402


def _median_time(func, repeats):
    func()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def run(*, n_samples=45_000, stride_samples=53, repeats=5, reference_images=4) -> list[dict]:
    """Time both image kinds on a 15-minute 50 Hz recording with a start every stride."""
    rng = np.random.default_rng(0)
    series = rng.normal(size=(n_samples, 3)) + np.array([0.0, 0.0, 9.81])
    starts = np.arange(32, n_samples - 96, stride_samples)
    entries = []
    for name, fast, slow in (
        ("ae_gdi", lambda s: ae_gdi(series, s), lambda s: reference_ae_gdi(series, s)),
        ("gdi", lambda s: gdi(series, s), lambda s: reference_gdi(series, s)),
    ):
        fast_s = _median_time(lambda fast=fast: fast(starts), repeats)
        few = starts[:reference_images]
        slow_s = _median_time(lambda slow=slow, few=few: slow(few), 1)
        fast_rate = starts.size / fast_s
        slow_rate = few.size / slow_s
        entries.append(
            {
                "benchmark": f"images.{name}",
                "n_images": int(starts.size),
                "image_shape": [32, 64],
                "seconds_median": fast_s,
                "images_per_s": fast_rate,
                "reference_images_per_s": slow_rate,
                "speedup_vs_reference": fast_rate / slow_rate,
                "threads": 1,
            }
        )
    return entries


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
