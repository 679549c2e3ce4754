"""Running the authentication protocol: one classifier per (subject, repetition), resumable
records, worker processes, and the summary table (see :mod:`gaitcnn.authentication`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gaitcnn._atomic import write_json_atomic
from gaitcnn.authentication._baselines import nn_scores, window_channels
from gaitcnn.authentication._config import (
    METRICS,
    PEER_METHODS,
    PROBES,
    RESULT_FORMAT_VERSION,
    AuthConfig,
)
from gaitcnn.authentication._split import derive_seed, eligible_subjects, make_split

__all__ = ["aggregate", "record_path", "run_authentication", "run_classifier"]


def _rounded(scores) -> list:
    return [round(float(v), 5) for v in scores]


def _score_probe(scores, labels, groups, fusion_n) -> dict:
    """Fused metrics per N plus the per-decision correct flags they were computed from."""
    from gaitcnn.evaluate import binary_metrics
    from gaitcnn.fusion import fuse_consecutive

    proba = np.stack([1.0 - scores, scores], axis=1)
    out = {}
    for n in fusion_n:
        fused = fuse_consecutive(proba, groups, int(n))
        s = fused.proba[:, 1]
        y = labels[fused.first_index]
        m = binary_metrics(s, y)
        correct = ((s > 0.5).astype(int) == y).astype(int)
        m["correct"] = "".join(map(str, correct))
        m["genuine"] = "".join(map(str, y.astype(int)))
        out[str(n)] = m
    return out


def _cnn_scores(image_set, features: dict, split, probes, config: AuthConfig, seed: int):
    """Train the classifier's CNN (a two-class :class:`gaitcnn.GaitModel`) and score probes.

    It reads the cached AE-GDIs, or with ``representation="raw"`` the raw windows at the same
    image starts (``features["ae_gdi_cnn"]``, :func:`raw_cnn_windows`): one trainer either way.
    """
    from gaitcnn.estimator import GaitModel

    if config.representation == "raw":
        images, channels = features["ae_gdi_cnn"], window_channels(image_set, config)
    else:
        images, channels = image_set.images, image_set.params["channels"]
    model = GaitModel.from_config(config.model_config(seed)).fit_images(
        images[split.train_idx], split.train_labels, classes=[0, 1], channels=channels,
        validation=(images[split.val_idx], split.val_labels) if split.val_idx.size else None,
    )  # fmt: skip
    scores = {name: model.window_scores(images[idx])[:, 1] for name, (idx, _, _) in probes.items()}
    return scores, model.best_epoch_


def run_classifier(image_set, features: dict, subject: int, rep: int, config: AuthConfig) -> dict:
    """Train and probe one classifier (and the baselines on the same split); returns the record."""
    started = time.perf_counter()
    split = make_split(
        image_set.subject_ids, image_set.sessions, image_set.recording_index, image_set.starts,
        subject, rep, config,
    )  # fmt: skip
    seed = derive_seed(config.seed, "train", subject, rep)
    probes = {"different_day": (split.diff_idx, split.diff_labels, split.diff_groups)}
    if split.same_idx is not None:
        probes["same_day"] = (split.same_idx, split.same_labels, split.same_groups)
    record = {
        "format_version": RESULT_FORMAT_VERSION,
        "subject": int(subject),
        "rep": int(rep),
        "seed": seed,
        "config_hash": config.classifier_hash(),
        "n_train": int(split.train_idx.size),
        "n_train_positive": int(split.train_labels.sum()),
        "n_validation": int(split.val_idx.size),
        "n_probe": {k: int(v[0].size) for k, v in probes.items()},
        "results": {},
        # per-image accept scores of every probe (probe order: genuine blocks, then impostor
        # blocks; labels in results[...]["1"]["genuine"]) - for score-distribution checks
        "image_scores": {},
    }
    method_scores = {}
    if "ae_gdi_cnn" in config.methods:
        method_scores["ae_gdi_cnn"], record["best_epoch"] = _cnn_scores(
            image_set, features, split, probes, config, seed
        )
    method_scores.update(_feature_scores(features, split, probes, config))
    for method, scores in method_scores.items():
        record["results"][method] = {
            name: _score_probe(scores[name], labels, groups, config.fusion_n)
            for name, (_, labels, groups) in probes.items()
        }
        record["image_scores"][method] = {name: _rounded(s) for name, s in scores.items()}
    record["wall_time_s"] = time.perf_counter() - started
    return record


def _feature_scores(features: dict, split, probes, config: AuthConfig) -> dict:
    """Accept scores of the baselines and peers that work on precomputed image features."""
    gallery = np.concatenate([split.train_idx, split.val_idx])
    gallery_labels = np.concatenate([split.train_labels, split.val_labels])
    out = {}
    for method, metric in (("cosine_gdi", "cosine"), ("segment_nn", "euclidean")):
        if method in config.methods:
            feats = features[method]
            out[method] = {
                name: nn_scores(feats[idx], feats[gallery], gallery_labels, metric)
                for name, (idx, _, _) in probes.items()
            }
    for peer in (m for m in config.methods if m in PEER_METHODS):
        from gaitcnn.peers.minirocket import ridge_accept_scores

        feats = features[peer]
        out[peer] = {
            name: ridge_accept_scores(feats[gallery], gallery_labels, feats[idx])
            for name, (idx, _, _) in probes.items()
        }
    return out


def record_path(out_dir, subject: int, rep: int) -> Path:
    """Where the record of (subject, rep) lives."""
    return Path(out_dir) / "runs" / f"subject{int(subject):03d}_rep{int(rep):02d}.json"


_WORKER_STATE: dict = {}


def _init_worker(image_set, features, threads: int) -> None:
    """Worker process set-up: TensorFlow thread pools, then the shared inputs (once)."""
    import tensorflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(1)
    from gaitcnn.train import quiet_tensorflow_logs

    quiet_tensorflow_logs()
    _WORKER_STATE.update(image_set=image_set, features=features)


def _run_in_worker(subject: int, rep: int, config: AuthConfig) -> dict:
    return run_classifier(
        _WORKER_STATE["image_set"], _WORKER_STATE["features"], subject, rep, config
    )


def _check_same_data(out_dir: Path, image_set) -> None:
    """Refuse to resume into a folder whose records came from another data set or cache.

    The first run writes ``data.json`` (source, parameters and size of the image set); a later
    run must find the same, so two data sets are never mixed in one table.
    """
    identity = {
        "source": str(image_set.attrs.get("source")),
        "params": image_set.params,
        "n_images": len(image_set),
        "n_recordings": len(image_set.recordings),
    }
    marker = out_dir / "data.json"
    if marker.exists():
        if json.loads(marker.read_text()) != json.loads(json.dumps(identity)):
            raise ValueError(
                f"{out_dir} holds results computed on another data set or image cache "
                f"(see {marker}); use a new output folder"
            )
        return
    write_json_atomic(marker, identity)


def run_authentication(
    image_set,
    config: AuthConfig,
    out_dir,
    *,
    features: dict | None = None,
    progress: Callable[[str], None] | None = print,
    workers: int = 1,
    threads_per_worker: int = 1,
) -> list:
    """Run the whole protocol; per-(subject, rep) records go to ``out_dir/runs`` (resumable).

    Parameters
    ----------
    image_set : gaitcnn.cache.ImageSet
        McGill AE-GDIs (sessions ``day1``/``day2``).
    config : AuthConfig
    out_dir : path
    features : dict, optional
        Per-image inputs from :func:`baseline_features`: required for a baseline or peer, and
        for the CNN with ``representation="raw"`` (its raw windows).
    progress : callable, optional
        Receives one line per classifier with an ETA.
    workers : int, default=1
        Classifiers trained at once. 1: in this process. More: in that many worker processes
        (spawned; each receives the image set and features once) with ``threads_per_worker``
        TensorFlow threads each. A classifier's result depends only on its (seed, subject,
        repetition) - not on the order or the process it ran in - up to floating-point
        round-off between thread counts.
    threads_per_worker : int, default=1
        Intra-op threads of each worker process (0: TensorFlow's default).

    Returns
    -------
    list of dict
        Every record, in (rep, subject) order.
    """
    out_dir = Path(out_dir)
    subjects = eligible_subjects(image_set, config)
    features = features or {}
    missing = [
        m
        for m in config.methods
        if (m != "ae_gdi_cnn" or config.representation == "raw") and m not in features
    ]
    if missing:
        raise ValueError(
            f"per-image inputs of {missing} are required (baseline_features(image_set, "
            f"segments, config)). Received: features for {sorted(features)}"
        )
    if workers < 1:
        raise ValueError(f"workers must be >= 1, received: {workers}")
    _check_same_data(out_dir, image_set)
    jobs = [(s, r) for r in range(config.n_repetitions) for s in subjects]
    records: dict = {}
    todo = []
    for s, r in jobs:
        path = record_path(out_dir, s, r)
        if path.exists():
            record = json.loads(path.read_text())
            if (
                record.get("config_hash") != config.classifier_hash()
                or record.get("format_version") != RESULT_FORMAT_VERSION
            ):
                raise ValueError(
                    f"{path} was computed with another configuration or version; use a new "
                    "output folder"
                )
            records[(s, r)] = record
        else:
            todo.append((s, r))
    started = time.perf_counter()
    n_done = 0
    for s, r in jobs:
        if (s, r) in records:
            n_done += 1
            if progress is not None:
                progress(
                    f"[{n_done}/{len(jobs)}] subject {s} rep {r}: {_accs(records[(s, r)])} "
                    "(done earlier, skipped)"
                )

    def finish(s, r, record):
        nonlocal n_done
        write_json_atomic(record_path(out_dir, s, r), record)
        records[(s, r)] = record
        n_done += 1
        if progress is not None:
            elapsed = time.perf_counter() - started
            n_fresh = n_done - (len(jobs) - len(todo))
            eta = (len(jobs) - n_done) * elapsed / n_fresh
            progress(
                f"[{n_done}/{len(jobs)}] subject {s} rep {r}: {_accs(record)} "
                f"({record['wall_time_s']:.1f} s; elapsed {elapsed:.0f} s, ETA {_fmt_eta(eta)})"
            )

    if workers == 1 or len(todo) <= 1:
        for s, r in todo:
            finish(s, r, run_classifier(image_set, features, s, r, config))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(
            max_workers=min(workers, len(todo)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(image_set, features, threads_per_worker),
        ) as pool:
            futures = {pool.submit(_run_in_worker, s, r, config): (s, r) for s, r in todo}
            try:
                for future in as_completed(futures):
                    finish(*futures[future], future.result())
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    return [records[job] for job in jobs]


def _accs(record: dict) -> str:
    first = next(iter(record["results"].values()))
    return " ".join(f"{p}@1={first[p]['1']['accuracy']:.3f}" for p in PROBES if p in first)


def _fmt_eta(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "?"
    m, s = divmod(round(seconds), 60)
    return f"{m}m{s:02d}s"


def aggregate(records: list, config: AuthConfig) -> list:
    """Table rows: one per (method, probe, N) with mean and sd over repetitions.

    A repetition's figure is the mean over its subjects' classifiers; the row reports the mean
    and the sample sd (ddof=1; 0 with one repetition) of those per-repetition figures, plus the
    number of decisions pooled over all classifiers.
    """
    rows = []
    for method in config.methods:
        for probe in PROBES:
            for n in config.fusion_n:
                per_rep: dict = {}
                n_dec = 0
                for rec in records:
                    m = rec["results"].get(method, {}).get(probe, {}).get(str(n))
                    if m is None:
                        continue
                    per_rep.setdefault(rec["rep"], []).append(m)
                    n_dec += len(m["correct"])
                if not per_rep:
                    continue
                row = {"method": method, "probe": probe, "N": n, "n_repetitions": len(per_rep)}
                row["n_classifiers"] = sum(len(v) for v in per_rep.values())
                row["n_decisions"] = n_dec
                for metric in METRICS:
                    vals = np.array(
                        [np.nanmean([m[metric] for m in ms]) for ms in per_rep.values()]
                    )
                    row[f"{metric}_mean"] = float(np.mean(vals))
                    row[f"{metric}_sd"] = float(np.std(vals, ddof=1)) if vals.size > 1 else 0.0
                rows.append(row)
    return rows
