"""The ``.gaitcnn`` model file: one zip holding a description and the trained arrays.

Layout::

    gaitcnn.json       format, package version, ModelConfig, front end, channels, classes,
                       input shape, backend kind and member files, fingerprint
    network-<i>.keras  each network of a network model (Keras v3 files, loaded in safe mode)
    peer.npz           the arrays of a peer model (``allow_pickle=False``)

Nothing in the file is unpickled or executed: the description is JSON, networks load through
:func:`gaitcnn.export.load_model` (Keras safe mode: no Lambda, registered classes only) and
peer arrays through ``np.load(..., allow_pickle=False)``. A file made by another gaitcnn
version, or whose arrays do not match its description, is refused with an error naming it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from gaitcnn import __version__
from gaitcnn.errors import GaitDataError
from gaitcnn.presets import ModelConfig
from gaitcnn.provenance import versions

__all__ = ["FORMAT", "FORMAT_VERSION", "fingerprint", "label_array", "read_model", "write_model"]

#: Name of the format, stored in the description.
FORMAT = "gaitcnn-model"

#: Version of the file layout; readers refuse any other.
FORMAT_VERSION = 1

#: Largest description accepted (bytes): a description is a few KB; more is not our file.
_MAX_DESCRIPTION_BYTES = 16 * 2**20

_DESCRIPTION = "gaitcnn.json"


def label_array(values) -> np.ndarray:
    """Class labels as int64 when they all are integers, else as str."""
    values = list(values)
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.int64)
    return np.asarray([str(v) for v in values])


def _identity(model) -> dict:
    """What defines the model apart from its arrays (the fingerprint's JSON part)."""
    return {
        "config": model.config.to_dict(),
        "channels": list(model.channels_),
        "classes": model.classes_.tolist(),
    }


def fingerprint(model) -> str:
    """SHA-256 over the identity JSON and every trained array (shape, dtype and bytes)."""
    digest = hashlib.sha256(json.dumps(_identity(model), sort_keys=True).encode())
    for array in model._fitted().weight_arrays():
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _description(model, members: list[str]) -> dict:
    backend = model._fitted()
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "gaitcnn_version": __version__,
        **_identity(model),
        "front_end": model.front_end().to_dict(),
        "input_shape": backend.input_shape,
        "backend": backend.kind,
        "members": members,
        "network_hparams": getattr(backend, "hparams", None),
        "n_train_windows": int(getattr(model, "n_train_windows_", 0)),
        "verification": getattr(model, "verification_", None),
        "fingerprint": fingerprint(model),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions(),
    }


def write_model(model, path, *, overwrite: bool = False) -> Path:
    """Write ``model`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    backend = model._fitted()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with tempfile.TemporaryDirectory() as work, zipfile.ZipFile(tmp, "w") as archive:
            members = backend.write(archive, Path(work))
            description = json.dumps(_description(model, members), indent=2, sort_keys=True)
            archive.writestr(_DESCRIPTION, description)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _read_description(archive: zipfile.ZipFile, path: Path) -> dict:
    try:
        info = archive.getinfo(_DESCRIPTION)
    except KeyError:
        raise GaitDataError(f"not a gaitcnn model file (no {_DESCRIPTION})", path=path) from None
    if info.file_size > _MAX_DESCRIPTION_BYTES:
        raise GaitDataError(f"{_DESCRIPTION} is {info.file_size} bytes: not ours", path=path)
    try:
        description = json.loads(archive.read(info).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GaitDataError(f"{_DESCRIPTION} is not valid UTF-8 JSON ({exc})", path=path) from exc
    if not isinstance(description, dict) or description.get("format") != FORMAT:
        raise GaitDataError("not a gaitcnn model file (wrong format name)", path=path)
    if description.get("format_version") != FORMAT_VERSION:
        raise GaitDataError(
            f"model file format {description.get('format_version')!r}; this gaitcnn reads "
            f"format {FORMAT_VERSION}",
            path=path,
        )
    made_by = description.get("gaitcnn_version")
    if made_by != __version__:
        raise GaitDataError(
            f"made by gaitcnn {made_by}, this is gaitcnn {__version__}: retrain the model, or "
            f"load it with gaitcnn=={made_by}",
            path=path,
        )
    return description


def _check_consistent(model, description: dict, path: Path) -> None:
    """The loaded arrays must match the description (shapes, classes, fingerprint)."""
    backend = model._backend
    n_classes = len(model.classes_)
    if backend.kind in ("network", "hybrid"):
        for network in backend.models:
            inputs = [int(v) for v in network.inputs[0].shape[1:]]
            outputs = int(network.outputs[0].shape[-1])
            if inputs != description["input_shape"] or outputs != n_classes:
                raise GaitDataError(
                    f"network input {inputs} / {outputs} classes do not match the description "
                    f"({description['input_shape']} / {n_classes} classes)",
                    path=path,
                )
    if model.fingerprint != description.get("fingerprint"):
        raise GaitDataError(
            "the trained arrays do not match the fingerprint the file was saved with (damaged "
            "or edited)",
            path=path,
        )


def read_model(cls, path):
    """Build a fitted ``cls`` (GaitModel) from a file written by :func:`write_model`."""
    from gaitcnn._composite import make_backend

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    if not zipfile.is_zipfile(path):
        raise GaitDataError("not a gaitcnn model file (not a zip archive)", path=path)
    with zipfile.ZipFile(path) as archive:
        description = _read_description(archive, path)
        try:
            config = ModelConfig.from_dict(description["config"])
            model = cls.from_config(config)
            model.classes_ = label_array(description["classes"])
            model.channels_ = tuple(description["channels"])
            model.n_train_windows_ = int(description.get("n_train_windows", 0))
            model.verification_ = description.get("verification")
            backend = make_backend(config)
            with tempfile.TemporaryDirectory() as work:
                backend.read(archive, list(description["members"]), Path(work), path)
        except (KeyError, TypeError, ValueError, zipfile.BadZipFile) as exc:
            if isinstance(exc, GaitDataError):
                raise
            raise GaitDataError(f"damaged or incomplete model file ({exc})", path=path) from exc
    backend.loaded(len(model.classes_), description.get("network_hparams") or {})
    model._backend = backend
    _check_consistent(model, description, path)
    return model
