"""Option parsing the command lines share (click only)."""

from __future__ import annotations

import json
from pathlib import Path

import click

#: ``--cache-dir``: where simulated data and image caches live (the experiments share it).
cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Simulated data and image caches (default $GAITCNN_CACHE_DIR or ~/.cache/gaitcnn).",
)

#: ``--workers``: processes for image preparation.
workers_option = click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes for image preparation.",
)

__all__ = ["cache_dir_option", "parse_set", "workers_option"]


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
