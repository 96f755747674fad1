"""Joint training: the classifier and the autoencoder's decoder share the encoder; W = 0 is the plain training."""

import numpy as np
import pytest

from common.data import splits
from common.errors import UserError
from common.keras_setup import keras
from models.config.classifier import ClassifierConfig, JointSettings, check_classifier
from models.config.settings import make
from models.networks.classifier import build_classifier
from models.networks.encoder import decoder_view, encoder_view
from models.networks.joint import JointClassifier
from models.training.batch_norm import batch_statistics_loss
from models.training.classifier_stages import ClassifierData, train_classifier
from models.training.joint_batches import joint_batches
from models.training.persistence import load_model
from tests.helpers import cut, same, weights

SMALL = dict(fc_units=16, epochs=1, fine_tune_epochs=1, batch_size=16)


def test_the_decoder_is_the_autoencoders_own_and_rebuilds_its_output(saved_autoencoder, mnist_split):
    autoencoder = load_model(saved_autoencoder)
    encoder, decoder = encoder_view(autoencoder), decoder_view(autoencoder)
    images = mnist_split[0][0][:8]
    assert np.allclose(decoder.predict_on_batch(encoder.predict_on_batch(images)),
                       autoencoder.predict_on_batch(images), atol=1e-6)
    assert decoder.output_shape == autoencoder.output_shape


def test_w_above_0_trains_encoder_and_decoder_and_lowers_the_reconstruction_loss(saved_autoencoder, mnist_split):
    train = splits.labelled_part(*mnist_split[0], 40, seed=1)
    encoder, decoder = cut(saved_autoencoder, init="scratch")
    autoencoder = keras.Model(encoder.input, decoder(encoder.output))
    sample = mnist_split[0][0][:96]
    before_loss = batch_statistics_loss(autoencoder, sample, 16)
    before_encoder, before_decoder = weights(encoder), weights(decoder)
    config = make(ClassifierConfig, {**SMALL, "fine_tune_epochs": 2, "label_budget": 40,
                                     "reconstruction_weight": 5.0, "noise": 0.1})
    run = train_classifier(encoder, config, ClassifierData(train, mnist_split[1], 10, images=mnist_split[0][0]), seed=3,
                               decoder=decoder)
    assert not same(weights(encoder), before_encoder) and not same(weights(decoder), before_decoder)
    assert batch_statistics_loss(autoencoder, sample, 16) < before_loss  # small steps: 48 of them at 5e-5
    assert len(run.history["reconstruction"]) == 2 and run.metrics()["reconstruction_loss"] > 0
    assert run.history["reconstruction"][1] < run.history["reconstruction"][0]


def test_reconstruction_batches_come_only_from_the_images_given_each_once_per_epoch():
    """The images to reconstruct are the training split's: tagged by index here, every batch of an epoch is
    checked against them; the labelled batches cycle through the labelled images."""
    images = np.arange(50, dtype=np.float32).reshape(50, 1, 1, 1)  # pixel = index in the training split
    labelled = (images[[3, 7, 11, 20]], np.array([0, 1, 2, 3]))
    seen, labels_seen = [], []
    for (x, y), rebuilt in joint_batches(labelled, images, batch_size=8, seed=5).as_numpy_iterator():
        seen += rebuilt.ravel().astype(int).tolist()
        labels_seen += y.tolist()
        assert set(x.ravel().astype(int)) <= {3, 7, 11, 20}
    assert len(seen) == 48 and len(set(seen)) == 48 and set(seen) <= set(range(50))  # one pass, short batch dropped
    assert len(labels_seen) == 6 * 4 and set(labels_seen) == {0, 1, 2, 3}  # cycled: one labelled batch per step


def test_noise_is_off_when_predicting_and_evaluating(saved_autoencoder, mnist_split):
    encoder, decoder = cut(saved_autoencoder)
    classifier, _ = build_classifier(encoder, ClassifierConfig(fc_units=16), 10)
    joint = JointClassifier(classifier, encoder, decoder, weight=1.0, noise=1.0, seed=1)
    joint.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    images, labels = mnist_split[1][0][:32], mnist_split[1][1][:32]
    first, again = joint.predict_on_batch(images), joint.predict_on_batch(images)
    assert np.array_equal(first, again) and np.allclose(first, classifier.predict_on_batch(images), atol=1e-6)
    loss = float(-np.mean(np.log(first[np.arange(32), labels])))
    assert joint.evaluate(images, labels, batch_size=32, verbose=0)[0] == pytest.approx(loss, rel=1e-4)
    noisy = joint.noisy(images)
    assert float(np.std(np.asarray(noisy) - images)) == pytest.approx(1.0, rel=0.1)  # in training, it is there


