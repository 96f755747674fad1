"""Random changes to training images (small shifts, rotations, zoom), as Keras layers that act only in training."""

from common.keras_setup import keras, layers

SHIFT = 0.1  # of the image side, each way
ROTATION = 10 / 360  # of a full turn, each way: 10 degrees
ZOOM = 0.1  # in or out


def augmentation() -> keras.Sequential:
    """The augmentation block: active when a model is trained, the identity when it predicts. Uncovered pixels are
    black, like the background of the digits. Seeded by `keras.utils.set_random_seed`."""
    return keras.Sequential([
        layers.RandomTranslation(SHIFT, SHIFT, fill_mode="constant"),
        layers.RandomRotation(ROTATION, fill_mode="constant"),
        layers.RandomZoom(ZOOM, ZOOM, fill_mode="constant"),
    ], name="augment")
