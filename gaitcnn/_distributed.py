"""Multi-worker training support for :func:`gaitcnn.train.train` (see docs/DISTRIBUTED.md)."""

from __future__ import annotations

import keras
import tensorflow as tf

__all__ = ["is_multi_worker", "multi_worker_compat"]


def is_multi_worker(strategy: tf.distribute.Strategy) -> bool:
    """Is ``strategy`` a MultiWorkerMirroredStrategy that really spans several workers?"""
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and (
        strategy.extended._in_multi_worker_mode()
    )


def multi_worker_compat(model: keras.Model, first_batch) -> None:
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
    images, labels = first_batch
    model._symbolic_build(data_batch=(images, labels, None))
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None
