"""Backends built from other backends, and :func:`make_backend`, which picks the backend.

# Paper deviation: the paper classifies with one CNN (docs/RECONSTRUCTION.md D25-D27).

- :class:`HybridBackend` (``ModelConfig.partner``): a raw-window network and a peer such as
  MiniRocket trained on the same windows; each window's scores are their standardised sum
  (:func:`gaitcnn.fusion.standardised_sum`). The two learn different things - a trained
  convolution stack and random dilated kernels with a linear read-out - so their errors
  differ and the sum is right more often than either.
- :class:`ChosenChannelsBackend` (``channels="auto"``): any backend reading only the channel
  set the training windows call for (:func:`gaitcnn.orientation.choose_channels`).

Both keep the backend interface of :mod:`gaitcnn._backends` (fit, scores, embed, write,
read...), so the estimator, the model file and the experiments treat them like any other.
"""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path

import numpy as np

from gaitcnn._backends import NetworkBackend, PeerBackend, TflearnBackend, _chunks
from gaitcnn.cache import CacheRows
from gaitcnn.fusion import standardised_sum
from gaitcnn.orientation import (
    FIXED_MOUNT_MAX_DEG,
    FIXED_MOUNT_QUANTILE,
    OrientationChoice,
    choose_channels,
)
from gaitcnn.presets import ModelConfig

__all__ = ["ChosenChannelsBackend", "HybridBackend", "make_backend"]

logger = logging.getLogger(__name__)

#: Archive member holding the channel choice of a :class:`ChosenChannelsBackend`.
CHOICE_MEMBER = "channel_choice.json"

#: Share of a scored batch held more than :data:`gaitcnn.orientation.FIXED_MOUNT_MAX_DEG` away
#: from the training orientation above which a fixed-mount model warns.
TURNED_WARN_SHARE = 0.5


def _in_memory(images) -> np.ndarray:
    return images.read() if isinstance(images, CacheRows) else np.asarray(images)


class HybridBackend:
    """A Keras network and a peer partner on the same windows, fused per window.

    Parameters
    ----------
    config : ModelConfig
        With ``partner`` set; the network is ``config``'s, the peer is ``config.partner``
        with ``config.partner_hparams`` (empty: its defaults) and ``config.seed``.
    """

    kind = "hybrid"

    def __init__(self, config: ModelConfig):
        self.config = config
        self.network = NetworkBackend(config)
        peer_config = ModelConfig.from_preset(
            "paper", method=config.partner, seed=config.seed, hparams=dict(config.partner_hparams)
        )
        self.peer = PeerBackend(peer_config)

    def fit(self, images, labels, n_classes: int, **kwargs) -> None:
        """Train the network (as :meth:`NetworkBackend.fit`), then the peer."""
        windows = _in_memory(images)
        self.network.fit(windows, labels, n_classes, **kwargs)
        self.peer.fit(windows, labels, n_classes)

    def scores(self, images) -> np.ndarray:
        """Standardised sum of the network's and the peer's scores, ``(n, n_classes)``."""
        out = [
            standardised_sum(self.network.scores(chunk), self.peer.scores(chunk))
            for chunk in _chunks(images)
        ]
        return np.concatenate(out) if out else np.zeros((0, self.peer.n_classes))

    def embed(self, images) -> np.ndarray:
        """The network's embedding (the peer has none)."""
        return self.network.embed(images)

    @property
    def embedding_dim(self) -> int:
        """Length of the network's embedding."""
        return self.network.embedding_dim

    def __getattr__(self, name):
        # models, hparams, histories, best_epoch, input_shape: the network's
        if name in ("models", "hparams", "histories", "best_epoch", "input_shape"):
            return getattr(self.network, name)
        raise AttributeError(name)

    @property
    def n_params(self) -> int:
        """Weights of the network plus trained parameters of the peer."""
        return self.network.n_params + self.peer.n_params

    def weight_arrays(self) -> list[np.ndarray]:
        """The network's arrays, then the peer's."""
        return [*self.network.weight_arrays(), *self.peer.weight_arrays()]

    def write(self, archive: zipfile.ZipFile, workdir: Path) -> list[str]:
        """The network's members and ``peer.npz``."""
        return [*self.network.write(archive, workdir), *self.peer.write(archive, workdir)]

    def read(self, archive: zipfile.ZipFile, names: list[str], workdir: Path, path) -> None:
        """Load what :meth:`write` wrote."""
        self.network.read(archive, [n for n in names if n.endswith(".keras")], workdir, path)
        self.peer.read(archive, [n for n in names if n.endswith(".npz")], workdir, path)

    def loaded(self, n_classes: int, hparams: dict) -> None:
        """Restore what the model file's description holds (network and peer)."""
        self.network.loaded(n_classes, hparams)
        self.peer.loaded(n_classes, hparams)


