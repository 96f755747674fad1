"""A digit classifier on a pretrained encoder, trained in two stages: head only, then the whole network."""

import time
from dataclasses import dataclass, field

import numpy as np

from common.keras_setup import keras
from keras import layers

from models.augmentation import augmentation
from models.batch_norm import Calibration, calibrate
from models.config import ClassifierConfig
from models.optimizers import make_optimizer, steps
from models.self_training import Round, self_train
from models.training import FitResult, array_batches, fit

NUM_CLASSES = 10
DROPOUT = 0.2  # dropout rate before the softmax layer (0.5 learned too slowly in short runs: benchmarks/README.md)
HEAD_LEARNING_RATE = 2e-3  # stage 1: Adam on the head alone, for batches of FULL_RATE_BATCH images or more
FINE_TUNE_LEARNING_RATE = 2e-4  # stage 2: a tenth, so a pretrained encoder is adjusted, not overwritten
FULL_RATE_BATCH = 64  # smaller batches get proportionally smaller rates (measured best at 32 and at 64)
PREDICT_BATCH = 256  # images per batch when only computing outputs
FEATURE_CHUNK = 1024  # images per encoder call when caching features


@dataclass
class ClassifierRun:
    """A trained classifier and the history of both stages as one curve."""
    model: keras.Model  # input image -> class probabilities
    history: dict[str, list[float]] = field(default_factory=dict)  # both stages, stage 1 first
    stage_boundary: int = 0  # epochs of stage 1 in `history`
    stage_seconds: list[float] = field(default_factory=list)  # wall time of each stage (and round) that ran
    interrupted: bool = False  # Ctrl-C ended training early
    rounds: list[Round] = field(default_factory=list)  # self-training rounds, after stage 2
    final_epoch: int = -1  # index in `history` of the epoch whose weights the model ends with (early stopping)

    @property
    def seconds(self) -> float:
        return sum(self.stage_seconds)

    @property
    def epochs_done(self) -> int:
        return len(next(iter(self.history.values()), []))

    def log_values(self) -> dict:
        """What the run adds to its log row: final metrics, the time of each stage, and each self-training
        round's pseudo-labels, how many of them were right and the validation accuracy after it."""
        values = {name: self.history[name][self.final_epoch] for name in ("loss", "val_loss", "accuracy",
                                                                          "val_accuracy") if self.history.get(name)}
        values.update(zip(("stage1_time", "stage2_time"), (round(s, 2) for s in self.stage_seconds)))
        if self.rounds:
            last = self.rounds[-1]
            values.update(pseudo_labels=last.pseudo_labels, pseudo_accuracy=last.pseudo_accuracy,
                          rounds="; ".join(f"{r.number}: {r.pseudo_labels} at {r.pseudo_accuracy:.4f}, "
                                           f"val_accuracy {r.val_accuracy:.4f}" for r in self.rounds))
        return values


def build_classifier(encoder, config: ClassifierConfig):
    """Return (classifier, head): the head maps encoder features to class probabilities and shares its layers."""
    features = keras.Input(shape=encoder.output_shape[1:], name="features")
    x = layers.Flatten(name="head_flatten")(features)
    x = layers.Dense(config.fc_units, activation="relu", name="head_dense")(x)
    x = layers.Dropout(DROPOUT, name="head_dropout")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32", name="prediction")(x)
    head = keras.Model(features, outputs, name="head")
    images = keras.Input(shape=encoder.input_shape[1:], name="image")
    seen = augmentation()(images) if config.augment == "yes" else images  # changed in training only
    classifier = keras.Model(images, head(encoder(seen)), name="classifier")
    return classifier, head


