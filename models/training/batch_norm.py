"""Batch-normalisation statistics that match the weights, after any run length.

Keras keeps a moving average of each BatchNormalization layer's batch statistics (momentum 0.99); after a short run
that average still remembers the initial weights, and everything computed in inference mode (validation,
prediction, encoder features) uses stale statistics. Here they are re-estimated instead: training images run
through the network in training mode, as they did while it learned, and each layer's moving mean and variance
become the average of its batch means and variances ("precise BN", Wu and Johnson 2021). Measured figures and the
choice against a lower momentum are in benchmarks/README.md.
"""

import numpy as np

from common import phases
from common.keras_setup import keras, layers, tf

CALIBRATION_IMAGES = 4096  # training images the statistics are estimated on (a seeded sample when there are more)
CALIBRATION_SEED = 0  # the sample and its batches do not depend on the run's seed: the same weights, the same result
PHASE = "batch-norm statistics"  # the time spent here, as common/phases.py counts it


def batch_norm_layers(model) -> list:
    """The BatchNormalization layers of `model` itself (not of models nested in it), in graph order."""
    return [layer for layer in model.layers if isinstance(layer, layers.BatchNormalization)]


def calibrate(model, images, batch_size: int, *, limit: int = CALIBRATION_IMAGES, moments=None) -> None:
    """Set the moving mean and variance of every BatchNormalization layer of `model` to the average batch
    statistics of `images` (at most `limit` of them) passed through `model` in training mode, in batches of
    `batch_size` as in training. Weights are not changed. `moments`: the model's function from
    `moments_function`, when the caller keeps one (it is traced once)."""
    norms = batch_norm_layers(model)
    if not norms or len(images) == 0:
        return
    with phases.phase(PHASE):
        _calibrate(norms, images, batch_size, limit, moments or moments_function(model))


def _calibrate(norms, images, batch_size: int, limit: int, moments) -> None:
    rng = np.random.default_rng(CALIBRATION_SEED)
    chosen = rng.permutation(len(images))[:limit]
    batch_size = max(1, min(batch_size, len(chosen)))
    frozen = [n for n in norms if not n.trainable]  # a frozen layer ignores training=True: unfreeze it meanwhile
    for n in frozen:
        n.trainable = True
    try:
        sums = [np.zeros((2, n.moving_mean.shape[0])) for n in norms]
        batches = len(chosen) // batch_size  # full batches only: a short last batch would weigh as much as the rest
        for b in range(batches):
            indices = np.sort(chosen[b * batch_size:(b + 1) * batch_size])
            for total, (mean, variance) in zip(sums, moments(images[indices])):
                total[0] += mean.numpy()
                total[1] += variance.numpy()
        for n, total in zip(norms, sums):
            n.moving_mean.assign((total[0] / batches).astype(np.float32))
            n.moving_variance.assign((total[1] / batches).astype(np.float32))
    finally:
        for n in frozen:
            n.trainable = False


def moments_function(model):
    """A compiled function: a batch of images -> (mean, variance) over the batch of the input of each of `model`'s
    BatchNormalization layers."""
    norms = batch_norm_layers(model)
    probe = keras.Model(model.inputs, [n.input for n in norms])

    @tf.function(reduce_retracing=True)
    def moments(x):
        outputs = probe(x, training=True)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return [tf.nn.moments(tf.cast(o, tf.float32),  # in float32 even under mixed precision
                              axes=[a for a in range(len(o.shape)) if a != n.axis % len(o.shape)])
                for n, o in zip(norms, outputs)]

    return moments


class Calibration(keras.callbacks.Callback):
    """Re-estimate a network's statistics before each validation of `fit`, so every val_loss is honest, and on
    request after training (`ensure`). `target` owns the BatchNormalization layers: the model being fit, or a
    model nested in it (a classifier's encoder) that takes the same images."""

    def __init__(self, target, images, batch_size: int):
        super().__init__()
        self.target = target
        self.images = images
        self.batch_size = batch_size
        self.stale = True  # weights may have changed since the statistics were last estimated
        self.moments = None  # the target's moments function, traced at the first estimate

    def on_train_batch_end(self, batch, logs=None):
        self.stale = True

    def on_test_begin(self, logs=None):
        self.ensure()

    def ensure(self) -> None:
        """Re-estimate the statistics unless they were estimated since the weights last changed."""
        if self.stale:
            self.moments = self.moments or moments_function(self.target)
            calibrate(self.target, self.images, self.batch_size, moments=self.moments)
            self.stale = False


def batch_statistics_loss(model, images, batch_size: int) -> float:
    """An autoencoder's mean squared error on `images` with each batch normalised by its own statistics, as in
    training: the loss that statistics matching the weights should give in inference mode. The moving statistics
    are left as they were."""
    norms = batch_norm_layers(model)
    saved = [(n.moving_mean.numpy().copy(), n.moving_variance.numpy().copy()) for n in norms]
    losses = [float(np.mean((keras.ops.convert_to_numpy(model(images[i:i + batch_size], training=True))
                             - images[i:i + batch_size]) ** 2))
              for i in range(0, len(images) - batch_size + 1, batch_size)]
    for n, (mean, variance) in zip(norms, saved):
        n.moving_mean.assign(mean)
        n.moving_variance.assign(variance)
    return float(np.mean(losses))
