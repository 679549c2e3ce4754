"""The pure steps of the open-set verification protocol: parameters, user split, probes, scores.

numpy only. docs: /work/shared/spec/VERIFICATION.md. The run (:mod:`gaitcnn.verification._run`)
wires these steps to the data, the estimator and the result files.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

import numpy as np

from gaitcnn.labeling._protocol import SUBSETS, draw_subjects
from gaitcnn.verification.metrics import (
    DEFAULT_TARGET_FARS,
    comparisons_from_matrix,
    threshold_at_far,
    verification_summary,
)
from gaitcnn.verification.scores import make_template, score_walks

__all__ = [
    "CYCLE_SAMPLES",
    "FUSIONS",
    "MCGILL_PROBE_WINDOWS",
    "ROWS",
    "VerificationParams",
    "VerificationSplit",
    "cycle_stride",
    "eval_rows",
    "make_split",
    "probe_groups",
    "score_users",
    "summarise_row",
]

#: The rows of the comparison table (issue 14, item 4), in table order.
ROWS = ("embedding", "paper_cnn", "minirocket", "minirocket_lda", "template_1nn")

#: Fusion levels reported: name -> windows fused, one gait cycle apart (None: the whole walk).
#: ``"window"`` (every probe window scored on its own) is added by :func:`score_users`.
FUSIONS = {"walk": None, "n1": 1, "n3": 3, "n5": 5}

#: Mean gait cycle in samples at 50 Hz (1.07 s, Zhao & Zhou 2017): dense windows this far
#: apart cover about one cycle each.
CYCLE_SAMPLES = 53.5

#: A McGill-format day lasts ~15 minutes: each run of this many consecutive windows of a later
#: day is one probe (10 windows every 0.5 s: a ~6 s walk, as long as an OU-ISIR probe).
MCGILL_PROBE_WINDOWS = 10

#: Datasets the protocol knows.
DATASETS = ("ouisir", "mcgill")


@dataclass(frozen=True)
class VerificationParams:
    """Resolved settings of one verification run (saved as ``config.json``).

    Attributes
    ----------
    n_subjects : int
        Subjects drawn from the data set (training + test users).
    dataset : str
        ``"ouisir"`` (gallery -> probe walks) or ``"mcgill"`` (first day -> later days).
    subset : str
        OU-ISIR subset (``"auto"``, ``"automatic"``, ``"manual"``).
    sensor : str or None
        OU-ISIR manual-subset sensor folder; None = the centre IMU.
    filename_pattern : str or None
        McGill-format file names (regular expression with groups ``subject`` and ``day``);
        None = :data:`gaitcnn.io.MCGILL_FILENAME_PATTERN`.
    train_share : float
        Share of the drawn subjects that are training users (the rest are test users).
    calibration_share : float
        Share of the training users held out of training to calibrate the threshold.
    target_far : float
        FAR of the calibrated operating point.
    seed : int
        Subject draw and split, weights, shuffling, random kernels.
    epochs : int or None
        Epochs of the network rows (None: each preset's).
    rows : tuple of str
        Rows of :data:`ROWS` to run.
    channels : tuple of str or None
        Input channels of every row (front-end names, e.g. ``("acc_mag", "gyr_mag")`` or the
        gravity-aligned set for a phone that turns in a pocket); None = each preset's.
    """

    n_subjects: int = 744
    dataset: str = "ouisir"
    subset: str = "auto"
    sensor: str | None = None
    filename_pattern: str | None = None
    train_share: float = 0.7
    calibration_share: float = 0.15
    target_far: float = 0.01
    seed: int = 0
    epochs: int | None = None
    rows: tuple = ("embedding",)
    channels: tuple | None = None

    def __post_init__(self):
        """Validate every field, naming it and the value received."""
        if not (isinstance(self.n_subjects, int) and self.n_subjects >= 4):
            raise ValueError(f"n_subjects must be an integer >= 4. Received: {self.n_subjects!r}")
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}. Received: {self.dataset!r}")
        if self.subset not in SUBSETS:
            raise ValueError(f"subset must be one of {SUBSETS}. Received: {self.subset!r}")
        for name in ("train_share", "calibration_share", "target_far"):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise ValueError(f"{name} must be in (0, 1). Received: {name}={value!r}")
        if self.epochs is not None and self.epochs < 1:
            raise ValueError(f"epochs must be >= 1. Received: epochs={self.epochs!r}")
        object.__setattr__(self, "rows", tuple(self.rows))
        if self.channels is not None:
            object.__setattr__(self, "channels", tuple(self.channels))
        unknown = set(self.rows) - set(ROWS)
        if not self.rows or unknown:
            raise ValueError(f"rows must be names of {ROWS}. Received: {self.rows!r}")
        if self.dataset == "ouisir" and self.filename_pattern is not None:
            raise ValueError("filename_pattern applies to dataset='mcgill' only")

    @property
    def gallery_rule(self) -> str:
        """How the gallery walk is chosen, for results."""
        if self.dataset == "ouisir":
            return "OU-ISIR gallery walk (seq0 / Walk1); probes: the probe walks (seq1 / Walk2)"
        return (
            "McGill format: each user's first day is the gallery; every run of "
            f"{MCGILL_PROBE_WINDOWS} consecutive windows of a later day is a probe"
        )

    def to_dict(self) -> dict:
        """Plain JSON-able dict."""
        return json.loads(json.dumps(dataclasses.asdict(self)))


@dataclass(frozen=True)
class VerificationSplit:
    """Disjoint training, calibration and test users of one run.

    Attributes
    ----------
    pool : list of int
        Subjects with a gallery and a later walk, sorted.
    train, calibration, test : np.ndarray of int64
        Sorted user ids; ``train`` are trained on, ``calibration`` set the threshold, ``test``
        are enrolled and probed. The three are disjoint.
    """

    pool: list
    train: np.ndarray
    calibration: np.ndarray
    test: np.ndarray

    def to_dict(self) -> dict:
        """User ids per part."""
        return {k: getattr(self, k).tolist() for k in ("train", "calibration", "test")}


def _gallery_sessions(recordings: list[dict], dataset: str) -> dict[int, str]:
    """The gallery session of each subject: OU-ISIR ``"gallery"``, McGill the first day."""
    if dataset == "ouisir":
        return {int(r["subject_id"]): "gallery" for r in recordings if r["session"] == "gallery"}
    first: dict[int, str] = {}
    for r in recordings:
        subject, day = int(r["subject_id"]), r["session"]
        if subject not in first or _day_number(day) < _day_number(first[subject]):
            first[subject] = day
    return first


def _day_number(session: str) -> int:
    digits = "".join(ch for ch in str(session) if ch.isdigit())
    return int(digits) if digits else 0


def make_split(
    recordings: list[dict],
    dataset: str,
    n_subjects: int,
    *,
    train_share: float,
    calibration_share: float,
    seed: int,
) -> VerificationSplit:
    """Draw ``n_subjects`` users and split them into training, calibration and test users.

    The pool is every subject with a gallery walk and at least one later walk (from the
    recordings table only, so every row of a comparison splits alike). The draw is the labeling
    protocol's (:func:`gaitcnn.labeling.draw_subjects`, nested in ``n_subjects``); the split is
    a second permutation seeded by ``(seed, 1)``.

    Parameters
    ----------
    recordings : list of dict
        The cache's recording table (``subject_id``, ``session``).
    dataset : {"ouisir", "mcgill"}
    n_subjects : int
        Users drawn (the whole pool when larger).
    train_share, calibration_share : float
        As in :class:`VerificationParams`.
    seed : int

    Returns
    -------
    VerificationSplit

    Raises
    ------
    ValueError
        When the split would leave fewer than two users in a part.

    Examples
    --------
    >>> recs = [{"subject_id": s, "session": x} for s in range(20) for x in ("gallery", "probe")]
    >>> split = make_split(recs, "ouisir", 20, train_share=0.7, calibration_share=0.15, seed=0)
    >>> len(split.train), len(split.calibration), len(split.test)
    (12, 2, 6)
    """
    gallery = _gallery_sessions(recordings, dataset)
    later = {
        int(r["subject_id"])
        for r in recordings
        if r["session"] != gallery.get(int(r["subject_id"]), r["session"])
    }
    pool = sorted(later)
    chosen = draw_subjects(pool, n_subjects, seed) if pool else np.zeros(0, np.int64)
    users = np.random.default_rng([seed, 1]).permutation(chosen)
    n_train_all = round(train_share * users.size)
    n_calibration = max(2, round(calibration_share * n_train_all))
    parts = {
        "train": users[: n_train_all - n_calibration],
        "calibration": users[n_train_all - n_calibration : n_train_all],
        "test": users[n_train_all:],
    }
    small = {k: v.size for k, v in parts.items() if v.size < 2}
    if small:
        raise ValueError(
            f"{users.size} usable subjects (with a gallery and a later walk) split "
            f"{train_share:g} / {calibration_share:g} leave fewer than 2 users in {small}; "
            "use more subjects. Received: "
            f"n_subjects={n_subjects}, pool={len(pool)}"
        )
    return VerificationSplit(pool=pool, **{k: np.sort(v) for k, v in parts.items()})


def eval_rows(image_set, users: np.ndarray) -> np.ndarray:
    """Cache rows of ``users`` in temporal order (recording segment, then start)."""
    rows = np.flatnonzero(np.isin(image_set.subject_ids, users))
    return rows[np.lexsort((image_set.starts[rows], image_set.recording_index[rows]))]


def probe_groups(image_set, rows: np.ndarray, users: np.ndarray, dataset: str):
    """Gallery windows of each user and the windows of every probe.

    Parameters
    ----------
    image_set : gaitcnn.cache.ImageSet
        Cache metadata.
    rows : np.ndarray of int64
        From :func:`eval_rows` (temporal order); positions below index into it.
    users : np.ndarray
        The users to enrol and probe.
    dataset : {"ouisir", "mcgill"}

    Returns
    -------
    gallery : dict of int to np.ndarray
        Positions (into ``rows``) of each user's gallery windows (users without any are absent).
    probes : list of np.ndarray
        Positions of each probe's windows, in time order (may be empty: a failure to acquire).
    probe_users : np.ndarray of int64
    """
    gallery_of = _gallery_sessions(image_set.recordings, dataset)
    subjects = image_set.subject_ids[rows]
    sessions = image_set.sessions[rows]
    segment = image_set.recording_index[rows]
    gallery = {}
    for user in users:
        mask = (subjects == user) & (sessions == gallery_of.get(int(user)))
        if mask.any():
            gallery[int(user)] = np.flatnonzero(mask)
    probes, probe_users = [], []
    wanted = set(users.tolist())
    for index, rec in enumerate(image_set.recordings):
        user = int(rec["subject_id"])
        if user not in wanted or rec["session"] == gallery_of.get(user):
            continue
        positions = np.flatnonzero(segment == index)
        if dataset == "ouisir":
            chunks = [positions]
        else:
            n_runs = positions.size // MCGILL_PROBE_WINDOWS
            usable = positions[: n_runs * MCGILL_PROBE_WINDOWS]
            chunks = np.array_split(usable, n_runs) if n_runs else []
        for chunk in chunks:
            probes.append(chunk)
            probe_users.append(user)
    return gallery, _merge_walks(probes, probe_users, image_set, rows, dataset)


def _merge_walks(probes, probe_users, image_set, rows, dataset):
    """OU-ISIR: the segments of one walk (``key`` up to ``#``) form one probe."""
    if dataset != "ouisir" or not probes:
        return probes, np.asarray(probe_users, np.int64)
    keys = [r["key"].split("#")[0] for r in image_set.recordings]
    segment = image_set.recording_index[rows]
    merged: dict[str, list] = {}
    owner: dict[str, int] = {}
    for chunk, user in zip(probes, probe_users, strict=True):
        key = keys[int(segment[chunk[0]])] if chunk.size else f"empty-{len(merged)}"
        merged.setdefault(key, []).append(chunk)
        owner[key] = user
    walks = sorted(merged)
    return [np.concatenate(merged[k]) for k in walks], np.array([owner[k] for k in walks])


def cycle_stride(segmentation: str, dense_step: int) -> int:
    """Windows between two fused windows so that they are one gait cycle apart.

    Cycle-start images (GGGD) are one cycle apart already; dense windows every ``dense_step``
    samples take every ``round(CYCLE_SAMPLES / dense_step)``-th.
    """
    if segmentation != "dense" or dense_step <= 0:
        return 1
    return max(1, round(CYCLE_SAMPLES / dense_step))


def score_users(
    embeddings: np.ndarray,
    gallery: dict,
    probes: list,
    probe_users: np.ndarray,
    *,
    every: int,
    template: str = "mean",
) -> dict:
    """Enrol each user from their gallery windows and score every probe at every fusion level.

    Parameters
    ----------
    embeddings : np.ndarray, shape (n_rows, dim)
        Embedding of every evaluated window (positions as in :func:`probe_groups`).
    gallery, probes, probe_users
        From :func:`probe_groups`.
    every : int
        Stride through a probe's windows for the N-cycle fusions (:func:`cycle_stride`).
    template : {"mean", "set"}
        :func:`gaitcnn.verification.make_template` (``"set"``: 1-NN against the gallery windows).

    Returns
    -------
    dict
        ``matrices`` (fusion name -> score matrix, plus ``"window"``: one row per probe window),
        ``probe_users`` (per fusion), ``template_users``.
    """
    template_users = np.array(sorted(gallery), dtype=np.int64)
    templates = [make_template(embeddings[gallery[u]], kind=template) for u in template_users]
    walks = [embeddings[p] for p in probes]
    matrices = {
        name: score_walks(walks, templates, n_first=n, every=every) for name, n in FUSIONS.items()
    }
    users = {name: probe_users for name in FUSIONS}
    singles = [embeddings[i : i + 1] for p in probes for i in p]
    matrices["window"] = score_walks(singles, templates)
    users["window"] = np.repeat(probe_users, [p.size for p in probes]).astype(np.int64)
    return {"matrices": matrices, "probe_users": users, "template_users": template_users}


def calibrate_thresholds(calibration: dict, target_far: float) -> dict[str, float]:
    """Threshold per fusion level at ``target_far`` on the calibration users' comparisons."""
    thresholds = {}
    for name, matrix in calibration["matrices"].items():
        pairs = comparisons_from_matrix(
            matrix, calibration["probe_users"][name], calibration["template_users"]
        )
        thresholds[name] = float(threshold_at_far(pairs.impostor, target_far))
    return thresholds


def summarise_row(
    test: dict, thresholds: dict[str, float], *, seed: int, n_bootstrap: int = 200
) -> dict:
    """Metrics of one row: the whole-walk figures at top level, every fusion under ``by_fusion``.

    Parameters
    ----------
    test : dict
        :func:`score_users` on the test users.
    thresholds : dict of str to float
        :func:`calibrate_thresholds` on the calibration users.
    seed : int
        Bootstrap seed.
    n_bootstrap : int, default=200
        Resamples of the whole-walk EER interval over test users (0: none).

    Returns
    -------
    dict
        ``eer``, ``frr_at_far_1pct``, ``frr_at_far_0_1pct``, ``roc_auc``, ``open_set_rank1``,
        counts, ``operating_point`` ... of the whole walk, and ``by_fusion``
        (``window``, ``n1``, ``n3``, ``n5``, ``walk``).
    """
    by_fusion = {}
    for name in ("window", "n1", "n3", "n5", "walk"):
        by_fusion[name] = verification_summary(
            test["matrices"][name],
            test["probe_users"][name],
            test["template_users"],
            target_fars=DEFAULT_TARGET_FARS,
            threshold=thresholds[name],
            n_bootstrap=n_bootstrap if name == "walk" else 0,
            seed=seed,
        )
    walk = by_fusion["walk"]
    return {**walk, "by_fusion": by_fusion}


def walk_comparisons(test: dict):
    """Genuine and impostor whole-walk scores of the test users (for the DET curve)."""
    pairs = comparisons_from_matrix(
        test["matrices"]["walk"], test["probe_users"]["walk"], test["template_users"]
    )
    return pairs.genuine, pairs.impostor
