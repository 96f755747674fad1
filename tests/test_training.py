"""Fitting: Ctrl-C (a real SIGINT) ends training at the next batch, keeping the finished epochs; no idle waits
between epochs; validation figures that are the returned model's."""

import os
import signal

import numpy as np
import pytest

from common.keras_setup import keras
from models.training.batches import batches, predict
from models.training.fit import EpochStart, fit


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


def test_batches_cover_every_row_once_per_epoch_in_a_seeded_order():
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    y = np.arange(10, dtype=np.int64)
    first = [b for _, b in batches(x, y, 4, seed=3).as_numpy_iterator()]
    assert sorted(np.concatenate(first).tolist()) == list(range(10)) and [len(b) for b in first] == [4, 4, 2]
    again = [b for _, b in batches(x, y, 4, seed=3).as_numpy_iterator()]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    rows, labels = next(batches(x, y, 10).as_numpy_iterator())
    assert np.array_equal(rows[:, 0], labels.astype(np.float32))


class _SigintAtValidation(keras.callbacks.Callback):
    """Send this process SIGINT when the validation of one epoch starts."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch, self.current = epoch, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_test_begin(self, logs=None):
        if self.current == self.epoch:
            os.kill(os.getpid(), signal.SIGINT)


def test_sigint_during_validation_keeps_the_epochs_finished_before_it():
    x = np.random.default_rng(0).random((400, 4)).astype("float32")
    result = fit(_model(), x, x[:, :1], validation_data=(x[:200], x[:200, :1]), epochs=50, batch_size=10,
                 callbacks=[_SigintAtValidation(2)])
    assert result.interrupted and result.epochs_done == 2
    assert len(result.history["val_loss"]) == 2


def test_validation_figures_equal_evaluating_the_returned_model():
    rng = np.random.default_rng(0)
    x = rng.random((300, 6)).astype("float32")
    y = (x.sum(axis=1) > 3).astype("int64")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.BatchNormalization(), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    result = fit(model, x[:200], y[:200], validation_data=(x[200:], y[200:]), epochs=3, batch_size=16)
    probabilities = predict(model, x[200:])
    assert np.argmax(probabilities, axis=1).tolist() == np.argmax(model(x[200:], training=False), axis=1).tolist()
    accuracy = float(np.mean(np.argmax(probabilities, axis=1) == y[200:]))
    loss = float(-np.mean(np.log(probabilities[np.arange(100), y[200:]])))
    assert result.history["val_accuracy"][-1] == pytest.approx(accuracy, abs=1e-6)
    assert result.history["val_loss"][-1] == pytest.approx(loss, rel=1e-4)


def test_predict_pads_a_short_last_batch_and_returns_every_row():
    x = np.random.default_rng(1).random((70, 4)).astype("float32")
    model = _model()
    assert np.allclose(predict(model, x, batch_size=32), model.predict(x, verbose=0), atol=1e-6)
    assert predict(model, x[:0]).shape == (0, 1)


def _count_traces(model) -> dict:
    """Count how often TensorFlow traces `model`'s training and test steps (each trace calls them once in Python)."""
    counts = {"train": 0, "test": 0}
    train_step, test_step = model.train_step, model.test_step

    def train(data):
        counts["train"] += 1
        return train_step(data)

    def test(data):
        counts["test"] += 1
        return test_step(data)

    model.train_step, model.test_step = train, test
    return counts


def test_fit_traces_the_training_step_once_and_trains_as_keras_alone_does():
    """Keras creates the optimizer's variables in the first step, which makes TensorFlow trace that step twice;
    fit creates them first (seconds saved per fit) with the same result."""
    rng = np.random.default_rng(0)
    x = rng.random((96, 6)).astype("float32")
    y = (x.sum(axis=1) > 3).astype("int64")
    weights = []
    for ours in (True, False):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=[keras.metrics.SparseCategoricalAccuracy()])  # an object, as the programs give it
        counts = _count_traces(model)
        if ours:
            fit(model, x[:64], y[:64], validation_data=(x[64:], y[64:]), epochs=2, batch_size=16, seed=3)
            assert counts == {"train": 1, "test": 1}
        else:
            model.fit(batches(x[:64], y[:64], 16, seed=3), validation_data=batches(x[64:], y[64:], 32),
                      epochs=2, verbose=0, shuffle=False, callbacks=[EpochStart()])  # each epoch's own order
            assert counts["train"] == 2  # Keras alone traces twice: what the test guards against
        weights.append(model.get_weights())
    for ours, theirs in zip(*weights):
        np.testing.assert_array_equal(ours, theirs)
