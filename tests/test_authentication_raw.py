"""Tests of the raw-window CNN of the authentication protocol (``representation="raw"``)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from gaitcnn import authentication as auth
from gaitcnn.authentication import AuthConfig, spans_overlap
from gaitcnn.rawwindows import (
    CHANNEL_SETS,
    GRAVITY_CHANNEL_NAMES,
    RAW_WINDOW_SAMPLES,
    raw_channels,
    window_span,
)

RAW = {"representation": "raw", "network": "raw_cnn"}


def _walk(n=600, seed=0):
    """A seeded 'walk': acceleration around gravity plus noise, and a rotation rate."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 50.0
    acc = np.stack([np.sin(2 * np.pi * t), 9.81 + np.cos(2 * np.pi * t), 0.3 * t], axis=1)
    return acc + rng.normal(0, 0.5, (n, 3)), rng.normal(0, 1.0, (n, 3))


class TestWindowSpan:
    """window_span must name exactly the samples a window's values depend on."""

    @pytest.mark.parametrize("kind", ["axes", "norms", "gravity", "invariant"])
    def test_span_is_exactly_what_the_window_reads(self, kind):
        acc, gyr = _walk()
        channels = CHANNEL_SETS[kind]
        before, after = window_span(channels)
        h = 200

        def window(acc):
            return raw_channels(acc, gyr, channels=channels)[h : h + RAW_WINDOW_SAMPLES]

        base = window(acc)
        for sample in (h - before - 1, h + after):  # just outside: no effect (up to rounding
            bumped = acc.copy()  # of the moving mean's cumulative sums)
            bumped[sample] += 5.0
            np.testing.assert_allclose(window(bumped), base, rtol=0, atol=1e-5)
        for sample in (h - before, h + after - 1):  # the span's own ends: an effect
            bumped = acc.copy()
            bumped[sample] += 5.0
            assert np.abs(window(bumped) - base).max() > 1e-3, (kind, sample)

    def test_gravity_channels_widen_the_span(self):
        assert window_span(CHANNEL_SETS["axes"]) == (0, RAW_WINDOW_SAMPLES)
        before, after = window_span(GRAVITY_CHANNEL_NAMES)
        assert before > 0 and after - before == RAW_WINDOW_SAMPLES

    def test_heading_channels_have_no_bounded_span(self):
        with pytest.raises(ValueError, match="Received: channels="):
            window_span(CHANNEL_SETS["body"])


class TestConfig:
    def test_paper_hash_and_dict_unchanged_by_the_new_fields(self):
        paper = AuthConfig()
        assert not {"representation", "channels"} & set(paper.to_dict())
        raw = AuthConfig(**RAW)
        assert raw.classifier_hash() != paper.classifier_hash()
        assert AuthConfig(**RAW, channels="gravity").classifier_hash() != raw.classifier_hash()
        assert AuthConfig.from_dict(json.loads(json.dumps(raw.to_dict()))) == raw

    def test_channels_resolve_to_the_set_or_its_acc_only_variant(self):
        assert AuthConfig(**RAW).window_channels() == CHANNEL_SETS["axes"]
        gravity = AuthConfig(**RAW, channels="gravity")
        assert gravity.window_channels(with_gyro=False) == ("acc_vert", "acc_horiz", "acc_mag")
        assert AuthConfig(**RAW, channels=["acc", "acc_mag"]).channels == ("acc", "acc_mag")

    @pytest.mark.parametrize(
        ("values", "message"),
        [
            ({"representation": "raw"}, "network='paper_cnn'"),  # the paper CNN reads images
            ({"network": "raw_cnn"}, "network='raw_cnn'"),  # raw_cnn reads series
            ({"representation": "pixels"}, "representation='pixels'"),
            ({"channels": "axes"}, "representation='ae_gdi'"),
            ({**RAW, "channels": "sideways"}, "channels='sideways'"),
            ({**RAW, "channels": ["acc", "acc"]}, "channels="),
            ({**RAW, "channels": "body"}, "heading-aligned"),
            ({**RAW, "channels": "gravity", "guard_before": 0, "guard_after": 120}, "guard_"),
        ],
    )
    def test_bad_input_is_refused_with_what_was_received(self, values, message):
        with pytest.raises(ValueError, match="Received:") as info:
            AuthConfig(**values)
        assert message in str(info.value)

    def test_guards_cover_every_method_span(self):
        for config in (AuthConfig(), AuthConfig(**RAW), AuthConfig(**RAW, channels="gravity")):
            reach = config.guard_before + config.guard_after
            assert all(b + a <= reach for b, a in config.input_spans().values())
        # guards just long enough for the gravity window are accepted, one sample less is not
        before, after = window_span(CHANNEL_SETS["gravity"])
        kwargs = {**RAW, "channels": "gravity", "methods": ("ae_gdi_cnn",)}
        AuthConfig(**kwargs, guard_before=before, guard_after=after)
        with pytest.raises(ValueError, match="Received: guard_before"):
            AuthConfig(**kwargs, guard_before=before, guard_after=after - 1)


