"""Stage 4: Angle Embedded Gait Dynamic Images (AE-GDI) and Gait Dynamic Images (GDI)."""

from __future__ import annotations

import numpy as np

from gaitcnn.constants import IMAGE_HEIGHT, IMAGE_WIDTH

__all__ = [
    "EDGE_MODES",
    "ae_gdi",
    "dense_starts",
    "gdi",
    "magnitude_image",
    "required_margins",
    "stack_channels",
    "valid_start_mask",
    "valid_starts",
]

#: Edge policies. "strict" (paper preset): every pixel's samples lie inside the recording.
#: "pad": only the image's time columns must fit; pixels whose delayed sample falls outside
#: the recording are 0.
EDGE_MODES = ("strict", "pad")

# Starts are processed in chunks of this many images so that temporaries stay bounded
# (~100 MB peak for the default 32 x 64 images) however long the recording is.
_CHUNK_IMAGES = 1024


def required_margins(width: int = IMAGE_WIDTH, height: int = IMAGE_HEIGHT, edge: str = "strict"):
    """Return the samples an image needs before its start and after its last column.

    Parameters
    ----------
    width : int, default=64
        Image width N_w in samples (time columns).
    height : int, default=32
        Image height N_h: the number of delays m = 1..height.
    edge : {"strict", "pad"}, default="strict"
        Edge policy, see :func:`ae_gdi`.

    Returns
    -------
    before_samples : int
        Samples needed before the start h: ``height`` (strict) or 0 (pad).
    after_samples : int
        Samples needed from h on: ``width + height`` (strict) or ``width`` (pad), so a start is
        valid when ``before_samples <= h <= n_samples - after_samples``.

    Examples
    --------
    >>> required_margins()
    (32, 96)
    >>> required_margins(edge="pad")
    (0, 64)
    """
    _check_geometry(width, height, edge)
    if edge == "strict":
        # Reconstruction: I(j, i) uses a(t - m) .. a(t + m) with t = h + i, i < width, m <= height,
        # so the image needs samples h - height .. h + width - 1 + height (RECONSTRUCTION 1.4).
        return height, width + height
    return 0, width


def valid_start_mask(
    starts,
    n_samples: int,
    *,
    width: int = IMAGE_WIDTH,
    height: int = IMAGE_HEIGHT,
    edge: str = "strict",
) -> np.ndarray:
    """Return which cycle starts can produce an image under the edge policy.

    Parameters
    ----------
    starts : array_like of int, shape (n_starts,)
        Cycle start indices h(k) in samples.
    n_samples : int
        Length of the recording in samples.
    width, height : int
        Image size (time columns, delays).
    edge : {"strict", "pad"}, default="strict"
        Edge policy, see :func:`ae_gdi`.

    Returns
    -------
    mask : np.ndarray of bool, shape (n_starts,)
        True where the start is usable. ``(~mask).sum()`` is the number of skipped starts.

    Examples
    --------
    >>> valid_start_mask([0, 32, 64, 104, 105], 200)
    array([False,  True,  True,  True, False])
    """
    starts_arr = _as_starts(starts)
    before, after = required_margins(width, height, edge)
    return (starts_arr >= before) & (starts_arr <= int(n_samples) - after)


def valid_starts(
    starts,
    n_samples: int,
    *,
    width: int = IMAGE_WIDTH,
    height: int = IMAGE_HEIGHT,
    edge: str = "strict",
    return_n_skipped: bool = False,
):
    """Keep the cycle starts that have the margins an image needs.

    Parameters
    ----------
    starts : array_like of int, shape (n_starts,)
        Cycle start indices h(k) in samples.
    n_samples : int
        Length of the recording in samples.
    width, height : int
        Image size (time columns, delays).
    edge : {"strict", "pad"}, default="strict"
        Edge policy, see :func:`ae_gdi`.
    return_n_skipped : bool, default=False
        Also return how many starts were dropped.

    Returns
    -------
    kept : np.ndarray of int64, shape (n_kept,)
        The usable starts, in their original order.
    n_skipped : int
        Only when ``return_n_skipped``: ``n_starts - n_kept``.

    Examples
    --------
    >>> valid_starts([10, 40, 90, 120], 200, return_n_skipped=True)
    (array([40, 90]), 2)
    >>> valid_starts([10, 40, 90, 120], 200, edge="pad")
    array([ 10,  40,  90, 120])
    """
    starts_arr = _as_starts(starts)
    mask = valid_start_mask(starts_arr, n_samples, width=width, height=height, edge=edge)
    kept = starts_arr[mask]
    if return_n_skipped:
        return kept, int(starts_arr.size - kept.size)
    return kept


