"""The ladder's clean pass as a plain Keras classifier: what prediction, evaluation and saving use once a ladder
has trained (its decoder only ever serves training, as in the reference).

Each level becomes its linear map (copied), a BatchNormalization in inference mode holding the level's moving
statistics and its shift β (no scale: (z − μ)/σ + β), the ReLU and the pooling; the top level's normalisation holds
γ as its scale and γβ as its shift, so that it computes γ ⊙ (z + β) before the softmax, as the ladder does.
"""

from common.keras_setup import keras, layers
from models.networks.ladder_encoder import EPSILON


def export_classifier(ladder, name: str = "classifier") -> keras.Model:
    """A functional Keras model of `ladder`'s clean pass with its moving statistics: images -> class probabilities;
    its weights copied, so that it predicts as the ladder does and saves to .h5 or .keras."""
    encoder = ladder.encoder
    images = keras.Input(shape=encoder.image_shape, name="image")
    x = layers.Reshape(encoder.shapes[0], name="images")(images)
    top = len(encoder.levels)
    for i, level in enumerate(encoder.levels, start=1):
        if level.kind == "dense" and len(x.shape) > 2:
            x = layers.Flatten(name=f"flatten_{i}")(x)
        linear = encoder.linears[i - 1]
        copy = layers.Dense(level.size, use_bias=False, name=f"level_{i}") if level.kind == "dense" else \
            layers.Conv2D(level.size, level.kernel, padding="same", use_bias=False, name=f"level_{i}")
        x = copy(x)
        copy.kernel.assign(linear.kernel)
        norm = layers.BatchNormalization(epsilon=EPSILON, scale=i == top, name=f"level_{i}_norm")
        x = norm(x)
        _assign_statistics(norm, encoder, i, top)
        if i == top:
            x = layers.Softmax(dtype="float32", name="prediction")(x)
        else:
            x = layers.ReLU(name=f"level_{i}_relu")(x)
            if level.pool:
                x = layers.MaxPooling2D(2, name=f"level_{i}_pool")(x)
    return keras.Model(images, x, name=name)


def _assign_statistics(norm, encoder, i: int, top: int) -> None:
    """Level `i`'s moving statistics and shift (and at the top its scale) into the normalisation `norm`."""
    mean, variance = encoder.moving[i - 1]
    norm.moving_mean.assign(mean)
    norm.moving_variance.assign(variance)
    beta = encoder.beta[i - 1]
    if i == top:
        norm.gamma.assign(encoder.gamma)
        norm.beta.assign(encoder.gamma * beta)
    else:
        norm.beta.assign(beta)
