"""``python -m gaitcnn.verification`` / ``gaitcnn verification``: the open-set protocol."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gaitcnn._cliutil import (
    CHANNELS_HELP,
    cache_dir_option,
    parse_channels,
    parse_set,
    sensor_option,
    subset_option,
    workers_option,
)
from gaitcnn.verification._protocol import ROWS, VerificationParams

__all__ = ["verification_command"]

#: ``--method`` choices: a row, ``all`` rows, or ``minirocket`` (both MiniRocket rows).
METHOD_CHOICES = (*ROWS, "all")


def _rows(methods: tuple[str, ...]) -> tuple[str, ...]:
    """Rows asked for, in table order; ``minirocket`` brings its projected variant along."""
    asked = set(methods)
    if "all" in asked:
        return ROWS
    if "minirocket" in asked:
        asked.add("minirocket_lda")
    return tuple(row for row in ROWS if row in asked)


def _check_out(out: Path, overwrite: bool) -> bool:
    """Whether to replace an earlier run in ``out``: ask on a terminal, refuse otherwise."""
    if not (out / "results.json").exists() or overwrite:
        return overwrite
    if sys.stdin.isatty():
        if click.confirm(f"{out} holds an earlier run; replace its results?", default=False):
            return True
        raise click.Abort()
    raise click.UsageError(f"{out} holds an earlier run (results.json); pass --overwrite")


@click.command("verification")
@click.option(
    "--data-root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Real data root; omitted: a SIMULATED data set in the real file format "
    "(OU-ISIR-like: 744 subjects; McGill-like: 20).",
)
@click.option(
    "--dataset",
    type=click.Choice(["ouisir", "mcgill"]),
    default="ouisir",
    show_default=True,
    help="ouisir: enrol the gallery walk, probe the probe walk; mcgill: enrol the "
    "first day, probe ~6 s runs of every later day.",
)
@subset_option
@sensor_option
@click.option(
    "--filename-pattern",
    default=None,
    metavar="REGEX",
    help="McGill-format file names: a regular expression with named groups subject "
    "and day (default: subject07_day2.csv, S7_d2.txt, ...).",
)
@click.option(
    "--channels",
    default=None,
    metavar="NAMES",
    help=CHANNELS_HELP + " For a phone that turns in a pocket: norms, gravity or body.",
)
@click.option(
    "--subjects",
    "n_subjects",
    type=click.IntRange(min=4),
    default=744,
    show_default=True,
    help="Subjects drawn (training + test users).",
)
@click.option(
    "--train-share",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.7,
    show_default=True,
    help="Share of the subjects that are training "
    "users; 15 % of those are held out to calibrate the threshold.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Subject draw and split, weights, shuffling, random kernels.",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    help="Epochs of the network rows [default: the preset's; verification 20, paper 50].",
)
@click.option(
    "--method",
    "methods",
    type=click.Choice(METHOD_CHOICES),
    multiple=True,
    default=("embedding",),
    show_default=True,
    help="Rows (repeatable): embedding (AM-softmax embedding CNN), paper_cnn (the "
    "paper CNN's penultimate layer), minirocket (plain cosine and PCA+LDA), "
    "template_1nn (window statistics, 1-NN, no training), all.",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="ROW.FIELD=VALUE",
    help="Network hyper-parameter of a row, JSON value, e.g. --set embedding.embedding_dim=64.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default results/verification-<dataset>-<K>).",
)
@click.option("--overwrite", is_flag=True, help="Replace an earlier run in --out.")
@cache_dir_option
@workers_option
@click.option(
    "--verbose",
    type=click.IntRange(0, 2),
    default=0,
    show_default=True,
    help="Keras progress: 0 silent, 1 or 2 one line per epoch.",
)
def verification_command(
    data_root,
    dataset,
    subset,
    sensor,
    filename_pattern,
    channels,
    n_subjects,
    train_share,
    seed,
    epochs,
    methods,
    sets,
    out,
    overwrite,
    cache_dir,
    workers,
    verbose,
):
    """Open-set verification of users the model never saw: EER, FRR at FAR 1 % / 0.1 %."""
    from gaitcnn.verification._run import run_verification

    try:
        params = VerificationParams(
            n_subjects=n_subjects,
            dataset=dataset,
            subset=subset,
            sensor=sensor,
            filename_pattern=filename_pattern,
            train_share=train_share,
            seed=seed,
            epochs=epochs,
            rows=_rows(methods),
            channels=parse_channels(channels),
        )
        hparams = _row_hparams(parse_set(sets, dotted=True))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if data_root is None and (filename_pattern or sensor):
        raise click.UsageError("--filename-pattern and --sensor need --data-root")
    out = out or Path("results") / f"verification-{dataset}-{n_subjects}"
    overwrite = _check_out(out, overwrite)
    if data_root is None:
        click.echo(f"no --data-root: running on SIMULATED {dataset}-like data", err=True)
    res = run_verification(
        params,
        out_dir=out,
        data_root=data_root,
        cache_dir=cache_dir,
        hparams=hparams,
        overwrite=overwrite,
        workers=workers,
        verbose=verbose,
    )
    label = "SIMULATED " if res["simulated"] else ""
    for row, r in res["rows"].items():
        click.echo(
            f"{label}{row}: EER {r['eer']:.2%}, FRR@FAR1% {r['frr_at_far_1pct']:.2%}, "
            f"rank-1 {r['open_set_rank1']:.2%} ({r['n_genuine']} genuine / {r['n_impostor']} "
            f"impostor pairs); wall {r['wall_time_s']:.0f} s"
        )
    click.echo(f"wall {res['wall_time_s']:.0f} s; wrote {out}/results.json and {out}/det.png")


def _row_hparams(values: dict) -> dict[str, dict]:
    """Check that every ``--set`` names a network row: ``{"embedding": {"embedding_dim": 64}}``."""
    for row, fields in values.items():
        if row not in ("embedding", "paper_cnn") or not isinstance(fields, dict):
            raise ValueError(
                f"--set takes embedding.FIELD=VALUE or paper_cnn.FIELD=VALUE. Received: {row!r}"
            )
    return values
