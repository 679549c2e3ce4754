"""Experiment: gait labeling (identification) on OU-ISIR, paper section 4.2 (Table 2, Figs 7-9).

Run as ``python -m gaitcnn.labeling --subjects 744`` (or ``gaitcnn label``). One K-class CNN is
trained on the gallery images of K randomly drawn subjects; every probe *sequence* is labelled
by the mean softmax over its images (PAPER_SPEC 2.2). Without ``--data-root`` the run uses a
simulated OU-ISIR-like data set in the real file format, and every output says so.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import logging
import os
import platform
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import numpy as np

__all__ = [
    "METHODS",
    "LabelingParams",
    "MethodSpec",
    "draw_subjects",
    "labeling_command",
    "probe_sequence_ids",
    "run_labeling",
    "sequence_decisions",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MethodSpec:
    """One row of Table 2: how images are made and which network labels them.

    Attributes
    ----------
    label : str
        Name used in tables and plots.
    representation : str
        :class:`gaitcnn.prepare.PrepareParams` ``representation``.
    segmentation : str
        :class:`gaitcnn.prepare.PrepareParams` ``segmentation``.
    model : str
        Key of :data:`gaitcnn.models.MODEL_BUILDERS`.
    """

    label: str
    representation: str
    segmentation: str
    model: str


#: The five compared methods (paper Table 2 plus our Inception ablation, PAPER_SPEC 1.6).
METHODS: dict[str, MethodSpec] = {
    # Method 1 [P]: fixed overlapping windows instead of GGGD cycle starts (1.28 s windows,
    # 0.5 s overlap), same AE-GDI and CNN.
    "method1": MethodSpec(
        "Method 1 (overlap windows + AE-GDI + CNN)", "ae_gdi", "overlap", "paper_cnn"
    ),
    # Method 2 [P]: Zhong & Deng's GDI (orientation- but not translation/scale-invariant).
    "method2": MethodSpec("Method 2 (GGGD + GDI + CNN)", "gdi", "gggd", "paper_cnn"),
    # Method 3 [P]: AE-GDI read as a multivariate time series by the temporal CNN.
    "method3": MethodSpec("Method 3 (GGGD + AE-GDI + TCNN)", "ae_gdi", "gggd", "tcnn"),
    "proposed": MethodSpec("Proposed (GGGD + AE-GDI + CNN)", "ae_gdi", "gggd", "paper_cnn"),
    # Beyond the paper: the Inception ablation of the design card (PAPER_SPEC 1.6).
    "inception": MethodSpec(
        "Inception ablation (GGGD + AE-GDI + Inception)", "ae_gdi", "gggd", "inception"
    ),
}

#: The paper's full OU-ISIR labeling set (automatic-extraction subset).
PAPER_N_SUBJECTS = 744
#: Seed of the simulated data set; fixed so every run (any --seed) sees the same "data set",
#: as with real data. ``--seed`` controls the subject draw, the weights and the shuffling.
SIMULATION_SEED = 0
#: Largest N (probe images per sequence) reported in ``accuracy_by_n`` (Figure 8).
MAX_PROBE_IMAGES = 6


@dataclass(frozen=True)
class LabelingParams:
    """Resolved settings of one labeling run (saved as ``config.json``).

    Attributes
    ----------
    n_subjects : int
        K, the number of subjects drawn (classes of the CNN). [P] 744 at most.
    method : str
        Key of :data:`METHODS`.
    subset : str
        OU-ISIR subset: ``"auto"``, ``"automatic"`` (seq0 -> seq1) or ``"manual"``
        (Walk1 -> Walk2).
    sensor : str or None
        Manual-subset sensor (``"center"``, ``"left"``, ``"right"``); None = centre IMU.
    epochs : int
        [P] 50.
    seed : int
        Subject draw, initial weights, dropout and shuffling.
    edge : str
        ``"strict"`` (paper preset) or ``"pad"`` (PAPER_SPEC 1.4).
    model_hparams : dict
        Extra keyword arguments of the model builder (Figure 9 sweeps, tiny test models).
    batch_size : int
        [P] 100.
    """

    n_subjects: int = PAPER_N_SUBJECTS
    method: str = "proposed"
    subset: str = "auto"
    sensor: str | None = None
    epochs: int = 50  # [P] 50 epochs
    seed: int = 0
    edge: str = "strict"  # [P] paper preset: skip cycle starts without the full image margin
    model_hparams: dict = field(default_factory=dict)
    batch_size: int = 100  # [P] mini-batches of 100

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {tuple(METHODS)}, received: {self.method!r}")
        if not (isinstance(self.n_subjects, int) and self.n_subjects >= 2):
            raise ValueError(f"n_subjects must be an integer >= 2, received: {self.n_subjects!r}")
        if self.subset not in ("auto", "automatic", "manual"):
            raise ValueError(f"subset must be auto|automatic|manual, received: {self.subset!r}")
        if self.edge not in ("strict", "pad"):
            raise ValueError(f"edge must be strict|pad, received: {self.edge!r}")

    def prepare_params(self):
        """The :class:`gaitcnn.prepare.PrepareParams` of this method (acc + gyro, 2 channels)."""
        from gaitcnn.prepare import PrepareParams

        spec = METHODS[self.method]
        return PrepareParams.paper(
            "ouisir",
            representation=spec.representation,
            segmentation=spec.segmentation,
            edge=self.edge,
            subset=self.subset,
            sensor=self.sensor,
        )

    def to_dict(self) -> dict:
        """Plain JSON-able dict."""
        return json.loads(json.dumps(dataclasses.asdict(self)))


# --------------------------------------------------------------------------------------------
# Pure helpers (numpy only)
# --------------------------------------------------------------------------------------------


def draw_subjects(pool, k: int, seed: int) -> np.ndarray:
    """Draw ``k`` subjects at random from ``pool``, reproducibly and nested in ``k``.

    The draw is the first ``k`` entries of one seeded permutation of the sorted pool, so for a
    fixed seed the subjects of a smaller K are a subset of those of a larger K (Figure 7 then
    compares nested galleries, not unrelated ones).

    Parameters
    ----------
    pool : array-like of int, shape (n_pool,)
        Candidate subject ids (duplicates are ignored).
    k : int
        Number wanted; when it exceeds the pool, the whole pool is returned.
    seed : int
        Seed of the permutation.

    Returns
    -------
    np.ndarray of int64, shape (min(k, n_pool),)
        The chosen subject ids, sorted (class index = position).
    """
    pool = np.unique(np.asarray(pool, dtype=np.int64))
    if k < 1:
        raise ValueError(f"k must be >= 1, received: k={k!r}")
    order = np.random.default_rng(seed).permutation(pool.size)
    return np.sort(pool[order[: min(k, pool.size)]])


def probe_sequence_ids(recordings: list[dict], recording_index: np.ndarray) -> np.ndarray:
    """Sequence key (``"<subject>/<session>/<walk>"``) of each image.

    A recording split by a long gap gives several cache segments with the same key; they are
    one sequence (one walk) for labelling.
    """
    keys = np.array([r["key"] for r in recordings], dtype=object)
    return keys[np.asarray(recording_index)]


def sequence_decisions(
    proba: np.ndarray,
    image_sequence: np.ndarray,
    sequences: list[str],
    max_images: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean softmax of each probe sequence over (the first ``max_images`` of) its images.

    Parameters
    ----------
    proba : np.ndarray, shape (n_images, n_classes)
        Per-image softmax outputs, images of a sequence in temporal order.
    image_sequence : np.ndarray, shape (n_images,)
        Sequence key of each image.
    sequences : list of str
        Every probe sequence to decide, including those without any image.
    max_images : int, optional
        N of Figure 8: use only the first N images of each sequence (all when it has fewer).

    Returns
    -------
    fused : np.ndarray, shape (n_sequences, n_classes)
        Mean softmax; a row of NaN for a sequence with no image.
    n_used : np.ndarray of int, shape (n_sequences,)
        Images averaged per sequence (0: no image, the sequence counts as an error).
    """
    proba = np.asarray(proba, dtype=np.float64)
    image_sequence = np.asarray(image_sequence, dtype=object)
    fused = np.full((len(sequences), proba.shape[1]), np.nan)
    n_used = np.zeros(len(sequences), dtype=np.int64)
    position = {s: i for i, s in enumerate(sequences)}
    members: dict[int, list[int]] = {}
    for image, key in enumerate(image_sequence):
        if key in position:
            members.setdefault(position[key], []).append(image)
    for row, images in members.items():
        if max_images is not None:
            images = images[:max_images]
        fused[row] = proba[images].mean(axis=0)
        n_used[row] = len(images)
    return fused, n_used


