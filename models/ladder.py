"""The ladder network (Rasmus et al. 2015; CuriousAI/ladder) on the saved autoencoder's encoder and decoder.

Each encoder block is Conv2D (ReLU), BatchNormalization (and pooling): a block's normalised output is one level of
the ladder, the images the level below the first. The corrupted pass adds Gaussian noise to the images and to every
level; the clean pass records each level as the target, its gradient stopped. The decoder runs from the top down:
its blocks (Conv2D, BatchNormalization, up-sampling) give at each level a projection u of the level above, exactly
the shape of the encoder's level; a combinator per level (the "gauss" one, per channel) mixes u with the corrupted
level from the lateral connection into ẑ. Each level's denoising cost is the squared distance of ẑ to the clean
level, in units of the clean level's batch standard deviation per channel (the reference normalises ẑ by the
clean batch statistics), floored at VARIANCE_FLOOR: a channel whose ReLU never fires is constant after its
normalisation, and dividing by its variance (about 1e-9 in the default autoencoder's first layer) made its error
count a million times and wrecked training. At the image level it is the plain mean squared error, so that with
the lateral connections off ("top-down") and only the image's weight, the cost is the plain reconstruction of
models/joint.py.
"""

from common.errors import UserError
from common.keras_setup import keras, layers

ops = keras.ops
VARIANCE_FLOOR = 0.1  # of a level's channel in its denoising cost; live channels of a normalised level have about 1
GAUSS_START = (0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)  # a1..a10: ẑ = u at the start, the decoder's path


class Combinator(layers.Layer):
    """The "gauss" combinator, per channel: μ = a1·σ(a2·u + a3) + a4·u + a5, v = a6·σ(a7·u + a8) + a9·u + a10,
    ẑ = (z̃ − μ)·v + μ. It starts as ẑ = u (the pretrained decoder's own path) and learns to use z̃."""

    def build(self, noisy_shape, u_shape=None):
        channels = noisy_shape[-1]
        self.a = [self.add_weight(shape=(channels,), initializer=keras.initializers.Constant(start), name=f"a{i}")
                  for i, start in enumerate(GAUSS_START, start=1)]

    def call(self, noisy, u):
        a1, a2, a3, a4, a5, a6, a7, a8, a9, a10 = (ops.cast(a, u.dtype) for a in self.a)
        mean = a1 * ops.sigmoid(a2 * u + a3) + a4 * u + a5
        scale = a6 * ops.sigmoid(a7 * u + a8) + a9 * u + a10
        return (noisy - mean) * scale + mean


class Ladder:
    """The levels of `encoder` and the top-down blocks of `decoder` (views of one autoencoder, models/encoder.py),
    with a combinator per level when `lateral`. UserError when the autoencoder is not the mirrored kind whose
    decoder blocks match its encoder's levels."""

    def __init__(self, encoder, decoder, *, lateral: bool = True, source: str = "the autoencoder"):
        self.encoder_layers = [layer for layer in encoder.layers if not isinstance(layer, layers.InputLayer)]
        self.blocks = _blocks([layer for layer in decoder.layers if not isinstance(layer, layers.InputLayer)])
        levels = [layer for layer in self.encoder_layers if isinstance(layer, layers.BatchNormalization)]
        shapes = [tuple(encoder.input_shape[1:]), *(tuple(level.output.shape[1:]) for level in levels)]
        made = [tuple(block[-1].output.shape[1:]) for block in self.blocks]
        if not levels or made != shapes[::-1]:
            raise UserError(f"{source}: the ladder needs a mirrored autoencoder whose decoder blocks give its "
                            f"encoder's levels ({shapes[::-1]}), found {made}")
        self.levels, self.lateral = len(levels), lateral
        self.combinators = [Combinator(name=f"ladder_combinator_{level}") for level in range(self.levels + 1)] \
            if lateral else []
        for combinator, shape in zip(self.combinators, shapes):  # built now: the optimizer is built before a step
            combinator.build((None, *shape))

    def encode(self, images, noise: float = 0.0, layer_noise: float = 0.0, seed=None, training: bool = True):
        """The encoder's output and its levels, from the images up: noise of `noise` on the images and of
        `layer_noise` on every normalised output (the corrupted pass), or none (the clean pass)."""
        x = _noisy(images, noise, seed)
        found = [x]
        for layer in self.encoder_layers:
            x = layer(x, training=training)
            if isinstance(layer, layers.BatchNormalization):
                x = _noisy(x, layer_noise, seed)
                found.append(x)
        return x, found

    def decode(self, top, corrupted: list) -> list:
        """ẑ of every level, from the images up: the decoder run from the top down on the corrupted pass, from its
        output `top` (the last level, or that level pooled) and its levels `corrupted` (`encode`'s)."""
        estimates = [None] * (self.levels + 1)
        above = top
        for block, level in zip(self.blocks, range(self.levels, -1, -1)):
            u = _apply(block, above)
            estimates[level] = self.combinators[level](corrupted[level], u) if self.lateral else u
            above = estimates[level]
        return estimates

    def costs(self, estimates: list, clean: list) -> list:
        """The denoising cost of every level, from the images up (see the module's docstring)."""
        costs = [ops.mean(ops.square(ops.cast(estimates[0], "float32") - ops.cast(clean[0], "float32")))]
        for estimate, level in zip(estimates[1:], clean[1:]):
            target = ops.stop_gradient(ops.cast(level, "float32"))
            variance = ops.maximum(ops.var(target, axis=(0, 1, 2), keepdims=True), VARIANCE_FLOOR)
            costs.append(ops.mean(ops.square(ops.cast(estimate, "float32") - target) / variance))
        return costs

    def trainable_variables(self) -> list:
        return [weight for combinator in self.combinators for weight in combinator.trainable_variables]


def _blocks(chain: list) -> list[list]:
    """The decoder's layers in blocks, one per ladder level from the top down: each ends with its normalisation
    and the up-sampling after it; the output layer is the last block (the image level)."""
    blocks, current = [], []
    for layer in chain:
        if isinstance(layer, layers.UpSampling2D) and blocks and not current:
            blocks[-1].append(layer)
            continue
        current.append(layer)
        if isinstance(layer, layers.BatchNormalization):
            blocks.append(current)
            current = []
    return [*blocks, current] if current else blocks


def _apply(block: list, x):
    for layer in block:
        x = layer(x, training=True)
    return x


def _noisy(x, std: float, seed):
    if not std:
        return x
    return x + ops.cast(std * keras.random.normal(ops.shape(x), seed=seed), x.dtype)
