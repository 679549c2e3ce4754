"""Tests for gaitcnn.cycles: period estimation, GGGD, the peak baseline and the match metric."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pytest
from _synthetic import make_walk

from gaitcnn.cycles import (
    GaitDetectionParams,
    cycle_bounds,
    detect_cycle_starts,
    detect_peaks_baseline,
    estimate_gait_period,
    match_cycle_starts,
    overlap_windows,
    u_shape_scores,
)

FS_HZ = 50.0


def _magnitude(acc):
    return np.linalg.norm(acc, axis=1)


class TestContractCycles:
    def test_params_paper_preset_and_frozen(self):
        params = GaitDetectionParams.updated()
        assert params.kappa_per_sample == 0.1
        assert params.segment_threshold_m_s2 == 5.0
        assert params.distance_penalty == 0.5
        assert (params.buffer_s, params.hop_s) == (8.0, 4.0)
        assert (params.min_stride_s, params.max_stride_s) == (0.7, 1.6)
        assert (params.max_iterations, params.convergence_tol_samples) == (20, 0.5)
        with pytest.raises(dataclasses.FrozenInstanceError):
            params.hop_s = 1.0  # type: ignore[misc]
        assert params.replace(hop_s=2.0).hop_s == 2.0

    def test_every_param_field_has_a_comment(self):
        source = inspect.getsource(GaitDetectionParams)
        lines = source.splitlines()
        for field in dataclasses.fields(GaitDetectionParams):
            idx = next(i for i, line in enumerate(lines) if line.strip().startswith(field.name))
            assert lines[idx - 1].strip().startswith("#"), f"{field.name} lacks a comment"

    def test_output_type_sorted_unique(self):
        acc, _ = make_walk(1500, random_state=2)
        starts = detect_cycle_starts(_magnitude(acc), FS_HZ)
        assert starts.dtype == np.int64 and starts.ndim == 1
        assert np.all(np.diff(starts) > 0)
        assert starts.min() >= 0 and starts.max() < 1500

    def test_no_mutation_and_determinism(self):
        acc, _ = make_walk(1000, random_state=3)
        magnitude = _magnitude(acc)
        copy = magnitude.copy()
        first = detect_cycle_starts(magnitude, FS_HZ)
        np.testing.assert_array_equal(magnitude, copy)
        np.testing.assert_array_equal(first, detect_cycle_starts(magnitude, FS_HZ))

    def test_validation(self):
        with pytest.raises(ValueError, match="1-D"):
            detect_cycle_starts(np.zeros((10, 3)), FS_HZ)
        with pytest.raises(ValueError, match="finite"):
            detect_cycle_starts(np.full(500, np.nan), FS_HZ)
        with pytest.raises(ValueError, match="sampling_rate_hz"):
            detect_cycle_starts(np.zeros(500), 0.0)
        with pytest.raises(ValueError, match="samples"):
            estimate_gait_period(np.zeros(40), FS_HZ)

    def test_short_and_flat_signals_give_no_cycles(self):
        assert detect_cycle_starts(np.full(100, 9.81), FS_HZ).size == 0  # 2 s: too short
        rng = np.random.default_rng(0)
        rest = 9.81 + 0.02 * rng.normal(size=1000)  # standing still: no U-shapes
        assert detect_cycle_starts(rest, FS_HZ).size == 0

    def test_overlap_windows(self):
        starts = overlap_windows(45_000, FS_HZ)
        assert starts.dtype == np.int64
        assert np.all(np.diff(starts) == 39)  # 1.28 s - 0.5 s = 0.78 s
        assert starts[-1] + 64 <= 45_000 < starts[-1] + 39 + 64
        assert overlap_windows(10, FS_HZ).size == 0
        with pytest.raises(ValueError):
            overlap_windows(100, FS_HZ, window_s=0.5, overlap_s=0.5)

    def test_cycle_bounds(self):
        np.testing.assert_array_equal(cycle_bounds([1, 5, 9]), [[1, 5], [5, 9]])
        assert cycle_bounds([3]).shape == (0, 2)


class TestCyclesBehaviour:
    @pytest.mark.parametrize("stride_frequency_hz", [0.7, 0.93, 1.1, 1.2])
    def test_period_of_harmonic_walk(self, stride_frequency_hz):
        # Sum of harmonics: stride (1st) plus a stronger step (2nd) harmonic.
        t_s = np.arange(400) / FS_HZ
        phase = 2 * np.pi * stride_frequency_hz * t_s
        a_m = 9.81 + 0.8 * np.cos(phase + 0.3) + 2.0 * np.cos(2 * phase) + 0.4 * np.cos(3 * phase)
        period = estimate_gait_period(a_m, FS_HZ)
        assert period == pytest.approx(FS_HZ / stride_frequency_hz, abs=1.0)

    @pytest.mark.parametrize("seed", range(4))
    def test_period_of_synthetic_walk(self, seed):
        acc, starts = make_walk(400, stride_frequency_hz=0.9 + 0.1 * seed, random_state=seed)
        period = estimate_gait_period(_magnitude(acc), FS_HZ)
        assert period == pytest.approx(np.median(np.diff(starts)), rel=0.06)

    def test_u_shape_scores_mark_tops_of_big_rises(self):
        acc, starts = make_walk(500, noise_m_s2=0.1, random_state=4)
        magnitude = _magnitude(acc)
        scores = u_shape_scores(magnitude, FS_HZ)
        assert np.all(scores >= 0)
        scored = np.flatnonzero(scores > 0)
        # Every scored sample is a local maximum; both steps of each stride are scored.
        assert np.all(magnitude[scored] >= magnitude[scored - 1])
        assert np.all(magnitude[scored] >= magnitude[scored + 1])
        assert 1.5 * starts.size <= scored.size <= 3 * starts.size

    def test_gggd_recovers_true_starts_on_a_buffer(self):
        acc, true = make_walk(400, random_state=5)  # one 8-s buffer
        detected = detect_cycle_starts(_magnitude(acc), FS_HZ)
        match = match_cycle_starts(detected, true, FS_HZ, n_samples=400)
        assert match.matched_fraction >= 0.85
        assert match.spurious_fraction <= 0.15

    def test_gggd_on_long_recording(self):
        acc, true = make_walk(15_000, noise_m_s2=0.4, cadence_drift=0.1, random_state=6)  # 5 min
        detected = detect_cycle_starts(_magnitude(acc), FS_HZ)
        match = match_cycle_starts(detected, true, FS_HZ, n_samples=15_000)
        assert match.matched_fraction >= 0.95
        assert match.within_15pct >= 0.95
        assert match.spurious_fraction <= 0.05
        # One landmark for the whole recording: no switching at buffer joins.
        assert match.missed_per_100 <= 1.0

    def test_gggd_consistent_offset(self):
        # Make the second step the stronger one: GGGD may lock onto either landmark, but onto
        # the same one for the whole recording.
        acc, true = make_walk(3000, asymmetry=-0.2, random_state=7)
        detected = detect_cycle_starts(_magnitude(acc), FS_HZ)
        match = match_cycle_starts(detected, true, FS_HZ, n_samples=3000)
        assert match.matched_fraction >= 0.95
        assert min(abs(match.offset_phase - 0.5), match.offset_phase, 1 - match.offset_phase) < 0.05

    @pytest.mark.parametrize("noise_m_s2", [0.3, 0.8, 1.2])
    def test_gggd_at_least_as_good_as_peak_baseline(self, noise_m_s2):
        gggd, baseline = [], []
        for seed in range(4):
            acc, true = make_walk(
                1500,
                noise_m_s2=noise_m_s2,
                jitter=0.03,
                cadence_drift=0.1 * (seed % 2),
                random_state=100 + seed,
            )
            magnitude = _magnitude(acc)
            for detector, sink in (
                (detect_cycle_starts, gggd),
                (detect_peaks_baseline, baseline),
            ):
                match = match_cycle_starts(detector(magnitude, FS_HZ), true, FS_HZ, n_samples=1500)
                sink.append(match.within_15pct)
        assert np.mean(gggd) >= np.mean(baseline) - 0.01
        if noise_m_s2 >= 0.8:
            # Noise splits the heel-strike peak; the grid keeps the rhythm, the peak picker not.
            assert np.mean(gggd) >= np.mean(baseline) + 0.05

    def test_consensus_keeps_one_peak_of_a_multi_peaked_stride(self):
        # Pocket-like stride: two sharp peaks 0.24 stride (~12 samples) apart whose heights
        # change from stride to stride, so the higher one alternates at random. Single-peak
        # rules jump between them; the stride-shape consensus keeps one of them throughout.
        rng = np.random.default_rng(0)
        n = 3000
        true = 10.0 + np.concatenate([[0.0], np.cumsum(50.0 * (1 + 0.03 * rng.normal(size=70)))])
        true = true[true < n]
        t = np.arange(n)
        k = np.clip(np.searchsorted(true, t, side="right") - 1, 0, true.size - 2)
        phase = (t - true[k]) / (true[k + 1] - true[k])

        def bump(centre, width):
            d = np.abs(phase - centre)
            return np.exp(-0.5 * (np.minimum(d, 1 - d) / width) ** 2)

        h1, h2 = 4 + 0.6 * rng.normal(size=(2, true.size))
        a_m = 9.81 + h1[k] * bump(0.0, 0.02) + h2[k] * bump(0.24, 0.02)
        a_m += 2 * bump(0.5, 0.06) - 3 * bump(0.8, 0.08) + 0.1 * rng.normal(size=n)
        results = {}
        for name, params in (
            ("consensus", GaitDetectionParams.updated()),
            ("off", GaitDetectionParams.updated().replace(landmark_consensus=False)),
        ):
            detected = detect_cycle_starts(a_m, FS_HZ, params)
            results[name] = match_cycle_starts(detected, true, FS_HZ, n_samples=n)
        baseline = match_cycle_starts(detect_peaks_baseline(a_m, FS_HZ), true, FS_HZ, n_samples=n)
        assert results["consensus"].matched_fraction >= 0.98
        assert results["consensus"].spurious_fraction <= 0.02
        assert results["consensus"].within_15pct >= 0.98
        # The test can fail: without the consensus (and for the peak picker) it does.
        for other in (results["off"], baseline):
            assert other.matched_fraction < 0.9 and other.within_15pct < 0.8

    def test_consensus_adds_no_starts_at_rest(self):
        # Gap filling only bridges gaps inside walking: a minute of rest between two walks
        # gets no more starts than without the consensus.
        rng = np.random.default_rng(1)
        walk, _ = make_walk(1500, noise_m_s2=0.3, random_state=8)
        rest = np.tile([0.0, 0.0, 9.81], (3000, 1)) + 0.05 * rng.normal(size=(3000, 3))
        magnitude = _magnitude(np.concatenate([walk, rest, walk]))
        in_rest = {}
        for on in (True, False):
            params = GaitDetectionParams.updated().replace(landmark_consensus=on)
            starts = detect_cycle_starts(magnitude, FS_HZ, params)
            in_rest[on] = int(np.sum((starts > 1500 + 50) & (starts < 4500 - 50)))
        assert in_rest[True] <= in_rest[False]


class TestMatchCycleStarts:
    def test_perfect_and_offset(self):
        true = np.arange(10, 2000, 50)
        perfect = match_cycle_starts(true, true, FS_HZ)
        assert perfect.matched_fraction == 1.0 and perfect.spurious_fraction == 0.0
        assert perfect.offset_s == 0.0 and perfect.cycle_length_error == 0.0
        shifted = match_cycle_starts(true + 10, true, FS_HZ)
        assert shifted.matched_fraction == 1.0
        assert shifted.offset_s == pytest.approx(0.2)

    def test_missed_and_spurious(self):
        true = np.arange(10, 2010, 50)
        detected = np.delete(true, [5, 20])
        detected = np.sort(np.concatenate([detected, [1233]]))
        match = match_cycle_starts(detected, true, FS_HZ)
        assert match.matched_fraction == pytest.approx(38 / 40)
        assert match.spurious_fraction == pytest.approx(1 / 39)
        assert match.missed_per_100 == pytest.approx(100 * 2 / 40)

    def test_can_fail(self):
        rng = np.random.default_rng(0)
        true = np.arange(10, 2000, 50)
        random_starts = np.sort(rng.choice(2000, size=40, replace=False))
        match = match_cycle_starts(random_starts, true, FS_HZ)
        assert match.matched_fraction < 0.6


simulate = pytest.importorskip("gaitcnn.simulate")


class TestGggdVersusBaselineOnSimulator:
    """Small version of experiments/cycle_detection_eval.py on the package simulator.

    The pocket deviations (landmark consensus, gap filling, period checks) were tuned on seeds
    0-19 and diagnosed on seeds 20-39 and 80-119; seeds 40-79 (here 40-49, 60-s walks) were
    only used to confirm. Issue 3 requires GGGD to be at least as good as the peak baseline
    on every setting (matched +-0.1 s, cycle lengths, spurious; missed strides reported too)
    and better on noisy ones.
    """

    SEEDS = range(40, 50)

    @staticmethod
    def _metrics(preset, noise_m_s2, drift, seeds):
        metrics = {"gggd": [], "baseline": []}
        for seed in seeds:
            walk = simulate.simulate_walk(
                60.0, preset=preset, seed=seed, extra_noise_m_s2=noise_m_s2, cadence_drift=drift
            )
            rate_hz = 1.0 / float(np.median(np.diff(walk.timestamps_s)))
            magnitude = _magnitude(walk.acc)
            true = np.asarray(walk.cycle_starts_s) * rate_hz
            for name, detector in (
                ("gggd", detect_cycle_starts),
                ("baseline", detect_peaks_baseline),
            ):
                match = match_cycle_starts(
                    detector(magnitude, rate_hz), true, rate_hz, n_samples=magnitude.size
                )
                metrics[name].append(
                    (
                        match.matched_fraction,
                        match.within_15pct,
                        match.cycle_length_error,
                        match.missed_per_100,
                        match.spurious_fraction,
                    )
                )
        return np.mean(metrics["gggd"], axis=0), np.mean(metrics["baseline"], axis=0)

    @pytest.mark.parametrize("preset", ["waist", "pocket"])
    @pytest.mark.parametrize("drift", [0.0, 0.1])
    @pytest.mark.parametrize("noise_m_s2", [0.0, 0.25, 0.5])
    def test_gggd_at_least_as_good_as_baseline(self, preset, noise_m_s2, drift):
        gggd, baseline = self._metrics(preset, noise_m_s2, drift, self.SEEDS)
        matched, within, length_error, missed, spurious = range(5)
        detail = (preset, noise_m_s2, drift, np.round(gggd, 3), np.round(baseline, 3))
        assert gggd[matched] >= baseline[matched], detail
        assert gggd[within] >= baseline[within], detail
        assert gggd[length_error] <= baseline[length_error], detail
        assert gggd[missed] <= baseline[missed], detail
        assert gggd[spurious] <= baseline[spurious], detail
        # Margins measured on these seeds: +3 to +15 points matched, +7 to +15 within 15%,
        # +4 to +16 spurious, +0.9 to +8 points median cycle-length error.
        assert gggd[matched] >= 0.95 and gggd[spurious] <= 0.03, detail
        if noise_m_s2 > 0:
            assert gggd[matched] >= baseline[matched] + 0.03, detail
            assert gggd[within] >= baseline[within] + 0.03, detail
            assert gggd[spurious] <= baseline[spurious] - 0.03, detail

    def test_paper_rule_without_consensus_still_runs(self):
        # The deviations are switchable: the RECONSTRUCTION path alone is still a working detector.
        walk = simulate.simulate_walk(60.0, preset="waist", seed=40)
        rate_hz = 1.0 / float(np.median(np.diff(walk.timestamps_s)))
        magnitude = _magnitude(walk.acc)
        params = GaitDetectionParams.updated().replace(
            landmark_consensus=False, gap_fill_min_correlation=None
        )
        detected = detect_cycle_starts(magnitude, rate_hz, params)
        true = np.asarray(walk.cycle_starts_s) * rate_hz
        match = match_cycle_starts(detected, true, rate_hz, n_samples=magnitude.size)
        assert match.within_15pct >= 0.8


class TestPresetsAreNamedHonestly:
    """``paper()`` is Algorithm 1 as reconstructed; our deviations live in ``updated()``."""

    @staticmethod
    def _tagged_fields() -> set:
        """Fields whose comment block says "Paper deviation"."""
        tagged, comment = set(), []
        for line in inspect.getsource(GaitDetectionParams).splitlines():
            text = line.strip()
            if text.startswith("#"):
                comment.append(text)
            elif ":" in text and not text.startswith(("@", "def", '"')) and comment:
                if any("Paper deviation" in c for c in comment):
                    tagged.add(text.split(":")[0])
                comment = []
            elif not text:
                comment = []
        return tagged

    def test_paper_switches_every_documented_deviation_off(self):
        from gaitcnn.cycles import DEVIATIONS

        assert set(DEVIATIONS) == self._tagged_fields()
        paper, updated = GaitDetectionParams.paper(), GaitDetectionParams.updated()
        assert updated == GaitDetectionParams()
        for name, off in DEVIATIONS.items():
            assert getattr(paper, name) == off, name
        assert paper != updated

    def test_pipeline_presets_keep_the_updated_detector(self):
        from gaitcnn.prepare import PrepareParams

        detection = PrepareParams.paper("ouisir").detection
        assert detection == dataclasses.asdict(GaitDetectionParams.updated())

    def test_paper_rule_still_detects_the_cycles_of_a_clean_walk(self):
        acc, truth = make_walk(n_timepoints=1500, stride_frequency_hz=1.0, rotate=False)
        starts = detect_cycle_starts(np.linalg.norm(acc, axis=1), 50.0, GaitDetectionParams.paper())
        assert abs(starts.size - truth.size) <= 2  # 30 s of walking at one stride per second
        assert match_cycle_starts(starts, truth, 50.0, n_samples=1500).matched_fraction >= 0.9
