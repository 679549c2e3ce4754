"""The verification research driver: split, orientation-free channels, and a tiny end-to-end run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from experiments.verification_research import (  # noqa: E402
    RunConfig,
    gravity_aligned,
    main,
    rotate_windows,
    select_channels,
    split_users,
)
from tests._synthetic import random_rotation  # noqa: E402


def test_split_is_disjoint_seeded_and_sized():
    subjects = np.repeat(np.arange(100, 200), 3)
    users = split_users(subjects, RunConfig(seed=4))
    train, calibration, test = users["train"], users["calibration"], users["test"]
    assert (train.size, calibration.size, test.size) == (60, 10, 30)
    assert not (
        set(train) & set(test) or set(train) & set(calibration) or set(calibration) & set(test)
    )
    np.testing.assert_array_equal(split_users(subjects, RunConfig(seed=4))["test"], test)
    assert not np.array_equal(split_users(subjects, RunConfig(seed=5))["test"], test)


def test_gravity_aligned_channels_ignore_the_phone_orientation():
    rng = np.random.default_rng(0)
    t = np.arange(64) / 50.0
    acc = np.stack([np.sin(2 * np.pi * t), np.cos(4 * np.pi * t), 9.8 + np.sin(6 * np.pi * t)], 1)
    gyr = rng.normal(size=(64, 3))
    window = np.concatenate([acc, gyr, np.linalg.norm(acc, axis=1, keepdims=True),
                             np.linalg.norm(gyr, axis=1, keepdims=True)], axis=1)  # fmt: skip
    rotation = random_rotation(rng)
    turned = window.copy()
    turned[:, 0:3], turned[:, 3:6] = acc @ rotation.T, gyr @ rotation.T
    np.testing.assert_allclose(
        gravity_aligned(turned[None]), gravity_aligned(window[None]), atol=1e-4
    )
    # the raw axes do change
    assert np.abs(select_channels(turned[None], "raw") - window[None]).max() > 0.1
    assert select_channels(window[None], "norms").shape == (1, 64, 2)


def test_rotation_augmentation_turns_both_sensors_together():
    rng = np.random.default_rng(1)
    windows = rng.normal(size=(5, 64, 8)).astype(np.float32)
    turned = rotate_windows(windows, seed=0, epoch=0)
    np.testing.assert_array_equal(turned[..., 6:], windows[..., 6:])  # norms untouched
    for first in (0, 3):  # lengths kept, directions changed
        np.testing.assert_allclose(
            np.linalg.norm(turned[..., first : first + 3], axis=-1),
            np.linalg.norm(windows[..., first : first + 3], axis=-1),
            rtol=1e-5,
        )
    # one rotation per window for both sensors: the angle between acc and gyr is kept
    dot = np.sum(windows[..., 0:3] * windows[..., 3:6], axis=-1)
    np.testing.assert_allclose(np.sum(turned[..., 0:3] * turned[..., 3:6], axis=-1), dot, atol=1e-4)
    assert np.abs(turned[..., 0:3] - windows[..., 0:3]).max() > 0.1


@pytest.mark.tf
@pytest.mark.slow
def test_tiny_run_writes_results(tmp_path, monkeypatch):
    monkeypatch.setenv("GAITCNN_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out"
    main(["--subjects", "12", "--epochs", "1", "--losses", "am_softmax", "--out", str(out)])
    (result_file,) = (out / "runs").glob("*.json")
    result = json.loads(result_file.read_text())
    walk = result["fusions"]["walk"]
    assert walk["n_genuine"] == 4 and walk["n_impostor"] == 12  # 4 test users
    assert 0.0 <= walk["eer"] <= 1.0
    assert (out / "table.md").is_file() and (out / "det_ouisir_n12.png").is_file()
