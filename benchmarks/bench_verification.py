"""Benchmark: verification of unseen users (issue 14) - embedding latency and streaming throughput.

- ``verification.tflite_window.p50``: one window through the TFLite embedding model (target
  under 1 ms);
- ``verification.walk_5s.<backend>.p50``: embed the 47 dense windows of a 5 s walk (step 4)
  and score them against a template (target under 50 ms on a warm CPU model);
- ``verification.stream_resample``: :class:`gaitcnn.stream.StreamingResampler` throughput on
  an irregular 100 Hz stream pushed in chunks of 10 samples.

The network is :func:`gaitcnn.models.embedding.build_embedding_cnn` at its defaults (8
channels, embedding 128) with random weights: latency does not depend on the weights.

Run: ``python -m benchmarks.bench_verification`` (prints JSON). ``run()`` returns the entries.
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

from benchmarks._common import entry, median_time

WINDOW_SHAPE = (64, 8)
N_WALK_WINDOWS = 47  # a 5 s walk at 50 Hz: starts 0, 4, ..., 186


def _latency(func, n_calls: int) -> tuple[float, float]:
    for _ in range(10):
        func()
    times = []
    for _ in range(n_calls):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    times_ms = np.array(times) * 1e3
    return float(np.percentile(times_ms, 50)), float(np.percentile(times_ms, 99))


def _stream_entry(quick: bool) -> dict:
    from gaitcnn.stream import StreamingResampler

    rng = np.random.default_rng(0)
    n = 6_000 if quick else 60_000
    t = np.cumsum(rng.uniform(0.008, 0.012, size=n))
    values = rng.normal(size=(n, 6))

    def push_all():
        resampler = StreamingResampler()
        for start in range(0, n, 10):
            resampler.push(t[start : start + 10], values[start : start + 10])
        resampler.finish()

    seconds, _ = median_time(push_all, repeats=3)
    return entry(
        "verification.stream_resample", n / seconds, "input samples/s", repetitions=3, chunk=10
    )


def run(*, quick: bool = False) -> list[dict]:
    """Latency entries (p50 as the figure, p99 beside it) and the streaming throughput."""
    import keras
    import tensorflow as tf

    from gaitcnn.export import export_model, load_tflite
    from gaitcnn.models.embedding import build_embedding_cnn
    from gaitcnn.verification import make_template, score_walks

    n_calls = 50 if quick else 300
    keras.utils.set_random_seed(0)
    model = build_embedding_cnn(WINDOW_SHAPE, seed=0)
    rng = np.random.default_rng(0)
    window = rng.normal(size=(1, *WINDOW_SHAPE)).astype(np.float32)
    walk = rng.normal(size=(N_WALK_WINDOWS, *WINDOW_SHAPE)).astype(np.float32)
    template = make_template(rng.normal(size=(5, 128)))
    entries = []
    with tempfile.TemporaryDirectory(prefix="bench-verif-") as tmp:
        written = export_model(model, Path(tmp), formats=("tflite",))
        tflite = load_tflite(written["tflite"], num_threads=1)
        p50, p99 = _latency(lambda: tflite(window), n_calls)
        entries.append(
            entry("verification.tflite_window.p50", p50, "ms", repetitions=n_calls, p99_ms=p99)
        )
        serve = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        backends = {
            "keras_tf_function": lambda: np.asarray(serve(tf.constant(walk))),
            "tflite": lambda: tflite(walk),
        }
        for name, embed in backends.items():
            p50, p99 = _latency(lambda embed=embed: score_walks([embed()], [template]), n_calls)
            entries.append(
                entry(
                    f"verification.walk_5s.{name}.p50",
                    p50,
                    "ms",
                    repetitions=n_calls,
                    p99_ms=p99,
                    n_windows=N_WALK_WINDOWS,
                )
            )
    entries.append(_stream_entry(quick))
    return entries


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
