"""One verification run: data -> caches -> user split -> each row's embedding -> scores -> files.

Every row takes the same split (:func:`gaitcnn.verification._protocol.make_split` on the
recordings table, which does not depend on the front end) and the same scoring
(:func:`score_users`): enrol each user with the mean (or, for the 1-NN row, the set) of their
gallery-window embeddings and score every probe by cosine similarity. Rows differ only in the
embedding of a window:

- ``embedding``: :class:`gaitcnn.GaitModel` preset ``"verification"`` (AM-softmax embedding CNN);
- ``paper_cnn``: GaitModel preset ``"paper"`` trained on the training users, its penultimate
  layer (:meth:`gaitcnn.GaitModel.embed_windows`);
- ``minirocket`` / ``minirocket_lda``: MiniRocket features of the peer front end's windows,
  standardised on the training users; plain, or projected by PCA + LDA fitted on them;
- ``template_1nn``: per-channel statistics of the same windows; a probe window scores its
  nearest gallery window (no training).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from gaitcnn._atomic import atomic_path, write_json_atomic, write_text_atomic
from gaitcnn.labeling._run import SIMULATION_SEED, check_one_kind_of_sensor, resolve_data
from gaitcnn.provenance import peak_rss_mb, run_metadata
from gaitcnn.verification._protocol import (
    VerificationParams,
    calibrate_thresholds,
    cycle_stride,
    eval_rows,
    make_split,
    probe_groups,
    score_users,
    summarise_row,
    walk_comparisons,
)

__all__ = ["MAIN_ROW_KEYS", "run_verification"]

logger = logging.getLogger(__name__)

#: Top-level keys of ``results.json`` that describe the main row (the whole-walk fused score).
MAIN_ROW_KEYS = ("eer", "frr_at_far_1pct", "frr_at_far_0_1pct", "roc_auc", "open_set_rank1")

#: Training windows per training user used to fit MiniRocket's biases, its standardisation and
#: the PCA + LDA projection (bounds memory: 520 users x 24 windows x 9,996 features ~ 0.5 GB).
FIT_WINDOWS_PER_USER = 24

#: PCA components before the LDA of the ``minirocket_lda`` row (LDA on 9,996 raw dimensions
#: would need a 9,996 x 9,996 scatter matrix per fit).
PCA_COMPONENTS = 256

#: Dense step (samples) of every row on McGill-format data: a day lasts ~15 minutes, so windows
#: every 0.5 s (as :meth:`gaitcnn.prepare.PrepareParams.improved` does) keep ~1,800 per day.
MCGILL_DENSE_STEP = 25

#: Simulated McGill-format data set size when ``--subjects`` asks for fewer (a fixed data set).
MCGILL_SIMULATED_SUBJECTS = 20


# ----------------------------------------------------------------------------- data
def _resolve(params: VerificationParams, data_root, cache_dir: Path, n_simulated: int):
    """``(root, data label, cache source)``: real data, or the simulator in the real format."""
    if params.dataset == "ouisir":
        return resolve_data(data_root, cache_dir, n_simulated, "default", params.sensor)
    if data_root is None:
        from gaitcnn.prepare import ensure_simulated

        root = ensure_simulated(
            "mcgill", cache_dir=cache_dir, seed=SIMULATION_SEED, n_subjects=n_simulated
        )
        return root, "simulated", f"simulated ({root.name})"
    if params.filename_pattern is not None:
        root = _renamed_mcgill_root(Path(data_root), params.filename_pattern, cache_dir)
        return root, str(Path(data_root).resolve()), f"{Path(data_root).resolve()} (renamed)"
    return Path(data_root), str(Path(data_root).resolve()), None


def _renamed_mcgill_root(data_root: Path, pattern: str, cache_dir: Path) -> Path:
    """A folder of links ``subject<S>_day<D><ext>`` to the files ``pattern`` selects.

    The cache builder (:func:`gaitcnn.prepare.prepare_dataset`) reads McGill files with the
    default name pattern only; the links let any other naming through unchanged.
    """
    import hashlib
    import re

    from gaitcnn.io import mcgill_files

    files = mcgill_files(data_root, filename_pattern=pattern)
    if not files:
        raise ValueError(f"no file in {data_root} matches --filename-pattern {pattern!r}")
    digest = hashlib.sha256(f"{data_root.resolve()}\n{pattern}".encode()).hexdigest()[:10]
    root = cache_dir / f"mcgill-renamed-{digest}"
    root.mkdir(parents=True, exist_ok=True)
    compiled = re.compile(pattern)
    for path in files:
        match = compiled.search(path.name)
        suffix = "".join(path.suffixes[-2:]) if path.suffix == ".gz" else path.suffix
        link = root / f"subject{int(match['subject'])}_day{int(match['day'])}{suffix}"
        if link.is_symlink() and link.resolve() == path.resolve():
            continue
        link.unlink(missing_ok=True)
        link.symlink_to(path.resolve())
    return root


def _front_end(config, params: VerificationParams, root):
    """The row's PrepareParams, with accelerometer-only channels when the data lack a gyro."""
    from gaitcnn.prepare import first_recording_has_gyroscope
    from gaitcnn.presets import channels_for_data

    loader = {}
    if params.dataset == "ouisir":
        loader = {"subset": params.subset, "sensor": params.sensor}
    probe = config.prepare_params(params.dataset, **loader)
    has_gyro, source = first_recording_has_gyroscope(params.dataset, root, probe)
    channels = channels_for_data(config, [has_gyro], [source])
    return config.prepare_params(params.dataset, channels=channels, **loader)


