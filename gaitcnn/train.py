"""Stage 7: compile and train a Keras model, with checkpoints, history and exact resume.

A run lives in an explicit ``out_dir``::

    out_dir/
      config.json              resolved TrainConfig + model summary + versions + caller metadata
      history.json             per-epoch logs (dict of lists, Keras ``History`` layout + "epoch")
      tensorboard/             TensorBoard event files
      checkpoints/last.keras   model + optimizer state after the last completed epoch
      checkpoints/state.json   completed epoch count, best epoch, checksum of last.keras
      best.keras               the epoch that scored best on the validation split (keep_best)
      final.keras              the model after the last epoch

Every file is written atomically (temporary file + ``os.replace``), and ``state.json`` is
written last, so it is the commit point of an epoch: after a crash, ``train(..., resume=True)``
restarts from the last epoch that ``state.json`` records.

Reproducibility: ``train()`` calls ``model.fit`` once per epoch and, before each epoch, derives
every random state from ``(config.seed, epoch)`` - the global seeds, the state of every
``SeedGenerator`` in the model (dropout masks) and, for array input, the shuffling permutation.
Epoch ``k`` therefore does the same work whether or not the process restarted before it, and an
interrupted run resumed with ``resume=True`` ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import platform
import shutil
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Quiet TensorFlow's C++ start-up chatter unless the user chose a level (STACK.md "Noise").
# This must happen before TensorFlow is imported for the first time.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

import gaitcnn
from gaitcnn._atomic import atomic_path, remove_stale_temps, write_json_atomic

__all__ = [
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

#: Files and folders that make up a training run inside ``out_dir`` (used to detect and,
#: with ``overwrite=True``, remove an earlier run; nothing else in ``out_dir`` is touched).
RUN_ARTEFACTS = (
    "config.json",
    "history.json",
    "tensorboard",
    "checkpoints",
    "best.keras",
    "final.keras",
)

#: TrainConfig fields that may differ between an interrupted run and its resumption.
_RESUMABLE_CHANGES = frozenset({"epochs", "verbose"})

_OPTIMIZERS = ("adam", "sgd")
_LR_SCHEDULES = ("constant", "cosine")
_MONITORS = ("val_accuracy", "val_loss")
_CONFIG_FORMAT_VERSION = 1


class RunExistsError(FileExistsError):
    """Raised when ``out_dir`` already holds a run and neither resume nor overwrite was asked."""


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainConfig:
    """Training settings (paper section 1.6 of PAPER_SPEC).

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
        on it stays on). STACK.md: seeds alone are reproducible on CPU too, but give different
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
    lr_schedule: str = "constant"  # [P] constant learning rate
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


def _reseed_epoch(model: keras.Model, seed: int, epoch: int) -> None:
    """Make every random state of epoch ``epoch`` a function of ``(seed, epoch)`` only."""
    set_seeds(_derive_seed(seed, "epoch", epoch))
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
    if config.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate, epsilon=config.adam_epsilon)
    return keras.optimizers.SGD(learning_rate=learning_rate)


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
    if config.label_smoothing > 0:
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
# Files
# --------------------------------------------------------------------------------------------


def _atomic_save_model(model: keras.Model, path: Path) -> None:
    """``model.save`` to a temporary ``.keras`` file next to ``path``, then rename."""
    with atomic_path(path, suffix=".keras") as tmp:  # .best.keras.<pid>-<random>.keras
        model.save(tmp, overwrite=True)


