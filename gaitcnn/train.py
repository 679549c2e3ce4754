"""Stage 7: the one trainer - compile a Keras model and train it, in memory or in a run folder.

``train(model, train_data, val_data, config, out_dir=None)`` trains in memory: no files, the
best epoch's weights (``keep_best``) kept in memory. This is the fast mode the many small
classifiers of Table 1 use. With ``out_dir`` the run lives in that folder::

    out_dir/
      config.json              resolved TrainConfig + model summary + versions + caller metadata
      history.json             per-epoch logs (dict of lists, Keras ``History`` layout + "epoch")
      tensorboard/             TensorBoard event files
      checkpoints/last.keras   model + optimizer state after the last checkpointed epoch
      checkpoints/state.json   completed epoch count, best epoch, checksum of last.keras
      best.keras               the epoch that scored best on the validation split (keep_best)
      final.keras              the model after the last epoch

A checkpoint is written when ``checkpoint_every_s`` seconds have passed since the previous one
(0: after every epoch) and after the last epoch, so a short run pays for one save, not one per
epoch. Every file is written atomically (temporary file + ``os.replace``), and ``state.json`` is
written last: it is the commit point, and ``train(..., resume=True)`` restarts after the epoch
it records.

Training data are ``(images, labels)`` - ``images`` an array or
:class:`gaitcnn.cache.CacheRows` (rows of the HDF5 image cache, streamed by
:func:`gaitcnn.pipeline.epoch_batches` when they do not fit its memory budget) - or a callable
``epoch -> tf.data.Dataset``. ``train()`` calls ``model.fit`` once per epoch and, before each
epoch, derives every random state from ``(config.seed, epoch)``: the global seeds, the state of
every ``SeedGenerator`` in the model (dropout masks) and the order of the batches. Epoch ``k``
therefore does the same work whether or not the process restarted before it, and a resumed run
ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import random
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Quiet TensorFlow's C++ start-up chatter unless the user chose a level (RECONSTRUCTION 5.5).
# This must happen before TensorFlow is imported for the first time.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

from gaitcnn import _rundir
from gaitcnn._atomic import write_json_atomic
from gaitcnn._callbacks import EpochLine, OneRun, Progbar, TensorBoardScalars
from gaitcnn._rundir import RUN_ARTEFACTS, RunPaths
from gaitcnn.cache import CacheRows
from gaitcnn.provenance import versions

__all__ = [
    "LOSSES",
    "RUN_ARTEFACTS",
    "RunExistsError",
    "TrainConfig",
    "TrainResult",
    "compile_model",
    "quiet_tensorflow_logs",
    "set_seeds",
    "train",
    "validation_split_indices",
]


def quiet_tensorflow_logs() -> None:
    """Set the ``tensorflow`` Python logger to ERROR unless the user already set a level.

    ``TF_CPP_MIN_LOG_LEVEL`` is defaulted to 2 at import of this module (``setdefault``, so a
    value the user exported wins). Neither call clobbers an explicit user choice.
    """
    logger = logging.getLogger("tensorflow")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.ERROR)


quiet_tensorflow_logs()

#: TrainConfig fields that may differ between an interrupted run and its resumption.
_RESUMABLE_CHANGES = frozenset({"epochs", "verbose"})

_OPTIMIZERS = ("adam", "sgd")
_LR_SCHEDULES = ("constant", "cosine")
#: Training losses: softmax cross-entropy [P], or the AM-softmax of an embedding classifier
#: (:class:`gaitcnn.models.embedding.AdditiveMarginOnProbabilities`).
LOSSES = ("cross_entropy", "am_softmax")
_MONITORS = ("val_accuracy", "val_loss")
_CONFIG_FORMAT_VERSION = 1


class RunExistsError(FileExistsError):
    """Raised when ``out_dir`` already holds a run and neither resume nor overwrite was asked."""


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainConfig:
    """Training settings (paper section 1.6 of RECONSTRUCTION).

    Labels are **integer class indices** ``0 .. n_classes - 1`` and the loss is sparse
    categorical cross-entropy on the model's softmax output; accuracy is logged as
    ``accuracy`` / ``val_accuracy``. (Equivalent to the paper's one-hot cross-entropy; integer
    labels are what the HDF5 cache stores.)

    Parameters
    ----------
    epochs : int, default=50
        Number of passes over the training data. [P] 50 epochs.
    batch_size : int, default=100
        Mini-batch size when ``train()`` receives arrays (datasets arrive batched). [P] 100.
    learning_rate : float, default=1e-3
        [P] Adam with learning rate 0.001.
    optimizer : {"adam", "sgd"}, default="adam"
        [P] Adam. "sgd" (plain, no momentum) exists for ablations only.
    adam_epsilon : float, default=1e-8
        Reconstruction: the paper used tflearn, whose Adam epsilon is 1e-8; Keras' default is
        1e-7. We keep tflearn's value so the two implementations match.
    label_smoothing : float, default=0.0
        Label smoothing of the cross-entropy. The paper uses none.
    global_clipnorm : float or None, default=None
        Rescale the gradients so that their global norm is at most this value before each
        update (Keras ``global_clipnorm``; None or 0: no clipping). tflearn, the paper's
        framework, clips at 5.0 by default (``DNN(clip_gradients=5.0)``, also a global norm);
        set 5.0 to train the Keras network with tflearn's loop (RECONSTRUCTION 5.3). Keras'
        ``clipnorm`` (each gradient on its own) is a different rule and not offered.
    loss : {"cross_entropy", "am_softmax"}, default="cross_entropy"
        [P] softmax cross-entropy. ``"am_softmax"``: the additive-margin softmax of an
        embedding network whose output is ``softmax(scale * cos)``
        (:func:`gaitcnn.models.embedding.build_embedding_classifier`); label smoothing does not
        apply to it.
    lr_schedule : {"constant", "cosine"}, default="constant"
        [P] constant. ``"cosine"`` (improved preset, a paper deviation): the learning rate
        decays from ``learning_rate`` to 1 % of it over all training steps (cosine).
    seed : int, default=0
        Seed of every random state (weights if ``train`` builds the model, dropout masks,
        shuffling). Recorded in ``config.json``.
    keep_best : bool, default=True
        [P] "keeping the model that scores best": save ``best.keras`` whenever ``monitor``
        improves on the validation split and return that model. The validation split must be
        carved from the training data (see :func:`validation_split_indices`), never the probe.
    monitor : {"val_accuracy", "val_loss"}, default="val_accuracy"
        What "scores best" means. Reconstruction: tflearn's best-checkpoint mechanism keeps the
        best *validation accuracy*, so we do too; ties are broken by the lower ``val_loss``
        (validation accuracy on small splits ties often).
    shuffle : bool, default=True
        Shuffle array input every epoch with a permutation derived from ``(seed, epoch)``.
        Ignored for ``tf.data`` input, which carries its own order.
    deterministic : bool, default=True
        Call ``tf.config.experimental.enable_op_determinism()`` (process-wide and sticky: once
        on it stays on). RECONSTRUCTION 5.5: seeds alone are reproducible on CPU too, but give other
        weights than with op determinism; we pick "on" and keep it.
    verbose : {0, 1, 2}, default=1
        Keras progress output: 0 silent, 1 progress bar, 2 one line per epoch.
    """

    epochs: int = 50  # [P] 50 epochs
    batch_size: int = 100  # [P] mini-batches of 100
    learning_rate: float = 1e-3  # [P] Adam, learning rate 0.001
    optimizer: str = "adam"  # [P] Adam
    adam_epsilon: float = 1e-8  # Reconstruction: tflearn's Adam epsilon (Keras default 1e-7)
    label_smoothing: float = 0.0  # [P] plain cross-entropy
    global_clipnorm: float | None = None  # no clipping (tflearn's loop: 5.0, RECONSTRUCTION 5.3)
    lr_schedule: str = "constant"  # [P] constant learning rate
    loss: str = "cross_entropy"  # [P] softmax cross-entropy
    seed: int = 0  # one seed for every random state of the run
    keep_best: bool = True  # [P] "keeping the model that scores best"
    monitor: str = "val_accuracy"  # Reconstruction: tflearn keeps the best val accuracy
    shuffle: bool = True  # reshuffle array input every epoch (derived from seed and epoch)
    deterministic: bool = True  # tf.config.experimental.enable_op_determinism()
    verbose: int = 1  # Keras progress: 0 silent, 1 bar, 2 one line per epoch

    def __post_init__(self):
        def check(ok: bool, name: str, expected: str):
            if not ok:
                raise ValueError(
                    f"TrainConfig.{name} must be {expected}. Received: {name}="
                    f"{getattr(self, name)!r}"
                )

        check(_is_int(self.epochs) and self.epochs >= 1, "epochs", "an integer >= 1")
        check(_is_int(self.batch_size) and self.batch_size >= 1, "batch_size", "an integer >= 1")
        check(
            isinstance(self.learning_rate, int | float) and self.learning_rate > 0,
            "learning_rate",
            "a positive number",
        )
        check(self.optimizer in _OPTIMIZERS, "optimizer", f"one of {_OPTIMIZERS}")
        check(self.lr_schedule in _LR_SCHEDULES, "lr_schedule", f"one of {_LR_SCHEDULES}")
        check(self.loss in LOSSES, "loss", f"one of {LOSSES}")
        check(
            isinstance(self.adam_epsilon, int | float) and self.adam_epsilon > 0,
            "adam_epsilon",
            "a positive number",
        )
        check(
            isinstance(self.label_smoothing, int | float) and 0.0 <= self.label_smoothing < 1.0,
            "label_smoothing",
            "in [0, 1)",
        )
        check(
            self.global_clipnorm is None
            or (isinstance(self.global_clipnorm, int | float) and self.global_clipnorm >= 0),
            "global_clipnorm",
            "None or a number >= 0",
        )
        check(_is_int(self.seed) and self.seed >= 0, "seed", "an integer >= 0")
        check(self.monitor in _MONITORS, "monitor", f"one of {_MONITORS}")
        check(self.verbose in (0, 1, 2), "verbose", "0, 1 or 2")
        for name in ("keep_best", "shuffle", "deterministic"):
            check(isinstance(getattr(self, name), bool), name, "a bool")

    @classmethod
    def paper(cls) -> TrainConfig:
        """The paper's settings: Adam (lr 0.001, tflearn epsilon), batches of 100, 50 epochs."""
        return cls(
            epochs=50,
            batch_size=100,
            learning_rate=1e-3,
            optimizer="adam",
            adam_epsilon=1e-8,
            label_smoothing=0.0,
            keep_best=True,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain JSON-serialisable dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TrainConfig:
        """Build a config from a dict such as :meth:`to_dict` wrote; unknown keys are an error."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"Unknown TrainConfig field(s) {unknown}. Known fields: {sorted(known)}."
            )
        return cls(**dict(values))

    def replace(self, **changes: Any) -> TrainConfig:
        """Return a copy with some fields changed (validated like the constructor)."""
        return dataclasses.replace(self, **changes)


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


# --------------------------------------------------------------------------------------------
# Seeds, compilation
# --------------------------------------------------------------------------------------------


def set_seeds(seed: int) -> None:
    """Seed Python ``random``, numpy, TensorFlow and Keras' global seed generator.

    The one place where the project seeds global random state
    (``keras.utils.set_random_seed``). Seed before building a model to make its initial
    weights reproducible.
    """
    keras.utils.set_random_seed(int(seed))


def _derive_seed(*parts: Any) -> int:
    """A well-mixed 31-bit seed from any sequence of values (stable across processes)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def _seed_generators(model: keras.Model) -> list:
    # Keras keeps a layer's SeedGenerators (e.g. Dropout's) in ``_seed_generators``; their
    # state is NOT saved in .keras files, which is why train() re-derives it every epoch.
    generators = []
    for layer in model._flatten_layers(include_self=True, recursive=True):
        generators.extend(getattr(layer, "_seed_generators", ()))
    return generators


def _reseed_epoch(model: keras.Model, seed: int, epoch: int, *, global_tf: bool = True) -> None:
    """Make every random state of epoch ``epoch`` a function of ``(seed, epoch)`` only.

    The state of every ``SeedGenerator`` in the model (dropout masks) and Python's and numpy's
    global generators are set from ``(seed, epoch)``. TensorFlow's global seed is set too when
    ``global_tf`` - needed only for datasets that shuffle without a seed of their own (a
    user's ``tf.data`` pipeline), because ``tf.random.set_seed`` makes Keras retrace its
    training step: measured ~0.5 s per epoch, more than the arithmetic of a Table 1 classifier.
    """
    derived = _derive_seed(seed, "epoch", epoch)
    if global_tf:
        set_seeds(derived)
    else:
        random.seed(derived)
        np.random.seed(derived)  # noqa: NPY002 - the legacy global generator, for user code
    for index, generator in enumerate(_seed_generators(model)):
        state = generator.state
        value = np.array([_derive_seed(seed, "generator", epoch, index), 0])
        state.assign(value.astype(keras.backend.standardize_dtype(state.dtype)))


@keras.saving.register_keras_serializable(package="gaitcnn")
class SparseCategoricalCrossentropyWithSmoothing(keras.losses.Loss):
    """Sparse (integer-label) categorical cross-entropy with label smoothing.

    Keras 3's ``SparseCategoricalCrossentropy`` has no ``label_smoothing``; this one-hot
    encodes the integer labels and calls the categorical version.
    """

    def __init__(self, label_smoothing=0.0, name="sparse_categorical_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        n_classes = keras.ops.shape(y_pred)[-1]
        y_true = keras.ops.reshape(keras.ops.cast(y_true, "int32"), (-1,))
        y_onehot = keras.ops.one_hot(y_true, n_classes, dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(
            y_onehot, y_pred, label_smoothing=self.label_smoothing
        )

    def get_config(self):
        config = super().get_config()
        config["label_smoothing"] = self.label_smoothing
        return config


def _make_optimizer(
    config: TrainConfig, steps_per_epoch: int | None = None
) -> keras.optimizers.Optimizer:
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = config.learning_rate
    if config.lr_schedule == "cosine":
        # Paper deviation (improved preset): cosine decay over the whole run.
        if not steps_per_epoch:
            raise ValueError("lr_schedule='cosine' needs steps_per_epoch (batches per epoch)")
        learning_rate = keras.optimizers.schedules.CosineDecay(
            config.learning_rate, decay_steps=int(config.epochs * steps_per_epoch), alpha=0.01
        )
    clip = {"global_clipnorm": config.global_clipnorm} if config.global_clipnorm else {}
    if config.optimizer == "adam":
        return keras.optimizers.Adam(
            learning_rate=learning_rate, epsilon=config.adam_epsilon, **clip
        )
    return keras.optimizers.SGD(learning_rate=learning_rate, **clip)


def compile_model(
    model: keras.Model, config: TrainConfig | None = None, *, steps_per_epoch: int | None = None
) -> keras.Model:
    """Compile ``model`` for integer labels with the optimizer and loss of ``config``.

    Parameters
    ----------
    model : keras.Model
        An uncompiled model with a softmax output of shape ``(batch, n_classes)``.
    config : TrainConfig, optional
        Defaults to ``TrainConfig()``.
    steps_per_epoch : int, optional
        Batches per epoch; required by ``lr_schedule="cosine"`` (the decay spans
        ``epochs * steps_per_epoch`` steps), ignored otherwise.

    Returns
    -------
    keras.Model
        The same model, compiled (returned for chaining). XLA is switched off
        (``jit_compile=False``): on CPU it brings nothing for this size of network and it
        would make results depend on the XLA version.
    """
    config = TrainConfig() if config is None else config
    if config.loss == "am_softmax":
        from gaitcnn.models.losses import AdditiveMarginOnProbabilities

        loss = AdditiveMarginOnProbabilities()
    elif config.label_smoothing > 0:
        loss = SparseCategoricalCrossentropyWithSmoothing(config.label_smoothing)
    else:
        loss = keras.losses.SparseCategoricalCrossentropy()
    model.compile(
        optimizer=_make_optimizer(config, steps_per_epoch),
        loss=loss,
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        jit_compile=False,
    )
    return model


def validation_split_indices(
    labels: np.ndarray, *, validation_fraction: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split training images into a training part and a stratified validation part.

    Reconstruction: the paper "keeps the model that scores best" without saying on what; we
    score on a validation split carved from the training data only (never the probe).

    Parameters
    ----------
    labels : np.ndarray, shape (n_images,)
        Integer class labels of the training images.
    validation_fraction : float, default=0.1
        Share of each class moved to the validation split (rounded, at least one image for
        every class that has two or more images).
    seed : int, default=0
        Seed of the split.

    Returns
    -------
    train_indices, validation_indices : np.ndarray of int, sorted
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D. Received shape {labels.shape}.")
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(
            f"validation_fraction must be in (0, 1). Received: {validation_fraction!r}"
        )
    rng = np.random.default_rng(seed)
    validation = []
    for value in np.unique(labels):
        members = np.flatnonzero(labels == value)
        if members.size < 2:
            continue
        n_val = min(members.size - 1, max(1, round(validation_fraction * members.size)))
        validation.append(rng.choice(members, size=n_val, replace=False))
    validation_indices = np.sort(np.concatenate(validation)) if validation else np.array([], int)
    train_indices = np.setdiff1d(np.arange(labels.size), validation_indices)
    return train_indices, validation_indices


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    model : keras.Model
        The trained model: the best epoch's weights when ``keep_best`` (as ``best.keras``),
        otherwise the last epoch's (as ``final.keras``).
    history : dict[str, list]
        Per-epoch logs of the whole run, resumed epochs included (same as ``history.json``).
    best_epoch : int or None
        1-based epoch of the kept weights; None when ``keep_best`` is False.
    paths : dict[str, Path or None]
        ``config``, ``history``, ``tensorboard``, ``checkpoints``, ``last``, ``state``,
        ``best`` (None unless kept) and ``final``; empty for an in-memory run.
    wall_time_s : float
        Wall-clock time of this call (a resumed run counts only its own part).
    initial_epoch : int
        Number of epochs already completed when this call started (0 for a fresh run).
    """

    model: keras.Model
    history: dict[str, list]
    best_epoch: int | None
    paths: dict[str, Path | None]
    wall_time_s: float
    initial_epoch: int = 0


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------

TrainData = tuple[Any, np.ndarray] | tf.data.Dataset | Callable[[int], tf.data.Dataset]


def _check_arrays(data: Any, name: str) -> tuple[Any, np.ndarray]:
    if len(data) != 2:
        raise ValueError(f"{name} must be (images, labels). Received a {len(data)}-tuple.")
    images = data[0] if isinstance(data[0], CacheRows) else np.asarray(data[0])
    labels = np.asarray(data[1])
    if images.ndim != 4 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{name} must be images of shape (n_images, height, width, n_channels) and integer "
            f"labels of shape (n_images,). Received shapes {images.shape} and {labels.shape}."
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{name} labels must be integers. Received dtype {labels.dtype}.")
    return images, labels


def _check_data(train_ds, val_ds):
    if isinstance(train_ds, tuple | list):
        train_ds = _check_arrays(tuple(train_ds), "train_ds")
    elif not (isinstance(train_ds, tf.data.Dataset) or callable(train_ds)):
        raise TypeError(
            "train_ds must be (images, labels), a tf.data.Dataset or a callable "
            f"epoch -> tf.data.Dataset. Received {type(train_ds).__name__}."
        )
    if isinstance(val_ds, tuple | list):
        val_ds = _check_arrays(tuple(val_ds), "val_ds")
    elif not (val_ds is None or isinstance(val_ds, tf.data.Dataset)):
        raise TypeError(
            f"val_ds must be (images, labels), a tf.data.Dataset or None. Received "
            f"{type(val_ds).__name__}."
        )
    return train_ds, val_ds


def _epoch_source(train_data, config: TrainConfig, transform=None):
    """``epoch -> tf.data.Dataset`` of the training batches (0-based epoch).

    Arrays and cache rows are served by one :class:`gaitcnn.pipeline.EpochBatches` for the
    whole run (the same dataset object every epoch, so Keras traces its step once), each
    batch passed through ``transform`` when given.
    """
    from gaitcnn.pipeline import EpochBatches

    if isinstance(train_data, tuple):
        images, labels = train_data
        batches = EpochBatches(
            images, labels, batch_size=config.batch_size, seed=config.seed,
            shuffle=config.shuffle, transform=transform,
        )  # fmt: skip

        def source(epoch: int) -> tf.data.Dataset:
            batches.epoch = epoch
            return batches.dataset

        return source
    if isinstance(train_data, tf.data.Dataset):
        return lambda epoch: train_data

    def from_callable(epoch: int) -> tf.data.Dataset:
        dataset = train_data(epoch)
        if not isinstance(dataset, tf.data.Dataset):
            raise TypeError(
                f"train_ds(epoch) must return a tf.data.Dataset. Received {type(dataset).__name__}."
            )
        return dataset

    return from_callable


class _Validation(keras.callbacks.Callback):
    """Score the validation data after each epoch and add ``val_loss`` / ``val_accuracy`` to
    the epoch's logs, before every later callback (and Keras' History) sees them.

    One traced forward pass in inference mode instead of Keras' ``evaluate``, whose per-call
    set-up costs more than the arithmetic on the few hundred images of a Table 1 classifier.
    The loss is the compiled loss, averaged over the images.
    """

    def __init__(self, val_data, batch_size: int):
        super().__init__()
        self.val_data, self.batch_size = val_data, int(batch_size)
        self._forward = None

    def _batches(self):
        from gaitcnn.pipeline import iter_chunks

        if isinstance(self.val_data, tf.data.Dataset):
            yield from self.val_data.as_numpy_iterator()
            return
        images, labels = self.val_data
        for lo, chunk in zip(range(0, len(labels), 1024), iter_chunks(images, 1024), strict=True):
            yield chunk, labels[lo : lo + 1024]

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        if self._forward is None:
            spec = tf.TensorSpec((None, *self.model.inputs[0].shape[1:]), tf.float32)
            self._forward = tf.function(
                lambda x: self.model(x, training=False), input_signature=[spec]
            )
        loss_sum = correct = count = 0.0
        for images, labels in self._batches():
            proba = self._forward(tf.constant(images, tf.float32))
            labels = tf.constant(np.asarray(labels).astype(np.int64))
            loss_sum += float(self.model.loss(labels, proba)) * int(labels.shape[0])
            correct += float(np.sum(np.argmax(proba.numpy(), axis=1) == labels.numpy()))
            count += int(labels.shape[0])
        if count:
            logs["val_loss"], logs["val_accuracy"] = loss_sum / count, correct / count


def _steps_per_epoch(train_ds, config: TrainConfig) -> int | None:
    """Batches per epoch of ``train_ds`` (None when unknown, e.g. an infinite dataset)."""
    if isinstance(train_ds, tuple):
        return -(-int(train_ds[1].shape[0]) // config.batch_size)
    dataset = train_ds if isinstance(train_ds, tf.data.Dataset) else train_ds(0)
    n = int(dataset.cardinality())
    return n if n > 0 else None


def _describe_data(data: Any) -> dict[str, Any]:
    if isinstance(data, tuple):
        images, labels = data
        return {
            "kind": "cache rows" if isinstance(images, CacheRows) else "arrays",
            "n_images": int(labels.shape[0]),
            "image_shape": list(images.shape[1:]),
            "n_classes_present": int(np.unique(labels).size),
        }
    if isinstance(data, tf.data.Dataset):
        return {"kind": "tf.data.Dataset", "cardinality": int(data.cardinality())}
    if data is None:
        return {"kind": "none"}
    return {"kind": "callable epoch -> tf.data.Dataset"}


# --------------------------------------------------------------------------------------------
# The best epoch and the checkpoints
# --------------------------------------------------------------------------------------------


def _improved(monitor: str, logs: Mapping[str, float], best: Mapping[str, float] | None) -> bool:
    value = logs.get(monitor)
    if value is None or not np.isfinite(value):
        return False
    if best is None:
        return True
    if monitor == "val_loss":
        return value < best["val_loss"]
    if value != best[monitor]:
        return value > best[monitor]
    loss, best_loss = logs.get("val_loss", np.nan), best.get("val_loss", np.nan)
    return bool(np.isfinite(loss) and (not np.isfinite(best_loss) or loss < best_loss))


class _RunState:
    """History, the best epoch (weights in memory) and the checkpoints of one run.

    With ``paths=None`` (an in-memory run) nothing is written. Otherwise a checkpoint -
    ``history.json``, ``best.keras`` when the best changed, ``checkpoints/last.keras`` and, as
    the commit point, ``checkpoints/state.json`` - is written when ``every_s`` seconds have
    passed since the last one, and by :meth:`finish`.
    """

    def __init__(self, config: TrainConfig, paths: RunPaths | None, every_s: float):
        self.config, self.paths, self.every_s = config, paths, float(every_s)
        self.history: dict[str, list] = {}
        self.best: dict[str, float] | None = None
        self.best_epoch: int | None = None
        self.best_weights: list | None = None
        self._best_dirty = False
        self._last_checkpoint = time.monotonic()
        self._checkpointed = -1

    def restore(self, model: keras.Model, scope) -> int:
        """Load the last checkpoint of the run folder; return the epochs it completed."""
        state = _rundir.load_state(self.paths)
        if state is None:
            return 0
        with scope:  # build the optimizer's slots so load_weights restores them too
            model.optimizer.build(model.trainable_variables)
        model.load_weights(self.paths.last)
        completed = int(state["completed_epochs"])
        self.history = _rundir.load_history(self.paths, completed)
        self.best, self.best_epoch = state.get("best"), state.get("best_epoch")
        if self.best_epoch is not None and self.paths.best.exists():
            current = model.get_weights()
            model.load_weights(self.paths.best)
            self.best_weights = model.get_weights()
            model.set_weights(current)
        return completed

    def end_epoch(self, model: keras.Model, epoch: int, logs: dict, seconds: float) -> None:
        """Record epoch ``epoch`` (0-based); checkpoint if it is time."""
        self.history.setdefault("epoch", []).append(epoch + 1)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        self.history.setdefault("epoch_time_s", []).append(seconds)
        if self.config.keep_best and _improved(self.config.monitor, logs, self.best):
            self.best = {k: logs[k] for k in ("val_loss", "val_accuracy") if k in logs}
            self.best_epoch, self.best_weights = epoch + 1, model.get_weights()
            self._best_dirty = True
        if self.paths is not None and time.monotonic() - self._last_checkpoint >= self.every_s:
            self.checkpoint(model, epoch + 1)

    def checkpoint(self, model: keras.Model, completed: int) -> None:
        """Write the checkpoint of ``completed`` epochs (order: history, best, last, state)."""
        paths = self.paths
        write_json_atomic(paths.history, self.history)
        if self._best_dirty:
            current = model.get_weights()
            model.set_weights(self.best_weights)
            _rundir.atomic_save_model(model, paths.best)
            model.set_weights(current)
            self._best_dirty = False
        _rundir.atomic_save_model(model, paths.last)
        write_json_atomic(
            paths.state,
            {
                "completed_epochs": completed,
                "epochs": self.config.epochs,
                "checkpoint": paths.last.name,
                "checkpoint_sha256": _rundir.sha256(paths.last),
                "best_epoch": self.best_epoch,
                "best": self.best,
                "monitor": self.config.monitor,
                "updated_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
        self._last_checkpoint = time.monotonic()
        self._checkpointed = completed

    def finish(self, model: keras.Model, completed: int) -> dict[str, Path | None]:
        """Final checkpoint and ``final.keras``; leave the kept weights in ``model``."""
        result_paths: dict[str, Path | None] = {}
        if self.paths is not None:
            if self._checkpointed != completed:
                self.checkpoint(model, completed)
            _rundir.atomic_save_model(model, self.paths.final)
            result_paths = self.paths.as_dict()
            if not (self.config.keep_best and self.paths.best.exists()):
                result_paths["best"] = None
        if self.config.keep_best and self.best_weights is not None:
            model.set_weights(self.best_weights)
        return result_paths


# --------------------------------------------------------------------------------------------
# train()
# --------------------------------------------------------------------------------------------


def _prepare_folder(out_dir, resume: bool, overwrite: bool) -> RunPaths:
    paths = RunPaths(Path(out_dir))
    existing = paths.existing_artefacts()
    if existing and not (resume or overwrite):
        raise RunExistsError(
            f"{paths.out_dir} already holds a training run ({', '.join(existing)}). Pass "
            "resume=True to continue it or overwrite=True to replace it (CLI: --resume / "
            "--overwrite), or choose another out_dir."
        )
    if overwrite and existing:
        _rundir.remove_run(paths)
    paths.out_dir.mkdir(parents=True, exist_ok=True)
    _rundir.remove_stale_temporaries(paths)
    return paths


def _build_and_compile(model, train_ds, config: TrainConfig, strategy, scope) -> keras.Model:
    from gaitcnn._distributed import is_multi_worker, multi_worker_compat

    with scope:
        if not isinstance(model, keras.Model):
            if not callable(model):
                raise TypeError(
                    "model must be a keras.Model or a zero-argument builder. "
                    f"Received {type(model).__name__}."
                )
            model = model()
        steps = _steps_per_epoch(train_ds, config) if config.lr_schedule == "cosine" else None
        compile_model(model, config, steps_per_epoch=steps)
        if strategy is not None and is_multi_worker(strategy):
            first = next(iter(_epoch_source(train_ds, config)(0).take(1)))
            multi_worker_compat(model, (first[0][:2], first[1][:2]))
    return model


def _resume(state: _RunState, paths, model, config, model_info, scope, resume: bool,
            transform=None) -> int:  # fmt: skip
    """Check a resumed run against its folder and load its checkpoint; return its epoch."""
    if resume and paths.config.exists():
        saved = _rundir.read_json(paths.config)
        _rundir.check_resume_compatible(
            saved, config.to_dict(), TrainConfig().to_dict(), model_info, _RESUMABLE_CHANGES
        )
        now = None if transform is None else repr(transform)
        if saved.get("batch_transform") != now:
            raise ValueError(
                f"Cannot resume {paths.out_dir}: batch_transform saved "
                f"{saved.get('batch_transform')!r} != now {now!r}"
            )
    initial_epoch = state.restore(model, scope) if resume else 0
    if initial_epoch:
        _log(config, f"Resuming {paths.out_dir} after epoch {initial_epoch}/{config.epochs}.")
    elif resume and paths.existing_artefacts():
        _log(config, f"No committed epoch in {paths.out_dir}: starting at epoch 1.")
        _rundir.remove_run(paths)
        paths.out_dir.mkdir(parents=True, exist_ok=True)
    if initial_epoch > config.epochs:
        raise ValueError(
            f"The run already completed {initial_epoch} epochs; config.epochs={config.epochs} "
            "is smaller."
        )
    return initial_epoch


def _make_callbacks(config, paths, callbacks, model, *, keras_fit) -> tuple[list, OneRun]:
    tensorboard = [TensorBoardScalars(paths.tensorboard)] if paths is not None else []
    one_run = OneRun([*tensorboard, *callbacks], config.epochs)
    fit_callbacks: list[keras.callbacks.Callback] = [one_run]
    if config.verbose:
        fit_callbacks.append(Progbar(config.epochs) if keras_fit else EpochLine(config.epochs))
    one_run.set_model(model)
    one_run.set_params({"epochs": config.epochs, "verbose": config.verbose, "steps": None})
    return fit_callbacks, one_run


def train(
    model: keras.Model | Callable[[], keras.Model],
    train_ds: TrainData,
    val_ds: tuple[Any, np.ndarray] | tf.data.Dataset | None = None,
    config: TrainConfig | None = None,
    *,
    out_dir: str | os.PathLike | None = None,
    resume: bool = False,
    overwrite: bool = False,
    checkpoint_every_s: float = 60.0,
    strategy: tf.distribute.Strategy | None = None,
    callbacks: Iterable[keras.callbacks.Callback] = (),
    metadata: Mapping[str, Any] | None = None,
    batch_transform: Callable | None = None,
) -> TrainResult:
    """Train ``model``; with ``out_dir``, keep config, history, TensorBoard logs and checkpoints.

    Parameters
    ----------
    model : keras.Model or callable () -> keras.Model
        An uncompiled (or compiled, it is recompiled) model with a softmax output, or a
        zero-argument builder. A builder is called after :func:`set_seeds` ``(config.seed)``
        and inside ``strategy.scope()``, which makes the initial weights reproducible and
        places the variables correctly; a ready model must have been built by the caller
        (seed it with ``set_seeds`` first, and build it inside the strategy's scope).
    train_ds : (images, labels), tf.data.Dataset or callable epoch -> tf.data.Dataset
        Training data with integer labels.

        - ``(images, labels)``: ``images`` an array of shape ``(n_images, height, width,
          n_channels)`` or :class:`gaitcnn.cache.CacheRows`; batched and shuffled each epoch by
          :func:`gaitcnn.pipeline.epoch_batches` in an order derived from
          ``(config.seed, epoch)``. Recommended: resume is exact, memory bounded.
        - a callable ``epoch -> tf.data.Dataset`` (0-based epoch, batched): resume is exact if
          the dataset depends only on ``epoch``.
        - a batched ``tf.data.Dataset``: iterated once per epoch as it is; if it reshuffles on
          each iteration, a resumed run sees other batches (``train`` warns).
    val_ds : (images, labels), tf.data.Dataset or None
        Validation data carved from the training data (never the probe), scored after every
        epoch; required by ``config.keep_best``.
    config : TrainConfig, optional
        Defaults to ``TrainConfig()``.
    out_dir : path, optional
        Run directory (created). None: an in-memory run that writes nothing (``resume`` and
        ``overwrite`` do not apply).
    resume : bool, default=False
        Continue the run in ``out_dir`` after its last checkpoint: weights, optimizer state,
        history and best-model bookkeeping are restored, and the per-epoch seeding makes the
        continuation identical to an uninterrupted run. ``config`` must match the run's
        ``config.json`` except for ``epochs`` (which may grow) and ``verbose``.
    overwrite : bool, default=False
        Delete an earlier run's artefacts (:data:`RUN_ARTEFACTS` only) and start afresh.
    checkpoint_every_s : float, default=60.0
        Minimum seconds between checkpoints (0: after every epoch); the last epoch is always
        checkpointed. Ignored for an in-memory run.
    strategy : tf.distribute.Strategy, optional
        Build (if ``model`` is a builder) and compile the model inside ``strategy.scope()``.
    callbacks : iterable of keras.callbacks.Callback
        Extra callbacks; they see a single run (``on_train_begin``/``on_train_end`` once,
        ``params["epochs"]`` the total) and may stop it with ``model.stop_training = True``.
    metadata : mapping, optional
        JSON-serialisable facts about the run (class names, preprocessing...) stored under
        ``"metadata"`` in ``config.json``.
    batch_transform : callable, optional
        Augmentation of ``(images, labels)`` training data:
        ``batch_transform(images, seed=, epoch=, batch=) -> images`` applied to every training
        batch (:func:`gaitcnn.pipeline.numpy_batches`), e.g.
        :class:`gaitcnn.rawwindows.RotationAugment`; its ``repr`` is stored in ``config.json``.
        Not applied to validation data, nor to ``tf.data`` input (which carries its own).

    Returns
    -------
    TrainResult

    Raises
    ------
    RunExistsError
        If ``out_dir`` holds a run and neither ``resume`` nor ``overwrite`` is set.
    ValueError
        On resume, if the config or the model differ from the saved run; if ``keep_best`` is
        asked without validation data.
    """
    started = time.perf_counter()
    config = TrainConfig() if config is None else config
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig. Received {type(config).__name__}.")
    if resume and overwrite:
        raise ValueError("resume=True and overwrite=True contradict each other; pick one.")
    train_ds, val_ds = _check_data(train_ds, val_ds)
    if batch_transform is not None and not isinstance(train_ds, tuple):
        raise ValueError(
            "batch_transform applies to (images, labels) training data; a tf.data input "
            "augments itself"
        )
    if config.keep_best and val_ds is None:
        raise ValueError("keep_best=True needs validation data (val_ds); or set keep_best=False.")
    paths = None if out_dir is None else _prepare_folder(out_dir, resume, overwrite)

    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    set_seeds(config.seed)
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    model = _build_and_compile(model, train_ds, config, strategy, scope)
    model_info = _rundir.model_summary(model)
    state = _RunState(config, paths, checkpoint_every_s)
    initial_epoch = (
        0
        if paths is None
        else _resume(state, paths, model, config, model_info, scope, resume, batch_transform)
    )
    if paths is not None:
        write_json_atomic(
            paths.config,
            {
                "format_version": _CONFIG_FORMAT_VERSION,
                "train": config.to_dict(),
                "model": model_info,
                "data": {"train": _describe_data(train_ds), "validation": _describe_data(val_ds)},
                "metadata": dict(metadata) if metadata is not None else {},
                "batch_transform": None if batch_transform is None else repr(batch_transform),
                "versions": versions(),
                "command": sys.argv[:],
            },
        )
    if isinstance(train_ds, tf.data.Dataset) and initial_epoch > 0:
        warnings.warn(
            "Resuming with a plain tf.data.Dataset: if it reshuffles (or augments) on each "
            "iteration, the resumed epochs see other batches than an uninterrupted run would. "
            "Pass (images, labels) or a callable epoch -> Dataset for an exact resume.",
            stacklevel=2,
        )
    completed = _run_epochs(
        model, train_ds, val_ds, config, state, initial_epoch, callbacks, paths, strategy,
        batch_transform,
    )  # fmt: skip
    return TrainResult(
        model=model,
        history=state.history,
        best_epoch=state.best_epoch if config.keep_best else None,
        paths=state.finish(model, completed),
        wall_time_s=time.perf_counter() - started,
        initial_epoch=initial_epoch,
    )


def _run_epochs(model, train_ds, val_ds, config, state, initial_epoch, callbacks, paths,
                strategy=None, transform=None) -> int:  # fmt: skip
    """Epochs ``initial_epoch .. config.epochs - 1``; return the number completed.

    Without a strategy each epoch runs through :class:`gaitcnn._engine.StepEngine` (one traced
    step); under a strategy through Keras ``fit``, which distributes the batches.
    """
    fit_callbacks, one_run = _make_callbacks(config, paths, callbacks, model, keras_fit=strategy)
    if val_ds is not None:  # first, so later callbacks and History see the validation logs
        fit_callbacks.insert(0, _Validation(val_ds, config.batch_size))
    epoch_logs = _fit_epochs(
        model, train_ds, config, fit_callbacks, strategy is not None, transform
    )
    one_run.begin()
    last_logs: dict[str, float] = {}
    completed = initial_epoch
    model.stop_training = False
    for epoch in range(initial_epoch, config.epochs):
        epoch_started = time.perf_counter()
        # Our own batches (arrays, cache rows) draw their order from (seed, epoch) themselves.
        _reseed_epoch(model, config.seed, epoch, global_tf=not isinstance(train_ds, tuple))
        last_logs = epoch_logs(epoch)
        state.end_epoch(model, epoch, last_logs, time.perf_counter() - epoch_started)
        completed = epoch + 1
        if model.stop_training:
            _log(config, f"Stopped by a callback after epoch {epoch + 1}.")
            break
    one_run.end(last_logs)
    return completed


def _fit_epochs(model, train_ds, config: TrainConfig, fit_callbacks, keras_fit: bool,
                transform=None):  # fmt: skip
    """``epoch -> logs`` that trains one epoch, by Keras ``fit`` or by the step engine."""
    from gaitcnn._engine import StepEngine, batches_of
    from gaitcnn.pipeline import DEFAULT_MEMORY_BUDGET_MB, numpy_batches

    if keras_fit:
        source = _epoch_source(train_ds, config, transform)

        def by_fit(epoch: int) -> dict:
            history = model.fit(
                source(epoch), initial_epoch=epoch, epochs=epoch + 1, shuffle=False,
                callbacks=fit_callbacks, verbose=config.verbose,
            )  # fmt: skip
            return {key: float(values[-1]) for key, values in history.history.items()}

        return by_fit
    engine = StepEngine(model)
    for callback in fit_callbacks:
        callback.set_model(model)

    def by_step(epoch: int) -> dict:
        if isinstance(train_ds, tuple):
            batches = numpy_batches(*train_ds, config.batch_size, config.seed, epoch,
                                    config.shuffle, DEFAULT_MEMORY_BUDGET_MB,
                                    transform)  # fmt: skip
        else:
            batches = batches_of(_epoch_source(train_ds, config)(epoch))
        return {k: float(v) for k, v in engine.run_epoch(batches, fit_callbacks, epoch).items()}

    return by_step


def _log(config: TrainConfig, message: str) -> None:
    if config.verbose:
        print(message, flush=True)
