"""The classifier program: a saved autoencoder's encoder, a fully connected head, two-stage training, prediction."""

import hashlib
from dataclasses import asdict, fields, replace
from pathlib import Path

import numpy as np

from common import dataset, prompts
from common.cli import DEFAULT_BUDGETS, DEFAULT_REPEATS, given_hyperparameters, label_budgets, label_list
from common.errors import UserError
from common.label_study import (
    ARM_NAMES,
    ARMS,
    StudyData,
    StudyPlan,
    check_plan,
    default_arms,
    parse_arms,
    reusable,
    run_study,
    summarize,
)
from common.plotting import plot_confusion, plot_history, plot_image_grid, plot_label_study
from common.run_log import Column, hyperparameter_columns, new_run_id
from common.tables import classification_report, label_study_table, self_training_table
from common.workbench import BACK, Workbench, run_columns
from models.config import ClassifierConfig, check_classifier

_HYPER = {c.key: c for c in hyperparameter_columns(ClassifierConfig)}
LOG_COLUMNS = [
    Column("encoder_layers", "Layers"), _HYPER["fc_units"], _HYPER["epochs"], _HYPER["batch_size"],
    *run_columns("train_time", "loss", "val_loss"),
    Column("accuracy", "Accuracy"), Column("val_accuracy", "Val_Accuracy"),
    _HYPER["fine_tune_epochs"], _HYPER["labels"], Column("labels_used", "Labels_Used"),
    Column("init", "Init", numeric=False, missing="pretrained"),  # older logs had only pretrained runs
    Column("augment", "Augment", numeric=False, missing="no"),  # nor augmentation or self-training
    Column("self_training", "Self_Training", missing=0),
    Column("pseudo_threshold", "Pseudo_Threshold", in_table=False, missing=ClassifierConfig.pseudo_threshold),
    Column("pseudo_cap", "Pseudo_Cap", in_table=False, missing=ClassifierConfig.pseudo_cap),
    Column("round_epochs", "Round_Epochs", in_table=False, missing=ClassifierConfig.round_epochs),
    Column("pseudo_labels", "Pseudo_Labels"), Column("pseudo_accuracy", "Pseudo_Accuracy"),
    Column("joint", "Joint", numeric=False, missing="no"),  # older logs: no joint training
    Column("reconstruction_weight", "Reconstruction_Weight", missing=0.0), Column("noise", "Noise", missing=0.0),
    Column("reconstruction_loss", "Reconstruction_Loss"), Column("arm", "Arm", numeric=False),
    Column("rounds", "Rounds", numeric=False, in_table=False),
    Column("optimizer", "Optimizer", numeric=False, missing="adam"),  # what older logs' runs used
    Column("schedule", "Schedule", numeric=False, missing="constant"), Column("patience", "Patience", missing=0),
    Column("test_accuracy", "Test_Accuracy"), Column("test_loss", "Test_Loss"),
    Column("stage1_test_accuracy", "Stage1_Test_Accuracy", in_table=False),
    Column("encoder_filter_size", "Filter_Size"), Column("encoder_filters", "Filters/Layer"),
    Column("autoencoder", "Autoencoder", numeric=False, in_table=False),
    Column("autoencoder_sha256", "Autoencoder_SHA256", numeric=False, in_table=False),
    *run_columns("seed", "timestamp", "dataset", "images", "val_split", "epochs_done"),
    Column("split_seed", "Split_Seed", in_table=False),
    Column("test_dataset", "Test_Dataset", numeric=False, in_table=False),
    Column("test_images", "Test_Images", in_table=False),
    Column("stage1_time", "Stage1_Time", in_table=False), Column("stage2_time", "Stage2_Time", in_table=False),
    Column("wall_time", "Wall_Time", in_table=False), Column("device", "Device", numeric=False, in_table=False),
    Column("compute", "Compute", numeric=False, in_table=False),
    *run_columns("interrupted", "model_path", "run_id"),
]
ENCODER_LABELS = {"encoder_layers": "Encoder layers", "encoder_filter_size": "Encoder filter size",
                  "encoder_filters": "Encoder filters in the first layer"}
