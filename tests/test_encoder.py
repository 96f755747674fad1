"""Cutting the encoder out of saved autoencoders: ours by name, others by their mirror point."""

import numpy as np
import pytest

from common.errors import UserError
from common.keras_setup import keras, layers
from models.config.autoencoder import AutoencoderConfig
from models.networks.autoencoder import build_autoencoder
from models.networks.encoder import EncoderShape, check_input, describe, encoder_view
from models.training.persistence import load_model
from tests.helpers import extract_encoder


def assignment_style_autoencoder():
    """The original assignment's structure, built as a Sequential model with Keras' default layer names."""
    def block(filters):
        return [layers.Conv2D(filters, 3, padding="same", activation="relu"), layers.BatchNormalization()]
    return keras.Sequential([keras.Input((28, 28, 1)),
                             *block(32), layers.MaxPooling2D(2), *block(64), layers.MaxPooling2D(2), *block(128),
                             *block(128), *block(64), layers.UpSampling2D(2), *block(32), layers.UpSampling2D(2),
                             layers.Conv2D(1, 3, padding="same", activation="sigmoid")])


def test_our_encoder_is_cut_at_the_code_layer_after_loading(tmp_path):
    model = build_autoencoder(AutoencoderConfig(layers=3, filter_size=5, filters=8))
    model.save(tmp_path / "ae.h5")
    encoder = extract_encoder(load_model(tmp_path / "ae.h5"))
    assert encoder.output_shape == (None, 7, 7, 32)
    assert encoder.layers[-1].name == "code"
    assert describe(encoder) == EncoderShape(layers=3, filter_size=5, filters=8)


def test_default_named_autoencoder_is_cut_at_its_mirror_point(tmp_path):
    assignment_style_autoencoder().save(tmp_path / "theirs.h5")
    encoder = extract_encoder(load_model(tmp_path / "theirs.h5"))
    assert encoder.output_shape == (None, 7, 7, 128)
    assert isinstance(encoder.layers[-1], layers.BatchNormalization)
    assert describe(encoder) == EncoderShape(layers=3, filter_size=3, filters=32)


def test_mirror_point_agrees_with_the_code_layer():
    model = build_autoencoder(AutoencoderConfig(layers=4, filters=4))
    renamed = keras.models.clone_model(model, clone_function=lambda layer: layer.__class__.from_config(
        {**layer.get_config(), "name": f"x_{layer.name}"}))
    assert extract_encoder(renamed).output_shape == extract_encoder(model).output_shape == (None, 7, 7, 32)


def test_the_encoder_is_a_copy_with_the_same_weights():
    model = build_autoencoder(AutoencoderConfig(layers=2, filters=4))
    encoder = extract_encoder(model)
    original = model.get_layer("encoder_conv_1").get_weights()[0]
    copied = encoder.get_layer("encoder_conv_1")
    assert np.array_equal(copied.get_weights()[0], original)
    copied.set_weights([w + 1 for w in copied.get_weights()])
    assert np.array_equal(model.get_layer("encoder_conv_1").get_weights()[0], original)


def test_a_classifier_is_not_an_autoencoder():
    classifier = keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(10)])
    with pytest.raises(UserError, match=r"clf.h5: not an autoencoder: it maps 28x28x1 inputs to 10 outputs"):
        extract_encoder(classifier, "clf.h5")


def test_an_unmirrored_autoencoder_is_refused():
    odd = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(4, 3, padding="same"),
                            layers.Conv2D(1, 3, padding="same")])
    with pytest.raises(UserError, match="cannot find the encoder"):
        extract_encoder(odd, "odd.h5")


def test_input_shape_must_fit_the_images():
    model = build_autoencoder(AutoencoderConfig(layers=2, filters=4), image_shape=(32, 32, 1))
    check_input(model, (32, 32))
    with pytest.raises(UserError, match="big.h5: expects inputs of 32x32x1 but the images are 28x28x1"):
        check_input(model, (28, 28), source="big.h5")


def test_encoder_view_shares_the_layers_and_finds_the_same_end():
    model = build_autoencoder(AutoencoderConfig(layers=3, filters=4))
    view = encoder_view(model)
    assert view.get_layer("encoder_conv_1") is model.get_layer("encoder_conv_1")
    assert view.output_shape == extract_encoder(model).output_shape == (None, 7, 7, 16)
