"""Option parsing the command lines share (click only)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gaitcnn.io import OUISIR_SENSORS, OUISIR_SUBSETS

#: ``--cache-dir``: where simulated data and image caches live (the experiments share it).
cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Simulated data and image caches (default $GAITCNN_CACHE_DIR or ~/.cache/gaitcnn).",
)

#: ``--subset``: which OU-ISIR subset (prepare, labeling, verification).
subset_option = click.option(
    "--subset",
    type=click.Choice(list(OUISIR_SUBSETS)),
    default="auto",
    show_default=True,
    help="OU-ISIR subset: automatic (seq0 -> seq1) or manual (Walk1 -> Walk2); ignored for "
    "McGill-format data.",
)

#: ``--sensor``: which OU-ISIR manual-subset sensor folder.
sensor_option = click.option(
    "--sensor",
    type=click.Choice(list(OUISIR_SENSORS)),
    default=None,
    help="OU-ISIR manual-subset sensor folder (default: centre IMU); android: the phone walks, "
    "accelerometer only (every preset then reads its accelerometer-only channels).",
)

#: ``--workers``: processes for image preparation.
workers_option = click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes for image preparation (the cache is identical whatever the number).",
)

__all__ = [
    "cache_dir_option",
    "parse_channels",
    "parse_set",
    "sensor_option",
    "subset_option",
    "workers_option",
]


def parse_channels(text: str | None) -> tuple[str, ...] | str | None:
    """``--channels``: comma-separated channel names, the name of a set of
    :data:`gaitcnn.rawwindows.CHANNEL_SETS` (``axes``, ``norms``, ``gravity``, ``invariant``,
    ``body``), or ``auto`` (:mod:`gaitcnn.orientation`: the training walks choose).

    Examples
    --------
    >>> parse_channels("acc, acc_mag")
    ('acc', 'acc_mag')
    >>> parse_channels("norms")
    ('acc_mag', 'gyr_mag')
    >>> parse_channels("auto")
    'auto'
    """
    from gaitcnn.rawwindows import CHANNEL_SETS

    if not text:
        return None
    if text.strip() == "auto":  # both candidate sets; the training walks choose (orientation)
        return "auto"
    if text.strip() in CHANNEL_SETS:
        return CHANNEL_SETS[text.strip()]
    return tuple(c.strip() for c in text.split(","))


#: ``--channels``: what the labeling and verification protocols read.
CHANNELS_HELP = (
    "Channels to read: comma-separated names (e.g. acc or acc,acc_mag) or a set - axes, norms, "
    "gravity (gravity-aligned), invariant (gravity plus the angles between horizontal motions; "
    "for a sensor that turns between walks), body (vertical/forward/lateral), or auto (the "
    "training walks choose axes or invariant by how far the sensor turns; the improved "
    "labeling preset's default) [default: the preset's; their accelerometer-only variant when "
    "the data have no gyroscope]."
)


def parse_set(values, *, dotted: bool = False) -> dict:
    """``--set FIELD=VALUE`` options as a dict; a value is JSON when it parses, else a string.

    Parameters
    ----------
    values : iterable of str
    dotted : bool, default=False
        Read ``outer.inner=value`` as ``{"outer": {"inner": value}}`` (e.g. ``train.epochs=5``).

    Raises
    ------
    click.BadParameter
        For an item without ``=`` or with an empty field name.

    Examples
    --------
    >>> parse_set(["epochs=3", "filters=[4,8]", "name=x"])
    {'epochs': 3, 'filters': (4, 8), 'name': 'x'}
    >>> parse_set(["train.epochs=5"], dotted=True)
    {'train': {'epochs': 5}}
    """
    out: dict = {}
    for item in values:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise click.BadParameter(f"expected FIELD=VALUE, got {item!r}", param_hint="--set")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        value = tuple(value) if isinstance(value, list) else value
        if dotted and "." in key:
            outer, inner = key.split(".", 1)
            out.setdefault(outer, {})[inner] = value
        else:
            out[key] = value
    return out
