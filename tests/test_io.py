"""Tests of stage 1, ``gaitcnn.io``: OU-ISIR and McGill loaders on hand-made and written files."""

from __future__ import annotations

import gzip
import inspect
import logging
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from gaitcnn.constants import DATA_DIR_ENV, STANDARD_GRAVITY
from gaitcnn.errors import GaitDataError
from gaitcnn.io import (
    Recording,
    detect_acc_unit,
    detect_timestamp_unit,
    load_mcgill,
    load_ouisir,
    read_mcgill_file,
    read_ouisir_file,
)
from gaitcnn.io._formats import (
    mcgill_filename,
    ouisir_automatic_filename,
    ouisir_manual_filename,
    write_mcgill_file,
    write_ouisir_file,
)

DATA = Path(__file__).parent / "data"
OUISIR = DATA / "ouisir"
MCGILL = DATA / "mcgill"
AUTO_DIR = "AutomaticExtractionData_IMUZCenter"
MANUAL_DIR = "ManualExtractionData"


def _walk(n_timepoints=50, seed=0):
    """Seeded gyro (rad/s) and acc (g) arrays of a fake walk."""
    rng = np.random.default_rng(seed)
    gyr = rng.normal(0.0, 0.5, size=(n_timepoints, 3))
    acc = rng.normal(0.0, 0.2, size=(n_timepoints, 3)) + np.array([0.0, -1.0, 0.0])
    return gyr, acc


