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
    pytest.importorskip("aeon")  # Table 2 and Figure 7 have a MiniRocket row
    from experiments import comparison, figure_7, figure_8, figure_9, report, table_2

    tmp = tmp_path_factory.mktemp("experiments")
    res = tmp / "results"
    common = ["--quick", "--cache-dir", str(tmp / "cache"), "--runs-dir", str(tmp / "runs")]
    common += ["--workers", "1"]
    table_2.main(
        [*common, "--out", str(res / "table2"), "--methods", "method3", "proposed", "minirocket"]
    )
    figure_8.main([*common, "--out", str(res / "figure8")])
    figure_7.main([*common, "--out", str(res / "figure7")])
    figure_9.main([*common, "--out", str(res / "figure9")])
    comparison.main(
        ["--quick", "--cache-dir", str(tmp / "cache"), "--out", str(res / "comparison")]
    )
    report.main(["--results", str(res)])
    return tmp


def _rows(path):
    with path.open() as fh:
        return list(csv.DictReader(fh))


def test_table2_outputs(results):
    res = results / "results"
    rows = _rows(res / "table2" / "table2.csv")
    assert [r["method"] for r in rows] == ["method3", "proposed", "minirocket"]
    assert rows[0]["paper_proposed_minus_this_points"] == "8.7"
    assert rows[2]["paper_proposed_minus_this_points"] == ""  # not in the paper
    assert float(rows[2]["wall_time_s"]) > 0 and int(rows[2]["params"]) > 0
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
    fig7 = _rows(res / "figure7" / "figure7.csv")
    assert len(fig7) == 6 and {r["method"] for r in fig7} == {"method3", "proposed", "minirocket"}
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


def test_comparison(results):
    res = results / "results" / "comparison"
    rows = _rows(res / "comparison.csv")
    assert [r["method"] for r in rows] == ["paper", "improved", "minirocket"]
    assert {r["K"] for r in rows} == {"4"}
    for row in rows:  # every row is a finished run of the public command, in its own process
        run = json.loads((Path(row["run_dir"]) / "results.json").read_text())
        assert float(row["accuracy"]) == pytest.approx(run["accuracy"], abs=1e-4)
        assert int(row["peak_rss_mb"]) > 50 and float(row["model_mb"]) > 0
        assert float(row["wall_time_s"]) > 0
    assert (
        json.loads((Path(rows[1]["run_dir"]) / "config.json").read_text())["labeling"]["model"][
            "preset"
        ]
        == "improved"
    )
    assert (res / "comparison.png").stat().st_size > 1000
    text = (results / "results" / "REPORT.md").read_text()
    assert "Beyond the paper: paper preset vs improved preset vs MiniRocket" in text
    assert "![Beyond the paper" in text and "comparison/comparison.png" in text
    # a second run reuses the finished processes instead of training again
    from experiments import comparison

    before = (Path(rows[0]["run_dir"]) / "results.json").stat().st_mtime_ns
    comparison.main(["--quick", "--cache-dir", str(results / "cache"), "--out", str(res)])
    assert (Path(rows[0]["run_dir"]) / "results.json").stat().st_mtime_ns == before
    # --finished-only tabulates what ran and lists the rest without training it
    comparison.main(["--quick", "--cache-dir", str(results / "cache"), "--out", str(res),
                     "--methods", "minirocket", "rdst", "--finished-only"])  # fmt: skip
    assert [r["method"] for r in _rows(res / "comparison.csv")] == ["minirocket"]
    assert (
        "- RDST peer (aeon) + ridge, default, K = 4, seed 0" in (res / "comparison.md").read_text()
    )
    assert not (res / "runs" / "rdst-K4-s0").exists()


def test_report_includes_provenance_notes(tmp_path):
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from experiments import report

    (tmp_path / "table2").mkdir()
    (tmp_path / "table2" / "table2.md").write_text("# Table 2\n\n| a |\n|---|\n")
    (tmp_path / "table2" / "NOTE.md").write_text("> ran with commit abc123\n")
    text = report.build_report(tmp_path)
    section = text.split("## Table 2: gait labeling (OU-ISIR)")[1].split("\n## ")[0]
    assert "> ran with commit abc123" in section
    assert "ran with commit" not in text.split("## Table 2")[0]


