"""Raw-signal channels and their statistics for the raw-window networks (beyond the paper).

# Paper deviation: Zhao & Zhou 2017 classify AE-GDIs, which are invariant to rotation and scale.
# On a waist-fixed IMU the orientation and amplitude of the signal identify the walker, so the
# raw-window network (:mod:`gaitcnn.models.raw_cnn`) and the peers read the resampled axes
# themselves. numpy only.

Data contract of :func:`gaitcnn.models.raw_cnn.build_raw_cnn` (the improved preset):

1. a walk resampled to 50 Hz (:func:`gaitcnn.resample.resample_recording`);
2. channels ``ax, ay, az, gx, gy, gz, |a|, |w|`` (:func:`raw_channels`; m/s^2 and rad/s), or
   another named set of :data:`CHANNEL_SETS` (orientation-free norms, gravity-aligned
   components: :func:`gravity_channels`);
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

from gaitcnn.constants import TARGET_RATE_HZ

__all__ = [
    "AUGMENTS",
    "CHANNEL_SETS",
    "GRAVITY_CHANNEL_NAMES",
    "GRAVITY_WINDOW_S",
    "HEADING_CHANNEL_NAMES",
    "RAW_WINDOW_SAMPLES",
    "RELATION_CHANNEL_NAMES",
    "RELATION_LAG_S",
    "ROTATABLE_CHANNELS",
    "RotationAugment",
    "channel_names",
    "channel_stats",
    "column_labels",
    "gravity_channels",
    "gravity_direction",
    "heading_channels",
    "peer_series",
    "random_rotation_matrices",
    "raw_channels",
    "relation_channels",
    "window_span",
]

#: Window length in samples: 64 at 50 Hz = 1.28 s, longer than one gait cycle and the span of
#: one AE-GDI (N_w = 64) and of one MiniRocket peer window.
RAW_WINDOW_SAMPLES = 64

#: Gravity-aligned channels of :func:`gravity_channels`: vertical acceleration ``a . g``
#: (m/s^2, gravity included), horizontal acceleration magnitude ``|a - (a . g) g|``, rotation
#: rate about the vertical ``w . g`` (rad/s, signed) and horizontal rotation-rate magnitude.
GRAVITY_CHANNEL_NAMES = ("acc_vert", "acc_horiz", "gyr_vert", "gyr_horiz")

#: Heading-aligned channels of :func:`heading_channels`: acceleration and rotation rate along the
#: walk's main horizontal direction of acceleration ("forward") and along ``up x forward``
#: ("lateral"). With ``acc_vert``/``gyr_vert`` they make a whole body frame.
HEADING_CHANNEL_NAMES = ("acc_fwd", "acc_lat", "gyr_fwd", "gyr_lat")

#: Horizontal relations of :func:`relation_channels`, with ``h_a``, ``h_w`` the horizontal parts
#: of acceleration and rotation rate and ``g`` "up": ``gyr_acc_dot = h_a . h_w`` and
#: ``gyr_acc_cross = (h_a x h_w) . g`` (the angle between the direction the trunk accelerates in
#: and the axis it rotates about), and ``{acc,gyr}_lag_{dot,cross}``: the same two products of a
#: horizontal vector with itself :data:`RELATION_LAG_S` earlier (how its direction turns
#: within a step). They keep what :data:`GRAVITY_CHANNEL_NAMES` lose of the horizontal
#: directions - the angles between them - and stay invariant to a rotation of the sensor
#: (docs/RECONSTRUCTION.md D24).
RELATION_CHANNEL_NAMES = (
    "gyr_acc_dot",
    "gyr_acc_cross",
    "acc_lag_dot",
    "acc_lag_cross",
    "gyr_lag_dot",
    "gyr_lag_cross",
)

#: Lag of the lagged relations: 0.24 s, about half a step at the ~1.8 Hz step frequency of
#: the data sets (the first value tried, not tuned).
RELATION_LAG_S = 0.24

#: Named channel sets, as front-end channel names (:class:`gaitcnn.prepare.PrepareParams`
#: ``channels``: ``acc``/``gyr`` = the three axes, ``acc_mag``/``gyr_mag`` = the norms,
#: :data:`GRAVITY_CHANNEL_NAMES`). Without a gyroscope the ``gyr*`` channels are left out.
#: ``"axes"``: the sensor axes plus the norms, which carry the sensor's orientation (right for a
#: belt IMU that sits the same way every time). ``"norms"``: ``|a|, |w|`` only, invariant to any
#: rotation of the sensor. ``"gravity"``: the gravity-aligned components plus the norms,
#: invariant to a rotation that is constant over :data:`GRAVITY_WINDOW_S` (a phone placed anew
#: in a pocket) but, unlike the norms, they keep vertical apart from horizontal motion and the
#: sense of turning. ``"invariant"``: ``"gravity"`` plus the horizontal relations
#: (:func:`relation_channels`), as invariant, and keeping the angles between the horizontal
#: motions. ``"body"``: a whole body frame (vertical, forward, lateral;
#: :func:`heading_channels`) plus the norms, as invariant as ``"gravity"`` but keeping the
#: forward and lateral motion apart.
CHANNEL_SETS: dict[str, tuple[str, ...]] = {
    "axes": ("acc", "gyr", "acc_mag", "gyr_mag"),
    "norms": ("acc_mag", "gyr_mag"),
    "gravity": (*GRAVITY_CHANNEL_NAMES, "acc_mag", "gyr_mag"),
    "invariant": (*GRAVITY_CHANNEL_NAMES, "acc_mag", "gyr_mag", *RELATION_CHANNEL_NAMES),
    "body": (
        "acc_vert",
        "acc_fwd",
        "acc_lat",
        "gyr_vert",
        "gyr_fwd",
        "gyr_lat",
        "acc_mag",
        "gyr_mag",
    ),
}

#: Column labels of each channel (three per axes channel).
_COLUMN_LABELS = {
    "acc": ("ax", "ay", "az"),
    "gyr": ("gx", "gy", "gz"),
    "acc_mag": ("|a|",),
    "gyr_mag": ("|w|",),
    **{
        name: (name,)
        for name in (*GRAVITY_CHANNEL_NAMES, *HEADING_CHANNEL_NAMES, *RELATION_CHANNEL_NAMES)
    },
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
    """Front-end channel names of the set ``kind`` (:data:`CHANNEL_SETS`).

    Examples
    --------
    >>> channel_names("gravity", with_gyro=False)
    ('acc_vert', 'acc_horiz', 'acc_mag')
    """
    if kind not in CHANNEL_SETS:
        raise ValueError(f"kind must be one of {tuple(CHANNEL_SETS)}, received kind={kind!r}")
    names = CHANNEL_SETS[kind]
    return names if with_gyro else tuple(n for n in names if not n.startswith("gyr"))


def column_labels(channels) -> tuple[str, ...]:
    """Labels of the columns :func:`raw_channels` returns for ``channels``.

    Examples
    --------
    >>> column_labels(("acc", "acc_mag"))
    ('ax', 'ay', 'az', '|a|')
    """
    return tuple(label for name in channels for label in _COLUMN_LABELS[name])


def _gravity_half_window(rate_hz: float, window_s: float) -> int:
    """Samples the centred moving mean of :func:`gravity_direction` reaches on each side."""
    if not (rate_hz > 0 and window_s > 0):
        raise ValueError(f"rate_hz and window_s must be > 0, received {rate_hz!r}, {window_s!r}")
    return max(1, round(window_s * rate_hz)) // 2


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
    n = acc.shape[0]
    half = _gravity_half_window(rate_hz, window_s)
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
    return _vertical_horizontal(
        acc, gyr, gravity_direction(acc, rate_hz=rate_hz, window_s=window_s)
    )


def _horizontal(vectors: np.ndarray, up: np.ndarray) -> np.ndarray:
    """The part of each row of ``vectors`` perpendicular to the unit vector ``up`` of its row."""
    return vectors - np.einsum("ij,ij->i", vectors, up)[:, None] * up


def _vertical_horizontal(acc, gyr, up) -> dict[str, np.ndarray]:
    """:func:`gravity_channels` given the gravity direction ``up`` of every sample."""
    out = {}
    for name, vectors in (("acc", acc), ("gyr", gyr)):
        if vectors is None:
            continue
        vertical = np.einsum("ij,ij->i", vectors, up)
        out[f"{name}_vert"] = vertical
        out[f"{name}_horiz"] = np.linalg.norm(vectors - vertical[:, None] * up, axis=1)
    return out


def heading_channels(
    acc: np.ndarray,
    gyr: np.ndarray | None = None,
    *,
    rate_hz: float = TARGET_RATE_HZ,
    window_s: float = GRAVITY_WINDOW_S,
) -> dict[str, np.ndarray]:
    """Acceleration and rotation rate along the walk's forward and lateral directions.

    "Forward" is the principal axis of the horizontal acceleration over the whole walk, on the
    assumption that the body accelerates and brakes along its heading more than it sways
    sideways (the orientation-free frame of Gadaleta & Rossi's IDNet, 2018). Where the two are
    close the axis jumps between walks of one person, as on the simulator
    (docs/results-simulated/body_frame.md); prefer :func:`gravity_channels` there. Its sign
    is chosen so that the forward acceleration has a positive third moment, and "lateral" is
    ``up x forward``. Every step depends only on the signals' geometry, so a rotation of the
    sensor that is constant over the walk leaves the channels unchanged (up to rounding), as
    for :func:`gravity_channels`.

    Parameters
    ----------
    acc : np.ndarray, shape (n_timepoints, 3)
        Specific force in m/s^2.
    gyr : np.ndarray, shape (n_timepoints, 3), optional
        Angular velocity in rad/s; without it only the acceleration channels are returned.
    rate_hz, window_s : float
        Of the gravity estimate (:func:`gravity_direction`).

    Returns
    -------
    dict of str to np.ndarray of float64, shape (n_timepoints,)
        Keys of :data:`HEADING_CHANNEL_NAMES` (the ``gyr_*`` ones only with ``gyr``); zeros
        when the walk has no horizontal acceleration.

    Examples
    --------
    >>> t = np.arange(200) / 50.0
    >>> acc = np.stack([np.sin(2 * np.pi * t) ** 3, 9.81 + 0 * t, 0.2 * np.cos(t)], axis=1)
    >>> turn = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    >>> a, b = heading_channels(acc), heading_channels(acc @ turn.T)
    >>> bool(np.allclose(a["acc_fwd"], b["acc_fwd"]) and np.allclose(a["acc_lat"], b["acc_lat"]))
    True
    """
    acc, gyr = _check_imu(acc, gyr)
    return _forward_lateral(acc, gyr, gravity_direction(acc, rate_hz=rate_hz, window_s=window_s))


def _forward_lateral(acc, gyr, up) -> dict[str, np.ndarray]:
    """:func:`heading_channels` given the gravity direction ``up`` of every sample."""
    horizontal = _horizontal(acc, up)
    principal = np.linalg.eigh(horizontal.T @ horizontal)[1][:, -1]
    forward = principal - (up @ principal)[:, None] * up
    norm = np.linalg.norm(forward, axis=1, keepdims=True)
    forward = np.divide(forward, norm, out=np.zeros_like(forward), where=norm > 1e-9)
    if np.sum(np.einsum("ij,ij->i", horizontal, forward) ** 3) < 0:
        forward = -forward
    lateral = np.cross(up, forward)
    out = {}
    for name, vectors in (("acc", acc), ("gyr", gyr)):
        if vectors is not None:
            out[f"{name}_fwd"] = np.einsum("ij,ij->i", vectors, forward)
            out[f"{name}_lat"] = np.einsum("ij,ij->i", vectors, lateral)
    return out


def relation_channels(
    acc: np.ndarray,
    gyr: np.ndarray | None = None,
    *,
    rate_hz: float = TARGET_RATE_HZ,
    window_s: float = GRAVITY_WINDOW_S,
) -> dict[str, np.ndarray]:
    """Angles between horizontal motions as dot and cross products (:data:`RELATION_CHANNEL_NAMES`).

    The gravity-aligned channels (:func:`gravity_channels`) keep only the length of the
    horizontal acceleration and rotation rate; which way they point is lost, since a sensor
    turned about the vertical turns every horizontal direction alike. The angle *between* two
    horizontal vectors survives any such turn: it is measured here by their dot product and by
    their cross product along "up" (its sign tells which way one is turned from the other).
    Two pairs are used: acceleration with rotation rate at the same sample, and each vector
    with itself :data:`RELATION_LAG_S` earlier (at the walk's first samples, with its first
    sample). A rotation of the sensor that is constant over the gravity estimate leaves every
    channel unchanged (up to rounding), as for :func:`gravity_channels`.

    Parameters
    ----------
    acc : np.ndarray, shape (n_timepoints, 3)
        Specific force in m/s^2.
    gyr : np.ndarray, shape (n_timepoints, 3), optional
        Angular velocity in rad/s; without it only ``acc_lag_*`` are returned.
    rate_hz, window_s : float
        Sampling rate, and the gravity estimate's moving-mean length (:func:`gravity_direction`).

    Returns
    -------
    dict of str to np.ndarray of float64, shape (n_timepoints,)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> acc, gyr = rng.normal(size=(200, 3)) + [0.0, 9.81, 0.0], rng.normal(size=(200, 3))
    >>> turn = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    >>> a, b = relation_channels(acc, gyr), relation_channels(acc @ turn.T, gyr @ turn.T)
    >>> sorted(a) == sorted(RELATION_CHANNEL_NAMES)
    True
    >>> all(np.allclose(a[name], b[name]) for name in a)
    True
    """
    acc, gyr = _check_imu(acc, gyr)
    up = gravity_direction(acc, rate_hz=rate_hz, window_s=window_s)
    return _horizontal_relations(acc, gyr, up, _relation_lag(rate_hz))


#: The relations that read a sample :data:`RELATION_LAG_S` before the window's own.
_LAGGED_CHANNELS = ("acc_lag_dot", "acc_lag_cross", "gyr_lag_dot", "gyr_lag_cross")


def _relation_lag(rate_hz: float) -> int:
    return max(1, round(RELATION_LAG_S * rate_hz))


def _horizontal_relations(acc, gyr, up, lag: int) -> dict[str, np.ndarray]:
    """:func:`relation_channels` given the gravity direction ``up`` and the lag in samples."""
    horizontal = {
        name: _horizontal(vectors, up)
        for name, vectors in (("acc", acc), ("gyr", gyr))
        if vectors is not None
    }
    pairs = {f"{name}_lag": (h[np.maximum(np.arange(len(h)) - lag, 0)], h)
             for name, h in horizontal.items()}  # fmt: skip
    if gyr is not None:
        pairs = {"gyr_acc": (horizontal["acc"], horizontal["gyr"]), **pairs}
    out = {}
    for name, (first, second) in pairs.items():
        out[f"{name}_dot"] = np.einsum("ij,ij->i", first, second)
        out[f"{name}_cross"] = np.einsum("ij,ij->i", np.cross(first, second), up)
    return out


def raw_channels(
    acc: np.ndarray,
    gyr: np.ndarray | None = None,
    *,
    channels=None,
    kind: str = "axes",
    rate_hz: float = TARGET_RATE_HZ,
    gravity_window_s: float = GRAVITY_WINDOW_S,
) -> np.ndarray:
    """The raw-window columns of one resampled walk: the one definition of every channel.

    Parameters
    ----------
    acc : np.ndarray, shape (n_timepoints, 3)
        Acceleration in m/s^2.
    gyr : np.ndarray, shape (n_timepoints, 3), optional
        Angular velocity in rad/s; None when the sensor has no gyroscope.
    channels : sequence of str, optional
        Front-end channel names, in order (``acc``, ``gyr``, ``acc_mag``, ``gyr_mag``,
        :data:`GRAVITY_CHANNEL_NAMES`). Default: the set ``kind``.
    kind : str, default="axes"
        A named set (:data:`CHANNEL_SETS`), used when ``channels`` is None; without a
        gyroscope its ``gyr*`` channels are left out.
    rate_hz : float, default=50.0
        Sampling rate (for the gravity estimate).
    gravity_window_s : float, default=2.0
        Moving-mean length of the gravity estimate (:data:`GRAVITY_WINDOW_S`).

    Returns
    -------
    np.ndarray of float32, shape (n_timepoints, n_columns)
        Axes as they are (three columns), one column per scalar channel; labels by
        :func:`column_labels`.

    Raises
    ------
    ValueError
        For an unknown channel, or a ``gyr*`` channel without ``gyr``.

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
    if channels is None:
        channels = channel_names(kind, with_gyro=gyr is not None)
    unknown = [c for c in channels if c not in _COLUMN_LABELS]
    if unknown:
        raise ValueError(f"unknown channels {unknown}; known: {list(_COLUMN_LABELS)}")
    if gyr is None and any(c.startswith("gyr") for c in channels):
        raise ValueError(f"channels {tuple(channels)} need a gyroscope, received gyr=None")
    vectors = {"acc": acc, "gyr": gyr}
    derived = {}
    gravity, heading, relation = (bool(set(channels) & set(names)) for names in
        (GRAVITY_CHANNEL_NAMES, HEADING_CHANNEL_NAMES, RELATION_CHANNEL_NAMES))  # fmt: skip
    if gravity or heading or relation:  # one gravity estimate for every frame
        up = gravity_direction(acc, rate_hz=rate_hz, window_s=gravity_window_s)
        derived |= _vertical_horizontal(acc, gyr, up) if gravity else {}
        derived |= _forward_lateral(acc, gyr, up) if heading else {}
        derived |= _horizontal_relations(acc, gyr, up, _relation_lag(rate_hz)) if relation else {}
    columns = []
    for name in channels:
        if name in vectors:
            columns.append(vectors[name])
        elif name.endswith("_mag"):
            columns.append(np.linalg.norm(vectors[name[:3]], axis=1, keepdims=True))
        else:
            columns.append(derived[name][:, None])
    return np.hstack(columns).astype(np.float32)


def window_span(
    channels,
    *,
    width: int = RAW_WINDOW_SAMPLES,
    rate_hz: float = TARGET_RATE_HZ,
    gravity_window_s: float = GRAVITY_WINDOW_S,
) -> tuple[int, int]:
    """The samples a raw window starting at sample ``h`` depends on: ``[h - before, h + after)``.

    A window holds the ``width`` samples from its start (windows are cut at the starts as
    they are, :func:`gaitcnn.peers.minirocket.make_windows`). Axes and norms are read sample
    by sample, so the window depends on ``[h, h + width)`` only; a gravity-aligned channel
    (:data:`GRAVITY_CHANNEL_NAMES`) at sample ``t`` also reads the centred moving mean of the
    gravity estimate around ``t`` (:func:`gravity_direction`), which widens the span by its
    half-length on both sides; a lagged relation (``*_lag_*`` of :data:`RELATION_CHANNEL_NAMES`)
    reaches a further :data:`RELATION_LAG_S` back. The authentication split keeps such spans of
    probe and training windows apart (:func:`gaitcnn.authentication.make_split`).

    Parameters
    ----------
    channels : sequence of str
        Front-end channel names (:func:`raw_channels`).
    width : int, default=64
        Window length in samples (:data:`RAW_WINDOW_SAMPLES`).
    rate_hz : float, default=50.0
        Sampling rate.
    gravity_window_s : float, default=2.0
        Moving-mean length of the gravity estimate (:data:`GRAVITY_WINDOW_S`).

    Returns
    -------
    before, after : int
        Samples before the start and from the start on.

    Raises
    ------
    ValueError
        For heading-aligned channels (:data:`HEADING_CHANNEL_NAMES`): their forward axis is
        estimated over the whole walk, so a window depends on every sample of its recording.

    Examples
    --------
    >>> window_span(("acc", "gyr", "acc_mag", "gyr_mag"))
    (0, 64)
    >>> window_span(CHANNEL_SETS["gravity"])
    (50, 114)
    >>> window_span(CHANNEL_SETS["invariant"])
    (62, 114)
    """
    channels = tuple(channels)
    heading = sorted(set(channels) & set(HEADING_CHANNEL_NAMES))
    if heading:
        raise ValueError(
            f"the heading-aligned channels {heading} are estimated over the whole walk, so a "
            f"window has no bounded span of samples. Received: channels={channels!r}"
        )
    if width < 1:
        raise ValueError(f"width must be >= 1. Received: width={width!r}")
    context = lag = 0
    if set(channels) & {*GRAVITY_CHANNEL_NAMES, *RELATION_CHANNEL_NAMES}:
        context = _gravity_half_window(rate_hz, gravity_window_s)
    if set(channels) & set(_LAGGED_CHANNELS):
        lag = _relation_lag(rate_hz)
    return context + lag, int(width) + context


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


#: Training-data augmentations of the raw-window networks (``ModelConfig.augment``).
#: ``"none"``: the windows as cut. ``"rotate"``: :class:`RotationAugment`.
AUGMENTS = ("none", "rotate")

#: Channels :class:`RotationAugment` can take: the sensor axes (turned) and their norms
#: (unchanged by any rotation). Gravity-aligned channels are computed after the rotation of a
#: walk and cannot be turned by rotating the window's columns.
ROTATABLE_CHANNELS = ("acc", "gyr", "acc_mag", "gyr_mag")

#: Mixed into the seed of the rotations, so they are not drawn from the same stream as the
#: epoch's batch order (:func:`gaitcnn.pipeline.numpy_batches` seeds that with (seed, epoch)).
_ROTATION_STREAM = 0x524F54


def random_rotation_matrices(n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` rotation matrices uniformly from SO(3) (normalised Gaussian quaternions).

    Parameters
    ----------
    n : int
        Number of matrices.
    rng : np.random.Generator

    Returns
    -------
    np.ndarray of float64, shape (n, 3, 3)
        Orthogonal matrices with determinant +1.

    Examples
    --------
    >>> r = random_rotation_matrices(2, np.random.default_rng(0))
    >>> bool(np.allclose(r @ r.transpose(0, 2, 1), np.eye(3)))
    True
    >>> np.linalg.det(r).round(6).tolist()
    [1.0, 1.0]
    """
    q = rng.standard_normal((n, 4))  # an isotropic 4-vector: uniform on the unit 3-sphere
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], axis=1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], axis=1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], axis=1),
        ],
        axis=1,
    )


class RotationAugment:
    """Turn the sensor axes of every training window by its own uniform random rotation.

    # Paper deviation: the paper does not augment (its AE-GDIs are rotation invariant by
    # construction). A phone turns in a pocket between sessions, so the orientation of its
    # axes says where the phone sat, not who walked; a raw-window network trained on axes as
    # recorded learns that orientation (5 % on the simulator's ``rotated`` variant). Turning
    # each training window at random - acceleration and rotation rate by the SAME rotation,
    # as a rigid phone turns - asks the network to identify the walker in any orientation,
    # while the norm columns |a|, |w| are left as they are (a rotation does not change them).

    A batch transform for :func:`gaitcnn.pipeline.numpy_batches`: called with each training
    batch, the run's seed, the 0-based epoch and the batch's index in the epoch, so the
    rotations are a function of (seed, epoch) and a resumed run sees the same ones. One
    rotation per window, constant over its 1.28 s (a pocket does not spin within a step).

    Parameters
    ----------
    channels : sequence of str
        The front-end channels of the windows, in order (:func:`column_labels` gives their
        columns); only :data:`ROTATABLE_CHANNELS`.

    Raises
    ------
    ValueError
        For a channel outside :data:`ROTATABLE_CHANNELS` (e.g. gravity-aligned ones).
    """

    def __init__(self, channels):
        self.channels = tuple(channels)
        refused = [c for c in self.channels if c not in ROTATABLE_CHANNELS]
        if refused:
            raise ValueError(
                f"augment='rotate' turns sensor axes and keeps their norms; it cannot turn the "
                f"channels {refused}; use channels from {ROTATABLE_CHANNELS}. Received: "
                f"channels={self.channels!r}"
            )
        labels = column_labels(self.channels)
        #: Column positions of each 3-axis sensor present, e.g. ((0, 1, 2), (3, 4, 5)).
        self.axis_columns = tuple(
            tuple(labels.index(f"{s}{a}") for a in "xyz") for s in "ag" if f"{s}x" in labels
        )

    def __repr__(self) -> str:
        return f"RotationAugment(channels={self.channels!r})"

    def __call__(self, images: np.ndarray, *, seed: int, epoch: int, batch: int) -> np.ndarray:
        """The batch with every window's axes turned; norm columns are copied unchanged.

        Parameters
        ----------
        images : np.ndarray, shape (n, height, width, n_columns)
            Raw windows (height 1), columns as :func:`column_labels` of ``channels``.
        seed, epoch, batch : int
            The run's seed, the 0-based epoch and the batch's index within the epoch.

        Returns
        -------
        np.ndarray of float32, same shape (a new array; ``images`` is not modified)
        """
        images = np.asarray(images)
        if images.shape[-1] != len(column_labels(self.channels)):
            raise ValueError(
                f"windows have {images.shape[-1]} columns but channels {self.channels} have "
                f"{len(column_labels(self.channels))}"
            )
        rng = np.random.default_rng([int(seed), int(epoch), int(batch), _ROTATION_STREAM])
        rotations = random_rotation_matrices(images.shape[0], rng)
        out = np.array(images, dtype=np.float32)
        for columns in self.axis_columns:
            vectors = images[..., list(columns)].astype(np.float64)
            out[..., list(columns)] = np.einsum("nij,nhwj->nhwi", rotations, vectors)
        return out


def peer_series(images) -> np.ndarray:
    """Cached raw windows ``(n, 1, width, n_columns)`` as aeon's ``(n, n_columns, width)``.

    Examples
    --------
    >>> peer_series(np.zeros((2, 1, 64, 8))).shape
    (2, 8, 64)
    """
    return np.ascontiguousarray(np.asarray(images, np.float32)[:, 0].transpose(0, 2, 1))
