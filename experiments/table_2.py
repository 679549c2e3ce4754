"""Table 2 driver (gait labeling on OU-ISIR, K = 744): ``make reproduce-table2``.

Runs Method 1 (overlap windows), Method 2 (GDI), Method 3 (TCNN), the proposed method and the
Inception ablation through :func:`gaitcnn.labeling.run_labeling` and writes ``table2.md`` and
``table2.csv`` with our accuracies beside the paper's surviving margins. Labeling runs are kept
in a shared run store (``--runs-dir``) keyed by their settings, so Figures 7-9 reuse the runs
they share with Table 2 instead of training them again.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import time
from pathlib import Path

from experiments._report import versions, write_json_atomic, write_text_atomic
from experiments.configs import BUDGETS
from experiments.configs import table2 as presets
from gaitcnn.presets import FRAMEWORKS

#: ModelConfig fields added after runs were stored, with their default: left out of a run's key
#: at that value, so stored Keras runs stay reusable.
_LATER_MODEL_FIELDS = {"framework": "keras", "global_clipnorm": None}


def add_common_arguments(parser: argparse.ArgumentParser, default_out: str) -> None:
    """Options shared by the Table 2 and Figure 7-9 drivers."""
    parser.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="real OU-ISIR root; omitted: simulated OU-ISIR-like data (labelled so)",
    )
    parser.add_argument("--quick", action="store_true", help="tiny simulated run (tests, CI)")
    parser.add_argument(
        "--budget",
        choices=BUDGETS,
        default="paper",
        help="paper: the paper's protocol; hour: the documented cuts that fit Tables 1-2 and "
        "Figures 6-9 in an hour on 2 cores (bfloat16, fewer Figure 7 and 9 points)",
    )
    parser.add_argument("--out", type=Path, default=Path(default_out), help="output folder")
    parser.add_argument("--cache-dir", type=Path, default=None, help="data and image caches")
    parser.add_argument(
        "--runs-dir",
        type=Path,
        default=None,
        help="shared store of labeling runs (default results/labeling-runs; --quick: OUT/runs)",
    )
    parser.add_argument("--epochs", type=int, default=None, help="override the preset epochs")
    parser.add_argument("--seed", type=int, default=None, help="override the preset seed")
    parser.add_argument("--workers", type=int, default=2, help="image preparation processes")
    parser.add_argument(
        "--framework",
        choices=FRAMEWORKS,
        default="keras",
        help="training loop: keras, or tflearn (the paper's, in its own process; the paper CNN "
        "only, so rows with another network are left out)",
    )


def framework_methods(methods, framework: str) -> tuple[tuple, tuple]:
    """``methods`` split into those ``framework`` can train and those it cannot (left out).

    tflearn builds only the networks flagged in :data:`gaitcnn.registry.NETWORKS`; peers
    (MiniRocket) have no network and no framework, so a tflearn run leaves them out too.
    """
    from gaitcnn.registry import METHODS, NETWORKS

    if framework == "keras":
        return tuple(methods), ()
    kept = tuple(m for m in methods if m in METHODS and NETWORKS[METHODS[m].network].tflearn)
    return kept, tuple(m for m in methods if m not in kept)


def resolve_size(args) -> dict:
    """The preset (FULL or QUICK) with the command-line overrides applied."""
    size = dict(presets.QUICK if args.quick else presets.FULL)
    if args.budget == "hour" and not args.quick:
        size.update(presets.HOUR)
    size.setdefault("precision", "float32")
    if args.epochs is not None:
        size["epochs"] = args.epochs
    if args.seed is not None:
        size["seed"] = args.seed
    size["framework"] = args.framework
    for key in ("figure7_methods", "figure8_methods"):
        size[key], left_out = framework_methods(size[key], args.framework)
        if left_out:
            size.setdefault("left_out", {})[key] = list(left_out)
    return size


def runs_dir(args) -> Path:
    """Where labeling runs are stored."""
    if args.runs_dir is not None:
        return args.runs_dir
    return args.out / "runs" if args.quick else Path("results/labeling-runs")


def model_hparams(size: dict, method: str, extra: dict | None = None) -> dict:
    """Builder hyper-parameters of ``method`` under ``size`` (tiny in --quick), plus ``extra``."""
    base = {}
    from gaitcnn.registry import METHODS

    if size["tiny_models"] and method in METHODS:  # peers have no network
        from gaitcnn.models import TEST_HPARAMS

        # The builders' own tiny test configurations, minus what the run decides itself.
        tiny = TEST_HPARAMS[METHODS[method].network]
        base = {k: v for k, v in tiny.items() if k not in ("input_shape", "n_classes", "seed")}
    base.update(extra or {})
    return base


def labeling_run(
    method: str,
    n_subjects: int,
    size: dict,
    args,
    *,
    extra_hparams: dict | None = None,
) -> dict:
    """Run one labeling experiment, or reuse a finished run with identical settings.

    Returns the run's ``results.json`` content plus ``run_dir``.
    """
    from gaitcnn import __version__
    from gaitcnn.labeling import LabelingParams, run_labeling

    params = LabelingParams.from_preset(
        n_subjects=n_subjects,
        method=method,
        epochs=size["epochs"],
        seed=size["seed"],
        hparams=model_hparams(size, method, extra_hparams) or None,
        framework=size.get("framework", "keras"),
        precision=size["precision"],
    )
    run_params = params.to_dict()
    for name, default in _LATER_MODEL_FIELDS.items():
        if run_params["model"][name] == default:
            del run_params["model"][name]
    data = str(args.data_root.resolve()) if args.data_root else f"sim{size['n_simulated']}"
    # The key holds the resolved image parameters (cycle detection included) and the package
    # version, so a run made with another detector or release is never reused.
    key = json.dumps(
        {
            "params": run_params,
            "prepare": params.prepare_params().to_dict(),
            "gaitcnn": __version__,
            "data": data,
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    framework = "" if params.model.framework == "keras" else f"-{params.model.framework}"
    name = f"{method}-K{n_subjects}-e{size['epochs']}-s{size['seed']}{framework}-{digest}"
    run_dir = runs_dir(args) / name
    results_path = run_dir / "results.json"
    if results_path.exists() and (run_dir / "run_key.json").exists():
        if json.loads((run_dir / "run_key.json").read_text()) == json.loads(key):
            print(f"reusing {run_dir}")
            return {**json.loads(results_path.read_text()), "run_dir": str(run_dir)}
    print(f"running {method} K={n_subjects} epochs={size['epochs']} -> {run_dir}", flush=True)
    results = run_labeling(
        params,
        out_dir=run_dir,
        data_root=args.data_root,
        cache_dir=args.cache_dir,
        n_simulated=size["n_simulated"],
        workers=args.workers,
    )
    write_json_atomic(run_dir / "run_key.json", json.loads(key))
    return {**results, "run_dir": str(run_dir)}


def write_config(out: Path, args, size: dict, started: float, **extra) -> Path:
    """Write the driver's resolved ``config.json`` (data, size, versions, wall time, extras)."""
    return write_json_atomic(
        out / "config.json",
        {
            "data": data_label(args),
            "framework": args.framework,
            "size": size,
            "quick": args.quick,
            "budget": args.budget,
            **extra,
            "versions": versions(),
            "wall_time_s": time.perf_counter() - started,
        },
    )


