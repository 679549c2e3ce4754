"""Benchmark: cost growth of preparation and training at 1x, 2x and 4x data (log-log slope).

Preparation: :func:`gaitcnn.prepare.prepare_dataset` (one worker, in process) on the first 5, 10
and 20 subjects of the simulated 20 x 2 x 15-minute McGill-like set. Training: one Keras epoch of
the paper CNN on 2,500, 5,000 and 10,000 images. The figure is the fitted exponent ``b`` of
``time ~ size^b`` (1.0 = linear).

Run: ``python -m benchmarks.bench_scaling`` (prints JSON). ``run()`` returns the entries.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks._common import entry, median_time
from benchmarks.bench_prepare import mcgill_subset


def prepare_scaling(subjects, repeats: int, tmp: Path) -> dict:
    from gaitcnn.prepare import PrepareParams, ensure_simulated, prepare_dataset

    full = ensure_simulated("mcgill")
    params = PrepareParams.paper("mcgill")
    secs = []
    for n in subjects:
        root = mcgill_subset(full, n, tmp / f"subset{n}")
        med, _ = median_time(
            lambda root=root, n=n: prepare_dataset(
                params, root, cache_dir=tmp / f"cache{n}", overwrite=True, progress=False
            ),
            repeats,
        )
        secs.append(med)
    slope = float(np.polyfit(np.log(subjects), np.log(secs), 1)[0])
    return entry(
        "scaling.prepare.mcgill",
        slope,
        "log-log exponent",
        repetitions=repeats,
        sizes_subjects=list(subjects),
        seconds=secs,
        workers=1,
        note="time ~ size^exponent; 1.0 is linear",
    )


def run(*, quick: bool = False) -> list[dict]:
    from benchmarks.bench_training import training_scaling

    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as tmp:
        prep = prepare_scaling((1, 2, 4) if quick else (5, 10, 20), 1 if quick else 3, Path(tmp))
    train = training_scaling(500 if quick else 2500, 1 if quick else 3)
    return [prep, train]


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
