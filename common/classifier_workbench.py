"""The classifier program: a saved autoencoder's encoder, a fully connected head, two-stage training, prediction."""

from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from common import dataset, prompts
from common.errors import UserError
from common.plotting import plot_confusion, plot_history, plot_image_grid
from common.run_log import Column, hyperparameter_columns
from common.tables import classification_report
from common.workbench import BACK, Workbench, run_columns
from models.config import ClassifierConfig, check_ranges

_HYPER = {c.key: c for c in hyperparameter_columns(ClassifierConfig)}
LOG_COLUMNS = [
    Column("encoder_layers", "Layers"), _HYPER["fc_units"], _HYPER["epochs"], _HYPER["batch_size"],
    *run_columns("train_time", "loss", "val_loss"),
    Column("accuracy", "Accuracy"), Column("val_accuracy", "Val_Accuracy"),
    _HYPER["fine_tune_epochs"], _HYPER["labels"], Column("labels_used", "Labels_Used"),
    Column("test_accuracy", "Test_Accuracy"), Column("test_loss", "Test_Loss"),
    Column("encoder_filter_size", "Filter_Size"), Column("encoder_filters", "Filters/Layer"),
    Column("autoencoder", "Autoencoder", numeric=False, in_table=False),
    *run_columns("seed", "timestamp", "dataset", "images", "val_split", "epochs_done"),
    Column("stage1_time", "Stage1_Time", in_table=False), Column("stage2_time", "Stage2_Time", in_table=False),
    *run_columns("interrupted", "model_path", "run_id"),
]
ENCODER_LABELS = {"encoder_layers": "Encoder layers", "encoder_filter_size": "Encoder filter size",
                  "encoder_filters": "Encoder filters in the first layer"}
GRID = 24  # images in each grid of correct and wrong predictions
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
        self.autoencoder, self.autoencoder_path = model, Path(path)
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
        """Ask which saved autoencoder to use (the program needs one to start)."""
        if self.args.no_menu or not prompts.interactive():
            raise UserError("no autoencoder given: pass -model PATH (a model saved by autoencoder.py)")
        candidates = self.saved_autoencoders()
        if not candidates:
            raise UserError(f"no autoencoder saved under {self.out}/: train one with autoencoder.py, "
                            f"or pass -model PATH")
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
        check_ranges(config)
        if config.labels and not dataset.NUM_CLASSES <= config.labels <= len(self.train_y):
            raise UserError(f"labelled images must be 0 (all) or from {dataset.NUM_CLASSES} to "
                            f"{len(self.train_y)}, got {config.labels}")
        used = config.labels or len(self.train_y)
        if config.batch_size > used:
            raise UserError(f"batch size {config.batch_size} is larger than the {used} labelled training images")

    def train(self, config):
        from common.progress import RichProgress
        from models.classifier import train_classifier
        from models.encoder import extract_encoder

        train = (self.train_x, self.train_y)
        if config.labels:  # a balanced, seeded subset; all labels need no copy
            chosen = dataset.balanced_subset(self.train_y, config.labels, self.args.seed)
            train = (self.train_x[chosen], self.train_y[chosen])
        encoder = extract_encoder(self.autoencoder, source=str(self.autoencoder_path))
        run = train_classifier(encoder, config, train, (self.val_x, self.val_y), seed=self.args.seed,
                               callbacks_for=lambda stage: [RichProgress(self.console, stage)])
        if not run.history:
            self.console.print("Stopped before the first epoch ended: nothing to log.")
            return
        self.model, self.stage_boundary = run.model, run.stage_boundary
        results = {name: run.history[name][-1] for name in ("loss", "val_loss", "accuracy", "val_accuracy")}
        times = dict(zip(("stage1_time", "stage2_time"), (round(s, 2) for s in run.stage_seconds)))
        self.record(config, run.history, run.seconds, run.interrupted, results,
                    {**self.encoder, "autoencoder": str(self.autoencoder_path), "labels_used": len(train[1]), **times})

    # --- menu -----------------------------------------------------------------------------------------------------
    def extra_menu_items(self):
        return [("Use another autoencoder", self.switch_autoencoder), ("Predict the test set", self.predict)]

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


def _side(images) -> str:
    return f"{images.shape[1]}x{images.shape[2]}"
