"""Callbacks of the ladder's reproduction (benchmarks/ladder_reference.py): the validation curve against time, one
progress bar over the whole run."""

import csv
import time
from pathlib import Path

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from common.keras_setup import keras

CURVE_COLUMNS = ("epoch", "minutes", "learning_rate", "loss", "denoising", "accuracy", "val_accuracy")


class Curve(keras.callbacks.Callback):
    """A row per epoch in a CSV file: minutes of training so far (across resumed sessions), the rate, the training
    losses and accuracy, and the validation accuracy. A file left by an interrupted run is continued."""

    def __init__(self, path: Path, resume: bool):
        super().__init__()
        self.path = path
        self.started = time.time()
        rows = list(csv.DictReader(path.open())) if resume and path.exists() else []
        self.rows = rows
        self.offset = float(rows[-1]["minutes"]) if rows else 0.0

    def on_train_begin(self, logs=None):
        self.started = time.time()
        with self.path.open("w", newline="") as f:
            writer = csv.DictWriter(f, CURVE_COLUMNS)
            writer.writeheader()
            writer.writerows(self.rows)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        row = {"epoch": epoch + 1, "minutes": round(self.minutes(), 3),
               "learning_rate": f"{float(self.model.optimizer.learning_rate.numpy()):.6g}",
               **{k: f"{float(logs[k]):.5f}" for k in CURVE_COLUMNS[3:] if k in logs}}
        self.rows.append(row)
        with self.path.open("a", newline="") as f:
            csv.DictWriter(f, CURVE_COLUMNS).writerow(row)

    def minutes(self) -> float:
        return self.offset + (time.time() - self.started) / 60


class RunProgress(keras.callbacks.Callback):
    """One bar over every step of the run with the time left, the last validation accuracy beside it; without a
    terminal, a line per epoch."""

    def __init__(self, total_steps: int):
        super().__init__()
        self.total = total_steps
        self.progress = None
        self.task = None
        self.status = ""

    def on_train_begin(self, logs=None):
        self.progress = Progress(TextColumn("ladder"), BarColumn(), TextColumn("{task.fields[status]}"),
                                 TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn())
        if self.progress.console.is_terminal:
            self.progress.start()
            self.task = self.progress.add_task("ladder", total=self.total, status="")

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.first_step = epoch * self.params["steps"]

    def on_train_batch_end(self, batch, logs=None):
        if self.task is not None:
            self.progress.update(self.task, completed=self.first_step + batch + 1,
                                 status=f"epoch {self.epoch + 1}/{self.params['epochs']} {self.status}")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.status = f"val_accuracy {logs.get('val_accuracy', float('nan')):.4f}"
        if self.task is None:
            print(f"epoch {epoch + 1}/{self.params['epochs']}: loss {logs.get('loss', float('nan')):.4f}, "
                  f"denoising {logs.get('denoising', float('nan')):.4f}, {self.status}", flush=True)

    def on_train_end(self, logs=None):
        if self.task is not None:
            self.progress.stop()
