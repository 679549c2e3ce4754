"""Open-set verification metrics: FAR/FRR, EER, FRR at a target FAR, rank-1, bootstrap.

Definitions follow docs/RECONSTRUCTION.md section 7 (ISO/IEC 19795-1 vocabulary). A
comparison is *accepted* when its score is ``>= threshold``. Scores are finite floats, or NaN
for a *failure to acquire* (FTA: a probe without a usable window), which is rejected at every
threshold, for genuine and impostor comparisons alike.

- FAR(t) = (impostor comparisons with score >= t) / (all impostor comparisons);
- FRR(t) = (genuine comparisons with score < t, or FTA) / (all genuine comparisons);
- EER: where FAR and FRR cross on the empirical ROC, interpolated linearly
  (:func:`gaitcnn.evaluate.equal_error_rate`);
- FRR at FAR = x: the FRR at the smallest threshold with FAR <= x (:func:`threshold_at_far`),
  *not resolved* with fewer than 1/x impostor comparisons.

numpy only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from gaitcnn.evaluate import equal_error_rate, roc_auc, roc_curve

__all__ = [
    "DEFAULT_TARGET_FARS",
    "Comparisons",
    "OperatingPoint",
    "bootstrap_interval",
    "comparisons_from_matrix",
    "det_curve",
    "eer",
    "far_frr",
    "frr_at_far",
    "open_set_rank1",
    "operating_point",
    "score_auc",
    "target_key",
    "threshold_at_far",
    "verification_summary",
]

#: Target FARs reported by :func:`verification_summary` (1 % and 0.1 %).
DEFAULT_TARGET_FARS = (0.01, 0.001)

# Relative slack when turning ``target * n`` into an allowed count of false accepts, so that
# e.g. 0.29 * 100 = 28.999999999999996 allows 29, not 28.
_COUNT_EPS = 1e-9


class Comparisons(NamedTuple):
    """Flat list of comparisons, one per (probe, template) pair.

    Attributes
    ----------
    scores : np.ndarray of float64, shape (n_comparisons,)
        NaN for a failure to acquire.
    is_genuine : np.ndarray of bool, shape (n_comparisons,)
        True when probe and template belong to the same user.
    probe_user : np.ndarray, shape (n_comparisons,)
        User of the probe (bootstrap unit).
    template_user : np.ndarray, shape (n_comparisons,)
        User of the template.
    """

    scores: np.ndarray
    is_genuine: np.ndarray
    probe_user: np.ndarray
    template_user: np.ndarray

    @property
    def genuine(self) -> np.ndarray:
        """Scores of the genuine comparisons."""
        return self.scores[self.is_genuine]

    @property
    def impostor(self) -> np.ndarray:
        """Scores of the impostor comparisons."""
        return self.scores[~self.is_genuine]


class OperatingPoint(NamedTuple):
    """A decision threshold and the error rates it gives.

    Attributes
    ----------
    threshold : float
        Accept when ``score >= threshold``.
    far, frr : float
        False accept and false reject rates at ``threshold``.
    target_far : float
        The FAR the threshold was chosen for.
    resolved : bool
        False when there were fewer than ``1 / target_far`` impostor comparisons, so the
        target FAR cannot be measured.
    """

    threshold: float
    far: float
    frr: float
    target_far: float
    resolved: bool


def _scores(values, name: str) -> np.ndarray:
    scores = np.asarray(values, dtype=np.float64).reshape(-1)
    if np.isinf(scores).any():
        raise ValueError(f"{name} must be finite or NaN (failure to acquire). Received inf.")
    return scores


def _check_target(target_far) -> float:
    target = float(target_far)
    if not 0.0 < target < 1.0:
        raise ValueError(f"target_far must be in (0, 1). Received: target_far={target_far!r}")
    return target


def far_frr(genuine, impostor, threshold: float) -> tuple[float, float]:
    """FAR and FRR when accepting scores ``>= threshold`` (NaN scores are always rejected).

    Parameters
    ----------
    genuine : np.ndarray, shape (n_genuine,)
        Scores of genuine comparisons (same user); NaN = failure to acquire.
    impostor : np.ndarray, shape (n_impostor,)
        Scores of impostor comparisons (different users); NaN = failure to acquire.
    threshold : float

    Returns
    -------
    far, frr : float
        NaN when the corresponding set is empty.

    Examples
    --------
    >>> far_frr([0.9, 0.5, np.nan], [0.6, 0.1], 0.55)
    (0.5, 0.6666666666666667)
    """
    genuine, impostor = _scores(genuine, "genuine"), _scores(impostor, "impostor")
    with np.errstate(invalid="ignore"):  # NaN >= t is False: rejected
        far = float(np.mean(impostor >= threshold)) if impostor.size else float("nan")
        frr = float(1.0 - np.mean(genuine >= threshold)) if genuine.size else float("nan")
    return far, frr


def threshold_at_far(impostor, target_far: float) -> float:
    """The smallest threshold whose FAR on ``impostor`` is at most ``target_far``.

    With impostor scores sorted in decreasing order ``s_0 >= s_1 >= ...`` and
    ``k = floor(target_far * n_impostor)`` false accepts allowed, every ``t <= s_k`` accepts at
    least ``k + 1`` impostors and every ``t > s_k`` at most ``k``; the threshold returned is the
    next float above ``s_k`` (the infimum of the allowed thresholds, up to one ulp). This is
    how a threshold is calibrated on held-out users.

    Parameters
    ----------
    impostor : np.ndarray, shape (n_impostor,)
        Impostor scores; NaN (FTA) are never accepted and count in the denominator.
    target_far : float
        In (0, 1), e.g. 0.01.

    Returns
    -------
    float
        The threshold; ``-inf`` when even accepting every finite score keeps FAR <= target.

    Raises
    ------
    ValueError
        If there is no impostor score or ``target_far`` is not in (0, 1).

    Examples
    --------
    >>> bool(threshold_at_far([0.1, 0.2, 0.3, 0.4], 0.25) == np.nextafter(0.3, 1))
    True
    """
    target = _check_target(target_far)
    impostor = _scores(impostor, "impostor")
    if impostor.size == 0:
        raise ValueError("threshold_at_far needs at least one impostor score. Received none.")
    allowed = math.floor(target * impostor.size * (1 + _COUNT_EPS))
    finite = np.sort(impostor[np.isfinite(impostor)])[::-1]
    if allowed >= finite.size:
        return float("-inf")
    return float(np.nextafter(finite[allowed], np.inf))


def operating_point(genuine, impostor, target_far: float) -> OperatingPoint:
    """Threshold at ``target_far`` on these impostors, and the FAR/FRR it gives.

    Parameters
    ----------
    genuine, impostor : np.ndarray
        Scores (NaN = FTA), see :func:`far_frr`.
    target_far : float
        In (0, 1).

    Returns
    -------
    OperatingPoint
        ``resolved`` is False with fewer than ``1 / target_far`` impostor comparisons.

    Examples
    --------
    >>> point = operating_point([0.3, 0.9], [0.1, 0.2, 0.3, 0.4], 0.25)
    >>> round(point.far, 2), round(point.frr, 2), point.resolved
    (0.25, 0.5, True)
    """
    target = _check_target(target_far)
    impostor = _scores(impostor, "impostor")
    threshold = threshold_at_far(impostor, target)
    far, frr = far_frr(genuine, impostor, threshold)
    resolved = impostor.size >= math.ceil(1.0 / target * (1 - _COUNT_EPS))
    return OperatingPoint(threshold, far, frr, target, bool(resolved))


def frr_at_far(genuine, impostor, target_far: float) -> float:
    """FRR at the smallest threshold with FAR <= ``target_far``; NaN when not resolved.

    See :func:`operating_point`; NaN when there are fewer than ``1 / target_far`` impostor
    comparisons (VERIFICATION.md: "say the figure is not resolved").
    """
    point = operating_point(genuine, impostor, target_far)
    return point.frr if point.resolved else float("nan")


def _with_fta_sentinel(genuine, impostor) -> tuple[np.ndarray, np.ndarray, float]:
    """Scores and labels for :mod:`gaitcnn.evaluate`, NaN replaced by a score below all others.

    Returns ``(scores, y_true, sentinel)``; ``sentinel`` is NaN when there was no FTA.
    """
    genuine, impostor = _scores(genuine, "genuine"), _scores(impostor, "impostor")
    scores = np.concatenate([genuine, impostor])
    y_true = np.r_[np.ones(genuine.size, int), np.zeros(impostor.size, int)]
    missing = np.isnan(scores)
    sentinel = float("nan")
    if missing.any():
        finite = scores[~missing]
        sentinel = float(finite.min() - 1.0) if finite.size else 0.0
        scores = np.where(missing, sentinel, scores)
    return scores, y_true, sentinel


def eer(genuine, impostor) -> float:
    """Equal error rate, linearly interpolated on the empirical ROC; FTAs always rejected.

    Uses :func:`gaitcnn.evaluate.equal_error_rate` on the scores with every FTA (NaN) replaced
    by a value below all finite scores. That ROC differs from the true one (where an FTA is
    rejected at every threshold) only on its last segment, from "accept every finite score" to
    "accept everything"; when FAR and FRR would cross only there (FTA rates of genuine plus
    impostor comparisons above 1), they never cross and the result is NaN.

    Parameters
    ----------
    genuine, impostor : np.ndarray
        Scores (NaN = FTA).

    Returns
    -------
    float
        0 for perfect separation, 1 for inverted scores, 0.5 when all scores tie; NaN when a
        set is empty or FAR and FRR never cross.

    Examples
    --------
    >>> eer([0.8, 0.9], [0.1, 0.2]), eer([0.1, 0.2], [0.8, 0.9]), eer([0.5], [0.5])
    (0.0, 1.0, 0.5)
    """
    scores, y_true, sentinel = _with_fta_sentinel(genuine, impostor)
    if y_true.all() or not y_true.any():
        return float("nan")
    if not math.isnan(sentinel):
        genuine_fta = np.mean(scores[y_true == 1] == sentinel)
        impostor_fta = np.mean(scores[y_true == 0] == sentinel)
        if genuine_fta + impostor_fta > 1.0:
            return float("nan")
    return equal_error_rate(scores, y_true)


def score_auc(genuine, impostor) -> float:
    """ROC AUC: P(genuine score > impostor score) + P(tie) / 2; an FTA scores below all.

    Uses :func:`gaitcnn.evaluate.roc_auc`. A genuine FTA loses against every acquired
    impostor comparison, and two FTAs tie. NaN when a set is empty.

    Examples
    --------
    >>> score_auc([0.9, 0.4], [0.5, 0.1])
    0.75
    """
    scores, y_true, _ = _with_fta_sentinel(genuine, impostor)
    return roc_auc(scores, y_true)


def det_curve(genuine, impostor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FAR and FRR at every distinct threshold (from :func:`gaitcnn.evaluate.roc_curve`).

    Returns
    -------
    far, frr, thresholds : np.ndarray, shape (n_points,)
        Thresholds decreasing from +inf (FAR 0, FRR 1). With FTAs, the point that would
        accept them is left out, so the curve ends at "accept every finite score".
    """
    scores, y_true, sentinel = _with_fta_sentinel(genuine, impostor)
    fpr, tpr, thresholds = roc_curve(scores, y_true)
    if not math.isnan(sentinel):
        keep = thresholds > sentinel
        fpr, tpr, thresholds = fpr[keep], tpr[keep], thresholds[keep]
    return fpr, 1.0 - tpr, thresholds


