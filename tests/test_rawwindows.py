"""Tests of the named channel sets of gaitcnn.rawwindows: axes, norms, gravity-aligned and
horizontal relations."""

from __future__ import annotations

import numpy as np
import pytest

from gaitcnn.rawwindows import (
    CHANNEL_SETS,
    GRAVITY_WINDOW_S,
    channel_names,
    column_labels,
    gravity_channels,
    gravity_direction,
    heading_channels,
    raw_channels,
    relation_channels,
)
from gaitcnn.simulate import apply_rotation, random_rotation, simulate_walk


@pytest.fixture(scope="module", params=["waist", "pocket"])
def walk(request):
    """A 12 s simulated walk (belt IMU, or a phone swinging with the thigh)."""
    return simulate_walk(12.0, preset=request.param, seed=4)


def _rotated(walk, seed: int):
    turn = random_rotation(np.random.default_rng(seed))
    return apply_rotation(turn, walk.acc), apply_rotation(turn, walk.gyr)


class TestContractChannelSets:
    @pytest.mark.parametrize("kind", sorted(CHANNEL_SETS))
    def test_shapes_names_and_dtype(self, kind):
        rng = np.random.default_rng(0)
        acc = rng.standard_normal((30, 3)) + np.array([0.0, 0.0, 9.8])
        gyr = rng.standard_normal((30, 3))
        out = raw_channels(acc, gyr, kind=kind)
        assert out.shape == (30, len(column_labels(channel_names(kind))))
        assert out.dtype == np.float32
        no_gyro = raw_channels(acc, kind=kind)
        assert no_gyro.shape == (30, len(column_labels(channel_names(kind, with_gyro=False))))
        assert not any(n.startswith("gyr") for n in channel_names(kind, with_gyro=False))

    def test_channels_by_name_are_the_front_ends(self):
        rng = np.random.default_rng(2)
        acc, gyr = rng.standard_normal((12, 3)), rng.standard_normal((12, 3))
        both = raw_channels(acc, gyr, channels=("acc_mag", "acc"))
        np.testing.assert_allclose(both[:, 0], np.linalg.norm(acc, axis=1), rtol=1e-6)
        np.testing.assert_allclose(both[:, 1:], acc, rtol=1e-6)
        with pytest.raises(ValueError, match="need a gyroscope"):
            raw_channels(acc, channels=("acc", "gyr_mag"))
        with pytest.raises(ValueError, match="unknown channels"):
            raw_channels(acc, gyr, channels=("acc", "jerk"))

    def test_axes_is_the_original_channel_stack(self):
        rng = np.random.default_rng(1)
        acc, gyr = rng.standard_normal((9, 3)), rng.standard_normal((9, 3))
        expected = np.hstack(
            [acc, gyr, np.linalg.norm(acc, axis=1)[:, None], np.linalg.norm(gyr, axis=1)[:, None]]
        ).astype(np.float32)
        np.testing.assert_array_equal(raw_channels(acc, gyr), expected)
        np.testing.assert_array_equal(raw_channels(acc, gyr, kind="norms"), expected[:, 6:])

    def test_bad_kind_and_shapes_are_named(self):
        with pytest.raises(ValueError, match=r"kind=.*'xyz'"):
            raw_channels(np.zeros((5, 3)), kind="xyz")
        with pytest.raises(ValueError, match="gyr must have the shape"):
            gravity_channels(np.zeros((5, 3)), np.zeros((4, 3)))
        with pytest.raises(ValueError, match="window_s must be > 0"):
            gravity_direction(np.zeros((5, 3)), window_s=0.0)


