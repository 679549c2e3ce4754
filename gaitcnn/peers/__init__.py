"""Peer baselines from outside the paper (optional dependencies, imported lazily).

Importing this package (or :mod:`gaitcnn.peers.minirocket`) imports neither aeon, numba,
scikit-learn nor TensorFlow; :func:`~gaitcnn.peers.minirocket.require_aeon` does, on first use.
"""

from gaitcnn.peers.minirocket import (
    AEON_MISSING_MESSAGE,
    MiniRocketClassifier,
    MiniRocketFeatures,
    PeerDependencyError,
    minirocket_image_features,
    require_aeon,
    ridge_accept_scores,
)

__all__ = [
    "AEON_MISSING_MESSAGE",
    "MiniRocketClassifier",
    "MiniRocketFeatures",
    "PeerDependencyError",
    "minirocket_image_features",
    "require_aeon",
    "ridge_accept_scores",
]
