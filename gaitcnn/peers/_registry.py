"""The registry of peer methods: one name per peer, one interface (:class:`WindowPeer`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gaitcnn.peers._ridge import WindowPeer
from gaitcnn.registry import PEERS as PEER_SPECS

__all__ = ["PEERS", "peer_from_arrays"]

#: Peer classes by method name: the classes named by the one registry,
#: :data:`gaitcnn.registry.PEERS`. Each is a :class:`~gaitcnn.peers._ridge.WindowPeer`:
#: ``Peer(seed=0, n_jobs=1, ...)``, ``fit(windows, labels)``, ``decision_function(windows)``,
#: ``classes_``, ``n_params``, ``model_size_bytes()``, ``to_arrays()`` /
#: ``Peer.from_arrays(arrays)``; ``Peer.TEST_PARAMS`` is a tiny configuration for tests.
PEERS: dict[str, type[WindowPeer]] = {name: spec.load() for name, spec in PEER_SPECS.items()}


def peer_from_arrays(arrays: Mapping[str, np.ndarray], *, n_jobs: int = 1) -> WindowPeer:
    """Rebuild whichever peer ``arrays`` hold (its ``peer`` entry names it).

    Parameters
    ----------
    arrays : mapping of str to np.ndarray
        :meth:`WindowPeer.to_arrays` output, e.g. ``np.load(path, allow_pickle=False)``.
    n_jobs : int, default=1
        numba threads.

    Returns
    -------
    WindowPeer

    Raises
    ------
    ValueError
        If the ``peer`` entry is missing or names no registered peer.
    """
    if "peer" not in arrays:
        raise ValueError(f"no 'peer' entry among the stored arrays {sorted(arrays)[:12]}")
    name = str(np.asarray(arrays["peer"])[()])
    if name not in PEERS:
        raise ValueError(
            f"unknown peer {name!r} in the stored arrays; expected one of {list(PEERS)}"
        )
    return PEERS[name].from_arrays(arrays, n_jobs=n_jobs)
