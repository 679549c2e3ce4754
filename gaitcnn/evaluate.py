"""Stage 8: per-image softmax, fusion over images, and the paper's metrics as plain dicts.

Fusion and ranks come from :mod:`gaitcnn.fusion` (re-exported here). The metric functions use
numpy only (no TensorFlow import, no model): they can be
used on saved softmax outputs. :func:`predict_proba` and :func:`evaluate` call a model's own
``predict`` and so need whatever framework the model brought.

Conventions
-----------
- ``proba`` : np.ndarray, shape (n_images, n_classes) - softmax outputs, rows sum to 1.
- Authentication (paper 2.1): class 1 = "accept" (the genuine subject), class 0 = impostor;
  the score of an image is ``proba[:, 1]`` and a probe is accepted when its (fused) score is
  **strictly greater** than the threshold (0.5).
- Identification (paper 2.2): labels are class indices ``0 .. n_classes - 1``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from gaitcnn.fusion import FusedProba, class_ranks, cmc_curve, fuse_by_sequence, fuse_consecutive

__all__ = [
    "FusedProba",
    "binary_metrics",
    "equal_error_rate",
    "evaluate",
    "format_table",
    "fuse_by_sequence",
    "fuse_consecutive",
    "identification_metrics",
    "predict_proba",
    "roc_auc",
    "roc_curve",
]


# --------------------------------------------------------------------------------------------
# Prediction
# --------------------------------------------------------------------------------------------


def predict_proba(model, images: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
    """Per-image softmax outputs of ``model`` (inference mode: dropout off).

    Parameters
    ----------
    model : keras.Model or callable
        A Keras model (its ``predict`` is used) or any callable mapping a batch of images to
        probabilities (e.g. :func:`gaitcnn.export.load_tflite`).
    images : np.ndarray, shape (n_images, height, width, n_channels)
    batch_size : int, default=256
        Images per forward pass.

    Returns
    -------
    np.ndarray, shape (n_images, n_classes), float32
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4:
        raise ValueError(
            f"images must have shape (n_images, height, width, n_channels). Received "
            f"{images.shape}."
        )
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1. Received: batch_size={batch_size}")
    if hasattr(model, "predict"):
        if images.shape[0] == 0:
            n_classes = int(model.outputs[0].shape[-1])
            return np.zeros((0, n_classes), np.float32)
        return np.asarray(model.predict(images, batch_size=batch_size, verbose=0), np.float32)
    chunks = [
        np.asarray(model(images[i : i + batch_size]), np.float32)
        for i in range(0, images.shape[0], batch_size)
    ]
    return np.concatenate(chunks, axis=0)


# --------------------------------------------------------------------------------------------
# Binary metrics (authentication)
# --------------------------------------------------------------------------------------------


def _check_binary(scores, y_true) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64)
    y_true = np.asarray(y_true)
    if scores.ndim != 1 or y_true.shape != scores.shape:
        raise ValueError(
            f"scores and y_true must be 1-D of the same length. Received {scores.shape} and "
            f"{y_true.shape}."
        )
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite.")
    if not np.all(np.isin(y_true, (0, 1))):
        raise ValueError(f"y_true must hold only 0 and 1. Found {np.unique(y_true)[:10]}.")
    return scores, y_true.astype(bool)


