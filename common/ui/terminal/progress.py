"""Training progress drawn with rich: a Keras callback with one bar per epoch, and a study-wide display."""

import time

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.text import Text

from common.keras_setup import keras
from common.ui.terminal.messages import warn
from models.config.fields import shown
from models.config.names import flag


class _TimeLeft(ProgressColumn):
    """Rich's estimate of the time left, unless the task states its own (`left` field)."""

    def __init__(self):
        super().__init__()
        self.estimate = TimeRemainingColumn()

    def render(self, task):
        left = task.fields.get("left")
        return Text(left, style="progress.remaining") if left is not None else self.estimate.render(task)


def new_progress(console: Console) -> Progress:
    """The progress display: description, bar, status text (counts, losses), time left."""
    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[status]}"), _TimeLeft(),
                    console=console)


class RichProgress(keras.callbacks.Callback):
    """Show each epoch's batches, running loss, validation loss at its end, and the time left.

    When the console is not a terminal (a pipe, a log file), print one plain line per finished epoch instead.
    Given a `progress` display that someone else runs (a study's), draw the current epoch in it and nothing more.
    """

    def __init__(self, console: Console, label: str = "", progress: Progress | None = None):
        super().__init__()
        self.console = console
        self.label = label
        self.shared = progress  # a display owned by the caller, or None to run our own
        self.progress = None  # the live display, while training runs in a terminal
        self.task = None  # the current epoch's bar
        self.batches = 0  # batches finished in the current epoch
        self.started = 0.0

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()
        if self.shared is not None:
            self.progress = self.shared
        elif self.console.is_terminal:
            self.progress = new_progress(self.console)
            self.progress.start()

    def on_epoch_begin(self, epoch, logs=None):
        if self.progress is None:
            return
        if self.shared is not None and self.task is not None:
            self.progress.remove_task(self.task)  # in a shared display only the current epoch is shown
        self.task = self.progress.add_task(self._title(epoch), total=self.params.get("steps"), status="")
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches = batch + 1
        if self.progress is not None:
            self.progress.update(self.task, completed=self.batches, status=self._status(logs or {}))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.progress is not None:
            self.progress.update(self.task, status=self._status(logs))
        else:
            elapsed = time.perf_counter() - self.started
            self.console.print(f"{self._title(epoch)}  {_metrics(logs)}  ({elapsed:.0f} s)")

    def on_train_end(self, logs=None):
        if self.progress is None:
            return
        if self.shared is not None:
            if self.task is not None and self.task in self.progress.task_ids:
                self.progress.remove_task(self.task)
        else:
            self.progress.stop()
        self.progress = None
        self.task = None

    def _title(self, epoch: int) -> str:
        title = f"{self.label}, " if self.label else ""
        return f"{title}epoch {epoch + 1}/{self.params['epochs']}"

    def _status(self, logs: dict) -> str:
        steps = self.params.get("steps")
        return f"{self.batches}/{steps}  {_metrics(logs)}" if steps else _metrics(logs)


class StudyProgress:
    """A study's or sweep's progress: one bar over every run to train, weighted by each run's expected cost, with the
    runs done and the time left, and the current run's epoch below it. Without a terminal, one line per finished
    run. `opening`: the line said once the plan has been checked, before anything trains."""

    def __init__(self, console: Console, name: str = "study", opening: str = ""):
        self.console = console  # name: what the display calls the plan ("study", "sweep")
        self.name = name
        self.opening = opening
        self.progress = None  # the live display, in a terminal
        self.task = None
        self.costs = {}  # expected cost of each run still to train
        self.total = self.done = 0.0  # cost of all the runs to train, and of those finished
        self.count = self.planned = 0  # runs finished (reused ones included) and planned
        self.started = 0.0
        self.workers = {}  # with workers: each one's line in the display, by worker number

    def begin(self, todo: list, costs: list[float], reused: int, planned: int) -> None:
        self.costs = dict(zip(todo, costs))
        self.total = float(sum(costs))
        self.done = 0.0
        self.count = reused
        self.planned = planned
        self.started = time.perf_counter()
        if self.opening:
            self.console.print(self.opening)
        if reused:
            self.console.print(f"Reusing {reused} of {planned} runs from the run log; training {len(todo)}.")
        if todo and self.console.is_terminal:
            self.progress = new_progress(self.console)
            self.progress.start()
            self.task = self.progress.add_task(self.name, total=self.total, status=self._runs(), left="")

    def callbacks_for(self, planned):
        """The Keras callbacks of one run's stages: its epoch bar in the study's display (none without one)."""
        if self.progress is not None:
            self.progress.update(self.task, description=f"{self.name}: {_describe(planned)}")
        return lambda stage="": [RichProgress(self.console, stage, self.progress)] if self.progress is not None else []

    def working(self, worker: int, planned, stage: str, epoch: int, epochs: int, logs: dict) -> None:
        """A line per worker under the bar: the run it trains, its stage and epoch, the epoch's metrics."""
        if self.progress is None:
            return
        where = f"{stage}, " if stage else ""
        fields = dict(description=f"worker {worker}: {_describe(planned)}", total=epochs or 1, completed=epoch,
                      status=f"{where}epoch {epoch}/{epochs}  {_metrics(logs)}" if epochs else "starting", left="")
        if worker in self.workers:
            self.progress.update(self.workers[worker], **fields)
        else:
            self.workers[worker] = self.progress.add_task(**fields)

    def finished(self, planned, row: dict) -> None:
        self.done += self.costs.get(planned, 0.0)
        self.count += 1
        left = self._left()
        line = f"run {self.count}/{self.planned}: {_describe(planned)}: {_result(row)} ({row['wall_time']:.0f} s)"
        if self.progress is not None:
            self.progress.update(self.task, completed=self.done, status=self._runs(), left=left)
            self.console.print(line)
        else:
            self.console.print(f"{line}; {left}" if left else line)

    def warn(self, message: str) -> None:
        warn(self.console, message)

    def end(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
            self.workers = {}

    def _runs(self) -> str:
        return f"runs {self.count}/{self.planned}"

    def _left(self) -> str:
        """'about 12 min left', from the time so far and the expected cost of what remains."""
        if not self.done or self.done >= self.total:
            return ""
        seconds = (time.perf_counter() - self.started) / self.done * (self.total - self.done)
        return f"about {seconds / 60:.0f} min left" if seconds >= 90 else f"about {seconds:.0f} s left"


def _describe(planned) -> str:
    """'100 labels, repeat 2, joint'; 'fc_units 32, repeat 1' in a sweep."""
    values = [f"{value} labels" if value else "all labels" for name, value in planned.values
              if name == "label_budget"] + [f"{flag(name)[2:]} {shown(value)}" for name, value in planned.values
                                            if name != "label_budget"]
    return ", ".join([*values, f"repeat {planned.repeat}", *([planned.arm] if planned.arm else [])])


def _result(row: dict) -> str:
    """What a finished run of a plan scored: its test accuracy (classifier) or validation loss (autoencoder)."""
    if row.get("test_accuracy") is not None:
        return f"test accuracy {row['test_accuracy']:.4f}"
    return f"val_loss {row['val_loss']:.6f}"


def _metrics(logs: dict) -> str:
    """'loss 0.0123 val_loss 0.0130 acc 0.91' from whichever of the known metrics are in the logs."""
    names = {"loss": "loss", "val_loss": "val_loss", "accuracy": "acc", "val_accuracy": "val_acc"}
    return " ".join(f"{short} {logs[name]:.4f}" for name, short in names.items() if name in logs)
