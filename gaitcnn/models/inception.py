"""Inception ablation: the paper CNN with conv2/conv3 replaced by GoogLeNet Inception modules."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from gaitcnn.models._blocks import (
    InceptionFilters,
    SeedSequence,
    classifier_head,
    conv_relu,
    inception_block,
    validate_common,
)
from gaitcnn.models.paper_cnn import PAPER_CNN_HPARAMS

__all__ = ["INCEPTION_STAGES", "TEST_HPARAMS", "build_inception"]

#: Inception modules that replace conv2 and conv3, in order: (block name, branch widths).
#: Reconstruction (design card, not in the paper): GoogLeNet's inception (3a) and (3b) widths
#: divided by 4 - 3a (64, 96, 128, 16, 32, 32), 3b (128, 128, 192, 32, 96, 64). With 'same'
#: padding the modules keep mp1's 15x31 map, and these widths put the whole network's
#: multiply-adds at 1.10x the paper CNN's (22.6 M vs 20.6 M, one channel, N_o = 2).
INCEPTION_STAGES: tuple[tuple[str, InceptionFilters], ...] = (
    ("2a", InceptionFilters(16, 24, 32, 4, 8, 8)),  # 64 channels out
    ("2b", InceptionFilters(32, 32, 48, 8, 24, 16)),  # 120 channels out
)

#: Tiny configuration for the registry contract tests.
TEST_HPARAMS = {
    "input_shape": (12, 16, 1),
    "n_classes": 3,
    "conv1_filters": 4,
    "stages": (
        ("2a", InceptionFilters(2, 2, 4, 1, 2, 2)),
        ("2b", InceptionFilters(2, 2, 4, 1, 2, 2)),
    ),
    "fl1_units": 16,
    "dropout_rate": 0.5,
    "seed": 0,
}


def build_inception(
    input_shape: Sequence[int] = (32, 64, 1),
    n_classes: int = 2,
    *,
    conv1_filters: int = PAPER_CNN_HPARAMS["conv_filters"][0],
    stages: Sequence[tuple[str, InceptionFilters]] = INCEPTION_STAGES,
    fl1_units: int = PAPER_CNN_HPARAMS["fl1_units"],
    dropout_rate: float = PAPER_CNN_HPARAMS["dropout_rate"],
    seed: int | None = None,
    name: str = "inception",
) -> keras.Model:
    """Build the Inception ablation of the paper CNN (design card; GoogLeNet, Szegedy 2015).

    conv1 (3x3 valid, ReLU) - mp1 (2x2/2) - one Inception module per entry of ``stages``
    (by default 2a, 2b, in place of conv2, conv3) - mp2 (2x2/2) - dropout - fl1 (ReLU) -
    dropout - fl2 (softmax). Each module has parallel 1x1, 1x1->3x3, 1x1->5x5 and 3x3
    max-pool->1x1 branches with ReLU after every convolution, concatenated along channels.
    Orthogonal kernel initialisation and zero biases as in the paper CNN.

    Paper deviation: the modules use 'same' padding (branches must agree in size to be
    concatenated), so mp2 pools a 15x31 map to 7x15, where the paper CNN's valid conv2/conv3
    give 11x27 -> 5x13.

    Parameters
    ----------
    input_shape : tuple of int, default=(32, 64, 1)
        (height, width, channels) of the AE-GDI, as in :func:`build_paper_cnn`.
    n_classes : int, default=2
        N_o, the number of outputs of fl2.
    conv1_filters : int, default=32
        Feature maps of conv1, as in the paper CNN.
    stages : sequence of (str, InceptionFilters), default=INCEPTION_STAGES
        The Inception modules, in order: block name (layers are ``inception_<name>_*``) and
        branch widths. At least one.
    fl1_units : int, default=512
        Width of fl1.
    dropout_rate : float, default=0.5
        Fraction of units dropped before fl1 and before fl2, training only.
    seed : int or None, default=None
        Base seed of the orthogonal initializers (layer k uses ``seed + k``).
    name : str, default="inception"
        Model name.

    Returns
    -------
    keras.Model
        Uncompiled Functional model. Input ``(batch, *input_shape)``; output
        ``(batch, n_classes)`` softmax probabilities.

    Raises
    ------
    ValueError
        If an argument is out of range, block names repeat, or the input is too small.

    Notes
    -----
    Feature maps of the default configuration (H x W x C)::

        input 32x64x1 -> conv1 30x62x32 -> mp1 15x31x32 -> inception_2a 15x31x64
        -> inception_2b 15x31x120 -> mp2 7x15x120 -> flatten 12600 -> fl1 512 -> fl2 n_classes

    Parameters (biases included, :func:`gaitcnn.models.count_params`) and multiply-adds per
    example (conv and dense layers, :func:`gaitcnn.models.count_flops`), default configuration:

    ========  =========  ==========  =============
    channels  n_classes  parameters  multiply-adds
    ========  =========  ==========  =============
    1         2           6,486,942     22,626,784
    2         2           6,487,230     23,162,464
    1         744         6,867,588     23,006,688
    2         744         6,867,876     23,542,368
    ========  =========  ==========  =============
    """
    shape = validate_common(input_shape, n_classes, fl1_units, dropout_rate)
    if not isinstance(conv1_filters, int) or conv1_filters < 1:
        raise ValueError(
            f"conv1_filters must be a positive int. Received: conv1_filters={conv1_filters!r}"
        )
    stages = tuple(stages)
    block_names = [block_name for block_name, _ in stages]
    if not stages or len(set(block_names)) != len(block_names):
        raise ValueError(
            f"stages must be a non-empty sequence with unique block names. Received: {block_names}"
        )
    height, width = (shape[0] - 2) // 2 // 2, (shape[1] - 2) // 2 // 2
    if min(height, width) < 1:
        raise ValueError(
            f"{name}: input_shape={shape} is too small for conv1 (3x3 valid) and two 2x2 "
            "poolings; it must be at least 6x6."
        )
    seeds = SeedSequence(seed)

    inputs = keras.Input(shape=shape, name="input")
    x = conv_relu(inputs, conv1_filters, (3, 3), name="conv1", seeds=seeds)
    x = layers.MaxPooling2D((2, 2), strides=2, padding="valid", name="mp1")(x)
    for block_name, filters in stages:
        x = inception_block(
            x, InceptionFilters(*filters), name=f"inception_{block_name}", seeds=seeds
        )
    x = layers.MaxPooling2D((2, 2), strides=2, padding="valid", name="mp2")(x)
    outputs = classifier_head(
        x, n_classes, fl1_units=fl1_units, dropout_rate=dropout_rate, seeds=seeds
    )
    return keras.Model(inputs, outputs, name=name)