def ae_gdi(
    series,
    starts,
    width: int = IMAGE_WIDTH,
    height: int = IMAGE_HEIGHT,
    edge: str = "strict",
) -> np.ndarray:
    """Build one Angle Embedded Gait Dynamic Image per cycle start.

    Pixel ``I[k, j - 1, i]`` is the angle at vertex a(t) between the vectors a(t)->a(t+m)
    and a(t)->a(t-m), with delay m = j = 1..height and time t = starts[k] + i,
    i = 0..width-1, divided by pi. The angle is invariant to rotation, translation and
    uniform positive scaling of the 3-axis series (Zhao & Zhou 2017, Sec. 3.2).

    Parameters
    ----------
    series : array_like of float, shape (n_timepoints, 3)
        A 3-axis series (acceleration in m/s^2 or angular velocity in rad/s; the angles
        do not depend on the unit).
    starts : array_like of int, shape (n_images,)
        Cycle start indices h(k) in samples (need not be sorted).
    width : int, default=64
        Image width N_w in samples (1.28 s at 50 Hz, longer than one gait cycle) [paper].
    height : int, default=32
        Image height N_h, the largest delay [paper].
    edge : {"strict", "pad"}, default="strict"
        "strict" (paper preset): each start needs samples ``h - height .. h + width - 1 +
        height``; otherwise ValueError (filter first with :func:`valid_starts`).
        "pad": each start needs only its ``width`` columns inside the recording; pixels whose
        delayed sample a(t - m) or a(t + m) falls outside it are 0.

    Returns
    -------
    images : np.ndarray of float32, shape (n_images, height, width)
        Angles / pi, in [0, 1]. Row ``j - 1`` holds delay m = j.

    Raises
    ------
    ValueError
        If ``series`` is not (n, 3) or not finite, ``edge`` is unknown, or a start lacks the
        margin the edge policy needs.

    See Also
    --------
    gdi : the inner-product image of Zhong & Deng (Method 2 baseline).
    valid_starts : filter starts before calling this.

    Notes
    -----
    Reconstruction: the angle is computed as ``atan2(|u x v|, u . v)`` (numerically stable,
    in [0, pi]), and is 0 when either vector is zero (RECONSTRUCTION 1.4). Differences, cross and
    dot products are formed in float64; only the arctangent runs in float32, which keeps the
    result within ~1e-7 of the float64 value while doubling throughput.

    Examples
    --------
    A straight line: every a(t-m), a(t), a(t+m) are collinear with a(t) in the middle, so every
    angle is pi (pixel 1.0):

    >>> line = np.outer(np.arange(100.0), [1.0, 2.0, 2.0])
    >>> images = ae_gdi(line, [32], width=4, height=2)
    >>> images.shape, images.dtype
    ((1, 2, 4), dtype('float32'))
    >>> images[0]
    array([[1., 1., 1., 1.],
           [1., 1., 1., 1.]], dtype=float32)

    A circle sampled every 90 degrees: for m = 1 the neighbours subtend a right angle at a(t).

    >>> square = np.array([[1, 0, 0], [0, 1, 0], [-1, 0, 0], [0, -1, 0]] * 3, dtype=float)
    >>> ae_gdi(square, [4], width=2, height=1)
    array([[[0.5, 0.5]]], dtype=float32)
    """
    return _delay_images(series, starts, width, height, edge, kind="ae_gdi")


