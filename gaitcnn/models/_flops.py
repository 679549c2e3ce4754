"""Analytic parameter and multiply-add counts of Keras models."""

from __future__ import annotations

import math

import keras
from keras import layers

__all__ = ["count_flops", "count_params"]


def count_params(model: keras.Model) -> int:
    """Return the number of weights of ``model``, trainable and not (biases included).

    Parameters
    ----------
    model : keras.Model
        A built model.

    Returns
    -------
    int
    """
    return int(model.count_params())


def _shape(tensor) -> tuple[int, ...]:
    return tuple(int(d) for d in tensor.shape[1:])


def count_flops(model: keras.Model) -> int:
    """Return the multiply-adds of one forward pass of one example through ``model``.

    Counts the multiply-accumulates of convolution and dense layers only, computed from the
    layer configuration and the output shapes: a Conv2D contributes
    ``out_h * out_w * filters * kernel_h * kernel_w * in_channels / groups`` and a Dense
    ``prod(leading dims) * in_features * units``. Bias additions, activations, pooling,
    concatenation and dropout are ignored (the convention of the GoogLeNet paper's "ops").
    Nested models are counted recursively.

    Parameters
    ----------
    model : keras.Model
        A built Functional or Sequential model with a known input shape.

    Returns
    -------
    int
        Multiply-adds per example.

    Raises
    ------
    TypeError
        If the model contains a convolution type that is not counted (depthwise, separable,
        transposed), rather than silently under-counting it.
    """
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += count_flops(layer)
        elif isinstance(
            layer,
            layers.DepthwiseConv2D | layers.SeparableConv2D | layers.Conv2DTranspose,
        ):
            raise TypeError(f"count_flops does not count {type(layer).__name__} ({layer.name})")
        elif isinstance(layer, layers.Conv1D | layers.Conv2D | layers.Conv3D):
            in_channels = _shape(layer.input)[-1]
            out_shape = _shape(layer.output)
            kernel_volume = math.prod(layer.kernel_size)
            total += math.prod(out_shape) * kernel_volume * in_channels // layer.groups
        elif isinstance(layer, layers.Dense):
            in_shape = _shape(layer.input)
            total += math.prod(in_shape) * layer.units
    return int(total)
