"""Two-stage training on a pretrained encoder, and scoring predictions."""

import numpy as np
import pytest

from common.keras_setup import keras
from models.config.autoencoder import AutoencoderConfig
from models.config.classifier import ClassifierConfig
from models.networks.autoencoder import build_autoencoder
from models.networks.classifier import build_classifier
from models.networks.encoder import encoder_view
from models.networks.evaluation import evaluate
from models.training.batch_norm import calibrate
from models.training.classifier_stages import ClassifierData, learning_rate, predict_probabilities, train_classifier
from models.training.persistence import load_model
from tests.helpers import extract_encoder, same, weights


def _conv_weights(model):
    return [w.copy() for layer in model.layers if isinstance(layer, keras.layers.Conv2D) for w in layer.get_weights()]


def test_head_is_flatten_dense_dropout_softmax(saved_autoencoder):
    encoder = extract_encoder(load_model(saved_autoencoder))
    classifier, head = build_classifier(encoder, ClassifierConfig(fc_units=16), 10)
    kinds = [type(layer).__name__ for layer in head.layers]
    assert kinds == ["InputLayer", "Flatten", "Dense", "Dropout", "Dense"]
    assert head.get_layer("head_dense").units == 16
    assert head.get_layer("prediction").activation.__name__ == "softmax"
    assert classifier.output_shape == (None, 10)


def test_stage_1_leaves_the_encoder_as_loaded(saved_autoencoder, mnist_first):
    encoder = extract_encoder(load_model(saved_autoencoder))
    before = _conv_weights(encoder)
    run = train_classifier(encoder, ClassifierConfig(fc_units=16, epochs=2, fine_tune_epochs=0, batch_size=32),
                           ClassifierData(*mnist_first, 10), seed=1)
    assert run.stage_boundary == 2 and len(run.history["val_accuracy"]) == 2
    assert same(_conv_weights(encoder), before)


def test_stage_2_changes_the_encoder_and_continues_the_history(saved_autoencoder, mnist_first):
    loaded = load_model(saved_autoencoder)
    before = _conv_weights(loaded)
    encoder = extract_encoder(loaded)
    run = train_classifier(encoder, ClassifierConfig(fc_units=16, epochs=1, fine_tune_epochs=2, batch_size=32),
                           ClassifierData(*mnist_first, 10), seed=1)
    assert not same(_conv_weights(encoder), before)
    assert same(_conv_weights(loaded), before)  # the loaded autoencoder itself is untouched
    assert run.stage_boundary == 1 and len(run.history["loss"]) == 3 and len(run.stage_seconds) == 2


def test_both_ways_of_training_stage_1_learn(saved_autoencoder, mnist_first):
    config = ClassifierConfig(fc_units=32, epochs=3, fine_tune_epochs=0, batch_size=32)
    for cached in (True, False):
        run = train_classifier(extract_encoder(load_model(saved_autoencoder)), config, ClassifierData(*mnist_first, 10),
                               seed=1, cache_features=cached)
        assert run.history["loss"][-1] < run.history["loss"][0]


def test_predictions_are_the_argmax_of_the_softmax(saved_autoencoder, mnist_first):
    run = train_classifier(extract_encoder(load_model(saved_autoencoder)),
                           ClassifierConfig(fc_units=16, epochs=1, fine_tune_epochs=0, batch_size=32),
                           ClassifierData(*mnist_first, 10), seed=1)
    probabilities = predict_probabilities(run.model, mnist_first[1][0])
    assert probabilities.shape == (60, 10) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    result = evaluate(probabilities, mnist_first[1][1])
    assert np.array_equal(result.predicted, probabilities.argmax(axis=1))


