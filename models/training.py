"""Fitting a compiled model while keeping every finished epoch, even when the user presses Ctrl-C."""

import time
from dataclasses import dataclass, field

from common.keras_setup import keras


@dataclass
class FitResult:
    """What one call to `fit` produced, however it ended."""
    history: dict[str, list[float]] = field(default_factory=dict)  # metric name -> value per finished epoch
    seconds: float = 0.0  # wall time spent in fit
    interrupted: bool = False  # Ctrl-C stopped it before the last epoch

    @property
    def epochs_done(self) -> int:
        return len(next(iter(self.history.values()), []))


class EpochRecorder(keras.callbacks.Callback):
    """Append each finished epoch's logs to a history dict."""

    def __init__(self, history: dict):
        super().__init__()
        self.history = history

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        for name, value in logs.items():
            self.history.setdefault(name, []).append(float(value))


def fit(model, x, y, *, validation_data, epochs: int, batch_size: int, callbacks=()) -> FitResult:
    """Fit quietly with the given callbacks; Ctrl-C ends it and keeps the epochs already finished."""
    result = FitResult()
    start = time.perf_counter()
    try:
        model.fit(x, y, validation_data=validation_data, epochs=epochs, batch_size=batch_size, shuffle=True,
                  verbose=0, callbacks=[EpochRecorder(result.history), *callbacks])
    except KeyboardInterrupt:
        result.interrupted = True
        for callback in callbacks:  # let progress displays close as if training had ended
            callback.on_train_end({})
    result.seconds = time.perf_counter() - start
    return result
