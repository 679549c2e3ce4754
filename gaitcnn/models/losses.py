"""The AM-softmax loss of the embedding classifier, apart so the trainer needs no model module.

:func:`gaitcnn.train.compile_model` builds this loss for ``TrainConfig.loss="am_softmax"``;
:mod:`gaitcnn.models.embedding` builds the network it trains and imports the trainer, so the
loss lives here to keep the import graph free of cycles.
"""

from __future__ import annotations

import math

import keras
from keras import ops

__all__ = ["AM_MARGIN", "AM_SCALE", "AdditiveMarginOnProbabilities", "sparse_labels"]

#: Scale and additive cosine margin of the AM-softmax (CosFace) head of
#: :func:`build_embedding_classifier` (the values of Wang et al. 2018).
AM_SCALE = 30.0
AM_MARGIN = 0.35


def sparse_labels(y_true, n_classes, dtype):
    """Integer labels of any shape as one-hot rows ``(n, n_classes)``."""
    labels = ops.reshape(ops.cast(y_true, "int32"), (-1,))
    return ops.one_hot(labels, n_classes, dtype=dtype)


@keras.saving.register_keras_serializable(package="gaitcnn")
class AdditiveMarginOnProbabilities(keras.losses.Loss):
    """AM-softmax (CosFace) loss computed from ``softmax(scale * cos)`` probabilities.

    ``log p_j = scale * cos_j - logsumexp``; the constant cancels in a softmax, so
    ``log p`` serves as the logits: the target's is lowered by ``scale * margin`` and the
    cross-entropy of the shifted logits is exactly :class:`AdditiveMarginSoftmaxLoss` of the
    cosines. Lets the margin loss train a model whose output is probabilities
    (:func:`build_embedding_classifier`) through the same trainer as every classifier.

    Parameters
    ----------
    scale : float, default=:data:`AM_SCALE`
    margin : float, default=:data:`AM_MARGIN`
        In cosine units, in [0, 1).
    """

    def __init__(self, scale: float = AM_SCALE, margin: float = AM_MARGIN,
                 name="am_softmax_proba", **kwargs):  # fmt: skip
        super().__init__(name=name, **kwargs)
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"scale must be positive. Received: scale={scale!r}")
        if not (math.isfinite(margin) and 0.0 <= margin < 1.0):
            raise ValueError(f"margin must be in [0, 1). Received: margin={margin!r}")
        self.scale, self.margin = float(scale), float(margin)

    def call(self, y_true, y_pred):
        # 1e-30: far below the smallest probability of a scale-30 softmax (~e^-60 = 1e-26)
        logits = ops.log(ops.clip(ops.cast(y_pred, "float32"), 1e-30, 1.0))
        onehot = sparse_labels(y_true, ops.shape(logits)[-1], logits.dtype)
        shifted = logits - (self.scale * self.margin) * onehot
        return keras.losses.categorical_crossentropy(onehot, shifted, from_logits=True)

    def get_config(self):
        config = super().get_config()
        config.update(scale=self.scale, margin=self.margin)
        return config
