"""The optimizers and learning-rate schedules the programs offer, by name."""

from common.keras_setup import keras

RATE_SCALE = {"adam": 1.0, "rmsprop": 1.0, "sgd": 10.0}  # SGD, with Nesterov momentum 0.9, needs larger steps
PLATEAU_FACTOR = 0.5  # "plateau": the rate is halved ...
PLATEAU_EPOCHS = 2  # ... after this many epochs without a better val_loss
MIN_RATE = 1e-6


def make_optimizer(name: str, rate: float, schedule: str, steps: int):
    """The optimizer `name` at `rate` (Adam's scale; SGD's is ten times larger). With the cosine schedule the rate
    decays to zero over `steps` steps; "plateau" is a callback of `fit`, the rate here stays constant."""
    rate = rate * RATE_SCALE[name]
    if schedule == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(rate, decay_steps=max(steps, 1))
    if name == "adam":
        return keras.optimizers.Adam(rate)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(rate)
    return keras.optimizers.SGD(rate, momentum=0.9, nesterov=True)