def test_the_consistency_term_is_measured_and_ramped_up(saved_autoencoder, mnist_split):
    encoder, decoder = cut(saved_autoencoder)
    classifier, _ = build_classifier(encoder, ClassifierConfig(fc_units=16), 10)
    joint = JointClassifier(classifier, encoder, decoder, weight=0.0, noise=0.2, consistency=5.0, ramp_steps=10,
                            seed=1)
    joint.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    train = splits.labelled_part(*mnist_split[0], 40, seed=1)
    history = joint.fit(joint_batches(train, mnist_split[0][0][:96], 16, seed=2), epochs=2, verbose=0,
                        shuffle=False).history
    assert history["consistency"][0] > 0 and history["reconstruction"] == [0.0, 0.0]  # W = 0: no decoder pass
    assert float(joint.ramp()) == pytest.approx(1.0)  # 12 steps done, more than the ramp's 10
    assert float(JointClassifier(classifier, encoder, decoder, weight=0.0, noise=0.0, ramp_steps=0).ramp()) == 1.0


def test_the_joint_learning_rate_sets_how_far_joint_training_moves_the_encoder(saved_autoencoder, mnist_split):
    train = splits.labelled_part(*mnist_split[0], 40, seed=1)
    moved = {}
    for rate in (1e-5, 1e-2):
        encoder, decoder = cut(saved_autoencoder)
        config = make(ClassifierConfig, {**SMALL, "label_budget": 40, "reconstruction_weight": 1.0,
                                         "joint_learning_rate": rate})
        data = ClassifierData(train, mnist_split[1], 10, images=mnist_split[0][0][:96])
        run = train_classifier(encoder, config, data, seed=3, decoder=decoder)
        before = cut(saved_autoencoder)[0].trainable_weights  # the kernels and biases, not the statistics
        moved[rate] = sum(float(np.abs(np.asarray(a) - np.asarray(b)).sum())
                          for a, b in zip(encoder.trainable_weights, before))
        assert run.history["reconstruction"][0] > 0
    assert moved[1e-2] > 30 * moved[1e-5] > 0  # Adam's steps scale with the rate (a thousandfold here)


def test_the_joint_settings_ask_for_joint_training():
    for setting in ({"consistency": 1.0}, {"joint_learning_rate": 1e-3}, {"entropy_weight": 1.0},
                    {"consistency": 1.0, "teacher_decay": 0.99}):
        config = make(ClassifierConfig, setting)
        assert config.joint == JointSettings(**setting)
        check_classifier(config)
    assert ClassifierConfig().joint is None


def test_a_teacher_needs_the_consistency_term_it_gives_targets_to():
    with pytest.raises(UserError, match="teacher.*--consistency"):
        check_classifier(make(ClassifierConfig, {"teacher_decay": 0.99}))
    with pytest.raises(UserError, match="from 0.0 to 0.9999, got 1.0"):
        check_classifier(make(ClassifierConfig, {"consistency": 1.0, "teacher_decay": 1.0}))


def joint_model(saved_autoencoder, **settings):
    encoder, decoder = cut(saved_autoencoder)
    classifier, _ = build_classifier(encoder, ClassifierConfig(fc_units=16), 10)
    joint = JointClassifier(classifier, encoder, decoder, weight=0.0, noise=0.2, seed=1, **settings)
    joint.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return joint, classifier


def test_the_teacher_follows_the_classifier_as_a_moving_average_and_is_not_trained(saved_autoencoder, mnist_split):
    joint, classifier = joint_model(saved_autoencoder, consistency=5.0, teacher_decay=0.9)
    assert joint.teacher is not None and same(weights(joint.teacher), weights(classifier))  # starts as a copy
    start = [np.asarray(w).copy() for w in joint.teacher.trainable_weights]
    train = splits.labelled_part(*mnist_split[0], 40, seed=1)
    joint.fit(joint_batches(train, mnist_split[0][0][:16], 16, seed=2), epochs=1, verbose=0, shuffle=False)  # one step
    taught = [np.asarray(w) for w in classifier.trainable_weights]
    assert not same(taught, start)
    for teacher, old, new in zip(joint.teacher.trainable_weights, start, taught):
        assert np.allclose(np.asarray(teacher), 0.9 * old + 0.1 * new, atol=1e-6)  # not a step of its own
    plain, _ = joint_model(saved_autoencoder, consistency=5.0)
    assert plain.teacher is None  # decay 0: the classifier gives its own targets, as before


def test_the_entropy_term_makes_the_predictions_on_unlabelled_images_surer(saved_autoencoder, mnist_split):
    train = splits.labelled_part(*mnist_split[0], 40, seed=1)
    unlabelled = mnist_split[0][0][:96]
    entropy = {}
    for weight in (0.0, 5.0):
        keras.utils.set_random_seed(4)
        joint, classifier = joint_model(saved_autoencoder, entropy=weight)
        history = joint.fit(joint_batches(train, unlabelled, 16, seed=2), epochs=3, verbose=0, shuffle=False).history
        p = classifier.predict(unlabelled, verbose=0)
        entropy[weight] = float(np.mean(-np.sum(p * np.log(p + 1e-7), axis=1)))
        assert (history["entropy"][0] > 0) == (weight > 0)  # measured only when it counts
    assert entropy[5.0] < 0.8 * entropy[0.0]
