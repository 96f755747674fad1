"""What the session, the sweeps and the study need of a program, declared once: its data, log, figures and
training environment; how it checks, trains, describes and draws a run; its menu entries. The autoencoder program
and the classifier program (autoencoder_program.py, classifier_program.py) fill it in. As Keras' Callback does, the
base declares every hook; those with a sensible default (no menu entries of its own, nothing to do after a single
run) are no-ops here and a program overrides only what it uses.
"""

from abc import ABC, abstractmethod
from pathlib import Path

import pandas as pd
from rich.console import Console

from common.tracking.run_log import Column, RunLog
from common.ui.plots.figures import Figures
from common.ui.terminal.tables import WayReport
from models.training.environment import TrainingEnvironment
from models.training.version import training_version


class Program(ABC):
    """One program's side of a session, made from its parsed arguments (`args`) and its console."""

    config_type: type  # its hyperparameters' dataclass (models/config.py)
    model_name: str  # what it trains, as files and messages call it: "autoencoder", "classifier"
    log_name: str  # its run log's file name under --out
    columns: list[Column]  # its run log's columns (common/tracking/schema.py)
    sweep_metrics: tuple[str, ...]  # what a sweep's table and graphs show of each run

    def __init__(self, args, console: Console):
        self.args = args
        self.console = console
        self.log = RunLog(Path(args.out) / self.log_name, self.columns)
        self.figures = Figures(args.out, self.model_name, console, show=not args.no_show)
        self.environment = TrainingEnvironment(args.xla, args.precision, Path(args.out) / "tensorboard"
                                               if args.tensorboard else None, WayReport(console))
        self.environment.check()  # a precision this machine cannot compute in: refused before the data is read
        self.dataset: Path = Path(args.dataset).resolve()  # the training images, as the log records them
        self.count = 0  # images read from it (after --limit)

    def start(self, can_ask: bool) -> bool:
        """Anything to settle before the first run (asking when `can_ask`); False when the user backs out."""
        return True

    def proposals(self, said: dict) -> dict:
        """Values the program proposes for the settings left unsaid, given what was said (flat names)."""
        return {}

    @abstractmethod
    def check(self, config) -> None:
        """Raise ConfigError (naming the fields refused) for a configuration this program cannot train here."""

    @abstractmethod
    def train(self, config, run_id: str):
        """Train one run with the program's seed, its progress drawn in the terminal; its TrainedRun."""

    @abstractmethod
    def results(self, run) -> dict:
        """What a run's summary shows of its results, by label."""

    @abstractmethod
    def context(self) -> dict:
        """Where a run came from, for its log row: the data and split, the seed, the devices, ..."""

    @abstractmethod
    def graphs(self, session) -> list[Path]:
        """The menu's figures, written; their paths."""

    @abstractmethod
    def trials(self):
        """How a sweep (or study) checks, prices, trains and logs this program's runs (common/study/trials.py)."""

    @abstractmethod
    def worker_factory(self) -> tuple:
        """What a worker process builds its trials with: a module-level function and its one argument."""

    def menu_items(self, session) -> list:
        """The program's own entries of the menu: (label, action) pairs."""
        return []

    def after_single_run(self, session) -> None:  # noqa: B027  (a hook with nothing to do by default)
        """What follows a run without the menu (--no-menu), before the model is saved."""

    def origin(self) -> dict:
        """What every run's log row says of where it came from, whatever the program: the data, the seed and its
        split, the devices, the version of the training code."""
        return {"dataset": str(self.dataset), "images": self.count, "seed": self.args.seed,
                "val_split": self.args.val_split, "split_seed": self.args.seed, "val_images": self.val_images(),
                "device": self.environment.placement().description, "recipe_version": training_version()}

    def val_images(self) -> int:
        """How many images a run validates on."""
        return len(self.val_x)

    def same_data(self, runs: pd.DataFrame) -> pd.DataFrame:
        """The finished runs of a log trained on this program's data."""
        return runs[(runs["dataset"] == str(self.dataset)) & (runs["images"] == self.count)
                    & (runs["interrupted"].fillna("") != "yes")]


def image_shape(pixels) -> str:
    """The shape of the images a model takes, as logs and sidecars record it: '28x28x1'."""
    return "x".join(map(str, pixels.shape[1:]))
