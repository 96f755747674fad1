"""classification.py run without a terminal: the one-shot mode and every bad input."""

import shutil
import time

import numpy as np
import pandas as pd
import pytest

from common.data.idx import write_idx
from common.keras_setup import keras
from tests.conftest import assert_one_line_error, run_program

SMALL = ["--fc-units", 16, "--epochs", 1, "--fine-tune-epochs", 1, "--batch-size", 32]

ONE_BUDGET_RULE = ("expected all (every label), or from 10 (one per class) to 240 (the labelled training images "
                   "after the validation split)")  # the one message of every label budget refused


def data_flags(mnist):
    return ["-d", mnist["train_images"], "-dl", mnist["train_labels"], "-t", mnist["test_images"],
            "-tl", mnist["test_labels"]]


def test_no_menu_takes_the_newest_autoencoder_trains_both_stages_predicts_logs_and_saves(mnist, saved_autoencoder,
                                                                                         tmp_path, in_process):
    (tmp_path / "runs").mkdir()
    for name in ("older.h5", "newer.h5"):  # without -model or a terminal: the newest under --out
        shutil.copy(saved_autoencoder, tmp_path / "runs" / name)
        time.sleep(0.05)
    done = in_process("classification.py", *data_flags(mnist), "--no-menu", *SMALL, "--patience", 1, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and "Using the newest autoencoder under runs/: runs/newer.h5" in done.stdout
    assert "stage 1, epoch 1/1" in done.stdout and "stage 2, epoch 1/1" in done.stdout
    assert "Early-stopping patience" in done.stdout and "reconstruction" not in done.stdout  # what is in effect
    assert "Test accuracy:" in done.stdout
    runs = pd.read_csv(tmp_path / "runs" / "classification_loss_values.csv")
    assert len(runs) == 1
    run = runs.iloc[0]
    assert [run["Layers"], run["Fc_units"], run["Epochs"], run["Batch_Size"],
            run["Fine_Tune_Epochs"]] == [2, 16, 1, 32, 1]
    assert run["Epochs_Done"] == 2 and run["Labels_Used"] == 240 and run["Best_Epoch"] == 2  # the sidecar's too
    assert 0.2 < run["Test_Accuracy"] <= 1 and f"{run['Test_Accuracy']:.4f}" in done.stdout  # above chance
    assert run["Filter_Size"] == 3 and run["Filters/Layer"] == 4 and run["Autoencoder"] == "runs/newer.h5"
    model = keras.models.load_model(tmp_path / run["Model_Path"], compile=False)
    assert model.output_shape == (None, 10)
    for name in ("confusion_matrix", "correct_predictions", "wrong_predictions"):
        assert (tmp_path / "runs" / "plots" / f"classifier_{name}.png").exists()


def test_labels_and_a_scratch_encoder_are_trained_and_logged(mnist, saved_autoencoder, tmp_path, in_process):
    done = in_process("classification.py", *data_flags(mnist), "-model", saved_autoencoder, "--no-menu", *SMALL,
                      "--labels", 50, "--batch-size", 10, "--init", "scratch", "--val-limit", 25, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run = pd.read_csv(tmp_path / "runs" / "classification_loss_values.csv").iloc[0]
    assert run["Labels"] == 50 and run["Labels_Used"] == 50 and run["Val_Images"] == 25  # validated on 25 only
    assert run["Init"] == "scratch" and "scratch" in run["Model_Path"]


def test_without_model_or_a_saved_autoencoder_the_flag_is_named(mnist, tmp_path, in_process):
    done = in_process("classification.py", *data_flags(mnist), "--no-menu", cwd=tmp_path)
    assert_one_line_error(done, "no autoencoder given and none saved under runs/: pass -model PATH")


def _files(folder, mnist):
    write_idx(folder / "short-labels", np.zeros(10, dtype=np.uint8))
    write_idx(folder / "bad-labels", np.full(300, 11, dtype=np.uint8))
    (folder / "fake.h5").write_bytes(b"this is no model")
    inputs = keras.Input((32, 32, 1))
    keras.Model(inputs, keras.layers.Conv2D(1, 3, padding="same")(inputs)).save(folder / "wide.h5")
    inputs = keras.Input((28, 28, 1))
    keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(inputs))).save(folder / "clf.h5")


