"""Stage 1: loader of McGill-like phone-in-pocket recordings (delimited text, Android times)."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Collection, Mapping
from pathlib import Path

import numpy as np

from gaitcnn._files import read_bounded, reading
from gaitcnn.constants import DATA_DIR_ENV, STANDARD_GRAVITY
from gaitcnn.errors import GaitDataError
from gaitcnn.io._checks import (
    MAX_ABS_ACC_RAW,
    MAX_ABS_GYR_RAW,
    check_accelerometer,
    check_numeric_fields,
    check_range,
    gyroscope_to_rad_s,
    is_plain_numeric_text,
    refuse_incomplete,
    validate_skip_checks,
    warn_if_constant,
    warn_skipped,
)
from gaitcnn.io._formats import MCGILL_FILENAME_PATTERN
from gaitcnn.io._recording import LazyRecordings, Recording

__all__ = [
    "ACC_UNITS",
    "MCGILL_EXTENSIONS",
    "MCGILL_MAX_FILE_BYTES",
    "TIMESTAMP_UNITS",
    "detect_acc_unit",
    "detect_timestamp_unit",
    "load_mcgill",
    "mcgill_files",
    "read_mcgill_file",
]

logger = logging.getLogger(__name__)

#: File name endings read by :func:`load_mcgill` (each also gzip-compressed, ``.gz``).
MCGILL_EXTENSIONS = (".csv", ".txt", ".tsv")

# A 15-minute day at ~30 Hz is ~2 MB of text; 128 MiB holds ~16 hours with a gyroscope. Parsing
# needs several times the text size in memory, so a larger file is refused unless the caller
# raises the limit (load_mcgill(max_file_bytes=...)). Applies after gzip decompression.
#: Largest McGill-like file content read (bytes, after decompression).
MCGILL_MAX_FILE_BYTES = 128 << 20

#: Timestamp units and their length in seconds.
TIMESTAMP_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}

#: Acceleration units and their factor to m/s^2.
ACC_UNITS = {"m/s^2": 1.0, "g": STANDARD_GRAVITY}

# 1e11 s is the year ~5100: any larger |timestamp| is a corrupted number, not a clock.
#: Largest accepted |timestamp| after unit conversion (s).
MAX_ABS_TIMESTAMP_S = 1e11

_REQUIRED_KEYS = ("t", "ax", "ay", "az")
_GYR_KEYS = ("gx", "gy", "gz")
# Median sampling step (in the file's unit) -> unit. Phones sample gait at ~5-1000 Hz, so the
# step in seconds lies in [1e-3, 0.2]; the unit boundaries sit at 0.5 of each unit, two and a
# half decades away from any plausible step.
_STEP_UPPER_BOUNDS = (("s", 0.5), ("ms", 0.5e3), ("us", 0.5e6), ("ns", np.inf))
# Plausible epoch magnitudes (years ~1979-2920) per unit, a second, independent clue.
_EPOCH_RANGES = {"s": (3e8, 3e10), "ms": (3e11, 3e13), "us": (3e14, 3e16), "ns": (3e17, 3e19)}
# Median |a| windows: the phone is carried, so |a| hovers around 1 g whatever the unit.
_ACC_UNIT_WINDOWS = {"g": (0.5, 2.0), "m/s^2": (5.0, 20.0)}


def detect_timestamp_unit(timestamps) -> str:
    """Tell the unit of a timestamp column from its median step and its magnitude.

    Parameters
    ----------
    timestamps : array_like, shape (n_timepoints,)
        Raw timestamps as in the file (epoch or since boot; may be irregular, duplicated or out
        of order).

    Returns
    -------
    str
        ``"s"``, ``"ms"``, ``"us"`` or ``"ns"``.

    Raises
    ------
    ValueError
        If there are fewer than two distinct timestamps, or no finite one.

    Notes
    -----
    The median positive step decides: a phone samples gait at 5-1000 Hz, so the step is
    1-200 ms whatever the unit, and the unit boundaries sit at half a unit (0.5 s, 0.5 ms, ...).
    The magnitude is checked as a second clue: a median inside an epoch range (years 1979-2920)
    of a different unit is logged as a warning, and the step still wins.

    Examples
    --------
    >>> detect_timestamp_unit([1_500_000_000_000, 1_500_000_000_035, 1_500_000_000_070])
    'ms'
    >>> detect_timestamp_unit([0.0, 0.035, 0.07, 0.104])
    's'
    """
    t = np.asarray(timestamps, dtype=np.float64).ravel()
    t = t[np.isfinite(t)]
    steps = np.diff(np.unique(t))  # sorted, de-duplicated: out-of-order rows do not matter
    if steps.size == 0:
        raise ValueError(
            f"timestamps: need at least two distinct finite values, received {t.size} values"
        )
    median_step = float(np.median(steps))
    by_step = next(unit for unit, bound in _STEP_UPPER_BOUNDS if median_step < bound)
    magnitude = float(np.median(np.abs(t)))
    by_epoch = next((u for u, (lo, hi) in _EPOCH_RANGES.items() if lo <= magnitude < hi), None)
    if by_epoch is not None and by_epoch != by_step:
        logger.warning(
            "timestamp unit: the median step %.6g says %r but the magnitude %.6g looks like "
            "epoch %r; using %r",
            median_step,
            by_step,
            magnitude,
            by_epoch,
            by_step,
        )
    return by_step


def detect_acc_unit(acc) -> str:
    """Tell whether acceleration is in m/s^2 or in g from its median magnitude.

    Parameters
    ----------
    acc : array_like, shape (n_timepoints, 3)
        Acceleration including gravity.

    Returns
    -------
    str
        ``"m/s^2"`` when the median of ``|a|`` is in [5, 20], ``"g"`` when it is in [0.5, 2].

    Raises
    ------
    ValueError
        If the median magnitude is in neither window (the unit cannot be told).

    Examples
    --------
    >>> detect_acc_unit([[0.1, 9.7, 0.9], [0.0, 9.8, 1.2]])
    'm/s^2'
    >>> detect_acc_unit([[0.01, 0.99, 0.1], [0.0, 1.01, 0.1]])
    'g'
    """
    a = np.asarray(acc, dtype=np.float64)
    median_norm = float(np.median(np.linalg.norm(a, axis=-1)))
    for unit, (lo, hi) in _ACC_UNIT_WINDOWS.items():
        if lo <= median_norm <= hi:
            return unit
    raise ValueError(
        f"acc: median |a| = {median_norm:.4g} fits neither g (~1) nor m/s^2 (~9.8); "
        "pass acc_unit='g' or acc_unit='m/s^2'"
    )


def _read_lines(path: Path, max_file_bytes: int) -> list[tuple[int, str]]:
    """Return the non-blank lines of a (possibly gzip) text file with their 1-based numbers."""
    raw = read_bounded(path, limit=max_file_bytes, decompress=path.name.lower().endswith(".gz"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise GaitDataError(
            f"not a text file: byte {raw[err.start]:#04x} is not valid UTF-8", path=path, line=line
        ) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [(i + 1, line) for i, line in enumerate(text.split("\n")) if line.strip()]


def _detect_delimiter(line: str) -> str | None:
    """Return the field delimiter of one data line: tab, comma, semicolon or None (whitespace)."""
    for delimiter in ("\t", ",", ";"):
        if delimiter in line:
            return delimiter
    return None


def _majority_delimiter(texts: list[str]) -> str | None:
    """Delimiter of the data: the most common among lines 2-4 and the last line.

    Line 1 may be a header and the last line may be truncated, so neither decides alone.
    """
    probes = texts[1:4] + texts[-1:] if len(texts) > 1 else texts
    found = [_detect_delimiter(t) for t in probes]
    return max(found, key=found.count)


def _split(line: str, delimiter: str | None) -> list[str]:
    return line.split() if delimiter is None else line.split(delimiter)


def _is_numeric(fields: list[str]) -> bool:
    try:
        [float(f) for f in fields]
    except ValueError:
        return False
    return True


def _validate_column_map(column_map: Mapping[str, int] | None) -> dict[str, int] | None:
    if column_map is None:
        return None
    cmap = dict(column_map)
    unknown = set(cmap) - set(_REQUIRED_KEYS) - set(_GYR_KEYS)
    missing = [k for k in _REQUIRED_KEYS if k not in cmap]
    gyr_given = [k for k in _GYR_KEYS if k in cmap]
    if unknown or missing or len(gyr_given) not in (0, 3):
        raise ValueError(
            "column_map must map 't', 'ax', 'ay', 'az' and optionally all of 'gx', 'gy', 'gz' "
            f"to column indices, received column_map={column_map!r}"
        )
    for key, index in cmap.items():
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0:
            raise ValueError(
                f"column_map[{key!r}] must be a non-negative column index, received {index!r}"
            )
    return {k: int(v) for k, v in cmap.items()}


def read_mcgill_file(
    path,
    *,
    column_map: Mapping[str, int] | None = None,
    timestamp_unit: str = "auto",
    acc_unit: str = "auto",
    skip_checks: Collection[str] = (),
    max_file_bytes: int = MCGILL_MAX_FILE_BYTES,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Read one McGill-like file: a timestamp column, acceleration, optionally angular velocity.

    Parameters
    ----------
    path : str or os.PathLike
        Delimited text (comma, tab, semicolon or whitespace, detected from the first data line),
        optionally gzip-compressed (name ending in ``.gz``), with an optional header line (a
        first line that is not all numbers).
    column_map : dict of str to int, optional
        0-based column of ``"t"``, ``"ax"``, ``"ay"``, ``"az"`` and optionally ``"gx"``,
        ``"gy"``, ``"gz"``. Default: ``t, ax, ay, az`` in columns 0-3, plus ``gx, gy, gz`` in
        columns 4-6 when the file has 7 columns.
    timestamp_unit : {"auto", "s", "ms", "us", "ns"}, default="auto"
        Unit of the timestamp column; ``"auto"`` uses :func:`detect_timestamp_unit`.
    acc_unit : {"auto", "m/s^2", "g"}, default="auto"
        Unit of the acceleration columns; ``"auto"`` uses :func:`detect_acc_unit`.
    skip_checks : collection of str, optional
        Plausibility checks to switch off, among :data:`gaitcnn.io.PLAUSIBILITY_CHECKS`:
        ``"range"``, ``"gravity"`` (e.g. for a recording made with the phone lying still on
        a table), ``"unit_change"``.
    max_file_bytes : int, default=MCGILL_MAX_FILE_BYTES
        Largest content read (after decompression); only regular files are read.

    Returns
    -------
    timestamps_s : np.ndarray, shape (n_timepoints,)
        Timestamps converted to seconds, in file order (not sorted, duplicates kept).
    acc_m_s2 : np.ndarray, shape (n_timepoints, 3)
        Acceleration in m/s^2.
    gyr_rad_s : np.ndarray, shape (n_timepoints, 3), or None
        Angular velocity as in the file (assumed rad/s), or ``None``.

    Raises
    ------
    GaitDataError
        Not a regular file, or more than ``max_file_bytes`` (a gzip file is decompressed as a
        stream and refused as soon as it exceeds the limit); empty file, a line with a
        different number of fields, a field that is not a finite number in plain ASCII
        decimal notation, too few columns for the layout, or an undetectable unit; a value
        beyond any body-worn sensor or clock (|a| > 1000, |w| > 6000 raw or 100 rad/s,
        |t| > 1e11 s), an all-zero accelerometer, accelerometer columns without gravity
        (columns swapped), an acceleration level that changes inside the file (units
        switched, zero dropout). Names file and line.

    Notes
    -----
    Repairs, each logged as a warning: an all-zero gyroscope is returned as ``None``; a
    gyroscope in deg/s (median |w| > 10) is converted to rad/s; a constant sensor is reported.
    Irregular, duplicated and out-of-order timestamps are returned as they are (the resampling
    stage sorts and de-duplicates them). Undetectable by design: a permutation or sign flip of
    the axes of one sensor (AE-GDIs are invariant to it).
    """
    path = Path(path)
    cmap = _validate_column_map(column_map)
    if timestamp_unit != "auto" and timestamp_unit not in TIMESTAMP_UNITS:
        raise ValueError(
            f"timestamp_unit must be 'auto' or one of {tuple(TIMESTAMP_UNITS)}, "
            f"received timestamp_unit={timestamp_unit!r}"
        )
    if acc_unit != "auto" and acc_unit not in ACC_UNITS:
        raise ValueError(
            f"acc_unit must be 'auto' or one of {tuple(ACC_UNITS)}, received acc_unit={acc_unit!r}"
        )
    skip_checks = validate_skip_checks(skip_checks)
    lines = _read_lines(path, max_file_bytes)
    with reading(path, "McGill-like recording"):
        return _parse_mcgill(lines, path, cmap, timestamp_unit, acc_unit, skip_checks)


