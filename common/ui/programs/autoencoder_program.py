"""The autoencoder program: load images, train mirrored convolutional autoencoders, compare them, save them."""

import io
from pathlib import Path

from rich.console import Console

from common.data import dataset, splits
from common.keras_setup import keep_quiet
from common.study.trials import AutoencoderTrials
from common.tracking import schema
from common.ui.plots.plotting import plot_history, plot_reconstructions
from common.ui.program import Program, image_shape
from common.ui.terminal.progress import RichProgress
from models.config.autoencoder import AutoencoderConfig, check_autoencoder
from models.config.choices import SIDE_MULTIPLE
from models.config.settings import flat, settings
from models.training.autoencoder_trainer import AutoencoderTrainer
from models.training.batches import predict

RECONSTRUCTIONS = 10  # validation images shown in the reconstruction grid


class AutoencoderProgram(Program):
    """The autoencoder's data (the training images, split), and how to train and draw its runs."""

    config_type = AutoencoderConfig
    model_name = "autoencoder"
    log_name = "loss_values.csv"
    columns = schema.AUTOENCODER
    sweep_metrics = ("loss", "val_loss")

    def __init__(self, args, console: Console):
        super().__init__(args, console)
        loaded = dataset.load_images(args.dataset, args.limit)
        images = dataset.fit_sides(loaded, SIDE_MULTIPLE, args.pad, args.dataset)
        self.count = images.shape[0]
        self.image_shape = images.shape[1:]
        part = splits.split(self.count, args.val_split, args.seed)
        pixels = dataset.to_model_input(images)
        self.train_x = pixels[part.train]
        self.val_x = pixels[part.val][:args.val_limit]
        console.print(f"Loaded {self.count} images of {dataset.describe_shape(loaded, images)} from "
                      f"{args.dataset}: {len(self.train_x)} for training, {len(self.val_x)} for validation")

    def check(self, config: AutoencoderConfig) -> None:
        check_autoencoder(config, self.image_shape, len(self.train_x))

    def train(self, config: AutoencoderConfig, run_id: str):
        return self.train_one(config, self.args.seed, lambda stage="": [RichProgress(self.console)], run_id)

    def train_one(self, config: AutoencoderConfig, seed: int, callbacks_for, run_id: str):
        """Train one autoencoder from `seed`'s initial weights and batch order, in the way of computing chosen for
        it (models/training/autoencoder_trainer.py); `callbacks_for(stage)` gives its Keras callbacks. Its
        TrainedRun."""
        callbacks = self.environment.callbacks_for(callbacks_for, run_id, config)()
        return AutoencoderTrainer(self.environment, self.train_x, self.val_x, seed=seed,
                                  callbacks=callbacks).train(config)

    def worker_factory(self) -> tuple:
        return worker_trials, self.args

    def trials(self):
        return AutoencoderTrials(len(self.train_x), self.image_shape[-1], self.train_one, self.check,
                                 self.args.keep_models, backups=Path(self.args.out))

    def results(self, run) -> dict:
        metrics = run.metrics()
        return {"loss": metrics["loss"], "val loss": metrics["val_loss"]}

    def context(self) -> dict:
        """Where the run came from (`origin`) and the images' shape."""
        return {**self.origin(), "image_shape": image_shape(self.train_x)}

    def graphs(self, session) -> list[Path]:
        """Loss against each varied hyperparameter, the last run's curves, originals against reconstructions."""
        labels = {s.name: s.metadata["label"] for s in settings(AutoencoderConfig)}
        paths = self.figures.effects(self.same_data(session.read_runs()), labels, flat(session.baseline),
                                     [[("loss", "loss"), ("val_loss", "val_loss")]])
        last = session.last
        paths.append(plot_history(last.run.history, self.figures.path("last_run_curves"), "Last run"))
        originals = self.val_x[:RECONSTRUCTIONS]
        paths.append(plot_reconstructions(originals, predict(last.run.model, originals),
                                          self.figures.path("reconstructions")))
        return paths


def worker_trials(args):
    """In a worker process of a sweep (common/study/parallel.py): the program's trials, built quietly."""
    keep_quiet()
    return AutoencoderProgram(args, Console(file=io.StringIO())).trials()
