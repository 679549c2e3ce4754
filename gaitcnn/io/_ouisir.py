"""Stage 1: loader of the OU-ISIR inertial sensor gait database (automatic and manual subsets)."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Collection, Iterable
from pathlib import Path

import numpy as np

from gaitcnn._files import read_bounded, reading
from gaitcnn.constants import DATA_DIR_ENV, OUISIR_COLUMNS, OUISIR_RATE_HZ
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
from gaitcnn.io._mcgill import ACC_UNITS, detect_acc_unit
from gaitcnn.io._recording import Recording

__all__ = [
    "OUISIR_MAX_FILE_BYTES",
    "OUISIR_SENSORS",
    "OUISIR_SUBSETS",
    "load_ouisir",
    "ouisir_files",
    "read_ouisir_file",
]

logger = logging.getLogger(__name__)

#: Values accepted by ``load_ouisir(subset=...)``.
OUISIR_SUBSETS = ("auto", "automatic", "manual")

#: Sensor name -> folder of ``ManualExtractionData`` (the automatic subset is center only).
OUISIR_SENSORS = {
    "center": "IMUZCenter",
    "left": "IMUZLeft",
    "right": "IMUZRight",
    "android": "Android",
}

# A walk of ~5 s at 100 Hz is ~30 KB; even an hour-long file would be ~40 MB.
#: Largest OU-ISIR file read (bytes); larger files are refused before they are read.
OUISIR_MAX_FILE_BYTES = 64 << 20

_AUTOMATIC_DIR = "AutomaticExtractionData_IMUZCenter"
_MANUAL_DIR = "ManualExtractionData"
# The release's exact names: "T0_ID" + six ASCII digits, exact case, lower-case ".csv".
_STRICT_ID = "(?P<subject>[0-9]{6})"
# strict_names=False: any number of ASCII digits, any case (never non-ASCII digits).
_LOOSE_ID = "(?P<subject>[0-9]+)"
_AUTOMATIC_NAME = r"^T0_ID{id}_Center_seq(?P<seq>[01])\.csv$"
_MANUAL_NAME = r"^T0_ID{id}_(?P<walk>Walk1|Walk2|SlopeUp|SlopeDown)\.csv$"
# The data set's own gallery/probe split [paper 2.2]: seq0 / Walk1 gallery, the rest probe.
_AUTOMATIC_SESSIONS = {"0": ("gallery", "seq0"), "1": ("probe", "seq1")}
_MANUAL_SESSIONS = {
    "walk1": ("gallery", "Walk1"),
    "walk2": ("probe", "Walk2"),
    "slopeup": ("probe", "SlopeUp"),
    "slopedown": ("probe", "SlopeDown"),
}
# Order of the recordings of one subject in the returned list: gallery first.
_WALK_ORDER = ("seq0", "seq1", "Walk1", "Walk2", "SlopeUp", "SlopeDown")
# At most 9 ASCII digits: a longer count is no file of this data set (and int() of thousands
# of digits fails with Python's "Exceeds the limit (4300 digits)").
_ROWS_HEADER = re.compile(r"^[ \t]*rows[ \t]*:[ \t]*([0-9]{1,9})[ \t]*$", re.IGNORECASE)
_COLS_HEADER = re.compile(r"^[ \t]*cols[ \t]*:[ \t]*([0-9]{1,9})[ \t]*$", re.IGNORECASE)
_N_COLS = len(OUISIR_COLUMNS)  # 6: Gx, Gy, Gz, Ax, Ay, Az
_N_HEADER_LINES = 2


def _short(text: str, limit: int = 80) -> str:
    """Echo a piece of a file in an error message without flooding it."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _decode(raw: bytes, path: Path) -> list[str]:
    """Bytes -> lines: UTF-8 with or without BOM, LF/CRLF/CR endings, trailing blank lines cut."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        # Line of the first undecodable byte, for the message.
        line = raw[: err.start].count(b"\n") + 1
        raise GaitDataError(
            f"not a text file: byte {raw[err.start]:#04x} is not valid UTF-8", path=path, line=line
        ) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _scan_for_bad_line(data_lines: list[str], path: Path) -> None:
    """Slow path: find the first malformed data line and raise a GaitDataError naming it."""
    for i, line in enumerate(data_lines):
        line_no = i + _N_HEADER_LINES + 1
        fields = line.split(",")
        if len(fields) != _N_COLS:
            raise GaitDataError(
                f"expected {_N_COLS} comma-separated values ({','.join(OUISIR_COLUMNS)}), "
                f"found {len(fields) if line.strip() else 0}: {_short(line)}",
                path=path,
                line=line_no,
            )
        check_numeric_fields(fields, OUISIR_COLUMNS, path=path, line=line_no)
    # Reaching here means the fast path and the scan disagree: never silently accept.
    raise GaitDataError("could not parse the data lines (no single bad line found)", path=path)


def read_ouisir_file(path, *, skip_checks=()) -> tuple[np.ndarray, np.ndarray]:
    """Read one OU-ISIR inertial file and return its gyroscope and accelerometer columns.

    Parameters
    ----------
    path : str or os.PathLike
        A ``T0_ID######_*.csv`` file: ``rows: N``, ``cols: 6``, then N lines
        ``Gx,Gy,Gz,Ax,Ay,Az``. Only a regular file of at most :data:`OUISIR_MAX_FILE_BYTES`
        is read.
    skip_checks : collection of str, optional
        Plausibility checks to switch off, among
        :data:`gaitcnn.io.PLAUSIBILITY_CHECKS` (``"range"``, ``"gravity"``, ``"unit_change"``).

    Returns
    -------
    gyr_rad_s : np.ndarray, shape (n_timepoints, 3)
        Angular velocity in rad/s, float64 (all zeros in the Android files).
    acc_m_s2 : np.ndarray, shape (n_timepoints, 3)
        Acceleration in m/s^2 (the file's g times ``STANDARD_GRAVITY``), float64.

    Raises
    ------
    GaitDataError
        Not a regular file or too large; empty file, missing or garbled header, wrong number
        of values on a line, a field that is not a finite number in plain ASCII decimal
        notation, or a data-line count that disagrees with ``rows:`` by more than the
        automatic subset's one duplicated line; a value beyond any body-worn sensor (|a| > 1000,
        |w| > 6000 raw or > 100 rad/s), an all-zero accelerometer, accelerometer columns without
        gravity (columns swapped), an acceleration unit that is neither g nor m/s^2 or that
        changes inside the file. The message names the file and the line.

    Notes
    -----
    Parsing is vectorised (one ``split`` and one float conversion per file); only when that fails
    is the file scanned line by line to name the first bad line.

    Repairs, each logged as a warning: acceleration written in m/s^2 (median |a| ~9.8) is used
    as m/s^2 instead of being multiplied by g again; a gyroscope in deg/s (median |w| > 10) is
    converted to rad/s; a sensor constant over the whole file is reported (no gait in it).
    Undetectable by design: a permutation (or sign flip) of the three axes of one sensor. The
    sensor frame is arbitrary anyway, and AE-GDIs, built from angles between vectors of one
    sensor, are invariant to it (tests/test_malformed.py checks that the images are equal).
    """
    path = Path(path)
    skip_checks = validate_skip_checks(skip_checks)
    raw = read_bounded(path, limit=OUISIR_MAX_FILE_BYTES)
    with reading(path, "OU-ISIR file"):
        gyr, acc = _parse_ouisir(raw, path)
        return _checked_signals(gyr, acc, path, skip_checks)


def _parse_ouisir(raw: bytes, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Bytes of one file -> raw gyroscope and accelerometer columns (format checks only)."""
    lines = _decode(raw, path)
    if not lines:
        raise GaitDataError("empty file: expected a 'rows: N' header line", path=path, line=1)
    match = _ROWS_HEADER.match(lines[0])
    if match is None:
        raise GaitDataError(
            f"expected the header 'rows: N', found {_short(lines[0])}", path=path, line=1
        )
    n_rows = int(match.group(1))
    if len(lines) < 2:
        raise GaitDataError(
            "expected the header 'cols: 6', found the end of file", path=path, line=2
        )
    match = _COLS_HEADER.match(lines[1])
    if match is None or int(match.group(1)) != _N_COLS:
        raise GaitDataError(
            f"expected the header 'cols: {_N_COLS}', found {_short(lines[1])}", path=path, line=2
        )
    data_lines = lines[_N_HEADER_LINES:]
    n_lines = len(data_lines)
    if n_rows == 0 or n_lines == 0:
        raise GaitDataError(
            f"no data: header says rows: {n_rows} and the file has {n_lines} data lines",
            path=path,
            line=1,
        )

    # Fast path: one split and one conversion for the whole file.
    values = None
    same_width = all(line.count(",") == _N_COLS - 1 for line in data_lines)
    if same_width and is_plain_numeric_text("\n".join(data_lines)):
        try:
            values = np.array(",".join(data_lines).split(","), dtype=np.float64)
        except ValueError:
            values = None
    if values is None or not np.isfinite(values).all():
        _scan_for_bad_line(data_lines, path)
    values = values.reshape(n_lines, _N_COLS)

    if n_lines == n_rows + 1:
        # Quirk of the automatic subset: one data line more than `rows:`, repeating the
        # previous one. Trust `rows:`.
        if n_lines >= 2 and np.array_equal(values[-1], values[-2]):
            logger.debug(
                "%s: %d data lines for rows: %d; dropped the duplicated last line (line %d)",
                path,
                n_lines,
                n_rows,
                n_lines + _N_HEADER_LINES,
            )
        else:
            logger.warning(
                "%s: %d data lines for rows: %d; dropped the surplus last line (line %d), "
                "which does not repeat the previous one",
                path,
                n_lines,
                n_rows,
                n_lines + _N_HEADER_LINES,
            )
        values = values[:n_rows]
    elif n_lines != n_rows:
        raise GaitDataError(
            f"header says rows: {n_rows} but the file has {n_lines} data lines "
            "(only one surplus line, the automatic subset's duplicated last line, is tolerated)",
            path=path,
            line=1,
        )
    # Column order Gx, Gy, Gz, Ax, Ay, Az: gyroscope FIRST (rad/s), then accelerometer (g).
    gyr = np.ascontiguousarray(values[:, 0:3])
    acc = values[:, 3:6]
    return gyr, acc


