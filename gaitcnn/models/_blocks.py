"""Shared building blocks of the Keras builders: seeded initializers, conv, head, Inception."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import keras
from keras import layers

__all__ = [
    "InceptionFilters",
    "SeedSequence",
    "classifier_head",
    "conv_relu",
    "inception_block",
    "validate_common",
]


class SeedSequence:
    """Hand out one kernel-initializer seed per layer, in build order.

    Keras initializers with the same integer seed give the same matrix for the same shape, so
    each layer gets ``seed + k`` (k = 0, 1, ...). With ``seed=None`` every call returns ``None``
    and the initializers draw from Keras's global generator, which
    ``keras.utils.set_random_seed`` makes repeatable.

    Parameters
    ----------
    seed : int or None
        Base seed.
    """

    def __init__(self, seed: int | None):
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
            raise ValueError(f"seed must be a non-negative int or None. Received: seed={seed!r}")
        self._seed = seed
        self._count = 0

    def __iter__(self) -> Iterator[int | None]:
        return self

    def __next__(self) -> int | None:
        if self._seed is None:
            return None
        value = self._seed + self._count
        self._count += 1
        return value

    def orthogonal(self) -> keras.initializers.Orthogonal:
        """Return a fresh orthogonal initializer (gain 1) with the next seed."""
        # [P] "weights initialized orthogonally"; gain 1.0 equals tflearn's
        # tf.compat.v1.orthogonal_initializer() default, so both frameworks draw the same law.
        return keras.initializers.Orthogonal(gain=1.0, seed=next(self))


def validate_common(
    input_shape: Sequence[int], n_classes: int, fl1_units: int, dropout_rate: float
) -> tuple[int, int, int]:
    """Check the arguments every builder shares; return ``input_shape`` as a tuple of ints.

    Raises
    ------
    ValueError
        Naming the argument and echoing the received value.
    """
    shape = tuple(input_shape)
    if len(shape) != 3 or not all(isinstance(d, int) and d > 0 for d in shape):
        raise ValueError(
            "input_shape must be (height, width, channels) of positive ints. "
            f"Received: input_shape={input_shape!r}"
        )
    if not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes must be an int >= 2. Received: n_classes={n_classes!r}")
    if not isinstance(fl1_units, int) or fl1_units < 1:
        raise ValueError(f"fl1_units must be a positive int. Received: fl1_units={fl1_units!r}")
    if not 0.0 <= dropout_rate < 1.0:
        raise ValueError(f"dropout_rate must be in [0, 1). Received: dropout_rate={dropout_rate!r}")
    return shape


def conv_relu(
    x,
    filters: int,
    kernel_size: tuple[int, int],
    *,
    name: str,
    seeds: SeedSequence,
    padding: str = "valid",
):
    """Convolution (stride 1) with bias and ReLU, orthogonally initialised, as one layer.

    One layer (not Conv2D + Activation) so its weights map one-to-one onto a tflearn
    ``conv_2d(..., activation='relu', scope=name)`` scope. The paper has no batch
    normalisation, so this is Keras's ``conv2d_bn`` without the ``bn``.

    Parameters
    ----------
    x : KerasTensor, shape (batch, height, width, in_channels)
    filters : int
        Output feature maps.
    kernel_size : tuple of int
        (rows, columns).
    name : str
        Layer name.
    seeds : SeedSequence
        Source of the kernel-initializer seed.
    padding : {"valid", "same"}, default="valid"
        [P] the paper's convolutions use no zero padding.

    Returns
    -------
    KerasTensor, shape (batch, new_height, new_width, filters)
    """
    return layers.Conv2D(
        filters,
        kernel_size,
        strides=1,
        padding=padding,
        activation="relu",
        kernel_initializer=seeds.orthogonal(),
        bias_initializer="zeros",
        name=name,
    )(x)


def classifier_head(x, n_classes: int, *, fl1_units: int, dropout_rate: float, seeds: SeedSequence):
    """Flatten, dropout, fl1 (ReLU), dropout, fl2 (softmax): the paper's two FC layers.

    Parameters
    ----------
    x : KerasTensor, shape (batch, height, width, channels)
    n_classes : int
        N_o, the fl2 width.
    fl1_units : int
        fl1 width.
    dropout_rate : float
        Fraction dropped before each fully connected layer (training only).
    seeds : SeedSequence
        Source of the kernel-initializer seeds.

    Returns
    -------
    KerasTensor, shape (batch, n_classes)
        Softmax probabilities.
    """
    # Flatten is NHWC row-major, the same order as tflearn's tf.reshape, so fl1 kernels
    # transfer between the two frameworks without permutation.
    x = layers.Flatten(name="flatten")(x)
    # [P] dropout 0.5 before each fully connected layer; Keras's rate is the *drop* probability.
    x = layers.Dropout(dropout_rate, name="dropout1")(x)
    x = layers.Dense(
        fl1_units, activation="relu", kernel_initializer=seeds.orthogonal(), name="fl1"
    )(x)
    x = layers.Dropout(dropout_rate, name="dropout2")(x)
    # float32 whatever the global dtype policy: probabilities are fused and thresholded.
    return layers.Dense(
        n_classes, activation="softmax", kernel_initializer=seeds.orthogonal(), name="fl2",
        dtype="float32",
    )(x)  # fmt: skip


class InceptionFilters(NamedTuple):
    """Branch widths of one Inception module (GoogLeNet Table 1 column order).

    Output channels = ``branch1x1 + branch3x3 + branch5x5 + pool_proj``.
    """

    branch1x1: int  #: 1x1 branch
    branch3x3_reduce: int  #: 1x1 reduction before the 3x3
    branch3x3: int  #: 3x3 branch
    branch5x5_reduce: int  #: 1x1 reduction before the 5x5
    branch5x5: int  #: 5x5 branch
    pool_proj: int  #: 1x1 projection after the 3x3 max-pool

    @property
    def out_channels(self) -> int:
        """Channels of the concatenated output."""
        return self.branch1x1 + self.branch3x3 + self.branch5x5 + self.pool_proj


def inception_block(x, filters: InceptionFilters, *, name: str, seeds: SeedSequence):
    """GoogLeNet Inception module: four parallel branches concatenated along channels.

    Branches: 1x1; 1x1 -> 3x3; 1x1 -> 5x5; 3x3 max-pool (stride 1) -> 1x1. Every convolution
    is followed by ReLU (tflearn's googlenet example forgets one). Branches use 'same' padding so
    their outputs can be concatenated; the spatial size is preserved.

    Parameters
    ----------
    x : KerasTensor, shape (batch, height, width, in_channels)
    filters : InceptionFilters
        Branch widths.
    name : str
        Block name; layers are named ``f"{name}_<branch>"``.
    seeds : SeedSequence
        Source of the kernel-initializer seeds.

    Returns
    -------
    KerasTensor, shape (batch, height, width, filters.out_channels)
    """
    if not all(isinstance(w, int) and w > 0 for w in filters):
        raise ValueError(f"{name}: every branch width must be a positive int. Received: {filters}")
    b1 = conv_relu(x, filters.branch1x1, (1, 1), name=f"{name}_1x1", seeds=seeds)
    b3 = conv_relu(x, filters.branch3x3_reduce, (1, 1), name=f"{name}_3x3_reduce", seeds=seeds)
    b3 = conv_relu(b3, filters.branch3x3, (3, 3), name=f"{name}_3x3", padding="same", seeds=seeds)
    b5 = conv_relu(x, filters.branch5x5_reduce, (1, 1), name=f"{name}_5x5_reduce", seeds=seeds)
    b5 = conv_relu(b5, filters.branch5x5, (5, 5), name=f"{name}_5x5", padding="same", seeds=seeds)
    bp = layers.MaxPooling2D((3, 3), strides=1, padding="same", name=f"{name}_pool")(x)
    bp = conv_relu(bp, filters.pool_proj, (1, 1), name=f"{name}_pool_proj", seeds=seeds)
    return layers.Concatenate(axis=-1, name=f"{name}_output")([b1, b3, b5, bp])
