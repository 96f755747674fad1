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
    reconstruct, that weight ramped up from 0 over `ramp_steps` steps (the Π-model, Laine and Aila 2017). With
    `teacher_decay` above 0 the second view's predictions come from a teacher: a copy of the classifier whose weights
    follow the classifier's as an exponential moving average with that decay after every step (Mean Teacher,
    Tarvainen and Valpola 2017). `entropy` times the mean entropy of the first view's predictions, ramped up as the
    consistency, pushes the classifier to decide on every image (entropy minimisation, Grandvalet and Bengio 2005).
    `noise` is the standard deviation of the Gaussian noise added to the encoder's input on the reconstruction path
    and, with `noisy_labels`, on the classification path too."""

    def __init__(self, classifier, encoder, decoder, *, weight: float, noise: float, consistency: float = 0.0,
                 teacher_decay: float = 0.0, entropy: float = 0.0, noisy_labels: bool = True, ramp_steps: int = 0,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.classifier = classifier
        self.encoder = encoder
        self.decoder = decoder
        self.weight = weight
        self.noise = noise
        self.consistency = consistency
        self.teacher_decay = teacher_decay
        self.entropy = entropy
        self.noisy_labels = noisy_labels
        self.ramp_steps = ramp_steps
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.teacher = teacher_of(classifier) if teacher_decay and consistency else None
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.consistency_tracker = keras.metrics.Mean(name="consistency")
        self.entropy_tracker = keras.metrics.Mean(name="entropy")

    def build(self, input_shape=None):
        self.built = True  # its parts are built already

    def call(self, images, training=False):
        return self.classifier(images, training=training)

    def noisy(self, images):
        """`images` with Gaussian noise of standard deviation `noise` added (the images themselves without)."""
        if not self.noise:
            return images
        return images + ops.cast(self.noise * keras.random.normal(ops.shape(images), seed=self.noise_seed),
                                 images.dtype)

    def forward(self, images, noisy: bool):
        """The classifier's predictions in training mode; with `noisy`, on the images with noise added."""
        return self.classifier(self.noisy(images) if noisy else images, training=True)

    def reconstruction_loss(self, images, training: bool = True):
        """Mean squared error of reconstructing `images` from their noisy version through encoder and decoder."""
        rebuilt = self.decoder(self.encoder(self.noisy(images), training=training), training=training)
        return ops.mean(ops.square(ops.cast(rebuilt, "float32") - ops.cast(images, "float32")))

    def unlabelled_losses(self, images):
        """(consistency, entropy) on `images`: the squared distance between the class probabilities of two noisy
        views, the second a fixed target (no gradient through it) from the teacher if there is one, and the mean
        entropy of the first view's probabilities; 0 for a term whose weight is 0."""
        zero = ops.zeros((), "float32")
        if not (self.consistency or self.entropy):
            return zero, zero
        first = ops.cast(self.forward(images, noisy=True), "float32")
        entropy = ops.mean(-ops.sum(first * ops.log(first + 1e-7), axis=-1)) if self.entropy else zero
        if not self.consistency:
            return zero, entropy
        target = self.teacher if self.teacher is not None else self.classifier
        second = ops.stop_gradient(ops.cast(target(self.noisy(images), training=True), "float32"))
        return ops.mean(ops.sum(ops.square(first - second), axis=-1)), entropy

    def follow(self) -> None:
        """Move the teacher's weights (batch-normalisation statistics included) towards the classifier's."""
        for mine, theirs in zip(self.teacher.weights, self.classifier.weights):
            mine.assign(self.teacher_decay * mine + (1.0 - self.teacher_decay) * ops.cast(theirs, mine.dtype))

    def ramp(self):
        """The share of the consistency weight at this step: a sigmoid-shaped ramp from 0 to 1 over `ramp_steps`
        steps (Laine and Aila 2017), then 1."""
        if not self.ramp_steps:
            return ops.convert_to_tensor(1.0, "float32")
        progress = ops.minimum(ops.cast(self.optimizer.iterations, "float32") / self.ramp_steps, 1.0)
        return ops.exp(-5.0 * ops.square(1.0 - progress))

    def optimized_variables(self) -> list:
        """What the optimizer updates: the decoder too only when its reconstruction counts (W > 0)."""
        decoder = self.decoder.trainable_variables if self.weight else []
        return self.classifier.trainable_variables + decoder

    def train_step(self, data):
        (x, y), images = data
        with tf.GradientTape() as tape:
            predicted = self.forward(x, noisy=self.noisy_labels)
            loss = self.compute_loss(x=x, y=y, y_pred=predicted, training=True)
            zero = ops.zeros((), "float32")
            reconstruction = self.reconstruction_loss(images) if self.weight else zero
            consistent, entropy = self.unlabelled_losses(images)
            unlabelled = self.consistency * consistent + self.entropy * entropy
            total = loss + self.weight * reconstruction + self.ramp() * unlabelled
            scaled = self.optimizer.scale_loss(total)
        variables = self.optimized_variables()
        self.optimizer.apply(tape.gradient(scaled, variables), variables)
        if self.teacher is not None:
            self.follow()
        self._loss_tracker.update_state(loss, sample_weight=ops.shape(x)[0])  # the classification loss, as logged
        self.reconstruction_tracker.update_state(reconstruction)
        self.consistency_tracker.update_state(consistent)
        self.entropy_tracker.update_state(entropy)
        return self.compute_metrics(x, y, predicted)

    def test_step(self, data):
        logs = super().test_step(data)  # the classifier's loss and accuracy, without noise
        for name in ("reconstruction", "consistency", "entropy"):  # measured in training only
            logs.pop(name, None)
        return logs


def teacher_of(classifier):
    """A copy of `classifier` with its weights, not trained by the optimizer (its weights follow the classifier's)."""
    teacher = keras.models.clone_model(classifier)
    teacher.set_weights(classifier.get_weights())
    return teacher
