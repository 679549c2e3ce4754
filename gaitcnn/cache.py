"""Stage 5: HDF5 image cache with provenance, written atomically."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from gaitcnn import __version__
from gaitcnn.errors import GaitDataError

__all__ = [
    "FORMAT_VERSION",
    "CacheWriter",
    "ImageSet",
    "cache_path",
    "params_hash",
    "read_image_set",
    "remove_stale_partials",
    "write_image_set",
]

#: Version of the on-disk layout. Bump it when datasets or attributes change meaning;
#: readers refuse any other version instead of misreading it.
FORMAT_VERSION = 1

#: Images per HDF5 chunk: 256 x 32 x 64 x 2 float32 = 4 MiB, a good size for sequential reads.
CHUNK_IMAGES = 256

#: Per-image metadata datasets and their dtypes.
_META = {
    "subject_ids": np.int64,
    "recording_index": np.int32,
    "starts": np.int64,
}


def params_hash(params: dict) -> str:
    """Return the first 8 hex digits of the SHA-256 of ``params`` as sorted, compact JSON.

    Examples
    --------
    >>> params_hash({"b": 1, "a": [1, 2]}) == params_hash({"a": [1, 2], "b": 1})
    True
    >>> len(params_hash({}))
    8
    """
    text = json.dumps(params, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def cache_path(cache_dir, dataset: str, params: dict) -> Path:
    """File name of the cache of ``dataset`` built with ``params``: ``<dataset>-<hash8>.h5``."""
    return Path(cache_dir) / f"{dataset}-{params_hash(params)}.h5"


@dataclass(frozen=True, eq=False)
class ImageSet:
    """Images and their per-image metadata, as stored in one cache file.

    Attributes
    ----------
    images : np.ndarray, shape (n_images, height, width, n_channels), float32
    subject_ids : np.ndarray, shape (n_images,), int64
        Data-set subject identifier of each image.
    recording_index : np.ndarray, shape (n_images,), int32
        Index into ``recordings`` of the recording (segment) each image was cut from.
    starts : np.ndarray, shape (n_images,), int64
        Start sample of each image within its resampled segment (the cycle start).
    recordings : list of dict
        One entry per recording segment: ``key``, ``subject_id``, ``session``, ``walk``,
        ``source``, ``n_timepoints``, ``n_images``, ``n_skipped``.
    params : dict
        The resolved preparation parameters the cache was built with.
    attrs : dict
        Provenance: ``gaitcnn_version``, ``format_version``, ``source``, ...
    """

    images: np.ndarray
    subject_ids: np.ndarray
    recording_index: np.ndarray
    starts: np.ndarray
    recordings: list
    params: dict
    attrs: dict

    def __len__(self) -> int:
        """Number of images."""
        return int(self.subject_ids.shape[0])

    @property
    def sessions(self) -> np.ndarray:
        """Session name (``day1``, ``gallery``, ...) of each image, shape (n_images,)."""
        names = np.array([r["session"] for r in self.recordings], dtype=object)
        return names[self.recording_index]

    def select(self, mask_or_index) -> ImageSet:
        """Return the images chosen by a boolean mask or an index array (metadata kept)."""
        idx = np.asarray(mask_or_index)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        return ImageSet(
            images=self.images[idx],
            subject_ids=self.subject_ids[idx],
            recording_index=self.recording_index[idx],
            starts=self.starts[idx],
            recordings=self.recordings,
            params=self.params,
            attrs=self.attrs,
        )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale_partials(path) -> list[Path]:
    """Delete ``<path>.partial-<pid>`` files (or folders) left by writers that died.

    A partial file is never read as a cache (readers only open ``path``); this only reclaims
    the disk space of runs killed before :meth:`CacheWriter.commit`. Files of live processes
    (another ``gaitcnn prepare`` writing the same cache) are left alone.

    Returns
    -------
    list of Path
        The files removed.
    """
    path = Path(path)
    removed = []
    for partial in path.parent.glob(f"{path.name}.partial-*"):
        pid = partial.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or int(pid) == os.getpid() or _pid_alive(int(pid)):
            continue
        if partial.is_dir():  # an interrupted simulation (see gaitcnn.prepare.ensure_simulated)
            shutil.rmtree(partial, ignore_errors=True)
            removed.append(partial)
            continue
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
            removed.append(partial)
    return removed


class CacheWriter:
    """Append images to a new cache file; nothing is visible under ``path`` until :meth:`commit`.

    Images are written to ``<path>.partial-<pid>`` in chunks (memory stays bounded by the
    chunk, not the data set) and the file is renamed into place only when complete, so an
    interrupted or failed run leaves no readable-but-wrong cache.

    Parameters
    ----------
    path : str or os.PathLike
        Final cache file.
    image_shape : tuple of int
        ``(height, width, n_channels)`` of every image.
    params : dict
        Resolved preparation parameters (stored as JSON and checked on read).
    source : str
        Where the data came from (a data root, or ``"simulated: ..."``).
    overwrite : bool, default=False
        Replace an existing cache at ``path``; otherwise an existing file is an error.
    """

    def __init__(self, path, image_shape, *, params: dict, source: str, overwrite=False):
        self.path = Path(path)
        if self.path.exists() and not overwrite:
            raise FileExistsError(f"{self.path} exists; pass overwrite=True to replace it")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(self.path)
        self._tmp = self.path.with_name(f"{self.path.name}.partial-{os.getpid()}")
        self._file = h5py.File(self._tmp, "w")
        try:
            self._n = 0
            self._recordings: list[dict] = []
            h, w, c = (int(v) for v in image_shape)
            self._file.create_dataset(
                "images",
                shape=(0, h, w, c),
                maxshape=(None, h, w, c),
                dtype=np.float32,
                chunks=(CHUNK_IMAGES, h, w, c),
            )
            for name, dtype in _META.items():
                self._file.create_dataset(
                    name, shape=(0,), maxshape=(None,), dtype=dtype, chunks=(4096,)
                )
            self._file.attrs.update(
                {
                    "gaitcnn_version": __version__,
                    "format_version": FORMAT_VERSION,
                    "params_json": json.dumps(params, sort_keys=True),
                    "source": str(source),
                }
            )
        except BaseException:  # e.g. ENOSPC while laying out the file: leave nothing
            self.abort()
            raise

    def add_recording(self, info: dict, images: np.ndarray, starts: np.ndarray) -> None:
        """Append the images of one recording segment.

        Parameters
        ----------
        info : dict
            Recording description (``key``, ``subject_id``, ``session``, ``walk``, ``source``,
            ``n_timepoints``, ``n_skipped``); ``n_images`` is filled in here.
        images : np.ndarray, shape (n, height, width, n_channels)
        starts : np.ndarray, shape (n,)
            Start sample of each image.
        """
        images = np.asarray(images, dtype=np.float32)
        n = images.shape[0]
        rec_index = len(self._recordings)
        self._recordings.append({**info, "n_images": int(n)})
        if n == 0:
            return
        new = self._n + n
        ds = self._file["images"]
        ds.resize(new, axis=0)
        ds[self._n : new] = images
        values = {
            "subject_ids": np.full(n, int(info["subject_id"])),
            "recording_index": np.full(n, rec_index),
            "starts": np.asarray(starts),
        }
        for name, v in values.items():
            self._file[name].resize(new, axis=0)
            self._file[name][self._n : new] = v
        self._n = new

    def commit(self, **extra_attrs) -> Path:
        """Write the recordings table, close the file and move it into place atomically."""
        self._file.attrs["recordings_json"] = json.dumps(self._recordings)
        self._file.attrs["n_images"] = self._n
        for k, v in extra_attrs.items():
            self._file.attrs[k] = v if isinstance(v, int | float | str) else json.dumps(v)
        self._file.flush()
        self._file.close()
        with open(self._tmp, "rb") as fh:  # make the data durable before the rename
            os.fsync(fh.fileno())
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Discard the partial file."""
        with contextlib.suppress(Exception):
            self._file.close()
        with contextlib.suppress(FileNotFoundError):
            self._tmp.unlink()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.abort()
        return False


