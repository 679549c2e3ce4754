"""Tests of the public estimator gaitcnn.GaitModel: the README example, files, refusals."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gaitcnn.errors import GaitDataError
from gaitcnn.orientation import auto_front_end

#: Tiny settings so that a fit takes seconds.
TINY_IMPROVED = {"epochs": 2, "hparams": {"filters": [8, 8], "n_pooled_blocks": 1}}


@pytest.fixture(scope="module")
def walks(tmp_path_factory):
    """A simulated OU-ISIR-like root with 6 subjects (manual subset, centre IMU)."""
    from gaitcnn.prepare import ensure_simulated

    return ensure_simulated("ouisir", cache_dir=tmp_path_factory.mktemp("sim"), n_subjects=6)


@pytest.fixture(scope="module")
def fitted(walks, tmp_path_factory):
    """The README example, run: fit, predict_proba, identify, save, load."""
    from gaitcnn import GaitModel, load_ouisir

    recs = load_ouisir(walks, subset="manual")
    gallery = [r for r in recs if r.session == "gallery"]
    probe = [r for r in recs if r.session == "probe"]
    model = GaitModel(preset="improved", seed=0, **TINY_IMPROVED).fit(gallery)
    path = model.save(tmp_path_factory.mktemp("model") / "walkers.gaitcnn")
    return {"model": model, "probe": probe, "gallery": gallery, "path": path}


def test_import_does_not_load_tensorflow():
    code = (
        "import sys, gaitcnn\n"
        "from gaitcnn import GaitModel, load_ouisir, load_mcgill\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'\n"
        "assert 'keras' not in sys.modules, 'keras imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_readme_opens_its_python_section_with_the_example():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    for needle in ("from gaitcnn import GaitModel, load_ouisir", "GaitModel(preset=", ".fit(",
                   "predict_proba(", "identify(", ".save(", "GaitModel.load("):  # fmt: skip
        assert needle in block, needle


@pytest.mark.tf
class TestReadmeExample:
    def test_probabilities_one_row_per_recording(self, fitted):
        proba = fitted["model"].predict_proba(fitted["probe"])
        assert proba.shape == (len(fitted["probe"]), 6)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
        assert fitted["model"].classes_.tolist() == sorted(
            {r.subject_id for r in fitted["gallery"]}
        )

    def test_identify_returns_a_subject_and_its_probability(self, fitted):
        label, score = fitted["model"].identify(fitted["probe"][0])
        proba = fitted["model"].predict_proba(fitted["probe"][:1])[0]
        assert label == fitted["model"].classes_[np.argmax(proba)]
        assert score == pytest.approx(proba.max())

    def test_load_gives_identical_probabilities(self, fitted):
        from gaitcnn import GaitModel

        loaded = GaitModel.load(fitted["path"])
        np.testing.assert_array_equal(
            loaded.predict_proba(fitted["probe"]), fitted["model"].predict_proba(fitted["probe"])
        )
        assert loaded.fingerprint == fitted["model"].fingerprint
        assert loaded.config == fitted["model"].config
        assert loaded.channels_ == auto_front_end()  # the front end holds both candidate sets
        assert loaded._backend.choice.to_dict() == fitted["model"]._backend.choice.to_dict()

    def test_improved_is_a_network_and_multirocket_on_the_axes_of_a_belt_sensor(self, fitted):
        from gaitcnn.fusion import standardised_sum

        backend = fitted["model"]._backend
        assert backend.kind == "hybrid" and backend.choice.mount == "fixed"
        assert backend.choice.channels == ("acc", "gyr", "acc_mag", "gyr_mag")
        images, _ = fitted["model"].windows(fitted["probe"][:1])
        chosen = backend.choice.select(images)
        parts = standardised_sum(backend.inner.network.scores(chosen),
                                 backend.inner.peer.scores(chosen))  # fmt: skip
        np.testing.assert_allclose(fitted["model"].window_scores(images), parts)

    def test_the_hybrid_has_no_single_network_to_export(self, fitted, tmp_path):
        from gaitcnn.export import export_embedding

        with pytest.raises(ValueError, match="only a network"):
            export_embedding(fitted["model"], tmp_path / "export")

    def test_save_does_not_overwrite_without_asking(self, fitted):
        with pytest.raises(FileExistsError):
            fitted["model"].save(fitted["path"])

    def test_a_walk_too_short_is_not_enough_gait(self, fitted):
        short = fitted["probe"][0]
        short = short.replace(
            timestamps_s=short.timestamps_s[:40], acc=short.acc[:40], gyr=short.gyr[:40]
        )
        with pytest.raises(GaitDataError, match="not enough gait"):
            fitted["model"].identify(short)
        assert np.isnan(fitted["model"].predict_proba([short])).all()


def _rewrite(path: Path, out: Path, edit) -> Path:
    """Copy a model file, passing its description through ``edit``."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "gaitcnn.json":
                data = json.dumps(edit(json.loads(data))).encode()
            dst.writestr(item, data)
    return out


