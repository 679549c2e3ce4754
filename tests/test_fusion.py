"""Tests of gaitcnn.fusion: the one fusion of window scores, ranks and CMC (numpy only)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitcnn.fusion import (
    class_ranks,
    cmc_curve,
    consecutive_chunks,
    fuse,
    fuse_by_sequence,
    fuse_consecutive,
    group_positions,
)


class TestContractFuse:
    def test_mean_missing_group_and_first_index(self):
        scores = np.array([[1.0, 0.0], [0.0, 5.0], [2.0, 1.0], [4.0, 0.0], [0.0, 1.0]])
        owner = np.array([1, 0, 1, 0, 1])  # interleaved owners, temporal order per owner kept
        fused = fuse(scores, owner, 3)
        np.testing.assert_allclose(fused.scores[0], [2.0, 2.5])
        np.testing.assert_allclose(fused.scores[1], [1.0, 2.0 / 3.0])
        assert np.isnan(fused.scores[2]).all()
        assert fused.n_used.tolist() == [2, 3, 0] and fused.first_index.tolist() == [1, 0, -1]

    def test_first_n_items(self):
        scores = np.array([[1.0, 0.0], [0.0, 5.0], [2.0, 1.0], [4.0, 0.0], [0.0, 1.0]])
        first = fuse(scores, np.array([1, 0, 1, 0, 1]), 3, max_items=1)
        np.testing.assert_allclose(first.scores[:2], [[0.0, 5.0], [1.0, 0.0]])
        assert first.n_used.tolist() == [1, 1, 0]

    def test_left_out_items_and_bad_input(self):
        fused = fuse(np.eye(3), np.array([0, -1, 0]), 1)
        np.testing.assert_allclose(fused.scores, [[0.5, 0.0, 0.5]])
        with pytest.raises(ValueError, match="n_groups"):
            fuse(np.eye(2), np.array([0, 2]), 2)
        with pytest.raises(ValueError, match="method"):
            fuse(np.eye(2), np.array([0, 1]), 2, method="vote")
        with pytest.raises(ValueError, match="group_index"):
            fuse(np.eye(2), np.array([0.0, 1.0]), 2)

    def test_mean_log_is_a_normalised_geometric_mean(self):
        proba = np.array([[0.9, 0.1], [0.01, 0.99], [0.6, 0.4]])
        mean = fuse(proba, np.zeros(3, np.int64), 1).scores[0]
        log = fuse(proba, np.zeros(3, np.int64), 1, method="mean_log").scores[0]
        geometric = np.exp(np.log(proba).mean(axis=0))
        np.testing.assert_allclose(log, geometric / geometric.sum())
        assert np.argmax(mean) == 0 and np.argmax(log) == 1  # a confident image dominates

    @settings(max_examples=50, deadline=None)
    @given(st.lists(st.integers(0, 4), min_size=1, max_size=40), st.integers(1, 5))
    def test_matches_a_plain_loop(self, owners, max_items):
        owner = np.array(owners)
        scores = np.random.default_rng(len(owners)).random((owner.size, 3))
        fused = fuse(scores, owner, 5, max_items=max_items)
        for g in range(5):
            members = np.flatnonzero(owner == g)[:max_items]
            if members.size:
                np.testing.assert_allclose(fused.scores[g], scores[members].mean(axis=0))
                assert fused.first_index[g] == members[0]
            else:
                assert np.isnan(fused.scores[g]).all()


class TestContractConsecutive:
    def test_chunks_within_groups_drop_tails(self):
        chunk, n = consecutive_chunks(["a", "a", "b", "a", "b", "b"], 2)
        assert chunk.tolist() == [0, 0, 1, -1, 1, -1] and n == 2
        with pytest.raises(ValueError, match="n must"):
            consecutive_chunks([0, 0], 0)

    def test_fuse_consecutive_and_by_sequence(self):
        proba = np.array([[0.2, 0.8], [0.6, 0.4], [0.1, 0.9], [0.5, 0.5], [0.3, 0.7]])
        groups = np.array([7, 7, 7, 3, 3])
        pairs = fuse_consecutive(proba, groups, 2)
        np.testing.assert_allclose(pairs.proba, [[0.4, 0.6], [0.4, 0.6]])
        assert pairs.group_ids.tolist() == [7, 3] and pairs.first_index.tolist() == [0, 3]
        whole = fuse_by_sequence(proba, groups)
        np.testing.assert_allclose(whole.proba[0], proba[:3].mean(axis=0))
        assert whole.group_ids.tolist() == [7, 3]
        assert fuse_consecutive(proba, groups, 1).proba.shape == (5, 2)


class TestContractRanks:
    def test_ties_missing_rows_and_cmc(self):
        scores = np.array([[0.5, 0.5, 0.0], [0.1, 0.7, 0.2], [np.nan, np.nan, np.nan]])
        ranks = class_ranks(scores, np.array([1, 2, 0]))
        assert ranks.tolist() == [2, 2, 4]  # tie -> lower index first; NaN row ranks last
        np.testing.assert_allclose(cmc_curve(ranks, 3), [0.0, 2 / 3, 2 / 3])
        assert np.isnan(cmc_curve(np.zeros(0, np.int64), 3)).all()

    def test_group_positions(self):
        assert group_positions(["b", "x", "a"], ["a", "b"]).tolist() == [1, -1, 0]


def test_standardised_sum_puts_both_experts_on_one_scale():
    from gaitcnn.fusion import standardised_sum

    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(5), size=20)
    decision = rng.standard_normal((20, 5))
    summed = standardised_sum(proba, decision)
    # invariant to the peer's scale and offset, and to the network's temperature-free scale
    np.testing.assert_allclose(standardised_sum(proba, 7.0 * decision + 3.0), summed)
    # each part has mean 0 and sd 1 per row, so the sum has mean 0
    np.testing.assert_allclose(summed.mean(axis=1), 0.0, atol=1e-12)
    # a class the peer never saw stays impossible; the others stay finite
    decision[:, 2] = -np.inf
    out = standardised_sum(proba, decision)
    assert np.isneginf(out[:, 2]).all() and np.isfinite(np.delete(out, 2, axis=1)).all()
    with pytest.raises(ValueError, match="one shape"):
        standardised_sum(proba, decision[:, :4])
