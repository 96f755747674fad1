"""The label-budget study: does the autoencoder's encoder help when few labels are available?

For each number of labelled images and each repeat, the same classifier is trained on the same balanced, seeded
subset on the autoencoder's encoder (pretrained) and on an encoder of the same shape with random weights
(scratch); with self-training asked for, a third time on the pretrained encoder with augmentation and
self-training on the rest of the training images (unlabelled). All are scored on the whole test set. Every run is appended to the run log as it finishes; runs already
in the log with the same settings are reused, so an interrupted study carries on where it stopped.
"""

import math
import time
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from common import dataset
from common.errors import UserError
from common.run_log import RunLog, new_run_id, run_row
from models.config import ClassifierConfig

ARMS = ("pretrained", "scratch", "unlabelled")  # the study's arms, in the order shown
ARM_NAMES = {"pretrained": "pretrained", "scratch": "scratch", "unlabelled": "pretrained + unlabelled"}
# what must match for a logged run to stand for a planned one, besides its hyperparameters and seed: the same
# autoencoder (by content), the same training file, split and test set
DIFFERENCES = {"difference": ("pretrained", "scratch"),  # does the autoencoder help?
               "gain": ("unlabelled", "pretrained")}  # do the unlabelled images help beyond it?
IDENTITY = ("autoencoder_sha256", "dataset", "images", "val_split", "split_seed", "test_dataset", "test_images")


@dataclass(frozen=True)
class PlannedRun:
    """One run of the study."""
    labels: int  # labelled training images, 0 for all of them
    repeat: int  # 1, 2, ...
    seed: int  # seeds the labelled subset, the initial weights and the batch order; every arm shares it
    arm: str  # one of ARMS


@dataclass(frozen=True)
class StudyPlan:
    """What the study trains: every budget, every repeat, both arms, with the same hyperparameters otherwise."""
    config: ClassifierConfig  # shared by every run; each arm sets `labels`, `init` and self-training
    budgets: tuple[int, ...]  # labelled images per run, 0 for all, ascending with 0 last
    repeats: int  # runs per budget and arm
    seed: int  # the first repeat's seed; repeat r uses seed + r - 1

    @property
    def arms(self) -> tuple[str, ...]:
        """Pretrained and scratch; the unlabelled arm too when the config asks for self-training rounds."""
        return ARMS if self.config.self_training else ARMS[:2]

    def runs(self) -> list[PlannedRun]:
        """Budget by budget, repeat by repeat, the arms together, so a stopped study leaves complete sets."""
        return [PlannedRun(labels, repeat, self.seed + repeat - 1, arm)
                for labels in self.budgets for repeat in range(1, self.repeats + 1) for arm in self.arms]

    def config_of(self, planned: PlannedRun) -> ClassifierConfig:
        """The arm's configuration: scratch and pretrained without self-training (augmented if the plan says so),
        the unlabelled arm pretrained, augmented, with the plan's self-training rounds."""
        if planned.arm == "unlabelled":
            return replace(self.config, labels=planned.labels, init="pretrained", augment="yes")
        return replace(self.config, labels=planned.labels, init=planned.arm, self_training=0)


@dataclass
class StudyData:
    """The images of a study: the training split, validation split and test set, each as (images, labels)."""
    train: tuple[np.ndarray, np.ndarray]
    val: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]


@dataclass
class StudyOutcome:
    """The finished runs of the plan (reused or new) and how the study ended."""
    rows: pd.DataFrame  # one row per finished run, as in the log
    reused: int = 0  # runs taken from the log
    trained: int = 0  # runs trained now
    interrupted: bool = False  # Ctrl-C stopped the study before the plan was done


class QuietReporter:
    """Reports nothing: the study's progress hooks, for callers without a screen."""

    def begin(self, todo: list, costs: list[float], reused: int, planned: int) -> None:
        pass

    def callbacks_for(self, planned: PlannedRun):
        return lambda stage: []

    def finished(self, planned: PlannedRun, row: dict) -> None:
        pass

    def warn(self, message: str) -> None:
        pass

    def end(self) -> None:
        pass


def check_plan(plan: StudyPlan, train_labels: np.ndarray) -> None:
    """Raise UserError for a budget the training split cannot give, before anything is trained."""
    available = len(train_labels)
    for labels in plan.budgets:
        if labels > available:
            raise UserError(f"--labels {labels}: only {available} labelled training images are left after the "
                            f"validation split")
    smallest = min(b or available for b in plan.budgets)
    if plan.config.batch_size > smallest:
        raise UserError(f"batch size {plan.config.batch_size} is larger than the smallest budget ({smallest} "
                        f"labelled images): use --batch-size {smallest} or less")


