"""A compact CNN for AE-GDIs (beyond the paper): batch-normalised conv blocks, global pooling.

# Paper deviation: the improved preset's network. The paper CNN spends ~2.1 M of its ~2.2 M
# weights on one dense layer over the flattened 5 x 13 x 64 feature map (4,160 x 512), which
# ties every feature to an absolute image position. Dense AE-GDIs start at any gait phase, so
# the useful features can sit at any column: averaging them over the image (global average
# pooling) is translation-invariant and removes that layer. Batch normalisation lets the
# short, cosine-decayed schedule of the improved preset train from orthogonal init.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from gaitcnn.models._blocks import SeedSequence

__all__ = ["COMPACT_CNN_HPARAMS", "TEST_HPARAMS", "build_compact_cnn"]

#: Defaults of :func:`build_compact_cnn` (the improved preset's network).
COMPACT_CNN_HPARAMS = {
    "conv_filters": (16, 32, 64, 128),
    "dropout_rate": 0.3,
    "pooling": "global",
}

#: Tiny configuration for the registry contract tests.
TEST_HPARAMS = {
    "input_shape": (8, 16, 2),
    "n_classes": 3,
    "conv_filters": (4, 8),
    "dropout_rate": 0.3,
    "pooling": "global",
    "seed": 0,
}

_POOLINGS = ("global", "time")


def conv_bn_relu(x, filters: int, *, name: str, seeds: SeedSequence):
    """3x3 'same' convolution (no bias) - batch normalisation - ReLU (Keras ``conv2d_bn``).

    Parameters
    ----------
    x : KerasTensor, shape (batch, height, width, in_channels)
    filters : int
        Output feature maps.
    name : str
        Prefix of the layer names ``{name}_conv``, ``{name}_bn``, ``{name}_relu``.
    seeds : SeedSequence
        Source of the kernel-initializer seed (orthogonal, gain 1).

    Returns
    -------
    KerasTensor, shape (batch, height, width, filters)
    """
    x = layers.Conv2D(
        filters,
        (3, 3),
        padding="same",
        use_bias=False,
        kernel_initializer=seeds.orthogonal(),
        name=f"{name}_conv",
    )(x)
    # Momentum 0.9 (Keras: 0.99): the moving statistics must settle within the few hundred
    # steps of a short run (an authentication classifier trains ~60 steps).
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def build_compact_cnn(
    input_shape: Sequence[int] = (32, 64, 1),
    n_classes: int = 2,
    *,
    conv_filters: Sequence[int] = COMPACT_CNN_HPARAMS["conv_filters"],
    dropout_rate: float = COMPACT_CNN_HPARAMS["dropout_rate"],
    pooling: str = COMPACT_CNN_HPARAMS["pooling"],
    seed: int | None = None,
    name: str = "compact_cnn",
) -> keras.Model:
    """Build the compact CNN: [conv-BN-ReLU, 2x2 max-pool] blocks, global pooling, softmax.

    block1 .. blockN (3x3 'same' conv without bias, batch norm, ReLU; a 2x2 max-pool after
    every block but the last) - average pooling - dropout - dense softmax. Orthogonal kernel
    initialisation (as the paper CNN), seeded per layer. Exports to TFLite (only builtin ops).

    Parameters
    ----------
    input_shape : tuple of int, default=(32, 64, 1)
        (height, width, channels): AE-GDI delays, time samples, image channels.
    n_classes : int, default=2
        Width of the softmax layer.
    conv_filters : sequence of int, default=(16, 32, 64, 128)
        Feature maps of each block; its length is the number of blocks.
    dropout_rate : float, default=0.3
        Fraction dropped before the softmax layer (training only).
    pooling : str, default="global"
        ``"global"``: average over rows and columns (translation-invariant in time, delays
        mixed); ``"time"``: average over columns only, rows (delays) kept and flattened.
    seed : int or None, default=None
        Base seed of the initializers (layer k uses ``seed + k``); ``None`` draws from Keras's
        global generator.
    name : str, default="compact_cnn"
        Model name.

    Returns
    -------
    keras.Model
        Uncompiled Functional model; output ``(batch, n_classes)`` softmax probabilities.

    Raises
    ------
    ValueError
        If an argument is out of range or the input is too small for the poolings.

    Notes
    -----
    Parameters (biases and batch-norm statistics included) and multiply-adds per example,
    default configuration:

    ========  =========  ==========  =============
    channels  n_classes  parameters  multiply-adds
    ========  =========  ==========  =============
    1         2               98,130      7,373,056
    2         2               98,274      7,667,968
    1         744            193,848      7,468,032
    2         744            193,992      7,762,944
    ========  =========  ==========  =============
    """
    shape = tuple(input_shape)
    if len(shape) != 3 or not all(isinstance(d, int) and d > 0 for d in shape):
        raise ValueError(
            "input_shape must be (height, width, channels) of positive ints. "
            f"Received: input_shape={input_shape!r}"
        )
    if not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes must be an int >= 2. Received: n_classes={n_classes!r}")
    widths = tuple(conv_filters)
    if not widths or not all(isinstance(w, int) and w > 0 for w in widths):
        raise ValueError(f"conv_filters must be positive ints. Received: {conv_filters!r}")
    if not 0.0 <= dropout_rate < 1.0:
        raise ValueError(f"dropout_rate must be in [0, 1). Received: dropout_rate={dropout_rate!r}")
    if pooling not in _POOLINGS:
        raise ValueError(f"pooling must be one of {_POOLINGS}. Received: pooling={pooling!r}")
    n_pools = len(widths) - 1
    if min(shape[:2]) < 2**n_pools:
        raise ValueError(
            f"input {shape[0]}x{shape[1]} is too small for {n_pools} 2x2 poolings "
            f"({len(widths)} blocks)"
        )
    seeds = SeedSequence(seed)

    inputs = keras.Input(shape=shape, name="input")
    x = inputs
    for index, width in enumerate(widths, start=1):
        x = conv_bn_relu(x, width, name=f"block{index}", seeds=seeds)
        if index < len(widths):
            x = layers.MaxPooling2D((2, 2), name=f"block{index}_pool")(x)
    if pooling == "global":
        x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    else:
        # Mean over the time axis (columns) only; rows = delays keep their position.
        x = layers.AveragePooling2D((1, x.shape[2]), name="time_pool")(x)
        x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout_rate, name="dropout")(x)
    outputs = layers.Dense(
        n_classes, activation="softmax", kernel_initializer=seeds.orthogonal(), name="softmax",
        dtype="float32",  # whatever the global dtype policy: probabilities are fused
    )(x)  # fmt: skip
    return keras.Model(inputs, outputs, name=name)
