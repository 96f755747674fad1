"""A classifier on an encoder: a fully connected head with a softmax output, augmentation in front when asked
for (models/training/classifier_stages.py trains it in two stages)."""

from common.keras_setup import keras, layers
from models.config.classifier import ClassifierConfig
from models.networks.augmentation import augmentation

DROPOUT = 0.2  # dropout rate before the softmax layer (0.5 learned too slowly in short runs: benchmarks/README.md)


def build_classifier(encoder, config: ClassifierConfig, classes: int):
    """Return (classifier, head): the head maps encoder features to the probabilities of `classes` classes and
    shares its layers."""
    features = keras.Input(shape=encoder.output_shape[1:], name="features")
    x = layers.Flatten(name="head_flatten")(features)
    x = layers.Dense(config.fc_units, activation="relu", name="head_dense")(x)
    x = layers.Dropout(DROPOUT, name="head_dropout")(x)
    outputs = layers.Dense(classes, activation="softmax", dtype="float32", name="prediction")(x)
    head = keras.Model(features, outputs, name="head")
    images = keras.Input(shape=encoder.input_shape[1:], name="image")
    seen = augmentation()(images) if config.augment else images  # changed in training only
    classifier = keras.Model(images, head(encoder(seen)), name="classifier")
    return classifier, head
