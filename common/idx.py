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


def read_images(path) -> np.ndarray:
    """Return the images of an IDX images file as a uint8 array (count, rows, columns)."""
    return read_idx(path, IMAGES_MAGIC)


def read_labels(path) -> np.ndarray:
    """Return the labels of an IDX labels file as a uint8 array (count,)."""
    return read_idx(path, LABELS_MAGIC)


def read_idx(path, expected_magic: int) -> np.ndarray:
    """Read an IDX file, checking its magic number, dimensions and length against the header."""
    path = Path(path)
    data = _read_bytes(path)
    what = _KIND[expected_magic]
    if len(data) < 4 or data[0:2] != b"\x00\x00":
        raise DataError(f"{path}: not an IDX file (expected an IDX {what} file, magic 0x{expected_magic:08X})")
    magic = int.from_bytes(data[0:4], "big")
    if magic != expected_magic:
        found = _KIND.get(magic, f"an IDX file with magic 0x{magic:08X}")
        found = f"an IDX {found} file" if magic in _KIND else found
        raise DataError(f"{path}: is {found}, expected IDX {what} (magic 0x{expected_magic:08X})")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated header ({len(data)} bytes, the header needs {header})")
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims, dtype=np.int64))
    actual = len(data) - header
    if actual < expected:
        raise DataError(f"{path}: truncated: the header promises {_shape(dims)} ({expected} bytes) "
                        f"but only {actual} bytes follow")
    if actual > expected:
        raise DataError(f"{path}: {actual - expected} unexpected bytes after the {_shape(dims)} the header promises")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def write_idx(path, array: np.ndarray) -> None:
    """Write a uint8 array (1-D labels or 3-D images) as an IDX file, gzip-compressed if the name ends in .gz."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, _UBYTE, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    payload = header + array.tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(payload)


def _read_bytes(path: Path) -> bytes:
    """Return the file's bytes, decompressed when it is gzip (by content, not by name)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected an IDX file") from None
    except OSError as e:
        raise DataError(f"{path}: cannot be read ({e.strerror})") from None
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: corrupt gzip data ({e})") from None


def _shape(dims) -> str:
    """Describe IDX dimensions in words, e.g. '60000 images of 28x28'."""
    if len(dims) == 3:
        return f"{dims[0]} images of {dims[1]}x{dims[2]}"
    if len(dims) == 1:
        return f"{dims[0]} labels"
    return "x".join(map(str, dims)) + " values"