def _checked_signals(gyr: np.ndarray, acc: np.ndarray, path: Path, skip_checks: frozenset):
    """Plausibility of parsed columns: range, gravity (column order), units, stuck sensors."""
    line_numbers = np.arange(acc.shape[0]) + _N_HEADER_LINES + 1
    gyr_names, acc_names = OUISIR_COLUMNS[:3], OUISIR_COLUMNS[3:]
    where = {"path": path, "line_numbers": line_numbers, "skip_checks": skip_checks}
    check_range(acc, MAX_ABS_ACC_RAW, what="acceleration", columns=acc_names, **where)
    check_range(gyr, MAX_ABS_GYR_RAW, what="angular velocity", columns=gyr_names, **where)
    check_accelerometer(
        acc, gyr, acc_columns=acc_names, gyr_columns=gyr_names, rate_hz=OUISIR_RATE_HZ, **where
    )
    try:
        acc_unit = detect_acc_unit(acc)
    except ValueError:
        acc_unit = "g"  # neither window: trust the format (blocks are still checked below)
    if acc_unit != "g":
        logger.warning(
            "%s: acceleration is in m/s^2 (median |a| ~9.8), the format says g; used as m/s^2",
            path,
        )
    acc_m_s2 = acc * ACC_UNITS[acc_unit]
    warn_if_constant(acc_m_s2, what="accelerometer", path=path)
    if gyr.any():  # all zero = no gyroscope (Android files), handled by load_ouisir
        gyr = gyroscope_to_rad_s(gyr, columns=gyr_names, **where)
        warn_if_constant(gyr, what="gyroscope", path=path)
    return gyr, acc_m_s2


