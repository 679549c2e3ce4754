"""Reading input files safely: regular files only, bounded sizes, streamed gzip, named errors.

Every reader of user-supplied files (raw recordings, caches, model files, run folders) goes
through these helpers, so that

- a FIFO, a device or a socket named like a data file is refused at once instead of hanging
  the reader or filling memory (:func:`open_regular`);
- no more than a stated number of bytes is ever read, and a gzip file is decompressed as a
  stream that stops at the limit instead of being inflated whole first (:func:`read_bounded`);
- any failure while a file is parsed becomes a one-line :class:`~gaitcnn.errors.GaitDataError`
  naming the file and what went wrong (:func:`reading`), never a bare ``KeyError`` or a
  ``UnicodeDecodeError`` without a file name;
- derived data (image caches) can tell whether their input files changed
  (:func:`fingerprint_files`, :func:`fingerprint_changes`).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import stat
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from gaitcnn.errors import GaitDataError

__all__ = [
    "FULL_HASH_BYTES",
    "describe_exception",
    "fingerprint_changes",
    "fingerprint_files",
    "open_regular",
    "read_bounded",
    "read_json_file",
    "reading",
]

#: Size of the blocks read (and decompressed) at a time.
_BLOCK_BYTES = 1 << 20

# Fingerprints hash every file whole up to this size (a few ms per MB); a larger file is hashed
# by its first and last MiB, and then its modification time counts too.
#: Largest file whose whole content is hashed by :func:`fingerprint_files`.
FULL_HASH_BYTES = 32 << 20
_PARTIAL_HASH_BYTES = 1 << 20

_KINDS = {
    stat.S_ISDIR: "a folder",
    stat.S_ISFIFO: "a FIFO (named pipe)",
    stat.S_ISCHR: "a character device",
    stat.S_ISBLK: "a block device",
    stat.S_ISSOCK: "a socket",
}


def describe_exception(exc: BaseException, *, limit: int = 300) -> str:
    """``"<Type>: <first line of the message>"``, shortened to ``limit`` characters."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else repr(exc)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{type(exc).__name__}: {text}"


def open_regular(path) -> BinaryIO:
    """Open ``path`` for binary reading if it is a regular file (symbolic links followed).

    The file is opened without blocking, so that a FIFO never waits for a writer; its type is
    then checked on the open descriptor (no race with a rename).

    Raises
    ------
    GaitDataError
        If ``path`` is a FIFO, a device, a socket or a folder.
    FileNotFoundError, PermissionError
        As ``open()``.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS.items() if test(mode)), "not a file")
            raise GaitDataError(f"is {kind}, not a regular file; refused", path=path)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read_stream(stream, limit: int, path, what: str) -> bytes:
    chunks, total = [], 0
    while True:
        block = stream.read(min(_BLOCK_BYTES, limit + 1 - total))
        if not block:
            return b"".join(chunks)
        chunks.append(block)
        total += len(block)
        if total > limit:
            raise GaitDataError(
                f"{what} more than {limit:,} bytes, the limit for this kind of file; refused "
                "(a corrupted or wrong file?)",
                path=path,
            )


def read_bounded(path, *, limit: int, decompress: bool = False) -> bytes:
    """Read a regular file, never more than ``limit`` bytes (after decompression).

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    limit : int
        Largest accepted content in bytes.
    decompress : bool, default=False
        The file is gzip-compressed: it is decompressed block by block and reading stops as
        soon as the output exceeds ``limit`` (memory stays bounded by the limit).

    Returns
    -------
    bytes
        The (decompressed) content.

    Raises
    ------
    GaitDataError
        Not a regular file, larger than ``limit``, or not a readable gzip file.
    """
    with open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise GaitDataError(
                f"the file is {size:,} bytes, more than the limit of {limit:,} bytes for this "
                "kind of file; refused",
                path=path,
            )
        if not decompress:
            return _read_stream(handle, limit, path, "the file holds")
        try:
            with gzip.GzipFile(fileobj=handle, mode="rb") as stream:
                return _read_stream(stream, limit, path, "the gzip file decompresses to")
        except (OSError, EOFError, zlib.error) as err:  # zlib.error: corrupt deflate data
            raise GaitDataError(f"not a readable gzip file ({err})", path=path) from None


@contextlib.contextmanager
def reading(path, what: str = "file") -> Iterator[None]:
    """Turn any failure inside the block into a :class:`GaitDataError` naming ``path``.

    ``GaitDataError`` that already name a file, ``FileNotFoundError``, ``PermissionError`` and
    ``MemoryError`` pass through unchanged; anything else (``KeyError`` from a damaged HDF5
    header, ``BadZipFile``, ``UnicodeDecodeError``, a JSON syntax error, ...) becomes
    ``"<path>: cannot read this <what>: <Type>: <message>"``.

    Parameters
    ----------
    path : str or os.PathLike
        The file being read.
    what : str, default="file"
        What the file should be ("image cache", "Keras model", ...), for the message.
    """
    try:
        yield
    except GaitDataError as exc:
        if exc.path is not None:
            raise
        raise GaitDataError(exc.problem, path=path, line=exc.line) from exc
    except (FileNotFoundError, PermissionError, MemoryError):
        raise
    except Exception as exc:
        raise GaitDataError(
            f"cannot read this {what}: {describe_exception(exc)}", path=path
        ) from exc


def read_json_file(path, *, what: str = "JSON file", limit: int = 64 << 20) -> Any:
    """Parse a JSON file (regular, at most ``limit`` bytes); errors name the file."""
    path = Path(path)
    with reading(path, what):
        return json.loads(read_bounded(path, limit=limit).decode("utf-8"))


def _content_digest(path: Path, size: int) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open_regular(path) as handle:
        if size <= FULL_HASH_BYTES:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        else:
            digest.update(handle.read(_PARTIAL_HASH_BYTES))
            handle.seek(size - _PARTIAL_HASH_BYTES)
            digest.update(handle.read(_PARTIAL_HASH_BYTES))
    return digest.hexdigest()


def fingerprint_files(data_root, files: Sequence) -> list[list]:
    """Fingerprint of input files: ``[name, size, mtime_ns, content hash]`` for each.

    ``name`` is relative to ``data_root`` (a folder; else the file name); the hash (BLAKE2b)
    covers the whole content of files up to :data:`FULL_HASH_BYTES` and the first and last MiB
    of larger ones. Stored in an image cache, it tells whether the inputs changed since.
    """
    root = Path(data_root)
    rows = []
    for path in files:
        path = Path(path)
        st = os.stat(path)
        name = path.relative_to(root).as_posix() if root.is_dir() else path.name
        rows.append([name, int(st.st_size), int(st.st_mtime_ns), _content_digest(path, st.st_size)])
    return rows


def fingerprint_changes(old: list, new: list) -> str:
    """What differs between two input fingerprints (``""`` if nothing that matters)."""
    before, after = {row[0]: row for row in old}, {row[0]: row for row in new}
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))

    def changed(name: str) -> bool:
        (_, size0, mtime0, hash0), (_, size1, mtime1, hash1) = before[name], after[name]
        # Fully hashed files: the content decides (a touched file is unchanged).
        return (size0, hash0) != (size1, hash1) or (size1 > FULL_HASH_BYTES and mtime0 != mtime1)

    modified = sorted(name for name in set(before) & set(after) if changed(name))
    parts = [
        f"{len(names)} {what} (e.g. {', '.join(names[:2])})"
        for names, what in ((added, "added"), (removed, "removed"), (modified, "changed"))
        if names
    ]
    return "; ".join(parts)
