"""Stages 1-5 wired together: recordings -> segments -> cycle starts -> images -> cache."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
from collections import Counter, deque
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitcnn._atomic import remove_stale_partials
from gaitcnn._files import fingerprint_changes, fingerprint_files
from gaitcnn._locking import file_lock
from gaitcnn._processes import die_with_parent
from gaitcnn.cache import CacheWriter, cache_path, read_image_set
from gaitcnn.constants import (
    DATA_DIR_ENV,
    DATASET_NAMES,
    IMAGE_HEIGHT,
    IMAGE_WIDTH,
    STANDARD_GRAVITY,
    TARGET_RATE_HZ,
)
from gaitcnn.cycles import GaitDetectionParams, detect_cycle_starts, overlap_windows
from gaitcnn.errors import GaitDataError
from gaitcnn.images import ae_gdi, dense_starts, gdi, magnitude_image, valid_starts
from gaitcnn.io import Recording
from gaitcnn.rawwindows import (
    GRAVITY_CHANNEL_NAMES,
    GRAVITY_WINDOW_S,
    HEADING_CHANNEL_NAMES,
    RELATION_CHANNEL_NAMES,
    raw_channels,
)
from gaitcnn.resample import resample_recording

__all__ = [
    "CACHE_DIR_ENV",
    "PrepareParams",
    "default_cache_dir",
    "ensure_simulated",
    "first_recording_has_gyroscope",
    "images_for_recording",
    "input_files",
    "load_dataset",
    "prepare_dataset",
]

logger = logging.getLogger(__name__)

#: Environment variable for the cache folder (simulated data sets and image caches).
CACHE_DIR_ENV = "GAITCNN_CACHE_DIR"

#: Representations an image can hold.
REPRESENTATIONS = ("ae_gdi", "gdi", "raw")

#: How image start positions are chosen.
SEGMENTATIONS = ("gggd", "overlap", "dense")

#: Image channels: the AE-GDI (or GDI) of a sensor, or the delay image of its norm
#: (:func:`gaitcnn.images.magnitude_image`, AE-GDI representation only), or - raw
#: representation only - a gravity- or heading-aligned component or a horizontal relation
#: (:func:`gaitcnn.rawwindows.gravity_channels`, :func:`gaitcnn.rawwindows.heading_channels`,
#: :func:`gaitcnn.rawwindows.relation_channels`).
_FRAME_CHANNELS = (*GRAVITY_CHANNEL_NAMES, *HEADING_CHANNEL_NAMES, *RELATION_CHANNEL_NAMES)
CHANNELS = ("acc", "gyr", "acc_mag", "gyr_mag", *_FRAME_CHANNELS)

#: Normalisation ``(offset, scale)`` of the norm channels: |a| in units of g around 1 g, |w| in
#: units of pi rad/s.
_MAGNITUDE_NORMALISATION = {
    "acc_mag": (STANDARD_GRAVITY, STANDARD_GRAVITY),
    "gyr_mag": (0.0, np.pi),
}

#: Fields added after the first cache format, with the value that reproduces the older
#: behaviour. ``to_dict`` omits them at that value, so the hash - and the file name - of every
#: cache made before they existed (the paper preset's included) does not change.
_OPTIONAL_FIELDS = {"dense_step": 0, "gravity_window_s": 0.0}


def default_cache_dir() -> Path:
    """``$GAITCNN_CACHE_DIR``, else ``~/.cache/gaitcnn``."""
    env = os.environ.get(CACHE_DIR_ENV)
    return Path(env) if env else Path.home() / ".cache" / "gaitcnn"


@dataclass(frozen=True)
class PrepareParams:
    """Everything that decides the content of an image cache (hashed into its file name).

    Attributes
    ----------
    dataset : str
        ``"ouisir"`` or ``"mcgill"``.
    representation : str
        ``"ae_gdi"`` (the paper), ``"gdi"`` (Method 2) or ``"raw"`` (Method 3: the resampled
        time series window itself, shape (1, width, 3 * n_sensors)).
    segmentation : str
        ``"gggd"`` (images start at detected cycle starts, the paper), ``"overlap"``
        (Method 1: windows of 1.28 s every 0.78 s) or ``"dense"`` (an image at every
        ``dense_step``-th sample, the improved preset).
    channels : tuple of str
        Image channels: ``("acc",)`` or ``("acc", "gyr")`` in the paper; the improved preset
        may add ``"acc_mag"`` / ``"gyr_mag"`` (delay images of the norms).
    width, height : int
        Image size: N_w = 64 time samples, N_h = 32 delays [paper].
    edge : str
        ``"strict"`` (paper preset: skip starts without the full margin) or ``"pad"``.
    rate_hz : float
        Resampling rate [paper: 50 Hz].
    max_gap_s : float
        Gaps longer than this split a recording into segments.
    detection : dict
        :class:`gaitcnn.cycles.GaitDetectionParams` as a dict (empty, unused, for dense
        segmentation).
    subset, sensor : str
        OU-ISIR loader options (ignored for McGill); ``sensor=None`` means the centre IMU, or
        the folder's sensor when the data root is a sensor folder.
    dense_step : int
        Samples between image starts for ``segmentation="dense"`` (0 otherwise). Omitted from
        :meth:`to_dict` when 0, so older cache names are unchanged.
    gravity_window_s : float
        Moving-mean length of the gravity estimate of the gravity-aligned channels
        (``acc_vert``, ``acc_horiz``, ``gyr_vert``, ``gyr_horiz``; raw representation only):
        set to :data:`gaitcnn.rawwindows.GRAVITY_WINDOW_S` when they are asked for and left
        at 0 otherwise (then omitted from :meth:`to_dict`, so older cache names are unchanged).
    """

    dataset: str
    representation: str = "ae_gdi"
    segmentation: str = "gggd"
    channels: tuple[str, ...] = ("acc",)
    width: int = IMAGE_WIDTH
    height: int = IMAGE_HEIGHT
    edge: str = "strict"
    rate_hz: float = TARGET_RATE_HZ
    max_gap_s: float = 0.5
    detection: dict = field(
        default_factory=lambda: dataclasses.asdict(GaitDetectionParams.updated())
    )
    subset: str = "auto"
    sensor: str | None = None
    dense_step: int = 0
    gravity_window_s: float = 0.0

    def __post_init__(self):
        checks = {
            "dataset": (self.dataset, DATASET_NAMES),
            "representation": (self.representation, REPRESENTATIONS),
            "segmentation": (self.segmentation, SEGMENTATIONS),
            "edge": (self.edge, ("strict", "pad")),
        }
        for name, (value, allowed) in checks.items():
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, received: {name}={value!r}")
        object.__setattr__(self, "channels", tuple(self.channels))
        bad = set(self.channels) - set(CHANNELS)
        if not self.channels or bad or len(set(self.channels)) != len(self.channels):
            raise ValueError(f"channels must be distinct names of {CHANNELS}, got {self.channels}")
        if self.representation == "gdi" and {"acc_mag", "gyr_mag"} & set(self.channels):
            raise ValueError(
                "the norm channels (acc_mag, gyr_mag) need representation='ae_gdi' or 'raw'"
            )
        self._check_gravity_channels()
        if self.segmentation == "dense":
            # Dense starts ignore the cycle detector: keep its parameters out of the cache
            # hash, so detector changes do not invalidate dense caches.
            object.__setattr__(self, "detection", {})
        if (self.segmentation == "dense") != (self.dense_step > 0):
            raise ValueError(
                "dense_step must be a positive number of samples exactly when "
                f"segmentation='dense', received dense_step={self.dense_step!r} with "
                f"segmentation={self.segmentation!r}"
            )

    def _check_gravity_channels(self) -> None:
        gravity = set(_FRAME_CHANNELS) & set(self.channels)
        if gravity and self.representation != "raw":
            raise ValueError(
                f"the gravity-aligned channels {sorted(gravity)} need representation='raw', "
                f"received representation={self.representation!r}"
            )
        if gravity and not self.gravity_window_s:
            object.__setattr__(self, "gravity_window_s", GRAVITY_WINDOW_S)
        if (self.gravity_window_s > 0) != bool(gravity) or self.gravity_window_s < 0:
            raise ValueError(
                "gravity_window_s must be positive exactly when gravity-aligned channels are "
                f"asked for, received gravity_window_s={self.gravity_window_s!r} with "
                f"channels={self.channels}"
            )

    @classmethod
    def paper(cls, dataset: str, **overrides) -> PrepareParams:
        """The paper preset: AE-GDIs at GGGD cycle starts; acc+gyro on OU-ISIR, acc on McGill."""
        channels = ("acc", "gyr") if dataset == "ouisir" else ("acc",)
        return cls(dataset=dataset, **{"channels": channels, **overrides})

    @classmethod
    def improved(cls, dataset: str, **overrides) -> PrepareParams:
        """The improved preset's images (see :data:`gaitcnn.labeling.PRESETS`).

        # Paper deviation: dense AE-GDIs (every ``dense_step`` samples, ``edge="pad"``) instead
        # of one per detected cycle start. OU-ISIR walks last ~5 s: 4 samples (80 ms) give ~50
        # images per walk; McGill days last 15 min, so 25 samples (0.5 s) keep ~1,800 images
        # per day, about twice the cycle starts, and the cache size sane.
        """
        channels = ("acc", "gyr") if dataset == "ouisir" else ("acc",)
        values = {
            "channels": channels,
            "segmentation": "dense",
            "dense_step": 4 if dataset == "ouisir" else 25,
            "edge": "pad",
        }
        values.update(overrides)
        return cls(dataset=dataset, **values)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """Shape of one cached image, ``(height, width, n_channels)``."""
        if self.representation == "raw":  # 3 axes per sensor, 1 column per scalar channel
            n = sum(3 if c in ("acc", "gyr") else 1 for c in self.channels)
            return (1, self.width, n)
        return (self.height, self.width, len(self.channels))

    def to_dict(self) -> dict:
        """Plain JSON-able dict (tuples become lists); optional fields at default omitted."""
        values = dataclasses.asdict(self)
        for name, default in _OPTIONAL_FIELDS.items():
            if values[name] == default:
                del values[name]
        return json.loads(json.dumps(values))

    def detection_params(self) -> GaitDetectionParams:
        """The cycle-detection parameters as a :class:`GaitDetectionParams`."""
        return GaitDetectionParams(**self.detection)


def ensure_simulated(
    dataset: str,
    *,
    cache_dir=None,
    seed: int = 0,
    n_subjects: int | None = None,
    duration_s: float | None = None,
    variant: str = "default",
    progress: bool | None = None,
    sensors: tuple[str, ...] = ("center",),
) -> Path:
    """Return the root of a simulated data set in the real file format, simulating it once.

    The simulator writes to a temporary folder renamed into place when complete (see
    :func:`gaitcnn.simulate.simulate_ouisir`), so an interrupted simulation is never mistaken
    for a finished one. A lock (``<root>.lock``) makes concurrent callers wait for one
    simulation and then reuse it.

    Parameters
    ----------
    dataset : str
        ``"ouisir"`` (default 744 subjects) or ``"mcgill"`` (default 20 subjects x 2 days).
    cache_dir : str or os.PathLike, optional
        Parent folder (default :func:`default_cache_dir`).
    seed : int, default=0
        Simulator seed.
    n_subjects : int, optional
        Number of simulated subjects.
    duration_s : float, optional
        McGill-like day length (default 900 s, the paper's ~15 minutes).
    variant : str, default="default"
        ``"default"`` (calibrated presets), ``"hard"`` (:func:`gaitcnn.simulate.harder`: more
        session-to-session and day-to-day variation, noisier sensors; uncalibrated), or
        either with the sensor turned by a random rotation every session (``"rotated"``,
        ``"hard-rotated"``; :func:`gaitcnn.simulate.session_rotation`), or every walker wearing
        the sensor at the same tilt (``"untilted"``; :func:`gaitcnn.simulate.untilted`). Each
        variant has its own folder (``...-<variant>``).
    progress : bool or None, default=None
        Progress bar while simulating; ``None`` shows it when stderr is a terminal.
    sensors : tuple of str, default=("center",)
        OU-ISIR manual-subset sensors to write (``"android"``: phone walks with an all-zero
        gyroscope, as in the release). Other sets get their own folder; the centre IMU's walks
        are the same in every set.

    Returns
    -------
    Path
        The data root, to be read with the ordinary loaders.
    """
    import shutil

    from gaitcnn import simulate

    if dataset not in DATASET_NAMES:
        raise ValueError(f"dataset must be one of {DATASET_NAMES}, received: {dataset!r}")
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if variant not in simulate.VARIANTS:
        raise ValueError(f"variant must be one of {simulate.VARIANTS}, received: {variant!r}")
    suffix = "" if variant == "default" else f"-{variant}"
    if dataset == "ouisir":
        n_subjects = n_subjects or 744
        sensors = tuple(dict.fromkeys(("center", *sensors)))
        if sensors != ("center",):
            suffix += "-" + "+".join(sensors[1:])
        name = f"simulated-ouisir-n{n_subjects}-seed{seed}{suffix}"
    else:
        n_subjects = n_subjects or 20
        duration_s = float(duration_s or 900.0)
        name = f"simulated-mcgill-n{n_subjects}-{duration_s:g}s-seed{seed}{suffix}"
    root = cache_dir / name
    complete = root / simulate.COMPLETE_MARKER
    if complete.exists():
        return root
    with file_lock(root, what=f"simulating {name}"):
        if complete.exists():  # another process simulated it while we waited
            return root
        remove_stale_partials(root)  # folders of simulations that were killed half-way
        shutil.rmtree(root, ignore_errors=True)  # never complete: left by an older gaitcnn
        logger.info("simulating %s into %s", name, root)
        if dataset == "ouisir":
            simulate.simulate_ouisir(
                root, n_subjects=n_subjects, seed=seed, variant=variant, progress=progress,
                sensors=sensors,
            )  # fmt: skip
        else:
            simulate.simulate_mcgill(
                root,
                n_subjects=n_subjects,
                duration_s=duration_s,
                seed=seed,
                variant=variant,
                progress=progress,
            )
    return root


def _starts_for(segment: Recording, params: PrepareParams) -> np.ndarray:
    n = segment.n_timepoints
    if params.segmentation == "overlap":
        return overlap_windows(n, params.rate_hz)
    if params.segmentation == "dense":
        edge = "pad" if params.representation == "raw" else params.edge
        return dense_starts(
            n, params.dense_step, width=params.width, height=params.height, edge=edge
        )
    magnitude = np.linalg.norm(segment.acc, axis=1)
    return detect_cycle_starts(magnitude, params.rate_hz, params.detection_params())


def _raw_columns(segment: Recording, params: PrepareParams) -> np.ndarray:
    """Columns of the raw representation, unscaled (:func:`gaitcnn.rawwindows.raw_channels`)."""
    return raw_channels(
        segment.acc, segment.gyr, channels=params.channels, rate_hz=params.rate_hz,
        gravity_window_s=params.gravity_window_s or GRAVITY_WINDOW_S,
    )  # fmt: skip


def images_for_recording(recording: Recording, params: PrepareParams) -> list[tuple]:
    """Turn one raw recording into ``(info, images, starts)`` per resampled segment.

    Parameters
    ----------
    recording : Recording
        A raw recording as a loader returns it.
    params : PrepareParams

    Returns
    -------
    list of tuple
        ``(info, images, starts)`` with ``images`` of shape ``(n, *params.image_shape)``.
    """
    return _recording_images(recording, params, warn=True)[0]


def _recording_images(
    recording: Recording, params: PrepareParams, *, warn: bool = False
) -> tuple[list[tuple], str]:
    """:func:`images_for_recording`, plus why the recording gave no image (``""`` if it did).

    ``warn``: log a skipped recording as a warning (the caller of one recording); a whole
    data set (:func:`prepare_dataset`) counts the reasons and warns once instead.
    """
    if any(c.startswith("gyr") for c in params.channels) and recording.gyr is None:
        raise GaitDataError(
            f"this recording has no gyroscope but the channels {params.channels} need one "
            "(use accelerometer-only channels, e.g. channels=('acc',))",
            path=recording.source,
        )
    try:
        segments = resample_recording(recording, rate_hz=params.rate_hz, max_gap_s=params.max_gap_s)
    except GaitDataError as exc:  # e.g. shorter than one second: skip it, but say so
        logger.log(logging.WARNING if warn else logging.DEBUG, "skipping recording: %s", exc)
        # The reason without the numbers of this recording, so that reasons can be counted.
        return [], re.sub(r"[0-9]+(\.[0-9]+)?", "N", exc.problem.split(":")[0])
    out = []
    for segment in segments:
        n = segment.n_timepoints
        candidates = _starts_for(segment, params)
        margin_edge = "pad" if params.representation == "raw" else params.edge
        starts = valid_starts(
            candidates, n, width=params.width, height=params.height, edge=margin_edge
        )
        series = [segment.gyr if c.startswith("gyr") else segment.acc for c in params.channels]
        if params.representation == "raw":
            stacked = _raw_columns(segment, params)  # (n, n_columns)
            cols = starts[:, None] + np.arange(params.width)[None, :]
            images = stacked[cols][:, None, :, :].astype(np.float32)
        else:
            make = ae_gdi if params.representation == "ae_gdi" else gdi
            kwargs = {"edge": params.edge} if params.representation == "ae_gdi" else {}
            planes = []
            for name, s in zip(params.channels, series, strict=True):
                if name in _MAGNITUDE_NORMALISATION:
                    offset, scale = _MAGNITUDE_NORMALISATION[name]
                    planes.append(
                        magnitude_image(
                            s, starts, params.width, params.height,
                            offset=offset, scale=scale, edge=params.edge,
                        )
                    )  # fmt: skip
                else:
                    planes.append(
                        make(s, starts, width=params.width, height=params.height, **kwargs)
                    )
            images = np.stack(planes, axis=-1).astype(np.float32)
        info = {
            "key": segment.key,
            "subject_id": segment.subject_id,
            "session": segment.session,
            "walk": segment.walk,
            "source": segment.source,
            "has_gyr": segment.gyr is not None,
            "n_timepoints": n,
            "n_candidates": len(candidates),
            "n_skipped": len(candidates) - len(starts),
        }
        out.append((info, images, np.asarray(starts, dtype=np.int64)))
    return out, _no_image_reason(out, params)


def _no_image_reason(segments: list[tuple], params: PrepareParams) -> str:
    """Why resampled segments gave no image (``""`` when they gave some)."""
    if any(len(images) for _, images, _ in segments):
        return ""
    if not any(info["n_candidates"] for info, _, _ in segments):
        if params.segmentation == "gggd":
            return "no gait cycle detected"
        return f"shorter than one image window ({params.width} samples)"
    return f"no cycle start with the full image margin (edge={params.edge!r})"


def load_dataset(
    dataset: str, data_root, params: PrepareParams, *, skip_checks: Collection[str] = ()
) -> list[Recording]:
    """Load the raw recordings of ``dataset`` from ``data_root`` with the right loader.

    ``skip_checks`` names loader checks to switch off (:data:`gaitcnn.io.PLAUSIBILITY_CHECKS`).
    """
    if dataset == "ouisir":
        from gaitcnn.io import load_ouisir

        return load_ouisir(
            data_root, subset=params.subset, sensor=params.sensor, skip_checks=skip_checks
        )
    from gaitcnn.io import load_mcgill

    # Lazy: a McGill day is 15 minutes; read one file at a time so peak memory does not grow
    # with the number of subjects.
    return load_mcgill(data_root, lazy=True, skip_checks=skip_checks)


def input_files(dataset: str, data_root, params: PrepareParams) -> list[Path]:
    """The files :func:`load_dataset` reads (nothing is read), in its order."""
    if dataset == "ouisir":
        from gaitcnn.io import ouisir_files

        return ouisir_files(data_root, subset=params.subset, sensor=params.sensor)
    from gaitcnn.io import mcgill_files

    return mcgill_files(data_root)


def first_recording_has_gyroscope(dataset: str, data_root, params: PrepareParams):
    """Whether the data set's first recording has a gyroscope, and that recording's file.

    Reads one file only: enough to choose a model's channels before the cache is built (every
    recording's flag is then kept in the cache's recording table, ``has_gyr``).
    """
    files = input_files(dataset, data_root, params)
    if not files:
        raise GaitDataError("no recording found", path=data_root)
    if dataset == "ouisir":
        from gaitcnn.io import read_ouisir_file

        gyr, _ = read_ouisir_file(files[0])
        return bool(gyr.any()), str(files[0])  # Android files: an all-zero gyroscope
    first = load_dataset(dataset, data_root, params)[0]
    return first.gyr is not None, first.source


def _iter_images(
    recordings: Sequence[Recording], params: PrepareParams, workers: int
) -> Iterator[tuple[str, list[tuple], str]]:
    """``(source, segments, no-image reason)`` of each recording, in order."""
    if workers <= 1:
        for rec in recordings:
            yield (rec.source, *_recording_images(rec, params))
        return
    # Results are yielded in input order, so the cache is identical to a one-worker run; at
    # most 2 x workers recordings are in flight, so finished images never pile up in memory
    # while the writer catches up (Executor.map would submit every recording at once).
    in_flight: deque = deque()
    with ProcessPoolExecutor(
        max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),)
    ) as pool:
        for rec in recordings:
            in_flight.append((rec.source, pool.submit(_recording_images, rec, params)))
            if len(in_flight) >= 2 * workers:
                source, future = in_flight.popleft()
                yield (source, *future.result())
        while in_flight:
            source, future = in_flight.popleft()
            yield (source, *future.result())


def prepare_dataset(
    params: PrepareParams,
    data_root=None,
    *,
    cache_dir=None,
    source: str | None = None,
    workers: int = 1,
    overwrite: bool = False,
    progress: bool = True,
    skip_checks: Collection[str] = (),
) -> Path:
    """Build (or reuse) the image cache for ``params`` from the recordings under ``data_root``.

    A cache is reused only if it passes its integrity checks and was built from the same
    input files: the cache stores a fingerprint of them (names, sizes, modification times and
    content hashes; :func:`gaitcnn._files.fingerprint_files`). When files were added, removed
    or changed since, or the cache is damaged or from an older format, it is rebuilt, with a
    warning that says why (the cache is gaitcnn's own derived data, so rebuilding loses nothing).
    A lock (``<cache>.lock``) makes a concurrent call for the same cache wait and reuse it.

    Parameters
    ----------
    params : PrepareParams
        What to build; its hash names the cache file, so other parameters never reuse it.
    data_root : str or os.PathLike
        Root of the raw data set (real or simulated).
    cache_dir : str or os.PathLike, optional
        Where the cache goes (default :func:`default_cache_dir`).
    source : str, optional
        Provenance text stored in the cache (default: the data root).
    workers : int, default=1
        Worker processes; the cache is identical whatever the number. Workers end when this
        process dies, even by SIGKILL.
    overwrite : bool, default=False
        Rebuild even if a valid cache exists.
    progress : bool, default=True
        Show a progress bar on stderr.
    skip_checks : collection of str, optional
        Plausibility checks of the loaders to switch off (:data:`gaitcnn.io.PLAUSIBILITY_CHECKS`).

    Returns
    -------
    Path
        The cache file.

    Raises
    ------
    GaitDataError
        If the data root holds no readable recordings, a malformed file, or no recording gives
        an image (the message counts the recordings by reason); nothing is written then.
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if data_root is None:
        data_root = os.environ.get(DATA_DIR_ENV)
        if not data_root:
            raise ValueError(f"no data root: pass data_root or set ${DATA_DIR_ENV}")
    # The name hashes the data root too: two data sets prepared with the same parameters
    # (e.g. simulated sets of 20 and 744 subjects) must never share a cache file.
    key = {**params.to_dict(), "data_root": str(Path(data_root).resolve())}
    path = cache_path(cache_dir, params.dataset, key)
    fingerprint = fingerprint_files(data_root, input_files(params.dataset, data_root, params))
    with file_lock(path, what=f"building the image cache {path}"):
        if path.exists() and not overwrite:
            problem = _reuse_problem(path, params, fingerprint)
            if not problem:
                logger.info("reusing cache %s", path)
                return path
            logger.warning("rebuilding the image cache %s: %s", path, problem)
        source = source or str(Path(data_root).resolve())
        recordings = load_dataset(params.dataset, data_root, params, skip_checks=skip_checks)
        return _build_cache(
            path,
            recordings,
            params,
            fingerprint,
            source=source,
            data_root=data_root,
            workers=workers,
            progress=progress,
        )


def _reuse_problem(path: Path, params: PrepareParams, fingerprint: list) -> str:
    """Why the existing cache at ``path`` must be rebuilt (``""``: it can be reused)."""
    try:
        stored = read_image_set(path, expected_params=params.to_dict(), load_images=False)
    except GaitDataError as exc:
        return f"it cannot be used ({exc.problem})"
    inputs = stored.attrs.get("inputs_json")
    if inputs is None:
        return "it records no fingerprint of its input files"
    changes = fingerprint_changes(json.loads(inputs), fingerprint)
    return f"its input files changed since it was built: {changes}" if changes else ""


def _build_cache(
    path, recordings, params, fingerprint, *, source, data_root, workers, progress
) -> Path:
    """Write the cache of ``recordings``; refuse (writing nothing) if no image results."""
    from tqdm.auto import tqdm

    n_images = n_skipped = 0
    reasons: Counter = Counter()
    examples: dict[str, str] = {}
    with CacheWriter(
        path, params.image_shape, params=params.to_dict(), source=source, overwrite=True
    ) as writer:
        bar = tqdm(
            total=len(recordings),
            desc=f"prepare {params.dataset}",
            unit="rec",
            disable=not progress,
        )
        for rec_source, segments, reason in _iter_images(recordings, params, workers):
            for info, images, starts in segments:
                writer.add_recording(info, images, starts)
                n_images += len(images)
                n_skipped += info["n_skipped"]
            if reason:
                reasons[reason] += 1
                examples.setdefault(reason, rec_source)
            bar.update(1)
            bar.set_postfix(images=n_images, skipped=n_skipped)
        bar.close()
        if n_images == 0:
            counts = ", ".join(f"{n} {why} (e.g. {examples[why]})" for why, n in reasons.items())
            raise GaitDataError(
                f"no recording gave an image ({len(recordings)} recordings: {counts}); no cache "
                "was written",
                path=data_root,
            )
        writer.commit(n_skipped=n_skipped, n_recordings=len(recordings), inputs_json=fingerprint)
    if reasons:
        logger.warning(
            "%d of %d recordings gave no image: %s",
            sum(reasons.values()),
            len(recordings),
            ", ".join(f"{n} {why}" for why, n in reasons.items()),
        )
    logger.info("wrote %d images (%d starts skipped) to %s", n_images, n_skipped, path)
    return path
