"""Joint training: the classifier and a decoder share the encoder, and every step adds W times the reconstruction
loss on a batch of training images (labelled and unlabelled alike) to the classification loss on a batch of
labelled images; with noise, the encoder sees the images with Gaussian noise added (a denoising autoencoder).

This is how the literature makes an autoencoder help when labels are scarce (Rasmus et al. 2015, the ladder
network's "Γ-model": the same network trained on the labels alone has 6.43% test error with 100 MNIST labels, with
a denoising cost 0.89%), rather than by pre-training alone. An epoch of joint training is one pass over the
reconstruction images; the labelled images are cycled, reshuffled at every pass, one batch per step.
"""

from common.keras_setup import keras, tf

ops = keras.ops


class JointClassifier(keras.Model):
    """Trains `classifier` (image -> class probabilities, on `encoder`) together with `decoder` (the encoder's
    output -> image). Predicting and evaluating are the classifier's own, with no noise; only `fit` differs: its
    data are ((labelled images, labels), images to reconstruct) and its loss is the classification loss plus
    `weight` times the reconstruction's mean squared error, plus `consistency` times the squared distance between
    the classifier's predictions on two noisy (and, with augmentation, differently changed) views of the images to
    reconstruct, that weight ramped up from 0 over `ramp_steps` steps (the Π-model, Laine and Aila 2017). `noise`
    is the standard deviation of the Gaussian noise added to the encoder's input on the reconstruction path and,
    with `noisy_labels`, on the classification path too."""

    def __init__(self, classifier, encoder, decoder, *, weight: float, noise: float, consistency: float = 0.0,
                 noisy_labels: bool = True, ramp_steps: int = 0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.classifier, self.encoder, self.decoder = classifier, encoder, decoder
        self.weight, self.noise, self.consistency = weight, noise, consistency
        self.noisy_labels, self.ramp_steps = noisy_labels, ramp_steps
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.consistency_tracker = keras.metrics.Mean(name="consistency")

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

    def consistency_loss(self, images):
        """Squared distance between the class probabilities of two noisy views of `images`, the second a fixed
        target (no gradient through it)."""
        first = self.classifier(self.noisy(images), training=True)
        second = ops.stop_gradient(self.classifier(self.noisy(images), training=True))
        return ops.mean(ops.sum(ops.square(ops.cast(first, "float32") - ops.cast(second, "float32")), axis=-1))

    def ramp(self):
        """The share of the consistency weight at this step: a sigmoid-shaped ramp from 0 to 1 over `ramp_steps`
        steps (Laine and Aila 2017), then 1."""
        if not self.ramp_steps:
            return ops.convert_to_tensor(1.0, "float32")
        progress = ops.minimum(ops.cast(self.optimizer.iterations, "float32") / self.ramp_steps, 1.0)
        return ops.exp(-5.0 * ops.square(1.0 - progress))

    def optimized_variables(self) -> list:
        """What the optimizer updates: the decoder too only when its reconstruction counts (W > 0)."""
        return self.trainable_variables if self.weight else self.classifier.trainable_variables

    def train_step(self, data):
        (x, y), images = data
        with tf.GradientTape() as tape:
            seen = self.noisy(x) if self.noisy_labels else x
            predicted = self.classifier(seen, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=predicted, training=True)
            zero = ops.zeros((), "float32")
            reconstruction = self.reconstruction_loss(images) if self.weight else zero
            consistent = self.consistency_loss(images) if self.consistency else zero
            total = loss + self.weight * reconstruction + self.consistency * self.ramp() * consistent
            scaled = self.optimizer.scale_loss(total)
        variables = self.optimized_variables()
        self.optimizer.apply(tape.gradient(scaled, variables), variables)
        self._loss_tracker.update_state(loss, sample_weight=ops.shape(x)[0])  # the classification loss, as logged
        self.reconstruction_tracker.update_state(reconstruction)
        self.consistency_tracker.update_state(consistent)
        return self.compute_metrics(x, y, predicted)

    def test_step(self, data):
        logs = super().test_step(data)  # the classifier's loss and accuracy, without noise
        for name in ("reconstruction", "consistency"):  # measured in training only
            logs.pop(name, None)
        return logs
