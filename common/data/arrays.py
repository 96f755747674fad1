"""NumPy files: `.npy` arrays of images or labels, and `.npz` archives in Keras' convention (`x_train`, `y_train`,
`x_test`, `y_test`, as `keras.datasets.mnist.load_data` keeps them). Pickled objects are never loaded."""

import zipfile
from pathlib import Path

import numpy as np

from common.errors import DataError, first_line

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def read_npy(path, limit: int | None = None) -> np.ndarray:
    """The array in a `.npy` file (its first `limit` rows, only those read from disk); DataError when it cannot be
    read or holds Python objects."""
    path = Path(path)
    _check_file(path)
    try:
        if limit is None:
            return np.load(path, allow_pickle=False)
        mapped = np.load(path, mmap_mode="r", allow_pickle=False)
        return np.array(mapped[:limit] if mapped.ndim else mapped)
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"{path}: not a readable .npy array ({first_line(e)})") from None


def npy_shape(path) -> tuple[int, ...]:
    """The shape of the array in a `.npy` file, read from its header."""
    path = Path(path)
    _check_file(path)
    try:
        return tuple(np.load(path, mmap_mode="r", allow_pickle=False).shape)  # mapped: no data read
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"{path}: not a readable .npy array ({first_line(e)})") from None


def read_npz(path, wanted: tuple[str, ...] = NPZ_KEYS) -> dict[str, np.ndarray]:
    """The `wanted` arrays of a Keras-style `.npz` that it holds, by name (only those are read); DataError when it
    is no archive, holds no `x_train`, or holds Python objects."""
    path = Path(path)
    _check_file(path)
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise DataError(f"{path}: is a single .npy array, expected an .npz archive of x_train, y_train, ...")
        with archive:
            if "x_train" not in archive.files:
                found = ", ".join(archive.files[:6]) or "nothing"
                raise DataError(f"{path}: holds no x_train (found {found}); expected Keras' names: "
                                f"{', '.join(NPZ_KEYS)}")
            return {key: archive[key] for key in wanted if key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"{path}: not a readable .npz archive ({first_line(e)})") from None


def npz_names(path) -> set[str]:
    """The names of the arrays an `.npz` archive holds, read from its index (empty for what is no archive:
    `read_npz` says what is wrong with it)."""
    path = Path(path)
    if path.suffix != ".npz" or not path.is_file():
        return set()
    try:
        with np.load(path, allow_pickle=False) as archive:
            return set(archive.files)
    except (OSError, ValueError, EOFError, AttributeError, TypeError, zipfile.BadZipFile):
        return set()


def as_images(array: np.ndarray, where: str) -> np.ndarray:
    """Images as uint8 (count, rows, columns, channels) with 1 or 3 channels: from whole numbers 0-255, or from
    floats in 0-1 (scaled by 255) or 0-255; DataError naming `where` for anything else."""
    if array.ndim == 3:
        array = array[..., np.newaxis]
    if array.ndim != 4 or array.shape[-1] not in (1, 3):
        raise DataError(f"{where}: holds an array of {_dims(array.shape)}; expected images as count x rows x "
                        f"columns, with 1 or 3 channels last")
    if array.dtype == np.uint8:
        return array
    if array.dtype.kind not in "iuf" or array.size == 0:
        raise DataError(f"{where}: holds {array.dtype} values; expected pixels as whole numbers 0-255 or floats 0-1")
    low = float(array.min())
    high = float(array.max())
    if array.dtype.kind in "iu":
        if low < 0 or high > 255:
            raise DataError(f"{where}: pixel values run from {low:g} to {high:g}; expected 0-255")
        return array.astype(np.uint8)
    if not np.isfinite(low + high) or low < 0 or high > 255:
        raise DataError(f"{where}: pixel values run from {low:g} to {high:g}; expected floats in 0-1 or 0-255")
    scale = 255.0 if high <= 1.0 else 1.0
    return np.rint(array * scale).astype(np.uint8)


def as_labels(array: np.ndarray, where: str) -> np.ndarray:
    """One whole-number label per image (a column of them too, as CIFAR keeps them); DataError otherwise."""
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise DataError(f"{where}: holds an array of {_dims(array.shape)}; expected one whole-number label per "
                        f"image (class numbers, not one-hot rows)")
    if array.dtype.kind not in "iu":
        raise DataError(f"{where}: holds {array.dtype} labels; expected whole numbers")
    return array.astype(np.int64)


def _check_file(path: Path) -> None:
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if not path.is_file():
        raise DataError(f"{path}: is not a regular file, expected a NumPy file")


def _dims(shape) -> str:
    return "x".join(map(str, shape)) if shape else "a single value"

