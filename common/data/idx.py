"""Read and write IDX files (the MNIST format), raw or gzip-compressed."""

import gzip
import math
import os
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.errors import DataError

IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions: count, rows, columns
CHANNEL_IMAGES_MAGIC = 0x00000804  # unsigned bytes, 4 dimensions: count, rows, columns, channels (colour)
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension: count
_KIND = {IMAGES_MAGIC: "images", CHANNEL_IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}
_UBYTE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20  # bytes per read
DEFLATE_MAX_RATIO = 1032  # deflate expands data at most about 1032 times: the most a gzip file can hold


def read_images(path, limit: int | None = None) -> np.ndarray:
    """Return the images of an IDX images file (the first `limit` of them, only those read) as a uint8 array:
    (count, rows, columns), or (count, rows, columns, channels) for a 4-dimensional file."""
    return read_idx(path, IMAGES_MAGIC, also=CHANNEL_IMAGES_MAGIC, limit=limit)


def read_labels(path) -> np.ndarray:
    """Return the labels of an IDX labels file as a uint8 array (count,)."""
    return read_idx(path, LABELS_MAGIC)


def read_idx(path, expected_magic: int, also: int | None = None, limit: int | None = None) -> np.ndarray:
    """Read an IDX file, checking its magic number, dimensions and length against the header.

    No buffer is made larger than the file can hold: a raw file's size must match its header exactly before the
    data is read; a gzip file's promise must be within what deflate can expand its size to and agree with the size
    its trailer records, or its data is read in chunks and only kept if it is all there. The data is then read
    straight into the array it is returned in, so loading needs little more memory than the result. A file with
    the magic number `also` is taken too (4-dimensional images where 3-dimensional ones are expected). With `limit`,
    only the first `limit` items (images, labels) are read and returned: the header is checked as always, the rest
    of the data is neither read nor decompressed.
    """
    path = Path(path)
    try:
        packed, size = _inspect(path)
        with gzip.open(path, "rb") if packed else open(path, "rb") as f:
            return _read(f, path, expected_magic, _Source(packed, size, _gzip_size(path) if packed else None), also,
                         limit)
    except (OSError, EOFError, zlib.error) as e:
        if isinstance(e, OSError) and not isinstance(e, gzip.BadGzipFile) and e.strerror:
            raise DataError(f"{path}: cannot be read ({e.strerror})") from None
        raise DataError(f"{path}: corrupt gzip data ({e})") from None


@dataclass(frozen=True)
class _Source:
    """What the file on disk says about the IDX stream inside it."""
    packed: bool  # gzip-compressed
    size: int  # bytes on disk
    trailer: int | None  # a gzip file's recorded uncompressed size, modulo 2**32

    def capacity(self) -> int:
        """The most bytes of IDX stream this file can hold."""
        return self.size * DEFLATE_MAX_RATIO if self.packed else self.size

    def confirms(self, total: int) -> bool:
        """True when the file's own records back a stream of `total` bytes (always, for a raw file of that size)."""
        return total == self.size if not self.packed else self.trailer == total % 2 ** 32


def _read(f, path: Path, expected_magic: int, source: _Source, also: int | None = None,
          limit: int | None = None) -> np.ndarray:
    """Parse an open IDX stream (its first `limit` items only, when given)."""
    dims = _header(f, path, expected_magic, also)
    header = 4 + 4 * len(dims)  # Python integers: no overflow
    expected = math.prod(dims)
    if not source.packed and source.size - header < expected:
        raise DataError(f"{path}: truncated: the header promises {_shape(dims)} ({expected} bytes) "
                        f"but only {source.size - header} bytes follow")
    if expected > source.capacity() - header:
        raise DataError(f"{path}: the header promises {_shape(dims)} ({expected:,} bytes), more than a "
                        f"{source.size:,}-byte gzip file can hold")
    partial = limit is not None and dims and limit < dims[0]
    kept = (limit, *dims[1:]) if partial else dims
    wanted = math.prod(kept)
    if source.confirms(header + expected):
        data = _allocate(wanted, path, dims)
        actual = _read_into(f, memoryview(data))
    else:
        data, actual = _read_chunks(f, wanted)
    if actual < wanted:
        raise DataError(f"{path}: truncated: the header promises {_shape(dims)} ({expected} bytes) "
                        f"but only {actual} bytes follow")
    extra = 0 if partial else _count_rest(f)
    if extra:
        raise DataError(f"{path}: {extra} unexpected bytes after the {_shape(dims)} the header promises")
    return data.reshape(kept)


