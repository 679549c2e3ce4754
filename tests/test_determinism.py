"""Determinism across runs: same seed, same machine -> identical metrics in the result files."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gaitcnn.cli import main


@pytest.mark.tf
def test_same_seed_gives_identical_evaluation(tmp_path, monkeypatch):
    import gaitcnn.runs as runs

    real_train_run = runs.train_run

    def tiny_train_run(cache, out_dir, **kwargs):  # the paper CNN, shrunk for speed
        kwargs["hparams"] = {"conv_filters": (4, 4, 4), "fl1_units": 8}
        return real_train_run(cache, out_dir, **kwargs)

    monkeypatch.setattr(runs, "train_run", tiny_train_run)
    runner = CliRunner()
    results, histories = [], []
    for name in ("first", "second"):
        run = tmp_path / name
        cache = str(tmp_path / "cache")
        args = ["train", "--dataset", "ouisir", "--subjects", "3", "--cache-dir", cache,
                "--epochs", "2", "--seed", "7", "--out", str(run)]  # fmt: skip
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
        result = runner.invoke(main, ["evaluate", "--model", str(run)])
        assert result.exit_code == 0, result.output
        evaluation = json.loads((run / "evaluation.json").read_text())
        evaluation.pop("model_file")  # names the run folder
        results.append(evaluation)
        history = json.loads((run / "history.json").read_text())
        history.pop("epoch_time_s")  # wall-clock time
        histories.append(history)
    assert results[0] == results[1]  # exact equality: every metric, every CMC point
    assert histories[0] == histories[1]
