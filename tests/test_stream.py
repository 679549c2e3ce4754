"""Streaming verification: parity with the batch resampling, windows and scores; no-gait cases."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaitcnn.io import Recording
from gaitcnn.prepare import PrepareParams, images_for_recording
from gaitcnn.resample import resample_recording
from gaitcnn.stream import (
    NOT_ENOUGH_GAIT,
    StreamingResampler,
    StreamingVerifier,
    WindowEmitter,
    gait_window_mask,
)
from gaitcnn.verification import make_template

CHANNELS = ("acc", "gyr", "acc_mag", "gyr_mag")
WIDTH, STEP = 64, 4


def irregular_walk(duration_s=20.0, seed=0, gaps=((8.0, 0.9), (12.0, 0.7))):
    """Android-like stream: irregular steps (20-45 ms), duplicates, and gaps (start, length).

    The piece between the two default gaps (8.9-12.0 s) is long; a gap of 0.7 s at 12.0 s
    and a short piece are included by ``short_piece``.
    """
    rng = np.random.default_rng(seed)
    steps = rng.uniform(0.02, 0.045, size=int(duration_s / 0.02))
    t = np.cumsum(steps)
    t = t[t < duration_s]
    for start, length in gaps:
        t = np.where(t > start, t + length, t)
    duplicates = rng.choice(t.size, size=5, replace=False)
    t = np.sort(np.r_[t, t[duplicates]])
    phase = 2 * np.pi * 0.9 * t
    harmonics = np.stack([np.sin(k * phase + k) for k in (1, 2, 3, 4)], axis=1)
    acc = harmonics @ rng.normal(0, 1.5, size=(4, 3)) + [0.0, 0.0, 9.81]
    gyr = harmonics @ rng.normal(0, 0.8, size=(4, 3))
    acc += rng.normal(0, 0.2, size=acc.shape)
    return t, acc, gyr


def _recording(t, acc, gyr):
    return Recording(
        subject_id=1, session="day1", walk="w", timestamps_s=t, acc=acc, gyr=gyr, source="sim"
    )


def _chunks(n, sizes):
    """Split range(n) into chunks of the given sizes, cycling through them."""
    bounds, position, index = [], 0, 0
    while position < n:
        size = sizes[index % len(sizes)]
        bounds.append((position, min(n, position + size)))
        position, index = position + size, index + 1
    return bounds


def _stream_grid(t, values, sizes):
    resampler = StreamingResampler()
    chunks = []
    for start, stop in _chunks(t.size, sizes):
        chunks += resampler.push(t[start:stop], values[start:stop])
    return chunks + resampler.finish(), resampler


class TestContractStream:
    def test_numpy_only(self):
        code = "import sys, gaitcnn.stream; sys.exit('tensorflow' in sys.modules)"
        assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0

    def test_bad_chunks(self):
        resampler = StreamingResampler()
        with pytest.raises(ValueError, match="values must have shape"):
            resampler.push([0.0, 0.1], np.zeros((3, 3)))
        with pytest.raises(ValueError, match="finite"):
            resampler.push([0.0, np.nan], np.zeros((2, 3)))
        resampler.push([0.0, 0.1], np.zeros((2, 3)))
        with pytest.raises(ValueError, match="keep 3 channels"):
            resampler.push([0.2], np.zeros((1, 6)))

    def test_gyr_required_by_the_channels(self):
        verifier = StreamingVerifier(lambda w: w[:, 0, :2], np.ones((1, 2)), 0.5)
        with pytest.raises(ValueError, match="gyr"):
            verifier.push([0.0], np.zeros((1, 3)))

    def test_window_channels_validation(self):
        with pytest.raises(ValueError, match="channels must be names"):
            WindowEmitter(channels=("acc", "mag"))
        with pytest.raises(ValueError, match="channels must be names"):
            WindowEmitter(channels=("acc", "acc_vert"))


class TestStreamParity:
    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(sizes=st.lists(st.integers(1, 97), min_size=1, max_size=6), seed=st.integers(0, 3))
    def test_resampling_matches_the_batch_path(self, sizes, seed):
        t, acc, gyr = irregular_walk(seed=seed, gaps=((8.0, 0.9), (12.0, 0.7), (12.6, 2.0)))
        batch = resample_recording(_recording(t, acc, gyr))
        chunks, resampler = _stream_grid(t, np.hstack([acc, gyr]), sizes)
        segments = sorted({c.segment for c in chunks})
        # the 0.6 s piece between the gaps at 12.0 s and 12.6 s is dropped by both paths
        assert len(segments) == len(batch) == 3
        for segment, expected in zip(segments, batch, strict=True):
            mine = [c for c in chunks if c.segment == segment]
            times = np.concatenate([c.timestamps_s for c in mine])
            values = np.concatenate([c.values for c in mine])
            np.testing.assert_allclose(times, expected.timestamps_s, rtol=0, atol=1e-12)
            np.testing.assert_allclose(values[:, :3], expected.acc, rtol=0, atol=1e-9)
            np.testing.assert_allclose(values[:, 3:], expected.gyr, rtol=0, atol=1e-9)
        assert resampler.n_dropped == 5  # the duplicated timestamps

    @settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(sizes=st.lists(st.integers(1, 200), min_size=1, max_size=4))
    def test_windows_match_the_batch_cache(self, sizes):
        t, acc, gyr = irregular_walk(seed=1)
        params = PrepareParams(
            dataset="mcgill", representation="raw", segmentation="dense", dense_step=STEP,
            edge="pad", channels=CHANNELS,
        )  # fmt: skip
        batch = images_for_recording(_recording(t, acc, gyr), params)
        chunks, _ = _stream_grid(t, np.hstack([acc, gyr]), sizes)
        emitter = WindowEmitter(WIDTH, STEP, CHANNELS)
        emitted = [emitter.push(c) for c in chunks]
        for segment, (_, images, starts) in enumerate(batch):
            mine = [w for w in emitted if w.segment == segment]
            np.testing.assert_array_equal(np.concatenate([w.starts for w in mine]), starts)
            windows = np.concatenate([w.windows for w in mine])
            np.testing.assert_allclose(windows, images[:, 0], rtol=1e-6, atol=1e-5)

    def test_scores_match_the_batch_path(self):
        t, acc, gyr = irregular_walk(seed=2)
        rng = np.random.default_rng(0)
        projection = rng.normal(size=(WIDTH * 8, 16)).astype(np.float32)

        def embed(windows):
            return windows.reshape(len(windows), -1) @ projection

        template = make_template(embed(rng.normal(9.0, 2.0, size=(5, WIDTH, 8))))
        verifier = StreamingVerifier(embed, template, 0.0, step=STEP)
        for start, stop in _chunks(t.size, [13, 1, 57]):
            verifier.push(t[start:stop], acc[start:stop], gyr[start:stop])
        verifier.finish()
        params = PrepareParams(
            dataset="mcgill", representation="raw", segmentation="dense", dense_step=STEP,
            edge="pad", channels=CHANNELS,
        )  # fmt: skip
        expected = []
        for _, images, _ in images_for_recording(_recording(t, acc, gyr), params):
            windows = images[:, 0]
            gait = gait_window_mask(windows[..., 0:3])
            cos = make_template(embed(windows[gait]), kind="set") @ template[0]
            expected.append(cos)
        expected = np.concatenate(expected)
        assert len(verifier.scores) == expected.size > 50
        np.testing.assert_allclose([s.score for s in verifier.scores], expected, atol=1e-6)
        decision = verifier.decision
        assert decision.score == pytest.approx(expected.mean(), abs=1e-6)
        assert decision.n_windows == expected.size and decision.accepted is (decision.score >= 0.0)


class TestStreamBehaviour:
    def _verifier(self, **kwargs):
        rng = np.random.default_rng(0)
        projection = rng.normal(size=(WIDTH * 8, 4))
        return StreamingVerifier(
            lambda w: w.reshape(len(w), -1) @ projection, np.ones((1, 4)), 0.2, **kwargs
        )

    @pytest.mark.parametrize("kind", ["zeros", "rest", "too_short"])
    def test_no_gait_gives_no_score(self, kind):
        rng = np.random.default_rng(0)
        t = np.cumsum(rng.uniform(0.02, 0.04, size=600))
        acc = {
            "zeros": np.zeros((t.size, 3)),
            "rest": np.array([0.3, -0.2, 9.8]) + rng.normal(0, 0.03, size=(t.size, 3)),
            "too_short": irregular_walk(seed=0)[1][: t.size],
        }[kind]
        if kind == "too_short":  # 0.9 s of walking: less than one window
            t, acc = t[t < 0.9], acc[t < 0.9]
        verifier = self._verifier()
        scores = verifier.push(t, acc, np.zeros_like(acc)) + verifier.finish()
        assert scores == []
        decision = verifier.decision
        assert (decision.status, decision.score, decision.accepted) == (NOT_ENOUGH_GAIT, None, None)

    def test_rest_then_walk_scores_only_the_walk(self):
        t, acc, gyr = irregular_walk(seed=3, gaps=())
        acc = acc.copy()
        rest = t < 5.0
        acc[rest] = [0.0, 0.0, 9.81]
        gyr = np.where(rest[:, None], 0.0, gyr)
        verifier = self._verifier()
        verifier.push(t, acc, gyr)
        verifier.finish()
        assert verifier.n_skipped_windows > 0
        assert min(s.start_time_s for s in verifier.scores) > 3.5  # windows reaching the walk

    def test_running_decision_over_the_last_windows(self):
        t, acc, gyr = irregular_walk(seed=4, gaps=())
        verifier = self._verifier(fusion_windows=5, min_windows=3)
        verifier.push(t[:40], acc[:40], gyr[:40])
        assert verifier.decision.status == NOT_ENOUGH_GAIT
        verifier.push(t[40:], acc[40:], gyr[40:])
        last = [s.score for s in verifier.scores[-5:]]
        assert verifier.decision.score == pytest.approx(np.mean(last))
        assert verifier.decision.n_windows == 5

    def test_late_samples_are_dropped_and_counted(self):
        t, acc, gyr = irregular_walk(seed=5, gaps=())
        resampler = StreamingResampler()
        values = np.hstack([acc, gyr])
        resampler.push(t[:100], values[:100])
        resampler.push(np.r_[t[50], t[100:]], np.vstack([values[50], values[100:]]))
        assert resampler.n_dropped == 5 + 1  # the simulated duplicates and the late sample


def test_too_little_context_breaks_parity():
    """The parity test is sensitive: with 8 knots of context the error is far above 1e-9."""
    t, acc, gyr = irregular_walk(seed=0)
    expected = resample_recording(_recording(t, acc, gyr))[0]
    resampler = StreamingResampler(context_knots=8)
    chunks = []
    for start, stop in _chunks(t.size, [7, 30, 1]):
        chunks += resampler.push(t[start:stop], np.hstack([acc, gyr])[start:stop])
    first = np.concatenate([c.values for c in chunks if c.segment == 0])
    assert np.abs(first[:, :3] - expected.acc[: len(first)]).max() > 1e-7
