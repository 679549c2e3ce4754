"""Two MultiWorkerMirroredStrategy workers on this machine over loopback (slow).

Each worker is its own process (as on separate machines), configured by ``TF_CONFIG`` and built
with :func:`gaitcnn.runs.make_strategy`; they train the paper CNN with
:func:`gaitcnn.train.train` and must end with identical weights and identical (all-reduced)
metrics.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

WORKER = r"""
import json, sys
import numpy as np
from gaitcnn.models import MODEL_BUILDERS
from gaitcnn.runs import make_strategy
from gaitcnn.train import TrainConfig, train

out = sys.argv[1]
strategy = make_strategy("multiworker")
rng = np.random.default_rng(0)
x = rng.normal(size=(400, 32, 64, 1)).astype("float32")
y = rng.integers(0, 4, 400)
result = train(
    lambda: MODEL_BUILDERS["paper_cnn"]((32, 64, 1), 4, fl1_units=32),
    (x[:300], y[:300]),
    (x[300:], y[300:]),
    TrainConfig.paper().replace(epochs=2, verbose=0),
    out_dir=out,
    strategy=strategy,
)
np.savez(out + "/weights.npz", *result.model.get_weights())
print(json.dumps({"replicas": strategy.num_replicas_in_sync, "history": result.history}))
"""


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def test_make_strategy_rejects_missing_tf_config(monkeypatch):
    from gaitcnn.runs import make_strategy

    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert make_strategy("none") is None
    with pytest.raises(ValueError, match="TF_CONFIG"):
        make_strategy("multiworker")
    with pytest.raises(ValueError, match="strategy must be"):
        make_strategy("horovod")


def test_two_workers_over_loopback(tmp_path: Path):
    ports = _free_ports(2)
    cluster = {"worker": [f"localhost:{p}" for p in ports]}
    procs = []
    for index in range(2):
        env = {
            **os.environ,
            "TF_CONFIG": json.dumps(
                {"cluster": cluster, "task": {"type": "worker", "index": index}}
            ),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "CUDA_VISIBLE_DEVICES": "",
        }
        out = tmp_path / f"worker{index}"
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", WORKER, str(out)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr[-3000:]
        outputs.append(json.loads(stdout.strip().splitlines()[-1]))
    assert [o["replicas"] for o in outputs] == [2, 2]
    h0, h1 = outputs[0]["history"], outputs[1]["history"]
    assert h0["epoch"] == [1, 2]
    assert np.isfinite(h0["loss"]).all()
    assert np.allclose(h0["loss"], h1["loss"])  # metrics are all-reduced across workers
    assert np.allclose(h0["val_accuracy"], h1["val_accuracy"])
    w0 = np.load(tmp_path / "worker0" / "weights.npz")
    w1 = np.load(tmp_path / "worker1" / "weights.npz")
    for key in w0.files:  # gradients are all-reduced: both workers hold the same weights
        np.testing.assert_allclose(w0[key], w1[key], atol=1e-6)
    for index in range(2):
        assert (tmp_path / f"worker{index}" / "final.keras").is_file()
