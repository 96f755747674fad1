"""The plans of the label-budget study and of sweeps: which runs to train, each with its configuration and seed.

The study trains every arm (common/study/arms.py) on the same balanced, seeded subset for each number of labelled
images and each repeat. All are scored on the whole test set, after stage 1 (a head on the frozen encoder: what the
encoder knows before any fine-tuning) and at the end. Every run is appended to the run log as it finishes; runs
already in the log with the same settings are reused, so an interrupted study carries on where it stopped.

A plan keeps what it was told (flat settings, models/config/settings.py) apart from the defaults, which are
filled only when a run's configuration is made: an arm keeps every setting said, whatever its value.
"""

from dataclasses import dataclass
from itertools import product

from common.study.arms import arm_config, default_arms
from models.config.classifier import ClassifierConfig
from models.config.settings import make, value_of


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
    config_type: type  # AutoencoderConfig or ClassifierConfig
    said: tuple[tuple[str, object], ...]  # the flat settings the plan was told, shared by every run; the rest unsaid
    axes: tuple[tuple[str, tuple], ...]  # (field, its values) per swept hyperparameter; several make a grid
    repeats: int  # runs per combination and arm
    seed: int  # the first repeat's seed; repeat r uses seed + r - 1
    arms: tuple[str, ...] = ("",)  # a study's arms, in ARMS order; ("",) in a sweep

    @property
    def config(self):
        """The shared configuration: what was said, the defaults for the rest (before any arm or swept value)."""
        return make(self.config_type, dict(self.said))

    def runs(self) -> list[PlannedRun]:
        """Combination by combination, repeat by repeat, the arms together, so a stopped plan leaves complete
        sets."""
        names = [name for name, _ in self.axes]
        return [PlannedRun(tuple(zip(names, values)), repeat, self.seed + repeat - 1, arm)
                for values in product(*(values for _, values in self.axes))
                for repeat in range(1, self.repeats + 1) for arm in self.arms]

    def config_of(self, planned: PlannedRun):
        """The run's configuration: what the plan was told with the run's swept values, then its arm's settings,
        then the defaults."""
        said = {**dict(self.said), **dict(planned.values)}
        return arm_config(said, planned.arm) if planned.arm else make(self.config_type, said)

    @property
    def swept(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.axes)

    def values_of(self, name: str) -> tuple:
        """The values a field takes in the plan: its axis, or the configuration's one value."""
        return dict(self.axes).get(name, (value_of(self.config, name),))

    @property
    def budgets(self) -> tuple[int, ...]:
        """The labelled images of the plan's runs (classifier plans)."""
        return self.values_of("label_budget")


def plan_of(config_type, said: dict, axes, repeats: int, seed: int) -> Plan:
    """A sweep's plan: `said`, the flat settings given (the rest at their defaults), and the swept `axes`."""
    return Plan(config_type, tuple(sorted(said.items())), tuple(axes), repeats, seed)


def label_study(said: dict, budgets: tuple[int, ...], repeats: int, seed: int, arms: tuple[str, ...] = ()) -> Plan:
    """The label-budget study: every budget (labelled images, 0 for all, ascending with 0 last), `repeats` times,
    for each arm (`default_arms(said)` when none are given), each keeping the flat settings `said`."""
    told = tuple(sorted((k, v) for k, v in said.items() if k not in ("label_budget", "init")))
    return Plan(ClassifierConfig, told, (("label_budget", tuple(budgets)),), repeats, seed,
                tuple(arms) or default_arms(said))
