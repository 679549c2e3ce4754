"""Benchmark: verification of unseen users (issue 14) - embedding latency and streaming throughput.

- ``verification.tflite_window.p50``: one window through the TFLite embedding model (target
  under 1 ms);
- ``verification.walk_5s.<backend>.p50``: embed the 47 dense windows of a 5 s walk (step 4)
  and score them against a template (target under 50 ms on a warm CPU model);
- ``verification.stream_resample``: :class:`gaitcnn.stream.StreamingResampler` throughput on
  an irregular 100 Hz stream pushed in chunks of 10 samples.

These use :func:`gaitcnn.models.embedding.build_embedding_cnn` at its defaults (8 channels,
embedding 128) with random weights: latency does not depend on the weights. The end-to-end
entries use a verification-preset :class:`gaitcnn.GaitModel` (default network, one epoch on 6
simulated OU-ISIR subjects; the weights do not matter for the timing either):

- ``verification.export_tflite_window.p50``: one window through the embedding exported by
  :func:`gaitcnn.export.export_embedding` (TFLite, one thread);
- ``verification.verify_walk_5s.gaitmodel.p50``: ``GaitModel.verify(user, walk)`` on a 5 s
  walk (100 Hz, raw) with a warm Keras model: resampling, windows, embedding and the fused
  cosine score (target under 50 ms);
- ``verification.stream_walk_5s.tflite``: the same walk pushed in chunks of 10 samples
  through :meth:`gaitcnn.stream.StreamingVerifier.from_export` (total time per walk).

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
    entries += _gaitmodel_entries(quick)
    return entries


def _tiny_gaitmodel(tmp: Path):
    """A verification GaitModel (default network, 1 epoch), a user enrolled, a 5 s probe walk."""
    import dataclasses

    from gaitcnn import GaitModel, load_ouisir
    from gaitcnn.prepare import ensure_simulated

    root = ensure_simulated("ouisir", cache_dir=tmp / "sim", n_subjects=6, progress=False)
    recs = load_ouisir(root, subset="manual")
    subjects = sorted({r.subject_id for r in recs})
    model = GaitModel(preset="verification", epochs=1, seed=0)
    model.fit([r for r in recs if r.subject_id in subjects[:4]])
    held_out = [r for r in recs if r.subject_id in subjects[4:]]
    model.calibrate(
        [r for r in held_out if r.session == "gallery"],
        [r for r in held_out if r.session == "probe"],
    )
    gallery = next(r for r in held_out if r.session == "gallery")
    model.enrol("user", [gallery])
    probe = next(r for r in held_out if r.session == "probe")
    keep = probe.timestamps_s < probe.timestamps_s[0] + 5.0
    walk = dataclasses.replace(
        probe, timestamps_s=probe.timestamps_s[keep], acc=probe.acc[keep], gyr=probe.gyr[keep]
    )
    return model, walk


def _gaitmodel_entries(quick: bool) -> list[dict]:
    """Exported-embedding window latency, warm GaitModel.verify of a 5 s walk, stream of it."""
    from gaitcnn.export import export_embedding
    from gaitcnn.stream import StreamingVerifier, read_embedding_contract

    n_calls = 50 if quick else 300
    entries = []
    with tempfile.TemporaryDirectory(prefix="bench-verif-model-") as tmp:
        model, walk = _tiny_gaitmodel(Path(tmp))
        n_windows = len(model.windows([walk])[0])
        export_embedding(model, Path(tmp) / "export", formats=("tflite",))
        verifier = StreamingVerifier.from_export(
            Path(tmp) / "export", model.store.template("user"), num_threads=1
        )
        window = model.windows([walk])[0][:1, 0]  # (1, 64, n_columns)
        p50, p99 = _latency(lambda: verifier.embed(window), n_calls)
        entries.append(
            entry(
                "verification.export_tflite_window.p50", p50, "ms", repetitions=n_calls,
                p99_ms=p99, embedding_dim=int(model.store.template("user").shape[1]),
            )
        )  # fmt: skip
        p50, p99 = _latency(lambda: model.verify("user", walk), n_calls)
        entries.append(
            entry(
                "verification.verify_walk_5s.gaitmodel.p50", p50, "ms", repetitions=n_calls,
                p99_ms=p99, n_windows=n_windows, n_samples=int(walk.timestamps_s.size),
            )
        )  # fmt: skip

        contract = read_embedding_contract(Path(tmp) / "export")
        front = {
            "channels": contract["channels"],
            "width": contract["window_samples"],
            "step": contract["window_step_samples"],
        }

        def stream_walk():  # a fresh stream on the loaded interpreter
            stream = StreamingVerifier(verifier.embed, verifier.template, 0.0, **front)
            t, acc, gyr = walk.timestamps_s, walk.acc, walk.gyr
            for start in range(0, t.size, 10):
                stop = start + 10
                stream.push(t[start:stop], acc[start:stop], gyr[start:stop])
            stream.finish()

        seconds, _ = median_time(stream_walk, repeats=3 if quick else 10)
        entries.append(
            entry(
                "verification.stream_walk_5s.tflite", seconds * 1e3, "ms",
                repetitions=3 if quick else 10, chunk=10, n_windows=n_windows,
            )
        )  # fmt: skip
    return entries


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
