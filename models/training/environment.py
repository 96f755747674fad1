"""Where and how a program's runs train: the devices (found once), the way each run computes (precision, XLA),
the scope models are built in, the batch per step, and each stage's callbacks (TensorBoard logs when asked for)."""

from dataclasses import replace
from pathlib import Path

from models.compute.devices import detect, scope
from models.compute.way_choice import WayChooser
from models.config.settings import flat


class TrainingEnvironment:
    """One per program. `xla` and `precision` are the flags' values ("auto", ...); `tensorboard`, a folder for
    TensorBoard logs or None; `reporter` says what the way chooser times (models/training/way_choice.py)."""

    def __init__(self, xla: str = "auto", precision: str = "auto", tensorboard: Path | None = None, reporter=None):
        self.xla = xla
        self.precision = precision
        self.tensorboard = tensorboard
        self.reporter = reporter
        self._placement = None  # found at the first use: it needs TensorFlow
        self._ways = None

    def placement(self):
        """The CPU, one GPU or several (models/training/devices.py)."""
        if self._placement is None:
            self._placement = detect()
        return self._placement

    def ways(self):
        """The chooser of each run's way of computing."""
        if self._ways is None:
            self._ways = WayChooser(self.xla, self.precision, self.placement(), self.reporter)
        return self._ways

    def check(self) -> None:
        """UserError for a precision this machine cannot compute in, before anything is trained."""
        self.ways().candidates()

    def way(self, shape: dict, steps: int, start):
        """The way to train a model of this `shape` for `steps` steps (its candidates made by `start` and timed,
        if need be)."""
        return self.ways().way(shape, steps, start)

    def describe(self, way) -> str:
        """'CPU, bfloat16, no XLA': for the summary and the log."""
        return way.describe(self.placement().device)

    def scope(self):
        """The context to build and train in: several GPUs share the work."""
        return scope(self.placement())

    def choose(self, trainer, config) -> tuple:
        """The way `trainer` (trainer.py) computes a run of `config` here, and the candidates timed to choose it
        (None when none were made): the trainer's own way, or one chosen for its shape and steps from the flags,
        the cache, or by timing its candidates."""
        way = trainer.fixed_way(config)
        if way is not None:
            return way, None
        candidates = trainer.candidates(config)
        return self.way(trainer.shape(config), trainer.steps(config), candidates), candidates

    def scaled(self, config):
        """The config to train with: with several GPUs, each takes the configured batch."""
        return replace(config, batch_size=self.placement().batch_size(config.batch_size))

    def callbacks_for(self, base, run_id: str, config):
        """`base(stage) -> callbacks` plus, with TensorBoard logs asked for, the run's logs for each stage."""
        if self.tensorboard is None:
            return base
        from models.training.tensorboard_log import tensorboard_callbacks  # TensorBoard: with --tensorboard only

        return lambda stage="": [*base(stage), *tensorboard_callbacks(self.tensorboard, run_id, flat(config),
                                                                      stage)]
