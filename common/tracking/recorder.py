"""A program's runs in its run log: each appended the moment it ends, values filled in later (a test accuracy, a
saved path), and the last run remembered for saving and graphs."""

from dataclasses import dataclass, field

from common.errors import UserError
from common.tracking.run_log import RunLog, run_row
from models.config.settings import flat


@dataclass
class LastRun:
    """The last run a program trained, as it was recorded."""
    config: object  # its hyperparameters
    run: object  # its TrainedRun (model, history, metrics)
    run_id: str  # its id in the log
    context: dict  # where it came from: data, seed, devices, ...
    logged: bool  # whether its row reached the log
    saved: bool = False  # whether its model has been saved since
    extra: dict = field(default_factory=dict)  # values measured after training (the test accuracy)

    def metadata(self, kind: str) -> dict:
        """What a saved model's sidecar says of it."""
        return {"kind": kind, "hyperparameters": flat(self.config), "metrics": self.run.metrics(),
                **self.extra, **self.context, "run_id": self.run_id}


class RunRecorder:
    """Appends runs to one log and updates them; problems come back as warnings, never as lost models."""

    def __init__(self, log: RunLog):
        self.log = log
        self.last: LastRun | None = None

    def record(self, config, run, context: dict, run_id: str) -> list[str]:
        """Append the run's row (`flat(config) | run.metrics() | context`); remember it as the last run.
        Returns warnings: about the log file, or that the run could not be logged."""
        notes = []
        logged = True
        try:
            notes = self.log.append(run_row(config, run.metrics(), context, run_id))
        except UserError as e:  # the trained model is still here and can be saved
            notes = [f"the run was not logged: {e}"]
            logged = False
        self.last = LastRun(config, run, run_id, context, logged)
        return notes

    def update(self, values: dict) -> list[str]:
        """Fill in values of the last run's row (and keep them with it); warnings if the log cannot be rewritten."""
        self.last.extra.update(values)
        if not self.last.logged:
            return []  # its row never made it to the log: that was said when it happened
        try:
            self.log.update(self.last.run_id, values)
        except UserError as e:
            return [str(e)]
        return []

    def read(self):
        """The log's runs as a DataFrame, and warnings about lines skipped."""
        return self.log.read()
