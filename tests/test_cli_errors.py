"""Command-line errors: a one-line message, exit code 2, no traceback (``--debug`` shows it)."""

from __future__ import annotations

from pathlib import Path

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
    _clean_error(runner.invoke(main, ["evaluate", "--model", str(not_a_run)]), "not a gaitcnn run")


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


# ---------------------------------------------------------------------------------------------
# Issue 16 item 8: every command goes through the same one-line error handling
# ---------------------------------------------------------------------------------------------


def _ouisir_root(path, *, nan=False):
    """A 3-subject simulated OU-ISIR root; ``nan``: one value of one file replaced by nan."""
    from gaitcnn.simulate import simulate_ouisir

    simulate_ouisir(path, n_subjects=3, subsets=("automatic",))
    if nan:
        bad = sorted((path / "AutomaticExtractionData_IMUZCenter").glob("*.csv"))[0]
        lines = bad.read_text().split("\n")
        lines[4] = "nan" + lines[4][lines[4].index(",") :]
        bad.write_text("\n".join(lines))
    return path


def _corrupt_cache(path):
    import h5py
    import numpy as np

    from gaitcnn.cache import CacheWriter

    with CacheWriter(path, (2, 3, 1), params={"dataset": "ouisir"}, source="test") as writer:
        info = {"key": "k", "subject_id": 5, "session": "gallery", "walk": "seq0"}
        writer.add_recording(info, np.zeros((4, 2, 3, 1)), np.arange(4))
        writer.commit()
    with h5py.File(path, "r") as fh:
        offset = fh["subject_ids"].id.get_chunk_info(0).byte_offset
    data = bytearray(path.read_bytes())
    data[offset + 1] ^= 0x01  # subject 5 -> 261: a phantom subject
    path.write_bytes(bytes(data))
    return path


def _run_folder(path, *, metadata=True, model="corrupt"):
    """A run folder: config.json (with or without ``metadata``) and a damaged best.keras."""
    import json

    path.mkdir()
    config = {"format_version": 1, "train": {"epochs": 1}}
    if metadata is True:
        config["metadata"] = {"cache": "c.h5", "preprocessing": {}, "class_names": ["1"]}
    elif metadata:
        config["metadata"] = metadata
    (path / "config.json").write_text(json.dumps(config))
    if model == "corrupt":
        (path / "best.keras").write_bytes(b"PK\x03\x04" + b"\x00" * 60)  # a broken zip
    return path


def _cases(tmp_path):
    """Command -> list of (arguments, text the one-line error must hold)."""
    nan_root = str(_ouisir_root(tmp_path / "nan", nan=True))
    good_root = str(_ouisir_root(tmp_path / "good"))
    empty = tmp_path / "empty"
    empty.mkdir()
    cache = str(_corrupt_cache(tmp_path / "bad.h5"))
    labeling_train = str(_run_folder(tmp_path / "lab-train", metadata={"task": "labeling"}))
    no_meta = str(_run_folder(tmp_path / "lab", metadata=None, model=None))
    broken = str(_run_folder(tmp_path / "broken"))
    c = ["--cache-dir", str(tmp_path / "c")]
    nan_file = "T0_ID000107_Center_seq0.csv, line 5"
    junk_model = tmp_path / "junk.gaitcnn"
    junk_model.write_bytes(b"not a zip archive")
    walk = str(next(iter(sorted(Path(good_root).rglob("*.csv")))))
    users = ["--model", str(junk_model), "--store", str(tmp_path / "s.gaitstore")]
    return {
        "enrol": [([*users, "--user", "a", walk], "junk.gaitcnn")],
        "verify": [([*users, "--user", "a", walk], "junk.gaitcnn")],
        "identify": [([*users, walk], "junk.gaitcnn")],
        "verification": [
            (["--data-root", str(empty), "--subjects", "4", "--out", "v", *c], "no OU-ISIR")
        ],
        "simulate": [(["--dataset", "ouisir", "--subjects", "2", "--out", nan_root], "not empty")],
        "prepare": [(["--dataset", "ouisir", "--data-root", nan_root, *c], nan_file)],
        "plot-cycles": [
            (["--dataset", "ouisir", "--data-root", nan_root, "--out", "p.png", *c], nan_file)
        ],
        "plot-images": [
            (["--dataset", "mcgill", "--data-root", str(empty), "--out", "p.png"], "no McGill")
        ],
        "train": [(["--cache", cache, "--dataset", "ouisir", "--out", "r"], "bad.h5")],
        "evaluate": [
            (["--model", labeling_train], "no metadata.cache"),
            (["--model", no_meta], "is not a gaitcnn run"),
            (["--model", broken], "best.keras"),
        ],
        "export": [(["--model", broken, "--out", str(tmp_path / "x")], "best.keras")],
        "authenticate": [
            (["--data-root", str(empty), "--out", str(tmp_path / "a"), *c], "no McGill files"),
            (["--data-root", str(empty), "--out", "a", "--set", "foo=1"], "--set foo=1"),
            (["--data-root", str(empty), "--out", "a", "--set", "n_repetitions=x"], "--set"),
        ],
        "label": [
            (["--data-root", nan_root, "--subjects", "2", "--out", "l", *c], nan_file),
            (["--data-root", str(empty), "--subjects", "2", "--out", "l", *c], "no OU-ISIR"),
            (
                [
                    "--data-root",
                    good_root,
                    "--subjects",
                    "2",
                    "--out",
                    str(tmp_path / "l"),
                    "--set",
                    "foo=3",
                    *c,
                ],
                "--set foo=3",
            ),
        ],
    }


COMMANDS = ("simulate", "prepare", "plot-cycles", "plot-images", "train", "evaluate", "export",
            "authenticate", "label", "enrol", "verify", "identify", "verification")  # fmt: skip


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory):
    return tmp_path_factory.mktemp("bad"), _cases(tmp_path_factory.mktemp("bad-inputs"))


def test_every_command_has_a_bad_input_case():
    assert set(COMMANDS) == set(main.commands), "add a bad-input case for every command"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_gives_one_line_errors(runner, bad_inputs, monkeypatch, name):
    workdir, cases = bad_inputs
    monkeypatch.chdir(workdir)
    for args, needle in cases[name]:
        result = runner.invoke(main, [name, *args])
        _clean_error(result, needle)
        errors = [line for line in result.output.splitlines() if line.startswith("Error")]
        assert len(errors) == 1, result.output
        assert "(run with --debug" in result.output, result.output


def test_python_dash_m_experiments_give_one_line_errors(tmp_path):
    """``python -m gaitcnn.labeling`` / ``.authentication`` go through the same error handler."""
    import subprocess
    import sys

    for module in ("gaitcnn.labeling", "gaitcnn.authentication"):
        args = [sys.executable, "-m", module, "--data-root", str(tmp_path / "missing")]
        if module.endswith("authentication"):
            args += ["--out", str(tmp_path / "out")]
        done = subprocess.run(args, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr and "missing" in done.stderr
