"""Runs that resume where they stopped: each `fit` of a run (a stage, a round) backs itself up at the end of every
epoch with Keras' `BackupAndRestore` (weights, the optimizer's state, the epoch) into a folder of its own under the
run's backup folder, and keeps its final weights and history once it ends. The same run started again skips the
fits that ended (their weights loaded) and resumes the one that was cut off at its last finished epoch; the
batches of every epoch are drawn from the run's seed and the epoch (batches.py), so the resumed run ends as an
uninterrupted one would. Whoever defines a run names its folder (`backing_up`) and removes it once the run is
logged (`discard`)."""

import contextlib
import json
import shutil
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from common.keras_setup import keras

FINAL = "final.weights.h5"  # a finished fit's weights
HISTORY = "history.json"  # a fit's epochs so far: {"history": ..., "seconds": ...}
KERAS = "keras"  # BackupAndRestore's own folder inside a fit's
SEEDS = "seeds.json"  # the states of the model's random generators at the last finished epoch
RUN = "run.json"  # the run's own record: how often it was resumed, the seconds it lost
PARTIAL_EVERY = 10.0  # seconds between notes of how far into its epoch a fit is


@dataclass
class RunBackup:
    """The backups of one run: a folder per fit, in the order the run makes them. `fingerprint`: what the run's
    backups must have been made by (its settings, the code's version, its data); a folder made by another is
    dropped, said once in `warnings`."""
    folder: Path  # the run's backup folder (beside its run log)
    fingerprint: str = ""  # e.g. a hash of the run's settings, the training code's version and the data
    parts: int = 0  # fits begun in this process
    resumed: bool = False  # a fit of this process found a backup to resume from
    warnings: list[str] = field(default_factory=list)  # what could not be used, said once by the caller

    def __post_init__(self):
        record = self.record()
        if self.folder.exists() and record.get("fingerprint", "") != self.fingerprint:
            self.warnings.append(f"the backup in {self.folder} was made by other settings, code or data: not used")
            self.discard()

    def next_part(self) -> "FitBackup":
        self.parts += 1
        return FitBackup(self, self.folder / f"fit-{self.parts}")

    def record(self) -> dict:
        """How often the run was resumed and the seconds it lost, kept across its starts."""
        path = self.folder / RUN
        fresh = {"fingerprint": self.fingerprint, "resumed": 0, "lost_seconds": 0.0}
        try:
            return {**fresh, **json.loads(path.read_text())} if path.exists() else fresh
        except (OSError, ValueError):
            return {**fresh, "fingerprint": None}

    def note_resumed(self, lost: float) -> None:
        """Count one more resumption of the run (once per start), losing `lost` seconds."""
        record = self.record()
        if not self.resumed:
            record["resumed"] += 1
        record["lost_seconds"] += lost
        self.resumed = True
        self._write(record)

    def begin(self) -> None:
        """Mark the folder as this run's (its fingerprint), before its first backup."""
        if not (self.folder / RUN).exists():
            self._write(self.record())

    def _write(self, record: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / RUN).write_text(json.dumps(record))

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class FitBackup:
    """The backup of one `fit` of a run."""
    run: RunBackup
    folder: Path

    def finished(self, model) -> dict | None:
        """The history and seconds of this fit if it ended in an earlier start, its final weights loaded into
        `model`; None otherwise (or where they cannot be read: said in the run's warnings)."""
        if not (self.folder / FINAL).exists():
            return None
        try:
            saved = json.loads((self.folder / HISTORY).read_text())
            model.load_weights(self.folder / FINAL)
        except (OSError, ValueError) as error:
            self.run.warnings.append(f"the backup in {self.folder} could not be read ({error}): trained again")
            shutil.rmtree(self.folder, ignore_errors=True)
            return None
        return saved

    def started(self) -> tuple[dict, list[float]]:
        """The epochs already done ({metric: values}) and each one's seconds, from the last start; a damaged
        backup is dropped (said in the run's warnings) and the fit starts afresh."""
        path = self.folder / HISTORY
        if not path.exists():
            return {}, []
        try:
            saved = json.loads(path.read_text())
            meta = self.folder / KERAS / "training_metadata.json"
            epochs = json.loads(meta.read_text())["epoch"] if meta.exists() else 0
        except (OSError, ValueError, KeyError) as error:
            self.run.warnings.append(f"the backup in {self.folder} could not be read ({error}): started afresh")
            shutil.rmtree(self.folder, ignore_errors=True)
            return {}, []
        history = {name: values[:epochs] for name, values in saved["history"].items()}
        self.run.note_resumed(sum(saved["epoch_seconds"][epochs:]) + saved.get("partial", 0.0))
        return history, saved["epoch_seconds"][:epochs]

    def callbacks(self, history: dict, epoch_seconds: list[float]) -> list:
        """The callbacks that keep this fit's backup: its epochs' history first, then Keras' backup."""
        self.run.begin()
        self.folder.mkdir(parents=True, exist_ok=True)
        return [_HistoryKeeper(self.folder / HISTORY, history, epoch_seconds), _SeedKeeper(self.folder / SEEDS),
                keras.callbacks.BackupAndRestore(str(self.folder / KERAS), delete_checkpoint=False)]

    def finish(self, model, history: dict, seconds: float) -> None:
        """Keep the ended fit's weights and history; its epochs' backup is no longer needed."""
        (self.folder / HISTORY).write_text(json.dumps({"history": history, "epoch_seconds": [], "seconds": seconds}))
        model.save_weights(self.folder / FINAL)
        shutil.rmtree(self.folder / KERAS, ignore_errors=True)