def _dense_metadata(step=10, n_subjects=3):
    """Image starts every ``step`` samples (raw windows of neighbours overlap heavily)."""
    sid, sess, rec, starts = [], [], [], []
    for s in range(1, n_subjects + 1):
        for day, n in (("day1", 400), ("day2", 200)):
            sid += [s] * n
            sess += [day] * n
            rec += [len(set(zip(sid, sess, strict=True))) - 1] * n
            starts += list(60 + step * np.arange(n))
    return np.array(sid), np.array(sess, dtype=object), np.array(rec), np.array(starts)


@pytest.mark.tf  # make_split uses gaitcnn.pipeline, which imports TensorFlow
@pytest.mark.parametrize("channels", ["axes", "gravity"])
def test_split_keeps_raw_windows_of_probe_and_training_apart(channels):
    """No probe window reads a sample that a training or validation window reads."""
    sid, sess, rec, starts = _dense_metadata()
    before, after = window_span(CHANNEL_SETS[channels])
    # guards exactly as long as the raw window's span: the tightest the config accepts
    config = AuthConfig(**RAW, channels=channels, methods=("ae_gdi_cnn",),
                        guard_before=before, guard_after=after)  # fmt: skip
    split = auth.make_split(sid, sess, rec, starts, 2, 0, config)
    training = np.concatenate([split.train_idx, split.val_idx])
    assert split.same_idx is not None and split.train_idx.size > 0
    # brute force over the real spans [h - before, h + after) of every pair of one recording
    for probe_idx, others in ((split.same_idx, training), (split.val_idx, split.train_idx)):
        for i in probe_idx:
            same_rec = others[rec[others] == rec[i]]
            lo, hi = starts[i] - before, starts[i] + after
            assert not np.any((starts[same_rec] - before < hi) & (starts[same_rec] + after > lo))
    assert not spans_overlap(training, split.same_idx, rec, starts, before, after).any()


def _fake_image_set_and_segments(n_subjects=3, with_gyro=True):
    from gaitcnn.cache import ImageSet

    recordings, sid, rec, starts, segments = [], [], [], [], {}
    for s in range(1, n_subjects + 1):
        for day in ("day1", "day2"):
            acc, gyr = _walk(3000, seed=10 * s + (day == "day2"))
            key = f"s{s}-{day}"
            segments[key] = SimpleNamespace(acc=acc, gyr=gyr if with_gyro else None)
            recordings.append({"key": key, "session": day, "subject_id": s, "has_gyr": with_gyro})
            n = 60
            sid += [s] * n
            rec += [len(recordings) - 1] * n
            starts += list(40 + 45 * np.arange(n))
    image_set = ImageSet(
        images=np.zeros((len(sid), 2, 2, 1), np.float32),
        subject_ids=np.array(sid),
        recording_index=np.array(rec),
        starts=np.array(starts),
        recordings=recordings,
        params={"rate_hz": 50.0, "channels": ["acc"]},
        attrs={},
    )
    return image_set, segments


