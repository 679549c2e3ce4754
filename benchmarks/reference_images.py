"""Per-pixel pure-Python reference AE-GDI and GDI (slow on purpose: the obvious transcription).

Used by ``tests/test_images.py`` to check the vectorised :mod:`gaitcnn.images` on small inputs
and by ``benchmarks/bench_images.py`` as the speed baseline.
"""

from __future__ import annotations

import math

import numpy as np


def reference_ae_gdi(series, starts, width=64, height=32, edge="strict"):
    """Compute AE-GDIs pixel by pixel with the :mod:`math` module.

    Parameters
    ----------
    series : array_like of float, shape (n_timepoints, 3)
        A 3-axis series.
    starts : array_like of int, shape (n_images,)
        Cycle start indices; the caller guarantees the margins (no validation here).
    width, height : int
        Image size (time columns, delays m = 1..height).
    edge : {"strict", "pad"}
        In "pad" mode pixels whose delayed samples fall outside the series are 0.

    Returns
    -------
    images : np.ndarray of float32, shape (n_images, height, width)
        Angle at a(t) between a(t)->a(t+m) and a(t)->a(t-m), divided by pi.
    """
    data = [[float(x) for x in row] for row in np.asarray(series, dtype=np.float64)]
    n = len(data)
    images = np.zeros((len(starts), height, width), dtype=np.float32)
    for k, start in enumerate(starts):
        for j in range(1, height + 1):
            for i in range(width):
                t = int(start) + i
                if t - j < 0 or t + j >= n:
                    if edge == "pad":
                        continue
                    raise ValueError("start lacks margin")
                a, ahead, behind = data[t], data[t + j], data[t - j]
                u = [ahead[c] - a[c] for c in range(3)]
                v = [behind[c] - a[c] for c in range(3)]
                if not any(u) or not any(v):
                    continue  # the angle is 0 when either vector is zero
                cx = u[1] * v[2] - u[2] * v[1]
                cy = u[2] * v[0] - u[0] * v[2]
                cz = u[0] * v[1] - u[1] * v[0]
                cross = math.sqrt(cx * cx + cy * cy + cz * cz)
                dot = u[0] * v[0] + u[1] * v[1] + u[2] * v[2]
                images[k, j - 1, i] = math.atan2(cross, dot) / math.pi
    return images


def reference_gdi(series, starts, width=64, height=32, normalized=False, edge="strict"):
    """Compute GDIs pixel by pixel: ``<a(t), a(t+m)>`` (or the cosine).

    Parameters
    ----------
    series : array_like of float, shape (n_timepoints, 3)
        A 3-axis series.
    starts : array_like of int, shape (n_images,)
        Cycle start indices; the caller guarantees the margins.
    width, height : int
        Image size.
    normalized : bool
        Cosine instead of the inner product (0 when either vector is zero).
    edge : {"strict", "pad"}
        In "pad" mode pixels whose a(t+m) falls outside the series are 0.

    Returns
    -------
    images : np.ndarray of float32, shape (n_images, height, width)
    """
    data = [[float(x) for x in row] for row in np.asarray(series, dtype=np.float64)]
    n = len(data)
    images = np.zeros((len(starts), height, width), dtype=np.float32)
    for k, start in enumerate(starts):
        for j in range(1, height + 1):
            for i in range(width):
                t = int(start) + i
                if t + j >= n:
                    if edge == "pad":
                        continue
                    raise ValueError("start lacks margin")
                a, b = data[t], data[t + j]
                dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
                if normalized:
                    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(x * x for x in b))
                    dot = dot / norm if norm > 0 else 0.0
                images[k, j - 1, i] = dot
    return images