def _resolve_root(root) -> Path:
    if root is None:
        env = os.environ.get(DATA_DIR_ENV)
        if not env:
            raise GaitDataError(
                f"no data root: pass root=... or set the environment variable {DATA_DIR_ENV}"
            )
        root = env
    root = Path(root).expanduser()
    if not root.is_dir():
        raise GaitDataError("data root is not an existing folder", path=root)
    refuse_incomplete(root)
    return root


def _find_layout(root: Path, subset: str, sensor: str | None) -> tuple[str, str, Path]:
    """Return ``(subset, sensor, folder)`` of the files to read under ``root``."""
    folder_sensor = {v.lower(): k for k, v in OUISIR_SENSORS.items()}.get(root.name.lower())
    # `root` pointing directly at one data folder.
    if root.name.lower() == _AUTOMATIC_DIR.lower():
        direct = ("automatic", "center", root)
    elif folder_sensor is not None:
        direct = ("manual", folder_sensor, root)
    else:
        direct = None
    if direct is not None:
        d_subset, d_sensor, folder = direct
        if subset not in ("auto", d_subset):
            raise ValueError(
                f"subset={subset!r} but root is a folder of the {d_subset} subset: {root}"
            )
        if sensor is not None and sensor != d_sensor:
            raise ValueError(f"sensor={sensor!r} but root is the folder of sensor {d_sensor!r}")
        return d_subset, d_sensor, folder

    sensor = sensor or "center"
    if root.name.lower() == _MANUAL_DIR.lower():
        manual = root / OUISIR_SENSORS[sensor]
        automatic = None
    else:
        manual = root / _MANUAL_DIR / OUISIR_SENSORS[sensor]
        automatic = root / _AUTOMATIC_DIR
    want_automatic = subset == "automatic" or (
        subset == "auto" and sensor == "center" and automatic is not None and automatic.is_dir()
    )
    if want_automatic:
        return "automatic", "center", automatic if automatic is not None else root / _AUTOMATIC_DIR
    return "manual", sensor, manual


