"""The label-budget study: does the autoencoder help when few labels are available, and how?

For each number of labelled images and each repeat, the same balanced, seeded subset is trained on by every arm:
the classifier on the autoencoder's encoder (pretrained), on an encoder of the same shape with random weights
(scratch), on the pretrained encoder with augmentation and self-training on the rest of the training images
(self-training), and trained jointly with the autoencoder's decoder reconstructing every training image (joint,
models/joint.py), or the same joint recipe without its reconstruction term (joint-w0: what the reconstruction
itself adds). All are scored on the whole test set, after stage 1 (a head on the frozen encoder: what the encoder
knows before any fine-tuning) and at the end. Every run is appended to the run log as it finishes; runs already in
the log with the same settings are reused, so an interrupted study carries on where it stopped.
"""

from dataclasses import dataclass, field, fields, replace

from common.errors import UserError
from models.config import ClassifierConfig

ARMS = ("pretrained", "scratch", "self-training", "joint", "joint-w0")  # the study's arms, in the order shown
ARM_NAMES = {"pretrained": "pretrained", "scratch": "scratch", "self-training": "pretrained + self-training",
             "joint": "joint", "joint-w0": "joint, W = 0"}
OLD_ARMS = {"unlabelled": "self-training"}  # arm names logged by earlier versions
DEFAULT_ROUNDS = 10  # the self-training arm's rounds when the study's settings give none
JOINT_RECIPE = {  # the joint arm's settings (measured: benchmarks/README.md, "Joint training")
    "joint": True, "reconstruction_weight": 1.0, "noise": 0.3, "consistency": 10.0, "augment": True,
    "fine_tune_epochs": 2}
OWN_SETTINGS = ("reconstruction_weight", "noise", "consistency")  # recipe settings a study's own flags replace


def default_arms(config: ClassifierConfig) -> tuple[str, ...]:
    """Pretrained and scratch; self-training too when the config asks for self-training rounds."""
    return ("pretrained", "scratch", "self-training") if config.self_training else ("pretrained", "scratch")


def parse_arms(text: str) -> tuple[str, ...]:
    """Arms named in `text`, separated by commas, in the study's order; UserError naming one that is not an arm."""
    named = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in named if name not in ARMS]
    if unknown or not named:
        raise UserError(f"--arms {text}: {', '.join(unknown) or 'no arm'} is not an arm; choose among "
                        f"{', '.join(ARMS)}")
    return tuple(arm for arm in ARMS if arm in named)


@dataclass(frozen=True)
class PlannedRun:
    """One run of the study."""
    label_budget: int  # labelled training images, 0 for all of them
    repeat: int  # 1, 2, ...
    seed: int  # seeds the labelled subset, the initial weights and the batch order; every arm shares it
    arm: str  # one of ARMS


@dataclass(frozen=True)
class StudyPlan:
    """What the study trains: every budget, every repeat, every arm, with the same hyperparameters otherwise."""
    config: ClassifierConfig  # shared by every run; each arm sets the budget, init, self-training, joint training
    budgets: tuple[int, ...]  # labelled images per run, 0 for all, ascending with 0 last
    repeats: int  # runs per budget and arm
    seed: int  # the first repeat's seed; repeat r uses seed + r - 1
    arms: tuple[str, ...] = field(default=())  # the arms, in ARMS order; () for `default_arms(config)`

    def __post_init__(self):
        if not self.arms:
            object.__setattr__(self, "arms", default_arms(self.config))

    def runs(self) -> list[PlannedRun]:
        """Budget by budget, repeat by repeat, the arms together, so a stopped study leaves complete sets."""
        return [PlannedRun(budget, repeat, self.seed + repeat - 1, arm)
                for budget in self.budgets for repeat in range(1, self.repeats + 1) for arm in self.arms]

    def config_of(self, planned: PlannedRun) -> ClassifierConfig:
        """The arm's configuration: pretrained and scratch as the plan says (augmented if it says so), without
        self-training or joint training; self-training pretrained, augmented, with the plan's rounds (or
        DEFAULT_ROUNDS); joint with the joint recipe, and joint-w0 the same with no reconstruction term."""
        plain = {"joint": False, "reconstruction_weight": 0.0, "noise": 0.0, "consistency": 0.0}
        base = replace(self.config, label_budget=planned.label_budget, init="pretrained", self_training=0, **plain)
        if planned.arm == "scratch":
            return replace(base, init="scratch")
        if planned.arm == "self-training":
            return replace(base, augment=True, self_training=self.config.self_training or DEFAULT_ROUNDS)
        if planned.arm in ("joint", "joint-w0"):
            recipe = replace(base, **self.joint_recipe())
            return replace(recipe, reconstruction_weight=0.0) if planned.arm == "joint-w0" else recipe
        return base

    def joint_recipe(self) -> dict:
        """JOINT_RECIPE, except where the plan's config sets its weight or noise away from the default; its
        epochs always (an epoch of joint training passes over every training image, not the labelled ones)."""
        defaults = {f.name: f.default for f in fields(ClassifierConfig)}
        return {name: getattr(self.config, name) if name in OWN_SETTINGS and getattr(self.config, name) !=
                defaults[name] else value for name, value in JOINT_RECIPE.items()}


def arm_of(row) -> str:
    """The arm a logged run belongs to: its Arm column, or for runs logged before there was one, its settings."""
    arm = row.get("arm")
    if isinstance(arm, str) and arm:
        return OLD_ARMS.get(arm, arm)
    if row["init"] == "scratch":
        return "scratch"
    if row.get("joint") is True or row.get("joint") == "yes":
        return "joint" if float(row.get("reconstruction_weight") or 0) > 0 else "joint-w0"
    return "self-training" if float(row.get("self_training") or 0) > 0 else "pretrained"
