"""Tests for gaitcnn.prepare: simulated data set -> image cache, end to end (numpy only)."""

import numpy as np
import pytest

from gaitcnn.cache import read_image_set
from gaitcnn.errors import GaitDataError
from gaitcnn.prepare import PrepareParams, ensure_simulated, images_for_recording, prepare_dataset


@pytest.fixture(scope="module")
def ouisir_root(tmp_path_factory):
    return ensure_simulated("ouisir", cache_dir=tmp_path_factory.mktemp("sim"), n_subjects=4)


@pytest.fixture(scope="module")
def mcgill_root(tmp_path_factory):
    return ensure_simulated(
        "mcgill", cache_dir=tmp_path_factory.mktemp("sim"), n_subjects=2, duration_s=60.0
    )


def test_params_validation_and_hash_inputs():
    p = PrepareParams.paper("ouisir")
    assert p.channels == ("acc", "gyr") and p.image_shape == (32, 64, 2)
    assert PrepareParams.paper("mcgill").image_shape == (32, 64, 1)
    assert PrepareParams.paper("ouisir", representation="raw").image_shape == (1, 64, 6)
    with pytest.raises(ValueError, match="representation"):
        PrepareParams(dataset="ouisir", representation="png")
    with pytest.raises(ValueError, match="channels"):
        PrepareParams(dataset="ouisir", channels=("mag",))
    assert p.to_dict()["channels"] == ["acc", "gyr"]


def test_ensure_simulated_is_reused(ouisir_root):
    assert (ouisir_root / ".complete").exists()
    again = ensure_simulated("ouisir", cache_dir=ouisir_root.parent, n_subjects=4)
    assert again == ouisir_root


def test_prepare_ouisir_cache(ouisir_root, tmp_path):
    params = PrepareParams.paper("ouisir")
    path = prepare_dataset(params, ouisir_root, cache_dir=tmp_path, progress=False)
    image_set = read_image_set(path, expected_params=params.to_dict())
    assert image_set.images.shape[1:] == (32, 64, 2)
    assert image_set.images.dtype == np.float32
    assert 0.0 <= image_set.images.min() and image_set.images.max() <= 1.0
    assert len(np.unique(image_set.subject_ids)) == 4
    assert set(image_set.sessions) <= {"gallery", "probe"}
    # every recording is accounted for: images + skipped = candidate starts
    for rec in image_set.recordings:
        assert rec["n_images"] + rec["n_skipped"] == rec["n_candidates"]
    # a second call reuses the cache rather than rebuilding it
    mtime = path.stat().st_mtime_ns
    assert prepare_dataset(params, ouisir_root, cache_dir=tmp_path, progress=False) == path
    assert path.stat().st_mtime_ns == mtime


def test_workers_give_identical_cache(mcgill_root, tmp_path):
    params = PrepareParams.paper("mcgill")
    one = prepare_dataset(params, mcgill_root, cache_dir=tmp_path / "a", progress=False)
    two = prepare_dataset(params, mcgill_root, cache_dir=tmp_path / "b", workers=2, progress=False)
    a, b = read_image_set(one), read_image_set(two)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.starts, b.starts)
    assert a.recordings == b.recordings
    assert len(a) > 50  # 2 subjects x 2 days x 60 s of walking at ~1 stride/s


def test_representations_and_segmentations(mcgill_root):
    from gaitcnn.io import load_mcgill

    rec = load_mcgill(mcgill_root)[0]
    for kwargs, shape in [
        ({}, (32, 64, 1)),
        ({"representation": "gdi"}, (32, 64, 1)),
        ({"representation": "raw"}, (1, 64, 3)),
        ({"segmentation": "overlap"}, (32, 64, 1)),
    ]:
        (_info, images, starts), *_ = images_for_recording(
            rec, PrepareParams.paper("mcgill", **kwargs)
        )
        assert images.shape[1:] == shape and len(images) == len(starts) > 10
    overlap = images_for_recording(rec, PrepareParams.paper("mcgill", segmentation="overlap"))
    step = np.diff(overlap[0][2])
    assert np.all(step == step[0])  # equally spaced windows


def test_gyro_channel_required(mcgill_root):
    from gaitcnn.io import load_mcgill

    rec = load_mcgill(mcgill_root)[0].replace(gyr=None)
    with pytest.raises(GaitDataError, match="gyroscope"):
        images_for_recording(rec, PrepareParams(dataset="mcgill", channels=("acc", "gyr")))


def test_other_data_root_gets_its_own_cache(ouisir_root, tmp_path):
    """Same parameters, different data sets: two cache files, never a stale reuse."""
    small = ensure_simulated("ouisir", cache_dir=ouisir_root.parent, n_subjects=2)
    params = PrepareParams.paper("ouisir")
    a = prepare_dataset(params, ouisir_root, cache_dir=tmp_path, progress=False)
    b = prepare_dataset(params, small, cache_dir=tmp_path, progress=False)
    assert a != b
    assert len(np.unique(read_image_set(b).subject_ids)) == 2


def test_half_written_simulation_of_a_dead_process_is_removed(tmp_path):
    stale = tmp_path / "simulated-ouisir-n2-seed0.partial-999999999"  # no such pid
    stale.mkdir()
    (stale / "junk.csv").write_text("rows: 1\n")
    root = ensure_simulated("ouisir", cache_dir=tmp_path, n_subjects=2)
    assert (root / ".complete").exists() and not stale.exists()
