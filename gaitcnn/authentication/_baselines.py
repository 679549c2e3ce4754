"""The paper's baselines of the authentication protocol (and the MiniRocket peer's features):
per-image features on exactly the CNN's cycle starts, and nearest-neighbour scores."""

from __future__ import annotations

import numpy as np

from gaitcnn.authentication._config import AuthConfig

__all__ = [
    "baseline_features",
    "gdi_features",
    "load_segments",
    "nn_scores",
    "raw_cnn_windows",
    "segment_features",
    "window_channels",
]


def load_segments(data_root, params) -> dict:
    """Resampled segments of the raw data set keyed like the cache's ``recordings[i]['key']``."""
    from gaitcnn.prepare import load_dataset
    from gaitcnn.resample import resample_recording

    out = {}
    for recording in load_dataset(params.dataset, data_root, params):
        for segment in resample_recording(
            recording, rate_hz=params.rate_hz, max_gap_s=params.max_gap_s
        ):
            out[segment.key] = segment
    return out


def gdi_features(series, starts, rate_hz: float, window_s: float = 2.4, height: int = 32):
    """Zhong & Deng cosine-GDI features of one segment at the given cycle starts.

    Reconstruction (the paper only names "GDI + cosine similarity, sliding window 2.4 s"): the
    normalized GDI ``cos(a(t), a(t+m))`` for delays m = 1..32 over a window of 2.4 s (120
    samples at 50 Hz) starting at the detected cycle start (samples missing at the end of a
    recording are 0), flattened and scaled to unit length, so a dot product is the cosine
    similarity of two GDIs.
    """
    from gaitcnn.images import gdi

    width = round(window_s * rate_hz)
    series = np.asarray(series, dtype=np.float64)
    padded = np.concatenate([series, np.zeros((width + height, series.shape[1]))])
    images = gdi(padded, starts, width=width, height=height, normalized=True, edge="pad")
    flat = np.nan_to_num(images.reshape(len(starts), -1).astype(np.float32))
    flat /= np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-12)
    return flat.astype(np.float16)


def segment_features(series, starts, rate_hz: float, window_s: float = 2.8):
    """Segment-matching features: the 2.8 s window of |a| starting at the cycle start.

    Reconstruction (the paper names only a segment-matching nearest-neighbour baseline on
    2.8 s windows): the acceleration magnitude (orientation-free, as the phone sits loose in
    the pocket) over 140 samples from the cycle start - windows are thus aligned on the gait
    phase - z-normalised per window; matched by Euclidean distance (see :func:`nn_scores`).
    """
    width = round(window_s * rate_hz)
    mag = np.linalg.norm(np.asarray(series, dtype=np.float64), axis=1)
    padded = np.concatenate([mag, np.full(width, mag[-width:].mean())])
    windows = padded[np.asarray(starts)[:, None] + np.arange(width)[None, :]]
    windows = windows - windows.mean(axis=1, keepdims=True)
    windows /= np.maximum(windows.std(axis=1, keepdims=True), 1e-9)
    return windows.astype(np.float16)


def window_channels(image_set, config: AuthConfig) -> tuple[str, ...]:
    """The raw-window channels of ``config`` on this data (accelerometer-only without a gyro)."""
    used = np.unique(image_set.recording_index)
    with_gyro = all(image_set.recordings[int(r)].get("has_gyr", False) for r in used)
    return config.window_channels(with_gyro=with_gyro)


def raw_cnn_windows(image_set, segments: dict, config: AuthConfig) -> np.ndarray:
    """The raw-window CNN's input at every image start, ``(n_images, 1, width, n_columns)``.

    # Paper deviation (``representation="raw"``): the window of the resampled signal from each
    # image's start instead of its AE-GDI; images, starts and splits are the AE-GDI CNN's.
    """
    from gaitcnn.peers.minirocket import image_windows
    from gaitcnn.rawwindows import RAW_WINDOW_SAMPLES

    windows = image_windows(
        image_set, segments, RAW_WINDOW_SAMPLES, channels=window_channels(image_set, config),
        rate_hz=float(image_set.params.get("rate_hz", 50.0)),
    )  # fmt: skip
    return np.ascontiguousarray(windows.transpose(0, 2, 1)[:, None])  # (n, 1, width, columns)


def baseline_features(image_set, segments: dict, config: AuthConfig) -> dict:
    """Per-image inputs of every method but the AE-GDI CNN (same order as ``image_set``).

    The baselines' and peers' features, and under ``"ae_gdi_cnn"`` the raw windows the CNN
    reads when ``config.representation == "raw"`` (:func:`raw_cnn_windows`).
    """
    rate = float(image_set.params.get("rate_hz", 50.0))
    feats = {}
    if "ae_gdi_cnn" in config.methods and config.representation == "raw":
        feats["ae_gdi_cnn"] = raw_cnn_windows(image_set, segments, config)
    from gaitcnn.authentication._config import PEER_METHODS

    for peer in (m for m in config.methods if m in PEER_METHODS):
        from gaitcnn.peers.minirocket import peer_image_features

        feats[peer] = peer_image_features(
            peer, image_set, segments, window_s=config.minirocket_window_s, rate_hz=rate,
            seed=config.seed,
        )  # fmt: skip
    want = [m for m in config.methods if m in ("cosine_gdi", "segment_nn")]
    for method in want:
        rows = [None] * len(image_set.recordings)
        for r, info in enumerate(image_set.recordings):
            sel = np.flatnonzero(image_set.recording_index == r)
            if sel.size == 0:
                continue
            segment = segments[info["key"]]
            st = image_set.starts[sel]
            if method == "cosine_gdi":
                rows[r] = (sel, gdi_features(segment.acc, st, rate, config.cosine_window_s))
            else:
                rows[r] = (sel, segment_features(segment.acc, st, rate, config.segment_window_s))
        dim = next(f.shape[1] for f in (x for x in rows if x) for f in [f[1]])
        out = np.zeros((len(image_set), dim), dtype=np.float16)
        for item in rows:
            if item:
                out[item[0]] = item[1]
        feats[method] = out
    return feats


def nn_scores(probe, gallery, gallery_labels, metric: str) -> np.ndarray:
    """Nearest-neighbour accept scores in [0, 1]; > 0.5 exactly when the nearest is genuine.

    ``metric="cosine"``: with the best cosine similarities to the genuine (c+) and impostor
    (c-) training images, score = 0.5 + (c+ - c-) / 4. ``metric="euclidean"``: with the
    smallest distances d+ and d-, score = d- / (d+ + d-). Both are monotone in the margin of
    the 1-NN decision, so they also give the EER and ROC AUC.
    """
    probe = np.asarray(probe, dtype=np.float32)
    gallery = np.asarray(gallery, dtype=np.float32)
    pos, neg = gallery_labels == 1, gallery_labels == 0
    if metric == "cosine":
        sim = probe @ gallery.T
        return 0.5 + (sim[:, pos].max(axis=1) - sim[:, neg].max(axis=1)) / 4.0
    sq = (probe**2).sum(1)[:, None] + (gallery**2).sum(1)[None, :] - 2.0 * probe @ gallery.T
    dist = np.sqrt(np.maximum(sq, 0.0))
    d_pos, d_neg = dist[:, pos].min(axis=1), dist[:, neg].min(axis=1)
    return d_neg / np.maximum(d_pos + d_neg, 1e-12)
