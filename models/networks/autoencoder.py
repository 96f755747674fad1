"""The mirrored convolutional autoencoder, built with the functional API from an AutoencoderConfig."""

from common.keras_setup import keras, layers
from models.config.autoencoder import AutoencoderConfig, block_filters
from models.config.choices import POOLED_BLOCKS

CODE_LAYER = "code"  # the encoder's last layer: cut here to keep the encoder


def build_autoencoder(config: AutoencoderConfig, image_shape=(28, 28, 1)) -> keras.Model:
    """The autoencoder's layers, computing in Keras' global dtype policy (the output in float32); not compiled
    (models/training/autoencoder_training.py trains it)."""
    inputs = keras.Input(shape=image_shape, name="image")
    code = _encoder_blocks(inputs, config)
    outputs = _decoder_blocks(code, config, channels=image_shape[-1])
    return keras.Model(inputs, outputs, name="autoencoder")


def _block(x, filters: int, config: AutoencoderConfig, part: str, i: int):
    """One block: Conv2D (ReLU) then BatchNormalization; or, pre-activation (the ladder network's order), Conv2D
    without bias, BatchNormalization with its shift and no scale (the ReLU after it makes a scale redundant), then
    the ReLU."""
    if config.block_order == "post-activation":
        x = layers.Conv2D(filters, config.filter_size, padding="same", activation="relu", name=f"{part}_conv_{i}")(x)
        return layers.BatchNormalization(name=f"{part}_bn_{i}")(x)
    x = layers.Conv2D(filters, config.filter_size, padding="same", use_bias=False, name=f"{part}_conv_{i}")(x)
    x = layers.BatchNormalization(scale=False, name=f"{part}_bn_{i}")(x)
    return layers.ReLU(name=f"{part}_relu_{i}")(x)


def _encoder_blocks(x, config: AutoencoderConfig):
    """A block per layer (`_block`), filters doubling, pooling after the first two blocks."""
    for i, filters in enumerate(block_filters(config), start=1):
        x = _block(x, filters, config, "encoder", i)
        if i <= POOLED_BLOCKS:
            x = layers.MaxPooling2D(2, name=f"encoder_pool_{i}")(x)
    return layers.Identity(name=CODE_LAYER)(x)


def _decoder_blocks(x, config: AutoencoderConfig, channels: int):
    """The encoder mirrored: filters halving, up-sampling after the last two blocks, sigmoid output."""
    filters = block_filters(config)[::-1]
    for i, f in enumerate(filters, start=1):
        x = _block(x, f, config, "decoder", i)
        if i > len(filters) - POOLED_BLOCKS:
            x = layers.UpSampling2D(2, name=f"decoder_upsample_{i}")(x)
    return layers.Conv2D(channels, config.filter_size, padding="same", activation="sigmoid", dtype="float32",
                         name="reconstruction")(x)  # float32 even under mixed precision: the loss needs it
