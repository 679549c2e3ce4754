"""Figures: acceleration magnitude with detected cycle starts, and grids of AE-GDIs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_cycles", "plot_image_grid"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, no screen needed
    import matplotlib.pyplot as plt

    return plt


def plot_cycles(
    acc_magnitude: np.ndarray,
    starts: np.ndarray,
    sampling_rate_hz: float,
    out_png,
    *,
    true_starts_s: np.ndarray | None = None,
    baseline_starts: np.ndarray | None = None,
    title: str = "",
) -> Path:
    """Plot a_M(t) with the detected cycle starts, like the paper's Figure 2.

    Parameters
    ----------
    acc_magnitude : np.ndarray, shape (n_timepoints,)
        |a| in m/s^2 on a uniform grid.
    starts : np.ndarray, shape (n_cycles,)
        Detected cycle starts (sample indices), drawn as red dots and vertical lines.
    sampling_rate_hz : float
        Rate of ``acc_magnitude``.
    out_png : str or os.PathLike
        Output PNG.
    true_starts_s : np.ndarray, optional
        Ground-truth starts in seconds (simulated data), drawn as green ticks.
    baseline_starts : np.ndarray, optional
        Starts of a baseline detector (sample indices), drawn as grey crosses.
    title : str
        Figure title.

    Returns
    -------
    Path
        The written file.
    """
    plt = _pyplot()
    t = np.arange(len(acc_magnitude)) / sampling_rate_hz
    starts = np.asarray(starts, dtype=int)
    fig, ax = plt.subplots(figsize=(12, 3.5))
    ax.plot(t, acc_magnitude, lw=0.8, color="0.2", label="$a_M$ = |a|")
    for s in starts:
        ax.axvline(t[s], color="tab:red", lw=0.6, alpha=0.5)
    ax.plot(t[starts], acc_magnitude[starts], "o", color="tab:red", ms=4, label="GGGD starts")
    if baseline_starts is not None and len(baseline_starts):
        b = np.asarray(baseline_starts, dtype=int)
        ax.plot(t[b], acc_magnitude[b], "x", color="0.5", ms=5, label="peak baseline")
    if true_starts_s is not None and len(true_starts_s):
        lo = acc_magnitude.min()
        ax.plot(
            true_starts_s,
            np.full(len(true_starts_s), lo),
            "|",
            color="tab:green",
            ms=12,
            label="true starts (simulator)",
        )
    ax.set_xlabel("time (s)")
    ax.set_ylabel("|a| (m/s$^2$)")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=120)
    plt.close(fig)
    return out_png


def plot_image_grid(images_by_label: dict, out_png, *, title: str = "") -> Path:
    """Plot rows of images, one row per label (e.g. subject), one column per image and channel.

    Parameters
    ----------
    images_by_label : dict
        ``label -> np.ndarray of shape (n_images, height, width, n_channels)``.
    out_png : str or os.PathLike
        Output PNG.
    title : str
        Figure title.

    Returns
    -------
    Path
        The written file.
    """
    plt = _pyplot()
    labels = list(images_by_label)
    n_cols = max(imgs.shape[0] * imgs.shape[-1] for imgs in images_by_label.values())
    fig, axes = plt.subplots(
        len(labels), n_cols, figsize=(1.9 * n_cols, 1.3 * len(labels)), squeeze=False
    )
    for r, label in enumerate(labels):
        imgs = images_by_label[label]
        col = 0
        for i in range(imgs.shape[0]):
            for c in range(imgs.shape[-1]):
                ax = axes[r, col]
                ax.imshow(imgs[i, :, :, c], vmin=0, vmax=1, cmap="viridis", aspect="auto")
                ax.set_title(f"{label} #{i} ch{c + 1}", fontsize=7)
                col += 1
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return out_png