def comparisons_from_matrix(score_matrix, probe_users, template_users) -> Comparisons:
    """Flatten a probe x template score matrix into genuine and impostor comparisons.

    Parameters
    ----------
    score_matrix : np.ndarray, shape (n_probes, n_templates)
        Fused scores; NaN for FTA.
    probe_users : np.ndarray, shape (n_probes,)
        User of each probe.
    template_users : np.ndarray, shape (n_templates,)
        User of each template, distinct.

    Returns
    -------
    Comparisons
        Row-major order (probe 0 against every template, then probe 1, ...).
    """
    matrix = np.asarray(score_matrix, dtype=np.float64)
    probe_users = np.asarray(probe_users)
    template_users = np.asarray(template_users)
    if matrix.shape != (probe_users.size, template_users.size):
        raise ValueError(
            f"score_matrix must have shape ({probe_users.size}, {template_users.size}) "
            f"(probes, templates). Received {matrix.shape}."
        )
    if np.unique(template_users).size != template_users.size:
        raise ValueError("template_users must be distinct (one template per user).")
    n_probes, n_templates = matrix.shape
    probe = np.repeat(probe_users, n_templates)
    template = np.tile(template_users, n_probes)
    return Comparisons(_scores(matrix, "score_matrix"), probe == template, probe, template)