def _parse_mcgill(lines, path: Path, cmap, timestamp_unit: str, acc_unit: str, skip_checks):
    """Lines of one file -> ``(timestamps_s, acc_m_s2, gyr_rad_s or None)``, all checks done."""
    values, line_numbers = _numeric_table(lines, path)
    cmap = _column_map(cmap, values.shape[1], path, line_numbers[0])
    where = {"path": path, "line_numbers": line_numbers, "skip_checks": skip_checks}
    timestamps_s = _timestamps_s(values[:, cmap["t"]], timestamp_unit, cmap, where)
    steps_s = np.diff(np.unique(timestamps_s))
    rate_hz = 1.0 / float(np.median(steps_s)) if steps_s.size else 1.0

    acc_names = [f"{cmap[k]} ({k})" for k in ("ax", "ay", "az")]
    acc = values[:, [cmap["ax"], cmap["ay"], cmap["az"]]]
    gyr = gyr_names = None
    if "gx" in cmap:
        gyr_names = [f"{cmap[k]} ({k})" for k in _GYR_KEYS]
        gyr = values[:, [cmap["gx"], cmap["gy"], cmap["gz"]]]
        check_range(gyr, MAX_ABS_GYR_RAW, what="angular velocity", columns=gyr_names, **where)
    check_range(acc, MAX_ABS_ACC_RAW, what="acceleration", columns=acc_names, **where)
    check_accelerometer(
        acc, gyr, acc_columns=acc_names, gyr_columns=gyr_names, rate_hz=rate_hz, **where
    )
    if acc_unit == "auto":
        try:
            acc_unit = detect_acc_unit(acc)
        except ValueError as err:
            raise GaitDataError(str(err), path=path) from None
        logger.info("%s: acceleration read as %s (detected)", path, acc_unit)
    acc_m_s2 = acc * ACC_UNITS[acc_unit]
    warn_if_constant(acc_m_s2, what="accelerometer", path=path)

    if gyr is not None:
        if not gyr.any():
            # Zero vectors would make every AE-GDI angle meaningless: no gyroscope.
            logger.warning("%s: gyroscope columns are all zero; treated as absent", path)
            gyr = None
        else:
            gyr = gyroscope_to_rad_s(gyr, columns=gyr_names, **where)
            warn_if_constant(gyr, what="gyroscope", path=path)
    return timestamps_s, acc_m_s2, gyr


