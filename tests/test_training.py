"""Fitting with Ctrl-C: a real SIGINT ends training at the next batch, keeping the finished epochs."""

import os
import signal

import numpy as np

from common.keras_setup import keras
from models.training import array_batches, fit


class _SigintAt(keras.callbacks.Callback):
    """Send this process SIGINT, as Ctrl-C in a terminal does, at the start of one epoch."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            os.kill(os.getpid(), signal.SIGINT)


def _model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_sigint_at_an_epoch_boundary_stops_training_and_keeps_finished_epochs():
    x = np.random.default_rng(0).random((40, 4)).astype("float32")
    before = signal.getsignal(signal.SIGINT)
    result = fit(_model(), x, x[:, :1], validation_data=(x[:8], x[:8, :1]), epochs=50, batch_size=10,
                 callbacks=[_SigintAt(2)])
    assert result.interrupted and result.epochs_done == 2
    assert signal.getsignal(signal.SIGINT) is before  # the usual Ctrl-C behaviour is back


def test_array_batches_cover_every_row_once_per_epoch_in_a_seeded_order():
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    y = np.arange(10, dtype=np.int64)
    first = [b for _, b in array_batches(x, y, 4, seed=3).as_numpy_iterator()]
    assert sorted(np.concatenate(first).tolist()) == list(range(10)) and [len(b) for b in first] == [4, 4, 2]
    again = [b for _, b in array_batches(x, y, 4, seed=3).as_numpy_iterator()]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    rows, labels = next(array_batches(x, y, 10).as_numpy_iterator())
    assert np.array_equal(rows[:, 0], labels.astype(np.float32))
