"""`--workers N`: a plan's runs in several processes, the log complete and without duplicates, a killed worker's run
tried again, a failing run reported, Ctrl-C, and Ray. A real sweep of the program on two workers, equal to one at a
time, and stopped by Ctrl-C in a terminal: tests/test_terminal_sessions.py."""

import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from common.errors import UserError
from common.keras_setup import keras
from common.study.parallel import WorkerReporter, Workers
from common.study.plan import plan_of
from common.study.ray_workers import RayWorkers
from common.study.runner import run_plan
from common.tracking.run_log import RunLog
from common.tracking.schema import AUTOENCODER
from models.config.autoencoder import AutoencoderConfig
from tests.conftest import ROOT
from tests.fake_trials import FakeTrials, fake_trials

CONTEXT = {"dataset": "/data/train.gz", "images": 300, "val_split": 0.2, "split_seed": 1,
           "recipe_version": "v1", "val_images": 60}
SMALL = dict(layers=2, filters=4, epochs=1, batch_size=32)  # what the sweeps here are told
PLAN = plan_of(AutoencoderConfig, SMALL, (("filters", (4, 8, 16)),), 2, 1)


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
    assert len(reporter.warnings) == 2 and all("failed twice (RuntimeError: out of memory for 16 filters" in w
                                               for w in reporter.warnings)
    for warning in reporter.warnings:  # each names the file that keeps the worker's traceback, beside the log
        kept = tmp_path / warning.split("its traceback in ")[1].split(")")[0].rsplit("/", 1)[1]
        assert kept.exists() and "Traceback" in kept.read_text() and "fake_trials.py" in kept.read_text()


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
    plan = plan_of(AutoencoderConfig, SMALL, (("filters", (4, 64)),), 2, 1)
    log = RunLog(tmp_path / "loss_values.csv", AUTOENCODER)
    outcome = run_plan(plan, FakeTrials(str(tmp_path)), log=log, context=CONTEXT, reporter=CtrlCAfterTwoRuns(),
                       workers=Workers(2, fake_trials, (str(tmp_path), False)))
    assert outcome.interrupted and outcome.trained == 2
    assert list(tmp_path.glob("finished-*")) == []  # the long runs were stopped, not waited for
    assert pd.read_csv(tmp_path / "loss_values.csv")["Filters/Layer"].tolist() == [4, 4]
    assert multiprocessing.active_children() == []  # no worker left running
    assert "KeyboardInterrupt" not in capfd.readouterr().err  # the workers left Ctrl-C to the parent


def test_two_workers_dying_charge_only_the_run_each_was_training(tmp_path):
    """Two unrelated crashes: each charges the run its worker had, once; the runs waiting are not charged, so every
    run is logged and none is reported."""
    plan = plan_of(AutoencoderConfig, SMALL, (("filters", (8, 32, 4)),), 2, 1)
    reporter = Warnings()
    outcome = run_plan(plan, FakeTrials(str(tmp_path)), log=RunLog(tmp_path / "log.csv", AUTOENCODER),
                       context=CONTEXT, workers=Workers(2, fake_trials, (str(tmp_path), False)), reporter=reporter)
    assert (tmp_path / "killed").exists() and (tmp_path / "killed-32").exists()  # both crashes happened
    assert reporter.warnings == [] and outcome.trained == 6
    assert sorted(outcome.rows["filters"].tolist()) == [4, 4, 8, 8, 32, 32]


def test_a_worker_tells_the_parent_each_epoch_it_finishes():
    told = []
    reporter = WorkerReporter(lambda *news: told.append(news))
    planned = PLAN.runs()[0]
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((8, 2)), np.zeros((8, 1)), epochs=2, verbose=0,
              callbacks=reporter.callbacks_for(planned)("stage 2"))
    assert [item[:4] for item in told] == [(planned, "stage 2", 1, 2), (planned, "stage 2", 2, 2)]
    assert set(told[-1][4]) == {"loss"} and told[-1][4]["loss"] == 0.0


