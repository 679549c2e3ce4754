"""Smoke test of experiments/peer_rotation.py on its tiny --quick configuration."""

from __future__ import annotations

import json

import pytest


def test_quick_cell_and_table(tmp_path):
    pytest.importorskip("aeon")
    from experiments.peer_rotation import main

    out = tmp_path / "out"
    common = ["--quick", "--out", str(out), "--cache-dir", str(tmp_path / "cache")]
    # the worker path (what the driver runs in a subprocess), then the driver reusing it
    main([*common, "--cell", "minirocket", "rotated", "gravity", "6", "0"])
    cell = out / "cells" / "minirocket-rotated-gravity-K6-s0.json"
    result = json.loads(cell.read_text())
    assert result["simulated"] is True and result["K"] == 6 and result["n_channels"] == 6
    assert 0.0 <= result["accuracy"] <= result["top5"] <= 1.0
    assert result["peak_rss_mb"] > 0 and result["fit_predict_time_s"] > 0
    args = ["--peers", "minirocket", "--variants", "rotated", "--channels", "gravity"]
    main([*common, *args])
    table = (out / "peer_rotation.md").read_text()
    assert "SIMULATED" in table and "| minirocket | gravity |" in table
    rows = json.loads((out / "peer_rotation.json").read_text())["rows"]
    assert rows == [result]
