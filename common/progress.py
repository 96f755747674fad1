"""A Keras callback that draws training progress with rich: one bar per epoch with its loss and time left."""

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from common.keras_setup import keras


class RichProgress(keras.callbacks.Callback):
    """Show each epoch's batches, running loss, validation loss at its end, and the time left.

    When the console is not a terminal (a pipe, a log file), print one plain line per finished epoch instead.
    """

    def __init__(self, console: Console, label: str = ""):
        super().__init__()
        self.console = console
        self.label = label
        self.progress = None  # the live display, while training runs in a terminal
        self.task = None  # the current epoch's bar
        self.started = 0.0

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()
        if not self.console.is_terminal:
            return
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[metrics]}"), TimeRemainingColumn(),
                                 console=self.console)
        self.progress.start()

    def on_epoch_begin(self, epoch, logs=None):
        if self.progress is not None:
            self.task = self.progress.add_task(self._title(epoch), total=self.params.get("steps"), metrics="")

    def on_train_batch_end(self, batch, logs=None):
        if self.progress is not None:
            self.progress.update(self.task, completed=batch + 1, metrics=_metrics(logs or {}))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.progress is not None:
            self.progress.update(self.task, metrics=_metrics(logs))
        else:
            elapsed = time.perf_counter() - self.started
            self.console.print(f"{self._title(epoch)}  {_metrics(logs)}  ({elapsed:.0f} s)")

    def on_train_end(self, logs=None):
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def _title(self, epoch: int) -> str:
        title = f"{self.label}, " if self.label else ""
        return f"{title}epoch {epoch + 1}/{self.params['epochs']}"


def _metrics(logs: dict) -> str:
    """'loss 0.0123 val_loss 0.0130 acc 0.91' from whichever of the known metrics are in the logs."""
    names = {"loss": "loss", "val_loss": "val_loss", "accuracy": "acc", "val_accuracy": "val_acc"}
    return " ".join(f"{short} {logs[name]:.4f}" for name, short in names.items() if name in logs)
