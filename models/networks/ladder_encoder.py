"""The ladder's encoder (Rasmus et al. 2015, Algorithm 1; CuriousAI/ladder `f`), built from a list of levels.

A level above the images is a linear map (dense, or a convolution with same padding, no bias), batch
normalisation without scale or shift (each half of a batch, labelled and unlabelled, by its own statistics, as
the reference), Gaussian noise in the corrupted pass, then the shift β (and the scale γ at the softmax: the
paper's softmax(γ ⊙ (z + β))), then the activation (ReLU, or softmax at the top), then 2×2 max-pooling where the
level asks for it. The normalised, noisy pre-activation z is the level's value: the lateral signal and the
denoising target. The images are level 0, flattened when the first level is dense.
"""

from dataclasses import dataclass

import numpy as np

from common.keras_setup import keras, layers

ops = keras.ops
EPSILON = 1e-10  # of every normalisation, as the reference
KINDS = ("dense", "conv")


@dataclass(frozen=True)
class Level:
    """One level above the images."""
    kind: str  # "dense" or "conv"
    size: int  # units, or filters of the convolution
    kernel: int = 3  # side of a convolution's square kernel
    pool: bool = False  # 2×2 max-pooling after the activation (a convolution's level)


def normalised(x, epsilon: float = EPSILON):
    """`x` normalised by its own batch mean and variance per unit (per channel for maps), and those statistics."""
    axes = tuple(range(len(x.shape) - 1))
    mean = ops.mean(x, axis=axes, keepdims=True)
    variance = ops.var(x, axis=axes, keepdims=True)
    return (x - mean) / ops.sqrt(variance + epsilon), mean, variance


class LadderEncoder(layers.Layer):
    """The levels' weights, and the passes through them: `run` in training (batch statistics, each half by its
    own; noise when asked), `predict` in inference (the moving statistics)."""

    def __init__(self, levels: list[Level], image_shape: tuple[int, ...], **kwargs):
        super().__init__(**kwargs)
        self.levels = list(levels)
        self.image_shape = tuple(image_shape)
        self.flat_images = self.levels[0].kind == "dense"
        self.linears = [_linear(level, i) for i, level in enumerate(self.levels, start=1)]
        self.shapes = self._shapes()
        top = len(self.levels)
        self.beta = [self.add_weight(shape=(self.shapes[i][-1],), initializer="zeros", name=f"beta_{i}")
                     for i in range(1, top + 1)]
        self.gamma = self.add_weight(shape=(self.shapes[top][-1],), initializer="ones", name=f"gamma_{top}")
        self.moving = [(self.add_weight(shape=(self.shapes[i][-1],), initializer="zeros", trainable=False,
                                        name=f"moving_mean_{i}"),
                        self.add_weight(shape=(self.shapes[i][-1],), initializer="ones", trainable=False,
                                        name=f"moving_variance_{i}")) for i in range(1, top + 1)]

    def _shapes(self) -> list[tuple[int, ...]]:
        """Each level's shape, the images' first; builds the linear maps on the way."""
        shape = (int(np.prod(self.image_shape)),) if self.flat_images else self.image_shape
        shapes = [shape]
        for level, linear in zip(self.levels, self.linears):
            incoming = (int(np.prod(shape)),) if level.kind == "dense" else shape
            linear.build((None, *incoming))
            shape = tuple(linear.compute_output_shape((None, *incoming))[1:])
            shapes.append(shape)
            if level.pool:
                shape = (shape[0] // 2, shape[1] // 2, shape[2])
        return shapes

    def images(self, x):
        """The images as level 0."""
        return ops.reshape(x, (-1, *self.shapes[0]))

    def activated(self, z, i: int):
        """h of level `i` (from 1) from its z: shift, the top's scale and softmax or ReLU, pooling."""
        z = z + self.beta[i - 1]
        if i == len(self.levels):
            return ops.softmax(z * self.gamma, axis=-1)
        h = ops.relu(z)
        return ops.max_pool(h, 2, 2) if self.levels[i - 1].pool else h

    def linear(self, h, i: int):
        """The linear map of level `i` (from 1) on the output of the level below."""
        if self.levels[i - 1].kind == "dense":
            h = ops.reshape(h, (ops.shape(h)[0], -1))
        return self.linears[i - 1](h)

    def run(self, x, split, noise: float = 0.0, seed=None) -> dict:
        """A training pass over `x`, whose first `split` images are one half (labelled) and the rest the other:
        each level's z, and the batch mean and variance of its pre-activation in the second half; `noise`: the
        standard deviation of the Gaussian noise on the images and every level (the corrupted pass)."""
        h = _noisy(self.images(x), noise, seed)
        found = {"z": [h], "mean": [None], "variance": [None]}
        for i in range(1, len(self.levels) + 1):
            pre = self.linear(h, i)
            first, *_ = normalised(pre[:split])
            second, mean, variance = normalised(pre[split:])
            z = _noisy(ops.concatenate([first, second], axis=0), noise, seed)
            for key, value in (("z", z), ("mean", mean), ("variance", variance)):
                found[key].append(value)
            h = self.activated(z, i)
        found["top"] = h
        return found

    def predict(self, x):
        """The class probabilities of the clean pass with the moving statistics (inference)."""
        h = self.images(x)
        for i, (mean, variance) in enumerate(self.moving, start=1):
            h = self.activated((self.linear(h, i) - mean) / ops.sqrt(variance + EPSILON), i)
        return h

    def moments(self, x) -> list:
        """(mean, variance) of every level's pre-activation over the batch `x`, in a clean training pass."""
        h = self.images(x)
        found = []
        for i in range(1, len(self.levels) + 1):
            z, mean, variance = normalised(self.linear(h, i))
            axes = tuple(range(len(mean.shape) - 1))
            found.append((ops.squeeze(mean, axes), ops.squeeze(variance, axes)))
            h = self.activated(z, i)
        return found


def _linear(level: Level, i: int):
    if level.kind not in KINDS:
        raise ValueError(f"a ladder level is one of {', '.join(KINDS)}, not {level.kind!r}")
    if level.kind == "dense":
        return layers.Dense(level.size, use_bias=False, kernel_initializer=FanInNormal(), name=f"encoder_{i}")
    return layers.Conv2D(level.size, level.kernel, padding="same", use_bias=False,
                         kernel_initializer="lecun_uniform", name=f"encoder_{i}")


class FanInNormal(keras.initializers.Initializer):
    """Normal with standard deviation 1/√fan-in, untruncated: the reference's dense initialisation."""

    def __call__(self, shape, dtype=None):
        return keras.random.normal(shape, stddev=1.0 / np.sqrt(np.prod(shape[:-1])), dtype=dtype)


def _noisy(x, std: float, seed):
    if not std:
        return x
    return x + std * keras.random.normal(ops.shape(x), seed=seed, dtype=x.dtype)
