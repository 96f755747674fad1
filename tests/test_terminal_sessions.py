"""Both programs driven in a pseudo-terminal, as a person at a keyboard would: one session of each and Ctrl-C
during training. The menus' other flows are driven in-process (tests/test_menus.py)."""

import shutil
import sys

import pandas as pd
import pexpect

from common.keras_setup import keras
from tests.conftest import ROOT, program_env

ENTER, ESC, CTRL_C, CTRL_U = "\r", "\x1b", "\x03", "\x15"
NUMBER_PROMPT = r"\(\d+-\d+\) \[\d+\]:"


def spawn(script, *args, cwd):
    child = pexpect.spawn(sys.executable, [str(ROOT / script), *map(str, args)], cwd=str(cwd), env=program_env(),
                          encoding="utf-8", timeout=180, dimensions=(50, 160))
    child.logfile_read = open(cwd / "screen.log", "w")  # noqa: SIM115  (open while the child runs)
    return child


def menu(child, number: int, expect="What next"):
    """Wait for a menu, pick an entry by its shortcut number."""
    child.expect(expect)
    child.send(str(number))
    child.send(ENTER)


def finish(child) -> int:
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def test_autoencoder_session_train_change_graphs_save_exit(mnist, tmp_path):
    child = spawn("autoencoder.py", "-d", mnist["train_images"], cwd=tmp_path)
    for answer in ("2", "3", "4", "1", "32"):  # layers, filter size, filters, epochs, batch size
        child.expect(NUMBER_PROMPT)
        child.sendline(answer)
    child.expect("Logged to")
    menu(child, 1)  # train again with one hyperparameter changed
    menu(child, 3, expect="Change which hyperparameter")  # filters
    child.expect(NUMBER_PROMPT)
    child.sendline("8")
    child.expect("Logged to")
    menu(child, 3)  # show graphs
    child.expect("reconstructions.png")
    menu(child, 4)  # save
    child.expect("Save the autoencoder to")
    child.send(ENTER)  # the proposed file name
    child.expect("Saved the autoencoder to")
    menu(child, 5)  # show the run log
    child.expect("last 20 of 2 runs")
    menu(child, 6)  # exit
    assert finish(child) == 0
    runs = pd.read_csv(tmp_path / "runs" / "loss_values.csv")
    assert runs["Filters/Layer"].tolist() == [4, 8] and runs["Layers"].tolist() == [2, 2]
    plots = {p.name for p in (tmp_path / "runs" / "plots").glob("*.png")}
    assert {"autoencoder_vs_filters.png", "autoencoder_last_run_curves.png",
            "autoencoder_reconstructions.png"} <= plots
    saved = tmp_path / runs["Model_Path"].dropna().iloc[0]
    assert keras.models.load_model(saved, compile=False).get_layer("encoder_conv_1").filters == 8


def test_ctrl_c_during_training_keeps_the_finished_epochs(mnist, tmp_path):
    child = spawn("autoencoder.py", "-d", mnist["train_images"], "--layers", 2, "--filter-size", 3, "--filters", 4,
                  "--epochs", 500, "--batch-size", 8, cwd=tmp_path)
    child.expect("epoch 3/500")
    child.send(CTRL_C)
    child.expect("Stopped early")
    menu(child, 6)  # exit
    child.expect("not saved. Exit anyway")
    child.send("y")
    assert finish(child) == 0
    run = pd.read_csv(tmp_path / "runs" / "loss_values.csv").iloc[0]
    assert run["Interrupted"] == "yes" and 2 <= run["Epochs_Done"] < 500 and run["Epochs"] == 500


def test_classifier_session_pick_train_change_predict_save_exit(mnist, saved_autoencoder, tmp_path):
    (tmp_path / "runs").mkdir()
    shutil.copy(saved_autoencoder, tmp_path / "runs" / "ae.h5")
    other = tmp_path / "elsewhere" / "other_ae.h5"
    other.parent.mkdir()
    shutil.copy(saved_autoencoder, other)
    child = spawn("classification.py", "-d", mnist["train_images"], "-dl", mnist["train_labels"],
                  "-t", mnist["test_images"], "-tl", mnist["test_labels"], cwd=tmp_path)
    menu(child, 1, expect="Which autoencoder")
    for answer in ("16", "1", "1", "32", "0"):  # fc units, stage 1 epochs, stage 2 epochs, batch, labels
        child.expect(NUMBER_PROMPT)
        child.sendline(answer)
    child.expect("Logged to")
    menu(child, 1)  # train again with one hyperparameter changed
    menu(child, 1, expect="Change which hyperparameter")  # fc units
    child.expect(NUMBER_PROMPT)
    child.sendline("32")
    child.expect("Logged to")
    menu(child, 3)  # use another autoencoder
    menu(child, 1, expect="Use which autoencoder")  # "Type a path...": the only other one is outside runs/
    child.expect("Path of the autoencoder")
    child.sendline(str(other))
    child.expect(f"Encoder of {other}")
    child.expect("Logged to")
    menu(child, 4)  # predict the test set
    child.expect("Test accuracy")
    menu(child, 7)  # graphs
    child.expect("last_run_curves.png")
    menu(child, 8)  # save
    child.expect("Save the classifier to")
    child.send(ENTER)
    child.expect("Saved the classifier")
    menu(child, 10)  # exit
    assert finish(child) == 0
    runs = pd.read_csv(tmp_path / "runs" / "classification_loss_values.csv")
    assert runs["Fc_units"].tolist() == [16, 32, 16]
    assert runs["Autoencoder"].tolist() == ["runs/ae.h5", "runs/ae.h5", str(other)]
    assert runs["Test_Accuracy"].isna().tolist() == [True, True, False]
    assert 0 <= runs.loc[2, "Test_Accuracy"] <= 1
    plots = {p.name for p in (tmp_path / "runs" / "plots").glob("*.png")}
    assert {"classifier_confusion_matrix.png", "classifier_correct_predictions.png",
            "classifier_vs_fc_units.png", "classifier_last_run_curves.png"} <= plots


def test_ctrl_c_in_a_no_menu_run_logs_saves_and_exits_130(mnist, tmp_path):
    child = spawn("autoencoder.py", "-d", mnist["train_images"], "--no-menu", "--layers", 2, "--filter-size", 3,
                  "--filters", 4, "--epochs", 500, "--batch-size", 8, cwd=tmp_path)
    child.expect("epoch 3/500")
    child.send(CTRL_C)
    child.expect("Saved the autoencoder")
    assert finish(child) == 130
    run = pd.read_csv(tmp_path / "runs" / "loss_values.csv").iloc[0]
    assert run["Interrupted"] == "yes" and 2 <= run["Epochs_Done"] < 500
    assert (tmp_path / run["Model_Path"]).stat().st_size > 0
