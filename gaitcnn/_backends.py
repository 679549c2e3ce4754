"""How a :class:`gaitcnn.GaitModel` learns from images or windows: a Keras network or a peer.

A backend sees only what the front end made - an array or :class:`gaitcnn.cache.CacheRows` of
images ``(n, height, width, n_channels)`` (raw windows are ``(n, 1, width, n_channels)``) and
integer labels - and returns one score row per image. It knows nothing of recordings, walks or
fusion, which the estimator owns.
"""

from __future__ import annotations

import contextlib
import io
import logging
import zipfile
from pathlib import Path

import numpy as np

from gaitcnn.cache import CacheRows
from gaitcnn.errors import GaitDataError
from gaitcnn.presets import ModelConfig
from gaitcnn.rawwindows import peer_series
from gaitcnn.registry import NETWORKS, PEERS

__all__ = [
    "NetworkBackend",
    "PeerBackend",
    "TflearnBackend",
]

logger = logging.getLogger(__name__)

#: Images scored per forward pass or peer transform (bounds the working memory: the paper CNN's
#: first convolution holds ~240 KB of activations per AE-GDI, so 2048 images took ~500 MB that
#: TensorFlow's allocator then kept; scores are bitwise the same for any chunk size).
SCORE_CHUNK = 512


def _chunks(images):
    from gaitcnn.pipeline import iter_chunks

    return iter_chunks(images, SCORE_CHUNK)


