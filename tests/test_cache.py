"""Tests for gaitcnn.cache: round trip, provenance checks and atomic writes."""

import json
import os

import h5py
import numpy as np
import pytest

from gaitcnn import __version__
from gaitcnn.cache import (
    FORMAT_VERSION,
    CacheWriter,
    ImageSet,
    cache_path,
    params_hash,
    read_image_rows,
    read_image_set,
    write_image_set,
)
from gaitcnn.errors import GaitDataError

PARAMS = {"dataset": "ouisir", "width": 64, "height": 32, "channels": ["acc", "gyr"]}


def _image_set(n_per=(3, 0, 5), shape=(4, 6, 2), seed=0):
    rng = np.random.default_rng(seed)
    recordings, images, subj, rec_idx, starts = [], [], [], [], []
    for i, n in enumerate(n_per):
        recordings.append(
            {
                "key": f"{i}/gallery/seq0",
                "subject_id": 100 + i,
                "session": "gallery",
                "walk": "seq0",
                "source": f"f{i}.csv",
                "n_timepoints": 300,
                "n_skipped": 1,
                "n_images": n,
            }
        )
        images.append(rng.random((n, *shape), dtype=np.float32))
        subj += [100 + i] * n
        rec_idx += [i] * n
        starts += list(range(0, 10 * n, 10))
    return ImageSet(
        images=np.concatenate(images),
        subject_ids=np.array(subj, np.int64),
        recording_index=np.array(rec_idx, np.int32),
        starts=np.array(starts, np.int64),
        recordings=recordings,
        params=PARAMS,
        attrs={},
    )


def test_params_hash_is_stable_and_order_free():
    assert params_hash({"a": 1, "b": [1, 2]}) == params_hash({"b": [1, 2], "a": 1})
    assert params_hash({"a": 1}) != params_hash({"a": 2})
    # the hash of a fixed dict never changes between versions (cache names stay valid)
    assert params_hash({"a": 1}) == "015abd7f"
    assert cache_path("/tmp/c", "ouisir", PARAMS).name == f"ouisir-{params_hash(PARAMS)}.h5"


def test_round_trip(tmp_path):
    original = _image_set()
    path = write_image_set(tmp_path / "c.h5", original, source="test")
    back = read_image_set(path, expected_params=PARAMS)
    np.testing.assert_array_equal(back.images, original.images)
    for name in ("subject_ids", "recording_index", "starts"):
        np.testing.assert_array_equal(getattr(back, name), getattr(original, name))
    assert back.recordings == original.recordings
    assert back.params == PARAMS
    assert back.attrs["gaitcnn_version"] == __version__
    assert back.attrs["format_version"] == FORMAT_VERSION
    assert back.attrs["source"] == "test"
    assert len(back) == 8
    assert list(back.sessions) == ["gallery"] * 8
    sub = back.select(back.subject_ids == 102)
    assert len(sub) == 5 and set(sub.subject_ids) == {102}


def test_lazy_read_does_not_load_images(tmp_path):
    path = write_image_set(tmp_path / "c.h5", _image_set(), source="test")
    from gaitcnn.cache import CacheRows

    back = read_image_set(path, load_images=False)
    assert isinstance(back.images, CacheRows) and back.images.shape == (8, 4, 6, 2)
    assert len(back) == 8
    # selecting stays lazy, and reading gives the stored pixels
    chosen = back.select(np.array([5, 1]))
    assert isinstance(chosen.images, CacheRows)
    full = read_image_set(path)
    np.testing.assert_array_equal(chosen.images.read(), full.images[[5, 1]])


def test_parameter_mismatch_is_refused(tmp_path):
    path = write_image_set(tmp_path / "c.h5", _image_set(), source="test")
    other = {**PARAMS, "width": 128}
    with pytest.raises(GaitDataError, match=r"other parameters \(differing: width\)"):
        read_image_set(path, expected_params=other)


def test_other_format_version_is_refused(tmp_path):
    path = write_image_set(tmp_path / "c.h5", _image_set(), source="test")
    with h5py.File(path, "a") as fh:
        fh.attrs["format_version"] = FORMAT_VERSION + 1
    with pytest.raises(GaitDataError, match="format version"):
        read_image_set(path)


def test_foreign_files_are_refused(tmp_path):
    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as fh:
        fh["images"] = np.zeros((1, 2, 2, 1))
    with pytest.raises(GaitDataError, match="not a gaitcnn image cache"):
        read_image_set(plain)
    text = tmp_path / "text.h5"
    text.write_text("hello")
    with pytest.raises(GaitDataError, match="cannot open as HDF5"):
        read_image_set(text)
    with pytest.raises(FileNotFoundError, match="gaitcnn prepare"):
        read_image_set(tmp_path / "missing.h5")


def test_crash_mid_write_leaves_nothing_readable(tmp_path):
    path = tmp_path / "c.h5"
    with (
        pytest.raises(RuntimeError),
        CacheWriter(path, (4, 6, 2), params=PARAMS, source="test") as writer,
    ):
        writer.add_recording({"subject_id": 1, "session": "s"}, np.zeros((3, 4, 6, 2)), [0, 1, 2])
        raise RuntimeError("simulated crash")
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []  # the partial file is removed too


def test_uncommitted_writer_is_invisible(tmp_path):
    path = tmp_path / "c.h5"
    writer = CacheWriter(path, (4, 6, 2), params=PARAMS, source="test")
    writer.add_recording({"subject_id": 1, "session": "s"}, np.zeros((3, 4, 6, 2)), [0, 1, 2])
    assert not path.exists()  # a killed process leaves only a *.partial-<pid> file
    partial = [p.name for p in tmp_path.iterdir()]
    assert partial == [f"c.h5.partial-{os.getpid()}"]
    writer.commit()
    assert path.exists() and len(read_image_set(path)) == 3


