"""Figure 9 driver: the proposed method's accuracy vs N_conv and vs the fl1 width.

``make reproduce-figure9``: N_conv = 1..4 convolution layers up to mp2 (fl1 = 512), and fl1
widths 128..2048 (N_conv = 3), at K = 744. The N_conv = 3 / fl1 = 512 point is the proposed
method of Table 2 (shared run).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from experiments._report import write_text_atomic
from experiments.table_2 import (
    add_common_arguments,
    data_label,
    labeling_run,
    resolve_size,
    to_csv,
    write_config,
)


def _plot(rows: list[dict], title: str, out_png: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # files only
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
    for ax, sweep, x_label in (
        (axes[0], "n_conv", "N_conv (convolution layers)"),
        (axes[1], "fl1_units", "fl1 width (units)"),
    ):
        pts = [r for r in rows if r["sweep"] == sweep]
        ax.plot(
            [r["value"] for r in pts], [100 * r["accuracy"] for r in pts], marker="o", color="C1"
        )
        if sweep == "fl1_units":
            ax.set_xscale("log", base=2)
        ax.set_xlabel(x_label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("labeling accuracy (%)")
    axes[0].set_ylim(0, 100)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=120)
    plt.close(fig)
    return out_png


def main(argv=None) -> Path:
    """Run the driver; returns the output folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, "results/figure9")
    args = parser.parse_args(argv)
    size = resolve_size(args)
    started = time.perf_counter()
    k = size["figure9_k"]

    sweeps = [("n_conv", v) for v in size["figure9_n_conv"]]
    sweeps += [("fl1_units", v) for v in size["figure9_fl1_units"]]
    rows = []
    for sweep, value in sweeps:
        # An empty override is the Table 2 configuration, so that run is shared.
        default = {"n_conv": 3, "fl1_units": 512}
        extra = {} if value == default[sweep] else {sweep: value}
        res = labeling_run("proposed", k, size, args, extra_hparams=extra)
        rows.append(
            {
                "sweep": sweep,
                "value": value,
                "K": res["n_subjects"],
                "accuracy": round(res["accuracy"], 6),
                "top5": round(res["top5"], 6),
                "params": res["params"],
                "multiply_adds": res["multiply_adds"],
                "train_time_s": round(res["train_time_s"], 1),
                "run_dir": res["run_dir"],
            }
        )
    out = args.out
    write_text_atomic(out / "figure9.csv", to_csv(rows))
    _plot(rows, f"Figure 9: N_conv and fl1 sweeps, K={k} - {data_label(args)}", out / "figure9.png")
    write_config(out, args, size, started)
    print(to_csv(rows))
    print(f"wrote {out}/figure9.csv and {out}/figure9.png")
    return out


if __name__ == "__main__":
    main()
