"""Tests for the command line (click CliRunner, tiny simulated data)."""

import pytest
from click.testing import CliRunner

from gaitcnn.cli import main


@pytest.fixture
def runner():
    return CliRunner()


def test_help_lists_commands(runner):
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for cmd in ("simulate", "prepare", "plot-cycles", "plot-images"):
        assert cmd in result.output


def test_simulate_then_load(runner, tmp_path):
    out = tmp_path / "ou"
    result = runner.invoke(
        main, ["simulate", "--dataset", "ouisir", "--subjects", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    from gaitcnn.io import load_ouisir

    recs = load_ouisir(out)
    assert len({r.subject_id for r in recs}) == 3
    assert {r.session for r in recs} == {"gallery", "probe"}
    # refuses to write into a non-empty folder
    again = runner.invoke(
        main, ["simulate", "--dataset", "ouisir", "--subjects", "3", "--out", str(out)]
    )
    assert again.exit_code == 2 and "not empty" in again.output


def test_simulate_mcgill(runner, tmp_path):
    out = tmp_path / "mc"
    result = runner.invoke(
        main,
        [
            "simulate",
            "--dataset",
            "mcgill",
            "--subjects",
            "2",
            "--duration-s",
            "30",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    from gaitcnn.io import load_mcgill

    recs = load_mcgill(out)
    assert sorted((r.subject_id, r.session) for r in recs) == [
        (s, d) for s in sorted({r.subject_id for r in recs}) for d in ("day1", "day2")
    ]
    assert all(25 < r.duration_s < 35 for r in recs)


def test_prepare_and_plots(runner, tmp_path):
    cache = tmp_path / "cache"
    result = runner.invoke(
        main, ["prepare", "--dataset", "ouisir", "--subjects", "3", "--cache-dir", str(cache)]
    )
    assert result.exit_code == 0, result.output
    path = result.stdout.strip().splitlines()[-1]
    assert path.endswith(".h5")
    import h5py

    with h5py.File(path) as fh:
        assert fh["images"].shape[1:] == (32, 64, 2)
        assert "simulated" in fh.attrs["source"]
    for cmd in ("plot-cycles", "plot-images"):
        png = tmp_path / f"{cmd}.png"
        result = runner.invoke(
            main, [cmd, "--dataset", "ouisir", "--cache-dir", str(cache), "--out", str(png)]
        )
        assert result.exit_code == 0, result.output
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_bad_data_root_is_a_clean_error(runner, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(
        main,
        [
            "prepare",
            "--dataset",
            "ouisir",
            "--data-root",
            str(empty),
            "--cache-dir",
            str(tmp_path / "c"),
        ],
    )
    assert result.exit_code == 2
    assert str(empty) in result.output and "Traceback" not in result.output
    missing = runner.invoke(
        main, ["prepare", "--dataset", "ouisir", "--data-root", str(tmp_path / "nope")]
    )
    assert missing.exit_code == 2 and "does not exist" in missing.output
    unknown = runner.invoke(main, ["prepare", "--dataset", "kinect"])
    assert unknown.exit_code == 2 and "kinect" in unknown.output


def test_debug_shows_traceback(runner, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(
        main,
        [
            "--debug",
            "prepare",
            "--dataset",
            "ouisir",
            "--data-root",
            str(empty),
            "--cache-dir",
            str(tmp_path / "c"),
        ],
    )
    assert result.exit_code != 0 and result.exception is not None
    assert not isinstance(result.exception, SystemExit)
