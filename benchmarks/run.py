"""Run every benchmark and write ``results.json`` plus a Markdown summary (``RESULTS.md``).

Usage::

    python -m benchmarks.run --out benchmarks/results.json [--quick] [--only NAME ...]

Names: images, cycles, pipeline, training, inference, prepare, scaling, labeling, peer_ratio,
verification. Each entry holds its figure (a median of several repetitions after a warm-up),
unit, repetitions and the 1-minute load average when it was measured; the file also records
the machine and package versions.
Benchmarks never assert a speed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks._common import machine, versions

BENCHES = (
    "images",
    "cycles",
    "pipeline",
    "training",
    "inference",
    "prepare",
    "scaling",
    "labeling",
    "peer_ratio",
    "verification",
)


def _normalise_legacy(e: dict) -> dict:
    """Entries of bench_images / bench_cycles use their own keys: map them to the common layout."""
    if "name" in e:
        return e
    name = e.pop("benchmark")
    if "images_per_s" in e:
        figure, unit = e.pop("images_per_s"), "images/s"
    else:
        figure, unit = e.pop("seconds_median"), "s"
    return {
        "name": name,
        "figure": figure,
        "unit": unit,
        "statistic": "median",
        "repetitions": 5,
        "loadavg_1m": round(os.getloadavg()[0], 2),
        **e,
    }


def _run_one(name: str, quick: bool) -> list[dict]:
    module = importlib.import_module(f"benchmarks.bench_{name}")
    if name == "images":
        kwargs = {"n_samples": 4500, "repeats": 3, "reference_images": 2} if quick else {}
        return [_normalise_legacy(e) for e in module.run(**kwargs)]
    if name == "cycles":
        kwargs = {"duration_s": 120.0, "repeats": 3} if quick else {}
        return [_normalise_legacy(e) for e in module.run(**kwargs)]
    return module.run(quick=quick)


def _derived(entries: list[dict]) -> None:
    """Cross-entry figures: pipeline vs training consumption, fraction of the matmul peak."""
    by_name = {e["name"]: e for e in entries}
    peak = by_name.get("machine.matmul_float32", {}).get("figure")
    consume = by_name.get("train.package_loop_from_cache.paper_cnn") or by_name.get(
        "train.keras.paper_cnn"
    )
    for e in entries:
        if peak and "achieved_flops" in e and e["name"].startswith("train."):
            e["fraction_of_matmul_peak"] = e["achieved_flops"] / peak
        if consume and e["name"].startswith("pipeline."):
            e["training_consumes_images_per_s"] = consume["figure"]
            e["delivery_over_consumption"] = e["figure"] / consume["figure"]


def _fmt(value: float) -> str:
    if value == 0 or 1e-3 <= abs(value) < 1e6:
        return f"{value:.4g}"
    return f"{value:.3e}"


def write_markdown(result: dict, path: Path) -> None:
    m = result["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Generated {result['generated_utc']} by `{result['command']}`"
        f"{' (quick mode: small sizes, not representative)' if result['quick'] else ''}.",
        f"Machine: {m['cpu_model']}, {m['cores']} cores; versions: "
        + ", ".join(f"{k} {v}" for k, v in result["versions"].items())
        + ".",
        "Figures are medians after a warm-up. `load` is the 1-minute load average when the "
        "entry was measured: above the core count, the machine was shared and the figure is "
        "pessimistic.",
    ]
    if result.get("group_measured_utc"):
        lines.append(
            "Merged file: each group was measured at "
            + ", ".join(f"{g} {t}" for g, t in sorted(result["group_measured_utc"].items()))
            + " (versions above are the latest run's)."
        )
    lines += [
        "",
        "| benchmark | figure | unit | reps | load | notes |",
        "|---|---:|---|---:|---:|---|",
    ]
    for e in result["entries"]:
        notes = []
        for key in (
            "speedup_vs_reference",
            "p99_ms",
            "macs_per_image",
            "achieved_flops",
            "fraction_of_matmul_peak",
            "delivery_over_consumption",
            "peak_rss_mb",
            "seconds",
        ):
            if key in e:
                v = e[key]
                shown = (
                    "[" + ", ".join(_fmt(x) for x in v) + "]" if isinstance(v, list) else _fmt(v)
                )
                notes.append(f"{key}={shown}")
        lines.append(
            f"| {e['name']} | {_fmt(e['figure'])} | {e['unit']} | {e['repetitions']} | "
            f"{e.get('loadavg_1m', '')} | {'; '.join(notes)} |"
        )
    if result["errors"]:
        lines += ["", "## Failed benchmarks", ""]
        lines += [f"- {k}: {v.splitlines()[-1]}" for k, v in result["errors"].items()]
    lines += _long_runs_section(path.with_name(LONG_RUNS))
    lines += _targets_section(path.with_name("TARGETS.md"))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


#: Runs too long for ``make bench`` (``make reproduce-all``), measured once with the command
#: they name and recorded here by hand, with their parts.
LONG_RUNS = "long_runs.json"


def _long_runs_section(path: Path) -> list[str]:
    """RESULTS.md rows of :data:`LONG_RUNS`: what ran, when, how long, on what load."""
    if not path.exists():
        return []
    lines = [
        "",
        f"## Long runs (measured once; {path.name})",
        "",
        "| run | wall | when | command | parts | notes |",
        "|---|---:|---|---|---|---|",
    ]
    for run in json.loads(path.read_text(encoding="utf-8"))["runs"]:
        parts = "; ".join(f"{k} {v:.0f} s" for k, v in run["parts_s"].items())
        lines.append(
            f"| {run['name']} | {run['wall_s'] / 60:.1f} min | {run['measured_utc']} | "
            f"`{run['command']}` | {parts} | {run['notes']} |"
        )
    return lines


def _targets_section(path: Path) -> list[str]:
    """The targets table of TARGETS.md, so that RESULTS.md lists each target beside the data."""
    if not path.exists():
        return []
    table = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    return ["", f"## Targets (from {path.name})", "", *table]


def _merged(previous: dict, result: dict) -> dict:
    """``result`` plus the entries of ``previous`` whose group was not run now."""
    ran = set(result["bench_seconds"])
    kept = [e for e in previous.get("entries", []) if e.get("group") not in ran]
    measured = dict(previous.get("group_measured_utc", {}))
    for group in {e.get("group") for e in kept} - set(measured):
        measured[group] = previous.get("generated_utc")
    measured.update({group: result["generated_utc"] for group in ran})
    return {**result, "entries": kept + result["entries"], "group_measured_utc": measured}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results.json")
    parser.add_argument("--quick", action="store_true", help="small sizes, for smoke use")
    parser.add_argument("--only", nargs="*", choices=BENCHES, default=None)
    parser.add_argument("--markdown", default=None, help="default: RESULTS.md beside --out")
    parser.add_argument(
        "--markdown-only",
        action="store_true",
        help="only re-write the Markdown summary from the existing --out file (after editing "
        "TARGETS.md or long_runs.json)",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the entries of the benchmarks not run now from the existing --out file "
        "(each entry keeps its own load and the file lists when each group was measured)",
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    markdown = Path(args.markdown) if args.markdown else out.with_name("RESULTS.md")
    if args.markdown_only:
        write_markdown(json.loads(out.read_text(encoding="utf-8")), markdown)
        print(f"[bench] wrote {markdown}", file=sys.stderr)
        return 0
    entries, errors, timings = [], {}, {}
    for name in args.only or BENCHES:
        start = time.perf_counter()
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        try:
            got = _run_one(name, args.quick)
        except Exception:  # report and go on: one broken benchmark must not hide the others
            errors[name] = traceback.format_exc()
            print(errors[name], file=sys.stderr)
            got = []
        for e in got:
            e["group"] = name
        entries += got
        timings[name] = time.perf_counter() - start
        print(f"[bench] {name}: {len(got)} entries in {timings[name]:.1f} s", file=sys.stderr)
    _derived(entries)
    result = {
        "generated_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m benchmarks.run", *(argv or sys.argv[1:])]),
        "quick": args.quick,
        "machine": machine(),
        "versions": versions(),
        "loadavg_at_start_and_end": os.getloadavg(),
        "bench_seconds": timings,
        "entries": entries,
        "errors": errors,
    }
    if args.merge and out.exists():
        result = _merged(json.loads(out.read_text(encoding="utf-8")), result)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    write_markdown(result, markdown)
    print(f"[bench] wrote {out}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
