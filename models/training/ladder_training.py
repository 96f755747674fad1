"""Training the ladder network on an autoencoder's encoder and the classifier's head (models/networks/ladder.py,
ladder_levels.py), in one stage as the reference does: Adam, its rate falling linearly to 0 over the last third
of the epochs, a labelled batch and a batch of every training image a step, an epoch one pass over the latter."""

import numpy as np

from common.keras_setup import keras
from models.compute.ways import FLOAT32, Way, computing
from models.config.classifier import ClassifierConfig, ladder_head, ladder_weights, uses_unlabelled
from models.networks.augmentation import augmentation
from models.networks.ladder import Ladder
from models.networks.ladder_export import export_classifier
from models.networks.ladder_levels import head_levels, load_encoder
from models.training.batch_norm import CALIBRATION_IMAGES, CALIBRATION_SEED, Calibration
from models.training.batches import PREDICT_BATCH, batches
from models.training.fit import fit
from models.training.joint_batches import joint_batches
from models.training.run import TrainedRun

DECAY_FROM = 0.67  # the reference's --lrate-decay: the rate falls linearly to 0 from this share of the epochs
ADAM_EPSILON = 1e-8  # the reference's (blocks' Adam); Keras' default is 1e-7


class LinearDecay(keras.callbacks.Callback):
    """The reference's LRDecay: the initial rate until `share` of the epochs, then down linearly to 0 at the end,
    set at the start of each epoch."""

    def __init__(self, rate: float, epochs: int, share: float = DECAY_FROM):
        super().__init__()
        self.rate = rate
        self.epochs = epochs
        self.first = epochs * share

    def at(self, epoch: int) -> float:
        """The rate of epoch `epoch` (from 0: the epochs finished before it)."""
        if epoch <= self.first:
            return self.rate
        return self.rate * max(0.0, (self.epochs - epoch) / (self.epochs - self.first))

    def on_epoch_begin(self, epoch, logs=None):
        self.model.optimizer.learning_rate.assign(self.at(epoch))


class LadderStatistics(Calibration):
    """The ladder's moving statistics re-estimated before each validation and at the end (Calibration's
    protocol), from a seeded sample of the training images in clean passes."""

    def __init__(self, ladder, images, batch_size: int, limit: int = CALIBRATION_IMAGES):
        chosen = np.random.default_rng(CALIBRATION_SEED).permutation(len(images))[:limit]
        super().__init__(ladder, images[np.sort(chosen)], batch_size)

    def ensure(self) -> None:
        if self.stale:
            self.target.estimate_statistics(self.images, self.batch_size)
            self.stale = False


def build_ladder(encoder, config: ClassifierConfig, classes: int, seed: int, way: Way = FLOAT32) -> Ladder:
    """The ladder of `config.ladder` on `encoder`'s blocks and its head's dense levels (`ladder_head`), compiled, its
    linear maps computing in `way`'s precision; the encoder's weights loaded unless `config.init` is scratch."""
    keras.utils.set_random_seed(seed)
    settings = config.ladder
    levels = head_levels(encoder, ladder_head(config), classes)
    with computing(way):
        ladder = Ladder(levels, tuple(encoder.input_shape[1:]), weights=ladder_weights(settings, len(levels)),
                        noise=settings.ladder_noise, lateral=settings.decoder != "top-down",
                        per=settings.combinator, seed=seed, augment=augmentation() if config.augment else None)
    ladder.build(None)  # its weights are made already: built, so that a backup can be restored into it
    if config.init == "pretrained":
        load_encoder(ladder, encoder)
    ladder.compile(optimizer=keras.optimizers.Adam(settings.ladder_learning_rate, epsilon=ADAM_EPSILON),
                   loss=keras.losses.SparseCategoricalCrossentropy(),
                   metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")], jit_compile=way.xla)
    return ladder


def train_ladder(encoder, config: ClassifierConfig, data, *, seed: int, callbacks=(), way: Way = FLOAT32
                 ) -> TrainedRun:
    """Train the ladder of `config` on `data` (models/training/classifier_stages.py's ClassifierData): the labelled
    images and every training image (`data.images`), `config.fine_tune_epochs` passes over the latter,
    `config.unlabelled_batch` of them a step (0: the batch size). Its statistics are estimated on the images whose
    information it uses before each validation and at the end: every training image, or the labelled ones alone
    when no level has a denoising weight (the unlabelled batches then only set the steps: each half of a batch is
    normalised by itself and only the labelled half has a cost, so nothing of them reaches the weights). The run's
    model is the ladder's clean pass as a plain float32 classifier (models/networks/ladder_export.py): what is
    tested, predicted and saved."""
    ladder = build_ladder(encoder, config, data.classes, seed, way)
    images = data.images if data.images is not None else data.train[0]
    seen = images if uses_unlabelled(config) else data.train[0]
    per_step = config.unlabelled_batch or config.batch_size
    epochs = config.fine_tune_epochs
    result = fit(ladder, joint_batches(data.train, images, config.batch_size, seed, per_step), None,
                 validation_data=batches(*data.val, PREDICT_BATCH), epochs=epochs, batch_size=None,
                 callbacks=[LinearDecay(config.ladder.ladder_learning_rate, epochs), *callbacks],
                 calibration=LadderStatistics(ladder, seen, config.batch_size), patience=config.patience)
    run = TrainedRun(model=export_classifier(ladder))
    run.add(result)
    return run
