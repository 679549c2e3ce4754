"""Benchmark: training throughput (Keras paper CNN, tflearn paper CNN, TCNN, Inception), dense
float32 matmul FLOP/s of this machine, the package's training loop fed from the HDF5 cache,
and (used by :mod:`benchmarks.bench_scaling`) training time at 1x, 2x and 4x data.

FLOP convention: one multiply-add = 2 FLOP; a training step costs 3x the forward pass
(forward + backward w.r.t. activations + backward w.r.t. weights), so
``achieved FLOP/s = 2 * MACs * images/s * 3``. Only convolution and dense layers are counted
(:func:`gaitcnn.models.count_flops`).

Run: ``python -m benchmarks.bench_training`` (prints JSON). ``run()`` returns the entries.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from benchmarks._common import entry, median_time

INPUT_SHAPE = (32, 64, 1)
N_CLASSES = 20


def _data(n_images: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.random((n_images, *INPUT_SHAPE), dtype=np.float32)
    y = rng.integers(0, N_CLASSES, n_images).astype(np.int32)
    return x, y


def matmul_flops(size: int = 2048, repeats: int = 5) -> dict:
    """TensorFlow's dense float32 matmul rate on this machine (all cores), FLOP/s."""
    import tensorflow as tf

    a = tf.random.uniform((size, size), dtype=tf.float32)
    b = tf.random.uniform((size, size), dtype=tf.float32)
    mm = tf.function(lambda: tf.reduce_sum(tf.linalg.matmul(a, b)))
    med, _ = median_time(lambda: float(mm()), repeats)
    rate = 2 * size**3 / med
    return entry(
        "machine.matmul_float32",
        rate,
        "FLOP/s",
        repetitions=repeats,
        matrix_size=size,
        note="tf.linalg.matmul of two float32 matrices, 2*n^3 FLOP",
    )


class _EpochTimer:
    def __init__(self):
        import keras

        class Timer(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.times = []

            def on_epoch_begin(self, epoch, logs=None):
                self._t = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                self.times.append(time.perf_counter() - self._t)

        self.callback = Timer()


def keras_fit_throughput(model_name: str, n_images: int, epochs: int) -> dict:
    """images/s of a plain ``model.fit`` on in-memory data: median epoch after a warm-up epoch."""
    import keras

    from gaitcnn.models import MODEL_BUILDERS, count_flops
    from gaitcnn.train import TrainConfig, compile_model

    x, y = _data(n_images)
    keras.utils.set_random_seed(0)
    model = MODEL_BUILDERS[model_name](INPUT_SHAPE, N_CLASSES)
    compile_model(model, TrainConfig.paper())
    timer = _EpochTimer().callback
    model.fit(x, y, batch_size=100, epochs=1 + epochs, verbose=0, callbacks=[timer])
    med = float(np.median(timer.times[1:]))
    return _throughput_entry(
        f"train.keras.{model_name}",
        n_images / med,
        count_flops(model),
        epochs,
        n_images=n_images,
        framework="keras",
        input_shape=list(INPUT_SHAPE),
    )


def _throughput_entry(name, images_per_s, macs, repetitions, **details):
    return entry(
        name,
        images_per_s,
        "images/s",
        repetitions=repetitions,
        macs_per_image=int(macs),
        achieved_flops=2 * macs * images_per_s * 3,
        flop_convention="2 FLOP per multiply-add, training step = 3x forward",
        batch_size=100,
        **details,
    )


def tflearn_throughput(n_images: int, epochs: int) -> dict:
    """images/s of the tflearn paper CNN, trained in its own process on the same data.

    tflearn switches its process to graph mode, so it runs as a subprocess; the per-epoch time is
    the difference between a (1 + epochs)-epoch and a 1-epoch run divided by ``epochs``, which
    removes process start, TF import and graph construction.
    """
    from gaitcnn.models import MODEL_BUILDERS, count_flops

    x, y = _data(n_images)
    with tempfile.TemporaryDirectory(prefix="bench-tflearn-") as tmp:
        data = Path(tmp) / "train.npz"
        np.savez(data, images=x, labels=y)
        walls = {}
        for n_ep in (1, 1 + epochs):
            out = Path(tmp) / f"run{n_ep}"
            start = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "gaitcnn.models.tflearn_cnn",
                    "--data",
                    str(data),
                    "--out",
                    str(out),
                    "--epochs",
                    str(n_ep),
                    "--n-classes",
                    str(N_CLASSES),
                ],
                check=True,
                capture_output=True,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
            )
            walls[n_ep] = time.perf_counter() - start
    per_epoch = (walls[1 + epochs] - walls[1]) / epochs
    model = MODEL_BUILDERS["paper_cnn"](INPUT_SHAPE, N_CLASSES)
    return _throughput_entry(
        "train.tflearn.paper_cnn",
        n_images / per_epoch,
        count_flops(model),
        epochs,
        n_images=n_images,
        framework="tflearn (subprocess)",
        method=f"(wall of {1 + epochs} epochs - wall of 1 epoch) / {epochs}",
        input_shape=list(INPUT_SHAPE),
    )


