"""Tests for the command line (click CliRunner, tiny simulated data)."""

import os

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


@pytest.mark.tf
def test_train_evaluate_export(runner, tmp_path, monkeypatch):
    """One epoch on 3 simulated subjects through the CLI, then evaluate and export."""
    import json

    import gaitcnn.runs as runs

    real_train_run = runs.train_run

    def tiny_train_run(cache, out_dir, **kwargs):  # the paper CNN, shrunk for speed
        kwargs["hparams"] = {"conv_filters": (4, 4, 4), "fl1_units": 8}
        return real_train_run(cache, out_dir, **kwargs)

    monkeypatch.setattr(runs, "train_run", tiny_train_run)
    cache = tmp_path / "cache"
    run = tmp_path / "run"
    args = [
        "train",
        "--dataset",
        "ouisir",
        "--subjects",
        "3",
        "--cache-dir",
        str(cache),
        "--epochs",
        "1",
        "--out",
        str(run),
    ]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    for name in ("config.json", "history.json", "final.keras", "checkpoints/state.json"):
        assert (run / name).exists(), name
    again = runner.invoke(main, args)  # an existing run is never silently overwritten
    assert again.exit_code == 2 and "--overwrite" in again.output
    both = runner.invoke(main, [*args, "--resume", "--overwrite"])
    assert both.exit_code == 2 and "contradict" in both.output

    result = runner.invoke(main, ["evaluate", "--model", str(run)])
    assert result.exit_code == 0, result.output
    evaluation = json.loads((run / "evaluation.json").read_text())
    seq = evaluation["per_sequence"]
    assert 0.0 <= seq["accuracy"] <= 1.0 and seq["cmc"][-1] == pytest.approx(1.0)
    assert evaluation["n_probe_sequences"] == 3 and "simulated" in evaluation["data"]

    out = tmp_path / "export"
    result = runner.invoke(
        main,
        [
            "export",
            "--model",
            str(run),
            "--out",
            str(out),
            "--format",
            "keras",
            "--format",
            "tflite",
        ],
    )
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "metadata.json").read_text())
    assert (
        meta["class_names"] and (out / "model.keras").exists() and (out / "model.tflite").exists()
    )


QUIET_FIT = """
from gaitcnn.cli import quiet_tensorflow

quiet_tensorflow()  # what `gaitcnn` does before any command imports TensorFlow
import keras
import numpy as np
import tensorflow as tf

tf.config.experimental.enable_op_determinism()  # TrainConfig.deterministic
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
model.compile("adam", "sparse_categorical_crossentropy")
x, y = np.zeros((41, 4), "float32"), np.zeros(41, "int64")  # a partial last batch
model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
print("fitted")
"""


@pytest.mark.parametrize(
    ("args", "level"), [([], "3"), (["--debug"], "2"), (["-v"], "1"), (["-vv"], "0")]
)
def test_tensorflow_cpp_log_level_follows_the_verbosity(runner, monkeypatch, args, level):
    """Quiet by default: level 3 also hides TF's C++ ERROR lines such as the per-epoch
    `E0000 ... use_unbounded_threadpool` (the slow test below runs a real fit)."""
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    assert runner.invoke(main, [*args, "simulate", "--help"]).exit_code == 0
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == level
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "1")  # a value the user chose wins
    runner.invoke(main, [*args, "simulate", "--help"])
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "1"


@pytest.mark.tf
@pytest.mark.slow
def test_quiet_logging_hides_the_per_epoch_tensorflow_error_line():
    """Issue 16, also noticed: `E0000 ... use_unbounded_threadpool` printed every epoch."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", QUIET_FIT], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert "fitted" in done.stdout, done.stderr[-2000:]
    assert "use_unbounded_threadpool" not in done.stderr


def test_skip_check_switches_a_plausibility_check_off(runner, tmp_path):
    """Issue 16 item 6: a documented CLI switch for the loaders' plausibility checks."""
    import numpy as np

    from gaitcnn.io import read_mcgill_file
    from gaitcnn.io._formats import write_mcgill_file
    from gaitcnn.simulate import simulate_mcgill

    root = simulate_mcgill(tmp_path / "m", n_subjects=2, duration_s=60.0).root
    t_s, acc, gyr = read_mcgill_file(root / "subject01_day1.csv")
    flat = np.random.default_rng(0).normal(0.0, 5.5, size=acc.shape)  # no gravity at all
    write_mcgill_file(root / "subject01_day1.csv", np.round(t_s * 1000), flat, gyr)
    args = ["prepare", "--dataset", "mcgill", "--data-root", str(root), "--cache-dir",
            str(tmp_path / "c")]  # fmt: skip
    refused = runner.invoke(main, args)
    assert refused.exit_code == 2 and "subject01_day1.csv" in refused.output
    assert "--skip-check gravity" in refused.output
    accepted = runner.invoke(main, [*args, "--skip-check", "gravity"])
    assert accepted.exit_code == 0, accepted.output
    unknown = runner.invoke(main, [*args, "--skip-check", "gravitation"])
    assert unknown.exit_code == 2 and "'gravitation' is not one of" in unknown.output
