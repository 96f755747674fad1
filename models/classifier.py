"""A digit classifier on a pretrained encoder, trained in two stages: head only, then the whole network."""

import time
from dataclasses import dataclass, field

import numpy as np

from common.keras_setup import keras
from keras import layers

from models.config import ClassifierConfig
from models.training import FitResult, array_batches, fit

NUM_CLASSES = 10
DROPOUT = 0.5  # dropout rate before the softmax layer
HEAD_LEARNING_RATE = 1e-3  # stage 1: Adam on the head alone
FINE_TUNE_LEARNING_RATE = 1e-4  # stage 2: lower, so the pretrained encoder is adjusted, not overwritten
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
    """Stage 1: the head on the frozen encoder (on features computed once unless `cache_features` is off).
    Stage 2: the whole network, compiled again with a lower learning rate. `train` and `val` are (x, y)."""
    keras.utils.set_random_seed(seed)
    classifier, head = build_classifier(encoder, config)
    run = ClassifierRun(model=classifier)
    encoder.trainable = False
    first = _train_head(encoder, head, classifier, config, train, val, cache_features, callbacks_for("stage 1"),
                        seed)
    _extend(run, first)
    run.stage_boundary = first.epochs_done
    if first.interrupted or config.fine_tune_epochs == 0:
        return run
    _unfreeze(encoder)
    _compile(classifier, FINE_TUNE_LEARNING_RATE)
    _extend(run, fit(classifier, *train, validation_data=val, epochs=config.fine_tune_epochs,
                     batch_size=config.batch_size, callbacks=callbacks_for("stage 2")))
    return run


def _train_head(encoder, head, classifier, config, train, val, cache_features, callbacks, seed) -> FitResult:
    """Fit the head with the encoder frozen: on cached features, or through the encoder at every step."""
    if not cache_features:
        _compile(classifier, HEAD_LEARNING_RATE)
        return fit(classifier, *train, validation_data=val, epochs=config.epochs, batch_size=config.batch_size,
                   callbacks=callbacks)
    start = time.perf_counter()
    try:
        train_features, val_features = features(encoder, train[0]), features(encoder, val[0])
    except KeyboardInterrupt:
        return FitResult(interrupted=True, seconds=time.perf_counter() - start)
    _compile(head, HEAD_LEARNING_RATE)
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


def _unfreeze(encoder) -> None:
    """Make the encoder trainable but keep its batch normalisation in inference mode, as in stage 1: in Keras 3
    a frozen BatchNormalization layer uses its moving statistics, which `training=False` on a nested call does not
    guarantee under `fit`."""
    encoder.trainable = True
    for layer in encoder.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.trainable = False


def _compile(model, learning_rate: float) -> None:
    """Compile for classification: sparse categorical cross-entropy, Adam, accuracy."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
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
