"""Trials that train nothing, for the tests of workers (tests/test_parallel.py): importable in a worker process
without TensorFlow, so that a worker starts in a moment."""

import os
import signal
import time
from pathlib import Path

from common.study.trials import AUTOENCODER_IDENTITY
from common.tracking.run_log import new_run_id, run_row

LONG_RUN = 120  # seconds a run with 64 filters takes


class FakeTrials:
    """Trains nothing: a row per run with the process that made it. The first run with 8 filters kills its own
    worker (SIGKILL) once, and so does the first with 32; with `fail`, runs with 16 filters always raise; runs with
    64 filters take two minutes."""

    identity, scored = AUTOENCODER_IDENTITY, "val_loss"

    def __init__(self, folder: str, fail: bool = False):
        self.folder, self.fail = Path(folder), fail

    def check(self, plan):
        pass

    def cost(self, plan, planned) -> float:
        return 1.0

    def train(self, plan, planned, context, reporter) -> dict:
        config = plan.config_of(planned)
        killed = self.folder / ("killed" if config.filters == 8 else f"killed-{config.filters}")
        if config.filters in (8, 32) and planned.repeat == 1 and not killed.exists():
            killed.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        if config.filters == 16 and self.fail:
            raise RuntimeError("out of memory for 16 filters")
        if config.filters == 64:
            (self.folder / f"running-64-{planned.seed}").touch()  # the long run has begun
            time.sleep(LONG_RUN)
            (self.folder / f"finished-64-{planned.seed}").touch()  # a long run that was waited for
        metrics = {"loss": 1 / config.filters, "val_loss": 1 / config.filters, "interrupted": ""}
        values = {**context, "seed": planned.seed, "wall_time": 0.0, "device": f"process {os.getpid()}"}
        return run_row(config, metrics, values, new_run_id())


def fake_trials(folder: str, fail: bool) -> FakeTrials:
    return FakeTrials(folder, fail)