def _numeric_table(lines, path: Path) -> tuple[np.ndarray, list[int]]:
    """``(line number, text)`` pairs -> a float table and the line numbers of its rows.

    A first line that is not numeric is a header and skipped. The whole file is split and
    converted at once; a file that fails that is scanned line by line for the first bad one.
    """
    if not lines:
        raise GaitDataError("empty file: expected lines of timestamp, ax, ay, az", path=path)
    delimiter = _majority_delimiter([text for _, text in lines])
    if not _is_numeric(_split(lines[0][1], delimiter)):
        logger.debug("%s: line %d is a header: %r", path, lines[0][0], lines[0][1])
        lines = lines[1:]
        if not lines:
            raise GaitDataError("no data lines after the header line", path=path, line=1)
    line_numbers = [n for n, _ in lines]
    texts = [t for _, t in lines]
    n_cols = len(_split(texts[0], delimiter))
    values = None
    if delimiter is None:
        fields = " ".join(texts).split()
        same_width = all(len(t.split()) == n_cols for t in texts)
    else:
        fields = delimiter.join(texts).split(delimiter)
        same_width = all(t.count(delimiter) == n_cols - 1 for t in texts)
    plain = is_plain_numeric_text("\n".join(texts))
    if plain and same_width and len(fields) == n_cols * len(texts):
        try:
            values = np.array(fields, dtype=np.float64).reshape(len(texts), n_cols)
        except ValueError:
            values = None
    if values is None or not np.isfinite(values).all():
        _scan_mcgill(texts, line_numbers, delimiter, n_cols, path)
    return values, line_numbers


