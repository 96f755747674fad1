"""Where a planned run keeps its backups (models/training/run_backup.py): a folder per run under the run log's
`backups/`, named by what makes the run (program, arm, seed, settings), and the fingerprint its backups must carry
to be used (those and the training code's version and the data the run trains on): a backup of other code or
data is said once and not used."""

import hashlib
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from models.config.settings import flat

BACKUPS = "backups"  # the folder beside the run log
VOLATILE = ("timestamp", "wall_time", "model_path")  # context values that differ between starts of one run


def _digest(values: dict) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:16]


def backup_folder(root: Path, kind: str, config, planned) -> Path:
    """The backup folder of the planned run of `config` under `root` (the log's folder)."""
    name = {"kind": kind, "arm": planned.arm, "seed": planned.seed, **flat(config)}
    return Path(root) / BACKUPS / f"{kind}-{planned.arm or 'run'}-seed{planned.seed}-{_digest(name)}"


def fingerprint(config, planned, context: dict, identity: tuple[str, ...]) -> str:
    """What a run's backups must have been made by: its settings and seed, the code's version and the data."""
    return _digest({"seed": planned.seed, "arm": planned.arm, **flat(config),
                    **{name: context.get(name) for name in identity}})


def discard_backups(root: Path, kind: str, plan) -> None:
    """Remove the backups of every run of `plan` (`--fresh`)."""
    for planned in plan.runs():
        shutil.rmtree(backup_folder(root, kind, plan.config_of(planned), planned), ignore_errors=True)


@contextmanager
def backed_up(folder: Path, made_by: str, warn) -> Iterator[dict]:
    """Train the block's run with its backups in `folder`, made by `made_by` (a fingerprint); what could not be used
    is said with `warn` once the block ends; the dict given fills, then, with the log values that say how often the
    run was resumed and the minutes that lost."""
    from models.training.run_backup import backing_up  # TensorFlow: not before a run trains

    kept: dict = {}
    with backing_up(folder, made_by) as backup:
        yield kept
    for warning in backup.warnings:
        warn(warning)
    record = backup.record()
    kept.update(resumed=record["resumed"], lost_minutes=round(record["lost_seconds"] / 60, 2))


def single_run(program, config, context: dict, fresh: bool = False) -> tuple[Path, str]:
    """The backup folder and fingerprint of a program's single run (not of a plan) under its log's folder; the
    folder emptied when `fresh`."""
    from common.study.plan import PlannedRun  # the plan's run record, for the folder's name

    planned = PlannedRun((), 1, context.get("seed", 0))
    folder = backup_folder(program.log.path.parent, program.model_name, config, planned)
    if fresh:
        shutil.rmtree(folder, ignore_errors=True)
    identity = tuple(name for name in context if name not in VOLATILE)
    return folder, fingerprint(config, planned, context, identity)
