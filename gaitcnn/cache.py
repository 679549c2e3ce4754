"""Stage 5: HDF5 image cache with provenance and integrity checks, written atomically.

Integrity: every dataset is chunked with HDF5's Fletcher-32 checksum filter (each chunk is
verified whenever it is read, also by partial reads), the file uses the latest HDF5 format
(checksummed superblock, object headers and chunk indexes), and the attributes carry a SHA-256
of their own content (``attrs_sha256``). On reading, invariants are checked too: dataset
lengths, the recording table against ``recording_index`` and ``subject_ids``, finite images and
AE-GDI pixels in [0, 1]. A file that fails any check is a :class:`GaitDataError` naming the
file and what failed, never data.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from gaitcnn import __version__
from gaitcnn._atomic import remove_stale_partials
from gaitcnn._files import open_regular, reading
from gaitcnn.errors import GaitDataError

__all__ = [
    "FORMAT_VERSION",
    "CacheRows",
    "CacheWriter",
    "ImageSet",
    "cache_path",
    "params_hash",
    "read_image_rows",
    "read_image_set",
    "remove_stale_partials",
    "write_image_set",
]

#: Version of the on-disk layout. Bump it when datasets or attributes change meaning;
#: readers refuse any other version instead of misreading it. 2: Fletcher-32 chunks, latest
#: HDF5 format, ``attrs_sha256``.
FORMAT_VERSION = 2

#: Rows read at a time by :func:`read_image_rows` (a contiguous span holding them).
ROW_BLOCK_IMAGES = 4096

#: HDF5 chunk cache of a reader: a few image chunks (4 MiB each for 32 x 64 x 2 images).
_READ_CHUNK_CACHE_BYTES = 32 << 20

# AE-GDI pixels are angles / pi; float32 rounding can put pi * (1 / pi) a hair above 1.
_UNIT_RANGE_TOLERANCE = 1e-6

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


def _plain(value):
    """An attribute value as plain Python (numpy scalars and bytes unwrapped)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value.item() if hasattr(value, "item") else value


