"""Figure 7 driver: labeling accuracy vs the number of subjects K (``make reproduce-figure7``).

Method 3 (TCNN) and the proposed method at K = 100, 200, ..., 600, 744 randomly drawn subjects
(nested draws: for one seed, the subjects of a smaller K are among those of a larger K).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from experiments._report import write_text_atomic
from experiments.configs import table2 as presets
from experiments.table_2 import (
    add_common_arguments,
    data_label,
    framework_methods,
    labeling_run,
    resolve_size,
    to_csv,
    write_config,
)


def plot_lines(series: dict, x_label: str, title: str, out_png: Path, *, log_x=False) -> Path:
    """One line per method: ``series[label] = (xs, accuracies in [0, 1])``."""
    import matplotlib

    matplotlib.use("Agg")  # files only
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, (xs, ys) in series.items():
        ax.plot(xs, [100 * y for y in ys], marker="o", label=label)
    if log_x:
        ax.set_xscale("log", base=2)
    ax.set_xlabel(x_label)
    ax.set_ylabel("labeling accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=120)
    plt.close(fig)
    return out_png


def main(argv=None) -> Path:
    """Run the driver; returns the output folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, "results/figure7")
    parser.add_argument("--methods", nargs="+", default=None, help="subset of the methods")
    parser.add_argument("--k", nargs="+", type=int, default=None, help="subset of the K values")
    args = parser.parse_args(argv)
    size = resolve_size(args)
    if args.methods:
        size["figure7_methods"], left_out = framework_methods(args.methods, args.framework)
        if left_out:
            parser.error(f"--framework {args.framework} cannot train {list(left_out)}")
    if args.k:
        size["figure7_k"] = tuple(args.k)
    started = time.perf_counter()

    rows, series = [], {}
    for method in size["figure7_methods"]:
        xs, ys = [], []
        for k in size["figure7_k"]:
            res = labeling_run(method, k, size, args)
            rows.append(
                {
                    "method": method,
                    "K_requested": k,
                    "K": res["n_subjects"],
                    "accuracy": round(res["accuracy"], 6),
                    "top5": round(res["top5"], 6),
                    "probe_sequences": res["n_probe_sequences"],
                    "train_time_s": round(res["train_time_s"], 1),
                    "run_dir": res["run_dir"],
                }
            )
            xs.append(res["n_subjects"])
            ys.append(res["accuracy"])
        series[method] = (xs, ys)
    out = args.out
    write_text_atomic(out / "figure7.csv", to_csv(rows))
    title = f"Figure 7: accuracy vs K - {data_label(args)}"
    plot_lines(series, "K (subjects)", title, out / "figure7.png")
    write_config(out, args, size, started, paper_best_accuracy_proposed=presets.PAPER_BEST_ACCURACY)
    print(to_csv(rows))
    print(f"wrote {out}/figure7.csv and {out}/figure7.png")
    return out


if __name__ == "__main__":
    main()
