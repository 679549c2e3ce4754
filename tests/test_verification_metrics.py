"""Verification metrics: hand-computed cases, FTA handling, properties, bootstrap, DET plot."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitcnn.verification import (
    bootstrap_interval,
    comparisons_from_matrix,
    det_curve,
    eer,
    far_frr,
    frr_at_far,
    open_set_rank1,
    operating_point,
    score_auc,
    target_key,
    threshold_at_far,
    verification_summary,
)

scores_strategy = st.lists(
    st.floats(-1.0, 1.0, allow_nan=False).map(lambda v: round(v, 2)), min_size=1, max_size=30
)


class TestContractVerificationMetrics:
    def test_package_does_not_import_tensorflow(self):
        code = "import sys, gaitcnn.verification; sys.exit('tensorflow' in sys.modules)"
        assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0

    def test_inf_scores_are_rejected_with_the_argument_named(self):
        with pytest.raises(ValueError, match="impostor"):
            eer([0.5], [np.inf])

    @pytest.mark.parametrize("target", [0.0, 1.0, -0.1, 2.0])
    def test_target_far_out_of_range(self, target):
        with pytest.raises(ValueError, match="target_far"):
            threshold_at_far([0.1, 0.2], target)

    def test_no_impostor_scores(self):
        with pytest.raises(ValueError, match="at least one impostor"):
            threshold_at_far([], 0.01)

    def test_matrix_shape_is_checked(self):
        with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
            comparisons_from_matrix(np.zeros((2, 3)), [1, 2], [1, 2])

    def test_inputs_are_not_mutated(self):
        genuine = np.array([0.9, np.nan, 0.3])
        impostor = np.array([0.1, np.nan])
        before = (genuine.copy(), impostor.copy())
        eer(genuine, impostor)
        score_auc(genuine, impostor)
        operating_point(genuine, impostor, 0.5)
        np.testing.assert_array_equal(genuine, before[0])
        np.testing.assert_array_equal(impostor, before[1])

    def test_target_keys(self):
        assert [target_key(t) for t in (0.01, 0.001, 0.05)] == ["1pct", "0_1pct", "5pct"]


class TestVerificationMetricsBehaviour:
    def test_far_frr_hand_computed(self):
        assert far_frr([0.9, 0.5, 0.2], [0.6, 0.1, 0.5, 0.0], 0.5) == (0.5, pytest.approx(1 / 3))

    def test_equal_scores_are_accepted(self):
        assert far_frr([0.5], [0.5], 0.5) == (1.0, 0.0)

    @pytest.mark.parametrize(
        ("genuine", "impostor", "expected"),
        [
            ([0.8, 0.9], [0.1, 0.2], 0.0),  # perfect
            ([0.1, 0.2], [0.8, 0.9], 1.0),  # inverted
            ([0.5, 0.5], [0.5, 0.5, 0.5], 0.5),  # all tied
            # ROC points (FAR, FRR): (0, 1/3), (1/4, 1/3), (1/4, 0): FAR stays 1/4 while FRR
            # falls through it.
            ([0.9, 0.6, 0.4], [0.5, 0.3, 0.2, 0.1], 0.25),
            # A genuine and an impostor tie at 0.5: from (0, 1/2) straight to (1/2, 0); the
            # interpolated crossing is 1/4, not a sample point (1/2).
            ([0.5, 0.9], [0.5, 0.1], 0.25),
        ],
    )
    def test_eer_hand_computed(self, genuine, impostor, expected):
        assert eer(genuine, impostor) == pytest.approx(expected)

    def test_fta_genuine_is_a_reject_at_every_threshold(self):
        # Dropping the FTA would give EER 0; counted as a reject FRR never falls below 1/2, and
        # FAR reaches 1/2 when the 0.2 impostor is accepted.
        assert eer([0.9, np.nan], [0.1, 0.2]) == pytest.approx(0.5)
        assert far_frr([0.9, np.nan], [0.1, 0.2], -1.0) == (1.0, 0.5)

    def test_fta_impostor_is_a_reject_too(self):
        assert far_frr([0.9], [np.nan, 0.1], -1.0) == (0.5, 0.0)
        assert threshold_at_far([np.nan, np.nan, 0.3, 0.1], 0.5) == float("-inf")

    def test_no_crossing_when_ftas_dominate(self):
        # FRR >= 2/3 and FAR <= 1/2 at every threshold: FAR and FRR never meet.
        assert np.isnan(eer([np.nan, np.nan, 0.9], [np.nan, 0.1]))

    def test_only_ftas(self):
        assert np.isnan(eer([np.nan], [np.nan]))

    def test_auc_hand_computed(self):
        assert score_auc([0.9, 0.4], [0.5, 0.1]) == 0.75
        assert score_auc([1.0], [0.0]) == 1.0
        assert score_auc([0.0], [1.0]) == 0.0
        assert score_auc([0.3, 0.3], [0.3]) == 0.5
        # a genuine FTA loses against every acquired impostor, ties another FTA
        assert score_auc([np.nan], [0.1, np.nan]) == 0.25

    def test_frr_at_far_on_a_thousand_impostors(self):
        impostor = np.arange(1000) / 1000.0  # 0.000 .. 0.999
        genuine = np.array([0.5, 0.989, 0.99, 1.0])
        # 1 %: ten false accepts allowed (0.990 .. 0.999); 0.989 is the 11th largest.
        point = operating_point(genuine, impostor, 0.01)
        assert point.threshold == np.nextafter(0.989, 1.0)
        assert (point.far, point.frr, point.resolved) == (0.01, 0.5, True)
        # 0.1 %: one false accept allowed (0.999).
        assert frr_at_far(genuine, impostor, 0.001) == 0.75

    def test_not_resolved_with_too_few_impostors(self):
        impostor = np.arange(999) / 999.0
        assert not operating_point([0.5], impostor, 0.001).resolved
        assert np.isnan(frr_at_far([0.5], impostor, 0.001))
        assert operating_point([0.5], impostor, 0.01).resolved

    def test_ties_at_the_threshold_are_all_above_or_all_below(self):
        # two impostors tie at the top: allowing 1 false accept must reject both
        impostor = [0.9, 0.9, 0.1, 0.2]
        t = threshold_at_far(impostor, 0.25)
        assert t > 0.9
        assert far_frr([], impostor, t)[0] == 0.0

    def test_det_curve_endpoints(self):
        far, frr, thresholds = det_curve([0.9, 0.4], [0.5, 0.1])
        assert (far[0], frr[0], thresholds[0]) == (0.0, 1.0, np.inf)
        assert (far[-1], frr[-1]) == (1.0, 0.0)
        assert np.all(np.diff(far) >= 0) and np.all(np.diff(frr) <= 0)

    def test_det_curve_never_accepts_an_fta(self):
        far, frr, _ = det_curve([0.9, np.nan], [0.1, np.nan])
        assert far[-1] == 0.5 and frr[-1] == 0.5

    def test_open_set_rank1(self):
        matrix = [[0.9, 0.1], [0.6, 0.5], [0.2, 0.2], [np.nan, np.nan], [0.1, 0.7]]
        # hit, miss (other higher), miss (tie), miss (FTA), hit
        assert open_set_rank1(matrix, [1, 2, 2, 1, 2], [1, 2]) == pytest.approx(2 / 5)
        assert open_set_rank1(matrix, [1, 2, 2, 1, 2], [1, 2], threshold=0.8) == 1 / 5

    def test_open_set_rank1_ignores_probes_of_unenrolled_users(self):
        assert open_set_rank1([[0.9, 0.1], [0.9, 0.1]], [1, 3], [1, 2]) == 1.0

    def test_comparison_counts(self):
        matrix = np.random.default_rng(0).uniform(-1, 1, size=(6, 3))
        comparisons = comparisons_from_matrix(matrix, [1, 1, 2, 2, 3, 3], [1, 2, 3])
        assert comparisons.genuine.size == 6 and comparisons.impostor.size == 12
        assert comparisons.genuine[0] == matrix[0, 0] and comparisons.genuine[2] == matrix[2, 1]

    def test_summary(self):
        rng = np.random.default_rng(0)
        n = 20
        matrix = rng.normal(0.0, 0.1, size=(n, n)) + 0.8 * np.eye(n)
        matrix[3] = np.nan  # one FTA probe
        users = np.arange(n) + 100
        summary = verification_summary(matrix, users, users, threshold=0.4, n_bootstrap=50)
        assert summary["n_genuine"] == n and summary["n_impostor"] == n * (n - 1)
        assert summary["n_fta_probes"] == 1 and summary["fta_rate"] == 1 / n
        assert summary["frr_at_far_1pct_resolved"] is True
        assert summary["frr_at_far_0_1pct_resolved"] is False
        assert np.isnan(summary["frr_at_far_0_1pct"])
        assert summary["eer"] == pytest.approx(1 / n)  # only the FTA genuine fails
        assert summary["open_set_rank1"] == pytest.approx(19 / 20)
        assert summary["operating_point"]["frr"] == pytest.approx(1 / n)
        low, high = summary["eer_interval"]
        assert 0.0 <= low <= summary["eer"] <= high


class TestVerificationMetricsProperties:
    @settings(max_examples=60, deadline=None)
    @given(genuine=scores_strategy, impostor=scores_strategy)
    def test_eer_between_the_bracketing_error_rates(self, genuine, impostor):
        thresholds = np.r_[np.unique(np.r_[genuine, impostor]), np.inf]
        rates = np.array([far_frr(genuine, impostor, t) for t in thresholds])
        value = eer(genuine, impostor)
        assert rates.min(axis=1).max() - 1e-12 <= value <= rates.max(axis=1).min() + 1e-12

    @settings(max_examples=60, deadline=None)
    @given(genuine=scores_strategy, impostor=scores_strategy)
    def test_eer_and_auc_invariant_to_increasing_transforms(self, genuine, impostor):
        g, i = np.array(genuine), np.array(impostor)
        assert eer(3 * g + 1, 3 * i + 1) == pytest.approx(eer(g, i))
        assert score_auc(np.exp(g), np.exp(i)) == pytest.approx(score_auc(g, i))

    @settings(max_examples=80, deadline=None)
    @given(
        genuine=scores_strategy,
        impostor=scores_strategy,
        target=st.sampled_from([0.01, 0.1, 0.25, 0.5]),
    )
    def test_operating_point_is_the_smallest_allowed_threshold(self, genuine, impostor, target):
        point = operating_point(genuine, impostor, target)
        assert point.far <= target
        candidates = np.unique(np.r_[genuine, impostor, np.nextafter(impostor, 2.0)])
        allowed = [t for t in candidates if far_frr(genuine, impostor, t)[0] <= target]
        # the FRR cannot be beaten by any threshold that meets the target
        best_frr = min(far_frr(genuine, impostor, t)[1] for t in allowed)
        assert point.frr == pytest.approx(best_frr)
        if np.isfinite(point.threshold):  # just below it, the target is missed
            below = np.nextafter(point.threshold, -2.0)
            assert far_frr(genuine, impostor, below)[0] > target


class TestBootstrap:
    def _comparisons(self, seed=0):
        rng = np.random.default_rng(seed)
        n = 15
        matrix = rng.normal(0.0, 0.2, size=(n, n)) + 0.5 * np.eye(n)
        users = np.arange(n)
        return comparisons_from_matrix(matrix, users, users)

    def test_seeded_and_ordered(self):
        comparisons = self._comparisons()
        first = bootstrap_interval(eer, comparisons, n_resamples=200, seed=3)
        assert first == bootstrap_interval(eer, comparisons, n_resamples=200, seed=3)
        assert first != bootstrap_interval(eer, comparisons, n_resamples=200, seed=4)
        point = eer(comparisons.genuine, comparisons.impostor)
        assert first[0] <= point <= first[1]

    def test_a_user_keeps_all_comparisons(self):
        # every user identical: any resample gives the same EER, the interval is a point
        matrix = np.tile(np.array([[0.9, 0.1, 0.2], [0.1, 0.9, 0.2], [0.1, 0.2, 0.9]]), (1, 1))
        comparisons = comparisons_from_matrix(matrix, [0, 1, 2], [0, 1, 2])
        low, high = bootstrap_interval(eer, comparisons, n_resamples=50, seed=0)
        assert low == high == 0.0


def test_plot_det_writes_a_png(tmp_path):
    from gaitcnn.verification.plots import plot_det

    rng = np.random.default_rng(0)
    curves = {
        "good": (rng.normal(1, 0.3, 50), rng.normal(0, 0.3, 500)),
        "with FTA": (np.r_[rng.normal(1, 0.5, 50), np.nan], rng.normal(0, 0.5, 500)),
    }
    out = plot_det(curves, tmp_path / "sub" / "det.png", title="simulated")
    assert out.is_file() and out.stat().st_size > 1000
