"""Peer baselines from outside the paper (optional dependencies, imported lazily).

:data:`PEERS` maps a method name (``"minirocket"``, ``"multirocket"``, ``"rdst"``) to a
classifier of fixed windows with one interface (:class:`~gaitcnn.peers._ridge.WindowPeer`).
Importing this package imports neither aeon, numba, scikit-learn nor TensorFlow; the first
``fit`` or ``from_arrays`` does (:class:`PeerDependencyError` without aeon).
"""

from gaitcnn.peers._base import AEON_MISSING_MESSAGE, PeerDependencyError
from gaitcnn.peers._registry import PEERS, peer_from_arrays
from gaitcnn.peers._ridge import RidgeHead, WindowPeer
from gaitcnn.peers._rocket import (
    MiniRocketPeer,
    MultiRocketFeatures,
    MultiRocketPeer,
    RandomKernelFeatures,
)
from gaitcnn.peers.minirocket import (
    MiniRocketClassifier,
    MiniRocketFeatures,
    minirocket_image_features,
    require_aeon,
    ridge_accept_scores,
)
from gaitcnn.peers.rdst import DilatedShapeletFeatures, RDSTPeer

__all__ = [
    "AEON_MISSING_MESSAGE",
    "PEERS",
    "DilatedShapeletFeatures",
    "MiniRocketClassifier",
    "MiniRocketFeatures",
    "MiniRocketPeer",
    "MultiRocketFeatures",
    "MultiRocketPeer",
    "PeerDependencyError",
    "RDSTPeer",
    "RandomKernelFeatures",
    "RidgeHead",
    "WindowPeer",
    "minirocket_image_features",
    "peer_from_arrays",
    "require_aeon",
    "ridge_accept_scores",
]
