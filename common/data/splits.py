"""Which images a run trains, validates and labels with: the seeded validation split of a training set, and the
balanced, seeded labelled subset of the training split (the rest: the unlabelled images)."""

from dataclasses import dataclass

import numpy as np

from common.errors import UserError
from models.config.classifier import check_label_budget


@dataclass(frozen=True)
class Split:
    """Indices of a seeded train / validation split of one file."""
    train: np.ndarray
    val: np.ndarray


def split(count: int, val_split: float, seed: int) -> Split:
    """Shuffle indices with `seed` and hold out a `val_split` fraction (at least one image) for validation."""
    n_val = max(1, round(count * val_split))
    if n_val >= count:
        raise UserError(f"--val-split {val_split} leaves no training images out of {count}")
    order = np.random.default_rng(seed).permutation(count)
    return Split(train=np.sort(order[n_val:]), val=np.sort(order[:n_val]))


def balanced_subset(labels: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Pick `count` indices with the classes (0 .. the largest label) as equal as the data allows, seeded."""
    classes = int(labels.max()) + 1
    check_label_budget(count, classes, len(labels))
    rng = np.random.default_rng(seed)
    pools = [rng.permutation(np.flatnonzero(labels == c)) for c in range(classes)]
    taken = [0] * classes
    for _ in range(count):  # round-robin over the classes that still have images
        c = min((c for c in range(classes) if taken[c] < len(pools[c])), key=lambda c: taken[c])
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