def train_classifier(encoder, config: ClassifierConfig, train, val, *, seed: int, unlabelled=None,
                     cache_features=True, callbacks_for=lambda stage: ()) -> ClassifierRun:
    """Train a classifier on `encoder` in two stages, then self-train; `train` and `val` are (images, labels),
    `unlabelled` is (images, true labels or None) for self-training.

    First the encoder's batch-normalisation statistics are estimated on the training images, the same for a
    pretrained encoder and a random one. Stage 1 trains the head on the frozen encoder (on features computed once,
    unless `cache_features` is off or the images are augmented). Stage 2 trains the whole network, batch
    normalisation included, compiled again with a lower learning rate; its statistics are re-estimated before each
    validation and at the end. Then `config.self_training` rounds of self-training on the unlabelled images."""
    keras.utils.set_random_seed(seed)
    classifier, head = build_classifier(encoder, config)
    run = ClassifierRun(model=classifier)
    calibrate(encoder, train[0], config.batch_size)  # statistics of this encoder on the images it will see
    encoder.trainable = False
    first = _train_head(encoder, head, classifier, config, train, val,
                        cache_features and config.augment != "yes", callbacks_for("stage 1"), seed)
    _extend(run, first)
    run.stage_boundary = first.epochs_done
    rounds = config.self_training if unlabelled is not None and len(unlabelled[0]) else 0
    if first.interrupted or not (config.fine_tune_epochs or rounds):
        return run
    encoder.trainable = True  # batch normalisation included: it trains on batch statistics, as from scratch
    _compile(classifier, config, FINE_TUNE_LEARNING_RATE, len(train[0]), config.fine_tune_epochs)
    if config.fine_tune_epochs:
        _extend(run, fit(classifier, *train, validation_data=val, epochs=config.fine_tune_epochs,
                         batch_size=config.batch_size, callbacks=callbacks_for("stage 2"),
                         calibration=Calibration(encoder, train[0], config.batch_size), **_stopping(config)))
    if rounds and not run.interrupted:
        run.rounds, fits = self_train(
            classifier, encoder, config, train, unlabelled, val, callbacks_for=callbacks_for,
            compile_for=lambda images, epochs: _compile(classifier, config, FINE_TUNE_LEARNING_RATE, images, epochs))
        for result in fits:
            _extend(run, result)
    return run


def _train_head(encoder, head, classifier, config, train, val, cache_features, callbacks, seed) -> FitResult:
    """Fit the head with the encoder frozen: on cached features, or through the encoder at every step."""
    if not cache_features:
        _compile(classifier, config, HEAD_LEARNING_RATE, len(train[0]), config.epochs)
        return fit(classifier, *train, validation_data=val, epochs=config.epochs, batch_size=config.batch_size,
                   callbacks=callbacks, **_stopping(config))
    start = time.perf_counter()
    try:
        train_features, val_features = features(encoder, train[0]), features(encoder, val[0])
    except KeyboardInterrupt:
        return FitResult(interrupted=True, seconds=time.perf_counter() - start)
    _compile(head, config, HEAD_LEARNING_RATE, len(train[0]), config.epochs)
    result = fit(head, array_batches(train_features, train[1], config.batch_size, seed=seed), None,
                 validation_data=array_batches(val_features, val[1], PREDICT_BATCH), epochs=config.epochs,
                 batch_size=None, callbacks=callbacks, **_stopping(config))
    result.seconds = time.perf_counter() - start  # the encoder pass is part of the stage's cost
    return result


def features(encoder, images) -> np.ndarray:
    """The encoder's output for every image, computed in chunks into one preallocated array (`predict` would hold
    every batch's output and their concatenation at once)."""
    out = np.empty((len(images), *encoder.output_shape[1:]), dtype=np.float32)
    for start in range(0, len(images), FEATURE_CHUNK):
        out[start:start + FEATURE_CHUNK] = encoder.predict_on_batch(images[start:start + FEATURE_CHUNK])
    return out


def learning_rate(rate: float, batch_size: int) -> float:
    """A stage's learning rate for this batch size: scaled down in proportion below FULL_RATE_BATCH."""
    return rate * min(batch_size, FULL_RATE_BATCH) / FULL_RATE_BATCH


def _compile(model, config: ClassifierConfig, rate: float, images: int, epochs: int) -> None:
    """Compile for classification: sparse categorical cross-entropy, accuracy, the config's optimizer at `rate`
    (scaled to the batch size) with its schedule over `epochs` epochs of `images` images."""
    model.compile(optimizer=make_optimizer(config.optimizer, learning_rate(rate, config.batch_size), config.schedule,
                                           steps(images, config.batch_size, epochs)),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])


def _stopping(config: ClassifierConfig) -> dict:
    """fit's early-stopping and plateau arguments for this config."""
    return {"patience": config.patience, "plateau": config.schedule == "plateau"}


def _extend(run: ClassifierRun, stage: FitResult) -> None:
    """Append one stage's epochs and time to the run."""
    if stage.epochs_done:
        run.final_epoch = run.epochs_done + stage.final_epoch
    for name, values in stage.history.items():
        run.history.setdefault(name, []).extend(values)
    run.stage_seconds.append(stage.seconds)
    run.interrupted = run.interrupted or stage.interrupted


def predict_classes(model, images) -> np.ndarray:
    """Class probabilities for each image."""
    return model.predict(images, batch_size=PREDICT_BATCH, verbose=0)
