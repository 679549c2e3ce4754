"""The peers' shared classifier: standardised features + a ridge, and the window-peer base class.

:class:`RidgeHead` follows the MiniRocket paper and aeon's ``MiniRocketClassifier`` /
``RDSTClassifier`` (standardised features, ``RidgeClassifierCV`` over a grid of penalties),
with one addition for large training sets (:data:`MAX_LOO_WINDOWS`). After fitting it keeps
only plain arrays (feature mean and scale, coefficients, intercepts, classes) and computes
decision scores from them itself, so a restored head scores bit-identically to the fitted one.

:class:`WindowPeer` pairs an :class:`~gaitcnn.peers._base.AeonFeatures` with a
:class:`RidgeHead`; the registered peers (:data:`gaitcnn.peers.PEERS`) are its subclasses.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from typing import ClassVar

import numpy as np

from gaitcnn.peers._base import (
    ARRAYS_FORMAT_VERSION,
    AeonFeatures,
    aeon_version,
    json_array,
    read_json_array,
    require_keys,
    sub_arrays,
)

__all__ = ["MAX_LOO_WINDOWS", "RIDGE_ALPHAS", "RidgeHead", "WindowPeer"]

#: Ridge penalties tried by leave-one-out (generalised) cross-validation, as in the MiniRocket
#: paper and aeon's ``MiniRocketClassifier`` / ``MultiRocketClassifier``.
RIDGE_ALPHAS: tuple[float, ...] = tuple(float(a) for a in np.logspace(-3, 3, 10))

#: Above this many training windows the ridge penalty is chosen by ``RidgeClassifierCV``'s
#: efficient leave-one-out on a seeded subset of this many windows, and the ridge with that
#: penalty is then fitted on all windows by one Cholesky solve. Reason: the exact leave-one-out
#: needs an eigendecomposition of the n x n Gram matrix (n <= n_features) or an SVD of the
#: n x n_features design (n > n_features): 21 s at n = 4096 on one core, but more than 20 min
#: for the ~16,500 gallery windows of K = 744, while the Cholesky fit costs about a minute.
#: K = 100 (~2,200 windows) stays below the limit and uses plain ``RidgeClassifierCV``.
MAX_LOO_WINDOWS = 4096

#: Rows per chunk of the standardisation statistics: bounds the float64 temporaries (256 rows x
#: 50,000 MultiRocket features = 100 MB).
_STATS_CHUNK = 256


def _column_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation per column in float64, chunked (no full float64 copy)."""
    n = features.shape[0]
    mean = np.zeros(features.shape[1])
    for i in range(0, n, _STATS_CHUNK):
        mean += features[i : i + _STATS_CHUNK].sum(axis=0, dtype=np.float64)
    mean /= n
    sq = np.zeros(features.shape[1])
    for i in range(0, n, _STATS_CHUNK):
        sq += np.square(features[i : i + _STATS_CHUNK] - mean).sum(axis=0)
    sd = np.sqrt(sq / n)
    # Constant features (common: a kernel that is never or always positive) keep scale 1, as
    # in scikit-learn's StandardScaler; the float32 features resolve ~1e-7 relative.
    scale = np.where(sd > 1e-7 * np.maximum(1.0, np.abs(mean)), sd, 1.0)
    return mean, scale


