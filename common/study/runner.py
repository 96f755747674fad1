"""Running a plan (the label-budget study, a sweep): every planned run not already in the run log is trained (and
for the classifier tested after stage 1 and at the end) and appended to the log as it finishes, so an interrupted
plan carries on where it stopped. What a run is depends on the program (common/study/trials.py).
"""

import shutil
from dataclasses import dataclass

import pandas as pd

from common.errors import UserError
from common.study.arms import arm_of
from common.study.plan import Plan, PlannedRun
from common.study.trials import BACKUP, CHECKPOINTS, ClassifierTrials, discard
from common.tracking.checkpoint_log import CHECKPOINT_LOG, CheckpointLog
from common.tracking.run_log import RunLog
from models.config.settings import flat


@dataclass
class StudyOutcome:
    """The finished runs of the plan (reused or new) and how it ended."""
    rows: pd.DataFrame  # one row per finished run, as in the log
    reused: int = 0  # runs taken from the log
    trained: int = 0  # runs trained now
    interrupted: bool = False  # Ctrl-C stopped the plan before it was done


class QuietReporter:
    """Reports nothing: a plan's progress hooks, for callers without a screen."""

    def begin(self, todo: list, costs: list[float], reused: int, planned: int) -> None:
        pass

    def callbacks_for(self, planned: PlannedRun):
        return lambda stage="": []

    def working(self, worker: int, planned: PlannedRun, stage: str, epoch: int, epochs: int, logs: dict) -> None:
        """Worker number `worker` (from 1) is training `planned`: `epoch` of `epochs` done in `stage` (0 of 0: it
        has just started), with the epoch's metrics in `logs`."""

    def finished(self, planned: PlannedRun, row: dict) -> None:
        pass

    def warn(self, message: str) -> None:
        pass

    def end(self) -> None:
        pass


def run_plan(plan: Plan, trials, *, log: RunLog, context: dict, fresh: bool = False, reporter=None,
             workers=None) -> StudyOutcome:
    """Train every planned run not already in `log` (all of them when `fresh`) with `trials`, appending each to the
    log as it finishes. `context` holds the log values that say where the runs come from (the data and its split,
    the autoencoder and its SHA-256). `workers` (common/study/parallel.py, ray_workers.py): train them several at a
    time, each in a process of its own."""
    reporter = reporter or QuietReporter()
    trials.check(plan)
    if fresh:
        discard(trials, plan)
    logged, _ = log.read()
    found = {} if fresh else reusable(logged, plan, context, trials)
    todo = [p for p in plan.runs() if p not in found]
    reporter.begin(todo, [trials.cost(plan, p) for p in todo], len(found), len(plan.runs()))
    outcome = StudyOutcome(rows=pd.DataFrame(), reused=len(found))
    finished = workers.results(plan, todo, context, reporter, log.path.parent) if workers is not None and todo else \
        ((planned, trials.train(plan, planned, context, reporter)) for planned in todo)
    new_ids = []
    try:
        for planned, row in finished:
            _log(log, row, reporter)
            if row["interrupted"]:
                outcome.interrupted = True
                break
            found[planned] = row
            outcome.trained += 1
            new_ids.append(row["run_id"])
            reporter.finished(planned, row)
    except KeyboardInterrupt:  # between runs, or with workers: what finished is logged
        outcome.interrupted = True
    finally:
        close = getattr(finished, "close", None)
        if close is not None:
            close()  # stops the workers
        reporter.end()
    outcome.rows = _as_logged(log, found, plan, new_ids)
    return outcome


def _log(log: RunLog, row: dict, reporter) -> None:
    """Append a finished run's row to the log, and its checkpoints beside it, then remove its backups; a log that
    cannot be written is said, and the plan goes on (its table still shows the run; its backups are kept)."""
    points = row.pop(CHECKPOINTS, None)
    backup = row.pop(BACKUP, None)
    try:
        log.append(row)
        if points:
            CheckpointLog(log.path.with_name(CHECKPOINT_LOG)).append(row, points)
    except UserError as e:
        reporter.warn(f"the run was not logged: {e}")
        return
    if backup is not None and row.get("interrupted") != "yes":  # logged: its backups are no longer needed
        shutil.rmtree(backup, ignore_errors=True)


def reusable(logged: pd.DataFrame, plan: Plan, context: dict, trials=ClassifierTrials) -> dict:
    """The latest finished run in the log for each planned run with the same settings, seed and arm (in a study),
    trained on the same data (`trials.identity`)."""
    if logged.empty or trials.scored not in logged:
        return {}
    same = logged[trials.scored].notna() & (logged["interrupted"].fillna("") != "yes")
    for name in trials.identity:
        same &= _equal(logged[name], context[name]) if name in logged else False
    candidates = logged[same]
    arms = pd.Series([arm_of(row) for _, row in candidates.iterrows()] if plan.arms != ("",) else "",
                     index=candidates.index, dtype=object)
    found = {}
    for planned in plan.runs():
        match = (candidates["seed"] == planned.seed) & (arms == planned.arm)
        for name, value in flat(plan.config_of(planned)).items():
            match &= _equal(candidates[name], value)
        if match.any():
            found[planned] = candidates[match].iloc[-1].to_dict()
    return found


def _equal(column: pd.Series, value) -> pd.Series:
    """Cells equal to `value`: as text for text, as numbers otherwise (the log reads numbers as floats)."""
    return column.astype(str) == value if isinstance(value, str) else column == value


def _as_logged(log: RunLog, found: dict, plan: Plan, new_ids: list[str]) -> pd.DataFrame:
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