def test_existing_cache_is_not_overwritten(tmp_path):
    path = write_image_set(tmp_path / "c.h5", _image_set(), source="test")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_image_set(path, _image_set(seed=1), source="test")
    write_image_set(path, _image_set(seed=1), source="test", overwrite=True)
    assert json.loads(h5py.File(path, "r").attrs["params_json"]) == PARAMS


# ---------------------------------------------------------------------------------------------
# Integrity (issue 16 items 2 and 9): a corrupted cache is an error naming the file and the check
# ---------------------------------------------------------------------------------------------


def _chunk_offset(path, name: str) -> int:
    """File offset of the first chunk of dataset ``name``."""
    with h5py.File(path, "r") as fh:
        return fh[name].id.get_chunk_info(0).byte_offset


def _flip(path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x10
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", ["subject_ids", "recording_index", "starts", "images"])
def test_flipped_byte_in_a_dataset_is_an_error(tmp_path, name):
    path = write_image_set(tmp_path / "c.h5", _image_set(), source="test")
    _flip(path, _chunk_offset(path, name) + 3)
    with pytest.raises(GaitDataError, match=rf"dataset '{name}'.*Fletcher-32") as info:
        read_image_set(path)
    assert str(path) in str(info.value)


def test_flipped_image_byte_is_caught_by_partial_reads_too(tmp_path):
    path = write_image_set(tmp_path / "c.h5", _image_set(), source="test")
    _flip(path, _chunk_offset(path, "images") + 5)
    read_image_set(path, load_images=False)  # metadata only: still readable
    with pytest.raises(GaitDataError, match="Fletcher-32"):
        read_image_rows(path, [6, 7])


def test_damaged_attributes_are_an_error(tmp_path):
    path = write_image_set(tmp_path / "c.h5", _image_set(), source="test")
    with h5py.File(path, "a") as fh:  # e.g. a damaged recordings_json (no longer JSON)
        fh.attrs["recordings_json"] = fh.attrs["recordings_json"].replace(":", ";", 1)
    with pytest.raises(GaitDataError, match="SHA-256") as info:
        read_image_set(path)
    assert str(path) in str(info.value)


def _rewrite(path, name, values):
    """Change a dataset and re-seal the attributes, as a buggy writer (not damage) would."""
    from gaitcnn.cache import _attrs_digest

    with h5py.File(path, "a") as fh:
        fh[name][...] = values
        fh.attrs["attrs_sha256"] = _attrs_digest(fh.attrs)


def test_subject_ids_must_match_the_recording_table(tmp_path):
    path = write_image_set(tmp_path / "c.h5", _image_set(), source="test")
    ids = read_image_set(path).subject_ids.copy()
    ids[4] = 999  # a phantom subject
    _rewrite(path, "subject_ids", ids)
    with pytest.raises(GaitDataError, match=r"subject_ids\[4\] = 999 but its recording"):
        read_image_set(path)


def test_recording_index_must_match_the_table(tmp_path):
    path = write_image_set(tmp_path / "c.h5", _image_set(), source="test")
    _rewrite(path, "recording_index", np.full(8, 2, np.int32))
    with pytest.raises(GaitDataError, match="recording_index does not match"):
        read_image_set(path)


def test_ae_gdi_pixels_must_lie_in_the_unit_interval(tmp_path):
    image_set = _image_set()
    params = {**PARAMS, "representation": "ae_gdi"}
    bad = ImageSet(**{**image_set.__dict__, "params": params})
    path = write_image_set(tmp_path / "c.h5", bad, source="test")
    assert len(read_image_set(path)) == 8
    images = read_image_set(path).images.copy()
    images[6, 1, 2, 0] = 7.5
    _rewrite(path, "images", images)
    with pytest.raises(GaitDataError, match=r"image 6 holds an AE-GDI pixel outside \[0, 1\]"):
        read_image_set(path)
    with pytest.raises(GaitDataError, match="image 6"):
        read_image_rows(path, [7, 6])
    assert read_image_rows(path, [0, 1]).shape == (2, 4, 6, 2)


def test_non_finite_pixels_are_refused_whatever_the_representation(tmp_path):
    path = write_image_set(tmp_path / "c.h5", _image_set(), source="test")
    images = read_image_set(path).images.copy()
    images[0, 0, 0, 1] = np.nan
    _rewrite(path, "images", images)
    with pytest.raises(GaitDataError, match="non-finite"):
        read_image_set(path)


def test_read_image_rows_keeps_order_and_repeats(tmp_path):
    original = _image_set(n_per=(3000, 0, 2000))
    path = write_image_set(tmp_path / "c.h5", original, source="test")
    index = np.array([4999, 0, 7, 7, 2500, 10])
    np.testing.assert_array_equal(read_image_rows(path, index), original.images[index])
    sparse = np.arange(0, 5000, 97)  # one read per run when the rows are sparse
    np.testing.assert_array_equal(read_image_rows(path, sparse), original.images[sparse])
    assert read_image_rows(path, []).shape == (0, 4, 6, 2)
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 5000\)"):
        read_image_rows(path, [5000])


def test_special_files_are_refused(tmp_path):
    fifo = tmp_path / "c.h5"
    os.mkfifo(fifo)
    with pytest.raises(GaitDataError, match="FIFO"):
        read_image_set(fifo)