def _write_text(path: Path, text: str, *, newline="\n", bom=False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.replace("\n", newline).encode()
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def _ouisir_text(rows: list[str], n_rows: int | None = None) -> str:
    n = len(rows) if n_rows is None else n_rows
    return f"rows: {n}\ncols: 6\n" + "\n".join(rows) + "\n"


GOOD_ROW = "0.5,-0.25,0.125,0.0,-1.0,0.5"


# --------------------------------------------------------------------------------------------
# OU-ISIR: hand-made files in tests/data
# --------------------------------------------------------------------------------------------
class TestOuisirHandMade:
    def test_automatic_subset_columns_units_and_quirk(self, caplog):
        with caplog.at_level(logging.DEBUG, logger="gaitcnn.io._ouisir"):
            recs = load_ouisir(OUISIR)
        assert [r.key for r in recs] == ["7/gallery/seq0", "104/gallery/seq0", "104/probe/seq1"]
        rec = recs[1]
        assert isinstance(rec, Recording)
        assert rec.sensor == "center"
        assert rec.source.endswith("T0_ID000104_Center_seq0.csv")
        # rows: 6 wins over the 7 data lines; the surplus is reported at debug level.
        assert rec.n_timepoints == 6
        assert any(
            "duplicated last line" in m and r.levelno == logging.DEBUG
            for r, m in zip(caplog.records, caplog.messages, strict=True)
        )
        # Gyro (rad/s) comes FIRST in the file, acceleration in g is converted to m/s^2.
        np.testing.assert_array_equal(rec.gyr[0], [0.5, -0.25, 0.125])
        np.testing.assert_allclose(rec.acc[0], np.array([0.0, -1.0, 0.5]) * STANDARD_GRAVITY)
        assert rec.gyr[5, 2] == 1e-05  # shortest-repr number format
        np.testing.assert_allclose(rec.timestamps_s, np.arange(6) / 100.0)

    def test_bom_crlf_trailing_blank_lines(self):
        probe = load_ouisir(OUISIR, subjects=[104])[1]
        assert probe.session == "probe" and probe.walk == "seq1"
        assert probe.n_timepoints == 5
        np.testing.assert_allclose(probe.gyr[0], [-0.1, 0.2, -0.3])
        np.testing.assert_allclose(probe.acc[-1], np.array([1.0, 0.14, -0.09]) * 9.80665)

    def test_manual_subset_six_decimals(self):
        recs = load_ouisir(OUISIR, subset="manual")
        assert [(r.session, r.walk) for r in recs] == [("gallery", "Walk1"), ("probe", "Walk2")]
        np.testing.assert_array_equal(recs[0].gyr[0], [0.5, -0.25, 0.125])
        np.testing.assert_allclose(recs[0].acc[0, 1], -STANDARD_GRAVITY)

    def test_manual_same_values_as_automatic(self):
        auto = load_ouisir(OUISIR, subjects=[104])[0]
        manual = load_ouisir(OUISIR, subset="manual")[0]
        np.testing.assert_allclose(manual.gyr, auto.gyr[:4], rtol=0, atol=1e-12)
        np.testing.assert_allclose(manual.acc, auto.acc[:4], rtol=0, atol=1e-12)

    def test_slopes_only_on_request(self):
        recs = load_ouisir(OUISIR, subset="manual", include_slopes=True)
        assert [r.walk for r in recs] == ["Walk1", "Walk2", "SlopeUp"]
        assert recs[2].session == "probe"

    def test_android_zero_gyro_is_none(self):
        (rec,) = load_ouisir(OUISIR, sensor="android")
        assert rec.sensor == "android" and rec.gyr is None and not rec.has_gyr
        np.testing.assert_allclose(rec.acc[0], np.array([0.1, -0.99, 0.1]) * STANDARD_GRAVITY)

    def test_root_pointing_at_a_data_folder(self):
        recs = load_ouisir(OUISIR / AUTO_DIR)
        assert len(recs) == 3
        (rec,) = load_ouisir(OUISIR / MANUAL_DIR / "Android")
        assert rec.sensor == "android"
        recs = load_ouisir(OUISIR / MANUAL_DIR)
        assert [r.walk for r in recs] == ["Walk1", "Walk2"]

    def test_root_from_environment(self, monkeypatch):
        monkeypatch.setenv(DATA_DIR_ENV, str(OUISIR))
        assert len(load_ouisir()) == 3

    def test_no_root_at_all(self, monkeypatch):
        monkeypatch.delenv(DATA_DIR_ENV, raising=False)
        with pytest.raises(GaitDataError, match=DATA_DIR_ENV):
            load_ouisir()

    def test_subjects_filter(self):
        assert [r.subject_id for r in load_ouisir(OUISIR, subjects=(7,))] == [7]
        with pytest.raises(GaitDataError, match=r"subjects \[9\]"):
            load_ouisir(OUISIR, subjects=[9])

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"subset": "both"}, r"subset must be one of .*'automatic'.*subset='both'"),
            ({"sensor": "wrist"}, r"sensor must be one of .*'android'.*sensor='wrist'"),
            ({"subset": "automatic", "sensor": "left"}, "center sensor only"),
        ],
    )
    def test_bad_arguments(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            load_ouisir(OUISIR, **kwargs)

    def test_sensor_contradicting_the_folder(self):
        with pytest.raises(ValueError, match="sensor='left'"):
            load_ouisir(OUISIR / MANUAL_DIR / "Android", sensor="left")


# --------------------------------------------------------------------------------------------
# OU-ISIR: files written by the project's writer
# --------------------------------------------------------------------------------------------
class TestOuisirWriterRoundTrip:
    def test_automatic_round_trip(self, tmp_path):
        folder = tmp_path / AUTO_DIR
        truth = {}
        for subject in (3, 12):
            for seq in (0, 1):
                gyr, acc = _walk(40 + seq, seed=subject * 10 + seq)
                truth[subject, seq] = gyr, acc
                write_ouisir_file(
                    folder / ouisir_automatic_filename(subject, seq),
                    gyr,
                    acc,
                    duplicate_last_line=True,
                )
        recs = load_ouisir(tmp_path)
        assert [(r.subject_id, r.walk) for r in recs] == [
            (3, "seq0"),
            (3, "seq1"),
            (12, "seq0"),
            (12, "seq1"),
        ]
        for rec in recs:
            gyr, acc = truth[rec.subject_id, int(rec.walk[-1])]
            np.testing.assert_array_equal(rec.gyr, gyr)  # shortest repr is exact
            np.testing.assert_allclose(rec.acc, acc * STANDARD_GRAVITY, rtol=1e-15)

    @pytest.mark.parametrize("sensor", ["center", "left", "right"])
    def test_manual_round_trip_per_sensor(self, tmp_path, sensor):
        folders = {"center": "IMUZCenter", "left": "IMUZLeft", "right": "IMUZRight"}
        for name, folder in folders.items():
            gyr, acc = _walk(30, seed=len(name))
            for walk in ("Walk1", "Walk2"):
                path = tmp_path / MANUAL_DIR / folder / ouisir_manual_filename(5, walk)
                write_ouisir_file(path, gyr + (name == sensor), acc, decimals=6)
        recs = load_ouisir(tmp_path, sensor=sensor)  # auto -> manual: no automatic folder
        assert {r.sensor for r in recs} == {sensor}
        gyr, acc = _walk(30, seed=len(sensor))
        np.testing.assert_allclose(recs[0].gyr, gyr + 1, atol=5e-7)
        np.testing.assert_allclose(recs[0].acc, acc * STANDARD_GRAVITY, atol=5e-7 * 9.81)

    def test_auto_prefers_automatic(self, tmp_path):
        gyr, acc = _walk(20)
        write_ouisir_file(tmp_path / AUTO_DIR / ouisir_automatic_filename(1, 0), gyr, acc)
        write_ouisir_file(
            tmp_path / MANUAL_DIR / "IMUZCenter" / ouisir_manual_filename(2, "Walk1"), gyr, acc
        )
        assert [r.subject_id for r in load_ouisir(tmp_path)] == [1]
        assert [r.subject_id for r in load_ouisir(tmp_path, subset="manual")] == [2]
        # Only the manual subset has a left sensor.
        with pytest.raises(GaitDataError, match="IMUZLeft"):
            load_ouisir(tmp_path, sensor="left")

    def test_android_writer_zero_gyro(self, tmp_path):
        _, acc = _walk(20)
        path = tmp_path / "Android" / ouisir_manual_filename(9, "Walk2")
        write_ouisir_file(path, np.zeros((20, 3)), acc, decimals=6)
        (rec,) = load_ouisir(tmp_path / "Android")
        assert rec.gyr is None and rec.session == "probe"

    def test_unexpected_names_are_skipped_with_a_warning(self, tmp_path, caplog):
        gyr, acc = _walk(20)
        write_ouisir_file(tmp_path / AUTO_DIR / ouisir_automatic_filename(1, 0), gyr, acc)
        write_ouisir_file(tmp_path / AUTO_DIR / "T0_ID000001_Center_seq0 (copy).csv", gyr, acc)
        with caplog.at_level(logging.WARNING):
            assert len(load_ouisir(tmp_path)) == 1
        assert "(copy)" in caplog.text


# --------------------------------------------------------------------------------------------
# OU-ISIR: errors name the file and the line
# --------------------------------------------------------------------------------------------
class TestOuisirErrors:
    def _read(self, tmp_path, text, **kwargs):
        path = _write_text(tmp_path / "T0_ID000001_Walk1.csv", text, **kwargs)
        return read_ouisir_file(path)

    def test_empty_file(self, tmp_path):
        with pytest.raises(GaitDataError, match=r"T0_ID000001_Walk1\.csv, line 1: empty file"):
            self._read(tmp_path, "")

    def test_missing_header(self, tmp_path):
        with pytest.raises(GaitDataError, match=r"Walk1\.csv, line 1: expected the header 'rows"):
            self._read(tmp_path, GOOD_ROW + "\n" + GOOD_ROW + "\n")

    def test_garbled_rows_header(self, tmp_path):
        with pytest.raises(GaitDataError, match=r"line 1: .*found 'rows= 2'"):
            self._read(tmp_path, f"rows= 2\ncols: 6\n{GOOD_ROW}\n{GOOD_ROW}\n")

    def test_wrong_cols_header(self, tmp_path):
        with pytest.raises(GaitDataError, match=r"line 2: expected the header 'cols: 6', found"):
            self._read(tmp_path, f"rows: 1\ncols: 7\n{GOOD_ROW}\n")

    def test_header_only(self, tmp_path):
        with pytest.raises(GaitDataError, match=r"line 1: no data: .*0 data lines"):
            self._read(tmp_path, "rows: 3\ncols: 6\n")

    def test_too_few_rows(self, tmp_path):
        with pytest.raises(GaitDataError, match=r"line 1: header says rows: 5 .* 3 data lines"):
            self._read(tmp_path, _ouisir_text([GOOD_ROW] * 3, n_rows=5))

    def test_two_surplus_rows(self, tmp_path):
        with pytest.raises(GaitDataError, match=r"rows: 3 but the file has 5 data lines"):
            self._read(tmp_path, _ouisir_text([GOOD_ROW] * 5, n_rows=3))

    def test_one_surplus_row_that_is_not_a_repeat_is_dropped_with_a_warning(self, tmp_path, caplog):
        text = _ouisir_text([GOOD_ROW, GOOD_ROW, "1,1,1,1,1,1"], n_rows=2)
        with caplog.at_level(logging.WARNING):
            gyr, _ = self._read(tmp_path, text)
        assert gyr.shape == (2, 3)
        assert "does not repeat" in caplog.text

    def test_wrong_column_count(self, tmp_path):
        rows = [GOOD_ROW, GOOD_ROW, "0.5,-0.25,0.125,0.0,-1.0", GOOD_ROW]
        with pytest.raises(GaitDataError, match=r"Walk1\.csv, line 5: expected 6 .* found 5"):
            self._read(tmp_path, _ouisir_text(rows))

    def test_blank_line_in_the_middle(self, tmp_path):
        rows = [GOOD_ROW, "", GOOD_ROW]
        with pytest.raises(GaitDataError, match=r"line 4: expected 6 .* found 0"):
            self._read(tmp_path, _ouisir_text(rows))

    def test_non_numeric_field(self, tmp_path):
        rows = [GOOD_ROW, "0.5,-0.25,0.125,0.0,abc,0.5"]
        with pytest.raises(
            GaitDataError, match=r"line 4: column Ay: expected a number, found 'abc'"
        ):
            self._read(tmp_path, _ouisir_text(rows), newline="\r\n")

    def test_empty_field(self, tmp_path):
        rows = [GOOD_ROW, "0.5,,0.125,0.0,1.0,0.5"]
        with pytest.raises(GaitDataError, match=r"line 4: column Gy: expected a number"):
            self._read(tmp_path, _ouisir_text(rows))

    @pytest.mark.parametrize("bad", ["nan", "inf", "-Infinity"])
    def test_non_finite(self, tmp_path, bad):
        rows = [GOOD_ROW, GOOD_ROW, f"0.5,{bad},0.125,0.0,1.0,0.5"]
        with pytest.raises(GaitDataError, match=rf"line 5: column Gy: .*finite.*{bad}"):
            self._read(tmp_path, _ouisir_text(rows), bom=True)

    def test_binary_file(self, tmp_path):
        path = tmp_path / "T0_ID000001_Walk1.csv"
        path.write_bytes(b"rows: 1\ncols: 6\n\xff\xfe\x00")
        with pytest.raises(GaitDataError, match=r"line 3: not a text file"):
            read_ouisir_file(path)

    def test_error_from_load_names_the_file(self, tmp_path):
        folder = tmp_path / AUTO_DIR
        gyr, acc = _walk(10)
        write_ouisir_file(folder / ouisir_automatic_filename(1, 0), gyr, acc)
        bad = folder / ouisir_automatic_filename(1, 1)
        _write_text(bad, _ouisir_text([GOOD_ROW, "1,2,3"]))
        with pytest.raises(GaitDataError) as info:
            load_ouisir(tmp_path)
        assert info.value.path == str(bad) and info.value.line == 4

    def test_no_recognisable_files(self, tmp_path):
        (tmp_path / "something.csv").write_text("a,b\n")
        with pytest.raises(GaitDataError) as info:
            load_ouisir(tmp_path)
        message = str(info.value)
        assert str(tmp_path) in message
        assert "AutomaticExtractionData_IMUZCenter/T0_ID######_Center_seq{0,1}.csv" in message
        assert "ManualExtractionData/IMUZCenter/T0_ID######_Walk{1,2}.csv" in message

    def test_root_does_not_exist(self, tmp_path):
        with pytest.raises(GaitDataError, match="not an existing folder"):
            load_ouisir(tmp_path / "nope")


# --------------------------------------------------------------------------------------------
# McGill
# --------------------------------------------------------------------------------------------
class TestMcgillHandMade:
    def test_loads_all_layouts(self, caplog):
        with caplog.at_level(logging.INFO, logger="gaitcnn.io._mcgill"):
            recs = load_mcgill(MCGILL)
        assert [r.key for r in recs] == ["1/day1/day1", "1/day2/day2", "2/day1/day1"]
        assert {r.sensor for r in recs} == {"pocket"}
        # The chosen units are logged per file.
        assert "timestamps read as ms" in caplog.text
        assert "timestamps read as s" in caplog.text
        assert "acceleration read as g" in caplog.text

    def test_comma_header_epoch_ms_with_gyro(self):
        rec = load_mcgill(MCGILL)[0]
        assert rec.n_timepoints == 7  # duplicate and out-of-order rows are kept
        np.testing.assert_allclose(
            rec.timestamps_s[:3] - 1.5e9, [0.0, 0.035, 0.035], rtol=0, atol=1e-6
        )
        assert rec.timestamps_s[4] > rec.timestamps_s[5]  # file order kept
        np.testing.assert_array_equal(rec.acc[0], [0.5, 9.7, 1.1])  # m/s^2 unchanged
        np.testing.assert_array_equal(rec.gyr[0], [0.01, -0.02, 0.03])

    def test_whitespace_no_header_seconds_in_g(self):
        rec = load_mcgill(MCGILL)[1]
        assert rec.source.endswith("S1_d2.txt")
        assert rec.gyr is None
        np.testing.assert_allclose(rec.timestamps_s, [0.0, 0.036, 0.070, 0.107, 0.141])
        np.testing.assert_allclose(rec.acc[0], np.array([0.05, 0.99, 0.10]) * STANDARD_GRAVITY)

    def test_gzip_tab(self):
        rec = load_mcgill(MCGILL)[2]
        assert rec.n_timepoints == 4
        np.testing.assert_allclose(rec.acc[:, 1], [9.81, 9.79, 9.80, 9.82])

    def test_single_file_root(self):
        (rec,) = load_mcgill(MCGILL / "S1_d2.txt")
        assert rec.subject_id == 1 and rec.session == "day2"


class TestMcgillWriterRoundTrip:
    @pytest.mark.parametrize("delimiter", [",", "\t", " "])
    @pytest.mark.parametrize("header", [True, False])
    @pytest.mark.parametrize("gz", [False, True])
    def test_round_trip(self, tmp_path, delimiter, header, gz):
        rng = np.random.default_rng(1)
        n = 200
        t_ms = 1_600_000_000_000 + np.cumsum(rng.normal(35, 5, n)).astype(np.int64)
        t_ms[50] = t_ms[49]  # duplicate
        t_ms[[80, 81]] = t_ms[[81, 80]]  # out of order
        acc = rng.normal(0, 1, (n, 3)) + np.array([0, 9.81, 0])
        gyr = rng.normal(0, 0.5, (n, 3))
        for subject, day in ((4, 1), (4, 2), (11, 1)):
            path = tmp_path / mcgill_filename(subject, day, gz=gz)
            write_mcgill_file(path, t_ms, acc, gyr, delimiter=delimiter, header=header)
        recs = load_mcgill(tmp_path)
        assert [(r.subject_id, r.session) for r in recs] == [(4, "day1"), (4, "day2"), (11, "day1")]
        rec = recs[0]
        np.testing.assert_allclose(rec.timestamps_s, t_ms / 1000.0, rtol=0, atol=1e-6)
        np.testing.assert_allclose(rec.acc, acc, atol=5e-6)
        np.testing.assert_allclose(rec.gyr, gyr, atol=5e-6)

    def test_acc_in_g_converted(self, tmp_path):
        t_ms = 1_600_000_000_000 + 35 * np.arange(20)
        acc_g = np.tile([0.1, 0.98, 0.2], (20, 1))
        write_mcgill_file(tmp_path / "subject01_day1.csv", t_ms, acc_g)
        (rec,) = load_mcgill(tmp_path)
        np.testing.assert_allclose(rec.acc, acc_g * STANDARD_GRAVITY, atol=1e-4)
        assert rec.gyr is None
        (rec,) = load_mcgill(tmp_path, acc_unit="m/s^2")  # explicit unit: no conversion
        np.testing.assert_allclose(rec.acc, acc_g, atol=1e-5)

    def test_explicit_timestamp_unit(self, tmp_path):
        t_ms = 1_600_000_000_000 + 35 * np.arange(20)
        write_mcgill_file(tmp_path / "subject01_day1.csv", t_ms, np.tile([0, 9.8, 0], (20, 1)))
        (rec,) = load_mcgill(tmp_path, timestamp_unit="s")
        assert rec.timestamps_s[0] == 1.6e12

    def test_column_map(self, tmp_path):
        path = tmp_path / "s3-d1.csv"
        _write_text(
            path,
            "ax;ay;az;time_s;extra\n"
            "0.1;9.8;0.2;10.00;7\n0.2;9.7;0.1;10.03;7\n0.3;9.9;0.0;10.07;7\n",
        )
        (rec,) = load_mcgill(tmp_path, column_map={"t": 3, "ax": 0, "ay": 1, "az": 2})
        assert (rec.subject_id, rec.session) == (3, "day1")
        np.testing.assert_allclose(rec.timestamps_s, [10.0, 10.03, 10.07])
        np.testing.assert_allclose(rec.acc[:, 1], [9.8, 9.7, 9.9])

    def test_custom_filename_pattern(self, tmp_path):
        t_ms = 1_600_000_000_000 + 35 * np.arange(20)
        acc = np.tile([0, 9.8, 0], (20, 1))
        write_mcgill_file(tmp_path / "P07-session2.csv", t_ms, acc)
        (rec,) = load_mcgill(tmp_path, filename_pattern=r"P(?P<subject>\d+)-session(?P<day>\d)")
        assert (rec.subject_id, rec.session, rec.walk) == (7, "day2", "day2")

    def test_non_matching_files_skipped_with_warning(self, tmp_path, caplog):
        t_ms = 1_600_000_000_000 + 35 * np.arange(20)
        acc = np.tile([0, 9.8, 0], (20, 1))
        write_mcgill_file(tmp_path / "subject01_day1.csv", t_ms, acc)
        write_mcgill_file(tmp_path / "calibration.csv", t_ms, acc)
        (tmp_path / "notes.md").write_text("ignored silently")
        (tmp_path / "README.txt").write_text("ignored silently")
        with caplog.at_level(logging.WARNING):
            assert len(load_mcgill(tmp_path)) == 1
        assert "calibration.csv" in caplog.text
        assert "notes.md" not in caplog.text and "README" not in caplog.text


class TestMcgillErrors:
    def _write(self, tmp_path, text, name="subject01_day1.csv"):
        return _write_text(tmp_path / name, text)

    def test_no_matching_files(self, tmp_path):
        (tmp_path / "foo.csv").write_text("1,2,3,4\n")
        with pytest.raises(GaitDataError) as info:
            load_mcgill(tmp_path)
        assert str(tmp_path) in str(info.value) and "filename_pattern" in str(info.value)
        assert "(?P<subject>" in str(info.value)

    def test_non_numeric_field(self, tmp_path):
        self._write(tmp_path, "t,ax,ay,az\n0,0,9.8,0\n35,0,9.8,0\n70,0,x9.8,0\n")
        with pytest.raises(GaitDataError, match=r"day1\.csv, line 4: column 2: .*'x9\.8'"):
            load_mcgill(tmp_path)

    def test_nan(self, tmp_path):
        self._write(tmp_path, "0,0,9.8,0\n35,NaN,9.8,0\n70,0,9.8,0\n")
        with pytest.raises(GaitDataError, match=r"day1\.csv, line 2: column 1: .*finite.*NaN"):
            load_mcgill(tmp_path)

    def test_wrong_field_count(self, tmp_path):
        self._write(tmp_path, "0\t0\t9.8\t0\n35\t0\t9.8\n70\t0\t9.8\t0\n")
        with pytest.raises(GaitDataError, match=r"line 2: expected 4 fields .*'\\t'.* found 3"):
            load_mcgill(tmp_path)

    def test_unknown_layout(self, tmp_path):
        self._write(tmp_path, "0,0,9.8,0,1,2\n35,0,9.8,0,1,2\n")
        with pytest.raises(GaitDataError, match=r"line 1: expected 4 columns .* found 6"):
            load_mcgill(tmp_path)

    def test_empty_and_header_only(self, tmp_path):
        path = self._write(tmp_path, "")
        with pytest.raises(GaitDataError, match="empty file"):
            read_mcgill_file(path)
        self._write(tmp_path, "t,ax,ay,az\n")
        with pytest.raises(GaitDataError, match=r"line 1: no data lines after the header"):
            read_mcgill_file(path)

    def test_undetectable_acc_unit(self, tmp_path):
        path = self._write(tmp_path, "0,0,3,0\n35,0,3,0\n70,0,3,0\n")
        with pytest.raises(GaitDataError, match=r"day1\.csv: acc: median \|a\| = 3"):
            read_mcgill_file(path)

    def test_corrupt_gzip(self, tmp_path):
        path = tmp_path / "subject01_day1.csv.gz"
        path.write_bytes(gzip.compress(b"0,0,9.8,0\n")[:-6])
        with pytest.raises(GaitDataError, match="gzip"):
            read_mcgill_file(path)

    def test_duplicate_subject_day(self, tmp_path):
        self._write(tmp_path, "0,0,9.8,0\n35,0,9.8,0\n")
        self._write(tmp_path, "0,0,9.8,0\n35,0,9.8,0\n", name="S01_D1.txt")
        with pytest.raises(GaitDataError, match="two files for subject 1 day 1"):
            load_mcgill(tmp_path)

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"column_map": {"t": 0, "ax": 1}}, "column_map must map"),
            ({"column_map": {"t": 0, "ax": 1, "ay": 2, "az": -3}}, r"column_map\['az'\]"),
            ({"timestamp_unit": "min"}, "timestamp_unit="),
            ({"acc_unit": "mg"}, "acc_unit="),
            ({"filename_pattern": r"(\d+)_(\d+)"}, "named groups 'subject' and 'day'"),
        ],
    )
    def test_bad_arguments(self, tmp_path, kwargs, match):
        shutil.copy(MCGILL / "S1_d2.txt", tmp_path)
        with pytest.raises(ValueError, match=match):
            load_mcgill(tmp_path, **kwargs)

    def test_column_map_beyond_the_file(self, tmp_path):
        self._write(tmp_path, "0,0,9.8,0\n35,0,9.8,0\n")
        with pytest.raises(GaitDataError, match="needs column 9 but the file has 4 columns"):
            load_mcgill(tmp_path, column_map={"t": 0, "ax": 1, "ay": 2, "az": 9})


