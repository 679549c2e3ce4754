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
