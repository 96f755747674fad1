"""Read and write IDX files (the MNIST format), raw or gzip-compressed."""

import gzip
import zlib
from pathlib import Path

import numpy as np

from common.errors import DataError

IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions: count, rows, columns
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension: count
_KIND = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}
_UBYTE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20  # bytes per read


def read_images(path) -> np.ndarray:
    """Return the images of an IDX images file as a uint8 array (count, rows, columns)."""
    return read_idx(path, IMAGES_MAGIC)


def read_labels(path) -> np.ndarray:
    """Return the labels of an IDX labels file as a uint8 array (count,)."""
    return read_idx(path, LABELS_MAGIC)


def read_idx(path, expected_magic: int) -> np.ndarray:
    """Read an IDX file, checking its magic number, dimensions and length against the header.

    The data is read straight into the array it is returned in, so loading needs little more memory than the result.
    """
    path = Path(path)
    try:
        with _open(path) as f:
            return _read(f, path, expected_magic)
    except (OSError, EOFError, zlib.error) as e:
        if isinstance(e, OSError) and not isinstance(e, gzip.BadGzipFile) and e.strerror:
            raise DataError(f"{path}: cannot be read ({e.strerror})") from None
        raise DataError(f"{path}: corrupt gzip data ({e})") from None


def _read(f, path: Path, expected_magic: int) -> np.ndarray:
    """Parse an open IDX stream."""
    what = _KIND[expected_magic]
    start = f.read(4)
    if len(start) < 4 or start[0:2] != b"\x00\x00":
        raise DataError(f"{path}: not an IDX file (expected an IDX {what} file, magic 0x{expected_magic:08X})")
    magic = int.from_bytes(start, "big")
    if magic != expected_magic:
        found = f"an IDX {_KIND[magic]} file" if magic in _KIND else f"an IDX file with magic 0x{magic:08X}"
        raise DataError(f"{path}: is {found}, expected IDX {what} (magic 0x{expected_magic:08X})")
    ndim = start[3]
    dims_bytes = f.read(4 * ndim)
    if len(dims_bytes) < 4 * ndim:
        raise DataError(f"{path}: truncated header ({4 + len(dims_bytes)} bytes, the header needs {4 + 4 * ndim})")
    dims = tuple(int.from_bytes(dims_bytes[4 * i: 4 * i + 4], "big") for i in range(ndim))
    expected = int(np.prod(dims, dtype=np.int64))
    data = np.empty(expected, dtype=np.uint8)
    actual = _read_into(f, memoryview(data))
    if actual < expected:
        raise DataError(f"{path}: truncated: the header promises {_shape(dims)} ({expected} bytes) "
                        f"but only {actual} bytes follow")
    extra = len(f.read())
    if extra:
        raise DataError(f"{path}: {extra} unexpected bytes after the {_shape(dims)} the header promises")
    return data.reshape(dims)


def write_idx(path, array: np.ndarray) -> None:
    """Write a uint8 array (1-D labels or 3-D images) as an IDX file, gzip-compressed if the name ends in .gz."""
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


def _open(path: Path):
    """Open for reading, through gzip when the file is gzip-compressed (by content, not by name)."""
    try:
        with open(path, "rb") as probe:
            packed = probe.read(2) == _GZIP_MAGIC
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected an IDX file") from None
    return gzip.open(path, "rb") if packed else open(path, "rb")


def _shape(dims) -> str:
    """Describe IDX dimensions in words, e.g. '60000 images of 28x28'."""
    if len(dims) == 3:
        return f"{dims[0]} images of {dims[1]}x{dims[2]}"
    if len(dims) == 1:
        return f"{dims[0]} labels"
    return "x".join(map(str, dims)) + " values"