class TestUnitDetection:
    @pytest.mark.parametrize(
        ("step", "offset", "unit"),
        [
            (0.035, 0.0, "s"),
            (0.035, 1.6e9, "s"),
            (35.0, 0.0, "ms"),
            (35.0, 1.6e12, "ms"),
            (35e3, 0.0, "us"),
            (35e6, 1.6e18, "ns"),
            (0.005, 0.0, "s"),  # a 200 Hz logger
            (100.0, 0.0, "ms"),  # a 10 Hz logger
        ],
    )
    def test_timestamp_unit(self, step, offset, unit):
        rng = np.random.default_rng(0)
        t = offset + np.cumsum(rng.normal(step, step * 0.15, 500))
        t[100] = t[99]  # duplicates and disorder do not matter
        t[[200, 201]] = t[[201, 200]]
        assert detect_timestamp_unit(t) == unit

    def test_conflicting_clues_warn(self, caplog):
        # Epoch-second magnitude, millisecond-like steps: the step wins, with a warning.
        with caplog.at_level(logging.WARNING):
            assert detect_timestamp_unit(1.6e9 + 35.0 * np.arange(10)) == "ms"
        assert "looks like epoch 's'" in caplog.text

    def test_timestamp_unit_needs_two_values(self):
        with pytest.raises(ValueError, match="timestamps"):
            detect_timestamp_unit([5.0, 5.0])

    def test_acc_unit(self):
        rng = np.random.default_rng(0)
        acc = rng.normal(0, 2.0, (300, 3)) + np.array([0, 9.81, 0])
        assert detect_acc_unit(acc) == "m/s^2"
        assert detect_acc_unit(acc / 9.81) == "g"
        with pytest.raises(ValueError, match="acc_unit"):
            detect_acc_unit(acc * 100)


