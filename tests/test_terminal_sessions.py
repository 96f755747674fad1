"""Both programs driven in a pseudo-terminal, as a person at a keyboard would, for what needs a real terminal: keys
typed while a run trains, Ctrl-C (in training, at the menu, in a run without a menu, with workers), a typo at a
prompt, and each program's menu once. The menus' other flows are driven in-process (tests/test_menus.py)."""

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pexpect
import pytest

from common.keras_setup import keras
from tests.conftest import ROOT, program_env

ENTER, ESC, CTRL_C, CTRL_U = "\r", "\x1b", "\x03", "\x15"
NUMBER_PROMPT = r"\(\d+-\d+\) \[\d+\]:"
pytestmark = pytest.mark.slow  # each starts the programs (and TensorFlow) in new processes

NOT_TIMED = ("--xla", "off", "--precision", "float32")  # a 500-epoch run would time the ways of computing first


def spawn(script, *args, cwd):
    child = pexpect.spawn(sys.executable, [str(ROOT / script), *map(str, args)], cwd=str(cwd), env=program_env(),
                          encoding="utf-8", timeout=180, dimensions=(50, 160))
    child.logfile_read = open(cwd / "screen.log", "w")  # noqa: SIM115  (open while the child runs)
    return child


def menu(child, number: int | str, expect="What next"):
    """Wait for a menu, pick an entry by its shortcut (its number, or a letter after the tenth)."""
    child.expect(expect)
    child.send(str(number))
    child.send(ENTER)


def finish(child) -> int:
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def test_the_classifier_in_a_terminal_keys_typed_while_training_ctrl_c_a_typo_predict_save(mnist, saved_autoencoder,
                                                                                           tmp_path):
    """The program in a terminal, as a person uses it: the autoencoder picked from a menu, the baseline typed in;
    Enter pressed while the first run trains answers nothing (the menu waits, nothing else trains); Ctrl-C in a
    second run keeps its finished epochs and its backup, and the menu offers to resume it; a typo at the study's
    question is said and asked again; Ctrl-C at the menu asks about the unsaved model; predict, save, exit."""
    (tmp_path / "runs").mkdir()
    shutil.copy(saved_autoencoder, tmp_path / "runs" / "ae.h5")
    child = spawn("classification.py", "-d", mnist["train_images"], "-dl", mnist["train_labels"],
                  "-t", mnist["test_images"], "-tl", mnist["test_labels"], *NOT_TIMED, cwd=tmp_path)
    menu(child, 1, expect="Which autoencoder")
    for answer in ("16", "1", "30", "8", "0"):  # fc units, stage 1 epochs, stage 2 epochs, batch, labels
        child.expect(NUMBER_PROMPT)
        child.sendline(answer)
    child.expect("stage 2, epoch 2/30")
    child.send(ENTER * 3)  # typed while it trains: kept by the terminal, dropped before the menu asks
    child.expect("Logged to")
    child.expect("What next")
    child.send("4" + ENTER)  # predict the test set: had the Enters answered the menu, this would answer another
    # question (a hyperparameter to change) and the report below would never come
    child.expect("Test accuracy")
    menu(child, 1)  # train again
    child.expect("Change which hyperparameter")
    child.send("3" + ENTER)  # stage 2 epochs
    child.expect("New epochs of stage 2")
    child.sendline(CTRL_U + "500")
    child.expect("stage 2, epoch 3/500")
    child.send(CTRL_C)
    child.expect("Stopped early")
    child.expect("Its backup is kept")
    menu(child, 7, expect="1\\) Resume the stopped run")  # first in the menu now, the others one place down: the
    # study
    child.expect("Numbers of labelled images")
    child.send(CTRL_U + "100,300,1000,allabc" + ENTER)
    child.expect("expected numbers of labelled images separated by commas")  # one line, and asked again
    child.expect("Numbers of labelled images")
    child.send(ESC)  # back to the menu
    child.expect("What next")
    child.send(CTRL_C)  # at the menu: leaving, with an unsaved model
    child.expect("not saved. Exit anyway")
    child.send("n")
    menu(child, 9)  # save
    child.expect("Save the classifier to")
    child.send(ENTER)
    child.expect("Saved the classifier")
    menu(child, "a")  # exit, the eleventh entry: saved, so no question
    assert finish(child) == 0
    assert "Traceback" not in (tmp_path / "screen.log").read_text()
    runs = pd.read_csv(tmp_path / "runs" / "classification_loss_values.csv")
    assert runs["Fine_Tune_Epochs"].tolist() == [30, 500] and runs["Epochs_Done"].tolist()[0] == 31
    assert runs["Interrupted"].fillna("").tolist() == ["", "yes"] and 3 <= runs["Epochs_Done"].tolist()[1] < 501
    assert runs["Autoencoder"].tolist() == ["runs/ae.h5"] * 2 and runs["Model_Path"].isna().tolist() == [True, False]
    assert 0.2 < runs.loc[0, "Test_Accuracy"] <= 1  # above chance (a tenth): the first run predicted the test set
    plots = {p.name for p in (tmp_path / "runs" / "plots").glob("*.png")}
    assert {"classifier_confusion_matrix.png", "classifier_correct_predictions.png"} <= plots


