"""Stage 7: the network builders (Keras Functional) and their registry.

Importing this package imports Keras and TensorFlow. It never imports tflearn: the tflearn
builder lives in :mod:`gaitcnn.models.tflearn_cnn`, which must run in its own process
(importing tflearn switches the process to TF1 graph mode, irreversibly).
"""

from __future__ import annotations

from collections.abc import Callable

import keras

from gaitcnn.constants import IMAGE_HEIGHT, IMAGE_WIDTH
from gaitcnn.models import compact_cnn, inception, paper_cnn, tcnn
from gaitcnn.models._blocks import InceptionFilters, conv_relu, inception_block
from gaitcnn.models._flops import count_flops, count_params
from gaitcnn.models.compact_cnn import COMPACT_CNN_HPARAMS, build_compact_cnn
from gaitcnn.models.inception import INCEPTION_STAGES, build_inception
from gaitcnn.models.paper_cnn import PAPER_CNN_HPARAMS, build_paper_cnn
from gaitcnn.models.raw_cnn import RAW_CNN_HPARAMS, build_raw_cnn
from gaitcnn.models.tcnn import build_tcnn

__all__ = [
    "COMPACT_CNN_HPARAMS",
    "INCEPTION_STAGES",
    "MODEL_BUILDERS",
    "PAPER_CNN_HPARAMS",
    "RAW_CNN_HPARAMS",
    "SERIES_BUILDERS",
    "TEST_HPARAMS",
    "InceptionFilters",
    "build_compact_cnn",
    "build_inception",
    "build_model",
    "build_paper_cnn",
    "build_raw_cnn",
    "build_tcnn",
    "conv_relu",
    "count_flops",
    "count_params",
    "default_input_shape",
    "get_builder",
    "inception_block",
]

#: The single registry of model builders, keyed by the name the CLI and configs use. Every
#: builder has the signature ``(input_shape, n_classes, **hparams) -> keras.Model`` (uncompiled).
MODEL_BUILDERS: dict[str, Callable[..., keras.Model]] = {
    "paper_cnn": build_paper_cnn,
    "tcnn": build_tcnn,
    "inception": build_inception,
    # Beyond the paper: the improved preset's network.
    "compact_cnn": build_compact_cnn,
}

#: Beyond the paper: builders of networks that read raw signal windows ``(1, n_timepoints,
#: n_channels)`` (``PrepareParams(representation="raw")``), not images. Kept apart from
#: :data:`MODEL_BUILDERS`, whose contract is an image input ``(32, 64, N_l)``.
SERIES_BUILDERS: dict[str, Callable[..., keras.Model]] = {"raw_cnn": build_raw_cnn}


def get_builder(name: str) -> Callable[..., keras.Model]:
    """The builder called ``name`` in :data:`MODEL_BUILDERS` or :data:`SERIES_BUILDERS`."""
    builders = {**MODEL_BUILDERS, **SERIES_BUILDERS}
    if name not in builders:
        raise ValueError(f"Unknown model {name!r}; expected one of {sorted(builders)}")
    return builders[name]


#: Tiny test configuration of every registered builder (keyword arguments, ``input_shape`` and
#: ``n_classes`` included), taken from each builder module's ``TEST_HPARAMS``.
TEST_HPARAMS: dict[str, dict] = {
    "paper_cnn": paper_cnn.TEST_HPARAMS,
    "tcnn": tcnn.TEST_HPARAMS,
    "inception": inception.TEST_HPARAMS,
    "compact_cnn": compact_cnn.TEST_HPARAMS,
}


def default_input_shape(model_name: str, n_channels: int) -> tuple[int, int, int]:
    """Return the input shape the paper uses for ``model_name`` with ``n_channels`` sensors.

    Every registered model reads AE-GDIs (or GDIs): ``(IMAGE_HEIGHT, IMAGE_WIDTH, n_channels)``
    = ``(32, 64, N_l)``. The TCNN too: the paper treats the AE-GDI as a multi-variate time
    series for Method 3.

    Parameters
    ----------
    model_name : str
        A key of :data:`MODEL_BUILDERS`.
    n_channels : int
        N_l, the number of image channels (1: acceleration; 2: acceleration and gyroscope).

    Returns
    -------
    tuple of int
        (height, width, channels).

    Raises
    ------
    ValueError
        If ``model_name`` is not registered or ``n_channels`` is not positive.
    """
    if model_name not in MODEL_BUILDERS:
        raise ValueError(
            f"Unknown model_name={model_name!r}; expected one of {sorted(MODEL_BUILDERS)}"
        )
    if not isinstance(n_channels, int) or n_channels < 1:
        raise ValueError(f"n_channels must be a positive int. Received: n_channels={n_channels!r}")
    return (IMAGE_HEIGHT, IMAGE_WIDTH, n_channels)


def build_model(model_name: str, input_shape, n_classes: int, **hparams) -> keras.Model:
    """Build a registered model by name: ``MODEL_BUILDERS[model_name](input_shape, ...)``.

    Parameters
    ----------
    model_name : str
        A key of :data:`MODEL_BUILDERS`.
    input_shape : tuple of int
        (height, width, channels).
    n_classes : int
        Outputs of the softmax layer.
    **hparams
        Keyword arguments of the builder.

    Returns
    -------
    keras.Model
        Uncompiled.

    Raises
    ------
    ValueError
        If ``model_name`` is not registered.
    """
    if model_name not in MODEL_BUILDERS:
        raise ValueError(
            f"Unknown model_name={model_name!r}; expected one of {sorted(MODEL_BUILDERS)}"
        )
    return MODEL_BUILDERS[model_name](input_shape, n_classes, **hparams)
