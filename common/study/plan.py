"""The plans of the label-budget study and of sweeps: which runs to train, each with its configuration and seed.

The study trains every arm (common/study/arms.py) on the same balanced, seeded subset for each number of labelled
images and each repeat. All are scored on the whole test set, after stage 1 (a head on the frozen encoder: what the
encoder knows before any fine-tuning) and at the end. Every run is appended to the run log as it finishes; runs
already in the log with the same settings are reused, so an interrupted study carries on where it stopped.
"""

from dataclasses import dataclass, replace
from itertools import product

from common.study.arms import arm_config, default_arms
from models.config import ClassifierConfig


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
