"""Beyond the paper: paper preset vs improved preset vs the peers on OU-ISIR labeling.

``make reproduce-comparison`` (or ``python -m experiments.comparison``). Each row is one run of
the public command a user would type - ``python -m gaitcnn.labeling --subjects K`` with
``--preset paper``, ``--preset improved`` or ``--method minirocket`` - in its own process, so
the peak memory of one method is not inflated by another. All see the same data, the
same subject draw (``--seed``) and the same gallery/probe walks. ``--methods`` adds the peers
MultiRocket and RDST; ``--settings`` adds data settings beside the default: ``hard`` and
``rotated`` (simulator variants; the sensor turns between gallery and probe walks in
``rotated``) and ``android`` (the accelerometer-only phone walks, ``--sensor android``). Writes
``comparison.md``, ``comparison.csv``, ``comparison.png`` and ``config.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from experiments._report import versions, write_json_atomic, write_text_atomic
from experiments.table_2 import to_csv

#: The compared rows: (key, label, extra command-line arguments of gaitcnn.labeling).
ROWS = (
    ("paper", "Paper preset (GGGD + AE-GDI + CNN)", ("--preset", "paper")),
    ("improved", "Improved preset (gaitcnn)", ("--preset", "improved")),
    ("minirocket", "MiniRocket peer (aeon) + ridge", ("--method", "minirocket")),
    ("multirocket", "MultiRocket peer (aeon) + ridge", ("--method", "multirocket")),
    ("rdst", "RDST peer (aeon) + ridge", ("--method", "rdst")),
)

#: Rows run by default (the peers MultiRocket and RDST take 3-10x MiniRocket's time).
DEFAULT_METHODS = ("paper", "improved", "minirocket")

#: Data settings: (simulator variant, extra arguments of gaitcnn.labeling).
SETTINGS = {
    "default": ("default", ()),
    "hard": ("hard", ()),
    "rotated": ("rotated", ()),
    "android": ("default", ("--subset", "manual", "--sensor", "android")),
}

#: Full size: the paper's K = 744 and a small gallery (K = 100).
FULL = {"k": (100, 744), "seed": 0, "n_simulated": None, "epochs": None}
#: --quick: a tiny simulated set and one epoch, for tests. Numbers mean nothing.
QUICK = {"k": (4,), "seed": 0, "n_simulated": 8, "epochs": 1}


def _run_dir(runs: Path, key: str, k: int, seed: int, setting: str = "default") -> Path:
    suffix = "" if setting == "default" else f"-{setting}"
    return runs / f"{key}{suffix}-K{k}-s{seed}"


def _setting_args(setting: str, data_root) -> list[str]:
    """Arguments of gaitcnn.labeling for a data setting (a variant needs the simulator)."""
    variant, extra = SETTINGS[setting]
    if variant != "default" and data_root is None:
        extra = ("--variant", variant, *extra)
    return list(extra)


def run_one(key: str, extra: tuple, k: int, size: dict, args, setting: str = "default") -> dict:
    """Run (or reuse) one ``gaitcnn.labeling`` process; returns its results.json plus extras."""
    from gaitcnn import __version__

    data_root = args.data_roots.get(setting, args.data_root)
    run_dir = _run_dir(args.out / "runs", key, k, size["seed"], setting)
    cmd = [
        sys.executable,
        "-m",
        "gaitcnn.labeling",
        "--subjects",
        str(k),
        "--seed",
        str(size["seed"]),
        "--verbose",
        "0",
        "--out",
        str(run_dir),
        *extra,
        *_setting_args(setting, data_root),
    ]
    if data_root is not None:
        cmd += ["--data-root", str(data_root)]
    if size["epochs"] is not None and key in ("paper", "improved"):
        cmd += ["--epochs", str(size["epochs"])]
    if args.cache_dir is not None:
        cmd += ["--cache-dir", str(args.cache_dir)]
    # The stored key: the command (minus the interpreter) and the package version.
    run_key = {"command": cmd[1:], "gaitcnn": __version__}
    key_path = run_dir / "run_key.json"
    if (
        not args.force
        and (run_dir / "results.json").exists()
        and key_path.exists()
        and json.loads(key_path.read_text()) == run_key
    ):
        print(f"reusing {run_dir}", flush=True)
    else:
        print("running: " + " ".join(cmd[1:]), flush=True)
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        started = time.perf_counter()
        proc = subprocess.run(cmd, env=env, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[1:])} failed with exit code {proc.returncode}")
        write_json_atomic(
            run_dir / "process.json", {"process_wall_time_s": time.perf_counter() - started}
        )
        write_json_atomic(key_path, run_key)
    res = json.loads((run_dir / "results.json").read_text())
    process = run_dir / "process.json"
    res["process_wall_time_s"] = (
        json.loads(process.read_text())["process_wall_time_s"] if process.exists() else None
    )
    res["run_dir"] = str(run_dir)
    return res


def model_size_mb(res: dict) -> float | None:
    """Size of the trained model: MiniRocket's pickled transform + ridge, a CNN's float32
    weights (``params`` x 4 bytes; the .keras file also holds the optimizer state)."""
    if res.get("model_size_bytes") is not None:
        return res["model_size_bytes"] / 2**20
    if res.get("params") is not None:
        return 4 * res["params"] / 2**20
    return None


def plot(rows: list[dict], out_png: Path, title: str) -> Path:
    """Accuracy vs K, one line per compared method (:func:`experiments.figure_7.plot_lines`)."""
    from experiments.figure_7 import plot_lines

    series = {}
    for label, setting in dict.fromkeys((r["label"], r["setting"]) for r in rows):
        pts = sorted(
            (r["K"], r["accuracy"]) for r in rows if (r["label"], r["setting"]) == (label, setting)
        )
        name = label if setting == "default" else f"{label}, {setting}"
        series[name] = ([p[0] for p in pts], [p[1] for p in pts])
    return plot_lines(series, "K (subjects)", title, out_png)


def _rows_of(setting: str, k: int, size: dict, args) -> list[dict]:
    """One table row per method for a data setting and K (each a labeling process)."""
    rows = []
    for key, label, extra in ROWS:
        if key not in args.methods:
            continue
        res = run_one(key, extra, k, size, args, setting)
        size_mb = model_size_mb(res)
        rows.append(
            {
                "method": key,
                "label": label,
                "setting": setting,
                "channels": "+".join(res.get("channels", [])),
                "K": res["n_subjects"],
                "accuracy": round(res["accuracy"], 6),
                "top5": round(res["top5"], 6),
                "wall_time_s": round(res["wall_time_s"], 1),
                "train_time_s": round(res.get("train_time_s") or 0.0, 1),
                "peak_rss_mb": round(res["peak_memory"]["self_mb"]),
                "params": res.get("params"),
                "model_mb": round(size_mb, 2) if size_mb is not None else "",
                "probe_sequences": res["n_probe_sequences"],
                "sequences_without_images": res.get("n_probe_sequences_without_images", 0),
                "run_dir": res["run_dir"],
            }
        )
    return rows


def main(argv=None) -> Path:
    """Run the driver; returns the output folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=None, help="real OU-ISIR root")
    parser.add_argument("--quick", action="store_true", help="tiny simulated run (tests)")
    parser.add_argument("--out", type=Path, default=Path("results/comparison"), help="output")
    parser.add_argument("--cache-dir", type=Path, default=None, help="data and image caches")
    parser.add_argument("--k", nargs="+", type=int, default=None, help="K values")
    parser.add_argument(
        "--methods", nargs="+", default=list(DEFAULT_METHODS), choices=[r[0] for r in ROWS]
    )
    parser.add_argument(
        "--settings",
        nargs="+",
        default=["default"],
        choices=list(SETTINGS),
        help="data settings (hard, rotated: simulator variants; android: accelerometer only)",
    )
    parser.add_argument("--seed", type=int, default=None, help="subject draw and weights seed")
    parser.add_argument("--force", action="store_true", help="re-run finished runs")
    args = parser.parse_args(argv)
    size = dict(QUICK if args.quick else FULL)
    if args.k:
        size["k"] = tuple(args.k)
    if args.seed is not None:
        size["seed"] = args.seed
    variants = [s for s in args.settings if SETTINGS[s][0] != "default"]
    if args.data_root is not None and variants:
        parser.error(f"--settings {' '.join(variants)} are simulator variants: drop --data-root")
    args.data_roots = {}
    if args.quick and args.data_root is None:
        from gaitcnn.prepare import ensure_simulated

        for setting in args.settings:
            variant, extra = SETTINGS[setting]
            args.data_roots[setting] = ensure_simulated(
                "ouisir", cache_dir=args.cache_dir, n_subjects=size["n_simulated"],
                variant=variant, sensors=("android",) if "android" in extra else ("center",),
            )  # fmt: skip
        args.data_root = args.data_roots.get("default")
        data = f"SIMULATED OU-ISIR-like data, {size['n_simulated']} subjects (--quick)"
    elif args.data_root is None:
        data = "SIMULATED OU-ISIR-like data, 744 subjects (not the real data set)"
    else:
        data = f"real OU-ISIR data at {args.data_root}"
    started = time.perf_counter()

    rows = []
    for setting in args.settings:
        for k in size["k"]:
            rows += _rows_of(setting, k, size, args)
    lines = [
        "| method | data | channels | K | accuracy % | top-5 % | wall s | train s | peak RSS MB "
        "| parameters | model MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        params = f"{r['params']:,}" if isinstance(r["params"], int) else "-"
        lines.append(
            f"| {r['label']} | {r['setting']} | {r['channels']} | {r['K']} | "
            f"{100 * r['accuracy']:.1f} | {100 * r['top5']:.1f} | "
            f"{r['wall_time_s']:.0f} | {r['train_time_s']:.0f} | {r['peak_rss_mb']} | {params} "
            f"| {r['model_mb']} |"
        )
    quick_note = "\n**--quick run: tiny data, 1 epoch; numbers mean nothing.**\n"
    text = f"""# Beyond the paper: paper preset, improved preset and MiniRocket (OU-ISIR labeling)

Data: **{data}**. Results on simulated data show how the methods compare on the simulator;
they are not results on the real data set.
{quick_note if args.quick else ""}
Each row is one `python -m gaitcnn.labeling` process (`--preset paper`, `--preset improved`,
`--method minirocket|multirocket|rdst`) on the same subject draw (seed {size["seed"]}) and the
same gallery (seq0) and probe (seq1) walks; probe walks without any image count as errors.
Data settings: `default`; `hard` and `rotated` (simulator variants: larger session-to-session
change; the sensor turned by a random rotation per walk); `android` (phone walks without a
gyroscope: every method uses its accelerometer-only channels). Wall time covers
the whole command (image preparation from an existing cache, training, labelling), peak RSS is
that process's. Model size: float32 weights for the CNNs (the `.keras` file also holds the
optimizer state), the pickled transform and ridge classifier for MiniRocket. Times were measured
on a 2-core machine that other jobs shared; compare them only within this table.

{chr(10).join(lines)}
"""
    out = args.out
    write_text_atomic(out / "comparison.md", text)
    write_text_atomic(out / "comparison.csv", to_csv(rows))
    short = "SIMULATED data" if data.startswith("SIMULATED") else "real OU-ISIR data"
    plot(rows, out / "comparison.png", f"Labeling accuracy vs K ({short})")
    write_json_atomic(
        out / "config.json",
        {
            "data": data,
            "quick": args.quick,
            "size": size,
            "methods": args.methods,
            "settings": args.settings,
            "versions": versions(),
            "wall_time_s": time.perf_counter() - started,
        },
    )
    print(text)
    print(f"wrote {out}/comparison.md, comparison.csv and comparison.png")
    return out


if __name__ == "__main__":
    main()
