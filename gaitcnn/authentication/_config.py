"""Settings of the authentication protocol (paper Table 1, Figure 6; RECONSTRUCTION 2.1)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

from gaitcnn.presets import IMPROVED
from gaitcnn.registry import PEERS

__all__ = [
    "METHODS",
    "METRICS",
    "PEER_METHODS",
    "PRESETS",
    "PROBES",
    "REPRESENTATIONS",
    "RESULT_FORMAT_VERSION",
    "AuthConfig",
]

METHODS = ("ae_gdi_cnn", "cosine_gdi", "segment_nn")
#: Peer methods from outside the paper, opt-in (``--method minirocket|multirocket|rdst``): the
#: peer's features of the raw window at each image start (one transform for all classifiers,
#: :func:`gaitcnn.peers.minirocket.peer_image_features`) + a ridge classifier per subject, on
#: exactly the CNN's split (``pip install 'gaitcnn[peers]'``).
PEER_METHODS = tuple(PEERS)
PROBES = ("same_day", "different_day")
METRICS = ("accuracy", "precision", "recall", "eer", "auc")
RESULT_FORMAT_VERSION = 3  # 3: classifiers are GaitModels trained by gaitcnn.train.train
#: What the CNN of the protocol reads at each image start (``AuthConfig.representation``).
REPRESENTATIONS = ("ae_gdi", "raw")


@dataclass(frozen=True)
class AuthConfig:
    """Settings of the authentication protocol (RECONSTRUCTION 2.1); every default is documented.

    Parameters
    ----------
    train_share : float
        Share of the subject's day-1 cycles used as training positives. [P] 10 %
        (Figure 6 sweeps 10 .. 100 %).
    n_repetitions : int
        [P] 10 repetitions ("10-fold cross-validation"), each with its own seed.
    fusion_n : tuple of int
        [P] probes of N = 1, 2, 3, 5 consecutive cycles.
    same_day : bool
        Run the same-day probe (impossible once ``train_share`` leaves too little of day 1;
        it is then skipped and recorded as missing).
    block_len : int
        Reconstruction: cycles are drawn in blocks of this many consecutive cycles.
    validation_fraction : float
        Reconstruction: share of training blocks held out to pick the best epoch.
    guard_before, guard_after : int
        Reconstruction: an image starting at sample h "occupies" ``[h - guard_before,
        h + guard_after)``; probe images whose span meets a training image's are excluded.
        Defaults cover the AE-GDI (h-32 .. h+95) and the 2.4 s GDI window plus 32 delays.
    subjects : tuple of int or None
        Subjects to authenticate (None: all with images on both days).
    seed : int
        Base seed; repetition r of subject s uses seeds derived from ``(seed, s, r)``.
    methods : tuple of str
        Any of ``ae_gdi_cnn``, ``cosine_gdi``, ``segment_nn``.
    cosine_window_s : float
        [P] Zhong & Deng's sliding window of 2.4 s (GDI width for the cosine baseline).
    segment_window_s : float
        [P] 2.8 s windows of the segment-matching baseline.
    train : dict
        :class:`gaitcnn.train.TrainConfig` fields; [P] 50 epochs, batch 100, Adam 1e-3.
    model : dict
        Keyword arguments of :func:`gaitcnn.models.build_paper_cnn` ([R] 32/64/64, fl1 512).
    network : str
        Key of :data:`gaitcnn.models.MODEL_BUILDERS`; [P] ``"paper_cnn"``.
    segmentation : str
        [P] ``"gggd"`` (one AE-GDI per detected cycle); ``"dense"``: an AE-GDI every 25
        samples (``PrepareParams.improved("mcgill")``), evaluated in the ablation.
    preset : str
        Name of the preset the fields came from (``"paper"`` or ``"improved"``), a label;
        build presets with :meth:`from_preset`.
    framework : str
        Training loop of the CNNs: ``"keras"`` or ``"tflearn"`` (the paper's framework, run in
        its own process; :class:`gaitcnn.presets.ModelConfig` ``framework``). Validation keeps
        the best epoch in both, each by its own rule (RECONSTRUCTION 5.3).
    representation : str
        What the CNN reads at each image start: [P] ``"ae_gdi"`` (the cached images) or
        ``"raw"``: the window of :data:`gaitcnn.rawwindows.RAW_WINDOW_SAMPLES` samples of the
        resampled signal from the image's start (the same time columns as its AE-GDI; cut by
        :func:`gaitcnn.peers.minirocket.image_windows`), read by a network that takes series
        (``network="raw_cnn"``, the improved labeling preset's trunk). Same images, same
        splits, same trainer: only the classifier's input changes.
    channels : str, tuple of str or None
        Raw windows only: a set of :data:`gaitcnn.rawwindows.CHANNEL_SETS` (``"axes"``,
        ``"norms"``, ``"gravity"``; its accelerometer-only variant when the data have no
        gyroscope) or front-end channel names. None: ``"axes"``. Heading-aligned channels
        (``"body"``) are refused: their forward axis is estimated over the whole walk, so no
        sample guard could keep a probe window apart from the training windows.
    """

    train_share: float = 0.10  # [P] 10 % of day 1
    n_repetitions: int = 10  # [P] 10 repetitions
    fusion_n: tuple = (1, 2, 3, 5)  # [P] N consecutive cycles
    same_day: bool = True  # run the same-day probe
    block_len: int = 10  # Reconstruction: blocks of consecutive cycles
    validation_fraction: float = 0.2  # Reconstruction: validation blocks from training
    guard_before: int = 32  # Reconstruction: AE-GDI needs 32 samples before the start
    guard_after: int = 152  # Reconstruction: 2.4 s GDI (120) + 32 delays after the start
    subjects: tuple | None = None  # None: every subject with both days
    seed: int = 0  # base seed
    methods: tuple = METHODS  # CNN + both baselines
    cosine_window_s: float = 2.4  # [P] Zhong & Deng sliding window
    segment_window_s: float = 2.8  # [P] segment-matching window
    train: dict = field(default_factory=lambda: {"epochs": 50, "batch_size": 100})  # [P]
    model: dict = field(default_factory=dict)  # [R] paper CNN defaults
    network: str = "paper_cnn"  # [P] the paper CNN
    segmentation: str = "gggd"  # [P] cycle-aligned AE-GDIs
    # Reconstruction-free peer setting: MiniRocket window at each image start, 2.56 s = the
    # 128 samples an AE-GDI touches (64 + 2 x 32 delays), inside the split's sample guards.
    minirocket_window_s: float = 2.56
    preset: str = "paper"
    precision: str = "float32"  # [P] float32 arithmetic (gaitcnn.presets.PRECISIONS)
    framework: str = "keras"  # the training loop of the CNNs
    representation: str = "ae_gdi"  # [P] the CNN reads AE-GDIs
    channels: str | tuple | None = None  # raw windows only; None: "axes"

    @classmethod
    def from_preset(cls, preset: str = "paper", **overrides) -> AuthConfig:
        """The settings of ``preset`` (see :data:`PRESETS`) with ``overrides`` on top."""
        if preset not in PRESETS:
            raise ValueError(f"preset must be one of {tuple(PRESETS)}, received: {preset!r}")
        values = {**PRESETS[preset], "preset": preset, **overrides}
        if "train" in overrides and "train" in PRESETS[preset]:
            values["train"] = {**PRESETS[preset]["train"], **overrides["train"]}
        return cls(**values)

    def __post_init__(self):
        if not 0.0 < self.train_share <= 1.0:
            raise ValueError(f"train_share must be in (0, 1], received: {self.train_share}")
        bad = set(self.methods) - set(METHODS) - set(PEER_METHODS)
        if bad or not self.methods:
            raise ValueError(
                f"methods must be a subset of {METHODS + PEER_METHODS}, received: {self.methods}"
            )
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {tuple(PRESETS)}, received: {self.preset!r}")
        if self.segmentation not in ("gggd", "dense"):
            raise ValueError(f"segmentation must be gggd|dense, received: {self.segmentation!r}")
        if self.block_len < 1 or self.n_repetitions < 1:
            raise ValueError("block_len and n_repetitions must be >= 1")
        object.__setattr__(self, "fusion_n", tuple(int(n) for n in self.fusion_n))
        object.__setattr__(self, "methods", tuple(self.methods))
        if self.subjects is not None:
            object.__setattr__(self, "subjects", tuple(int(s) for s in self.subjects))
        self._check_representation()
        if "ae_gdi_cnn" in self.methods:
            self.model_config(self.seed)  # the CNN's fields (network, framework...) validate
        self._check_guards()

    def _check_representation(self) -> None:
        """The CNN's input, its channels and its network must agree ("Received:" if not)."""
        from gaitcnn.registry import NETWORKS

        if self.representation not in REPRESENTATIONS:
            raise ValueError(
                f"representation must be one of {REPRESENTATIONS}. Received: "
                f"representation={self.representation!r}"
            )
        wanted = "series" if self.representation == "raw" else "image"
        spec = NETWORKS.get(self.network)
        if spec is not None and spec.input_kind != wanted:
            raise ValueError(
                f"representation={self.representation!r} needs a network that reads "
                f"{'windows of a series' if wanted == 'series' else 'images'} (e.g. "
                f"{'raw_cnn' if wanted == 'series' else 'paper_cnn'}). Received: "
                f"network={self.network!r}"
            )
        if self.channels is None:
            return
        if self.representation != "raw":
            raise ValueError(
                "channels applies to representation='raw' (the AE-GDI cache fixes its own). "
                f"Received: channels={self.channels!r}, representation={self.representation!r}"
            )
        from gaitcnn.prepare import CHANNELS
        from gaitcnn.rawwindows import CHANNEL_SETS

        if isinstance(self.channels, str):
            if self.channels not in CHANNEL_SETS:
                raise ValueError(
                    f"channels must be a set of {tuple(CHANNEL_SETS)} or channel names of "
                    f"{CHANNELS}. Received: channels={self.channels!r}"
                )
            return
        names = tuple(self.channels)
        if not names or set(names) - set(CHANNELS) or len(set(names)) != len(names):
            raise ValueError(
                f"channels must be distinct names of {CHANNELS} or a set of "
                f"{tuple(CHANNEL_SETS)}. Received: channels={self.channels!r}"
            )
        object.__setattr__(self, "channels", names)

    def window_channels(self, *, with_gyro: bool = True) -> tuple[str, ...]:
        """The front-end channels of the raw windows (``channels`` resolved; raw only)."""
        from gaitcnn.rawwindows import channel_names

        if self.channels is None or isinstance(self.channels, str):
            return channel_names(self.channels or "axes", with_gyro=with_gyro)
        return self.channels

    def input_spans(self) -> dict[str, tuple[int, int]]:
        """Samples each method reads around an image start ``h``: ``[h - before, h + after)``.

        Derived from the methods' own window lengths and their alignment to the start: the
        AE-GDI's margins (:func:`gaitcnn.images.required_margins`), the raw window's span
        (:func:`gaitcnn.rawwindows.window_span`), the baselines' windows from the start (the
        cosine GDI plus its delays) and the peers' windows from the start.
        """
        from gaitcnn.images import required_margins
        from gaitcnn.rawwindows import RAW_WINDOW_SAMPLES, window_span

        params = self.prepare_params()
        rate = params.rate_hz
        spans = {}
        for method in self.methods:
            if method == "ae_gdi_cnn" and self.representation == "raw":
                spans[method] = window_span(
                    self.window_channels(), width=RAW_WINDOW_SAMPLES, rate_hz=rate
                )
            elif method == "ae_gdi_cnn":
                spans[method] = required_margins(params.width, params.height, "strict")
            elif method == "cosine_gdi":
                spans[method] = (0, round(self.cosine_window_s * rate) + params.height)
            elif method == "segment_nn":
                spans[method] = (0, round(self.segment_window_s * rate))
            else:  # a peer: its window from the start
                spans[method] = (0, round(self.minirocket_window_s * rate))
        return spans

    def _check_guards(self) -> None:
        """Refuse guards too short for a method's span (probe and training would share samples).

        :func:`gaitcnn.authentication.spans_overlap` excludes a probe image whose start is
        closer than ``guard_before + guard_after`` to a training image's start; two spans of
        ``before + after`` samples of one method meet exactly when their starts are closer
        than that length. So the guards are correct for a method when its span is no longer.
        """
        reach = self.guard_before + self.guard_after
        for method, (before, after) in self.input_spans().items():
            if before + after > reach:
                raise ValueError(
                    f"the sample guards ({reach} samples) are shorter than what {method} reads "
                    f"around an image start (h - {before} .. h + {after}), so probe and "
                    f"training images could share samples. Received: guard_before="
                    f"{self.guard_before}, guard_after={self.guard_after}"
                )

    @classmethod
    def from_dict(cls, values: dict) -> AuthConfig:
        """Build from a (JSON) dict; unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown AuthConfig fields: {sorted(unknown)}")
        return cls(**values)

    def to_dict(self) -> dict:
        """Plain JSON-able dict; fields added after the paper preset are omitted at default."""
        values = dataclasses.asdict(self)
        for name, default in _OPTIONAL_FIELDS.items():
            if values[name] == default:
                del values[name]
        return json.loads(json.dumps(values))

    def prepare_params(self, **overrides):
        """The image parameters (:class:`gaitcnn.prepare.PrepareParams`) of ``segmentation``."""
        from gaitcnn.prepare import PrepareParams

        if self.segmentation == "dense":
            return PrepareParams.improved("mcgill", **overrides)
        return PrepareParams.paper("mcgill", **overrides)

    def model_config(self, seed: int):
        """The :class:`gaitcnn.presets.ModelConfig` of one binary CNN classifier."""
        from gaitcnn.presets import ModelConfig

        train = {"epochs": 50, "batch_size": 100, **self.train}
        names = ("epochs", "batch_size", "learning_rate", "lr_schedule", "label_smoothing",
                 "global_clipnorm")  # fmt: skip
        fields = {k: train.pop(k) for k in names if k in train}
        if train:
            raise ValueError(f"unknown train fields {sorted(train)}; known: {list(names)}")
        if self.representation == "raw":  # the raw-window front end, as the improved preset's
            fields["representation"] = "raw"
        return ModelConfig(
            network=self.network, hparams=dict(self.model), seed=seed, precision=self.precision,
            framework=self.framework, **fields,
        )  # fmt: skip

    def classifier_hash(self) -> str:
        """Hash of the fields that decide one classifier's result (for resume checks)."""
        d = self.to_dict()
        for key in ("n_repetitions", "subjects"):
            d.pop(key)
        d.pop("preset", None)  # a label: the fields themselves decide the result
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


#: Fields added after the paper preset, with their paper value (omitted from ``to_dict`` and
#: the classifier hash at that value, so stored Table 1 records stay valid).
_OPTIONAL_FIELDS = {
    "network": "paper_cnn",
    "segmentation": "gggd",
    "preset": "paper",
    "minirocket_window_s": 2.56,
    "precision": "float32",
    "framework": "keras",
    "representation": "ae_gdi",
    "channels": None,
}

#: The presets of the authentication protocol. ``"paper"``: the reproduction. The labeling
#: changes of the improved preset made for AE-GDIs (dense AE-GDIs every 25 samples, the compact
#: CNN, cosine decay with label smoothing, 15 or 50 epochs) each scored below the paper preset
#: on different-day probes (``docs/results-simulated/ablation/ablation.md``: 49-60 % vs 62 %,
#: simulated McGill, 6 subjects x 2 repetitions) and none of them is in ``"improved"``.
#: ``"improved"``: raw windows on gravity-aligned channels instead of AE-GDIs, measured on
#: the paper's own images and splits (``docs/results-simulated/authentication_raw.md``).
PRESETS: dict[str, dict] = {
    "paper": {},
    # Paper deviation: the classifier reads the raw window of 64 samples (1.28 s) from each
    # image start - gravity-aligned channels (vertical acceleration and rotation rate,
    # horizontal magnitudes, |a|, |w|), which do not change when the phone turns in the
    # pocket between days - with the improved labeling preset's 1-D CNN and schedule (30
    # epochs, cosine decay, label smoothing 0.1). On the same splits it raised different-day
    # accuracy in every repetition and lowered the EER, in a fraction of the time; the raw
    # sensor axes did not win, as the phone turns between days
    # (docs/results-simulated/authentication_raw.md).
    "improved": {
        "representation": "raw",
        "network": IMPROVED["network"],
        "channels": "gravity",
        "train": {
            "epochs": 30,  # the labeling preset's before its speed step; a Table 1 classifier
            # trains on ~150 windows, where batches of 400 would be one step per epoch
            "batch_size": 100,  # [P] kept in the dict: it is part of the classifier hash
            "lr_schedule": IMPROVED["lr_schedule"],
            "label_smoothing": IMPROVED["label_smoothing"],
        },
    },
}
