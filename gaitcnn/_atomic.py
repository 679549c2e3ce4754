"""Atomic file writes: a temporary file in the same folder, fsync, then ``os.replace``.

A reader (or a process restarted after SIGKILL) sees either the old file or the complete new
one, never a partial write. Every temporary name carries the writer's process id
(``.<name>.<pid>-<random><suffix>`` for files, ``<name>.partial-<pid>`` for folders and caches),
so that :func:`remove_stale_temps` and :func:`remove_stale_partials` can delete what a killed
writer left behind without touching the files of a live one.

Temporary files are created with mode ``0o666`` minus the umask, as ``open()`` would, so the
renamed result has the user's normal permissions (``tempfile.mkstemp`` would make it 0600).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "INCOMPLETE_MARKER",
    "atomic_path",
    "pid_alive",
    "remove_stale_partials",
    "remove_stale_temps",
    "staged_dir",
    "write_bytes_atomic",
    "write_csv_atomic",
    "write_json_atomic",
    "write_text_atomic",
]

#: File present in a folder while a writer is still filling it (see :func:`staged_dir`).
#: Loaders refuse a data root holding it: it is an interrupted, incomplete data set.
INCOMPLETE_MARKER = ".gaitcnn-incomplete"

#: Name of a temporary file made by :func:`atomic_path`: ``.<target>.<pid>-<8 hex><suffix>``.
_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)-[0-9a-f]{8}(?P<suffix>\.[A-Za-z0-9]+)$")


def pid_alive(pid: int) -> bool:
    """Whether a process with id ``pid`` exists (owned by anyone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _create_temp(folder: Path, target_name: str, suffix: str, mode: int = 0o666) -> Path:
    """Create an empty temporary file next to the target, ``mode & ~umask``."""
    for _ in range(100):
        tmp = folder / f".{target_name}.{os.getpid()}-{secrets.token_hex(4)}{suffix}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"could not create a temporary file for {target_name} in {folder}")


@contextlib.contextmanager
def atomic_path(path, *, suffix: str = ".tmp", mode: int = 0o666) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path``, else vanishes.

    For writers that need a file name rather than bytes (``model.save``, ``h5py``): write the
    yielded path completely inside the ``with`` block.

    Parameters
    ----------
    path : str or os.PathLike
        The final file (parents are created).
    suffix : str, default=".tmp"
        Ending of the temporary name (e.g. ``".keras"``, which Keras requires).
    mode : int, default=0o666
        Permissions of the new file before the umask (``0o600``: private to its owner).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_temp(path.parent, path.name, suffix, mode)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_bytes_atomic(path, data: bytes, *, mode: int = 0o666) -> Path:
    """Write ``data`` to ``path`` atomically (parents are created; ``mode`` as ``atomic_path``)."""
    path = Path(path)
    with atomic_path(path, mode=mode) as tmp, open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return path


def write_text_atomic(path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path, payload: Any) -> Path:
    """Write ``payload`` as indented, key-sorted JSON to ``path`` atomically."""
    text = json.dumps(payload, indent=2, sort_keys=True, allow_nan=True, default=str)
    return write_text_atomic(path, text + "\n")


def write_csv_atomic(path, rows: list[dict], fieldnames=None) -> Path:
    """Write ``rows`` (dicts with the same keys) as CSV with a header to ``path`` atomically."""
    import csv
    import io

    fieldnames = list(fieldnames or (rows[0] if rows else []))
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=fieldnames, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return write_text_atomic(path, buffer.getvalue())


def remove_stale_temps(folder) -> list[Path]:
    """Delete the temporary files of :func:`atomic_path` in ``folder`` whose writer is dead.

    Returns
    -------
    list of Path
        The files removed.
    """
    folder = Path(folder)
    removed = []
    if not folder.is_dir():
        return removed
    for entry in os.scandir(folder):
        match = _TEMP_NAME.match(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        pid = int(match.group("pid"))
        if pid == os.getpid() or pid_alive(pid):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def remove_stale_partials(path) -> list[Path]:
    """Delete ``<path>.partial-<pid>`` files (or folders) left by writers that died.

    A partial file is never read as the target (readers only open ``path``); this reclaims the
    disk space of runs killed before they committed. Partials of live processes (another
    gaitcnn process writing the same target) are left alone.

    Returns
    -------
    list of Path
        The files and folders removed.
    """
    path = Path(path)
    removed = []
    for partial in path.parent.glob(f"{glob.escape(path.name)}.partial-*"):
        pid = partial.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or int(pid) == os.getpid() or pid_alive(int(pid)):
            continue
        if partial.is_dir() and not partial.is_symlink():
            shutil.rmtree(partial, ignore_errors=True)
            removed.append(partial)
            continue
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
            removed.append(partial)
    return removed


@contextlib.contextmanager
def staged_dir(final, *, complete_marker: str | None = None) -> Iterator[Path]:
    """Fill a folder under a temporary name and rename it into place when complete.

    Yields ``<final>.partial-<pid>``, holding :data:`INCOMPLETE_MARKER` while it is filled. On
    success the marker is removed (and ``complete_marker`` written, if given) and the folder is
    renamed to ``final``; on an exception it is deleted. A killed writer leaves only the
    partial folder, which the next call removes (:func:`remove_stale_partials`).

    Parameters
    ----------
    final : str or os.PathLike
        The folder to create. It must not exist, or be an empty folder.
    complete_marker : str, optional
        Name of an empty file written into the folder just before the rename.

    Raises
    ------
    FileExistsError
        If ``final`` exists and is not an empty folder (nothing is overwritten).
    """
    final = Path(final)
    if final.exists() and (not final.is_dir() or any(final.iterdir())):
        raise FileExistsError(f"{final} exists and is not an empty folder; choose a new folder")
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(final)
    staging = final.with_name(f"{final.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        (staging / INCOMPLETE_MARKER).write_text(f"being written by process {os.getpid()}\n")
        yield staging
        os.unlink(staging / INCOMPLETE_MARKER)
        if complete_marker is not None:
            (staging / complete_marker).write_text("complete\n")
        os.replace(staging, final)  # replaces an empty folder atomically (POSIX rename)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