def _remove_stale_temp_files(paths: RunPaths) -> list[Path]:
    """Delete the temporary files that killed writers left in the run folder; return them.

    E.g. the empty ``.best.keras.<pid>-<random>.keras`` of an interrupted save. Files of live
    writers are kept.
    """
    return [p for folder in (paths.out_dir, paths.checkpoints) for p in remove_stale_temps(folder)]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    return {
        "gaitcnn": gaitcnn.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def _model_summary(model: keras.Model) -> dict[str, Any]:
    def shape(tensor) -> list | None:
        try:
            return [None if d is None else int(d) for d in tensor.shape[1:]]
        except (AttributeError, TypeError):
            return None

    return {
        "name": model.name,
        "input_shape": shape(model.inputs[0]) if getattr(model, "inputs", None) else None,
        "output_shape": shape(model.outputs[0]) if getattr(model, "outputs", None) else None,
        "n_params": int(model.count_params()),
    }


@dataclass(frozen=True)
class RunPaths:
    """Where the artefacts of a run in ``out_dir`` live."""

    out_dir: Path

    @property
    def config(self) -> Path:
        return self.out_dir / "config.json"

    @property
    def history(self) -> Path:
        return self.out_dir / "history.json"

    @property
    def tensorboard(self) -> Path:
        return self.out_dir / "tensorboard"

    @property
    def checkpoints(self) -> Path:
        return self.out_dir / "checkpoints"

    @property
    def last(self) -> Path:
        return self.checkpoints / "last.keras"

    @property
    def state(self) -> Path:
        return self.checkpoints / "state.json"

    @property
    def best(self) -> Path:
        return self.out_dir / "best.keras"

    @property
    def final(self) -> Path:
        return self.out_dir / "final.keras"

    def existing_artefacts(self) -> list[str]:
        return [name for name in RUN_ARTEFACTS if (self.out_dir / name).exists()]

    def as_dict(self) -> dict[str, Path]:
        names = ("config", "history", "tensorboard", "checkpoints", "last", "state")
        return {name: getattr(self, name) for name in (*names, "best", "final")}


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
        1-based epoch of ``best.keras``; None when ``keep_best`` is False.
    paths : dict[str, Path]
        ``config``, ``history``, ``tensorboard``, ``checkpoints``, ``last``, ``state``,
        ``best`` (None unless kept) and ``final``.
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
# Callbacks
# --------------------------------------------------------------------------------------------


class _Progbar(keras.callbacks.ProgbarLogger):
    """Keras progress bar that shows "Epoch k/N" of the whole run, not of one fit() call."""

    def __init__(self, epochs: int):
        super().__init__()
        self._run_epochs = epochs

    def set_params(self, params):
        super().set_params(params)
        self.epochs = self._run_epochs

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()
        if self.verbose:
            print(f"Epoch {epoch + 1}/{self.epochs}", flush=True)


class _TensorBoardScalars(keras.callbacks.Callback):
    """Epoch-level scalars in Keras' TensorBoard layout (``train/`` and ``validation/`` runs,
    tags ``epoch_<metric>``), written with ``tf.summary.write``.

    Keras' own ``TensorBoard`` callback needs the ``tensorboard`` package (its
    ``tf.summary.scalar``), which tensorflow-cpu does not install; ``tf.summary.write`` with the
    "scalars" plugin metadata produces the same event files without it.
    """

    def __init__(self, log_dir: Path):
        super().__init__()
        self._log_dir = Path(log_dir)
        self._writers: dict[str, Any] = {}
        from tensorflow.core.framework import summary_pb2

        self._metadata = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
        )

    def on_train_begin(self, logs=None):
        for run in ("train", "validation"):
            self._writers[run] = tf.summary.create_file_writer(str(self._log_dir / run))

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            run, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            writer = self._writers.get(run)
            if writer is None:
                continue
            with writer.as_default():
                tf.summary.write(
                    f"epoch_{name}",
                    tf.constant(float(value), tf.float32),
                    step=epoch,
                    metadata=self._metadata,
                )
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


class _OneRun(keras.callbacks.Callback):
    """Forward to callbacks as if there were one ``fit()`` call, although train() makes one per
    epoch: ``on_train_begin``/``on_train_end`` are sent once (by :meth:`begin`/:meth:`end`),
    and ``params["epochs"]`` is the run's epoch count. Keeps TensorBoard's writers open and
    the state of callbacks such as EarlyStopping across epochs."""

    def __init__(self, callbacks: Sequence[keras.callbacks.Callback], epochs: int):
        super().__init__()
        self.callbacks = list(callbacks)
        self._run_epochs = epochs

    def set_model(self, model):
        super().set_model(model)
        for callback in self.callbacks:
            callback.set_model(model)

    def set_params(self, params):
        params = dict(params, epochs=self._run_epochs)
        super().set_params(params)
        for callback in self.callbacks:
            callback.set_params(params)

    def begin(self, logs=None):
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def end(self, logs=None):
        for callback in self.callbacks:
            callback.on_train_end(logs)

    def _forward(name):
        def method(self, *args, **kwargs):
            for callback in self.callbacks:
                getattr(callback, name)(*args, **kwargs)

        method.__name__ = name
        return method

    on_epoch_begin = _forward("on_epoch_begin")
    on_epoch_end = _forward("on_epoch_end")
    on_train_batch_begin = _forward("on_train_batch_begin")
    on_train_batch_end = _forward("on_train_batch_end")
    on_test_begin = _forward("on_test_begin")
    on_test_end = _forward("on_test_end")
    on_test_batch_begin = _forward("on_test_batch_begin")
    on_test_batch_end = _forward("on_test_batch_end")
    del _forward

    def on_train_begin(self, logs=None):  # sent once by begin()
        pass

    def on_train_end(self, logs=None):  # sent once by end()
        pass


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------

