"""Tests of stage 2, ``gaitcnn.resample``: cubic-spline resampling, cleaning and gap splitting."""

from __future__ import annotations

import inspect
import logging
import re
from pathlib import Path

import numpy as np
import pytest

from gaitcnn.errors import GaitDataError
from gaitcnn.io import Recording, load_mcgill, load_ouisir
from gaitcnn.resample import resample_recording, resample_recordings, resample_to_rate

DATA = Path(__file__).parent / "data"
OUISIR = DATA / "ouisir"
MCGILL = DATA / "mcgill"


def _cubic(t):
    """A cubic polynomial per channel, shape (n, 3)."""
    return np.column_stack([2 * t**3 - t**2 + 0.5, -(t**3) + 3 * t, 0.25 * t**3 + 9.81])


def _irregular_times(n=120, mean_step_s=0.035, sd_s=0.005, t0=0.0, seed=0):
    rng = np.random.default_rng(seed)
    return t0 + np.cumsum(np.clip(rng.normal(mean_step_s, sd_s, n), 0.01, None))


def _recording(t, *, gyr=True, walk="day1", source="mem.csv"):
    return Recording(
        subject_id=3,
        session="day1",
        walk=walk,
        timestamps_s=t,
        acc=_cubic(t - t.min()),
        gyr=-_cubic(t - t.min()) if gyr else None,
        sensor="pocket",
        source=source,
    )


class TestContractResampleToRate:
    def test_shapes_and_grid(self):
        t = _irregular_times()
        new_t, new_x = resample_to_rate(t, _cubic(t), rate_hz=50.0)
        assert new_x.shape == (new_t.size, 3)
        assert new_t[0] == t[0] and new_t[-1] <= t[-1] + 1e-12
        assert t[-1] - new_t[-1] < 0.02
        np.testing.assert_allclose(np.diff(new_t), 0.02, rtol=0, atol=1e-12)

    def test_one_dimensional_values(self):
        t = _irregular_times(20)
        new_t, new_x = resample_to_rate(t, np.sin(t))
        assert new_x.shape == new_t.shape

    def test_grid_point_on_the_last_sample_is_kept(self):
        # 0.1 * 50 = 5.000000000000001 in floating point: still 6 points.
        new_t, _ = resample_to_rate([0.0, 0.03, 0.07, 0.1], [0.0, 1.0, 2.0, 3.0])
        assert new_t.size == 6

    def test_inputs_not_mutated(self):
        t = _irregular_times(30)
        x = _cubic(t)
        t_copy, x_copy = t.copy(), x.copy()
        resample_to_rate(t, x)
        np.testing.assert_array_equal(t, t_copy)
        np.testing.assert_array_equal(x, x_copy)

    @pytest.mark.parametrize(
        ("t", "x", "kwargs", "match"),
        [
            ([0.0, 0.02, 0.01], [1.0, 2.0, 3.0], {}, r"strictly increasing.*timestamps_s\[1\]"),
            ([0.0, 0.02, 0.02], [1.0, 2.0, 3.0], {}, "strictly increasing"),
            ([0.0, np.nan, 0.3], [1.0, 2.0, 3.0], {}, "timestamps_s must be finite"),
            ([0.0], [1.0], {}, "at least 2"),
            ([[0.0, 1.0]], [1.0, 2.0], {}, "timestamps_s must be 1-D"),
            ([0.0, 0.1, 0.2], [1.0, 2.0], {}, r"values must have shape \(3,\)"),
            ([0.0, 0.1, 0.2], [1.0, np.inf, 2.0], {}, "values must be finite"),
            ([0.0, 0.1, 0.2], [1.0, 2.0, 3.0], {"rate_hz": 0}, "rate_hz=0"),
            ([0.0, 0.1, 0.2], [1.0, 2.0, 3.0], {"rate_hz": np.nan}, "rate_hz"),
        ],
    )
    def test_validation(self, t, x, kwargs, match):
        with pytest.raises(ValueError, match=match):
            resample_to_rate(np.asarray(t), np.asarray(x), **kwargs)


