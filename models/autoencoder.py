"""The mirrored convolutional autoencoder, built with the functional API from an AutoencoderConfig."""

from common.keras_setup import keras, layers
from models.batch_norm import Calibration
from models.compute import FLOAT32, TIMED_STEPS, WARM_STEPS, Way, computing, time_steps
from models.config import AutoencoderConfig, block_filters
from models.optimizers import make_optimizer, steps
from models.training import fit

CODE_LAYER = "code"  # the encoder's last layer: cut here to keep the encoder
POOLED_BLOCKS = 2  # max-pooling after the first two encoder blocks, up-sampling after the last two decoder blocks
LEARNING_RATE = 1e-3  # RMSprop's and Adam's default; SGD gets ten times more (models/optimizers.py)


def build_autoencoder(config: AutoencoderConfig, image_shape=(28, 28, 1), steps: int = 1, xla: bool = False
                      ) -> keras.Model:
    """Build and compile the autoencoder: MSE loss, the config's optimizer and schedule (over `steps` steps), the
    training step compiled with XLA when `xla`. Layers compute in Keras' global dtype policy (`computing`)."""
    inputs = keras.Input(shape=image_shape, name="image")
    code = _encoder_blocks(inputs, config)
    outputs = _decoder_blocks(code, config, channels=image_shape[-1])
    model = keras.Model(inputs, outputs, name="autoencoder")
    model.compile(optimizer=make_optimizer(config.optimizer, LEARNING_RATE, config.schedule, steps),
                  loss=keras.losses.MeanSquaredError(), jit_compile=xla)
    return model


def _encoder_blocks(x, config: AutoencoderConfig):
    """Conv2D + BatchNormalization per block, filters doubling, pooling after the first two blocks."""
    for i, filters in enumerate(block_filters(config), start=1):
        x = layers.Conv2D(filters, config.filter_size, padding="same", activation="relu",
                          name=f"encoder_conv_{i}")(x)
        x = layers.BatchNormalization(name=f"encoder_bn_{i}")(x)
        if i <= POOLED_BLOCKS:
            x = layers.MaxPooling2D(2, name=f"encoder_pool_{i}")(x)
    return layers.Identity(name=CODE_LAYER)(x)


def _decoder_blocks(x, config: AutoencoderConfig, channels: int):
    """The encoder mirrored: filters halving, up-sampling after the last two blocks, sigmoid output."""
    filters = block_filters(config)[::-1]
    for i, f in enumerate(filters, start=1):
        x = layers.Conv2D(f, config.filter_size, padding="same", activation="relu", name=f"decoder_conv_{i}")(x)
        x = layers.BatchNormalization(name=f"decoder_bn_{i}")(x)
        if i > len(filters) - POOLED_BLOCKS:
            x = layers.UpSampling2D(2, name=f"decoder_upsample_{i}")(x)
    return layers.Conv2D(channels, config.filter_size, padding="same", activation="sigmoid", dtype="float32",
                         name="reconstruction")(x)  # float32 even under mixed precision: the loss needs it


def train_autoencoder(config: AutoencoderConfig, train_x, val_x, *, seed: int, callbacks=(), way: Way = FLOAT32):
    """Build, compile and fit an autoencoder seeded with `seed`, computing in `way`; return the model and its
    FitResult."""
    keras.utils.set_random_seed(seed)
    with computing(way):
        model = build_autoencoder(config, image_shape=train_x.shape[1:],
                                  steps=steps(len(train_x), config.batch_size, config.epochs), xla=way.xla)
    result = fit(model, train_x, None, validation_data=(val_x, None), epochs=config.epochs,
                 batch_size=config.batch_size, callbacks=callbacks, seed=seed,
                 calibration=Calibration(model, train_x, config.batch_size), patience=config.patience,
                 plateau=config.schedule == "plateau")
    return model, result


def way_timer(config: AutoencoderConfig, train_x, *, seed: int):
    """A `time_way(way) -> Trial` for choosing how to compute (models/compute.py): a few training steps of a fresh
    autoencoder, seeded as the run will be, on the first batches of `train_x`."""
    size = config.batch_size
    count = min(WARM_STEPS + TIMED_STEPS, len(train_x) // size)
    batches = [(train_x[i * size:(i + 1) * size], train_x[i * size:(i + 1) * size]) for i in range(count)]
    total = steps(len(train_x), size, config.epochs)

    def time_way(way: Way):
        keras.utils.set_random_seed(seed)
        with computing(way):
            model = build_autoencoder(config, image_shape=train_x.shape[1:], steps=total, xla=way.xla)
        return time_steps(model, batches, way)

    return time_way
