"""classification.py run without a terminal: the one-shot mode and every bad input."""

import numpy as np
import pandas as pd
import pytest

from common.idx import write_idx
from common.keras_setup import keras
from tests.conftest import assert_one_line_error, run_program

SMALL = ["--fc-units", 16, "--epochs", 1, "--fine-tune-epochs", 1, "--batch-size", 32]


def data_flags(mnist):
    return ["-d", mnist["train_images"], "-dl", mnist["train_labels"], "-t", mnist["test_images"],
            "-tl", mnist["test_labels"]]


def test_no_menu_trains_both_stages_predicts_logs_and_saves(mnist, saved_autoencoder, tmp_path):
    done = run_program("classification.py", *data_flags(mnist), "-model", saved_autoencoder, "--no-menu", *SMALL,
                       cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "stage 1, epoch 1/1" in done.stdout and "stage 2, epoch 1/1" in done.stdout
    assert "Test accuracy:" in done.stdout
    runs = pd.read_csv(tmp_path / "runs" / "classification_loss_values.csv")
    assert len(runs) == 1
    run = runs.iloc[0]
    assert [run["Layers"], run["Fc_units"], run["Epochs"], run["Batch_Size"], run["Fine_Tune_Epochs"]] == [2, 16, 1, 32, 1]
    assert run["Epochs_Done"] == 2 and run["Labels_Used"] == 240
    assert 0 <= run["Test_Accuracy"] <= 1 and f"{run['Test_Accuracy']:.4f}" in done.stdout
    assert run["Filter_Size"] == 3 and run["Filters/Layer"] == 4 and run["Autoencoder"] == str(saved_autoencoder)
    model = keras.models.load_model(tmp_path / run["Model_Path"], compile=False)
    assert model.output_shape == (None, 10)
    for name in ("confusion_matrix", "correct_predictions", "wrong_predictions"):
        assert (tmp_path / "runs" / "plots" / f"classifier_{name}.png").exists()


def test_labels_option_trains_on_a_balanced_subset(mnist, saved_autoencoder, tmp_path):
    done = run_program("classification.py", *data_flags(mnist), "-model", saved_autoencoder, "--no-menu", *SMALL,
                       "--labels", 50, "--batch-size", 10, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run = pd.read_csv(tmp_path / "runs" / "classification_loss_values.csv").iloc[0]
    assert run["Labels"] == 50 and run["Labels_Used"] == 50


def test_model_is_required_without_a_terminal(mnist, tmp_path):
    done = run_program("classification.py", *data_flags(mnist), "--no-menu", cwd=tmp_path)
    assert_one_line_error(done, "no autoencoder given: pass -model PATH")


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
    ({"-dl": "bad-labels"}, ["bad-labels: labels must be 0-9, found 11"]),
    ({"-model": "fake.h5"}, ["fake.h5: not a Keras model file"]),
    ({"-model": "wide.h5"}, ["wide.h5: expects inputs of 32x32x1 but the images in"]),
    ({"-model": "clf.h5"}, ["clf.h5: not an autoencoder"]),
    ({"-model": "gone.h5"}, ["gone.h5: no such model file"]),
    ({"-t": "gone.gz"}, ["gone.gz: no such file"]),
    ({"--fc-units": "lots"}, ["argument --fc-units: 'lots': expected a whole number"]),
    ({"--labels": "5"}, ["labelled images must be 0 (all) or from 10 to 240, got 5"]),
])
def test_bad_inputs_give_one_line_and_a_non_zero_exit(mnist, saved_autoencoder, tmp_path, change, fragments):
    _files(tmp_path, mnist)
    flags = dict(zip(data_flags(mnist)[::2], data_flags(mnist)[1::2]))
    flags.update({"-model": saved_autoencoder, **change})
    args = [str(a) for pair in flags.items() for a in pair]
    done = run_program("classification.py", *args, "--no-menu", *SMALL, cwd=tmp_path)
    assert_one_line_error(done, *fragments)
    assert not (tmp_path / "runs" / "classification_loss_values.csv").exists()