def open_set_rank1(
    score_matrix, probe_users, template_users, *, threshold: float | None = None
) -> float:
    """Share of probes whose own template scores strictly highest (and >= ``threshold``).

    Parameters
    ----------
    score_matrix : np.ndarray, shape (n_probes, n_templates)
        NaN for FTA; an FTA probe is a miss.
    probe_users, template_users : np.ndarray
        As in :func:`comparisons_from_matrix`. Probes of users without a template are left out.
    threshold : float, optional
        Also require the own score to be accepted (detection and identification rate).

    Returns
    -------
    float
        NaN when no probe has a template. A tie for the top score counts as a miss.

    Examples
    --------
    >>> open_set_rank1([[0.9, 0.1], [0.6, 0.5], [0.2, 0.2]], [1, 2, 2], [1, 2])
    0.3333333333333333
    """
    comparisons = comparisons_from_matrix(score_matrix, probe_users, template_users)
    matrix = comparisons.scores.reshape(len(probe_users), len(template_users))
    own = comparisons.is_genuine.reshape(matrix.shape)
    enrolled = own.any(axis=1)
    if not enrolled.any():
        return float("nan")
    matrix, own = matrix[enrolled], own[enrolled]
    own_score = np.where(own, matrix, -np.inf).max(axis=1)
    best_other = np.where(own | np.isnan(matrix), -np.inf, matrix).max(axis=1)
    hits = np.isfinite(own_score) & (own_score > best_other)
    if threshold is not None:
        hits &= own_score >= threshold
    return float(hits.mean())


