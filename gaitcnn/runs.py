"""Train and evaluate an identification model on an image cache (``gaitcnn train/evaluate``).

The gallery sessions of the cache (``gallery`` on OU-ISIR, ``day1`` on McGill) train a K-class
model; the probe sessions (``probe``, ``day2``) evaluate it, per image and per sequence. The
paper's two experiments have their own drivers (:mod:`gaitcnn.authentication`,
:mod:`gaitcnn.labeling`); this is the general-purpose entry point behind the CLI.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from gaitcnn._atomic import write_json_atomic
from gaitcnn.cache import read_image_set

__all__ = [
    "GALLERY_SESSIONS",
    "PROBE_SESSIONS",
    "STRATEGIES",
    "evaluate_run",
    "make_strategy",
    "run_kind",
    "train_run",
]

logger = logging.getLogger(__name__)

#: Sessions used for training, and for probing, in each data set's own naming.
GALLERY_SESSIONS = ("gallery", "day1")
PROBE_SESSIONS = ("probe", "day2")

#: Length of the time blocks that keep neighbouring images on one side of the validation
#: split (images of consecutive cycles share samples, so a random image-level split leaks).
VALIDATION_BLOCK_S = 30.0


#: Names accepted by :func:`make_strategy` (and ``gaitcnn train --strategy``).
STRATEGIES = ("none", "mirrored", "multiworker")


def make_strategy(name: str):
    """Return the ``tf.distribute`` strategy called ``name`` (``None`` for ``"none"``).

    Parameters
    ----------
    name : {"none", "mirrored", "multiworker"}
        ``mirrored``: :class:`tf.distribute.MirroredStrategy` over all local devices.
        ``multiworker``: :class:`tf.distribute.MultiWorkerMirroredStrategy`, whose cluster and
        this process's role come from the ``TF_CONFIG`` environment variable (see
        ``docs/DISTRIBUTED.md``). Every worker runs the same command; each global batch of 100
        is split across the workers (Keras shards the input per batch), and gradients are
        all-reduced, so all workers hold identical weights.

    Raises
    ------
    ValueError
        For an unknown name, or ``multiworker`` without a valid ``TF_CONFIG``.
    """
    import os

    if name not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, received: {name!r}")
    if name == "none":
        return None
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise ValueError(
            "--strategy multiworker needs the TF_CONFIG environment variable (cluster worker "
            "addresses and this worker's index); see docs/DISTRIBUTED.md"
        )
    try:
        config = json.loads(raw)
        workers = config["cluster"]["worker"]
        index = int(config["task"]["index"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"TF_CONFIG is not valid cluster JSON ({exc}): {raw!r}") from exc
    if not 0 <= index < len(workers):
        raise ValueError(f"TF_CONFIG task index {index} is not among {len(workers)} workers")
    return tf.distribute.MultiWorkerMirroredStrategy()


def _validation_groups(image_set, rate_hz: float) -> np.ndarray:
    block = (image_set.starts // int(VALIDATION_BLOCK_S * rate_hz)).astype(np.int64)
    return image_set.recording_index.astype(np.int64) * 1_000_000 + block


def train_run(
    cache,
    out_dir,
    *,
    model_name: str = "paper_cnn",
    epochs: int = 50,
    seed: int = 0,
    validation_fraction: float = 0.1,
    resume: bool = False,
    overwrite: bool = False,
    hparams: dict | None = None,
    strategy=None,
    verbose: int = 1,
):
    """Train ``model_name`` to identify the subjects of the cache's gallery sessions.

    Parameters
    ----------
    cache : str or os.PathLike
        Image cache written by ``gaitcnn prepare``.
    out_dir : str or os.PathLike
        Run directory (see :func:`gaitcnn.train.train`).
    model_name : str, default="paper_cnn"
        A key of :data:`gaitcnn.models.MODEL_BUILDERS`.
    epochs : int, default=50
        [P] 50 epochs.
    seed : int, default=0
        Seed of the weights, the split, dropout and shuffling.
    validation_fraction : float, default=0.1
        Share of each subject's 30-s blocks held out to pick the best epoch.
    resume, overwrite : bool
        As in :func:`gaitcnn.train.train`.
    hparams : dict, optional
        Extra keyword arguments of the model builder.
    strategy : tf.distribute.Strategy, optional
        Distribution strategy (default none).
    verbose : int, default=1
        Keras progress output.

    Returns
    -------
    gaitcnn.train.TrainResult
    """
    from gaitcnn.models import MODEL_BUILDERS
    from gaitcnn.pipeline import split_by_recording
    from gaitcnn.train import TrainConfig, train, validation_split_indices

    if model_name not in MODEL_BUILDERS:
        raise ValueError(f"model must be one of {sorted(MODEL_BUILDERS)}, received: {model_name}")
    image_set = read_image_set(cache, load_images=False)  # rows are streamed from the file
    gallery = image_set.select(np.isin(image_set.sessions, GALLERY_SESSIONS))
    if len(gallery) == 0:
        raise ValueError(f"{cache}: no images in the gallery sessions {GALLERY_SESSIONS}")
    class_ids, labels = np.unique(gallery.subject_ids, return_inverse=True)
    rate_hz = float(image_set.params.get("rate_hz", 50.0))
    split = split_by_recording(
        _validation_groups(gallery, rate_hz),
        labels,
        validation_fraction=validation_fraction,
        seed=seed,
    )
    train_idx, val_idx = split.train, split.validation
    if len(val_idx) == 0:
        # Reconstruction: short walks (OU-ISIR, one ~6 s gallery walk per subject) have a
        # single block per subject, so no block can be held out; we then hold out single images,
        # whose samples overlap their neighbours': the best-epoch choice is optimistic.
        logger.warning(
            "every subject has a single %g-s block: validation images are drawn per image and "
            "overlap training images in time",
            VALIDATION_BLOCK_S,
        )
        train_idx, val_idx = validation_split_indices(
            labels, validation_fraction=validation_fraction, seed=seed
        )
    images = gallery.images
    builder = MODEL_BUILDERS[model_name]
    hparams = dict(hparams or {})
    input_shape = images.shape[1:]
    config = TrainConfig.paper().replace(epochs=epochs, seed=seed, verbose=verbose)
    metadata = {
        "task": "identification",
        "model": model_name,
        "hparams": hparams,
        "cache": str(Path(cache).resolve()),
        "class_names": [str(c) for c in class_ids],
        "preprocessing": image_set.params,
        "source": image_set.attrs.get("source"),
        "gallery_sessions": list(GALLERY_SESSIONS),
        "n_train_images": len(train_idx),
        "n_validation_images": len(val_idx),
    }
    return train(
        lambda: builder(input_shape, len(class_ids), **hparams),
        (images[train_idx], labels[train_idx]),
        (images[val_idx], labels[val_idx]),
        config,
        out_dir=out_dir,
        resume=resume,
        overwrite=overwrite,
        strategy=strategy,
        metadata=metadata,
    )


def run_kind(run_dir) -> str:
    """What wrote ``run_dir``: ``"train"``, ``"labeling"`` or ``"authentication"``.

    Raises
    ------
    FileNotFoundError
        Naming the folder and the files looked for, when it is none of them.
    """
    run_dir = Path(run_dir)
    if (run_dir / "model.gaitcnn").is_file() and (run_dir / "results.json").is_file():
        return "labeling"
    if (run_dir / "summary.json").is_file() and (run_dir / "runs").is_dir():
        return "authentication"
    if (run_dir / "config.json").is_file() and (
        (run_dir / "best.keras").is_file() or (run_dir / "final.keras").is_file()
    ):
        return "train"
    raise FileNotFoundError(
        f"{run_dir} is not a gaitcnn run: expected a training run (config.json and best.keras "
        "or final.keras), a labeling run (results.json and model.gaitcnn) or an "
        "authentication run (summary.json and runs/)"
    )


def evaluate_run(run_dir, *, which: str = "auto") -> dict:
    """Evaluate a training, labeling or authentication run; write ``run_dir/evaluation.json``.

    - a training run (:func:`train_run`) or a labeling run (``python -m gaitcnn.labeling``):
      its model identifies the probe images of its data, per image and per probe sequence;
    - an authentication run (``gaitcnn authenticate``): the table is recomputed from the stored
      per-classifier records, with the EER and ROC AUC of the pooled single-cycle scores.

    Parameters
    ----------
    run_dir : str or os.PathLike
    which : {"auto", "best", "final"}
        Training runs: the model to load (``auto``: best if kept, else final).

    Returns
    -------
    dict
        Identification runs: ``per_image`` and ``per_sequence`` metrics (accuracy, top-k, CMC),
        the numbers of probe images and sequences. Authentication runs: ``rows`` and
        ``pooled``.
    """
    run_dir = Path(run_dir)
    kind = run_kind(run_dir)
    if kind == "authentication":
        result = _evaluate_authentication(run_dir)
    elif kind == "labeling":
        result = _evaluate_labeling(run_dir)
    else:
        result = _evaluate_training(run_dir, which)
    result["run_kind"] = kind
    write_json_atomic(run_dir / "evaluation.json", result)
    return result


def _identification(proba, y, groups, n_classes: int) -> dict:
    """Per-image and per-sequence identification metrics of probe scores."""
    from gaitcnn.evaluate import identification_metrics
    from gaitcnn.fusion import fuse_by_sequence

    fused = fuse_by_sequence(proba, groups)
    return {
        "n_probe_images": len(y),
        "n_probe_sequences": len(fused.group_ids),
        "n_classes": int(n_classes),
        "per_image": identification_metrics(proba, y),
        "per_sequence": identification_metrics(fused.proba, y[fused.first_index]),
    }


def _run_metadata(run_dir: Path) -> dict:
    """The ``metadata`` of a :func:`train_run` folder's config.json, checked."""
    from gaitcnn._files import read_json_file
    from gaitcnn.errors import GaitDataError

    config_path = run_dir / "config.json"
    config = read_json_file(config_path, what="run configuration")
    meta = config.get("metadata") if isinstance(config, dict) else None
    needed = ("cache", "preprocessing", "class_names")
    missing = [key for key in needed if not isinstance(meta, dict) or key not in meta]
    if missing:
        raise GaitDataError(
            f"no metadata.{', metadata.'.join(missing)}: not a run of `gaitcnn train`",
            path=config_path,
        )
    return meta


