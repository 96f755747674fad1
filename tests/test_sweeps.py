"""Sweeps: planning a grid with repeats, the flags refused before training, resuming, the summary with its spread,
graphs with error bars, and both programs' sweeps from flags and from the menu."""

import io

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure
from rich.console import Console

import autoencoder
from common.errors import UserError
from common.study.plan import plan_of
from common.study.runner import reusable, run_plan
from common.study.summary import summarize_sweep
from common.study.trials import AutoencoderTrials
from common.tracking.run_log import RunLog
from common.tracking.schema import AUTOENCODER
from common.ui.cli.plan_flags import parse_sweep, parse_sweeps
from common.ui.plots.plotting import _mean_with_spread
from common.ui.programs.autoencoder_program import AutoencoderProgram
from common.ui.session.session import Session
from models.config.autoencoder import AutoencoderConfig
from models.config.classifier import ClassifierConfig
from models.training.run import TrainedRun
from tests.conftest import ROOT, assert_one_line_error
from tests.keyboard import CTRL_U, ENTER, Keyboard

SAID = {"layers": 2, "filters": 4, "epochs": 1, "batch_size": 32}


def sweep(axes, repeats: int, seed: int):
    return plan_of(AutoencoderConfig, SAID, axes, repeats, seed)
CONTEXT = {"dataset": "/data/train.gz", "images": 300, "val_split": 0.2, "split_seed": 1,
           "recipe_version": "v1", "val_images": 60}


def test_a_grid_of_two_sweeps_with_repeats_plans_every_combination_with_its_seeds():
    plan = sweep((("filters", (4, 8)), ("layers", (2, 3, 4))), repeats=2, seed=5)
    runs = plan.runs()
    assert len(runs) == 2 * 3 * 2 and len(set(runs)) == len(runs)
    assert [(dict(r.values), r.repeat, r.seed) for r in runs[:3]] == [
        ({"filters": 4, "layers": 2}, 1, 5), ({"filters": 4, "layers": 2}, 2, 6), ({"filters": 4, "layers": 3}, 1, 5)]
    assert plan.config_of(runs[-1]) == AutoencoderConfig(layers=4, filters=8, epochs=1, batch_size=32)
    assert {r.arm for r in runs} == {""}


@pytest.mark.parametrize("text, expected", [
    ("filters=8,16,32", ("filters", (8, 16, 32))), ("filter-size=3, 5,3", ("filter_size", (3, 5))),
    ("optimizer=adam,sgd", ("optimizer", ("adam", "sgd"))), ("batch_size=16", ("batch_size", (16,)))])
def test_sweep_values_are_read_as_the_field_takes_them(text, expected):
    assert parse_sweep(text, AutoencoderConfig) == expected


def test_classifier_sweeps_of_labels_switches_and_fractions():
    assert parse_sweep("labels=100,all", ClassifierConfig) == ("label_budget", (100, 0))
    assert parse_sweep("augment=yes,no", ClassifierConfig) == ("augment", (True, False))
    assert parse_sweep("noise=0.1,0.3", ClassifierConfig) == ("noise", (0.1, 0.3))
    with pytest.raises(UserError, match="swept twice"):
        parse_sweeps(["fc-units=8", "fc_units=16"], ClassifierConfig)


@pytest.mark.parametrize("flags, fragment", [
    (["--sweep", "filters="], "no values given for filters"),
    (["--sweep", "bogus=1"], "'bogus' is not a hyperparameter"),
    (["--sweep", "filters=0,abc"], "'0': must be from 1 to 256"),
    (["--sweep", "filters=8,abc"], "'abc': expected a whole number"),
    (["--sweep", "filters"], "expected NAME=V1,V2"),
    (["--sweep", "optimizer=adam,adagrad"], "expected one of adam, rmsprop, sgd"),
    (["--sweep", "filters=8,16", "--filters", "8"], "give the values in --sweep only"),
    (["--repeats", "3"], "--repeats goes with --sweep"),
    (["--workers", "2"], "--workers goes with --sweep"),
    (["--ray", "local"], "--ray goes with --sweep"),
    (["--keep-models", "models"], "--keep-models goes with --sweep"),
    (["--sweep", "filters=8", "--keep-models", str(ROOT / "README.md")], "README.md: is a file, expected a folder"),
    (["--sweep", "filters=8", "--workers", "0"], "argument --workers: '0': must be from 1 to 64")])
