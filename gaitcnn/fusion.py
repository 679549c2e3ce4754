"""Decision fusion: per-window (or per-image) scores -> one decision per walk or per N windows.

The one place where gaitcnn averages scores over the windows of a walk, ranks the true class and
builds a CMC curve. Every method and experiment (labeling, authentication, verification, the
peers, :class:`gaitcnn.GaitModel`) calls these functions. numpy only.

Conventions
-----------
- ``scores`` : np.ndarray, shape (n_items, n_classes) - one row per window (or image), e.g.
  softmax outputs or ridge decision values; larger = more likely.
- ``group_index`` : np.ndarray of int, shape (n_items,) - the decision (walk, sequence, chunk)
  each item belongs to, ``0 .. n_groups - 1``; ``-1`` leaves an item out. Items of one group are
  taken in the order they appear (their temporal order).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "FUSIONS",
    "Fused",
    "FusedProba",
    "class_ranks",
    "cmc_curve",
    "consecutive_chunks",
    "fuse",
    "fuse_by_sequence",
    "fuse_consecutive",
    "group_positions",
    "standardised_sum",
]

#: How the scores of a group are combined. ``"mean"``: the arithmetic mean ([P] the paper's
#: mean softmax; for decision scores such as a ridge's it ranks classes like their sum).
#: ``"mean_log"``: the mean log-probability (probabilities clipped at 1e-7), returned
#: renormalised: a normalised geometric mean, the product of the per-window likelihoods.
FUSIONS = ("mean", "mean_log")

#: Floor of network probabilities before :func:`standardised_sum` takes their logarithm.
_PROBA_FLOOR = 1e-7

#: Floor of probabilities before the logarithm of ``"mean_log"``.
_LOG_FLOOR = 1e-7


class Fused(NamedTuple):
    """Fused scores, one row per group.

    Attributes
    ----------
    scores : np.ndarray, shape (n_groups, n_classes)
        Fused scores; a row of NaN for a group without any item.
    n_used : np.ndarray of int, shape (n_groups,)
        Items fused per group (0: no item; such a decision counts as an error).
    first_index : np.ndarray of int, shape (n_groups,)
        Index of each group's first fused item, -1 for an empty group.
    """

    scores: np.ndarray
    n_used: np.ndarray
    first_index: np.ndarray


def _check_scores(scores, group_index) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores)
    if not np.issubdtype(scores.dtype, np.floating):
        scores = scores.astype(np.float64)
    group_index = np.asarray(group_index)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D (n_items, n_classes). Received {scores.shape}.")
    if group_index.shape != (scores.shape[0],):
        raise ValueError(
            f"group_index must have shape ({scores.shape[0]},) like the rows of scores. "
            f"Received {group_index.shape}."
        )
    if not np.issubdtype(group_index.dtype, np.integer):
        raise ValueError(f"group_index must hold integers. Received dtype {group_index.dtype}.")
    return scores, group_index.astype(np.int64)


def _rank_within_group(group_index: np.ndarray) -> np.ndarray:
    """0-based position of every item within its group, in the order the items appear."""
    order = np.argsort(group_index, kind="stable")
    sorted_groups = group_index[order]
    run_starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    run_lengths = np.diff(np.r_[run_starts, group_index.size])
    position = np.empty(group_index.size, dtype=np.int64)
    position[order] = np.arange(group_index.size) - np.repeat(run_starts, run_lengths)
    return position


def fuse(
    scores,
    group_index,
    n_groups: int,
    *,
    max_items: int | None = None,
    method: str = "mean",
) -> Fused:
    """Fuse the scores of each group's items (optionally only its first ``max_items``).

    Parameters
    ----------
    scores : np.ndarray, shape (n_items, n_classes)
    group_index : np.ndarray of int, shape (n_items,)
        Group of each item in ``0 .. n_groups - 1``, or -1 to leave the item out.
    n_groups : int
        Number of decisions; groups without items get a NaN row.
    max_items : int, optional
        Fuse only the first ``max_items`` items of each group (Figure 8's N).
    method : {"mean", "mean_log"}, default="mean"
        See :data:`FUSIONS`.

    Returns
    -------
    Fused

    Examples
    --------
    >>> s = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]])
    >>> f = fuse(s, np.array([0, 0, 1]), 3)
    >>> f.scores[:2].round(2).tolist(), f.n_used.tolist(), f.first_index.tolist()
    ([[0.7, 0.3], [0.2, 0.8]], [2, 1, 0], [0, 2, -1])
    """
    scores, group_index = _check_scores(scores, group_index)
    if method not in FUSIONS:
        raise ValueError(f"method must be one of {FUSIONS}. Received: method={method!r}")
    if group_index.size and group_index.max() >= n_groups:
        raise ValueError(f"group_index holds {group_index.max()} but n_groups={n_groups}.")
    keep = group_index >= 0
    if max_items is not None:
        if max_items < 1:
            raise ValueError(f"max_items must be >= 1. Received: max_items={max_items}")
        keep &= _rank_within_group(group_index) < max_items
    items = np.flatnonzero(keep)
    order = np.argsort(group_index[items], kind="stable")
    items = items[order]  # by group, in their order within each group
    groups = group_index[items]
    # One copy of the kept rows, in the scores' dtype (float32 scores of K = 744 classes and
    # ~33,000 probe windows are 100 MB); sums are accumulated in float64 as before.
    values = scores[items]
    if method == "mean_log":
        values = np.log(np.clip(values.astype(np.float64), _LOG_FLOOR, None))
    n_used = np.bincount(groups, minlength=n_groups)
    fused = np.zeros((n_groups, scores.shape[1]))
    if items.size:
        starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
        fused[groups[starts]] = np.add.reduceat(values, starts, axis=0, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        fused /= n_used[:, None]
    if method == "mean_log":
        fused = np.exp(fused - np.nanmax(fused, axis=1, initial=-np.inf, keepdims=True))
        fused /= fused.sum(axis=1, keepdims=True)
    fused[n_used == 0] = np.nan
    first_index = np.full(n_groups, -1, dtype=np.int64)
    first_index[groups[::-1]] = items[::-1]  # the last write of each group is its first item
    return Fused(fused, n_used, first_index)


def group_positions(keys, groups) -> np.ndarray:
    """Position of each item's key in ``groups`` (-1 for keys not in ``groups``).

    Parameters
    ----------
    keys : array-like, shape (n_items,)
        Group key of every item (e.g. a walk key ``"104/probe/seq1"``).
    groups : sequence
        The decisions, in output order.

    Returns
    -------
    np.ndarray of int64, shape (n_items,)

    Examples
    --------
    >>> group_positions(["b", "a", "c", "b"], ["a", "b"]).tolist()
    [1, 0, -1, 1]
    """
    position = {key: i for i, key in enumerate(groups)}
    return np.array([position.get(key, -1) for key in keys], dtype=np.int64)


def consecutive_chunks(group_ids, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut each group's items into non-overlapping runs of ``n`` consecutive items.

    Within each group, items are taken in the order they appear (their temporal order) and cut
    into chunks ``0..n-1, n..2n-1, ...``; a trailing chunk of fewer than ``n`` items is dropped
    and chunks never span two groups. [R] of paper 2.1: "probes of N consecutive cycles".

    Parameters
    ----------
    group_ids : array-like, shape (n_items,)
        Recording (or block) of each item; any values numpy can sort.
    n : int
        Items per chunk, >= 1.

    Returns
    -------
    chunk_index : np.ndarray of int64, shape (n_items,)
        Chunk of each item, -1 for items of a dropped tail. Chunks are numbered by group
        (order of first appearance), then time.
    n_chunks : int

    Examples
    --------
    >>> consecutive_chunks(["a", "a", "b", "a", "b", "b"], 2)
    (array([ 0,  0,  1, -1,  1, -1]), 2)
    """
    if not (isinstance(n, int | np.integer) and n >= 1):
        raise ValueError(f"n must be an integer >= 1. Received: n={n!r}")
    group_ids = np.asarray(group_ids)
    if group_ids.size == 0:
        return np.zeros(0, dtype=np.int64), 0
    _, first, inverse = np.unique(group_ids, return_index=True, return_inverse=True)
    appearance = np.empty(first.size, dtype=np.int64)
    appearance[np.argsort(first, kind="stable")] = np.arange(first.size)
    group = appearance[inverse.reshape(-1)]
    position = _rank_within_group(group)
    sizes = np.bincount(group, minlength=first.size)
    chunks_per_group = sizes // n
    offset = np.r_[0, np.cumsum(chunks_per_group)[:-1]]
    chunk = offset[group] + position // n
    chunk[position >= chunks_per_group[group] * n] = -1
    return chunk, int(chunks_per_group.sum())


