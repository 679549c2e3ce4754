"""Helpers every experiment driver shares: versions, resolved config, atomic result files."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

from gaitcnn._atomic import write_json_atomic, write_text_atomic

__all__ = ["versions", "write_json_atomic", "write_text_atomic"]

PACKAGES = ("gaitcnn", "tensorflow-cpu", "keras", "tflearn", "numpy", "scipy", "h5py", "click")


def versions() -> dict:
    """Installed versions of the stack (``None`` when a package is missing)."""
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def same_model(stored: dict, current: dict, *, ignore_preset: bool = False) -> bool:
    """True when two saved :class:`gaitcnn.presets.ModelConfig` dicts describe the same model.

    Both are read back with ``ModelConfig.from_dict``, so a field added to ``ModelConfig`` after
    ``stored`` was written takes its default (which is what the older run did) instead of making
    the run look different. ``ignore_preset``: the preset is only a label.
    """
    from gaitcnn.presets import ModelConfig

    try:
        configs = [ModelConfig.from_dict(dict(values)) for values in (stored, current)]
    except (TypeError, ValueError):
        return False
    if ignore_preset:
        configs = [config.replace(preset="paper") for config in configs]
    return configs[0] == configs[1]


def same_record(
    stored: dict, current: dict, model_key: str, *, ignore_preset: bool = False
) -> bool:
    """True when two saved run records agree: every field but ``model_key`` equal, and the
    model configs under ``model_key`` the same model (:func:`same_model`)."""
    rest = [{k: v for k, v in values.items() if k != model_key} for values in (stored, current)]
    models = (stored.get(model_key, {}), current.get(model_key, {}))
    return rest[0] == rest[1] and same_model(*models, ignore_preset=ignore_preset)
