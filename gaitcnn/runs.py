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
    image_set = read_image_set(cache)
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


def _run_metadata(run_dir: Path) -> dict:
    """The ``metadata`` of a :func:`train_run` folder's config.json; other folders are refused."""
    from gaitcnn._files import read_json_file
    from gaitcnn.errors import GaitDataError

    config_path = run_dir / "config.json"
    if not config_path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a training run (no config.json)")
    config = read_json_file(config_path, what="run configuration")
    meta = config.get("metadata") if isinstance(config, dict) else None
    needed = ("cache", "preprocessing", "class_names")
    missing = [key for key in needed if not isinstance(meta, dict) or key not in meta]
    if missing:
        raise GaitDataError(
            f"no metadata.{', metadata.'.join(missing)}: not a run of `gaitcnn train` (a "
            "labeling or authentication run keeps its results in results.json / summary.json)",
            path=config_path,
        )
    return meta


def evaluate_run(run_dir, *, which: str = "auto") -> dict:
    """Evaluate a run on the probe sessions of its cache, per image and per probe sequence.

    Parameters
    ----------
    run_dir : str or os.PathLike
        A directory written by :func:`train_run`.
    which : {"auto", "best", "final"}
        The model to load (``auto``: best if kept, else final).

    Returns
    -------
    dict
        ``per_image`` and ``per_sequence`` identification metrics (accuracy, top-k, CMC),
        the numbers of probe images and sequences, and the subjects of the probe that the
        model never saw (counted as errors). Also written to ``run_dir/evaluation.json``.
    """
    from gaitcnn.evaluate import fuse_by_sequence, identification_metrics, predict_proba
    from gaitcnn.export import load_model

    run_dir = Path(run_dir)
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
    proba = predict_proba(model, probe.images)
    per_image = identification_metrics(proba, y)
    fused = fuse_by_sequence(proba, probe.recording_index)
    per_sequence = identification_metrics(fused.proba, y[fused.first_index])
    result = {
        "model_file": str(model_file),
        "n_probe_images": len(probe),
        "n_probe_sequences": len(fused.group_ids),
        "n_classes": len(class_ids),
        "data": meta.get("source"),
        "per_image": per_image,
        "per_sequence": per_sequence,
    }
    write_json_atomic(run_dir / "evaluation.json", result)
    return result