class _HistoryKeeper(keras.callbacks.Callback):
    """Write the fit's history (the epochs before this start and those since) and each epoch's seconds after
    every epoch, and every few seconds how far into the running epoch it is (what a stop would lose)."""

    def __init__(self, path: Path, before: dict, epoch_seconds: list[float]):
        super().__init__()
        self.path = path
        self.before = {name: list(values) for name, values in before.items()}
        self.epoch_seconds = list(epoch_seconds)
        self.start = self.written = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self.written > PARTIAL_EVERY:
            self._write(time.perf_counter() - self.start)

    def on_epoch_end(self, epoch, logs=None):
        for name, value in (logs or {}).items():
            self.before.setdefault(name, []).append(float(value))
        self.epoch_seconds.append(time.perf_counter() - self.start)
        self._write(0.0)

    def _write(self, partial: float) -> None:
        self.path.write_text(json.dumps({"history": self.before, "epoch_seconds": self.epoch_seconds,
                                         "partial": partial}))
        self.written = time.perf_counter()


class _SeedKeeper(keras.callbacks.Callback):
    """The states of the model's random generators (the ladder's noise, dropout, augmentation), which Keras'
    backup leaves out: written after every epoch, restored when the fit resumes."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path

    def _states(self) -> list:
        return [v for v in self.model.non_trainable_variables if v.path.endswith("seed_generator_state")]

    def on_train_begin(self, logs=None):
        if not self.path.exists():
            return
        with contextlib.suppress(OSError, ValueError):
            saved = json.loads(self.path.read_text())
            states = self._states()
            if len(saved) == len(states):
                for variable, value in zip(states, saved):
                    variable.assign(np.asarray(value, dtype=variable.dtype))

    def on_epoch_end(self, epoch, logs=None):
        self.path.write_text(json.dumps([np.asarray(v).tolist() for v in self._states()]))


_CURRENT: ContextVar[RunBackup | None] = ContextVar("run_backup", default=None)


@contextlib.contextmanager
def backing_up(folder: Path | None, fingerprint: str = "") -> Iterator[RunBackup | None]:
    """Every `fit` inside the block backs up under `folder` (None: no backups), a backup made with another
    `fingerprint` dropped."""
    backup = RunBackup(folder, fingerprint) if folder is not None else None
    token = _CURRENT.set(backup)
    try:
        yield backup
    finally:
        _CURRENT.reset(token)


def current() -> RunBackup | None:
    """The run being backed up, or None."""
    return _CURRENT.get()
