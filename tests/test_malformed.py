"""Malformed-input corpus: every broken file loads correctly (warning if repaired) or fails cleanly.

The corpus (``tests/malformed/corpus.py``) is generated, not checked in. Each case goes through
the directory loader (``load_ouisir`` / ``load_mcgill``) and, when it loads, through the whole
numpy pipeline (``resample_recording`` and ``images_for_recording``). The rule: a correct load
(checked against the known truth), or a :class:`GaitDataError` naming file, line and problem;
never another exception, never non-finite images. A hypothesis test applies random mutations of
valid files to the file readers under the same rule.
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from malformed import all_cases
from malformed.corpus import (
    MCGILL_NAME,
    OUISIR_NAME,
    mc_lines,
    mc_text,
    mcgill_base,
    ou_lines,
    ou_text,
    ouisir_base,
)

from gaitcnn.errors import GaitDataError
from gaitcnn.io import load_mcgill, load_ouisir, read_mcgill_file, read_ouisir_file
from gaitcnn.io._checks import MAX_ABS_ACC_RAW, MAX_ABS_GYR_RAD_S
from gaitcnn.prepare import PrepareParams, images_for_recording

CASES = all_cases()
AUTO_DIR = "AutomaticExtractionData_IMUZCenter"


def _write(case, root: Path) -> tuple[Path, Path]:
    folder = root / AUTO_DIR if case.dataset == "ouisir" else root
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / case.name
    path.write_bytes(case.content)
    return folder, path


def _load(case, folder: Path):
    return load_ouisir(folder) if case.dataset == "ouisir" else load_mcgill(folder)


def _params(dataset: str, has_gyr: bool) -> PrepareParams:
    if dataset == "ouisir" and not has_gyr:
        return PrepareParams(dataset=dataset, channels=("acc",))
    return PrepareParams.paper(dataset)


def _images(recording, dataset: str) -> np.ndarray:
    """All images of one recording (the whole numpy pipeline), shape (n, 32, 64, c)."""
    params = _params(dataset, recording.gyr is not None)
    parts = images_for_recording(recording, params)
    if not parts:
        return np.empty((0, *params.image_shape), np.float32)
    return np.concatenate([images for _, images, _ in parts])


@functools.cache
def _reference_images(dataset: str) -> np.ndarray:
    """Images of the undamaged base file of ``dataset``."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        if dataset == "ouisir":
            gyr, acc_g = ouisir_base()
            folder = Path(tmp) / AUTO_DIR
            folder.mkdir()
            (folder / OUISIR_NAME).write_text(ou_text(ou_lines(gyr, acc_g)))
            (rec,) = load_ouisir(folder)
        else:
            t_ms, acc, _ = mcgill_base()
            (Path(tmp) / MCGILL_NAME).write_text(mc_text(mc_lines(t_ms, acc)))
            (rec,) = load_mcgill(tmp)
        return _images(rec, dataset)


def _gaitcnn_warnings(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("gaitcnn")
    ]


def test_corpus_is_large_and_varied():
    kinds = {c.kind for c in CASES}
    assert len(kinds) == len(CASES) >= 50
    assert {c.dataset for c in CASES} == {"ouisir", "mcgill"}
    assert len({c.category for c in CASES}) >= 10
    assert {c.expect for c in CASES} >= {"load", "warn", "error", "harmless"}


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_malformed_file(case, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="gaitcnn")
    folder, path = _write(case, tmp_path)
    try:
        recordings = _load(case, folder)
    except GaitDataError as err:
        assert case.expect in ("error", "load-or-error"), f"unexpected error: {err}"
        assert err.path is not None and Path(err.path) == path, str(err)
        assert str(err).startswith(str(path))
        if case.line is not None:
            assert err.line == case.line, str(err)
            assert f"line {case.line}:" in str(err)
        if case.match is not None:
            assert re.search(case.match, err.problem), str(err)
        assert len(str(err)) < 600, "the message must not flood the terminal"
        return
    except Exception as exc:  # pragma: no cover - this is the failure being tested for
        pytest.fail(f"{case.kind}: {type(exc).__name__} instead of GaitDataError: {exc}")
    assert case.expect != "error", f"{case.kind} loaded but must be refused"
    (rec,) = recordings
    warned = _gaitcnn_warnings(caplog)
    if case.expect == "warn":
        assert warned, f"{case.kind}: repaired without a warning"
    elif case.expect == "load":
        assert not warned, f"{case.kind}: unexpected warnings {warned}"
    if case.truth_acc is not None and case.expect != "harmless":
        np.testing.assert_allclose(rec.acc, case.truth_acc, rtol=1e-9, atol=1e-9)
    if case.expect in ("load", "warn"):
        if case.truth_gyr is None:
            assert rec.gyr is None
        else:
            np.testing.assert_allclose(rec.gyr, case.truth_gyr, rtol=1e-9, atol=1e-9)
    if case.truth_t is not None:
        np.testing.assert_allclose(rec.timestamps_s, case.truth_t, rtol=0, atol=1e-6)

    # The rest of the numpy pipeline: resample, cycles, AE-GDIs.
    caplog.clear()
    try:
        images = _images(rec, case.dataset)
    except GaitDataError as err:
        assert str(err).startswith(str(path)), str(err)
        return
    except Exception as exc:  # pragma: no cover
        pytest.fail(f"{case.kind}: pipeline raised {type(exc).__name__}: {exc}")
    assert np.isfinite(images).all(), f"{case.kind}: non-finite images"
    if case.pipeline == "images":
        assert len(images) > 0
    if case.expect == "harmless":
        reference = _reference_images(case.dataset)
        assert images.shape == reference.shape
        np.testing.assert_allclose(images, reference, atol=1e-5)