# --------------------------------------------------------------------------------------------
# Docs match signatures (STYLE 1.4)
# --------------------------------------------------------------------------------------------
def _documented_parameters(func) -> list[str]:
    doc = inspect.getdoc(func)
    section = doc.split("Parameters\n----------\n", 1)[1]
    section = re.split(r"\n\n[A-Z][a-z]+( [A-Z][a-z]+)?\n-+\n", section)[0]
    return [m.group(1) for m in re.finditer(r"^(\*{0,2}\w+) :", section, re.MULTILINE)]


@pytest.mark.parametrize(
    "func",
    [
        load_ouisir,
        read_ouisir_file,
        load_mcgill,
        read_mcgill_file,
        detect_timestamp_unit,
        detect_acc_unit,
    ],
    ids=lambda f: f.__name__,
)
def test_all_parameters_documented(func):
    signature = [
        ("**" + p.name) if p.kind is p.VAR_KEYWORD else p.name
        for p in inspect.signature(func).parameters.values()
    ]
    assert _documented_parameters(func) == signature


def test_load_mcgill_lazy_reads_the_same_recordings(tmp_path):
    """lazy=True defers reading to access time but gives identical recordings."""
    from gaitcnn.io import LazyRecordings, load_mcgill, write_mcgill_file

    rng = np.random.default_rng(0)
    for subject in (1, 2):
        for day in (1, 2):
            t = 1_600_000_000_000 + np.cumsum(rng.integers(30, 40, 200))
            acc = rng.normal(size=(200, 3)) + np.array([0.0, 9.81, 0.0])
            write_mcgill_file(tmp_path / f"subject{subject:02d}_day{day}.csv", t, acc)
    eager = load_mcgill(tmp_path)
    lazy = load_mcgill(tmp_path, lazy=True)
    assert isinstance(lazy, LazyRecordings) and len(lazy) == len(eager) == 4
    for a, b in zip(eager, lazy, strict=True):
        assert (a.subject_id, a.session, a.source) == (b.subject_id, b.session, b.source)
        np.testing.assert_array_equal(a.acc, b.acc)
    assert [r.key for r in lazy[1:3]] == [r.key for r in eager[1:3]]
