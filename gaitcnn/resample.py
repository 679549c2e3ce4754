"""Stage 2: cubic-spline resampling of recordings to a uniform rate (50 Hz in the paper)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
from scipy.interpolate import CubicSpline

from gaitcnn.constants import TARGET_RATE_HZ
from gaitcnn.errors import GaitDataError
from gaitcnn.io._recording import Recording

__all__ = [
    "DEFAULT_MAX_GAP_S",
    "DEFAULT_MIN_DURATION_S",
    "MIN_SEGMENT_SAMPLES",
    "REPAIR_WARN_FRACTION",
    "resample_recording",
    "resample_recordings",
    "resample_to_rate",
]

logger = logging.getLogger(__name__)

# Reconstruction: the paper bridges nothing explicitly; a spline across a long logging gap
# would invent a walk, so gaps longer than this split a recording (RECONSTRUCTION 1.1 [R]).
#: Longest gap between consecutive samples (s) bridged by the spline; longer gaps split.
DEFAULT_MAX_GAP_S = 0.5

# Reconstruction: a piece shorter than one gait cycle (~1.07 s in the paper) cannot hold a
# cycle, so it is not worth resampling.
#: Shortest segment (s, first to last sample) kept by :func:`resample_recording`.
DEFAULT_MIN_DURATION_S = 1.0

# Android logs repeat or reorder a few timestamps (~0.2 % in the simulator, which mimics them);
# those are normal and logged at debug level. Above 1 % the repair is reported as a warning.
#: Share of samples sorted or dropped by the timestamp clean-up above which a warning is logged.
REPAIR_WARN_FRACTION = 0.01

#: Fewest distinct samples of a segment: a not-a-knot cubic spline needs four to be cubic.
MIN_SEGMENT_SAMPLES = 4

# Relative tolerance when counting grid points, so that a grid point landing on the last sample
# up to rounding (e.g. 0.1 * 50 = 5.000000000000001) is kept rather than lost.
_GRID_EPS = 1e-9


def _check_rate(rate_hz) -> float:
    rate = float(rate_hz)
    if not np.isfinite(rate) or rate <= 0:
        raise ValueError(f"rate_hz must be a finite positive number, received rate_hz={rate_hz!r}")
    return rate


def resample_to_rate(timestamps_s, values, *, rate_hz: float = TARGET_RATE_HZ):
    """Resample an irregularly sampled signal onto a uniform grid with a cubic spline.

    Parameters
    ----------
    timestamps_s : np.ndarray, shape (n_timepoints,)
        Sample times in seconds. Must be finite and strictly increasing, at least two.
    values : np.ndarray, shape (n_timepoints,) or (n_timepoints, n_channels)
        Sensor values, finite; units are passed through unchanged. All channels are
        interpolated in one vectorised spline.
    rate_hz : float, default=50.0
        Target sampling rate. The paper resamples all data sets to 50 Hz.

    Returns
    -------
    new_timestamps_s : np.ndarray, shape (n_new,)
        ``timestamps_s[0] + k / rate_hz`` for k = 0 .. n_new - 1, the last not after
        ``timestamps_s[-1]``.
    new_values : np.ndarray, shape (n_new,) or (n_new, n_channels)
        The spline evaluated on the new grid, float64, same number of dimensions as ``values``.

    Raises
    ------
    ValueError
        If ``timestamps_s`` is not 1-D, finite and strictly increasing with at least two values,
        if ``values`` does not have ``n_timepoints`` rows or is not finite, or if ``rate_hz``
        is not a finite positive number. The message names the argument.

    Notes
    -----
    [P] Cubic-spline interpolation on the signal's own timestamps, then sampling at 50 Hz; no
    filtering (Zhao & Zhou 2017, section 4.1). The spline is scipy's
    :class:`~scipy.interpolate.CubicSpline` with not-a-knot end conditions (a reconstruction:
    the paper does not name the end conditions); it reproduces any cubic polynomial exactly.
    The spline runs on times relative to the first sample, so epoch timestamps lose no
    precision.

    Examples
    --------
    >>> t = np.array([0.0, 0.013, 0.05, 0.071, 0.1])
    >>> new_t, new_x = resample_to_rate(t, t**3 - t, rate_hz=50.0)
    >>> new_t
    array([0.  , 0.02, 0.04, 0.06, 0.08, 0.1 ])
    >>> np.allclose(new_x, new_t**3 - new_t)
    True
    """
    rate = _check_rate(rate_hz)
    t = np.asarray(timestamps_s, dtype=np.float64)
    x = np.asarray(values, dtype=np.float64)
    if t.ndim != 1 or t.size < 2:
        raise ValueError(
            f"timestamps_s must be 1-D with at least 2 values, received shape {t.shape}"
        )
    if not np.isfinite(t).all():
        raise ValueError("timestamps_s must be finite, received NaN or inf")
    steps = np.diff(t)
    if (steps <= 0).any():
        first = int(np.flatnonzero(steps <= 0)[0])
        raise ValueError(
            "timestamps_s must be strictly increasing, received "
            f"timestamps_s[{first}]={t[first]!r} then timestamps_s[{first + 1}]={t[first + 1]!r}"
        )
    if x.ndim not in (1, 2) or x.shape[0] != t.size:
        raise ValueError(
            f"values must have shape ({t.size},) or ({t.size}, n_channels), "
            f"received shape {x.shape}"
        )
    if not np.isfinite(x).all():
        raise ValueError("values must be finite, received NaN or inf")
    relative_t = t - t[0]
    n_new = int(np.floor(relative_t[-1] * rate * (1 + _GRID_EPS))) + 1
    relative_new_t = np.arange(n_new) / rate
    # Reconstruction: not-a-knot end conditions (scipy's and MATLAB's default); the paper says
    # only "cubic spline".
    spline = CubicSpline(relative_t, x, axis=0, bc_type="not-a-knot", extrapolate=True)
    return t[0] + relative_new_t, spline(relative_new_t)


def _clean_timestamps(t: np.ndarray, source: str) -> tuple[np.ndarray, int, int]:
    """Return the stable sort order with duplicates removed, and the counts of each fix."""
    order = np.argsort(t, kind="stable")
    n_unsorted = int((np.diff(t) < 0).sum())
    sorted_t = t[order]
    keep = np.ones(t.size, dtype=bool)
    # Reconstruction: duplicate timestamps keep the first sample in file order (RECONSTRUCTION 1.1).
    keep[1:] = np.diff(sorted_t) > 0
    n_duplicates = int(t.size - keep.sum())
    if n_unsorted + n_duplicates > REPAIR_WARN_FRACTION * t.size:
        logger.warning(
            "%s: %d out-of-order steps sorted, %d duplicate timestamps dropped (kept the first): "
            "more than %g%% of the samples, a broken logger?",
            source,
            n_unsorted,
            n_duplicates,
            100 * REPAIR_WARN_FRACTION,
        )
    elif n_unsorted or n_duplicates:
        logger.debug(
            "%s: %d out-of-order steps sorted, %d duplicate timestamps dropped (kept the first)",
            source,
            n_unsorted,
            n_duplicates,
        )
    return order[keep], n_unsorted, n_duplicates


def resample_recording(
    recording: Recording,
    *,
    rate_hz: float = TARGET_RATE_HZ,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    min_duration_s: float = DEFAULT_MIN_DURATION_S,
) -> list[Recording]:
    """Resample one recording to a uniform rate, splitting it at long gaps.

    Parameters
    ----------
    recording : Recording
        Raw recording; its timestamps may be irregular, unsorted or duplicated.
    rate_hz : float, default=50.0
        Target sampling rate in Hz [paper: 50 Hz].
    max_gap_s : float, default=0.5
        Gaps between consecutive (sorted, distinct) samples longer than this split the
        recording into segments instead of being bridged by the spline. ``np.inf`` disables
        splitting.
    min_duration_s : float, default=1.0
        Segments shorter than this (first to last sample), or with fewer than 4 distinct
        samples, are dropped with a warning.

    Returns
    -------
    list of Recording
        One recording per kept segment, in time order, each sampled at exactly ``rate_hz``
        from the segment's first timestamp (``timestamps_s[0] + k / rate_hz``), with
        ``acc`` (and ``gyr``, if present) interpolated by one cubic spline over all channels.
        Other fields are copied; when the recording was split, ``walk`` gets the 1-based
        segment number, ``"day1#1"``, ``"day1#2"``, ... (numbered before dropping short ones).

    Raises
    ------
    ValueError
        If ``rate_hz``, ``max_gap_s`` or ``min_duration_s`` is invalid (names the argument).
    GaitDataError
        If the recording has non-finite timestamps or values, or yields no segment long enough
        to resample (names the recording's source).

    See Also
    --------
    resample_to_rate : the spline on one clean segment.

    Notes
    -----
    [P] Cubic spline on the recording's own timestamps, evaluated at 50 Hz, no filtering and no
    stretching of cycles (Zhao & Zhou 2017; RECONSTRUCTION 1.1). [R] Samples are sorted by time
    (stable), duplicate timestamps keep the first sample, and gaps longer than ``max_gap_s``
    split the recording.

    Examples
    --------
    >>> t = np.r_[np.arange(0, 2, 0.03), np.arange(3, 5, 0.03)]  # a 1 s gap at 2 s
    >>> acc = np.column_stack([np.sin(t), np.cos(t), np.full_like(t, 9.8)])
    >>> rec = Recording(subject_id=1, session="day1", walk="day1", timestamps_s=t, acc=acc)
    >>> parts = resample_recording(rec, rate_hz=50.0)
    >>> [(p.walk, p.n_timepoints) for p in parts]
    [('day1#1', 100), ('day1#2', 100)]
    >>> bool(np.allclose(np.diff(parts[1].timestamps_s), 0.02))
    True
    """
    rate = _check_rate(rate_hz)
    max_gap = float(max_gap_s)
    if np.isnan(max_gap) or max_gap <= 0:
        raise ValueError(f"max_gap_s must be positive (or inf), received max_gap_s={max_gap_s!r}")
    min_duration = float(min_duration_s)
    if not np.isfinite(min_duration) or min_duration < 0:
        raise ValueError(
            f"min_duration_s must be finite and non-negative, received min_duration_s="
            f"{min_duration_s!r}"
        )
    source = recording.source or recording.key
    t = recording.timestamps_s
    channels = [recording.acc] if recording.gyr is None else [recording.acc, recording.gyr]
    values = np.hstack(channels)  # (n_timepoints, 3 or 6): one spline for all channels
    if not np.isfinite(t).all():
        bad = int(np.flatnonzero(~np.isfinite(t))[0])
        raise GaitDataError(f"timestamp {bad} is not finite ({t[bad]!r})", path=source)
    if not np.isfinite(values).all():
        bad = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
        raise GaitDataError(f"sample {bad} has a non-finite value", path=source)

    keep, _, _ = _clean_timestamps(t, source)
    t = t[keep]
    values = values[keep]
    # Reconstruction: split at gaps longer than max_gap_s rather than bridge them.
    cuts = np.flatnonzero(np.diff(t) > max_gap) + 1
    bounds = list(zip(np.r_[0, cuts], np.r_[cuts, t.size], strict=True))
    is_split = len(bounds) > 1
    if is_split:
        logger.debug(
            "%s: %d gaps > %g s, split into %d segments", source, cuts.size, max_gap, len(bounds)
        )

    segments = []
    for number, (start, stop) in enumerate(bounds, start=1):
        seg_t = t[start:stop]
        duration_s = float(seg_t[-1] - seg_t[0])
        if seg_t.size < MIN_SEGMENT_SAMPLES or duration_s < min_duration:
            logger.warning(
                "%s: dropped segment %d (%.3f-%.3f s): %d samples over %.3f s, need at least "
                "%d samples and min_duration_s=%g",
                source,
                number,
                seg_t[0],
                seg_t[-1],
                seg_t.size,
                duration_s,
                MIN_SEGMENT_SAMPLES,
                min_duration,
            )
            continue
        new_t, new_values = resample_to_rate(seg_t, values[start:stop], rate_hz=rate)
        segments.append(
            recording.replace(
                timestamps_s=new_t,
                acc=new_values[:, 0:3],
                gyr=None if recording.gyr is None else new_values[:, 3:6],
                walk=f"{recording.walk}#{number}" if is_split else recording.walk,
            )
        )
    if not segments:
        raise GaitDataError(
            f"nothing to resample: {len(bounds)} segment(s) after splitting at gaps > "
            f"{max_gap:g} s, none with at least {MIN_SEGMENT_SAMPLES} distinct samples and "
            f"min_duration_s={min_duration:g} (recording has {recording.n_timepoints} samples "
            f"over {recording.duration_s:.3f} s)",
            path=source,
        )
    return segments


def resample_recordings(
    recordings: Iterable[Recording],
    *,
    rate_hz: float = TARGET_RATE_HZ,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    min_duration_s: float = DEFAULT_MIN_DURATION_S,
) -> list[Recording]:
    """Resample many recordings with :func:`resample_recording`; segments are concatenated.

    Parameters
    ----------
    recordings : iterable of Recording
        Raw recordings.
    rate_hz : float, default=50.0
        Target sampling rate in Hz.
    max_gap_s : float, default=0.5
        Longest gap bridged by the spline; longer gaps split a recording.
    min_duration_s : float, default=1.0
        Shortest segment kept.

    Returns
    -------
    list of Recording
        All kept segments, in input order.

    Raises
    ------
    GaitDataError
        If any recording yields no segment (see :func:`resample_recording`).
    """
    out: list[Recording] = []
    for recording in recordings:
        out.extend(
            resample_recording(
                recording, rate_hz=rate_hz, max_gap_s=max_gap_s, min_duration_s=min_duration_s
            )
        )
    return out