def data_label(args) -> str:
    """What the run used, for every table and figure title."""
    trained = "" if args.framework == "keras" else f"; networks trained with {args.framework}"
    if args.data_root is None:
        return f"SIMULATED OU-ISIR-like data (not the real data set){trained}"
    return f"real OU-ISIR data at {args.data_root}{trained}"


def to_csv(rows: list[dict]) -> str:
    """Rows as CSV text."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def main(argv=None) -> Path:
    """Run the driver; returns the output folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, "results/table2")
    parser.add_argument(
        "--methods",
        nargs="+",
        default=None,
        choices=list(presets.TABLE2_METHODS),
        help="subset of the rows to run (default: every row the framework can train)",
    )
    args = parser.parse_args(argv)
    size = resolve_size(args)
    methods, left_out = framework_methods(args.methods or presets.TABLE2_METHODS, args.framework)
    if args.methods and left_out:
        parser.error(
            f"--framework {args.framework} cannot train {list(left_out)}: it builds only the "
            f"paper CNN (rows {list(framework_methods(presets.TABLE2_METHODS, 'tflearn')[0])})"
        )
    args.methods = list(methods)
    started = time.perf_counter()
    k = size["n_subjects"]

    runs = {m: labeling_run(m, k, size, args) for m in args.methods}
    proposed = runs.get("proposed")
    rows = []
    for method, res in runs.items():
        ours_margin = (
            100 * (proposed["accuracy"] - res["accuracy"])
            if proposed is not None and method != "proposed"
            else None
        )
        paper_margin = presets.PAPER_MARGINS_POINTS.get(method)
        rows.append(
            {
                "method": method,
                "label": res["method_label"],
                "K": res["n_subjects"],
                "accuracy": round(res["accuracy"], 6),
                "top5": round(res["top5"], 6),
                "proposed_minus_this_points": (
                    round(ours_margin, 1) if ours_margin is not None else ""
                ),
                "paper_proposed_minus_this_points": paper_margin if paper_margin else "",
                "probe_sequences": res["n_probe_sequences"],
                "sequences_without_images": res["n_probe_sequences_without_images"],
                # MiniRocket has windows, not images, and no multiply-add count
                "gallery_images": res.get("n_gallery_images", res.get("n_gallery_windows")),
                "params": res["params"],
                "multiply_adds": res.get("multiply_adds", ""),
                "train_time_s": round(res["train_time_s"], 1),
                "wall_time_s": round(res["wall_time_s"], 1),
                "epochs": res.get("epochs", ""),
                "framework": res.get("framework", "keras"),
                "run_dir": res["run_dir"],
            }
        )

    def fmt(value, pct=False):
        if value == "" or value is None:
            return "-"
        return f"{100 * value:.1f}" if pct else f"{value}"

    lines = [
        "| method | accuracy % | top-5 % | proposed minus this (ours) | proposed minus this "
        "(paper) | probe seq. (no image) | params | multiply-adds | train s | wall s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        macs = f"{r['multiply_adds']:,}" if r["multiply_adds"] != "" else "-"
        lines.append(
            f"| {r['label']} | {fmt(r['accuracy'], True)} | {fmt(r['top5'], True)} | "
            f"{fmt(r['proposed_minus_this_points'])} | "
            f"{fmt(r['paper_proposed_minus_this_points'])} | "
            f"{r['probe_sequences']} ({r['sequences_without_images']}) | {r['params']:,} | "
            f"{macs} | {r['train_time_s']} | {r['wall_time_s']} |"
        )
    quick_note = "\n**--quick run: tiny models, 2 epochs; numbers mean nothing.**\n"
    framework_note = f"Networks trained with **{args.framework}**" + (
        f" (the paper's framework, in its own process); rows it cannot train (no tflearn "
        f"builder) are left out: {', '.join(left_out)}."
        if left_out
        else "."
    )
    text = f"""# Table 2: gait labeling on OU-ISIR, K = {k}

Data: **{data_label(args)}**. Results on simulated data show the pipeline works; they do not
reproduce the paper.
{quick_note if args.quick else ""}
{framework_note}

Protocol (RECONSTRUCTION 2.2): one {k}-class network per method trained on the gallery walks
(seq0) for {size["epochs"]} epochs, final model kept (see `gaitcnn/labeling.py`,
Reconstruction); each probe walk (seq1) labelled by the mean softmax over its images; probe walks
that give no image count as errors. Paper margins: the proposed method's lead over each baseline
in accuracy points, the only Table 2 figures that survive (+56.4 / +18.5 / +8.7 over
Methods 1 / 2 / 3). Multiply-adds per image (conv and dense layers). MiniRocket (beyond the
paper, `--method minirocket`) runs on the same draw and walks: MiniRocket features of 1.28 s
windows of the raw signal, a ridge classifier, summed window scores per probe walk; its
"params" are the ridge coefficients. Times were measured on a shared 2-core machine (other jobs
running), so compare them only within this table.

{chr(10).join(lines)}
"""
    out = args.out
    write_text_atomic(out / "table2.md", text)
    write_text_atomic(out / "table2.csv", to_csv(rows))
    write_config(
        out,
        args,
        size,
        started,
        methods=args.methods,
        left_out=list(left_out),
        runs={m: r["run_dir"] for m, r in runs.items()},
    )
    print(text)
    print(f"wrote {out}/table2.md and {out}/table2.csv")
    return out


if __name__ == "__main__":
    main()
