"""Hyperparameters of both networks as dataclasses, with the bounds the programs enforce.

Kept free of TensorFlow so that `--help` and argument errors answer at once.
"""

import os
from dataclasses import dataclass, fields

from common.errors import ConfigError
from models.fields import check_ranges, choice, hyperparameter, parse_weights, switch, weights

INITS = ("pretrained", "scratch")  # a classifier's initial encoder weights: the autoencoder's, or random ones
OPTIMIZERS = ("adam", "rmsprop", "sgd")
POOLED_BLOCKS = 2  # max-pooling after the first two encoder blocks, up-sampling after the last two decoder blocks
SIDE_MULTIPLE = 2 ** POOLED_BLOCKS  # what the images' sides must be multiples of
SCHEDULES = ("constant", "cosine", "plateau")  # the learning rate: fixed, cosine decay to 0, halved on plateaus
DECODERS = ("plain", "ladder", "top-down")  # joint training's decoder: the autoencoder's, the ladder, without laterals
JOINT_SETTINGS = ("reconstruction_weight", "noise", "consistency", "teacher_decay", "entropy_weight",
                  "joint_learning_rate", "unlabelled_batch", "layer_noise", "decoder",
                  "denoising_weights")  # of joint training only
LADDER_WEIGHTS = (100.0, 1.0, 0.01)  # the ladder's denoising weights from the image up, then 0.01 for each level:
# a tenth of the reference's 1000, 10, 0.1, chosen on validation of tuning seeds (docs/few-labels.md)
SELF_TRAINING_SETTINGS = ("pseudo_threshold", "pseudo_cap", "round_epochs")  # of self-training rounds only


@dataclass(frozen=True)
class AutoencoderConfig:
    layers: int = hyperparameter(4, 2, 8, "Convolutional layers", "Layers")  # encoder blocks; the decoder mirrors them
    filter_size: int = hyperparameter(3, 1, 7, "Filter size", "Filter_Size")  # side of the square kernels
    filters: int = hyperparameter(16, 1, 256, "Filters in the first layer", "Filters/Layer")  # doubled per block
    epochs: int = hyperparameter(3, 1, 1000, "Epochs", "Epochs")  # passes over the training images
    batch_size: int = hyperparameter(64, 1, 4096, "Batch size", "Batch_Size")  # images per gradient step
    optimizer: str = choice("rmsprop", OPTIMIZERS, "Optimizer", "Optimizer")  # RMSprop as in the assignment
    schedule: str = choice("constant", SCHEDULES, "Learning-rate schedule", "Schedule")  # of the rate 1e-3
    patience: int = hyperparameter(0, 0, 1000, "Early-stopping patience in epochs (0: off)", "Patience",
                                   asked=False)  # stop when val_loss stalls; keep the best epoch's weights