def _evaluate_training(run_dir: Path, which: str) -> dict:
    from gaitcnn.evaluate import predict_proba
    from gaitcnn.export import load_model

    meta = _run_metadata(run_dir)
    model_file = run_dir / ("final.keras" if which == "final" else "best.keras")
    if which == "auto" and not model_file.exists():
        model_file = run_dir / "final.keras"
    model = load_model(model_file)
    image_set = read_image_set(meta["cache"], expected_params=meta["preprocessing"])
    probe = image_set.select(np.isin(image_set.sessions, PROBE_SESSIONS))
    class_ids = np.array([int(c) for c in meta["class_names"]])
    known = np.isin(probe.subject_ids, class_ids)
    if len(probe) == 0 or not known.any():
        raise ValueError(f"{meta['cache']}: no probe images of the trained subjects")
    probe = probe.select(known)
    y = np.searchsorted(class_ids, probe.subject_ids)
    result = _identification(predict_proba(model, probe.images), y, probe.recording_index,
                             len(class_ids))  # fmt: skip
    return {"model_file": str(model_file), "data": meta.get("source"), **result}


def _evaluate_labeling(run_dir: Path) -> dict:
    from gaitcnn.cache import CacheRows
    from gaitcnn.estimator import GaitModel
    from gaitcnn.labeling import make_split

    config = json.loads((run_dir / "config.json").read_text())
    protocol = config["labeling"]
    model = GaitModel.load(run_dir / "model.gaitcnn")
    meta = read_image_set(config["image_cache"], expected_params=config["prepare"],
                          load_images=False)  # fmt: skip
    split = make_split(meta, protocol["n_subjects"], protocol["seed"])
    scores = model.window_scores(CacheRows(config["image_cache"], split.probe_rows))
    result = _identification(scores, split.probe_labels[split.probe_owner], split.probe_owner,
                             len(model.classes_))  # fmt: skip
    return {"model_file": str(run_dir / "model.gaitcnn"), "data": config.get("data"), **result}


def _evaluate_authentication(run_dir: Path) -> dict:
    from gaitcnn.authentication import AuthConfig, aggregate
    from gaitcnn.evaluate import equal_error_rate, roc_auc

    summary = json.loads((run_dir / "summary.json").read_text())
    config = AuthConfig.from_dict(summary["config"])
    records = [json.loads(p.read_text()) for p in sorted((run_dir / "runs").glob("*.json"))]
    if not records:
        raise ValueError(f"{run_dir / 'runs'} holds no classifier records")
    pooled = {}
    for method in config.methods:
        for probe in ("same_day", "different_day"):
            scores, labels = [], []
            for record in records:
                stored = record["image_scores"].get(method, {}).get(probe)
                if stored is not None:
                    scores += stored
                    labels += [int(c) for c in record["results"][method][probe]["1"]["genuine"]]
            if scores:
                pooled[f"{method}/{probe}"] = {
                    "eer": equal_error_rate(scores, labels),
                    "auc": roc_auc(scores, labels),
                    "n_scores": len(scores),
                }
    return {"rows": aggregate(records, config), "pooled": pooled, "n_records": len(records)}
