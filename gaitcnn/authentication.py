"""Gait authentication on McGill (paper Table 1 and Figure 6; PAPER_SPEC section 2.1).

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
  (:func:`gaitcnn.evaluate.fuse_consecutive`).
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

Per-(subject, repetition) results are written atomically as JSON to ``out_dir/runs``; a rerun
skips the classifiers whose file exists (resume). Every record also keeps the per-image accept
scores of both probes (``image_scores``) for score-distribution checks. Classifiers can be
trained two at a time in worker processes (``run_authentication(..., workers=2)``).

Speed (2-core machine, 20 subjects x 10 repetitions x 50 epochs, a few hundred training
images per classifier): Keras ``fit`` with per-epoch validation plus ``predict`` cost ~23 s
per classifier (quiet machine); the plain loop with a single traced forward pass for
validation and probes, and two single-threaded workers, bring the throughput to one
classifier every ~12 s (full simulated Table 1: 200 classifiers in 39.6 min, measured while
another experiment was running on the machine).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import numpy as np

logger = logging.getLogger(__name__)

__all__ = [
    "PRESETS",
    "AuthConfig",
    "AuthSplit",
    "aggregate",
    "authenticate_command",
    "baseline_features",
    "make_split",
    "nn_scores",
    "run_authentication",
    "spans_overlap",
]

METHODS = ("ae_gdi_cnn", "cosine_gdi", "segment_nn")
#: Peer methods from outside the paper, opt-in (``--method minirocket``): MiniRocket features
#: of the raw window at each image start + a ridge classifier (:mod:`gaitcnn.peers.minirocket`,
#: ``pip install 'gaitcnn[peers]'``), on exactly the CNN's split.
PEER_METHODS = ("minirocket",)
PROBES = ("same_day", "different_day")
METRICS = ("accuracy", "precision", "recall", "eer", "auc")
RESULT_FORMAT_VERSION = 2  # 2: plain training loop, per-image scores


@dataclass(frozen=True)
class AuthConfig:
    """Settings of the authentication protocol (PAPER_SPEC 2.1); every default is documented.

    Parameters
    ----------
    train_share : float
        Share of the subject's day-1 cycles used as training positives. [P] 10 %
        (Figure 6 sweeps 10 .. 100 %).
    n_repetitions : int
        [P] 10 repetitions ("10-fold cross-validation"), each with its own seed.
    fusion_n : tuple of int
        [P] probes of N = 1, 2, 3, 5 consecutive cycles.
    same_day : bool
        Run the same-day probe (impossible once ``train_share`` leaves too little of day 1;
        it is then skipped and recorded as missing).
    block_len : int
        Reconstruction: cycles are drawn in blocks of this many consecutive cycles.
    validation_fraction : float
        Reconstruction: share of training blocks held out to pick the best epoch.
    guard_before, guard_after : int
        Reconstruction: an image starting at sample h "occupies" ``[h - guard_before,
        h + guard_after)``; probe images whose span meets a training image's are excluded.
        Defaults cover the AE-GDI (h-32 .. h+95) and the 2.4 s GDI window plus 32 delays.
    subjects : tuple of int or None
        Subjects to authenticate (None: all with images on both days).
    seed : int
        Base seed; repetition r of subject s uses seeds derived from ``(seed, s, r)``.
    methods : tuple of str
        Any of ``ae_gdi_cnn``, ``cosine_gdi``, ``segment_nn``.
    cosine_window_s : float
        [P] Zhong & Deng's sliding window of 2.4 s (GDI width for the cosine baseline).
    segment_window_s : float
        [P] 2.8 s windows of the segment-matching baseline.
    train : dict
        :class:`gaitcnn.train.TrainConfig` fields; [P] 50 epochs, batch 100, Adam 1e-3.
    model : dict
        Keyword arguments of :func:`gaitcnn.models.build_paper_cnn` ([R] 32/64/64, fl1 512).
    network : str
        Key of :data:`gaitcnn.models.MODEL_BUILDERS`; [P] ``"paper_cnn"``.
    segmentation : str
        [P] ``"gggd"`` (one AE-GDI per detected cycle); ``"dense"``: an AE-GDI every 25
        samples (``PrepareParams.improved("mcgill")``), evaluated in the ablation.
    preset : str
        Name of the preset the fields came from (``"paper"`` or ``"improved"``), a label;
        build presets with :meth:`from_preset`.
    trainer : str
        ``"fast"``: :func:`gaitcnn.train.compile_model` + a plain training loop
        (:func:`_fast_fit`: one traced train step, epoch order drawn from the seed) keeping the
        best validation-accuracy weights in memory (ties: lower validation loss) - the same
        rule as :func:`gaitcnn.train.train` without its per-epoch checkpoint files and Keras
        ``fit``'s per-epoch machinery, which cost about as much as the training itself on a
        few hundred images and are useless with per-classifier resume.
        ``"train"``: :func:`gaitcnn.train.train` into ``runs/<subject>_<rep>/``.
    """

    train_share: float = 0.10  # [P] 10 % of day 1
    n_repetitions: int = 10  # [P] 10 repetitions
    fusion_n: tuple = (1, 2, 3, 5)  # [P] N consecutive cycles
    same_day: bool = True  # run the same-day probe
    block_len: int = 10  # Reconstruction: blocks of consecutive cycles
    validation_fraction: float = 0.2  # Reconstruction: validation blocks from training
    guard_before: int = 32  # Reconstruction: AE-GDI needs 32 samples before the start
    guard_after: int = 152  # Reconstruction: 2.4 s GDI (120) + 32 delays after the start
    subjects: tuple | None = None  # None: every subject with both days
    seed: int = 0  # base seed
    methods: tuple = METHODS  # CNN + both baselines
    cosine_window_s: float = 2.4  # [P] Zhong & Deng sliding window
    segment_window_s: float = 2.8  # [P] segment-matching window
    train: dict = field(default_factory=lambda: {"epochs": 50, "batch_size": 100})  # [P]
    model: dict = field(default_factory=dict)  # [R] paper CNN defaults
    trainer: str = "fast"  # see docstring
    network: str = "paper_cnn"  # [P] the paper CNN
    segmentation: str = "gggd"  # [P] cycle-aligned AE-GDIs
    # Reconstruction-free peer setting: MiniRocket window at each image start, 2.56 s = the
    # 128 samples an AE-GDI touches (64 + 2 x 32 delays), inside the split's sample guards.
    minirocket_window_s: float = 2.56
    preset: str = "paper"

    @classmethod
    def from_preset(cls, preset: str = "paper", **overrides) -> AuthConfig:
        """The settings of ``preset`` (see :data:`PRESETS`) with ``overrides`` on top."""
        if preset not in PRESETS:
            raise ValueError(f"preset must be one of {tuple(PRESETS)}, received: {preset!r}")
        values = {**PRESETS[preset], "preset": preset, **overrides}
        if "train" in overrides and "train" in PRESETS[preset]:
            values["train"] = {**PRESETS[preset]["train"], **overrides["train"]}
        return cls(**values)

    def __post_init__(self):
        if not 0.0 < self.train_share <= 1.0:
            raise ValueError(f"train_share must be in (0, 1], received: {self.train_share}")
        bad = set(self.methods) - set(METHODS) - set(PEER_METHODS)
        if bad or not self.methods:
            raise ValueError(
                f"methods must be a subset of {METHODS + PEER_METHODS}, received: {self.methods}"
            )
        if self.trainer not in ("fast", "train"):
            raise ValueError(f"trainer must be 'fast' or 'train', received: {self.trainer!r}")
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {tuple(PRESETS)}, received: {self.preset!r}")
        if self.segmentation not in ("gggd", "dense"):
            raise ValueError(f"segmentation must be gggd|dense, received: {self.segmentation!r}")
        if self.block_len < 1 or self.n_repetitions < 1:
            raise ValueError("block_len and n_repetitions must be >= 1")
        object.__setattr__(self, "fusion_n", tuple(int(n) for n in self.fusion_n))
        object.__setattr__(self, "methods", tuple(self.methods))
        if self.subjects is not None:
            object.__setattr__(self, "subjects", tuple(int(s) for s in self.subjects))

    @classmethod
    def from_dict(cls, values: dict) -> AuthConfig:
        """Build from a (JSON) dict; unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown AuthConfig fields: {sorted(unknown)}")
        return cls(**values)

    def to_dict(self) -> dict:
        """Plain JSON-able dict; fields added after the paper preset are omitted at default."""
        values = dataclasses.asdict(self)
        for name, default in _OPTIONAL_FIELDS.items():
            if values[name] == default:
                del values[name]
        return json.loads(json.dumps(values))

    def prepare_params(self, **overrides):
        """The image parameters (:class:`gaitcnn.prepare.PrepareParams`) of ``segmentation``."""
        from gaitcnn.prepare import PrepareParams

        if self.segmentation == "dense":
            return PrepareParams.improved("mcgill", **overrides)
        return PrepareParams.paper("mcgill", **overrides)

    def classifier_hash(self) -> str:
        """Hash of the fields that decide one classifier's result (for resume checks)."""
        d = self.to_dict()
        for key in ("n_repetitions", "subjects"):
            d.pop(key)
        d.pop("preset", None)  # a label: the fields themselves decide the result
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


