"""Split construction of the authentication protocol: training, validation and probe images of
one binary classifier, kept apart in time (see :mod:`gaitcnn.authentication`). numpy only."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gaitcnn.authentication._config import AuthConfig

__all__ = ["AuthSplit", "derive_seed", "eligible_subjects", "make_split", "spans_overlap",
           "tile_blocks"]  # fmt: skip

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuthSplit:
    """Image indices of one classifier's training data and probes.

    Every ``*_groups`` array gives a block id per image; images of one block are consecutive
    cycles in time order, and N-fusion never crosses blocks. Labels: 1 genuine, 0 impostor.
    ``same_idx`` is None when the same-day probe could not be drawn.
    """

    train_idx: np.ndarray
    train_labels: np.ndarray
    val_idx: np.ndarray
    val_labels: np.ndarray
    same_idx: np.ndarray | None
    same_labels: np.ndarray | None
    same_groups: np.ndarray | None
    diff_idx: np.ndarray
    diff_labels: np.ndarray
    diff_groups: np.ndarray


def derive_seed(*parts: Any) -> int:
    """A stable 31-bit seed from any values."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def spans_overlap(idx_a, idx_b, recording_index, starts, before: int, after: int) -> np.ndarray:
    """For each image of ``idx_b``: does its span meet the span of any image of ``idx_a``?

    Image ``i`` spans samples ``[starts[i] - before, starts[i] + after)`` of recording
    ``recording_index[i]``; two spans meet when they are in the same recording and their
    starts differ by less than ``before + after``.

    Returns
    -------
    np.ndarray of bool, shape (len(idx_b),)
    """
    idx_a, idx_b = np.asarray(idx_a, dtype=np.int64), np.asarray(idx_b, dtype=np.int64)
    out = np.zeros(idx_b.size, dtype=bool)
    if idx_a.size == 0 or idx_b.size == 0:
        return out
    reach = before + after
    for rec in np.intersect1d(recording_index[idx_a], recording_index[idx_b]):
        a = np.sort(starts[idx_a][recording_index[idx_a] == rec])
        sel = np.flatnonzero(recording_index[idx_b] == rec)
        b = starts[idx_b[sel]]
        pos = np.searchsorted(a, b)
        left = np.abs(b - a[np.clip(pos - 1, 0, a.size - 1)]) < reach
        right = np.abs(a[np.clip(pos, 0, a.size - 1)] - b) < reach
        out[sel] = left | right
    return out


def _time_order(idx, recording_index, starts) -> np.ndarray:
    idx = np.asarray(idx, dtype=np.int64)
    return idx[np.lexsort((starts[idx], recording_index[idx]))]


def tile_blocks(idx, recording_index, starts, block_len: int, *, keep_tail=False) -> list:
    """Cut images into blocks of ``block_len`` consecutive images of one recording.

    ``idx`` is put in time order; a run is broken where the recording changes or where an
    image of the original sequence is missing from ``idx`` (callers pass already filtered
    candidate sets, so a gap in ``idx`` means non-consecutive cycles). Tails shorter than
    ``block_len`` are dropped unless ``keep_tail``.
    """
    idx = _time_order(idx, recording_index, starts)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(
        (np.diff(recording_index[idx]) != 0) | (np.diff(idx) != 1)  # idx sorted = cache order
    )
    blocks = []
    for run in np.split(idx, breaks + 1):
        n_full = run.size // block_len
        blocks.extend(run[: n_full * block_len].reshape(n_full, block_len))
        if keep_tail and run.size % block_len:
            blocks.append(run[n_full * block_len :])
    return [np.asarray(b) for b in blocks]


def _take_blocks(blocks: list, n_images: int, rng) -> list:
    """Random blocks until ``n_images`` images; the last block is truncated to fit."""
    out, total = [], 0
    for k in rng.permutation(len(blocks)):
        if total >= n_images:
            break
        block = blocks[k][: n_images - total]
        out.append(block)
        total += block.size
    return out


def _spread_quotas(n: int, subjects: Sequence, rng) -> dict:
    """``n`` split as evenly as possible over ``subjects`` (random order for the remainder)."""
    order = list(rng.permutation(len(subjects)))
    base, extra = divmod(n, len(subjects))
    return {subjects[k]: base + (1 if rank < extra else 0) for rank, k in enumerate(order)}


def _round_robin_blocks(blocks_by_subject: dict, n_images: int, rng) -> list:
    """Blocks from the subjects in turn (random subject order and block choice) up to n images."""
    pools = {s: list(rng.permutation(len(b))) for s, b in blocks_by_subject.items() if b}
    order = [s for s in rng.permutation(sorted(pools))]
    out, total = [], 0
    while total < n_images and any(pools[s] for s in order):
        for s in order:
            if total >= n_images:
                break
            if pools[s]:
                block = blocks_by_subject[s][pools[s].pop()][: n_images - total]
                out.append(block)
                total += block.size
    return out


def _concat(blocks: list, label: int, first_group: int):
    if not blocks:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    idx = np.concatenate(blocks)
    labels = np.full(idx.size, label, dtype=np.int64)
    groups = np.concatenate([np.full(b.size, first_group + i) for i, b in enumerate(blocks)])
    return idx, labels, groups


