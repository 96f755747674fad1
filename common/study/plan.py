"""The plans of the label-budget study and of sweeps: which runs to train, each with its configuration and seed.

The label-budget study asks: does the autoencoder help when few labels are available, and how?

For each number of labelled images and each repeat, the same balanced, seeded subset is trained on by every arm:
the classifier on the autoencoder's encoder (pretrained), on an encoder of the same shape with random weights
(scratch), on the pretrained encoder with augmentation and self-training on the rest of the training images
(self-training), and trained jointly with the autoencoder's decoder reconstructing every training image (joint,
models/joint.py), or the same joint recipe without its reconstruction term (joint-w0: what the reconstruction
itself adds). All are scored on the whole test set, after stage 1 (a head on the frozen encoder: what the encoder
knows before any fine-tuning) and at the end. Every run is appended to the run log as it finishes; runs already in
the log with the same settings are reused, so an interrupted study carries on where it stopped.
"""

from dataclasses import dataclass, replace
from itertools import product

from common.errors import UserError
from models.config import CLASSIFIER_DEFAULTS, JOINT_SETTINGS, ClassifierConfig, joint_settings_changed

ARMS = ("pretrained", "scratch", "self-training", "joint", "joint-w0")  # the study's arms, in the order shown
ARM_NAMES = {"pretrained": "pretrained", "scratch": "scratch", "self-training": "pretrained + self-training",
             "joint": "joint", "joint-w0": "joint, W = 0"}
OLD_ARMS = {"unlabelled": "self-training"}  # arm names logged by earlier versions
DEFAULT_ROUNDS = 10  # the self-training arm's rounds when the study's settings give none
JOINT_RECIPE = {  # the joint arm's settings (measured: benchmarks/README.md, "Joint training")
    "joint": True, "reconstruction_weight": 1.0, "noise": 0.3, "consistency": 10.0, "teacher_decay": 0.99,
    "entropy_weight": 1.0, "augment": True, "joint_learning_rate": 1e-3, "schedule": "cosine", "fine_tune_epochs": 1}


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
    """One run of a plan."""
    values: tuple[tuple[str, object], ...]  # the swept hyperparameters' values, (field, value), in the plan's order
    repeat: int  # 1, 2, ...
    seed: int  # seeds the initial weights and the batch order (and a study's labelled subset); shared by every arm
    arm: str = ""  # a study's arm, one of ARMS; "" in a sweep: the configuration as it is

    @property
    def label_budget(self) -> int | None:
        """The labelled images a study's run is given (0 for all); None where the plan does not sweep them."""
        return dict(self.values).get("label_budget")


@dataclass(frozen=True)
class Plan:
    """What a study or a sweep trains: every combination of the swept values, every repeat with its own seed, every
    arm, with the same hyperparameters otherwise. The label-budget study sweeps `label_budget` with its arms; a
    sweep of the menu or of `--sweep` has the one arm "" (the configuration as it is)."""
    config: object  # shared by every run; each run sets its swept values (and a study's arm its own settings)
    axes: tuple[tuple[str, tuple], ...]  # (field, its values) per swept hyperparameter; several make a grid
    repeats: int  # runs per combination and arm
    seed: int  # the first repeat's seed; repeat r uses seed + r - 1
    arms: tuple[str, ...] = ("",)  # a study's arms, in ARMS order; ("",) in a sweep

    def runs(self) -> list[PlannedRun]:
        """Combination by combination, repeat by repeat, the arms together, so a stopped plan leaves complete
        sets."""
        names = [name for name, _ in self.axes]
        return [PlannedRun(tuple(zip(names, values)), repeat, self.seed + repeat - 1, arm)
                for values in product(*(values for _, values in self.axes))
                for repeat in range(1, self.repeats + 1) for arm in self.arms]

    def config_of(self, planned: PlannedRun):
        """The run's configuration: the plan's with the run's swept values, then its arm's settings."""
        config = replace(self.config, **dict(planned.values))
        return arm_config(config, planned.arm) if planned.arm else config

    @property
    def swept(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.axes)

    def values_of(self, name: str) -> tuple:
        """The values a field takes in the plan: its axis, or the configuration's one value."""
        return dict(self.axes).get(name, (getattr(self.config, name),))

    @property
    def budgets(self) -> tuple[int, ...]:
        """The labelled images of the plan's runs (classifier plans)."""
        return self.values_of("label_budget")


def label_study(config: ClassifierConfig, budgets: tuple[int, ...], repeats: int, seed: int,
                arms: tuple[str, ...] = ()) -> Plan:
    """The label-budget study: every budget (labelled images, 0 for all, ascending with 0 last), `repeats` times,
    for each arm (`default_arms(config)` when none are given)."""
    return Plan(config, (("label_budget", tuple(budgets)),), repeats, seed, tuple(arms) or default_arms(config))


def arm_config(config: ClassifierConfig, arm: str) -> ClassifierConfig:
    """An arm's configuration from the study's: pretrained and scratch as the config says (augmented if it says
    so), without self-training or joint training; self-training pretrained, augmented, with the config's rounds (or
    DEFAULT_ROUNDS); joint with the joint recipe, and joint-w0 the same with no reconstruction term."""
    plain = {"joint": False, **{name: CLASSIFIER_DEFAULTS[name] for name in JOINT_SETTINGS}}
    base = replace(config, init="pretrained", self_training=0, **plain)
    if arm == "scratch":
        return replace(base, init="scratch")
    if arm == "self-training":
        return replace(base, augment=True, self_training=config.self_training or DEFAULT_ROUNDS)
    if arm in ("joint", "joint-w0"):
        recipe = replace(base, **joint_recipe(config))
        return replace(recipe, reconstruction_weight=0.0) if arm == "joint-w0" else recipe
    return base


def joint_recipe(config: ClassifierConfig) -> dict:
    """JOINT_RECIPE, except for the settings of joint training `config` moves away from their defaults (its weight,
    noise, consistency or learning rate); its epochs always (an epoch of joint training passes over every training
    image, not the labelled ones)."""
    own = joint_settings_changed(config)
    return {name: getattr(config, name) if name in own else value for name, value in JOINT_RECIPE.items()}


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