def _header(f, path: Path, expected_magic: int, also: int | None) -> tuple[int, ...]:
    """The dimensions an open IDX stream's header gives, its magic number checked."""
    what = _KIND[expected_magic]
    start = f.read(4)
    if len(start) < 4 or start[0:2] != b"\x00\x00":
        raise DataError(f"{path}: not an IDX file (expected an IDX {what} file, magic 0x{expected_magic:08X})")
    magic = int.from_bytes(start, "big")
    if magic not in (expected_magic, also):
        found = f"an IDX {_KIND[magic]} file" if magic in _KIND else f"an IDX file with magic 0x{magic:08X}"
        raise DataError(f"{path}: is {found}, expected IDX {what} (magic 0x{expected_magic:08X})")
    ndim = start[3]
    dims_bytes = f.read(4 * ndim)
    if len(dims_bytes) < 4 * ndim:
        raise DataError(f"{path}: truncated header ({4 + len(dims_bytes)} bytes, the header needs {4 + 4 * ndim})")
    return tuple(int.from_bytes(dims_bytes[4 * i: 4 * i + 4], "big") for i in range(ndim))


def idx_dims(path, expected_magic: int = IMAGES_MAGIC, also: int | None = CHANNEL_IMAGES_MAGIC) -> tuple[int, ...]:
    """The dimensions an IDX file's header gives (images by default), read without its data."""
    path = Path(path)
    try:
        packed, _ = _inspect(path)
        with gzip.open(path, "rb") if packed else open(path, "rb") as f:
            return _header(f, path, expected_magic, also)
    except (OSError, EOFError, zlib.error) as e:
        if isinstance(e, OSError) and not isinstance(e, gzip.BadGzipFile) and e.strerror:
            raise DataError(f"{path}: cannot be read ({e.strerror})") from None
        raise DataError(f"{path}: corrupt gzip data ({e})") from None


def write_idx(path, array: np.ndarray) -> None:
    """Write a uint8 array (1-D labels, 3-D images or 4-D images with channels) as an IDX file, gzip-compressed if
    the name ends in .gz."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, _UBYTE, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    payload = header + array.tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(payload)


def _read_into(f, view: memoryview) -> int:
    """Fill `view` from `f` in chunks (gzip would otherwise build a temporary copy of the whole data); return the
    number of bytes read, short only at the end of the file."""
    done = 0
    while done < len(view):
        n = f.readinto(view[done:done + _CHUNK])
        if not n:
            break
        done += n
    return done


def _read_chunks(f, expected: int) -> tuple[np.ndarray, int]:
    """Read up to `expected` bytes chunk by chunk, so memory grows only with data that is really there; return
    them as an array (empty unless complete) and their count."""
    chunks = []
    done = 0
    while done < expected:
        chunk = f.read(min(_CHUNK, expected - done))
        if not chunk:
            return np.empty(0, dtype=np.uint8), done
        chunks.append(chunk)
        done += len(chunk)
    return np.frombuffer(b"".join(chunks), dtype=np.uint8).copy(), done


def _count_rest(f) -> int:
    """Bytes left in the stream, counted chunk by chunk (never all held at once)."""
    extra = 0
    while chunk := f.read(_CHUNK):
        extra += len(chunk)
    return extra


def _allocate(count: int, path: Path, dims) -> np.ndarray:
    """The array the data is read into; a DataError rather than a MemoryError when there is no room for it."""
    try:
        return np.empty(count, dtype=np.uint8)
    except MemoryError:
        raise DataError(f"{path}: {_shape(dims)} ({count / 2**30:.1f} GiB) do not fit in memory") from None


def _inspect(path: Path) -> tuple[bool, int]:
    """Whether the file is gzip-compressed (by content, not by name), and its size; errors for what is no file."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise DataError(f"{path}: is a directory, expected an IDX file")
        if not stat.S_ISREG(info.st_mode):
            raise DataError(f"{path}: is not a regular file, expected an IDX file")
        with open(path, "rb") as probe:
            return probe.read(2) == _GZIP_MAGIC, info.st_size
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None


def _gzip_size(path: Path) -> int | None:
    """The uncompressed size a gzip file's trailer records (modulo 2**32; that of the last member only), or None
    for a file too short to have one (gzip's own reader then says what is wrong)."""
    if path.stat().st_size < 4:
        return None
    with open(path, "rb") as f:
        f.seek(-4, os.SEEK_END)
        return int.from_bytes(f.read(4), "little")


def _shape(dims) -> str:
    """Describe IDX dimensions in words, e.g. '60000 images of 28x28'."""
    if len(dims) == 3:
        return f"{dims[0]} images of {dims[1]}x{dims[2]}"
    if len(dims) == 4:
        return f"{dims[0]} images of {dims[1]}x{dims[2]}x{dims[3]}"
    if len(dims) == 1:
        return f"{dims[0]} labels"
    return "x".join(map(str, dims)) + " values"
