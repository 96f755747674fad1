"""The autoencoder program: load images, train mirrored convolutional autoencoders, compare, save."""

from dataclasses import asdict, fields
from pathlib import Path

from common import dataset
from common.plotting import plot_history, plot_reconstructions
from common.run_log import Column, hyperparameter_columns, new_run_id
from common.workbench import Workbench, run_columns
from models.config import AutoencoderConfig, check_autoencoder

_HYPER = {c.key: c for c in hyperparameter_columns(AutoencoderConfig)}
LOG_COLUMNS = [  # the original assignment's columns first
    *(_HYPER[k] for k in ("layers", "filter_size", "filters", "epochs", "batch_size")),
    *run_columns("train_time", "loss", "val_loss"),
    Column("optimizer", "Optimizer", numeric=False, missing="rmsprop"),  # what older logs' runs used
    Column("schedule", "Schedule", numeric=False, missing="constant"), Column("patience", "Patience", missing=0),
    Column("best_epoch", "Best_Epoch"), Column("device", "Device", numeric=False),
    Column("compute", "Compute", numeric=False),
    *run_columns("timestamp", "dataset", "images", "seed", "model_path", "val_split", "epochs_done", "interrupted",
                 "run_id")]
RECONSTRUCTIONS = 10  # validation images shown in the reconstruction grid
SHAPE_FIELDS = ("layers", "filter_size", "filters", "batch_size", "optimizer")  # what a step's cost depends on


class AutoencoderWorkbench(Workbench):
    config_type = AutoencoderConfig
    model_name = "autoencoder"
    log_name = "loss_values.csv"
    log_columns = LOG_COLUMNS

    def __init__(self, args, console=None, **prompt_kwargs):
        super().__init__(args, console, **prompt_kwargs)
        self.dataset = Path(args.dataset).resolve()
        images = dataset.load_images(args.dataset, args.limit)
        self.count = images.shape[0]
        self.image_shape = images.shape[1:]
        part = dataset.split(self.count, args.val_split, args.seed)
        pixels = dataset.to_model_input(images)
        self.train_x, self.val_x = pixels[part.train], pixels[part.val]
        self.console.print(f"Loaded {self.count} images of {self.image_shape[0]}x{self.image_shape[1]} from "
                           f"{args.dataset}: {len(self.train_x)} for training, {len(self.val_x)} for validation")

    def check(self, config):
        check_autoencoder(config, self.image_shape, len(self.train_x))

    def train(self, config):
        from common.progress import RichProgress
        from models.autoencoder import train_autoencoder, way_timer
        from models.optimizers import steps

        run_id = new_run_id()
        callbacks = self.with_tensorboard(lambda stage="": [RichProgress(self.console)], run_id, config)()
        scaled = self.for_devices(config)
        with self.on_devices():
            way = self.ways().way(
                {"program": "autoencoder", "images": "x".join(map(str, self.train_x.shape[1:])),
                 **{k: v for k, v in asdict(scaled).items() if k in SHAPE_FIELDS}},
                steps(len(self.train_x), scaled.batch_size, scaled.epochs),
                way_timer(scaled, self.train_x, seed=self.args.seed))
            model, result = train_autoencoder(scaled, self.train_x, self.val_x, seed=self.args.seed,
                                              callbacks=callbacks, way=way)
        if result.epochs_done == 0:
            self.console.print("Stopped before the first epoch ended: nothing to log.")
            return
        self.model = model
        final = result.final_epoch  # the best epoch with early stopping: its weights are the model's
        results = {"loss": result.history["loss"][final], "val_loss": result.history["val_loss"][final]}
        extra = {"compute": way.describe(self.placement().device)}
        if result.best_epoch is not None:
            extra["best_epoch"] = final + 1
        self.record(config, result.history, result.seconds, result.interrupted, results, extra, run_id)

    def graphs(self):
        from models.batches import predict

        labels = {f.name: f.metadata["label"] for f in fields(AutoencoderConfig)}
        paths = self.effect_graphs(labels, asdict(self.baseline), [[("loss", "loss"), ("val_loss", "val_loss")]])
        paths.append(plot_history(self.last["history"], self.plot_path("last_run_curves"), "Last run"))
        originals = self.val_x[:RECONSTRUCTIONS]
        reconstructed = predict(self.model, originals)
        paths.append(plot_reconstructions(originals, reconstructed, self.plot_path("reconstructions")))
        return paths

