"""tflearn training in its own process: the Keras process sends jobs, a tflearn process runs them.

Importing tflearn switches a process to TensorFlow 1 graph mode for good (RECONSTRUCTION 5.2),
so a Keras process never imports it. :func:`fit_tflearn` (parent side, no tflearn) writes a job
- where the training images are (rows of the HDF5 cache, read by the child: no copy; or an
``.npy`` of an in-memory array), their labels, the network's hyper-parameters, the training
loop's settings and seed - and hands its path to a long-lived child process::

    python -m gaitcnn.models._tflearn_process --threads N

The child (:func:`serve`) reads one job path per line on stdin, trains with
:func:`gaitcnn.models.tflearn_cnn.train_tflearn` in a fresh graph, and answers one JSON line
(the kept checkpoint, the best epoch, the history). The child is started on the first job and
reused by later ones (Table 1 trains hundreds of small classifiers: TensorFlow's start-up is
paid once per Keras process, not per classifier); it ends when the parent exits.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaitcnn._atomic import write_json_atomic

__all__ = ["TflearnFit", "fit_tflearn", "serve", "shutdown"]

#: Lines of the child's log quoted when it fails.
_LOG_TAIL_LINES = 30


@dataclass(frozen=True)
class TflearnFit:
    """What one tflearn training run returns to the Keras process.

    Attributes
    ----------
    checkpoint : pathlib.Path
        Checkpoint prefix of the kept weights (the best epoch's with validation data, if
        tflearn saved one; else the final weights); read by
        :func:`gaitcnn.models.tflearn_cnn.tflearn_to_keras`.
    history : dict of str to list
        Per-epoch logs in Keras' History layout (``epoch``, ``loss``, ``accuracy``,
        ``val_loss``, ``val_accuracy``, ``epoch_time_s``).
    best_epoch : int or None
        1-based epoch of the kept weights when validation chose them.
    """

    checkpoint: Path
    history: dict
    best_epoch: int | None


def _data_spec(images, labels, job_dir: Path, name: str) -> dict:
    """Describe ``images`` for the child: cache rows (read there) or an ``.npy`` written here."""
    from gaitcnn.cache import CacheRows

    spec: dict = {"labels": f"{name}_labels.npy"}
    np.save(job_dir / spec["labels"], np.asarray(labels, dtype=np.int64))
    if isinstance(images, CacheRows):
        spec.update(cache=str(images.path.resolve()), rows=f"{name}_rows.npy")
        np.save(job_dir / spec["rows"], images.rows)
    else:
        spec["images"] = f"{name}_images.npy"
        np.save(job_dir / spec["images"], np.asarray(images, dtype=np.float32))
    digest = hashlib.sha256()
    for key in ("labels", "rows", "images"):
        if key in spec:
            digest.update((job_dir / spec[key]).read_bytes())
    spec["sha256"] = digest.hexdigest()
    return spec


def _load_data(spec: dict, job_dir: Path, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Images and one-hot labels of a data spec (child side; numpy and h5py only)."""
    from gaitcnn.cache import read_image_rows

    labels = np.load(job_dir / spec["labels"], allow_pickle=False)
    if "cache" in spec:
        images = read_image_rows(spec["cache"], np.load(job_dir / spec["rows"], allow_pickle=False))
    else:
        images = np.load(job_dir / spec["images"], allow_pickle=False)
    return images.astype(np.float32, copy=False), np.eye(n_classes, dtype=np.float32)[labels]


def _history_columns(entries: list[dict]) -> dict:
    """tflearn's per-epoch entries as Keras' History layout (dict of lists)."""
    columns: dict[str, list] = {}
    for entry in entries:
        for key, value in entry.items():
            columns.setdefault(key, []).append(value)
    return columns


def fit_tflearn(data, validation, *, n_classes: int, hparams: dict, loop: dict, out_dir,
                resume: bool = False, threads: int | None = None,
                initial_weights: dict | None = None) -> TflearnFit:  # fmt: skip
    """Train the tflearn paper CNN in the tflearn process and return where its weights are.

    Parameters
    ----------
    data : (images, labels)
        ``images`` a :class:`gaitcnn.cache.CacheRows` (the child reads the rows from the cache)
        or an array ``(n, height, width, n_channels)``; integer ``labels`` ``(n,)``.
    validation : (images, labels) or None
        Validation data carved from the training data; tflearn keeps its best epoch.
    n_classes : int
    hparams : dict
        :data:`gaitcnn.presets.TFLEARN_HPARAMS` of the network.
    loop : dict
        Keyword arguments of :func:`gaitcnn.models.tflearn_cnn.train_tflearn`: ``epochs``,
        ``batch_size``, ``seed``, ``learning_rate``, ``adam_epsilon``, ``clip_gradients``,
        ``shuffle``, ``deterministic``.
    out_dir : path
        Receives ``job/`` (the job and its index files) and ``run/`` (tflearn's checkpoints,
        history, config and log).
    resume : bool, default=False
        Reuse a finished run in ``out_dir`` made by the same job (tflearn cannot continue an
        interrupted run: an unfinished one starts again).
    threads : int, optional
        TensorFlow threads of the child; default: this process's intra-op setting if
        TensorFlow is loaded (Table 1 workers use 1), else TensorFlow's default.
    initial_weights : dict of str to np.ndarray, optional
        Start weights by tflearn variable name
        (:func:`gaitcnn.models.tflearn_cnn.keras_weights_for_tflearn`); default: tflearn's draw.

    Returns
    -------
    TflearnFit
    """
    out_dir = Path(out_dir).resolve()
    job_dir = out_dir / "job"
    job_dir.mkdir(parents=True, exist_ok=True)
    job = {
        "out_dir": str(out_dir / "run"),
        "n_classes": int(n_classes),
        "hparams": dict(hparams),
        "loop": dict(loop),
        "train": _data_spec(*data, job_dir, "train"),
        "validation": None if validation is None else _data_spec(*validation, job_dir, "val"),
        "initial_weights": None,
    }
    if initial_weights is not None:
        np.savez(job_dir / "initial_weights.npz", **{k.replace("/", "|"): v for k, v in
                                                     initial_weights.items()})  # fmt: skip
        job["initial_weights"] = "initial_weights.npz"
        digest = hashlib.sha256()
        for name in sorted(initial_weights):
            digest.update(name.encode() + np.ascontiguousarray(initial_weights[name]).tobytes())
        job["initial_weights_sha256"] = digest.hexdigest()
    job = json.loads(json.dumps(job))
    job_path, reply_path = job_dir / "job.json", job_dir / "reply.json"
    if resume and reply_path.exists() and json.loads(job_path.read_text()) == job:
        reply = json.loads(reply_path.read_text())
    else:
        reply_path.unlink(missing_ok=True)
        write_json_atomic(job_path, job)
        reply = _process(_default_threads() if threads is None else threads).run(job_path)
        write_json_atomic(reply_path, reply)  # last: the commit point of resume
    return TflearnFit(Path(reply["checkpoint"]), _history_columns(reply["history"]),
                      reply["best_epoch"])  # fmt: skip


