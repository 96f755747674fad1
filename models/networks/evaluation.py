"""Scoring predicted class probabilities against true labels: accuracy, loss, confusion and per-class figures."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Evaluation:
    """How a classifier did on a labelled set."""
    predicted: np.ndarray  # argmax of the softmax, per image
    true: np.ndarray  # the labels
    loss: float  # mean categorical cross-entropy
    confusion: np.ndarray  # [true class, predicted class] -> count

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.predicted == self.true))

    @property
    def correct(self) -> int:
        return int(np.sum(self.predicted == self.true))

    @property
    def wrong(self) -> int:
        return int(self.true.size - self.correct)

    def per_class(self) -> list[dict]:
        """Precision, recall, F1 and support of each class (0 where undefined)."""
        rows = []
        for c in range(self.confusion.shape[0]):
            hit = self.confusion[c, c]
            predicted = self.confusion[:, c].sum()
            actual = self.confusion[c, :].sum()
            precision = hit / predicted if predicted else 0.0
            recall = hit / actual if actual else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            rows.append(dict(label=c, precision=float(precision), recall=float(recall), f1=float(f1),
                             support=int(actual)))
        return rows


def evaluate(probabilities: np.ndarray, labels: np.ndarray) -> Evaluation:
    """Score softmax outputs against integer labels."""
    labels = np.asarray(labels, dtype=np.int64)
    classes = probabilities.shape[1]
    predicted = np.argmax(probabilities, axis=1)
    picked = probabilities[np.arange(labels.size), labels]
    loss = float(-np.mean(np.log(np.clip(picked, 1e-7, 1.0))))
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    return Evaluation(predicted=predicted, true=labels, loss=loss, confusion=confusion)
