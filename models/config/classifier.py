"""The classifier's hyperparameters: the two stages' own, and three groups for the other ways of training
(self-training, joint training, the ladder), each None when off (fields.py, `group`). Free of TensorFlow."""

from dataclasses import dataclass, fields

from common.errors import ConfigError
from models.config.choices import OPTIMIZERS, SCHEDULES
from models.config.fields import check_ranges, choice, group, hyperparameter, parse_list, switch, weights

INITS = ("pretrained", "scratch")  # a classifier's initial encoder weights: the autoencoder's, or random ones
LADDER_DECODERS = ("ladder", "top-down", "gamma")  # lateral connections; from the top only; the top level only
COMBINATORS = ("channel", "unit")  # a convolutional level's combinator parameters: per channel, or per position too
LADDER_WEIGHTS = (1000.0, 10.0, 0.1)  # the ladder's denoising weights from the images up, then 0.1 a level: the
# reference's for its MLP with 100 labels (CuriousAI/ladder)
GAMMA_WEIGHT = 1.0  # the Γ-model's weight of the top level's cost (the reference's convolutional Γ-model)


@dataclass(frozen=True)
class SelfTrainingSettings:
    """Self-training after stage 2: predict the unlabelled images, keep the confident, train again, in rounds."""
    rounds: int = hyperparameter(10, 1, 20, "Self-training rounds on the unlabelled images", "Self_Training",
                                 asked=False)  # flat: `self_training` (0: none)
    pseudo_threshold: float = hyperparameter(0.9, 0.5, 1.0, "Confidence a pseudo-label needs",
                                             "Pseudo_Threshold", asked=False)  # softmax probability of the class
    pseudo_cap: int = hyperparameter(500, 1, 10**6, "Pseudo-labels per class in round 1, at most", "Pseudo_Cap",
                                     asked=False)  # round r takes r times as many, the most confident first
    round_epochs: int = hyperparameter(1, 1, 1000, "Epochs of each self-training round", "Round_Epochs",
                                       asked=False)  # on the labelled and pseudo-labelled images


@dataclass(frozen=True)
class JointSettings:
    """Joint training: stage 2 trains the classifier and a decoder on the shared encoder, an epoch passing over
    every training image (models/networks/joint.py)."""
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
        asked=False)  # scaled down in proportion for smaller batches, as every stage's


@dataclass(frozen=True)
class LadderSettings:
    """The ladder network (Rasmus et al. 2015) on the encoder's blocks and the head's layers, trained in one stage
    on the labelled and every training image (models/networks/ladder.py)."""
    ladder_noise: float = hyperparameter(0.3, 0.0, 1.0, "Noise on the images and every level of the ladder's "
                                         "corrupted pass", "Ladder_Noise", asked=False)  # σ, as the reference's
    denoising_weights: str = weights("", "Weights of the ladder's denoising costs from the images up (one: every "
                                     "level's; empty: 1000, 10, then 0.1 a level)", "Denoising_Weights")
    decoder: str = choice("ladder", LADDER_DECODERS, "The ladder's decoder (ladder: lateral connections; top-down: "
                          "without; gamma: the top level only)", "Decoder")  # the arms of the same code
    combinator: str = choice("channel", COMBINATORS, "Parameters of a convolutional level's combinator",
                             "Combinator")  # per channel, or per channel and position (dense levels: per unit)
    ladder_learning_rate: float = hyperparameter(2e-3, 1e-6, 1.0, "Adam's rate of the ladder, decaying to 0 over "
                                                 "the last third", "Ladder_Learning_Rate", asked=False)
    ladder_head: str = weights("", "Units of the ladder's dense levels below the class level, from the encoder up "
                               "(empty: one level of --fc-units)", "Ladder_Head", low=1, high=4096, whole=True,
                               example="1000,500,250")  # the reference's MLP: 1000,500,250,250,250


LADDER_FIELDS = {f.name: f for f in fields(LadderSettings)}


def parse_weights(text: str) -> tuple[float, ...]:
    """The ladder's denoising weights in `text` (`--denoising-weights`); ConfigError naming the value otherwise."""
    return parse_list(LADDER_FIELDS["denoising_weights"], text)


def ladder_head(config: "ClassifierConfig") -> tuple[int, ...]:
    """The units of the ladder's dense levels below the class level: its own head, or one level of fc_units."""
    return parse_list(LADDER_FIELDS["ladder_head"], config.ladder.ladder_head) or (config.fc_units,)


