"""What the loaders accept and refuse: file names, number syntax, special and oversized files.

Issue 16, items 3, 5, 6, 9, 11, 12 and the skipped-file summary. Every refusal is a
:class:`GaitDataError` that names the file; nothing hangs and memory stays bounded.
"""

from __future__ import annotations

import gzip
import logging
import os
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from gaitcnn.errors import GaitDataError
from gaitcnn.io import (
    PLAUSIBILITY_CHECKS,
    load_mcgill,
    load_ouisir,
    mcgill_files,
    ouisir_files,
    read_mcgill_file,
    read_ouisir_file,
)
from gaitcnn.io._formats import write_mcgill_file, write_ouisir_file

AUTO_DIR = "AutomaticExtractionData_IMUZCenter"


def _walk(n_timepoints=300, seed=0):
    """Gyro (rad/s) and acc (g) of a fake walk with gravity along -y."""
    rng = np.random.default_rng(seed)
    gyr = rng.normal(0.0, 0.5, size=(n_timepoints, 3))
    acc = rng.normal(0.0, 0.2, size=(n_timepoints, 3)) + np.array([0.0, -1.0, 0.0])
    return gyr, acc


def _ouisir_root(tmp_path: Path, names: list[str]) -> Path:
    root = tmp_path / "ouisir"
    for k, name in enumerate(names):
        write_ouisir_file(root / AUTO_DIR / name, *_walk(seed=k))
    return root


def _mcgill_day(n=3000, seed=0, *, flip_at=None):
    """Epoch-ms timestamps (~30 Hz) and m/s^2 acceleration; gravity flips sign at ``flip_at``."""
    rng = np.random.default_rng(seed)
    t_ms = 1_500_000_000_000 + np.cumsum(rng.integers(30, 40, size=n))
    acc = rng.normal(0.0, 1.5, size=(n, 3)) + np.array([0.0, 9.81, 0.0])
    if flip_at is not None:
        acc[flip_at:, 1] -= 2 * 9.81  # the phone put back upside down: gravity along -y
    return t_ms, acc


def _no_hang(func, timeout_s=20.0):
    """Run ``func`` in a thread; fail (instead of hanging the suite) if it does not return."""
    box = {}

    def target():
        try:
            box["value"] = func()
        except BaseException as exc:  # handed back to the test
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout_s)
    assert not thread.is_alive(), f"{func} hung for {timeout_s} s"
    if "error" in box:
        raise box["error"]
    return box["value"]


# ---------------------------------------------------------------------------------------------
# Item 3: OU-ISIR file names
# ---------------------------------------------------------------------------------------------


class TestOuisirNames:
    @pytest.mark.parametrize(
        "variant",
        ["T0_ID107_Center_seq0.csv", "T0_ID000107_Center_seq0.CSV", "t0_id000107_center_seq0.csv"],
    )
    def test_only_the_release_names_by_default(self, tmp_path, variant, caplog):
        root = _ouisir_root(tmp_path, ["T0_ID000107_Center_seq0.csv", variant])
        with caplog.at_level(logging.WARNING):
            recordings = load_ouisir(root)
        assert len(recordings) == 1 and recordings[0].source.endswith("T0_ID000107_Center_seq0.csv")
        assert variant in caplog.text and "exact" in caplog.text

    @pytest.mark.parametrize("variant", ["T0_ID107_Center_seq0.csv", "T0_ID000107_Center_seq0.CSV"])
    def test_two_files_for_one_walk_are_an_error_naming_both(self, tmp_path, variant):
        root = _ouisir_root(tmp_path, ["T0_ID000107_Center_seq0.csv", variant])
        with pytest.raises(GaitDataError, match="two files for subject 107") as info:
            load_ouisir(root, strict_names=False)
        assert "T0_ID000107_Center_seq0.csv" in str(info.value) and variant in str(info.value)

    def test_variants_load_when_asked(self, tmp_path):
        root = _ouisir_root(tmp_path, ["T0_ID107_Center_seq0.csv", "T0_ID000108_Center_seq1.CSV"])
        assert [r.subject_id for r in load_ouisir(root, strict_names=False)] == [107, 108]
        with pytest.raises(GaitDataError, match="no OU-ISIR files"):
            load_ouisir(root)

    def test_non_ascii_digits_are_never_an_id(self, tmp_path):
        arabic = "T0_ID" + "\u0660" * 3 + "\u0661\u0660\u0667" + "_Center_seq0.csv"  # 000107
        root = _ouisir_root(tmp_path, ["T0_ID000107_Center_seq0.csv", arabic])
        for strict in (True, False):
            assert len(load_ouisir(root, strict_names=strict)) == 1

    def test_file_list_matches_what_is_loaded(self, tmp_path):
        root = _ouisir_root(
            tmp_path, ["T0_ID000107_Center_seq0.csv", "T0_ID000101_Center_seq1.csv"]
        )
        files = ouisir_files(root)
        assert [Path(r.source) for r in load_ouisir(root)] == files


