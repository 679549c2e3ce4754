"""Command-line errors: a one-line message, exit code 2, no traceback (``--debug`` shows it)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from gaitcnn.cli import main

SIMULATE_2 = ["simulate", "--dataset", "ouisir", "--subjects", "2"]
PREPARE_2 = ["prepare", "--dataset", "ouisir", "--subjects", "2"]


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def a_file(tmp_path):
    """A regular file: any folder "under" it cannot be created, even by root."""
    path = tmp_path / "plain-file"
    path.write_text("not a folder")
    return path


def _clean_error(result, *needles):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "Error" in result.output
    for needle in needles:
        assert needle in result.output, result.output


def test_wrong_paths(runner, tmp_path):
    missing = str(tmp_path / "missing")
    _clean_error(
        runner.invoke(main, ["prepare", "--dataset", "ouisir", "--data-root", missing]),
        "does not exist",
    )
    _clean_error(runner.invoke(main, ["evaluate", "--model", missing]), "does not exist")
    _clean_error(
        runner.invoke(main, ["export", "--model", missing, "--out", str(tmp_path / "x")]),
        "does not exist",
    )
    _clean_error(
        runner.invoke(main, ["train", "--cache", missing, "--dataset", "ouisir", "--out", "r"]),
        "does not exist",
    )
    not_a_run = tmp_path / "not-a-run"
    not_a_run.mkdir()
    _clean_error(runner.invoke(main, ["evaluate", "--model", str(not_a_run)]), "config.json")


def test_garbage_cache_file(runner, tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\x89HDF\r\n garbage")
    args = ["train", "--cache", str(bad), "--dataset", "ouisir", "--out", str(tmp_path / "r")]
    _clean_error(runner.invoke(main, args), str(bad))


def test_unknown_dataset_and_choices(runner):
    _clean_error(runner.invoke(main, ["prepare", "--dataset", "kinect"]), "kinect")
    _clean_error(runner.invoke(main, ["simulate", "--dataset", "x", "--out", "o"]), "'x'")
    _clean_error(
        runner.invoke(main, ["prepare", "--dataset", "ouisir", "--representation", "png"]),
        "png",
    )


def test_subject_counts_out_of_range(runner, tmp_path):
    # K: number of subjects. The CLI bounds it where it applies.
    _clean_error(runner.invoke(main, ["prepare", "--dataset", "ouisir", "--subjects", "0"]), "0")
    _clean_error(
        runner.invoke(main, ["train", "--dataset", "ouisir", "--subjects", "1", "--out", "r"]),
        "1",
    )
    _clean_error(
        runner.invoke(
            main, ["plot-images", "--dataset", "ouisir", "--subjects", "9", "--out", "x.png"]
        ),
        "9",
    )
    # A subject that the (simulated) data set does not have.
    args = ["plot-cycles", "--dataset", "ouisir", "--subject", "5", "--cache-dir",
            str(tmp_path / "c"), "--out", str(tmp_path / "p.png")]  # fmt: skip
    _clean_error(runner.invoke(main, args), "--subject 5")


def test_unwritable_output_folders(runner, tmp_path, a_file):
    below_file = a_file / "sub"
    _clean_error(
        runner.invoke(
            main, ["simulate", "--dataset", "ouisir", "--subjects", "2", "--out", str(below_file)]
        ),
        str(a_file),
    )
    _clean_error(
        runner.invoke(
            main,
            ["prepare", "--dataset", "ouisir", "--subjects", "2", "--cache-dir", str(below_file)],
        ),
        str(a_file),
    )
    # --cache-dir pointing at a file is refused by option validation.
    _clean_error(
        runner.invoke(main, ["prepare", "--dataset", "ouisir", "--cache-dir", str(a_file)]),
        "is a file",
    )


def test_non_empty_simulate_output_is_refused(runner, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = runner.invoke(main, ["simulate", "--dataset", "ouisir", "--out", str(out)])
    _clean_error(result, "not empty")
    assert (out / "keep.txt").read_text() == "mine"


def test_conflicting_options(runner, tmp_path):
    args = ["train", "--dataset", "ouisir", "--subjects", "2", "--out", str(tmp_path / "r"),
            "--resume", "--overwrite"]  # fmt: skip
    _clean_error(runner.invoke(main, args), "contradict")
    assert not (tmp_path / "r").exists()  # refused before any work


def test_debug_shows_the_traceback(runner, tmp_path, a_file):
    args = ["prepare", "--dataset", "ouisir", "--subjects", "2", "--cache-dir",
            str(a_file / "sub")]  # fmt: skip
    plain = runner.invoke(main, args)
    _clean_error(plain, "--debug")
    debug = runner.invoke(main, ["--debug", *args])
    assert debug.exit_code != 0 and isinstance(debug.exception, OSError)
