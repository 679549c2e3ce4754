"""Stage 1: plausibility checks shared by the loaders (units, swapped columns, dead sensors).

A file can parse cleanly and still be wrong: columns swapped by an exporter, acceleration in
m/s^2 where g is expected, a gyroscope in deg/s, a dead or stuck sensor, a corrupted value of
1e30. These checks turn such files into a :class:`~gaitcnn.errors.GaitDataError` naming file,
line and problem, or repair them with a logged warning, so that nothing downstream silently
computes on wrong numbers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np

from gaitcnn._atomic import INCOMPLETE_MARKER
from gaitcnn.errors import GaitDataError

logger = logging.getLogger("gaitcnn.io")

#: Plausibility checks a caller may switch off (loaders' ``skip_checks=``, ``gaitcnn prepare
#: --skip-check NAME``): ``"range"`` (values beyond any body-worn sensor), ``"gravity"`` (the
#: accelerometer must show gravity; also detects swapped columns) and ``"unit_change"`` (the
#: level of |a| must not jump inside a file). Format checks (fields, numbers, headers) and the
#: dead-sensor check cannot be switched off.
PLAUSIBILITY_CHECKS = ("range", "gravity", "unit_change")

# Plain ASCII decimal notation: optional sign, digits with an optional point, optional
# exponent; ASCII blanks around it. Python's float() also takes "1_0", non-ASCII digits and
# Unicode spaces (NBSP), which no data file should hold: a sign of a wrong or damaged file.
_PLAIN_NUMBER = re.compile(r"[ \t]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t]*")
# Characters the data lines of a numeric file may hold (numbers, blanks, separators).
_NON_NUMERIC_CHARACTER = re.compile(r"[^0-9eE+\-. \t,;\n]")

# Raw limits, before unit conversion, valid whatever the unit: 1000 g or 1000 m/s^2 (~100 g)
# both lie far beyond any gait IMU's range (+-16 g), and 6000 covers a +-4000 deg/s gyroscope.
#: Largest accepted |acceleration| component in the file's own unit (g or m/s^2).
MAX_ABS_ACC_RAW = 1000.0
#: Largest accepted |angular velocity| component in the file's own unit (rad/s or deg/s).
MAX_ABS_GYR_RAW = 6000.0
# After conversion: 100 rad/s is ~5700 deg/s, beyond every consumer gyroscope.
#: Largest accepted |angular velocity| component after conversion (rad/s).
MAX_ABS_GYR_RAD_S = 100.0

# Gravity dominates the mean of a body-worn accelerometer over any stretch in which the sensor
# keeps its orientation: |mean(a)| / median(|a|) over 5-s blocks has a median >= 0.79 on every
# simulated waist and pocket walk and ~1 on real ones, while a gyroscope's is <= 0.21 (little
# net rotation over a few strides). Blocks, not the whole file: a phone taken out of the pocket
# and put back points gravity another way in each stretch, and the whole-file mean cancels.
# 0.3 leaves a wide margin for phones that turn a lot.
#: Lowest median over blocks of ``|mean(a)| / median(|a|)`` accepted for an accelerometer.
MIN_GRAVITY_RATIO = 0.3
#: Length of the blocks of the gravity check: a few seconds of steady sensor orientation.
GRAVITY_BLOCK_S = 5.0

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


def _blocks(n: int, block: int) -> list[tuple[int, int]]:
    """``[start, stop)`` of ``block``-sample blocks; a last partial block joins the previous."""
    block = max(int(block), 1)
    starts = list(range(0, max(n - block, 0) + 1, block)) or [0]
    return list(zip(starts, [*starts[1:], n], strict=True))


def gravity_ratio(values: np.ndarray, block_samples: int) -> float:
    """Median over blocks of ``|mean(v)| / median(|v|)``: ~1 for an accelerometer, ~0 otherwise.

    Examples
    --------
    >>> up, down = np.tile([0.0, 0.0, 9.8], (100, 1)), np.tile([0.0, 0.0, -9.8], (100, 1))
    >>> round(gravity_ratio(np.vstack([up, down]), 50), 2)  # the whole-file mean would be 0
    1.0
    """
    return float(np.median([_ratio(values[a:b]) for a, b in _blocks(len(values), block_samples)]))


def validate_skip_checks(skip_checks: Collection[str]) -> frozenset[str]:
    """Return ``skip_checks`` as a frozenset, refusing names not in :data:`PLAUSIBILITY_CHECKS`."""
    if isinstance(skip_checks, str):
        skip_checks = (skip_checks,)
    unknown = sorted(set(skip_checks) - set(PLAUSIBILITY_CHECKS))
    if unknown:
        raise ValueError(
            f"skip_checks must name checks among {PLAUSIBILITY_CHECKS}, received: {unknown}"
        )
    return frozenset(skip_checks)


def refuse_incomplete(root: Path) -> None:
    """Refuse a data root that an interrupted writer (``gaitcnn simulate``) left half-filled."""
    if root.is_dir() and (root / INCOMPLETE_MARKER).exists():
        raise GaitDataError(
            f"an incomplete data set (marker {INCOMPLETE_MARKER}: its writer was interrupted); "
            "delete the folder and simulate (or copy) it again",
            path=root,
        )


def warn_skipped(folder, names: Sequence[str], why: str, *, n_examples: int = 3) -> None:
    """One warning for all files skipped for the same reason: their count and a few names."""
    if not names:
        return
    shown = ", ".join(names[:n_examples]) + (", ..." if len(names) > n_examples else "")
    logger.warning("%s: skipped %d files %s, e.g. %s", folder, len(names), why, shown)


def is_plain_numeric_text(text: str) -> bool:
    """Whether ``text`` holds only ASCII digits, signs, points, exponents, blanks and separators.

    The loaders' fast path parses a whole file at once only when this holds; otherwise the file
    is scanned line by line with :func:`check_numeric_fields`, which names the first bad field.
    """
    return _NON_NUMERIC_CHARACTER.search(text) is None


def check_range(
    values: np.ndarray,
    limit: float,
    *,
    what: str,
    columns: Sequence[str],
    path,
    line_numbers: Sequence[int],
    unit: str = "",
    skip_checks: Collection[str] = (),
) -> None:
    """Raise naming the first line whose ``|value|`` exceeds ``limit`` (a corrupted number).

    Switched off by ``"range"`` in ``skip_checks``.
    """
    if "range" in skip_checks:
        return
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
    rate_hz: float,
    skip_checks: Collection[str] = (),
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
    rate_hz : float
        Sampling rate, to cut :data:`GRAVITY_BLOCK_S` blocks.
    skip_checks : collection of str, optional
        ``"unit_change"`` and/or ``"gravity"`` switch those checks off.

    Raises
    ------
    GaitDataError
        If ``acc`` is all zero, its level changes inside the file (:func:`check_unit_blocks`),
        or :func:`gravity_ratio` over blocks of :data:`GRAVITY_BLOCK_S` is below
        :data:`MIN_GRAVITY_RATIO`.
    """
    first = int(line_numbers[0])
    if not acc.any():
        raise GaitDataError(
            f"accelerometer columns {','.join(acc_columns)} are all zero: a dead sensor",
            path=path,
            line=first,
        )
    if "unit_change" not in skip_checks:
        check_unit_blocks(acc, path=path, line_numbers=line_numbers)
    block = max(round(GRAVITY_BLOCK_S * rate_hz), 2)
    ratio = gravity_ratio(acc, block)
    if "gravity" in skip_checks or ratio >= MIN_GRAVITY_RATIO:
        return
    if gyr is not None and gyr.any() and gravity_ratio(gyr, block) >= MIN_GRAVITY_RATIO:
        raise GaitDataError(
            f"columns look swapped: the gravity of the accelerometer shows in columns "
            f"{','.join(gyr_columns)} (expected gyroscope) and not in {','.join(acc_columns)} "
            "(expected accelerometer); check the column order",
            path=path,
            line=first,
        )
    raise GaitDataError(
        f"accelerometer columns {','.join(acc_columns)} show no gravity (median over "
        f"{GRAVITY_BLOCK_S:g}-s blocks of |mean a| / median |a| = {ratio:.2f} < "
        f"{MIN_GRAVITY_RATIO}): wrong columns? (skip_checks='gravity' / --skip-check gravity "
        "switches this check off)",
        path=path,
        line=first,
    )


