"""Tests for gaitcnn.pipeline: tf.data datasets from arrays and from the HDF5 cache."""

import numpy as np
import pytest

pytestmark = pytest.mark.tf

tf = pytest.importorskip("tensorflow")

from gaitcnn.cache import ImageSet, write_image_set  # noqa: E402
from gaitcnn.pipeline import (  # noqa: E402
    LeakageError,
    check_leakage,
    dataset_from_cache,
    make_dataset,
    split_by_recording,
)


def _arrays(n=250, shape=(4, 6, 1), seed=0):
    rng = np.random.default_rng(seed)
    images = rng.random((n, *shape), dtype=np.float32)
    images[:, 0, 0, 0] = np.arange(n)  # identify each image by its first pixel
    labels = np.arange(n) % 5
    return images, labels


def _epoch_ids(ds):
    return np.concatenate([x[:, 0, 0, 0].numpy() for x, _ in ds]).astype(int)


def test_make_dataset_shapes_and_coverage():
    images, labels = _arrays()
    ds = make_dataset(images, labels, batch_size=100, training=True, seed=3)
    assert ds.element_spec[0].shape.as_list() == [None, 4, 6, 1]
    assert ds.element_spec[1].dtype == tf.int32
    sizes = [int(x.shape[0]) for x, _ in ds]
    assert sizes == [100, 100, 50]
    ids = _epoch_ids(ds)
    assert sorted(ids) == list(range(250))  # every image exactly once per epoch
    for x, y in ds:  # labels travel with their images
        np.testing.assert_array_equal(y.numpy(), x[:, 0, 0, 0].numpy().astype(int) % 5)


def test_shuffle_is_seeded_and_reshuffles_each_epoch():
    images, labels = _arrays()
    a = make_dataset(images, labels, training=True, seed=1)
    b = make_dataset(images, labels, training=True, seed=1)
    first_a, first_b = _epoch_ids(a), _epoch_ids(b)
    np.testing.assert_array_equal(first_a, first_b)
    assert not np.array_equal(first_a, _epoch_ids(a))  # second epoch differs
    assert not np.array_equal(first_a, np.arange(250))
    c = make_dataset(images, labels, training=True, seed=2)
    assert not np.array_equal(first_a, _epoch_ids(c))
    plain = make_dataset(images, labels, training=False)
    np.testing.assert_array_equal(_epoch_ids(plain), np.arange(250))


def _cache(tmp_path, n_rec=6, per=40, shape=(4, 6, 1)):
    rng = np.random.default_rng(0)
    n = n_rec * per
    images = rng.random((n, *shape), dtype=np.float32)
    images[:, 0, 0, 0] = np.arange(n)
    rec = np.repeat(np.arange(n_rec), per).astype(np.int32)
    recordings = [{"key": f"r{i}", "subject_id": i % 3, "session": "gallery"} for i in range(n_rec)]
    image_set = ImageSet(
        images=images,
        subject_ids=(rec % 3).astype(np.int64),
        recording_index=rec,
        starts=np.zeros(n, np.int64),
        recordings=recordings,
        params={"p": 1},
        attrs={},
    )
    return write_image_set(tmp_path / "c.h5", image_set, source="test"), image_set


@pytest.mark.parametrize("budget_mb", [1000, 0.01])  # in memory, and streamed in blocks
def test_dataset_from_cache(tmp_path, budget_mb, monkeypatch):
    import gaitcnn.pipeline as pipeline

    monkeypatch.setattr(pipeline, "STREAM_BLOCK_IMAGES", 32)
    path, image_set = _cache(tmp_path)
    idx = np.arange(0, 240, 2)[::-1]  # unsorted selection
    labels = image_set.subject_ids[idx]
    ds = dataset_from_cache(
        path, idx, labels, batch_size=50, training=True, seed=0, memory_budget_mb=budget_mb
    )
    seen = []
    for x, y in ds:
        ids = x[:, 0, 0, 0].numpy().astype(int)
        np.testing.assert_array_equal(y.numpy(), image_set.subject_ids[ids])
        seen.append(ids)
    seen = np.concatenate(seen)
    assert sorted(seen) == sorted(idx)
    again = np.concatenate([x[:, 0, 0, 0].numpy().astype(int) for x, _ in ds])
    assert sorted(again) == sorted(idx) and not np.array_equal(seen, again)


def test_split_by_recording_keeps_recordings_together():
    rec = np.repeat(np.arange(30), 7)
    labels = rec % 3
    split = split_by_recording(rec, labels, validation_fraction=0.2, seed=0)
    assert len(np.intersect1d(rec[split.train], rec[split.validation])) == 0
    assert len(split.train) + len(split.validation) == len(rec)
    assert len(np.unique(rec[split.validation])) == 6  # 2 of the 10 recordings of each class
    for c in range(3):
        assert np.any(labels[split.train] == c)
    again = split_by_recording(rec, labels, validation_fraction=0.2, seed=0)
    np.testing.assert_array_equal(split.validation, again.validation)


def test_single_recording_class_stays_in_training():
    rec = np.array([0, 0, 1, 1, 2, 2])
    labels = np.array([0, 0, 1, 1, 1, 1])
    split = split_by_recording(rec, labels, validation_fraction=0.5, seed=0)
    assert set(labels[split.train]) == {0, 1}


def test_leakage_is_reported():
    rec = np.array([0, 0, 1, 1])
    with pytest.raises(LeakageError, match=r"1 recording.*: 1$"):
        check_leakage(np.array([0, 1, 2]), np.array([3]), rec)
    check_leakage(np.array([0, 1]), np.array([2, 3]), rec)