# ---------------------------------------------------------------------------------------------
# Item 5: plain ASCII decimal numbers only
# ---------------------------------------------------------------------------------------------

NOT_PLAIN = {
    "underscore": "1_0",
    "nbsp": "\u00a01.0",
    "arabic_digits": "\u0661.\u0665",
    "fullwidth_digits": "\uff11\uff10",
    "vertical_tab": "1.0\x0b",
}


@pytest.mark.parametrize("name", sorted(NOT_PLAIN))
def test_ouisir_refuses_numbers_that_are_not_plain_ascii(tmp_path, name):
    gyr, acc = _walk()
    path = write_ouisir_file(tmp_path / "T0_ID000001_Center_seq0.csv", gyr, acc)
    lines = path.read_text().split("\n")
    fields = lines[5].split(",")
    fields[4] = NOT_PLAIN[name]
    lines[5] = ",".join(fields)
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(GaitDataError, match="plain ASCII decimal") as info:
        read_ouisir_file(path)
    assert str(path) in str(info.value) and "line 6" in str(info.value)


@pytest.mark.parametrize("name", sorted(NOT_PLAIN))
def test_mcgill_refuses_numbers_that_are_not_plain_ascii(tmp_path, name):
    path = write_mcgill_file(tmp_path / "subject01_day1.csv", *_mcgill_day(n=400))
    lines = path.read_text().split("\n")
    fields = lines[10].split(",")
    fields[2] = NOT_PLAIN[name]
    lines[10] = ",".join(fields)
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(GaitDataError, match="plain ASCII decimal") as info:
        read_mcgill_file(path)
    assert str(path) in str(info.value) and "line 11" in str(info.value)


def test_plain_notations_still_load(tmp_path):
    path = tmp_path / "T0_ID000001_Center_seq0.csv"
    rows = ["0.1,-0.2,+0.3,.01,-1.0e0,2E-2", " 0.1 ,-0.2,0.3,0.01,-1., 0.02"] * 150
    path.write_text(f"rows: {len(rows)}\ncols: 6\n" + "\n".join(rows) + "\n")
    gyr, acc = read_ouisir_file(path)
    assert gyr.shape == (300, 3) and np.isfinite(acc).all()


# ---------------------------------------------------------------------------------------------
# Item 6: gravity over short stretches, and switching a check off
# ---------------------------------------------------------------------------------------------


def test_phone_turned_over_mid_day_is_accepted(tmp_path):
    # Gravity along +y for the first half, -y for the second: the whole-file mean is ~0.
    path = write_mcgill_file(tmp_path / "subject01_day1.csv", *_mcgill_day(flip_at=1500))
    _, acc, _ = read_mcgill_file(path)
    assert abs(acc[:, 1].mean()) < 1.0  # the old whole-file check saw "no gravity" here


def test_gravity_free_file_is_refused_unless_the_check_is_skipped(tmp_path):
    t_ms, _ = _mcgill_day()
    # No gravity at all (a gravity-compensated "linear acceleration" export), |a| ~ 9 m/s^2.
    acc = np.random.default_rng(1).normal(0.0, 5.5, size=(len(t_ms), 3))
    path = write_mcgill_file(tmp_path / "subject01_day1.csv", t_ms, acc)
    with pytest.raises(GaitDataError, match=r"no gravity.*--skip-check gravity"):
        read_mcgill_file(path)
    _, loaded, _ = read_mcgill_file(path, skip_checks=("gravity",))
    assert loaded.shape == acc.shape
    assert len(load_mcgill(tmp_path, skip_checks=["gravity"])) == 1


def test_unknown_check_name_is_refused(tmp_path):
    with pytest.raises(ValueError, match="skip_checks must name checks among"):
        load_mcgill(tmp_path, skip_checks=("gravitation",))
    assert "gravity" in PLAUSIBILITY_CHECKS


