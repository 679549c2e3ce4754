"""Benchmark: single-image inference latency (p50, p99) of the paper CNN as Keras, SavedModel and
TFLite, and the exported file sizes.

Run: ``python -m benchmarks.bench_inference`` (prints JSON). ``run()`` returns the entries.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from benchmarks._common import entry

INPUT_SHAPE = (32, 64, 2)
N_CLASSES = 20


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def run(*, quick: bool = False) -> list[dict]:
    """Latency entries (p50 as the figure, p99 beside it) and file sizes."""
    import keras
    import tensorflow as tf

    from gaitcnn.export import export_model, load_model, load_saved_model, load_tflite
    from gaitcnn.models import MODEL_BUILDERS, count_flops

    n_calls = 50 if quick else 500
    keras.utils.set_random_seed(0)
    model = MODEL_BUILDERS["paper_cnn"](INPUT_SHAPE, N_CLASSES)
    macs = count_flops(model)
    x = np.random.default_rng(0).random((1, *INPUT_SHAPE), dtype=np.float32)
    entries = []
    with tempfile.TemporaryDirectory(prefix="bench-infer-") as tmp:
        out = Path(tmp) / "export"
        export_model(model, out, formats=("keras", "savedmodel", "tflite"))
        keras_model = load_model(out / "model.keras")
        serve = tf.function(lambda t: keras_model(t, training=False), reduce_retracing=True)
        predictors = {
            "keras_eager_call": lambda: keras_model(x, training=False),
            "keras_tf_function": lambda: serve(tf.constant(x)),
            "keras_predict": lambda: keras_model.predict(x, verbose=0),
            "savedmodel": (lambda p: lambda: p(x))(load_saved_model(out / "savedmodel")),
            "tflite": (lambda p: lambda: p(x))(load_tflite(out / "model.tflite")),
        }
        for name, func in predictors.items():
            for _ in range(10):  # warm-up (tracing, allocation)
                func()
            times = []
            for _ in range(n_calls):
                start = time.perf_counter()
                func()
                times.append(time.perf_counter() - start)
            times_ms = np.array(times) * 1e3
            p50 = float(np.percentile(times_ms, 50))
            entries.append(
                entry(
                    f"inference.{name}.p50",
                    p50,
                    "ms",
                    repetitions=n_calls,
                    p99_ms=float(np.percentile(times_ms, 99)),
                    batch=1,
                    macs_per_image=macs,
                    achieved_flops=2 * macs / (p50 / 1e3),
                    input_shape=list(INPUT_SHAPE),
                    model="paper_cnn",
                )
            )
        for fmt, name in (
            ("keras", "model.keras"),
            ("savedmodel", "savedmodel"),
            ("tflite", "model.tflite"),
        ):
            entries.append(
                entry(
                    f"export.size.{fmt}",
                    _size(out / name) / 2**20,
                    "MB",
                    repetitions=1,
                    model="paper_cnn",
                    input_shape=list(INPUT_SHAPE),
                )
            )
    return entries


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
