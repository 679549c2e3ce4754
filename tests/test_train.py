"""Tests for gaitcnn.train: config, compilation, artefacts, determinism and exact resume."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.tf

tf = pytest.importorskip("tensorflow")

import keras  # noqa: E402

from gaitcnn.models import build_paper_cnn  # noqa: E402
from gaitcnn.train import (  # noqa: E402
    RUN_ARTEFACTS,
    RunExistsError,
    TrainConfig,
    compile_model,
    set_seeds,
    train,
    validation_split_indices,
)

N_CLASSES = 4


def build_tiny_model():
    """The paper CNN with tiny widths."""
    return build_paper_cnn((32, 64, 1), N_CLASSES, conv_filters=(4, 4, 4), fl1_units=8)


def make_data():
    """40 tiny images of 4 classes: 32 for training, 8 for validation."""
    rng = np.random.default_rng(0)
    images = rng.random((40, 32, 64, 1), dtype=np.float32)
    labels = np.arange(40) % N_CLASSES
    images[..., 0] += labels[:, None, None] * 0.1  # a little signal
    return (images[:32], labels[:32]), (images[32:], labels[32:])


@pytest.fixture(scope="module")
def data():
    return make_data()


@pytest.fixture(scope="module")
def straight_run(data, tmp_path_factory):
    """A 2-epoch run without interruption, the reference of the determinism/resume tests."""
    out = tmp_path_factory.mktemp("straight") / "run"
    return train(build_tiny_model, *data, tiny_config(), out_dir=out)


@pytest.fixture(scope="module")
def short_run(data, tmp_path_factory):
    """The same run stopped after its first epoch (epochs=1)."""
    out = tmp_path_factory.mktemp("short") / "run"
    train(build_tiny_model, *data, tiny_config(epochs=1), out_dir=out)
    return out


def tiny_config(**changes):
    return TrainConfig(epochs=2, batch_size=8, verbose=0).replace(**changes)


def weights_of(path):
    return keras.saving.load_model(path).get_weights()


def max_abs_difference(first, second):
    assert len(first) == len(second)
    return max(float(np.max(np.abs(a - b))) for a, b in zip(first, second, strict=True))


class _Crash(keras.callbacks.Callback):
    """Simulate a crash at the start of a given 0-based epoch."""

    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt("simulated crash")


class _Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def set_params(self, params):
        super().set_params(params)
        self.events.append(("params_epochs", params["epochs"]))

    def on_train_begin(self, logs=None):
        self.events.append(("train_begin",))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch))

    def on_train_end(self, logs=None):
        self.events.append(("train_end",))


# ---------------------------------------------------------------------------------------------
class TestContractTrainConfig:
    def test_paper_preset(self):
        config = TrainConfig.paper()
        assert (config.epochs, config.batch_size, config.learning_rate) == (50, 100, 1e-3)
        assert config.optimizer == "adam"
        assert config.adam_epsilon == 1e-8
        assert config.keep_best
        assert TrainConfig() == config

    def test_frozen(self):
        with pytest.raises(AttributeError):
            TrainConfig().epochs = 3

    def test_dict_round_trip(self):
        config = TrainConfig(epochs=3, seed=7, label_smoothing=0.1)
        assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config

    def test_unknown_key_rejected(self):
        with pytest.raises(ValueError, match="Unknown TrainConfig field"):
            TrainConfig.from_dict({"epochs": 3, "learnig_rate": 0.1})

    @pytest.mark.parametrize(
        "changes",
        [
            {"epochs": 0},
            {"batch_size": 0},
            {"learning_rate": -1.0},
            {"optimizer": "adagrad"},
            {"label_smoothing": 1.0},
            {"monitor": "accuracy"},
            {"verbose": 3},
            {"seed": -1},
            {"keep_best": 1},
        ],
    )
    def test_invalid_values(self, changes):
        with pytest.raises(ValueError, match="TrainConfig"):
            TrainConfig(**changes)


class TestContractHelpers:
    def test_compile_model(self):
        model = compile_model(build_tiny_model(), TrainConfig())
        assert isinstance(model.optimizer, keras.optimizers.Adam)
        assert model.optimizer.epsilon == pytest.approx(1e-8)
        assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)

    def test_set_seeds_repeatable(self):
        set_seeds(3)
        first = build_tiny_model().get_weights()
        set_seeds(3)
        second = build_tiny_model().get_weights()
        assert max_abs_difference(first, second) == 0.0

    def test_validation_split(self):
        labels = np.repeat(np.arange(5), 20)
        train_idx, val_idx = validation_split_indices(labels, validation_fraction=0.1, seed=1)
        assert np.intersect1d(train_idx, val_idx).size == 0
        assert np.union1d(train_idx, val_idx).size == labels.size
        assert np.all(np.bincount(labels[val_idx]) == 2)  # stratified: 10% of each class
        again = validation_split_indices(labels, validation_fraction=0.1, seed=1)
        assert np.array_equal(again[1], val_idx)


# ---------------------------------------------------------------------------------------------
class TestTrainBehaviour:
    def test_one_epoch_smoke(self, data, tmp_path):
        out = tmp_path / "run"
        result = train(build_tiny_model, *data, tiny_config(epochs=1), out_dir=out)
        assert np.isfinite(result.history["loss"][0])
        assert result.history["epoch"] == [1]
        for name in ("config.json", "history.json", "best.keras", "final.keras"):
            assert (out / name).is_file(), name
        assert (out / "checkpoints" / "last.keras").is_file()
        state = json.loads((out / "checkpoints" / "state.json").read_text())
        assert state["completed_epochs"] == 1
        assert result.best_epoch == 1
        events = list((out / "tensorboard").rglob("events.out.tfevents.*"))
        assert {p.parent.name for p in events} == {"train", "validation"}
        config = json.loads((out / "config.json").read_text())
        assert TrainConfig.from_dict(config["train"]) == tiny_config(epochs=1)
        assert config["model"]["input_shape"] == [32, 64, 1]
        assert config["versions"]["tensorflow"] == tf.__version__
        history = json.loads((out / "history.json").read_text())
        assert history == result.history
        assert not list(out.rglob("*.tmp"))  # no temporary file left behind

    def test_same_seed_same_weights(self, data, straight_run, tmp_path):
        again = train(build_tiny_model, *data, tiny_config(), out_dir=tmp_path / "again")
        assert max_abs_difference(straight_run.model.get_weights(), again.model.get_weights()) == 0
        assert again.history["loss"] == straight_run.history["loss"]
        set_seeds(1)
        other = build_tiny_model().get_weights()
        set_seeds(0)
        assert max_abs_difference(other, build_tiny_model().get_weights()) > 0

    def test_resume_after_crash_reproduces_uninterrupted_run(self, data, straight_run, tmp_path):
        out = tmp_path / "crash"
        with pytest.raises(KeyboardInterrupt):
            train(
                build_tiny_model, *data, tiny_config(), out_dir=out, callbacks=[_Crash(1)],
                checkpoint_every_s=0,
            )  # fmt: skip
        state = json.loads((out / "checkpoints" / "state.json").read_text())
        assert state["completed_epochs"] == 1
        assert not (out / "final.keras").exists()
        keras.backend.clear_session()
        resumed = train(build_tiny_model, *data, tiny_config(), out_dir=out, resume=True)
        assert resumed.initial_epoch == 1
        assert resumed.history["epoch"] == [1, 2]
        assert resumed.history["loss"] == straight_run.history["loss"]
        assert resumed.history["val_loss"] == straight_run.history["val_loss"]
        final_straight = weights_of(straight_run.paths["final"])
        assert max_abs_difference(final_straight, weights_of(out / "final.keras")) == 0.0
        assert resumed.best_epoch == straight_run.best_epoch
        assert json.loads((out / "history.json").read_text())["epoch"] == [1, 2]

    def test_short_run_checkpoints_once(self, data, tmp_path, monkeypatch):
        """Checkpoints follow the clock: a run shorter than the interval saves at the end only."""
        from gaitcnn import _rundir

        saved = []
        original = _rundir.atomic_save_model
        monkeypatch.setattr(
            _rundir, "atomic_save_model", lambda m, p: (saved.append(p.name), original(m, p))
        )
        train(build_tiny_model, *data, tiny_config(epochs=3), out_dir=tmp_path / "run")
        assert sorted(saved) == ["best.keras", "final.keras", "last.keras"]
        saved.clear()
        train(
            build_tiny_model, *data, tiny_config(epochs=3), out_dir=tmp_path / "every",
            checkpoint_every_s=0,
        )  # fmt: skip
        assert saved.count("last.keras") == 3

    def test_in_memory_run_writes_nothing_and_matches(self, data, straight_run, tmp_path):
        os.chdir(tmp_path)
        result = train(build_tiny_model, *data, tiny_config())
        assert list(tmp_path.iterdir()) == [] and result.paths == {}
        assert result.history["loss"] == straight_run.history["loss"]
        assert result.best_epoch == straight_run.best_epoch
        best = weights_of(straight_run.paths["best"])
        assert max_abs_difference(best, result.model.get_weights()) == 0.0

    def test_keep_best_needs_validation(self, data):
        with pytest.raises(ValueError, match="keep_best"):
            train(build_tiny_model, data[0], None, tiny_config())

    def test_resume_extends_a_finished_run(self, data, straight_run, short_run, tmp_path):
        out = tmp_path / "run"
        shutil.copytree(short_run, out)
        extended = train(build_tiny_model, *data, tiny_config(), out_dir=out, resume=True)
        assert extended.history["epoch"] == [1, 2]
        final_straight = weights_of(straight_run.paths["final"])
        assert max_abs_difference(final_straight, weights_of(out / "final.keras")) == 0.0
        assert json.loads((out / "config.json").read_text())["train"]["epochs"] == 2

    def test_resume_removes_temp_files_of_an_interrupted_save(
        self, data, straight_run, short_run, tmp_path
    ):
        """Issue 16 item 15: a save killed mid-way leaves an empty temp file; resume cleans it."""
        out = tmp_path / "run"
        shutil.copytree(short_run, out)
        kill_mid_save = textwrap.dedent(
            """
            import os, signal, sys
            from gaitcnn._atomic import atomic_path
            writer = atomic_path(sys.argv[1], suffix=".keras")
            writer.__enter__()  # the temporary file exists ...
            os.kill(os.getpid(), signal.SIGKILL)  # ... and the process dies before the rename
            """
        )
        for target in (out / "best.keras", out / "checkpoints" / "last.keras"):
            subprocess.run([sys.executable, "-c", kill_mid_save, str(target)], check=False)
        stale = sorted(p.name for p in out.rglob(".*.keras"))
        assert len(stale) == 2 and all(
            p.startswith((".best.keras.", ".last.keras.")) for p in stale
        )
        live = out / f".best.keras.{os.getppid()}-0123abcd.keras"  # a live writer's: kept
        live.write_bytes(b"")
        train(build_tiny_model, *data, tiny_config(), out_dir=out, resume=True)
        assert sorted(p.name for p in out.rglob(".*.keras")) == [live.name]
        final_straight = weights_of(straight_run.paths["final"])
        assert max_abs_difference(final_straight, weights_of(out / "final.keras")) == 0.0

    def test_resume_in_a_new_process(self, straight_run, short_run, tmp_path):
        """The claim that matters: a *restarted process* continues bit-identically."""
        out = tmp_path / "run"
        shutil.copytree(short_run, out)
        script = textwrap.dedent(
            f"""
            import sys
            sys.path.insert(0, {str(Path(__file__).parent)!r})
            from test_train import build_tiny_model, make_data, tiny_config
            from gaitcnn.train import train
            train(build_tiny_model, *make_data(), tiny_config(), out_dir=sys.argv[1], resume=True)
            """
        )
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
        subprocess.run(
            [sys.executable, "-c", script, str(out)],
            check=True, env=env, capture_output=True, timeout=300,
        )  # fmt: skip
        final_straight = weights_of(straight_run.paths["final"])
        assert max_abs_difference(final_straight, weights_of(out / "final.keras")) == 0.0

    def test_resume_with_epoch_dataset_factory(self, data, tmp_path):
        (images, labels), val = data

        def epoch_dataset(epoch):
            order = np.random.default_rng(epoch).permutation(labels.size)
            return tf.data.Dataset.from_tensor_slices((images[order], labels[order])).batch(8)

        straight = train(
            build_tiny_model, epoch_dataset, val, tiny_config(), out_dir=tmp_path / "a"
        )
        with pytest.raises(KeyboardInterrupt):
            train(
                build_tiny_model, epoch_dataset, val, tiny_config(), out_dir=tmp_path / "b",
                callbacks=[_Crash(1)],
            )  # fmt: skip
        resumed = train(
            build_tiny_model, epoch_dataset, val, tiny_config(), out_dir=tmp_path / "b",
            resume=True,
        )  # fmt: skip
        assert resumed.history["loss"] == straight.history["loss"]
        assert max_abs_difference(straight.model.get_weights(), resumed.model.get_weights()) == 0

    def test_refuses_to_overwrite_a_run(self, data, short_run, tmp_path):
        out = tmp_path / "run"
        shutil.copytree(short_run, out)
        (out / "notes.txt").write_text("mine")
        before = (out / "final.keras").read_bytes()
        with pytest.raises(RunExistsError, match="already holds a training run"):
            train(build_tiny_model, *data, tiny_config(epochs=1), out_dir=out)
        with pytest.raises(ValueError, match="learning_rate"):
            train(build_tiny_model, *data, tiny_config(learning_rate=0.1), out_dir=out, resume=True)
        assert (out / "final.keras").read_bytes() == before
        result = train(build_tiny_model, *data, tiny_config(epochs=1), out_dir=out, overwrite=True)
        assert result.history["epoch"] == [1]
        assert (out / "notes.txt").read_text() == "mine"  # only run artefacts are replaced

    def test_partial_run_refused_and_resumed_from_scratch(self, data, tmp_path):
        out = tmp_path / "run"
        out.mkdir()
        (out / "history.json").write_text('{"epoch": [1]}')  # died before committing epoch 1
        with pytest.raises(RunExistsError):
            train(build_tiny_model, *data, tiny_config(epochs=1), out_dir=out)
        result = train(build_tiny_model, *data, tiny_config(epochs=1), out_dir=out, resume=True)
        assert result.initial_epoch == 0
        assert result.history["epoch"] == [1]

    def test_callbacks_see_one_run_and_best_is_kept(self, data, tmp_path):
        recorder = _Recorder()
        recorder.result = train(
            build_tiny_model, *data, tiny_config(epochs=3), out_dir=tmp_path / "run",
            callbacks=[recorder],
        )  # fmt: skip
        result = recorder.result
        names = [event[0] for event in recorder.events]
        assert names.count("train_begin") == 1
        assert names.count("train_end") == 1
        assert [e[1] for e in recorder.events if e[0] == "epoch_end"] == [0, 1, 2]
        assert {e[1] for e in recorder.events if e[0] == "params_epochs"} == {3}
        accuracy = np.array(result.history["val_accuracy"])
        assert accuracy[result.best_epoch - 1] == accuracy.max()
        best = weights_of(result.paths["best"])
        assert max_abs_difference(best, result.model.get_weights()) == 0.0

    def test_without_keep_best_with_smoothing_and_a_ready_model(self, data, tmp_path):
        set_seeds(0)
        model = build_tiny_model()
        config = tiny_config(epochs=1, keep_best=False, label_smoothing=0.1)
        result = train(model, *data, config, out_dir=tmp_path / "r")
        assert result.model is model
        assert np.isfinite(result.history["loss"][0])
        assert result.best_epoch is None
        assert result.paths["best"] is None
        assert not (tmp_path / "r" / "best.keras").exists()

    def test_run_artefact_names(self):
        assert "checkpoints" in RUN_ARTEFACTS and "config.json" in RUN_ARTEFACTS


def test_under_a_distribution_strategy(data, tmp_path):
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    result = train(
        build_tiny_model, *data, tiny_config(epochs=1), out_dir=tmp_path / "run", strategy=strategy
    )
    assert np.isfinite(result.history["loss"][0])
