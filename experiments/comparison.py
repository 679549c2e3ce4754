"""Beyond the paper: paper preset vs improved preset vs the peers on OU-ISIR labeling.

``make reproduce-comparison`` (or ``python -m experiments.comparison``). Each row is one run of the
public command a user would type - ``python -m gaitcnn.labeling --subjects K`` with ``--preset
paper``, ``--preset improved`` or ``--method minirocket|multirocket|rdst`` - in its own process, so
the peak memory of one method is not inflated by another. All see the same data, the same subject
draw (``--seed``) and the same gallery/probe walks. By default the five methods run on the
simulator's ``default``, ``hard`` and ``rotated`` variants (the sensor turns between gallery and
probe walks in ``rotated``); with ``--data-root`` on the real data only. ``--methods`` also offers
MiniRocket on orientation-free channels - gravity-aligned (``minirocket-gravity``) and
gravity-aligned plus the horizontal relations (``minirocket-invariant``) - and the improved preset
held to the latter whatever the data (``improved-invariant``; the preset itself picks them only
for a sensor that turns). ``--settings`` also offers ``untilted`` (a diagnostic variant: every
walker wears the sensor at the same tilt) and ``android`` (the accelerometer-only phone walks,
``--sensor android``). K = 100 runs with seeds 0-2 and K = 744 with seed 0 (``--seeds`` for
others); the full grid takes about six hours on 2 cores, and finished runs are reused, so an
interrupted grid resumes. ``--finished-only`` tabulates the finished runs of a partial grid
without training. Writes ``comparison.md`` (the seeds summarised, wall time also as a multiple of
MiniRocket's), ``comparison.csv`` (one row per run), ``comparison.png`` and ``config.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from experiments._report import same_record, versions, write_json_atomic, write_text_atomic
from experiments.table_2 import to_csv

#: The compared rows: (key, label, extra command-line arguments of gaitcnn.labeling).
ROWS = (
    ("paper", "Paper preset (GGGD + AE-GDI + CNN)", ("--preset", "paper")),
    ("improved", "Improved preset (gaitcnn)", ("--preset", "improved")),
    ("minirocket", "MiniRocket peer (aeon) + ridge", ("--method", "minirocket")),
    ("multirocket", "MultiRocket peer (aeon) + ridge", ("--method", "multirocket")),
    ("rdst", "RDST peer (aeon) + ridge", ("--method", "rdst")),
    # orientation-free inputs (gravity-aligned channels and horizontal relations,
    # gaitcnn.rawwindows.CHANNEL_SETS)
    (
        "minirocket-gravity",
        "MiniRocket peer, gravity-aligned channels",
        ("--method", "minirocket", "--channels", "gravity"),
    ),
    (
        "improved-invariant",
        "Improved preset, always the orientation-free channels",
        ("--preset", "improved", "--channels", "invariant"),
    ),
    (
        "minirocket-invariant",
        "MiniRocket peer, gravity-aligned channels + horizontal relations",
        ("--method", "minirocket", "--channels", "invariant"),
    ),
)

#: Rows and simulator settings of the full grid: every method on the belt variants and on the
#: rotated one. It takes about six hours on 2 cores (RDST at K = 744: an hour a cell); finished
#: runs are reused, so an interrupted grid resumes.
DEFAULT_METHODS = ("paper", "improved", "minirocket", "multirocket", "rdst")
DEFAULT_SETTINGS = ("default", "hard", "rotated")
#: Rows of --quick (tests): the paper preset, the improved preset and MiniRocket, default data.
QUICK_METHODS = ("paper", "improved", "minirocket")

#: Data settings: (simulator variant, extra arguments of gaitcnn.labeling).
SETTINGS = {
    "default": ("default", ()),
    "hard": ("hard", ()),
    "rotated": ("rotated", ()),
    "untilted": ("untilted", ()),
    "android": ("default", ("--subset", "manual", "--sensor", "android")),
}

#: Full size: a small gallery (K = 100) over three subject draws and the paper's K = 744 over
#: one (``seeds``: the seeds of each K; ``--seeds`` gives every K the same ones).
FULL = {"k": (100, 744), "seeds": {100: (0, 1, 2), 744: (0,)}, "n_simulated": None, "epochs": None}
#: --quick: a tiny simulated set and one epoch, for tests. Numbers mean nothing.
QUICK = {"k": (4,), "seeds": {4: (0,)}, "n_simulated": 8, "epochs": 1}


def _run_dir(runs: Path, key: str, k: int, seed: int, setting: str = "default") -> Path:
    suffix = "" if setting == "default" else f"-{setting}"
    return runs / f"{key}{suffix}-K{k}-s{seed}"


def _setting_args(setting: str, data_root) -> list[str]:
    """Arguments of gaitcnn.labeling for a data setting (a variant needs the simulator)."""
    variant, extra = SETTINGS[setting]
    if variant != "default" and data_root is None:
        extra = ("--variant", variant, *extra)
    return list(extra)


def _resolved_config(extra) -> dict:
    """The :class:`gaitcnn.presets.ModelConfig` fields a row's ``--preset``/``--method`` give."""
    from gaitcnn.presets import ModelConfig

    options = dict(zip(extra[::2], extra[1::2], strict=False))
    config = ModelConfig.from_preset(
        options.get("--preset", "paper"), method=options.get("--method", "proposed")
    )
    return config.to_dict()


