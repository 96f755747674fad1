"""Batches of in-memory arrays for `fit` and `evaluate`, in pipelines whose lifetime costs nothing.

Keras turns NumPy arrays into a tf.data pipeline with autotuning on. Autotuning runs a background thread per
iterator (`Model::OptimizeLoop`) that sleeps on a timer whose period doubles up to a minute, and an iterator's
destructor waits for that thread to notice it is cancelled: the wait ends only when the timer does. Every `fit`
drops at least one iterator per epoch and one for validation, so the programs sat idle for up to a minute after
epochs and fits (seen with gdb: the main thread in `~RootDataset::Iterator` -> `~LogicalThreadWrapper`
-> `WaitForNotification`, the model thread in `Model::OptimizeLoop` -> `CondVar::WaitCommon`). The pipelines here
switch autotuning off, so no such thread exists, and fix their parallelism and prefetching themselves: a gather of
rows from memory needs no tuning. Rows are gathered by index from the caller's arrays (no copy of the arrays).
"""

import itertools

import numpy as np

from common.keras_setup import tf

PREDICT_BATCH = 256  # images per batch when only computing outputs (validation, prediction, features)
PREFETCH = 2  # batches made ready ahead of the training step
PARALLEL_GATHERS = 2  # batches gathered at once


class EpochClock:
    """The epoch `fit` is in (set at each epoch's start, models/training/fit.py), which a seeded order of rows
    reads: an epoch's batches are drawn from the run's seed and the epoch, the same whether the run went through
    or resumed at that epoch. One per process: the process trains one model at a time."""

    def __init__(self):
        self.epoch = 0
        self.passes: dict[int, int] = {}  # per seeded order (its id): passes drawn in this epoch so far

    def set(self, epoch: int) -> None:
        self.epoch = epoch
        self.passes = {}

    def order(self, rows: int, seed: int, key: int) -> np.ndarray:
        """The next pass's order of `rows` rows for the order `key` of seed `seed`: drawn from (seed, epoch, the
        pass's number in the epoch), as int64."""
        done = self.passes.get(key, 0)
        self.passes[key] = done + 1
        return np.random.default_rng((seed, self.epoch, done)).permutation(rows).astype(np.int64)


CLOCK = EpochClock()
_ORDERS = itertools.count()  # each seeded order's key in the clock


def seeded_order(rows: int, seed: int) -> "tf.data.Dataset":
    """The row indices of one pass in an order drawn from `seed`, the epoch and the pass (EpochClock), a new order
    each time the dataset is iterated again."""
    key = next(_ORDERS)

    def draw(_):
        order = tf.numpy_function(lambda: CLOCK.order(rows, seed, key), [], tf.int64, stateful=True)
        order.set_shape((rows,))
        return tf.data.Dataset.from_tensor_slices(order)

    return tf.data.Dataset.range(1).flat_map(draw).apply(tf.data.experimental.assert_cardinality(rows))


def batches(x: np.ndarray, y: np.ndarray | None, batch_size: int, seed: int | None = None,
            drop_remainder: bool = False) -> "tf.data.Dataset":
    """(x, y) batches gathered by index from in-memory arrays; `y` None gives (x, x) for an autoencoder, from one
    gather. With a `seed`, the rows are reshuffled every pass in an order drawn from the seed and the epoch
    (`seeded_order`); without one, in order. With `drop_remainder`, a short last batch is left out."""
    same = y is None or y is x
    y = x if y is None else y

    def take(indices):
        indices = np.sort(indices)  # read the rows in memory order
        rows = x[indices]
        return rows, (rows if same else y[indices])

    def gather(indices):
        xb, yb = tf.numpy_function(take, [indices], [tf.as_dtype(x.dtype), tf.as_dtype(y.dtype)], stateful=False)
        xb.set_shape((None, *x.shape[1:]))
        yb.set_shape((None, *y.shape[1:]))
        return xb, yb

    indices = tf.data.Dataset.range(len(x)) if seed is None else seeded_order(len(x), seed)
    pipeline = indices.batch(batch_size, drop_remainder=drop_remainder)
    pipeline = pipeline.map(gather, num_parallel_calls=PARALLEL_GATHERS).prefetch(PREFETCH)
    return pipeline.with_options(untuned())


def untuned() -> "tf.data.Options":
    """Pipeline options without autotuning (and so without the thread whose end an iterator waits for)."""
    options = tf.data.Options()
    options.autotune.enabled = False
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return options


def predict(model, images: np.ndarray, batch_size: int = PREDICT_BATCH) -> np.ndarray:
    """The model's outputs for every image, computed batch by batch with no tf.data iterator (Keras' `predict`
    makes an autotuned one, see above) into one preallocated array. A short last batch is padded to the full size,
    so the model's step is traced (or compiled by XLA) for one shape only."""
    out = np.empty((len(images), *model.output_shape[1:]), dtype=np.float32)
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size]
        count = len(batch)
        if count < batch_size and start:  # pad a short last batch (inference mode: rows do not affect each other)
            batch = np.concatenate([batch, np.zeros((batch_size - count, *batch.shape[1:]), batch.dtype)])
        out[start:start + count] = np.asarray(model.predict_on_batch(batch))[:count]
    return out
