"""Both programs' menus driven in-process, as a person at the keyboard would: real prompts answered through a pipe,
menu entries picked by their label (tests/keyboard.py)."""

import io

import pandas as pd
import pytest
from rich.console import Console

import autoencoder
import classification
from common.keras_setup import keras
from common.study import measured
from common.ui.programs.autoencoder_program import AutoencoderProgram
from common.ui.programs.classifier_program import ClassifierProgram
from common.ui.session.session import Session
from tests.keyboard import CTRL_U, ENTER, ESC, Keyboard


@pytest.fixture(autouse=True)
def a_terminal(monkeypatch):
    """The session asks only when it runs in a terminal: here the keyboard is the terminal."""
    monkeypatch.setattr("common.ui.session.session.interactive", lambda: True)
    monkeypatch.setattr("common.ui.programs.autoencoder_source.interactive", lambda: True)


def autoencoder_session(mnist, tmp_path, keyboard, *flags):
    args = autoencoder.parse(["-d", str(mnist["train_images"]), "--out", str(tmp_path / "runs"), "--no-show",
                              *map(str, flags)])
    console = Console(file=io.StringIO(), width=200)
    return Session(AutoencoderProgram(args, console), args, console, keyboard), console


def classifier_session(mnist, tmp_path, keyboard, *flags):
    args = classification.parse(["-d", str(mnist["train_images"]), "-dl", str(mnist["train_labels"]),
                                 "-t", str(mnist["test_images"]), "-tl", str(mnist["test_labels"]),
                                 "--out", str(tmp_path / "runs"), "--no-show", *map(str, flags)])
    console = Console(file=io.StringIO(), width=200)
    return Session(ClassifierProgram(args, console, keyboard), args, console, keyboard), console


def test_autoencoder_menu_train_change_graphs_save_log_exit(mnist, tmp_path):
    keyboard = Keyboard("2" + ENTER, "3" + ENTER, "4" + ENTER, "1" + ENTER, "32" + ENTER,  # the baseline
                        "Train again", "Filters in the first layer", ENTER, "8" + ENTER,  # the baseline's 4 first
                        "Show graphs", "Save the autoencoder", CTRL_U + str(tmp_path / "m.pt") + ENTER,
                        "\x7f" * 2 + "h5" + ENTER, "Show the run log", "Exit")
    session, console = autoencoder_session(mnist, tmp_path, keyboard)
    assert session.run() == 0 and keyboard.script == []
    out = " ".join(console.file.getvalue().split())
    assert "4 is the baseline's own filters in the first layer: choose another value" in out
    assert "m.pt: a model file must end in .h5 or .keras" in out  # and the question came again, holding it
    assert "last 20 of 2 runs" in out and f"Saved the autoencoder to {tmp_path / 'm.h5'}" in out
    runs = pd.read_csv(tmp_path / "runs" / "loss_values.csv")
    assert runs["Filters/Layer"].tolist() == [4, 8] and runs["Layers"].tolist() == [2, 2]
    assert runs["Compute"].tolist() == ["CPU, float32, no XLA"] * 2
    plots = {p.name for p in (tmp_path / "runs" / "plots").glob("*.png")}
    assert {"autoencoder_vs_filters.png", "autoencoder_last_run_curves.png",
            "autoencoder_reconstructions.png"} <= plots
    saved = runs["Model_Path"].dropna()
    assert len(saved) == 1 and keras.models.load_model(saved.iloc[0], compile=False).get_layer(
        "encoder_conv_1").filters == 8


def test_escape_and_ctrl_c_go_back_and_exit_asks_about_an_unsaved_model(mnist, tmp_path, monkeypatch):
    keyboard = Keyboard("Train again", ESC, "Show graphs", "Show the run log", "Exit", "n", "Exit", "y")
    session, console = autoencoder_session(mnist, tmp_path, keyboard, "--layers", 2, "--filter-size", 3,
                                           "--filters", 4, "--epochs", 1, "--batch-size", 32)

    def ctrl_c():
        raise KeyboardInterrupt

    monkeypatch.setattr(session, "show_graphs", ctrl_c)  # Ctrl-C while the graphs are drawn
    assert session.run() == 0 and keyboard.script == []
    assert "Stopped (Ctrl-C): back to the menu." in console.file.getvalue()
    assert keyboard.asked.count("The last autoencoder is not saved. Exit anyway?") == 2
    assert len(pd.read_csv(tmp_path / "runs" / "loss_values.csv")) == 1  # backing out trained nothing


def test_backing_out_of_the_first_question_leaves_without_training(mnist, tmp_path):
    session, _ = autoencoder_session(mnist, tmp_path, Keyboard(ESC))
    assert session.run() == 0 and not (tmp_path / "runs" / "loss_values.csv").exists()


