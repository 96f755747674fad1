"""`--workers N`: a plan's runs in several processes, the log complete and without duplicates, a killed worker's run
tried again, a failing run reported, Ctrl-C, and Ray. A real sweep of the program on two workers, equal to one at a
time, and stopped by Ctrl-C in a terminal: tests/test_terminal_sessions.py."""

import importlib.util
import multiprocessing
import os
import queue
import signal
import time

import numpy as np
import pandas as pd
import pytest

from common.keras_setup import keras
from common.study.parallel import WorkerReporter, Workers
from common.study.plan import Plan
from common.study.ray_workers import RayWorkers
from common.study.runner import run_plan
from common.tracking.run_log import RunLog
from common.tracking.schema import AUTOENCODER
from models.config import AutoencoderConfig
from tests.fake_trials import FakeTrials, fake_trials

CONTEXT = {"dataset": "/data/train.gz", "images": 300, "val_split": 0.2, "split_seed": 1}
PLAN = Plan(AutoencoderConfig(layers=2, filters=4, epochs=1, batch_size=32), (("filters", (4, 8, 16)),), 2, 1)


class Warnings:
    """A reporter that keeps its warnings, and which worker said it trained what."""

    def __init__(self):
        self.warnings, self.news = [], []

    def begin(self, *args):
        pass

    def callbacks_for(self, planned):
        return lambda stage="": []

    def working(self, worker, planned, stage, epoch, epochs, logs):
        self.news.append((worker, planned, stage, epoch, epochs))

    def finished(self, planned, row):
        pass

    def warn(self, message):
        self.warnings.append(message)

    def end(self):
        pass


def test_two_workers_log_every_run_once_and_a_killed_workers_run_is_tried_again(tmp_path):
    log = RunLog(tmp_path / "loss_values.csv", AUTOENCODER)
    workers, reporter = Workers(2, fake_trials, (str(tmp_path), False)), Warnings()
    outcome = run_plan(PLAN, FakeTrials(str(tmp_path)), log=log, context=CONTEXT, workers=workers, reporter=reporter)
    assert (tmp_path / "killed").exists()  # a worker was killed mid-run
    assert not outcome.interrupted and outcome.trained == 6
    logged = pd.read_csv(tmp_path / "loss_values.csv")
    assert sorted(zip(logged["Filters/Layer"], logged["Seed"])) == [(4, 1), (4, 2), (8, 1), (8, 2), (16, 1), (16, 2)]
    assert logged["Run_ID"].nunique() == 6 and logged["Device"].nunique() >= 2  # several processes trained
    started = [(worker, planned) for worker, planned, stage, epoch, epochs in reporter.news if not epochs]
    assert {worker for worker, _ in started} <= {1, 2} and set(PLAN.runs()) <= {p for _, p in started}
    again = run_plan(PLAN, FakeTrials(str(tmp_path)), log=log, context=CONTEXT, workers=workers)
    assert again.reused == 6 and again.trained == 0 and len(pd.read_csv(tmp_path / "loss_values.csv")) == 6


def test_a_run_that_fails_twice_is_reported_and_the_others_are_kept(tmp_path):
    (tmp_path / "killed").touch()  # no worker is killed here
    reporter = Warnings()
    outcome = run_plan(PLAN, FakeTrials(str(tmp_path)), log=RunLog(tmp_path / "log.csv", AUTOENCODER),
                       context=CONTEXT, workers=Workers(2, fake_trials, (str(tmp_path), True)), reporter=reporter)
    assert outcome.trained == 4 and sorted(outcome.rows["filters"].tolist()) == [4, 4, 8, 8]
    assert len(reporter.warnings) == 2 and all("failed twice (RuntimeError: out of memory for 16 filters)" in w
                                               for w in reporter.warnings)


class CtrlCAfterTwoRuns(Warnings):
    """Presses Ctrl-C, as a terminal would (the workers get it too), as soon as the second run is in."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def finished(self, planned, row):
        self.count += 1
        if self.count == 2:
            for worker in multiprocessing.active_children():
                os.kill(worker.pid, signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_just_after_runs_finish_stops_every_worker_and_keeps_those_runs(tmp_path, capfd):
    (tmp_path / "killed").touch()
    plan = Plan(AutoencoderConfig(layers=2, filters=4, epochs=1, batch_size=32), (("filters", (4, 64)),), 2, 1)
    log = RunLog(tmp_path / "loss_values.csv", AUTOENCODER)
    start = time.perf_counter()
    outcome = run_plan(plan, FakeTrials(str(tmp_path)), log=log, context=CONTEXT, reporter=CtrlCAfterTwoRuns(),
                       workers=Workers(2, fake_trials, (str(tmp_path), False)))
    assert outcome.interrupted and outcome.trained == 2
    assert time.perf_counter() - start < 60  # the two-minute runs were stopped, not waited for
    assert pd.read_csv(tmp_path / "loss_values.csv")["Filters/Layer"].tolist() == [4, 4]
    assert multiprocessing.active_children() == []  # no worker left running
    assert "KeyboardInterrupt" not in capfd.readouterr().err  # the workers left Ctrl-C to the parent


def test_a_worker_tells_the_parent_each_epoch_it_finishes():
    news = queue.Queue()
    reporter = WorkerReporter(news, slot=1)
    planned = PLAN.runs()[0]
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((8, 2)), np.zeros((8, 1)), epochs=2, verbose=0,
              callbacks=reporter.callbacks_for(planned)("stage 2"))
    told = [news.get_nowait() for _ in range(news.qsize())]
    assert [item[:5] for item in told] == [(1, planned, "stage 2", 1, 2), (1, planned, "stage 2", 2, 2)]
    assert set(told[-1][5]) == {"loss"} and told[-1][5]["loss"] == 0.0


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                    reason="Ray is not installed (pip install -r requirements-ray.txt; the dev requirements have it)")
def test_a_plan_on_a_local_ray_instance_survives_a_killed_actor_and_reports_a_failing_run(tmp_path):
    reporter = Warnings()
    log = RunLog(tmp_path / "loss_values.csv", AUTOENCODER)
    outcome = run_plan(PLAN, FakeTrials(str(tmp_path)), log=log, context=CONTEXT, reporter=reporter,
                       workers=RayWorkers("local", 2, fake_trials, (str(tmp_path), True)))
    assert (tmp_path / "killed").exists()  # an actor's process was killed mid-run, and its run tried again
    logged = pd.read_csv(tmp_path / "loss_values.csv")
    assert sorted(zip(logged["Filters/Layer"], logged["Seed"])) == [(4, 1), (4, 2), (8, 1), (8, 2)]
    assert outcome.trained == 4 and logged["Run_ID"].nunique() == 4
    assert len(reporter.warnings) == 2 and all("failed twice (RuntimeError: out of memory" in w
                                               for w in reporter.warnings)