def test_ctrl_c_in_a_no_menu_run_logs_saves_and_exits_130(mnist, tmp_path):
    child = spawn("autoencoder.py", "-d", mnist["train_images"], "--no-menu", "--layers", 2, "--filter-size", 3,
                  "--filters", 4, "--epochs", 500, "--batch-size", 8, *NOT_TIMED, cwd=tmp_path)
    child.expect("epoch 3/500")
    child.send(CTRL_C)
    child.expect("Saved the autoencoder")
    assert finish(child) == 130
    run = pd.read_csv(tmp_path / "runs" / "loss_values.csv").iloc[0]
    assert run["Interrupted"] == "yes" and 2 <= run["Epochs_Done"] < 500
    assert (tmp_path / run["Model_Path"]).stat().st_size > 0


def test_a_sweep_on_two_workers_trains_the_runs_of_one_at_a_time_and_ctrl_c_stops_them(mnist, tmp_path,
                                                                                         in_process):
    flags = ["-d", mnist["train_images"], "--layers", 2, "--filter-size", 3, "--filters", 4, "--batch-size", 32,
             *NOT_TIMED, "--keep-models", "models"]
    # long runs that cannot end first: 500 epochs once ended (on a busy machine) while the other worker was still
    # starting and training its short run; 1,000, the most a run may have, take twice as long
    child = spawn("autoencoder.py", *flags, "--sweep", "epochs=1,1000", "--repeats", 2, "--workers", 2, cwd=tmp_path)
    child.expect("run 2/4")  # both short runs finished; the two long ones are starting or training
    child.send(CTRL_C)  # the terminal sends it to the program and its workers alike
    child.expect("Stopped \\(Ctrl-C\\)", timeout=30)
    assert finish(child) == 130
    assert processes_working_in(tmp_path) == [], "a worker outlived the sweep"
    assert "Traceback" not in (tmp_path / "screen.log").read_text()  # the workers left Ctrl-C to the program
    runs = pd.read_csv(tmp_path / "runs" / "loss_values.csv").sort_values("Seed")
    assert runs["Epochs"].tolist() == [1, 1] and runs["Seed"].tolist() == [1, 2]
    for _, run in runs.iterrows():  # each worker saved its run's model where the log says, with its sidecar
        assert run["Model_Path"] == f"models/{run['Run_ID']}.h5"
        assert json.loads((tmp_path / f"{run['Model_Path']}.json").read_text())["run_id"] == run["Run_ID"]
        assert keras.models.load_model(tmp_path / run["Model_Path"], compile=False).get_layer(
            "encoder_conv_1").filters == 4
    alone = in_process("autoencoder.py", *flags[:-2], "--sweep", "epochs=1", "--repeats", 2, "--out", "alone",
                       "--no-show", cwd=tmp_path)  # the same runs, one at a time in this process
    assert alone.returncode == 0, alone.stderr
    one_at_a_time = pd.read_csv(tmp_path / "alone" / "loss_values.csv").sort_values("Seed")
    assert np.allclose(one_at_a_time["Val_Loss"], runs["Val_Loss"], rtol=1e-5)  # the same seeds, the same runs


def processes_working_in(folder: Path) -> list[int]:
    """The processes whose working folder is `folder` (the program's workers inherit it)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and Path(os.readlink(entry / "cwd")) == folder:
                found.append(int(entry.name))
        except OSError:  # gone, or not ours to read
            continue
    return found