def _default_threads() -> int:
    if "tensorflow" not in sys.modules:
        return 0
    import tensorflow as tf

    return int(tf.config.threading.get_intra_op_parallelism_threads())


class _TflearnProcess:
    """The child process, its request/reply pipes and its log file."""

    def __init__(self, threads: int):
        import gaitcnn

        self.threads = int(threads)
        fd, log = tempfile.mkstemp(prefix="gaitcnn-tflearn-", suffix=".log")
        os.close(fd)
        self.log_path = Path(log)
        root = str(Path(gaitcnn.__file__).resolve().parents[1])  # this gaitcnn, not another
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get(
            "PYTHONPATH")])))  # fmt: skip
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        with open(self.log_path, "w") as log_file:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", __name__, "--threads", str(self.threads)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file, text=True,
                env=env,
            )  # fmt: skip

    def alive(self) -> bool:
        return self.proc.poll() is None

    def run(self, job_path: Path) -> dict:
        try:
            self.proc.stdin.write(f"{job_path}\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            self.proc.wait()
            raise RuntimeError(
                f"the tflearn process ended (exit code {self.proc.returncode}) while training "
                f"{job_path}; its log {self.log_path} ends with:\n{self.log_tail()}"
            )
        reply = json.loads(line)
        if not reply.get("ok"):
            raise RuntimeError(f"tflearn training of {job_path} failed:\n{reply.get('error')}")
        return reply

    def log_tail(self) -> str:
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-_LOG_TAIL_LINES:])

    def close(self) -> None:
        if self.alive():
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.returncode == 0:
            self.log_path.unlink(missing_ok=True)


_LOCK = threading.Lock()
_PROCESS: list[_TflearnProcess] = []


def _process(threads: int) -> _TflearnProcess:
    """The running child for ``threads`` threads (started, or restarted, when needed)."""
    with _LOCK:
        if _PROCESS and (not _PROCESS[0].alive() or _PROCESS[0].threads != threads):
            _PROCESS.pop().close()
        if not _PROCESS:
            _PROCESS.append(_TflearnProcess(threads))
        return _PROCESS[0]


def shutdown() -> None:
    """End the tflearn process of this process, if one runs (also done at exit)."""
    with _LOCK:
        while _PROCESS:
            _PROCESS.pop().close()


atexit.register(shutdown)


# ---- child side ---------------------------------------------------------------------------


def run_job(job_path: Path, threads: int) -> dict:
    """Run one job file (child side: imports tflearn); the reply without ``ok``."""
    from gaitcnn.models.tflearn_cnn import train_tflearn

    job_dir = job_path.parent
    job = json.loads(job_path.read_text())
    n_classes = job["n_classes"]
    images, onehot = _load_data(job["train"], job_dir, n_classes)
    validation = None
    if job["validation"] is not None:
        validation = _load_data(job["validation"], job_dir, n_classes)
    initial = None
    if job.get("initial_weights"):
        with np.load(job_dir / job["initial_weights"], allow_pickle=False) as arrays:
            initial = {k.replace("|", "/"): arrays[k] for k in arrays.files}
    out_dir = Path(job["out_dir"])
    checkpoint = train_tflearn(
        images, onehot, n_classes=n_classes, out_dir=out_dir, validation=validation,
        threads=threads, initial_weights=initial, **job["hparams"], **job["loop"],
    )  # fmt: skip
    result = json.loads((out_dir / "result.json").read_text())
    history = json.loads((out_dir / "history.json").read_text())
    return {"checkpoint": str(checkpoint), "best_epoch": result["best_epoch"], "history": history}


def serve(threads: int = 0, requests=None) -> None:
    """Answer job paths read line by line from ``requests`` (stdin) until it closes.

    Replies go to the original stdout, one JSON line per job; everything else printed in this
    process (tflearn, TensorFlow) is sent to stderr so it cannot corrupt a reply.
    """
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    for line in requests if requests is not None else sys.stdin:
        if not line.strip():
            continue
        try:
            reply = {"ok": True, **run_job(Path(line.strip()), threads)}
        except Exception:  # every failure is reported to the parent
            reply = {"ok": False, "error": traceback.format_exc(limit=20)}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main(argv=None) -> int:
    """``python -m gaitcnn.models._tflearn_process --threads N``: serve jobs on stdin."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow intra-op threads")
    serve(parser.parse_args(argv).threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
