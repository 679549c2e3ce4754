"""The paper's 7-layer CNN (Zhao & Zhou 2017, Figure 1) as a Keras Functional builder."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from gaitcnn.models._blocks import SeedSequence, classifier_head, conv_relu, validate_common

__all__ = ["PAPER_CNN_HPARAMS", "TEST_HPARAMS", "build_paper_cnn"]

#: The paper CNN's hyperparameters (Figure 1). dropout_rate is [P]; the widths are not.
# Reconstruction: conv widths and fl1 were only in the lost Figure 1; we take tflearn's CIFAR-10
# example widths, whose 7-layer topology and optimiser match the paper (RECONSTRUCTION 1.6).
PAPER_CNN_HPARAMS = {
    "conv_filters": (32, 64, 64),
    "n_conv": 3,
    "fl1_units": 512,
    "dropout_rate": 0.5,
}

#: Tiny configuration for the registry contract tests (builds in well under a second).
TEST_HPARAMS = {
    "input_shape": (14, 18, 1),
    "n_classes": 3,
    "conv_filters": (4, 8, 8),
    "n_conv": 3,
    "fl1_units": 16,
    "dropout_rate": 0.5,
    "seed": 0,
}

#: Largest N_conv of the Figure 9 sweep.
MAX_N_CONV = 4


def _conv_widths(conv_filters: Sequence[int], n_conv: int) -> tuple[int, ...]:
    """Widths of conv1..conv{n_conv}: ``conv_filters`` truncated, or padded with its last value."""
    widths = tuple(conv_filters)
    if not widths or not all(isinstance(w, int) and w > 0 for w in widths):
        raise ValueError(
            f"conv_filters must be a non-empty sequence of positive ints. "
            f"Received: conv_filters={conv_filters!r}"
        )
    if not isinstance(n_conv, int) or not 1 <= n_conv <= MAX_N_CONV:
        raise ValueError(f"n_conv must be an int in 1..{MAX_N_CONV}. Received: n_conv={n_conv!r}")
    return (widths + (widths[-1],) * n_conv)[:n_conv]


def build_conv_stack(
    input_shape: Sequence[int],
    n_classes: int,
    *,
    conv_filters: Sequence[int],
    n_conv: int,
    fl1_units: int,
    dropout_rate: float,
    kernel_size: tuple[int, int],
    pool_size: tuple[int, int],
    seed: int | None,
    name: str,
) -> keras.Model:
    """Build conv1-mp1-conv2..conv{n_conv}-mp2-fl1-fl2 with any kernel and pooling window.

    Shared by :func:`build_paper_cnn` (3x3 kernels, 2x2 pooling) and
    :func:`gaitcnn.models.tcnn.build_tcnn` (1x3 kernels, 1x2 pooling). Layer names are fixed
    (``conv1``..``conv4``, ``mp1``, ``mp2``, ``fl1``, ``fl2``); they are the tflearn scope names
    used by the weight transfer.

    Parameters
    ----------
    input_shape, n_classes, conv_filters, n_conv, fl1_units, dropout_rate, seed, name
        As in :func:`build_paper_cnn`.
    kernel_size : tuple of int
        Convolution window (rows, columns), stride 1, 'valid' padding.
    pool_size : tuple of int
        Max-pooling window, stride equal to the window, 'valid' padding.

    Returns
    -------
    keras.Model
        Uncompiled; output ``(batch, n_classes)`` softmax probabilities.

    Raises
    ------
    ValueError
        If an argument is out of range, or the input is too small for the valid convolutions
        and poolings (the message lists the feature-map sizes).
    """
    shape = validate_common(input_shape, n_classes, fl1_units, dropout_rate)
    widths = _conv_widths(conv_filters, n_conv)
    _check_spatial_sizes(shape[:2], n_conv, kernel_size, pool_size, name)
    seeds = SeedSequence(seed)

    inputs = keras.Input(shape=shape, name="input")
    # [P] 3x3 (TCNN: 1x3) convolutions, stride 1, no zero padding, ReLU.
    x = conv_relu(inputs, widths[0], kernel_size, name="conv1", seeds=seeds)
    # [P] 2x2 (TCNN: 1x2) max pooling, stride equal to the window. Reconstruction: 'valid'
    # pooling (floor), so an odd size such as 31 pools to 15.
    x = layers.MaxPooling2D(pool_size, strides=pool_size, padding="valid", name="mp1")(x)
    if n_conv > 1:
        for index, width in enumerate(widths[1:], start=2):
            x = conv_relu(x, width, kernel_size, name=f"conv{index}", seeds=seeds)
        x = layers.MaxPooling2D(pool_size, strides=pool_size, padding="valid", name="mp2")(x)
    # else: [P] Figure 9, N_conv = 1 has no mp2 (conv1-mp1 straight into fl1).
    outputs = classifier_head(
        x, n_classes, fl1_units=fl1_units, dropout_rate=dropout_rate, seeds=seeds
    )
    return keras.Model(inputs, outputs, name=name)


def _check_spatial_sizes(
    size: tuple[int, int],
    n_conv: int,
    kernel_size: tuple[int, int],
    pool_size: tuple[int, int],
    name: str,
) -> None:
    """Raise a ValueError listing the feature-map sizes if any of them becomes empty."""
    trace = [size]
    steps = ["conv", "pool"] + (["conv"] * (n_conv - 1) + ["pool"] if n_conv > 1 else [])
    for step in steps:
        if step == "conv":
            size = (size[0] - kernel_size[0] + 1, size[1] - kernel_size[1] + 1)
        else:
            size = (size[0] // pool_size[0], size[1] // pool_size[1])
        trace.append(size)
        if min(size) < 1:
            sizes = " -> ".join(f"{h}x{w}" for h, w in trace)
            raise ValueError(
                f"{name}: input too small for {n_conv} valid convolutions of {kernel_size} and "
                f"poolings of {pool_size}; feature maps: {sizes}"
            )


def build_paper_cnn(
    input_shape: Sequence[int] = (32, 64, 1),
    n_classes: int = 2,
    *,
    conv_filters: Sequence[int] = PAPER_CNN_HPARAMS["conv_filters"],
    n_conv: int = PAPER_CNN_HPARAMS["n_conv"],
    fl1_units: int = PAPER_CNN_HPARAMS["fl1_units"],
    dropout_rate: float = PAPER_CNN_HPARAMS["dropout_rate"],
    seed: int | None = None,
    name: str = "paper_cnn",
) -> keras.Model:
    """Build the paper's CNN for AE-GDIs (Zhao & Zhou 2017, section 3.3, Figure 1).

    conv1 (3x3 valid, ReLU) - mp1 (2x2/2) - conv2 - conv3 - mp2 - dropout - fl1 (ReLU) -
    dropout - fl2 (softmax). Orthogonal kernel initialisation, zero biases. Returned
    uncompiled; ``gaitcnn.train.compile_model`` adds Adam (lr 0.001) and cross-entropy.

    Parameters
    ----------
    input_shape : tuple of int, default=(32, 64, 1)
        (height, width, channels) = (N_h delays, N_w samples, N_l sensors): one channel per
        sensor, 1 on McGill (acceleration), 2 on OU-ISIR (acceleration and gyroscope).
    n_classes : int, default=2
        N_o: 2 for authentication, the number of subjects for labelling.
    conv_filters : sequence of int, default=(32, 64, 64)
        Feature maps of conv1, conv2, conv3, ... Truncated to ``n_conv``; convolutions beyond
        its length repeat its last value. Reconstruction: the paper's widths were lost.
    n_conv : int, default=3
        Convolution layers up to mp2, 1..4 (paper Figure 9). 1: conv1-mp1, no mp2;
        2: conv1-mp1-conv2-mp2; 3: the paper network; 4: adds conv4 before mp2.
    fl1_units : int, default=512
        Width of fl1. Reconstruction: lost with Figure 1; swept in Figure 9.
    dropout_rate : float, default=0.5
        Fraction of units dropped before fl1 and before fl2, training only [P].
    seed : int or None, default=None
        Base seed of the orthogonal initializers (layer k uses ``seed + k``). ``None`` draws
        from Keras's global generator, made repeatable by ``keras.utils.set_random_seed``.
    name : str, default="paper_cnn"
        Model name.

    Returns
    -------
    keras.Model
        Uncompiled Functional model. Input ``(batch, *input_shape)`` float32; output
        ``(batch, n_classes)`` softmax probabilities.

    Raises
    ------
    ValueError
        If an argument is out of range or the input is too small for the valid convolutions.

    Notes
    -----
    Feature maps of the default configuration (H x W x C)::

        input 32x64x1 -> conv1 30x62x32 -> mp1 15x31x32 -> conv2 13x29x64 -> conv3 11x27x64
        -> mp2 5x13x64 -> flatten 4160 -> fl1 512 -> fl2 n_classes

    Parameters (biases included, :func:`gaitcnn.models.count_params`) and multiply-adds per
    example (conv and dense layers, :func:`gaitcnn.models.count_flops`), default configuration:

    ========  =========  ==========  =============
    channels  n_classes  parameters  multiply-adds
    ========  =========  ==========  =============
    1         2           2,187,202     20,564,096
    2         2           2,187,490     21,099,776
    1         744         2,567,848     20,944,000
    2         744         2,568,136     21,479,680
    ========  =========  ==========  =============
    """
    return build_conv_stack(
        input_shape,
        n_classes,
        conv_filters=conv_filters,
        n_conv=n_conv,
        fl1_units=fl1_units,
        dropout_rate=dropout_rate,
        kernel_size=(3, 3),
        pool_size=(2, 2),
        seed=seed,
        name=name,
    )
