"""Peer: Random Dilated Shapelet Transform (RDST) + ridge, as aeon's ``RDSTClassifier``.

RDST (Guillaume, Vrain & Elloumi 2022) draws up to 10,000 random shapelets - subsequences of
the training windows, of length 11 and a random dilation, 80 % of them compared after
z-normalisation - and describes a window by three features per shapelet: the minimum distance,
its position and the number of positions closer than a threshold drawn from same-class
windows. aeon's ``RDSTClassifier`` standardises these features and fits
``RidgeClassifierCV(alphas=logspace(-4, 4, 20))``; this peer does the same with the shared
:class:`~gaitcnn.peers._ridge.RidgeHead` (plus the subset rule above
:data:`~gaitcnn.peers._ridge.MAX_LOO_WINDOWS` windows). The "Bake off redux" (Middlehurst,
Schafer & Bagnall 2024) counts RDST among the strong, cheap shapelet methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from gaitcnn.peers._base import AeonFeatures
from gaitcnn.peers._ridge import MAX_LOO_WINDOWS, WindowPeer

__all__ = ["RDST_ALPHAS", "DilatedShapeletFeatures", "RDSTPeer"]

#: Ridge penalties of aeon's ``RDSTClassifier``.
RDST_ALPHAS: tuple[float, ...] = tuple(float(a) for a in np.logspace(-4, 4, 20))

#: aeon's default number of shapelets (30,000 features).
DEFAULT_MAX_SHAPELETS = 10_000


class DilatedShapeletFeatures(AeonFeatures):
    """Per-channel scaling + aeon's ``RandomDilatedShapeletTransform``, seeded.

    Parameters
    ----------
    max_shapelets : int, default=10_000
        Shapelets drawn (fewer when the similarity pruning exhausts the windows).
    seed : int, default=0
        ``random_state`` of the transform (aeon draws from ``np.random.default_rng(seed)``).
    n_jobs : int, default=1
        numba threads.

    Notes
    -----
    Unlike the random-kernel transforms, the fit reads the labels: a shapelet's occurrence
    threshold is a percentile of its distances to a window of the same class. aeon's
    defaults are kept for the shapelet length (``min(max(2, n_timepoints // 2), 11)``),
    the share of z-normalised shapelets (0.8), the threshold percentiles (5, 10) and the
    similarity pruning (0.5).
    """

    AEON_MODULE = "aeon.transformations.collection.shapelet_based"
    USES_LABELS = True

    def __init__(self, *, max_shapelets: int = DEFAULT_MAX_SHAPELETS, seed: int = 0, n_jobs=1):
        super().__init__(seed=seed, n_jobs=n_jobs)
        self.max_shapelets = int(max_shapelets)

    def get_params(self) -> dict:
        """``max_shapelets`` and ``seed``."""
        return {"max_shapelets": self.max_shapelets, "seed": self.seed}

    def _aeon_class_name(self) -> str:
        return "RandomDilatedShapeletTransform"

    def _make_transform(self, aeon_class: type):
        return aeon_class(
            max_shapelets=self.max_shapelets, random_state=self.seed, n_jobs=self.n_jobs
        )

    def _state_names(self) -> tuple[str, ...]:
        # shapelets_ = (values, startpoints, lengths, dilations, thresholds, normalise flags,
        # means, stds, classes); the rest are read by transform's length checks
        return (
            "shapelets_",
            "n_shapelets_",
            "max_shapelet_length_",
            "min_n_timepoints_",
            "shapelet_lengths_",
            "threshold_percentiles_",
        )


class RDSTPeer(WindowPeer):
    """RDST features of windows + standardised ridge (aeon ``RDSTClassifier``).

    Parameters
    ----------
    max_shapelets : int, default=10_000
        aeon's default; 3 features per shapelet.
    seed : int, default=0
    n_jobs : int, default=1
    alphas : tuple of float, default=RDST_ALPHAS
        aeon ``RDSTClassifier``'s ``logspace(-4, 4, 20)``.
    max_loo_windows : int, default=4096
    progress : bool, default=False
    """

    name = "rdst"
    TEST_PARAMS: ClassVar[dict] = {"max_shapelets": 16}

    def __init__(
        self,
        *,
        max_shapelets: int = DEFAULT_MAX_SHAPELETS,
        seed: int = 0,
        n_jobs: int = 1,
        alphas: Sequence[float] = RDST_ALPHAS,
        max_loo_windows: int = MAX_LOO_WINDOWS,
        progress: bool = False,
    ):
        super().__init__(
            seed=seed,
            n_jobs=n_jobs,
            alphas=alphas,
            max_loo_windows=max_loo_windows,
            progress=progress,
        )
        self.max_shapelets = int(max_shapelets)

    def get_params(self) -> dict:
        """``max_shapelets`` plus :meth:`WindowPeer.get_params`."""
        return {"max_shapelets": self.max_shapelets, **super().get_params()}

    def _make_features(self) -> DilatedShapeletFeatures:
        return DilatedShapeletFeatures(
            max_shapelets=self.max_shapelets, seed=self.seed, n_jobs=self.n_jobs
        )
