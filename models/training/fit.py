"""Fitting a compiled model while keeping every finished epoch, even when the user presses Ctrl-C."""

import time
from dataclasses import dataclass, field

import numpy as np

from common import phases
from common.interrupts import ctrl_c_noted
from common.keras_setup import keras, tf
from models.compute.tracing import build_optimizer
from models.training import run_backup
from models.training.batch_norm import Calibration
from models.training.batches import CLOCK, PREDICT_BATCH, batches
from models.training.optimizers import MIN_RATE, PLATEAU_EPOCHS, PLATEAU_FACTOR

STEPS = "training steps"  # the phases of an epoch
VALIDATION = "validation"


@dataclass
class FitResult:
    """What one call to `fit` produced, however it ended."""
    history: dict[str, list[float]] = field(default_factory=dict)  # metric name -> value per finished epoch
    seconds: float = 0.0  # wall time spent in fit
    interrupted: bool = False  # Ctrl-C stopped it before the last epoch
    best_epoch: int | None = None  # with early stopping: the epoch whose weights the model kept (0-based)

    @property
    def epochs_done(self) -> int:
        return len(next(iter(self.history.values()), []))

    @property
    def final_epoch(self) -> int:
        """The epoch (0-based) whose weights the model ends with: the best one with early stopping, else the last."""
        return self.best_epoch if self.best_epoch is not None else self.epochs_done - 1


class EpochRecorder(keras.callbacks.Callback):
    """Append each finished epoch's logs to a history dict."""

    def __init__(self, history: dict):
        super().__init__()
        self.history = history

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        for name, value in logs.items():
            self.history.setdefault(name, []).append(float(value))


class EpochStart(keras.callbacks.Callback):
    """Tell the seeded orders of rows which epoch begins (batches.py: an epoch's batches drawn from the seed and
    the epoch)."""

    def on_epoch_begin(self, epoch, logs=None):
        CLOCK.set(epoch)


class PhaseClock(keras.callbacks.Callback):
    """Count each epoch's training steps and its validation as phases (common/phases.py)."""

    def on_epoch_begin(self, epoch, logs=None):
        phases.enter(STEPS)

    def on_test_begin(self, logs=None):
        phases.enter(VALIDATION)

    def on_test_end(self, logs=None):
        phases.leave(VALIDATION)

    def on_epoch_end(self, epoch, logs=None):
        phases.leave(STEPS)


class _StopWhenAsked(keras.callbacks.Callback):
    """Raise KeyboardInterrupt at the next batch boundary once Ctrl-C has been noted.

    Python raises KeyboardInterrupt wherever the main thread happens to be; at an epoch boundary that is often a
    destructor (the previous epoch's data iterator), where Python prints the exception and carries on, and the
    user's Ctrl-C is lost. Raised here instead, it always ends `fit`.
    """

    def __init__(self):
        super().__init__()
        self.asked = False

    def ask(self) -> None:
        self.asked = True

    def on_train_batch_end(self, batch, logs=None):
        self._check()

    def on_test_batch_end(self, batch, logs=None):
        self._check()

    def _check(self):
        if self.asked:
            raise KeyboardInterrupt


def _stopping_callbacks(patience: int, plateau: bool) -> tuple[list, object]:
    """The callbacks that halve the rate on a plateau and stop early (restoring the best weights), as asked; and
    the early stopper itself (None without patience)."""
    callbacks = []
    stopper = None
    if plateau:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=PLATEAU_FACTOR,
                                                           patience=PLATEAU_EPOCHS, min_lr=MIN_RATE))
    if patience:
        stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
        callbacks.append(stopper)
    return callbacks, stopper


