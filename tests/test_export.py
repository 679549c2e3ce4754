"""Tests for gaitcnn.export: round trips, metadata.json, safe loading, overwrite refusal."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.tf

tf = pytest.importorskip("tensorflow")

import keras  # noqa: E402

import gaitcnn  # noqa: E402
from gaitcnn.export import (  # noqa: E402
    config_hash,
    export_model,
    export_run,
    load_model,
    load_saved_model,
    load_tflite,
)
from gaitcnn.models import build_paper_cnn  # noqa: E402
from gaitcnn.train import TrainConfig, compile_model, set_seeds, train  # noqa: E402

N_CLASSES = 3


def build_tiny_model():
    return build_paper_cnn((32, 64, 2), N_CLASSES, conv_filters=(4, 4, 4), fl1_units=8)


@pytest.fixture(scope="module")
def model():
    set_seeds(0)
    return compile_model(build_tiny_model(), TrainConfig())


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((5, 32, 64, 2), dtype=np.float32)


@pytest.fixture(scope="module")
def all_formats(model, tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    paths = export_model(
        model,
        out,
        formats=("keras", "savedmodel", "tflite"),
        class_names=["s01", "s02", "s03"],
        preprocessing={"rate_hz": 50.0, "edge": "strict"},
        config={"b": 2, "a": [1, 2]},
        metadata={"note": "test"},
    )
    return out, paths


class TestExportRoundTrip:
    def test_keras_round_trip(self, model, images, all_formats):
        out, paths = all_formats
        assert paths["keras"] == out / "model.keras"
        reloaded = load_model(paths["keras"])
        assert getattr(reloaded, "optimizer", None) is None  # inference-only artefact
        expected = model.predict(images, verbose=0)
        np.testing.assert_allclose(reloaded.predict(images, verbose=0), expected, atol=1e-5)
        assert load_model(out).name == model.name  # a directory with model.keras works too

    def test_savedmodel_round_trip(self, model, images, all_formats):
        _, paths = all_formats
        assert (paths["savedmodel"] / "saved_model.pb").is_file()
        predict = load_saved_model(paths["savedmodel"])
        expected = model.predict(images, verbose=0)
        np.testing.assert_allclose(predict(images), expected, atol=1e-5)

    def test_tflite_round_trip(self, model, images, all_formats):
        _, paths = all_formats
        predict = load_tflite(paths["tflite"])
        expected = model.predict(images, verbose=0)
        np.testing.assert_allclose(predict(images), expected, atol=1e-4)
        np.testing.assert_allclose(predict(images[:2]), expected[:2], atol=1e-4)  # new batch

    def test_quantized_tflite_is_smaller_and_close(self, model, images, tmp_path, all_formats):
        paths = export_model(model, tmp_path, formats="tflite", quantize=True)
        assert paths["tflite"].stat().st_size < all_formats[1]["tflite"].stat().st_size
        proba = load_tflite(paths["tflite"])(images)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-4)
        assert json.loads(paths["metadata"].read_text())["tflite_quantized"] is True


class TestInputShapeChecks:
    """Issue 16 item 7: every loaded model checks inputs against its declared shape."""

    @pytest.mark.parametrize("which", ["tflite", "savedmodel"])
    def test_transposed_input_is_refused(self, images, all_formats, which):
        _, paths = all_formats
        predict = (load_tflite if which == "tflite" else load_saved_model)(paths[which])
        transposed = np.ascontiguousarray(images.transpose(0, 2, 1, 3))  # (5, 64, 32, 2)
        with pytest.raises(ValueError, match=r"\(batch, 32, 64, 2\).*Received: images.shape"):
            predict(transposed)
        with pytest.raises(ValueError, match="Received"):
            predict(images[0])  # no batch dimension
        assert predict(images[:1]).shape == (1, N_CLASSES)  # any batch size still works


class TestMetadata:
    def test_contents(self, model, all_formats):
        _, paths = all_formats
        meta = json.loads(paths["metadata"].read_text())
        assert meta["gaitcnn_version"] == gaitcnn.__version__
        assert meta["tensorflow_version"] == tf.__version__
        assert meta["keras_version"] == keras.__version__
        assert meta["input_shape"] == [32, 64, 2]
        assert meta["n_channels"] == 2
        assert meta["n_classes"] == N_CLASSES
        assert meta["class_names"] == ["s01", "s02", "s03"]
        assert meta["preprocessing"] == {"rate_hz": 50.0, "edge": "strict"}
        assert meta["config"] == {"a": [1, 2], "b": 2}
        assert meta["config_hash"] == config_hash({"a": [1, 2], "b": 2})
        assert meta["files"] == {
            "keras": "model.keras",
            "savedmodel": "savedmodel",
            "tflite": "model.tflite",
        }
        assert meta["extra"] == {"note": "test"}
        assert meta["created_utc"].endswith("+00:00")

    def test_config_hash_is_order_independent(self):
        assert config_hash({"a": 1, "b": 2}) == config_hash({"b": 2, "a": 1})
        assert config_hash({"a": 1}) != config_hash({"a": 2})
        assert len(config_hash({})) == 64
        assert config_hash(None) is None

    def test_wrong_class_names(self, model, tmp_path):
        with pytest.raises(ValueError, match="class_names"):
            export_model(model, tmp_path, class_names=["only-one"])

    def test_unknown_format(self, model, tmp_path):
        with pytest.raises(ValueError, match="formats"):
            export_model(model, tmp_path, formats=("onnx",))


class TestSafety:
    def test_lambda_layer_is_refused(self, tmp_path):
        inputs = keras.Input((4,))
        outputs = keras.layers.Lambda(lambda x: x * 2.0)(inputs)
        path = tmp_path / "lambda.keras"
        keras.Model(inputs, outputs).save(path)
        with pytest.raises(ValueError, match="refusing to load"):
            load_model(path)

    def test_pickle_as_config_json_names_the_file(self, model, tmp_path):
        """Issue 16 item 9: a pickle where config.json belongs says so, naming the file."""
        import pickle
        import zipfile

        path = tmp_path / "model.keras"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("config.json", pickle.dumps({"class_name": "Functional"}))
            archive.writestr("metadata.json", "{}")
        with pytest.raises(ValueError, match=r"config\.json in the archive is not JSON") as info:
            load_model(path)
        assert str(path) in str(info.value)

    @pytest.mark.parametrize("damage", ["truncate", "flip"])
    def test_corrupted_archive_names_the_file(self, all_formats, tmp_path, damage):
        """Issue 16 item 8: a damaged .keras is a one-line error naming it, not BadZipFile."""
        data = bytearray(all_formats[1]["keras"].read_bytes())
        if damage == "truncate":
            data = data[: len(data) // 2]
        else:  # a byte in the middle of the weights member: only its CRC-32 can tell
            data[len(data) // 2] ^= 0xFF
        path = tmp_path / "model.keras"
        path.write_bytes(bytes(data))
        from gaitcnn.errors import GaitDataError

        with pytest.raises(GaitDataError) as info:
            load_model(path)
        assert str(path) in str(info.value) and "\n" not in str(info.value)

    def test_not_a_keras_file(self, tmp_path):
        path = tmp_path / "model.h5"
        path.write_bytes(b"not a model")
        with pytest.raises(ValueError, match="refusing to load"):
            load_model(path)
        with pytest.raises(FileNotFoundError):
            load_model(tmp_path / "missing.keras")

    def test_refuses_to_overwrite(self, model, tmp_path):
        paths = export_model(model, tmp_path, formats="keras")
        before = paths["keras"].read_bytes()
        with pytest.raises(FileExistsError, match="overwrite"):
            export_model(model, tmp_path, formats=("keras", "tflite"))
        assert paths["keras"].read_bytes() == before
        assert not (tmp_path / "model.tflite").exists()  # nothing written on refusal
        export_model(model, tmp_path, formats="keras", overwrite=True)
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left

    def test_savedmodel_overwrite_replaces_directory(self, model, tmp_path):
        export_model(model, tmp_path, formats="savedmodel")
        export_model(model, tmp_path, formats="savedmodel", overwrite=True)
        assert (tmp_path / "savedmodel" / "saved_model.pb").is_file()


def test_export_run(tmp_path, images):
    rng = np.random.default_rng(1)
    data = rng.random((12, 32, 64, 2), dtype=np.float32)
    labels = np.arange(12) % N_CLASSES
    run = train(
        build_tiny_model,
        (data[:9], labels[:9]),
        (data[9:], labels[9:]),
        TrainConfig(epochs=1, batch_size=4, verbose=0),
        out_dir=tmp_path / "run",
        metadata={"class_names": ["a", "b", "c"], "preprocessing": {"rate_hz": 50.0}},
    )
    paths = export_run(tmp_path / "run", tmp_path / "export", fmt="keras")
    meta = json.loads(paths["metadata"].read_text())
    assert meta["class_names"] == ["a", "b", "c"]
    assert meta["preprocessing"] == {"rate_hz": 50.0}
    assert meta["config"]["train"]["epochs"] == 1
    assert "versions" not in meta["config"]
    assert meta["extra"]["source"].endswith("best.keras")
    exported = load_model(paths["keras"])
    np.testing.assert_allclose(
        exported.predict(images, verbose=0), run.model.predict(images, verbose=0), atol=1e-5
    )
    with pytest.raises(FileExistsError):
        export_run(tmp_path / "run", tmp_path / "export", fmt="keras")
    with pytest.raises(FileNotFoundError):
        export_run(tmp_path / "nothing", tmp_path / "export2")


class TestCompactCnnExport:
    """The improved preset's network trains one step and round-trips through TFLite."""

    def test_compact_cnn_trains_one_step_and_exports_to_tflite(self, tmp_path):
        from gaitcnn.models import build_compact_cnn

        set_seeds(0)
        config = TrainConfig(epochs=1, batch_size=4, lr_schedule="cosine", label_smoothing=0.1)
        model = build_compact_cnn((32, 64, 2), N_CLASSES, conv_filters=(4, 8), seed=0)
        compile_model(model, config, steps_per_epoch=1)
        rng = np.random.default_rng(0)
        x = rng.random((4, 32, 64, 2), dtype=np.float32)
        y = np.array([0, 1, 2, 0])
        before = [w.copy() for w in model.get_weights()]
        model.fit(x, y, batch_size=4, epochs=1, verbose=0)
        after = model.get_weights()
        assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
        paths = export_model(model, tmp_path / "export", formats=("keras", "tflite"))
        expected = model.predict(x, verbose=0)  # inference mode: batch-norm moving statistics
        np.testing.assert_allclose(load_tflite(paths["tflite"])(x), expected, atol=1e-5)
        np.testing.assert_allclose(load_model(paths["keras"]).predict(x, verbose=0), expected)
