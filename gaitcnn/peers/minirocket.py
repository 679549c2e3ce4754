"""Peer baseline: MiniRocket + ridge on fixed windows of the resampled signal (issue 9).

MiniRocket (Dempster, Schmidt & Webb 2021) turns a multivariate window into ~10,000
"proportion of positive values" features of random dilated convolutions; a ridge classifier on
the standardised features labels each window, and a walk is labelled by the **sum** of its
windows' decision scores. Nothing here comes from Zhao & Zhou 2017: this is the off-the-shelf
peer the improved gaitcnn preset is measured against.

Pipeline (every default documented at its constant):

1. a walk is resampled to 50 Hz exactly as for the CNN (:func:`gaitcnn.resample.resample_recording`
   with the labeling run's :class:`gaitcnn.prepare.PrepareParams`);
2. channels: ``ax, ay, az, gx, gy, gz, |a|, |w|`` (8; without a gyroscope ``ax, ay, az, |a|``);
3. windows of :data:`DEFAULT_WINDOW_S` every :data:`DEFAULT_STEP_S`; a walk shorter than one
   window is **edge-padded** (its last sample repeated) to one window, so every walk gives at
   least one window;
4. per-channel normalisation with one global mean and standard deviation per channel,
   estimated on the windows the transform is fitted on. Not per window: per-window
   z-normalisation would erase the between-subject differences of amplitude that identify a
   walker. Scaling matters because a multichannel MiniRocket kernel sums its channels, so
   unscaled m/s^2 (~10) would drown rad/s (~1); the mean barely matters (kernel weights sum to
   zero) but centring keeps the zero padding of dilated convolutions neutral;
5. MiniRocket (aeon) fitted on those windows, seeded; ``n_jobs=1`` by default;
6. standardised features + ``RidgeClassifierCV(alphas=logspace(-3, 3, 10))`` (above
   :data:`MAX_LOO_WINDOWS` training windows the penalty is picked on a seeded subset and the
   ridge is fitted on all windows by Cholesky).

Steps 4-6 are :class:`gaitcnn.peers.MiniRocketPeer`, the ``"minirocket"`` member of the peer
family (:data:`gaitcnn.peers.PEERS`, with MultiRocket and RDST); :class:`MiniRocketClassifier`
adds the windows and the per-walk sums.

aeon (and with it numba and scikit-learn) is an optional dependency, ``pip install
'gaitcnn[peers]'``; importing this module does not import it.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np

from gaitcnn.constants import TARGET_RATE_HZ
from gaitcnn.peers._base import (
    AEON_MISSING_MESSAGE,
    CHUNK_WINDOWS,
    PeerDependencyError,
    import_aeon,
)
from gaitcnn.peers._ridge import MAX_LOO_WINDOWS, RIDGE_ALPHAS
from gaitcnn.peers._rocket import MiniRocketFeatures
from gaitcnn.rawwindows import raw_channels

__all__ = [
    "AEON_MISSING_MESSAGE",
    "CHANNEL_NAMES",
    "DEFAULT_FIT_WINDOWS",
    "DEFAULT_NUM_KERNELS",
    "DEFAULT_STEP_S",
    "DEFAULT_WINDOW_S",
    "MAX_LOO_WINDOWS",
    "RIDGE_ALPHAS",
    "LabelingSplit",
    "MiniRocketClassifier",
    "MiniRocketFeatures",
    "PeerDependencyError",
    "labeling_split",
    "load_labeling_segments",
    "make_windows",
    "minirocket_image_features",
    "require_aeon",
    "ridge_accept_scores",
    "run_minirocket_labeling",
    "signal_channels",
    "sum_scores_by_sequence",
    "window_starts",
]

logger = logging.getLogger(__name__)

#: Window length in seconds. 1.28 s = 64 samples at 50 Hz, the time span of one AE-GDI
#: (N_w = 64, longer than one gait cycle), so one MiniRocket window and one CNN image see the
#: same stretch of walk and ``accuracy_by_n`` compares like with like. Checked on K = 100 only
#: (simulated OU-ISIR, step 0.16 s, seeds 0/1/2): 1.28 s 98/93/96 %, 2.56 s 95/93/92 %
#: (3.84 s 93 % and 2.56 s every 0.32 s 96 % at seed 0) - differences within the noise of 100
#: probe walks, so the reason above decides; the cost is about the same (more but shorter
#: windows).
DEFAULT_WINDOW_S = 1.28

#: Step between window starts in seconds. 0.16 s = 8 samples: ~30 windows per ~6 s gallery
#: walk, i.e. the gait phase is sampled densely (the data-efficiency problem of the paper
#: preset is ~2.5 images per walk) while the K = 744 feature matrix stays ~0.9 GB (float32).
DEFAULT_STEP_S = 0.16

#: MiniRocket's own default (rounded down to a multiple of 84 kernels: 9,996 features).
DEFAULT_NUM_KERNELS = 10_000

#: Windows sampled (seeded) to fit the transform for authentication (biases are quantiles of
#: convolution outputs of randomly chosen fitting windows; a few thousand windows are plenty:
#: MiniRocket draws one window per (kernel, dilation) pair, i.e. < 84 x 32 draws).
DEFAULT_FIT_WINDOWS = 2048

#: Channel names of :func:`signal_channels` with a gyroscope (without: acc axes and "|a|").
CHANNEL_NAMES = ("ax", "ay", "az", "gx", "gy", "gz", "|a|", "|w|")


# --------------------------------------------------------------------------------------------
# Optional dependency
# --------------------------------------------------------------------------------------------


def require_aeon() -> type:
    """Import and return aeon's (multivariate-capable) ``MiniRocket`` transformer.

    Returns
    -------
    type
        ``aeon.transformations.collection.convolution_based.MiniRocket``.

    Raises
    ------
    PeerDependencyError
        If aeon (or one of its own dependencies, numba and scikit-learn) cannot be imported;
        the message says ``pip install 'gaitcnn[peers]'``.
    """
    return import_aeon("aeon.transformations.collection.convolution_based", "MiniRocket")


# --------------------------------------------------------------------------------------------
# Channels and windows (numpy only)
# --------------------------------------------------------------------------------------------


def signal_channels(acc: np.ndarray, gyr: np.ndarray | None = None) -> np.ndarray:
    """Stack the channels MiniRocket sees: the axes plus the orientation-free magnitudes.

    Parameters
    ----------
    acc : np.ndarray, shape (n_timepoints, 3)
        Acceleration in m/s^2 (resampled).
    gyr : np.ndarray, shape (n_timepoints, 3), optional
        Angular velocity in rad/s; None when the sensor has no gyroscope.

    Returns
    -------
    np.ndarray of float32, shape (n_timepoints, 8) or (n_timepoints, 4)
        ``ax, ay, az, gx, gy, gz, |a|, |w|`` (:data:`CHANNEL_NAMES`), or ``ax, ay, az, |a|``
        when ``gyr`` is None.

    Examples
    --------
    >>> signal_channels(np.array([[3.0, 4.0, 0.0]])).tolist()
    [[3.0, 4.0, 0.0, 5.0]]
    >>> signal_channels(np.zeros((5, 3)), np.ones((5, 3))).shape
    (5, 8)
    """
    return raw_channels(acc, gyr)  # the raw-window CNN's channels: one definition


def _channel_names(n_channels: int) -> tuple[str, ...]:
    return CHANNEL_NAMES if n_channels == 8 else ("ax", "ay", "az", "|a|")


def window_starts(n_timepoints: int, window_samples: int, step_samples: int) -> np.ndarray:
    """Start samples of the windows of a walk: ``0, step, 2 step, ...`` while a window fits.

    A walk shorter than one window gets the single start 0 (it is padded, see
    :func:`make_windows`), so every walk yields at least one window. The tail after the last
    full window (less than one step) is not used.

    Parameters
    ----------
    n_timepoints : int
        Samples in the walk (>= 1).
    window_samples : int
        Window length in samples (>= 1).
    step_samples : int
        Step between starts in samples (>= 1).

    Returns
    -------
    np.ndarray of int64, shape (n_windows,)

    Examples
    --------
    >>> window_starts(300, 128, 8)[[0, 1, -1]].tolist(), window_starts(300, 128, 8).size
    ([0, 8, 168], 22)
    >>> window_starts(50, 128, 8).tolist()
    [0]
    """
    if window_samples < 1 or step_samples < 1 or n_timepoints < 1:
        raise ValueError(
            "n_timepoints, window_samples and step_samples must be >= 1, received "
            f"{n_timepoints}, {window_samples}, {step_samples}"
        )
    if n_timepoints <= window_samples:
        return np.zeros(1, dtype=np.int64)
    return np.arange(0, n_timepoints - window_samples + 1, step_samples, dtype=np.int64)


def make_windows(
    series: np.ndarray, window_samples: int, step_samples: int = 1, *, starts=None
) -> np.ndarray:
    """Cut a multichannel series into fixed windows, edge-padding at the end when needed.

    Parameters
    ----------
    series : np.ndarray, shape (n_timepoints, n_channels)
        One walk (or segment), e.g. from :func:`signal_channels`.
    window_samples : int
        Window length in samples.
    step_samples : int, default=1
        Step between starts (ignored when ``starts`` is given).
    starts : array-like of int, optional
        Explicit start samples (e.g. the cycle starts of cached images). Default:
        :func:`window_starts`.

    Returns
    -------
    np.ndarray of float32, shape (n_windows, n_channels, window_samples)
        aeon's collection layout. Samples past the end of ``series`` repeat its last sample
        ("edge" padding: no artificial step, e.g. of gravity on the vertical axis, as zero
        padding of the raw signal would create).
    """
    series = np.asarray(series, dtype=np.float32)
    if series.ndim != 2 or series.shape[0] < 1:
        raise ValueError(
            f"series must have shape (n_timepoints >= 1, n_channels), got {series.shape}"
        )
    n = series.shape[0]
    if starts is None:
        starts = window_starts(n, window_samples, step_samples)
    starts = np.asarray(starts, dtype=np.int64).reshape(-1)
    if starts.size and (starts.min() < 0 or starts.max() >= n):
        raise ValueError(f"starts must lie in [0, {n}), received [{starts.min()}, {starts.max()}]")
    need = int(starts.max()) + window_samples if starts.size else n
    if need > n:
        series = np.pad(series, ((0, need - n), (0, 0)), mode="edge")
    cols = starts[:, None] + np.arange(window_samples)[None, :]
    return np.ascontiguousarray(series[cols].transpose(0, 2, 1))


def sum_scores_by_sequence(
    scores: np.ndarray, owner: np.ndarray, n_sequences: int, max_windows: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Sum window decision scores per sequence (optionally only the first ``max_windows``).

    Parameters
    ----------
    scores : np.ndarray, shape (n_windows, n_classes)
        Per-window decision scores, the windows of a sequence in temporal order.
    owner : np.ndarray of int, shape (n_windows,)
        Sequence index (0 .. n_sequences - 1) of each window.
    n_sequences : int
    max_windows : int, optional
        Use only each sequence's first ``max_windows`` windows (accuracy by N).

    Returns
    -------
    summed : np.ndarray, shape (n_sequences, n_classes)
        NaN rows for sequences without windows.
    n_used : np.ndarray of int, shape (n_sequences,)

    Examples
    --------
    >>> s = np.array([[1.0, 0.0], [0.0, 3.0], [2.0, 0.0]])
    >>> summed, n = sum_scores_by_sequence(s, np.array([0, 0, 1]), 3)
    >>> summed[:2].tolist(), n.tolist()
    ([[1.0, 3.0], [2.0, 0.0]], [2, 1, 0])
    """
    scores = np.asarray(scores, dtype=np.float64)
    owner = np.asarray(owner, dtype=np.int64)
    keep = np.ones(owner.size, dtype=bool)
    if max_windows is not None:
        # rank of each window within its sequence, in the given (temporal) order
        order = np.argsort(owner, kind="stable")
        ranks = np.empty(owner.size, dtype=np.int64)
        sorted_owner = owner[order]
        first = np.r_[0, np.flatnonzero(np.diff(sorted_owner)) + 1]
        run_start = np.repeat(first, np.diff(np.r_[first, owner.size]))
        ranks[order] = np.arange(owner.size) - run_start
        keep = ranks < max_windows
    summed = np.zeros((n_sequences, scores.shape[1]))
    np.add.at(summed, owner[keep], scores[keep])
    n_used = np.bincount(owner[keep], minlength=n_sequences)
    summed[n_used == 0] = np.nan
    return summed, n_used


