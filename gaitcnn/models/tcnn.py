"""Method 3 of the paper: the temporal CNN (TCNN), 1x3 convolutions and 1x2 pooling along time."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from gaitcnn.models.paper_cnn import PAPER_CNN_HPARAMS, build_conv_stack

__all__ = ["TEST_HPARAMS", "build_tcnn"]

#: Tiny configuration for the registry contract tests.
TEST_HPARAMS = {
    "input_shape": (4, 16, 2),
    "n_classes": 3,
    "conv_filters": (4, 8, 8),
    "n_conv": 3,
    "fl1_units": 16,
    "dropout_rate": 0.5,
    "seed": 0,
}


def build_tcnn(
    input_shape: Sequence[int] = (32, 64, 1),
    n_classes: int = 2,
    *,
    conv_filters: Sequence[int] = PAPER_CNN_HPARAMS["conv_filters"],
    n_conv: int = PAPER_CNN_HPARAMS["n_conv"],
    fl1_units: int = PAPER_CNN_HPARAMS["fl1_units"],
    dropout_rate: float = PAPER_CNN_HPARAMS["dropout_rate"],
    seed: int | None = None,
    name: str = "tcnn",
) -> keras.Model:
    """Build the temporal CNN of Method 3 (Zhao & Zhou 2017, section 4.2, Table 2, Figure 8).

    The paper CNN with its square kernels replaced by 1-D kernels along the time (width) axis:
    conv1 (1x3 valid, ReLU) - mp1 (1x2/2) - conv2 - conv3 - mp2 - dropout - fl1 (ReLU) -
    dropout - fl2 (softmax). Rows are never mixed by a convolution, only by fl1.

    The paper's input for Method 3 is the AE-GDI itself, "regarded as multi-variate time
    series" (section 4.2): 32 delay rows, each a series of 64 samples, one channel per sensor.
    That is the default here. The builder accepts any (rows, n_timepoints, channels), e.g. a
    raw window as ``(n_axes, 64, 1)`` (axes as rows, processed by shared kernels) or
    ``(1, 64, n_axes)`` (axes as channels, mixed by conv1).

    Parameters
    ----------
    input_shape : tuple of int, default=(32, 64, 1)
        (rows, n_timepoints, channels). Default: one AE-GDI, 32 delays x 64 samples x N_l.
    n_classes : int, default=2
        N_o, the number of outputs of fl2.
    conv_filters : sequence of int, default=(32, 64, 64)
        Feature maps of conv1, conv2, conv3, ... as in :func:`build_paper_cnn`.
        Reconstruction: the same lost widths as the paper CNN ("same network").
    n_conv : int, default=3
        Convolution layers up to mp2, 1..4, as in :func:`build_paper_cnn`.
    fl1_units : int, default=512
        Width of fl1.
    dropout_rate : float, default=0.5
        Fraction of units dropped before fl1 and before fl2, training only.
    seed : int or None, default=None
        Base seed of the orthogonal initializers (layer k uses ``seed + k``).
    name : str, default="tcnn"
        Model name.

    Returns
    -------
    keras.Model
        Uncompiled Functional model. Input ``(batch, *input_shape)``; output
        ``(batch, n_classes)`` softmax probabilities.

    Raises
    ------
    ValueError
        If an argument is out of range or the series is too short for the valid convolutions.

    Notes
    -----
    Feature maps of the default configuration (H x W x C)::

        input 32x64x1 -> conv1 32x62x32 -> mp1 32x31x32 -> conv2 32x29x64 -> conv3 32x27x64
        -> mp2 32x13x64 -> flatten 26624 -> fl1 512 -> fl2 n_classes

    Because the 32 rows are never pooled, fl1 is 6.4 times wider than in the paper CNN, and
    dominates the parameter count.

    Parameters (biases included, :func:`gaitcnn.models.count_params`) and multiply-adds per
    example (conv and dense layers, :func:`gaitcnn.models.count_flops`), default configuration:

    ========  =========  ==========  =============
    channels  n_classes  parameters  multiply-adds
    ========  =========  ==========  =============
    1         2          13,651,714     30,141,440
    2         2          13,651,810     30,331,904
    1         744        14,032,360     30,521,344
    2         744        14,032,456     30,711,808
    ========  =========  ==========  =============
    """
    return build_conv_stack(
        input_shape,
        n_classes,
        conv_filters=conv_filters,
        n_conv=n_conv,
        fl1_units=fl1_units,
        dropout_rate=dropout_rate,
        # [P] "1x3 for convolutional operation and 1x2 for max pooling", along time only.
        kernel_size=(1, 3),
        pool_size=(1, 2),
        seed=seed,
        name=name,
    )
