"""The autoencoder's hyperparameters, with the bounds the program enforces, and what they imply (each block's
filters, the memory a run needs). Free of TensorFlow, so that `--help` and argument errors answer at once."""

import os
from dataclasses import dataclass

from common.errors import ConfigError
from models.config.choices import BLOCK_ORDERS, OPTIMIZERS, POOLED_BLOCKS, SCHEDULES, SIDE_MULTIPLE
from models.config.fields import check_ranges, choice, hyperparameter

FLOAT_BYTES = 4  # float32 weights and activations
WEIGHT_COPIES = 3  # a weight, its gradient and the optimizer's state
ACTIVATION_COPIES = 2  # an activation and its gradient


@dataclass(frozen=True)
class AutoencoderConfig:
    layers: int = hyperparameter(4, 2, 8, "Convolutional layers", "Layers")  # encoder blocks; the decoder mirrors them
    filter_size: int = hyperparameter(3, 1, 7, "Filter size", "Filter_Size")  # side of the square kernels
    filters: int = hyperparameter(16, 1, 256, "Filters in the first layer", "Filters/Layer")  # doubled per block
    epochs: int = hyperparameter(3, 1, 1000, "Epochs", "Epochs")  # passes over the training images
    batch_size: int = hyperparameter(64, 1, 4096, "Batch size", "Batch_Size")  # images per gradient step
    optimizer: str = choice("rmsprop", OPTIMIZERS, "Optimizer", "Optimizer")  # RMSprop as in the assignment
    schedule: str = choice("constant", SCHEDULES, "Learning-rate schedule", "Schedule")  # of the rate 1e-3
    patience: int = hyperparameter(0, 0, 1000, "Early-stopping patience in epochs (0: off)", "Patience",
                                   asked=False)  # stop when val_loss stalls; keep the best epoch's weights
    block_order: str = choice("pre-activation", BLOCK_ORDERS, "Order in each block (pre-activation: the ladder's; "
                              "post-activation: Conv2D (ReLU) then BatchNormalization)",
                              "Block_Order")  # where the ReLU sits: pre-activation reconstructed better


def block_filters(config: AutoencoderConfig) -> list[int]:
    """Filters of each encoder block: the first block's count, doubled at each block."""
    return [config.filters * 2 ** i for i in range(config.layers)]


def check_autoencoder(config: AutoencoderConfig, image_shape: tuple[int, ...], train_count: int) -> None:
    """Reject a configuration that cannot be built or trained on these images ((rows, columns) or (rows, columns,
    channels)), saying why."""
    check_ranges(config)
    rows, cols = image_shape[:2]
    if rows % SIDE_MULTIPLE or cols % SIDE_MULTIPLE:
        raise ConfigError(f"images are {rows}x{cols}: both sides must be divisible by {SIDE_MULTIPLE} for the "
                          f"{POOLED_BLOCKS} poolings")
    smallest = min(rows, cols) // SIDE_MULTIPLE
    if config.filter_size > smallest:
        raise ConfigError(f"filter size {config.filter_size} is larger than the {rows // SIDE_MULTIPLE}x"
                          f"{cols // SIDE_MULTIPLE} feature maps after pooling; use at most {smallest}",
                          ("filter_size",))
    if config.batch_size > train_count:
        raise ConfigError(f"batch size {config.batch_size} is larger than the {train_count} training images",
                          ("batch_size",))
    needed = training_memory(config, image_shape)
    available = physical_memory()
    if available and needed > available // 2:
        raise ConfigError(f"this model would need about {needed / 2**30:.1f} GiB to train, more than half of the "
                          f"{available / 2**30:.1f} GiB of memory; use fewer layers, filters or a smaller batch",
                          ("layers", "filters", "batch_size"))


def training_memory(config: AutoencoderConfig, image_shape: tuple[int, ...]) -> int:
    """Rough bytes needed to train: weights with gradients and optimizer state, plus a batch's activations."""
    rows, cols = image_shape[:2]
    channels = image_shape[2] if len(image_shape) > 2 else 1
    weights = values = 0
    for block, f in enumerate(block_filters(config)):
        weights += config.filter_size ** 2 * channels * f + 4 * f  # kernel, bias, normalisation
        values += 2 * rows * cols * f  # convolution and normalisation outputs of one image
        if block < POOLED_BLOCKS:
            rows = rows // 2
            cols = cols // 2
        channels = f
    weights = 2 * weights  # the decoder mirrors the encoder
    values = 2 * values
    return FLOAT_BYTES * (WEIGHT_COPIES * weights + ACTIVATION_COPIES * config.batch_size * values)


def physical_memory() -> int:
    """Bytes of physical memory, or 0 where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0
