"""One labeling run: data -> cache -> split -> :class:`gaitcnn.GaitModel` -> fused decisions.

Every method - the paper's rows, the improved preset and the peers - takes this same path: the
front end of the model builds (or reuses) the HDF5 cache, :func:`make_split` draws the subjects,
the model trains on the gallery rows streamed from the cache, and the probe walks are labelled
by the model's fusion of their windows.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from gaitcnn._atomic import write_csv_atomic, write_json_atomic
from gaitcnn.errors import GaitDataError
from gaitcnn.labeling._protocol import (
    MAX_PROBE_WINDOWS,
    PAPER_N_SUBJECTS,
    LabelingParams,
    make_split,
    sequence_rows,
    summarise,
)
from gaitcnn.provenance import peak_rss_mb, run_metadata

__all__ = ["SIMULATION_SEED", "resolve_data", "run_labeling"]

logger = logging.getLogger(__name__)

#: Seed of the simulated data set; fixed so every run (any --seed) sees the same "data set",
#: as with real data. ``--seed`` controls the subject draw, the weights and the shuffling.
SIMULATION_SEED = 0


def resolve_data(data_root, cache_dir, n_simulated: int, variant: str = "default",
                 sensor: str | None = None):  # fmt: skip
    """The data root, its label for results (``"simulated"``...), and the cache's source text.

    Without ``data_root``, a simulated OU-ISIR-like set of ``n_simulated`` subjects (simulator
    ``variant``) in the real file format, with the manual-subset ``sensor``'s walks too.
    """
    from gaitcnn.prepare import ensure_simulated

    if data_root is None:
        root = ensure_simulated(
            "ouisir", cache_dir=cache_dir, seed=SIMULATION_SEED, n_subjects=n_simulated,
            variant=variant, sensors=(sensor or "center",),
        )  # fmt: skip
        label = "simulated" if variant == "default" else f"simulated-{variant}"
        return root, label, f"{label} ({root.name})"
    return Path(data_root), str(Path(data_root).resolve()), None


def data_channels(params: LabelingParams, root) -> tuple[tuple[str, ...], str]:
    """The channels of the run: the model's, adapted to whether the data have a gyroscope.

    The paper's rule (:func:`gaitcnn.presets.channels_for_data`): without a gyroscope - OU-ISIR's
    Android walks, most phones - every preset reads its accelerometer-only variant; the choice
    is logged and recorded in ``results.json`` (``channels``). Judged from the first recording;
    :func:`check_one_kind_of_sensor` then checks all of them.
    """
    from gaitcnn.prepare import first_recording_has_gyroscope
    from gaitcnn.presets import channels_for_data

    has_gyro, source = first_recording_has_gyroscope("ouisir", root, params.prepare_params())
    return channels_for_data(params.model, [has_gyro], [source]), source


def _mixed_sensors(with_gyro: str, without: str):
    from gaitcnn.errors import GaitDataError

    return GaitDataError(
        f"the data mix recordings with a gyroscope (e.g. {with_gyro}) and without one (e.g. "
        f"{without}); ask for accelerometer-only channels (--channels acc)"
    )


def check_one_kind_of_sensor(recordings: list[dict], explicit_acc_only: bool) -> None:
    """Refuse a data set that mixes recordings with and without a gyroscope (naming one of
    each), unless the user asked for accelerometer-only channels."""
    kinds = {bool(r.get("has_gyr", True)): r["source"] for r in recordings}
    if len(kinds) == 2 and not explicit_acc_only:
        raise _mixed_sensors(kinds[True], kinds[False])


def method_label(params: LabelingParams, channels=None) -> str:
    """Name of the run in tables: the method's, or the preset's with its front end."""
    from gaitcnn.registry import METHODS, PEERS

    model = params.model
    if model.is_peer:
        return PEERS[model.method].label
    reference = model.from_preset("paper", method=model.method)
    front_end = ("representation", "segmentation", "dense_step", "channels", "width", "edge")
    if model.preset == "paper" and all(
        getattr(model, f) == getattr(reference, f) for f in (*front_end, "network")
    ):
        return METHODS[model.method].label
    prep = params.prepare_params(channels=channels)
    images = prep.segmentation + (f"/{prep.dense_step}" if prep.dense_step else "")
    augment = "" if model.augment == "none" else f", augment={model.augment}"
    return (
        f"{model.preset.capitalize()} preset ({images} {prep.representation} "
        f"[{'+'.join(prep.channels)}], N_w={prep.width}, {model.network_name}{augment})"
    )


def _probe_scores(model, cache: Path, split):
    from gaitcnn.cache import CacheRows

    if split.probe_rows.size == 0:
        return np.zeros((0, len(model.classes_)))
    return model.window_scores(CacheRows(cache, split.probe_rows))


def _fusions(model, scores, split) -> dict:
    """Whole-sequence fusion and the first-N fusions of Figure 8."""
    n_seq = len(split.probe_sequences)
    return {
        "all": model.fuse(scores, split.probe_owner, n_seq),
        "by_n": {
            n: model.fuse(scores, split.probe_owner, n_seq, max_windows=n)
            for n in range(1, MAX_PROBE_WINDOWS + 1)
        },
    }


def _model_info(model) -> dict:
    info: dict[str, Any] = {"params": model.n_params, "model_size_bytes": None}
    backend = model._fitted()
    if backend.kind in ("network", "hybrid"):
        from gaitcnn.models import count_flops

        info["multiply_adds"] = int(sum(count_flops(m) for m in backend.models))
        info["input_shape"] = backend.input_shape
        info["model_hparams"] = backend.hparams
    choice = getattr(backend, "choice", None)
    if choice is not None:  # channels="auto": the set the training walks chose
        info["model_channels"] = list(choice.channels)
        info["gravity_spread_deg"] = choice.spread_deg
    return info


def run_labeling(
    params: LabelingParams,
    *,
    out_dir,
    data_root=None,
    cache_dir=None,
    n_simulated: int = PAPER_N_SUBJECTS,
    simulation_variant: str = "default",
    workers: int = 1,
    verbose: int = 0,
    progress: bool = False,
) -> dict[str, Any]:
    """Run one labeling experiment and write its results to ``out_dir``.

    Parameters
    ----------
    params : LabelingParams
    out_dir : str or os.PathLike
        Receives ``results.json``, ``config.json``, ``sequences.csv`` (one row per probe
        sequence, with its ``correct`` flag), ``probe_scores.npz`` (every probe window's scores)
        and ``model.gaitcnn`` (the trained model).
    data_root : str or os.PathLike, optional
        Real OU-ISIR root; None simulates ``n_simulated`` OU-ISIR-like subjects.
    cache_dir : str or os.PathLike, optional
        Simulated data and image caches (default :func:`gaitcnn.prepare.default_cache_dir`).
    n_simulated : int, default=744
        Subjects of the simulated data set (ignored with ``data_root``).
    simulation_variant : str, default="default"
        Simulator variant (ignored with ``data_root``).
    workers : int, default=1
        Processes for image preparation.
    verbose : int, default=0
        Keras progress output.
    progress : bool, default=False
        Progress bar while preparing images.

    Returns
    -------
    dict
        The content of ``results.json``: ``accuracy`` (share of probe sequences whose fused
        scores rank the true subject first; sequences without images count as errors),
        ``top5``, ``cmc``, ``accuracy_by_n``, model size and cost, times, memory.
    """
    from gaitcnn.cache import CacheRows
    from gaitcnn.estimator import GaitModel

    started = time.perf_counter()
    out_dir = Path(out_dir)
    cache, meta, prep, split, root, data_label = _prepared_split(
        params, data_root, cache_dir, n_simulated, simulation_variant, workers, progress
    )
    prepare_s = time.perf_counter() - started

    model = GaitModel.from_config(params.model, verbose=verbose)
    train_started = time.perf_counter()
    model.fit_images(
        CacheRows(cache, split.gallery_rows), split.gallery_labels, classes=split.chosen,
        channels=prep.channels, groups=meta.recording_index[split.gallery_rows],
    )  # fmt: skip
    train_s = time.perf_counter() - train_started
    if params.model.framework == "tflearn":  # end the tflearn process: its memory then counts
        from gaitcnn.models._tflearn_process import shutdown

        shutdown()
    scores = _probe_scores(model, cache, split)
    fused = _fusions(model, scores, split)

    results = {
        "experiment": "OU-ISIR gait labeling (paper section 4.2)",
        "method": params.model.method,
        "method_label": method_label(params, prep.channels),
        "preset": params.model.preset,
        "fusion": params.model.fusion,
        "channels": list(prep.channels),
        "framework": params.model.framework,
        "precision": params.model.precision,
        "global_clipnorm": params.model.global_clipnorm,
        "augment": params.model.augment,
        "data": data_label,
        "simulated": data_root is None,
        **summarise(fused["all"], split.probe_labels, fused["by_n"]),
        "n_subjects": int(split.chosen.size),
        "n_subjects_requested": params.n_subjects,
        "n_subjects_available": len(split.pool),
        "n_gallery_walks": split.n_gallery_walks,
        "n_gallery_images": int(split.gallery_rows.size),
        "n_classes_without_gallery_images": len(split.classes_without_gallery),
        "n_probe_images": int(split.probe_rows.size),
        **_model_info(model),
        "model": params.model.network_name or params.model.method,
        "epochs": params.model.epochs,
        "seed": params.seed,
        "prepare_time_s": prepare_s,
        "train_time_s": train_s,
        "notes": _notes(params, split, data_label),
        "image_cache": str(cache),
    }
    if params.model.scores_are_probabilities:
        results["accuracy_by_fusion"] = _accuracy_by_fusion(scores, split)
    model_path = model.save(out_dir / "model.gaitcnn", overwrite=True)
    results["model_size_bytes"] = model_path.stat().st_size
    results["wall_time_s"] = time.perf_counter() - started
    results["peak_memory"] = peak_rss_mb()
    _write_outputs(out_dir, params, prep, split, fused["all"], scores, results, root, data_root)
    return results


def _prepared_split(params, data_root, cache_dir, n_simulated, variant, workers, progress):
    """Prepare (or reuse) the image cache of the run's data and draw the subjects.

    Returns ``(cache path, cache metadata, PrepareParams, LabelingSplit, data root, data
    label)``.
    """
    from gaitcnn.cache import read_image_set
    from gaitcnn.prepare import default_cache_dir, prepare_dataset

    if params.model.needs_peers:  # fail before touching any data when aeon is missing
        from gaitcnn.peers.minirocket import require_aeon

        require_aeon()
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    root, data_label, source = resolve_data(
        data_root, cache_dir, n_simulated, variant, params.sensor
    )
    channels, first = data_channels(params, root)
    prep = params.prepare_params(channels=channels)
    try:
        cache = prepare_dataset(prep, root, cache_dir=cache_dir, source=source, workers=workers,
                                progress=progress)  # fmt: skip
    except GaitDataError as exc:
        if "has no gyroscope" not in exc.problem:
            raise
        raise _mixed_sensors(first, exc.path) from exc
    meta = read_image_set(cache, expected_params=prep.to_dict(), load_images=False)
    asked = params.model.channels
    check_one_kind_of_sensor(meta.recordings, asked is not None and not any(
        c.startswith("gyr") for c in asked))  # fmt: skip
    return cache, meta, prep, make_split(meta, params.n_subjects, params.seed), root, data_label


def _accuracy_by_fusion(scores, split) -> dict[str, float]:
    from gaitcnn.fusion import FUSIONS, class_ranks, fuse

    n_seq = len(split.probe_sequences)
    return {
        name: float((class_ranks(fuse(scores, split.probe_owner, n_seq, method=name).scores,
                                 split.probe_labels) == 1).mean()) if n_seq else float("nan")
        for name in FUSIONS
    }  # fmt: skip


def _notes(params: LabelingParams, split, data_label: str) -> list[str]:
    notes = []
    if params.n_subjects > len(split.pool):
        msg = (
            f"--subjects {params.n_subjects} exceeds the {len(split.pool)} subjects with both a "
            f"gallery and a probe walk in {data_label}; using all {len(split.pool)}"
        )
        logger.warning(msg)
        notes.append(msg)
    if split.classes_without_gallery:
        notes.append(
            f"{len(split.classes_without_gallery)} drawn subjects have no gallery image (their "
            "walks gave no image); they stay classes of the model"
        )
    return notes


def _write_outputs(out_dir, params, prep, split, fused, scores, results, root, data_root):
    keys = np.array(split.probe_sequences, dtype=str)
    write_csv_atomic(out_dir / "sequences.csv", sequence_rows(split, fused),
                     fieldnames=None if split.probe_sequences else ["sequence"])  # fmt: skip
    buffer_path = out_dir / "probe_scores.npz"
    np.savez_compressed(
        buffer_path.with_suffix(".tmp.npz"),
        scores=np.asarray(scores, np.float32),
        sequence=keys[split.probe_owner] if keys.size else keys,
        classes=split.chosen,
    )
    buffer_path.with_suffix(".tmp.npz").replace(buffer_path)
    write_json_atomic(out_dir / "results.json", results)
    write_json_atomic(
        out_dir / "config.json",
        {
            "labeling": params.to_dict(),
            "prepare": prep.to_dict(),
            "train": params.model.train_config().to_dict() if not params.model.is_peer else None,
            "data": results["data"],
            "data_root": str(root),
            "simulation_seed": SIMULATION_SEED if data_root is None else None,
            "subjects": split.chosen.tolist(),
            "image_cache": results["image_cache"],
            **run_metadata(),
        },
    )