#: Fields added after the paper preset, with their paper value (omitted from ``to_dict`` and
#: the classifier hash at that value, so stored Table 1 records stay valid).
_OPTIONAL_FIELDS = {
    "network": "paper_cnn",
    "segmentation": "gggd",
    "preset": "paper",
    "minirocket_window_s": 2.56,
}

#: The improved preset (``--preset improved``) for authentication: the paper's settings.
#:
#: The labeling changes of :data:`gaitcnn.labeling.IMPROVED_LABELING` were each measured on
#: the authentication protocol too (``results/ablation/ablation.md``, different-day accuracy,
#: simulated McGill, 6 subjects x 2 repetitions): dense AE-GDIs (every 25 samples, pad edge),
#: the compact CNN, cosine decay with label smoothing, 15 or 50 epochs, and the compact CNN on
#: the paper's cycle-aligned images all scored BELOW the paper preset (62 %; 49-60 %). With a
#: few hundred training images per binary classifier and a day-to-day shift, none of them is
#: supported, so none is adopted here; the machinery stays (``segmentation="dense"``,
#: ``network="compact_cnn"``, ``train={"lr_schedule": "cosine", ...}`` via ``--set``) for
#: further work. The split rule is generic: training, validation and probe images are kept
#: apart by the same sample guards whatever their starts (tested with dense starts).
PRESETS: dict[str, dict] = {"paper": {}, "improved": {}}


