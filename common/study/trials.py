"""What one planned run is, for each program: how it is checked, priced, trained (and tested) and logged."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.data import splits
from common.errors import UserError
from common.study.plan import Plan, PlannedRun
from common.study.run_backups import backed_up, backup_folder, discard_backups, fingerprint
from common.tracking.recorder import LastRun
from common.tracking.run_log import new_run_id, run_row
from models.config.classifier import check_batch, check_label_budget, uses_unlabelled
from models.networks.evaluation import evaluate
from models.training.costs import autoencoder_cost, classifier_cost

# what must match for a logged classifier run to stand for a planned one, besides its hyperparameters, seed and arm:
# the same training code (models/training/version.py), autoencoder (by content), training file, split and test set
IDENTITY = ("recipe_version", "autoencoder_sha256", "dataset", "images", "val_split", "split_seed", "val_images",
            "test_dataset", "test_images")
CHECKPOINTS = "checkpoints"  # a row's key for its run's test accuracy along the way; the runner writes them apart
BACKUP = "backup"  # a row's key for its run's backup folder, which the runner removes once the row is logged
AUTOENCODER_IDENTITY = ("recipe_version", "dataset", "images", "val_split", "split_seed", "val_images")


@dataclass
class StudyData:
    """The images of a study: the training split, validation split and test set, each as (images, labels)."""
    train: tuple[np.ndarray, np.ndarray]
    val: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]


class ClassifierTrials:
    """The classifier's runs of a plan: each trained on the labelled subset its budget and seed give, tested on the
    test set after stage 1 and at the end. `train_one(config, train, seed, callbacks_for, run_id, after_stage_1)`
    trains one classifier and returns its TrainedRun; `check(config)` raises UserError for one the program
    refuses."""

    identity = IDENTITY
    scored = "test_accuracy"  # a run counts as finished (and reusable) once the log has it
    kind = "classifier"  # what a kept model's sidecar calls it

    def __init__(self, data: StudyData, classes: int, train_one, check=None, keep: str | None = None,
                 backups: Path | None = None):
        self.data = data
        self.classes = classes
        self.train_one = train_one
        self.check_config = check
        self.keep = keep  # a folder where each run's model is saved as RUN_ID.h5, or None: not kept
        self.backups = backups  # the run log's folder, where each run keeps its backups; None: no backups

    def check(self, plan: Plan) -> None:
        """UserError for a budget or batch the training split cannot give, or (with `check`) a configuration the
        program refuses."""
        check_plan(plan, self.classes, len(self.data.train[1]))
        for planned in plan.runs() if self.check_config else ():
            self.check_config(plan.config_of(planned))

    def cost(self, plan: Plan, planned: PlannedRun) -> float:
        """The run's work (models/training/costs.py), for the time-left estimate."""
        config = plan.config_of(planned)
        split = len(self.data.train[1])
        labelled = config.label_budget or split
        return classifier_cost(config, labelled, split, len(self.data.val[1]), len(self.data.test[1]),
                               self.classes).work

    def train(self, plan: Plan, planned: PlannedRun, context: dict, reporter) -> dict:
        """Train one planned run, score it on the test set after stage 1 and at the end; its log row."""
        tested = self.tested
        start = time.perf_counter()
        data = self.data
        config = plan.config_of(planned)
        run_id = new_run_id()
        train = splits.labelled_part(*data.train, config.label_budget, planned.seed)
        callbacks_for, curve = self.with_checkpoints(config, reporter.callbacks_for(planned), train)
        with backed_up_trial(self, config, planned, context, reporter) as kept:
            run = self.train_one(config, train, planned.seed, callbacks_for, run_id,
                                 lambda model: {"stage1_test_accuracy": tested(model)["test_accuracy"]})
        values = {**context, "seed": planned.seed, "labels_used": len(train[1]), "arm": planned.arm,
                  CHECKPOINTS: curve.points if curve is not None else [], **kept}
        if not run.interrupted:
            values.update(tested(run.model))
        values.update(keep_model(self.keep, self.kind, LastRun(config, run, run_id, values, logged=False)))
        values["wall_time"] = round(time.perf_counter() - start, 2)
        return run_row(config, run.metrics(), values, run_id)


    def tested(self, model) -> dict:
        """The test set's accuracy and loss for `model` (a classifier, or joint training's model around one)."""
        from models.training.classifier_stages import predict_probabilities  # TensorFlow: not before a run trains

        scored = evaluate(predict_probabilities(getattr(model, "classifier", model), self.data.test[0]),
                          self.data.test[1])
        return {"test_accuracy": scored.accuracy, "test_loss": scored.loss}

    def with_checkpoints(self, config, callbacks_for, train, every: int | None = None):
        """A joint or ladder run's callbacks with its validation accuracy measured every CHECKPOINT_STEPS steps of
        its pass over every training image and at its end (models/training/checkpoints.py), after its
        batch-normalisation statistics are estimated on the images its run estimates them on; and the
        Checkpoints (None for other runs). The test set is not looked at."""
        if config.joint is None and config.ladder is None:
            return callbacks_for, None
        from models.training.checkpoints import Checkpoints, estimate_statistics  # TensorFlow: once a run trains
        from models.training.classifier_stages import predict_probabilities  # TensorFlow: not before a run trains

        images = self.data.train[0] if uses_unlabelled(config) else train[0]
        val_images, val_labels = self.data.val

        def measure(model) -> float:
            estimate_statistics(model, images, config.batch_size)
            return evaluate(predict_probabilities(getattr(model, "classifier", model), val_images), val_labels).accuracy

        curve = Checkpoints(measure) if every is None else Checkpoints(measure, every)
        watched = ("joint", "ladder")  # the stages that pass over every training image
        return (lambda stage="": [*callbacks_for(stage), *([curve] if any(w in stage for w in watched) else [])]), \
            curve