def ranks_with_missing(fused: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """1-based rank of the true class per decision; ``n_classes + 1`` for a NaN row (no image).

    Ties are broken towards the lower class index, like ``np.argmax``
    (:func:`gaitcnn.evaluate.true_class_ranks`).
    """
    fused = np.asarray(fused, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.int64)
    n, n_classes = fused.shape
    ranks = np.full(n, n_classes + 1, dtype=np.int64)
    ok = ~np.isnan(fused).any(axis=1)
    if ok.any():
        from gaitcnn.evaluate import true_class_ranks

        ranks[ok] = true_class_ranks(fused[ok], y_true[ok])
    return ranks


def cmc_from_ranks(ranks: np.ndarray, n_classes: int) -> np.ndarray:
    """CMC curve: entry r-1 = share of decisions ranked r or better (missing never counted)."""
    ranks = np.asarray(ranks)
    if ranks.size == 0:
        return np.full(n_classes, np.nan)
    return np.array([(ranks <= r).mean() for r in range(1, n_classes + 1)])


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def _peak_rss_mb() -> dict[str, float]:
    """Peak resident memory of this process and of its finished children (Linux: KiB)."""
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 1024**2
    return {
        "self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale,
        "children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale,
    }


def _image_cache_dir(cache_dir: Path, root: Path) -> Path:
    # Reconstruction: gaitcnn.cache names a cache by its parameters only, not by its data root,
    # so two data sets (e.g. simulated with 20 and with 744 subjects) would share one file. We
    # keep one image-cache folder per data root to make that impossible here.
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:8]
    return cache_dir / "labeling-images" / f"{root.name}-{digest}"