def _column_map(cmap, n_cols: int, path: Path, first_line: int) -> dict:
    """The column of every quantity: ``cmap`` checked, or the layout implied by ``n_cols``."""
    if cmap is None:
        if n_cols == 4:
            cmap = dict(zip(_REQUIRED_KEYS, range(4), strict=True))
        elif n_cols == 7:
            cmap = dict(zip(_REQUIRED_KEYS + _GYR_KEYS, range(7), strict=True))
        else:
            raise GaitDataError(
                f"expected 4 columns (t, ax, ay, az) or 7 (plus gx, gy, gz), found {n_cols}; "
                "pass column_map to describe another layout",
                path=path,
                line=first_line,
            )
    if max(cmap.values()) >= n_cols:
        raise GaitDataError(
            f"column_map needs column {max(cmap.values())} but the file has {n_cols} columns",
            path=path,
            line=first_line,
        )
    return cmap


def _timestamps_s(raw_t: np.ndarray, timestamp_unit: str, cmap: dict, where: dict) -> np.ndarray:
    """The time column in seconds; an ``auto`` unit is detected and must give a clock."""
    if timestamp_unit == "auto":
        try:
            timestamp_unit = detect_timestamp_unit(raw_t)
        except ValueError as err:
            raise GaitDataError(str(err), path=where["path"]) from None
        logger.info("%s: timestamps read as %s (detected)", where["path"], timestamp_unit)
        check_range(  # a detected unit must give a clock, not a corrupted number
            raw_t[:, None] * TIMESTAMP_UNITS[timestamp_unit],
            MAX_ABS_TIMESTAMP_S,
            what="timestamp",
            columns=[f"{cmap['t']} (t)"],
            unit=" s",
            **where,
        )
    return raw_t * TIMESTAMP_UNITS[timestamp_unit]


