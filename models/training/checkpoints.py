"""Validation accuracy against training time, measured inside a run without changing it: every CHECKPOINT_STEPS
steps, and once more when training ends, the run's batch-normalisation statistics are estimated again and its
validation images predicted (neither touches the weights, the optimizer or the random streams the run draws
from), and (step, minutes of training so far, accuracy) is kept. The time spent measuring is left out of the
minutes. The test set is never looked at along the way: it is scored once, at the end of the run."""

import time

from common.keras_setup import keras
from models.networks.ladder import Ladder
from models.training.batch_norm import calibrate
from models.training.ladder_training import LadderStatistics

CHECKPOINT_STEPS = 250  # steps between measurements


class Checkpoints(keras.callbacks.Callback):
    """Calls `measure(model) -> accuracy` every `every` training steps (counted across the epochs of the fit it is
    given to) and at its end, and keeps `points`: (step, minutes of training, accuracy)."""

    def __init__(self, measure, every: int = CHECKPOINT_STEPS):
        super().__init__()
        self.measure = measure
        self.every = every
        self.points: list[tuple[int, float, float]] = []
        self.step = 0
        self.started = 0.0
        self.measuring = 0.0

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.every == 0:
            self.point()

    def on_train_end(self, logs=None):
        if self.step and (not self.points or self.points[-1][0] != self.step):  # the end point, unless just taken
            self.point()

    def point(self) -> None:
        """Measure now, and keep the point."""
        began = time.perf_counter()
        accuracy = float(self.measure(self.model))
        minutes = (began - self.started - self.measuring) / 60
        self.measuring += time.perf_counter() - began
        self.points.append((self.step, round(minutes, 3), accuracy))


def estimate_statistics(model, images, batch_size: int) -> None:
    """A run's model's batch-normalisation statistics, estimated on `images` as its training estimates them: the
    ladder's levels, or the encoder of a classifier (or of joint training's model around one)."""
    if isinstance(model, Ladder):
        LadderStatistics(model, images, batch_size).ensure()
    else:
        calibrate(getattr(model, "encoder", None) or model.get_layer("encoder"), images, batch_size)
