"""Tiny, seeded synthetic walks with known cycle starts (for cycles/images tests).

Independent of :mod:`gaitcnn.simulate` on purpose: these signals are simple enough that the
truth is obvious, and tests of detection stay meaningful if the simulator changes.
"""

from __future__ import annotations

import numpy as np

GRAVITY_M_S2 = 9.81


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """Return a uniformly random 3x3 rotation matrix (det +1)."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def stride_pattern(phase: np.ndarray, asymmetry: float = 0.15) -> np.ndarray:
    """Body-frame acceleration (m/s^2, gravity excluded) at stride phase(s) in [0, 1).

    Two steps per stride: heel strikes at phase 0 (the cycle start) and 0.5 give sharp
    vertical peaks, each preceded by a valley (so each sits at the end of a U-shape);
    the second step is weaker by ``asymmetry``. Returns shape (..., 3): (ML, AP, V).
    """
    phase = np.asarray(phase, dtype=np.float64)

    def bump(centre, width):
        d = (phase - centre + 0.5) % 1.0 - 0.5
        return np.exp(-0.5 * (d / width) ** 2)

    vertical = (
        4.0 * bump(0.0, 0.035)
        + 4.0 * (1 - asymmetry) * bump(0.5, 0.035)
        - 2.5 * bump(0.87, 0.07)
        - 2.5 * (1 - asymmetry) * bump(0.37, 0.07)
        + 0.6 * np.cos(2 * np.pi * 2 * phase + 0.4)
    )
    anteroposterior = 1.5 * np.sin(2 * np.pi * 2 * phase + 1.0) + 0.8 * bump(0.05, 0.05)
    mediolateral = 1.0 * np.sin(2 * np.pi * phase + 0.3) + 0.3 * np.sin(2 * np.pi * 3 * phase)
    return np.stack([mediolateral, anteroposterior, vertical], axis=-1)


def make_walk(
    n_timepoints: int = 500,
    sampling_rate_hz: float = 50.0,
    stride_frequency_hz: float = 1.0,
    jitter: float = 0.02,
    noise_m_s2: float = 0.3,
    random_state: int = 0,
    *,
    cadence_drift: float = 0.0,
    asymmetry: float = 0.15,
    rotate: bool = True,
):
    """Make a seeded synthetic 3-axis walk with known cycle starts.

    Parameters
    ----------
    n_timepoints : int, default=500
        Samples to generate.
    sampling_rate_hz : float, default=50.0
        Sampling rate.
    stride_frequency_hz : float, default=1.0
        Mean stride (= gait cycle = two steps) frequency at the start of the walk.
    jitter : float, default=0.02
        Relative standard deviation of the individual stride durations.
    noise_m_s2 : float, default=0.3
        Standard deviation of white noise added to each axis (m/s^2).
    random_state : int, default=0
        Seed.
    cadence_drift : float, default=0.0
        Relative linear change of the stride frequency over the walk (0.1 = +10 %).
    asymmetry : float, default=0.15
        How much weaker the second step of each stride is.
    rotate : bool, default=True
        Apply one random sensor orientation to the whole walk.

    Returns
    -------
    acc : np.ndarray of float64, shape (n_timepoints, 3)
        Sensor-frame acceleration including gravity (m/s^2).
    true_starts : np.ndarray of int64, shape (n_cycles,)
        Sample indices of the cycle starts (heel strikes at phase 0) inside the walk.
    """
    rng = np.random.default_rng(random_state)
    duration_s = n_timepoints / sampling_rate_hz
    # Stride boundaries: durations with jitter and a linear cadence drift.
    boundaries = [-rng.uniform(0.0, 1.0) / stride_frequency_hz]
    while boundaries[-1] < duration_s + 2.0 / stride_frequency_hz:
        progress = min(max(boundaries[-1] / duration_s, 0.0), 1.0)
        freq = stride_frequency_hz * (1.0 + cadence_drift * progress)
        boundaries.append(boundaries[-1] + (1.0 / freq) * (1.0 + jitter * rng.normal()))
    boundaries = np.asarray(boundaries)
    t_s = np.arange(n_timepoints) / sampling_rate_hz
    stride_idx = np.searchsorted(boundaries, t_s, side="right") - 1
    phase = (t_s - boundaries[stride_idx]) / (boundaries[stride_idx + 1] - boundaries[stride_idx])
    # Per-stride amplitude variation (5%).
    gain = 1.0 + 0.05 * rng.normal(size=boundaries.size)
    body = stride_pattern(phase, asymmetry) * gain[stride_idx, None]
    body[:, 2] += GRAVITY_M_S2
    rotation = random_rotation(rng) if rotate else np.eye(3)
    acc = body @ rotation.T + noise_m_s2 * rng.normal(size=(n_timepoints, 3))
    starts = np.round(boundaries * sampling_rate_hz).astype(np.int64)
    starts = starts[(starts >= 0) & (starts < n_timepoints)]
    return acc, starts


def make_series(n_timepoints: int = 200, random_state: int = 0) -> np.ndarray:
    """Return a smooth random 3-axis series (n_timepoints, 3) for image tests."""
    rng = np.random.default_rng(random_state)
    t = np.arange(n_timepoints)[:, None]
    freqs = rng.uniform(0.01, 0.1, size=(1, 3))
    return np.sin(2 * np.pi * freqs * t + rng.uniform(0, 6, size=(1, 3))) + 0.3 * rng.normal(
        size=(n_timepoints, 3)
    )


def load_reference_images():
    """Import ``benchmarks/reference_images.py`` by path (the repo root may not be on sys.path)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "reference_images.py"
    spec = importlib.util.spec_from_file_location("_gaitcnn_reference_images", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
