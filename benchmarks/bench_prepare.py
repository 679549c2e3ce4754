"""Benchmark: end-to-end ``gaitcnn prepare`` (wall time, peak memory), ``--workers 1`` vs
``--workers 2`` (and whether the caches are byte-identical), and peak memory at 1x vs 4x data.

Each run is a fresh ``gaitcnn prepare`` process; peak memory is ``ru_maxrss`` of the largest
process (the CLI or one of its workers), see :func:`benchmarks._common.run_measured`.

Run: ``python -m benchmarks.bench_prepare`` (prints JSON). ``run()`` returns the entries.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks._common import entry, run_measured

GAITCNN = [sys.executable, "-m", "gaitcnn.cli"]


def _cli() -> list[str]:
    exe = Path(sys.executable).with_name("gaitcnn")
    return [str(exe)] if exe.exists() else GAITCNN


def mcgill_subset(root: Path, n_subjects: int, dest: Path) -> Path:
    """A McGill-like root holding the first ``n_subjects`` subjects of ``root`` (symlinks)."""
    dest.mkdir(parents=True, exist_ok=True)
    subjects = sorted({p.name.split("_")[0] for p in root.glob("subject*_day*.csv")})
    for subject in subjects[:n_subjects]:
        for f in root.glob(f"{subject}_day*.csv"):
            target = dest / f.name
            if not target.exists():
                target.symlink_to(f)
    return dest


def prepare_once(dataset: str, root: Path, cache_dir: Path, workers: int) -> dict:
    """One measured ``gaitcnn prepare`` into an empty ``cache_dir``; adds the cache's sha256."""
    cmd = [
        *_cli(),
        "prepare",
        "--dataset",
        dataset,
        "--data-root",
        str(root),
        "--cache-dir",
        str(cache_dir),
        "--workers",
        str(workers),
        "--overwrite",
    ]
    result = run_measured(cmd, env={"TF_CPP_MIN_LOG_LEVEL": "2"})
    caches = sorted(cache_dir.glob(f"{dataset}-*.h5"))
    data = caches[-1].read_bytes()
    result["sha256"] = hashlib.sha256(data).hexdigest()
    result["cache_mb"] = len(data) / 2**20
    return result


def _measure(dataset, root, tmp, workers, repeats, label):
    runs = []
    for r in range(repeats + 1):  # the first run warms the page cache and imports
        cache_dir = tmp / f"{label}-w{workers}-r{r}"
        runs.append(prepare_once(dataset, root, cache_dir, workers))
    return runs[1:]


def run(*, quick: bool = False) -> list[dict]:
    """End-to-end prepare entries; ``quick`` uses 20 OU-ISIR and 2 McGill subjects."""
    from gaitcnn.prepare import ensure_simulated

    repeats = 1 if quick else 2
    entries = []
    with tempfile.TemporaryDirectory(prefix="bench-prepare-") as tmp:
        tmp = Path(tmp)
        if quick:
            ouisir = ensure_simulated("ouisir", cache_dir=tmp / "sim", n_subjects=20)
        else:
            ouisir = ensure_simulated("ouisir")  # 744 subjects, simulated once and kept
        mcgill_full = ensure_simulated("mcgill")  # 20 subjects x 2 days x 900 s
        mcgill = mcgill_subset(mcgill_full, 2, tmp / "mcgill2") if quick else mcgill_full
        n_ouisir = 20 if quick else 744
        n_mcgill = 2 if quick else 20
        for dataset, root, desc in (
            ("ouisir", ouisir, f"{n_ouisir} simulated OU-ISIR subjects"),
            ("mcgill", mcgill, f"{n_mcgill} x 2 x 15-min simulated McGill-like days"),
        ):
            hashes = {}
            for workers in (1, 2):
                runs = _measure(dataset, root, tmp, workers, repeats, dataset)
                hashes[workers] = {r["sha256"] for r in runs}
                wall = float(np.median([r["wall_s"] for r in runs]))
                entries.append(
                    entry(
                        f"prepare.{dataset}.workers{workers}",
                        wall,
                        "s",
                        repetitions=len(runs),
                        data=desc,
                        peak_rss_mb=max(r["maxrss_mb"] for r in runs),
                        peak_rss_note="largest single process (ru_maxrss)",
                        cache_mb=runs[0]["cache_mb"],
                        command="gaitcnn prepare --dataset "
                        f"{dataset} --data-root ROOT --cache-dir DIR --workers {workers}",
                    )
                )
            identical = hashes[1] == hashes[2] and len(hashes[1]) == 1
            entries.append(
                entry(
                    f"prepare.{dataset}.workers2_byte_identical",
                    float(identical),
                    "bool",
                    repetitions=repeats,
                    sha256=sorted(hashes[1] | hashes[2]),
                )
            )
        # Memory bound: 1x vs 4x McGill-like data with the same chunking.
        sizes = (1, 4) if quick else (5, 20)
        peaks = []
        for n in sizes:
            root = mcgill_subset(mcgill_full, n, tmp / f"mem{n}")
            runs = _measure("mcgill", root, tmp, 2, 1, f"mem{n}")
            peaks.append(runs[0]["maxrss_mb"])
        entries.append(
            entry(
                "prepare.mcgill.peak_rss_4x_over_1x",
                peaks[1] / peaks[0],
                "ratio",
                repetitions=1,
                subjects=list(sizes),
                peak_rss_mb=peaks,
                workers=2,
                note="1.0 = memory independent of data size; 4.0 = proportional",
            )
        )
    return entries


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
