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


# ---- dense segmentation (improved preset) ---------------------------------------------------

#: The keys of ``PrepareParams.to_dict()`` before the dense segmentation was added. The paper
#: preset's dict (hence its cache hash and file name) must keep exactly these keys. (The
#: values of ``detection`` follow the cycle detector, so the hash itself is not frozen here.)
PAPER_KEYS = {
    "dataset", "representation", "segmentation", "channels", "width", "height", "edge",
    "rate_hz", "max_gap_s", "detection", "subset", "sensor",
}  # fmt: skip


def test_paper_preset_cache_hashes_unchanged():
    import dataclasses
    import json

    from gaitcnn.cache import params_hash

    cases = [
        PrepareParams.paper("ouisir"),
        PrepareParams.paper("mcgill"),
        PrepareParams.paper("ouisir", representation="gdi"),
        PrepareParams.paper("ouisir", segmentation="overlap", edge="pad"),
    ]
    for params in cases:
        old_style = json.loads(json.dumps(dataclasses.asdict(params)))
        old_style = {k: v for k, v in old_style.items() if k in PAPER_KEYS}
        assert set(params.to_dict()) == PAPER_KEYS
        assert params_hash(params.to_dict()) == params_hash(old_style)
    improved = PrepareParams.improved("ouisir")
    assert improved.to_dict()["dense_step"] == 4
    # dense images do not depend on the cycle detector: its parameters are not hashed
    assert improved.to_dict()["detection"] == {}


def test_dense_params_validation():
    with pytest.raises(ValueError, match="dense_step"):
        PrepareParams(dataset="ouisir", segmentation="dense")
    with pytest.raises(ValueError, match="dense_step"):
        PrepareParams(dataset="ouisir", dense_step=4)
    with pytest.raises(ValueError, match="ae_gdi"):
        PrepareParams(dataset="ouisir", representation="gdi", channels=("acc", "acc_mag"))
    p = PrepareParams.improved("ouisir", channels=("acc", "gyr", "acc_mag", "gyr_mag"))
    assert p.image_shape == (32, 64, 4)


def test_dense_images_positions_and_shapes(mcgill_root):
    from gaitcnn.images import ae_gdi, magnitude_image
    from gaitcnn.io import load_mcgill
    from gaitcnn.resample import resample_recording

    rec = load_mcgill(mcgill_root)[0]
    params = PrepareParams.improved("mcgill", dense_step=10, channels=("acc", "acc_mag"))
    out = images_for_recording(rec, params)
    segments = resample_recording(rec, rate_hz=params.rate_hz, max_gap_s=params.max_gap_s)
    assert len(out) == len(segments)
    for (info, images, starts), segment in zip(out, segments, strict=True):
        n = info["n_timepoints"]
        # every 10th sample from 0 while the 64 columns fit ("pad" edge), nothing skipped
        np.testing.assert_array_equal(starts, np.arange(0, n - 64 + 1, 10))
        assert info["n_skipped"] == 0
        assert images.shape == (len(starts), 32, 64, 2)
        np.testing.assert_array_equal(images[:, :, :, 0], ae_gdi(segment.acc, starts, edge="pad"))
        np.testing.assert_allclose(
            images[:3, :, :, 1],
            magnitude_image(segment.acc, starts[:3], offset=9.80665, scale=9.80665, edge="pad"),
        )
    # a strict dense segmentation keeps the full margins
    strict = PrepareParams.improved("mcgill", dense_step=10, edge="strict")
    (_info, _images, starts), *_ = images_for_recording(rec, strict)
    assert starts[0] == 32 and starts[-1] <= out[0][0]["n_timepoints"] - 96
