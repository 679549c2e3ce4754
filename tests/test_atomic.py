"""Tests for gaitcnn._atomic: permissions, staged folders, cleaning up after dead writers."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from gaitcnn._atomic import (
    INCOMPLETE_MARKER,
    atomic_path,
    remove_stale_partials,
    remove_stale_temps,
    staged_dir,
    write_json_atomic,
    write_text_atomic,
)


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(done.stdout)


@pytest.fixture
def umask():
    """Set a umask for the test, restore the old one after."""
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_results_get_the_users_normal_permissions(tmp_path, umask, mask):
    """Issue 16, also noticed: atomic writes had mode 0600 (the temp-file default)."""
    umask(mask)
    json_file = write_json_atomic(tmp_path / "metadata.json", {"a": 1})
    text_file = write_text_atomic(tmp_path / "results.txt", "x")
    plain = tmp_path / "plain.txt"
    plain.write_text("as open() makes it")
    expected = stat.S_IMODE(plain.stat().st_mode)
    assert expected == 0o666 & ~mask
    for path in (json_file, text_file):
        assert stat.S_IMODE(path.stat().st_mode) == expected, path


def test_files_written_through_atomic_path_get_normal_permissions(tmp_path, umask):
    umask(0o022)
    with atomic_path(tmp_path / "model.keras", suffix=".keras") as tmp:  # e.g. model.save(tmp)
        tmp.write_bytes(b"\0")
    assert stat.S_IMODE((tmp_path / "model.keras").stat().st_mode) == 0o644


def test_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "out.json") as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []


def test_stale_temps_of_dead_writers_are_removed(tmp_path):
    dead = tmp_path / f".history.json.{_dead_pid()}-0123abcd.tmp"
    live = tmp_path / f".history.json.{os.getppid()}-0123abcd.tmp"
    mine = tmp_path / f".history.json.{os.getpid()}-0123abcd.tmp"
    other = tmp_path / ".hidden-but-not-a-temp.tmp"
    for path in (dead, live, mine, other):
        path.write_text("")
    assert remove_stale_temps(tmp_path) == [dead]
    assert live.exists() and mine.exists() and other.exists()
    assert remove_stale_temps(tmp_path / "missing") == []


def test_staged_dir_renames_into_place_when_complete(tmp_path):
    final = tmp_path / "data"
    with staged_dir(final, complete_marker=".complete") as staging:
        assert staging.name == f"data.partial-{os.getpid()}"
        assert (staging / INCOMPLETE_MARKER).exists() and not final.exists()
        (staging / "a.csv").write_text("1")
    assert sorted(p.name for p in final.iterdir()) == [".complete", "a.csv"]
    assert not staging.exists()


def test_staged_dir_failure_and_refusals(tmp_path):
    final = tmp_path / "data"
    with pytest.raises(RuntimeError), staged_dir(final):
        raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []
    final.mkdir()  # an empty folder is replaced
    with staged_dir(final) as staging:
        (staging / "a.csv").write_text("1")
    assert (final / "a.csv").exists()
    with pytest.raises(FileExistsError, match="not an empty folder"), staged_dir(final):
        pass
    assert (final / "a.csv").read_text() == "1"


def test_partials_of_dead_writers_are_removed(tmp_path):
    dead = tmp_path / f"data.partial-{_dead_pid()}"
    dead.mkdir()
    live = tmp_path / f"data.partial-{os.getppid()}"
    live.mkdir()
    assert remove_stale_partials(tmp_path / "data") == [dead]
    assert live.exists()
