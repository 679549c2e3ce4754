"""Writers of the real on-disk formats (OU-ISIR and McGill-like), used by the simulator and tests.

The readers live in ``_ouisir.py`` and ``_mcgill.py``. Keeping the writers in one place means the
simulator and the tests write byte-for-byte the same layout that the loaders are proven on.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np

from gaitcnn._atomic import write_bytes_atomic

__all__ = [
    "MCGILL_FILENAME_PATTERN",
    "mcgill_filename",
    "ouisir_automatic_filename",
    "ouisir_manual_filename",
    "write_mcgill_file",
    "write_ouisir_file",
]

#: Default regular expression for McGill-like file names: subject and day numbers.
#: Matches the simulator's ``subject07_day2.csv`` and close variants (``S7_d2.txt.gz``).
#: ASCII digits only: ``int()`` would also read other scripts' digits.
MCGILL_FILENAME_PATTERN = (
    r"(?i)s(?:ubject)?[_-]?(?P<subject>[0-9]+)[_-]+d(?:ay)?[_-]?(?P<day>[0-9]+)"
)


def ouisir_automatic_filename(subject_id: int, seq: int) -> str:
    """File name in ``AutomaticExtractionData_IMUZCenter``, e.g. ``T0_ID000104_Center_seq0.csv``."""
    return f"T0_ID{int(subject_id):06d}_Center_seq{int(seq)}.csv"


def ouisir_manual_filename(subject_id: int, walk: str) -> str:
    """File name in ``ManualExtractionData/<sensor>``, e.g. ``T0_ID000104_Walk1.csv``."""
    return f"T0_ID{int(subject_id):06d}_{walk}.csv"


def mcgill_filename(subject_id: int, day: int, *, gz: bool = False) -> str:
    """Simulator file name of one McGill-like day, e.g. ``subject07_day2.csv``."""
    return f"subject{int(subject_id):02d}_day{int(day)}.csv" + (".gz" if gz else "")


def write_ouisir_file(
    path,
    gyr_rad_s: np.ndarray,
    acc_g: np.ndarray,
    *,
    duplicate_last_line: bool = False,
    decimals: int | None = None,
) -> Path:
    """Write one OU-ISIR inertial file: ``rows: N``, ``cols: 6``, then Gx,Gy,Gz,Ax,Ay,Az rows.

    Parameters
    ----------
    path : str or os.PathLike
        Output file.
    gyr_rad_s : np.ndarray, shape (n_timepoints, 3)
        Angular velocity in rad/s (all zeros for the Android files).
    acc_g : np.ndarray, shape (n_timepoints, 3)
        Acceleration in g.
    duplicate_last_line : bool, default=False
        Reproduce the automatic subset's quirk: one more data line than ``rows:`` says,
        repeating the previous one.
    decimals : int, optional
        Fixed number of decimals (the manual subset uses 6); ``None`` writes the shortest
        float repr, as the automatic subset does.

    Returns
    -------
    Path
        The written file.
    """
    path = Path(path)
    data = np.hstack([np.asarray(gyr_rad_s, float), np.asarray(acc_g, float)])
    if data.ndim != 2 or data.shape[1] != 6:
        raise ValueError(f"expected (n, 3) gyro and acc arrays, got combined shape {data.shape}")
    if decimals is None:
        lines = [",".join(repr(float(v)) for v in row) for row in data]
    else:
        fmt = f"{{:.{int(decimals)}f}}"
        lines = [",".join(fmt.format(v) for v in row) for row in data]
    if duplicate_last_line and lines:
        lines.append(lines[-1])
    text = f"rows: {data.shape[0]}\ncols: 6\n" + "\n".join(lines) + ("\n" if lines else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, text.encode("ascii"))
    return path


def write_mcgill_file(
    path,
    timestamps_ms: np.ndarray,
    acc: np.ndarray,
    gyr: np.ndarray | None = None,
    *,
    delimiter: str = ",",
    header: bool = True,
) -> Path:
    """Write one McGill-like day: timestamp (epoch ms), ax, ay, az [, gx, gy, gz] per line.

    A name ending in ``.gz`` is gzip-compressed.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (``.csv``, ``.txt`` or either with ``.gz``).
    timestamps_ms : np.ndarray, shape (n_timepoints,)
        Android timestamps in integer milliseconds since the epoch (irregular, may repeat).
    acc : np.ndarray, shape (n_timepoints, 3)
        Acceleration in m/s^2.
    gyr : np.ndarray, shape (n_timepoints, 3), optional
        Angular velocity in rad/s.
    delimiter : str, default=","
        Field separator: ``","``, ``"\\t"`` or ``" "``.
    header : bool, default=True
        Write a header line naming the columns.

    Returns
    -------
    Path
        The written file.
    """
    path = Path(path)
    t = np.asarray(timestamps_ms)
    cols = [np.asarray(acc, float)]
    names = ["timestamp_ms", "ax", "ay", "az"]
    if gyr is not None:
        cols.append(np.asarray(gyr, float))
        names += ["gx", "gy", "gz"]
    values = np.hstack(cols)
    if values.shape[0] != t.shape[0]:
        raise ValueError(f"{t.shape[0]} timestamps but {values.shape[0]} rows of values")
    body = "\n".join(
        delimiter.join([str(int(ti)), *(f"{v:.5f}" for v in row)])
        for ti, row in zip(t, values, strict=True)
    )
    text = (delimiter.join(names) + "\n" if header else "") + body + "\n"
    raw = text.encode("ascii")
    if path.name.endswith(".gz"):
        raw = gzip.compress(raw, mtime=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, raw)
    return path


def parse_mcgill_filename(name: str, pattern: str = MCGILL_FILENAME_PATTERN):
    """Return ``(subject_id, day)`` parsed from a file name, or ``None`` when it does not match."""
    m = re.search(pattern, name)
    if m is None:
        return None
    return int(m.group("subject")), int(m.group("day"))