def check_unit_blocks(acc: np.ndarray, *, path, line_numbers: Sequence[int]) -> None:
    """Refuse a file whose |a| level changes inside it (units switched, or a zero dropout).

    The median ``|a|`` of blocks of :data:`UNIT_BLOCK_SAMPLES` samples (the last partial block
    joins the one before) may differ by at most :data:`MAX_BLOCK_MEDIAN_RATIO`; unit-free, so
    it holds whatever unit the file (or the caller) declares.
    """
    norms = np.linalg.norm(acc, axis=1)
    starts, stops = zip(*_blocks(acc.shape[0], UNIT_BLOCK_SAMPLES), strict=True)
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
    gyr: np.ndarray, *, path, line_numbers: Sequence[int], columns, skip_checks=()
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
        skip_checks=skip_checks,
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

    Notes
    -----
    Only plain ASCII decimal notation is a number here (``-1.5``, ``.5``, ``2e-3``): Python's
    ``float`` also reads ``1_0``, non-ASCII digits and non-breaking spaces, which are refused.
    """
    for name, field in zip(names, fields, strict=True):
        shown = field.strip()
        shown = shown if len(shown) <= 40 else shown[:40] + "..."
        try:
            value = float(field)
        except ValueError:
            raise GaitDataError(
                f"column {name}: expected a number, found {shown!r}", path=path, line=line
            ) from None
        if not np.isfinite(value):
            raise GaitDataError(
                f"column {name}: expected a finite number, found {shown}", path=path, line=line
            )
        if _PLAIN_NUMBER.fullmatch(field) is None:
            raise GaitDataError(
                f"column {name}: expected a plain ASCII decimal number (digits 0-9, '.', an "
                f"optional sign and exponent), found {shown!r}",
                path=path,
                line=line,
            )
