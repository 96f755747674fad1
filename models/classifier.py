"""A digit classifier on a pretrained encoder, trained in two stages: head only, then the whole network."""

import time
from dataclasses import dataclass, field

import numpy as np

from common import phases
from common.keras_setup import keras, layers
from models.augmentation import augmentation
from models.batch_norm import Calibration, calibrate
from models.batches import PREDICT_BATCH, batches, predict
from models.compute import FLOAT32, TIMED_STEPS, WARM_STEPS, Way, computing, time_steps
from models.config import ClassifierConfig
from models.joint import JointClassifier, joint_batches
from models.optimizers import make_optimizer, steps
from models.self_training import Round, self_train
from models.training import FitResult, fit

NUM_CLASSES = 10
DROPOUT = 0.2  # dropout rate before the softmax layer (0.5 learned too slowly in short runs: benchmarks/README.md)
HEAD_LEARNING_RATE = 2e-3  # stage 1: Adam on the head alone, for batches of FULL_RATE_BATCH images or more
FINE_TUNE_LEARNING_RATE = 2e-4  # stage 2: a tenth, so a pretrained encoder is adjusted, not overwritten
JOINT_LEARNING_RATE = 2e-4  # stage 2 of joint training
FULL_RATE_BATCH = 64  # smaller batches get proportionally smaller rates (measured best at 32 and at 64)
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
    compute: str = ""  # how it computed: "CPU, float32, no XLA"
    extra: dict = field(default_factory=dict)  # more values for its log row (the study's stage-1 test accuracy)

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
        values["compute"] = self.compute
        values.update(self.extra)
        if self.history.get("reconstruction"):  # joint training's epochs only: after stage 1's
            joint = self.history["reconstruction"]
            values["reconstruction_loss"] = joint[min(max(self.final_epoch - self.stage_boundary, 0), len(joint) - 1)]
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
                     cache_features=True, callbacks_for=lambda stage: (), way: Way = FLOAT32, decoder=None,
                     images=None, after_stage_1=None) -> ClassifierRun:
    """Train a classifier on `encoder` in two stages, then self-train; `train` and `val` are (images, labels),
    `unlabelled` is (images, true labels or None) for self-training.

    First the encoder's batch-normalisation statistics are estimated on the training images, the same for a
    pretrained encoder and a random one. Stage 1 trains the head on the frozen encoder (on features computed once,
    unless `cache_features` is off or the images are augmented). Stage 2 trains the whole network, batch
    normalisation included, compiled again with a lower learning rate; its statistics are re-estimated before each
    validation and at the end. With `config.joint`, stage 2 trains the classifier jointly with `decoder` (the
    encoder's output -> image) reconstructing `images` (the whole training split: labelled and unlabelled, never a
    validation or test image); see models/joint.py. Then `config.self_training` rounds of self-training on the
    unlabelled images. Every stage after the first computes in `way` (an encoder built in its precision:
    `extract_encoder`). `after_stage_1(classifier)`, when given, is called once stage 1 has finished and may return
    values for the run's log row (the study's test accuracy after stage 1)."""
    keras.utils.set_random_seed(seed)
    with computing(way):
        classifier, head = build_classifier(encoder, config)
    run = ClassifierRun(model=classifier, compute=way.describe())  # the caller knows the device: it may say more
    calibrate(encoder, train[0], config.batch_size)  # statistics of this encoder on the images it will see
    encoder.trainable = False
    first = _train_head(encoder, head, classifier, config, train, val,
                        cache_features and config.augment != "yes", callbacks_for("stage 1"), seed, way.xla)
    _extend(run, first)
    run.stage_boundary = first.epochs_done
    if after_stage_1 is not None and not first.interrupted:
        run.extra.update(after_stage_1(classifier))
    rounds = config.self_training if unlabelled is not None and len(unlabelled[0]) else 0
    if first.interrupted or not (config.fine_tune_epochs or rounds):
        return run
    encoder.trainable = True  # batch normalisation included: it trains on batch statistics, as from scratch
    compile_classifier(classifier, config, FINE_TUNE_LEARNING_RATE, len(train[0]), config.fine_tune_epochs,
                       way.xla)
    if config.fine_tune_epochs and config.joint == "yes":
        _extend(run, fit_joint(classifier, encoder, decoder, config, train, images, val, seed=seed, xla=way.xla,
                               callbacks=callbacks_for("stage 2, joint")))
    elif config.fine_tune_epochs:
        _extend(run, fit(classifier, *train, validation_data=val, epochs=config.fine_tune_epochs,
                         batch_size=config.batch_size, callbacks=callbacks_for("stage 2"),
                         calibration=Calibration(encoder, train[0], config.batch_size), **_stopping(config)))
    if rounds and not run.interrupted:
        run.rounds, fits = self_train(
            classifier, encoder, config, train, unlabelled, val, callbacks_for=callbacks_for,
            compile_for=lambda images, epochs: compile_classifier(classifier, config, FINE_TUNE_LEARNING_RATE,
                                                                  images, epochs, way.xla))
        for result in fits:
            _extend(run, result)
    return run


