"""The public estimator: :class:`GaitModel` - from raw recordings to "who is this?".

A ``GaitModel`` carries everything needed to go from a raw :class:`gaitcnn.io.Recording` to a
decision: the front end (resampling rate, segmentation, image or window representation,
channels), the trained network or peer with its channel statistics, the class names and the
package version. Experiments and users go through the same object::

    from gaitcnn import GaitModel, load_ouisir
    recs = load_ouisir(root, subset="manual")
    model = GaitModel(preset="improved", seed=0).fit([r for r in recs if r.session == "gallery"])
    model.predict_proba(probe_recs)        # one row per recording, fused over its windows
    model.identify(recording)              # -> subject id, score
    model.save("walkers.gaitcnn"); GaitModel.load("walkers.gaitcnn")

TensorFlow is imported only when a network is trained, scored or loaded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gaitcnn._modelfile import label_array
from gaitcnn.errors import GaitDataError
from gaitcnn.fusion import fuse
from gaitcnn.presets import ModelConfig, channels_for_data

__all__ = ["GaitModel"]

logger = logging.getLogger(__name__)


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - np.nanmax(scores, axis=1, initial=-np.inf, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class GaitModel:
    """Recognise walkers from raw IMU recordings, in the style of a scikit-learn estimator.

    Parameters
    ----------
    preset : {"paper", "improved", "verification"}, default="paper"
        ``"paper"``: Zhao & Zhou 2017 (AE-GDIs at GGGD cycle starts, the 7-layer CNN, 50
        epochs); ``"improved"``: dense raw windows and a 1-D CNN (:data:`gaitcnn.presets.IMPROVED`);
        ``"verification"``: the same windows and an embedding network for users the model
        never saw (:meth:`calibrate`, :meth:`enrol`, :meth:`verify`, :meth:`identify_enrolled`;
        :data:`gaitcnn.presets.VERIFICATION`).
    method : str, optional
        Another row of the paper's Table 2 (``"method1"`` .. ``"method3"``, ``"inception"``) or
        a peer (``"minirocket"``; :data:`gaitcnn.registry.PEERS`). Default ``"proposed"``.
    seed : int, default=0
        Weights, dropout, shuffling, peer kernels.
    verbose : int, default=0
        0 silent; 1 progress bars (front end, Keras).
    **overrides
        Any other :class:`gaitcnn.presets.ModelConfig` field (``epochs``, ``channels``,
        ``hparams``, ``ensemble``, ``framework="tflearn"`` to train the paper CNN with the
        paper's framework...).

    Attributes
    ----------
    config : ModelConfig
        The resolved configuration (validated at construction).
    classes_ : np.ndarray, shape (n_classes,)
        The labels, in score-column order (after ``fit``).
    channels_ : tuple of str
        The channels the model reads (chosen from the training data, see
        :func:`gaitcnn.presets.channels_for_data`).
    n_train_windows_ : int
    best_epoch_ : int or None
        The kept epoch when validation data chose it (networks), else None.
    fit_time_s_ : float
    verification_ : dict or None
        The accept threshold and how it was calibrated (after :meth:`calibrate`).
    """

    def __init__(self, preset: str = "paper", *, method: str | None = None, seed: int = 0,
                 verbose: int = 0, **overrides):  # fmt: skip
        self.config = ModelConfig.from_preset(preset, method=method, seed=seed, **overrides)
        self.verbose = int(verbose)
        self._backend = None

    @classmethod
    def from_config(cls, config: ModelConfig, *, verbose: int = 0) -> GaitModel:
        """An unfitted model of a resolved :class:`gaitcnn.presets.ModelConfig`."""
        model = cls.__new__(cls)
        model.config, model.verbose, model._backend = config, int(verbose), None
        return model

    def __repr__(self) -> str:
        """Preset, method and whether it is fitted."""
        state = f"{len(self.classes_)} classes" if self._backend is not None else "not fitted"
        return f"GaitModel(preset={self.config.preset!r}, method={self.config.method!r}; {state})"

    # ---- front end --------------------------------------------------------------------------

    def front_end(self, dataset: str = "ouisir", **loader):
        """The :class:`gaitcnn.prepare.PrepareParams` that turn a recording into model input."""
        channels = getattr(self, "channels_", None)
        return self.config.prepare_params(dataset, channels=channels, **loader)

    def windows(self, recordings: Sequence) -> tuple[np.ndarray, np.ndarray]:
        """The images (or windows) of each recording, as the model reads them.

        Parameters
        ----------
        recordings : sequence of Recording
            Raw recordings (any sampling; they are resampled here).

        Returns
        -------
        images : np.ndarray of float32, shape (n_windows, *input_shape)
            In temporal order within each recording.
        owner : np.ndarray of int64, shape (n_windows,)
            Index of the recording each image came from.
        """
        from tqdm.auto import tqdm

        from gaitcnn.prepare import images_for_recording

        params = self.front_end()
        parts, owners = [], []
        bar = tqdm(recordings, desc="front end", unit="rec", disable=not self.verbose)
        for index, recording in enumerate(bar):
            for _, images, _ in images_for_recording(recording, params):
                parts.append(images)
                owners.append(np.full(len(images), index, dtype=np.int64))
        if not parts:
            return np.zeros((0, *params.image_shape), np.float32), np.zeros(0, np.int64)
        return np.concatenate(parts), np.concatenate(owners)

    # ---- training ---------------------------------------------------------------------------

    def fit(self, recordings: Sequence, y=None) -> GaitModel:
        """Train on labelled recordings (each walk's windows inherit its label).

        Parameters
        ----------
        recordings : sequence of Recording
        y : sequence, optional
            One label per recording; default each recording's ``subject_id``.

        Returns
        -------
        GaitModel
            ``self``.

        Raises
        ------
        GaitDataError
            When no recording yields a window, or the data mix recordings with and without a
            gyroscope.
        """
        recordings = list(recordings)
        labels = [r.subject_id for r in recordings] if y is None else list(y)
        if len(labels) != len(recordings):
            raise ValueError(f"y has {len(labels)} labels for {len(recordings)} recordings")
        self.channels_ = channels_for_data(
            self.config, [r.gyr is not None for r in recordings], [r.source for r in recordings]
        )
        images, owner = self.windows(recordings)
        if len(images) == 0:
            raise GaitDataError(
                f"none of the {len(recordings)} recordings gave a window (too short, or no "
                "detected gait cycle): nothing to train on"
            )
        classes = label_array(sorted(set(labels)))
        index = {c: i for i, c in enumerate(classes.tolist())}
        y_index = np.array([index[label_array([labels[o]])[0].item()] for o in owner])
        return self.fit_images(images, y_index, classes=classes, channels=self.channels_,
                               groups=owner)  # fmt: skip

    def fit_images(self, images, labels, *, classes, channels, groups=None, validation=None,
                   checkpoint_dir=None, resume=False) -> GaitModel:  # fmt: skip
        """Train on images the front end already made (e.g. rows of the HDF5 cache).

        The path the experiments take: their images come from the cache of the same front end
        (:meth:`front_end`), read by :class:`gaitcnn.cache.CacheRows`.

        Parameters
        ----------
        images : np.ndarray or gaitcnn.cache.CacheRows, shape (n, *input_shape)
        labels : np.ndarray of int, shape (n,)
            Class index (into ``classes``) of each image.
        classes : sequence
            The labels; classes without any image stay classes of the model.
        channels : tuple of str
            The channels the images hold (recorded with the model).
        groups : np.ndarray, shape (n,), optional
            Recording of each image (for ``validation_fraction``).
        validation : (images, labels), optional
            Validation images carved from the training data by the caller (never the probe):
            the weights of the epoch that scores best on them are kept.
        checkpoint_dir : path, optional
            Checkpoint the training there (resumable with ``resume=True``).
        resume : bool, default=False

        Returns
        -------
        GaitModel
            ``self``.
        """
        from gaitcnn._composite import make_backend

        labels = np.asarray(labels, dtype=np.int64)
        self.classes_ = label_array(classes)
        self.channels_ = tuple(channels)
        if labels.size and (labels.min() < 0 or labels.max() >= len(self.classes_)):
            raise ValueError(f"labels must be class indices in [0, {len(self.classes_)})")
        started = time.perf_counter()
        backend = make_backend(self.config)
        backend.fit(images, labels, len(self.classes_), groups=groups, validation=validation,
                    checkpoint_dir=checkpoint_dir, resume=resume,
                    verbose=2 if self.verbose else 0, channels=self.channels_)  # fmt: skip
        self._backend = backend
        self.best_epoch_ = getattr(backend, "best_epoch", None)
        self.n_train_windows_ = int(labels.size)
        self.fit_time_s_ = time.perf_counter() - started
        return self

    # ---- scoring ----------------------------------------------------------------------------

    def _fitted(self):
        if self._backend is None:
            raise RuntimeError("this GaitModel is not fitted yet: call fit() or GaitModel.load()")
        return self._backend

    def window_scores(self, images) -> np.ndarray:
        """Score of every class for each image: softmax (networks) or decision values (peers).

        Parameters
        ----------
        images : np.ndarray or gaitcnn.cache.CacheRows, shape (n, *input_shape)

        Returns
        -------
        np.ndarray, shape (n, n_classes)
        """
        return self._fitted().scores(images)

    def fuse(self, scores, owner, n_owners: int, *, max_windows: int | None = None):
        """Fuse window scores per recording with the model's rule (``config.fusion``)."""
        return fuse(scores, owner, n_owners, max_items=max_windows, method=self.config.fusion)

    def decision_function(self, recordings: Sequence, *, max_windows=None) -> np.ndarray:
        """Fused class scores per recording, ``(n_recordings, n_classes)``.

        The mean of the window scores (or the model's ``fusion``) over the recording's windows
        (its first ``max_windows``); a row of NaN for a recording without any window.
        """
        recordings = list(recordings)
        images, owner = self.windows(recordings)
        scores = self.window_scores(images)
        return self.fuse(scores, owner, len(recordings), max_windows=max_windows).scores

    def predict_proba(self, recordings: Sequence, *, max_windows=None) -> np.ndarray:
        """Class probabilities per recording, fused over its windows.

        Networks: the mean softmax of the recording's windows ([P] the paper's fusion). Peers
        output decision values, a network with a ``partner`` standardised sums; their
        probabilities are the softmax of the mean scores (rank-preserving, not calibrated). A
        recording without any window gets a row of NaN.

        Returns
        -------
        np.ndarray, shape (n_recordings, n_classes)
        """
        fused = self.decision_function(recordings, max_windows=max_windows)
        return fused if self.config.scores_are_probabilities else _softmax(fused)

    def predict(self, recordings: Sequence) -> np.ndarray:
        """The most likely class of each recording.

        Raises
        ------
        GaitDataError
            Naming the first recording that gave no window ("not enough gait").
        """
        recordings = list(recordings)
        fused = self.decision_function(recordings)
        missing = np.flatnonzero(np.isnan(fused).any(axis=1))
        if missing.size:
            raise GaitDataError(
                "not enough gait: no window of this recording could be scored (too short, or "
                "no detected gait cycle); predict_proba gives NaN rows for such recordings",
                path=recordings[missing[0]].source,
            )
        return self.classes_[np.argmax(fused, axis=1)]

    def identify(self, recording) -> tuple:
        """Who is this? Among the enrolled users if any, else among the training classes.

        With users enrolled (:meth:`enrol`), open-set identification among them
        (:meth:`identify_enrolled`: ``(user_id or None, cosine score)``, None = unknown);
        otherwise the most likely training class and its fused probability.

        Returns
        -------
        (label, score)
        """
        if getattr(self, "_store", None) is not None and len(self._store):
            return self.identify_enrolled(recording)
        proba = self.predict_proba([recording])[0]
        if np.isnan(proba).any():
            raise GaitDataError(
                "not enough gait: no window of this recording could be scored",
                path=recording.source,
            )
        best = int(np.argmax(proba))
        return self.classes_[best].item(), float(proba[best])

    # ---- users the model never saw: embeddings, enrolment, verification ---------------------

    def embed_windows(self, images) -> np.ndarray:
        """Unit-norm embedding of each image or window, ``(n, dim)`` float32.

        The verification preset's ``embedding`` layer; for any other network the features its
        output layer reads (its penultimate layer). Peers give none (ValueError).
        """
        return self._fitted().embed(images)

    def embed(self, recording) -> np.ndarray:
        """Window embeddings of one recording, in time order: ``(n_windows, dim)``.

        Raises
        ------
        GaitDataError
            Naming the recording's file when no window could be cut from it (rest, too short,
            no detected gait): "not enough gait".
        """
        images = self.walking_windows(self.windows([recording])[0])
        if len(images) == 0:
            raise GaitDataError(
                "not enough gait: no window of this recording could be scored (at rest, too "
                "short, or no detected gait cycle)",
                path=recording.source,
            )
        return self.embed_windows(images)

    def walking_windows(self, images) -> np.ndarray:
        """The raw windows that hold walking (:func:`gaitcnn.stream.gait_window_mask`).

        Dense raw windows are cut whether or not the person walks; enrolment and verification
        keep only those whose |a| varies around a plausible level, as the streaming verifier
        does. Images at detected gait cycles (AE-GDIs) are returned as they are.
        """
        # Paper deviation: the paper scores every image at a detected cycle start; dense raw
        # windows are cut at rest too, so a still phone would get a score. Enrolment and
        # verification keep only windows with walking (docs/RECONSTRUCTION.md D21).
        from gaitcnn.rawwindows import column_labels
        from gaitcnn.stream import gait_window_mask

        images = np.asarray(images)
        labels = column_labels(self.channels_)
        if images.ndim != 4 or images.shape[1] != 1 or images.shape[-1] != len(labels):
            return images  # not raw windows (1, width, columns)
        if {"ax", "ay", "az"} <= set(labels):
            acc = images[:, 0][..., [labels.index(c) for c in ("ax", "ay", "az")]]
        elif "|a|" in labels:  # |a| alone: the mask reads only the norm
            norm = images[:, 0, :, labels.index("|a|")]
            acc = np.stack([norm, np.zeros_like(norm), np.zeros_like(norm)], axis=-1)
        else:
            return images
        return images[gait_window_mask(acc)]

    @property
    def store(self):
        """The enrolled users (:class:`gaitcnn.store.TemplateStore`), bound to this model."""
        if getattr(self, "_store", None) is None:
            from gaitcnn.store import TemplateStore

            self._store = TemplateStore(self.fingerprint, self._fitted().embedding_dim)
        return self._store

    @store.setter
    def store(self, store) -> None:
        if store.model_fingerprint != self.fingerprint:
            raise GaitDataError(
                f"template store made with model {store.model_fingerprint[:12]}, this model is "
                f"{self.fingerprint[:12]}: enrol the users again with this model",
                path=getattr(store, "path", None),
            )
        self._store = store

    def enrol(self, user_id: str, recordings: Sequence, *, replace: bool = False) -> GaitModel:
        """Enrol a user from one or more walks: the mean of their window embeddings.

        All or nothing: if any recording gives no window, nothing is stored.

        Raises
        ------
        GaitDataError
            Naming the recording without usable walking.
        ValueError
            If ``user_id`` is enrolled already and ``replace`` is False.
        """
        recordings = list(recordings)
        if not recordings:
            raise ValueError(f"enrol {user_id!r}: no recording given")
        embeddings = np.concatenate([self.embed(r) for r in recordings])
        self.store.add(user_id, embeddings, replace=replace)
        return self

    @property
    def threshold_(self) -> float:
        """Accept threshold on the fused cosine score (set by :meth:`calibrate`)."""
        verification = getattr(self, "verification_", None)
        if not verification:
            raise RuntimeError(
                "no accept threshold: calibrate() the model on users held out from training"
            )
        return float(verification["threshold"])

    def score(self, user_id: str, recording) -> float:
        """Cosine similarity of the recording's windows with the user's template, averaged."""
        from gaitcnn.verification.scores import score_walks

        template = self.store.template(user_id)
        return float(score_walks([self.embed(recording)], [template])[0, 0])

    def verify(self, user_id: str, recording) -> tuple[float, bool]:
        """Is this walk ``user_id``'s? ``(score, accepted)`` at the calibrated threshold."""
        score = self.score(user_id, recording)
        return score, bool(score >= self.threshold_)

    def calibrate(self, gallery: Sequence, probes: Sequence, *, far: float = 0.01) -> GaitModel:
        """Choose the accept threshold at false-accept rate ``far`` on users the model never saw.

        Every user of ``gallery`` (by ``subject_id``) is enrolled in a scratch gallery; every
        probe walk is scored against every such user; the threshold is the smallest one that
        accepts at most ``far`` of the impostor comparisons
        (:func:`gaitcnn.verification.threshold_at_far`). Use users that are neither training
        nor test users (a held-out part of the training population).
        """
        from gaitcnn.verification import comparisons_from_matrix
        from gaitcnn.verification.scores import make_template, score_walks

        users = sorted({r.subject_id for r in gallery}, key=str)
        templates = [
            make_template(np.concatenate([self.embed(r) for r in gallery if r.subject_id == u]))
            for u in users
        ]
        probes = list(probes)
        windows = [self.walking_windows(self.windows([r])[0]) for r in probes]
        probe_embeddings = [self.embed_windows(w) if len(w) else np.zeros((0, 1)) for w in windows]
        matrix = score_walks(probe_embeddings, templates)
        pairs = comparisons_from_matrix(
            matrix, label_array([r.subject_id for r in probes]), label_array(users)
        )
        return self.calibrate_scores(pairs.genuine, pairs.impostor, far=far)

    def calibrate_scores(self, genuine, impostor, *, far: float = 0.01) -> GaitModel:
        """Set the threshold from genuine and impostor scores of held-out users."""
        from gaitcnn.verification import far_frr, threshold_at_far

        threshold = threshold_at_far(impostor, far)
        achieved_far, frr = far_frr(genuine, impostor, threshold)
        self.verification_ = {
            "threshold": float(threshold),
            "target_far": float(far),
            "calibration_far": float(achieved_far),
            "calibration_frr": float(frr),
            "n_genuine": int(np.size(genuine)),
            "n_impostor": int(np.size(impostor)),
        }
        return self

    def identify_enrolled(self, recording) -> tuple:
        """Open-set identification among the enrolled users: ``(user_id or None, score)``.

        The best-scoring enrolled user if their score reaches the threshold, else None
        ("unknown": the walker is none of the enrolled users).
        """
        from gaitcnn.verification.scores import score_walks

        users, templates = self.store.templates()
        if not users:
            raise ValueError("no user is enrolled: enrol() some first")
        scores = score_walks([self.embed(recording)], templates)[0]
        best = int(np.argmax(scores))
        accepted = scores[best] >= self.threshold_
        return (users[best] if accepted else None), float(scores[best])

    # ---- size and identity ------------------------------------------------------------------

    @property
    def n_params(self) -> int:
        """Trained parameters (network weights, or the peer's ridge coefficients)."""
        return self._fitted().n_params

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the configuration, classes, channels and every trained array.

        Identifies the model (not the file): a template store made with this model records
        it and refuses any other model.
        """
        from gaitcnn._modelfile import fingerprint

        return fingerprint(self)

    # ---- files ------------------------------------------------------------------------------

    def save(self, path, *, overwrite: bool = False) -> Path:
        """Write the model to one file (a zip, conventionally ``*.gaitcnn``), atomically.

        Raises
        ------
        FileExistsError
            If ``path`` exists and ``overwrite`` is False.
        """
        from gaitcnn._modelfile import write_model

        return write_model(self, path, overwrite=overwrite)

    @classmethod
    def load(cls, path) -> GaitModel:
        """Read a model written by :meth:`save` (no pickle; networks in Keras safe mode).

        Raises
        ------
        GaitDataError
            Naming the file when it is not a gaitcnn model, was made by another gaitcnn
            version, or its content does not match its description.
        """
        from gaitcnn._modelfile import read_model

        return read_model(cls, path)
