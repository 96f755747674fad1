"""Test accuracy against training time, measured inside a run without changing it: every CHECKPOINT_STEPS steps
the run's batch-normalisation statistics are estimated again and the test set predicted (neither touches the
weights, the optimizer or the random streams the run draws from), and (step, minutes of training so far,
accuracy) is kept. The time spent measuring is left out of the minutes."""

import time

from common.keras_setup import keras

CHECKPOINT_STEPS = 250  # steps between measurements


class Checkpoints(keras.callbacks.Callback):
    """Calls `measure(model) -> accuracy` every `every` training steps (counted across the epochs of the fit it is
    given to) and keeps `points`: (step, minutes of training, accuracy)."""

    def __init__(self, measure, every: int = CHECKPOINT_STEPS):
        super().__init__()
        self.measure, self.every = measure, every
        self.points: list[tuple[int, float, float]] = []
        self.step, self.started, self.measuring = 0, 0.0, 0.0

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.every == 0:
            began = time.perf_counter()
            accuracy = float(self.measure(self.model))
            minutes = (began - self.started - self.measuring) / 60
            self.measuring += time.perf_counter() - began
            self.points.append((self.step, round(minutes, 3), accuracy))
