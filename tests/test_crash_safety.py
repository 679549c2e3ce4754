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
import re
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


# ---------------------------------------------------------------------------------------------
# Chaos (issue 16, "done when"): kill simulate, prepare --workers 2 and train at seeded random
# points; every rerun ends with the uninterrupted result, and nothing is left behind.
# ---------------------------------------------------------------------------------------------

#: Hidden temporary files of the atomic writers, partial files/folders, lock files.
_LEFTOVER = re.compile(r"(^\..+\.\d+-[0-9a-f]{8}\.[A-Za-z0-9]+$)|(\.partial-\d+$)|(\.lock$)")


def _session_processes(sid: int) -> list[int]:
    """Live (non-zombie) processes of session ``sid`` (the killed command and its workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":  # fields: state, ppid, pgrp, session
            found.append(int(stat.parent.name))
    return found


def _kill_session_leader(cmd, delay_s: float) -> tuple[int | None, list[int]]:
    """SIGKILL the command (only its main process) after ``delay_s``; return its exit code and
    the processes of its session still alive 10 s later (its orphaned workers, if any)."""
    proc = subprocess.Popen(
        cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        code = proc.wait(timeout=delay_s)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        code = None
    deadline = time.monotonic() + 10
    while _session_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    strays = _session_processes(proc.pid)
    for pid in strays:  # never leak them into the test session
        os.kill(pid, signal.SIGKILL)
    return code, strays


def _leftovers(*folders: Path) -> list[str]:
    return sorted(
        str(path) for folder in folders if folder.exists()
        for path in [folder, *folder.rglob("*")] if _LEFTOVER.search(path.name)
    )  # fmt: skip


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _gaitcnn(*args) -> list[str]:
    return [sys.executable, "-m", "gaitcnn.cli", *args]


def _chaos_round(stage: str, k: int, delay_frac: float, work: Path, ref: dict) -> str:
    """Kill one ``stage`` command, rerun it, check the result; return a one-line log."""
    out = work / f"{stage}{k}"
    if stage == "simulate":
        cmd = _gaitcnn("simulate", "--dataset", "mcgill", "--subjects", "4", "--duration-s",
                       "120", "--out", str(out / "sim"))  # fmt: skip
    elif stage == "prepare":
        cmd = _gaitcnn("prepare", "--dataset", "mcgill", "--data-root", str(ref["sim"]),
                       "--workers", "2", "--cache-dir", str(out))  # fmt: skip
    else:
        cmd = [sys.executable, str(ref["driver"]), str(ref["cache"]), str(out), "3"]
    code, strays = _kill_session_leader(cmd, delay_frac * ref["duration"][stage])
    assert not strays, f"{stage}: processes {strays} outlived the killed command"
    if not (stage == "simulate" and (out / "sim").exists()):  # a complete --out is kept as is
        _run(cmd)
    if stage == "simulate":
        assert _tree(out / "sim") == _tree(ref["sim"]), "rerun simulation differs"
    elif stage == "prepare":
        (path,) = _caches(out)
        _assert_same_cache(path, ref["images"])
    else:
        got = _final_weights(out)
        for a, b in zip(got, ref["weights"], strict=True):
            np.testing.assert_array_equal(a, b)
    leftovers = _leftovers(out)
    assert not leftovers, f"{stage}: left behind {leftovers}"
    return f"{stage} kill {k}: after {delay_frac:.2f} x its duration (exit {code}) -> identical"


@pytest.mark.slow
@pytest.mark.tf
def test_chaos_kills_of_simulate_prepare_and_train(tmp_path):
    ref: dict = {"duration": {}}
    started = time.perf_counter()
    _run(_gaitcnn("simulate", "--dataset", "mcgill", "--subjects", "4", "--duration-s", "120",
                  "--out", str(tmp_path / "ref" / "sim")))  # fmt: skip
    ref["duration"]["simulate"] = time.perf_counter() - started
    ref["sim"] = tmp_path / "ref" / "sim"
    prepare = ["prepare", "--dataset", "mcgill", "--data-root", str(ref["sim"]),
               "--workers", "2", "--cache-dir", str(tmp_path / "ref" / "c")]  # fmt: skip
    ref["duration"]["prepare"] = _run(_gaitcnn(*prepare))
    (ref["cache"],) = _caches(tmp_path / "ref" / "c")
    ref["images"] = read_image_set(ref["cache"])
    ref["driver"] = tmp_path / "driver.py"
    ref["driver"].write_text(TRAIN_DRIVER)
    ref["duration"]["train"] = _run(
        [sys.executable, str(ref["driver"]), str(ref["cache"]), str(tmp_path / "ref" / "run"), "3"]
    )
    ref["weights"] = _final_weights(tmp_path / "ref" / "run")
    rng = np.random.default_rng(16)
    stages = ["simulate", "prepare", "train"] * 4
    # Kill points as fractions of each command's uninterrupted wall time (a train run spends
    # its first ~third importing TensorFlow, so its kills start later).
    window = {"simulate": (0.05, 1.05), "prepare": (0.05, 1.05), "train": (0.3, 1.0)}
    log = [
        _chaos_round(stage, k, float(rng.uniform(*window[stage])), tmp_path / "chaos", ref)
        for k, stage in enumerate(stages)
    ]
    print("\n".join(log))
    assert len(log) == len(stages)
