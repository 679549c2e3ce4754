"""Streaming verification: incremental resampling, dense windows and a running decision.

A phone delivers samples in chunks of any size with irregular timestamps. This module turns
them, as they arrive, into exactly the windows the batch path cuts from the whole recording
(:func:`gaitcnn.resample.resample_recording`, then :func:`gaitcnn.images.dense_starts` with the
raw channel stacking of :func:`gaitcnn.prepare.images_for_recording`, ``representation="raw"``)
and scores each window with an embedding function. numpy and scipy only: the model is a
callable ``windows -> embeddings``, a fitted :class:`gaitcnn.GaitModel`
(``StreamingVerifier(model, template)``, :meth:`StreamingVerifier.from_model`) or the TFLite
file of :func:`gaitcnn.export.export_embedding` with its preprocessing contract
(:meth:`StreamingVerifier.from_export`); TensorFlow (or a TFLite runtime) is imported only
when such a model embeds.

Parity with the batch path
--------------------------
The batch path fits one not-a-knot cubic spline through all samples of a segment. A cubic
spline's value between two knots depends on far knots only through the tridiagonal system of
its second derivatives, whose inverse decays geometrically away from the diagonal: by a factor
of at most 1/2 per knot (the system is diagonally dominant with off-diagonal sum = half the
diagonal; 2 - sqrt(3) ~ 0.27 for even spacing). :class:`StreamingResampler` therefore keeps
:data:`CONTEXT_KNOTS` knots of context on each side of every grid point it evaluates and
only emits grid points with that many knots after them (or at the end of a segment), so its
output equals the batch resampling to ~1e-12 (2^-48 of the signal scale). The price is a
latency of :data:`CONTEXT_KNOTS` samples (~0.5 s at 100 Hz, ~1.7 s at an Android phone's
~30 Hz).

Gaps longer than ``max_gap_s`` split the stream into segments, as in the batch path: windows
never span a gap, and every segment has its own grid starting at its first sample. Segments
shorter than ``min_duration_s`` (or with fewer than 4 samples) give no window, as the batch
path drops them. Samples are sorted within a chunk and duplicate timestamps keep the first
sample (as the batch path does); a sample older than one already received (out of order
across chunks) cannot be inserted into what was already emitted and is dropped (counted in
``n_dropped``).

Windows without gait (the phone at rest, all-zero or saturated data) are not scored
(:func:`gait_window_mask`); a stream without a scored window answers "not enough gait", never
a random score.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy.interpolate import CubicSpline

from gaitcnn._files import read_json_file
from gaitcnn.constants import STANDARD_GRAVITY, TARGET_RATE_HZ
from gaitcnn.errors import GaitDataError
from gaitcnn.rawwindows import raw_channels
from gaitcnn.resample import DEFAULT_MAX_GAP_S, DEFAULT_MIN_DURATION_S, MIN_SEGMENT_SAMPLES
from gaitcnn.verification.scores import cosine_matrix

__all__ = [
    "CONTEXT_KNOTS",
    "EMBEDDING_EXPORT_KIND",
    "MIN_GAIT_ACC_SD_M_S2",
    "NOT_ENOUGH_GAIT",
    "STREAM_CHANNELS",
    "Decision",
    "GridChunk",
    "StreamingResampler",
    "StreamingVerifier",
    "WindowEmitter",
    "WindowScore",
    "Windows",
    "gait_window_mask",
    "read_embedding_contract",
]

#: Knots of context kept on each side of an evaluated grid point: 2^-48 ~ 4e-15 bounds the
#: relative influence of the knots beyond them (see the module docstring).
CONTEXT_KNOTS = 48

#: Smallest standard deviation of |a| (m/s^2) within a window for it to count as gait. At rest
#: the norm varies by sensor noise only (~0.01-0.05 m/s^2); walking gives 1-4 m/s^2.
MIN_GAIT_ACC_SD_M_S2 = 0.5

#: Mean |a| must lie within these multiples of g for a window to count as gait (an all-zero or
#: saturated sensor is not a walk).
GAIT_ACC_MEAN_RANGE_G = (0.5, 2.0)

#: Status of a decision without any scored window.
NOT_ENOUGH_GAIT = "not enough gait"

#: ``metadata.json`` ``"kind"`` of an embedding export (:func:`gaitcnn.export.export_embedding`).
EMBEDDING_EXPORT_KIND = "gaitcnn-embedding"

# Relative tolerance when counting grid points (the same as gaitcnn.resample's).
_GRID_EPS = 1e-9

#: The channels a stream can compute window by window (the gravity-aligned ones need the
#: whole walk's moving mean, :func:`gaitcnn.rawwindows.gravity_channels`).
STREAM_CHANNELS = ("acc", "gyr", "acc_mag", "gyr_mag")


def gait_window_mask(acc_windows) -> np.ndarray:
    """Which windows hold gait: |a| varies (not at rest) around a plausible level.

    Parameters
    ----------
    acc_windows : np.ndarray, shape (n_windows, width, 3)
        Acceleration of each window (m/s^2, gravity included).

    Returns
    -------
    np.ndarray of bool, shape (n_windows,)
        sd(|a|) >= :data:`MIN_GAIT_ACC_SD_M_S2` and mean(|a|) within
        :data:`GAIT_ACC_MEAN_RANGE_G` times g.

    Examples
    --------
    >>> t = np.arange(64) / 50.0
    >>> walk = np.stack([np.zeros(64), np.zeros(64), 9.8 + 3 * np.sin(2 * np.pi * 2 * t)], -1)
    >>> gait_window_mask(np.stack([walk, np.zeros((64, 3)), np.tile([0, 0, 9.8], (64, 1))]))
    array([ True, False, False])
    """
    acc_windows = np.asarray(acc_windows, dtype=np.float64)
    if acc_windows.ndim != 3 or acc_windows.shape[-1] != 3:
        raise ValueError(
            f"acc_windows must have shape (n_windows, width, 3). Received {acc_windows.shape}."
        )
    norm = np.linalg.norm(acc_windows, axis=-1)
    low, high = GAIT_ACC_MEAN_RANGE_G
    level = norm.mean(axis=1) / STANDARD_GRAVITY
    return (norm.std(axis=1) >= MIN_GAIT_ACC_SD_M_S2) & (level >= low) & (level <= high)


class GridChunk(NamedTuple):
    """Consecutive grid samples of one segment emitted by :class:`StreamingResampler`.

    Attributes
    ----------
    segment : int
        0-based number of the segment (a new one after every gap > ``max_gap_s``).
    first_index : int
        Grid index of the first sample within its segment.
    timestamps_s : np.ndarray, shape (n,)
        ``segment_start + k / rate_hz``.
    values : np.ndarray, shape (n, n_channels)
        The spline on the grid, float64.
    """

    segment: int
    first_index: int
    timestamps_s: np.ndarray
    values: np.ndarray


class StreamingResampler:
    """Incremental cubic-spline resampling equal to :func:`gaitcnn.resample.resample_recording`.

    Parameters
    ----------
    rate_hz : float, default=50.0
        Grid rate.
    max_gap_s : float, default=0.5
        Longer gaps between samples start a new segment.
    min_duration_s : float, default=1.0
        A segment emits nothing until it spans this long (the batch path drops shorter ones).
    context_knots : int, default=48
        Knots of context on each side of an evaluated grid point (:data:`CONTEXT_KNOTS`).
    """

    def __init__(
        self,
        *,
        rate_hz: float = TARGET_RATE_HZ,
        max_gap_s: float = DEFAULT_MAX_GAP_S,
        min_duration_s: float = DEFAULT_MIN_DURATION_S,
        context_knots: int = CONTEXT_KNOTS,
    ):
        if not (math.isfinite(rate_hz) and rate_hz > 0):
            raise ValueError(f"rate_hz must be positive. Received: rate_hz={rate_hz!r}")
        if not max_gap_s > 0:
            raise ValueError(f"max_gap_s must be positive. Received: max_gap_s={max_gap_s!r}")
        if not (isinstance(context_knots, int) and context_knots >= 4):
            raise ValueError(f"context_knots must be an int >= 4. Received: {context_knots!r}")
        self.rate_hz = float(rate_hz)
        self.max_gap_s = float(max_gap_s)
        self.min_duration_s = float(min_duration_s)
        self.context_knots = context_knots
        self.n_dropped = 0  # samples out of order across chunks, or duplicates
        self._segment = -1
        self._last_t = np.nan  # time of the last accepted sample
        self._start_new_segment()

    def _start_new_segment(self) -> None:
        self._segment += 1
        self._t0: float | None = None  # absolute time of the segment's first sample
        self._knots_t = np.zeros(0)  # relative to _t0
        self._knots_x: np.ndarray | None = None
        self._n_knots_seen = 0
        self._next_k = 0  # next grid index to emit

    def push(self, timestamps_s, values) -> list[GridChunk]:
        """Add samples; return the grid samples that became final.

        Parameters
        ----------
        timestamps_s : np.ndarray, shape (n,)
            Sample times in seconds (any order within the chunk; finite).
        values : np.ndarray, shape (n, n_channels)
            Finite sensor values, the same channels in every chunk.

        Returns
        -------
        list of GridChunk
            In time order; possibly empty. A gap in this chunk closes the previous segment.
        """
        t = np.asarray(timestamps_s, dtype=np.float64).reshape(-1)
        x = np.asarray(values, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] != t.size:
            raise ValueError(
                f"values must have shape ({t.size}, n_channels) like timestamps_s. "
                f"Received {x.shape}."
            )
        if not (np.isfinite(t).all() and np.isfinite(x).all()):
            raise ValueError("timestamps_s and values must be finite. Received NaN or inf.")
        if self._knots_x is not None and x.shape[1] != self._knots_x.shape[1]:
            raise ValueError(
                f"values must keep {self._knots_x.shape[1]} channels. Received {x.shape[1]}."
            )
        order = np.argsort(t, kind="stable")
        t, x = t[order], x[order]
        keep = np.r_[True, np.diff(t) > 0]
        if not np.isnan(self._last_t):
            keep &= t > self._last_t
        self.n_dropped += int((~keep).sum())
        t, x = t[keep], x[keep]
        out: list[GridChunk] = []
        # a step longer than max_gap_s before sample i starts a new segment at i (NaN: none)
        gaps = np.flatnonzero(np.diff(np.r_[self._last_t, t]) > self.max_gap_s)
        for start, stop in zip(np.r_[0, gaps], np.r_[gaps, t.size], strict=True):
            if start in gaps:
                out += self.finish()
            out += self._append(t[start:stop], x[start:stop])
        if t.size:
            self._last_t = t[-1]
        return out

    def finish(self) -> list[GridChunk]:
        """Close the current segment: emit the rest of it (up to its last sample).

        Call at the end of a stream; the next sample pushed starts a new segment.
        """
        out = self._emit(closing=True)
        if self._knots_x is not None:
            self._start_new_segment()
        return out

    def _append(self, t: np.ndarray, x: np.ndarray) -> list[GridChunk]:
        if t.size == 0:
            return []
        if self._t0 is None:
            self._t0 = t[0]
        self._knots_t = np.r_[self._knots_t, t - self._t0]
        self._knots_x = x if self._knots_x is None else np.vstack([self._knots_x, x])
        self._n_knots_seen += t.size
        return self._emit(closing=False)

    def _emit(self, *, closing: bool) -> list[GridChunk]:
        knots_t, knots_x = self._knots_t, self._knots_x
        if knots_x is None or self._n_knots_seen < MIN_SEGMENT_SAMPLES:
            return []
        if knots_t[-1] < self.min_duration_s:  # knot times are relative to the first sample
            return []  # a segment this short is dropped by the batch path (or not yet long)
        if closing:
            last_k = int(np.floor(knots_t[-1] * self.rate_hz * (1 + _GRID_EPS)))
        elif knots_t.size > self.context_knots:
            limit = knots_t[-1 - self.context_knots]
            last_k = int(np.floor(limit * self.rate_hz))
        else:
            return []
        if last_k < self._next_k:
            return []
        grid_rel = np.arange(self._next_k, last_k + 1) / self.rate_hz
        spline = CubicSpline(knots_t, knots_x, axis=0, bc_type="not-a-knot", extrapolate=True)
        chunk = GridChunk(self._segment, self._next_k, self._t0 + grid_rel, spline(grid_rel))
        self._next_k = last_k + 1
        self._trim()
        return [chunk]

    def _trim(self) -> None:
        """Drop knots more than ``context_knots`` before the interval of the next grid point."""
        left = int(np.searchsorted(self._knots_t, self._next_k / self.rate_hz, "right")) - 1
        cut = max(0, left - self.context_knots)
        if cut:
            self._knots_t = self._knots_t[cut:]
            self._knots_x = self._knots_x[cut:]


class Windows(NamedTuple):
    """Windows cut by :class:`WindowEmitter` from one segment.

    Attributes
    ----------
    segment : int
        Segment number (see :class:`GridChunk`).
    starts : np.ndarray of int64, shape (n_windows,)
        Grid index of each window's first sample within the segment.
    start_times_s : np.ndarray, shape (n_windows,)
        Time of each window's first sample.
    windows : np.ndarray of float32, shape (n_windows, width, n_columns)
        The model's input (:func:`gaitcnn.rawwindows.raw_channels`).
    acc : np.ndarray of float64, shape (n_windows, width, 3)
        Acceleration of each window, for :func:`gait_window_mask`.
    """

    segment: int
    starts: np.ndarray
    start_times_s: np.ndarray
    windows: np.ndarray
    acc: np.ndarray


class WindowEmitter:
    """Cut the grid samples of :class:`StreamingResampler` into dense windows as they arrive.

    The windows start at grid samples ``0, step, 2 step, ...`` of every segment and are emitted
    as soon as their last sample exists: the same windows as
    :func:`gaitcnn.images.dense_starts` (``edge="pad"``) on the whole segment.

    Parameters
    ----------
    width : int, default=64
        Window length in samples.
    step : int, default=4
        Samples between window starts.
    channels : sequence of str, default=("acc", "gyr", "acc_mag", "gyr_mag")
        Columns of the windows (:data:`STREAM_CHANNELS`, computed as
        :func:`gaitcnn.rawwindows.raw_channels`). The grid values hold acc in columns 0-2 and,
        when present, gyr in columns 3-5.
    """

    def __init__(
        self,
        width: int = 64,
        step: int = 4,
        channels: Sequence[str] = ("acc", "gyr", "acc_mag", "gyr_mag"),
    ):
        if not (isinstance(width, int) and width >= 1 and isinstance(step, int) and step >= 1):
            raise ValueError(f"width and step must be ints >= 1. Received {width!r}, {step!r}")
        unknown = [c for c in channels if c not in STREAM_CHANNELS]
        if unknown or not channels:
            raise ValueError(
                f"channels must be names of {STREAM_CHANNELS}. Received: channels={channels!r}"
            )
        self.width, self.step, self.channels = width, step, tuple(channels)
        self._segment = None

    def push(self, chunk: GridChunk) -> Windows:
        """Add consecutive grid samples; return the windows completed by them."""
        if chunk.segment != self._segment:
            self._segment = chunk.segment
            self._first = chunk.first_index  # grid index of the first buffered row
            self._next_start = 0
            self._values = np.zeros((0, chunk.values.shape[1]))
            self._times = np.zeros(0)
        if chunk.first_index != self._first + self._values.shape[0]:
            raise ValueError(
                f"grid chunks must be consecutive: expected index "
                f"{self._first + self._values.shape[0]}, received {chunk.first_index}"
            )
        self._values = np.vstack([self._values, chunk.values])
        self._times = np.r_[self._times, chunk.timestamps_s]
        end = self._first + self._values.shape[0]  # one past the last grid index held
        starts = np.arange(self._next_start, end - self.width + 1, self.step, dtype=np.int64)
        rows = starts[:, None] - self._first + np.arange(self.width)[None, :]
        acc = self._values[:, 0:3]
        gyr = self._values[:, 3:6] if self._values.shape[1] >= 6 else None
        columns = raw_channels(acc, gyr, channels=self.channels)
        out = Windows(
            chunk.segment,
            starts,
            self._times[rows[:, 0]] if starts.size else np.zeros(0),
            columns[rows].astype(np.float32),
            acc[rows],
        )
        if starts.size:
            self._next_start = int(starts[-1]) + self.step
        drop = max(0, self._next_start - self._first)
        self._values, self._times = self._values[drop:], self._times[drop:]
        self._first += drop
        return out


#: Front end of a :class:`StreamingVerifier` built on a plain callable, when not given.
_CALLABLE_DEFAULTS = {
    "channels": ("acc", "gyr", "acc_mag", "gyr_mag"),
    "width": 64,
    "step": 4,
    "rate_hz": TARGET_RATE_HZ,
    "max_gap_s": DEFAULT_MAX_GAP_S,
}


def _is_gait_model(obj) -> bool:
    """A GaitModel by its interface (this module never imports the estimator)."""
    return all(hasattr(obj, name) for name in ("embed_windows", "front_end", "channels_"))


def _model_front_end(model, given: dict) -> dict:
    """The stream's front end and embed callable of a fitted GaitModel.

    Raises
    ------
    ValueError
        When the model does not read raw dense windows of stream channels, or ``given``
        contradicts its front end.
    """
    params = model.front_end()
    if params.representation != "raw" or params.segmentation != "dense":
        raise ValueError(
            "the stream cuts raw dense windows; this model reads "
            f"representation={params.representation!r}, segmentation={params.segmentation!r}"
        )
    unknown = [c for c in model.channels_ if c not in STREAM_CHANNELS]
    if unknown:
        raise ValueError(
            f"the stream computes only the channels {STREAM_CHANNELS} window by window. "
            f"Received a model reading {tuple(model.channels_)}"
        )
    front = {
        "channels": tuple(model.channels_),
        "width": int(params.width),
        "step": int(params.dense_step),
        "rate_hz": float(params.rate_hz),
        "max_gap_s": float(params.max_gap_s),
    }
    clash = sorted(k for k, v in given.items() if v is not None and _differs(v, front[k]))
    if clash:
        raise ValueError(
            f"{', '.join(clash)} are set by the model's front end "
            f"({ {k: front[k] for k in clash} }). Received: { {k: given[k] for k in clash} }"
        )
    shape = tuple(params.image_shape)  # (1, width, n_columns)

    def embed(windows: np.ndarray) -> np.ndarray:
        return model.embed_windows(windows.reshape(len(windows), *shape))

    front["embed"] = embed
    return front


def _differs(a, b) -> bool:
    return tuple(a) != tuple(b) if isinstance(b, tuple) else a != b


def read_embedding_contract(export_dir) -> dict:
    """The preprocessing contract of an embedding export (``metadata.json`` ``"contract"``).

    Raises
    ------
    GaitDataError
        Naming the file when it is not the metadata of :func:`gaitcnn.export.export_embedding`
        or its window contract is not one the stream can cut (raw dense windows).
    """
    path = Path(export_dir) / "metadata.json"
    metadata = read_json_file(path, what="export metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    contract = metadata.get("contract")
    if metadata.get("kind") != EMBEDDING_EXPORT_KIND or not isinstance(contract, dict):
        raise GaitDataError(
            "not the metadata of an embedding export (gaitcnn.export.export_embedding)", path=path
        )
    front = contract.get("front_end", {})
    if contract.get("representation") != "raw" or front.get("segmentation") != "dense":
        raise GaitDataError(
            "the stream cuts raw dense windows; this export reads "
            f"representation={contract.get('representation')!r}",
            path=path,
        )
    return contract


def _tflite_interpreter(path: Path, num_threads: int | None):
    """A TFLite interpreter of ``path`` from the lightest runtime installed."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            import tensorflow as tf

            Interpreter = tf.lite.Interpreter
    with warnings.catch_warnings():  # tf.lite.Interpreter warns it moves to ai-edge-litert
        warnings.simplefilter("ignore")
        return Interpreter(model_path=str(path), num_threads=num_threads)


