"""The ladder network (Rasmus et al. 2015; CuriousAI/ladder), built from a list of levels (ladder_encoder.py).

A training step takes labelled and unlabelled images. Each half runs through the corrupted pass (noise on the
images and every level) of the encoder, normalised by its own statistics; the unlabelled half runs through a clean
pass too, which shares the corrupted pass's weights (the labelled half's clean values would serve no cost). The
supervised cost is the cross-entropy of the corrupted pass on the labelled images. The decoder runs on the
unlabelled images, from the top down: at the top u = BN(ỹ), the corrupted pass's class probabilities; below,
u(l) = BN(V(l)·ẑ(l+1)), V the mirror of the encoder's map (dense, or transposed convolution then up-sampling where
the encoder pooled), without affine terms; a combinator per level (combinator.py) makes ẑ(l) from u(l) and the
corrupted z̃(l). A level's denoising cost is the mean over its units of ((ẑ − μ)/σ − z)², μ and σ² the clean pass's
batch mean and variance of the level's pre-activation and z its clean value (the images themselves, without
normalisation, at level 0); as in the reference, gradients flow through the clean pass too. The cost weighs each
level by its denoising weight; the decoder runs down to the lowest level with a weight (the Γ-model: the top alone).

Prediction is the clean pass with moving statistics, which `estimate_statistics` sets from training images after
training (and before each validation: models/training/ladder_training.py).
"""

import numpy as np

from common.keras_setup import keras, layers, tf
from models.networks.combinator import Combinator
from models.networks.ladder_encoder import EPSILON, FanInNormal, LadderEncoder, Level, normalised

ops = keras.ops


