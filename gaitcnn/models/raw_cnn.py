"""A small 1-D CNN on dense raw IMU windows (beyond the paper, issue 9).

# Paper deviation: Zhao & Zhou 2017 classify AE-GDIs, which are rotation- and scale-invariant
# and so discard the amplitude and orientation that identify a walker on a waist-fixed IMU, and
# give only ~2.5 images per short walk. This network reads 1.28 s windows of the resampled axes
# and magnitudes (``ax, ay, az, gx, gy, gz, |a|, |w|``, see :mod:`gaitcnn.rawwindows`) cut every
# few samples, so a ~6 s gallery walk gives ~60 training examples. Per-channel statistics of the
# training windows live in the model's first layer, so exports take unscaled windows.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import layers

from gaitcnn.models._blocks import SeedSequence

__all__ = ["RAW_CNN_HPARAMS", "TEST_HPARAMS", "build_raw_cnn", "raw_cnn_trunk"]

#: Defaults of :func:`build_raw_cnn` (the network measured in the issue 9 prototype).
RAW_CNN_HPARAMS = {
    "filters": (32, 64, 128, 128),
    "kernel_size": 5,
    # Max-pool (2) after each of the first n blocks: 64 -> 16 time steps before pooling.
    "n_pooled_blocks": 2,
    "dropout_rate": 0.3,
}

#: Tiny configuration for the registry contract tests.
TEST_HPARAMS = {
    "input_shape": (16, 8),
    "n_classes": 3,
    "filters": (4, 8),
    "kernel_size": 3,
    "n_pooled_blocks": 1,
    "dropout_rate": 0.3,
    "seed": 0,
}


def conv1d_bn_relu(x, filters: int, kernel_size: int, *, name: str, seeds: SeedSequence):
    """'same' 1-D convolution (no bias) - batch normalisation - ReLU.

    Parameters
    ----------
    x : KerasTensor, shape (batch, n_timepoints, in_channels)
    filters : int
        Output channels.
    kernel_size : int
        Kernel length in samples.
    name : str
        Prefix of the layer names ``{name}_conv``, ``{name}_bn``, ``{name}_relu``.
    seeds : SeedSequence
        Source of the kernel-initializer seed (Glorot uniform, the Keras default).

    Returns
    -------
    KerasTensor, shape (batch, n_timepoints, filters)
    """
    x = layers.Conv1D(
        filters,
        kernel_size,
        padding="same",
        use_bias=False,
        kernel_initializer=keras.initializers.GlorotUniform(seed=next(seeds)),
        name=f"{name}_conv",
    )(x)
    # Momentum 0.9 (Keras: 0.99): the moving statistics settle within a short run.
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def _channel_vector(value, n_channels: int, name: str, default: float) -> list[float]:
    if value is None:
        return [default] * n_channels
    vector = np.asarray(value, dtype=np.float64).reshape(-1)
    if vector.size != n_channels or not np.all(np.isfinite(vector)):
        raise ValueError(
            f"{name} must hold {n_channels} finite values (one per channel). "
            f"Received: {name}={value!r}"
        )
    return [float(v) for v in vector]


def build_raw_cnn(
    input_shape: Sequence[int] = (64, 8),
    n_classes: int = 2,
    *,
    filters: Sequence[int] = RAW_CNN_HPARAMS["filters"],
    kernel_size: int = RAW_CNN_HPARAMS["kernel_size"],
    n_pooled_blocks: int = RAW_CNN_HPARAMS["n_pooled_blocks"],
    dropout_rate: float = RAW_CNN_HPARAMS["dropout_rate"],
    channel_mean: Sequence[float] | np.ndarray | None = None,
    channel_sd: Sequence[float] | np.ndarray | None = None,
    seed: int | None = None,
    name: str = "raw_cnn",
) -> keras.Model:
    """Build the raw-window CNN: normalisation, [conv1d-BN-ReLU (max-pool)] blocks, GAP, softmax.

    input - per-channel ``(x - mean) / sd`` (a fixed ``Normalization`` layer) - block1 ..
    blockN (``kernel_size`` 'same' 1-D conv without bias, batch norm, ReLU; a max-pool of 2 after
    each of the first ``n_pooled_blocks`` blocks) - global average pooling over time - dropout -
    dense softmax. Only builtin layers (no ``Lambda``): loads in Keras safe mode and exports to
    TFLite with builtin ops.

    Parameters
    ----------
    input_shape : tuple of int, default=(64, 8)
        (n_timepoints, n_channels): window samples and signal channels
        (:func:`gaitcnn.rawwindows.raw_channels`).
    n_classes : int, default=2
        Width of the softmax layer.
    filters : sequence of int, default=(32, 64, 128, 128)
        Output channels of each block; its length is the number of blocks.
    kernel_size : int, default=5
        Convolution length in samples (5 samples = 0.1 s at 50 Hz).
    n_pooled_blocks : int, default=2
        Blocks followed by a max-pool of 2 (from the first; at most ``len(filters)``).
    dropout_rate : float, default=0.3
        Fraction dropped before the softmax layer (training only).
    channel_mean : array-like of shape (n_channels,), optional
        Per-channel mean of the training windows (:func:`gaitcnn.rawwindows.channel_stats`),
        stored in the model (layer ``normalization``), so the model takes unscaled windows.
        Default: 0 (the caller scales the windows itself).
    channel_sd : array-like of shape (n_channels,), optional
        Per-channel standard deviation of the training windows, stored likewise. Default: 1.
    seed : int or None, default=None
        Base seed of the initializers (layer k uses ``seed + k``); ``None`` draws from Keras's
        global generator.
    name : str, default="raw_cnn"
        Model name.

    Returns
    -------
    keras.Model
        Uncompiled Functional model; input ``(batch, n_timepoints, n_channels)`` unscaled
        windows, output ``(batch, n_classes)`` softmax probabilities.

    Raises
    ------
    ValueError
        If an argument is out of range or the window is too short for the poolings.

    Notes
    -----
    Parameters (biases and batch-norm statistics included), default
    configuration, 8 channels: 148,708 for 100 classes; 231,784 for 744 classes (the
    normalisation statistics are layer configuration, not weights).
    """
    if not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes must be an int >= 2. Received: n_classes={n_classes!r}")
    if not 0.0 <= dropout_rate < 1.0:
        raise ValueError(f"dropout_rate must be in [0, 1). Received: dropout_rate={dropout_rate!r}")
    inputs, x, seeds = raw_cnn_trunk(
        input_shape,
        filters=filters,
        kernel_size=kernel_size,
        n_pooled_blocks=n_pooled_blocks,
        channel_mean=channel_mean,
        channel_sd=channel_sd,
        seed=seed,
    )
    x = layers.Dropout(dropout_rate, name="dropout")(x)
    outputs = layers.Dense(
        n_classes,
        activation="softmax",
        kernel_initializer=keras.initializers.GlorotUniform(seed=next(seeds)),
        name="softmax",
        dtype="float32",  # whatever the global dtype policy: probabilities are fused
    )(x)
    return keras.Model(inputs, outputs, name=name)


def raw_cnn_trunk(
    input_shape: Sequence[int],
    *,
    filters: Sequence[int] = RAW_CNN_HPARAMS["filters"],
    kernel_size: int = RAW_CNN_HPARAMS["kernel_size"],
    n_pooled_blocks: int = RAW_CNN_HPARAMS["n_pooled_blocks"],
    channel_mean: Sequence[float] | np.ndarray | None = None,
    channel_sd: Sequence[float] | np.ndarray | None = None,
    seed: int | None = None,
):
    """Input, fixed normalisation, [conv1d-BN-ReLU (max-pool)] blocks and global pooling.

    The shared trunk of :func:`build_raw_cnn` and
    :func:`gaitcnn.models.embedding.build_embedding_cnn`; the parameters are theirs.

    Returns
    -------
    inputs : KerasTensor, shape (batch, *input_shape)
    features : KerasTensor, shape (batch, filters[-1])
        Output of layer ``global_pool``.
    seeds : SeedSequence
        The initializer seeds, positioned after the trunk's layers (for the head).

    Raises
    ------
    ValueError
        If an argument is out of range or the window is too short for the poolings.
    """
    full_shape = tuple(input_shape)
    # A cached raw window (gaitcnn.prepare, representation="raw") is (1, n_timepoints, C).
    shape = full_shape[1:] if len(full_shape) == 3 and full_shape[0] == 1 else full_shape
    if len(shape) != 2 or not all(isinstance(d, int) and d > 0 for d in shape):
        raise ValueError(
            "input_shape must be (n_timepoints, n_channels) or (1, n_timepoints, n_channels) "
            f"of positive ints. Received: input_shape={input_shape!r}"
        )
    widths = tuple(filters)
    if not widths or not all(isinstance(w, int) and w > 0 for w in widths):
        raise ValueError(f"filters must be positive ints. Received: filters={filters!r}")
    if not isinstance(kernel_size, int) or kernel_size < 1:
        raise ValueError(f"kernel_size must be an int >= 1. Received: kernel_size={kernel_size!r}")
    if not isinstance(n_pooled_blocks, int) or not 0 <= n_pooled_blocks <= len(widths):
        raise ValueError(
            f"n_pooled_blocks must be an int in [0, {len(widths)}]. "
            f"Received: n_pooled_blocks={n_pooled_blocks!r}"
        )
    if shape[0] < 2**n_pooled_blocks:
        raise ValueError(f"{shape[0]} time steps are too few for {n_pooled_blocks} max-pools of 2")
    n_channels = shape[1]
    mean = _channel_vector(channel_mean, n_channels, "channel_mean", 0.0)
    sd = _channel_vector(channel_sd, n_channels, "channel_sd", 1.0)
    if min(sd) <= 0.0:
        raise ValueError(f"channel_sd must be positive. Received: channel_sd={channel_sd!r}")
    seeds = SeedSequence(seed)

    inputs = keras.Input(shape=full_shape, name="input")
    x = inputs if full_shape == shape else layers.Reshape(shape, name="to_series")(inputs)
    # Fixed statistics (not adapted): stored in the layer config, hence in every export.
    x = layers.Normalization(
        axis=-1, mean=mean, variance=[s * s for s in sd], name="normalization"
    )(x)
    for index, width in enumerate(widths, start=1):
        x = conv1d_bn_relu(x, width, kernel_size, name=f"block{index}", seeds=seeds)
        if index <= n_pooled_blocks:
            x = layers.MaxPooling1D(2, name=f"block{index}_pool")(x)
    x = layers.GlobalAveragePooling1D(name="global_pool")(x)
    return inputs, x, seeds