def test_evaluation_figures_on_a_known_case():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    result = evaluate(probabilities, np.array([0, 1, 1, 1]))
    assert result.accuracy == 0.75 and result.correct == 3 and result.wrong == 1
    assert result.confusion.tolist() == [[1, 0], [1, 2]]
    zero, one = result.per_class()
    assert zero["precision"] == 0.5 and zero["recall"] == 1.0 and one["precision"] == 1.0
    assert one["recall"] == pytest.approx(2 / 3) and one["f1"] == pytest.approx(0.8)
    assert result.loss == pytest.approx(-np.mean(np.log([0.9, 0.8, 0.4, 0.7])))


def test_pretrained_starts_from_the_autoencoders_weights_and_scratch_does_not(saved_autoencoder):
    loaded = load_model(saved_autoencoder)
    expected = weights(encoder_view(loaded))
    pretrained = extract_encoder(loaded, init="pretrained")
    scratch, again, other = (extract_encoder(loaded, init="scratch", seed=s) for s in (5, 5, 6))
    assert same(weights(pretrained), expected)
    kernels = [i for i, w in enumerate(expected) if w.ndim == 4]
    assert not any(np.array_equal(weights(scratch)[i], expected[i]) for i in kernels)
    assert [w.shape for w in weights(scratch)] == [w.shape for w in expected]  # the same architecture
    assert same(weights(scratch), weights(again))  # seeded
    assert not same(weights(scratch), weights(other))


def test_a_scratch_encoder_learns_its_batch_norm_statistics(saved_autoencoder, mnist_first):
    """The random encoder's batch normalisation must not keep mean 0 / variance 1: it is estimated before stage 1
    and again after stage 2, as for the pretrained one, so the arms differ only in their initial weights."""
    encoder = extract_encoder(load_model(saved_autoencoder), init="scratch", seed=2)
    run = train_classifier(encoder, ClassifierConfig(fc_units=16, epochs=1, fine_tune_epochs=1, batch_size=32),
                           ClassifierData(*mnist_first, 10), seed=2)
    norms = [layer for layer in encoder.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and run.stage_boundary == 1
    for layer in norms:
        assert not np.allclose(layer.moving_mean.numpy(), 0) and not np.allclose(layer.moving_variance.numpy(), 1)
    after = [(n.moving_mean.numpy().copy(), n.moving_variance.numpy().copy()) for n in norms]
    calibrate(encoder, mnist_first[0][0], batch_size=32)  # what they would be re-estimated to now: already are
    for layer, (mean, variance) in zip(norms, after):
        assert np.allclose(layer.moving_mean.numpy(), mean) and np.allclose(layer.moving_variance.numpy(), variance)


@pytest.mark.parametrize("order", ["pre-activation", "post-activation"])
def test_stage_2_trains_batch_norm_in_both_arms(order, mnist_first):
    """Both arms fine-tune the same way, in either block order: batch normalisation's offset learns in stage 2 (and
    its scale, where the block has one)."""
    config = ClassifierConfig(fc_units=16, epochs=1, fine_tune_epochs=1, batch_size=32)
    autoencoder = build_autoencoder(AutoencoderConfig(layers=2, filters=4, block_order=order))
    for init in ("pretrained", "scratch"):
        encoder = extract_encoder(autoencoder, init=init, seed=1)
        norms = [layer for layer in encoder.layers if isinstance(layer, keras.layers.BatchNormalization)]
        before = [[w.numpy().copy() for w in (n.gamma, n.beta) if w is not None] for n in norms]
        train_classifier(encoder, config, ClassifierData(*mnist_first, 10), seed=1)
        after = [[w.numpy() for w in (n.gamma, n.beta) if w is not None] for n in norms]
        assert [len(weights) for weights in after] == [2 if order == "post-activation" else 1] * 2
        assert not any(np.array_equal(a, b) for x, y in zip(before, after) for a, b in zip(x, y)), init


def test_learning_rates_scale_down_with_small_batches_only():
    assert learning_rate(2e-3, 64) == learning_rate(2e-3, 512) == 2e-3
    assert learning_rate(2e-3, 32) == pytest.approx(1e-3) and learning_rate(2e-4, 16) == pytest.approx(5e-5)
