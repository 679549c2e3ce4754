"""``--budget hour``: the cuts that make ``make reproduce-all`` fit in an hour (issue 13)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from experiments import table_1, table_2
from experiments.configs import table1 as auth_presets
from experiments.configs import table2 as label_presets

REPO = Path(__file__).resolve().parents[1]


def _auth(argv):
    args = table_1.parse_args(argv, "test")
    return table_1.resolve(
        args, table_1.preset_for(args, auth_presets.PAPER, auth_presets.QUICK, auth_presets.HOUR)
    )


def test_paper_budget_is_the_paper_preset():
    resolved = _auth([])
    assert resolved["auth"].get("precision", "float32") == "float32"
    assert resolved["auth"]["n_repetitions"] == 10
    assert resolved["auth"]["train"] == {"epochs": 50, "batch_size": 100, "learning_rate": 1e-3}


def test_hour_budget_keeps_epochs_batch_and_learning_rate():
    resolved = _auth(["--budget", "hour"])
    assert resolved["auth"]["precision"] == "mixed_bfloat16"
    assert resolved["auth"]["n_repetitions"] == 10  # Table 1 keeps its repetitions
    assert resolved["auth"]["train"] == {"epochs": 50, "batch_size": 100, "learning_rate": 1e-3}
    figure6 = table_1.merged(auth_presets.FIGURE6, auth_presets.HOUR_FIGURE6)
    assert figure6["mu"] == [0.1, 0.25, 0.5, 1.0] and figure6["n_target_subjects"] == 5
    assert figure6["auth"]["train"] == auth_presets.FIGURE6["auth"]["train"]
    assert auth_presets.FIGURE6["mu"][-1] == 1.0 and len(auth_presets.FIGURE6["mu"]) == 10


def test_quick_ignores_the_budget():
    assert _auth(["--quick", "--budget", "hour"]) == _auth(["--quick"])


def _size(argv):
    parser = argparse.ArgumentParser()
    table_2.add_common_arguments(parser, "results/x")
    return table_2.resolve_size(parser.parse_args(argv))


def test_labeling_budget():
    paper, hour = _size([]), _size(["--budget", "hour"])
    assert paper["precision"] == "float32" and hour["precision"] == "mixed_bfloat16"
    assert hour["epochs"] == paper["epochs"] == 50
    assert set(hour["figure7_k"]) < set(paper["figure7_k"]) and 744 in hour["figure7_k"]
    assert set(hour["figure9_fl1_units"]) < set(paper["figure9_fl1_units"])
    assert 512 in hour["figure9_fl1_units"] and hour["figure9_n_conv"] == paper["figure9_n_conv"]
    assert label_presets.FULL["figure7_k"] == (100, 200, 300, 400, 500, 600, 744)


def test_make_reproduce_all_runs_every_part_with_the_hour_budget():
    def dry(*extra):
        out = subprocess.run(
            ["make", "-n", "reproduce-all", *extra], cwd=REPO, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        return [line for line in out.stdout.splitlines() if "experiments." in line]

    lines = dry()
    drivers = ["table_1", "figure_6", "table_2", "figure_7", "figure_8", "figure_9", "report"]
    assert [d for d in drivers if any(f"experiments.{d} " in line for line in lines)] == drivers
    assert all("--budget hour" in line for line in lines if "experiments.report" not in line)
    assert all("results/hour" in line for line in lines)
    full = dry("FULL=1")
    assert not any("--budget" in line for line in full)
    assert not any("results/hour" in line for line in full)


def test_help_names_the_budget():
    out = subprocess.run(
        [sys.executable, "-m", "experiments.table_1", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert "--budget {paper,hour}" in out.stdout
