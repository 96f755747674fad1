"""What a run costs, one model per program: the training steps through the whole network (what a measurement of
the ways of computing must repay, models/training/way_choice.py) and a relative amount of work (what a sweep's or
study's time-left estimate weighs its runs by). Both know the images' channels and the number of classes. Free of
TensorFlow: a sweep's workers price runs before they build anything."""

from dataclasses import dataclass

from models.config import POOLED_BLOCKS, AutoencoderConfig, ClassifierConfig, block_filters


def steps(images: int, batch_size: int, epochs: int) -> int:
    """Optimizer steps of `epochs` epochs over `images` images."""
    return -(-images // batch_size) * epochs


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
    training's pass over the whole split), stage 1's when augmented (the encoder in every step), and each
    self-training round's with the most pseudo-labels its cap allows. Work, in passes through the encoder: features
    for stage 1 (a pass each epoch when augmented), forward and backward passes and a validation per epoch of stage
    2 (joint training: through the decoder too, about three times the cost), each round's prediction of the
    unlabelled images and its training, then the test set."""
    stage2, unlabelled = split if config.joint else labelled, split - labelled
    per_step = (config.unlabelled_batch or config.batch_size) if config.joint else config.batch_size
    total = steps(stage2, per_step, config.fine_tune_epochs)
    work = (3 * labelled + val) * config.epochs if config.augment else labelled + val
    if config.augment:
        total += steps(labelled, config.batch_size, config.epochs)
    epochs = config.fine_tune_epochs
    work += epochs * (3 * labelled + 9 * split + val) if config.joint else epochs * (3 * labelled + val)
    for number in range(1, config.self_training + 1 if unlabelled else 1):
        pseudo = min(unlabelled, config.pseudo_cap * number * classes)
        total += steps(labelled + pseudo, config.batch_size, config.round_epochs)
        work += unlabelled + config.round_epochs * (3 * (labelled + pseudo) + val)
    return Cost(total, float(work + test))
