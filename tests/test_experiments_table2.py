"""Smoke tests of the labeling experiment drivers (Table 2, Figures 7-9, REPORT.md), --quick."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Run every driver once on the tiny configuration, sharing one run store."""
    # `python -m pytest` (the Makefile) puts the repo on sys.path; plain `pytest` does not.
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from experiments import figure_7, figure_8, figure_9, report, table_2

    tmp = tmp_path_factory.mktemp("experiments")
    res = tmp / "results"
    common = ["--quick", "--cache-dir", str(tmp / "cache"), "--runs-dir", str(tmp / "runs")]
    common += ["--workers", "1"]
    table_2.main([*common, "--out", str(res / "table2"), "--methods", "method3", "proposed"])
    figure_8.main([*common, "--out", str(res / "figure8")])
    figure_7.main([*common, "--out", str(res / "figure7")])
    figure_9.main([*common, "--out", str(res / "figure9")])
    report.main(["--results", str(res)])
    return tmp


def _rows(path):
    with path.open() as fh:
        return list(csv.DictReader(fh))


def test_table2_outputs(results):
    res = results / "results"
    rows = _rows(res / "table2" / "table2.csv")
    assert [r["method"] for r in rows] == ["method3", "proposed"]
    assert rows[0]["paper_proposed_minus_this_points"] == "8.7"
    proposed = json.loads((results / "runs").glob("proposed-K6-*").__next__().joinpath(
        "results.json").read_text())  # fmt: skip
    assert float(rows[1]["accuracy"]) == pytest.approx(proposed["accuracy"], abs=1e-4)
    margin = 100 * (float(rows[1]["accuracy"]) - float(rows[0]["accuracy"]))
    assert float(rows[0]["proposed_minus_this_points"]) == pytest.approx(margin, abs=0.11)
    text = (res / "table2" / "table2.md").read_text()
    assert "SIMULATED" in text
    assert int(rows[0]["params"]) > 0


def test_runs_are_shared(results):
    # Table 2, Figure 7 (K=6), Figure 8 and Figure 9's default point share one proposed K=6
    # run (fl1=16 is the tiny default); Figure 9 adds n_conv=1. Figure 8 reuses Table 2's.
    assert len(list((results / "runs").glob("proposed-K6-*"))) == 2
    assert len(list((results / "runs").glob("method3-K6-*"))) == 1


def test_figures(results):
    res = results / "results"
    assert len(_rows(res / "figure7" / "figure7.csv")) == 4
    assert len(_rows(res / "figure8" / "figure8.csv")) == 2 * 6
    assert {r["sweep"] for r in _rows(res / "figure9" / "figure9.csv")} == {"n_conv", "fl1_units"}
    for name in ("figure7/figure7.png", "figure8/figure8.png", "figure9/figure9.png"):
        assert (res / name).stat().st_size > 1000


def test_report(results):
    text = (results / "results" / "REPORT.md").read_text()
    assert "![Figure 7" in text
    assert "Table 2: gait labeling" in text
    assert "Reconstruction" in text
    assert "_Not run (no `table1/` folder)._" in text