class TestBehaviourGravity:
    def test_direction_of_a_gait_like_signal(self):
        """Up is found to within 2 deg under 3 m/s^2 of step and stride oscillation."""
        rate_hz, t = 50.0, np.arange(600) / 50.0
        up = np.array([0.3, -0.9, 0.2]) / np.linalg.norm([0.3, -0.9, 0.2])
        sway = np.outer(3.0 * np.sin(2 * np.pi * 1.85 * t), [1.0, 0.2, -0.4])
        sway += np.outer(1.0 * np.sin(2 * np.pi * 0.93 * t + 1), [0.1, 0.5, 0.8])
        estimate = gravity_direction(9.81 * up + sway, rate_hz=rate_hz)
        angles = np.degrees(np.arccos(np.clip(estimate @ up, -1, 1)))
        inner = slice(round(GRAVITY_WINDOW_S * rate_hz), -round(GRAVITY_WINDOW_S * rate_hz))
        assert angles[inner].max() < 2.0
        assert angles.max() < 8.0  # the cut windows at the ends are noisier, still usable

    def test_components_split_a_known_vector(self):
        acc = np.tile([0.0, 9.81, 0.0], (100, 1))
        acc[50] += [2.0, 1.0, 0.0]  # one sample with forward and up acceleration
        gyr = np.tile([0.0, 0.5, 0.3], (100, 1))  # yaw 0.5 rad/s about "up" (+y), roll 0.3
        out = gravity_channels(acc, gyr)
        # the spike itself tilts the 2 s mean by ~0.1 deg: ~0.02 m/s^2 moves between the parts
        assert out["acc_vert"][50] == pytest.approx(10.81, abs=0.05)
        assert out["acc_horiz"][50] == pytest.approx(2.0, abs=0.05)
        level = gravity_channels(np.tile([0.0, 9.81, 0.0], (100, 1)), gyr)
        np.testing.assert_allclose(level["gyr_vert"], 0.5, atol=1e-12)
        np.testing.assert_allclose(level["gyr_horiz"], 0.3, atol=1e-12)
        assert abs(out["gyr_vert"][50] - 0.5) < 1e-4

    @pytest.mark.parametrize("kind", ["gravity", "invariant"])
    def test_invariant_to_a_constant_rotation_axes_are_not(self, walk, kind):
        base = raw_channels(walk.acc, walk.gyr, kind=kind)
        for seed in range(3):
            acc, gyr = _rotated(walk, seed)
            turned = raw_channels(acc, gyr, kind=kind)
            # exact up to rounding: float32 output, float64 arithmetic
            np.testing.assert_allclose(turned, base, rtol=1e-5, atol=1e-5)
            axes = raw_channels(acc, gyr, kind="axes")[:, :6]
            assert np.abs(axes - raw_channels(walk.acc, walk.gyr)[:, :6]).max() > 1.0

    def test_relations_are_the_angles_between_horizontal_vectors(self):
        """Level sensor (up = +y) with h_a turning about up at two turns per 101 samples (the
        2 s gravity window, so its mean is exactly gravity away from the ends) and h_w kept
        90 degrees ahead of it."""
        n, lag = 300, 12  # RELATION_LAG_S * 50 Hz
        angle = 4 * np.pi / 101 * np.arange(n)
        turn = 4 * np.pi / 101 * lag
        acc = np.stack([2 * np.cos(angle), np.full(n, 9.81), -2 * np.sin(angle)], axis=1)
        gyr = np.stack([-3 * np.sin(angle), np.zeros(n), -3 * np.cos(angle)], axis=1)
        out = relation_channels(acc, gyr)
        inner = slice(50 + lag, n - 50)
        expected = {
            "gyr_acc_dot": 0.0,
            "gyr_acc_cross": 6.0,
            "acc_lag_dot": 4 * np.cos(turn),
            "acc_lag_cross": 4 * np.sin(turn),
            "gyr_lag_dot": 9 * np.cos(turn),
            "gyr_lag_cross": 9 * np.sin(turn),
        }
        for name, value in expected.items():
            np.testing.assert_allclose(out[name][inner], value, atol=1e-6, err_msg=name)
        assert sorted(relation_channels(acc)) == ["acc_lag_cross", "acc_lag_dot"]

    def test_nearly_invariant_on_rotated_simulated_walks(self, tmp_path):
        """Default vs rotated simulator variant: the same walks, with sensor errors.

        Tolerance: the RMS difference of a gravity channel between the two variants is
        below 0.2 of the channel's sd in the median walk (measured: 0.03-0.14; per-axis
        scale, bias and noise live in the sensor frame, so they do not turn with it), while
        every axis channel differs by more than its sd.
        """
        from gaitcnn.io import load_ouisir
        from gaitcnn.resample import resample_recording
        from gaitcnn.simulate import simulate_ouisir

        kw = dict(n_subjects=8, seed=2, subsets=("manual",))
        walks = {}
        for variant in ("default", "rotated"):
            root = simulate_ouisir(tmp_path / variant, variant=variant, **kw).root
            walks[variant] = {
                r.key: resample_recording(r)[0] for r in load_ouisir(root, subset="manual")
            }
        ratios = {"gravity": [], "axes": []}
        for key, a in walks["default"].items():
            b = walks["rotated"][key]
            for kind in ratios:
                x, y = raw_channels(a.acc, a.gyr, kind=kind), raw_channels(b.acc, b.gyr, kind=kind)
                n = min(len(x), len(y))
                rms = np.sqrt(np.mean((x[:n] - y[:n]) ** 2, axis=0))
                ratios[kind].append(rms / x[:n].std(axis=0))
        gravity = np.median(ratios["gravity"], axis=0)
        axes = np.median(ratios["axes"], axis=0)[:6]
        assert gravity.max() < 0.2, dict(zip(channel_names("gravity"), gravity, strict=True))
        assert axes.min() > 1.0, axes


