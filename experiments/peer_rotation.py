"""Peers under re-orientation: MiniRocket, MultiRocket, RDST x default/rotated x channel sets.

SIMULATED data only (issue 15). Every cell is one run of the labeling protocol
(:func:`gaitcnn.labeling.run_labeling`, the path of ``python -m gaitcnn.labeling --method
<peer> --channels ...``): the same simulated OU-ISIR-like set, the same subject draw (K
subjects, ``--seed``), the chosen subjects' gallery walks for training and their probe walks
for testing, with one peer of :data:`gaitcnn.peers.PEERS` on windows of one channel set of
:data:`gaitcnn.rawwindows.CHANNEL_SETS` (``axes``: the sensor axes and norms; ``norms``;
``gravity``: gravity-aligned components and norms; ``body``: vertical, forward and lateral
components and norms), on the ``default`` or ``rotated``
simulator variant (every walk's sensor turned by a random rotation). Windows are the peers'
(1.28 s every 0.16 s, gallery and probe); a probe walk is labelled by the mean of its windows'
ridge scores.

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
import tempfile
from pathlib import Path

import numpy as np

from experiments._report import versions, write_json_atomic, write_text_atomic

#: Full size: K = 100 subjects of the 744 simulated ones, seed 0, the peers' own sizes.
FULL = {"k": 100, "n_simulated": 744, "peer_params": {}}
#: --quick: 6 of 8 simulated subjects and the peers' test sizes. Numbers mean nothing.
QUICK = {"k": 6, "n_simulated": 8, "peer_params": "test"}

VARIANTS = ("default", "rotated")
CHANNELS = ("axes", "norms", "gravity", "body")


def run_cell(peer: str, variant: str, channels: str, k: int, seed: int, size: dict, cache_dir):
    """One peer on one variant and channel set, by the labeling protocol; returns its figures."""
    from gaitcnn.labeling import LabelingParams, run_labeling
    from gaitcnn.peers import PEERS
    from gaitcnn.rawwindows import channel_names

    load_before = os.getloadavg()[0]
    hparams = PEERS[peer].TEST_PARAMS if size["peer_params"] == "test" else size["peer_params"]
    params = LabelingParams.from_preset(
        n_subjects=k, seed=seed, method=peer, channels=channel_names(channels),
        hparams=dict(hparams) or None,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as out:
        res = run_labeling(
            params, out_dir=out, cache_dir=cache_dir, n_simulated=size["n_simulated"],
            simulation_variant=variant,
        )  # fmt: skip
    return {
        "peer": peer,
        "variant": variant,
        "channels": channels,
        "K": res["n_subjects"],
        "seed": seed,
        "simulated": True,
        "accuracy": res["accuracy"],
        "top5": res["top5"],
        "n_probe_sequences": res["n_probe_sequences"],
        "n_train_windows": res["n_gallery_images"],
        "n_test_windows": res["n_probe_images"],
        "n_channels": len(res["channels"]),
        "params": dict(hparams),
        "model_size_bytes": res["model_size_bytes"],
        "prepare_time_s": res["prepare_time_s"],
        "fit_predict_time_s": res["wall_time_s"] - res["prepare_time_s"],
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
