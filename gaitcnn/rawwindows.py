"""Dense raw-signal windows for the raw-window 1-D CNN (beyond the paper, issue 9).

# Paper deviation: Zhao & Zhou 2017 classify AE-GDIs, which are invariant to rotation and scale.
# On a waist-fixed IMU the orientation and amplitude of the signal identify the walker, so the
# raw-window network (:mod:`gaitcnn.models.raw_cnn`) sees the resampled axes themselves. This
# module cuts those windows; it imports numpy only.

Data contract of :func:`gaitcnn.models.raw_cnn.build_raw_cnn`:

1. a walk resampled to 50 Hz (:func:`gaitcnn.resample.resample_recording`);
2. channels ``ax, ay, az, gx, gy, gz, |a|, |w|`` (:func:`raw_channels`; m/s^2 and rad/s);
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

__all__ = [
    "RAW_CHANNEL_NAMES",
    "RAW_PROBE_STEP_SAMPLES",
    "RAW_TRAIN_STEP_SAMPLES",
    "RAW_WINDOW_SAMPLES",
    "channel_stats",
    "dense_windows",
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


def raw_channels(acc: np.ndarray, gyr: np.ndarray | None = None) -> np.ndarray:
    """Stack the axes and the orientation-free magnitudes of one resampled walk.

    Parameters
    ----------
    acc : np.ndarray, shape (n_timepoints, 3)
        Acceleration in m/s^2.
    gyr : np.ndarray, shape (n_timepoints, 3), optional
        Angular velocity in rad/s; None when the sensor has no gyroscope.

    Returns
    -------
    np.ndarray of float32, shape (n_timepoints, 8) or (n_timepoints, 4)
        :data:`RAW_CHANNEL_NAMES`, or ``ax, ay, az, |a|`` when ``gyr`` is None. The same
        channels, in the same order, as the MiniRocket peer.

    Examples
    --------
    >>> raw_channels(np.array([[3.0, 4.0, 0.0]])).tolist()
    [[3.0, 4.0, 0.0, 5.0]]
    >>> raw_channels(np.zeros((5, 3)), np.ones((5, 3))).shape
    (5, 8)
    """
    acc = np.asarray(acc, dtype=np.float64)
    if acc.ndim != 2 or acc.shape[1] != 3:
        raise ValueError(f"acc must have shape (n_timepoints, 3), received {acc.shape}")
    parts = [acc]
    if gyr is not None:
        gyr = np.asarray(gyr, dtype=np.float64)
        if gyr.shape != acc.shape:
            raise ValueError(f"gyr must have the shape of acc {acc.shape}, received {gyr.shape}")
        parts.append(gyr)
    parts.append(np.linalg.norm(acc, axis=1, keepdims=True))
    if gyr is not None:
        parts.append(np.linalg.norm(gyr, axis=1, keepdims=True))
    return np.hstack(parts).astype(np.float32)


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
