"""Runs that resume where they stopped (models/training/run_backup.py): a run killed after the first of its three
epochs, started again, ends with the weights of a run that went through; a fit that had ended is not trained
again; a damaged backup is said and the run starts afresh."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from common.keras_setup import keras
from models.config.autoencoder import AutoencoderConfig
from models.config.classifier import ClassifierConfig, LadderSettings
from models.networks.autoencoder import build_autoencoder
from models.networks.encoder import encoder_view
from models.training import run_backup
from models.training.autoencoder_training import train_autoencoder
from models.training.classifier_stages import ClassifierData
from models.training.ladder_training import train_ladder
from tests.conftest import ROOT, program_env

SMALL = AutoencoderConfig(layers=2, filters=4, epochs=3, batch_size=32)


class Killed(Exception):
    """The process dying at the end of an epoch, after its backup."""


class KillAfter(keras.callbacks.Callback):
    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epochs:
            raise Killed


def weights(model) -> list[np.ndarray]:
    return [np.asarray(w) for w in model.weights]


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


def test_an_autoencoder_killed_after_its_first_epoch_resumes_to_the_weights_of_a_run_that_went_through(
        mnist_first, tmp_path):
    (x, _), (val, _) = mnist_first
    through = train_autoencoder(SMALL, x, val, seed=3)
    with run_backup.backing_up(tmp_path / "run") as backup, pytest.raises(Killed):
        train_autoencoder(SMALL, x, val, seed=3, callbacks=[KillAfter(1)])
    assert backup.record() == {"fingerprint": "", "resumed": 0, "lost_seconds": 0.0}
    with run_backup.backing_up(tmp_path / "run") as backup:
        resumed = train_autoencoder(SMALL, x, val, seed=3)
    assert backup.record()["resumed"] == 1 and backup.resumed
    assert resumed.epochs_done == 3 and resumed.history["loss"][0] == pytest.approx(through.history["loss"][0])
    assert_same(weights(resumed.model), weights(through.model))


def test_a_ladder_killed_after_its_first_epoch_resumes_to_the_weights_of_a_run_that_went_through(
        mnist_first, tmp_path):
    (x, y), (val, val_y) = mnist_first
    autoencoder = build_autoencoder(AutoencoderConfig(layers=2, filters=4, block_order="pre-activation"))
    config = ClassifierConfig(fc_units=8, batch_size=20, unlabelled_batch=40, fine_tune_epochs=3,
                              ladder=LadderSettings())
    data = ClassifierData(train=(x[:100], y[:100]), val=(val[:100], val_y[:100]), classes=10, images=x[:400])
    through = train_ladder(encoder_view(autoencoder), config, data, seed=5)
    with run_backup.backing_up(tmp_path / "run"), pytest.raises(Killed):
        train_ladder(encoder_view(autoencoder), config, data, seed=5, callbacks=[KillAfter(1)])
    with run_backup.backing_up(tmp_path / "run") as backup:
        resumed = train_ladder(encoder_view(autoencoder), config, data, seed=5)
    assert backup.resumed
    assert_same(weights(resumed.model), weights(through.model))


def test_a_fit_that_ended_is_loaded_not_trained_and_a_damaged_backup_is_said_and_trained_afresh(
        mnist_first, tmp_path):
    (x, _), (val, _) = mnist_first
    one = AutoencoderConfig(layers=2, filters=4, epochs=1, batch_size=32)
    with run_backup.backing_up(tmp_path / "run"):
        first = train_autoencoder(one, x, val, seed=4)
    with run_backup.backing_up(tmp_path / "run") as backup:
        again = train_autoencoder(one, x, val, seed=9)  # another seed: were it trained, its weights would differ
    assert_same(weights(again.model), weights(first.model))
    assert again.history == first.history and not backup.warnings
    (tmp_path / "run" / "fit-1" / run_backup.HISTORY).write_text("{not json")
    with run_backup.backing_up(tmp_path / "run") as backup:
        afresh = train_autoencoder(one, x, val, seed=4)
    assert len(backup.warnings) == 1 and "could not be read" in backup.warnings[0]
    assert_same(weights(afresh.model), weights(first.model))  # trained again, from the same seed
    assert json.loads((tmp_path / "run" / "fit-1" / run_backup.HISTORY).read_text())["history"]


def test_a_backup_made_by_other_settings_code_or_data_is_said_once_and_not_used(mnist_first, tmp_path):
    (x, _), (val, _) = mnist_first
    with run_backup.backing_up(tmp_path / "run", "settings A"), pytest.raises(Killed):
        train_autoencoder(SMALL, x, val, seed=3, callbacks=[KillAfter(1)])
    with run_backup.backing_up(tmp_path / "run", "settings B") as backup:
        assert len(backup.warnings) == 1 and "other settings, code or data" in backup.warnings[0]
        run = train_autoencoder(SMALL, x, val, seed=3)
    assert not backup.resumed and run.epochs_done == 3 and backup.record()["fingerprint"] == "settings B"


def sweep_command(mnist, out, *more) -> list[str]:
    return [sys.executable, str(ROOT / "autoencoder.py"), "-d", str(mnist["train_images"]), "--layers", "2",
            "--filters", "4", "--batch-size", "8", "--sweep", "epochs=3", "--repeats", "1", "--no-show",
            "--out", str(out), *more]


def run_to_the_end(command) -> subprocess.CompletedProcess:
    return subprocess.run(command, env=program_env(), capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=180)


def wait_for_the_first_backup(out: Path) -> None:
    deadline = time.monotonic() + 120
    while not list((out / "backups").glob("*/fit-1/keras/training_metadata.json")) and time.monotonic() < deadline:
        time.sleep(0.05)


def assert_resumed_as_through(out: Path, through: Path) -> None:
    row = pd.read_csv(out / "loss_values.csv").iloc[-1]
    want = pd.read_csv(through / "loss_values.csv").iloc[-1]
    assert row["Resumed"] == 1 and want["Resumed"] == 0 and row["Epochs_Done"] == 3
    assert row["Val_Loss"] == pytest.approx(want["Val_Loss"], rel=1e-4)
    assert not list((out / "backups").iterdir())  # the logged run removed its backups


@pytest.mark.slow
def test_a_killed_sweep_resumes_its_run_mid_way_and_ends_as_one_that_went_through(mnist, tmp_path):
    """The program itself, killed (SIGKILL) once its run's first epoch is backed up, then started again."""
    done = run_to_the_end(sweep_command(mnist, tmp_path / "through"))
    assert done.returncode == 0, done.stderr
    killed = subprocess.Popen(sweep_command(mnist, tmp_path / "killed"), env=program_env(),
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_the_first_backup(tmp_path / "killed")
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    assert not (tmp_path / "killed" / "loss_values.csv").exists()  # nothing logged: the run was cut off
    resumed = run_to_the_end(sweep_command(mnist, tmp_path / "killed"))
    assert resumed.returncode == 0, resumed.stderr
    assert_resumed_as_through(tmp_path / "killed", tmp_path / "through")
    killed_worker = subprocess.Popen(sweep_command(mnist, tmp_path / "worker", "--workers", "2"), env=program_env(),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
    wait_for_the_first_backup(tmp_path / "worker")
    workers = [pid for pid in subprocess.run(["pgrep", "-P", str(killed_worker.pid)], capture_output=True,
                                             text=True).stdout.split()
               if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()]
    for pid in workers:  # the worker training the run (the other is idle): the program tries the run again
        os.kill(int(pid), signal.SIGKILL)
    _, err = killed_worker.communicate(timeout=180)
    assert killed_worker.returncode == 0, err
    assert_resumed_as_through(tmp_path / "worker", tmp_path / "through")


def test_a_backup_found_damaged_during_the_run_is_said_once_the_run_ends(mnist_first, tmp_path):
    from common.study.run_backups import backed_up

    (x, _), (val, _) = mnist_first
    with run_backup.backing_up(tmp_path / "run", "mine"), pytest.raises(Killed):
        train_autoencoder(SMALL, x, val, seed=3, callbacks=[KillAfter(1)])
    (tmp_path / "run" / "fit-1" / run_backup.HISTORY).write_text("{not json")
    said = []
    with backed_up(tmp_path / "run", "mine", said.append) as kept:
        run = train_autoencoder(SMALL, x, val, seed=3)
    assert len(said) == 1 and "could not be read" in said[0] and "started afresh" in said[0]
    assert run.epochs_done == 3 and kept == {"resumed": 0, "lost_minutes": 0.0}
