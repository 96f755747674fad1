"""Short ways to the product's parts that only the tests take, and what several test modules share."""

import csv
from pathlib import Path

import numpy as np
from PIL import Image

from common.study.runner import run_plan
from common.study.trials import ClassifierTrials
from models.networks.encoder import copy_autoencoder, encoder_view
from models.training.run import TrainedRun

CONTEXT = {"recipe_version": "v1", "autoencoder": "ae.h5", "autoencoder_sha256": "abc123",
           "dataset": "/data/train.gz", "images": 300, "val_split": 0.2, "split_seed": 1, "val_images": 60,
           "test_dataset": "/data/test.gz", "test_images": 100, "encoder_layers": 2, "encoder_filter_size": 3,
           "encoder_filters": 4}


def extract_encoder(autoencoder, source: str = "the model", *, init: str = "pretrained", seed: int | None = None,
                    policy: str | None = None):
    """The encoder of a copy of `autoencoder` (models/encoder.py): training it leaves `autoencoder` as it was."""
    return encoder_view(copy_autoencoder(autoencoder, init=init, seed=seed, policy=policy), source)


def run_study(plan, data, train_one, *, log, context: dict, fresh: bool = False, reporter=None, classes: int = 10):
    """The classifier's plan with `train_one` as its trainer (common/study/runner.py's run_plan)."""
    return run_plan(plan, ClassifierTrials(data, classes, train_one), log=log, context=context, fresh=fresh,
                    reporter=reporter)


def bounds(config_type, name: str) -> tuple:
    """The (low, high) range allowed for one hyperparameter."""
    from models.config.settings import setting

    meta = setting(config_type, name).metadata
    return meta["low"], meta["high"]


def undeclared_columns(folder: Path) -> dict[str, list[str]]:
    """The headers of the run logs under `folder` (by file name: loss_values.csv, classification_loss_values.csv)
    that their schema does not declare (common/tracking/schema.py), for each log that has any."""
    from common.tracking import schema

    declared = {"loss_values.csv": schema.AUTOENCODER, "classification_loss_values.csv": schema.CLASSIFIER}
    found = {}
    for path in Path(folder).rglob("*.csv"):
        if path.name in declared and path.is_file():
            with path.open(newline="", encoding="utf-8", errors="replace") as f:
                header = next(csv.reader(f), [])
            extra = sorted(set(header) - {c.header for c in declared[path.name]})
            if extra:
                found[path.name] = extra
    return found


def weights(model) -> list:
    """A copy of a model's weights."""
    return [w.copy() for w in model.get_weights()]


def same(a: list, b: list) -> bool:
    """Whether two lists of weights are equal, exactly."""
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def cut(saved_autoencoder, init: str = "pretrained"):
    """The encoder and decoder of a seeded copy of a saved autoencoder."""
    from models.networks.encoder import decoder_view
    from models.training.persistence import load_model

    copy = copy_autoencoder(load_model(saved_autoencoder), init=init, seed=1)
    return encoder_view(copy), decoder_view(copy)


class RecordingTrainer:
    """Stands in for training: records what each run was given and returns an untrained softmax model, and can
    be told to stop (as Ctrl-C does) at one call."""

    def __init__(self, stop_at: int | None = None):
        self.calls = []
        self.stop_at = stop_at

    def __call__(self, config, train, seed, callbacks_for, run_id, after_stage_1=None):
        pixels = np.sort(train[0].reshape(len(train[0]), -1).sum(1))
        self.calls.append((config.label_budget, config.init, seed, pixels))
        from common.keras_setup import keras

        inputs = keras.Input((28, 28, 1))
        model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs)))
        interrupted = len(self.calls) == self.stop_at
        run = TrainedRun(model=model, history={"loss": [1.0], "val_loss": [1.1], "accuracy": [0.5],
                                                  "val_accuracy": [0.4]},
                            stage_boundary=1, stage_seconds=[0.01], interrupted=interrupted)
        if after_stage_1 is not None:
            run.extra.update(after_stage_1(model))
        return run

    def trained(self):
        return [(labels, init, seed) for labels, init, seed, _ in self.calls]


def save_folder(folder, images: np.ndarray, labels: np.ndarray | None, names=None) -> None:
    """Write images as PNG files: one sub-folder per class (named by `names`, else by the label), or flat."""
    for i, image in enumerate(images):
        place = folder if labels is None else folder / (names[labels[i]] if names else str(labels[i]))
        place.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image).save(place / f"{i:05d}.png")
