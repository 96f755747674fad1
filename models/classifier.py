"""A digit classifier on a pretrained encoder, trained in two stages: head only, then the whole network."""

import time
from dataclasses import dataclass, field

import numpy as np

from common.keras_setup import keras
from keras import layers

from models.batch_norm import Calibration, calibrate
from models.config import ClassifierConfig
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
    stage_seconds: list[float] = field(default_factory=list)  # wall time of each stage that ran
    interrupted: bool = False  # Ctrl-C ended training early

    @property
    def seconds(self) -> float:
        return sum(self.stage_seconds)


def build_classifier(encoder, config: ClassifierConfig):
    """Return (classifier, head): the head maps encoder features to class probabilities and shares its layers."""
    features = keras.Input(shape=encoder.output_shape[1:], name="features")
    x = layers.Flatten(name="head_flatten")(features)
    x = layers.Dense(config.fc_units, activation="relu", name="head_dense")(x)
    x = layers.Dropout(DROPOUT, name="head_dropout")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="prediction")(x)
    head = keras.Model(features, outputs, name="head")
    images = keras.Input(shape=encoder.input_shape[1:], name="image")
    classifier = keras.Model(images, head(encoder(images)), name="classifier")
    return classifier, head


def train_classifier(encoder, config: ClassifierConfig, train, val, *, seed: int, cache_features=True,
                     callbacks_for=lambda stage: ()) -> ClassifierRun:
    """Train a classifier on `encoder` in two stages; `train` and `val` are (images, labels).

    First the encoder's batch-normalisation statistics are estimated on the training images, the same for a
    pretrained encoder and a random one. Stage 1 trains the head on the frozen encoder (on features computed once
    unless `cache_features` is off). Stage 2 trains the whole network, batch normalisation included, compiled again
    with a lower learning rate; its statistics are re-estimated before each validation and at the end."""
    keras.utils.set_random_seed(seed)
    classifier, head = build_classifier(encoder, config)
    run = ClassifierRun(model=classifier)
    calibrate(encoder, train[0], config.batch_size)  # statistics of this encoder on the images it will see
    encoder.trainable = False
    first = _train_head(encoder, head, classifier, config, train, val, cache_features, callbacks_for("stage 1"),
                        seed)
    _extend(run, first)
    run.stage_boundary = first.epochs_done
    if first.interrupted or config.fine_tune_epochs == 0:
        return run
    encoder.trainable = True  # batch normalisation included: it trains on batch statistics, as from scratch
    _compile(classifier, learning_rate(FINE_TUNE_LEARNING_RATE, config.batch_size))
    _extend(run, fit(classifier, *train, validation_data=val, epochs=config.fine_tune_epochs,
                     batch_size=config.batch_size, callbacks=callbacks_for("stage 2"),
                     calibration=Calibration(encoder, train[0], config.batch_size)))
    return run


def _train_head(encoder, head, classifier, config, train, val, cache_features, callbacks, seed) -> FitResult:
    """Fit the head with the encoder frozen: on cached features, or through the encoder at every step."""
    if not cache_features:
        _compile(classifier, learning_rate(HEAD_LEARNING_RATE, config.batch_size))
        return fit(classifier, *train, validation_data=val, epochs=config.epochs, batch_size=config.batch_size,
                   callbacks=callbacks)
    start = time.perf_counter()
    try:
        train_features, val_features = features(encoder, train[0]), features(encoder, val[0])
    except KeyboardInterrupt:
        return FitResult(interrupted=True, seconds=time.perf_counter() - start)
    _compile(head, learning_rate(HEAD_LEARNING_RATE, config.batch_size))
    result = fit(head, array_batches(train_features, train[1], config.batch_size, seed=seed), None,
                 validation_data=array_batches(val_features, val[1], PREDICT_BATCH), epochs=config.epochs,
                 batch_size=None, callbacks=callbacks)
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


def _compile(model, rate: float) -> None:
    """Compile for classification: sparse categorical cross-entropy, Adam at `rate`, accuracy."""
    model.compile(optimizer=keras.optimizers.Adam(rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])


def _extend(run: ClassifierRun, stage: FitResult) -> None:
    """Append one stage's epochs and time to the run."""
    for name, values in stage.history.items():
        run.history.setdefault(name, []).extend(values)
    run.stage_seconds.append(stage.seconds)
    run.interrupted = run.interrupted or stage.interrupted


def predict_classes(model, images) -> np.ndarray:
    """Class probabilities for each image."""
    return model.predict(images, batch_size=PREDICT_BATCH, verbose=0)
