"""Table 1 driver (gait authentication on McGill): ``make reproduce-table1``.

Status: the authentication protocol (one binary CNN per subject, same-day and different-day
probes, N-cycle fusion) is issue #5 and not implemented yet. Until it lands this driver runs,
honestly labelled, the part of the pipeline that exists: it simulates the McGill-like data set
(or reads ``--data-root``), resamples it, detects gait cycles with GGGD, builds the AE-GDI cache
and reports what it produced. It writes no accuracy numbers.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from experiments._report import versions, write_json_atomic, write_text_atomic

#: Full run: the paper's McGill set size (20 subjects x 2 days x ~15 minutes).
FULL = {"n_subjects": 20, "duration_s": 900.0}
#: QUICK=1: small enough for tests and CI.
QUICK = {"n_subjects": 4, "duration_s": 120.0}


def main(argv=None) -> Path:
    """Run the driver; returns the output folder."""
    from gaitcnn.cache import read_image_set
    from gaitcnn.prepare import PrepareParams, ensure_simulated, prepare_dataset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="real McGill root; omitted: simulated McGill-like data",
    )
    parser.add_argument("--quick", action="store_true", help="small simulated run (tests, CI)")
    parser.add_argument("--out", type=Path, default=Path("results/table1"), help="output folder")
    parser.add_argument("--cache-dir", type=Path, default=None, help="cache folder")
    parser.add_argument("--seed", type=int, default=0, help="simulator seed")
    args = parser.parse_args(argv)

    size = QUICK if args.quick else FULL
    started = time.perf_counter()
    params = PrepareParams.paper("mcgill")
    if args.data_root is None:
        root = ensure_simulated("mcgill", cache_dir=args.cache_dir, seed=args.seed, **size)
        data_label, source = f"SIMULATED ({root.name})", f"simulated ({root.name})"
    else:
        root, data_label, source = args.data_root, f"real data at {args.data_root}", None
    cache = prepare_dataset(params, root, cache_dir=args.cache_dir, source=source)
    image_set = read_image_set(cache, expected_params=params.to_dict(), load_images=False)
    per_day = Counter(zip(image_set.subject_ids.tolist(), image_set.sessions.tolist(), strict=True))
    n_skipped = sum(r.get("n_skipped", 0) for r in image_set.recordings)
    elapsed = time.perf_counter() - started

    rows = "\n".join(f"| {s} | {d} | {n} |" for (s, d), n in sorted(per_day.items()))
    text = f"""# Table 1 (gait authentication) - pipeline status, no accuracy yet

Data: **{data_label}**. The authentication protocol itself (issue #5) is not implemented yet;
this run executed only: load -> cubic-spline resampling to 50 Hz -> GGGD cycle detection ->
AE-GDI images (32 x 64, acceleration channel) -> HDF5 cache `{cache}`.

- images: {len(image_set)}; cycle starts skipped for lack of image margin: {n_skipped}
- wall time: {elapsed:.1f} s

| subject | day | AE-GDIs |
|---|---|---|
{rows}
"""
    out = args.out
    write_text_atomic(out / "table1.md", text)
    write_json_atomic(
        out / "config.json",
        {
            "status": "pipeline only (authentication protocol pending, issue #5)",
            "data": data_label,
            "seed": args.seed,
            "quick": args.quick,
            "size": size,
            "prepare_params": params.to_dict(),
            "cache": str(cache),
            "versions": versions(),
            "n_images": len(image_set),
            "n_skipped": n_skipped,
            "wall_time_s": elapsed,
        },
    )
    print(text)
    print(f"wrote {out}/table1.md and {out}/config.json")
    return out


if __name__ == "__main__":
    main()