def test_comparison_defaults_are_the_full_grid_on_the_simulator(tmp_path):
    """Without --methods/--settings: every method on default, hard and rotated data; --quick and
    a real --data-root (which has no variants) keep to default data."""
    from experiments import comparison

    args, size = comparison._parse([])
    assert args.methods == ["paper", "improved", "minirocket", "multirocket", "rdst"]
    assert args.settings == ["default", "hard", "rotated"] and size["k"] == (100, 744)
    args, _ = comparison._parse(["--data-root", str(tmp_path)])
    assert args.settings == ["default"] and "rdst" in args.methods
    args, _ = comparison._parse(["--quick"])
    assert args.methods == ["paper", "improved", "minirocket"] and args.settings == ["default"]
    args, _ = comparison._parse(["--methods", "rdst", "--settings", "untilted"])
    assert args.methods == ["rdst"] and args.settings == ["untilted"]


def test_comparison_settings_name_their_data_and_channels(tmp_path):
    """--settings android runs on accelerometer-only walks, and the table says so."""
    from experiments import comparison

    out = tmp_path / "cmp"
    comparison.main(["--quick", "--cache-dir", str(tmp_path / "cache"), "--out", str(out),
                     "--methods", "minirocket", "--settings", "android"])  # fmt: skip
    (row,) = _rows(out / "comparison.csv")
    assert (row["setting"], row["channels"]) == ("android", "acc+acc_mag")
    assert "-android-" in row["run_dir"]
    assert "| android | acc+acc_mag |" in (out / "comparison.md").read_text()
    with pytest.raises(SystemExit):  # a simulator variant cannot apply to real data
        comparison.main(["--data-root", str(tmp_path), "--settings", "rotated"])


def test_comparison_summary_over_seeds():
    """Seeds are averaged per method, setting and K; wall time is divided by MiniRocket's."""
    from experiments import comparison

    def row(method, seed, acc, wall, setting="default"):
        return {"method": method, "label": method, "setting": setting, "seed": seed,
                "channels": "acc+gyr", "K": 100, "accuracy": acc, "top5": 1.0,
                "wall_time_s": wall, "peak_rss_mb": 100 + seed, "params": None,
                "model_mb": 1.0}  # fmt: skip

    rows = [row("minirocket", 0, 0.9, 10.0), row("minirocket", 1, 0.8, 30.0),
            row("improved", 0, 0.7, 40.0), row("improved", 1, 0.9, 40.0),
            row("improved", 0, 0.5, 40.0, setting="rotated")]  # fmt: skip
    summary = {(r["method"], r["setting"]): r for r in comparison.summarise(rows)}
    improved = summary[("improved", "default")]
    assert improved["accuracy"] == pytest.approx(0.8)
    assert improved["accuracy_per_seed"] == [0.7, 0.9] and improved["seeds"] == [0, 1]
    assert improved["wall_vs_minirocket"] == pytest.approx(2.0)
    assert improved["peak_rss_mb"] == 101
    assert summary[("improved", "rotated")]["wall_vs_minirocket"] is None  # no MiniRocket there
    table = comparison.markdown_table(list(summary.values()))
    assert "| 80.0 [70/90] |" in table and "| 2.0 |" in table


def test_comparison_run_key_ignores_a_field_added_later_at_its_default():
    from experiments.comparison import _resolved_config, same_run_key

    current = {
        "command": ["-m", "x"],
        "gaitcnn": "1",
        "config": _resolved_config(("--method", "minirocket")),
    }
    stored = {**current, "config": dict(current["config"])}
    del stored["config"]["partner"], stored["config"]["channel_choice"]  # an older run's key
    assert same_run_key(stored, current)
    assert not same_run_key({**stored, "gaitcnn": "0"}, current)
    improved = {**current, "config": _resolved_config(("--preset", "improved"))}
    assert not same_run_key(stored, improved)  # a changed preset is rerun
    older_improved = {**improved, "config": {**improved["config"]}}
    del older_improved["config"]["partner"]  # made before the partner: not the same run
    assert not same_run_key(older_improved, improved)
