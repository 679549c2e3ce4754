"""``python -m gaitcnn.authentication`` / ``gaitcnn authenticate``: Table 1's protocol."""

from __future__ import annotations

from pathlib import Path

import click

from gaitcnn._atomic import write_json_atomic
from gaitcnn._cliutil import parse_channels, parse_set
from gaitcnn.authentication._baselines import baseline_features, load_segments
from gaitcnn.authentication._config import METHODS, PEER_METHODS, PRESETS, AuthConfig
from gaitcnn.authentication._run import aggregate, run_authentication
from gaitcnn.presets import FRAMEWORKS
from gaitcnn.rawwindows import CHANNEL_SETS

__all__ = ["authenticate_command"]


@click.command("authenticate")
@click.option(
    "--data-root",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="McGill root (real or simulated); omitted: simulate a McGill-like set.",
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output folder.")
@click.option("--cache-dir", type=click.Path(path_type=Path), default=None, help="Cache folder.")
@click.option(
    "--preset",
    type=click.Choice(list(PRESETS)),
    default="paper",
    show_default=True,
    help="paper: the faithful reproduction. improved: raw windows of gravity-aligned channels "
    "and a 1-D CNN on the same images and splits (higher different-day accuracy on simulated "
    "McGill; see gaitcnn.authentication.PRESETS). --set overrides.",
)
@click.option(
    "--method",
    "methods",
    type=click.Choice(list(METHODS + PEER_METHODS)),
    multiple=True,
    help="Methods to run (repeatable; default: the preset's). minirocket: the MiniRocket peer "
    "on the same splits (needs pip install 'gaitcnn[peers]').",
)
@click.option(
    "--framework",
    type=click.Choice(FRAMEWORKS),
    default=None,
    help="Training loop of the CNNs [default: keras]: keras, or tflearn (the paper's framework, "
    "in its own process; the paper CNN only).",
)
@click.option(
    "--channels",
    default=None,
    help="Raw windows only (--set representation=raw --set network=raw_cnn): a set - axes, "
    "norms, gravity (gravity-aligned, orientation-free), invariant (gravity plus the angles "
    "between horizontal motions, orientation-free) - or comma-separated channel names "
    "[default: axes; accelerometer-only when the data have no gyroscope].",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    help="Override an AuthConfig field, JSON value: --set n_repetitions=2 --set train.epochs=5.",
)
def authenticate_command(
    data_root, out, cache_dir, preset, methods, framework, channels, overrides
):
    """McGill gait authentication (paper Table 1): per-subject binary AE-GDI CNNs and baselines."""
    from gaitcnn.cache import read_image_set
    from gaitcnn.prepare import ensure_simulated, prepare_dataset

    values = parse_set(overrides, dotted=True)
    if methods:
        values["methods"] = tuple(methods)
    if framework is not None:
        values["framework"] = framework
    if channels is not None:  # a set name stays a name (its acc-only variant without a gyro)
        values["channels"] = (
            channels.strip() if channels.strip() in CHANNEL_SETS else parse_channels(channels)
        )
    try:
        config = AuthConfig.from_preset(preset, **values)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    params = config.prepare_params()
    source = None
    if data_root is None:
        data_root = ensure_simulated("mcgill", cache_dir=cache_dir)
        source = f"simulated ({data_root.name})"
    cache = prepare_dataset(params, data_root, cache_dir=cache_dir, source=source)
    image_set = read_image_set(cache, expected_params=params.to_dict(), load_images=False)
    features = baseline_features(image_set, load_segments(data_root, params), config)
    records = run_authentication(image_set, config, out, features=features, progress=click.echo)
    from gaitcnn.evaluate import format_table

    rows = aggregate(records, config)
    summary = {"framework": config.framework, "config": config.to_dict(), "rows": rows}
    write_json_atomic(Path(out) / "summary.json", summary)
    click.echo(format_table(rows))