def _scan_mcgill(
    texts: list[str], line_numbers: list[int], delimiter: str | None, n_cols: int, path: Path
) -> None:
    """Slow path: find the first malformed line and raise a GaitDataError naming it."""
    shown = "whitespace" if delimiter is None else repr(delimiter)
    for text, line_no in zip(texts, line_numbers, strict=True):
        fields = _split(text, delimiter)
        if len(fields) != n_cols:
            raise GaitDataError(
                f"expected {n_cols} fields separated by {shown} (as on line {line_numbers[0]}), "
                f"found {len(fields)}: {text[:80]!r}",
                path=path,
                line=line_no,
            )
        check_numeric_fields(fields, range(n_cols), path=path, line=line_no)
    raise GaitDataError("could not parse the data lines (no single bad line found)", path=path)


def _candidate_files(root: Path) -> tuple[list[Path], list[str]]:
    """Files with a McGill ending under ``root``, and the names of such non-regular entries."""
    if not root.is_dir():
        return [root], []  # a single file: read_mcgill_file refuses anything but a regular file
    out, not_regular = [], []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        name = entry.name.lower()
        if name.endswith(".gz"):
            name = name[:-3]
        if not name.endswith(MCGILL_EXTENSIONS):
            continue
        if entry.is_file():  # follows links; a FIFO or a device would hang or fill memory
            out.append(Path(entry.path))
        else:
            not_regular.append(entry.name)
    return out, not_regular


