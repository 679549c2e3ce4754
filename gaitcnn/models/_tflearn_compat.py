"""Make tflearn 0.5.0 importable on TensorFlow >= 2.13 and Pillow >= 10.

WARNING - importing tflearn switches the WHOLE PROCESS to TensorFlow 1 graph mode
(``tf.compat.v1.disable_v2_behavior()``), irreversibly. After :func:`import_tflearn`, Keras 3
``fit``, eager ``tf.data`` and ``model.export`` no longer work in that process. Call it only
in a process dedicated to tflearn (``python -m gaitcnn.models.tflearn_cnn`` or a subprocess),
never from a module that pytest collects or that the Keras code imports.
"""

from __future__ import annotations

import sys
import types

__all__ = ["import_tflearn", "patch_removed_names"]


def patch_removed_names() -> None:
    """Restore the three names tflearn 0.5.0 imports that current libraries removed.

    - ``tensorflow.python.util.nest.is_sequence``: renamed ``is_nested`` (TF 2.13).
    - ``tensorflow.python.pywrap_tensorflow.NewCheckpointReader``: moved to
      ``tensorflow.python.training.py_checkpoint_reader`` (used by one rarely used helper).
    - ``PIL.Image.ANTIALIAS``: removed in Pillow 10; the same filter is ``LANCZOS``.

    Each name is set only when missing, so this is idempotent and a no-op on old versions.
    It does not import tflearn and does not change TensorFlow's execution mode.
    """
    from tensorflow.python import pywrap_tensorflow
    from tensorflow.python.training import py_checkpoint_reader
    from tensorflow.python.util import nest

    if not hasattr(nest, "is_sequence"):
        nest.is_sequence = nest.is_nested
    if not hasattr(pywrap_tensorflow, "NewCheckpointReader"):
        pywrap_tensorflow.NewCheckpointReader = py_checkpoint_reader.NewCheckpointReader
    try:
        from PIL import Image
    except ImportError:  # Pillow is optional: tflearn imports it only in data_utils
        return
    if not hasattr(Image, "ANTIALIAS"):
        Image.ANTIALIAS = Image.LANCZOS


def import_tflearn() -> types.ModuleType:
    """Patch the removed names, import tflearn and return the module.

    IRREVERSIBLE SIDE EFFECT: importing tflearn disables TensorFlow 2 behaviour for the whole
    process (graph mode, ``tf.compat.v1`` sessions). Keras 3 training and export stop working
    in this process. Use it only in a dedicated process.

    Returns
    -------
    types.ModuleType
        The ``tflearn`` module.
    """
    if "tflearn" in sys.modules:
        return sys.modules["tflearn"]
    import tensorflow as tf

    # tflearn and TF1 graph mode log deprecation warnings for every layer; keep errors only.
    tf.get_logger().setLevel("ERROR")
    patch_removed_names()
    import tflearn

    return tflearn
