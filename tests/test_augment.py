"""Tests for the rotation augmentation of raw windows (gaitcnn.rawwindows.RotationAugment) and
its one hook in the training data path (gaitcnn.pipeline.numpy_batches, gaitcnn.train.train)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gaitcnn.presets import ModelConfig
from gaitcnn.rawwindows import (
    ROTATABLE_CHANNELS,
    RotationAugment,
    column_labels,
    random_rotation_matrices,
)

AXES = ("acc", "gyr", "acc_mag", "gyr_mag")


def _windows(n=12, width=16, seed=0, channels=AXES):
    """Raw windows ``(n, 1, width, n_columns)`` whose norm columns are the axes' norms."""
    rng = np.random.default_rng(seed)
    acc = rng.normal(0, 3, (n, width, 3)) + np.array([0.0, 0.0, 9.81])
    gyr = rng.normal(0, 1, (n, width, 3))
    columns = {
        "acc": acc,
        "gyr": gyr,
        "acc_mag": np.linalg.norm(acc, axis=-1, keepdims=True),
        "gyr_mag": np.linalg.norm(gyr, axis=-1, keepdims=True),
    }
    return np.concatenate([columns[c] for c in channels], axis=-1)[:, None].astype(np.float32)


def _columns(channels, *names):
    labels = column_labels(channels)
    return [labels.index(name) for name in names]


class TestContractRotationAugment:
    def test_rotations_are_proper_and_uniformish(self):
        r = random_rotation_matrices(4000, np.random.default_rng(1))
        np.testing.assert_allclose(r @ r.transpose(0, 2, 1), np.broadcast_to(np.eye(3), r.shape),
                                   atol=1e-12)  # fmt: skip
        np.testing.assert_allclose(np.linalg.det(r), 1.0, atol=1e-12)
        # uniform on SO(3): the image of any fixed vector is uniform on the sphere (mean ~ 0)
        assert np.abs((r @ [0.0, 0.0, 1.0]).mean(axis=0)).max() < 0.05

    def test_norm_columns_unchanged_and_axes_norms_kept(self):
        windows = _windows()
        out = RotationAugment(AXES)(windows, seed=0, epoch=0, batch=0)
        assert out.shape == windows.shape and out.dtype == np.float32
        norms = _columns(AXES, "|a|", "|w|")
        np.testing.assert_array_equal(out[..., norms], windows[..., norms])  # bitwise
        for sensor, norm in (("a", "|a|"), ("g", "|w|")):
            cols = _columns(AXES, *(f"{sensor}{axis}" for axis in "xyz"))
            assert not np.allclose(out[..., cols], windows[..., cols])  # really turned
            kept = np.linalg.norm(out[..., cols].astype(np.float64), axis=-1)
            np.testing.assert_allclose(kept, windows[..., _columns(AXES, norm)[0]], rtol=1e-5)

    def test_one_rotation_per_window_for_both_sensors(self):
        windows = _windows(n=5)
        out = RotationAugment(AXES)(windows, seed=3, epoch=2, batch=1)
        acc, gyr = _columns(AXES, "ax", "ay", "az"), _columns(AXES, "gx", "gy", "gz")
        rotations = []
        for before, after in zip(windows[:, 0], out[:, 0], strict=True):
            # least squares R with after = before @ R.T over the window's acc and gyr samples
            stacked = np.vstack([before[:, acc], before[:, gyr]]).astype(np.float64)
            target = np.vstack([after[:, acc], after[:, gyr]]).astype(np.float64)
            solution, *_ = np.linalg.lstsq(stacked, target, rcond=None)
            np.testing.assert_allclose(stacked @ solution, target, atol=1e-4)
            rotations.append(solution.T)
        rotations = np.array(rotations)
        np.testing.assert_allclose(np.linalg.det(rotations), 1.0, atol=1e-4)
        assert not np.allclose(rotations[0], rotations[1])  # drawn per window

    def test_deterministic_per_seed_epoch_batch(self):
        windows, augment = _windows(), RotationAugment(AXES)
        first = augment(windows, seed=5, epoch=1, batch=0)
        np.testing.assert_array_equal(first, augment(windows, seed=5, epoch=1, batch=0))
        for other in ({"seed": 6, "epoch": 1}, {"seed": 5, "epoch": 2}):
            assert not np.allclose(first, augment(windows, **other, batch=0))
        assert not np.allclose(first, augment(windows, seed=5, epoch=1, batch=1))

    def test_input_not_modified(self):
        windows = _windows()
        copy = windows.copy()
        RotationAugment(AXES)(windows, seed=0, epoch=0, batch=0)
        np.testing.assert_array_equal(windows, copy)

    def test_accelerometer_only_and_norms_only(self):
        acc_only = ("acc", "acc_mag")
        assert RotationAugment(acc_only).axis_columns == ((0, 1, 2),)
        windows = _windows(channels=("acc_mag", "gyr_mag"))
        norms = RotationAugment(("acc_mag", "gyr_mag"))
        np.testing.assert_array_equal(norms(windows, seed=0, epoch=0, batch=0), windows)

    @pytest.mark.parametrize(
        "channels", [("acc_vert", "acc_horiz", "acc_mag"), ("acc", "gyr_vert")]
    )
    def test_refuses_gravity_channels(self, channels):
        with pytest.raises(ValueError, match=r"cannot turn .*_vert") as info:
            RotationAugment(channels)
        assert "\n" not in str(info.value)

    def test_refuses_windows_of_other_channels(self):
        with pytest.raises(ValueError, match="columns"):
            RotationAugment(("acc",))(_windows(), seed=0, epoch=0, batch=0)


