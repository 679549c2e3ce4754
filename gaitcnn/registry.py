"""The one registry of networks and methods: names, input kinds and where they are implemented.

The command line reads its choices from here and :class:`gaitcnn.GaitModel` resolves a method
through it. Importing this module imports no TensorFlow and no aeon: builders and peer classes
are named by their import path and loaded only when used.

- :data:`NETWORKS`: Keras builders ``(input_shape, n_classes, **hparams) -> keras.Model``, each
  with the kind of input it reads (``"image"``: 32 x 64 x N_l AE-GDIs or GDIs; ``"series"``:
  raw-signal windows ``(1, n_timepoints, n_channels)``).
- :data:`METHODS`: the rows of the paper's Table 2 (and our Inception ablation): how the images
  are made and which network reads them.
- :data:`PEERS`: the time-series classifiers from outside the paper that gaitcnn measures
  itself against (optional dependency aeon, ``pip install 'gaitcnn[peers]'``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "INPUT_KINDS",
    "METHODS",
    "NETWORKS",
    "PEERS",
    "MethodSpec",
    "NetworkSpec",
    "PeerSpec",
    "load_object",
    "method_names",
]

#: What a network reads: AE-GDI/GDI images, or raw-signal windows.
INPUT_KINDS = ("image", "series")


def load_object(path: str):
    """Import ``"package.module:attribute"`` and return the attribute."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class NetworkSpec:
    """A registered network.

    Attributes
    ----------
    builder : str
        Import path ``"module:function"`` of the builder.
    input_kind : str
        ``"image"`` or ``"series"`` (:data:`INPUT_KINDS`).
    summary : str
        One line for ``--help`` and tables.
    tflearn : bool
        Whether :mod:`gaitcnn.models.tflearn_cnn` can build it (the paper's framework).
    loss : str
        Its training loss (:data:`gaitcnn.train.LOSSES`): ``"cross_entropy"`` [P], or
        ``"am_softmax"`` for an embedding network (users unseen in training).
    """

    builder: str
    input_kind: str
    summary: str
    tflearn: bool = False
    loss: str = "cross_entropy"

    def load(self) -> Callable:
        """The builder function (imports Keras and TensorFlow)."""
        return load_object(self.builder)


#: Every network, by the name configs and the command line use.
NETWORKS: dict[str, NetworkSpec] = {
    "paper_cnn": NetworkSpec(
        "gaitcnn.models.paper_cnn:build_paper_cnn",
        "image",
        "the paper's 7-layer CNN (Figure 1)",
        tflearn=True,
    ),
    "tcnn": NetworkSpec(
        "gaitcnn.models.tcnn:build_tcnn", "image", "Method 3's temporal CNN (1x3 convolutions)"
    ),
    "inception": NetworkSpec(
        "gaitcnn.models.inception:build_inception",
        "image",
        "GoogLeNet-style Inception ablation (1x1 reductions)",
    ),
    "compact_cnn": NetworkSpec(
        "gaitcnn.models.compact_cnn:build_compact_cnn",
        "image",
        "beyond the paper: conv-BN-ReLU blocks with global pooling",
    ),
    "raw_cnn": NetworkSpec(
        "gaitcnn.models.raw_cnn:build_raw_cnn",
        "series",
        "beyond the paper: 1-D CNN on raw-signal windows (the improved preset)",
    ),
    "embedding_cnn": NetworkSpec(
        "gaitcnn.models.embedding:build_embedding_classifier",
        "series",
        "beyond the paper: raw-window embedding network, AM-softmax (the verification preset)",
        loss="am_softmax",
    ),
}


@dataclass(frozen=True)
class MethodSpec:
    """One row of the paper's Table 2: how images are made and which network labels them.

    Attributes
    ----------
    label : str
        Name used in tables and plots.
    representation : str
        :class:`gaitcnn.prepare.PrepareParams` ``representation``.
    segmentation : str
        :class:`gaitcnn.prepare.PrepareParams` ``segmentation``.
    network : str
        Key of :data:`NETWORKS`.
    """

    label: str
    representation: str
    segmentation: str
    network: str


#: The compared methods (paper Table 2 plus our Inception ablation, RECONSTRUCTION 1.6).
METHODS: dict[str, MethodSpec] = {
    # Method 1 [P]: fixed overlapping windows instead of GGGD cycle starts (1.28 s windows,
    # 0.5 s overlap), same AE-GDI and CNN.
    "method1": MethodSpec(
        "Method 1 (overlap windows + AE-GDI + CNN)", "ae_gdi", "overlap", "paper_cnn"
    ),
    # Method 2 [P]: Zhong & Deng's GDI (orientation- but not translation/scale-invariant).
    "method2": MethodSpec("Method 2 (GGGD + GDI + CNN)", "gdi", "gggd", "paper_cnn"),
    # Method 3 [P]: AE-GDI read as a multivariate time series by the temporal CNN.
    "method3": MethodSpec("Method 3 (GGGD + AE-GDI + TCNN)", "ae_gdi", "gggd", "tcnn"),
    "proposed": MethodSpec("Proposed (GGGD + AE-GDI + CNN)", "ae_gdi", "gggd", "paper_cnn"),
    # Beyond the paper: the Inception ablation of the design card (RECONSTRUCTION 1.6).
    "inception": MethodSpec(
        "Inception ablation (GGGD + AE-GDI + Inception)", "ae_gdi", "gggd", "inception"
    ),
}


@dataclass(frozen=True)
class PeerSpec:
    """A peer method: random-kernel or shapelet features of raw windows + a ridge classifier.

    Attributes
    ----------
    implementation : str
        Import path ``"module:class"`` of the classifier, a
        :class:`gaitcnn.peers.WindowPeer` (fit / decision_function on windows of shape
        (n, n_channels, n_timepoints), to_arrays / from_arrays).
    label : str
        Name used in tables and plots.
    """

    implementation: str
    label: str

    def load(self) -> Callable:
        """The classifier class (importing it does not import aeon; fitting does)."""
        return load_object(self.implementation)


#: Peer methods from outside the paper, run on exactly the same splits (``--method``).
PEERS: dict[str, PeerSpec] = {
    "minirocket": PeerSpec(
        "gaitcnn.peers._rocket:MiniRocketPeer", "MiniRocket peer (random kernels + ridge)"
    ),
    "multirocket": PeerSpec(
        "gaitcnn.peers._rocket:MultiRocketPeer",
        "MultiRocket peer (random kernels, four pooling operators, first differences + ridge)",
    ),
    "rdst": PeerSpec("gaitcnn.peers.rdst:RDSTPeer", "RDST peer (random dilated shapelets + ridge)"),
}


def method_names() -> list[str]:
    """Every ``--method`` choice of the labeling protocol: Table 2 rows, then peers."""
    return [*METHODS, *PEERS]
