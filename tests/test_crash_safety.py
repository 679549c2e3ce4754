"""Crash safety: SIGKILL `gaitcnn prepare` and training at random points; nothing is lost.

After each kill, the image cache is either complete and equal to an uninterrupted build, or
absent (a ``*.partial-<pid>`` file is never read as a cache, and the next run removes it), and
a training run resumed with ``resume=True`` ends with exactly the weights of an uninterrupted
run with the same seed. Disk-full during a cache write leaves no cache and a clean error.

The fast suite kills each command at a couple of seeded random points; the ``slow`` versions
kill at five.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gaitcnn.cache import CacheWriter, read_image_set

N_SUBJECTS = 6
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}

TRAIN_DRIVER = """
import sys
from gaitcnn.runs import train_run
train_run(sys.argv[1], sys.argv[2], epochs=int(sys.argv[3]), seed=0, resume=True, verbose=0,
          hparams={"conv_filters": (4, 4, 4), "fl1_units": 8})
"""


def _prepare_cmd(cache_dir: Path) -> list[str]:
    return [sys.executable, "-m", "gaitcnn.cli", "prepare", "--dataset", "ouisir",
            "--subjects", str(N_SUBJECTS), "--cache-dir", str(cache_dir)]  # fmt: skip


def _run(cmd, timeout=300) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return time.perf_counter() - started


def _kill_after(cmd, delay_s: float) -> int | None:
    """Start ``cmd``, SIGKILL it after ``delay_s`` (if still running); return its exit code."""
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return proc.wait(timeout=delay_s)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return None


def _caches(cache_dir: Path) -> list[Path]:
    return sorted(p for p in cache_dir.glob("*.h5"))


def _assert_same_cache(path: Path, reference) -> None:
    got = read_image_set(path)
    assert len(got) == len(reference)
    np.testing.assert_array_equal(got.images, reference.images)
    np.testing.assert_array_equal(got.subject_ids, reference.subject_ids)
    np.testing.assert_array_equal(got.starts, reference.starts)

    def strip(recordings):  # the source path names the (per-test) cache folder
        return [{k: v for k, v in r.items() if k != "source"} for r in recordings]

    assert strip(got.recordings) == strip(reference.recordings)


@pytest.fixture(scope="module")
def reference_cache(tmp_path_factory):
    cache_dir = tmp_path_factory.mktemp("reference-cache")
    duration = _run(_prepare_cmd(cache_dir))
    (path,) = _caches(cache_dir)
    return path, read_image_set(path), duration


def _prepare_kills(tmp_path, reference_cache, n_kills: int, seed: int) -> int:
    _, reference, duration = reference_cache
    rng = np.random.default_rng(seed)
    survived = 0
    for k in range(n_kills):
        cache_dir = tmp_path / f"kill{k}"
        delay = float(rng.uniform(0.05, 1.1) * duration)
        code = _kill_after(_prepare_cmd(cache_dir), delay)
        # Right after the kill: a cache is complete and equal, or absent.
        caches = _caches(cache_dir)
        assert len(caches) <= 1
        for path in caches:  # the name hashes the params, which may name the data root
            _assert_same_cache(path, reference)
        sim = cache_dir / f"simulated-ouisir-n{N_SUBJECTS}-seed0"
        assert not sim.exists() or (sim / ".complete").exists(), "half-simulated data in place"
        # The next run completes it, and cleans the dead writer's partial file.
        _run(_prepare_cmd(cache_dir))
        (path,) = _caches(cache_dir)
        _assert_same_cache(path, reference)
        assert not list(cache_dir.glob("*.h5.partial-*")), "stale partial cache left"
        survived += 1
        print(f"prepare kill {k}: after {delay:.2f} s (exit {code}) -> nothing lost")
    return survived


def test_prepare_killed_at_random_points(tmp_path, reference_cache):
    assert _prepare_kills(tmp_path, reference_cache, n_kills=2, seed=1) == 2


@pytest.mark.slow
def test_prepare_killed_at_many_random_points(tmp_path, reference_cache):
    assert _prepare_kills(tmp_path, reference_cache, n_kills=5, seed=2) == 5


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------


def _final_weights(run_dir: Path) -> list[np.ndarray]:
    from gaitcnn.export import load_model

    return load_model(run_dir / "final.keras").get_weights()


def _train_kills(tmp_path, reference_cache, epochs: int, n_kills: int, seed: int) -> int:
    cache = reference_cache[0]
    driver = tmp_path / "driver.py"
    driver.write_text(TRAIN_DRIVER)
    cmd = [sys.executable, str(driver), str(cache)]
    ref_dir = tmp_path / "uninterrupted"
    duration = _run([*cmd, str(ref_dir), str(epochs)])
    reference = _final_weights(ref_dir)
    rng = np.random.default_rng(seed)
    survived = 0
    for k in range(n_kills):
        run_dir = tmp_path / f"kill{k}"
        delay = float(rng.uniform(0.3, 1.0) * duration)
        code = _kill_after([*cmd, str(run_dir), str(epochs)], delay)
        state = run_dir / "checkpoints" / "state.json"
        committed = state.read_text() if state.exists() else "none"
        _run([*cmd, str(run_dir), str(epochs)])  # resume
        got = _final_weights(run_dir)
        assert len(got) == len(reference)
        for a, b in zip(got, reference, strict=True):
            np.testing.assert_array_equal(a, b)
        assert not list(run_dir.rglob("*.tmp")), "temporary file left visible"
        survived += 1
        print(f"train kill {k}: after {delay:.1f} s (exit {code}, state {committed[:60]!r}) ok")
    return survived


@pytest.mark.tf
def test_training_killed_and_resumed_gives_the_same_weights(tmp_path, reference_cache):
    assert _train_kills(tmp_path, reference_cache, epochs=3, n_kills=1, seed=3) == 1


@pytest.mark.tf
@pytest.mark.slow
def test_training_killed_at_many_points(tmp_path, reference_cache):
    assert _train_kills(tmp_path, reference_cache, epochs=4, n_kills=5, seed=4) == 5


# ---------------------------------------------------------------------------------------------
# Disk full
# ---------------------------------------------------------------------------------------------


def _enospc_after(n_ok: int, monkeypatch):
    real = CacheWriter.add_recording
    calls = {"n": 0}

    def add_recording(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > n_ok:
            raise OSError(errno.ENOSPC, "No space left on device", str(self._tmp))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(CacheWriter, "add_recording", add_recording)


def test_disk_full_leaves_no_partial_cache(tmp_path, monkeypatch):
    from gaitcnn.prepare import PrepareParams, ensure_simulated, prepare_dataset

    root = ensure_simulated("ouisir", cache_dir=tmp_path / "sim", n_subjects=3)
    _enospc_after(2, monkeypatch)
    out = tmp_path / "cache"
    params = PrepareParams.paper("ouisir")
    with pytest.raises(OSError) as info:
        prepare_dataset(params, root, cache_dir=out, progress=False)
    assert info.value.errno == errno.ENOSPC
    assert list(out.iterdir()) == []  # no cache, no partial file


def test_disk_full_is_a_clean_cli_error(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from gaitcnn.cli import main

    _enospc_after(1, monkeypatch)
    args = ["prepare", "--dataset", "ouisir", "--subjects", "3", "--cache-dir", str(tmp_path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "No space left on device" in result.output and "Traceback" not in result.output
    assert not list(tmp_path.glob("*.h5*"))


def test_disk_full_while_laying_out_the_file(tmp_path, monkeypatch):
    import h5py

    def create_dataset(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(h5py.File, "create_dataset", create_dataset)
    with pytest.raises(OSError):
        CacheWriter(tmp_path / "c.h5", (2, 2, 1), params={}, source="t")
    assert list(tmp_path.iterdir()) == []


def test_stale_partial_of_a_dead_writer_is_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = tmp_path / f"c.h5.partial-{int(dead.stdout)}"
    stale.write_bytes(b"half a cache")
    live = tmp_path / f"c.h5.partial-{os.getppid()}"  # a live process: left alone
    live.write_bytes(b"being written")
    writer = CacheWriter(tmp_path / "c.h5", (2, 2, 1), params={}, source="t")
    writer.commit()
    assert not stale.exists() and live.exists()
    assert read_image_set(tmp_path / "c.h5").params == {}