def test_short_recordings_are_skipped_with_a_warning(tmp_path, caplog):
    """Shorter than one second: the pipeline skips the recording and says so."""
    case = next(c for c in CASES if c.kind == "ouisir/short_half_a_second")
    folder, _ = _write(case, tmp_path)
    (rec,) = _load(case, folder)
    caplog.set_level(logging.WARNING, logger="gaitcnn")
    assert len(_images(rec, "ouisir")) == 0
    assert any("skipping recording" in m for m in _gaitcnn_warnings(caplog))


def test_many_duplicates_warn_in_the_resampling_stage(tmp_path, caplog):
    case = next(c for c in CASES if c.kind == "mcgill/many_duplicated_rows")
    folder, _ = _write(case, tmp_path)
    (rec,) = _load(case, folder)
    caplog.set_level(logging.WARNING, logger="gaitcnn")
    assert len(_images(rec, "mcgill")) > 0
    assert any("duplicate timestamps dropped" in m for m in _gaitcnn_warnings(caplog))


# ---------------------------------------------------------------------------------------------
# Property test: random mutations of valid files
# ---------------------------------------------------------------------------------------------

_FIELD_EDITS = ["", "nan", "inf", "-1e400", "abc", "1e30", "0", "-0.0", " 7 ", "1,2", "\t", "\x00"]


@functools.cache
def _valid_file(dataset: str) -> bytes:
    if dataset == "ouisir":
        gyr, acc_g = ouisir_base(n_rows=300, seed=1)
        return ou_text(ou_lines(gyr, acc_g)).encode()
    t_ms, acc, gyr = mcgill_base(duration_s=12.0, seed=1)
    return mc_text(mc_lines(t_ms, acc, gyr), header="t,ax,ay,az,gx,gy,gz").encode()


_mutation = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(0, 255)),
    st.tuples(st.just("delete_line"), st.floats(0, 1), st.just(0)),
    st.tuples(st.just("duplicate_line"), st.floats(0, 1), st.just(0)),
    st.tuples(st.just("edit_field"), st.floats(0, 1), st.integers(0, 100)),
    st.tuples(st.just("truncate"), st.floats(0, 1), st.just(0)),
)


def _mutate(data: bytes, mutations) -> bytes:
    for op, where, arg in mutations:
        if op == "flip" and data:
            i = min(int(where * len(data)), len(data) - 1)
            data = data[:i] + bytes([arg]) + data[i + 1 :]
        elif op == "truncate":
            data = data[: int(where * len(data))]
        else:
            lines = data.split(b"\n")
            i = min(int(where * len(lines)), len(lines) - 1)
            if op == "delete_line":
                del lines[i]
            elif op == "duplicate_line":
                lines.insert(i, lines[i])
            else:
                fields = lines[i].split(b",")
                edit = _FIELD_EDITS[arg % len(_FIELD_EDITS)].encode()
                fields[arg % len(fields)] = edit
                lines[i] = b",".join(fields)
            data = b"\n".join(lines)
    return data


def _check_reader(dataset: str, data: bytes, tmp: Path) -> None:
    path = tmp / (OUISIR_NAME if dataset == "ouisir" else MCGILL_NAME)
    path.write_bytes(data)
    try:
        if dataset == "ouisir":
            gyr, acc = read_ouisir_file(path)
            t = np.arange(acc.shape[0]) / 100.0
        else:
            t, acc, gyr = read_mcgill_file(path)
    except GaitDataError as err:
        assert str(err).startswith(str(path)), str(err)
        assert err.line is None or err.line >= 1
        return
    # Loaded: it must be finite, consistent and physically plausible.
    assert acc.ndim == 2 and acc.shape[1] == 3 and acc.shape[0] == t.shape[0] >= 1
    assert np.isfinite(t).all() and np.isfinite(acc).all()
    assert np.abs(acc).max() <= MAX_ABS_ACC_RAW * 9.80665
    if gyr is not None:
        assert gyr.shape == acc.shape and np.isfinite(gyr).all()
        assert np.abs(gyr).max() <= MAX_ABS_GYR_RAD_S


@pytest.mark.parametrize("dataset", ["ouisir", "mcgill"])
@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(mutations=st.lists(_mutation, min_size=1, max_size=4))
def test_random_mutations_load_or_fail_cleanly(dataset, mutations, tmp_path):
    _check_reader(dataset, _mutate(_valid_file(dataset), mutations), tmp_path)


# ---------------------------------------------------------------------------------------------
# Malformed model files: only Keras safe mode, clear refusals
# ---------------------------------------------------------------------------------------------


@pytest.mark.tf
def test_pickle_payload_named_keras_is_refused(tmp_path):
    import pickle

    from gaitcnn.export import load_model

    path = tmp_path / "model.keras"
    path.write_bytes(pickle.dumps({"payload": 1}))
    with pytest.raises(ValueError, match=r"refusing to load .*not a \.keras zip"):
        load_model(path)


@pytest.mark.tf
def test_keras_archive_naming_a_foreign_class_is_refused(tmp_path):
    import json
    import pickle
    import zipfile

    from gaitcnn.export import load_model

    path = tmp_path / "evil.keras"
    config = {"module": "os", "class_name": "system", "config": {"command": "touch pwned"},
              "registered_name": None}  # fmt: skip
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.0.0"}))
        archive.writestr("model.weights.h5", pickle.dumps(print))
    with pytest.raises(ValueError, match="refusing to load"):
        load_model(path)
    assert not (tmp_path / "pwned").exists()
