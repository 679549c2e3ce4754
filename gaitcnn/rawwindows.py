"""Dense raw-signal windows for the raw-window 1-D CNN (beyond the paper, issue 9).

# Paper deviation: Zhao & Zhou 2017 classify AE-GDIs, which are invariant to rotation and scale.
# On a waist-fixed IMU the orientation and amplitude of the signal identify the walker, so the
# raw-window network (:mod:`gaitcnn.models.raw_cnn`) sees the resampled axes themselves. This
# module cuts those windows; it imports numpy only.

Data contract of :func:`gaitcnn.models.raw_cnn.build_raw_cnn`:

1. a walk resampled to 50 Hz (:func:`gaitcnn.resample.resample_recording`);
2. channels ``ax, ay, az, gx, gy, gz, |a|, |w|`` (:func:`raw_channels`; m/s^2 and rad/s), or
   another named set of :data:`CHANNEL_SETS` (orientation-free norms, gravity-aligned
   components: :func:`gravity_channels`);
3. windows of :data:`RAW_WINDOW_SAMPLES` samples, time first: ``(n_windows, 64, 8)``; training
   windows every :data:`RAW_TRAIN_STEP_SAMPLES` samples of each gallery walk, probe windows
   every :data:`RAW_PROBE_STEP_SAMPLES` sample (:func:`dense_windows`);
4. per-channel mean and standard deviation of the **training** windows (:func:`channel_stats`),
   handed to the builder, which stores them in a ``Normalization`` layer: the model takes
   unscaled windows, and the statistics travel with every export;
5. a sequence is labelled by the sum of its windows' log-probabilities
   (:func:`sum_log_probs_by_sequence`).
"""

from __future__ import annotations

import numpy as np

from gaitcnn.constants import TARGET_RATE_HZ

__all__ = [
    "CHANNEL_SETS",
    "GRAVITY_CHANNEL_NAMES",
    "GRAVITY_WINDOW_S",
    "RAW_CHANNEL_NAMES",
    "RAW_PROBE_STEP_SAMPLES",
    "RAW_TRAIN_STEP_SAMPLES",
    "RAW_WINDOW_SAMPLES",
    "channel_names",
    "channel_stats",
    "dense_windows",
    "gravity_channels",
    "gravity_direction",
    "raw_channels",
    "sum_log_probs_by_sequence",
]

#: Window length in samples: 64 at 50 Hz = 1.28 s, longer than one gait cycle and the span of
#: one AE-GDI (N_w = 64) and of one MiniRocket peer window.
RAW_WINDOW_SAMPLES = 64

#: Step between training windows in samples (0.08 s at 50 Hz): ~60 windows per ~6 s gallery
#: walk, so every gait phase is a window start (the data-efficiency problem of the paper preset
#: is ~2.5 images per walk).
RAW_TRAIN_STEP_SAMPLES = 4

#: Step between probe windows in samples: every window of a probe walk votes.
RAW_PROBE_STEP_SAMPLES = 1

#: Channel names of :func:`raw_channels` with a gyroscope (without one: ``ax, ay, az, |a|``).
RAW_CHANNEL_NAMES = ("ax", "ay", "az", "gx", "gy", "gz", "|a|", "|w|")

#: Gravity-aligned channels of :func:`gravity_channels`: vertical acceleration ``a . g``
#: (m/s^2, gravity included), horizontal acceleration magnitude ``|a - (a . g) g|``, rotation
#: rate about the vertical ``w . g`` (rad/s, signed) and horizontal rotation-rate magnitude.
GRAVITY_CHANNEL_NAMES = ("acc_vert", "acc_horiz", "gyr_vert", "gyr_horiz")

#: Named channel sets of :func:`raw_channels` (with a gyroscope; without one the gyroscope
#: channels are left out). ``"axes"``: the sensor axes plus the norms, which carry the
#: sensor's orientation (right for a belt IMU that sits the same way every time).
#: ``"norms"``: ``|a|, |w|`` only, invariant to any rotation of the sensor. ``"gravity"``: the
#: gravity-aligned components plus the norms, invariant to a rotation that is constant over
#: :data:`GRAVITY_WINDOW_S` (a phone placed anew in a pocket) but, unlike the norms, they keep
#: vertical apart from horizontal motion and the sense of turning.
CHANNEL_SETS: dict[str, tuple[str, ...]] = {
    "axes": RAW_CHANNEL_NAMES,
    "norms": ("|a|", "|w|"),
    "gravity": (*GRAVITY_CHANNEL_NAMES, "|a|", "|w|"),
}