# --------------------------------------------------------------------------------------------
# Split construction
# --------------------------------------------------------------------------------------------


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
        free = day1.copy()
        free[train_all] = False
        cand = np.flatnonzero(free)
        free[cand[spans_overlap(train_all, cand, recording_index, starts, gb, ga)]] = False
        n_probe = t_pos.size  # [P] an equal quantity
        p_blocks = _take_blocks(blocks_of(free & (subject_ids == subject)), n_probe, rng)
        n_got = sum(b.size for b in p_blocks)
        n_blocks = {s: blocks_of(free & (subject_ids == s)) for s in others}
        i_blocks = _round_robin_blocks(n_blocks, n_got, rng)
        if n_got == n_probe and sum(b.size for b in i_blocks) == n_got:
            sp, yp, gp = _concat(p_blocks, 1, 0)
            sn, yn, gn = _concat(i_blocks, 0, len(p_blocks))
            same_idx = np.concatenate([sp, sn])
            same_labels = np.concatenate([yp, yn])
            same_groups = np.concatenate([gp, gn])
        else:
            logger.warning(
                "subject %s rep %s: day 1 too short for a same-day probe of %d cycles",
                subject,
                rep,
                n_probe,
            )

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


# --------------------------------------------------------------------------------------------
# Baselines
# --------------------------------------------------------------------------------------------


def load_segments(data_root, params) -> dict:
    """Resampled segments of the raw data set keyed like the cache's ``recordings[i]['key']``."""
    from gaitcnn.prepare import load_dataset
    from gaitcnn.resample import resample_recording

    out = {}
    for recording in load_dataset(params.dataset, data_root, params):
        for segment in resample_recording(
            recording, rate_hz=params.rate_hz, max_gap_s=params.max_gap_s
        ):
            out[segment.key] = segment
    return out


def gdi_features(series, starts, rate_hz: float, window_s: float = 2.4, height: int = 32):
    """Zhong & Deng cosine-GDI features of one segment at the given cycle starts.

    Reconstruction (the paper only names "GDI + cosine similarity, sliding window 2.4 s"): the
    normalized GDI ``cos(a(t), a(t+m))`` for delays m = 1..32 over a window of 2.4 s (120
    samples at 50 Hz) starting at the detected cycle start (samples missing at the end of a
    recording are 0), flattened and scaled to unit length, so a dot product is the cosine
    similarity of two GDIs.
    """
    from gaitcnn.images import gdi

    width = round(window_s * rate_hz)
    series = np.asarray(series, dtype=np.float64)
    padded = np.concatenate([series, np.zeros((width + height, series.shape[1]))])
    images = gdi(padded, starts, width=width, height=height, normalized=True, edge="pad")
    flat = np.nan_to_num(images.reshape(len(starts), -1).astype(np.float32))
    flat /= np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-12)
    return flat.astype(np.float16)


