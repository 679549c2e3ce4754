"""Inter-process locks for shared outputs (simulated data sets, image caches).

Two ``gaitcnn`` processes that need the same simulated data set or cache must not both build
it: the second waits for the first and then reuses its result. The lock is an ``flock`` on
``<target>.lock``; the kernel releases it when its holder dies (even by SIGKILL), so a killed
run never blocks the next one. The lock file is removed on release.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["file_lock", "lock_path"]

logger = logging.getLogger(__name__)


def lock_path(target) -> Path:
    """The lock file guarding ``target``: ``<target>.lock`` in the same folder."""
    target = Path(target)
    return target.with_name(f"{target.name}.lock")


def _acquire(path: Path, what: str) -> int:
    """Open and lock ``path``, retrying when the previous holder removed it meanwhile."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                logger.warning("waiting for another gaitcnn process to finish %s", what)
                fcntl.flock(fd, fcntl.LOCK_EX)
            held = os.fstat(fd)
            try:
                current = os.stat(path)
            except FileNotFoundError:
                current = None
        except BaseException:
            os.close(fd)
            raise
        if current is not None and (current.st_dev, current.st_ino) == (held.st_dev, held.st_ino):
            return fd
        os.close(fd)  # we locked a file its holder had already unlinked: lock the new one


@contextlib.contextmanager
def file_lock(target, *, what: str | None = None) -> Iterator[Path]:
    """Hold an exclusive lock on ``target`` (a file or folder that may not exist yet).

    Parameters
    ----------
    target : str or os.PathLike
        What is guarded; the lock file is :func:`lock_path` of it (its folder is created).
    what : str, optional
        Description for the "waiting for ..." log line (default: the target's path).

    Yields
    ------
    Path
        The lock file.
    """
    path = lock_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _acquire(path, what or str(target))
    try:
        yield path
    finally:
        # Unlink while holding the lock: waiters that opened the old file notice and retry.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)
