"""Training a classifier on an encoder in two stages, head only then the whole network (or joint training with
the decoder, models/joint.py), then self-training; and timing its steps for choosing how to compute."""

import time
from dataclasses import dataclass

import numpy as np

from common import phases
from common.keras_setup import keras
from models.compute.way_trials import LOSS_STEPS, Candidates
from models.compute.ways import FLOAT32, Way, computing
from models.config.classifier import ClassifierConfig, uses_unlabelled
from models.networks.classifier import build_classifier
from models.networks.joint import JointClassifier
from models.training.batch_norm import Calibration, calibrate
from models.training.batches import PREDICT_BATCH, batches, predict
from models.training.costs import steps
from models.training.fit import FitResult, fit
from models.training.joint_batches import joint_batches
from models.training.optimizers import make_optimizer
from models.training.run import TrainedRun
from models.training.self_training import self_train

HEAD_LEARNING_RATE = 2e-3  # stage 1: the head alone, for batches of FULL_RATE_BATCH images or more
FINE_TUNE_LEARNING_RATE = 2e-4  # stage 2: a tenth, so a pretrained encoder is adjusted, not overwritten
FULL_RATE_BATCH = 64  # smaller batches get proportionally smaller rates (measured best at 32 and at 64)
FEATURE_CHUNK = 1024  # images per encoder call when caching features


@dataclass(frozen=True)
class ClassifierData:
    """What a classifier run trains and validates on: images as model inputs, labels as class numbers."""
    train: tuple[np.ndarray, np.ndarray]  # the labelled images and their classes
    val: tuple[np.ndarray, np.ndarray]  # validation images and classes: measured on, never trained on
    classes: int  # how many classes the labels number (the softmax's width)
    unlabelled: tuple | None = None  # (images, true classes or None) for self-training to pseudo-label
    images: np.ndarray | None = None  # joint training's images to reconstruct: the whole training split


def train_classifier(encoder, config: ClassifierConfig, data: ClassifierData, *, seed: int, way: Way = FLOAT32,
                     decoder=None, callbacks_for=lambda stage: (), after_stage_1=None,
                     cache_features: bool = True) -> TrainedRun:
    """Train a classifier on `encoder` in two stages, then self-train, on `data`.

    First the encoder's batch-normalisation statistics are estimated on the training images, the same for a
    pretrained encoder and a random one. Stage 1 trains the head on the frozen encoder (on features computed once,
    unless `cache_features` is off or the images are augmented). Stage 2 trains the whole network, batch
    normalisation included, compiled again with a lower learning rate; its statistics are re-estimated before each
    validation and at the end. With `config.joint`, stage 2 trains the classifier jointly with `decoder` (the
    encoder's output -> image) reconstructing `data.images` (the whole training split: labelled and unlabelled,
    never a validation or test image); see models/networks/joint.py. Then the rounds of `config.self_training` on
    `data.unlabelled`. Every stage after the first computes in `way` (an encoder built in its precision).
    `callbacks_for(stage)` gives each stage's Keras callbacks. `after_stage_1(classifier)`, when given, is called
    once stage 1 has finished and may return values for the run's log row (the study's test accuracy after
    stage 1)."""
    train = data.train
    keras.utils.set_random_seed(seed)
    with computing(way):
        classifier, head = build_classifier(encoder, config, data.classes)
    run = TrainedRun(model=classifier, compute=way.describe())  # the caller knows the device: it may say more
    calibrate(encoder, train[0], config.batch_size)  # statistics of this encoder on the images it will see
    encoder.trainable = False
    first = _train_head(encoder, head, classifier, config, train, data.val,
                        cache_features and not config.augment, callbacks_for("stage 1"), seed, way.xla)
    run.add(first)
    run.stage_boundary = first.epochs_done
    if after_stage_1 is not None and not first.interrupted:
        run.extra.update(after_stage_1(classifier))
    rounds = config.self_training is not None and data.unlabelled is not None and len(data.unlabelled[0]) > 0
    if first.interrupted or not (config.fine_tune_epochs or rounds):
        return run
    encoder.trainable = True  # batch normalisation included: it trains on batch statistics, as from scratch
    compile_classifier(classifier, config, FINE_TUNE_LEARNING_RATE, len(train[0]), config.fine_tune_epochs,
                       way.xla)
    if config.fine_tune_epochs:
        run.add(_second_stage(classifier, encoder, decoder, config, data, seed, way.xla, callbacks_for))
    if rounds and not run.interrupted:
        _self_training(run, encoder, config, train, data.unlabelled, data.val, way.xla, callbacks_for)
    return run


def _self_training(run: TrainedRun, encoder, config, train, unlabelled, val, xla, callbacks_for) -> None:
    """The self-training rounds after stage 2, each compiled afresh, added to the run."""
    classifier = run.model
    run.rounds, fits = self_train(
        classifier, encoder, config, train, unlabelled, val, callbacks_for=callbacks_for,
        compile_for=lambda images, epochs: compile_classifier(classifier, config, FINE_TUNE_LEARNING_RATE, images,
                                                              epochs, xla))
    for result in fits:
        run.add(result)


def _second_stage(classifier, encoder, decoder, config, data: ClassifierData, seed, xla, callbacks_for
                  ) -> FitResult:
    """Stage 2: the whole network on the labelled images, or joint training with the decoder."""
    if config.joint is not None:
        return fit_joint(classifier, encoder, decoder, config, data.train, data.images, data.val, seed=seed,
                         xla=xla, callbacks=callbacks_for("stage 2, joint"))
    train = data.train
    return fit(classifier, *train, validation_data=data.val, epochs=config.fine_tune_epochs,
               batch_size=config.batch_size, callbacks=callbacks_for("stage 2"),
               calibration=Calibration(encoder, train[0], config.batch_size), **_stopping(config))