@pytest.mark.tf
class TestRefusals:
    def test_another_package_version(self, fitted, tmp_path):
        from gaitcnn import GaitModel

        bad = _rewrite(fitted["path"], tmp_path / "old.gaitcnn",
                       lambda d: {**d, "gaitcnn_version": "0.0.1"})  # fmt: skip
        with pytest.raises(GaitDataError, match=r"old\.gaitcnn.*gaitcnn 0\.0\.1"):
            GaitModel.load(bad)

    def test_wrong_shape_or_classes(self, fitted, tmp_path):
        from gaitcnn import GaitModel

        shape = _rewrite(fitted["path"], tmp_path / "shape.gaitcnn",
                         lambda d: {**d, "input_shape": [1, 32, 8]})  # fmt: skip
        with pytest.raises(GaitDataError, match=r"shape\.gaitcnn.*do not match"):
            GaitModel.load(shape)
        classes = _rewrite(fitted["path"], tmp_path / "classes.gaitcnn",
                           lambda d: {**d, "classes": d["classes"][:-1]})  # fmt: skip
        with pytest.raises(GaitDataError, match=r"classes\.gaitcnn"):
            GaitModel.load(classes)

    def test_edited_weights_break_the_fingerprint(self, fitted, tmp_path):
        from gaitcnn import GaitModel

        bad = _rewrite(fitted["path"], tmp_path / "fp.gaitcnn",
                       lambda d: {**d, "fingerprint": "0" * 64})  # fmt: skip
        with pytest.raises(GaitDataError, match="fingerprint"):
            GaitModel.load(bad)

    def test_not_a_model_file(self, tmp_path):
        import pickle

        from gaitcnn import GaitModel

        pickled = tmp_path / "p.gaitcnn"
        pickled.write_bytes(pickle.dumps({"x": 1}))
        with pytest.raises(GaitDataError, match="not a zip"):
            GaitModel.load(pickled)
        empty = tmp_path / "e.gaitcnn"
        with zipfile.ZipFile(empty, "w") as archive:
            archive.writestr("other.txt", "hello")
        with pytest.raises(GaitDataError, match=r"no gaitcnn\.json"):
            GaitModel.load(empty)


class TestChannelsFromTheData:
    def _recording(self, walks, gyro: bool):
        from gaitcnn import load_ouisir

        rec = load_ouisir(walks, subset="manual")[0]
        return rec if gyro else rec.replace(gyr=None)

    def test_acc_only_data_use_the_acc_only_variant(self, walks):
        from gaitcnn.presets import ModelConfig, channels_for_data

        recs = [self._recording(walks, gyro=False)]
        flags, files = [r.gyr is not None for r in recs], [r.source for r in recs]
        assert channels_for_data(ModelConfig(), flags, files) == ("acc",)
        improved = ModelConfig.from_preset("improved")  # channels="auto": both sets, acc only
        assert channels_for_data(improved, flags, files) == auto_front_end(with_gyro=False)
        speed = ModelConfig.from_preset("improved", channel_choice="given", channels=None)
        assert channels_for_data(speed.replace(channels=None), flags, files) == ("acc", "acc_mag")
        with pytest.raises(GaitDataError, match="asks for a gyroscope"):
            channels_for_data(ModelConfig(channels=("acc", "gyr")), flags, files)

    def test_mixed_data_name_a_file_of_each_kind(self, walks):
        from gaitcnn.presets import ModelConfig, channels_for_data

        with_gyro = self._recording(walks, gyro=True)
        without = with_gyro.replace(gyr=None, source="phone.csv")
        with pytest.raises(GaitDataError, match=rf"{re.escape(with_gyro.source)}.*phone\.csv"):
            channels_for_data(ModelConfig(), [True, False], [with_gyro.source, without.source])
        acc = ModelConfig(channels=("acc",))
        assert channels_for_data(acc, [True, False], ["a", "b"]) == ("acc",)


def test_bad_configuration_is_refused_at_construction():
    from gaitcnn import GaitModel

    with pytest.raises(ValueError, match="preset"):
        GaitModel(preset="best")
    with pytest.raises(ValueError, match="method"):
        GaitModel(method="resnet")
    with pytest.raises(ValueError, match="unknown ModelConfig field"):
        GaitModel(epoch=3)
    with pytest.raises(RuntimeError, match="not fitted"):
        GaitModel().predict_proba([])