class TestPrepareGravityChannels:
    def test_params_hash_and_shape(self):
        from gaitcnn.prepare import PrepareParams

        params = PrepareParams.improved(
            "ouisir", representation="raw", channels=("acc_vert", "acc_horiz", "gyr_vert")
        )
        assert params.gravity_window_s == GRAVITY_WINDOW_S
        assert params.to_dict()["gravity_window_s"] == GRAVITY_WINDOW_S
        assert params.image_shape == (1, params.width, 3)
        for old in (PrepareParams.paper("ouisir"), PrepareParams.improved("ouisir")):
            assert "gravity_window_s" not in old.to_dict()  # old cache names unchanged
        with pytest.raises(ValueError, match="need representation='raw'"):
            PrepareParams.paper("ouisir", channels=("acc", "acc_vert"))
        with pytest.raises(ValueError, match="gravity_window_s must be positive exactly"):
            PrepareParams.paper("ouisir", gravity_window_s=2.0)

    def test_images_hold_the_gravity_channels(self):
        from gaitcnn.io import Recording
        from gaitcnn.prepare import PrepareParams, images_for_recording
        from gaitcnn.resample import resample_recording

        w = simulate_walk(8.0, seed=2)
        rec = Recording(
            subject_id=1, session="gallery", walk="w", timestamps_s=w.timestamps_s,
            acc=w.acc, gyr=w.gyr,
        )  # fmt: skip
        channels = ("acc", "gyr_horiz", "acc_mag", "acc_vert")
        params = PrepareParams.improved("ouisir", representation="raw", channels=channels)
        [(_, images, starts)] = images_for_recording(rec, params)
        assert images.shape == (len(starts), 1, params.width, 6)
        segment = resample_recording(rec)[0]
        g = gravity_channels(segment.acc, segment.gyr)
        window = slice(starts[1], starts[1] + params.width)
        np.testing.assert_allclose(images[1, 0, :, :3], segment.acc[window], rtol=1e-6)
        np.testing.assert_allclose(images[1, 0, :, 3], g["gyr_horiz"][window], rtol=1e-5)
        np.testing.assert_allclose(images[1, 0, :, 5], g["acc_vert"][window], rtol=1e-5)


class TestBehaviourHeading:
    """Body-frame channels (vertical, forward, lateral): docs/results-simulated/body_frame.md."""

    def test_invariant_to_a_constant_rotation(self, walk):
        base = raw_channels(walk.acc, walk.gyr, kind="body")
        assert base.shape == (walk.acc.shape[0], 8)
        for seed in range(3):
            acc, gyr = _rotated(walk, seed)
            np.testing.assert_allclose(raw_channels(acc, gyr, kind="body"), base, atol=1e-4)

    def test_forward_is_the_main_horizontal_axis_and_lateral_completes_the_frame(self):
        t = np.arange(500) / 50.0
        # whole periods in the 2 s gravity window, so the gravity estimate is exact
        sway = 3.0 * np.sin(2 * np.pi * 1.0 * t) + 1.5 * np.sin(2 * np.pi * 2.0 * t + 0.4)
        acc = np.stack([0.3 * np.sin(2 * np.pi * 0.5 * t), 9.81 + 0 * t, sway], axis=1)
        gyr = np.stack([np.ones_like(t), 2 * np.ones_like(t), 3 * np.ones_like(t)], axis=1)
        out = heading_channels(acc, gyr)
        # forward is the sensor z axis (up to its sign); lateral is then x (up = +y)
        np.testing.assert_allclose(np.abs(out["acc_fwd"][100:-100]), np.abs(sway[100:-100]),
                                   atol=0.05)  # fmt: skip
        sign = np.sign(np.sum(out["acc_fwd"] * sway))
        np.testing.assert_allclose(out["gyr_fwd"][100:-100], 3 * sign, atol=0.05)
        np.testing.assert_allclose(np.abs(out["gyr_lat"][100:-100]), 1.0, atol=0.05)
        assert np.sum(out["acc_fwd"] ** 3) > 0  # the sign rule

    def test_cli_takes_a_set_name(self):
        from gaitcnn._cliutil import parse_channels

        assert parse_channels("body") == CHANNEL_SETS["body"]
        assert parse_channels(" gravity ") == CHANNEL_SETS["gravity"]
        assert parse_channels("acc, acc_mag") == ("acc", "acc_mag")
        assert parse_channels("") is None