def _cache(config, params, data, cache_dir, workers):
    """Build (or reuse) the row's image cache; return ``(path, metadata, PrepareParams)``."""
    from gaitcnn.cache import read_image_set
    from gaitcnn.prepare import prepare_dataset

    root, _, source = data
    prep = _front_end(config, params, root)
    path = prepare_dataset(
        prep, root, cache_dir=cache_dir, source=source, workers=workers, progress=False
    )
    meta = read_image_set(path, expected_params=prep.to_dict(), load_images=False)
    check_one_kind_of_sensor(meta.recordings, False)
    return path, meta, prep


# ----------------------------------------------------------------------------- rows
def _model_config(row: str, params: VerificationParams, hparams: dict | None):
    """The ModelConfig of a row (peers share the MiniRocket front end)."""
    from gaitcnn.presets import ModelConfig

    overrides = {"epochs": params.epochs} if params.epochs else {}
    if hparams:
        overrides["hparams"] = dict(hparams)
    channels = {"channels": params.channels} if params.channels else {}
    if row == "embedding":
        config = ModelConfig.from_preset("verification", seed=params.seed, **overrides, **channels)
    elif row == "paper_cnn":
        config = ModelConfig.from_preset("paper", seed=params.seed, **overrides, **channels)
    else:
        config = ModelConfig.from_preset("paper", method="minirocket", seed=params.seed, **channels)
    if params.dataset == "mcgill" and config.dense_step:
        config = config.replace(dense_step=MCGILL_DENSE_STEP)
    return config


def _network_row(config, cache, meta, prep, split, verbose):
    """Train a GaitModel on the training users; embed the calibration and test users."""
    from gaitcnn.cache import CacheRows
    from gaitcnn.estimator import GaitModel

    train_rows = np.flatnonzero(np.isin(meta.subject_ids, split.train))
    labels = np.searchsorted(split.train, meta.subject_ids[train_rows])
    model = GaitModel.from_config(config, verbose=verbose)
    model.fit_images(
        CacheRows(cache, train_rows),
        labels,
        classes=split.train,
        channels=prep.channels,
        groups=meta.recording_index[train_rows],
    )

    def embed(rows):
        return model.embed_windows(CacheRows(cache, rows)) if rows.size else np.zeros((0, 1))

    return (
        model,
        embed,
        {
            "n_params": int(model.n_params),
            "n_train_windows": int(labels.size),
            "epochs": config.epochs,
        },
    )


def _fit_sample(meta, split, seed: int) -> np.ndarray:
    """Up to :data:`FIT_WINDOWS_PER_USER` seeded training windows per training user."""
    rng = np.random.default_rng([seed, 2])
    picked = []
    for user in split.train:
        rows = np.flatnonzero(meta.subject_ids == user)
        picked.append(rng.permutation(rows)[:FIT_WINDOWS_PER_USER])
    return np.sort(np.concatenate(picked))


def _peer_windows(cache, rows) -> np.ndarray:
    """Cached raw windows ``(n, 1, width, n_channels)`` as aeon's ``(n, n_channels, width)``."""
    from gaitcnn.cache import read_image_rows
    from gaitcnn.rawwindows import peer_series

    images = read_image_rows(cache, rows) if rows.size else np.zeros((0, 1, 64, 1), np.float32)
    return peer_series(images)


def _standardiser(features: np.ndarray):
    mean = features.mean(axis=0)
    sd = features.std(axis=0)
    sd[sd < 1e-8] = 1.0
    return lambda x: ((x - mean) / sd).astype(np.float32)


