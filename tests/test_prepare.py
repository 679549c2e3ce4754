"""Tests for gaitcnn.prepare: simulated data set -> image cache, end to end (numpy only)."""

import numpy as np
import pytest

from gaitcnn.cache import read_image_set
from gaitcnn.errors import GaitDataError
from gaitcnn.prepare import PrepareParams, ensure_simulated, images_for_recording, prepare_dataset


@pytest.fixture(scope="module")
def ouisir_root(tmp_path_factory):
    return ensure_simulated("ouisir", cache_dir=tmp_path_factory.mktemp("sim"), n_subjects=4)


@pytest.fixture(scope="module")
def mcgill_root(tmp_path_factory):
    return ensure_simulated(
        "mcgill", cache_dir=tmp_path_factory.mktemp("sim"), n_subjects=2, duration_s=60.0
    )


def test_params_validation_and_hash_inputs():
    p = PrepareParams.paper("ouisir")
    assert p.channels == ("acc", "gyr") and p.image_shape == (32, 64, 2)
    assert PrepareParams.paper("mcgill").image_shape == (32, 64, 1)
    assert PrepareParams.paper("ouisir", representation="raw").image_shape == (1, 64, 6)
    with pytest.raises(ValueError, match="representation"):
        PrepareParams(dataset="ouisir", representation="png")
    with pytest.raises(ValueError, match="channels"):
        PrepareParams(dataset="ouisir", channels=("mag",))
    assert p.to_dict()["channels"] == ["acc", "gyr"]


def test_ensure_simulated_is_reused(ouisir_root):
    assert (ouisir_root / ".complete").exists()
    again = ensure_simulated("ouisir", cache_dir=ouisir_root.parent, n_subjects=4)
    assert again == ouisir_root


def test_prepare_ouisir_cache(ouisir_root, tmp_path):
    params = PrepareParams.paper("ouisir")
    path = prepare_dataset(params, ouisir_root, cache_dir=tmp_path, progress=False)
    image_set = read_image_set(path, expected_params=params.to_dict())
    assert image_set.images.shape[1:] == (32, 64, 2)
    assert image_set.images.dtype == np.float32
    assert 0.0 <= image_set.images.min() and image_set.images.max() <= 1.0
    assert len(np.unique(image_set.subject_ids)) == 4
    assert set(image_set.sessions) <= {"gallery", "probe"}
    # every recording is accounted for: images + skipped = candidate starts
    for rec in image_set.recordings:
        assert rec["n_images"] + rec["n_skipped"] == rec["n_candidates"]
    # a second call reuses the cache rather than rebuilding it
    mtime = path.stat().st_mtime_ns
    assert prepare_dataset(params, ouisir_root, cache_dir=tmp_path, progress=False) == path
    assert path.stat().st_mtime_ns == mtime


def test_workers_give_identical_cache(mcgill_root, tmp_path):
    params = PrepareParams.paper("mcgill")
    one = prepare_dataset(params, mcgill_root, cache_dir=tmp_path / "a", progress=False)
    two = prepare_dataset(params, mcgill_root, cache_dir=tmp_path / "b", workers=2, progress=False)
    a, b = read_image_set(one), read_image_set(two)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.starts, b.starts)
    assert a.recordings == b.recordings
    assert len(a) > 50  # 2 subjects x 2 days x 60 s of walking at ~1 stride/s


def test_representations_and_segmentations(mcgill_root):
    from gaitcnn.io import load_mcgill

    rec = load_mcgill(mcgill_root)[0]
    for kwargs, shape in [
        ({}, (32, 64, 1)),
        ({"representation": "gdi"}, (32, 64, 1)),
        ({"representation": "raw"}, (1, 64, 3)),
        ({"segmentation": "overlap"}, (32, 64, 1)),
    ]:
        (_info, images, starts), *_ = images_for_recording(
            rec, PrepareParams.paper("mcgill", **kwargs)
        )
        assert images.shape[1:] == shape and len(images) == len(starts) > 10
    overlap = images_for_recording(rec, PrepareParams.paper("mcgill", segmentation="overlap"))
    step = np.diff(overlap[0][2])
    assert np.all(step == step[0])  # equally spaced windows


def test_gyro_channel_required(mcgill_root):
    from gaitcnn.io import load_mcgill

    rec = load_mcgill(mcgill_root)[0].replace(gyr=None)
    with pytest.raises(GaitDataError, match="gyroscope"):
        images_for_recording(rec, PrepareParams(dataset="mcgill", channels=("acc", "gyr")))