class NetworkBackend:
    """A Keras network (or an ensemble of them) trained by :func:`gaitcnn.train.train`.

    Parameters
    ----------
    config : ModelConfig
    """

    kind = "network"

    def __init__(self, config: ModelConfig):
        self.config = config
        self.models: list = []
        self.hparams: dict = {}
        self.histories: list[dict] = []

    def _resolved_hparams(self, images) -> dict:
        hparams = dict(self.config.hparams)
        if NETWORKS[self.config.network_name].input_kind == "series":
            # The raw-window network scales each channel by statistics of the TRAINING windows,
            # stored inside the model, so every export takes unscaled windows.
            from gaitcnn.rawwindows import channel_stats

            if "channel_mean" not in hparams:
                mean, sd = channel_stats(_chunks(images))
                hparams.update(channel_mean=[float(v) for v in mean])
                hparams.update(channel_sd=[float(v) for v in sd])
        return hparams

    def _validation_split(self, labels, groups):
        from gaitcnn.pipeline import split_by_recording

        fraction = self.config.validation_fraction
        if fraction <= 0:
            return np.arange(labels.size), np.zeros(0, dtype=np.int64)
        if groups is None:
            raise ValueError("validation_fraction > 0 needs the recording (group) of each image")
        split = split_by_recording(groups, labels, validation_fraction=fraction, seed=0)
        return split.train, split.validation

    def fit(self, images, labels, n_classes: int, *, groups=None, validation=None,
            checkpoint_dir=None, resume=False, verbose=0, channels=None) -> None:  # fmt: skip
        """Train ``config.ensemble`` networks on ``images`` (in memory, or checkpointed).

        Parameters
        ----------
        images : np.ndarray or CacheRows, shape (n, height, width, n_channels)
        labels : np.ndarray of int, shape (n,)
        n_classes : int
        groups : np.ndarray, shape (n,), optional
            Recording (or block) of each image, to hold out whole walks for validation.
        validation : (images, labels), optional
            Validation data chosen by the caller (else ``config.validation_fraction``).
        checkpoint_dir : path, optional
            Train each member into ``checkpoint_dir/member<i>`` (resumable) instead of memory.
        resume : bool
            Continue the runs in ``checkpoint_dir``.
        verbose : int
            Keras progress output.
        channels : tuple of str, optional
            The channels the images hold (default: ``config.default_channels``); they place
            the columns that ``config.augment="rotate"`` turns.
        """
        from gaitcnn.models import get_builder

        self.hparams = self._resolved_hparams(images)
        builder = get_builder(self.config.network_name)
        shape = tuple(int(v) for v in images.shape[1:])
        train_idx, val_idx = self._validation_split(labels, groups)
        subset = images.subset if isinstance(images, CacheRows) else images.__getitem__
        data = (subset(train_idx), labels[train_idx])
        val = (subset(val_idx), labels[val_idx]) if val_idx.size else None
        if validation is not None:
            val = (validation[0], np.asarray(validation[1], dtype=np.int64))
        config = self.config.train_config(keep_best=val is not None)
        transform = None
        if self.config.augment == "rotate":
            from gaitcnn.rawwindows import RotationAugment

            transform = RotationAugment(channels or self.config.default_channels)
        self.models, self.histories, self.best_epoch = [], [], None
        for member in range(self.config.ensemble):
            seed = self.config.seed + 1000 * member

            def build(seed=seed):
                with dtype_policy(self.config.precision):
                    return builder(shape, n_classes, seed=seed, **self.hparams)

            out_dir = None if checkpoint_dir is None else Path(checkpoint_dir) / f"member{member}"
            model, history, best_epoch = self._train_member(
                build, data, val, config.replace(seed=seed, verbose=verbose),
                n_classes=n_classes, out_dir=out_dir, resume=resume and out_dir is not None,
                transform=transform,
            )  # fmt: skip
            self.models.append(model)
            self.histories.append(history)
            self.best_epoch = best_epoch if member == 0 else self.best_epoch

    def _train_member(self, build, data, val, config, *, n_classes, out_dir, resume,
                      transform=None):  # fmt: skip
        """Train one network with :func:`gaitcnn.train.train`: (model, history, best epoch)."""
        from gaitcnn.train import train

        result = train(
            build, data, val, config, out_dir=out_dir, resume=resume,
            overwrite=not resume and out_dir is not None, batch_transform=transform,
        )  # fmt: skip
        return result.model, result.history, result.best_epoch

    def scores(self, images) -> np.ndarray:
        """Softmax output per image, averaged over the ensemble: ``(n, n_classes)``."""
        import tensorflow as tf

        forwards = [_forward(model) for model in self.models]
        out = [
            np.mean([f(tf.constant(chunk, tf.float32)).numpy() for f in forwards], axis=0)
            for chunk in _chunks(images)
        ]
        n_classes = int(self.models[0].outputs[0].shape[-1])
        return np.concatenate(out) if out else np.zeros((0, n_classes), np.float32)

    def embed(self, images) -> np.ndarray:
        """Unit-norm embedding per image, averaged over the ensemble: ``(n, dim)``.

        The network's layer ``embedding`` when it has one (the verification preset), else the
        features its output layer reads (the penultimate layer of a classifier).
        """
        import tensorflow as tf

        from gaitcnn.models.embedding import embedding_network
        from gaitcnn.verification.scores import l2_normalise

        if len(getattr(self, "_embedders", ())) != len(self.models):
            self._embedders = [_forward(embedding_network(m)) for m in self.models]
        out = []
        for chunk in _chunks(images):
            batch = tf.constant(chunk, tf.float32)
            vectors = [l2_normalise(f(batch).numpy()) for f in self._embedders]
            out.append(l2_normalise(np.mean(vectors, axis=0)))
        if not out:
            return np.zeros((0, self.embedding_dim), np.float32)
        return np.concatenate(out).astype(np.float32)

    @property
    def embedding_dim(self) -> int:
        """Length of the vectors :meth:`embed` returns."""
        from gaitcnn.models.embedding import embedding_network

        return int(embedding_network(self.models[0]).outputs[0].shape[-1])

    @property
    def input_shape(self) -> list[int]:
        """Shape of one input image."""
        return [int(v) for v in self.models[0].inputs[0].shape[1:]]

    @property
    def n_params(self) -> int:
        """Weights of all members."""
        return int(sum(model.count_params() for model in self.models))

    def weight_arrays(self) -> list[np.ndarray]:
        """Every weight array (for the model fingerprint)."""
        return [w for model in self.models for w in model.get_weights()]

    def loaded(self, n_classes: int, hparams: dict) -> None:
        """Restore what the model file's description holds: the builder's hyper-parameters."""
        self.hparams = dict(hparams)

    def write(self, archive: zipfile.ZipFile, workdir: Path) -> list[str]:
        """Add ``network-<i>.keras`` per member to ``archive``; return the member names."""
        names = []
        for index, model in enumerate(self.models):
            name = f"network-{index}.keras"
            model.save(workdir / name)
            archive.write(workdir / name, name)
            names.append(name)
        return names

    def read(self, archive: zipfile.ZipFile, names: list[str], workdir: Path, path) -> None:
        """Load the members written by :meth:`write` (Keras safe mode, no pickle)."""
        import gaitcnn.models  # noqa: F401 - registers the custom layers safe mode may load
        from gaitcnn.export import load_model

        self.models = []
        for name in names:
            target = workdir / name
            target.write_bytes(archive.read(name))
            try:
                self.models.append(load_model(target))
            except GaitDataError as exc:  # name the user's file, not the temporary copy
                raise GaitDataError(f"member {name}: {exc.problem}", path=path) from exc


@contextlib.contextmanager
def dtype_policy(name: str):
    """Build layers under the Keras dtype policy ``name``; the global policy is restored."""
    import keras

    previous = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(previous)