def package_loop_from_cache(n_images: int, epochs: int) -> dict:
    """images/s of :func:`gaitcnn.train.train` fed by :func:`gaitcnn.pipeline.dataset_from_cache`.

    Includes what the package does every epoch: validation, history, checkpoint saving.
    """
    from gaitcnn.cache import CacheWriter
    from gaitcnn.models import MODEL_BUILDERS, count_flops
    from gaitcnn.pipeline import dataset_from_cache
    from gaitcnn.train import TrainConfig, train

    x, y = _data(n_images)
    n_val = max(n_images // 10, 100)
    with tempfile.TemporaryDirectory(prefix="bench-loop-") as tmp:
        path = Path(tmp) / "cache.h5"
        with CacheWriter(path, INPUT_SHAPE, params={"bench": True}, source="bench") as writer:
            for s in range(N_CLASSES):
                sel = y == s
                writer.add_recording(
                    {
                        "key": f"s{s}",
                        "subject_id": s,
                        "session": "day1",
                        "walk": 0,
                        "source": "bench",
                        "n_timepoints": 0,
                        "n_skipped": 0,
                    },
                    x[sel],
                    np.flatnonzero(sel),
                )
            writer.commit()
        order = np.argsort(y, kind="stable")  # the writer grouped images by subject
        labels = y[order]
        idx = np.arange(n_images)
        config = TrainConfig.paper().replace(epochs=1 + epochs, verbose=0)
        result = train(
            lambda: MODEL_BUILDERS["paper_cnn"](INPUT_SHAPE, N_CLASSES),
            lambda epoch: dataset_from_cache(path, idx, labels, training=True, seed=epoch),
            (x[:n_val], y[:n_val]),
            config,
            out_dir=Path(tmp) / "run",
        )
        times = result.history["epoch_time_s"][1:]
        macs = count_flops(result.model)
    med = float(np.median(times))
    return _throughput_entry(
        "train.package_loop_from_cache.paper_cnn",
        n_images / med,
        macs,
        len(times),
        n_images=n_images,
        framework="gaitcnn.train.train + pipeline.dataset_from_cache",
        includes="per-epoch validation on 10% extra images, history, checkpoint saves",
        input_shape=list(INPUT_SHAPE),
    )


def training_scaling(base_images: int, repeats: int) -> dict:
    """Epoch time of a Keras fit of the paper CNN at 1x, 2x, 4x images; fitted log-log slope."""
    import keras

    from gaitcnn.models import MODEL_BUILDERS
    from gaitcnn.train import TrainConfig, compile_model

    sizes = [base_images, 2 * base_images, 4 * base_images]
    x, y = _data(sizes[-1])
    keras.utils.set_random_seed(0)
    model = MODEL_BUILDERS["paper_cnn"](INPUT_SHAPE, N_CLASSES)
    compile_model(model, TrainConfig.paper())
    model.fit(x[:200], y[:200], batch_size=100, epochs=1, verbose=0)  # warm-up / tracing
    secs = []
    for n in sizes:
        med, _ = median_time(
            lambda n=n: model.fit(x[:n], y[:n], batch_size=100, epochs=1, verbose=0),
            repeats,
            warmup=0,
        )
        secs.append(med)
    slope = float(np.polyfit(np.log(sizes), np.log(secs), 1)[0])
    return entry(
        "scaling.train_epoch.paper_cnn",
        slope,
        "log-log exponent",
        repetitions=repeats,
        sizes_images=sizes,
        seconds=secs,
        note="time ~ size^exponent; 1.0 is linear",
    )


def run(*, quick: bool = False) -> list[dict]:
    """All training entries; ``quick`` uses small data and few epochs (smoke use)."""
    n_images = 1000 if quick else 10_000
    epochs = 1 if quick else 3
    entries = [matmul_flops(size=1024 if quick else 2048, repeats=3 if quick else 5)]
    peak = entries[0]["figure"]
    for name in ("paper_cnn", "tcnn", "inception"):
        entries.append(keras_fit_throughput(name, n_images, epochs))
    entries.append(tflearn_throughput(n_images, epochs))
    entries.append(package_loop_from_cache(n_images, epochs))
    for e in entries:
        if "achieved_flops" in e:
            e["fraction_of_matmul_peak"] = e["achieved_flops"] / peak
    return entries


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