def same_run_key(stored: dict, current: dict) -> bool:
    """True when a finished run's stored key describes the run ``current`` asks for: the same
    command and package version, and the same model (:func:`experiments._report.same_model`:
    a field added to ``ModelConfig`` after the run, at its default, changes nothing)."""
    return same_record(stored, current, "config")


def run_one(
    key: str, extra: tuple, k: int, seed: int, size: dict, args, setting: str = "default"
) -> dict:
    """Run (or reuse) one ``gaitcnn.labeling`` process; returns its results.json plus extras
    (None when ``args.finished_only`` and the run has not finished)."""
    from gaitcnn import __version__

    data_root = args.data_roots.get(setting, args.data_root)
    run_dir = _run_dir(args.out / "runs", key, k, seed, setting)
    cmd = [
        sys.executable,
        "-m",
        "gaitcnn.labeling",
        "--subjects",
        str(k),
        "--seed",
        str(seed),
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
    # The stored key: the command (minus the interpreter), the package version and the preset's
    # resolved settings, so a changed preset is rerun although its command is the same.
    run_key = {"command": cmd[1:], "gaitcnn": __version__, "config": _resolved_config(extra)}
    key_path = run_dir / "run_key.json"
    if (
        not args.force
        and (run_dir / "results.json").exists()
        and key_path.exists()
        and same_run_key(json.loads(key_path.read_text()), run_key)
    ):
        print(f"reusing {run_dir}", flush=True)
    elif args.finished_only:
        return None
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
    """Size of the trained model: the saved file when the run recorded it, else a CNN's
    float32 weights (``params`` x 4 bytes)."""
    if res.get("model_size_bytes") is not None:
        return res["model_size_bytes"] / 2**20
    if res.get("params") is not None:
        return 4 * res["params"] / 2**20
    return None


def plot(summary: list[dict], out_png: Path, title: str) -> Path:
    """Accuracy bars: one panel per data setting, a group per K, one bar per method."""
    import matplotlib

    matplotlib.use("Agg")  # files only
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    settings = list(dict.fromkeys(r["setting"] for r in summary))
    labels = list(dict.fromkeys(r["label"] for r in summary))
    ks = sorted({r["K"] for r in summary})
    by_cell = {(r["setting"], r["K"], r["label"]): r for r in summary}
    colours = [plt.cm.tab10.colors[j % 10] for j in range(len(labels))]
    width = 0.8 / len(labels)
    fig, axes = plt.subplots(
        1, len(settings), figsize=(3.2 * len(settings) + 3.8, 4), sharey=True, squeeze=False
    )
    for ax, setting in zip(axes[0], settings, strict=True):
        for j, label in enumerate(labels):
            cells = [(i, by_cell.get((setting, k, label))) for i, k in enumerate(ks)]
            xs = [i + (j - (len(labels) - 1) / 2) * width for i, r in cells if r]
            ax.bar(xs, [100 * r["accuracy"] for _, r in cells if r], width, color=colours[j])
        ax.set_xticks(range(len(ks)), [f"K = {k}" for k in ks])
        ax.set_title(setting, fontsize=9)
        ax.set_ylim(0, 100)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("labeling accuracy (%)")
    handles = [Patch(color=c, label=label) for c, label in zip(colours, labels, strict=True)]
    fig.legend(handles=handles, loc="center right", fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1 - 3.5 / fig.get_figwidth(), 1))
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=120)
    plt.close(fig)
    return out_png


def _channels_read(res: dict) -> str:
    """The channels the run's model read: with ``channels="auto"`` the set its training walks
    chose (``results.json`` ``model_channels``), marked ``(auto)``; else the front end's."""
    chosen = res.get("model_channels")
    if chosen is not None:
        return "+".join(chosen) + " (auto)"
    return "+".join(res.get("channels", []))


