"""Comparison scores: normalisation, templates, window and walk fusion, score matrices."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gaitcnn.verification import (
    cosine_matrix,
    first_n_score,
    l2_normalise,
    make_template,
    score_walks,
    walk_score,
    window_scores,
)


class TestContractScores:
    def test_zero_vector_cannot_be_normalised(self):
        with pytest.raises(ValueError, match="row 1 is a zero vector"):
            l2_normalise(np.array([[1.0, 0.0], [0.0, 0.0]]))

    def test_non_finite_embeddings(self):
        with pytest.raises(ValueError, match="finite"):
            l2_normalise(np.array([[np.nan, 1.0]]))

    def test_dimension_mismatch(self):
        with pytest.raises(ValueError, match="embedding_dim"):
            cosine_matrix(np.ones((2, 3)), np.ones((2, 4)))

    def test_unknown_template_kind(self):
        with pytest.raises(ValueError, match="kind"):
            make_template(np.ones((2, 3)), kind="median")

    def test_bad_n(self):
        with pytest.raises(ValueError, match="n must be"):
            first_n_score([0.1], 0)
        with pytest.raises(ValueError, match="every must be"):
            score_walks([np.ones((3, 2))], [np.ones((1, 2))], n_first=1, every=0)


class TestScoresBehaviour:
    def test_mean_template_is_unit_mean_direction(self):
        template = make_template(np.array([[2.0, 0.0], [0.0, 5.0]]))
        np.testing.assert_allclose(template, [[np.sqrt(0.5), np.sqrt(0.5)]])

    def test_set_template_scores_the_nearest_member(self):
        template = make_template(np.array([[1.0, 0.0], [0.0, 1.0]]), kind="set")
        scores = window_scores(np.array([[1.0, 0.1], [-1.0, 0.0]]), template)
        np.testing.assert_allclose(scores, [1.0 / np.hypot(1.0, 0.1), 0.0])

    def test_walk_score_is_mean_and_nan_when_empty(self):
        assert walk_score([0.1, 0.5, 0.6]) == pytest.approx(0.4)
        assert np.isnan(walk_score([]))

    def test_first_n_with_stride(self):
        assert first_n_score([1, 9, 2, 9, 3, 9], 3, every=2) == 2.0
        assert first_n_score([1, 9, 2], 1) == 1.0
        assert first_n_score([1, 9, 2], 3, every=2) == 1.5  # the two windows it has
        assert np.isnan(first_n_score([1, 9, 2], 3, every=2, require_all=True))
        assert np.isnan(first_n_score([], 1))

    def test_score_walks_matches_a_plain_loop(self):
        rng = np.random.default_rng(0)
        probes = [rng.normal(size=(n, 4)) for n in (5, 0, 3)]
        templates = [make_template(rng.normal(size=(6, 4)), kind=k) for k in ("mean", "set")]
        matrix = score_walks(probes, templates)
        for i, probe in enumerate(probes):
            for j, template in enumerate(templates):
                expected = walk_score(window_scores(probe, template)) if len(probe) else np.nan
                np.testing.assert_allclose(matrix[i, j], expected)
        assert np.isnan(matrix[1]).all()  # FTA probe
        first2 = score_walks(probes, templates, n_first=2, every=2)
        expected = first_n_score(window_scores(probes[0], templates[1]), 2, every=2)
        np.testing.assert_allclose(first2[0, 1], expected)
        assert np.isfinite(first2[2]).all()  # windows 0 and 2 of 3
        first3 = score_walks(probes, templates, n_first=3, every=2, require_all=True)
        assert np.isfinite(first3[0]).all() and np.isnan(first3[2]).all()  # 3 windows: too few
        partial = score_walks(probes, templates, n_first=3, every=2)
        np.testing.assert_allclose(partial[2], first2[2])  # scored on the two it has
        assert np.isnan(partial[1]).all()  # no window at all: FTA

    @settings(max_examples=40, deadline=None)
    @given(
        arrays(np.float64, (6, 5), elements=st.floats(-3, 3)),
        arrays(np.float64, (4, 5), elements=st.floats(-3, 3)),
    )
    def test_cosines_bounded_and_scale_free(self, a, b):
        a = a[np.linalg.norm(a, axis=1) > 1e-3]
        b = b[np.linalg.norm(b, axis=1) > 1e-3]
        if not (len(a) and len(b)):
            return
        cos = cosine_matrix(a, b)
        assert np.all(np.abs(cos) <= 1.0)
        np.testing.assert_allclose(cosine_matrix(2.5 * a, 0.1 * b), cos, atol=1e-12)

    def test_mean_template_walk_score_is_linear(self):
        # with a mean template, the walk score is the cosine-weighted mean: the dot product of
        # the mean of the unit window embeddings with the template
        rng = np.random.default_rng(1)
        windows = rng.normal(size=(7, 3))
        template = make_template(rng.normal(size=(4, 3)))
        expected = float(l2_normalise(windows).mean(axis=0) @ template[0])
        assert walk_score(window_scores(windows, template)) == pytest.approx(expected)