def write_image_set(path, image_set: ImageSet, *, source: str, overwrite=False) -> Path:
    """Write a whole in-memory :class:`ImageSet` to ``path`` atomically."""
    with CacheWriter(
        path,
        image_set.images.shape[1:],
        params=image_set.params,
        source=source,
        overwrite=overwrite,
    ) as writer:
        for i, info in enumerate(image_set.recordings):
            sel = image_set.recording_index == i
            clean = {k: v for k, v in info.items() if k != "n_images"}
            writer.add_recording(clean, image_set.images[sel], image_set.starts[sel])
        return writer.commit()


def _check_attrs(path: Path, attrs, expected_params: dict | None) -> dict:
    version = attrs.get("format_version")
    if version is None or "params_json" not in attrs:
        raise GaitDataError("not a gaitcnn image cache (no format_version/params_json)", path=path)
    if int(version) != FORMAT_VERSION:
        raise GaitDataError(
            f"cache format version {int(version)} is not the supported version {FORMAT_VERSION}; "
            "delete the file and run `gaitcnn prepare` again",
            path=path,
        )
    params = json.loads(attrs["params_json"])
    if expected_params is not None:
        expected = json.loads(json.dumps(expected_params, sort_keys=True))
        if params != expected:
            diff = sorted(
                k
                for k in set(params) | set(expected)
                if params.get(k, "<missing>") != expected.get(k, "<missing>")
            )
            raise GaitDataError(
                f"cache was built with other parameters (differing: {', '.join(diff)}); "
                "run `gaitcnn prepare` with the wanted parameters",
                path=path,
            )
    return params


