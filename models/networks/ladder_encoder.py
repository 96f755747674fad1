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

from common.keras_setup import keras, layers, tf

ops = keras.ops
EPSILON = 1e-10  # of every normalisation, as the reference
TINY = float(np.finfo(np.float32).tiny)  # the least uniform sample of the noise: its logarithm is finite
KINDS = ("dense", "conv")


@dataclass(frozen=True)
class Level:
    """One level above the images."""
    kind: str  # "dense" or "conv"
    size: int  # units, or filters of the convolution
    kernel: int = 3  # side of a convolution's square kernel
    pool: bool = False  # 2×2 max-pooling after the activation (a convolution's level)


def normalised(x, epsilon: float = EPSILON):
    """`x` normalised by its own batch mean and variance per unit (per channel for maps), and those statistics, all
    in float32 whatever `x` computes in. The gradient is the batch normalisation's own closed form, a third of
    the operations that differentiating the moments step by step makes."""
    axes = list(range(len(x.shape) - 1))

    @tf.custom_gradient
    def forward(x):
        mean, variance = tf.nn.moments(x, axes, keepdims=True)
        inverse = tf.math.rsqrt(variance + epsilon)
        y = (x - mean) * inverse

        def backward(dy, dmean, dvariance):
            count = tf.cast(tf.size(y) // tf.size(mean), tf.float32)
            grad = inverse * (dy - tf.reduce_mean(dy, axes, keepdims=True)
                              - y * tf.reduce_mean(dy * y, axes, keepdims=True))
            if dvariance is not None:  # ∂σ²/∂x = 2(x − μ)/n = 2y/(n·inverse)
                grad += y * (2.0 * dvariance / (inverse * count))
            if dmean is not None:  # ∂μ/∂x = 1/n
                grad += dmean / count
            return grad

        return (y, mean, variance), backward

    return forward(ops.cast(x, "float32"))


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
        """The images as level 0, in float32."""
        return ops.reshape(ops.cast(x, "float32"), (-1, *self.shapes[0]))

    def activated(self, z, i: int):
        """h of level `i` (from 1) from its z: shift, the top's scale and softmax or ReLU, pooling."""
        z = z + self.beta[i - 1]
        if i == len(self.levels):
            return ops.softmax(z * self.gamma, axis=-1)
        h = ops.relu(z)
        return ops.max_pool(h, 2, 2) if self.levels[i - 1].pool else h

    def linear(self, h, i: int):
        """The linear map of level `i` (from 1) on the output of the level below, computed in the map's own dtype
        policy (bfloat16 in a mixed one), returned in float32."""
        if self.levels[i - 1].kind == "dense":
            h = ops.reshape(h, (ops.shape(h)[0], -1))
        return ops.cast(self.linears[i - 1](h), "float32")

    def run(self, x, noise: float = 0.0, seed=None) -> dict:
        """A training pass over the batch `x` (one half of a step: the labelled or the unlabelled images), each level
        normalised by the batch's own statistics: each level's z, and the batch mean and variance of its
        pre-activation; `noise`: the standard deviation of the Gaussian noise on the images and every level (the
        corrupted pass)."""
        h = _noisy(self.images(x), noise, seed)
        found = {"z": [h], "mean": [None], "variance": [None]}
        for i in range(1, len(self.levels) + 1):
            z, mean, variance = normalised(self.linear(h, i))
            z = _noisy(z, noise, seed)
            for key, value in (("z", z), ("mean", mean), ("variance", variance)):
                found[key].append(value)
            h = self.activated(z, i)
        found["top"] = h
        return found

    def predict(self, x):
        """The class probabilities of the clean pass with the moving statistics (inference)."""
        h = self.images(x)
        for i, (mean, variance) in enumerate(self.moving, start=1):
            h = self.activated((self.linear(h, i) - mean) * ops.rsqrt(variance + EPSILON), i)
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
    return x + std * gaussian(x, seed)


def gaussian(x, seed):
    """Standard normal float32 samples of `x`'s shape: the Box–Muller transform of seeded uniform ones, an exact
    normal in fewer instructions than TensorFlow's own on a CPU (benchmarks/ladder_speed.py)."""
    shape = ops.shape(x)
    last = x.shape[-1]
    half = (last + 1) // 2
    radius, angle = ops.unstack(keras.random.uniform((2, *shape[:-1], half), minval=TINY, maxval=1.0, seed=seed))
    radius = ops.sqrt(-2.0 * ops.log(radius))
    angle = (2 * np.pi) * angle
    both = ops.concatenate([radius * ops.cos(angle), radius * ops.sin(angle)], axis=-1)
    return both if 2 * half == last else both[..., :last]