def _rows_of(setting: str, k: int, seed: int, size: dict, args) -> list[dict]:
    """One row per method for a data setting, K and seed (each a labeling process)."""
    rows = []
    for key, label, extra in ROWS:
        if key not in args.methods:
            continue
        res = run_one(key, extra, k, seed, size, args, setting)
        if res is None:
            args.missing.append(f"{label}, {setting}, K = {k}, seed {seed}")
            continue
        size_mb = model_size_mb(res)
        rows.append(
            {
                "method": key,
                "label": label,
                "setting": setting,
                "seed": seed,
                "channels": _channels_read(res),
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


def summarise(rows: list[dict]) -> list[dict]:
    """One row per (setting, K, method) over its seeds: mean accuracy with the per-seed values,
    mean top-5 and wall time, the wall time over MiniRocket's on the same setting and K (when
    MiniRocket ran), the largest peak RSS."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["setting"], r["K"], r["method"]), []).append(r)
    walls = {key: mean([r["wall_time_s"] for r in g]) for key, g in groups.items()}
    out = []
    for (setting, k, method), g in groups.items():
        base = walls.get((setting, k, "minirocket"))
        out.append(
            {
                "method": method,
                "label": g[0]["label"],
                "setting": setting,
                "channels": g[0]["channels"],
                "K": k,
                "seeds": [r["seed"] for r in g],
                "accuracy": mean([r["accuracy"] for r in g]),
                "accuracy_per_seed": [r["accuracy"] for r in g],
                "top5": mean([r["top5"] for r in g]),
                "wall_time_s": walls[(setting, k, method)],
                "wall_vs_minirocket": walls[(setting, k, method)] / base if base else None,
                "peak_rss_mb": max(r["peak_rss_mb"] for r in g),
                "params": g[0]["params"],
                "model_mb": g[0]["model_mb"],
            }
        )
    return out


def markdown_table(summary: list[dict]) -> str:
    """The comparison table: accuracy as ``mean [seed values]`` when several seeds ran."""
    lines = [
        "| method | data | channels | K | seeds | accuracy % | top-5 % | wall s "
        "| x MiniRocket | peak RSS MB | parameters | model MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in summary:
        acc = f"{100 * r['accuracy']:.1f}"
        if len(r["accuracy_per_seed"]) > 1:
            acc += " [" + "/".join(f"{100 * a:.0f}" for a in r["accuracy_per_seed"]) + "]"
        ratio = f"{r['wall_vs_minirocket']:.1f}" if r["wall_vs_minirocket"] else "-"
        params = f"{r['params']:,}" if isinstance(r["params"], int) else "-"
        lines.append(
            f"| {r['label']} | {r['setting']} | {r['channels']} | {r['K']} | "
            f"{len(r['seeds'])} | {acc} | {100 * r['top5']:.1f} | {r['wall_time_s']:.0f} | "
            f"{ratio} | {r['peak_rss_mb']} | {params} | {r['model_mb']} |"
        )
    return "\n".join(lines)


def _not_run(missing: list[str]) -> str:
    """The runs of the grid that --finished-only left out, as a markdown list."""
    if not missing:
        return ""
    return "\nNot run (left out of the table above):\n\n" + "".join(f"- {m}\n" for m in missing)


def mean(values: list[float]) -> float:
    """Arithmetic mean of a non-empty list."""
    return sum(values) / len(values)


def _parse(argv) -> tuple[argparse.Namespace, dict]:
    """Command-line arguments and the run size they select."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=None, help="real OU-ISIR root")
    parser.add_argument("--quick", action="store_true", help="tiny simulated run (tests)")
    parser.add_argument("--out", type=Path, default=Path("results/comparison"), help="output")
    parser.add_argument("--cache-dir", type=Path, default=None, help="data and image caches")
    parser.add_argument("--k", nargs="+", type=int, default=None, help="K values")
    parser.add_argument(
        "--methods",
        nargs="+",
        default=None,
        choices=[r[0] for r in ROWS],
        help=f"rows (default: {' '.join(DEFAULT_METHODS)}; --quick: {' '.join(QUICK_METHODS)})",
    )
    parser.add_argument(
        "--settings",
        nargs="+",
        default=None,
        choices=list(SETTINGS),
        help="data settings (hard, rotated, untilted: simulator variants; android: "
        f"accelerometer only; default: {' '.join(DEFAULT_SETTINGS)} on the simulator, default "
        "with --data-root or --quick)",
    )
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=None,
        help="subject draw and weights seeds of every K (default: 0-2 at K = 100, 0 at 744)",
    )
    parser.add_argument("--force", action="store_true", help="re-run finished runs")
    parser.add_argument(
        "--finished-only",
        action="store_true",
        help="tabulate the finished runs and list the others as not run (nothing is trained)",
    )
    args = parser.parse_args(argv)
    if args.methods is None:
        args.methods = list(QUICK_METHODS if args.quick else DEFAULT_METHODS)
    if args.settings is None:
        simulator_grid = not args.quick and args.data_root is None
        args.settings = list(DEFAULT_SETTINGS) if simulator_grid else ["default"]
    args.missing = []
    size = dict(QUICK if args.quick else FULL)
    if args.k:
        size["k"] = tuple(args.k)
    size["seeds"] = {
        k: tuple(args.seeds) if args.seeds else size["seeds"].get(k, (0,)) for k in size["k"]
    }
    variants = [s for s in args.settings if SETTINGS[s][0] != "default"]
    if args.data_root is not None and variants:
        parser.error(f"--settings {' '.join(variants)} are simulator variants: drop --data-root")
    return args, size


def _data(args, size: dict) -> str:
    """Set ``args.data_roots`` (simulated sets of --quick) and describe the data."""
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
        return f"SIMULATED OU-ISIR-like data, {size['n_simulated']} subjects (--quick)"
    if args.data_root is None:
        return "SIMULATED OU-ISIR-like data, 744 subjects (not the real data set)"
    return f"real OU-ISIR data at {args.data_root}"


def main(argv=None) -> Path:
    """Run the driver; returns the output folder."""
    args, size = _parse(argv)
    data = _data(args, size)
    started = time.perf_counter()
    rows = []
    for setting in args.settings:
        for k in size["k"]:
            for seed in size["seeds"][k]:
                rows += _rows_of(setting, k, seed, size, args)
    if not rows:
        raise SystemExit(f"no finished runs under {args.out / 'runs'} (--finished-only)")
    summary = summarise(rows)
    seeds = "; ".join(f"K = {k}: {', '.join(map(str, s))}" for k, s in size["seeds"].items())
    quick_note = "\n**--quick run: tiny data, 1 epoch; numbers mean nothing.**\n"
    text = f"""# Beyond the paper: paper preset, improved preset and the peers (OU-ISIR labeling)

Data: **{data}**. Results on simulated data show how the methods compare on the simulator;
they are not results on the real data set.
{quick_note if args.quick else ""}
Each run is one `python -m gaitcnn.labeling` process (`--preset paper`, `--preset improved`,
`--method minirocket|multirocket|rdst`); all methods of one seed see the same subject draw and
the same gallery (seq0) and probe (seq1) walks; probe walks without any image count as errors.
Seeds ({seeds}) draw the subjects and the weights; accuracy reads `mean [per seed]`, top-5 and
wall time are means, peak RSS the largest. Data settings: `default`; `hard` and `rotated`
(simulator variants: larger session-to-session change; the sensor turned by a random rotation
per walk); `untilted` (simulator variant: every walker wears the sensor at the same tilt, a
diagnostic of what a method reads from how each walker wears it); `android` (phone walks
without a gyroscope: every method uses its
accelerometer-only channels). Wall time covers the whole command (image preparation from an
existing cache, training, labelling); `x MiniRocket` divides it by MiniRocket's on the same
data and K. Model MB: the saved `model.gaitcnn` file (a CNN's holds its weights and the
optimizer's state, about 3x the float32 weights; a peer's its transform and ridge). Times were
measured on a 2-core machine that other jobs may have shared; compare them only within this
table.

{markdown_table(summary)}
{_not_run(args.missing)}"""
    out = args.out
    write_text_atomic(out / "comparison.md", text)
    write_text_atomic(out / "comparison.csv", to_csv(rows))
    short = "SIMULATED data" if data.startswith("SIMULATED") else "real OU-ISIR data"
    plot(summary, out / "comparison.png", f"Labeling accuracy vs K ({short})")
    config = {
        "data": data,
        "quick": args.quick,
        "size": {**size, "seeds": list(size["seeds"].items())},
    }
    write_json_atomic(
        out / "config.json",
        {
            **config,
            "methods": args.methods,
            "settings": args.settings,
            "summary": summary,
            "versions": versions(),
            "wall_time_s": time.perf_counter() - started,
        },
    )
    print(text)
    print(f"wrote {out}/comparison.md, comparison.csv and comparison.png")
    return out


if __name__ == "__main__":
    main()
