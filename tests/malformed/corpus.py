"""Generator of malformed OU-ISIR and McGill-like files, one :class:`Case` per kind of damage.

Every case is built from a seeded, valid simulated walk, so the expected content of a file that
should load is known exactly (``truth_*``) and a "correct load" can be checked, not just assumed.
Expectations:

- ``"load"``: loads, no warning, content equals the truth;
- ``"warn"``: loads after a repair that is logged as a warning, content equals the truth;
- ``"error"``: :class:`gaitcnn.errors.GaitDataError` naming the file, the problem (``match``)
  and, when meaningful, the line (``line``);
- ``"harmless"``: undetectable by design (a permutation of the axes of one sensor); it loads,
  and the test checks that the AE-GDIs equal those of the undamaged file.
"""

from __future__ import annotations

import codecs
import gzip
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gaitcnn.constants import STANDARD_GRAVITY
from gaitcnn.simulate import simulate_walk

OUISIR_NAME = "T0_ID000001_Center_seq0.csv"
MCGILL_NAME = "subject01_day1.csv"
#: OU-ISIR: file line of data row i (0-based) is i + 3 (two header lines).
OU_LINE0 = 3
#: McGill: file line of data row i is i + 2 (one header line).
MC_LINE0 = 2


@dataclass(frozen=True)
class Case:
    """One kind of malformed file and what must happen to it."""

    kind: str
    dataset: str  # "ouisir" or "mcgill"
    category: str  # the class in the report table
    content: bytes
    expect: str  # "load", "warn", "error", "harmless"
    match: str | None = None  # regex on the GaitDataError problem
    line: int | None = None  # expected line of the error
    filename: str = ""
    truth_acc: np.ndarray | None = None  # m/s^2, expected loaded acc
    truth_gyr: np.ndarray | None = None  # rad/s, or None for "no gyroscope"
    truth_t: np.ndarray | None = None  # s (McGill), file order
    pipeline: str = "any"  # "images": at least one image; "any": images or none, no crash
    note: str = ""

    @property
    def name(self) -> str:
        """File name: OU-ISIR or McGill pattern."""
        if self.filename:
            return self.filename
        return OUISIR_NAME if self.dataset == "ouisir" else MCGILL_NAME


# ---------------------------------------------------------------------------------------------
# Valid bases
# ---------------------------------------------------------------------------------------------


