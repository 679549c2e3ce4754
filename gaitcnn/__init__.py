"""gaitcnn: gait recognition from wearable IMUs with AE-GDIs and a CNN (Zhao & Zhou 2017).

The public API is importable from the package root, lazily (module ``__getattr__``): importing
:mod:`gaitcnn` is cheap and never imports TensorFlow, which loads only when a network is
trained, scored or read::

    from gaitcnn import GaitModel, load_ouisir
    model = GaitModel(preset="improved").fit(gallery_recordings)
"""

from __future__ import annotations

import importlib

__version__ = "0.2.0"

#: Public name -> the module that defines it (imported on first access).
_LAZY = {
    "GaitModel": "gaitcnn.estimator",
    "ModelConfig": "gaitcnn.presets",
    "GaitDataError": "gaitcnn.errors",
    "Recording": "gaitcnn.io",
    "load_mcgill": "gaitcnn.io",
    "load_ouisir": "gaitcnn.io",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    """Import a public name on first use (PEP 562)."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gaitcnn' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names, for tab completion."""
    return sorted(__all__)