def roc_curve(scores, y_true) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC curve: accept when ``score >= threshold``, for every distinct score.

    Returns
    -------
    fpr, tpr : np.ndarray, shape (n_thresholds + 1,)
        False and true positive rates, from (0, 0) (threshold +inf) to (1, 1).
    thresholds : np.ndarray, shape (n_thresholds + 1,)
        Decreasing; the first is +inf. Tied scores form a single ROC point.
    """
    scores, positive = _check_binary(scores, y_true)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("roc_curve needs at least one positive and one negative example.")
    order = np.argsort(-scores, kind="stable")
    sorted_scores, sorted_pos = scores[order], positive[order]
    # Last index of each run of equal scores: one ROC point per distinct threshold.
    last = np.flatnonzero(np.r_[sorted_scores[1:] != sorted_scores[:-1], True])
    tps = np.cumsum(sorted_pos)[last]
    fps = (last + 1) - tps
    fpr = np.r_[0.0, fps / n_neg]
    tpr = np.r_[0.0, tps / n_pos]
    thresholds = np.r_[np.inf, sorted_scores[last]]
    return fpr, tpr, thresholds


def roc_auc(scores, y_true) -> float:
    """Area under the ROC curve by the rank statistic (Mann-Whitney U), ties counting 1/2.

    AUC = P(score of a random positive > score of a random negative) + 0.5 P(equal).
    Returns NaN when only one class is present.
    """
    scores, positive = _check_binary(scores, y_true)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = _average_ranks(scores)
    u_statistic = ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u_statistic / (n_pos * n_neg))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, tied values sharing the mean of their ranks (scipy's rankdata 'average')."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], values.size]  # exclusive
    mean_rank = (starts + ends + 1) / 2.0  # mean of 1-based ranks starts+1 .. ends
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def equal_error_rate(scores, y_true) -> float:
    """Equal error rate: where the false accept rate equals the false reject rate.

    Found on the ROC curve (:func:`roc_curve`), linearly interpolated between the two ROC
    points where ``FAR - FRR`` changes sign (FAR = fpr, FRR = 1 - tpr). Perfect separation
    gives 0, inverted scores 1, uninformative (all tied) scores 0.5. NaN when only one class
    is present.
    """
    scores, positive = _check_binary(scores, y_true)
    if positive.all() or not positive.any():
        return float("nan")
    fpr, tpr, _ = roc_curve(scores, positive.astype(int))
    difference = fpr - (1.0 - tpr)  # increases from -1 at (0, 0) to +1 at (1, 1)
    crossing = int(np.flatnonzero(difference >= 0)[0])
    if difference[crossing] == 0:
        return float(fpr[crossing])
    i = crossing - 1
    # Solve fpr_i + a dfpr = 1 - tpr_i - a dtpr for a in [0, 1].
    step_fpr, step_tpr = fpr[crossing] - fpr[i], tpr[crossing] - tpr[i]
    alpha = (1.0 - tpr[i] - fpr[i]) / (step_fpr + step_tpr)
    return float(fpr[i] + alpha * step_fpr)


def binary_metrics(scores, y_true, threshold: float = 0.5) -> dict[str, float]:
    """Authentication metrics of accept scores (paper 2.1 plus EER and AUC).

    Parameters
    ----------
    scores : np.ndarray, shape (n_decisions,)
        Accept score of each probe, e.g. the (fused) softmax probability of class 1.
    y_true : np.ndarray, shape (n_decisions,)
        1 for a genuine probe (should be accepted), 0 for an impostor.
    threshold : float, default=0.5
        Accept when ``score > threshold`` (strictly). [R] paper: accept when mean P > 0.5.

    Returns
    -------
    dict
        ``accuracy``, ``precision`` (TP / (TP + FP), 0.0 if nothing was accepted), ``recall``
        (TP / (TP + FN), 0.0 without genuine probes), ``far`` (false accept rate), ``frr``
        (false reject rate), ``eer``, ``auc`` (NaN with a single class), ``n_positive``,
        ``n_negative``. All plain Python numbers.
    """
    scores, positive = _check_binary(scores, y_true)
    accepted = scores > threshold
    tp = int(np.sum(accepted & positive))
    fp = int(np.sum(accepted & ~positive))
    fn = int(np.sum(~accepted & positive))
    tn = int(np.sum(~accepted & ~positive))
    n = tp + fp + fn + tn
    n_pos, n_neg = tp + fn, fp + tn
    return {
        "accuracy": (tp + tn) / n if n else float("nan"),
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / n_pos if n_pos else 0.0,
        "far": fp / n_neg if n_neg else float("nan"),
        "frr": fn / n_pos if n_pos else float("nan"),
        "eer": equal_error_rate(scores, positive.astype(int)) if n else float("nan"),
        "auc": roc_auc(scores, positive.astype(int)) if n else float("nan"),
        "n_positive": n_pos,
        "n_negative": n_neg,
    }


# --------------------------------------------------------------------------------------------
# Identification metrics (labelling)
# --------------------------------------------------------------------------------------------


def identification_metrics(proba, y_true, k: Sequence[int] = (1, 5)) -> dict[str, Any]:
    """Labelling metrics: top-1 accuracy, top-k accuracies and the CMC curve (paper 2.2).

    Parameters
    ----------
    proba : np.ndarray, shape (n_decisions, n_classes)
        (Fused) softmax outputs.
    y_true : np.ndarray of int, shape (n_decisions,)
        True class indices.
    k : sequence of int, default=(1, 5)
        Ranks for ``top_<k>`` entries (k larger than ``n_classes`` gives 1.0).

    Returns
    -------
    dict
        ``accuracy`` (= top-1), ``top_<k>`` for each k, ``cmc`` (list of floats, entry r-1 =
        share of decisions whose true class is ranked r or better, r = 1 .. n_classes:
        non-decreasing, ending at 1.0), ``mean_rank`` and ``n_decisions``. Ties follow
        :func:`gaitcnn.fusion.class_ranks`.
    """
    ranks = class_ranks(proba, y_true)
    n_classes = np.asarray(proba).shape[1]
    n = ranks.size
    cmc = cmc_curve(ranks, n_classes)
    result: dict[str, Any] = {"accuracy": float(cmc[0]) if n_classes else float("nan")}
    for rank in k:
        if not (isinstance(rank, int | np.integer) and rank >= 1):
            raise ValueError(f"k must hold integers >= 1. Received: k={k!r}")
        result[f"top_{int(rank)}"] = float(cmc[min(int(rank), n_classes) - 1])
    result["cmc"] = [float(v) for v in cmc]
    result["mean_rank"] = float(ranks.mean()) if n else float("nan")
    result["n_decisions"] = int(n)
    return result


# --------------------------------------------------------------------------------------------
# evaluate()
# --------------------------------------------------------------------------------------------


def _collect(data) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) arrays from a tuple, or from a dataset yielding (images, labels)."""
    if isinstance(data, tuple | list):
        if len(data) != 2:
            raise ValueError("data must be (images, labels).")
        return np.asarray(data[0]), np.asarray(data[1])
    if hasattr(data, "as_numpy_iterator"):  # tf.data.Dataset, without importing TensorFlow
        images, labels = [], []
        for batch_images, batch_labels in data.as_numpy_iterator():
            images.append(batch_images)
            labels.append(batch_labels)
        if not images:
            raise ValueError("The dataset is empty.")
        return np.concatenate(images), np.concatenate(labels)
    raise TypeError(
        f"data must be (images, labels) arrays or a tf.data.Dataset. Received "
        f"{type(data).__name__}."
    )


