"""Figure 6 driver: different-day accuracy vs training share mu (``make reproduce-figure6``).

Wires the preset ``FIGURE6`` (or ``FIGURE6_QUICK`` with ``--quick``) of
``experiments/configs/table1.py`` into :mod:`gaitcnn.authentication`: for every mu the AE-GDI
CNNs are trained on mu of day 1 and probed with day 2, fused over N = 1, 2, 3, 5 cycles. Writes
``figure6.csv``, ``figure6.png`` and ``config.json`` to ``--out``; each mu keeps its finished
classifiers in ``--out/mu<percent>/runs`` (resumable).
"""

from __future__ import annotations

import time
from pathlib import Path

from experiments._report import versions, write_json_atomic, write_text_atomic
from experiments.configs import table1 as presets
from experiments.table_1 import load_inputs, parse_args, preset_for, resolve, rows_to_csv


def plot(rows, out_png, title) -> Path:
    """Accuracy (mean +- sd over repetitions) against mu, one line per N."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for n in sorted({r["N"] for r in rows}):
        pts = sorted(
            (r["mu_percent"], r["accuracy_mean"], r["accuracy_sd"]) for r in rows if r["N"] == n
        )
        mu, acc, sd = (list(v) for v in zip(*pts, strict=True))
        ax.errorbar(
            mu,
            [100 * a for a in acc],
            yerr=[100 * s for s in sd],
            marker="o",
            capsize=3,
            label=f"N = {n}",
        )
    ax.set_xlabel("training share mu of day 1 (%)")
    ax.set_ylabel("different-day accuracy (%)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=120)
    plt.close(fig)
    return out_png


def main(argv=None) -> Path:
    """Run the driver; returns the output folder."""
    from gaitcnn.authentication import AuthConfig, aggregate, eligible_subjects, run_authentication

    args = parse_args(argv, __doc__.splitlines()[0])
    preset = preset_for(args, presets.FIGURE6, presets.FIGURE6_QUICK, presets.HOUR_FIGURE6)
    resolved = resolve(args, preset)
    out = args.out or Path("results/figure6")
    started = time.perf_counter()
    base = AuthConfig.from_dict(resolved["auth"])
    image_set, _, data_label, params, cache = load_inputs(
        args.data_root, args.cache_dir, args.seed, resolved["data"], base
    )
    if preset.get("n_target_subjects") and base.subjects is None:
        targets = eligible_subjects(image_set, base)[: preset["n_target_subjects"]]
        resolved["auth"]["subjects"] = targets
    rows = []
    for mu in preset["mu"]:
        auth = AuthConfig.from_dict({**resolved["auth"], "train_share": float(mu)})
        percent = round(100 * mu)
        print(f"--- mu = {percent} %", flush=True)
        records = run_authentication(
            image_set,
            auth,
            out / f"mu{percent:03d}",
            progress=lambda s: print(s, flush=True),
            workers=resolved["workers"],
            threads_per_worker=args.threads,
        )
        for row in aggregate(records, auth):
            if row["probe"] == "different_day":
                rows.append({"mu_percent": percent, **row})
    wall = time.perf_counter() - started
    write_text_atomic(out / "figure6.csv", rows_to_csv(rows))
    label = "SIMULATED" if args.data_root is None else "real data"
    title = f"Figure 6 ({label}; {data_label}) - AE-GDI CNN ({base.framework}), day 2 probe"
    plot(rows, out / "figure6.png", title)
    write_json_atomic(
        out / "config.json",
        {
            "data": data_label,
            "simulated": args.data_root is None,
            "quick": args.quick,
            "budget": args.budget,
            "seed": args.seed,
            "framework": base.framework,
            "resolved": resolved,
            "prepare_params": params.to_dict(),
            "cache": str(cache),
            "wall_time_s": wall,
            "versions": versions(),
        },
    )
    print(f"wrote {out}/figure6.csv, figure6.png and config.json ({wall:.0f} s)")
    return out


if __name__ == "__main__":
    main()
