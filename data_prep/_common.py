"""Shared entry point of the per-dataset preparation scripts (one per data set, as in nanoGPT)."""

from __future__ import annotations

import argparse
from pathlib import Path

from gaitcnn.constants import DATA_DIR_ENV


def run(dataset: str, description: str, argv=None) -> Path:
    """Parse ``--data-root/--cache-dir/--workers/--seed/--subjects`` and build the paper cache."""
    import os

    from gaitcnn.prepare import PrepareParams, ensure_simulated, prepare_dataset

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--data-root",
        type=Path,
        default=os.environ.get(DATA_DIR_ENV),
        help=f"real data root (or ${DATA_DIR_ENV}); omitted: simulate",
    )
    parser.add_argument("--cache-dir", type=Path, default=None, help="cache folder")
    parser.add_argument("--subjects", type=int, default=None, help="simulated subjects")
    parser.add_argument(
        "--duration-s", type=float, default=None, help="simulated McGill-like day length (s)"
    )
    parser.add_argument("--seed", type=int, default=0, help="simulator seed")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    args = parser.parse_args(argv)
    source = None
    root = args.data_root
    if root is None:
        root = ensure_simulated(
            dataset,
            cache_dir=args.cache_dir,
            seed=args.seed,
            n_subjects=args.subjects,
            duration_s=args.duration_s,
        )
        source = f"simulated ({root.name})"
    path = prepare_dataset(
        PrepareParams.paper(dataset),
        root,
        cache_dir=args.cache_dir,
        source=source,
        workers=args.workers,
    )
    print(path)
    return path
