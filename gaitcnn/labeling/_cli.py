"""``python -m gaitcnn.labeling`` / ``gaitcnn label``: the labeling protocol on the command line."""

from __future__ import annotations

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
from gaitcnn.constants import SIMULATION_VARIANTS
from gaitcnn.labeling._protocol import PAPER_N_SUBJECTS, LabelingParams
from gaitcnn.presets import FRAMEWORKS, PRECISIONS, PRESETS
from gaitcnn.rawwindows import AUGMENTS
from gaitcnn.registry import METHODS, PEERS, method_names

__all__ = ["labeling_command"]


def _method_help() -> str:
    rows = [f"{name}: {spec.label}" for name, spec in METHODS.items()]
    rows += [f"{name}: {spec.label} (pip install 'gaitcnn[peers]')" for name, spec in PEERS.items()]
    return "; ".join(rows) + "."


@click.command("label")
@click.option(
    "--subjects",
    "n_subjects",
    type=click.IntRange(min=2),
    default=PAPER_N_SUBJECTS,
    show_default=True,
    help="K: subjects drawn at random (classes); 744 = all.",
)
@click.option(
    "--data-root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    envvar="GAITCNN_DATA_DIR",
    help="Real OU-ISIR root; omitted: 744 simulated OU-ISIR-like subjects (labelled so).",
)
@click.option(
    "--variant",
    type=click.Choice(list(SIMULATION_VARIANTS)),
    default="default",
    show_default=True,
    help="Simulator variant without --data-root: hard (more session change and noise), "
    "rotated / hard-rotated (the sensor turned anew every walk, like a phone in a pocket), "
    "untilted (every walker wears the sensor at the same tilt; a diagnostic).",
)
@subset_option
@sensor_option
@click.option(
    "--channels",
    default=None,
    metavar="NAMES",
    help=CHANNELS_HELP,
)
@click.option(
    "--method",
    type=click.Choice(method_names()),
    default="proposed",
    show_default=True,
    help=_method_help(),
)
@click.option(
    "--preset",
    type=click.Choice(list(PRESETS)),
    default="paper",
    show_default=True,
    help="paper: the faithful reproduction; improved: dense raw-signal windows and a "
    "1-D CNN (docs/results-simulated/ablation/ablation.md). Options override it.",
)
@click.option(
    "--framework",
    type=click.Choice(FRAMEWORKS),
    default="keras",
    show_default=True,
    help="Training loop: keras, or tflearn (the paper's framework, in its own process; the "
    "paper CNN only: methods proposed, method1, method2).",
)
@click.option(
    "--global-clipnorm",
    type=click.FloatRange(min=0),
    default=None,
    help="Clip the gradients to this global norm before each update, 0: never [default: the "
    "framework's own: keras none, tflearn 5.0]. 5.0 gives Keras tflearn's clipping.",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    help="Training epochs [default: the preset's; paper: 50, improved: 30].",
)
@click.option(
    "--precision",
    type=click.Choice(list(PRECISIONS)),
    default=None,
    help="Network arithmetic [default: float32, the paper's]; mixed_bfloat16: ~1.8x faster on "
    "CPUs with native bfloat16.",
)
@click.option(
    "--augment",
    type=click.Choice(list(AUGMENTS)),
    default=None,
    help="Training-window augmentation [default: none]; rotate: turn each window's sensor axes "
    "by a random rotation per window and epoch (raw windows of axes and norms only).",
)
@click.option(
    "--partner",
    type=click.Choice([*PEERS, "none"]),
    default=None,
    help="Peer trained beside the network on the same windows, scores added per window "
    "[default: the preset's; improved: multirocket]; none: the network alone (less memory).",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the subject draw, the weights and the shuffling.",
)
@click.option(
    "--edge",
    type=click.Choice(["strict", "pad"]),
    default=None,
    help="Image margin rule [default: the preset's; paper: strict].",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="FIELD=VALUE",
    help="Network or peer hyper-parameter, JSON value, e.g. --set fl1_units=1024; "
    "partner.FIELD=VALUE for the partner peer, e.g. --set partner.num_kernels=1250.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default results/labeling-<method>-<K>[-<preset>]).",
)
@cache_dir_option
@workers_option
@click.option(
    "--verbose",
    type=click.IntRange(0, 2),
    default=2,
    show_default=True,
    help="Keras progress: 0 silent, 1 bar, 2 one line per epoch.",
)
def labeling_command(n_subjects, data_root, variant, subset, sensor, channels, method, preset,
                     framework, global_clipnorm, epochs, precision, augment, partner, seed, edge,
                     sets, out, cache_dir, workers, verbose):  # fmt: skip
    """Gait labeling on OU-ISIR (paper Table 2): train on K subjects' gallery walks, label
    their probe walks."""
    from gaitcnn.labeling._run import run_labeling

    hparams = parse_set(sets, dotted=True)
    partner_hparams = hparams.pop("partner", None)
    try:
        params = LabelingParams.from_preset(
            preset, n_subjects=n_subjects, subset=subset, sensor=sensor, seed=seed, method=method,
            epochs=epochs, edge=edge, hparams=hparams or None, precision=precision,
            framework=framework, global_clipnorm=global_clipnorm, augment=augment,
            partner=partner, partner_hparams=partner_hparams, channels=parse_channels(channels),
        )  # fmt: skip
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    suffix = ("" if preset == "paper" else f"-{preset}") + (
        "" if framework == "keras" else f"-{framework}"
    )
    out = out or Path("results") / f"labeling-{method}-{n_subjects}{suffix}"
    if data_root is None:
        click.echo(f"no --data-root: running on SIMULATED OU-ISIR-like data ({variant})", err=True)
    elif variant != "default":
        raise click.UsageError("--variant applies to the simulator only (no --data-root)")
    res = run_labeling(params, out_dir=out, data_root=data_root, cache_dir=cache_dir,
                       simulation_variant=variant, workers=workers, verbose=verbose,
                       progress=True)  # fmt: skip
    click.echo(
        f"{res['method_label']}{'' if res['framework'] == 'keras' else ' (tflearn)'} on "
        f"{res['data']} data, K={res['n_subjects']}: "
        f"accuracy {res['accuracy']:.3f}, top-5 {res['top5']:.3f} over "
        f"{res['n_probe_sequences']} probe sequences "
        f"({res['n_probe_sequences_without_images']} without images, counted as errors); "
        f"train {res['train_time_s']:.0f} s, wall {res['wall_time_s']:.0f} s, peak RSS "
        f"{res['peak_memory']['self_mb']:.0f} MB"
    )
    click.echo(f"wrote {out}/results.json")
