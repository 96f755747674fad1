"""Running a study's plan: every planned run not already in the run log is trained, tested after stage 1 and at the
end, and appended to the log as it finishes, so an interrupted study carries on where it stopped."""

import time
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from common.data import dataset
from common.errors import UserError
from common.study.plan import PlannedRun, StudyPlan, arm_of
from common.tracking.run_log import RunLog, new_run_id, run_row

# what must match for a logged run to stand for a planned one, besides its hyperparameters, seed and arm: the same
# autoencoder (by content), the same training file, split and test set
IDENTITY = ("autoencoder_sha256", "dataset", "images", "val_split", "split_seed", "test_dataset", "test_images")



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
    and returns its TrainedRun; `context` holds the log values that say where the runs come from (the data, the
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
    from models.evaluation import evaluate
    from models.training.classifier_stages import predict_probabilities

    def tested(model) -> dict:
        scored = evaluate(predict_probabilities(model, data.test[0]), data.test[1])
        return {"test_accuracy": scored.accuracy, "test_loss": scored.loss}

    start = time.perf_counter()
    config = plan.config_of(planned)
    train = dataset.labelled_part(*data.train, planned.label_budget, planned.seed)
    run_id = new_run_id()
    run = train_one(config, train, planned.seed, reporter.callbacks_for(planned), run_id,
                    lambda model: {"stage1_test_accuracy": tested(model)["test_accuracy"]})
    values = {**context, "seed": planned.seed, "labels_used": len(train[1]), "arm": planned.arm}
    if not run.interrupted:
        values.update(tested(run.model))
    values["wall_time"] = round(time.perf_counter() - start, 2)
    return run_row(config, run.metrics(), values, run_id)


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


def _equal(column: pd.Series, value) -> pd.Series:
    """Cells equal to `value`: as text for text, as numbers otherwise (the log reads numbers as floats)."""
    return column.astype(str) == value if isinstance(value, str) else column == value


def run_cost(plan: StudyPlan, planned: PlannedRun, data: StudyData) -> float:
    """Rough relative cost of a run, in image passes through the encoder, for the time-left estimate: features
    for stage 1 (passes every epoch when augmented), forward and backward passes and a validation per epoch of
    stage 2 (joint training: over every training image, through the decoder too, about three times the cost),
    then for each self-training round a pass over the unlabelled images and its training, then the test set."""
    config = plan.config_of(planned)
    split = len(data.train[1])
    train = planned.label_budget or split
    val, test, epochs = len(data.val[1]), len(data.test[1]), config.fine_tune_epochs
    stage1 = (3 * train + val) * config.epochs if config.augment else train + val
    stage2 = epochs * (3 * train + 9 * split + val) if config.joint else epochs * (3 * train + val)
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



