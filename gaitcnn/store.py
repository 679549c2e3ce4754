"""Template store: enrolled users' embeddings and metadata in one file, bound to one model.

A store holds biometric *templates* - embeddings, never raw signals - and is written
atomically (:mod:`gaitcnn._atomic`; the temporary file is created with mode 0600, so the store
is readable by its owner only). The file is a zip archive::

    metadata.json        format, versions, model fingerprint, embedding_dim, one entry per user
    templates/0000.npy   (n_members, embedding_dim) float32 unit vectors of the first user
    templates/0001.npy   ...

read with ``numpy.load(..., allow_pickle=False)``: loading a store never runs code. A store is
bound to the fingerprint of the model that made its embeddings (a hash the model provides):
embeddings of another model live in another space, so a store made with another model is
refused. numpy only.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

import gaitcnn
from gaitcnn._atomic import write_bytes_atomic
from gaitcnn.errors import GaitDataError
from gaitcnn.verification.scores import TEMPLATE_KINDS, make_template

__all__ = ["STORE_FORMAT", "STORE_FORMAT_VERSION", "TemplateStore", "TemplateStoreError"]

#: Value of ``metadata.json["format"]``.
STORE_FORMAT = "gaitcnn-template-store"

#: Version of the file layout; a store of another version is refused.
STORE_FORMAT_VERSION = 1

_METADATA = "metadata.json"


class TemplateStoreError(GaitDataError):
    """A template store cannot be read or changed as asked (names the file and the reason)."""


def _check_user_id(user_id) -> str:
    if not isinstance(user_id, str) or not user_id.strip() or user_id != user_id.strip():
        raise ValueError(
            "user_id must be a non-empty string without surrounding spaces. "
            f"Received: user_id={user_id!r}"
        )
    return user_id


class TemplateStore:
    """Enrolled users' templates, bound to one model's fingerprint.

    Parameters
    ----------
    model_fingerprint : str
        Hash that identifies the model (weights and preprocessing) that makes the embeddings.
    embedding_dim : int
        Length of the embeddings.
    path : str or os.PathLike, optional
        Where :meth:`save` writes by default.

    Examples
    --------
    >>> store = TemplateStore("a1b2c3", 3)
    >>> store.add("alice", np.array([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0]]))
    >>> store.users, store.template("alice").shape, store.info("alice")["n_windows"]
    (('alice',), (1, 3), 2)
    """

    def __init__(self, model_fingerprint: str, embedding_dim: int, *, path=None):
        if not isinstance(model_fingerprint, str) or not model_fingerprint:
            raise ValueError(
                f"model_fingerprint must be a non-empty string. Received: {model_fingerprint!r}"
            )
        if not isinstance(embedding_dim, int | np.integer) or embedding_dim < 1:
            raise ValueError(f"embedding_dim must be an int >= 1. Received: {embedding_dim!r}")
        self.model_fingerprint = model_fingerprint
        self.embedding_dim = int(embedding_dim)
        self.path = None if path is None else Path(path)
        self._templates: dict[str, np.ndarray] = {}
        self._info: dict[str, dict] = {}

    # ------------------------------------------------------------------ contents
    @property
    def users(self) -> tuple[str, ...]:
        """Enrolled user ids, in enrolment order."""
        return tuple(self._templates)

    def __len__(self) -> int:
        """Number of enrolled users."""
        return len(self._templates)

    def __contains__(self, user_id) -> bool:
        """Whether ``user_id`` is enrolled."""
        return user_id in self._templates

    def _where(self) -> str:
        return str(self.path) if self.path is not None else "the template store"

    def _require(self, user_id) -> str:
        if user_id not in self._templates:
            raise TemplateStoreError(
                f"user {user_id!r} is not enrolled (enrolled: {len(self)} users)",
                path=self._where(),
            )
        return user_id

    def template(self, user_id: str) -> np.ndarray:
        """The template of ``user_id``, shape (n_members, embedding_dim), unit rows."""
        return self._templates[self._require(user_id)].copy()

    def info(self, user_id: str) -> dict:
        """Metadata of ``user_id``: ``user_id``, ``kind``, ``n_windows``, ``created_utc``."""
        return dict(self._info[self._require(user_id)])

    def templates(self) -> tuple[tuple[str, ...], list[np.ndarray]]:
        """All user ids and their templates, in enrolment order."""
        return self.users, [t.copy() for t in self._templates.values()]

    # ------------------------------------------------------------------ changes
    def add(self, user_id: str, embeddings, *, kind: str = "mean", replace: bool = False):
        """Enrol ``user_id`` from the embeddings of their usable enrolment windows.

        Parameters
        ----------
        user_id : str
            Non-empty, without surrounding spaces.
        embeddings : np.ndarray, shape (n_windows, embedding_dim)
            Embeddings only (never raw windows), at least one row, finite.
        kind : {"mean", "set"}, default="mean"
            Template kind (:func:`gaitcnn.verification.make_template`).
        replace : bool, default=False
            Replace an enrolled user's template. Without it, enrolling an existing user is an
            error and the store is unchanged.

        Raises
        ------
        TemplateStoreError
            If ``user_id`` is enrolled and ``replace`` is False.
        ValueError
            If the embeddings have the wrong shape (e.g. raw windows), no row or non-finite
            values; nothing is changed.
        """
        user_id = _check_user_id(user_id)
        if kind not in TEMPLATE_KINDS:
            raise ValueError(f"kind must be one of {TEMPLATE_KINDS}. Received: kind={kind!r}")
        if user_id in self._templates and not replace:
            raise TemplateStoreError(
                f"user {user_id!r} is already enrolled; pass replace=True (CLI: --replace) to "
                "enrol them again",
                path=self._where(),
            )
        array = np.asarray(embeddings)
        if array.ndim != 2 or array.shape[1] != self.embedding_dim or array.shape[0] < 1:
            raise ValueError(
                f"embeddings must have shape (n_windows >= 1, {self.embedding_dim}) - "
                f"embeddings of this model, not signals. Received shape {array.shape}."
            )
        template = make_template(array, kind=kind).astype(np.float32)
        self._templates[user_id] = template
        self._info[user_id] = {
            "user_id": user_id,
            "kind": kind,
            "n_windows": int(array.shape[0]),
            "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    def remove(self, user_id: str) -> None:
        """Forget ``user_id`` (their template and metadata)."""
        del self._templates[self._require(user_id)]
        del self._info[user_id]

    # ------------------------------------------------------------------ files
    def to_bytes(self) -> bytes:
        """The store file's content (a zip archive, see the module docstring)."""
        users = []
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
            for index, (user_id, template) in enumerate(self._templates.items()):
                name = f"templates/{index:04d}.npy"
                array_bytes = io.BytesIO()
                np.save(array_bytes, template, allow_pickle=False)
                archive.writestr(name, array_bytes.getvalue())
                users.append({**self._info[user_id], "array": name})
            metadata = {
                "format": STORE_FORMAT,
                "format_version": STORE_FORMAT_VERSION,
                "gaitcnn_version": gaitcnn.__version__,
                "model_fingerprint": self.model_fingerprint,
                "embedding_dim": self.embedding_dim,
                "users": users,
            }
            archive.writestr(_METADATA, json.dumps(metadata, indent=2, sort_keys=True))
        return buffer.getvalue()

    def save(self, path=None, *, overwrite: bool = False) -> Path:
        """Write the store atomically to ``path`` (default: the path it was opened from).

        Parameters
        ----------
        path : str or os.PathLike, optional
            Target; another existing file is only replaced with ``overwrite=True``.
        overwrite : bool, default=False
            Allow replacing an existing file that is not this store's own path.

        Returns
        -------
        Path
        """
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("no path: pass path= or open the store with TemplateStore.open")
        if target.exists() and target != self.path and not overwrite:
            raise FileExistsError(f"{target}: exists; pass overwrite=True to replace it")
        write_bytes_atomic(target, self.to_bytes(), mode=0o600)
        self.path = target
        return target

    @classmethod
    def open(
        cls,
        path,
        *,
        model_fingerprint: str,
        embedding_dim: int | None = None,
        create: bool = False,
    ) -> TemplateStore:
        """Read the store at ``path``, checking that it was made with this model.

        Parameters
        ----------
        path : str or os.PathLike
            The store file.
        model_fingerprint : str
            Fingerprint of the model that will compare embeddings with the templates.
        embedding_dim : int, optional
            Needed with ``create=True`` when the file does not exist; otherwise checked when
            given.
        create : bool, default=False
            Return an empty store (not yet written) when there is no file at ``path``.

        Returns
        -------
        TemplateStore

        Raises
        ------
        FileNotFoundError
            If there is no file and ``create`` is False.
        TemplateStoreError
            One line naming the file: not a readable store (corrupt, truncated, another
            format or version), or made with another model or embedding length.
        """
        path = Path(path)
        if not path.exists():
            if not create:
                raise FileNotFoundError(f"{path}: no template store (enrol a user first)")
            if embedding_dim is None:
                raise ValueError("embedding_dim is needed to create a new template store")
            return cls(model_fingerprint, embedding_dim, path=path)
        metadata, arrays = _read_archive(path)
        stored = metadata["model_fingerprint"]
        if stored != model_fingerprint:
            raise TemplateStoreError(
                f"made with another model (fingerprint {stored[:12]}, this model "
                f"{model_fingerprint[:12]}): enrol the users again with this model, or use "
                "the model the store was made with",
                path=path,
            )
        dim = int(metadata["embedding_dim"])
        if embedding_dim is not None and dim != embedding_dim:
            raise TemplateStoreError(
                f"holds embeddings of length {dim}, this model makes {embedding_dim}", path=path
            )
        store = cls(model_fingerprint, dim, path=path)
        for entry in metadata["users"]:
            template = arrays[entry["array"]]
            if template.ndim != 2 or template.shape[1] != dim or not np.isfinite(template).all():
                raise TemplateStoreError(
                    f"not a readable template store (template of {entry['user_id']!r} has shape "
                    f"{template.shape} or non-finite values, expected (n, {dim}))",
                    path=path,
                )
            user_id = entry["user_id"]
            store._templates[user_id] = template
            store._info[user_id] = {k: v for k, v in entry.items() if k != "array"}
        return store


def _read_archive(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """Metadata and arrays of a store file; one-line :class:`TemplateStoreError` otherwise."""
    try:
        with zipfile.ZipFile(path) as archive:
            metadata = json.loads(archive.read(_METADATA))
            if not isinstance(metadata, dict):
                raise ValueError("metadata.json is not an object")
            missing = sorted({"model_fingerprint", "embedding_dim", "users"} - set(metadata))
            if missing:
                raise ValueError(f"metadata.json lacks {missing}")
            if metadata.get("format") != STORE_FORMAT:
                raise ValueError(f"format is {metadata.get('format')!r}, not {STORE_FORMAT!r}")
            if metadata.get("format_version") != STORE_FORMAT_VERSION:
                raise ValueError(
                    f"format_version {metadata.get('format_version')!r}, this gaitcnn reads "
                    f"{STORE_FORMAT_VERSION}"
                )
            arrays = {
                entry["array"]: np.load(
                    io.BytesIO(archive.read(entry["array"])), allow_pickle=False
                )
                for entry in metadata["users"]
            }
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, EOFError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise TemplateStoreError(
            f"not a readable template store ({type(error).__name__}: {reason})", path=path
        ) from error
    return metadata, arrays