@pytest.mark.slow
def test_classifier_menu_change_another_autoencoder_predict_graphs_save(mnist, saved_autoencoder, tmp_path):
    other = tmp_path / "elsewhere" / "other_ae.h5"
    other.parent.mkdir()
    other.write_bytes(saved_autoencoder.read_bytes())
    keyboard = Keyboard("16" + ENTER, "1" + ENTER, "1" + ENTER, "32" + ENTER, "0" + ENTER,  # the baseline
                        "Train again", "Units in the fully connected layer", "32" + ENTER,
                        "Use another autoencoder", "Type a path", str(other) + ENTER,
                        "Predict the test set", "Show graphs", "Save the classifier", ENTER, "Exit")
    session, console = classifier_session(mnist, tmp_path, keyboard, "-model", saved_autoencoder)
    assert session.run() == 0 and keyboard.script == []
    assert "Test accuracy" in console.file.getvalue()
    runs = pd.read_csv(tmp_path / "runs" / "classification_loss_values.csv")
    assert runs["Fc_units"].tolist() == [16, 32, 16]
    assert runs["Autoencoder"].tolist()[2] == str(other)
    assert runs["Test_Accuracy"].isna().tolist() == [True, True, False]
    plots = {p.name for p in (tmp_path / "runs" / "plots").glob("*.png")}
    assert {"classifier_confusion_matrix.png", "classifier_vs_fc_units.png",
            "classifier_last_run_curves.png"} <= plots


@pytest.mark.slow
def test_classifier_scratch_joint_and_the_study_from_the_menu(mnist, saved_autoencoder, tmp_path, monkeypatch):
    monkeypatch.setattr(measured, "ANSWER", tmp_path / "none.csv")  # no answer table: the joint recipe is offered
    study = ["Study", CTRL_U + "20" + ENTER, "1" + ENTER, CTRL_U + "pretrained,scratch" + ENTER]
    keyboard = Keyboard("Train again", "Encoder initialisation", "scratch",
                        "Train again", "Weight of the reconstruction loss", CTRL_U + "2" + ENTER,
                        "Train with the joint recipe (not measured", *study, *study, "y", "Exit", "y")
    session, console = classifier_session(mnist, tmp_path, keyboard, "-model", saved_autoencoder, "--fc-units", 16,
                                          "--epochs", 1, "--fine-tune-epochs", 1, "--batch-size", 16,
                                          "--labels", "all")
    assert session.run() == 0 and keyboard.script == []
    assert "2 of 2 runs are in the run log already. Reuse them?" in keyboard.asked
    out = console.file.getvalue()
    assert "Reusing 2 of 2 runs" in out and out.count("Label-budget study (") == 2
    runs = pd.read_csv(tmp_path / "runs" / "classification_loss_values.csv")
    assert runs["Init"].tolist()[:2] == ["pretrained", "scratch"] and len(runs) == 4 + 2
    assert (runs.loc[2, "Joint"], runs.loc[2, "Reconstruction_Weight"]) == ("yes", 2)  # the weight asked for it
    assert runs.loc[2, "Reconstruction_Loss"] > 0
    recipe = runs.loc[3]  # the baseline with the joint recipe
    assert (recipe["Init"], recipe["Joint"], recipe["Augment"], recipe["Fc_units"]) == ("pretrained", "yes", "yes", 16)
    assert (recipe["Consistency"], recipe["Noise"], recipe["Fine_Tune_Epochs"]) == (10, 0.3, 1)
    assert (recipe["Joint_Learning_Rate"], recipe["Schedule"]) == (0.003, "cosine")
    assert (recipe["Teacher_Decay"], recipe["Entropy_Weight"]) == (0.99, 1)
    assert runs["Labels_Used"].tolist()[4:] == [20, 20]
    assert sorted(runs["Arm"].tolist()[4:]) == ["pretrained", "scratch"]


def test_the_menu_s_save_proposes_the_save_flag_s_path(mnist, tmp_path):
    keyboard = Keyboard("Save the autoencoder", ENTER, "Exit")
    session, console = autoencoder_session(mnist, tmp_path, keyboard, "--layers", 2, "--filter-size", 3,
                                           "--filters", 4, "--epochs", 1, "--batch-size", 32, "--limit", 100,
                                           "--save", tmp_path / "runs" / "ae.h5")
    assert session.run() == 0 and keyboard.script == []
    assert (tmp_path / "runs" / "ae.h5").exists() and "Saved the autoencoder to" in console.file.getvalue()


def test_a_run_stopped_by_ctrl_c_is_resumed_from_the_menu_from_its_last_finished_epoch(mnist, tmp_path,
                                                                                      monkeypatch):
    keyboard = Keyboard("Resume the stopped run from its last finished epoch", "Exit", "y")
    session, console = autoencoder_session(mnist, tmp_path, keyboard, "--layers", 2, "--filter-size", 3,
                                           "--filters", 4, "--epochs", 3, "--batch-size", 32)

    class CtrlCInSecondEpoch(keras.callbacks.Callback):
        pressed = False

        def on_train_batch_begin(self, batch, logs=None):
            if self.params and not CtrlCInSecondEpoch.pressed and self.epoch == 1 and batch == 2:
                CtrlCInSecondEpoch.pressed = True
                raise KeyboardInterrupt

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

    monkeypatch.setattr("common.ui.programs.autoencoder_program.RichProgress", lambda console: CtrlCInSecondEpoch())
    assert session.run() == 0 and keyboard.script == []
    out = " ".join(console.file.getvalue().split())
    assert "Its backup is kept: resume the stopped run from its last finished epoch from the menu" in out
    runs = pd.read_csv(tmp_path / "runs" / "loss_values.csv")
    assert runs["Interrupted"].fillna("").tolist() == ["yes", ""] and runs["Epochs_Done"].tolist() == [1, 3]
    assert runs["Resumed"].tolist() == [0, 1]
    assert not list((tmp_path / "runs" / "backups").iterdir())  # the finished run removed its backup