class Ladder(keras.Model):
    """The encoder of `levels` on images of `image_shape`, its decoder and combinators. `weights`: the denoising
    weight of every level from the images up (len(levels) + 1 of them); `noise`: the corrupted pass's standard
    deviation on the images and every level; `lateral=False`: each ẑ from u alone; `per`: the combinators'
    parameters per "unit" or per "channel" (the same for dense levels); `augment`: a layer that changes the
    labelled images in training (models/networks/augmentation.py), or None."""

    def __init__(self, levels: list[Level], image_shape: tuple[int, ...], *, weights, noise: float = 0.3,
                 lateral: bool = True, per: str = "channel", seed: int | None = None, augment=None, **kwargs):
        super().__init__(**{"dtype": "float32", **kwargs})  # its own arithmetic in float32; the linear maps in the
        # global policy (bfloat16 in a mixed one)
        if len(weights) != len(levels) + 1:
            raise ValueError(f"a ladder of {len(levels)} levels above the images takes {len(levels) + 1} weights")
        self.encoder = LadderEncoder(levels, image_shape, name="ladder_encoder", dtype="float32")
        self.weighed = tuple(float(w) for w in weights)
        self.noise = noise
        self.lateral = lateral
        self.lowest = min((i for i, w in enumerate(self.weighed) if w), default=len(levels) + 1)
        shapes = self.encoder.shapes
        self.vertical = {i: _vertical(levels, shapes, i) for i in range(self.lowest, len(levels))}
        self.combinators = {}
        for i in range(self.lowest, len(levels) + 1):
            combinator = Combinator(lateral=lateral, per=per, name=f"combinator_{i}", dtype="float32")
            combinator.build((None, *shapes[i]))
            self.combinators[i] = combinator
        for i, block in self.vertical.items():
            block.build((None, *shapes[i + 1]))
        self.seed = keras.random.SeedGenerator(seed)
        self.augment = augment
        self.denoising_tracker = keras.metrics.Mean(name="denoising")
        self.moments = None  # the encoder's moments as a traced function, made at the first estimate

    def build(self, input_shape=None):
        self.built = True  # every weight is made in __init__

    @property
    def output_shape(self) -> tuple:
        """(None, classes): the class probabilities of a batch, as `predict` (models/training/batches.py) needs."""
        return (None, *self.encoder.shapes[-1])

    def call(self, images, training=False):
        return self.encoder.predict(images)

    def decode(self, corrupted: dict) -> dict:
        """ẑ of every level from the lowest with a weight to the top, from the corrupted pass over the unlabelled
        images."""
        top = len(self.encoder.levels)
        estimates = {}
        above = None
        for i in range(top, self.lowest - 1, -1):
            u = corrupted["top"] if i == top else self.vertical[i](above)
            u, *_ = normalised(u)
            estimates[i] = above = self.combinators[i](corrupted["z"][i], u)
        return estimates

    def denoising_costs(self, estimates: dict, clean: dict) -> dict:
        """The cost of every level with an estimate (see the module's docstring), `clean` the clean pass over the
        unlabelled images."""
        costs = {}
        for i, estimate in estimates.items():
            normalised_estimate = estimate
            if i:  # the images are compared as they are
                normalised_estimate = (estimate - clean["mean"][i]) * ops.rsqrt(clean["variance"][i] + EPSILON)
            costs[i] = ops.mean(ops.square(normalised_estimate - clean["z"][i]))
        return costs

    def losses_of(self, labelled, labels, unlabelled):
        """(the supervised cost, the weighted denoising cost, the corrupted pass's predictions on the labelled).
        Each half is normalised by its own statistics, so the passes run on each half apart: the corrupted pass
        on both, the clean pass on the unlabelled images alone (no cost reads its labelled half), and neither on
        the unlabelled images when no level has a denoising weight or there are none."""
        if self.augment is not None:
            labelled = self.augment(labelled, training=True)
        predicted = self.encoder.run(labelled, self.noise, self.seed)["top"]
        supervised = self.compute_loss(x=labelled, y=labels, y_pred=predicted, training=True)
        if not self.combinators or unlabelled.shape[0] == 0:
            return supervised, ops.zeros(()), predicted
        corrupted = self.encoder.run(unlabelled, self.noise, self.seed)
        costs = self.denoising_costs(self.decode(corrupted), self.encoder.run(unlabelled))
        return supervised, sum(self.weighed[i] * cost for i, cost in costs.items()), predicted

    def train_step(self, data):
        (labelled, labels), unlabelled, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            supervised, denoising, predicted = self.losses_of(labelled, labels, unlabelled)
            total = supervised + denoising
        self.optimizer.apply(tape.gradient(total, self.trainable_variables), self.trainable_variables)
        self._loss_tracker.update_state(supervised, sample_weight=ops.shape(labelled)[0])
        self.denoising_tracker.update_state(denoising)
        return self.compute_metrics(labelled, labels, predicted)

    def test_step(self, data):
        logs = super().test_step(data)
        logs.pop("denoising", None)  # measured in training only
        return logs

    def estimate_statistics(self, images, batch_size: int = 100) -> None:
        """Set the moving statistics of every level to the average batch statistics of `images` in clean
        training passes of `batch_size` (full batches only), summed where they are computed."""
        if self.moments is None:  # traced once per ladder: every batch has the same shape
            self.moments = tf.function(self.encoder.moments, reduce_retracing=True)
        sums = None
        batches = max(1, len(images) // batch_size)
        for b in range(batches):
            found = self.moments(images[b * batch_size:(b + 1) * batch_size])
            sums = found if sums is None else [(s[0] + m, s[1] + v) for s, (m, v) in zip(sums, found)]
        for (mean, variance), (total_mean, total_variance) in zip(self.encoder.moving, sums):
            mean.assign(total_mean / batches)
            variance.assign(total_variance / batches)


def _vertical(levels: list[Level], shapes: list, i: int):
    """V(i): level i + 1's ẑ to level i's shape, the mirror of the encoder's way up (pooling, then level i + 1's
    linear map)."""
    above = levels[i]
    shape = shapes[i]
    pooled = i > 0 and levels[i - 1].pool
    before = (shape[0] // 2, shape[1] // 2, shape[2]) if pooled else shape
    if above.kind == "dense":
        chain = [layers.Dense(int(np.prod(before)), use_bias=False, kernel_initializer=FanInNormal(),
                              name=f"decoder_{i}"),
                 layers.Reshape(before)]
    else:
        chain = [layers.Conv2DTranspose(before[-1], above.kernel, padding="same", use_bias=False,
                                        kernel_initializer="lecun_uniform", name=f"decoder_{i}")]
    if pooled:
        chain.append(layers.UpSampling2D(2))
    return keras.Sequential(chain, name=f"vertical_{i}")