@pytest.mark.slow
def test_a_plan_on_a_local_ray_instance_survives_a_killed_actor_and_reports_a_failing_run(tmp_path, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")  # a cluster this machine knows of, long dead: not joined
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
    assert all("its traceback in" in w for w in reporter.warnings) and list(tmp_path.glob("failed-*.txt"))


@contextmanager
def ray_head(auth: bool):
    """A Ray head started as the README says (`ray start --head` on the loopback address), in a temporary folder
    of its own; with `auth`, on a machine that holds a Ray token (as after any `--ray local`), which turns token
    authentication on; without, with authentication off. Ended by its own process group afterwards."""
    ray = str(Path(sys.executable).parent / "ray")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    if auth:
        subprocess.run([ray, "get-auth-token", "--generate"], env=env, capture_output=True, check=True)
    else:
        env["RAY_AUTH_MODE"] = "disabled"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tempfile.mkdtemp(prefix="ray")  # short: Ray's socket paths must fit in 107 characters
    head = subprocess.Popen([ray, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--block",
                             "--include-dashboard=false", "--num-cpus=2", f"--temp-dir={folder}"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert head.poll() is None and time.monotonic() < deadline, "the Ray head did not start"
                time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:  # `ray start --block` takes half a minute to end on SIGTERM: its group is killed at once
        os.killpg(head.pid, signal.SIGKILL)
        head.wait()
        shutil.rmtree(folder, ignore_errors=True)


SWEEP_ON_RAY = """
import sys
from common.study.plan import plan_of
from common.study.ray_workers import RayWorkers
from common.study.runner import run_plan
from common.tracking.run_log import RunLog
from common.tracking.schema import AUTOENCODER
from models.config.autoencoder import AutoencoderConfig
from tests.fake_trials import LONG_RUN, FakeTrials, fake_trials

address, folder = sys.argv[1:]
plan = plan_of(AutoencoderConfig, dict(layers=2, filters=4, epochs=1, batch_size=32), (("filters", (4, 16)),),
               2, 1)
context = {"dataset": "/data/train.gz", "images": 300, "val_split": 0.2, "split_seed": 1,
           "recipe_version": "v1", "val_images": 60}
outcome = run_plan(plan, FakeTrials(folder), log=RunLog(f"{folder}/log.csv", AUTOENCODER), context=context,
                   workers=RayWorkers(address, 2, fake_trials, (folder, False)))
print("trained", outcome.trained)
"""


@pytest.mark.slow
@pytest.mark.parametrize("auth", [True, False], ids=["token authentication on", "off"])
def test_a_sweep_sent_to_a_head_started_with_ray_start_logs_every_row(tmp_path, auth):
    """A head started as the README says, on a machine that holds a Ray token (as after any --ray local): it asks
    for the token, and gets it; or started with authentication off: the client must not send it (Ray's actors die
    for a client in token mode there). The plan is sent from a process of its own, as a program sends it; its runs
    train nothing, so that the head and Ray are what is tested."""
    (tmp_path / "killed").touch()
    with ray_head(auth) as address:
        done = subprocess.run([sys.executable, "-c", SWEEP_ON_RAY, address, str(tmp_path)], cwd=ROOT,
                              env={k: v for k, v in os.environ.items() if not k.startswith("RAY_")},
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "trained 4" in done.stdout, done.stderr[-2000:]
    assert sorted(zip(*pd.read_csv(tmp_path / "log.csv")[["Filters/Layer", "Seed"]].T.values)) == \
        [(4, 1), (4, 2), (16, 1), (16, 2)]


def test_a_ray_address_where_nothing_answers_is_one_line_within_seconds(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(UserError, match=f"--ray 127.0.0.1:{port}: no Ray head answers"):
        list(RayWorkers(f"127.0.0.1:{port}", 1, fake_trials, (str(tmp_path), False)).results(PLAN, [], {}, None))


ORPHANED = """
import sys, time
sys.path.insert(0, {root!r})
from common.study.parallel import ProcessPool, Workers
from common.study.plan import plan_of
from models.config.autoencoder import AutoencoderConfig
from tests.fake_trials import fake_trials
plan = plan_of(AutoencoderConfig, dict(layers=2, filters=64, epochs=1, batch_size=32), (), 1, 1)
pool = ProcessPool(Workers(1, fake_trials, ({folder!r}, False)))
pool.start(0)
pool.submit(0, plan, plan.runs()[0], {{}})
print(pool.processes[0].pid, flush=True)
time.sleep(600)
"""


def ended(pid: int) -> bool:
    """Whether process `pid` has ended (gone, or a zombie its parent has not reaped)."""
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def wait_until(condition, limit: float = 90.0) -> None:
    """Poll `condition` until it holds; a guard against a hang (a generous limit), not a measure of speed."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and not condition():
        time.sleep(0.2)


def test_a_worker_whose_program_was_killed_stops_instead_of_training_on(tmp_path):
    """The program killed (SIGKILL: no chance to stop its workers) while a worker trains a long run: the worker
    notices and ends, instead of training on for nobody."""
    program = subprocess.Popen([sys.executable, "-c", ORPHANED.format(root=str(ROOT), folder=str(tmp_path))],
                               stdout=subprocess.PIPE, text=True, cwd=ROOT)
    worker = int(program.stdout.readline())
    wait_until((tmp_path / "running-64-1").exists)  # the worker is in its run (fake: a long sleep)
    program.kill()
    program.wait()
    wait_until(lambda: ended(worker))
    assert ended(worker)
