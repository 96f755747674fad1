"""The classifier program: a saved autoencoder's encoder, a fully connected head, two-stage (or joint) training,
prediction of the test set, and the label-budget study."""

import argparse
import io
from pathlib import Path

from rich.console import Console

from common.data import dataset, splits
from common.keras_setup import keep_quiet
from common.study.arms import LADDER_RECIPE
from common.study.measured import best_measured, recipe_entry, with_recipe
from common.study.trials import ClassifierTrials, StudyData
from common.tracking import schema
from common.ui.plots.plotting import plot_history
from common.ui.program import Program, image_shape
from common.ui.programs.autoencoder_source import AutoencoderSource
from common.ui.screens.prediction_report import predict_test_set
from common.ui.screens.study_screens import StudyScreens
from common.ui.terminal.messages import warn
from common.ui.terminal.progress import RichProgress
from common.ui.terminal.prompts import Prompter
from common.ui.terminal.tables import self_training_table
from models.config.choices import SIDE_MULTIPLE
from models.config.classifier import ClassifierConfig, check_batch, check_classifier, check_label_budget, check_ladder
from models.config.settings import flat, settings
from models.training.classifier_stages import ClassifierData
from models.training.classifier_trainer import ClassifierTrainer

ENCODER_LABELS = {"encoder_layers": "Encoder layers", "encoder_filter_size": "Encoder filter size",
                  "encoder_filters": "Encoder filters in the first layer"}
SCARCE_CLASS = 5  # training images: a class with fewer is named in a warning (a stray label?)