@dataclass(frozen=True)
class ClassifierConfig:
    fc_units: int = hyperparameter(128, 1, 4096, "Units in the fully connected layer", "Fc_units")  # hidden Dense
    epochs: int = hyperparameter(10, 1, 1000, "Epochs of stage 1 (head only)", "Epochs")  # encoder frozen
    fine_tune_epochs: int = hyperparameter(5, 0, 1000, "Epochs of stage 2 (whole network)",
                                           "Fine_Tune_Epochs")  # encoder unfrozen, lower learning rate
    batch_size: int = hyperparameter(64, 1, 4096, "Batch size", "Batch_Size")  # images per gradient step
    label_budget: int = hyperparameter(0, 0, 10**7, "Labelled training images (0 = all)",
                                       "Labels")  # how many, balanced and seeded; flag --labels
    init: str = choice("pretrained", INITS, "Encoder initialisation", "Init")  # autoencoder's weights or random
    augment: bool = switch("Augment the labelled images (shifts, rotations, zoom)",
                           "Augment")  # random changes, in training only
    self_training: int = hyperparameter(0, 0, 20, "Self-training rounds on the unlabelled images", "Self_Training",
                                        asked=False)  # predict, keep the confident, train again
    pseudo_threshold: float = hyperparameter(0.9, 0.5, 1.0, "Confidence a pseudo-label needs",
                                             "Pseudo_Threshold", asked=False)  # softmax probability of the class
    pseudo_cap: int = hyperparameter(500, 1, 10**6, "Pseudo-labels per class in round 1, at most", "Pseudo_Cap",
                                     asked=False)  # round r takes r times as many, the most confident first
    round_epochs: int = hyperparameter(1, 1, 1000, "Epochs of each self-training round", "Round_Epochs",
                                       asked=False)  # on the labelled and pseudo-labelled images
    joint: bool = switch("Joint training: stage 2 also reconstructs every training image",
                         "Joint")  # decoder on the shared encoder; an epoch passes over every image
    reconstruction_weight: float = hyperparameter(0.0, 0.0, 1000.0, "Weight of the reconstruction loss (joint)",
                                                  "Reconstruction_Weight", asked=False)  # W: loss + W x MSE
    noise: float = hyperparameter(0.0, 0.0, 1.0, "Standard deviation of the noise on the encoder's images (joint)",
                                  "Noise", asked=False)  # Gaussian, in training only: a denoising autoencoder
    consistency: float = hyperparameter(0.0, 0.0, 1000.0, "Weight of the consistency of two noisy predictions "
                                        "(joint)", "Consistency", asked=False)  # Π-model, ramped up
    teacher_decay: float = hyperparameter(0.0, 0.0, 0.9999, "Decay of the teacher's average of the weights (joint; "
                                          "0: no teacher)", "Teacher_Decay", asked=False)  # Mean Teacher's targets
    entropy_weight: float = hyperparameter(0.0, 0.0, 1000.0, "Weight of the entropy of the predictions on every "
                                           "training image (joint)", "Entropy_Weight", asked=False)  # ramped up
    joint_learning_rate: float = hyperparameter(
        2e-4, 1e-6, 1.0, "Learning rate of joint training (for batches of 64 or more)", "Joint_Learning_Rate",
        asked=False)  # stage 2 when joint; scaled down in proportion for smaller batches, as every stage's
    unlabelled_batch: int = hyperparameter(
        0, 0, 4096, "Images per step for the terms on every training image (joint; 0: the batch size)",
        "Unlabelled_Batch", asked=False)  # an epoch is a pass over them: it sets the epoch's steps
    layer_noise: float = hyperparameter(
        0.0, 0.0, 1.0, "Standard deviation of the noise on every encoder layer's normalised output (joint)",
        "Layer_Noise", asked=False)  # the corrupted pass of the Γ-model and of the ladder
    decoder: str = choice("plain", DECODERS, "Decoder of joint training (plain, ladder, top-down)",
                          "Decoder")  # the ladder: lateral connections, a combinator and a cost per level
    denoising_weights: str = weights("", "Weights of the ladder's denoising costs from the image up (empty: "
                                     "100, 1, then 0.01 a level)", "Denoising_Weights")  # one per level
    optimizer: str = choice("adam", OPTIMIZERS, "Optimizer", "Optimizer")  # of every stage
    schedule: str = choice("constant", SCHEDULES, "Learning-rate schedule", "Schedule")  # within each stage
    patience: int = hyperparameter(0, 0, 1000, "Early-stopping patience in epochs (0: off)", "Patience",
                                   asked=False)  # per stage: stop when val_loss stalls, keep the best epoch


def check_classifier(config: ClassifierConfig) -> None:
    """Reject a classifier configuration whose settings do not go together, saying why."""
    check_ranges(config)
    changed = joint_settings_changed(config)
    if not config.joint and changed:
        flags = ", ".join("--" + name.replace("_", "-") for name in changed)
        raise ConfigError(f"{flags} {'are' if len(changed) > 1 else 'is one of the'} settings of joint training: "
                          "add --joint (or choose joint training from the menu first)", ("joint", *changed))
    if config.decoder != "plain" and config.reconstruction_weight:
        raise ConfigError(f"--decoder {config.decoder} weighs its own costs (--denoising-weights, the image's first): "
                          f"leave --reconstruction-weight at 0", ("reconstruction_weight", "decoder"))
    if config.denoising_weights and config.decoder == "plain":
        raise ConfigError("--denoising-weights are the ladder's: add --decoder ladder (or top-down)",
                          ("decoder", "denoising_weights"))
    if config.teacher_decay and not config.consistency:
        raise ConfigError(f"a teacher (decay {config.teacher_decay:g}) gives the consistency term its targets: set "
                          "the consistency weight too (--consistency)", ("consistency", "teacher_decay"))


CLASSIFIER_DEFAULTS = {f.name: f.default for f in fields(ClassifierConfig)}


def check_label_budget(labels: int, classes: int, available: int | None = None) -> None:
    """The one rule for a number of labelled images (0: every label): at least one per class, and no more than the
    labelled training images `available` after the validation split (when known). ConfigError otherwise, naming
    the field, with the one message every place that checks a budget gives."""
    if labels and (labels < classes or (available is not None and labels > available)):
        most = f" to {available:,} (the labelled training images after the validation split)" if available else ""
        raise ConfigError(f"--labels {labels}: expected all (every label), or from {classes} (one per class){most}",
                          ("label_budget",))


