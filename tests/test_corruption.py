"""Corruption (issue 16, "done when"): flip seeded random bytes of a cache and of a .keras file.

Every flip must be either harmless (the file reads back bit-identical to the original) or
reported as a :class:`~gaitcnn.errors.GaitDataError` that names the file; a flip that gives
other data without an error ("silently wrong") or any other exception fails the test. The fast
variants flip a few dozen bytes; the ``slow`` ones flip thousands and print the counts.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from gaitcnn.cache import read_image_rows, read_image_set
from gaitcnn.errors import GaitDataError
from gaitcnn.prepare import PrepareParams, ensure_simulated, prepare_dataset


def _flipped_copy(original: Path, folder: Path, rng, offsets=None) -> tuple[Path, int]:
    """Copy ``original`` into ``folder`` with one byte changed, at a random position among
    ``offsets`` (default: anywhere in the file)."""
    data = bytearray(original.read_bytes())
    offset = int(rng.choice(offsets) if offsets is not None else rng.integers(len(data)))
    data[offset] ^= int(rng.integers(1, 256))  # a non-zero mask: the byte always changes
    path = folder / original.name
    path.write_bytes(bytes(data))
    return path, offset


def _classify(path: Path, read, same) -> str:
    """``harmless``, ``reported`` or ``silently wrong``; any other exception propagates."""
    try:
        value = read(path)
    except GaitDataError as exc:
        assert str(path) in str(exc), f"the error does not name the file: {exc}"
        assert "\n" not in str(exc)
        return "reported"
    return "harmless" if same(value) else "silently wrong"


def _flip_many(
    original: Path, tmp_path: Path, n_flips: int, seed: int, read, same, offsets=None
) -> Counter:
    rng = np.random.default_rng(seed)
    counts: Counter = Counter()
    wrong = []
    for k in range(n_flips):
        folder = tmp_path / f"flip{k}"
        folder.mkdir()
        path, offset = _flipped_copy(original, folder, rng, offsets)
        outcome = _classify(path, read, same)
        counts[outcome] += 1
        if outcome == "silently wrong":
            wrong.append(offset)
        shutil.rmtree(folder)
    where = "anywhere" if offsets is None else f"among {len(offsets)} chosen bytes"
    print(f"\n{original.name} ({original.stat().st_size} bytes), {n_flips} flips {where}: "
          f"{dict(counts)}")  # fmt: skip
    assert not wrong, f"flips at offsets {wrong} gave other data without an error"
    return counts


# ---------------------------------------------------------------------------------------------
# Image cache
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cache")
    root = ensure_simulated("ouisir", cache_dir=folder, n_subjects=3, progress=False)
    params = PrepareParams.paper("ouisir")
    path = prepare_dataset(params, root, cache_dir=folder, progress=False)
    return path, read_image_set(path)


def _outside_image_chunks(path: Path) -> np.ndarray:
    """Offsets of every byte but the image chunks' (HDF5 metadata, attributes, small datasets):
    a uniform flip lands in the images almost always, these are where subtle damage hides."""
    import h5py

    inside = np.zeros(path.stat().st_size, dtype=bool)
    with h5py.File(path, "r") as fh:
        images = fh["images"].id
        for k in range(images.get_num_chunks()):
            info = images.get_chunk_info(k)
            inside[info.byte_offset : info.byte_offset + info.size] = True
    return np.flatnonzero(~inside)


def _read_cache(path: Path):
    image_set = read_image_set(path)
    return image_set, read_image_rows(path, np.arange(len(image_set))[::-1])


def _same_cache(reference):
    def same(value) -> bool:
        got, rows = value
        arrays = ("images", "subject_ids", "recording_index", "starts")
        return (
            all(np.array_equal(getattr(got, a), getattr(reference, a)) for a in arrays)
            and np.array_equal(rows, reference.images[::-1])
            and got.recordings == reference.recordings
            and got.params == reference.params
            and got.attrs == reference.attrs
        )

    return same


@pytest.mark.parametrize(("where", "n_flips"), [("anywhere", 10), ("outside_images", 20)])
def test_cache_flips_are_harmless_or_reported(cache, tmp_path, where, n_flips):
    path, reference = cache
    offsets = _outside_image_chunks(path) if where == "outside_images" else None
    counts = _flip_many(
        path, tmp_path, n_flips, 0, _read_cache, _same_cache(reference), offsets=offsets
    )
    assert counts["reported"] > 0


@pytest.mark.slow
@pytest.mark.parametrize(("where", "n_flips"), [("anywhere", 1000), ("outside_images", 2000)])
def test_cache_many_flips_are_harmless_or_reported(cache, tmp_path, where, n_flips):
    path, reference = cache
    offsets = _outside_image_chunks(path) if where == "outside_images" else None
    _flip_many(path, tmp_path, n_flips, 1, _read_cache, _same_cache(reference), offsets=offsets)


# ---------------------------------------------------------------------------------------------
# .keras model file
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras_file(tmp_path_factory):
    pytest.importorskip("tensorflow")
    from gaitcnn.models import build_paper_cnn
    from gaitcnn.train import set_seeds

    set_seeds(0)
    model = build_paper_cnn((32, 64, 2), 3, conv_filters=(4, 4, 4), fl1_units=8)
    path = tmp_path_factory.mktemp("model") / "model.keras"
    model.save(path)
    images = np.random.default_rng(0).random((4, 32, 64, 2), dtype=np.float32)
    return path, images, model.predict(images, verbose=0), model.get_weights()


def _read_model(images):
    def read(path: Path):
        from gaitcnn.export import load_model

        model = load_model(path)
        return model.predict(images, verbose=0), model.get_weights()

    return read


def _same_model(proba, weights):
    def same(value) -> bool:
        got_proba, got_weights = value
        return np.array_equal(got_proba, proba) and all(
            np.array_equal(a, b) for a, b in zip(got_weights, weights, strict=True)
        )

    return same


@pytest.mark.tf
def test_keras_flips_are_harmless_or_reported(keras_file, tmp_path):
    path, images, proba, weights = keras_file
    counts = _flip_many(
        path, tmp_path, 20, seed=0, read=_read_model(images), same=_same_model(proba, weights)
    )
    assert counts["reported"] > 0


@pytest.mark.tf
@pytest.mark.slow
def test_keras_many_flips_are_harmless_or_reported(keras_file, tmp_path):
    path, images, proba, weights = keras_file
    _flip_many(
        path, tmp_path, 1000, seed=1, read=_read_model(images), same=_same_model(proba, weights)
    )
