"""Comparison scores of open-set verification: cosine similarity of embeddings to templates.

Conventions (docs/RECONSTRUCTION.md section 7, "Scores and fusion"):

- embeddings are compared after L2 normalisation, so a score is a cosine in [-1, 1];
- a *template* is an array of shape ``(n_members, embedding_dim)``: one row, the normalised mean
  of the enrolment embeddings (kind ``"mean"``), or every enrolment embedding (kind ``"set"``,
  a window is then scored against its nearest member);
- the *walk score* of a probe is the mean of its window scores; the *N-window score* the mean
  over its first N windows; a probe without a usable window scores NaN, a *failure to acquire*
  (FTA) that :mod:`gaitcnn.verification.metrics` counts as a reject for genuine and impostor
  comparisons alike, never as a random score.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "TEMPLATE_KINDS",
    "cosine_matrix",
    "first_n_score",
    "l2_normalise",
    "make_template",
    "score_walks",
    "walk_score",
    "window_scores",
]

#: Template kinds: the normalised mean of the enrolment embeddings, or all of them (1-NN).
TEMPLATE_KINDS = ("mean", "set")

# Norms below this are treated as zero vectors (a zero embedding cannot be normalised).
_TINY_NORM = 1e-12


def _as_matrix(values, name: str, dim: int | None = None) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2 or (dim is not None and array.shape[1] != dim):
        expected = f"(n, {dim})" if dim is not None else "(n, embedding_dim)"
        raise ValueError(f"{name} must have shape {expected}. Received shape {array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite. Received NaN or inf.")
    return array


def l2_normalise(embeddings) -> np.ndarray:
    """Scale each row to unit Euclidean norm.

    Parameters
    ----------
    embeddings : np.ndarray, shape (n, embedding_dim)
        Finite vectors.

    Returns
    -------
    np.ndarray of float64, shape (n, embedding_dim)

    Raises
    ------
    ValueError
        If ``embeddings`` is not 2-D and finite, or a row is (numerically) zero.

    Examples
    --------
    >>> l2_normalise(np.array([[3.0, 4.0]])).tolist()
    [[0.6, 0.8]]
    """
    array = _as_matrix(embeddings, "embeddings")
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    if (norms < _TINY_NORM).any():
        row = int(np.flatnonzero(norms[:, 0] < _TINY_NORM)[0])
        raise ValueError(f"embeddings row {row} is a zero vector and cannot be normalised.")
    return array / norms


def cosine_matrix(a, b) -> np.ndarray:
    """Cosine similarity of every row of ``a`` with every row of ``b``.

    Parameters
    ----------
    a : np.ndarray, shape (n_a, embedding_dim)
    b : np.ndarray, shape (n_b, embedding_dim)

    Returns
    -------
    np.ndarray of float64, shape (n_a, n_b)
        Values in [-1, 1].

    Examples
    --------
    >>> cosine_matrix(np.array([[1.0, 0.0]]), np.array([[2.0, 0.0], [0.0, 5.0]])).tolist()
    [[1.0, 0.0]]
    """
    a = l2_normalise(a)
    b = l2_normalise(b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"a and b must have the same embedding_dim. Received {a.shape[1]} and {b.shape[1]}."
        )
    return np.clip(a @ b.T, -1.0, 1.0)


def make_template(embeddings, kind: str = "mean") -> np.ndarray:
    """Template of one user from the embeddings of the enrolment windows.

    Parameters
    ----------
    embeddings : np.ndarray, shape (n_windows, embedding_dim)
        Embeddings of the user's usable enrolment windows (at least one).
    kind : {"mean", "set"}, default="mean"
        ``"mean"``: the L2-normalised mean of the normalised embeddings (one row).
        ``"set"``: every normalised embedding (windows are scored against the nearest one).

    Returns
    -------
    np.ndarray of float64, shape (1, embedding_dim) or (n_windows, embedding_dim)
        Unit-norm rows.

    Raises
    ------
    ValueError
        If ``kind`` is unknown, there is no embedding, or the mean is a zero vector.

    Examples
    --------
    >>> make_template(np.array([[1.0, 0.0], [0.0, 1.0]])).round(4).tolist()
    [[0.7071, 0.7071]]
    """
    if kind not in TEMPLATE_KINDS:
        raise ValueError(f"kind must be one of {TEMPLATE_KINDS}. Received: kind={kind!r}")
    unit = l2_normalise(embeddings)
    if unit.shape[0] == 0:
        raise ValueError("embeddings must hold at least one enrolment window. Received 0.")
    if kind == "set":
        return unit
    return l2_normalise(unit.mean(axis=0, keepdims=True))


def window_scores(window_embeddings, template) -> np.ndarray:
    """Score of each probe window against one template.

    Parameters
    ----------
    window_embeddings : np.ndarray, shape (n_windows, embedding_dim)
    template : np.ndarray, shape (n_members, embedding_dim)
        From :func:`make_template`; the score of a window is its cosine with the nearest member
        (for a ``"mean"`` template, with the one row).

    Returns
    -------
    np.ndarray of float64, shape (n_windows,)
    """
    window_embeddings = np.asarray(window_embeddings, dtype=np.float64)
    if window_embeddings.ndim == 2 and window_embeddings.shape[0] == 0:
        return np.zeros(0)
    return cosine_matrix(window_embeddings, template).max(axis=1)


def walk_score(scores) -> float:
    """Fused score of a walk: the mean of its window scores; NaN (FTA) when it has none.

    Examples
    --------
    >>> walk_score([0.2, 0.4]), walk_score([])
    (0.30000000000000004, nan)
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    return float(scores.mean()) if scores.size else float("nan")