class TestResampleBehaviour:
    def test_cubic_polynomial_reproduced_exactly(self):
        t = _irregular_times(200)
        new_t, new_x = resample_to_rate(t, _cubic(t), rate_hz=50.0)
        np.testing.assert_allclose(new_x, _cubic(new_t), rtol=0, atol=1e-9)

    def test_cubic_reproduced_with_epoch_timestamps(self):
        t = _irregular_times(200, t0=1.6e9)
        rel = t - t[0]
        new_t, new_x = resample_to_rate(t, _cubic(rel))
        # The spline runs on relative times: no precision lost to the 1.6e9 s offset.
        exact_rel_t = np.arange(new_t.size) / 50.0
        np.testing.assert_allclose(new_x, _cubic(exact_rel_t), rtol=0, atol=1e-9)
        np.testing.assert_allclose(new_t - t[0], exact_rel_t, rtol=0, atol=1e-6)

    def test_downsampling_ouisir_rate(self):
        t = np.arange(500) / 100.0
        new_t, new_x = resample_to_rate(t, _cubic(t), rate_hz=50.0)
        np.testing.assert_allclose(new_t, t[::2], atol=1e-12)
        np.testing.assert_allclose(new_x, _cubic(t)[::2], atol=1e-9)

    def test_recording_exactly_50_hz_and_cubic(self):
        t = _irregular_times(300)
        (out,) = resample_recording(_recording(t))
        assert out.walk == "day1" and out.subject_id == 3 and out.sensor == "pocket"
        np.testing.assert_allclose(np.diff(out.timestamps_s), 0.02, rtol=0, atol=1e-12)
        rel = out.timestamps_s - t[0]
        np.testing.assert_allclose(out.acc, _cubic(rel), atol=1e-9)
        np.testing.assert_allclose(out.gyr, -_cubic(rel), atol=1e-9)

    def test_unsorted_and_duplicated_input(self, caplog):
        t = _irregular_times(150)
        rec = _recording(t)
        reference = resample_recording(rec)[0]
        rng = np.random.default_rng(3)
        order = rng.permutation(t.size)
        dup = order[:10]  # ten duplicated samples, with garbage values that must be dropped
        t_mixed = np.r_[t[order], t[dup]]
        acc_mixed = np.r_[rec.acc[order], rec.acc[dup] + 100.0]
        gyr_mixed = np.r_[rec.gyr[order], rec.gyr[dup] + 100.0]
        messy = rec.replace(timestamps_s=t_mixed, acc=acc_mixed, gyr=gyr_mixed)
        with caplog.at_level(logging.DEBUG, logger="gaitcnn.resample"):
            (out,) = resample_recording(messy)
        assert "10 duplicate timestamps dropped" in caplog.text
        np.testing.assert_allclose(out.timestamps_s, reference.timestamps_s)
        np.testing.assert_allclose(out.acc, reference.acc, atol=1e-9)

    def test_duplicates_keep_the_first_in_file_order(self):
        t = np.array([0.0, 0.02, 0.04, 0.04, 0.06, 0.08, 0.1])
        acc = np.zeros((7, 3))
        acc[:, 0] = [0, 1, 2, 99, 3, 4, 5]
        rec = Recording(subject_id=1, session="s", timestamps_s=t, acc=acc)
        (out,) = resample_recording(rec, min_duration_s=0)
        np.testing.assert_allclose(out.acc[:, 0], [0, 1, 2, 3, 4, 5], atol=1e-9)

    def test_gap_splits_into_segments(self):
        t = np.r_[_irregular_times(100), 10.0 + _irregular_times(80, seed=1)]
        parts = resample_recording(_recording(t, walk="day2"), max_gap_s=0.5)
        assert [p.walk for p in parts] == ["day2#1", "day2#2"]
        assert parts[0].timestamps_s[-1] < 10.0 <= parts[1].timestamps_s[0]
        for part in parts:
            np.testing.assert_allclose(np.diff(part.timestamps_s), 0.02, rtol=0, atol=1e-12)
            np.testing.assert_allclose(part.acc, _cubic(part.timestamps_s - t[0]), atol=1e-8)
        # The same gap is bridged when allowed.
        (whole,) = resample_recording(_recording(t), max_gap_s=np.inf)
        assert whole.walk == "day1"

    def test_short_segment_dropped_with_warning(self, caplog):
        t = np.r_[_irregular_times(100), 10.0 + np.array([0.0, 0.03, 0.07])]
        with caplog.at_level(logging.WARNING):
            parts = resample_recording(_recording(t))
        assert [p.walk for p in parts] == ["day1#1"]
        assert "dropped segment 2" in caplog.text

    def test_too_short_recording_raises_naming_the_source(self):
        t = np.array([0.0, 0.03, 0.06])
        with pytest.raises(GaitDataError, match=r"^walk\.csv: nothing to resample"):
            resample_recording(_recording(t, source="walk.csv"))
        t = _irregular_times(20)  # 0.7 s < min_duration_s = 1 s
        with pytest.raises(GaitDataError, match="min_duration_s=1"):
            resample_recording(_recording(t, source="walk.csv"))
        assert resample_recording(_recording(t), min_duration_s=0.5)

    def test_non_finite_values_raise(self):
        t = _irregular_times(50)
        rec = _recording(t)
        acc = rec.acc.copy()
        acc[7, 1] = np.nan
        with pytest.raises(GaitDataError, match=r"mem\.csv: sample 7"):
            resample_recording(rec.replace(acc=acc))

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"rate_hz": -1}, "rate_hz"),
            ({"max_gap_s": 0}, "max_gap_s"),
            ({"min_duration_s": -1}, "min_duration_s"),
        ],
    )
    def test_argument_validation(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            resample_recording(_recording(_irregular_times(60)), **kwargs)

    def test_input_recording_unchanged(self):
        t = _irregular_times(60)[::-1].copy()
        rec = _recording(t)
        before = rec.timestamps_s.copy()
        resample_recording(rec)
        np.testing.assert_array_equal(rec.timestamps_s, before)


class TestResampleLoadedData:
    def test_ouisir_100_to_50_hz(self):
        rec = load_ouisir(OUISIR, subjects=[104])[0]  # 6 rows at 100 Hz
        (out,) = resample_recording(rec, min_duration_s=0)
        np.testing.assert_allclose(out.timestamps_s, [0.0, 0.02, 0.04])
        np.testing.assert_allclose(out.acc, rec.acc[::2], atol=1e-12)
        np.testing.assert_allclose(out.gyr, rec.gyr[::2], atol=1e-12)

    def test_mcgill_messy_timestamps(self):
        rec = load_mcgill(MCGILL)[0]  # duplicate + out-of-order rows
        (out,) = resample_recording(rec, min_duration_s=0)
        assert out.gyr is not None
        np.testing.assert_allclose(np.diff(out.timestamps_s), 0.02, atol=1e-6)

    def test_resample_recordings_flattens(self):
        recs = load_ouisir(OUISIR, subjects=[104])
        out = resample_recordings(recs, min_duration_s=0)
        assert [r.walk for r in out] == ["seq0", "seq1"]


def _documented_parameters(func) -> list[str]:
    doc = inspect.getdoc(func)
    section = doc.split("Parameters\n----------\n", 1)[1]
    section = re.split(r"\n\n[A-Z][a-z]+( [A-Z][a-z]+)?\n-+\n", section)[0]
    return [m.group(1) for m in re.finditer(r"^(\*{0,2}\w+) :", section, re.MULTILINE)]


@pytest.mark.parametrize(
    "func", [resample_recording, resample_recordings, resample_to_rate], ids=lambda f: f.__name__
)
def test_all_parameters_documented(func):
    """Docs match signatures (STYLE 1.4)."""
    signature = [
        ("**" + p.name) if p.kind is p.VAR_KEYWORD else p.name
        for p in inspect.signature(func).parameters.values()
    ]
    assert _documented_parameters(func) == signature
