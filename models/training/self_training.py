"""Self-training on unlabelled images: predict them, keep the confident predictions as labels, train again.

Each round predicts every unlabelled image with the current classifier, keeps per class the most confident
predictions above a threshold (at most the cap times the round's number per class: the surest first, harder ones
as the classifier improves, and no class swamping the others), and trains the whole network again on the labelled
images plus these pseudo-labelled ones. Only images handed in as unlabelled are ever
pseudo-labelled: never a validation or test image. Their true labels, when known, only measure how right the
pseudo-labels were; selection never sees them.
"""

import time
from dataclasses import dataclass

import numpy as np

from common import phases
from models.training.batch_norm import Calibration
from models.training.batches import predict
from models.training.fit import fit


@dataclass(frozen=True)
class Round:
    """What one round of self-training did."""
    number: int  # 1, 2, ...
    pseudo_labels: int  # unlabelled images given a label this round
    pseudo_accuracy: float  # share of those labels that are right (NaN when the true labels are unknown)
    val_accuracy: float  # validation accuracy after the round's training
    seconds: float  # wall time of the round: predicting, choosing and training


def choose_pseudo_labels(probabilities: np.ndarray, threshold: float, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the images to pseudo-label and their labels: per class, those predicted as it with a probability
    of at least `threshold`, the most confident first, at most `cap`; indices ascending."""
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    chosen = []
    for c in range(probabilities.shape[1]):
        candidates = np.flatnonzero((predicted == c) & (confidence >= threshold))
        chosen.append(candidates[np.argsort(-confidence[candidates], kind="stable")][:cap])
    indices = np.sort(np.concatenate(chosen)).astype(np.int64)
    return indices, predicted[indices]


def self_train(classifier, encoder, config, train, unlabelled, val, *, compile_for, callbacks_for=lambda stage: ()):
    """Run the rounds of `config.self_training` (models/config/classifier.py, SelfTrainingSettings) on a trained
    classifier whose encoder trains; `train` and `val` are (images, labels), `unlabelled` is (images, true labels or
    None). Each round compiles the classifier afresh (`compile_for(images, epochs)`) and trains its `round_epochs`
    epochs. Returns the rounds and their FitResults; stops after a round Ctrl-C ended."""
    images, truth = unlabelled
    settings = config.self_training
    rounds = []
    fits = []
    for number in range(1, settings.rounds + 1):
        start = time.perf_counter()
        with phases.phase("prediction"):
            probabilities = predict(classifier, images)
        cap = settings.pseudo_cap * number  # a curriculum: the surest first, harder images as the classifier improves
        chosen, labels = choose_pseudo_labels(probabilities, settings.pseudo_threshold, cap)
        x = np.concatenate([train[0], images[chosen]])
        y = np.concatenate([train[1], labels.astype(train[1].dtype)])
        compile_for(len(x), settings.round_epochs)
        result = fit(classifier, x, y, validation_data=val, epochs=settings.round_epochs,
                     batch_size=config.batch_size, callbacks=callbacks_for(f"self-training round {number}"),
                     calibration=Calibration(encoder, x, config.batch_size), patience=config.patience,
                     plateau=config.schedule == "plateau")
        fits.append(result)
        if not result.history:  # stopped before the round's first epoch ended
            break
        right = float(np.mean(labels == truth[chosen])) if truth is not None and len(chosen) else float("nan")
        rounds.append(Round(number, len(chosen), right, result.history["val_accuracy"][result.final_epoch],
                            time.perf_counter() - start))
        if result.interrupted:
            break
    return rounds, fits