class ClassifierProgram(Program):
    """The classifier's data (labelled training images, split, and a test set) and autoencoder, how to train and
    draw its runs, and its menu entries: another autoencoder, predicting the test set, the recipe the answer table
    measured best, the study."""

    config_type = ClassifierConfig
    model_name = "classifier"
    log_name = "classification_loss_values.csv"
    columns = schema.CLASSIFIER
    sweep_metrics = ("val_loss", "val_accuracy", "test_accuracy")

    def __init__(self, args, console: Console, ask: Prompter):
        super().__init__(args, console)
        self._load_data(args)
        self.source = AutoencoderSource(args.out, self.image_shape, args.dataset, console, ask)
        self.study = StudyScreens(self, console, ask)
        self.baseline_encoder = {}  # encoder columns of the first autoencoder: the graphs' baseline
        self.measured = best_measured()  # the recipe the menu offers: the answer table's best with 100 labels

    def _load_data(self, args) -> None:
        test = (args.test, args.test_labels) if args.test else None
        train, tested = dataset.load_classification((args.dataset, args.dataset_labels), test, args.limit)
        images = dataset.fit_sides(train.images, SIDE_MULTIPLE, args.pad, args.dataset)
        test_images = dataset.fit_sides(tested.images, SIDE_MULTIPLE, args.pad, args.test or args.dataset)
        self.classes = train.classes
        warn_scarce(self.console, args.dataset, self.classes.scarce(train.labels, SCARCE_CLASS))
        self.count = images.shape[0]
        self.image_shape = images.shape[1:]
        part = splits.split(self.count, args.val_split, args.seed)
        pixels = dataset.to_model_input(images)
        self.train_x = pixels[part.train]
        self.train_y = train.labels[part.train]
        self.val_x = pixels[part.val][:args.val_limit]
        self.val_y = train.labels[part.val][:args.val_limit]
        self.test_x = dataset.to_model_input(test_images)
        self.test_y = tested.labels
        for labels in [args.label_budget or 0, *(args.budgets or [])]:
            check_label_budget(labels, len(self.classes), len(self.train_y))
        # the test set's file or folder; an .npz archive's test part is named after it
        self.test_source = str(Path(args.test).resolve()) if args.test else f"{self.dataset} (x_test)"
        self.console.print(f"Loaded {self.count} labelled images of {dataset.describe_shape(train.images, images)} "
                           f"from {args.dataset} ({self.classes.describe()}): {len(self.train_x)} for training, "
                           f"{len(self.val_x)} for validation; {len(self.test_x)} test images")

    def start(self, can_ask: bool) -> bool:
        """Choose and load the autoencoder (asking when it may); False when the user backs out."""
        if not self.source.choose_at_start(self.args.model, can_ask):
            return False
        self.baseline_encoder = dict(self.source.encoder)
        return True

    def proposals(self, said: dict) -> dict:
        """With the ladder said, the study's ladder arm's steps and length (common/study/arms.py) for those unsaid."""
        return {k: v for k, v in LADDER_RECIPE.items() if k != "ladder"} if said.get("ladder") else {}

    def check(self, config: ClassifierConfig) -> None:
        check_classifier(config)
        check_label_budget(config.label_budget, len(self.classes), len(self.train_y))
        check_batch(config.batch_size, config.label_budget or len(self.train_y))
        check_ladder(config, self.source.encoder.get("encoder_layers"))

    def train(self, config: ClassifierConfig, run_id: str):
        """Train one classifier on the labelled part of the training split, its stages drawn in the terminal."""
        train = splits.labelled_part(self.train_x, self.train_y, config.label_budget, self.args.seed)
        run = self.train_one(config, train, self.args.seed, lambda stage: [RichProgress(self.console, stage)],
                             run_id)
        if run.rounds:
            self.console.print(self_training_table(run.rounds))
        run.extra["labels_used"] = len(train[1])
        return run

    def train_one(self, config, train, seed: int, callbacks_for, run_id: str, after_stage_1=None):
        """Train one classifier on `train`, the labelled part for `config.label_budget` and `seed`, on the current
        autoencoder's encoder (models/training/classifier_trainer.py), self-training on the rest of the training
        split when the config asks, in the way of computing chosen for it. Returns its TrainedRun."""
        unlabelled = None
        if config.self_training is not None:
            unlabelled = splits.unlabelled_part(self.train_x, self.train_y, config.label_budget, seed)
        data = ClassifierData(train, (self.val_x, self.val_y), len(self.classes), unlabelled, self.train_x)
        trainer = ClassifierTrainer(self.environment, self.source.model, str(self.source.path), self.source.encoder,
                                    data, seed=seed, after_stage_1=after_stage_1,
                                    callbacks_for=self.environment.callbacks_for(callbacks_for, run_id, config),
                                    counts=(len(self.val_y), len(self.test_y)))
        return trainer.train(config)

    def worker_factory(self) -> tuple:
        """The arguments name the autoencoder in use."""
        return worker_trials, argparse.Namespace(**{**vars(self.args), "model": str(self.source.path)})

    def trials(self):
        data = StudyData((self.train_x, self.train_y), (self.val_x, self.val_y), (self.test_x, self.test_y))
        return ClassifierTrials(data, len(self.classes), self.train_one, self.check, self.args.keep_models,
                                backups=Path(self.args.out))

    def results(self, run) -> dict:
        metrics = run.metrics()
        return {name.replace("_", " "): metrics[name] for name in ("loss", "val_loss", "accuracy", "val_accuracy")}

    def context(self) -> dict:
        """The data and split, the autoencoder, the test set, the device."""
        return {**self.origin(), "image_shape": image_shape(self.train_x), "classes": self.classes.record(),
                **self.source.context(), "test_dataset": self.test_source, "test_images": len(self.test_y)}

    def menu_items(self, session) -> list:
        # another autoencoder: loaded, then the baseline trained on its encoder
        return [("Use another autoencoder", lambda: self.source.switch() and session.train(session.baseline)),
                ("Predict the test set", lambda: predict_test_set(session, self)),
                (recipe_entry(self.measured), lambda: session.train_checked(with_recipe(session.said, self.measured))),
                ("Study: test accuracy against the number of labels", lambda: self.study.from_menu(session))]

    def after_single_run(self, session) -> None:
        predict_test_set(session, self)

    def graphs(self, session) -> list[Path]:
        """Loss and accuracy against each varied hyperparameter, and the last run's curves across its stages."""
        labels = {s.name: s.metadata["label"] for s in settings(ClassifierConfig)} | ENCODER_LABELS
        baseline = flat(session.baseline) | self.baseline_encoder
        panels = [[("loss", "loss"), ("val_loss", "val_loss")], [("accuracy", "accuracy"),
                                                                ("val_accuracy", "val_accuracy")]]
        paths = self.figures.effects(self.same_data(session.read_runs()), labels, baseline, panels,
                                     x_of=lambda name: "labels_used" if name == "label_budget" else name)
        run = session.last.run
        paths.append(plot_history(run.history, self.figures.path("last_run_curves"), "Last run",
                                  stage_boundary=run.stage_boundary))
        return paths


def warn_scarce(console: Console, where: str, scarce: dict[str, int]) -> None:
    """A warning naming the classes with few training images (`Classes.scarce`), if any."""
    if scarce:
        warn(console, f"{where}: {'classes' if len(scarce) > 1 else 'class'} with fewer than {SCARCE_CLASS} "
                      f"training images: " + ", ".join(f"{name} ({count} image{'' if count == 1 else 's'})"
                                                        for name, count in scarce.items()) + "; training goes on")


def worker_trials(args):
    """In a worker process of a sweep or study (common/study/parallel.py): the program's trials, built quietly on
    the autoencoder `args.model`."""
    keep_quiet()
    program = ClassifierProgram(args, Console(file=io.StringIO()), Prompter())
    program.source.load(args.model)
    return program.trials()