def fit(model, x, y, *, validation_data, epochs: int, batch_size: int | None, callbacks=(),
        calibration: Calibration | None = None, patience: int = 0, plateau: bool = False,
        seed: int | None = None) -> FitResult:
    """Fit quietly with the given callbacks; Ctrl-C ends it and keeps the epochs already finished.
    `x`, `y` and `validation_data` are in-memory arrays (`y` None: an autoencoder's targets are its inputs), fed
    through pipelines of our own (models/training/batches.py: no idle wait when an iterator is dropped), the
    training rows reshuffled every epoch in an order seeded by `seed` (drawn from NumPy's global generator, which
    `keras.utils.set_random_seed` seeds, when None); or `x` is a ready dataset of batches and `validation_data`
    one too (then `y` and `batch_size` are None). With a `calibration`, batch-normalisation statistics are
    re-estimated before each validation and once more at the end, so the model returned, its validation figures
    and everything computed from it later use statistics that match its weights. With `patience`, training stops
    after that many epochs without a better val_loss and the model keeps the weights of its best epoch
    (`best_epoch`); with `plateau`, the learning rate is halved after 2 such epochs."""
    if not isinstance(x, tf.data.Dataset):
        seed = int(np.random.randint(2**31 - 1)) if seed is None else seed
        x = batches(x, y, batch_size, seed=seed)
        y = None
        validation_data = batches(*validation_data, PREDICT_BATCH)
    build_optimizer(model)
    part = run_backup.current().next_part() if run_backup.current() is not None else None
    if part is not None and (ended := part.finished(model)) is not None:  # this fit ended in an earlier start
        return FitResult(history=ended["history"], seconds=ended["seconds"])
    before, epoch_seconds = part.started() if part is not None else ({}, [])
    result = FitResult(history={name: list(values) for name, values in before.items()})
    watcher = _StopWhenAsked()
    extra, stopper = _stopping_callbacks(patience, plateau)
    extra = [calibration, *extra] if calibration is not None else extra
    backups = part.callbacks(before, epoch_seconds) if part is not None else []
    start = time.perf_counter()
    with ctrl_c_noted(watcher.ask):
        _fit_keeping_epochs(model, x, validation_data, epochs, result, stopper, callbacks,
                            [EpochStart(), *backups, PhaseClock(), watcher, *extra, EpochRecorder(result.history)])
        _finish(result, stopper, calibration)
        result.interrupted = result.interrupted or watcher.asked  # Ctrl-C during that last step counts too
    result.seconds = time.perf_counter() - start + sum(epoch_seconds)
    if part is not None and not result.interrupted:
        part.finish(model, result.history, result.seconds)
    return result


def _fit_keeping_epochs(model, x, validation_data, epochs: int, result: FitResult, stopper, callbacks, ours) -> None:
    """Keras' fit with our callbacks, then the caller's; Ctrl-C ends it and keeps the finished epochs."""
    try:
        model.fit(x, validation_data=validation_data, epochs=epochs, verbose=0, shuffle=False,
                  callbacks=[*ours, *callbacks])
    except KeyboardInterrupt:
        result.interrupted = True
        for callback in callbacks:  # let progress displays close as if training had ended
            callback.on_train_end({})
        if stopper is not None and stopper.best_weights is not None:  # keep the best epoch's weights here too
            model.set_weights(stopper.best_weights)
    finally:
        phases.leave(STEPS)  # an interrupted epoch's phase
        model._initial_epoch = None  # Keras keeps a restored epoch on the model: a later fit would start there
        CLOCK.set(0)  # batches drawn outside a fit: as in a first epoch


def _finish(result: FitResult, stopper, calibration: Calibration | None) -> None:
    """After `fit`: note the epoch early stopping kept, and re-estimate the statistics if the weights moved on
    since the last validation (after an interruption); a second Ctrl-C keeps those of the last validation."""
    if stopper is not None and stopper.best_weights is not None:
        result.best_epoch = min(stopper.best_epoch, result.epochs_done - 1)
    if calibration is not None:
        try:
            calibration.ensure()
        except KeyboardInterrupt:
            result.interrupted = True