# --------------------------------------------------------------------------------------------
# Classifier of walks: windows + the minirocket member of the peer family
# --------------------------------------------------------------------------------------------


class MiniRocketClassifier:
    """MiniRocket features of fixed windows + ridge; sequences labelled by summed scores.

    A walk-level wrapper of :class:`gaitcnn.peers.MiniRocketPeer`: it cuts each series into
    windows (:func:`make_windows`), fits the peer on them and sums a series' window scores.

    Parameters
    ----------
    window_s : float, default=1.28
        Window length in seconds (:data:`DEFAULT_WINDOW_S`).
    step_s : float, default=0.16
        Step between training and test windows in seconds (:data:`DEFAULT_STEP_S`).
    rate_hz : float, default=50.0
        Sampling rate of the series passed in.
    num_kernels : int, default=10_000
        MiniRocket kernels (:data:`DEFAULT_NUM_KERNELS`).
    seed : int, default=0
        MiniRocket ``random_state``. The ridge fit is deterministic.
    n_jobs : int, default=1
        numba threads of the transform.
    alphas : tuple of float, default=RIDGE_ALPHAS
        Ridge penalties tried by efficient leave-one-out cross-validation.
    max_loo_windows : int, default=4096
        With more training windows, the penalty is chosen on a seeded subset of this many
        and the final ridge is fitted on all windows by Cholesky (:data:`MAX_LOO_WINDOWS`).
    progress : bool, default=False
        Progress bars during feature extraction.

    Attributes
    ----------
    peer_ : gaitcnn.peers.MiniRocketPeer
        The fitted window classifier (``to_arrays`` / ``from_arrays`` save and restore it).
    classes_ : np.ndarray, shape (n_classes,)
        Sorted labels seen in :meth:`fit` (column order of every score matrix).
    features_ : MiniRocketFeatures
    alpha_ : float
        The chosen ridge penalty.
    ridge_fit_ : str
        How the ridge was fitted (see ``max_loo_windows``).
    train_accuracy_ : float
    n_train_windows_ : int
    feature_time_s_, train_time_s_ : float
        Seconds spent on the training features (fit + transform) and on the ridge.
    """

    def __init__(
        self,
        *,
        window_s: float = DEFAULT_WINDOW_S,
        step_s: float = DEFAULT_STEP_S,
        rate_hz: float = TARGET_RATE_HZ,
        num_kernels: int = DEFAULT_NUM_KERNELS,
        seed: int = 0,
        n_jobs: int = 1,
        alphas: Sequence[float] = RIDGE_ALPHAS,
        max_loo_windows: int = MAX_LOO_WINDOWS,
        progress: bool = False,
    ):
        self.window_s = float(window_s)
        self.step_s = float(step_s)
        self.rate_hz = float(rate_hz)
        self.num_kernels = int(num_kernels)
        self.seed = int(seed)
        self.n_jobs = int(n_jobs)
        self.alphas = tuple(float(a) for a in alphas)
        self.max_loo_windows = int(max_loo_windows)
        self.progress = bool(progress)
        if self.window_samples < 9:
            raise ValueError(
                f"window_s * rate_hz must give >= 9 samples (MiniRocket), received "
                f"window_s={window_s!r} at rate_hz={rate_hz!r}"
            )
        if self.step_s <= 0:
            raise ValueError(f"step_s must be positive, received step_s={step_s!r}")

    @property
    def window_samples(self) -> int:
        """Window length in samples."""
        return round(self.window_s * self.rate_hz)

    @property
    def step_samples(self) -> int:
        """Step in samples (at least 1)."""
        return max(1, round(self.step_s * self.rate_hz))

    def windows_of(
        self, series_list: Sequence[np.ndarray], owners: Sequence[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Windows of every series and the index of the series (or ``owners[i]``) they come from.

        Parameters
        ----------
        series_list : sequence of np.ndarray, each shape (n_timepoints, n_channels)
        owners : sequence of int, optional
            Owner index per series (e.g. several segments of one sequence); default 0, 1, ...

        Returns
        -------
        windows : np.ndarray of float32, shape (n_windows, n_channels, window_samples)
        owner : np.ndarray of int64, shape (n_windows,)
        """
        if owners is None:
            owners = range(len(series_list))
        parts, owner = [], []
        for series, who in zip(series_list, owners, strict=True):
            w = make_windows(series, self.window_samples, self.step_samples)
            parts.append(w)
            owner.append(np.full(len(w), int(who), dtype=np.int64))
        if not parts:
            raise ValueError("series_list is empty")
        return np.concatenate(parts), np.concatenate(owner)

    def fit(self, series_list: Sequence[np.ndarray], labels) -> MiniRocketClassifier:
        """Fit the transform and the ridge on the windows of the labelled series.

        Parameters
        ----------
        series_list : sequence of np.ndarray, each shape (n_timepoints, n_channels)
            Training walks (e.g. :func:`signal_channels` of gallery segments).
        labels : array-like, shape (len(series_list),)
            Label of each walk; every window inherits it. At least two distinct labels.

        Returns
        -------
        MiniRocketClassifier
            ``self``.
        """
        from gaitcnn.peers._rocket import MiniRocketPeer

        require_aeon()
        labels = np.asarray(labels)
        if labels.shape != (len(series_list),):
            raise ValueError(
                f"labels must have one entry per series ({len(series_list)}), got {labels.shape}"
            )
        if np.unique(labels).size < 2:
            raise ValueError("need at least two distinct labels to fit a classifier")
        windows, owner = self.windows_of(series_list)
        self.peer_ = MiniRocketPeer(
            num_kernels=self.num_kernels,
            seed=self.seed,
            n_jobs=self.n_jobs,
            alphas=self.alphas,
            max_loo_windows=self.max_loo_windows,
            progress=self.progress,
        ).fit(windows, labels[owner])
        return self

    # The fitted state lives in the peer; these read it under the original names.
    classes_ = property(lambda self: self._peer().classes_, doc="Sorted training labels.")
    features_ = property(lambda self: self._peer().features_, doc="The fitted transform.")
    alpha_ = property(lambda self: self._peer().head_.alpha_, doc="The ridge penalty.")
    ridge_fit_ = property(lambda self: self._peer().head_.fit_method_, doc="Ridge fit method.")
    train_accuracy_ = property(
        lambda self: self._peer().head_.train_accuracy_, doc="Accuracy on training windows."
    )
    n_train_windows_ = property(lambda self: self._peer().n_train_windows_, doc="Windows.")
    feature_time_s_ = property(lambda self: self._peer().feature_time_s_, doc="Seconds.")
    train_time_s_ = property(lambda self: self._peer().train_time_s_, doc="Seconds.")

    def window_scores(self, windows: np.ndarray) -> np.ndarray:
        """Ridge decision scores of windows.

        Parameters
        ----------
        windows : np.ndarray, shape (n_windows, n_channels, window_samples)

        Returns
        -------
        np.ndarray of float64, shape (n_windows, n_classes)
            Column j belongs to ``classes_[j]``; larger = more likely.
        """
        return self._peer().decision_function(windows)

    def sequence_window_scores(
        self, series_list: Sequence[np.ndarray], owners: Sequence[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Window scores of every series plus the owner index of each window."""
        windows, owner = self.windows_of(series_list, owners)
        return self.window_scores(windows), owner

    def decision_function_sequences(
        self, series_list: Sequence[np.ndarray], *, max_windows: int | None = None
    ) -> np.ndarray:
        """Summed window scores per series.

        Parameters
        ----------
        series_list : sequence of np.ndarray, each shape (n_timepoints, n_channels)
        max_windows : int, optional
            Sum only the first ``max_windows`` windows of each series.

        Returns
        -------
        np.ndarray of float64, shape (n_series, n_classes)
        """
        scores, owner = self.sequence_window_scores(series_list)
        summed, _ = sum_scores_by_sequence(scores, owner, len(series_list), max_windows)
        return summed

    def predict(self, series_list: Sequence[np.ndarray]) -> np.ndarray:
        """Label of each series: the class with the largest summed score."""
        return self.classes_[np.argmax(self.decision_function_sequences(series_list), axis=1)]

    @property
    def n_params(self) -> int:
        """Trained parameters: ridge coefficients plus intercepts (the transform has none)."""
        return self._peer().n_params

    def model_size_bytes(self) -> int:
        """Bytes of the fitted peer's arrays (transform state, scalings, ridge)."""
        return self._peer().model_size_bytes()

    def _peer(self):
        if not hasattr(self, "peer_"):
            raise RuntimeError("MiniRocketClassifier is not fitted; call fit first")
        return self.peer_


# --------------------------------------------------------------------------------------------
# Labeling on OU-ISIR: the CNN's split, MiniRocket's decision
# --------------------------------------------------------------------------------------------


def _field(item, name: str):
    return item[name] if isinstance(item, Mapping) else getattr(item, name)


@dataclass(frozen=True)
class LabelingSplit:
    """Subjects and walks of one labeling run, as :func:`gaitcnn.labeling.run_labeling` picks.

    Attributes
    ----------
    pool : list of int
        Subjects with at least one gallery and one probe segment, sorted.
    chosen : np.ndarray of int64, shape (n_classes,)
        ``draw_subjects(pool, n_subjects, seed)``; class index = position.
    probe_sequences : list of str
        Sorted keys ``"<subject>/<session>/<walk>"`` of the chosen subjects' probe segments.
    gallery_keys : list of str
        Sorted keys of the chosen subjects' gallery segments.
    """

    pool: list
    chosen: np.ndarray
    probe_sequences: list
    gallery_keys: list


def labeling_split(recordings: Iterable, n_subjects: int, seed: int) -> LabelingSplit:
    """The CNN's subject pool, draw and probe sequences, from recording segments.

    Parameters
    ----------
    recordings : iterable of dict or Recording
        Items with ``key``, ``subject_id`` and ``session`` - an image cache's ``recordings``
        list, or the resampled segments of :func:`load_labeling_segments` (the same segments
        the cache describes, one entry each).
    n_subjects : int
        K.
    seed : int
        Seed of the draw.

    Returns
    -------
    LabelingSplit

    Raises
    ------
    ValueError
        Fewer than two subjects with both a gallery and a probe segment.
    """
    from gaitcnn.labeling import draw_subjects

    recordings = list(recordings)
    by_session: dict[str, set] = {"gallery": set(), "probe": set()}
    for rec in recordings:
        if _field(rec, "session") in by_session:
            by_session[_field(rec, "session")].add(int(_field(rec, "subject_id")))
    pool = sorted(by_session["gallery"] & by_session["probe"])
    if len(pool) < 2:
        raise ValueError(f"need >= 2 subjects with gallery and probe walks, found {len(pool)}")
    chosen = draw_subjects(pool, n_subjects, seed)
    members = {int(s) for s in chosen}

    def keys(session: str) -> list:
        return sorted(
            {
                _field(r, "key")
                for r in recordings
                if _field(r, "session") == session and int(_field(r, "subject_id")) in members
            }
        )

    return LabelingSplit(
        pool=pool, chosen=chosen, probe_sequences=keys("probe"), gallery_keys=keys("gallery")
    )


def load_labeling_segments(data_root, prep, *, progress: bool = False) -> list:
    """Resampled segments of an OU-ISIR root, exactly those the CNN's image cache describes.

    Same loader options (``prep.subset``, ``prep.sensor``), rate and gap splitting as
    :func:`gaitcnn.prepare.images_for_recording`, and like it a recording that cannot be
    resampled (e.g. shorter than one second) is skipped with a warning.

    Parameters
    ----------
    data_root : str or os.PathLike
    prep : gaitcnn.prepare.PrepareParams
        The labeling run's preparation parameters (``LabelingParams.prepare_params()``).
    progress : bool, default=False
        Progress bar over recordings.

    Returns
    -------
    list of Recording
        Resampled segments in loader order.
    """
    from tqdm.auto import tqdm

    from gaitcnn.errors import GaitDataError
    from gaitcnn.prepare import load_dataset
    from gaitcnn.resample import resample_recording

    recordings = load_dataset(prep.dataset, data_root, prep)
    segments = []
    for recording in tqdm(recordings, desc="resample", unit="rec", disable=not progress):
        try:
            segments.extend(
                resample_recording(recording, rate_hz=prep.rate_hz, max_gap_s=prep.max_gap_s)
            )
        except GaitDataError as exc:  # as images_for_recording: skip it, but say so
            logger.warning("skipping recording: %s", exc)
    return segments


def _peer_versions() -> dict:
    from importlib import metadata

    from gaitcnn.labeling import _versions

    out = _versions()
    for name in ("aeon", "numba", "scikit-learn"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def run_minirocket_labeling(
    params,
    *,
    out_dir,
    data_root=None,
    cache_dir=None,
    n_simulated: int = 744,
    progress: bool = False,
    window_s: float = DEFAULT_WINDOW_S,
    step_s: float = DEFAULT_STEP_S,
    num_kernels: int = DEFAULT_NUM_KERNELS,
    n_jobs: int = 1,
) -> dict[str, Any]:
    """Run the MiniRocket peer on the CNN's labeling split and write its results to ``out_dir``.

    The split is :func:`gaitcnn.labeling.run_labeling`'s: same data resolution (simulated
    OU-ISIR without ``data_root``), same subject pool (subjects with a gallery and a probe
    segment), same draw ``draw_subjects(pool, K, seed)``; the ridge is trained on the windows
    of the chosen subjects' gallery segments and every probe sequence (keyed like the cache's
    ``recordings[i]['key']``) is labelled by the sum of its windows' scores. Unlike the CNN's
    images, every walk gives at least one window, so no sequence goes undecided.

    Parameters
    ----------
    params : gaitcnn.labeling.LabelingParams
        Uses ``n_subjects``, ``seed``, ``subset`` and ``sensor``; the CNN-only fields (method,
        epochs, edge, model_hparams, batch_size) are ignored.
    out_dir : str or os.PathLike
        Receives ``results.json``, ``config.json`` and ``sequences.csv``.
    data_root : str or os.PathLike, optional
        Real OU-ISIR root; None simulates ``n_simulated`` OU-ISIR-like subjects.
    cache_dir : str or os.PathLike, optional
        Where simulated data live (default :func:`gaitcnn.prepare.default_cache_dir`).
    n_simulated : int, default=744
        Subjects of the simulated data set (ignored with ``data_root``).
    progress : bool, default=False
        Progress bars (resampling, feature extraction) on stderr.
    window_s, step_s : float
        Windows (:data:`DEFAULT_WINDOW_S`, :data:`DEFAULT_STEP_S`).
    num_kernels : int, default=10_000
        MiniRocket kernels.
    n_jobs : int, default=1
        numba threads.

    Returns
    -------
    dict
        The content of ``results.json``: ``accuracy``, ``top5``, ``cmc``, ``accuracy_by_n``
        (first N windows), ``n_subjects``, ``n_probe_sequences``, ``n_gallery_windows``,
        ``params`` (ridge coefficients), ``model_size_bytes``, times, peak memory, ...

    Raises
    ------
    PeerDependencyError
        If aeon is not installed.
    """
    from gaitcnn.labeling import (
        SIMULATION_SEED,
        _peak_rss_mb,
        _resolve_data,
        _write_csv,
        _write_json,
        cmc_from_ranks,
        ranks_with_missing,
    )
    from gaitcnn.prepare import default_cache_dir

    require_aeon()  # fail before loading anything
    started = time.perf_counter()
    out_dir = Path(out_dir)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    notes: list[str] = []

    # ---- data: the CNN's split -----------------------------------------------------------
    root, data_label, _ = _resolve_data(data_root, cache_dir, n_simulated)
    prep = params.prepare_params()
    segments = load_labeling_segments(root, prep, progress=progress)
    split = labeling_split(segments, params.n_subjects, params.seed)
    if params.n_subjects > len(split.pool):
        msg = (
            f"--subjects {params.n_subjects} exceeds the {len(split.pool)} subjects with both a "
            f"gallery and a probe walk in {data_label}; using all {len(split.pool)}"
        )
        logger.warning(msg)
        click.echo(f"note: {msg}", err=True)
        notes.append(msg)
    chosen = split.chosen
    n_classes = int(chosen.size)
    class_of = {int(s): i for i, s in enumerate(chosen)}
    gallery = [s for s in segments if s.session == "gallery" and s.subject_id in class_of]
    probe = [s for s in segments if s.session == "probe" and s.subject_id in class_of]
    seq_index = {key: i for i, key in enumerate(split.probe_sequences)}
    seq_subject = {s.key: s.subject_id for s in probe}
    y_seq = np.array([class_of[seq_subject[k]] for k in split.probe_sequences], dtype=np.int64)
    prepare_s = time.perf_counter() - started

    # ---- fit -----------------------------------------------------------------------------
    clf = MiniRocketClassifier(
        window_s=window_s,
        step_s=step_s,
        rate_hz=prep.rate_hz,
        num_kernels=num_kernels,
        seed=params.seed,
        n_jobs=n_jobs,
        progress=progress,
    )
    clf.fit(
        [signal_channels(s.acc, s.gyr) for s in gallery],
        np.array([class_of[s.subject_id] for s in gallery], dtype=np.int64),
    )
    missing_classes = sorted(set(range(n_classes)) - {int(c) for c in clf.classes_})
    if missing_classes:  # cannot happen: every chosen subject has a gallery segment
        raise RuntimeError(f"classes without gallery windows: {missing_classes}")

    # ---- label probe sequences -----------------------------------------------------------
    label_started = time.perf_counter()
    # Segments of one sequence (a walk split at a long gap) are pooled; windows stay in
    # temporal order because segments come in loader (time) order.
    scores, owner = clf.sequence_window_scores(
        [signal_channels(s.acc, s.gyr) for s in probe], [seq_index[s.key] for s in probe]
    )
    label_s = time.perf_counter() - label_started
    n_seq = len(split.probe_sequences)
    fused, n_used = sum_scores_by_sequence(scores, owner, n_seq)
    ranks = ranks_with_missing(fused, y_seq)
    correct = ranks == 1
    cmc = cmc_from_ranks(ranks, n_classes)
    from gaitcnn.labeling import MAX_PROBE_IMAGES

    accuracy_by_n = {}
    for n in range(1, MAX_PROBE_IMAGES + 1):
        fused_n, _ = sum_scores_by_sequence(scores, owner, n_seq, max_windows=n)
        accuracy_by_n[str(n)] = float((ranks_with_missing(fused_n, y_seq) == 1).mean())
    predicted = np.argmax(np.nan_to_num(fused, nan=-np.inf), axis=1)

    rows = [
        {
            "sequence": seq,
            "subject_id": int(chosen[y]),
            "true_class": int(y),
            "predicted_class": int(p),
            "predicted_subject": int(chosen[p]),
            "n_windows": int(n),
            "rank": int(r) if r <= n_classes else "",
            "correct": int(c),
        }
        for seq, y, p, n, r, c in zip(
            split.probe_sequences, y_seq, predicted, n_used, ranks, correct, strict=True
        )
    ]
    _write_csv(out_dir / "sequences.csv", rows)

    label = (
        f"MiniRocket peer ({window_s:g} s windows every {step_s:g} s, "
        f"{clf.features_.n_features_} features, ridge)"
    )
    results = {
        "experiment": "OU-ISIR gait labeling (paper section 4.2)",
        "method": "minirocket",
        "method_label": label,
        "data": data_label,
        "simulated": data_root is None,
        "accuracy": float(correct.mean()) if n_seq else float("nan"),
        "top5": float(cmc[min(5, n_classes) - 1]) if n_seq else float("nan"),
        "cmc": [float(v) for v in cmc],
        "accuracy_by_n": accuracy_by_n,
        "accuracy_by_n_unit": "first N windows of each probe sequence",
        "mean_windows_per_probe_sequence": float(n_used.mean()) if n_seq else 0.0,
        "n_subjects": n_classes,
        "n_subjects_requested": params.n_subjects,
        "n_subjects_available": len(split.pool),
        "n_gallery_walks": len(split.gallery_keys),
        "n_gallery_windows": clf.n_train_windows_,
        "n_probe_sequences": n_seq,
        "n_probe_windows": len(owner),
        # every walk gives >= 1 window (short walks are edge-padded): no undecided sequence
        "n_probe_sequences_without_images": int((n_used == 0).sum()),
        "n_correct": int(correct.sum()),
        "params": clf.n_params,
        "model_size_bytes": clf.model_size_bytes(),
        "n_features": clf.features_.n_features_,
        "n_channels": clf.features_.n_channels_,
        "window_s": window_s,
        "step_s": step_s,
        "num_kernels": num_kernels,
        "ridge_alpha": clf.alpha_,
        "ridge_fit": clf.ridge_fit_,
        "seed": params.seed,
        "final_train_accuracy": clf.train_accuracy_,
        "prepare_time_s": prepare_s,
        "feature_time_s": clf.feature_time_s_,
        "train_time_s": clf.train_time_s_,
        "label_time_s": label_s,
        "wall_time_s": time.perf_counter() - started,
        "peak_memory": _peak_rss_mb(),
        "cpu_count": os.cpu_count(),
        "n_jobs": n_jobs,
        "notes": notes,
    }
    _write_json(out_dir / "results.json", results)
    _write_json(
        out_dir / "config.json",
        {
            "labeling": params.to_dict(),
            "labeling_fields_used": ["n_subjects", "seed", "subset", "sensor"],
            "minirocket": {
                "window_s": window_s,
                "step_s": step_s,
                "rate_hz": prep.rate_hz,
                "max_gap_s": prep.max_gap_s,
                "num_kernels": num_kernels,
                "channels": list(_channel_names(clf.features_.n_channels_)),
                "channel_normalisation": "global per-channel mean/sd of the training windows",
                "short_walks": "edge-padded to one window",
                "ridge_alphas": list(clf.alphas),
                "max_loo_windows": clf.max_loo_windows,
                "sequence_decision": "sum of window decision scores",
                "n_jobs": n_jobs,
            },
            "data": data_label,
            "data_root": str(root),
            "simulation_seed": SIMULATION_SEED if data_root is None else None,
            "subjects": chosen.tolist(),
            "versions": _peer_versions(),
            "command": sys.argv[:],
        },
    )
    return results


# --------------------------------------------------------------------------------------------
# Authentication on McGill: one feature row per cached image
# --------------------------------------------------------------------------------------------


def minirocket_image_features(
    image_set,
    segments: Mapping,
    *,
    window_s: float = DEFAULT_WINDOW_S,
    rate_hz: float | None = None,
    seed: int = 0,
    num_kernels: int = DEFAULT_NUM_KERNELS,
    n_fit_windows: int = DEFAULT_FIT_WINDOWS,
    fit_session: str | None = "day1",
    n_jobs: int = 1,
    dtype=np.float16,
    progress: bool = False,
) -> np.ndarray:
    """MiniRocket features of the raw window starting at each cached image's start sample.

    One row per image, in image order, so the authentication split (by image index) applies
    unchanged; the window of image ``i`` is ``segment[starts[i] : starts[i] + window]`` of the
    resampled segment the image was cut from (edge-padded past the segment's end).

    Parameters
    ----------
    image_set : gaitcnn.cache.ImageSet
        Cached images (only the metadata is used: ``recordings``, ``recording_index``,
        ``starts``, ``sessions``).
    segments : mapping of str to Recording
        Resampled segments keyed like ``image_set.recordings[i]['key']``
        (:func:`gaitcnn.authentication.load_segments`).
    window_s : float, default=1.28
        Window length in seconds (:data:`DEFAULT_WINDOW_S`).
    rate_hz : float, optional
        Sampling rate of the segments; default the image set's ``params['rate_hz']`` (50 Hz).
    seed : int, default=0
        Seed of the fitting sample and of MiniRocket.
    num_kernels : int, default=10_000
        MiniRocket kernels.
    n_fit_windows : int, default=2048
        Windows drawn (seeded, without replacement) to fit the transform.
    fit_session : str or None, default="day1"
        Session the fitting windows are drawn from (all images when None or absent). The fit
        is unsupervised (channel scaling and MiniRocket's biases, no labels); drawing it from
        day 1 keeps the different-day probe out of it entirely. Same-day probe windows can be
        among the fitting windows - label-free, like fitting a scaler on the pooled day.
    n_jobs : int, default=1
        numba threads.
    dtype : numpy dtype, default=np.float16
        Output dtype. Features are proportions k / n with n <= window length, so float16
        (error < 2.5e-4; the step of k / n is >= 7.8e-3 for windows up to 128 samples) halves
        the memory of float32.
    progress : bool, default=False
        Progress bar.

    Returns
    -------
    np.ndarray, shape (n_images, n_features)
        ``n_features`` = ``num_kernels`` rounded down to a multiple of 84.

    Notes
    -----
    The transform is fitted once for all classifiers. Channels are ``ax, ay, az, gx, gy, gz,
    |a|, |w|`` when every segment has a gyroscope, else ``ax, ay, az, |a|`` (McGill phones).
    """
    require_aeon()
    rate = float(rate_hz if rate_hz is not None else image_set.params.get("rate_hz", 50.0))
    width = round(window_s * rate)
    n_images = len(image_set)
    used = sorted({int(r) for r in np.unique(image_set.recording_index)})
    with_gyr = all(segments[image_set.recordings[r]["key"]].gyr is not None for r in used)
    windows = None
    for r in used:
        sel = np.flatnonzero(image_set.recording_index == r)
        segment = segments[image_set.recordings[r]["key"]]
        series = signal_channels(segment.acc, segment.gyr if with_gyr else None)
        w = make_windows(series, width, starts=image_set.starts[sel])
        if windows is None:
            windows = np.zeros((n_images, *w.shape[1:]), dtype=np.float32)
        windows[sel] = w
    if windows is None:
        raise ValueError("the image set has no images")
    candidates = np.arange(n_images)
    if fit_session is not None:
        in_session = np.flatnonzero(image_set.sessions == fit_session)
        if in_session.size:
            candidates = in_session
    rng = np.random.default_rng(seed)
    fit_idx = np.sort(rng.choice(candidates, min(n_fit_windows, candidates.size), replace=False))
    features = MiniRocketFeatures(num_kernels=num_kernels, seed=seed, n_jobs=n_jobs)
    features.fit(windows[fit_idx])
    out = np.empty((n_images, features.n_features_), dtype=dtype)
    for i in range(0, n_images, 8 * CHUNK_WINDOWS):  # bounded float32 working copy
        out[i : i + 8 * CHUNK_WINDOWS] = features.transform(
            windows[i : i + 8 * CHUNK_WINDOWS], progress=progress, desc="minirocket images"
        )
    return out


def ridge_accept_scores(
    train_X: np.ndarray,
    train_y: np.ndarray,
    probe_X: np.ndarray,
    *,
    alphas: Sequence[float] = RIDGE_ALPHAS,
) -> np.ndarray:
    """Accept scores of a genuine-vs-impostor ridge classifier, in (0, 1).

    Features are standardised on ``train_X``; ``RidgeClassifierCV`` is fitted on labels
    1 (genuine) / 0 (impostor); the score is the logistic function of the ridge decision value
    ``d`` (positive = genuine), so ``score > 0.5`` exactly when the ridge says genuine.

    Parameters
    ----------
    train_X : np.ndarray, shape (n_train, n_features)
    train_y : np.ndarray of int, shape (n_train,)
        1 genuine, 0 impostor; both must occur.
    probe_X : np.ndarray, shape (n_probe, n_features)
    alphas : tuple of float, default=RIDGE_ALPHAS

    Returns
    -------
    np.ndarray of float64, shape (n_probe,)

    Notes
    -----
    Ridge regresses targets -1 / +1, so ``d`` mostly lies in [-1.5, 1.5] and the squash is
    nearly linear there: averaging N scores (the N-fusion of the authentication protocol)
    then decides almost exactly like summing the decision values, the rule of the labeling
    peer.
    """
    require_aeon()
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.preprocessing import StandardScaler

    train_y = np.asarray(train_y).astype(np.int64)
    if set(np.unique(train_y).tolist()) != {0, 1}:
        raise ValueError(
            f"train_y must hold both labels 0 (impostor) and 1 (genuine), got {np.unique(train_y)}"
        )
    scaler = StandardScaler().fit(np.asarray(train_X, dtype=np.float64))
    ridge = RidgeClassifierCV(alphas=np.asarray(alphas)).fit(
        scaler.transform(np.asarray(train_X, dtype=np.float64)), train_y
    )
    probe_X = np.asarray(probe_X, dtype=np.float64)
    if probe_X.shape[0] == 0:
        return np.zeros(0)
    d = ridge.decision_function(scaler.transform(probe_X))  # classes_ = [0, 1]: d > 0 -> 1
    return 1.0 / (1.0 + np.exp(-d))
