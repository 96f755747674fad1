"""`--limit N`: which N images of a set are used, the same for every format and both programs. From a labelled set,
the classes in turn (the smallest label first, each class's first images first), so that every class is trained on
as long as N allows; from images without labels, the first N."""

import numpy as np


def in_turn(labels: np.ndarray, limit: int | None) -> np.ndarray:
    """Indices, in file order, of `limit` images taken from each class of `labels` in turn (all of them when `limit`
    is None or not below their number)."""
    if limit is None or limit >= len(labels):
        return np.arange(len(labels))
    pools = [np.flatnonzero(labels == value) for value in np.unique(labels)]
    order = [pool[i] for i in range(max(map(len, pools))) for pool in pools if i < len(pool)]
    return np.sort(np.array(order[:limit], dtype=np.int64))