def _looked_for(root: Path, subset: str, sensor: str | None) -> str:
    manual_folder = OUISIR_SENSORS[sensor or "center"]
    layouts = []
    if subset in ("auto", "automatic"):
        layouts.append(f"{root}/{_AUTOMATIC_DIR}/T0_ID######_Center_seq{{0,1}}.csv")
    if subset in ("auto", "manual"):
        layouts.append(f"{root}/{_MANUAL_DIR}/{manual_folder}/T0_ID######_Walk{{1,2}}.csv")
    layouts.append("or root being one of those folders")
    return "; ".join(layouts)


def load_ouisir(
    root=None,
    *,
    subset: str = "auto",
    sensor: str | None = None,
    subjects: Iterable[int] | None = None,
    include_slopes: bool = False,
    strict_names: bool = True,
    skip_checks: Collection[str] = (),
) -> list[Recording]:
    """Load the OU-ISIR inertial sensor gait database (Ngo et al. 2014) as recordings.

    Parameters
    ----------
    root : str or os.PathLike, optional
        The release folder (holding ``AutomaticExtractionData_IMUZCenter`` and/or
        ``ManualExtractionData``), ``ManualExtractionData`` itself, or one data folder
        (``AutomaticExtractionData_IMUZCenter``, ``IMUZCenter``, ``IMUZLeft``, ``IMUZRight``,
        ``Android``). Defaults to the environment variable ``GAITCNN_DATA_DIR``.
    subset : {"auto", "automatic", "manual"}, default="auto"
        ``"automatic"``: ``AutomaticExtractionData_IMUZCenter/T0_ID######_Center_seq{0,1}.csv``
        (the paper's 744-subject set). ``"manual"``:
        ``ManualExtractionData/<sensor folder>/T0_ID######_Walk{1,2}.csv``. ``"auto"``: the
        automatic subset when present (and ``sensor`` is the center IMUZ), else the manual one.
    sensor : {"center", "left", "right", "android"}, optional
        Sensor of the manual subset: its folder ``IMUZCenter``, ``IMUZLeft``, ``IMUZRight`` or
        ``Android``. Defaults to ``"center"``, or to the folder's sensor when ``root`` is a
        sensor folder. The automatic subset has the center sensor only.
    subjects : iterable of int, optional
        Subject ids to keep (the digits after ``ID``); default all.
    include_slopes : bool, default=False
        Also load the manual subset's ``SlopeUp``/``SlopeDown`` walks (as probe sessions).
    strict_names : bool, default=True
        Accept only the release's exact file names: ``T0_ID`` + six ASCII digits, exact case,
        ``.csv``. ``False`` also accepts other digit counts and any case (``T0_ID107_...``,
        ``.CSV``). Either way two files of one subject and walk are an error.
    skip_checks : collection of str, optional
        Plausibility checks to switch off, among :data:`gaitcnn.io.PLAUSIBILITY_CHECKS`
        (see :func:`read_ouisir_file`).

    Returns
    -------
    list of Recording
        Sorted by subject id, then gallery before probe. Each has ``timestamps_s`` = row / 100,
        ``acc`` in m/s^2, ``gyr`` in rad/s (``None`` for the Android files, whose gyroscope
        columns are all zero), ``session`` ``"gallery"``/``"probe"``, ``walk`` the data set's
        name (``"seq0"``, ``"seq1"``, ``"Walk1"``, ``"Walk2"``, ``"SlopeUp"``, ``"SlopeDown"``),
        ``sensor`` as above and ``source`` the file path.

    Raises
    ------
    ValueError
        Unknown ``subset`` or ``sensor``, or one that contradicts the folder ``root`` points at.
    GaitDataError
        No root given and ``GAITCNN_DATA_DIR`` unset; an incomplete data set (an interrupted
        simulation); no recognisable files under ``root`` (the message lists the layouts
        looked for); two files for one subject and walk (the message names both); or a
        malformed file (the message names the file and the line, see
        :func:`read_ouisir_file`). Entries named like data files that are not regular files
        (FIFOs, devices) are skipped with a warning.

    See Also
    --------
    gaitcnn.io.write_ouisir_file : writes this format (simulator, tests).
    gaitcnn.resample.resample_recording : the next stage, to 50 Hz.

    Notes
    -----
    Fact sheet of the OU-ISIR inertial sensor gait database (Ngo et al., Pattern Recognition
    47(1), 2014), as used by Zhao & Zhou 2017:

    - Sampling rate: fixed 100 Hz, no timestamp column (time = row index / 100 s).
    - Subjects: 744 in the automatic subset (the paper's labeling experiment, K = 744);
      the manual subset has fewer, with four sensors.
    - Sessions: automatic ``seq0`` (gallery) and ``seq1`` (probe), level walks of
      5.97 +- 1.18 s and 4.85 +- 1.10 s; manual ``Walk1`` (gallery), ``Walk2`` (probe), optional
      ``SlopeUp``/``SlopeDown`` (probe).
    - Sensor placement: IMUZ on a belt at the center back (also left and right hips in the manual
      subset) and an Android phone.
    - Channels and units: file columns ``Gx, Gy, Gz`` in rad/s FIRST, then ``Ax, Ay, Az`` in g
      (converted here to m/s^2 with g = 9.80665). Android files: all-zero gyroscope, returned as
      ``gyr=None``.
    - File quirks handled: header lines ``rows: N`` / ``cols: 6``; automatic files carry one
      data line more than ``rows:`` (a copy of the previous one), dropped and logged at debug
      level; 6-decimal (manual) and shortest-repr (automatic) numbers; CRLF, BOM, trailing blanks.
    - Split used in the paper: the data set's own gallery/probe split, N_l = 2 (acc + gyro).
    """
    skip_checks = validate_skip_checks(skip_checks)
    subset_found, sensor_found, folder, selected = _select_files(
        root, subset, sensor, subjects, include_slopes, strict_names
    )
    recordings = []
    for subject_id, _, session, walk, path in selected:
        gyr, acc = read_ouisir_file(path, skip_checks=skip_checks)
        if not gyr.any():
            # An all-zero gyroscope means "no gyroscope" (Android files); zero vectors would
            # make every AE-GDI angle meaningless.
            if sensor_found != "android":
                logger.warning("%s: gyroscope columns are all zero; treated as absent", path)
            gyr = None
        recordings.append(
            Recording(
                subject_id=subject_id,
                session=session,
                walk=walk,
                timestamps_s=np.arange(acc.shape[0]) / OUISIR_RATE_HZ,
                acc=acc,
                gyr=gyr,
                sensor=sensor_found,
                source=str(path),
            )
        )
    logger.info(
        "loaded %d OU-ISIR recordings (%s subset, sensor %s) from %s",
        len(recordings),
        subset_found,
        sensor_found,
        folder,
    )
    return recordings


