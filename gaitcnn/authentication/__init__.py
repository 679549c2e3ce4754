"""Gait authentication on McGill (paper Table 1 and Figure 6; RECONSTRUCTION section 2.1).

One binary AE-GDI CNN per subject ("is this the owner of the phone?"). For every subject ``s``
and repetition ``r`` one classifier is trained and serves both probes:

- **training** [P]: a random share ``train_share`` (10 %) of subject ``s``'s day-1 cycles as
  positives, plus as many negatives from the other subjects' day 1 [R: balanced, spread evenly
  over all other subjects]. A validation split for "keep the best model" is carved from these
  training images by block (:func:`gaitcnn.pipeline.split_by_recording`), never from a probe.
- **same-day probe** [P]: an equal quantity of the rest of day 1, not overlapping the training
  images; balanced with as many impostor cycles from the rest of the other subjects' day 1 [R].
- **different-day probe** [P]: all of subject ``s``'s day 2, balanced with as many impostor
  cycles from the other subjects' day 2 [R].
- **fusion** [P]/[R]: probes of N = 1, 2, 3, 5 consecutive cycles; the N softmax outputs are
  averaged and the probe accepted when the mean P(genuine) > 0.5
  (:func:`gaitcnn.fusion.fuse_consecutive`).
- **metrics**: accuracy, precision, recall [P], plus EER and ROC AUC [R], per classifier; a
  repetition's figure is the mean over subjects, and the table reports mean +- sd over the
  repetitions [R].

Reconstruction (time overlap): an AE-GDI of the cycle starting at sample ``h`` uses the samples
``h - 32 .. h + 95``, and the baselines' windows reach ``h + 151`` (GDI over 2.4 s plus 32
delays), so images of neighbouring cycles share samples. Cycles are therefore drawn in
**blocks of ``block_len`` consecutive cycles** (10 by default), and every probe candidate whose
span ``[h - guard_before, h + guard_after)`` intersects the span of a training image of the same
recording is excluded. The same rule removes from the training side the images that overlap a
validation image. Blocks also give the probes the consecutive cycles the N-fusion needs; a
decision never spans two blocks.

The baselines run on exactly the same image indices (same cycle starts, same splits):

- ``cosine_gdi`` (the paper's "Cosine Similarity" row, Zhong & Deng): see :func:`gdi_features`
  and :func:`nn_scores`.
- ``segment_nn``: nearest-neighbour segment matching on 2.8 s windows, see
  :func:`segment_features`.

Beyond the paper, ``representation="raw"`` (with ``network="raw_cnn"``) gives the CNN the
window of the resampled signal from each image start instead of its AE-GDI, on the same
images and splits (:func:`raw_cnn_windows`); ``channels`` picks the axes or an
orientation-free set. The guards must cover every method's span (``AuthConfig.input_spans``):
a configuration whose guards are too short is refused.

Each classifier is a two-class :class:`gaitcnn.GaitModel` trained in memory by the one trainer
(:func:`gaitcnn.train.train`, best validation epoch kept). Per-(subject, repetition) results are
written atomically as JSON to ``out_dir/runs``; a rerun skips the classifiers whose file exists
(resume). Every record also keeps the per-image accept
scores of both probes (``image_scores``) for score-distribution checks. Classifiers can be
trained two at a time in worker processes (``run_authentication(..., workers=2)``).

Modules: :mod:`._config` (settings), :mod:`._split` (pure split construction),
:mod:`._baselines` (baseline features and scores), :mod:`._run` (classifiers, records,
summary), :mod:`._cli` (the command line).
"""

from gaitcnn.authentication._baselines import (
    baseline_features,
    gdi_features,
    load_segments,
    nn_scores,
    raw_cnn_windows,
    segment_features,
    window_channels,
)
from gaitcnn.authentication._cli import authenticate_command
from gaitcnn.authentication._config import (
    METHODS,
    METRICS,
    PEER_METHODS,
    PRESETS,
    PROBES,
    REPRESENTATIONS,
    RESULT_FORMAT_VERSION,
    AuthConfig,
)
from gaitcnn.authentication._run import aggregate, record_path, run_authentication, run_classifier
from gaitcnn.authentication._split import (
    AuthSplit,
    derive_seed,
    eligible_subjects,
    make_split,
    spans_overlap,
    tile_blocks,
)

__all__ = [
    "METHODS",
    "METRICS",
    "PEER_METHODS",
    "PRESETS",
    "PROBES",
    "REPRESENTATIONS",
    "RESULT_FORMAT_VERSION",
    "AuthConfig",
    "AuthSplit",
    "aggregate",
    "authenticate_command",
    "baseline_features",
    "derive_seed",
    "eligible_subjects",
    "gdi_features",
    "load_segments",
    "make_split",
    "nn_scores",
    "raw_cnn_windows",
    "record_path",
    "run_authentication",
    "run_classifier",
    "segment_features",
    "spans_overlap",
    "tile_blocks",
    "window_channels",
]
