"""Is the sensor worn the same way in every walk? The channel choice of ``channels="auto"``.

# Paper deviation: the paper reads rotation-invariant AE-GDIs only (docs/RECONSTRUCTION.md
# D26). A sensor fixed to the body (a belt IMU) sits the same way in every walk, so its axes
# carry the walker's own posture and mounting; a phone placed anew in a pocket turns between
# walks, so its axes carry the orientation of the day instead. ``channels="auto"`` reads both
# kinds of channel from the front end and lets the training walks decide: the sensor axes
# (:data:`gaitcnn.rawwindows.CHANNEL_SETS` ``"axes"``) when the training windows hold gravity
# in one direction of the sensor, the orientation-free set ``"invariant"`` when they do not.

numpy only: nothing here imports TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gaitcnn.rawwindows import CHANNEL_SETS, column_labels

__all__ = [
    "AUTO_CHANNELS",
    "FIXED_MOUNT_MAX_DEG",
    "FIXED_MOUNT_QUANTILE",
    "OrientationChoice",
    "auto_front_end",
    "choose_channels",
    "gravity_spread_deg",
    "window_up",
]

#: The two candidate sets of ``channels="auto"``: for a sensor worn in one fixed orientation,
#: and for one that turns between walks.
AUTO_CHANNELS = {"fixed": CHANNEL_SETS["axes"], "turning": CHANNEL_SETS["invariant"]}

#: A sensor counts as fixed when :data:`FIXED_MOUNT_QUANTILE` of the training windows hold
#: gravity within this many degrees of their mean direction. A belt IMU tilts by a few degrees
#: from one person to the next; a phone in a trouser pocket lies along either of its long or
#: short axes and turns by tens of degrees between sessions. 30 degrees sits between the two;
#: it was set from that reasoning, not tuned.
FIXED_MOUNT_MAX_DEG = 30.0

#: Share of the training windows that must lie within :data:`FIXED_MOUNT_MAX_DEG`.
FIXED_MOUNT_QUANTILE = 0.95


def _acc_columns(channels: Sequence[str]) -> np.ndarray:
    labels = column_labels(channels)
    if not {"ax", "ay", "az"} <= set(labels):
        raise ValueError(
            "the orientation of the sensor needs the acceleration axes (channel 'acc'). "
            f"Received: channels={tuple(channels)!r}"
        )
    return np.array([labels.index(axis) for axis in ("ax", "ay", "az")])


def window_up(windows, channels: Sequence[str]) -> np.ndarray:
    """Unit direction of the mean acceleration of each window, in sensor axes ("up").

    Over a window longer than a gait cycle (1.28 s) the body's own accelerations nearly
    average out, so the mean specific force points against gravity.

    Parameters
    ----------
    windows : np.ndarray, shape (n, 1, width, n_columns)
        Raw windows of ``channels`` (the front end's layout).
    channels : sequence of str
        Their front-end channel names; must include ``"acc"``.

    Returns
    -------
    np.ndarray of float64, shape (n, 3)
        Unit vectors (a zero row for a window whose mean acceleration is zero).

    Examples
    --------
    >>> w = np.zeros((1, 1, 4, 3)); w[..., 1] = 9.81
    >>> window_up(w, ("acc",)).tolist()
    [[0.0, 1.0, 0.0]]
    """
    windows = np.asarray(windows)
    mean = windows[:, 0][:, :, _acc_columns(channels)].mean(axis=1, dtype=np.float64)
    norm = np.linalg.norm(mean, axis=1, keepdims=True)
    return np.divide(mean, norm, out=np.zeros_like(mean), where=norm > 0)


def _angles_deg(up: np.ndarray, reference: np.ndarray) -> np.ndarray:
    return np.degrees(np.arccos(np.clip(up @ reference, -1.0, 1.0)))


def gravity_spread_deg(up: np.ndarray, *, quantile: float = FIXED_MOUNT_QUANTILE):
    """Mean "up" direction of the windows and the angle that ``quantile`` of them lie within.

    Parameters
    ----------
    up : np.ndarray, shape (n, 3)
        Unit vectors (:func:`window_up`).
    quantile : float, default=:data:`FIXED_MOUNT_QUANTILE`

    Returns
    -------
    mean_up : np.ndarray, shape (3,)
        Unit mean direction (zeros when the directions cancel out).
    spread : float
        Degrees; 180 when the directions cancel out.

    Examples
    --------
    >>> mean_up, spread = gravity_spread_deg(np.array([[0.0, 1.0, 0.0]] * 3))
    >>> mean_up.tolist(), round(spread, 6)
    ([0.0, 1.0, 0.0], 0.0)
    """
    up = np.asarray(up, dtype=np.float64)
    total = up.sum(axis=0)
    norm = np.linalg.norm(total)
    if up.shape[0] == 0 or norm <= 1e-9 * up.shape[0]:
        return np.zeros(3), 180.0
    mean_up = total / norm
    return mean_up, float(np.quantile(_angles_deg(up, mean_up), quantile))


def auto_front_end(with_gyro: bool = True) -> tuple[str, ...]:
    """Front-end channels of ``channels="auto"``: both candidate sets, each name once.

    Examples
    --------
    >>> auto_front_end(with_gyro=False)[:4]
    ('acc', 'acc_mag', 'acc_vert', 'acc_horiz')
    """
    names = dict.fromkeys((*AUTO_CHANNELS["fixed"], *AUTO_CHANNELS["turning"]))
    return tuple(n for n in names if with_gyro or not n.startswith("gyr"))


class OrientationChoice:
    """The channel set the training windows call for, and the columns that hold it.

    Attributes
    ----------
    mount : str
        ``"fixed"`` or ``"turning"`` (a key of :data:`AUTO_CHANNELS`).
    channels : tuple of str
        The chosen set, reduced to the front end's channels (no ``gyr*`` without a gyroscope).
    columns : np.ndarray of int64
        Their columns in the front end's windows.
    mean_up : np.ndarray, shape (3,)
        Mean "up" of the training windows in sensor axes.
    spread_deg : float
        Angle that :data:`FIXED_MOUNT_QUANTILE` of the training windows' "up" lie within.
    """

    def __init__(self, mount, channels, columns, mean_up, spread_deg):
        self.mount = str(mount)
        self.channels = tuple(channels)
        self.columns = np.asarray(columns, dtype=np.int64)
        self.mean_up = np.asarray(mean_up, dtype=np.float64)
        self.spread_deg = float(spread_deg)

    def __repr__(self) -> str:
        return f"OrientationChoice({self.mount!r}, spread {self.spread_deg:.1f} deg)"

    def select(self, windows) -> np.ndarray:
        """The chosen columns of ``windows`` ``(n, 1, width, n_columns)``."""
        return np.asarray(windows)[..., self.columns]

    def share_turned(self, windows, front_end: Sequence[str]) -> float:
        """Share of ``windows`` whose "up" is more than :data:`FIXED_MOUNT_MAX_DEG` away
        from the training windows' mean (0 for an empty batch)."""
        up = window_up(windows, front_end)
        if up.shape[0] == 0:
            return 0.0
        return float(np.mean(_angles_deg(up, self.mean_up) > FIXED_MOUNT_MAX_DEG))

    def to_dict(self) -> dict:
        """Plain JSON-able dict (saved with the model)."""
        return {
            "mount": self.mount,
            "channels": list(self.channels),
            "columns": self.columns.tolist(),
            "mean_up": self.mean_up.tolist(),
            "spread_deg": self.spread_deg,
        }

    @classmethod
    def from_dict(cls, values: dict) -> OrientationChoice:
        """Inverse of :meth:`to_dict`."""
        return cls(**values)


def choose_channels(windows, front_end: Sequence[str]) -> OrientationChoice:
    """Pick :data:`AUTO_CHANNELS` ``"fixed"`` or ``"turning"`` from the training windows.

    Parameters
    ----------
    windows : np.ndarray, shape (n, 1, width, n_columns)
        Training windows of ``front_end`` (which must hold both candidate sets, as
        :func:`auto_front_end` does, or their accelerometer-only variants).
    front_end : sequence of str
        Channel names of the windows' columns.

    Returns
    -------
    OrientationChoice
    """
    front_end = tuple(front_end)
    mean_up, spread = gravity_spread_deg(window_up(windows, front_end))
    mount = "fixed" if spread <= FIXED_MOUNT_MAX_DEG else "turning"
    channels = tuple(c for c in AUTO_CHANNELS[mount] if c in front_end)
    missing = [c for c in AUTO_CHANNELS[mount] if c not in front_end and not c.startswith("gyr")]
    if missing:
        raise ValueError(
            f"channels='auto' needs the front end to hold {list(AUTO_CHANNELS[mount])}. "
            f"Received: {front_end!r}"
        )
    labels = column_labels(front_end)
    columns = [labels.index(label) for label in column_labels(channels)]
    return OrientationChoice(mount, channels, columns, mean_up, spread)