def test_bad_sweep_flags_are_refused_before_anything_trains(in_process, tmp_path, flags, fragment):
    done = in_process("autoencoder.py", *flags, "--out", tmp_path / "runs", cwd=tmp_path)
    assert done.returncode == 2
    assert_one_line_error(done, fragment)
    assert not (tmp_path / "runs").exists()


def test_the_classifier_refuses_a_sweep_beside_the_study(in_process, tmp_path):
    done = in_process("classification.py", "--sweep", "fc-units=8,16", "--study", "labels", cwd=tmp_path)
    assert_one_line_error(done, "--sweep does not go with --study labels")


class FakeAutoencoders:
    """Stands in for training autoencoders: a val_loss that depends on the filters and the seed, and can be told
    to stop (as Ctrl-C does) at one call."""

    def __init__(self, stop_at: int | None = None):
        self.calls, self.stop_at = [], stop_at

    def __call__(self, config, seed, callbacks_for, run_id):
        self.calls.append((config.filters, seed))
        loss = 1.0 / config.filters + 0.001 * seed
        return TrainedRun(history={"loss": [loss], "val_loss": [loss + 0.01]}, stage_seconds=[0.01],
                          interrupted=len(self.calls) == self.stop_at)


def test_a_stopped_sweep_resumes_without_training_a_run_twice_or_losing_one(tmp_path):
    plan = sweep((("filters", (4, 8, 16)),), repeats=2, seed=1)
    log = RunLog(tmp_path / "loss_values.csv", AUTOENCODER)
    first = FakeAutoencoders(stop_at=4)
    stopped = run_plan(plan, AutoencoderTrials(240, 1, first, lambda config: None), log=log, context=CONTEXT)
    assert stopped.interrupted and stopped.trained == 3
    logged, _ = log.read()
    assert logged["interrupted"].fillna("").tolist() == ["", "", "", "yes"]
    second = FakeAutoencoders()
    resumed = run_plan(plan, AutoencoderTrials(240, 1, second, lambda config: None), log=log, context=CONTEXT)
    assert resumed.reused == 3 and resumed.trained == 3
    assert not set(first.calls[:3]) & set(second.calls) and first.calls[3] in second.calls
    assert sorted(resumed.rows["seed"].tolist()) == [1, 1, 1, 2, 2, 2]
    assert resumed.rows["run_id"].nunique() == 6
    assert len(reusable(log.read()[0], plan, {**CONTEXT, "split_seed": 2}, AutoencoderTrials)) == 0  # other split


def test_a_configuration_the_program_refuses_stops_the_sweep_before_training(tmp_path):
    def refuse(config):
        if config.filters > 8:
            raise UserError(f"filters {config.filters}: too many")

    trainer = FakeAutoencoders()
    with pytest.raises(UserError, match="filters 16: too many"):
        run_plan(sweep((("filters", (4, 16)),), 1, 1), AutoencoderTrials(240, 1, trainer, refuse),
                 log=RunLog(tmp_path / "log.csv", AUTOENCODER), context=CONTEXT)
    assert trainer.calls == []


def test_the_summary_gives_each_value_its_mean_spread_and_count():
    rows = pd.DataFrame({"filters": [4, 4, 4, 8, 8], "val_loss": [0.1, 0.2, 0.3, 0.5, 0.7],
                         "wall_time": [1.0, 1.0, 1.0, 2.0, 2.0]})
    summary = summarize_sweep(rows, ("filters",), ("val_loss",))
    assert summary["filters"].tolist() == [4, 8] and summary["n"].tolist() == [3, 2]
    assert np.allclose(summary["val_loss_mean"], [0.2, 0.6]) and np.allclose(summary["val_loss_sd"], [0.1, 0.1414],
                                                                               atol=1e-4)
    assert summary["wall_time"].tolist() == [3.0, 4.0]