def load_mcgill(
    root=None,
    *,
    filename_pattern: str = MCGILL_FILENAME_PATTERN,
    column_map: Mapping[str, int] | None = None,
    timestamp_unit: str = "auto",
    acc_unit: str = "auto",
    lazy: bool = False,
    skip_checks: Collection[str] = (),
    max_file_bytes: int = MCGILL_MAX_FILE_BYTES,
) -> list[Recording]:
    """Load McGill-like phone-in-pocket gait recordings (Frank et al.), one file per subject-day.

    Parameters
    ----------
    root : str or os.PathLike, optional
        Folder holding the files (not searched recursively), or a single file. Defaults to the
        environment variable ``GAITCNN_DATA_DIR``.
    filename_pattern : str, default=MCGILL_FILENAME_PATTERN
        Regular expression searched in each file name, with named groups ``subject`` and
        ``day`` (digits). The default matches ``subject07_day2.csv``, ``S7_d2.txt.gz``, ...
        Files with a supported ending (``.csv``, ``.txt``, ``.tsv``, each optionally ``.gz``)
        that do not match are skipped with one summary warning (``README*`` files silently),
        as are entries that are not regular files (FIFOs, devices).
    column_map : dict of str to int, optional
        0-based column of ``"t"``, ``"ax"``, ``"ay"``, ``"az"`` and optionally ``"gx"``,
        ``"gy"``, ``"gz"``, for layouts other than ``t, ax, ay, az[, gx, gy, gz]``.
    timestamp_unit : {"auto", "s", "ms", "us", "ns"}, default="auto"
        Unit of the timestamp column; ``"auto"`` detects it per file from the median step (and
        checks the magnitude), see :func:`detect_timestamp_unit`, and logs the choice.
    acc_unit : {"auto", "m/s^2", "g"}, default="auto"
        Unit of the acceleration columns; ``"auto"`` detects it per file from the median
        ``|a|`` (~9.8 -> m/s^2, ~1 -> g), see :func:`detect_acc_unit`.
    lazy : bool, default=False
        Return a :class:`~gaitcnn.io.LazyRecordings` that reads each file only when it is
        accessed (file selection and naming errors are still raised here), so that memory
        holds one 15-minute day at a time.
    skip_checks : collection of str, optional
        Plausibility checks to switch off, among :data:`gaitcnn.io.PLAUSIBILITY_CHECKS`
        (see :func:`read_mcgill_file`).
    max_file_bytes : int, default=MCGILL_MAX_FILE_BYTES
        Largest file content read (after decompression).

    Returns
    -------
    list of Recording
        Sorted by subject, then day. ``session`` and ``walk`` are ``"day<d>"``, ``sensor`` is
        ``"pocket"``, ``timestamps_s`` the file's timestamps in seconds, in file order,
        duplicates and irregular steps kept (epoch times stay absolute);
        ``acc`` in m/s^2, ``gyr`` in rad/s or ``None``.

    Raises
    ------
    ValueError
        Malformed ``column_map``, ``timestamp_unit`` or ``acc_unit``, or a ``filename_pattern``
        without the groups ``subject`` and ``day``.
    GaitDataError
        No root; an incomplete data set (an interrupted simulation); no file matching the
        pattern under ``root`` (names root and pattern); two files for the same subject and day;
        or a malformed file (names file and line).

    See Also
    --------
    gaitcnn.io.write_mcgill_file : writes this format (simulator, tests).
    gaitcnn.resample.resample_recording : sorts, de-duplicates, splits at gaps, resamples.

    Notes
    -----
    Fact sheet of the McGill gait data set as described by Zhao & Zhou 2017 (the public file
    layout could not be confirmed, hence the parameterised loader):

    - Sampling: irregular Android timestamps, 28.57 +- 4.17 Hz; resampled to 50 Hz downstream.
    - Subjects: 20, each recorded on 2 days, one ~15-minute file per subject and day.
    - Sessions: ``"day1"``, ``"day2"``.
    - Sensor placement: a phone loose in a trouser pocket (``sensor="pocket"``).
    - Channels and units: acceleration (returned in m/s^2; files in g are converted with
      g = 9.80665), optionally angular velocity (rad/s, passed through).
    - Split used in the paper: authentication, one binary classifier per subject; same-day
      (10% of day 1 to train, the rest of day 1 to test) and different-day (10% of day 1 to
      train, day 2 to test); acceleration only (N_l = 1).
    """
    _validate_column_map(column_map)
    skip_checks = validate_skip_checks(skip_checks)
    root, selected = _select_files(root, filename_pattern)

    def read(item) -> Recording:
        (subject_id, day), path = item
        timestamps_s, acc, gyr = read_mcgill_file(
            path,
            column_map=column_map,
            timestamp_unit=timestamp_unit,
            acc_unit=acc_unit,
            skip_checks=skip_checks,
            max_file_bytes=max_file_bytes,
        )
        return Recording(
            subject_id=subject_id,
            session=f"day{day}",
            walk=f"day{day}",
            timestamps_s=timestamps_s,
            acc=acc,
            gyr=gyr,
            sensor="pocket",
            source=str(path),
        )

    items = selected
    if lazy:  # each file is read when its item is accessed: memory holds one day at a time
        return LazyRecordings(read, items)
    recordings = [read(item) for item in items]
    logger.info("loaded %d McGill recordings from %s", len(recordings), root)
    return recordings


