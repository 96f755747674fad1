"""The autoencoder program: load images, train mirrored convolutional autoencoders, compare them, save them."""

from dataclasses import asdict, fields
from pathlib import Path

from rich.console import Console

from common.data import dataset
from common.tracking import schema
from common.tracking.run_log import RunLog
from common.ui.figures import Figures
from common.ui.plotting import plot_history, plot_reconstructions
from common.ui.tables import WayReport
from models.config import SIDE_MULTIPLE, AutoencoderConfig, check_autoencoder
from models.training.environment import TrainingEnvironment

LOG_NAME = "loss_values.csv"
RECONSTRUCTIONS = 10  # validation images shown in the reconstruction grid
SHAPE_FIELDS = ("layers", "filter_size", "filters", "batch_size", "optimizer")  # what a step's cost depends on


def training_environment(args, console: Console) -> TrainingEnvironment:
    """The devices, way of computing and TensorBoard folder the flags ask for, checked (both programs)."""
    environment = TrainingEnvironment(args.xla, args.precision, Path(args.out) / "tensorboard"
                                      if args.tensorboard else None, WayReport(console))
    environment.check()
    return environment


class AutoencoderProgram:
    """What the session needs of the autoencoder program: its data, how to train and draw a run."""

    config_type = AutoencoderConfig
    model_name = "autoencoder"
    sweep_metrics = ("loss", "val_loss")  # what a sweep's table and graphs show of each run

    def __init__(self, args, console: Console):
        self.args, self.console = args, console
        self.log = RunLog(Path(args.out) / LOG_NAME, schema.AUTOENCODER)
        self.figures = Figures(args.out, self.model_name, console, show=not args.no_show)
        self.environment = training_environment(args, console)
        self.dataset = Path(args.dataset).resolve()
        loaded = dataset.load_images(args.dataset, args.limit)
        images = dataset.fit_sides(loaded, SIDE_MULTIPLE, args.pad, args.dataset)
        self.count, self.image_shape = images.shape[0], images.shape[1:]
        part = dataset.split(self.count, args.val_split, args.seed)
        pixels = dataset.to_model_input(images)
        self.train_x, self.val_x = pixels[part.train], pixels[part.val]
        console.print(f"Loaded {self.count} images of {dataset.describe_shape(loaded, images)} from "
                      f"{args.dataset}: {len(self.train_x)} for training, {len(self.val_x)} for validation")

    def start(self, can_ask: bool) -> bool:
        return True

    def check(self, config: AutoencoderConfig) -> None:
        check_autoencoder(config, self.image_shape, len(self.train_x))

    def changed(self, config: AutoencoderConfig, name: str) -> AutoencoderConfig:
        return config

    def train(self, config: AutoencoderConfig, run_id: str):
        """Train one autoencoder with the program's seed, its epochs drawn in the terminal; its TrainedRun."""
        from common.ui.progress import RichProgress

        return self.train_one(config, self.args.seed, lambda stage="": [RichProgress(self.console)], run_id)

    def train_one(self, config: AutoencoderConfig, seed: int, callbacks_for, run_id: str):
        """Choose how to compute, then train one autoencoder from `seed`'s initial weights and batch order;
        `callbacks_for(stage)` gives its Keras callbacks. Its TrainedRun."""
        from models.training.autoencoder_training import train_autoencoder, way_timer
        from models.training.optimizers import steps

        env = self.environment
        callbacks = env.callbacks_for(callbacks_for, run_id, config)()
        scaled = env.scaled(config)
        with env.scope():
            shape = {"program": "autoencoder", "images": image_shape(self.train_x),
                     **{k: v for k, v in asdict(scaled).items() if k in SHAPE_FIELDS}}
            timed = way_timer(scaled, self.train_x, seed=seed)
            way = env.way(shape, steps(len(self.train_x), scaled.batch_size, scaled.epochs), timed)
            run = train_autoencoder(scaled, self.train_x, self.val_x, seed=seed, callbacks=callbacks, way=way,
                                    model=timed.model_for(way))
        run.compute = env.describe(way)
        return run

    def worker_factory(self):
        """What a worker process builds its trials with: a module-level function and its arguments."""
        return worker_trials, self.args

    def trials(self):
        """How a sweep trains this program's runs (common/study/trials.py)."""
        from common.study.trials import AutoencoderTrials

        return AutoencoderTrials(len(self.train_x), self.train_one, self.check, self.args.keep_models)

    def results(self, run) -> dict:
        """What the summary shows of a run."""
        metrics = run.metrics()
        return {"loss": metrics["loss"], "val loss": metrics["val_loss"]}

    def context(self) -> dict:
        """Where a run came from, for its log row: the data, the seed and the devices."""
        return {"dataset": str(self.dataset), "images": self.count, "image_shape": image_shape(self.train_x),
                "seed": self.args.seed, "val_split": self.args.val_split, "split_seed": self.args.seed,
                "device": self.environment.placement().description}

    def menu_items(self, session) -> list:
        return []

    def after_single_run(self, session) -> None:
        pass

    def graphs(self, session) -> list[Path]:
        """Loss against each varied hyperparameter, the last run's curves, originals against reconstructions."""
        from models.training.batches import predict

        labels = {f.name: f.metadata["label"] for f in fields(AutoencoderConfig)}
        paths = self.figures.effects(same_data(session.read_runs(), self), labels, asdict(session.baseline),
                                     [[("loss", "loss"), ("val_loss", "val_loss")]])
        last = session.last
        paths.append(plot_history(last.run.history, self.figures.path("last_run_curves"), "Last run"))
        originals = self.val_x[:RECONSTRUCTIONS]
        paths.append(plot_reconstructions(originals, predict(last.run.model, originals),
                                          self.figures.path("reconstructions")))
        return paths


def worker_trials(args):
    """In a worker process of a sweep (common/study/parallel.py): the program's trials, built quietly."""
    import io

    return AutoencoderProgram(args, Console(file=io.StringIO())).trials()


def image_shape(pixels) -> str:
    """The shape of the images a model takes, as logs and sidecars record it: '28x28x1'."""
    return "x".join(map(str, pixels.shape[1:]))


def same_data(runs, program):
    """The finished runs of a log trained on the program's data."""
    return runs[(runs["dataset"] == str(program.dataset)) & (runs["images"] == program.count)
                & (runs["interrupted"].fillna("") != "yes")]


def main(args) -> int:
    """Run the autoencoder program with parsed arguments; its exit status."""
    from common.ui.session import Session

    console = Console(highlight=False)
    program = AutoencoderProgram(args, console)
    if args.axes:
        from common.ui.prompts import Prompter
        from common.ui.sweep_screens import SweepScreens

        return SweepScreens(program, console, Prompter()).from_flags(args)
    return Session(program, args, console).run()
