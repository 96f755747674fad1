"""Joint training: the classifier and a decoder share the encoder, and every step adds W times the reconstruction
loss on a batch of training images (labelled and unlabelled alike) to the classification loss on a batch of
labelled images; with noise, the encoder sees the images with Gaussian noise added (a denoising autoencoder).

This is how the literature makes an autoencoder help when labels are scarce (Rasmus et al. 2015, the ladder
network's "Γ-model": the same network trained on the labels alone has 6.43% test error with 100 MNIST labels, with
a denoising cost 0.89%), rather than by pre-training alone. An epoch of joint training is one pass over the
reconstruction images; the labelled images are cycled, reshuffled at every pass, one batch per step.
"""

from common.keras_setup import keras, tf
from models.batches import PREFETCH, batches, untuned

ops = keras.ops


class JointClassifier(keras.Model):
    """Trains `classifier` (image -> class probabilities, on `encoder`) together with `decoder` (the encoder's
    output -> image). Predicting and evaluating are the classifier's own, with no noise; only `fit` differs: its
    data are ((labelled images, labels), images to reconstruct) and its loss is the classification loss plus
    `weight` times the reconstruction's mean squared error, the weight ramped up from 0 over `ramp_steps` steps.
    `noise` is the standard deviation of the Gaussian noise added to the encoder's input on the reconstruction
    path and, with `noisy_labels`, on the classification path too."""

    def __init__(self, classifier, encoder, decoder, *, weight: float, noise: float, noisy_labels: bool = True,
                 ramp_steps: int = 0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.classifier, self.encoder, self.decoder = classifier, encoder, decoder
        self.weight, self.noise, self.noisy_labels, self.ramp_steps = weight, noise, noisy_labels, ramp_steps
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")

    def call(self, images, training=False):
        return self.classifier(images, training=training)

    def noisy(self, images):
        """`images` with Gaussian noise of standard deviation `noise` added (the images themselves without)."""
        if not self.noise:
            return images
        return images + ops.cast(self.noise * keras.random.normal(ops.shape(images), seed=self.noise_seed),
                                 images.dtype)

    def reconstruction_loss(self, images, training: bool = True):
        """Mean squared error of reconstructing `images` from their noisy version through encoder and decoder."""
        rebuilt = self.decoder(self.encoder(self.noisy(images), training=training), training=training)
        return ops.mean(ops.square(ops.cast(rebuilt, "float32") - ops.cast(images, "float32")))

    def current_weight(self):
        """The reconstruction weight at this step: ramped up along a sigmoid-shaped curve (Laine and Aila 2017)
        over `ramp_steps` steps, then constant."""
        if not self.ramp_steps:
            return ops.convert_to_tensor(self.weight, "float32")
        progress = ops.minimum(ops.cast(self.optimizer.iterations, "float32") / self.ramp_steps, 1.0)
        return self.weight * ops.exp(-5.0 * ops.square(1.0 - progress))

    def train_step(self, data):
        (x, y), images = data
        with tf.GradientTape() as tape:
            seen = self.noisy(x) if self.noisy_labels else x
            predicted = self.classifier(seen, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=predicted, training=True)
            reconstruction = self.reconstruction_loss(images) if self.weight else ops.zeros((), "float32")
            total = loss + self.current_weight() * reconstruction
            scaled = self.optimizer.scale_loss(total)
        variables = self.trainable_variables
        self.optimizer.apply(tape.gradient(scaled, variables), variables)
        self._loss_tracker.update_state(loss, sample_weight=ops.shape(x)[0])  # the classification loss, as logged
        self.reconstruction_tracker.update_state(reconstruction)
        return self.compute_metrics(x, y, predicted)

    def test_step(self, data):
        logs = super().test_step(data)  # the classifier's loss and accuracy, without noise
        logs.pop("reconstruction", None)  # measured in training only
        return logs


def joint_batches(train, images, batch_size: int, seed: int):
    """((labelled images, labels), images to reconstruct) batches for one epoch: one pass over `images` in a
    seeded order reshuffled every epoch, each batch paired with the next batch of `train` (images, labels),
    cycled and reshuffled at every pass. Short last batches are dropped, so every step has the same shape."""
    labelled_batch = min(batch_size, len(train[0]))
    labelled = batches(*train, labelled_batch, seed=seed, drop_remainder=True).repeat()
    reconstruct = batches(images, None, batch_size, seed=seed + 1, drop_remainder=True).map(lambda x, _: x)
    return tf.data.Dataset.zip((labelled, reconstruct)).prefetch(PREFETCH).with_options(untuned())


def joint_steps(images: int, batch_size: int) -> int:
    """Steps of one epoch of joint training over `images` images."""
    return images // batch_size