#: Length of the centred moving mean of the acceleration that estimates the direction of
#: gravity (:func:`gravity_direction`). The body does not accelerate on average over whole
#: gait cycles, so the mean of the specific force over them is gravity ("up"). 2 s spans about
#: two strides (one stride ~1.1 s at the ~0.9 Hz stride frequency of the data sets, i.e. four
#: steps): the boxcar passes less than ~10 % of the stride-frequency component and ~5 % of the
#: step-frequency one (its sidelobes at 0.9 and 1.8 Hz) even when the window is not a whole
#: number of strides, while a slow change of orientation (turning, a sensor slipping) is
#: followed within a few seconds. An OU-ISIR walk (~5 s) holds only 2-3 such windows.
GRAVITY_WINDOW_S = 2.0


def _check_imu(acc, gyr) -> tuple[np.ndarray, np.ndarray | None]:
    acc = np.asarray(acc, dtype=np.float64)
    if acc.ndim != 2 or acc.shape[1] != 3:
        raise ValueError(f"acc must have shape (n_timepoints, 3), received {acc.shape}")
    if gyr is not None:
        gyr = np.asarray(gyr, dtype=np.float64)
        if gyr.shape != acc.shape:
            raise ValueError(f"gyr must have the shape of acc {acc.shape}, received {gyr.shape}")
    return acc, gyr


def channel_names(kind: str = "axes", *, with_gyro: bool = True) -> tuple[str, ...]:
    """Names of the channels :func:`raw_channels` returns for ``kind``, in order.

    Examples
    --------
    >>> channel_names("gravity", with_gyro=False)
    ('acc_vert', 'acc_horiz', '|a|')
    """
    if kind not in CHANNEL_SETS:
        raise ValueError(f"kind must be one of {tuple(CHANNEL_SETS)}, received kind={kind!r}")
    names = CHANNEL_SETS[kind]
    if with_gyro:
        return names
    return tuple(n for n in names if not (n.startswith("g") or n == "|w|"))  # gx.., gyr_.., |w|


def gravity_direction(
    acc: np.ndarray, *, rate_hz: float = TARGET_RATE_HZ, window_s: float = GRAVITY_WINDOW_S
) -> np.ndarray:
    """Unit vector of gravity ("up") in sensor axes at every sample: a centred moving mean.

    Parameters
    ----------
    acc : np.ndarray, shape (n_timepoints, 3)
        Specific force in m/s^2 (gravity included), uniformly sampled.
    rate_hz : float, default=50.0
        Sampling rate.
    window_s : float, default=2.0
        Length of the moving mean (:data:`GRAVITY_WINDOW_S`). Near the ends of the walk the
        window is cut to the samples that exist (no padding); a walk shorter than the window
        gets the mean of its samples around each point.

    Returns
    -------
    np.ndarray of float64, shape (n_timepoints, 3)
        Unit vectors; a zero vector where the mean acceleration is zero (free fall).

    Examples
    --------
    >>> up = gravity_direction(np.tile([0.0, -9.81, 0.0], (100, 1)))
    >>> up[0].tolist()
    [0.0, -1.0, 0.0]
    """
    acc, _ = _check_imu(acc, None)
    if not (rate_hz > 0 and window_s > 0):
        raise ValueError(f"rate_hz and window_s must be > 0, received {rate_hz!r}, {window_s!r}")
    n = acc.shape[0]
    half = max(1, round(window_s * rate_hz)) // 2
    cumulative = np.vstack([np.zeros((1, 3)), np.cumsum(acc, axis=0)])
    index = np.arange(n)
    lo, hi = np.maximum(index - half, 0), np.minimum(index + half + 1, n)
    mean = (cumulative[hi] - cumulative[lo]) / (hi - lo)[:, None]
    norm = np.linalg.norm(mean, axis=1, keepdims=True)
    return np.divide(mean, norm, out=np.zeros_like(mean), where=norm > 0)


