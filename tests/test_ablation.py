"""Tests of experiments.ablation: row definitions, table formatting, a tiny end-to-end run."""

from __future__ import annotations

import dataclasses
import itertools
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# `python -m pytest` (the Makefile) puts the repo on sys.path; plain `pytest` does not.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from experiments import ablation  # noqa: E402
from experiments.ablation import ALL_ROWS, ROWS, Plan, format_cell, summarise  # noqa: E402


def test_main_rows_are_cumulative():
    # each row keeps every setting of the previous one, except the values these rows replace:
    # the switch from AE-GDIs to raw windows (network, epochs), the speed step (epochs), the
    # MiniRocket partner (windows every 8 samples, 20 epochs), the channel choice (channels) and
    # the MultiRocket partner (partner, and its partner_hparams)
    replaced = {
        "raw_windows": {"network", "epochs"},
        "speed": {"epochs"},
        "hybrid": {"dense_step", "epochs"},
        "auto_channels": {"channels"},
        "multirocket_partner": {"partner"},
    }
    for previous, row in itertools.pairwise(ROWS):
        assert previous.labeling.keys() <= row.labeling.keys(), row.key
        changed = {k for k, v in previous.labeling.items() if row.labeling[k] != v}
        assert changed == replaced.get(row.key, set()), (row.key, changed)
        assert row.reason, row.key  # every change states a reason
    assert ROWS[0].labeling == {} and ROWS[0].auth == {}
    for row in ALL_ROWS.values():
        assert row.same_run_as is None or row.same_run_as in ALL_ROWS


def test_improved_preset_is_a_row_of_the_table():
    """The preset the CLI offers is exactly one measured row (no untested combination)."""
    from gaitcnn.labeling import LabelingParams

    improved = LabelingParams.from_preset("improved", n_subjects=100, seed=1)
    plan = Plan()
    resolved = improved.model.replace(channels=improved.model.default_channels)
    matches = [
        row.key
        for row in ROWS
        if ablation.labeling_params(row, 100, 1, plan).model.replace(preset="improved") == resolved
    ]
    assert len(matches) == 1


def test_summary_and_formatting():
    cell = summarise(
        [
            {"accuracy": 0.5, "wall_time_s": 10.0, "params": 3},
            {"accuracy": 0.7, "wall_time_s": 20.0, "params": 3},
        ]
    )
    assert cell["mean"] == pytest.approx(0.6) and cell["sd"] == pytest.approx(0.1414, abs=1e-3)
    assert format_cell(cell) == "60.0 +- 14.1 % (n=2, 15 s)"
    assert format_cell(None) == "-"
    one = summarise([{"accuracy": 0.25, "wall_time_s": 5.0, "params": 3}])
    assert format_cell(one) == "25.0 % (n=1, 5 s)"


@pytest.mark.tf
def test_tiny_plan_end_to_end_and_reuse(tmp_path, monkeypatch):
    plan = dataclasses.replace(
        ablation.QUICK,
        columns={"k100": ("paper", "schedule", "fusion")},
        seeds={"k100": (0,)},
        auth_rows=("schedule",),
        auth_subjects=2,
        n_simulated=6,
        n_simulated_mcgill=3,
        mcgill_duration_s=90.0,
    )
    argv = ["--quick", "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")]
    out = ablation.main(argv, plan=plan)
    table = json.loads((out / "ablation.json").read_text())["table"]
    assert set(table) == {"paper", "schedule", "fusion"}
    assert table["fusion"]["k100"]["n_seeds"] == 1
    assert "different_day" in table["schedule"]["auth"]
    text = (out / "ablation.md").read_text()
    assert "SIMULATED" in text and "QUICK" in text
    # the fusion row reuses the schedule row's networks: only two labeling runs were made
    assert sorted(p.name for p in (out / "cells").iterdir()) == [
        "paper-default-K6-s0",
        "schedule-auth",
        "schedule-default-K6-s0",
    ]

    # a second run computes nothing
    def fail(*args, **kwargs):
        raise AssertionError("a finished cell was recomputed")

    monkeypatch.setattr("gaitcnn.labeling.run_labeling", fail)
    monkeypatch.setattr("gaitcnn.authentication.run_authentication", fail)
    ablation.main(argv, plan=plan)


def test_reuse_matches_a_run_saved_before_a_field_was_added():
    from gaitcnn.labeling import LabelingParams

    current = LabelingParams.from_preset("improved", n_subjects=100, seed=1).to_dict()
    stored = {**current, "model": {**current["model"], "preset": "paper"}}
    del stored["model"]["partner"]  # an older run: its partner would read None, not the preset's
    assert not ablation._same_labeling(stored, current)
    speed = LabelingParams.from_preset("paper", n_subjects=100, seed=1).to_dict()
    older = {**speed, "model": {**speed["model"]}}
    del older["model"]["partner"], older["model"]["channel_choice"]  # fields added later
    assert ablation._same_labeling(older, speed)
    assert not ablation._same_labeling({**older, "seed": 2}, speed)