def ouisir_files(
    root=None,
    *,
    subset: str = "auto",
    sensor: str | None = None,
    subjects: Iterable[int] | None = None,
    include_slopes: bool = False,
    strict_names: bool = True,
) -> list[Path]:
    """The files :func:`load_ouisir` with the same arguments would read, in its order.

    Nothing is read; used to fingerprint the inputs of an image cache.
    """
    selected = _select_files(root, subset, sensor, subjects, include_slopes, strict_names)[3]
    return [path for *_, path in selected]


def _match_name(name: str, subset: str, strict_names: bool):
    pattern = _AUTOMATIC_NAME if subset == "automatic" else _MANUAL_NAME
    pattern = pattern.format(id=_STRICT_ID if strict_names else _LOOSE_ID)
    return re.match(pattern, name, 0 if strict_names else re.IGNORECASE)


def _select_files(root, subset, sensor, subjects, include_slopes, strict_names):
    """``(subset, sensor, folder, [(subject, order, session, walk, path), ...])`` to read."""
    if subset not in OUISIR_SUBSETS:
        raise ValueError(f"subset must be one of {OUISIR_SUBSETS}, received subset={subset!r}")
    if sensor is not None and sensor not in OUISIR_SENSORS:
        raise ValueError(
            f"sensor must be one of {tuple(OUISIR_SENSORS)}, received sensor={sensor!r}"
        )
    if subset == "automatic" and sensor not in (None, "center"):
        raise ValueError(
            f"the automatic subset has the center sensor only, received sensor={sensor!r}"
        )
    keep = None if subjects is None else {int(s) for s in subjects}
    root = _resolve_root(root)
    subset_found, sensor_found, folder = _find_layout(root, subset, sensor)

    selected: dict[tuple[int, str], tuple[int, int, str, str, Path]] = {}
    unexpected: list[str] = []
    not_regular: list[str] = []
    entries = sorted(os.scandir(folder), key=lambda e: e.name) if folder.is_dir() else []
    for entry in entries:
        if not entry.name.lower().endswith(".csv"):
            continue
        match = _match_name(entry.name, subset_found, strict_names)
        if match is None:
            unexpected.append(entry.name)
            continue
        if not entry.is_file():  # a FIFO or a device would hang the reader or fill memory
            not_regular.append(entry.name)
            continue
        subject_id = int(match.group("subject"))
        if subset_found == "automatic":
            session, walk = _AUTOMATIC_SESSIONS[match.group("seq")]
        else:
            session, walk = _MANUAL_SESSIONS[match.group("walk").lower()]
            if walk.startswith("Slope") and not include_slopes:
                continue
        if keep is not None and subject_id not in keep:
            continue
        if (subject_id, walk) in selected:
            raise GaitDataError(
                f"two files for subject {subject_id} walk {walk}: "
                f"{selected[subject_id, walk][-1].name} and {entry.name}",
                path=folder,
            )
        order = _WALK_ORDER.index(walk)
        selected[subject_id, walk] = (subject_id, order, session, walk, Path(entry.path))
    exact = " exact (T0_ID + 6 digits, '.csv'; strict_names=False accepts variants)"
    warn_skipped(
        folder,
        unexpected,
        f"whose names are not OU-ISIR {subset_found}{exact if strict_names else ''} names",
    )
    warn_skipped(folder, not_regular, "that are not regular files (FIFOs, devices, folders)")
    if not selected:
        what = (
            "no OU-ISIR files" if keep is None else f"no OU-ISIR files of subjects {sorted(keep)}"
        )
        raise GaitDataError(
            f"{what} found; looked for {_looked_for(root, subset, sensor)}", path=root
        )
    if keep is not None:
        missing = keep - {s[0] for s in selected.values()}
        if missing:
            logger.warning("%s: no files for subjects %s", folder, sorted(missing))
    ordered = sorted(selected.values(), key=lambda s: (s[0], s[1]))
    return subset_found, sensor_found, folder, ordered