def _train_head(encoder, head, classifier, config, train, val, cache_features, callbacks, seed, xla) -> FitResult:
    """Fit the head with the encoder frozen: on cached features, or through the encoder at every step (compiled
    with XLA when `xla`)."""
    if not cache_features:
        compile_classifier(classifier, config, HEAD_LEARNING_RATE, len(train[0]), config.epochs, xla)
        return fit(classifier, *train, validation_data=val, epochs=config.epochs, batch_size=config.batch_size,
                   callbacks=callbacks, **_stopping(config))
    start = time.perf_counter()
    try:
        train_features, val_features = features(encoder, train[0]), features(encoder, val[0])
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
    decoder's error on `images` seen with noise. Batch-normalisation statistics are estimated on `images`."""
    joint = JointClassifier(classifier, encoder, decoder, weight=config.reconstruction_weight, noise=config.noise,
                            seed=seed)
    compile_classifier(joint, config, JOINT_LEARNING_RATE, len(images), config.fine_tune_epochs, xla)
    return fit(joint, joint_batches(train, images, config.batch_size, seed), None,
               validation_data=batches(*val, PREDICT_BATCH), epochs=config.fine_tune_epochs, batch_size=None,
               callbacks=callbacks, calibration=Calibration(encoder, images, config.batch_size), **_stopping(config))


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
    with phases.phase("prediction"):
        return predict(model, images)


def planned_steps(config: ClassifierConfig, labelled: int, unlabelled: int, images: int,
                  classes: int = NUM_CLASSES) -> int:
    """Training steps through the whole network a run will take (stage 2, stage 1 when augmented, and the
    self-training rounds with the most pseudo-labels the caps allow; joint training's stage 2 passes over all
    `images` of the training split): what a measurement of ways must repay."""
    stage2 = images if config.joint == "yes" else labelled
    total = steps(stage2, config.batch_size, config.fine_tune_epochs)
    if config.augment == "yes":
        total += steps(labelled, config.batch_size, config.epochs)
    for number in range(1, config.self_training + 1 if unlabelled else 1):
        pseudo = min(unlabelled, config.pseudo_cap * number * classes)
        total += steps(labelled + pseudo, config.batch_size, config.round_epochs)
    return total


def way_timer(make_encoder, config: ClassifierConfig, train, *, seed: int):
    """A `time_way(way) -> Trial` for choosing how to compute (models/compute.py): a few stage-2 steps of a fresh
    classifier on `make_encoder(way)`, seeded as the run will be, on the labelled images (repeated when they are
    fewer than the steps)."""
    size = min(config.batch_size, len(train[0]))
    count = WARM_STEPS + TIMED_STEPS
    order = np.resize(np.arange(len(train[0])), count * size)
    batches = [(train[0][order[i * size:(i + 1) * size]], train[1][order[i * size:(i + 1) * size]])
               for i in range(count)]

    def time_way(way: Way):
        keras.utils.set_random_seed(seed)
        encoder = make_encoder(way)
        with computing(way):
            classifier, _ = build_classifier(encoder, config)
        compile_classifier(classifier, config, FINE_TUNE_LEARNING_RATE, len(train[0]), config.fine_tune_epochs,
                           way.xla)
        return time_steps(classifier, batches, way)

    return time_way
