"""The label-budget study's arms, declared once: what each is called in the table, the plot and the caption, its
marker, its configuration from the study's, and the arms it is compared with on the same seeds. The plan
(plan.py), the summary (summary.py), the screens and the plots all read ARMS; a new arm is one entry here plus the
training code it needs.

The study asks: does the autoencoder help when few labels are available, and how? For each number of labelled
images and each repeat, the same balanced, seeded subset is trained on by every arm.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from common.errors import UserError
from models.config import CLASSIFIER_DEFAULTS, JOINT_SETTINGS, ClassifierConfig, joint_settings_changed

DEFAULT_ROUNDS = 10  # the self-training arm's rounds when the study's settings give none
JOINT_RECIPE = {  # the joint arm's settings; its rate chosen on validation of tuning seeds (docs/few-labels.md)
    "joint": True, "reconstruction_weight": 1.0, "noise": 0.3, "consistency": 10.0, "teacher_decay": 0.99,
    "entropy_weight": 1.0, "augment": True, "joint_learning_rate": 3e-3, "schedule": "cosine", "fine_tune_epochs": 1}
SUPERVISED_RATE = 1e-2  # the supervised arm's own rate, chosen on validation of tuning seeds as the recipe's was
OLD_ARMS = {"unlabelled": "self-training"}  # arm names logged by earlier versions


@dataclass(frozen=True)
class Arm:
    """One arm of the study."""
    name: str  # as --arms and the log's Arm column write it
    title: str  # as the study's table and opening line call it
    legend: str  # as the plot's legend calls it
    marker: str  # the plot's marker (matplotlib's)
    description: str  # what it trains, for the table's caption
    settings: Callable[[ClassifierConfig, ClassifierConfig], ClassifierConfig]  # (plain, study's) -> its own
    compared: dict[str, str] = field(default_factory=dict)  # paired differences, this arm first: name -> the other


LADDER = {"reconstruction_weight": 0.0, "decoder": "ladder", "layer_noise": 0.3,
          "denoising_weights": ""}  # the recipe, as a ladder (σ 0.3, the default weights; the study's own win)


def joint_recipe(config: ClassifierConfig, changes: dict | None = None) -> dict:
    """JOINT_RECIPE with `changes`, except for the settings of joint training `config` moves away from their
    defaults (its weight, noise, consistency or learning rate) and its stage 2 epochs when they are not the
    default's (an epoch of joint training passes over every training image, not the labelled ones: the recipe's
    one unless the study asks for more or fewer)."""
    own = joint_settings_changed(config)
    if config.fine_tune_epochs != CLASSIFIER_DEFAULTS["fine_tune_epochs"]:
        own.append("fine_tune_epochs")
    recipe = {**JOINT_RECIPE, **(changes or {})}
    return {name: getattr(config, name) if name in own else value for name, value in recipe.items()}


UNLABELLED_TERMS = {"reconstruction_weight": 0.0, "consistency": 0.0, "teacher_decay": 0.0, "entropy_weight": 0.0}


def _joint(plain: ClassifierConfig, study: ClassifierConfig) -> ClassifierConfig:
    return replace(plain, **joint_recipe(study))


def _recipe(changes: dict):
    """An arm's settings: the joint recipe with `changes` (the study's own settings of joint training win)."""
    return lambda plain, study: replace(plain, **joint_recipe(study, changes))


def _supervised(plain: ClassifierConfig, study: ClassifierConfig) -> ClassifierConfig:
    """The joint recipe with every term on the unlabelled images off: its steps, schedule, augmentation and noise
    on the labelled images alone (models/config.py, `uses_unlabelled`), at the rate its own tuning chose (a
    study's own rate wins, as for every arm)."""
    tuned = {} if "joint_learning_rate" in joint_settings_changed(study) else {"joint_learning_rate": SUPERVISED_RATE}
    return replace(_joint(plain, study), **UNLABELLED_TERMS, **tuned)


ARMS = (
    Arm("pretrained", "pretrained", "pretrained encoder", "o", "the classifier on the autoencoder's encoder",
        lambda plain, study: plain, {"pretraining": "scratch"}),
    Arm("scratch", "scratch", "random encoder (scratch)", "s", "on random weights of the encoder's shape",
        lambda plain, study: replace(plain, init="scratch")),
    Arm("self-training", "pretrained + self-training", "pretrained + self-training", "D",
        "pretrained, augmented, self-trained on the rest of the training images",
        lambda plain, study: replace(plain, augment=True, self_training=study.self_training or DEFAULT_ROUNDS),
        {"self_training_gain": "pretrained"}),
    Arm("supervised", "supervised, joint schedule", "labels alone, the joint arms' schedule", "P",
        "the joint recipe's steps, rate, schedule, augmentation and noise on the labelled images alone", _supervised),
    Arm("joint", "joint", "joint training with the decoder", "^",
        "trained with the decoder reconstructing every training image", _joint,
        {"unlabelled_gain": "supervised", "reconstruction": "joint-w0", "joint_gain": "pretrained"}),
    Arm("joint-w0", "joint, W = 0", "joint recipe without reconstruction (W = 0)", "v",
        "the joint recipe without the reconstruction term",
        lambda plain, study: replace(_joint(plain, study), reconstruction_weight=0.0)),
    Arm("gamma", "Γ-type (layer noise)", "joint recipe with noise on every layer, no decoder (Γ)", "X",
        "the joint recipe without the decoder, with noise of 0.3 on every encoder level",
        _recipe({"reconstruction_weight": 0.0, "layer_noise": 0.3})),
    Arm("ladder", "ladder", "ladder: lateral connections and a cost per level", "*",
        "the joint recipe with the ladder's decoder: noise on every level, lateral connections, combinators and a "
        "denoising cost per level", _recipe(LADDER),
        {"lateral": "ladder-nolateral", "ladder_gain": "joint"}),
    Arm("ladder-nolateral", "ladder without laterals", "ladder fed from the top only", "h",
        "the ladder's decoder without its lateral connections (fed from the top only)",
        _recipe({**LADDER, "decoder": "top-down"})),
)
ARM = {arm.name: arm for arm in ARMS}
DIFFERENCES = {name: (arm.name, other) for arm in ARMS for name, other in arm.compared.items()}  # paired by seed


def names() -> tuple[str, ...]:
    """The arms' names, in the order the study shows them."""
    return tuple(ARM)


def arm_config(config: ClassifierConfig, arm: str) -> ClassifierConfig:
    """An arm's configuration from the study's: the plain config (pretrained, without self-training or joint
    training; augmented if the study's says so) given the arm's own settings, which may read the study's."""
    plain = {"joint": False, **{name: CLASSIFIER_DEFAULTS[name] for name in JOINT_SETTINGS}}
    return ARM[arm].settings(replace(config, init="pretrained", self_training=0, **plain), config)


def parse_arms(text: str) -> tuple[str, ...]:
    """Arms named in `text`, separated by commas, in the study's order; UserError naming one that is not an arm."""
    named = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in named if name not in ARM]
    if unknown or not named:
        raise UserError(f"--arms {text}: {', '.join(unknown) or 'no arm'} is not an arm; choose among "
                        f"{', '.join(ARM)}")
    return tuple(arm for arm in ARM if arm in named)


def default_arms(config: ClassifierConfig) -> tuple[str, ...]:
    """Pretrained and scratch; self-training too when the config asks for self-training rounds."""
    return ("pretrained", "scratch", "self-training") if config.self_training else ("pretrained", "scratch")


def arm_of(row) -> str:
    """The arm a logged run belongs to: its Arm column, or for runs logged before there was one, its settings."""
    arm = row.get("arm")
    if isinstance(arm, str) and arm:
        return OLD_ARMS.get(arm, arm)
    if row["init"] == "scratch":
        return "scratch"
    if row.get("joint") is True or row.get("joint") == "yes":
        if float(row.get("reconstruction_weight") or 0) > 0:
            return "joint"
        return "joint-w0" if float(row.get("consistency") or 0) or float(row.get("entropy_weight") or 0) else \
            "supervised"
    return "self-training" if float(row.get("self_training") or 0) > 0 else "pretrained"
