"""What a gait model is before it sees data: :class:`ModelConfig` and the named presets.

A :class:`gaitcnn.GaitModel` is built from a ``ModelConfig``: how a recording becomes images or
windows (the front end, :class:`gaitcnn.prepare.PrepareParams`), which network or peer method
reads them, how it is trained and how window scores are fused. The presets:

- ``"paper"``: Zhao & Zhou 2017 as reconstructed (docs/RECONSTRUCTION.md): AE-GDIs at GGGD cycle
  starts, the 7-layer CNN, Adam 1e-3, batches of 100, 50 epochs, mean softmax over a walk.
  ``method`` picks another row of Table 2 (Methods 1-3, the Inception ablation).
- ``"improved"``: our preset (:data:`IMPROVED`), justified step by step in the ablation.
- a peer method (``method="minirocket"``...): raw-signal windows read by a random-kernel or
  shapelet classifier (:data:`gaitcnn.registry.PEERS`), on the same front end.

numpy only: nothing here imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gaitcnn.errors import GaitDataError
from gaitcnn.fusion import FUSIONS
from gaitcnn.orientation import auto_front_end
from gaitcnn.rawwindows import AUGMENTS, CHANNEL_SETS, RotationAugment
from gaitcnn.registry import METHODS, NETWORKS, PEERS

__all__ = [
    "DEFAULT_CHANNELS",
    "FRAMEWORKS",
    "IMPROVED",
    "PEER_FRONT_END",
    "PRECISIONS",
    "PRESETS",
    "TFLEARN_HPARAMS",
    "VERIFICATION",
    "ModelConfig",
    "acc_only",
    "channels_for_data",
]

logger = logging.getLogger(__name__)

#: Training frameworks: Keras (default), or tflearn (the paper's; run in its own process).
FRAMEWORKS = ("keras", "tflearn")

#: Arithmetic of the network's layers (Keras dtype policies). ``"float32"`` [P]: the paper's.
#: ``"mixed_bfloat16"``: bfloat16 matrix products with float32 weights and a float32 softmax
#: (Keras mixed precision) - about 1.8x faster on CPUs with native bfloat16 (AVX512-BF16, AMX),
#: much slower on CPUs without it.
PRECISIONS = ("float32", "mixed_bfloat16")

#: The network hyper-parameters the tflearn builder takes
#: (:func:`gaitcnn.models.tflearn_cnn.build_tflearn_paper_cnn`; a test keeps them in sync).
TFLEARN_HPARAMS = ("conv_filters", "n_conv", "fl1_units", "dropout_rate")

#: The improved preset (``preset="improved"``): :class:`ModelConfig` field values. Each step is
#: justified in ``docs/results-simulated/ablation/ablation.md`` (``make ablation``; simulated
#: OU-ISIR, K = 100 mean over 3 seeds, the harder simulator variant, K = 744). The path there:
#:
#: - ``segmentation="dense", dense_step=4, edge="pad"`` - Paper deviation: a window every 4
#:   samples (80 ms) instead of one per detected cycle start: ~45 windows per walk instead of
#:   ~2.5, none lost to detection errors or strict margins.
#: - ``representation="raw", network="raw_cnn"`` - Paper deviation: windows of the raw signal
#:   (ax, ay, az, gx, gy, gz, |a|, |w|; 64 samples = 1.28 s) read by a 1-D CNN
#:   (:func:`gaitcnn.models.build_raw_cnn`: conv-BN-ReLU x 4, global average pooling, per-channel
#:   scaling by the training windows' statistics stored in the model) instead of AE-GDIs. Reason:
#:   the AE-GDI is invariant to rotation and scale by construction, so it throws away the
#:   axes' own signals; for a sensor worn in one fixed place (OU-ISIR's belt IMU) they identify
#:   the walker. The norm channels |a|, |w| keep how strongly a person moves, independent of
#:   the sensor's orientation.
#: - ``lr_schedule="cosine", label_smoothing=0.1`` (measured with 30 epochs) - Paper
#:   deviation: dense windows give ~20x more batches per epoch; the cosine decay ends training
#:   at a small learning rate (the final weights need no checkpoint selection) and label
#:   smoothing keeps near-duplicate windows from saturating the softmax.
#: - ``batch_size=400, learning_rate=2e-3, hparams={"n_pooled_blocks": 3}, epochs=25`` -
#:   Paper deviation: for speed. Consecutive dense windows share 60 of their 64 samples and the
#:   training accuracy saturates within a few epochs, so batches of 400 (the learning rate
#:   scaled by the square root of the batch ratio), a third max-pool (the last two blocks at 8
#:   time steps: 41 % fewer multiply-adds) and 25 epochs cost little accuracy and cut the
#:   training time by about half (``docs/results-simulated/improved_speed.md``; RECONSTRUCTION
#:   D23).
#: - ``partner="minirocket", dense_step=8, epochs=20`` - Paper deviation: the hybrid step, a
#:   MiniRocket partner trained on the same windows; each window's scores are the CNN's and
#:   MiniRocket's, each standardised over the classes, added
#:   (:func:`gaitcnn.fusion.standardised_sum`). Windows every 8 samples (the peers' front end)
#:   and 20 epochs pay for the partner (RECONSTRUCTION D25).
#: - ``partner="multirocket", partner_hparams={"num_kernels": 1250}`` - Paper deviation: the
#:   partner is MultiRocket at about MiniRocket's feature budget (aeon keeps 1,176 of the 1,250
#:   kernels, a multiple of 84, on the series and its first differences, four poolings each:
#:   9,408 features against MiniRocket's 9,996). The differences and the extra
#:   poolings describe the shape of each step beyond its level, and lean less on how each
#:   walker wears the sensor (RECONSTRUCTION D27,
#:   ``docs/results-simulated/improved_partner.md``).
#: - ``channel_choice="auto"`` - Paper deviation: the front end holds the sensor axes and the
#:   orientation-free ``invariant`` set; the training windows decide which one the model reads
#:   (the axes for a sensor fixed to the body, the invariant set for one that turns between
#:   walks; :mod:`gaitcnn.orientation`, RECONSTRUCTION D26). Both steps:
#:   ``docs/results-simulated/improved_hybrid.md``.
IMPROVED: dict[str, Any] = {
    "representation": "raw",
    "segmentation": "dense",
    "dense_step": 8,
    "edge": "pad",
    "network": "raw_cnn",
    "partner": "multirocket",
    "partner_hparams": {"num_kernels": 1250},
    "channel_choice": "auto",
    "hparams": {"n_pooled_blocks": 3},
    "epochs": 20,
    "batch_size": 400,
    "learning_rate": 2e-3,
    "lr_schedule": "cosine",
    "label_smoothing": 0.1,
}

#: The verification preset (``preset="verification"``): the improved preset's front end and
#: trunk with an embedding head, for users the model never saw (enrol, verify, identify).
#: Paper deviation: the paper has no open-set verification. ``network="embedding_cnn"``
#: (:func:`gaitcnn.models.embedding.build_embedding_classifier`): the raw-window trunk, a
#: 128-d projection, BN and L2 normalisation, trained as a classifier of the training users
#: with the additive-margin softmax (margin 0.35, scale 30), so that users are compact and
#: separated on the unit sphere; enrolment stores the mean window embedding and a probe is
#: scored by cosine similarity. Chosen by ``experiments/verification_research.py``
#: (docs/results-simulated/verification_research/): AM-softmax, ArcFace and plain softmax
#: features tie within seed noise on simulated OU-ISIR (744 subjects, 70/30); supervised
#: contrastive was worse. 20 epochs with a cosine decay and batches of 128, as measured there;
#: no label smoothing (the margin does its job).
VERIFICATION: dict[str, Any] = {
    **IMPROVED,
    "dense_step": 4,
    "network": "embedding_cnn",
    "partner": None,
    "partner_hparams": {},
    "channel_choice": "given",
    "hparams": {},
    "epochs": 20,
    "batch_size": 128,
    "learning_rate": 1e-3,
    "label_smoothing": 0.0,
}

#: Field values of each preset; the paper's are the :class:`ModelConfig` defaults.
PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "improved": IMPROVED,
    "verification": VERIFICATION,
}

#: The front end of every peer method: 1.28 s windows of the resampled axes and norms every
#: 0.16 s. 1.28 s = 64 samples at 50 Hz, the span of one AE-GDI (longer than one gait cycle), so
#: a peer window and a CNN image see the same stretch of walk; a step of 8 samples gives ~30
#: windows per ~6 s walk while the K = 744 feature matrix stays ~1 GB.
PEER_FRONT_END: dict[str, Any] = {
    "representation": "raw",
    "segmentation": "dense",
    "dense_step": 8,
    "edge": "pad",
}

#: The channels of each front end when the data have a gyroscope (``ModelConfig.channels`` is
#: None); without one, their accelerometer-only variant (:func:`acc_only`). [P] the AE-GDIs of
#: acceleration and angular velocity (N_l = 2). The improved preset and the peers add the norms
#: |a| and |w|, which keep how strongly a person moves and do not depend on the orientation.
DEFAULT_CHANNELS: dict[str, tuple[str, ...]] = {
    "paper": ("acc", "gyr"),
    "improved": ("acc", "gyr", "acc_mag", "gyr_mag"),
    "verification": ("acc", "gyr", "acc_mag", "gyr_mag"),
    "peer": ("acc", "gyr", "acc_mag", "gyr_mag"),
}


def acc_only(channels: Sequence[str]) -> tuple[str, ...]:
    """The accelerometer-only variant of a channel set: its gyroscope channels dropped.

    Examples
    --------
    >>> acc_only(("acc", "gyr", "acc_mag", "gyr_mag"))
    ('acc', 'acc_mag')
    """
    return tuple(c for c in channels if not c.startswith("gyr"))


@dataclass(frozen=True)
class ModelConfig:
    """Everything that defines a gait model before it sees data (saved with the model).

    Attributes
    ----------
    preset : str
        ``"paper"``, ``"improved"`` or ``"verification"`` (:data:`PRESETS`): where the
        defaults came from (a label; build with :meth:`from_preset`).
    method : str
        A row of the paper's Table 2 (:data:`gaitcnn.registry.METHODS`: ``"proposed"``,
        ``"method1"`` .. ``"method3"``, ``"inception"``) or a peer
        (:data:`gaitcnn.registry.PEERS`).
    representation, segmentation : str or None
        The front end's image type and image starts (None: the method's).
    dense_step : int
        Samples between dense image starts (0 unless ``segmentation="dense"``).
    channels : tuple of str, str or None
        Image or window channels, or the name of a set of
        :data:`gaitcnn.rawwindows.CHANNEL_SETS` (e.g. ``"invariant"``). None: the preset's
        (:data:`DEFAULT_CHANNELS`; [P] acc and gyro AE-GDIs), reduced to their
        accelerometer-only variant when the data have no gyroscope (:func:`channels_for_data`).
    width : int
        Image width N_w in samples; [P] 64.
    edge : str
        ``"strict"`` ([P] skip cycle starts without the full image margin) or ``"pad"``.
    network : str or None
        Key of :data:`gaitcnn.registry.NETWORKS` (None: the method's; peers have none).
    hparams : dict
        Keyword arguments of the network builder or of the peer classifier.
    epochs, batch_size : int
        [P] 50 epochs of mini-batches of 100.
    learning_rate : float
        [P] Adam with learning rate 0.001.
    lr_schedule : str
        ``"constant"`` [P] or ``"cosine"``.
    label_smoothing : float
        [P] 0.
    global_clipnorm : float or None
        Clip the gradients to this global norm before each update (0: no clipping). None: the
        framework's own default - Keras does not clip; tflearn clips at 5.0
        (``tflearn.DNN(clip_gradients=5.0)``), which is what the paper, built in tflearn and
        naming no clipping, most likely ran with (docs/RECONSTRUCTION.md 5.3).
    validation_fraction : float
        Share of the training walks (blocks of long recordings) held out to keep the best
        epoch. Reconstruction: 0 - the paper keeps "the model that scores best", but OU-ISIR
        gives one ~6 s gallery walk per subject, so a held-out walk would remove whole classes;
        the final model is kept (docs/RECONSTRUCTION.md, "Best model").
    fusion : str
        :data:`gaitcnn.fusion.FUSIONS`; [P] ``"mean"`` (the mean softmax over a walk).
    ensemble : int
        Networks trained with seeds ``seed + 1000 i`` whose window probabilities are averaged.
    framework : str
        ``"keras"`` or ``"tflearn"`` (:data:`FRAMEWORKS`): the training loop. tflearn (the
        paper's framework) trains in its own process and builds only the paper CNN
        (:data:`gaitcnn.registry.NETWORKS` ``tflearn=True``: the proposed method, Methods 1 and
        2); its weights come back as the Keras paper CNN, so scoring, saving and export are
        shared.
    precision : str
        ``"float32"`` [P] or ``"mixed_bfloat16"`` (:data:`PRECISIONS`); a Keras network only.
    augment : str
        ``"none"`` [P] or ``"rotate"`` (:data:`gaitcnn.rawwindows.AUGMENTS`): turn the sensor
        axes of every training window by a random rotation, drawn anew per window and epoch
        (:class:`gaitcnn.rawwindows.RotationAugment`; a paper deviation for phones that turn
        in a pocket). A Keras network on raw windows of axes and norms only.
    partner : str or None
        A peer method (:data:`gaitcnn.registry.PEERS`) trained on the same windows as the
        network, whose window scores are added to the network's, each standardised per window
        (:func:`gaitcnn.fusion.standardised_sum`; the improved preset: ``"multirocket"``).
        None [P]: the network alone (``partner="none"`` drops the preset's). A Keras network
        on raw windows only.
    partner_hparams : dict
        Keyword arguments of the partner peer (e.g. ``{"num_kernels": 1250}``); empty: the
        peer's defaults. A ``partner`` other than the preset's drops the preset's.
    channel_choice : str
        ``"given"`` [P]: read ``channels``. ``"auto"`` (``channels="auto"``): the front end
        holds both sets of :data:`gaitcnn.orientation.AUTO_CHANNELS` and the model reads the
        sensor axes when the training windows hold the sensor in one orientation, the
        orientation-free set when they do not (:func:`gaitcnn.orientation.choose_channels`).
    seed : int
        Initial weights, dropout, shuffling, augmentation and the peers' random kernels.
    """

    preset: str = "paper"
    method: str = "proposed"
    representation: str | None = None  # None: the method's ([P] AE-GDI)
    segmentation: str | None = None  # None: the method's ([P] GGGD cycle starts)
    dense_step: int = 0
    channels: tuple | None = None  # None: [P] acc + gyro, acc only without a gyroscope
    width: int = 64  # [P] N_w = 64
    edge: str = "strict"  # [P] skip cycle starts without the full image margin
    network: str | None = None  # None: the method's
    hparams: dict = field(default_factory=dict)
    epochs: int = 50  # [P] 50 epochs
    batch_size: int = 100  # [P] mini-batches of 100
    learning_rate: float = 1e-3  # [P] Adam, learning rate 0.001
    lr_schedule: str = "constant"  # [P] constant learning rate
    label_smoothing: float = 0.0  # [P] plain cross-entropy
    global_clipnorm: float | None = None  # None: the framework's (Keras: none, tflearn: 5.0)
    validation_fraction: float = 0.0  # Reconstruction: the final model is kept
    fusion: str = "mean"  # [P] mean softmax over the walk's images
    ensemble: int = 1
    framework: str = "keras"
    precision: str = "float32"  # [P] float32 arithmetic
    augment: str = "none"  # [P] no augmentation
    partner: str | None = None  # [P] the network alone
    partner_hparams: dict = field(default_factory=dict)
    channel_choice: str = "given"  # [P] the channels as given
    seed: int = 0

    def __post_init__(self):
        """Validate every field, naming the field and the value received."""
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {tuple(PRESETS)}. Received: {self.preset!r}")
        if self.method not in METHODS and self.method not in PEERS:
            raise ValueError(
                f"method must be one of {(*METHODS, *PEERS)}. Received: method={self.method!r}"
            )
        if self.network is not None and self.network not in NETWORKS:
            raise ValueError(
                f"network must be one of {tuple(NETWORKS)}. Received: network={self.network!r}"
            )
        if self.is_peer and self.network is not None:
            raise ValueError(f"method={self.method!r} is a peer method and takes no network")
        choices = {"fusion": FUSIONS, "framework": FRAMEWORKS, "edge": ("strict", "pad")}
        choices["precision"] = PRECISIONS
        choices["lr_schedule"] = ("constant", "cosine")
        choices["augment"] = AUGMENTS
        choices["channel_choice"] = ("given", "auto")
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"{name} must be one of {allowed}. Received: {name}={getattr(self, name)!r}"
                )
        for name in ("epochs", "batch_size", "ensemble", "width"):
            value = getattr(self, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
                raise ValueError(f"{name} must be an integer >= 1. Received: {name}={value!r}")
        if not 0.0 <= self.validation_fraction < 1.0:
            raise ValueError(
                f"validation_fraction must be in [0, 1). Received: {self.validation_fraction!r}"
            )
        clip = self.global_clipnorm
        if clip is not None and not (isinstance(clip, int | float) and clip >= 0):
            raise ValueError(f"global_clipnorm must be None or >= 0. Received: {clip!r}")
        if not isinstance(self.hparams, dict):
            raise ValueError(f"hparams must be a dict. Received: hparams={self.hparams!r}")
        try:  # the JSON form (lists, not tuples), so a saved config equals the one it came from
            object.__setattr__(self, "hparams", json.loads(json.dumps(self.hparams)))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"hparams must be JSON values. Received: {self.hparams!r}") from exc
        if self.channels == "auto" or (self.channel_choice == "auto" and self.channels is None):
            object.__setattr__(self, "channels", auto_front_end())
            object.__setattr__(self, "channel_choice", "auto")
        if isinstance(self.channels, str):  # the name of a set, e.g. "invariant"
            if self.channels not in CHANNEL_SETS:
                raise ValueError(
                    f"channels must be channel names or one of {tuple(CHANNEL_SETS)}. "
                    f"Received: channels={self.channels!r}"
                )
            object.__setattr__(self, "channels", CHANNEL_SETS[self.channels])
        if self.channels is not None:
            object.__setattr__(self, "channels", tuple(self.channels))
        if self.channel_choice == "auto" and self.channels != auto_front_end():
            raise ValueError(
                f"channel_choice='auto' reads the channels {auto_front_end()} (both candidate "
                f"sets). Received: channels={self.channels!r}; pass channels='auto', or "
                "channel_choice='given' with your channels"
            )
        self.prepare_params("ouisir")  # the front end validates its own fields
        if self.framework == "tflearn":
            self._check_tflearn()
        if self.augment != "none":
            self._check_augment()
        if self.partner == "none":  # from_preset ignores None overrides: "none" drops a partner
            object.__setattr__(self, "partner", None)
        if self.partner is not None:
            self._check_partner()
        elif self.partner_hparams:
            raise ValueError(
                "partner_hparams apply to a partner peer; set partner too. Received: "
                f"partner=None, partner_hparams={self.partner_hparams!r}"
            )

    def _check_partner(self) -> None:
        """Refuse, in one line, a partner peer the model cannot train beside its network."""
        if self.partner not in PEERS:
            raise ValueError(
                f"partner must be None or one of {tuple(PEERS)}. Received: partner={self.partner!r}"
            )
        if not isinstance(self.partner_hparams, dict):
            raise ValueError(
                "partner_hparams must be a dict. Received: "
                f"partner_hparams={self.partner_hparams!r}"
            )
        self._require_keras_raw_network(f"partner={self.partner!r} joins")

    def _check_augment(self) -> None:
        """Refuse, in one line, an augmentation the model's data or training cannot take."""
        self._require_keras_raw_network(f"augment={self.augment!r} applies to")
        RotationAugment(self.default_channels)  # refuses channels it cannot turn

    def _require_keras_raw_network(self, what: str) -> None:
        """Refuse a setting that needs a Keras network on raw windows (``what`` names it)."""
        representation = self.prepare_params("ouisir").representation
        if self.is_peer or self.framework != "keras" or representation != "raw":
            raise ValueError(
                f"{what} a Keras network on raw windows. Received: method={self.method!r}, "
                f"framework={self.framework!r}, representation={representation!r}"
            )

    def _check_tflearn(self) -> None:
        """Refuse, in one line, what the tflearn training loop cannot build or run."""
        networks = [name for name, spec in NETWORKS.items() if spec.tflearn]
        methods = [name for name, spec in METHODS.items() if spec.network in networks]
        supported = f"networks {networks} (methods {methods})"
        network = self.network_name
        if network not in networks:
            what = f"method={self.method!r}" if self.is_peer else f"network={network!r}"
            raise ValueError(
                f"framework='tflearn' builds only the {supported}. Received: {what} "
                f"(preset={self.preset!r}); use framework='keras'"
            )
        unknown = sorted(set(self.hparams) - set(TFLEARN_HPARAMS))
        if unknown:
            raise ValueError(
                f"framework='tflearn' takes the hparams {list(TFLEARN_HPARAMS)}. Received: "
                f"{unknown}"
            )
        if self.precision != "float32":
            raise ValueError(
                f"framework='tflearn' trains in float32. Received: precision={self.precision!r}"
            )
        if self.lr_schedule != "constant" or self.label_smoothing:
            raise ValueError(
                "framework='tflearn' trains with a constant learning rate and no label "
                f"smoothing. Received: lr_schedule={self.lr_schedule!r}, "
                f"label_smoothing={self.label_smoothing!r}"
            )

    @classmethod
    def from_preset(cls, preset: str = "paper", **overrides) -> ModelConfig:
        """The fields of ``preset`` (:data:`PRESETS`) with ``overrides`` on top.

        A peer ``method`` brings its own front end (:data:`PEER_FRONT_END`) instead of the
        preset's; explicit overrides still win. Explicit ``channels`` (other than ``"auto"``)
        or an ``augment`` (which turns the sensor axes) replace the preset's
        ``channel_choice="auto"``. None values in ``overrides`` are ignored.
        ``hparams`` are merged key by key over the preset's (``--set kernel_size=9`` keeps
        the improved preset's ``n_pooled_blocks``); the preset's are dropped when
        ``network`` names another network, whose builder does not take them.
        """
        if preset not in PRESETS:
            raise ValueError(f"preset must be one of {tuple(PRESETS)}. Received: {preset!r}")
        overrides = {k: v for k, v in overrides.items() if v is not None}
        unknown = set(overrides) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(
                f"unknown ModelConfig field(s) {sorted(unknown)}; known: "
                f"{sorted(f.name for f in dataclasses.fields(cls))}"
            )
        values = dict(PRESETS[preset])
        explicit = overrides.get("channels", "auto") != "auto"
        if explicit or overrides.get("augment", "none") != "none":
            values.pop("channel_choice", None)  # explicit channels, or axes to turn: as given
        if overrides.get("partner", values.get("partner")) != values.get("partner"):
            values.pop("partner_hparams", None)  # another partner: its own defaults
        if overrides.get("method") in PEERS:
            values = {k: v for k, v in values.items() if k not in IMPROVED} | PEER_FRONT_END
        if overrides.get("network", values.get("network")) != values.get("network"):
            values.pop("hparams", None)
        elif "hparams" in overrides:
            overrides["hparams"] = {**values.get("hparams", {}), **overrides["hparams"]}
        return cls(**{**values, "preset": preset, **overrides})

    @property
    def is_peer(self) -> bool:
        """True for a peer method (no network)."""
        return self.method in PEERS

    @property
    def needs_peers(self) -> bool:
        """True when the model trains a peer (a peer method, or a network's ``partner``)."""
        return self.is_peer or self.partner is not None

    @property
    def scores_are_probabilities(self) -> bool:
        """True when window scores are softmax probabilities (a network without a partner);
        a peer's are decision values, a hybrid's standardised sums."""
        return not self.needs_peers

    @property
    def network_name(self) -> str | None:
        """The network: ``network`` if set, else the method's (None for a peer)."""
        if self.is_peer:
            return None
        return self.network or METHODS[self.method].network

    @property
    def default_channels(self) -> tuple[str, ...]:
        """``channels`` if set, else the preset's (or the peers') :data:`DEFAULT_CHANNELS`."""
        if self.channels is not None:
            return self.channels
        return DEFAULT_CHANNELS["peer" if self.is_peer else self.preset]

    def prepare_params(self, dataset: str = "ouisir", channels=None, **loader):
        """The front end as :class:`gaitcnn.prepare.PrepareParams` (for a cache or a recording).

        Parameters
        ----------
        dataset : str, default="ouisir"
            Only names the cache; the front end is the same for every data set.
        channels : tuple of str, optional
            The resolved channels (default: :attr:`default_channels`).
        **loader
            ``subset`` / ``sensor`` of the OU-ISIR loader.
        """
        from gaitcnn.prepare import PrepareParams

        method = METHODS.get(self.method, METHODS["proposed"])
        return PrepareParams(
            dataset=dataset,
            representation=self.representation or method.representation,
            segmentation=self.segmentation or method.segmentation,
            dense_step=self.dense_step,
            channels=tuple(channels or self.default_channels),
            width=self.width,
            edge=self.edge,
            **loader,
        )

    def train_config(self, keep_best: bool | None = None):
        """The :class:`gaitcnn.train.TrainConfig` of this model (imports TensorFlow).

        ``keep_best`` (default: ``validation_fraction > 0``) keeps the best validation epoch.
        """
        from gaitcnn.train import TrainConfig

        return TrainConfig.paper().replace(
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            lr_schedule=self.lr_schedule,
            label_smoothing=self.label_smoothing,
            loss=NETWORKS[self.network_name].loss if not self.is_peer else "cross_entropy",
            global_clipnorm=self.global_clipnorm,
            keep_best=self.validation_fraction > 0 if keep_best is None else keep_best,
            seed=self.seed,
            verbose=0,
        )

    def to_dict(self) -> dict:
        """Plain JSON-able dict of every field."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, values: dict) -> ModelConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown ModelConfig field(s) {unknown}; known: {sorted(known)}")
        return cls(**values)

    def replace(self, **changes) -> ModelConfig:
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)


def channels_for_data(config: ModelConfig, has_gyroscope: Sequence[bool], sources: Sequence[str]):
    """The channels a model reads from data with (or without) a gyroscope.

    The paper's own rule (N_l = 2 on OU-ISIR, 1 on McGill's accelerometer-only phones): when no
    recording has a gyroscope, the preset's accelerometer-only variant (:func:`acc_only`) is
    used, and said once in the log. Explicit gyroscope channels on such data, or a data set
    that mixes recordings with and without a gyroscope, are errors naming a file of each kind
    (unless the chosen channels need no gyroscope).

    Parameters
    ----------
    config : ModelConfig
    has_gyroscope : sequence of bool
        One flag per recording.
    sources : sequence of str
        The file of each recording (for the messages).

    Returns
    -------
    tuple of str
    """
    wanted = config.default_channels
    needs_gyro = any(c.startswith("gyr") for c in wanted)
    flags = list(has_gyroscope)
    if not flags or not needs_gyro or all(flags):
        return wanted
    if any(flags):
        with_gyro = sources[flags.index(True)]
        without = sources[flags.index(False)]
        raise GaitDataError(
            f"the data mix recordings with a gyroscope (e.g. {with_gyro}) and without one (e.g. "
            f"{without}); use accelerometer-only channels, e.g. channels={acc_only(wanted)!r}"
        )
    if config.channels is not None and config.channel_choice != "auto":
        raise GaitDataError(
            f"channels={wanted!r} asks for a gyroscope but the recordings have none (e.g. "
            f"{sources[0]}); use channels={acc_only(wanted)!r}"
        )
    chosen = acc_only(wanted)
    logger.warning("no recording has a gyroscope: using the accelerometer-only channels %s", chosen)
    return chosen
