"""Peers under re-orientation: MiniRocket, MultiRocket, RDST x default/rotated x channel sets.

SIMULATED data only (issue 15). Every cell runs the labeling protocol of
``python -m gaitcnn.labeling --method minirocket`` - the same simulated OU-ISIR-like set, the
same subject draw (K subjects, ``--seed``), the chosen subjects' gallery walks for training
and their probe walks for testing - with one peer of :data:`gaitcnn.peers.PEERS` on windows of
one channel set of :data:`gaitcnn.rawwindows.CHANNEL_SETS` (``axes``: the sensor axes and
norms; ``norms``; ``gravity``: gravity-aligned components and norms), on the ``default`` or
``rotated`` simulator variant (every walk's sensor turned by a random rotation). Windows are
the MiniRocket peer's (1.28 s every 0.16 s, gallery and probe); a probe walk is labelled by the
sum of its windows' ridge scores.

Each cell runs in its own process, so its peak RSS is its own; the driver collects the cells
into ``peer_rotation.md`` / ``peer_rotation.json``. Usage::

    python -m experiments.peer_rotation --out results/peer_rotation          # K=100, seed 0
    python -m experiments.peer_rotation --seeds 0 1 2 --peers minirocket     # a subset
    python -m experiments.peer_rotation --quick --out /tmp/pr                # tiny smoke run
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from experiments._report import versions, write_json_atomic, write_text_atomic

#: Full size: K = 100 subjects of the 744 simulated ones, seed 0, the peers' own sizes.
FULL = {"k": 100, "n_simulated": 744, "peer_params": {}}
#: --quick: 6 of 8 simulated subjects and the peers' test sizes. Numbers mean nothing.
QUICK = {"k": 6, "n_simulated": 8, "peer_params": "test"}

VARIANTS = ("default", "rotated")
CHANNELS = ("axes", "norms", "gravity")


def _windows(segments, kind: str, rate_hz: float):
    """Windows ``(n, n_channels, 64)`` of every segment and the index of its segment."""
    from gaitcnn.peers.minirocket import DEFAULT_STEP_S, DEFAULT_WINDOW_S, make_windows
    from gaitcnn.rawwindows import raw_channels

    parts, owner = [], []
    for i, s in enumerate(segments):
        series = raw_channels(s.acc, s.gyr, kind=kind, rate_hz=rate_hz)
        w = make_windows(series, round(DEFAULT_WINDOW_S * rate_hz), round(DEFAULT_STEP_S * rate_hz))
        parts.append(w)
        owner.append(np.full(len(w), i))
    return np.concatenate(parts), np.concatenate(owner)


def run_cell(peer: str, variant: str, channels: str, k: int, seed: int, size: dict, cache_dir):
    """One peer on one variant and channel set; returns accuracy, times and peak RSS."""
    from gaitcnn.labeling import LabelingParams
    from gaitcnn.peers import PEERS
    from gaitcnn.peers.minirocket import labeling_split, load_labeling_segments
    from gaitcnn.peers.minirocket import sum_scores_by_sequence as fuse
    from gaitcnn.prepare import ensure_simulated

    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    root = ensure_simulated(
        "ouisir", cache_dir=cache_dir, n_subjects=size["n_simulated"], variant=variant
    )
    prep = LabelingParams(n_subjects=k, seed=seed).prepare_params()
    segments = load_labeling_segments(root, prep)
    split = labeling_split(segments, k, seed)
    class_of = {int(s): i for i, s in enumerate(split.chosen)}
    gallery = [s for s in segments if s.session == "gallery" and s.subject_id in class_of]
    probe = [s for s in segments if s.session == "probe" and s.subject_id in class_of]
    x_train, seg_train = _windows(gallery, channels, prep.rate_hz)
    x_test, seg_test = _windows(probe, channels, prep.rate_hz)
    y_train = np.array([class_of[gallery[i].subject_id] for i in seg_train])
    seq_index = {key: i for i, key in enumerate(split.probe_sequences)}
    owner = np.array([seq_index[probe[i].key] for i in seg_test])
    y_seq = np.array([class_of[int(key.split("/")[0])] for key in split.probe_sequences])
    prepare_s = time.perf_counter() - started

    cls = PEERS[peer]
    params = cls.TEST_PARAMS if size["peer_params"] == "test" else size["peer_params"]
    fit_started = time.perf_counter()
    model = cls(**params, seed=seed).fit(x_train, y_train)
    fit_s = time.perf_counter() - fit_started
    scores = model.decision_function(x_test)
    predict_s = time.perf_counter() - fit_started - fit_s
    fused, _ = fuse(scores, owner, len(y_seq))
    rank = (fused > fused[np.arange(len(y_seq)), y_seq][:, None]).sum(axis=1) + 1
    return {
        "peer": peer,
        "variant": variant,
        "channels": channels,
        "K": len(class_of),
        "seed": seed,
        "simulated": True,
        "accuracy": float(np.mean(rank == 1)),
        "top5": float(np.mean(rank <= 5)),
        "n_probe_sequences": len(y_seq),
        "n_train_windows": len(y_train),
        "n_test_windows": len(owner),
        "n_channels": int(x_train.shape[1]),
        "n_features": model.features_.n_features_,
        "params": model.get_params(),
        "model_size_bytes": model.model_size_bytes(),
        "prepare_time_s": prepare_s,
        "fit_time_s": fit_s,
        "predict_time_s": predict_s,
        "fit_predict_time_s": fit_s + predict_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "load_1min": [load_before, os.getloadavg()[0]],
        "cpu_count": os.cpu_count(),
    }


def _cell_path(out: Path, cell: tuple) -> Path:
    peer, variant, channels, k, seed = cell
    return out / "cells" / f"{peer}-{variant}-{channels}-K{k}-s{seed}.json"


def table(rows: list[dict]) -> str:
    """Markdown table: accuracy per peer and channel set, default vs rotated (seed means).

    Accuracy cells read ``mean [seed 0, seed 1, ...]``; times, peak RSS and model size are
    means / maxima over the same cells.
    """
    lines = [
        "| peer | channels | default acc | rotated acc | drop (points) | fit+predict s "
        "(default / rotated) | peak RSS MB | model MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    keys = dict.fromkeys((r["peer"], r["channels"]) for r in rows)
    for peer, channels in keys:
        by = {
            v: [r for r in rows if (r["peer"], r["channels"], r["variant"]) == (peer, channels, v)]
            for v in VARIANTS
        }
        acc = {v: np.mean([r["accuracy"] for r in by[v]]) if by[v] else np.nan for v in by}
        each = {v: "/".join(f"{r['accuracy']:.2f}" for r in by[v]) for v in by}
        secs = {
            v: np.mean([r["fit_predict_time_s"] for r in by[v]]) if by[v] else np.nan for v in by
        }
        rss = max(r["peak_rss_mb"] for r in by["default"] + by["rotated"])
        size_mb = max(r["model_size_bytes"] for r in by["default"] + by["rotated"]) / 2**20
        lines.append(
            f"| {peer} | {channels} | {acc['default']:.3f} [{each['default']}] | "
            f"{acc['rotated']:.3f} [{each['rotated']}] | "
            f"{100 * (acc['default'] - acc['rotated']):+.1f} | "
            f"{secs['default']:.0f} / {secs['rotated']:.0f} | {rss:.0f} | {size_mb:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> Path:
    """Run (or reuse) every requested cell in its own process, then write the table."""
    from gaitcnn.peers import PEERS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/peer_rotation"))
    parser.add_argument("--cache-dir", type=Path, default=None, help="simulated data sets")
    parser.add_argument("--peers", nargs="+", default=sorted(PEERS), choices=sorted(PEERS))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--channels", nargs="+", default=list(CHANNELS), choices=CHANNELS)
    parser.add_argument("--k", type=int, default=None, help="subjects (default 100)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (tests)")
    parser.add_argument("--force", action="store_true", help="re-run finished cells")
    parser.add_argument("--no-run", action="store_true", help="only collect finished cells")
    parser.add_argument("--cell", nargs=5, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    size = dict(QUICK if args.quick else FULL)
    k = args.k or size["k"]
    if args.cell is not None:  # worker: one cell, in this process
        peer, variant, channels, k_cell, seed = args.cell
        cell = (peer, variant, channels, int(k_cell), int(seed))
        result = run_cell(*cell, size, args.cache_dir)
        write_json_atomic(_cell_path(args.out, cell), result)
        return args.out
    rows = []
    cells = itertools.product(args.peers, args.variants, args.channels, [k], args.seeds)
    for cell in cells:
        path = _cell_path(args.out, cell)
        if args.no_run and not path.exists():
            continue
        if args.force or not path.exists():
            cmd = [sys.executable, "-m", "experiments.peer_rotation", "--out", str(args.out)]
            cmd += ["--cell", *map(str, cell)] + (["--quick"] if args.quick else [])
            if args.cache_dir is not None:
                cmd += ["--cache-dir", str(args.cache_dir)]
            print("running " + " ".join(map(str, cell)), flush=True)
            subprocess.run(cmd, check=True)
        rows.append(json.loads(path.read_text()))
        r = rows[-1]
        print(
            f"  {r['peer']} {r['variant']} {r['channels']} seed {r['seed']}: accuracy "
            f"{r['accuracy']:.3f}, fit+predict {r['fit_predict_time_s']:.1f} s, "
            f"peak RSS {r['peak_rss_mb']:.0f} MB, load {r['load_1min']}",
            flush=True,
        )
    header = (
        f"# Peers under re-orientation (SIMULATED OU-ISIR-like data, K = {k}, "
        f"seeds {args.seeds})\n\n`python -m experiments.peer_rotation "
        f"{' '.join(argv if argv is not None else sys.argv[1:])}`\n\n"
        "Times measured on a shared machine; see `load_1min` per cell in peer_rotation.json.\n\n"
    )
    write_text_atomic(args.out / "peer_rotation.md", header + table(rows))
    write_json_atomic(args.out / "peer_rotation.json", {"rows": rows, "versions": versions()})
    return args.out


if __name__ == "__main__":
    main()