def test_repeated_values_get_error_bars_and_counts_and_single_runs_do_not():
    ax = Figure().add_subplot()
    repeated = pd.DataFrame({"filters": [4, 4, 4, 8, 8], "val_loss": [0.1, 0.2, 0.3, 0.5, 0.7]})
    assert _mean_with_spread(ax, repeated, "filters", "val_loss", "val_loss")
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 1
    assert sorted(t.get_text() for t in ax.texts) == ["n=2", "n=3"]
    single = Figure().add_subplot()
    assert not _mean_with_spread(single, repeated.drop_duplicates("filters"), "filters", "val_loss", "val_loss")
    assert len(single.containers) == 0 and len(single.texts) == 0


@pytest.mark.slow
def test_an_autoencoder_sweep_from_the_flags_logs_every_run_and_reuses_them(mnist, tmp_path, in_process):
    flags = ["-d", mnist["train_images"], "--layers", 2, "--filters", 4, "--epochs", 1, "--batch-size", 32,
             "--sweep", "filter-size=1,3", "--repeats", 2, "--out", tmp_path / "runs", "--no-show"]
    done = in_process("autoencoder.py", *flags, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    runs = pd.read_csv(tmp_path / "runs" / "loss_values.csv")
    assert runs["Filter_Size"].tolist() == [1, 1, 3, 3] and runs["Seed"].tolist() == [1, 2, 1, 2]
    assert runs["Split_Seed"].tolist() == [1] * 4 and runs["Val_Loss"].notna().all()
    assert "Sweep of filter size (1, 3)" in done.stdout and "± " in done.stdout
    assert (tmp_path / "runs" / "plots" / "autoencoder_sweep_filter_size.png").stat().st_size > 0
    again = in_process("autoencoder.py", *flags, cwd=tmp_path)
    assert "Reusing 4 of 4 runs" in again.stdout and len(pd.read_csv(tmp_path / "runs" / "loss_values.csv")) == 4


def test_a_sweep_from_the_autoencoder_menu(mnist, tmp_path, monkeypatch):
    monkeypatch.setattr("common.ui.session.session.interactive", lambda: True)
    keyboard = Keyboard("Sweep one hyperparameter", "Filters in the first layer", "2,4" + ENTER,
                        CTRL_U + "1" + ENTER, "y", "Exit", "y")
    args = autoencoder.parse(["-d", str(mnist["train_images"]), "--out", str(tmp_path / "runs"), "--no-show",
                              "--layers", "2", "--filter-size", "3", "--filters", "4", "--epochs", "1",
                              "--batch-size", "32"])
    console = Console(file=io.StringIO(), width=120)
    session = Session(AutoencoderProgram(args, console), args, console, keyboard)
    assert session.run() == 0 and keyboard.script == []
    runs = pd.read_csv(tmp_path / "runs" / "loss_values.csv")
    assert runs["Filters/Layer"].tolist() == [4, 2] and runs["Seed"].tolist() == [1, 1]  # the first run is reused
    assert "1 of 2 runs are in the run log already. Reuse them?" in keyboard.asked
    assert "Sweep of filters in the first layer (2, 4)" in console.file.getvalue()


def test_a_classifier_sweep_from_the_flags_tests_every_run(mnist, saved_autoencoder, tmp_path, in_process):
    done = in_process("classification.py", "-d", mnist["train_images"], "-dl", mnist["train_labels"], "-t",
                      mnist["test_images"], "-tl", mnist["test_labels"], "-model", saved_autoencoder, "--labels", 20,
                      "--epochs", 1, "--fine-tune-epochs", 1, "--batch-size", 10, "--sweep", "fc-units=8,16",
                      "--out", tmp_path / "runs", "--no-show", "--repeats", 1, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    runs = pd.read_csv(tmp_path / "runs" / "classification_loss_values.csv")
    assert runs["Fc_units"].tolist() == [8, 16] and runs["Labels_Used"].tolist() == [20, 20]
    assert runs["Test_Accuracy"].between(0.15, 1).all() and runs["Stage1_Test_Accuracy"].notna().all()  # > chance
    assert "test_accuracy" in done.stdout and "Sweep of units in the fully connected layer (8, 16)" in done.stdout
    assert (tmp_path / "runs" / "plots" / "classifier_sweep_fc_units.png").exists()