class FusedProba(NamedTuple):
    """Fused softmax outputs with the group of each decision (authentication's N-fusion).

    Attributes
    ----------
    proba : np.ndarray, shape (n_decisions, n_classes)
        Mean softmax of each fused group of images.
    group_ids : np.ndarray, shape (n_decisions,)
        The recording / sequence each decision belongs to.
    first_index : np.ndarray of int, shape (n_decisions,)
        Index (into the original arrays) of the first image of each decision; the label of a
        decision is ``labels[first_index]``.
    """

    proba: np.ndarray
    group_ids: np.ndarray
    first_index: np.ndarray


def fuse_consecutive(proba, group_ids, n: int) -> FusedProba:
    """Mean softmax over non-overlapping runs of ``n`` consecutive images of one recording.

    :func:`consecutive_chunks` then :func:`fuse`. Decisions are ordered by group (first
    appearance), then time.

    Parameters
    ----------
    proba : np.ndarray, shape (n_images, n_classes)
    group_ids : np.ndarray, shape (n_images,)
        Recording (or block) id of each image.
    n : int
        Images per decision, >= 1 (``n=1`` returns the images unchanged).

    Returns
    -------
    FusedProba
    """
    proba = np.asarray(proba, dtype=np.float64)
    group_ids = np.asarray(group_ids)
    if proba.ndim != 2 or group_ids.shape != (proba.shape[0],):
        raise ValueError(
            f"proba must be (n_images, n_classes) and group_ids (n_images,). Received "
            f"{proba.shape} and {group_ids.shape}."
        )
    chunk, n_chunks = consecutive_chunks(group_ids, n)
    fused = fuse(proba, chunk, n_chunks)
    return FusedProba(fused.scores, group_ids[fused.first_index], fused.first_index)


