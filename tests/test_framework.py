"""``framework="tflearn"``: what it accepts and refuses, and how the option reaches every entry.

The end-to-end test trains through :class:`gaitcnn.GaitModel`; tflearn runs only in the child
process it starts (:mod:`gaitcnn.models._tflearn_process`) and is never imported here.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from gaitcnn.authentication import AuthConfig
from gaitcnn.presets import TFLEARN_HPARAMS, ModelConfig

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # the experiments package (plain `pytest` leaves the repo out)
    sys.path.insert(0, str(REPO))


class TestRefusal:
    @pytest.mark.parametrize("method", ["proposed", "method1", "method2"])
    def test_the_paper_cnn_rows_are_accepted(self, method):
        assert ModelConfig(method=method, framework="tflearn").network_name == "paper_cnn"

    @pytest.mark.parametrize(
        ("preset", "method", "received"),
        [
            ("improved", None, "network='raw_cnn'"),
            ("paper", "method3", "network='tcnn'"),
            ("paper", "inception", "network='inception'"),
            ("paper", "minirocket", "method='minirocket'"),
        ],
    )
    def test_what_tflearn_cannot_build_is_refused_in_one_line(self, preset, method, received):
        with pytest.raises(ValueError, match="builds only the networks") as info:
            ModelConfig.from_preset(preset, method=method, framework="tflearn")
        message = str(info.value)
        assert "\n" not in message
        assert received in message
        assert "['paper_cnn']" in message and "'proposed'" in message

    def test_a_network_override_is_refused(self):
        with pytest.raises(ValueError, match="network='compact_cnn'"):
            ModelConfig(network="compact_cnn", framework="tflearn")

    def test_hparams_and_loop_settings_tflearn_lacks_are_refused(self):
        with pytest.raises(ValueError, match=r"hparams .*\['kernel_size'\]"):
            ModelConfig(framework="tflearn", hparams={"kernel_size": 5})
        with pytest.raises(ValueError, match="lr_schedule='cosine'"):
            ModelConfig(framework="tflearn", lr_schedule="cosine")
        with pytest.raises(ValueError, match=r"label_smoothing=0\.1"):
            ModelConfig(framework="tflearn", label_smoothing=0.1)
        ModelConfig(framework="tflearn", hparams={"fl1_units": 64, "n_conv": 2})

    @pytest.mark.parametrize("value", [-1.0, "5"])
    def test_global_clipnorm_is_checked(self, value):
        with pytest.raises(ValueError, match="global_clipnorm"):
            ModelConfig(global_clipnorm=value)

    def test_saved_config_round_trips(self):
        config = ModelConfig(framework="tflearn", global_clipnorm=5.0)
        assert ModelConfig.from_dict(config.to_dict()) == config


class TestAuthentication:
    def test_framework_reaches_the_classifiers(self):
        config = AuthConfig(framework="tflearn")
        assert config.model_config(seed=3).framework == "tflearn"
        assert config.to_dict()["framework"] == "tflearn"

    def test_keras_default_keeps_stored_records_valid(self):
        # Records of Table 1 are checked against this hash: the new field must not change it.
        default = AuthConfig()
        assert "framework" not in default.to_dict()
        assert AuthConfig(framework="tflearn").classifier_hash() != default.classifier_hash()

    def test_unbuildable_network_is_refused_at_construction(self):
        with pytest.raises(ValueError, match="network='tcnn'"):
            AuthConfig(framework="tflearn", network="tcnn")
        # Without the CNN nothing trains: the framework does not matter.
        AuthConfig(framework="tflearn", network="tcnn", methods=("cosine_gdi",))

    def test_global_clipnorm_is_a_train_field(self):
        config = AuthConfig(train={"epochs": 2, "global_clipnorm": 5.0})
        assert config.model_config(seed=0).global_clipnorm == 5.0

    def test_command_refuses_in_one_line(self, tmp_path):
        from gaitcnn.cli import main

        result = CliRunner().invoke(
            main,
            ["authenticate", "--out", str(tmp_path / "a"), "--framework", "tflearn",
             "--set", 'network="inception"'],
        )  # fmt: skip
        assert result.exit_code == 2
        assert "network='inception'" in result.output
        assert not (tmp_path / "a").exists()


class TestLabelingCommand:
    @pytest.mark.parametrize(
        ("args", "received"),
        [
            (["--preset", "improved"], "network='raw_cnn'"),
            (["--method", "method3"], "network='tcnn'"),
            (["--set", "kernel_size=5"], "['kernel_size']"),
        ],
    )
    def test_refused_before_any_data_is_touched(self, tmp_path, args, received):
        from gaitcnn.labeling import labeling_command

        result = CliRunner().invoke(
            labeling_command,
            [*args, "--framework", "tflearn", "--out", str(tmp_path / "run"),
             "--cache-dir", str(tmp_path / "cache")],
        )  # fmt: skip
        assert result.exit_code == 2, result.output
        assert received in result.output
        assert not (tmp_path / "cache").exists()

    def test_option_is_documented(self):
        from gaitcnn.labeling import labeling_command

        result = CliRunner().invoke(labeling_command, ["--help"])
        assert re.search(r"--framework \[keras\|tflearn\]", result.output)


class TestDrivers:
    def test_table2_rows_split_by_framework(self):
        from experiments.configs.table2 import TABLE2_METHODS
        from experiments.table_2 import framework_methods

        assert framework_methods(TABLE2_METHODS, "keras") == (tuple(TABLE2_METHODS), ())
        kept, left_out = framework_methods(TABLE2_METHODS, "tflearn")
        assert kept == ("method1", "method2", "proposed")
        assert left_out == ("method3", "inception", "minirocket")

    def test_table2_refuses_an_explicit_row_tflearn_cannot_train(self, capsys):
        from experiments import table_2

        with pytest.raises(SystemExit) as info:
            table_2.main(["--quick", "--framework", "tflearn", "--methods", "method3"])
        assert info.value.code == 2
        assert "cannot train ['method3']" in capsys.readouterr().err

    def test_figure_method_lists_follow_the_framework(self):
        import argparse

        from experiments.table_2 import add_common_arguments, resolve_size

        parser = argparse.ArgumentParser()
        add_common_arguments(parser, "out")
        size = resolve_size(parser.parse_args(["--quick", "--framework", "tflearn"]))
        assert size["figure7_methods"] == ("proposed",)
        assert size["figure8_methods"] == ("proposed",)
        assert size["left_out"]["figure7_methods"] == ["method3", "minirocket"]

    def test_table1_driver_passes_the_framework(self):
        from experiments.configs import table1 as presets
        from experiments.table_1 import parse_args, resolve

        args = parse_args(["--quick", "--framework", "tflearn"], "t")
        assert AuthConfig.from_dict(resolve(args, presets.QUICK)["auth"]).framework == "tflearn"

    @pytest.mark.skipif(not Path("/usr/bin/make").exists(), reason="no make")
    def test_make_passes_framework_to_every_driver(self):
        targets = ["reproduce-table1", "reproduce-figure6", "reproduce-table2",
                   "reproduce-figure7", "reproduce-figure8", "reproduce-figure9"]  # fmt: skip
        out = subprocess.run(
            ["make", "-n", "-o", ".venv/.gaitcnn-installed", *targets, "FRAMEWORK=tflearn"],
            cwd=REPO, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        commands = [line for line in out.splitlines() if "-m experiments." in line]
        assert len(commands) == len(targets)
        for line in commands:
            assert "--framework tflearn" in line and "results/tflearn/" in line, line


@pytest.mark.tf
def test_tflearn_hparams_are_the_builders_keywords():
    pytest.importorskip("tensorflow")
    import inspect

    from gaitcnn.models.tflearn_cnn import build_tflearn_paper_cnn

    parameters = inspect.signature(build_tflearn_paper_cnn).parameters
    network = {"conv_filters", "n_conv", "fl1_units", "dropout_rate"}
    assert set(TFLEARN_HPARAMS) == network <= set(parameters)


@pytest.mark.tf
def test_tflearn_best_epoch_rule():
    pytest.importorskip("tensorflow")
    from gaitcnn.models.tflearn_cnn import best_epoch_of

    history = [{"epoch": e, "val_accuracy": a} for e, a in ((1, 0.2), (2, 0.6), (3, 0.6))]
    assert best_epoch_of(history) == 2  # strict ">": a tie keeps the earlier epoch
    assert best_epoch_of([{"epoch": 1, "val_accuracy": 0.0}]) is None  # not above 0
    assert best_epoch_of([{"epoch": 1, "loss": 1.0}]) is None  # no validation


@pytest.mark.tf
def test_keras_train_config_clips_the_global_norm():
    pytest.importorskip("tensorflow")
    from gaitcnn.train import TrainConfig, compile_model

    config = ModelConfig(global_clipnorm=5.0).train_config()
    assert config.global_clipnorm == 5.0
    from gaitcnn.models import build_paper_cnn

    model = compile_model(build_paper_cnn((14, 18, 1), 2, fl1_units=4), config)
    assert model.optimizer.global_clipnorm == 5.0
    assert compile_model(build_paper_cnn((14, 18, 1), 2, fl1_units=4), TrainConfig())
    with pytest.raises(ValueError, match="global_clipnorm"):
        TrainConfig(global_clipnorm=-1)


needs_tflearn = pytest.mark.skipif(
    importlib.util.find_spec("tflearn") is None, reason="tflearn not installed"
)


@pytest.fixture(scope="module")
def tflearn_child():
    """The tests share one tflearn process (started by the first fit), ended afterwards."""
    yield
    from gaitcnn.models._tflearn_process import shutdown

    shutdown()


@pytest.mark.tf
@needs_tflearn
def test_tiny_tflearn_fit_through_gaitmodel(tmp_path, tflearn_child):
    """Fit in the tflearn process, keep the best epoch, save: the .keras weights are tflearn's."""
    import tensorflow as tf

    from gaitcnn import GaitModel
    from gaitcnn._backends import TflearnBackend
    from gaitcnn.models._tflearn_process import fit_tflearn
    from gaitcnn.models.tflearn_cnn import best_epoch_of

    rng = np.random.default_rng(0)
    images, labels = rng.random((24, 32, 64, 2), dtype=np.float32), rng.integers(0, 3, 24)
    val = (rng.random((9, 32, 64, 2), dtype=np.float32), np.arange(9) % 3)
    model = GaitModel(framework="tflearn", epochs=3, batch_size=8, hparams={"fl1_units": 16})
    # A failing job comes back as an error naming the cause; the child survives it.
    with pytest.raises(RuntimeError, match="n_conv"):
        loop = {"epochs": 1, "batch_size": 8, "seed": 0}
        fit_tflearn((images, labels), None, n_classes=3, hparams={"n_conv": 9}, loop=loop,
                    out_dir=tmp_path / "bad")  # fmt: skip
    model.fit_images(images, labels, classes=["a", "b", "c"], channels=("acc", "gyr"),
                     validation=val, checkpoint_dir=tmp_path / "ckpt")  # fmt: skip
    assert isinstance(model._backend, TflearnBackend)
    assert "tflearn" not in sys.modules
    run = tmp_path / "ckpt" / "member0" / "run"
    history = json.loads((run / "history.json").read_text())
    assert [entry["epoch"] for entry in history] == [1, 2, 3]
    assert all("val_accuracy" in entry and "val_loss" in entry for entry in history)
    assert model.best_epoch_ == best_epoch_of(history)
    reply = json.loads((tmp_path / "ckpt" / "member0" / "job" / "reply.json").read_text())
    checkpoint = reply["checkpoint"]
    if model.best_epoch_ is not None:
        assert Path(checkpoint).parent.name == "best"  # tflearn's best-accuracy checkpoint
    loaded = GaitModel.load(model.save(tmp_path / "m.gaitcnn"))
    assert loaded.config.framework == "tflearn"
    reader = tf.train.load_checkpoint(checkpoint)
    network = loaded._backend.models[0]
    for layer in (layer for layer in network.layers if layer.weights):
        kernel, bias = layer.get_weights()
        np.testing.assert_array_equal(kernel, reader.get_tensor(f"{layer.name}/W"))
        np.testing.assert_array_equal(bias, reader.get_tensor(f"{layer.name}/b"))
    np.testing.assert_allclose(loaded.window_scores(val[0]), model.window_scores(val[0]))


