"""Random-kernel peers: MiniRocket and MultiRocket (aeon, numba) + the shared ridge head.

MiniRocket (Dempster, Schmidt & Webb 2021) turns a multivariate window into "proportion of
positive values" (PPV) features of random dilated convolutions with fixed two-valued kernels.
MultiRocket (Tan, Dempster, Bergmeir & Webb 2022) convolves the window *and* its first
difference with the same kernels and pools each output four ways (PPV, maximum of positive
values, mean of positive values, longest stretch of positive values), about 50,000 features by
default. The "Bake off redux" (Middlehurst, Schafer & Bagnall 2024) ranks MultiRocket(+Hydra)
above MiniRocket; its Hydra half needs PyTorch and is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from gaitcnn.peers._base import AeonFeatures
from gaitcnn.peers._ridge import MAX_LOO_WINDOWS, RIDGE_ALPHAS, WindowPeer

__all__ = [
    "KERNEL_TRANSFORMS",
    "MiniRocketFeatures",
    "MiniRocketPeer",
    "MultiRocketFeatures",
    "MultiRocketPeer",
    "RandomKernelFeatures",
]


@dataclass(frozen=True)
class _KernelTransform:
    """How one aeon random-kernel transform is built and what its fitted state is."""

    aeon_class: str
    default_kernels: int  # aeon's (and the method paper's) default n_kernels
    state: tuple[str, ...]  # fitted attributes that aeon's transform reads


#: The random-kernel transforms by name. ``state`` lists the attributes of the fitted aeon
#: object that its ``transform`` reads (besides ``metadata_``, ``_n_jobs``, ``is_fitted``):
#: MiniRocket's ``parameters`` = (channels per combination, channel indices, dilations,
#: features per dilation, biases); MultiRocket's ``parameter`` / ``parameter1`` = the same for
#: the series and its first difference, and ``random_state_`` (the transform reseeds numba's
#: RNG with it).
KERNEL_TRANSFORMS: dict[str, _KernelTransform] = {
    # 10,000 kernels -> 9,996 features (a multiple of 84)
    "minirocket": _KernelTransform("MiniRocket", 10_000, ("parameters", "n_kernels_")),
    # 6,250 kernels -> 49,728 features (2 series x 4 poolings), the MultiRocket paper's size
    "multirocket": _KernelTransform(
        "MultiRocket", 6_250, ("parameter", "parameter1", "random_state_")
    ),
}


class RandomKernelFeatures(AeonFeatures):
    """Per-channel scaling + aeon's MiniRocket or MultiRocket, fitted once, seeded.

    Parameters
    ----------
    kind : {"minirocket", "multirocket"}
        The transform (:data:`KERNEL_TRANSFORMS`).
    num_kernels : int, optional
        aeon ``n_kernels``; default the transform's own (10,000 / 6,250).
    seed : int, default=0
        ``random_state`` of the transform (channel combinations and the windows its biases
        are drawn from).
    n_jobs : int, default=1
        numba threads for the transform (must not exceed ``NUMBA_NUM_THREADS``).

    Notes
    -----
    The fit uses the data only to set the biases (quantiles of the convolution outputs of
    randomly drawn fitting windows); labels are never used. aeon seeds numpy's *global*
    legacy RNG during the fit; the previous global state is restored afterwards.
    """

    AEON_MODULE = "aeon.transformations.collection.convolution_based"

    def __init__(
        self,
        kind: str = "minirocket",
        *,
        num_kernels: int | None = None,
        seed: int = 0,
        n_jobs: int = 1,
    ):
        if kind not in KERNEL_TRANSFORMS:
            raise ValueError(f"kind must be one of {tuple(KERNEL_TRANSFORMS)}, received {kind!r}")
        super().__init__(seed=seed, n_jobs=n_jobs)
        self.kind = kind
        spec = KERNEL_TRANSFORMS[kind]
        self.num_kernels = int(spec.default_kernels if num_kernels is None else num_kernels)

    def get_params(self) -> dict:
        """``kind``, ``num_kernels`` and ``seed``."""
        return {"kind": self.kind, "num_kernels": self.num_kernels, "seed": self.seed}

    @classmethod
    def _init_from_params(cls, obj, params: dict, n_jobs: int) -> None:
        RandomKernelFeatures.__init__(obj, **params, n_jobs=n_jobs)

    def _aeon_class_name(self) -> str:
        return KERNEL_TRANSFORMS[self.kind].aeon_class

    def _make_transform(self, aeon_class: type):
        return aeon_class(n_kernels=self.num_kernels, n_jobs=self.n_jobs, random_state=self.seed)

    def _state_names(self) -> tuple[str, ...]:
        return KERNEL_TRANSFORMS[self.kind].state


class MiniRocketFeatures(RandomKernelFeatures):
    """:class:`RandomKernelFeatures` with ``kind="minirocket"`` (the original peer's name)."""

    def __init__(self, *, num_kernels: int = 10_000, seed: int = 0, n_jobs: int = 1):
        super().__init__("minirocket", num_kernels=num_kernels, seed=seed, n_jobs=n_jobs)


class MultiRocketFeatures(RandomKernelFeatures):
    """:class:`RandomKernelFeatures` with ``kind="multirocket"``."""

    def __init__(self, *, num_kernels: int = 6_250, seed: int = 0, n_jobs: int = 1):
        super().__init__("multirocket", num_kernels=num_kernels, seed=seed, n_jobs=n_jobs)


class _RandomKernelPeer(WindowPeer):
    """Random-kernel features of windows + ridge (the member ``kind`` is fixed per subclass)."""

    kind: ClassVar[str] = ""

    def __init__(
        self,
        *,
        num_kernels: int | None = None,
        seed: int = 0,
        n_jobs: int = 1,
        alphas: Sequence[float] = RIDGE_ALPHAS,
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
        spec = KERNEL_TRANSFORMS[self.kind]
        self.num_kernels = int(spec.default_kernels if num_kernels is None else num_kernels)

    def get_params(self) -> dict:
        """``num_kernels`` plus :meth:`WindowPeer.get_params`."""
        return {"num_kernels": self.num_kernels, **super().get_params()}

    def _make_features(self) -> RandomKernelFeatures:
        return RandomKernelFeatures(
            self.kind, num_kernels=self.num_kernels, seed=self.seed, n_jobs=self.n_jobs
        )


class MiniRocketPeer(_RandomKernelPeer):
    """MiniRocket features of windows + standardised ridge (aeon ``MiniRocketClassifier``).

    Parameters
    ----------
    num_kernels : int, default=10_000
        Rounded down by aeon to a multiple of 84 (9,996 features).
    seed : int, default=0
    n_jobs : int, default=1
    alphas : tuple of float, default=RIDGE_ALPHAS
    max_loo_windows : int, default=4096
    progress : bool, default=False

    See Also
    --------
    gaitcnn.peers._ridge.WindowPeer : ``fit``, ``decision_function``, ``to_arrays`` ...
    """

    name = "minirocket"
    kind = "minirocket"
    TEST_PARAMS: ClassVar[dict] = {"num_kernels": 84}


class MultiRocketPeer(_RandomKernelPeer):
    """MultiRocket features of windows + standardised ridge (aeon ``MultiRocketClassifier``).

    aeon's classifier scales without centring (``StandardScaler(with_mean=False)``); the ridge
    fits an intercept, so centring changes nothing but rounding.

    Parameters
    ----------
    num_kernels : int, default=6_250
        aeon ``n_kernels``: 49,728 features (84 kernels x dilations x 2 series x 4 poolings).
    seed : int, default=0
    n_jobs : int, default=1
    alphas : tuple of float, default=RIDGE_ALPHAS
    max_loo_windows : int, default=4096
    progress : bool, default=False
    """

    name = "multirocket"
    kind = "multirocket"
    TEST_PARAMS: ClassVar[dict] = {"num_kernels": 84}
