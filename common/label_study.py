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

import math
import time
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np
import pandas as pd

from common import dataset
from common.errors import UserError
from common.run_log import RunLog, new_run_id, run_row
from models.config import ClassifierConfig

ARMS = ("pretrained", "scratch", "self-training", "joint", "joint-w0")  # the study's arms, in the order shown
ARM_NAMES = {"pretrained": "pretrained", "scratch": "scratch", "self-training": "pretrained + self-training",
             "joint": "joint", "joint-w0": "joint, W = 0"}
OLD_ARMS = {"unlabelled": "self-training"}  # arm names logged by earlier versions
DEFAULT_ROUNDS = 10  # the self-training arm's rounds when the study's settings give none
JOINT_RECIPE = {"joint": "yes", "reconstruction_weight": 1.0, "noise": 0.3, "fine_tune_epochs": 2}  # the joint arm:
# these settings where the study's own are at their defaults (measured: benchmarks/README.md, "Joint training")
OWN_SETTINGS = ("reconstruction_weight", "noise")  # recipe settings a study's own flags replace
DIFFERENCES = {  # paired by seed: name -> (arm, arm subtracted)
    "pretraining": ("pretrained", "scratch"),  # do the autoencoder's weights help?
    "self_training": ("self-training", "pretrained"),  # do the unlabelled images help, by self-training?
    "reconstruction": ("joint", "joint-w0"),  # does the reconstruction term help, all else equal?
    "joint": ("joint", "pretrained"),  # does joint training beat pre-training?
}
# what must match for a logged run to stand for a planned one, besides its hyperparameters, seed and arm: the same
# autoencoder (by content), the same training file, split and test set
IDENTITY = ("autoencoder_sha256", "dataset", "images", "val_split", "split_seed", "test_dataset", "test_images")


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
    labels: int  # labelled training images, 0 for all of them
    repeat: int  # 1, 2, ...
    seed: int  # seeds the labelled subset, the initial weights and the batch order; every arm shares it
    arm: str  # one of ARMS


