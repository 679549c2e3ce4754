"""Users the model never saw: GaitModel.embed / enrol / calibrate / verify / identify_enrolled.

A tiny verification-preset model is trained on 6 simulated subjects; 2 held-out subjects
calibrate the threshold and 2 others are enrolled and probed.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

pytest.importorskip("tensorflow")

TINY = {"epochs": 12, "hparams": {"filters": [16, 32], "embedding_dim": 16}}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from gaitcnn import load_ouisir
    from gaitcnn.prepare import ensure_simulated

    root = ensure_simulated("ouisir", cache_dir=tmp_path_factory.mktemp("sim"), n_subjects=10)
    recs = load_ouisir(root, subset="manual")
    subjects = sorted({r.subject_id for r in recs})

    def pick(users, session=None):
        return [r for r in recs if r.subject_id in users and session in (None, r.session)]

    return {
        "train": pick(subjects[:6]),
        "calibration": subjects[6:8],
        "test": subjects[8:],
        "pick": pick,
    }


@pytest.fixture(scope="module")
def model(data):
    from gaitcnn import GaitModel

    model = GaitModel(preset="verification", seed=0, **TINY).fit(data["train"])
    users = data["calibration"]
    return model.calibrate(data["pick"](users, "gallery"), data["pick"](users, "probe"))


def _rest(recording):
    """The same recording with the sensor lying still (gravity only): no walking."""
    acc = np.tile([0.0, 0.0, 9.81], (recording.acc.shape[0], 1))
    gyr = None if recording.gyr is None else np.zeros_like(recording.gyr)
    return dataclasses.replace(recording, acc=acc, gyr=gyr, source="still.csv")


class TestEmbedding:
    def test_unit_vectors_per_window(self, model, data):
        walk = data["pick"](data["test"][:1], "gallery")[0]
        embeddings = model.embed(walk)
        assert embeddings.ndim == 2 and embeddings.shape[1] == 16
        np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)

    def test_paper_cnn_penultimate_features(self, data):
        """Any network embeds: the paper CNN gives its fully connected layer's features."""
        from gaitcnn import GaitModel

        tiny = {"conv_filters": [4, 8, 8], "fl1_units": 8}
        paper = GaitModel(epochs=1, hparams=tiny).fit(data["pick"](data["calibration"]))
        images, _ = paper.windows(data["pick"](data["test"], "gallery"))
        assert paper.embed_windows(images).shape == (len(images), 8)


class TestVerification:
    def test_calibrated_threshold_is_saved(self, model, tmp_path):
        from gaitcnn import GaitModel

        assert model.verification_["target_far"] == 0.01
        # 2 calibration users, one probe each: 2 genuine and 2 impostor comparisons
        assert (model.verification_["n_genuine"], model.verification_["n_impostor"]) == (2, 2)
        loaded = GaitModel.load(model.save(tmp_path / "m.gaitcnn"))
        assert loaded.threshold_ == model.threshold_

    def test_genuine_scores_above_impostor(self, model, data):
        a, b = data["test"]
        model.enrol(str(a), data["pick"]([a], "gallery"), replace=True)
        probe_a, probe_b = data["pick"]([a], "probe")[0], data["pick"]([b], "probe")[0]
        genuine, impostor = model.score(str(a), probe_a), model.score(str(a), probe_b)
        assert -1.0 <= impostor < genuine <= 1.0
        score, accepted = model.verify(str(a), probe_a)
        assert score == pytest.approx(genuine) and accepted == (genuine >= model.threshold_)

    def test_identify_answers_unknown_below_the_threshold(self, model, data):
        a, b = data["test"]
        model.enrol(str(a), data["pick"]([a], "gallery"), replace=True)
        user, score = model.identify_enrolled(data["pick"]([b], "probe")[0])
        assert user in (str(a), None)
        assert (user is None) == (score < model.threshold_)
        # with users enrolled, identify() answers among them (open set)
        assert model.identify(data["pick"]([b], "probe")[0]) == (user, score)

    def test_enrol_existing_user_needs_replace(self, model, data):
        from gaitcnn.store import TemplateStoreError

        a = data["test"][0]
        model.enrol("again", data["pick"]([a], "gallery"), replace=True)
        try:
            with pytest.raises(TemplateStoreError, match="already enrolled"):
                model.enrol("again", data["pick"]([a], "gallery"))
        finally:  # the shared model's other tests expect only the test subjects enrolled
            model.store.remove("again")

    def test_no_walking_names_the_file_and_stores_nothing(self, model, data):
        from gaitcnn.errors import GaitDataError

        walk = data["pick"](data["test"][:1], "gallery")[0]
        before = model.store.users
        with pytest.raises(GaitDataError, match="not enough gait") as info:
            model.enrol("new-user", [walk, _rest(walk)])
        assert "still.csv" in str(info.value)
        assert model.store.users == before

    def test_store_of_another_model_is_refused(self, model):
        from gaitcnn.errors import GaitDataError
        from gaitcnn.store import TemplateStore

        with pytest.raises(GaitDataError, match=r"another model|enrol the users again"):
            model.store = TemplateStore("0" * 64, 16)

    def test_uncalibrated_model_says_so(self, data):
        from gaitcnn import GaitModel

        fresh = GaitModel.from_config(
            dataclasses.replace(GaitModel(preset="verification", **TINY).config, epochs=1)
        ).fit(data["pick"](data["calibration"]))
        with pytest.raises(RuntimeError, match="calibrate"):
            _ = fresh.threshold_


def test_margin_loss_on_probabilities_equals_the_cosine_form():
    """AM-softmax from softmax(s cos) equals the AM-softmax of the cosines themselves."""
    from gaitcnn.models.embedding import AdditiveMarginSoftmaxLoss
    from gaitcnn.models.losses import AM_MARGIN, AM_SCALE, AdditiveMarginOnProbabilities

    rng = np.random.default_rng(0)
    cos = rng.uniform(-0.9, 0.9, size=(7, 5)).astype(np.float32)
    labels = rng.integers(0, 5, size=7)
    logits = AM_SCALE * cos
    proba = np.exp(logits - logits.max(1, keepdims=True))
    proba /= proba.sum(1, keepdims=True)
    expected = AdditiveMarginSoftmaxLoss(scale=AM_SCALE, margin=AM_MARGIN)(labels, cos)
    got = AdditiveMarginOnProbabilities()(labels, proba)
    np.testing.assert_allclose(float(got), float(expected), rtol=1e-4)
