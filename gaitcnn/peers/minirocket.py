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
from collections.abc import Mapping, Sequence

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
from gaitcnn.rawwindows import CHANNEL_SETS, column_labels, raw_channels

__all__ = [
    "AEON_MISSING_MESSAGE",
    "CHANNEL_NAMES",
    "DEFAULT_FIT_WINDOWS",
    "DEFAULT_NUM_KERNELS",
    "DEFAULT_STEP_S",
    "DEFAULT_WINDOW_S",
    "MAX_LOO_WINDOWS",
    "RIDGE_ALPHAS",
    "MiniRocketClassifier",
    "MiniRocketFeatures",
    "PeerDependencyError",
    "image_windows",
    "make_windows",
    "minirocket_image_features",
    "peer_image_features",
    "require_aeon",
    "ridge_accept_scores",
    "signal_channels",
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
CHANNEL_NAMES = column_labels(CHANNEL_SETS["axes"])


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
        from gaitcnn.fusion import fuse

        scores, owner = self.sequence_window_scores(series_list)
        fused = fuse(scores, owner, len(series_list), max_items=max_windows)
        return fused.scores * fused.n_used[:, None]  # the sum: mean times count

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
# Authentication on McGill: one feature row per cached image
# --------------------------------------------------------------------------------------------


def peer_image_features(
    peer: str,
    image_set,
    segments: Mapping,
    *,
    window_s: float = DEFAULT_WINDOW_S,
    rate_hz: float | None = None,
    seed: int = 0,
    params: Mapping | None = None,
    n_fit_windows: int = DEFAULT_FIT_WINDOWS,
    fit_session: str | None = "day1",
    dtype=np.float16,
    progress: bool = False,
) -> np.ndarray:
    """Features of a peer's transform for the raw window starting at each cached image.

    One row per image, in image order, so the authentication split (by image index) applies
    unchanged; the window of image ``i`` is ``segment[starts[i] : starts[i] + window]`` of the
    resampled segment the image was cut from (edge-padded past the segment's end).

    Parameters
    ----------
    peer : str
        A key of :data:`gaitcnn.peers.PEERS` (``"minirocket"``, ``"multirocket"``, ``"rdst"``).
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
        Seed of the fitting sample and of the transform.
    params : mapping, optional
        Keyword arguments of the peer's feature transform (e.g. ``num_kernels``).
    n_fit_windows : int, default=2048
        Windows drawn (seeded, without replacement) to fit the transform.
    fit_session : str or None, default="day1"
        Session the fitting windows are drawn from (all images when None or absent). Drawing
        them from day 1 keeps the different-day probe out of the fit entirely. A transform that
        reads labels (RDST) is fitted with the subjects as labels.
    dtype : numpy dtype, default=np.float16
        Output dtype (halves the memory of float32; the ridge standardises the features).
    progress : bool, default=False
        Progress bar.

    Returns
    -------
    np.ndarray, shape (n_images, n_features)

    Notes
    -----
    The transform is fitted once for all classifiers. Channels are ``ax, ay, az, gx, gy, gz,
    |a|, |w|`` when every segment has a gyroscope, else ``ax, ay, az, |a|`` (McGill phones).
    """
    from gaitcnn.peers._registry import PEERS

    require_aeon()
    rate = float(rate_hz if rate_hz is not None else image_set.params.get("rate_hz", 50.0))
    windows = image_windows(image_set, segments, round(window_s * rate))
    candidates = np.arange(len(image_set))
    if fit_session is not None:
        in_session = np.flatnonzero(image_set.sessions == fit_session)
        if in_session.size:
            candidates = in_session
    rng = np.random.default_rng(seed)
    fit_idx = np.sort(rng.choice(candidates, min(n_fit_windows, candidates.size), replace=False))
    features = PEERS[peer](seed=seed, **dict(params or {}))._make_features()
    features.fit(windows[fit_idx], image_set.subject_ids[fit_idx])
    n_features = features.transform(windows[:1]).shape[1]
    out = np.empty((len(image_set), n_features), dtype=dtype)
    for i in range(0, len(image_set), 8 * CHUNK_WINDOWS):  # bounded float32 working copy
        out[i : i + 8 * CHUNK_WINDOWS] = features.transform(
            windows[i : i + 8 * CHUNK_WINDOWS], progress=progress, desc=f"{peer} images"
        )
    return out


def image_windows(
    image_set, segments: Mapping, width: int, *, channels=None, rate_hz: float = TARGET_RATE_HZ
) -> np.ndarray:
    """The raw window starting at every cached image's start: ``(n_images, n_columns, width)``.

    The one cutter of raw windows at image starts (the peers' features and the authentication
    protocol's raw-window CNN): the window of image ``i`` is ``series[starts[i] : starts[i] +
    width]`` of the resampled segment the image was cut from (edge-padded past its end,
    :func:`make_windows`), so it covers the time columns of the image itself.

    Parameters
    ----------
    image_set : gaitcnn.cache.ImageSet
        Cached images (only ``recordings``, ``recording_index`` and ``starts`` are used).
    segments : mapping of str to Recording
        Resampled segments keyed like ``image_set.recordings[i]['key']``.
    width : int
        Window length in samples.
    channels : sequence of str, optional
        Front-end channel names (:func:`gaitcnn.rawwindows.raw_channels`). Default: the axes
        and norms (:func:`signal_channels`), without the gyroscope when a segment has none.
    rate_hz : float, default=50.0
        Sampling rate of the segments (for the gravity estimate of gravity-aligned channels).

    Returns
    -------
    np.ndarray of float32, shape (n_images, n_columns, width)
        aeon's layout; :func:`gaitcnn.rawwindows.column_labels` names the columns.
    """
    used = sorted({int(r) for r in np.unique(image_set.recording_index)})
    if not used:
        raise ValueError("the image set has no images")
    with_gyr = all(segments[image_set.recordings[r]["key"]].gyr is not None for r in used)
    windows = None
    for r in used:
        sel = np.flatnonzero(image_set.recording_index == r)
        segment = segments[image_set.recordings[r]["key"]]
        if channels is None:
            series = signal_channels(segment.acc, segment.gyr if with_gyr else None)
        else:
            series = raw_channels(segment.acc, segment.gyr, channels=channels, rate_hz=rate_hz)
        w = make_windows(series, width, starts=image_set.starts[sel])
        if windows is None:
            windows = np.zeros((len(image_set), *w.shape[1:]), dtype=np.float32)
        windows[sel] = w
    return windows


def minirocket_image_features(image_set, segments: Mapping, *, num_kernels: int = 10_000,
                              n_jobs: int = 1, **kwargs) -> np.ndarray:  # fmt: skip
    """:func:`peer_image_features` of the MiniRocket peer (``num_kernels``, ``n_jobs``)."""
    params = {"num_kernels": num_kernels, "n_jobs": n_jobs}
    return peer_image_features("minirocket", image_set, segments, params=params, **kwargs)


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