def _check_n_every(n, every) -> None:
    if not (isinstance(n, int | np.integer) and n >= 1):
        raise ValueError(f"n must be an int >= 1. Received: n={n!r}")
    if not (isinstance(every, int | np.integer) and every >= 1):
        raise ValueError(f"every must be an int >= 1. Received: every={every!r}")


def first_n_score(scores, n: int, *, every: int = 1, require_all: bool = False) -> float:
    """Fused score of the first ``n`` windows of a probe, taking every ``every``-th window.

    With windows cut every 4 samples at 50 Hz, ``every=13`` takes windows one mean gait cycle
    (1.07 s) apart, so ``n`` approximates "the first N cycles".

    Parameters
    ----------
    scores : np.ndarray, shape (n_windows,)
        Window scores in time order.
    n : int
        Windows fused (>= 1).
    every : int, default=1
        Stride through the windows.
    require_all : bool, default=False
        A probe with fewer than ``n`` such windows scores NaN (a failure to acquire at this N)
        instead of the mean of the windows it has.

    Returns
    -------
    float
        Mean of ``scores[0], scores[every], ..., scores[(n - 1) * every]`` (those that exist);
        NaN without any window.

    Examples
    --------
    >>> first_n_score([0.1, 0.9, 0.3, 0.9, 0.5], 3, every=2)
    0.3
    >>> first_n_score([0.1, 0.9], 3), first_n_score([0.1, 0.9], 3, require_all=True)
    (0.5, nan)
    """
    _check_n_every(n, every)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    picked = scores[::every][:n]
    if picked.size == 0 or (require_all and picked.size < n):
        return float("nan")
    return float(picked.mean())


def score_walks(
    probe_embeddings: Sequence[np.ndarray],
    templates: Sequence[np.ndarray],
    *,
    n_first: int | None = None,
    every: int = 1,
    require_all: bool = False,
) -> np.ndarray:
    """Score matrix of probes (each a walk of window embeddings) against templates.

    Parameters
    ----------
    probe_embeddings : sequence of np.ndarray, each shape (n_windows_i, embedding_dim)
        The usable windows of each probe walk, in time order; ``n_windows_i`` may be 0.
    templates : sequence of np.ndarray, each shape (n_members_j, embedding_dim)
        From :func:`make_template`.
    n_first : int, optional
        Fuse only the first ``n_first`` windows (:func:`first_n_score`); default: the whole
        walk (:func:`walk_score`).
    every : int, default=1
        Stride through the windows when ``n_first`` is given.
    require_all : bool, default=False
        With ``n_first``: a probe with fewer than ``n_first`` such windows is a failure to
        acquire (NaN row) instead of being scored on the windows it has.

    Returns
    -------
    np.ndarray of float64, shape (n_probes, n_templates)
        Fused cosine scores; a row of NaN for a probe with too few windows (FTA).
    """
    if n_first is not None:
        _check_n_every(n_first, every)
    scores = np.full((len(probe_embeddings), len(templates)), np.nan)
    if not templates:
        return scores
    members = [np.asarray(t, dtype=np.float64) for t in templates]
    owner = np.repeat(np.arange(len(members)), [m.shape[0] for m in members])
    stacked = l2_normalise(np.concatenate(members, axis=0))
    for i, windows in enumerate(probe_embeddings):
        windows = np.asarray(windows, dtype=np.float64)
        if windows.ndim != 2 or windows.shape[0] == 0:
            continue
        per_member = cosine_matrix(windows, stacked)  # (n_windows, n_members_total)
        if owner.size == len(members):  # one row per template ("mean" templates)
            nearest = per_member
        else:  # cosine with each template's nearest member
            nearest = np.full((windows.shape[0], len(members)), -np.inf)
            np.maximum.at(nearest.T, owner, per_member.T)
        picked = nearest if n_first is None else nearest[::every][:n_first]
        if not require_all or n_first is None or picked.shape[0] == n_first:
            scores[i] = picked.mean(axis=0)
    return scores