def test_range_check_can_be_skipped(tmp_path):
    gyr, acc = _walk()
    acc[7, 0] = 5000.0  # beyond any sensor
    path = write_ouisir_file(tmp_path / "T0_ID000001_Center_seq0.csv", gyr, acc)
    with pytest.raises(GaitDataError, match="beyond any body-worn sensor"):
        read_ouisir_file(path)
    assert read_ouisir_file(path, skip_checks={"range", "unit_change"})[1][7, 0] > 1000


# ---------------------------------------------------------------------------------------------
# Item 9: messages name the file
# ---------------------------------------------------------------------------------------------


def test_rows_header_with_thousands_of_digits_names_the_file(tmp_path):
    path = tmp_path / "T0_ID000001_Center_seq0.csv"
    path.write_text("rows: " + "9" * 5000 + "\ncols: 6\n0,0,0,0,-1,0\n")
    with pytest.raises(GaitDataError, match="rows: N") as info:
        read_ouisir_file(path)
    assert str(path) in str(info.value) and len(str(info.value)) < 400


# ---------------------------------------------------------------------------------------------
# Item 11: only regular files are read
# ---------------------------------------------------------------------------------------------


def test_fifo_named_like_a_data_file_neither_hangs_nor_loads(tmp_path, caplog):
    root = _ouisir_root(tmp_path, ["T0_ID000001_Center_seq0.csv"])
    fifo = root / AUTO_DIR / "T0_ID000002_Center_seq0.csv"
    os.mkfifo(fifo)
    with caplog.at_level(logging.WARNING):
        recordings = _no_hang(lambda: load_ouisir(root))
    assert [r.subject_id for r in recordings] == [1]
    assert "not regular files" in caplog.text and fifo.name in caplog.text
    with pytest.raises(GaitDataError, match="FIFO") as info:
        _no_hang(lambda: read_ouisir_file(fifo))
    assert str(fifo) in str(info.value)


def test_link_to_a_device_is_refused(tmp_path, caplog):
    write_mcgill_file(tmp_path / "subject01_day1.csv", *_mcgill_day(n=400))
    link = tmp_path / "subject02_day1.csv"
    link.symlink_to("/dev/zero")
    with caplog.at_level(logging.WARNING):
        assert len(_no_hang(lambda: load_mcgill(tmp_path))) == 1
    assert link.name in caplog.text
    with pytest.raises(GaitDataError, match="character device"):
        _no_hang(lambda: read_mcgill_file(link))
    with pytest.raises(GaitDataError, match="character device"):
        _no_hang(lambda: load_mcgill(link))  # a single-file root


def test_oversized_file_is_refused_before_it_is_read(tmp_path):
    path = write_mcgill_file(tmp_path / "subject01_day1.csv", *_mcgill_day(n=400))
    with pytest.raises(GaitDataError, match="more than the limit of 1,000 bytes"):
        read_mcgill_file(path, max_file_bytes=1000)


# ---------------------------------------------------------------------------------------------
# Item 12: gzip is decompressed as a stream that stops at the limit
# ---------------------------------------------------------------------------------------------


def test_gzip_bomb_stops_at_the_limit(tmp_path):
    limit = 4 << 20
    path = tmp_path / "subject01_day1.csv.gz"
    with gzip.open(path, "wb", compresslevel=9) as handle:  # 64 MiB of zeros -> ~64 KB
        block = b"0" * (1 << 20)
        for _ in range(64):
            handle.write(block)
    assert path.stat().st_size < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(GaitDataError, match="decompresses to more than 4,194,304 bytes"):
            read_mcgill_file(path, max_file_bytes=limit)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * limit, f"peak {peak / 2**20:.1f} MiB for a {limit / 2**20:.0f} MiB limit"


# ---------------------------------------------------------------------------------------------
# Also noticed: skipped files are summarised
# ---------------------------------------------------------------------------------------------


def test_skipped_files_are_summarised_in_one_line(tmp_path, caplog):
    write_mcgill_file(tmp_path / "subject01_day1.csv", *_mcgill_day(n=400))
    for k in range(60):
        (tmp_path / f"gyroscope_{k:03d}.csv").write_text("x\n")
    with caplog.at_level(logging.WARNING):
        assert len(load_mcgill(tmp_path)) == 1
    skipped = [r for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 1
    assert "skipped 60 files" in skipped[0].getMessage()
    assert "gyroscope_000.csv" in skipped[0].getMessage()
    assert mcgill_files(tmp_path) == [tmp_path / "subject01_day1.csv"]
