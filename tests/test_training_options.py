"""Training options: early stopping, learning-rate schedules, optimizers, devices and TensorBoard logs."""

import numpy as np
import pandas as pd
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util import tensor_util

from common.errors import UserError
from common.keras_setup import keras
from models.compute.devices import choose_placement
from models.compute.ways import candidates
from models.training.fit import fit
from models.training.optimizers import make_optimizer


class WeightsPerEpoch(keras.callbacks.Callback):
    """Keep a copy of the weights at the end of every epoch."""

    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append([w.copy() for w in self.model.get_weights()])


def diverging():
    """A model whose training makes validation worse every epoch: it learns outputs of 1, validation wants 0."""
    rng = np.random.default_rng(0)
    x, val_x = rng.random((64, 4)).astype("float32"), rng.random((32, 4)).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    return model, (x, np.ones((64, 1), "float32")), (val_x, np.zeros((32, 1), "float32"))


def test_early_stopping_honours_patience_and_keeps_the_best_epochs_weights():
    model, train, val = diverging()
    seen = WeightsPerEpoch()
    result = fit(model, *train, validation_data=val, epochs=30, batch_size=16, callbacks=[seen], patience=2)
    best = int(np.argmin(result.history["val_loss"]))
    assert result.epochs_done == best + 1 + 2  # two epochs without a better val_loss, then stop
    assert result.best_epoch == best == result.final_epoch
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), seen.weights[best]))
    model, train, val = diverging()
    assert fit(model, *train, validation_data=val, epochs=6, batch_size=16).epochs_done == 6  # no patience: all


def test_plateau_halves_the_rate_after_two_epochs_without_progress():
    model, train, val = diverging()
    fit(model, *train, validation_data=val, epochs=6, batch_size=16, plateau=True)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05 / 4)  # after epochs 3 and 5


def test_cosine_schedule_decays_to_zero_and_sgd_gets_larger_steps():
    optimizer = make_optimizer("adam", 1e-3, "cosine", steps=10)
    rates = []
    for step in (0, 5, 10):
        optimizer.iterations.assign(step)
        rates.append(float(optimizer.learning_rate))
    assert rates == pytest.approx([1e-3, 5e-4, 0.0], abs=1e-9)
    sgd = make_optimizer("sgd", 1e-3, "constant", steps=10)
    assert isinstance(sgd, keras.optimizers.SGD) and sgd.nesterov
    assert float(sgd.learning_rate) == pytest.approx(1e-2)
    assert isinstance(make_optimizer("rmsprop", 1e-3, "plateau", 10), keras.optimizers.RMSprop)


@pytest.mark.parametrize("devices, kind, replicas, words", [
    ([("CPU", "/cpu:0")], "cpu", 1, "CPU (2 cores)"),
    ([("CPU", "/cpu:0"), ("GPU", "NVIDIA H100")], "gpu", 1, "GPU (NVIDIA H100)"),
    ([("CPU", "/cpu:0")] + [("GPU", "NVIDIA A100")] * 4, "gpus", 4, "4 GPUs (NVIDIA A100), MirroredStrategy"),
])
def test_the_devices_decide_where_training_runs(devices, kind, replicas, words):
    placement = choose_placement(devices, cpu_cores=2)
    assert (placement.kind, placement.replicas, placement.description) == (kind, replicas, words)
    assert placement.batch_size(64) == 64 * replicas


def test_mixed_precision_is_refused_without_a_gpu():
    with pytest.raises(UserError, match="needs a GPU"):
        candidates(choose_placement([("CPU", "/cpu:0")]).kind, {"avx512_bf16"}, precision="float16")


def _scalars(folder, tag="epoch_loss"):
    """The values of one per-epoch scalar as TensorBoard reads them (TF2 writes scalars as tensor summaries)."""
    events = EventAccumulator(str(folder))
    events.Reload()
    if tag not in events.Tags()["tensors"]:
        return []
    return [float(tensor_util.make_ndarray(e.tensor_proto)) for e in events.Tensors(tag)]


def test_tensorboard_logs_scalars_per_epoch_and_hyperparameters(mnist, tmp_path, in_process):
    done = in_process("autoencoder.py", "-d", mnist["train_images"], "--no-menu", "--layers", 2, "--filters", 4,
                       "--epochs", 2, "--batch-size", 32, "--optimizer", "sgd", "--schedule", "cosine",
                       "--patience", 5, "--tensorboard", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run = pd.read_csv(tmp_path / "runs" / "loss_values.csv").iloc[0]
    assert (run["Optimizer"], run["Schedule"], run["Patience"]) == ("sgd", "cosine", 5)
    assert 1 <= run["Best_Epoch"] <= run["Epochs_Done"] == 2 and run["Device"].startswith("CPU")
    folder = tmp_path / "runs" / "tensorboard" / run["Run_ID"]
    assert len(_scalars(folder / "train")) == 2 and len(_scalars(folder / "validation")) == 2
    events = EventAccumulator(str(folder))
    events.Reload()
    assert events.PluginTagToContent("hparams")  # the hyperparameters, for the HParams plugin


def test_classifier_stages_get_their_own_tensorboard_folders(mnist, saved_autoencoder, tmp_path, in_process):
    done = in_process("classification.py", "-d", mnist["train_images"], "-dl", mnist["train_labels"], "-t",
                       mnist["test_images"], "-tl", mnist["test_labels"], "-model", saved_autoencoder, "--no-menu",
                       "--fc-units", 8, "--epochs", 2, "--fine-tune-epochs", 1, "--batch-size", 32, "--tensorboard",
                       cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run = pd.read_csv(tmp_path / "runs" / "classification_loss_values.csv").iloc[0]
    folder = tmp_path / "runs" / "tensorboard" / run["Run_ID"]
    assert len(_scalars(folder / "stage-1" / "validation")) == 2
    assert len(_scalars(folder / "stage-2" / "train", "epoch_accuracy")) == 1
    assert run["Optimizer"] == "adam" and run["Schedule"] == "constant" and run["Patience"] == 0