def bootstrap_interval(
    metric: Callable[[np.ndarray, np.ndarray], float],
    comparisons: Comparisons,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``metric`` over the probe users ("subsets bootstrap").

    Each resample draws as many probe users as there are, with replacement; a drawn user brings
    all of its comparisons (genuine and impostor), so comparisons of one user stay together.

    Parameters
    ----------
    metric : callable
        ``metric(genuine_scores, impostor_scores) -> float``, e.g. :func:`eer`.
    comparisons : Comparisons
        From :func:`comparisons_from_matrix`.
    n_resamples : int, default=1000
    confidence : float, default=0.95
        Coverage of the two-sided interval.
    seed : int, default=0
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    low, high : float
        NaN resamples (e.g. no impostor drawn) are ignored; (NaN, NaN) when all are NaN.
    """
    if not (isinstance(n_resamples, int) and n_resamples >= 1):
        raise ValueError(f"n_resamples must be an int >= 1. Received: {n_resamples!r}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1). Received: confidence={confidence!r}")
    users, inverse = np.unique(comparisons.probe_user, return_inverse=True)
    members = [np.flatnonzero(inverse == u) for u in range(users.size)]
    rng = np.random.default_rng(seed)
    values = np.empty(n_resamples)
    for r in range(n_resamples):
        drawn = rng.integers(0, users.size, size=users.size)
        index = np.concatenate([members[u] for u in drawn])
        genuine = comparisons.is_genuine[index]
        scores = comparisons.scores[index]
        values[r] = metric(scores[genuine], scores[~genuine])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def target_key(target_far: float) -> str:
    """Name of a target FAR in results: 0.01 -> ``"1pct"``, 0.001 -> ``"0_1pct"``.

    Examples
    --------
    >>> target_key(0.01), target_key(0.001)
    ('1pct', '0_1pct')
    """
    return f"{100 * target_far:g}".replace(".", "_") + "pct"


def verification_summary(
    score_matrix,
    probe_users,
    template_users,
    *,
    target_fars: Sequence[float] = DEFAULT_TARGET_FARS,
    threshold: float | None = None,
    n_bootstrap: int = 0,
    seed: int = 0,
) -> dict[str, Any]:
    """All metrics of one fused score matrix as a plain dict (fractions).

    Parameters
    ----------
    score_matrix : np.ndarray, shape (n_probes, n_templates)
        NaN rows for FTA probes.
    probe_users, template_users : np.ndarray
        As in :func:`comparisons_from_matrix`.
    target_fars : sequence of float, default=(0.01, 0.001)
        FARs at which the FRR is reported.
    threshold : float, optional
        A threshold calibrated elsewhere (on held-out training users): adds
        ``operating_point`` with the FAR and FRR it gives on these comparisons.
    n_bootstrap : int, default=0
        Resamples of the bootstrap interval of the EER (0: none).
    seed : int, default=0
        Bootstrap seed.

    Returns
    -------
    dict
        ``eer``, ``frr_at_far_<key>`` (NaN when not resolved) and
        ``frr_at_far_<key>_resolved`` for each target (:func:`target_key`), ``roc_auc``,
        ``open_set_rank1``, ``n_genuine``, ``n_impostor``, ``n_probes``, ``n_fta_probes``,
        ``fta_rate``; ``eer_interval`` when ``n_bootstrap``; ``operating_point`` when
        ``threshold`` is given.
    """
    comparisons = comparisons_from_matrix(score_matrix, probe_users, template_users)
    genuine, impostor = comparisons.genuine, comparisons.impostor
    matrix = comparisons.scores.reshape(len(probe_users), len(template_users))
    n_fta = int(np.isnan(matrix).all(axis=1).sum()) if matrix.shape[1] else len(probe_users)
    summary: dict[str, Any] = {"eer": eer(genuine, impostor)}
    for target in target_fars:
        point = operating_point(genuine, impostor, target)
        key = f"frr_at_far_{target_key(target)}"
        summary[key] = point.frr if point.resolved else float("nan")
        summary[f"{key}_resolved"] = point.resolved
    summary["roc_auc"] = score_auc(genuine, impostor)
    summary["open_set_rank1"] = open_set_rank1(matrix, probe_users, template_users)
    summary.update(
        n_genuine=int(genuine.size),
        n_impostor=int(impostor.size),
        n_probes=len(probe_users),
        n_fta_probes=n_fta,
        fta_rate=n_fta / len(probe_users) if len(probe_users) else float("nan"),
    )
    if n_bootstrap:
        summary["eer_interval"] = list(
            bootstrap_interval(eer, comparisons, n_resamples=n_bootstrap, seed=seed)
        )
    if threshold is not None:
        far, frr = far_frr(genuine, impostor, threshold)
        summary["operating_point"] = {"threshold": float(threshold), "far": far, "frr": frr}
    return summary
