"""Embedding export for on-device verification: contract metadata, Keras/TFLite parity."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from _tiny_verification import USER, tiny_verification_model

pytestmark = pytest.mark.tf

CONTRACT_KEYS = {
    "sampling_rate_hz",
    "window_samples",
    "window_step_samples",
    "channels",
    "columns",
    "input_shape",
    "normalisation",
    "embedding_dim",
    "model_fingerprint",
    "threshold",
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from gaitcnn.export import export_embedding

    model, genuine, impostor = tiny_verification_model(tmp_path_factory.mktemp("sim"))
    out = tmp_path_factory.mktemp("export")
    written = export_embedding(model, out)
    return model, genuine, impostor, out, written


def test_metadata_holds_the_preprocessing_contract(exported):
    model, _, _, out, written = exported
    assert set(written) == {"keras", "tflite", "metadata"}
    metadata = json.loads((out / "metadata.json").read_text())
    contract = metadata["contract"]
    assert metadata["kind"] == "gaitcnn-embedding" and CONTRACT_KEYS <= set(contract)
    params = model.front_end()
    assert contract["sampling_rate_hz"] == params.rate_hz == 50.0
    assert (contract["window_samples"], contract["window_step_samples"]) == (64, 4)
    assert contract["channels"] == list(model.channels_)
    assert contract["columns"] == ["ax", "ay", "az", "gx", "gy", "gz", "|a|", "|w|"]
    assert contract["input_shape"] == [1, 64, 8] and contract["embedding_dim"] == 8
    norm = contract["normalisation"]
    assert norm["inside_network"] is True
    np.testing.assert_allclose(norm["channel_mean"], model._backend.hparams["channel_mean"], 1e-6)
    np.testing.assert_allclose(norm["channel_sd"], model._backend.hparams["channel_sd"], 1e-6)
    assert contract["embedding_unit_norm"] is True
    assert contract["model_fingerprint"] == model.fingerprint
    assert contract["threshold"] == pytest.approx(model.threshold_)


def test_keras_and_tflite_embeddings_agree(exported):
    from gaitcnn.export import load_model, load_tflite

    model, genuine, impostor, out, _ = exported
    windows, _ = model.windows([genuine, impostor])
    from_keras = load_model(out).predict(windows, verbose=0)
    from_tflite = load_tflite(out)(windows)
    assert from_tflite.shape == (len(windows), 8) and len(windows) > 50
    assert np.abs(from_keras - from_tflite).max() < 1e-4
    np.testing.assert_allclose(np.linalg.norm(from_tflite, axis=1), 1.0, atol=1e-5)
    assert np.abs(model.embed_windows(windows) - from_keras).max() < 1e-5


def test_stream_from_the_export_scores_as_the_model(exported):
    from gaitcnn.stream import StreamingVerifier

    model, genuine, _, out, _ = exported
    t, acc, gyr = genuine.timestamps_s, genuine.acc, genuine.gyr
    verifiers = [StreamingVerifier.from_model(model, USER),
                 StreamingVerifier.from_export(out, model.store.template(USER))]  # fmt: skip
    for verifier in verifiers:
        for start in range(0, t.size, 37):
            verifier.push(t[start : start + 37], acc[start : start + 37], gyr[start : start + 37])
        verifier.finish()
    on_model, on_device = ([s.score for s in v.scores] for v in verifiers)
    assert len(on_device) == len(on_model) > 10
    assert np.abs(np.subtract(on_device, on_model)).max() < 1e-4
    assert verifiers[1].threshold == pytest.approx(model.threshold_)
    assert verifiers[1].decision.status == verifiers[0].decision.status


def test_existing_export_is_not_overwritten(exported):
    from gaitcnn.export import export_embedding

    model, _, _, out, _ = exported
    before = (out / "model.tflite").read_bytes()
    with pytest.raises(FileExistsError, match="Refusing to overwrite"):
        export_embedding(model, out)
    assert (out / "model.tflite").read_bytes() == before


def test_ensembles_and_unfitted_models_are_refused(exported, tmp_path):
    from gaitcnn import GaitModel
    from gaitcnn.export import export_embedding

    model = copy.copy(exported[0])
    model._backend = copy.copy(model._backend)
    model._backend.models = model._backend.models * 2
    with pytest.raises(ValueError, match="ensemble=2"):
        export_embedding(model, tmp_path / "ensemble")
    with pytest.raises(RuntimeError, match="not fitted"):
        export_embedding(GaitModel(preset="verification"), tmp_path / "unfitted")
    assert not (tmp_path / "ensemble").exists() and not (tmp_path / "unfitted").exists()


def test_stream_refuses_a_classifier_export(exported, tmp_path):
    from gaitcnn.errors import GaitDataError
    from gaitcnn.export import export_model
    from gaitcnn.stream import StreamingVerifier

    model = exported[0]
    export_model(model._backend.models[0], tmp_path, formats="keras")
    with pytest.raises(GaitDataError, match="not the metadata of an embedding export"):
        StreamingVerifier.from_export(tmp_path, np.ones((1, 8)))