def evaluate(
    model,
    data,
    *,
    task: str = "identification",
    fusion: str | None = None,
    group_ids=None,
    n: int = 1,
    threshold: float = 0.5,
    k: Sequence[int] = (1, 5),
    batch_size: int = 256,
) -> dict[str, Any]:
    """Score ``model`` on probe data and return the task's metrics as a plain dict.

    Parameters
    ----------
    model : keras.Model or callable
        See :func:`predict_proba`.
    data : (images, labels) arrays or tf.data.Dataset of (images, labels) batches
        Probe images, shape (n_images, height, width, n_channels), and integer labels. A
        dataset must not shuffle (its order has to match ``group_ids``).
    task : {"identification", "authentication"}, default="identification"
        Identification: :func:`identification_metrics`. Authentication: :func:`binary_metrics`
        on ``proba[:, 1]`` (class 1 = genuine).
    fusion : {None, "consecutive", "sequence"}, default=None
        None: one decision per image; "consecutive": :func:`fuse_consecutive` with ``n``;
        "sequence": :func:`fuse_by_sequence`. Both need ``group_ids``.
    group_ids : np.ndarray, shape (n_images,), optional
        Recording ids ("consecutive") or sequence ids ("sequence").
    n : int, default=1
        Images per decision for ``fusion="consecutive"``.
    threshold : float, default=0.5
        Accept threshold for authentication.
    k : sequence of int, default=(1, 5)
        Top-k ranks for identification.
    batch_size : int, default=256

    Returns
    -------
    dict
        The metrics plus ``task``, ``fusion``, ``n``, ``n_images`` and ``n_decisions``.
    """
    if task not in ("identification", "authentication"):
        raise ValueError(
            f"task must be 'identification' or 'authentication'. Received: task={task!r}"
        )
    if fusion not in (None, "consecutive", "sequence"):
        raise ValueError(
            f"fusion must be None, 'consecutive' or 'sequence'. Received: fusion={fusion!r}"
        )
    images, labels = _collect(data)
    proba = predict_proba(model, images, batch_size=batch_size)
    if fusion is not None:
        if group_ids is None:
            raise ValueError(f"fusion={fusion!r} needs group_ids.")
        fused = (
            fuse_consecutive(proba, group_ids, n)
            if fusion == "consecutive"
            else fuse_by_sequence(proba, group_ids)
        )
        _check_constant_labels(labels, np.asarray(group_ids), fused)
        proba, labels = fused.proba, labels[fused.first_index]
    if task == "authentication":
        if proba.shape[1] != 2:
            raise ValueError(
                f"authentication needs a 2-class model. The model has {proba.shape[1]} classes."
            )
        metrics: dict[str, Any] = binary_metrics(proba[:, 1], labels, threshold=threshold)
    else:
        metrics = identification_metrics(proba, labels.astype(np.int64), k=k)
    metrics.update(
        {
            "task": task,
            "fusion": fusion or "none",
            "n": int(n) if fusion == "consecutive" else 1,
            "n_images": int(images.shape[0]),
            "n_decisions": int(proba.shape[0]),
        }
    )
    return metrics


