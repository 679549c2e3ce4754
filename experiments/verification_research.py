"""Research on SIMULATED data (issue 14): which loss and input channels verify unseen users best.

``python -m experiments.verification_research [--dataset ouisir|mcgill] [--losses ...]
[--channels ...] [--subjects N] [--epochs E] [--out DIR]``

Protocol (docs/RECONSTRUCTION.md section 7), the same split for every row:

1. dense raw windows (``PrepareParams(representation="raw", segmentation="dense", edge="pad",
   channels=("acc", "gyr", "acc_mag", "gyr_mag"))``: 64 samples = 1.28 s, columns ax ay az gx
   gy gz |a| |w|) of the simulated OU-ISIR-like set (744 subjects, seq0 / seq1) or of the
   simulated McGill-like pocket set (day 1 / day 2; the phone is placed anew each day);
2. subjects drawn with ``default_rng(seed)``: 70 % training users, 30 % test users; 15 % of the
   training users are held out of training as calibration users (threshold at FAR = 1 %);
3. the embedding network (:func:`gaitcnn.models.embedding.build_embedding_cnn`) is trained on
   every window of the remaining training users (both sessions), with the loss of the row;
4. test users enrol with the mean embedding of their gallery windows (seq0 / day 1); every probe
   (seq1; McGill: each run of ``--mcgill-probe-windows`` consecutive day-2 windows, a ~6 s
   walk) is scored against every test user's template (cosine); walk score = mean over the
   probe's windows; N-cycle scores over its first N windows one mean gait cycle (1.07 s)
   apart (a shorter probe is scored on the windows it has; their share is reported).

Channel sets: ``raw`` (all 8 columns), ``norms`` (|a|, |w|: orientation-free), ``gravity``
(gravity-aligned, orientation-free up to a rotation about the vertical: vertical and horizontal
acceleration, a.g and |a - (a.g) g|, the same for the angular velocity, plus |a|, |w|; g is the
unit mean acceleration of the window, i.e. a 1.28 s moving mean - a private version for this
study only, gaitcnn.rawwindows gets its own on another branch).

``--augment rotate`` turns the raw axes of every training window (acc and gyr together) by a
uniform random rotation each epoch: the raw channels with an orientation-invariance prior.

Each run is stored in ``OUT/runs/<dataset>-<loss>-<channels>-<...>.json`` and reused when the
script runs again; ``OUT/table.md`` and ``OUT/det_<dataset>.png`` are rebuilt from every
finished run. Wall times are measured on a shared machine (the load is recorded).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import os
import resource
import time
from pathlib import Path

import numpy as np

from experiments._report import versions, write_json_atomic, write_text_atomic

logger = logging.getLogger("verification_research")

#: Columns of the cached raw windows (PrepareParams channels acc, gyr, acc_mag, gyr_mag).
RAW_COLUMNS = ("ax", "ay", "az", "gx", "gy", "gz", "|a|", "|w|")

#: Channel sets compared.
CHANNEL_SETS = ("raw", "norms", "gravity")

#: Fusion levels reported: name -> number of windows, one gait cycle apart (None = whole walk).
FUSIONS = {"walk": None, "n1": 1, "n3": 3, "n5": 5}

#: Mean gait cycle in samples at 50 Hz (1.07 s, Zhao & Zhou 2017): N windows this far apart
#: cover about N cycles (a probe shorter than that is a failure to acquire at this N).
CYCLE_SAMPLES = 53.5

#: Dense step between windows (samples): OU-ISIR walks are ~5 s, McGill days 15 min.
DENSE_STEP = {"ouisir": 4, "mcgill": 25}


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """One row of the comparison."""

    dataset: str = "ouisir"
    n_subjects: int = 744
    loss: str = "am_softmax"
    channels: str = "raw"
    embedding_dim: int = 128
    epochs: int = 20
    batch_size: int = 128
    learning_rate: float = 1e-3
    seed: int = 0
    train_share: float = 0.7
    calibration_share: float = 0.15
    mcgill_duration_s: float = 900.0  # length of each simulated McGill-like day
    mcgill_probe_windows: int = 10  # 10 windows every 0.5 s: a ~6 s walk per probe
    supcon_users_per_batch: int = 32  # P x K batches for the supervised contrastive loss
    augment: str = "none"  # "rotate": random rotation of the raw axes per window and epoch

    @property
    def name(self) -> str:
        """File name of the run."""
        days = f"-{self.mcgill_duration_s:g}s" if self.dataset == "mcgill" else ""
        return (
            f"{self.dataset}-n{self.n_subjects}{days}-{self.loss}-{self.channels}-d{self.embedding_dim}"
            f"-e{self.epochs}-s{self.seed}" + ("-rot" if self.augment == "rotate" else "")
        )


# ----------------------------------------------------------------------------- data
def load_windows(dataset: str, n_subjects: int, cache_dir: Path, duration_s: float) -> dict:
    """Simulate (once), prepare (once) and read the dense raw windows of a data set."""
    from gaitcnn.cache import read_image_set
    from gaitcnn.prepare import PrepareParams, ensure_simulated, prepare_dataset

    if dataset == "ouisir":
        root = ensure_simulated("ouisir", cache_dir=cache_dir, n_subjects=n_subjects)
    else:
        root = ensure_simulated(
            "mcgill", cache_dir=cache_dir, n_subjects=n_subjects, duration_s=duration_s
        )
    params = PrepareParams(
        dataset=dataset,
        representation="raw",
        segmentation="dense",
        dense_step=DENSE_STEP[dataset],
        edge="pad",
        channels=("acc", "gyr", "acc_mag", "gyr_mag"),
    )
    path = prepare_dataset(params, root, cache_dir=cache_dir, progress=False)
    image_set = read_image_set(path)
    walks = np.array(
        [
            f"{r['subject_id']}/{r['session']}/{r['walk'].split('#')[0]}"
            for r in image_set.recordings
        ]
    )
    return {
        "windows": image_set.images[:, 0],  # (n, 64, 8)
        "subject": image_set.subject_ids,
        "session": image_set.sessions,
        "walk": walks[image_set.recording_index],
        "segment": image_set.recording_index,
        "gallery": "gallery" if dataset == "ouisir" else "day1",
        "probe": "probe" if dataset == "ouisir" else "day2",
    }


def split_users(subjects: np.ndarray, config: RunConfig) -> dict[str, np.ndarray]:
    """Disjoint training, calibration and test users drawn with ``default_rng(seed)``."""
    users = np.random.default_rng(config.seed).permutation(np.unique(subjects))
    n_train_all = round(config.train_share * users.size)
    n_calibration = max(2, round(config.calibration_share * n_train_all))
    return {
        "train": np.sort(users[: n_train_all - n_calibration]),
        "calibration": np.sort(users[n_train_all - n_calibration : n_train_all]),
        "test": np.sort(users[n_train_all:]),
    }


def gravity_aligned(windows: np.ndarray) -> np.ndarray:
    """Vertical and horizontal components (acc, gyr) plus |a|, |w| of each raw window.

    g_hat is the unit mean acceleration of the window (gravity dominates a 1.28 s mean).
    Output columns: a_v, a_h, w_v, w_h, |a|, |w| (orientation-free up to a heading rotation).
    """
    acc, gyr = windows[..., 0:3], windows[..., 3:6]
    g_hat = acc.mean(axis=1, keepdims=True)
    g_hat = g_hat / np.maximum(np.linalg.norm(g_hat, axis=-1, keepdims=True), 1e-9)
    parts = []
    for vectors in (acc, gyr):
        vertical = np.sum(vectors * g_hat, axis=-1)
        horizontal = np.linalg.norm(vectors - vertical[..., None] * g_hat, axis=-1)
        parts += [vertical, horizontal]
    parts += [windows[..., 6], windows[..., 7]]
    return np.stack(parts, axis=-1).astype(np.float32)


def rotate_windows(windows: np.ndarray, seed: int, epoch: int) -> np.ndarray:
    """Turn each raw window's sensor axes (acc and gyr together) by a uniform random rotation.

    Augmentation for the ``raw`` channel set, by the package's own
    :class:`gaitcnn.rawwindows.RotationAugment` (windows ``(n, width, 8)``: ax ay az gx gy gz
    |a| |w|); the norms |a|, |w| do not change.
    """
    from gaitcnn.rawwindows import RotationAugment

    turn = RotationAugment(("acc", "gyr", "acc_mag", "gyr_mag"))
    return turn(windows[:, None], seed=seed, epoch=epoch, batch=0)[:, 0]


def select_channels(windows: np.ndarray, channels: str) -> np.ndarray:
    """The input columns of a channel set (see the module docstring)."""
    if channels == "raw":
        return windows
    if channels == "norms":
        return np.ascontiguousarray(windows[..., 6:8])
    if channels == "gravity":
        return gravity_aligned(windows)
    raise ValueError(f"channels must be one of {CHANNEL_SETS}. Received: {channels!r}")


# ----------------------------------------------------------------------------- training
def _pk_order(labels: np.ndarray, users_per_batch: int, rng: np.random.Generator) -> np.ndarray:
    """One epoch's window order in batches of P users x K windows (for SupCon)."""
    n_users = int(labels.max()) + 1
    per_user = max(2, round(labels.size / n_users))
    k = max(2, min(per_user, 256 // users_per_batch))
    members = [rng.permutation(np.flatnonzero(labels == u)) for u in range(n_users)]
    # every user's windows, cycled to ``per_user`` of them, cut into ``rounds`` chunks of k
    chunks = [np.resize(m, per_user)[: (per_user // k) * k].reshape(-1, k) for m in members]
    n_groups = math.ceil(n_users / users_per_batch)
    batches = []
    for r in range(per_user // k):
        for group in np.array_split(rng.permutation(n_users), n_groups):
            batches.append(np.concatenate([chunks[u][r] for u in group]))
    order = [batches[i] for i in rng.permutation(len(batches))]
    return np.concatenate(order), k * users_per_batch


def train_embedding(x: np.ndarray, y: np.ndarray, config: RunConfig):
    """Train the embedding network on the training users' windows; return the embedding model."""
    import keras

    from gaitcnn.models.embedding import (
        build_embedding_cnn,
        build_training_model,
        compile_embedding_model,
        head_for_loss,
        make_loss,
    )
    from gaitcnn.rawwindows import channel_stats
    from gaitcnn.train import TrainConfig, set_seeds

    set_seeds(config.seed)
    mean, sd = channel_stats(x)
    embedding = build_embedding_cnn(
        x.shape[1:], config.embedding_dim, channel_mean=mean, channel_sd=sd, seed=config.seed
    )
    n_classes = int(y.max()) + 1
    model = build_training_model(
        embedding, n_classes, head=head_for_loss(config.loss), seed=config.seed + 1000
    )
    batch = config.batch_size
    rng = np.random.default_rng(config.seed)
    if config.loss == "supcon":
        _, batch = _pk_order(y, config.supcon_users_per_batch, rng)
    train_config = TrainConfig(
        epochs=config.epochs,
        batch_size=batch,
        learning_rate=config.learning_rate,
        lr_schedule="cosine",
        seed=config.seed,
        verbose=0,
    )
    steps = math.ceil(x.shape[0] / batch)
    compile_embedding_model(model, make_loss(config.loss), train_config, steps_per_epoch=steps)
    history = []
    for epoch in range(config.epochs):
        if config.loss == "supcon":
            order, _ = _pk_order(y, config.supcon_users_per_batch, rng)
        else:
            order = rng.permutation(x.shape[0])
        x_epoch = x[order]
        if config.augment == "rotate":
            x_epoch = rotate_windows(x_epoch, config.seed, epoch)
        logs = model.fit(x_epoch, y[order], batch_size=batch, epochs=1, shuffle=False, verbose=0)
        history.append({k: float(v[-1]) for k, v in logs.history.items()})
        logger.info("epoch %d/%d %s", epoch + 1, config.epochs, history[-1])
    keras.backend.clear_session(free_memory=False)
    return embedding, history


# ----------------------------------------------------------------------------- scoring
def _probe_groups(data: dict, mask: np.ndarray, config: RunConfig) -> list[np.ndarray]:
    """Window indices of each probe: a whole walk (OU-ISIR) or runs of day-2 windows (McGill)."""
    groups = []
    for walk in np.unique(data["walk"][mask]):
        index = np.flatnonzero(mask & (data["walk"] == walk))
        if config.dataset == "ouisir":
            groups.append(index)
            continue
        for segment in np.unique(data["segment"][index]):
            run = index[data["segment"][index] == segment]
            n_runs = run.size // config.mcgill_probe_windows
            groups += np.array_split(run[: n_runs * config.mcgill_probe_windows], n_runs or 1)
    return [g for g in groups if g.size]


def score_users(embeddings: np.ndarray, data: dict, users: np.ndarray, config: RunConfig) -> dict:
    """Enrol ``users`` with their gallery windows, score their probes; matrices per fusion."""
    from gaitcnn.verification import make_template, score_walks

    templates, template_users = [], []
    for user in users:
        gallery = (data["subject"] == user) & (data["session"] == data["gallery"])
        if gallery.any():
            templates.append(make_template(embeddings[gallery]))
            template_users.append(user)
    probe_mask = np.isin(data["subject"], users) & (data["session"] == data["probe"])
    groups = _probe_groups(data, probe_mask, config)
    probes = [embeddings[g] for g in groups]
    probe_users = np.array([data["subject"][g[0]] for g in groups])
    every = max(1, round(CYCLE_SAMPLES / DENSE_STEP[config.dataset]))  # one cycle apart
    matrices = {
        name: score_walks(probes, templates, n_first=n, every=every) for name, n in FUSIONS.items()
    }
    n_windows = np.array([g.size for g in groups])
    short = {  # probes with fewer than N windows one cycle apart: scored on those they have
        name: float(np.mean(n_windows < (n - 1) * every + 1)) if n else 0.0
        for name, n in FUSIONS.items()
    }
    return {
        "matrices": matrices,
        "probe_users": probe_users,
        "template_users": template_users,
        "short_probe_rate": short,
    }


def trained_embedding(config: RunConfig, x: np.ndarray, y: np.ndarray, models: Path):
    """Train the row's network, or load it from ``models/`` when an earlier run saved it."""
    import json

    from gaitcnn.export import load_model

    model_path, info_path = models / f"{config.name}.keras", models / f"{config.name}.json"
    if model_path.exists() and info_path.exists():
        logger.info("reusing %s", model_path)
        info = json.loads(info_path.read_text())
        return load_model(model_path), info["history"], info["train_s"]
    started = time.perf_counter()
    embedding, history = train_embedding(x, y, config)
    train_s = time.perf_counter() - started
    models.mkdir(parents=True, exist_ok=True)
    embedding.save(model_path)
    write_json_atomic(info_path, {"history": history, "train_s": train_s})
    return embedding, history, train_s


def run(config: RunConfig, data: dict, models: Path) -> dict:
    """Train, enrol, score and summarise one row; returns the JSON-able result."""
    from gaitcnn.verification import comparisons_from_matrix, threshold_at_far, verification_summary

    started = time.perf_counter()
    users = split_users(data["subject"], config)
    x_all = select_channels(data["windows"], config.channels)
    train_mask = np.isin(data["subject"], users["train"])
    labels = np.searchsorted(users["train"], data["subject"][train_mask])
    embedding, history, train_s = trained_embedding(config, x_all[train_mask], labels, models)
    load_after_training = os.getloadavg()
    started = time.perf_counter()
    eval_mask = ~train_mask
    embeddings = np.zeros((x_all.shape[0], config.embedding_dim), np.float32)
    embeddings[eval_mask] = embedding.predict(x_all[eval_mask], batch_size=1024, verbose=0)
    calibration = score_users(embeddings, data, users["calibration"], config)
    test = score_users(embeddings, data, users["test"], config)
    result = {"config": dataclasses.asdict(config), "history": history, "fusions": {}}
    for name in FUSIONS:
        calib = comparisons_from_matrix(
            calibration["matrices"][name], calibration["probe_users"], calibration["template_users"]
        )
        threshold = threshold_at_far(calib.impostor, 0.01)
        result["fusions"][name] = verification_summary(
            test["matrices"][name],
            test["probe_users"],
            test["template_users"],
            threshold=threshold,
            n_bootstrap=200 if name == "walk" else 0,
            seed=config.seed,
        )
        result["fusions"][name]["short_probe_rate"] = test["short_probe_rate"][name]
    walk = comparisons_from_matrix(
        test["matrices"]["walk"], test["probe_users"], test["template_users"]
    )
    result["walk_scores"] = {"genuine": walk.genuine.tolist(), "impostor": walk.impostor.tolist()}
    result.update(
        n_users={k: int(v.size) for k, v in users.items()},
        n_train_windows=int(train_mask.sum()),
        train_s=train_s,
        score_s=time.perf_counter() - started,
        wall_s=train_s + time.perf_counter() - started,
        verify_one_walk_ms=_verify_latency_ms(embedding, x_all, data, users["test"]),
        load_avg=load_after_training,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        n_params=int(embedding.count_params()),
    )
    return result


def _verify_latency_ms(embedding, x_all: np.ndarray, data: dict, users: np.ndarray) -> float:
    """Median time (ms, warm model) to embed one probe walk's windows and score a template."""
    from gaitcnn.verification import make_template, score_walks

    walk = data["walk"] == data["walk"][np.flatnonzero(np.isin(data["subject"], users))[0]]
    windows = x_all[walk]
    template = make_template(np.ones((1, embedding.outputs[0].shape[-1])))
    times = []
    for _ in range(21):
        started = time.perf_counter()
        vectors = np.asarray(embedding(windows, training=False))
        score_walks([vectors], [template])
        times.append(time.perf_counter() - started)
    return 1000.0 * float(np.median(times[1:]))


# ----------------------------------------------------------------------------- report
def _pct(value) -> str:
    return "n.r." if value is None or not np.isfinite(value) else f"{100 * value:.2f}"


_HEADER = (
    "| data (simulated) | loss | channels | dim | seed | EER walk % [95 % CI] | FRR@FAR1% walk | "
    "FRR@FAR0.1% walk | EER 1 win % | EER 3 cycles % (short %) | rank-1 % | "
    "FAR / FRR at calibrated thr. % | genuine / impostor | train s | verify walk ms | load |"
)


def _channels(config: dict) -> str:
    rotated = config.get("augment", "none") == "rotate"
    return config["channels"] + (" + rotation augm." if rotated else "")


def _row(r: dict) -> str:
    c, walk, n3 = r["config"], r["fusions"]["walk"], r["fusions"]["n3"]
    short = n3.get("short_probe_rate", float("nan"))
    low, high = walk.get("eer_interval", [float("nan")] * 2)
    op = walk["operating_point"]
    return (
        f"| {c['dataset']} n={c['n_subjects']} | {c['loss']} | {_channels(c)} | "
        f"{c['embedding_dim']} | {c['seed']} | {_pct(walk['eer'])} [{_pct(low)}, {_pct(high)}] | "
        f"{_pct(walk['frr_at_far_1pct'])} | {_pct(walk['frr_at_far_0_1pct'])} | "
        f"{_pct(r['fusions']['n1']['eer'])} | {_pct(n3['eer'])} ({_pct(short)}) | "
        f"{_pct(walk['open_set_rank1'])} | {_pct(op['far'])} / {_pct(op['frr'])} | "
        f"{walk['n_genuine']} / {walk['n_impostor']} | {r['train_s']:.0f} | "
        f"{r.get('verify_one_walk_ms', float('nan')):.0f} | {r['load_avg'][0]:.1f} |"
    )


def _mean_rows(results: list[dict]) -> list[str]:
    """Mean +- sd over seeds of the rows run with more than one seed."""
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        c = r["config"]
        key = (c["dataset"], c["n_subjects"], c["loss"], _channels(c), c["embedding_dim"])
        groups.setdefault(key, []).append(r)
    lines = [
        "| data (simulated) | loss | channels | dim | seeds | EER walk % | FRR@FAR1% walk % | "
        "EER 1 win % | EER 3 cycles % | rank-1 % |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (dataset, n, loss, channels, dim), runs in sorted(groups.items()):
        if len(runs) < 2:
            continue
        cells = []
        for fusion, key in (("walk", "eer"), ("walk", "frr_at_far_1pct"), ("n1", "eer"),
                            ("n3", "eer"), ("walk", "open_set_rank1")):  # fmt: skip
            values = 100 * np.array([r["fusions"][fusion][key] for r in runs], float)
            cells.append(f"{values.mean():.2f} +- {values.std(ddof=1):.2f}")
        seeds = ",".join(str(r["config"]["seed"]) for r in runs)
        lines.append(
            f"| {dataset} n={n} | {loss} | {channels} | {dim} | {seeds} | "
            + " | ".join(cells)
            + " |"
        )
    return lines


def write_report(out: Path) -> None:
    """Rebuild ``table.md`` and one DET plot per data set (seed 0) from every finished run."""
    import json

    from gaitcnn.verification.plots import plot_det

    results = [json.loads(p.read_text()) for p in sorted((out / "runs").glob("*.json"))]
    lines = [_HEADER, "|" + "---|" * (_HEADER.count("|") - 1)]
    lines += [_row(r) for r in results]
    lines += ["", "Mean +- sd over seeds (split, weights and shuffling change with the seed):", ""]
    lines += _mean_rows(results)
    write_text_atomic(out / "table.md", "\n".join(lines) + "\n")
    summary = [{k: v for k, v in r.items() if k != "walk_scores"} for r in results]
    write_json_atomic(out / "summary.json", {"versions": versions(), "runs": summary})
    curves: dict[str, dict] = {}
    for r in results:
        c = r["config"]
        if c["seed"] != 0:
            continue
        scores = r["walk_scores"]
        curves.setdefault(f"{c['dataset']}_n{c['n_subjects']}", {})[
            f"{c['loss']} {_channels(c)} d{c['embedding_dim']}"
        ] = (np.array(scores["genuine"], float), np.array(scores["impostor"], float))
    for name, by_label in curves.items():
        plot_det(by_label, out / f"det_{name}.png", title=f"{name} (SIMULATED), whole walk")


def main(argv=None) -> None:
    """Run the requested rows (skipping finished ones) and rebuild the report."""
    import json

    from gaitcnn.prepare import default_cache_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("ouisir", "mcgill"), default="ouisir")
    parser.add_argument("--subjects", type=int, default=None, help="default 744 / 20")
    parser.add_argument("--losses", nargs="+", default=["am_softmax", "arcface", "softmax"])
    parser.add_argument("--channels", nargs="+", default=["raw"], choices=CHANNEL_SETS)
    parser.add_argument("--embedding-dims", nargs="+", type=int, default=[128])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mcgill-duration-s", type=float, default=900.0)
    parser.add_argument("--augment", choices=("none", "rotate"), default="none")
    parser.add_argument("--out", type=Path, default=Path("results/verification_research"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    n_subjects = args.subjects or (744 if args.dataset == "ouisir" else 20)
    data = load_windows(args.dataset, n_subjects, default_cache_dir(), args.mcgill_duration_s)
    (args.out / "runs").mkdir(parents=True, exist_ok=True)
    write_json_atomic(args.out / "versions.json", versions())
    for channels in args.channels:
        for loss in args.losses:
            for dim in args.embedding_dims:
                config = RunConfig(
                    dataset=args.dataset, n_subjects=n_subjects, loss=loss, channels=channels,
                    embedding_dim=dim, epochs=args.epochs, seed=args.seed,
                    mcgill_duration_s=args.mcgill_duration_s,
                    augment=args.augment,
                )  # fmt: skip
                path = args.out / "runs" / f"{config.name}.json"
                if path.exists():
                    logger.info("reusing %s", path)
                    continue
                logger.info("running %s", config.name)
                result = run(config, data, args.out / "models")
                write_json_atomic(path, json.loads(json.dumps(result, default=_json_default)))
                logger.info("%s: walk EER %.4f", config.name, result["fusions"]["walk"]["eer"])
                write_report(args.out)
    write_report(args.out)


def _json_default(value):
    if isinstance(value, np.integer | np.floating):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON-serialisable: {type(value)}")


if __name__ == "__main__":
    main()