def run_study(plan: StudyPlan, data: StudyData, train_one, *, log: RunLog, context: dict, fresh: bool = False,
              reporter=None) -> StudyOutcome:
    """Train and test every planned run not already in `log` (all of them when `fresh`), appending each to the log
    as it finishes. `train_one(config, train, seed, callbacks_for, run_id)` trains one classifier and returns its
    ClassifierRun; `context` holds the log values that say where the runs come from (the data, the
    autoencoder and its SHA-256, the split seed)."""
    from models.classifier import predict_classes
    from models.evaluation import evaluate

    reporter = reporter or QuietReporter()
    check_plan(plan, data.train[1])
    logged, _ = log.read()
    found = {} if fresh else reusable(logged, plan, context)
    todo = [p for p in plan.runs() if p not in found]
    reporter.begin(todo, [run_cost(plan, p, data) for p in todo], len(found), len(plan.runs()))
    outcome = StudyOutcome(rows=pd.DataFrame(), reused=len(found))
    new_ids = []
    try:
        for planned in todo:
            start = time.perf_counter()
            config = plan.config_of(planned)
            train = dataset.labelled_part(*data.train, planned.labels, planned.seed)
            run_id = new_run_id()
            run = train_one(config, train, planned.seed, reporter.callbacks_for(planned), run_id)
            values = {**context, "seed": planned.seed, "labels_used": len(train[1]), **run.log_values()}
            if not run.interrupted:
                scored = evaluate(predict_classes(run.model, data.test[0]), data.test[1])
                values.update(test_accuracy=scored.accuracy, test_loss=scored.loss)
            values["wall_time"] = round(time.perf_counter() - start, 2)
            row = run_row(config, run.history, run.seconds, run.interrupted, values, run_id)
            try:
                log.append(row)
            except UserError as e:  # the study goes on; its table still shows this run
                reporter.warn(f"the run was not logged: {e}")
            if run.interrupted:
                outcome.interrupted = True
                break
            found[planned], outcome.trained = row, outcome.trained + 1
            new_ids.append(row["run_id"])
            reporter.finished(planned, row)
    finally:
        reporter.end()
    outcome.rows = _as_logged(log, found, plan, new_ids)
    return outcome


def reusable(logged: pd.DataFrame, plan: StudyPlan, context: dict) -> dict:
    """The latest finished, tested run in the log for each planned run with the same settings."""
    if logged.empty or "test_accuracy" not in logged:
        return {}
    same = logged["test_accuracy"].notna() & (logged["interrupted"].fillna("") != "yes")
    for name in IDENTITY:
        same &= _equal(logged[name], context[name])
    candidates = logged[same]
    found = {}
    for planned in plan.runs():
        match = candidates["seed"] == planned.seed
        for name, value in asdict(plan.config_of(planned)).items():
            match &= _equal(candidates[name], value)
        if match.any():
            found[planned] = candidates[match].iloc[-1].to_dict()
    return found


def arm_of(row) -> str:
    """The arm a logged run belongs to, from its settings."""
    if row["init"] == "scratch":
        return "scratch"
    return "unlabelled" if float(row.get("self_training") or 0) > 0 else "pretrained"


def _equal(column: pd.Series, value) -> pd.Series:
    """Cells equal to `value`: as text for text, as numbers otherwise (the log reads numbers as floats)."""
    return column.astype(str) == value if isinstance(value, str) else column == value


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """Per budget: mean and standard deviation of test accuracy for each arm present, the mean differences between
    arms over the seeds both have (pretrained minus scratch; unlabelled minus pretrained) with their standard
    deviations, and the wall time of the budget's runs."""
    rows = rows.assign(arm=[arm_of(row) for _, row in rows.iterrows()])
    present = [arm for arm in ARMS if (rows["arm"] == arm).any()]
    lines = []
    for labels, runs in rows.groupby("labels", sort=False):
        line = {"labels": int(labels), "labels_used": int(runs["labels_used"].max()),
                "wall_time": float(runs["wall_time"].sum())}
        by_arm = {}
        for arm in present:
            accuracy = runs[runs["arm"] == arm].set_index("seed")["test_accuracy"].astype(float)
            by_arm[arm] = accuracy
            line.update({f"{arm}_mean": accuracy.mean(), f"{arm}_sd": _sd(accuracy), f"{arm}_n": len(accuracy)})
        for name, (a, b) in DIFFERENCES.items():
            if a in by_arm and b in by_arm:
                pairs = (by_arm[a] - by_arm[b]).dropna()
                line.update({f"{name}_mean": pairs.mean(), f"{name}_sd": _sd(pairs), f"{name}_pairs": len(pairs)})
        lines.append(line)
    frame = pd.DataFrame(lines)
    if frame.empty:
        return frame
    return frame.sort_values("labels", key=lambda s: s.replace(0, math.inf)).reset_index(drop=True)


def run_cost(plan: StudyPlan, planned: PlannedRun, data: StudyData) -> float:
    """Rough relative cost of a run, in image passes through the encoder, for the time-left estimate: features
    for stage 1 (passes every epoch when augmented), forward and backward passes and a validation per epoch of
    stage 2, then for each self-training round a pass over the unlabelled images and its training, then the test
    set."""
    config = plan.config_of(planned)
    train = planned.labels or len(data.train[1])
    val, test, epochs = len(data.val[1]), len(data.test[1]), config.fine_tune_epochs
    stage1 = (3 * train + val) * config.epochs if config.augment == "yes" else train + val
    unlabelled = len(data.train[1]) - train
    pseudo = min(unlabelled, 10 * config.pseudo_cap * (config.self_training + 1) // 2)  # the average round's
    rounds = config.self_training * (unlabelled + config.round_epochs * (3 * (train + pseudo) + val)) if unlabelled \
        else 0
    return stage1 + epochs * (3 * train + val) + rounds + test


def _as_logged(log: RunLog, found: dict, plan: StudyPlan, new_ids: list[str]) -> pd.DataFrame:
    """The finished runs of the plan as the log holds them (rounded as written), in plan order."""
    logged, _ = log.read()
    by_id = logged.set_index("run_id") if not logged.empty else None
    rows = []
    for planned in plan.runs():
        if planned not in found:
            continue
        row = found[planned]
        if by_id is not None and row["run_id"] in new_ids and row["run_id"] in by_id.index:  # as written
            row = {**by_id.loc[row["run_id"]].to_dict(), "run_id": row["run_id"]}
        rows.append(row)
    return pd.DataFrame(rows)


def _sd(values: pd.Series) -> float:
    """Sample standard deviation; NaN for fewer than two values."""
    return float(values.std(ddof=1)) if len(values) > 1 else math.nan