def fuse_by_sequence(proba, sequence_ids) -> FusedProba:
    """Mean softmax over all images of each sequence (paper 2.2: a probe sequence as a whole).

    Returns
    -------
    FusedProba
        One decision per sequence, in order of first appearance.
    """
    sequence_ids = np.asarray(sequence_ids)
    _, first, inverse = np.unique(sequence_ids, return_index=True, return_inverse=True)
    appearance = np.empty(first.size, dtype=np.int64)
    appearance[np.argsort(first, kind="stable")] = np.arange(first.size)
    fused = fuse(proba, appearance[inverse.reshape(-1)], first.size)
    return FusedProba(fused.scores, sequence_ids[fused.first_index], fused.first_index)


def class_ranks(scores, y_true) -> np.ndarray:
    """1-based rank of the true class in each row; ``n_classes + 1`` for a NaN row.

    rank = 1 + (classes scoring strictly higher) + (classes scoring equal with a lower index):
    ties are broken towards the lower class index exactly like ``np.argmax``, so rank 1 is the
    decision ``argmax(scores) == y_true``. A row of NaN (a walk that gave no window) ranks
    last, below every class: it is an error at every rank of the CMC.

    Parameters
    ----------
    scores : np.ndarray, shape (n_decisions, n_classes)
    y_true : np.ndarray of int, shape (n_decisions,)
        True class indices.

    Returns
    -------
    np.ndarray of int64, shape (n_decisions,)
    """
    scores = np.asarray(scores, dtype=np.float64)
    y_true = np.asarray(y_true)
    if scores.ndim != 2 or y_true.shape != (scores.shape[0],):
        raise ValueError(
            f"scores must be (n, n_classes) and y_true (n,). Received {scores.shape} and "
            f"{y_true.shape}."
        )
    if not np.issubdtype(y_true.dtype, np.integer):
        raise ValueError(f"y_true must hold integer class indices. Received {y_true.dtype}.")
    n, n_classes = scores.shape
    if y_true.size and (y_true.min() < 0 or y_true.max() >= n_classes):
        raise ValueError(
            f"y_true must be class indices in [0, {n_classes}). Found "
            f"[{y_true.min()}, {y_true.max()}]."
        )
    ranks = np.full(n, n_classes + 1, dtype=np.int64)
    ok = ~np.isnan(scores).any(axis=1)
    s, y = scores[ok], y_true[ok]
    true_scores = s[np.arange(s.shape[0]), y][:, None]
    lower_index = np.arange(n_classes)[None, :] < y[:, None]
    higher = (s > true_scores) | ((s == true_scores) & lower_index)
    ranks[ok] = 1 + higher.sum(axis=1)
    return ranks