def segment_features(series, starts, rate_hz: float, window_s: float = 2.8):
    """Segment-matching features: the 2.8 s window of |a| starting at the cycle start.

    Reconstruction (the paper names only a segment-matching nearest-neighbour baseline on
    2.8 s windows): the acceleration magnitude (orientation-free, as the phone sits loose in
    the pocket) over 140 samples from the cycle start - windows are thus aligned on the gait
    phase - z-normalised per window; matched by Euclidean distance (see :func:`nn_scores`).
    """
    width = round(window_s * rate_hz)
    mag = np.linalg.norm(np.asarray(series, dtype=np.float64), axis=1)
    padded = np.concatenate([mag, np.full(width, mag[-width:].mean())])
    windows = padded[np.asarray(starts)[:, None] + np.arange(width)[None, :]]
    windows = windows - windows.mean(axis=1, keepdims=True)
    windows /= np.maximum(windows.std(axis=1, keepdims=True), 1e-9)
    return windows.astype(np.float16)


def baseline_features(image_set, segments: dict, config: AuthConfig) -> dict:
    """Features of the baselines (and peers) for every image of ``image_set`` (same order)."""
    rate = float(image_set.params.get("rate_hz", 50.0))
    feats = {}
    if "minirocket" in config.methods:
        from gaitcnn.peers.minirocket import minirocket_image_features

        feats["minirocket"] = minirocket_image_features(
            image_set, segments, window_s=config.minirocket_window_s, rate_hz=rate, seed=config.seed
        )
    want = [m for m in config.methods if m in ("cosine_gdi", "segment_nn")]
    for method in want:
        rows = [None] * len(image_set.recordings)
        for r, info in enumerate(image_set.recordings):
            sel = np.flatnonzero(image_set.recording_index == r)
            if sel.size == 0:
                continue
            segment = segments[info["key"]]
            st = image_set.starts[sel]
            if method == "cosine_gdi":
                rows[r] = (sel, gdi_features(segment.acc, st, rate, config.cosine_window_s))
            else:
                rows[r] = (sel, segment_features(segment.acc, st, rate, config.segment_window_s))
        dim = next(f.shape[1] for f in (x for x in rows if x) for f in [f[1]])
        out = np.zeros((len(image_set), dim), dtype=np.float16)
        for item in rows:
            if item:
                out[item[0]] = item[1]
        feats[method] = out
    return feats


def nn_scores(probe, gallery, gallery_labels, metric: str) -> np.ndarray:
    """Nearest-neighbour accept scores in [0, 1]; > 0.5 exactly when the nearest is genuine.

    ``metric="cosine"``: with the best cosine similarities to the genuine (c+) and impostor
    (c-) training images, score = 0.5 + (c+ - c-) / 4. ``metric="euclidean"``: with the
    smallest distances d+ and d-, score = d- / (d+ + d-). Both are monotone in the margin of
    the 1-NN decision, so they also give the EER and ROC AUC.
    """
    probe = np.asarray(probe, dtype=np.float32)
    gallery = np.asarray(gallery, dtype=np.float32)
    pos, neg = gallery_labels == 1, gallery_labels == 0
    if metric == "cosine":
        sim = probe @ gallery.T
        return 0.5 + (sim[:, pos].max(axis=1) - sim[:, neg].max(axis=1)) / 4.0
    sq = (probe**2).sum(1)[:, None] + (gallery**2).sum(1)[None, :] - 2.0 * probe @ gallery.T
    dist = np.sqrt(np.maximum(sq, 0.0))
    d_pos, d_neg = dist[:, pos].min(axis=1), dist[:, neg].min(axis=1)
    return d_neg / np.maximum(d_pos + d_neg, 1e-12)


# --------------------------------------------------------------------------------------------
# One classifier
# --------------------------------------------------------------------------------------------