def _check_constant_labels(labels, group_ids, fused: FusedProba) -> None:
    if group_ids.shape != labels.shape:
        raise ValueError(
            f"group_ids must have one entry per image ({labels.shape[0]}). Received "
            f"{group_ids.shape}."
        )
    for group in np.unique(group_ids):
        if np.unique(labels[group_ids == group]).size > 1:
            raise ValueError(f"Group {group!r} mixes labels; a group must be one subject.")


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def format_table(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str | tuple[str, str]] | None = None,
    *,
    float_format: str = ".3f",
    missing: str = "",
) -> str:
    """Render rows of metrics as a Markdown table.

    Parameters
    ----------
    rows : iterable of mappings
        One mapping per table row.
    columns : sequence of keys or (key, header) pairs, optional
        Columns in order; default: the keys of the first row.
    float_format : str, default=".3f"
        Format spec of floats (NaN prints as "nan"); ints and strings print as they are.
    missing : str, default=""
        Text of a cell whose key is absent or None.

    Returns
    -------
    str
        Header row, alignment row (numbers right-aligned) and one line per row, no trailing
        newline. ``|`` inside cells is escaped.
    """
    rows = list(rows)
    if columns is None:
        columns = list(rows[0].keys()) if rows else []
    keys = [c[0] if isinstance(c, tuple) else c for c in columns]
    headers = [c[1] if isinstance(c, tuple) else c for c in columns]

    def cell(value) -> str:
        if value is None:
            return missing
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, float | np.floating):
            return format(float(value), float_format)
        if isinstance(value, int | np.integer):
            return str(int(value))
        return str(value).replace("|", "\\|")

    def numeric(key) -> bool:
        values = [row.get(key) for row in rows if row.get(key) is not None]
        return bool(values) and all(
            isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in values
        )

    lines = [
        "| " + " | ".join(str(h).replace("|", "\\|") for h in headers) + " |",
        "|" + "|".join("---:" if numeric(key) else ":---" for key in keys) + "|",
    ]
    lines.extend("| " + " | ".join(cell(row.get(key)) for key in keys) + " |" for row in rows)
    return "\n".join(lines)
