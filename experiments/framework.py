"""Keras vs tflearn on the paper's experiments: Table 2's proposed method and Table 1.

``python -m experiments.framework`` runs each arm as the public command a user would type, in
its own process, on the same data, subject draw, splits and seeds:

- Table 2, proposed method at each K (``--table2 744:0,1``: K = 744, seeds 0 and 1):
  ``python -m gaitcnn.labeling --subjects K --seed S --framework F`` for every framework and
  seed, plus (``--clip-arm``, first seed) Keras with tflearn's gradient clipping
  (``--global-clipnorm 5``), which isolates that one difference of the two loops
  (docs/RECONSTRUCTION.md 5.3);
- Table 1: ``python -m experiments.table_1 --framework F`` with ``--quick`` or a reduced size
  (``--table1-subjects``, ``--table1-repetitions``: the paper's 50 epochs and network).

Writes ``framework.md`` and ``framework.json`` (accuracies, wall times, the load average around
each run, the exact commands). Finished runs are reused when their command is unchanged.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from experiments._report import versions, write_json_atomic, write_text_atomic

FRAMEWORKS = ("keras", "tflearn")


def _run(cmd: list[str], out: Path, done: Path, force: bool) -> dict:
    """Run ``cmd`` (unless ``done`` exists from the same command); its timing and load."""
    key_path = out / "run_key.json"
    key = {"command": cmd}
    if not force and done.exists() and key_path.exists():
        if json.loads(key_path.read_text()) == key:
            print(f"reusing {out}", flush=True)
            return json.loads((out / "process.json").read_text())
    print("running: " + " ".join(cmd), flush=True)
    load_before = os.getloadavg()
    started = time.perf_counter()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    if subprocess.run([sys.executable, *cmd], env=env, check=False).returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed")
    process = {
        "process_wall_time_s": time.perf_counter() - started,
        "load_before": [round(v, 2) for v in load_before],
        "load_after": [round(v, 2) for v in os.getloadavg()],
    }
    write_json_atomic(out / "process.json", process)
    write_json_atomic(key_path, key)
    return process


def _table2_plan(args) -> list[tuple]:
    """(K, seed, framework, clip) of every Table 2 arm: ``--table2 K:SEED,SEED ...``."""
    arms = []
    for spec in args.table2:
        k, _, seeds = spec.partition(":")
        seeds = [int(s) for s in seeds.split(",")] if seeds else [0]
        arms += [(int(k), seed, fw, None) for seed in seeds for fw in FRAMEWORKS]
        if args.clip_arm:
            arms.append((int(k), seeds[0], "keras", 5.0))
    return arms


def table2_arms(args) -> list[dict]:
    """The proposed method at each K for every framework and seed (and the clipping arms)."""
    rows = []
    for k, seed, framework, clip in _table2_plan(args):
        name = f"K{k}-s{seed}-{framework}" + ("-clip5" if clip else "")
        out = args.out / "runs" / name
        cmd = ["-m", "gaitcnn.labeling", "--subjects", str(k), "--seed", str(seed),
               "--framework", framework, "--verbose", "0", "--out", str(out)]  # fmt: skip
        cmd += ["--global-clipnorm", str(clip)] if clip else []
        cmd += ["--epochs", str(args.epochs)] if args.epochs else []
        cmd += ["--cache-dir", str(args.cache_dir)] if args.cache_dir else []
        cmd += ["--data-root", str(args.data_root)] if args.data_root else []
        process = _run(cmd, out, out / "results.json", args.force)
        res = json.loads((out / "results.json").read_text())
        rows.append(
            {"framework": framework, "global_clipnorm": clip if clip else
             (5.0 if framework == "tflearn" else None), "seed": seed, "K": res["n_subjects"],
             "accuracy": res["accuracy"], "top5": res["top5"],
             "n_probe_sequences": res["n_probe_sequences"], "train_time_s": res["train_time_s"],
             "wall_time_s": res["wall_time_s"], "peak_rss_mb": res["peak_memory"]["self_mb"],
             "peak_rss_children_mb": res["peak_memory"]["children_mb"],
             **process, "command": "python " + " ".join(cmd)}
        )  # fmt: skip
    return rows


def table1_arms(args) -> list[dict]:
    """Table 1 (reduced) once per framework; one row per (framework, method, probe, N)."""
    rows = []
    for framework in FRAMEWORKS:
        out = args.out / "runs" / f"table1-{framework}"
        cmd = ["-m", "experiments.table_1", "--framework", framework, "--out", str(out)]
        if args.quick or args.table1_quick:
            cmd.append("--quick")
        else:
            cmd += ["--n-subjects", str(args.table1_subjects),
                    "--set", f"n_repetitions={args.table1_repetitions}"]  # fmt: skip
        cmd += ["--cache-dir", str(args.cache_dir)] if args.cache_dir else []
        process = _run(cmd, out, out / "table1.csv", args.force)
        config = json.loads((out / "config.json").read_text())
        with open(out / "table1.csv", newline="") as handle:
            for row in csv.DictReader(handle):
                rows.append(
                    {"framework": framework, "method": row["method"], "probe": row["probe"],
                     "N": int(row["N"]), "accuracy_mean": float(row["accuracy_mean"]),
                     "accuracy_sd": float(row["accuracy_sd"]), "eer_mean": float(row["eer_mean"]),
                     "n_decisions": int(row["n_decisions"]), "n_classifiers":
                     int(row["n_classifiers"]), "wall_time_s": config["wall_time_s"],
                     "classifier_wall_time_s": config["classifier_wall_time_s"],
                     "epochs": config["auth_config"]["train"].get("epochs"), **process,
                     "command": "python " + " ".join(cmd)}
                )  # fmt: skip
    return rows


def _gallery(args, k: int):
    """Gallery rows and labels of the labeling split at K (seed 0) from the image cache."""
    from gaitcnn.cache import CacheRows, read_image_set
    from gaitcnn.labeling import LabelingParams
    from gaitcnn.labeling._protocol import make_split
    from gaitcnn.labeling._run import resolve_data
    from gaitcnn.prepare import default_cache_dir, prepare_dataset

    cache_dir = args.cache_dir or default_cache_dir()
    params = LabelingParams.from_preset(n_subjects=k, seed=0)
    root, _, source = resolve_data(args.data_root, cache_dir, 744)
    prep = params.prepare_params()
    cache = prepare_dataset(prep, root, cache_dir=cache_dir, source=source)
    meta = read_image_set(cache, expected_params=prep.to_dict(), load_images=False)
    split = make_split(meta, k, 0)
    return CacheRows(cache, split.gallery_rows), split.gallery_labels, split.chosen.size


def same_arithmetic(args) -> list[dict]:
    """Both loops from the same initial weights, batch order and no dropout (clip 5 in both).

    With the random draws (initial weights, dropout masks, batch order) made equal, the two
    frameworks should end at the same weights up to float round-off; the distance says how
    much of a Table 2 difference the loops themselves can explain.
    """
    import tempfile

    import numpy as np

    from gaitcnn.models import build_paper_cnn
    from gaitcnn.models._tflearn_process import fit_tflearn, shutdown
    from gaitcnn.models.tflearn_cnn import keras_weights_for_tflearn, tflearn_to_keras
    from gaitcnn.train import TrainConfig, train

    k = int(args.table2[0].partition(":")[0])
    images, labels, n_classes = _gallery(args, k)
    shape = tuple(images.shape[1:])
    probe = images.read(np.arange(min(len(images), 500)))
    rows = []
    for epochs in args.equivalence_epochs:
        model = build_paper_cnn(shape, n_classes, seed=0, dropout_rate=0.0)
        start = keras_weights_for_tflearn(model)
        config = TrainConfig.paper().replace(epochs=epochs, keep_best=False, shuffle=False,
                                             global_clipnorm=5.0, verbose=0)  # fmt: skip
        keras_model = train(model, (images, labels), None, config).model
        loop = {"epochs": epochs, "batch_size": 100, "seed": 0, "shuffle": False,
                "clip_gradients": 5.0, "deterministic": True}  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp:
            fit = fit_tflearn((images, labels), None, n_classes=n_classes,
                              hparams={"dropout_rate": 0.0}, loop=loop, out_dir=tmp,
                              initial_weights=start)  # fmt: skip
            tfl_model = tflearn_to_keras(fit.checkpoint, build_paper_cnn(
                shape, n_classes, dropout_rate=0.0))  # fmt: skip
        a, b = keras_weights_for_tflearn(keras_model), keras_weights_for_tflearn(tfl_model)
        moved = max(float(np.max(np.abs(a[n] - start[n]))) for n in a)
        p_k = np.asarray(keras_model(probe, training=False))
        p_t = np.asarray(tfl_model(probe, training=False))
        rows.append({"K": n_classes, "epochs": epochs, "n_images": len(images),
                     "max_weight_change": moved,
                     "max_weight_difference": max(float(np.max(np.abs(a[n] - b[n]))) for n in a),
                     "mean_weight_difference": float(np.mean(np.concatenate(
                         [np.abs(a[n] - b[n]).ravel() for n in a]))),
                     "max_probability_difference": float(np.max(np.abs(p_k - p_t))),
                     "top1_agreement": float(np.mean(p_k.argmax(1) == p_t.argmax(1)))})  # fmt: skip
    shutdown()
    return rows


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def render(t2: list[dict], t1: list[dict], same: list[dict], args) -> str:
    """framework.md: both tables, the differences, the commands."""
    lines = [
        "# Keras vs tflearn on the paper's experiments (SIMULATED data)",
        "",
        "Same data, subject draw, splits and seeds; only the training loop differs "
        "(docs/RECONSTRUCTION.md 5.3). Simulated results compare the frameworks; they do not "
        "reproduce the paper. Times measured on a shared 2-core machine (load average "
        "before/after each run given).",
        "",
        "## Table 2, proposed method",
        "",
        "| K | framework | clip | seed | accuracy % | top-5 % | train s | wall s | process s "
        "| load before/after (1 min) |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in t2:
        lines.append(
            f"| {r['K']} | {r['framework']} | {r['global_clipnorm'] or 'none'} | {r['seed']} | "
            f"{_pct(r['accuracy'])} | {_pct(r['top5'])} | {r['train_time_s']:.0f} | "
            f"{r['wall_time_s']:.0f} | {r['process_wall_time_s']:.0f} | "
            f"{r['load_before'][0]} / {r['load_after'][0]} |"
        )
    lines += ["", "## Table 1 (AE-GDI + CNN rows)", ""]
    lines += ["| probe | N | keras accuracy % | tflearn accuracy % | tflearn - keras |",
              "|---|---:|---:|---:|---:|"]  # fmt: skip
    cnn = {(r["framework"], r["probe"], r["N"]): r for r in t1 if r["method"] == "ae_gdi_cnn"}
    for (framework, probe, n), k in cnn.items():
        if framework != "keras" or ("tflearn", probe, n) not in cnn:
            continue
        t = cnn[("tflearn", probe, n)]
        lines.append(
            f"| {probe} | {n} | {_pct(k['accuracy_mean'])} ± {_pct(k['accuracy_sd'])} | "
            f"{_pct(t['accuracy_mean'])} ± {_pct(t['accuracy_sd'])} | "
            f"{100 * (t['accuracy_mean'] - k['accuracy_mean']):+.1f} |"
        )
    walls = {r["framework"]: r for r in t1}
    for framework, r in walls.items():
        lines.append(
            f"\n{framework}: {r['n_classifiers']} classifiers, {r['epochs']} epochs, wall "
            f"{r['wall_time_s']:.0f} s (classifiers {r['classifier_wall_time_s']:.0f} s), load "
            f"{r['load_before'][0]} / {r['load_after'][0]}."
        )
    if same:
        lines += ["", "## Same arithmetic check", "",
                  f"Gallery of the K = {same[0]['K']} split ({same[0]['n_images']} images), the "
                  "same initial weights, batches in file order, no dropout, clipping at 5 in both "
                  "(`same_arithmetic` in experiments/framework.py).", "",
                  "| epochs | max weight change | weight difference keras-tflearn, max / mean "
                  "| max probability difference (first 500 images) | top-1 agreement |",
                  "|---:|---:|---:|---:|---:|"]  # fmt: skip
        lines += [f"| {r['epochs']} | {r['max_weight_change']:.3g} | "
                  f"{r['max_weight_difference']:.3g} / {r['mean_weight_difference']:.2g} | "
                  f"{r['max_probability_difference']:.3g} | "
                  f"{100 * r['top1_agreement']:.1f} % |" for r in same]  # fmt: skip
    lines += ["", "## Commands", ""]
    lines += [f"- `{c}`" for c in dict.fromkeys(r["command"] for r in (*t2, *t1))]
    return "\n".join(lines) + "\n"


def main(argv=None) -> Path:
    """Run the driver; returns the output folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/framework"), help="output")
    parser.add_argument("--cache-dir", type=Path, default=None, help="data and image caches")
    parser.add_argument("--data-root", type=Path, default=None, help="real OU-ISIR root")
    parser.add_argument(
        "--table2", nargs="+", default=["744:0"], metavar="K:SEEDS",
        help="Table 2 arms: K and its seeds, e.g. 744:0,1 100:0,1,2",
    )  # fmt: skip
    parser.add_argument("--epochs", type=int, default=None, help="Table 2 epochs (default 50)")
    parser.add_argument(
        "--clip-arm", action="store_true", help="add Keras with clipnorm 5 (first seed of each K)"
    )
    parser.add_argument("--table1-quick", action="store_true", help="Table 1 with --quick")
    parser.add_argument("--table1-subjects", type=int, default=6, help="simulated subjects")
    parser.add_argument("--table1-repetitions", type=int, default=2, help="repetitions")
    parser.add_argument("--skip-table1", action="store_true", help="Table 2 arms only")
    parser.add_argument(
        "--equivalence-epochs", nargs="*", type=int, default=[1, 5],
        help="epochs of the same-arithmetic check (none: skip it)",
    )  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="tiny run for tests")
    parser.add_argument("--force", action="store_true", help="re-run finished runs")
    args = parser.parse_args(argv)
    if args.quick:
        from gaitcnn.prepare import ensure_simulated

        args.table2, args.epochs = ["4:0"], 1
        if args.data_root is None:
            args.data_root = ensure_simulated("ouisir", cache_dir=args.cache_dir, n_subjects=6)
    started = time.perf_counter()
    t2 = table2_arms(args)
    t1 = [] if args.skip_table1 else table1_arms(args)
    same = same_arithmetic(args) if args.equivalence_epochs else []
    text = render(t2, t1, same, args)
    write_text_atomic(args.out / "framework.md", text)
    write_json_atomic(
        args.out / "framework.json",
        {"table2": t2, "table1": t1, "same_arithmetic": same,
         "arguments": {k: str(v) for k, v in vars(args).items()},
         "wall_time_s": time.perf_counter() - started, "versions": versions()},
    )  # fmt: skip
    print(text)
    return args.out


if __name__ == "__main__":
    main()
