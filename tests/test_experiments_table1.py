"""End-to-end smoke tests of the Table 1 and Figure 6 drivers on tiny simulated data."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.tf

# The drivers live in the top-level ``experiments`` package (not installed): import from the repo.
REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

TINY = [
    "--quick",
    "--n-subjects",
    "3",
    "--duration-s",
    "120",
    "--set",
    "n_repetitions=2",
    "--set",
    "subjects=[2]",
    "--set",
    "train.epochs=1",
    "--set",
    "model.conv_filters=[4,4,4]",
    "--set",
    "model.fl1_units=8",
]


@pytest.fixture(scope="module")
def table1_run(tmp_path_factory):
    from experiments import table_1

    out = tmp_path_factory.mktemp("table1")
    cache = tmp_path_factory.mktemp("cache")
    table_1.main([*TINY, "--out", str(out), "--cache-dir", str(cache)])
    return out, cache


def test_table1_structure(table1_run):
    out, _ = table1_run
    text = (out / "table1.md").read_text()
    assert "SIMULATED" in text
    assert "## Same day" in text and "## Different day" in text and "## Beside the paper" in text
    assert "+12.2" in text and "+13.6" in text and "+5.3" in text
    rows = list(csv.DictReader((out / "table1.csv").open()))
    keys = {(r["method"], r["probe"], int(r["N"])) for r in rows}
    methods = {"ae_gdi_cnn", "cosine_gdi", "segment_nn"}
    assert keys == {
        (m, p, n) for m in methods for p in ("same_day", "different_day") for n in (1, 2, 3, 5)
    }
    for r in rows:
        for metric in ("accuracy", "precision", "recall", "eer", "auc"):
            assert 0.0 <= float(r[f"{metric}_mean"]) <= 1.0
    config = json.loads((out / "config.json").read_text())
    assert config["simulated"] is True and config["seed"] == 0 and config["budget"] == "paper"
    assert config["auth_config"]["train"]["epochs"] == 1
    assert config["n_classifiers"] == 2  # subject 2 (vs 1 and 3) x 2 repetitions
    assert "tensorflow-cpu" in config["versions"] or "keras" in config["versions"]


def test_numbers_are_computed_from_predictions(table1_run):
    out, _ = table1_run
    records = [json.loads(p.read_text()) for p in sorted((out / "runs").glob("*.json"))]
    assert len(records) == 2
    rows = {
        (r["method"], r["probe"], int(r["N"])): r
        for r in csv.DictReader((out / "table1.csv").open())
    }
    for (method, probe, n), row in rows.items():
        per_rep = {}
        for rec in records:
            m = rec["results"][method][probe][str(n)]
            correct = np.array([int(c) for c in m["correct"]])
            genuine = np.array([int(c) for c in m["genuine"]])
            assert m["accuracy"] == pytest.approx(correct.mean())
            accepted = np.where(correct == 1, genuine, 1 - genuine)
            tp = np.sum(accepted & genuine)
            assert m["recall"] == pytest.approx(tp / genuine.sum())
            if accepted.sum():
                assert m["precision"] == pytest.approx(tp / accepted.sum())
            assert genuine.sum() == (1 - genuine).sum() or n > 1  # balanced probes at N = 1
            per_rep.setdefault(rec["rep"], []).append(correct.mean())
        means = [np.mean(v) for v in per_rep.values()]
        assert float(row["accuracy_mean"]) == pytest.approx(np.mean(means))


def test_rerun_resumes_without_training(table1_run, monkeypatch):
    from experiments import table_1
    from gaitcnn import authentication

    out, cache = table1_run

    def boom(*args, **kwargs):
        raise AssertionError("a finished classifier was recomputed")

    monkeypatch.setattr(authentication, "run_classifier", boom)
    table_1.main([*TINY, "--out", str(out), "--cache-dir", str(cache)])


def test_figure6_quick(table1_run, tmp_path):
    from experiments import figure_6

    _, cache = table1_run
    argv = [a for a in TINY if a != "n_repetitions=2"]
    argv = [a for i, a in enumerate(argv) if not (a == "--set" and argv[i + 1].startswith("--"))]
    figure_6.main(
        [*argv, "--set", "n_repetitions=1", "--out", str(tmp_path), "--cache-dir", str(cache)]
    )
    rows = list(csv.DictReader((tmp_path / "figure6.csv").open()))
    assert {int(r["mu_percent"]) for r in rows} == {10, 50, 100}
    assert {int(r["N"]) for r in rows} == {1, 2, 3, 5}
    assert {r["probe"] for r in rows} == {"different_day"}
    assert (tmp_path / "figure6.png").stat().st_size > 1000


def test_overrides_drop_the_presets_hparams_for_another_network():
    """--quick sets the paper CNN's fl1_units; a different --set network must not receive it."""
    from experiments.configs import table1 as presets
    from experiments.table_1 import apply_overrides

    other = apply_overrides(
        presets.QUICK, ["network=raw_cnn", "representation=raw", "model.kernel_size=3"]
    )
    assert other["auth"]["model"] == {"kernel_size": 3}
    same = apply_overrides(presets.QUICK, ["model.conv_filters=[4,4,4]"])
    assert same["auth"]["model"] == {"fl1_units": 128, "conv_filters": (4, 4, 4)}
