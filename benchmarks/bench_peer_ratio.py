"""Benchmark: the improved preset's end-to-end wall time over MiniRocket's (issue 15 target: 2x).

Both are the command a user types (``python -m gaitcnn.labeling --subjects K --preset improved``
and ``... --method minirocket``), each in a fresh process
(:func:`benchmarks.bench_labeling.labeling_once`), run back to back and alternating after a
warm-up of each that builds its caches, so both see the same cache state and the same load. The
figure is the ratio of the median wall times per K. Run it on a quiet machine.

Run: ``python -m benchmarks.bench_peer_ratio [--quick]`` (prints JSON). ``run()`` returns entries.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks._common import entry
from benchmarks.bench_labeling import labeling_once

#: Wall-time ratio (issue 15): (K, repetitions of each command) of the full benchmark.
RATIO = ((100, 2), (744, 1))
RATIO_QUICK = ((4, 1),)
#: The two commands compared: the improved preset and the MiniRocket peer.
RATIO_ROWS = (("improved", ("--preset", "improved")), ("minirocket", ("--method", "minirocket")))


def run(quick: bool = False) -> list[dict]:
    """Wall time of the improved preset over MiniRocket's per K, both commands back to back."""
    plans, extra = (RATIO_QUICK, ("--epochs", "1")) if quick else (RATIO, ())
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        root = None
        if quick:
            from gaitcnn.prepare import ensure_simulated

            root = ensure_simulated("ouisir", cache_dir=Path(tmp), n_subjects=10)
        for name, select in RATIO_ROWS:  # caches built before anything is timed
            labeling_once(select, plans[0][0], extra, Path(tmp) / f"warm-up-{name}", root)
        for k, reps in plans:
            walls = {name: [] for name, _ in RATIO_ROWS}
            for rep in range(reps):
                for name, select in RATIO_ROWS:
                    out = Path(tmp) / f"{name}-{k}-{rep}"
                    walls[name].append(labeling_once(select, k, extra, out, root)["wall_s"])
            improved, minirocket = (statistics.median(walls[n]) for n, _ in RATIO_ROWS)
            entries.append(
                entry(f"labeling.improved_vs_minirocket.K{k}.wall_ratio", improved / minirocket,
                      "x", repetitions=reps, k=k, improved_wall_s=walls["improved"],
                      minirocket_wall_s=walls["minirocket"],
                      command=f"python -m gaitcnn.labeling --subjects {k} --preset improved | "
                      "--method minirocket")
            )  # fmt: skip
    return entries


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
