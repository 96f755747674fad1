"""The bundled MNIST, and turning IDX arrays into model inputs, splits and labelled subsets."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.data.idx import read_images, read_labels
from common.errors import DataError, UserError

MNIST_DIR = Path(__file__).resolve().parents[2] / "data" / "mnist"
TRAIN_IMAGES = MNIST_DIR / "train-images-idx3-ubyte.gz"
TRAIN_LABELS = MNIST_DIR / "train-labels-idx1-ubyte.gz"
TEST_IMAGES = MNIST_DIR / "t10k-images-idx3-ubyte.gz"
TEST_LABELS = MNIST_DIR / "t10k-labels-idx1-ubyte.gz"
NUM_CLASSES = 10


@dataclass(frozen=True)
class Split:
    """Indices of a seeded train / validation split of one file."""
    train: np.ndarray
    val: np.ndarray


def load_images(path, limit: int | None = None) -> np.ndarray:
    """Read an images file, keep the first `limit` images, and check there is something to train on."""
    images = read_images(path)
    _check_images(images, path)
    return images[:limit] if limit else images


def load_labelled(images_path, labels_path, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read an images file and its labels file, checking they match and the labels are digits 0-9."""
    images, labels = read_images(images_path), read_labels(labels_path)
    if images.shape[0] != labels.shape[0]:
        raise DataError(f"{labels_path}: holds {labels.shape[0]} labels but {images_path} "
                        f"holds {images.shape[0]} images")
    _check_images(images, images_path)
    if labels.max() >= NUM_CLASSES:
        bad = np.unique(labels[labels >= NUM_CLASSES])
        raise DataError(f"{labels_path}: labels must be 0-9, found {', '.join(map(str, bad[:5]))}")
    return (images[:limit], labels[:limit]) if limit else (images, labels)


def _check_images(images: np.ndarray, path) -> None:
    """DataError for a file with nothing to train on: no images, or images with no pixels."""
    if images.shape[0] == 0:
        raise DataError(f"{path}: holds no images")
    if 0 in images.shape[1:]:
        raise DataError(f"{path}: holds images of {images.shape[1]}x{images.shape[2]} pixels: nothing to learn from")


def to_model_input(images: np.ndarray) -> np.ndarray:
    """Scale uint8 images to float32 in [0, 1] with a trailing channel axis."""
    return (images.astype(np.float32) / 255.0)[..., np.newaxis]


def split(count: int, val_split: float, seed: int) -> Split:
    """Shuffle indices with `seed` and hold out a `val_split` fraction (at least one image) for validation."""
    n_val = max(1, round(count * val_split))
    if n_val >= count:
        raise UserError(f"--val-split {val_split} leaves no training images out of {count}")
    order = np.random.default_rng(seed).permutation(count)
    return Split(train=np.sort(order[n_val:]), val=np.sort(order[:n_val]))


def balanced_subset(labels: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Pick `count` indices with the classes as equal as the data allows, seeded."""
    if count < NUM_CLASSES:
        raise UserError(f"--labels {count}: need at least {NUM_CLASSES}, one per class")
    if count > labels.shape[0]:
        raise UserError(f"--labels {count}: only {labels.shape[0]} labelled training images are available")
    rng = np.random.default_rng(seed)
    pools = [rng.permutation(np.flatnonzero(labels == c)) for c in range(NUM_CLASSES)]
    taken = [0] * NUM_CLASSES
    for _ in range(count):  # round-robin over the classes that still have images
        c = min((c for c in range(NUM_CLASSES) if taken[c] < len(pools[c])), key=lambda c: taken[c])
        taken[c] += 1
    return np.sort(np.concatenate([pool[:n] for pool, n in zip(pools, taken)]))


def label_split(labels: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training split whose labels are used (a balanced subset of `count`, or all when 0) and of
    the rest, whose labels are not: the unlabelled images."""
    if not count:
        return np.arange(len(labels)), np.arange(0)
    chosen = balanced_subset(labels, count, seed)
    return chosen, np.setdiff1d(np.arange(len(labels)), chosen, assume_unique=True)


def labelled_part(images: np.ndarray, labels: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The labelled part of the training split as (images, labels): all of it when `count` is 0 (no copy), else a
    balanced subset of `count` images, seeded."""
    if not count:
        return images, labels
    chosen, _ = label_split(labels, count, seed)
    return images[chosen], labels[chosen]


def unlabelled_part(images: np.ndarray, labels: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The rest of the training split, whose labels `labelled_part` does not use, as (images, true labels): the
    true labels only ever measure pseudo-labels. Empty when every label is used."""
    _, others = label_split(labels, count, seed)
    return images[others], labels[others]
