"""The epoch engine of :func:`gaitcnn.train.train`: one traced training step, batches from numpy.

Keras ``fit`` sets up an iterator, callbacks and metrics on every call; on the few hundred
images of a Table 1 classifier that costs about as much as the arithmetic. Without a
``tf.distribute`` strategy, ``train`` runs each epoch here instead: the compiled model's own loss
and optimizer in one ``tf.function`` (traced once per model), batches fed as tensors, the same
callbacks called at the same points. Under a strategy, ``train`` keeps Keras ``fit``, which
distributes batches and all-reduces gradients.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

__all__ = ["StepEngine", "batches_of"]


def batches_of(dataset):
    """Numpy ``(images, labels)`` batches of a batched ``tf.data.Dataset``."""
    yield from dataset.as_numpy_iterator()


class StepEngine:
    """Train a compiled Keras model one epoch at a time with a single traced step.

    Parameters
    ----------
    model : keras.Model
        Compiled (:func:`gaitcnn.train.compile_model`): its ``loss`` and ``optimizer`` are used.
    """

    def __init__(self, model: keras.Model):
        self.model = model
        variables = model.trainable_variables
        model.optimizer.build(variables)
        spec = tf.TensorSpec((None, *model.inputs[0].shape[1:]), tf.float32)
        label_spec = tf.TensorSpec((None,), tf.int64)

        @tf.function(input_signature=[spec, label_spec], reduce_retracing=True)
        def step(images, labels):
            with tf.GradientTape() as tape:
                proba = model(images, training=True)
                loss = model.loss(labels, proba)
            gradients = tape.gradient(loss, variables)
            model.optimizer.apply_gradients(zip(gradients, variables, strict=True))
            correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(proba, axis=1), labels), tf.float32))
            return loss, correct

        self._step = step

    def run_epoch(self, batches, callbacks, epoch: int) -> dict:
        """Train on ``batches`` (numpy ``(images, labels)`` pairs); return the epoch's logs.

        ``loss`` is the mean training loss over the images (per-batch means weighted by batch
        size), ``accuracy`` the share of training images classified right during the epoch,
        as Keras reports them. ``callbacks`` (a list) are called in order with one logs dict,
        so what one adds (the validation scores) the next ones and the result see.
        """
        for callback in callbacks:
            callback.on_epoch_begin(epoch)
        loss_sum = correct = count = 0.0
        for index, (images, labels) in enumerate(batches):
            for callback in callbacks:
                callback.on_train_batch_begin(index)
            loss, right = self._step(
                tf.constant(images, tf.float32), tf.constant(np.asarray(labels), tf.int64)
            )
            n = len(labels)
            loss_sum += float(loss) * n
            correct += float(right)
            count += n
            for callback in callbacks:
                callback.on_train_batch_end(index, {"loss": float(loss)})
        logs = {"loss": loss_sum / max(count, 1), "accuracy": correct / max(count, 1)}
        for callback in callbacks:
            callback.on_epoch_end(epoch, logs)
        return logs