class ChosenChannelsBackend:
    """A backend that reads the channel set the training windows call for.

    Parameters
    ----------
    inner : backend
        Trained and scored on the chosen columns only.
    """

    def __init__(self, inner):
        self.inner = inner
        self.choice: OrientationChoice | None = None
        self.front_end: tuple[str, ...] = ()
        self._warned = False

    def __getattr__(self, name):
        if name == "inner":  # not set yet (unpickling, copying): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    def fit(self, images, labels, n_classes: int, *, channels, validation=None, **kwargs):
        """Choose the channels from the training windows, then fit ``inner`` on them."""
        windows = _in_memory(images)
        self.front_end = tuple(channels)
        self.choice = choose_channels(windows, self.front_end)
        logger.info(
            "channels='auto': %.0f %% of the training windows hold gravity within %.1f degrees "
            "of their mean: a %s sensor, reading %s",
            100 * FIXED_MOUNT_QUANTILE, self.choice.spread_deg, self.choice.mount,
            "+".join(self.choice.channels),
        )  # fmt: skip
        if validation is not None:
            validation = (self.choice.select(_in_memory(validation[0])), validation[1])
        self.inner.fit(self.choice.select(windows), labels, n_classes, validation=validation,
                       channels=self.choice.channels, **kwargs)  # fmt: skip

    def _selected(self, images):
        for chunk in _chunks(images):
            self._warn_if_turned(chunk)
            yield self.choice.select(chunk)

    def _warn_if_turned(self, chunk) -> None:
        if self._warned or self.choice.mount != "fixed":
            return
        share = self.choice.share_turned(chunk, self.front_end)
        if share > TURNED_WARN_SHARE:
            self._warned = True
            logger.warning(
                "%.0f %% of these windows hold the sensor more than %.0f degrees away from the "
                "training walks, but the model read the sensor axes (trained on a fixed "
                "sensor): its scores are unreliable for a turned sensor; train with "
                "channels='invariant' for sensors that turn",
                100 * share, FIXED_MOUNT_MAX_DEG,
            )  # fmt: skip

    def scores(self, images) -> np.ndarray:
        """``inner``'s scores of the chosen columns."""
        parts = [self.inner.scores(chunk) for chunk in self._selected(images)]
        return np.concatenate(parts) if parts else self.inner.scores(self._empty())

    def embed(self, images) -> np.ndarray:
        """``inner``'s embedding of the chosen columns."""
        parts = [self.inner.embed(chunk) for chunk in self._selected(images)]
        return np.concatenate(parts) if parts else self.inner.embed(self._empty())

    def _empty(self) -> np.ndarray:
        shape = self.inner.input_shape or [1, 1, len(self.choice.columns)]
        return np.zeros((0, *shape), np.float32)

    def weight_arrays(self) -> list[np.ndarray]:
        """``inner``'s arrays, then the chosen columns and the training orientation."""
        return [*self.inner.weight_arrays(), self.choice.columns, self.choice.mean_up]

    def write(self, archive: zipfile.ZipFile, workdir: Path) -> list[str]:
        """``inner``'s members and :data:`CHOICE_MEMBER` (JSON)."""
        names = self.inner.write(archive, workdir)
        record = {"front_end": list(self.front_end), **self.choice.to_dict()}
        archive.writestr(CHOICE_MEMBER, json.dumps(record, indent=2))
        return [*names, CHOICE_MEMBER]

    def read(self, archive: zipfile.ZipFile, names: list[str], workdir: Path, path) -> None:
        """Load what :meth:`write` wrote."""
        record = json.loads(archive.read(CHOICE_MEMBER).decode("utf-8"))
        self.front_end = tuple(record.pop("front_end"))
        self.choice = OrientationChoice.from_dict(record)
        self.inner.read(archive, [n for n in names if n != CHOICE_MEMBER], workdir, path)


def make_backend(config: ModelConfig):
    """The backend of ``config``: a peer, a tflearn-trained network, a Keras network or a
    network with a peer partner (:class:`HybridBackend`); with
    ``channel_choice="auto"`` wrapped to read the channels the training windows call for
    (:class:`ChosenChannelsBackend`)."""
    if config.is_peer:
        backend = PeerBackend(config)
    elif config.partner is not None:
        backend = HybridBackend(config)
    elif config.framework == "tflearn":
        backend = TflearnBackend(config)
    else:
        backend = NetworkBackend(config)
    return ChosenChannelsBackend(backend) if config.channel_choice == "auto" else backend