def mcgill_files(root=None, *, filename_pattern: str = MCGILL_FILENAME_PATTERN) -> list[Path]:
    """The files :func:`load_mcgill` with the same arguments would read, in its order.

    Nothing is read; used to fingerprint the inputs of an image cache.
    """
    return [path for _, path in _select_files(root, filename_pattern)[1]]


def _select_files(root, filename_pattern: str) -> tuple[Path, list[tuple[tuple[int, int], Path]]]:
    """``(root, [((subject, day), path), ...])`` sorted by subject and day."""
    try:
        name_re = re.compile(filename_pattern)
    except re.error as err:
        raise ValueError(f"filename_pattern is not a valid regular expression: {err}") from None
    if not {"subject", "day"} <= set(name_re.groupindex):
        raise ValueError(
            "filename_pattern must have named groups 'subject' and 'day', "
            f"received filename_pattern={filename_pattern!r}"
        )
    if root is None:
        root = os.environ.get(DATA_DIR_ENV)
        if not root:
            raise GaitDataError(
                f"no data root: pass root=... or set the environment variable {DATA_DIR_ENV}"
            )
    root = Path(root).expanduser()
    if not root.exists():
        raise GaitDataError("data root does not exist", path=root)
    refuse_incomplete(root)

    selected: dict[tuple[int, int], Path] = {}
    unmatched: list[str] = []
    candidates, not_regular = _candidate_files(root)
    for path in candidates:
        match = name_re.search(path.name)
        if match is None and path.name.lower().startswith("readme"):
            logger.debug("%s: skipped (a README)", path)
            continue
        if match is None:
            unmatched.append(path.name)
            continue
        key = (int(match.group("subject")), int(match.group("day")))
        if key in selected:
            raise GaitDataError(
                f"two files for subject {key[0]} day {key[1]}: {selected[key].name} and "
                f"{path.name}",
                path=root,
            )
        selected[key] = path
    warn_skipped(root, unmatched, f"whose names do not match filename_pattern {filename_pattern!r}")
    warn_skipped(root, not_regular, "that are not regular files (FIFOs, devices, folders)")
    if not selected:
        raise GaitDataError(
            f"no McGill files found: looked for names ending in "
            f"{', '.join(MCGILL_EXTENSIONS)} (optionally .gz) matching "
            f"filename_pattern {filename_pattern!r}",
            path=root,
        )
    return root, sorted(selected.items())
