"""Tests for gaitcnn.models.raw_cnn and gaitcnn.rawwindows (raw-window 1-D CNN, issue 9)."""

from __future__ import annotations

import numpy as np
import pytest

from gaitcnn.rawwindows import channel_stats, raw_channels


class TestRawWindows:
    def test_channel_stats_are_global_per_channel(self):
        rng = np.random.default_rng(0)
        windows = rng.normal([1.0, -2.0, 0.0], [2.0, 0.5, 0.0], size=(50, 16, 3))
        mean, sd = channel_stats(windows)
        np.testing.assert_allclose(mean, windows.reshape(-1, 3).mean(axis=0))
        np.testing.assert_allclose(sd[:2], windows.reshape(-1, 3).std(axis=0)[:2])
        assert sd[2] == 1.0  # constant channel: no division by zero

    def test_raw_channels_match_the_minirocket_peer(self):
        from gaitcnn.peers.minirocket import signal_channels

        rng = np.random.default_rng(1)
        acc, gyr = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
        np.testing.assert_array_equal(raw_channels(acc, gyr), signal_channels(acc, gyr))
        np.testing.assert_array_equal(raw_channels(acc), signal_channels(acc))


@pytest.fixture(scope="module")
def raw_cnn():
    pytest.importorskip("tensorflow")
    from gaitcnn.models import raw_cnn

    return raw_cnn


@pytest.fixture(scope="module")
def windows():
    rng = np.random.default_rng(0)
    return (rng.normal(size=(6, 16, 8)) * 3.0 + 9.0).astype(np.float32)


@pytest.mark.tf
class TestRawCnn:
    def test_output_shape_and_probabilities(self, raw_cnn, windows):
        model = raw_cnn.build_raw_cnn(**raw_cnn.TEST_HPARAMS)
        proba = np.asarray(model(windows, training=False))
        assert proba.shape == (6, 3)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
        assert not any(type(layer).__name__ == "Lambda" for layer in model.layers)

    def test_default_configuration(self, raw_cnn):
        model = raw_cnn.build_raw_cnn((64, 8), 100, seed=0)
        assert model.input_shape == (None, 64, 8) and model.output_shape == (None, 100)
        assert model.count_params() == 148_708  # the prototype's network; stats are config
        assert model.get_layer("global_pool").input.shape[1] == 16  # two max-pools of 2

    def test_seeded_builds_are_identical(self, raw_cnn):
        first = raw_cnn.build_raw_cnn(**raw_cnn.TEST_HPARAMS).get_weights()
        second = raw_cnn.build_raw_cnn(**raw_cnn.TEST_HPARAMS).get_weights()
        other = raw_cnn.build_raw_cnn(**{**raw_cnn.TEST_HPARAMS, "seed": 1}).get_weights()
        for a, b in zip(first, second, strict=True):
            np.testing.assert_array_equal(a, b)
        assert any(not np.array_equal(a, b) for a, b in zip(first, other, strict=True))

    def test_normalisation_uses_the_given_statistics(self, raw_cnn, windows):
        mean, sd = channel_stats(windows)
        hparams = {**raw_cnn.TEST_HPARAMS, "dropout_rate": 0.0}
        scaled_inside = raw_cnn.build_raw_cnn(**hparams, channel_mean=mean, channel_sd=sd)
        scaled_outside = raw_cnn.build_raw_cnn(**hparams)
        expected = scaled_outside((windows - mean) / sd, training=False)
        np.testing.assert_allclose(scaled_inside(windows, training=False), expected, atol=1e-5)

    def test_trains_one_step(self, raw_cnn, windows):
        import keras

        keras.utils.set_random_seed(0)
        model = raw_cnn.build_raw_cnn(**raw_cnn.TEST_HPARAMS)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
        before = [w.copy() for w in model.get_weights()]
        logs = model.train_on_batch(windows, np.array([0, 1, 2, 0, 1, 2]), return_dict=True)
        assert np.isfinite(logs["loss"])
        assert any(
            not np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True)
        )

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"input_shape": (16, 8, 1)}, "input_shape"),
            ({"n_classes": 1}, "n_classes"),
            ({"filters": ()}, "filters"),
            ({"kernel_size": 0}, "kernel_size"),
            ({"n_pooled_blocks": 3}, "n_pooled_blocks"),
            ({"input_shape": (1, 8)}, "too few"),
            ({"dropout_rate": 1.0}, "dropout_rate"),
            ({"channel_mean": [0.0] * 3}, "channel_mean"),
            ({"channel_sd": [0.0] * 8}, "positive"),
        ],
    )
    def test_bad_arguments(self, raw_cnn, kwargs, match):
        with pytest.raises(ValueError, match=match):
            raw_cnn.build_raw_cnn(**{**raw_cnn.TEST_HPARAMS, **kwargs})

    def test_export_round_trip(self, raw_cnn, windows, tmp_path):
        from gaitcnn.export import export_model, load_model, load_tflite

        mean, sd = channel_stats(windows)
        model = raw_cnn.build_raw_cnn(**raw_cnn.TEST_HPARAMS, channel_mean=mean, channel_sd=sd)
        paths = export_model(model, tmp_path, formats=("keras", "tflite"))
        expected = model.predict(windows, verbose=0)
        reloaded = load_model(paths["keras"])  # safe mode: no Lambda layers
        np.testing.assert_allclose(reloaded.predict(windows, verbose=0), expected, atol=1e-5)
        predict = load_tflite(paths["tflite"])
        np.testing.assert_allclose(predict(windows), expected, atol=1e-4)
        np.testing.assert_allclose(predict(windows[:2]), expected[:2], atol=1e-4)


def test_registry_and_cached_window_shape():
    """The builder is found by name, and a cached raw window (1, T, C) gives the same output."""
    from gaitcnn.models import get_builder
    from gaitcnn.models.raw_cnn import TEST_HPARAMS, build_raw_cnn
    from gaitcnn.registry import NETWORKS

    assert get_builder("raw_cnn") is build_raw_cnn and NETWORKS["raw_cnn"].input_kind == "series"
    assert get_builder("paper_cnn") is not None
    with pytest.raises(ValueError, match="resnet"):
        get_builder("resnet")
    hp = {k: v for k, v in TEST_HPARAMS.items() if k != "input_shape"}
    flat = build_raw_cnn((16, 8), **hp)
    cached = build_raw_cnn((1, 16, 8), **hp)
    x = np.random.default_rng(0).normal(size=(3, 16, 8)).astype("float32")
    np.testing.assert_allclose(
        cached.predict(x[:, None], verbose=0), flat.predict(x, verbose=0), atol=1e-6
    )
    with pytest.raises(ValueError, match="input_shape"):
        build_raw_cnn((2, 16, 8), **hp)
