"""What a run costs, one model per program: the training steps through the whole network (what a measurement of
the ways of computing must repay, models/training/way_choice.py) and a relative amount of work (what a sweep's or
study's time-left estimate weighs its runs by). Both know the images' channels and the number of classes. Free of
TensorFlow: a sweep's workers price runs before they build anything."""

from dataclasses import dataclass

from models.config.autoencoder import AutoencoderConfig, block_filters
from models.config.choices import POOLED_BLOCKS
from models.config.classifier import ClassifierConfig


def steps(images: int, batch_size: int, epochs: int) -> int:
    """Optimizer steps of `epochs` epochs over `images` images."""
    return -(-images // batch_size) * epochs


BACKWARD_PASSES = 3  # a training step's work per image, in forward passes: the forward pass and twice its cost back
JOINT_PASSES = 3 * BACKWARD_PASSES  # joint training's per image: the encoder and the decoder, with the other terms'
LADDER_PASSES = 3 * BACKWARD_PASSES  # the ladder's: a clean and a corrupted pass of the encoder and the decoder


@dataclass(frozen=True)
class Cost:
    """A run's cost."""
    steps: int  # training steps through the whole network
    work: float  # relative work: image passes, each weighted by what it multiplies


def autoencoder_cost(config: AutoencoderConfig, images: int, channels: int) -> Cost:
    """An autoencoder's run on `images` training images of `channels` channels: its epochs' steps; its work, the
    epochs times the images times the multiplications of one image's pass (each block's filters by the previous
    block's, on maps a quarter the size after each pooling)."""
    widths = [channels, *block_filters(config)]
    per_image = sum(widths[i] * widths[i + 1] / 4 ** min(i, POOLED_BLOCKS) for i in range(config.layers))
    return Cost(steps(images, config.batch_size, config.epochs), float(config.epochs * images * per_image))


def classifier_cost(config: ClassifierConfig, labelled: int, split: int, val: int, test: int, classes: int) -> Cost:
    """A classifier's run on `labelled` labelled images of a training split of `split` (the rest left for
    self-training), validated on `val` and tested on `test`, with `classes` classes. Steps: stage 2's (joint
    training's and the ladder's: a pass over the whole split), stage 1's when augmented (the encoder in every
    step), and each self-training round's with the most pseudo-labels its cap allows. Work, in passes through the
    encoder: features for stage 1 (a pass each epoch when augmented; none for the ladder), forward and backward
    passes and a validation per epoch of stage 2 (joint training: through the decoder too; the ladder: a clean and
    a corrupted pass of both batches and the decoder), each round's prediction of the unlabelled images and its
    training, then the test set."""
    whole = config.joint is not None or config.ladder is not None  # stage 2 passes over the whole split
    per_step = (config.unlabelled_batch or config.batch_size) if whole else config.batch_size
    total = steps(split if whole else labelled, per_step, config.fine_tune_epochs)
    epochs = config.fine_tune_epochs
    if config.ladder is not None:
        batches = split // per_step
        return Cost(total, float(epochs * (LADDER_PASSES * batches * (config.batch_size + per_step) + val) + test))
    work = (BACKWARD_PASSES * labelled + val) * config.epochs if config.augment else labelled + val
    if config.augment:
        total += steps(labelled, config.batch_size, config.epochs)
    labelled_passes = BACKWARD_PASSES * labelled
    work += epochs * (labelled_passes + JOINT_PASSES * split + val) if whole else epochs * (labelled_passes + val)
    unlabelled = split - labelled
    rounds = config.self_training
    for number in range(1, rounds.rounds + 1 if rounds is not None and unlabelled else 1):
        pseudo = min(unlabelled, rounds.pseudo_cap * number * classes)
        total += steps(labelled + pseudo, config.batch_size, rounds.round_epochs)
        work += unlabelled + rounds.round_epochs * (BACKWARD_PASSES * (labelled + pseudo) + val)
    return Cost(total, float(work + test))