def _minirocket_row(row, cache, meta, split, params):
    """MiniRocket features standardised on the training users; ``minirocket_lda`` projects them."""
    from gaitcnn.peers.minirocket import MiniRocketFeatures, require_aeon

    require_aeon()
    fit_rows = _fit_sample(meta, split, params.seed)
    fit_windows = _peer_windows(cache, fit_rows)  # read once: fitted, then transformed
    transform = MiniRocketFeatures(seed=params.seed).fit(fit_windows)
    train_features = transform.transform(fit_windows)
    scale = _standardiser(train_features)
    n_params = int(sum(np.asarray(v).size for v in transform.to_arrays().values()))
    n_params += 2 * train_features.shape[1]
    project = scale
    if row == "minirocket_lda":
        project, n_projection = _pca_lda(scale(train_features), meta.subject_ids[fit_rows], scale)
        n_params += n_projection

    def embed(rows):
        out = [
            project(transform.transform(_peer_windows(cache, rows[lo : lo + 2048])))
            for lo in range(0, rows.size, 2048)
        ]
        return np.concatenate(out) if out else np.zeros((0, 1), np.float32)

    info = {
        "n_params": n_params,
        "n_fit_windows": int(fit_rows.size),
        "n_features": int(train_features.shape[1]),
    }
    return None, embed, info


def _pca_lda(features: np.ndarray, labels: np.ndarray, scale):
    """PCA then LDA fitted on the training users' standardised features."""
    from sklearn.decomposition import PCA
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    n_pca = int(min(PCA_COMPONENTS, features.shape[0] - 1, features.shape[1]))
    pca = PCA(n_components=n_pca, random_state=0).fit(features)
    lda = LinearDiscriminantAnalysis().fit(pca.transform(features), labels)

    def project(x):
        return lda.transform(pca.transform(scale(x))).astype(np.float32)

    return project, int(pca.components_.size + lda.scalings_.size)


def window_statistics(windows: np.ndarray) -> np.ndarray:
    """Per-channel mean, sd, minimum, maximum and 10/50/90th percentiles of each window.

    Parameters
    ----------
    windows : np.ndarray, shape (n_windows, n_channels, n_timepoints)

    Returns
    -------
    np.ndarray of float32, shape (n_windows, 7 * n_channels)
    """
    parts = [windows.mean(axis=2), windows.std(axis=2), windows.min(axis=2), windows.max(axis=2)]
    parts += list(np.percentile(windows, [10, 50, 90], axis=2))
    return np.concatenate(parts, axis=1).astype(np.float32)


def _template_row(cache, meta, split, params):
    """Simple window statistics, scaled by the training users' spread; 1-NN over the gallery."""
    fit_rows = _fit_sample(meta, split, params.seed)
    scale = _standardiser(window_statistics(_peer_windows(cache, fit_rows)))

    def embed(rows):
        return scale(window_statistics(_peer_windows(cache, rows)))

    return None, embed, {"n_params": 0, "note": "no training; feature scaling only"}


# ----------------------------------------------------------------------------- one row
def _run_row(row, params, data, split, cache_dir, out_dir, hparams, workers, verbose):
    """Build the row's embedding, enrol and score calibration and test users, summarise."""
    started = time.perf_counter()
    config = _model_config(row, params, hparams)
    cache, meta, prep = _cache(config, params, data, cache_dir, workers)
    prepared = time.perf_counter()
    if row in ("embedding", "paper_cnn"):
        model, embed, info = _network_row(config, cache, meta, prep, split, verbose)
    elif row.startswith("minirocket"):
        model, embed, info = _minirocket_row(row, cache, meta, split, params)
    else:
        model, embed, info = _template_row(cache, meta, split, params)
    trained = time.perf_counter()
    every = cycle_stride(prep.segmentation, prep.dense_step)
    template = "set" if row == "template_1nn" else "mean"
    scored = {}
    for part in ("calibration", "test"):
        users = getattr(split, part)
        rows = eval_rows(meta, users)
        gallery, (probes, probe_users) = probe_groups(meta, rows, users, params.dataset)
        scored[part] = score_users(
            embed(rows), gallery, probes, probe_users, every=every, template=template
        )
    thresholds = calibrate_thresholds(scored["calibration"], params.target_far)
    summary = summarise_row(scored["test"], thresholds, seed=params.seed)
    genuine, impostor = walk_comparisons(scored["test"])
    result = {**summary, **_row_info(row, config, prep, info, every)}
    # A test user whose gallery walk gave no window has no template (failure to enrol): their
    # probes still serve as impostor probes against every enrolled user.
    result["n_enrolled_test_users"] = int(scored["test"]["template_users"].size)
    result["n_failed_enrolment"] = int(split.test.size - scored["test"]["template_users"].size)
    if model is not None:
        calibration = walk_comparisons(scored["calibration"])
        model.calibrate_scores(*calibration, far=params.target_far)
        result["calibration"] = model.verification_
        path = model.save(out_dir / "rows" / row / "model.gaitcnn", overwrite=True)
        result["model_size_bytes"] = path.stat().st_size
    result.update(
        prepare_time_s=prepared - started,
        train_time_s=trained - prepared,
        score_time_s=time.perf_counter() - trained,
        wall_time_s=time.perf_counter() - started,
        peak_memory=peak_rss_mb(),
    )
    return result, (genuine, impostor)


