"""Stage 9: export a trained model (.keras, SavedModel, TFLite) with its metadata.json.

Layout of an export directory::

    out_dir/
      model.keras      Keras v3 file, inference-only (no optimizer state)   format "keras"
      savedmodel/      ``model.export`` SavedModel, endpoint ``serve``       format "savedmodel"
      model.tflite     TFLite flatbuffer (optionally dynamic-range quantised) format "tflite"
      metadata.json    versions, input shape, classes, preprocessing, config hash

Every artefact is written to a temporary name in ``out_dir`` and renamed into place, and an
existing artefact is never replaced unless ``overwrite=True``.

:func:`export_embedding` writes the same layout for the embedding network of a
:class:`gaitcnn.GaitModel` (on-device verification); its ``metadata.json`` holds the
preprocessing contract a device needs (key ``"contract"``), read back by
:meth:`gaitcnn.stream.StreamingVerifier.from_export`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Quiet TensorFlow's C++ start-up chatter unless the user chose a level (RECONSTRUCTION 5.5).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

import gaitcnn
from gaitcnn._atomic import write_json_atomic
from gaitcnn._files import open_regular, read_json_file, reading
from gaitcnn.errors import GaitDataError
from gaitcnn.stream import EMBEDDING_EXPORT_KIND
from gaitcnn.train import quiet_tensorflow_logs

__all__ = [
    "ARTEFACT_NAMES",
    "EMBEDDING_EXPORT_KIND",
    "EXPORT_FORMATS",
    "config_hash",
    "embedding_contract",
    "export_embedding",
    "export_model",
    "export_run",
    "load_model",
    "load_saved_model",
    "load_tflite",
]

quiet_tensorflow_logs()

#: Formats :func:`export_model` writes.
EXPORT_FORMATS = ("keras", "savedmodel", "tflite")

#: File (or folder) name of each format inside the export directory.
ARTEFACT_NAMES = {"keras": "model.keras", "savedmodel": "savedmodel", "tflite": "model.tflite"}

_METADATA_NAME = "metadata.json"
_METADATA_FORMAT_VERSION = 1
_VOLATILE_RUN_KEYS = ("versions", "command")


def config_hash(config: Mapping[str, Any] | None) -> str | None:
    """sha256 (hex) of the config as JSON with sorted keys and no whitespace; None for None."""
    if config is None:
        return None
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _normalise_formats(formats: str | Sequence[str]) -> tuple[str, ...]:
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    aliases = {"saved_model": "savedmodel"}
    formats = tuple(aliases.get(f, f) for f in formats)
    unknown = [f for f in formats if f not in EXPORT_FORMATS]
    if unknown or not formats:
        raise ValueError(
            f"formats must be a non-empty subset of {EXPORT_FORMATS}. Received {formats}."
        )
    return tuple(dict.fromkeys(formats))


def _inference_copy(model: keras.Model) -> keras.Model:
    """An uncompiled copy with the same weights, so exports carry no optimizer state."""
    if getattr(model, "optimizer", None) is None:
        return model
    try:
        clone = keras.models.clone_model(model)
    except (ValueError, TypeError):  # subclassed models cannot be cloned: export as they are
        return model
    clone.set_weights(model.get_weights())
    return clone


def _input_shape(model: keras.Model) -> list[int | None]:
    return [None if d is None else int(d) for d in model.inputs[0].shape[1:]]


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _replace(tmp: Path, target: Path) -> None:
    """Move ``tmp`` to ``target``; an existing target (overwrite was checked) is replaced."""
    if target.is_dir():
        trash = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, trash)
        os.replace(tmp, target)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, target)


def _write_savedmodel(model: keras.Model, path: Path) -> None:
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        model.export(str(path), format="tf_saved_model", verbose=False)


def _export_targets(
    out_dir: str | os.PathLike, formats: tuple[str, ...], overwrite: bool
) -> dict[str, Path]:
    """Path of each artefact plus ``"metadata"``; refuses existing ones unless ``overwrite``."""
    out_dir = Path(out_dir)
    targets = {fmt: out_dir / ARTEFACT_NAMES[fmt] for fmt in formats}
    targets["metadata"] = out_dir / _METADATA_NAME
    existing = [str(p) for p in targets.values() if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"Refusing to overwrite existing export artefacts: {', '.join(existing)}. Pass "
            "overwrite=True (CLI: --overwrite) or choose another directory."
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    return targets


def _write_artefacts(
    model: keras.Model, targets: dict[str, Path], formats: tuple[str, ...], quantize: bool
) -> None:
    """Write every format to a staging folder beside the targets, then rename them into place."""
    out_dir = targets["metadata"].parent
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".export-") as staging_name:
        staging = Path(staging_name)
        written: dict[str, Path] = {}
        if "keras" in formats:
            model.save(staging / "model.keras")
            written["keras"] = staging / "model.keras"
        savedmodel_dir = staging / "savedmodel"
        if "savedmodel" in formats or "tflite" in formats:
            _write_savedmodel(model, savedmodel_dir)
        if "savedmodel" in formats:
            written["savedmodel"] = savedmodel_dir
        if "tflite" in formats:
            converter = tf.lite.TFLiteConverter.from_saved_model(str(savedmodel_dir))
            if quantize:
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
            (staging / "model.tflite").write_bytes(converter.convert())
            written["tflite"] = staging / "model.tflite"
        for fmt, tmp in written.items():
            _replace(tmp, targets[fmt])


def export_model(
    model: keras.Model,
    out_dir: str | os.PathLike,
    *,
    formats: str | Sequence[str] = ("keras",),
    metadata: Mapping[str, Any] | None = None,
    class_names: Sequence[str] | None = None,
    preprocessing: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    quantize: bool = False,
    overwrite: bool = False,
) -> dict[str, Path]:
    """Write ``model`` in the requested formats plus ``metadata.json``.

    Parameters
    ----------
    model : keras.Model
        A built Functional model, input ``(batch, height, width, n_channels)``, softmax output
        ``(batch, n_classes)``. A compiled model is exported without its optimizer state.
    out_dir : path
        Export directory (created).
    formats : str or sequence of {"keras", "savedmodel", "tflite"}, default=("keras",)
        ``"saved_model"`` is accepted as an alias.
    metadata : mapping, optional
        Extra JSON-serialisable facts, stored under ``"extra"``.
    class_names : sequence of str, optional
        Name of each output class (length ``n_classes``), e.g. subject ids.
    preprocessing : mapping, optional
        Parameters a user must apply to raw data before the model (resampling rate, image
        parameters...), stored as given.
    config : mapping, optional
        The resolved configuration the model came from; stored with its sha256
        (:func:`config_hash`).
    quantize : bool, default=False
        TFLite only: dynamic-range quantisation (int8 weights, float activations; ~4x smaller).
    overwrite : bool, default=False
        Replace existing artefacts of the same names. Without it, any existing target file is
        an error and nothing is written.

    Returns
    -------
    dict[str, Path]
        Path of each written format, plus ``"metadata"``.

    Raises
    ------
    FileExistsError
        If an artefact exists and ``overwrite`` is False.
    ValueError
        On unknown formats or ``class_names`` of the wrong length.
    """
    formats = _normalise_formats(formats)
    n_classes = int(model.outputs[0].shape[-1])
    if class_names is not None:
        class_names = [str(name) for name in class_names]
        if len(class_names) != n_classes:
            raise ValueError(
                f"class_names has {len(class_names)} entries but the model has {n_classes} classes."
            )
    targets = _export_targets(out_dir, formats, overwrite)
    _write_artefacts(_inference_copy(model), targets, formats, quantize)

    files = {fmt: targets[fmt].name for fmt in formats}
    payload = {
        "format_version": _METADATA_FORMAT_VERSION,
        "gaitcnn_version": gaitcnn.__version__,
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "numpy_version": np.__version__,
        "model_name": model.name,
        "input_shape": _input_shape(model),
        "n_channels": _input_shape(model)[-1],
        "n_classes": n_classes,
        "n_params": int(model.count_params()),
        "class_names": class_names,
        "preprocessing": dict(preprocessing) if preprocessing is not None else None,
        "config": dict(config) if config is not None else None,
        "config_hash": config_hash(config),
        "files": files,
        "tflite_quantized": bool(quantize) if "tflite" in formats else None,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "extra": dict(metadata) if metadata is not None else {},
    }
    write_json_atomic(targets["metadata"], payload)
    return targets


def export_embedding(
    model,
    out_dir: str | os.PathLike,
    *,
    formats: str | Sequence[str] = ("keras", "tflite"),
    quantize: bool = False,
    overwrite: bool = False,
) -> dict[str, Path]:
    """Export the embedding network of a :class:`gaitcnn.GaitModel` for on-device verification.

    The exported network is the part of the model's network that
    :meth:`gaitcnn.GaitModel.embed_windows` runs (layer ``embedding``: unit vectors for the
    verification preset). ``metadata.json`` holds
    what a phone needs to feed it and to decide (the preprocessing contract, key
    ``"contract"``): sampling rate, window width and step, the column order of the input,
    the channel statistics the network normalises by (inside the network: feed unscaled
    windows), the embedding size, the model fingerprint and the calibrated accept threshold.
    :meth:`gaitcnn.stream.StreamingVerifier.from_export` reads it back.

    Parameters
    ----------
    model : GaitModel
        A fitted single-network model (``ensemble=1``; no peer).
    out_dir : path
        Export directory (created).
    formats : str or sequence of {"keras", "savedmodel", "tflite"}, default=("keras", "tflite")
    quantize : bool, default=False
        TFLite dynamic-range quantisation (embeddings then differ from Keras by ~1e-2).
    overwrite : bool, default=False
        Replace existing artefacts; without it an existing one is an error and nothing is
        written.

    Returns
    -------
    dict[str, Path]
        Path of each written format, plus ``"metadata"``.

    Raises
    ------
    ValueError
        For a peer or an ensemble, or unknown formats.
    FileExistsError
        If an artefact exists and ``overwrite`` is False.
    RuntimeError
        If the model is not fitted.
    """
    network = _single_network(model)
    formats = _normalise_formats(formats)
    targets = _export_targets(out_dir, formats, overwrite)
    from gaitcnn.models.embedding import embedding_network

    embedder = embedding_network(network)
    _write_artefacts(embedder, targets, formats, quantize)
    payload = {
        "kind": EMBEDDING_EXPORT_KIND,
        "format_version": _METADATA_FORMAT_VERSION,
        "gaitcnn_version": gaitcnn.__version__,
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "numpy_version": np.__version__,
        "model_name": embedder.name,
        "n_params": int(embedder.count_params()),
        "files": {fmt: targets[fmt].name for fmt in formats},
        "tflite_quantized": bool(quantize) if "tflite" in formats else None,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "contract": embedding_contract(model, embedder),
    }
    write_json_atomic(targets["metadata"], payload)
    return targets


def _single_network(model) -> keras.Model:
    """The one Keras network of a fitted GaitModel; peers and ensembles are refused."""
    backend = model._fitted()
    if getattr(backend, "kind", None) != "network":
        raise ValueError(
            f"only a network has an embedding to export. Received: method={model.config.method!r}"
        )
    if model.config.channel_choice != "given":
        raise ValueError(
            "export_embedding exports a network that reads the front end's channels as they "
            "are; channels='auto' picks its columns inside gaitcnn. Received: "
            f"channel_choice={model.config.channel_choice!r}; train with explicit channels"
        )
    if len(backend.models) != 1:
        raise ValueError(
            "export_embedding exports one network; an ensemble averages the embeddings of its "
            f"members outside any one of them. Received: ensemble={len(backend.models)}"
        )
    return backend.models[0]


def embedding_contract(model, embedder: keras.Model) -> dict[str, Any]:
    """What a device must do to raw samples before the embedding network, and how to decide.

    Parameters
    ----------
    model : GaitModel
        The fitted model the network came from.
    embedder : keras.Model
        Its embedding network.

    Returns
    -------
    dict
        JSON-able; see :func:`export_embedding` and docs in the keys themselves.
    """
    from gaitcnn.rawwindows import column_labels
    from gaitcnn.stream import GAIT_ACC_MEAN_RANGE_G, MIN_GAIT_ACC_SD_M_S2

    params = model.front_end()
    raw = params.representation == "raw"
    mean, sd = _normalisation_stats(embedder)
    return {
        "front_end": params.to_dict(),
        "representation": params.representation,
        "sampling_rate_hz": float(params.rate_hz),
        "resampling": "not-a-knot cubic spline through the samples of each segment; a gap "
        f"longer than {params.max_gap_s} s starts a new segment (gaitcnn.resample)",
        "max_gap_s": float(params.max_gap_s),
        "window_samples": int(params.width),
        "window_step_samples": int(params.dense_step),
        "channels": list(model.channels_),
        "columns": list(column_labels(model.channels_)) if raw else None,
        "columns_computed_as": "gaitcnn.rawwindows.raw_channels" if raw else None,
        "units": {"acc": "m/s^2, gravity included", "gyr": "rad/s"},
        "input_shape": _input_shape(embedder),
        "input_dtype": "float32",
        "normalisation": {
            "inside_network": mean is not None,
            "formula": "(x - channel_mean) / channel_sd per column, by the network's layer "
            "'normalization': feed unscaled windows",
            "channel_mean": mean,
            "channel_sd": sd,
        },
        "embedding_dim": int(embedder.outputs[0].shape[-1]),
        "embedding_unit_norm": embedder.layers[-1].name == "embedding",
        "score": "cosine similarity of each window's embedding with the user's template "
        "(the L2-normalised mean of the enrolment embeddings), averaged over the windows",
        "gait_window_rule": {
            "min_acc_norm_sd_m_s2": MIN_GAIT_ACC_SD_M_S2,
            "acc_norm_mean_range_g": list(GAIT_ACC_MEAN_RANGE_G),
        },
        "model_fingerprint": model.fingerprint,
        "threshold": _threshold(model),
        "verification": getattr(model, "verification_", None),
    }


def _normalisation_stats(network: keras.Model) -> tuple[list | None, list | None]:
    """Per-column mean and sd of the network's ``normalization`` layer, read from its weights.

    ``(None, None)`` when the network has no such layer (e.g. an image network).
    """
    layer = next((lay for lay in network.layers if lay.name == "normalization"), None)
    if not isinstance(layer, keras.layers.Normalization):
        return None, None
    mean = np.asarray(layer.mean, dtype=np.float64).reshape(-1)
    sd = np.sqrt(np.asarray(layer.variance, dtype=np.float64).reshape(-1))
    return mean.tolist(), sd.tolist()


def _threshold(model) -> float | None:
    verification = getattr(model, "verification_", None)
    return float(verification["threshold"]) if verification else None


def load_model(path: str | os.PathLike, *, compile: bool = False) -> keras.Model:
    """Load a ``.keras`` file in Keras safe mode (no arbitrary code from the file).

    Before Keras sees the file, every member of the archive is checked against its CRC-32
    (a corrupted file is refused instead of loading damaged weights: Keras itself falls back
    to an unchecked read when the checked one fails) and ``config.json`` must be JSON text.

    Parameters
    ----------
    path : path
        A ``.keras`` file, or an export/run directory holding ``model.keras``.
    compile : bool, default=False
        Restore the training configuration too (needs any custom loss registered).

    Raises
    ------
    ValueError
        :class:`~gaitcnn.errors.GaitDataError` naming the file: "refusing to load ..." when
        the file contains unsafe content, such as a ``Lambda`` layer whose Python bytecode safe
        mode will not deserialise, or when it is no ``.keras`` archive; "corrupted" when a
        member fails its checksum; or any other failure to read it.
    FileNotFoundError
        If there is no such file.
    """
    path = Path(path)
    if path.is_dir() and (path / ARTEFACT_NAMES["keras"]).is_file():
        path = path / ARTEFACT_NAMES["keras"]
    if not path.exists():
        raise FileNotFoundError(f"No model file at {path}.")
    if path.suffix != ".keras":
        raise GaitDataError("refusing to load it: expected a .keras file.", path=path)
    with reading(path, "Keras model"):
        open_regular(path).close()  # a FIFO or a device is refused, never waited on
        _check_archive(path)
        return _keras_load(path, compile)


def _check_archive(path: Path) -> None:
    """A ``.keras`` file must be a zip whose members pass CRC-32 and whose config is JSON."""
    if not zipfile.is_zipfile(path):
        # A pickle (or any other payload) renamed to .keras: never handed to a deserialiser.
        raise GaitDataError(
            "refusing to load it: not a .keras zip archive (a pickle or another format?).",
            path=path,
        )
    with zipfile.ZipFile(path) as archive:
        bad = archive.testzip()
        if bad is not None:
            raise GaitDataError(
                f"member {bad!r} of the archive fails its CRC-32 check: the file is corrupted",
                path=path,
            )
        try:
            json.loads(archive.read("config.json").decode("utf-8"))
        except KeyError:
            raise GaitDataError(
                "refusing to load it: the archive has no config.json", path=path
            ) from None
        except ValueError:  # UnicodeDecodeError, JSONDecodeError
            raise GaitDataError(
                "refusing to load it: config.json in the archive is not JSON text (a pickle?)",
                path=path,
            ) from None


def _keras_load(path: Path, compile: bool) -> keras.Model:
    """``keras.saving.load_model`` in safe mode, with its refusals worded for the user."""
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except TypeError as error:
        # Keras reports classes it will not import (e.g. module "os", class "system") this way.
        raise GaitDataError(
            "refusing to load it: it names a class that is not a registered Keras object "
            f"(Keras said: {str(error).splitlines()[0][:200]})",
            path=path,
        ) from error
    except ValueError as error:
        message = str(error)
        if "safe_mode" in message or "Lambda" in message or "lambda" in message:
            raise GaitDataError(
                "refusing to load it: it contains unsafe content (e.g. a Lambda layer with "
                "serialised Python code), which safe mode does not execute. Only load such a "
                "file with keras.saving.load_model(..., safe_mode=False) if you trust its "
                f"source. Keras said: {message.splitlines()[0]}",
                path=path,
            ) from error
        raise


def _check_input_shape(images: np.ndarray, expected: Sequence, path: Path) -> None:
    """``images`` must be ``(batch, *expected[1:])``; ``None``/-1 dimensions match anything."""
    wanted = [None if d is None or int(d) < 0 else int(d) for d in expected]
    ok = images.ndim == len(wanted) and all(
        w is None or w == got for w, got in zip(wanted[1:], images.shape[1:], strict=True)
    )
    if not ok:
        shown = "(batch, " + ", ".join("None" if w is None else str(w) for w in wanted[1:]) + ")"
        raise ValueError(
            f"images must have shape {shown} for the model {path}. "
            f"Received: images.shape={images.shape}"
        )


def load_saved_model(path: str | os.PathLike) -> Callable[[np.ndarray], np.ndarray]:
    """Load an exported SavedModel; return ``predict(images) -> probabilities`` (numpy).

    ``predict`` checks ``images`` against the model's declared input shape.
    """
    path = Path(path)
    if (path / ARTEFACT_NAMES["savedmodel"]).is_dir():
        path = path / ARTEFACT_NAMES["savedmodel"]
    if not (path / "saved_model.pb").is_file():
        raise FileNotFoundError(f"No SavedModel (saved_model.pb) in {path}.")
    with reading(path / "saved_model.pb", "SavedModel"):
        loaded = tf.saved_model.load(str(path))
    spec = tf.nest.flatten(loaded.serve.concrete_functions[0].structured_input_signature)[0]

    def predict(images: np.ndarray) -> np.ndarray:
        images = np.asarray(images, np.float32)
        _check_input_shape(images, spec.shape.as_list(), path)
        return np.asarray(loaded.serve(tf.constant(images)))

    predict.saved_model = loaded  # keep a reference for advanced use
    return predict


def load_tflite(
    path: str | os.PathLike, *, num_threads: int | None = None
) -> Callable[[np.ndarray], np.ndarray]:
    """Load a ``.tflite`` file; return ``predict(images) -> probabilities`` (numpy).

    The batch size may vary between calls (the input tensor is resized); the other dimensions
    must match the model's declared input shape (a ``ValueError`` otherwise, as with Keras).
    The returned function is not thread-safe (one TFLite interpreter).
    """
    path = Path(path)
    if path.is_dir():
        path = path / ARTEFACT_NAMES["tflite"]
    if not path.is_file():
        raise FileNotFoundError(f"No TFLite model at {path}.")
    with reading(path, "TFLite model"), warnings.catch_warnings():
        # tf.lite.Interpreter warns it moves to ai-edge-litert
        warnings.simplefilter("ignore")
        interpreter = tf.lite.Interpreter(model_path=str(path), num_threads=num_threads)
    input_detail = interpreter.get_input_details()[0]
    declared = input_detail.get("shape_signature", input_detail["shape"])
    output_index = interpreter.get_output_details()[0]["index"]
    state = {"shape": None}

    def predict(images: np.ndarray) -> np.ndarray:
        images = np.asarray(images, dtype=input_detail["dtype"])
        # The batch dimension may vary (the tensor is resized); the others must match.
        _check_input_shape(images, [-1, *list(declared)[1:]], path)
        if state["shape"] != images.shape:
            interpreter.resize_tensor_input(input_detail["index"], images.shape, strict=False)
            interpreter.allocate_tensors()
            state["shape"] = images.shape
        interpreter.set_tensor(input_detail["index"], images)
        interpreter.invoke()
        return np.array(interpreter.get_tensor(output_index))

    return predict


def export_run(
    run_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    fmt: str | Sequence[str] = "keras",
    which: str = "auto",
    quantize: bool = False,
    overwrite: bool = False,
) -> dict[str, Path]:
    """Export the model of a training run (:func:`gaitcnn.train.train`'s ``out_dir``).

    Used by ``gaitcnn export --model RUN_DIR --out DIR --format keras|savedmodel|tflite``.

    Parameters
    ----------
    run_dir : path
        Training run directory with ``config.json`` and ``best.keras`` and/or ``final.keras``.
    out_dir : path
        Export directory.
    fmt : str or sequence of str, default="keras"
        Format(s), see :func:`export_model`.
    which : {"auto", "best", "final"}, default="auto"
        Model to export; "auto" prefers ``best.keras`` (the paper keeps the best model) and
        falls back to ``final.keras``.
    quantize, overwrite : bool
        See :func:`export_model`.

    Returns
    -------
    dict[str, Path]
        As :func:`export_model`. ``metadata.json`` holds the run's ``config.json`` without
        its machine facts (``versions``, ``command``; versions go to ``extra.run_versions``)
        and the hash of that, the run's ``metadata.class_names`` and
        ``metadata.preprocessing`` when the run recorded them, and ``extra.source`` naming the
        exported file.
    """
    run_dir = Path(run_dir)
    if which not in ("auto", "best", "final"):
        raise ValueError(f"which must be 'auto', 'best' or 'final'. Received: which={which!r}")
    candidates = {"auto": ("best.keras", "final.keras"), "best": ("best.keras",)}
    names = candidates.get(which, ("final.keras",))
    source = next((run_dir / n for n in names if (run_dir / n).is_file()), None)
    if source is None:
        raise FileNotFoundError(
            f"{run_dir} holds no {' or '.join(names)}: is it a finished training run?"
        )
    config_path = run_dir / "config.json"
    if not config_path.is_file():
        raise FileNotFoundError(f"{run_dir} has no config.json: is it a training run?")
    run_config = read_json_file(config_path, what="run configuration")
    if not isinstance(run_config, dict):
        raise GaitDataError("not a run configuration (a JSON object expected)", path=config_path)
    run_metadata = run_config.get("metadata") or {}
    # Hash what defines the model (train config, model summary, data, metadata), not the
    # machine facts that differ between identical runs (versions, command line).
    config = {k: v for k, v in run_config.items() if k not in _VOLATILE_RUN_KEYS}
    model = load_model(source)
    return export_model(
        model,
        out_dir,
        formats=fmt,
        class_names=run_metadata.get("class_names"),
        preprocessing=run_metadata.get("preprocessing"),
        config=config,
        metadata={"source": str(source.resolve()), "run_versions": run_config.get("versions")},
        quantize=quantize,
        overwrite=overwrite,
    )