def read_image_set(path, *, expected_params: dict | None = None, load_images=True) -> ImageSet:
    """Read a cache file, checking its format version and (optionally) its parameters.

    Parameters
    ----------
    path : str or os.PathLike
        Cache file written by :class:`CacheWriter`.
    expected_params : dict, optional
        When given, the stored parameters must equal these, else :class:`GaitDataError`.
    load_images : bool, default=True
        Load the image array into memory; with ``False``, ``images`` is a :class:`CacheRows`
        (indexing it selects rows without reading them; training and scoring stream them).

    Returns
    -------
    ImageSet

    Raises
    ------
    GaitDataError
        If the file is not a gaitcnn cache, has another format version, or other parameters.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no image cache at {path}; run `gaitcnn prepare` first")
    try:
        fh = h5py.File(path, "r")
    except OSError as exc:
        raise GaitDataError(f"cannot open as HDF5 ({exc})", path=path) from exc
    with fh:
        attrs = dict(fh.attrs)
        params = _check_attrs(path, attrs, expected_params)
        meta = {name: fh[name][()] for name in _META}
        n_images = int(fh["images"].shape[0])
        images = fh["images"][()] if load_images else CacheRows(path, np.arange(n_images))
    recordings = json.loads(attrs.get("recordings_json", "[]"))
    clean_attrs = {k: (v.item() if hasattr(v, "item") else v) for k, v in attrs.items()}
    return ImageSet(images=images, recordings=recordings, params=params, attrs=clean_attrs, **meta)


#: Rows per HDF5 read in :func:`read_rows`: whole runs of chunks, never single random rows (a
#: pass of single-row reads takes as long as a training epoch, see RECONSTRUCTION 5).
READ_BLOCK_ROWS = 4096


def _read_sorted(data, rows: np.ndarray) -> np.ndarray:
    """Rows ``rows`` (sorted, unique) of an HDF5 dataset by few contiguous reads."""
    out = np.empty((rows.size, *data.shape[1:]), dtype=data.dtype)
    pos = 0
    for lo in range(0, rows.size, READ_BLOCK_ROWS):
        block = rows[lo : lo + READ_BLOCK_ROWS]
        first, last = int(block[0]), int(block[-1])
        if last - first < 4 * block.size:  # dense enough: one read of the span, keep the wanted
            out[pos : pos + block.size] = data[first : last + 1][block - first]
        else:  # sparse: one read per run of consecutive rows
            breaks = np.flatnonzero(np.diff(block) != 1) + 1
            at = pos
            for run in np.split(block, breaks):
                out[at : at + run.size] = data[int(run[0]) : int(run[-1]) + 1]
                at += run.size
        pos += block.size
    return out


def read_rows(path, rows, *, dataset: str = "images") -> np.ndarray:
    """Read the rows ``rows`` of a cache's ``dataset``, in the order given.

    The one reader of cache rows: rows are fetched in sorted order by contiguous block reads
    (memory holds only the selection), then put in the requested order.

    Parameters
    ----------
    path : str or os.PathLike or h5py.File
        A cache file, or an open one.
    rows : array-like of int, shape (n,)
        Row indices; any order, repeats allowed.
    dataset : str, default="images"

    Returns
    -------
    np.ndarray, shape (n, *row_shape)
    """
    rows = np.asarray(rows, dtype=np.int64).reshape(-1)
    unique, inverse = np.unique(rows, return_inverse=True)
    if isinstance(path, h5py.File):
        data = path[dataset]
        if unique.size and (unique[0] < 0 or unique[-1] >= data.shape[0]):
            raise IndexError(f"rows outside [0, {data.shape[0]}) of {path.filename}:{dataset}")
        return _read_sorted(data, unique)[inverse]
    with h5py.File(path, "r") as fh:
        return read_rows(fh, rows, dataset=dataset)


class CacheRows:
    """The images at some rows of a cache file, read on demand: what a network trains on.

    Training and scoring take either an in-memory array or a ``CacheRows``;
    :func:`gaitcnn.pipeline.epoch_batches` reads a small selection into memory once and
    streams a large one block by block, so memory does not grow with the data.

    Parameters
    ----------
    path : str or os.PathLike
        Cache file.
    rows : array-like of int, shape (n,)
        Rows of its ``images`` dataset, in the order the images are wanted.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "c.h5")
    >>> with h5py.File(path, "w") as fh:
    ...     _ = fh.create_dataset("images", data=np.arange(12, dtype=np.float32).reshape(6, 2))
    >>> rows = CacheRows(path, [4, 1])
    >>> len(rows), rows.shape, rows.read().tolist()
    (2, (2, 2), [[8.0, 9.0], [2.0, 3.0]])
    """

    def __init__(self, path, rows):
        self.path = Path(path)
        self.rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        with h5py.File(self.path, "r") as fh:
            data = fh["images"]
            self._row_shape = tuple(int(v) for v in data.shape[1:])
            n_rows = int(data.shape[0])
        if self.rows.size and (self.rows.min() < 0 or self.rows.max() >= n_rows):
            raise IndexError(f"rows outside [0, {n_rows}) of {self.path}")
        self.dtype = np.dtype(np.float32)
        self.ndim = 1 + len(self._row_shape)

    def __len__(self) -> int:
        """Number of selected rows."""
        return int(self.rows.size)

    @property
    def shape(self) -> tuple[int, ...]:
        """``(n, *row_shape)``, like an array's."""
        return (len(self), *self._row_shape)

    @property
    def nbytes(self) -> int:
        """Bytes the selection takes in memory as float32."""
        return len(self) * int(np.prod(self._row_shape)) * 4

    def read(self, positions=None) -> np.ndarray:
        """The images at ``positions`` of the selection (all when None), as float32."""
        rows = self.rows if positions is None else self.rows[positions]
        return read_rows(self.path, rows).astype(np.float32, copy=False)

    def subset(self, positions) -> CacheRows:
        """A ``CacheRows`` of part of this selection."""
        return CacheRows(self.path, self.rows[positions])

    def __getitem__(self, positions) -> CacheRows:
        """Like an array's fancy indexing, but lazy: ``rows[idx]`` is a ``CacheRows`` too."""
        if isinstance(positions, int | np.integer):
            raise TypeError("index a CacheRows with an array, a mask or a slice; use .read()")
        return self.subset(positions)

    def __repr__(self) -> str:
        """Path and size."""
        return f"CacheRows({str(self.path)!r}, n={len(self)}, row_shape={self._row_shape})"
