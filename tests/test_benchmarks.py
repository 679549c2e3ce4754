"""Smoke tests of the benchmark modules: each runs in a tiny mode and returns well-formed entries.

No timing is asserted: benchmarks measure, tests check correctness.
"""

from __future__ import annotations

import hashlib
import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:  # `benchmarks` is a top-level folder, not part of the package
    sys.path.insert(0, ROOT)

REQUIRED = {"name": str, "figure": float, "unit": str, "repetitions": int}


def _check(entries):
    assert entries, "no entries"
    for e in entries:
        for key, kind in REQUIRED.items():
            assert isinstance(e[key], kind), (key, e)
        assert math.isfinite(e["figure"]), e
        assert e["repetitions"] >= 1
        assert "loadavg_1m" in e


def test_common_helpers():
    from benchmarks._common import entry, machine, median_time, versions

    med, times = median_time(lambda: None, 3)
    assert len(times) == 3 and med >= 0
    info = machine()
    assert info["cores"] >= 1 and info["cpu_model"]
    assert "numpy" in versions()
    _check([entry("x", 1.0, "s", repetitions=3)])


def test_bench_pipeline_tiny(monkeypatch, tmp_path):
    from benchmarks import bench_pipeline

    entries = [bench_pipeline.resampling(5.0, 1)]
    io_entries, path = bench_pipeline.cache_io(150, 1, tmp_path)
    entries += io_entries + bench_pipeline.tf_data(path, 150, 1)
    _check(entries)
    assert {e["name"] for e in entries} >= {"cache.write", "cache.read"}


def test_bench_training_tiny():
    from benchmarks import bench_training

    entries = [
        bench_training.matmul_flops(size=64, repeats=1),
        bench_training.keras_fit_throughput("paper_cnn", 200, 1),
        bench_training.training_scaling(100, 1),
    ]
    _check(entries)
    assert entries[1]["macs_per_image"] > 0
    assert entries[1]["achieved_flops"] == pytest.approx(
        6 * entries[1]["macs_per_image"] * entries[1]["figure"]
    )


@pytest.mark.slow
def test_bench_training_tflearn_and_package_loop():
    from benchmarks import bench_training

    _check([bench_training.tflearn_throughput(200, 1)])
    _check([bench_training.package_loop_from_cache(200, 1)])


def test_bench_inference_quick():
    from benchmarks import bench_inference

    entries = bench_inference.run(quick=True)
    _check(entries)
    names = {e["name"] for e in entries}
    assert {"inference.tflite.p50", "inference.savedmodel.p50", "export.size.tflite"} <= names


def test_bench_verification_quick():
    from benchmarks import bench_verification

    entries = bench_verification.run(quick=True)
    _check(entries)
    names = {e["name"] for e in entries}
    assert {"verification.tflite_window.p50", "verification.stream_resample"} <= names


def test_run_writes_json_and_markdown(tmp_path):
    import json

    from benchmarks import run

    out = tmp_path / "results.json"
    assert run.main(["--out", str(out), "--quick", "--only", "cycles"]) == 0
    result = json.loads(out.read_text())
    _check(result["entries"])
    assert result["machine"]["cores"] >= 1
    assert (tmp_path / "RESULTS.md").read_text().startswith("# Benchmark results")


def test_mcgill_subset_links(tmp_path):
    from benchmarks.bench_prepare import mcgill_subset

    src = tmp_path / "src"
    src.mkdir()
    for s in (1, 2, 3):
        for d in (1, 2):
            (src / f"subject{s:02d}_day{d}.csv").write_text("x")
    dest = mcgill_subset(src, 2, tmp_path / "dest")
    assert sorted(p.name for p in dest.iterdir()) == [
        "subject01_day1.csv",
        "subject01_day2.csv",
        "subject02_day1.csv",
        "subject02_day2.csv",
    ]


def test_prepare_workers_give_byte_identical_cache(tmp_path):
    """`prepare --workers 2` writes exactly the bytes of `--workers 1` (no HDF5 timestamps)."""
    from gaitcnn.prepare import PrepareParams, ensure_simulated, prepare_dataset

    root = ensure_simulated("ouisir", cache_dir=tmp_path / "sim", n_subjects=6)
    params = PrepareParams.paper("ouisir")
    digests = []
    for workers in (1, 2):
        path = prepare_dataset(
            params, root, cache_dir=tmp_path / f"w{workers}", workers=workers, progress=False
        )
        digests.append(hashlib.sha256(path.read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    assert np.all([len(d) == 64 for d in digests])


@pytest.mark.tf
def test_bench_labeling_quick():
    """The peak-memory benchmark of the labeling command runs and reports per K."""
    from benchmarks import bench_labeling

    entries = bench_labeling.run(quick=True)
    assert [e["k"] for e in entries] == [4, 8]
    for e in entries:
        assert e["unit"] == "MB" and e["figure"] > 100 and e["wall_s"] > 0
        assert 0.0 <= e["accuracy"] <= 1.0


@pytest.mark.tf
def test_bench_peer_ratio_quick():
    """The improved-vs-MiniRocket wall-time ratio runs both commands and divides their times."""
    from benchmarks import bench_peer_ratio

    (e,) = bench_peer_ratio.run(quick=True)
    assert e["name"] == "labeling.improved_vs_minirocket.K4.wall_ratio" and e["unit"] == "x"
    assert e["figure"] == pytest.approx(e["improved_wall_s"][0] / e["minirocket_wall_s"][0])
    assert min(e["improved_wall_s"] + e["minirocket_wall_s"]) > 0