def _train_cnn(images, split: AuthSplit, config: AuthConfig, seed: int, run_dir: Path):
    from gaitcnn.models import MODEL_BUILDERS
    from gaitcnn.train import TrainConfig, compile_model, set_seeds

    tconf = TrainConfig.paper().replace(**{"verbose": 0, **config.train, "seed": seed})
    shape = images.shape[1:]
    x_tr, y_tr = images[split.train_idx], split.train_labels
    x_va, y_va = images[split.val_idx], split.val_labels

    def build():
        return MODEL_BUILDERS[config.network](shape, 2, seed=seed, **config.model)

    if config.trainer == "train":
        from gaitcnn.train import train

        result = train(build, (x_tr, y_tr), (x_va, y_va), tconf, out_dir=run_dir, overwrite=True)
        return result.model, result.best_epoch
    set_seeds(seed)
    steps = -(-len(y_tr) // int(tconf.batch_size))
    model = compile_model(build(), tconf, steps_per_epoch=max(1, steps))
    best_epoch = _fast_fit(model, x_tr, y_tr, x_va, y_va, tconf, seed)
    return model, best_epoch


def _fast_fit(model, x_tr, y_tr, x_va, y_va, tconf, seed: int):
    """A plain training loop: ``tconf.epochs`` epochs of minibatch Adam, best epoch kept.

    Same rule as :func:`gaitcnn.train.train` (keep the weights of the best validation
    accuracy, ties: lower validation loss) without Keras ``fit``'s per-epoch machinery, which
    costs as much as the training itself on a few hundred images: one ``tf.function`` train
    step and one forward pass traced once for any batch size, an epoch order drawn from
    ``seed`` (numpy), and the best weights kept in memory. Returns the best epoch (1-based), or
    None when there is no validation split (the last epoch is kept).
    """
    import tensorflow as tf

    x_tr = np.asarray(x_tr, dtype=np.float32)
    y_tr = np.asarray(y_tr, dtype=np.int64)
    optimizer, loss_fn = model.optimizer, model.loss
    variables = model.trainable_variables
    optimizer.build(variables)
    x_spec = tf.TensorSpec((None, *x_tr.shape[1:]), tf.float32)

    @tf.function(input_signature=[x_spec, tf.TensorSpec((None,), tf.int64)])
    def train_step(xb, yb):
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    forward = _forward_fn(model, x_spec)
    use_val = tconf.keep_best and len(x_va) > 0
    rng = np.random.default_rng(derive_seed(seed, "epoch-order"))
    n, bs = x_tr.shape[0], int(tconf.batch_size)
    best_key, best_weights, best_epoch = None, None, None
    for epoch in range(int(tconf.epochs)):
        order = rng.permutation(n) if tconf.shuffle else np.arange(n)
        for i in range(0, n, bs):
            sel = order[i : i + bs]
            train_step(tf.constant(x_tr[sel]), tf.constant(y_tr[sel]))
        if use_val:
            p = _predict(forward, x_va)
            acc = float(np.mean(np.argmax(p, axis=1) == y_va))
            loss = float(-np.mean(np.log(np.clip(p[np.arange(len(y_va)), y_va], 1e-7, 1.0))))
            key = (acc, -loss)
            if best_key is None or key > best_key:
                best_key, best_epoch = key, epoch + 1
                best_weights = model.get_weights()
    if best_weights is not None:
        model.set_weights(best_weights)
    return best_epoch


def _forward_fn(model, x_spec):
    """Inference-mode forward pass traced once for any batch size."""
    import tensorflow as tf

    @tf.function(input_signature=[x_spec])
    def forward(xb):
        return model(xb, training=False)

    return forward


def _predict(forward, images, chunk: int = 256) -> np.ndarray:
    """Softmax outputs of ``forward`` in chunks (one call per chunk, no ``predict`` overhead)."""
    import tensorflow as tf

    images = np.asarray(images, dtype=np.float32)
    out = [
        forward(tf.constant(images[i : i + chunk])).numpy() for i in range(0, len(images), chunk)
    ]
    return np.concatenate(out) if out else np.zeros((0, 2), np.float32)


def _rounded(scores) -> list:
    return [round(float(v), 5) for v in scores]


def _score_probe(scores, labels, groups, fusion_n) -> dict:
    """Fused metrics per N plus the per-decision correct flags they were computed from."""
    from gaitcnn.evaluate import binary_metrics, fuse_consecutive

    proba = np.stack([1.0 - scores, scores], axis=1)
    out = {}
    for n in fusion_n:
        fused = fuse_consecutive(proba, groups, int(n))
        s = fused.proba[:, 1]
        y = labels[fused.first_index]
        m = binary_metrics(s, y)
        correct = ((s > 0.5).astype(int) == y).astype(int)
        m["correct"] = "".join(map(str, correct))
        m["genuine"] = "".join(map(str, y.astype(int)))
        out[str(n)] = m
    return out


def run_classifier(
    image_set, features: dict, subject: int, rep: int, config: AuthConfig, run_dir: Path
) -> dict:
    """Train and probe one classifier (and the baselines on the same split); returns the record."""
    started = time.perf_counter()
    split = make_split(
        image_set.subject_ids,
        image_set.sessions,
        image_set.recording_index,
        image_set.starts,
        subject,
        rep,
        config,
    )
    seed = derive_seed(config.seed, "train", subject, rep)
    probes = {"different_day": (split.diff_idx, split.diff_labels, split.diff_groups)}
    if split.same_idx is not None:
        probes["same_day"] = (split.same_idx, split.same_labels, split.same_groups)
    record = {
        "format_version": RESULT_FORMAT_VERSION,
        "subject": int(subject),
        "rep": int(rep),
        "seed": seed,
        "config_hash": config.classifier_hash(),
        "n_train": int(split.train_idx.size),
        "n_train_positive": int(split.train_labels.sum()),
        "n_validation": int(split.val_idx.size),
        "n_probe": {k: int(v[0].size) for k, v in probes.items()},
        "results": {},
        # per-image accept scores of every probe (probe order: genuine blocks, then impostor
        # blocks; labels in results[...]["1"]["genuine"]) - for score-distribution checks
        "image_scores": {},
    }
    if "ae_gdi_cnn" in config.methods:
        import tensorflow as tf

        model, best_epoch = _train_cnn(image_set.images, split, config, seed, run_dir)
        record["best_epoch"] = best_epoch
        forward = _forward_fn(model, tf.TensorSpec((None, *image_set.images.shape[1:]), tf.float32))
        res = {}
        for name, (idx, labels, groups) in probes.items():
            scores = _predict(forward, image_set.images[idx])[:, 1]
            res[name] = _score_probe(scores, labels, groups, config.fusion_n)
            record["image_scores"].setdefault("ae_gdi_cnn", {})[name] = _rounded(scores)
        record["results"]["ae_gdi_cnn"] = res
        import keras

        del model
        keras.backend.clear_session()
    gallery = np.concatenate([split.train_idx, split.val_idx])
    gallery_labels = np.concatenate([split.train_labels, split.val_labels])
    for method, metric in (("cosine_gdi", "cosine"), ("segment_nn", "euclidean")):
        if method not in config.methods:
            continue
        feats = features[method]
        res = {}
        for name, (idx, labels, groups) in probes.items():
            scores = nn_scores(feats[idx], feats[gallery], gallery_labels, metric)
            res[name] = _score_probe(scores, labels, groups, config.fusion_n)
            record["image_scores"].setdefault(method, {})[name] = _rounded(scores)
        record["results"][method] = res
    if "minirocket" in config.methods:
        from gaitcnn.peers.minirocket import ridge_accept_scores

        feats, res = features["minirocket"], {}
        for name, (idx, labels, groups) in probes.items():
            scores = ridge_accept_scores(feats[gallery], gallery_labels, feats[idx])
            res[name] = _score_probe(scores, labels, groups, config.fusion_n)
            record["image_scores"].setdefault("minirocket", {})[name] = _rounded(scores)
        record["results"]["minirocket"] = res
    record["wall_time_s"] = time.perf_counter() - started
    return record


def _write_json_atomic(path: Path, obj) -> None:
    from gaitcnn._atomic import write_text_atomic  # temp + rename, the user's umask

    write_text_atomic(path, json.dumps(obj))


def record_path(out_dir, subject: int, rep: int) -> Path:
    """Where the record of (subject, rep) lives."""
    return Path(out_dir) / "runs" / f"subject{int(subject):03d}_rep{int(rep):02d}.json"


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


_WORKER_STATE: dict = {}


def _init_worker(image_set, features, threads: int) -> None:
    """Worker process set-up: TensorFlow thread pools, then the shared inputs (once)."""
    import tensorflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(1)
    from gaitcnn.train import quiet_tensorflow_logs

    quiet_tensorflow_logs()
    _WORKER_STATE.update(image_set=image_set, features=features)


def _run_in_worker(subject: int, rep: int, config: AuthConfig) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        return run_classifier(
            _WORKER_STATE["image_set"], _WORKER_STATE["features"], subject, rep, config, Path(tmp)
        )


def _check_same_data(out_dir: Path, image_set) -> None:
    """Refuse to resume into a folder whose records came from another data set or cache.

    The first run writes ``data.json`` (source, parameters and size of the image set); a later
    run must find the same, so two data sets are never mixed in one table.
    """
    from gaitcnn._atomic import write_json_atomic

    identity = {
        "source": str(image_set.attrs.get("source")),
        "params": image_set.params,
        "n_images": len(image_set),
        "n_recordings": len(image_set.recordings),
    }
    marker = out_dir / "data.json"
    if marker.exists():
        if json.loads(marker.read_text()) != json.loads(json.dumps(identity)):
            raise ValueError(
                f"{out_dir} holds results computed on another data set or image cache "
                f"(see {marker}); use a new output folder"
            )
        return
    write_json_atomic(marker, identity)


def run_authentication(
    image_set,
    config: AuthConfig,
    out_dir,
    *,
    features: dict | None = None,
    progress: Callable[[str], None] | None = print,
    workers: int = 1,
    threads_per_worker: int = 1,
) -> list:
    """Run the whole protocol; per-(subject, rep) records go to ``out_dir/runs`` (resumable).

    Parameters
    ----------
    image_set : gaitcnn.cache.ImageSet
        McGill AE-GDIs (sessions ``day1``/``day2``).
    config : AuthConfig
    out_dir : path
    features : dict, optional
        Baseline features from :func:`baseline_features` (required if a baseline is asked for).
    progress : callable, optional
        Receives one line per classifier with an ETA.
    workers : int, default=1
        Classifiers trained at once. 1: in this process. More: in that many worker processes
        (spawned; each receives the image set and features once) with ``threads_per_worker``
        TensorFlow threads each. A classifier's result depends only on its (seed, subject,
        repetition) - not on the order or the process it ran in - up to floating-point
        round-off between thread counts.
    threads_per_worker : int, default=1
        Intra-op threads of each worker process (0: TensorFlow's default).

    Returns
    -------
    list of dict
        Every record, in (rep, subject) order.
    """
    out_dir = Path(out_dir)
    subjects = eligible_subjects(image_set, config)
    features = features or {}
    missing = [m for m in config.methods if m != "ae_gdi_cnn" and m not in features]
    if missing:
        raise ValueError(f"features for the baselines {missing} are required")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, received: {workers}")
    _check_same_data(out_dir, image_set)
    jobs = [(s, r) for r in range(config.n_repetitions) for s in subjects]
    records: dict = {}
    todo = []
    for s, r in jobs:
        path = record_path(out_dir, s, r)
        if path.exists():
            record = json.loads(path.read_text())
            if (
                record.get("config_hash") != config.classifier_hash()
                or record.get("format_version") != RESULT_FORMAT_VERSION
            ):
                raise ValueError(
                    f"{path} was computed with another configuration or version; use a new "
                    "output folder"
                )
            records[(s, r)] = record
        else:
            todo.append((s, r))
    started = time.perf_counter()
    n_done = 0
    for s, r in jobs:
        if (s, r) in records:
            n_done += 1
            if progress is not None:
                progress(
                    f"[{n_done}/{len(jobs)}] subject {s} rep {r}: {_accs(records[(s, r)])} "
                    "(done earlier, skipped)"
                )

    def finish(s, r, record):
        nonlocal n_done
        _write_json_atomic(record_path(out_dir, s, r), record)
        records[(s, r)] = record
        n_done += 1
        if progress is not None:
            elapsed = time.perf_counter() - started
            n_fresh = n_done - (len(jobs) - len(todo))
            eta = (len(jobs) - n_done) * elapsed / n_fresh
            progress(
                f"[{n_done}/{len(jobs)}] subject {s} rep {r}: {_accs(record)} "
                f"({record['wall_time_s']:.1f} s; elapsed {elapsed:.0f} s, ETA {_fmt_eta(eta)})"
            )

    if workers == 1 or len(todo) <= 1:
        for s, r in todo:
            with tempfile.TemporaryDirectory() as tmp:
                finish(s, r, run_classifier(image_set, features, s, r, config, Path(tmp)))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(
            max_workers=min(workers, len(todo)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(image_set, features, threads_per_worker),
        ) as pool:
            futures = {pool.submit(_run_in_worker, s, r, config): (s, r) for s, r in todo}
            try:
                for future in as_completed(futures):
                    finish(*futures[future], future.result())
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    return [records[job] for job in jobs]


def _accs(record: dict) -> str:
    first = next(iter(record["results"].values()))
    return " ".join(f"{p}@1={first[p]['1']['accuracy']:.3f}" for p in PROBES if p in first)


def _fmt_eta(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "?"
    m, s = divmod(round(seconds), 60)
    return f"{m}m{s:02d}s"


def aggregate(records: list, config: AuthConfig) -> list:
    """Table rows: one per (method, probe, N) with mean and sd over repetitions.

    A repetition's figure is the mean over its subjects' classifiers; the row reports the mean
    and the sample sd (ddof=1; 0 with one repetition) of those per-repetition figures, plus the
    number of decisions pooled over all classifiers.
    """
    rows = []
    for method in config.methods:
        for probe in PROBES:
            for n in config.fusion_n:
                per_rep: dict = {}
                n_dec = 0
                for rec in records:
                    m = rec["results"].get(method, {}).get(probe, {}).get(str(n))
                    if m is None:
                        continue
                    per_rep.setdefault(rec["rep"], []).append(m)
                    n_dec += len(m["correct"])
                if not per_rep:
                    continue
                row = {"method": method, "probe": probe, "N": n, "n_repetitions": len(per_rep)}
                row["n_classifiers"] = sum(len(v) for v in per_rep.values())
                row["n_decisions"] = n_dec
                for metric in METRICS:
                    vals = np.array(
                        [np.nanmean([m[metric] for m in ms]) for ms in per_rep.values()]
                    )
                    row[f"{metric}_mean"] = float(np.mean(vals))
                    row[f"{metric}_sd"] = float(np.std(vals, ddof=1)) if vals.size > 1 else 0.0
                rows.append(row)
    return rows


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def _parse_set(values) -> dict:
    out = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected field=value, got {item!r}", param_hint="--set")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        if "." in key:  # train.epochs=5, model.fl1_units=64
            outer, inner = key.split(".", 1)
            out.setdefault(outer, {})[inner] = value
        else:
            out[key] = value
    return out


@click.command("authenticate")
@click.option(
    "--data-root",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="McGill root (real or simulated); omitted: simulate a McGill-like set.",
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output folder.")
@click.option("--cache-dir", type=click.Path(path_type=Path), default=None, help="Cache folder.")
@click.option(
    "--preset",
    type=click.Choice(list(PRESETS)),
    default="paper",
    show_default=True,
    help="paper: the faithful reproduction; improved: the same settings (no labeling change "
    "improved authentication in the ablation, see results/ablation). --set overrides.",
)
@click.option(
    "--method",
    "methods",
    type=click.Choice(list(METHODS + PEER_METHODS)),
    multiple=True,
    help="Methods to run (repeatable; default: the preset's). minirocket: the MiniRocket peer "
    "on the same splits (needs pip install 'gaitcnn[peers]').",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    help="Override an AuthConfig field, JSON value: --set n_repetitions=2 --set train.epochs=5.",
)
def authenticate_command(data_root, out, cache_dir, preset, methods, overrides):
    """McGill gait authentication (paper Table 1): per-subject binary AE-GDI CNNs + baselines."""
    from gaitcnn.cache import read_image_set
    from gaitcnn.prepare import ensure_simulated, prepare_dataset

    values = _parse_set(overrides)
    if methods:
        values["methods"] = tuple(methods)
    config = AuthConfig.from_preset(preset, **values)
    params = config.prepare_params()
    source = None
    if data_root is None:
        data_root = ensure_simulated("mcgill", cache_dir=cache_dir)
        source = f"simulated ({data_root.name})"
    cache = prepare_dataset(params, data_root, cache_dir=cache_dir, source=source)
    image_set = read_image_set(cache, expected_params=params.to_dict())
    features = baseline_features(image_set, load_segments(data_root, params), config)
    records = run_authentication(image_set, config, out, features=features, progress=click.echo)
    from gaitcnn.evaluate import format_table

    rows = aggregate(records, config)
    _write_json_atomic(Path(out) / "summary.json", {"config": config.to_dict(), "rows": rows})
    click.echo(format_table(rows))


if __name__ == "__main__":
    authenticate_command()