def _train_head(encoder, head, classifier, config, train, val, cache_features, callbacks, seed, xla) -> FitResult:
    """Fit the head with the encoder frozen: on cached features, or through the encoder at every step (compiled
    with XLA when `xla`)."""
    if not cache_features:
        compile_classifier(classifier, config, HEAD_LEARNING_RATE, len(train[0]), config.epochs, xla)
        return fit(classifier, *train, validation_data=val, epochs=config.epochs, batch_size=config.batch_size,
                   callbacks=callbacks, **_stopping(config))
    start = time.perf_counter()
    try:
        train_features = features(encoder, train[0])
        val_features = features(encoder, val[0])
    except KeyboardInterrupt:
        return FitResult(interrupted=True, seconds=time.perf_counter() - start)
    compile_classifier(head, config, HEAD_LEARNING_RATE, len(train[0]), config.epochs)
    result = fit(head, batches(train_features, train[1], config.batch_size, seed=seed), None,
                 validation_data=batches(val_features, val[1], PREDICT_BATCH), epochs=config.epochs,
                 batch_size=None, callbacks=callbacks, **_stopping(config))
    result.seconds = time.perf_counter() - start  # the encoder pass is part of the stage's cost
    return result


def features(encoder, images) -> np.ndarray:
    """The encoder's output for every image, computed in chunks into one preallocated array (Keras' `predict`
    would hold every batch's output and their concatenation at once)."""
    with phases.phase("encoding features"):
        return predict(encoder, images, FEATURE_CHUNK)


def learning_rate(rate: float, batch_size: int) -> float:
    """A stage's learning rate for this batch size: scaled down in proportion below FULL_RATE_BATCH."""
    return rate * min(batch_size, FULL_RATE_BATCH) / FULL_RATE_BATCH


def compile_classifier(model, config: ClassifierConfig, rate: float, images: int, epochs: int,
                       xla: bool = False) -> None:
    """Compile for classification: sparse categorical cross-entropy, accuracy, the config's optimizer at `rate`
    (scaled to the batch size) with its schedule over `epochs` epochs of `images` images; XLA when `xla`."""
    model.compile(optimizer=make_optimizer(config.optimizer, learning_rate(rate, config.batch_size), config.schedule,
                                           steps(images, config.batch_size, epochs)),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")], jit_compile=xla)


def fit_joint(classifier, encoder, decoder, config: ClassifierConfig, train, images, val, *, seed: int,
              xla: bool = False, callbacks=()) -> FitResult:
    """Stage 2 as joint training (models/joint.py): `config.fine_tune_epochs` passes over `images`, each batch
    paired with a labelled batch of `train`; the classifier's loss plus the reconstruction weight times the
    decoder's error on `images` seen with noise, and the other terms on them. Batch-normalisation statistics are
    estimated on `images`, or on the labelled images when no term uses the others (`uses_unlabelled`): then
    nothing of the unlabelled images reaches the model, only their number sets the steps."""
    per_step = config.unlabelled_batch or config.batch_size
    settings = config.joint
    joint = JointClassifier(classifier, encoder, decoder, weight=settings.reconstruction_weight,
                            noise=settings.noise, consistency=settings.consistency,
                            teacher_decay=settings.teacher_decay, entropy=settings.entropy_weight,
                            ramp_steps=len(images) // per_step, seed=seed)
    joint.build(None)  # built, so that a backup can be restored into it
    compile_classifier(joint, config, settings.joint_learning_rate, len(images) * config.batch_size // per_step,
                       config.fine_tune_epochs, xla)
    return fit(joint, joint_batches(train, images, config.batch_size, seed, per_step), None,
               validation_data=batches(*val, PREDICT_BATCH), epochs=config.fine_tune_epochs, batch_size=None,
               callbacks=callbacks, calibration=Calibration(encoder, images if uses_unlabelled(config) else train[0],
                                                            config.batch_size), **_stopping(config))


def _stopping(config: ClassifierConfig) -> dict:
    """fit's early-stopping and plateau arguments for this config."""
    return {"patience": config.patience, "plateau": config.schedule == "plateau"}


def predict_probabilities(model, images) -> np.ndarray:
    """Class probabilities for each image (the predicted class is their argmax)."""
    with phases.phase("prediction"):
        return predict(model, images)


def way_timer(make_encoder, config: ClassifierConfig, train, *, seed: int, classes: int) -> Candidates:
    """The candidates for choosing how to compute (models/training/compute.py): fresh classifiers on
    `make_encoder(way)`, seeded as the run's will be, trained step by step as in stage 2 on the labelled images
    (repeated when they are fewer than the batches)."""
    size = min(config.batch_size, len(train[0]))
    rows = np.resize(np.arange(len(train[0])), LOSS_STEPS * size)

    def build(way: Way):
        encoder = make_encoder(way)
        with computing(way):
            classifier, _ = build_classifier(encoder, config, classes)
        compile_classifier(classifier, config, FINE_TUNE_LEARNING_RATE, len(train[0]), config.fine_tune_epochs,
                           way.xla)
        return classifier

    return Candidates(build, lambda: batches(train[0][rows], train[1][rows], size, seed=seed), size, seed)
