"""The label-budget study's arms, declared once: what each is called in the table, the plot and the caption, its
marker, its configuration, and the arms it is compared with on the same seeds. The plan (plan.py), the summary
(summary.py), the screens and the plots all read ARMS; a new arm is one entry here plus the training code it needs.

The study asks: does the autoencoder help when few labels are available, and how? For each number of labelled
images and each repeat, the same balanced, seeded subset is trained on by every arm.

An arm's configuration comes from what the study was told (flat settings, models/config/settings.py): its
`recipe` proposes values for the settings the study left unsaid; every setting said is kept, whatever its value,
except the few that make the arm what it is (`fixed`) and the settings of ways of training the arm does not use.
"""

from dataclasses import dataclass, field

from common.errors import UserError
from models.config.classifier import ClassifierConfig
from models.config.settings import make, setting

DEFAULT_ROUNDS = 10  # the self-training arm's rounds when the study's settings give none
JOINT_RECIPE = {  # the joint arms' settings; its rate chosen on validation of tuning seeds (docs/few-labels.md)
    "joint": True, "reconstruction_weight": 1.0, "noise": 0.3, "consistency": 10.0, "teacher_decay": 0.99,
    "entropy_weight": 1.0, "augment": True, "joint_learning_rate": 3e-3, "schedule": "cosine", "fine_tune_epochs": 3}
SUPERVISED_RATE = 1e-2  # the supervised arm's own rate, chosen on validation of tuning seeds as the recipe's was
UNLABELLED_TERMS = {"reconstruction_weight": 0.0, "consistency": 0.0, "teacher_decay": 0.0, "entropy_weight": 0.0}
LADDER_RECIPE = {  # the ladder's arms: the reference's steps (100 labelled and 100 unlabelled images a step)
    "ladder": True, "batch_size": 100, "unlabelled_batch": 100, "fine_tune_epochs": 10}
OLD_ARMS = {"unlabelled": "self-training"}  # arm names logged by earlier versions


@dataclass(frozen=True)
class Arm:
    """One arm of the study."""
    name: str  # as --arms and the log's Arm column write it
    title: str  # as the study's table and opening line call it
    legend: str  # as the plot's legend calls it
    marker: str  # the plot's marker (matplotlib's)
    description: str  # what it trains, for the table's caption
    recipe: dict = field(default_factory=dict)  # flat settings it proposes; the study's said values win
    fixed: dict = field(default_factory=dict)  # flat settings that make it this arm, kept whatever was said
    groups: tuple[str, ...] = ()  # the ways of training it uses (ClassifierConfig's groups) besides the stages
    compared: dict[str, str] = field(default_factory=dict)  # paired differences, this arm first: name -> the other

    def config(self, said: dict) -> ClassifierConfig:
        """This arm's configuration from the study's said settings (see the module's docstring)."""
        kept = {name: value for name, value in said.items()
                if setting(ClassifierConfig, name).group in (None, *self.groups)}
        return make(ClassifierConfig, {**self.recipe, **kept, "init": "pretrained", **self.fixed})


JOINT = ("joint",)
LADDER = ("ladder",)
ARMS = (
    Arm("pretrained", "pretrained", "pretrained encoder", "o", "the classifier on the autoencoder's encoder",
        compared={"pretraining": "scratch"}),
    Arm("scratch", "scratch", "random encoder (scratch)", "s", "on random weights of the encoder's shape",
        fixed={"init": "scratch"}),
    Arm("self-training", "pretrained + self-training", "pretrained + self-training", "D",
        "pretrained, augmented, self-trained on the rest of the training images",
        recipe={"augment": True, "self_training": DEFAULT_ROUNDS}, groups=("self_training",),
        compared={"self_training_gain": "pretrained"}),
    Arm("supervised", "supervised, joint schedule", "labels alone, the joint arms' schedule", "P",
        "the joint recipe's steps, rate, schedule, augmentation and noise on the labelled images alone",
        recipe={**JOINT_RECIPE, "joint_learning_rate": SUPERVISED_RATE}, fixed={"joint": True, **UNLABELLED_TERMS},
        groups=JOINT),
    Arm("joint", "joint", "joint training with the decoder", "^",
        "trained with the decoder reconstructing every training image", recipe=JOINT_RECIPE,
        fixed={"joint": True}, groups=JOINT,
        compared={"unlabelled_gain": "supervised", "reconstruction": "joint-w0", "joint_gain": "pretrained"}),
    Arm("joint-w0", "joint, W = 0", "joint recipe without reconstruction (W = 0)", "v",
        "the joint recipe without the reconstruction term", recipe=JOINT_RECIPE,
        fixed={"joint": True, "reconstruction_weight": 0.0}, groups=JOINT),
    Arm("ladder", "ladder", "ladder: lateral connections and a cost per level", "*",
        "the ladder network on the encoder and the head: noise on every level, lateral connections, a "
        "combinator and a denoising cost per level", recipe=LADDER_RECIPE, fixed={"decoder": "ladder"},
        groups=LADDER, compared={"lateral": "ladder-nolateral", "ladder_gain": "ladder-w0",
                                 "ladder_pretraining": "ladder-scratch", "ladder_vs_joint": "joint"}),
    Arm("ladder-nolateral", "ladder without laterals", "ladder fed from the top only", "h",
        "the ladder's decoder without its lateral connections (each level from the one above alone)",
        recipe=LADDER_RECIPE, fixed={"decoder": "top-down"}, groups=LADDER),
    Arm("gamma", "Γ-model", "Γ-model: the ladder's top level only", "X",
        "the ladder with the top level's combinator and cost alone (the Γ-model)", recipe=LADDER_RECIPE,
        fixed={"decoder": "gamma"}, groups=LADDER, compared={"gamma_gain": "ladder-w0"}),
    Arm("ladder-w0", "ladder network, labels alone", "the ladder's network on the labels alone", "p",
        "the ladder's network, noise and schedule without a denoising cost (every weight 0)",
        recipe=LADDER_RECIPE, fixed={"decoder": "ladder", "denoising_weights": "0"}, groups=LADDER),
    Arm("ladder-scratch", "ladder, random encoder", "ladder on a random encoder", "d",
        "the ladder on random weights of the encoder's shape", recipe=LADDER_RECIPE,
        fixed={"decoder": "ladder", "init": "scratch"}, groups=LADDER),
)
ARM = {arm.name: arm for arm in ARMS}
DIFFERENCES = {name: (arm.name, other) for arm in ARMS for name, other in arm.compared.items()}  # paired by seed


def names() -> tuple[str, ...]:
    """The arms' names, in the order the study shows them."""
    return tuple(ARM)


def arm_config(said: dict, arm: str) -> ClassifierConfig:
    """An arm's configuration from the study's said settings (`Arm.config`)."""
    return ARM[arm].config(said)


def parse_arms(text: str) -> tuple[str, ...]:
    """Arms named in `text`, separated by commas, in the study's order; UserError naming one that is not an arm."""
    named = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in named if name not in ARM]
    if unknown or not named:
        raise UserError(f"--arms {text}: {', '.join(unknown) or 'no arm'} is not an arm; choose among "
                        f"{', '.join(ARM)}")
    return tuple(arm for arm in ARM if arm in named)


def default_arms(said: dict) -> tuple[str, ...]:
    """Pretrained and scratch; self-training too when the study is told of self-training rounds."""
    return ("pretrained", "scratch", "self-training") if said.get("self_training") else ("pretrained", "scratch")


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
