"""Stage 6: tf.data input pipelines fed from arrays or the HDF5 image cache.

This is the first module in the pipeline that imports TensorFlow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from gaitcnn.cache import CacheRows

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf

__all__ = [
    "DEFAULT_MEMORY_BUDGET_MB",
    "LeakageError",
    "Split",
    "check_leakage",
    "dataset_from_cache",
    "epoch_batches",
    "iter_chunks",
    "make_dataset",
    "numpy_batches",
    "split_by_recording",
]

#: Selections of cached images up to this size are read into memory once per epoch; larger ones
#: are streamed in blocks, so the memory of a training run does not grow with the data (256 MB
#: holds the paper preset's AE-GDIs of all 744 OU-ISIR subjects eight times over).
DEFAULT_MEMORY_BUDGET_MB = 256

#: Images per block when a selection is streamed: each block is a few contiguous HDF5 reads, and
#: batches are shuffled within a block after the block order is shuffled (never single random-row
#: reads: a pass of those takes as long as a training epoch, see RECONSTRUCTION 5).
STREAM_BLOCK_IMAGES = 4096


class LeakageError(ValueError):
    """Raised when images of one recording end up on both sides of a split."""


@dataclass(frozen=True)
class Split:
    """Indices of a train/validation split that keeps every recording on one side."""

    train: np.ndarray
    validation: np.ndarray


def split_by_recording(
    recording_index: np.ndarray,
    labels: np.ndarray,
    *,
    validation_fraction: float = 0.1,
    seed: int = 0,
) -> Split:
    """Split image indices so that all images of one recording fall on the same side.

    Recordings are drawn per class so every class keeps training images; a class with a single
    recording keeps it in training. Long recordings (McGill days) should be cut into blocks
    (pass a block id as ``recording_index``) so the validation side is not empty.

    Parameters
    ----------
    recording_index : np.ndarray, shape (n_images,)
        Group of each image (recording, segment or block id).
    labels : np.ndarray, shape (n_images,)
        Class of each image.
    validation_fraction : float, default=0.1
        Share of each class's groups held out for validation.
    seed : int, default=0
        Seed of the draw.

    Returns
    -------
    Split
    """
    if not 0.0 <= validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in [0, 1), received: {validation_fraction}")
    recording_index = np.asarray(recording_index)
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    val_groups = []
    for label in np.unique(labels):
        groups = np.unique(recording_index[labels == label])
        n_val = round(validation_fraction * len(groups))
        n_val = min(n_val, len(groups) - 1)
        if n_val > 0:
            val_groups.append(rng.choice(groups, size=n_val, replace=False))
    val_set = np.concatenate(val_groups) if val_groups else np.array([], dtype=int)
    is_val = np.isin(recording_index, val_set)
    split = Split(train=np.flatnonzero(~is_val), validation=np.flatnonzero(is_val))
    check_leakage(split.train, split.validation, recording_index)
    return split


def check_leakage(train_idx, validation_idx, recording_index) -> None:
    """Raise :class:`LeakageError` naming the recordings that appear on both sides."""
    recording_index = np.asarray(recording_index)
    shared = np.intersect1d(recording_index[train_idx], recording_index[validation_idx])
    if shared.size:
        listed = ", ".join(str(v) for v in shared[:10])
        raise LeakageError(
            f"{shared.size} recording(s) have images in both training and validation: {listed}"
        )


def make_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    batch_size: int = 100,
    training: bool = False,
    seed: int = 0,
) -> tf.data.Dataset:
    """Batched dataset from in-memory arrays, shuffled with a fixed seed when training.

    Parameters
    ----------
    images : np.ndarray, shape (n_images, height, width, n_channels)
    labels : np.ndarray, shape (n_images,)
        Integer class labels.
    batch_size : int, default=100
        Mini-batch size [paper: 100].
    training : bool, default=False
        Shuffle each epoch (seeded).
    seed : int, default=0
        Shuffle seed; the same seed gives the same order every run.

    Returns
    -------
    tf.data.Dataset
        Elements ``(images, labels)`` of shapes ``(batch, h, w, c)`` and ``(batch,)``.
    """
    images = np.asarray(images, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int32)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{images.shape[0]} images but {labels.shape[0]} labels")
    ds = tf.data.Dataset.from_tensor_slices((images, labels))
    shuffle_buffer = max(len(labels), 1)
    if training:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _epoch_order(n: int, block: int | None, seed: int, epoch: int, shuffle: bool) -> np.ndarray:
    """Positions in the order epoch ``epoch`` visits them (a function of seed and epoch only).

    With ``block`` set, the positions are shuffled only within consecutive blocks of that size
    and the block order is shuffled: a streamed selection is then read block by block.
    """
    if not shuffle:
        return np.arange(n)
    rng = np.random.default_rng([seed, epoch])
    if block is None:
        return rng.permutation(n)
    starts = rng.permutation(np.arange(0, n, block))
    return np.concatenate([s + rng.permutation(min(block, n - s)) for s in starts])


def numpy_batches(images, labels, batch_size, seed, epoch, shuffle, memory_budget_mb,
                  transform=None):  # fmt: skip
    """Yield the ``(images, labels)`` numpy batches of one epoch (see :func:`epoch_batches`).

    ``transform`` (optional) is the one place where training data are augmented: a callable
    ``transform(images, seed=, epoch=, batch=) -> images`` applied to every batch (``batch``:
    its 0-based index in the epoch), e.g. :class:`gaitcnn.rawwindows.RotationAugment`. It
    must draw its randomness from those arguments only, so a resumed run stays exact.
    """
    streamed = isinstance(images, CacheRows) and images.nbytes > memory_budget_mb * 2**20
    if isinstance(images, CacheRows) and not streamed:
        images = images.read()
    n = labels.shape[0]
    order = _epoch_order(n, STREAM_BLOCK_IMAGES if streamed else None, seed, epoch, shuffle)
    step = STREAM_BLOCK_IMAGES if streamed else max(n, 1)
    index = 0
    for lo in range(0, n, step):
        span = order[lo : lo + step]
        block, local = (images.read(span), np.arange(span.size)) if streamed else (images, span)
        for b in range(0, span.size, batch_size):
            batch = np.asarray(block[local[b : b + batch_size]], dtype=np.float32)
            if transform is not None:
                batch = transform(batch, seed=seed, epoch=epoch, batch=index)
            index += 1
            yield batch, labels[span[b : b + batch_size]]


def _batch_spec(images) -> tuple:
    return (
        tf.TensorSpec(shape=(None, *images.shape[1:]), dtype=tf.float32),
        tf.TensorSpec(shape=(None,), dtype=tf.int32),
    )


def epoch_batches(
    images,
    labels,
    *,
    batch_size: int = 100,
    seed: int = 0,
    epoch: int = 0,
    shuffle: bool = True,
    memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
    transform=None,
) -> tf.data.Dataset:
    """The batches of one training epoch, in an order that depends only on ``(seed, epoch)``.

    The one way training data reaches a network, from memory or from the HDF5 cache: a
    selection of cached images that fits ``memory_budget_mb`` is read once and served from
    memory; a larger one is streamed in blocks of :data:`STREAM_BLOCK_IMAGES` images (block
    order shuffled, images shuffled within a block), so peak memory stays bounded.

    Parameters
    ----------
    images : np.ndarray, shape (n, height, width, n_channels), or gaitcnn.cache.CacheRows
    labels : np.ndarray of int, shape (n,)
    batch_size : int, default=100
        [P] mini-batches of 100.
    seed, epoch : int
        The order of epoch ``epoch`` is drawn from ``(seed, epoch)``, so a resumed run sees the
        same batches as an uninterrupted one.
    shuffle : bool, default=True
    memory_budget_mb : float, default=256
    transform : callable, optional
        Per-batch augmentation (see :func:`numpy_batches`); None: the batches as read.

    Returns
    -------
    tf.data.Dataset
        ``(images, labels)`` batches, float32 and int32, prefetched.
    """
    epochs = EpochBatches(images, labels, batch_size=batch_size, seed=seed, shuffle=shuffle,
                          memory_budget_mb=memory_budget_mb, transform=transform)  # fmt: skip
    epochs.epoch = epoch
    return epochs.dataset


class EpochBatches:
    """One ``tf.data.Dataset`` that serves the batches of whichever epoch :attr:`epoch` names.

    :func:`gaitcnn.train.train` sets ``epoch`` before each epoch and iterates the same dataset
    object every time: Keras traces its training step once per dataset object, so a new
    dataset per epoch would retrace it every epoch. Every iteration started while ``epoch``
    is ``k`` yields the batches of epoch ``k`` (see :func:`epoch_batches`), however often it is
    iterated, which keeps a resumed run exact.

    Parameters
    ----------
    images, labels, batch_size, seed, shuffle, memory_budget_mb, transform
        As in :func:`epoch_batches`.
    """

    def __init__(
        self,
        images,
        labels,
        *,
        batch_size: int = 100,
        seed: int = 0,
        shuffle: bool = True,
        memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
        transform=None,
    ):
        self.labels = np.asarray(labels, dtype=np.int32)
        if len(images) != self.labels.shape[0]:
            raise ValueError(f"{len(images)} images but {self.labels.shape[0]} labels")
        self.images, self.epoch = images, 0
        self.batch_size, self.seed, self.shuffle = batch_size, seed, shuffle
        self.memory_budget_mb, self.transform = memory_budget_mb, transform
        ds = tf.data.Dataset.from_generator(self._batches, output_signature=_batch_spec(images))
        n_batches = -(-self.labels.shape[0] // batch_size)
        ds = ds.apply(tf.data.experimental.assert_cardinality(n_batches))
        self.dataset = ds.prefetch(tf.data.AUTOTUNE)

    def _batches(self):
        return numpy_batches(
            self.images, self.labels, self.batch_size, self.seed, self.epoch, self.shuffle,
            self.memory_budget_mb, self.transform,
        )  # fmt: skip


def iter_chunks(images, chunk: int = 1024):
    """Yield consecutive chunks of ``images`` (an array or :class:`gaitcnn.cache.CacheRows`)."""
    for lo in range(0, len(images), chunk):
        positions = np.arange(lo, min(lo + chunk, len(images)))
        yield images.read(positions) if isinstance(images, CacheRows) else images[positions]


def dataset_from_cache(
    path,
    indices: np.ndarray,
    labels: np.ndarray,
    *,
    batch_size: int = 100,
    training: bool = False,
    seed: int = 0,
    memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
) -> tf.data.Dataset:
    """Batched dataset of the cache images at ``indices`` that reshuffles on every iteration.

    For code that iterates one dataset for several epochs; :func:`gaitcnn.train.train` uses
    :func:`epoch_batches`, whose order is a function of ``(seed, epoch)``. Images are read as
    :func:`epoch_batches` reads them: in memory, or streamed by blocks.

    Parameters
    ----------
    path : str or os.PathLike
        Cache file (see :mod:`gaitcnn.cache`).
    indices : np.ndarray, shape (n,)
        Rows of the cache to use.
    labels : np.ndarray, shape (n,)
        Integer label of each selected row.
    batch_size, training, seed
        As in :func:`make_dataset`.
    memory_budget_mb : float, default=256
        Largest selection held in memory.

    Returns
    -------
    tf.data.Dataset
    """
    rows = CacheRows(path, indices)
    labels = np.asarray(labels, dtype=np.int32)
    iteration = {"epoch": 0}

    def generator():
        epoch = iteration["epoch"]
        iteration["epoch"] += 1
        yield from numpy_batches(rows, labels, batch_size, seed, epoch, training, memory_budget_mb)

    ds = tf.data.Dataset.from_generator(generator, output_signature=_batch_spec(rows))
    return ds.prefetch(tf.data.AUTOTUNE)