def gdi(
    series,
    starts,
    width: int = IMAGE_WIDTH,
    height: int = IMAGE_HEIGHT,
    normalized: bool = False,
    edge: str = "strict",
) -> np.ndarray:
    """Build one Gait Dynamic Image (Zhong & Deng) per cycle start (Method 2 baseline).

    ``GDI[k, j - 1, i] = <a(t), a(t + m)>`` with m = j = 1..height and t = starts[k] + i. It is
    invariant to rotation of the series but not to translation or scaling.

    Parameters
    ----------
    series : array_like of float, shape (n_timepoints, 3)
        A 3-axis series, e.g. acceleration in m/s^2.
    starts : array_like of int, shape (n_images,)
        Cycle start indices h(k) in samples.
    width, height : int, default=64, 32
        Image size, as for :func:`ae_gdi`.
    normalized : bool, default=False
        If True, the cosine ``<a(t), a(t+m)> / (|a(t)| |a(t+m)|)`` (0 when either is zero)
        instead of the raw inner product.
    edge : {"strict", "pad"}, default="strict"
        Same policies and margins as :func:`ae_gdi`, see Notes.

    Returns
    -------
    images : np.ndarray of float32, shape (n_images, height, width)
        Inner products in the series' unit squared (e.g. (m/s^2)^2), or cosines in [-1, 1].

    Raises
    ------
    ValueError
        As for :func:`ae_gdi`.

    Notes
    -----
    Reconstruction: a GDI needs only a(t + m), but the "strict" policy demands the same margins
    as the AE-GDI (``height`` samples before the start too), so Method 2 and the proposed
    method are built from exactly the same cycle starts and compare like for like. In "pad"
    mode pixels whose a(t + m) lies past the end are 0.

    Examples
    --------
    >>> series = np.tile([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]], (50, 1))
    >>> gdi(series, [40], width=3, height=2)
    array([[[0., 0., 0.],
            [1., 4., 1.]]], dtype=float32)
    >>> gdi(series, [40], width=3, height=2, normalized=True)
    array([[[0., 0., 0.],
            [1., 1., 1.]]], dtype=float32)
    """
    kind = "gdi_cos" if normalized else "gdi"
    return _delay_images(series, starts, width, height, edge, kind=kind)


def dense_starts(
    n_samples: int,
    step_samples: int,
    *,
    width: int = IMAGE_WIDTH,
    height: int = IMAGE_HEIGHT,
    edge: str = "pad",
) -> np.ndarray:
    """Image starts at every ``step_samples``-th sample that the edge policy allows.

    # Paper deviation: the paper starts one AE-GDI per detected gait cycle (~1 s apart, ~2.5
    # images per 5-6 s walk with strict margins). An AE-GDI can start at any sample - the
    # network then sees every gait phase at column 0 - so a walk yields ~``n / step`` images.

    Parameters
    ----------
    n_samples : int
        Length of the recording in samples.
    step_samples : int
        Distance between consecutive starts, in samples (>= 1).
    width, height : int
        Image size (time columns, delays).
    edge : {"strict", "pad"}, default="pad"
        Edge policy, see :func:`ae_gdi`; "pad" needs only the ``width`` columns inside.

    Returns
    -------
    starts : np.ndarray of int64, shape (n_starts,)
        ``before, before + step, ...`` up to the last start with the needed margin; empty when
        the recording is too short.

    Examples
    --------
    >>> dense_starts(80, 4, width=64, height=32)
    array([ 0,  4,  8, 12, 16])
    >>> dense_starts(200, 50, width=64, height=32, edge="strict")
    array([32, 82])
    """
    if int(step_samples) != step_samples or step_samples < 1:
        raise ValueError(f"step_samples must be a positive integer; received {step_samples!r}")
    before, after = required_margins(width, height, edge)
    last = int(n_samples) - after
    if last < before:
        return np.zeros(0, dtype=np.int64)
    return np.arange(before, last + 1, int(step_samples), dtype=np.int64)


