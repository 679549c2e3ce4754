"""channels="auto": the training windows decide between the axes and the invariant set (numpy)."""

from __future__ import annotations

import numpy as np
import pytest

from gaitcnn.orientation import (
    AUTO_CHANNELS,
    FIXED_MOUNT_MAX_DEG,
    OrientationChoice,
    auto_front_end,
    choose_channels,
    gravity_spread_deg,
    window_up,
)
from gaitcnn.rawwindows import column_labels, random_rotation_matrices, raw_channels

FRONT_END = auto_front_end()


def _walk(rng, n=600):
    """Gravity along +y plus a walking-like oscillation, and a rotation rate."""
    t = np.arange(n) / 50.0
    acc = np.stack([np.sin(2 * np.pi * 1.8 * t), 9.81 + 2 * np.cos(2 * np.pi * 1.8 * t),
                    0.5 * np.sin(2 * np.pi * 0.9 * t)], axis=1)  # fmt: skip
    gyr = 0.5 * np.stack([np.sin(2 * np.pi * 0.9 * t), np.cos(2 * np.pi * 0.9 * t), 0 * t], 1)
    return acc + 0.05 * rng.standard_normal(acc.shape), gyr


def _windows(rotations, rng):
    """Raw windows of FRONT_END, one walk per rotation (the sensor turned by it)."""
    out = []
    for rotation in rotations:
        acc, gyr = _walk(rng)
        channels = raw_channels(acc @ rotation.T, gyr @ rotation.T, channels=FRONT_END)
        out.append(np.stack([channels[s : s + 64] for s in range(100, 500, 8)])[:, None])
    return np.concatenate(out).astype(np.float32)


def test_window_up_is_the_mean_acceleration_direction():
    rng = np.random.default_rng(0)
    windows = _windows([np.eye(3)], rng)
    up = window_up(windows, FRONT_END)
    assert up.shape == (len(windows), 3)
    np.testing.assert_allclose(np.linalg.norm(up, axis=1), 1.0)
    assert np.degrees(np.arccos(up[:, 1])).max() < 5.0  # gravity along +y
    with pytest.raises(ValueError, match="acceleration axes"):
        window_up(windows, ("acc_mag",))


def test_spread_of_identical_and_of_opposite_directions():
    _, spread = gravity_spread_deg(np.array([[0.0, 0.0, 1.0]] * 10))
    assert spread == pytest.approx(0.0, abs=1e-6)
    mean_up, spread = gravity_spread_deg(np.array([[0.0, 0.0, 1.0], [0.0, 0.0, -1.0]]))
    assert spread == 180.0 and not mean_up.any()


def test_a_fixed_sensor_reads_the_axes_a_turning_one_the_invariant_set():
    rng = np.random.default_rng(1)
    small = [np.eye(3)] * 4  # every walk held the same way
    fixed = choose_channels(_windows(small, rng), FRONT_END)
    assert fixed.mount == "fixed" and fixed.channels == AUTO_CHANNELS["fixed"]
    assert fixed.spread_deg < FIXED_MOUNT_MAX_DEG
    turned = random_rotation_matrices(6, np.random.default_rng(2))
    turning = choose_channels(_windows(turned, rng), FRONT_END)
    assert turning.mount == "turning" and turning.channels == AUTO_CHANNELS["turning"]
    # the chosen columns are exactly the chosen channels' columns
    labels = column_labels(FRONT_END)
    assert [labels[i] for i in turning.columns] == list(column_labels(turning.channels))


def test_accelerometer_only_front_end_gets_the_accelerometer_only_set():
    rng = np.random.default_rng(3)
    front_end = auto_front_end(with_gyro=False)
    assert not any(c.startswith("gyr") for c in front_end)
    windows = _windows([np.eye(3)] * 2, rng)
    labels = column_labels(FRONT_END)
    keep = [labels.index(label) for label in column_labels(front_end)]
    choice = choose_channels(windows[..., keep], front_end)
    assert choice.channels == ("acc", "acc_mag")


def test_share_turned_and_round_trip():
    rng = np.random.default_rng(4)
    windows = _windows([np.eye(3)] * 2, rng)
    choice = choose_channels(windows, FRONT_END)
    assert choice.share_turned(windows, FRONT_END) == 0.0
    flip = np.diag([1.0, -1.0, -1.0])  # upside down: gravity along -y
    assert choice.share_turned(_windows([flip], rng), FRONT_END) == 1.0
    again = OrientationChoice.from_dict(choice.to_dict())
    np.testing.assert_array_equal(again.select(windows), choice.select(windows))
    assert again.mount == choice.mount and again.spread_deg == choice.spread_deg


def test_auto_on_a_model_config():
    from gaitcnn.presets import ModelConfig

    config = ModelConfig.from_preset("improved", channels="auto")
    assert config.channel_choice == "auto" and config.channels == FRONT_END
    assert ModelConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="channel_choice"):
        ModelConfig(channel_choice="sometimes")
    with pytest.raises(ValueError, match="partner"):
        ModelConfig.from_preset("improved", partner="resnet")
    with pytest.raises(ValueError, match="partner"):
        ModelConfig(partner="minirocket")  # the paper preset reads AE-GDIs
    assert ModelConfig.from_preset("improved", partner="none").partner is None


def test_partner_hparams_reach_the_partner_and_follow_it():
    from gaitcnn._composite import HybridBackend
    from gaitcnn.presets import ModelConfig

    config = ModelConfig.from_preset("improved")  # a MultiRocket partner at 1,250 kernels
    assert (config.partner, config.partner_hparams) == ("multirocket", {"num_kernels": 1250})
    assert ModelConfig.from_dict(config.to_dict()) == config
    peer = HybridBackend(config).peer.config
    assert (peer.method, peer.hparams) == ("multirocket", {"num_kernels": 1250})
    lighter = ModelConfig.from_preset("improved", partner_hparams={"num_kernels": 84})
    assert HybridBackend(lighter).peer.config.hparams == {"num_kernels": 84}
    # the preset's partner_hparams belong to its partner: another partner starts from its own
    # defaults, the same partner keeps them
    assert ModelConfig.from_preset("improved", partner="multirocket").partner_hparams == {
        "num_kernels": 1250
    }
    other = ModelConfig.from_preset("improved", partner="minirocket")
    assert other.partner_hparams == {} and HybridBackend(other).peer.config.hparams == {}
    assert ModelConfig.from_preset("improved", partner="none").partner_hparams == {}
    assert ModelConfig.from_preset("verification").partner_hparams == {}
    with pytest.raises(ValueError, match=r"partner_hparams.*set partner"):
        ModelConfig(partner_hparams={"num_kernels": 84})
    with pytest.raises(ValueError, match="partner_hparams must be a dict"):
        ModelConfig.from_preset("improved", partner_hparams=[84])
