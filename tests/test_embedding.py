"""Embedding network, cosine head and margin losses: shapes, known values, save/load, TFLite."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytestmark = pytest.mark.tf

keras = pytest.importorskip("keras")

from gaitcnn.models.embedding import (  # noqa: E402
    LOSSES,
    TEST_HPARAMS,
    AdditiveMarginSoftmaxLoss,
    ArcFaceLoss,
    CosineClassifier,
    SupervisedContrastiveLoss,
    build_embedding_cnn,
    build_training_model,
    compile_embedding_model,
    head_for_loss,
    make_loss,
)


def _tiny_embedding(seed=0):
    return build_embedding_cnn(**{**TEST_HPARAMS, "seed": seed})


def _windows(n=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, *TEST_HPARAMS["input_shape"])).astype(np.float32)


def _softmax_ce(logits, target):
    logits = np.asarray(logits, np.float64)
    return float(np.log(np.exp(logits).sum()) - logits[target])


class TestContractEmbedding:
    def test_output_is_unit_norm(self):
        model = _tiny_embedding()
        out = model.predict(_windows(), verbose=0)
        assert out.shape == (12, TEST_HPARAMS["embedding_dim"])
        np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)

    def test_layer_names_unique_and_seeded(self):
        a, b = _tiny_embedding(3), _tiny_embedding(3)
        names = [layer.name for layer in a.layers]
        assert len(names) == len(set(names))
        for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
            np.testing.assert_array_equal(wa, wb)

    def test_cached_window_shape_is_accepted(self):
        model = build_embedding_cnn(**{**TEST_HPARAMS, "input_shape": (1, 16, 8)})
        assert model.predict(_windows()[:, None], verbose=0).shape == (12, 8)

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [({"embedding_dim": 1}, "embedding_dim"), ({"dropout_rate": 1.0}, "dropout_rate")],
    )
    def test_bad_arguments(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            build_embedding_cnn(**{**TEST_HPARAMS, **kwargs})

    @pytest.mark.parametrize(
        ("factory", "match"),
        [
            (lambda: AdditiveMarginSoftmaxLoss(margin=-0.1), "margin"),
            (lambda: ArcFaceLoss(scale=0.0), "scale"),
            (lambda: SupervisedContrastiveLoss(temperature=0.0), "temperature"),
            (lambda: make_loss("triplet"), "Unknown loss"),
            (lambda: build_training_model(_tiny_embedding(), 3, head="x"), "head"),
        ],
    )
    def test_bad_loss_and_head_arguments(self, factory, match):
        with pytest.raises(ValueError, match=match):
            factory()


class TestMarginLossesBehaviour:
    cos = np.array([[0.6, 0.2, -0.1]], np.float32)

    def test_am_softmax_known_value(self):
        loss = AdditiveMarginSoftmaxLoss(scale=10.0, margin=0.3)
        expected = _softmax_ce(10 * np.array([0.6 - 0.3, 0.2, -0.1]), 0)
        assert float(loss(np.array([0]), self.cos)) == pytest.approx(expected, rel=1e-5)

    def test_zero_margin_is_a_scaled_softmax(self):
        loss = AdditiveMarginSoftmaxLoss(scale=5.0, margin=0.0)
        assert float(loss(np.array([1]), self.cos)) == pytest.approx(
            _softmax_ce(5 * self.cos[0], 1), rel=1e-5
        )

    def test_arcface_known_value(self):
        loss = ArcFaceLoss(scale=10.0, margin=0.5)
        target = math.cos(math.acos(0.6) + 0.5)
        expected = _softmax_ce(10 * np.array([target, 0.2, -0.1]), 0)
        assert float(loss(np.array([0]), self.cos)) == pytest.approx(expected, rel=1e-5)

    def test_arcface_fallback_beyond_pi(self):
        # theta = acos(-0.95) ~ 2.83 rad; theta + 0.5 > pi: fallback cos - m sin(m)
        loss = ArcFaceLoss(scale=1.0, margin=0.5)
        cos = np.array([[-0.95, 0.0]], np.float32)
        expected = _softmax_ce([-0.95 - 0.5 * math.sin(0.5), 0.0], 0)
        assert float(loss(np.array([0]), cos)) == pytest.approx(expected, rel=1e-5)

    def test_margin_makes_the_loss_larger(self):
        plain = float(AdditiveMarginSoftmaxLoss(margin=0.0)(np.array([0]), self.cos))
        assert float(AdditiveMarginSoftmaxLoss(margin=0.35)(np.array([0]), self.cos)) > plain
        assert float(ArcFaceLoss(margin=0.3)(np.array([0]), self.cos)) > plain

    def test_supcon_known_value(self):
        # two classes, orthogonal-ish unit vectors
        z = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], np.float32)
        labels = np.array([0, 0, 1])
        temperature = 0.5
        # anchors 0 and 1 have one positive each (each other); anchor 2 none (left out)
        expected = -math.log(math.exp(2.0) / (math.exp(2.0) + math.exp(0.0)))
        loss = SupervisedContrastiveLoss(temperature=temperature)
        assert float(loss(labels, z)) == pytest.approx(expected, rel=1e-5)

    def test_cosine_classifier_outputs_cosines(self):
        layer = CosineClassifier(3, kernel_initializer="ones")
        x = np.array([[3.0, 4.0]], np.float32)
        np.testing.assert_allclose(np.asarray(layer(x)), [[0.7 / math.sqrt(0.5)] * 3], rtol=1e-5)


class TestEmbeddingTraining:
    @pytest.mark.parametrize("loss_name", sorted(LOSSES))
    def test_one_epoch_and_safe_mode_round_trip(self, loss_name, tmp_path):
        from gaitcnn.export import load_model
        from gaitcnn.train import TrainConfig

        embedding = _tiny_embedding()
        model = build_training_model(embedding, 3, head=head_for_loss(loss_name), seed=1)
        compile_embedding_model(model, make_loss(loss_name), TrainConfig(epochs=1, verbose=0))
        x, y = _windows(12), np.repeat(np.arange(3), 4)
        history = model.fit(x, y, batch_size=12, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        path = tmp_path / "training.keras"
        model.save(path)
        loaded = load_model(path, compile=True)  # safe mode, custom loss restored
        np.testing.assert_allclose(
            loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6
        )
        assert type(loaded.loss).__name__ == type(model.loss).__name__
        reloaded_embedding = load_model(_save(embedding, tmp_path / "embedding.keras"))
        np.testing.assert_allclose(
            reloaded_embedding.predict(x, verbose=0), embedding.predict(x, verbose=0), atol=1e-6
        )

    def test_tflite_embeddings_match_keras(self, tmp_path):
        from gaitcnn.export import export_model, load_tflite

        embedding = build_embedding_cnn(
            (64, 8), 16, filters=(8, 16), seed=0, channel_mean=np.arange(8.0), channel_sd=[2.0] * 8
        )
        written = export_model(embedding, tmp_path, formats=("keras", "tflite"))
        x = np.random.default_rng(0).normal(3.0, 2.0, size=(5, 64, 8)).astype(np.float32)
        tflite = load_tflite(written["tflite"])(x)
        np.testing.assert_allclose(tflite, embedding.predict(x, verbose=0), atol=1e-4)


def _save(model, path):
    model.save(path)
    return path


def test_fingerprint_changes_with_weights_and_preprocessing():
    from gaitcnn.models.embedding import embedding_fingerprint

    a, b = _tiny_embedding(0), _tiny_embedding(0)
    contract = {"rate_hz": 50.0, "channels": ["acc", "gyr", "acc_mag", "gyr_mag"]}
    assert embedding_fingerprint(a, contract) == embedding_fingerprint(b, contract)
    assert len(embedding_fingerprint(a)) == 64
    assert embedding_fingerprint(a, contract) != embedding_fingerprint(a, {"rate_hz": 100.0})
    weights = b.get_weights()
    weights[0][0, 0, 0] += 1e-6
    b.set_weights(weights)
    assert embedding_fingerprint(a, contract) != embedding_fingerprint(b, contract)