GRID = 24  # images in each grid of correct and wrong predictions
SHAPE_FIELDS = ("fc_units", "batch_size", "augment", "optimizer", "joint")  # with the encoder: what a step costs
OTHER_PATH = "Type a path..."


class ClassifierWorkbench(Workbench):
    config_type = ClassifierConfig
    model_name = "classifier"
    log_name = "classification_loss_values.csv"
    log_columns = LOG_COLUMNS

    def __init__(self, args, console=None, **prompt_kwargs):
        super().__init__(args, console, **prompt_kwargs)
        images, labels = dataset.load_labelled(args.dataset, args.dataset_labels, args.limit)
        test_images, self.test_y = dataset.load_labelled(args.test, args.test_labels, args.limit)
        if test_images.shape[1:] != images.shape[1:]:
            raise UserError(f"{args.test}: test images are {_side(test_images)} but the training images in "
                            f"{args.dataset} are {_side(images)}")
        self.dataset, self.count, self.image_shape = Path(args.dataset).resolve(), images.shape[0], images.shape[1:]
        part = dataset.split(self.count, args.val_split, args.seed)
        pixels = dataset.to_model_input(images)
        self.train_x, self.train_y = pixels[part.train], labels[part.train]
        self.val_x, self.val_y = pixels[part.val], labels[part.val]
        self.test_x = dataset.to_model_input(test_images)
        self.console.print(f"Loaded {self.count} labelled images from {args.dataset}: {len(self.train_x)} for "
                           f"training, {len(self.val_x)} for validation; {len(self.test_x)} test images")
        self.autoencoder = None  # the loaded autoencoder; each run trains a fresh copy of its encoder
        self.stage_boundary = 0  # stage 1 epochs of the last run, for its curves
        self.use_autoencoder(args.model or self.pick_autoencoder())
        self.baseline_encoder = dict(self.encoder)  # encoder columns of the first autoencoder: the graphs' baseline

    # --- the autoencoder ------------------------------------------------------------------------------------------
    def use_autoencoder(self, path) -> None:
        """Load an autoencoder and check its encoder fits the images; UserError (and no change) otherwise."""
        from models.encoder import check_input, describe, encoder_view
        from models.persistence import load_model

        model = load_model(path)
        check_input(model, self.image_shape, source=str(path), images=f"the images in {self.args.dataset}")
        shape = describe(encoder_view(model, source=str(path)))
        self.autoencoder, self.autoencoder_path, self.autoencoder_sha256 = model, Path(path), file_sha256(path)
        self.encoder = {"encoder_layers": shape.layers, "encoder_filter_size": shape.filter_size,
                        "encoder_filters": shape.filters}
        self.console.print(f"Encoder of {path}: {shape.layers} convolutional layers, filter size "
                           f"{shape.filter_size}, {shape.filters} filters in the first layer")

    def saved_autoencoders(self) -> list[Path]:
        """Model files under --out that are not classifiers, newest first."""
        from models.persistence import MODEL_SUFFIXES, read_metadata

        found = [p for p in self.out.rglob("*") if p.suffix in MODEL_SUFFIXES and not p.name.startswith(".")
                 and read_metadata(p).get("kind", "autoencoder") == "autoencoder"]
        return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)

    def pick_autoencoder(self) -> Path:
        """Ask which saved autoencoder to use (the program needs one to start); without questions (--no-menu, no
        terminal), take the newest one saved under --out and say so."""
        candidates = self.saved_autoencoders()
        if not candidates:
            raise UserError(f"no autoencoder given and none saved under {self.out}/: pass -model PATH (a model "
                            f"saved by autoencoder.py)")
        if self.args.no_menu or not prompts.interactive():
            self.console.print(f"Using the newest autoencoder under {self.out}/: {candidates[0]} (-model PATH "
                               f"chooses another)")
            return candidates[0]
        choice = prompts.choose("Which autoencoder?", [str(p) for p in candidates], **self.prompt_kwargs)
        if choice is None:
            raise KeyboardInterrupt
        return Path(choice)

    def switch_autoencoder(self) -> None:
        """Menu: load another autoencoder, then train with the baseline hyperparameters on its encoder."""
        choices = [str(p) for p in self.saved_autoencoders() if p.resolve() != self.autoencoder_path.resolve()]
        choice = prompts.choose("Use which autoencoder?", [*choices, OTHER_PATH, BACK], **self.prompt_kwargs)
        if choice == OTHER_PATH:
            choice = prompts.ask_text("Path of the autoencoder (.h5 or .keras):", **self.prompt_kwargs)
        if choice in (None, "", BACK):
            return
        try:
            self.use_autoencoder(Path(choice.strip()).expanduser())
        except UserError as e:
            self.console.print(f"[red]{e}[/]")
            return
        self.train(self.baseline)

    # --- training -------------------------------------------------------------------------------------------------
    def check(self, config):
        check_classifier(config)
        if config.labels and not dataset.NUM_CLASSES <= config.labels <= len(self.train_y):
            raise UserError(f"labelled images must be 0 (all) or from {dataset.NUM_CLASSES} to "
                            f"{len(self.train_y)}, got {config.labels}")
        used = config.labels or len(self.train_y)
        if config.batch_size > used:
            raise UserError(f"batch size {config.batch_size} is larger than the {used} labelled training images")

    def train(self, config):
        from common.progress import RichProgress

        run_id = new_run_id()
        train = dataset.labelled_part(self.train_x, self.train_y, config.labels, self.args.seed)
        run = self.train_one(config, train, self.args.seed, lambda stage: [RichProgress(self.console, stage)], run_id)
        if not run.history:
            self.console.print("Stopped before the first epoch ended: nothing to log.")
            return
        self.model, self.stage_boundary = run.model, run.stage_boundary
        values = run.log_values()
        results = {name: values[name] for name in ("loss", "val_loss", "accuracy", "val_accuracy")}
        extra = {k: v for k, v in values.items() if k not in results}
        if run.rounds:
            self.console.print(self_training_table(run.rounds))
        self.record(config, run.history, run.seconds, run.interrupted, results, {"labels_used": len(train[1]), **extra},
                    run_id)

    def train_one(self, config, train, seed: int, callbacks_for, run_id: str, after_stage_1=None):
        """Train one classifier on `train`, the labelled part for `config.labels` and `seed`: on the current
        autoencoder's encoder, or on random weights of its shape when `config.init` says scratch; self-training on
        the rest of the training split when the config asks. Returns its ClassifierRun."""
        from models.classifier import planned_steps, train_classifier, way_timer
        from models.encoder import copy_autoencoder, decoder_view, encoder_view

        unlabelled = None
        if config.self_training:
            unlabelled = dataset.unlabelled_part(self.train_x, self.train_y, config.labels, seed)
        scaled, source = self.for_devices(config), str(self.autoencoder_path)

        def parts(way):  # the encoder and decoder of one copy of the autoencoder, computing in the way's precision
            copy = copy_autoencoder(self.autoencoder, init=config.init, seed=seed, policy=way.policy)
            return encoder_view(copy, source), decoder_view(copy, source)

        with self.on_devices():
            shape = {"program": "classifier", "images": "x".join(map(str, self.train_x.shape[1:])), **self.encoder,
                     **{k: v for k, v in asdict(scaled).items() if k in SHAPE_FIELDS}}
            steps = planned_steps(scaled, len(train[1]), 0 if unlabelled is None else len(unlabelled[1]),
                                  len(self.train_x))
            way = self.ways().way(shape, steps, way_timer(lambda w: parts(w)[0], scaled, train, seed=seed))
            encoder, decoder = parts(way)
            run = train_classifier(encoder, scaled, train, (self.val_x, self.val_y), seed=seed,
                                   unlabelled=unlabelled, way=way, decoder=decoder, images=self.train_x,
                                   after_stage_1=after_stage_1,
                                   callbacks_for=self.with_tensorboard(callbacks_for, run_id, config))
        run.compute = way.describe(self.placement().device)
        return run

    def context(self) -> dict:
        return {**super().context(), **self.encoder, "autoencoder": str(self.autoencoder_path),
                "autoencoder_sha256": self.autoencoder_sha256, "split_seed": self.args.seed,
                "test_dataset": str(Path(self.args.test).resolve()), "test_images": len(self.test_y)}

    # --- the label-budget study --------------------------------------------------------------------------------
    def run(self) -> int:
        if self.args.study:
            return self.study_from_flags()
        return super().run()

    def study_from_flags(self) -> int:
        """--study labels: the study with the hyperparameters given (defaults for the rest), then exit; 130 when
        Ctrl-C stopped it."""
        config = ClassifierConfig(**given_hyperparameters(self.args, ClassifierConfig))
        check_classifier(config)
        plan = StudyPlan(config, tuple(self.args.budgets), self.args.repeats, self.args.seed, self.args.arms)
        outcome = self.study(plan, self.args.fresh)
        return 130 if outcome.interrupted else 0

    def study_menu(self) -> None:
        """Menu: ask for the budgets and repeats, then run the study with the baseline hyperparameters."""
        text = prompts.ask_text("Numbers of labelled images, separated by commas (all = every label):",
                                DEFAULT_BUDGETS, **self.prompt_kwargs)
        if not text:
            return
        try:
            budgets = label_budgets(label_list(text), dataset.NUM_CLASSES, study=True)
        except (UserError, ValueError, TypeError) as e:
            self.console.print(f"[red]{e}[/]")
            return
        repeats = prompts.ask_int("Repeats of each budget and arm", DEFAULT_REPEATS, 1, 100, **self.prompt_kwargs)
        if repeats is None:
            return
        text = prompts.ask_text(f"Arms, separated by commas ({', '.join(ARMS)}):",
                                ",".join(default_arms(self.baseline)), **self.prompt_kwargs)
        if not text:
            return
        try:
            arms = parse_arms(text)
        except UserError as e:
            self.console.print(f"[red]{e}[/]")
            return
        plan = StudyPlan(replace(self.baseline, labels=0, init="pretrained"), tuple(budgets), repeats,
                         self.args.seed, arms)
        found = len(reusable(self.read_runs(), plan, self.context()))
        fresh = False
        if found:
            reuse = prompts.confirm(f"{found} of {len(plan.runs())} runs are in the run log already. Reuse them?",
                                    default=True, **self.prompt_kwargs)
            if reuse is None:
                return
            fresh = not reuse
        try:
            self.study(plan, fresh)
        except UserError as e:
            self.console.print(f"[red]{e}[/]")

    def study(self, plan: StudyPlan, fresh: bool):
        """Run the study, then show its table and plot (of the runs finished, when Ctrl-C stopped it)."""
        from common.progress import StudyProgress

        check_plan(plan, self.train_y)
        self.console.print(study_description(plan, len(self.test_y)))
        data = StudyData((self.train_x, self.train_y), (self.val_x, self.val_y), (self.test_x, self.test_y))
        outcome = run_study(plan, data, self.train_one, log=self.log, context=self.context(), fresh=fresh,
                            reporter=StudyProgress(self.console))
        if outcome.interrupted:
            self.console.print("Stopped (Ctrl-C): the runs finished so far are logged; run the same study again to "
                               "carry on.")
        if outcome.rows.empty:
            return outcome
        summary = summarize(outcome.rows)
        title = f"Label-budget study ({len(self.test_y):,} test images)"
        caption = (f"Test accuracy, mean ± standard deviation over {_count(plan.repeats, 'repeat')}: "
                   + "; ".join(f"{ARM_NAMES[a]}: {ARM_DESCRIPTIONS[a]}" for a in plan.arms)
                   + ". After stage 1: a head trained on the frozen encoder. Wall time: every run of the arm.")
        self.console.print(label_study_table(summary, title, caption))
        path = plot_label_study(summary, outcome.rows, self.plot_path("label_study"),
                                f"Encoder of {self.autoencoder_path.name}: {', '.join(plan.arms)}")
        self.console.print(f"Logged to {self.log.path}")
        self.present([path])
        return outcome

    # --- menu -----------------------------------------------------------------------------------------------------
    def extra_menu_items(self):
        return [("Use another autoencoder", self.switch_autoencoder), ("Predict the test set", self.predict),
                ("Study: test accuracy against the number of labels", self.study_menu)]

    def after_single_run(self):
        self.predict()

    def predict(self) -> None:
        """Test accuracy and loss, a per-class report, a confusion matrix and grids of right and wrong answers."""
        from models.classifier import predict_classes
        from models.evaluation import evaluate

        if self.model is None:
            self.console.print("Nothing trained yet.")
            return
        result = evaluate(predict_classes(self.model, self.test_x), self.test_y)
        self.console.print(classification_report(result.per_class(), result.accuracy, result.loss,
                                                  result.correct, result.wrong))
        self.console.print(f"Test accuracy: {result.accuracy:.4f} ({result.correct} correct, {result.wrong} wrong "
                           f"of {result.true.size})")
        self.update_log({"test_accuracy": result.accuracy, "test_loss": result.loss})
        self.last["extra"].update(test_accuracy=result.accuracy, test_loss=result.loss)
        right = np.flatnonzero(result.predicted == result.true)[:GRID]
        wrong = np.flatnonzero(result.predicted != result.true)[:GRID]
        paths = [plot_confusion(result.confusion, self.plot_path("confusion_matrix"),
                                f"Test set confusion matrix (accuracy {result.accuracy:.4f})")]
        for name, chosen in (("correct", right), ("wrong", wrong)):
            if chosen.size:
                captions = [f"pred {result.predicted[i]} / true {result.true[i]}" for i in chosen]
                paths.append(plot_image_grid(self.test_x[chosen], captions, self.plot_path(f"{name}_predictions"),
                                             f"{name.capitalize()} predictions ({chosen.size} shown)"))
        self.present(paths)

    def graphs(self):
        labels = {f.name: f.metadata["label"] for f in fields(ClassifierConfig)} | ENCODER_LABELS
        baseline = asdict(self.baseline) | self.baseline_encoder
        panels = [[("loss", "loss"), ("val_loss", "val_loss")], [("accuracy", "accuracy"),
                                                                ("val_accuracy", "val_accuracy")]]
        paths = self.effect_graphs(labels, baseline, panels,
                                   x_of=lambda name: "labels_used" if name == "labels" else name)
        paths.append(plot_history(self.last["history"], self.plot_path("last_run_curves"), "Last run",
                                  stage_boundary=self.stage_boundary))
        return paths