def ouisir_base(n_rows: int = 700, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A valid walk at 100 Hz: gyroscope (rad/s) and accelerometer (g), rounded to 6 decimals."""
    walk = simulate_walk(n_rows / 100.0, preset="waist", seed=seed, rate_hz=100.0)
    return np.round(walk.gyr, 6), np.round(walk.acc / STANDARD_GRAVITY, 6)


def mcgill_base(duration_s: float = 40.0, seed: int = 0):
    """A valid pocket walk with Android-like timestamps: (t_ms int, acc m/s^2, gyr rad/s)."""
    rng = np.random.default_rng(seed)
    step_ms = np.clip(np.round(rng.normal(35.0, 5.0, size=int(duration_s / 0.035))), 20, 60)
    t_ms = 1_500_000_000_000 + np.cumsum(step_ms).astype(np.int64)
    walk = simulate_walk(duration_s, preset="pocket", seed=seed, rate_hz=1000 / 35.0)
    n = min(len(t_ms), walk.acc.shape[0])
    return t_ms[:n], np.round(walk.acc[:n], 5), np.round(walk.gyr[:n], 5)


def _fmt(v: float) -> str:
    return repr(float(v))


def ou_lines(gyr, acc_g, fmt: Callable[[float], str] = _fmt, sep: str = ",") -> list[str]:
    """Data lines ``Gx,Gy,Gz,Ax,Ay,Az``."""
    data = np.hstack([gyr, acc_g])
    return [sep.join(fmt(v) for v in row) for row in data]


def ou_text(lines: list[str], rows: int | None = None, header=None, nl: str = "\n") -> str:
    """A whole OU-ISIR file from data lines (header ``rows: N``/``cols: 6`` by default)."""
    head = (
        header
        if header is not None
        else [f"rows: {len(lines) if rows is None else rows}", "cols: 6"]
    )
    return nl.join([*head, *lines]) + nl


def mc_lines(t_ms, acc, gyr=None, sep: str = ",", t_fmt=lambda t: str(int(t))) -> list[str]:
    """Data lines ``t, ax, ay, az[, gx, gy, gz]``."""
    cols = [acc] if gyr is None else [acc, gyr]
    values = np.hstack(cols)
    return [
        sep.join([t_fmt(t), *(f"{v:.5f}" for v in row)])
        for t, row in zip(t_ms, values, strict=False)
    ]


def mc_text(lines: list[str], header: str | None = "timestamp_ms,ax,ay,az", nl="\n") -> str:
    """A whole McGill-like file (optional header line)."""
    return nl.join(([header] if header is not None else []) + lines) + nl


def _b(text: str) -> bytes:
    return text.encode("utf-8")


def _set_field(lines: list[str], row: int, col: int, value: str, sep=",") -> list[str]:
    out = list(lines)
    fields = out[row].split(sep)
    fields[col] = value
    out[row] = sep.join(fields)
    return out


# ---------------------------------------------------------------------------------------------
# OU-ISIR cases
# ---------------------------------------------------------------------------------------------


def ouisir_cases() -> list[Case]:
    """Malformed OU-ISIR files (each a :class:`Case`)."""
    gyr, acc_g = ouisir_base()
    n = acc_g.shape[0]
    acc = acc_g * STANDARD_GRAVITY
    lines = ou_lines(gyr, acc_g)
    good = ou_text(lines)
    last = n - 1 + OU_LINE0
    cases: list[Case] = []

    def add(kind, category, content, expect, match=None, line=None, **kw):
        if isinstance(content, str):
            content = _b(content)
        kw.setdefault("truth_acc", acc if expect in ("load", "warn") else None)
        kw.setdefault("truth_gyr", gyr if expect in ("load", "warn") else None)
        cases.append(Case(f"ouisir/{kind}", "ouisir", category, content, expect, match, line, **kw))

    # -- empty / structure ---------------------------------------------------------------------
    add("empty_file", "empty/structure", b"", "error", "empty file", 1)
    add("blank_lines_only", "empty/structure", "\n  \n\t\n", "error", "empty file", 1)
    add("header_only", "empty/structure", "rows: 0\ncols: 6\n", "error", "no data", 1)
    add(
        "header_rows_without_data",
        "empty/structure",
        f"rows: {n}\ncols: 6\n",
        "error",
        "no data",
        1,
    )
    add("no_header", "header", "\n".join(lines) + "\n", "error", "rows: N", 1)
    add("no_rows_header", "header", ou_text(lines, header=["cols: 6"]), "error", "rows: N", 1)
    add("no_cols_header", "header", ou_text(lines, header=[f"rows: {n}"]), "error", "cols: 6", 2)
    add(
        "rows_not_a_number",
        "header",
        ou_text(lines, header=["rows: many", "cols: 6"]),
        "error",
        "rows: N",
        1,
    )
    add(
        "rows_negative",
        "header",
        ou_text(lines, header=["rows: -5", "cols: 6"]),
        "error",
        "rows: N",
        1,
    )
    add(
        "rows_with_comment",
        "header",
        ou_text(lines, header=[f"rows: {n} # auto", "cols: 6"]),
        "error",
        "rows: N",
        1,
    )
    add("rows_too_many", "header", ou_text(lines, rows=n + 50), "error", "rows: ", None)
    add("rows_too_few", "header", ou_text(lines, rows=n - 50), "error", "rows: ", None)
    add(
        "rows_one_short_surplus_differs",
        "header",
        ou_text(lines, rows=n - 1),
        "warn",
        truth_acc=acc[:-1],
        truth_gyr=gyr[:-1],
        note="trust rows:, drop the surplus line",
    )
    add(
        "automatic_duplicated_last_line",
        "header",
        ou_text([*lines, lines[-1]], rows=n),
        "load",
        note="the real release's quirk (debug log only)",
    )
    add("cols_5", "header", ou_text(lines, header=[f"rows: {n}", "cols: 5"]), "error", "cols: 6", 2)
    seven = [ln + ",0.0" for ln in lines]
    add(
        "cols_7_with_7_fields",
        "header",
        ou_text(seven, header=[f"rows: {n}", "cols: 7"]),
        "error",
        "cols: 6",
        2,
    )
    add("header_upper_case", "header", ou_text(lines, header=[f"ROWS: {n}", "COLS: 6"]), "load")
    add("header_without_spaces", "header", ou_text(lines, header=[f"rows:{n}", "cols:6"]), "load")
    add("concatenated_files", "empty/structure", good + good, "error", "expected 6", n + OU_LINE0)

    # -- lines and fields ---------------------------------------------------------------------
    cut = lines[-1][: len(lines[-1]) // 2]
    add(
        "truncated_last_line",
        "truncated/fields",
        ou_text([*lines[:-1], cut]),
        "error",
        "expected 6",
        last,
    )
    add(
        "truncated_file_mid_line_no_newline",
        "truncated/fields",
        good[: good.rindex(",") - 3].encode(),
        "error",
        "expected 6",
        last,
    )
    mid = [*lines[:100], ",".join(lines[100].split(",")[:5]), *lines[101:]]
    add(
        "missing_field_middle", "truncated/fields", ou_text(mid), "error", "found 5", 100 + OU_LINE0
    )
    extra = [*lines[:200], lines[200] + ",0.5", *lines[201:]]
    add(
        "extra_field_middle", "truncated/fields", ou_text(extra), "error", "found 7", 200 + OU_LINE0
    )
    five = [",".join(ln.split(",")[:5]) for ln in lines]
    add(
        "column_missing_everywhere", "truncated/fields", ou_text(five), "error", "found 5", OU_LINE0
    )
    add(
        "text_in_numeric_field",
        "text/NaN/inf",
        ou_text(_set_field(lines, 10, 3, "abc")),
        "error",
        "column Ax: expected a number",
        10 + OU_LINE0,
    )
    add(
        "empty_field",
        "text/NaN/inf",
        ou_text(_set_field(lines, 20, 1, "")),
        "error",
        "column Gy: expected a number",
        20 + OU_LINE0,
    )
    add(
        "quoted_number",
        "text/NaN/inf",
        ou_text(_set_field(lines, 5, 0, '"0.5"')),
        "error",
        "expected a number",
        5 + OU_LINE0,
    )
    add(
        "nan_field",
        "text/NaN/inf",
        ou_text(_set_field(lines, 30, 4, "nan")),
        "error",
        "finite",
        30 + OU_LINE0,
    )
    add(
        "inf_field",
        "text/NaN/inf",
        ou_text(_set_field(lines, 31, 5, "inf")),
        "error",
        "finite",
        31 + OU_LINE0,
    )
    add(
        "minus_infinity_field",
        "text/NaN/inf",
        ou_text(_set_field(lines, 32, 2, "-Infinity")),
        "error",
        "finite",
        32 + OU_LINE0,
    )
    add(
        "overflowing_literal_1e400",
        "text/NaN/inf",
        ou_text(_set_field(lines, 33, 3, "1e400")),
        "error",
        "finite",
        33 + OU_LINE0,
    )
    add(
        "huge_acc_value",
        "huge values",
        ou_text(_set_field(lines, 40, 4, "1e30")),
        "error",
        "beyond any body-worn sensor",
        40 + OU_LINE0,
    )
    add(
        "huge_gyr_value",
        "huge values",
        ou_text(_set_field(lines, 41, 0, "-5e4")),
        "error",
        "beyond any body-worn sensor",
        41 + OU_LINE0,
    )
    add(
        "gyr_spike_after_conversion",
        "huge values",
        ou_text(_set_field(lines, 42, 1, "500")),
        "error",
        "beyond any body-worn sensor",
        42 + OU_LINE0,
    )
    add(
        "hex_float",
        "text/NaN/inf",
        ou_text(_set_field(lines, 43, 1, "0x1p-3")),
        "error",
        "expected a number",
        43 + OU_LINE0,
    )
    add(
        "semicolon_delimiter",
        "delimiters",
        ou_text(ou_lines(gyr, acc_g, sep=";")),
        "error",
        "expected 6",
        OU_LINE0,
    )
    add(
        "tab_delimiter",
        "delimiters",
        ou_text(ou_lines(gyr, acc_g, sep="\t")),
        "error",
        "expected 6",
        OU_LINE0,
    )
    comma = ou_lines(gyr, acc_g, fmt=lambda v: f"{v:.6f}".replace(".", ","))
    add("decimal_comma", "delimiters", ou_text(comma), "error", "expected 6", OU_LINE0)
    add("whitespace_around_fields", "delimiters", ou_text(ou_lines(gyr, acc_g, sep=" , ")), "load")
    add(
        "scientific_notation",
        "delimiters",
        ou_text(ou_lines(gyr, acc_g, fmt=lambda v: f"{v:.15e}")),
        "load",
    )
    add(
        "plus_signs", "delimiters", ou_text(ou_lines(gyr, acc_g, fmt=lambda v: f"{v:+.6f}")), "load"
    )
    blank_mid = [*lines[:50], "", *lines[50:]]
    add(
        "blank_line_in_the_middle",
        "truncated/fields",
        ou_text(blank_mid, rows=n),
        "error",
        "found 0",
        50 + OU_LINE0,
    )
    long_line = _set_field(lines, 60, 2, "x" * 100_000)
    add(
        "very_long_garbage_field",
        "text/NaN/inf",
        ou_text(long_line),
        "error",
        r"expected a number, found 'xxx.*\.\.\.'",
        60 + OU_LINE0,
    )

    # -- encodings -------------------------------------------------------------------------
    add("utf8_bom", "encoding/line ends", codecs.BOM_UTF8 + _b(good), "load")
    add("crlf", "encoding/line ends", ou_text(lines, nl="\r\n"), "load")
    add("cr_only", "encoding/line ends", ou_text(lines, nl="\r"), "load")
    add(
        "bom_and_crlf",
        "encoding/line ends",
        codecs.BOM_UTF8 + _b(ou_text(lines, nl="\r\n")),
        "load",
    )
    add("trailing_blank_lines", "encoding/line ends", good + "\n\n   \n", "load")
    add("utf16", "encoding/line ends", good.encode("utf-16"), "error", "not a text file", 1)
    rng = np.random.default_rng(7)
    add(
        "binary_garbage",
        "binary",
        bytes([0xFF, 0xD8]) + rng.bytes(4096),
        "error",
        "not a text file",
        1,
    )
    nul = _set_field(lines, 70, 1, "0.1\x00\x00")
    add("nul_bytes", "binary", ou_text(nul), "error", "expected a number", 70 + OU_LINE0)
    latin = _b(ou_text(lines[:80])) + b"0.1,0.2,0.3,0.1\xb5,0.2,0.3\n" + _b("\n".join(lines[80:]))
    latin = latin.replace(f"rows: {80}".encode(), f"rows: {n + 1}".encode(), 1)
    add("latin1_byte", "binary", latin, "error", "not valid UTF-8", 80 + OU_LINE0)

    # -- columns and units -------------------------------------------------------------------
    swapped = ou_lines(acc_g, gyr)  # Ax,Ay,Az,Gx,Gy,Gz: the common public-loader mistake
    add(
        "gyro_and_acc_blocks_swapped",
        "swapped/missing columns",
        ou_text(swapped),
        "error",
        "columns look swapped",
        OU_LINE0,
    )
    perm = acc_g[:, [2, 0, 1]] * [1, -1, 1]
    add(
        "acc_axes_permuted_and_flipped",
        "swapped/missing columns",
        ou_text(ou_lines(gyr, perm)),
        "harmless",
        truth_acc=acc,
        truth_gyr=gyr,
        note="undetectable: the sensor frame is arbitrary; AE-GDIs are invariant",
    )
    add(
        "acc_in_m_s2_not_g",
        "wrong units",
        ou_text(ou_lines(gyr, np.round(acc, 6))),
        "warn",
        truth_acc=np.round(acc, 6),
        note="detected by median |a| ~9.8, used as m/s^2",
    )
    deg = np.round(np.rad2deg(gyr), 6)
    add(
        "gyro_in_deg_s",
        "wrong units",
        ou_text(ou_lines(deg, acc_g)),
        "warn",
        truth_gyr=np.deg2rad(deg),
        note="detected by median |w| > 10, converted",
    )
    mixed = np.vstack([acc_g[: n // 2], np.round(acc[n // 2 :], 6)])
    add(
        "acc_units_change_mid_file",
        "wrong units",
        ou_text(ou_lines(gyr, mixed)),
        "error",
        "changes by more than a factor",
        None,
    )
    add(
        "acc_all_zero",
        "zero/constant signals",
        ou_text(ou_lines(gyr, 0 * acc_g)),
        "error",
        "all zero",
        OU_LINE0,
    )
    dropout = acc_g.copy()
    dropout[300:] = 0.0
    add(
        "acc_zero_dropout_second_half",
        "zero/constant signals",
        ou_text(ou_lines(gyr, dropout)),
        "error",
        "changes by more than a factor",
        None,
    )
    add(
        "gyro_all_zero_center_sensor",
        "zero/constant signals",
        ou_text(ou_lines(0 * gyr, acc_g)),
        "warn",
        truth_gyr=None,
        note="treated as no gyroscope (never zero vectors into an AE-GDI)",
    )
    const_acc = np.tile(acc_g[0], (n, 1))
    add(
        "acc_constant",
        "zero/constant signals",
        ou_text(ou_lines(gyr, const_acc)),
        "warn",
        truth_acc=const_acc * STANDARD_GRAVITY,
    )
    const_gyr = np.tile([0.1, -0.2, 0.05], (n, 1))
    add(
        "gyro_constant",
        "zero/constant signals",
        ou_text(ou_lines(const_gyr, acc_g)),
        "warn",
        truth_gyr=const_gyr,
    )
    add(
        "all_rows_identical",
        "zero/constant signals",
        ou_text([lines[0]] * n),
        "warn",
        truth_acc=np.tile(acc[0], (n, 1)),
        truth_gyr=np.tile(gyr[0], (n, 1)),
    )
    add(
        "acc_gravity_only_no_motion_no_gyro",
        "zero/constant signals",
        ou_text(ou_lines(0 * gyr, np.tile([0.0, -1.0, 0.0], (n, 1)))),
        "warn",
        truth_acc=np.tile([0.0, -STANDARD_GRAVITY, 0.0], (n, 1)),
        truth_gyr=None,
    )

    # -- length --------------------------------------------------------------------------------
    for rows, label in ((1, "one_row"), (50, "half_a_second"), (150, "shorter_than_one_ae_gdi")):
        add(
            f"short_{label}",
            "shorter than one AE-GDI",
            ou_text(lines[:rows]),
            "load",
            truth_acc=acc[:rows],
            truth_gyr=gyr[:rows],
        )
    return cases


# ---------------------------------------------------------------------------------------------
# McGill-like cases
# ---------------------------------------------------------------------------------------------


def mcgill_cases() -> list[Case]:
    """Malformed McGill-like files (each a :class:`Case`)."""
    t_ms, acc, gyr = mcgill_base()
    n = acc.shape[0]
    t_s = t_ms * 1e-3
    lines = mc_lines(t_ms, acc)
    good = mc_text(lines)
    lines7 = mc_lines(t_ms, acc, gyr)
    head7 = "timestamp_ms,ax,ay,az,gx,gy,gz"
    last = n - 1 + MC_LINE0
    cases: list[Case] = []

    def add(kind, category, content, expect, match=None, line=None, **kw):
        if isinstance(content, str):
            content = _b(content)
        ok = expect in ("load", "warn")
        kw.setdefault("truth_acc", acc if ok else None)
        kw.setdefault("truth_gyr", None)
        kw.setdefault("truth_t", t_s if ok else None)
        cases.append(Case(f"mcgill/{kind}", "mcgill", category, content, expect, match, line, **kw))

    # -- empty / structure ---------------------------------------------------------------------
    add("empty_file", "empty/structure", b"", "error", "empty file")
    add("blank_lines_only", "empty/structure", "\n \n\n", "error", "empty file")
    add("header_only", "empty/structure", "timestamp_ms,ax,ay,az\n", "error", "no data lines", 1)
    add(
        "two_header_lines",
        "header",
        mc_text(lines, header="# phone log\ntimestamp_ms,ax,ay,az"),
        "error",
        "expected a number",
        2,
    )
    add("header_in_the_middle", "empty/structure", good + good, "error", "expected a number", n + 2)
    add(
        "single_data_line",
        "shorter than one AE-GDI",
        mc_text(lines[:1]),
        "error",
        "at least two distinct",
    )
    # -- fields ---------------------------------------------------------------------------------
    add(
        "three_columns",
        "swapped/missing columns",
        mc_text(mc_lines(t_ms, acc)[:0] + [ln.rsplit(",", 1)[0] for ln in lines]),
        "error",
        "expected 4 columns",
        MC_LINE0,
    )
    add(
        "five_columns",
        "swapped/missing columns",
        mc_text([ln + ",1.0" for ln in lines]),
        "error",
        "expected 4 columns",
        MC_LINE0,
    )
    add(
        "six_columns_no_timestamp",
        "swapped/missing columns",
        mc_text([ln.split(",", 1)[1] for ln in lines7], header="ax,ay,az,gx,gy,gz"),
        "error",
        "expected 4 columns",
        MC_LINE0,
    )
    add(
        "eight_columns",
        "swapped/missing columns",
        mc_text([ln + ",0" for ln in lines7]),
        "error",
        "expected 4 columns",
        MC_LINE0,
    )
    short = [*lines[:100], lines[100].rsplit(",", 1)[0], *lines[101:]]
    add(
        "one_line_missing_a_field",
        "truncated/fields",
        mc_text(short),
        "error",
        "found 3",
        100 + MC_LINE0,
    )
    add(
        "truncated_last_line",
        "truncated/fields",
        mc_text([*lines[:-1], lines[-1][:12]]),
        "error",
        "found 1",
        last,
    )
    add(
        "trailing_delimiter",
        "delimiters",
        mc_text([ln + "," for ln in lines]),
        "error",
        "expected a number",
        MC_LINE0,
    )
    add(
        "text_in_numeric_field",
        "text/NaN/inf",
        mc_text(_set_field(lines, 10, 2, "n/a")),
        "error",
        "column 2: expected a number",
        10 + MC_LINE0,
    )
    add(
        "iso_date_timestamp",
        "text/NaN/inf",
        mc_text(_set_field(lines, 0, 0, "2017-05-01T10:00:00")),
        "error",
        "column 0",
        MC_LINE0,
    )
    add(
        "nan_field",
        "text/NaN/inf",
        mc_text(_set_field(lines, 20, 1, "NaN")),
        "error",
        "finite",
        20 + MC_LINE0,
    )
    add(
        "inf_field",
        "text/NaN/inf",
        mc_text(_set_field(lines, 21, 3, "-inf")),
        "error",
        "finite",
        21 + MC_LINE0,
    )
    add(
        "empty_field",
        "text/NaN/inf",
        mc_text(_set_field(lines, 22, 1, "")),
        "error",
        "expected a number",
        22 + MC_LINE0,
    )
    add(
        "quoted_fields",
        "text/NaN/inf",
        mc_text([",".join(f'"{f}"' for f in ln.split(",")) for ln in lines]),
        "error",
        "expected a number",
        MC_LINE0,
    )
    add(
        "huge_acc_value",
        "huge values",
        mc_text(_set_field(lines, 30, 2, "3e38")),
        "error",
        "beyond any body-worn sensor",
        30 + MC_LINE0,
    )
    add(
        "absurd_timestamp",
        "timestamps",
        mc_text(_set_field(lines, 31, 0, "1e30")),
        "error",
        "beyond any body-worn sensor or clock|beyond any body-worn sensor",
        31 + MC_LINE0,
    )
    add(
        "huge_gyr_value",
        "huge values",
        mc_text(_set_field(lines7, 32, 5, "1e9"), header=head7),
        "error",
        "beyond any body-worn sensor",
        32 + MC_LINE0,
    )
    # -- delimiters and encodings ---------------------------------------------------------------
    add(
        "tab_delimited",
        "delimiters",
        mc_text(mc_lines(t_ms, acc, sep="\t"), header="t\tax\tay\taz"),
        "load",
    )
    add(
        "whitespace_delimited",
        "delimiters",
        mc_text(mc_lines(t_ms, acc, sep="  "), header=None),
        "load",
    )
    add(
        "semicolon_delimited",
        "delimiters",
        mc_text(mc_lines(t_ms, acc, sep=";"), header="t;ax;ay;az"),
        "load",
    )
    mixed = lines[:200] + [ln.replace(",", "\t") for ln in lines[200:210]] + lines[210:]
    add(
        "mixed_delimiters",
        "delimiters",
        mc_text(mixed),
        "error",
        "expected 4 fields",
        200 + MC_LINE0,
    )
    dc = [";".join(f.replace(".", ",") for f in ln.split(",")) for ln in lines]
    add(
        "decimal_comma_semicolon",
        "delimiters",
        mc_text(dc, header="t;ax;ay;az"),
        "error",
        None,
        None,
    )
    add("utf8_bom", "encoding/line ends", codecs.BOM_UTF8 + _b(good), "load")
    add("crlf", "encoding/line ends", mc_text(lines, nl="\r\n"), "load")
    add("cr_only", "encoding/line ends", mc_text(lines, nl="\r"), "load")
    add(
        "utf16",
        "encoding/line ends",
        good.encode("utf-16-le"),
        "load-or-error",
        note="UTF-16 without BOM: NUL bytes between characters",
    )
    add(
        "binary_garbage",
        "binary",
        bytes([0xC3, 0x28]) + np.random.default_rng(3).bytes(3000),
        "error",
        "not a text file",
        1,
    )
    add(
        "gzip_corrupt",
        "binary",
        b"\x1f\x8b\x08\x00garbage" * 10,
        "error",
        "gzip",
        filename=MCGILL_NAME + ".gz",
    )
    add(
        "gzip_truncated",
        "binary",
        gzip.compress(_b(good), mtime=0)[:500],
        "error",
        "gzip",
        filename=MCGILL_NAME + ".gz",
    )
    add("gz_name_plain_text", "binary", _b(good), "error", "gzip", filename=MCGILL_NAME + ".gz")
    add(
        "gzip_valid",
        "encoding/line ends",
        gzip.compress(_b(good), mtime=0),
        "load",
        filename=MCGILL_NAME + ".gz",
    )
    # -- units ----------------------------------------------------------------------------------
    acc_g = np.round(acc / STANDARD_GRAVITY, 5)
    add(
        "acc_in_g",
        "wrong units",
        mc_text(mc_lines(t_ms, acc_g)),
        "load",
        truth_acc=acc_g * STANDARD_GRAVITY,
        note="detected (logged at info), converted",
    )
    add(
        "acc_in_cm_s2",
        "wrong units",
        mc_text(mc_lines(t_ms, acc * 100)),
        "error",
        "fits neither|beyond any body-worn sensor",
    )
    half = np.vstack([acc_g[: n // 2], acc[n // 2 :]])
    add(
        "acc_units_change_mid_file",
        "wrong units",
        mc_text(mc_lines(t_ms, half)),
        "error",
        "changes by more than a factor",
        None,
    )
    deg = np.round(np.rad2deg(gyr), 5)
    add(
        "gyro_in_deg_s",
        "wrong units",
        mc_text(mc_lines(t_ms, acc, deg), header=head7),
        "warn",
        truth_gyr=np.deg2rad(deg),
    )
    add(
        "seven_columns_valid",
        "swapped/missing columns",
        mc_text(lines7, header=head7),
        "load",
        truth_gyr=gyr,
    )
    add(
        "timestamps_in_seconds",
        "timestamps",
        mc_text(mc_lines(t_ms, acc, t_fmt=lambda t: f"{t / 1000:.3f}")),
        "load",
    )
    add("timestamps_in_us", "timestamps", mc_text(mc_lines(t_ms * 1000, acc)), "load")
    add("timestamps_in_ns", "timestamps", mc_text(mc_lines(t_ms * 1_000_000, acc)), "load")
    add(
        "timestamps_since_boot_s",
        "timestamps",
        mc_text(mc_lines(t_ms - t_ms[0], acc, t_fmt=lambda t: f"{t / 1000:.3f}")),
        "load",
        truth_t=(t_ms - t_ms[0]) * 1e-3,
    )
    # -- columns --------------------------------------------------------------------------------
    add(
        "gyro_and_acc_blocks_swapped",
        "swapped/missing columns",
        mc_text(mc_lines(t_ms, gyr, acc), header=head7),
        "error",
        "columns look swapped",
        MC_LINE0,
    )
    t_last = [",".join([*ln.split(",")[1:], ln.split(",")[0]]) for ln in lines]
    add(
        "timestamp_column_last",
        "swapped/missing columns",
        mc_text(t_last, header="ax,ay,az,t"),
        "error",
        None,
        None,
    )
    add(
        "acc_axes_permuted",
        "swapped/missing columns",
        mc_text(mc_lines(t_ms, acc[:, [1, 2, 0]])),
        "harmless",
        note="undetectable: AE-GDIs are invariant to the sensor frame",
    )
    add(
        "acc_all_zero",
        "zero/constant signals",
        mc_text(mc_lines(t_ms, 0 * acc)),
        "error",
        "all zero",
        MC_LINE0,
    )
    add(
        "gyro_all_zero",
        "zero/constant signals",
        mc_text(mc_lines(t_ms, acc, 0 * gyr), header=head7),
        "warn",
        note="returned as no gyroscope",
    )
    const = np.tile([0.0, 9.81, 0.0], (n, 1))
    add(
        "acc_constant",
        "zero/constant signals",
        mc_text(mc_lines(t_ms, const)),
        "warn",
        truth_acc=const,
    )
    drop = acc.copy()
    drop[300:700] = 0.0
    add(
        "zero_filled_dropout",
        "zero/constant signals",
        mc_text(mc_lines(t_ms, drop)),
        "error",
        "changes by more than a factor",
        None,
    )
    # -- timestamps ------------------------------------------------------------------------------
    order = np.arange(n)
    rng = np.random.default_rng(11)
    for i in rng.choice(np.arange(0, n - 1, 2), size=n // 20, replace=False):
        order[[i, i + 1]] = order[[i + 1, i]]
    add(
        "timestamps_out_of_order",
        "timestamps",
        mc_text([lines[i] for i in order]),
        "load",
        truth_acc=acc[order],
        truth_t=t_s[order],
        pipeline="images",
        note="normal for Android; sorted by the resampling stage (warning there above 1 %)",
    )
    add(
        "file_reversed",
        "timestamps",
        mc_text(lines[::-1]),
        "load",
        truth_acc=acc[::-1],
        truth_t=t_s[::-1],
        pipeline="images",
    )
    dup = np.sort(np.r_[np.arange(n), rng.choice(n, size=n // 5, replace=False)])
    add(
        "many_duplicated_rows",
        "timestamps",
        mc_text([lines[i] for i in dup]),
        "load",
        truth_acc=acc[dup],
        truth_t=t_s[dup],
        pipeline="images",
    )
    add(
        "all_timestamps_equal",
        "timestamps",
        mc_text(mc_lines(np.full(n, t_ms[0]), acc)),
        "error",
        "at least two distinct",
    )
    jump = t_ms.copy()
    jump[500] += 86_400_000
    add(
        "one_timestamp_jumps_a_day",
        "timestamps",
        mc_text(mc_lines(jump, acc)),
        "load",
        truth_t=jump * 1e-3,
        pipeline="images",
        note="the sample is split off and dropped",
    )
    gap = t_ms.copy()
    gap[n // 2 :] += 30_000
    add(
        "thirty_second_gap",
        "timestamps",
        mc_text(mc_lines(gap, acc)),
        "load",
        truth_t=gap * 1e-3,
        pipeline="images",
        note="split into two segments",
    )
    reset = t_ms.copy()
    reset[n // 2 :] -= 3_600_000
    add(
        "clock_jumps_back_an_hour",
        "timestamps",
        mc_text(mc_lines(reset, acc)),
        "load",
        truth_t=reset * 1e-3,
        pipeline="images",
    )
    add(
        "float_millisecond_timestamps",
        "timestamps",
        mc_text(mc_lines(t_ms, acc, t_fmt=lambda t: f"{t}.25")),
        "load",
        truth_t=(t_ms + 0.25) * 1e-3,
    )
    # -- length -------------------------------------------------------------------------------
    add(
        "short_three_rows",
        "shorter than one AE-GDI",
        mc_text(lines[:3]),
        "load",
        truth_acc=acc[:3],
        truth_t=t_s[:3],
    )
    add(
        "short_two_seconds",
        "shorter than one AE-GDI",
        mc_text(lines[:57]),
        "load",
        truth_acc=acc[:57],
        truth_t=t_s[:57],
    )
    return cases


def all_cases() -> list[Case]:
    """Every malformed case of both formats."""
    return ouisir_cases() + mcgill_cases()
