"""Raw-signal channels and their statistics for the raw-window networks (beyond the paper).

# Paper deviation: Zhao & Zhou 2017 classify AE-GDIs, which are invariant to rotation and scale.
# On a waist-fixed IMU the orientation and amplitude of the signal identify the walker, so the
# raw-window network (:mod:`gaitcnn.models.raw_cnn`) and the peers read the resampled axes
# themselves. numpy only.

Data contract of :func:`gaitcnn.models.raw_cnn.build_raw_cnn` (the improved preset):

1. a walk resampled to 50 Hz (:func:`gaitcnn.resample.resample_recording`);
2. channels ``ax, ay, az, gx, gy, gz, |a|, |w|`` (m/s^2 and rad/s);
3. windows of :data:`RAW_WINDOW_SAMPLES` samples every ``dense_step`` samples, cut by the front
   end (:func:`gaitcnn.prepare.images_for_recording` with ``representation="raw"``) and cached
   as ``(n_windows, 1, 64, n_channels)``;
4. per-channel mean and standard deviation of the **training** windows (:func:`channel_stats`),
   stored by the builder in a ``Normalization`` layer: the model takes unscaled windows, and
   the statistics travel with every export;
5. a walk is labelled by the model's fusion of its windows (:mod:`gaitcnn.fusion`).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "RAW_CHANNEL_NAMES",
    "RAW_WINDOW_SAMPLES",
    "channel_stats",
    "raw_channels",
]

#: Window length in samples: 64 at 50 Hz = 1.28 s, longer than one gait cycle and the span of
#: one AE-GDI (N_w = 64) and of one MiniRocket peer window.
RAW_WINDOW_SAMPLES = 64

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


def channel_stats(windows) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation over all windows and time steps.

    One global pair per channel, not per window: per-window z-normalisation would erase the
    amplitude differences that identify a walker. Compute it on the training windows only and
    pass it to :func:`gaitcnn.models.raw_cnn.build_raw_cnn`.

    Parameters
    ----------
    windows : np.ndarray, shape (n_windows, ..., n_channels), or an iterable of such arrays
        The training windows (channels last), or chunks of them (summed in float64, so the
        windows need not fit in memory at once).

    Returns
    -------
    mean, sd : np.ndarray of float64, shape (n_channels,)
        ``sd`` of a constant channel is 1 (so scaling leaves it centred, not infinite).

    Examples
    --------
    >>> mean, sd = channel_stats(np.array([[[1.0, 5.0], [3.0, 5.0]]]))
    >>> mean.tolist(), sd.tolist()
    ([2.0, 5.0], [1.0, 1.0])
    >>> chunks = [np.array([[[1.0, 5.0]]]), np.array([[[3.0, 5.0]]])]
    >>> channel_stats(chunks)[0].tolist()
    [2.0, 5.0]
    """
    chunks = [windows] if isinstance(windows, np.ndarray) else windows
    total = total_sq = None
    count = 0
    for chunk in chunks:
        chunk = np.asarray(chunk)
        if chunk.ndim < 2:
            raise ValueError(f"windows must have a channel axis, received shape {chunk.shape}")
        flat = chunk.reshape(-1, chunk.shape[-1]).astype(np.float64)
        if total is None:
            total, total_sq = np.zeros(flat.shape[1]), np.zeros(flat.shape[1])
        total += flat.sum(axis=0)
        total_sq += (flat * flat).sum(axis=0)
        count += flat.shape[0]
    if not count:
        raise ValueError("windows must hold at least one window, received none")
    mean = total / count
    sd = np.sqrt(np.maximum(total_sq / count - mean * mean, 0.0))
    sd[sd <= 1e-12 * np.maximum(1.0, np.abs(mean))] = 1.0
    return mean, sd