def _budget(labels: int) -> str:
    return f"{labels:,}" if labels else "all"


ARM_DESCRIPTIONS = {
    "pretrained": "the classifier on the autoencoder's encoder",
    "scratch": "on random weights of the encoder's shape",
    "self-training": "pretrained, augmented, self-trained on the rest of the training images",
    "joint": "trained with the decoder reconstructing every training image",
    "joint-w0": "the joint recipe without the reconstruction term",
}


def study_description(plan: StudyPlan, test_images: int) -> str:
    """The line that opens a study: budgets, repeats and seeds, arms, the shared settings."""
    config = plan.config
    seeds = f"seed {plan.seed}" if plan.repeats == 1 else f"seeds {plan.seed}-{plan.seed + plan.repeats - 1}"
    text = (f"Label-budget study: {', '.join(_budget(b) for b in plan.budgets)} labelled images, "
            f"{_count(plan.repeats, 'repeat')} ({seeds}); arms: {', '.join(ARM_NAMES[a] for a in plan.arms)}; "
            f"{config.fc_units} units, {config.epochs} + {config.fine_tune_epochs} epochs, batch {config.batch_size}")
    if "self-training" in plan.arms:
        rounds = plan.config_of(next(p for p in plan.runs() if p.arm == "self-training")).self_training
        text += (f", {rounds} self-training rounds (threshold {config.pseudo_threshold}, at most "
                 f"{config.pseudo_cap} per class)")
    if "joint" in plan.arms or "joint-w0" in plan.arms:
        recipe = plan.joint_recipe()
        text += (f", joint: W {recipe['reconstruction_weight']:g}, noise {recipe['noise']:g}, "
                 f"{recipe['fine_tune_epochs']} epochs over every training image")
    return text + f"; tested on {test_images} test images."


def _count(n: int, thing: str) -> str:
    """'1 repeat', '3 repeats'."""
    return f"{n} {thing}{'' if n == 1 else 's'}"


def _side(images) -> str:
    return f"{images.shape[1]}x{images.shape[2]}"


def file_sha256(path) -> str:
    """The SHA-256 of a file's contents, in hex: runs of a study are reused only on the very same autoencoder."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
