"""Benchmark: wall time and peak memory of ``python -m gaitcnn.labeling`` as K grows.

Each run is a fresh process (the command a user types) measured by
:func:`benchmarks._common.run_measured`; the image cache is built by a warm-up run first, so the
figures are those of a run with the cache in place. The target (issue 13): peak memory must not
grow with the data - K = 744 with the improved preset under 1.5 GB.

Run: ``python -m benchmarks.bench_labeling [--quick]`` (prints JSON). ``run()`` returns entries.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from benchmarks._common import entry, run_measured

#: (preset or method, K values, extra arguments) of the full benchmark.
FULL = (("improved", (100, 300, 744), ()),)

#: The smoke version: a tiny simulated set, one epoch.
QUICK = (("improved", (4, 8), ("--epochs", "1")),)


def labeling_once(preset, k: int, extra, out: Path, data_root: Path | None) -> dict:
    """One measured labeling process; returns wall, peak RSS and the run's own figures.

    ``preset`` names a preset, or is the option list selecting a model
    (``("--method", "minirocket")``).
    """
    select = ("--preset", preset) if isinstance(preset, str) else tuple(preset)
    cmd = [sys.executable, "-m", "gaitcnn.labeling", *select, "--subjects", str(k)]
    cmd += ["--out", str(out), "--verbose", "0", *extra]
    if data_root is not None:
        cmd += ["--data-root", str(data_root)]
    measured = run_measured(cmd, env={"TF_CPP_MIN_LOG_LEVEL": "2"})
    results = json.loads((out / "results.json").read_text())
    return {**measured, "accuracy": results["accuracy"], "train_time_s": results["train_time_s"]}


def run(quick: bool = False) -> list[dict]:
    """Peak RSS and wall time per (preset, K), each after a warm-up run that builds the cache."""
    plans = QUICK if quick else FULL
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        root = None
        if quick:  # a small simulated set in the real format, passed as a data root
            from gaitcnn.prepare import ensure_simulated

            root = ensure_simulated("ouisir", cache_dir=Path(tmp), n_subjects=10)
        for preset, ks, extra in plans:
            labeling_once(preset, ks[0], extra, Path(tmp) / "warm-up", root)
            for k in ks:
                result = labeling_once(preset, k, extra, Path(tmp) / f"{preset}-{k}", root)
                entries.append(
                    entry(f"labeling.{preset}.K{k}.peak_rss", result["maxrss_mb"], "MB",
                          repetitions=1, wall_s=result["wall_s"], k=k,
                          accuracy=result["accuracy"], train_time_s=result["train_time_s"],
                          command=f"python -m gaitcnn.labeling --preset {preset} --subjects {k}")
                )  # fmt: skip
    return entries


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