class AutoencoderTrials:
    """The autoencoder's runs of a plan: each trained on the training split with its seed's initial weights and
    batch order. `train_one(config, seed, callbacks_for, run_id)` trains one and returns its TrainedRun; `check`
    raises UserError for a configuration the images cannot take."""

    identity = AUTOENCODER_IDENTITY
    scored = "val_loss"
    kind = "autoencoder"  # what a kept model's sidecar calls it

    def __init__(self, images: int, channels: int, train_one, check, keep: str | None = None,
                 backups: Path | None = None):
        self.images = images
        self.channels = channels
        self.train_one = train_one
        self.check_config = check
        self.keep = keep  # a folder where each run's model is saved as RUN_ID.h5, or None: not kept
        self.backups = backups  # the run log's folder, where each run keeps its backups; None: no backups

    def check(self, plan: Plan) -> None:
        for planned in plan.runs():
            self.check_config(plan.config_of(planned))

    def cost(self, plan: Plan, planned: PlannedRun) -> float:
        """The run's work (models/training/costs.py), for the time-left estimate."""
        return autoencoder_cost(plan.config_of(planned), self.images, self.channels).work

    def train(self, plan: Plan, planned: PlannedRun, context: dict, reporter) -> dict:
        start = time.perf_counter()
        config = plan.config_of(planned)
        run_id = new_run_id()
        with backed_up_trial(self, config, planned, context, reporter) as kept:
            run = self.train_one(config, planned.seed, reporter.callbacks_for(planned), run_id)
        values = {**context, "seed": planned.seed, **kept}
        values.update(keep_model(self.keep, self.kind, LastRun(config, run, run_id, values, logged=False)))
        values["wall_time"] = round(time.perf_counter() - start, 2)
        return run_row(config, run.metrics(), values, run_id)


@contextmanager
def backed_up_trial(trials, config, planned: PlannedRun, context: dict, reporter) -> Iterator[dict]:
    """Train the block's run with its backups under the trials' folder (when they have one, `run_backups.backed_up`);
    the dict given fills, once the block ends, with the log values of its resumptions and the backup folder for the
    runner to remove once the row is logged."""
    if trials.backups is None:
        yield {}
        return
    folder = backup_folder(trials.backups, trials.kind, config, planned)
    with backed_up(folder, fingerprint(config, planned, context, trials.identity), reporter.warn) as kept:
        yield kept
    kept[BACKUP] = str(folder)


def discard(trials, plan: Plan) -> None:
    """Remove the backups of the plan's runs (`--fresh`)."""
    if trials.backups is not None:
        discard_backups(trials.backups, trials.kind, plan)


def keep_model(folder: str | None, kind: str, last: LastRun) -> dict:
    """With a folder (`--keep-models`): save a finished run's model there as RUN_ID.h5 with its sidecar, wherever
    it was trained (a worker, a Ray node: the folder is theirs too); the log values that say where it went."""
    if folder is None or last.run.interrupted:
        return {}
    from models.training.persistence import save_model  # TensorFlow: not in a worker that trains nothing

    path = Path(folder) / f"{last.run_id}.h5"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"--keep-models {folder}: cannot be created ({e.strerror or e})") from None
    save_model(last.run.model, path, last.metadata(kind))
    return {"model_path": str(path)}


def check_plan(plan: Plan, classes: int, available: int) -> None:
    """ConfigError for a budget the training split (`available` labelled images of `classes` classes) cannot give,
    or a batch larger than the smallest budget, before anything is trained."""
    for labels in plan.budgets:
        check_label_budget(labels, classes, available)
    check_batch(max(plan.values_of("batch_size")), min(b or available for b in plan.budgets))