def gravity_channels(
    acc: np.ndarray,
    gyr: np.ndarray | None = None,
    *,
    rate_hz: float = TARGET_RATE_HZ,
    window_s: float = GRAVITY_WINDOW_S,
) -> dict[str, np.ndarray]:
    """Vertical and horizontal components of acceleration and rotation rate.

    With ``g`` the unit gravity direction (:func:`gravity_direction`): ``acc_vert = a . g``,
    ``acc_horiz = |a - (a . g) g|``, ``gyr_vert = w . g``, ``gyr_horiz = |w - (w . g) g|``.
    A rotation of the sensor that is constant over the moving mean turns ``a``, ``w`` and
    ``g`` alike, so these channels do not change (exactly, up to rounding); sensor errors
    that live in the sensor frame (per-axis scale, bias) break the invariance slightly.

    Parameters
    ----------
    acc : np.ndarray, shape (n_timepoints, 3)
        Specific force in m/s^2.
    gyr : np.ndarray, shape (n_timepoints, 3), optional
        Angular velocity in rad/s; without it only the acceleration channels are returned.
    rate_hz : float, default=50.0
    window_s : float, default=2.0
        See :func:`gravity_direction`.

    Returns
    -------
    dict of str to np.ndarray of float64, shape (n_timepoints,)
        Keys of :data:`GRAVITY_CHANNEL_NAMES` (the ``gyr_*`` ones only with ``gyr``).

    Examples
    --------
    >>> acc = np.tile([3.0, 9.81, 0.0], (50, 1))
    >>> out = gravity_channels(acc)
    >>> round(float(out["acc_vert"][0]), 3), round(float(out["acc_horiz"][0]), 3)
    (10.258, 0.0)
    """
    acc, gyr = _check_imu(acc, gyr)
    up = gravity_direction(acc, rate_hz=rate_hz, window_s=window_s)
    out = {}
    for name, vectors in (("acc", acc), ("gyr", gyr)):
        if vectors is None:
            continue
        vertical = np.einsum("ij,ij->i", vectors, up)
        out[f"{name}_vert"] = vertical
        out[f"{name}_horiz"] = np.linalg.norm(vectors - vertical[:, None] * up, axis=1)
    return out


def raw_channels(
    acc: np.ndarray,
    gyr: np.ndarray | None = None,
    *,
    kind: str = "axes",
    rate_hz: float = TARGET_RATE_HZ,
    gravity_window_s: float = GRAVITY_WINDOW_S,
) -> np.ndarray:
    """Stack one named channel set (:data:`CHANNEL_SETS`) of one resampled walk.

    Parameters
    ----------
    acc : np.ndarray, shape (n_timepoints, 3)
        Acceleration in m/s^2.
    gyr : np.ndarray, shape (n_timepoints, 3), optional
        Angular velocity in rad/s; None when the sensor has no gyroscope.
    kind : {"axes", "norms", "gravity"}, default="axes"
        The channel set; ``"axes"`` are the raw-window CNN's and the MiniRocket peer's
        channels.
    rate_hz : float, default=50.0
        Sampling rate (used by ``"gravity"``).
    gravity_window_s : float, default=2.0
        Moving-mean length of the gravity estimate (:data:`GRAVITY_WINDOW_S`).

    Returns
    -------
    np.ndarray of float32, shape (n_timepoints, n_channels)
        Columns named by :func:`channel_names` (``kind``, ``with_gyro=gyr is not None``):
        ``axes`` gives :data:`RAW_CHANNEL_NAMES`, or ``ax, ay, az, |a|`` when ``gyr`` is None.

    Examples
    --------
    >>> raw_channels(np.array([[3.0, 4.0, 0.0]])).tolist()
    [[3.0, 4.0, 0.0, 5.0]]
    >>> raw_channels(np.zeros((5, 3)), np.ones((5, 3))).shape
    (5, 8)
    >>> raw_channels(np.zeros((5, 3)), np.ones((5, 3)), kind="gravity").shape
    (5, 6)
    """
    acc, gyr = _check_imu(acc, gyr)
    names = channel_names(kind, with_gyro=gyr is not None)
    columns = {"|a|": np.linalg.norm(acc, axis=1)}
    if gyr is not None:
        columns["|w|"] = np.linalg.norm(gyr, axis=1)
    if kind == "axes":
        parts = [acc] + ([gyr] if gyr is not None else [])
        parts += [columns[n][:, None] for n in names if n.startswith("|")]
        return np.hstack(parts).astype(np.float32)
    if kind == "gravity":
        columns.update(gravity_channels(acc, gyr, rate_hz=rate_hz, window_s=gravity_window_s))
    return np.column_stack([columns[n] for n in names]).astype(np.float32)


