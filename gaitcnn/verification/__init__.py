"""Open-set verification of unseen users: scores, templates and biometric metrics (numpy only).

Importing this package never imports TensorFlow. The DET plot lives in
:mod:`gaitcnn.verification.plots` (matplotlib, imported on use).
"""

from gaitcnn.verification.metrics import (
    DEFAULT_TARGET_FARS,
    Comparisons,
    OperatingPoint,
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
from gaitcnn.verification.scores import (
    TEMPLATE_KINDS,
    cosine_matrix,
    first_n_score,
    l2_normalise,
    make_template,
    score_walks,
    walk_score,
    window_scores,
)

__all__ = [
    "DEFAULT_TARGET_FARS",
    "TEMPLATE_KINDS",
    "Comparisons",
    "OperatingPoint",
    "bootstrap_interval",
    "comparisons_from_matrix",
    "cosine_matrix",
    "det_curve",
    "eer",
    "far_frr",
    "first_n_score",
    "frr_at_far",
    "l2_normalise",
    "make_template",
    "open_set_rank1",
    "operating_point",
    "score_auc",
    "score_walks",
    "target_key",
    "threshold_at_far",
    "verification_summary",
    "walk_score",
    "window_scores",
]
