"""Stage 6: tf.data input pipelines fed from arrays or the HDF5 image cache.

This is the first module in the pipeline that imports TensorFlow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaitcnn.cache import read_image_rows

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf

__all__ = [
    "DEFAULT_MEMORY_BUDGET_MB",
    "LeakageError",
    "Split",
    "check_leakage",
    "dataset_from_cache",
    "make_dataset",
    "random_rotations",
    "split_by_recording",
]

#: Caches smaller than this are read into memory once; larger ones are streamed in chunks.
DEFAULT_MEMORY_BUDGET_MB = 2048

#: Rows read per HDF5 access when streaming: whole chunks, never single random rows (a pass of
#: single-row reads takes as long as a training epoch, see STACK.md).
STREAM_BLOCK_IMAGES = 1024


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


def random_rotations(n: int, rng: tf.random.Generator) -> tf.Tensor:
    """Draw ``n`` uniformly random 3-D rotation matrices (from random unit quaternions).

    Returns
    -------
    tf.Tensor, shape (n, 3, 3), float32
    """
    q = rng.normal((n, 4))
    q = q / tf.norm(q, axis=1, keepdims=True)
    w, x, y, z = tf.unstack(q, axis=1)
    rows = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ]
    return tf.stack([tf.stack(r, axis=1) for r in rows], axis=1)


def _rotate_batch(images, rng: tf.random.Generator):
    """Rotate each 3-axis sensor group of raw windows, shape (batch, 1, width, 3 * n_sensors)."""
    batch = tf.shape(images)[0]
    n_axes = images.shape[-1]
    groups = tf.split(images, n_axes // 3, axis=-1)
    rot = random_rotations(batch, rng)  # one rotation per window: sensors are rigidly attached
    rotated = [tf.einsum("bij,bhwj->bhwi", rot, g) for g in groups]
    return tf.concat(rotated, axis=-1)


def make_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    batch_size: int = 100,
    training: bool = False,
    seed: int = 0,
    rotation_augmentation: bool = False,
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
        Shuffle each epoch (seeded) and apply augmentation.
    seed : int, default=0
        Shuffle and augmentation seed; the same seed gives the same order every run.
    rotation_augmentation : bool, default=False
        Randomly rotate raw 3-axis windows (for the raw-signal baselines; AE-GDIs are already
        rotation invariant and must not use it).

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
    return _shuffle_batch_prefetch(
        ds, shuffle_buffer, batch_size, training, seed, rotation_augmentation
    )


def _shuffle_batch_prefetch(ds, shuffle_buffer, batch_size, training, seed, rotate):
    """The tail every pipeline shares: seeded shuffle, batch, per-batch augmentation, prefetch."""
    if training:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if training and rotate:
        rng = tf.random.Generator.from_seed(seed)
        ds = ds.map(lambda x, y: (_rotate_batch(x, rng), y), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def _stream_blocks(path: str, indices: np.ndarray, block: int, order=None):
    """Yield the images at sorted ``indices`` block by block, in block ``order``.

    Each block is read by :func:`gaitcnn.cache.read_image_rows` (contiguous reads, never
    single random-row reads, integrity checked).
    """
    n_blocks = -(-len(indices) // block)
    for b in range(n_blocks) if order is None else order:
        yield read_image_rows(path, indices[b * block : (b + 1) * block])


def dataset_from_cache(
    path,
    indices: np.ndarray,
    labels: np.ndarray,
    *,
    batch_size: int = 100,
    training: bool = False,
    seed: int = 0,
    memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
    rotation_augmentation: bool = False,
) -> tf.data.Dataset:
    """Batched dataset of the cache images at ``indices`` with the given ``labels``.

    When the selected images fit in ``memory_budget_mb`` they are read once (contiguous block
    reads) and served from memory. Otherwise they are streamed from the file in blocks of
    :data:`STREAM_BLOCK_IMAGES`: the block order is shuffled each epoch (seeded) and the images
    are shuffled within a buffer of two blocks, so memory stays bounded by the block size.

    Parameters
    ----------
    path : str or os.PathLike
        Cache file (see :mod:`gaitcnn.cache`).
    indices : np.ndarray, shape (n,)
        Rows of the cache to use.
    labels : np.ndarray, shape (n,)
        Integer label of each selected row.
    batch_size, training, seed, rotation_augmentation
        As in :func:`make_dataset`.
    memory_budget_mb : float, default=2048
        Largest selection held in memory.

    Returns
    -------
    tf.data.Dataset
    """
    path = str(Path(path))
    indices = np.asarray(indices, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int32)
    order = np.argsort(indices, kind="stable")
    indices, labels = indices[order], labels[order]
    shape = read_image_rows(path, indices[:0]).shape[1:]
    n_bytes = len(indices) * int(np.prod(shape)) * 4
    if n_bytes <= memory_budget_mb * 2**20:
        blocks = list(_stream_blocks(path, indices, STREAM_BLOCK_IMAGES))
        images = np.concatenate(blocks) if blocks else np.zeros((0, *shape), np.float32)
        return make_dataset(
            images,
            labels,
            batch_size=batch_size,
            training=training,
            seed=seed,
            rotation_augmentation=rotation_augmentation,
        )

    block = STREAM_BLOCK_IMAGES
    n_blocks = -(-len(indices) // block)
    epoch_counter = {"epoch": 0}

    def generator():
        block_order = np.arange(n_blocks)
        if training:
            rng = np.random.default_rng([seed, epoch_counter["epoch"]])
            rng.shuffle(block_order)
            epoch_counter["epoch"] += 1
        blocks = _stream_blocks(path, indices, block, block_order)
        for b, rows in zip(block_order, blocks, strict=True):
            yield rows.astype(np.float32), labels[b * block : (b + 1) * block]

    spec = (
        tf.TensorSpec(shape=(None, *shape), dtype=tf.float32),
        tf.TensorSpec(shape=(None,), dtype=tf.int32),
    )
    ds = tf.data.Dataset.from_generator(generator, output_signature=spec).unbatch()
    return _shuffle_batch_prefetch(ds, 2 * block, batch_size, training, seed, rotation_augmentation)