@dataclass(frozen=True)
class ClassifierConfig:
    fc_units: int = hyperparameter(128, 1, 4096, "Units in the fully connected layer", "Fc_units")  # hidden Dense
    epochs: int = hyperparameter(10, 1, 1000, "Epochs of stage 1 (head only)", "Epochs",
                                 idle_with=("ladder",))  # encoder frozen; the ladder trains in one stage
    fine_tune_epochs: int = hyperparameter(5, 0, 1000, "Epochs of stage 2 (whole network; joint training and the "
                                           "ladder: passes over every training image)", "Fine_Tune_Epochs")
    batch_size: int = hyperparameter(64, 1, 4096, "Batch size", "Batch_Size")  # labelled images per step
    label_budget: int = hyperparameter(0, 0, 10**7, "Labelled training images (0 = all)", "Labels",
                                       flag="--labels")  # how many, balanced and seeded
    init: str = choice("pretrained", INITS, "Encoder initialisation", "Init")  # autoencoder's weights or random
    augment: bool = switch("Augment the labelled images (shifts, rotations, zoom)",
                           "Augment")  # random changes, in training only
    unlabelled_batch: int = hyperparameter(
        0, 0, 4096, "Images per step for the terms on every training image (joint, ladder; 0: the batch size)",
        "Unlabelled_Batch", asked=False)  # an epoch is a pass over them: it sets the epoch's steps
    optimizer: str = choice("adam", OPTIMIZERS, "Optimizer", "Optimizer",
                            idle_with=("ladder",))  # of every stage but the ladder's (Adam)
    schedule: str = choice("constant", SCHEDULES, "Learning-rate schedule", "Schedule",
                           idle_with=("ladder",))  # within each stage; the ladder's decays over its last third
    patience: int = hyperparameter(0, 0, 1000, "Early-stopping patience in epochs (0: off)", "Patience",
                                   asked=False)  # per stage: stop when val_loss stalls, keep the best epoch
    self_training: SelfTrainingSettings | None = group(SelfTrainingSettings, "self-training", "Self-training "
                                                       "rounds on the unlabelled images", "Self_Training",
                                                       count="rounds")
    joint: JointSettings | None = group(JointSettings, "joint training", "Joint training: stage 2 also "
                                        "reconstructs every training image", "Joint")
    ladder: LadderSettings | None = group(LadderSettings, "the ladder", "The ladder network in place of the two "
                                          "stages", "Ladder")


def check_classifier(config: ClassifierConfig) -> None:
    """Reject a classifier configuration whose settings do not go together, saying why."""
    check_ranges(config)
    if config.ladder is not None and (config.joint is not None or config.self_training is not None):
        other = "--joint" if config.joint is not None else "--self-training"
        raise ConfigError(f"--ladder trains in a way of its own: leave out {other}",
                          ("ladder", "joint" if config.joint is not None else "self_training"))
    joint = config.joint
    if joint is not None and joint.teacher_decay and not joint.consistency:
        raise ConfigError(f"a teacher (decay {joint.teacher_decay:g}) gives the consistency term its targets: set "
                          "the consistency weight too (--consistency)", ("consistency", "teacher_decay"))


def check_label_budget(labels: int, classes: int, available: int | None = None) -> None:
    """The one rule for a number of labelled images (0: every label): at least one per class, and no more than the
    labelled training images `available` after the validation split (when known). ConfigError otherwise, naming
    the field, with the one message every place that checks a budget gives."""
    if labels and (labels < classes or (available is not None and labels > available)):
        most = f" to {available:,} (the labelled training images after the validation split)" if available else ""
        raise ConfigError(f"--labels {labels}: expected all (every label), or from {classes} (one per class){most}",
                          ("label_budget",))


def check_ladder(config: ClassifierConfig, blocks: int | None) -> None:
    """ConfigError when the ladder's weights are not one per level of its ladder on an encoder of `blocks` blocks
    (the images, the blocks, the head's dense levels, the class level); the head's units are checked whatever the
    encoder, its weights' count once the encoder is known (`blocks` not None)."""
    if config.ladder is None:
        return
    given = parse_weights(config.ladder.denoising_weights)
    levels = blocks + len(ladder_head(config)) + 1 if blocks else None
    if levels and len(given) > 1 and len(given) != levels + 1:
        raise ConfigError(f"--denoising-weights {config.ladder.denoising_weights}: the ladder on this encoder has "
                          f"{levels + 1} levels (the images, {blocks} encoder blocks, the head's "
                          f"{levels - blocks - 1} dense levels, the class level): give {levels + 1} weights, or one "
                          "for every level", ("denoising_weights",))


def check_batch(batch_size: int, labelled: int) -> None:
    """ConfigError when a batch is larger than the labelled images it is drawn from."""
    if batch_size > labelled:
        raise ConfigError(f"batch size {batch_size} is larger than the {labelled:,} labelled training images: use "
                          f"--batch-size {labelled} or less", ("batch_size", "label_budget"))


def uses_unlabelled(config: ClassifierConfig) -> bool:
    """Whether a run's training sees the images whose labels it does not use: the ladder, and joint training with
    a term on them (reconstruction, consistency, entropy); joint training without one trains on the labelled
    images alone."""
    joint = config.joint
    ladder = config.ladder
    if ladder is not None:
        return not ladder.denoising_weights or any(parse_weights(ladder.denoising_weights))
    return joint is not None and bool(joint.reconstruction_weight or joint.consistency or joint.entropy_weight)


def ladder_weights(settings: LadderSettings, levels: int) -> tuple[float, ...]:
    """The denoising weights of a ladder of `levels` levels above the images, from the images up (levels + 1 of
    them): the settings' own, or LADDER_WEIGHTS then its last for each level above; the Γ-model's decoder keeps
    the top level's alone (GAMMA_WEIGHT unless given). One weight given is every level's."""
    given = parse_weights(settings.denoising_weights)
    if given:
        chosen = given * (levels + 1) if len(given) == 1 else given
    elif settings.decoder == "gamma":
        chosen = (0.0,) * levels + (GAMMA_WEIGHT,)
    else:
        chosen = (*LADDER_WEIGHTS, *(LADDER_WEIGHTS[-1],) * max(0, levels + 1 - len(LADDER_WEIGHTS)))[:levels + 1]
    return (0.0,) * levels + chosen[-1:] if settings.decoder == "gamma" else chosen
