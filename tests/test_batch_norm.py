"""Batch-normalisation statistics match the weights after any run length, in both programs' networks."""

import numpy as np
import pytest

from common.data import dataset, splits
from common.keras_setup import keras, layers
from models.compute.ways import Way
from models.config.autoencoder import AutoencoderConfig
from models.training.autoencoder_training import new_autoencoder, train_autoencoder
from models.training.batch_norm import batch_norm_layers, batch_statistics_loss, calibrate
from models.training.fit import fit

SHORT = AutoencoderConfig(layers=3, filter_size=3, filters=8, epochs=2, batch_size=64)


@pytest.fixture(scope="module")
def short_run_data():
    """The first 3,000 bundled training images, split as the programs split them."""
    images = dataset.load_images(dataset.TRAIN_IMAGES, 3000)
    part = splits.split(len(images), 0.2, seed=1)
    x = dataset.to_model_input(images)
    return x[part.train], x[part.val]


def _statistics(model):
    return [(n.moving_mean.numpy().copy(), n.moving_variance.numpy().copy()) for n in batch_norm_layers(model)]


def test_a_short_run_validates_with_statistics_that_match_its_weights(short_run_data):
    train_x, val_x = short_run_data
    result = train_autoencoder(SHORT, train_x, val_x, seed=1)
    model = result.model
    loss, val_loss = result.history["loss"][-1], result.history["val_loss"][-1]
    assert val_loss <= 1.5 * loss
    inference = model.evaluate(val_x, val_x, batch_size=256, verbose=0)
    assert inference == pytest.approx(val_loss, rel=1e-3)  # the logged figure is the model's
    assert inference == pytest.approx(batch_statistics_loss(model, val_x, SHORT.batch_size), rel=0.1)


def test_without_re_estimation_the_same_run_has_stale_statistics(short_run_data):
    """The defect re-estimation fixes, so the test above could fail: Keras' moving averages alone lag."""
    train_x, val_x = short_run_data
    keras.utils.set_random_seed(1)
    model = new_autoencoder(SHORT)
    fit(model, train_x, train_x, validation_data=(val_x, val_x), epochs=SHORT.epochs, batch_size=SHORT.batch_size)
    stale = model.evaluate(val_x, val_x, batch_size=256, verbose=0)
    assert stale > 1.5 * batch_statistics_loss(model, val_x, SHORT.batch_size)


def _two_block_model():
    inputs = keras.Input((28, 28, 1))
    x = layers.BatchNormalization(name="bn_a")(layers.Conv2D(4, 3, padding="same", activation="relu")(inputs))
    x = layers.BatchNormalization(name="bn_b")(layers.Conv2D(6, 3, padding="same", activation="relu")(x))
    return keras.Model(inputs, x)


def test_statistics_of_one_batch_make_inference_equal_training_mode(short_run_data):
    """With every image in one batch, training mode normalises by exactly the statistics re-estimation sets, at
    every layer, so the two modes must agree."""
    images = short_run_data[0][:200]
    model = _two_block_model()
    calibrate(model, images, batch_size=len(images))
    inference = keras.ops.convert_to_numpy(model(images, training=False))
    training = keras.ops.convert_to_numpy(model(images, training=True))
    assert np.allclose(inference, training, atol=2e-3)


def test_re_estimation_changes_only_the_statistics_and_is_repeatable(short_run_data):
    images = short_run_data[0][:300]
    model = _two_block_model()
    model.get_layer("bn_b").trainable = False
    weights = [w.copy() for w in model.get_weights() if w.ndim > 1]  # kernels only
    before = _statistics(model)
    calibrate(model, images, batch_size=32)
    first = _statistics(model)
    calibrate(model, images, batch_size=32)
    assert all(np.array_equal(a, b) for pair in zip(first, _statistics(model)) for a, b in zip(*pair))
    assert not np.allclose(first[0][0], before[0][0])  # the means moved off their initial zeros
    assert all(np.array_equal(a, b) for a, b in zip(weights, [w for w in model.get_weights() if w.ndim > 1]))
    assert model.get_layer("bn_b").trainable is False and model.get_layer("bn_a").trainable is True


def test_a_saved_autoencoder_keeps_its_statistics(short_run_data, tmp_path):
    train_x, val_x = short_run_data
    model = train_autoencoder(AutoencoderConfig(layers=2, filters=4, epochs=1, batch_size=64),
                              train_x[:640], val_x[:200], seed=3).model
    model.save(tmp_path / "ae.h5")
    loaded = keras.models.load_model(tmp_path / "ae.h5", compile=False)
    assert np.allclose(loaded.predict(val_x[:50], verbose=0), model.predict(val_x[:50], verbose=0), atol=1e-6)


@pytest.mark.slow
def test_a_run_compiled_with_xla_keeps_matching_statistics(short_run_data):
    """With XLA (`--xla on`, or chosen by timing) re-estimation and the logged figures still hold."""
    train_x, val_x = short_run_data
    config = AutoencoderConfig(layers=2, filter_size=3, filters=4, epochs=1, batch_size=8)
    result = train_autoencoder(config, train_x[:800], val_x, seed=1, way=Way(xla=True))
    model = result.model
    assert model.jit_compile is True
    loss, val_loss = result.history["loss"][-1], result.history["val_loss"][-1]
    assert val_loss <= 1.5 * loss
    assert model.evaluate(val_x, val_x, batch_size=256, verbose=0) == pytest.approx(val_loss, rel=1e-3)
    plain = train_autoencoder(config, train_x[:800], val_x, seed=1).model
    assert plain.jit_compile is False
