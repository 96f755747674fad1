"""The classes of a labelled set: the labels its training file holds, in sorted order (class 0 is the smallest),
their names, and the mapping of any labels onto them."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.errors import DataError

NAMES_FILE = "classes.txt"  # beside the labels: one class name per line, in the order of the sorted labels
NAMES_LIMIT = 1 << 20  # bytes: a names file is short


@dataclass(frozen=True)
class Classes:
    """The classes a model is trained on."""
    values: tuple  # the labels as the data writes them (numbers, or folder names), sorted; index = class number
    names: tuple[str, ...]  # what reports and pictures call each class

    def __len__(self) -> int:
        return len(self.values)

    @classmethod
    def of(cls, labels: np.ndarray, names_file: Path | None = None) -> "Classes":
        """The classes of a training set's labels; named by `names_file` when it exists, else by the labels."""
        values = tuple(sorted({_plain(v) for v in np.unique(labels)}, key=_natural))
        names = _read_names(names_file, len(values)) if names_file is not None and names_file.is_file() else None
        return cls(values, names or tuple(str(v) for v in values))

    def indices(self, labels: np.ndarray, where: str) -> np.ndarray:
        """Class numbers (0 .. K-1) of `labels`; DataError naming `where` for a label the classes lack."""
        lookup = {str(v): i for i, v in enumerate(self.values)}  # 3 and "3" (a folder's name) are one class
        unique, inverse = np.unique(labels, return_inverse=True)
        unseen = [_plain(v) for v in unique if str(_plain(v)) not in lookup]
        if unseen:
            shown = ", ".join(map(str, unseen[:5])) + (" ..." if len(unseen) > 5 else "")
            raise DataError(f"{where}: holds labels the training labels do not: {shown} (the model knows "
                            f"{self.describe()})")
        return np.array([lookup[str(_plain(v))] for v in unique], dtype=np.int64)[inverse.reshape(-1)]

    def scarce(self, numbers: np.ndarray, least: int) -> dict[str, int]:
        """The classes that fewer than `least` of the class numbers `numbers` belong to, by name, with their count
        (a stray label, or a --limit below the number of classes)."""
        counts = np.bincount(numbers, minlength=len(self))
        return {name: int(n) for name, n in zip(self.names, counts) if n < least}

    def describe(self) -> str:
        """'10 classes: 0, 1, ..., 9' in a line."""
        shown = list(self.names) if len(self) <= 6 else [*self.names[:3], "...", *self.names[-2:]]
        return f"{len(self)} classes: {', '.join(shown)}"

    def record(self) -> dict:
        """What a saved model's sidecar keeps of them."""
        return {"values": list(self.values), "names": list(self.names)}


def names_file_beside(path) -> Path:
    """The class names file in the folder of a labels file (or in the folder itself)."""
    path = Path(path)
    return (path if path.is_dir() else path.parent) / NAMES_FILE


def _read_names(path: Path, count: int) -> tuple[str, ...]:
    try:
        if path.stat().st_size > NAMES_LIMIT:
            raise DataError(f"{path}: is {path.stat().st_size:,} bytes; expected a short list of class names")
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot be read as class names ({e})") from None
    if len(lines) != count:
        raise DataError(f"{path}: names {len(lines)} classes but the training labels hold {count}; expected one "
                        f"name per line, in the order of the sorted labels")
    return tuple(lines)


def _plain(value):
    """A label as a Python int or str (NumPy scalars hash and print alike then)."""
    return value.item() if isinstance(value, np.generic) else value


def _natural(value):
    """Numbers in numeric order, then names in text order, and names of numbers ('10' after '9') as numbers."""
    text = str(value)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)