def _row_info(row, config, prep, info, every) -> dict:
    return {
        "row": row,
        "front_end": {
            "representation": prep.representation,
            "segmentation": prep.segmentation,
            "dense_step": prep.dense_step,
            "channels": list(prep.channels),
        },
        "cycle_stride_windows": every,
        "preset": config.preset,
        "network": config.network_name,
        **info,
    }


# ----------------------------------------------------------------------------- the run
def run_verification(
    params: VerificationParams,
    *,
    out_dir,
    data_root=None,
    cache_dir=None,
    n_simulated: int | None = None,
    hparams: dict[str, dict] | None = None,
    overwrite: bool = False,
    workers: int = 1,
    verbose: int = 0,
) -> dict[str, Any]:
    """Run the open-set verification protocol for every row of ``params`` and write the results.

    Parameters
    ----------
    params : VerificationParams
    out_dir : str or os.PathLike
        Receives ``results.json``, ``config.json``, ``rows.md``, ``det.png`` and
        ``rows/<row>/model.gaitcnn`` (network rows).
    data_root : str or os.PathLike, optional
        Real data root; None simulates the data set (in its real file format).
    cache_dir : str or os.PathLike, optional
        Simulated data and image caches (default :func:`gaitcnn.prepare.default_cache_dir`).
    n_simulated : int, optional
        Subjects of the simulated data set (default: 744 OU-ISIR-like, 20 McGill-like, or
        ``n_subjects`` when larger).
    hparams : dict of str to dict, optional
        Network hyper-parameters per network row (``{"embedding": {...}}``).
    overwrite : bool, default=False
        Replace the results of an earlier run in ``out_dir``.
    workers : int, default=1
        Processes for image preparation.
    verbose : int, default=0

    Returns
    -------
    dict
        The content of ``results.json``: the main row's whole-walk metrics at top level
        (:data:`MAIN_ROW_KEYS`, counts, operating point, ``by_fusion``), every row under
        ``rows``, wall time and peak memory.

    Raises
    ------
    FileExistsError
        If ``out_dir`` holds ``results.json`` and ``overwrite`` is False.
    """
    from gaitcnn.prepare import default_cache_dir

    started = time.perf_counter()
    out_dir = Path(out_dir)
    if (out_dir / "results.json").exists() and not overwrite:
        raise FileExistsError(f"{out_dir} holds an earlier run (results.json); overwrite=True")
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if n_simulated is None:
        default = 744 if params.dataset == "ouisir" else MCGILL_SIMULATED_SUBJECTS
        n_simulated = max(default, params.n_subjects)
    data = _resolve(params, data_root, cache_dir, n_simulated)
    first_cache, first_meta, _ = _cache(
        _model_config(params.rows[0], params, None), params, data, cache_dir, workers
    )
    split = make_split(
        first_meta.recordings,
        params.dataset,
        params.n_subjects,
        train_share=params.train_share,
        calibration_share=params.calibration_share,
        seed=params.seed,
    )
    rows, curves = {}, {}
    for row in params.rows:
        logger.info("verification row %s", row)
        rows[row], curves[row] = _run_row(
            row, params, data, split, cache_dir, out_dir, (hparams or {}).get(row), workers, verbose
        )
    results = _results(params, split, rows, data[1], data_root is None)
    results["wall_time_s"] = time.perf_counter() - started
    _write_outputs(out_dir, params, split, results, curves, data, data_root, first_cache)
    return results