def cmc_curve(ranks, n_classes: int) -> np.ndarray:
    """Cumulative match characteristic: entry r-1 = share of decisions ranked r or better.

    Ranks above ``n_classes`` (decisions without any window) are never counted as matches.

    Returns
    -------
    np.ndarray of float64, shape (n_classes,)
        Non-decreasing; all NaN when there are no decisions.

    Examples
    --------
    >>> cmc_curve(np.array([1, 2, 4]), 3).round(3).tolist()
    [0.333, 0.667, 0.667]
    """
    ranks = np.asarray(ranks, dtype=np.int64)
    if ranks.size == 0:
        return np.full(n_classes, np.nan)
    counts = np.bincount(np.clip(ranks, 1, n_classes + 1) - 1, minlength=n_classes + 1)
    return np.cumsum(counts[:n_classes]) / ranks.size


def _standardise_rows(scores: np.ndarray) -> np.ndarray:
    """Each row minus its mean over its finite entries, divided by their standard deviation."""
    finite = np.isfinite(scores)
    values = np.where(finite, scores, 0.0)
    count = np.maximum(finite.sum(axis=1, keepdims=True), 1)
    mean = values.sum(axis=1, keepdims=True) / count
    sd = np.sqrt((np.where(finite, scores - mean, 0.0) ** 2).sum(axis=1, keepdims=True) / count)
    return np.where(finite, (scores - mean) / np.maximum(sd, 1e-12), -np.inf)


def standardised_sum(proba, decision) -> np.ndarray:
    """Add a network's and a peer's window scores, each standardised per window.

    A network gives probabilities, a peer such as MiniRocket's ridge gives decision values on
    its own scale. Each row is put on a common scale - the network's log-probabilities and the
    peer's decision values are each centred and divided by their standard deviation over the
    classes - and the two are added with equal weight (no weight is fitted). A class the peer
    never saw (-inf) stays -inf.

    Parameters
    ----------
    proba : np.ndarray, shape (n, n_classes)
        Network probabilities (floored at 1e-7 before the logarithm).
    decision : np.ndarray, shape (n, n_classes)
        Peer decision values (-inf for a class without training windows).

    Returns
    -------
    np.ndarray of float64, shape (n, n_classes)

    Examples
    --------
    >>> standardised_sum(np.array([[0.7, 0.2, 0.1]]), np.array([[-1.0, 2.0, -1.0]])).argmax()
    np.int64(1)
    """
    proba = np.asarray(proba, dtype=np.float64)
    decision = np.asarray(decision, dtype=np.float64)
    if proba.shape != decision.shape:
        raise ValueError(
            f"proba and decision must have one shape. Received: {proba.shape}, {decision.shape}"
        )
    log_proba = np.log(np.clip(proba, _PROBA_FLOOR, 1.0))
    return _standardise_rows(log_proba) + _standardise_rows(decision)