class TestWindows:
    @pytest.mark.parametrize(("channels", "with_gyro"), [("axes", True), ("gravity", False)])
    def test_window_of_each_image_is_the_signal_from_its_start(self, channels, with_gyro):
        image_set, segments = _fake_image_set_and_segments(with_gyro=with_gyro)
        config = AuthConfig(**RAW, channels=channels)
        windows = auth.raw_cnn_windows(image_set, segments, config)
        names = auth.window_channels(image_set, config)
        assert names == config.window_channels(with_gyro=with_gyro)
        n_columns = 8 if with_gyro else 3
        assert windows.shape == (len(image_set), 1, RAW_WINDOW_SAMPLES, n_columns)
        for i in (0, 77, len(image_set) - 1):
            info = image_set.recordings[image_set.recording_index[i]]
            seg = segments[info["key"]]
            series = raw_channels(seg.acc, seg.gyr, channels=names)
            h = image_set.starts[i]
            np.testing.assert_array_equal(windows[i, 0], series[h : h + RAW_WINDOW_SAMPLES])

    def test_raw_cnn_without_its_windows_is_refused(self, tmp_path):
        image_set, _ = _fake_image_set_and_segments()
        config = AuthConfig(**RAW, methods=("ae_gdi_cnn",), n_repetitions=1)
        with pytest.raises(ValueError, match="Received: features for"):
            auth.run_authentication(image_set, config, tmp_path, features={}, progress=None)


@pytest.mark.tf
def test_end_to_end_raw_run_writes_records(tmp_path):
    """``gaitcnn authenticate`` with raw windows on a tiny simulated McGill set."""
    from click.testing import CliRunner

    from gaitcnn.cli import main
    from gaitcnn.prepare import ensure_simulated

    root = ensure_simulated("mcgill", cache_dir=tmp_path, n_subjects=3, duration_s=90.0)
    out = tmp_path / "auth"
    args = ["authenticate", "--data-root", str(root), "--cache-dir", str(tmp_path)]
    args += ["--out", str(out), "--method", "ae_gdi_cnn", "--channels", "gravity"]
    for item in ("representation=raw", "network=raw_cnn", "n_repetitions=1", "subjects=[1]",
                 "train_share=0.5", "train.epochs=2", "train.batch_size=16",
                 'model={"filters": [4, 8], "kernel_size": 3, "n_pooled_blocks": 1}'):  # fmt: skip
        args += ["--set", item]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    record = json.loads((out / "runs" / "subject001_rep00.json").read_text())
    scores = record["image_scores"]["ae_gdi_cnn"]["different_day"]
    assert len(scores) == record["n_probe"]["different_day"] > 0
    assert all(0.0 <= s <= 1.0 for s in scores)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["representation"] == "raw"
    assert summary["config"]["channels"] == "gravity"
    assert {r["probe"] for r in summary["rows"]} >= {"different_day"}


def test_cli_bad_channels_name_what_was_received(tmp_path):
    from click.testing import CliRunner

    from gaitcnn.cli import main

    args = ["authenticate", "--out", str(tmp_path), "--channels", "acc,nope"]
    result = CliRunner().invoke(main, [*args, "--set", "representation=raw", "--set",
                                       "network=raw_cnn"])  # fmt: skip
    assert result.exit_code == 2
    assert "Received: channels=('acc', 'nope')" in result.output


class TestImprovedPreset:
    def test_improved_preset_is_raw_gravity_windows(self):
        improved = AuthConfig.from_preset("improved")
        assert (improved.representation, improved.network) == ("raw", "raw_cnn")
        assert improved.window_channels() == CHANNEL_SETS["gravity"]
        assert improved.model_config(0).lr_schedule == "cosine"
        # --set train.epochs merges into the preset's schedule instead of replacing it
        quick = AuthConfig.from_preset("improved", train={"epochs": 2})
        assert quick.train["lr_schedule"] == "cosine" and quick.train["epochs"] == 2

    @pytest.mark.tf  # make_split uses gaitcnn.pipeline, which imports TensorFlow
    def test_same_split_as_the_paper_preset(self):
        """Only the classifier's input changes: the images and split indices are the paper's."""
        sid, sess, rec, starts = _dense_metadata(step=50)
        paper = auth.make_split(sid, sess, rec, starts, 1, 0, AuthConfig.from_preset("paper"))
        raw = auth.make_split(sid, sess, rec, starts, 1, 0, AuthConfig.from_preset("improved"))
        for name in ("train_idx", "val_idx", "same_idx", "diff_idx", "diff_labels"):
            np.testing.assert_array_equal(getattr(raw, name), getattr(paper, name))
