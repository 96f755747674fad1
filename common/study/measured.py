"""What the answer table measured best (docs/results/few-labels.csv, written by benchmarks/reproduce.py): the arm
with the highest mean test accuracy at a number of labels, which the classifier's menu offers under its figure."""

import csv
from dataclasses import dataclass
from pathlib import Path

from common.study.arms import ARM, arm_config
from models.config.classifier import ClassifierConfig

ANSWER = Path(__file__).resolve().parents[2] / "docs" / "results" / "few-labels.csv"
OFFERED_WITHOUT_TABLE = "joint"  # the recipe the menu offers while no table is here


@dataclass(frozen=True)
class Measured:
    """An arm's figure in the answer table."""
    arm: str  # as the study names it
    labels: int  # labelled images
    accuracy: str  # its mean ± sd test accuracy over its seeds, as the table prints it

    @property
    def mean(self) -> float:
        return float(self.accuracy.split(" ± ")[0])


def best_measured(labels: int = 100, path: Path | None = None) -> Measured | None:
    """The arm with the highest mean test accuracy at `labels` labels in the answer table (`ANSWER` unless `path`);
    None without one."""
    path = path or ANSWER
    if not path.exists():
        return None
    with path.open(newline="") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    arms = [Measured(row["what"], labels, row["summary"]) for row in rows
            if row.get("labels") == str(labels) and row.get("what") in ARM and row.get("summary")]
    return max(arms, key=lambda measured: measured.mean, default=None)


def recipe_entry(measured: Measured | None) -> str:
    """The menu's entry for the recipe it offers: the best measured arm with its figure, or the joint recipe."""
    if measured is None:
        return f"Train with the {ARM[OFFERED_WITHOUT_TABLE].title} recipe (not measured at this code yet: " \
               "docs/few-labels.md)"
    return (f"Train with the {ARM[measured.arm].title} recipe (the highest mean test accuracy measured with "
            f"{measured.labels} labels: {measured.accuracy}, docs/few-labels.md)")


def with_recipe(said: dict, measured: Measured | None) -> ClassifierConfig:
    """The offered arm's configuration, keeping what the user said as a study's arm does."""
    return arm_config(said, measured.arm if measured is not None else OFFERED_WITHOUT_TABLE)