class TestContractModelConfig:
    def test_default_is_none_and_round_trips(self):
        assert ModelConfig().augment == "none"
        config = ModelConfig.from_preset("improved", augment="rotate")
        assert ModelConfig.from_dict(config.to_dict()) == config

    def test_older_saved_configs_load(self):
        values = ModelConfig.from_preset("improved").to_dict()
        del values["augment"]
        assert ModelConfig.from_dict(values).augment == "none"

    @pytest.mark.parametrize(
        ("overrides", "match"),
        [
            (
                {"preset": "improved", "channels": ("acc_vert", "acc_horiz", "acc_mag")},
                "cannot turn",
            ),
            ({"preset": "improved", "method": "minirocket"}, "Keras network on raw windows"),
            ({"preset": "paper"}, "representation='ae_gdi'"),
            ({"preset": "improved", "augment": "flip"}, "augment must be one of"),
        ],
    )
    def test_refusals_are_one_line(self, overrides, match):
        overrides = {"augment": "rotate", **overrides}
        with pytest.raises(ValueError, match=match) as info:
            ModelConfig.from_preset(overrides.pop("preset"), **overrides)
        assert "\n" not in str(info.value)

    def test_rotatable_channels_are_the_axes_set(self):
        assert set(ROTATABLE_CHANNELS) == set(AXES)


