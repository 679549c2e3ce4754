"""Command line: gaitcnn simulate, prepare, plot-cycles, plot-images, train, evaluate, export,
enrol, verify, identify (the last three in :mod:`gaitcnn._cli_users`).

Subcommands are thin: they parse options, call one library function and say where the outputs
went. TensorFlow is imported only by the commands that need it, with its log noise turned down.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from pathlib import Path

import click

from gaitcnn import __version__
from gaitcnn._cliutil import cache_dir_option, sensor_option, subset_option, workers_option
from gaitcnn.constants import (
    DATA_DIR_ENV,
    DATASET_NAMES,
    SIMULATION_VARIANTS,
    TARGET_RATE_HZ,
)
from gaitcnn.io import PLAUSIBILITY_CHECKS
from gaitcnn.registry import NETWORKS

__all__ = ["main"]


def quiet_tensorflow(*, verbose: int = 0, debug: bool = False) -> None:
    """Silence TensorFlow's C++ and Python log noise unless the user asked for it.

    ``TF_CPP_MIN_LOG_LEVEL`` (unless the user set it): 3 by default, which also hides the
    C++ ``E0000 ... use_unbounded_threadpool`` line that TensorFlow 2.21 logs at ERROR level
    once per ``model.fit`` call (see Notes); 2 with ``--debug`` (C++ errors shown), 1 with
    ``-v`` and 0 with ``-vv``.

    Notes
    -----
    Source of that line: Keras 3's array data adapter slices numpy inputs with a
    ``map(..., num_parallel_calls=AUTOTUNE)`` (a ``ParallelMapDatasetV2`` node); when the last
    batch is partial and op determinism is on (``TrainConfig.deterministic``), tf.data's
    ``make_deterministic`` rewrite turns it into a sequential ``MapDataset`` but copies the
    ``use_unbounded_threadpool`` attribute, which ``MapDataset`` does not declare, and
    ``node_def_util.cc`` logs the mismatch. It is harmless ("Unknown attributes will be
    ignored"). Errors that matter reach Python as exceptions and stay visible.
    """
    if verbose:
        level = str(max(0, 2 - verbose))  # -v: 1 (warnings), -vv: 0 (everything)
    else:
        level = "2" if debug else "3"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", level)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


class Context:
    """State shared by all subcommands (click's pass-object pattern)."""

    def __init__(self, debug: bool, verbose: int):
        self.debug = debug
        self.verbose = verbose


pass_context = click.make_pass_decorator(Context)


class CommandError(click.ClickException):
    """A failed command, reported in one line with exit code 2 (click's usage-error code)."""

    exit_code = 2

    def show(self, file=None) -> None:
        """Print ``Error: <message>`` and how to see the traceback."""
        click.echo(f"Error: {self.format_message()}", err=True)
        click.echo("(run with --debug for the full traceback)", err=True)


def _set_values(ctx: click.Context) -> list[str]:
    """The ``--set FIELD=VALUE`` values the command was given (if it has that option)."""
    values: list[str] = []
    for param in ctx.command.params:
        if isinstance(param, click.Option) and "--set" in param.opts:
            values += list(ctx.params.get(param.name) or ())
    return values


def error_message(exc: BaseException, ctx: click.Context | None = None) -> str:
    """One line saying what went wrong, naming the file or argument at fault.

    Our own errors (:class:`~gaitcnn.errors.GaitDataError`, plain ``ValueError``, ``OSError``)
    carry their file or argument in the message; anything else is prefixed by its type. When
    the command was given ``--set`` values and the error is not about a file, the ``--set``
    value named in the message (or else all of them) is pointed at.
    """
    from gaitcnn._files import describe_exception
    from gaitcnn.errors import GaitDataError

    about_a_file = isinstance(exc, GaitDataError | OSError)
    if about_a_file or type(exc) is ValueError:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        text = lines[0] if lines else describe_exception(exc)
    else:
        text = describe_exception(exc)
    sets = _set_values(ctx) if ctx is not None else []
    if sets and not about_a_file:
        named = [value for value in sets if value.partition("=")[0].split(".")[-1] in text]
        if named:
            return f"--set {', --set '.join(named)}: {text}"
        return f"{text} (check the --set values: {', '.join(sets)})"
    return text


def handle_errors(func):
    """Route every failure of a command through :func:`error_message` (``--debug`` re-raises).

    Applied by :class:`_OneLineErrorGroup` to every command it registers, so no command (the
    experiments' included) can print a traceback by default.
    """
    if getattr(func, "_gaitcnn_one_line_errors", False):
        return func

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            ctx = click.get_current_context(silent=True)
            state = ctx.find_object(Context) if ctx is not None else None
            if state is not None and state.debug:
                raise
            raise CommandError(error_message(exc, ctx)) from exc

    wrapper._gaitcnn_one_line_errors = True
    return wrapper


class _OneLineErrorGroup(click.Group):
    """A click group whose every registered command reports errors through :func:`handle_errors`."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Register ``cmd`` with its callback wrapped by :func:`handle_errors`."""
        if cmd.callback is not None:
            cmd.callback = handle_errors(cmd.callback)
        super().add_command(cmd, name)


@click.group(cls=_OneLineErrorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gaitcnn")
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="More log output (-v info, -vv debug; also TensorFlow's C++ messages).",
)
@click.pass_context
def main(ctx, debug, verbose):
    """Gait recognition from wearable IMUs with AE-GDIs and a CNN (Zhao & Zhou 2017).

    Typical use: `gaitcnn simulate` (or get a real data set), `gaitcnn prepare`,
    `gaitcnn train`, `gaitcnn evaluate`, `gaitcnn export`.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    quiet_tensorflow(verbose=verbose, debug=debug)
    ctx.obj = Context(debug=debug, verbose=verbose)


dataset_option = click.option(
    "--dataset",
    type=click.Choice(DATASET_NAMES),
    required=True,
    help="ouisir (OU-ISIR inertial gait DB format) or mcgill (McGill-like phone recordings).",
)
data_root_option = click.option(
    "--data-root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    envvar=DATA_DIR_ENV,
    default=None,
    help=f"Root of the real data set (or ${DATA_DIR_ENV}). Without it, the simulator is used.",
)
png_out_option = click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Output PNG file."
)
seed_option = click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
skip_check_option = click.option(
    "--skip-check",
    "skip_checks",
    type=click.Choice(PLAUSIBILITY_CHECKS),
    multiple=True,
    help="Switch a plausibility check of the loaders off (repeatable): range (values beyond "
    "any sensor), gravity (the accelerometer must show gravity; also catches swapped columns), "
    "unit_change (|a| level jumping inside a file).",
)


@main.command()
@dataset_option
@click.option(
    "--subjects",
    type=click.IntRange(min=1),
    default=None,
    help="Number of simulated subjects (default 744 for ouisir, 20 for mcgill).",
)
@click.option(
    "--duration-s",
    type=click.FloatRange(min=10),
    default=900.0,
    show_default=True,
    help="Length of each McGill-like day in seconds (ignored for ouisir).",
)
@seed_option
@click.option(
    "--variant",
    type=click.Choice(SIMULATION_VARIANTS),
    default="default",
    show_default=True,
    help="hard: more session/day variation and sensor noise than the calibrated presets; "
    "rotated, hard-rotated: the same with the sensor turned by a random rotation every "
    "session (walk or day); untilted: every walker wears the sensor at the same tilt "
    "(a diagnostic: what a model reads from how each walker wears it).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write the simulated data set into (must not exist or be empty).",
)
@pass_context
def simulate(ctx, dataset, subjects, duration_s, seed, variant, out):
    """Write a SIMULATED data set in the real file format (with ground-truth cycle starts)."""
    from gaitcnn import simulate as sim

    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"--out {out} is not empty; choose a new folder")
    if dataset == "ouisir":
        result = sim.simulate_ouisir(out, n_subjects=subjects or 744, seed=seed, variant=variant)
    else:
        result = sim.simulate_mcgill(
            out, n_subjects=subjects or 20, duration_s=duration_s, seed=seed, variant=variant
        )
    click.echo(f"wrote {len(result.files)} simulated files to {result.root}")


@main.command()
@dataset_option
@data_root_option
@cache_dir_option
@click.option(
    "--representation",
    type=click.Choice(["ae_gdi", "gdi", "raw"]),
    default="ae_gdi",
    show_default=True,
    help="Image type: AE-GDI (paper), GDI (Method 2) or raw windows (Method 3).",
)
@click.option(
    "--segmentation",
    type=click.Choice(["gggd", "overlap"]),
    default="gggd",
    show_default=True,
    help="Images at GGGD cycle starts (paper) or overlapping windows (Method 1).",
)
@click.option(
    "--edge",
    type=click.Choice(["strict", "pad"]),
    default="strict",
    show_default=True,
    help="strict: skip cycles without the full image margin (paper); pad: zero-pad it.",
)
@click.option(
    "--channels",
    type=click.Choice(["default", "acc", "acc+gyr"]),
    default="default",
    show_default=True,
    help="Image channels; default is acc+gyr for ouisir and acc for mcgill (the paper's).",
)
@click.option(
    "--subjects",
    type=click.IntRange(min=1),
    default=None,
    help="Simulated subjects when no --data-root is given.",
)
@workers_option
@click.option("--overwrite", is_flag=True, help="Rebuild the cache even if it exists.")
@subset_option
@sensor_option
@seed_option
@skip_check_option
@pass_context
def prepare(
    ctx,
    dataset,
    data_root,
    cache_dir,
    representation,
    segmentation,
    edge,
    channels,
    subjects,
    workers,
    overwrite,
    subset,
    sensor,
    seed,
    skip_checks,
):
    """Build the HDF5 image cache of a data set (resample, detect cycles, make images)."""
    from gaitcnn.prepare import PrepareParams, ensure_simulated, prepare_dataset

    overrides = {"representation": representation, "segmentation": segmentation, "edge": edge}
    if channels != "default":
        overrides["channels"] = tuple(channels.split("+"))
    elif sensor == "android":  # the paper's rule for accelerometer-only phones
        overrides["channels"] = ("acc",)
    params = PrepareParams.paper(dataset, subset=subset, sensor=sensor, **overrides)
    source = None
    if data_root is None:
        sensors = (sensor,) if sensor else ("center",)
        data_root = ensure_simulated(
            dataset, cache_dir=cache_dir, seed=seed, n_subjects=subjects, sensors=sensors
        )
        source = f"simulated ({data_root.name})"
        click.echo(f"no --data-root: using SIMULATED data at {data_root}", err=True)
    path = prepare_dataset(
        params,
        data_root,
        cache_dir=cache_dir,
        source=source,
        workers=workers,
        overwrite=overwrite,
        skip_checks=skip_checks,
    )
    click.echo(str(path))


def _first_recording(dataset, data_root, cache_dir, seed, subject):
    from gaitcnn.prepare import PrepareParams, ensure_simulated, load_dataset

    simulated = data_root is None
    if simulated:
        # 4 subjects are plenty for a picture; --subject is an id, not a count
        data_root = ensure_simulated(dataset, cache_dir=cache_dir, seed=seed, n_subjects=4)
    recordings = load_dataset(dataset, data_root, PrepareParams.paper(dataset))
    if subject is not None:
        recordings = [r for r in recordings if r.subject_id == subject] or recordings[:0]
        if not recordings:
            raise ValueError(f"--subject {subject}: no such subject under {data_root}")
    return recordings, data_root, simulated


@main.command("plot-cycles")
@dataset_option
@data_root_option
@cache_dir_option
@click.option("--subject", type=int, default=None, help="Subject id (default: the first).")
@click.option(
    "--seconds",
    type=click.FloatRange(min=2),
    default=12.0,
    show_default=True,
    help="Length of the excerpt to plot.",
)
@seed_option
@png_out_option
@pass_context
def plot_cycles_cmd(ctx, dataset, data_root, cache_dir, subject, seconds, seed, out):
    """Plot |a| with the GGGD cycle starts (and the peak baseline), like the paper's Figure 2."""
    import numpy as np

    from gaitcnn.cycles import detect_cycle_starts, detect_peaks_baseline
    from gaitcnn.plots import plot_cycles
    from gaitcnn.resample import resample_recording

    recordings, _, simulated = _first_recording(dataset, data_root, cache_dir, seed, subject)
    rec = recordings[0]
    seg = resample_recording(rec)[0]
    n = min(seg.n_timepoints, int(seconds * TARGET_RATE_HZ))
    mag = np.linalg.norm(seg.acc[:n], axis=1)
    starts = detect_cycle_starts(mag, TARGET_RATE_HZ)
    baseline = detect_peaks_baseline(mag, TARGET_RATE_HZ)
    label = "SIMULATED " if simulated else ""
    plot_cycles(
        mag,
        starts,
        TARGET_RATE_HZ,
        out,
        baseline_starts=baseline,
        title=f"{label}{dataset} subject {rec.subject_id} {rec.walk}: GGGD cycle starts",
    )
    click.echo(str(out))


@main.command("plot-images")
@dataset_option
@data_root_option
@cache_dir_option
@click.option(
    "--subjects",
    "n_subjects",
    type=click.IntRange(1, 8),
    default=2,
    show_default=True,
    help="How many subjects (rows).",
)
@click.option(
    "--per-subject",
    type=click.IntRange(1, 8),
    default=4,
    show_default=True,
    help="Images per subject.",
)
@seed_option
@png_out_option
@pass_context
def plot_images_cmd(ctx, dataset, data_root, cache_dir, n_subjects, per_subject, seed, out):
    """Plot a grid of AE-GDIs from a few subjects, like the paper's Figure 5."""
    from gaitcnn.plots import plot_image_grid
    from gaitcnn.prepare import PrepareParams, images_for_recording

    recordings, _, simulated = _first_recording(dataset, data_root, cache_dir, seed, None)
    params = PrepareParams.paper(dataset)
    grid = {}
    for rec in recordings:
        if len(grid) == n_subjects:
            break
        if rec.subject_id in grid:
            continue
        segments = images_for_recording(rec, params)
        images = [imgs for _, imgs, _ in segments if len(imgs)]
        if images:
            grid[f"subject {rec.subject_id}"] = images[0][:per_subject]
    if not grid:
        raise ValueError("no recording was long enough to make an AE-GDI")
    label = "SIMULATED " if simulated else ""
    plot_image_grid(grid, out, title=f"{label}{dataset}: AE-GDIs (rows: subjects)")
    click.echo(str(out))


def _prepared_cache(dataset, data_root, cache_dir, seed, subjects, representation="ae_gdi"):
    """Build (or reuse) the paper-preset cache and say whether it is simulated."""
    from gaitcnn.prepare import PrepareParams, ensure_simulated, prepare_dataset

    params = PrepareParams.paper(dataset, representation=representation)
    source = None
    if data_root is None:
        data_root = ensure_simulated(dataset, cache_dir=cache_dir, seed=seed, n_subjects=subjects)
        source = f"simulated ({data_root.name})"
        click.echo(f"no --data-root: using SIMULATED data at {data_root}", err=True)
    return prepare_dataset(params, data_root, cache_dir=cache_dir, source=source)


@main.command()
@dataset_option
@data_root_option
@cache_dir_option
@click.option(
    "--cache",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="An image cache from `gaitcnn prepare` (overrides --dataset/--data-root).",
)
@click.option(
    "--model",
    "model_name",
    type=click.Choice([n for n, spec in NETWORKS.items() if spec.input_kind == "image"]),
    default="paper_cnn",
    show_default=True,
    help="Network reading the cache's images: "
    + "; ".join(f"{n}: {s.summary}" for n, s in NETWORKS.items() if s.input_kind == "image"),
)
@click.option(
    "--epochs", type=click.IntRange(min=1), default=50, show_default=True, help="[paper: 50]"
)
@click.option(
    "--subjects",
    type=click.IntRange(min=2),
    default=None,
    help="Simulated subjects when no --data-root is given.",
)
@seed_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Run directory for checkpoints, history.json, TensorBoard logs and models.",
)
@click.option("--resume", is_flag=True, help="Continue an interrupted run in --out.")
@click.option("--overwrite", is_flag=True, help="Replace an earlier run in --out.")
@click.option(
    "--strategy",
    type=click.Choice(["none", "mirrored", "multiworker"]),
    default="none",
    show_default=True,
    help="tf.distribute strategy (mirrored: all local devices; multiworker: "
    "MultiWorkerMirroredStrategy from TF_CONFIG, see docs/DISTRIBUTED.md).",
)
@pass_context
def train(
    ctx,
    dataset,
    data_root,
    cache_dir,
    cache,
    model_name,
    epochs,
    subjects,
    seed,
    out,
    resume,
    overwrite,
    strategy,
):
    """Train a subject-identification model on the gallery sessions of a data set."""
    if resume and overwrite:
        raise click.UsageError("--resume and --overwrite contradict each other; choose one")
    from gaitcnn.runs import make_strategy, train_run

    if cache is None:
        cache = _prepared_cache(dataset, data_root, cache_dir, seed, subjects)
    try:
        dist = make_strategy(strategy)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    result = train_run(
        cache,
        out,
        model_name=model_name,
        epochs=epochs,
        seed=seed,
        resume=resume,
        overwrite=overwrite,
        strategy=dist,
        verbose=2 if ctx.verbose == 0 else 1,
    )
    best = f" (best epoch {result.best_epoch})" if result.best_epoch else ""
    click.echo(f"trained {model_name} in {result.wall_time_s:.1f} s{best}; run in {out}")


@main.command()
@click.option(
    "--model",
    "run_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="A run folder of `gaitcnn train`, `gaitcnn label` or `gaitcnn authenticate`.",
)
@click.option(
    "--which",
    type=click.Choice(["auto", "best", "final"]),
    default="auto",
    show_default=True,
    help="Model of the run to evaluate.",
)
@pass_context
def evaluate(ctx, run_dir, which):
    """Evaluate a training, labeling or authentication run; write evaluation.json."""
    from gaitcnn.runs import evaluate_run

    result = evaluate_run(run_dir, which=which)
    if result["run_kind"] == "authentication":
        from gaitcnn.evaluate import format_table

        click.echo(format_table(result["rows"]))
    else:
        for level in ("per_image", "per_sequence"):
            metrics = result[level]
            click.echo(f"{level}: accuracy {metrics['accuracy']:.3f}, top-5 {metrics['top_5']:.3f}")
        click.echo(f"data: {result['data']}")
    click.echo(f"written to {run_dir / 'evaluation.json'}")


@main.command()
@click.option(
    "--model",
    "run_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="Run directory written by `gaitcnn train`.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Export directory (the artefact plus metadata.json).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["keras", "savedmodel", "tflite"]),
    multiple=True,
    default=("keras",),
    show_default=True,
    help="Artefact format; repeat the option for several.",
)
@click.option("--quantize", is_flag=True, help="Dynamic-range quantisation (TFLite only).")
@click.option("--overwrite", is_flag=True, help="Replace existing artefacts in --out.")
@pass_context
def export(ctx, run_dir, out, fmt, quantize, overwrite):
    """Export a trained model as .keras, SavedModel or TFLite, with metadata.json."""
    from gaitcnn.export import export_run

    paths = export_run(run_dir, out, fmt=list(fmt), quantize=quantize, overwrite=overwrite)
    for name, path in paths.items():
        click.echo(f"{name}: {path}")


def _register_experiments() -> None:
    """Add the experiments' commands (their modules stay TensorFlow-free at import)."""
    from gaitcnn.authentication import authenticate_command
    from gaitcnn.labeling import labeling_command
    from gaitcnn.verification._cli import verification_command

    main.add_command(authenticate_command, name="authenticate")
    main.add_command(labeling_command, name="label")
    main.add_command(verification_command, name="verification")


_register_experiments()


def _register_user_commands() -> None:
    """Add enrol, verify and identify (users the model never saw; TensorFlow-free at import)."""
    from gaitcnn._cli_users import enrol_command, identify_command, verify_command

    for command in (enrol_command, verify_command, identify_command):
        main.add_command(command)


_register_user_commands()


def run_as_module(command: str, argv=None) -> None:
    """``python -m gaitcnn.<experiment> ARGS`` = ``gaitcnn <command> ARGS``, one-line errors
    included (``--debug`` and ``-v`` may come anywhere among the arguments)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    group_flags = [a for a in argv if a in ("--debug", "-v", "-vv")]
    rest = [a for a in argv if a not in group_flags]
    main(args=[*group_flags, command, *rest], prog_name="gaitcnn")  # usage: gaitcnn <command>


if __name__ == "__main__":  # pragma: no cover
    main()