def test_other_data_root_gets_its_own_cache(ouisir_root, tmp_path):
    """Same parameters, different data sets: two cache files, never a stale reuse."""
    small = ensure_simulated("ouisir", cache_dir=ouisir_root.parent, n_subjects=2)
    params = PrepareParams.paper("ouisir")
    a = prepare_dataset(params, ouisir_root, cache_dir=tmp_path, progress=False)
    b = prepare_dataset(params, small, cache_dir=tmp_path, progress=False)
    assert a != b
    assert len(np.unique(read_image_set(b).subject_ids)) == 2


def test_half_written_simulation_of_a_dead_process_is_removed(tmp_path):
    stale = tmp_path / "simulated-ouisir-n2-seed0.partial-999999999"  # no such pid
    stale.mkdir()
    (stale / "junk.csv").write_text("rows: 1\n")
    root = ensure_simulated("ouisir", cache_dir=tmp_path, n_subjects=2)
    assert (root / ".complete").exists() and not stale.exists()


# ---- dense segmentation (improved preset) ---------------------------------------------------

#: The keys of ``PrepareParams.to_dict()`` before the dense segmentation was added. The paper
#: preset's dict (hence its cache hash and file name) must keep exactly these keys. (The
#: values of ``detection`` follow the cycle detector, so the hash itself is not frozen here.)
PAPER_KEYS = {
    "dataset", "representation", "segmentation", "channels", "width", "height", "edge",
    "rate_hz", "max_gap_s", "detection", "subset", "sensor",
}  # fmt: skip


def test_paper_preset_cache_hashes_unchanged():
    import dataclasses
    import json

    from gaitcnn.cache import params_hash

    cases = [
        PrepareParams.paper("ouisir"),
        PrepareParams.paper("mcgill"),
        PrepareParams.paper("ouisir", representation="gdi"),
        PrepareParams.paper("ouisir", segmentation="overlap", edge="pad"),
    ]
    for params in cases:
        old_style = json.loads(json.dumps(dataclasses.asdict(params)))
        old_style = {k: v for k, v in old_style.items() if k in PAPER_KEYS}
        assert set(params.to_dict()) == PAPER_KEYS
        assert params_hash(params.to_dict()) == params_hash(old_style)
    improved = PrepareParams.improved("ouisir")
    assert improved.to_dict()["dense_step"] == 4
    # dense images do not depend on the cycle detector: its parameters are not hashed
    assert improved.to_dict()["detection"] == {}


def test_dense_params_validation():
    with pytest.raises(ValueError, match="dense_step"):
        PrepareParams(dataset="ouisir", segmentation="dense")
    with pytest.raises(ValueError, match="dense_step"):
        PrepareParams(dataset="ouisir", dense_step=4)
    with pytest.raises(ValueError, match="ae_gdi"):
        PrepareParams(dataset="ouisir", representation="gdi", channels=("acc", "acc_mag"))
    p = PrepareParams.improved("ouisir", channels=("acc", "gyr", "acc_mag", "gyr_mag"))
    assert p.image_shape == (32, 64, 4)


def test_dense_images_positions_and_shapes(mcgill_root):
    from gaitcnn.images import ae_gdi, magnitude_image
    from gaitcnn.io import load_mcgill
    from gaitcnn.resample import resample_recording

    rec = load_mcgill(mcgill_root)[0]
    params = PrepareParams.improved("mcgill", dense_step=10, channels=("acc", "acc_mag"))
    out = images_for_recording(rec, params)
    segments = resample_recording(rec, rate_hz=params.rate_hz, max_gap_s=params.max_gap_s)
    assert len(out) == len(segments)
    for (info, images, starts), segment in zip(out, segments, strict=True):
        n = info["n_timepoints"]
        # every 10th sample from 0 while the 64 columns fit ("pad" edge), nothing skipped
        np.testing.assert_array_equal(starts, np.arange(0, n - 64 + 1, 10))
        assert info["n_skipped"] == 0
        assert images.shape == (len(starts), 32, 64, 2)
        np.testing.assert_array_equal(images[:, :, :, 0], ae_gdi(segment.acc, starts, edge="pad"))
        np.testing.assert_allclose(
            images[:3, :, :, 1],
            magnitude_image(segment.acc, starts[:3], offset=9.80665, scale=9.80665, edge="pad"),
        )
    # a strict dense segmentation keeps the full margins
    strict = PrepareParams.improved("mcgill", dense_step=10, edge="strict")
    (_info, _images, starts), *_ = images_for_recording(rec, strict)
    assert starts[0] == 32 and starts[-1] <= out[0][0]["n_timepoints"] - 96


# ---- issue 16: stale inputs, partial data sets, empty results, locks, orphaned workers ------


def _copy_root(root, dest):
    import shutil

    shutil.copytree(root, dest)
    return dest