def make_split(
    subject_ids, sessions, recording_index, starts, subject: int, rep: int, config: AuthConfig
) -> AuthSplit:
    """Draw the training set and the probes of the classifier of ``subject``, repetition ``rep``.

    Parameters
    ----------
    subject_ids, sessions, recording_index, starts : np.ndarray, shape (n_images,)
        Per-image metadata of the McGill image set (cache order = time order per recording).
    subject : int
    rep : int
    config : AuthConfig

    Returns
    -------
    AuthSplit
    """
    subject_ids = np.asarray(subject_ids)
    sessions = np.asarray(sessions)
    recording_index = np.asarray(recording_index)
    starts = np.asarray(starts)
    rng = np.random.default_rng(derive_seed(config.seed, "split", subject, rep))
    B, gb, ga = config.block_len, config.guard_before, config.guard_after
    day1 = sessions == "day1"
    day2 = sessions == "day2"
    others = sorted(int(s) for s in np.unique(subject_ids) if s != subject)
    if not others:
        raise ValueError("authentication needs at least two subjects")

    def blocks_of(mask, keep_tail=False):
        return tile_blocks(np.flatnonzero(mask), recording_index, starts, B, keep_tail=keep_tail)

    # --- training: positives ------------------------------------------------------------
    pos1 = np.flatnonzero(day1 & (subject_ids == subject))
    n_pos = max(2, round(config.train_share * pos1.size))
    # Reconstruction: random blocks of B consecutive cycles (tail blocks kept so 100 % works).
    pos_blocks = _take_blocks(blocks_of(day1 & (subject_ids == subject), True), n_pos, rng)
    # --- training: negatives, spread evenly over every other subject's day 1 ---------------
    quotas = _spread_quotas(sum(b.size for b in pos_blocks), others, rng)
    neg_blocks = []
    for s in others:
        neg_blocks += _take_blocks(blocks_of(day1 & (subject_ids == s), True), quotas[s], rng)
    t_pos, y_pos, g_pos = _concat(pos_blocks, 1, 0)
    t_neg, y_neg, g_neg = _concat(neg_blocks, 0, len(pos_blocks))
    train_all = np.concatenate([t_pos, t_neg])
    labels_all = np.concatenate([y_pos, y_neg])
    groups_all = np.concatenate([g_pos, g_neg])

    # --- validation split by block, and no time overlap between validation and training ----
    from gaitcnn.pipeline import split_by_recording

    split = split_by_recording(
        groups_all,
        labels_all,
        validation_fraction=config.validation_fraction,
        seed=derive_seed(config.seed, "val", subject, rep),
    )
    val_idx = train_all[split.validation]
    keep = ~spans_overlap(val_idx, train_all[split.train], recording_index, starts, gb, ga)
    tr = split.train[keep]

    # --- same-day probe: the rest of day 1, outside the guard of every training image ------
    same_idx = same_labels = same_groups = None
    if config.same_day:
        same_idx, same_labels, same_groups = _same_day_probe(
            day1, train_all, t_pos.size, subject_ids, subject, blocks_of, rng,
            where=(recording_index, starts, gb, ga), label=f"subject {subject} rep {rep}",
        )  # fmt: skip

    # --- different-day probe: all of day 2, plus as many impostor cycles --------------------
    d_pos_blocks = blocks_of(day2 & (subject_ids == subject), True)
    n_d = sum(b.size for b in d_pos_blocks)
    d_neg = _round_robin_blocks({s: blocks_of(day2 & (subject_ids == s)) for s in others}, n_d, rng)
    dp, ydp, gdp = _concat(d_pos_blocks, 1, 0)
    dn, ydn, gdn = _concat(d_neg, 0, len(d_pos_blocks))
    return AuthSplit(
        train_idx=train_all[tr],
        train_labels=labels_all[tr],
        val_idx=val_idx,
        val_labels=labels_all[split.validation],
        same_idx=same_idx,
        same_labels=same_labels,
        same_groups=same_groups,
        diff_idx=np.concatenate([dp, dn]),
        diff_labels=np.concatenate([ydp, ydn]),
        diff_groups=np.concatenate([gdp, gdn]),
    )


def _same_day_probe(
    free, train_all, n_probe, subject_ids, subject, blocks_of, rng, *, where, label
):
    """The same-day probe from ``free`` (day 1) minus the training images and their guards.

    ``n_probe`` genuine cycles ([P] "an equal quantity") and as many impostor cycles from the
    other subjects; ``(None, None, None)`` if day 1 is too short for that.
    """
    recording_index, starts, gb, ga = where
    free = free.copy()
    free[train_all] = False
    cand = np.flatnonzero(free)
    free[cand[spans_overlap(train_all, cand, recording_index, starts, gb, ga)]] = False
    p_blocks = _take_blocks(blocks_of(free & (subject_ids == subject)), n_probe, rng)
    n_got = sum(b.size for b in p_blocks)
    others = sorted(int(s) for s in np.unique(subject_ids) if s != subject)
    i_blocks = _round_robin_blocks(
        {s: blocks_of(free & (subject_ids == s)) for s in others}, n_got, rng
    )
    if n_got != n_probe or sum(b.size for b in i_blocks) != n_got:
        logger.warning("%s: day 1 too short for a same-day probe of %d cycles", label, n_probe)
        return None, None, None
    sp, yp, gp = _concat(p_blocks, 1, 0)
    sn, yn, gn = _concat(i_blocks, 0, len(p_blocks))
    return np.concatenate([sp, sn]), np.concatenate([yp, yn]), np.concatenate([gp, gn])


def eligible_subjects(image_set, config: AuthConfig) -> list:
    """Subjects with images on both days (restricted to ``config.subjects`` if set)."""
    sessions = image_set.sessions
    both = [
        int(s)
        for s in np.unique(image_set.subject_ids)
        if {"day1", "day2"} <= set(sessions[image_set.subject_ids == s])
    ]
    if config.subjects is not None:
        missing = set(config.subjects) - set(both)
        if missing:
            raise ValueError(f"subjects without images on both days: {sorted(missing)}")
        both = [s for s in both if s in config.subjects]
    return both
