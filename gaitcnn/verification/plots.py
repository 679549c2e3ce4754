"""DET curves of verification methods: FRR against FAR on normal-deviate (probit) axes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from scipy.stats import norm

from gaitcnn.plots import _pyplot
from gaitcnn.verification.metrics import det_curve, eer

__all__ = ["plot_det"]

#: Error rates marked on the DET axes (fractions).
DET_TICKS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4)

# Rates of exactly 0 or 1 have no probit; they are drawn at the edge of the axes.
_RATE_FLOOR = 5e-4


def _probit(rates: np.ndarray) -> np.ndarray:
    return norm.ppf(np.clip(rates, _RATE_FLOOR, 1.0 - _RATE_FLOOR))


def plot_det(curves: Mapping[str, tuple], out_png, *, title: str = "") -> Path:
    """Plot one DET curve per method, with its EER point marked.

    Parameters
    ----------
    curves : mapping
        ``label -> (genuine_scores, impostor_scores)`` (NaN = failure to acquire, always
        rejected; see :func:`gaitcnn.verification.metrics.det_curve`).
    out_png : str or os.PathLike
        Output PNG (parents are created).
    title : str
        Figure title.

    Returns
    -------
    Path
        The written file.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5.0))
    for label, (genuine, impostor) in curves.items():
        far, frr, _ = det_curve(genuine, impostor)
        equal = eer(genuine, impostor)
        (line,) = ax.plot(_probit(far), _probit(frr), lw=1.4, label=f"{label} (EER {equal:.2%})")
        if np.isfinite(equal):
            point = _probit(np.array([equal]))[0]
            ax.plot(point, point, "o", color=line.get_color(), ms=6)
    ticks = _probit(np.array(DET_TICKS))
    labels = [f"{100 * t:g}" for t in DET_TICKS]
    limits = (_probit(np.array([_RATE_FLOOR]))[0], _probit(np.array([0.5]))[0])
    ax.plot(limits, limits, ls=":", color="0.6", lw=0.8)  # FAR = FRR
    ax.set(xticks=ticks, yticks=ticks, xlim=limits, ylim=limits)
    ax.set_xticklabels(labels)
    ax.set_yticklabels(labels)
    ax.set_xlabel("false accept rate (%)")
    ax.set_ylabel("false reject rate (%)")
    ax.grid(True, lw=0.4, color="0.85")
    ax.legend(fontsize=7, loc="upper right")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return out_png