def magnitude_image(
    series,
    starts,
    width: int = IMAGE_WIDTH,
    height: int = IMAGE_HEIGHT,
    *,
    offset: float = 0.0,
    scale: float = 1.0,
    edge: str = "strict",
) -> np.ndarray:
    """Delay image of the vector norm: ``I[k, j, i] = (|x(h_k + i + j)| - offset) / scale``.

    # Paper deviation: an extra channel for the improved preset. The AE-GDI is invariant to
    # scaling, so it discards the size of the movement; the norm |a| (or |w|) keeps it and is
    # still independent of how the sensor is oriented. Laid out as a delay (Hankel) image -
    # row j holds the series delayed by j samples - so it has the AE-GDI's shape and time axis.

    Parameters
    ----------
    series : array_like of float, shape (n_timepoints, 3)
        A 3-axis series (m/s^2 or rad/s).
    starts : array_like of int, shape (n_images,)
        Image start indices in samples.
    width, height : int
        Image size; row ``j`` (0-based) is delayed by ``j`` samples.
    offset, scale : float
        Affine normalisation in the series' unit, e.g. gravity and gravity for acceleration.
    edge : {"strict", "pad"}, default="strict"
        Same start rule as :func:`ae_gdi`; in "pad" mode samples past the end are 0 after
        normalisation.

    Returns
    -------
    images : np.ndarray of float32, shape (n_images, height, width)

    Examples
    --------
    >>> series = np.outer(np.arange(10.0), [0.0, 3.0, 4.0])  # |x(t)| = 5 t
    >>> magnitude_image(series, [0], width=3, height=2, scale=5.0, edge="pad")
    array([[[0., 1., 2.],
            [1., 2., 3.]]], dtype=float32)
    """
    _check_geometry(width, height, edge)
    width, height = int(width), int(height)
    values = _as_series(series)
    starts_arr = _as_starts(starts)
    n_samples = values.shape[0]
    mask = valid_start_mask(starts_arr, n_samples, width=width, height=height, edge=edge)
    if not np.all(mask):
        raise ValueError(
            f"{int((~mask).sum())} of {starts_arr.size} starts lack the margin edge={edge!r} "
            "needs; filter them with valid_starts()."
        )
    norm = (np.linalg.norm(values, axis=1) - float(offset)) / float(scale)
    padded = np.concatenate([norm, np.zeros(width + height)]).astype(np.float32)
    index = starts_arr[:, None, None] + np.arange(height)[None, :, None] + np.arange(width)
    return padded[index]


def stack_channels(acc_images, gyr_images=None) -> np.ndarray:
    """Stack one-channel images into the CNN's channels-last layout.

    Parameters
    ----------
    acc_images : array_like, shape (n_images, height, width)
        Channel 1, from acceleration.
    gyr_images : array_like, shape (n_images, height, width), optional
        Channel 2, from angular velocity (N_l = 2 on OU-ISIR; McGill has none, N_l = 1).

    Returns
    -------
    images : np.ndarray of float32, shape (n_images, height, width, n_channels)

    Raises
    ------
    ValueError
        If an input is not 3-D or the two shapes differ.

    Examples
    --------
    >>> acc = np.zeros((5, 32, 64), dtype=np.float32)
    >>> stack_channels(acc).shape
    (5, 32, 64, 1)
    >>> stack_channels(acc, acc).shape
    (5, 32, 64, 2)
    """
    acc = np.asarray(acc_images, dtype=np.float32)
    if acc.ndim != 3:
        raise ValueError(
            f"acc_images must have shape (n_images, height, width); received shape {acc.shape}"
        )
    channels = [acc]
    if gyr_images is not None:
        gyr = np.asarray(gyr_images, dtype=np.float32)
        if gyr.shape != acc.shape:
            raise ValueError(
                "gyr_images must have the shape of acc_images; received "
                f"{gyr.shape} and {acc.shape}"
            )
        channels.append(gyr)
    return np.stack(channels, axis=-1)