def check_ladder(config: ClassifierConfig, levels: int | None) -> None:
    """ConfigError when the ladder's weights are not one per level of an encoder of `levels` layers (the images
    and each layer); nothing to check before the encoder is known (`levels` None)."""
    given = parse_weights(config.denoising_weights)
    if levels and given and len(given) != levels + 1:
        raise ConfigError(f"--denoising-weights {config.denoising_weights}: the ladder on this encoder has "
                          f"{levels + 1} levels (the images and {levels} layers): give {levels + 1} weights",
                          ("denoising_weights",))


def check_batch(batch_size: int, labelled: int) -> None:
    """ConfigError when a batch is larger than the labelled images it is drawn from."""
    if batch_size > labelled:
        raise ConfigError(f"batch size {batch_size} is larger than the {labelled:,} labelled training images: use "
                          f"--batch-size {labelled} or less", ("batch_size", "label_budget"))


def in_effect(config) -> list:
    """The fields of a configuration that change what its run does: joint training's settings only with joint
    training, self-training's only with rounds to run."""
    idle = set()
    if isinstance(config, ClassifierConfig):
        idle |= set() if config.joint else set(JOINT_SETTINGS)
        idle |= set() if config.self_training else set(SELF_TRAINING_SETTINGS)
    return [f for f in fields(config) if f.name not in idle]


def uses_unlabelled(config: ClassifierConfig) -> bool:
    """Whether a run's training sees the images whose labels it does not use: joint training with a term on them
    (reconstruction, consistency, entropy, the ladder's denoising); joint training without one trains on the
    labelled images alone."""
    return config.joint and bool(config.reconstruction_weight or config.consistency or config.entropy_weight
                                 or any(ladder_weights(config, 99)))


def ladder_weights(config: ClassifierConfig, levels: int) -> tuple[float, ...]:
    """The ladder's denoising weights for an encoder of `levels` layers, from the image up (levels + 1 of them):
    the config's own, or LADDER_WEIGHTS then its last for each level above; none without the ladder's decoder."""
    if config.decoder == "plain":
        return ()
    given = parse_weights(config.denoising_weights)
    return given or (*LADDER_WEIGHTS, *(LADDER_WEIGHTS[-1],) * (levels + 1 - len(LADDER_WEIGHTS)))[:levels + 1]


def joint_settings_changed(config: ClassifierConfig) -> list[str]:
    """The settings of joint training that `config` moves away from their defaults."""
    return [name for name in JOINT_SETTINGS if getattr(config, name) != CLASSIFIER_DEFAULTS[name]]


def check_autoencoder(config: AutoencoderConfig, image_shape: tuple[int, ...], train_count: int) -> None:
    """Reject a configuration that cannot be built or trained on these images ((rows, columns) or (rows, columns,
    channels)), saying why."""
    check_ranges(config)
    rows, cols = image_shape[:2]
    if rows % SIDE_MULTIPLE or cols % SIDE_MULTIPLE:
        raise ConfigError(f"images are {rows}x{cols}: both sides must be divisible by {SIDE_MULTIPLE} for the "
                          f"{POOLED_BLOCKS} poolings")
    smallest = min(rows, cols) // 4
    if config.filter_size > smallest:
        raise ConfigError(f"filter size {config.filter_size} is larger than the {rows // 4}x{cols // 4} "
                          f"feature maps after pooling; use at most {smallest}", ("filter_size",))
    if config.batch_size > train_count:
        raise ConfigError(f"batch size {config.batch_size} is larger than the {train_count} training images",
                          ("batch_size",))
    needed, available = training_memory(config, image_shape), physical_memory()
    if available and needed > available // 2:
        raise ConfigError(f"this model would need about {needed / 2**30:.1f} GiB to train, more than half of the "
                          f"{available / 2**30:.1f} GiB of memory; use fewer layers, filters or a smaller batch",
                          ("layers", "filters", "batch_size"))


def block_filters(config: AutoencoderConfig) -> list[int]:
    """Filters of each encoder block: the first block's count, doubled at each block."""
    return [config.filters * 2 ** i for i in range(config.layers)]


def training_memory(config: AutoencoderConfig, image_shape: tuple[int, ...]) -> int:
    """Rough bytes needed to train: weights with gradients and optimizer state, plus a batch's activations."""
    rows, cols = image_shape[:2]
    weights, values, channels = 0, 0, image_shape[2] if len(image_shape) > 2 else 1
    for i, f in enumerate(block_filters(config)):
        weights += config.filter_size ** 2 * channels * f + 4 * f  # kernel, bias, normalisation
        values += 2 * rows * cols * f  # convolution and normalisation outputs of one image
        if i < 2:
            rows, cols = rows // 2, cols // 2
        channels = f
    weights, values = 2 * weights, 2 * values  # the decoder mirrors the encoder
    return 4 * 3 * weights + 4 * 2 * config.batch_size * values  # float32; gradients double the activations


def physical_memory() -> int:
    """Bytes of physical memory, or 0 where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0
