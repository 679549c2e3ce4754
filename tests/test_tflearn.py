"""Tests of the tflearn paper CNN and its weight transfer into the Keras paper CNN.

tflearn is imported ONLY in subprocesses: importing it switches a process to TF1 graph mode
for good, which would break every Keras test collected beside this file.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")
# find_spec locates tflearn without importing it (pytest.importorskip would import it).
if importlib.util.find_spec("tflearn") is None:
    pytest.skip("tflearn is not installed", allow_module_level=True)

pytestmark = pytest.mark.tf

INPUT_SHAPE = (32, 64, 2)  # N_l = 2: acceleration and gyroscope AE-GDIs
N_CLASSES = 3
REPO = Path(__file__).resolve().parents[1]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        pytest.fail(f"subprocess {args[:3]} failed:\n{result.stdout}\n{result.stderr[-4000:]}")
    return result


@pytest.fixture(scope="module")
def tflearn_run(tmp_path_factory):
    """Train the tflearn CNN for one epoch in a subprocess; return its out_dir and probe."""
    work = tmp_path_factory.mktemp("tflearn")
    rng = np.random.default_rng(0)
    images = rng.random((16, *INPUT_SHAPE), dtype=np.float32)
    labels = rng.integers(0, N_CLASSES, size=16)
    probe = rng.random((10, *INPUT_SHAPE), dtype=np.float32)
    np.savez(work / "train.npz", images=images, labels=labels)
    np.savez(work / "probe.npz", images=probe)
    out_dir = work / "run"
    result = _run(
        [
            "-m", "gaitcnn.models.tflearn_cnn",
            "--data", "train.npz", "--out", str(out_dir), "--epochs", "1",
            "--batch-size", "8", "--seed", "0", "--predict", "probe.npz",
        ],
        cwd=work,
    )  # fmt: skip
    return out_dir, probe, result.stdout


def test_training_writes_artefacts(tflearn_run):
    out_dir, probe, stdout = tflearn_run
    for name in ("model.tflearn.index", "config.json", "history.json", "predictions.npz"):
        assert (out_dir / name).exists(), name
    assert "\x1b[" not in stdout  # tflearn's ANSI progress bar is kept in the log file
    history = json.loads((out_dir / "history.json").read_text())
    assert len(history) == 1
    assert np.isfinite(history[0]["loss"])
    config = json.loads((out_dir / "config.json").read_text())
    assert config["input_shape"] == list(INPUT_SHAPE)
    assert config["n_classes"] == N_CLASSES
    probabilities = np.load(out_dir / "predictions.npz")["probabilities"]
    assert probabilities.shape == (len(probe), N_CLASSES)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_weight_transfer_reproduces_tflearn_outputs(tflearn_run):
    import tensorflow as tf

    from gaitcnn.models import build_paper_cnn
    from gaitcnn.models.tflearn_cnn import CHECKPOINT_NAME, tflearn_to_keras

    out_dir, probe, _ = tflearn_run
    checkpoint = out_dir / CHECKPOINT_NAME
    model = tflearn_to_keras(checkpoint, build_paper_cnn(INPUT_SHAPE, N_CLASSES, seed=1))
    np.testing.assert_array_equal(
        model.get_layer("conv2").kernel.numpy(),
        tf.train.load_checkpoint(str(checkpoint)).get_tensor("conv2/W"),
    )
    keras_probabilities = np.asarray(model(probe, training=False))
    tflearn_probabilities = np.load(out_dir / "predictions.npz")["probabilities"]
    assert np.max(np.abs(keras_probabilities - tflearn_probabilities)) < 1e-4
    assert "tflearn" not in sys.modules


@pytest.mark.parametrize(
    "hparams", [{"n_conv": 2}, {"fl1_units": 256}, {"conv_filters": (32, 64, 32)}]
)
def test_weight_transfer_rejects_other_architecture(tflearn_run, hparams):
    from gaitcnn.models import build_paper_cnn
    from gaitcnn.models.tflearn_cnn import CHECKPOINT_NAME, tflearn_to_keras

    out_dir, _, _ = tflearn_run
    model = build_paper_cnn(INPUT_SHAPE, N_CLASSES, **hparams)
    with pytest.raises(ValueError, match=r"conv|fl1|scopes"):
        tflearn_to_keras(out_dir / CHECKPOINT_NAME, model)


def test_tflearn_graph_matches_keras_for_every_n_conv(tmp_path):
    """Same output shape and parameter count as the Keras builder, N_conv = 1..4."""
    from gaitcnn.models import build_paper_cnn, count_params

    script = textwrap.dedent(
        """
        import json
        import tensorflow as tf
        from gaitcnn.models.tflearn_cnn import build_tflearn_paper_cnn

        report = {}
        for n_conv in (1, 2, 3, 4):
            with tf.Graph().as_default():
                net = build_tflearn_paper_cnn((32, 64, 2), 3, fl1_units=64, n_conv=n_conv)
                params = sum(v.shape.num_elements() for v in tf.compat.v1.trainable_variables())
                scopes = sorted({v.name.split("/")[0] for v in tf.compat.v1.trainable_variables()})
                report[n_conv] = {"shape": net.shape.as_list()[1:], "params": params,
                                  "scopes": scopes}
        print(json.dumps(report))
        """
    )
    report = json.loads(_run(["-c", script], cwd=tmp_path).stdout.strip().splitlines()[-1])
    for n_conv in (1, 2, 3, 4):
        keras_model = build_paper_cnn((32, 64, 2), 3, fl1_units=64, n_conv=n_conv)
        entry = report[str(n_conv)]
        assert entry["shape"] == [3]
        assert entry["params"] == count_params(keras_model)
        weighted = sorted(layer.name for layer in keras_model.layers if layer.weights)
        assert entry["scopes"] == weighted