@pytest.mark.tf
@needs_tflearn
def test_both_loops_do_the_same_arithmetic(tmp_path, tflearn_child):
    """Same start, order, no dropout, clip 5: one Adam step lands on the same weights."""
    from gaitcnn.models import build_paper_cnn
    from gaitcnn.models._tflearn_process import fit_tflearn
    from gaitcnn.models.tflearn_cnn import keras_weights_for_tflearn, tflearn_to_keras
    from gaitcnn.train import TrainConfig, train

    rng = np.random.default_rng(1)
    images, labels = rng.random((20, 32, 64, 2), dtype=np.float32), rng.integers(0, 4, 20)
    model = build_paper_cnn((32, 64, 2), 4, fl1_units=32, dropout_rate=0.0, seed=0)
    start = keras_weights_for_tflearn(model)
    config = TrainConfig(epochs=1, batch_size=20, keep_best=False, shuffle=False,
                         global_clipnorm=5.0, verbose=0)  # fmt: skip
    keras_after = keras_weights_for_tflearn(train(model, (images, labels), None, config).model)
    fit = fit_tflearn(
        (images, labels), None, n_classes=4, hparams={"fl1_units": 32, "dropout_rate": 0.0},
        loop={"epochs": 1, "batch_size": 20, "seed": 0, "shuffle": False, "clip_gradients": 5.0},
        out_dir=tmp_path / "same", initial_weights=start,
    )  # fmt: skip
    other = build_paper_cnn((32, 64, 2), 4, fl1_units=32, dropout_rate=0.0)
    tflearn_after = keras_weights_for_tflearn(tflearn_to_keras(fit.checkpoint, other))
    for name, value in keras_after.items():
        assert np.max(np.abs(value - start[name])) > 1e-4  # the step moved the weights ...
        np.testing.assert_allclose(tflearn_after[name], value, atol=1e-5)  # ... the same way


@pytest.mark.tf
@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("tflearn") is None, reason="tflearn not installed")
def test_framework_comparison_driver(tmp_path):
    """experiments/framework.py --quick: both frameworks, both tables, named in the outputs."""
    from experiments import framework

    out = framework.main(["--quick", "--out", str(tmp_path / "fw"), "--cache-dir",
                          str(tmp_path / "cache"), "--clip-arm"])  # fmt: skip
    result = json.loads((out / "framework.json").read_text())
    assert [r["framework"] for r in result["table2"]] == ["keras", "tflearn", "keras"]
    assert [r["global_clipnorm"] for r in result["table2"]] == [None, 5.0, 5.0]
    assert {r["framework"] for r in result["table1"]} == {"keras", "tflearn"}
    text = (out / "framework.md").read_text()
    assert "--framework tflearn" in text and "tflearn - keras" in text