class RidgeHead:
    """Standardised features + ridge classifier; decisions from plain arrays.

    Parameters
    ----------
    alphas : tuple of float, default=RIDGE_ALPHAS
        Penalties tried by efficient leave-one-out cross-validation.
    max_loo_windows : int, default=4096
        With more training rows, the penalty is chosen on a seeded subset of this many and
        the final ridge is fitted on all rows by Cholesky (:data:`MAX_LOO_WINDOWS`).
    seed : int, default=0
        Seed of that subset.

    Attributes
    ----------
    mean_, scale_ : np.ndarray of float64, shape (n_features,)
        Feature standardisation.
    coef_ : np.ndarray, shape (n_classes or 1, n_features)
    intercept_ : np.ndarray, shape (n_classes or 1,)
    classes_ : np.ndarray, shape (n_classes,)
    alpha_ : float
    fit_method_ : str
    train_accuracy_ : float
    """

    def __init__(
        self,
        *,
        alphas: Sequence[float] = RIDGE_ALPHAS,
        max_loo_windows: int = MAX_LOO_WINDOWS,
        seed: int = 0,
    ):
        self.alphas = tuple(float(a) for a in alphas)
        self.max_loo_windows = int(max_loo_windows)
        self.seed = int(seed)

    def fit(self, features: np.ndarray, y: np.ndarray) -> RidgeHead:
        """Standardise ``features`` **in place** and fit the ridge.

        Parameters
        ----------
        features : np.ndarray of float32, shape (n, n_features)
            Overwritten by the standardised features (saves one copy of the largest array).
        y : np.ndarray, shape (n,)
            At least two distinct labels.

        Returns
        -------
        RidgeHead
        """
        from sklearn.linear_model import RidgeClassifier, RidgeClassifierCV

        self.mean_, self.scale_ = _column_stats(features)
        features -= self.mean_.astype(features.dtype)
        features /= self.scale_.astype(features.dtype)
        alphas = np.asarray(self.alphas)
        subset = None
        if len(y) > self.max_loo_windows:
            rng = np.random.default_rng(self.seed)
            subset = np.sort(rng.choice(len(y), self.max_loo_windows, replace=False))
            if np.unique(y[subset]).size < 2:
                subset = None
        if subset is None:
            ridge = RidgeClassifierCV(alphas=alphas).fit(features, y)
            self.alpha_ = float(ridge.alpha_)
            self.fit_method_ = "RidgeClassifierCV (leave-one-out over alphas) on all windows"
        else:
            # see MAX_LOO_WINDOWS: penalty by leave-one-out on a subset, then one exact fit
            self.alpha_ = float(
                RidgeClassifierCV(alphas=alphas).fit(features[subset], y[subset]).alpha_
            )
            # copy_X=False: centres the (already standardised) features in place instead of
            # copying the largest array once more (MultiRocket, K = 744: ~3.3 GB)
            ridge = RidgeClassifier(alpha=self.alpha_, solver="cholesky", copy_X=False)
            ridge.fit(features, y)
            self.fit_method_ = (
                f"alpha by RidgeClassifierCV leave-one-out on {subset.size} seeded windows, "
                "RidgeClassifier (Cholesky) on all windows"
            )
        self.coef_ = np.atleast_2d(np.asarray(ridge.coef_))  # binary: (1, n_features)
        self.intercept_ = np.atleast_1d(np.asarray(ridge.intercept_))
        self.classes_ = np.asarray(ridge.classes_)
        self.train_accuracy_ = float(np.mean(ridge.predict(features) == y))
        return self

    def decision_function(self, features: np.ndarray) -> np.ndarray:
        """Decision scores of raw (unstandardised) features.

        Parameters
        ----------
        features : np.ndarray, shape (n, n_features)

        Returns
        -------
        np.ndarray of float64, shape (n, n_classes)
            Column j belongs to ``classes_[j]``; larger = more likely. A binary ridge's single
            score ``d`` becomes the columns ``[-d, d]``.
        """
        coef = self.coef_.T.astype(np.float64)
        d = np.empty((len(features), coef.shape[1]))
        for i in range(0, len(features), _STATS_CHUNK):  # bounded float64 temporaries
            z = np.asarray(features[i : i + _STATS_CHUNK], dtype=np.float64) - self.mean_
            d[i : i + _STATS_CHUNK] = (z / self.scale_) @ coef
        d += self.intercept_.astype(np.float64)
        if self.coef_.shape[0] == 1 and self.classes_.size == 2:
            return np.column_stack([-d[:, 0], d[:, 0]])
        return d

    @property
    def n_params(self) -> int:
        """Ridge coefficients plus intercepts."""
        return int(self.coef_.size + self.intercept_.size)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted head as arrays: ``mean, scale, coef, intercept, classes, alpha, config``."""
        return {
            "config": json_array(
                {"alphas": list(self.alphas), "max_loo_windows": self.max_loo_windows}
            ),
            "mean": self.mean_,
            "scale": self.scale_,
            "coef": self.coef_,
            "intercept": self.intercept_,
            "classes": self.classes_,
            "alpha": np.array(self.alpha_),
            "fit_method": np.array(self.fit_method_),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], *, seed: int = 0) -> RidgeHead:
        """Rebuild a fitted head from :meth:`to_arrays` output."""
        keys = ("config", "mean", "scale", "coef", "intercept", "classes", "alpha", "fit_method")
        require_keys(arrays, keys, "RidgeHead")
        head = cls(**read_json_array(arrays["config"]), seed=seed)
        for name in ("mean", "scale", "coef", "intercept", "classes"):
            setattr(head, f"{name}_", np.asarray(arrays[name]))
        head.alpha_ = float(arrays["alpha"])
        head.fit_method_ = str(np.asarray(arrays["fit_method"])[()])
        if head.classes_.dtype.kind not in "biuU":
            raise ValueError(f"RidgeHead: classes must be ints or strings, got {head.classes_}")
        return head


class WindowPeer:
    """A peer classifier of fixed windows: aeon features + :class:`RidgeHead`.

    Subclasses set :attr:`name` and :attr:`TEST_PARAMS`, take their feature parameters in
    ``__init__`` and build their :class:`~gaitcnn.peers._base.AeonFeatures` in
    :meth:`_make_features`.

    Parameters
    ----------
    seed : int
        Seed of the transform and of the ridge's penalty subset.
    n_jobs : int
        numba threads.
    alphas : tuple of float
        Ridge penalties.
    max_loo_windows : int
        See :data:`MAX_LOO_WINDOWS`.
    progress : bool
        Progress bars during feature extraction.

    Attributes
    ----------
    features_ : AeonFeatures
    head_ : RidgeHead
    classes_ : np.ndarray, shape (n_classes,)
    n_train_windows_ : int
    feature_time_s_, train_time_s_ : float
        Seconds spent on the training features (fit + transform) and on the ridge.
    """

    #: Registry name (:data:`gaitcnn.peers.PEERS`).
    name: ClassVar[str] = ""
    #: Tiny settings for tests (aeon's ``_get_test_params``).
    TEST_PARAMS: ClassVar[dict] = {}

    def __init__(
        self,
        *,
        seed: int = 0,
        n_jobs: int = 1,
        alphas: Sequence[float] = RIDGE_ALPHAS,
        max_loo_windows: int = MAX_LOO_WINDOWS,
        progress: bool = False,
    ):
        self.seed = int(seed)
        self.n_jobs = int(n_jobs)
        self.alphas = tuple(float(a) for a in alphas)
        self.max_loo_windows = int(max_loo_windows)
        self.progress = bool(progress)

    def _make_features(self) -> AeonFeatures:
        raise NotImplementedError

    def get_params(self) -> dict:
        """Constructor parameters that decide the fitted model (not ``n_jobs``, ``progress``)."""
        return {
            "seed": self.seed,
            "alphas": list(self.alphas),
            "max_loo_windows": self.max_loo_windows,
        }

    def fit(self, windows: np.ndarray, labels) -> WindowPeer:
        """Fit the transform and the ridge on labelled windows.

        Parameters
        ----------
        windows : np.ndarray, shape (n_windows, n_channels, n_timepoints)
        labels : array-like, shape (n_windows,)
            At least two distinct labels (ints or strings).

        Returns
        -------
        WindowPeer
            ``self``.
        """
        labels = np.asarray(labels)
        if labels.shape != (len(windows),):
            raise ValueError(
                f"labels must have one entry per window ({len(windows)}), got {labels.shape}"
            )
        if np.unique(labels).size < 2:
            raise ValueError("need at least two distinct labels to fit a classifier")
        started = time.perf_counter()
        self.features_ = self._make_features().fit(windows, labels)
        features = self.features_.transform(
            windows, progress=self.progress, desc=f"{self.name} train"
        )
        self.feature_time_s_ = time.perf_counter() - started
        started = time.perf_counter()
        self.head_ = RidgeHead(
            alphas=self.alphas, max_loo_windows=self.max_loo_windows, seed=self.seed
        ).fit(features, labels)
        self.train_time_s_ = time.perf_counter() - started
        self.n_train_windows_ = len(labels)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "head_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit first")

    @property
    def classes_(self) -> np.ndarray:
        """Sorted labels seen in :meth:`fit` (column order of every score matrix)."""
        self._check_fitted()
        return self.head_.classes_

    def decision_function(self, windows: np.ndarray) -> np.ndarray:
        """Ridge decision scores of windows, computed chunk by chunk.

        Parameters
        ----------
        windows : np.ndarray, shape (n_windows, n_channels, n_timepoints)

        Returns
        -------
        np.ndarray of float64, shape (n_windows, n_classes)
            Column j belongs to ``classes_[j]``; larger = more likely.
        """
        self._check_fitted()
        out = np.empty((len(windows), self.classes_.size))
        chunks = self.features_.chunks(windows, progress=self.progress, desc=f"{self.name} test")
        for start, features in chunks:
            out[start : start + len(features)] = self.head_.decision_function(features)
        return out

    def predict(self, windows: np.ndarray) -> np.ndarray:
        """Label of each window: the class with the largest score."""
        return self.classes_[np.argmax(self.decision_function(windows), axis=1)]

    @property
    def n_params(self) -> int:
        """Trained parameters: ridge coefficients plus intercepts (the transforms have none)."""
        self._check_fitted()
        return self.head_.n_params

    def model_size_bytes(self) -> int:
        """Bytes of the arrays of :meth:`to_arrays` (what a saved model holds)."""
        return int(sum(a.nbytes for a in self.to_arrays().values()))

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted peer as a flat dict of arrays, storable with ``allow_pickle=False``.

        Keys: ``peer`` (the registry name), ``format_version``, ``aeon_version``, ``config``
        (JSON of :meth:`get_params`), ``features/...`` (:meth:`AeonFeatures.to_arrays`) and
        ``head/...`` (:meth:`RidgeHead.to_arrays`).
        """
        self._check_fitted()
        return {
            "peer": np.array(self.name),
            "format_version": np.array(ARRAYS_FORMAT_VERSION),
            "aeon_version": np.array(aeon_version()),
            "config": json_array(self.get_params()),
            **{f"features/{k}": v for k, v in self.features_.to_arrays().items()},
            **{f"head/{k}": v for k, v in self.head_.to_arrays().items()},
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], *, n_jobs: int = 1) -> WindowPeer:
        """Rebuild a fitted peer from :meth:`to_arrays` output; it scores bit-identically.

        Parameters
        ----------
        arrays : mapping of str to np.ndarray
            E.g. ``np.load(path, allow_pickle=False)``.
        n_jobs : int, default=1
            numba threads (not stored).

        Returns
        -------
        WindowPeer

        Raises
        ------
        ValueError
            If the arrays belong to another peer or format version, or lack a key.
        """
        require_keys(arrays, ("peer", "format_version", "config"), cls.__name__)
        name = str(np.asarray(arrays["peer"])[()])
        if name != cls.name:
            raise ValueError(f"{cls.__name__}.from_arrays: the arrays hold peer {name!r}")
        version = int(arrays["format_version"])
        if version != ARRAYS_FORMAT_VERSION:
            raise ValueError(
                f"{cls.__name__}.from_arrays: format_version {version}, this gaitcnn reads "
                f"{ARRAYS_FORMAT_VERSION}"
            )
        stored_aeon = str(np.asarray(arrays.get("aeon_version", "unknown"))[()])
        if stored_aeon != aeon_version():
            warnings.warn(
                f"{cls.__name__}: stored with aeon {stored_aeon}, restoring with aeon "
                f"{aeon_version()}; scores may differ if aeon changed its transform",
                stacklevel=2,
            )
        peer = cls(**read_json_array(arrays["config"]), n_jobs=n_jobs)
        features_class = type(peer._make_features())
        peer.features_ = features_class.from_arrays(sub_arrays(arrays, "features/"), n_jobs=n_jobs)
        peer.head_ = RidgeHead.from_arrays(sub_arrays(arrays, "head/"), seed=peer.seed)
        return peer