def _rebuilt(call, path, caplog) -> bool:
    """Run ``call``; whether it rebuilt the cache at ``path`` (said so in a warning)."""
    import logging

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="gaitcnn"):
        assert call() == path
    return any("rebuilding the image cache" in r.getMessage() for r in caplog.records)


def test_changed_inputs_rebuild_the_cache(ouisir_root, tmp_path, caplog):
    """Item 1: the cache carries a fingerprint of its input files and is rebuilt on change."""
    import os

    root = _copy_root(ouisir_root, tmp_path / "data")
    params = PrepareParams.paper("ouisir")

    def call():
        return prepare_dataset(params, root, cache_dir=tmp_path / "c", progress=False)

    path = call()
    assert not _rebuilt(call, path, caplog)  # nothing changed: reused
    folder = root / "AutomaticExtractionData_IMUZCenter"
    files = sorted(folder.glob("T0_ID*.csv"))
    os.utime(files[0])  # touched, same content: still reused
    assert not _rebuilt(call, path, caplog)
    # Replaced with other content of the same size and modification time (cp -p, rsync -t).
    stat = files[0].stat()
    lines = files[0].read_text().split("\n")
    last = lines[10][-1]  # the last digit of a data line
    lines[10] = lines[10][:-1] + str((int(last) + 1) % 10)
    files[0].write_text("\n".join(lines))
    os.utime(files[0], ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert files[0].stat().st_size == stat.st_size
    assert _rebuilt(call, path, caplog)
    assert "1 changed" in caplog.text and files[0].name in caplog.text
    files[-1].unlink()  # removed
    assert _rebuilt(call, path, caplog) and "1 removed" in caplog.text
    assert len(read_image_set(path).recordings) == len(files) - 1
    # added: a copy of another subject's walk under a new id
    (folder / "T0_ID999999_Center_seq0.csv").write_bytes(files[1].read_bytes())
    assert _rebuilt(call, path, caplog) and "1 added" in caplog.text
    assert 999999 in {r["subject_id"] for r in read_image_set(path).recordings}


def test_old_or_corrupted_cache_is_rebuilt_by_prepare(ouisir_root, tmp_path, caplog):
    import h5py

    params = PrepareParams.paper("ouisir")

    def call():
        return prepare_dataset(params, ouisir_root, cache_dir=tmp_path, progress=False)

    path = call()
    reference = read_image_set(path)
    with h5py.File(path, "a") as fh:
        fh.attrs["source"] = "tampered"
    assert _rebuilt(call, path, caplog) and "SHA-256" in caplog.text
    np.testing.assert_array_equal(read_image_set(path).images, reference.images)


def test_killed_simulation_is_never_a_data_set(tmp_path):
    """Item 4: `gaitcnn simulate` killed half-way leaves no folder that loads as a data set."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "sim"
    cmd = [sys.executable, "-m", "gaitcnn.cli", "simulate", "--dataset", "ouisir",
           "--subjects", "300", "--out", str(out)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    partial = tmp_path / f"sim.partial-{proc.pid}"
    deadline = time.monotonic() + 60
    while not list(partial.rglob("*.csv")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert list(partial.rglob("*.csv")), "the simulation wrote nothing before the kill"
    assert not out.exists()
    from gaitcnn.io import load_ouisir

    with pytest.raises(GaitDataError, match="incomplete data set"):
        load_ouisir(partial)
    # The rerun completes and removes the dead writer's partial folder.
    from gaitcnn.simulate import simulate_ouisir

    result = simulate_ouisir(out, n_subjects=2, subsets=("automatic",))
    assert (out / ".complete").exists() and result.root == out and not partial.exists()
    assert all(path.is_file() and out in path.parents for path in result.files)


def test_simulation_refuses_a_non_empty_folder(tmp_path):
    from gaitcnn.simulate import simulate_mcgill

    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="not an empty folder"):
        simulate_mcgill(tmp_path, n_subjects=1, duration_s=20.0)
    assert (tmp_path / "mine.txt").read_text() == "keep"


def test_no_image_at_all_is_an_error_with_counts(tmp_path):
    """Item 10: every recording too short -> an error saying why, no empty cache."""
    from gaitcnn.io._formats import write_ouisir_file

    folder = tmp_path / "data" / "AutomaticExtractionData_IMUZCenter"
    rng = np.random.default_rng(0)
    for k in range(3):  # 0.5 s walks: shorter than the one second a segment needs
        acc = rng.normal(0.0, 0.1, size=(50, 3)) + np.array([0.0, -1.0, 0.0])
        write_ouisir_file(
            folder / f"T0_ID{k + 1:06d}_Center_seq0.csv", rng.normal(size=(50, 3)), acc
        )
    for k in range(2):  # 3 s of standing still: resampled, but no gait cycle
        acc = rng.normal(0.0, 0.001, size=(300, 3)) + np.array([0.0, -1.0, 0.0])
        gyr = rng.normal(0.0, 0.001, size=(300, 3))
        write_ouisir_file(folder / f"T0_ID{k + 11:06d}_Center_seq1.csv", gyr, acc)
    params = PrepareParams.paper("ouisir")
    with pytest.raises(GaitDataError, match="no recording gave an image") as info:
        prepare_dataset(params, tmp_path / "data", cache_dir=tmp_path / "c", progress=False)
    message = str(info.value)
    assert "5 recordings" in message and "3 nothing to resample" in message
    assert "2 no gait cycle detected" in message
    assert not list((tmp_path / "c").glob("*.h5*"))


def _read_until(proc, needle: str, timeout_s: float) -> str:
    """Read ``proc``'s stderr until a line holds ``needle``, it ends, or time runs out."""
    import selectors
    import time

    text = ""
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stderr, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout_s
        while needle not in text and time.monotonic() < deadline:
            if selector.select(timeout=0.1):
                line = proc.stderr.readline()
                if not line:
                    break
                text += line
    return text


def test_concurrent_prepare_runs_share_one_simulation_and_cache(tmp_path):
    """Item 14: a second `prepare` started while the first simulates waits, then reuses."""
    import os
    import signal
    import subprocess
    import sys
    import time

    cmd = [sys.executable, "-m", "gaitcnn.cli", "-v", "prepare", "--dataset", "ouisir",
           "--subjects", "12", "--cache-dir", str(tmp_path)]  # fmt: skip
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    first = subprocess.Popen(cmd, **pipes)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("simulated-*.partial-*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(first.pid, signal.SIGSTOP)  # hold the first run in the middle of its simulation
    try:
        second = subprocess.Popen(cmd, **pipes)
        early = _read_until(second, "waiting for another gaitcnn process", timeout_s=60)
    finally:
        os.kill(first.pid, signal.SIGCONT)
    outs = [p.communicate(timeout=300) for p in (first, second)]
    for proc, (_, err) in zip((first, second), outs, strict=True):
        assert proc.returncode == 0, err[-2000:]
    assert outs[0][0] == outs[1][0]  # the same cache path
    logs = outs[0][1] + early + outs[1][1]
    assert logs.count("prepare: simulating") == 1, "both processes simulated the data set"
    assert logs.count("prepare: wrote") == 1 and logs.count("reusing cache") == 1
    assert len(read_image_set(outs[0][0].strip())) > 0
    assert not list(tmp_path.glob("*.lock")) and not list(tmp_path.glob("*partial*"))


def test_file_lock_serialises_holders(tmp_path):
    import threading
    import time

    from gaitcnn._locking import file_lock

    order = []

    def hold(name):
        with file_lock(tmp_path / "target"):
            order.append(f"{name} in")
            time.sleep(0.2)
            order.append(f"{name} out")

    threads = [threading.Thread(target=hold, args=(n,)) for n in "ab"]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join()
    assert order == ["a in", "a out", "b in", "b out"]
    assert not (tmp_path / "target.lock").exists()


def _children(pid: int) -> list[int]:
    from pathlib import Path

    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # field 4 of /proc/<pid>/stat: the parent's pid
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    from pathlib import Path

    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="uses /proc")
def test_workers_end_when_prepare_is_killed(tmp_path):
    """Item 13: SIGKILL of `prepare --workers 2` leaves no worker running."""
    import os
    import signal
    import subprocess
    import sys
    import time

    root = ensure_simulated("mcgill", cache_dir=tmp_path, n_subjects=6, duration_s=300.0)
    cmd = [sys.executable, "-m", "gaitcnn.cli", "prepare", "--dataset", "mcgill", "--data-root",
           str(root), "--workers", "2", "--cache-dir", str(tmp_path / "c")]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
        workers = _children(proc.pid)
        time.sleep(0.05)
    assert len(workers) >= 2, "the workers did not start"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = [w for w in workers if _alive(w)]
    for w in survivors:  # do not leak them into the rest of the test session
        os.kill(w, signal.SIGKILL)
    assert not survivors, f"workers {survivors} outlived their parent"


def test_simulation_progress_bar(tmp_path, capsys):
    """Also noticed: simulating (e.g. `gaitcnn label` without a data root) shows progress."""
    ensure_simulated("ouisir", cache_dir=tmp_path, n_subjects=3, progress=True)
    assert "simulate OU-ISIR" in capsys.readouterr().err
