"""Using the unlabelled images: augmentation in training only, and self-training on pseudo-labels."""

import numpy as np
import pytest

import models.training.self_training as self_training
from common.data import dataset, splits
from common.keras_setup import keras
from models.config.classifier import ClassifierConfig, SelfTrainingSettings
from models.networks.classifier import build_classifier
from models.training.classifier_stages import ClassifierData, train_classifier
from models.training.persistence import load_model
from models.training.self_training import choose_pseudo_labels
from tests.helpers import extract_encoder


def _probabilities(rows):
    return np.array(rows, dtype=np.float32)


def test_pseudo_labels_respect_the_threshold_and_the_cap_per_class_most_confident_first():
    probabilities = _probabilities([
        [0.99, 0.01, 0.0], [0.97, 0.03, 0.0], [0.98, 0.02, 0.0], [0.90, 0.10, 0.0],  # class 0: three confident
        [0.01, 0.96, 0.03], [0.0, 0.5, 0.5], [0.0, 0.02, 0.98]])
    chosen, labels = choose_pseudo_labels(probabilities, threshold=0.95, cap=2)
    assert chosen.tolist() == [0, 2, 4, 6]  # 1 (0.97) lost to the cap, 3 (0.90) and 5 (0.5) to the threshold
    assert labels.tolist() == [0, 0, 1, 2]
    chosen, _ = choose_pseudo_labels(probabilities, threshold=0.5, cap=10)
    assert chosen.tolist() == list(range(7))


def test_the_unlabelled_images_are_the_rest_of_the_training_split_only(mnist):
    _, labels = dataset.load_labelled(mnist["train_images"], mnist["train_labels"])
    part = splits.split(len(labels), 0.2, seed=1)
    labelled, unlabelled = splits.label_split(labels[part.train], 30, seed=4)
    in_file = {"labelled": set(part.train[labelled]), "unlabelled": set(part.train[unlabelled])}
    assert len(in_file["labelled"]) == 30 and len(in_file["unlabelled"]) == len(part.train) - 30
    assert not in_file["unlabelled"] & in_file["labelled"]
    assert not in_file["unlabelled"] & set(part.val)  # never a validation image (nor a test one: another file)
    assert splits.label_split(labels[part.train], 0, seed=4)[1].size == 0  # every label used: none left


@pytest.fixture(scope="module")
def small(mnist_split):
    """The split slice's training part as 40 labelled images and the rest unlabelled, and its validation part."""
    train, val = mnist_split
    return {"train": splits.labelled_part(*train, 40, seed=1), "unlabelled": splits.unlabelled_part(*train, 40, seed=1),
            "val": val}


def test_each_round_trains_on_the_labelled_images_and_unlabelled_ones_only(saved_autoencoder, small, monkeypatch):
    seen = []
    real_fit = self_training.fit

    def recording_fit(model, x, y, **kwargs):
        seen.append((x.copy(), y.copy()))
        return real_fit(model, x, y, **kwargs)

    monkeypatch.setattr(self_training, "fit", recording_fit)
    config = ClassifierConfig(fc_units=16, epochs=1, fine_tune_epochs=1, batch_size=16, label_budget=40,
                              self_training=SelfTrainingSettings(rounds=2, pseudo_threshold=0.5, pseudo_cap=5))
    run = train_classifier(extract_encoder(load_model(saved_autoencoder)), config,
                           ClassifierData(small["train"], small["val"], 10, small["unlabelled"]), seed=1)
    assert [r.number for r in run.rounds] == [1, 2] and len(seen) == 2
    allowed = {image.tobytes() for image in np.concatenate([small["train"][0], small["unlabelled"][0]])}
    forbidden = {image.tobytes() for image in small["val"][0]}
    for (x, y), r in zip(seen, run.rounds):
        assert len(x) == 40 + r.pseudo_labels and r.pseudo_labels <= 5 * r.number * 10  # the cap grows
        assert all(image.tobytes() in allowed and image.tobytes() not in forbidden for image in x)
        assert np.array_equal(x[:40], small["train"][0]) and np.array_equal(y[:40], small["train"][1])
        assert r.pseudo_labels > 0 and r.pseudo_accuracy == r.pseudo_accuracy  # measured (not NaN: labels known)
    pool = {image.tobytes(): i for i, image in enumerate(small["unlabelled"][0])}
    for (x, y), r in zip(seen, run.rounds):  # the labels are predictions; the truth only measures them
        truth = small["unlabelled"][1][[pool[image.tobytes()] for image in x[40:]]]
        assert r.pseudo_accuracy == pytest.approx(np.mean(y[40:] == truth))
    assert any(r.pseudo_accuracy < 1 for r in run.rounds)  # not the true labels in disguise
    assert len(run.history["val_accuracy"]) == 1 + 1 + 2  # stage 1, stage 2, one epoch per round
    values = run.metrics()
    assert values["pseudo_labels"] == run.rounds[-1].pseudo_labels and values["rounds"].startswith("1: ")


def test_augmentation_acts_in_training_and_never_at_prediction(saved_autoencoder, small):
    encoder = extract_encoder(load_model(saved_autoencoder))
    classifier, _ = build_classifier(encoder, ClassifierConfig(fc_units=16, augment=True), 10)
    assert "augment" in [layer.name for layer in classifier.layers]
    images = small["val"][0][:16]
    first, again = (classifier.predict(images, verbose=0) for _ in range(2))
    assert np.array_equal(first, again)
    augmented = keras.ops.convert_to_numpy(classifier.get_layer("augment")(images, training=True))
    assert not np.allclose(augmented, images)
    assert np.array_equal(keras.ops.convert_to_numpy(classifier.get_layer("augment")(images, training=False)), images)
