"""A gait embedding network and margin losses for recognising users unseen in training (issue 14).

# Paper deviation: Zhao & Zhou 2017 train a K-class softmax (identification) or one binary CNN
# per user (authentication); neither takes a new user without retraining. This network maps a
# raw-signal window to an L2-normalised vector; a new user is enrolled by storing the mean of
# their window embeddings and every probe is scored by cosine similarity
# (:mod:`gaitcnn.verification`). It is trained as a classifier of the *training* users with a
# loss that makes the classes compact and separated on the unit sphere (additive-margin
# softmax / CosFace, ArcFace) or with a supervised contrastive loss; the classifier head is
# thrown away after training.

Models
------
- :func:`build_embedding_cnn`: the raw-window trunk of :func:`gaitcnn.models.build_raw_cnn`
  (normalisation by stored channel statistics, conv1d-BN-ReLU blocks, global average pooling),
  then a linear projection, batch normalisation and L2 normalisation. Output: ``(batch,
  embedding_dim)`` unit vectors. This is the model that is exported (TFLite included).
- :func:`build_training_model`: the embedding model plus a head - ``"cosine"`` (a
  :class:`CosineClassifier`: cosines with normalised class weights, for the margin losses),
  ``"softmax"`` (a dense softmax on the pre-normalisation embedding, the "softmax penultimate"
  baseline) or ``"embedding"`` (no head, for :class:`SupervisedContrastiveLoss`).

Every custom object is registered with ``keras.saving.register_keras_serializable(package=
"gaitcnn")``; no ``Lambda`` layer is used, so the models load in Keras safe mode.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence

import keras
import numpy as np
from keras import layers, ops

from gaitcnn.models.losses import (
    AM_MARGIN,
    AM_SCALE,
    AdditiveMarginOnProbabilities,
    sparse_labels,
)
from gaitcnn.models.raw_cnn import RAW_CNN_HPARAMS, raw_cnn_trunk

__all__ = [
    "AM_MARGIN",
    "AM_SCALE",
    "CLASSIFIER_TEST_HPARAMS",
    "EMBEDDING_HPARAMS",
    "HEADS",
    "LOSSES",
    "TEST_HPARAMS",
    "AdditiveMarginOnProbabilities",
    "AdditiveMarginSoftmaxLoss",
    "ArcFaceLoss",
    "CosineClassifier",
    "SupervisedContrastiveLoss",
    "build_embedding_classifier",
    "build_embedding_cnn",
    "build_training_model",
    "compile_embedding_model",
    "embedding_fingerprint",
    "embedding_network",
    "head_for_loss",
    "make_loss",
]

#: Defaults of :func:`build_embedding_cnn`.
EMBEDDING_HPARAMS = {
    "embedding_dim": 128,
    "filters": RAW_CNN_HPARAMS["filters"],
    "kernel_size": RAW_CNN_HPARAMS["kernel_size"],
    "n_pooled_blocks": RAW_CNN_HPARAMS["n_pooled_blocks"],
    "dropout_rate": 0.2,
}

#: Tiny configuration for contract tests.
TEST_HPARAMS = {
    "input_shape": (16, 8),
    "embedding_dim": 8,
    "filters": (4, 8),
    "kernel_size": 3,
    "n_pooled_blocks": 1,
    "dropout_rate": 0.1,
    "seed": 0,
}

#: Tiny configuration of :func:`build_embedding_classifier` (registry contract tests).
CLASSIFIER_TEST_HPARAMS = {**TEST_HPARAMS, "n_classes": 5}

#: Heads of :func:`build_training_model`.
HEADS = ("cosine", "softmax", "embedding")

# Cosines are clipped away from +-1 so that sqrt(1 - cos^2) and its gradient stay finite.
_COS_EPS = 1e-7


def build_embedding_cnn(
    input_shape: Sequence[int] = (64, 8),
    embedding_dim: int = EMBEDDING_HPARAMS["embedding_dim"],
    *,
    filters: Sequence[int] = EMBEDDING_HPARAMS["filters"],
    kernel_size: int = EMBEDDING_HPARAMS["kernel_size"],
    n_pooled_blocks: int = EMBEDDING_HPARAMS["n_pooled_blocks"],
    dropout_rate: float = EMBEDDING_HPARAMS["dropout_rate"],
    channel_mean: Sequence[float] | np.ndarray | None = None,
    channel_sd: Sequence[float] | np.ndarray | None = None,
    seed: int | None = None,
    name: str = "embedding_cnn",
) -> keras.Model:
    """Build the window embedding network: raw-CNN trunk, projection, BN, L2 normalisation.

    input - per-channel ``(x - mean) / sd`` (fixed ``Normalization`` layer ``normalization``) -
    conv1d-BN-ReLU blocks (max-pool of 2 after the first ``n_pooled_blocks``) - global average
    pooling - dropout - ``Dense(embedding_dim, use_bias=False)`` (``embedding_dense``) -
    ``BatchNormalization`` (``embedding_bn``) - ``UnitNormalization`` (``embedding``).

    Parameters
    ----------
    input_shape : tuple of int, default=(64, 8)
        ``(n_timepoints, n_channels)`` or a cached raw window's ``(1, n_timepoints,
        n_channels)``.
    embedding_dim : int, default=128
        Length of the embedding.
    filters : sequence of int, default=(32, 64, 128, 128)
        Output channels of each conv block.
    kernel_size : int, default=5
        Convolution length in samples.
    n_pooled_blocks : int, default=2
        Blocks followed by a max-pool of 2.
    dropout_rate : float, default=0.2
        Dropped fraction of the pooled features before the projection (training only).
    channel_mean, channel_sd : array-like of shape (n_channels,), optional
        Statistics of the training windows (:func:`gaitcnn.rawwindows.channel_stats`), stored
        in the model; default mean 0, sd 1.
    seed : int or None, default=None
        Base seed of the initializers.
    name : str, default="embedding_cnn"
        Model name.

    Returns
    -------
    keras.Model
        Uncompiled Functional model; input ``(batch, *input_shape)`` unscaled windows, output
        ``(batch, embedding_dim)`` unit-norm float32 vectors.

    Raises
    ------
    ValueError
        If an argument is out of range.
    """
    if not isinstance(embedding_dim, int) or embedding_dim < 2:
        raise ValueError(
            f"embedding_dim must be an int >= 2. Received: embedding_dim={embedding_dim!r}"
        )
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
    x = layers.Dense(
        embedding_dim,
        use_bias=False,
        kernel_initializer=keras.initializers.GlorotUniform(seed=next(seeds)),
        name="embedding_dense",
    )(x)
    # BN on the projection (ArcFace's "BN-Dropout-FC-BN" output block): a centred, scaled
    # embedding before normalisation trains faster with cosine losses.
    x = layers.BatchNormalization(momentum=0.9, name="embedding_bn")(x)
    outputs = layers.UnitNormalization(axis=-1, name="embedding")(x)
    return keras.Model(inputs, outputs, name=name)


def build_embedding_classifier(
    input_shape: Sequence[int],
    n_classes: int,
    *,
    seed: int | None = None,
    scale: float = AM_SCALE,
    name: str = "embedding_cnn",
    **embedding_hparams,
) -> keras.Model:
    """The embedding network with an AM-softmax head: what the one trainer fits.

    ``softmax(scale * cos(embedding, W_c))`` over the training users' class vectors ``W_c``
    (layers ``cosine``, ``scale``, ``softmax``). The output is a probability per training user,
    so the model trains with :func:`gaitcnn.train.train` like every other network (loss
    :class:`AdditiveMarginOnProbabilities` via ``TrainConfig.loss="am_softmax"``), labels
    training users like any classifier, and its layer ``embedding`` gives the unit vectors
    that enrol and verify users it never saw (:meth:`gaitcnn.GaitModel.embed`).

    Parameters
    ----------
    input_shape : tuple of int
        As :func:`build_embedding_cnn`.
    n_classes : int
        Training users.
    seed : int or None, default=None
        Base seed of the initializers (the head uses ``seed + 1000``).
    scale : float, default=30.0
        Scale of the cosines (:data:`AM_SCALE`; must match the loss's).
    name : str, default="embedding_cnn"
        Model name.
    embedding_hparams : keyword arguments
        Keywords of :func:`build_embedding_cnn` (``embedding_dim``, ``filters``,
        ``channel_mean``...).

    Returns
    -------
    keras.Model
        Uncompiled; output ``(batch, n_classes)`` float32 probabilities.
    """
    if not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes must be an int >= 2. Received: n_classes={n_classes!r}")
    embedding = build_embedding_cnn(input_shape, seed=seed, **embedding_hparams)
    head_seed = None if seed is None else seed + 1000
    cosines = CosineClassifier(
        n_classes, kernel_initializer=keras.initializers.GlorotUniform(seed=head_seed),
        name="cosine",
    )(embedding.output)  # fmt: skip
    logits = layers.Rescaling(float(scale), name="scale")(cosines)
    # float32 whatever the dtype policy: the probabilities are fused and fed to the loss
    proba = layers.Activation("softmax", dtype="float32", name="softmax")(logits)
    return keras.Model(embedding.inputs, proba, name=name)


def embedding_network(model):
    """The sub-network of ``model`` that outputs its embedding (weights shared).

    Layer ``embedding`` when the network has one (:func:`build_embedding_classifier`), else
    the input of its last layer: the penultimate features of a classifier (the paper CNN's
    fully connected layer, the raw CNN's pooled features).
    """
    names = {layer.name for layer in model.layers}
    features = model.get_layer("embedding").output if "embedding" in names else None
    if features is None:
        features = model.layers[-1].input
    return keras.Model(model.inputs, features, name=f"{model.name}_embedding")


@keras.saving.register_keras_serializable(package="gaitcnn")
class CosineClassifier(layers.Layer):
    """Cosine of the input with each class's weight vector: ``normalise(x) @ normalise(W)``.

    Parameters
    ----------
    n_classes : int
        Number of training classes (users).
    kernel_initializer : str or keras.initializers.Initializer, default="glorot_uniform"
        Initializer of the ``(input_dim, n_classes)`` weights.
    **kwargs
        Passed to :class:`keras.layers.Layer` (``name``...).

    Notes
    -----
    Input ``(batch, input_dim)``, output ``(batch, n_classes)`` cosines in [-1, 1]. Used with
    :class:`AdditiveMarginSoftmaxLoss` or :class:`ArcFaceLoss`, which add the margin to the
    target class and scale the logits; ``argmax`` of the output is the predicted class.
    """

    def __init__(self, n_classes: int, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n_classes, int) or n_classes < 2:
            raise ValueError(f"n_classes must be an int >= 2. Received: n_classes={n_classes!r}")
        self.n_classes = n_classes
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(int(input_shape[-1]), self.n_classes),
            initializer=self.kernel_initializer,
            name="kernel",
        )

    def call(self, inputs):
        x = ops.normalize(inputs, axis=-1, order=2)
        w = ops.normalize(self.kernel, axis=0, order=2)
        return ops.clip(ops.matmul(x, w), -1.0, 1.0)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.n_classes)

    def get_config(self):
        config = super().get_config()
        config.update(
            n_classes=self.n_classes,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
        )
        return config


class _CosineMarginLoss(keras.losses.Loss):
    """Softmax cross-entropy on ``scale * cosines`` with a margin on the target class."""

    def __init__(self, scale: float, margin: float, name: str, **kwargs):
        super().__init__(name=name, **kwargs)
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"scale must be positive. Received: scale={scale!r}")
        if not (math.isfinite(margin) and 0.0 <= margin < 1.0):
            raise ValueError(f"margin must be in [0, 1). Received: margin={margin!r}")
        self.scale = float(scale)
        self.margin = float(margin)

    def _target_logit(self, cos_target):
        raise NotImplementedError

    def call(self, y_true, y_pred):
        cos = ops.clip(y_pred, -1.0 + _COS_EPS, 1.0 - _COS_EPS)
        onehot = sparse_labels(y_true, ops.shape(cos)[-1], cos.dtype)
        cos_target = ops.sum(cos * onehot, axis=-1, keepdims=True)
        shifted = cos + onehot * (self._target_logit(cos_target) - cos_target)
        return keras.losses.categorical_crossentropy(onehot, self.scale * shifted, from_logits=True)

    def get_config(self):
        config = super().get_config()
        config.update(scale=self.scale, margin=self.margin)
        return config


@keras.saving.register_keras_serializable(package="gaitcnn")
class AdditiveMarginSoftmaxLoss(_CosineMarginLoss):
    """Additive-margin softmax (AM-softmax, CosFace): target logit ``s (cos - m)``.

    Wang et al. 2018 (AM-Softmax), Wang et al. 2018 (CosFace). ``y_true``: integer class
    indices, shape ``(batch,)`` or ``(batch, 1)``; ``y_pred``: cosines from
    :class:`CosineClassifier`, shape ``(batch, n_classes)``. ``margin=0`` is NormFace (a plain
    softmax on scaled cosines).

    Parameters
    ----------
    scale : float, default=30.0
        s, the inverse temperature of the softmax.
    margin : float, default=0.35
        m, subtracted from the target class's cosine (the papers' defaults: s = 30, m = 0.35).
    name : str, default="am_softmax"
    """

    def __init__(self, scale: float = 30.0, margin: float = 0.35, name="am_softmax", **kwargs):
        super().__init__(scale, margin, name, **kwargs)

    def _target_logit(self, cos_target):
        return cos_target - self.margin


@keras.saving.register_keras_serializable(package="gaitcnn")
class ArcFaceLoss(_CosineMarginLoss):
    """ArcFace (additive angular margin): target logit ``s cos(theta + m)``.

    Deng et al. 2019. Where ``theta + m`` would pass pi (cos theta < cos(pi - m)) the target
    logit continues as ``cos theta - m sin(m)`` so that it keeps decreasing with theta (the
    reference implementation's rule). Inputs as :class:`AdditiveMarginSoftmaxLoss`.

    Parameters
    ----------
    scale : float, default=30.0
        s.
    margin : float, default=0.3
        m in radians (the paper's face models use 0.5; 0.3 suits a few hundred classes of
        short gait windows, see ``experiments/verification_research.py``).
    name : str, default="arcface"
    """

    def __init__(self, scale: float = 30.0, margin: float = 0.3, name="arcface", **kwargs):
        super().__init__(scale, margin, name, **kwargs)

    def _target_logit(self, cos_target):
        sin_target = ops.sqrt(1.0 - ops.square(cos_target))
        shifted = cos_target * math.cos(self.margin) - sin_target * math.sin(self.margin)
        fallback = cos_target - self.margin * math.sin(self.margin)
        return ops.where(cos_target > math.cos(math.pi - self.margin), shifted, fallback)


@keras.saving.register_keras_serializable(package="gaitcnn")
class SupervisedContrastiveLoss(keras.losses.Loss):
    """Supervised contrastive loss (Khosla et al. 2020, "L_out") on a batch of embeddings.

    For anchor i with positives P(i) (other batch members of its class):
    ``-1/|P(i)| sum_p log(exp(z_i.z_p / T) / sum_{a != i} exp(z_i.z_a / T))``, averaged over
    the anchors that have a positive. Batches must hold several windows per user (see
    ``experiments/verification_research.py``'s P x K sampler).

    Parameters
    ----------
    temperature : float, default=0.1
        T.
    name : str, default="supcon"

    Notes
    -----
    ``y_true``: integer labels ``(batch,)``; ``y_pred``: embeddings ``(batch, dim)`` (they are
    L2-normalised here again). Keras applies the loss per batch, so the value of one sample is
    the batch mean (returned once per sample).
    """

    def __init__(self, temperature: float = 0.1, name="supcon", **kwargs):
        super().__init__(name=name, **kwargs)
        if not (math.isfinite(temperature) and temperature > 0):
            raise ValueError(f"temperature must be positive. Received: {temperature!r}")
        self.temperature = float(temperature)

    def call(self, y_true, y_pred):
        z = ops.normalize(y_pred, axis=-1, order=2)
        labels = ops.reshape(ops.cast(y_true, "int32"), (-1,))
        logits = ops.matmul(z, ops.transpose(z)) / self.temperature
        n = ops.shape(logits)[0]
        not_self = 1.0 - ops.eye(n, dtype=logits.dtype)
        positive = ops.cast(ops.equal(labels[:, None], labels[None, :]), logits.dtype) * not_self
        # log-softmax over the other batch members (self excluded by a large negative logit)
        logits = logits - 1e9 * (1.0 - not_self)
        log_prob = logits - ops.logsumexp(logits, axis=1, keepdims=True)
        n_positive = ops.sum(positive, axis=1)
        per_anchor = -ops.sum(positive * log_prob, axis=1) / ops.maximum(n_positive, 1.0)
        has_positive = ops.cast(n_positive > 0, logits.dtype)
        mean = ops.sum(per_anchor * has_positive) / ops.maximum(ops.sum(has_positive), 1.0)
        return ops.ones_like(per_anchor) * mean

    def get_config(self):
        config = super().get_config()
        config["temperature"] = self.temperature
        return config


#: Losses by name: ``(constructor, head)``. ``"softmax"`` is the plain cross-entropy of the
#: softmax head (the "softmax penultimate" baseline).
LOSSES = {
    "softmax": (keras.losses.SparseCategoricalCrossentropy, "softmax"),
    "am_softmax": (AdditiveMarginSoftmaxLoss, "cosine"),
    "arcface": (ArcFaceLoss, "cosine"),
    "supcon": (SupervisedContrastiveLoss, "embedding"),
}


def make_loss(name: str, **kwargs) -> keras.losses.Loss:
    """Build the loss called ``name`` (a key of :data:`LOSSES`) with its keyword arguments."""
    if name not in LOSSES:
        raise ValueError(f"Unknown loss {name!r}; expected one of {sorted(LOSSES)}")
    return LOSSES[name][0](**kwargs)


def head_for_loss(name: str) -> str:
    """The head of :func:`build_training_model` that the loss called ``name`` needs."""
    if name not in LOSSES:
        raise ValueError(f"Unknown loss {name!r}; expected one of {sorted(LOSSES)}")
    return LOSSES[name][1]


def build_training_model(
    embedding_model: keras.Model, n_classes: int, *, head: str = "cosine", seed: int | None = None
) -> keras.Model:
    """Add a training head to an embedding model (the layers, hence the weights, are shared).

    Parameters
    ----------
    embedding_model : keras.Model
        From :func:`build_embedding_cnn` (needs the layers ``embedding_bn`` and ``embedding``).
    n_classes : int
        Number of training users.
    head : {"cosine", "softmax", "embedding"}, default="cosine"
        ``"cosine"``: :class:`CosineClassifier` on the unit embedding (layer ``cosine``);
        ``"softmax"``: ``Dense(n_classes, softmax)`` on the embedding before normalisation
        (layer ``softmax``); ``"embedding"``: the embedding itself.
    seed : int or None, default=None
        Seed of the head's initializer.

    Returns
    -------
    keras.Model
        Uncompiled; input as ``embedding_model``; output ``(batch, n_classes)`` cosines or
        probabilities, or ``(batch, embedding_dim)`` for ``"embedding"``. After training,
        ``embedding_model`` holds the trained weights.
    """
    if head not in HEADS:
        raise ValueError(f"head must be one of {HEADS}. Received: head={head!r}")
    if head != "embedding" and (not isinstance(n_classes, int) or n_classes < 2):
        raise ValueError(f"n_classes must be an int >= 2. Received: n_classes={n_classes!r}")
    initializer = keras.initializers.GlorotUniform(seed=seed)
    embedding = embedding_model.get_layer("embedding").output
    if head == "embedding":
        outputs = embedding
    elif head == "cosine":
        outputs = CosineClassifier(n_classes, kernel_initializer=initializer, name="cosine")(
            embedding
        )
    else:
        pre_norm = embedding_model.get_layer("embedding_bn").output
        outputs = layers.Dense(
            n_classes, activation="softmax", kernel_initializer=initializer, name="softmax"
        )(pre_norm)
    return keras.Model(embedding_model.inputs, outputs, name=f"{embedding_model.name}_{head}")


def compile_embedding_model(
    training_model: keras.Model,
    loss: keras.losses.Loss,
    config=None,
    *,
    steps_per_epoch: int | None = None,
) -> keras.Model:
    """Compile a training model with ``loss`` and the optimizer of a :class:`TrainConfig`.

    The optimizer (Adam, learning rate, optional cosine schedule) comes from
    :func:`gaitcnn.train.compile_model`; only the loss differs, and the accuracy metric is
    kept only for heads with one output per class.

    Parameters
    ----------
    training_model : keras.Model
        From :func:`build_training_model`.
    loss : keras.losses.Loss
        E.g. ``make_loss("am_softmax")``.
    config : gaitcnn.train.TrainConfig, optional
        Default ``TrainConfig()``. Its ``label_smoothing`` is ignored (margin losses).
    steps_per_epoch : int, optional
        Needed by ``lr_schedule="cosine"``.

    Returns
    -------
    keras.Model
        ``training_model``, compiled, for chaining.
    """
    from gaitcnn.train import compile_model

    compile_model(training_model, config, steps_per_epoch=steps_per_epoch)
    classifies = not isinstance(loss, SupervisedContrastiveLoss)
    training_model.compile(
        optimizer=training_model.optimizer,
        loss=loss,
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")] if classifies else [],
        jit_compile=False,
    )
    return training_model


def embedding_fingerprint(model: keras.Model, preprocessing: Mapping | None = None) -> str:
    """sha256 (hex) of a model's weights, architecture and preprocessing: what binds a store.

    Two models give the same fingerprint only if they map the same windows to the same
    embeddings: the same layer configuration (normalisation statistics included), the same
    weights (bytes) and the same preprocessing (rate, window, channels...). A
    :class:`gaitcnn.store.TemplateStore` records it and refuses other models.

    Parameters
    ----------
    model : keras.Model
        The embedding model.
    preprocessing : mapping, optional
        JSON-serialisable preprocessing contract.

    Returns
    -------
    str
        64 hexadecimal characters.
    """
    digest = hashlib.sha256()
    config = {"model": model.get_config(), "preprocessing": dict(preprocessing or {})}
    digest.update(json.dumps(config, sort_keys=True, default=str).encode("utf-8"))
    for weight in model.weights:
        value = np.ascontiguousarray(keras.ops.convert_to_numpy(weight))
        digest.update(f"{weight.path}:{value.dtype}:{value.shape}".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()
