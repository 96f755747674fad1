"""Training the autoencoder: compiled with the config's optimizer, fit with every finished epoch kept, and timed
for choosing how to compute."""

from common.keras_setup import keras
from models.compute.way_trials import LOSS_STEPS, Candidates
from models.compute.ways import FLOAT32, Way, computing
from models.config.autoencoder import AutoencoderConfig
from models.networks.autoencoder import build_autoencoder
from models.training.batch_norm import Calibration
from models.training.batches import batches
from models.training.costs import steps
from models.training.fit import fit
from models.training.optimizers import make_optimizer
from models.training.run import TrainedRun

LEARNING_RATE = 1e-3  # RMSprop's and Adam's default; SGD gets ten times more (models/training/optimizers.py)


def new_autoencoder(config: AutoencoderConfig, image_shape=(28, 28, 1), steps: int = 1, xla: bool = False
                    ) -> keras.Model:
    """Build and compile an autoencoder: MSE loss, the config's optimizer and schedule (over `steps` steps), the
    training step compiled with XLA when `xla`. Layers compute in Keras' global dtype policy (`computing`)."""
    model = build_autoencoder(config, image_shape)
    model.compile(optimizer=make_optimizer(config.optimizer, LEARNING_RATE, config.schedule, steps),
                  loss=keras.losses.MeanSquaredError(), jit_compile=xla)
    return model


def train_autoencoder(config: AutoencoderConfig, train_x, val_x, *, seed: int, callbacks=(), way: Way = FLOAT32,
                      model: keras.Model | None = None) -> TrainedRun:
    """Build, compile and fit an autoencoder seeded with `seed`, computing in `way`; return the run. `model`: one
    built and compiled so already (the timing's, `way_timer`), which trains exactly as a new one would."""
    keras.utils.set_random_seed(seed)
    if model is None:
        with computing(way):
            model = new_autoencoder(config, image_shape=train_x.shape[1:],
                                    steps=steps(len(train_x), config.batch_size, config.epochs), xla=way.xla)
    result = fit(model, train_x, None, validation_data=(val_x, None), epochs=config.epochs,
                 batch_size=config.batch_size, callbacks=callbacks, seed=seed,
                 calibration=Calibration(model, train_x, config.batch_size), patience=config.patience,
                 plateau=config.schedule == "plateau")
    run = TrainedRun(model=model)
    run.add(result)
    return run


def way_timer(config: AutoencoderConfig, train_x, *, seed: int) -> Candidates:
    """The candidates for choosing how to compute (models/training/compute.py): fresh autoencoders, seeded and
    compiled as the run's will be, trained step by step on the first batches of `train_x`. The chosen one can be
    the run's model (`Candidates.model_for`), its training step already traced."""
    size = config.batch_size
    count = max(1, min(LOSS_STEPS, len(train_x) // size))
    total = steps(len(train_x), size, config.epochs)

    def build(way: Way):
        with computing(way):
            return new_autoencoder(config, image_shape=train_x.shape[1:], steps=total, xla=way.xla)

    return Candidates(build, lambda: batches(train_x[:count * size], None, size, seed=seed), size, seed)