@pytest.mark.tf
class TestTrainingDataPath:
    @pytest.fixture(autouse=True)
    def _tf(self):
        pytest.importorskip("tensorflow")

    def _batches(self, transform, epoch=0, seed=0, windows=None):
        from gaitcnn.pipeline import numpy_batches

        windows = _windows(n=25) if windows is None else windows
        labels = np.arange(len(windows)) % 3
        return list(numpy_batches(windows, labels, 10, seed, epoch, True, 256, transform))

    def test_none_leaves_batches_bitwise_unchanged(self):
        from gaitcnn.pipeline import numpy_batches

        windows = _windows(n=25)
        labels = np.arange(25) % 3
        plain = list(numpy_batches(windows, labels, 10, 0, 1, True, 256))
        hooked = self._batches(None, epoch=1)
        assert len(plain) == len(hooked) == 3
        for (x0, y0), (x1, y1) in zip(plain, hooked, strict=True):
            np.testing.assert_array_equal(x0, x1)
            np.testing.assert_array_equal(y0, y1)
        assert ModelConfig.from_preset("improved").augment == "none"

    def test_rotate_keeps_order_and_norms_and_is_deterministic(self):
        augment = RotationAugment(AXES)
        plain, rotated = self._batches(None, epoch=2), self._batches(augment, epoch=2)
        norms = _columns(AXES, "|a|", "|w|")
        for (x0, y0), (x1, y1) in zip(plain, rotated, strict=True):
            np.testing.assert_array_equal(y0, y1)  # same windows, same order
            np.testing.assert_array_equal(x0[..., norms], x1[..., norms])
            assert not np.allclose(x0, x1)
        again = self._batches(augment, epoch=2)
        for (x1, _), (x2, _) in zip(rotated, again, strict=True):
            np.testing.assert_array_equal(x1, x2)

    def test_rotations_differ_per_epoch(self):
        augment = RotationAugment(AXES)
        windows = _windows(n=10)
        # one batch holding every window; sort by label-free identity (|a| column) to align
        first = self._batches(augment, epoch=0, windows=windows)[0][0]
        second = self._batches(augment, epoch=1, windows=windows)[0][0]
        key = _columns(AXES, "|a|")[0]
        order0 = np.argsort(first[:, 0, 0, key])
        order1 = np.argsort(second[:, 0, 0, key])
        assert not np.allclose(first[order0], second[order1])

    def test_epoch_batches_dataset_applies_it(self):
        from gaitcnn.pipeline import epoch_batches

        augment = RotationAugment(AXES)
        windows, labels = _windows(n=25), np.arange(25) % 3
        ds = epoch_batches(windows, labels, batch_size=10, seed=4, epoch=3, transform=augment)
        expected = self._batches(augment, epoch=3, seed=4, windows=windows)
        for (x, _), (want, _) in zip(ds.as_numpy_iterator(), expected, strict=True):
            np.testing.assert_array_equal(x, want)

    def test_train_calls_the_hook_per_batch_and_records_it(self, tmp_path):
        from gaitcnn.models import build_raw_cnn
        from gaitcnn.train import TrainConfig, train

        calls = []
        augment = RotationAugment(AXES)

        class Spy:
            def __call__(self, images, *, seed, epoch, batch):
                calls.append((seed, epoch, batch))
                return augment(images, seed=seed, epoch=epoch, batch=batch)

            def __repr__(self):
                return "Spy()"

        windows, labels = _windows(n=20), np.arange(20) % 2
        config = TrainConfig(epochs=2, batch_size=8, keep_best=False, verbose=0, seed=7)

        def build():
            return build_raw_cnn((1, 16, 8), 2, filters=(4,), kernel_size=3, n_pooled_blocks=1)

        train(
            build, (windows, labels), None, config, out_dir=tmp_path / "run", batch_transform=Spy()
        )
        assert calls == [(7, e, b) for e in (0, 1) for b in range(3)]
        saved = json.loads((tmp_path / "run" / "config.json").read_text())
        assert saved["batch_transform"] == "Spy()"
        with pytest.raises(ValueError, match="batch_transform"):
            train(build, (windows, labels), None, config.replace(epochs=3),
                  out_dir=tmp_path / "run", resume=True)  # fmt: skip


def test_cli_refuses_rotate_with_gravity_channels():
    from click.testing import CliRunner

    from gaitcnn.labeling import labeling_command

    result = CliRunner().invoke(
        labeling_command,
        ["--subjects", "3", "--preset", "improved", "--augment", "rotate",
         "--channels", "acc_vert,acc_horiz,gyr_vert,gyr_horiz,acc_mag,gyr_mag"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "cannot turn" in result.output