@pytest.mark.parametrize("change, fragments", [
    ({"-dl": "short-labels"}, ["short-labels: holds 10 labels but", "holds 300 images"]),
    ({"-dl": "bad-labels"}, ["bad-labels: holds one class only (11); a classifier needs two or more"]),
    ({"-model": "fake.h5"}, ["fake.h5: not a Keras model file"]),
    ({"-model": "wide.h5"}, ["wide.h5: expects inputs of 32x32x1 but the images in"]),
    ({"-model": "clf.h5"}, ["clf.h5: not an autoencoder"]),
    ({"-model": "gone.h5"}, ["gone.h5: no such model file"]),
    ({"-t": "gone.gz"}, ["gone.gz: no such file"]),
    ({"--fc-units": "lots"}, ["argument --fc-units: 'lots': expected a whole number"]),
    ({"--labels": "5"}, [f"--labels 5: {ONE_BUDGET_RULE}"]),
    ({"--labels": "1000"}, [f"--labels 1000: {ONE_BUDGET_RULE}"]),
])
def test_bad_inputs_give_one_line_and_a_non_zero_exit(mnist, saved_autoencoder, tmp_path, in_process, change,
                                                     fragments):
    _files(tmp_path, mnist)
    flags = dict(zip(data_flags(mnist)[::2], data_flags(mnist)[1::2]))
    flags.update({"-model": saved_autoencoder, **change})
    args = [str(a) for pair in flags.items() for a in pair]
    done = in_process("classification.py", *args, "--no-menu", *SMALL, cwd=tmp_path)
    assert_one_line_error(done, *fragments)
    assert not (tmp_path / "runs" / "classification_loss_values.csv").exists()


STUDY = ["--study", "labels", "--labels", "20", "--repeats", 1, "--epochs", 1, "--fine-tune-epochs", 1,
         "--fc-units", 16, "--batch-size", 16]


def _table(stdout: str) -> str:
    """The study's table as printed: from its title to its caption."""
    start = stdout.index("Label-budget study (")
    return stdout[start:stdout.index("Logged to", start)]