def _tflite_embed(path: Path, contract: dict, num_threads: int | None):
    """``embed(windows (n, width, n_columns)) -> (n, embedding_dim)`` on the TFLite model."""
    if not path.is_file():
        raise FileNotFoundError(f"No TFLite model at {path}: export with formats=('tflite',).")
    interpreter = _tflite_interpreter(path, num_threads)
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    shape = tuple(int(d) for d in contract["input_shape"])
    state = {"batch": None}

    def embed(windows: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(windows, dtype=np.float32).reshape(len(windows), *shape)
        if state["batch"] != len(batch):
            interpreter.resize_tensor_input(input_index, batch.shape, strict=False)
            interpreter.allocate_tensors()
            state["batch"] = len(batch)
        interpreter.set_tensor(input_index, batch)
        interpreter.invoke()
        return np.array(interpreter.get_tensor(output_index))

    return embed


class WindowScore(NamedTuple):
    """Score of one completed window.

    Attributes
    ----------
    segment : int
    start : int
        Grid index of the window's first sample within its segment.
    start_time_s : float
    score : float
        Cosine of the window's embedding with the template (nearest member).
    """

    segment: int
    start: int
    start_time_s: float
    score: float


class Decision(NamedTuple):
    """Running decision of a :class:`StreamingVerifier`.

    Attributes
    ----------
    status : str
        ``"accepted"``, ``"rejected"`` or :data:`NOT_ENOUGH_GAIT` (no score).
    score : float or None
        Mean of the fused window scores; None when there are fewer than ``min_windows``.
    threshold : float
    n_windows : int
        Scored (gait) windows fused.
    """

    status: str
    score: float | None
    threshold: float
    n_windows: int

    @property
    def accepted(self) -> bool | None:
        """True / False, or None without enough gait."""
        return None if self.score is None else self.status == "accepted"


class StreamingVerifier:
    """Verify a claimed user on a live IMU stream, window by window.

    Parameters
    ----------
    embed : callable or GaitModel
        ``embed(windows) -> embeddings``: float32 windows ``(n, width, n_columns)`` to
        embeddings ``(n, embedding_dim)`` (e.g. a TFLite interpreter, see :meth:`from_export`);
        or a fitted :class:`gaitcnn.GaitModel` with a raw dense-window front end, whose
        :meth:`~gaitcnn.GaitModel.embed_windows` is used and whose front end sets
        ``channels``, ``width``, ``step``, ``rate_hz`` and ``max_gap_s`` (see
        :meth:`from_model`). TensorFlow is imported only when the model embeds.
    template : np.ndarray, shape (n_members, embedding_dim)
        The claimed user's template (:func:`gaitcnn.verification.make_template`).
    threshold : float, optional
        Accept when the fused score is ``>= threshold``. Required with a callable; a
        GaitModel's default is its calibrated ``threshold_``.
    channels : sequence of str, default=("acc", "gyr", "acc_mag", "gyr_mag")
        Window columns, as the model was trained (:func:`gaitcnn.rawwindows.raw_channels`).
    width, step : int, default=64, 4
        Window length and step in grid samples.
    rate_hz, max_gap_s : float, default=50.0, 0.5
        Of the :class:`StreamingResampler`.
    min_duration_s, context_knots
        Of the :class:`StreamingResampler`.
    min_windows : int, default=1
        Scored windows needed before a decision.
    fusion_windows : int, optional
        Fuse only the last ``fusion_windows`` scores (continuous authentication); default: all.

    Notes
    -----
    With a GaitModel the window scores and the fused score equal the batch path's
    (``cosine(model.embed(recording), template)`` and :meth:`gaitcnn.GaitModel.score`) except
    that the stream does not score windows without gait (:func:`gait_window_mask`), which the
    batch path scores: on a walk every window passes and the two agree to float32 round-off.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> projection = rng.normal(size=(64 * 4, 8))
    >>> embed = lambda w: w.reshape(len(w), -1) @ projection
    >>> verifier = StreamingVerifier(embed, np.ones((1, 8)), 0.5, channels=("acc", "acc_mag"))
    >>> verifier.push(np.arange(20) * 0.03, np.tile([0.0, 0.0, 9.8], (20, 1)))
    []
    >>> verifier.decision.status
    'not enough gait'
    """

    def __init__(
        self,
        embed,
        template,
        threshold: float | None = None,
        *,
        channels: Sequence[str] | None = None,
        width: int | None = None,
        step: int | None = None,
        rate_hz: float | None = None,
        max_gap_s: float | None = None,
        min_duration_s: float = DEFAULT_MIN_DURATION_S,
        context_knots: int = CONTEXT_KNOTS,
        min_windows: int = 1,
        fusion_windows: int | None = None,
    ):
        given = {"channels": channels, "width": width, "step": step, "rate_hz": rate_hz,
                 "max_gap_s": max_gap_s}  # fmt: skip
        if _is_gait_model(embed):
            front = _model_front_end(embed, given)
            if threshold is None:
                threshold = embed.threshold_
        elif callable(embed):
            front = {k: _CALLABLE_DEFAULTS[k] if v is None else v for k, v in given.items()}
            front["embed"] = embed
        else:
            raise TypeError(
                "embed must be a callable windows -> embeddings or a fitted GaitModel. "
                f"Received: {type(embed).__name__}"
            )
        if threshold is None:
            raise ValueError("threshold is required with an embed callable. Received: None")
        self.embed = front["embed"]
        self.template = np.asarray(template, dtype=np.float64)
        self.threshold = float(threshold)
        if not (isinstance(min_windows, int) and min_windows >= 1):
            raise ValueError(f"min_windows must be an int >= 1. Received: {min_windows!r}")
        if fusion_windows is not None and not (
            isinstance(fusion_windows, int) and fusion_windows >= min_windows
        ):
            raise ValueError(
                f"fusion_windows must be None or an int >= min_windows. Received: "
                f"{fusion_windows!r}"
            )
        self.min_windows, self.fusion_windows = min_windows, fusion_windows
        self.channels = tuple(front["channels"])
        self.needs_gyr = any(c.startswith("gyr") for c in self.channels)
        self._resampler = StreamingResampler(
            rate_hz=front["rate_hz"],
            max_gap_s=front["max_gap_s"],
            min_duration_s=min_duration_s,
            context_knots=context_knots,
        )
        self._emitter = WindowEmitter(front["width"], front["step"], self.channels)
        self.scores: list[WindowScore] = []
        self.n_skipped_windows = 0  # windows without gait (rest, zeros)

    @classmethod
    def from_model(cls, model, user_id: str, **kwargs) -> StreamingVerifier:
        """Verify ``user_id`` of ``model.store`` with the model at its calibrated threshold.

        Parameters
        ----------
        model : GaitModel
            Fitted, raw dense-window front end (the verification preset).
        user_id : str
            An enrolled user (:meth:`gaitcnn.GaitModel.enrol`).
        **kwargs
            Of the constructor (``threshold`` overrides ``model.threshold_``).
        """
        return cls(model, model.store.template(user_id), **kwargs)

    @classmethod
    def from_export(
        cls, export_dir, template, threshold: float | None = None, *,
        num_threads: int | None = None, **kwargs,
    ) -> StreamingVerifier:  # fmt: skip
        """Verify with an embedding exported by :func:`gaitcnn.export.export_embedding` (TFLite).

        The window contract (rate, width, step, channels, gap) and the default threshold
        come from the export's ``metadata.json``. The TFLite interpreter is imported here, not
        with this module: ``ai_edge_litert`` or ``tflite_runtime`` when installed (as on a
        device), else TensorFlow's ``tf.lite``.

        Parameters
        ----------
        export_dir : path
            Folder holding ``model.tflite`` and ``metadata.json``.
        template : np.ndarray, shape (n_members, embedding_dim)
            Made with the same model (``metadata.json`` ``contract.model_fingerprint``).
        threshold : float, optional
            Default: the threshold calibrated with the exported model.
        num_threads : int, optional
            TFLite interpreter threads.
        **kwargs
            Other keywords of the constructor (``min_windows``, ``fusion_windows``...).
        """
        contract = read_embedding_contract(export_dir)
        threshold = contract["threshold"] if threshold is None else threshold
        if threshold is None:
            raise ValueError(
                f"the export {export_dir} has no calibrated threshold: pass threshold=..."
            )
        embed = _tflite_embed(Path(export_dir) / "model.tflite", contract, num_threads)
        front = {
            "channels": tuple(contract["channels"]),
            "width": int(contract["window_samples"]),
            "step": int(contract["window_step_samples"]),
            "rate_hz": float(contract["sampling_rate_hz"]),
            "max_gap_s": float(contract["max_gap_s"]),
        }
        clash = sorted(k for k in front if kwargs.get(k) not in (None, front[k]))
        if clash:
            raise ValueError(
                f"{', '.join(clash)} are set by the export's contract. Received: "
                f"{ {k: kwargs[k] for k in clash} }"
            )
        kwargs.update(front)
        return cls(embed, template, threshold, **kwargs)

    def push(self, timestamps_s, acc, gyr=None) -> list[WindowScore]:
        """Add a chunk of samples; return the scores of the windows it completed.

        Parameters
        ----------
        timestamps_s : np.ndarray, shape (n,)
            Seconds, irregular, any chunk size (0 included).
        acc : np.ndarray, shape (n, 3)
            m/s^2.
        gyr : np.ndarray, shape (n, 3), optional
            rad/s; required when the channels use it.

        Returns
        -------
        list of WindowScore
        """
        acc = np.asarray(acc, dtype=np.float64).reshape(-1, 3)
        if self.needs_gyr and gyr is None:
            raise ValueError("the model reads gyroscope channels: pass gyr=(n, 3) in rad/s")
        values = acc if gyr is None else np.hstack([acc, np.asarray(gyr, float).reshape(-1, 3)])
        return self._score(self._resampler.push(timestamps_s, values))

    def finish(self) -> list[WindowScore]:
        """End of the stream: score the windows the last samples completed."""
        return self._score(self._resampler.finish())

    def _score(self, chunks: list[GridChunk]) -> list[WindowScore]:
        new: list[WindowScore] = []
        for chunk in chunks:
            windows = self._emitter.push(chunk)
            gait = gait_window_mask(windows.acc) if windows.starts.size else np.zeros(0, bool)
            self.n_skipped_windows += int((~gait).sum())
            if not gait.any():
                continue
            embeddings = np.asarray(self.embed(windows.windows[gait]), dtype=np.float64)
            scores = cosine_matrix(embeddings, self.template).max(axis=1)
            for start, time_s, score in zip(
                windows.starts[gait], windows.start_times_s[gait], scores, strict=True
            ):
                new.append(WindowScore(windows.segment, int(start), float(time_s), float(score)))
        self.scores += new
        return new

    @property
    def decision(self) -> Decision:
        """The running fused decision (mean of the scored windows so far, or the last N)."""
        scores = [s.score for s in self.scores]
        if self.fusion_windows is not None:
            scores = scores[-self.fusion_windows :]
        if len(scores) < self.min_windows:
            return Decision(NOT_ENOUGH_GAIT, None, self.threshold, len(scores))
        fused = float(np.mean(scores))
        status = "accepted" if fused >= self.threshold else "rejected"
        return Decision(status, fused, self.threshold, len(scores))