def _attrs_digest(attrs) -> str:
    """SHA-256 of all attributes but ``attrs_sha256`` itself, as sorted JSON."""
    values = {k: _plain(v) for k, v in attrs.items() if k != "attrs_sha256"}
    text = json.dumps(values, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _create_file(path: Path, *, chunk_cache_bytes: int) -> h5py.File:
    """A new HDF5 file in the latest format (checksummed metadata), without timestamps.

    The root group of a latest-format file records creation and modification times by default,
    which would make two builds of the same cache differ byte for byte.
    """
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_libver_bounds(h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST)
    fapl.set_fclose_degree(h5py.h5f.CLOSE_STRONG)
    mdc_nelmts, rdcc_nslots, _, _ = fapl.get_cache()
    fapl.set_cache(mdc_nelmts, rdcc_nslots, chunk_cache_bytes, 1.0)
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    fid = h5py.h5f.create(os.fsencode(path), h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl)
    return h5py.File(fid)


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
        h, w, c = (int(v) for v in image_shape)
        # The latest format: checksummed superblock, object headers and chunk indexes. A chunk
        # cache of 4 image chunks: recordings append fewer rows than a chunk holds, and a
        # checksummed chunk evicted half-written would be read back, verified and rewritten
        # for every append (6x slower writes with HDF5's 1 MiB default).
        chunk_bytes = CHUNK_IMAGES * h * w * c * np.dtype(np.float32).itemsize
        self._file = _create_file(self._tmp, chunk_cache_bytes=4 * chunk_bytes)
        try:
            self._n = 0
            self._recordings: list[dict] = []
            self._file.create_dataset(
                "images",
                shape=(0, h, w, c),
                maxshape=(None, h, w, c),
                dtype=np.float32,
                chunks=(CHUNK_IMAGES, h, w, c),
                fletcher32=True,
            )
            for name, dtype in _META.items():
                self._file.create_dataset(
                    name,
                    shape=(0,),
                    maxshape=(None,),
                    dtype=dtype,
                    chunks=(4096,),
                    fletcher32=True,
                )
            # Open handles for the writer's life: closing a dataset flushes its chunk cache,
            # writing (and checksumming) half-filled chunks again and again.
            self._datasets = {name: self._file[name] for name in ("images", *_META)}
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
        values = {
            "images": images,
            "subject_ids": np.full(n, int(info["subject_id"])),
            "recording_index": np.full(n, rec_index),
            "starts": np.asarray(starts),
        }
        for name, v in values.items():
            self._datasets[name].resize(new, axis=0)
            self._datasets[name][self._n : new] = v
        self._n = new

    def commit(self, **extra_attrs) -> Path:
        """Write the recordings table, close the file and move it into place atomically."""
        self._file.attrs["recordings_json"] = json.dumps(self._recordings)
        self._file.attrs["n_images"] = self._n
        for k, v in extra_attrs.items():
            self._file.attrs[k] = v if isinstance(v, int | float | str) else json.dumps(v)
        self._file.attrs["attrs_sha256"] = _attrs_digest(self._file.attrs)
        self._datasets.clear()
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


def _check_attrs(path: Path, attrs: dict, expected_params: dict | None) -> dict:
    version = attrs.get("format_version")
    if version is None or "params_json" not in attrs:
        raise GaitDataError("not a gaitcnn image cache (no format_version/params_json)", path=path)
    if int(version) != FORMAT_VERSION:
        raise GaitDataError(
            f"cache format version {int(version)} is not the supported version {FORMAT_VERSION}; "
            "delete the file and run `gaitcnn prepare` again",
            path=path,
        )
    if attrs.get("attrs_sha256") != _attrs_digest(attrs):
        raise GaitDataError(
            "the attributes (parameters, recording table) fail their SHA-256 checksum: the file "
            "is corrupted; delete it and run `gaitcnn prepare` again",
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


@contextlib.contextmanager
def _open_cache(path):
    """Open a cache file for reading; yields ``(h5py.File, verified plain attrs)``."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no image cache at {path}; run `gaitcnn prepare` first")
    open_regular(path).close()  # a FIFO or a device is refused, never waited on
    try:  # a chunk cache of a few image chunks: partial reads verify each chunk once
        fh = h5py.File(path, "r", rdcc_nbytes=_READ_CHUNK_CACHE_BYTES)
    except OSError as exc:
        raise GaitDataError(f"cannot open as HDF5 ({exc})", path=path) from exc
    with fh, reading(path, "image cache"):
        yield fh, {k: _plain(v) for k, v in fh.attrs.items()}


def _read(path: Path, dataset, selection=()):
    """``dataset[selection]``; a chunk failing its Fletcher-32 checksum is named."""
    try:
        return dataset[selection]
    except OSError as exc:
        raise GaitDataError(
            f"dataset {dataset.name.lstrip('/')!r} cannot be read ({exc}); a chunk failing its "
            "Fletcher-32 checksum means the file is corrupted: delete it and run `gaitcnn "
            "prepare` again",
            path=path,
        ) from exc


def _check_images(path: Path, images: np.ndarray, params: dict, rows=None) -> None:
    """Images must be finite; AE-GDI sensor channels (angles / pi) must lie in [0, 1].

    ``rows``: the cache row of each image (default ``0, 1, ...``), for the message. Checked by
    per-channel minima and maxima (NaN propagates through both), blocks of
    :data:`ROW_BLOCK_IMAGES` images at a time; masks are built only to name a bad image.
    """
    channels = list(params.get("channels", []))
    in_unit = (
        {i for i, name in enumerate(channels) if name in ("acc", "gyr")}
        if params.get("representation") == "ae_gdi" and len(channels) == images.shape[-1]
        else set()
    )
    tol = _UNIT_RANGE_TOLERANCE
    for lo in range(0, len(images), ROW_BLOCK_IMAGES):
        block = images[lo : lo + ROW_BLOCK_IMAGES]
        for plane in range(images.shape[-1] if block.size else 0):
            values = block[..., plane]
            low, high = float(values.min()), float(values.max())
            if not (np.isfinite(low) and np.isfinite(high)):
                bad, what = ~np.isfinite(values), "a non-finite value"
            elif plane in in_unit and (low < -tol or high > 1 + tol):
                bad, what = (values < -tol) | (values > 1 + tol), "an AE-GDI pixel outside [0, 1]"
            else:
                continue
            row = int(np.argwhere(bad)[0][0])
            value = float(values[row][bad[row]][0])
            cache_row = lo + row if rows is None else int(rows[lo + row])
            raise GaitDataError(
                f"image {cache_row} holds {what} ({value:.6g}): the file is corrupted; delete "
                "it and run `gaitcnn prepare` again",
                path=path,
            )


def _check_table(path: Path, attrs: dict, meta: dict, n_rows: int, recordings: list) -> None:
    """Dataset lengths, and the recording table against recording_index and subject_ids."""
    n = int(attrs.get("n_images", n_rows))
    lengths = {name: len(values) for name, values in meta.items()} | {"images": n_rows}
    wrong = {name: m for name, m in lengths.items() if m != n}
    if wrong:
        raise GaitDataError(f"n_images is {n} but datasets have lengths {wrong}", path=path)
    index = meta["recording_index"]
    if n and (index.min() < 0 or index.max() >= len(recordings)):
        raise GaitDataError(
            f"recording_index holds values outside [0, {len(recordings)}), the recording table",
            path=path,
        )
    counts = np.bincount(index, minlength=len(recordings)) if n else np.zeros(len(recordings))
    table_counts = np.array([int(r.get("n_images", 0)) for r in recordings])
    if not np.array_equal(counts, table_counts):
        raise GaitDataError(
            "recording_index does not match the images per recording of the recording table",
            path=path,
        )
    table_ids = np.array([int(r["subject_id"]) for r in recordings], dtype=np.int64)
    if n and not np.array_equal(meta["subject_ids"], table_ids[index]):
        row = int(np.flatnonzero(meta["subject_ids"] != table_ids[index])[0])
        raise GaitDataError(
            f"subject_ids[{row}] = {int(meta['subject_ids'][row])} but its recording belongs to "
            f"subject {int(table_ids[index[row]])}: the file is corrupted",
            path=path,
        )


def read_image_set(path, *, expected_params: dict | None = None, load_images=True) -> ImageSet:
    """Read a cache file, checking its integrity, format version and (optionally) parameters.

    Parameters
    ----------
    path : str or os.PathLike
        Cache file written by :class:`CacheWriter`.
    expected_params : dict, optional
        When given, the stored parameters must equal these, else :class:`GaitDataError`.
    load_images : bool, default=True
        Load the image array into memory; with ``False``, ``images`` is a :class:`CacheRows`
        (indexing it selects rows without reading them; :func:`read_image_rows` reads them when
        a network trains or scores).

    Returns
    -------
    ImageSet

    Raises
    ------
    GaitDataError
        If the file is not a gaitcnn cache, has another format version or other parameters, or
        fails an integrity check (checksums, table invariants, image values); the message
        names the file and the check.
    """
    path = Path(path)
    with _open_cache(path) as (fh, attrs):
        params = _check_attrs(path, attrs, expected_params)
        meta = {name: _read(path, fh[name]) for name in _META}
        shape = tuple(int(v) for v in fh["images"].shape)
        n_rows, lazy = shape[0], not load_images
        images = np.zeros((0, *shape[1:]), np.float32) if lazy else _read(path, fh["images"])
        recordings = json.loads(attrs.get("recordings_json", "[]"))
        _check_table(path, attrs, meta, n_rows, recordings)
        _check_images(path, images, params)
    if lazy:  # rows are read (and checked) by read_image_rows when training or scoring
        images = CacheRows(path, np.arange(n_rows), _shape=shape)
    return ImageSet(images=images, recordings=recordings, params=params, attrs=attrs, **meta)


def read_image_rows(path, indices) -> np.ndarray:
    """Read the images at ``indices`` (any order, repeats allowed) with the same checks.

    Rows are read in contiguous spans of at most :data:`ROW_BLOCK_IMAGES` wanted rows, one
    read per span when the rows are dense and one per run of consecutive rows otherwise, so
    memory holds only the selection.

    Parameters
    ----------
    path : str or os.PathLike
        Cache file written by :class:`CacheWriter`.
    indices : array_like of int, shape (n,)
        Rows to read.

    Returns
    -------
    np.ndarray, shape (n, height, width, n_channels), float32
        ``images[indices]``.

    Raises
    ------
    GaitDataError
        As :func:`read_image_set`; an index out of range is a ``ValueError``.
    """
    path = Path(path)
    indices = np.asarray(indices, dtype=np.int64).ravel()
    with _open_cache(path) as (fh, attrs):
        params = _check_attrs(path, attrs, None)
        data = fh["images"]
        if indices.size and (indices.min() < 0 or indices.max() >= data.shape[0]):
            raise ValueError(
                f"indices must lie in [0, {data.shape[0]}) for {path}, received "
                f"[{indices.min()}, {indices.max()}]"
            )
        wanted = np.unique(indices)
        rows = np.empty((wanted.size, *data.shape[1:]), dtype=np.float32)
        for lo in range(0, wanted.size, ROW_BLOCK_IMAGES):
            block = wanted[lo : lo + ROW_BLOCK_IMAGES]
            rows[lo : lo + block.size] = _read_block(path, data, block)
            _check_images(path, rows[lo : lo + block.size], params, rows=block)
    return rows[np.searchsorted(wanted, indices)]


def _read_block(path: Path, data, block: np.ndarray) -> np.ndarray:
    """Rows ``block`` (sorted, unique): one read when dense, else one per consecutive run."""
    first, last = int(block[0]), int(block[-1])
    if last - first < 4 * block.size:  # dense enough: one read of the span
        return _read(path, data, slice(first, last + 1))[block - first]
    out = np.empty((block.size, *data.shape[1:]), dtype=np.float32)
    pos = 0
    for run in np.split(block, np.flatnonzero(np.diff(block) != 1) + 1):
        out[pos : pos + run.size] = _read(path, data, slice(int(run[0]), int(run[-1]) + 1))
        pos += run.size
    return out


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
    """

    def __init__(self, path, rows, *, _shape: tuple | None = None):
        self.path = Path(path)
        self.rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if _shape is None:  # (n_rows, *row_shape) of the file
            with _open_cache(self.path) as (fh, _):
                _shape = tuple(int(v) for v in fh["images"].shape)
        self._file_rows, self._row_shape = _shape[0], tuple(_shape[1:])
        if self.rows.size and (self.rows.min() < 0 or self.rows.max() >= self._file_rows):
            raise IndexError(f"rows outside [0, {self._file_rows}) of {self.path}")
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
        return read_image_rows(self.path, rows)

    def subset(self, positions) -> CacheRows:
        """A ``CacheRows`` of part of this selection."""
        return CacheRows(
            self.path, self.rows[positions], _shape=(self._file_rows, *self._row_shape)
        )

    def __getitem__(self, positions) -> CacheRows:
        """Like an array's fancy indexing, but lazy: ``rows[idx]`` is a ``CacheRows`` too."""
        if isinstance(positions, int | np.integer):
            raise TypeError("index a CacheRows with an array, a mask or a slice; use .read()")
        return self.subset(positions)

    def __repr__(self) -> str:
        """Path and size."""
        return f"CacheRows({str(self.path)!r}, n={len(self)}, row_shape={self._row_shape})"