class TflearnBackend(NetworkBackend):
    """The paper CNN trained by tflearn (the paper's framework), kept as the Keras paper CNN.

    Only the training loop differs from :class:`NetworkBackend`: each network trains in the
    tflearn process (:func:`gaitcnn.models._tflearn_process.fit_tflearn`, fed from the same
    cache rows, split and seeds), then its weights are copied exactly into the Keras paper CNN
    (:func:`gaitcnn.models.tflearn_cnn.tflearn_to_keras`), so scoring, fusion, saving
    (``network-<i>.keras``) and export are the Keras path's. The loops' differences are listed
    in docs/RECONSTRUCTION.md 5.3.
    """

    def _train_member(self, build, data, val, config, *, n_classes, out_dir, resume,
                      transform=None):  # fmt: skip
        """Train one network with tflearn; (Keras model holding its weights, history, best).

        ``transform`` is always None (:class:`ModelConfig` refuses augmentation with tflearn).
        """
        import tempfile

        from gaitcnn.models._tflearn_process import fit_tflearn
        from gaitcnn.models.tflearn_cnn import CLIP_GRADIENTS, tflearn_to_keras

        clip = self.config.global_clipnorm
        loop = {
            "epochs": config.epochs,
            "batch_size": config.batch_size,
            "seed": config.seed,
            "learning_rate": config.learning_rate,
            "adam_epsilon": config.adam_epsilon,
            # None: tflearn's own default (5.0), what the paper most likely trained with
            "clip_gradients": CLIP_GRADIENTS if clip is None else float(clip),
            "shuffle": config.shuffle,
            "deterministic": config.deterministic,
        }
        with contextlib.ExitStack() as stack:
            if out_dir is None:
                out_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="gaitcnn-tfl-"))
            fit = fit_tflearn(
                data, val if config.keep_best else None, n_classes=n_classes, hparams=self.hparams,
                loop=loop, out_dir=out_dir, resume=resume,
            )  # fmt: skip
            model = tflearn_to_keras(fit.checkpoint, build())
        if config.verbose:
            for epoch, loss in zip(fit.history["epoch"], fit.history["loss"], strict=True):
                print(f"tflearn epoch {epoch}/{config.epochs}: loss {loss:.4f}", flush=True)
        return model, fit.history, fit.best_epoch


def _forward(model):
    """Inference-mode forward pass traced once for any batch size."""
    import tensorflow as tf

    spec = tf.TensorSpec((None, *model.inputs[0].shape[1:]), tf.float32)

    @tf.function(input_signature=[spec], reduce_retracing=True)
    def forward(batch):
        return model(batch, training=False)

    return forward


class PeerBackend:
    """A peer classifier (:data:`gaitcnn.registry.PEERS`) on raw windows.

    Parameters
    ----------
    config : ModelConfig
    """

    kind = "peer"

    def __init__(self, config: ModelConfig):
        self.config = config
        self.peer = None
        self.n_classes = 0

    def _new_peer(self):
        return PEERS[self.config.method].load()(seed=self.config.seed, **self.config.hparams)

    def fit(self, images, labels, n_classes: int, **_) -> None:
        """Fit the peer on every training window (its features need them all at once)."""
        windows = peer_series(images.read() if isinstance(images, CacheRows) else images)
        self.peer = self._new_peer().fit(windows, np.asarray(labels))
        self.n_classes = int(n_classes)

    def scores(self, images) -> np.ndarray:
        """Decision values per window, ``(n, n_classes)``; classes without training windows
        (possible in a labeling draw) get -inf."""
        out = np.full((len(images), self.n_classes), -np.inf)
        columns = np.asarray(self.peer.classes_, dtype=np.int64)
        lo = 0
        for chunk in _chunks(images):
            out[lo : lo + len(chunk), columns] = self.peer.decision_function(peer_series(chunk))
            lo += len(chunk)
        return out

    def embed(self, images) -> np.ndarray:
        """Peers give no embedding here (their features are not trained for unseen users)."""
        raise ValueError(
            f"method={self.config.method!r} gives no embedding to enrol or verify users; use a "
            "network (preset='verification', or any network's penultimate features)"
        )

    @property
    def embedding_dim(self) -> int:
        """Peers give no embedding (:meth:`embed` says why)."""
        return self.embed(None)

    @property
    def input_shape(self) -> list[int] | None:
        """Not fixed by the peer (the front end decides it)."""
        return None

    @property
    def n_params(self) -> int:
        """Trained parameters of the peer."""
        return int(self.peer.n_params)

    def weight_arrays(self) -> list[np.ndarray]:
        """Every array of the fitted peer (for the model fingerprint)."""
        arrays = self.peer.to_arrays()
        return [np.asarray(arrays[k]) for k in sorted(arrays)]

    def loaded(self, n_classes: int, hparams: dict) -> None:
        """Restore what the model file's description holds: the number of classes."""
        self.n_classes = int(n_classes)

    def write(self, archive: zipfile.ZipFile, workdir: Path) -> list[str]:
        """Add ``peer.npz`` (plain arrays, no pickle) to ``archive``."""
        buffer = io.BytesIO()
        np.savez(buffer, **self.peer.to_arrays())
        archive.writestr("peer.npz", buffer.getvalue())
        return ["peer.npz"]

    def read(self, archive: zipfile.ZipFile, names: list[str], workdir: Path, path) -> None:
        """Restore the peer from ``peer.npz`` (``allow_pickle=False``)."""
        with np.load(io.BytesIO(archive.read(names[0])), allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        self.peer = type(self._new_peer()).from_arrays(arrays)