def _results(params: VerificationParams, split, rows: dict, data_label: str,
             simulated: bool) -> dict:  # fmt: skip
    """``results.json``: the main (first) row's whole-walk metrics at top level, every row below."""
    main = rows[params.rows[0]]
    return {
        "experiment": "open-set verification of unseen users (issue 14)",
        "data": data_label,
        "simulated": simulated,
        "dataset": params.dataset,
        "main_row": params.rows[0],
        **{k: main[k] for k in MAIN_ROW_KEYS},
        "fusion": "walk: mean of the probe's window cosines; nN: first N windows one cycle apart",
        **{k: main[k] for k in main if k not in MAIN_ROW_KEYS and k != "peak_memory"},
        "rows": rows,
        "n_users": {
            "train": int(split.train.size),
            "calibration": int(split.calibration.size),
            "test": int(split.test.size),
            "pool": len(split.pool),
        },
        "protocol": params.gallery_rule,
        "notes": _notes(params, split, main),
        "seed": params.seed,
        "peak_memory": peak_rss_mb(),
    }


def _notes(params: VerificationParams, split, main: dict) -> list[str]:
    notes = []
    if params.n_subjects > len(split.pool):
        notes.append(
            f"--subjects {params.n_subjects} exceeds the {len(split.pool)} usable "
            f"subjects; using all {len(split.pool)}"
        )
    if not main.get("frr_at_far_0_1pct_resolved", True):
        notes.append(
            f"FRR at FAR 0.1 % not resolved: {main['n_impostor']} impostor "
            "comparisons (< 1000); reported as NaN"
        )
    if not main.get("frr_at_far_1pct_resolved", True):
        notes.append("FRR at FAR 1 % not resolved: fewer than 100 impostor comparisons")
    n_calibration = split.calibration.size * (split.calibration.size - 1)
    if n_calibration < 1 / params.target_far:
        notes.append(
            f"the threshold is calibrated on about {n_calibration} impostor "
            f"comparisons (< {1 / params.target_far:g}): the FAR target is not "
            "resolved on the calibration users"
        )
    notes.append("peak_memory of each row is the process peak so far (rows run in order)")
    return notes


def rows_table(results: dict) -> str:
    """Markdown table of the rows: EER, FRR at FAR 1 %, N-cycle EERs, cost."""

    def pct(value):
        return "n.r." if value is None or not np.isfinite(value) else f"{100 * value:.2f}"

    label = "SIMULATED " if results["simulated"] else ""
    lines = [
        f"{label}{results['dataset']} ({results['data']}), users train/calibration/test "
        f"{results['n_users']['train']}/{results['n_users']['calibration']}/"
        f"{results['n_users']['test']}, seed {results['seed']}",
        "",
        "| row | EER walk % | FRR@FAR1% | FRR@FAR0.1% | AUC | rank-1 % | EER 1 win % | "
        "EER N=1/3/5 % | FAR/FRR at calibrated thr. % | genuine/impostor | params | "
        "train s | wall s | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results["rows"].items():
        by = r["by_fusion"]
        op = r.get("operating_point", {})
        lines.append(
            f"| {name} | {pct(r['eer'])} | {pct(r['frr_at_far_1pct'])} | "
            f"{pct(r['frr_at_far_0_1pct'])} | {r['roc_auc']:.4f} | {pct(r['open_set_rank1'])} | "
            f"{pct(by['window']['eer'])} | {pct(by['n1']['eer'])}/{pct(by['n3']['eer'])}/"
            f"{pct(by['n5']['eer'])} | {pct(op.get('far'))}/{pct(op.get('frr'))} | "
            f"{r['n_genuine']}/{r['n_impostor']} | {r['n_params']:,} | "
            f"{r['train_time_s']:.0f} | {r['wall_time_s']:.0f} | "
            f"{r['peak_memory']['self_mb']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def _write_outputs(out_dir, params, split, results, curves, data, data_root, cache):
    from gaitcnn.verification.plots import plot_det

    label = "SIMULATED " if data_root is None else ""
    with atomic_path(out_dir / "det.png", suffix=".png") as tmp:
        plot_det(curves, tmp, title=f"{label}{params.dataset}: whole-walk score, test users")
    results["det_curve"] = str(out_dir / "det.png")
    write_text_atomic(out_dir / "rows.md", rows_table(results))
    write_json_atomic(
        out_dir / "config.json",
        {
            "verification": params.to_dict(),
            "data": data[1],
            "data_root": str(data[0]),
            "simulation_seed": SIMULATION_SEED if data_root is None else None,
            "users": split.to_dict(),
            "image_cache": str(cache),
            **run_metadata(),
        },
    )
    write_json_atomic(out_dir / "results.json", results)
    logger.info("wrote %s", out_dir / "results.json")
