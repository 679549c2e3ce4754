"""Shared parts of the peer family: the aeon dependency, window checks, fitted state as arrays.

A peer turns windows ``(n_windows, n_channels, n_timepoints)`` into features with an aeon
transform (:class:`AeonFeatures`) and labels them with a ridge head
(:mod:`gaitcnn.peers._ridge`). Everything a fitted peer needs is exported as a flat
``dict[str, np.ndarray]`` of numeric, boolean or unicode arrays, so it can be written with
``np.savez`` and read back with ``np.load(..., allow_pickle=False)``: nothing is ever unpickled.

Importing this module imports neither aeon, numba nor scikit-learn.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import warnings
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import click
import numpy as np

__all__ = [
    "AEON_MISSING_MESSAGE",
    "ARRAYS_FORMAT_VERSION",
    "CHUNK_WINDOWS",
    "AeonFeatures",
    "PeerDependencyError",
    "aeon_version",
    "check_windows",
    "import_aeon",
    "json_array",
    "keep_global_rng",
    "pack_state",
    "read_json_array",
    "require_keys",
    "sub_arrays",
    "unpack_state",
]

#: The message shown when aeon is missing (also the text of :class:`PeerDependencyError`).
AEON_MISSING_MESSAGE = (
    "the peer methods (MiniRocket, MultiRocket, RDST) need the optional dependency aeon: "
    "pip install 'gaitcnn[peers]'"
)

#: Windows transformed per aeon call: bounds the float32 working copy (and the features of
#: one chunk at prediction time); also the unit of the progress bar.
CHUNK_WINDOWS = 1024

#: Version of the layout written by ``to_arrays``; ``from_arrays`` refuses other versions.
ARRAYS_FORMAT_VERSION = 1


class PeerDependencyError(ImportError, click.ClickException):
    """An optional peer dependency is missing.

    It is an :class:`ImportError` for library callers and a :class:`click.ClickException` for
    the command line, where click prints ``Error: <message>`` and exits with status 1 instead
    of a traceback.
    """

    def __init__(self, message: str):
        ImportError.__init__(self, message)
        click.ClickException.__init__(self, message)

    def __str__(self) -> str:
        """The message alone."""
        return self.message


def import_aeon(module: str, name: str) -> type:
    """Import ``name`` from the aeon module ``module``, with a one-line error without aeon.

    Parameters
    ----------
    module : str
        E.g. ``"aeon.transformations.collection.convolution_based"``.
    name : str
        E.g. ``"MiniRocket"``.

    Returns
    -------
    type

    Raises
    ------
    PeerDependencyError
        If aeon (or its own dependencies numba and scikit-learn) cannot be imported.
    """
    try:
        found = getattr(importlib.import_module(module), name)
        importlib.import_module("sklearn.linear_model")  # the ridge head's dependency
    except ImportError as exc:
        raise PeerDependencyError(AEON_MISSING_MESSAGE) from exc
    return found


def check_windows(windows, *, min_timepoints: int = 9, allow_empty: bool = False) -> np.ndarray:
    """Validate and convert windows to float32 ``(n_windows, n_channels, n_timepoints)``.

    Parameters
    ----------
    windows : array-like, shape (n_windows, n_channels, n_timepoints)
    min_timepoints : int, default=9
        Shortest window the transform accepts (MiniRocket's kernel length is 9).
    allow_empty : bool, default=False
        Accept zero windows (prediction) or not (fitting).

    Returns
    -------
    np.ndarray of float32
    """
    windows = np.asarray(windows, dtype=np.float32)
    if windows.ndim != 3:
        raise ValueError(
            f"windows must have shape (n_windows, n_channels, n_timepoints), got {windows.shape}"
        )
    if windows.shape[2] < min_timepoints:
        raise ValueError(f"windows need >= {min_timepoints} time points, got {windows.shape[2]}")
    if not allow_empty and windows.shape[0] == 0:
        raise ValueError("no windows to fit on")
    return windows


@contextlib.contextmanager
def keep_global_rng() -> Iterator[None]:
    """Restore numpy's legacy global RNG afterwards (MiniRocket and MultiRocket reseed it)."""
    state = np.random.get_state()  # noqa: NPY002 - aeon reseeds the legacy global RNG
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


# --------------------------------------------------------------------------------------------
# Fitted state <-> flat dict of arrays (no pickle)
# --------------------------------------------------------------------------------------------


def _as_array(key: str, value) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "biufU":  # object, void, datetime... would need pickle
        raise TypeError(f"cannot store {key!r} without pickle: dtype {array.dtype}")
    return array


def pack_state(values: Mapping[str, Any], prefix: str) -> dict[str, np.ndarray]:
    """Flatten named values into ``{prefix + name: array}``; tuples become ``name#0, name#1...``.

    Parameters
    ----------
    values : mapping of str to array, tuple of arrays or scalar
        Scalars (bool, int, float, str) become 0-d arrays.
    prefix : str
        Prepended to every key, e.g. ``"features/aeon/"``.

    Returns
    -------
    dict of str to np.ndarray

    Examples
    --------
    >>> packed = pack_state({"a": (np.zeros(2), np.ones(1)), "b": 3}, "x/")
    >>> sorted(packed), packed["x/b"].shape
    (['x/a#0', 'x/a#1', 'x/b'], ())
    """
    out = {}
    for name, value in values.items():
        if isinstance(value, tuple):
            for i, item in enumerate(value):
                out[f"{prefix}{name}#{i}"] = _as_array(name, item)
        else:
            out[f"{prefix}{name}"] = _as_array(name, value)
    return out


def unpack_state(arrays: Mapping[str, np.ndarray], prefix: str) -> dict[str, Any]:
    """Inverse of :func:`pack_state` for the keys that start with ``prefix``.

    0-d arrays become Python scalars, ``name#i`` keys a tuple ordered by ``i``.

    Examples
    --------
    >>> state = unpack_state(pack_state({"a": (np.zeros(2), np.ones(1)), "b": 3}, "x/"), "x/")
    >>> [v.tolist() for v in state["a"]], state["b"]
    ([[0.0, 0.0], [1.0]], 3)
    """
    out: dict[str, Any] = {}
    items: dict[str, dict[int, np.ndarray]] = {}
    for key, array in arrays.items():
        if not key.startswith(prefix):
            continue
        name = key[len(prefix) :]
        if "#" in name:
            base, index = name.rsplit("#", 1)
            items.setdefault(base, {})[int(index)] = np.asarray(array)
        else:
            array = np.asarray(array)
            out[name] = array.item() if array.ndim == 0 else array
    for base, parts in items.items():
        out[base] = tuple(parts[i] for i in range(len(parts)))
    return out


def sub_arrays(arrays: Mapping[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    """The entries whose key starts with ``prefix``, with the prefix removed."""
    return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}


def require_keys(arrays: Mapping[str, np.ndarray], keys, where: str) -> None:
    """Raise a one-line ``ValueError`` naming the missing keys of a stored peer."""
    missing = sorted(set(keys) - set(arrays))
    if missing:
        raise ValueError(
            f"{where}: stored arrays lack {missing}; received keys {sorted(arrays)[:12]}"
        )


def json_array(values: Mapping[str, Any]) -> np.ndarray:
    """A 0-d unicode array holding ``values`` as JSON (storable with ``allow_pickle=False``)."""
    return np.array(json.dumps(values, sort_keys=True))


def read_json_array(array) -> dict:
    """Inverse of :func:`json_array`."""
    return json.loads(str(np.asarray(array)[()]))


def aeon_version() -> str:
    """The installed aeon version (``"missing"`` without aeon)."""
    from importlib import metadata

    try:
        return metadata.version("aeon")
    except metadata.PackageNotFoundError:
        return "missing"


# --------------------------------------------------------------------------------------------
# Channel scaling + an aeon transform
# --------------------------------------------------------------------------------------------


class AeonFeatures:
    """Per-channel scaling + a fitted aeon collection transform; fitted state as arrays.

    Subclasses name the aeon class (:attr:`AEON_MODULE`, :meth:`_aeon_class_name`), build it
    (:meth:`_make_transform`), list the fitted attributes its ``transform`` reads
    (:meth:`_state_names`) and return their constructor parameters (:meth:`get_params`).

    Notes
    -----
    Channels are scaled with one global mean and standard deviation per channel, estimated on
    the fitting windows. Not per window: per-window z-normalisation would erase the
    between-subject differences of amplitude that identify a walker. Scaling matters because
    multichannel kernels and shapelet distances sum their channels, so unscaled m/s^2 (~10)
    would drown rad/s (~1); centring keeps the zero padding of dilated convolutions neutral.
    """

    AEON_MODULE: ClassVar[str] = ""
    #: Whether the aeon fit reads the labels (RDST draws thresholds from same-class windows).
    USES_LABELS: ClassVar[bool] = False
    #: Shortest window the transform accepts.
    MIN_TIMEPOINTS: ClassVar[int] = 9

    def __init__(self, *, seed: int = 0, n_jobs: int = 1):
        self.seed = int(seed)
        self.n_jobs = int(n_jobs)

    # -- to be provided by subclasses ---------------------------------------------------------
    def get_params(self) -> dict:
        """Constructor parameters that decide the fitted state (``n_jobs`` excluded)."""
        return {"seed": self.seed}

    def _aeon_class_name(self) -> str:
        raise NotImplementedError

    def _make_transform(self, aeon_class: type):
        raise NotImplementedError

    def _state_names(self) -> tuple[str, ...]:
        raise NotImplementedError

    # -- fitting and transforming -------------------------------------------------------------
    def _aeon_class(self) -> type:
        return import_aeon(self.AEON_MODULE, self._aeon_class_name())

    def fit(self, windows, labels=None):
        """Estimate the channel scaling and fit the aeon transform on ``windows``.

        Parameters
        ----------
        windows : np.ndarray, shape (n_windows, n_channels, n_timepoints)
        labels : array-like, shape (n_windows,), optional
            Used only by transforms that read labels (:attr:`USES_LABELS`).

        Returns
        -------
        self
            With ``channel_mean_``, ``channel_scale_``, ``transform_``, ``n_channels_``,
            ``n_timepoints_`` and ``n_features_`` set.
        """
        aeon_class = self._aeon_class()
        windows = check_windows(windows, min_timepoints=self.MIN_TIMEPOINTS)
        # One mean / sd per channel over every sample of every fitting window.
        self.channel_mean_ = windows.mean(axis=(0, 2), dtype=np.float64).astype(np.float32)
        sd = windows.std(axis=(0, 2), dtype=np.float64)
        self.channel_scale_ = np.where(sd > 1e-8, sd, 1.0).astype(np.float32)
        transform = self._make_transform(aeon_class)
        y = np.asarray(labels) if (self.USES_LABELS and labels is not None) else None
        with keep_global_rng():
            transform.fit(self._scaled(windows), y)
        self.transform_ = transform
        self.n_channels_ = int(windows.shape[1])
        self.n_timepoints_ = int(windows.shape[2])
        self.n_features_ = int(self._raw_transform(windows[:1]).shape[1])
        return self

    def _scaled(self, windows: np.ndarray) -> np.ndarray:
        return (windows - self.channel_mean_[None, :, None]) / self.channel_scale_[None, :, None]

    def _raw_transform(self, windows: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings():  # RDST warns when it zeroes non-finite features
            warnings.simplefilter("ignore", UserWarning)
            return np.asarray(self.transform_.transform(self._scaled(windows)), dtype=np.float32)

    def check_fitted(self) -> None:
        """Raise ``RuntimeError`` if :meth:`fit` (or :meth:`from_arrays`) has not run."""
        if not hasattr(self, "transform_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit first")

    def chunks(self, windows, *, progress: bool = False, desc: str = "features"):
        """Yield ``(start, features)`` per chunk of :data:`CHUNK_WINDOWS` windows.

        Parameters
        ----------
        windows : np.ndarray, shape (n_windows, n_channels, n_timepoints)
            Same channels and length as the fitting windows.
        progress : bool, default=False
            tqdm progress bar (unit: windows) on stderr.
        desc : str, default="features"
            Progress bar label.

        Yields
        ------
        start : int
            Index of the chunk's first window.
        features : np.ndarray of float32, shape (n_chunk, n_features)
        """
        from tqdm.auto import tqdm

        self.check_fitted()
        windows = check_windows(windows, min_timepoints=self.MIN_TIMEPOINTS, allow_empty=True)
        if windows.shape[1:] != (self.n_channels_, self.n_timepoints_):
            raise ValueError(
                f"windows must have shape (n, {self.n_channels_}, {self.n_timepoints_}) like the "
                f"fitting windows, received {windows.shape}"
            )
        with tqdm(total=len(windows), desc=desc, unit="win", disable=not progress) as bar:
            for start in range(0, len(windows), CHUNK_WINDOWS):
                chunk = windows[start : start + CHUNK_WINDOWS]
                yield start, self._raw_transform(chunk)
                bar.update(len(chunk))

    def transform(self, windows, *, progress: bool = False, desc: str = "features") -> np.ndarray:
        """Features of ``windows``, computed in chunks.

        Parameters
        ----------
        windows : np.ndarray, shape (n_windows, n_channels, n_timepoints)
            Same channels and length as the fitting windows.
        progress : bool, default=False
            tqdm progress bar on stderr.
        desc : str, default="features"
            Progress bar label.

        Returns
        -------
        np.ndarray of float32, shape (n_windows, n_features)
        """
        self.check_fitted()
        out = np.empty((len(windows), self.n_features_), dtype=np.float32)
        for start, features in self.chunks(windows, progress=progress, desc=desc):
            out[start : start + len(features)] = features
        return out

    # -- state as arrays ----------------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted state as a flat dict of arrays (see :func:`pack_state`).

        Keys: ``config`` (JSON of :meth:`get_params`), ``channel_mean``, ``channel_scale``,
        ``shape`` (n_channels, n_timepoints, n_features), ``aeon/<attribute>`` for every
        attribute of :meth:`_state_names` and ``aeon_meta/<key>`` for aeon's ``metadata_``.
        """
        self.check_fitted()
        state = {name: getattr(self.transform_, name) for name in self._state_names()}
        return {
            "config": json_array(self.get_params()),
            "channel_mean": self.channel_mean_,
            "channel_scale": self.channel_scale_,
            "shape": np.array([self.n_channels_, self.n_timepoints_, self.n_features_]),
            **pack_state(state, "aeon/"),
            **pack_state(dict(self.transform_.metadata_), "aeon_meta/"),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], *, n_jobs: int = 1):
        """Rebuild a fitted transform from :meth:`to_arrays` output (no refitting, no pickle).

        Parameters
        ----------
        arrays : mapping of str to np.ndarray
        n_jobs : int, default=1
            numba threads for ``transform`` (a runtime choice, not stored).

        Returns
        -------
        AeonFeatures
        """
        require_keys(arrays, ("config", "channel_mean", "channel_scale", "shape"), cls.__name__)
        obj = cls.__new__(cls)
        cls._init_from_params(obj, read_json_array(arrays["config"]), n_jobs)
        aeon_class = obj._aeon_class()  # PeerDependencyError without aeon
        from aeon.utils.validation import check_n_jobs

        transform = obj._make_transform(aeon_class)
        state = unpack_state(arrays, "aeon/")
        require_keys(state, obj._state_names(), f"{cls.__name__} aeon state")
        for name in obj._state_names():
            setattr(transform, name, state[name])
        transform.metadata_ = unpack_state(arrays, "aeon_meta/")
        transform._n_jobs = check_n_jobs(obj.n_jobs)
        transform.is_fitted = True
        obj.transform_ = transform
        obj.channel_mean_ = np.asarray(arrays["channel_mean"])
        obj.channel_scale_ = np.asarray(arrays["channel_scale"])
        obj.n_channels_, obj.n_timepoints_, obj.n_features_ = (
            int(v) for v in np.asarray(arrays["shape"])
        )
        return obj

    @classmethod
    def _init_from_params(cls, obj, params: dict, n_jobs: int) -> None:
        cls.__init__(obj, **params, n_jobs=n_jobs)