# ---------------------------------------------------------------------------------------------
# implementation


def _check_geometry(width, height, edge):
    if edge not in EDGE_MODES:
        raise ValueError(f"edge must be one of {EDGE_MODES}; received edge={edge!r}")
    if int(width) != width or width < 1:
        raise ValueError(f"width must be a positive integer; received width={width!r}")
    if int(height) != height or height < 1:
        raise ValueError(f"height must be a positive integer; received height={height!r}")


def _as_starts(starts) -> np.ndarray:
    arr = np.asarray(starts)
    if arr.ndim != 1:
        raise ValueError(f"starts must be 1-D; received shape {arr.shape}")
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError("starts must be integer sample indices")
    return arr.astype(np.int64)


def _as_series(series) -> np.ndarray:
    arr = np.asarray(series, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"series must have shape (n_timepoints, 3); received shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("series must be finite (no NaN or inf)")
    return arr


def _delay_images(series, starts, width, height, edge, *, kind):
    _check_geometry(width, height, edge)
    width, height = int(width), int(height)
    values = _as_series(series)
    starts_arr = _as_starts(starts)
    n_samples = values.shape[0]
    mask = valid_start_mask(starts_arr, n_samples, width=width, height=height, edge=edge)
    if not np.all(mask):
        before, after = required_margins(width, height, edge)
        bad = starts_arr[~mask]
        raise ValueError(
            f"{bad.size} of {starts_arr.size} starts lack the margin edge={edge!r} needs "
            f"({before} samples before, {after} from the start on, n_samples={n_samples}); "
            f"first offending start: {int(bad[0])}. Filter them with valid_starts()."
        )
    out = np.empty((starts_arr.size, height, width), dtype=np.float32)
    if starts_arr.size == 0:
        return out
    if kind == "ae_gdi":
        # The angle is invariant to translation and positive scaling, so centre and rescale the
        # series once (in float64): the float32 products below then neither overflow nor
        # underflow whatever the input's unit.
        values = values - values.mean(axis=0)
        peak = np.abs(values).max()
        if peak > 0:
            values = values / peak
    # Zero-pad by `height` samples on both sides so that "pad" mode can index freely; the
    # pixels that read padding are zeroed afterwards.
    padded = np.zeros((3, n_samples + 2 * height), dtype=np.float64)
    padded[:, height : height + n_samples] = values.T
    unique_starts, inverse = np.unique(starts_arr, return_inverse=True)
    for lo in range(0, unique_starts.size, _CHUNK_IMAGES):
        chunk = unique_starts[lo : lo + _CHUNK_IMAGES]
        images = _chunk_images(padded, chunk, width, height, kind)
        if edge == "pad":
            _zero_outside(images, chunk, n_samples, kind)
        # Scatter to every position that asked for these starts (duplicates allowed).
        where = np.flatnonzero((inverse >= lo) & (inverse < lo + chunk.size))
        out[where] = images[inverse[where] - lo]
    return out


def _chunk_images(padded, chunk, width, height, kind):
    """Images for sorted unique starts, computed on one concatenation of their segments.

    Starts closer than ``width + 2 * height`` share a segment, so the columns of overlapping
    images (neighbouring cycles overlap: stride ~53 samples < width 64) are computed once;
    isolated starts cost only their own ``width + 2 * height`` samples.
    """
    gaps = np.diff(chunk)
    new_segment = np.concatenate([[True], gaps > width + 2 * height])
    segment_id = np.cumsum(new_segment) - 1
    first = chunk[new_segment]
    last = chunk[np.r_[new_segment[1:], True]]
    # Padded-array index of each segment's first sample: real time first - height.
    seg_begin = first
    seg_length = last - first + width + 2 * height
    seg_offset = np.concatenate([[0], np.cumsum(seg_length)[:-1]])
    total = int(seg_length.sum())
    gather = np.arange(total) - np.repeat(seg_offset - seg_begin, seg_length)
    segment = padded[:, gather]  # (3, total); position q <-> padded index gather[q]
    # Concatenation position of each image's column 0 (real time = start).
    image_pos = seg_offset[segment_id] + (chunk - first[segment_id]) + height
    n_cols = total - 2 * height  # positions height .. total - height - 1
    features = np.empty((height, n_cols), dtype=np.float32)
    if kind == "ae_gdi":
        _angle_rows(segment, height, features)
    else:
        _inner_product_rows(segment, height, features, normalized=kind == "gdi_cos")
    cols = (image_pos - height)[:, None] + np.arange(width)[None, :]
    return features[:, cols].transpose(1, 0, 2)  # (n_images, height, width)


def _angle_rows(segment, height, features):
    """Fill ``features[m - 1, q - height] = angle(m, q) / pi`` over a concatenated segment."""
    n_cols = features.shape[1]
    inv_pi = np.float32(1.0 / np.pi)
    for m in range(1, height + 1):
        # D(q) = a(q + m) - a(q) for q in [height - m, height + n_cols): u = D(q), and the
        # backward vector a(q - m) - a(q) = -D(q - m). Differences in float64 (exact enough
        # under any translation), the rest in float32 (relative error ~1e-7 in the angle).
        lo = height - m
        diff = (segment[:, lo + m : height + n_cols + m] - segment[:, lo : height + n_cols]).astype(
            np.float32
        )
        ux, uy, uz = diff[0, m:], diff[1, m:], diff[2, m:]
        wx, wy, wz = diff[0, :n_cols], diff[1, :n_cols], diff[2, :n_cols]
        # |u x w|^2, accumulated in place to limit temporaries.
        cross = uy * wz
        cross -= uz * wy
        cross *= cross
        tmp = uz * wx
        tmp -= ux * wz
        tmp *= tmp
        cross += tmp
        tmp = ux * wy
        tmp -= uy * wx
        tmp *= tmp
        cross += tmp
        np.sqrt(cross, out=cross)
        # angle(u, -w) = atan2(|u x w|, -(u . w)); atan2(0, 0) = 0 covers zero vectors.
        dot = ux * wx
        dot += uy * wy
        dot += uz * wz
        np.negative(dot, out=dot)
        # -0.0 + 0.0 = +0.0: a zero vector must give atan2(0, +0) = 0, not atan2(0, -0) = pi.
        dot += np.float32(0.0)
        row = features[m - 1]
        np.arctan2(cross, dot, out=row)
        row *= inv_pi


def _inner_product_rows(segment, height, features, *, normalized):
    """Fill ``features[m - 1, q - height] = <a(q), a(q + m)>`` (or the cosine)."""
    n_cols = features.shape[1]
    centre = segment[:, height : height + n_cols]
    if normalized:
        norms = np.sqrt(np.einsum("ij,ij->j", segment, segment))
        centre_norm = norms[height : height + n_cols]
    for m in range(1, height + 1):
        ahead = segment[:, height + m : height + n_cols + m]
        dot = centre[0] * ahead[0]
        dot += centre[1] * ahead[1]
        dot += centre[2] * ahead[2]
        if normalized:
            denom = centre_norm * norms[height + m : height + n_cols + m]
            safe = denom > 0
            np.divide(dot, denom, out=dot, where=safe)
            dot[~safe] = 0.0
        features[m - 1] = dot


def _zero_outside(images, chunk, n_samples, kind):
    """Zero the pixels of "pad"-mode images whose delayed sample lies outside the recording."""
    _, height, width = images.shape
    near_edge = np.flatnonzero((chunk < height) | (chunk + width + height > n_samples))
    if near_edge.size == 0:
        return
    times = chunk[near_edge, None, None] + np.arange(width)[None, None, :]
    delays = np.arange(1, height + 1)[None, :, None]
    outside = times + delays >= n_samples
    if kind == "ae_gdi":
        outside = outside | (times - delays < 0)
    block = images[near_edge]
    block[outside] = 0.0
    images[near_edge] = block