TrainData = tuple[np.ndarray, np.ndarray] | tf.data.Dataset | Callable[[int], tf.data.Dataset]


def _check_arrays(data: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    if len(data) != 2:
        raise ValueError(f"{name} must be (images, labels). Received a {len(data)}-tuple.")
    images, labels = np.asarray(data[0]), np.asarray(data[1])
    if images.ndim != 4 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{name} must be images of shape (n_images, height, width, n_channels) and integer "
            f"labels of shape (n_images,). Received shapes {images.shape} and {labels.shape}."
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{name} labels must be integers. Received dtype {labels.dtype}.")
    return images, labels


def _epoch_data(train_data, config: TrainConfig, epoch: int) -> dict[str, Any]:
    """Keyword arguments of ``model.fit`` for epoch ``epoch`` (0-based)."""
    if isinstance(train_data, tuple):
        images, labels = train_data
        if config.shuffle:
            order = np.random.default_rng([config.seed, epoch]).permutation(labels.shape[0])
            images, labels = images[order], labels[order]
        return {"x": images, "y": labels, "batch_size": config.batch_size}
    if isinstance(train_data, tf.data.Dataset):
        return {"x": train_data}
    dataset = train_data(epoch)
    if not isinstance(dataset, tf.data.Dataset):
        raise TypeError(
            f"train_ds(epoch) must return a tf.data.Dataset. Received {type(dataset).__name__}."
        )
    return {"x": dataset}


# --------------------------------------------------------------------------------------------
# Run directory
# --------------------------------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _check_resume_compatible(saved: Mapping[str, Any], config: TrainConfig, model_info) -> None:
    # Fields missing from an older config.json had their default value then.
    saved_train = {**TrainConfig().to_dict(), **dict(saved.get("train", {}))}
    current = config.to_dict()
    differences = sorted(
        key
        for key in set(saved_train) | set(current)
        if key not in _RESUMABLE_CHANGES and saved_train.get(key) != current.get(key)
    )
    if differences:
        details = ", ".join(
            f"{key}: saved {saved_train.get(key)!r} != now {current.get(key)!r}"
            for key in differences
        )
        raise ValueError(
            f"Cannot resume: the TrainConfig differs from the run's config.json ({details}). "
            "Only 'epochs' and 'verbose' may change on resume."
        )
    saved_model = saved.get("model", {})
    for key in ("input_shape", "output_shape", "n_params"):
        if key in saved_model and saved_model[key] != model_info[key]:
            raise ValueError(
                f"Cannot resume: the model differs from the run's ({key}: saved "
                f"{saved_model[key]!r} != now {model_info[key]!r})."
            )


def _remove_run(paths: RunPaths) -> None:
    for name in RUN_ARTEFACTS:
        target = paths.out_dir / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def _load_state(paths: RunPaths) -> dict[str, Any] | None:
    if not paths.state.exists():
        return None
    state = _read_json(paths.state)
    if not paths.last.exists():
        raise FileNotFoundError(f"{paths.state} names a checkpoint, but {paths.last} is missing.")
    if _sha256(paths.last) != state["checkpoint_sha256"]:
        raise ValueError(
            f"{paths.last} does not match {paths.state} (checksum differs): the run was "
            "interrupted while saving its checkpoint. Start again with overwrite=True."
        )
    return state


def _load_history(paths: RunPaths, completed_epochs: int) -> dict[str, list]:
    if not paths.history.exists():
        return {}
    history = _read_json(paths.history)
    # history.json is written before the checkpoint: drop epochs that were never committed.
    return {key: list(values)[:completed_epochs] for key, values in history.items()}


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


# --------------------------------------------------------------------------------------------
# train()
# --------------------------------------------------------------------------------------------


def _is_multi_worker(strategy: tf.distribute.Strategy) -> bool:
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and (
        strategy.extended._in_multi_worker_mode()
    )


def _multi_worker_compat(model: keras.Model, train_ds) -> None:
    """Work around two Keras 3.15 bugs that stop ``fit`` under MultiWorkerMirroredStrategy.

    1. ``fit`` reduces the first *distributed* batch eagerly to build the model symbolically
       (``_maybe_symbolic_build``), which raises for a ``PerReplica`` batch; we build the model,
       loss and metrics from one local batch instead and skip that step.
    2. ``reduce_per_replica`` averages the per-step metric values with
       ``strategy.reduce("MEAN", v, axis=0)``, which fails for scalar metrics; for
       multi-worker strategies we reduce with ``axis=None`` (the cross-worker mean, identical on
       every worker). Other strategies are untouched.
    """
    from keras.src.backend.tensorflow import trainer as keras_tf_trainer

    if not getattr(keras_tf_trainer.reduce_per_replica, "_gaitcnn_patched", False):
        original = keras_tf_trainer.reduce_per_replica

        def reduce_per_replica(values, strategy, reduction):
            if keras_tf_trainer._collective_all_reduce_multi_worker(strategy) and reduction in (
                "auto",
                "mean",
            ):
                return keras_tf_trainer.tree.map_structure(
                    lambda v: strategy.reduce("MEAN", v, axis=None), values
                )
            return original(values, strategy, reduction)

        reduce_per_replica._gaitcnn_patched = True
        keras_tf_trainer.reduce_per_replica = reduce_per_replica
    if isinstance(train_ds, tuple):
        images, labels = train_ds[0][:2], train_ds[1][:2]
    else:
        dataset = train_ds if isinstance(train_ds, tf.data.Dataset) else train_ds(0)
        images, labels = next(iter(dataset.take(1)))
    model._symbolic_build(data_batch=(images, labels, None))
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None


def train(
    model: keras.Model | Callable[[], keras.Model],
    train_ds: TrainData,
    val_ds: tuple[np.ndarray, np.ndarray] | tf.data.Dataset,
    config: TrainConfig | None = None,
    *,
    out_dir: str | os.PathLike,
    resume: bool = False,
    overwrite: bool = False,
    strategy: tf.distribute.Strategy | None = None,
    callbacks: Iterable[keras.callbacks.Callback] = (),
    metadata: Mapping[str, Any] | None = None,
) -> TrainResult:
    """Train ``model`` and write config, history, TensorBoard logs and checkpoints to ``out_dir``.

    Parameters
    ----------
    model : keras.Model or callable () -> keras.Model
        An uncompiled (or compiled, it is recompiled) model with a softmax output, or a
        zero-argument builder. A builder is called after :func:`set_seeds` ``(config.seed)``
        and inside ``strategy.scope()``, which makes the initial weights reproducible and
        places the variables correctly; a ready model must have been built by the caller
        (seed it with ``set_seeds`` first, and build it inside the strategy's scope).
    train_ds : (images, labels) arrays, tf.data.Dataset or callable epoch -> tf.data.Dataset
        Training data with integer labels.

        - ``(images, labels)`` numpy arrays, shapes ``(n_images, height, width, n_channels)``
          and ``(n_images,)``: ``train`` batches them (``config.batch_size``) and shuffles them
          each epoch with a permutation derived from ``(config.seed, epoch)``. Recommended:
          resume is exact.
        - a callable ``epoch -> tf.data.Dataset`` (0-based epoch, batched dataset of
          ``(images, labels)``), e.g. ``lambda epoch: make_dataset(..., seed=seed + epoch)``:
          resume is exact if the dataset depends only on ``epoch``.
        - a batched ``tf.data.Dataset``: iterated once per epoch as it is. If it reshuffles
          each iteration, its order depends on how often it has been iterated in this process,
          so a resumed run sees different batches than the uninterrupted one (same data,
          same seeds otherwise; ``train`` warns). Keras opens two iterators per ``fit`` call,
          so the order also differs from a single ``fit(epochs=N)``. Use one of the forms
          above when resume must be exact.
    val_ds : (images, labels) arrays or tf.data.Dataset
        Validation data carved from the training data (never the probe); scored after every
        epoch, and used to pick ``best.keras``.
    config : TrainConfig, optional
        Defaults to ``TrainConfig()``.
    out_dir : path
        Run directory (created). Never the current directory implicitly.
    resume : bool, default=False
        Continue the run in ``out_dir`` after its last completed epoch: weights, optimizer
        state (from ``checkpoints/last.keras``), history and best-model bookkeeping are
        restored, and the per-epoch seeding makes the continuation identical to an
        uninterrupted run. ``config`` must match the run's ``config.json`` except for
        ``epochs`` (which may grow) and ``verbose``. With no checkpoint yet, starts at epoch 0.
    overwrite : bool, default=False
        Delete an earlier run's artefacts (:data:`RUN_ARTEFACTS` only) and start afresh.
        Without it, and without ``resume``, an existing run is an error.
    strategy : tf.distribute.Strategy, optional
        Build (if ``model`` is a builder) and compile the model inside ``strategy.scope()``.
        Default: no strategy (TensorFlow's default single-device strategy).
    callbacks : iterable of keras.callbacks.Callback
        Extra callbacks. ``train`` calls ``fit`` once per epoch, but callbacks see a single run:
        ``on_train_begin``/``on_train_end`` fire once and ``params["epochs"]`` is the total.
        A callback may stop training early with ``model.stop_training = True``.
    metadata : mapping, optional
        JSON-serialisable facts about the run (data set, class names, preprocessing
        parameters...) stored under ``"metadata"`` in ``config.json``;
        :func:`gaitcnn.export.export_run` copies ``class_names`` and ``preprocessing`` from it.

    Returns
    -------
    TrainResult

    Raises
    ------
    RunExistsError
        If ``out_dir`` holds a run and neither ``resume`` nor ``overwrite`` is set.
    ValueError
        On resume, if the config or the model differ from the saved run, or the checkpoint is
        inconsistent.
    """
    started = time.perf_counter()
    config = TrainConfig() if config is None else config
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig. Received {type(config).__name__}.")
    if resume and overwrite:
        raise ValueError("resume=True and overwrite=True contradict each other; pick one.")
    if isinstance(train_ds, tuple | list):
        train_ds = _check_arrays(tuple(train_ds), "train_ds")
    elif not (isinstance(train_ds, tf.data.Dataset) or callable(train_ds)):
        raise TypeError(
            "train_ds must be (images, labels), a tf.data.Dataset or a callable "
            f"epoch -> tf.data.Dataset. Received {type(train_ds).__name__}."
        )
    if isinstance(val_ds, tuple | list):
        val_ds = _check_arrays(tuple(val_ds), "val_ds")
    elif not isinstance(val_ds, tf.data.Dataset):
        raise TypeError(
            f"val_ds must be (images, labels) or a tf.data.Dataset. Received "
            f"{type(val_ds).__name__}."
        )

    paths = RunPaths(Path(out_dir))
    existing = paths.existing_artefacts()
    if existing and not (resume or overwrite):
        raise RunExistsError(
            f"{paths.out_dir} already holds a training run ({', '.join(existing)}). Pass "
            "resume=True to continue it or overwrite=True to replace it (CLI: --resume / "
            "--overwrite), or choose another out_dir."
        )
    if overwrite and existing:
        _remove_run(paths)
    paths.out_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_temp_files(paths)

    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    set_seeds(config.seed)
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
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
        if strategy is not None and _is_multi_worker(strategy):
            _multi_worker_compat(model, train_ds)
    model_info = _model_summary(model)

    # ---- resume bookkeeping -----------------------------------------------------------------
    state = None
    history: dict[str, list] = {}
    best: dict[str, float] | None = None
    best_epoch: int | None = None
    if resume and paths.config.exists():
        _check_resume_compatible(_read_json(paths.config), config, model_info)
    if resume:
        state = _load_state(paths)
    initial_epoch = 0
    if state is not None:
        initial_epoch = int(state["completed_epochs"])
        # Build the optimizer's slots so that load_weights restores them (Adam moments and
        # its iteration count) together with the weights.
        with scope:
            model.optimizer.build(model.trainable_variables)
        model.load_weights(paths.last)
        history = _load_history(paths, initial_epoch)
        best, best_epoch = state.get("best"), state.get("best_epoch")
        _log(config, f"Resuming {paths.out_dir} after epoch {initial_epoch}/{config.epochs}.")
    elif existing and resume:
        _log(config, f"No committed epoch in {paths.out_dir}: starting at epoch 1.")
        _remove_run(paths)
    if initial_epoch > config.epochs:
        raise ValueError(
            f"The run already completed {initial_epoch} epochs; config.epochs={config.epochs} "
            "is smaller."
        )

    run_config = {
        "format_version": _CONFIG_FORMAT_VERSION,
        "train": config.to_dict(),
        "model": model_info,
        "data": {"train": _describe_data(train_ds), "validation": _describe_data(val_ds)},
        "metadata": dict(metadata) if metadata is not None else {},
        "versions": _versions(),
        "command": sys.argv[:],
    }
    write_json_atomic(paths.config, run_config)

    # ---- callbacks ----------------------------------------------------------------------------
    tensorboard = _TensorBoardScalars(paths.tensorboard)
    one_run = _OneRun([tensorboard, *callbacks], config.epochs)
    fit_callbacks: list[keras.callbacks.Callback] = [one_run]
    if config.verbose:
        fit_callbacks.insert(0, _Progbar(config.epochs))
    one_run.set_model(model)
    one_run.set_params({"epochs": config.epochs, "verbose": config.verbose, "steps": None})
    val_kwargs: dict[str, Any] = {"validation_data": val_ds}
    if isinstance(val_ds, tuple):
        val_kwargs["validation_batch_size"] = config.batch_size

    if isinstance(train_ds, tf.data.Dataset) and initial_epoch > 0:
        warnings.warn(
            "Resuming with a plain tf.data.Dataset: if it reshuffles (or augments) on each "
            "iteration, the resumed epochs see other batches than an uninterrupted run would. "
            "Pass (images, labels) arrays or a callable epoch -> Dataset for an exact resume.",
            stacklevel=2,
        )

    # ---- the epochs ---------------------------------------------------------------------------
    one_run.begin()
    last_logs: dict[str, float] = {}
    for epoch in range(initial_epoch, config.epochs):
        epoch_started = time.perf_counter()
        _reseed_epoch(model, config.seed, epoch)
        fit_history = model.fit(
            **_epoch_data(train_ds, config, epoch),
            **val_kwargs,
            initial_epoch=epoch,
            epochs=epoch + 1,
            shuffle=False,
            callbacks=fit_callbacks,
            verbose=config.verbose,
        )
        last_logs = {key: float(values[-1]) for key, values in fit_history.history.items()}
        history.setdefault("epoch", []).append(epoch + 1)
        for key, value in last_logs.items():
            history.setdefault(key, []).append(value)
        history.setdefault("epoch_time_s", []).append(time.perf_counter() - epoch_started)

        # Order matters: history, best, checkpoint, then state.json (the commit point).
        write_json_atomic(paths.history, history)
        if config.keep_best and _improved(config.monitor, last_logs, best):
            best = {k: last_logs[k] for k in ("val_loss", "val_accuracy") if k in last_logs}
            best_epoch = epoch + 1
            _atomic_save_model(model, paths.best)
        _atomic_save_model(model, paths.last)
        write_json_atomic(
            paths.state,
            {
                "completed_epochs": epoch + 1,
                "epochs": config.epochs,
                "checkpoint": paths.last.name,
                "checkpoint_sha256": _sha256(paths.last),
                "best_epoch": best_epoch,
                "best": best,
                "monitor": config.monitor,
                "updated_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
        if model.stop_training:
            _log(config, f"Stopped by a callback after epoch {epoch + 1}.")
            break
    one_run.end(last_logs)

    _atomic_save_model(model, paths.final)
    if config.keep_best and best_epoch is not None:
        model.load_weights(paths.best)
    result_paths: dict[str, Path | None] = paths.as_dict()
    if not (config.keep_best and paths.best.exists()):
        result_paths["best"] = None
    return TrainResult(
        model=model,
        history=history,
        best_epoch=best_epoch if config.keep_best else None,
        paths=result_paths,
        wall_time_s=time.perf_counter() - started,
        initial_epoch=initial_epoch,
    )


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
            "kind": "arrays",
            "n_images": int(labels.shape[0]),
            "image_shape": list(images.shape[1:]),
            "n_classes_present": int(np.unique(labels).size),
        }
    if isinstance(data, tf.data.Dataset):
        return {"kind": "tf.data.Dataset", "cardinality": int(data.cardinality())}
    return {"kind": "callable epoch -> tf.data.Dataset"}


def _log(config: TrainConfig, message: str) -> None:
    if config.verbose:
        print(message, flush=True)
