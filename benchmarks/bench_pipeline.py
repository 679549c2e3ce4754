"""Benchmark: resampling rate, HDF5 cache write/read MB/s, tf.data pipeline images/s.

Run: ``python -m benchmarks.bench_pipeline`` (prints JSON). ``run()`` returns the entries.
The pipeline figure is compared with what training consumes in :mod:`benchmarks.run`.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from benchmarks._common import entry, median_time

SHAPE = (32, 64, 2)


def resampling(duration_s: float, repeats: int) -> dict:
    """Input samples/s of :func:`gaitcnn.resample.resample_recording` on a jittered recording."""
    from gaitcnn.io import Recording
    from gaitcnn.resample import resample_recording

    rng = np.random.default_rng(0)
    n = int(duration_s * 100)  # ~100 Hz phone sensor with timestamp jitter
    t = np.cumsum(rng.uniform(0.008, 0.012, n))
    acc = rng.normal(size=(n, 3))
    rec = Recording(
        subject_id=1,
        session="day1",
        walk="0",
        source="bench",
        timestamps_s=t,
        acc=acc,
        gyr=acc.copy(),
    )
    med, _ = median_time(lambda: resample_recording(rec, rate_hz=50.0), repeats)
    return entry(
        "resample.resample_recording",
        n / med,
        "input samples/s",
        repetitions=repeats,
        n_samples=n,
        input_rate_hz="~100 (jittered)",
        output_rate_hz=50.0,
        sensors=2,
    )


def cache_io(n_images: int, repeats: int, tmp: Path) -> tuple[list[dict], Path]:
    """MB/s of :class:`gaitcnn.cache.CacheWriter` (incl. fsync) and :func:`read_image_set`."""
    from gaitcnn.cache import CacheWriter, read_image_set

    rng = np.random.default_rng(0)
    images = rng.random((n_images, *SHAPE), dtype=np.float32)
    per_rec = 200
    mb = images.nbytes / 2**20
    path = tmp / "cache.h5"

    def write():
        with CacheWriter(path, SHAPE, params={"bench": 1}, source="bench", overwrite=True) as w:
            for r, lo in enumerate(range(0, n_images, per_rec)):
                chunk = images[lo : lo + per_rec]
                w.add_recording(
                    {
                        "key": f"r{r}",
                        "subject_id": r % 20,
                        "session": "day1",
                        "walk": 0,
                        "source": "bench",
                        "n_timepoints": 0,
                        "n_skipped": 0,
                    },
                    chunk,
                    np.arange(len(chunk)),
                )
            w.commit()

    w_med, _ = median_time(write, repeats)
    r_med, _ = median_time(lambda: read_image_set(path), repeats)
    out = [
        entry(
            "cache.write",
            mb / w_med,
            "MB/s",
            repetitions=repeats,
            n_images=n_images,
            megabytes=mb,
            note="CacheWriter, 200-image recordings, fsync + atomic rename",
        ),
        entry(
            "cache.read",
            mb / r_med,
            "MB/s",
            repetitions=repeats,
            n_images=n_images,
            megabytes=mb,
            note="read_image_set, whole file (page cache warm)",
        ),
    ]
    return out, path


def tf_data(path: Path, n_images: int, repeats: int) -> list[dict]:
    """images/s delivered by :func:`gaitcnn.pipeline.dataset_from_cache`, in memory and streamed."""
    from gaitcnn.pipeline import dataset_from_cache

    idx = np.arange(n_images)
    labels = (idx % 20).astype(np.int32)
    out = []
    for mode, budget in (("in_memory", 2048), ("streamed", 0)):

        def one_epoch(budget=budget):
            ds = dataset_from_cache(
                path, idx, labels, training=True, seed=0, memory_budget_mb=budget
            )
            for _ in ds:
                pass

        med, _ = median_time(one_epoch, repeats)
        out.append(
            entry(
                f"pipeline.dataset_from_cache.{mode}",
                n_images / med,
                "images/s",
                repetitions=repeats,
                n_images=n_images,
                batch_size=100,
                image_shape=list(SHAPE),
                includes="opening the cache, reading, shuffling, batching, iterating",
            )
        )
    return out


def run(*, quick: bool = False) -> list[dict]:
    """All pipeline entries; ``quick`` uses small sizes."""
    repeats = 3 if quick else 5
    n_images = 1000 if quick else 10_000
    entries = [resampling(60.0 if quick else 900.0, repeats)]
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        io_entries, path = cache_io(n_images, repeats, Path(tmp))
        entries += io_entries
        entries += tf_data(path, n_images, repeats)
    return entries


if __name__ == "__main__":
    t0 = time.perf_counter()
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
