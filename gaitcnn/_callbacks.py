"""Keras callbacks of :func:`gaitcnn.train.train`: whole-run progress bar, TensorBoard scalars
without the ``tensorboard`` package, and a forwarder that makes one ``fit`` call per epoch look
like a single run to user callbacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

__all__ = ["EpochLine", "OneRun", "Progbar", "TensorBoardScalars"]


class Progbar(keras.callbacks.ProgbarLogger):
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


class EpochLine(keras.callbacks.Callback):
    """One line per epoch: ``Epoch k/N - 1.2s - loss: ... - accuracy: ... - val_loss: ...``."""

    def __init__(self, epochs: int):
        super().__init__()
        self._epochs = epochs
        self._started = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        import time

        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        import time

        values = " - ".join(f"{k}: {v:.4f}" for k, v in (logs or {}).items())
        seconds = time.perf_counter() - self._started
        print(f"Epoch {epoch + 1}/{self._epochs} - {seconds:.1f}s - {values}", flush=True)


class TensorBoardScalars(keras.callbacks.Callback):
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


class OneRun(keras.callbacks.Callback):
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
