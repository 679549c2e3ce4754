"""The :class:`Recording` type every loader returns."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from gaitcnn.errors import GaitDataError

__all__ = ["LazyRecordings", "Recording"]


@dataclass(frozen=True, kw_only=True, eq=False)
class Recording:
    """One inertial recording of one subject: a walk, a session or a day.

    Attributes
    ----------
    subject_id : int
        Subject identifier as given by the data set (OU-ISIR: the digits after ``ID``).
    session : str
        ``"day1"``/``"day2"`` for McGill; ``"gallery"``/``"probe"`` for OU-ISIR.
    walk : str
        The data set's own name of the sequence, e.g. ``"seq0"``, ``"Walk2"``, ``"day1"``.
    timestamps_s : np.ndarray, shape (n_timepoints,)
        Sample times in seconds, float64. Raw loader output may be irregular, unsorted or
        duplicated (Android logs); :func:`gaitcnn.resample.resample_recording` cleans that up.
    acc : np.ndarray, shape (n_timepoints, 3)
        Acceleration including gravity, in m/s^2, float64, sensor axes.
    gyr : np.ndarray, shape (n_timepoints, 3), or None
        Angular velocity in rad/s, float64, or ``None`` when the sensor has no gyroscope.
    sensor : str
        Sensor placement, e.g. ``"center"``, ``"left"``, ``"right"``, ``"android"``, ``"pocket"``.
    source : str
        The file the recording came from (or a description for in-memory recordings).
    """

    subject_id: int
    session: str
    walk: str = ""
    timestamps_s: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray | None = None
    sensor: str = ""
    source: str = ""

    def __post_init__(self):
        t = np.asarray(self.timestamps_s, dtype=np.float64)
        acc = np.asarray(self.acc, dtype=np.float64)
        if t.ndim != 1:
            raise GaitDataError(f"timestamps must be 1-D, found shape {t.shape}", path=self.source)
        if acc.ndim != 2 or acc.shape[1] != 3 or acc.shape[0] != t.shape[0]:
            raise GaitDataError(
                f"acc must have shape ({t.shape[0]}, 3), found {acc.shape}", path=self.source
            )
        object.__setattr__(self, "timestamps_s", t)
        object.__setattr__(self, "acc", acc)
        object.__setattr__(self, "subject_id", int(self.subject_id))
        if self.gyr is not None:
            gyr = np.asarray(self.gyr, dtype=np.float64)
            if gyr.shape != acc.shape:
                raise GaitDataError(
                    f"gyr must have shape {acc.shape}, found {gyr.shape}", path=self.source
                )
            object.__setattr__(self, "gyr", gyr)

    @property
    def n_timepoints(self) -> int:
        """Number of samples."""
        return int(self.timestamps_s.shape[0])

    @property
    def duration_s(self) -> float:
        """Time between the first and the last sample, in seconds."""
        if self.n_timepoints < 2:
            return 0.0
        return float(self.timestamps_s.max() - self.timestamps_s.min())

    @property
    def has_gyr(self) -> bool:
        """Whether angular velocity is available."""
        return self.gyr is not None

    @property
    def key(self) -> str:
        """A short unique name: ``"<subject>/<session>/<walk>"``."""
        return f"{self.subject_id}/{self.session}/{self.walk}"

    def replace(self, **changes) -> Recording:
        """Return a copy with some fields replaced (see :func:`dataclasses.replace`)."""
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        """Short summary, without the arrays."""
        return (
            f"Recording(subject_id={self.subject_id}, session={self.session!r}, "
            f"walk={self.walk!r}, n_timepoints={self.n_timepoints}, "
            f"duration_s={self.duration_s:.2f}, gyr={'yes' if self.has_gyr else 'no'}, "
            f"sensor={self.sensor!r}, source={self.source!r})"
        )


class LazyRecordings(Sequence):
    """A read-only sequence of recordings that reads each one from disk when it is accessed.

    Loaders return it with ``lazy=True`` so that long data sets (McGill: 15-minute days) are
    processed one recording at a time instead of all being held in memory.

    Parameters
    ----------
    read : callable
        ``read(item) -> Recording``.
    items : sequence
        What ``read`` needs for each recording (e.g. ``((subject, day), path)``).
    """

    def __init__(self, read: Callable[[object], Recording], items: Sequence):
        self._read = read
        self._items = list(items)

    def __len__(self) -> int:
        """Number of recordings."""
        return len(self._items)

    def __getitem__(self, index):
        """Read recording ``index`` (a slice gives a list)."""
        if isinstance(index, slice):
            return [self._read(item) for item in self._items[index]]
        return self._read(self._items[index])