def _resolve_data(data_root, cache_dir: Path, n_simulated: int) -> tuple[Path, str, str | None]:
    from gaitcnn.prepare import ensure_simulated

    if data_root is None:
        root = ensure_simulated(
            "ouisir", cache_dir=cache_dir, seed=SIMULATION_SEED, n_subjects=n_simulated
        )
        return root, "simulated", f"simulated ({root.name})"
    return Path(data_root), str(Path(data_root).resolve()), None


def _write_csv(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["sequence"])
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _versions() -> dict:
    from importlib import metadata

    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in ("gaitcnn", "tensorflow-cpu", "tensorflow", "keras", "numpy", "h5py"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def run_labeling(
    params: LabelingParams,
    *,
    out_dir,
    data_root=None,
    cache_dir=None,
    n_simulated: int = PAPER_N_SUBJECTS,
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
        sequence, with its ``correct`` flag) and ``train/`` (the training run).
    data_root : str or os.PathLike, optional
        Real OU-ISIR root; None simulates ``n_simulated`` OU-ISIR-like subjects.
    cache_dir : str or os.PathLike, optional
        Simulated data and image caches (default :func:`gaitcnn.prepare.default_cache_dir`).
    n_simulated : int, default=744
        Subjects of the simulated data set (ignored with ``data_root``).
    workers : int, default=1
        Processes for image preparation.
    verbose : int, default=0
        Keras progress output.
    progress : bool, default=False
        Progress bar while preparing images.

    Returns
    -------
    dict
        The content of ``results.json``: ``accuracy`` (share of probe sequences whose mean
        softmax ranks the true subject first, sequences without images counted as errors),
        ``top5``, ``cmc``, ``accuracy_by_n``, ``n_subjects``, ``n_probe_sequences``,
        ``n_probe_sequences_without_images``, ``data``, model size and cost, times, memory.
    """
    started = time.perf_counter()
    from gaitcnn.cache import read_image_set
    from gaitcnn.prepare import default_cache_dir, prepare_dataset

    out_dir = Path(out_dir)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    spec = METHODS[params.method]
    notes: list[str] = []

    # ---- data ----------------------------------------------------------------------------
    root, data_label, source = _resolve_data(data_root, cache_dir, n_simulated)
    prep = params.prepare_params()
    cache = prepare_dataset(
        prep,
        root,
        cache_dir=_image_cache_dir(cache_dir, root),
        source=source,
        workers=workers,
        progress=progress,
    )
    images = read_image_set(cache, expected_params=prep.to_dict())
    prepare_s = time.perf_counter() - started

    recordings = images.recordings
    by_session: dict[str, set] = {"gallery": set(), "probe": set()}
    for rec in recordings:
        if rec["session"] in by_session:
            by_session[rec["session"]].add(int(rec["subject_id"]))
    # The pool depends on the recordings only (not on how many images a method makes from
    # them), so every method with the same seed draws the same K subjects.
    pool = sorted(by_session["gallery"] & by_session["probe"])
    if len(pool) < 2:
        raise ValueError(f"need >= 2 subjects with gallery and probe walks, found {len(pool)}")
    if params.n_subjects > len(pool):
        msg = (
            f"--subjects {params.n_subjects} exceeds the {len(pool)} subjects with both a "
            f"gallery and a probe walk in {data_label}; using all {len(pool)}"
        )
        logger.warning(msg)
        click.echo(f"note: {msg}", err=True)
        notes.append(msg)
    chosen = draw_subjects(pool, params.n_subjects, params.seed)
    n_classes = int(chosen.size)
    class_of = {int(s): i for i, s in enumerate(chosen)}

    sessions = images.sessions
    in_draw = np.isin(images.subject_ids, chosen)
    gallery = images.select(in_draw & (sessions == "gallery"))
    probe = images.select(in_draw & (sessions == "probe"))
    y_train = np.array([class_of[int(s)] for s in gallery.subject_ids], dtype=np.int64)
    n_gallery_walks = len(
        {
            r["key"]
            for r in recordings
            if r["session"] == "gallery" and int(r["subject_id"]) in class_of
        }
    )
    classes_without_gallery = sorted(set(range(n_classes)) - set(y_train.tolist()))
    if classes_without_gallery:
        notes.append(
            f"{len(classes_without_gallery)} drawn subjects have no gallery image (their walks "
            "gave no cycle start with the full image margin); they stay classes of the CNN"
        )

    probe_sequences = sorted(
        {
            r["key"]
            for r in recordings
            if r["session"] == "probe" and int(r["subject_id"]) in class_of
        }
    )
    seq_subject = {r["key"]: int(r["subject_id"]) for r in recordings}
    y_seq = np.array([class_of[seq_subject[s]] for s in probe_sequences], dtype=np.int64)
    probe_image_seq = probe_sequence_ids(recordings, probe.recording_index)
    # Keep each sequence's images in temporal order (segment, then start) for Figure 8.
    order = np.lexsort((probe.starts, probe.recording_index))
    probe = probe.select(order)
    probe_image_seq = probe_image_seq[order]

    # ---- model and training --------------------------------------------------------------
    import keras

    from gaitcnn.evaluate import predict_proba
    from gaitcnn.models import MODEL_BUILDERS, count_flops, count_params
    from gaitcnn.train import TrainConfig, train

    input_shape = tuple(int(v) for v in prep.image_shape)
    hparams = dict(params.model_hparams)

    def builder() -> keras.Model:
        return MODEL_BUILDERS[spec.model](input_shape, n_classes, seed=params.seed, **hparams)

    # Reconstruction: the paper keeps "the model that scores best", which PAPER_SPEC reads as
    # best on a validation split carved from the training data. On OU-ISIR each subject has
    # ONE gallery walk of ~6 s giving ~2.5 AE-GDIs (strict edge), and consecutive AE-GDIs
    # share most of their samples (each spans 1.28 s + 2 x 32 delay samples). A split by walk
    # would remove whole classes, and a held-out image would be near-duplicated by its
    # training neighbours while costing ~40 % of the training data. So we train on every
    # gallery image for the paper's 50 epochs and keep the FINAL model (keep_best=False).
    # train() still requires validation data: we pass a fixed subset of the training images
    # as a training-fit monitor only; it selects nothing and is labelled as such.
    config = TrainConfig.paper().replace(
        epochs=params.epochs,
        batch_size=params.batch_size,
        seed=params.seed,
        keep_best=False,
        verbose=verbose,
    )
    monitor_idx = np.random.default_rng(params.seed).permutation(len(y_train))[:256]
    monitor = (gallery.images[np.sort(monitor_idx)], y_train[np.sort(monitor_idx)])
    train_started = time.perf_counter()
    result = train(
        builder,
        (gallery.images, y_train),
        monitor,
        config,
        out_dir=out_dir / "train",
        overwrite=True,
        metadata={
            "experiment": "labeling",
            "method": params.method,
            "data": data_label,
            "class_names": [str(s) for s in chosen],
            "preprocessing": prep.to_dict(),
            "validation": "training-fit monitor (subset of training images), no selection",
        },
    )
    train_s = time.perf_counter() - train_started
    model = result.model

    # ---- labelling -----------------------------------------------------------------------
    proba = predict_proba(model, probe.images) if len(probe) else np.zeros((0, n_classes))
    fused, n_used = sequence_decisions(proba, probe_image_seq, probe_sequences)
    ranks = ranks_with_missing(fused, y_seq)
    correct = ranks == 1
    cmc = cmc_from_ranks(ranks, n_classes)
    with_images = n_used > 0
    accuracy_by_n = {}
    for n in range(1, MAX_PROBE_IMAGES + 1):
        fused_n, _ = sequence_decisions(proba, probe_image_seq, probe_sequences, max_images=n)
        accuracy_by_n[str(n)] = float((ranks_with_missing(fused_n, y_seq) == 1).mean())
    predicted = np.where(with_images, np.nanargmax(np.nan_to_num(fused, nan=-1.0), axis=1), -1)

    rows = [
        {
            "sequence": seq,
            "subject_id": int(chosen[y]),
            "true_class": int(y),
            "predicted_class": int(p),
            "predicted_subject": int(chosen[p]) if p >= 0 else "",
            "n_images": int(n),
            "rank": int(r) if r <= n_classes else "",
            "correct": int(c),
        }
        for seq, y, p, n, r, c in zip(
            probe_sequences, y_seq, predicted, n_used, ranks, correct, strict=True
        )
    ]
    _write_csv(out_dir / "sequences.csv", rows)
    np.savez_compressed(
        out_dir / "probe_proba.npz",
        proba=proba.astype(np.float32),
        sequence=probe_image_seq.astype(str),
        classes=chosen,
    )

    n_seq = len(probe_sequences)
    results = {
        "experiment": "OU-ISIR gait labeling (paper section 4.2)",
        "method": params.method,
        "method_label": spec.label,
        "data": data_label,
        "simulated": data_root is None,
        "accuracy": float(correct.mean()) if n_seq else float("nan"),
        "top5": float(cmc[min(5, n_classes) - 1]) if n_seq else float("nan"),
        "accuracy_on_sequences_with_images": (
            float(correct[with_images].mean()) if with_images.any() else float("nan")
        ),
        "cmc": [float(v) for v in cmc],
        "accuracy_by_n": accuracy_by_n,
        "mean_images_per_probe_sequence": float(n_used.mean()) if n_seq else 0.0,
        "n_subjects": n_classes,
        "n_subjects_requested": params.n_subjects,
        "n_subjects_available": len(pool),
        "n_gallery_walks": n_gallery_walks,
        "n_gallery_images": len(gallery),
        "n_classes_without_gallery_images": len(classes_without_gallery),
        "n_probe_sequences": n_seq,
        "n_probe_images": len(probe),
        "n_probe_sequences_without_images": int((~with_images).sum()),
        "n_correct": int(correct.sum()),
        "params": count_params(model),
        "multiply_adds": count_flops(model),
        "input_shape": list(input_shape),
        "model": spec.model,
        "model_hparams": hparams,
        "epochs": params.epochs,
        "seed": params.seed,
        "final_train_accuracy": (
            float(result.history["accuracy"][-1]) if result.history.get("accuracy") else None
        ),
        "prepare_time_s": prepare_s,
        "train_time_s": train_s,
        "wall_time_s": time.perf_counter() - started,
        "peak_memory": _peak_rss_mb(),
        "cpu_count": os.cpu_count(),
        "notes": notes,
        "image_cache": str(cache),
    }
    _write_json(out_dir / "results.json", results)
    _write_json(
        out_dir / "config.json",
        {
            "labeling": params.to_dict(),
            "prepare": prep.to_dict(),
            "train": config.to_dict(),
            "data": data_label,
            "data_root": str(root),
            "simulation_seed": SIMULATION_SEED if data_root is None else None,
            "subjects": chosen.tolist(),
            "versions": _versions(),
            "command": sys.argv[:],
        },
    )
    return results


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def _parse_set(values: tuple[str, ...]) -> dict:
    out = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected field=value, got {item!r}", param_hint="--set")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key.strip()] = tuple(value) if isinstance(value, list) else value
    return out


@click.command("label")
@click.option(
    "--subjects",
    "n_subjects",
    type=click.IntRange(min=2),
    default=PAPER_N_SUBJECTS,
    show_default=True,
    help="K: subjects drawn at random (classes of the CNN); 744 = all.",
)
@click.option(
    "--data-root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    envvar="GAITCNN_DATA_DIR",
    help="Real OU-ISIR root; omitted: 744 simulated OU-ISIR-like subjects (labelled so).",
)
@click.option(
    "--subset",
    type=click.Choice(["auto", "automatic", "manual"]),
    default="auto",
    show_default=True,
    help="automatic: seq0 -> seq1; manual: Walk1 -> Walk2.",
)
@click.option(
    "--sensor",
    type=click.Choice(["center", "left", "right"]),
    default=None,
    help="Manual-subset IMU (default: centre).",
)
@click.option(
    "--method",
    type=click.Choice(list(METHODS)),
    default="proposed",
    show_default=True,
    help="proposed, method1 (overlap windows), method2 (GDI), method3 (TCNN), inception.",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Training epochs [paper: 50].",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the subject draw, the weights and the shuffling.",
)
@click.option(
    "--edge",
    type=click.Choice(["strict", "pad"]),
    default="strict",
    show_default=True,
    help="Image margin rule (strict = paper preset).",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="FIELD=VALUE",
    help="Model builder override, JSON value, e.g. --set n_conv=2 --set fl1_units=1024.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default results/labeling-<method>-<K>).",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Simulated data and image caches (default $GAITCNN_CACHE_DIR or ~/.cache/gaitcnn).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes for image preparation.",
)
@click.option(
    "--verbose",
    type=click.IntRange(0, 2),
    default=2,
    show_default=True,
    help="Keras progress: 0 silent, 1 bar, 2 one line per epoch.",
)
def labeling_command(
    n_subjects, data_root, subset, sensor, method, epochs, seed, edge, sets, out, cache_dir,
    workers, verbose,
):  # fmt: skip
    """Gait labeling on OU-ISIR (paper Table 2): train a K-class CNN, label probe sequences."""
    params = LabelingParams(
        n_subjects=n_subjects,
        method=method,
        subset=subset,
        sensor=sensor,
        epochs=epochs,
        seed=seed,
        edge=edge,
        model_hparams=_parse_set(sets),
    )
    out = out or Path("results") / f"labeling-{method}-{n_subjects}"
    if data_root is None:
        click.echo("no --data-root: running on SIMULATED OU-ISIR-like data", err=True)
    res = run_labeling(
        params,
        out_dir=out,
        data_root=data_root,
        cache_dir=cache_dir,
        workers=workers,
        verbose=verbose,
        progress=True,
    )
    click.echo(
        f"{res['method_label']} on {res['data']} data, K={res['n_subjects']}: "
        f"accuracy {res['accuracy']:.3f}, top-5 {res['top5']:.3f} over "
        f"{res['n_probe_sequences']} probe sequences "
        f"({res['n_probe_sequences_without_images']} without images, counted as errors); "
        f"train {res['train_time_s']:.0f} s, wall {res['wall_time_s']:.0f} s, peak RSS "
        f"{res['peak_memory']['self_mb']:.0f} MB"
    )
    click.echo(f"wrote {out}/results.json")


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    labeling_command()