@dataclass(frozen=True)
class StudyPlan:
    """What the study trains: every budget, every repeat, every arm, with the same hyperparameters otherwise."""
    config: ClassifierConfig  # shared by every run; each arm sets `labels`, `init`, self-training and joint training
    budgets: tuple[int, ...]  # labelled images per run, 0 for all, ascending with 0 last
    repeats: int  # runs per budget and arm
    seed: int  # the first repeat's seed; repeat r uses seed + r - 1
    arms: tuple[str, ...] = field(default=())  # the arms, in ARMS order; () for `default_arms(config)`

    def __post_init__(self):
        if not self.arms:
            object.__setattr__(self, "arms", default_arms(self.config))

    def runs(self) -> list[PlannedRun]:
        """Budget by budget, repeat by repeat, the arms together, so a stopped study leaves complete sets."""
        return [PlannedRun(labels, repeat, self.seed + repeat - 1, arm)
                for labels in self.budgets for repeat in range(1, self.repeats + 1) for arm in self.arms]

    def config_of(self, planned: PlannedRun) -> ClassifierConfig:
        """The arm's configuration: pretrained and scratch as the plan says (augmented if it says so), without
        self-training or joint training; self-training pretrained, augmented, with the plan's rounds (or
        DEFAULT_ROUNDS); joint with the joint recipe, and joint-w0 the same with no reconstruction term."""
        plain = {"joint": "no", "reconstruction_weight": 0.0, "noise": 0.0}
        base = replace(self.config, labels=planned.labels, init="pretrained", self_training=0, **plain)
        if planned.arm == "scratch":
            return replace(base, init="scratch")
        if planned.arm == "self-training":
            return replace(base, augment="yes", self_training=self.config.self_training or DEFAULT_ROUNDS)
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
    as it finishes. `train_one(config, train, seed, callbacks_for, run_id, after_stage_1)` trains one classifier
    and returns its ClassifierRun; `context` holds the log values that say where the runs come from (the data, the
    autoencoder and its SHA-256, the split seed)."""
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
            row = train_and_test(plan, planned, data, train_one, context, reporter)
            try:
                log.append(row)
            except UserError as e:  # the study goes on; its table still shows this run
                reporter.warn(f"the run was not logged: {e}")
            if row["interrupted"]:
                outcome.interrupted = True
                break
            found[planned], outcome.trained = row, outcome.trained + 1
            new_ids.append(row["run_id"])
            reporter.finished(planned, row)
    finally:
        reporter.end()
    outcome.rows = _as_logged(log, found, plan, new_ids)
    return outcome


def train_and_test(plan: StudyPlan, planned: PlannedRun, data: StudyData, train_one, context: dict,
                   reporter) -> dict:
    """Train one planned run, score it on the test set after stage 1 and at the end, and return its log row."""
    from models.classifier import predict_classes
    from models.evaluation import evaluate

    def tested(model) -> dict:
        scored = evaluate(predict_classes(model, data.test[0]), data.test[1])
        return {"test_accuracy": scored.accuracy, "test_loss": scored.loss}

    start = time.perf_counter()
    config = plan.config_of(planned)
    train = dataset.labelled_part(*data.train, planned.labels, planned.seed)
    run_id = new_run_id()
    run = train_one(config, train, planned.seed, reporter.callbacks_for(planned), run_id,
                    lambda model: {"stage1_test_accuracy": tested(model)["test_accuracy"]})
    values = {**context, "seed": planned.seed, "labels_used": len(train[1]), "arm": planned.arm,
              **run.log_values()}
    if not run.interrupted:
        values.update(tested(run.model))
    values["wall_time"] = round(time.perf_counter() - start, 2)
    return run_row(config, run.history, run.seconds, run.interrupted, values, run_id)


def reusable(logged: pd.DataFrame, plan: StudyPlan, context: dict) -> dict:
    """The latest finished, tested run in the log for each planned run with the same settings and arm."""
    if logged.empty or "test_accuracy" not in logged:
        return {}
    same = logged["test_accuracy"].notna() & (logged["interrupted"].fillna("") != "yes")
    for name in IDENTITY:
        same &= _equal(logged[name], context[name])
    candidates = logged[same]
    arms = pd.Series([arm_of(row) for _, row in candidates.iterrows()], index=candidates.index, dtype=object)
    found = {}
    for planned in plan.runs():
        match = (candidates["seed"] == planned.seed) & (arms == planned.arm)
        for name, value in asdict(plan.config_of(planned)).items():
            match &= _equal(candidates[name], value)
        if match.any():
            found[planned] = candidates[match].iloc[-1].to_dict()
    return found


def arm_of(row) -> str:
    """The arm a logged run belongs to: its Arm column, or for runs logged before there was one, its settings."""
    arm = row.get("arm")
    if isinstance(arm, str) and arm:
        return OLD_ARMS.get(arm, arm)
    if row["init"] == "scratch":
        return "scratch"
    if row.get("joint") == "yes":
        return "joint" if float(row.get("reconstruction_weight") or 0) > 0 else "joint-w0"
    return "self-training" if float(row.get("self_training") or 0) > 0 else "pretrained"


def _equal(column: pd.Series, value) -> pd.Series:
    """Cells equal to `value`: as text for text, as numbers otherwise (the log reads numbers as floats)."""
    return column.astype(str) == value if isinstance(value, str) else column == value


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """Per budget: for each arm present, the mean, standard deviation and count of its test accuracy (`ARM_mean`,
    `ARM_sd`, `ARM_n`), of its test accuracy after stage 1 (`ARM_stage1_mean`, `ARM_stage1_sd`) and its wall time
    (`ARM_time`); for each of DIFFERENCES whose arms are both present, the mean and standard deviation of the
    difference over the seeds both have (`NAME_mean`, `NAME_sd`, `NAME_pairs`); the wall time of all the budget's
    runs (`wall_time`)."""
    rows = rows.assign(arm=[arm_of(row) for _, row in rows.iterrows()])
    present = [arm for arm in ARMS if (rows["arm"] == arm).any()]
    lines = []
    for labels, runs in rows.groupby("labels", sort=False):
        line = {"labels": int(labels), "labels_used": int(runs["labels_used"].max()),
                "wall_time": float(runs["wall_time"].sum())}
        by_arm = {}
        for arm in present:
            mine = runs[runs["arm"] == arm].set_index("seed")
            by_arm[arm] = accuracy = mine["test_accuracy"].astype(float)
            stage1 = _column(mine, "stage1_test_accuracy").dropna()
            line.update({f"{arm}_mean": accuracy.mean(), f"{arm}_sd": _sd(accuracy), f"{arm}_n": len(accuracy),
                         f"{arm}_stage1_mean": stage1.mean() if len(stage1) else math.nan,
                         f"{arm}_stage1_sd": _sd(stage1), f"{arm}_time": float(mine["wall_time"].sum())})
        for name, (a, b) in DIFFERENCES.items():
            if a in by_arm and b in by_arm:
                pairs = (by_arm[a] - by_arm[b]).dropna()
                line.update({f"{name}_mean": pairs.mean(), f"{name}_sd": _sd(pairs), f"{name}_pairs": len(pairs)})
        lines.append(line)
    frame = pd.DataFrame(lines)
    if frame.empty:
        return frame
    return frame.sort_values("labels", key=lambda s: s.replace(0, math.inf)).reset_index(drop=True)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column as floats; all missing when the frame (rows logged before it existed) has none."""
    if name not in frame:
        return pd.Series(math.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[name], errors="coerce")


def run_cost(plan: StudyPlan, planned: PlannedRun, data: StudyData) -> float:
    """Rough relative cost of a run, in image passes through the encoder, for the time-left estimate: features
    for stage 1 (passes every epoch when augmented), forward and backward passes and a validation per epoch of
    stage 2 (joint training: over every training image, through the decoder too, about three times the cost),
    then for each self-training round a pass over the unlabelled images and its training, then the test set."""
    config = plan.config_of(planned)
    split = len(data.train[1])
    train = planned.labels or split
    val, test, epochs = len(data.val[1]), len(data.test[1]), config.fine_tune_epochs
    stage1 = (3 * train + val) * config.epochs if config.augment == "yes" else train + val
    stage2 = epochs * (3 * train + 9 * split + val) if config.joint == "yes" else epochs * (3 * train + val)
    unlabelled = split - train
    pseudo = min(unlabelled, 10 * config.pseudo_cap * (config.self_training + 1) // 2)  # the average round's
    rounds = config.self_training * (unlabelled + config.round_epochs * (3 * (train + pseudo) + val)) if unlabelled \
        else 0
    return stage1 + stage2 + rounds + test


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
