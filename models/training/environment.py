"""Where and how a program's runs train: the devices (found once), the way each run computes (precision, XLA),
the scope models are built in, the batch per step, and each stage's callbacks (TensorBoard logs when asked for)."""

from dataclasses import asdict, replace
from pathlib import Path


class TrainingEnvironment:
    """One per program. `xla` and `precision` are the flags' values ("auto", ...); `tensorboard`, a folder for
    TensorBoard logs or None; `reporter` says what the way chooser times (models/training/way_choice.py)."""

    def __init__(self, xla: str = "auto", precision: str = "auto", tensorboard: Path | None = None, reporter=None):
        self.xla, self.precision, self.tensorboard, self.reporter = xla, precision, tensorboard, reporter
        self._placement = None  # found at the first use: it needs TensorFlow
        self._ways = None

    def placement(self):
        """The CPU, one GPU or several (models/training/devices.py)."""
        if self._placement is None:
            from models.training.devices import detect

            self._placement = detect()
        return self._placement

    def ways(self):
        """The chooser of each run's way of computing."""
        if self._ways is None:
            from models.training.way_choice import WayChooser

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
        from models.training.devices import scope

        return scope(self.placement())

    def train(self, config, shape, steps, timer, fit):
        """Train one run of `config` here: the config scaled to the devices (`scaled`), the way it computes chosen for
        a model of shape `shape(scaled)` (from the flags, the cache, or by timing the candidates `timer(scaled)`
        makes, for a run of `steps(scaled)` steps), then `fit(scaled, way, candidates)`. The run it returns says how
        it computed."""
        scaled = self.scaled(config)
        with self.scope():
            candidates = timer(scaled)
            way = self.way(shape(scaled), steps(scaled), candidates)
            run = fit(scaled, way, candidates)
        run.compute = self.describe(way)
        return run

    def scaled(self, config):
        """The config to train with: with several GPUs, each takes the configured batch."""
        return replace(config, batch_size=self.placement().batch_size(config.batch_size))

    def callbacks_for(self, base, run_id: str, config):
        """`base(stage) -> callbacks` plus, with TensorBoard logs asked for, the run's logs for each stage."""
        if self.tensorboard is None:
            return base
        from models.training.tensorboard_log import tensorboard_callbacks

        return lambda stage="": [*base(stage), *tensorboard_callbacks(self.tensorboard, run_id, asdict(config),
                                                                      stage)]