def dense_windows(
    segment: np.ndarray, width: int = RAW_WINDOW_SAMPLES, step: int = RAW_TRAIN_STEP_SAMPLES
) -> tuple[np.ndarray, np.ndarray]:
    """Cut one walk into windows starting every ``step`` samples, time axis first.

    Starts are ``0, step, 2 step, ...`` while a whole window fits; the tail after the last
    window (less than one step) is unused. A walk shorter than ``width`` gives one window,
    edge-padded (its last sample repeated: no artificial step such as gravity dropping to
    zero), so every walk yields at least one window.

    Parameters
    ----------
    segment : np.ndarray, shape (n_timepoints, n_channels)
        One resampled walk, e.g. from :func:`raw_channels`.
    width : int, default=64
        Window length in samples (:data:`RAW_WINDOW_SAMPLES`).
    step : int, default=4
        Step between window starts in samples.

    Returns
    -------
    windows : np.ndarray of float32, shape (n_windows, width, n_channels)
    starts : np.ndarray of int64, shape (n_windows,)
        Start sample of each window in ``segment``.

    Examples
    --------
    >>> w, s = dense_windows(np.zeros((100, 8)), 64, 8)
    >>> w.shape, s.tolist()
    ((5, 64, 8), [0, 8, 16, 24, 32])
    >>> dense_windows(np.ones((10, 2)), 64, 8)[0].shape
    (1, 64, 2)
    """
    segment = np.asarray(segment, dtype=np.float32)
    if segment.ndim != 2 or segment.shape[0] < 1:
        raise ValueError(
            f"segment must have shape (n_timepoints >= 1, n_channels), received {segment.shape}"
        )
    if not (isinstance(width, int | np.integer) and isinstance(step, int | np.integer)):
        raise TypeError(f"width and step must be ints, received {width!r}, {step!r}")
    if width < 1 or step < 1:
        raise ValueError(f"width and step must be >= 1, received {width}, {step}")
    n_timepoints = segment.shape[0]
    if n_timepoints < width:
        segment = np.pad(segment, ((0, width - n_timepoints), (0, 0)), mode="edge")
        starts = np.zeros(1, dtype=np.int64)
    else:
        starts = np.arange(0, n_timepoints - width + 1, step, dtype=np.int64)
    index = starts[:, None] + np.arange(width)[None, :]
    return np.ascontiguousarray(segment[index]), starts


def channel_stats(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation over all windows and time steps.

    One global pair per channel, not per window: per-window z-normalisation would erase the
    amplitude differences that identify a walker. Compute it on the training windows only and
    pass it to :func:`gaitcnn.models.raw_cnn.build_raw_cnn`.

    Parameters
    ----------
    windows : np.ndarray, shape (n_windows, width, n_channels)

    Returns
    -------
    mean, sd : np.ndarray of float64, shape (n_channels,)
        ``sd`` of a constant channel is 1 (so scaling leaves it centred, not infinite).

    Examples
    --------
    >>> mean, sd = channel_stats(np.array([[[1.0, 5.0], [3.0, 5.0]]]))
    >>> mean.tolist(), sd.tolist()
    ([2.0, 5.0], [1.0, 1.0])
    """
    windows = np.asarray(windows)
    if windows.ndim != 3 or windows.shape[0] == 0:
        raise ValueError(
            f"windows must have shape (n_windows >= 1, width, n_channels), received {windows.shape}"
        )
    flat = windows.reshape(-1, windows.shape[-1]).astype(np.float64)
    mean = flat.mean(axis=0)
    sd = flat.std(axis=0)
    sd[sd == 0] = 1.0
    return mean, sd


def sum_log_probs_by_sequence(
    probabilities: np.ndarray, owner: np.ndarray, n_sequences: int, *, floor: float = 1e-12
) -> np.ndarray:
    """Fuse window softmax outputs per sequence by summing their log-probabilities.

    Parameters
    ----------
    probabilities : np.ndarray, shape (n_windows, n_classes)
        Softmax output of each window.
    owner : np.ndarray of int, shape (n_windows,)
        Sequence index (0 .. n_sequences - 1) of each window.
    n_sequences : int
    floor : float, default=1e-12
        Probabilities are clipped to at least ``floor`` before the logarithm.

    Returns
    -------
    np.ndarray of float64, shape (n_sequences, n_classes)
        Summed log-probabilities; NaN rows for sequences without windows. The label of a
        sequence is the argmax of its row.

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]])
    >>> np.argmax(sum_log_probs_by_sequence(p, np.array([0, 0, 1]), 2), axis=1).tolist()
    [0, 1]
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    owner = np.asarray(owner, dtype=np.int64)
    if probabilities.ndim != 2 or owner.shape != probabilities.shape[:1]:
        raise ValueError(
            f"probabilities (n_windows, n_classes) and owner (n_windows,) disagree: "
            f"{probabilities.shape}, {owner.shape}"
        )
    fused = np.zeros((n_sequences, probabilities.shape[1]))
    np.add.at(fused, owner, np.log(np.clip(probabilities, floor, 1.0)))
    fused[np.bincount(owner, minlength=n_sequences) == 0] = np.nan
    return fused