@pytest.mark.slow
def test_study_trains_both_arms_logs_every_run_and_a_second_call_reuses_them(mnist, saved_autoencoder, tmp_path,
                                                                             in_process):
    done = in_process("classification.py", *data_flags(mnist), "-model", saved_autoencoder, *STUDY, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    runs = pd.read_csv(tmp_path / "runs" / "classification_loss_values.csv")
    assert len(runs) == 2 and runs["Test_Accuracy"].between(0.15, 1).all()  # above chance, 20 labels
    assert runs["Init"].tolist() == ["pretrained", "scratch"] and runs["Arm"].tolist() == ["pretrained", "scratch"]
    assert runs["Labels_Used"].tolist() == [20] * 2 and runs["Seed"].tolist() == [1, 1]
    assert runs["Autoencoder_SHA256"].nunique() == 1 and len(runs.loc[0, "Autoencoder_SHA256"]) == 64
    assert "run 2/2" in done.stdout
    assert (tmp_path / "runs" / "plots" / "classifier_label_study.png").read_bytes()[:4] == b"\x89PNG"
    summary = pd.read_csv(tmp_path / "runs" / "label_study_summary.csv")  # the table in numbers, intervals included
    assert {"pretrained_mean", "pretraining_mean", "pretraining_low", "pretraining_high"} <= set(summary.columns)

    again = in_process("classification.py", *data_flags(mnist), "-model", saved_autoencoder, *STUDY, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "Reusing 2 of 2 runs" in again.stdout and "run 1/2" not in again.stdout
    assert _table(again.stdout) == _table(done.stdout)
    assert len(pd.read_csv(tmp_path / "runs" / "classification_loss_values.csv")) == 2


@pytest.mark.parametrize("args, fragments", [
    (["--study", "labels", "--labels", "0"], ["--labels 0: at least one labelled image per class is needed, or "
                                              "'all' for every label"]),
    (["--study", "labels", "--labels", "5"], [f"--labels 5: {ONE_BUDGET_RULE}"]),
    (["--study", "labels", "--labels", "abc"], ["argument --labels: 'abc': expected numbers of labelled images"]),
    (["--study", "labels", "--repeats", "0"], ["argument --repeats: '0': must be from 1 to 100"]),
    (["--study", "labels", "--labels", "100,1000"], [f"--labels 1000: {ONE_BUDGET_RULE}"]),
    (["--study", "labels", "--labels", "20", "--batch-size", "32"], ["batch size 32 is larger than the 20 labelled "
                                                                     "training images: use --batch-size 20 or less"]),
    (["--study", "labels", "--init", "scratch"], ["--init does not go with --study labels"]),
    (["--labels", "100,1000"], ["--labels 100,1000: give one number"]),
    (["--repeats", "2"], ["--repeats goes with --sweep or --study labels"]),
    (["--study", "labels", "--arms", "joint,bogus"], ["--arms joint,bogus: bogus is not an arm"]),
    (["--arms", "joint"], ["--arms goes with --study labels"]),
    (["--reconstruction-weight", "-1"], ["argument --reconstruction-weight: '-1': must be from 0.0 to 1000.0"]),
    (["--noise", "2"], ["argument --noise: '2': must be from 0.0 to 1.0"]),
    (["--joint-learning-rate", "0"], ["argument --joint-learning-rate: '0': must be from 1e-06 to 1.0"]),
    (["--no-menu", "--precision", "float16"], ["--precision float16 (--mixed-precision) needs a GPU"]),
    (["--sweep", "labels=5,20", "--batch-size", "5"], [f"--labels 5: {ONE_BUDGET_RULE}"]),
    (["--sweep", "batch-size=10,64", "--labels", "20"], ["batch size 64 is larger than the 20 labelled training"]),
    (["--sweep", "pseudo-cap=3,5"], ["--pseudo-cap is a setting of self-training: add --self-training N"]),
])
def test_bad_study_arguments_stop_before_training(mnist, saved_autoencoder, tmp_path, in_process, args, fragments):
    done = in_process("classification.py", *data_flags(mnist), "-model", saved_autoencoder, *args, cwd=tmp_path)
    assert_one_line_error(done, *fragments)
    assert "Label-budget study:" not in done.stdout and "Sweep of" not in done.stdout and "epoch 1/" not in done.stdout
    assert not (tmp_path / "runs" / "classification_loss_values.csv").exists()


@pytest.mark.slow
def test_a_self_training_run_logs_one_row_with_its_rounds(mnist, saved_autoencoder, tmp_path, in_process):
    done = in_process("classification.py", *data_flags(mnist), "-model", saved_autoencoder, "--no-menu", *SMALL,
                       "--labels", 30, "--batch-size", 10, "--augment", "--self-training", 1,
                       "--pseudo-threshold", 0.5, "--pseudo-cap", 3, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Self-training on the unlabelled images" in done.stdout
    runs = pd.read_csv(tmp_path / "runs" / "classification_loss_values.csv")
    assert len(runs) == 1
    run = runs.iloc[0]
    assert run["Augment"] == "yes" and run["Self_Training"] == 1 and run["Pseudo_Cap"] == 3
    right = run["Pseudo_Accuracy"] * run["Pseudo_Labels"]  # the share right of the pseudo-labels taken
    assert 0 < run["Pseudo_Labels"] <= 30 and abs(right - round(right)) < 1e-3
    assert run["Rounds"].startswith(f"1: {run['Pseudo_Labels']} at ") and "val_accuracy" in run["Rounds"]
    assert run["Epochs_Done"] == 3 and "augment-st1" in run["Model_Path"]


def test_every_setting_of_joint_training_or_the_ladder_asks_for_it_and_self_trainings_need_rounds(mnist, tmp_path):
    import classification
    from common.ui.cli.flags import given_hyperparameters
    from models.config.classifier import ClassifierConfig
    from models.config.settings import make, settings

    for s in settings(ClassifierConfig):
        if s.group not in ("joint", "ladder") or s.role != "value":
            continue
        value = "1,2" if "weights" in s.metadata else s.metadata["choices"][-1] if "choices" in s.metadata else \
            "1" if isinstance(s.default, int) else "0.1"
        config = make(ClassifierConfig, given_hyperparameters(classification.parse([s.flag, value]), ClassifierConfig))
        assert getattr(config, s.group) is not None, s.name
    assert given_hyperparameters(classification.parse([]), ClassifierConfig) == {}  # nothing said: asked, or defaults
    done = run_program("classification.py", *data_flags(mnist), "--pseudo-threshold", "0.8", "--no-menu", cwd=tmp_path)
    assert_one_line_error(done, "--pseudo-threshold is a setting of self-training: add --self-training N")
    assert not (tmp_path / "runs").exists()  # refused before anything was loaded or trained
