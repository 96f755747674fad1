"""`--workers N`: a plan's runs in several processes, the log complete and without duplicates, a killed worker's run
tried again, a failing run reported, and a real sweep of the program with two workers."""

import importlib.util

import numpy as np
import pandas as pd
import pytest

from common.study.parallel import Workers
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
    """A reporter that keeps its warnings."""

    def __init__(self):
        self.warnings = []

    def begin(self, *args):
        pass

    def callbacks_for(self, planned):
        return lambda stage="": []

    def finished(self, planned, row):
        pass

    def warn(self, message):
        self.warnings.append(message)

    def end(self):
        pass


def test_two_workers_log_every_run_once_and_a_killed_workers_run_is_tried_again(tmp_path):
    log = RunLog(tmp_path / "loss_values.csv", AUTOENCODER)
    workers = Workers(2, fake_trials, (str(tmp_path), False))
    outcome = run_plan(PLAN, FakeTrials(str(tmp_path)), log=log, context=CONTEXT, workers=workers)
    assert (tmp_path / "killed").exists()  # a worker was killed mid-run
    assert not outcome.interrupted and outcome.trained == 6
    logged = pd.read_csv(tmp_path / "loss_values.csv")
    assert sorted(zip(logged["Filters/Layer"], logged["Seed"])) == [(4, 1), (4, 2), (8, 1), (8, 2), (16, 1), (16, 2)]
    assert logged["Run_ID"].nunique() == 6 and logged["Device"].nunique() >= 2  # several processes trained
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


def test_an_autoencoder_sweep_with_two_workers_gives_the_runs_of_one_at_a_time(mnist, tmp_path, in_process):
    results = {}
    for workers in (1, 2):
        out = tmp_path / f"runs{workers}"
        done = in_process("autoencoder.py", "-d", mnist["train_images"], "--layers", 2, "--filters", 4, "--epochs",
                          1, "--batch-size", 32, "--sweep", "filter-size=1,3", "--repeats", 1, "--workers", workers,
                          "--out", out, "--no-show", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "Sweep of filter size (1, 3)" in done.stdout
        runs = pd.read_csv(out / "loss_values.csv").sort_values("Filter_Size")
        assert runs["Filter_Size"].tolist() == [1, 3] and runs["Val_Loss"].notna().all()
        results[workers] = runs["Val_Loss"].to_numpy()
    assert np.allclose(results[1], results[2], rtol=1e-5)  # the same seeds, the same runs


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
