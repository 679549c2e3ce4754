"""Stage 7: the network builders (Keras Functional) and their registry.

Importing this package imports Keras and TensorFlow. It never imports tflearn: the tflearn
builder lives in :mod:`gaitcnn.models.tflearn_cnn`, which must run in its own process
(importing tflearn switches the process to TF1 graph mode, irreversibly).
"""

from __future__ import annotations

from collections.abc import Callable

import keras

from gaitcnn.constants import IMAGE_HEIGHT, IMAGE_WIDTH
from gaitcnn.models import compact_cnn, embedding, inception, paper_cnn, raw_cnn, tcnn
from gaitcnn.models._blocks import InceptionFilters, conv_relu, inception_block
from gaitcnn.models._flops import count_flops, count_params
from gaitcnn.models.compact_cnn import COMPACT_CNN_HPARAMS, build_compact_cnn
from gaitcnn.models.inception import INCEPTION_STAGES, build_inception
from gaitcnn.models.paper_cnn import PAPER_CNN_HPARAMS, build_paper_cnn
from gaitcnn.models.raw_cnn import RAW_CNN_HPARAMS, build_raw_cnn
from gaitcnn.models.tcnn import build_tcnn
from gaitcnn.registry import NETWORKS

__all__ = [
    "COMPACT_CNN_HPARAMS",
    "INCEPTION_STAGES",
    "MODEL_BUILDERS",
    "PAPER_CNN_HPARAMS",
    "RAW_CNN_HPARAMS",
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

#: Every builder, keyed by the name configs and the command line use: a view of
#: :data:`gaitcnn.registry.NETWORKS` (which also records each network's input kind). Every
#: builder has the signature ``(input_shape, n_classes, **hparams) -> keras.Model`` (uncompiled).
MODEL_BUILDERS: dict[str, Callable[..., keras.Model]] = {
    name: spec.load() for name, spec in NETWORKS.items()
}


def get_builder(name: str) -> Callable[..., keras.Model]:
    """The builder called ``name`` in :data:`MODEL_BUILDERS`."""
    if name not in MODEL_BUILDERS:
        raise ValueError(f"Unknown model {name!r}; expected one of {sorted(MODEL_BUILDERS)}")
    return MODEL_BUILDERS[name]


#: Tiny test configuration of every registered builder (keyword arguments, ``input_shape`` and
#: ``n_classes`` included), taken from each builder module's ``TEST_HPARAMS``.
TEST_HPARAMS: dict[str, dict] = {
    "paper_cnn": paper_cnn.TEST_HPARAMS,
    "tcnn": tcnn.TEST_HPARAMS,
    "inception": inception.TEST_HPARAMS,
    "compact_cnn": compact_cnn.TEST_HPARAMS,
    "raw_cnn": raw_cnn.TEST_HPARAMS,
    "embedding_cnn": embedding.CLASSIFIER_TEST_HPARAMS,
}


def default_input_shape(model_name: str, n_channels: int, width: int = IMAGE_WIDTH) -> tuple:
    """Return the input shape ``model_name`` reads with ``n_channels`` channels.

    Image networks read AE-GDIs (or GDIs), ``(IMAGE_HEIGHT, IMAGE_WIDTH, n_channels)`` = ``(32,
    64, N_l)`` - the TCNN too: the paper treats the AE-GDI as a multi-variate time series for
    Method 3. Series networks read raw windows ``(1, width, n_channels)``.

    Parameters
    ----------
    model_name : str
        A key of :data:`MODEL_BUILDERS`.
    n_channels : int
        Image channels N_l (1: acceleration; 2: acceleration and gyroscope), or signal channels.
    width : int, default=64
        Window length in samples (series networks).

    Returns
    -------
    tuple of int

    Raises
    ------
    ValueError
        If ``model_name`` is not registered or ``n_channels`` is not positive.
    """
    if model_name not in NETWORKS:
        raise ValueError(f"Unknown model_name={model_name!r}; expected one of {sorted(NETWORKS)}")
    if not isinstance(n_channels, int) or n_channels < 1:
        raise ValueError(f"n_channels must be a positive int. Received: n_channels={n_channels!r}")
    if NETWORKS[model_name].input_kind == "series":
        return (1, width, n_channels)
    return (IMAGE_HEIGHT, IMAGE_WIDTH, n_channels)


def build_model(model_name: str, input_shape, n_classes: int, **hparams) -> keras.Model:
    """Build a registered model by name: ``MODEL_BUILDERS[model_name](input_shape, ...)``.

    Raises
    ------
    ValueError
        If ``model_name`` is not registered.
    """
    return get_builder(model_name)(input_shape, n_classes, **hparams)
