"""Provenance of results: package versions, the command line and peak memory (numpy-free).

The one definition of the run metadata that every result file, training run, saved model and
benchmark records. Versions are read from the installed distributions' metadata, so nothing
here imports TensorFlow.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
from importlib import metadata

__all__ = ["PACKAGES", "peak_rss_mb", "run_metadata", "versions"]

#: Distributions whose versions are recorded (missing ones are recorded as None).
PACKAGES = (
    "gaitcnn",
    "tensorflow",
    "keras",
    "tflearn",
    "numpy",
    "scipy",
    "h5py",
    "click",
    "aeon",
    "numba",
    "scikit-learn",
)

#: Distributions that provide a package under another name (the first one installed counts).
_DISTRIBUTIONS = {"tensorflow": ("tensorflow", "tensorflow-cpu")}


def versions(packages=PACKAGES) -> dict[str, str | None]:
    """Python, platform and the installed version of each package (None when missing)."""
    out: dict[str, str | None] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    for name in packages:
        out[name] = None
        if name == "gaitcnn":  # this checkout's, not a stale editable install's metadata
            from gaitcnn import __version__

            out[name] = __version__
            continue
        for distribution in _DISTRIBUTIONS.get(name, (name,)):
            try:
                out[name] = metadata.version(distribution)
                break
            except metadata.PackageNotFoundError:
                continue
    return out


def peak_rss_mb() -> dict[str, float]:
    """Peak resident memory (MB) of this process and of its finished child processes."""
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 1024**2  # Linux: KiB, macOS: bytes
    return {
        "self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale,
        "children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale,
    }


def run_metadata() -> dict:
    """What every result file records about how it was made: versions, command, machine."""
    return {"versions": versions(), "command": sys.argv[:], "cpu_count": os.cpu_count()}
