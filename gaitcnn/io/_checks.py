"""Stage 1: plausibility checks shared by the loaders (units, swapped columns, dead sensors).

A file can parse cleanly and still be wrong: columns swapped by an exporter, acceleration in
m/s^2 where g is expected, a gyroscope in deg/s, a dead or stuck sensor, a corrupted value of
1e30. These checks turn such files into a :class:`~gaitcnn.errors.GaitDataError` naming file,
line and problem, or repair them with a logged warning, so that nothing downstream silently
computes on wrong numbers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from gaitcnn.errors import GaitDataError

logger = logging.getLogger("gaitcnn.io")

# Raw limits, before unit conversion, valid whatever the unit: 1000 g or 1000 m/s^2 (~100 g)
# both lie far beyond any gait IMU's range (+-16 g), and 6000 covers a +-4000 deg/s gyroscope.
#: Largest accepted |acceleration| component in the file's own unit (g or m/s^2).
MAX_ABS_ACC_RAW = 1000.0
#: Largest accepted |angular velocity| component in the file's own unit (rad/s or deg/s).
MAX_ABS_GYR_RAW = 6000.0
# After conversion: 100 rad/s is ~5700 deg/s, beyond every consumer gyroscope.
#: Largest accepted |angular velocity| component after conversion (rad/s).
MAX_ABS_GYR_RAD_S = 100.0

# Gravity dominates the mean of a body-worn accelerometer: |mean(a)| / median(|a|) is >= 0.76
# on every simulated waist and pocket walk and ~1 on real ones, while a gyroscope's ratio is
# <= 0.11 (no net rotation over a walk). 0.3 leaves a wide margin for phones that turn a lot.
#: Lowest ``|mean(a)| / median(|a|)`` accepted for an accelerometer (gravity must show).
MIN_GRAVITY_RATIO = 0.3

# Walking turns the body at ~0.3-2.5 rad/s (median |w|); in deg/s that is ~20-150. A median
# above 10 rad/s (570 deg/s, sustained) is not walking in rad/s, so the file is in deg/s.
#: Median |angular velocity| above which the gyroscope is taken to be in deg/s.
DEG_S_MEDIAN_THRESHOLD = 10.0

# Blocks of this many samples (~2.5 s at 100 Hz, ~9 s at 28 Hz) each have a median |a| close to
# 1 g on a body-worn sensor, walking or standing (gravity dominates). A factor of 3 between two
# blocks is not gait: a unit change inside the file (factor 9.8) or a zero-filled dropout.
#: Samples per block of the within-file unit/dropout check.
UNIT_BLOCK_SAMPLES = 256
#: Largest accepted ratio between the median |a| of two blocks of one file.
MAX_BLOCK_MEDIAN_RATIO = 3.0


def _ratio(values: np.ndarray) -> float:
    norms = np.linalg.norm(values, axis=1)
    median = float(np.median(norms))
    return float(np.linalg.norm(values.mean(axis=0))) / median if median > 0 else 0.0


def check_range(
    values: np.ndarray,
    limit: float,
    *,
    what: str,
    columns: Sequence[str],
    path,
    line_numbers: Sequence[int],
    unit: str = "",
) -> None:
    """Raise naming the first line whose ``|value|`` exceeds ``limit`` (a corrupted number)."""
    bad = np.abs(values) > limit
    if not bad.any():
        return
    row, col = np.argwhere(bad)[0]
    raise GaitDataError(
        f"column {columns[col]}: {what} value {values[row, col]:.6g} is beyond any body-worn "
        f"sensor (|value| > {limit:g}{unit}); a corrupted number?",
        path=path,
        line=int(line_numbers[row]),
    )


def check_accelerometer(
    acc: np.ndarray,
    gyr: np.ndarray | None,
    *,
    acc_columns: Sequence[str],
    gyr_columns: Sequence[str] | None,
    path,
    line_numbers: Sequence[int],
) -> None:
    """Refuse an accelerometer that is all zero or shows no gravity (e.g. columns swapped).

    Parameters
    ----------
    acc : np.ndarray, shape (n_timepoints, 3)
        Raw accelerometer columns (any unit).
    gyr : np.ndarray, shape (n_timepoints, 3), or None
        Raw gyroscope columns, used to tell "swapped" from "no gravity".
    acc_columns, gyr_columns : sequence of str
        Column names, for the message.
    path : path
        The file, for the message.
    line_numbers : sequence of int
        File line of each row.

    Raises
    ------
    GaitDataError
        If ``acc`` is all zero, its level changes inside the file (:func:`check_unit_blocks`),
        or ``|mean(acc)| / median(|acc|) < MIN_GRAVITY_RATIO``.
    """
    first = int(line_numbers[0])
    if not acc.any():
        raise GaitDataError(
            f"accelerometer columns {','.join(acc_columns)} are all zero: a dead sensor",
            path=path,
            line=first,
        )
    check_unit_blocks(acc, path=path, line_numbers=line_numbers)
    if _ratio(acc) >= MIN_GRAVITY_RATIO:
        return
    if gyr is not None and gyr.any() and _ratio(gyr) >= MIN_GRAVITY_RATIO:
        raise GaitDataError(
            f"columns look swapped: the gravity of the accelerometer shows in columns "
            f"{','.join(gyr_columns)} (expected gyroscope) and not in {','.join(acc_columns)} "
            "(expected accelerometer); check the column order",
            path=path,
            line=first,
        )
    raise GaitDataError(
        f"accelerometer columns {','.join(acc_columns)} show no gravity "
        f"(|mean a| / median |a| = {_ratio(acc):.2f} < {MIN_GRAVITY_RATIO}): wrong columns?",
        path=path,
        line=first,
    )


def check_unit_blocks(acc: np.ndarray, *, path, line_numbers: Sequence[int]) -> None:
    """Refuse a file whose |a| level changes inside it (units switched, or a zero dropout).

    The median ``|a|`` of blocks of :data:`UNIT_BLOCK_SAMPLES` samples (the last partial block
    joins the one before) may differ by at most :data:`MAX_BLOCK_MEDIAN_RATIO`; unit-free, so
    it holds whatever unit the file (or the caller) declares.
    """
    n = acc.shape[0]
    norms = np.linalg.norm(acc, axis=1)
    starts = list(range(0, max(n - UNIT_BLOCK_SAMPLES, 0) + 1, UNIT_BLOCK_SAMPLES)) or [0]
    stops = [*starts[1:], n]
    medians = np.array([np.median(norms[a:b]) for a, b in zip(starts, stops, strict=True)])
    low, high = float(medians.min()), float(medians.max())
    if high <= MAX_BLOCK_MEDIAN_RATIO * low:
        return
    # Name the first block that is out of line with the first block.
    ref = medians[0]
    i = next(
        (k for k, m in enumerate(medians) if max(m, ref) > MAX_BLOCK_MEDIAN_RATIO * min(m, ref)),
        int(np.argmax(medians)),
    )
    if i == 0:  # the first block is the odd one out only against a later one
        i = int(np.argmax(medians)) if ref == low else int(np.argmin(medians))
    raise GaitDataError(
        f"median |a| changes by more than a factor {MAX_BLOCK_MEDIAN_RATIO:g} inside the file: "
        f"{ref:.3g} over lines {line_numbers[starts[0]]}-{line_numbers[stops[0] - 1]}, "
        f"{medians[i]:.3g} over lines {line_numbers[starts[i]]}-{line_numbers[stops[i] - 1]}; "
        "units changed inside the file, or a zero-filled dropout",
        path=path,
        line=int(line_numbers[starts[i]]),
    )


def gyroscope_to_rad_s(
    gyr: np.ndarray, *, path, line_numbers: Sequence[int], columns
) -> np.ndarray:
    """Return ``gyr`` in rad/s, converting from deg/s with a warning when it clearly is deg/s."""
    median = float(np.median(np.linalg.norm(gyr, axis=1)))
    if median > DEG_S_MEDIAN_THRESHOLD:
        logger.warning(
            "%s: gyroscope median |w| = %.3g is not walking in rad/s; read as deg/s and "
            "converted to rad/s",
            path,
            median,
        )
        gyr = np.deg2rad(gyr)
    check_range(
        gyr,
        MAX_ABS_GYR_RAD_S,
        what="angular velocity",
        columns=columns,
        path=path,
        line_numbers=line_numbers,
        unit=" rad/s",
    )
    return gyr


def warn_if_constant(values: np.ndarray, *, what: str, path) -> None:
    """Log a warning when every row of ``values`` is identical (a stuck sensor, no gait)."""
    if values.shape[0] > 1 and values.any() and not np.ptp(values, axis=0).any():
        logger.warning(
            "%s: the %s is constant over all %d rows (a stuck sensor?): no gait can be found",
            path,
            what,
            values.shape[0],
        )


def check_numeric_fields(fields: Sequence[str], names: Sequence[str], *, path, line: int) -> None:
    """Raise a :class:`GaitDataError` for the first field that is not a finite number.

    Parameters
    ----------
    fields : sequence of str
        The fields of one data line.
    names : sequence of str
        The column name of each field, used in the message.
    path : str or os.PathLike
        The file, for the message.
    line : int
        1-based line number of ``fields``, for the message.
    """
    for name, field in zip(names, fields, strict=True):
        try:
            value = float(field)
        except ValueError:
            shown = field.strip()
            shown = shown if len(shown) <= 40 else shown[:40] + "..."
            raise GaitDataError(
                f"column {name}: expected a number, found {shown!r}", path=path, line=line
            ) from None
        if not np.isfinite(value):
            raise GaitDataError(
                f"column {name}: expected a finite number, found {field.strip()}",
                path=path,
                line=line,
            )
